//! Decoding the frame at the start of a framed stream's input into the line buffer
//! ([`Output::frame`]): the fast path for the frames the monitor sends, the JSON parser for
//! anything else, the scanner that finds where a frame that arrives in pieces ends
//! ([`FrameScan`]), and the errors for frames that do not decode.

use std::sync::Arc;

use super::error::{snippet_around, StreamError};
use super::frame::{decode_base64, decode_base64_fast, RawFrame};
use super::lines::LineBuffer;

/// Room allowed beyond `2 * max_line_len` for a single frame (field names, other fields).
const FRAME_SLACK: usize = 4096;

/// A heartbeat frame as the agent writes it.
const HEARTBEAT: &[u8] = b"{}";
/// The bytes the agent writes before a monitor frame's base64 `Data`...
const MONITOR_HEAD: &[u8] = br#"{"Data":""#;
/// ...and after it.
const MONITOR_TAIL: &[u8] = br#"","FileEvent":"log"}"#;

/// Where decoded frames go: their `Data` is appended to the line buffer, and they are counted.
#[derive(Default)]
pub(super) struct Output {
    /// The decoded text (and, for plain streams, the raw text), cut into lines on demand.
    pub(super) lines: LineBuffer,
    /// Frames decoded so far, heartbeats included.
    pub(super) frames: u64,
    /// Heartbeat frames decoded so far.
    pub(super) heartbeats: u64,
}

/// What [`Output::frame`] found at the start of the input.
pub(super) enum FrameStart {
    /// A whole frame of this many bytes, now decoded.
    Complete(usize),
    /// The start of a frame that has not ended yet: keep it, and feed the bytes that follow to
    /// this scan until it finds the end.
    Incomplete(FrameScan),
}

impl Output {
    /// Decodes the frame at the start of `rest` (which starts with its `{`), or says where the
    /// scan of an incomplete one stands.
    pub(super) fn frame(&mut self, rest: &[u8], max_frame_len: usize) -> Result<FrameStart, StreamError> {
        if let Some(len) = self.fast_frame(rest, max_frame_len) {
            return Ok(FrameStart::Complete(len));
        }
        let window = frame_window(rest, max_frame_len);
        if let Some(scan) = partial_monitor_frame(rest, window.len()) {
            // What the parser and the scan below would find, without running them.
            return Ok(FrameStart::Incomplete(scan));
        }
        // Parse no further than the frame limit, as the incremental path does.
        let mut frames = serde_json::Deserializer::from_slice(window).into_iter::<RawFrame<'_>>();
        match frames.next() {
            Some(Ok(raw)) => {
                let len = frames.byte_offset();
                if len > max_frame_len {
                    return Err(StreamError::FrameTooLarge { limit: max_frame_len });
                }
                self.apply_frame(raw)?;
                Ok(FrameStart::Complete(len))
            }
            Some(Err(err)) if !cut_short(&err, window) => Err(invalid_frame(window, err)),
            _ => {
                // Incomplete frame: from now on scan only the new bytes until it is complete.
                // What has arrived was just parsed: re-check it once it has doubled.
                let mut scan = FrameScan::new(window.len());
                match scan.feed(rest) {
                    Some(len) => {
                        self.complete_frame(&rest[..len], max_frame_len)?;
                        Ok(FrameStart::Complete(len))
                    }
                    None => Ok(FrameStart::Incomplete(scan)),
                }
            }
        }
    }

    /// Decodes a frame the scan found complete.
    pub(super) fn complete_frame(&mut self, bytes: &[u8], max_frame_len: usize) -> Result<(), StreamError> {
        if bytes.len() > max_frame_len {
            return Err(StreamError::FrameTooLarge { limit: max_frame_len });
        }
        if let Some(fast_len) = self.fast_frame(bytes, max_frame_len) {
            // A frame the fast path takes has no escapes, so the scan ended it at the same `}`.
            debug_assert_eq!(fast_len, bytes.len());
            return Ok(());
        }
        let raw: RawFrame<'_> = serde_json::from_slice(bytes).map_err(|e| invalid_frame(bytes, e))?;
        self.apply_frame(raw)
    }

