//! [`LogDecoder`]: pushed bytes in, complete [`LogLine`]s out, for both stream formats.

use std::fmt;
use std::ops::Range;

use super::deframe::{
    frame_limit, frame_window, is_json_whitespace, malformed_frame_start, FrameScan, FrameStart, Output,
};
use super::error::{snippet, StreamError, SNIPPET_MAX};
use super::frame::StreamFormat;
use super::lines::{LineBuffer, LogLine, LogLineRef};

/// Default for [`LogDecoder::with_max_line_len`]: 1 MiB.
pub const DEFAULT_MAX_LINE_LEN: usize = 1024 * 1024;

/// Incremental decoder that turns the bytes of a monitor or export stream into [`LogLine`]s.
///
/// Call [`push`](Self::push) with each chunk of the response body as it arrives, then call
/// [`next_line`](Self::next_line) until it returns `Ok(None)`. At the end of the body, call
/// [`finish`](Self::finish) until it returns `Ok(None)`. The output does not depend on how the
/// body was split into chunks. See the [module documentation](super) for an example.
/// [`lines`](Self::lines) and [`finish_lines`](Self::finish_lines) are the same two loops as
/// iterators, and [`next_line_ref`](Self::next_line_ref) is a variant of `next_line` that does
/// not allocate.
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
    /// Framed streams: what `input` holds.
    pending: Pending,
    /// Framed streams: bytes kept from earlier pushes (see [`Pending`]); empty otherwise.
    input: Vec<u8>,
    /// The decoded text and the frame counts.
    out: Output,
    /// An error `push` ran into, returned once the lines decoded before it are taken.
    deferred: Option<StreamError>,
    /// Set once an error has been returned: every later call returns it again.
    error: Option<StreamError>,
    bytes_pushed: u64,
}

/// What the bytes a framed stream's decoder keeps between pushes (its `input`) are.
enum Pending {
    /// Nothing is kept: the next byte starts a frame (or the whitespace between frames).
    Nothing,
    /// `input` is the start of a frame that has not ended yet; the scan knows where it stands.
    Frame(FrameScan),
    /// The stream turned out to hold text rather than a frame (an error the agent appended):
    /// `input` is the start of that text, as much as the error message shows.
    Text,
}

