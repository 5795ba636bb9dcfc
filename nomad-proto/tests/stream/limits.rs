//! The decoder's bounds: the line limit and the frame limit (`2 * max_line_len + 4096` bytes), at and past their edges.

use crate::*;

#[test]
fn a_line_over_the_limit_is_an_error_after_the_lines_before_it() {
    let body = [data_frame(b"short\n"), data_frame(&[b'x'; 101]), data_frame(b"\n")].concat();
    let outcome = decode_with(
        LogDecoder::new(StreamFormat::Framed).with_max_line_len(100),
        &[body.as_bytes()],
    );
    assert_eq!(outcome.texts(), ["short"]);
    assert_eq!(outcome.error.as_deref(), Some("log stream: line longer than 100 bytes"));
    // Exactly at the limit (plus CRLF) is fine.
    let ok = [data_frame(&[b'y'; 100]), data_frame(b"\r\n")].concat();
    let outcome = decode_with(
        LogDecoder::new(StreamFormat::Framed).with_max_line_len(100),
        &[ok.as_bytes()],
    );
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.lines[0].text.len(), 100);
}

#[test]
fn an_endless_line_fails_with_bounded_memory() {
    const LIMIT: usize = 4096;
    for format in [StreamFormat::Framed, StreamFormat::Plain] {
        let mut decoder = LogDecoder::new(format).with_max_line_len(LIMIT);
        let mut failed = false;
        for _ in 0..10_000 {
            match format {
                StreamFormat::Framed => decoder.push(data_frame(&[b'z'; 1000]).as_bytes()),
                StreamFormat::Plain => decoder.push(&[b'z'; 1000]),
            }
            assert!(decoder.buffered_len() <= LIMIT + 3000, "{format:?}");
            if let Err(err) = decoder.next_line() {
                assert!(matches!(err, StreamError::LineTooLong { limit: LIMIT }));
                failed = true;
                break;
            }
        }
        assert!(failed, "{format:?}: an endless line must fail");
        assert_eq!(decoder.buffered_len(), 0);
    }
}

#[test]
fn an_endless_frame_fails_with_bounded_memory() {
    const LIMIT: usize = 4096;
    let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(LIMIT);
    decoder.push(br#"{"Data":""#);
    for _ in 0..10_000 {
        decoder.push(&[b'A'; 1000]);
        assert!(decoder.buffered_len() <= 2 * LIMIT + 4096 + 1000 + 16);
        if let Err(err) = decoder.next_line() {
            assert!(matches!(err, StreamError::FrameTooLarge { .. }), "{err:?}");
            return;
        }
    }
    panic!("an endless frame must fail");
}

#[test]
fn one_byte_pushes_of_a_large_frame_take_linear_time() {
    // A single 2.6 MB frame fed one byte at a time: re-parsing the frame on every push would
    // take hours; tracking the scan position makes it a few seconds at most in debug builds.
    let line = "y".repeat(2_000_000);
    let body = data_frame(format!("{line}\n").as_bytes());
    let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(2_000_000);
    let mut got = Vec::new();
    for byte in body.as_bytes().chunks(1) {
        decoder.push(byte);
        got.extend(drain(&mut decoder).unwrap());
    }
    assert_eq!(decoder.finish().unwrap(), None);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].len(), 2_000_000);
}

/// A frame may be as large as the documented limit (`2 * max_line_len + 4096` bytes), even
/// while it is still arriving; one byte more is `FrameTooLarge` without waiting for its end.
#[test]
fn an_incomplete_frame_is_too_large_only_past_the_limit() {
    let limit = 2 * 10 + 4096;
    let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(10);
    let start = format!("{{\"Data\":\"{}", "A".repeat(limit - 9));
    assert_eq!(start.len(), limit);
    decoder.push(start.as_bytes());
    assert_eq!(
        decoder.next_line().unwrap(),
        None,
        "a frame of exactly the limit, still arriving"
    );
    decoder.push(b"A");
    let err = decoder.next_line().unwrap_err();
    assert!(
        matches!(err, StreamError::FrameTooLarge { limit: l } if l == limit),
        "{err:?}"
    );
}

