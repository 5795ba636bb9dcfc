//! HTTPS against the test agent on loopback with a throwaway PKI: custom CAs (file, bundle,
//! directory), mutual TLS with every key format Nomad users have, the TLS server name override,
//! skip-verify, and the typed errors for each way a handshake fails.

mod support;

use std::path::PathBuf;

use nomad_blocking::test_agent::{TestAgent, TlsServerConfig};
use nomad_blocking::{Client, ConfigBuilder, Error, SetupError, TlsProblem, TransportErrorKind};
use support::pki::{self, KeyType, Leaf, TempDir};
use support::raw_server::RawServer;
use support::read_head;

/// A server that reads what the client sends first (a TLS ClientHello), answers `reply` and
/// closes.
fn one_shot_server(reply: &'static [u8]) -> RawServer {
    RawServer::start(move |_, mut conn| {
        if conn.read_some() {
            conn.write(reply);
        }
    })
}

/// A TLS agent whose certificate names `names`, optionally requiring client certificates from
/// `client_ca`.
fn tls_agent(server: &Leaf, client_ca: Option<&str>) -> TestAgent {
    let mut tls = TlsServerConfig::new(&server.cert_pem, &server.key_pkcs8_pem);
    if let Some(ca) = client_ca {
        tls = tls.require_client_cert(ca);
    }
    TestAgent::builder().start_tls(tls).expect("start TLS agent")
}

fn client(agent: &TestAgent, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Result<Client, Error> {
    Client::builder().address(agent.url()).config(f).build()
}

fn tls_problem(result: Result<impl std::fmt::Debug, Error>) -> TlsProblem {
    let err = result.expect_err("the call must fail");
    match err.tls_problem() {
        Some(p) => p.clone(),
        None => panic!("expected a TLS error, got {err:?} ({err})"),
    }
}

struct Pki {
    dir: TempDir,
    ca: pki::Ca,
    ca_file: PathBuf,
}

fn pki(label: &str) -> Pki {
    let dir = TempDir::new(label);
    let ca = pki::ca("Nomad Agent CA (test)");
    let ca_file = dir.write("nomad-agent-ca.pem", ca.cert_pem());
    Pki { dir, ca, ca_file }
}

#[test]
fn custom_ca_file_is_trusted_and_requests_are_recorded() {
    let p = pki("ca-file");
    let agent = tls_agent(&p.ca.server(&["server.global.nomad", "localhost", "127.0.0.1"]), None);
    assert!(agent.url().starts_with("https://127.0.0.1:"));

    let c = client(&agent, |b| b.ca_cert(&p.ca_file).token("tls-token")).unwrap();
    assert_eq!(c.agent().members().unwrap().members.len(), 3);
    assert_eq!(c.agent().servers().unwrap().len(), 3);

    let requests = agent.requests();
    assert_eq!(requests.len(), 2, "both calls reached the agent through TLS");
    assert_eq!(requests[0].path, "/v1/agent/members");
    assert_eq!(requests[0].header_all("x-nomad-token"), ["tls-token"]);
}

#[test]
fn ca_from_environment_variable() {
    let p = pki("ca-env");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let addr = agent.url().to_owned();
    let ca = p.ca_file.display().to_string();
    let c = Client::builder()
        .config(move |b| {
            b.env_lookup(move |name| match name {
                "NOMAD_ADDR" => Some(addr.clone()),
                "NOMAD_CACERT" => Some(ca.clone()),
                _ => None,
            })
        })
        .build()
        .unwrap();
    assert!(c.agent().health().unwrap().is_healthy());
}

#[test]
fn ca_bundle_with_several_certificates() {
    let p = pki("ca-bundle");
    let other = pki::ca("Some Other CA");
    let bundle = p
        .dir
        .write("bundle.pem", format!("{}{}", other.cert_pem(), p.ca.cert_pem()));
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let c = client(&agent, |b| b.ca_cert(&bundle)).unwrap();
    assert_eq!(c.agent().servers().unwrap().len(), 3);
}

#[test]
fn ca_directory_is_trusted() {
    let p = pki("ca-dir");
    let dir = p.dir.path().join("cas");
    p.dir.write("cas/README.txt", "not a certificate");
    p.dir.write("cas/other.pem", pki::ca("Some Other CA").cert_pem());
    p.dir.write("cas/nested/nomad.pem", p.ca.cert_pem());
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);

    let c = client(&agent, |b| b.ca_path(&dir)).unwrap();
    let me = c.agent().self_info().unwrap();
    assert_eq!(me.config.region(), Some("global"));

    // Without our CA in it, the directory does not help.
    let only_other = p.dir.path().join("only-other");
    p.dir.write("only-other/other.pem", pki::ca("Some Other CA").cert_pem());
    let c = client(&agent, |b| b.ca_path(&only_other)).unwrap();
    assert_eq!(tls_problem(c.agent().self_info()), TlsProblem::UntrustedCertificate);
}

