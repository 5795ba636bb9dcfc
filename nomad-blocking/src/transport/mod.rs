//! Transports: the [`Transport`] trait, its blanket implementation for closures, the settings
//! of the default transport, the [`Deadline`] request extension, and the ureq-backed
//! [`UreqTransport`].
//!
//! - `ureq.rs`: [`UreqTransport`]: ureq's agent with the settings, the connector chain, the
//!   resolver, the proxy policy, streamed bodies;
//! - `tls.rs` (feature `tls`): the connector step that wraps connections in rustls sessions
//!   made from [`crate::tls`]'s configuration (which reads the TLS files and PEMs);
//! - `classify.rs`: ureq, I/O and rustls errors as [`TransportError`](crate::TransportError)s;
//! - `unix.rs`: `unix://` addresses (the Task API socket).

mod classify;
#[cfg(feature = "tls")]
mod tls;
mod unix;
mod ureq;

use std::io::Read;
use std::time::{Duration, Instant};

use nomad_proto::http::{Request, Response};

use crate::error::TransportError;

pub use self::ureq::UreqTransport;

/// A streaming response body.
pub type BodyReader = Box<dyn Read + Send + 'static>;

/// A request extension: the moment a streamed answer must end by ([`Client::stream_until`]
/// sets it). A transport that honours it bounds the request's total time by it (the ureq
/// transport makes it the call's overall timeout, and keeps the connect timeout just short of
/// it), so that a quiet stream cannot block a read past it; the
/// [`LogStream`](crate::LogStream) then ends cleanly.
/// A transport that ignores it still sees its stream end at the first read after the deadline.
///
/// [`Client::stream_until`]: crate::Client::stream_until
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// The deadline `at`.
    #[must_use]
    pub fn at(at: Instant) -> Self {
        Deadline(at)
    }

    /// When it is.
    #[must_use]
    pub fn instant(&self) -> Instant {
        self.0
    }

    /// The time left until it (zero once it passed).
    #[must_use]
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }
}

/// Moves a request to the agent and its response back. 4xx/5xx answers are responses, not
/// errors: nomad-proto decides what they mean.
///
/// Any `Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, E>` closure is a transport, which
/// makes tests cheap:
///
/// ```
/// use nomad_blocking::{Client, Config};
/// use nomad_blocking::http::Response;
///
/// let client = Client::with_transport(Config::default(), |req: nomad_blocking::http::Request<Vec<u8>>| {
///     assert_eq!(req.uri().path(), "/v1/agent/servers");
///     Response::builder().status(200).body(br#"["10.0.0.1:4647"]"#.to_vec())
/// });
/// assert_eq!(client.agent().servers()?, ["10.0.0.1:4647"]);
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
pub trait Transport {
    /// Sends `request` and reads the whole response body.
    ///
    /// # Errors
    ///
    /// A [`TransportError`] when the request gets no complete answer (4xx/5xx answers are
    /// responses, not errors).
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;

    /// Sends `request` and returns the body as a reader, for streams and large downloads. The
    /// default reads the whole body with [`Transport::send`].
    ///
    /// # Errors
    ///
    /// As [`Transport::send`], for the part of the answer read before the body is handed over.
    fn send_streaming(&self, request: Request<Vec<u8>>) -> Result<Response<BodyReader>, TransportError> {
        let response = self.send(request)?;
        Ok(response.map(|body| Box::new(std::io::Cursor::new(body)) as BodyReader))
    }
}

impl<F, E> Transport for F
where
    F: Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self(request).map_err(TransportError::other)
    }
}

/// Whether and how to use an HTTP proxy.
///
/// **The default is [`ProxyPolicy::Direct`]: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and
/// `NO_PROXY` in the environment are ignored** unless you opt in with
/// [`ProxyPolicy::FromEnv`]. Nomad agents normally sit on a private network, and a proxy picked
/// up by surprise would see every request, including the `X-Nomad-Token` header of a plain-http
/// agent. (This differs from the `nomad` CLI, whose Go HTTP client honours the proxy variables.)
///
/// HTTP proxies are used with `CONNECT` (for `http://` agents too), so the proxy sees the target
/// `host:port` (the address's, also with a TLS server name) but not the requests inside an
/// `https://` tunnel. Unix-socket addresses never use a proxy. With an `https://` proxy, the
/// connection to the proxy is TLS too (trusting the same roots), and the agent's TLS session
/// runs inside it.
///
/// ```
/// use nomad_blocking::{Client, ProxyPolicy};
///
/// let client = Client::builder()
///     .address("https://nomad.internal:4646")
///     .proxy(ProxyPolicy::Url("http://proxy.internal:3128".into()))
///     .build()?;
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyPolicy {
    /// Connect directly, whatever the environment says (the default).
    #[default]
    Direct,
    /// Honour `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (upper- or lowercase),
    /// read once when the client is built. With none of them set, connect directly.
    FromEnv,
    /// Use this proxy: `http://[user:password@]host:port`, or `socks5://…` (only with ureq's
    /// `socks-proxy` feature enabled in your build).
    Url(String),
}

