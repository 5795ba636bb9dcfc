//! Log levels and hclog JSON records: what one line of a `log_json=true` stream holds.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::{snippet, StreamError};
use crate::text::floor_char_boundary;

/// An hclog log level: the `log_level` query parameter of `/v1/agent/monitor`, and the
/// `@level` of a JSON log record.
///
/// Levels are ordered by severity: `Trace < Debug < Info < Warn < Error < Off`. [`LogLevel::Off`]
/// is a level the agent accepts for `log_level` (hclog `LevelFromString`): a stream at `off`
/// carries no lines, only heartbeats. No record has it.
///
/// ```rust
/// use nomad_proto::stream::LogLevel;
///
/// assert_eq!("WARN".parse::<LogLevel>(), Ok(LogLevel::Warn));
/// assert_eq!("warning".parse::<LogLevel>(), Ok(LogLevel::Warn));
/// assert_eq!(LogLevel::Debug.as_str(), "debug");
/// assert_eq!("off".parse::<LogLevel>(), Ok(LogLevel::Off));
/// assert_eq!(format!("{:>5}|", LogLevel::Off), "  off|");
/// assert!(LogLevel::Error > LogLevel::Info);
/// assert!("verbose".parse::<LogLevel>().is_err());
/// ```
///
/// It serializes as [`as_str`](Self::as_str) and deserializes as [`FromStr`] parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum LogLevel {
    /// `trace`
    Trace,
    /// `debug`
    Debug,
    /// `info` (the agent's default for `log_level`)
    Info,
    /// `warn`
    Warn,
    /// `error`
    Error,
    /// `off`: nothing is logged (a `log_level` only).
    Off,
}

impl LogLevel {
    /// Every level the agent accepts for `log_level`, from least to most severe, [`Off`](Self::Off)
    /// last.
    pub const ALL: [LogLevel; 6] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
        LogLevel::Off,
    ];

    /// The lowercase name hclog uses (`"trace"`, `"debug"`, `"info"`, `"warn"`, `"error"`,
    /// `"off"`). The agent accepts it as a `log_level` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Off => "off",
        }
    }
}

impl fmt::Display for LogLevel {
    /// The lowercase name, padded to the formatter's width (`{:<5}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for LogLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LogLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Error from parsing a [`LogLevel`]: the name is not one of `trace`, `debug`, `info`,
/// `warn` (or `warning`), `error`, `off`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log level {input:?} (expected trace, debug, info, warn, error or off)")]
pub struct ParseLogLevelError {
    input: String,
}

impl ParseLogLevelError {
    /// The rejected input (cut to 64 bytes).
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl FromStr for LogLevel {
    type Err = ParseLogLevelError;

    /// Parses a level name, ignoring ASCII case and surrounding whitespace. `warning` is
    /// accepted for [`LogLevel::Warn`] (the agent itself does not accept it as a `log_level`).
    /// Anything else, such as `verbose` or `""`, is an error.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        let level = [
            ("trace", LogLevel::Trace),
            ("debug", LogLevel::Debug),
            ("info", LogLevel::Info),
            ("warn", LogLevel::Warn),
            ("warning", LogLevel::Warn),
            ("error", LogLevel::Error),
            ("off", LogLevel::Off),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, level)| level);
        level.ok_or_else(|| {
            let end = floor_char_boundary(s, 64);
            ParseLogLevelError {
                input: s[..end].to_owned(),
            }
        })
    }
}

