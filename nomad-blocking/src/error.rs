//! The one error type of the blocking client, and the transport error it wraps.

use std::fmt;
use std::io;

use nomad_proto::http::StatusCode;
use nomad_proto::stream::StreamError;
use nomad_proto::{BuildError, ResponseError};

/// Everything a call can fail with; the variant says which side failed.
///
/// Messages never contain the ACL token or passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built (bad address, token, header or argument). Nothing was sent.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The client could not be set up (TLS files, transport settings). Nothing was sent.
    #[error(transparent)]
    Setup(#[from] SetupError),
    /// The request did not get a complete HTTP answer (connect, TLS, timeout, I/O, size limit).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The agent answered, but with an error status, a body that does not decode, or a log
    /// stream that broke ([`ResponseError::Stream`]).
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// A response body could not be written to the caller's destination (e.g. the file a
    /// profile is streamed to, see [`crate::Agent::write_profile`]). The agent's answer was
    /// fine. The message states the I/O error's reason; the error itself is the field (it is
    /// not also the [`source`](std::error::Error::source), so that an error-chain report shows
    /// the reason once).
    #[error("cannot write the response body to its destination: {}", io_reason(.0))]
    Write(io::Error),
    /// [`LogStream::records`](crate::LogStream::records) on a stream opened without
    /// `log_json(true)`: its lines are text, not hclog JSON records. Nothing was read.
    #[error(
        "this stream was opened without log_json(true), so its lines are text, not JSON records: \
         ask for JSON with `Monitor::log_json(true)`, or read the lines as text"
    )]
    NotJson,
    /// The operating system's random number generator failed (see
    /// [`generate_gossip_key`](crate::generate_gossip_key)).
    #[error("cannot get random bytes from the operating system: {}", io_reason(.0))]
    Random(io::Error),
}

impl Error {
    /// The HTTP status, when the agent answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Response(e) => e.status(),
            _ => None,
        }
    }
    /// The agent's error response, if that is what this is.
    pub fn as_response(&self) -> Option<&ResponseError> {
        match self {
            Error::Response(e) => Some(e),
            _ => None,
        }
    }
    /// The transport failure, if that is what this is.
    pub fn as_transport(&self) -> Option<&TransportError> {
        match self {
            Error::Transport(e) => Some(e),
            _ => None,
        }
    }
    /// True for a 403 from the agent (missing token or capability).
    pub fn is_permission_denied(&self) -> bool {
        self.as_response().is_some_and(ResponseError::is_permission_denied)
    }
    /// True when the agent does not run the role the endpoint needs (501 `Invalid method`,
    /// 400 `Server only endpoint`).
    pub fn is_wrong_role(&self) -> bool {
        self.as_response().is_some_and(ResponseError::is_wrong_role)
    }
    /// True for a 401 from the agent: no token where one is required (the Task API socket
    /// answers `401 Unauthorized` to a request without a token).
    pub fn is_unauthorized(&self) -> bool {
        self.as_response().is_some_and(ResponseError::is_unauthorized)
    }
    /// True for a 404 from the agent (unknown path, profile, keyring operation, node).
    pub fn is_not_found(&self) -> bool {
        self.as_response().is_some_and(ResponseError::is_not_found)
    }
    /// True for `405 Invalid method`: the endpoint exists, not for this HTTP method.
    pub fn is_method_not_allowed(&self) -> bool {
        self.as_response().is_some_and(ResponseError::is_method_not_allowed)
    }
    /// True for a timeout of any kind; [`Error::timeout_kind`] says which.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Transport(t) if matches!(t.kind(), TransportErrorKind::Timeout(_)))
    }
    /// Which timeout fired, if this is a timeout.
    pub fn timeout_kind(&self) -> Option<TimeoutKind> {
        match self {
            Error::Transport(t) => match t.kind() {
                TransportErrorKind::Timeout(k) => Some(*k),
                _ => None,
            },
            _ => None,
        }
    }
    /// What went wrong with TLS, if the TLS handshake (or a TLS alert) failed the call.
    pub fn tls_problem(&self) -> Option<&TlsProblem> {
        match self {
            Error::Transport(t) => match t.kind() {
                TransportErrorKind::Tls(p) => Some(p),
                _ => None,
            },
            _ => None,
        }
    }
    /// True when the agent could not be reached at all (refused, no such socket, DNS).
    pub fn is_connect(&self) -> bool {
        matches!(self, Error::Transport(t) if *t.kind() == TransportErrorKind::Connect)
    }
}

