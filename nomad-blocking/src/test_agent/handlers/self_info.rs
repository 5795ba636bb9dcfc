//! `/v1/agent/self`: the agent's configuration, its serf member and its stats.

use std::net::SocketAddr;

use nomad_proto::agent::MemberStatus;
use serde_json::{json, Value};

use super::members::{member_id, member_json, REVISION, VERSION};
use crate::test_agent::acl::acl;
use crate::test_agent::json::{go_struct, Node};
use crate::test_agent::reply::{invalid_method, is_get, ok_json, try_reply, Reply};
use crate::test_agent::state::{RPC_PORT, SERF_PORT};
use crate::test_agent::target::NODE_ID;
use crate::test_agent::Member;
use crate::test_agent::{AgentState, Capability, RecordedRequest};

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        "/v1/agent/self" => agent_self(state, req),
        _ => return None,
    })
}

fn agent_self(state: &AgentState, req: &RecordedRequest) -> Reply {
    if !is_get(req) {
        return invalid_method();
    }
    try_reply!(acl(state, req, Capability::AgentRead));
    ok_json(&self_json(state))
}

/// `/v1/agent/self` (`agentSelf`: `config`, `member`, `stats`): the configuration, this agent's
/// serf member (a server's; a client-only agent has none) and the stats of the roles it runs.
fn self_json(state: &AgentState) -> Node {
    let member = if state.role.server() {
        member_json(&state.own_member(), state)
    } else {
        go_struct! {
            "Name" => "", "Addr" => Value::Null, "Port" => 0u16, "Tags" => Value::Null,
            "Status" => "none", "ProtocolMin" => 0u8, "ProtocolMax" => 0u8, "ProtocolCur" => 0u8,
            "DelegateMin" => 0u8, "DelegateMax" => 0u8, "DelegateCur" => 0u8,
        }
    };
    // A Go map of maps: its keys come out in Go's map order (here sorted).
    let mut stats = serde_json::Map::new();
    if state.role.server() {
        stats.insert("nomad".into(), nomad_stats(state));
        stats.insert("raft".into(), raft_stats(state));
        stats.insert("serf".into(), serf_stats(state));
    }
    if state.role.client() {
        stats.insert(
            "client".into(),
            json!({"heartbeat_ttl": "17.79s", "known_servers": state.servers.join(","),
                   "last_heartbeat": "3.2s", "node_id": NODE_ID,
                   "num_allocations": "2"}),
        );
    }
    stats.insert(
        "runtime".into(),
        json!({"arch": "amd64", "cpu_count": "8", "goroutines": "144", "kernel.name": "linux",
               "max_procs": "8", "version": "go1.24.6"}),
    );
    go_struct! {
        "config" => config_json(state),
        "member" => member,
        "stats" => Value::Object(stats),
    }
}

/// `stats.nomad` (Nomad `nomad/server.go`, `Stats`): whether this server leads, and the
/// leader's RPC address (`raft.Leader()`, empty without a leader).
fn nomad_stats(state: &AgentState) -> Value {
    json!({"server": "true", "leader": state.is_leader().to_string(),
           "leader_addr": state.leader_addr().unwrap_or_default(),
           "bootstrap": (state.bootstrap_expect == 1).to_string(), "known_regions": "1"})
}

/// `stats.raft` (hashicorp/raft `Stats`): the servers among the members (those that have not
/// left) are the raft peers.
fn raft_stats(state: &AgentState) -> Value {
    let peers: Vec<&Member> = state
        .members
        .iter()
        .filter(|m| m.status != MemberStatus::Left)
        .collect();
    let configuration: Vec<String> = peers
        .iter()
        .map(|m| {
            let id = member_id(&m.node);
            let addr = SocketAddr::new(m.addr, RPC_PORT);
            format!("{{Suffrage:Voter ID:{id} Address:{addr}}}")
        })
        .collect();
    let raft_state = if state.is_leader() {
        "Leader"
    } else if state.has_leader {
        "Follower"
    } else {
        "Candidate"
    };
    json!({"applied_index": "1523", "commit_index": "1523", "fsm_pending": "0",
           "last_contact": if state.is_leader() { "0" } else { "41.2ms" }, "last_log_index": "1523",
           "last_log_term": "2", "last_snapshot_index": "0", "last_snapshot_term": "0",
           "latest_configuration": format!("[{}]", configuration.join(" ")),
           "latest_configuration_index": "0", "num_peers": peers.len().saturating_sub(1).to_string(),
           "protocol_version": "3", "protocol_version_max": "3", "protocol_version_min": "0",
           "snapshot_version_max": "1", "snapshot_version_min": "0", "state": raft_state, "term": "2"})
}

/// `stats.serf` (hashicorp/serf `Stats`): member counts by status, and whether gossip is
/// encrypted (a keyring is installed).
fn serf_stats(state: &AgentState) -> Value {
    let count = |status: MemberStatus| state.members.iter().filter(|m| m.status == status).count().to_string();
    json!({"coordinate_resets": "0", "encrypted": (!state.gossip_keys.is_empty()).to_string(),
           "event_queue": "0", "event_time": "1", "failed": count(MemberStatus::Failed), "health_score": "0",
           "intent_queue": "0", "left": count(MemberStatus::Left), "member_time": "3",
           "members": state.members.len().to_string(), "query_queue": "0", "query_time": "1"})
}

