//! A cluster of test agents: several servers on `127.0.0.1`, `127.0.0.2`, … with one HTTP
//! port, sharing their gossip members, their keyring and their leader.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nomad_proto::agent::MemberStatus;

use super::{lock, serve_on, start_error, AgentState, Capability, Member, MonitorFeed, Role, TestAgent};
use crate::{Client, Error};

/// How many times [`TestClusterBuilder::start`] tries another port when one is taken on some
/// member's address.
const PORT_ATTEMPTS: usize = 20;

/// What the members of a cluster share: serf's view of the members and the keyring, raft's
/// leader.
struct Gossip {
    members: Vec<Member>,
    gossip_keys: Vec<String>,
    has_leader: bool,
    leader: String,
}

impl std::fmt::Debug for Gossip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gossip")
            .field("members", &self.members)
            .field("gossip_keys", &self.gossip_keys.len())
            .field("has_leader", &self.has_leader)
            .field("leader", &self.leader)
            .finish()
    }
}

impl Gossip {
    fn load_into(&self, state: &mut AgentState) {
        state.members.clone_from(&self.members);
        state.gossip_keys.clone_from(&self.gossip_keys);
        state.has_leader = self.has_leader;
        state.leader.clone_from(&self.leader);
    }

    fn store_from(&mut self, state: &AgentState) {
        self.members.clone_from(&state.members);
        self.gossip_keys.clone_from(&state.gossip_keys);
        self.has_leader = state.has_leader;
        self.leader.clone_from(&state.leader);
    }
}

/// A member agent's tie to the state its cluster shares.
pub(super) struct ClusterLink {
    gossip: Arc<Mutex<Gossip>>,
}

impl ClusterLink {
    /// Runs `f` on `state` (already locked) with the shared state brought in before and written
    /// back after.
    pub(super) fn with_state<R>(&self, state: &mut AgentState, f: impl FnOnce(&mut AgentState) -> R) -> R {
        let mut gossip = lock(&self.gossip);
        gossip.load_into(state);
        let result = f(state);
        gossip.store_from(state);
        result
    }
}

/// Configures and starts a [`TestCluster`].
pub struct TestClusterBuilder {
    servers: usize,
    leader: Option<usize>,
    down: Vec<usize>,
    slow: BTreeMap<usize, Duration>,
    region: String,
    datacenter: String,
    tokens: BTreeMap<String, Vec<Capability>>,
    gossip_keys: Option<Vec<String>>,
    monitor: MonitorFeed,
}

impl Default for TestClusterBuilder {
    fn default() -> Self {
        TestClusterBuilder {
            servers: 3,
            leader: Some(0),
            down: Vec::new(),
            slow: BTreeMap::new(),
            region: "global".into(),
            datacenter: "dc1".into(),
            tokens: BTreeMap::new(),
            gossip_keys: None,
            monitor: MonitorFeed::default(),
        }
    }
}

impl std::fmt::Debug for TestClusterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The tokens and gossip keys are secrets: only their count shows.
        f.debug_struct("TestClusterBuilder")
            .field("servers", &self.servers)
            .field("leader", &self.leader)
            .field("down", &self.down)
            .field("slow", &self.slow)
            .field("region", &self.region)
            .field("datacenter", &self.datacenter)
            .field("tokens", &self.tokens.len())
            .field("gossip_keys", &self.gossip_keys.as_ref().map(Vec::len))
            .field("monitor", &self.monitor)
            .finish()
    }
}

impl TestClusterBuilder {
    /// How many servers (default 3, at most 254): member `i` is `nomad-<i+1>` on
    /// `127.0.0.<i+1>`.
    #[must_use]
    pub fn servers(mut self, count: usize) -> Self {
        self.servers = count;
        self
    }

    /// Which member leads (default the first, index 0).
    #[must_use]
    pub fn leader(mut self, index: usize) -> Self {
        self.leader = Some(index);
        self
    }

    /// No member leads: every server's health is 500 `no leader`, `stats.nomad.leader_addr` is
    /// empty.
    #[must_use]
    pub fn no_leader(mut self) -> Self {
        self.leader = None;
        self
    }

    /// Member `index` is down: nothing answers at its address (connections are refused), and
    /// the others' `/v1/agent/members` say `failed`. The leader cannot be down.
    #[must_use]
    pub fn down(mut self, index: usize) -> Self {
        self.down.push(index);
        self
    }

