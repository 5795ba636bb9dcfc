//! Transports: the [`Transport`] trait, its blanket implementation for closures, and the
//! ureq-backed [`UreqTransport`].

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nomad_proto::http::uri::{Authority, Scheme};
use nomad_proto::http::{header, HeaderValue, Request, Response, Uri};
use nomad_proto::{Address, Config, ExpectedDuration, StreamingResponse, TlsSettings};

use crate::error::{SetupError, TimeoutKind, TlsProblem, TransportError, TransportErrorKind};

/// A streaming response body.
pub type BodyReader = Box<dyn Read + Send + 'static>;

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
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;

    /// Sends `request` and returns the body as a reader, for streams and large downloads. The
    /// default reads the whole body with [`Transport::send`].
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
/// `host:port` but not the requests inside an `https://` tunnel. Unix-socket addresses never use a
/// proxy. With [`ProxyPolicy::FromEnv`] or [`ProxyPolicy::Url`] *and* a TLS server name
/// (`NOMAD_TLS_SERVER_NAME`), the `CONNECT` names the server name, which the proxy must be able to
/// resolve.
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
/// | [`connect_timeout`](Self::connect_timeout): TCP or Unix connect, plus the TLS handshake | 10 s | [`TimeoutKind::Connect`] |
/// | [`call_timeout`](Self::call_timeout): the whole call, from resolving the host to the last body byte | 60 s | [`TimeoutKind::Call`] |
/// | [`read_timeout`](Self::read_timeout): the wait for each read of the response | 30 s | [`TimeoutKind::Read`] |
///
/// `None` turns a timeout off. [`Error::is_timeout`](crate::Error::is_timeout) is true for all
/// of them. Log streams read with `send_streaming` ([`StreamingResponse`]) have no call timeout,
/// only the read timeout (the agent sends a heartbeat every second); `plain=true` streams have no
/// heartbeats and so no read timeout either. A streaming operation run through the buffered
/// `send` keeps every timeout. Calls that announce an [`ExpectedDuration`] (a CPU profile) get that
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
    /// loopback; see BENCHMARKS.md). Gzip answers are decoded either way.
    pub gzip: bool,
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
        }
    }
}

/// The default transport: ureq 3 with rustls (ring), connection reuse, gzip, explicit timeouts,
/// a body limit, no redirects followed, and no proxy unless asked for.
///
/// It connects to whatever the `nomad` CLI connects to, configured the same way:
/// - `http://` and `https://` agents; for `https://`, the CA from `NOMAD_CACERT` (a bundle of
///   one or more PEM certificates) and/or `NOMAD_CAPATH` (a directory of PEM files) instead of
///   the built-in Mozilla roots, a client certificate and key for mutual TLS
///   (`NOMAD_CLIENT_CERT`/`NOMAD_CLIENT_KEY`; keys as `EC PRIVATE KEY` (SEC1, as
///   `nomad tls cert create` writes them), `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY`),
///   `NOMAD_SKIP_VERIFY`;
/// - `NOMAD_TLS_SERVER_NAME`: the certificate is verified against this name (and it is sent as
///   SNI) while the connection goes to the address's host and port. Nomad's certificates name
///   `server.<region>.nomad`, so `https://10.0.0.5:4646` + `server.global.nomad` works. (The
///   request URI's host becomes the server name and the resolver maps it back to the address's
///   host; the `Host` header still names the address.)
/// - `unix:///path/to/api.sock` (the Task API socket): requests go over the Unix socket, with
///   the same connect, read and call timeouts.
///
/// TLS is rustls only; there is no native-tls option (ureq's native-tls backend cannot load the
/// `EC PRIVATE KEY` files Nomad generates).
#[derive(Clone, Debug)]
pub struct UreqTransport {
    agent: ureq::Agent,
    settings: Arc<TransportSettings>,
    route: Arc<Route>,
}

