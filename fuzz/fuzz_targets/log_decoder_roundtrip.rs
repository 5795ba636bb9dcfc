//! Differential: frames made from arbitrary data (with heartbeats, offsets, file names and the
//! whitespace of `?pretty`), serialized the way the agent does, pushed in arbitrary chunk sizes,
//! must decode to exactly the lines of the concatenated data, each with the `Offset`/`File` of
//! the frame that completed it.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use nomad_proto::stream::{LogDecoder, StreamFormat, StreamFrame};

#[derive(Arbitrary, Debug)]
struct Frame {
    data: Vec<u8>,
    offset: Option<i64>,
    file: Option<String>,
    file_event: bool,
    heartbeat_after: bool,
    /// Whitespace after the frame (`?pretty` output has newlines between frames).
    whitespace: u8,
}

#[derive(Arbitrary, Debug)]
struct Input {
    frames: Vec<Frame>,
    chunks: Vec<u8>,
}

#[derive(Debug, PartialEq)]
struct Expected {
    text: String,
    offset: Option<i64>,
    file: Option<String>,
}

fuzz_target!(|input: Input| {
    let mut body = Vec::new();
    let mut expected = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut last: Option<(Option<i64>, Option<String>)> = None;
    for frame in &input.frames {
        let mut wire = StreamFrame::new(frame.data.clone());
        wire.offset = frame.offset;
        wire.file = frame.file.clone();
        wire.file_event = frame.file_event.then(|| "log".to_owned());
        body.extend(serde_json::to_vec(&wire).unwrap());
        if frame.heartbeat_after {
            body.extend_from_slice(b"{}");
        }
        body.extend(std::iter::repeat_n(b'\n', usize::from(frame.whitespace % 3)));
        if frame.data.is_empty() {
            continue; // Frames without data change neither the lines nor their attribution.
        }
        let file = frame.file.clone();
        last = Some((frame.offset, file.clone()));
        pending.extend_from_slice(&frame.data);
        while let Some(i) = pending.iter().position(|&b| b == b'\n') {
            let mut line: Vec<u8> = pending.drain(..=i).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            expected.push(Expected {
                text: String::from_utf8_lossy(&line).into_owned(),
                offset: frame.offset,
                file: file.clone(),
            });
        }
    }
    if !pending.is_empty() {
        let (offset, file) = last.clone().unwrap();
        if pending.last() == Some(&b'\r') {
            // An unterminated line keeps a trailing CR only if it is not a CRLF's first half:
            // the decoder strips a final `\r` too.
            pending.pop();
        }
        expected.push(Expected {
            text: String::from_utf8_lossy(&pending).into_owned(),
            offset,
            file,
        });
    }

    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    let mut got = Vec::new();
    let mut rest = &body[..];
    let mut sizes = input.chunks.iter().cycle();
    while !rest.is_empty() {
        let mut size = if input.chunks.is_empty() {
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
        while let Some(line) = decoder.next_line().expect("valid frames decode") {
            got.push(line);
        }
    }
    while let Some(line) = decoder.finish().expect("valid frames decode") {
        got.push(line);
    }
    let got: Vec<Expected> = got
        .into_iter()
        .map(|l| Expected {
            text: l.text,
            offset: l.offset,
            file: l.file,
        })
        .collect();
    assert_eq!(got, expected);
    let frames = input.frames.len() + input.frames.iter().filter(|f| f.heartbeat_after).count();
    assert_eq!(decoder.frames(), frames as u64);
});
