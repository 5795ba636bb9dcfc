//! Incremental (sans-IO) decoder for the agent log streams
//! `/v1/agent/monitor` and `/v1/agent/monitor/export`.
//!
//! The agent sends these streams in one of two [`StreamFormat`]s:
//!
//! * **Framed** (the default): JSON [`StreamFrame`] objects concatenated with no separator
//!   (`{…}{…}{}{…}`). Each frame carries up to 1024 bytes of base64-encoded log text in `Data`,
//!   and a frame may end in the middle of a line. `{}` heartbeats arrive about once a second,
//!   even while logs are flowing. Monitor frames look like `{"Data":"…","FileEvent":"log"}`
//!   (no `Offset`). Export frames carry a cumulative `Offset`.
//! * **Plain** (`plain=true`): the raw log text, with no framing, no base64 and no heartbeats.
//!
//! [`LogDecoder`] turns either format into complete [`LogLine`]s. You feed it bytes as they
//! arrive with [`LogDecoder::push`] (in chunks of any size, split anywhere) and take lines out
//! with [`LogDecoder::next_line`]. At the end of the stream, [`LogDecoder::finish`] returns the
//! last unterminated line, or an error if the stream stopped in the middle of a frame. This
//! module does no I/O: it never reads sockets, starts threads or looks at clocks.
//!
//! With `log_json=true`, each line is an hclog JSON record, which [`LogRecord::parse`] turns
//! into a structured value.
//!
//! # Example
//!
//! ```rust
//! use nomad_proto::stream::{LogDecoder, StreamFormat};
//!
//! // Two monitor frames with a heartbeat between them. The second line is split across
//! // the two frames: "agent: started\npartia" + "l line\n".
//! let body = br#"{"Data":"YWdlbnQ6IHN0YXJ0ZWQKcGFydGlh","FileEvent":"log"}{}{"Data":"bCBsaW5lCg==","FileEvent":"log"}"#;
//!
//! let mut decoder = LogDecoder::new(StreamFormat::Framed);
//! let mut lines = Vec::new();
//! // Bytes can arrive in chunks of any size; here, 7 at a time.
//! for chunk in body.chunks(7) {
//!     decoder.push(chunk);
//!     while let Some(line) = decoder.next_line()? {
//!         lines.push(line.text);
//!     }
//! }
//! // End of the response body: collect a final unterminated line, if any.
//! while let Some(line) = decoder.finish()? {
//!     lines.push(line.text);
//! }
//! assert_eq!(lines, ["agent: started", "partial line"]);
//! assert_eq!(decoder.heartbeats(), 1);
//! # Ok::<(), nomad_proto::stream::StreamError>(())
//! ```

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{de, Deserialize, Serialize};

/// Base64 engine for `Data`: the standard alphabet. Go sends canonical padding, but
/// unpadded input is accepted too.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Default for [`LogDecoder::with_max_line_len`]: 1 MiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 1024 * 1024;

/// Room allowed beyond `2 * max_line_len` for a single frame (field names, other fields).
const FRAME_SLACK: usize = 4096;

/// Maximum number of stream bytes copied into an error snippet.
const SNIPPET_MAX: usize = 160;

/// Hard cap (in bytes) on a snippet after lossy UTF-8 conversion.
const SNIPPET_HARD_MAX: usize = 200;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Error from decoding a log stream or parsing a log record.
///
/// Snippets of stream content are converted to UTF-8 lossily and cut to about 200 bytes.
/// Messages print them in `{:?}` form, so control characters are escaped. The type is
/// `Clone` (the `serde_json` source is behind an [`Arc`]), so a failed [`LogDecoder`] can
/// return the same error from every later call.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A frame is not valid JSON, or is not a valid `StreamFrame` (for example, `Offset` is not
    /// an integer).
    #[error("invalid json frame in log stream near {snippet:?}")]
    InvalidFrame {
        /// Stream bytes around the point where parsing failed.
        snippet: String,
        /// The JSON parser's error.
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// A frame's `Data` field is not valid base64.
    #[error("invalid base64 in log stream frame data ({detail}) near {snippet:?}")]
    InvalidBase64 {
        /// The base64 decoder's description of the problem (position and symbol).
        detail: String,
        /// Part of the `Data` string around the invalid input.
        snippet: String,
    },
    /// The stream ended (see [`LogDecoder::finish`]) in the middle of a frame.
    #[error("log stream ended in the middle of a frame ({pending} bytes of an incomplete frame)")]
    Truncated {
        /// How many bytes of the incomplete frame had been received.
        pending: usize,
    },
    /// A line is longer than the decoder's limit ([`LogDecoder::with_max_line_len`]).
    #[error("log line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in bytes, not counting the line terminator.
        limit: usize,
    },
    /// A single frame is larger than the decoder allows (`2 * max_line_len` + 4 KiB).
    #[error("log stream frame larger than {limit} bytes")]
    FrameTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Text that is not a JSON frame appeared where a frame should start. The agent appends
    /// the text of an error that happens after streaming has started to the body this way.
    #[error("unexpected text in log stream (probably an error reported by the agent): {snippet:?}")]
    TrailingText {
        /// The start of the text.
        snippet: String,
    },
    /// A line is not a valid hclog JSON record (see [`LogRecord::parse`]).
    #[error("invalid log record: {reason} near {snippet:?}")]
    InvalidRecord {
        /// What is wrong, e.g. `not a json object` or `missing "@message"`.
        reason: String,
        /// The start of the line, or the offending value.
        snippet: String,
        /// The JSON parser's error, when the line is not valid JSON.
        #[source]
        source: Option<Arc<serde_json::Error>>,
    },
}

/// Lossy-UTF-8 excerpt of `bytes`: at most [`SNIPPET_MAX`] input bytes and about
/// [`SNIPPET_HARD_MAX`] output bytes, with `…` marking where it was cut.
fn snippet(bytes: &[u8]) -> String {
    let cut = bytes.len().min(SNIPPET_MAX);
    let mut s = String::from_utf8_lossy(&bytes[..cut]).into_owned();
    let mut truncated = cut < bytes.len();
    if s.len() > SNIPPET_HARD_MAX {
        let end = crate::error::floor_char_boundary(&s, SNIPPET_HARD_MAX);
        s.truncate(end);
        truncated = true;
    }
    if truncated {
        s.push('…');
    }
    s
}

/// Excerpt of `bytes` around byte `index`, marked with a leading `…` if it does not start at 0.
fn snippet_around(bytes: &[u8], index: usize) -> String {
    let index = index.min(bytes.len());
    let start = index.saturating_sub(SNIPPET_MAX / 2);
    let s = snippet(&bytes[start..]);
    if start > 0 {
        format!("…{s}")
    } else {
        s
    }
}

/// Byte index in `bytes` of a serde_json error position (1-based line, 0-based column).
fn error_index(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut line_start = 0;
    for _ in 1..line {
        match find_byte(&bytes[line_start..], b'\n') {
            Some(i) => line_start += i + 1,
            None => break,
        }
    }
    line_start.saturating_add(column).min(bytes.len())
}