/// What the transport knows about where requests go, for rewriting and for errors.
#[derive(Debug)]
struct Route {
    /// The address as errors show it (`https://10.0.0.5:4646`, `unix:///…`; never credentials).
    target: String,
    /// `NOMAD_TLS_SERVER_NAME`: requests for `from` go out with `to` as the URI authority.
    rewrite: Option<Rewrite>,
    /// Whether a client certificate is configured (tells "required" from "rejected").
    client_cert: bool,
}

#[derive(Debug)]
struct Rewrite {
    from: Authority,
    to: Authority,
    host_header: HeaderValue,
}

impl UreqTransport {
    /// A transport for `config`'s address and TLS settings (the TLS files are read and checked
    /// now) with `settings`.
    pub fn new(config: &Config, settings: TransportSettings) -> Result<Self, SetupError> {
        let tls = config.tls();
        let builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(settings.connect_timeout)
            .timeout_global(settings.call_timeout)
            .timeout_per_read(settings.read_timeout)
            .max_idle_connections_per_host(settings.max_idle_per_host)
            .max_idle_connections(settings.max_idle_per_host.saturating_mul(4))
            .user_agent(settings.user_agent.as_str())
            .accept_encoding(if settings.gzip { "gzip" } else { "" });
        let target = config.address().to_string();
        let (agent, rewrite) = match config.address() {
            Address::Unix { path } => (unix_agent(builder, path)?, None),
            Address::Http {
                tls: is_tls, authority, ..
            } => {
                let proxy = proxy(&settings.proxy)?;
                let config = builder.proxy(proxy).tls_config(tls_config(tls)?).build();
                let rewrite = match (&tls.server_name, is_tls) {
                    (Some(name), true) => server_name_rewrite(authority, name)?,
                    _ => None,
                };
                let resolver = ServerNameResolver {
                    name: rewrite.as_ref().map(|rw| rw.to.host().to_owned()),
                    real_host: host_of(authority)?,
                    inner: ureq::unversioned::resolver::DefaultResolver::default(),
                };
                (ureq::Agent::with_parts(config, tcp_connector(), resolver), rewrite)
            }
            other => {
                return Err(SetupError::InvalidSetting {
                    setting: "address",
                    reason: format!("unsupported address `{other}`"),
                })
            }
        };
        Ok(UreqTransport {
            agent,
            settings: Arc::new(settings),
            route: Arc::new(Route {
                target,
                rewrite,
                client_cert: tls.client_cert.is_some(),
            }),
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    /// Sends a request. `streaming` is true when the body will be handed out as a reader
    /// (`send_streaming`); a log stream read that way has no overall timeout, and a plain (no
    /// heartbeat) stream no per-read timeout either. Buffered calls always keep the call timeout,
    /// even for a streaming operation, so `Client::call(&Monitor::new())` cannot block forever.
    fn run(&self, mut request: Request<Vec<u8>>, streaming: bool) -> Result<Response<ureq::Body>, TransportError> {
        if let Some(rw) = &self.route.rewrite {
            rw.apply(&mut request);
        }
        let stream = request
            .extensions()
            .get::<StreamingResponse>()
            .copied()
            .filter(|_| streaming);
        let expected = request.extensions().get::<ExpectedDuration>().map(|d| d.0);
        if stream.is_none() && expected.is_none() {
            return self.agent.run(request).map_err(|e| self.route.error(e));
        }
        let (global, per_read) = match stream {
            Some(s) => (None, self.settings.read_timeout.filter(|_| s.heartbeats)),
            None => {
                let expected = expected.unwrap_or_default();
                // The response only starts once the profile is done: let a read wait that long.
                (
                    self.settings.call_timeout.map(|t| t.saturating_add(expected)),
                    self.settings.read_timeout.map(|r| r.saturating_add(expected)),
                )
            }
        };
        let request = self
            .agent
            .configure_request(request)
            .timeout_global(global)
            .timeout_per_read(per_read)
            .build();
        self.agent.run(request).map_err(|e| self.route.error(e))
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let response = self.run(request, false)?;
        let (parts, body) = response.into_parts();
        let body = body
            .into_with_config()
            .limit(self.settings.body_limit)
            .read_to_vec()
            .map_err(|e| self.route.error(e))?;
        Ok(Response::from_parts(parts, body))
    }

    fn send_streaming(&self, request: Request<Vec<u8>>) -> Result<Response<BodyReader>, TransportError> {
        let response = self.run(request, true)?;
        let route = Arc::clone(&self.route);
        Ok(response.map(|body| Box::new(StreamBody(body.into_reader(), route)) as BodyReader))
    }
}

/// A ureq body reader whose errors carry a [`TransportError`] (so a timeout stays a timeout).
struct StreamBody(ureq::BodyReader<'static>, Arc<Route>);

impl Read for StreamBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            // ureq wraps its own errors in io::Error::other; unwrap them to classify.
            let kind = e.kind();
            let is_ureq = e.get_ref().is_some_and(|inner| inner.is::<ureq::Error>());
            if is_ureq {
                if let Some(Ok(u)) = e.into_inner().map(|inner| inner.downcast::<ureq::Error>()) {
                    return std::io::Error::new(kind, self.1.error(*u));
                }
                return std::io::Error::from(kind);
            }
            std::io::Error::new(kind, self.1.error(ureq::Error::Io(e)))
        })
    }
}

