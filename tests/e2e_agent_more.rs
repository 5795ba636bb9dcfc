//! End to end: the real ureq-backed `nomad_blocking::Client` against the loopback test agent
//! for reload, host data, scheduler workers, the gossip keyring, pprof profiles
//! (buffered and streamed to a writer) and the node name / datacenter / region conveniences,
//! including the agent's role and ACL answers.

mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use nomad_blocking::http::{Request, Response, StatusCode};
use nomad_blocking::proto::agent::{Pprof, Target, WorkerStatus, WorkloadStatus};
use nomad_blocking::proto::{BuildError, Config, Endpoint, ResponseError};
use nomad_blocking::test_agent::{Capability, Role, TestAgent};
use nomad_blocking::{Client, Error, TransportErrorKind};

const KEY_1: &str = "HS5lJ+XuTlYKWaeGYyG+/A=="; // the test agent's initial primary key
const KEY_2: &str = "z3Vc0nN3ID9u5ZqUdfqVXQ==";

fn start(builder: nomad_blocking::test_agent::TestAgentBuilder) -> TestAgent {
    builder.start().expect("test agent starts")
}

fn client(agent: &TestAgent) -> Client {
    agent.client().expect("client builds")
}

fn client_with_token(agent: &TestAgent, token: &str) -> Client {
    agent.client_with_token(token).expect("client builds")
}

fn response_error(err: &Error) -> &ResponseError {
    err.as_response()
        .unwrap_or_else(|| panic!("expected a response error, got {err:?}"))
}

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

// ---------------------------------------------------------------------------------------------
// reload
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// host
// ---------------------------------------------------------------------------------------------

#[test]
fn host_without_acls_and_without_enable_debug_explains_the_403() {
    let agent = start(TestAgent::builder());
    let err = client(&agent).agent().host().unwrap_err();
    assert!(err.is_permission_denied());
    let text = err.to_string();
    assert!(text.contains("Permission denied"), "{text}");
    assert!(
        text.contains("enable_debug = true") && text.contains("ACLs are disabled"),
        "{text}"
    );
    assert!(text.contains("agent:read"), "{text}");
    assert!(response_error(&err).debug_disabled_hint().is_some());
}

#[test]
fn host_with_enable_debug_decodes_the_bare_host_data_the_agent_sent() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let host = client(&agent).agent().host().expect("host data");
    assert_eq!(host.agent_id, None, "the local agent answers without AgentID");
    // Every field as the agent sent it.
    let sent = raw_json(&agent, "/v1/agent/host");
    let data = &host.host_data;
    assert_eq!(data.os, sent["OS"]);
    assert_eq!(data.resolv_conf, sent["ResolvConf"]);
    assert_eq!(data.hosts, sent["Hosts"]);
    assert_eq!(serde_json::to_value(&data.network).unwrap(), sent["Network"]);
    assert_eq!(serde_json::to_value(&data.environment).unwrap(), sent["Environment"]);
    let disks = sent["Disk"].as_object().unwrap();
    assert_eq!(data.disk.len(), disks.len());
    for (mount, usage) in disks {
        assert_eq!(data.disk[mount].disk_mb, usage["DiskMB"], "{mount}");
        assert_eq!(data.disk[mount].used_mb, usage["UsedMB"], "{mount}");
    }
    assert!(!data.os.is_empty() && !data.network.is_empty() && !data.disk.is_empty());
}

#[test]
fn host_forwarded_to_a_node_or_server_names_the_agent() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let c = client(&agent);
    let node_id = c
        .agent()
        .self_info()
        .unwrap()
        .stat("client", "node_id")
        .unwrap()
        .to_owned();
    let host = c
        .agent()
        .host_of(Target::Node(node_id.clone()))
        .expect("node host data");
    assert_eq!(host.agent_id.as_deref(), Some(node_id.as_str()));
    assert!(host.host_data.os.contains("Linux"));
    assert_eq!(
        agent.last_request().unwrap().query_param("node_id"),
        Some(node_id.as_str())
    );

    let host = c.agent().host_of(Target::Server("nomad-2.global".into())).unwrap();
    assert_eq!(host.agent_id.as_deref(), Some("nomad-2.global"));

    let err = c.agent().host_of(Target::Server("nomad-9.global".into())).unwrap_err();
    assert_eq!(
        agent_message(&err),
        (StatusCode::BAD_REQUEST, "unknown nomad server nomad-9.global")
    );
}