fn invalid_frame(bytes: &[u8], err: serde_json::Error) -> StreamError {
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

// ---------------------------------------------------------------------------------------------
// Frames
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
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
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
    /// `File`: the name of the file the data came from, if the agent sent one.
    #[serde(rename = "File", skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `FileEvent`: `"log"` on monitor frames. Usually absent on export frames.
    #[serde(rename = "FileEvent", skip_serializing_if = "Option::is_none")]
    pub file_event: Option<String>,
}

impl StreamFrame {
    /// Whether this is a heartbeat: every field is empty or zero, as in `{}`. This is the
    /// same test as Go's `StreamFrame.IsHeartbeat`.
    pub fn is_heartbeat(&self) -> bool {
        self.offset.unwrap_or(0) == 0
            && self.data.is_empty()
            && self.file.as_deref().unwrap_or("").is_empty()
            && self.file_event.as_deref().unwrap_or("").is_empty()
    }
}

/// Appends the base64-decoded `data` to `out` with the SIMD decoder (`base64-simd`), which is
/// strict (canonical padding and trailing bits). Returns false, with `out` as it was, for input
/// it rejects.
fn decode_base64_simd(data: &[u8], out: &mut Vec<u8>) -> bool {
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

/// Appends the base64-decoded `data` to `out`: the SIMD decoder first, and whatever it rejects
/// is decoded again by the [`BASE64`] engine, whose result or error is returned. So what is
/// accepted, and every error message, is exactly as with [`BASE64`] alone (a unit test checks
/// the two agree); only the speed differs.
fn decode_base64(data: &[u8], out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    if decode_base64_simd(data, out) {
        return Ok(());
    }
    BASE64.decode_vec(data, out)
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
struct RawFrame<'a> {
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

/// Tracks JSON structure to find where an incomplete frame ends, so that bytes pushed in small
/// pieces are each looked at once (no re-parsing per push).
#[derive(Debug, Clone, Copy, Default)]
struct FrameScan {
    /// Next byte to look at, relative to the start of the frame (for `advance`).
    #[cfg(test)]
    off: usize,
    /// How many bytes of the incomplete frame were last checked with the JSON parser.
    checked: usize,
    depth: usize,
    in_string: bool,
    escape: bool,
}

impl FrameScan {
    /// Continues scanning `frame` (which starts with the frame's `{`). Returns the frame's
    /// length (up to and including its closing brace) once it is complete.
    #[cfg(test)]
    fn advance(&mut self, frame: &[u8]) -> Option<usize> {
        let start = self.off;
        match self.feed(&frame[start..]) {
            Some(n) => {
                self.off = start + n;
                Some(start + n)
            }
            None => {
                self.off = frame.len();
                None
            }
        }
    }

    /// Scans the next bytes of the frame (the first call gets the frame's `{`). Returns how
    /// many of `bytes` belong to the frame (up to and including its closing brace) once it is
    /// complete; `None` if all of them do and the frame goes on.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
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

/// Position of the first `needle` in `hay` (`memchr`: SIMD where the CPU has it).
fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    memchr::memchr(needle, hay)
}

fn is_json_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

// ---------------------------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------------------------

/// One complete log line from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The line without its `\n` or `\r\n` terminator. Bytes that are not valid UTF-8 are
    /// replaced with U+FFFD (`String::from_utf8_lossy`). Nomad logs are UTF-8, so this only
    /// happens with corrupt data.
    pub text: String,
    /// Framed streams: the `Offset` of the frame that completed the line (the frame holding
    /// its `\n`, or the last data frame for the final unterminated line). `None` for monitor
    /// frames (which leave `Offset` out) and for plain streams.
    pub offset: Option<i64>,
    /// Framed streams: the `File` of the frame that completed the line, if it had one.
    pub file: Option<String>,
}

impl LogLine {
    /// Parses the line as an hclog JSON record (streams requested with `log_json=true`).
    /// Same as [`LogRecord::parse`].
    pub fn record(&self) -> Result<LogRecord, StreamError> {
        LogRecord::parse(&self.text)
    }
}

/// A complete log line borrowed from the decoder's buffer, returned by
/// [`LogDecoder::next_line_ref`]. It saves an allocation per line when you only need to look
/// at the line (filter, count, forward it) before the next decoder call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLineRef<'a> {
    /// The line without its terminator. Borrowed when it is valid UTF-8, otherwise a lossy
    /// copy (see [`LogLine::text`]).
    pub text: Cow<'a, str>,
    /// Same as [`LogLine::offset`].
    pub offset: Option<i64>,
    /// Same as [`LogLine::file`].
    pub file: Option<&'a str>,
}

impl LogLineRef<'_> {
    /// Copies the line into an owned [`LogLine`].
    pub fn into_owned(self) -> LogLine {
        LogLine {
            text: self.text.into_owned(),
            offset: self.offset,
            file: self.file.map(str::to_owned),
        }
    }

    /// Parses the line as an hclog JSON record. Same as [`LogRecord::parse`].
    pub fn record(&self) -> Result<LogRecord, StreamError> {
        LogRecord::parse(&self.text)
    }
}

/// Decoded log bytes that have not been returned as lines yet.
///
/// Decoded bytes are appended to `data`. When the lines handed out so far are used up, the part
/// of `data` up to its last `\n` becomes the next `batch` of complete lines: the buffer moves
/// there without a copy, and its UTF-8 is checked once for the whole batch (only the partial
/// line after the last `\n` is copied, into the previous batch's buffer). Lines are then
/// slices of the batch.
#[derive(Default)]
struct LineBuffer {
    /// Complete lines, each ending in `\n`; `batch[pos..]` has not been returned yet.
    batch: Batch,
    pos: usize,
    /// Decoded bytes after the batch: a partial line, or lines not yet moved to a batch.
    data: Vec<u8>,
    /// Index in `data` of its last `\n`.
    last_newline: Option<usize>,
    /// Stream position (decoded bytes since the start, or since `finish` emptied the buffer)
    /// of `data[0]`. The batch ends where `data` starts.
    base: u64,
    /// `Offset` and `File` of the decoded bytes, in stream order (framed streams). Each segment
    /// ends where the next one starts; consecutive frames with the same `Offset` and `File`
    /// share one. Only segments holding a `\n`, and the last one, are kept.
    attrs: VecDeque<Attr>,
    /// Whether the bytes of the last segment hold a `\n`.
    back_has_newline: bool,
}

/// Complete lines, as text when they are valid UTF-8 (checked once for the whole batch).
enum Batch {
    Text(String),
    /// Not valid UTF-8: each line is converted lossily on its own.
    Bytes(Vec<u8>),
}

impl Default for Batch {
    fn default() -> Self {
        Batch::Text(String::new())
    }
}

impl Batch {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Batch::Text(text) => text.as_bytes(),
            Batch::Bytes(bytes) => bytes,
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Batch::Text(text) => text.into_bytes(),
            Batch::Bytes(bytes) => bytes,
        }
    }
}

/// `Offset` and `File` of the frame(s) that decoded into a range of the line buffer.
struct Attr {
    /// Stream position where the range ends (see [`LineBuffer::base`]).
    end: u64,
    offset: Option<i64>,
    file: Option<Arc<str>>,
}

