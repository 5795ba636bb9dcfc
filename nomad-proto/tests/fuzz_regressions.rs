//! Regression tests for what the fuzz targets in `fuzz/` found (see `fuzz/README.md`).

use nomad_proto::stream::{LogDecoder, LogLine, StreamError, StreamFormat};

/// Decodes `body` pushed in `chunk`-byte pieces (0: all at once), draining after each push.
fn decode(body: &[u8], chunk: usize) -> (Vec<LogLine>, Option<StreamError>) {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    let mut lines = Vec::new();
    let size = if chunk == 0 { body.len().max(1) } else { chunk };
    for piece in body.chunks(size) {
        decoder.push(piece);
        loop {
            match decoder.next_line() {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => break,
                Err(e) => return (lines, Some(e)),
            }
        }
    }
    loop {
        match decoder.finish() {
            Ok(Some(line)) => lines.push(line),
            Ok(None) => return (lines, None),
            Err(e) => return (lines, Some(e)),
        }
    }
}

/// fuzz `log_decoder` crash-fd2a6906: a frame whose `Data` string ends early
/// (`{"Data":"…Dow"FileEvent":"log"}…`) shifts every later quote. Pushed in pieces, the frame
/// scanner (which only balances quotes and braces) never saw the frame end and reported
/// `Truncated` at the end of the body, after swallowing it; pushed whole, the parser reported
/// `InvalidFrame`. Both must report `InvalidFrame`.
#[test]
fn malformed_frame_is_invalid_frame_whatever_the_chunking() {
    let body = br#"{"Data":"MjAyNC0wNS0wMVQxMDowMDowMFogW0lORk0dICBhZ2VudDogc3RhcnRlZApVQxMDow"FileEvent":"log"}{}{"Data":"aWFsIGxpbmUK","FileEvent":"log"}{}rpc erro2: EOF"#;
    for chunk in [0, 1, 5, 7, 64] {
        let (lines, err) = decode(body, chunk);
        assert!(lines.is_empty(), "chunk {chunk}: {lines:?}");
        assert!(
            matches!(err, Some(StreamError::InvalidFrame { .. })),
            "chunk {chunk}: {err:?}"
        );
    }
}

/// fuzz `log_decoder` crash-8fd9d033: same family (a stray `":"` inside the frame); the error
/// snippet may differ with the chunking, the error kind may not.
#[test]
fn stray_quote_in_frame_is_invalid_frame_whatever_the_chunking() {
    let body = br#"{"Data":"MjAyNC0wNS0wMVQxMDowMDowMFogW0lORk9dICBhZ2VudDogc3RhcnRlZAp":"MjAyNC0wYXJ0","FileEvent":"log"}{}{"Data":"aWFsIGxpbmUK","FileEvent":"log"}{}"#;
    for chunk in [0, 1, 3, 7] {
        let (lines, err) = decode(body, chunk);
        assert!(lines.is_empty(), "chunk {chunk}: {lines:?}");
        assert!(
            matches!(err, Some(StreamError::InvalidFrame { .. })),
            "chunk {chunk}: {err:?}"
        );
    }
}

/// A malformed frame in a live stream is reported promptly, not after the frame limit (2 MiB by
/// default) has been buffered or the stream has ended.
#[test]
fn malformed_frame_in_a_live_stream_is_reported_before_the_stream_ends() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    // A good frame, then the start of a frame: the decoder waits for the rest of it.
    decoder.push(br#"{"Data":"aGVsbG8K","FileEvent":"log"}{"Data":"YQ"#);
    assert_eq!(decoder.next_line().unwrap().unwrap().text, "hello");
    assert!(decoder.next_line().unwrap().is_none());
    // The string ends early: every later quote is shifted, so the braces of the frames that
    // follow look like string contents to a quote-and-brace scanner.
    decoder.push(br#"""#);
    let good_frame = br#"{"Data":"aGVsbG8K","FileEvent":"log"}"#;
    let mut pushed = 0;
    let err = loop {
        assert!(pushed < 64 * 1024, "no error after {pushed} more bytes");
        for piece in good_frame.chunks(5) {
            decoder.push(piece);
            pushed += piece.len();
        }
        match decoder.next_line() {
            Ok(None) => continue,
            Ok(Some(line)) => panic!("a line from behind a malformed frame: {line:?}"),
            Err(err) => break err,
        }
    };
    assert!(matches!(err, StreamError::InvalidFrame { .. }), "{err:?}");
}

/// fuzz `log_decoder`: serde_json reports a number cut off at the end of the buffer in an
/// ignored field (`2e`, `1.`, `-`) as `invalid number`, not as EOF, so a valid frame split right
/// there was rejected as `InvalidFrame`. The split must not matter.
#[test]
fn valid_frame_split_inside_a_number_decodes() {
    for field in ["2e5", "1.5", "-3", "1E+2", "0.25e-1"] {
        let body = format!(r#"{{"Extra":{field},"Data":"aGkK","FileEvent":"log"}}{{"Extra":[{field}],"Data":"eW8K"}}"#);
        let body = body.as_bytes();
        for split in 0..body.len() {
            let mut decoder = LogDecoder::new(StreamFormat::Framed);
            let mut lines = Vec::new();
            for piece in [&body[..split], &body[split..]] {
                decoder.push(piece);
                while let Some(line) = decoder
                    .next_line()
                    .unwrap_or_else(|e| panic!("{field} split at {split}: {e}"))
                {
                    lines.push(line.text);
                }
            }
            while let Some(line) = decoder.finish().unwrap() {
                lines.push(line.text);
            }
            assert_eq!(lines, ["hi", "yo"], "{field} split at {split}");
        }
    }
    // A body that really ends inside a number is cut short, not malformed.
    let (lines, err) = decode(br#"{"Extra":2e"#, 0);
    assert!(lines.is_empty());
    assert!(
        matches!(
            err,
            Some(StreamError::InvalidFrame { .. } | StreamError::Truncated { .. })
        ),
        "{err:?}"
    );
}
