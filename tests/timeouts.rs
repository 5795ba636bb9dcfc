//! Timeouts (connect, whole call, per read), each with its typed error and within its bound, and
//! gzip-encoded answers, against loopback TCP servers that misbehave on purpose.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nomad_blocking::test_agent::TestAgent;
use nomad_blocking::{Client, ClientBuilder, Error, TimeoutKind, TransportSettings};

/// Slack on top of a timeout for a loaded 2-core machine. The misbehaving servers stay silent
/// for [`SILENCE`], well past every bound plus this margin.
const MARGIN: Duration = Duration::from_secs(3);
const SILENCE: Duration = Duration::from_secs(10);

/// A TCP server that handles `connections` connections with `f`, each on its own thread.
fn server(connections: usize, f: impl Fn(TcpStream) + Send + Sync + 'static) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let f = std::sync::Arc::new(f);
    let handle = std::thread::spawn(move || {
        let mut threads = Vec::new();
        for stream in listener.incoming().take(connections) {
            let Ok(stream) = stream else { break };
            let f = std::sync::Arc::clone(&f);
            threads.push(std::thread::spawn(move || f(stream)));
        }
        for t in threads {
            let _ = t.join();
        }
    });
    (addr, handle)
}

/// Reads the request head (up to the blank line).
fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed())
}

fn client(addr: SocketAddr, f: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    f(Client::builder().address(format!("http://{addr}"))).build().unwrap()
}

fn assert_timeout(err: &Error, kind: TimeoutKind) {
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.timeout_kind(), Some(kind), "{err:?}");
}

#[test]
fn documented_defaults() {
    let s = TransportSettings::default();
    assert_eq!(s.connect_timeout, Some(Duration::from_secs(10)));
    assert_eq!(s.call_timeout, Some(Duration::from_secs(60)));
    assert_eq!(s.read_timeout, Some(Duration::from_secs(30)));
}

#[test]
fn call_timeout_fires_on_a_server_that_never_answers() {
    let (addr, _server) = server(1, |mut s| {
        read_head(&mut s);
        std::thread::sleep(SILENCE);
    });
    let bound = Duration::from_millis(500);
    let c = client(addr, |b| b.call_timeout(Some(bound)).read_timeout(None));
    let (result, elapsed) = timed(|| c.agent().members());
    let err = result.unwrap_err();
    assert_timeout(&err, TimeoutKind::Call);
    assert!(elapsed >= bound - Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < bound + MARGIN, "{elapsed:?}");
    let text = err.to_string();
    assert!(text.contains("timed out"), "{text}");
    assert!(text.contains(&addr.to_string()), "names the agent: {text}");
}

#[test]
fn read_timeout_fires_between_reads() {
    // Headers, then the body stalls.
    let (addr, _server) = server(1, |mut s| {
        read_head(&mut s);
        let _ =
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n[\"10.0.0");
        let _ = s.flush();
        std::thread::sleep(SILENCE);
    });
    let bound = Duration::from_millis(400);
    let c = client(addr, |b| {
        b.read_timeout(Some(bound)).call_timeout(Some(Duration::from_secs(30)))
    });
    let (result, elapsed) = timed(|| c.agent().servers());
    assert_timeout(&result.unwrap_err(), TimeoutKind::Read);
    assert!(elapsed < bound + MARGIN, "{elapsed:?}");
}

#[test]
fn read_timeout_is_per_read_not_per_call() {
    // A slow but steady answer: one byte every 100 ms for about 1.7 s, read timeout 1 s (ten
    // times a gap, and shorter than the whole answer).
    let body = br#"["10.0.0.1:4647"]"#;
    let (addr, server) = server(1, move |mut s| {
        read_head(&mut s);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        for b in body {
            std::thread::sleep(Duration::from_millis(100));
            let _ = s.write_all(&[*b]);
            let _ = s.flush();
        }
    });
    let read_timeout = Duration::from_secs(1);
    let c = client(addr, |b| b.read_timeout(Some(read_timeout)));
    let (result, elapsed) = timed(|| c.agent().servers());
    assert_eq!(result.unwrap(), ["10.0.0.1:4647"]);
    assert!(
        elapsed > read_timeout,
        "the whole answer took longer than one read may: {elapsed:?}"
    );
    server.join().unwrap();
}

#[test]
fn connect_timeout_when_the_listen_backlog_is_full() {
    // A listener that never accepts: once its backlog is full, the kernel drops new SYNs and
    // connects hang (on loopback, with no network needed).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
        assert!(held.len() < 10_000, "the backlog never filled up");
    }
    let bound = Duration::from_millis(400);
    let c = client(addr, |b| b.connect_timeout(Some(bound)));
    let (result, elapsed) = timed(|| c.agent().members());
    let err = result.unwrap_err();
    assert_timeout(&err, TimeoutKind::Connect);
    assert!(elapsed < bound + MARGIN, "{elapsed:?}");
    assert!(err.to_string().contains("connecting"), "{err}");
    drop(listener);
}

#[test]
fn the_tls_handshake_is_bounded_by_the_connect_timeout() {
    // Accepts TCP, never speaks TLS.
    let (addr, _server) = server(1, |mut s| {
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        std::thread::sleep(SILENCE);
    });
    let bound = Duration::from_millis(400);
    let c = Client::builder()
        .address(format!("https://{addr}"))
        .connect_timeout(Some(bound))
        .build()
        .unwrap();
    let (result, elapsed) = timed(|| c.agent().members());
    assert_timeout(&result.unwrap_err(), TimeoutKind::Connect);
    assert!(elapsed < bound + MARGIN, "{elapsed:?}");
}

#[test]
fn connection_refused_is_a_connect_error_not_a_timeout() {
    let refused = support::RefusedPort::new();
    let addr = refused.addr();
    let c = client(addr, |b| b);
    let err = c.agent().members().unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(!err.is_timeout());
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

#[test]
fn gzip_answers_are_decoded() {
    let agent = TestAgent::start().unwrap();

    // The agent compresses when asked, as Nomad's gorilla CompressHandler does.
    let mut raw = TcpStream::connect(agent.socket_addr().unwrap()).unwrap();
    raw.write_all(
        b"GET /v1/agent/members HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = Vec::new();
    raw.read_to_end(&mut answer).unwrap();
    let head = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(head.contains("content-encoding: gzip"), "{head}");

    let c = agent.client().unwrap();
    assert_eq!(c.agent().members().unwrap().members.len(), 3);
    let r = agent.last_request().unwrap();
    assert!(r.header("accept-encoding").is_some_and(|v| v.contains("gzip")), "{r:?}");
}

#[test]
fn an_empty_gzip_stream_is_an_empty_body() {
    // Nomad's compress handler gzips unit responses (force-leave) too: an empty gzip stream.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"").unwrap();
    let empty = enc.finish().unwrap();
    assert!(!empty.is_empty());
    let (addr, server) = server(1, move |mut s| {
        read_head(&mut s);
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\nContent-Length: {}\r\n\r\n",
            empty.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(&empty);
    });
    let c = client(addr, |b| b);
    c.agent().force_leave("nomad-2.global").unwrap();
    server.join().unwrap();
}
