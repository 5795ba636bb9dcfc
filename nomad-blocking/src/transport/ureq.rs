//! [`UreqTransport`]: ureq 3 configured from the client's [`Config`] and [`TransportSettings`].

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use nomad_proto::http::uri::{Authority, Scheme};
use nomad_proto::http::{header, HeaderValue, Request, Response, Uri};
use nomad_proto::{Address, Config, ExpectedDuration, StreamingResponse};

use super::classify::{classify, HandshakeCut};
use super::tls::tls_config;
use super::unix::unix_agent;
use super::{BodyReader, ProxyPolicy, Transport, TransportSettings};
use crate::error::{SetupError, TransportError};

/// How long before a stream's deadline a connect that hangs fails (as a connect timeout): the
/// deadline ends a stream cleanly, so it must not fire while the agent cannot even be reached.
const DEADLINE_CONNECT_MARGIN: Duration = Duration::from_millis(100);

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

impl UreqTransport {
    /// A transport for `config`'s address and TLS settings (the TLS files are read and checked
    /// now) with `settings`.
    ///
    /// # Errors
    ///
    /// A [`SetupError`] when a TLS file cannot be read or does not hold what it should, or a
    /// setting (address, proxy, TLS server name) cannot be used.
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
        // A stream opened with a deadline (`Client::stream_until`) ends at it: the deadline is
        // the call's overall timeout, and a connect that hangs fails just before it, as a
        // connect timeout (an error, unlike the deadline).
        let deadline = request
            .extensions()
            .get::<crate::Deadline>()
            .map(crate::Deadline::remaining)
            .filter(|_| stream.is_some());
        let connect = match deadline {
            Some(left) if left > 2 * DEADLINE_CONNECT_MARGIN => {
                let before = left - DEADLINE_CONNECT_MARGIN;
                Some(self.settings.connect_timeout.map_or(before, |c| c.min(before)))
            }
            _ => self.settings.connect_timeout,
        };
        let (global, per_read) = match stream {
            Some(s) => (deadline, self.settings.read_timeout.filter(|_| s.heartbeats)),
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
            .timeout_connect(connect)
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

// ---- Where requests go: the address, `NOMAD_TLS_SERVER_NAME`, the resolver

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

impl Route {
    /// Classifies a ureq error and names the agent it concerns.
    fn error(&self, error: ureq::Error) -> TransportError {
        classify(error, self.client_cert).at(self.target.clone())
    }
}

/// A request URI rewrite for `NOMAD_TLS_SERVER_NAME` (see [`server_name_rewrite`]).
#[derive(Debug)]
struct Rewrite {
    from: Authority,
    to: Authority,
    host_header: HeaderValue,
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

// ---- How connections are made: proxy, TCP, TLS

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
