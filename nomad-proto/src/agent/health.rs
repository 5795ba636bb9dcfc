//! `/v1/agent/health`: the agent's own health report.

use http::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::wire::option_object;
use crate::call::{At, OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{call_options, check_response, decode_object, CallOptions, Endpoint};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;
use crate::text::Escaped;

/// An agent role, for targeting health checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
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

impl std::fmt::Display for AgentRole {
    /// The wire name, padded to the formatter's width.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// `GET /v1/agent/health[?type=client|server]`: is the agent healthy?
///
/// ACL: none. Any agent. An unhealthy agent answers **500 with a JSON body** (and a
/// `text/plain` content type); that is a health report, not a failure, so both the 200 and that
/// 500 decode into a [`HealthReport`]. Only other statuses or undecodable bodies are errors.
///
/// An answer that names neither role (`200 {}`, which no agent sends: every agent runs at least
/// one role) is not taken for a healthy one: it is a report whose
/// [`is_healthy`](HealthReport::is_healthy) is false, and whose
/// [`problems`](HealthReport::problems) say that the agent reported no role.
///
/// With [`stale`](GetHealth::stale) (`?stale=`), a server answers from its own view of the
/// leader instead of asking the leader, as for any stale read.
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
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct GetHealth {
    /// Limit the check to these roles (`type=` repeated). A role the agent does not run is
    /// reported unhealthy (`client not enabled`). Empty: every role the agent runs.
    pub roles: Vec<AgentRole>,
    /// Let the agent answer from its local view of the leader (`stale=`) instead of asking the
    /// leader.
    pub stale: bool,
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
    /// Lets the agent answer from its local view of the leader (`?stale=`), as Go's
    /// `QueryOptions.AllowStale` does.
    pub fn stale(mut self, on: bool) -> Self {
        self.stale = on;
        self
    }
}

call_options!(GetHealth);

/// One role's health (`{"ok":…,"message":…}`, serialized with those names).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HealthCheck {
    /// Healthy or not.
    #[serde(default)]
    pub ok: bool,
    /// `ok`, `no known servers`, `no leader`, `client not enabled`, … (left out when empty, as
    /// the agent does).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// The agent's health report.
///
/// It serializes as the agent's body, `{"client":{…},"server":{…}}` (a role that was not
/// reported is left out). The HTTP [`status`](Self::status) is not part of that body and is not
/// written: the agent answers 500 exactly when a reported role is unhealthy (Nomad
/// `command/agent/agent_endpoint.go`, `HealthRequest`), so deserializing sets it by that rule
/// and a report read back equals the one written. [`GetHealth`] sets it from the answer's
/// actual status.
///
/// For a fake report, start from `Default` (no role reported, status 200) and set the fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "HealthBody")]
#[non_exhaustive]
pub struct HealthReport {
    /// The client's health, if the agent runs a client (or it was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<HealthCheck>,
    /// The server's health, if the agent runs a server (or it was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<HealthCheck>,
    /// The HTTP status the report came with (200 healthy, 500 unhealthy).
    #[serde(skip)]
    pub status: StatusCode,
}

/// The body of a health answer, without the status.
#[derive(Deserialize)]
struct HealthBody {
    #[serde(default, deserialize_with = "option_object")]
    client: Option<HealthCheck>,
    #[serde(default, deserialize_with = "option_object")]
    server: Option<HealthCheck>,
}

impl From<HealthBody> for HealthReport {
    /// The status the agent sends with this body: 500 if a reported role is unhealthy.
    fn from(body: HealthBody) -> Self {
        let healthy = [&body.client, &body.server].into_iter().flatten().all(|c| c.ok);
        HealthReport {
            client: body.client,
            server: body.server,
            status: if healthy {
                StatusCode::OK
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            },
        }
    }
}

impl HealthReport {
    /// True if the agent answered 200, reported at least one role, and every reported role is
    /// healthy.
    pub fn is_healthy(&self) -> bool {
        self.status == StatusCode::OK && self.checks().next().is_some() && self.checks().all(|(_, c)| c.ok)
    }
    /// The reported roles with their checks.
    pub fn checks(&self) -> impl Iterator<Item = (AgentRole, &HealthCheck)> {
        [(AgentRole::Client, &self.client), (AgentRole::Server, &self.server)]
            .into_iter()
            .filter_map(|(role, check)| check.as_ref().map(|c| (role, c)))
    }
    /// Why the report is not healthy, one line each; empty when [`is_healthy`](Self::is_healthy)
    /// is true. Each unhealthy role gives `<role>: <message>` (e.g. `server: no leader`), or
    /// `<role>: unhealthy (the agent gave no reason)` when its message is empty; a report with
    /// no role gives `the agent reported no role (neither client nor server)`; a non-200 status
    /// whose roles are all healthy says so. The agent's messages are shown with their control
    /// characters escaped (as in error messages); [`HealthCheck::message`] keeps them as sent.
    pub fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .checks()
            .filter(|(_, c)| !c.ok)
            .map(|(role, c)| match c.message.trim() {
                "" => format!("{role}: unhealthy (the agent gave no reason)"),
                message => format!("{role}: {}", Escaped::new(message, usize::MAX)),
            })
            .collect();
        if self.checks().next().is_none() {
            problems.push("the agent reported no role (neither client nor server)".to_owned());
        } else if problems.is_empty() && self.status != StatusCode::OK {
            problems.push(format!(
                "the agent answered {} although every reported role is healthy",
                self.status
            ));
        }
        problems
    }
}

impl Endpoint for GetHealth {
    type Output = HealthReport;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut spec = Spec::get("/v1/agent/health", &self.options);
        for role in &self.roles {
            spec = spec.query("type", role.as_str());
        }
        if self.stale {
            spec = spec.query("stale", "");
        }
        spec.build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<HealthReport, ResponseError> {
        check_response(&response, |status, body| self.check_status(status, body))?;
        let status = response.status();
        let mut report: HealthReport = decode_object(At::op(&Self::INFO), status, response.into_body())?;
        report.status = status;
        Ok(report)
    }
    /// Accepts `200` and an unhealthy agent's `500` that carries a JSON report.
    fn check_status(&self, status: StatusCode, body_start: &[u8]) -> Result<(), ResponseError> {
        match status {
            StatusCode::OK => Ok(()),
            StatusCode::INTERNAL_SERVER_ERROR if body_start.trim_ascii_start().starts_with(b"{") => Ok(()),
            _ => Err(ResponseError::unexpected_at(At::op(&Self::INFO), status, body_start)),
        }
    }
}
