//! Membership: `/v1/agent/members`, `/v1/agent/servers`, `/v1/agent/join` and
//! `/v1/agent/force-leave` (the gossip members of the region, the servers a client knows).

use serde_json::{json, Value};

use crate::test_agent::acl::{acl, Capability};
use crate::test_agent::reply::{invalid_method, is_get, is_write, ok_json, text, try_reply, wrong_role, Reply};
use crate::test_agent::{AgentState, RecordedRequest};

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
    let mut joined = 0;
    let mut errors = Vec::new();
    for addr in addresses {
        if state.joinable.iter().any(|j| j == addr) {
            joined += 1;
            let host = addr.split(':').next().unwrap_or(addr).to_owned();
            if !state.members.iter().any(|m| m.addr == host) {
                // The first free name: after a prune, `len + 1` may already be taken.
                let n = (1..)
                    .find(|n| !state.members.iter().any(|m| m.node == format!("nomad-{n}")))
                    .expect("a free name");
                state.members.push(Member {
                    node: format!("nomad-{n}"),
                    addr: host,
                    status: "alive".into(),
                });
            }
        } else {
            let with_port = if addr.contains(':') {
                addr.to_owned()
            } else {
                format!("{addr}:4648")
            };
            errors.push(format!(
                "* Failed to join {with_port}: dial tcp {with_port}: connect: connection refused"
            ));
        }
    }
    let error = if errors.is_empty() {
        String::new()
    } else {
        format!("{} error occurred:\n\t{}\n\n", errors.len(), errors.join("\n\t"))
    };
    ok_json(&json!({"num_joined": joined, "error": error, "warning": warning}))
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
        m.status = "left".into();
    }
    Reply::Empty
}

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

/// Three alive servers, `nomad-1` to `nomad-3` at `10.0.0.1` to `10.0.0.3` (their serf names
/// follow the region: `nomad-1.global`).
pub(crate) fn default_members() -> Vec<Member> {
    (1..=3)
        .map(|i| Member {
            node: format!("nomad-{i}"),
            addr: format!("10.0.0.{i}"),
            status: "alive".into(),
        })
        .collect()
}

/// A serf member as `/v1/agent/members` and `/v1/agent/self` send it.
pub(crate) fn member_json(m: &Member, state: &AgentState) -> Value {
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

/// `/v1/agent/members`.
fn members_json(state: &AgentState) -> Value {
    json!({
        "ServerName": state.node_name, "ServerRegion": state.region, "ServerDC": state.datacenter,
        "Members": state.members.iter().map(|m| member_json(m, state)).collect::<Vec<_>>(),
    })
}
