//! Tests for `nomad_proto::stream`: decoding `/v1/agent/monitor` and `/v1/agent/monitor/export`
//! bodies into log lines, and parsing hclog JSON records.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use nomad_proto::stream::{LogDecoder, LogLevel, LogLine, LogRecord, StreamError, StreamFormat, StreamFrame};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Realistic agent log lines (hclog text format), including a line longer than one frame,
/// quotes, braces and non-ASCII text.
fn agent_log_lines() -> Vec<String> {
    let mut lines = vec![
        "==> Loaded configuration from /etc/nomad.d/nomad.hcl".to_owned(),
        "2024-05-01T10:00:00.123Z [INFO]  agent: detected plugin: name=docker type=driver plugin_version=0.1.0".to_owned(),
        "2024-05-01T10:00:00.124Z [INFO]  agent: detected plugin: name=raw_exec type=driver plugin_version=0.1.0".to_owned(),
        "2024-05-01T10:00:00.456Z [DEBUG] client.driver_mgr.docker: using client connection initialized from environment: driver=docker".to_owned(),
        "2024-05-01T10:00:01.001Z [WARN]  client.fingerprint_mgr.network: unable to parse speed: path=/usr/sbin/ethtool device=eth0".to_owned(),
        r#"2024-05-01T10:00:01.002Z [ERROR] http: request failed: method=GET path="/v1/agent/health?type=server" error="{\"server\":{\"ok\":false,\"message\":\"No known servers\"}}" code=500"#.to_owned(),
        "2024-05-01T10:00:01.500Z [INFO]  client.alloc_runner.task_runner: Task event: alloc_id=2f1b6c3e-8d9a-4b7e-9c1f-0a2b3c4d5e6f task=wëb-ünïcode type=Started msg=\"Task started by client ✓\"".to_owned(),
    ];
    // A stack-trace-like line longer than a 1024-byte frame.
    let mut long = String::from("2024-05-01T10:00:02.000Z [ERROR] client.alloc_runner: panic: ");
    while long.len() < 2600 {
        long.push_str(
            "goroutine 42 [running]: github.com/hashicorp/nomad/client/allocrunner.(*allocRunner).Run(0xc000a1b2c0) ",
        );
    }
    lines.push(long);
    for i in 0..20 {
        lines.push(format!(
            "2024-05-01T10:00:{:02}.{:03}Z [TRACE] nomad.rpc: request complete: method=Node.GetClientAllocs duration={}µs index={}",
            3 + i,
            i * 37 % 1000,
            100 + i * 13,
            1000 + i
        ));
    }
    lines
}

/// The stream body the agent sends for `text` on `/v1/agent/monitor`: `Data` chunks of at
/// most 1024 bytes that split lines anywhere, `FileEvent` "log", no `Offset`, and `{}`
/// heartbeats in between.
fn monitor_body(text: &[u8]) -> Vec<u8> {
    let sizes = [1024, 300, 1024, 1, 77, 1024, 512, 2];
    let mut body = b"{}".to_vec();
    let mut rest = text;
    let mut n = 0;
    while !rest.is_empty() {
        let take = sizes[n % sizes.len()].min(rest.len());
        let (chunk, tail) = rest.split_at(take);
        body.extend_from_slice(format!(r#"{{"Data":"{}","FileEvent":"log"}}"#, BASE64.encode(chunk)).as_bytes());
        rest = tail;
        n += 1;
        if n % 2 == 0 {
            body.extend_from_slice(b"{}");
        }
    }
    body
}

fn data_frame(data: &[u8]) -> String {
    format!(r#"{{"Data":"{}","FileEvent":"log"}}"#, BASE64.encode(data))
}

/// The frames the agent sends for `chunks` on `/v1/agent/monitor/export`: `Data` and a
/// cumulative `Offset` (the bytes sent so far, this frame included), and never `File` or
/// `FileEvent` (Nomad `command/agent/monitor/stream_helpers.go` and
/// `client/lib/streamframer/framer.go`, 2.0.x).
fn export_frames(chunks: &[&[u8]]) -> Vec<String> {
    let mut offset = 0;
    chunks
        .iter()
        .map(|data| {
            offset += data.len();
            format!(r#"{{"Offset":{offset},"Data":"{}"}}"#, BASE64.encode(data))
        })
        .collect()
}

/// Everything a decoder produces for a body pushed in the given chunks: the lines, then the
/// error that stopped it, if any.
#[derive(Debug, PartialEq)]
struct Outcome {
    lines: Vec<LogLine>,
    error: Option<String>,
}

impl Outcome {
    fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|l| l.text.as_str()).collect()
    }
}

fn decode_with(mut decoder: LogDecoder, chunks: &[&[u8]]) -> Outcome {
    let mut lines = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        loop {
            match decoder.next_line() {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        lines,
                        error: Some(e.to_string()),
                    }
                }
            }
        }
    }
    loop {
        match decoder.finish() {
            Ok(Some(line)) => lines.push(line),
            Ok(None) => return Outcome { lines, error: None },
            Err(e) => {
                return Outcome {
                    lines,
                    error: Some(e.to_string()),
                }
            }
        }
    }
}