/// Lossy UTF-8 with `from_utf8`'s ASCII fast path first.
fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A line of a batch that is not valid UTF-8 (out of line: rare).
#[cold]
#[inline(never)]
fn lossy_line_ref<'a>(bytes: &'a [u8], offset: Option<i64>, file: Option<&'a str>) -> LogLineRef<'a> {
    LogLineRef {
        text: lossy(bytes),
        offset,
        file,
    }
}

/// `bytes[start..end]` without a trailing `\r`, checked against the length limit.
fn line_range(bytes: &[u8], start: usize, mut end: usize, limit: usize) -> Result<Range<usize>, StreamError> {
    if end > start && bytes[end - 1] == b'\r' {
        end -= 1;
    }
    if end - start > limit {
        return Err(StreamError::LineTooLong { limit });
    }
    Ok(start..end)
}

impl LineBuffer {
    fn pending(&self) -> usize {
        (self.batch.as_bytes().len() - self.pos) + self.data.len()
    }

    /// Length of the incomplete line at the end of the buffer.
    fn partial(&self) -> usize {
        self.data.len() - self.last_newline.map_or(0, |i| i + 1)
    }

    /// Takes note of the bytes appended to `data` from `start`. Returns whether they hold a
    /// `\n`.
    fn appended(&mut self, start: usize) -> bool {
        // Searching from the end finds the last `\n` after about one line.
        match memchr::memrchr(b'\n', &self.data[start..]) {
            Some(i) => {
                self.last_newline = Some(start + i);
                true
            }
            None => false,
        }
    }

    /// Whether a line that ends in `data[start..]`, or the incomplete line at the end, is too
    /// long. `partial`: the length of the incomplete line before `start`.
    fn overlong(&self, start: usize, partial: usize, limit: usize) -> bool {
        let mut line_start = start - partial;
        for i in memchr::memchr_iter(b'\n', &self.data[start..]) {
            let newline = start + i;
            if line_range(&self.data, line_start, newline, limit).is_err() {
                return true;
            }
            line_start = newline + 1;
        }
        self.data.len() - line_start > limit.saturating_add(1)
    }

    /// Records that `data[start..]` was decoded from a frame with this `Offset` and `File` (a
    /// frame with a non-empty `Data`, even if it decoded to nothing).
    fn mark(&mut self, start: usize, offset: Option<i64>, file: Option<&str>) {
        let end = self.base + self.data.len() as u64;
        let newline = self.appended(start);
        let mut reuse = None;
        if let Some(back) = self.attrs.back_mut() {
            if back.offset == offset && back.file.as_deref() == file {
                back.end = end;
                self.back_has_newline |= newline;
                return;
            }
            if back.file.as_deref() == file {
                reuse = back.file.clone();
            }
            if !self.back_has_newline {
                // No line ends in the last segment and it is no longer the last: its
                // attribution is never used. The new segment covers its bytes.
                self.attrs.pop_back();
            }
        }
        let file = reuse.or_else(|| file.map(Arc::from));
        self.attrs.push_back(Attr { end, offset, file });
        self.back_has_newline = newline;
    }

    /// `Offset` and `File` of the segment holding stream position `at` (framed streams), after
    /// dropping the segments before it. Positions only move forward.
    fn seek_attr(&mut self, at: u64) {
        while self.attrs.len() > 1 && self.attrs.front().is_some_and(|a| a.end <= at) {
            self.attrs.pop_front();
        }
    }

    fn attr(&self, last: bool) -> (Option<i64>, Option<&str>) {
        let attr = if last { self.attrs.back() } else { self.attrs.front() };
        attr.map_or((None, None), |a| (a.offset, a.file.as_deref()))
    }

    /// Moves the complete lines of `data` to a new batch. Call only when the batch is used up.
    /// Returns false if `data` holds no complete line.
    fn commit(&mut self) -> bool {
        let Some(i) = self.last_newline else {
            return false;
        };
        let end = i + 1;
        // The used-up batch's buffer takes the partial line; `data` becomes the batch.
        let mut next = std::mem::take(&mut self.batch).into_bytes();
        next.clear();
        next.extend_from_slice(&self.data[end..]);
        let mut lines = std::mem::replace(&mut self.data, next);
        lines.truncate(end);
        self.last_newline = None;
        self.base += end as u64;
        self.pos = 0;
        self.batch = match String::from_utf8(lines) {
            Ok(text) => Batch::Text(text),
            Err(err) => Batch::Bytes(err.into_bytes()),
        };
        true
    }

    /// The next complete line, if there is one.
    #[inline]
    fn take_line(&mut self, limit: usize) -> Result<Option<Range<usize>>, StreamError> {
        loop {
            let bytes = self.batch.as_bytes();
            if self.pos < bytes.len() {
                let start = self.pos;
                // Every line of a batch ends in `\n`.
                let newline = find_byte(&bytes[start..], b'\n').map_or(bytes.len() - 1, |i| start + i);
                let range = line_range(bytes, start, newline, limit)?;
                let at = self.base - (bytes.len() - newline) as u64;
                self.pos = newline + 1;
                self.seek_attr(at);
                return Ok(Some(range));
            }
            if !self.commit() {
                // `+ 1` leaves room for a `\r` whose `\n` has not arrived yet.
                if self.data.len() > limit.saturating_add(1) {
                    return Err(StreamError::LineTooLong { limit });
                }
                return Ok(None);
            }
        }
    }

    fn line_ref(&self, range: Range<usize>) -> LogLineRef<'_> {
        let (offset, file) = self.attr(false);
        match &self.batch {
            Batch::Text(text) => LogLineRef {
                text: Cow::Borrowed(&text[range]),
                offset,
                file,
            },
            Batch::Bytes(bytes) => lossy_line_ref(&bytes[range], offset, file),
        }
    }

    #[inline]
    fn line(&self, range: Range<usize>) -> LogLine {
        let text = match &self.batch {
            Batch::Text(text) => text[range].to_owned(),
            Batch::Bytes(bytes) => lossy(&bytes[range]).into_owned(),
        };
        let (offset, file) = self.attr(false);
        LogLine {
            text,
            offset,
            file: file.map(str::to_owned),
        }
    }

    /// The unterminated rest, at the end of the stream. Call only when `take_line` returned
    /// `None`.
    fn take_rest(&mut self, limit: usize) -> Result<Option<LogLine>, StreamError> {
        let line = if self.data.is_empty() {
            None
        } else {
            let range = line_range(&self.data, 0, self.data.len(), limit)?;
            let (offset, file) = self.attr(true);
            Some(LogLine {
                text: lossy(&self.data[range]).into_owned(),
                offset,
                file: file.map(str::to_owned),
            })
        };
        self.base += self.data.len() as u64;
        self.data.clear();
        self.last_newline = None;
        self.attrs.clear();
        self.back_has_newline = false;
        Ok(line)
    }
}

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

