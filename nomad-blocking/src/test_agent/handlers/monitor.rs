//! `/v1/agent/monitor` and `/v1/agent/monitor/export`: a generated log stream framed the way the
//! agent frames it (`{"Data":"<base64>","FileEvent":"log"}` frames on `monitor`,
//! `{"Offset":<n>,"Data":"<base64>"}` on `export`, of at most 1024 data bytes that may split
//! lines, `{}` heartbeats every second, no separators), or raw text with `plain=true`.

use std::io::Read;
use std::time::{Duration, Instant};

use base64::Engine as _;

use nomad_proto::stream::LogLevel;

use crate::test_agent::acl::{acl, Capability};
use crate::test_agent::reply::{text, try_reply, Reply};
use crate::test_agent::target::target;
use crate::test_agent::{AgentState, RecordedRequest};

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

/// The line a monitor inserts when its buffer overflowed (Nomad `command/agent/monitor/monitor.go`).
fn dropped_line(count: u64) -> String {
    format!("[WARN] Monitor dropped {count} logs during monitor request\n")
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

fn bool_param(req: &RecordedRequest, name: &str) -> Result<bool, Reply> {
    match req.query_param(name) {
        None | Some("") => Ok(false),
        Some(v) => nomad_proto::config::parse_go_bool(v).ok_or_else(|| {
            text(
                400,
                &format!("Unknown option for {name}: strconv.ParseBool: parsing {v:?}: invalid syntax"),
            )
        }),
    }
}

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        "/v1/agent/monitor" => monitor(state, req),
        "/v1/agent/monitor/export" => export(state, req),
        _ => return None,
    })
}

fn monitor(state: &AgentState, req: &RecordedRequest) -> Reply {
    let min_level = match req.query_param("log_level") {
        None | Some("") => LogLevel::Info,
        // hclog's names only (the client's parser also takes `warning`; the agent does not).
        Some(l) => match LogLevel::ALL
            .into_iter()
            .find(|lv| lv.as_str().eq_ignore_ascii_case(l.trim()))
        {
            Some(level) => level,
            None => return text(400, &format!("Unknown log level: {l}")),
        },
    };
    let log_json = try_reply!(bool_param(req, "log_json"));
    // Checked like the others (a bad value is a 400); the generated lines carry no location.
    try_reply!(bool_param(req, "log_include_location"));
    let plain = try_reply!(bool_param(req, "plain"));
    try_reply!(target(state, req));
    try_reply!(acl(state, req, Capability::AgentRead));
    let feed = state.monitor.clone();
    let body = FeedReader::new(feed, min_level, log_json, plain, false);
    Reply::Stream {
        content_type: if plain { "text/plain" } else { "application/json" },
        body: Box::new(body),
    }
}

fn export(state: &AgentState, req: &RecordedRequest) -> Reply {
    let on_disk = try_reply!(bool_param(req, "on_disk"));
    let follow = try_reply!(bool_param(req, "follow"));
    let plain = try_reply!(bool_param(req, "plain"));
    let service = req.query_param("service_name").filter(|s| !s.is_empty());
    try_reply!(target(state, req));
    match (on_disk, service) {
        (true, Some(_)) => return text(400, "Cannot target journald and log file simultaneously"),
        (false, None) => return text(400, "Either -service-name or -on-disk must be set"),
        (true, None) if follow => return text(400, "Cannot follow log file"),
        (false, Some(name)) if !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)) => {
            return text(422, &format!("Invalid service name: {name}"))
        }
        _ => {}
    }
    try_reply!(acl(state, req, Capability::AgentRead));
    let mut feed = state.monitor.clone();
    if !follow {
        feed.linger = Duration::ZERO;
        feed.pace = None;
    }
    let body = FeedReader::new(feed, LogLevel::Trace, false, plain, true);
    Reply::Stream {
        content_type: if plain { "text/plain" } else { "application/json" },
        body: Box::new(body),
    }
}

/// The body of a log stream: a [`MonitorFeed`] read out as the agent sends it (frames or plain
/// text, heartbeats, the dropped-logs warning, the trailing error). It is generated as it is
/// read, so a multi-GiB stream costs no memory.
struct FeedReader {
    feed: MonitorFeed,
    min_level: LogLevel,
    json: bool,
    plain: bool,
    export: bool,
    /// The index of the next generated line (before level filtering).
    next_line: u64,
    /// Lines sent so far (after level filtering).
    sent: u64,
    /// Whether the feed's lines have been dropped and the warning sent.
    dropped_done: bool,
    /// Paced feeds: when the next line may be sent.
    next_due: Option<Instant>,
    /// Raw log bytes not yet framed (lines split across frames).
    raw: Vec<u8>,
    out: Vec<u8>,
    out_pos: usize,
    offset: i64,
    last_heartbeat: Instant,
    lines_done_at: Option<Instant>,
    finished: bool,
}

const FRAME_DATA: usize = 1024;
const BATCH: usize = 32 * 1024;
const HEARTBEAT: Duration = Duration::from_secs(1);

