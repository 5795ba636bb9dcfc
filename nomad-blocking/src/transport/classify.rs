//! What a failed call means: ureq, I/O and rustls errors as [`TransportError`]s whose kind says
//! what to fix (connect, timeout, TLS problem, protocol).

use crate::error::{TimeoutKind, TlsProblem, TransportError, TransportErrorKind};

/// Classifies a ureq error; `client_cert` says whether a client certificate is configured
/// (it tells a required certificate from a rejected one).
pub(super) fn classify(error: ureq::Error, client_cert: bool) -> TransportError {
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
        U::BodyStalled => TransportErrorKind::Protocol,
        // A gzip body that does not decompress.
        #[cfg(feature = "gzip")]
        U::Decompress(..) => TransportErrorKind::Protocol,
        U::Tls(m) => TransportErrorKind::Tls(TlsProblem::Handshake((*m).to_owned())),
        U::TlsRequired => TransportErrorKind::Tls(TlsProblem::Handshake(error.to_string())),
        U::Io(io) => classify_io(io, client_cert),
        _ => TransportErrorKind::Other,
    };
    TransportError::new(kind, error)
}

#[cfg_attr(not(feature = "tls"), allow(unused_variables))]
fn classify_io(io: &std::io::Error, client_cert: bool) -> TransportErrorKind {
    use std::io::ErrorKind as K;
    // rustls reports handshake and alert failures as io::Error(InvalidData, rustls::Error),
    // which ureq passes on as Error::Io.
    #[cfg(feature = "tls")]
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

#[cfg(feature = "tls")]
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

/// The peer closed the connection in the middle of the TLS handshake (the ureq transport's TLS
/// connector marks such I/O errors with it; [`classify_io`] reports them as TLS problems).
#[derive(Debug)]
pub(super) struct HandshakeCut;

impl std::fmt::Display for HandshakeCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the agent closed the connection during the TLS handshake")
    }
}

impl std::error::Error for HandshakeCut {}
