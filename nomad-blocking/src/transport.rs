//! Transports: the [`Transport`] trait, its blanket implementation for closures, and the
//! ureq-backed [`UreqTransport`].

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nomad_proto::http::{Request, Response};
use nomad_proto::{ExpectedDuration, StreamingResponse, TlsSettings};

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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyPolicy {
    /// Connect directly (the default: Nomad agents are usually on a private network, and a proxy
    /// picked up by surprise from `HTTPS_PROXY` would see the ACL token on plain-http agents).
    #[default]
    Direct,
    /// Honour `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY` and `NO_PROXY` (and their lowercase forms).
    FromEnv,
    /// Use this proxy URL (`http://`, `https://`, `socks5://` needs ureq's `socks-proxy`).
    Url(String),
}

/// Transport settings: timeouts, body limit, proxy, pool.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportSettings {
    /// Time allowed to establish a connection (TCP connect + TLS handshake start). Default 10 s.
    pub connect_timeout: Option<Duration>,
    /// Time allowed for one whole call, from connect to the last body byte. Default 60 s. Not
    /// applied to log streams; extended by a pprof call's `seconds`.
    pub call_timeout: Option<Duration>,
    /// Time allowed between two reads of the response. Default 30 s (log streams send a
    /// heartbeat every second).
    pub read_timeout: Option<Duration>,
    /// Largest response body read into memory. Default 32 MiB. Streams are not limited.
    pub body_limit: u64,
    /// Proxy policy. Default [`ProxyPolicy::Direct`].
    pub proxy: ProxyPolicy,
    /// Idle connections kept per host. Default 3.
    pub max_idle_per_host: usize,
    /// The `User-Agent` header.
    pub user_agent: String,
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
        }
    }
}

/// The default transport: ureq 3 with rustls, connection reuse, gzip, explicit timeouts, a body
/// limit, no redirects followed, and no proxy unless asked for.
#[derive(Clone, Debug)]
pub struct UreqTransport {
    agent: ureq::Agent,
    settings: Arc<TransportSettings>,
}

impl UreqTransport {
    /// A transport for `tls` settings (the files are read now) and `settings`.
    pub fn new(tls: &TlsSettings, settings: TransportSettings) -> Result<Self, SetupError> {
        let proxy = match &settings.proxy {
            ProxyPolicy::Direct => None,
            ProxyPolicy::FromEnv => ureq::Proxy::try_from_env(),
            ProxyPolicy::Url(url) => Some(ureq::Proxy::new(url).map_err(|e| SetupError::InvalidSetting {
                setting: "proxy",
                reason: e.to_string(),
            })?),
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(proxy)
            .timeout_connect(settings.connect_timeout)
            .timeout_global(settings.call_timeout)
            .timeout_per_read(settings.read_timeout)
            .max_idle_connections_per_host(settings.max_idle_per_host)
            .max_idle_connections(settings.max_idle_per_host.saturating_mul(4))
            .user_agent(settings.user_agent.as_str())
            .tls_config(tls_config(tls)?)
            .build();
        Ok(UreqTransport {
            agent: config.new_agent(),
            settings: Arc::new(settings),
        })
    }

    /// The settings in use.
    pub fn settings(&self) -> &TransportSettings {
        &self.settings
    }

    fn run(&self, request: Request<Vec<u8>>) -> Result<Response<ureq::Body>, TransportError> {
        let streaming = request.extensions().get::<StreamingResponse>().is_some();
        let expected = request.extensions().get::<ExpectedDuration>().map(|d| d.0);
        let request = if streaming || expected.is_some() {
            let global = if streaming {
                None
            } else {
                self.settings.call_timeout.map(|t| t + expected.unwrap_or_default())
            };
            // The response only starts once the profile is done: let a read wait that long.
            let per_read = match (self.settings.read_timeout, expected) {
                (Some(r), Some(e)) => Some(r + e),
                (r, _) => r,
            };
            self.agent
                .configure_request(request)
                .timeout_global(global)
                .timeout_per_read(per_read)
                .build()
        } else {
            request
        };
        self.agent.run(request).map_err(map_ureq_error)
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let response = self.run(request)?;
        let (parts, body) = response.into_parts();
        let body = body
            .into_with_config()
            .limit(self.settings.body_limit)
            .read_to_vec()
            .map_err(map_ureq_error)?;
        Ok(Response::from_parts(parts, body))
    }

    fn send_streaming(&self, request: Request<Vec<u8>>) -> Result<Response<BodyReader>, TransportError> {
        let response = self.run(request)?;
        Ok(response.map(|body| Box::new(StreamBody(body.into_reader())) as BodyReader))
    }
}

/// A ureq body reader whose errors carry a [`TransportError`] (so a timeout stays a timeout).
struct StreamBody(ureq::BodyReader<'static>);

impl Read for StreamBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            // ureq wraps its own errors in io::Error::other; unwrap them to classify.
            let kind = e.kind();
            match e.into_inner() {
                Some(inner) => match inner.downcast::<ureq::Error>() {
                    Ok(u) => std::io::Error::new(kind, map_ureq_error(*u)),
                    Err(other) => std::io::Error::new(kind, other),
                },
                None => std::io::Error::from(kind),
            }
        })
    }
}

