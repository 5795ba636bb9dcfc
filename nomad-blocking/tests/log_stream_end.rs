//! How a log stream ends, end to end against the test agent: `Client::stream_for` ends a framed
//! stream and a quiet plain one (no heartbeats, nothing to read) cleanly at its deadline, and
//! `records()` on a stream opened without `log_json(true)` says so at once.
#![cfg(feature = "test-agent")]

use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::Monitor;
use nomad_blocking::proto::stream::LogLevel;
use nomad_blocking::test_agent::{MonitorFeed, TestAgent};
use nomad_blocking::{Client, Error};

/// How long each stream is asked to run.
const RUN: Duration = Duration::from_millis(1500);

/// The slack allowed past the deadline on a loaded machine (the deadline itself is precise to
/// a few milliseconds: see the figures printed with `--nocapture`).
const SLACK: Duration = Duration::from_secs(2);

/// An agent whose streams send `lines` lines, then stay open (heartbeats only on framed
/// streams, nothing at all on plain ones) for a minute.
fn agent_sending(lines: u64) -> TestAgent {
    TestAgent::builder()
        .monitor(MonitorFeed::new().lines(lines).linger(Duration::from_secs(60)))
        .start()
        .expect("test agent")
}

/// Runs `op` with `stream_for(RUN)` to its end; returns the lines and the time it took.
fn run_for(client: &Client, op: &Monitor) -> (Vec<String>, Duration) {
    let started = Instant::now();
    let stream = client.stream_for(op, RUN).expect("stream opens");
    assert!(stream.deadline().is_some());
    let lines: Vec<String> = stream
        .map(|line| line.expect("a deadline is a clean end, not an error").text)
        .collect();
    let took = started.elapsed();
    println!("{op:?}: {} lines, ended after {took:?} (deadline {RUN:?})", lines.len());
    assert!(took >= RUN, "ended before the deadline: {took:?}");
    assert!(took < RUN + SLACK, "ended {:?} late", took - RUN);
    (lines, took)
}

#[test]
fn a_framed_stream_ends_cleanly_at_its_deadline_between_heartbeats() {
    let agent = agent_sending(7);
    let (lines, _) = run_for(&agent.client().unwrap(), &Monitor::new().log_level(LogLevel::Trace));
    // Every line sent came through before the end.
    assert_eq!(lines.len(), 7, "{lines:?}");
    // The connection was closed and the agent keeps answering.
    assert!(agent.client().unwrap().agent().health().unwrap().is_healthy());
}

#[test]
fn a_quiet_plain_stream_ends_cleanly_at_its_deadline() {
    // No heartbeats, no bytes at all: nothing would wake a read before the agent logs again.
    let agent = agent_sending(0);
    let (lines, _) = run_for(&agent.client().unwrap(), &Monitor::new().plain(true));
    assert!(lines.is_empty(), "{lines:?}");
}

#[test]
fn a_plain_stream_with_lines_delivers_them_then_ends_at_its_deadline() {
    let agent = agent_sending(4);
    let op = Monitor::new().plain(true).log_level(LogLevel::Trace);
    let (lines, _) = run_for(&agent.client().unwrap(), &op);
    assert_eq!(lines.len(), 4, "{lines:?}");
}

