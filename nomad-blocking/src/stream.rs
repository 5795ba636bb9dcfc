//! Live log streams as iterators. The deadline that ends one on time is a request extension a
//! transport honours: [`Deadline`](crate::Deadline), with the transports.

use std::io::Read;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use nomad_proto::stream::{LogDecoder, LogLine, LogLineRef, LogRecord};

use crate::error::{Error, TransportError, TransportErrorKind};
use crate::trace::{End, StreamTrace};
use crate::transport::BodyReader;

const READ_CHUNK: usize = 16 * 1024;

/// Stops a [`LogStream`] from another thread. The stream notices before its next read, which
/// comes at the latest with the agent's next heartbeat (about a second on framed streams; a
/// plain stream reads again only when log bytes arrive: to end one on time, open it with
/// [`Client::stream_until`](crate::Client::stream_until)).
#[derive(Clone, Debug, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the stream to end; its iterator then returns `None`.
    pub fn stop(&self) {
        if !self.0.swap(true, Ordering::AcqRel) {
            crate::trace::stop_requested();
        }
    }
    /// True once [`StopHandle::stop`] was called.
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A live log stream: an iterator of log lines that holds constant memory however long the agent
/// streams.
///
/// It ends (`None`) when the agent closes the stream, when [`StopHandle::stop`] is called, at the
/// deadline it was opened with ([`Client::stream_for`](crate::Client::stream_for)), or after an
/// error. A stream cut off mid-frame, a garbage frame, or an error the agent appended after
/// streaming started is an `Err` item, then the end. Dropping it closes the connection.
pub struct LogStream {
    reader: BodyReader,
    decoder: LogDecoder,
    buf: Vec<u8>,
    stop: StopHandle,
    deadline: Option<Instant>,
    /// Whether the stream was asked for JSON lines (`None`: unknown, made with `new`).
    log_json: Option<bool>,
    lines: u64,
    trace: StreamTrace,
    at_eof: bool,
    done: bool,
}

