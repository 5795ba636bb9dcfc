//! End to end through real ureq against the loopback test agent, for the seven core endpoints:
//! roles, ACLs, health, state round trips, the token on the wire, gzip, and the
//! transport (body limit, connection refused, connection reuse).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nomad_blocking::http::{Method, Request, Response, StatusCode};
use nomad_blocking::proto::agent::{AgentRole, GetHealth, Join, ListMembers, MemberStatus};
use nomad_blocking::proto::{BuildError, Config, Endpoint, ResponseError};
use nomad_blocking::test_agent::{Capability, Role, TestAgent};
use nomad_blocking::{Client, Error, TransportErrorKind, WithCallOptions};

const DEPRECATION: &str = "anonymous server join is deprecated and will be removed in a future version of Nomad";

fn start(role: Role) -> TestAgent {
    TestAgent::builder().role(role).start().expect("test agent starts")
}

fn acl_agent() -> TestAgent {
    TestAgent::builder()
        .role(Role::Both)
        .acl("root-token")
        .token("agent-writer", &[Capability::AgentWrite])
        .token("node-reader", &[Capability::NodeRead])
        .start()
        .expect("test agent starts")
}

fn member_status(agent: &TestAgent, node: &str) -> Option<String> {
    agent.with_state(|s| s.members.iter().find(|m| m.node == node).map(|m| m.status.clone()))
}

/// Any method on any path: for the wrong-verb cases the named calls cannot produce.
struct Raw {
    method: Method,
    path: &'static str,
}

impl Endpoint for Raw {
    type Output = Vec<u8>;

    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut req = Request::builder()
            .method(self.method.clone())
            .uri(format!("{}{}", config.base_url(), self.path));
        if let Some(token) = config.token() {
            req = req.header("x-nomad-token", token.header_value().clone());
        }
        Ok(req.body(Vec::new()).expect("valid request"))
    }

    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Vec<u8>, ResponseError> {
        if response.status() == StatusCode::OK {
            Ok(response.into_body())
        } else {
            Err(ResponseError::unexpected(response.status(), response.body()))
        }
    }
}

fn raw(method: Method, path: &'static str) -> Raw {
    Raw { method, path }
}

// ---------------------------------------------------------------------------------------------
// Every core endpoint, happy path
// ---------------------------------------------------------------------------------------------

#[test]
fn members_lists_the_gossip_members() {
    let agent = start(Role::Server);
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
    let agent = start(Role::Client);
    let client = agent.client().unwrap();
    client.agent().set_servers(["10.9.0.2:4647", "10.9.0.1:4647"]).unwrap();
    let put = agent.last_request().unwrap();
    assert_eq!((put.method.as_str(), put.path.as_str()), ("PUT", "/v1/agent/servers"));
    assert_eq!(put.query_all("address"), ["10.9.0.2:4647", "10.9.0.1:4647"]);
    assert!(!put.raw_query.contains(','), "{}", put.raw_query);
    assert_eq!(client.agent().servers().unwrap(), ["10.9.0.1:4647", "10.9.0.2:4647"]);
}

