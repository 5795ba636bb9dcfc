//! `/v1/agent/monitor` and `/v1/agent/monitor/export` end to end: whole streams of thousands of
//! lines, log levels, JSON records, plain streams, heartbeats keeping a quiet stream alive
//! (through gzip too), stopping a stream, targets, ACLs, an error appended mid-stream, export
//! offsets and refused combinations.

use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::{Monitor, MonitorExport, Target};
use nomad_blocking::proto::stream::LogLevel;
use nomad_blocking::proto::{BuildError, ResponseError};
use nomad_blocking::test_agent::{log_line, MonitorFeed, TestAgent};
use nomad_blocking::{Client, Error};

fn agent_with(feed: MonitorFeed) -> TestAgent {
    TestAgent::builder().monitor(feed).start().expect("test agent")
}

fn expected_lines(count: u64, min: LogLevel, json: bool) -> Vec<String> {
    (0..count)
        .map(|i| log_line(i, json))
        .filter(|(l, _)| *l >= min)
        .map(|(_, t)| t)
        .collect()
}

#[test]
fn a_monitor_stream_of_thousands_of_lines_arrives_whole_and_ends_cleanly() {
    let agent = agent_with(MonitorFeed::new().lines(20_000));
    let client = agent.client().unwrap();
    let stream = client
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Trace))
        .unwrap();
    let lines: Vec<String> = stream.map(|l| l.expect("line").text).collect();
    assert_eq!(lines.len(), 20_000);
    assert_eq!(lines, expected_lines(20_000, LogLevel::Trace, false));
    let req = agent.last_request().unwrap();
    assert_eq!(req.path, "/v1/agent/monitor");
    assert_eq!(req.query_param("log_level"), Some("trace"));
}

#[test]
fn the_log_level_filter_is_sent_and_applied_by_the_agent() {
    let agent = agent_with(MonitorFeed::new().lines(1_000));
    let client = agent.client().unwrap();
    let lines: Vec<String> = client
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Warn))
        .unwrap()
        .map(|l| l.unwrap().text)
        .collect();
    assert_eq!(agent.last_request().unwrap().query_param("log_level"), Some("warn"));
    assert_eq!(lines, expected_lines(1_000, LogLevel::Warn, false));
    assert!(lines.iter().all(|l| l.contains("[WARN]") || l.contains("[ERROR]")));
}

#[test]
fn log_json_streams_decode_into_typed_records() {
    let agent = agent_with(MonitorFeed::new().lines(500));
    let client = agent.client().unwrap();
    let stream = client
        .agent()
        .monitor(&Monitor::new().log_json(true).log_level(LogLevel::Debug))
        .unwrap();
    let records: Vec<_> = stream.records().map(|r| r.expect("record")).collect();
    assert_eq!(records.len(), expected_lines(500, LogLevel::Debug, true).len());
    let first = &records[0];
    assert_eq!(first.level, LogLevel::Info);
    assert_eq!(first.module.as_deref(), Some("agent"));
    assert_eq!(first.message, "event 0 handled");
    assert_eq!(first.fields["request_id"], "7f3a00000000");
    assert_eq!(first.fields["seq"], 0);
    assert!(records.iter().all(|r| r.level >= LogLevel::Debug));
}

#[test]
fn the_dropped_logs_line_is_a_warn_record_and_the_records_go_on_after_it() {
    // A real agent whose monitor buffer overflowed inserts a plain-text line into a JSON stream
    // (Nomad `command/agent/monitor/monitor.go`); it must not end a `records()` loop.
    let feed = MonitorFeed::new().lines(40).dropped_after(10, 7);
    let agent = agent_with(feed);
    let client = agent.client().unwrap();
    let stream = client
        .agent()
        .monitor(&Monitor::new().log_json(true).log_level(LogLevel::Trace))
        .unwrap();
    let records: Vec<_> = stream.records().map(|r| r.expect("a record, never an error")).collect();
    let dropped: Vec<_> = records.iter().filter(|r| r.dropped().is_some()).collect();
    assert_eq!(dropped.len(), 1, "{records:?}");
    assert_eq!(dropped[0].dropped(), Some(7));
    assert_eq!(dropped[0].level, LogLevel::Warn);
    assert_eq!(dropped[0].message, "Monitor dropped 7 logs during monitor request");
    // The lines before and after it arrive: 40 generated, 7 of them dropped by the agent.
    let ordinary: Vec<_> = records.iter().filter(|r| r.dropped().is_none()).collect();
    assert_eq!(ordinary.len(), 40 - 7);
    let position = records.iter().position(|r| r.dropped().is_some()).unwrap();
    assert_eq!(position, 10, "after the 10 lines sent before the overflow");
    assert_eq!(records.last().unwrap().message, "event 39 handled");
}

