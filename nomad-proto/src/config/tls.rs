//! [`TlsSettings`]: where the transport finds the trusted CAs and the client certificate.

use std::fmt;
use std::path::PathBuf;

use super::secret::SecretBytes;

/// TLS settings, named after the `nomad` CLI's variables and the Go client's `api.TLSConfig`
/// fields. nomad-proto only carries them; a transport (such as nomad-blocking's) loads them.
///
/// Where the trusted CAs come from, as in the Go client (`api.ConfigureTLS` with
/// go-rootcerts 1.0.2, which Nomad's `api` module requires): the first of [`ca_cert`](Self::ca_cert)
/// (a file), [`ca_cert_pem`](Self::ca_cert_pem) (in memory) and [`ca_path`](Self::ca_path)
/// (a directory) that is set is used **alone**; with none of them, the transport's default
/// roots (the system's, for nomad-blocking). The client certificate: the files
/// ([`client_cert`](Self::client_cert) and [`client_key`](Self::client_key)) if either is set,
/// else the PEMs in memory; each source needs both halves.
///
/// `Debug` shows the paths and the size of in-memory certificates, never the client key.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSettings {
    /// `NOMAD_CACERT`: a PEM file with one or more CA certificates.
    pub ca_cert: Option<PathBuf>,
    /// `NOMAD_CAPATH`: a directory of PEM CA certificates. Ignored when `ca_cert` or
    /// `ca_cert_pem` is set, as in the Go client.
    pub ca_path: Option<PathBuf>,
    /// One or more PEM CA certificates in memory (the Go client's `CACertPEM`). Ignored when
    /// `ca_cert` is set; used instead of `ca_path`.
    pub ca_cert_pem: Option<Vec<u8>>,
    /// `NOMAD_CLIENT_CERT`: the client certificate (PEM) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// `NOMAD_CLIENT_KEY`: the client key (PEM: `EC PRIVATE KEY`, `PRIVATE KEY` or `RSA PRIVATE KEY`).
    pub client_key: Option<PathBuf>,
    /// The client certificate chain in memory (PEM, leaf first; the Go client's
    /// `ClientCertPEM`). Used only when neither `client_cert` nor `client_key` is set.
    pub client_cert_pem: Option<Vec<u8>>,
    /// The client key in memory (PEM, the same formats as `client_key`; the Go client's
    /// `ClientKeyPEM`). Never shown by `Debug`.
    pub client_key_pem: Option<SecretBytes>,
    /// `NOMAD_TLS_SERVER_NAME`: verify the server certificate against this name instead of the
    /// address host (Nomad issues `server.<region>.nomad` certificates).
    pub server_name: Option<String>,
    /// `NOMAD_SKIP_VERIFY`: do not verify the server certificate. Off unless explicitly set.
    pub skip_verify: bool,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = |pem: &Option<Vec<u8>>| pem.as_ref().map(|p| format!("<{} bytes of PEM>", p.len()));
        f.debug_struct("TlsSettings")
            .field("ca_cert", &self.ca_cert)
            .field("ca_path", &self.ca_path)
            .field("ca_cert_pem", &size(&self.ca_cert_pem))
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("client_cert_pem", &size(&self.client_cert_pem))
            .field("client_key_pem", &self.client_key_pem)
            .field("server_name", &self.server_name)
            .field("skip_verify", &self.skip_verify)
            .finish()
    }
}