impl Rewrite {
    fn apply(&self, request: &mut Request<Vec<u8>>) {
        let uri = request.uri();
        if uri.scheme() != Some(&Scheme::HTTPS) || uri.authority() != Some(&self.from) {
            return;
        }
        let mut parts = uri.clone().into_parts();
        parts.authority = Some(self.to.clone());
        if let Ok(new) = Uri::from_parts(parts) {
            *request.uri_mut() = new;
            // The certificate name is only for TLS: the Host header still names the address,
            // as with the Go client's TLSServerName.
            request
                .headers_mut()
                .entry(header::HOST)
                .or_insert_with(|| self.host_header.clone());
        }
    }
}

/// The ureq proxy for a policy. SOCKS proxies are refused: ureq supports them only with its
/// `socks-proxy` feature, and without it would panic (explicit proxy) or silently connect
/// directly (from the environment).
fn proxy(policy: &ProxyPolicy) -> Result<Option<ureq::Proxy>, SetupError> {
    let (proxy, setting) = match policy {
        ProxyPolicy::Direct => return Ok(None),
        ProxyPolicy::FromEnv => match ureq::Proxy::try_from_env() {
            Some(p) => (p, "proxy (from ALL_PROXY/HTTPS_PROXY/HTTP_PROXY)"),
            None => return Ok(None),
        },
        ProxyPolicy::Url(url) => (
            ureq::Proxy::new(url).map_err(|e| SetupError::InvalidSetting {
                setting: "proxy",
                reason: e.to_string(),
            })?,
            "proxy",
        ),
    };
    match proxy.protocol() {
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https => Ok(Some(proxy)),
        other => Err(SetupError::InvalidSetting {
            setting,
            reason: format!("{other:?} proxies are not supported; use an http:// or https:// proxy"),
        }),
    }
}

/// ureq's default connector chain without SOCKS (refused above), with TLS handshake failures
/// marked so that they are reported as TLS problems.
fn tcp_connector() -> impl ureq::unversioned::transport::Connector {
    use ureq::unversioned::transport::{ConnectProxyConnector, Connector, RustlsConnector, TcpConnector};
    ().chain(ConnectProxyConnector::default())
        .chain(TcpConnector::default())
        .chain(TlsHandshake(RustlsConnector::default()))
}

/// Wraps the rustls connector: a connection closed or reset during the handshake is a TLS
/// failure (typically a plain-HTTP agent behind an `https://` address), not an HTTP one.
#[derive(Debug)]
struct TlsHandshake(ureq::unversioned::transport::RustlsConnector);

