//! `/v1/agent/host`: data about the host an agent runs on (as `nomad operator debug` collects).

use std::collections::BTreeMap;

use http::{Request, Response};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::target::Target;
use super::wire::{null_as_default, object_map_or_null};
use crate::call::{At, OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{call_options, check_ok_debug, check_response, decode_json_at, CallOptions, Endpoint, Object};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;

/// `GET /v1/agent/host[?node_id=…|server_id=…]`: the host's OS, network interfaces, DNS and
/// hosts files, environment (sensitive values redacted by the agent) and disk usage.
///
/// ACL: `agent:read`, and **on an agent with ACLs disabled it also needs `enable_debug = true`**:
/// otherwise the agent answers `403 Permission denied`, which becomes
/// [`ResponseError::DebugPermissionDenied`] naming both possible causes. Any agent; with a
/// [`Target`] the agent forwards the call to that client node or server. Not both IDs at once:
/// [`Target`] holds one. Go: `Agent().Host(serverID, nodeID, q)`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#host>
///
/// The local agent answers a bare `HostData` object, a forwarded call
/// `{"AgentID":…,"HostData":{…}}`; both decode into [`HostDataResponse`].
///
/// ```
/// use nomad_proto::agent::{GetHostData, Target};
/// use nomad_proto::{Config, Endpoint};
///
/// let op = GetHostData::new().target(Target::Node("f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f".into()));
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(
///     req.uri(),
///     "http://127.0.0.1:4646/v1/agent/host?node_id=f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f"
/// );
///
/// let body = br#"{"AgentID":"f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f","HostData":{"OS":"Linux 6.8.0",
///   "Network":[{"address":"10.0.0.7","string":"10.0.0.7/24","type":"IPv4"}],"ResolvConf":"nameserver 10.0.0.2",
///   "Hosts":"127.0.0.1 localhost","Environment":{"HOME":"/root"},
///   "Disk":{"/":{"DiskMB":102400,"UsedMB":51200}}}}"#;
/// let host = op.parse_response(http::Response::builder().status(200).body(body.to_vec())?)?;
/// assert_eq!(host.agent_id.as_deref(), Some("f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f"));
/// assert_eq!(host.host_data.disk["/"].used_mb, 51200);
///
/// // ACLs off and enable_debug off: the error says what to change.
/// let denied = http::Response::builder().status(403).body(b"Permission denied".to_vec())?;
/// let err = op.parse_response(denied).unwrap_err();
/// assert!(err.is_permission_denied());
/// assert!(err.to_string().contains("enable_debug"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct GetHostData {
    /// Which agent's host: the local one (default), a client node or a server.
    pub target: Target,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl GetHostData {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo =
        OperationInfo::new("GetHostData", "GET", "/v1/agent/host", "agent:read", Serves::Any);

    /// The host data of the agent the request is sent to.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks for another agent's host data (`node_id=` or `server_id=`).
    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }
}

impl Endpoint for GetHostData {
    type Output = HostDataResponse;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        self.target
            .apply(Spec::get("/v1/agent/host", &self.options))?
            .build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<HostDataResponse, ResponseError> {
        check_response(&response, |status, body| self.check_status(status, body))?;
        let status = response.status();
        // `HostDataResponse` itself accepts only an object.
        decode_json_at(At::op(&Self::INFO), status, response.into_body())
    }
    /// A 403 becomes [`ResponseError::DebugPermissionDenied`] (it may mean `enable_debug` is off).
    fn check_status(&self, status: http::StatusCode, body_start: &[u8]) -> Result<(), ResponseError> {
        check_ok_debug(At::op(&Self::INFO), status, body_start, "/v1/agent/host", "agent:read")
    }
}

call_options!(GetHostData);

/// The answer of `/v1/agent/host`, whichever shape the agent sent.
///
/// It serializes in the shape it was read from: the `{"AgentID":…,"HostData":{…}}` wrapper of a
/// forwarded call when [`agent_id`](Self::agent_id) is set, else the bare `HostData` object of
/// the local agent. (A wrapper with an empty `AgentID` decodes with `agent_id: None`, and is
/// written bare.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostDataResponse {
    /// The answering agent: a node ID for a client, a server name (`nomad-1.global`) for a
    /// server. Present only when the call was forwarded with a [`Target`]; `None` for the bare
    /// answer of the local agent.
    pub agent_id: Option<String>,
    /// The host data.
    pub host_data: HostData,
}