#[test]
fn a_ca_file_wins_over_a_ca_directory_that_does_not_exist() {
    // As the Go client (go-rootcerts): with both set, only the CA file is read.
    let p = pki("ca-file-and-dir");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let c = client(&agent, |b| {
        b.ca_cert(&p.ca_file).ca_path(p.dir.path().join("no-such-dir"))
    })
    .expect("the missing CA directory is never read");
    assert_eq!(c.agent().servers().unwrap().len(), 3);
}

#[test]
fn default_roots_do_not_trust_a_private_ca() {
    let p = pki("webpki");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let c = client(&agent, |b| b).unwrap();
    let err = c.agent().members().unwrap_err();
    assert_eq!(err.tls_problem(), Some(&TlsProblem::UntrustedCertificate));
    let text = err.to_string();
    assert!(text.contains("not trusted"), "{text}");
    assert!(text.contains("NOMAD_CACERT"), "says what to do: {text}");
    assert!(text.starts_with(agent.url()), "names the agent: {text}");
    assert!(agent.requests().is_empty(), "nothing reached the agent");
}

#[test]
fn a_different_ca_is_untrusted() {
    let p = pki("wrong-ca");
    let other = p.dir.write("other.pem", pki::ca("Some Other CA").cert_pem());
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let c = client(&agent, |b| b.ca_cert(&other)).unwrap();
    assert_eq!(tls_problem(c.agent().members()), TlsProblem::UntrustedCertificate);
}

#[test]
fn expired_server_certificate() {
    let p = pki("expired");
    let agent = tls_agent(&p.ca.expired_server(&["127.0.0.1"]), None);
    let c = client(&agent, |b| b.ca_cert(&p.ca_file)).unwrap();
    assert_eq!(tls_problem(c.agent().members()), TlsProblem::Expired);
}

fn mtls_call_succeeds(label: &str, key: KeyType, legacy_pem: bool, expected_label: &str) {
    let p = pki(label);
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), Some(&p.ca.cert_pem()));
    let cli = p.ca.client(key);
    let key_pem = if legacy_pem {
        &cli.key_legacy_pem
    } else {
        &cli.key_pkcs8_pem
    };
    assert!(
        key_pem.starts_with(&format!("-----BEGIN {expected_label}-----")),
        "{key_pem}"
    );
    let cert = p.dir.write("cli.pem", &cli.cert_pem);
    let key_file = p.dir.write("cli-key.pem", key_pem);
    let c = client(&agent, |b| b.ca_cert(&p.ca_file).client_cert(&cert, &key_file)).unwrap();
    assert_eq!(c.agent().members().unwrap().server_name, "nomad-1");
    assert_eq!(agent.requests().len(), 1);
}

#[test]
fn mtls_with_sec1_ec_private_key_as_nomad_writes_it() {
    mtls_call_succeeds("sec1", KeyType::P256, true, "EC PRIVATE KEY");
}

#[test]
fn mtls_with_pkcs8_ec_key() {
    mtls_call_succeeds("pkcs8-ec", KeyType::P256, false, "PRIVATE KEY");
}

#[test]
fn mtls_with_rsa_pkcs1_key() {
    mtls_call_succeeds("pkcs1-rsa", KeyType::Rsa2048, true, "RSA PRIVATE KEY");
}

#[test]
fn mtls_with_rsa_pkcs8_key() {
    mtls_call_succeeds("pkcs8-rsa", KeyType::Rsa2048, false, "PRIVATE KEY");
}

#[test]
fn mtls_client_certificate_from_environment() {
    let p = pki("mtls-env");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), Some(&p.ca.cert_pem()));
    let cli = p.ca.client(KeyType::P256);
    let cert = p.dir.write("cli.pem", &cli.cert_pem).display().to_string();
    let key = p.dir.write("cli-key.pem", &cli.key_legacy_pem).display().to_string();
    let ca = p.ca_file.display().to_string();
    let addr = agent.url().to_owned();
    let c = Client::builder()
        .config(move |b| {
            b.env_lookup(move |name| match name {
                "NOMAD_ADDR" => Some(addr.clone()),
                "NOMAD_CACERT" => Some(ca.clone()),
                "NOMAD_CLIENT_CERT" => Some(cert.clone()),
                "NOMAD_CLIENT_KEY" => Some(key.clone()),
                _ => None,
            })
        })
        .build()
        .unwrap();
    assert!(c.agent().health().unwrap().is_healthy());
}

#[test]
fn mtls_required_without_client_certificate_tls13() {
    let p = pki("mtls-none13");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), Some(&p.ca.cert_pem()));
    let c = client(&agent, |b| b.ca_cert(&p.ca_file)).unwrap();
    let err = c.agent().members().unwrap_err();
    assert_eq!(
        err.tls_problem(),
        Some(&TlsProblem::ClientCertificateRequired),
        "{err:?}"
    );
    assert!(err.to_string().contains("NOMAD_CLIENT_CERT"), "{err}");
    assert!(agent.requests().is_empty());
}

