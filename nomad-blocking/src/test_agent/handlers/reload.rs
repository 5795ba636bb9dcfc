//! `/v1/agent/reload`: the agent re-reads its configuration (or fails with
//! [`AgentState::reload_error`](crate::test_agent::AgentState::reload_error)).

use crate::test_agent::acl::acl;
use crate::test_agent::reply::{invalid_method, is_write, text, try_reply, Reply};
use crate::test_agent::{AgentState, Capability, RecordedRequest};

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        "/v1/agent/reload" => reload(state, req),
        _ => return None,
    })
}

fn reload(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    if !is_write(req) {
        return invalid_method();
    }
    try_reply!(acl(state, req, Capability::AgentWrite));
    if let Some(error) = &state.reload_error {
        return text(500, error);
    }
    state.reloads += 1;
    Reply::Empty
}
