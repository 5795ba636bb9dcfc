//! A loopback Nomad test agent: a small HTTP server (tiny_http) that answers the agent API the
//! way a real Nomad 2.0 agent does — methods (405 `Invalid method`), roles (501 `Invalid method`,
//! 400 `Server only endpoint`), ACLs (403 `Permission denied`), the unhealthy health 500 with a
//! JSON body and a `text/plain` content type, join's warning, empty success bodies, plain-text
//! errors, gzip when asked for, log streams framed as the agent frames them, JSON objects with
//! their keys in Go's field order.
//!
//! Enabled by the `test-agent` cargo feature, so you can test your own scripts without a Nomad:
//!
//! ```
//! use nomad_blocking::test_agent::{Role, TestAgent};
//!
//! let agent = TestAgent::builder().role(Role::Server).acl("root-token").start()?;
//! let client = agent.client_with_token("root-token")?;
//! assert_eq!(client.agent().members()?.members.len(), 3);
//!
//! let anonymous = agent.client()?;
//! assert!(anonymous.agent().members().unwrap_err().is_permission_denied());
//! # Ok::<(), nomad_blocking::Error>(())
//! ```
//!
//! Starting an agent fails with the library's own [`Error`] ([`SetupError::TestAgentStart`]),
//! so `?` works in a function that returns it.
//!
//! # What it answers from
//!
//! An agent answers from its [`AgentState`]: role, names, tokens, gossip [`Member`]s, leader,
//! keys, the [`MonitorFeed`] its log streams send, a delay for every answer. Build one with the
//! [`TestAgentBuilder`] (or from an `AgentState` of your own with [`TestAgentBuilder::state`]),
//! and change it while the agent runs with [`TestAgent::with_state`]; every request is recorded
//! ([`TestAgent::requests`]).
//!
//! ```
//! use std::time::Duration;
//! use nomad_blocking::test_agent::{Member, MemberStatus, MonitorFeed, TestAgent};
//!
//! let agent = TestAgent::builder()
//!     .members([
//!         Member::new("nomad-1", [10, 0, 0, 1]),
//!         Member::new("nomad-2", [10, 0, 0, 2]).with_status(MemberStatus::Failed),
//!     ])
//!     // A log that keeps coming (a line every 100 ms) until the client stops reading.
//!     .monitor(MonitorFeed::endless())
//!     .start()?;
//! agent.with_state(|state| state.response_delay = Some(Duration::from_millis(50)));
//! let failed = agent.client()?.agent().members()?.members[1].status.clone();
//! assert_eq!(failed, MemberStatus::Failed);
//! # Ok::<(), nomad_blocking::Error>(())
//! ```
//!
//! # A cluster
//!
//! A [`TestCluster`] runs several servers, member `i` on `127.0.0.<i+1>`, all on one HTTP port
//! (binding `127.0.0.2` and up works on Linux). They share the gossip members, the keyring and
//! the leader; a member can be down (its address refuses connections, the others list it as
//! `failed`) or slow (it answers late, for a tool's timeouts):
//!
//! ```
//! use std::time::Duration;
//! use nomad_blocking::test_agent::TestCluster;
//! use nomad_blocking::Client;
//!
//! let cluster = TestCluster::builder()
//!     .servers(3)
//!     .leader(0)
//!     .slow(1, Duration::from_secs(5))
//!     .down(2)
//!     .start()?;
//! let leader = cluster.leader().expect("a leader");
//! let info = leader.client()?.agent().self_info()?;
//! assert_eq!(info.stat("nomad", "leader"), Some("true"));
//!
//! // Rotate in a key through the leader: every alive member reports it.
//! let key = "dGVzdC1jbHVzdGVyLWtleQ==";
//! let keys = leader.client()?.agent().install_key(key)?;
//! assert_eq!(keys.num_nodes, 2); // the member that is down does not answer
//!
//! // The slow member trips a short call timeout; the one that is down refuses.
//! let impatient = |url: String| {
//!     Client::builder().address(url).call_timeout(Some(Duration::from_millis(200))).build()
//! };
//! assert!(impatient(cluster.member(1).unwrap().url())?.agent().health().unwrap_err().is_timeout());
//! assert!(impatient(cluster.member(2).unwrap().url())?.agent().health().unwrap_err().is_connect());
//! # Ok::<(), nomad_blocking::Error>(())
//! ```

