//! The state a test agent answers from: [`AgentState`], its gossip [`Member`]s and the
//! [`Capability`]s of its ACL tokens.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use nomad_proto::agent::MemberStatus;

use super::{MonitorFeed, Role};

/// The serf port every member of the test cluster gossips on (Nomad's default).
pub(crate) const SERF_PORT: u16 = 4648;
/// The RPC port every server of the test cluster listens on (Nomad's default).
pub(crate) const RPC_PORT: u16 = 4647;

/// A gossip (serf) member as the test agent knows it: what `/v1/agent/members` lists and what
/// `/v1/agent/self` reports as the agent's own `member`.
///
/// The test agent fills in the rest of the member's answer the way a Nomad 2.0.x server does
/// (Nomad `nomad/server.go`, `setupSerf`): the serf name `<node>.<region>`, serf port 4648, the
/// protocol versions, and the tags `role` (`nomad`), `region`, `dc`, `build`, `revision`, `vsn`,
/// `raft_vsn`, `id`, `rpc_addr` (the member's address), `port` (the RPC port, `4647`) and
/// `expect` (the servers' `bootstrap_expect`; `bootstrap=1` instead when it is 1). [`Member::tags`]
/// adds to or replaces those tags.
///
/// ```
/// use nomad_blocking::proto::agent::MemberStatus;
/// use nomad_blocking::test_agent::{Member, TestAgent};
///
/// let agent = TestAgent::builder()
///     .members([
///         Member::new("nomad-1", [10, 0, 0, 1]),
///         Member::new("nomad-2", [10, 0, 0, 2]).with_status(MemberStatus::Failed),
///         Member::new("nomad-3", [10, 0, 0, 3]).with_tag("build", "1.10.5"),
///     ])
///     .start()?;
/// let members = agent.client()?.agent().members()?.members;
/// assert_eq!(members[1].status, MemberStatus::Failed);
/// assert_eq!(members[2].build(), Some("1.10.5"));
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Member {
    /// The node name without the region, e.g. `nomad-2` (its serf name is `nomad-2.global`).
    pub node: String,
    /// The gossip address: the member's `Addr`, and its `rpc_addr` tag.
    pub addr: IpAddr,
    /// The serf status: `alive`, `leaving`, `left` (after a force-leave) or `failed` (down).
    pub status: MemberStatus,
    /// Tags added to, or replacing, the ones the test agent derives (see [`Member`]); e.g.
    /// `build` for a member that runs another Nomad version, `nonvoter=1`.
    pub tags: BTreeMap<String, String>,
}

impl Member {
    /// An alive member named `node` (without the region) gossiping at `addr`.
    #[must_use]
    pub fn new(node: impl Into<String>, addr: impl Into<IpAddr>) -> Member {
        Member {
            node: node.into(),
            addr: addr.into(),
            status: MemberStatus::Alive,
            tags: BTreeMap::new(),
        }
    }

    /// The same member with another serf status.
    #[must_use]
    pub fn with_status(mut self, status: MemberStatus) -> Member {
        self.status = status;
        self
    }

