//! Cluster membership: `/v1/agent/members`, `/v1/agent/servers`, `/v1/agent/join`,
//! `/v1/agent/force-leave`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use http::{Request, Response};
use serde::{Deserialize, Deserializer, Serialize};

use super::wire::{null_as_default, objects_or_null, wire_enum};
use crate::call::{At, OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{
    call_options, check_status_with_info, decode_json_at, parse_empty_at, parse_json_at, CallOptions, Endpoint,
};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;

/// `GET /v1/agent/members`: the gossip members known to the agent's region.
///
/// ACL: `node:read` (enforced; a token with only `agent:*` gets 403). Works on servers; a
/// client agent forwards it to a server and returns that server's view.
/// Go: `Agent().Members()`. Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#list-members>
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct ListMembers {
    /// Per-call overrides.
    pub options: CallOptions,
}

impl ListMembers {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo =
        OperationInfo::new("ListMembers", "GET", "/v1/agent/members", "node:read", Serves::Any);

    /// A members request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Endpoint for ListMembers {
    type Output = ServerMembers;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        Spec::get("/v1/agent/members", &self.options).build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<ServerMembers, ResponseError> {
        parse_json_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

/// The answer of `/v1/agent/members`.
///
/// It serializes with the agent's key names, so what was read can be written out again (a
/// `null` `Members` is written as `[]`). For a fake answer in your own tests, start from
/// `Default` and set the fields (struct literals are refused, as the type may grow):
///
/// ```
/// use nomad_proto::agent::{AgentMember, MemberStatus, ServerMembers};
///
/// let mut member = AgentMember::default();
/// member.name = "nomad-1.global".into();
/// member.status = MemberStatus::Alive;
/// member.tags.insert("region".into(), "global".into());
/// let mut members = ServerMembers::default();
/// members.server_name = "nomad-1".into();
/// members.members.push(member);
/// assert_eq!(members.members[0].node_name(), "nomad-1");
///
/// let json = serde_json::to_value(&members)?;
/// assert_eq!(json["Members"][0]["Status"], "alive");
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// ```compile_fail,E0639
/// // A struct literal does not compile outside nomad-proto: use `Default` as above.
/// let members = nomad_proto::agent::ServerMembers {
///     server_name: String::new(),
///     server_region: String::new(),
///     server_dc: String::new(),
///     members: Vec::new(),
/// };
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerMembers {
    /// The answering server's node name (e.g. `nomad-1`; not suffixed with the region).
    #[serde(rename = "ServerName", default)]
    pub server_name: String,
    /// The answering server's region.
    #[serde(rename = "ServerRegion", default)]
    pub server_region: String,
    /// The answering server's datacenter.
    #[serde(rename = "ServerDC", default)]
    pub server_dc: String,
    /// The gossip members.
    #[serde(rename = "Members", default, deserialize_with = "objects_or_null")]
    pub members: Vec<AgentMember>,
}

/// One gossip (serf) member.
///
/// Its [`name`](Self::name) is the **member name** (`nomad-1.global`: the node name, a dot and
/// the region); [`node_name`](Self::node_name) is the **node name** (`nomad-1`), the agent's
/// `name` setting. See [`AgentSelf`](super::AgentSelf) for the same two names of the agent you
/// talk to.
///
/// It serializes with the agent's key names. What decoding normalises is written as decoded: a
/// `null` or `""` `Addr` as `null`, `null` `Tags` as `{}`, a missing `Status` as `"none"`. Build
/// one from `Default` (see [`ServerMembers`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentMember {
    /// The member name, `<node name>.<region>` (e.g. `nomad-1.global`): what
    /// [`ForceLeave`] takes. Empty on a client-only agent's `self` answer.
    #[serde(rename = "Name", default)]
    pub name: String,
    /// Gossip address; `None` on a client-only agent's `self` answer (JSON `null`).
    #[serde(rename = "Addr", default, deserialize_with = "lenient_ip")]
    pub addr: Option<IpAddr>,
    /// Gossip port.
    #[serde(rename = "Port", default)]
    pub port: u16,
    /// Serf tags (`role`, `region`, `dc`, `build`, `rpc_addr`, `port`, …; the key set varies by
    /// version). A JSON `null` (client-only agent) becomes an empty map.
    #[serde(rename = "Tags", default, deserialize_with = "null_as_default")]
    pub tags: BTreeMap<String, String>,
    /// Member status.
    #[serde(rename = "Status", default)]
    pub status: MemberStatus,
    /// Lowest supported gossip protocol version.
    #[serde(rename = "ProtocolMin", default)]
    pub protocol_min: u8,
    /// Highest supported gossip protocol version.
    #[serde(rename = "ProtocolMax", default)]
    pub protocol_max: u8,
    /// Gossip protocol version in use.
    #[serde(rename = "ProtocolCur", default)]
    pub protocol_cur: u8,
    /// Lowest supported delegate protocol version.
    #[serde(rename = "DelegateMin", default)]
    pub delegate_min: u8,
    /// Highest supported delegate protocol version.
    #[serde(rename = "DelegateMax", default)]
    pub delegate_max: u8,
    /// Delegate protocol version in use.
    #[serde(rename = "DelegateCur", default)]
    pub delegate_cur: u8,
}

impl AgentMember {
    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }
    /// The `region` tag.
    pub fn region(&self) -> Option<&str> {
        self.tag("region")
    }
    /// The `dc` tag.
    pub fn datacenter(&self) -> Option<&str> {
        self.tag("dc")
    }
    /// The `build` tag (the Nomad version, e.g. `2.0.5`).
    pub fn build(&self) -> Option<&str> {
        self.tag("build")
    }
    /// True if the `role` tag says this is a Nomad server.
    pub fn is_server(&self) -> bool {
        self.tag("role") == Some("nomad")
    }
    /// The node name: the member name without its `.<region>` suffix (`nomad-1` for
    /// `nomad-1.global`); the whole name when the member has no `region` tag.
    pub fn node_name(&self) -> &str {
        match self.region() {
            Some(region) => self
                .name
                .strip_suffix(region)
                .and_then(|n| n.strip_suffix('.'))
                .unwrap_or(&self.name),
            None => &self.name,
        }
    }
    /// True for the zero member a client-only agent reports in `/v1/agent/self`.
    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.addr.is_none()
    }
}

