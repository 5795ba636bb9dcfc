//! Frames of a framed log stream: the wire types ([`StreamFormat`], [`StreamFrame`]), base64
//! decoding of `Data`, and decoding one frame at the start of the input into the line buffer:
//! the fast path for the frames the monitor sends, the JSON parser for anything else, and the
//! scanner that finds where a frame that arrives in pieces ends.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{de, Deserialize, Serialize};

use super::error::{snippet_around, StreamError};
use super::lines::LineBuffer;

/// Base64 engine for `Data`: the standard alphabet. Go sends canonical padding, but
/// unpadded input is accepted too.
pub(super) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Room allowed beyond `2 * max_line_len` for a single frame (field names, other fields).
const FRAME_SLACK: usize = 4096;

/// A heartbeat frame as the agent writes it.
const HEARTBEAT: &[u8] = b"{}";
/// The bytes the agent writes before a monitor frame's base64 `Data`...
const MONITOR_HEAD: &[u8] = br#"{"Data":""#;
/// ...and after it.
const MONITOR_TAIL: &[u8] = br#"","FileEvent":"log"}"#;

// ---------------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------------

/// How the stream body is encoded, chosen by the request's `plain` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StreamFormat {
    /// JSON [`StreamFrame`]s concatenated with no separator (the default, `plain=false`).
    #[default]
    Framed,
    /// Raw log text (`plain=true`).
    Plain,
}

impl fmt::Display for StreamFormat {
    /// `framed` or `plain`, padded to the formatter's width.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            StreamFormat::Framed => "framed",
            StreamFormat::Plain => "plain",
        })
    }
}

/// One frame of a framed log stream, as the agent sends it: the Go
/// `StreamFrame {Offset int64, Data []byte, File string, FileEvent string}`, where every field
/// is `omitempty`.
///
/// It deserializes from the wire names `Offset`, `Data` (standard base64, decoded into
/// [`data`](Self::data)), `File` and `FileEvent`. Unknown fields are ignored, and a missing or
/// `null` field is `None` (or an empty `data`). It serializes the way the agent does: absent
/// and empty fields are left out, so a heartbeat is `{}`.
///
/// ```rust
/// use nomad_proto::stream::StreamFrame;
///
/// let frame: StreamFrame = serde_json::from_str(r#"{"Data":"aGVsbG8K","FileEvent":"log"}"#)?;
/// assert_eq!(frame.data, b"hello\n");
/// assert_eq!(frame.file_event.as_deref(), Some("log"));
/// assert!(!frame.is_heartbeat());
/// assert!(serde_json::from_str::<StreamFrame>("{}")?.is_heartbeat());
///
/// // A frame of your own (e.g. a fake stream in a test), written as the agent writes it:
/// let frame = StreamFrame::new(b"hello\n".to_vec()).with_file_event("log");
/// assert_eq!(serde_json::to_string(&frame)?, r#"{"Data":"aGVsbG8K","FileEvent":"log"}"#);
/// assert_eq!(serde_json::to_string(&StreamFrame::heartbeat())?, "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct StreamFrame {
    /// `Offset`: cumulative byte offset (export streams). Monitor frames leave it out.
    #[serde(rename = "Offset", skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// `Data`, base64-decoded: up to 1024 bytes of log text, which may hold several lines or
    /// part of one.
    #[serde(
        rename = "Data",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_base64"
    )]
    pub data: Vec<u8>,
    /// `File`: the name of the file the data came from, if the agent sent one. Monitor and
    /// export frames never carry it (Nomad `command/agent/agent_endpoint.go`); other Nomad
    /// streams of the same frame type (allocation file logs) do.
    #[serde(rename = "File", skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `FileEvent`: `"log"` on monitor frames. Always absent on export frames.
    #[serde(rename = "FileEvent", skip_serializing_if = "Option::is_none")]
    pub file_event: Option<String>,
}

impl StreamFrame {
    /// A frame carrying `data` (decoded log text) and nothing else.
    #[must_use]
    pub fn new(data: Vec<u8>) -> Self {
        StreamFrame {
            data,
            ..StreamFrame::default()
        }
    }

    /// A heartbeat: the empty frame `{}`.
    #[must_use]
    pub fn heartbeat() -> Self {
        StreamFrame::default()
    }

    /// The same frame with an `Offset`.
    #[must_use]
    pub fn with_offset(mut self, offset: i64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// The same frame with a `File`.
    #[must_use]
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// The same frame with a `FileEvent` (`log` on monitor frames).
    #[must_use]
    pub fn with_file_event(mut self, file_event: impl Into<String>) -> Self {
        self.file_event = Some(file_event.into());
        self
    }

    /// Whether this is a heartbeat: every field is empty or zero, as in `{}`. This is the
    /// same test as Go's `StreamFrame.IsHeartbeat`.
    pub fn is_heartbeat(&self) -> bool {
        self.offset.unwrap_or(0) == 0
            && self.data.is_empty()
            && self.file.as_deref().unwrap_or("").is_empty()
            && self.file_event.as_deref().unwrap_or("").is_empty()
    }
}

fn serialize_base64<S: serde::Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&BASE64.encode(data))
}

impl<'de> Deserialize<'de> for StreamFrame {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawFrame::deserialize(deserializer)?;
        let mut data = Vec::new();
        if let Some(d) = &raw.data {
            BASE64
                .decode_vec(d.0.as_bytes(), &mut data)
                .map_err(|e| de::Error::custom(format_args!("invalid base64 in Data: {e}")))?;
        }
        Ok(StreamFrame {
            offset: raw.offset,
            data,
            file: raw.file.map(|f| f.0.into_owned()),
            file_event: raw.file_event.map(|f| f.0.into_owned()),
        })
    }
}

