//! The blocking [`Client`] and its agent API calls.

use std::sync::Arc;
use std::time::Duration;

use nomad_proto::agent::{
    AgentRole, AgentSelf, ForceLeave, GetHealth, GetHostData, GetSchedulerWorkerConfig, GetSchedulerWorkersInfo,
    GetSelf, HealthReport, HostDataResponse, InstallKey, Join, JoinResult, KeyringResponse, ListKeys, ListMembers,
    ListServers, Pprof, Profile, Reload, RemoveKey, SchedulerWorkerConfig, SchedulerWorkersInfo, ServerMembers,
    SetSchedulerWorkerConfig, SetServers, Target, UseKey,
};
use nomad_proto::{Config, ConfigBuilder, Endpoint, ResponseError, Secret};

use crate::error::{Error, SetupError};
use crate::transport::{ProxyPolicy, Transport, TransportSettings, UreqTransport};

/// A blocking Nomad client. Cheap to clone (an `Arc`), `Send + Sync` when its transport is, and
/// meant to be shared: clones share the connection pool.
///
/// ```no_run
/// let client = nomad_blocking::Client::from_env()?; // NOMAD_ADDR, NOMAD_TOKEN, NOMAD_CACERT, …
/// for member in client.agent().members()?.members {
///     println!("{} {} {}", member.name, member.status, member.build().unwrap_or("?"));
/// }
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
pub struct Client<T = UreqTransport> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    config: Config,
    transport: T,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Client {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.inner.config.address().to_string())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client<UreqTransport> {
    /// A client for `config` with the default transport settings.
    pub fn new(config: Config) -> Result<Self, Error> {
        ClientBuilder::from_config(config).build()
    }

    /// A client configured from the `NOMAD_*` environment, as the `nomad` CLI is.
    pub fn from_env() -> Result<Self, Error> {
        Client::new(Config::from_env()?)
    }

    /// A builder for connection and transport settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

impl<T: Transport> Client<T> {
    /// A client that sends through `transport` (any `Fn(Request) -> Result<Response, E>` works).
    pub fn with_transport(config: Config, transport: T) -> Self {
        Client {
            inner: Arc::new(Inner { config, transport }),
        }
    }

    /// The connection settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }

    /// Runs any nomad-proto operation: build, send, parse.
    ///
    /// ```
    /// use nomad_blocking::{Client, Config, WithCallOptions};
    /// use nomad_blocking::proto::agent::ListMembers;
    ///
    /// let client = Client::with_transport(Config::default(), |req: nomad_blocking::http::Request<Vec<u8>>| {
    ///     assert_eq!(req.uri().query(), Some("region=eu"));
    ///     nomad_blocking::http::Response::builder().status(403).body(b"Permission denied".to_vec())
    /// });
    /// let err = client.call(&ListMembers::new().region("eu")).unwrap_err();
    /// assert!(err.is_permission_denied());
    /// ```
    pub fn call<E: Endpoint>(&self, op: &E) -> Result<E::Output, Error> {
        let request = op.to_request(&self.inner.config)?;
        let response = self.inner.transport.send(request)?;
        Ok(op.parse_response(response)?)
    }

    /// The agent API (`/v1/agent/*`).
    pub fn agent(&self) -> Agent<'_, T> {
        Agent { client: self }
    }
}

/// The agent API calls of a [`Client`]. Each names its method, path and ACL; for per-call region,
/// namespace or token, build the operation from [`nomad_proto::agent`] and pass it to
/// [`Client::call`].
pub struct Agent<'a, T> {
    pub(crate) client: &'a Client<T>,
}