impl<In: ureq::unversioned::transport::Transport> ureq::unversioned::transport::Connector<In> for TlsHandshake {
    type Out = <ureq::unversioned::transport::RustlsConnector as ureq::unversioned::transport::Connector<In>>::Out;

    fn connect(
        &self,
        details: &ureq::unversioned::transport::ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        use std::io::ErrorKind as K;
        let needs_tls = details.needs_tls();
        self.0.connect(details, chained).map_err(|e| match e {
            ureq::Error::Io(io)
                if needs_tls
                    && io.get_ref().is_none()
                    && matches!(io.kind(), K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted) =>
            {
                ureq::Error::Io(std::io::Error::new(io.kind(), HandshakeCut))
            }
            other => other,
        })
    }
}

/// The peer closed the connection in the middle of the TLS handshake.
#[derive(Debug)]
struct HandshakeCut;

impl std::fmt::Display for HandshakeCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the agent closed the connection during the TLS handshake")
    }
}

impl std::error::Error for HandshakeCut {}

/// `NOMAD_TLS_SERVER_NAME` for an `https://` address with `authority`: `None` when the name is
/// the address's host already.
fn server_name_rewrite(authority: &str, name: &str) -> Result<Option<Rewrite>, SetupError> {
    let invalid = |reason: &str| SetupError::InvalidSetting {
        setting: "tls_server_name",
        reason: format!("`{name}` {reason}"),
    };
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    rustls::pki_types::ServerName::try_from(name).map_err(|_| invalid("is not a valid DNS name or IP address"))?;
    let from: Authority = authority.parse().map_err(|_| SetupError::InvalidSetting {
        setting: "address",
        reason: format!("`{authority}` is not a valid host:port"),
    })?;
    let bare_host = from.host().trim_start_matches('[').trim_end_matches(']');
    if bare_host.eq_ignore_ascii_case(name) {
        return Ok(None);
    }
    let host = if name.parse::<std::net::Ipv6Addr>().is_ok() {
        format!("[{name}]")
    } else {
        name.to_ascii_lowercase()
    };
    let to = match from.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    let to: Authority = to.parse().map_err(|_| invalid("cannot be used as a host name"))?;
    let host_header = HeaderValue::from_str(from.as_str()).map_err(|_| SetupError::InvalidSetting {
        setting: "address",
        reason: format!("`{authority}` cannot be sent as a Host header"),
    })?;
    Ok(Some(Rewrite { from, to, host_header }))
}

fn host_of(authority: &str) -> Result<String, SetupError> {
    let parsed: Authority = authority.parse().map_err(|_| SetupError::InvalidSetting {
        setting: "address",
        reason: format!("`{authority}` is not a valid host:port"),
    })?;
    Ok(parsed.host().to_owned())
}

/// Resolves the TLS server name to the address's host (then as usual); every other host as usual.
/// An IP-literal host (the usual `NOMAD_ADDR`) is taken as it is, without a lookup: ureq's
/// `DefaultResolver` (3.5) starts a thread per request to time the lookup out, even for an IP
/// and even when a pooled connection is then reused, and that was most of a small call's cost.
#[derive(Debug)]
struct ServerNameResolver {
    /// The server name as it appears in rewritten URIs (`None`: no server name override).
    name: Option<String>,
    /// The host of the configured address (a name or an IP literal, IPv6 in brackets).
    real_host: String,
    inner: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for ServerNameResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let real: Uri;
        let uri = match uri.host() {
            Some(host) if self.name.as_deref().is_some_and(|n| host.eq_ignore_ascii_case(n)) => {
                let port = uri.port_u16().unwrap_or(443);
                real = format!("https://{}:{port}/", self.real_host)
                    .parse()
                    .map_err(|_| ureq::Error::BadUri(format!("cannot map {host} to {}", self.real_host)))?;
                &real
            }
            _ => uri,
        };
        if let Some(addr) = ip_literal(uri, config) {
            let mut addrs = self.empty();
            addrs.push(addr);
            return Ok(addrs);
        }
        self.inner.resolve(uri, config, timeout)
    }
}

