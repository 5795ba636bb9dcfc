//! `StreamFrame`: a frame as a value, parsed and written.

use crate::*;

#[test]
fn stream_frame_uses_the_wire_names_and_base64_data() {
    let frame: StreamFrame =
        serde_json::from_str(r#"{"Offset":2048,"Data":"aGkK","File":"nomad.log","New":1}"#).unwrap();
    assert_eq!(
        frame,
        StreamFrame::new(b"hi\n".to_vec())
            .with_offset(2048)
            .with_file("nomad.log")
    );
    assert_eq!(
        serde_json::to_string(&frame).unwrap(),
        r#"{"Offset":2048,"Data":"aGkK","File":"nomad.log"}"#
    );
    assert!(serde_json::from_str::<StreamFrame>(r#"{"Data":"%%%"}"#).is_err());
    let err = serde_json::from_str::<StreamFrame>(r#"{"Data":5}"#).unwrap_err();
    assert!(err.to_string().contains("expected a string"), "{err}");
}

/// What a test double writes for a monitor frame, built from the constructors.
#[test]
fn a_monitor_frame_built_from_the_constructors_writes_as_the_agent_does() {
    let frame = StreamFrame::new(b"hi\n".to_vec()).with_file_event("log");
    assert_eq!(frame.file_event.as_deref(), Some("log"));
    assert_eq!(
        serde_json::to_string(&frame).unwrap(),
        r#"{"Data":"aGkK","FileEvent":"log"}"#
    );
    assert_eq!(serde_json::to_string(&StreamFrame::heartbeat()).unwrap(), "{}");
}

#[test]
fn heartbeat_frames_are_the_ones_with_every_field_empty() {
    let heartbeat: StreamFrame = serde_json::from_str("{}").unwrap();
    assert!(heartbeat.is_heartbeat());
    assert_eq!(serde_json::to_string(&heartbeat).unwrap(), "{}");
    let zero: StreamFrame = serde_json::from_str(r#"{"Offset":0,"Data":""}"#).unwrap();
    assert!(zero.is_heartbeat());
    let event: StreamFrame = serde_json::from_str(r#"{"FileEvent":"log"}"#).unwrap();
    assert!(!event.is_heartbeat());

    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(br#"{"Offset":0}{"FileEvent":"log"}"#);
    assert_eq!(decoder.next_line().unwrap(), None);
    assert_eq!((decoder.frames(), decoder.heartbeats()), (2, 1));
}

// log_json records

#[test]
fn log_json_record_exposes_level_message_module_timestamp_caller_and_fields() {
    let record = LogRecord::parse(
        r#"{"@caller":"github.com/hashicorp/nomad/client/client.go:612","@level":"debug","@message":"updated allocations","@module":"client","@timestamp":"2024-05-01T10:00:00.123456Z","filtered":2,"index":41,"pulled":3,"tags":{"dc":"dc1"}}"#,
    )
    .unwrap();
    assert_eq!(record.level, LogLevel::Debug);
    assert_eq!(record.message, "updated allocations");
    assert_eq!(record.module.as_deref(), Some("client"));
    assert_eq!(record.timestamp, "2024-05-01T10:00:00.123456Z");
    assert_eq!(
        record.caller.as_deref(),
        Some("github.com/hashicorp/nomad/client/client.go:612")
    );
    assert_eq!(
        serde_json::Value::Object(record.fields),
        serde_json::json!({"filtered": 2, "index": 41, "pulled": 3, "tags": {"dc": "dc1"}})
    );
}

#[test]
fn log_json_record_without_module_or_caller_parses() {
    let record: LogRecord =
        r#"{"@level":"info","@message":"agent: started","@timestamp":"2024-05-01T10:00:00.000000Z"}"#
            .parse()
            .unwrap();
    assert_eq!(record.level, LogLevel::Info);
    assert_eq!(record.module, None);
    assert_eq!(record.caller, None);
    assert!(record.fields.is_empty());
}

#[test]
fn log_json_stream_decodes_to_records() {
    let text = concat!(
        r#"{"@level":"info","@message":"agent: started","@module":"agent","@timestamp":"2024-05-01T10:00:00.000000Z"}"#,
        "\n",
        r#"{"@level":"error","@message":"failed to heartbeat","@module":"client","@timestamp":"2024-05-01T10:00:01.000000Z","error":"no servers"}"#,
        "\n",
    );
    let outcome = decode_any_split(StreamFormat::Framed, &monitor_body(text.as_bytes()));
    let records: Vec<LogRecord> = outcome.lines.iter().map(|l| l.record().unwrap()).collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].message, "agent: started");
    assert_eq!(records[1].level, LogLevel::Error);
    assert_eq!(records[1].fields["error"], "no servers");
}

#[test]
fn a_plain_text_line_is_not_a_log_record() {
    let err = LogRecord::parse("2024-05-01T10:00:00.123Z [INFO]  agent: started").unwrap_err();
    let StreamError::InvalidRecord { source, .. } = &err else {
        panic!("expected InvalidRecord, got {err:?}");
    };
    let parser = source.as_ref().expect("the parser's error is kept").to_string();
    assert!(err.to_string().contains(&parser), "{err}");
    assert!(std::error::Error::source(&err).is_none());
    assert!(err.to_string().contains("agent: started"));

    for line in ["[1,2]", "\"text\"", ""] {
        assert!(LogRecord::parse(line).is_err(), "{line:?}");
    }
}

#[test]
fn a_record_without_a_string_level_or_message_is_rejected() {
    for line in [
        r#"{"@message":"no level"}"#,
        r#"{"@level":"info"}"#,
        r#"{"@level":3,"@message":"numeric level"}"#,
        r#"{"@level":"info","@message":["not","a","string"]}"#,
        r#"{"@level":"info","@message":"m","@module":7}"#,
    ] {
        let err = LogRecord::parse(line).unwrap_err();
        assert!(err.to_string().starts_with("invalid log record"), "{line}: {err}");
    }
}

#[test]
fn a_record_with_an_unknown_level_is_an_error_not_a_catch_all() {
    // hclog writes "all" only for level-less messages, which the agent never sends.
    let err = LogRecord::parse(r#"{"@level":"all","@message":"m"}"#).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("@level") && msg.contains("all"), "{msg}");
    // Case does not matter.
    let record = LogRecord::parse(r#"{"@level":"WARN","@message":"m"}"#).unwrap();
    assert_eq!(record.level, LogLevel::Warn);
}
