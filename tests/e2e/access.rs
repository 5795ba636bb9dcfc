//! Roles and ACLs across endpoints, end to end: what works on every role, which capability each
//! core endpoint needs, unknown tokens, the management token, and how a 403 reads.

use nomad_blocking::test_agent::Role;
use nomad_blocking::Error;

use crate::{acl_agent, member_status, start_as};

#[test]
fn members_self_and_health_work_on_every_role() {
    for role in [Role::Server, Role::Client, Role::Both] {
        let agent = start_as(role);
        let client = agent.client().unwrap();
        assert_eq!(client.agent().members().unwrap().members.len(), 3, "{role:?}");
        let me = client.agent().self_info().unwrap();
        assert_eq!(
            (me.is_server(), me.is_client()),
            (role.server(), role.client()),
            "{role:?}"
        );
        assert_eq!(me.member.is_empty(), !role.server(), "{role:?}");
        let health = client.agent().health().unwrap();
        assert!(health.is_healthy(), "{role:?}");
        assert_eq!(
            (health.server.is_some(), health.client.is_some()),
            (role.server(), role.client()),
            "{role:?}: one check per role the agent runs"
        );
    }
}

#[test]
fn a_wrong_token_is_403_acl_token_not_found() {
    let agent = acl_agent();
    let client = agent.client_with_token("no-such-token").unwrap();
    for err in [
        client.agent().members().unwrap_err(),
        client.agent().self_info().unwrap_err(),
        client.agent().servers().unwrap_err(),
        client.agent().force_leave("nomad-2.global").unwrap_err(),
    ] {
        assert!(err.is_permission_denied(), "{err:?}");
        assert_eq!(err.as_response().unwrap().message(), Some("ACL token not found"));
        assert!(err.to_string().contains("ACL token not found"), "{err}");
    }
}

#[test]
fn agent_write_alone_gets_403_on_members_which_needs_node_read() {
    let agent = acl_agent();
    let writer = agent.client_with_token("agent-writer").unwrap();
    let err = writer.agent().members().unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    // ... while agent:write covers agent:read and agent:write endpoints.
    writer.agent().self_info().unwrap();
    writer.agent().servers().unwrap();
    writer.agent().force_leave("nomad-2.global").unwrap();

    let reader = agent.client_with_token("node-reader").unwrap();
    assert_eq!(reader.agent().members().unwrap().members.len(), 3);
    assert!(reader.agent().self_info().unwrap_err().is_permission_denied());
    assert!(reader
        .agent()
        .force_leave("nomad-3.global")
        .unwrap_err()
        .is_permission_denied());
}

#[test]
fn a_management_token_may_call_the_membership_self_and_health_endpoints() {
    let agent = acl_agent();
    let client = agent.client_with_token("root-token").unwrap();
    let a = client.agent();
    assert_eq!(a.members().unwrap().members.len(), 3);
    assert_eq!(
        a.servers().unwrap(),
        ["10.0.0.1:4647", "10.0.0.2:4647", "10.0.0.3:4647"]
    );
    a.set_servers(["10.0.0.9:4647"]).unwrap();
    assert_eq!(a.servers().unwrap(), ["10.0.0.9:4647"]);
    assert_eq!(a.self_info().unwrap().member.name, "nomad-1.global");
    let joined = a.join(["10.0.0.4"]).unwrap();
    assert_eq!((joined.num_joined, joined.warning), (1, None));
    a.force_leave("nomad-2.global").unwrap();
    assert_eq!(member_status(&agent, "nomad-2").as_deref(), Some("left"));
    assert!(a.health().unwrap().is_healthy());
}

#[test]
fn error_display_is_readable_end_to_end() {
    let agent = acl_agent();
    let err = agent.client().unwrap().agent().self_info().unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("403"), "{shown}");
    assert_eq!(shown, "GET /v1/agent/self: 403 Permission denied (needs agent:read)");
    assert!(matches!(err, Error::Response(_)));
}