impl<T: Transport> Agent<'_, T> {
    /// `GET /v1/agent/members` (ACL `node:read`): the gossip members of the region.
    /// Go: `Agent().Members()`; python-nomad: `agent.get_members()`.
    pub fn members(&self) -> Result<ServerMembers, Error> {
        self.client.call(&ListMembers::new())
    }

    /// `GET /v1/agent/servers` (ACL `agent:read`, client agents): the known servers.
    /// Go: `Agent().Servers()`; python-nomad: `agent.get_servers()`.
    pub fn servers(&self) -> Result<Vec<String>, Error> {
        self.client.call(&ListServers::new())
    }

    /// `PUT /v1/agent/servers?address=…` (ACL `agent:write`, client agents): replaces the
    /// server list. Go: `Agent().SetServers()`; python-nomad: `agent.update_servers()`.
    pub fn set_servers<I, S>(&self, addresses: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client.call(&SetServers::new(addresses))
    }

    /// `GET /v1/agent/self` (ACL `agent:read`): configuration, member and stats.
    /// Go: `Agent().Self()`; python-nomad: `agent.get_agent()`.
    #[doc(alias = "self")]
    pub fn self_info(&self) -> Result<AgentSelf, Error> {
        self.client.call(&GetSelf::new())
    }

    /// `PUT /v1/agent/join?address=…` (server agents): joins other servers. An `error` reported
    /// by the agent is an [`Error::Response`] with [`nomad_proto::ResponseError::JoinFailed`];
    /// a `warning` is in the result. Go: `Agent().Join()`; python-nomad: `agent.join_agent()`.
    pub fn join<I, S>(&self, addresses: I) -> Result<JoinResult, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client.call(&Join::new(addresses))
    }

    /// `PUT /v1/agent/force-leave?node=…` (ACL `agent:write`, server agents).
    /// Go: `Agent().ForceLeave()`; python-nomad: `agent.force_leave()`.
    pub fn force_leave(&self, node: &str) -> Result<(), Error> {
        self.client.call(&ForceLeave::new(node))
    }

    /// `PUT /v1/agent/force-leave?node=…&prune=1`: force-leave and remove from the member list.
    /// Go: `Agent().ForceLeaveWithOptions(node, {Prune: true})`.
    pub fn force_leave_prune(&self, node: &str) -> Result<(), Error> {
        self.client.call(&ForceLeave::new(node).prune(true))
    }

    /// `GET /v1/agent/health` (no ACL): the health of every role the agent runs. An unhealthy
    /// agent is a report with `is_healthy() == false`, not an error.
    /// Go: `Agent().Health()`; python-nomad: `agent.get_health()`.
    pub fn health(&self) -> Result<HealthReport, Error> {
        self.client.call(&GetHealth::new())
    }

    /// `GET /v1/agent/health?type=<role>`: the health of one role.
    pub fn health_of(&self, role: AgentRole) -> Result<HealthReport, Error> {
        self.client.call(&GetHealth::new().role(role))
    }

    /// `GET /v1/agent/self`, then the agent's node name: the serf member name
    /// (`nomad-1.global`), or the configured `NodeName` on a client-only agent (which has no
    /// member). An agent that reports neither is a [`ResponseError::MissingValue`].
    /// Go: `Agent().NodeName()` (which caches it; this asks the agent each time).
    pub fn node_name(&self) -> Result<String, Error> {
        let me = self.self_info()?;
        required(me.node_name(), "node name (member.Name or config.NodeName)")
    }

    /// `GET /v1/agent/self`, then the agent's datacenter (`config.Datacenter`).
    /// Go: `Agent().Datacenter()`.
    pub fn datacenter(&self) -> Result<String, Error> {
        let me = self.self_info()?;
        required(me.datacenter(), "datacenter (config.Datacenter)")
    }

    /// `GET /v1/agent/self`, then the agent's region (`config.Region`). Go: `Agent().Region()`.
    pub fn region(&self) -> Result<String, Error> {
        let me = self.self_info()?;
        required(me.region(), "region (config.Region)")
    }

    /// `PUT /v1/agent/reload` (ACL `agent:write`, any agent): the agent re-reads its
    /// configuration files, as on `SIGHUP`. A failed reload is a 500 carrying the agent's error
    /// text. Go: `Agent().Reload(nil, nil)`; python-nomad: none.
    pub fn reload(&self) -> Result<(), Error> {
        self.client.call(&Reload::new())
    }

    /// `GET /v1/agent/host` (ACL `agent:read`; **with ACLs off the agent needs
    /// `enable_debug = true`**, else a 403 whose message says so): OS, network, DNS, hosts
    /// file, environment and disks of the agent's host. Go: `Agent().Host("", "", nil)`;
    /// python-nomad: none.
    pub fn host(&self) -> Result<HostDataResponse, Error> {
        self.client.call(&GetHostData::new())
    }

    /// `GET /v1/agent/host?node_id=…` or `?server_id=…`: another agent's host data, forwarded
    /// by this one; [`HostDataResponse::agent_id`] names who answered.
    /// Go: `Agent().Host(serverID, nodeID, nil)`.
    pub fn host_of(&self, target: Target) -> Result<HostDataResponse, Error> {
        self.client.call(&GetHostData::new().target(target))
    }

    /// `GET /v1/agent/schedulers` (ACL `agent:read`, server agents; a client-only agent gives
    /// [`Error::is_wrong_role`]): the scheduler workers and what each is doing.
    /// Go: `Agent().GetSchedulerWorkersInfo(nil)`; python-nomad: none.
    pub fn scheduler_workers_info(&self) -> Result<SchedulerWorkersInfo, Error> {
        self.client.call(&GetSchedulerWorkersInfo::new())
    }

    /// `GET /v1/agent/schedulers/config` (ACL `agent:read`, server agents): the worker pool
    /// size and enabled schedulers. Go: `Agent().GetSchedulerWorkerConfig(nil)`.
    pub fn scheduler_worker_config(&self) -> Result<SchedulerWorkerConfig, Error> {
        self.client.call(&GetSchedulerWorkerConfig::new())
    }

    /// `PUT /v1/agent/schedulers/config` (ACL `agent:write`, server agents): sets the worker
    /// pool until the next restart and returns the settings in force. `enabled_schedulers` must
    /// hold `_core` and only built-in schedulers (checked before sending); a
    /// `num_schedulers` above the server's CPU count is the agent's `400 Invalid request`.
    /// Go: `Agent().SetSchedulerWorkerConfig(args, nil)`.
    pub fn set_scheduler_worker_config<I, S>(
        &self,
        num_schedulers: u32,
        enabled_schedulers: I,
    ) -> Result<SchedulerWorkerConfig, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client
            .call(&SetSchedulerWorkerConfig::new(num_schedulers, enabled_schedulers))
    }

    /// `GET /v1/agent/keyring/list` (ACL `agent:write`, server agents): the gossip encryption
    /// keys and how many servers hold each. Go: `Agent().ListKeys()`; CLI:
    /// `nomad operator gossip keyring list`.
    pub fn list_keys(&self) -> Result<KeyringResponse, Error> {
        self.client.call(&ListKeys::new())
    }

    /// `PUT /v1/agent/keyring/install` (ACL `agent:write`, server agents): installs a gossip
    /// key (base64 of 16, 24 or 32 bytes, checked before sending). Go: `Agent().InstallKey(key)`.
    pub fn install_key(&self, key: impl Into<Secret>) -> Result<KeyringResponse, Error> {
        self.client.call(&InstallKey::new(key))
    }

    /// `PUT /v1/agent/keyring/use` (ACL `agent:write`, server agents): makes an installed key
    /// the primary gossip key. Go: `Agent().UseKey(key)`.
    pub fn use_key(&self, key: impl Into<Secret>) -> Result<KeyringResponse, Error> {
        self.client.call(&UseKey::new(key))
    }

    /// `PUT /v1/agent/keyring/remove` (ACL `agent:write`, server agents): removes a gossip key
    /// (not the primary one). Go: `Agent().RemoveKey(key)`.
    pub fn remove_key(&self, key: impl Into<Secret>) -> Result<KeyringResponse, Error> {
        self.client.call(&RemoveKey::new(key))
    }

    /// `GET /v1/agent/pprof/profile?seconds=…` (ACL `agent:write`; **with ACLs off the agent
    /// needs `enable_debug = true`**): a CPU profile recorded for `seconds` (0: the agent's
    /// default of 1). The call timeout is extended by `seconds`. Go: `Agent().CPUProfile(opts, nil)`;
    /// python-nomad: none.
    pub fn cpu_profile(&self, seconds: u32) -> Result<Profile, Error> {
        self.client.call(&Pprof::cpu_profile().seconds(seconds))
    }

    /// `GET /v1/agent/pprof/trace?seconds=…`: an execution trace recorded for `seconds`.
    /// Go: `Agent().Trace(opts, nil)`.
    pub fn trace(&self, seconds: u32) -> Result<Profile, Error> {
        self.client.call(&Pprof::trace().seconds(seconds))
    }

    /// `GET /v1/agent/pprof/<name>`: a named runtime profile (`goroutine`, `heap`, `allocs`,
    /// `block`, `mutex`, `threadcreate`) in the binary format. An unknown name is a 404.
    /// Go: `Agent().Lookup(name, opts, nil)`.
    pub fn lookup(&self, name: &str) -> Result<Profile, Error> {
        self.client.call(&Pprof::lookup(name))
    }

    /// Any profile request ([`Pprof`]: text output, another agent, …), read into memory.
    /// For large profiles prefer [`Agent::write_profile`].
    pub fn pprof(&self, op: &Pprof) -> Result<Profile, Error> {
        self.client.call(op)
    }

    /// Streams a profile into `out` (a file, a socket, …) without holding it in memory, and
    /// returns the number of bytes written. The response body limit does not apply. An error
    /// answer (403, 404, …) is read only up to 64 KiB, to build the [`Error::Response`]; a
    /// failure of `out` is [`Error::Write`].
    ///
    /// ```no_run
    /// use nomad_blocking::proto::agent::Pprof;
    ///
    /// let client = nomad_blocking::Client::from_env()?;
    /// let mut file = std::fs::File::create("heap.pb.gz").expect("create file");
    /// let bytes = client.agent().write_profile(&Pprof::lookup("heap").gc(true), &mut file)?;
    /// println!("wrote {bytes} bytes; inspect with `go tool pprof heap.pb.gz`");
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    pub fn write_profile<W: std::io::Write + ?Sized>(&self, op: &Pprof, out: &mut W) -> Result<u64, Error> {
        let request = op.to_request(self.client.config())?;
        let mut body = self
            .client
            .open(request, |status, start| op.check_status(status, start))?;
        copy_body(&mut body, out)
    }
}

