//! Scheduler workers of a server: `/v1/agent/schedulers` and `/v1/agent/schedulers/config`.

use http::{Request, Response};
use serde::{Deserialize, Serialize};

use super::wire::{null_as_default, objects_or_null, wire_enum};
use crate::call::{At, OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{call_options, check_status_with_info, parse_json_at, CallOptions, Endpoint};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;

/// The scheduler every worker pool must enable (Nomad's internal garbage-collection jobs).
pub const CORE_SCHEDULER: &str = "_core";

/// The built-in schedulers a worker pool may enable besides [`CORE_SCHEDULER`].
pub const BUILTIN_SCHEDULERS: [&str; 4] = ["service", "batch", "system", "sysbatch"];

/// `GET /v1/agent/schedulers`: the state of the server's scheduler workers.
///
/// ACL: `agent:read`. Server agents only: a client-only agent answers
/// `400 Server only endpoint` ([`ResponseError::is_wrong_role`]).
/// Go: `Agent().GetSchedulerWorkersInfo(q)`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#fetch-all-scheduler-workers-status>
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct GetSchedulerWorkersInfo {
    /// Per-call overrides.
    pub options: CallOptions,
}

impl GetSchedulerWorkersInfo {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new(
        "GetSchedulerWorkersInfo",
        "GET",
        "/v1/agent/schedulers",
        "agent:read",
        Serves::Server,
    );

    /// A scheduler workers request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Endpoint for GetSchedulerWorkersInfo {
    type Output = SchedulerWorkersInfo;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        Spec::get("/v1/agent/schedulers", &self.options).build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<SchedulerWorkersInfo, ResponseError> {
        parse_json_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

/// The answer of `/v1/agent/schedulers`, serialized with the agent's key names (a `null` list
/// or string is written empty).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SchedulerWorkersInfo {
    /// The answering server's serf name, e.g. `nomad-1.global`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub server_id: String,
    /// One entry per worker.
    #[serde(default, deserialize_with = "objects_or_null")]
    pub schedulers: Vec<WorkerInfo>,
}

/// One scheduler worker (a missing `status` or `workload_status` is written as `Unknown` or
/// `UnknownStatus`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WorkerInfo {
    /// The worker's ID (a UUID).
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// The schedulers this worker runs (`service`, `batch`, `system`, `sysbatch`, `_core`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub enabled_schedulers: Vec<String>,
    /// When the worker started: RFC 3339 with nanoseconds, in UTC (e.g.
    /// `2021-12-21T19:25:00.91189Z`), as sent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub started: String,
    /// The worker's life-cycle state.
    #[serde(default)]
    pub status: WorkerStatus,
    /// What the worker is doing.
    #[serde(default)]
    pub workload_status: WorkloadStatus,
}

wire_enum! {
    /// A scheduler worker's life-cycle state (Go `nomad.WorkerStatus`).
    WorkerStatus, default Unknown {
        /// `Unknown` (also used for a missing value).
        #[default]
        Unknown = "Unknown",
        /// `Starting`.
        Starting = "Starting",
        /// `Started`: running and taking work.
        Started = "Started",
        /// `Pausing`.
        Pausing = "Pausing",
        /// `Paused`: kept but idle (the pool was shrunk, or this server is the leader).
        Paused = "Paused",
        /// `Resuming`.
        Resuming = "Resuming",
        /// `Stopping`.
        Stopping = "Stopping",
        /// `Stopped`.
        Stopped = "Stopped",
    }
}

wire_enum! {
    /// What a scheduler worker is doing (Go `nomad.SchedulerWorkerStatus`).
    WorkloadStatus, default UnknownStatus {
        /// `UnknownStatus` (also used for a missing value).
        #[default]
        UnknownStatus = "UnknownStatus",
        /// `Running`.
        Running = "Running",
        /// `WaitingToDequeue`: idle, waiting for an evaluation.
        WaitingToDequeue = "WaitingToDequeue",
        /// `WaitingForRaft`: waiting for the state store to catch up.
        WaitingForRaft = "WaitingForRaft",
        /// `Scheduling`: processing an evaluation.
        Scheduling = "Scheduling",
        /// `Submitting`: submitting a plan.
        Submitting = "Submitting",
        /// `Backoff`: backing off after an error.
        Backoff = "Backoff",
        /// `Stopped`.
        Stopped = "Stopped",
        /// `Paused`.
        Paused = "Paused",
    }
}

/// `GET /v1/agent/schedulers/config`: the server's scheduler worker pool settings.
///
/// ACL: `agent:read`. Server agents only (`400 Server only endpoint` on a client-only agent,
/// [`ResponseError::is_wrong_role`]). Go: `Agent().GetSchedulerWorkerConfig(q)`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#read-scheduler-worker-configuration>
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct GetSchedulerWorkerConfig {
    /// Per-call overrides.
    pub options: CallOptions,
}

impl GetSchedulerWorkerConfig {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new(
        "GetSchedulerWorkerConfig",
        "GET",
        "/v1/agent/schedulers/config",
        "agent:read",
        Serves::Server,
    );

    /// A scheduler configuration request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Endpoint for GetSchedulerWorkerConfig {
    type Output = SchedulerWorkerConfig;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        Spec::get("/v1/agent/schedulers/config", &self.options).build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<SchedulerWorkerConfig, ResponseError> {
        parse_json_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

/// A server's scheduler worker pool settings (the answer of both the GET and the PUT of
/// `/v1/agent/schedulers/config`), serialized with the agent's key names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SchedulerWorkerConfig {
    /// The answering server's serf name, e.g. `nomad-1.global`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub server_id: String,
    /// How many workers the pool runs.
    #[serde(default)]
    pub num_schedulers: u32,
    /// The schedulers the workers run (always includes `_core`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub enabled_schedulers: Vec<String>,
}

/// `PUT /v1/agent/schedulers/config`: resizes the server's scheduler worker pool and chooses the
/// schedulers it runs, until the next restart or reload. Answers the settings now in force.
///
/// ACL: `agent:write`. Server agents only (`400 Server only endpoint` on a client-only agent).
/// Checked before sending, as the agent checks them: `enabled_schedulers` must contain `_core`
/// and nothing but the built-in schedulers ([`BUILTIN_SCHEDULERS`]). `num_schedulers` cannot be
/// negative (it is unsigned); its upper bound is the server's CPU count, which only the server
/// knows: beyond it the agent answers `400 Invalid request` ([`ResponseError::UnexpectedStatus`]).
/// Go: `Agent().SetSchedulerWorkerConfig(args, q)`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#update-scheduler-worker-configuration>
///
/// ```
/// use nomad_proto::agent::SetSchedulerWorkerConfig;
/// use nomad_proto::{BuildError, Config, Endpoint};
///
/// let op = SetSchedulerWorkerConfig::new(4, ["_core", "service", "batch"]);
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(req.method(), "PUT");
/// assert_eq!(
///     req.body().as_slice(),
///     br#"{"num_schedulers":4,"enabled_schedulers":["_core","service","batch"]}"#
/// );
///
/// // Without `_core` the agent would refuse it; the client says why before sending.
/// let err = SetSchedulerWorkerConfig::new(4, ["service"]).to_request(&Config::default()).unwrap_err();
/// assert!(matches!(err, BuildError::InvalidArgument { argument: "enabled_schedulers", .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct SetSchedulerWorkerConfig {
    /// How many workers to run (at most the server's CPU count).
    pub num_schedulers: u32,
    /// The schedulers to run: `_core` plus any of `service`, `batch`, `system`, `sysbatch`.
    pub enabled_schedulers: Vec<String>,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl SetSchedulerWorkerConfig {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new(
        "SetSchedulerWorkerConfig",
        "PUT",
        "/v1/agent/schedulers/config",
        "agent:write",
        Serves::Server,
    );

    /// Runs `num_schedulers` workers with `enabled_schedulers`.
    pub fn new<I, S>(num_schedulers: u32, enabled_schedulers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        SetSchedulerWorkerConfig {
            num_schedulers,
            enabled_schedulers: enabled_schedulers.into_iter().map(Into::into).collect(),
            options: CallOptions::default(),
        }
    }

    fn validate(&self) -> Result<(), BuildError> {
        if let Some(unknown) = self
            .enabled_schedulers
            .iter()
            .find(|s| s.as_str() != CORE_SCHEDULER && !BUILTIN_SCHEDULERS.contains(&s.as_str()))
        {
            return Err(BuildError::argument(
                "enabled_schedulers",
                format!(
                    "unknown scheduler {unknown:?} (expected {CORE_SCHEDULER} or one of {})",
                    BUILTIN_SCHEDULERS.join(", ")
                ),
            ));
        }
        if !self.enabled_schedulers.iter().any(|s| s == CORE_SCHEDULER) {
            return Err(BuildError::argument(
                "enabled_schedulers",
                format!("must include {CORE_SCHEDULER:?}"),
            ));
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct SchedulerConfigBody<'a> {
    num_schedulers: u32,
    enabled_schedulers: &'a [String],
}

impl Endpoint for SetSchedulerWorkerConfig {
    type Output = SchedulerWorkerConfig;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        self.validate()?;
        Spec::put("/v1/agent/schedulers/config", &self.options)
            .json(&SchedulerConfigBody {
                num_schedulers: self.num_schedulers,
                enabled_schedulers: &self.enabled_schedulers,
            })?
            .build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<SchedulerWorkerConfig, ResponseError> {
        parse_json_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

call_options!(
    GetSchedulerWorkersInfo,
    GetSchedulerWorkerConfig,
    SetSchedulerWorkerConfig
);
