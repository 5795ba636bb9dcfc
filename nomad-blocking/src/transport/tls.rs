//! The TLS settings of `https://` addresses: the CA (file or directory), the client certificate
//! and key, read and checked once when the transport is built, so that a bad file is a
//! [`SetupError`] naming it instead of a failure on every call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use nomad_proto::TlsSettings;

use crate::error::SetupError;

/// ureq's TLS configuration for `tls`.
pub(super) fn tls_config(tls: &TlsSettings) -> Result<ureq::tls::TlsConfig, SetupError> {
    use ureq::tls::{ClientCert, PrivateKey, RootCerts, TlsConfig};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // The same provider for the checks below and for the connections, so that whatever
    // loads here also works in ureq (which would panic on a key it cannot use).
    let mut builder = TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::clone(&provider));
    let mut roots: Vec<ureq::tls::Certificate<'static>> = Vec::new();
    if let Some(path) = &tls.ca_cert {
        let pem = read_file("CA certificate", path)?;
        let certs = pem_certs(&pem, "CA certificate", path)?;
        if certs.is_empty() {
            return Err(invalid_pem("CA certificate", path, "no CERTIFICATE block found"));
        }
        check_roots(&certs, "CA certificate", path)?;
        roots.extend(certs);
    } else if let Some(dir) = &tls.ca_path {
        // As in the Go client (go-rootcerts), a CA file wins over a CA directory.
        let mut files = Vec::new();
        collect_files(dir, 0, &mut files)?;
        files.sort();
        for path in &files {
            let pem = read_file("CA certificate", path)?;
            // Files without certificates (a README, a CRL, a key) are skipped.
            let certs = match pem_certs(&pem, "CA certificate", path) {
                Ok(certs) => certs,
                Err(_) => continue,
            };
            check_roots(&certs, "CA certificate", path)?;
            roots.extend(certs);
        }
        if roots.is_empty() {
            return Err(invalid_pem("CA directory", dir, "no PEM certificate in any file"));
        }
    }
    if !roots.is_empty() {
        builder = builder.root_certs(RootCerts::new_with_certs(&roots));
    }
    match (&tls.client_cert, &tls.client_key) {
        (Some(cert_path), Some(key_path)) => {
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
            check_client_pair(&chain, &key_pem, key_path, &provider)?;
            let key = PrivateKey::from_pem(&key_pem)
                .map_err(|e| invalid_pem("client key", key_path, &format!("no usable private key ({e})")))?
                .to_owned();
            builder = builder.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => {
            return Err(SetupError::InvalidSetting {
                setting: "client_cert",
                reason: "both client cert and client key must be provided".into(),
            })
        }
    }
    if tls.skip_verify {
        builder = builder.disable_verification(true);
    }
    Ok(builder.build())
}

/// Every file under `dir` (following Go's `NOMAD_CAPATH` walk), a few levels deep.
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

/// Rejects CA certificates that rustls cannot use as trust anchors (ureq would silently skip
/// them, and every connection would then fail as "untrusted").
fn check_roots(certs: &[ureq::tls::Certificate<'static>], what: &'static str, path: &Path) -> Result<(), SetupError> {
    for (i, cert) in certs.iter().enumerate() {
        let mut store = rustls::RootCertStore::empty();
        store
            .add(rustls::pki_types::CertificateDer::from(cert.der()))
            .map_err(|e| invalid_pem(what, path, &format!("certificate #{} is not usable: {e}", i + 1)))?;
    }
    Ok(())
}

/// Checks that the key parses, is of a supported type, and belongs to the certificate.
fn check_client_pair(
    chain: &[ureq::tls::Certificate<'static>],
    key_pem: &[u8],
    key_path: &Path,
    provider: &rustls::crypto::CryptoProvider,
) -> Result<(), SetupError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
        let text = String::from_utf8_lossy(key_pem);
        let reason = if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
            "the key is encrypted; decrypt it first (openssl pkey -in key.pem -out key-plain.pem)".to_owned()
        } else {
            format!("no EC PRIVATE KEY, PRIVATE KEY or RSA PRIVATE KEY block found ({e})")
        };
        invalid_pem("client key", key_path, &reason)
    })?;
    let chain: Vec<CertificateDer<'static>> = chain.iter().map(|c| CertificateDer::from(c.der().to_vec())).collect();
    rustls::sign::CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        let reason = match e {
            rustls::Error::InconsistentKeys(_) => "the key does not belong to the client certificate".to_owned(),
            other => format!("unsupported or invalid key: {other}"),
        };
        invalid_pem("client key", key_path, &reason)
    })?;
    Ok(())
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