#[test]
fn host_with_acls_needs_agent_read_whatever_enable_debug_says() {
    let agent = start(TestAgent::builder().token("reader", &[Capability::AgentRead]));
    let host = client_with_token(&agent, "reader")
        .agent()
        .host()
        .expect("agent:read suffices");
    assert!(!host.host_data.os.is_empty());
    let err = client(&agent).agent().host().unwrap_err();
    assert!(err.is_permission_denied(), "anonymous: {err}");
    let err = client_with_token(&agent, "stranger").agent().host().unwrap_err();
    assert_eq!(agent_message(&err), (StatusCode::FORBIDDEN, "ACL token not found"));
    assert_eq!(response_error(&err).debug_disabled_hint(), None);
}

// ---------------------------------------------------------------------------------------------
// schedulers
// ---------------------------------------------------------------------------------------------

#[test]
fn scheduler_workers_decode_into_known_states() {
    let agent = start(TestAgent::builder().role(Role::Server));
    let info = client(&agent).agent().scheduler_workers_info().expect("workers");
    assert_eq!(info.server_id, "nomad-1.global");
    // Every worker as the agent sent it, each status a known one (not `Other`).
    let sent = raw_json(&agent, "/v1/agent/schedulers");
    let sent = sent["schedulers"].as_array().unwrap();
    assert_eq!(info.schedulers.len(), sent.len());
    for (worker, wire) in info.schedulers.iter().zip(sent) {
        assert_eq!(worker.id, wire["id"]);
        assert_eq!(worker.started, wire["started"]);
        assert_eq!(
            serde_json::to_value(&worker.enabled_schedulers).unwrap(),
            wire["enabled_schedulers"]
        );
        assert_eq!(worker.status.as_str(), wire["status"]);
        assert_eq!(worker.workload_status.as_str(), wire["workload_status"]);
        assert!(!matches!(worker.status, WorkerStatus::Other(_)), "{:?}", worker.status);
        assert!(
            !matches!(worker.workload_status, WorkloadStatus::Other(_)),
            "{:?}",
            worker.workload_status
        );
    }
    let states: std::collections::BTreeSet<&str> = info.schedulers.iter().map(|w| w.status.as_str()).collect();
    assert_eq!(
        states,
        ["Paused", "Started"].into(),
        "both states a leader's workers are in"
    );
}

#[test]
fn scheduler_config_can_be_read_and_changed() {
    let agent = start(TestAgent::builder().role(Role::Server));
    let c = client(&agent);
    let before = c.agent().scheduler_worker_config().unwrap();
    assert_eq!(before.num_schedulers, 8);
    assert_eq!(before.server_id, "nomad-1.global");

    let after = c.agent().set_scheduler_worker_config(2, ["_core", "service"]).unwrap();
    assert_eq!(
        (after.num_schedulers, after.enabled_schedulers.as_slice()),
        (2, &["_core".to_owned(), "service".to_owned()][..])
    );
    let req = agent.last_request().unwrap();
    assert_eq!(req.method, "PUT");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.body,
        br#"{"num_schedulers":2,"enabled_schedulers":["_core","service"]}"#
    );
    assert_eq!(c.agent().scheduler_workers_info().unwrap().schedulers.len(), 2);
}

#[test]
fn scheduler_config_beyond_the_cpu_count_is_the_agents_400() {
    let agent = start(TestAgent::builder().role(Role::Server));
    let err = client(&agent)
        .agent()
        .set_scheduler_worker_config(64, ["_core"])
        .unwrap_err();
    assert_eq!(agent_message(&err), (StatusCode::BAD_REQUEST, "Invalid request"));
    assert_eq!(agent.with_state(|s| s.num_schedulers), 8, "unchanged");
}

#[test]
fn scheduler_config_without_core_is_refused_before_anything_is_sent() {
    let agent = start(TestAgent::builder().role(Role::Server));
    let err = client(&agent)
        .agent()
        .set_scheduler_worker_config(2, ["service"])
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Build(BuildError::InvalidArgument {
            argument: "enabled_schedulers",
            ..
        })
    ));
    assert!(agent.requests().is_empty());
}

#[test]
fn scheduler_endpoints_on_a_client_only_agent_are_wrong_role() {
    let agent = start(TestAgent::builder().role(Role::Client));
    let a = client(&agent);
    let errors = [
        a.agent().scheduler_workers_info().unwrap_err(),
        a.agent().scheduler_worker_config().unwrap_err(),
        a.agent().set_scheduler_worker_config(1, ["_core"]).unwrap_err(),
    ];
    for err in errors {
        assert!(err.is_wrong_role(), "{err}");
        assert_eq!(agent_message(&err), (StatusCode::BAD_REQUEST, "Server only endpoint"));
    }
}

#[test]
fn scheduler_config_acl_read_vs_write() {
    let agent = start(
        TestAgent::builder()
            .role(Role::Server)
            .token("reader", &[Capability::AgentRead]),
    );
    let reader = client_with_token(&agent, "reader");
    reader.agent().scheduler_worker_config().expect("agent:read reads");
    reader.agent().scheduler_workers_info().expect("agent:read reads");
    let err = reader.agent().set_scheduler_worker_config(2, ["_core"]).unwrap_err();
    assert!(err.is_permission_denied());
}