/// A log stream that broke after it started (a garbage frame, a stream cut off mid-frame, an error
/// the agent appended) or a line that is not an hclog JSON record: [`Error::Response`] with
/// [`ResponseError::Stream`].
impl From<StreamError> for Error {
    fn from(error: StreamError) -> Self {
        Error::Response(ResponseError::Stream(error))
    }
}

/// The client could not be configured.
///
/// `Display` states the reason on one line (`cannot read CA certificate `/etc/ca.pem`: no such
/// file or directory`); an underlying I/O error is reachable with [`SetupError::io_error`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// A TLS file could not be read.
    ReadFile {
        /// What the file is for (`CA certificate`, `client key`, …).
        what: &'static str,
        /// The path.
        path: String,
        /// The I/O error (its reason is part of the message).
        source: io::Error,
    },
    /// A TLS file does not hold what it should.
    InvalidPem {
        /// What the file is for.
        what: &'static str,
        /// The path.
        path: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An invalid transport setting (such as a proxy URL).
    InvalidSetting {
        /// The setting.
        setting: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// The loopback test agent (feature `test-agent`) could not start: it could not listen, or
    /// what it was asked to run cannot be (e.g. a cluster whose leader is down).
    TestAgentStart {
        /// Why (`InvalidInput` for a plan that cannot run; its reason is part of the message).
        source: io::Error,
    },
    /// No CA is configured and the system's trust store (the default roots) holds no usable
    /// certificate, so no `https://` agent could be trusted.
    NoSystemRoots {
        /// What was found (or not), and where.
        reason: String,
    },
    /// The setting needs a cargo feature of nomad-blocking that this build does not have
    /// (an `https://` address without the `tls` feature).
    FeatureDisabled {
        /// The feature (`tls`).
        feature: &'static str,
        /// What needs it (`https://` addresses).
        needed_for: String,
    },
}

impl SetupError {
    /// The I/O error behind a [`SetupError::ReadFile`] or a [`SetupError::TestAgentStart`] (for
    /// its [`kind`](io::Error::kind) or [`raw_os_error`](io::Error::raw_os_error)).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            SetupError::ReadFile { source, .. } | SetupError::TestAgentStart { source } => Some(source),
            _ => None,
        }
    }
}

// Written by hand rather than derived: thiserror makes a field named `source` the error's
// `source()`, and its reason, already in the message, would then show twice in a chain report.
impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::ReadFile { what, path, source } => {
                write!(f, "cannot read {what} `{path}`: {}", io_reason(source))
            }
            SetupError::InvalidPem { what, path, reason } => write!(f, "invalid {what} `{path}`: {reason}"),
            SetupError::InvalidSetting { setting, reason } => write!(f, "invalid setting `{setting}`: {reason}"),
            SetupError::TestAgentStart { source } => {
                write!(f, "the test agent cannot start: {}", io_reason(source))
            }
            SetupError::NoSystemRoots { reason } => write!(
                f,
                "no trusted CA certificates in the system store ({reason}): set NOMAD_CACERT or \
                 NOMAD_CAPATH, install the system's CA bundle (e.g. the ca-certificates package), or \
                 use RootCertificates::WebPki"
            ),
            SetupError::FeatureDisabled { feature, needed_for } => {
                write!(
                    f,
                    "{needed_for} needs nomad-blocking's `{feature}` feature (this build has it off)"
                )
            }
        }
    }
}

impl std::error::Error for SetupError {}

/// Which timeout fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Connecting (TCP, Unix socket).
    Connect,
    /// Resolving the host name.
    Resolve,
    /// The overall per-call timeout.
    Call,
    /// Waiting for the next bytes (per read).
    Read,
    /// Sending the request.
    Write,
    /// Any other phase.
    Other,
}

/// What went wrong with the TLS session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsProblem {
    /// The server certificate is not signed by a trusted CA (set `NOMAD_CACERT`/`NOMAD_CAPATH`).
    UntrustedCertificate,
    /// The server certificate does not name the host (set `NOMAD_TLS_SERVER_NAME`, e.g.
    /// `server.global.nomad`).
    NameMismatch,
    /// The server certificate is expired or not yet valid.
    Expired,
    /// The server requires a client certificate (set `NOMAD_CLIENT_CERT`/`NOMAD_CLIENT_KEY`).
    ClientCertificateRequired,
    /// The server rejected the client certificate.
    ClientCertificateRejected,
    /// The address is `http://` but the agent speaks TLS, or the other way round.
    NotTls,
    /// Another handshake failure.
    Handshake(String),
}

