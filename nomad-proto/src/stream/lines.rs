//! Complete log lines ([`LogLine`], [`LogLineRef`]) and the buffer of decoded text they are cut
//! from ([`LineBuffer`]), with the `Offset`/`File` attribution of framed streams.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::error::StreamError;
use super::record::LogRecord;

/// One complete log line from a stream.
///
/// It serializes as `{"text":…,"offset":…,"file":…}` (`offset` and `file` left out when
/// `None`) and deserializes from that. For a line of your own (a fake stream in a test), use
/// [`LogLine::new`] and the `with_` methods; struct literals are refused, as the type may grow:
///
/// ```
/// use nomad_proto::stream::LogLine;
///
/// let line = LogLine::new("agent: started").with_offset(2048).with_file("nomad.log");
/// assert_eq!(line.offset, Some(2048));
/// assert_eq!(
///     serde_json::to_string(&line)?,
///     r#"{"text":"agent: started","offset":2048,"file":"nomad.log"}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogLine {
    /// The line without its `\n` or `\r\n` terminator. Bytes that are not valid UTF-8 are
    /// replaced with U+FFFD (`String::from_utf8_lossy`). Nomad logs are UTF-8, so this only
    /// happens with corrupt data.
    pub text: String,
    /// Framed streams: the `Offset` of the frame that completed the line (the frame holding
    /// its `\n`, or the last data frame for the final unterminated line). `None` for monitor
    /// frames (which leave `Offset` out) and for plain streams.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Framed streams: the `File` of the frame that completed the line, if it had one (monitor
    /// and export frames never do, so this is `None` on their lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl LogLine {
    /// A line with `text` and no `Offset` or `File` (as a monitor or plain stream yields).
    #[must_use]
    pub fn new(text: impl Into<String>) -> Self {
        LogLine {
            text: text.into(),
            offset: None,
            file: None,
        }
    }

    /// The same line with an `Offset`.
    #[must_use]
    pub fn with_offset(mut self, offset: i64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// The same line with a `File`.
    #[must_use]
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// The line as a [`LogLineRef`] borrowing from it.
    pub fn as_line_ref(&self) -> LogLineRef<'_> {
        LogLineRef {
            text: Cow::Borrowed(&self.text),
            offset: self.offset,
            file: self.file.as_deref(),
        }
    }

    /// Parses the line as an hclog JSON record (streams requested with `log_json=true`).
    /// Same as [`LogRecord::parse`]: the line the agent inserts when it dropped lines
    /// (`[WARN] Monitor dropped N logs during monitor request`, not JSON even on a
    /// `log_json=true` stream) is a record too, with [`LogRecord::dropped`] set, in every stream
    /// format.
    ///
    /// # Errors
    ///
    /// [`StreamError::InvalidRecord`] for a line that is neither an hclog JSON record nor the
    /// dropped-lines notice (e.g. any line of a stream without `log_json=true`).
    pub fn record(&self) -> Result<LogRecord, StreamError> {
        LogRecord::parse(&self.text)
    }
}

/// A complete log line borrowed from the decoder's buffer, returned by
/// [`LogDecoder::next_line_ref`](super::LogDecoder::next_line_ref). It saves an allocation per line when you only need to look
/// at the line (filter, count, forward it) before the next decoder call.
///
/// It serializes as [`LogLine`] does. Build one with [`LogLineRef::new`] or
/// [`LogLine::as_line_ref`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LogLineRef<'a> {
    /// The line without its terminator. Borrowed when it is valid UTF-8, otherwise a lossy
    /// copy (see [`LogLine::text`]).
    pub text: Cow<'a, str>,
    /// Same as [`LogLine::offset`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// Same as [`LogLine::file`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<&'a str>,
}

impl<'a> LogLineRef<'a> {
    /// A line with `text` and no `Offset` or `File`.
    #[must_use]
    pub fn new(text: impl Into<Cow<'a, str>>) -> Self {
        LogLineRef {
            text: text.into(),
            offset: None,
            file: None,
        }
    }

