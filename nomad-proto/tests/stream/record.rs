//! `LogLevel` and `LogRecord` (`log_json=true` lines), and the agent's dropped-lines notice.

use crate::*;

#[test]
fn log_level_parses_case_insensitively_and_round_trips() {
    for level in LogLevel::ALL {
        assert_eq!(level.as_str().parse::<LogLevel>(), Ok(level));
        assert_eq!(level.as_str().to_uppercase().parse::<LogLevel>(), Ok(level));
        assert_eq!(level.to_string(), level.as_str());
    }
    assert_eq!("Info".parse::<LogLevel>(), Ok(LogLevel::Info));
    assert_eq!(" debug ".parse::<LogLevel>(), Ok(LogLevel::Debug));
    assert_eq!("WARNING".parse::<LogLevel>(), Ok(LogLevel::Warn));
    assert_eq!(
        LogLevel::ALL.map(LogLevel::as_str),
        ["trace", "debug", "info", "warn", "error", "off"]
    );
}

#[test]
fn off_is_a_level_the_agent_accepts_but_no_record_has() {
    assert_eq!("off".parse::<LogLevel>(), Ok(LogLevel::Off));
    assert_eq!("OFF".parse::<LogLevel>(), Ok(LogLevel::Off));
    assert_eq!(LogLevel::Off.to_string(), "off");
    assert!(LogLevel::Off > LogLevel::Error);
    let err = LogRecord::parse(r#"{"@level":"off","@message":"m"}"#).unwrap_err();
    assert!(matches!(err, StreamError::InvalidRecord { .. }), "{err:?}");
}

#[test]
fn log_level_rejects_unknown_names_with_a_clear_message() {
    let err = "verbose".parse::<LogLevel>().unwrap_err();
    assert_eq!(err.input(), "verbose");
    assert_eq!(
        err.to_string(),
        r#"unknown log level "verbose" (expected trace, debug, info, warn, error or off)"#
    );
    for bad in ["", "of", "inf", "information", "err"] {
        assert!(bad.parse::<LogLevel>().is_err(), "{bad:?}");
    }
}

#[test]
fn log_levels_are_ordered_by_severity() {
    assert!(LogLevel::Trace < LogLevel::Debug);
    assert!(LogLevel::Debug < LogLevel::Info);
    assert!(LogLevel::Info < LogLevel::Warn);
    assert!(LogLevel::Warn < LogLevel::Error);
    assert!(LogLevel::Error < LogLevel::Off);
}

/// The plain-text line the agent inserts when its buffer overflows (Nomad
/// `command/agent/monitor/monitor.go`), into JSON streams too.
const DROPPED: &[u8] = b"[WARN] Monitor dropped 1234 logs during monitor request\n";

#[test]
fn the_dropped_lines_notice_is_a_warn_record_with_the_count_in_every_stream_format() {
    let json_line =
        br#"{"@level":"info","@message":"agent: started","@module":"agent","@timestamp":"2024-05-01T10:00:00.000000Z"}
"#;
    let text_line = b"2024-05-01T10:00:00.000Z [INFO]  agent: started\n";
    for (kind, line) in [("json", &json_line[..]), ("text", &text_line[..])] {
        let text = [line, DROPPED, line].concat();
        for (format, body) in [
            (StreamFormat::Framed, monitor_body(&text)),
            (StreamFormat::Plain, text.clone()),
        ] {
            let outcome = decode_any_split(format, &body);
            assert!(outcome.error.is_none(), "{kind} {format:?}: {:?}", outcome.error);
            let lines = &outcome.lines;
            assert_eq!(lines.len(), 3, "{kind} {format:?}");
            let record = lines[1].record().expect("the notice is a record, never an error");
            assert_eq!(record.level, LogLevel::Warn);
            assert_eq!(record.message, "Monitor dropped 1234 logs during monitor request");
            assert_eq!(record.dropped(), Some(1234));
            assert_eq!((record.module.as_deref(), record.timestamp.as_str()), (None, ""));
            // The other lines are what they are: records on a JSON stream, errors on a text one.
            assert_eq!(lines[0].record().is_ok(), kind == "json", "{kind} {format:?}");
            if let Ok(record) = lines[0].record() {
                assert_eq!(record.dropped(), None);
            }
        }
    }
}

#[test]
fn only_the_exact_notice_counts_dropped_lines() {
    for line in [
        "[WARN] Monitor dropped logs during monitor request",
        "[WARN] Monitor dropped -3 logs during monitor request",
        // Nomad writes the count with %d: never a sign.
        "[WARN] Monitor dropped +3 logs during monitor request",
        "[WARN] Monitor dropped 3 lines during monitor request",
        "[INFO] Monitor dropped 3 logs during monitor request",
        "[WARN] Monitor dropped 99999999999999999999999 logs during monitor request",
    ] {
        assert!(LogRecord::parse(line).is_err(), "{line}");
    }
    // A JSON record with the same message is an ordinary record.
    let record = LogRecord::parse(
        r#"{"@level":"warn","@message":"Monitor dropped 3 logs during monitor request","@timestamp":"2024-05-01T10:00:00.000000Z"}"#,
    )
    .unwrap();
    assert_eq!(record.dropped(), None);
    // The borrowed line parses the same way.
    let mut decoder = LogDecoder::new(StreamFormat::Plain);
    decoder.push(DROPPED);
    let line = decoder.next_line_ref().unwrap().unwrap();
    assert_eq!(line.record().unwrap().dropped(), Some(1234));
}