/// The kind of a [`TransportError`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, unreachable, no such socket, DNS).
    Connect,
    /// A timeout fired.
    Timeout(TimeoutKind),
    /// The TLS handshake failed.
    Tls(TlsProblem),
    /// The response body is larger than the configured limit.
    BodyTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The peer did not speak valid HTTP, or closed the connection mid-response.
    Protocol,
    /// Another I/O error.
    Io(io::ErrorKind),
    /// A transport of the user's own (closure) failed.
    Other,
}

impl TransportErrorKind {
    /// The kind of an I/O error on an open connection (reading a body): a timeout is a read
    /// timeout, a connection cut or garbled mid-response is [`TransportErrorKind::Protocol`].
    pub(crate) fn from_io_kind(kind: io::ErrorKind) -> Self {
        use io::ErrorKind as K;
        match kind {
            K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout(TimeoutKind::Read),
            K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::InvalidData => {
                TransportErrorKind::Protocol
            }
            other => TransportErrorKind::Io(other),
        }
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportErrorKind::Connect => f.write_str("cannot connect to the agent"),
            TransportErrorKind::Timeout(k) => {
                let phase = match k {
                    TimeoutKind::Connect => "connecting",
                    TimeoutKind::Resolve => "resolving the host",
                    TimeoutKind::Call => "the whole call",
                    TimeoutKind::Read => "waiting for data",
                    TimeoutKind::Write => "sending the request",
                    TimeoutKind::Other => "waiting",
                };
                write!(f, "timed out ({phase})")
            }
            TransportErrorKind::Tls(p) => match p {
                TlsProblem::UntrustedCertificate => {
                    f.write_str("TLS: server certificate not trusted (unknown issuer; set NOMAD_CACERT or NOMAD_CAPATH)")
                }
                TlsProblem::NameMismatch => f.write_str(
                    "TLS: server certificate is not valid for this host name (set NOMAD_TLS_SERVER_NAME, e.g. server.global.nomad)",
                ),
                TlsProblem::Expired => f.write_str("TLS: server certificate expired or not yet valid"),
                TlsProblem::ClientCertificateRequired => f.write_str(
                    "TLS: the agent requires a client certificate (set NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY)",
                ),
                TlsProblem::ClientCertificateRejected => f.write_str("TLS: the agent rejected the client certificate"),
                TlsProblem::NotTls => f.write_str("TLS: the peer does not speak TLS (check http:// vs https://)"),
                TlsProblem::Handshake(m) => write!(f, "TLS handshake failed: {m}"),
            },
            TransportErrorKind::BodyTooLarge { limit } => write!(f, "response body exceeds the limit of {limit} bytes"),
            TransportErrorKind::Protocol => f.write_str("invalid or incomplete HTTP response from the agent"),
            TransportErrorKind::Io(kind) => write!(f, "I/O error: {kind}"),
            TransportErrorKind::Other => f.write_str("transport failed"),
        }
    }
}

