//! The agent API (`/v1/agent/*`): one operation type per endpoint.
//!
//! | Operation | Method and path | ACL | Role |
//! |---|---|---|---|
//! | [`ListMembers`] | `GET /v1/agent/members` | `node:read` | any (clients forward) |
//! | [`ListServers`] | `GET /v1/agent/servers` | `agent:read` | client |
//! | [`SetServers`] | `PUT /v1/agent/servers?address=…` | `agent:write` | client |
//! | [`GetSelf`] | `GET /v1/agent/self` | `agent:read` | any |
//! | [`Join`] | `PUT /v1/agent/join?address=…` | none (2.0.0–2.0.3), warns without `agent:write` (2.0.4+) / `agent:write` (2.1) | server |
//! | [`ForceLeave`] | `PUT /v1/agent/force-leave?node=…` | `agent:write` | server |
//! | [`GetHealth`] | `GET /v1/agent/health` | none | any |
//! | [`Monitor`] | `GET /v1/agent/monitor` (stream) | `agent:read` | any |
//! | [`MonitorExport`] | `GET /v1/agent/monitor/export` (stream) | `agent:read` | any |
//! | [`Reload`] | `PUT /v1/agent/reload` | `agent:write` | any |
//! | [`GetHostData`] | `GET /v1/agent/host` | `agent:read` (+ `enable_debug` if ACLs are off) | any |
//! | [`GetSchedulerWorkersInfo`] | `GET /v1/agent/schedulers` | `agent:read` | server |
//! | [`GetSchedulerWorkerConfig`] | `GET /v1/agent/schedulers/config` | `agent:read` | server |
//! | [`SetSchedulerWorkerConfig`] | `PUT /v1/agent/schedulers/config` | `agent:write` | server |
//! | [`ListKeys`] | `GET /v1/agent/keyring/list` | `agent:write` | server |
//! | [`InstallKey`] | `PUT /v1/agent/keyring/install` | `agent:write` | server |
//! | [`UseKey`] | `PUT /v1/agent/keyring/use` | `agent:write` | server |
//! | [`RemoveKey`] | `PUT /v1/agent/keyring/remove` | `agent:write` | server |
//! | [`Pprof`] | `GET /v1/agent/pprof/<profile>` | `agent:write` (+ `enable_debug` if ACLs are off) | any |
//!
//! ## Building operations and results
//!
//! Operations and result types may gain fields when Nomad grows a parameter or an answer field,
//! so they are `#[non_exhaustive]`: a struct literal does not compile outside this crate.
//!
//! - An operation is built with its constructor (`ListMembers::new()`, `Join::new(addresses)`,
//!   `Pprof::cpu_profile()`, `MonitorExport::on_disk()`, …) and its builder methods, one per
//!   parameter (`ForceLeave::prune`, `Monitor::log_level`, `Pprof::seconds`, …); the per-call
//!   region, namespace and token come from [`WithCallOptions`](crate::WithCallOptions). Its
//!   fields stay public to read and change.
//! - A result type (for a fake answer in your own tests) starts from `Default` and has its
//!   public fields set, or is deserialized from the agent's JSON. Every result type serializes
//!   back to that JSON, with the agent's key names.
//!
//! ```
//! use nomad_proto::agent::{ForceLeave, JoinResult};
//! use nomad_proto::WithCallOptions;
//!
//! let op = ForceLeave::new("nomad-2.global").prune(true).region("eu");
//! assert!(op.prune);
//!
//! let mut joined = JoinResult::default();
//! joined.num_joined = 2;
//! assert_eq!(serde_json::to_string(&joined)?, r#"{"num_joined":2,"error":"","warning":""}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

mod health;
mod host;
mod keyring;
mod members;
mod monitor;
mod operation;
mod pprof;
mod reload;
mod schedulers;
mod self_info;
mod target;
pub(crate) mod wire;

pub use crate::call::{OperationInfo, Serves};
pub use health::{AgentRole, GetHealth, HealthCheck, HealthReport};
pub use host::{DiskUsage, GetHostData, HostData, HostDataResponse};
pub use keyring::{ExposedKeyring, InstallKey, KeyCoverage, KeyringResponse, ListKeys, RemoveKey, UseKey};
pub use members::{
    AgentMember, ForceLeave, Join, JoinResult, ListMembers, ListServers, MemberStatus, ServerMembers, SetServers,
};
pub use monitor::{ExportSource, LogStreamRequest, Monitor, MonitorExport};
pub use operation::Operation;
pub use pprof::{Pprof, Profile, ProfileKind};
pub use reload::Reload;
pub use schedulers::{
    GetSchedulerWorkerConfig, GetSchedulerWorkersInfo, SchedulerWorkerConfig, SchedulerWorkersInfo,
    SetSchedulerWorkerConfig, WorkerInfo, WorkerStatus, WorkloadStatus, BUILTIN_SCHEDULERS, CORE_SCHEDULER,
};
pub use self_info::{AgentConfig, AgentSelf, GetSelf};
pub use target::Target;

/// A valid gossip key (base64 of 32 zero bytes) for the keyring samples.
const SAMPLE_KEY: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

operation::operations! {
    ListMembers => ListMembers::new(),
    ListServers => ListServers::new(),
    SetServers => SetServers::new(["10.0.0.1:4647"]),
    GetSelf => GetSelf::new(),
    Join => Join::new(["10.0.0.2"]),
    ForceLeave => ForceLeave::new("nomad-2.global"),
    GetHealth => GetHealth::new(),
    Monitor => Monitor::new(),
    MonitorExport => MonitorExport::on_disk(),
    Reload => Reload::new(),
    GetHostData => GetHostData::new(),
    GetSchedulerWorkersInfo => GetSchedulerWorkersInfo::new(),
    GetSchedulerWorkerConfig => GetSchedulerWorkerConfig::new(),
    SetSchedulerWorkerConfig => SetSchedulerWorkerConfig::new(2, [CORE_SCHEDULER, "batch"]),
    ListKeys => ListKeys::new(),
    InstallKey => InstallKey::new(SAMPLE_KEY),
    UseKey => UseKey::new(SAMPLE_KEY),
    RemoveKey => RemoveKey::new(SAMPLE_KEY),
    Pprof => Pprof::lookup("heap"),
}