impl fmt::Debug for LogDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogDecoder")
            .field("format", &self.format)
            .field("max_line_len", &self.max_line_len)
            .field("frames", &self.out.frames)
            .field("heartbeats", &self.out.heartbeats)
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
            pending: Pending::Nothing,
            input: Vec::new(),
            out: Output::default(),
            deferred: None,
            error: None,
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
        self.out.frames
    }

    /// Number of heartbeat frames (`{}`) decoded so far.
    pub fn heartbeats(&self) -> u64 {
        self.out.heartbeats
    }

    /// Total number of bytes given to [`push`](Self::push), including bytes discarded after
    /// an error.
    pub fn bytes_pushed(&self) -> u64 {
        self.bytes_pushed
    }

    /// Number of stream bytes the decoder is holding: undecoded input plus decoded text not
    /// yet returned as lines.
    pub fn buffered_len(&self) -> usize {
        self.input.len() + self.out.lines.buffered_len()
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
                let lines = &mut self.out.lines;
                let start = lines.data.len();
                lines.data.extend_from_slice(bytes);
                lines.appended(start);
            }
            StreamFormat::Framed => {
                if let Pending::Text = self.pending {
                    // Only the start of the agent's text is reported: keep what a snippet needs.
                    let room = (SNIPPET_MAX + 1).saturating_sub(self.input.len());
                    self.input.extend_from_slice(&bytes[..bytes.len().min(room)]);
                    return;
                }
                if let Err(err) = self.decode_frames(bytes) {
                    // Nothing after the error is decoded.
                    self.deferred = Some(err);
                    self.pending = Pending::Nothing;
                    self.input = Vec::new();
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
        Ok(self.checked_step()?.map(|range| self.out.lines.line(range)))
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
        Ok(self.checked_step()?.map(|range| self.out.lines.line_ref(range)))
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
            return Ok(Some(self.out.lines.line(range)));
        }
        match self.pending {
            Pending::Nothing => {}
            Pending::Frame(_) => {
                let pending = self.input.len();
                let err = malformed_frame_start(frame_window(&self.input, self.max_frame_len), true)
                    .unwrap_or(StreamError::Truncated { pending });
                return Err(self.fail(err));
            }
            Pending::Text => {
                let err = self.text_error();
                return Err(self.fail(err));
            }
        }
        match self.out.lines.take_rest(self.max_line_len) {
            Ok(line) => Ok(line),
            Err(err) => Err(self.fail(err)),
        }
    }

    /// The complete lines decoded so far, as an iterator: [`next_line`](Self::next_line) until it
    /// returns `Ok(None)`. Call it after each [`push`](Self::push). An error is the iterator's
    /// last item.
    ///
    /// ```rust
    /// use nomad_proto::stream::{LogDecoder, StreamFormat};
    ///
    /// let mut decoder = LogDecoder::new(StreamFormat::Plain);
    /// let mut lines = Vec::new();
    /// for chunk in [&b"agent: sta"[..], b"rted\nclient: ready\npartial"] {
    ///     decoder.push(chunk);
    ///     for line in decoder.lines() {
    ///         lines.push(line?.text);
    ///     }
    /// }
    /// // End of the body: the rest, with the last unterminated line.
    /// for line in decoder.finish_lines() {
    ///     lines.push(line?.text);
    /// }
    /// assert_eq!(lines, ["agent: started", "client: ready", "partial"]);
    /// # Ok::<(), nomad_proto::stream::StreamError>(())
    /// ```
    pub fn lines(&mut self) -> impl Iterator<Item = Result<LogLine, StreamError>> + '_ {
        Drain {
            decoder: self,
            at_end: false,
            done: false,
        }
    }

    /// At the end of the body, the remaining lines as an iterator: [`finish`](Self::finish) until
    /// it returns `Ok(None)`, so the complete lines, then the final unterminated line. An error
    /// (such as [`StreamError::Truncated`]) is the iterator's last item. For a whole body:
    ///
    /// ```rust
    /// use nomad_proto::stream::{LogDecoder, StreamFormat};
    ///
    /// let mut decoder = LogDecoder::new(StreamFormat::Framed);
    /// decoder.push(br#"{"Data":"b25lCnR3bw==","FileEvent":"log"}{}"#);
    /// let lines: Vec<_> = decoder.finish_lines().collect::<Result<_, _>>()?;
    /// assert_eq!(lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["one", "two"]);
    /// # Ok::<(), nomad_proto::stream::StreamError>(())
    /// ```
    pub fn finish_lines(&mut self) -> impl Iterator<Item = Result<LogLine, StreamError>> + '_ {
        Drain {
            decoder: self,
            at_end: true,
            done: false,
        }
    }

    fn fail(&mut self, err: StreamError) -> StreamError {
        self.error = Some(err.clone());
        self.pending = Pending::Nothing;
        self.input = Vec::new();
        self.deferred = None;
        self.out.lines = LineBuffer::default();
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
        if let Some(range) = self.out.lines.take_line(self.max_line_len)? {
            return Ok(Some(range));
        }
        if let Some(err) = self.deferred.take() {
            return Err(err);
        }
        if matches!(self.pending, Pending::Text) && self.input.len() > SNIPPET_MAX {
            return Err(self.text_error());
        }
        Ok(None)
    }

    /// Decodes the frames in `bytes` (the next bytes of a framed stream) into the line buffer,
    /// and keeps an incomplete frame at the end in `input`.
    fn decode_frames(&mut self, mut bytes: &[u8]) -> Result<(), StreamError> {
        if let Pending::Frame(scan) = &mut self.pending {
            // The rest of the incomplete frame in `input`.
            let Some(end) = scan.feed(bytes) else {
                self.input.extend_from_slice(bytes);
                return self.check_incomplete();
            };
            self.input.extend_from_slice(&bytes[..end]);
            bytes = &bytes[end..];
            self.pending = Pending::Nothing;
            let (start, partial) = (self.out.lines.data.len(), self.out.lines.partial());
            let decoded = self.out.complete_frame(&self.input, self.max_frame_len);
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
                self.pending = Pending::Text;
                self.input.extend_from_slice(&bytes[..bytes.len().min(SNIPPET_MAX + 1)]);
                return Ok(());
            }
            let (start, partial) = (self.out.lines.data.len(), self.out.lines.partial());
            match self.out.frame(bytes, self.max_frame_len)? {
                FrameStart::Complete(len) => bytes = &bytes[len..],
                FrameStart::Incomplete(scan) => {
                    self.pending = Pending::Frame(scan);
                    self.input.extend_from_slice(bytes);
                    return self.check_incomplete();
                }
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
        let lines = &self.out.lines;
        let added = lines.data.len() - start;
        // No line can be longer than the incomplete one plus the frame's data.
        if partial + added > limit && lines.overlong(start, partial, limit) {
            return Err(StreamError::LineTooLong { limit });
        }
        Ok(())
    }

    /// Checks the incomplete frame in `input`. The scan only balances quotes and braces, so a
    /// malformed frame could swallow the rest of the stream. What has arrived is re-checked
    /// with the parser each time it doubles (linear in total): a bad frame fails as the
    /// whole-body parse would.
    fn check_incomplete(&mut self) -> Result<(), StreamError> {
        let Pending::Frame(scan) = &mut self.pending else {
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

/// The iterator of [`LogDecoder::lines`] and [`LogDecoder::finish_lines`].
struct Drain<'a> {
    decoder: &'a mut LogDecoder,
    /// Calls `finish` rather than `next_line`.
    at_end: bool,
    /// Set after `Ok(None)` or an error: a failed decoder would repeat its error forever.
    done: bool,
}

impl Iterator for Drain<'_> {
    type Item = Result<LogLine, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = if self.at_end {
            self.decoder.finish()
        } else {
            self.decoder.next_line()
        };
        let item = next.transpose();
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    use super::super::frame::BASE64;

    /// Everything a decoder yields for `body` pushed in `chunk`-byte pieces: lines with their
    /// offset and file, counters, and the error kind that stopped it.
    fn decode_all(body: &[u8], chunk: usize) -> (Vec<LogLine>, u64, u64, Option<String>) {
        let mut decoder = LogDecoder::new(StreamFormat::Framed).with_max_line_len(4096);
        let mut lines = Vec::new();
        // Keeps a line, or stops the drain at an error.
        let mut keep = |item: Result<LogLine, StreamError>| item.map(|line| lines.push(line)).err();
        let error = body
            .chunks(chunk)
            .find_map(|piece| {
                decoder.push(piece);
                decoder.lines().find_map(&mut keep)
            })
            .or_else(|| decoder.finish_lines().find_map(&mut keep));
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

    #[test]
    fn lines_stop_where_more_bytes_are_needed_and_finish_lines_takes_the_rest() {
        let mut decoder = LogDecoder::new(StreamFormat::Framed);
        // "one\ntw", then a frame cut inside its `Data`.
        decoder.push(br#"{"Data":"b25lCnR3","FileEvent":"log"}{"Data":"bw"#);
        let texts = |items: Vec<Result<LogLine, StreamError>>| -> Vec<String> {
            items.into_iter().map(|item| item.unwrap().text).collect()
        };
        assert_eq!(texts(decoder.lines().collect()), ["one"]);
        assert_eq!(texts(decoder.lines().collect()), Vec::<String>::new());
        decoder.push(br#"==","FileEvent":"log"}"#);
        assert_eq!(texts(decoder.lines().collect()), Vec::<String>::new());
        assert_eq!(texts(decoder.finish_lines().collect()), ["two"]);
        assert_eq!(texts(decoder.finish_lines().collect()), Vec::<String>::new());
    }

    #[test]
    fn an_error_is_the_last_item_of_a_drain() {
        let mut decoder = LogDecoder::new(StreamFormat::Framed);
        decoder.push(br#"{"Data":"b25lCg==","FileEvent":"log"}{}rpc error: EOF"#);
        let items: Vec<_> = decoder.finish_lines().collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap().text, "one");
        assert!(matches!(items[1], Err(StreamError::TrailingText { .. })));
        // A failed decoder repeats its error: once per drain.
        let again: Vec<_> = decoder.lines().collect();
        assert!(matches!(again[..], [Err(StreamError::TrailingText { .. })]));
    }
}
