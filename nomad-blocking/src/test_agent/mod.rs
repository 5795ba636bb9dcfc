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

mod data;
mod handlers;
mod monitor;
mod tls;

use std::collections::BTreeMap;
use std::io::{Read, Write as _};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::{Client, Error};

pub use handlers::Capability;
pub use monitor::{log_line, MonitorFeed};
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
    pub members: Vec<data::Member>,
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
                members: data::default_members("global", "dc1"),
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
    /// Region (default `global`).
    pub fn region(mut self, region: &str) -> Self {
        self.state.region = region.into();
        self.state.members = data::default_members(region, &self.state.datacenter);
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

struct Shared {
    state: Mutex<AgentState>,
    requests: Mutex<Vec<RecordedRequest>>,
    require_token: bool,
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
        let thread = {
            let server = Arc::clone(&server);
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("nomad-test-agent".into())
                .spawn(move || serve_loop(&server, &shared))
                .expect("spawn test agent thread")
        };
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

/// A plain HTTP listener on `127.0.0.1` with an ephemeral port.
fn bind_loopback() -> std::io::Result<(tiny_http::Server, SocketAddr)> {
    let server = tiny_http::Server::http("127.0.0.1:0").map_err(std::io::Error::other)?;
    match server.server_addr() {
        tiny_http::ListenAddr::IP(addr) => Ok((server, addr)),
        #[allow(unreachable_patterns)]
        _ => Err(std::io::Error::other("unexpected listener")),
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn serve_loop(server: &tiny_http::Server, shared: &Shared) {
    for mut request in server.incoming_requests() {
        let recorded = record(&mut request);
        lock(&shared.requests).push(recorded.clone());
        let reply = if shared.require_token && !has_token(&recorded) {
            handlers::Reply::Text(401, "Unauthorized".to_owned())
        } else {
            let mut state = lock(&shared.state);
            handlers::handle(&mut state, &recorded)
        };
        let gzip = recorded
            .header("accept-encoding")
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        match reply {
            handlers::Reply::Stream { content_type, body } => {
                // Streams are written from their own thread so the agent keeps answering.
                std::thread::spawn(move || {
                    let _ = write_stream(request.into_writer(), content_type, body, gzip);
                });
            }
            handlers::Reply::After(delay, reply) => {
                // A CPU profile or trace answers after `seconds`; the state lock is not held
                // meanwhile and other requests are served.
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    let _ = respond(request, *reply, gzip);
                });
            }
            reply => {
                let _ = respond(request, reply, gzip);
            }
        }
    }
}

/// Writes a chunked 200 and flushes every chunk as it is produced, as the agent does (tiny_http's
/// own chunked writer buffers 8 KiB, which would hold back heartbeats). With `gzip` the body is
/// compressed and sync-flushed chunk by chunk, as the agent's gzip handler does.
fn write_stream(
    mut out: Box<dyn std::io::Write + Send>,
    content_type: &str,
    mut body: Box<dyn Read + Send>,
    gzip: bool,
) -> std::io::Result<()> {
    let encoding = if gzip {
        "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
    } else {
        ""
    };
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{encoding}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )?;
    let chunk = |out: &mut Box<dyn std::io::Write + Send>, bytes: &[u8]| -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        write!(out, "{:x}\r\n", bytes.len())?;
        out.write_all(bytes)?;
        out.write_all(b"\r\n")?;
        out.flush()
    };
    let mut encoder = gzip.then(|| flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = body.read(&mut buf)?;
        if n == 0 {
            break;
        }
        match encoder.as_mut() {
            Some(enc) => {
                enc.write_all(&buf[..n])?;
                enc.flush()?; // sync flush: the client can decode everything sent so far
                chunk(&mut out, enc.get_ref())?;
                enc.get_mut().clear();
            }
            None => chunk(&mut out, &buf[..n])?,
        }
    }
    if let Some(enc) = encoder {
        chunk(&mut out, &enc.finish()?)?;
    }
    out.write_all(b"0\r\n\r\n")?;
    out.flush()
}

/// Whether a request carries a token (`X-Nomad-Token`, or `Authorization: Bearer …`).
fn has_token(request: &RecordedRequest) -> bool {
    let bearer = request.header("authorization").is_some_and(|v| {
        v.split_whitespace()
            .next()
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer"))
    });
    bearer || request.header("x-nomad-token").is_some_and(|t| !t.trim().is_empty())
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

fn respond(request: tiny_http::Request, reply: handlers::Reply, gzip: bool) -> std::io::Result<()> {
    use handlers::Reply;
    let mut extra_headers = Vec::new();
    let (status, content_type, body, extra): (u16, Option<&str>, Vec<u8>, Option<tiny_http::Header>) = match reply {
        Reply::Json(status, body) => (status, Some("application/json"), body, None),
        Reply::Text(status, text) => (status, Some("text/plain; charset=utf-8"), text.into_bytes(), None),
        Reply::Bytes {
            content_type,
            disposition,
            body,
        } => {
            // The profiler always sends nosniff.
            extra_headers.push(header("X-Content-Type-Options", "nosniff"));
            (
                200,
                Some(content_type),
                body,
                disposition.map(|d| header("Content-Disposition", &d)),
            )
        }
        Reply::Empty => (200, None, Vec::new(), None),
        Reply::NotFound => (404, None, Vec::new(), None),
        Reply::Redirect(status, location) => (status, None, Vec::new(), Some(header("Location", &location))),
        Reply::Stream { .. } | Reply::After(..) => unreachable!("handled by the caller"),
    };
    let mut headers = extra_headers;
    if let Some(ct) = content_type {
        headers.push(header("Content-Type", ct));
    }
    headers.extend(extra);
    let body = if gzip && !body.is_empty() {
        headers.push(header("Content-Encoding", "gzip"));
        headers.push(header("Vary", "Accept-Encoding"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &body)?;
        enc.finish()?
    } else {
        body
    };
    let len = body.len();
    let response = tiny_http::Response::new(status.into(), headers, std::io::Cursor::new(body), Some(len), None);
    request.respond(response)
}

fn record(request: &mut tiny_http::Request) -> RecordedRequest {
    let url = request.url().to_owned();
    let (path, raw_query) = match url.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (url, String::new()),
    };
    let query = form_urlencoded_pairs(&raw_query);
    let headers = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let _ = request.as_reader().take(64 * 1024 * 1024).read_to_end(&mut body);
    RecordedRequest {
        method: request.method().as_str().to_owned(),
        path,
        query,
        raw_query,
        headers,
        body,
    }
}

/// Decodes `a=1&b=x%20y` the way Go's `url.ParseQuery` does (`+` is a space).
fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}