    /// The same member with a tag added or replaced.
    #[must_use]
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Member {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Whether the member is alive (it answers serf queries, such as the keyring's).
    pub fn is_alive(&self) -> bool {
        self.status == MemberStatus::Alive
    }
}

/// Three alive servers, `nomad-1` to `nomad-3` at `10.0.0.1` to `10.0.0.3`.
fn default_members() -> Vec<Member> {
    (1..=3)
        .map(|i| Member::new(format!("nomad-{i}"), Ipv4Addr::new(10, 0, 0, i)))
        .collect()
}

/// An ACL capability a test token can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capability {
    /// Everything.
    Management,
    /// `agent:read`.
    AgentRead,
    /// `agent:write` (implies `agent:read`).
    AgentWrite,
    /// `node:read`.
    NodeRead,
}

/// The state a test agent answers from, and that its endpoints change (a join adds a member, a
/// force-leave marks one `left`, a reload counts, the keyring endpoints change the keys).
///
/// Read or change it while the agent runs with [`TestAgent::with_state`](super::TestAgent::with_state),
/// or start an agent from one with [`TestAgentBuilder::state`](super::TestAgentBuilder::state).
/// [`AgentState::default`] is the state of [`TestAgent::start`](super::TestAgent::start): a
/// fictional agent `nomad-1` at `10.0.0.1` running both roles, one of three servers and their
/// leader, ACLs off.
///
/// In a [`TestCluster`](super::TestCluster) the members share what gossip and raft share:
/// `members`, `gossip_keys`, `has_leader` and `leader` are the same on every member, and a change
/// on one is seen by all.
///
/// Its `Debug` hides the ACL tokens (only their capabilities show) and the gossip keys (only
/// their count shows).
#[derive(Clone)]
#[non_exhaustive]
pub struct AgentState {
    /// The agent's role (default: both).
    pub role: Role,
    /// Node name (default `nomad-1`); the agent's own entry in `members` has this name.
    pub node_name: String,
    /// Region (default `global`); serf names are `<node>.<region>`.
    pub region: String,
    /// Datacenter (default `dc1`).
    pub datacenter: String,
    /// The address the agent advertises (`AdvertiseAddrs` in `/v1/agent/self`; default
    /// `10.0.0.1`). Its own gossip member, when `members` has none named `node_name`, is here.
    pub advertise_addr: IpAddr,
    /// The HTTP port the agent reports (`Ports.HTTP` and `AdvertiseAddrs.HTTP`; default 4646,
    /// a cluster member's real port).
    pub http_port: u16,
    /// Tokens and their capabilities; empty (the default) means ACLs are off.
    pub tokens: BTreeMap<String, Vec<Capability>>,
    /// Servers a client agent knows (`/v1/agent/servers`; default three); empty makes a
    /// client unhealthy.
    pub servers: Vec<String>,
    /// The gossip members of the region (default: three alive servers, `nomad-1` to `nomad-3`
    /// at `10.0.0.1` to `10.0.0.3`).
    pub members: Vec<Member>,
    /// Addresses a join succeeds for, IP addresses with or without the serf port (default
    /// `10.0.0.4` and `10.0.0.5`); every other address fails as an unreachable one does.
    pub joinable: Vec<String>,
    /// Whether the cluster has a leader (default yes); without one a server is unhealthy (500).
    pub has_leader: bool,
    /// The node name of the leader among `members` while `has_leader` (default `nomad-1`):
    /// `/v1/agent/self` reports `stats.nomad.leader` (`true` on the leader itself) and
    /// `leader_addr` (its RPC address) from it.
    pub leader: String,
    /// The servers' `bootstrap_expect` (default 3): the `expect` tag of the members.
    pub bootstrap_expect: u32,
    /// Whether `enable_debug` is on (host data and pprof with ACLs off; default off).
    pub enable_debug: bool,
    /// What `/v1/agent/monitor` and `/v1/agent/monitor/export` send (default
    /// [`MonitorFeed::default`]: 200 lines, as fast as the client reads, then the end).
    pub monitor: MonitorFeed,
    /// `PUT /v1/agent/reload` fails with this text (500) when set.
    pub reload_error: Option<String>,
    /// How many reloads succeeded.
    pub reloads: u32,
    /// Scheduler workers the server runs (`/v1/agent/schedulers/config`; default 8).
    pub num_schedulers: u32,
    /// Schedulers the workers run (default: every built-in one and `_core`).
    pub enabled_schedulers: Vec<String>,
    /// The server's CPU count: the upper bound of `num_schedulers` (default 8).
    pub cpu_count: u32,
    /// Installed gossip keys (base64), the primary first (default: one key).
    pub gossip_keys: Vec<String>,
    /// Size in bytes of binary pprof profiles (default 4 KiB).
    pub profile_size: usize,
    /// Every answer is sent this long after the request arrived (default none): a slow agent,
    /// for a client's timeouts. Other requests are answered meanwhile.
    pub response_delay: Option<Duration>,
}

impl Default for AgentState {
    fn default() -> Self {
        AgentState {
            role: Role::Both,
            node_name: "nomad-1".into(),
            region: "global".into(),
            datacenter: "dc1".into(),
            advertise_addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            http_port: 4646,
            tokens: BTreeMap::new(),
            servers: vec!["10.0.0.1:4647".into(), "10.0.0.2:4647".into(), "10.0.0.3:4647".into()],
            members: default_members(),
            joinable: vec![
                "10.0.0.4".into(),
                "10.0.0.4:4648".into(),
                "10.0.0.5".into(),
                "10.0.0.5:4648".into(),
            ],
            has_leader: true,
            leader: "nomad-1".into(),
            bootstrap_expect: 3,
            enable_debug: false,
            monitor: MonitorFeed::default(),
            reload_error: None,
            reloads: 0,
            num_schedulers: 8,
            enabled_schedulers: ["service", "batch", "system", "sysbatch", "_core"]
                .map(String::from)
                .to_vec(),
            cpu_count: 8,
            gossip_keys: vec!["HS5lJ+XuTlYKWaeGYyG+/A==".into()],
            profile_size: 4096,
            response_delay: None,
        }
    }
}

impl std::fmt::Debug for AgentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured, so that a field added later is not forgotten here.
        let AgentState {
            role,
            node_name,
            region,
            datacenter,
            advertise_addr,
            http_port,
            tokens,
            servers,
            members,
            joinable,
            has_leader,
            leader,
            bootstrap_expect,
            enable_debug,
            monitor,
            reload_error,
            reloads,
            num_schedulers,
            enabled_schedulers,
            cpu_count,
            gossip_keys,
            profile_size,
            response_delay,
        } = self;
        let token_capabilities: Vec<&Vec<Capability>> = tokens.values().collect();
        f.debug_struct("AgentState")
            .field("role", role)
            .field("node_name", node_name)
            .field("region", region)
            .field("datacenter", datacenter)
            .field("advertise_addr", advertise_addr)
            .field("http_port", http_port)
            .field("tokens", &token_capabilities)
            .field("servers", servers)
            .field("members", members)
            .field("joinable", joinable)
            .field("has_leader", has_leader)
            .field("leader", leader)
            .field("bootstrap_expect", bootstrap_expect)
            .field("enable_debug", enable_debug)
            .field("monitor", monitor)
            .field("reload_error", reload_error)
            .field("reloads", reloads)
            .field("num_schedulers", num_schedulers)
            .field("enabled_schedulers", enabled_schedulers)
            .field("cpu_count", cpu_count)
            .field("gossip_keys", &gossip_keys.len())
            .field("profile_size", profile_size)
            .field("response_delay", response_delay)
            .finish()
    }
}

