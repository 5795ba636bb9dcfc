//! TLS for `https://` agents: the rustls client configuration the blocking client connects with,
//! public so that a client of your own (tokio + hyper + tokio-rustls, or anything that speaks
//! rustls) trusts exactly what the blocking client trusts.
//!
//! [`client_config`] turns a [`Config`]'s TLS settings into a [`rustls::ClientConfig`]: the
//! trusted roots (`NOMAD_CACERT`, `NOMAD_CAPATH` or a CA PEM in memory; else the system's roots,
//! as the `nomad` CLI, or Mozilla's, see [`RootCertificates`]), the client certificate for mutual
//! TLS (files or PEM in memory) and `NOMAD_SKIP_VERIFY` ([`InsecureSkipVerify`]). [`server_name`]
//! is the name to verify the agent's certificate against (`NOMAD_TLS_SERVER_NAME`, else the
//! address's host). [`UreqTransport`](crate::UreqTransport) connects with the very same
//! `ClientConfig` and name, so the two cannot disagree.
//!
//! ```
//! use nomad_blocking::tls::{self, RootCertificates};
//! use nomad_blocking::Config;
//!
//! let config = Config::builder()
//!     .address("https://10.0.0.5:4646")
//!     .tls_server_name("server.global.nomad")
//!     .build()?;
//! let rustls_config = tls::client_config(&config, RootCertificates::WebPki)?;
//! let name = tls::server_name(&config)?;
//! assert_eq!(name.to_str(), "server.global.nomad");
//! // With tokio-rustls: TlsConnector::from(rustls_config).connect(name, tcp_stream).await
//! # let _ = rustls_config;
//! # Ok::<(), nomad_blocking::Error>(())
//! ```
//!
//! The `tls` feature (on by default) provides this module.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nomad_proto::{Address, Config, TlsSettings};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::SetupError;

pub use rustls;

/// Where trusted roots come from when no CA is configured (no `NOMAD_CACERT`, `NOMAD_CAPATH`
/// or CA PEM in memory; with one of them, it alone is trusted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootCertificates {
    /// The system's trusted roots, as the `nomad` CLI uses them (Go's system pool): on Linux
    /// the distribution's bundle (such as `/etc/ssl/certs/ca-certificates.crt`), or
    /// `SSL_CERT_FILE` and `SSL_CERT_DIR` when either is set; the keychain on macOS, the
    /// certificate store on Windows. Read when the client is built (with
    /// [rustls-native-certs](https://docs.rs/rustls-native-certs)); a store without any usable
    /// certificate is [`SetupError::NoSystemRoots`]. The default.
    #[default]
    System,
    /// Mozilla's roots compiled into the program ([webpki-roots](https://docs.rs/webpki-roots)),
    /// whatever the system trusts: what nomad-blocking 0.1 trusted by default.
    WebPki,
}

/// The rustls configuration for `config`'s TLS settings, with `roots` when no CA is configured.
///
/// Reads and checks every TLS file (and PEM in memory) now: a missing file, a PEM without a
/// certificate, a key that does not belong to the client certificate are errors here, not on
/// every connection. The configuration uses rustls' ring provider, TLS 1.2 and 1.3, and no ALPN
/// (the agent speaks HTTP/1.1). With `NOMAD_SKIP_VERIFY`, the server verifier is
/// [`InsecureSkipVerify`] (the configured CA files are still read and checked).
///
/// The address does not matter here (an `http://` address gets a configuration all the same);
/// [`server_name`] gives the name to verify.
///
/// # Errors
///
/// [`SetupError::ReadFile`] for a file that cannot be read, [`SetupError::InvalidPem`] for a
/// file or PEM without what it should hold (`path` is `<memory>` for a PEM given in memory),
/// [`SetupError::InvalidSetting`] for a client certificate without its key (or the other way
/// round), [`SetupError::NoSystemRoots`] when [`RootCertificates::System`] is to be used and the
/// system store has no usable certificate.
pub fn client_config(config: &Config, roots: RootCertificates) -> Result<Arc<ClientConfig>, SetupError> {
    build_client_config(config.tls(), roots)
}

/// The name the agent's certificate is verified against, and sent as SNI: `NOMAD_TLS_SERVER_NAME`
/// (Nomad's certificates name `server.<region>.nomad`) if set, else the host of the address (a
/// DNS name or an IP address).
///
/// # Errors
///
/// [`SetupError::InvalidSetting`] for a server name that is neither a DNS name nor an IP
/// address, or a `unix://` address (which has no host) without a server name.
pub fn server_name(config: &Config) -> Result<ServerName<'static>, SetupError> {
    if let Some(name) = config
        .tls()
        .server_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return ServerName::try_from(name.to_owned()).map_err(|_| SetupError::InvalidSetting {
            setting: "tls_server_name",
            reason: format!("`{name}` is not a valid DNS name or IP address"),
        });
    }
    let authority = match config.address() {
        Address::Http { authority, .. } => authority,
        other => {
            return Err(SetupError::InvalidSetting {
                setting: "address",
                reason: format!("`{other}` has no host to verify a certificate against; set a TLS server name"),
            })
        }
    };
    host_name(authority)
}