fn decode(format: StreamFormat, chunks: &[&[u8]]) -> Outcome {
    decode_with(LogDecoder::new(format), chunks)
}

/// Decodes `body` pushed in one piece, then checks that every two-piece split and one-byte
/// pushes give exactly the same outcome.
fn decode_any_split(format: StreamFormat, body: &[u8]) -> Outcome {
    let whole = decode(format, &[body]);
    for split in 0..=body.len() {
        let (a, b) = body.split_at(split);
        assert_eq!(decode(format, &[a, b]), whole, "split at byte {split}");
    }
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(decode(format, &bytes), whole, "one-byte pushes");
    whole
}

/// Collects lines until `next_line` returns `Ok(None)` or an error.
fn drain(decoder: &mut LogDecoder) -> Result<Vec<String>, StreamError> {
    let mut lines = Vec::new();
    while let Some(line) = decoder.next_line()? {
        lines.push(line.text);
    }
    Ok(lines)
}

// ---------------------------------------------------------------------------------------------
// Framed streams
// ---------------------------------------------------------------------------------------------

#[test]
fn monitor_stream_decodes_to_exactly_the_original_lines() {
    let lines = agent_log_lines();
    let text = lines.join("\n") + "\n";
    let body = monitor_body(text.as_bytes());

    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(&body);
    let mut got = Vec::new();
    while let Some(line) = decoder.next_line().unwrap() {
        assert_eq!(line.offset, None, "monitor frames have no Offset");
        assert_eq!(line.file, None);
        got.push(line.text);
    }
    assert_eq!(decoder.finish().unwrap(), None);
    assert_eq!(got, lines);

    let data_frames = text.len().div_ceil(1024) as u64; // a lower bound
    assert!(decoder.frames() > data_frames);
    assert!(decoder.heartbeats() >= 2);
    assert_eq!(decoder.bytes_pushed(), body.len() as u64);
}

#[test]
fn monitor_stream_gives_the_same_lines_for_every_split_point_and_one_byte_pushes() {
    let lines = agent_log_lines();
    let text = lines.join("\n") + "\n";
    let body = monitor_body(text.as_bytes());
    let outcome = decode_any_split(StreamFormat::Framed, &body);
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.texts(), lines);
}

#[test]
fn export_lines_carry_the_offset_of_the_frame_that_completed_them() {
    let frames = export_frames(&[b"line one\nline t", b"wo\nline three\n", b"last"]);
    let body = [&frames[0], "{}", &frames[1], &frames[2]].concat();
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.error, None);
    let got: Vec<(&str, Option<i64>, Option<&str>)> = outcome
        .lines
        .iter()
        .map(|l| (l.text.as_str(), l.offset, l.file.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("line one", Some(15), None),
            ("line two", Some(29), None),
            ("line three", Some(29), None),
            ("last", Some(33), None),
        ]
    );
}

#[test]
fn heartbeats_alone_produce_no_lines_and_are_counted() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(b"{}{}{}");
    assert_eq!(decoder.next_line().unwrap(), None);
    decoder.push(b"{}{");
    assert_eq!(decoder.next_line().unwrap(), None);
    decoder.push(b"}");
    assert_eq!(decoder.next_line().unwrap(), None);
    assert_eq!(decoder.finish().unwrap(), None);
    assert_eq!(decoder.frames(), 5);
    assert_eq!(decoder.heartbeats(), 5);
    assert_eq!(decoder.bytes_pushed(), 10);
}

