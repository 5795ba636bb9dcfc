//! `/v1/agent/members`, `/v1/agent/servers` (GET and PUT), `/v1/agent/join` and
//! `/v1/agent/force-leave` end to end: the gossip members, a client's server list, joins and
//! their warnings and failures, force-leave and prune, the wrong-role 501s and the ACLs.

use nomad_blocking::http::StatusCode;
use nomad_blocking::proto::agent::MemberStatus;
use nomad_blocking::proto::ResponseError;
use nomad_blocking::test_agent::{Role, TestAgent};

use crate::{acl_agent, member_status, start_as, DEPRECATION};

#[test]
fn members_lists_the_gossip_members() {
    let agent = start_as(Role::Server);
    let members = agent.client().unwrap().agent().members().unwrap();
    assert_eq!(members.server_name, "nomad-1");
    assert_eq!(members.server_region, "global");
    let names: Vec<_> = members.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["nomad-1.global", "nomad-2.global", "nomad-3.global"]);
    assert!(members
        .members
        .iter()
        .all(|m| m.status == MemberStatus::Alive && m.is_server()));
    let req = agent.last_request().unwrap();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/v1/agent/members"));
    assert!(req.body.is_empty());
}

#[test]
fn servers_on_a_client_agent_are_listed_sorted() {
    let agent = TestAgent::builder()
        .role(Role::Client)
        .servers(&["10.0.0.3:4647", "10.0.0.1:4647", "10.0.0.2:4647"])
        .start()
        .unwrap();
    let servers = agent.client().unwrap().agent().servers().unwrap();
    assert_eq!(servers, ["10.0.0.1:4647", "10.0.0.2:4647", "10.0.0.3:4647"]);
}

#[test]
fn set_servers_then_servers_round_trips_sorted() {
    let agent = start_as(Role::Client);
    let client = agent.client().unwrap();
    client.agent().set_servers(["10.9.0.2:4647", "10.9.0.1:4647"]).unwrap();
    let put = agent.last_request().unwrap();
    assert_eq!((put.method.as_str(), put.path.as_str()), ("PUT", "/v1/agent/servers"));
    assert_eq!(put.query_all("address"), ["10.9.0.2:4647", "10.9.0.1:4647"]);
    assert!(!put.raw_query.contains(','), "{}", put.raw_query);
    assert_eq!(client.agent().servers().unwrap(), ["10.9.0.1:4647", "10.9.0.2:4647"]);
}

#[test]
fn join_adds_the_members_and_reports_num_joined() {
    let agent = start_as(Role::Server);
    let client = agent.client().unwrap();
    let joined = client.agent().join(["10.0.0.4", "10.0.0.5:4648"]).unwrap();
    assert_eq!(joined.num_joined, 2);
    assert_eq!(joined.warning, None);
    let req = agent.last_request().unwrap();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("PUT", "/v1/agent/join"));
    assert_eq!(req.query_all("address"), ["10.0.0.4", "10.0.0.5:4648"]);
    assert_eq!(client.agent().members().unwrap().members.len(), 5);
}

#[test]
fn join_failure_is_join_failed_keeping_num_joined_and_the_message() {
    let agent = start_as(Role::Server);
    let err = agent
        .client()
        .unwrap()
        .agent()
        .join(["10.0.0.4", "10.0.0.99"])
        .unwrap_err();
    match err.as_response() {
        Some(ResponseError::JoinFailed { num_joined, message }) => {
            assert_eq!(*num_joined, 1);
            assert!(message.contains("Failed to join 10.0.0.99:4648"), "{message}");
            assert!(!message.ends_with('\n'), "{message:?}");
        }
        other => panic!("expected JoinFailed, got {other:?}"),
    }
    assert_eq!(err.status(), Some(StatusCode::OK));
}

#[test]
fn force_leave_marks_the_member_left() {
    let agent = start_as(Role::Server);
    let client = agent.client().unwrap();
    client.agent().force_leave("nomad-2.global").unwrap();
    let req = agent.last_request().unwrap();
    assert_eq!(
        (req.method.as_str(), req.raw_query.as_str()),
        ("PUT", "node=nomad-2.global")
    );
    let members = client.agent().members().unwrap().members;
    let status: Vec<_> = members.iter().map(|m| (m.node_name(), m.status.clone())).collect();
    assert_eq!(
        status,
        [
            ("nomad-1", MemberStatus::Alive),
            ("nomad-2", MemberStatus::Left),
            ("nomad-3", MemberStatus::Alive)
        ]
    );
}

#[test]
fn force_leave_prune_removes_the_member() {
    let agent = start_as(Role::Server);
    let client = agent.client().unwrap();
    client.agent().force_leave_prune("nomad-3.global").unwrap();
    let req = agent.last_request().unwrap();
    assert_eq!(req.query_param("prune"), Some("1"));
    let names: Vec<_> = client
        .agent()
        .members()
        .unwrap()
        .members
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["nomad-1.global", "nomad-2.global"]);
    assert_eq!(member_status(&agent, "nomad-3"), None);
}

#[test]
fn servers_on_a_server_only_agent_is_501_wrong_role() {
    let agent = start_as(Role::Server);
    let client = agent.client().unwrap();
    for err in [
        client.agent().servers().unwrap_err(),
        client.agent().set_servers(["10.0.0.1:4647"]).unwrap_err(),
    ] {
        assert!(err.is_wrong_role(), "{err:?}");
        assert_eq!(err.status(), Some(StatusCode::NOT_IMPLEMENTED));
        assert!(!err.is_permission_denied());
    }
}

#[test]
fn join_and_force_leave_on_a_client_only_agent_are_501_wrong_role() {
    let agent = start_as(Role::Client);
    let client = agent.client().unwrap();
    for err in [
        client.agent().join(["10.0.0.4"]).unwrap_err(),
        client.agent().force_leave("nomad-2.global").unwrap_err(),
        client.agent().force_leave_prune("nomad-2.global").unwrap_err(),
    ] {
        assert!(err.is_wrong_role(), "{err:?}");
        assert_eq!(err.status(), Some(StatusCode::NOT_IMPLEMENTED));
    }
}

#[test]
fn members_without_a_token_is_403_permission_denied() {
    let agent = acl_agent();
    let err = agent.client().unwrap().agent().members().unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    assert_eq!(err.as_response().unwrap().message(), Some("Permission denied"));
    assert!(agent.last_request().unwrap().header("x-nomad-token").is_none());
}

#[test]
fn join_without_a_token_still_joins_and_returns_the_deprecation_warning() {
    let agent = acl_agent();
    let joined = agent.client().unwrap().agent().join(["10.0.0.4"]).unwrap();
    assert_eq!(joined.num_joined, 1);
    assert_eq!(joined.warning.as_deref(), Some(DEPRECATION));
    assert!(agent.with_state(|s| s.members.iter().any(|m| m.addr.to_string() == "10.0.0.4")));

    let joined = agent
        .client_with_token("root-token")
        .unwrap()
        .agent()
        .join(["10.0.0.5"])
        .unwrap();
    assert_eq!(joined.warning, None, "a management token joins without warning");
}
