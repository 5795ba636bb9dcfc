//! `nomad_blocking::tls::client_config` and `tls::server_name` are what an async user connects
//! with (tokio-rustls takes the same `Arc<ClientConfig>` and `ServerName`). Each scenario here
//! connects to the TLS test agent twice: once through the blocking client, once with a bare
//! rustls `ClientConnection` over a `std::net::TcpStream` built from the public functions, and
//! the two must agree: same CA trusted or not, same name accepted or not, the client certificate
//! presented (the agent accepts it) or missing (the agent refuses).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use nomad_blocking::test_agent::{TestAgent, TlsServerConfig};
use nomad_blocking::tls::rustls::{self, pki_types::ServerName, ClientConfig, ClientConnection};
use nomad_blocking::tls::{self as nomad_tls, RootCertificates};
use nomad_blocking::{ClientBuilder, Config, ConfigBuilder, TlsProblem};
use support::pki::{self, KeyType, TempDir};

/// How a connection ended, in terms both paths can report.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// The agent answered with this status.
    Answered(u16),
    UntrustedCertificate,
    NameMismatch,
    /// The agent refused the client (no certificate, or one it does not trust).
    RefusedByAgent,
    Other(String),
}

fn from_problem(problem: &TlsProblem) -> Outcome {
    match problem {
        TlsProblem::UntrustedCertificate => Outcome::UntrustedCertificate,
        TlsProblem::NameMismatch => Outcome::NameMismatch,
        TlsProblem::ClientCertificateRequired | TlsProblem::ClientCertificateRejected => Outcome::RefusedByAgent,
        other => Outcome::Other(format!("{other:?}")),
    }
}

fn from_rustls(error: &rustls::Error) -> Outcome {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match error {
        E::InvalidCertificate(C::UnknownIssuer) => Outcome::UntrustedCertificate,
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => Outcome::NameMismatch,
        E::AlertReceived(A::CertificateRequired | A::BadCertificate | A::UnknownCA | A::DecryptError) => {
            Outcome::RefusedByAgent
        }
        other => Outcome::Other(other.to_string()),
    }
}

/// `GET /v1/agent/servers` through the blocking client.
fn through_the_client(config: &Config, roots: RootCertificates) -> Outcome {
    let client = ClientBuilder::from_config(config.clone())
        .root_certificates(roots)
        .build()
        .expect("the client builds");
    match client.agent().servers() {
        Ok(_) => Outcome::Answered(200),
        Err(e) => match e.tls_problem() {
            Some(p) => from_problem(p),
            None => Outcome::Other(e.to_string()),
        },
    }
}

/// `GET /v1/agent/servers` with a bare rustls session made from the public functions.
fn through_the_public_config(config: &Config, roots: RootCertificates, agent: &TestAgent) -> Outcome {
    let tls_config: Arc<ClientConfig> = nomad_tls::client_config(config, roots).expect("the rustls config builds");
    let name: ServerName<'static> = nomad_tls::server_name(config).expect("a server name");
    let addr = agent.socket_addr().expect("a TCP agent");
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut conn = ClientConnection::new(tls_config, name).expect("a client connection");
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    let request = format!("GET /v1/agent/servers HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut answer = Vec::new();
    let result = tls
        .write_all(request.as_bytes())
        .and_then(|()| tls.read_to_end(&mut answer).map(|_| ()));
    if let Err(e) = result {
        if let Some(tls_error) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            return from_rustls(tls_error);
        }
        if answer.is_empty() {
            return Outcome::Other(e.to_string());
        }
    }
    let text = String::from_utf8_lossy(&answer);
    match text.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
        Some(status) => Outcome::Answered(status),
        None => Outcome::Other(format!("no HTTP answer: {text:?}")),
    }
}

/// Both paths, which must agree, and the outcome they agree on.
fn agreed(config: &Config, roots: RootCertificates, agent: &TestAgent) -> Outcome {
    let client = through_the_client(config, roots);
    let public = through_the_public_config(config, roots, agent);
    assert_eq!(client, public, "the client and the public rustls config disagree");
    client
}

fn agent_for(server: &pki::Leaf, client_ca: Option<&str>) -> TestAgent {
    let mut tls = TlsServerConfig::new(&server.cert_pem, &server.key_pkcs8_pem);
    if let Some(ca) = client_ca {
        tls = tls.require_client_cert(ca);
    }
    TestAgent::builder().start_tls(tls).expect("start the TLS agent")
}

