//! A loopback Nomad test agent: a small HTTP server (tiny_http) that answers the agent API the
//! way a real Nomad 2.0 agent does — methods (405 `Invalid method`), roles (501 `Invalid method`,
//! 400 `Server only endpoint`), ACLs (403 `Permission denied`), the unhealthy health 500 with a
//! JSON body and a `text/plain` content type, join's warning, empty success bodies, plain-text
//! errors, gzip when asked for.
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
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// This file holds the public API. `server.rs`: the HTTP plumbing. `handlers/`: what each endpoint
// family answers, its handlers and its JSON fixtures, one file per family as in
// `nomad_proto::agent`. The vocabulary the handlers share: `reply.rs` (answers), `acl.rs` (tokens
// and capabilities), `target.rs` (forwarding to another agent). `tls.rs`: the HTTPS front.
mod acl;
mod handlers;
mod reply;
mod server;
mod target;
mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::{Client, Error};
use handlers::members::{default_members, Member};
use server::{bind_loopback, lock, Shared};

pub use acl::Capability;
pub use handlers::monitor::{log_line, MonitorFeed};
pub use tls::TlsServerConfig;

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
#[derive(Clone, Debug)]
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

/// The mutable state of the test agent (what the endpoints read and change).
#[derive(Clone, Debug)]
pub struct AgentState {
    /// The agent's role.
    pub role: Role,
    /// Node name, e.g. `nomad-1`.
    pub node_name: String,
    /// Region.
    pub region: String,
    /// Datacenter.
    pub datacenter: String,
    /// Tokens and their capabilities; empty means ACLs are off.
    pub tokens: BTreeMap<String, Vec<Capability>>,
    /// Servers a client agent knows (`/v1/agent/servers`).
    pub servers: Vec<String>,
    /// Gossip members (name, address, status) of the region.
    pub members: Vec<Member>,
    /// Addresses a join succeeds for; every other address fails.
    pub joinable: Vec<String>,
    /// Whether the server has a leader (health).
    pub has_leader: bool,
    /// Whether `enable_debug` is on (host data and pprof with ACLs off).
    pub enable_debug: bool,
    /// What `/v1/agent/monitor` and `/v1/agent/monitor/export` send.
    pub monitor: MonitorFeed,
    /// `PUT /v1/agent/reload` fails with this text (500) when set.
    pub reload_error: Option<String>,
    /// How many reloads succeeded.
    pub reloads: u32,
    /// Scheduler workers the server runs (`/v1/agent/schedulers/config`).
    pub num_schedulers: u32,
    /// Schedulers the workers run.
    pub enabled_schedulers: Vec<String>,
    /// The server's CPU count: the upper bound of `num_schedulers`.
    pub cpu_count: u32,
    /// Installed gossip keys (base64), the primary first.
    pub gossip_keys: Vec<String>,
    /// Size in bytes of binary pprof profiles.
    pub profile_size: usize,
}

/// Configures and starts a [`TestAgent`].
#[derive(Debug)]
pub struct TestAgentBuilder {
    state: AgentState,
    require_token: bool,
}

impl Default for TestAgentBuilder {
    fn default() -> Self {
        TestAgentBuilder {
            state: AgentState {
                role: Role::Both,
                node_name: "nomad-1".into(),
                region: "global".into(),
                datacenter: "dc1".into(),
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
            },
            require_token: false,
        }
    }
}