fn required(value: Option<&str>, what: &'static str) -> Result<String, Error> {
    value
        .map(str::to_owned)
        .ok_or(Error::Response(ResponseError::MissingValue { what }))
}

/// Copies a response body into `out`, telling read (transport) failures from write failures.
fn copy_body<W: std::io::Write + ?Sized>(body: &mut crate::BodyReader, out: &mut W) -> Result<u64, Error> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut written: u64 = 0;
    loop {
        let n = match std::io::Read::read(body, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Transport(crate::error::TransportError::from_io(e))),
        };
        out.write_all(&buf[..n]).map_err(Error::Write)?;
        written += n as u64;
    }
    out.flush().map_err(Error::Write)?;
    Ok(written)
}

/// Builds a [`Client`] with the ureq transport: connection settings (see
/// [`nomad_proto::ConfigBuilder`]) plus timeouts, body limit and proxy.
#[derive(Debug, Default)]
pub struct ClientBuilder {
    config: Option<Config>,
    builder: ConfigBuilder,
    /// True once a connection setting was edited (`config`, `env`, `address`, `token`).
    edited: bool,
    settings: TransportSettings,
}

impl ClientBuilder {
    /// Starts from a finished [`Config`].
    pub fn from_config(config: Config) -> Self {
        ClientBuilder {
            config: Some(config),
            ..Default::default()
        }
    }