    /// Member `index` answers every request `delay` after it arrived (longer than a tool's
    /// timeout, say); it is alive in gossip.
    #[must_use]
    pub fn slow(mut self, index: usize, delay: Duration) -> Self {
        self.slow.insert(index, delay);
        self
    }

    /// Region (default `global`): serf names are `nomad-<n>.<region>`.
    #[must_use]
    pub fn region(mut self, region: &str) -> Self {
        self.region = region.into();
        self
    }

    /// Datacenter (default `dc1`).
    #[must_use]
    pub fn datacenter(mut self, datacenter: &str) -> Self {
        self.datacenter = datacenter.into();
        self
    }

    /// Turns ACLs on, on every member, with a management token.
    #[must_use]
    pub fn acl(mut self, management_token: &str) -> Self {
        self.tokens
            .insert(management_token.into(), vec![Capability::Management]);
        self
    }

    /// Adds a token with some capabilities on every member (turns ACLs on).
    #[must_use]
    pub fn token(mut self, token: &str, capabilities: &[Capability]) -> Self {
        self.tokens.insert(token.into(), capabilities.to_vec());
        self
    }

    /// The installed gossip keys (base64), the primary first (default: one key).
    #[must_use]
    pub fn gossip_keys(mut self, keys: &[&str]) -> Self {
        self.gossip_keys = Some(keys.iter().map(|k| (*k).to_owned()).collect());
        self
    }

    /// What every member's log streams send (default [`MonitorFeed::default`]).
    #[must_use]
    pub fn monitor(mut self, feed: MonitorFeed) -> Self {
        self.monitor = feed;
        self
    }

    /// Checks the plan: every index names a member, the leader is up.
    fn check(&self) -> io::Result<()> {
        let invalid = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        let n = self.servers;
        if n == 0 || n > 254 {
            return invalid(format!("a test cluster has 1 to 254 servers, not {n}"));
        }
        let indexes = self.down.iter().chain(self.slow.keys()).chain(self.leader.iter());
        if let Some(i) = indexes.into_iter().find(|i| **i >= n) {
            return invalid(format!(
                "no member {i} in a cluster of {n} servers (indexes start at 0)"
            ));
        }
        if let Some(leader) = self.leader.filter(|l| self.down.contains(l)) {
            return invalid(format!("member {leader} cannot be both the leader and down"));
        }
        Ok(())
    }

    /// Starts the cluster: one agent per member that is up, all on the same port.
    ///
    /// # Errors
    ///
    /// [`Error::Setup`] with [`SetupError::TestAgentStart`](crate::SetupError::TestAgentStart)
    /// when the plan names a member that does not exist or a leader that is down, or when the
    /// members cannot listen: binding `127.0.0.2` and up needs Linux (other systems have only
    /// `127.0.0.1` on their loopback interface unless aliases are added).
    pub fn start(self) -> Result<TestCluster, Error> {
        self.check().map_err(start_error)?;
        let n = self.servers;
        let mut attempt = 0;
        let (sockets, port, hold) = loop {
            attempt += 1;
            match bind_members(n, &self.down) {
                Ok(bound) => break bound,
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && attempt < PORT_ATTEMPTS => continue,
                Err(e) => return Err(start_error(e)),
            }
        };
        let name = |i: usize| format!("nomad-{}", i + 1);
        let members: Vec<Member> = (0..n)
            .map(|i| {
                let status = if self.down.contains(&i) {
                    MemberStatus::Failed
                } else {
                    MemberStatus::Alive
                };
                Member::new(name(i), member_ip(i)).with_status(status)
            })
            .collect();
        let gossip = Arc::new(Mutex::new(Gossip {
            members,
            gossip_keys: self
                .gossip_keys
                .clone()
                .unwrap_or_else(|| AgentState::default().gossip_keys),
            has_leader: self.leader.is_some(),
            leader: name(self.leader.unwrap_or(0)),
        }));
        let rpc_addrs: Vec<String> = (0..n)
            .map(|i| SocketAddr::new(member_ip(i), super::state::RPC_PORT).to_string())
            .collect();
        let mut handles = Vec::with_capacity(n);
        for (i, socket) in sockets.into_iter().enumerate() {
            let agent = match socket {
                None => None,
                Some(listener) => {
                    let (server, addr) = serve_on(listener).map_err(start_error)?;
                    let mut state = AgentState {
                        role: Role::Server,
                        node_name: name(i),
                        region: self.region.clone(),
                        datacenter: self.datacenter.clone(),
                        advertise_addr: member_ip(i),
                        http_port: port,
                        tokens: self.tokens.clone(),
                        servers: rpc_addrs.clone(),
                        bootstrap_expect: u32::try_from(n).unwrap_or(u32::MAX),
                        monitor: self.monitor.clone(),
                        response_delay: self.slow.get(&i).copied(),
                        ..AgentState::default()
                    };
                    lock(&gossip).load_into(&mut state);
                    let link = ClusterLink {
                        gossip: Arc::clone(&gossip),
                    };
                    Some(TestAgent::serve(
                        server,
                        format!("http://{addr}"),
                        Some(addr),
                        state,
                        false,
                        Some(link),
                    ))
                }
            };
            handles.push(ClusterMember {
                index: i,
                node_name: name(i),
                addr: SocketAddr::new(member_ip(i), port),
                agent,
            });
        }
        Ok(TestCluster {
            members: handles,
            gossip,
            port,
            _hold: hold,
        })
    }
}

