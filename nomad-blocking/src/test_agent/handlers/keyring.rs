//! `/v1/agent/keyring/<op>`: the gossip encryption keys (list, install, use, remove).

use serde_json::{json, Value};

use crate::test_agent::acl::acl;
use crate::test_agent::json::{go_struct, Node};
use crate::test_agent::reply::{ok_json, text, try_reply, wrong_role, Reply};
use crate::test_agent::{AgentState, Capability, RecordedRequest};

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        // Go's ServeMux redirects a subtree root without its trailing slash.
        "/v1/agent/keyring" => Reply::Redirect(301, "/v1/agent/keyring/".into()),
        path => keyring(state, req, path.strip_prefix("/v1/agent/keyring/")?),
    })
}

/// The gossip keyring (`/v1/agent/keyring/<op>`): any method, server only, `agent:write`.
fn keyring(state: &mut AgentState, req: &RecordedRequest, op: &str) -> Reply {
    if !state.role.server() {
        return wrong_role();
    }
    try_reply!(acl(state, req, Capability::AgentWrite));
    if op == "list" {
        return ok_json(&keyring_json(state));
    }
    if !matches!(op, "install" | "use" | "remove") {
        return text(404, "resource not found");
    }
    if req.body.is_empty() {
        return text(400, "Request body is empty");
    }
    let key = match serde_json::from_slice::<Value>(&req.body) {
        Ok(v) => v.get("Key").and_then(Value::as_str).unwrap_or("").to_owned(),
        Err(e) => return text(400, &e.to_string()),
    };
    // serf decodes the key first; then every server applies the change or reports failure.
    let len = match base64_decoded_len(&key) {
        Ok(len) => len,
        Err(at) => return text(500, &format!("illegal base64 data at input byte {at}")),
    };
    let nodes = state.alive_members();
    let failed = || text(500, &format!("{nodes}/{nodes} nodes reported failure"));
    let installed = state.gossip_keys.iter().position(|k| *k == key);
    match op {
        "install" => {
            if ![16, 24, 32].contains(&len) {
                return failed();
            }
            if installed.is_none() {
                state.gossip_keys.push(key);
            }
        }
        "use" => match installed {
            Some(i) => {
                let k = state.gossip_keys.remove(i);
                state.gossip_keys.insert(0, k);
            }
            None => return failed(),
        },
        _ => match installed {
            Some(0) => return failed(), // the primary key cannot be removed
            Some(i) => {
                state.gossip_keys.remove(i);
            }
            None => {}
        },
    }
    ok_json(&keyring_json(state))
}

/// The decoded length of standard, padded base64 (Go's `base64.StdEncoding`), or the index of
/// the first illegal byte.
fn base64_decoded_len(s: &str) -> Result<usize, usize> {
    let bytes = s.as_bytes();
    if bytes.len() % 4 != 0 {
        return Err(bytes.len() / 4 * 4);
    }
    let padding = bytes.iter().rev().take_while(|b| **b == b'=').count();
    if padding > 2 {
        return Err(bytes.len() - padding);
    }
    if let Some(at) = bytes[..bytes.len() - padding]
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/'))
    {
        return Err(at);
    }
    Ok(bytes.len() / 4 * 3 - padding)
}

/// `structs.KeyringResponse`: every installed key is on every alive server, and only the alive
/// ones answer (serf's `NumNodes`).
fn keyring_json(state: &AgentState) -> Node {
    let nodes = state.alive_members();
    let keys: serde_json::Map<String, Value> = state.gossip_keys.iter().map(|k| (k.clone(), json!(nodes))).collect();
    go_struct! {"Messages" => json!({}), "Keys" => Value::Object(keys), "NumNodes" => nodes}
}