/// A JSON string that borrows from the input when it has no escapes.
struct WireStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for WireStr<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> de::Visitor<'de> for Visitor<'a> {
            type Value = WireStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visitor(std::marker::PhantomData))
    }
}

/// Wire form of a frame, borrowing `Data` (still base64) from the input.
#[derive(Deserialize)]
pub(super) struct RawFrame<'a> {
    #[serde(rename = "Offset", default)]
    offset: Option<i64>,
    #[serde(rename = "Data", default, borrow)]
    data: Option<WireStr<'a>>,
    #[serde(rename = "File", default, borrow)]
    file: Option<WireStr<'a>>,
    #[serde(rename = "FileEvent", default, borrow)]
    file_event: Option<WireStr<'a>>,
}

impl RawFrame<'_> {
    fn is_heartbeat(&self) -> bool {
        fn empty(s: &Option<WireStr<'_>>) -> bool {
            s.as_ref().is_none_or(|s| s.0.is_empty())
        }
        self.offset.unwrap_or(0) == 0 && empty(&self.data) && empty(&self.file) && empty(&self.file_event)
    }
}

/// Appends the base64-decoded `data` to `out` for the monitor fast path. Returns false, with
/// `out` as it was, for input it rejects; the parser path then decodes it again and reports the
/// error. With the `simd` feature this is the SIMD decoder (`base64-simd`), which is strict
/// (canonical padding and trailing bits); without it, the [`BASE64`] engine.
#[cfg(feature = "simd")]
fn decode_base64_fast(data: &[u8], out: &mut Vec<u8>) -> bool {
    let engine = if data.len() % 4 == 0 {
        base64_simd::STANDARD
    } else {
        base64_simd::STANDARD_NO_PAD
    };
    let start = out.len();
    out.reserve(data.len() / 4 * 3 + 3);
    if engine.decode_append(data, out).is_ok() {
        return true;
    }
    out.truncate(start);
    false
}

/// See the `simd` version.
#[cfg(not(feature = "simd"))]
fn decode_base64_fast(data: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    if BASE64.decode_vec(data, out).is_ok() {
        return true;
    }
    out.truncate(start);
    false
}

/// Appends the base64-decoded `data` to `out`. With the `simd` feature: the SIMD decoder first,
/// and whatever it rejects is decoded again by the [`BASE64`] engine, whose result or error is
/// returned. So what is accepted, and every error message, is exactly as with [`BASE64`] alone
/// (a unit test checks the two agree); only the speed differs. The engine may have appended part
/// of the data before an error.
fn decode_base64(data: &[u8], out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    #[cfg(feature = "simd")]
    if decode_base64_fast(data, out) {
        return Ok(());
    }
    BASE64.decode_vec(data, out)
}

// ---------------------------------------------------------------------------------------------
// Decoding one frame
// ---------------------------------------------------------------------------------------------

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
    fn frame_data_is_borrowed_from_the_input_unless_escaped() {
        let raw: RawFrame<'_> = serde_json::from_slice(br#"{"Data":"YWJj","FileEvent":"log"}"#).unwrap();
        assert!(matches!(raw.data, Some(WireStr(Cow::Borrowed("YWJj")))));
        let raw: RawFrame<'_> = serde_json::from_slice(br#"{"Data":"YWJ\u006A"}"#).unwrap();
        assert!(matches!(raw.data, Some(WireStr(Cow::Owned(ref s))) if s == "YWJj"));
    }

    /// Small deterministic generator (xorshift) for the differential tests.
    #[cfg(feature = "simd")]
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    #[cfg(feature = "simd")]
    fn simd_base64_agrees_with_the_base64_crate_on_valid_and_invalid_input() {
        // Every string of up to 4 symbols over a mix of valid, padding and invalid bytes, then
        // random longer ones: same decoded bytes, or the same error.
        let alphabet = b"AQgw+/=\\* \n\"Zz9";
        let mut cases: Vec<Vec<u8>> = vec![Vec::new()];
        let mut frontier = cases.clone();
        for _ in 0..4 {
            let mut next = Vec::new();
            for prefix in &frontier {
                for &b in alphabet {
                    let mut s = prefix.clone();
                    s.push(b);
                    next.push(s);
                }
            }
            cases.extend(next.iter().cloned());
            frontier = next;
        }
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (xorshift(&mut state) % 40) as usize;
            let mut data: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
            let mut encoded = BASE64.encode(&data).into_bytes();
            match xorshift(&mut state) % 4 {
                0 => {}
                1 => encoded.retain(|&b| b != b'='),
                2 if !encoded.is_empty() => {
                    let at = (xorshift(&mut state) as usize) % encoded.len();
                    encoded[at] = alphabet[(xorshift(&mut state) as usize) % alphabet.len()];
                }
                _ => {
                    data.clear();
                    encoded.truncate((xorshift(&mut state) as usize) % (encoded.len() + 1));
                }
            }
            cases.push(encoded);
        }
        for case in cases {
            let mut expected = b"kept".to_vec();
            let expected_result = BASE64.decode_vec(&case, &mut expected);
            let mut actual = b"kept".to_vec();
            let actual_result = decode_base64(&case, &mut actual);
            assert_eq!(actual_result, expected_result, "{:?}", String::from_utf8_lossy(&case));
            if expected_result.is_ok() {
                assert_eq!(actual, expected, "{:?}", String::from_utf8_lossy(&case));
            }
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
