//! A small async transport for nomad-proto: tokio, hyper 1 (HTTP/1.1) and tokio-rustls. Copy this
//! file into an async service; it depends on nothing of this example's `main.rs`.
//!
//! - [`AsyncClient::call`] runs any [`Endpoint`] (every operation of `nomad_proto::agent`, a
//!   `Raw` call, an endpoint of your own): it builds the request, sends it, buffers the answer up
//!   to a size limit and parses it.
//! - [`AsyncClient::stream`] opens a log stream (`Monitor`, `MonitorExport`), checks its status
//!   and decodes the body with [`LogDecoder`] as it arrives ([`LogStream::for_each_line`]).
//! - `https://` addresses trust exactly what the blocking client trusts: the rustls
//!   `ClientConfig` and server name come from `nomad_blocking::tls` (the CA file, directory or
//!   PEM, the client certificate, `NOMAD_TLS_SERVER_NAME`, `NOMAD_SKIP_VERIFY`).
//! - `unix://` addresses (the Task API socket) connect with `tokio::net::UnixStream`.
//! - Errors are typed: [`Error::Build`] (nothing was sent), [`Error::Transport`] (no answer),
//!   [`Error::Response`] (the agent's answer is not what the operation expects),
//!   [`Error::Stream`] (a log stream broke), [`Error::Tls`] (the TLS settings are unusable).
//!
//! What it leaves out, compared with nomad-blocking's client: a connection pool (each call opens
//! its own connection: fine for a few calls a second, use one connection per call or add a pool
//! for more), gzip (it sends no `Accept-Encoding`, so the agent answers uncompressed), proxies
//! (`HTTPS_PROXY` is not read) and retries.

use std::fmt;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes, Incoming};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use nomad_blocking::tls::{self as nomad_tls, RootCertificates};
use nomad_proto::agent::LogStreamRequest;
use nomad_proto::http::header::{HeaderValue, HOST};
use nomad_proto::http::{Request, Response, StatusCode, Uri};
use nomad_proto::stream::{LogDecoder, LogLine, StreamError};
use nomad_proto::{BuildError, Config, Endpoint, ExpectedDuration, ResponseError, StreamingResponse};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

/// How much of an error answer's body a log stream reads for the error message.
const ERROR_BODY_START: usize = 64 * 1024;

/// Why a call failed. `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The TLS settings cannot be used (a CA file that cannot be read, a key that does not
    /// match its certificate, …). Raised when the client is made, before any connection.
    #[error("TLS setup: {0}")]
    Tls(nomad_blocking::SetupError),
    /// The request could not be built; nothing was sent.
    #[error("cannot build the request: {0}")]
    Build(#[from] BuildError),
    /// No answer: connecting, the TLS handshake, sending or reading failed or timed out.
    #[error("{0}")]
    Transport(#[from] TransportError),
    /// The agent answered, but not with what the operation expects (a 403, a 500, a body that
    /// does not decode, …): the same errors as the blocking client's `Error::Response`.
    #[error("{0}")]
    Response(#[from] ResponseError),
    /// A log stream broke (cut off mid-frame, a garbage frame, an error the agent appended).
    #[error("{0}")]
    Stream(#[from] StreamError),
}

/// A transport failure. Each message names its cause once (none has a `source()`).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The TCP or Unix-socket connect failed.
    #[error("cannot connect to {address}: {error}")]
    Connect { address: String, error: std::io::Error },
    /// The TLS handshake failed (an untrusted certificate, a name mismatch, a refused client
    /// certificate, a plain-HTTP agent behind an `https://` address, …).
    #[error("TLS handshake with {address} failed: {error}")]
    Handshake { address: String, error: std::io::Error },
    /// Connecting (TCP or Unix connect and TLS handshake) took longer than the connect timeout.
    #[error("connecting to {address} timed out after {after:?}")]
    ConnectTimeout { address: String, after: Duration },
    /// The whole call took longer than its timeout.
    #[error("the call timed out after {0:?}")]
    CallTimeout(Duration),
    /// A log stream sent nothing, not even a heartbeat, for this long.
    #[error("the log stream sent nothing for {0:?}")]
    ReadTimeout(Duration),
    /// HTTP/1.1 failed: the connection closed early, a malformed answer, a TLS alert from the
    /// agent (with TLS 1.3 an agent that refuses the client certificate says so only after the
    /// handshake, at the first read), …
    #[error("HTTP: {}", with_causes(.0))]
    Http(hyper::Error),
    /// The answer's body is larger than the client's body limit.
    #[error("the answer is larger than the {limit}-byte limit")]
    BodyTooLarge { limit: usize },
    /// The address has no host to connect to (cannot happen with a `Config`'s address).
    #[error("the address {0} has no host to connect to")]
    NoHost(String),
}

/// An error's message followed by its causes' (hyper's own message is generic, such as
/// `connection error`; the cause, e.g. a TLS alert, says what happened).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(&format!(": {e}"));
        cause = e.source();
    }
    text
}

/// The TLS session each connection opens: the rustls configuration and the name to verify.
#[derive(Clone)]
struct Tls {
    connector: TlsConnector,
    server_name: ServerName<'static>,
}

