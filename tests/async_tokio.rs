//! The async example's transport (`examples/async_tokio/nomad_async.rs`, compiled in here as
//! it is there) against the test agent: over HTTPS with a CA file, a client certificate and a
//! TLS server name (trusting exactly what the blocking client trusts, and getting the same
//! answers), over a Unix socket, and each of its typed errors: build, transport (refused,
//! untrusted, timed out, too large), response (403 on a call and on a stream) and stream.

#[allow(dead_code)] // the example's API is wider than what these tests call
#[path = "../examples/async_tokio/nomad_async.rs"]
mod nomad_async;
mod support;

use std::future::Future;
use std::time::Duration;

use nomad_async::{AsyncClient, Error, TransportError};
use nomad_blocking::test_agent::{MonitorFeed, TestAgent, TlsServerConfig};
use nomad_blocking::tls::{rustls, RootCertificates};
use nomad_blocking::{ClientBuilder, Config, ConfigBuilder};
use nomad_proto::agent::{GetHealth, ListMembers, Monitor};
use nomad_proto::stream::StreamError;
use nomad_proto::{Raw, WithCallOptions};
use support::pki::{self, KeyType, TempDir};

/// Runs `future` on a current-thread runtime, as the example does.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

fn settings(url: &str, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Config {
    f(Config::builder().address(url)).build().expect("a valid config")
}

/// Every line of a log stream, until the agent ends it.
async fn all_lines(client: &AsyncClient, op: &Monitor) -> Result<Vec<String>, Error> {
    let mut stream = client.stream(op).await?;
    let mut lines = Vec::new();
    stream.for_each_line(|line| lines.push(line.text)).await?;
    Ok(lines)
}

/// The rustls error behind a failed connection: from the handshake, or (with TLS 1.3, where
/// the agent refuses a client certificate after the client's side of the handshake is done)
/// from the first read.
fn tls_error(err: &Error) -> &rustls::Error {
    let io = match err {
        Error::Transport(TransportError::Handshake { error, .. }) => Some(error),
        Error::Transport(TransportError::Http(e)) => {
            std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>())
        }
        _ => None,
    };
    io.and_then(|io| io.get_ref())
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("expected a TLS error, got {err:?}"))
}

/// A CA, a server certificate naming only `server.global.nomad` (as Nomad's do, not
/// `127.0.0.1`), a client certificate, and the test agent behind them requiring the client
/// certificate.
struct MutualTls {
    dir: TempDir,
    ca_file: std::path::PathBuf,
    client_cert: std::path::PathBuf,
    client_key: std::path::PathBuf,
    agent: TestAgent,
}

fn mutual_tls(label: &str) -> MutualTls {
    let dir = TempDir::new(label);
    let ca = pki::ca("Nomad Agent CA (test)");
    let ca_file = dir.write("nomad-agent-ca.pem", ca.cert_pem());
    let server = ca.server(&["server.global.nomad"]);
    let client = ca.client(KeyType::P256);
    // The key as `nomad tls cert create -cli` writes it.
    let client_cert = dir.write("cli.pem", &client.cert_pem);
    let client_key = dir.write("cli-key.pem", &client.key_legacy_pem);
    let tls = TlsServerConfig::new(&server.cert_pem, &server.key_pkcs8_pem).require_client_cert(ca.cert_pem());
    let agent = TestAgent::builder()
        .monitor(MonitorFeed::new().lines(50))
        .start_tls(tls)
        .expect("start the TLS agent");
    MutualTls {
        dir,
        ca_file,
        client_cert,
        client_key,
        agent,
    }
}

