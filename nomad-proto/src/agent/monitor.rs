//! Live log streams: `/v1/agent/monitor` and `/v1/agent/monitor/export`.
//!
//! Both operations build a request marked with [`StreamingResponse`] (transports should not apply
//! an overall timeout to it). A transport that streams feeds the body to a
//! [`LogDecoder`](crate::stream::LogDecoder) made by [`LogStreamRequest::decoder`], after checking
//! the status with [`Endpoint::check_status`]; a buffered response (a finished export, a
//! canned test response) can be parsed whole with [`Endpoint::parse_response`].
//!
//! A buffered stream that breaks (cut in the middle of a frame, text after the frames, a line
//! over the limit) is a [`ResponseError::PartialStream`] that keeps every whole line decoded
//! before the break ([`ResponseError::partial_lines`]); the unterminated text just before it, if
//! any, is not a whole line and is not kept.

use std::time::Duration;

use http::{Request, Response};

use super::target::{non_empty, Target};
use crate::call::{At, OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{call_options, check_response, check_status_with_info, CallOptions, Endpoint, StreamingResponse};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;
use crate::stream::{LogDecoder, LogLevel, LogLine, StreamFormat};

/// What the two log-stream operations share.
pub trait LogStreamRequest: Endpoint<Output = Vec<LogLine>> {
    /// The wire format the agent will use (`plain=true` → [`StreamFormat::Plain`]).
    fn format(&self) -> StreamFormat;

    /// A decoder for this stream's body.
    fn decoder(&self) -> LogDecoder {
        LogDecoder::new(self.format())
    }

    /// True when the agent was asked for hclog JSON lines (`log_json=true`), which
    /// [`LogLine::record`] parses. The default is false.
    fn log_json(&self) -> bool {
        false
    }
}

/// The shared tail of both stream requests: `plain`, target, build, and the streaming marker.
fn stream_request(
    spec: Spec<'_>,
    target: &Target,
    plain: bool,
    config: &Config,
) -> Result<Request<Vec<u8>>, BuildError> {
    let spec = if plain { spec.query("plain", "true") } else { spec };
    let mut request = target.apply(spec)?.build(config)?;
    request
        .extensions_mut()
        .insert(StreamingResponse { heartbeats: !plain });
    Ok(request)
}

fn format_for(plain: bool) -> StreamFormat {
    if plain {
        StreamFormat::Plain
    } else {
        StreamFormat::Framed
    }
}

/// Decodes a whole buffered stream body. A break keeps the whole lines before it
/// ([`ResponseError::PartialStream`]).
fn decode_all(
    op: &impl LogStreamRequest,
    at: At<'_>,
    response: Response<Vec<u8>>,
) -> Result<Vec<LogLine>, ResponseError> {
    check_response(&response, |status, body| op.check_status(status, body))?;
    let mut decoder = op.decoder();
    decoder.push(response.body());
    let mut lines = Vec::new();
    for item in decoder.finish_lines() {
        match item {
            Ok(line) => lines.push(line),
            Err(error) => {
                return Err(ResponseError::PartialStream {
                    lines,
                    error,
                    call: at.call(),
                })
            }
        }
    }
    Ok(lines)
}

/// `GET /v1/agent/monitor`: streams the agent's logs live, for as long as the connection is
/// open.
///
/// ACL: `agent:read`. Any agent; `node_id`/`server_id` forward to another agent. Go:
/// `Agent().Monitor()`. Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#stream-logs>
///
/// ```
/// use nomad_proto::agent::Monitor;
/// use nomad_proto::stream::LogLevel;
/// use nomad_proto::{Config, Endpoint};
///
/// let op = Monitor::new().log_level(LogLevel::Debug).log_json(true);
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/monitor?log_level=debug&log_json=true");
/// # Ok::<(), nomad_proto::BuildError>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct Monitor {
    /// Minimum level (`log_level`); the agent's default is `info`. [`LogLevel::Off`] asks for
    /// no lines at all (the stream then carries only heartbeats).
    pub log_level: Option<LogLevel>,
    /// Ask for hclog JSON records (`log_json=true`); parse them with [`LogLine::record`].
    pub log_json: bool,
    /// Include the source location (`log_include_location=true`).
    pub log_include_location: bool,
    /// Raw text instead of JSON frames (`plain=true`). Plain streams have no heartbeats, so a
    /// quiet plain stream cannot be told from a dead one: transports apply no per-read timeout to
    /// it, and stopping it with a stop handle takes effect when the next log bytes arrive.
    pub plain: bool,
    /// Which agent's logs.
    pub target: Target,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl Monitor {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo =
        OperationInfo::new("Monitor", "GET", "/v1/agent/monitor", "agent:read", Serves::Any).streaming();

    /// Streams the local agent's logs at its default level.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the minimum level.
    pub fn log_level(mut self, level: LogLevel) -> Self {
        self.log_level = Some(level);
        self
    }
    /// Asks for JSON records.
    pub fn log_json(mut self, on: bool) -> Self {
        self.log_json = on;
        self
    }
    /// Asks for source locations.
    pub fn log_include_location(mut self, on: bool) -> Self {
        self.log_include_location = on;
        self
    }
    /// Asks for raw text.
    pub fn plain(mut self, on: bool) -> Self {
        self.plain = on;
        self
    }
    /// Streams another agent's logs.
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }
}