/// An async client for a Nomad agent: a [`Config`] (from `NOMAD_*` or built), its TLS session
/// settings, timeouts and a body limit. Cheap to clone; share one per agent.
#[derive(Clone)]
pub struct AsyncClient {
    config: Config,
    tls: Option<Tls>,
    /// Connect (TCP or Unix) plus the TLS handshake. The blocking client's default: 10 s.
    pub connect_timeout: Duration,
    /// A whole buffered call, connect included (extended by a profile's `seconds`). For a log
    /// stream, until its status line and headers. The blocking client's default: 60 s.
    pub call_timeout: Duration,
    /// A log stream with heartbeats that sends nothing for this long has failed (the agent
    /// sends a `{}` frame every second). `plain=true` streams have none: no timeout. 30 s.
    pub read_timeout: Duration,
    /// The largest buffered answer. The blocking client's default: 32 MiB.
    pub body_limit: usize,
}

impl fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Config`'s Debug redacts the token and the basic-auth password.
        f.debug_struct("AsyncClient")
            .field("config", &self.config)
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl AsyncClient {
    /// A client for `config`. For an `https://` address, reads the TLS files now (as the
    /// blocking client does when it is built), with the system's roots when no CA is set.
    pub fn new(config: Config) -> Result<Self, Error> {
        let tls = if config.address().is_tls() {
            let client_config = nomad_tls::client_config(&config, RootCertificates::System).map_err(Error::Tls)?;
            let server_name = nomad_tls::server_name(&config).map_err(Error::Tls)?;
            Some(Tls {
                connector: TlsConnector::from(client_config),
                server_name,
            })
        } else {
            None
        };
        Ok(AsyncClient {
            config,
            tls,
            connect_timeout: Duration::from_secs(10),
            call_timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(30),
            body_limit: 32 * 1024 * 1024,
        })
    }

    /// The settings the client was made with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Runs `op`: builds its request, sends it, reads the whole answer (up to
    /// [`body_limit`](Self::body_limit)) and parses it with `op.parse_response`. Not for log
    /// streams, whose answer lasts as long as the stream: see [`AsyncClient::stream`].
    pub async fn call<E: Endpoint + ?Sized>(&self, op: &E) -> Result<E::Output, Error> {
        let request = op.to_request(&self.config)?;
        let expected = request
            .extensions()
            .get::<ExpectedDuration>()
            .map_or(Duration::ZERO, |d| d.0);
        let limit = self.call_timeout + expected;
        let exchange = async {
            let (parts, body) = self.send(request).await?.into_parts();
            let body = read_body(body, self.body_limit).await?;
            Ok::<_, TransportError>(Response::from_parts(parts, body))
        };
        let response = timeout(limit, exchange)
            .await
            .map_err(|_| TransportError::CallTimeout(limit))??;
        Ok(op.parse_response(response)?)
    }

    /// Opens a log stream: sends `op`'s request and checks the answer's status with
    /// `op.check_status` (an error answer's body start goes into the error, as
    /// `parse_response` would give it). The lines come from [`LogStream::for_each_line`].
    pub async fn stream<O: LogStreamRequest + ?Sized>(&self, op: &O) -> Result<LogStream, Error> {
        let request = op.to_request(&self.config)?;
        // Framed streams carry a heartbeat every second; `plain=true` ones may stay silent.
        let heartbeats = request
            .extensions()
            .get::<StreamingResponse>()
            .is_none_or(|s| s.heartbeats);
        let response = timeout(self.call_timeout, self.send(request))
            .await
            .map_err(|_| TransportError::CallTimeout(self.call_timeout))??;
        let (parts, mut body) = response.into_parts();
        if parts.status != StatusCode::OK {
            let start = timeout(self.read_timeout, read_body_start(&mut body, ERROR_BODY_START))
                .await
                .map_err(|_| TransportError::ReadTimeout(self.read_timeout))??;
            op.check_status(parts.status, &start)
                // The log streams accept 200 only; any other status is an error all the same.
                .and_then(|()| nomad_proto::check_ok(parts.status, &start))
                .map_err(|e| e.with_redirect_target(&parts.headers))?;
        }
        Ok(LogStream {
            body,
            decoder: op.decoder(),
            read_timeout: heartbeats.then_some(self.read_timeout),
        })
    }

    /// Connects, sends `request` over HTTP/1.1 and returns the answer with its body unread.
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Incoming>, TransportError> {
        let request = for_the_wire(request)?;
        let io = self.connect().await?;
        let (mut sender, connection) = http1::handshake(TokioIo::new(io)).await.map_err(TransportError::Http)?;
        // The connection runs beside the request; it ends once the answer is read (or dropped)
        // and `sender` is gone. Its errors reach `send_request` and the body reads.
        tokio::spawn(connection);
        sender.send_request(request).await.map_err(TransportError::Http)
    }

    /// A connection to the agent: TCP (inside TLS for `https://`) or a Unix socket.
    async fn connect(&self) -> Result<Box<dyn Io>, TransportError> {
        let address = self.config.address();
        let shown = address.to_string();
        let connecting = async {
            if let Some(path) = address.socket_path() {
                return connect_unix(path, &shown).await;
            }
            let (Some(host), Some(port)) = (address.host(), address.port()) else {
                return Err(TransportError::NoHost(shown.clone()));
            };
            let tcp = tokio::net::TcpStream::connect((host, port))
                .await
                .map_err(|error| TransportError::Connect {
                    address: shown.clone(),
                    error,
                })?;
            // Requests are small and answered at once: send them without Nagle's delay.
            let _ = tcp.set_nodelay(true);
            match &self.tls {
                None => Ok(Box::new(tcp) as Box<dyn Io>),
                Some(tls) => {
                    let stream = tls
                        .connector
                        .connect(tls.server_name.clone(), tcp)
                        .await
                        .map_err(|error| TransportError::Handshake {
                            address: shown.clone(),
                            error,
                        })?;
                    Ok(Box::new(stream) as Box<dyn Io>)
                }
            }
        };
        timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| TransportError::ConnectTimeout {
                address: shown.clone(),
                after: self.connect_timeout,
            })?
    }
}

