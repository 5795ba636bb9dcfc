//! The TLS part of `ConfigBuilder`: certificates and keys in memory (the Go client's
//! `CACertPEM`, `ClientCertPEM`, `ClientKeyPEM`), how explicit settings and the `NOMAD_*`
//! variables combine, and a `Debug` that never shows the key.

use std::path::PathBuf;

use nomad_proto::{Config, SecretBytes};

const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIAbc-secret-key-bytes\n-----END EC PRIVATE KEY-----\n";

fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> + Send + Sync {
    move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
}

const TLS_VARS: &[(&str, &str)] = &[
    ("NOMAD_CACERT", "/env/ca.pem"),
    ("NOMAD_CAPATH", "/env/cas"),
    ("NOMAD_CLIENT_CERT", "/env/cli.pem"),
    ("NOMAD_CLIENT_KEY", "/env/cli-key.pem"),
];

#[test]
fn pems_in_memory_are_carried_as_given() {
    let c = Config::builder()
        .ca_cert_pem("ca pem")
        .client_cert_pem(b"cert pem".to_vec())
        .client_key_pem(KEY)
        .build()
        .unwrap();
    let tls = c.tls();
    assert_eq!(tls.ca_cert_pem.as_deref(), Some(b"ca pem".as_slice()));
    assert_eq!(tls.client_cert_pem.as_deref(), Some(b"cert pem".as_slice()));
    assert_eq!(
        tls.client_key_pem.as_ref().map(SecretBytes::expose),
        Some(KEY.as_bytes())
    );
}

#[test]
fn the_key_never_shows_in_debug() {
    let c = Config::builder()
        .client_cert_pem("cert pem")
        .client_key_pem(KEY)
        .ca_cert_pem("ca pem")
        .build()
        .unwrap();
    for shown in [format!("{c:?}"), format!("{:?}", c.tls()), format!("{:#?}", c.tls())] {
        assert!(!shown.contains("secret-key-bytes"), "{shown}");
        assert!(
            shown.contains("client_key_pem: Some(<redacted>)") || shown.contains("<redacted>"),
            "{shown}"
        );
    }
    assert_eq!(format!("{:?}", SecretBytes::new(KEY)), "<redacted>");
    // The certificates' sizes are shown, not their bytes.
    assert!(format!("{:?}", c.tls()).contains("<6 bytes of PEM>"));
}

#[test]
fn an_explicit_ca_pem_means_the_ca_variables_are_not_read() {
    let c = Config::builder()
        .env_lookup(env(TLS_VARS))
        .ca_cert_pem("pem")
        .build()
        .unwrap();
    let tls = c.tls();
    assert_eq!(tls.ca_cert, None, "NOMAD_CACERT would win over the PEM: it is not read");
    assert_eq!(tls.ca_path, None);
    assert!(tls.ca_cert_pem.is_some());
    // The client certificate variables are another setting: still read.
    assert_eq!(tls.client_cert, Some(PathBuf::from("/env/cli.pem")));
}

#[test]
fn an_explicit_ca_directory_means_nomad_cacert_is_not_read() {
    let c = Config::builder()
        .env_lookup(env(TLS_VARS))
        .ca_path("/explicit/cas")
        .build()
        .unwrap();
    assert_eq!(c.tls().ca_cert, None);
    assert_eq!(c.tls().ca_path, Some(PathBuf::from("/explicit/cas")));
}

#[test]
fn an_explicit_client_pem_means_the_client_variables_are_not_read() {
    for builder in [
        Config::builder().client_cert_pem("cert"),
        Config::builder().client_key_pem(KEY),
    ] {
        let c = builder.env_lookup(env(TLS_VARS)).build().unwrap();
        let tls = c.tls();
        assert_eq!((tls.client_cert.clone(), tls.client_key.clone()), (None, None));
        assert_eq!(
            tls.ca_cert,
            Some(PathBuf::from("/env/ca.pem")),
            "the CA variables still are"
        );
    }
    // Without explicit client settings, a half pair from the environment is still an error.
    let err = Config::builder()
        .env_lookup(env(&[("NOMAD_CLIENT_CERT", "/env/cli.pem")]))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("NOMAD_CLIENT_KEY"), "{err}");
}