impl Serialize for HostDataResponse {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match &self.agent_id {
            None => self.host_data.serialize(s),
            Some(agent_id) => {
                let mut out = s.serialize_struct("HostDataResponse", 2)?;
                out.serialize_field("AgentID", agent_id)?;
                out.serialize_field("HostData", &self.host_data)?;
                out.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for HostDataResponse {
    /// Accepts both shapes in one pass: `{"AgentID":…,"HostData":{…}}` (recognised by its
    /// `HostData` key) and a bare `HostData` object.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Every key either shape can have; the wrapper's `HostData` wins when present.
        #[derive(Deserialize)]
        struct Wire {
            #[serde(rename = "AgentID", default)]
            agent_id: Option<String>,
            #[serde(rename = "HostData", default, deserialize_with = "present")]
            wrapped: Option<Option<HostData>>,
            #[serde(rename = "OS", default, deserialize_with = "null_as_default")]
            os: String,
            #[serde(rename = "Network", default, deserialize_with = "null_as_default")]
            network: Vec<BTreeMap<String, String>>,
            #[serde(rename = "ResolvConf", default, deserialize_with = "null_as_default")]
            resolv_conf: String,
            #[serde(rename = "Hosts", default, deserialize_with = "null_as_default")]
            hosts: String,
            #[serde(rename = "Environment", default, deserialize_with = "null_as_default")]
            environment: BTreeMap<String, String>,
            #[serde(rename = "Disk", default, deserialize_with = "object_map_or_null")]
            disk: BTreeMap<String, DiskUsage>,
        }
        /// `Some(…)` when the key is present, even as `null`; the value must be an object.
        fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<HostData>>, D::Error> {
            Ok(Some(Option::<Object<HostData>>::deserialize(d)?.map(|o| o.0)))
        }
        /// Only a JSON object is host data (a derived struct would also take `[]`).
        struct ObjectOnly;
        impl<'de> serde::de::Visitor<'de> for ObjectOnly {
            type Value = Wire;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a host data object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Wire, A::Error> {
                Wire::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        let wire = d.deserialize_map(ObjectOnly)?;
        Ok(match wire.wrapped {
            Some(inner) => HostDataResponse {
                agent_id: wire.agent_id.filter(|id| !id.is_empty()),
                host_data: inner.unwrap_or_default(),
            },
            None => HostDataResponse {
                agent_id: None,
                host_data: HostData {
                    os: wire.os,
                    network: wire.network,
                    resolv_conf: wire.resolv_conf,
                    hosts: wire.hosts,
                    environment: wire.environment,
                    disk: wire.disk,
                },
            },
        })
    }
}

/// What an agent reports about its host (Go `host.HostData`). It serializes with the agent's key
/// names; `null` fields are written as their empty value (`""`, `[]`, `{}`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HostData {
    /// The kernel and OS, e.g. `Linux 6.8.0-45-generic #45-Ubuntu SMP … x86_64`.
    #[serde(rename = "OS", default, deserialize_with = "null_as_default")]
    pub os: String,
    /// One map per interface address, with go-sockaddr attribute names (`address`, `string`,
    /// `type`, `network`, `mask_bits`, `broadcast`, …; the set varies by address type). If the
    /// agent cannot list its interfaces, one map with an `error` key. Empty for a host with no
    /// interfaces, which the agent sends as `null` (a nil slice, Nomad
    /// `command/agent/host/network.go`).
    #[serde(rename = "Network", default, deserialize_with = "null_as_default")]
    pub network: Vec<BTreeMap<String, String>>,
    /// The contents of `/etc/resolv.conf`.
    #[serde(rename = "ResolvConf", default, deserialize_with = "null_as_default")]
    pub resolv_conf: String,
    /// The contents of `/etc/hosts`.
    #[serde(rename = "Hosts", default, deserialize_with = "null_as_default")]
    pub hosts: String,
    /// The agent's environment; the agent replaces sensitive values with `<redacted>`.
    #[serde(rename = "Environment", default, deserialize_with = "null_as_default")]
    pub environment: BTreeMap<String, String>,
    /// Disk usage by mount path.
    #[serde(rename = "Disk", default, deserialize_with = "object_map_or_null")]
    pub disk: BTreeMap<String, DiskUsage>,
}

/// Size and use of one mounted file system, in MiB (`{"DiskMB":…,"UsedMB":…}`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DiskUsage {
    /// Total size in MiB.
    #[serde(rename = "DiskMB", default)]
    pub disk_mb: i64,
    /// Used space in MiB (blocks not available to unprivileged users count as used).
    #[serde(rename = "UsedMB", default)]
    pub used_mb: i64,
}