wire_enum! {
    /// A serf member status.
    MemberStatus, default None {
        /// `none` (the zero member; also used for a missing value).
        #[default]
        None = "none",
        /// `alive`.
        Alive = "alive",
        /// `leaving`.
        Leaving = "leaving",
        /// `left`.
        Left = "left",
        /// `failed`.
        Failed = "failed",
    }
}

/// `null`, `""` (Go's encoding of an empty `net.IP`) or an unparseable address become `None`
/// rather than failing the whole answer.
fn lenient_ip<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IpAddr>, D::Error> {
    let s: Option<std::borrow::Cow<'de, str>> = Option::deserialize(d)?;
    Ok(s.and_then(|s| s.trim().parse().ok()))
}

/// `GET /v1/agent/servers`: the servers a client agent talks to, as sorted `ip:port` strings.
///
/// ACL: `agent:read`. Client agents only: a server-only agent answers 501 `Invalid method`
/// ([`ResponseError::is_wrong_role`]). Go: `Agent().Servers()`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#list-servers>
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct ListServers {
    /// Per-call overrides.
    pub options: CallOptions,
}

impl ListServers {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo =
        OperationInfo::new("ListServers", "GET", "/v1/agent/servers", "agent:read", Serves::Client);

    /// A servers request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Endpoint for ListServers {
    type Output = Vec<String>;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        Spec::get("/v1/agent/servers", &self.options).build(config)
    }
    /// A JSON array of strings; `null` (a nil Go slice) is an empty list.
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Vec<String>, ResponseError> {
        let at = At::op(&Self::INFO);
        crate::endpoint::check_response(&response, |status, body| self.check_status(status, body))?;
        let status = response.status();
        let servers: Option<Vec<String>> = decode_json_at(at, status, response.into_body())?;
        Ok(servers.unwrap_or_default())
    }
    check_status_with_info!();
}

