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
    /// 200 with raw bytes (pprof), optionally with `Content-Disposition`.
    Bytes {
        content_type: &'static str,
        disposition: Option<String>,
        body: Vec<u8>,
    },
    /// 200, empty body, no content type.
    Empty,
    /// 404 with an empty body (unknown path).
    NotFound,
    /// A redirect with a Location header.
    Redirect(u16, String),
    /// Another reply, sent after a delay (CPU profiles and traces record for `seconds`).
    After(std::time::Duration, Box<Reply>),
    /// A streaming 200 body.
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

/// `Ok(v)` → `v`; `Err(reply)` → answer with that reply.
macro_rules! try_reply {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}
pub(crate) use try_reply;

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
        "/v1/agent/reload" => reload(state, req),
        "/v1/agent/host" => host(state, req),
        "/v1/agent/schedulers" => schedulers(state, req),
        "/v1/agent/schedulers/config" => scheduler_config(state, req),
        // Go's ServeMux redirects a subtree root without its trailing slash.
        "/v1/agent/pprof" => Reply::Redirect(301, "/v1/agent/pprof/".into()),
        "/v1/agent/keyring" => Reply::Redirect(301, "/v1/agent/keyring/".into()),
        path if path.starts_with("/v1/agent/pprof/") => pprof(state, req, &path["/v1/agent/pprof/".len()..]),
        path if path.starts_with("/v1/agent/keyring/") => keyring(state, req, &path["/v1/agent/keyring/".len()..]),
        _ => Reply::NotFound,
    }
}

fn members(state: &AgentState, req: &RecordedRequest) -> Reply {
    if !is_get(req) {
        return invalid_method();
    }
    try_reply!(acl(state, req, Capability::NodeRead));
    ok_json(&data::members(state))
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

fn agent_self(state: &AgentState, req: &RecordedRequest) -> Reply {
    if !is_get(req) {
        return invalid_method();
    }
    try_reply!(acl(state, req, Capability::AgentRead));
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
                // The first free name: after a prune, `len + 1` may already be taken.
                let n = (1..)
                    .find(|n| !state.members.iter().any(|m| m.node == format!("nomad-{n}")))
                    .expect("a free name");
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

/// `AllowAgentDebug(enable_debug)`: with ACLs on, the capability; with ACLs off, only
/// `enable_debug`.
fn debug_acl(state: &AgentState, req: &RecordedRequest, need: Capability) -> Result<(), Reply> {
    match capabilities(state, req)? {
        None if state.enable_debug => Ok(()),
        Some(caps) if allows(&caps, need) => Ok(()),
        _ => Err(text(403, "Permission denied")),
    }
}

/// Resolves `node_id` / `server_id` to the answering agent's ID. The test agent knows its own
/// node and the servers among its gossip members (or `leader`). The exact errors for unknown IDs
/// are UNVERIFIED against a real agent.
/// `node_id` / `server_id` of the streaming and debug endpoints: not both, and only agents the
/// cluster knows (checked before answering).
pub(crate) fn target(state: &AgentState, req: &RecordedRequest) -> Result<(), Reply> {
    let node_id = req.query_param("node_id").unwrap_or("");
    let server_id = req.query_param("server_id").unwrap_or("");
    if !node_id.is_empty() && !server_id.is_empty() {
        return Err(text(400, "Cannot target node and server simultaneously"));
    }
    forward_target(state, node_id, server_id).map(drop)
}

fn forward_target(state: &AgentState, node_id: &str, server_id: &str) -> Result<Option<String>, Reply> {
    if !node_id.is_empty() {
        if state.role.client() && node_id == data::NODE_ID {
            return Ok(Some(node_id.to_owned()));
        }
        return Err(text(404, &format!("Unknown node {node_id}")));
    }
    if !server_id.is_empty() {
        if server_id == "leader" && state.has_leader {
            return Ok(Some(format!("nomad-1.{}", state.region)));
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
        Ok(None) => ok_json(&data::host_data(state)),
        Ok(Some(agent_id)) => ok_json(&json!({"AgentID": agent_id, "HostData": data::host_data(state)})),
        Err(reply) => reply,
    }
}

fn server_only() -> Reply {
    text(400, "Server only endpoint")
}

fn schedulers(state: &AgentState, req: &RecordedRequest) -> Reply {
    // The role is checked before the method.
    if !state.role.server() {
        return server_only();
    }
    if !is_get(req) {
        return invalid_method();
    }
    try_reply!(acl(state, req, Capability::AgentRead));
    ok_json(&data::scheduler_workers(state))
}

fn scheduler_config(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    if !state.role.server() {
        return server_only();
    }
    if is_get(req) {
        try_reply!(acl(state, req, Capability::AgentRead));
        return ok_json(&data::scheduler_config(state));
    }
    if !is_write(req) {
        return invalid_method();
    }
    try_reply!(acl(state, req, Capability::AgentWrite));
    if req.body.is_empty() {
        return text(400, "Invalid request: Request body is empty");
    }
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => return text(400, &format!("Invalid request: {e}")),
    };
    // Go decodes into {NumSchedulers int; EnabledSchedulers []string}; missing fields are zero.
    let num = match body.get("num_schedulers") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_i64() {
            Some(n) => n,
            None => {
                let error = format!("cannot unmarshal {v} into Go struct field .num_schedulers of type int");
                return text(400, &format!("Invalid request: json: {error}"));
            }
        },
    };
    let enabled: Vec<String> = match body.get("enabled_schedulers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()
        }
        Some(_) => {
            return text(
                400,
                "Invalid request: json: cannot unmarshal into Go struct field .enabled_schedulers of type []string",
            )
        }
    };
    // SchedulerWorkerPoolArgs.IsValid: 0..=NumCPU workers, `_core` present, only built-ins.
    let builtin = ["service", "batch", "system", "sysbatch"];
    let valid = (0..=i64::from(state.cpu_count)).contains(&num)
        && enabled.iter().any(|s| s == "_core")
        && enabled.iter().all(|s| s == "_core" || builtin.contains(&s.as_str()));
    if !valid {
        return text(400, "Invalid request");
    }
    state.num_schedulers = u32::try_from(num).unwrap_or_default();
    state.enabled_schedulers = enabled;
    ok_json(&data::scheduler_config(state))
}

