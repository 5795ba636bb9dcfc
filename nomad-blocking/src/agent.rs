//! The agent API (`/v1/agent/*`) of the blocking [`Client`]: [`Client::agent`] and a named
//! method for each agent endpoint.
//!
//! Each method builds its nomad-proto operation and runs it with [`Client::call`] (or, for
//! streamed bodies, [`Client::open`] and [`Client::stream`]).

use std::io::{Read, Write};

use nomad_proto::agent::{
    AgentRole, AgentSelf, ForceLeave, GetHealth, GetHostData, GetSchedulerWorkerConfig, GetSchedulerWorkersInfo,
    GetSelf, HealthReport, HostDataResponse, InstallKey, Join, JoinResult, KeyringResponse, ListKeys, ListMembers,
    ListServers, Monitor, MonitorExport, Pprof, Profile, Reload, RemoveKey, SchedulerWorkerConfig,
    SchedulerWorkersInfo, ServerMembers, SetSchedulerWorkerConfig, SetServers, Target, UseKey,
};
use nomad_proto::{ResponseError, Secret};

use crate::client::Client;
use crate::error::{Error, TransportError};
use crate::stream::LogStream;
use crate::transport::BodyReader;

impl Client {
    /// The agent API (`/v1/agent/*`).
    pub fn agent(&self) -> Agent<'_> {
        Agent { client: self }
    }
}

/// The agent API calls of a [`Client`]. Each names its method, path and ACL; for per-call region,
/// namespace or token, build the operation from [`nomad_proto::agent`] and pass it to
/// [`Client::call`].
///
/// Every method returns the [`Error`] of [`Client::call`]: [`Error::Build`] (nothing was sent),
/// [`Error::Transport`] (no complete answer) or [`Error::Response`] (the agent's error status,
/// or a body that does not decode).
#[derive(Clone, Copy, Debug)]
pub struct Agent<'a> {
    client: &'a Client,
}