/// One hclog JSON log record: a line of a stream requested with `log_json=true`, such as
/// `{"@level":"info","@message":"agent: started","@module":"agent","@timestamp":"2024-05-01T10:00:00.000000Z"}`.
///
/// ```rust
/// use nomad_proto::stream::{LogLevel, LogRecord};
///
/// let record = LogRecord::parse(
///     r#"{"@level":"warn","@message":"client: slow heartbeat","@module":"client","@timestamp":"2024-05-01T10:00:00.000000Z","ttl":"10s"}"#,
/// )?;
/// assert_eq!(record.level, LogLevel::Warn);
/// assert_eq!(record.message, "client: slow heartbeat");
/// assert_eq!(record.module.as_deref(), Some("client"));
/// assert_eq!(record.fields["ttl"], "10s");
/// assert_eq!(record.dropped(), None);
///
/// // When its buffer overflows, the agent inserts a plain-text notice, even into a
/// // `log_json=true` stream: it is a record too, and says how many lines were lost.
/// let notice = LogRecord::parse("[WARN] Monitor dropped 42 logs during monitor request")?;
/// assert_eq!(notice.level, LogLevel::Warn);
/// assert_eq!(notice.message, "Monitor dropped 42 logs during monitor request");
/// assert_eq!(notice.dropped(), Some(42));
/// # Ok::<(), nomad_proto::stream::StreamError>(())
/// ```
///
/// It serializes as hclog writes it: one JSON object holding `@level`, `@message`, the
/// `@timestamp`, `@module` and `@caller` it has, and the fields, keys in sorted order (Go's
/// `encoding/json` sorts map keys); it deserializes as [`LogRecord::parse`] reads a line. To
/// build one (a fake log in a test), use [`LogRecord::new`] and the `with_` methods:
///
/// ```rust
/// use nomad_proto::stream::{LogLevel, LogRecord};
///
/// let record = LogRecord::new(LogLevel::Info, "agent: started")
///     .with_module("agent")
///     .with_field("port", 4646);
/// assert_eq!(
///     serde_json::to_string(&record)?,
///     r#"{"@level":"info","@message":"agent: started","@module":"agent","port":4646}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LogRecord {
    /// `@timestamp`, as sent (hclog format `2006-01-02T15:04:05.000000Z07:00`). Empty if the
    /// record has none.
    pub timestamp: String,
    /// `@level`.
    pub level: LogLevel,
    /// `@message`.
    pub message: String,
    /// `@module`: the logger name, e.g. `agent` or `client.alloc_runner`. hclog leaves it out
    /// for the unnamed root logger.
    pub module: Option<String>,
    /// `@caller` (`file.go:123`): present with `log_include_location=true`.
    pub caller: Option<String>,
    /// All other keys: the message's key/value arguments, plus any other `@`-keys hclog adds
    /// (such as `@warn`).
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// The notice the agent inserts into a monitor stream when its buffer overflowed (Nomad
/// `command/agent/monitor/monitor.go`): `[WARN] Monitor dropped <N> logs during monitor request`.
const DROPPED_HEAD: &str = "[WARN] ";
const DROPPED_PREFIX: &str = "Monitor dropped ";
const DROPPED_SUFFIX: &str = " logs during monitor request";