/// The server name of a `host[:port]` authority (brackets of an IPv6 literal removed).
pub(crate) fn host_name(authority: &str) -> Result<ServerName<'static>, SetupError> {
    let invalid = || SetupError::InvalidSetting {
        setting: "address",
        reason: format!("`{authority}` has no host usable as a TLS server name"),
    };
    let parsed: nomad_proto::http::uri::Authority = authority.parse().map_err(|_| invalid())?;
    let host = parsed.host();
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    ServerName::try_from(bare.to_owned()).map_err(|_| invalid())
}

// ---- Building the configuration

/// `tls` as a rustls configuration. The one place where TLS settings become rustls objects.
pub(crate) fn build_client_config(tls: &TlsSettings, roots: RootCertificates) -> Result<Arc<ClientConfig>, SetupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| SetupError::InvalidSetting {
            setting: "tls",
            reason: e.to_string(),
        })?;
    let configured = configured_roots(tls)?;
    let builder = if tls.skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(InsecureSkipVerify::new(Arc::clone(&provider))))
    } else {
        let store = match configured {
            Some(store) => store,
            None => default_roots(roots)?,
        };
        builder.with_root_certificates(store)
    };
    let config = match client_identity(tls)? {
        Some(identity) => {
            let source = identity.key_source.clone();
            builder
                .with_client_auth_cert(identity.chain, identity.key)
                .map_err(|e| key_error(e, &source))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Where a PEM came from, as errors show it: a path, or `<memory>`.
#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Memory,
}

impl Source {
    fn show(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Memory => "<memory>".to_owned(),
        }
    }
}

fn invalid_pem(what: &'static str, source: &Source, reason: &str) -> SetupError {
    SetupError::InvalidPem {
        what,
        path: source.show(),
        reason: reason.to_owned(),
    }
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, SetupError> {
    std::fs::read(path).map_err(|source| SetupError::ReadFile {
        what,
        path: path.display().to_string(),
        source,
    })
}

/// The certificates of a PEM (other blocks, such as keys, are skipped).
fn pem_certs(pem: &[u8], what: &'static str, source: &Source) -> Result<Vec<CertificateDer<'static>>, SetupError> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid_pem(what, source, &format!("unreadable PEM ({e})")))
}

/// The configured CA (file, else PEM in memory, else directory, as go-rootcerts 1.0.2 picks
/// one), or `None` when none is configured.
fn configured_roots(tls: &TlsSettings) -> Result<Option<RootCertStore>, SetupError> {
    const WHAT: &str = "CA certificate";
    let mut store = RootCertStore::empty();
    let (pem, source) = if let Some(path) = &tls.ca_cert {
        (read_file(WHAT, path)?, Source::File(path.clone()))
    } else if let Some(pem) = &tls.ca_cert_pem {
        (pem.clone(), Source::Memory)
    } else if let Some(dir) = &tls.ca_path {
        add_ca_dir(&mut store, dir)?;
        return Ok(Some(store));
    } else {
        return Ok(None);
    };
    let certs = pem_certs(&pem, WHAT, &source)?;
    if certs.is_empty() {
        return Err(invalid_pem(WHAT, &source, "no CERTIFICATE block found"));
    }
    add_roots(&mut store, certs, WHAT, &source)?;
    Ok(Some(store))
}

/// Every PEM certificate of every file under `dir`, as Go's `NOMAD_CAPATH` walk reads them:
/// files without certificates (a README, a CRL, a key) are skipped.
fn add_ca_dir(store: &mut RootCertStore, dir: &Path) -> Result<(), SetupError> {
    let mut files = Vec::new();
    collect_files(dir, 0, &mut files)?;
    files.sort();
    for path in files {
        let pem = read_file("CA certificate", &path)?;
        let source = Source::File(path);
        let Ok(certs) = pem_certs(&pem, "CA certificate", &source) else {
            continue;
        };
        add_roots(store, certs, "CA certificate", &source)?;
    }
    if store.is_empty() {
        return Err(invalid_pem(
            "CA directory",
            &Source::File(dir.to_owned()),
            "no PEM certificate in any file",
        ));
    }
    Ok(())
}