impl std::fmt::Debug for LogStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream")
            .field("decoder", &self.decoder)
            .field("deadline", &self.deadline)
            .field("lines", &self.lines)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl LogStream {
    /// Wraps a 200 response body.
    #[must_use]
    pub fn new(reader: BodyReader, decoder: LogDecoder) -> Self {
        LogStream {
            reader,
            decoder,
            buf: vec![0; READ_CHUNK],
            stop: StopHandle::default(),
            deadline: None,
            log_json: None,
            lines: 0,
            trace: StreamTrace::none(),
            at_eof: false,
            done: false,
        }
    }

    /// A stream that has ended already, with no line: its deadline passed before the agent
    /// answered.
    pub(crate) fn ended(decoder: LogDecoder) -> Self {
        let mut stream = LogStream::new(Box::new(std::io::empty()), decoder);
        stream.done = true;
        stream
    }

    pub(crate) fn with_deadline(mut self, deadline: Option<Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    pub(crate) fn with_log_json(mut self, json: bool) -> Self {
        self.log_json = Some(json);
        self
    }

    pub(crate) fn with_trace(mut self, trace: StreamTrace) -> Self {
        self.trace = trace;
        if self.done {
            self.finish(End::Deadline, None);
        }
        self
    }

    /// A handle that stops this stream from another thread.
    #[must_use]
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The decoder (frame and heartbeat counters, bytes received).
    pub fn decoder(&self) -> &LogDecoder {
        &self.decoder
    }

    /// The deadline the stream ends at, if it was opened with one
    /// ([`Client::stream_until`](crate::Client::stream_until)).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// How many lines the stream has yielded so far.
    pub fn line_count(&self) -> u64 {
        self.lines
    }

    /// The lines parsed as hclog JSON records, for streams requested with `log_json(true)`.
    ///
    /// On a stream opened without it (whose lines are text), the first item is
    /// [`Error::NotJson`], and the iterator ends there: nothing is read.
    pub fn records(self) -> impl Iterator<Item = Result<LogRecord, Error>> {
        let not_json = self.log_json == Some(false);
        let mut stream = Some(self);
        let mut said = false;
        std::iter::from_fn(move || {
            if not_json {
                if said {
                    return None;
                }
                said = true;
                drop(stream.take());
                return Some(Err(Error::NotJson));
            }
            let line = stream.as_mut()?.next()?;
            Some(line.and_then(|l| l.record().map_err(Error::from)))
        })
    }

    /// Calls `f` with each line until the stream ends or `f` returns
    /// [`ControlFlow::Break`]. The lines are borrowed from the decoder, so this saves the
    /// `String` the iterator allocates for every line: use it when you filter, count or
    /// forward lines and keep few of them ([`LogLineRef::into_owned`] makes a [`LogLine`]).
    ///
    /// It returns `Ok(())` when the stream ends (as the iterator would return `None`: the agent
    /// closed it, [`StopHandle::stop`] was called, or its deadline passed) or when `f` breaks.
    /// After a break, the stream goes on where it stopped, with this method or the iterator. An
    /// error ends the stream, as an `Err` item ends the iterator.
    ///
    /// ```no_run
    /// use std::ops::ControlFlow;
    /// use nomad_blocking::proto::agent::Monitor;
    ///
    /// let client = nomad_blocking::Client::from_env()?;
    /// let mut errors = 0;
    /// client.agent().monitor(&Monitor::new())?.for_each_line(|line| {
    ///     if line.text.contains("[ERROR]") {
    ///         errors += 1;
    ///         println!("{}", line.text);
    ///     }
    ///     ControlFlow::Continue(())
    /// })?;
    /// println!("{errors} errors");
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The errors the iterator yields: a stream error (a garbage frame, a stream cut off
    /// mid-frame, an error the agent appended) or a transport error.
    pub fn for_each_line<F>(&mut self, mut f: F) -> Result<(), Error>
    where
        F: FnMut(LogLineRef<'_>) -> ControlFlow<()>,
    {
        loop {
            if self.done {
                return Ok(());
            }
            loop {
                match self.decoder.next_line_ref() {
                    Ok(Some(line)) => {
                        self.lines += 1;
                        if f(line).is_break() {
                            return Ok(());
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return Err(self.failed(Error::from(e))),
                }
            }
            if self.at_eof {
                match self.decoder.finish() {
                    Ok(Some(line)) => {
                        self.lines += 1;
                        if f(line.as_line_ref()).is_break() {
                            return Ok(());
                        }
                        continue;
                    }
                    Ok(None) => {
                        self.finish(End::Closed, None);
                        return Ok(());
                    }
                    Err(e) => return Err(self.failed(Error::from(e))),
                }
            }
            if let Err(e) = self.read_more() {
                return Err(self.failed(e));
            }
        }
    }

    /// Reads the next piece of the body into the decoder. Sets `at_eof` at the end, and ends
    /// the stream if it was stopped or its deadline passed.
    fn read_more(&mut self) -> Result<(), Error> {
        if self.stop.is_stopped() {
            self.finish(End::Stopped, None);
            return Ok(());
        }
        if self.deadline_passed() {
            self.finish(End::Deadline, None);
            return Ok(());
        }
        match self.reader.read(&mut self.buf) {
            Ok(0) => self.at_eof = true,
            Ok(n) => self.decoder.push(&self.buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                if self.stop.is_stopped() {
                    self.finish(End::Stopped, None);
                    return Ok(());
                }
                let error = TransportError::from_io(e);
                // The transport bounded the request by the deadline: that timeout is the end.
                if matches!(error.kind(), TransportErrorKind::Timeout(_)) && self.deadline_passed() {
                    self.finish(End::Deadline, None);
                    return Ok(());
                }
                return Err(Error::Transport(error));
            }
        }
        Ok(())
    }

    fn deadline_passed(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Marks the stream done and logs why.
    fn finish(&mut self, why: End, error: Option<&Error>) {
        self.done = true;
        self.trace.end(why, self.lines, self.decoder.bytes_pushed(), error);
    }

    /// Ends the stream with `error`, and hands it back.
    fn failed(&mut self, error: Error) -> Error {
        self.finish(End::Failed, Some(&error));
        error
    }

    fn fail(&mut self, error: Error) -> Option<Result<LogLine, Error>> {
        Some(Err(self.failed(error)))
    }
}

impl Drop for LogStream {
    fn drop(&mut self) {
        if !self.done {
            self.trace
                .end(End::Dropped, self.lines, self.decoder.bytes_pushed(), None);
        }
    }
}

impl Iterator for LogStream {
    type Item = Result<LogLine, Error>;

    // The same steps as `for_each_line`, written out: going through its closure for every
    // line costs ~18 % of the iterator's throughput (bench decode).
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            match self.decoder.next_line() {
                Ok(Some(line)) => {
                    self.lines += 1;
                    return Some(Ok(line));
                }
                Ok(None) => {}
                Err(e) => return self.fail(Error::from(e)),
            }
            if self.at_eof {
                return match self.decoder.finish() {
                    Ok(Some(line)) => {
                        self.lines += 1;
                        Some(Ok(line))
                    }
                    Ok(None) => {
                        self.finish(End::Closed, None);
                        None
                    }
                    Err(e) => self.fail(Error::from(e)),
                };
            }
            if let Err(e) = self.read_more() {
                return self.fail(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use nomad_proto::stream::{StreamError, StreamFormat};
    use nomad_proto::ResponseError;

    /// Reads `body` at most `piece` bytes at a time.
    struct Trickle(std::io::Cursor<Vec<u8>>, usize);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    fn stream(body: &[u8], format: StreamFormat, piece: usize) -> LogStream {
        LogStream::new(
            Box::new(Trickle(std::io::Cursor::new(body.to_vec()), piece)),
            LogDecoder::new(format),
        )
    }

    /// "one\ntwo\n", "thr", "ee\nlast" in monitor frames, with a heartbeat.
    const FRAMED: &[u8] = br#"{"Data":"b25lCnR3bwo=","FileEvent":"log"}{}{"Data":"dGhy","FileEvent":"log"}{"Data":"ZWUKbGFzdA==","FileEvent":"log"}"#;

    #[test]
    fn for_each_line_sees_the_lines_the_iterator_yields() {
        for (body, format) in [
            (FRAMED, StreamFormat::Framed),
            (&b"a\r\nb\n\nc"[..], StreamFormat::Plain),
        ] {
            for piece in [1, 3, 16 * 1024] {
                let owned: Vec<LogLine> = stream(body, format, piece).map(Result::unwrap).collect();
                let mut borrowed = Vec::new();
                stream(body, format, piece)
                    .for_each_line(|line| {
                        borrowed.push(line.into_owned());
                        ControlFlow::Continue(())
                    })
                    .unwrap();
                assert_eq!(borrowed, owned, "{format:?} in {piece}-byte reads");
                assert!(owned.len() >= 4);
            }
        }
    }

    #[test]
    fn for_each_line_stops_on_break_and_the_stream_goes_on() {
        let mut s = stream(FRAMED, StreamFormat::Framed, 7);
        let mut seen = Vec::new();
        s.for_each_line(|line| {
            seen.push(line.text.into_owned());
            if seen.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
        assert_eq!(seen, ["one", "two"]);
        assert_eq!(s.next().unwrap().unwrap().text, "three");
        s.for_each_line(|line| {
            seen.push(line.text.into_owned());
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(seen, ["one", "two", "last"]);
        assert!(s.next().is_none());
        // A finished stream calls `f` no more.
        s.for_each_line(|_| panic!("no more lines")).unwrap();
    }

    #[test]
    fn for_each_line_returns_a_stream_error_after_the_lines_before_it() {
        let body = [FRAMED, b"rpc error: permission denied"].concat();
        let mut s = stream(&body, StreamFormat::Framed, 5);
        let mut seen = Vec::new();
        let err = s
            .for_each_line(|line| {
                seen.push(line.text.into_owned());
                ControlFlow::Continue(())
            })
            .unwrap_err();
        // "last" is not a complete line: the agent's text came instead of its end.
        assert_eq!(seen, ["one", "two", "three"]);
        let Error::Response(ResponseError::Stream(StreamError::TrailingText { snippet })) = &err else {
            panic!("{err:?}");
        };
        assert!(snippet.contains("permission denied"), "{snippet}");
        assert!(s.next().is_none());
    }

    #[test]
    fn a_passed_deadline_ends_the_stream_before_its_next_read() {
        // A transport that ignores the `Deadline` extension (here: a body in memory) still
        // sees the stream end at the first read after the deadline.
        let past = Instant::now();
        let mut s = stream(FRAMED, StreamFormat::Framed, 4).with_deadline(Some(past));
        assert!(s.next().is_none());
        assert_eq!(s.line_count(), 0);

        let future = Instant::now() + Duration::from_secs(60);
        let s = stream(FRAMED, StreamFormat::Framed, 4).with_deadline(Some(future));
        assert_eq!(s.map(Result::unwrap).count(), 4, "a deadline to come changes nothing");
    }

    #[test]
    fn line_count_counts_the_lines_yielded_either_way() {
        let mut s = stream(FRAMED, StreamFormat::Framed, 3);
        s.next().unwrap().unwrap();
        s.for_each_line(|_| ControlFlow::Continue(())).unwrap();
        assert_eq!(s.line_count(), 4);

        // The iterator alone, the last line ("last", no newline) included.
        let mut s = stream(FRAMED, StreamFormat::Framed, 3);
        let mut counts = Vec::new();
        while let Some(line) = s.next() {
            line.unwrap();
            counts.push(s.line_count());
        }
        assert_eq!(counts, [1, 2, 3, 4]);
    }

    /// A read interrupted by a signal (`EINTR`) is retried, as `std::io::Read` users expect:
    /// no line is lost and no error surfaces.
    #[test]
    fn an_interrupted_read_is_retried() {
        struct Interrupting(Trickle, bool);
        impl Read for Interrupting {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.1 = !self.1;
                if self.1 {
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
                self.0.read(buf)
            }
        }
        let body = Trickle(std::io::Cursor::new(FRAMED.to_vec()), 5);
        let s = LogStream::new(
            Box::new(Interrupting(body, false)),
            LogDecoder::new(StreamFormat::Framed),
        );
        let lines: Vec<String> = s.map(|line| line.unwrap().text).collect();
        assert_eq!(lines, ["one", "two", "three", "last"]);
    }

    /// `Debug` says where the stream is (lines so far, done), for a user's logs.
    #[test]
    fn debug_shows_the_progress() {
        let mut s = stream(FRAMED, StreamFormat::Framed, 64);
        s.next().unwrap().unwrap();
        let shown = format!("{s:?}");
        assert!(shown.starts_with("LogStream {"), "{shown}");
        assert!(shown.contains("lines: 1,") && shown.contains("done: false"), "{shown}");
        assert!(shown.contains("LogDecoder"), "{shown}");
    }

    #[test]
    fn for_each_line_ends_when_stopped() {
        let mut s = stream(FRAMED, StreamFormat::Framed, 4);
        let stop = s.stop_handle();
        let mut seen = 0;
        s.for_each_line(|_| {
            seen += 1;
            stop.stop();
            ControlFlow::Continue(())
        })
        .unwrap();
        // The lines already decoded are still delivered; no more reads happen.
        assert!((1..4).contains(&seen), "{seen}");
        assert!(s.next().is_none());
    }
}
