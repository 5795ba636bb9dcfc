//! Which agent answers: the `node_id` / `server_id` parameters with which the streaming and
//! debug endpoints forward a request to another agent of the cluster.

use super::reply::{text, Reply};
use super::{AgentState, RecordedRequest};

/// The node ID of the test agent's client.
pub(crate) const NODE_ID: &str = "f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f";

/// `node_id` / `server_id` of the log streams and pprof: not both, and only agents the cluster
/// knows (checked before answering).
pub(crate) fn target(state: &AgentState, req: &RecordedRequest) -> Result<(), Reply> {
    let node_id = req.query_param("node_id").unwrap_or("");
    let server_id = req.query_param("server_id").unwrap_or("");
    if !node_id.is_empty() && !server_id.is_empty() {
        return Err(text(400, "Cannot target node and server simultaneously"));
    }
    forward_target(state, node_id, server_id).map(drop)
}

/// Resolves `node_id` / `server_id` (at most one of them set) to the ID of the agent that
/// answers: `None` for this agent. The test agent knows its own client node ([`NODE_ID`]) and
/// the servers among its gossip members (by name, or `leader`). The error texts for unknown IDs
/// were not checked against a running agent.
pub(crate) fn forward_target(state: &AgentState, node_id: &str, server_id: &str) -> Result<Option<String>, Reply> {
    if !node_id.is_empty() {
        if state.role.client() && node_id == NODE_ID {
            return Ok(Some(node_id.to_owned()));
        }
        return Err(text(404, &format!("Unknown node {node_id}")));
    }
    if !server_id.is_empty() {
        if server_id == "leader" && state.has_leader {
            return Ok(Some(format!("{}.{}", state.leader, state.region)));
        }
        let known = state
            .members
            .iter()
            .any(|m| format!("{}.{}", m.node, state.region) == server_id || m.node == server_id);
        if known {
            return Ok(Some(server_id.to_owned()));
        }
        return Err(text(400, &format!("unknown nomad server {server_id}")));
    }
    Ok(None)
}