/// `PUT /v1/agent/servers?address=…`: replaces a client agent's server list.
///
/// ACL: `agent:write`. Client agents only (501 on a server-only agent). Success is 200 with an
/// empty body. Go: `Agent().SetServers(addrs)`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#update-servers>
///
/// ```
/// use nomad_proto::{agent::SetServers, Config, Endpoint};
///
/// let op = SetServers::new(["10.0.0.1:4647", "10.0.0.2:4647"]);
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(req.method(), "PUT");
/// // One `address` parameter per server, never comma-joined.
/// assert_eq!(req.uri().query(), Some("address=10.0.0.1%3A4647&address=10.0.0.2%3A4647"));
///
/// // Success is a 200 with an empty body.
/// op.parse_response(http::Response::builder().status(200).body(Vec::new())?)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct SetServers {
    /// Server addresses (`host:port`), each sent as its own `address=` parameter. At least one.
    pub addresses: Vec<String>,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl SetServers {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo =
        OperationInfo::new("SetServers", "PUT", "/v1/agent/servers", "agent:write", Serves::Client);

    /// Sets the servers to `addresses`.
    pub fn new<I, S>(addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        SetServers {
            addresses: addresses.into_iter().map(Into::into).collect(),
            options: CallOptions::default(),
        }
    }
}

fn address_query<'a>(mut spec: Spec<'a>, addresses: &[String]) -> Result<Spec<'a>, BuildError> {
    if addresses.is_empty() {
        return Err(BuildError::argument("address", "at least one address is required"));
    }
    for a in addresses {
        if a.trim().is_empty() {
            return Err(BuildError::argument("address", "an address must not be empty"));
        }
        spec = spec.query("address", a.as_str());
    }
    Ok(spec)
}

impl Endpoint for SetServers {
    type Output = ();
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        address_query(Spec::put("/v1/agent/servers", &self.options), &self.addresses)?.build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<(), ResponseError> {
        parse_empty_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

/// `PUT /v1/agent/join?address=…`: asks a server agent to join other servers over gossip.
///
/// ACL: `agent:write` per the 2.1 docs. Nomad 2.0.4 and later 2.0 releases check it but still
/// run an unauthorised join, reporting a deprecation `warning`; 2.0.0–2.0.3 neither check it nor
/// send a `warning` key (Nomad `command/agent/agent_endpoint.go`). Server agents only (501 on a
/// client-only agent).
///
/// A failure is reported by the agent inside a 200 answer; it becomes
/// [`ResponseError::JoinFailed`], which keeps `num_joined` and the message. A warning stays
/// visible in [`JoinResult::warning`]. Go: `Agent().Join(addrs...)`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#join-agent>
///
/// ```
/// use nomad_proto::{agent::Join, Config, Endpoint, ResponseError};
///
/// let op = Join::new(["10.0.0.4", "10.0.0.5"]);
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/join?address=10.0.0.4&address=10.0.0.5");
///
/// // The agent reports a failed join inside a 200 answer.
/// let body = br#"{"num_joined":1,"error":"1 error occurred:\n\t* Failed to join 10.0.0.5:4648: i/o timeout\n\n","warning":""}"#;
/// let resp = http::Response::builder().status(200).body(body.to_vec())?;
/// match op.parse_response(resp) {
///     Err(ResponseError::JoinFailed { num_joined, message }) => {
///         assert_eq!(num_joined, 1);
///         assert!(message.ends_with("i/o timeout"));
///     }
///     other => panic!("{other:?}"),
/// }
///
/// // A warning (Nomad 2.0.4+ without agent:write) does not fail the call.
/// let body = br#"{"num_joined":2,"error":"","warning":"anonymous server join is deprecated"}"#;
/// let joined = op.parse_response(http::Response::builder().status(200).body(body.to_vec())?)?;
/// assert_eq!(joined.num_joined, 2);
/// assert_eq!(joined.warning.as_deref(), Some("anonymous server join is deprecated"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct Join {
    /// Addresses to join (`host` or `host:port`; serf's default port is 4648). At least one.
    pub addresses: Vec<String>,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl Join {
    /// What this operation is on the wire and what the agent requires of it.
    /// (Nomad 2.0.4 and later 2.0 releases run a join without `agent:write` and warn; 2.0.0–2.0.3
    /// do not check; 2.1 requires it.)
    pub const INFO: OperationInfo = OperationInfo::new("Join", "PUT", "/v1/agent/join", "agent:write", Serves::Server);

    /// Joins `addresses`.
    pub fn new<I, S>(addresses: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Join {
            addresses: addresses.into_iter().map(Into::into).collect(),
            options: CallOptions::default(),
        }
    }
}

/// A successful join.
///
/// It serializes as the agent's answer: `{"num_joined":N,"error":"","warning":"…"}` (a missing
/// warning as `""`, as the agent writes it). It deserializes from that answer too, and, as
/// [`Join`] does, refuses one that reports an `error`: that is a failed join, not a result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "JoinWire")]
#[non_exhaustive]
pub struct JoinResult {
    /// How many agents were joined.
    pub num_joined: u64,
    /// A warning from the agent (e.g. `anonymous server join is deprecated …`), if any. Agents
    /// before Nomad 2.0.4 never send one.
    pub warning: Option<String>,
}

impl Serialize for JoinResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("JoinResult", 3)?;
        out.serialize_field("num_joined", &self.num_joined)?;
        out.serialize_field("error", "")?;
        out.serialize_field("warning", self.warning.as_deref().unwrap_or(""))?;
        out.end()
    }
}