// This file holds the public API of one agent (and the listener helpers `cluster.rs` shares);
// `cluster.rs` that of a cluster; `state.rs` the state an agent answers from; `feed.rs` what its
// log streams send. `server.rs`: the HTTP plumbing. `handlers/`: what each endpoint family
// answers, its handlers and its JSON fixtures, one file per family as in `nomad_proto::agent`.
// The vocabulary the handlers share: `reply.rs` (answers), `json.rs` (JSON in Go's field order),
// `acl.rs` (a request's token and the ACL checks), `target.rs` (forwarding to another agent).
// `tls.rs`: the HTTPS front.
mod acl;
mod cluster;
mod feed;
mod handlers;
mod json;
mod reply;
mod server;
mod state;
mod target;
#[cfg(feature = "tls")]
mod tls;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{Client, Error, SetupError};
use cluster::ClusterLink;
use server::Shared;

pub use cluster::{ClusterMember, TestCluster, TestClusterBuilder};
pub use feed::{log_line, MonitorFeed};
pub use nomad_proto::agent::MemberStatus;
pub use state::{AgentState, Capability, Member};
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use tls::TlsServerConfig;

/// The error of a test agent that cannot start.
fn start_error(source: std::io::Error) -> Error {
    Error::Setup(SetupError::TestAgentStart { source })
}

/// A plain HTTP listener on `127.0.0.1` with an ephemeral port.
fn bind_loopback() -> std::io::Result<(tiny_http::Server, SocketAddr)> {
    serve_on(std::net::TcpListener::bind("127.0.0.1:0")?)
}

/// A plain HTTP server on a listener already bound.
fn serve_on(listener: std::net::TcpListener) -> std::io::Result<(tiny_http::Server, SocketAddr)> {
    let addr = listener.local_addr()?;
    let server = tiny_http::Server::from_listener(listener, None).map_err(std::io::Error::other)?;
    Ok((server, addr))
}

/// Locks `m`, also after a thread panicked holding it: the agent's state stays readable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Which parts an agent runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A server-only agent.
    Server,
    /// A client-only agent.
    Client,
    /// A dev-mode style agent running both.
    Both,
}

impl Role {
    /// Runs a server.
    pub fn server(self) -> bool {
        matches!(self, Role::Server | Role::Both)
    }
    /// Runs a client.
    pub fn client(self) -> bool {
        matches!(self, Role::Client | Role::Both)
    }
}

/// A request as the test agent received it.
///
/// Its `Debug` hides what may be secret: the values of `X-Nomad-Token` and `Authorization`, and
/// the body (a keyring request carries a gossip key), shown by its length only. The fields hold
/// everything as received.
#[derive(Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The path without the query, e.g. `/v1/agent/join`.
    pub path: String,
    /// The decoded query pairs, in order (repeated names repeat).
    pub query: Vec<(String, String)>,
    /// The raw query string.
    pub raw_query: String,
    /// Headers in arrival order (names lowercased).
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
}

