//! Request handling: what a Nomad 2.0 agent answers, endpoint by endpoint
//! (see `shared/nomad-agent-api.md`).

use std::io::Read;

use serde_json::{json, Value};

use super::{data, AgentState, RecordedRequest};

/// An ACL capability a test token can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capability {
    /// Everything.
    Management,
    /// `agent:read`.
    AgentRead,
    /// `agent:write` (implies `agent:read`).
    AgentWrite,
    /// `node:read`.
    NodeRead,
}

/// What the agent answers.
pub(crate) enum Reply {
    /// 200 (or another status) with compact JSON and `Content-Type: application/json`.
    Json(u16, Vec<u8>),
    /// An error: `text/plain; charset=utf-8`, the bare message, no newline.
    Text(u16, String),
    /// 200 with raw bytes (pprof).
    #[allow(dead_code)]
    Bytes { content_type: &'static str, body: Vec<u8> },
    /// 200, empty body, no content type.
    Empty,
    /// 404 with an empty body (unknown path).
    NotFound,
    /// A redirect with a Location header.
    Redirect(u16, String),
    /// A streaming 200 body.
    #[allow(dead_code)]
    Stream {
        content_type: &'static str,
        body: Box<dyn Read + Send>,
    },
}

fn ok_json(v: &Value) -> Reply {
    Reply::Json(200, serde_json::to_vec(v).expect("json"))
}

pub(crate) fn text(status: u16, msg: &str) -> Reply {
    Reply::Text(status, msg.to_owned())
}

fn invalid_method() -> Reply {
    text(405, "Invalid method")
}

fn wrong_role() -> Reply {
    text(501, "Invalid method")
}

/// The token of a request: `X-Nomad-Token` (trimmed) wins over `Authorization: Bearer`.
fn request_token(req: &RecordedRequest) -> Result<Option<String>, Reply> {
    let x = req.header_all("x-nomad-token");
    if x.len() > 1 {
        return Err(text(400, "Invalid number of Nomad Tokens"));
    }
    if let Some(t) = x.first() {
        return Ok(Some(t.trim().to_owned()));
    }
    if let Some(auth) = req.header("authorization") {
        let mut parts = auth.split_whitespace();
        if parts.next().is_some_and(|s| s.eq_ignore_ascii_case("bearer")) {
            return Ok(parts.next().map(str::to_owned));
        }
    }
    Ok(None)
}

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

macro_rules! check {
    ($e:expr) => {
        if let Err(reply) = $e {
            return reply;
        }
    };
}

fn is_get(req: &RecordedRequest) -> bool {
    req.method == "GET"
}

fn is_write(req: &RecordedRequest) -> bool {
    req.method == "PUT" || req.method == "POST"
}

pub(crate) fn handle(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    match req.path.as_str() {
        "/" => Reply::Redirect(307, "/ui/".into()),
        "/v1/agent/members" => members(state, req),
        "/v1/agent/servers" => servers(state, req),
        "/v1/agent/self" => agent_self(state, req),
        "/v1/agent/join" => join(state, req),
        "/v1/agent/force-leave" => force_leave(state, req),
        "/v1/agent/health" => health(state, req),
        "/v1/agent/monitor" => super::monitor::monitor(state, req),
        "/v1/agent/monitor/export" => super::monitor::export(state, req),
        _ => Reply::NotFound,
    }
}

fn members(state: &AgentState, req: &RecordedRequest) -> Reply {
    if !is_get(req) {
        return invalid_method();
    }
    check!(acl(state, req, Capability::NodeRead));
    ok_json(&data::members(state))
}

fn servers(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    if !state.role.client() {
        return wrong_role();
    }
    if is_get(req) {
        check!(acl(state, req, Capability::AgentRead));
        let mut servers = state.servers.clone();
        servers.sort();
        return ok_json(&json!(servers));
    }
    if is_write(req) {
        let addresses: Vec<String> = req.query_all("address").into_iter().map(str::to_owned).collect();
        if addresses.is_empty() {
            return text(400, "missing server address");
        }
        check!(acl(state, req, Capability::AgentWrite));
        state.servers = addresses;
        return Reply::Empty;
    }
    invalid_method()
}

fn agent_self(state: &AgentState, req: &RecordedRequest) -> Reply {
    if !is_get(req) {
        return invalid_method();
    }
    check!(acl(state, req, Capability::AgentRead));
    ok_json(&data::agent_self(state))
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
                let n = state.members.len() + 1;
                state.members.push(data::Member {
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
    check!(acl(state, req, Capability::AgentWrite));
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
    let region_suffix = format!(".{}", state.region);
    let short = node.strip_suffix(&region_suffix).unwrap_or(&node).to_owned();
    if prune {
        state.members.retain(|m| m.node != short);
    } else if let Some(m) = state.members.iter_mut().find(|m| m.node == short) {
        m.status = "left".into();
    }
    Reply::Empty
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
    let mut body = serde_json::Map::new();
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
        body.insert("client".into(), json!({"ok": ok, "message": message}));
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
        body.insert("server".into(), json!({"ok": ok, "message": message}));
    }
    let bytes = serde_json::to_vec(&Value::Object(body)).expect("json");
    if healthy {
        Reply::Json(200, bytes)
    } else {
        // The agent's wrap layer sends the JSON as an error: text/plain content type.
        Reply::Text(500, String::from_utf8(bytes).expect("json is utf-8"))
    }
}