    /// Fast path for the two frame shapes the monitor sends, byte for byte as the agent
    /// writes them: `{}` and `{"Data":"<base64>","FileEvent":"log"}`. Returns the frame's
    /// length after applying it exactly as [`apply_frame`](Self::apply_frame) would, or `None`
    /// (with no visible change) for anything else, which the JSON parser then decodes as usual:
    /// other shapes, incomplete frames, escapes, invalid base64 (the parser path reports it). A
    /// `"` inside a JSON string is always escaped, so the first `"` after the head ends `Data`
    /// unless a `\` precedes it, and a `\` (or a control character) fails the strict base64
    /// decode; so when this returns `Some`, the bytes were exactly that JSON, with no escapes.
    /// It skips serde_json's field matching and string scan, which cost about as much as the
    /// base64 decoding itself.
    fn fast_frame(&mut self, rest: &[u8], max_frame_len: usize) -> Option<usize> {
        if rest.starts_with(HEARTBEAT) {
            self.frames += 1;
            self.heartbeats += 1;
            return Some(HEARTBEAT.len());
        }
        let body = rest.strip_prefix(MONITOR_HEAD)?;
        let end = memchr::memchr(b'"', body)?;
        let len = MONITOR_HEAD.len() + end + MONITOR_TAIL.len();
        if end == 0 || len > max_frame_len || !body[end..].starts_with(MONITOR_TAIL) {
            return None;
        }
        let start = self.lines.data.len();
        if !decode_base64_fast(&body[..end], &mut self.lines.data) {
            return None;
        }
        self.lines.mark(start, None, None);
        self.frames += 1;
        Some(len)
    }

    /// Counts a decoded frame and appends its data to the lines.
    fn apply_frame(&mut self, raw: RawFrame<'_>) -> Result<(), StreamError> {
        self.frames += 1;
        if raw.is_heartbeat() {
            self.heartbeats += 1;
            return Ok(());
        }
        let Some(data) = raw.data.as_ref().filter(|d| !d.0.is_empty()) else {
            return Ok(());
        };
        let lines = &mut self.lines;
        let start = lines.data.len();
        if let Err(err) = decode_base64(data.0.as_bytes(), &mut lines.data) {
            // The fallback may have appended part of the data: the lines before the error must not
            // see it.
            lines.data.truncate(start);
            return Err(invalid_base64(&data.0, &err));
        }
        lines.mark(start, raw.offset, raw.file.as_ref().map(|f| &*f.0));
        Ok(())
    }
}

/// Tracks JSON structure to find where an incomplete frame ends, so that bytes pushed in small
/// pieces are each looked at once (no re-parsing per push).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FrameScan {
    /// How many bytes of the incomplete frame were last checked with the JSON parser.
    pub(super) checked: usize,
    depth: usize,
    in_string: bool,
    escape: bool,
}

impl FrameScan {
    /// A scan at the start of a frame whose first `checked` bytes the JSON parser has seen.
    fn new(checked: usize) -> Self {
        FrameScan {
            checked,
            ..FrameScan::default()
        }
    }

    /// Scans the next bytes of the frame (the first call gets the frame's `{`). Returns how
    /// many of `bytes` belong to the frame (up to and including its closing brace) once it is
    /// complete; `None` if all of them do and the frame goes on.
    pub(super) fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                    i += 1;
                    continue;
                }
                // Skip ordinary string bytes quickly.
                match memchr::memchr2(b'"', b'\\', &bytes[i..]) {
                    Some(n) => i += n,
                    None => return None,
                }
                if bytes[i] == b'\\' {
                    self.escape = true;
                } else {
                    self.in_string = false;
                }
            } else {
                match bytes[i] {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
            }
            i += 1;
        }
        None
    }
}

/// For the start of a monitor frame cut inside its `Data` string (`{"Data":"<base64>` with no
/// closing quote yet, the usual case at the end of a pushed chunk): the scan state that parsing
/// `window` (the first `window_len` bytes of `rest`) and then scanning `rest` would leave.
/// The parser stops at the end of the input inside a string when it has seen no `"`, `\` or
/// control character there (and it checks UTF-8 only at the closing quote; base64 is ASCII
/// anyway, and anything else takes the parser path), so it reports EOF: "cut short". The scan
/// is then inside a string at depth 1.
pub(super) fn partial_monitor_frame(rest: &[u8], window_len: usize) -> Option<FrameScan> {
    let body = rest.strip_prefix(MONITOR_HEAD)?;
    // No early exit, so that it vectorizes.
    let special = body.iter().fold(false, |acc, &b| {
        acc | (b.wrapping_sub(0x20) >= 0x60) | (b == b'"') | (b == b'\\')
    });
    if special {
        return None;
    }
    Some(FrameScan {
        checked: window_len,
        depth: 1,
        in_string: true,
        escape: false,
    })
}

/// The part of the input a frame may span: one byte past the limit, enough to tell "too large".
pub(super) fn frame_window(rest: &[u8], max_frame_len: usize) -> &[u8] {
    &rest[..rest.len().min(max_frame_len.saturating_add(1))]
}

