//! HTTPS for the test agent: a small rustls terminator in front of the plain tiny_http listener
//! (tiny_http's own TLS cannot require client certificates). Each accepted connection gets a
//! rustls `ServerConnection` (with an optional client-certificate verifier) and its own plain
//! connection to the internal listener; bytes are piped both ways, so the agent records
//! requests exactly as it does over plain HTTP.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection};

use super::lock;

/// The test agent's TLS identity, and whether it requires client certificates.
///
/// ```no_run
/// use nomad_blocking::test_agent::{TestAgent, TlsServerConfig};
///
/// let cert_pem = std::fs::read("server.pem")?; // e.g. from `nomad tls cert create -server`
/// let key_pem = std::fs::read("server-key.pem")?;
/// let ca_pem = std::fs::read("nomad-agent-ca.pem")?;
/// let agent = TestAgent::builder().start_tls(TlsServerConfig::new(cert_pem, key_pem).require_client_cert(&ca_pem))?;
/// assert!(agent.url().starts_with("https://127.0.0.1:"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct TlsServerConfig {
    cert_chain_pem: Vec<u8>,
    key_pem: Vec<u8>,
    client_ca_pem: Option<Vec<u8>>,
    tls12_only: bool,
}

impl std::fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServerConfig")
            .field("requires_client_cert", &self.client_ca_pem.is_some())
            .field("tls12_only", &self.tls12_only)
            .finish_non_exhaustive()
    }
}

impl TlsServerConfig {
    /// The server certificate chain (PEM, leaf first) and its private key (PEM: `PRIVATE KEY`,
    /// `EC PRIVATE KEY` or `RSA PRIVATE KEY`).
    pub fn new(cert_chain_pem: impl AsRef<[u8]>, key_pem: impl AsRef<[u8]>) -> Self {
        TlsServerConfig {
            cert_chain_pem: cert_chain_pem.as_ref().to_vec(),
            key_pem: key_pem.as_ref().to_vec(),
            client_ca_pem: None,
            tls12_only: false,
        }
    }

    /// Requires a client certificate issued by one of the CAs in `client_ca_pem` (like Nomad's
    /// `verify_https_client = true`).
    pub fn require_client_cert(mut self, client_ca_pem: impl AsRef<[u8]>) -> Self {
        self.client_ca_pem = Some(client_ca_pem.as_ref().to_vec());
        self
    }

    /// Speaks TLS 1.2 only (default: TLS 1.2 and 1.3).
    pub fn tls12_only(mut self) -> Self {
        self.tls12_only = true;
        self
    }

    fn server_config(&self) -> io::Result<Arc<ServerConfig>> {
        let bad =
            |what: &str, e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {e}"));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&self.cert_chain_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| bad("server certificate", &e))?;
        if chain.is_empty() {
            return Err(bad("server certificate", &"no CERTIFICATE block"));
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem).map_err(|e| bad("server key", &e))?;
        let versions: &[&rustls::SupportedProtocolVersion] = if self.tls12_only {
            &[&rustls::version::TLS12]
        } else {
            &[&rustls::version::TLS13, &rustls::version::TLS12]
        };
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(versions)
            .map_err(|e| bad("TLS versions", &e))?;
        let builder = match &self.client_ca_pem {
            Some(ca_pem) => {
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(ca_pem) {
                    let cert = cert.map_err(|e| bad("client CA", &e))?;
                    roots.add(cert).map_err(|e| bad("client CA", &e))?;
                }
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                    .build()
                    .map_err(|e| bad("client CA", &e))?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let config = builder
            .with_single_cert(chain, key)
            .map_err(|e| bad("server certificate and key", &e))?;
        Ok(Arc::new(config))
    }
}

/// The running terminator; stops (and cuts its connections) when dropped.
pub(crate) struct TlsFront {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<JoinHandle<()>>,
}

impl TlsFront {
    /// Listens on `127.0.0.1:0` and forwards decrypted traffic to `backend`.
    pub(crate) fn start(tls: &TlsServerConfig, backend: SocketAddr) -> io::Result<TlsFront> {
        let config = tls.server_config()?;
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let conns = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let stop = Arc::clone(&stop);
            let conns = Arc::clone(&conns);
            std::thread::Builder::new()
                .name("nomad-test-agent-tls".into())
                .spawn(move || accept_loop(&listener, &config, backend, &stop, &conns))?
        };
        Ok(TlsFront {
            addr,
            stop,
            conns,
            thread: Some(thread),
        })
    }

    /// The public (TLS) address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for conn in lock(&self.conns).drain(..) {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    config: &Arc<ServerConfig>,
    backend: SocketAddr,
    stop: &AtomicBool,
    conns: &Mutex<Vec<TcpStream>>,
) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        if let Ok(clone) = stream.try_clone() {
            let mut conns = lock(conns);
            conns.push(clone);
        }
        let config = Arc::clone(config);
        let _ = std::thread::Builder::new()
            .name("nomad-test-agent-tls-conn".into())
            .spawn(move || serve_connection(stream, config, backend));
    }
}

