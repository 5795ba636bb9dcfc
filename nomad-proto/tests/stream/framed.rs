//! Framed streams (`/v1/agent/monitor`, `/v1/agent/monitor/export`): the lines a body decodes to, pushed whole or split anywhere.

use crate::*;

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

/// A frame that starts like the monitor's but carries more (here an object after `Data`), cut
/// inside a string of that object: where it ends is found from its real structure, not
/// assumed from its start.
#[test]
fn a_monitor_like_frame_with_a_nested_object_cut_inside_a_string_decodes() {
    let frame = format!(
        r#"{{"Data":"{}","X":{{"a":"b"}},"FileEvent":"log"}}"#,
        BASE64.encode("ABC\n")
    );
    let cut = frame.find(r#""b"#).unwrap() + 2;
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(&frame.as_bytes()[..cut]);
    assert_eq!(decoder.next_line().unwrap(), None);
    decoder.push(&frame.as_bytes()[cut..]);
    decoder.push(data_frame(b"next\n").as_bytes());
    assert_eq!(drain(&mut decoder).unwrap(), ["ABC", "next"]);
    assert_eq!(decoder.frames(), 2);
}

/// A valid frame that arrives in pieces, one of which ends inside a number of an unknown field
/// (`1.`, which the JSON parser calls an invalid number rather than the end of the input) just
/// when the decoder re-checks the incomplete frame: more bytes decide, the frame decodes.
#[test]
fn a_frame_rechecked_while_cut_inside_a_number_decodes() {
    let first = format!(r#"{{"Data":"{}","X":["#, BASE64.encode("ABC\n"));
    let second = format!("{}1.", "1,".repeat(first.len()));
    let third = r#"5],"FileEvent":"log"}"#;
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    for piece in [first.as_str(), &second, third] {
        decoder.push(piece.as_bytes());
        if piece != third {
            assert_eq!(decoder.next_line().unwrap(), None);
        }
    }
    assert_eq!(drain(&mut decoder).unwrap(), ["ABC"]);
}

fn attributed(body: &str) -> Vec<(String, Option<i64>, Option<String>)> {
    let outcome = decode_any_split(StreamFormat::Framed, body.as_bytes());
    assert_eq!(outcome.error, None);
    outcome.lines.into_iter().map(|l| (l.text, l.offset, l.file)).collect()
}

fn line(text: &str, offset: Option<i64>, file: Option<&str>) -> (String, Option<i64>, Option<String>) {
    (text.to_owned(), offset, file.map(str::to_owned))
}

/// A line is attributed to the frame that holds its `\n`, also when that `\n` is the first
/// byte of a frame.
#[test]
fn a_line_whose_newline_starts_the_next_frame_has_that_frames_offset() {
    let frames = export_frames(&[b"x\nabc", b"\ndef\n"]);
    assert_eq!(
        attributed(&frames.concat()),
        [
            line("x", Some(5), None),
            line("abc", Some(10), None),
            line("def", Some(10), None)
        ]
    );
}

/// Frames with the same `Offset` but another `File` are not merged: each line keeps its file.
/// And a run of frames with the same attribution keeps the lines that ended in its first frame
/// when the next file's frame completes the line after them.
#[test]
fn lines_keep_the_file_of_their_frame() {
    let frame = |data: &[u8], file: &str| format!(r#"{{"Offset":5,"Data":"{}","File":"{file}"}}"#, BASE64.encode(data));
    let body = [frame(b"a\n", "x"), frame(b"b\n", "y")].concat();
    assert_eq!(
        attributed(&body),
        [line("a", Some(5), Some("x")), line("b", Some(5), Some("y"))]
    );

    let body = [frame(b"one\ntw", "x"), frame(b"o", "x"), frame(b"\n", "y")].concat();
    assert_eq!(
        attributed(&body),
        [line("one", Some(5), Some("x")), line("two", Some(5), Some("y"))]
    );
}