/// Incremental decoder that turns the bytes of a monitor or export stream into [`LogLine`]s.
///
/// Call [`push`](Self::push) with each chunk of the response body as it arrives, then call
/// [`next_line`](Self::next_line) until it returns `Ok(None)`. At the end of the body, call
/// [`finish`](Self::finish) until it returns `Ok(None)`. The output does not depend on how the
/// body was split into chunks. See the [module documentation](self) for an example.
/// [`next_line_ref`](Self::next_line_ref) is a variant of `next_line` that does not allocate.
///
/// # Errors and ordering
///
/// Errors come in stream order: lines that were complete before the bad input are returned
/// first, then the error. After an error the decoder stays failed: every later
/// `next_line`/`finish` call returns the same error, `push` discards its input, and an
/// unterminated partial line that was pending is dropped.
///
/// Text that is not a JSON frame (the agent appends an error message this way if something
/// fails after streaming has started) is reported as [`StreamError::TrailingText`] once
/// about 160 bytes of it have arrived or when `finish` is called. Until then `next_line`
/// returns `Ok(None)`, so the error carries the whole message whatever the chunking.
///
/// # Memory
///
/// `push` decodes the complete frames of each chunk straight from the caller's bytes and keeps
/// only an incomplete frame at its end. If you drain `next_line` after each `push`, the decoder
/// holds at most one incomplete frame (bounded by `2 * max_line_len + 4 KiB`, see
/// [`StreamError::FrameTooLarge`]), one incomplete line (bounded by `max_line_len`, see
/// [`StreamError::LineTooLong`]) and the decoded text of the last pushed chunk.
/// [`buffered_len`](Self::buffered_len) reports the current amount.
pub struct LogDecoder {
    format: StreamFormat,
    max_line_len: usize,
    max_frame_len: usize,
    /// Framed mode: the start of an incomplete frame (while `scan` is set), or the start of
    /// non-frame text (while `in_text` is set).
    input: Vec<u8>,
    /// Set while `input` is an incomplete frame.
    scan: Option<FrameScan>,
    /// Set once the stream turned out to hold text rather than a frame.
    in_text: bool,
    lines: LineBuffer,
    /// An error `push` ran into, returned once the lines decoded before it are taken.
    deferred: Option<StreamError>,
    error: Option<StreamError>,
    frames: u64,
    heartbeats: u64,
    bytes_pushed: u64,
}

