//! `/v1/agent/monitor` and `/v1/agent/monitor/export`: a generated log stream framed the way the
//! agent frames it (`{"Data":"<base64>","FileEvent":"log"}` frames on `monitor`,
//! `{"Offset":<n>,"Data":"<base64>"}` on `export`, of at most 1024 data bytes that may split
//! lines, `{}` heartbeats every second, no separators), or raw text with `plain=true`.

use std::io::Read;
use std::time::{Duration, Instant};

use base64::Engine as _;

use nomad_proto::stream::LogLevel;

use crate::test_agent::acl::acl;
use crate::test_agent::reply::{text, try_reply, Reply};
use crate::test_agent::target::target;
use crate::test_agent::{log_line, AgentState, Capability, MonitorFeed, RecordedRequest};

/// The line a monitor inserts when its buffer overflowed (Nomad `command/agent/monitor/monitor.go`).
fn dropped_line(count: u64) -> String {
    format!("[WARN] Monitor dropped {count} logs during monitor request\n")
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