/// The gossip keyring (`/v1/agent/keyring/<op>`): any method, server only, `agent:write`.
fn keyring(state: &mut AgentState, req: &RecordedRequest, op: &str) -> Reply {
    if !state.role.server() {
        return wrong_role();
    }
    try_reply!(acl(state, req, Capability::AgentWrite));
    if op == "list" {
        return ok_json(&data::keyring(state));
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
    let nodes = data::alive_servers(state);
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
    ok_json(&data::keyring(state))
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

/// Named profiles of Go's runtime/pprof.
const RUNTIME_PROFILES: [&str; 6] = ["goroutine", "threadcreate", "heap", "allocs", "block", "mutex"];

/// `/v1/agent/pprof/<name>`: any method; bad integers become 0; `seconds` defaults to 1.
fn pprof(state: &AgentState, req: &RecordedRequest, name: &str) -> Reply {
    if name.is_empty() {
        return text(404, "Invalid method");
    }
    let int = |p: &str| req.query_param(p).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let seconds = match int("seconds") {
        s if s <= 0 => 1,
        s => s,
    };
    let debug = int("debug");
    try_reply!(target(state, req));
    // The RPC checks agent:write, and with ACLs off the agent needs enable_debug.
    try_reply!(debug_acl(state, req, Capability::AgentWrite));
    let binary = |body: Vec<u8>| Reply::Bytes {
        content_type: "application/octet-stream",
        disposition: Some(format!("attachment; filename=\"{name}\"")),
        body,
    };
    let plain = |body: Vec<u8>| Reply::Bytes {
        content_type: "text/plain; charset=utf-8",
        disposition: None,
        body,
    };
    match name {
        "cmdline" => plain(b"/usr/local/bin/nomad\0agent\0-config=/etc/nomad.d".to_vec()),
        "profile" | "trace" => {
            // The agent records for `seconds` before it answers (capped at a minute here); the
            // reply is sent from its own thread, so other requests are served meanwhile.
            let delay = std::time::Duration::from_secs(seconds.unsigned_abs().min(60));
            Reply::After(delay, Box::new(binary(data::profile_bytes(name, state.profile_size))))
        }
        _ if RUNTIME_PROFILES.contains(&name) => {
            if debug != 0 {
                plain(data::profile_text(name, debug).into_bytes())
            } else {
                binary(data::profile_bytes(name, state.profile_size))
            }
        }
        _ => text(404, &format!("Pprof profile not found profile: {name}")),
    }
}
