//! What a `LogDecoder` reports about itself: its settings, what it holds, and what it does with bytes after an error.

use crate::*;

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
