//! `/v1/agent/keyring/{list,install,use,remove}` end to end: a key rotation, `agent:write` even
//! to list, the wrong role, and keys refused before sending.

use nomad_blocking::http::StatusCode;
use nomad_blocking::proto::BuildError;
use nomad_blocking::test_agent::{Capability, Role, TestAgent};
use nomad_blocking::Error;

use crate::{agent_message, client, client_with_token, start};

const KEY_1: &str = "HS5lJ+XuTlYKWaeGYyG+/A=="; // the test agent's initial primary key
const KEY_2: &str = "z3Vc0nN3ID9u5ZqUdfqVXQ==";

#[test]
fn keyring_rotation_install_use_remove() {
    let agent = start(TestAgent::builder().role(Role::Server));
    let a = client(&agent);
    let servers = agent.with_state(|s| s.members.iter().filter(|m| m.is_alive()).count()) as u64;
    let ring = a.agent().list_keys().unwrap();
    assert_eq!(ring.num_nodes, servers);
    assert_eq!(ring.keys.keys().collect::<Vec<_>>(), [KEY_1]);

    let ring = a.agent().install_key(KEY_2).unwrap();
    assert_eq!(ring.keys.len(), 2);
    assert_eq!(ring.keys[KEY_2], servers, "every server holds the new key");
    let req = agent.last_request().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("PUT", "/v1/agent/keyring/install")
    );
    assert_eq!(req.body, format!(r#"{{"Key":"{KEY_2}"}}"#).as_bytes());

    a.agent().use_key(KEY_2).unwrap();
    assert_eq!(
        agent.with_state(|s| s.gossip_keys[0].clone()),
        KEY_2,
        "KEY_2 is primary"
    );
    let ring = a.agent().remove_key(KEY_1).unwrap();
    assert_eq!(ring.keys.keys().collect::<Vec<_>>(), [KEY_2]);

    // The primary key cannot be removed: serf reports it as a failure on every node.
    let err = a.agent().remove_key(KEY_2).unwrap_err();
    let failure = format!("{servers}/{servers} nodes reported failure");
    assert_eq!(
        agent_message(&err),
        (StatusCode::INTERNAL_SERVER_ERROR, failure.as_str())
    );
}

#[test]
fn keyring_list_is_a_get_and_needs_agent_write() {
    let agent = start(
        TestAgent::builder()
            .role(Role::Server)
            .token("reader", &[Capability::AgentRead])
            .token("writer", &[Capability::AgentWrite]),
    );
    let err = client_with_token(&agent, "reader").agent().list_keys().unwrap_err();
    assert!(err.is_permission_denied(), "listing needs agent:write too");
    client_with_token(&agent, "writer")
        .agent()
        .list_keys()
        .expect("writer lists");
    let req = agent.last_request().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/v1/agent/keyring/list")
    );
}

#[test]
fn keyring_on_a_client_only_agent_is_wrong_role() {
    let agent = start(TestAgent::builder().role(Role::Client));
    let err = client(&agent).agent().list_keys().unwrap_err();
    assert!(err.is_wrong_role());
    assert_eq!(agent_message(&err), (StatusCode::NOT_IMPLEMENTED, "Invalid method"));
}

#[test]
fn keyring_bad_keys_never_reach_the_agent() {
    let agent = start(TestAgent::builder().role(Role::Server));
    let a = client(&agent);
    for key in ["", "c2hvcnRrZXk=", "not base64"] {
        let err = a.agent().install_key(key).unwrap_err();
        assert!(
            matches!(err, Error::Build(BuildError::InvalidArgument { argument: "key", .. })),
            "{key:?}"
        );
    }
    assert!(agent.requests().is_empty());
}