/// The `config` of `/v1/agent/self` (`command/agent.Config`, fields in declaration order; secrets
/// redacted as the agent redacts them). Nested structs follow Nomad's declaration order where it
/// was checked (`Ports`, `Addresses`, `AdvertiseAddrs`, `Client`, `Server`, `ACL`, `Version`);
/// the others are written as Go maps.
fn config_json(state: &AgentState) -> Node {
    let ip = state.advertise_addr;
    let addr = |port: u16| SocketAddr::new(ip, port).to_string();
    let ports = || go_struct! {"HTTP" => state.http_port, "RPC" => RPC_PORT, "Serf" => SERF_PORT};
    let acl = go_struct! {
        "Enabled" => !state.tokens.is_empty(), "TokenTTL" => 30_000_000_000i64,
        "PolicyTTL" => 30_000_000_000i64, "ReplicationToken" => "<redacted>",
    };
    go_struct! {
        "Region" => state.region.as_str(), "Datacenter" => state.datacenter.as_str(),
        "NodeName" => state.node_name.as_str(), "DataDir" => "/opt/nomad/data",
        "PluginDir" => "/opt/nomad/data/plugins", "LogLevel" => "INFO", "LogJson" => false,
        "LogFile" => "", "LogIncludeLocation" => false, "LogRotateDuration" => "",
        "LogRotateBytes" => 0u32, "LogRotateMaxFiles" => 0u32, "BindAddr" => "0.0.0.0",
        "EnableDebug" => state.enable_debug,
        "Ports" => ports(),
        "Addresses" => go_struct! {"HTTP" => "0.0.0.0", "RPC" => "0.0.0.0", "Serf" => "0.0.0.0"},
        "AdvertiseAddrs" => go_struct! {
            "HTTP" => addr(state.http_port), "RPC" => addr(RPC_PORT), "Serf" => addr(SERF_PORT),
        },
        "Client" => go_struct! {
            "Enabled" => state.role.client(), "StateDir" => "/opt/nomad/data/client",
            "AllocDir" => "/opt/nomad/data/alloc", "Servers" => state.servers.clone(),
            "NodeClass" => "", "Meta" => json!({}), "NetworkSpeed" => 0u32, "CpuCompute" => 0u32,
            "MemoryMB" => 0u32, "MaxKillTimeout" => "30s", "GCInterval" => 60_000_000_000i64,
        },
        "Server" => go_struct! {
            "Enabled" => state.role.server(), "BootstrapExpect" => state.bootstrap_expect,
            "DataDir" => "", "RaftProtocol" => 3u32, "NumSchedulers" => state.num_schedulers,
            "EnabledSchedulers" => state.enabled_schedulers.clone(),
            "HeartbeatGrace" => 10_000_000_000i64, "ServerJoin" => Value::Null,
        },
        "RPC" => json!({}),
        "ACL" => acl,
        "Telemetry" => json!({"CollectionInterval": "1s", "PublishAllocationMetrics": false,
                              "PublishNodeMetrics": false, "CirconusAPIToken": "<redacted>"}),
        "LeaveOnInt" => false, "LeaveOnTerm" => false, "EnableSyslog" => false,
        "SyslogFacility" => "LOCAL0", "DisableUpdateCheck" => false,
        "DisableAnonymousSignature" => false,
        "Consuls" => json!([{"Name": "default", "Address": "127.0.0.1:8500", "Token": "<redacted>",
                             "ServerServiceName": "nomad", "ClientServiceName": "nomad-client"}]),
        "Vaults" => json!([{"Name": "default", "Enabled": false,
                            "Addr": "https://vault.service.consul:8200"}]),
        "UI" => json!({"Enabled": true}), "DevMode" => false,
        "Version" => go_struct! {
            "BuildDate" => "2026-08-12T00:00:00Z", "Revision" => REVISION, "Version" => VERSION,
            "VersionPrerelease" => "", "VersionMetadata" => "",
        },
        "Files" => json!(["/etc/nomad.d/nomad.hcl"]), "ConfigPaths" => json!(["/etc/nomad.d"]),
        "TLSConfig" => json!({"EnableHTTP": false, "EnableRPC": false, "VerifyServerHostname": false,
                              "CAFile": "", "CertFile": "", "KeyFile": ""}),
        "HTTPAPIResponseHeaders" => json!({}), "Sentinel" => Value::Null,
        "Autopilot" => json!({"CleanupDeadServers": true, "LastContactThreshold": 200_000_000i64,
                              "MaxTrailingLogs": 250, "ServerStabilizationTime": 10_000_000_000i64}),
        "Plugins" => json!([]),
        "Limits" => json!({"HTTPSHandshakeTimeout": "5s", "HTTPMaxConnsPerClient": 100,
                           "RPCHandshakeTimeout": "5s", "RPCMaxConnsPerClient": 100}),
        "Audit" => Value::Null, "Reporting" => json!({"License": {"Enabled": false}}),
        "KEKProviders" => json!([]), "Eventlog" => Value::Null,
    }
}