fn config(agent: &TestAgent, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Config {
    f(Config::builder().address(agent.url()))
        .build()
        .expect("the config builds")
}

#[test]
fn the_same_ca_is_trusted_or_not() {
    let dir = TempDir::new("public-ca");
    let ca = pki::ca("Nomad Agent CA (test)");
    let ca_file = dir.write("ca.pem", ca.cert_pem());
    let agent = agent_for(&ca.server(&["127.0.0.1"]), None);
    let other = pki::ca("Some Other CA").cert_pem();

    let file = config(&agent, |b| b.ca_cert(&ca_file));
    assert_eq!(agreed(&file, RootCertificates::System, &agent), Outcome::Answered(200));
    let pem = config(&agent, |b| b.ca_cert_pem(ca.cert_pem()));
    assert_eq!(agreed(&pem, RootCertificates::System, &agent), Outcome::Answered(200));
    let wrong = config(&agent, |b| b.ca_cert_pem(other.clone()));
    assert_eq!(
        agreed(&wrong, RootCertificates::System, &agent),
        Outcome::UntrustedCertificate
    );
    let none = config(&agent, |b| b);
    assert_eq!(
        agreed(&none, RootCertificates::WebPki, &agent),
        Outcome::UntrustedCertificate
    );
    assert_eq!(
        agreed(&none, RootCertificates::System, &agent),
        Outcome::UntrustedCertificate
    );
    assert_eq!(
        agent.requests().len(),
        4,
        "the two trusted pairs of calls reached the agent"
    );
}

#[test]
fn the_same_server_name_is_verified() {
    let ca = pki::ca("Nomad Agent CA (test)");
    let agent = agent_for(&ca.server(&["server.global.nomad"]), None);
    let named = config(&agent, |b| {
        b.ca_cert_pem(ca.cert_pem()).tls_server_name("server.global.nomad")
    });
    assert_eq!(nomad_tls::server_name(&named).unwrap().to_str(), "server.global.nomad");
    assert_eq!(agreed(&named, RootCertificates::System, &agent), Outcome::Answered(200));

    let unnamed = config(&agent, |b| b.ca_cert_pem(ca.cert_pem()));
    assert_eq!(nomad_tls::server_name(&unnamed).unwrap().to_str(), "127.0.0.1");
    assert_eq!(
        agreed(&unnamed, RootCertificates::System, &agent),
        Outcome::NameMismatch
    );

    let wrong = config(&agent, |b| {
        b.ca_cert_pem(ca.cert_pem()).tls_server_name("client.global.nomad")
    });
    assert_eq!(agreed(&wrong, RootCertificates::System, &agent), Outcome::NameMismatch);
}

#[test]
fn the_same_client_certificate_is_presented() {
    let ca = pki::ca("Nomad Agent CA (test)");
    let agent = agent_for(&ca.server(&["127.0.0.1"]), Some(&ca.cert_pem()));
    let cli = ca.client(KeyType::P256);
    let stranger = pki::ca("Some Other CA").client(KeyType::P256);

    let with_cert = config(&agent, |b| {
        b.ca_cert_pem(ca.cert_pem())
            .client_cert_pem(cli.cert_pem.clone())
            .client_key_pem(cli.key_legacy_pem.clone())
    });
    assert_eq!(
        agreed(&with_cert, RootCertificates::System, &agent),
        Outcome::Answered(200)
    );
    assert_eq!(
        agent.requests().len(),
        2,
        "both sessions presented the accepted certificate"
    );

    let with_stranger = config(&agent, |b| {
        b.ca_cert_pem(ca.cert_pem())
            .client_cert_pem(stranger.cert_pem.clone())
            .client_key_pem(stranger.key_pkcs8_pem.clone())
    });
    assert_eq!(
        agreed(&with_stranger, RootCertificates::System, &agent),
        Outcome::RefusedByAgent
    );

    let without = config(&agent, |b| b.ca_cert_pem(ca.cert_pem()));
    assert_eq!(
        agreed(&without, RootCertificates::System, &agent),
        Outcome::RefusedByAgent
    );
    assert_eq!(agent.requests().len(), 2, "the refused sessions sent nothing");
}

#[test]
fn skip_verify_is_the_same_explicit_verifier() {
    let agent = agent_for(&pki::ca("Unknown CA").server(&["server.global.nomad"]), None);
    let skip = config(&agent, |b| b.skip_verify(true));
    assert_eq!(agreed(&skip, RootCertificates::WebPki, &agent), Outcome::Answered(200));
    let verify = config(&agent, |b| b.skip_verify(false));
    assert_eq!(
        agreed(&verify, RootCertificates::WebPki, &agent),
        Outcome::UntrustedCertificate
    );
    // The config says which verifier it uses.
    let tls_config = nomad_tls::client_config(&skip, RootCertificates::WebPki).unwrap();
    assert!(
        format!("{tls_config:?}").contains("InsecureSkipVerify"),
        "{tls_config:?}"
    );
}

#[test]
fn a_unix_address_has_no_server_name_unless_one_is_set() {
    let unix = Config::builder().address("unix:///run/nomad/api.sock").build().unwrap();
    let err = nomad_tls::server_name(&unix).unwrap_err();
    assert!(err.to_string().contains("unix:///run/nomad/api.sock"), "{err}");
    let named = Config::builder()
        .address("unix:///run/nomad/api.sock")
        .tls_server_name("server.global.nomad")
        .build()
        .unwrap();
    assert_eq!(nomad_tls::server_name(&named).unwrap().to_str(), "server.global.nomad");
    let bad = Config::builder()
        .address("https://10.0.0.5:4646")
        .tls_server_name("not a name")
        .build()
        .unwrap();
    assert!(nomad_tls::server_name(&bad)
        .unwrap_err()
        .to_string()
        .contains("not a name"));
    let v6 = Config::builder().address("https://[::1]:4646").build().unwrap();
    assert_eq!(nomad_tls::server_name(&v6).unwrap().to_str(), "::1");
}