/// Member `i`'s address: `127.0.0.<i+1>`.
fn member_ip(i: usize) -> IpAddr {
    let last = u8::try_from(i + 1).unwrap_or(u8::MAX);
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// A port on `127.0.0.1` that refuses connections while this lives: the local end of a
/// connection that never listens (the kernel answers a connection attempt with a reset, and the
/// port stays taken). It stands for a first member that is down, so that no other cluster picks
/// the same port.
#[derive(Debug)]
struct PortHold {
    _ends: (TcpStream, TcpStream),
}

impl PortHold {
    fn new() -> io::Result<(PortHold, u16)> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let near = TcpStream::connect(listener.local_addr()?)?;
        let (far, _) = listener.accept()?;
        let port = near.local_addr()?.port();
        Ok((PortHold { _ends: (near, far) }, port))
    }
}

/// Binds every member that is up on one port: the first member's address gets a free port,
/// the others the same one. `None` for a member that is down.
type Bound = (Vec<Option<TcpListener>>, u16, Option<PortHold>);

fn bind_members(n: usize, down: &[usize]) -> io::Result<Bound> {
    let (first, port, hold) = if down.contains(&0) {
        let (hold, port) = PortHold::new()?;
        (None, port, Some(hold))
    } else {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        (Some(listener), port, None)
    };
    let mut sockets = vec![first];
    for i in 1..n {
        sockets.push(if down.contains(&i) {
            None
        } else {
            Some(TcpListener::bind(SocketAddr::new(member_ip(i), port))?)
        });
    }
    Ok((sockets, port, hold))
}

/// Several Nomad servers on loopback, for tools that talk to every member of a cluster (a
/// health sweep, a gossip key rotation checked on each server).
///
/// Member `i` (from 0) is the server `nomad-<i+1>`, an HTTP agent on `127.0.0.<i+1>`; all of them
/// listen on the same port ([`TestCluster::port`]), because a gossip member carries only its IP
/// and a tool builds its HTTP address from the member's `Addr` and the port of `NOMAD_ADDR`.
/// (Binding `127.0.0.2` and up works on Linux.)
///
/// Each member answers like a [`TestAgent`] running a server, with its own node name, address,
/// health and `/v1/agent/self`, and shares with the others what serf and raft share:
///
/// - `/v1/agent/members` lists every member with its own `Addr`, serf name `nomad-<n>.<region>`
///   and tags; a member that is down is `failed`, its address refuses connections.
/// - The leader: `stats.nomad.leader` is `true` on it, `leader_addr` names its RPC address on
///   all; without a leader every member's health is 500 `no leader`.
/// - The keyring: a key installed through one member is reported by every alive member, and
///   `NumNodes` counts the alive members only, as serf does. (A member that is down reports the
///   same keys when it comes back: the test cluster does not model a stale keyring.)
///
/// A change made through one member (a join, a force-leave, a key, `has_leader` in
/// [`TestAgent::with_state`]) is seen by all.
///
/// ```
/// use std::time::Duration;
/// use nomad_blocking::proto::agent::MemberStatus;
/// use nomad_blocking::test_agent::TestCluster;
/// use nomad_blocking::Client;
///
/// let cluster = TestCluster::builder().servers(3).leader(0).down(2).start()?;
/// // A health sweep: ask one member for the members, then each member for its health.
/// let seed = cluster.member(0).unwrap().client()?;
/// for member in seed.agent().members()?.members {
///     let ip = member.addr.expect("a server has an address");
///     let client = Client::builder()
///         .address(format!("http://{ip}:{}", cluster.port()))
///         .call_timeout(Some(Duration::from_secs(2)))
///         .build()?;
///     match client.agent().health() {
///         Ok(health) => assert!(health.is_healthy(), "{}", member.name),
///         Err(e) => {
///             assert_eq!(member.status, MemberStatus::Failed);
///             assert!(e.is_connect(), "{e}");
///         }
///     }
/// }
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
#[derive(Debug)]
pub struct TestCluster {
    members: Vec<ClusterMember>,
    gossip: Arc<Mutex<Gossip>>,
    port: u16,
    _hold: Option<PortHold>,
}

