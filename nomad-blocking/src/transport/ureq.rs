//! [`UreqTransport`]: ureq 3 configured from the client's [`Config`] and [`TransportSettings`].

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use nomad_proto::http::{Method, Request, Response, Uri};
use nomad_proto::{Address, Config, ExpectedDuration, StreamingResponse};

use super::classify::classify;
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
/// - `http://` and `https://` agents. For `https://`, the trusted CAs are, as in the Go client,
///   the first of: `NOMAD_CACERT` (a PEM file of one or more certificates), a CA PEM in memory
///   ([`ConfigBuilder::ca_cert_pem`](nomad_proto::ConfigBuilder::ca_cert_pem)), `NOMAD_CAPATH`
///   (a directory of PEM files); with none of them, **the system's trusted roots**, as the
///   `nomad` CLI (on Linux the distribution's bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when
///   set), or Mozilla's compiled-in roots if you choose
///   [`RootCertificates::WebPki`](crate::tls::RootCertificates::WebPki)
///   ([`TransportSettings::root_certificates`]). A client certificate and key for mutual TLS
///   come from files (`NOMAD_CLIENT_CERT`/`NOMAD_CLIENT_KEY`) or memory
///   ([`ConfigBuilder::client_cert_pem`](nomad_proto::ConfigBuilder::client_cert_pem)); keys as
///   `EC PRIVATE KEY` (SEC1, as `nomad tls cert create` writes them), `PRIVATE KEY` (PKCS#8) or
///   `RSA PRIVATE KEY`. `NOMAD_SKIP_VERIFY` turns verification off
///   ([`InsecureSkipVerify`](crate::tls::InsecureSkipVerify)).
/// - `NOMAD_TLS_SERVER_NAME`: the certificate is verified against this name (and it is sent as
///   SNI) while the connection goes to the address's host and port, and the request (its `Host`
///   header, a proxy's `CONNECT`) names the address. Nomad's certificates name
///   `server.<region>.nomad`, so `https://10.0.0.5:4646` + `server.global.nomad` works.
/// - `unix:///path/to/api.sock` (the Task API socket): requests go over the Unix socket, with
///   the same connect, read and call timeouts.
///
/// The TLS configuration is [`crate::tls::client_config`]'s, built once when the transport is
/// (every file is read and checked then): an async client built on that function trusts exactly
/// what this transport trusts. TLS is rustls only; there is no native-tls option (ureq's
/// native-tls backend cannot load the `EC PRIVATE KEY` files Nomad generates).
///
/// **Changed in 0.2**: with no CA configured, the system's roots are trusted, as by the `nomad`
/// CLI; 0.1 trusted Mozilla's compiled-in roots (webpki-roots) whatever the system said. An
/// agent whose certificate chains to a CA the system trusts (a company CA installed with
/// `update-ca-certificates`, or named by `SSL_CERT_FILE`) is now reached without
/// `NOMAD_CACERT`; a system without any CA bundle (a bare container) is a
/// [`SetupError::NoSystemRoots`] when the client is built. `RootCertificates::WebPki` gives the
/// old behaviour.
///
/// Without nomad-blocking's `tls` feature (on by default) there is no TLS at all (no rustls, no
/// ring): `http://` and `unix://` work, and an `https://` address is
/// [`SetupError::FeatureDisabled`] when the transport is built.
#[derive(Clone, Debug)]
pub struct UreqTransport {
    agent: ureq::Agent,
    settings: Arc<TransportSettings>,
    route: Arc<Route>,
}