impl FeedReader {
    fn new(feed: MonitorFeed, min_level: LogLevel, json: bool, plain: bool, export: bool) -> Self {
        FeedReader {
            feed,
            min_level,
            json,
            plain,
            export,
            next_line: 0,
            sent: 0,
            dropped_done: false,
            next_due: None,
            raw: Vec::with_capacity(2 * BATCH),
            out: Vec::with_capacity(2 * BATCH),
            out_pos: 0,
            offset: 0,
            last_heartbeat: Instant::now(),
            lines_done_at: None,
            finished: false,
        }
    }

    fn heartbeat_due(&self) -> bool {
        !self.plain && self.last_heartbeat.elapsed() >= HEARTBEAT
    }

    fn push_heartbeat(&mut self) {
        self.out.extend_from_slice(b"{}");
        self.last_heartbeat = Instant::now();
    }

    /// Sleeps until `until`, or until the next heartbeat is due if that is sooner (and then
    /// sends it). True when `until` has passed.
    fn wait_until(&mut self, until: Instant) -> bool {
        let now = Instant::now();
        if now >= until {
            return true;
        }
        let left = until - now;
        let to_heartbeat = if self.plain {
            left
        } else {
            HEARTBEAT.saturating_sub(self.last_heartbeat.elapsed())
        };
        std::thread::sleep(left.min(to_heartbeat));
        if self.heartbeat_due() {
            self.push_heartbeat();
        }
        Instant::now() >= until
    }

    fn push_frame(&mut self, data: &[u8]) {
        if self.plain {
            self.out.extend_from_slice(data);
            return;
        }
        self.offset += data.len() as i64;
        self.out.extend_from_slice(br#"{"#);
        if self.export {
            self.out
                .extend_from_slice(format!(r#""Offset":{},"#, self.offset).as_bytes());
        }
        self.out.extend_from_slice(br#""Data":""#);
        let start = self.out.len();
        let len = base64::encoded_len(data.len(), true).unwrap_or(0);
        self.out.resize(start + len, 0);
        let _ = base64::engine::general_purpose::STANDARD.encode_slice(data, &mut self.out[start..]);
        self.out.extend_from_slice(if self.export {
            br#""}"# as &[u8]
        } else {
            br#"","FileEvent":"log"}"#
        });
    }

    /// Frames the raw bytes: whole 1024-byte frames, and the rest too when `all`.
    fn frame_raw(&mut self, all: bool) {
        let raw = std::mem::take(&mut self.raw);
        let mut start = 0;
        while raw.len() - start >= FRAME_DATA || (all && start < raw.len()) {
            let end = (start + FRAME_DATA).min(raw.len());
            self.push_frame(&raw[start..end]);
            start = end;
        }
        self.raw = raw;
        self.raw.drain(..start);
    }

    /// The next generated line at or above the level filter; `None` at the end of the feed.
    fn next_passing(&mut self) -> Option<String> {
        while self.next_line < self.feed.lines {
            let (level, line) = log_line(self.next_line, self.json);
            self.next_line += 1;
            if level >= self.min_level {
                return Some(line);
            }
        }
        None
    }

    /// Adds the next line to send to the raw bytes (a log line, or the dropped-logs warning in
    /// its place); false at the end of the feed.
    fn push_next_line(&mut self) -> bool {
        if !self.export && !self.dropped_done && self.feed.dropped_after == Some(self.sent) {
            self.dropped_done = true;
            let mut dropped = 0;
            while dropped < self.feed.dropped_count && self.next_passing().is_some() {
                dropped += 1;
            }
            if dropped > 0 {
                self.raw.extend_from_slice(dropped_line(dropped).as_bytes());
                return true;
            }
        }
        match self.next_passing() {
            Some(line) => {
                self.raw.extend_from_slice(line.as_bytes());
                self.raw.push(b'\n');
                self.sent += 1;
                true
            }
            None => false,
        }
    }

    /// Fills `out` with what comes next (possibly nothing yet); false at the end of the stream.
    fn refill(&mut self) -> bool {
        self.out.clear();
        self.out_pos = 0;
        if self.finished {
            return false;
        }
        if self.heartbeat_due() {
            self.push_heartbeat();
        }
        if self.lines_done_at.is_none() {
            match self.feed.pace {
                None => {
                    let mut more = true;
                    while self.raw.len() < BATCH && more {
                        more = self.push_next_line();
                    }
                    self.frame_raw(!more);
                    if !more {
                        self.lines_done_at = Some(Instant::now());
                    }
                }
                Some(pace) => {
                    if let Some(due) = self.next_due {
                        if !self.wait_until(due) {
                            return true; // a heartbeat, or nothing yet
                        }
                    }
                    if self.push_next_line() {
                        self.frame_raw(true);
                        self.next_due = Some(Instant::now() + pace);
                    } else {
                        self.lines_done_at = Some(Instant::now());
                    }
                }
            }
            return true;
        }
        let done_at = self.lines_done_at.unwrap_or_else(Instant::now);
        if done_at.elapsed() < self.feed.linger {
            self.wait_until(done_at + self.feed.linger);
            return true;
        }
        self.finished = true;
        if let Some(err) = self.feed.trailing_error.take() {
            self.out.extend_from_slice(err.as_bytes());
            return true;
        }
        false
    }
}

impl Read for FeedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_pos >= self.out.len() {
            if !self.refill() {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}