impl fmt::Debug for LogDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogDecoder")
            .field("format", &self.format)
            .field("max_line_len", &self.max_line_len)
            .field("frames", &self.frames)
            .field("heartbeats", &self.heartbeats)
            .field("bytes_pushed", &self.bytes_pushed)
            .field("buffered_len", &self.buffered_len())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl LogDecoder {
    /// Creates a decoder for a body in the given format, with a 1 MiB line limit
    /// ([`DEFAULT_MAX_LINE_LEN`]).
    pub fn new(format: StreamFormat) -> Self {
        LogDecoder {
            format,
            max_line_len: DEFAULT_MAX_LINE_LEN,
            max_frame_len: frame_limit(DEFAULT_MAX_LINE_LEN),
            input: Vec::new(),
            scan: None,
            in_text: false,
            lines: LineBuffer::default(),
            deferred: None,
            error: None,
            frames: 0,
            heartbeats: 0,
            bytes_pushed: 0,
        }
    }

    /// Sets the longest accepted line, in bytes, not counting the `\n` or `\r\n` terminator.
    /// A longer line is a [`StreamError::LineTooLong`]. Frames are limited to
    /// `2 * max_line_len + 4096` bytes ([`StreamError::FrameTooLarge`]). Together these
    /// bound the decoder's memory use. The default is 1 MiB.
    #[must_use]
    pub fn with_max_line_len(mut self, max_line_len: usize) -> Self {
        self.max_line_len = max_line_len;
        self.max_frame_len = frame_limit(max_line_len);
        self
    }

    /// The stream format given to [`new`](Self::new).
    pub fn format(&self) -> StreamFormat {
        self.format
    }

    /// The line length limit (see [`with_max_line_len`](Self::with_max_line_len)).
    pub fn max_line_len(&self) -> usize {
        self.max_line_len
    }

    /// Number of frames decoded so far, heartbeats included (always 0 for plain streams).
    /// [`push`](Self::push) decodes the complete frames it is given, so they count as soon as
    /// they are pushed.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Number of heartbeat frames (`{}`) decoded so far.
    pub fn heartbeats(&self) -> u64 {
        self.heartbeats
    }

    /// Total number of bytes given to [`push`](Self::push), including bytes discarded after
    /// an error.
    pub fn bytes_pushed(&self) -> u64 {
        self.bytes_pushed
    }

    /// Number of stream bytes the decoder is holding: undecoded input plus decoded text not
    /// yet returned as lines.
    pub fn buffered_len(&self) -> usize {
        self.input.len() + self.lines.pending()
    }

    /// Gives the decoder the next bytes of the response body. Chunks can be of any size and
    /// split the stream anywhere (in the middle of a frame, a JSON string, a base64 group or an
    /// escape). The complete frames are decoded right away, without copying the chunk; an
    /// incomplete frame at its end is kept until the rest arrives. Call
    /// [`next_line`](Self::next_line) afterwards to take the lines out: a problem found here is
    /// reported there, after the lines before it. After an error the bytes are discarded.
    pub fn push(&mut self, bytes: &[u8]) {
        self.bytes_pushed = self.bytes_pushed.saturating_add(bytes.len() as u64);
        if self.error.is_some() || self.deferred.is_some() || bytes.is_empty() {
            return;
        }
        match self.format {
            StreamFormat::Plain => {
                let start = self.lines.data.len();
                self.lines.data.extend_from_slice(bytes);
                self.lines.appended(start);
            }
            StreamFormat::Framed => {
                if self.in_text {
                    // Only the start of the agent's text is reported: keep what a snippet needs.
                    let room = (SNIPPET_MAX + 1).saturating_sub(self.input.len());
                    self.input.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    return;
                }
                if let Err(err) = self.decode_frames(bytes) {
                    // Nothing after the error is decoded.
                    self.deferred = Some(err);
                    self.input = Vec::new();
                    self.scan = None;
                }
            }
        }
    }

    /// Returns the next complete line, or `Ok(None)` if more bytes are needed.
    ///
    /// # Errors
    ///
    /// Any [`StreamError`] except [`Truncated`](StreamError::Truncated), which only `finish`
    /// returns. After an error, every later call returns the same error.
    #[inline]
    pub fn next_line(&mut self) -> Result<Option<LogLine>, StreamError> {
        Ok(self.checked_step()?.map(|range| self.lines.line(range)))
    }

    /// The shared start of the line calls: a failed decoder repeats its error; otherwise the
    /// next complete line's range, and a new error puts the decoder in the failed state.
    #[inline]
    fn checked_step(&mut self) -> Result<Option<Range<usize>>, StreamError> {
        if let Some(err) = &self.error {
            return Err(err.clone());
        }
        self.step().map_err(|err| self.fail(err))
    }

    /// Like [`next_line`](Self::next_line), but the line borrows from the decoder instead of
    /// being copied, which avoids an allocation per line.
    ///
    /// # Errors
    ///
    /// The same as [`next_line`](Self::next_line).
    #[inline]
    pub fn next_line_ref(&mut self) -> Result<Option<LogLineRef<'_>>, StreamError> {
        Ok(self.checked_step()?.map(|range| self.lines.line_ref(range)))
    }

    /// Call at the end of the body. It returns the remaining complete lines, then the final
    /// unterminated line if there is one, then `Ok(None)`. Call it until it returns
    /// `Ok(None)`. It can safely be called again after that. It does not close the decoder:
    /// bytes pushed afterwards are decoded as a continuation of the stream.
    ///
    /// # Errors
    ///
    /// [`StreamError::Truncated`] if the body ended in the middle of a frame;
    /// [`StreamError::TrailingText`] if it ended with non-frame text (an agent error);
    /// otherwise the same errors as [`next_line`](Self::next_line). Lines completed before
    /// the problem are returned first.
    pub fn finish(&mut self) -> Result<Option<LogLine>, StreamError> {
        if let Some(range) = self.checked_step()? {
            return Ok(Some(self.lines.line(range)));
        }
        if self.in_text {
            let err = self.text_error();
            return Err(self.fail(err));
        }
        let pending = self.input.len();
        if pending > 0 {
            let err = malformed_frame_start(frame_window(&self.input, self.max_frame_len), true)
                .unwrap_or(StreamError::Truncated { pending });
            return Err(self.fail(err));
        }
        match self.lines.take_rest(self.max_line_len) {
            Ok(line) => Ok(line),
            Err(err) => Err(self.fail(err)),
        }
    }

    fn fail(&mut self, err: StreamError) -> StreamError {
        self.error = Some(err.clone());
        self.input = Vec::new();
        self.scan = None;
        self.deferred = None;
        self.lines = LineBuffer::default();
        err
    }

    fn text_error(&self) -> StreamError {
        StreamError::TrailingText {
            snippet: snippet(&self.input),
        }
    }

    /// The next complete line's range in the line buffer, then the error `push` ran into.
    #[inline]
    fn step(&mut self) -> Result<Option<Range<usize>>, StreamError> {
        if let Some(range) = self.lines.take_line(self.max_line_len)? {
            return Ok(Some(range));
        }
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        if self.in_text && self.input.len() > SNIPPET_MAX {
            return Err(self.text_error());
        }
        Ok(None)
    }

    /// Decodes the frames in `bytes` (the next bytes of a framed stream) into the line buffer,
    /// and keeps an incomplete frame at the end in `input`.
    fn decode_frames(&mut self, mut bytes: &[u8]) -> Result<(), StreamError> {
        if let Some(scan) = &mut self.scan {
            // The rest of the incomplete frame in `input`.
            let Some(end) = scan.feed(bytes) else {
                self.input.extend_from_slice(bytes);
                return self.check_incomplete();
            };
            self.input.extend_from_slice(&bytes[..end]);
            bytes = &bytes[end..];
            self.scan = None;
            let frame = std::mem::take(&mut self.input);
            let (start, partial) = (self.lines.data.len(), self.lines.partial());
            let decoded = self.complete_frame(&frame);
            self.input = frame;
            self.input.clear();
            decoded?;
            self.check_lines(start, partial)?;
        }
        loop {
            // Skip whitespace between frames (only present in `?pretty` output).
            let Some(skip) = bytes.iter().position(|&b| !is_json_whitespace(b)) else {
                return Ok(());
            };
            bytes = &bytes[skip..];
            if bytes[0] != b'{' {
                self.in_text = true;
                self.input.extend_from_slice(&bytes[..bytes.len().min(SNIPPET_MAX + 1)]);
                return Ok(());
            }
            let (start, partial) = (self.lines.data.len(), self.lines.partial());
            match self.next_frame(bytes)? {
                Some(len) => bytes = &bytes[len..],
                None => return Ok(()),
            }
            self.check_lines(start, partial)?;
        }
    }

    /// After a frame appended `lines.data[start..]`: stops decoding at the first frame that
    /// makes a line too long (the error itself comes from `take_line`, after the lines before
    /// it), so that no frame after it is counted. `partial`: the length of the incomplete line
    /// before the frame.
    fn check_lines(&self, start: usize, partial: usize) -> Result<(), StreamError> {
        let limit = self.max_line_len;
        let added = self.lines.data.len() - start;
        // No line can be longer than the incomplete one plus the frame's data.
        if partial + added > limit && self.lines.overlong(start, partial, limit) {
            return Err(StreamError::LineTooLong { limit });
        }
        Ok(())
    }

    /// Decodes the frame at the start of `rest`. Returns its length, or `None` if it is
    /// incomplete (it is then kept in `input`, with `rest`).
    fn next_frame(&mut self, rest: &[u8]) -> Result<Option<usize>, StreamError> {
        if let Some(len) = fast_frame(
            rest,
            self.max_frame_len,
            &mut self.lines,
            &mut self.frames,
            &mut self.heartbeats,
        ) {
            return Ok(Some(len));
        }
        let window = frame_window(rest, self.max_frame_len);
        let scan = if let Some(scan) = partial_monitor_frame(rest, window.len()) {
            // What the parser and the scan below would find, without running them.
            scan
        } else {
            // Parse no further than the frame limit, as the incremental path does.
            let mut frames = serde_json::Deserializer::from_slice(window).into_iter::<RawFrame<'_>>();
            match frames.next() {
                Some(Ok(raw)) => {
                    let len = frames.byte_offset();
                    if len > self.max_frame_len {
                        return Err(StreamError::FrameTooLarge {
                            limit: self.max_frame_len,
                        });
                    }
                    apply_frame(raw, &mut self.lines, &mut self.frames, &mut self.heartbeats)?;
                    return Ok(Some(len));
                }
                Some(Err(err)) if !cut_short(&err, window) => return Err(invalid_frame(window, err)),
                _ => {
                    // Incomplete frame: from now on scan only the new bytes until it is complete.
                    // What has arrived was just parsed: re-check it once it has doubled.
                    let mut scan = FrameScan {
                        checked: window.len(),
                        ..FrameScan::default()
                    };
                    if let Some(len) = scan.feed(rest) {
                        self.complete_frame(&rest[..len])?;
                        return Ok(Some(len));
                    }
                    scan
                }
            }
        };
        self.scan = Some(scan);
        self.input.extend_from_slice(rest);
        self.check_incomplete()?;
        Ok(None)
    }

    /// Decodes a frame the scan found complete.
    fn complete_frame(&mut self, bytes: &[u8]) -> Result<(), StreamError> {
        if bytes.len() > self.max_frame_len {
            return Err(StreamError::FrameTooLarge {
                limit: self.max_frame_len,
            });
        }
        if let Some(fast_len) = fast_frame(
            bytes,
            self.max_frame_len,
            &mut self.lines,
            &mut self.frames,
            &mut self.heartbeats,
        ) {
            // A frame the fast path takes has no escapes, so the scan ended it at the same `}`.
            debug_assert_eq!(fast_len, bytes.len());
            return Ok(());
        }
        let raw: RawFrame<'_> = serde_json::from_slice(bytes).map_err(|e| invalid_frame(bytes, e))?;
        apply_frame(raw, &mut self.lines, &mut self.frames, &mut self.heartbeats)
    }

    /// Checks the incomplete frame in `input`. The scan only balances quotes and braces, so a
    /// malformed frame could swallow the rest of the stream. What has arrived is re-checked
    /// with the parser each time it doubles (linear in total): a bad frame fails as the
    /// whole-body parse would.
    fn check_incomplete(&mut self) -> Result<(), StreamError> {
        let Some(scan) = &mut self.scan else {
            return Ok(());
        };
        let rest = &self.input[..];
        let too_large = rest.len() > self.max_frame_len;
        if too_large || rest.len() >= scan.checked.saturating_mul(2) {
            scan.checked = rest.len();
            if let Some(err) = malformed_frame_start(frame_window(rest, self.max_frame_len), false) {
                return Err(err);
            }
        }
        if too_large {
            return Err(StreamError::FrameTooLarge {
                limit: self.max_frame_len,
            });
        }
        Ok(())
    }
}

