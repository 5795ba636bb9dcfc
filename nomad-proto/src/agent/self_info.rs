//! `/v1/agent/self`: the agent's configuration, gossip member and runtime stats.

use std::collections::BTreeMap;

use http::{Request, Response};
use serde::{Deserialize, Deserializer, Serialize};

use super::members::AgentMember;
use super::wire::object;
use crate::call::{At, OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{call_options, check_status_with_info, parse_json_at, CallOptions, Endpoint};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;

/// `GET /v1/agent/self`: the agent's configuration, gossip member and stats.
///
/// ACL: `agent:read`. Any agent. On a client-only agent `member` is the zero member (see
/// [`AgentMember::is_empty`]). Go: `Agent().Self()`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#query-self>
///
/// ```
/// use nomad_proto::{agent::GetSelf, Config, Endpoint};
///
/// let op = GetSelf::new();
/// assert_eq!(op.to_request(&Config::default())?.uri(), "http://127.0.0.1:4646/v1/agent/self");
///
/// // A client-only agent: the zero member, and a `client` stats section.
/// let body = br#"{"config":{"Region":"global","Datacenter":"dc1","Version":{"Version":"2.0.5","VersionPrerelease":""}},
///   "member":{"Name":"","Addr":null,"Port":0,"Tags":null,"Status":"none"},
///   "stats":{"client":{"known_servers":"10.0.0.1:4647","num_allocations":"2"}}}"#;
/// let me = op.parse_response(http::Response::builder().status(200).body(body.to_vec())?)?;
/// assert!(me.member.is_empty());
/// assert!(me.is_client() && !me.is_server());
/// assert_eq!(me.version(), Some("2.0.5"));
/// assert_eq!(me.member_name(), None); // a client-only agent is no gossip member
/// assert_eq!(me.stat("client", "num_allocations"), Some("2"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct GetSelf {
    /// Per-call overrides.
    pub options: CallOptions,
}

impl GetSelf {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new("GetSelf", "GET", "/v1/agent/self", "agent:read", Serves::Any);

