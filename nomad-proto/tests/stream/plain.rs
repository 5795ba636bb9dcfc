//! Plain streams (`plain=true`): text lines as the agent writes them.

use crate::*;

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
