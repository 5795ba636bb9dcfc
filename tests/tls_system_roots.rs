//! With no CA configured, the client trusts what the system trusts, as the `nomad` CLI does
//! (Go's system pool): on Linux the distribution's bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR`
//! when set. Mozilla's compiled-in roots stay available as `RootCertificates::WebPki`.
//!
//! The system store is read from the process environment, so each test re-runs itself alone in
//! a child process of this test binary with exactly the variables its scenario needs (and none
//! of the developer's `NOMAD_*`, `SSL_CERT_*` or proxy variables). The child makes the calls and
//! checks their results; the parent starts the TLS test agent and checks what reached it.

mod support;

use nomad_blocking::test_agent::{TestAgent, TlsServerConfig};
use nomad_blocking::tls::RootCertificates;
use nomad_blocking::{Client, Error, SetupError, TlsProblem};
use support::child::{child_agent_url, run_child};
use support::pki::{self, TempDir};

/// A TLS test agent whose certificate (for 127.0.0.1) is issued by a fresh CA, and that CA's
/// certificate written to `dir/ca.pem`.
fn private_ca_agent(dir: &TempDir) -> (TestAgent, std::path::PathBuf) {
    let ca = pki::ca("Company Root CA (test)");
    let server = ca.server(&["127.0.0.1"]);
    let agent = TestAgent::builder()
        .start_tls(TlsServerConfig::new(&server.cert_pem, &server.key_pkcs8_pem))
        .expect("start the TLS agent");
    let ca_file = dir.write("ca.pem", ca.cert_pem());
    (agent, ca_file)
}

#[test]
fn ssl_cert_file_is_trusted_without_nomad_cacert_and_webpki_roots_do_not_trust_it() {
    if let Some(url) = child_agent_url() {
        assert!(std::env::var_os("NOMAD_CACERT").is_none());
        // As the nomad CLI: NOMAD_ADDR only, the CA comes from the system store.
        let client = Client::from_env().expect("the client builds");
        assert_eq!(client.config().base_url(), url);
        assert_eq!(
            client
                .agent()
                .servers()
                .expect("the system store trusts the agent")
                .len(),
            3
        );
        // Mozilla's roots do not know the private CA.
        let webpki = Client::builder()
            .env()
            .root_certificates(RootCertificates::WebPki)
            .build()
            .expect("the client builds");
        let err = webpki.agent().servers().expect_err("untrusted with webpki roots");
        assert_eq!(err.tls_problem(), Some(&TlsProblem::UntrustedCertificate), "{err:?}");
        return;
    }
    let dir = TempDir::new("ssl-cert-file");
    let (agent, ca_file) = private_ca_agent(&dir);
    run_child(
        "ssl_cert_file_is_trusted_without_nomad_cacert_and_webpki_roots_do_not_trust_it",
        agent.url(),
        &[
            ("SSL_CERT_FILE", ca_file.display().to_string()),
            ("NOMAD_ADDR", agent.url().to_owned()),
        ],
    );
    assert_eq!(
        agent.requests().len(),
        1,
        "only the system-roots call reached the agent"
    );
}

#[test]
fn ssl_cert_dir_is_trusted_too() {
    if let Some(url) = child_agent_url() {
        let client = Client::builder().address(url).build().expect("the client builds");
        assert_eq!(client.agent().servers().expect("trusted through SSL_CERT_DIR").len(), 3);
        return;
    }
    let dir = TempDir::new("ssl-cert-dir");
    let (agent, _) = private_ca_agent(&dir);
    run_child(
        "ssl_cert_dir_is_trusted_too",
        agent.url(),
        &[("SSL_CERT_DIR", dir.path().display().to_string())],
    );
    assert_eq!(agent.requests().len(), 1);
}

#[test]
fn an_empty_system_store_is_a_setup_error_when_an_https_client_is_built() {
    if let Some(url) = child_agent_url() {
        let err = Client::builder().address(&url).build().expect_err("no roots to trust");
        let Error::Setup(SetupError::NoSystemRoots { reason }) = &err else {
            panic!("expected NoSystemRoots, got {err:?}");
        };
        assert!(reason.contains("SSL_CERT_FILE"), "says where it looked: {reason}");
        let text = err.to_string();
        assert!(
            text.contains("NOMAD_CACERT") && text.contains("WebPki"),
            "says what to do: {text}"
        );

        // Nothing needs the system store: a configured CA, skip-verify, webpki roots, plain http.
        let ca = std::env::var("TEST_CA_FILE").unwrap();
        let with_ca = Client::builder()
            .address(&url)
            .config(|b| b.ca_cert(&ca))
            .build()
            .unwrap();
        assert_eq!(with_ca.agent().servers().unwrap().len(), 3);
        let skip = Client::builder()
            .address(&url)
            .config(|b| b.skip_verify(true))
            .build()
            .unwrap();
        assert_eq!(skip.agent().servers().unwrap().len(), 3);
        Client::builder()
            .address(&url)
            .root_certificates(RootCertificates::WebPki)
            .build()
            .expect("webpki roots do not read the system store");
        Client::builder()
            .address("http://127.0.0.1:4646")
            .build()
            .expect("plain http needs no roots");
        return;
    }
    let dir = TempDir::new("ssl-cert-empty");
    let (agent, ca_file) = private_ca_agent(&dir);
    let empty = dir.write("empty-bundle.pem", "# no certificates here\n");
    run_child(
        "an_empty_system_store_is_a_setup_error_when_an_https_client_is_built",
        agent.url(),
        &[
            ("SSL_CERT_FILE", empty.display().to_string()),
            ("TEST_CA_FILE", ca_file.display().to_string()),
        ],
    );
    assert_eq!(
        agent.requests().len(),
        2,
        "the CA-file and skip-verify calls reached the agent"
    );
}

#[test]
fn an_unreadable_ssl_cert_file_is_named_in_the_error() {
    if let Some(url) = child_agent_url() {
        let err = Client::builder().address(&url).build().expect_err("no roots to trust");
        let Error::Setup(SetupError::NoSystemRoots { reason }) = &err else {
            panic!("expected NoSystemRoots, got {err:?}");
        };
        assert!(reason.contains("/nonexistent/bundle.pem"), "{reason}");
        return;
    }
    let dir = TempDir::new("ssl-cert-missing");
    let (agent, _) = private_ca_agent(&dir);
    run_child(
        "an_unreadable_ssl_cert_file_is_named_in_the_error",
        agent.url(),
        &[("SSL_CERT_FILE", "/nonexistent/bundle.pem".to_owned())],
    );
    assert!(agent.requests().is_empty());
}
