//! The blocking client over a closure transport (no network): the `client.agent()` calls of
//! the members, servers, self, join, force-leave and health endpoints send the request Nomad's
//! agent expects and turn canned answers into the right value or error side (`Error::Build`:
//! nothing sent; `Error::Transport`: the transport failed; `Error::Response`: the agent answered
//! with something else), and `Client::call` with per-call options. The other calls are covered
//! through the test agent in the workspace's `tests/`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use nomad_blocking::http::{HeaderMap, Method, Request, Response, StatusCode};
use nomad_blocking::proto::agent::{AgentRole, GetSelf, Join, ListMembers, MemberStatus};
use nomad_blocking::proto::{BuildError, ResponseError};
use nomad_blocking::{Client, Config, Error, TransportError, TransportErrorKind, WithCallOptions};

/// What the transport saw.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers.get_all(name).iter().map(|v| v.to_str().unwrap()).collect()
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// What a canned closure transport answers.
type Answer = Result<Response<Vec<u8>>, nomad_blocking::http::Error>;

/// A closure transport that records each request and answers `status` + `body`.
fn canned(
    status: u16,
    content_type: Option<&'static str>,
    body: &'static str,
) -> (Log, impl Fn(Request<Vec<u8>>) -> Answer + Send + Sync + 'static) {
    let log: Log = Arc::default();
    let seen = Arc::clone(&log);
    let transport = move |req: Request<Vec<u8>>| {
        seen.lock().unwrap().push(Seen {
            method: req.method().clone(),
            uri: req.uri().to_string(),
            headers: req.headers().clone(),
            body: req.body().clone(),
        });
        let mut resp = Response::builder().status(status);
        if let Some(ct) = content_type {
            resp = resp.header("content-type", ct);
        }
        resp.body(body.as_bytes().to_vec())
    };
    (log, transport)
}

fn config() -> Config {
    Config::builder()
        .address("http://10.1.2.3:4646")
        .token("client-token")
        .build()
        .unwrap()
}

fn only(log: &Log) -> Seen {
    let seen = log.lock().unwrap();
    assert_eq!(seen.len(), 1, "expected exactly one request, got {seen:?}");
    seen[0].clone()
}

/// The common request rules: token exactly once, no body, no content type.
fn assert_plain(seen: &Seen, method: Method, uri: &str) {
    assert_eq!(seen.method, method);
    assert_eq!(seen.uri, uri);
    assert_eq!(seen.header_all("x-nomad-token"), ["client-token"]);
    assert!(seen.body.is_empty());
    assert!(seen.headers.get("content-type").is_none());
}

const MEMBERS: &str = r#"{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc1","build":"2.0.5","port":"4647"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},{"Name":"nomad-2.global","Addr":"10.0.0.2","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc1","build":"2.0.5","port":"4647"},"Status":"left","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4}]}"#;

const SELF: &str = r#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"nomad-1","Version":{"Version":"2.0.5","VersionPrerelease":""}},"member":{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global"},"Status":"alive"},"stats":{"nomad":{"leader":"true"},"runtime":{"goroutines":"144"}}}"#;

// ---------------------------------------------------------------------------------------------
// Each agent call: the request, and the parsed answer
// ---------------------------------------------------------------------------------------------

#[test]
fn members_sends_get_v1_agent_members_and_parses_the_members() {
    let (log, t) = canned(200, Some("application/json"), MEMBERS);
    let members = Client::with_transport(config(), t).agent().members().unwrap();
    assert_plain(&only(&log), Method::GET, "http://10.1.2.3:4646/v1/agent/members");
    assert_eq!(members.server_name, "nomad-1");
    let names: Vec<_> = members.members.iter().map(|m| m.node_name()).collect();
    assert_eq!(names, ["nomad-1", "nomad-2"]);
    assert_eq!(members.members[1].status, MemberStatus::Left);
}

