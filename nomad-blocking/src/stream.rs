//! Live log streams as iterators.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nomad_proto::agent::LogStreamRequest;
use nomad_proto::stream::{LogDecoder, LogLine, LogRecord};
use nomad_proto::ResponseError;

use crate::error::{Error, TransportError, TransportErrorKind};
use crate::transport::BodyReader;
use crate::{Client, Transport};

/// How much of an error body is read before a stream is refused.
pub(crate) const ERROR_BODY_LIMIT: u64 = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// Stops a [`LogStream`] from another thread. The stream notices before its next read, which
/// comes at the latest with the agent's next heartbeat (about a second on framed streams).
#[derive(Clone, Debug, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the stream to end; its iterator then returns `None`.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Release);
    }
    /// True once [`StopHandle::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A live log stream: an iterator of log lines that holds constant memory however long the agent
/// streams.
///
/// It ends (`None`) when the agent closes the stream, when [`StopHandle::stop`] is called, or
/// after an error. A stream cut off mid-frame, a garbage frame, or an error the agent appended
/// after streaming started is an `Err` item, then the end. Dropping it closes the connection.
pub struct LogStream {
    reader: BodyReader,
    decoder: LogDecoder,
    buf: Vec<u8>,
    stop: StopHandle,
    at_eof: bool,
    done: bool,
}

impl std::fmt::Debug for LogStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogStream")
            .field("decoder", &self.decoder)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl LogStream {
    /// Wraps a 200 response body.
    pub fn new(reader: BodyReader, decoder: LogDecoder) -> Self {
        LogStream {
            reader,
            decoder,
            buf: vec![0; READ_CHUNK],
            stop: StopHandle::default(),
            at_eof: false,
            done: false,
        }
    }

    /// A handle that stops this stream from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The decoder (frame and heartbeat counters).
    pub fn decoder(&self) -> &LogDecoder {
        &self.decoder
    }

    /// The lines parsed as hclog JSON records (for streams requested with `log_json`).
    pub fn records(self) -> impl Iterator<Item = Result<LogRecord, Error>> {
        self.map(|line| line.and_then(|l| l.record().map_err(|e| Error::Response(ResponseError::Stream(e)))))
    }

    fn fail(&mut self, error: Error) -> Option<Result<LogLine, Error>> {
        self.done = true;
        Some(Err(error))
    }
}

impl Iterator for LogStream {
    type Item = Result<LogLine, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            match self.decoder.next_line() {
                Ok(Some(line)) => return Some(Ok(line)),
                Ok(None) => {}
                Err(e) => return self.fail(Error::Response(ResponseError::Stream(e))),
            }
            if self.at_eof {
                return match self.decoder.finish() {
                    Ok(Some(line)) => Some(Ok(line)),
                    Ok(None) => {
                        self.done = true;
                        None
                    }
                    Err(e) => self.fail(Error::Response(ResponseError::Stream(e))),
                };
            }
            if self.stop.is_stopped() {
                self.done = true;
                return None;
            }
            match self.reader.read(&mut self.buf) {
                Ok(0) => self.at_eof = true,
                Ok(n) => self.decoder.push(&self.buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    if self.stop.is_stopped() {
                        self.done = true;
                        return None;
                    }
                    return self.fail(Error::Transport(io_to_transport(e)));
                }
            }
        }
    }
}

/// Recovers the [`TransportError`] a transport's reader carried, or classifies the I/O error.
pub(crate) fn io_to_transport(e: std::io::Error) -> TransportError {
    let kind = e.kind();
    match e.into_inner() {
        Some(inner) => match inner.downcast::<TransportError>() {
            Ok(t) => *t,
            Err(other) => TransportError::new(io_kind(kind), other),
        },
        None => TransportError::from_kind(io_kind(kind)),
    }
}

fn io_kind(kind: std::io::ErrorKind) -> TransportErrorKind {
    use std::io::ErrorKind as K;
    match kind {
        K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout(crate::TimeoutKind::Read),
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::InvalidData => {
            TransportErrorKind::Protocol
        }
        other => TransportErrorKind::Io(other),
    }
}

/// Reads at most `limit` bytes of a body (for error messages).
pub(crate) fn read_bounded(reader: &mut BodyReader, limit: u64) -> Vec<u8> {
    let mut body = Vec::new();
    let _ = reader.take(limit).read_to_end(&mut body);
    body
}

impl<T: Transport> Client<T> {
    /// Opens a log stream for any [`LogStreamRequest`] ([`nomad_proto::agent::Monitor`],
    /// [`nomad_proto::agent::MonitorExport`]).
    pub fn stream<R: LogStreamRequest>(&self, op: &R) -> Result<LogStream, Error> {
        let request = op.to_request(self.config())?;
        let response = self.transport().send_streaming(request)?;
        let (parts, mut body) = response.into_parts();
        if parts.status != nomad_proto::http::StatusCode::OK {
            let start = read_bounded(&mut body, ERROR_BODY_LIMIT);
            op.check_status(parts.status, &start)?;
        }
        Ok(LogStream::new(body, op.decoder()))
    }
}

impl<T: Transport> crate::Agent<'_, T> {
    /// `GET /v1/agent/monitor` (ACL `agent:read`): the agent's logs, live, as an iterator of
    /// lines. Go: `Agent().Monitor()`; the `nomad monitor` command.
    ///
    /// ```no_run
    /// use nomad_blocking::proto::agent::Monitor;
    /// use nomad_blocking::proto::stream::LogLevel;
    ///
    /// let client = nomad_blocking::Client::from_env()?;
    /// for line in client.agent().monitor(&Monitor::new().log_level(LogLevel::Debug))? {
    ///     println!("{}", line?.text);
    /// }
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    pub fn monitor(&self, op: &nomad_proto::agent::Monitor) -> Result<LogStream, Error> {
        self.client.stream(op)
    }

    /// `GET /v1/agent/monitor/export` (ACL `agent:read`): historic logs from the agent's log
    /// file or journal; ends at the end unless `follow` is set.
    pub fn monitor_export(&self, op: &nomad_proto::agent::MonitorExport) -> Result<LogStream, Error> {
        self.client.stream(op)
    }
}
