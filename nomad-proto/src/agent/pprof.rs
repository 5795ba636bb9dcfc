//! Go runtime profiles of an agent: `/v1/agent/pprof/<profile>`.

use std::time::Duration;

use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderMap, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::target::Target;
use crate::call::{At, OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{call_options, check_ok_debug, check_response, CallOptions, Endpoint, ExpectedDuration};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;

/// Which profile to take.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileKind {
    /// A CPU profile (`/v1/agent/pprof/profile`), recorded for `seconds`.
    Cpu,
    /// An execution trace (`/v1/agent/pprof/trace`), recorded for `seconds`.
    Trace,
    /// The agent's command line (`/v1/agent/pprof/cmdline`), NUL-separated text.
    Cmdline,
    /// A named runtime profile (`goroutine`, `heap`, `allocs`, `block`, `mutex`,
    /// `threadcreate`, or a custom one), taken at once.
    Lookup(String),
}

impl std::fmt::Display for ProfileKind {
    /// The last path segment ([`ProfileKind::path_name`]), padded to the formatter's width.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.path_name())
    }
}

impl ProfileKind {
    /// The last path segment: `profile`, `trace`, `cmdline` or the profile name.
    pub fn path_name(&self) -> &str {
        match self {
            ProfileKind::Cpu => "profile",
            ProfileKind::Trace => "trace",
            ProfileKind::Cmdline => "cmdline",
            ProfileKind::Lookup(name) => name,
        }
    }

    /// True for the kinds the agent records for `seconds` before it answers.
    pub fn is_timed(&self) -> bool {
        matches!(self.path_name(), "profile" | "trace")
    }
}

