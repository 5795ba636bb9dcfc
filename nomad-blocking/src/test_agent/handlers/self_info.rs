//! `/v1/agent/self`: the agent's configuration, its serf member and its stats.

use serde_json::{json, Value};

use super::members::{member_json, Member, REVISION, VERSION};
use crate::test_agent::acl::{acl, Capability};
use crate::test_agent::reply::{invalid_method, is_get, ok_json, try_reply, Reply};
use crate::test_agent::target::NODE_ID;
use crate::test_agent::{AgentState, RecordedRequest};

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

/// `/v1/agent/self`: the configuration, this agent's serf member (a server's; a client-only
/// agent has none) and the stats of the roles it runs.
fn self_json(state: &AgentState) -> Value {
    let member = if state.role.server() {
        let me = state
            .members
            .iter()
            .find(|m| m.node == state.node_name)
            .cloned()
            .unwrap_or(Member {
                node: state.node_name.clone(),
                addr: "10.0.0.1".into(),
                status: "alive".into(),
            });
        member_json(&me, state)
    } else {
        json!({"Name": "", "Addr": null, "Port": 0, "Tags": null, "Status": "none",
               "ProtocolMin": 0, "ProtocolMax": 0, "ProtocolCur": 0,
               "DelegateMin": 0, "DelegateMax": 0, "DelegateCur": 0})
    };
    let mut stats = serde_json::Map::new();
    if state.role.server() {
        stats.insert(
            "nomad".into(),
            json!({"server": "true", "leader": if state.has_leader { "true" } else { "false" },
                   "leader_addr": if state.has_leader { "10.0.0.1:4647" } else { "" },
                   "bootstrap": "false", "known_regions": "1"}),
        );
        stats.insert(
            "raft".into(),
            json!({"applied_index": "1523", "commit_index": "1523", "fsm_pending": "0",
                   "last_contact": "0", "last_log_index": "1523", "last_log_term": "2",
                   "last_snapshot_index": "0", "last_snapshot_term": "0",
                   "latest_configuration": "[{Suffrage:Voter ID:5b2f8e4c Address:10.0.0.1:4647}]",
                   "latest_configuration_index": "0", "num_peers": "2", "protocol_version": "3",
                   "protocol_version_max": "3", "protocol_version_min": "0", "snapshot_version_max": "1",
                   "snapshot_version_min": "0", "state": "Leader", "term": "2"}),
        );
        stats.insert(
            "serf".into(),
            json!({"coordinate_resets": "0", "encrypted": "false", "event_queue": "0", "event_time": "1",
                   "failed": "0", "health_score": "0", "intent_queue": "0", "left": "0",
                   "member_time": "3", "members": "3", "query_queue": "0", "query_time": "1"}),
        );
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
    json!({
        "config": config_json(state),
        "member": member,
        "stats": stats,
    })
}

/// The `config` of `/v1/agent/self` (secrets redacted as the agent redacts them).
fn config_json(state: &AgentState) -> Value {
    let mut config = json!({
        "Region": state.region, "Datacenter": state.datacenter, "NodeName": state.node_name,
        "DataDir": "/opt/nomad/data", "PluginDir": "/opt/nomad/data/plugins", "LogLevel": "INFO",
        "LogJson": false, "LogFile": "", "LogIncludeLocation": false, "LogRotateDuration": "",
        "LogRotateBytes": 0, "LogRotateMaxFiles": 0, "BindAddr": "0.0.0.0",
        "EnableDebug": state.enable_debug,
        "Ports": {"HTTP": 4646, "RPC": 4647, "Serf": 4648},
        "Addresses": {"HTTP": "0.0.0.0", "RPC": "0.0.0.0", "Serf": "0.0.0.0"},
        "AdvertiseAddrs": {"HTTP": "10.0.0.1:4646", "RPC": "10.0.0.1:4647", "Serf": "10.0.0.1:4648"},
        "Client": {"Enabled": state.role.client(), "StateDir": "/opt/nomad/data/client",
                   "AllocDir": "/opt/nomad/data/alloc", "Servers": state.servers, "NodeClass": "",
                   "NetworkSpeed": 0, "CpuCompute": 0, "MemoryMB": 0, "MaxKillTimeout": "30s",
                   "GCInterval": 60000000000i64, "Meta": {}},
        "Server": {"Enabled": state.role.server(), "BootstrapExpect": 3, "DataDir": "",
                   "NumSchedulers": state.num_schedulers, "EnabledSchedulers": state.enabled_schedulers,
                   "HeartbeatGrace": 10000000000i64, "RaftProtocol": 3, "ServerJoin": null},
    });
    let rest = json!({
        "RPC": {}, "ACL": {"Enabled": !state.tokens.is_empty(), "TokenTTL": 30000000000i64,
                           "PolicyTTL": 30000000000i64, "ReplicationToken": "<redacted>"},
        "Telemetry": {"CollectionInterval": "1s", "PublishAllocationMetrics": false,
                      "PublishNodeMetrics": false, "CirconusAPIToken": "<redacted>"},
        "LeaveOnInt": false, "LeaveOnTerm": false, "EnableSyslog": false, "SyslogFacility": "LOCAL0",
        "DisableUpdateCheck": false, "DisableAnonymousSignature": false,
        "Consuls": [{"Name": "default", "Address": "127.0.0.1:8500", "Token": "<redacted>",
                     "ServerServiceName": "nomad", "ClientServiceName": "nomad-client"}],
        "Vaults": [{"Name": "default", "Enabled": false, "Addr": "https://vault.service.consul:8200"}],
        "UI": {"Enabled": true}, "DevMode": false,
        "Version": {"BuildDate": "2026-08-12T00:00:00Z", "Revision": REVISION, "Version": VERSION,
                    "VersionPrerelease": "", "VersionMetadata": ""},
        "Files": ["/etc/nomad.d/nomad.hcl"], "ConfigPaths": ["/etc/nomad.d"],
        "TLSConfig": {"EnableHTTP": false, "EnableRPC": false, "VerifyServerHostname": false,
                      "CAFile": "", "CertFile": "", "KeyFile": ""},
        "HTTPAPIResponseHeaders": {}, "Sentinel": null,
        "Autopilot": {"CleanupDeadServers": true, "LastContactThreshold": 200000000i64,
                      "MaxTrailingLogs": 250, "ServerStabilizationTime": 10000000000i64},
        "Plugins": [], "Limits": {"HTTPSHandshakeTimeout": "5s", "HTTPMaxConnsPerClient": 100,
                                  "RPCHandshakeTimeout": "5s", "RPCMaxConnsPerClient": 100},
        "Audit": null, "Reporting": {"License": {"Enabled": false}}, "KEKProviders": [], "Eventlog": null,
    });
    if let (Value::Object(c), Value::Object(r)) = (&mut config, rest) {
        c.extend(r);
    }
    config
}