fn tls_config(tls: &TlsSettings) -> Result<ureq::tls::TlsConfig, SetupError> {
    use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
    let mut builder = TlsConfig::builder().provider(ureq::tls::TlsProvider::Rustls);
    let mut roots: Vec<Certificate<'static>> = Vec::new();
    if let Some(path) = &tls.ca_cert {
        let pem = read_file("CA certificate", path)?;
        let certs = pem_certs(&pem, "CA certificate", path)?;
        if certs.is_empty() {
            return Err(invalid_pem("CA certificate", path, "no CERTIFICATE block found"));
        }
        roots.extend(certs);
    }
    if let Some(dir) = &tls.ca_path {
        let entries = std::fs::read_dir(dir).map_err(|source| SetupError::ReadFile {
            what: "CA directory",
            path: dir.display().to_string(),
            source,
        })?;
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        let before = roots.len();
        for path in paths.iter().filter(|p| p.is_file()) {
            let pem = read_file("CA certificate", path)?;
            // Files without certificates (a README, an index) are skipped.
            roots.extend(pem_certs(&pem, "CA certificate", path).unwrap_or_default());
        }
        if roots.len() == before {
            return Err(invalid_pem("CA directory", dir, "no PEM certificate in any file"));
        }
    }
    if !roots.is_empty() {
        builder = builder.root_certs(RootCerts::new_with_certs(&roots));
    }
    if let (Some(cert_path), Some(key_path)) = (&tls.client_cert, &tls.client_key) {
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
        let key = PrivateKey::from_pem(&key_pem)
            .map_err(|e| invalid_pem("client key", key_path, &format!("no usable private key ({e})")))?
            .to_owned();
        builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    if tls.skip_verify {
        builder = builder.disable_verification(true);
    }
    let _ = PemItem::Certificate; // keep the import used on every cfg
    Ok(builder.build())
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

pub(crate) fn map_ureq_error(error: ureq::Error) -> TransportError {
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
        U::Decompress(..) => TransportErrorKind::Protocol,
        U::Tls(m) => TransportErrorKind::Tls(TlsProblem::Handshake((*m).to_owned())),
        U::Pem(_) | U::Rustls(_) | U::TlsRequired => TransportErrorKind::Tls(TlsProblem::Handshake(error.to_string())),
        U::Io(io) => classify_io(io),
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, error)
}

fn classify_io(io: &std::io::Error) -> TransportErrorKind {
    use std::io::ErrorKind as K;
    if let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        return TransportErrorKind::Tls(classify_rustls(tls));
    }
    match io.kind() {
        K::ConnectionRefused | K::NotFound | K::AddrNotAvailable | K::PermissionDenied => TransportErrorKind::Connect,
        K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout(TimeoutKind::Read),
        K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::InvalidData => {
            TransportErrorKind::Protocol
        }
        other => TransportErrorKind::Io(other),
    }
}

fn classify_rustls(error: &rustls::Error) -> TlsProblem {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match error {
        E::InvalidCertificate(C::UnknownIssuer) | E::InvalidCertificate(C::BadSignature) => {
            TlsProblem::UntrustedCertificate
        }
        E::InvalidCertificate(C::NotValidForName) | E::InvalidCertificate(C::NotValidForNameContext { .. }) => {
            TlsProblem::NameMismatch
        }
        E::InvalidCertificate(C::Expired)
        | E::InvalidCertificate(C::ExpiredContext { .. })
        | E::InvalidCertificate(C::NotValidYet)
        | E::InvalidCertificate(C::NotValidYetContext { .. }) => TlsProblem::Expired,
        E::AlertReceived(A::CertificateRequired) | E::AlertReceived(A::HandshakeFailure) => {
            TlsProblem::ClientCertificateRequired
        }
        E::AlertReceived(A::BadCertificate)
        | E::AlertReceived(A::UnknownCA)
        | E::AlertReceived(A::CertificateUnknown) => TlsProblem::ClientCertificateRejected,
        E::InvalidMessage(_) => TlsProblem::NotTls,
        other => TlsProblem::Handshake(other.to_string()),
    }
}