/// The error for an incomplete frame that is already not a valid frame start (not merely cut
/// short), as the parser reports it when the whole body is pushed at once. `at_end`: no more
/// bytes will come, so only a true EOF error means "cut short".
fn malformed_frame_start(rest: &[u8], at_end: bool) -> Option<StreamError> {
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
fn cut_short(err: &serde_json::Error, bytes: &[u8]) -> bool {
    err.is_eof() || error_index(bytes, err.line(), err.column()) >= bytes.len()
}

/// A heartbeat frame as the agent writes it.
const HEARTBEAT: &[u8] = b"{}";
/// The bytes the agent writes before a monitor frame's base64 `Data`...
const MONITOR_HEAD: &[u8] = br#"{"Data":""#;
/// ...and after it.
const MONITOR_TAIL: &[u8] = br#"","FileEvent":"log"}"#;

/// Fast path for the two frame shapes the monitor sends, byte for byte as the agent writes
/// them: `{}` and `{"Data":"<base64>","FileEvent":"log"}`. Returns the frame's length after
/// applying it exactly as [`apply_frame`] would, or `None` (with no visible change) for anything
/// else, which the JSON parser then decodes as usual: other shapes, incomplete frames, escapes,
/// invalid base64 (the parser path reports it). A `"` inside a JSON string is always escaped, so
/// the first `"` after the head ends `Data` unless a `\` precedes it, and a `\` (or a control
/// character) fails the strict base64 decode; so when this returns `Some`, the bytes were exactly
/// that JSON, with no escapes. It skips serde_json's field matching and string scan, which cost
/// about as much as the base64 decoding itself.
fn fast_frame(
    rest: &[u8],
    max_frame_len: usize,
    lines: &mut LineBuffer,
    frames: &mut u64,
    heartbeats: &mut u64,
) -> Option<usize> {
    if rest.starts_with(HEARTBEAT) {
        *frames += 1;
        *heartbeats += 1;
        return Some(HEARTBEAT.len());
    }
    let body = rest.strip_prefix(MONITOR_HEAD)?;
    let end = find_byte(body, b'"')?;
    let len = MONITOR_HEAD.len() + end + MONITOR_TAIL.len();
    if end == 0 || len > max_frame_len || !body[end..].starts_with(MONITOR_TAIL) {
        return None;
    }
    let start = lines.data.len();
    if !decode_base64_simd(&body[..end], &mut lines.data) {
        return None;
    }
    lines.mark(start, None, None);
    *frames += 1;
    Some(len)
}

/// For the start of a monitor frame cut inside its `Data` string (`{"Data":"<base64>` with no
/// closing quote yet, the usual case at the end of a pushed chunk): the scan state that parsing
/// `window` (the first `window_len` bytes of `rest`) and then scanning `rest` would leave.
/// The parser stops at the end of the input inside a string when it has seen no `"`, `\` or
/// control character there (and it checks UTF-8 only at the closing quote; base64 is ASCII
/// anyway, and anything else takes the parser path), so it reports EOF: "cut short". The scan
/// is then inside a string at depth 1.
fn partial_monitor_frame(rest: &[u8], window_len: usize) -> Option<FrameScan> {
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
        ..FrameScan::default()
    })
}

/// The part of the input a frame may span: one byte past the limit, enough to tell "too large".
fn frame_window(rest: &[u8], max_frame_len: usize) -> &[u8] {
    &rest[..rest.len().min(max_frame_len.saturating_add(1))]
}

fn frame_limit(max_line_len: usize) -> usize {
    max_line_len.saturating_mul(2).saturating_add(FRAME_SLACK)
}

/// Counts a decoded frame and appends its data to `lines`.
fn apply_frame(
    raw: RawFrame<'_>,
    lines: &mut LineBuffer,
    frames: &mut u64,
    heartbeats: &mut u64,
) -> Result<(), StreamError> {
    *frames += 1;
    if raw.is_heartbeat() {
        *heartbeats += 1;
        return Ok(());
    }
    let Some(data) = raw.data.as_ref().filter(|d| !d.0.is_empty()) else {
        return Ok(());
    };
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

// ---------------------------------------------------------------------------------------------
// Levels and records
// ---------------------------------------------------------------------------------------------

/// An hclog log level: the `log_level` query parameter of `/v1/agent/monitor`, and the
/// `@level` of a JSON log record.
///
/// Levels are ordered by severity: `Trace < Debug < Info < Warn < Error`.
///
/// ```rust
/// use nomad_proto::stream::LogLevel;
///
/// assert_eq!("WARN".parse::<LogLevel>(), Ok(LogLevel::Warn));
/// assert_eq!("warning".parse::<LogLevel>(), Ok(LogLevel::Warn));
/// assert_eq!(LogLevel::Debug.as_str(), "debug");
/// assert!(LogLevel::Error > LogLevel::Info);
/// assert!("verbose".parse::<LogLevel>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// `trace`
    Trace,
    /// `debug`
    Debug,
    /// `info` (the agent's default for `log_level`)
    Info,
    /// `warn`
    Warn,
    /// `error`
    Error,
}

impl LogLevel {
    /// All levels, from least to most severe.
    pub const ALL: [LogLevel; 5] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
    ];

    /// The lowercase name hclog uses (`"trace"`, `"debug"`, `"info"`, `"warn"`, `"error"`).
    /// The agent accepts it as a `log_level` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error from parsing a [`LogLevel`]: the name is not one of `trace`, `debug`, `info`,
/// `warn` (or `warning`), `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log level {input:?} (expected trace, debug, info, warn or error)")]
pub struct ParseLogLevelError {
    input: String,
}

impl ParseLogLevelError {
    /// The rejected input (cut to 64 bytes).
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl FromStr for LogLevel {
    type Err = ParseLogLevelError;

    /// Parses a level name, ignoring ASCII case and surrounding whitespace. `warning` is
    /// accepted for [`LogLevel::Warn`]. Anything else, such as `verbose`, `off` or `""`,
    /// is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        let level = [
            ("trace", LogLevel::Trace),
            ("debug", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("warn", LogLevel::Warn),
            ("warning", LogLevel::Warn),
            ("error", LogLevel::Error),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, level)| level);
        level.ok_or_else(|| {
            let end = crate::error::floor_char_boundary(s, 64);
            ParseLogLevelError {
                input: s[..end].to_owned(),
            }
        })
    }
}