/// A byte stream hyper can speak HTTP over: a TCP, TLS or Unix connection.
trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

#[cfg(unix)]
async fn connect_unix(path: &std::path::Path, shown: &str) -> Result<Box<dyn Io>, TransportError> {
    let stream = tokio::net::UnixStream::connect(path)
        .await
        .map_err(|error| TransportError::Connect {
            address: shown.to_owned(),
            error,
        })?;
    Ok(Box::new(stream))
}

#[cfg(not(unix))]
async fn connect_unix(_path: &std::path::Path, shown: &str) -> Result<Box<dyn Io>, TransportError> {
    Err(TransportError::Connect {
        address: shown.to_owned(),
        error: std::io::Error::new(std::io::ErrorKind::Unsupported, "Unix sockets need a Unix system"),
    })
}

/// nomad-proto's request as HTTP/1.1 sends it: a `Host` header from the URI's authority (the
/// requests carry none) and the origin-form target (`/v1/agent/members?…`), the body as hyper's.
fn for_the_wire(request: Request<Vec<u8>>) -> Result<Request<Full<Bytes>>, TransportError> {
    let (mut parts, body) = request.into_parts();
    let no_host = || TransportError::NoHost(parts.uri.to_string());
    let authority = parts.uri.authority().ok_or_else(no_host)?;
    let host = HeaderValue::from_str(authority.as_str()).map_err(|_| no_host())?;
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let target = target.parse::<Uri>().map_err(|_| no_host())?;
    parts.headers.insert(HOST, host);
    parts.uri = target;
    Ok(Request::from_parts(parts, Full::new(Bytes::from(body))))
}

/// The whole body, refusing one over `limit` bytes (as soon as its length says so).
async fn read_body(mut body: Incoming, limit: usize) -> Result<Vec<u8>, TransportError> {
    let too_large = || TransportError::BodyTooLarge { limit };
    if body.size_hint().lower() > limit as u64 {
        return Err(too_large());
    }
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(TransportError::Http)?.into_data() {
            if buf.len() + data.len() > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

/// At most the first `max` bytes of the body (an error message), the rest unread.
async fn read_body_start(body: &mut Incoming, max: usize) -> Result<Vec<u8>, TransportError> {
    let mut buf = Vec::new();
    while buf.len() < max {
        let Some(frame) = body.frame().await else { break };
        if let Ok(data) = frame.map_err(TransportError::Http)?.into_data() {
            buf.extend_from_slice(&data[..data.len().min(max - buf.len())]);
        }
    }
    Ok(buf)
}

/// An open log stream: the answer's body and its decoder. Dropping it closes the connection.
pub struct LogStream {
    body: Incoming,
    decoder: LogDecoder,
    read_timeout: Option<Duration>,
}

impl fmt::Debug for LogStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogStream")
            .field("decoder", &self.decoder)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl LogStream {
    /// Calls `f` with each line as the body arrives, until the agent ends the stream. Each
    /// frame of the body is pushed into the decoder and the lines it completes are drained at
    /// once, so memory stays bounded however long the stream lasts. To stop after a while,
    /// wrap the call in `tokio::time::timeout` (the lines already given stay given; the
    /// stream can go on with another call).
    pub async fn for_each_line(&mut self, mut f: impl FnMut(LogLine)) -> Result<(), Error> {
        loop {
            let next = match self.read_timeout {
                Some(after) => timeout(after, self.body.frame())
                    .await
                    .map_err(|_| TransportError::ReadTimeout(after))?,
                None => self.body.frame().await,
            };
            let Some(frame) = next else { break };
            if let Ok(data) = frame.map_err(TransportError::Http)?.into_data() {
                self.decoder.push(&data);
                for line in self.decoder.lines() {
                    f(line?);
                }
            }
        }
        // The end of the body: the last, unterminated line, or a stream cut off mid-frame.
        for line in self.decoder.finish_lines() {
            f(line?);
        }
        Ok(())
    }

    /// The decoder: frames, heartbeats and bytes received so far.
    pub fn decoder(&self) -> &LogDecoder {
        &self.decoder
    }
}