/// A request did not get a complete HTTP answer.
///
/// `Display` is one line: the agent (when the transport knows it), what went wrong, and why, as
/// the OS or the TLS library said it, e.g.
/// `http://127.0.0.1:4646: cannot connect to the agent: connection refused` or
/// `unix:///run/nomad/api.sock: cannot connect to the agent: no such file or directory`.
///
/// A reason that is part of the message is not also returned by
/// [`source`](std::error::Error::source), so an error-chain report (anyhow's `{:#}`) shows it
/// once; the underlying error stays reachable with [`TransportError::underlying`] and
/// [`TransportError::io_error`].
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    agent: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TransportError {
    /// An error of `kind` caused by `source` (whose message becomes the reason `Display` states).
    #[must_use]
    pub fn new(kind: TransportErrorKind, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        TransportError {
            kind,
            agent: None,
            source: Some(source.into()),
        }
    }

    /// An error of `kind` with no further cause.
    #[must_use]
    pub fn from_kind(kind: TransportErrorKind) -> Self {
        TransportError {
            kind,
            agent: None,
            source: None,
        }
    }

    /// Wraps any error from a custom transport ([`TransportErrorKind::Other`]); a
    /// `TransportError` passes through unchanged.
    #[must_use]
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let boxed: Box<dyn std::error::Error + Send + Sync> = error.into();
        match boxed.downcast::<TransportError>() {
            Ok(t) => *t,
            Err(other) => TransportError {
                kind: TransportErrorKind::Other,
                agent: None,
                source: Some(other),
            },
        }
    }

    /// The error of a body read: the [`TransportError`] the transport's reader carried (the
    /// ureq transport's readers carry one, so a timeout stays a timeout), or else one classified
    /// from the I/O error's kind.
    pub(crate) fn from_io(error: io::Error) -> Self {
        let kind = error.kind();
        if error.get_ref().is_some_and(|inner| inner.is::<TransportError>()) {
            if let Some(Ok(t)) = error.into_inner().map(|inner| inner.downcast::<TransportError>()) {
                return *t;
            }
            return TransportError::from_kind(TransportErrorKind::from_io_kind(kind));
        }
        TransportError::new(TransportErrorKind::from_io_kind(kind), error)
    }

    /// What went wrong.
    pub fn kind(&self) -> &TransportErrorKind {
        &self.kind
    }

    /// The agent address the request went to (`https://10.0.0.5:4646`, `unix:///…`), when the
    /// transport knows it. Never holds credentials.
    pub fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// Names the agent address the request went to (shown by `Display`).
    #[must_use]
    pub fn at(mut self, agent: impl Into<String>) -> Self {
        self.agent = Some(agent.into());
        self
    }

    /// The error this one was made from, as the transport gave it (a `ureq::Error`, an
    /// [`io::Error`], a custom transport's error), whether or not `source()` returns it.
    pub fn underlying(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The I/O error behind this one, if there is one (for its [`io::Error::kind`] or
    /// [`io::Error::raw_os_error`], e.g. `ECONNREFUSED`).
    pub fn io_error(&self) -> Option<&io::Error> {
        let source = self.source.as_deref()?;
        if let Some(io) = source.downcast_ref::<io::Error>() {
            return Some(io);
        }
        match source.downcast_ref::<ureq::Error>()? {
            ureq::Error::Io(io) => Some(io),
            #[cfg(feature = "gzip")]
            ureq::Error::Decompress(_, io) => Some(io),
            _ => None,
        }
    }

    /// The reason `Display` appends after the kind, and whether it came from the source's own
    /// message (then `source()` skips the source). Transports' own errors (ureq, I/O) add
    /// nothing to a kind that says it all already (a timeout's phase, a TLS problem, a body
    /// limit).
    fn reason(&self) -> Option<String> {
        let source = self.source.as_deref()?;
        let said = matches!(
            self.kind,
            TransportErrorKind::Timeout(_) | TransportErrorKind::Tls(_) | TransportErrorKind::BodyTooLarge { .. }
        );
        if let Some(error) = source.downcast_ref::<ureq::Error>() {
            return if said { None } else { ureq_reason(error) };
        }
        if let Some(io) = source.downcast_ref::<io::Error>() {
            return if said { None } else { Some(io_reason(io)) };
        }
        Some(source.to_string())
    }
}

/// What a ureq error says beyond its kind, in words.
fn ureq_reason(error: &ureq::Error) -> Option<String> {
    Some(match error {
        ureq::Error::Io(io) => io_reason(io),
        ureq::Error::Protocol(p) => p.to_string(),
        #[cfg(feature = "gzip")]
        ureq::Error::Decompress(what, io) => format!("{what} decompression failed: {}", io_reason(io)),
        ureq::Error::ConnectProxyFailed(m) => format!("the proxy refused the tunnel: {m}"),
        other => other.to_string(),
    })
}

/// An I/O error's reason as the OS states it, without the `(os error N)` suffix
/// (`connection refused`, `no such file or directory`), or the message of the error it wraps.
pub(crate) fn io_reason(error: &io::Error) -> String {
    if let Some(code) = error.raw_os_error() {
        let text = error.to_string();
        let suffix = format!(" (os error {code})");
        return lower_first(text.strip_suffix(suffix.as_str()).unwrap_or(&text));
    }
    match error.get_ref() {
        Some(inner) => match inner.downcast_ref::<ureq::Error>() {
            Some(u) => ureq_reason(u).unwrap_or_else(|| u.to_string()),
            None => inner.to_string(),
        },
        None => error.kind().to_string(),
    }
}

/// `Connection refused` → `connection refused`; `TLS …` and other acronyms stay as they are.
fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            first.to_lowercase().chain(text[first.len_utf8()..].chars()).collect()
        }
        _ => text.to_owned(),
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(agent) = &self.agent {
            write!(f, "{agent}: ")?;
        }
        fmt::Display::fmt(&self.kind, f)?;
        if let Some(reason) = self.reason() {
            write!(f, ": {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportError {
    /// The cause behind the reason `Display` states: `None` for the transports' own errors (the
    /// message says it all), the next error in the chain for a custom transport's error.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let source = self.source.as_deref()?;
        if source.is::<ureq::Error>() || source.is::<io::Error>() {
            return None;
        }
        source.source()
    }
}