#[test]
fn mtls_required_without_client_certificate_tls12() {
    let p = pki("mtls-none12");
    let server = p.ca.server(&["127.0.0.1"]);
    let tls = TlsServerConfig::new(&server.cert_pem, &server.key_pkcs8_pem)
        .require_client_cert(p.ca.cert_pem())
        .tls12_only();
    let agent = TestAgent::builder().start_tls(tls).unwrap();
    let c = client(&agent, |b| b.ca_cert(&p.ca_file)).unwrap();
    assert_eq!(tls_problem(c.agent().members()), TlsProblem::ClientCertificateRequired);
}

#[test]
fn mtls_client_certificate_from_another_ca_is_rejected() {
    let p = pki("mtls-reject");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), Some(&p.ca.cert_pem()));
    let stranger = pki::ca("Some Other CA").client(KeyType::P256);
    let cert = p.dir.write("cli.pem", &stranger.cert_pem);
    let key = p.dir.write("cli-key.pem", &stranger.key_legacy_pem);
    let c = client(&agent, |b| b.ca_cert(&p.ca_file).client_cert(&cert, &key)).unwrap();
    assert_eq!(tls_problem(c.agent().members()), TlsProblem::ClientCertificateRejected);
}

#[test]
fn server_name_override_reaches_a_server_global_nomad_certificate_at_127_0_0_1() {
    let p = pki("server-name");
    // As `nomad tls cert create -server` would, minus the localhost/127.0.0.1 SANs.
    let agent = tls_agent(&p.ca.server(&["server.global.nomad"]), None);
    let port = agent.socket_addr().unwrap().port();

    let plain = client(&agent, |b| b.ca_cert(&p.ca_file).token("s3cr3t")).unwrap();
    let err = plain.agent().members().unwrap_err();
    assert_eq!(err.tls_problem(), Some(&TlsProblem::NameMismatch), "{err:?}");
    assert!(err.to_string().contains("NOMAD_TLS_SERVER_NAME"), "{err}");

    let named = client(&agent, |b| {
        b.ca_cert(&p.ca_file)
            .tls_server_name("server.global.nomad")
            .token("s3cr3t")
            .region("global")
    })
    .unwrap();
    assert_eq!(named.agent().members().unwrap().members.len(), 3);
    named.agent().set_servers(["10.0.0.9:4647"]).unwrap();
    assert_eq!(named.agent().servers().unwrap(), ["10.0.0.9:4647"]);

    let requests = agent.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        // The name is for TLS only: the request itself is unchanged.
        assert_eq!(r.header_all("x-nomad-token"), ["s3cr3t"], "{r:?}");
        assert_eq!(r.header_all("host"), [format!("127.0.0.1:{port}")]);
        assert_eq!(r.query_param("region"), Some("global"));
    }
    assert_eq!(requests[1].query_all("address"), ["10.0.0.9:4647"]);
}

#[test]
fn server_name_override_from_environment() {
    let p = pki("server-name-env");
    let agent = tls_agent(&p.ca.server(&["server.global.nomad"]), None);
    let addr = agent.url().to_owned();
    let ca = p.ca_file.display().to_string();
    let c = Client::builder()
        .config(move |b| {
            b.env_lookup(move |name| match name {
                "NOMAD_ADDR" => Some(addr.clone()),
                "NOMAD_CACERT" => Some(ca.clone()),
                "NOMAD_TLS_SERVER_NAME" => Some("server.global.nomad".into()),
                _ => None,
            })
        })
        .build()
        .unwrap();
    assert!(c.agent().health().unwrap().is_healthy());
}

#[test]
fn server_name_override_with_localhost_address() {
    // The address host is resolved as usual (here `localhost`), only the name changes.
    let p = pki("server-name-localhost");
    let agent = tls_agent(&p.ca.server(&["server.global.nomad"]), None);
    let port = agent.socket_addr().unwrap().port();
    let c = Client::builder()
        .address(format!("https://localhost:{port}"))
        .config(|b| b.ca_cert(&p.ca_file).tls_server_name("server.global.nomad"))
        .build()
        .unwrap();
    assert_eq!(c.agent().servers().unwrap().len(), 3);
}

#[test]
fn a_wrong_server_name_still_fails() {
    let p = pki("server-name-wrong");
    let agent = tls_agent(&p.ca.server(&["server.global.nomad"]), None);
    let c = client(&agent, |b| b.ca_cert(&p.ca_file).tls_server_name("client.global.nomad")).unwrap();
    assert_eq!(tls_problem(c.agent().members()), TlsProblem::NameMismatch);
}

#[test]
fn skip_verify_only_when_asked() {
    let p = pki("skip-verify");
    let agent = tls_agent(&p.ca.server(&["server.global.nomad"]), None);

    let default = client(&agent, |b| b).unwrap();
    assert_eq!(tls_problem(default.agent().members()), TlsProblem::UntrustedCertificate);
    let explicit_false = client(&agent, |b| b.skip_verify(false)).unwrap();
    assert_eq!(
        tls_problem(explicit_false.agent().members()),
        TlsProblem::UntrustedCertificate
    );

    let skip = client(&agent, |b| b.skip_verify(true)).unwrap();
    assert_eq!(skip.agent().members().unwrap().members.len(), 3);

    let addr = agent.url().to_owned();
    let from_env = Client::builder()
        .config(move |b| {
            b.env_lookup(move |name| match name {
                "NOMAD_ADDR" => Some(addr.clone()),
                "NOMAD_SKIP_VERIFY" => Some("1".into()),
                _ => None,
            })
        })
        .build()
        .unwrap();
    assert!(from_env.agent().health().unwrap().is_healthy());
    assert_eq!(agent.requests().len(), 2, "only the skip-verify calls got through");
}