    /// Edits the connection settings. Not combinable with [`ClientBuilder::from_config`] (set them
    /// on that `Config` instead): [`ClientBuilder::build`] then fails rather than drop them.
    pub fn config(mut self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.builder = f(self.builder);
        self.edited = true;
        self
    }

    /// Reads unset connection settings from the process environment.
    pub fn env(self) -> Self {
        self.config(ConfigBuilder::env)
    }

    /// The agent address (`http://…`, `https://…`, `unix://…`).
    pub fn address(self, address: impl Into<String>) -> Self {
        self.config(|b| b.address(address))
    }

    /// The ACL token.
    pub fn token(self, token: impl Into<nomad_proto::Secret>) -> Self {
        self.config(|b| b.token(token))
    }

    /// Connect timeout (default 10 s; `None`: none).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Overall per-call timeout (default 60 s; `None`: none). Log streams are exempt.
    pub fn call_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.call_timeout = timeout;
        self
    }

    /// Per-read timeout (default 30 s; `None`: none).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.read_timeout = timeout;
        self
    }

    /// Largest response body read into memory (default 32 MiB).
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.settings.body_limit = bytes;
        self
    }

    /// Proxy policy (default: direct).
    pub fn proxy(mut self, proxy: ProxyPolicy) -> Self {
        self.settings.proxy = proxy;
        self
    }

    /// Idle connections kept per host (default 3; 0 turns reuse off).
    pub fn max_idle_per_host(mut self, n: usize) -> Self {
        self.settings.max_idle_per_host = n;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.settings.user_agent = agent.into();
        self
    }

    /// Ask the agent for gzip answers (default on). Turning it off makes small calls cheaper on
    /// fast links; large answers and log streams then travel uncompressed.
    pub fn gzip(mut self, on: bool) -> Self {
        self.settings.gzip = on;
        self
    }

    /// Validates the settings, reads TLS files, and builds the client.
    pub fn build(self) -> Result<Client<UreqTransport>, Error> {
        let config = match self.config {
            Some(_) if self.edited => {
                return Err(SetupError::InvalidSetting {
                    setting: "config",
                    reason: "ClientBuilder::from_config cannot be combined with address/token/env/config: \
                             set those on the Config"
                        .into(),
                }
                .into())
            }
            Some(c) => c,
            None => self.builder.build()?,
        };
        let transport = UreqTransport::new(&config, self.settings)?;
        Ok(Client::with_transport(config, transport))
    }
}

// The default client is Send + Sync + Clone: checked at compile time.
const _: fn() = || {
    fn check<T: Send + Sync + Clone>() {}
    check::<Client<UreqTransport>>();
};
