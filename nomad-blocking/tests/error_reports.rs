//! What a user reads when a call fails: each kind of error printed with `{}` and with an
//! error-chain reporter (anyhow's `{:#}`, which joins every `source()` with ": ") is one line
//! that states the reason (the OS's words for a connect failure, the phase of a timeout, the TLS
//! problem, …), and states it once.
//!
//! The agents here are tiny loopback servers written for each case, and closures.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use nomad_blocking::http::{Request, Response};
use nomad_blocking::proto::agent::{ListMembers, Pprof};
use nomad_blocking::{Client, Config, Error, TimeoutKind, TransportErrorKind};

/// The two ways an application prints an error: `{}`, and anyhow's chain report `{:#}`.
fn reports(err: Error) -> (String, String) {
    let plain = err.to_string();
    let chain = format!("{:#}", anyhow::Error::from(err));
    (plain, chain)
}

/// Asserts that both reports are one line and show `reason` exactly once.
fn states_once(err: Error, reason: &str) -> String {
    let (plain, chain) = reports(err);
    for (how, text) in [("{}", &plain), ("{:#}", &chain)] {
        assert!(!text.contains('\n'), "{how} is one line: {text:?}");
        assert_eq!(
            text.matches(reason).count(),
            1,
            "{how} states `{reason}` once: {text:?}"
        );
    }
    println!("{plain}");
    plain
}

/// A port with nothing listening on it.
fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A server that reads one request and answers `answer` (then closes), on its own thread.
fn answering_once(answer: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf);
        let _ = conn.write_all(answer);
        // Let the client read it all before the connection closes.
        std::thread::sleep(Duration::from_millis(300));
    });
    format!("127.0.0.1:{}", addr.port())
}

fn client(address: &str) -> Client {
    Client::builder()
        .address(address)
        .token("s3cr3t-token")
        .connect_timeout(Some(Duration::from_secs(2)))
        .read_timeout(Some(Duration::from_millis(300)))
        .build()
        .unwrap()
}

#[test]
fn connection_refused_on_tcp_names_the_agent_and_the_os_reason() {
    let port = refused_port();
    let err = client(&format!("http://127.0.0.1:{port}"))
        .agent()
        .members()
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let io = err.as_transport().and_then(|t| t.io_error()).expect("the OS error");
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    let shown = states_once(err, "connection refused");
    assert_eq!(
        shown,
        format!("http://127.0.0.1:{port}: cannot connect to the agent: connection refused")
    );
}

#[cfg(unix)]
#[test]
fn a_missing_unix_socket_says_no_such_file_and_a_stale_one_connection_refused() {
    let dir = std::env::temp_dir().join(format!("nomad-blocking-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let missing = dir.join("missing.sock");
    let err = client(&format!("unix://{}", missing.display()))
        .agent()
        .members()
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let shown = states_once(err, "no such file or directory");
    assert!(shown.contains("missing.sock"), "names the socket: {shown}");

    // A socket file whose listener is gone.
    let stale = dir.join("stale.sock");
    let _ = std::fs::remove_file(&stale);
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let err = client(&format!("unix://{}", stale.display()))
        .agent()
        .members()
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    states_once(err, "connection refused");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_timeout_says_which_phase() {
    // Accepts, reads the request, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = conn.read(&mut buf);
        std::thread::sleep(Duration::from_secs(3));
    });
    let err = client(&format!("http://{addr}")).agent().members().unwrap_err();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read), "{err:?}");
    let shown = states_once(err, "timed out");
    assert!(shown.ends_with("timed out (waiting for data)"), "{shown}");
}

#[cfg(feature = "tls")]
#[test]
fn a_tls_failure_says_which_problem() {
    // An https:// address, and an agent that speaks plain HTTP.
    let addr = answering_once(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
    let err = client(&format!("https://{addr}")).agent().members().unwrap_err();
    let problem = err
        .tls_problem()
        .cloned()
        .unwrap_or_else(|| panic!("a TLS problem: {err:?}"));
    let reason = match &problem {
        nomad_blocking::TlsProblem::NotTls => "the peer does not speak TLS".to_owned(),
        nomad_blocking::TlsProblem::Handshake(m) => m.clone(),
        other => panic!("a plain-HTTP peer is not {other:?}"),
    };
    states_once(err, &reason);
}

#[test]
fn a_body_over_the_limit_says_the_limit() {
    let addr = answering_once(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\n\r\n[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    let err = Client::builder()
        .address(format!("http://{addr}"))
        .body_limit(16)
        .build()
        .unwrap()
        .agent()
        .servers()
        .unwrap_err();
    assert!(
        matches!(
            err.as_transport().map(|t| t.kind()),
            Some(TransportErrorKind::BodyTooLarge { limit: 16 })
        ),
        "{err:?}"
    );
    states_once(err, "exceeds the limit of 16 bytes");
}

#[test]
fn a_peer_that_does_not_speak_http_is_a_protocol_error_with_its_reason() {
    let addr = answering_once(b"SSH-2.0-OpenSSH_9.6\r\n\r\n");
    let err = client(&format!("http://{addr}")).agent().members().unwrap_err();
    assert!(
        matches!(err.as_transport().map(|t| t.kind()), Some(TransportErrorKind::Protocol)),
        "{err:?}"
    );
    let shown = states_once(err, "invalid or incomplete HTTP response");
    // The parser's reason follows the kind.
    let (_, reason) = shown.split_once("from the agent: ").expect("a reason");
    assert!(reason.contains("HTTP"), "{shown}");
}

#[test]
fn an_agent_error_is_its_status_and_message_once() {
    let client = Client::with_transport(Config::default(), |_: Request<Vec<u8>>| {
        Response::builder().status(403).body(b"Permission denied".to_vec())
    });
    let err = client.call(&ListMembers::new()).unwrap_err();
    assert!(err.is_permission_denied());
    states_once(err, "Permission denied");
}

#[test]
fn a_closure_transport_error_is_stated_once() {
    let client = Client::with_transport(Config::default(), |_: Request<Vec<u8>>| {
        Err::<Response<Vec<u8>>, _>(std::io::Error::other("tunnel closed by the bastion"))
    });
    let err = client.agent().members().unwrap_err();
    states_once(err, "tunnel closed by the bastion");
}

#[test]
fn a_write_error_says_why_the_destination_failed() {
    /// A destination that is full.
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28)) // ENOSPC
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let client = Client::with_transport(Config::default(), |_: Request<Vec<u8>>| {
        Response::builder().status(200).body(b"\x1f\x8b profile".to_vec())
    });
    let err = client
        .agent()
        .write_profile(&Pprof::lookup("heap"), &mut Full)
        .unwrap_err();
    let Error::Write(io) = &err else { panic!("{err:?}") };
    assert_eq!(io.raw_os_error(), Some(28), "the I/O error stays reachable");
    let shown = states_once(err, "no space left on device");
    assert!(
        shown.starts_with("cannot write the response body to its destination: "),
        "{shown}"
    );
}

#[cfg(feature = "tls")] // CA files are read for https:// addresses only
#[test]
fn a_setup_error_says_why_a_file_cannot_be_read() {
    let missing = std::env::temp_dir().join("nomad-blocking-no-such-ca.pem");
    let err = Client::builder()
        .address("https://127.0.0.1:4646")
        .config(|b| b.ca_cert(&missing))
        .build()
        .unwrap_err();
    let Error::Setup(setup) = &err else { panic!("{err:?}") };
    assert_eq!(
        setup.io_error().map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );
    let shown = states_once(err, "no such file or directory");
    assert!(shown.contains("nomad-blocking-no-such-ca.pem"), "{shown}");
}