// ---------------------------------------------------------------------------------------------
// keyring
// ---------------------------------------------------------------------------------------------

#[test]
fn keyring_rotation_install_use_remove() {
    let agent = start(TestAgent::builder().role(Role::Server));
    let a = client(&agent);
    let servers = agent.with_state(|s| s.members.iter().filter(|m| m.status == "alive").count()) as u64;
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

// ---------------------------------------------------------------------------------------------
// pprof
// ---------------------------------------------------------------------------------------------

#[test]
fn pprof_profiles_come_back_with_their_bytes_and_headers() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let a = client(&agent);
    // Each profile as the agent sent it: the same bytes, content type and file name.
    let cases = [
        (a.agent().cpu_profile(1), "/v1/agent/pprof/profile?seconds=1", false),
        (a.agent().trace(1), "/v1/agent/pprof/trace?seconds=1", false),
        (a.agent().lookup("heap"), "/v1/agent/pprof/heap", false),
        (
            a.agent().pprof(&Pprof::lookup("goroutine").debug(1)),
            "/v1/agent/pprof/goroutine?debug=1",
            true,
        ),
        (a.agent().pprof(&Pprof::cmdline()), "/v1/agent/pprof/cmdline", true),
    ];
    for (profile, path, text) in cases {
        let profile = profile.unwrap_or_else(|e| panic!("{path}: {e}"));
        let sent = support::raw_exchange(agent.socket_addr().unwrap(), "GET", path, &[], b"");
        assert_eq!(sent.status, 200, "{path}");
        assert_eq!(profile.data, sent.body, "{path}");
        assert_eq!(profile.content_type.as_deref(), sent.header("content-type"), "{path}");
        let file_name = sent
            .header("content-disposition")
            .and_then(|d| d.split("filename=").nth(1))
            .map(|f| f.trim_matches('"'));
        assert_eq!(profile.file_name.as_deref(), file_name, "{path}");
        assert_eq!(profile.is_text(), text, "{path}");
        assert!(!profile.data.is_empty(), "{path}");
    }
}

#[test]
fn pprof_unknown_profile_is_not_found() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let a = client(&agent);
    let err = a.agent().lookup("nosuch").unwrap_err();
    assert!(response_error(&err).is_not_found());
    assert_eq!(
        err.to_string(),
        "unexpected response status 404 Not Found: Pprof profile not found profile: nosuch"
    );
}

#[test]
fn pprof_without_acls_and_without_enable_debug_explains_the_403() {
    let agent = start(TestAgent::builder());
    let err = client(&agent).agent().lookup("heap").unwrap_err();
    assert!(err.is_permission_denied());
    let text = err.to_string();
    assert!(text.contains("enable_debug") && text.contains("agent:write"), "{text}");
}

#[test]
fn pprof_with_acls_needs_agent_write() {
    let agent = start(
        TestAgent::builder()
            .token("reader", &[Capability::AgentRead])
            .token("writer", &[Capability::AgentWrite]),
    );
    assert!(client_with_token(&agent, "reader")
        .agent()
        .lookup("heap")
        .unwrap_err()
        .is_permission_denied());
    let heap = client_with_token(&agent, "writer")
        .agent()
        .lookup("heap")
        .expect("agent:write profiles");
    assert_eq!(heap.data.len(), 4096);
}

#[test]
fn pprof_forwarded_to_a_server() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let a = client(&agent);
    let op = Pprof::lookup("goroutine").target(Target::Server("leader".into()));
    assert_eq!(a.agent().pprof(&op).unwrap().file_name.as_deref(), Some("goroutine"));
    assert_eq!(agent.last_request().unwrap().query_param("server_id"), Some("leader"));
}

