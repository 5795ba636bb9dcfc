//! The agent API (`/v1/agent/*`): one operation type per endpoint.
//!
//! | Operation | Method and path | ACL | Role |
//! |---|---|---|---|
//! | [`ListMembers`] | `GET /v1/agent/members` | `node:read` | any (clients forward) |
//! | [`ListServers`] | `GET /v1/agent/servers` | `agent:read` | client |
//! | [`SetServers`] | `PUT /v1/agent/servers?address=…` | `agent:write` | client |
//! | [`GetSelf`] | `GET /v1/agent/self` | `agent:read` | any |
//! | [`Join`] | `PUT /v1/agent/join?address=…` | none (2.0) / `agent:write` (2.1) | server |
//! | [`ForceLeave`] | `PUT /v1/agent/force-leave?node=…` | `agent:write` | server |
//! | [`GetHealth`] | `GET /v1/agent/health` | none | any |
//! | [`Monitor`] | `GET /v1/agent/monitor` (stream) | `agent:read` | any |
//! | [`MonitorExport`] | `GET /v1/agent/monitor/export` (stream) | `agent:read` | any |

mod health;
mod members;
mod monitor;
mod self_info;

pub use health::{AgentRole, GetHealth, HealthCheck, HealthReport};
pub use members::{
    AgentMember, ForceLeave, Join, JoinResult, ListMembers, ListServers, MemberStatus, ServerMembers, SetServers,
};
pub use monitor::{ExportSource, LogStreamRequest, Monitor, MonitorExport, Target};
pub use self_info::{AgentConfig, AgentSelf, GetSelf};
