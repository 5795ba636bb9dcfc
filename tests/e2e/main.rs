//! End to end: the real ureq-backed `nomad_blocking::Client` against the loopback test agent
//! (`nomad_blocking::test_agent`), one module per endpoint family as in `nomad-proto/src/agent/`,
//! plus the cross-cutting `access` (roles and ACLs), `transport` (gzip, body limit, connection
//! reuse), `operations` (every operation is documented, toured, served and fuzzed) and `raw`
//! (endpoints of a user's own and raw calls), and the test agent's own API as users' tests use
//! it: `cluster` (`TestCluster`) and `test_double` (state types, log feeds, start errors).
//!
//! The test agent's own answers are checked against Nomad in `tests/test_agent.rs`; failure
//! modes of misbehaving servers are in `tests/hostile.rs`.

#[path = "../support/mod.rs"]
mod support;

mod access;
mod cluster;
mod health;
mod host;
mod keyring;
mod members;
mod monitor;
mod operations;
mod pprof;
mod raw;
mod reload;
mod schedulers;
mod self_info;
mod test_double;
mod transport;

use nomad_blocking::http::StatusCode;
use nomad_blocking::proto::ResponseError;
use nomad_blocking::test_agent::{Capability, Role, TestAgent, TestAgentBuilder};
use nomad_blocking::{Client, Error};

/// The warning of a Nomad 2.0 agent that runs a join without `agent:write`.
const DEPRECATION: &str = "anonymous server join is deprecated and will be removed in a future version of Nomad";

fn start(builder: TestAgentBuilder) -> TestAgent {
    builder.start().expect("test agent starts")
}

fn start_as(role: Role) -> TestAgent {
    start(TestAgent::builder().role(role))
}

/// An agent with ACLs: a management token `root-token`, `agent-writer` (agent:write) and
/// `node-reader` (node:read).
fn acl_agent() -> TestAgent {
    start(
        TestAgent::builder()
            .role(Role::Both)
            .acl("root-token")
            .token("agent-writer", &[Capability::AgentWrite])
            .token("node-reader", &[Capability::NodeRead]),
    )
}

fn client(agent: &TestAgent) -> Client {
    agent.client().expect("client builds")
}

fn client_with_token(agent: &TestAgent, token: &str) -> Client {
    agent.client_with_token(token).expect("client builds")
}

/// The gossip status the agent holds for `node` (its state, not the client's answer).
fn member_status(agent: &TestAgent, node: &str) -> Option<String> {
    agent.with_state(|s| s.members.iter().find(|m| m.node == node).map(|m| m.status.to_string()))
}

fn response_error(err: &Error) -> &ResponseError {
    err.as_response()
        .unwrap_or_else(|| panic!("expected a response error, got {err:?}"))
}

/// The status and the text of the agent's error answer.
fn agent_message(err: &Error) -> (StatusCode, &str) {
    let e = response_error(err);
    (e.status().expect("status"), e.message().expect("agent message"))
}

/// The JSON the agent sends for `GET path`, read off the wire with no client in between.
fn raw_json(agent: &TestAgent, path: &str) -> serde_json::Value {
    let answer = support::raw_exchange(agent.socket_addr().unwrap(), "GET", path, &[], b"");
    assert_eq!(answer.status, 200, "{path}: {}", answer.text());
    serde_json::from_slice(&answer.body).expect("JSON")
}