/// `GET /v1/agent/pprof/<profile>`: a Go runtime profile of the agent (or, with a [`Target`],
/// of a client node or server it forwards to), as raw bytes for `go tool pprof` / `go tool trace`.
///
/// ACL: `agent:write`. **With ACLs disabled the agent also needs `enable_debug = true`**:
/// otherwise it answers `403 Permission denied`, which becomes
/// [`ResponseError::DebugPermissionDenied`] naming both possible causes. Any agent. An unknown
/// profile name is a 404 ([`ResponseError::is_not_found`]).
/// Go: `Agent().CPUProfile(opts, q)`, `Agent().Trace(opts, q)`, `Agent().Lookup(name, opts, q)`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#agent-runtime-profiles>
///
/// CPU profiles and traces take `seconds` (the agent's default is 1) before the agent answers;
/// their requests carry an [`ExpectedDuration`] so a transport can extend its timeout.
///
/// Profiles can be large; a streaming transport can check the status with
/// [`Endpoint::check_status`] and copy the body elsewhere instead of calling
/// [`Endpoint::parse_response`].
///
/// ```
/// use std::time::Duration;
/// use nomad_proto::agent::{Pprof, Target};
/// use nomad_proto::{Config, Endpoint, ExpectedDuration};
///
/// let op = Pprof::cpu_profile().seconds(5).target(Target::Server("leader".into()));
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/pprof/profile?seconds=5&server_id=leader");
/// assert_eq!(req.extensions().get::<ExpectedDuration>(), Some(&ExpectedDuration(Duration::from_secs(5))));
///
/// let response = http::Response::builder()
///     .status(200)
///     .header("Content-Type", "application/octet-stream")
///     .header("Content-Disposition", r#"attachment; filename="profile""#)
///     .body(vec![0x1f, 0x8b, 0x08, 0x00])?;
/// let profile = op.parse_response(response)?;
/// assert_eq!(profile.file_name.as_deref(), Some("profile"));
/// assert!(!profile.is_text());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct Pprof {
    /// Which profile.
    pub kind: ProfileKind,
    /// How long to record a CPU profile or trace (`seconds`; the agent's default is 1, and 0
    /// means the default). Ignored by the agent for other kinds.
    pub seconds: Option<u32>,
    /// Text instead of the binary format for named profiles (`debug`: 1 = text, 2 = goroutine
    /// stacks in panic format).
    pub debug: Option<u8>,
    /// Run a garbage collection before a `heap` profile (`gc=1`).
    pub gc: bool,
    /// Which agent to profile.
    pub target: Target,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl Pprof {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo =
        OperationInfo::new("Pprof", "GET", "/v1/agent/pprof/<profile>", "agent:write", Serves::Any);

    /// A profile of `kind` with the agent's defaults.
    pub fn new(kind: ProfileKind) -> Self {
        Pprof {
            kind,
            seconds: None,
            debug: None,
            gc: false,
            target: Target::Local,
            options: CallOptions::default(),
        }
    }
    /// A CPU profile (`/v1/agent/pprof/profile`).
    pub fn cpu_profile() -> Self {
        Self::new(ProfileKind::Cpu)
    }
    /// An execution trace (`/v1/agent/pprof/trace`).
    pub fn trace() -> Self {
        Self::new(ProfileKind::Trace)
    }
    /// The agent's command line (`/v1/agent/pprof/cmdline`).
    pub fn cmdline() -> Self {
        Self::new(ProfileKind::Cmdline)
    }
    /// A named profile such as `goroutine` or `heap` (`/v1/agent/pprof/<name>`).
    pub fn lookup(name: impl Into<String>) -> Self {
        Self::new(ProfileKind::Lookup(name.into()))
    }
    /// Records for `seconds` (CPU profile and trace).
    pub fn seconds(mut self, seconds: u32) -> Self {
        self.seconds = Some(seconds);
        self
    }
    /// Asks for text (`1`) or goroutine stacks (`2`) instead of the binary format.
    pub fn debug(mut self, level: u8) -> Self {
        self.debug = Some(level);
        self
    }
    /// Runs a garbage collection before a heap profile.
    pub fn gc(mut self, on: bool) -> Self {
        self.gc = on;
        self
    }
    /// Profiles another agent.
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    /// How long the agent records before it answers (CPU profile and trace), else `None`.
    pub fn expected_duration(&self) -> Option<Duration> {
        self.kind
            .is_timed()
            .then(|| Duration::from_secs(u64::from(self.seconds.filter(|s| *s > 0).unwrap_or(1))))
    }

    fn validate(&self) -> Result<(), BuildError> {
        let ProfileKind::Lookup(name) = &self.kind else {
            return Ok(());
        };
        if name.is_empty() {
            return Err(BuildError::argument("profile", "a profile name is required"));
        }
        if name == "." || name == ".." {
            return Err(BuildError::argument("profile", "not a profile name"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        {
            return Err(BuildError::argument(
                "profile",
                "a profile name may only hold ASCII letters, digits and `-._~`",
            ));
        }
        Ok(())
    }
}

impl Endpoint for Pprof {
    type Output = Profile;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        self.validate()?;
        let path = format!("/v1/agent/pprof/{}", self.kind.path_name());
        let mut spec = Spec::get(&path, &self.options);
        if let Some(seconds) = self.seconds {
            spec = spec.query("seconds", seconds.to_string());
        }
        if let Some(debug) = self.debug {
            spec = spec.query("debug", debug.to_string());
        }
        if self.gc {
            spec = spec.query("gc", "1");
        }
        let mut request = self.target.apply(spec)?.build(config)?;
        if let Some(duration) = self.expected_duration() {
            request.extensions_mut().insert(ExpectedDuration(duration));
        }
        Ok(request)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Profile, ResponseError> {
        check_response(&response, |status, body| self.check_status(status, body))?;
        let (parts, data) = response.into_parts();
        let (content_type, file_name) = profile_headers(&parts.headers);
        Ok(Profile {
            data,
            content_type,
            file_name,
        })
    }
    /// A 403 becomes [`ResponseError::DebugPermissionDenied`] (it may mean `enable_debug` is off).
    /// Errors name the profile's real path, e.g. `/v1/agent/pprof/heap`.
    fn check_status(&self, status: StatusCode, body_start: &[u8]) -> Result<(), ResponseError> {
        if status == StatusCode::OK {
            return Ok(());
        }
        let path = format!("/v1/agent/pprof/{}", self.kind.path_name());
        check_ok_debug(
            At::path(&Self::INFO, &path),
            status,
            body_start,
            "/v1/agent/pprof",
            "agent:write",
        )
    }
}

call_options!(Pprof);

/// A profile as the agent sent it.
///
/// The agent sends it as bytes, not JSON; to write it into JSON output it serializes as
/// `{"content_type":…,"file_name":…,"data":"<standard base64>"}` (`null` for a missing header)
/// and deserializes from that. To save a profile for `go tool pprof`, write
/// [`data`](Self::data) to a file instead.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// The raw bytes: gzipped protobuf for `go tool pprof`, a trace for `go tool trace`, or text
    /// (`cmdline`, `debug` ≥ 1).
    #[serde(with = "base64_data")]
    pub data: Vec<u8>,
    /// `Content-Type`: `application/octet-stream` or `text/plain; charset=utf-8`.
    pub content_type: Option<String>,
    /// The file name from `Content-Disposition` (`profile`, `trace`, `heap`, …), for binary
    /// profiles.
    pub file_name: Option<String>,
}

impl Profile {
    /// True for a text answer (`cmdline`, or a named profile with `debug` ≥ 1).
    pub fn is_text(&self) -> bool {
        self.content_type.as_deref().is_some_and(|t| t.starts_with("text/"))
    }
}

/// [`Profile::data`] as a standard base64 string.
mod base64_data {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| serde::de::Error::custom(format_args!("invalid base64 in data: {e}")))
    }
}

/// `Content-Type` and the `filename` of `Content-Disposition: attachment; filename="…"`.
fn profile_headers(headers: &HeaderMap) -> (Option<String>, Option<String>) {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let content_type = text(CONTENT_TYPE).filter(|t| !t.is_empty()).map(str::to_owned);
    let file_name = text(CONTENT_DISPOSITION).and_then(|disposition| {
        disposition.split(';').find_map(|param| {
            let (key, value) = param.split_once('=')?;
            if !key.trim().eq_ignore_ascii_case("filename") {
                return None;
            }
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            (!value.is_empty()).then(|| value.to_owned())
        })
    });
    (content_type, file_name)
}