/// The socket address of a URI whose host is an IP literal, if the configured IP family allows
/// it (otherwise the default resolver answers, with the error it always gives).
fn ip_literal(uri: &Uri, config: &ureq::config::Config) -> Option<std::net::SocketAddr> {
    let host = uri.host()?;
    let ip: std::net::IpAddr = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()?;
    let port = uri.port_u16().or_else(|| match uri.scheme_str()? {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    })?;
    config
        .ip_family()
        .keep_wanted(std::iter::once(std::net::SocketAddr::new(ip, port)))
        .next()
}

#[cfg(unix)]
fn unix_agent(
    builder: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
    path: &Path,
) -> Result<ureq::Agent, SetupError> {
    // Never a proxy for a local socket; TLS settings do not apply (the Task API is plain HTTP).
    let config = builder.proxy(None).build();
    Ok(ureq::Agent::with_parts(
        config,
        unix::UnixConnector::new(path),
        unix::LoopbackResolver,
    ))
}

#[cfg(not(unix))]
fn unix_agent(
    _: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
    path: &Path,
) -> Result<ureq::Agent, SetupError> {
    Err(SetupError::InvalidSetting {
        setting: "address",
        reason: format!(
            "unix:// addresses are not supported on this platform ({})",
            path.display()
        ),
    })
}

fn tls_config(tls: &TlsSettings) -> Result<ureq::tls::TlsConfig, SetupError> {
    use ureq::tls::{ClientCert, PrivateKey, RootCerts, TlsConfig};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // The same provider for the checks below and for the connections, so that whatever
    // loads here also works in ureq (which would panic on a key it cannot use).
    let mut builder = TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::clone(&provider));
    let mut roots: Vec<ureq::tls::Certificate<'static>> = Vec::new();
    if let Some(path) = &tls.ca_cert {
        let pem = read_file("CA certificate", path)?;
        let certs = pem_certs(&pem, "CA certificate", path)?;
        if certs.is_empty() {
            return Err(invalid_pem("CA certificate", path, "no CERTIFICATE block found"));
        }
        check_roots(&certs, "CA certificate", path)?;
        roots.extend(certs);
    } else if let Some(dir) = &tls.ca_path {
        // As in the Go client (go-rootcerts), a CA file wins over a CA directory.
        let mut files = Vec::new();
        collect_files(dir, 0, &mut files)?;
        files.sort();
        let before = roots.len();
        for path in &files {
            let pem = read_file("CA certificate", path)?;
            // Files without certificates (a README, a CRL, a key) are skipped.
            let certs = match pem_certs(&pem, "CA certificate", path) {
                Ok(certs) => certs,
                Err(_) => continue,
            };
            check_roots(&certs, "CA certificate", path)?;
            roots.extend(certs);
        }
        if roots.len() == before {
            return Err(invalid_pem("CA directory", dir, "no PEM certificate in any file"));
        }
    }
    if !roots.is_empty() {
        builder = builder.root_certs(RootCerts::new_with_certs(&roots));
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert_path), Some(key_path)) => {
            let chain = pem_certs(
                &read_file("client certificate", cert_path)?,
                "client certificate",
                cert_path,
            )?;
            if chain.is_empty() {
                return Err(invalid_pem(
                    "client certificate",
                    cert_path,
                    "no CERTIFICATE block found",
                ));
            }
            let key_pem = read_file("client key", key_path)?;
            check_client_pair(&chain, &key_pem, key_path, &provider)?;
            let key = PrivateKey::from_pem(&key_pem)
                .map_err(|e| invalid_pem("client key", key_path, &format!("no usable private key ({e})")))?
                .to_owned();
            builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(SetupError::InvalidSetting {
                setting: "client_cert",
                reason: "both client cert and client key must be provided".into(),
            })
        }
    }
    if tls.skip_verify {
        builder = builder.disable_verification(true);
    }
    Ok(builder.build())
}

