//! Every call is visible to `tracing`, and no secret ever is: a subscriber that records
//! everything (every span, event and field, at every level, through `Debug`) watches calls made
//! with an ACL token, basic auth (`user:password`), a gossip key install, a query value and a log
//! stream, against the test agent; the record names the calls, their paths and statuses, and
//! holds none of the secrets.
#![cfg(all(feature = "tracing", feature = "test-agent", feature = "keygen"))]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nomad_blocking::proto::agent::{ListMembers, Monitor};
use nomad_blocking::proto::stream::LogLevel;
use nomad_blocking::test_agent::{MonitorFeed, Role, TestAgent};
use nomad_blocking::{generate_gossip_key, Client, WithCallOptions};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

const TOKEN: &str = "0f3c1d2e-tok3n-s3cr3t-5a6b";
const USER: &str = "alice";
const PASSWORD: &str = "pa55w0rd-s3cr3t";
const REGION_VALUE: &str = "region-value-q7x";

/// Records everything, as text: one line per span (its name, target and every field), per
/// later `record` on a span, and per event.
#[derive(Clone, Default)]
struct RecordAll {
    log: Arc<Mutex<String>>,
    next_id: Arc<AtomicU64>,
}

impl RecordAll {
    fn text(&self) -> String {
        self.log.lock().unwrap().clone()
    }
    fn push(&self, line: String) {
        let mut log = self.log.lock().unwrap();
        log.push_str(&line);
        log.push('\n');
    }
}

/// Writes every field as `name=value` (with `Debug`, the most revealing form).
struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Subscriber for RecordAll {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let meta = span.metadata();
        let mut line = format!("span#{id} {} {} {}:", meta.level(), meta.target(), meta.name());
        span.record(&mut Fields(&mut line));
        self.push(line);
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut line = format!("record span#{}:", span.into_u64());
        values.record(&mut Fields(&mut line));
        self.push(line);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        let mut line = format!("event {} {} {}:", meta.level(), meta.target(), meta.name());
        event.record(&mut Fields(&mut line));
        self.push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[test]
fn calls_and_streams_are_traced_and_secrets_never_are() {
    let agent = TestAgent::builder()
        .role(Role::Both)
        .acl(TOKEN)
        .monitor(MonitorFeed::new().lines(5).linger(Duration::from_secs(30)))
        .start()
        .unwrap();
    let port = agent.socket_addr().unwrap().port();
    let client = Client::builder()
        .address(format!("http://127.0.0.1:{port}"))
        .token(TOKEN)
        .basic_auth(USER, Some(PASSWORD.to_owned()))
        .build()
        .unwrap();
    let key = generate_gossip_key().unwrap();

    let recorder = RecordAll::default();
    let (members, installed, lines, failed) = tracing::subscriber::with_default(recorder.clone(), || {
        tracing::event!(Level::TRACE, "the recorder sees TRACE events");
        let members = client.agent().members().unwrap();
        let installed = client.agent().install_key(key.clone()).unwrap();
        client.call(&ListMembers::new().region(REGION_VALUE)).unwrap();
        let lines = client
            .stream_for(&Monitor::new().log_level(LogLevel::Trace), Duration::from_millis(1500))
            .unwrap()
            .count();
        let failed = client
            .agent()
            .pprof(&nomad_blocking::proto::agent::Pprof::lookup("nosuch"))
            .unwrap_err();
        (members, installed, lines, failed)
    });
    assert!(!members.members.is_empty());
    assert!(installed.keys.contains_key(key.expose()), "the key was installed");
    assert_eq!(lines, 5);
    assert!(failed.is_not_found(), "{failed}");

    let text = recorder.text();
    println!("{text}");
    assert!(
        text.contains("the recorder sees TRACE events"),
        "the recorder records everything"
    );

    // The calls are visible: name, method, path, status, sizes, time.
    for expected in [
        "nomad_blocking nomad_call: op=ListMembers method=GET path=/v1/agent/members",
        "op=InstallKey method=PUT path=/v1/agent/keyring/install",
        "status=200",
        "response_bytes=",
        "elapsed_ms=",
        "call finished",
        // The query's keys, never its values.
        "query_keys=region",
        // A failed call, with its status and error.
        "path=/v1/agent/pprof/nosuch",
        "status=404",
        "call failed",
        // The stream: open, end, lines and bytes.
        "nomad_log_stream: op=Monitor method=GET path=/v1/agent/monitor query_keys=log_level format=framed",
        "log stream opened",
        "end=deadline reached lines=5 bytes=",
        "log stream ended",
    ] {
        assert!(text.contains(expected), "the record shows `{expected}`:\n{text}");
    }

    // No secret, in any form.
    let basic = base64_of(&format!("{USER}:{PASSWORD}"));
    for secret in [TOKEN, PASSWORD, key.expose(), &basic, REGION_VALUE] {
        assert!(!text.contains(secret), "the record holds a secret `{secret}`:\n{text}");
    }
}

#[test]
fn a_stop_request_and_a_dropped_stream_are_traced() {
    let agent = TestAgent::builder()
        .monitor(MonitorFeed::new().lines(3).linger(Duration::from_secs(30)))
        .start()
        .unwrap();
    let client = agent.client().unwrap();
    let recorder = RecordAll::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let mut stream = client
            .agent()
            .monitor(&Monitor::new().log_level(LogLevel::Trace))
            .unwrap();
        let stop = stream.stop_handle();
        for _ in 0..3 {
            stream.next().unwrap().unwrap();
        }
        stop.stop();
        assert!(stream.next().is_none());

        let mut dropped = client
            .agent()
            .monitor(&Monitor::new().log_level(LogLevel::Trace))
            .unwrap();
        dropped.next().unwrap().unwrap();
        drop(dropped);
    });
    let text = recorder.text();
    for expected in [
        "log stream stop requested",
        "end=stopped lines=3",
        "end=dropped lines=1",
    ] {
        assert!(text.contains(expected), "the record shows `{expected}`:\n{text}");
    }
    // A stream that ends without an error records none.
    assert!(!text.contains(" error="), "{text}");
}

/// A stream that fails records its end with the error, as its `Display` reads.
#[test]
fn a_failed_stream_is_traced_with_its_error() {
    let agent = TestAgent::builder()
        .monitor(
            MonitorFeed::new()
                .lines(2)
                .trailing_error("rpc error: Permission denied"),
        )
        .start()
        .unwrap();
    let client = agent.client().unwrap();
    let recorder = RecordAll::default();
    let err = tracing::subscriber::with_default(recorder.clone(), || {
        let results: Vec<_> = client
            .agent()
            .monitor(&Monitor::new().log_level(LogLevel::Trace))
            .unwrap()
            .collect();
        assert_eq!(results.len(), 3, "two lines, then the error");
        results.into_iter().last().unwrap().unwrap_err()
    });
    let text = recorder.text();
    let ended = text
        .lines()
        .find(|l| l.contains("log stream ended"))
        .expect("the end is recorded");
    assert!(ended.contains("end=failed lines=2"), "{ended}");
    assert!(ended.contains(&format!(" error={err}")), "{ended}\n{err}");
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