impl MutualTls {
    /// The settings a user of this agent gives (`NOMAD_CACERT`, `NOMAD_CLIENT_CERT`,
    /// `NOMAD_CLIENT_KEY`, `NOMAD_TLS_SERVER_NAME`), with `f` changing them.
    fn config(&self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Config {
        settings(self.agent.url(), |b| {
            f(b.ca_cert(&self.ca_file)
                .client_cert(&self.client_cert, &self.client_key)
                .tls_server_name("server.global.nomad"))
        })
    }
}

#[test]
fn over_mutual_tls_the_async_client_gets_what_the_blocking_client_gets() {
    let tls = mutual_tls("async-mtls");
    assert!(tls.agent.url().starts_with("https://127.0.0.1:"));
    let config = tls.config(|b| b);
    let blocking = ClientBuilder::from_config(config.clone()).build().unwrap();

    let client = AsyncClient::new(config).unwrap();
    let (members, health, lines) = block_on(async {
        let members = client.call(&ListMembers::new()).await?;
        let health = client.call(&GetHealth::new()).await?;
        let lines = all_lines(&client, &Monitor::new()).await?;
        Ok::<_, Error>((members, health, lines))
    })
    .unwrap();

    assert_eq!(members, blocking.agent().members().unwrap());
    assert_eq!(members.members.len(), 3);
    assert!(health.is_healthy(), "{:?}", health.problems());
    let blocking_lines: Vec<String> = blocking
        .agent()
        .monitor(&Monitor::new())
        .unwrap()
        .map(|line| line.unwrap().text)
        .collect();
    // 50 generated lines, 40 of them at `info` or above.
    assert_eq!(lines.len(), 40);
    assert_eq!(lines, blocking_lines);
}

#[test]
fn the_agent_certificate_must_come_from_the_configured_ca_and_name_the_server_name() {
    let tls = mutual_tls("async-untrusted");
    let other_ca = pki::ca("Some Other CA").cert_pem();

    // Another CA: refused, by the async client as by the blocking one.
    let config = settings(tls.agent.url(), |b| {
        b.ca_cert_pem(other_ca.as_bytes())
            .client_cert(&tls.client_cert, &tls.client_key)
            .tls_server_name("server.global.nomad")
    });
    let err = block_on(AsyncClient::new(config.clone()).unwrap().call(&ListMembers::new())).unwrap_err();
    assert!(
        matches!(
            tls_error(&err),
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        ),
        "{err}"
    );
    let blocking = ClientBuilder::from_config(config).build().unwrap();
    assert!(blocking.agent().members().unwrap_err().tls_problem().is_some());

    // The right CA, but no server name: the certificate does not name 127.0.0.1.
    let config = settings(tls.agent.url(), |b| {
        b.ca_cert(&tls.ca_file).client_cert(&tls.client_cert, &tls.client_key)
    });
    let err = block_on(AsyncClient::new(config).unwrap().call(&ListMembers::new())).unwrap_err();
    assert!(
        matches!(
            tls_error(&err),
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName | rustls::CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{err}"
    );

    // No client certificate: the agent refuses the client.
    let config = settings(tls.agent.url(), |b| {
        b.ca_cert(&tls.ca_file).tls_server_name("server.global.nomad")
    });
    let err = block_on(AsyncClient::new(config).unwrap().call(&ListMembers::new())).unwrap_err();
    assert!(
        matches!(
            tls_error(&err),
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)
        ),
        "{err}"
    );
    assert!(err.to_string().contains("CertificateRequired"), "{err}");

    // Skip-verify accepts the unknown CA (and still presents the client certificate).
    let config = settings(tls.agent.url(), |b| {
        b.skip_verify(true).client_cert(&tls.client_cert, &tls.client_key)
    });
    let members = block_on(AsyncClient::new(config).unwrap().call(&ListMembers::new())).unwrap();
    assert_eq!(members.members.len(), 3);
    drop(tls.dir);
}

#[test]
fn unusable_tls_settings_fail_when_the_client_is_made() {
    let config = settings("https://127.0.0.1:4646", |b| b.ca_cert("/nonexistent/ca.pem"));
    let err = AsyncClient::new(config).unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "TLS setup: cannot read CA certificate `/nonexistent/ca.pem`: no such file or directory"
    );
    // An `http://` address reads no TLS file.
    let config = settings("http://127.0.0.1:4646", |b| b.ca_cert("/nonexistent/ca.pem"));
    AsyncClient::new(config).unwrap();
    // The roots: the system's unless a CA is configured, as the blocking client.
    assert_eq!(RootCertificates::default(), RootCertificates::System);
}

#[test]
fn requests_go_out_as_the_blocking_client_sends_them() {
    let agent = TestAgent::builder().acl("s3cr3t").start().unwrap();
    let client = AsyncClient::new(settings(agent.url(), |b| b.token("s3cr3t").region("global"))).unwrap();
    block_on(client.call(&ListMembers::new().namespace("prod"))).unwrap();

    let request = agent.last_request().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/v1/agent/members");
    assert_eq!(request.query_param("region"), Some("global"));
    assert_eq!(request.query_param("namespace"), Some("prod"));
    let port = agent.socket_addr().unwrap().port();
    assert_eq!(request.header_all("host"), [format!("127.0.0.1:{port}")]);
    assert_eq!(request.header_all("x-nomad-token"), ["s3cr3t"]);
    // No `Accept-Encoding`: the transport decodes no gzip, so it asks for none.
    assert_eq!(request.header("accept-encoding"), None);
}

