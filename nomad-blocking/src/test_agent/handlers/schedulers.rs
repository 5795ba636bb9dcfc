//! `/v1/agent/schedulers` and `/v1/agent/schedulers/config`: a server's scheduler workers and
//! their pool settings.

use serde_json::Value;

use crate::test_agent::acl::acl;
use crate::test_agent::json::{go_struct, Node};
use crate::test_agent::reply::{invalid_method, is_get, is_write, ok_json, server_only, text, try_reply, Reply};
use crate::test_agent::{AgentState, Capability, RecordedRequest};

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        "/v1/agent/schedulers" => workers_info(state, req),
        "/v1/agent/schedulers/config" => worker_config(state, req),
        _ => return None,
    })
}

fn workers_info(state: &AgentState, req: &RecordedRequest) -> Reply {
    // The role is checked before the method.
    if !state.role.server() {
        return server_only();
    }
    if !is_get(req) {
        return invalid_method();
    }
    try_reply!(acl(state, req, Capability::AgentRead));
    ok_json(&workers_json(state))
}

fn worker_config(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    if !state.role.server() {
        return server_only();
    }
    if is_get(req) {
        try_reply!(acl(state, req, Capability::AgentRead));
        return ok_json(&config_json(state));
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
    ok_json(&config_json(state))
}

/// `/v1/agent/schedulers`: `num_schedulers` workers; on the leader three quarters are paused
/// (Nomad `nomad/leader.go`).
fn workers_json(state: &AgentState) -> Node {
    let n = state.num_schedulers as usize;
    let paused = if state.is_leader() { 3 * n / 4 } else { 0 };
    let workers: Vec<Node> = (0..n)
        .map(|i| {
            let (status, workload) = if i < paused {
                ("Paused", "Paused")
            } else {
                ("Started", "WaitingToDequeue")
            };
            go_struct! {
                "id" => format!("5669d6fa-0def-7369-6558-a47c35fd{i:04x}"),
                "enabled_schedulers" => state.enabled_schedulers.clone(),
                "started" => format!("2026-08-20T09:15:00.91{:04}Z", 1883 + i * 7),
                "status" => status,
                "workload_status" => workload,
            }
        })
        .collect();
    go_struct! {"server_id" => state.serf_name(), "schedulers" => workers}
}

/// `/v1/agent/schedulers/config` (GET, and the answer of PUT).
fn config_json(state: &AgentState) -> Node {
    go_struct! {
        "server_id" => state.serf_name(),
        "num_schedulers" => state.num_schedulers,
        "enabled_schedulers" => state.enabled_schedulers.clone(),
    }
}