/// Every file under `dir` (following Go's `NOMAD_CAPATH` walk), a few levels deep.
fn collect_files(dir: &Path, depth: usize, out: &mut Vec<std::path::PathBuf>) -> Result<(), SetupError> {
    let entries = std::fs::read_dir(dir).map_err(|source| SetupError::ReadFile {
        what: "CA directory",
        path: dir.display().to_string(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue; // a dangling symlink
        };
        if meta.is_file() {
            out.push(path);
        } else if meta.is_dir() && depth < 4 && !entry.file_type().is_ok_and(|t| t.is_symlink()) {
            collect_files(&path, depth + 1, out)?;
        }
    }
    Ok(())
}

/// Rejects CA certificates that rustls cannot use as trust anchors (ureq would silently skip
/// them, and every connection would then fail as "untrusted").
fn check_roots(certs: &[ureq::tls::Certificate<'static>], what: &'static str, path: &Path) -> Result<(), SetupError> {
    for (i, cert) in certs.iter().enumerate() {
        let mut store = rustls::RootCertStore::empty();
        store
            .add(rustls::pki_types::CertificateDer::from(cert.der()))
            .map_err(|e| invalid_pem(what, path, &format!("certificate #{} is not usable: {e}", i + 1)))?;
    }
    Ok(())
}

/// Checks that the key parses, is of a supported type, and belongs to the certificate.
fn check_client_pair(
    chain: &[ureq::tls::Certificate<'static>],
    key_pem: &[u8],
    key_path: &Path,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<(), SetupError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
        let text = String::from_utf8_lossy(key_pem);
        let reason = if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
            "the key is encrypted; decrypt it first (openssl pkey -in key.pem -out key-plain.pem)".to_owned()
        } else {
            format!("no EC PRIVATE KEY, PRIVATE KEY or RSA PRIVATE KEY block found ({e})")
        };
        invalid_pem("client key", key_path, &reason)
    })?;
    let chain: Vec<CertificateDer<'static>> = chain.iter().map(|c| CertificateDer::from(c.der().to_vec())).collect();
    rustls::sign::CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        let reason = match e {
            rustls::Error::InconsistentKeys(_) => "the key does not belong to the client certificate".to_owned(),
            other => format!("unsupported or invalid key: {other}"),
        };
        invalid_pem("client key", key_path, &reason)
    })?;
    Ok(())
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, SetupError> {
    std::fs::read(path).map_err(|source| SetupError::ReadFile {
        what,
        path: path.display().to_string(),
        source,
    })
}

fn invalid_pem(what: &'static str, path: &Path, reason: &str) -> SetupError {
    SetupError::InvalidPem {
        what,
        path: path.display().to_string(),
        reason: reason.to_owned(),
    }
}

fn pem_certs(pem: &[u8], what: &'static str, path: &Path) -> Result<Vec<ureq::tls::Certificate<'static>>, SetupError> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item.map_err(|e| invalid_pem(what, path, &e.to_string()))? {
            ureq::tls::PemItem::Certificate(c) => certs.push(c.to_owned()),
            _ => continue,
        }
    }
    Ok(certs)
}

impl Route {
    /// Classifies a ureq error and names the agent it concerns.
    fn error(&self, error: ureq::Error) -> TransportError {
        classify(error, self.client_cert).at(self.target.clone())
    }
}

