//! Fixtures shaped like a Nomad 2.0 agent's answers.

use serde_json::{json, Value};

use super::{AgentState, Role};

/// A gossip member of the test cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Node name without region, e.g. `nomad-2`.
    pub node: String,
    /// Gossip address.
    pub addr: String,
    /// Serf status (`alive`, `left`, `failed`, …).
    pub status: String,
}

pub(crate) fn default_members(_region: &str, _dc: &str) -> Vec<Member> {
    (1..=3)
        .map(|i| Member {
            node: format!("nomad-{i}"),
            addr: format!("10.0.0.{i}"),
            status: "alive".into(),
        })
        .collect()
}

const VERSION: &str = "2.0.5";
const REVISION: &str = "5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8";

fn member_json(m: &Member, state: &AgentState) -> Value {
    let n: u32 = m.node.rsplit('-').next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let mut tags = json!({
        "role": "nomad", "region": state.region, "dc": state.datacenter, "build": VERSION,
        "revision": REVISION, "vsn": "1", "raft_vsn": "3",
        "id": format!("5b2f8e4c-1d1a-4c3e-9a8b-00000000000{n}"),
        "rpc_addr": m.addr, "port": "4647",
    });
    if n == 1 {
        tags["bootstrap"] = json!("1");
    } else {
        tags["expect"] = json!("3");
    }
    json!({
        "Name": format!("{}.{}", m.node, state.region), "Addr": m.addr, "Port": 4648, "Tags": tags,
        "Status": m.status, "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
        "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4,
    })
}

pub(crate) fn members(state: &AgentState) -> Value {
    json!({
        "ServerName": state.node_name, "ServerRegion": state.region, "ServerDC": state.datacenter,
        "Members": state.members.iter().map(|m| member_json(m, state)).collect::<Vec<_>>(),
    })
}

pub(crate) fn agent_self(state: &AgentState) -> Value {
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
                   "last_heartbeat": "3.2s", "node_id": "f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f",
                   "num_allocations": "2"}),
        );
    }
    stats.insert(
        "runtime".into(),
        json!({"arch": "amd64", "cpu_count": "8", "goroutines": "144", "kernel.name": "linux",
               "max_procs": "8", "version": "go1.24.6"}),
    );
    json!({
        "config": config(state),
        "member": member,
        "stats": stats,
    })
}

fn config(state: &AgentState) -> Value {
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
                   "NumSchedulers": 8, "EnabledSchedulers": ["service", "batch", "system", "sysbatch", "_core"],
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

#[allow(dead_code)]
pub(crate) fn role_name(role: Role) -> &'static str {
    match role {
        Role::Server => "server",
        Role::Client => "client",
        Role::Both => "both",
    }
}
