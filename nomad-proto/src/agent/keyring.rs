//! The gossip (serf) encryption keyring: `/v1/agent/keyring/{list,install,use,remove}`.
//!
//! These endpoints manage the keys that encrypt gossip between servers (`nomad operator gossip
//! keyring …`), not the variables/workload-identity keyring of `/v1/operator/keyring`. They are
//! missing from the API docs. All four need `agent:write` (even `list`) and a server agent: a
//! client-only agent answers `501 Invalid method` ([`ResponseError::is_wrong_role`]). A change
//! that some servers reject is a 500 such as `1/3 nodes reported failure`.
//!
//! **Servers that are down are not counted.** The agent asks every server it can reach over
//! gossip and reports how many answered (`NumNodes`, serf's count of members not known to be
//! dead or gone) and how many hold each key; a failed server is in neither count, so
//! `Keys[key] == NumNodes` does not mean the key is on every server. Check it against the
//! member list with [`KeyringResponse::coverage`].

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use http::{Request, Response};
use serde::{Deserialize, Serialize, Serializer};

use super::members::{MemberStatus, ServerMembers};
use super::wire::null_as_default;
use crate::call::{At, OperationInfo, Serves};
use crate::config::{Config, Secret};
use crate::endpoint::{call_options, check_status_with_info, parse_json_at, CallOptions, Endpoint};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;

/// The key sizes serf accepts: AES-128, AES-192 and AES-256.
const KEY_SIZES: [usize; 3] = [16, 24, 32];

/// The answer of every keyring operation (Go `KeyringResponse`).
///
/// **The counts leave out servers that are down.** The agent asks every server it can reach over
/// gossip: `NumNodes` counts those (serf's members not known to be dead or gone) and `Keys` how
/// many of them hold each key, so a failed server is in neither count. Whether a key is on every
/// server is checked against the member list with [`KeyringResponse::coverage`].
///
/// The keys are gossip encryption keys, secrets: `Debug` and `Serialize` never show them. It
/// serializes with the agent's key names, each key replaced by a label (`<redacted 1>`, …) that
/// keeps its count:
///
/// ```
/// use nomad_proto::agent::KeyringResponse;
///
/// let body = r#"{"Messages":{},"Keys":{"HS5lJ+XuTlYKWaeGYyG+/A==":3},"NumNodes":3}"#;
/// let ring: KeyringResponse = serde_json::from_str(body)?;
/// assert_eq!(
///     serde_json::to_string(&ring)?,
///     r#"{"Messages":{},"Keys":{"<redacted 1>":3},"NumNodes":3}"#
/// );
/// assert!(!format!("{ring:?}").contains("HS5lJ"));
///
/// // Writing the keys themselves is explicit.
/// assert_eq!(serde_json::to_string(&ring.exposing_keys())?, body);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct KeyringResponse {
    /// Per-node messages, usually empty (node name → message).
    #[serde(rename = "Messages", default, deserialize_with = "null_as_default")]
    pub messages: BTreeMap<String, String>,
    /// The installed keys (base64) and how many nodes hold each.
    #[serde(rename = "Keys", default, deserialize_with = "null_as_default")]
    pub keys: BTreeMap<String, u64>,
    /// How many servers were asked and answered: those the gossip layer does not know to be
    /// down or gone. A failed server is not counted.
    #[serde(rename = "NumNodes", default)]
    pub num_nodes: u64,
}

impl fmt::Debug for KeyringResponse {
    /// The keys are shown as `<redacted>`, with their counts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Keys<'a>(&'a BTreeMap<String, u64>);
        impl fmt::Debug for Keys<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.values().map(|count| format!("<redacted>: {count}")))
                    .finish()
            }
        }
        f.debug_struct("KeyringResponse")
            .field("messages", &self.messages)
            .field("keys", &Keys(&self.keys))
            .field("num_nodes", &self.num_nodes)
            .finish()
    }
}

impl Serialize for KeyringResponse {
    /// The wire shape, with each key replaced by `<redacted N>` (N counts from 1 in key order).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        /// The counts of the keys under their labels, as a JSON object.
        struct Redacted<'a>(&'a BTreeMap<String, u64>);
        impl Serialize for Redacted<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map((1..).map(|n| format!("<redacted {n}>")).zip(self.0.values()))
            }
        }
        self.write(s, &Redacted(&self.keys))
    }
}

/// A [`KeyringResponse`] that serializes with its gossip keys, made by
/// [`KeyringResponse::exposing_keys`].
#[derive(Clone, Copy)]
pub struct ExposedKeyring<'a>(&'a KeyringResponse);

impl fmt::Debug for ExposedKeyring<'_> {
    /// As the keyring's: the keys are shown only by `Serialize`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ExposedKeyring").field(self.0).finish()
    }
}

impl Serialize for ExposedKeyring<'_> {
    /// The agent's answer, keys included.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.write(s, &self.0.keys)
    }
}