#[cfg(unix)]
#[test]
fn a_unix_socket_address_connects_to_the_socket() {
    let dir = TempDir::new("async-unix");
    let sock = dir.path().join("api.sock");
    let agent = TestAgent::builder().acl("task-token").start_unix(&sock).unwrap();
    let client = AsyncClient::new(settings(agent.url(), |b| b.token("task-token"))).unwrap();
    let members = block_on(client.call(&ListMembers::new())).unwrap();
    assert_eq!(members.members.len(), 3);
    // The request URIs of a `unix://` address say `http://127.0.0.1`, as Nomad's Go client.
    assert_eq!(agent.last_request().unwrap().header("host"), Some("127.0.0.1"));

    let gone = AsyncClient::new(settings(
        &format!("unix://{}", dir.path().join("none.sock").display()),
        |b| b,
    ))
    .unwrap();
    let err = block_on(gone.call(&ListMembers::new())).unwrap_err();
    assert!(
        matches!(err, Error::Transport(TransportError::Connect { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("none.sock"), "{err}");
}

#[test]
fn each_failure_is_its_own_typed_error() {
    // Build: nothing is sent.
    let agent = TestAgent::builder().acl("s3cr3t").start().unwrap();
    let client = AsyncClient::new(settings(agent.url(), |b| b)).unwrap();
    let err = block_on(client.call(&Raw::get("/v1/../acl/tokens").json::<serde_json::Value>())).unwrap_err();
    assert!(matches!(err, Error::Build(_)), "{err:?}");
    assert!(err.to_string().starts_with("cannot build the request: "), "{err}");
    assert!(agent.requests().is_empty());

    // Response: the agent's 403, on a call and on a stream (checked before any line is read).
    let err = block_on(client.call(&ListMembers::new())).unwrap_err();
    match &err {
        Error::Response(e) => assert!(e.is_permission_denied(), "{e:?}"),
        other => panic!("expected a response error, got {other:?}"),
    }
    let err = block_on(client.stream(&Monitor::new())).unwrap_err();
    match &err {
        Error::Response(e) => assert!(e.is_permission_denied(), "{e:?}"),
        other => panic!("expected a response error, got {other:?}"),
    }
    // The token never shows.
    let with_token = AsyncClient::new(settings(agent.url(), |b| b.token("wrong-s3cr3t"))).unwrap();
    let err = block_on(with_token.call(&ListMembers::new())).unwrap_err();
    assert!(!format!("{err} {err:?} {with_token:?}").contains("wrong-s3cr3t"));

    // Transport: a refused connection.
    let refused = support::RefusedPort::new();
    let client = AsyncClient::new(settings(&refused.url(), |b| b)).unwrap();
    let err = block_on(client.call(&ListMembers::new())).unwrap_err();
    assert!(
        matches!(err, Error::Transport(TransportError::Connect { .. })),
        "{err:?}"
    );
}

#[test]
fn answers_are_bounded_in_size_and_time() {
    let agent = TestAgent::start().unwrap();
    let mut client = AsyncClient::new(settings(agent.url(), |b| b)).unwrap();
    client.body_limit = 100;
    let err = block_on(client.call(&ListMembers::new())).unwrap_err();
    assert!(
        matches!(err, Error::Transport(TransportError::BodyTooLarge { limit: 100 })),
        "{err:?}"
    );

    let slow = TestAgent::builder()
        .response_delay(Duration::from_secs(3))
        .start()
        .unwrap();
    let mut client = AsyncClient::new(settings(slow.url(), |b| b)).unwrap();
    client.call_timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = block_on(client.call(&GetHealth::new())).unwrap_err();
    assert!(
        matches!(err, Error::Transport(TransportError::CallTimeout(_))),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[test]
fn a_stream_keeps_its_lines_then_reports_what_broke_it() {
    let feed = MonitorFeed::new().lines(10).trailing_error("rpc error: EOF");
    let agent = TestAgent::builder().monitor(feed).start().unwrap();
    let client = AsyncClient::new(settings(agent.url(), |b| b)).unwrap();
    let mut lines = 0;
    let result = block_on(async {
        let mut stream = client.stream(&Monitor::new()).await?;
        stream.for_each_line(|_| lines += 1).await
    });
    // 10 generated lines, 8 at `info` or above, then the agent's error.
    assert_eq!(lines, 8);
    match result.unwrap_err() {
        Error::Stream(StreamError::TrailingText { snippet, .. }) => {
            assert!(snippet.contains("rpc error: EOF"), "{snippet}")
        }
        other => panic!("expected the trailing text, got {other:?}"),
    }
}

/// A service spawns calls on a multi-threaded runtime: the client and its futures are `Send`.
#[test]
fn the_client_and_its_futures_can_move_between_threads() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let client = AsyncClient::new(settings("http://127.0.0.1:4646", |b| b)).unwrap();
    send_sync(&client);
    send(client.call(&ListMembers::new()));
    send(client.stream(&Monitor::new()));
    send(async {
        let mut stream = client.stream(&Monitor::new()).await?;
        stream.for_each_line(drop).await
    });
}

#[test]
fn tailing_for_a_while_stops_an_endless_stream() {
    let agent = TestAgent::builder().monitor(MonitorFeed::endless()).start().unwrap();
    let client = AsyncClient::new(settings(agent.url(), |b| b)).unwrap();
    let mut lines = 0;
    block_on(async {
        let mut stream = client.stream(&Monitor::new()).await.unwrap();
        let tail = stream.for_each_line(|_| lines += 1);
        tokio::time::timeout(Duration::from_millis(800), tail)
            .await
            .expect_err("an endless stream runs until the timeout");
    });
    assert!(lines > 0);
}