#[test]
fn https_address_for_a_plain_http_server_is_a_tls_error() {
    // Go's HTTP server (a plain-http Nomad agent) answers a ClientHello with an HTTP 400.
    let server = one_shot_server(
        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request",
    );
    let c = Client::builder()
        .address(format!("https://{}", server.addr))
        .build()
        .unwrap();
    let err = c.agent().members().unwrap_err();
    assert_eq!(err.tls_problem(), Some(&TlsProblem::NotTls), "{err:?}");
    assert!(err.to_string().contains("http://"), "{err}");
    assert_eq!(server.connections(), 1);

    // A server that just hangs up during the handshake.
    let server = one_shot_server(b"");
    let c = Client::builder()
        .address(format!("https://{}", server.addr))
        .build()
        .unwrap();
    let err = c.agent().members().unwrap_err();
    match err.tls_problem() {
        Some(TlsProblem::Handshake(m)) => assert!(m.contains("plain HTTP"), "{m}"),
        other => panic!("expected a handshake problem, got {other:?}: {err:?}"),
    }
    assert_eq!(server.connections(), 1);
}

#[test]
fn http_address_for_a_tls_agent_fails_without_reaching_it() {
    let p = pki("plain-to-tls");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let port = agent.socket_addr().unwrap().port();
    let c = Client::builder()
        .address(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let err = c.agent().members().unwrap_err();
    // The TLS agent answers the plain request with TLS bytes (or hangs up): not HTTP.
    let transport = err.as_transport().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(transport.kind(), &TransportErrorKind::Protocol, "{err:?}");
    assert_eq!(transport.agent(), Some(format!("http://127.0.0.1:{port}").as_str()));
    assert!(agent.requests().is_empty());
}

#[test]
fn tls_file_problems_are_setup_errors_naming_the_file() {
    let p = pki("bad-files");
    let cli = p.ca.client(KeyType::P256);
    let other = p.ca.client(KeyType::P256);
    let cert = p.dir.write("cli.pem", &cli.cert_pem);
    let other_key = p.dir.write("other-key.pem", &other.key_legacy_pem);
    let garbage = p.dir.write("garbage.pem", "hello");
    let broken = p.dir.write(
        "broken.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    let encrypted = p.dir.write(
        "encrypted.pem",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let missing = p.dir.path().join("missing.pem");

    let setup = |f: &dyn Fn(ConfigBuilder) -> ConfigBuilder| -> SetupError {
        match Client::builder().address("https://127.0.0.1:4646").config(f).build() {
            Err(Error::Setup(e)) => e,
            other => panic!("expected a setup error, got {other:?}"),
        }
    };

    let e = setup(&|b| b.ca_cert(&missing));
    assert!(matches!(e, SetupError::ReadFile { .. }), "{e:?}");
    assert!(e.to_string().contains("missing.pem"), "{e}");

    let e = setup(&|b| b.ca_cert(&garbage));
    assert!(e.to_string().contains("garbage.pem"), "{e}");

    let e = setup(&|b| b.ca_cert(&broken));
    assert!(matches!(e, SetupError::InvalidPem { .. }), "{e:?}");

    let e = setup(&|b| b.ca_path(p.dir.path().join("no-such-dir")));
    assert!(matches!(e, SetupError::ReadFile { .. }), "{e:?}");

    let e = setup(&|b| b.client_cert(&cert, &other_key));
    assert!(e.to_string().contains("does not belong"), "{e}");

    let e = setup(&|b| b.client_cert(&cert, &garbage));
    assert!(e.to_string().contains("garbage.pem"), "{e}");

    let e = setup(&|b| b.client_cert(&cert, &encrypted));
    assert!(e.to_string().contains("encrypted"), "{e}");

    let e = setup(&|b| b.client_cert(&garbage, &other_key));
    assert!(e.to_string().contains("client certificate"), "{e}");

    let e = setup(&|b| b.tls_server_name("not a name"));
    assert!(e.to_string().contains("not a name"), "{e}");
}

// ---- Certificates and keys from memory (the Go client's CACertPEM, ClientCertPEM, ClientKeyPEM)

/// An mTLS call with the CA, the client certificate and its key all given as PEM in memory.
fn mtls_from_memory_succeeds(label: &str, key: KeyType, legacy_pem: bool, expected_label: &str) {
    let p = pki(label);
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), Some(&p.ca.cert_pem()));
    let cli = p.ca.client(key);
    let key_pem = if legacy_pem {
        cli.key_legacy_pem.clone()
    } else {
        cli.key_pkcs8_pem.clone()
    };
    assert!(key_pem.starts_with(&format!("-----BEGIN {expected_label}-----")));
    let c = Client::builder()
        .address(agent.url())
        .ca_cert_pem(p.ca.cert_pem())
        .client_cert_pem(cli.cert_pem.clone())
        .client_key_pem(key_pem.clone())
        .build()
        .unwrap();
    assert_eq!(c.agent().members().unwrap().server_name, "nomad-1");
    assert_eq!(agent.requests().len(), 1, "the agent accepted the certificate");
    // The key never shows in Debug output (of the client, its config or the TLS settings).
    let body = key_pem.lines().nth(1).unwrap();
    for shown in [
        format!("{c:?}"),
        format!("{:?}", c.config()),
        format!("{:?}", c.config().tls()),
    ] {
        assert!(!shown.contains(body), "key material in {shown}");
    }
    assert!(format!("{:?}", c.config().tls()).contains("client_key_pem: Some(<redacted>)"));
}

