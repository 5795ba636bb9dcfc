//! Timeouts (connect, whole call, per read), each with its typed error and within its bound,
//! against loopback servers that stay silent on purpose (`support::raw_server`), a listen
//! backlog that is full, and a peer that never speaks TLS. Streams that go silent are in
//! `hostile.rs`.

mod support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use nomad_blocking::{Client, ClientBuilder, Error, TimeoutKind, TransportSettings};
use support::raw_server::RawServer;

/// Slack on top of a timeout for a loaded 2-core machine. The misbehaving servers stay silent
/// for [`SILENCE`], well past every bound plus this margin.
const MARGIN: Duration = Duration::from_secs(3);
const SILENCE: Duration = Duration::from_secs(10);

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
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() {
            conn.hold_open(SILENCE);
        }
    });
    let addr = server.addr;
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
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some()
            && conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n[\"10.0.0")
        {
            conn.hold_open(SILENCE);
        }
    });
    let bound = Duration::from_millis(400);
    let c = client(server.addr, |b| {
        b.read_timeout(Some(bound)).call_timeout(Some(Duration::from_secs(30)))
    });
    let (result, elapsed) = timed(|| c.agent().servers());
    assert_timeout(&result.unwrap_err(), TimeoutKind::Read);
    assert!(elapsed >= bound - Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < bound + MARGIN, "{elapsed:?}");
}

#[test]
fn read_timeout_is_per_read_not_per_call() {
    // A slow but steady answer: one byte every 100 ms for about 1.7 s, read timeout 1 s (ten
    // times a gap, and shorter than the whole answer).
    let body = br#"["10.0.0.1:4647"]"#;
    let server = RawServer::start(move |_, mut conn| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        if conn.read_request().is_none() || !conn.write(head.as_bytes()) {
            return;
        }
        for b in body {
            std::thread::sleep(Duration::from_millis(100));
            if !conn.write(&[*b]) {
                return;
            }
        }
    });
    let read_timeout = Duration::from_secs(1);
    let c = client(server.addr, |b| b.read_timeout(Some(read_timeout)));
    let (result, elapsed) = timed(|| c.agent().servers());
    assert_eq!(result.unwrap(), ["10.0.0.1:4647"]);
    assert!(
        elapsed > read_timeout,
        "the whole answer took longer than one read may: {elapsed:?}"
    );
}

#[test]
fn connect_timeout_when_the_listen_backlog_is_full() {
    // A listener that never accepts: once its backlog is full, the kernel drops new SYNs and
    // connects hang (on loopback, with no network needed; Linux behaviour). Full means two
    // connects in a row time out: one slow connect on a loaded machine is not enough.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    let mut misses = 0;
    while misses < 2 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
            Ok(s) => {
                held.push(s);
                misses = 0;
            }
            Err(_) => misses += 1,
        }
        assert!(held.len() < 10_000, "the backlog never filled up");
    }
    let bound = Duration::from_millis(400);
    // A read timeout too, so that a backlog that was not full fails fast instead of waiting.
    let c = client(addr, |b| {
        b.connect_timeout(Some(bound))
            .read_timeout(Some(Duration::from_secs(5)))
    });
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
    let server = RawServer::start(|_, mut conn| {
        if conn.read_some() {
            conn.hold_open(SILENCE);
        }
    });
    let bound = Duration::from_millis(400);
    let c = Client::builder()
        .address(format!("https://{}", server.addr))
        .connect_timeout(Some(bound))
        .build()
        .unwrap();
    let (result, elapsed) = timed(|| c.agent().members());
    assert_timeout(&result.unwrap_err(), TimeoutKind::Connect);
    assert!(elapsed < bound + MARGIN, "{elapsed:?}");
}