impl Agent<'_> {
    /// `GET /v1/agent/members` (ACL `node:read`): the gossip members of the region.
    /// Go: `Agent().Members()`; python-nomad: `agent.get_members()`.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; a 403 ([`Error::is_permission_denied`]) without `node:read`.
    pub fn members(&self) -> Result<ServerMembers, Error> {
        self.client.call(&ListMembers::new())
    }

    /// `GET /v1/agent/servers` (ACL `agent:read`, client agents): the known servers.
    /// Go: `Agent().Servers()`; python-nomad: `agent.get_servers()`.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; [`Error::is_wrong_role`] on a server-only agent.
    pub fn servers(&self) -> Result<Vec<String>, Error> {
        self.client.call(&ListServers::new())
    }

    /// `PUT /v1/agent/servers?address=…` (ACL `agent:write`, client agents): replaces the
    /// server list. Go: `Agent().SetServers()`; python-nomad: `agent.update_servers()`.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; [`Error::Build`] for an empty list (nothing is sent), [`Error::is_wrong_role`] on a server-only agent.
    pub fn set_servers<I, S>(&self, addresses: I) -> Result<(), Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client.call(&SetServers::new(addresses))
    }

    /// `GET /v1/agent/self` (ACL `agent:read`): configuration, member and stats.
    /// Go: `Agent().Self()`; python-nomad: `agent.get_agent()`.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; a 403 without `agent:read`.
    #[doc(alias = "self")]
    pub fn self_info(&self) -> Result<AgentSelf, Error> {
        self.client.call(&GetSelf::new())
    }

    /// `PUT /v1/agent/join?address=…` (server agents): joins other servers. An `error` reported
    /// by the agent is an [`Error::Response`] with [`nomad_proto::ResponseError::JoinFailed`];
    /// a `warning` is in the result. Go: `Agent().Join()`; python-nomad: `agent.join_agent()`.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; the agent's join failure is [`nomad_proto::ResponseError::JoinFailed`].
    pub fn join<I, S>(&self, addresses: I) -> Result<JoinResult, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.client.call(&Join::new(addresses))
    }

    /// `PUT /v1/agent/force-leave?node=…` (ACL `agent:write`, server agents).
    /// Go: `Agent().ForceLeave()`; python-nomad: `agent.force_leave()`.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; [`Error::Build`] for an empty node name, [`Error::is_wrong_role`] on a client-only agent.
    pub fn force_leave(&self, node: &str) -> Result<(), Error> {
        self.client.call(&ForceLeave::new(node))
    }

    /// `PUT /v1/agent/force-leave?node=…&prune=1`: force-leave and remove from the member list.
    /// Go: `Agent().ForceLeaveWithOptions(node, {Prune: true})`.
    ///
    /// # Errors
    ///
    /// As [`Agent::force_leave`].
    pub fn force_leave_prune(&self, node: &str) -> Result<(), Error> {
        self.client.call(&ForceLeave::new(node).prune(true))
    }

    /// `GET /v1/agent/health` (no ACL): the health of every role the agent runs. An unhealthy
    /// agent is a report with `is_healthy() == false`, not an error.
    /// Go: `Agent().Health()`; python-nomad: `agent.get_health()`.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`] (an unhealthy agent is a report, not an error).
    pub fn health(&self) -> Result<HealthReport, Error> {
        self.client.call(&GetHealth::new())
    }

    /// `GET /v1/agent/health?type=<role>`: the health of one role.
    ///
    /// # Errors
    ///
    /// As [`Agent::health`].
    pub fn health_of(&self, role: AgentRole) -> Result<HealthReport, Error> {
        self.client.call(&GetHealth::new().role(role))
    }

    /// `GET /v1/agent/self`, then the agent's node name (`nomad-1`, without the region; see
    /// [`AgentSelf::node_name`](nomad_proto::agent::AgentSelf::node_name)): the configured
    /// `NodeName`, else the member name without its region. An agent that reports neither is a
    /// [`ResponseError::MissingValue`]. Go's `Agent().NodeName()` returns the member name
    /// (`nomad-1.global`) instead: [`AgentSelf::member_name`](nomad_proto::agent::AgentSelf::member_name).
    ///
    /// # Errors
    ///
    /// As [`Agent::self_info`], and [`ResponseError::MissingValue`] when the agent reports no name.
    pub fn node_name(&self) -> Result<String, Error> {
        let me = self.self_info()?;
        required(me.node_name(), "node name (member.Name or config.NodeName)")
    }

    /// `GET /v1/agent/self`, then the agent's datacenter (`config.Datacenter`).
    /// Go: `Agent().Datacenter()`.
    ///
    /// # Errors
    ///
    /// As [`Agent::self_info`], and [`ResponseError::MissingValue`] when the agent reports none.
    pub fn datacenter(&self) -> Result<String, Error> {
        let me = self.self_info()?;
        required(me.datacenter(), "datacenter (config.Datacenter)")
    }

    /// `GET /v1/agent/self`, then the agent's region (`config.Region`). Go: `Agent().Region()`.
    ///
    /// # Errors
    ///
    /// As [`Agent::self_info`], and [`ResponseError::MissingValue`] when the agent reports none.
    pub fn region(&self) -> Result<String, Error> {
        let me = self.self_info()?;
        required(me.region(), "region (config.Region)")
    }

    /// `GET /v1/agent/monitor` (ACL `agent:read`): the agent's logs, live, as an iterator of
    /// lines. Go: `Agent().Monitor()`; the `nomad monitor` command.
    ///
    /// ```no_run
    /// use nomad_blocking::proto::agent::Monitor;
    /// use nomad_blocking::proto::stream::LogLevel;
    ///
    /// let client = nomad_blocking::Client::from_env()?;
    /// for line in client.agent().monitor(&Monitor::new().log_level(LogLevel::Debug))? {
    ///     println!("{}", line?.text);
    /// }
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The errors of [`Client::stream`]; errors after the stream started are items of the [`LogStream`].
    pub fn monitor(&self, op: &Monitor) -> Result<LogStream, Error> {
        self.client.stream(op)
    }

    /// `GET /v1/agent/monitor/export` (ACL `agent:read`): historic logs from the agent's log
    /// file or journal; ends at the end unless `follow` is set.
    ///
    /// # Errors
    ///
    /// As [`Agent::monitor`]; [`Error::Build`] for `follow` on a log file (the agent cannot follow one).
    pub fn monitor_export(&self, op: &MonitorExport) -> Result<LogStream, Error> {
        self.client.stream(op)
    }

    /// `PUT /v1/agent/reload` (ACL `agent:write`, any agent): the agent re-reads its
    /// configuration files, as on `SIGHUP`. A failed reload is a 500 carrying the agent's error
    /// text. Go: `Agent().Reload(nil, nil)`; python-nomad: none.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; a failed reload is a 500 carrying the agent's error text.
    pub fn reload(&self) -> Result<(), Error> {
        self.client.call(&Reload::new())
    }

    /// `GET /v1/agent/host` (ACL `agent:read`; **with ACLs off the agent needs
    /// `enable_debug = true`**, else a 403 whose message says so): OS, network, DNS, hosts
    /// file, environment and disks of the agent's host. Go: `Agent().Host("", "", nil)`;
    /// python-nomad: none.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; a 403 without `agent:read`, or with ACLs off and no `enable_debug`.
    pub fn host(&self) -> Result<HostDataResponse, Error> {
        self.client.call(&GetHostData::new())
    }

    /// `GET /v1/agent/host?node_id=…` or `?server_id=…`: another agent's host data, forwarded
    /// by this one; [`HostDataResponse::agent_id`] names who answered.
    /// Go: `Agent().Host(serverID, nodeID, nil)`.
    ///
    /// # Errors
    ///
    /// As [`Agent::host`].
    pub fn host_of(&self, target: Target) -> Result<HostDataResponse, Error> {
        self.client.call(&GetHostData::new().target(target))
    }

    /// `GET /v1/agent/schedulers` (ACL `agent:read`, server agents; a client-only agent gives
    /// [`Error::is_wrong_role`]): the scheduler workers and what each is doing.
    /// Go: `Agent().GetSchedulerWorkersInfo(nil)`; python-nomad: none.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; [`Error::is_wrong_role`] on a client-only agent.
    pub fn scheduler_workers_info(&self) -> Result<SchedulerWorkersInfo, Error> {
        self.client.call(&GetSchedulerWorkersInfo::new())
    }

    /// `GET /v1/agent/schedulers/config` (ACL `agent:read`, server agents): the worker pool
    /// size and enabled schedulers. Go: `Agent().GetSchedulerWorkerConfig(nil)`.
    ///
    /// # Errors
    ///
    /// As [`Agent::scheduler_workers_info`].
    pub fn scheduler_worker_config(&self) -> Result<SchedulerWorkerConfig, Error> {
        self.client.call(&GetSchedulerWorkerConfig::new())
    }

    /// `PUT /v1/agent/schedulers/config` (ACL `agent:write`, server agents): sets the worker
    /// pool until the next restart and returns the settings in force. `enabled_schedulers` must
    /// hold `_core` and only built-in schedulers (checked before sending); a
    /// `num_schedulers` above the server's CPU count is the agent's `400 Invalid request`.
    /// Go: `Agent().SetSchedulerWorkerConfig(args, nil)`.
    ///
    /// # Errors
    ///
    /// As [`Agent::scheduler_workers_info`]; [`Error::Build`] for a list without `_core` or with an unknown scheduler (nothing is sent).
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
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; [`Error::is_wrong_role`] on a client-only agent.
    pub fn list_keys(&self) -> Result<KeyringResponse, Error> {
        self.client.call(&ListKeys::new())
    }

    /// `PUT /v1/agent/keyring/install` (ACL `agent:write`, server agents): installs a gossip
    /// key (base64 of 16, 24 or 32 bytes, checked before sending). Go: `Agent().InstallKey(key)`.
    ///
    /// # Errors
    ///
    /// As [`Agent::list_keys`]; [`Error::Build`] for a key that is not base64 of 16, 24 or 32 bytes (nothing is sent).
    pub fn install_key(&self, key: impl Into<Secret>) -> Result<KeyringResponse, Error> {
        self.client.call(&InstallKey::new(key))
    }

    /// `PUT /v1/agent/keyring/use` (ACL `agent:write`, server agents): makes an installed key
    /// the primary gossip key. Go: `Agent().UseKey(key)`.
    ///
    /// # Errors
    ///
    /// As [`Agent::install_key`].
    pub fn use_key(&self, key: impl Into<Secret>) -> Result<KeyringResponse, Error> {
        self.client.call(&UseKey::new(key))
    }

    /// `PUT /v1/agent/keyring/remove` (ACL `agent:write`, server agents): removes a gossip key
    /// (not the primary one). Go: `Agent().RemoveKey(key)`.
    ///
    /// # Errors
    ///
    /// As [`Agent::install_key`].
    pub fn remove_key(&self, key: impl Into<Secret>) -> Result<KeyringResponse, Error> {
        self.client.call(&RemoveKey::new(key))
    }

    /// `GET /v1/agent/pprof/profile?seconds=…` (ACL `agent:write`; **with ACLs off the agent
    /// needs `enable_debug = true`**): a CPU profile recorded for `seconds` (0: the agent's
    /// default of 1). The call timeout is extended by `seconds`. Go: `Agent().CPUProfile(opts, nil)`;
    /// python-nomad: none.
    ///
    /// # Errors
    ///
    /// The errors of [`Client::call`]; a 403 without `agent:write`, or with ACLs off and no `enable_debug`.
    pub fn cpu_profile(&self, seconds: u32) -> Result<Profile, Error> {
        self.client.call(&Pprof::cpu_profile().seconds(seconds))
    }

    /// `GET /v1/agent/pprof/trace?seconds=…`: an execution trace recorded for `seconds`.
    /// Go: `Agent().Trace(opts, nil)`.
    ///
    /// # Errors
    ///
    /// As [`Agent::cpu_profile`].
    pub fn trace(&self, seconds: u32) -> Result<Profile, Error> {
        self.client.call(&Pprof::trace().seconds(seconds))
    }

    /// `GET /v1/agent/pprof/<name>`: a named runtime profile (`goroutine`, `heap`, `allocs`,
    /// `block`, `mutex`, `threadcreate`) in the binary format. An unknown name is a 404.
    /// Go: `Agent().Lookup(name, opts, nil)`.
    ///
    /// # Errors
    ///
    /// As [`Agent::cpu_profile`]; a 404 ([`Error::is_not_found`]) for an unknown profile name.
    pub fn lookup(&self, name: &str) -> Result<Profile, Error> {
        self.client.call(&Pprof::lookup(name))
    }

    /// Any profile request ([`Pprof`]: text output, another agent, …), read into memory.
    /// For large profiles prefer [`Agent::write_profile`].
    ///
    /// # Errors
    ///
    /// As [`Agent::cpu_profile`].
    pub fn pprof(&self, op: &Pprof) -> Result<Profile, Error> {
        self.client.call(op)
    }

    /// Streams a profile into `out` (a file, a socket, …) without holding it in memory, and
    /// returns the number of bytes written: [`Client::open`], then a copy of the body. The
    /// response body limit does not apply. An error
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
    ///
    /// # Errors
    ///
    /// As [`Agent::cpu_profile`]; [`Error::Write`] when `out` fails.
    pub fn write_profile<W: Write + ?Sized>(&self, op: &Pprof, out: &mut W) -> Result<u64, Error> {
        copy_body(&mut self.client.open(op)?, out)
    }
}