impl KeyringResponse {
    /// A view that serializes the answer as the agent sent it, gossip keys included: for output
    /// that is meant to hold them (`nomad operator gossip keyring list` prints them too).
    #[must_use]
    pub fn exposing_keys(&self) -> ExposedKeyring<'_> {
        ExposedKeyring(self)
    }

    /// Writes `{"Messages":…,"Keys":…,"NumNodes":…}` with `keys` as the `Keys` value.
    fn write<S: Serializer>(&self, s: S, keys: &impl Serialize) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("KeyringResponse", 3)?;
        out.serialize_field("Messages", &self.messages)?;
        out.serialize_field("Keys", keys)?;
        out.serialize_field("NumNodes", &self.num_nodes)?;
        out.end()
    }

    /// Keys that not every answering server holds yet (rotation in progress, or a server missed
    /// it). Servers that are down are not counted: see [`KeyringResponse::coverage`].
    pub fn partially_installed(&self) -> impl Iterator<Item = &str> {
        self.keys
            .iter()
            .filter(|(_, count)| **count < self.num_nodes)
            .map(|(key, _)| key.as_str())
    }

    /// How far `key` has spread, counted against `members` (the answer of
    /// [`ListMembers`](super::ListMembers), asked close in time): how many servers hold it, how
    /// many server members are alive, and how many are down. Nomad's servers of every region
    /// share one gossip pool, so both the keyring's counts and the member list cover every
    /// region. The answer names no server, so which ones lack the key cannot be told, only how
    /// many.
    ///
    /// ```
    /// use nomad_proto::agent::{ListKeys, ListMembers};
    /// use nomad_proto::Endpoint;
    ///
    /// let ok = |body: &str| http::Response::builder().status(200).body(body.as_bytes().to_vec());
    /// // Three servers, one of them down: the keyring counts the two that answered.
    /// let ring = ListKeys::new().parse_response(ok(r#"{"Keys":{"HS5lJ+XuTlYKWaeGYyG+/A==":2},"NumNodes":2}"#)?)?;
    /// let member = |name: &str, status: &str| format!(
    ///     r#"{{"Name":"{name}.global","Tags":{{"role":"nomad","region":"global"}},"Status":"{status}"}}"#);
    /// let members = ListMembers::new().parse_response(ok(&format!(
    ///     r#"{{"ServerName":"nomad-1","ServerRegion":"global","Members":[{},{},{}]}}"#,
    ///     member("nomad-1", "alive"), member("nomad-2", "alive"), member("nomad-3", "failed"),
    /// ))?)?;
    /// assert_eq!(ring.partially_installed().count(), 0); // every server that answered has it…
    /// let coverage = ring.coverage("HS5lJ+XuTlYKWaeGYyG+/A==", &members);
    /// assert_eq!(coverage.alive_missing(), 0);
    /// assert_eq!(coverage.down_servers, 1);
    /// assert!(!coverage.on_every_server()); // …but nomad-3 is down and unchecked
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn coverage(&self, key: &str, members: &ServerMembers) -> KeyCoverage {
        let servers = members.members.iter().filter(|m| m.is_server());
        let (mut alive, mut down) = (0, 0);
        for member in servers {
            match member.status {
                MemberStatus::Alive => alive += 1,
                MemberStatus::Failed => down += 1,
                _ => {}
            }
        }
        KeyCoverage {
            holders: self.keys.get(key).copied().unwrap_or(0),
            answered: self.num_nodes,
            alive_servers: alive,
            down_servers: down,
        }
    }
}

/// How far one gossip key has spread: the keyring's counts beside the member list's
/// ([`KeyringResponse::coverage`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KeyCoverage {
    /// Servers that reported holding the key (`Keys[key]`; 0 if it is not listed).
    pub holders: u64,
    /// Servers that answered the keyring call (`NumNodes`).
    pub answered: u64,
    /// Server members the member list shows `alive`.
    pub alive_servers: u64,
    /// Server members the member list shows `failed`: down, so neither asked nor counted.
    pub down_servers: u64,
}

impl KeyCoverage {
    /// How many alive servers lack the key, by counting (alive servers minus holders; never
    /// negative).
    pub fn alive_missing(&self) -> u64 {
        self.alive_servers.saturating_sub(self.holders)
    }

    /// True when no server member is down and every alive one holds the key.
    pub fn on_every_server(&self) -> bool {
        self.down_servers == 0 && self.alive_missing() == 0
    }
}

/// `GET /v1/agent/keyring/list`: the installed gossip keys and how many servers hold each.
///
/// ACL: `agent:write` (even for listing). Server agents only. Go: `Agent().ListKeys()`. The answer's counts leave out servers that are down: check
/// [`KeyringResponse::coverage`] before relying on a key being everywhere.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct ListKeys {
    /// Per-call overrides.
    pub options: CallOptions,
}

impl ListKeys {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new(
        "ListKeys",
        "GET",
        "/v1/agent/keyring/list",
        "agent:write",
        Serves::Server,
    );

