//! `/v1/agent/self` end to end: a server's and a client-only agent's answer, and the node name,
//! datacenter and region conveniences built on it.

use nomad_blocking::http::{Request, Response};
use nomad_blocking::proto::agent::MemberStatus;
use nomad_blocking::proto::{Config, ResponseError};
use nomad_blocking::test_agent::{Role, TestAgent};
use nomad_blocking::Client;

use crate::{client, start, start_as};

#[test]
fn self_info_on_a_server() {
    let agent = start_as(Role::Server);
    let me = agent.client().unwrap().agent().self_info().unwrap();
    assert_eq!(me.member.name, "nomad-1.global");
    assert!(!me.member.is_empty());
    assert_eq!(me.config.region(), Some("global"));
    assert_eq!(me.config.datacenter(), Some("dc1"));
    assert_eq!(me.config.version().as_deref(), Some("2.0.5"));
    assert_eq!(me.stat("nomad", "leader"), Some("true"));
    assert!(me.is_server());
    assert!(!me.is_client());
}

#[test]
fn self_info_on_a_client_only_agent_has_the_empty_member() {
    let agent = start_as(Role::Client);
    let me = agent.client().unwrap().agent().self_info().unwrap();
    assert!(me.member.is_empty());
    assert_eq!(me.member.addr, None);
    assert!(me.member.tags.is_empty());
    assert_eq!(me.member.status, MemberStatus::None);
    assert!(me.is_client());
    assert!(!me.is_server());
    assert_eq!(
        me.stat("client", "known_servers"),
        Some("10.0.0.1:4647,10.0.0.2:4647,10.0.0.3:4647")
    );
}

#[test]
fn node_name_datacenter_and_region_come_from_self() {
    let agent = start(TestAgent::builder().role(Role::Server).region("eu"));
    let a = client(&agent);
    assert_eq!(
        a.agent().node_name().unwrap(),
        "nomad-1",
        "the node name, without the region"
    );
    assert_eq!(a.agent().datacenter().unwrap(), "dc1");
    assert_eq!(a.agent().region().unwrap(), "eu");
    assert!(agent.requests().iter().all(|r| r.path == "/v1/agent/self"));
}

#[test]
fn node_name_of_a_client_only_agent_is_the_configured_name() {
    let agent = start(TestAgent::builder().role(Role::Client).node_name("client-7"));
    assert_eq!(client(&agent).agent().node_name().unwrap(), "client-7");
}

#[test]
fn missing_values_are_a_clear_error() {
    let empty_self = |_req: Request<Vec<u8>>| {
        Response::builder()
            .status(200)
            .body(br#"{"config":{"Region":""},"member":{"Name":"","Addr":null,"Tags":null},"stats":{}}"#.to_vec())
    };
    let c = Client::with_transport(Config::default(), empty_self);
    for (err, what) in [
        (c.agent().node_name().unwrap_err(), "node name"),
        (c.agent().datacenter().unwrap_err(), "datacenter"),
        (c.agent().region().unwrap_err(), "region"),
    ] {
        assert!(
            matches!(err.as_response(), Some(ResponseError::MissingValue { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains(what), "{err}");
    }
    // An ACL failure stays an ACL failure.
    let agent = start(TestAgent::builder().acl("root"));
    assert!(client(&agent).agent().datacenter().unwrap_err().is_permission_denied());
}