impl AgentState {
    /// This agent's serf name, e.g. `nomad-1.global`.
    pub fn serf_name(&self) -> String {
        format!("{}.{}", self.node_name, self.region)
    }

    /// This agent's own gossip member: the entry of `members` named `node_name`, or an alive
    /// member at `advertise_addr`.
    pub fn own_member(&self) -> Member {
        self.members
            .iter()
            .find(|m| m.node == self.node_name)
            .cloned()
            .unwrap_or_else(|| Member::new(self.node_name.clone(), self.advertise_addr))
    }

    /// Whether this agent is the leader (it runs a server, the cluster has a leader, and the
    /// leader is this node).
    pub fn is_leader(&self) -> bool {
        self.role.server() && self.has_leader && self.leader == self.node_name
    }

    /// The leader's RPC address as the agent reports it (`stats.nomad.leader_addr` of
    /// `/v1/agent/self`, e.g. `10.0.0.1:4647`); `None` without a leader.
    pub fn leader_addr(&self) -> Option<String> {
        if !self.has_leader {
            return None;
        }
        let ip = match self.members.iter().find(|m| m.node == self.leader) {
            Some(m) => m.addr,
            None if self.leader == self.node_name => self.advertise_addr,
            None => return None,
        };
        Some(std::net::SocketAddr::new(ip, RPC_PORT).to_string())
    }

    /// How many servers answer a serf query such as the keyring's: the alive gossip members
    /// (serf's `NumNodes`).
    pub fn alive_members(&self) -> usize {
        self.members.iter().filter(|m| m.is_alive()).count()
    }
}
