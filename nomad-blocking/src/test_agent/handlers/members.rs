//! Membership: `/v1/agent/members`, `/v1/agent/servers`, `/v1/agent/join` and
//! `/v1/agent/force-leave` (the gossip members of the region, the servers a client knows).

use std::net::{IpAddr, SocketAddr};

use nomad_proto::agent::MemberStatus;
use serde_json::json;

use crate::test_agent::acl::acl;
use crate::test_agent::json::{go_struct, Node};
use crate::test_agent::reply::{invalid_method, is_get, is_write, ok_json, text, try_reply, wrong_role, Reply};
use crate::test_agent::state::{RPC_PORT, SERF_PORT};
use crate::test_agent::{AgentState, Capability, Member, RecordedRequest};

/// The Nomad version and revision every member of the test cluster runs (tag `v2.0.5`).
pub(crate) const VERSION: &str = "2.0.5";
/// See [`VERSION`].
pub(crate) const REVISION: &str = "5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8";

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        "/v1/agent/members" => members(state, req),
        "/v1/agent/servers" => servers(state, req),
        "/v1/agent/join" => join(state, req),
        "/v1/agent/force-leave" => force_leave(state, req),
        _ => return None,
    })
}

fn members(state: &AgentState, req: &RecordedRequest) -> Reply {
    if !is_get(req) {
        return invalid_method();
    }
    try_reply!(acl(state, req, Capability::NodeRead));
    ok_json(&members_json(state))
}

fn servers(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    // Nomad switches on the verb first (405), then checks the role (501).
    if !is_get(req) && !is_write(req) {
        return invalid_method();
    }
    if !state.role.client() {
        return wrong_role();
    }
    if is_get(req) {
        try_reply!(acl(state, req, Capability::AgentRead));
        let mut servers = state.servers.clone();
        servers.sort();
        return ok_json(&json!(servers));
    }
    // PUT or POST
    let addresses: Vec<String> = req.query_all("address").into_iter().map(str::to_owned).collect();
    if addresses.is_empty() {
        return text(400, "missing server address");
    }
    try_reply!(acl(state, req, Capability::AgentWrite));
    state.servers = addresses;
    Reply::Empty
}

fn join(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    if !is_write(req) {
        return invalid_method();
    }
    if !state.role.server() {
        return wrong_role();
    }
    let addresses = req.query_all("address");
    if addresses.is_empty() {
        return text(400, "missing address to join");
    }
    // Nomad 2.0 runs the join even without agent:write and only warns (COMPAT(2.1.0)).
    let warning = match acl(state, req, Capability::AgentWrite) {
        Ok(()) => "",
        Err(_) => "anonymous server join is deprecated and will be removed in a future version of Nomad",
    };
    let mut joined = 0u32;
    let mut errors = Vec::new();
    for addr in addresses {
        let with_port = if addr.parse::<SocketAddr>().is_ok() {
            addr.to_owned()
        } else {
            match addr.parse::<IpAddr>() {
                Ok(ip) => SocketAddr::new(ip, SERF_PORT).to_string(),
                Err(_) => format!("{addr}:{SERF_PORT}"),
            }
        };
        if !state.joinable.iter().any(|j| j == addr) {
            errors.push(format!(
                "* Failed to join {with_port}: dial tcp {with_port}: connect: connection refused"
            ));
            continue;
        }
        // The test agent resolves no names: a joinable entry that is not an IP address fails
        // as a name that does not resolve.
        let Some(ip) = with_port.parse::<SocketAddr>().ok().map(|a| a.ip()) else {
            let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
            errors.push(format!("* Failed to join {with_port}: lookup {host}: no such host"));
            continue;
        };
        joined += 1;
        if !state.members.iter().any(|m| m.addr == ip) {
            // The first free name: after a prune, `len + 1` may already be taken.
            let n = (1..)
                .find(|n| !state.members.iter().any(|m| m.node == format!("nomad-{n}")))
                .expect("a free name");
            state.members.push(Member::new(format!("nomad-{n}"), ip));
        }
    }
    let error = if errors.is_empty() {
        String::new()
    } else {
        format!("{} error occurred:\n\t{}\n\n", errors.len(), errors.join("\n\t"))
    };
    ok_json(&go_struct! {"num_joined" => joined, "error" => error, "warning" => warning})
}

fn force_leave(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    if !is_write(req) {
        return invalid_method();
    }
    if !state.role.server() {
        return wrong_role();
    }
    try_reply!(acl(state, req, Capability::AgentWrite));
    let node = match req.query_param("node") {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => return text(400, "missing node to force leave"),
    };
    let prune = match req.query_param("prune") {
        None | Some("") => false,
        Some(v) => match nomad_proto::config::parse_go_bool(v) {
            Some(b) => b,
            None => return text(400, "invalid prune value"),
        },
    };
    // Serf knows members by their full name (`nomad-2.global`); any other name matches no member
    // and the agent still answers 200.
    let region_suffix = format!(".{}", state.region);
    let Some(short) = node.strip_suffix(&region_suffix) else {
        return Reply::Empty;
    };
    if prune {
        state.members.retain(|m| m.node != short);
    } else if let Some(m) = state.members.iter_mut().find(|m| m.node == short) {
        m.status = MemberStatus::Left;
    }
    Reply::Empty
}

/// A stable, made-up node ID for a member (the `id` tag, the raft server ID).
pub(crate) fn member_id(node: &str) -> String {
    let hash = node.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("5b2f8e4c-1d1a-4c3e-9a8b-{:012x}", hash & 0xffff_ffff_ffff)
}

/// A serf member as `/v1/agent/members` and `/v1/agent/self` send it (`serf.Member`, fields in
/// declaration order; the tags a Nomad 2.0 server sets, `nomad/server.go` `setupSerf`).
pub(crate) fn member_json(m: &Member, state: &AgentState) -> Node {
    let mut tags = json!({
        "role": "nomad", "region": state.region, "dc": state.datacenter, "build": VERSION,
        "revision": REVISION, "vsn": "1", "raft_vsn": "3", "id": member_id(&m.node),
        "rpc_addr": m.addr.to_string(), "port": RPC_PORT.to_string(),
    });
    if state.bootstrap_expect == 1 {
        tags["bootstrap"] = json!("1");
    }
    if state.bootstrap_expect != 0 {
        tags["expect"] = json!(state.bootstrap_expect.to_string());
    }
    for (key, value) in &m.tags {
        tags[key.as_str()] = json!(value);
    }
    go_struct! {
        "Name" => format!("{}.{}", m.node, state.region),
        "Addr" => m.addr.to_string(),
        "Port" => SERF_PORT,
        "Tags" => tags,
        "Status" => m.status.as_str(),
        "ProtocolMin" => 1u8,
        "ProtocolMax" => 5u8,
        "ProtocolCur" => 2u8,
        "DelegateMin" => 2u8,
        "DelegateMax" => 5u8,
        "DelegateCur" => 4u8,
    }
}

/// `/v1/agent/members` (`structs.ServerMembersResponse`).
fn members_json(state: &AgentState) -> Node {
    go_struct! {
        "ServerName" => state.node_name.as_str(),
        "ServerRegion" => state.region.as_str(),
        "ServerDC" => state.datacenter.as_str(),
        "Members" => state.members.iter().map(|m| member_json(m, state)).collect::<Vec<_>>(),
    }
}