impl TryFrom<JoinWire> for JoinResult {
    type Error = String;
    fn try_from(wire: JoinWire) -> Result<Self, String> {
        let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        if let Some(message) = nonempty(wire.error) {
            return Err(format!(
                "the join failed ({} joined): {}",
                wire.num_joined,
                message.trim()
            ));
        }
        Ok(JoinResult {
            num_joined: wire.num_joined,
            warning: nonempty(wire.warning),
        })
    }
}

#[derive(Deserialize)]
struct JoinWire {
    #[serde(default)]
    num_joined: u64,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warning: Option<String>,
}

impl Endpoint for Join {
    type Output = JoinResult;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        address_query(Spec::put("/v1/agent/join", &self.options), &self.addresses)?.build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<JoinResult, ResponseError> {
        let wire: JoinWire = parse_json_at(At::op(&Self::INFO), response)?;
        let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        if let Some(message) = nonempty(wire.error) {
            return Err(ResponseError::JoinFailed {
                num_joined: wire.num_joined,
                message: message.trim().to_owned(),
            });
        }
        Ok(JoinResult {
            num_joined: wire.num_joined,
            warning: nonempty(wire.warning),
        })
    }
    check_status_with_info!();
}

/// `PUT /v1/agent/force-leave?node=…[&prune=1]`: forces a gossip member into the `left` state.
///
/// ACL: `agent:write`. Server agents only (501 on a client-only agent). `node` is the serf
/// member name (e.g. `nomad-2.global`); `prune` also removes it from the member list.
/// Success is 200 with an empty body. Go: `Agent().ForceLeave(node)` /
/// `ForceLeaveWithOptions`. Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#force-leave-agent>
///
/// ```
/// use nomad_proto::{agent::ForceLeave, Config, Endpoint};
///
/// let op = ForceLeave::new("nomad-2.global").prune(true);
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(req.method(), "PUT");
/// assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/force-leave?node=nomad-2.global&prune=1");
///
/// let denied = http::Response::builder().status(403).body(b"Permission denied".to_vec())?;
/// assert!(op.parse_response(denied).unwrap_err().is_permission_denied());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct ForceLeave {
    /// The serf member name.
    pub node: String,
    /// Remove the member from the list entirely.
    pub prune: bool,
    /// Per-call overrides.
    pub options: CallOptions,
}

impl ForceLeave {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new(
        "ForceLeave",
        "PUT",
        "/v1/agent/force-leave",
        "agent:write",
        Serves::Server,
    );

    /// Force-leaves `node`.
    pub fn new(node: impl Into<String>) -> Self {
        ForceLeave {
            node: node.into(),
            ..Default::default()
        }
    }

    /// Also prune the member.
    pub fn prune(mut self, prune: bool) -> Self {
        self.prune = prune;
        self
    }
}

impl Endpoint for ForceLeave {
    type Output = ();
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        if self.node.trim().is_empty() {
            return Err(BuildError::argument("node", "a node name is required"));
        }
        let mut spec = Spec::put("/v1/agent/force-leave", &self.options).query("node", self.node.as_str());
        if self.prune {
            spec = spec.query("prune", "1");
        }
        spec.build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<(), ResponseError> {
        parse_empty_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

call_options!(ListMembers, ListServers, SetServers, Join, ForceLeave);