    /// The same line with an `Offset`.
    #[must_use]
    pub fn with_offset(mut self, offset: i64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// The same line with a `File`.
    #[must_use]
    pub fn with_file(mut self, file: &'a str) -> Self {
        self.file = Some(file);
        self
    }
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

    /// Parses the line as an hclog JSON record. Same as [`LogLine::record`].
    ///
    /// # Errors
    ///
    /// As [`LogLine::record`].
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
pub(super) struct LineBuffer {
    /// Complete lines, each ending in `\n`; `batch[pos..]` has not been returned yet.
    batch: Batch,
    pos: usize,
    /// Decoded bytes after the batch: a partial line, or lines not yet moved to a batch.
    pub(super) data: Vec<u8>,
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
    /// Number of decoded bytes not returned as lines yet.
    pub(super) fn buffered_len(&self) -> usize {
        (self.batch.as_bytes().len() - self.pos) + self.data.len()
    }

    /// Length of the incomplete line at the end of the buffer.
    pub(super) fn partial(&self) -> usize {
        self.data.len() - self.last_newline.map_or(0, |i| i + 1)
    }

    /// Takes note of the bytes appended to `data` from `start`. Returns whether they hold a
    /// `\n`.
    pub(super) fn appended(&mut self, start: usize) -> bool {
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
    pub(super) fn overlong(&self, start: usize, partial: usize, limit: usize) -> bool {
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
    pub(super) fn mark(&mut self, start: usize, offset: Option<i64>, file: Option<&str>) {
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

    /// Drops the segments that end at or before stream position `at` (always keeping the last
    /// one), so that the front segment is the one holding `at`: the attribution of the line whose
    /// `\n` is there (framed streams). Positions only move forward.
    fn seek_attr(&mut self, at: u64) {
        while self.attrs.len() > 1 && self.attrs.front().is_some_and(|a| a.end <= at) {
            self.attrs.pop_front();
        }
    }

    /// `Offset` and `File` of the front segment (the line just taken), or with `last` of the last
    /// segment (the final unterminated line). `(None, None)` for plain streams.
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
    pub(super) fn take_line(&mut self, limit: usize) -> Result<Option<Range<usize>>, StreamError> {
        loop {
            let bytes = self.batch.as_bytes();
            if self.pos < bytes.len() {
                let start = self.pos;
                // Every line of a batch ends in `\n`.
                let newline = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len() - 1, |i| start + i);
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

    pub(super) fn line_ref(&self, range: Range<usize>) -> LogLineRef<'_> {
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
    pub(super) fn line(&self, range: Range<usize>) -> LogLine {
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
    pub(super) fn take_rest(&mut self, limit: usize) -> Result<Option<LogLine>, StreamError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    /// Appends `bytes` as one frame's decoded `Data` would be, with that frame's `Offset` and
    /// `File`.
    fn append(buffer: &mut LineBuffer, bytes: &[u8], offset: i64, file: &str) {
        let start = buffer.data.len();
        buffer.data.extend_from_slice(bytes);
        buffer.mark(start, Some(offset), Some(file));
    }

    /// Export frames each carry their own `Offset`; a line spanning many of them keeps only the
    /// attribution that can still be used (the frame that ends a line, and the last one).
    #[test]
    fn line_attribution_stays_small_for_a_line_made_of_many_frames() {
        let mut buffer = LineBuffer::default();
        for offset in 1..=10_000 {
            append(&mut buffer, b"x", offset, "a.log");
            assert_eq!(buffer.take_line(LIMIT).unwrap(), None);
            assert!(buffer.attrs.len() <= 2, "{}", buffer.attrs.len());
        }
        append(&mut buffer, b"y\nz", 10_001, "b.log");
        let range = buffer.take_line(LIMIT).unwrap().unwrap();
        let line = buffer.line(range);
        assert_eq!(line.text.len(), 10_001);
        assert_eq!((line.offset, line.file.as_deref()), (Some(10_001), Some("b.log")));
        assert_eq!(buffer.take_line(LIMIT).unwrap(), None);
        let rest = buffer.take_rest(LIMIT).unwrap().unwrap();
        assert_eq!((rest.text.as_str(), rest.offset), ("z", Some(10_001)));
    }
}