#[test]
fn servers_sends_get_v1_agent_servers_and_parses_the_list() {
    let (log, t) = canned(200, Some("application/json"), r#"["10.0.0.1:4647","10.0.0.2:4647"]"#);
    let servers = Client::with_transport(config(), t).agent().servers().unwrap();
    assert_plain(&only(&log), Method::GET, "http://10.1.2.3:4646/v1/agent/servers");
    assert_eq!(servers, ["10.0.0.1:4647", "10.0.0.2:4647"]);
}

#[test]
fn servers_null_is_an_empty_list() {
    let (_, t) = canned(200, Some("application/json"), "null");
    assert!(Client::with_transport(config(), t)
        .agent()
        .servers()
        .unwrap()
        .is_empty());
}

#[test]
fn set_servers_sends_put_with_repeated_address_and_accepts_an_empty_200() {
    let (log, t) = canned(200, None, "");
    Client::with_transport(config(), t)
        .agent()
        .set_servers(["10.0.0.1:4647", "10.0.0.2:4647"])
        .unwrap();
    assert_plain(
        &only(&log),
        Method::PUT,
        "http://10.1.2.3:4646/v1/agent/servers?address=10.0.0.1%3A4647&address=10.0.0.2%3A4647",
    );
}

#[test]
fn self_info_sends_get_v1_agent_self_and_parses_it() {
    let (log, t) = canned(200, Some("application/json"), SELF);
    let me = Client::with_transport(config(), t).agent().self_info().unwrap();
    assert_plain(&only(&log), Method::GET, "http://10.1.2.3:4646/v1/agent/self");
    assert_eq!(me.member.name, "nomad-1.global");
    assert_eq!(me.config.version().as_deref(), Some("2.0.5"));
    assert_eq!(me.stat("nomad", "leader"), Some("true"));
}

#[test]
fn join_sends_put_with_repeated_address_and_returns_num_joined() {
    let (log, t) = canned(
        200,
        Some("application/json"),
        r#"{"num_joined":2,"error":"","warning":""}"#,
    );
    let joined = Client::with_transport(config(), t)
        .agent()
        .join(["10.0.0.4", "10.0.0.5:4648"])
        .unwrap();
    assert_plain(
        &only(&log),
        Method::PUT,
        "http://10.1.2.3:4646/v1/agent/join?address=10.0.0.4&address=10.0.0.5%3A4648",
    );
    assert_eq!(joined.num_joined, 2);
    assert_eq!(joined.warning, None);
}

#[test]
fn join_warning_is_in_the_result() {
    let (_, t) = canned(
        200,
        Some("application/json"),
        r#"{"num_joined":1,"error":"","warning":"anonymous server join is deprecated and will be removed in a future version of Nomad"}"#,
    );
    let joined = Client::with_transport(config(), t).agent().join(["10.0.0.4"]).unwrap();
    assert_eq!(joined.num_joined, 1);
    assert!(joined
        .warning
        .unwrap()
        .starts_with("anonymous server join is deprecated"));
}

#[test]
fn join_error_is_a_response_error_join_failed() {
    let (_, t) = canned(
        200,
        Some("application/json"),
        r#"{"num_joined":0,"error":"1 error occurred:\n\t* Failed to join 10.0.0.9:4648: connection refused\n\n","warning":""}"#,
    );
    let err = Client::with_transport(config(), t)
        .agent()
        .join(["10.0.0.9"])
        .unwrap_err();
    match err.as_response() {
        Some(ResponseError::JoinFailed { num_joined, message }) => {
            assert_eq!(*num_joined, 0);
            assert!(message.ends_with("connection refused"), "{message}");
        }
        other => panic!("expected JoinFailed, got {other:?}"),
    }
    assert!(err.to_string().contains("connection refused"), "{err}");
}

#[test]
fn force_leave_sends_put_with_node_and_accepts_an_empty_200() {
    let (log, t) = canned(200, None, "");
    Client::with_transport(config(), t)
        .agent()
        .force_leave("nomad-2.global")
        .unwrap();
    assert_plain(
        &only(&log),
        Method::PUT,
        "http://10.1.2.3:4646/v1/agent/force-leave?node=nomad-2.global",
    );
}

#[test]
fn force_leave_prune_sends_prune_1() {
    let (log, t) = canned(200, None, "");
    Client::with_transport(config(), t)
        .agent()
        .force_leave_prune("nomad-2.global")
        .unwrap();
    assert_plain(
        &only(&log),
        Method::PUT,
        "http://10.1.2.3:4646/v1/agent/force-leave?node=nomad-2.global&prune=1",
    );
}

#[test]
fn health_sends_get_v1_agent_health_and_reports_healthy() {
    let (log, t) = canned(
        200,
        Some("application/json"),
        r#"{"client":{"ok":true,"message":"ok"},"server":{"ok":true,"message":"ok"}}"#,
    );
    let report = Client::with_transport(config(), t).agent().health().unwrap();
    assert_plain(&only(&log), Method::GET, "http://10.1.2.3:4646/v1/agent/health");
    assert!(report.is_healthy());
}

#[test]
fn health_of_a_role_sends_type_and_an_unhealthy_500_is_an_ok_report() {
    let (log, t) = canned(
        500,
        Some("text/plain; charset=utf-8"),
        r#"{"client":{"ok":false,"message":"no known servers"}}"#,
    );
    let report = Client::with_transport(config(), t)
        .agent()
        .health_of(AgentRole::Client)
        .unwrap();
    assert_plain(
        &only(&log),
        Method::GET,
        "http://10.1.2.3:4646/v1/agent/health?type=client",
    );
    assert!(!report.is_healthy());
    assert_eq!(report.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(report.problems(), ["client: no known servers"]);
}

#[test]
fn call_with_per_call_options_overrides_region_and_token() {
    let config = Config::builder()
        .address("http://10.1.2.3:4646")
        .token("client-token")
        .region("global")
        .build()
        .unwrap();
    let (log, t) = canned(200, Some("application/json"), MEMBERS);
    let client = Client::with_transport(config, t);
    client
        .call(&ListMembers::new().region("eu-west").token("per-call-token"))
        .unwrap();
    let seen = only(&log);
    assert_eq!(seen.uri, "http://10.1.2.3:4646/v1/agent/members?region=eu-west");
    assert_eq!(seen.header_all("x-nomad-token"), ["per-call-token"]);
}

// ---------------------------------------------------------------------------------------------
// Error sides
// ---------------------------------------------------------------------------------------------

fn counting() -> (
    Arc<AtomicUsize>,
    impl Fn(Request<Vec<u8>>) -> Answer + Send + Sync + 'static,
) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let t = move |_req: Request<Vec<u8>>| {
        c.fetch_add(1, Ordering::SeqCst);
        Response::builder().status(200).body(b"{}".to_vec())
    };
    (calls, t)
}

#[test]
fn a_bad_per_call_token_is_error_build_and_nothing_is_sent() {
    let (calls, t) = counting();
    let client = Client::with_transport(config(), t);
    let err = client.call(&GetSelf::new().token("tok\nX-Injected: 1")).unwrap_err();
    assert!(matches!(err, Error::Build(BuildError::InvalidToken { .. })), "{err:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing may be sent");
    assert_eq!(err.status(), None);
    assert!(!format!("{err} {err:?}").contains("X-Injected"));
}

#[test]
fn a_bad_client_token_fails_when_the_client_is_built() {
    let err = Client::builder()
        .address("http://127.0.0.1:4646")
        .token("caf\u{e9}-token")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Build(BuildError::InvalidToken { .. })), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("caf"));
}

