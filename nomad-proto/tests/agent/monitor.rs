//! `Monitor` and `MonitorExport` (`src/agent/monitor.rs`): their requests (marked as streams for
//! transports), combinations refused before sending, and a stream body parsed in one piece. The
//! incremental decoder is tested in `tests/stream/`.

use std::time::Duration;

use nomad_proto::agent::{LogStreamRequest, Monitor, MonitorExport, Target};
use nomad_proto::http::{Response, StatusCode};
use nomad_proto::stream::{LogLevel, StreamError, StreamFormat};
use nomad_proto::{BuildError, Endpoint, ResponseError, StreamingResponse, WithCallOptions};

use crate::common::*;

#[test]
fn monitor_sends_every_option_as_the_agent_expects() {
    let op = Monitor::new()
        .log_level(LogLevel::Warn)
        .log_json(true)
        .log_include_location(true)
        .plain(true)
        .target(Target::Server("leader".into()))
        .region("eu");
    let req = request(&op);
    assert_eq!(req.method(), "GET");
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/monitor?log_level=warn&log_json=true&log_include_location=true&plain=true&server_id=leader&region=eu"
    );
    assert_eq!(header_values(&req, "x-nomad-token"), [TOKEN]);
    assert!(
        req.extensions().get::<StreamingResponse>().is_some(),
        "marked as a stream for transports"
    );
    assert_eq!(op.format(), StreamFormat::Plain);
}

#[test]
fn monitor_defaults_send_no_options_and_use_frames() {
    let op = Monitor::new();
    let req = op.to_request(&config()).unwrap();
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/monitor");
    assert_eq!(op.format(), StreamFormat::Framed);
}