/// An export-style frame (decoded by the JSON parser, not the monitor fast path) of `len` bytes
/// whose data is short lines, padded with an unknown field.
fn parsed_frame_of_len(len: usize) -> String {
    let b64 = BASE64.encode("a line\n".repeat(300));
    let head = format!(r#"{{"Offset":0,"Data":"{b64}","Pad":""#);
    let pad = len - head.len() - 2;
    format!("{head}{}\"}}", "p".repeat(pad))
}

/// The frame limit (`2 * max_line_len + 4096` bytes) is inclusive, for a frame pushed whole and
/// for one that arrives in pieces.
#[test]
fn a_frame_of_exactly_the_limit_decodes_and_one_byte_more_does_not() {
    let limit = 2 * 10 + 4096;
    for pieces in [1, 2] {
        let decode = |frame: &str| {
            let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(10);
            let cut = frame.len() / pieces;
            decoder.push(&frame.as_bytes()[..cut]);
            decoder.push(&frame.as_bytes()[cut..]);
            drain(&mut decoder)
        };
        let exact = parsed_frame_of_len(limit);
        assert_eq!(exact.len(), limit);
        assert_eq!(decode(&exact).unwrap().len(), 300, "{pieces} piece(s)");
        let err = decode(&parsed_frame_of_len(limit + 1)).unwrap_err();
        assert!(
            matches!(err, StreamError::FrameTooLarge { limit: l } if l == limit),
            "{err:?}"
        );
    }
}

/// The same limit for the frames the monitor sends (`{"Data":"…","FileEvent":"log"}`, decoded
/// without the JSON parser): a frame of short lines one byte past it is `FrameTooLarge`.
#[test]
fn a_monitor_frame_past_the_limit_is_too_large_even_with_short_lines() {
    let limit = 2 * 100 + 4096;
    // `{"Data":"` + base64 + `","FileEvent":"log"}`: 29 bytes around the data.
    let frame_of = |data_len: usize| data_frame(&b"line\n".repeat(data_len / 5 + 1)[..data_len]);
    let at_limit = (0..limit).rev().map(frame_of).find(|f| f.len() <= limit).unwrap();
    let past = (0..2 * limit).map(frame_of).find(|f| f.len() > limit).unwrap();
    assert!(at_limit.len() > limit - 4 && past.len() <= limit + 4);

    let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(100);
    decoder.push(at_limit.as_bytes());
    assert!(!drain(&mut decoder).unwrap().is_empty());
    let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(100);
    decoder.push(past.as_bytes());
    let err = decoder.next_line().unwrap_err();
    assert!(
        matches!(err, StreamError::FrameTooLarge { limit: l } if l == limit),
        "{err:?}"
    );
}

/// The line limit applies to each line alone, wherever it starts in the stream.
#[test]
fn later_lines_of_exactly_the_limit_are_accepted() {
    let mut decoder = LogDecoder::new(StreamFormat::Plain).with_max_line_len(5);
    decoder.push(b"abcde\nfghij\r\nklmno\n");
    assert_eq!(drain(&mut decoder).unwrap(), ["abcde", "fghij", "klmno"]);
    decoder.push(b"pqrstu\n");
    assert!(matches!(
        decoder.next_line(),
        Err(StreamError::LineTooLong { limit: 5 })
    ));

    // The same lines in one frame, then in frames that split them.
    let one = vec![data_frame(b"abcde\nfghij\r\nklmno\n")];
    let split = vec![data_frame(b"abc"), data_frame(b"de\nfghij\r\nklm"), data_frame(b"no\n")];
    for frames in [one, split] {
        let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(5);
        for frame in &frames {
            decoder.push(frame.as_bytes());
        }
        assert_eq!(drain(&mut decoder).unwrap(), ["abcde", "fghij", "klmno"], "{frames:?}");
    }
}