#[test]
fn mtls_from_memory_with_sec1_ec_key_as_nomad_writes_it() {
    mtls_from_memory_succeeds("mem-sec1", KeyType::P256, true, "EC PRIVATE KEY");
}

#[test]
fn mtls_from_memory_with_pkcs8_ec_key() {
    mtls_from_memory_succeeds("mem-pkcs8-ec", KeyType::P256, false, "PRIVATE KEY");
}

#[test]
fn mtls_from_memory_with_rsa_pkcs1_key() {
    mtls_from_memory_succeeds("mem-pkcs1-rsa", KeyType::Rsa2048, true, "RSA PRIVATE KEY");
}

#[test]
fn mtls_from_memory_with_rsa_pkcs8_key() {
    mtls_from_memory_succeeds("mem-pkcs8-rsa", KeyType::Rsa2048, false, "PRIVATE KEY");
}

#[test]
fn a_ca_pem_in_memory_is_trusted_alone() {
    let p = pki("mem-ca");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let bundle = format!("{}{}", pki::ca("Some Other CA").cert_pem(), p.ca.cert_pem());
    let c = client(&agent, |b| b.ca_cert_pem(bundle)).unwrap();
    assert_eq!(c.agent().servers().unwrap().len(), 3);

    let other = client(&agent, |b| b.ca_cert_pem(pki::ca("Some Other CA").cert_pem())).unwrap();
    assert_eq!(tls_problem(other.agent().servers()), TlsProblem::UntrustedCertificate);
}

#[test]
fn ca_sources_are_chosen_as_the_go_client_chooses_them() {
    // go-rootcerts 1.0.2 (Nomad's api module): a CA file, else the PEM in memory, else the
    // directory; the one chosen is trusted alone.
    let p = pki("ca-precedence");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let other_file = p.dir.write("other.pem", pki::ca("Some Other CA").cert_pem());
    let right_dir = p.dir.path().join("right");
    p.dir.write("right/ca.pem", p.ca.cert_pem());
    let other_dir = p.dir.path().join("other");
    p.dir.write("other/ca.pem", pki::ca("Some Other CA").cert_pem());
    let other_pem = pki::ca("Some Other CA").cert_pem();

    // The file wins over the PEM: the right file with a wrong PEM works ...
    let c = client(&agent, |b| b.ca_cert(&p.ca_file).ca_cert_pem(other_pem.clone())).unwrap();
    assert_eq!(c.agent().servers().unwrap().len(), 3);
    // ... a wrong file with the right PEM does not (the PEM is not added to it).
    let c = client(&agent, |b| b.ca_cert(&other_file).ca_cert_pem(p.ca.cert_pem())).unwrap();
    assert_eq!(tls_problem(c.agent().servers()), TlsProblem::UntrustedCertificate);
    // The PEM wins over the directory.
    let c = client(&agent, |b| b.ca_cert_pem(p.ca.cert_pem()).ca_path(&other_dir)).unwrap();
    assert_eq!(c.agent().servers().unwrap().len(), 3);
    let c = client(&agent, |b| b.ca_cert_pem(other_pem.clone()).ca_path(&right_dir)).unwrap();
    assert_eq!(tls_problem(c.agent().servers()), TlsProblem::UntrustedCertificate);
}

#[test]
fn an_explicit_ca_pem_means_the_ca_variables_are_not_read() {
    // Explicit beats the environment: NOMAD_CACERT (which would win over a PEM if both were
    // explicit) is not read at all once a CA is given in code.
    let p = pki("mem-ca-env");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), None);
    let addr = agent.url().to_owned();
    let c = Client::builder()
        .config(move |b| {
            b.env_lookup(move |name| match name {
                "NOMAD_ADDR" => Some(addr.clone()),
                "NOMAD_CACERT" => Some("/nonexistent/ca.pem".into()),
                _ => None,
            })
        })
        .ca_cert_pem(p.ca.cert_pem())
        .build()
        .expect("NOMAD_CACERT is not read");
    assert_eq!(c.agent().servers().unwrap().len(), 3);
}