impl Endpoint for Monitor {
    type Output = Vec<LogLine>;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut spec = Spec::get("/v1/agent/monitor", &self.options);
        if let Some(level) = self.log_level {
            spec = spec.query("log_level", level.as_str());
        }
        for (flag, name) in [
            (self.log_json, "log_json"),
            (self.log_include_location, "log_include_location"),
        ] {
            if flag {
                spec = spec.query(name, "true");
            }
        }
        stream_request(spec, &self.target, self.plain, config)
    }
    /// Decodes a whole buffered stream (for canned responses and tests). A stream that breaks
    /// is a [`ResponseError::PartialStream`] holding the whole lines before the break.
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Vec<LogLine>, ResponseError> {
        decode_all(self, At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

impl LogStreamRequest for Monitor {
    fn format(&self) -> StreamFormat {
        format_for(self.plain)
    }
    fn log_json(&self) -> bool {
        self.log_json
    }
}

/// Where `/v1/agent/monitor/export` reads logs from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExportSource {
    /// The agent's log file on disk (`on_disk=true`). Cannot be followed.
    OnDisk,
    /// A systemd service's journal (`service_name=`), e.g. `nomad`.
    Service(String),
}

impl std::fmt::Display for ExportSource {
    /// `on disk` or `service <name>`, padded to the formatter's width.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExportSource::OnDisk => f.pad("on disk"),
            ExportSource::Service(name) => f.pad(&format!("service {name}")),
        }
    }
}

/// `GET /v1/agent/monitor/export` (undocumented; used by `nomad operator debug`): exports
/// historic logs from the agent's log file or its systemd journal, optionally following them.
///
/// The endpoint exists from Nomad 1.10.4; older agents answer 404
/// ([`ResponseError::is_not_found`]). Its frames carry `Offset` but never `File` or `FileEvent`
/// (so [`LogLine::file`] is `None` on its lines).
///
/// ACL: `agent:read`. The agent's rules are checked before sending: exactly one source;
/// `follow` only with a service; not both `node_id` and `server_id`.
#[derive(Clone, Debug)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct MonitorExport {
    /// The source.
    pub source: ExportSource,
    /// Keep streaming new entries (`follow=true`; only for a service).
    pub follow: bool,
    /// How far back (`logs_since`, a Go duration; the agent's default is 72h).
    pub logs_since: Option<Duration>,
    /// Raw text instead of JSON frames.
    pub plain: bool,
    /// Which agent.
    pub target: Target,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl MonitorExport {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new(
        "MonitorExport",
        "GET",
        "/v1/agent/monitor/export",
        "agent:read",
        Serves::Any,
    )
    .streaming();

    /// Exports the agent's log file.
    pub fn on_disk() -> Self {
        Self::new(ExportSource::OnDisk)
    }
    /// Exports a systemd service's journal.
    pub fn service(name: impl Into<String>) -> Self {
        Self::new(ExportSource::Service(name.into()))
    }
    /// Exports from `source` (the log file or a journal), not followed, with the agent's
    /// defaults for everything else.
    pub fn new(source: ExportSource) -> Self {
        MonitorExport {
            source,
            follow: false,
            logs_since: None,
            plain: false,
            target: Target::Local,
            options: CallOptions::default(),
        }
    }
    /// Keep streaming new entries.
    pub fn follow(mut self, on: bool) -> Self {
        self.follow = on;
        self
    }
    /// Only entries newer than `since`.
    pub fn logs_since(mut self, since: Duration) -> Self {
        self.logs_since = Some(since);
        self
    }
    /// Raw text instead of JSON frames.
    pub fn plain(mut self, on: bool) -> Self {
        self.plain = on;
        self
    }
    /// Another agent's logs.
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }
}

/// Formats a duration the way Go's `time.ParseDuration` reads it.
fn go_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d.subsec_nanos() % 1_000_000 == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}ns", d.as_nanos())
    }
}

impl Endpoint for MonitorExport {
    type Output = Vec<LogLine>;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut spec = Spec::get("/v1/agent/monitor/export", &self.options);
        match &self.source {
            ExportSource::OnDisk => {
                if self.follow {
                    return Err(BuildError::argument("follow", "a log file on disk cannot be followed"));
                }
                spec = spec.query("on_disk", "true");
            }
            ExportSource::Service(name) => {
                spec = spec.query("service_name", non_empty("service_name", name)?);
                if self.follow {
                    spec = spec.query("follow", "true");
                }
            }
        }
        if let Some(since) = self.logs_since {
            spec = spec.query("logs_since", go_duration(since));
        }
        stream_request(spec, &self.target, self.plain, config)
    }
    /// Decodes a whole buffered export. An export that breaks is a
    /// [`ResponseError::PartialStream`] holding the whole lines before the break.
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Vec<LogLine>, ResponseError> {
        decode_all(self, At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

impl LogStreamRequest for MonitorExport {
    fn format(&self) -> StreamFormat {
        format_for(self.plain)
    }
}

call_options!(Monitor, MonitorExport);