/// One hclog JSON log record: a line of a stream requested with `log_json=true`, such as
/// `{"@level":"info","@message":"agent: started","@module":"agent","@timestamp":"2024-05-01T10:00:00.000000Z"}`.
///
/// ```rust
/// use nomad_proto::stream::{LogLevel, LogRecord};
///
/// let record = LogRecord::parse(
///     r#"{"@level":"warn","@message":"client: slow heartbeat","@module":"client","@timestamp":"2024-05-01T10:00:00.000000Z","ttl":"10s"}"#,
/// )?;
/// assert_eq!(record.level, LogLevel::Warn);
/// assert_eq!(record.message, "client: slow heartbeat");
/// assert_eq!(record.module.as_deref(), Some("client"));
/// assert_eq!(record.fields["ttl"], "10s");
/// # Ok::<(), nomad_proto::stream::StreamError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// `@timestamp`, as sent (hclog format `2006-01-02T15:04:05.000000Z07:00`). Empty if the
    /// record has none.
    pub timestamp: String,
    /// `@level`.
    pub level: LogLevel,
    /// `@message`.
    pub message: String,
    /// `@module`: the logger name, e.g. `agent` or `client.alloc_runner`. hclog leaves it out
    /// for the unnamed root logger.
    pub module: Option<String>,
    /// `@caller` (`file.go:123`): present with `log_include_location=true`.
    pub caller: Option<String>,
    /// All other keys: the message's key/value arguments, plus any other `@`-keys hclog adds
    /// (such as `@warn`).
    pub fields: serde_json::Map<String, serde_json::Value>,
}

impl LogRecord {
    /// Parses one line of a `log_json=true` stream.
    ///
    /// `@level` and `@message` are required strings, and `@level` must be one of the five
    /// [`LogLevel`]s. hclog also writes `"all"` for messages logged with no level, but the
    /// agent never sends those, so any other level is an error rather than a catch-all
    /// variant. `@timestamp`, `@module` and `@caller` are optional, but must be strings if
    /// present.
    ///
    /// # Errors
    ///
    /// [`StreamError::InvalidRecord`] if the line is not a JSON object or breaks the rules
    /// above. Plain-text (non-JSON) log lines always fail.
    pub fn parse(line: &str) -> Result<Self, StreamError> {
        let mut map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).map_err(|e| StreamError::InvalidRecord {
                reason: "not a json object".to_owned(),
                snippet: snippet(line.as_bytes()),
                source: Some(Arc::new(e)),
            })?;
        let level_name = take_string(&mut map, "@level", line)?.ok_or_else(|| missing_key("@level", line))?;
        let level = level_name.parse::<LogLevel>().map_err(|_| StreamError::InvalidRecord {
            reason: "unknown \"@level\"".to_owned(),
            snippet: snippet(level_name.as_bytes()),
            source: None,
        })?;
        let message = take_string(&mut map, "@message", line)?.ok_or_else(|| missing_key("@message", line))?;
        let timestamp = take_string(&mut map, "@timestamp", line)?.unwrap_or_default();
        let module = take_string(&mut map, "@module", line)?;
        let caller = take_string(&mut map, "@caller", line)?;
        Ok(LogRecord {
            timestamp,
            level,
            message,
            module,
            caller,
            fields: map,
        })
    }
}

impl FromStr for LogRecord {
    type Err = StreamError;

    /// Same as [`LogRecord::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogRecord::parse(s)
    }
}

fn missing_key(key: &str, line: &str) -> StreamError {
    StreamError::InvalidRecord {
        reason: format!("missing {key:?}"),
        snippet: snippet(line.as_bytes()),
        source: None,
    }
}

