//! `/v1/agent/health`: the health of each role the agent runs (no ACL).

use serde_json::Value;

use crate::test_agent::reply::{invalid_method, is_get, Reply};
use crate::test_agent::{AgentState, RecordedRequest};

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        "/v1/agent/health" => health(state, req),
        _ => return None,
    })
}

fn health(state: &AgentState, req: &RecordedRequest) -> Reply {
    if !is_get(req) {
        return invalid_method();
    }
    let types = req.query_all("type");
    let want_client = if types.is_empty() {
        state.role.client()
    } else {
        types.contains(&"client")
    };
    let want_server = if types.is_empty() {
        state.role.server()
    } else {
        types.contains(&"server")
    };
    // Written by hand to keep Nomad's key order (`client`, `server`; `ok`, then `message`):
    // e.g. `{"client":{"ok":false,"message":"client not enabled"}}`.
    let section = |ok: bool, message: &str| format!(r#"{{"ok":{ok},"message":{}}}"#, Value::from(message));
    let mut body = Vec::new();
    let mut healthy = true;
    if want_client {
        let (ok, message) = if !state.role.client() {
            (false, "client not enabled")
        } else if state.servers.is_empty() {
            (false, "no known servers")
        } else {
            (true, "ok")
        };
        healthy &= ok;
        body.push(format!(r#""client":{}"#, section(ok, message)));
    }
    if want_server {
        let (ok, message) = if !state.role.server() {
            (false, "server not enabled")
        } else if !state.has_leader {
            (false, "no leader")
        } else {
            (true, "ok")
        };
        healthy &= ok;
        body.push(format!(r#""server":{}"#, section(ok, message)));
    }
    let body = format!("{{{}}}", body.join(","));
    if healthy {
        Reply::Json(200, body.into_bytes())
    } else {
        // The agent's wrap layer sends the JSON as an error: text/plain content type.
        Reply::Text(500, body)
    }
}