impl std::fmt::Debug for ProxyPolicy {
    /// Never shows proxy credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyPolicy::Direct => f.write_str("Direct"),
            ProxyPolicy::FromEnv => f.write_str("FromEnv"),
            ProxyPolicy::Url(url) => f
                .debug_tuple("Url")
                .field(&nomad_proto::config::redact_userinfo(url))
                .finish(),
        }
    }
}

/// Transport settings: timeouts, body limit, proxy, pool.
///
/// | setting | default | error when it fires |
/// |---|---|---|
/// | [`connect_timeout`](Self::connect_timeout): TCP or Unix connect, plus the TLS handshake | 10 s | [`TimeoutKind::Connect`](crate::TimeoutKind::Connect) |
/// | [`call_timeout`](Self::call_timeout): the whole call, from resolving the host to the last body byte | 60 s | [`TimeoutKind::Call`](crate::TimeoutKind::Call) |
/// | [`read_timeout`](Self::read_timeout): the wait for each read of the response | 30 s | [`TimeoutKind::Read`](crate::TimeoutKind::Read) |
///
/// `None` turns a timeout off. [`Error::is_timeout`](crate::Error::is_timeout) is true for all
/// of them. Log streams read with `send_streaming` ([`StreamingResponse`](nomad_proto::StreamingResponse)) have no call timeout,
/// only the read timeout (the agent sends a heartbeat every second); `plain=true` streams have no
/// heartbeats and so no read timeout either. A streaming operation run through the buffered
/// `send` keeps every timeout. Calls that announce an [`ExpectedDuration`](nomad_proto::ExpectedDuration) (a CPU profile) get that
/// much more time for the call and for the read that waits for the answer.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportSettings {
    /// Time allowed to establish a connection: TCP (or Unix socket) connect and TLS handshake.
    /// Default 10 s, as the Go client's TLS handshake timeout.
    pub connect_timeout: Option<Duration>,
    /// Time allowed for one whole call, from connect to the last body byte. Default 60 s. Not
    /// applied to log streams; extended by a pprof call's `seconds`.
    pub call_timeout: Option<Duration>,
    /// Time allowed between two reads of the response. Default 30 s (framed log streams send a
    /// heartbeat every second; plain ones are exempt).
    pub read_timeout: Option<Duration>,
    /// Largest response body read into memory. Default 32 MiB. Streams are not limited.
    pub body_limit: u64,
    /// Proxy policy. Default [`ProxyPolicy::Direct`] (proxy variables are ignored).
    pub proxy: ProxyPolicy,
    /// Idle connections kept per host. Default 3.
    pub max_idle_per_host: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Ask for gzip (`Accept-Encoding: gzip`, as the Go client does). Default on: the agent then
    /// compresses every answer, which saves bandwidth on large answers (`self`, `host`, profiles,
    /// log streams) but costs CPU on small ones (about a third of a `members()` call on
    /// loopback; see BENCHMARKS.md). Without the crate's `gzip` feature (on by default) the client
    /// asks for no compression whatever this says.
    pub gzip: bool,
    /// The roots trusted when no CA is configured (no `NOMAD_CACERT`, `NOMAD_CAPATH` or CA
    /// PEM): the system's (the default, as the `nomad` CLI) or Mozilla's compiled-in list.
    /// Feature `tls`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub root_certificates: crate::tls::RootCertificates,
}

impl Default for TransportSettings {
    fn default() -> Self {
        TransportSettings {
            connect_timeout: Some(Duration::from_secs(10)),
            call_timeout: Some(Duration::from_secs(60)),
            read_timeout: Some(Duration::from_secs(30)),
            body_limit: 32 * 1024 * 1024,
            proxy: ProxyPolicy::Direct,
            max_idle_per_host: 3,
            user_agent: concat!("nomad-blocking/", env!("CARGO_PKG_VERSION")).to_owned(),
            gzip: true,
            #[cfg(feature = "tls")]
            root_certificates: crate::tls::RootCertificates::System,
        }
    }
}