#[test]
fn empty_target_ids_are_rejected_before_sending() {
    let err = Monitor::new()
        .target(Target::Node(" ".into()))
        .to_request(&config())
        .unwrap_err();
    assert!(
        matches!(
            err,
            BuildError::InvalidArgument {
                argument: "node_id",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn export_sends_its_source_follow_and_a_go_duration() {
    let op = MonitorExport::service("nomad.service")
        .follow(true)
        .logs_since(Duration::from_secs(3600));
    let req = op.to_request(&config()).unwrap();
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/monitor/export?service_name=nomad.service&follow=true&logs_since=3600s"
    );
    let req = MonitorExport::on_disk()
        .logs_since(Duration::from_millis(1500))
        .to_request(&config())
        .unwrap();
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/monitor/export?on_disk=true&logs_since=1500ms"
    );
}

#[test]
fn export_combinations_the_agent_rejects_never_leave_the_client() {
    let err = MonitorExport::on_disk().follow(true).to_request(&config()).unwrap_err();
    assert!(matches!(err, BuildError::InvalidArgument { argument: "follow", .. }));
    let err = MonitorExport::service("").to_request(&config()).unwrap_err();
    assert!(matches!(
        err,
        BuildError::InvalidArgument {
            argument: "service_name",
            ..
        }
    ));
}

#[test]
fn a_buffered_monitor_body_parses_into_lines() {
    // "hello\nwor" + "ld\n" with a heartbeat between.
    let body = br#"{"Data":"aGVsbG8Kd29y","FileEvent":"log"}{}{"Data":"bGQK","FileEvent":"log"}"#;
    let resp = Response::builder().status(200).body(body.to_vec()).unwrap();
    let lines = Monitor::new().parse_response(resp).unwrap();
    let texts: Vec<_> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["hello", "world"]);
}

#[test]
fn a_refused_stream_keeps_the_agents_status_and_text() {
    let resp = Response::builder()
        .status(400)
        .body(b"Unknown log level: verbose".to_vec())
        .unwrap();
    let err = Monitor::new().parse_response(resp).unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(err.message(), Some("Unknown log level: verbose"));
}

#[test]
fn a_truncated_buffered_stream_is_a_partial_stream_error() {
    let resp = Response::builder()
        .status(200)
        .body(br#"{"Data":"aGVs"#.to_vec())
        .unwrap();
    let err = Monitor::new().parse_response(resp).unwrap_err();
    assert!(
        matches!(err, ResponseError::PartialStream { ref lines, .. } if lines.is_empty()),
        "{err:?}"
    );
    assert!(matches!(
        err.stream_error(),
        Some(StreamError::Truncated { pending: 13 })
    ));
}

/// A buffered stream cut in the middle of a frame keeps every whole line decoded before it.
#[test]
fn a_buffered_stream_cut_mid_frame_keeps_the_whole_lines_before_the_cut() {
    // "agent: started\nclient: ready\npart" in two frames, then a frame cut inside its `Data`.
    let body = br#"{"Data":"YWdlbnQ6IHN0YXJ0ZWQKY2xpZW50OiByZWFkeQpw","FileEvent":"log"}{}{"Data":"YXJ0","FileEvent":"log"}{"Data":"bW9y"#;
    let err = Monitor::new()
        .parse_response(json_ok(std::str::from_utf8(body).unwrap()))
        .unwrap_err();
    let texts: Vec<&str> = err.partial_lines().iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        ["agent: started", "client: ready"],
        "the unterminated `part` is not a whole line"
    );
    assert!(
        matches!(err.stream_error(), Some(StreamError::Truncated { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "GET /v1/agent/monitor: the log stream broke after 2 whole lines: log stream: truncated frame (the \
         stream ended 13 bytes into a frame)"
    );
    let ResponseError::PartialStream { lines, .. } = err else {
        panic!("expected PartialStream")
    };
    assert_eq!(lines.len(), 2, "the lines can be taken out of the error");
}

#[test]
fn a_buffered_export_that_ends_in_agent_text_keeps_its_lines_and_offsets() {
    // Export frames carry `Offset` and never `File` or `FileEvent`.
    let body = r#"{"Offset":4,"Data":"b25lCg=="}{"Offset":8,"Data":"dHdvCg=="}rpc error: EOF"#;
    let err = MonitorExport::on_disk().parse_response(json_ok(body)).unwrap_err();
    let lines = err.partial_lines();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[1].text.as_str(), lines[1].offset, lines[1].file.as_deref()),
        ("two", Some(8), None)
    );
    assert!(matches!(err.stream_error(), Some(StreamError::TrailingText { snippet }) if snippet == "rpc error: EOF"));
    assert_eq!(err.call().map(|c| c.path()), Some("/v1/agent/monitor/export"));
}

#[test]
fn the_dropped_lines_notice_is_a_record_in_a_buffered_json_stream() {
    let notice = b"[WARN] Monitor dropped 17 logs during monitor request\n";
    let json =
        br#"{"@level":"info","@message":"agent: started","@module":"agent","@timestamp":"2024-05-01T10:00:00.000000Z"}
"#;
    let frame = |data: &[u8]| {
        use base64::Engine as _;
        format!(
            r#"{{"Data":"{}","FileEvent":"log"}}"#,
            base64::engine::general_purpose::STANDARD.encode(data)
        )
    };
    let body = [frame(json), frame(notice), frame(json)].concat();
    let lines = Monitor::new().log_json(true).parse_response(json_ok(&body)).unwrap();
    let records: Vec<_> = lines
        .iter()
        .map(|l| l.record().expect("every line is a record"))
        .collect();
    assert_eq!(
        records.iter().map(|r| r.dropped()).collect::<Vec<_>>(),
        [None, Some(17), None]
    );
    assert_eq!(records[1].level, LogLevel::Warn);
}

#[test]
fn log_level_off_is_sent_as_off() {
    let req = Monitor::new().log_level(LogLevel::Off).to_request(&config()).unwrap();
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/monitor?log_level=off");
}

/// Transports learn from the request whether the agent will send heartbeats (framed streams
/// do, about one a second; `plain=true` streams do not), to choose their read timeout.
#[test]
fn stream_requests_say_whether_heartbeats_will_come() {
    let heartbeats =
        |req: nomad_proto::http::Request<Vec<u8>>| req.extensions().get::<StreamingResponse>().unwrap().heartbeats;
    assert!(heartbeats(request(&Monitor::new())));
    assert!(!heartbeats(request(&Monitor::new().plain(true))));
    assert!(heartbeats(request(&MonitorExport::on_disk())));
    assert!(!heartbeats(request(&MonitorExport::on_disk().plain(true))));
}

/// Only a monitor asked for `log_json=true` sends JSON records; an export never does.
#[test]
fn log_json_is_what_the_request_asked_for() {
    assert!(!LogStreamRequest::log_json(&Monitor::new()));
    assert!(LogStreamRequest::log_json(&Monitor::new().log_json(true)));
    assert!(!LogStreamRequest::log_json(&MonitorExport::on_disk()));
    assert!(!LogStreamRequest::log_json(&MonitorExport::service("nomad.service")));
}

#[test]
fn an_export_asked_for_plain_text_is_decoded_as_plain_text() {
    assert_eq!(MonitorExport::on_disk().format(), StreamFormat::Framed);
    assert_eq!(MonitorExport::on_disk().plain(true).format(), StreamFormat::Plain);
}
