//! `/v1/agent/host`: the host data of this agent, or of another one it forwards to (a debug
//! endpoint: with ACLs off it needs `enable_debug`).

use serde_json::json;

use crate::test_agent::acl::debug_acl;
use crate::test_agent::json::{go_struct, Node};
use crate::test_agent::reply::{invalid_method, is_get, ok_json, text, try_reply, Reply};
use crate::test_agent::target::forward_target;
use crate::test_agent::{AgentState, Capability, RecordedRequest};

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        "/v1/agent/host" => host(state, req),
        _ => return None,
    })
}

fn host(state: &AgentState, req: &RecordedRequest) -> Reply {
    if !is_get(req) {
        return invalid_method();
    }
    try_reply!(debug_acl(state, req, Capability::AgentRead));
    let server_id = req.query_param("server_id").unwrap_or("");
    let node_id = req.query_param("node_id").unwrap_or("");
    if !server_id.is_empty() && !node_id.is_empty() {
        return text(400, "Can only forward to either client node or server");
    }
    match forward_target(state, node_id, server_id) {
        // The local agent answers the bare HostData object.
        Ok(None) => ok_json(&host_data(state)),
        Ok(Some(agent_id)) => ok_json(&go_struct! {"AgentID" => agent_id, "HostData" => host_data(state)}),
        Err(reply) => reply,
    }
}

/// `host.HostData`, as `/v1/agent/host` sends it (the environment's secrets already redacted;
/// the struct's fields in declaration order, its maps as Go maps).
fn host_data(state: &AgentState) -> Node {
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
    go_struct! {
        "OS" => format!("x86_64 {} 6.8.0-45-generic Linux #45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024",
                        state.node_name),
        "Network" => json!([loopback, eth0]),
        "ResolvConf" => "nameserver 10.0.0.2\nsearch service.consul\n",
        "Hosts" => format!("127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n10.0.0.1 {}\n", state.node_name),
        "Environment" => json!({
            "HOME": "/root", "LANG": "C.UTF-8", "NOMAD_TOKEN": "<redacted>",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "INVOCATION_ID": "b106b6ac67764c9b9f85c5cc5c3357e5",
        }),
        "Disk" => json!({
            "/": {"DiskMB": 102_350, "UsedMB": 48_211},
            "/opt/nomad/data": {"DiskMB": 511_750, "UsedMB": 20_480},
        }),
    }
}