/// The frame size limit for a line length limit: `2 * max_line_len + 4 KiB`.
pub(super) fn frame_limit(max_line_len: usize) -> usize {
    max_line_len.saturating_mul(2).saturating_add(FRAME_SLACK)
}

pub(super) fn is_json_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

// ---------------------------------------------------------------------------------------------
// Frame errors
// ---------------------------------------------------------------------------------------------

/// Byte index in `bytes` of a serde_json error position (1-based line, 0-based column).
fn error_index(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut line_start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', &bytes[line_start..]) {
            Some(i) => line_start += i + 1,
            None => break,
        }
    }
    line_start.saturating_add(column).min(bytes.len())
}

pub(super) fn invalid_frame(bytes: &[u8], err: serde_json::Error) -> StreamError {
    let at = error_index(bytes, err.line(), err.column());
    StreamError::InvalidFrame {
        snippet: snippet_around(bytes, at),
        source: Arc::new(err),
    }
}

fn invalid_base64(data: &str, err: &base64::DecodeError) -> StreamError {
    let at = match *err {
        base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol { offset: at, .. } => at,
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => data.len(),
    };
    StreamError::InvalidBase64 {
        detail: err.to_string(),
        snippet: snippet_around(data.as_bytes(), at),
    }
}

/// The error for an incomplete frame that is already not a valid frame start (not merely cut
/// short), as the parser reports it when the whole body is pushed at once. `at_end`: no more
/// bytes will come, so only a true EOF error means "cut short".
pub(super) fn malformed_frame_start(rest: &[u8], at_end: bool) -> Option<StreamError> {
    match serde_json::Deserializer::from_slice(rest)
        .into_iter::<RawFrame<'_>>()
        .next()
    {
        Some(Err(err)) if !(err.is_eof() || (!at_end && cut_short(&err, rest))) => Some(invalid_frame(rest, err)),
        _ => None,
    }
}

/// Whether a parse error may only mean that `bytes` end too early. serde_json reports a number
/// cut off at the end of the input (`1.`, `-`, `2e`) in an ignored field as `invalid number`,
/// not as EOF, so any error at the very end counts: more bytes decide.
pub(super) fn cut_short(err: &serde_json::Error, bytes: &[u8]) -> bool {
    err.is_eof() || error_index(bytes, err.line(), err.column()) >= bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::StreamFrame;

    #[test]
    fn frame_scan_ignores_braces_inside_strings_and_escapes() {
        let frame = br#"{"File":"a}\"}{","X":{"y":[1,"]"]},"Data":"YQ=="}tail"#;
        let end = frame.len() - "tail".len();
        // Fed at once, one byte at a time, or in pieces of any other size: the frame ends at
        // the same brace.
        for size in 1..=frame.len() {
            let mut scan = FrameScan::default();
            let mut fed = 0;
            let found = frame.chunks(size).find_map(|piece| {
                let end = scan.feed(piece).map(|n| fed + n);
                fed += piece.len();
                end
            });
            assert_eq!(found, Some(end), "{size}-byte pieces");
        }
    }

    #[test]
    fn error_index_follows_lines() {
        assert_eq!(error_index(b"ab\ncd\nef", 3, 1), 7);
        assert_eq!(error_index(b"abc", 1, 2), 2);
    }

    /// Go pads `Data`, but input without the `=` padding decodes the same: on the monitor fast
    /// path, on the parser path, and in [`StreamFrame`].
    #[test]
    fn unpadded_data_decodes_as_padded_data() {
        for (padded, unpadded, text) in [
            ("YQ==", "YQ", "a"),
            ("YWI=", "YWI", "ab"),
            ("YWJjZA==", "YWJjZA", "abcd"),
        ] {
            for data in [padded, unpadded] {
                let monitor = format!(r#"{{"Data":"{data}","FileEvent":"log"}}"#);
                let export = format!(r#"{{"Offset":7,"Data":"{data}","File":"nomad.log"}}"#);
                assert!(Output::default().fast_frame(monitor.as_bytes(), 1 << 20).is_some());
                for frame in [monitor, export] {
                    let mut out = Output::default();
                    let start = out.frame(frame.as_bytes(), 1 << 20);
                    assert!(
                        matches!(start, Ok(FrameStart::Complete(n)) if n == frame.len()),
                        "{frame}"
                    );
                    assert_eq!(out.lines.data, text.as_bytes(), "{frame}");
                    let parsed: StreamFrame = serde_json::from_str(&frame).unwrap();
                    assert_eq!(parsed.data, text.as_bytes(), "{frame}");
                }
            }
        }
    }
}
