//! What the test agent's log streams send: the [`MonitorFeed`] and the generated lines
//! ([`log_line`]). The monitor handler (`handlers/monitor.rs`) frames them as the agent does.

use std::time::Duration;

use nomad_proto::stream::LogLevel;

/// What the test agent's log streams (`/v1/agent/monitor`, `/v1/agent/monitor/export`) send:
/// generated log lines (see [`log_line`]), then optionally a quiet spell and an error.
///
/// **The default feed is short and fast**: 200 lines (at the monitor's default level `info`, 160
/// of them are sent: the generated levels cycle `info`, `debug`, `warn`, `info`, `error`), sent
/// as fast as the client reads, and the stream ends right after the last one. A test that tails
/// a stream "for 3 seconds" against the default feed sees the stream end within milliseconds;
/// use [`MonitorFeed::endless`] (a line every 100 ms, never ending) or set [`MonitorFeed::pace`]
/// and [`MonitorFeed::linger`] for a stream that lasts.
///
/// ```
/// use std::time::Duration;
/// use nomad_blocking::test_agent::MonitorFeed;
///
/// // 50 lines, one every 20 ms, then 2 s of heartbeats only, then the end.
/// let feed = MonitorFeed::new()
///     .lines(50)
///     .pace(Duration::from_millis(20))
///     .linger(Duration::from_secs(2));
/// assert_eq!(feed.lines, 50);
/// // A line that never ends, as `nomad monitor` sees a quiet agent.
/// let endless = MonitorFeed::endless();
/// assert_eq!(endless.lines, u64::MAX);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MonitorFeed {
    /// How many log lines the agent has to send, before level filtering (default 200;
    /// `u64::MAX` never ends).
    pub lines: u64,
    /// A pause after each line that is sent, each line in its own frame: a slow log. `None`
    /// (the default) sends as fast as the client reads, in frames of up to 1024 bytes.
    /// Heartbeats keep coming every second meanwhile.
    pub pace: Option<Duration>,
    /// How long the stream stays open after the last line, sending only heartbeats (default
    /// zero: the stream ends after the last line).
    pub linger: Duration,
    /// Text appended after the frames, as the agent does when an error happens mid-stream
    /// (default none).
    pub trailing_error: Option<String>,
    /// After this many lines have been sent, drop [`MonitorFeed::dropped_count`] lines and send
    /// the agent's `[WARN] Monitor dropped N logs during monitor request` line instead (default
    /// none). Only `/v1/agent/monitor` drops lines; an export reads a file and drops nothing.
    pub dropped_after: Option<u64>,
    /// How many lines are dropped at [`MonitorFeed::dropped_after`] (fewer if the feed ends
    /// first: the warning counts those really dropped).
    pub dropped_count: u64,
}

impl Default for MonitorFeed {
    fn default() -> Self {
        MonitorFeed {
            lines: 200,
            pace: None,
            linger: Duration::ZERO,
            trailing_error: None,
            dropped_after: None,
            dropped_count: 0,
        }
    }
}

impl MonitorFeed {
    /// The default feed: 200 lines as fast as the client reads, then the end of the stream.
    #[must_use]
    pub fn new() -> MonitorFeed {
        MonitorFeed::default()
    }

    /// A feed that never ends: a line every 100 ms, for as long as the client reads.
    #[must_use]
    pub fn endless() -> MonitorFeed {
        MonitorFeed::new().lines(u64::MAX).pace(Duration::from_millis(100))
    }

    /// How many lines the agent has to send, before level filtering.
    #[must_use]
    pub fn lines(mut self, lines: u64) -> MonitorFeed {
        self.lines = lines;
        self
    }

    /// A pause after each line that is sent.
    #[must_use]
    pub fn pace(mut self, pause: Duration) -> MonitorFeed {
        self.pace = Some(pause);
        self
    }

    /// How long the stream stays open after the last line, sending only heartbeats.
    #[must_use]
    pub fn linger(mut self, linger: Duration) -> MonitorFeed {
        self.linger = linger;
        self
    }

    /// Text the agent appends after the lines, as after an error mid-stream.
    #[must_use]
    pub fn trailing_error(mut self, text: impl Into<String>) -> MonitorFeed {
        self.trailing_error = Some(text.into());
        self
    }

    /// After `after_lines` lines have been sent, the next `count` lines are dropped and the
    /// agent's own warning takes their place, as when a real agent's monitor buffer overflows
    /// (Nomad `command/agent/monitor/monitor.go`): the plain text line
    /// `[WARN] Monitor dropped <count> logs during monitor request\n`, framed like the lines
    /// around it, and not JSON even when `log_json=true`. A `count` of zero drops nothing and
    /// sends no warning, as the agent does.
    #[must_use]
    pub fn dropped_after(mut self, after_lines: u64, count: u64) -> MonitorFeed {
        self.dropped_after = Some(after_lines);
        self.dropped_count = count;
        self
    }
}

const LEVELS: [LogLevel; 5] = [
    LogLevel::Info,
    LogLevel::Debug,
    LogLevel::Warn,
    LogLevel::Info,
    LogLevel::Error,
];
const MODULES: [&str; 4] = ["agent", "client", "nomad", "http"];

/// The `i`-th line (from 0) of a [`MonitorFeed`], with its level, as hclog writes it: text
/// (`2026-11-26T17:00:00.000Z [INFO]  agent: event 0 handled: request_id=… duration=1.2ms`) or,
/// for `log_json=true`, a JSON record (`{"@level":"info","@message":"event 0 handled",
/// "@module":"agent","@timestamp":…,"duration":"1.2ms","request_id":…,"seq":0}`).
///
/// The levels cycle `info`, `debug`, `warn`, `info`, `error` (so at the monitor's default level
/// `info`, four lines in five are sent; no line is `trace`), the modules `agent`, `client`,
/// `nomad`, `http`. Use it to compute the lines a test expects:
///
/// ```
/// use nomad_blocking::proto::stream::LogLevel;
/// use nomad_blocking::test_agent::log_line;
///
/// let (level, text) = log_line(2, false);
/// assert_eq!(level, LogLevel::Warn);
/// assert!(text.contains("[WARN]") && text.contains("nomad: event 2 handled"));
/// ```
pub fn log_line(i: u64, json: bool) -> (LogLevel, String) {
    let level = LEVELS[(i % LEVELS.len() as u64) as usize];
    let module = MODULES[(i % MODULES.len() as u64) as usize];
    let secs = i / 10;
    // hclog's time formats: milliseconds in text, microseconds in JSON.
    let (minute, second, millis) = ((secs / 60) % 60, secs % 60, (i % 10) * 100);
    let line = if json {
        // `@message` is the message alone; the logger's name is `@module` and the key/value
        // pairs are fields (encoding/json sorts the keys).
        format!(
            r#"{{"@level":"{}","@message":"event {i} handled","@module":"{module}","@timestamp":"2026-11-26T17:{minute:02}:{second:02}.{millis:03}000Z","duration":"1.2ms","request_id":"7f3a{i:08x}","seq":{i}}}"#,
            level.as_str()
        )
    } else {
        // The level in a 7-wide bracket (`[INFO] `, `[ERROR]`), then a space.
        let bracket = format!("[{}]", level.as_str().to_ascii_uppercase());
        format!(
            "2026-11-26T17:{minute:02}:{second:02}.{millis:03}Z {bracket:<7} {module}: event {i} handled: request_id=7f3a{i:08x} duration=1.2ms"
        )
    };
    (level, line)
}