#[test]
fn invalid_arguments_are_error_build_and_nothing_is_sent() {
    let (calls, t) = counting();
    let client = Client::with_transport(config(), t);
    let empty: Vec<String> = Vec::new();
    for err in [
        client.agent().join(empty.clone()).unwrap_err(),
        client.agent().set_servers(empty).unwrap_err(),
        client.agent().force_leave("").unwrap_err(),
        client.call(&Join::new(["10.0.0.4"]).region("")).unwrap_err(),
    ] {
        assert!(
            matches!(err, Error::Build(BuildError::InvalidArgument { .. })),
            "{err:?}"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing may be sent");
}

#[test]
fn a_closure_error_is_error_transport_of_kind_other_keeping_the_cause() {
    let client = Client::with_transport(config(), |_req: Request<Vec<u8>>| {
        Err::<Response<Vec<u8>>, _>(std::io::Error::other("proxy tunnel closed"))
    });
    let err = client.agent().members().unwrap_err();
    let transport = err.as_transport().expect("a transport error");
    assert_eq!(transport.kind(), &TransportErrorKind::Other);
    assert_eq!(err.status(), None);
    assert!(err.as_response().is_none());
    // The cause is the reason the message states, once; the error itself stays reachable.
    assert_eq!(err.to_string(), "transport failed: proxy tunnel closed");
    assert!(
        std::error::Error::source(&err).is_none(),
        "its reason is in the message already"
    );
    let cause = transport.underlying().expect("the closure's error");
    assert!(cause.to_string().contains("proxy tunnel closed"), "{cause}");
}

#[test]
fn a_transport_error_from_the_closure_keeps_its_kind() {
    let client = Client::with_transport(config(), |_req: Request<Vec<u8>>| {
        Err::<Response<Vec<u8>>, _>(TransportError::from_kind(TransportErrorKind::Connect))
    });
    let err = client.agent().self_info().unwrap_err();
    assert_eq!(err.as_transport().unwrap().kind(), &TransportErrorKind::Connect);
}

#[test]
fn a_403_is_error_response_permission_denied() {
    let (_, t) = canned(403, Some("text/plain; charset=utf-8"), "Permission denied");
    let err = Client::with_transport(config(), t).agent().members().unwrap_err();
    assert!(matches!(err, Error::Response(_)), "{err:?}");
    assert!(err.is_permission_denied());
    assert!(!err.is_wrong_role());
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    assert!(err.to_string().contains("Permission denied"), "{err}");
}

#[test]
fn a_501_is_error_response_wrong_role() {
    let (_, t) = canned(501, Some("text/plain; charset=utf-8"), "Invalid method");
    let err = Client::with_transport(config(), t).agent().servers().unwrap_err();
    assert!(err.is_wrong_role(), "{err:?}");
    assert_eq!(err.status(), Some(StatusCode::NOT_IMPLEMENTED));
}

#[test]
fn an_empty_200_for_json_is_error_response_empty_body() {
    let (_, t) = canned(200, None, "");
    let err = Client::with_transport(config(), t).agent().self_info().unwrap_err();
    assert!(
        matches!(err, Error::Response(ResponseError::EmptyBody { .. })),
        "{err:?}"
    );
}

#[test]
fn malformed_json_is_error_response_decode_with_the_raw_body() {
    let (_, t) = canned(200, Some("application/json"), "<html>gateway</html>");
    let err = Client::with_transport(config(), t).agent().members().unwrap_err();
    match err.as_response() {
        Some(ResponseError::Decode { body, .. }) => assert_eq!(body, b"<html>gateway</html>"),
        other => panic!("expected Decode, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Sharing
// ---------------------------------------------------------------------------------------------

#[test]
fn client_is_send_sync_clone_and_clones_share_the_transport() {
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>(_: &T) {}

    let (calls, t) = counting();
    let client = Client::with_transport(config(), t);
    assert_send_sync_clone(&client);
    let clone = client.clone();
    assert!(std::ptr::eq(client.transport(), clone.transport()));

    let worker = std::thread::spawn(move || clone.call(&GetSelf::new()).map(|_| ()));
    client.call(&GetSelf::new()).unwrap();
    worker.join().unwrap().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

// The default (ureq) client can be shared by threads and cloned: checked at compile time.
const _: () = {
    const fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync_clone::<Client>();
};

#[test]
fn debug_of_a_client_never_shows_the_token() {
    let (_, t) = counting();
    let client = Client::with_transport(Config::builder().token("very-secret-token").build().unwrap(), t);
    assert!(!format!("{client:?}").contains("very-secret-token"));
}
