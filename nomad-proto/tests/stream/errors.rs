//! Framed streams that go wrong: invalid base64 or JSON, the agent's text after the frames, truncation; each error after the lines before it.

use crate::*;

#[test]
fn invalid_base64_in_data_is_an_error_after_the_lines_before_it() {
    let body = [data_frame(b"good line\n"), r#"{"Data":"not*base64"}"#.to_owned()].concat();
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(body.as_bytes());
    assert_eq!(decoder.next_line().unwrap().unwrap().text, "good line");
    let err = decoder.next_line().unwrap_err();
    assert!(matches!(err, StreamError::InvalidBase64 { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.starts_with("log stream: invalid base64"), "{msg}");
    assert!(msg.contains("not*base64"), "{msg}");
}

#[test]
fn invalid_json_frame_is_an_error_with_the_parser_message_in_display_and_no_source() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(br#"{}{"Data":"YQ==",,"FileEvent":"log"}"#);
    let err = decoder.next_line().unwrap_err();
    let StreamError::InvalidFrame { snippet, .. } = &err else {
        panic!("expected InvalidFrame, got {err:?}");
    };
    assert!(snippet.contains(",,"), "{snippet}");
    let StreamError::InvalidFrame { source, .. } = &err else {
        unreachable!()
    };
    let shown = err.to_string();
    assert!(shown.starts_with("log stream: invalid JSON frame ("), "{shown}");
    assert!(
        shown.contains(&source.to_string()),
        "the parser's message is shown: {shown}"
    );
    assert!(
        std::error::Error::source(&err).is_none(),
        "and not repeated as the source"
    );
}

#[test]
fn a_frame_with_a_wrongly_typed_field_is_an_invalid_frame() {
    let outcome = decode(StreamFormat::Framed, &[br#"{"Offset":"12","Data":"YQo="}"#]);
    assert!(outcome.lines.is_empty());
    assert!(
        outcome.error.unwrap().starts_with("log stream: invalid JSON frame"),
        "Offset must be an integer"
    );
}

#[test]
fn agent_error_text_after_frames_is_an_error_that_shows_the_text() {
    let body = [
        data_frame(b"2024-05-01T10:00:00.000Z [INFO]  agent: started\n"),
        "{}".to_owned(),
        "rpc error: Permission denied".to_owned(),
    ]
    .concat();
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.texts(), ["2024-05-01T10:00:00.000Z [INFO]  agent: started"]);
    let err = outcome.error.expect("the agent's error text must surface");
    assert!(err.contains("rpc error: Permission denied"), "{err}");
}

#[test]
fn short_agent_error_text_is_reported_by_finish_with_the_whole_message() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(data_frame(b"before\n").as_bytes());
    decoder.push(b"unknown nomad ");
    assert_eq!(drain(&mut decoder).unwrap(), ["before"]);
    decoder.push(b"server leader");
    assert_eq!(drain(&mut decoder).unwrap(), Vec::<String>::new());
    let err = decoder.finish().unwrap_err();
    assert!(matches!(err, StreamError::TrailingText { .. }), "{err:?}");
    assert!(err.to_string().contains("unknown nomad server leader"));
}

#[test]
fn long_agent_error_text_is_reported_without_waiting_for_finish_and_is_cut_short() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(b"{}");
    let text = format!("rpc error: {}", "x".repeat(10_000));
    for chunk in text.as_bytes().chunks(50) {
        decoder.push(chunk);
        if let Err(err) = decoder.next_line() {
            let msg = err.to_string();
            assert!(msg.contains("rpc error: xxx"), "{msg}");
            assert!(msg.len() < 400, "error text is bounded, got {} bytes", msg.len());
            assert!(decoder.buffered_len() == 0);
            return;
        }
        assert!(decoder.buffered_len() <= 400);
    }
    panic!("no error after 10 KB of text");
}

#[test]
fn stream_cut_in_the_middle_of_a_frame_is_truncated_at_finish() {
    let complete = [data_frame(b"first\nsecond\npart"), "{}".to_owned()].concat();
    let next = data_frame(b"ial\n");
    // Cut the last frame at every position strictly inside it.
    for cut in 1..next.len() {
        let body = format!("{complete}{}", &next[..cut]);
        let mut decoder = LogDecoder::new(StreamFormat::Framed);
        decoder.push(body.as_bytes());
        assert_eq!(drain(&mut decoder).unwrap(), ["first", "second"], "cut {cut}");
        let err = decoder.finish().unwrap_err();
        assert!(
            matches!(err, StreamError::Truncated { pending } if pending == cut),
            "cut {cut}: {err:?}"
        );
    }
}

#[test]
fn stream_cut_at_a_frame_boundary_returns_the_partial_last_line_from_finish() {
    let body = [data_frame(b"done\nno newline at e"), data_frame(b"nd")].concat();
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(body.as_bytes());
    assert_eq!(drain(&mut decoder).unwrap(), ["done"]);
    assert_eq!(
        decoder.finish().unwrap().map(|l| l.text).as_deref(),
        Some("no newline at end")
    );
    assert_eq!(decoder.finish().unwrap(), None);
    assert_eq!(decoder.finish().unwrap(), None);
}

#[test]
fn a_failed_decoder_keeps_returning_the_error_and_drops_further_input() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(br#"{"Data":"!!!!"}"#);
    let first = decoder.next_line().unwrap_err().to_string();
    decoder.push(data_frame(b"later\n").as_bytes());
    assert_eq!(decoder.next_line().unwrap_err().to_string(), first);
    assert_eq!(decoder.finish().unwrap_err().to_string(), first);
    assert_eq!(decoder.buffered_len(), 0);
}

#[test]
fn error_messages_are_lowercase() {
    let errors = [
        decode(StreamFormat::Framed, &[b"{\"Data\":\"!!\"}"]).error,
        decode(StreamFormat::Framed, &[b"{\"Data\":}"]).error,
        decode(StreamFormat::Framed, &[b"{\"Data\":\"YQ"]).error,
        decode(StreamFormat::Framed, &[b"Oops"]).error,
        decode_with(LogDecoder::new(StreamFormat::Plain).with_max_line_len(2), &[b"abcdef"]).error,
    ];
    for err in errors {
        let err = err.expect("each input is invalid");
        let first = err.chars().next().unwrap();
        assert!(first.is_lowercase(), "{err}");
    }
}

/// The agent's text is waited for up to what a message shows (160 bytes), then reported
/// without waiting for the end of the stream, however it arrives.
#[test]
fn agent_text_is_reported_once_it_is_longer_than_a_message_shows() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(data_frame(b"before\n").as_bytes());
    decoder.push("e".repeat(160).as_bytes());
    assert_eq!(
        drain(&mut decoder).unwrap(),
        ["before"],
        "160 bytes: finish reports them"
    );
    decoder.push(b"!");
    assert!(matches!(decoder.next_line(), Err(StreamError::TrailingText { .. })));

    // In one push, with the frames before it.
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    let body = [data_frame(b"before\n").as_bytes(), "e".repeat(200).as_bytes()].concat();
    decoder.push(&body);
    assert_eq!(decoder.next_line().unwrap().unwrap().text, "before");
    let Err(StreamError::TrailingText { snippet }) = decoder.next_line() else {
        panic!("200 bytes of text are not reported before finish");
    };
    assert!(snippet.starts_with("eeee"), "{snippet}");
}

/// A frame that turns malformed while it is still arriving (here: text after its `Data`
/// string, and no closing brace) fails as soon as the bytes after it have doubled what was
/// checked, not only when the frame limit is reached, and with the error a whole-body push
/// gives.
#[test]
fn a_frame_that_turns_malformed_while_arriving_fails_before_the_frame_limit() {
    let start = format!("{{\"Data\":\"{}", "A".repeat(100));
    let garbage = format!("\" then garbage {}", "g".repeat(300));
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(start.as_bytes());
    assert_eq!(decoder.next_line().unwrap(), None, "a valid start, still arriving");
    decoder.push(garbage.as_bytes());
    let err = decoder.next_line().unwrap_err();
    assert!(matches!(err, StreamError::InvalidFrame { .. }), "{err:?}");

    let mut whole = LogDecoder::new(StreamFormat::Framed);
    whole.push(format!("{start}{garbage}").as_bytes());
    assert_eq!(whole.next_line().unwrap_err().to_string(), err.to_string());
}

/// A frame whose start is already not JSON fails on the push that brings it, even though it
/// has not ended (the scan alone would wait for its closing brace).
#[test]
fn a_malformed_frame_start_fails_before_the_frame_ends() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(data_frame(b"before\n").as_bytes());
    decoder.push(br#"{"Offset":12 "Data" and more"#);
    assert_eq!(decoder.next_line().unwrap().unwrap().text, "before");
    let err = decoder.next_line().unwrap_err();
    assert!(matches!(err, StreamError::InvalidFrame { .. }), "{err:?}");
}