/// What `Debug` shows in place of a secret.
pub(crate) struct Redacted(pub(crate) &'static str);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &dyn std::fmt::Debug)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown: &dyn std::fmt::Debug = match name.as_str() {
                    "x-nomad-token" | "authorization" => &Redacted("<redacted>"),
                    _ => value,
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl RecordedRequest {
    /// All values of a header (names are case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_all(name).into_iter().next()
    }
    /// All values of a query parameter.
    pub fn query_all(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query_all(name).into_iter().next()
    }
    /// The decoded `Authorization: Basic` credentials, split on the first `:` as a server
    /// does: `(user, password)`. `None` without basic auth or when the header does not decode.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

/// Configures and starts a [`TestAgent`].
#[derive(Debug, Default)]
pub struct TestAgentBuilder {
    state: AgentState,
    require_token: bool,
}

impl TestAgentBuilder {
    /// The agent's role (default: both).
    #[must_use]
    pub fn role(mut self, role: Role) -> Self {
        self.state.role = role;
        self
    }
    /// Turns ACLs on with a management token.
    #[must_use]
    pub fn acl(mut self, management_token: &str) -> Self {
        self.state
            .tokens
            .insert(management_token.into(), vec![Capability::Management]);
        self
    }
    /// Adds a token with some capabilities (turns ACLs on).
    #[must_use]
    pub fn token(mut self, token: &str, capabilities: &[Capability]) -> Self {
        self.state.tokens.insert(token.into(), capabilities.to_vec());
        self
    }
    /// Node name (default `nomad-1`).
    #[must_use]
    pub fn node_name(mut self, name: &str) -> Self {
        self.state.node_name = name.into();
        self
    }
    /// Region (default `global`); the members' serf names follow it (`nomad-1.<region>`).
    #[must_use]
    pub fn region(mut self, region: &str) -> Self {
        self.state.region = region.into();
        self
    }
    /// Datacenter (default `dc1`).
    #[must_use]
    pub fn datacenter(mut self, datacenter: &str) -> Self {
        self.state.datacenter = datacenter.into();
        self
    }
    /// Servers a client agent knows (default three); empty makes the client unhealthy.
    #[must_use]
    pub fn servers(mut self, servers: &[&str]) -> Self {
        self.state.servers = servers.iter().map(|s| s.to_string()).collect();
        self
    }
    /// The gossip members of the region (default: three alive servers `nomad-1` to `nomad-3`
    /// at `10.0.0.1` to `10.0.0.3`). The agent's own member is the one named like the agent.
    #[must_use]
    pub fn members(mut self, members: impl IntoIterator<Item = Member>) -> Self {
        self.state.members = members.into_iter().collect();
        self
    }
    /// Whether the server has a leader (default yes); `false` makes the server unhealthy.
    #[must_use]
    pub fn leader(mut self, has_leader: bool) -> Self {
        self.state.has_leader = has_leader;
        self
    }
    /// What the log streams send (line count, pace, linger, dropped lines, a trailing error).
    #[must_use]
    pub fn monitor(mut self, feed: MonitorFeed) -> Self {
        self.state.monitor = feed;
        self
    }
    /// Turns `enable_debug` on.
    #[must_use]
    pub fn enable_debug(mut self, on: bool) -> Self {
        self.state.enable_debug = on;
        self
    }
    /// Size of binary pprof profiles (default 4 KiB); several MiB exercise streaming.
    #[must_use]
    pub fn profile_size(mut self, bytes: usize) -> Self {
        self.state.profile_size = bytes;
        self
    }
    /// Answers every request `delay` after it arrived: a slow agent (for timeouts). Other
    /// requests are answered meanwhile.
    #[must_use]
    pub fn response_delay(mut self, delay: Duration) -> Self {
        self.state.response_delay = Some(delay);
        self
    }
    /// Starts from `state` instead of [`AgentState::default`] (replacing what the other
    /// builder methods set before).
    #[must_use]
    pub fn state(mut self, state: AgentState) -> Self {
        self.state = state;
        self
    }

    /// Answers `401 Unauthorized` (plain text) to every request that carries no token
    /// (`X-Nomad-Token` or `Authorization: Bearer`), as the Task API socket does; a token the
    /// agent does not know still gets `403`. Combine with [`TestAgentBuilder::acl`].
    #[must_use]
    pub fn require_token(mut self) -> Self {
        self.require_token = true;
        self
    }

    /// Starts the agent on `127.0.0.1` with an ephemeral port.
    ///
    /// # Errors
    ///
    /// [`Error::Setup`] with [`SetupError::TestAgentStart`] when it cannot listen.
    pub fn start(self) -> Result<TestAgent, Error> {
        let (server, addr) = bind_loopback().map_err(start_error)?;
        Ok(TestAgent::serve(
            server,
            format!("http://{addr}"),
            Some(addr),
            self.state,
            self.require_token,
            None,
        ))
    }

    /// Starts the agent on `127.0.0.1` with an ephemeral port, speaking HTTPS with `tls` (and
    /// requiring a client certificate if `tls` says so). The URL is `https://127.0.0.1:PORT`:
    /// give the client the CA (and, for certificates that do not name `127.0.0.1`, the TLS
    /// server name) yourself. Requests are recorded as over plain HTTP.
    ///
    /// Needs nomad-blocking's `tls` feature (on by default).
    ///
    /// # Errors
    ///
    /// [`Error::Setup`] with [`SetupError::TestAgentStart`] when it cannot listen or `tls`
    /// does not hold a usable certificate and key.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn start_tls(self, tls: TlsServerConfig) -> Result<TestAgent, Error> {
        let (server, backend) = bind_loopback().map_err(start_error)?;
        let front = tls::TlsFront::start(&tls, backend).map_err(start_error)?;
        let addr = front.addr();
        let mut agent = TestAgent::serve(
            server,
            format!("https://{addr}"),
            Some(addr),
            self.state,
            self.require_token,
            None,
        );
        agent.tls = Some(front);
        Ok(agent)
    }

    /// Starts the agent on a Unix socket at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Setup`] with [`SetupError::TestAgentStart`] when it cannot listen there.
    #[cfg(unix)]
    pub fn start_unix(self, path: &std::path::Path) -> Result<TestAgent, Error> {
        let server = tiny_http::Server::http_unix(path)
            .map_err(|e| match e.downcast::<std::io::Error>() {
                Ok(io) => *io,
                Err(other) => std::io::Error::other(other),
            })
            .map_err(start_error)?;
        Ok(TestAgent::serve(
            server,
            format!("unix://{}", path.display()),
            None,
            self.state,
            self.require_token,
            None,
        ))
    }
}