/// A destination that keeps only a length, a checksum and the largest single write.
#[derive(Default)]
struct Sink {
    len: u64,
    sum: u64,
    largest_write: usize,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.len += buf.len() as u64;
        self.sum = buf
            .iter()
            .fold(self.sum, |s, b| s.wrapping_mul(31).wrapping_add(u64::from(*b)));
        self.largest_write = self.largest_write.max(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_multi_mib_profile_streams_to_a_writer_past_the_body_limit() {
    const SIZE: usize = 6 * 1024 * 1024;
    let agent = start(TestAgent::builder().enable_debug(true).profile_size(SIZE));
    let limited = Client::builder()
        .address(agent.url())
        .body_limit(1024 * 1024)
        .build()
        .unwrap();
    // Read into memory, the profile is over the limit ...
    let err = limited.agent().lookup("heap").unwrap_err();
    assert!(
        matches!(
            err.as_transport().map(|t| t.kind()),
            Some(TransportErrorKind::BodyTooLarge { .. })
        ),
        "{err:?}"
    );
    // ... streamed, it arrives whole, in bounded pieces.
    let mut sink = Sink::default();
    let written = limited
        .agent()
        .write_profile(&Pprof::lookup("heap"), &mut sink)
        .unwrap();
    assert_eq!(written, SIZE as u64);
    assert_eq!(sink.len, SIZE as u64);
    assert!(sink.largest_write <= 64 * 1024, "largest write {}", sink.largest_write);
    // Same bytes as the buffered call (with a limit that fits).
    let buffered = client(&agent).agent().lookup("heap").unwrap();
    let mut expected = Sink::default();
    expected.write_all(&buffered.data).unwrap();
    assert_eq!((sink.len, sink.sum), (expected.len, expected.sum));
}

#[test]
fn streaming_an_error_answer_writes_nothing() {
    let agent = start(TestAgent::builder());
    let mut out = Vec::new();
    let err = client(&agent)
        .agent()
        .write_profile(&Pprof::lookup("heap"), &mut out)
        .unwrap_err();
    assert!(err.is_permission_denied());
    assert!(err.to_string().contains("enable_debug"), "{err}");
    assert!(out.is_empty());

    agent.with_state(|s| s.enable_debug = true);
    let err = client(&agent)
        .agent()
        .write_profile(&Pprof::lookup("nosuch"), &mut out)
        .unwrap_err();
    assert!(response_error(&err).is_not_found());
    assert!(out.is_empty());
}

#[test]
fn a_failing_writer_is_a_write_error() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let agent = start(TestAgent::builder().enable_debug(true));
    let err = client(&agent)
        .agent()
        .write_profile(&Pprof::lookup("heap"), &mut Broken)
        .unwrap_err();
    match err {
        Error::Write(io) => assert_eq!(io.kind(), std::io::ErrorKind::StorageFull),
        other => panic!("expected Error::Write, got {other:?}"),
    }
}

/// A CPU profile request *without* the `ExpectedDuration` extension, to show what it is for.
struct UnannouncedCpuProfile;

impl Endpoint for UnannouncedCpuProfile {
    type Output = ();
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut request = Pprof::cpu_profile().seconds(PROFILE_SECONDS).to_request(config)?;
        request.extensions_mut().clear();
        Ok(request)
    }
    fn parse_response(&self, _: Response<Vec<u8>>) -> Result<(), ResponseError> {
        Ok(())
    }
}

/// The timeouts of the client in the profile test, and the length of its profiles: the
/// extended timeouts (timeout + profile) and the plain ones miss the profile's end by as much
/// either way.
const SHORT_TIMEOUT: Duration = Duration::from_millis(1_500);
const PROFILE_SECONDS: u32 = 3;

#[test]
fn a_profile_longer_than_the_call_timeout_still_succeeds() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let short = Client::builder()
        .address(agent.url())
        .call_timeout(Some(SHORT_TIMEOUT))
        .read_timeout(Some(SHORT_TIMEOUT))
        .build()
        .unwrap();
    let profile_time = Duration::from_secs(PROFILE_SECONDS.into());
    // The agent records each profile for `seconds` before it answers, and serves requests
    // meanwhile: the three calls run side by side.
    std::thread::scope(|scope| {
        let buffered = scope.spawn(|| {
            let started = Instant::now();
            (short.agent().cpu_profile(PROFILE_SECONDS), started.elapsed())
        });
        let streamed = scope.spawn(|| {
            let mut sink = Sink::default();
            let written = short
                .agent()
                .write_profile(&Pprof::cpu_profile().seconds(PROFILE_SECONDS), &mut sink);
            (written, sink.len)
        });
        // The same request without the extension hits the short timeout.
        let unannounced = scope.spawn(|| short.call(&UnannouncedCpuProfile));

        let (profile, elapsed) = buffered.join().unwrap();
        let profile = profile.expect("the timeout is extended by `seconds`");
        assert!(
            elapsed >= profile_time,
            "the agent recorded for {profile_time:?}: {elapsed:?}"
        );
        assert_eq!(profile.file_name.as_deref(), Some("profile"));
        let (written, len) = streamed.join().unwrap();
        assert_eq!(written.expect("streaming is extended too"), 4096);
        assert_eq!(len, 4096);
        let err = unannounced.join().unwrap().unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    });
}

// ---------------------------------------------------------------------------------------------
// node name, datacenter, region
// ---------------------------------------------------------------------------------------------

#[test]
fn node_name_datacenter_and_region_come_from_self() {
    let agent = start(TestAgent::builder().role(Role::Server).region("eu"));
    let a = client(&agent);
    assert_eq!(a.agent().node_name().unwrap(), "nomad-1.eu");
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
