//! Fixtures shaped like a Nomad 2.0 agent's answers.

use serde_json::{json, Value};

use super::AgentState;

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

/// The node ID of the test agent's client.
pub(crate) const NODE_ID: &str = "f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f";

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

/// The serf name of the test agent's server, e.g. `nomad-1.global`.
pub(crate) fn server_name(state: &AgentState) -> String {
    format!("{}.{}", state.node_name, state.region)
}

/// `host.HostData`, as `/v1/agent/host` sends it (the environment's secrets already redacted).
pub(crate) fn host_data(state: &AgentState) -> Value {
    let loopback = json!({
        "DialPacket": "\"udp4\" \"\"", "DialStream": "\"tcp4\" \"\"", "ListenPacket": "\"udp4\" \"\"",
        "ListenStream": "\"tcp4\" \"\"", "address": "127.0.0.1", "binary": "01111111000000000000000000000001",
        "broadcast": "127.255.255.255", "first_usable": "127.0.0.1", "hex": "7f000001", "host": "127.0.0.1",
        "last_usable": "127.255.255.254", "mask_bits": "8", "netmask": "255.0.0.0", "network": "127.0.0.0",
        "octets": "127 0 0 1", "port": "0", "size": "16777216", "string": "127.0.0.1/8", "type": "IPv4",
        "uint32": "2130706433",
    });
    let eth0 = json!({
        "DialPacket": "\"udp4\" \"\"", "DialStream": "\"tcp4\" \"\"", "ListenPacket": "\"udp4\" \"\"",
        "ListenStream": "\"tcp4\" \"\"", "address": "10.0.0.1", "binary": "00001010000000000000000000000001",
        "broadcast": "10.0.0.255", "first_usable": "10.0.0.1", "hex": "0a000001", "host": "10.0.0.1",
        "last_usable": "10.0.0.254", "mask_bits": "24", "netmask": "255.255.255.0", "network": "10.0.0.0",
        "octets": "10 0 0 1", "port": "0", "size": "256", "string": "10.0.0.1/24", "type": "IPv4",
        "uint32": "167772161",
    });
    json!({
        "OS": format!("x86_64 {} 6.8.0-45-generic Linux #45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024",
                      state.node_name),
        "Network": [loopback, eth0],
        "ResolvConf": "nameserver 10.0.0.2\nsearch service.consul\n",
        "Hosts": format!("127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n10.0.0.1 {}\n", state.node_name),
        "Environment": {
            "HOME": "/root", "LANG": "C.UTF-8", "NOMAD_TOKEN": "<redacted>",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "INVOCATION_ID": "b106b6ac67764c9b9f85c5cc5c3357e5",
        },
        "Disk": {
            "/": {"DiskMB": 102_350, "UsedMB": 48_211},
            "/opt/nomad/data": {"DiskMB": 511_750, "UsedMB": 20_480},
        },
    })
}

/// `/v1/agent/schedulers`: `num_schedulers` workers; as on a leader, three quarters are paused.
pub(crate) fn scheduler_workers(state: &AgentState) -> Value {
    let n = state.num_schedulers as usize;
    let paused = if state.has_leader { 3 * n / 4 } else { 0 };
    let workers: Vec<Value> = (0..n)
        .map(|i| {
            let (status, workload) = if i < paused {
                ("Paused", "Paused")
            } else {
                ("Started", "WaitingToDequeue")
            };
            json!({
                "id": format!("5669d6fa-0def-7369-6558-a47c35fd{i:04x}"),
                "enabled_schedulers": state.enabled_schedulers,
                "started": format!("2026-08-20T09:15:00.91{:04}Z", 1883 + i * 7),
                "status": status,
                "workload_status": workload,
            })
        })
        .collect();
    json!({"server_id": server_name(state), "schedulers": workers})
}

/// `/v1/agent/schedulers/config` (GET, and the answer of PUT).
pub(crate) fn scheduler_config(state: &AgentState) -> Value {
    json!({
        "server_id": server_name(state),
        "num_schedulers": state.num_schedulers,
        "enabled_schedulers": state.enabled_schedulers,
    })
}

/// `structs.KeyringResponse`: every installed key is on every alive server.
pub(crate) fn keyring(state: &AgentState) -> Value {
    let nodes = alive_servers(state);
    let keys: serde_json::Map<String, Value> = state.gossip_keys.iter().map(|k| (k.clone(), json!(nodes))).collect();
    json!({"Messages": {}, "Keys": keys, "NumNodes": nodes})
}

/// How many servers answer a serf query (the alive gossip members).
pub(crate) fn alive_servers(state: &AgentState) -> usize {
    state.members.iter().filter(|m| m.status == "alive").count()
}

/// Plausible profile bytes of `size`: a gzip header (pprof's protobuf is gzipped) or a trace
/// header, then deterministic noise.
pub(crate) fn profile_bytes(name: &str, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    if name == "trace" {
        out.extend_from_slice(b"go 1.24 trace\x00\x00\x00");
    } else {
        out.extend_from_slice(&[0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
    }
    let mut x: u64 = name.bytes().fold(0x9e37_79b9_7f4a_7c15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    while out.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(size);
    out
}

/// A named profile as text (`debug=1`; `debug=2` for goroutine stacks).
pub(crate) fn profile_text(name: &str, debug: i64) -> String {
    match (name, debug) {
        ("goroutine", 2) => "goroutine 1 [chan receive, 42 minutes]:\n\
            main.main()\n\t/opt/nomad/main.go:40 +0x1c5\n\n\
            goroutine 57 [select]:\n\
            github.com/hashicorp/nomad/nomad.(*Worker).run(0xc000a1b2c0)\n\t/opt/nomad/nomad/worker.go:412 +0x2a5\n"
            .to_owned(),
        ("heap" | "allocs", _) => "heap profile: 12: 34560 [345: 1234567] @ heap/1048576\n\
            1: 8192 [1: 8192] @ 0x43a2f6 0x4064ac 0x46d2a1\n\
            #\t0x46d2a0\truntime/pprof.writeHeap+0x80\t/usr/local/go/src/runtime/pprof/pprof.go:540\n"
            .to_owned(),
        _ => format!(
            "{name} profile: total 144\n\
             12 @ 0x43a2f6 0x4064ac 0x46d2a1\n\
             #\t0x46d2a0\tgithub.com/hashicorp/nomad/nomad.(*Worker).run+0x80\t/opt/nomad/nomad/worker.go:412\n"
        ),
    }
}
