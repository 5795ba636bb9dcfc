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

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(error: ureq::Error) -> TransportErrorKind {
        classify(error, false).kind().clone()
    }

    /// Failures ureq reports before any byte reaches the agent are connect failures: the
    /// address, the name or the proxy is what to fix.
    #[test]
    fn unresolvable_names_failed_connections_and_refused_tunnels_are_connect_failures() {
        for error in [
            ureq::Error::HostNotFound,
            ureq::Error::ConnectionFailed,
            ureq::Error::ConnectProxyFailed("403 Forbidden".to_owned()),
        ] {
            let shown = error.to_string();
            assert_eq!(kind(error), TransportErrorKind::Connect, "{shown}");
        }
    }

    #[test]
    fn every_ureq_timeout_names_its_phase() {
        use ureq::Timeout as T;
        for (timeout, phase) in [
            (T::Resolve, TimeoutKind::Resolve),
            (T::Connect, TimeoutKind::Connect),
            (T::Global, TimeoutKind::Call),
            (T::PerCall, TimeoutKind::Call),
            (T::PerRead, TimeoutKind::Read),
            (T::RecvResponse, TimeoutKind::Read),
            (T::RecvBody, TimeoutKind::Read),
            (T::PerWrite, TimeoutKind::Write),
            (T::SendRequest, TimeoutKind::Write),
            (T::SendBody, TimeoutKind::Write),
        ] {
            assert_eq!(
                kind(ureq::Error::Timeout(timeout)),
                TransportErrorKind::Timeout(phase),
                "{timeout:?}"
            );
        }
    }

    /// ureq's own TLS complaints (no TLS provider for an `https://` address, a TLS setup it
    /// refuses) are TLS problems with ureq's words, not "transport failed".
    #[test]
    fn ureq_tls_errors_are_tls_problems_that_keep_their_words() {
        let TransportErrorKind::Tls(TlsProblem::Handshake(m)) = kind(ureq::Error::Tls("no root certificates")) else {
            panic!("not a TLS problem");
        };
        assert_eq!(m, "no root certificates");
        let TransportErrorKind::Tls(TlsProblem::Handshake(m)) = kind(ureq::Error::TlsRequired) else {
            panic!("not a TLS problem");
        };
        assert!(m.contains("TLS"), "{m}");
    }

    /// The transport's TLS connector marks a connection cut during the handshake; that is a TLS
    /// problem that suggests http://, not a protocol error.
    #[test]
    fn a_connection_cut_during_the_handshake_suggests_plain_http() {
        let io = std::io::Error::new(std::io::ErrorKind::UnexpectedEof, HandshakeCut);
        let TransportErrorKind::Tls(TlsProblem::Handshake(m)) = kind(ureq::Error::Io(io)) else {
            panic!("not a TLS problem");
        };
        assert!(m.contains("http://"), "{m}");
    }

    /// Go's TLS 1.2 server answers a missing client certificate with `bad_certificate`: without a
    /// certificate configured it means one is required; with one, that it was rejected.
    #[cfg(feature = "tls")]
    #[test]
    fn a_bad_certificate_alert_depends_on_whether_a_certificate_was_sent() {
        use rustls::AlertDescription as A;
        for alert in [
            A::BadCertificate,
            A::CertificateUnknown,
            A::UnknownCA,
            A::UnsupportedCertificate,
        ] {
            let error = rustls::Error::AlertReceived(alert);
            assert_eq!(
                classify_rustls(&error, false),
                TlsProblem::ClientCertificateRequired,
                "{alert:?}"
            );
            assert_eq!(
                classify_rustls(&error, true),
                TlsProblem::ClientCertificateRejected,
                "{alert:?}"
            );
        }
        let required = rustls::Error::AlertReceived(A::CertificateRequired);
        assert_eq!(classify_rustls(&required, true), TlsProblem::ClientCertificateRequired);
    }
}