fn take_string(
    map: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    line: &str,
) -> Result<Option<String>, StreamError> {
    match map.remove(key) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(StreamError::InvalidRecord {
            reason: format!("{key:?} is not a string"),
            snippet: snippet(line.as_bytes()),
            source: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_byte_matches_naive_search_at_every_position_and_length() {
        for len in 0..40 {
            for at in 0..=len {
                let mut hay = vec![b'a'; len];
                if at < len {
                    hay[at] = b'\n';
                }
                // A byte just above the needle must not cause a false positive.
                if at + 1 < len {
                    hay[at + 1] = b'\x0b';
                }
                let expected = hay.iter().position(|&b| b == b'\n');
                assert_eq!(find_byte(&hay, b'\n'), expected, "len {len} at {at}");
            }
        }
        assert_eq!(find_byte(b"\x8a\x0a", b'\n'), Some(1));
        assert_eq!(find_byte(&[0x0b; 17], b'\n'), None);
    }

    #[test]
    fn frame_scan_ignores_braces_inside_strings_and_escapes() {
        let frame = br#"{"File":"a}\"}{","X":{"y":[1,"]"]},"Data":"YQ=="}tail"#;
        let end = frame.len() - "tail".len();
        // Whole input at once.
        assert_eq!(FrameScan::default().advance(frame), Some(end));
        // One byte at a time.
        let mut scan = FrameScan::default();
        let mut found = None;
        for n in 1..=frame.len() {
            if let Some(len) = scan.advance(&frame[..n]) {
                found = Some(len);
                break;
            }
        }
        assert_eq!(found, Some(end));
    }

    #[test]
    fn snippets_are_bounded_and_lossy() {
        let s = snippet(&[0xff; 1000]);
        assert!(s.len() <= SNIPPET_HARD_MAX + '…'.len_utf8());
        assert!(s.starts_with('\u{fffd}'));
        assert_eq!(snippet(b"short"), "short");
        assert!(snippet_around(&[b'x'; 1000], 500).starts_with('…'));
    }

    #[test]
    fn frame_data_is_borrowed_from_the_input_unless_escaped() {
        let raw: RawFrame<'_> = serde_json::from_slice(br#"{"Data":"YWJj","FileEvent":"log"}"#).unwrap();
        assert!(matches!(raw.data, Some(WireStr(Cow::Borrowed("YWJj")))));
        let raw: RawFrame<'_> = serde_json::from_slice(br#"{"Data":"YWJ\u006A"}"#).unwrap();
        assert!(matches!(raw.data, Some(WireStr(Cow::Owned(ref s))) if s == "YWJj"));
    }

    /// Small deterministic generator (xorshift) for the differential tests.
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
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

    /// Everything a decoder yields for `body` pushed in `chunk`-byte pieces: lines with their
    /// offset and file, counters, and the error kind that stopped it.
    fn decode_all(body: &[u8], chunk: usize) -> (Vec<LogLine>, u64, u64, Option<String>) {
        let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(4096);
        let mut lines = Vec::new();
        let mut error = None;
        'outer: for piece in body.chunks(chunk) {
            decoder.push(piece);
            loop {
                match decoder.next_line() {
                    Ok(Some(line)) => lines.push(line),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        break 'outer;
                    }
                }
            }
        }
        if error.is_none() {
            loop {
                match decoder.finish() {
                    Ok(Some(line)) => lines.push(line),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
        }
        let kind = error.map(|e| format!("{e:?}").split([' ', '{', '(']).next().unwrap_or("").to_owned());
        (lines, decoder.frames(), decoder.heartbeats(), kind)
    }

    #[test]
    fn the_monitor_frame_fast_path_gives_what_the_json_parser_gives() {
        // Frames the fast path takes or must refuse; each body is also decoded with a space
        // after every `{`, which keeps the JSON equal but sends every frame to the parser.
        let frame = |data: &str| format!(r#"{{"Data":"{data}","FileEvent":"log"}}"#);
        let b64 = |text: &str| BASE64.encode(text);
        let bodies = [
            [
                frame(&b64("one\ntwo\n")),
                "{}".into(),
                frame(&b64("thr")),
                frame(&b64("ee\n")),
            ]
            .concat(),
            // Unpadded, escaped `/`, escaped quote, other shapes, export-style frames.
            [
                frame(b64("abcd\n").trim_end_matches('=')),
                frame(&b64("x??>\n").replace('/', "\\/")),
            ]
            .concat(),
            [frame(&b64("a\n")), r#"{"Data":"YQ\"==","FileEvent":"log"}"#.into()].concat(),
            [
                frame(&b64("a\n")),
                r#"{"Data":"YQo=","FileEvent":"log","File":"x.log"}"#.into(),
            ]
            .concat(),
            [
                r#"{"Offset":3,"Data":"YQo=","File":"nomad.log"}"#.to_owned(),
                frame(&b64("b\n")),
            ]
            .concat(),
            [
                frame(&b64("a\n")),
                r#"{"Data":"","FileEvent":"log"}"#.into(),
                frame(&b64("b")),
            ]
            .concat(),
            [frame(&b64("a\n")), r#"{"Data":"YQo=","FileEvent":"logs"}"#.into()].concat(),
            // Invalid: bad base64, non-canonical trailing bits, raw control character, a cut frame.
            [frame(&b64("a\n")), frame("not*base64")].concat(),
            [frame(&b64("a\n")), frame("YR==")].concat(),
            [frame(&b64("a\n")), frame("YQ\no=")].concat(),
            [frame(&b64("a\n")), r#"{"Data":"YQo="#.into()].concat(),
            [frame(&b64("a\n")), "{}".into(), "{}trailing agent error".into()].concat(),
        ];
        for body in &bodies {
            let parsed = body.replace('{', "{ ");
            for chunk in [1, 3, 7, 16, 1 << 20] {
                let fast = decode_all(body.as_bytes(), chunk);
                let slow = decode_all(parsed.as_bytes(), chunk);
                assert_eq!(fast, slow, "{body} in {chunk}-byte chunks");
            }
        }
    }

    #[test]
    fn error_index_follows_lines() {
        assert_eq!(error_index(b"ab\ncd\nef", 3, 1), 7);
        assert_eq!(error_index(b"abc", 1, 2), 2);
    }

    /// `push` decodes eagerly, so what a rejected frame decoded before failing must not reach
    /// the lines before the error. The `base64` fallback appends the groups before a bad symbol.
    #[test]
    fn a_rejected_frame_adds_nothing_to_the_lines_before_it() {
        let frame = |data: &str| format!(r#"{{"Data":"{data}","FileEvent":"log"}}"#);
        // "good\n" and a partial line just under the limit (4096), then "\n01" and an invalid
        // symbol: with those bytes the partial line would be too long, or become a line.
        let text = format!("good\n{}", "p".repeat(4090));
        let body = [frame(&BASE64.encode(text)), frame("CjAxMj}M0NTY3ODkNCg==")].concat();
        for body in [body.clone(), body.replace('{', "{ ")] {
            for chunk in [1, 5, 37, 1 << 20] {
                let (lines, frames, _, error) = decode_all(body.as_bytes(), chunk);
                let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
                assert_eq!(texts, ["good"], "{body} in {chunk}-byte chunks");
                assert_eq!(error.as_deref(), Some("InvalidBase64"));
                assert_eq!(frames, 2);
            }
        }
    }

    /// A line over the limit stops decoding at the frame that made it too long, as when frames
    /// were decoded one at a time: the counters do not depend on how many frames one push held.
    #[test]
    fn counters_stop_at_the_frame_that_made_a_line_too_long() {
        let frame = |data: &[u8]| format!(r#"{{"Data":"{}","FileEvent":"log"}}"#, BASE64.encode(data));
        let cases = [
            // The line ends in a later frame: too long once its `\n` arrives (frame 4).
            (
                [
                    frame(b"short\n"),
                    frame(&[b'x'; 4097]),
                    "{}".into(),
                    frame(b"\n"),
                    "{}".into(),
                ]
                .concat(),
                4,
                1,
            ),
            // No `\n` yet: too long once more than `limit + 1` bytes are pending (frame 3).
            (
                [
                    frame(b"short\n"),
                    frame(&[b'x'; 4000]),
                    frame(&[b'x'; 100]),
                    "{}".into(),
                ]
                .concat(),
                3,
                0,
            ),
            // A long line in the middle of one frame's data (frame 2).
            (
                [
                    frame(b"a\n"),
                    frame(&[b"b\n", &[b'y'; 4097][..], b"\nc\n"].concat()),
                    "{}".into(),
                ]
                .concat(),
                2,
                0,
            ),
        ];
        for (body, frames, heartbeats) in cases {
            for chunk in [1, 7, 999, 1 << 20] {
                let (_, f, h, error) = decode_all(body.as_bytes(), chunk);
                assert_eq!(error.as_deref(), Some("LineTooLong"), "{chunk}-byte chunks");
                assert_eq!((f, h), (frames, heartbeats), "{chunk}-byte chunks");
            }
        }
    }

    /// Export frames each carry their own `Offset`; a line spanning many of them keeps only the
    /// attribution that can still be used (the frame that ends a line, and the last one).
    #[test]
    fn line_attribution_stays_small_for_a_line_made_of_many_frames() {
        let mut decoder = LogDecoder::new(StreamFormat::Framed);
        for offset in 1..=10_000 {
            decoder.push(format!(r#"{{"Offset":{offset},"Data":"eA==","File":"a.log"}}"#).as_bytes());
            assert_eq!(decoder.next_line().unwrap(), None);
            assert!(decoder.lines.attrs.len() <= 2, "{}", decoder.lines.attrs.len());
        }
        decoder.push(br#"{"Offset":10001,"Data":"eQp6","File":"b.log"}"#);
        let line = decoder.next_line().unwrap().unwrap();
        assert_eq!(line.text.len(), 10_001);
        assert_eq!((line.offset, line.file.as_deref()), (Some(10_001), Some("b.log")));
        let rest = decoder.finish().unwrap().unwrap();
        assert_eq!((rest.text.as_str(), rest.offset), ("z", Some(10_001)));
    }
}
