//! `/v1/agent/health`: the agent's own health report.

use http::{Request, Response, StatusCode};
use serde::Deserialize;

use super::operation::{OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{call_options, decode_json, CallOptions, Endpoint, Spec};
use crate::error::{BuildError, ResponseError};

/// An agent role, for targeting health checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgentRole {
    /// The client (node) part of an agent.
    Client,
    /// The server part of an agent.
    Server,
}

impl AgentRole {
    /// The wire name (`client`, `server`).
    pub fn as_str(self) -> &'static str {
        match self {
            AgentRole::Client => "client",
            AgentRole::Server => "server",
        }
    }
}

/// `GET /v1/agent/health[?type=client|server]`: is the agent healthy?
///
/// ACL: none. Any agent. An unhealthy agent answers **500 with a JSON body** (and a
/// `text/plain` content type); that is a health report, not a failure, so both the 200 and that
/// 500 decode into a [`HealthReport`]. Only other statuses or undecodable bodies are errors.
/// Go: `Agent().Health()`. Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#health>
///
/// ```
/// use nomad_proto::{agent::{AgentRole, GetHealth}, Config, Endpoint};
///
/// let op = GetHealth::new().role(AgentRole::Server);
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/health?type=server");
///
/// // An unhealthy agent: 500, a JSON body, and a text/plain content type.
/// let resp = http::Response::builder()
///     .status(500)
///     .header("content-type", "text/plain; charset=utf-8")
///     .body(br#"{"server":{"ok":false,"message":"no leader"}}"#.to_vec())?;
/// let report = op.parse_response(resp)?;
/// assert!(!report.is_healthy());
/// assert_eq!(report.problems(), ["server: no leader"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct GetHealth {
    /// Limit the check to these roles (`type=` repeated). A role the agent does not run is
    /// reported unhealthy (`client not enabled`). Empty: every role the agent runs.
    pub roles: Vec<AgentRole>,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl GetHealth {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new("GetHealth", "GET", "/v1/agent/health", "none", Serves::Any);

    /// Checks every role the agent runs.
    pub fn new() -> Self {
        Self::default()
    }
    /// Checks only `role` (may be called for both).
    pub fn role(mut self, role: AgentRole) -> Self {
        if !self.roles.contains(&role) {
            self.roles.push(role);
        }
        self
    }
}

call_options!(GetHealth);

/// One role's health.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct HealthCheck {
    /// Healthy or not.
    #[serde(default)]
    pub ok: bool,
    /// `ok`, `no known servers`, `no leader`, `client not enabled`, …
    #[serde(default)]
    pub message: String,
}

/// The agent's health report.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct HealthReport {
    /// The client's health, if the agent runs a client (or it was asked for).
    #[serde(default)]
    pub client: Option<HealthCheck>,
    /// The server's health, if the agent runs a server (or it was asked for).
    #[serde(default)]
    pub server: Option<HealthCheck>,
    /// The HTTP status the report came with (200 healthy, 500 unhealthy).
    #[serde(skip, default = "ok_status")]
    pub status: StatusCode,
}

fn ok_status() -> StatusCode {
    StatusCode::OK
}

impl HealthReport {
    /// True if every reported role is healthy and the agent answered 200.
    pub fn is_healthy(&self) -> bool {
        self.status == StatusCode::OK && self.checks().all(|(_, c)| c.ok)
    }
    /// The reported roles with their checks.
    pub fn checks(&self) -> impl Iterator<Item = (AgentRole, &HealthCheck)> {
        [(AgentRole::Client, &self.client), (AgentRole::Server, &self.server)]
            .into_iter()
            .filter_map(|(role, check)| check.as_ref().map(|c| (role, c)))
    }
    /// Messages of the unhealthy roles, e.g. `server: no leader`.
    pub fn problems(&self) -> Vec<String> {
        self.checks()
            .filter(|(_, c)| !c.ok)
            .map(|(role, c)| format!("{}: {}", role.as_str(), c.message))
            .collect()
    }
}

impl Endpoint for GetHealth {
    type Output = HealthReport;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut spec = Spec::get("/v1/agent/health", &self.options);
        for role in &self.roles {
            spec = spec.query("type", role.as_str());
        }
        spec.build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<HealthReport, ResponseError> {
        let status = response.status();
        let body = response.into_body();
        self.check_status(status, &body)?;
        let mut report: HealthReport = decode_json(status, body)?;
        report.status = status;
        Ok(report)
    }
    /// Accepts `200` and an unhealthy agent's `500` that carries a JSON report.
    fn check_status(&self, status: StatusCode, body_start: &[u8]) -> Result<(), ResponseError> {
        match status {
            StatusCode::OK => Ok(()),
            StatusCode::INTERNAL_SERVER_ERROR if body_start.trim_ascii_start().starts_with(b"{") => Ok(()),
            _ => Err(ResponseError::unexpected(status, body_start)),
        }
    }
}