    /// A keyring list request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Endpoint for ListKeys {
    type Output = KeyringResponse;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        Spec::get("/v1/agent/keyring/list", &self.options).build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<KeyringResponse, ResponseError> {
        parse_json_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

#[derive(Serialize)]
struct KeyBody<'a> {
    #[serde(rename = "Key")]
    key: &'a str,
}

/// Checks a gossip key before it is sent: standard base64 (with padding) of 16, 24 or 32 bytes.
/// The agent itself reports a bad key only as `N/M nodes reported failure`; the key is never
/// repeated in the error.
fn key_request(
    path: &'static str,
    key: &Secret,
    options: &CallOptions,
    config: &Config,
) -> Result<Request<Vec<u8>>, BuildError> {
    let key = key.expose();
    if key.is_empty() {
        return Err(BuildError::argument("key", "a gossip key is required"));
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(key).map_err(|_| {
        BuildError::argument(
            "key",
            "not standard base64 (generate one with `nomad operator gossip keyring generate`)",
        )
    })?;
    if !KEY_SIZES.contains(&raw.len()) {
        return Err(BuildError::argument(
            "key",
            format!("decodes to {} bytes; a gossip key is 16, 24 or 32 bytes", raw.len()),
        ));
    }
    Spec::put(path, options).json(&KeyBody { key })?.build(config)
}

macro_rules! key_operation {
    ($(#[$meta:meta])* $name:ident, $path:literal, $new_doc:literal) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        #[must_use = "an operation does nothing until it is sent"]
        pub struct $name {
            /// The key: standard base64 of 16, 24 or 32 bytes. Never shown by `Debug`.
            pub key: Secret,
            /// Per-call overrides.
            pub options: CallOptions,
        }

        impl $name {
            /// What this operation is on the wire and what the agent requires of it.
            pub const INFO: OperationInfo =
                OperationInfo::new(stringify!($name), "PUT", $path, "agent:write", Serves::Server);

            #[doc = $new_doc]
            pub fn new(key: impl Into<Secret>) -> Self {
                $name {
                    key: key.into(),
                    options: CallOptions::default(),
                }
            }
        }

        impl Endpoint for $name {
            type Output = KeyringResponse;
            fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
                key_request($path, &self.key, &self.options, config)
            }
            fn parse_response(&self, response: Response<Vec<u8>>) -> Result<KeyringResponse, ResponseError> {
                parse_json_at(At::op(&Self::INFO), response)
            }
            check_status_with_info!();
        }
    };
}

key_operation! {
    /// `PUT /v1/agent/keyring/install` with `{"Key":"<base64>"}`: adds a gossip key on every
    /// server (the primary key does not change).
    ///
    /// ACL: `agent:write`. Server agents only. The key is checked before sending (not empty,
    /// standard base64 of 16, 24 or 32 bytes). Go: `Agent().InstallKey(key)`.
    /// The answer's counts leave out servers that are down: check [`KeyringResponse::coverage`]
    /// before relying on a key being everywhere.
    ///
    /// ```
    /// use nomad_proto::agent::InstallKey;
    /// use nomad_proto::{BuildError, Config, Endpoint};
    ///
    /// let op = InstallKey::new("HS5lJ+XuTlYKWaeGYyG+/A==");
    /// let req = op.to_request(&Config::default())?;
    /// assert_eq!(req.method(), "PUT");
    /// assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/keyring/install");
    /// assert_eq!(req.body().as_slice(), br#"{"Key":"HS5lJ+XuTlYKWaeGYyG+/A=="}"#);
    /// assert!(!format!("{op:?}").contains("HS5lJ")); // a key is a secret
    ///
    /// let body = br#"{"Messages":{},"Keys":{"HS5lJ+XuTlYKWaeGYyG+/A==":3,"z3Vc0nN3ID9u5ZqUdfqVXQ==":3},"NumNodes":3}"#;
    /// let ring = op.parse_response(http::Response::builder().status(200).body(body.to_vec())?)?;
    /// assert_eq!(ring.keys.len(), 2);
    ///
    /// assert!(matches!(InstallKey::new("").to_request(&Config::default()), Err(BuildError::InvalidArgument { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    InstallKey, "/v1/agent/keyring/install", "Installs `key` (base64)."
}

key_operation! {
    /// `PUT /v1/agent/keyring/use` with `{"Key":"<base64>"}`: makes an installed key the primary
    /// key (the one used to encrypt).
    ///
    /// ACL: `agent:write`. Server agents only. A key that is not installed makes the servers
    /// fail (500 `N/M nodes reported failure`). Go: `Agent().UseKey(key)`.
    ///
    /// The answer's counts leave out servers that are down: check [`KeyringResponse::coverage`]
    /// before relying on a key being everywhere.
    UseKey, "/v1/agent/keyring/use", "Makes `key` (base64, already installed) the primary key."
}

key_operation! {
    /// `PUT /v1/agent/keyring/remove` with `{"Key":"<base64>"}`: removes a key from every
    /// server. The primary key cannot be removed (500 `N/M nodes reported failure`).
    ///
    /// ACL: `agent:write`. Server agents only. Go: `Agent().RemoveKey(key)`.
    ///
    /// The answer's counts leave out servers that are down: check [`KeyringResponse::coverage`]
    /// before relying on a key being everywhere.
    RemoveKey, "/v1/agent/keyring/remove", "Removes `key` (base64)."
}

call_options!(ListKeys, InstallKey, UseKey, RemoveKey);