/// The count of a dropped-lines notice's message, `Monitor dropped <N> logs during monitor request`.
fn dropped_count(message: &str) -> Option<u64> {
    let digits = message.strip_prefix(DROPPED_PREFIX)?.strip_suffix(DROPPED_SUFFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The keys hclog sets itself; [`LogRecord::fields`] never holds them after parsing.
const RESERVED: [&str; 5] = ["@timestamp", "@level", "@message", "@module", "@caller"];

impl LogRecord {
    /// A record with `level` and `message`, and no timestamp, module, caller or fields.
    #[must_use]
    pub fn new(level: LogLevel, message: impl Into<String>) -> Self {
        LogRecord {
            timestamp: String::new(),
            level,
            message: message.into(),
            module: None,
            caller: None,
            fields: serde_json::Map::new(),
        }
    }

    /// The same record with a `@timestamp`.
    #[must_use]
    pub fn with_timestamp(mut self, timestamp: impl Into<String>) -> Self {
        self.timestamp = timestamp.into();
        self
    }

    /// The same record with a `@module`.
    #[must_use]
    pub fn with_module(mut self, module: impl Into<String>) -> Self {
        self.module = Some(module.into());
        self
    }

    /// The same record with a `@caller`.
    #[must_use]
    pub fn with_caller(mut self, caller: impl Into<String>) -> Self {
        self.caller = Some(caller.into());
        self
    }

    /// The same record with one more field (replacing a field of that name).
    #[must_use]
    pub fn with_field(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// Parses one line of a `log_json=true` stream.
    ///
    /// `@level` and `@message` are required strings, and `@level` must be one of the five
    /// levels a record can have ([`LogLevel::Trace`] to [`LogLevel::Error`]). hclog also writes
    /// `"all"` for messages logged with no level, but the agent never sends those, so any other
    /// level is an error rather than a catch-all variant. `@timestamp`, `@module` and `@caller`
    /// are optional, but must be strings if present.
    ///
    /// The one plain-text line a `log_json=true` stream can hold, the notice the agent inserts
    /// when it dropped lines (`[WARN] Monitor dropped N logs during monitor request`), is a
    /// record with level [`LogLevel::Warn`], that message without `[WARN] `, no timestamp or
    /// module, and [`LogRecord::dropped`] set. The same line in a plain-text stream parses the
    /// same way.
    ///
    /// # Errors
    ///
    /// [`StreamError::InvalidRecord`] if the line is not a JSON object or breaks the rules
    /// above. Other plain-text (non-JSON) log lines always fail.
    pub fn parse(line: &str) -> Result<Self, StreamError> {
        if let Some(record) = Self::dropped_notice(line) {
            return Ok(record);
        }
        let mut map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).map_err(|e| StreamError::InvalidRecord {
                reason: "not a json object".to_owned(),
                snippet: snippet(line.as_bytes()),
                source: Some(Arc::new(e)),
            })?;
        let level_name = take_string(&mut map, "@level", line)?.ok_or_else(|| missing_key("@level", line))?;
        let level = level_name
            .parse::<LogLevel>()
            .ok()
            .filter(|level| *level != LogLevel::Off)
            .ok_or_else(|| StreamError::InvalidRecord {
                reason: "unknown \"@level\"".to_owned(),
                snippet: snippet(level_name.as_bytes()),
                source: None,
            })?;
        let message = take_string(&mut map, "@message", line)?.ok_or_else(|| missing_key("@message", line))?;
        let timestamp = take_string(&mut map, "@timestamp", line)?.unwrap_or_default();
        let module = take_string(&mut map, "@module", line)?;
        let caller = take_string(&mut map, "@caller", line)?;
        Ok(LogRecord {
            timestamp,
            level,
            message,
            module,
            caller,
            fields: map,
        })
    }

    /// The record of a dropped-lines notice line, if `line` is one.
    fn dropped_notice(line: &str) -> Option<LogRecord> {
        let message = line.strip_prefix(DROPPED_HEAD)?.trim_end();
        dropped_count(message)?;
        Some(LogRecord {
            timestamp: String::new(),
            level: LogLevel::Warn,
            message: message.to_owned(),
            module: None,
            caller: None,
            fields: serde_json::Map::new(),
        })
    }

    /// For the notice the agent inserts when its buffer overflowed (`[WARN] Monitor dropped N
    /// logs during monitor request`): `Some(N)`, how many log lines the agent dropped at that
    /// point. `None` for every other record.
    pub fn dropped(&self) -> Option<u64> {
        let is_notice = self.level == LogLevel::Warn
            && self.timestamp.is_empty()
            && self.module.is_none()
            && self.caller.is_none()
            && self.fields.is_empty();
        if is_notice {
            dropped_count(&self.message)
        } else {
            None
        }
    }
}

impl Serialize for LogRecord {
    /// One hclog JSON object, keys sorted. A field named like one of hclog's own keys
    /// (`@level`, …) is left out: the record's own value is written.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Value<'a> {
            Text(&'a str),
            Json(&'a serde_json::Value),
        }
        let mut entries: Vec<(&str, Value<'_>)> = self
            .fields
            .iter()
            .filter(|(key, _)| !RESERVED.contains(&key.as_str()))
            .map(|(key, value)| (key.as_str(), Value::Json(value)))
            .collect();
        entries.push(("@level", Value::Text(self.level.as_str())));
        entries.push(("@message", Value::Text(&self.message)));
        let optional = [
            ("@timestamp", Some(self.timestamp.as_str()).filter(|t| !t.is_empty())),
            ("@module", self.module.as_deref()),
            ("@caller", self.caller.as_deref()),
        ];
        entries.extend(
            optional
                .into_iter()
                .filter_map(|(key, value)| Some((key, Value::Text(value?)))),
        );
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_map(entries)
    }
}

impl<'de> Deserialize<'de> for LogRecord {
    /// Reads what [`LogRecord::parse`] reads, with the same checks.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        LogRecord::parse(&value.to_string()).map_err(serde::de::Error::custom)
    }
}

impl FromStr for LogRecord {
    type Err = StreamError;

    /// Same as [`LogRecord::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LogRecord::parse(s)
    }
}

fn missing_key(key: &str, line: &str) -> StreamError {
    StreamError::InvalidRecord {
        reason: format!("missing {key:?}"),
        snippet: snippet(line.as_bytes()),
        source: None,
    }
}

fn take_string(
    map: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    line: &str,
) -> Result<Option<String>, StreamError> {
    match map.remove(key) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(StreamError::InvalidRecord {
            reason: format!("{key:?} is not a string"),
            snippet: snippet(line.as_bytes()),
            source: None,
        }),
    }
}
