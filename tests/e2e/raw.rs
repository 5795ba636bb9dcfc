//! Endpoints beyond the agent API, end to end: an `Endpoint` written by a user from nomad-proto's
//! public API alone, and raw calls (`nomad_proto::Raw`), against the test agent's
//! `/v1/status/leader`, `/v1/status/peers` and `/v1/regions` and its scheduler configuration.

use nomad_blocking::http::{Request, Response, StatusCode};
use nomad_blocking::proto::agent::SchedulerWorkerConfig;
use nomad_blocking::proto::{
    parse_json, BuildError, CallOptions, Config, Endpoint, Raw, RequestBuilder, ResponseError, WithCallOptions,
};
use nomad_blocking::test_agent::{Capability, Role, TestAgent};
use nomad_blocking::Error;

use crate::{agent_message, client, client_with_token, raw_json, start, start_as};

/// `GET /v1/status/leader`, as a user would write it: nothing but nomad-proto's public API.
#[derive(Debug, Default)]
struct StatusLeader {
    options: CallOptions,
}

impl Endpoint for StatusLeader {
    type Output = String;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        RequestBuilder::get("/v1/status/leader", &self.options).build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<String, ResponseError> {
        parse_json(response)
    }
}

impl WithCallOptions for StatusLeader {
    fn call_options_mut(&mut self) -> &mut CallOptions {
        &mut self.options
    }
}

#[test]
fn a_users_own_endpoint_reads_the_leader_with_the_clients_settings() {
    let agent = start(TestAgent::builder().role(Role::Client).acl("root-token"));
    let client = client_with_token(&agent, "root-token");
    assert_eq!(client.call(&StatusLeader::default()).unwrap(), "10.0.0.1:4647");
    // The client's token went out once, and a per-call region reached the agent.
    client
        .call(&StatusLeader::default().region("global").token("other-token"))
        .unwrap();
    let req = agent.last_request().unwrap();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("GET", "/v1/status/leader"));
    assert_eq!(req.query_param("region"), Some("global"));
    assert_eq!(req.header_all("x-nomad-token"), ["other-token"]);

    // Without a leader the agent answers an empty string, as Raft reports none.
    agent.with_state(|s| s.has_leader = false);
    assert_eq!(client.call(&StatusLeader::default()).unwrap(), "");
}

#[test]
fn the_status_endpoints_answer_like_nomad() {
    let agent = start_as(Role::Server);
    assert_eq!(raw_json(&agent, "/v1/status/leader"), "10.0.0.1:4647");
    assert_eq!(
        raw_json(&agent, "/v1/status/peers"),
        serde_json::json!(["10.0.0.1:4647", "10.0.0.2:4647", "10.0.0.3:4647"])
    );
    assert_eq!(raw_json(&agent, "/v1/regions"), serde_json::json!(["global"]));
    // A server that left the cluster is no longer a Raft peer; an IPv6 one is bracketed.
    agent.with_state(|s| {
        s.members[1].status = nomad_blocking::test_agent::MemberStatus::Left;
        s.members[2].addr = "fd00::3".parse().unwrap();
    });
    assert_eq!(
        raw_json(&agent, "/v1/status/peers"),
        serde_json::json!(["10.0.0.1:4647", "[fd00::3]:4647"])
    );
}

#[test]
fn a_raw_call_decodes_into_a_type_or_keeps_the_bytes() {
    let agent = start_as(Role::Server);
    let client = client(&agent);
    let peers = client
        .call(&Raw::get("/v1/status/peers").json::<Vec<String>>())
        .unwrap();
    assert_eq!(peers, ["10.0.0.1:4647", "10.0.0.2:4647", "10.0.0.3:4647"]);
    let regions = client.call(&Raw::get("/v1/regions").json::<Vec<String>>()).unwrap();
    assert_eq!(regions, ["global"]);
    let bytes = client.call(&Raw::get("/v1/status/leader").bytes()).unwrap();
    assert_eq!(bytes, br#""10.0.0.1:4647""#);
}

#[test]
fn a_raw_call_gets_the_agents_errors() {
    let agent = start(
        TestAgent::builder()
            .acl("root-token")
            .token("reader", &[Capability::AgentRead]),
    );
    // 405: the status endpoints are GET only.
    let err = client(&agent).call(&Raw::put("/v1/status/leader").bytes()).unwrap_err();
    assert!(err.is_method_not_allowed(), "{err:?}");
    assert_eq!(agent_message(&err), (StatusCode::METHOD_NOT_ALLOWED, "Invalid method"));
    // 404: no such endpoint.
    let err = client(&agent).call(&Raw::get("/v1/nothing/here").bytes()).unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    // 403 without a token, then the same call with one.
    let raw_self = Raw::get("/v1/agent/self").json::<serde_json::Value>();
    let err = client(&agent).call(&raw_self).unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    let me = client_with_token(&agent, "reader").call(&raw_self).unwrap();
    assert_eq!(me["config"]["Region"], "global");
    // A path that would leave the API is refused before anything is sent.
    let before = agent.requests().len();
    let err = client(&agent).call(&Raw::get("/v1/../ui/").bytes()).unwrap_err();
    assert!(matches!(err, Error::Build(BuildError::InvalidPath { .. })), "{err:?}");
    assert_eq!(agent.requests().len(), before);
}

#[test]
fn a_raw_put_sends_its_json_body() {
    let agent = start_as(Role::Server);
    let op = Raw::put("/v1/agent/schedulers/config")
        .json_body(&serde_json::json!({"num_schedulers": 2, "enabled_schedulers": ["_core", "batch"]}))
        .unwrap()
        .json::<SchedulerWorkerConfig>();
    let applied = client(&agent).call(&op).unwrap();
    assert_eq!(applied.num_schedulers, 2);
    assert_eq!(applied.enabled_schedulers, ["_core", "batch"]);
    assert_eq!(agent.with_state(|s| s.num_schedulers), 2);
    let req = agent.last_request().unwrap();
    assert_eq!(req.method, "PUT");
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"num_schedulers": 2, "enabled_schedulers": ["_core", "batch"]})
    );

    // The agent's own refusal comes back as its 400.
    let too_many = Raw::put("/v1/agent/schedulers/config")
        .json_body(&serde_json::json!({"num_schedulers": 64, "enabled_schedulers": ["_core"]}))
        .unwrap()
        .bytes();
    let err = client(&agent).call(&too_many).unwrap_err();
    assert_eq!(agent_message(&err), (StatusCode::BAD_REQUEST, "Invalid request"));
}