#[test]
fn client_certificate_files_win_over_pems_in_memory() {
    let p = pki("mem-vs-files");
    let agent = tls_agent(&p.ca.server(&["127.0.0.1"]), Some(&p.ca.cert_pem()));
    let good = p.ca.client(KeyType::P256);
    let stranger = pki::ca("Some Other CA").client(KeyType::P256);
    let cert = p.dir.write("cli.pem", &good.cert_pem);
    let key = p.dir.write("cli-key.pem", &good.key_legacy_pem);
    let c = Client::builder()
        .address(agent.url())
        .ca_cert_pem(p.ca.cert_pem())
        .client_cert_pem(stranger.cert_pem.clone())
        .client_key_pem(stranger.key_legacy_pem.clone())
        .config(|b| b.client_cert(&cert, &key))
        .build()
        .unwrap();
    assert_eq!(
        c.agent().servers().unwrap().len(),
        3,
        "the files' certificate was presented"
    );
}

#[test]
fn pem_problems_in_memory_are_setup_errors_naming_memory() {
    let p = pki("mem-bad");
    let cli = p.ca.client(KeyType::P256);
    let other = p.ca.client(KeyType::P256);
    let setup = |f: &dyn Fn(nomad_blocking::ClientBuilder) -> nomad_blocking::ClientBuilder| -> SetupError {
        match f(Client::builder().address("https://127.0.0.1:4646")).build() {
            Err(Error::Setup(e)) => e,
            other => panic!("expected a setup error, got {other:?}"),
        }
    };
    let in_memory = |e: &SetupError, what: &str| match e {
        SetupError::InvalidPem { what: w, path, .. } => {
            assert_eq!(*w, what, "{e}");
            assert_eq!(path, "<memory>", "{e}");
        }
        other => panic!("expected InvalidPem for {what}, got {other:?}"),
    };

    let e = setup(&|b| b.ca_cert_pem("hello"));
    in_memory(&e, "CA certificate");
    assert_eq!(
        e.to_string(),
        "invalid CA certificate `<memory>`: no CERTIFICATE block found"
    );

    let e = setup(&|b| b.ca_cert_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"));
    in_memory(&e, "CA certificate");

    let e = setup(&|b| b.client_cert_pem("garbage").client_key_pem(cli.key_legacy_pem.clone()));
    in_memory(&e, "client certificate");

    let e = setup(&|b| b.client_cert_pem(cli.cert_pem.clone()).client_key_pem("garbage"));
    in_memory(&e, "client key");

    let e = setup(&|b| {
        b.client_cert_pem(cli.cert_pem.clone())
            .client_key_pem(other.key_legacy_pem.clone())
    });
    in_memory(&e, "client key");
    assert!(e.to_string().contains("does not belong"), "{e}");
    // The key's text is not in the message.
    assert!(!e.to_string().contains(other.key_legacy_pem.lines().nth(1).unwrap()));

    let e = setup(&|b| {
        b.client_cert_pem(cli.cert_pem.clone())
            .client_key_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
    });
    assert!(e.to_string().contains("encrypted"), "{e}");

    // A certificate without its key, and the other way round.
    for e in [
        setup(&|b| b.client_cert_pem(cli.cert_pem.clone())),
        setup(&|b| b.client_key_pem(cli.key_legacy_pem.clone())),
    ] {
        match &e {
            SetupError::InvalidSetting { setting, reason } => {
                assert_eq!(*setting, "client_cert_pem");
                assert!(reason.contains("both client cert and client key"), "{e}");
            }
            other => panic!("expected InvalidSetting, got {other:?}"),
        }
    }
}

#[test]
fn server_name_override_through_a_proxy_connects_to_the_address() {
    // The server name is only what the certificate is verified against: the proxy is asked for
    // the address's host and port, which it can reach, and the request names the address too.
    let p = pki("server-name-proxy");
    let agent = tls_agent(&p.ca.server(&["server.global.nomad"]), None);
    let target = agent.socket_addr().unwrap();
    let proxy = support::proxy::RecordingProxy::start();
    let c = Client::builder()
        .address(agent.url())
        .config(|b| b.ca_cert(&p.ca_file).tls_server_name("server.global.nomad"))
        .proxy(nomad_blocking::ProxyPolicy::Url(proxy.url()))
        .build()
        .unwrap();
    assert_eq!(c.agent().servers().unwrap().len(), 3);
    assert_eq!(proxy.seen(), [format!("CONNECT {target} HTTP/1.1")]);
    assert_eq!(agent.requests()[0].header_all("host"), [target.to_string()]);
}

/// An `https://` proxy on loopback: TLS with `leaf`, then a `CONNECT` tunnel to the target. It
/// records the CONNECT line and every byte the client sent through the tunnel (what the proxy
/// can read).
struct TlsProxy {
    addr: std::net::SocketAddr,
    seen: std::sync::Arc<std::sync::Mutex<(Vec<String>, Vec<u8>)>>,
}

impl TlsProxy {
    fn start(leaf: &Leaf) -> TlsProxy {
        use nomad_blocking::tls::rustls;
        use std::io::{ErrorKind, Read, Write};
        use std::net::{TcpListener, TcpStream};
        use std::sync::{Arc, Mutex};
        use std::time::Duration;

        let config = server_config(leaf);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new((Vec::new(), Vec::new())));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { return };
                let (config, record) = (Arc::clone(&config), Arc::clone(&record));
                std::thread::spawn(move || {
                    tcp.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let timed_out =
                        |e: &std::io::Error| matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut);
                    // The CONNECT head, a byte at a time.
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    let deadline = std::time::Instant::now() + Duration::from_secs(10);
                    while !head.ends_with(b"\r\n\r\n") && std::time::Instant::now() < deadline {
                        match tls.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            Err(e) if timed_out(&e) => continue,
                            _ => return,
                        }
                    }
                    let line = String::from_utf8_lossy(&head)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    record.lock().unwrap().0.push(line.clone());
                    let Some(target) = line.split_whitespace().nth(1) else {
                        return;
                    };
                    let Ok(mut upstream) = TcpStream::connect(target) else {
                        return;
                    };
                    upstream.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
                    if tls.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
                        return;
                    }
                    // Pipe both ways until either side closes.
                    let mut buf = vec![0u8; 16 * 1024];
                    while std::time::Instant::now() < deadline {
                        match tls.read(&mut buf) {
                            Ok(0) => return,
                            Ok(n) => {
                                record.lock().unwrap().1.extend_from_slice(&buf[..n]);
                                if upstream.write_all(&buf[..n]).is_err() {
                                    return;
                                }
                            }
                            Err(e) if timed_out(&e) => {}
                            Err(_) => return,
                        }
                        match upstream.read(&mut buf) {
                            Ok(0) => return,
                            Ok(n) => {
                                if tls.write_all(&buf[..n]).is_err() {
                                    return;
                                }
                            }
                            Err(e) if timed_out(&e) => {}
                            Err(_) => return,
                        }
                    }
                });
            }
        });
        TlsProxy { addr, seen }
    }
}

