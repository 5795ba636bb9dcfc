//! Who may ask: the tokens of a request, their capabilities (the [`Capability`] each test token
//! holds is part of the agent's state), and the ACL checks of the endpoints (`agent:read`,
//! `agent:write`, `node:read`; the debug endpoints' `enable_debug`).

use super::reply::{text, Reply};
use super::{AgentState, Capability, RecordedRequest};

/// The token of a request: `X-Nomad-Token` (trimmed) wins over `Authorization: Bearer`.
fn request_token(req: &RecordedRequest) -> Result<Option<String>, Reply> {
    // As the agent's parseToken: an empty X-Nomad-Token is ignored (Authorization: Bearer is
    // tried next), and a blank one trims to "", the anonymous token.
    let x: Vec<&str> = req
        .header_all("x-nomad-token")
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect();
    if x.len() > 1 {
        return Err(text(400, "Invalid number of Nomad Tokens"));
    }
    if let Some(t) = x.first() {
        let t = t.trim();
        return Ok((!t.is_empty()).then(|| t.to_owned()));
    }
    if let Some(auth) = req.header("authorization") {
        let mut parts = auth.split_whitespace();
        if parts.next().is_some_and(|s| s.eq_ignore_ascii_case("bearer")) {
            return Ok(parts.next().map(str::to_owned));
        }
    }
    Ok(None)
}

/// The capabilities of the request's token: `None` with ACLs off, none for the anonymous token,
/// a 403 for a token the agent does not know.
fn capabilities(state: &AgentState, req: &RecordedRequest) -> Result<Option<Vec<Capability>>, Reply> {
    if state.tokens.is_empty() {
        return Ok(None); // ACLs off
    }
    match request_token(req)? {
        None => Ok(Some(Vec::new())), // anonymous
        Some(t) => match state.tokens.get(&t) {
            Some(caps) => Ok(Some(caps.clone())),
            None => Err(text(403, "ACL token not found")),
        },
    }
}

fn allows(caps: &[Capability], need: Capability) -> bool {
    caps.iter().any(|c| {
        *c == Capability::Management || *c == need || (need == Capability::AgentRead && *c == Capability::AgentWrite)
    })
}

/// Checks `need`; ACLs off allows everything.
pub(crate) fn acl(state: &AgentState, req: &RecordedRequest, need: Capability) -> Result<(), Reply> {
    match capabilities(state, req)? {
        None => Ok(()),
        Some(caps) if allows(&caps, need) => Ok(()),
        Some(_) => Err(text(403, "Permission denied")),
    }
}

/// `AllowAgentDebug(enable_debug)`: with ACLs on, the capability; with ACLs off, only
/// `enable_debug`.
pub(crate) fn debug_acl(state: &AgentState, req: &RecordedRequest, need: Capability) -> Result<(), Reply> {
    match capabilities(state, req)? {
        None if state.enable_debug => Ok(()),
        Some(caps) if allows(&caps, need) => Ok(()),
        _ => Err(text(403, "Permission denied")),
    }
}