/// Writes out whatever rustls has queued (handshake messages, records, alerts).
fn flush(conn: &mut ServerConnection, mut tcp: &TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        conn.write_tls(&mut tcp)?;
    }
    tcp.flush()
}

fn serve_connection(tcp: TcpStream, config: Arc<ServerConfig>, backend: SocketAddr) {
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let conn = Arc::new(Mutex::new(conn));
    let (Ok(plain), Ok(tcp_out)) = (TcpStream::connect(backend), tcp.try_clone()) else {
        return;
    };
    let Ok(plain_in) = plain.try_clone() else { return };

    // Agent → client: encrypt whatever the plain listener answers.
    {
        let conn = Arc::clone(&conn);
        let _ = std::thread::Builder::new()
            .name("nomad-test-agent-tls-out".into())
            .spawn(move || {
                let mut plain_in = plain_in;
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let n = match plain_in.read(&mut buf) {
                        Ok(0) | Err(_) => 0,
                        Ok(n) => n,
                    };
                    let mut c = lock(&conn);
                    if n == 0 {
                        c.send_close_notify();
                        let _ = flush(&mut c, &tcp_out);
                        let _ = tcp_out.shutdown(Shutdown::Write);
                        return;
                    }
                    if c.writer().write_all(&buf[..n]).is_err() || flush(&mut c, &tcp_out).is_err() {
                        let _ = tcp_out.shutdown(Shutdown::Both);
                        return;
                    }
                }
            });
    }

    // Client → agent: decrypt and forward.
    let mut tcp_in = &tcp;
    let mut plain_out = &plain;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match tcp_in.read(&mut buf) {
            Ok(0) | Err(_) => {
                let _ = plain.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        let mut plaintext = Vec::new();
        let mut closed = false;
        {
            let mut c = lock(&conn);
            let mut input = &buf[..n];
            while !input.is_empty() {
                if c.read_tls(&mut input).is_err() {
                    break;
                }
                match c.process_new_packets() {
                    Ok(state) => {
                        let want = state.plaintext_bytes_to_read();
                        if want > 0 {
                            let start = plaintext.len();
                            plaintext.resize(start + want, 0);
                            let got = c.reader().read(&mut plaintext[start..]).unwrap_or(0);
                            plaintext.truncate(start + got);
                        }
                        closed |= state.peer_has_closed();
                    }
                    Err(_) => {
                        // Send the alert (certificate_required, unknown_ca, …), then let the
                        // client read it before the connection goes away: closing at once
                        // would turn the client's pending request into a reset that could
                        // overtake the alert.
                        let _ = flush(&mut c, &tcp);
                        drop(c);
                        linger(&tcp);
                        let _ = plain.shutdown(Shutdown::Both);
                        let _ = tcp.shutdown(Shutdown::Both);
                        return;
                    }
                }
            }
            if flush(&mut c, &tcp).is_err() {
                let _ = plain.shutdown(Shutdown::Both);
                return;
            }
        }
        if !plaintext.is_empty() && plain_out.write_all(&plaintext).is_err() {
            let _ = tcp.shutdown(Shutdown::Both);
            return;
        }
        if closed {
            let _ = plain.shutdown(Shutdown::Write);
            return;
        }
    }
}

/// Reads and discards until the client closes, for at most two seconds.
fn linger(tcp: &TcpStream) {
    let _ = tcp.shutdown(Shutdown::Write);
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut buf = [0u8; 4096];
    let mut tcp = tcp;
    while Instant::now() < deadline {
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(100)));
        match tcp.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
            Err(_) => return,
        }
    }
}
