//! The TLS step of the ureq connector chain: wraps the TCP connection (or a proxy's `CONNECT`
//! tunnel) in a rustls session made from [`crate::tls::client_config`]'s configuration, so the
//! transport trusts exactly what that public function describes. The configured address is
//! verified against [`crate::tls::server_name`] (`NOMAD_TLS_SERVER_NAME`); any other host
//! (an `https://` proxy) against its own name.

use std::io::{Read, Write};
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use ureq::unversioned::transport::time::{Duration, Instant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

use super::classify::HandshakeCut;

/// Connects `https://` URIs with rustls; passes anything else through. Without a session
/// configuration ([`TlsConnector::plain`], for `http://` addresses) it passes `https://` through
/// too, and ureq then refuses the call (`TLS required`).
#[derive(Debug)]
pub(super) struct TlsConnector(Option<Session>);

#[derive(Debug)]
struct Session {
    config: Arc<ClientConfig>,
    /// The configured address's `host[:port]`, whose certificate must name `server_name`.
    address: String,
    server_name: ServerName<'static>,
}

impl TlsConnector {
    pub(super) fn new(config: Arc<ClientConfig>, address: &str, server_name: ServerName<'static>) -> Self {
        TlsConnector(Some(Session {
            config,
            address: address.to_owned(),
            server_name,
        }))
    }

    /// No TLS (an `http://` address behind no `https://` proxy).
    pub(super) fn plain() -> Self {
        TlsConnector(None)
    }
}

impl Session {
    /// The name to verify for a connection to `authority`.
    fn name_for(&self, authority: &str) -> Result<ServerName<'static>, ureq::Error> {
        if authority.eq_ignore_ascii_case(&self.address) {
            return Ok(self.server_name.clone());
        }
        crate::tls::host_name(authority).map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport<In>>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        // A tunnel through an `https://` proxy is not TLS to the agent (ureq's tunnel transport
        // says so), so the agent's own session goes inside it.
        let Some(session) = self.0.as_ref().filter(|_| details.needs_tls() && !transport.is_tls()) else {
            return Ok(Some(Either::A(transport)));
        };
        let authority = details
            .uri
            .authority()
            .ok_or_else(|| ureq::Error::BadUri(format!("{} has no host", details.uri)))?;
        let name = session.name_for(authority.as_str())?;
        let mut conn = ClientConnection::new(Arc::clone(&session.config), name)
            .map_err(|e| ureq::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
        let mut sock = TransportAdapter::new(transport, Arc::clone(&details.current_time));
        // The connect timeout covers the TCP connect and the handshake together.
        sock.set_timeout(remaining(details));
        conn.complete_io(&mut sock).map_err(handshake_error)?;
        Ok(Some(Either::B(TlsTransport {
            buffers: LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size()),
            stream: StreamOwned::new(conn, sock),
        })))
    }
}

/// What is left of the connect timeout once the connectors before this one are done.
fn remaining(details: &ConnectionDetails) -> NextTimeout {
    let mut timeout = details.timeout;
    if let (Instant::Exact(start), Instant::Exact(now), Duration::Exact(after)) =
        (details.now, (details.current_time)(), timeout.after)
    {
        timeout.after = Duration::Exact(after.saturating_sub(now.saturating_duration_since(start)));
    }
    timeout
}

/// A handshake I/O error as ureq's: a timeout stays a timeout, a connection closed or reset
/// during the handshake is marked [`HandshakeCut`] (typically a plain-HTTP agent behind an
/// `https://` address), rustls errors (alerts, certificate problems) ride inside `Error::Io`.
fn handshake_error(error: std::io::Error) -> ureq::Error {
    use std::io::ErrorKind as K;
    match ureq::Error::from(error) {
        ureq::Error::Io(io)
            if io.get_ref().is_none()
                && matches!(io.kind(), K::UnexpectedEof | K::ConnectionReset | K::ConnectionAborted) =>
        {
            ureq::Error::Io(std::io::Error::new(io.kind(), HandshakeCut))
        }
        other => other,
    }
}

/// A connection inside a rustls session.
pub(super) struct TlsTransport<In: Transport> {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter<In>>,
}

impl<In: Transport> std::fmt::Debug for TlsTransport<In> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport")
            .field("inner", &self.stream.sock.get_ref())
            .finish_non_exhaustive()
    }
}

impl<In: Transport> Transport for TlsTransport<In> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.sock.get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Error, ErrorKind as K};

    use super::*;
    use crate::error::{TimeoutKind, TlsProblem, TransportErrorKind};
    use crate::transport::classify::classify;

    fn kind_of(io: Error) -> TransportErrorKind {
        classify(handshake_error(io), false).kind().clone()
    }

    #[test]
    fn a_connection_closed_or_reset_during_the_handshake_is_a_tls_problem() {
        for k in [K::UnexpectedEof, K::ConnectionReset, K::ConnectionAborted] {
            assert!(
                matches!(
                    kind_of(Error::from(k)),
                    TransportErrorKind::Tls(TlsProblem::Handshake(_))
                ),
                "{k:?}"
            );
        }
    }

    /// Only a bare close or reset is marked: a timed-out handshake stays a timeout, and an
    /// error that carries its own cause (rustls's) keeps it.
    #[test]
    fn other_handshake_errors_keep_their_meaning() {
        assert_eq!(
            kind_of(Error::from(K::TimedOut)),
            TransportErrorKind::Timeout(TimeoutKind::Read)
        );
        let rustls = Error::new(
            K::ConnectionReset,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert_eq!(
            kind_of(rustls),
            TransportErrorKind::Tls(TlsProblem::UntrustedCertificate)
        );
    }
}