impl TestAgentBuilder {
    /// The agent's role (default: both).
    pub fn role(mut self, role: Role) -> Self {
        self.state.role = role;
        self
    }
    /// Turns ACLs on with a management token.
    pub fn acl(mut self, management_token: &str) -> Self {
        self.state
            .tokens
            .insert(management_token.into(), vec![Capability::Management]);
        self
    }
    /// Adds a token with some capabilities (turns ACLs on).
    pub fn token(mut self, token: &str, capabilities: &[Capability]) -> Self {
        self.state.tokens.insert(token.into(), capabilities.to_vec());
        self
    }
    /// Node name (default `nomad-1`).
    pub fn node_name(mut self, name: &str) -> Self {
        self.state.node_name = name.into();
        self
    }
    /// Region (default `global`); the members' serf names follow it (`nomad-1.<region>`).
    pub fn region(mut self, region: &str) -> Self {
        self.state.region = region.into();
        self
    }
    /// Servers a client agent knows (default three); empty makes the client unhealthy.
    pub fn servers(mut self, servers: &[&str]) -> Self {
        self.state.servers = servers.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Whether the server has a leader (default yes); `false` makes the server unhealthy.
    pub fn leader(mut self, has_leader: bool) -> Self {
        self.state.has_leader = has_leader;
        self
    }
    /// What the log streams send (line count, pace, linger, a trailing error).
    pub fn monitor(mut self, feed: MonitorFeed) -> Self {
        self.state.monitor = feed;
        self
    }
    /// Turns `enable_debug` on.
    pub fn enable_debug(mut self, on: bool) -> Self {
        self.state.enable_debug = on;
        self
    }
    /// Size of binary pprof profiles (default 4 KiB); several MiB exercise streaming.
    pub fn profile_size(mut self, bytes: usize) -> Self {
        self.state.profile_size = bytes;
        self
    }

    /// Answers `401 Unauthorized` (plain text) to every request that carries no token
    /// (`X-Nomad-Token` or `Authorization: Bearer`), as the Task API socket does; a token the
    /// agent does not know still gets `403`. Combine with [`TestAgentBuilder::acl`].
    pub fn require_token(mut self) -> Self {
        self.require_token = true;
        self
    }

    /// Starts the agent on `127.0.0.1` with an ephemeral port.
    pub fn start(self) -> std::io::Result<TestAgent> {
        let (server, addr) = bind_loopback()?;
        Ok(TestAgent::serve(
            server,
            format!("http://{addr}"),
            Some(addr),
            self.state,
            self.require_token,
        ))
    }

    /// Starts the agent on `127.0.0.1` with an ephemeral port, speaking HTTPS with `tls` (and
    /// requiring a client certificate if `tls` says so). The URL is `https://127.0.0.1:PORT`:
    /// give the client the CA (and, for certificates that do not name `127.0.0.1`, the TLS
    /// server name) yourself. Requests are recorded as over plain HTTP.
    pub fn start_tls(self, tls: TlsServerConfig) -> std::io::Result<TestAgent> {
        let (server, backend) = bind_loopback()?;
        let front = tls::TlsFront::start(&tls, backend)?;
        let addr = front.addr();
        let mut agent = TestAgent::serve(
            server,
            format!("https://{addr}"),
            Some(addr),
            self.state,
            self.require_token,
        );
        agent.tls = Some(front);
        Ok(agent)
    }

    /// Starts the agent on a Unix socket at `path`.
    #[cfg(unix)]
    pub fn start_unix(self, path: &std::path::Path) -> std::io::Result<TestAgent> {
        let server = tiny_http::Server::http_unix(path).map_err(std::io::Error::other)?;
        Ok(TestAgent::serve(
            server,
            format!("unix://{}", path.display()),
            None,
            self.state,
            self.require_token,
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
    /// A builder with the defaults: both roles, ACLs off, region `global`, datacenter `dc1`.
    pub fn builder() -> TestAgentBuilder {
        TestAgentBuilder::default()
    }

    /// Starts an agent with the defaults.
    pub fn start() -> std::io::Result<TestAgent> {
        Self::builder().start()
    }

    fn serve(
        server: tiny_http::Server,
        url: String,
        addr: Option<SocketAddr>,
        state: AgentState,
        require_token: bool,
    ) -> TestAgent {
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            requests: Mutex::new(Vec::new()),
            require_token,
        });
        let thread = server::spawn(Arc::clone(&server), Arc::clone(&shared));
        TestAgent {
            url,
            addr,
            server,
            shared,
            thread: Some(thread),
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
    pub fn client(&self) -> Result<Client, Error> {
        Client::builder().address(self.url.clone()).build()
    }

    /// A client for this agent with `token`.
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

    /// Reads or changes the agent's state (e.g. drop the leader to make health fail).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut AgentState) -> R) -> R {
        f(&mut lock(&self.shared.state))
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