#[test]
fn through_an_https_proxy_the_agent_session_runs_inside_the_proxy_session() {
    // TLS to the proxy, and the agent's own TLS session inside the tunnel: the proxy sees a TLS
    // handshake, never the request or the token, and the agent's certificate is verified.
    let p = pki("https-proxy");
    let agent = tls_agent(&p.ca.server(&["server.global.nomad"]), None);
    let proxy_ca = pki::ca("Proxy CA (test)");
    let proxy = TlsProxy::start(&proxy_ca.server(&["127.0.0.1"]));
    let target = agent.socket_addr().unwrap();
    let both_cas = format!("{}{}", p.ca.cert_pem(), proxy_ca.cert_pem());
    let c = Client::builder()
        .address(agent.url())
        .ca_cert_pem(both_cas)
        .config(|b| b.tls_server_name("server.global.nomad").token("s3cr3t-token"))
        .proxy(nomad_blocking::ProxyPolicy::Url(format!("https://{}", proxy.addr)))
        .build()
        .unwrap();
    assert_eq!(c.agent().servers().unwrap().len(), 3);
    let (lines, tunnel) = proxy.seen.lock().unwrap().clone();
    assert_eq!(lines, [format!("CONNECT {target} HTTP/1.1")]);
    assert_eq!(
        tunnel.first(),
        Some(&0x16),
        "the tunnel starts with a TLS handshake record"
    );
    let text = String::from_utf8_lossy(&tunnel);
    assert!(
        !text.contains("s3cr3t-token") && !text.contains("/v1/agent"),
        "the proxy read the request"
    );
    assert_eq!(agent.requests()[0].header_all("x-nomad-token"), ["s3cr3t-token"]);

    // The agent's certificate is still verified inside the tunnel: trusting the proxy's CA
    // only is not enough.
    let proxy_only = Client::builder()
        .address(agent.url())
        .ca_cert_pem(proxy_ca.cert_pem())
        .config(|b| b.tls_server_name("server.global.nomad"))
        .proxy(nomad_blocking::ProxyPolicy::Url(format!("https://{}", proxy.addr)))
        .build()
        .unwrap();
    assert_eq!(
        tls_problem(proxy_only.agent().servers()),
        TlsProblem::UntrustedCertificate
    );
}

/// An HTTPS answer that arrives in many TLS records, a pause between them: the status line
/// alone, the rest of the head, a chunk-size line alone, its data, the last chunk. The client
/// reads it whole (each record is progress, even one that completes nothing yet).
#[test]
fn an_answer_that_arrives_in_pieces_over_tls_is_read_whole() {
    use std::io::Write;
    let p = pki("pieces");
    let server = TlsScriptServer::start(&p.ca.server(&["127.0.0.1"]), |_, tls| {
        if !read_head(tls) {
            return;
        }
        let body = br#"["10.0.0.1:4647","10.0.0.2:4647"]"#;
        let size = format!("{:x}\r\n", body.len());
        let pieces: [&[u8]; 6] = [
            b"HTTP/1.1 200 OK\r\n",
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
            size.as_bytes(),
            body,
            b"\r\n",
            b"0\r\n\r\n",
        ];
        for piece in pieces {
            tls.write_all(piece).unwrap();
            tls.flush().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(30));
        }
    });
    let client = https_client(&p, server.addr);
    assert_eq!(client.agent().servers().unwrap(), ["10.0.0.1:4647", "10.0.0.2:4647"]);
}