/// A new gossip encryption key: 32 random bytes from the operating system's CSPRNG in standard
/// base64, as `nomad operator gossip keyring generate` makes them (Nomad
/// `command/operator_gossip_keyring_generate.go`): ready for [`Agent::install_key`], or for a
/// server's `encrypt` setting. It is a [`Secret`]: `Debug` never shows it.
///
/// ```
/// let key = nomad_blocking::generate_gossip_key()?;
/// assert_eq!(key.expose().len(), 44); // base64 of 32 bytes
/// println!("{key:?}");                // the key stays hidden
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Random`] if the operating system cannot provide random bytes.
#[cfg(feature = "keygen")]
#[cfg_attr(docsrs, doc(cfg(feature = "keygen")))]
pub fn generate_gossip_key() -> Result<Secret, Error> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.into()))?;
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    bytes.fill(0);
    Ok(Secret::new(key))
}

/// A value the agent's self answer must hold, or [`ResponseError::MissingValue`].
fn required(value: Option<&str>, what: &'static str) -> Result<String, Error> {
    value
        .map(str::to_owned)
        .ok_or(Error::Response(ResponseError::MissingValue { what }))
}

/// Copies a response body into `out`, telling read (transport) failures from write failures.
fn copy_body<W: Write + ?Sized>(body: &mut BodyReader, out: &mut W) -> Result<u64, Error> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut written: u64 = 0;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::Transport(TransportError::from_io(e))),
        };
        out.write_all(&buf[..n]).map_err(Error::Write)?;
        written += n as u64;
    }
    out.flush().map_err(Error::Write)?;
    Ok(written)
}