impl TestCluster {
    /// A builder with the defaults: 3 servers, the first one the leader, none down or slow, ACLs
    /// off, region `global`, datacenter `dc1`.
    #[must_use]
    pub fn builder() -> TestClusterBuilder {
        TestClusterBuilder::default()
    }

    /// Starts a cluster with the defaults.
    ///
    /// # Errors
    ///
    /// As [`TestClusterBuilder::start`].
    pub fn start() -> Result<TestCluster, Error> {
        Self::builder().start()
    }

    /// The HTTP port every member listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many members the cluster has, up or down.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the cluster has no members (never: a cluster has at least one).
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Member `index` (from 0), up or down; `None` past the last one.
    pub fn member(&self, index: usize) -> Option<&ClusterMember> {
        self.members.get(index)
    }

    /// Every member, up or down, in order.
    pub fn members(&self) -> &[ClusterMember] {
        &self.members
    }

    /// The leader, if the cluster has one.
    pub fn leader(&self) -> Option<&ClusterMember> {
        let gossip = lock(&self.gossip);
        if !gossip.has_leader {
            return None;
        }
        self.members.iter().find(|m| m.node_name == gossip.leader)
    }

    /// Makes member `index` the leader, or leaves the cluster without one (`None`). Returns
    /// false, and changes nothing, when `index` is not a member that is up.
    pub fn set_leader(&self, index: Option<usize>) -> bool {
        let mut gossip = lock(&self.gossip);
        match index {
            None => gossip.has_leader = false,
            Some(i) => match self.members.get(i) {
                Some(member) if member.agent.is_some() => {
                    gossip.has_leader = true;
                    gossip.leader.clone_from(&member.node_name);
                }
                _ => return false,
            },
        }
        true
    }

    /// The gossip members as the cluster's members see them now.
    pub fn gossip_members(&self) -> Vec<Member> {
        lock(&self.gossip).members.clone()
    }

    /// The installed gossip keys (base64), the primary first.
    pub fn gossip_keys(&self) -> Vec<String> {
        lock(&self.gossip).gossip_keys.clone()
    }
}

/// One member of a [`TestCluster`]: its address, and its agent when it is up.
#[derive(Debug)]
pub struct ClusterMember {
    index: usize,
    node_name: String,
    addr: SocketAddr,
    agent: Option<TestAgent>,
}

impl ClusterMember {
    /// Its index in the cluster, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Its node name, e.g. `nomad-2` (its serf name is `nomad-2.<region>`).
    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// Its IP address, `127.0.0.<index+1>`: the `Addr` other members list for it.
    pub fn ip(&self) -> IpAddr {
        self.addr.ip()
    }

    /// Its HTTP address, `127.0.0.<index+1>:<port>`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its HTTP URL, `http://127.0.0.<index+1>:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Whether it is down (nothing listens at its address).
    pub fn is_down(&self) -> bool {
        self.agent.is_none()
    }

    /// Its agent (to read its requests or change its state); `None` when it is down.
    pub fn agent(&self) -> Option<&TestAgent> {
        self.agent.as_ref()
    }

    /// A client for it without a token (for a member that is down too: its calls fail to
    /// connect).
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`](crate::ClientBuilder::build).
    pub fn client(&self) -> Result<Client, Error> {
        Client::builder().address(self.url()).build()
    }

    /// A client for it with `token`.
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`](crate::ClientBuilder::build).
    pub fn client_with_token(&self, token: &str) -> Result<Client, Error> {
        Client::builder().address(self.url()).token(token).build()
    }
}