impl UreqTransport {
    /// A transport for `config`'s address and TLS settings with `settings`. For an `https://`
    /// address the TLS configuration is built now: the TLS files and PEMs are read and checked,
    /// and the system's roots loaded if they are to be used.
    ///
    /// # Errors
    ///
    /// A [`SetupError`] for a TLS file or PEM that cannot be used (see
    /// [`crate::tls::client_config`]), an invalid TLS server name or proxy URL, an unsupported
    /// address, or an `https://` address in a build without the `tls` feature.
    pub fn new(config: &Config, settings: TransportSettings) -> Result<Self, SetupError> {
        let builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(settings.connect_timeout)
            .timeout_global(settings.call_timeout)
            .timeout_per_read(settings.read_timeout)
            .max_idle_connections_per_host(settings.max_idle_per_host)
            .max_idle_connections(settings.max_idle_per_host.saturating_mul(4))
            .user_agent(settings.user_agent.as_str())
            // ureq decodes gzip only with its `gzip` feature (ours): never ask for what it cannot read.
            .accept_encoding(if settings.gzip && cfg!(feature = "gzip") {
                "gzip"
            } else {
                ""
            });
        let target = config.address().to_string();
        let agent = match config.address() {
            Address::Unix { path } => unix_agent(builder, path)?,
            Address::Http {
                tls: is_tls, authority, ..
            } => {
                let proxy = proxy(&settings.proxy)?;
                let https_proxy = proxy
                    .as_ref()
                    .is_some_and(|p| p.protocol() == ureq::ProxyProtocol::Https);
                let connector = connector(config, &settings, authority, *is_tls || https_proxy)?;
                let ureq_config = builder.proxy(proxy).build();
                ureq::Agent::with_parts(ureq_config, connector, LiteralResolver::default())
            }
            other => {
                return Err(SetupError::InvalidSetting {
                    setting: "address",
                    reason: format!("unsupported address `{other}`"),
                })
            }
        };
        let tls = config.tls();
        Ok(UreqTransport {
            agent,
            settings: Arc::new(settings),
            route: Arc::new(Route {
                target,
                client_cert: tls.client_cert.is_some() || tls.client_cert_pem.is_some(),
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
    ///
    /// A request with an empty body whose method gives a body no meaning (GET, HEAD, DELETE, …)
    /// goes out with no body at all, and so without `Content-Length: 0` (RFC 9110 section 8.6:
    /// a user agent should not send it "when the request message does not contain content and
    /// the method semantics do not anticipate such data"), as the Go client sends it. A PUT or
    /// POST always carries its length, `0` included, as the Go client's do.
    fn run(&self, request: Request<Vec<u8>>, streaming: bool) -> Result<Response<ureq::Body>, TransportError> {
        let stream = request
            .extensions()
            .get::<StreamingResponse>()
            .copied()
            .filter(|_| streaming);
        let expected = request.extensions().get::<ExpectedDuration>().map(|d| d.0);
        // A stream opened with a deadline (`Client::stream_until`) ends at it: the deadline is
        // the call's overall timeout, and a connect that hangs fails just before it, as a
        // connect timeout (an error, unlike the deadline).
        let deadline = request
            .extensions()
            .get::<crate::Deadline>()
            .map(crate::Deadline::remaining)
            .filter(|_| stream.is_some());
        let timeouts = match (stream, expected) {
            (None, None) => None,
            (Some(s), _) => {
                let connect = match deadline {
                    Some(left) if left > 2 * DEADLINE_CONNECT_MARGIN => {
                        let before = left - DEADLINE_CONNECT_MARGIN;
                        Some(self.settings.connect_timeout.map_or(before, |c| c.min(before)))
                    }
                    _ => self.settings.connect_timeout,
                };
                Some(Timeouts {
                    global: deadline,
                    per_read: self.settings.read_timeout.filter(|_| s.heartbeats),
                    connect,
                })
            }
            (None, Some(expected)) => {
                // The response only starts once the profile is done: let a read wait that long.
                Some(Timeouts {
                    global: self.settings.call_timeout.map(|t| t.saturating_add(expected)),
                    per_read: self.settings.read_timeout.map(|r| r.saturating_add(expected)),
                    connect: self.settings.connect_timeout,
                })
            }
        };
        if request.body().is_empty() && !anticipates_body(request.method()) {
            self.dispatch(request.map(|_| ()), timeouts)
        } else {
            self.dispatch(request, timeouts)
        }
    }

    /// Runs `request` with the agent, with timeouts of its own if given.
    fn dispatch<B: ureq::AsSendBody>(
        &self,
        request: Request<B>,
        timeouts: Option<Timeouts>,
    ) -> Result<Response<ureq::Body>, TransportError> {
        let request = match timeouts {
            None => request,
            Some(t) => self
                .agent
                .configure_request(request)
                .timeout_global(t.global)
                .timeout_per_read(t.per_read)
                .timeout_connect(t.connect)
                .build(),
        };
        self.agent.run(request).map_err(|e| self.route.error(e))
    }
}

/// The timeouts of one request that differ from the agent's (streams, profiles).
#[derive(Clone, Copy)]
struct Timeouts {
    global: Option<Duration>,
    per_read: Option<Duration>,
    connect: Option<Duration>,
}

/// Whether `method` gives a request body a meaning (then its length is always sent).
fn anticipates_body(method: &Method) -> bool {
    *method == Method::PUT || *method == Method::POST || *method == Method::PATCH
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

// ---- Where requests go: the address and the resolver

/// What the transport knows about where requests go, for errors.
#[derive(Debug)]
struct Route {
    /// The address as errors show it (`https://10.0.0.5:4646`, `unix:///…`; never credentials).
    target: String,
    /// Whether a client certificate is configured (tells "required" from "rejected").
    client_cert: bool,
}

impl Route {
    /// Classifies a ureq error and names the agent it concerns.
    fn error(&self, error: ureq::Error) -> TransportError {
        classify(error, self.client_cert).at(self.target.clone())
    }
}

/// Takes an IP-literal host (the usual `NOMAD_ADDR`) as it is, without a lookup; resolves any
/// other host with ureq's resolver. ureq's `DefaultResolver` (3.5) starts a thread per request
/// to time the lookup out, even for an IP and even when a pooled connection is then reused, and
/// that was most of a small call's cost.
#[derive(Debug, Default)]
struct LiteralResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for LiteralResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
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

/// ureq's connector chain without SOCKS (refused above), and with nomad-blocking's TLS step:
/// [`TlsConnector`](super::tls::TlsConnector) with [`crate::tls`]'s configuration for `https://`
/// addresses (and `https://` proxies).
#[cfg(feature = "tls")]
fn connector(
    config: &Config,
    settings: &TransportSettings,
    authority: &str,
    needs_tls: bool,
) -> Result<impl ureq::unversioned::transport::Connector, SetupError> {
    use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
    let tls = if needs_tls {
        let client_config = crate::tls::build_client_config(config.tls(), settings.root_certificates)?;
        let name = match config.address().is_tls() {
            true => crate::tls::server_name(config)?,
            false => crate::tls::host_name(authority)?,
        };
        super::tls::TlsConnector::new(client_config, authority, name)
    } else {
        super::tls::TlsConnector::plain()
    };
    Ok(
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(tls),
    )
}

/// ureq's connector chain without SOCKS (refused above) and without TLS: this build has no
/// `tls` feature, so `https://` is refused here rather than failing (or, with another TLS
/// setup, panicking inside ureq) on the first call.
#[cfg(not(feature = "tls"))]
fn connector(
    _config: &Config,
    _settings: &TransportSettings,
    _authority: &str,
    needs_tls: bool,
) -> Result<impl ureq::unversioned::transport::Connector, SetupError> {
    use ureq::unversioned::transport::{ConnectProxyConnector, Connector, TcpConnector};
    if needs_tls {
        return Err(SetupError::FeatureDisabled {
            feature: "tls",
            needed_for: "https:// (an https:// address or proxy)".to_owned(),
        });
    }
    Ok(
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default()),
    )
}
