//! The region's status: `/v1/status/leader`, `/v1/status/peers` and `/v1/regions` (Nomad
//! `command/agent/status_endpoint.go` and `region_endpoint.go`). Not agent endpoints, but the
//! small reads that custom endpoints and raw calls are tried on.
//!
//! All three are `GET` only (405 `Invalid method` otherwise) and check no ACL: the `Status.Leader`,
//! `Status.Peers` and `Region.List` RPCs behind them take no token. A client agent forwards them
//! to a server, so they answer on every role.

use serde_json::json;

use crate::test_agent::reply::{invalid_method, is_get, ok_json, Reply};
use crate::test_agent::{AgentState, MemberStatus, RecordedRequest};

/// The RPC port of every server of the test cluster (`rpc_addr` + `port` of the members' tags).
const RPC_PORT: u16 = 4647;

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    let answer = match req.path.as_str() {
        "/v1/status/leader" => leader,
        "/v1/status/peers" => peers,
        "/v1/regions" => regions,
        _ => return None,
    };
    Some(if is_get(req) { answer(state) } else { invalid_method() })
}

/// The leader's RPC address as a JSON string (the one `self` reports as `leader_addr`), or `""`
/// when the region has no leader, as Raft reports it.
fn leader(state: &AgentState) -> Reply {
    ok_json(&json!(state.leader_addr().unwrap_or_default()))
}

/// The Raft peers' RPC addresses, in member order: every server that has not left. Nomad answers
/// `[]` rather than `null` for none.
fn peers(state: &AgentState) -> Reply {
    let peers: Vec<String> = state
        .members
        .iter()
        .filter(|member| member.status != MemberStatus::Left)
        .map(|member| std::net::SocketAddr::new(member.addr, RPC_PORT).to_string())
        .collect();
    ok_json(&json!(peers))
}

/// The known regions (Nomad's `Server.Regions` sorts them): the one region of the test cluster.
fn regions(state: &AgentState) -> Reply {
    ok_json(&json!([state.region]))
}