#[test]
fn a_deadline_far_away_does_not_end_a_stream_the_agent_ends() {
    let agent = TestAgent::builder()
        .monitor(MonitorFeed::new().lines(3))
        .start()
        .unwrap();
    let client = agent.client().unwrap();
    let started = Instant::now();
    let lines: Vec<_> = client
        .stream_for(&Monitor::new().log_level(LogLevel::Trace), Duration::from_secs(60))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(lines.len(), 3);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_refused_connection_is_still_an_error_with_a_deadline() {
    // A refused connection fails at once: the deadline does not turn it into an empty stream.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .address(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    let err = client.stream_for(&Monitor::new(), RUN).unwrap_err();
    assert!(err.is_connect(), "{err}");
}

#[test]
fn a_stream_error_before_the_deadline_is_still_an_error() {
    let agent = TestAgent::builder().acl("root").start().unwrap();
    let err = agent.client().unwrap().stream_for(&Monitor::new(), RUN).unwrap_err();
    assert!(err.is_permission_denied(), "{err}");
}

#[test]
fn records_on_a_stream_opened_without_log_json_says_so_at_once() {
    let agent = agent_sending(5);
    let client = agent.client().unwrap();
    let started = Instant::now();
    let mut records = client.agent().monitor(&Monitor::new()).unwrap().records();
    let err = records.next().expect("one item").unwrap_err();
    assert!(matches!(err, Error::NotJson), "{err:?}");
    assert!(err.to_string().contains("opened without log_json(true)"), "{err}");
    assert!(records.next().is_none(), "then the end");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "nothing waited for the quiet stream"
    );

    // With log_json(true), the same lines are records.
    let records: Vec<_> = client
        .stream_for(&Monitor::new().log_json(true).log_level(LogLevel::Trace), RUN)
        .unwrap()
        .records()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(records.len(), 5);
    assert!(records[0].message.contains("event 0"), "{:?}", records[0]);
}

#[test]
fn an_agent_that_has_not_answered_by_the_deadline_gives_an_empty_stream() {
    // A real agent sends the status of a plain stream with its first log bytes: until it logs,
    // the client waits for the answer itself. This server reads the request and stays silent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = [0u8; 4096];
        let _ = std::io::Read::read(&mut conn, &mut request);
        // Hold the connection open (silently) until the client gives up on it.
        let _ = std::io::Read::read(&mut conn, &mut request);
    });
    let client = Client::builder().address(format!("http://{addr}")).build().unwrap();
    let (lines, _) = run_for(&client, &Monitor::new().plain(true));
    assert!(lines.is_empty());
    server.join().unwrap();
}

#[test]
fn a_connect_that_hangs_fails_as_a_connect_timeout_just_before_the_deadline() {
    // A listener that never accepts: once its backlog is full, the kernel drops new SYNs and
    // connects hang (Linux, loopback). Full means two connects in a row time out.
    use std::net::{TcpListener, TcpStream};
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
    // The default connect timeout (10 s) is longer than the stream's time.
    let client = Client::builder().address(format!("http://{addr}")).build().unwrap();
    let started = Instant::now();
    let err = client.stream_for(&Monitor::new(), RUN).unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.timeout_kind(), Some(nomad_blocking::TimeoutKind::Connect), "{err}");
    assert!(took < RUN + SLACK, "{took:?}");
    drop(listener);
}

/// A deadline only moments away (shorter than the margin kept for connecting) still opens the
/// stream and ends it cleanly, with the connect timeout left as configured.
#[test]
fn a_deadline_moments_away_ends_the_stream_cleanly() {
    let agent = agent_sending(1_000_000);
    let client = agent.client().unwrap();
    for left in [Duration::from_millis(50), Duration::from_millis(150)] {
        let started = Instant::now();
        let stream = client.stream_for(&Monitor::new(), left).expect("stream opens");
        let lines: Result<Vec<_>, Error> = stream.collect();
        assert!(lines.is_ok(), "{left:?}: {lines:?}");
        assert!(started.elapsed() < left + SLACK, "{left:?}: {:?}", started.elapsed());
    }
}

/// The transport reports the settings it was built with.
#[test]
fn the_ureq_transport_reports_its_settings() {
    let mut settings = nomad_blocking::TransportSettings::default();
    settings.read_timeout = Some(Duration::from_millis(1234));
    let config = nomad_blocking::ConfigBuilder::new()
        .address("http://127.0.0.1:4646")
        .build()
        .unwrap();
    let transport = nomad_blocking::UreqTransport::new(&config, settings).unwrap();
    assert_eq!(transport.settings().read_timeout, Some(Duration::from_millis(1234)));
    assert_eq!(transport.settings().body_limit, 32 * 1024 * 1024);
}
