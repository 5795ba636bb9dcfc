//! `unix:///path` addresses (the Task API socket): the membership, self and health calls through
//! the test agent on a Unix socket, the Task API's 401/403 answers, connect errors naming the
//! path, timeouts, and a pooled connection the server closed between calls.
#![cfg(unix)]

mod support;

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::MemberStatus;
use nomad_blocking::test_agent::TestAgent;
use nomad_blocking::{Client, TimeoutKind};
use support::pki::TempDir;
use support::read_head;

/// Slack on top of a timeout for a loaded 2-core machine.
const MARGIN: Duration = Duration::from_secs(3);

#[test]
fn agent_calls_work_over_a_unix_socket_as_the_go_client_sends_them() {
    let dir = TempDir::new("unix-core");
    let sock = dir.path().join("api.sock");
    let agent = TestAgent::builder().acl("task-token").start_unix(&sock).unwrap();
    assert_eq!(agent.url(), format!("unix://{}", sock.display()));

    let c = Client::builder()
        .address(agent.url())
        .token("task-token")
        .build()
        .unwrap();
    let a = c.agent();

    let members = a.members().unwrap();
    assert_eq!(members.members.len(), 3);
    assert_eq!(a.servers().unwrap().len(), 3);
    a.set_servers(["10.0.0.7:4647", "10.0.0.8:4647"]).unwrap();
    assert_eq!(a.servers().unwrap(), ["10.0.0.7:4647", "10.0.0.8:4647"]);
    let me = a.self_info().unwrap();
    assert_eq!(me.config.datacenter(), Some("dc1"));
    let joined = a.join(["10.0.0.4"]).unwrap();
    assert_eq!(joined.num_joined, 1);
    a.force_leave("nomad-2.global").unwrap();
    let nomad2 = a
        .members()
        .unwrap()
        .members
        .into_iter()
        .find(|m| m.node_name() == "nomad-2");
    assert_eq!(nomad2.map(|m| m.status), Some(MemberStatus::Left));
    assert!(a.health().unwrap().is_healthy());

    let requests = agent.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/v1/agent/members",
            "/v1/agent/servers",
            "/v1/agent/servers",
            "/v1/agent/servers",
            "/v1/agent/self",
            "/v1/agent/join",
            "/v1/agent/force-leave",
            "/v1/agent/members",
            "/v1/agent/health",
        ]
    );
    for r in &requests {
        // As the Go client: http://127.0.0.1/<path> over the socket, the token exactly once.
        assert_eq!(r.header("host"), Some("127.0.0.1"), "{r:?}");
        assert_eq!(r.header_all("x-nomad-token"), ["task-token"]);
    }
}

#[test]
fn unix_address_from_the_environment() {
    let dir = TempDir::new("unix-env");
    let sock = dir.path().join("api.sock");
    let agent = TestAgent::builder().start_unix(&sock).unwrap();
    let url = agent.url().to_owned();
    let c = Client::builder()
        .config(move |b| b.env_lookup(move |name| (name == "NOMAD_ADDR").then(|| url.clone())))
        .build()
        .unwrap();
    assert!(c.agent().health().unwrap().is_healthy());
}

#[test]
fn task_api_answers_401_without_a_token_and_403_with_a_bad_one() {
    let dir = TempDir::new("unix-task-api");
    let sock = dir.path().join("api.sock");
    let agent = TestAgent::builder()
        .acl("workload-token")
        .require_token()
        .start_unix(&sock)
        .unwrap();

    let anonymous = Client::builder().address(agent.url()).build().unwrap();
    let err = anonymous.agent().self_info().unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    assert!(!err.is_permission_denied());
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.as_response().and_then(|r| r.message()), Some("Unauthorized"));

    let bad = Client::builder().address(agent.url()).token("nope").build().unwrap();
    let err = bad.agent().self_info().unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    assert!(!err.is_unauthorized());

    let good = Client::builder()
        .address(agent.url())
        .token("workload-token")
        .build()
        .unwrap();
    assert_eq!(good.agent().self_info().unwrap().config.region(), Some("global"));
}

#[test]
fn a_missing_socket_is_a_connect_error_naming_the_path() {
    let dir = TempDir::new("unix-missing");
    let sock = dir.path().join("no-such.sock");
    let c = Client::builder()
        .address(format!("unix://{}", sock.display()))
        .build()
        .unwrap();
    let err = c.agent().members().unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(!err.is_timeout());
    let text = err.to_string();
    assert!(text.contains(&sock.display().to_string()), "names the socket: {text}");

    // A stale socket file with nobody listening.
    let stale = dir.path().join("stale.sock");
    drop(UnixListener::bind(&stale).unwrap());
    let c = Client::builder()
        .address(format!("unix://{}", stale.display()))
        .build()
        .unwrap();
    let err = c.agent().members().unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(err.to_string().contains("stale.sock"), "{err}");
}