    /// A self request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Endpoint for GetSelf {
    type Output = AgentSelf;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        Spec::get("/v1/agent/self", &self.options).build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<AgentSelf, ResponseError> {
        parse_json_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

call_options!(GetSelf);

/// The answer of `/v1/agent/self`.
///
/// # Node name and member name
///
/// An agent has two names, and the accessors say which they return:
///
/// - the **node name** (`nomad-1`): the agent's `name` setting, `config.NodeName` here (it
///   defaults to the host name). [`AgentSelf::node_name`] returns it, on servers and clients
///   alike.
/// - the **member name** (`nomad-1.global`): a server's name in the servers' gossip pool, the
///   node name, a dot and the region. It is what [`ForceLeave`](super::ForceLeave) takes and
///   what [`ListMembers`](super::ListMembers) lists. [`AgentSelf::member_name`] returns it;
///   `None` on a client-only agent, which is no gossip member (its `member` is the zero member,
///   `"Name":""`). Go's `Agent().NodeName()` returns this one.
///
/// [`AgentMember::name`] is a member name and [`AgentMember::node_name`] a node name, in the
/// same sense.
///
/// ```
/// use nomad_proto::{agent::GetSelf, Endpoint};
///
/// let body = br#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"nomad-1",
///   "Version":{"Version":"2.0.5","VersionPrerelease":"","VersionMetadata":"ent"}},
///   "member":{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,
///   "Tags":{"role":"nomad","region":"global","dc":"dc1"},"Status":"alive"},"stats":{"nomad":{"leader":"true"}}}"#;
/// let me = GetSelf::new().parse_response(http::Response::builder().status(200).body(body.to_vec())?)?;
/// assert_eq!(me.node_name(), Some("nomad-1"));
/// assert_eq!(me.member_name(), Some("nomad-1.global"));
/// assert_eq!((me.region(), me.datacenter()), (Some("global"), Some("dc1")));
/// assert_eq!(me.version(), Some("2.0.5+ent")); // an Enterprise build
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// It serializes with the agent's key names (`config`, `member`, `stats`). `config` is written
/// as received; what decoding normalises is written as decoded: a stats value that is not a
/// string as its JSON text (`null` as `""`), and the member as [`AgentMember`] writes it. The
/// agent redacts its secrets (`ACL.ReplicationToken`, `Consuls[].Token`, …) before sending, so
/// writing this out repeats nothing the agent kept back.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "AgentSelfWire")]
#[non_exhaustive]
pub struct AgentSelf {
    /// The agent's configuration, kept as JSON (its shape changes between Nomad versions); typed
    /// accessors cover what users read.
    pub config: AgentConfig,
    /// The agent's gossip member (the zero member on a client-only agent).
    pub member: AgentMember,
    /// Runtime stats by section (`nomad`, `raft`, `serf`, `runtime`, `client`), every value a
    /// string as the agent sends it.
    pub stats: BTreeMap<String, BTreeMap<String, String>>,
    /// [`AgentConfig::version`], composed once when the answer is parsed.
    #[serde(skip)]
    version: Option<String>,
}

/// The wire form of [`AgentSelf`]; `member` must be an object.
#[derive(Deserialize)]
struct AgentSelfWire {
    #[serde(default)]
    config: AgentConfig,
    #[serde(default, deserialize_with = "object")]
    member: AgentMember,
    #[serde(default, deserialize_with = "lenient_stats")]
    stats: BTreeMap<String, BTreeMap<String, String>>,
}

impl From<AgentSelfWire> for AgentSelf {
    fn from(wire: AgentSelfWire) -> Self {
        let version = wire.config.version();
        AgentSelf {
            config: wire.config,
            member: wire.member,
            stats: wire.stats,
            version,
        }
    }
}

impl AgentSelf {
    /// A stat value, e.g. `stat("nomad", "leader")`.
    pub fn stat(&self, section: &str, key: &str) -> Option<&str> {
        self.stats.get(section)?.get(key).map(String::as_str)
    }
    /// True if the agent runs a server (has a `nomad` stats section or a server member).
    pub fn is_server(&self) -> bool {
        self.stats.contains_key("nomad") || self.member.is_server()
    }
    /// True if the agent runs a client (has a `client` stats section).
    pub fn is_client(&self) -> bool {
        self.stats.contains_key("client")
    }
    /// The agent's node name (`nomad-1`; see [the type docs](Self#node-name-and-member-name)):
    /// `config.NodeName`, else the member name without its `.<region>` suffix. `None` if
    /// neither is set.
    pub fn node_name(&self) -> Option<&str> {
        self.config
            .node_name()
            .or_else(|| Some(self.member.node_name()).filter(|n| !n.is_empty()))
    }
    /// The agent's member name in the servers' gossip pool (`nomad-1.global`; see [the type
    /// docs](Self#node-name-and-member-name)). `None` on a client-only agent.
    pub fn member_name(&self) -> Option<&str> {
        Some(self.member.name.as_str()).filter(|n| !n.is_empty())
    }
    /// The agent's datacenter: `config.Datacenter`, else the member's `dc` tag (Go:
    /// `Agent().Datacenter()`).
    pub fn datacenter(&self) -> Option<&str> {
        self.config
            .datacenter()
            .or_else(|| self.member.datacenter().filter(|d| !d.is_empty()))
    }
    /// The agent's region: `config.Region`, else the member's `region` tag (Go:
    /// `Agent().Region()`).
    pub fn region(&self) -> Option<&str> {
        self.config
            .region()
            .or_else(|| self.member.region().filter(|r| !r.is_empty()))
    }
    /// The agent's Nomad version as the agent prints it (`2.0.5`, `2.1.0-beta.1`, `2.0.5+ent`;
    /// see [`AgentConfig::version`]), composed when the answer was parsed. `None` if the answer
    /// has none.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }
}

/// The agent's `config` object. Current agents send `Version` as an object and `Consuls`/`Vaults`
/// arrays; older ones a `Version` string: the accessors accept both.
///
/// It holds the object as JSON (its shape changes between Nomad versions) and serializes to it
/// unchanged. Build one from a JSON object with `From`; read the whole object with
/// [`as_map`](Self::as_map).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentConfig(serde_json::Map<String, serde_json::Value>);

impl From<serde_json::Map<String, serde_json::Value>> for AgentConfig {
    fn from(map: serde_json::Map<String, serde_json::Value>) -> Self {
        AgentConfig(map)
    }
}

impl AgentConfig {
    /// The whole `config` object.
    pub fn as_map(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.0
    }

    /// The whole `config` object, owned.
    pub fn into_map(self) -> serde_json::Map<String, serde_json::Value> {
        self.0
    }
}

impl AgentConfig {
    fn str_field(&self, key: &str) -> Option<&str> {
        self.0.get(key)?.as_str().filter(|s| !s.is_empty())
    }
    /// Any top-level value.
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }
    /// `Region`.
    pub fn region(&self) -> Option<&str> {
        self.str_field("Region")
    }
    /// `Datacenter`.
    pub fn datacenter(&self) -> Option<&str> {
        self.str_field("Datacenter")
    }
    /// `NodeName`.
    pub fn node_name(&self) -> Option<&str> {
        self.str_field("NodeName")
    }
    /// `DataDir`.
    pub fn data_dir(&self) -> Option<&str> {
        self.str_field("DataDir")
    }
    /// `ACL.Enabled`.
    pub fn acl_enabled(&self) -> Option<bool> {
        self.0.get("ACL")?.get("Enabled")?.as_bool()
    }
    /// `EnableDebug`.
    pub fn enable_debug(&self) -> Option<bool> {
        self.0.get("EnableDebug")?.as_bool()
    }
    /// The Nomad version as the agent prints it (Nomad `version/version.go`,
    /// `VersionNumber`): `Version`, then `-VersionPrerelease` and `+VersionMetadata` when they
    /// are set, e.g. `2.0.5`, `2.1.0-beta.1`, `2.0.5+ent` (an Enterprise build; FIPS builds
    /// carry `fips1403` in the metadata, kept as sent). Current agents send `Version` as an object;
    /// old ones a top-level `Version` string beside `VersionPrerelease` and `VersionMetadata`.
    /// [`AgentSelf::version`] gives the same text without composing it again.
    pub fn version(&self) -> Option<String> {
        let field = |v: &'_ serde_json::Map<String, serde_json::Value>, key: &str| {
            v.get(key)
                .and_then(|p| p.as_str())
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
        };
        let (version, pre, meta) = match self.0.get("Version")? {
            serde_json::Value::Object(v) => (
                v.get("Version")?.as_str()?,
                field(v, "VersionPrerelease"),
                field(v, "VersionMetadata"),
            ),
            serde_json::Value::String(v) => (
                v.as_str(),
                field(&self.0, "VersionPrerelease"),
                field(&self.0, "VersionMetadata"),
            ),
            _ => return None,
        };
        if version.is_empty() {
            return None;
        }
        let mut full = version.to_owned();
        if let Some(pre) = pre {
            full.push('-');
            full.push_str(&pre);
        }
        if let Some(meta) = meta {
            full.push('+');
            full.push_str(&meta);
        }
        Some(full)
    }
}