#[test]
fn a_line_split_across_several_frames_is_joined() {
    let body = [
        data_frame(b"client: alloc"),
        "{}".to_owned(),
        data_frame(b"ation started: "),
        data_frame(b"id=123"),
        data_frame(b"\nnext\n"),
    ]
    .concat();
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.texts(), ["client: allocation started: id=123", "next"]);
}

#[test]
fn crlf_line_endings_are_stripped_even_when_split_between_frames() {
    let body = [data_frame(b"one\r\ntwo\r"), data_frame(b"\nthree\r\n")].concat();
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.texts(), ["one", "two", "three"]);
}

#[test]
fn empty_lines_are_preserved() {
    let body = [data_frame(b"a\n\n"), data_frame(b"\nb\n")].concat();
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.texts(), ["a", "", "", "b"]);
}

#[test]
fn whitespace_between_frames_is_tolerated() {
    // `?pretty` style output.
    let body = format!(
        "{{\n    \"Data\": \"{}\",\n    \"FileEvent\": \"log\"\n}}\n{{}}\r\n\t {}\n",
        BASE64.encode(b"pretty one\n"),
        data_frame(b"pretty two\n")
    );
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.texts(), ["pretty one", "pretty two"]);
}

#[test]
fn unknown_fields_escaped_strings_and_braces_inside_strings_are_handled() {
    let body = concat!(
        r#"{"Future":{"nested":["}",{"x":"{"}]},"Data":"YWJ\u006A","File":"we\"ird}{.log","FileEvent":"log"}"#,
        r#"{"Data":"ZGVmCg==","File":"we\"ird}{.log","Extra":null}"#,
    );
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.texts(), ["abcdef"]);
    assert_eq!(outcome.lines[0].file.as_deref(), Some("we\"ird}{.log"));
}

#[test]
fn unpadded_base64_data_decodes_like_padded_data() {
    // Go's encoder always pads; unpadded `Data` (from another producer) is accepted too.
    for body in [
        r#"{"Data":"aGk="}{"Data":"Cg=="}"#,
        r#"{"Data":"aGk"}{"Data":"Cg"}"#,
        r#"{"Data":"aGk"}{}{"Data":"Cg=="}"#,
    ] {
        let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
        assert_eq!(outcome.error, None, "{body}");
        assert_eq!(outcome.texts(), ["hi"], "{body}");
    }
}

#[test]
fn invalid_utf8_in_log_data_is_replaced_not_rejected() {
    let body = data_frame(b"bad \xff byte\n");
    let outcome = decode(StreamFormat::Framed, &[body.as_bytes()]);
    assert_eq!(outcome.texts(), ["bad \u{fffd} byte"]);
}

#[test]
fn frame_data_split_inside_a_base64_group_and_a_multibyte_character_decodes() {
    // "✓" is three bytes: a 1-byte frame boundary inside it must not corrupt the text.
    let text = "check ✓ done\n".as_bytes();
    let body: String = text.chunks(1).map(data_frame).collect();
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.texts(), ["check ✓ done"]);
}