fn classify(error: ureq::Error, client_cert: bool) -> TransportError {
    use ureq::Error as U;
    let kind = match &error {
        U::Timeout(t) => TransportErrorKind::Timeout(match t {
            ureq::Timeout::Connect => TimeoutKind::Connect,
            ureq::Timeout::Resolve => TimeoutKind::Resolve,
            ureq::Timeout::Global | ureq::Timeout::PerCall => TimeoutKind::Call,
            ureq::Timeout::PerRead | ureq::Timeout::RecvResponse | ureq::Timeout::RecvBody => TimeoutKind::Read,
            ureq::Timeout::PerWrite | ureq::Timeout::SendRequest | ureq::Timeout::SendBody => TimeoutKind::Write,
            _ => TimeoutKind::Other,
        }),
        U::HostNotFound | U::ConnectionFailed | U::ConnectProxyFailed(_) => TransportErrorKind::Connect,
        U::BodyExceedsLimit(limit) => TransportErrorKind::BodyTooLarge { limit: *limit },
        U::Protocol(_) | U::LargeResponseHeader(..) | U::BadUri(_) | U::Http(_) | U::TooManyRedirects => {
            TransportErrorKind::Protocol
        }
        // A body the reader cannot make progress on (e.g. an endless chunk-size line).
        U::Decompress(..) | U::BodyStalled => TransportErrorKind::Protocol,
        U::Rustls(tls) => TransportErrorKind::Tls(classify_rustls(tls, client_cert)),
        U::Tls(m) => TransportErrorKind::Tls(TlsProblem::Handshake((*m).to_owned())),
        U::Pem(_) | U::TlsRequired => TransportErrorKind::Tls(TlsProblem::Handshake(error.to_string())),
        U::Io(io) => classify_io(io, client_cert),
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, error)
}

fn classify_io(io: &std::io::Error, client_cert: bool) -> TransportErrorKind {
    use std::io::ErrorKind as K;
    // rustls reports handshake and alert failures as io::Error(InvalidData, rustls::Error),
    // which ureq passes on as Error::Io.
    if let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        return TransportErrorKind::Tls(classify_rustls(tls, client_cert));
    }
    if io.get_ref().is_some_and(|e| e.is::<HandshakeCut>()) {
        return TransportErrorKind::Tls(TlsProblem::Handshake(
            "the agent closed the connection (if it serves plain HTTP, use an http:// address)".to_owned(),
        ));
    }
    match io.kind() {
        K::ConnectionRefused | K::NotFound | K::AddrNotAvailable | K::PermissionDenied => TransportErrorKind::Connect,
        K::HostUnreachable | K::NetworkUnreachable | K::NetworkDown => TransportErrorKind::Connect,
        other => TransportErrorKind::from_io_kind(other),
    }
}

fn classify_rustls(error: &rustls::Error, client_cert: bool) -> TlsProblem {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match error {
        E::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => TlsProblem::UntrustedCertificate,
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => TlsProblem::NameMismatch,
        E::InvalidCertificate(
            C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. },
        ) => TlsProblem::Expired,
        // TLS 1.3 servers (Go, rustls) send certificate_required; Go's TLS 1.2 server sends
        // bad_certificate for a missing certificate too: without one configured, that is what
        // it means.
        E::AlertReceived(A::CertificateRequired) => TlsProblem::ClientCertificateRequired,
        E::AlertReceived(A::BadCertificate | A::CertificateUnknown | A::UnknownCA | A::UnsupportedCertificate)
            if !client_cert =>
        {
            TlsProblem::ClientCertificateRequired
        }
        E::AlertReceived(
            A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::UnsupportedCertificate
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::AccessDenied,
        ) => TlsProblem::ClientCertificateRejected,
        E::InvalidMessage(_) => TlsProblem::NotTls,
        other => TlsProblem::Handshake(other.to_string()),
    }
}

#[cfg(unix)]
mod unix {
    //! A ureq connector for `unix://` addresses (the Task API socket).

    use std::io::{self, Read, Write};
    use std::os::unix::net::UnixStream;
    use std::path::{Path, PathBuf};
    use std::sync::mpsc;
    use std::time::Duration;