fn lenient_stats<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, BTreeMap<String, String>>, D::Error> {
    let raw: Option<BTreeMap<String, Option<BTreeMap<String, StatValue>>>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(section, values)| {
            let values = values.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
            (section, values)
        })
        .collect())
}

/// A stats value as a string: a string as sent, `null` as `""`, anything else as its JSON
/// text. Decoded straight from the parser (an untagged enum would buffer every value first).
struct StatValue(String);

impl<'de> Deserialize<'de> for StatValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
        use serde::de::{MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a stats value")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StatValue, E> {
                Ok(StatValue(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<StatValue, E> {
                Ok(StatValue(v))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<StatValue, E> {
                Ok(StatValue(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<StatValue, E> {
                Ok(StatValue(serde_json::Value::from(v).to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<StatValue, E> {
                Ok(StatValue(serde_json::Value::from(v).to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<StatValue, E> {
                Ok(StatValue(serde_json::Value::from(v).to_string()))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<StatValue, E> {
                Ok(StatValue(String::new()))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<StatValue, E> {
                Ok(StatValue(String::new()))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<StatValue, D::Error> {
                StatValue::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<StatValue, A::Error> {
                Ok(StatValue(
                    serde_json::Value::deserialize(SeqAccessDeserializer::new(seq))?.to_string(),
                ))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<StatValue, A::Error> {
                Ok(StatValue(
                    serde_json::Value::deserialize(MapAccessDeserializer::new(map))?.to_string(),
                ))
            }
        }
        d.deserialize_any(V)
    }
}