/// A running test agent; stops when dropped.
pub struct TestAgent {
    url: String,
    addr: Option<SocketAddr>,
    server: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    #[cfg(feature = "tls")]
    tls: Option<tls::TlsFront>,
}

impl std::fmt::Debug for TestAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestAgent")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TestAgent {
    /// A builder with the defaults ([`AgentState::default`]): both roles, ACLs off, region
    /// `global`, datacenter `dc1`.
    #[must_use]
    pub fn builder() -> TestAgentBuilder {
        TestAgentBuilder::default()
    }

    /// Starts an agent with the defaults.
    ///
    /// ```
    /// use nomad_blocking::test_agent::TestAgent;
    ///
    /// fn node_name() -> Result<String, nomad_blocking::Error> {
    ///     let agent = TestAgent::start()?; // the library's own error: no conversion needed
    ///     agent.client()?.agent().node_name()
    /// }
    /// assert_eq!(node_name()?, "nomad-1"); // the node name; its serf name is `nomad-1.global`
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Setup`] with [`SetupError::TestAgentStart`] when it cannot listen.
    pub fn start() -> Result<TestAgent, Error> {
        Self::builder().start()
    }

    fn serve(
        server: tiny_http::Server,
        url: String,
        addr: Option<SocketAddr>,
        state: AgentState,
        require_token: bool,
        cluster: Option<ClusterLink>,
    ) -> TestAgent {
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            requests: Mutex::new(Vec::new()),
            require_token,
            cluster,
        });
        let thread = server::spawn(Arc::clone(&server), Arc::clone(&shared));
        TestAgent {
            url,
            addr,
            server,
            shared,
            thread: Some(thread),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }

    /// The address to give a client: `http://127.0.0.1:PORT`, `https://127.0.0.1:PORT` or
    /// `unix:///path`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TCP address, for TCP agents.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// A client for this agent without a token.
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`](crate::ClientBuilder::build).
    pub fn client(&self) -> Result<Client, Error> {
        Client::builder().address(self.url.clone()).build()
    }

    /// A client for this agent with `token`.
    ///
    /// # Errors
    ///
    /// As [`ClientBuilder::build`](crate::ClientBuilder::build).
    pub fn client_with_token(&self, token: &str) -> Result<Client, Error> {
        Client::builder().address(self.url.clone()).token(token).build()
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The last request received.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.shared.requests).last().cloned()
    }

    /// Reads or changes the agent's state (e.g. drop the leader to make health fail). In a
    /// [`TestCluster`], what the members share (members, keys, leader) is changed for all.
    pub fn with_state<R>(&self, f: impl FnOnce(&mut AgentState) -> R) -> R {
        self.shared.with_state(f)
    }
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