#[test]
fn plain_streams_are_raw_text_split_into_lines() {
    let agent = agent_with(MonitorFeed::new().lines(3_000));
    let client = agent.client().unwrap();
    let stream = client
        .agent()
        .monitor(&Monitor::new().plain(true).log_level(LogLevel::Trace))
        .unwrap();
    let lines: Vec<String> = stream.map(|l| l.unwrap().text).collect();
    assert_eq!(lines, expected_lines(3_000, LogLevel::Trace, false));
    assert_eq!(agent.last_request().unwrap().query_param("plain"), Some("true"));
}

#[test]
fn an_error_appended_mid_stream_is_reported_after_the_lines_before_it() {
    let agent = agent_with(MonitorFeed::new().lines(100).trailing_error("rpc error: EOF"));
    let client = agent.client().unwrap();
    let items: Vec<_> = client
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Trace))
        .unwrap()
        .collect();
    let (ok, err): (Vec<_>, Vec<_>) = items.into_iter().partition(Result::is_ok);
    assert_eq!(ok.len(), 100);
    assert_eq!(err.len(), 1, "exactly one error, then the end");
    let err = err.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(err, Error::Response(ResponseError::Stream(_))), "{err:?}");
    let chain = format!("{err} / {:?}", std::error::Error::source(&err));
    assert!(chain.contains("rpc error: EOF"), "the agent's text is shown: {chain}");
}

/// A read timeout that one-second heartbeats beat with 3x slack, and a quiet spell (only
/// heartbeats) clearly longer than it.
const HEARTBEAT_READ_TIMEOUT: Duration = Duration::from_secs(3);

const QUIET_SPELL: Duration = Duration::from_millis(4_500);

#[test]
fn a_quiet_stream_kept_alive_by_heartbeats_survives_a_short_read_timeout() {
    let agent = agent_with(MonitorFeed::new().lines(10).linger(QUIET_SPELL));
    let client = Client::builder()
        .address(agent.url())
        .gzip(false)
        .read_timeout(Some(HEARTBEAT_READ_TIMEOUT))
        .call_timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    let stream = client
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Trace))
        .unwrap();
    let lines: Vec<_> = stream
        .map(|l| l.expect("no timeout on a healthy quiet stream"))
        .collect();
    assert_eq!(lines.len(), 10);
    assert!(
        started.elapsed() >= QUIET_SPELL - Duration::from_millis(500),
        "the stream stayed open, quiet, past the read and call timeouts: {:?}",
        started.elapsed()
    );
}

#[test]
fn a_stop_handle_ends_a_live_stream_from_another_thread() {
    let agent = agent_with(MonitorFeed::new().lines(5).linger(Duration::from_secs(30)));
    let client = agent.client().unwrap();
    let mut stream = client
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Trace))
        .unwrap();
    let stop = stream.stop_handle();
    for _ in 0..5 {
        stream.next().unwrap().unwrap();
    }
    let started = Instant::now();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        stop.stop();
    });
    assert!(stream.next().is_none());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped within a heartbeat or two"
    );
    // Dropping the stream closes the connection; the agent keeps answering.
    drop(stream);
    assert!(client.agent().health().unwrap().is_healthy());
}

#[test]
fn streams_need_agent_read_and_fail_before_streaming() {
    let agent = TestAgent::builder().acl("root").start().unwrap();
    let err = agent.client().unwrap().agent().monitor(&Monitor::new()).unwrap_err();
    assert!(err.is_permission_denied(), "{err}");
    assert_eq!(err.as_response().and_then(|r| r.message()), Some("Permission denied"));
    let lines: Vec<String> = agent
        .client_with_token("root")
        .unwrap()
        .agent()
        .monitor(&Monitor::new())
        .unwrap()
        .map(|l| l.expect("line").text)
        .collect();
    let feed = MonitorFeed::default();
    assert_eq!(lines, expected_lines(feed.lines, LogLevel::Info, false));
}