#[test]
fn borrowed_lines_are_the_same_as_owned_lines() {
    let body = export_frames(&[b"{\"@level\":\"info\",\"@message\":\"m\"}\nsec", b"ond\r\n\xfe\n"]).concat();
    let mut owned = LogDecoder::new(StreamFormat::Framed);
    let mut borrowed = LogDecoder::new(StreamFormat::Framed);
    owned.push(body.as_bytes());
    borrowed.push(body.as_bytes());
    let mut n = 0;
    while let Some(line) = borrowed.next_line_ref().unwrap() {
        if n == 0 {
            assert_eq!(line.record().unwrap().message, "m");
        }
        assert_eq!(Some(line.into_owned()), owned.next_line().unwrap());
        n += 1;
    }
    assert_eq!(n, 3);
    assert_eq!(owned.next_line().unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Framed stream errors
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Plain streams
// ---------------------------------------------------------------------------------------------

#[test]
fn plain_stream_splits_raw_text_into_lines_for_every_split_point() {
    let mut lines = agent_log_lines();
    lines.truncate(8);
    lines.push(String::new());
    lines.push(r#"{"@level":"info","@message":"not a frame in plain mode"}"#.to_owned());
    let text = lines.join("\r\n") + "\nunterminated";
    let outcome = decode_any_split(StreamFormat::Plain, text.as_bytes());
    assert_eq!(outcome.error, None);
    let mut expected: Vec<&str> = lines.iter().map(String::as_str).collect();
    expected.push("unterminated");
    assert_eq!(outcome.texts(), expected);
    assert!(outcome.lines.iter().all(|l| l.offset.is_none() && l.file.is_none()));
}

#[test]
fn plain_stream_has_no_frames_or_heartbeats() {
    let mut decoder = LogDecoder::new(StreamFormat::Plain);
    decoder.push(b"{}{}\n");
    assert_eq!(decoder.next_line().unwrap().unwrap().text, "{}{}");
    assert_eq!(decoder.frames(), 0);
    assert_eq!(decoder.heartbeats(), 0);
    assert_eq!(decoder.finish().unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Frames as values
// ---------------------------------------------------------------------------------------------

#[test]
fn stream_frame_uses_the_wire_names_and_base64_data() {
    let frame: StreamFrame =
        serde_json::from_str(r#"{"Offset":2048,"Data":"aGkK","File":"nomad.log","New":1}"#).unwrap();
    assert_eq!(
        frame,
        StreamFrame::new(b"hi\n".to_vec())
            .with_offset(2048)
            .with_file("nomad.log")
    );
    assert_eq!(
        serde_json::to_string(&frame).unwrap(),
        r#"{"Offset":2048,"Data":"aGkK","File":"nomad.log"}"#
    );
    assert!(serde_json::from_str::<StreamFrame>(r#"{"Data":"%%%"}"#).is_err());
}

#[test]
fn heartbeat_frames_are_the_ones_with_every_field_empty() {
    let heartbeat: StreamFrame = serde_json::from_str("{}").unwrap();
    assert!(heartbeat.is_heartbeat());
    assert_eq!(serde_json::to_string(&heartbeat).unwrap(), "{}");
    let zero: StreamFrame = serde_json::from_str(r#"{"Offset":0,"Data":""}"#).unwrap();
    assert!(zero.is_heartbeat());
    let event: StreamFrame = serde_json::from_str(r#"{"FileEvent":"log"}"#).unwrap();
    assert!(!event.is_heartbeat());

    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(br#"{"Offset":0}{"FileEvent":"log"}"#);
    assert_eq!(decoder.next_line().unwrap(), None);
    assert_eq!((decoder.frames(), decoder.heartbeats()), (2, 1));
}

// ---------------------------------------------------------------------------------------------
// log_json records
// ---------------------------------------------------------------------------------------------

#[test]
fn log_json_record_exposes_level_message_module_timestamp_caller_and_fields() {
    let record = LogRecord::parse(
        r#"{"@caller":"github.com/hashicorp/nomad/client/client.go:612","@level":"debug","@message":"updated allocations","@module":"client","@timestamp":"2024-05-01T10:00:00.123456Z","filtered":2,"index":41,"pulled":3,"tags":{"dc":"dc1"}}"#,
    )
    .unwrap();
    assert_eq!(record.level, LogLevel::Debug);
    assert_eq!(record.message, "updated allocations");
    assert_eq!(record.module.as_deref(), Some("client"));
    assert_eq!(record.timestamp, "2024-05-01T10:00:00.123456Z");
    assert_eq!(
        record.caller.as_deref(),
        Some("github.com/hashicorp/nomad/client/client.go:612")
    );
    assert_eq!(
        serde_json::Value::Object(record.fields),
        serde_json::json!({"filtered": 2, "index": 41, "pulled": 3, "tags": {"dc": "dc1"}})
    );
}

#[test]
fn log_json_record_without_module_or_caller_parses() {
    let record: LogRecord =
        r#"{"@level":"info","@message":"agent: started","@timestamp":"2024-05-01T10:00:00.000000Z"}"#
            .parse()
            .unwrap();
    assert_eq!(record.level, LogLevel::Info);
    assert_eq!(record.module, None);
    assert_eq!(record.caller, None);
    assert!(record.fields.is_empty());
}

#[test]
fn log_json_stream_decodes_to_records() {
    let text = concat!(
        r#"{"@level":"info","@message":"agent: started","@module":"agent","@timestamp":"2024-05-01T10:00:00.000000Z"}"#,
        "\n",
        r#"{"@level":"error","@message":"failed to heartbeat","@module":"client","@timestamp":"2024-05-01T10:00:01.000000Z","error":"no servers"}"#,
        "\n",
    );
    let outcome = decode_any_split(StreamFormat::Framed, &monitor_body(text.as_bytes()));
    let records: Vec<LogRecord> = outcome.lines.iter().map(|l| l.record().unwrap()).collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].message, "agent: started");
    assert_eq!(records[1].level, LogLevel::Error);
    assert_eq!(records[1].fields["error"], "no servers");
}

#[test]
fn a_plain_text_line_is_not_a_log_record() {
    let err = LogRecord::parse("2024-05-01T10:00:00.123Z [INFO]  agent: started").unwrap_err();
    let StreamError::InvalidRecord { source, .. } = &err else {
        panic!("expected InvalidRecord, got {err:?}");
    };
    let parser = source.as_ref().expect("the parser's error is kept").to_string();
    assert!(err.to_string().contains(&parser), "{err}");
    assert!(std::error::Error::source(&err).is_none());
    assert!(err.to_string().contains("agent: started"));

    for line in ["[1,2]", "\"text\"", ""] {
        assert!(LogRecord::parse(line).is_err(), "{line:?}");
    }
}

#[test]
fn a_record_without_a_string_level_or_message_is_rejected() {
    for line in [
        r#"{"@message":"no level"}"#,
        r#"{"@level":"info"}"#,
        r#"{"@level":3,"@message":"numeric level"}"#,
        r#"{"@level":"info","@message":["not","a","string"]}"#,
        r#"{"@level":"info","@message":"m","@module":7}"#,
    ] {
        let err = LogRecord::parse(line).unwrap_err();
        assert!(err.to_string().starts_with("invalid log record"), "{line}: {err}");
    }
}

#[test]
fn a_record_with_an_unknown_level_is_an_error_not_a_catch_all() {
    // hclog writes "all" only for level-less messages, which the agent never sends.
    let err = LogRecord::parse(r#"{"@level":"all","@message":"m"}"#).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("@level") && msg.contains("all"), "{msg}");
    // Case does not matter.
    let record = LogRecord::parse(r#"{"@level":"WARN","@message":"m"}"#).unwrap();
    assert_eq!(record.level, LogLevel::Warn);
}

// ---------------------------------------------------------------------------------------------
// LogLevel
// ---------------------------------------------------------------------------------------------

#[test]
fn log_level_parses_case_insensitively_and_round_trips() {
    for level in LogLevel::ALL {
        assert_eq!(level.as_str().parse::<LogLevel>(), Ok(level));
        assert_eq!(level.as_str().to_uppercase().parse::<LogLevel>(), Ok(level));
        assert_eq!(level.to_string(), level.as_str());
    }
    assert_eq!("Info".parse::<LogLevel>(), Ok(LogLevel::Info));
    assert_eq!(" debug ".parse::<LogLevel>(), Ok(LogLevel::Debug));
    assert_eq!("WARNING".parse::<LogLevel>(), Ok(LogLevel::Warn));
    assert_eq!(
        LogLevel::ALL.map(LogLevel::as_str),
        ["trace", "debug", "info", "warn", "error", "off"]
    );
}

#[test]
fn off_is_a_level_the_agent_accepts_but_no_record_has() {
    assert_eq!("off".parse::<LogLevel>(), Ok(LogLevel::Off));
    assert_eq!("OFF".parse::<LogLevel>(), Ok(LogLevel::Off));
    assert_eq!(LogLevel::Off.to_string(), "off");
    assert!(LogLevel::Off > LogLevel::Error);
    let err = LogRecord::parse(r#"{"@level":"off","@message":"m"}"#).unwrap_err();
    assert!(matches!(err, StreamError::InvalidRecord { .. }), "{err:?}");
}

#[test]
fn log_level_rejects_unknown_names_with_a_clear_message() {
    let err = "verbose".parse::<LogLevel>().unwrap_err();
    assert_eq!(err.input(), "verbose");
    assert_eq!(
        err.to_string(),
        r#"unknown log level "verbose" (expected trace, debug, info, warn, error or off)"#
    );
    for bad in ["", "of", "inf", "information", "err"] {
        assert!(bad.parse::<LogLevel>().is_err(), "{bad:?}");
    }
}

#[test]
fn log_levels_are_ordered_by_severity() {
    assert!(LogLevel::Trace < LogLevel::Debug);
    assert!(LogLevel::Debug < LogLevel::Info);
    assert!(LogLevel::Info < LogLevel::Warn);
    assert!(LogLevel::Warn < LogLevel::Error);
    assert!(LogLevel::Error < LogLevel::Off);
}

// ---------------------------------------------------------------------------------------------
// The dropped-lines notice
// ---------------------------------------------------------------------------------------------

/// The plain-text line the agent inserts when its buffer overflows (Nomad
/// `command/agent/monitor/monitor.go`), into JSON streams too.
const DROPPED: &[u8] = b"[WARN] Monitor dropped 1234 logs during monitor request\n";

#[test]
fn the_dropped_lines_notice_is_a_warn_record_with_the_count_in_every_stream_format() {
    let json_line =
        br#"{"@level":"info","@message":"agent: started","@module":"agent","@timestamp":"2024-05-01T10:00:00.000000Z"}
"#;
    let text_line = b"2024-05-01T10:00:00.000Z [INFO]  agent: started\n";
    for (kind, line) in [("json", &json_line[..]), ("text", &text_line[..])] {
        let text = [line, DROPPED, line].concat();
        for (format, body) in [
            (StreamFormat::Framed, monitor_body(&text)),
            (StreamFormat::Plain, text.clone()),
        ] {
            let outcome = decode_any_split(format, &body);
            assert!(outcome.error.is_none(), "{kind} {format:?}: {:?}", outcome.error);
            let lines = &outcome.lines;
            assert_eq!(lines.len(), 3, "{kind} {format:?}");
            let record = lines[1].record().expect("the notice is a record, never an error");
            assert_eq!(record.level, LogLevel::Warn);
            assert_eq!(record.message, "Monitor dropped 1234 logs during monitor request");
            assert_eq!(record.dropped(), Some(1234));
            assert_eq!((record.module.as_deref(), record.timestamp.as_str()), (None, ""));
            // The other lines are what they are: records on a JSON stream, errors on a text one.
            assert_eq!(lines[0].record().is_ok(), kind == "json", "{kind} {format:?}");
            if let Ok(record) = lines[0].record() {
                assert_eq!(record.dropped(), None);
            }
        }
    }
}

#[test]
fn only_the_exact_notice_counts_dropped_lines() {
    for line in [
        "[WARN] Monitor dropped logs during monitor request",
        "[WARN] Monitor dropped -3 logs during monitor request",
        "[WARN] Monitor dropped 3 lines during monitor request",
        "[INFO] Monitor dropped 3 logs during monitor request",
        "[WARN] Monitor dropped 99999999999999999999999 logs during monitor request",
    ] {
        assert!(LogRecord::parse(line).is_err(), "{line}");
    }
    // A JSON record with the same message is an ordinary record.
    let record = LogRecord::parse(
        r#"{"@level":"warn","@message":"Monitor dropped 3 logs during monitor request","@timestamp":"2024-05-01T10:00:00.000000Z"}"#,
    )
    .unwrap();
    assert_eq!(record.dropped(), None);
    // The borrowed line parses the same way.
    let mut decoder = LogDecoder::new(StreamFormat::Plain);
    decoder.push(DROPPED);
    let line = decoder.next_line_ref().unwrap().unwrap();
    assert_eq!(line.record().unwrap().dropped(), Some(1234));
}

// ---------------------------------------------------------------------------------------------
// What a decoder reports about itself
// ---------------------------------------------------------------------------------------------

#[test]
fn a_decoder_reports_its_format_and_line_limit() {
    let plain = LogDecoder::new(StreamFormat::Plain);
    assert_eq!(plain.format(), StreamFormat::Plain);
    assert_eq!(plain.max_line_len(), nomad_proto::stream::DEFAULT_MAX_LINE_LEN);
    let framed = LogDecoder::new(StreamFormat::Framed).with_max_line_len(4096);
    assert_eq!(framed.format(), StreamFormat::Framed);
    assert_eq!(framed.max_line_len(), 4096);
    let shown = format!("{framed:?}");
    assert!(shown.starts_with("LogDecoder {"), "{shown}");
    assert!(
        shown.contains("format: Framed") && shown.contains("max_line_len: 4096"),
        "{shown}"
    );
}

/// `buffered_len` is what the decoder holds: decoded text not yet taken as lines plus the
/// undecoded start of a frame, so a caller can bound memory or tell a quiet stream from a
/// stream in the middle of a frame.
#[test]
fn buffered_len_counts_decoded_text_and_the_pending_frame() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    let frame = data_frame(b"one\ntwo");
    let pending = br#"{"Data":"dGh"#;
    decoder.push(frame.as_bytes());
    assert_eq!(decoder.buffered_len(), "one\ntwo".len());
    decoder.push(pending);
    assert_eq!(decoder.buffered_len(), "one\ntwo".len() + pending.len());
    assert_eq!(decoder.next_line().unwrap().unwrap().text, "one");
    assert_eq!(decoder.buffered_len(), "two".len() + pending.len());

    let mut plain = LogDecoder::new(StreamFormat::Plain);
    plain.push(b"a line\nand a half");
    assert_eq!(plain.buffered_len(), "a line\nand a half".len());
}

/// After a frame that does not decode, later bytes are counted but not decoded: the decoder
/// holds nothing more and the error stays the answer.
#[test]
fn bytes_pushed_after_a_broken_frame_are_not_decoded() {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    let broken = br#"{"Data":"!!!!","FileEvent":"log"}"#;
    decoder.push(broken);
    let frames = decoder.frames();
    let later = data_frame(b"after the error\n");
    decoder.push(later.as_bytes());
    assert_eq!(decoder.frames(), frames, "no frame decoded after the error");
    assert_eq!(decoder.buffered_len(), 0);
    assert_eq!(decoder.bytes_pushed(), (broken.len() + later.len()) as u64);
    assert!(matches!(decoder.next_line(), Err(StreamError::InvalidBase64 { .. })));
    assert!(matches!(decoder.next_line(), Err(StreamError::InvalidBase64 { .. })));
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

/// The same limit for the frames the monitor sends (`{"Data":"…","FileEvent":"log"}`, decoded
/// without the JSON parser): a frame of short lines one byte past it is `FrameTooLarge`.
#[test]
fn a_monitor_frame_past_the_limit_is_too_large_even_with_short_lines() {
    let limit = 2 * 100 + 4096;
    // `{"Data":"` + base64 + `","FileEvent":"log"}`: 29 bytes around the data.
    let frame_of = |data_len: usize| data_frame(&b"line\n".repeat(data_len / 5 + 1)[..data_len]);
    let at_limit = (0..limit).map(frame_of).filter(|f| f.len() <= limit).last().unwrap();
    let past = (0..2 * limit).map(frame_of).find(|f| f.len() > limit).unwrap();
    assert!(at_limit.len() > limit - 4 && past.len() <= limit + 4);

    let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(100);
    decoder.push(at_limit.as_bytes());
    assert!(!drain(&mut decoder).unwrap().is_empty());
    let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(100);
    decoder.push(past.as_bytes());
    let err = decoder.next_line().unwrap_err();
    assert!(matches!(err, StreamError::FrameTooLarge { limit: l } if l == limit), "{err:?}");
}

/// A frame that starts like the monitor's but carries more (here an object after `Data`), cut
/// inside a string of that object: where it ends is found from its real structure, not
/// assumed from its start.
#[test]
fn a_monitor_like_frame_with_a_nested_object_cut_inside_a_string_decodes() {
    let frame = format!(r#"{{"Data":"{}","X":{{"a":"b"}},"FileEvent":"log"}}"#, BASE64.encode("ABC\n"));
    let cut = frame.find(r#""b"#).unwrap() + 2;
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(&frame.as_bytes()[..cut]);
    assert_eq!(decoder.next_line().unwrap(), None);
    decoder.push(&frame.as_bytes()[cut..]);
    decoder.push(data_frame(b"next\n").as_bytes());
    assert_eq!(drain(&mut decoder).unwrap(), ["ABC", "next"]);
    assert_eq!(decoder.frames(), 2);
}