/// Every file under `dir`, a few levels deep, not following symlinked directories.
fn collect_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), SetupError> {
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

/// Adds configured CA certificates, refusing any that rustls cannot use as a trust anchor
/// (skipping it would turn every connection into an "untrusted" failure).
fn add_roots(
    store: &mut RootCertStore,
    certs: Vec<CertificateDer<'static>>,
    what: &'static str,
    source: &Source,
) -> Result<(), SetupError> {
    for (i, cert) in certs.into_iter().enumerate() {
        store
            .add(cert)
            .map_err(|e| invalid_pem(what, source, &format!("certificate #{} is not usable: {e}", i + 1)))?;
    }
    Ok(())
}

/// The roots used when no CA is configured.
fn default_roots(roots: RootCertificates) -> Result<RootCertStore, SetupError> {
    match roots {
        RootCertificates::WebPki => Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
        RootCertificates::System => system_roots(),
    }
}

/// The system store. Certificates rustls cannot use are skipped (system bundles hold a few),
/// as are unreadable files while others load; a store with nothing usable is an error.
fn system_roots() -> Result<RootCertStore, SetupError> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let total = found.certs.len();
    let (added, _ignored) = store.add_parsable_certificates(found.certs);
    if added > 0 {
        return Ok(store);
    }
    let mut reason = match total {
        0 => "no certificate found".to_owned(),
        n => format!("none of its {n} certificates is usable"),
    };
    for error in found.errors.iter().take(3) {
        reason.push_str(&format!("; {error}"));
    }
    if let Ok(file) = std::env::var("SSL_CERT_FILE") {
        reason.push_str(&format!(" (SSL_CERT_FILE={file})"));
    }
    if let Ok(dir) = std::env::var("SSL_CERT_DIR") {
        reason.push_str(&format!(" (SSL_CERT_DIR={dir})"));
    }
    Err(SetupError::NoSystemRoots { reason })
}

/// The client certificate chain and key to present, with where the key came from.
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    key_source: Source,
}

/// The client certificate: the files if either is set, else the PEMs in memory (as the Go
/// client's `ConfigureTLS`); each source needs both halves.
fn client_identity(tls: &TlsSettings) -> Result<Option<Identity>, SetupError> {
    let half = |setting: &'static str| SetupError::InvalidSetting {
        setting,
        reason: "both client cert and client key must be provided".into(),
    };
    let (cert_pem, cert_source, key_pem, key_source) = if tls.client_cert.is_some() || tls.client_key.is_some() {
        let (Some(cert), Some(key)) = (&tls.client_cert, &tls.client_key) else {
            return Err(half("client_cert"));
        };
        (
            read_file("client certificate", cert)?,
            Source::File(cert.clone()),
            read_file("client key", key)?,
            Source::File(key.clone()),
        )
    } else if tls.client_cert_pem.is_some() || tls.client_key_pem.is_some() {
        let (Some(cert), Some(key)) = (&tls.client_cert_pem, &tls.client_key_pem) else {
            return Err(half("client_cert_pem"));
        };
        (cert.clone(), Source::Memory, key.expose().to_vec(), Source::Memory)
    } else {
        return Ok(None);
    };
    let chain = pem_certs(&cert_pem, "client certificate", &cert_source)?;
    if chain.is_empty() {
        return Err(invalid_pem(
            "client certificate",
            &cert_source,
            "no CERTIFICATE block found",
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        let text = String::from_utf8_lossy(&key_pem);
        let reason = if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
            "the key is encrypted; decrypt it first (openssl pkey -in key.pem -out key-plain.pem)".to_owned()
        } else {
            // The error names the PEM section kinds, never key material.
            format!("no EC PRIVATE KEY, PRIVATE KEY or RSA PRIVATE KEY block found ({e})")
        };
        invalid_pem("client key", &key_source, &reason)
    })?;
    Ok(Some(Identity { chain, key, key_source }))
}

fn key_error(error: rustls::Error, source: &Source) -> SetupError {
    let reason = match error {
        rustls::Error::InconsistentKeys(_) => "the key does not belong to the client certificate".to_owned(),
        other => format!("unsupported or invalid key: {other}"),
    };
    invalid_pem("client key", source, &reason)
}

// ---- NOMAD_SKIP_VERIFY

/// **Accepts any server certificate: anyone on the network path can impersonate the agent and
/// read every request, ACL token included.** The verifier of `NOMAD_SKIP_VERIFY` /
/// [`ConfigBuilder::skip_verify(true)`](nomad_proto::ConfigBuilder::skip_verify), used by
/// [`client_config`] only when that is set, and never otherwise.
///
/// Like Go's `InsecureSkipVerify` (what the `nomad` CLI does with `-tls-skip-verify`), it
/// checks neither the certificate chain nor the name, but still checks that the server holds
/// the key of the certificate it sent (the handshake signature). Prefer trusting the agent's CA
/// (`NOMAD_CACERT`, [`ConfigBuilder::ca_cert_pem`](nomad_proto::ConfigBuilder::ca_cert_pem)).
#[derive(Debug)]
pub struct InsecureSkipVerify {
    provider: Arc<CryptoProvider>,
}

impl InsecureSkipVerify {
    /// The verifier, checking handshake signatures with `provider`'s algorithms.
    #[must_use]
    pub fn new(provider: Arc<CryptoProvider>) -> Self {
        InsecureSkipVerify { provider }
    }
}

impl ServerCertVerifier for InsecureSkipVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