#[test]
fn self_info_on_a_server() {
    let agent = start(Role::Server);
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
    let agent = start(Role::Client);
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
fn join_adds_the_members_and_reports_num_joined() {
    let agent = start(Role::Server);
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
    let agent = start(Role::Server);
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
    let agent = start(Role::Server);
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
    let agent = start(Role::Server);
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
fn health_of_a_healthy_agent() {
    let agent = start(Role::Both);
    let report = agent.client().unwrap().agent().health().unwrap();
    assert!(report.is_healthy());
    assert_eq!(report.status, StatusCode::OK);
    assert_eq!(report.checks().count(), 2);
    assert!(report.problems().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

#[test]
fn servers_on_a_server_only_agent_is_501_wrong_role() {
    let agent = start(Role::Server);
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
    let agent = start(Role::Client);
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
fn members_self_and_health_work_on_every_role() {
    for role in [Role::Server, Role::Client, Role::Both] {
        let agent = start(role);
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

// ---------------------------------------------------------------------------------------------
// ACLs
// ---------------------------------------------------------------------------------------------

#[test]
fn members_without_a_token_is_403_permission_denied() {
    let agent = acl_agent();
    let err = agent.client().unwrap().agent().members().unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    assert_eq!(err.as_response().unwrap().message(), Some("Permission denied"));
    assert!(agent.last_request().unwrap().header("x-nomad-token").is_none());
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
fn join_without_a_token_still_joins_and_returns_the_deprecation_warning() {
    let agent = acl_agent();
    let joined = agent.client().unwrap().agent().join(["10.0.0.4"]).unwrap();
    assert_eq!(joined.num_joined, 1);
    assert_eq!(joined.warning.as_deref(), Some(DEPRECATION));
    assert!(agent.with_state(|s| s.members.iter().any(|m| m.addr == "10.0.0.4")));

    let joined = agent
        .client_with_token("root-token")
        .unwrap()
        .agent()
        .join(["10.0.0.5"])
        .unwrap();
    assert_eq!(joined.warning, None, "a management token joins without warning");
}

#[test]
fn health_needs_no_token_even_with_acls_on() {
    let agent = acl_agent();
    assert!(agent.client().unwrap().agent().health().unwrap().is_healthy());
}

#[test]
fn management_token_works_on_every_core_endpoint() {
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
fn a_per_call_token_overrides_the_client_token() {
    let agent = acl_agent();
    let client = agent.client_with_token("agent-writer").unwrap();
    let members = client.call(&ListMembers::new().token("node-reader")).unwrap();
    assert_eq!(members.members.len(), 3);
    assert_eq!(
        agent.last_request().unwrap().header_all("x-nomad-token"),
        ["node-reader"]
    );
}

#[test]
fn the_token_arrives_exactly_once_on_every_core_call() {
    let agent = acl_agent();
    // A stale X-Nomad-Token extra header must be replaced, never sent next to the token (the
    // agent would answer 400 `Invalid number of Nomad Tokens`).
    let client = Client::builder()
        .address(agent.url())
        .config(|c| c.header("X-Nomad-Token", "stale-token"))
        .token("root-token")
        .build()
        .unwrap();
    client.agent().members().unwrap();
    client.agent().servers().unwrap();
    client.agent().set_servers(["10.0.0.1:4647"]).unwrap();
    client.agent().self_info().unwrap();
    client.agent().join(["10.0.0.4"]).unwrap();
    client.agent().force_leave("nomad-2.global").unwrap();
    client.agent().health().unwrap();

    let requests = agent.requests();
    let seen: Vec<_> = requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("GET", "/v1/agent/members"),
            ("GET", "/v1/agent/servers"),
            ("PUT", "/v1/agent/servers"),
            ("GET", "/v1/agent/self"),
            ("PUT", "/v1/agent/join"),
            ("PUT", "/v1/agent/force-leave"),
            ("GET", "/v1/agent/health"),
        ]
    );
    for r in &requests {
        assert_eq!(r.header_all("x-nomad-token"), ["root-token"], "{} {}", r.method, r.path);
        assert!(r.header("authorization").is_none(), "{}", r.path);
        assert!(r.body.is_empty(), "{}", r.path);
        assert!(r.header("content-type").is_none(), "{}", r.path);
    }
}

#[test]
fn basic_auth_from_the_address_arrives_and_the_uri_has_no_credentials() {
    let agent = start(Role::Server);
    let url = agent.url().replacen("http://", "http://ops:s3cret@", 1);
    let client = Client::builder().address(url).build().unwrap();
    client.agent().self_info().unwrap();
    let req = agent.last_request().unwrap();
    assert_eq!(req.header("authorization"), Some("Basic b3BzOnMzY3JldA==")); // ops:s3cret
    assert!(!format!("{client:?}").contains("s3cret"));
}

// ---------------------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------------------

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
    let agent = start(Role::Both);
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
    let agent = start(Role::Server);
    let report = agent.client().unwrap().agent().health_of(AgentRole::Client).unwrap();
    assert_eq!(agent.last_request().unwrap().raw_query, "type=client");
    assert!(!report.is_healthy());
    assert_eq!(report.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(report.problems(), ["client: client not enabled"]);
    assert!(report.server.is_none(), "only the asked role is reported");
}

#[test]
fn both_types_on_a_server_only_agent_report_each() {
    let agent = start(Role::Server);
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

// ---------------------------------------------------------------------------------------------
// gzip
// ---------------------------------------------------------------------------------------------

#[test]
fn gzip_is_negotiated_and_decoded() {
    // The client asks for gzip and decodes what the agent compresses (every answer when asked,
    // checked in `tests/test_agent.rs`): JSON, errors and unhealthy reports.
    let agent = start(Role::Both);
    let client = agent.client().unwrap();
    let me = client.agent().self_info().unwrap();
    assert_eq!(me.config.region(), Some("global"));
    let accept = agent
        .last_request()
        .unwrap()
        .header("accept-encoding")
        .unwrap()
        .to_owned();
    assert!(accept.contains("gzip"), "{accept}");

    let err = client.call(&raw(Method::DELETE, "/v1/agent/self")).unwrap_err();
    assert_eq!(err.as_response().unwrap().message(), Some("Invalid method"));

    agent.with_state(|s| s.has_leader = false);
    assert_eq!(client.agent().health().unwrap().problems(), ["server: no leader"]);
}

// ---------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------

#[test]
fn a_body_over_the_limit_is_body_too_large() {
    let agent = start(Role::Both);
    let client = Client::builder().address(agent.url()).body_limit(512).build().unwrap();
    let err = client.agent().self_info().unwrap_err();
    let transport = err
        .as_transport()
        .unwrap_or_else(|| panic!("a transport error, got {err:?}"));
    assert_eq!(transport.kind(), &TransportErrorKind::BodyTooLarge { limit: 512 });
    assert!(err.to_string().contains("512"), "{err}");
    // A small answer still fits.
    assert_eq!(client.agent().servers().unwrap().len(), 3);
}

#[test]
fn connection_refused_is_a_transport_connect_error() {
    let refused = support::RefusedPort::new();
    let client = Client::builder()
        .address(refused.url())
        .connect_timeout(Some(Duration::from_secs(5)))
        .build()
        .unwrap();
    let err = client.agent().members().unwrap_err();
    let transport = err
        .as_transport()
        .unwrap_or_else(|| panic!("a transport error, got {err:?}"));
    assert_eq!(transport.kind(), &TransportErrorKind::Connect);
    assert_eq!(err.status(), None);
}

#[test]
fn many_sequential_calls_all_reach_the_agent() {
    let agent = start(Role::Both);
    let client = agent.client().unwrap();
    for i in 0..40 {
        match i % 4 {
            0 => drop(client.agent().members().unwrap()),
            1 => drop(client.agent().self_info().unwrap()),
            2 => drop(client.agent().servers().unwrap()),
            _ => drop(client.agent().health().unwrap()),
        }
    }
    assert_eq!(agent.requests().len(), 40);
}

/// A keep-alive HTTP/1.1 server that answers every request with `body` and records the peer
/// port of each request.
fn keep_alive_server(body: &'static str) -> (SocketAddr, Arc<Mutex<Vec<u16>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let ports: Arc<Mutex<Vec<u16>>> = Arc::default();
    let seen = Arc::clone(&ports);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let port = stream.peer_addr().unwrap().port();
                let mut out = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                loop {
                    let mut content_length = 0usize;
                    let mut line = String::new();
                    let mut first = true;
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return; // closed by the client
                        }
                        if line == "\r\n" && !first {
                            break;
                        }
                        first = false;
                        if let Some((name, value)) = line.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                content_length = value.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut request_body = vec![0; content_length];
                    reader.read_exact(&mut request_body).unwrap();
                    seen.lock().unwrap().push(port);
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if out.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, ports)
}

#[test]
fn sequential_calls_reuse_one_connection() {
    let (addr, ports) = keep_alive_server(r#"["10.0.0.1:4647"]"#);
    let client = Client::builder().address(format!("http://{addr}")).build().unwrap();
    for _ in 0..10 {
        assert_eq!(client.agent().servers().unwrap(), ["10.0.0.1:4647"]);
    }
    let ports = ports.lock().unwrap().clone();
    assert_eq!(ports.len(), 10);
    assert!(
        ports.iter().all(|p| *p == ports[0]),
        "one peer port expected, got {ports:?}"
    );
}

#[test]
fn clones_share_the_connection_pool() {
    let (addr, ports) = keep_alive_server(r#"["10.0.0.1:4647"]"#);
    let client = Client::builder().address(format!("http://{addr}")).build().unwrap();
    client.agent().servers().unwrap();
    let clone = client.clone();
    std::thread::spawn(move || clone.agent().servers().unwrap())
        .join()
        .unwrap();
    let ports = ports.lock().unwrap().clone();
    assert_eq!(ports.len(), 2);
    assert_eq!(ports[0], ports[1], "the clone should reuse the pooled connection");
}

#[test]
fn without_idle_connections_every_call_opens_a_new_one() {
    // The control for the reuse test: the server really can tell connections apart.
    let (addr, ports) = keep_alive_server(r#"["10.0.0.1:4647"]"#);
    let client = Client::builder()
        .address(format!("http://{addr}"))
        .max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..3 {
        client.agent().servers().unwrap();
    }
    let ports = ports.lock().unwrap().clone();
    assert_eq!(ports.len(), 3);
    assert!(ports[0] != ports[1] && ports[1] != ports[2], "{ports:?}");
}

#[test]
fn an_error_answer_is_not_retried_behind_the_users_back() {
    // A failure the agent reports (in a 200 for join, as a 500 for reload) is returned, not
    // retried: each call reaches the agent exactly once.
    let agent = acl_agent();
    let client = agent.client().unwrap();
    for _ in 0..5 {
        let err = client.call(&Join::new(["10.0.0.99"])).unwrap_err();
        assert!(
            matches!(err.as_response(), Some(ResponseError::JoinFailed { num_joined: 0, .. })),
            "{err:?}"
        );
    }
    assert_eq!(agent.requests().len(), 5);
    agent.with_state(|s| s.reload_error = Some("error loading configuration: bad HCL".into()));
    let root = agent.client_with_token("root-token").unwrap();
    for _ in 0..3 {
        let err = root.agent().reload().unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err}");
    }
    assert_eq!(agent.requests().len(), 8);
}

#[test]
fn error_display_is_readable_end_to_end() {
    let agent = acl_agent();
    let err = agent.client().unwrap().agent().self_info().unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("403"), "{shown}");
    assert!(shown.ends_with("Permission denied"), "{shown}");
    assert!(matches!(err, Error::Response(_)));
}

mod review_regressions {
    use nomad_blocking::test_agent::TestAgent;
    use nomad_blocking::{Client, Config, Error, SetupError};

    #[test]
    fn from_config_cannot_be_silently_overridden_by_later_settings() {
        // The same address setting on a fresh builder is fine ...
        let client = Client::builder().address("http://10.9.9.9:1234").build().unwrap();
        assert_eq!(client.config().base_url(), "http://10.9.9.9:1234");
        // ... but after `from_config` it would be dropped silently, so it is an error.
        let err = nomad_blocking::ClientBuilder::from_config(Config::default())
            .address("http://10.9.9.9:1234")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::Setup(SetupError::InvalidSetting { setting: "config", .. })),
            "{err}"
        );
    }

    #[test]
    fn not_found_and_wrong_method_are_easy_to_ask() {
        let agent = TestAgent::builder().enable_debug(true).start().unwrap();
        let client = agent.client().unwrap();
        let err = client.agent().lookup("no-such-profile").unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert!(!err.is_method_not_allowed());
    }
}

mod gzip_setting {
    use nomad_blocking::test_agent::TestAgent;
    use nomad_blocking::Client;

    #[test]
    fn gzip_is_asked_for_by_default_and_can_be_turned_off() {
        let agent = TestAgent::start().unwrap();
        let on = agent.client().unwrap();
        let members_on = on.agent().members().unwrap();
        assert_eq!(agent.last_request().unwrap().header("accept-encoding"), Some("gzip"));

        let off = Client::builder().address(agent.url()).gzip(false).build().unwrap();
        let members_off = off.agent().members().unwrap();
        assert_eq!(agent.last_request().unwrap().header("accept-encoding"), None);
        assert_eq!(members_on, members_off, "same answer either way");
    }
}