/// A Unix server that accepts connections and never answers.
fn silent_unix_server(path: &Path) -> std::thread::JoinHandle<()> {
    let listener = UnixListener::bind(path).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(4) {
            match stream {
                Ok(s) => held.push(s),
                Err(_) => break,
            }
            if held.len() >= 2 {
                // Keep the last connections open well past the timeouts and their margins.
                std::thread::sleep(Duration::from_secs(10));
                break;
            }
        }
    })
}

#[test]
fn read_and_call_timeouts_on_a_silent_socket() {
    let dir = TempDir::new("unix-silent");
    let sock = dir.path().join("silent.sock");
    let _server = silent_unix_server(&sock);
    let address = format!("unix://{}", sock.display());

    let c = Client::builder()
        .address(address.clone())
        .read_timeout(Some(Duration::from_millis(300)))
        .call_timeout(Some(Duration::from_secs(20)))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = c.agent().members().unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Read), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_millis(300) + MARGIN,
        "{elapsed:?}"
    );

    let c = Client::builder()
        .address(address)
        .read_timeout(None)
        .call_timeout(Some(Duration::from_millis(400)))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = c.agent().members().unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Call), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(350) && elapsed < Duration::from_millis(400) + MARGIN,
        "{elapsed:?}"
    );
}

#[test]
fn connect_timeout_when_the_socket_backlog_is_full() {
    use std::os::unix::net::UnixStream;
    use std::sync::mpsc;

    let dir = TempDir::new("unix-backlog");
    let sock = dir.path().join("full.sock");
    let listener = UnixListener::bind(&sock).unwrap(); // never accepts

    // Fill the listen backlog: connects succeed until it is full, then block.
    let (tx, rx) = mpsc::channel();
    let filler_path = sock.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for _ in 0..20_000 {
            match UnixStream::connect(&filler_path) {
                Ok(s) => {
                    held.push(s);
                    if tx.send(held.len()).is_err() {
                        return;
                    }
                }
                Err(_) => return, // the listener went away
            }
        }
    });
    // Full: no progress for 1.5 s (a starved filler thread on a loaded machine pauses less).
    let mut filled = 0;
    while let Ok(n) = rx.recv_timeout(Duration::from_millis(1_500)) {
        filled = n;
    }
    assert!(filled > 0 && filled < 20_000, "the backlog never filled up ({filled})");

    let c = Client::builder()
        .address(format!("unix://{}", sock.display()))
        .connect_timeout(Some(Duration::from_millis(300)))
        // So that a backlog that was not full fails fast instead of waiting.
        .read_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = c.agent().members().unwrap_err();
    let elapsed = start.elapsed();
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Connect), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_millis(300) + MARGIN,
        "{elapsed:?}"
    );
    drop(listener);
}

#[test]
fn a_pooled_socket_connection_closed_by_the_server_between_calls_is_replaced() {
    use std::io::Write;
    use std::sync::mpsc;

    // The server answers one request per connection with a keep-alive answer, then closes: the
    // client's pooled connection is dead when the second call starts.
    let dir = TempDir::new("unix-pool");
    let sock = dir.path().join("api.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let (closed_tx, closed_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (index, stream) in listener.incoming().take(2).enumerate() {
            let Ok(mut stream) = stream else { return };
            stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            if !read_head(&mut stream) {
                return;
            }
            let body = format!(r#"["10.0.0.{index}:4647"]"#);
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
            drop(stream);
            let _ = closed_tx.send(index);
        }
    });
    let c = Client::builder()
        .address(format!("unix://{}", sock.display()))
        .read_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    assert_eq!(c.agent().servers().unwrap(), ["10.0.0.0:4647"]);
    assert_eq!(
        closed_rx.recv_timeout(Duration::from_secs(10)),
        Ok(0),
        "the server closed"
    );
    let second = c
        .agent()
        .servers()
        .expect("the dead pooled connection is noticed and a new one dialled");
    assert_eq!(second, ["10.0.0.1:4647"], "fresh data from a fresh connection");
}

