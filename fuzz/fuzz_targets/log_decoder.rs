//! `LogDecoder` on arbitrary bytes, in both formats, pushed in arbitrary chunk sizes, then
//! `finish()`. Checks: no panic; bounded memory after each drain; lines within the limit; a failed
//! decoder keeps returning the same error; and the result does not depend on the chunking (it
//! equals decoding the whole body pushed at once).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use nomad_proto::stream::{LogDecoder, LogLine, StreamError, StreamFormat, DEFAULT_MAX_LINE_LEN};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    plain: bool,
    /// 0: the default limit (1 MiB); otherwise a small limit, to reach the limit paths.
    max_line: u8,
    /// Chunk sizes, used in turn (0 pushes an empty chunk).
    chunks: Vec<u8>,
    data: &'a [u8],
}

struct Outcome {
    lines: Vec<LogLine>,
    error: Option<StreamError>,
}

fn decode(format: StreamFormat, max_line: usize, data: &[u8], chunks: &[u8]) -> Outcome {
    let mut decoder = LogDecoder::new(format).with_max_line_len(max_line);
    let frame_limit = max_line.saturating_mul(2).saturating_add(4096);
    let mut lines = Vec::new();
    let mut rest = data;
    let mut sizes = chunks.iter().cycle();
    let mut error = None;
    'push: while !rest.is_empty() {
        let mut size = if chunks.is_empty() {
            rest.len()
        } else {
            usize::from(*sizes.next().unwrap())
        };
        if size == 0 {
            // An empty push is allowed and changes nothing; then go on one byte at a time.
            decoder.push(&[]);
            size = 1;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        decoder.push(chunk);
        loop {
            match decoder.next_line() {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break 'push;
                }
            }
        }
        // Memory stays bounded: one incomplete frame, one incomplete line, a text snippet.
        let bound = frame_limit
            .saturating_add(max_line)
            .saturating_add(2 + 161 + chunk.len());
        assert!(decoder.buffered_len() <= bound, "{} > {bound}", decoder.buffered_len());
    }
    if error.is_none() {
        loop {
            match decoder.finish() {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        // `finish` is idempotent once it returned `None`.
        if error.is_none() {
            assert!(matches!(decoder.finish(), Ok(None)));
        }
    }
    if let Some(err) = &error {
        // A failed decoder stays failed, with the same error.
        let text = err.to_string();
        decoder.push(b"{}\n");
        assert_eq!(decoder.next_line().unwrap_err().to_string(), text);
        assert_eq!(decoder.finish().unwrap_err().to_string(), text);
        // Snippets hold about 200 bytes, shown escaped (`\u{1b}` is 6 bytes for 1).
        assert!(text.len() <= 2048, "error Display is {} bytes", text.len());
    }
    for line in &lines {
        assert!(!line.text.contains('\n'));
        // Lossy UTF-8 turns each bad sequence into one char, so chars <= bytes <= limit.
        assert!(line.text.chars().count() <= max_line, "line over the limit");
    }
    Outcome { lines, error }
}

fuzz_target!(|input: Input<'_>| {
    let format = if input.plain {
        StreamFormat::Plain
    } else {
        StreamFormat::Framed
    };
    let max_line = match input.max_line {
        0 => DEFAULT_MAX_LINE_LEN,
        n => usize::from(n),
    };
    let chunked = decode(format, max_line, input.data, &input.chunks);
    let whole = decode(format, max_line, input.data, &[]);
    assert_eq!(chunked.lines, whole.lines, "lines depend on the chunking");
    // The same error, at the same place in the stream. Only an invalid frame's snippet may
    // differ: it shows what was buffered after the frame, which depends on the chunking.
    match (&chunked.error, &whole.error) {
        (None, None) => {}
        (Some(StreamError::InvalidFrame { .. }), Some(StreamError::InvalidFrame { .. })) => {}
        (Some(a), Some(b)) => assert_eq!(a.to_string(), b.to_string(), "the error depends on the chunking"),
        (a, b) => panic!("the error depends on the chunking: {a:?} vs {b:?}"),
    }

    // Plain text with no CR and valid UTF-8 comes back exactly.
    if input.plain && whole.error.is_none() && !input.data.contains(&b'\r') {
        if let Ok(text) = std::str::from_utf8(input.data) {
            let mut joined: String = whole
                .lines
                .iter()
                .map(|l| l.text.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            if text.ends_with('\n') {
                joined.push('\n');
            }
            assert_eq!(joined, text);
        }
    }
});
