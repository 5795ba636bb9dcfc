//! `/v1/agent/reload` end to end: success, the agent's 500 on a failed reload, `agent:write`.

use nomad_blocking::http::StatusCode;
use nomad_blocking::test_agent::{Capability, TestAgent};

use crate::{agent_message, client, client_with_token, start};

#[test]
fn reload_succeeds_with_an_empty_answer() {
    let agent = start(TestAgent::builder());
    client(&agent).agent().reload().expect("reload");
    assert_eq!(agent.with_state(|s| s.reloads), 1);
    let req = agent.last_request().unwrap();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("PUT", "/v1/agent/reload"));
    assert!(req.body.is_empty());
}

#[test]
fn reload_failure_carries_the_agent_error() {
    let agent = start(TestAgent::builder());
    agent.with_state(|s| s.reload_error = Some("error loading configuration: bad hcl".into()));
    let err = client(&agent).agent().reload().unwrap_err();
    assert_eq!(
        agent_message(&err),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "error loading configuration: bad hcl"
        )
    );
    assert!(err.to_string().contains("bad hcl"));
}

#[test]
fn reload_needs_agent_write() {
    let agent = start(
        TestAgent::builder()
            .token("reader", &[Capability::AgentRead])
            .token("writer", &[Capability::AgentWrite]),
    );
    assert!(client(&agent).agent().reload().unwrap_err().is_permission_denied());
    assert!(client_with_token(&agent, "reader")
        .agent()
        .reload()
        .unwrap_err()
        .is_permission_denied());
    client_with_token(&agent, "writer")
        .agent()
        .reload()
        .expect("agent:write reloads");
    assert_eq!(agent.with_state(|s| s.reloads), 1);
}