/// A rustls server configuration serving `leaf`.
fn server_config(leaf: &Leaf) -> std::sync::Arc<nomad_blocking::tls::rustls::ServerConfig> {
    use nomad_blocking::tls::rustls::{self, pki_types::pem::PemObject};
    let chain = vec![rustls::pki_types::CertificateDer::from_pem_slice(leaf.cert_pem.as_bytes()).unwrap()];
    let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(leaf.key_pkcs8_pem.as_bytes()).unwrap();
    std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    )
}

/// An HTTPS server on loopback whose connections run `script` (with the connection's index);
/// counts the connections.
struct TlsScriptServer {
    addr: std::net::SocketAddr,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

type TlsConn =
    nomad_blocking::tls::rustls::StreamOwned<nomad_blocking::tls::rustls::ServerConnection, std::net::TcpStream>;

impl TlsScriptServer {
    fn start(leaf: &Leaf, script: impl Fn(usize, &mut TlsConn) + Send + Sync + 'static) -> TlsScriptServer {
        use nomad_blocking::tls::rustls;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;

        let config = server_config(leaf);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let (count, script) = (Arc::clone(&connections), Arc::new(script));
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { return };
                let index = count.fetch_add(1, Ordering::SeqCst);
                let (config, script) = (Arc::clone(&config), Arc::clone(&script));
                std::thread::spawn(move || {
                    let mut tls = rustls::StreamOwned::new(rustls::ServerConnection::new(config).unwrap(), tcp);
                    script(index, &mut tls);
                });
            }
        });
        TlsScriptServer { addr, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn servers_answer(index: usize) -> Vec<u8> {
    let body = format!(r#"["10.0.0.{index}:4647"]"#);
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn https_client(p: &Pki, addr: std::net::SocketAddr) -> Client {
    Client::builder()
        .address(format!("https://{addr}"))
        .config(|b| b.ca_cert(&p.ca_file))
        .build()
        .unwrap()
}

/// Calls over HTTPS reuse one TLS connection while the agent keeps it open.
#[test]
fn https_calls_reuse_the_pooled_connection() {
    use std::io::Write;
    let p = pki("tls-reuse");
    let server = TlsScriptServer::start(&p.ca.server(&["127.0.0.1"]), |index, tls| {
        while read_head(tls) {
            tls.write_all(&servers_answer(index)).unwrap();
            tls.flush().unwrap();
        }
    });
    let client = https_client(&p, server.addr);
    for _ in 0..3 {
        assert_eq!(client.agent().servers().unwrap(), ["10.0.0.0:4647"]);
    }
    assert_eq!(server.connections(), 1);
}

/// A pooled HTTPS connection the agent closed between calls is not reused: the next call gets
/// fresh data over a new connection.
#[test]
fn a_pooled_https_connection_closed_by_the_agent_is_replaced() {
    use std::io::Write;
    let p = pki("tls-stale");
    let (closed_tx, closed_rx) = std::sync::mpsc::channel();
    let closed_tx = std::sync::Mutex::new(closed_tx);
    let server = TlsScriptServer::start(&p.ca.server(&["127.0.0.1"]), move |index, tls| {
        if read_head(tls) {
            tls.write_all(&servers_answer(index)).unwrap();
            tls.flush().unwrap();
        }
        tls.conn.send_close_notify();
        let _ = tls.flush();
        let _ = tls.sock.shutdown(std::net::Shutdown::Both);
        let _ = closed_tx.lock().unwrap().send(index);
    });
    let client = https_client(&p, server.addr);
    assert_eq!(client.agent().servers().unwrap(), ["10.0.0.0:4647"]);
    assert_eq!(closed_rx.recv_timeout(std::time::Duration::from_secs(5)), Ok(0));
    assert_eq!(client.agent().servers().unwrap(), ["10.0.0.1:4647"]);
    assert_eq!(server.connections(), 2);
}

/// An agent that ends the TLS session cleanly (close_notify) instead of answering: a prompt,
/// typed error, not a wait for the call timeout.
#[test]
fn an_https_agent_that_closes_without_answering_fails_the_call_promptly() {
    let p = pki("tls-no-answer");
    let server = TlsScriptServer::start(&p.ca.server(&["127.0.0.1"]), |_, tls| {
        if read_head(tls) {
            tls.conn.send_close_notify();
            let _ = std::io::Write::flush(tls);
        }
        std::thread::sleep(std::time::Duration::from_secs(10));
    });
    let client = https_client(&p, server.addr);
    let started = std::time::Instant::now();
    let err = client.agent().servers().unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let Error::Transport(t) = &err else { panic!("{err:?}") };
    assert_eq!(t.kind(), &TransportErrorKind::Protocol, "{err}");
}
