//! `/v1/agent/health` end to end: healthy agents, the unhealthy 500 reports (no leader, no
//! known servers, a role the agent does not run), `type=` for one or both roles, no ACL.

use nomad_blocking::http::StatusCode;
use nomad_blocking::proto::agent::{AgentRole, GetHealth};
use nomad_blocking::test_agent::{Role, TestAgent};

use crate::{acl_agent, start_as};

#[test]
fn health_of_a_healthy_agent() {
    let agent = start_as(Role::Both);
    let report = agent.client().unwrap().agent().health().unwrap();
    assert!(report.is_healthy());
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(report.checks().count(), 2);
    assert!(report.problems().is_empty());
}

#[test]
fn health_needs_no_token_even_with_acls_on() {
    let agent = acl_agent();
    assert!(agent.client().unwrap().agent().health().unwrap().is_healthy());
}

#[test]
fn no_leader_is_an_ok_report_with_status_500_and_not_healthy() {
    let agent = TestAgent::builder().role(Role::Server).leader(false).start().unwrap();
    let report = agent.client().unwrap().agent().health().unwrap();
    assert!(!report.is_healthy());
    assert_eq!(report.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(report.problems(), ["server: no leader"]);
    assert!(report.client.is_none());
}

#[test]
fn losing_the_leader_turns_health_unhealthy_and_back() {
    let agent = start_as(Role::Both);
    let client = agent.client().unwrap();
    assert!(client.agent().health().unwrap().is_healthy());
    agent.with_state(|s| s.has_leader = false);
    let report = client.agent().health().unwrap();
    assert_eq!(report.problems(), ["server: no leader"]);
    assert!(report.client.as_ref().unwrap().ok);
    agent.with_state(|s| s.has_leader = true);
    assert!(client.agent().health().unwrap().is_healthy());
}

#[test]
fn type_client_on_a_server_only_agent_is_client_not_enabled() {
    let agent = start_as(Role::Server);
    let report = agent.client().unwrap().agent().health_of(AgentRole::Client).unwrap();
    assert_eq!(agent.last_request().unwrap().raw_query, "type=client");
    assert!(!report.is_healthy());
    assert_eq!(report.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(report.problems(), ["client: client not enabled"]);
    assert!(report.server.is_none(), "only the asked role is reported");
}

#[test]
fn both_types_on_a_server_only_agent_report_each() {
    let agent = start_as(Role::Server);
    let report = agent
        .client()
        .unwrap()
        .call(&GetHealth::new().role(AgentRole::Client).role(AgentRole::Server))
        .unwrap();
    assert_eq!(agent.last_request().unwrap().query_all("type"), ["client", "server"]);
    assert_eq!(report.problems(), ["client: client not enabled"]);
    assert!(report.server.unwrap().ok);
}

#[test]
fn a_client_without_known_servers_is_unhealthy() {
    let agent = TestAgent::builder().role(Role::Client).servers(&[]).start().unwrap();
    let report = agent.client().unwrap().agent().health().unwrap();
    assert_eq!(report.problems(), ["client: no known servers"]);
}