    use nomad_proto::http::Uri;
    use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
    use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport};

    /// Dials the socket whatever the URI says (nomad-proto builds `http://127.0.0.1/…`, as the
    /// Go client does for `unix://` addresses).
    #[derive(Debug)]
    pub(super) struct UnixConnector {
        path: PathBuf,
    }

    impl UnixConnector {
        pub(super) fn new(path: &Path) -> Self {
            UnixConnector { path: path.to_owned() }
        }
    }

    impl<In: Transport> Connector<In> for UnixConnector {
        type Out = UnixTransport;

        fn connect(&self, details: &ConnectionDetails, _chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
            let stream = connect(&self.path, details.timeout)?;
            let config = details.config;
            Ok(Some(UnixTransport {
                stream,
                buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
                read_timeout: None,
                write_timeout: None,
            }))
        }
    }

    /// A Unix connect is immediate unless the server's backlog is full; then it blocks. With a
    /// deadline, it runs on a helper thread that is abandoned (and ends once the server accepts
    /// or goes away) when the deadline passes.
    fn connect(path: &Path, timeout: NextTimeout) -> Result<UnixStream, ureq::Error> {
        let Some(limit) = timeout.not_zero() else {
            return UnixStream::connect(path).map_err(ureq::Error::Io);
        };
        let limit: Duration = *limit;
        if limit.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let owned = path.to_owned();
        std::thread::Builder::new()
            .name("nomad-unix-connect".into())
            .spawn(move || {
                let _ = tx.send(UnixStream::connect(owned));
            })
            .map_err(ureq::Error::Io)?;
        match rx.recv_timeout(limit) {
            Ok(result) => result.map_err(ureq::Error::Io),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ureq::Error::Timeout(timeout.reason)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(ureq::Error::Io(io::Error::other(
                "unix socket connect thread ended without a result",
            ))),
        }
    }

    #[derive(Debug)]
    pub(super) struct UnixTransport {
        stream: UnixStream,
        buffers: LazyBuffers,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
    }

    /// `Some(d)` for a deadline, an error for one that already passed.
    fn deadline(timeout: NextTimeout) -> Result<Option<Duration>, ureq::Error> {
        match timeout.not_zero() {
            None => Ok(None),
            Some(_) if timeout.after.is_zero() => Err(ureq::Error::Timeout(timeout.reason)),
            Some(d) => Ok(Some(*d)),
        }
    }

    fn timed_out(e: &io::Error) -> bool {
        matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
    }

    impl Transport for UnixTransport {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }

        fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
            let timeout = timeout.for_write();
            let limit = deadline(timeout)?;
            if limit != self.write_timeout {
                self.stream.set_write_timeout(limit)?;
                self.write_timeout = limit;
            }
            let output = &self.buffers.output()[..amount];
            match self.stream.write_all(output) {
                Ok(()) => Ok(()),
                Err(e) if timed_out(&e) => Err(ureq::Error::Timeout(timeout.reason)),
                Err(e) => Err(e.into()),
            }
        }

        fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
            let timeout = timeout.for_read();
            let limit = deadline(timeout)?;
            if limit != self.read_timeout {
                self.stream.set_read_timeout(limit)?;
                self.read_timeout = limit;
            }
            let input = self.buffers.input_append_buf();
            let amount = loop {
                match self.stream.read(input) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if timed_out(&e) => return Err(ureq::Error::Timeout(timeout.reason)),
                    Err(e) => return Err(e.into()),
                }
            };
            self.buffers.input_appended(amount);
            Ok(amount > 0)
        }

        fn is_open(&mut self) -> bool {
            // As ureq's TCP transport: an idle pooled connection must have nothing to read.
            if self.stream.set_nonblocking(true).is_err() {
                return false;
            }
            let mut byte = [0u8; 1];
            let open = matches!(self.stream.read(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
            open && self.stream.set_nonblocking(false).is_ok()
        }
    }

    /// The URI host of a Unix-socket request is never looked up.
    #[derive(Debug)]
    pub(super) struct LoopbackResolver;

    impl Resolver for LoopbackResolver {
        fn resolve(
            &self,
            _uri: &Uri,
            _config: &ureq::config::Config,
            _timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            let mut addrs = self.empty();
            addrs.push(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
            Ok(addrs)
        }
    }
}