/// `err` says the connection broke (not a timeout), and came soon after `start`.
fn assert_broken_connection(err: &nomad_blocking::Error, start: Instant) {
    assert_eq!(err.timeout_kind(), None, "{err:?}");
    let nomad_blocking::Error::Transport(t) = err else {
        panic!("{err:?}")
    };
    assert_eq!(t.kind(), &nomad_blocking::TransportErrorKind::Protocol, "{err}");
    assert!(start.elapsed() < MARGIN, "{:?}", start.elapsed());
}

/// A `PUT` with a JSON body of `len` bytes over the socket at `sock`, which must fail.
fn put_large_body(sock: &Path, len: usize, call_timeout: Duration) -> nomad_blocking::Error {
    let c = Client::builder()
        .address(format!("unix://{}", sock.display()))
        .call_timeout(Some(call_timeout))
        .build()
        .unwrap();
    let raw = nomad_blocking::proto::Raw::put("/v1/agent/keyring/install")
        .json_body(&"x".repeat(len))
        .unwrap()
        .bytes();
    c.call(&raw).unwrap_err()
}

/// A request body (2 MiB, past what the socket buffers) sent to a Unix server that never
/// reads: the write is bounded by the call timeout and fails as a timeout.
#[test]
fn a_write_to_a_socket_nobody_reads_times_out() {
    let dir = TempDir::new("unix-unread");
    let sock = dir.path().join("unread.sock");
    let _server = silent_unix_server(&sock);
    let start = Instant::now();
    let err = put_large_body(&sock, 2 << 20, Duration::from_millis(500));
    // The call timeout bounded the write: it says so (a bare socket timeout would say "read").
    assert_eq!(err.timeout_kind(), Some(TimeoutKind::Call), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_millis(500) + MARGIN,
        "{:?}",
        start.elapsed()
    );
}

/// A server that reads the request head and then closes while a large body is still being
/// written: the write fails with the socket's error (a broken connection), not as a timeout.
#[test]
fn a_socket_closed_during_the_request_body_is_a_broken_connection_not_a_timeout() {
    let dir = TempDir::new("unix-closed");
    let sock = dir.path().join("closed.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        assert!(read_head(&mut stream));
    });
    let start = Instant::now();
    let err = put_large_body(&sock, 8 << 20, Duration::from_secs(20));
    server.join().unwrap();
    assert_broken_connection(&err, start);
}

/// A server that closes with the request still unread resets the connection: the call fails as
/// a broken connection, at once, not as a timeout.
#[test]
fn a_socket_reset_while_waiting_for_the_answer_is_a_broken_connection() {
    let dir = TempDir::new("unix-reset");
    let sock = dir.path().join("reset.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let server = std::thread::spawn(move || {
        use std::io::Read;
        let (mut stream, _) = listener.accept().unwrap();
        let mut first = [0u8; 1];
        stream.read_exact(&mut first).unwrap();
        // Let the rest of the request arrive, unread, then close: the peer sees a reset.
        std::thread::sleep(Duration::from_millis(200));
    });
    let c = Client::builder()
        .address(format!("unix://{}", sock.display()))
        .call_timeout(Some(Duration::from_secs(20)))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = c.agent().members().unwrap_err();
    server.join().unwrap();
    assert_broken_connection(&err, start);
}

/// An answer written in pieces with pauses (the status line alone, the rest of the head, the
/// body) is read whole; a server that closes without answering fails the call at once.
#[test]
fn answers_in_pieces_are_read_whole_and_a_close_without_answer_fails_at_once() {
    use std::io::Write;
    let dir = TempDir::new("unix-pieces");
    let sock = dir.path().join("pieces.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        assert!(read_head(&mut stream));
        let body = br#"["10.0.0.1:4647"]"#;
        let head = format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        for piece in [&b"HTTP/1.1 200 OK\r\n"[..], head.as_bytes(), body] {
            stream.write_all(piece).unwrap();
            std::thread::sleep(Duration::from_millis(30));
        }
        // The next request on the pooled connection: read, then closed unanswered.
        assert!(read_head(&mut stream));
    });
    let c = Client::builder()
        .address(format!("unix://{}", sock.display()))
        .call_timeout(Some(Duration::from_secs(20)))
        .build()
        .unwrap();
    assert_eq!(c.agent().servers().unwrap(), ["10.0.0.1:4647"]);
    let start = Instant::now();
    let err = c.agent().servers().unwrap_err();
    server.join().unwrap();
    assert_eq!(err.timeout_kind(), None, "{err:?}");
    assert!(start.elapsed() < MARGIN, "{:?}", start.elapsed());
}