#[test]
fn targeting_is_sent_as_node_id_or_server_id() {
    let agent = agent_with(MonitorFeed::new().lines(3));
    let client = agent.client().unwrap();
    let all_lines = |op: &Monitor| -> Vec<String> {
        let stream = client.agent().monitor(op).expect("the stream opens");
        stream.map(|l| l.expect("line").text).collect()
    };
    let expected = expected_lines(3, LogLevel::Info, false);
    let lines = all_lines(&Monitor::new().target(Target::Server("leader".into())));
    assert_eq!(lines, expected);
    assert_eq!(agent.last_request().unwrap().query_param("server_id"), Some("leader"));
    let node = "f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f";
    let lines = all_lines(&Monitor::new().target(Target::Node(node.into())));
    assert_eq!(lines, expected);
    assert_eq!(agent.last_request().unwrap().query_param("node_id"), Some(node));
    // An agent the cluster does not know is refused before streaming starts.
    let err = client
        .agent()
        .monitor(&Monitor::new().target(Target::Server("nomad-9".into())))
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    assert!(err.to_string().contains("unknown nomad server nomad-9"), "{err}");
}

#[test]
fn a_quiet_plain_stream_has_no_heartbeats_and_is_not_killed_by_the_read_timeout() {
    let agent = agent_with(MonitorFeed::new().lines(10).linger(Duration::from_millis(2_500)));
    let client = Client::builder()
        .address(agent.url())
        .read_timeout(Some(Duration::from_millis(800)))
        .build()
        .unwrap();
    let started = Instant::now();
    let stream = client
        .agent()
        .monitor(&Monitor::new().plain(true).log_level(LogLevel::Trace))
        .unwrap();
    let lines: Vec<_> = stream.map(|l| l.expect("a quiet plain stream is healthy")).collect();
    assert_eq!(lines.len(), 10);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "it stayed open, silent, past the read timeout"
    );
}

#[test]
fn a_log_stream_run_as_a_buffered_call_keeps_the_call_timeout() {
    // `Client::call` buffers the whole body: on a stream that never ends it must time out, not
    // block until the body limit.
    let agent = agent_with(MonitorFeed::new().lines(10).linger(Duration::from_secs(30)));
    let client = Client::builder()
        .address(agent.url())
        .call_timeout(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.call(&Monitor::new()).unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn streams_are_gzip_compressed_when_asked_and_still_arrive_live() {
    // ureq asks for gzip; the test agent, like the agent's gzip handler, compresses and
    // sync-flushes every chunk. Heartbeats must still get through the compressor in time.
    let agent = agent_with(MonitorFeed::new().lines(50).linger(QUIET_SPELL));
    let client = Client::builder()
        .address(agent.url())
        .read_timeout(Some(HEARTBEAT_READ_TIMEOUT))
        .build()
        .unwrap();
    let started = Instant::now();
    let stream = client
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Trace))
        .unwrap();
    let lines: Vec<String> = stream
        .map(|l| l.map(|l| l.text))
        .collect::<Result<_, _>>()
        .expect("every line arrives");
    assert_eq!(lines, expected_lines(50, LogLevel::Trace, false));
    assert!(started.elapsed() >= QUIET_SPELL - Duration::from_millis(500));
    let req = agent.last_request().unwrap();
    assert!(req.header("accept-encoding").is_some_and(|v| v.contains("gzip")));
}

#[test]
fn export_frames_carry_cumulative_offsets_and_end_at_the_end_of_the_file() {
    let agent = agent_with(MonitorFeed::new().lines(2_000).linger(Duration::from_secs(30)));
    let client = agent.client().unwrap();
    let started = Instant::now();
    let lines: Vec<_> = client
        .agent()
        .monitor_export(&MonitorExport::on_disk())
        .unwrap()
        .map(|l| l.unwrap())
        .collect();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "no follow: the export ends without lingering"
    );
    assert_eq!(lines.len(), 2_000);
    let offsets: Vec<i64> = lines
        .iter()
        .map(|l| l.offset.expect("export frames have offsets"))
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "offsets only grow");
    let total: usize = expected_lines(2_000, LogLevel::Trace, false)
        .iter()
        .map(|l| l.len() + 1)
        .sum();
    assert_eq!(
        *offsets.last().unwrap() as usize,
        total,
        "the last offset is the byte count"
    );
    assert_eq!(agent.last_request().unwrap().query_param("on_disk"), Some("true"));
}

#[test]
fn export_combinations_the_agent_rejects_are_rejected_before_sending() {
    let agent = TestAgent::start().unwrap();
    let client = agent.client().unwrap();
    let err = client
        .agent()
        .monitor_export(&MonitorExport::on_disk().follow(true))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Build(BuildError::InvalidArgument { argument: "follow", .. })
        ),
        "{err}"
    );
    let err = client.agent().monitor_export(&MonitorExport::service("")).unwrap_err();
    assert!(matches!(err, Error::Build(_)), "{err}");
    assert!(agent.requests().is_empty(), "nothing was sent");
    // A service name the agent refuses surfaces its 422.
    let err = client
        .agent()
        .monitor_export(&MonitorExport::service("bad name;rm"))
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
}
