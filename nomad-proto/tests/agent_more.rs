//! Reload, host data, scheduler workers and their configuration, the gossip keyring, pprof
//! profiles, and the node name / datacenter / region conveniences over `/v1/agent/self`. What
//! goes on the wire, what realistic answers parse into, and how every error looks. Pure function
//! calls on bytes: no sockets.
//!
//! The wire facts are Nomad 2.0.x's (`command/agent/agent_endpoint.go`,
//! `command/agent/http.go`, the Go client's `api/agent.go`).

use std::time::Duration;

use nomad_proto::agent::{
    AgentSelf, GetHostData, GetSchedulerWorkerConfig, GetSchedulerWorkersInfo, InstallKey, ListKeys, Pprof,
    ProfileKind, Reload, RemoveKey, SetSchedulerWorkerConfig, Target, UseKey, WorkerStatus, WorkloadStatus,
};
use nomad_proto::http::{Method, Request, Response, StatusCode};
use nomad_proto::{BuildError, Config, Endpoint, ExpectedDuration, ResponseError, WithCallOptions};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const BASE: &str = "http://127.0.0.1:4646";
const KEY_16: &str = "HS5lJ+XuTlYKWaeGYyG+/A==";
const KEY_24: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";
const KEY_32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn config() -> Config {
    Config::builder()
        .address(BASE)
        .token("s3cr3t")
        .build()
        .expect("valid config")
}

fn request<E: Endpoint>(op: &E) -> Request<Vec<u8>> {
    op.to_request(&config()).expect("request builds")
}

fn response(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

fn text_error(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

/// Method, full URI, exactly one token header, and the body as text.
fn assert_request(req: &Request<Vec<u8>>, method: Method, uri: &str, body: &str) {
    assert_eq!(req.method(), method, "method of {uri}");
    assert_eq!(req.uri(), uri);
    let tokens: Vec<_> = req.headers().get_all("x-nomad-token").iter().collect();
    assert_eq!(tokens, ["s3cr3t"], "exactly one token header");
    assert_eq!(String::from_utf8_lossy(req.body()), body);
    let content_type = req.headers().get("content-type").map(|v| v.to_str().unwrap());
    if body.is_empty() {
        assert_eq!(content_type, None, "no content type without a body");
    } else {
        assert_eq!(content_type, Some("application/json"));
    }
}

fn invalid_argument(err: BuildError) -> (&'static str, String) {
    match err {
        BuildError::InvalidArgument { argument, reason } => (argument, reason),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

fn unexpected(err: &ResponseError) -> (StatusCode, &str) {
    match err {
        ResponseError::UnexpectedStatus { status, body } => (*status, body.as_str()),
        other => panic!("expected UnexpectedStatus, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// reload
// ---------------------------------------------------------------------------------------------

#[test]
fn reload_is_a_put_without_body() {
    assert_request(
        &request(&Reload::new()),
        Method::PUT,
        "http://127.0.0.1:4646/v1/agent/reload",
        "",
    );
}

#[test]
fn reload_success_is_an_empty_200_without_content_type() {
    Reload::new()
        .parse_response(response(200, ""))
        .expect("empty 200 is success");
}

#[test]
fn reload_failure_is_a_500_with_the_agent_text() {
    let err = Reload::new()
        .parse_response(text_error(
            500,
            "error loading config: open /etc/nomad.d/x.hcl: permission denied",
        ))
        .unwrap_err();
    assert_eq!(
        unexpected(&err),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "error loading config: open /etc/nomad.d/x.hcl: permission denied"
        )
    );
    assert!(!err.is_permission_denied(), "a 500 mentioning permissions is not a 403");
}

#[test]
fn reload_without_agent_write_is_permission_denied() {
    let err = Reload::new()
        .parse_response(text_error(403, "Permission denied"))
        .unwrap_err();
    assert!(err.is_permission_denied());
    assert_eq!(
        err.debug_disabled_hint(),
        None,
        "reload does not depend on enable_debug"
    );
}

#[test]
fn per_call_options_apply_to_the_new_operations() {
    let req = request(&Reload::new().region("eu-west").token("other"));
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/reload?region=eu-west");
    let tokens: Vec<_> = req.headers().get_all("x-nomad-token").iter().collect();
    assert_eq!(tokens, ["other"], "the per-call token replaces the client token");
    let req = request(&ListKeys::new().region("eu-west"));
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/keyring/list?region=eu-west");
    let req = request(&Pprof::lookup("heap").region("eu-west"));
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/pprof/heap?region=eu-west");
}

// ---------------------------------------------------------------------------------------------
// host
// ---------------------------------------------------------------------------------------------

const HOST_DATA: &str = r#"{"OS":"x86_64 ip-172-31-92-147 4.15.0-1007-aws Linux #7-Ubuntu SMP Tue Apr 24 10:56:17 UTC 2018",
 "Network":[{"DialPacket":"\"udp4\" \"\"","address":"127.0.0.1","mask_bits":"8","string":"127.0.0.1/8","type":"IPv4"},
            {"address":"172.31.92.147","mask_bits":"20","string":"172.31.92.147/20","type":"IPv4"}],
 "ResolvConf":"nameserver 172.17.0.1\nnameserver 8.8.8.8\n",
 "Hosts":"127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n",
 "Environment":{"LANG":"C.UTF-8","NOMAD_TOKEN":"<redacted>","PATH":"/usr/local/sbin:/usr/bin"},
 "Disk":{"/":{"DiskMB":7876,"UsedMB":4287},"/opt/nomad":{"DiskMB":102400,"UsedMB":0}}}"#;

#[test]
fn host_untargeted_has_no_query() {
    assert_request(
        &request(&GetHostData::new()),
        Method::GET,
        "http://127.0.0.1:4646/v1/agent/host",
        "",
    );
}

#[test]
fn host_targets_a_node_or_a_server_with_encoded_ids() {
    let req = request(&GetHostData::new().target(Target::Node("4bb9aca7-d43b-43fc-d604-3a271ef0a6c0".into())));
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/host?node_id=4bb9aca7-d43b-43fc-d604-3a271ef0a6c0"
    );
    let req = request(&GetHostData::new().target(Target::Server("server 1.global&x=y".into())));
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/host?server_id=server+1.global%26x%3Dy"
    );
}

#[test]
fn host_target_with_an_empty_id_is_rejected_before_sending() {
    // `Target` holds one ID, so "both node_id and server_id" cannot be expressed at all; an
    // empty ID would silently mean "local agent" to the agent and is refused instead.
    let err = GetHostData::new()
        .target(Target::Node("  ".into()))
        .to_request(&config())
        .unwrap_err();
    assert_eq!(invalid_argument(err).0, "node_id");
    let err = GetHostData::new()
        .target(Target::Server(String::new()))
        .to_request(&config())
        .unwrap_err();
    assert_eq!(invalid_argument(err).0, "server_id");
}

#[test]
fn host_untargeted_answer_is_a_bare_host_data_object() {
    let host = GetHostData::new().parse_response(response(200, HOST_DATA)).unwrap();
    assert_eq!(host.agent_id, None);
    let data = &host.host_data;
    assert!(data.os.starts_with("x86_64 ip-172-31-92-147"));
    assert_eq!(data.network.len(), 2);
    assert_eq!(data.network[1]["address"], "172.31.92.147");
    assert_eq!(data.network[0]["DialPacket"], "\"udp4\" \"\"");
    assert_eq!(data.resolv_conf, "nameserver 172.17.0.1\nnameserver 8.8.8.8\n");
    assert!(data.hosts.contains("ip6-localhost"));
    assert_eq!(data.environment["NOMAD_TOKEN"], "<redacted>");
    assert_eq!(data.disk["/"].disk_mb, 7876);
    assert_eq!(data.disk["/"].used_mb, 4287);
    assert_eq!(data.disk["/opt/nomad"].disk_mb, 102400);
}

#[test]
fn host_targeted_answer_is_unwrapped_and_keeps_the_agent_id() {
    let body = format!(r#"{{"AgentID":"4bb9aca7-d43b-43fc-d604-3a271ef0a6c0","HostData":{HOST_DATA}}}"#);
    let op = GetHostData::new().target(Target::Node("4bb9aca7-d43b-43fc-d604-3a271ef0a6c0".into()));
    let targeted = op.parse_response(response(200, &body)).unwrap();
    assert_eq!(
        targeted.agent_id.as_deref(),
        Some("4bb9aca7-d43b-43fc-d604-3a271ef0a6c0")
    );
    let bare = GetHostData::new().parse_response(response(200, HOST_DATA)).unwrap();
    assert_eq!(
        targeted.host_data, bare.host_data,
        "both shapes decode to the same HostData"
    );
}

#[test]
fn host_data_tolerates_nulls_missing_and_unknown_fields() {
    let host = GetHostData::new()
        .parse_response(response(
            200,
            r#"{"OS":"Linux","Network":null,"Environment":null,"Disk":null,"NewField":{"x":1}}"#,
        ))
        .unwrap();
    assert_eq!(host.host_data.os, "Linux");
    assert!(host.host_data.network.is_empty() && host.host_data.environment.is_empty());
    assert!(host.host_data.disk.is_empty() && host.host_data.hosts.is_empty());
    let wrapped = GetHostData::new()
        .parse_response(response(200, r#"{"AgentID":"nomad-2.global","HostData":null}"#))
        .unwrap();
    assert_eq!(wrapped.agent_id.as_deref(), Some("nomad-2.global"));
    assert!(wrapped.host_data.os.is_empty());
}

#[test]
fn host_data_of_the_wrong_shape_is_a_decode_error_keeping_the_body() {
    for body in [
        r#"{"AgentID":"x","HostData":{"Disk":{"/":{"DiskMB":"big"}}}}"#,
        r#"{"AgentID":7,"HostData":{}}"#,
        "[]",
    ] {
        let err = GetHostData::new().parse_response(response(200, body)).unwrap_err();
        match err {
            ResponseError::Decode { body: kept, status, .. } => {
                assert_eq!(status, StatusCode::OK);
                assert_eq!(kept, body.as_bytes());
            }
            other => panic!("expected Decode for {body}, got {other:?}"),
        }
    }
    let err = GetHostData::new().parse_response(response(200, "")).unwrap_err();
    assert!(matches!(err, ResponseError::EmptyBody { .. }));
}

#[test]
fn host_403_names_enable_debug_and_the_acl_capability() {
    let err = GetHostData::new()
        .parse_response(text_error(403, "Permission denied"))
        .unwrap_err();
    assert!(err.is_permission_denied());
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    assert_eq!(err.message(), Some("Permission denied"));
    let text = err.to_string();
    assert!(text.contains("Permission denied"), "{text}");
    assert!(text.contains("/v1/agent/host"), "{text}");
    assert!(text.contains("enable_debug = true"), "{text}");
    assert!(text.contains("ACLs are disabled"), "{text}");
    assert!(text.contains("agent:read"), "{text}");
    assert_eq!(
        err.debug_disabled_hint().as_deref(),
        Some(&text[text.find("/v1/agent/host").unwrap()..])
    );
}

#[test]
fn host_403_for_an_unknown_token_has_no_enable_debug_hint() {
    // `ACL token not found` only happens with ACLs on: enable_debug is irrelevant.
    let err = GetHostData::new()
        .parse_response(text_error(403, "ACL token not found"))
        .unwrap_err();
    assert!(err.is_permission_denied());
    assert_eq!(err.debug_disabled_hint(), None);
    assert_eq!(unexpected(&err), (StatusCode::FORBIDDEN, "ACL token not found"));
}

#[test]
fn host_both_ids_and_unknown_ids_surface_the_agent_text() {
    let err = GetHostData::new()
        .parse_response(text_error(400, "Can only forward to either client node or server"))
        .unwrap_err();
    assert_eq!(
        unexpected(&err),
        (
            StatusCode::BAD_REQUEST,
            "Can only forward to either client node or server"
        )
    );
    let err = GetHostData::new()
        .parse_response(text_error(405, "Invalid method"))
        .unwrap_err();
    assert!(err.is_method_not_allowed());
}

// ---------------------------------------------------------------------------------------------
// schedulers
// ---------------------------------------------------------------------------------------------

#[test]
fn scheduler_requests_have_the_documented_method_and_path() {
    assert_request(
        &request(&GetSchedulerWorkersInfo::new()),
        Method::GET,
        "http://127.0.0.1:4646/v1/agent/schedulers",
        "",
    );
    assert_request(
        &request(&GetSchedulerWorkerConfig::new()),
        Method::GET,
        "http://127.0.0.1:4646/v1/agent/schedulers/config",
        "",
    );
}

#[test]
fn scheduler_workers_parse_the_docs_sample_shape() {
    let body = r#"{"schedulers":[
      {"enabled_schedulers":["service","batch","system","sysbatch","_core"],"id":"5669d6fa-0def-7369-6558-a47c35fdc675",
       "started":"2021-12-21T19:25:00.911883Z","status":"Paused","workload_status":"Paused"},
      {"enabled_schedulers":["service","batch","system","sysbatch","_core"],"id":"458816ae-83cf-0710-d8d4-35d2ad2e42d7",
       "started":"2021-12-21T19:25:00.912119Z","status":"Started","workload_status":"WaitingToDequeue"}],
      "server_id":"server1.global"}"#;
    let info = GetSchedulerWorkersInfo::new()
        .parse_response(response(200, body))
        .unwrap();
    assert_eq!(info.server_id, "server1.global");
    assert_eq!(info.schedulers.len(), 2);
    let w = &info.schedulers[1];
    assert_eq!(w.id, "458816ae-83cf-0710-d8d4-35d2ad2e42d7");
    assert_eq!(
        w.enabled_schedulers,
        ["service", "batch", "system", "sysbatch", "_core"]
    );
    assert_eq!(w.started, "2021-12-21T19:25:00.912119Z");
    assert_eq!(w.status, WorkerStatus::Started);
    assert_eq!(w.workload_status, WorkloadStatus::WaitingToDequeue);
    assert_eq!(info.schedulers[0].status, WorkerStatus::Paused);
    assert_eq!(info.schedulers[0].workload_status, WorkloadStatus::Paused);
}

#[test]
fn every_worker_status_and_workload_status_round_trips() {
    let statuses = [
        ("Unknown", WorkerStatus::Unknown),
        ("Starting", WorkerStatus::Starting),
        ("Started", WorkerStatus::Started),
        ("Pausing", WorkerStatus::Pausing),
        ("Paused", WorkerStatus::Paused),
        ("Resuming", WorkerStatus::Resuming),
        ("Stopping", WorkerStatus::Stopping),
        ("Stopped", WorkerStatus::Stopped),
        ("Hibernating", WorkerStatus::Other("Hibernating".into())),
    ];
    let workloads = [
        ("UnknownStatus", WorkloadStatus::UnknownStatus),
        ("Running", WorkloadStatus::Running),
        ("WaitingToDequeue", WorkloadStatus::WaitingToDequeue),
        ("WaitingForRaft", WorkloadStatus::WaitingForRaft),
        ("Scheduling", WorkloadStatus::Scheduling),
        ("Submitting", WorkloadStatus::Submitting),
        ("Backoff", WorkloadStatus::Backoff),
        ("Stopped", WorkloadStatus::Stopped),
        ("Paused", WorkloadStatus::Paused),
        ("Draining", WorkloadStatus::Other("Draining".into())),
    ];
    for (i, (wire, expected)) in statuses.iter().enumerate() {
        let (workload_wire, workload) = &workloads[i % workloads.len()];
        let body = format!(
            r#"{{"server_id":"s","schedulers":[{{"id":"w","status":"{wire}","workload_status":"{workload_wire}"}}]}}"#
        );
        let info = GetSchedulerWorkersInfo::new()
            .parse_response(response(200, &body))
            .unwrap();
        assert_eq!(&info.schedulers[0].status, expected);
        assert_eq!(info.schedulers[0].status.as_str(), *wire);
        assert_eq!(info.schedulers[0].status.to_string(), *wire);
        assert_eq!(&info.schedulers[0].workload_status, workload);
    }
    for (wire, expected) in &workloads {
        let body = format!(r#"{{"schedulers":[{{"workload_status":"{wire}"}}]}}"#);
        let info = GetSchedulerWorkersInfo::new()
            .parse_response(response(200, &body))
            .unwrap();
        assert_eq!(&info.schedulers[0].workload_status, expected);
        assert_eq!(info.schedulers[0].workload_status.as_str(), *wire);
    }
}

#[test]
fn missing_or_null_worker_fields_take_defaults() {
    let body = r#"{"server_id":null,"schedulers":[{"id":"w","enabled_schedulers":null,"status":null}]}"#;
    let info = GetSchedulerWorkersInfo::new()
        .parse_response(response(200, body))
        .unwrap();
    let w = &info.schedulers[0];
    assert_eq!(w.status, WorkerStatus::Unknown);
    assert_eq!(w.workload_status, WorkloadStatus::UnknownStatus);
    assert!(w.enabled_schedulers.is_empty() && w.started.is_empty());
    let empty = GetSchedulerWorkersInfo::new()
        .parse_response(response(200, r#"{"server_id":"s","schedulers":null}"#))
        .unwrap();
    assert!(empty.schedulers.is_empty());
}

#[test]
fn scheduler_config_parses() {
    let body = r#"{"enabled_schedulers":["service","batch","system","sysbatch","_core"],"num_schedulers":8,"server_id":"server1.global"}"#;
    let config = GetSchedulerWorkerConfig::new()
        .parse_response(response(200, body))
        .unwrap();
    assert_eq!(config.num_schedulers, 8);
    assert_eq!(config.server_id, "server1.global");
    assert_eq!(config.enabled_schedulers.len(), 5);
}

#[test]
fn set_scheduler_config_sends_the_documented_json_body() {
    let op = SetSchedulerWorkerConfig::new(12, ["_core", "batch"]);
    assert_request(
        &request(&op),
        Method::PUT,
        "http://127.0.0.1:4646/v1/agent/schedulers/config",
        r#"{"num_schedulers":12,"enabled_schedulers":["_core","batch"]}"#,
    );
    // Zero workers is valid (the agent accepts 0..=NumCPU); all built-ins are accepted.
    let op = SetSchedulerWorkerConfig::new(0, ["service", "batch", "system", "sysbatch", "_core"]);
    assert_eq!(
        String::from_utf8(request(&op).into_body()).unwrap(),
        r#"{"num_schedulers":0,"enabled_schedulers":["service","batch","system","sysbatch","_core"]}"#
    );
    let answer = op
        .parse_response(response(
            200,
            r#"{"server_id":"nomad-1.global","num_schedulers":0,"enabled_schedulers":["_core"]}"#,
        ))
        .unwrap();
    assert_eq!(answer.num_schedulers, 0);
}

#[test]
fn set_scheduler_config_without_core_is_rejected_before_sending() {
    for enabled in [vec!["service", "batch"], vec![]] {
        let err = SetSchedulerWorkerConfig::new(4, enabled.clone())
            .to_request(&config())
            .unwrap_err();
        let (argument, reason) = invalid_argument(err);
        assert_eq!(argument, "enabled_schedulers", "{enabled:?}");
        assert!(reason.contains("_core"), "{reason}");
    }
}

#[test]
fn set_scheduler_config_with_an_unknown_scheduler_is_rejected_before_sending() {
    for bad in ["Service", "csi", "", "_core "] {
        let err = SetSchedulerWorkerConfig::new(4, ["_core", bad])
            .to_request(&config())
            .unwrap_err();
        let (argument, reason) = invalid_argument(err);
        assert_eq!(argument, "enabled_schedulers");
        assert!(reason.contains(&format!("{bad:?}")), "reason names {bad:?}: {reason}");
    }
}

#[test]
fn set_scheduler_config_beyond_the_cpu_count_surfaces_the_agent_400() {
    // The client cannot know the server's CPU count: the agent's answer must stay clear.
    let err = SetSchedulerWorkerConfig::new(512, ["_core"])
        .parse_response(text_error(400, "Invalid request"))
        .unwrap_err();
    assert_eq!(unexpected(&err), (StatusCode::BAD_REQUEST, "Invalid request"));
    assert!(!err.is_wrong_role());
    assert!(err.to_string().contains("400") && err.to_string().contains("Invalid request"));
}

#[test]
fn scheduler_endpoints_on_a_client_only_agent_are_wrong_role() {
    let server_only = || text_error(400, "Server only endpoint");
    let errors = [
        GetSchedulerWorkersInfo::new()
            .parse_response(server_only())
            .unwrap_err(),
        GetSchedulerWorkerConfig::new()
            .parse_response(server_only())
            .unwrap_err(),
        SetSchedulerWorkerConfig::new(2, ["_core"])
            .parse_response(server_only())
            .unwrap_err(),
    ];
    for err in errors {
        assert!(err.is_wrong_role(), "{err}");
        assert!(!err.is_permission_denied());
    }
}

// ---------------------------------------------------------------------------------------------
// keyring
// ---------------------------------------------------------------------------------------------

const KEYRING: &str =
    r#"{"Messages":{},"Keys":{"HS5lJ+XuTlYKWaeGYyG+/A==":3,"z3Vc0nN3ID9u5ZqUdfqVXQ==":2},"NumNodes":3}"#;

#[test]
fn keyring_list_is_a_get_without_body() {
    assert_request(
        &request(&ListKeys::new()),
        Method::GET,
        "http://127.0.0.1:4646/v1/agent/keyring/list",
        "",
    );
}

#[test]
fn keyring_changes_are_puts_with_a_key_body() {
    let body = format!(r#"{{"Key":"{KEY_16}"}}"#);
    assert_request(
        &request(&InstallKey::new(KEY_16)),
        Method::PUT,
        "http://127.0.0.1:4646/v1/agent/keyring/install",
        &body,
    );
    assert_request(
        &request(&UseKey::new(KEY_16)),
        Method::PUT,
        "http://127.0.0.1:4646/v1/agent/keyring/use",
        &body,
    );
    assert_request(
        &request(&RemoveKey::new(KEY_16)),
        Method::PUT,
        "http://127.0.0.1:4646/v1/agent/keyring/remove",
        &body,
    );
}

#[test]
fn keyring_accepts_aes_128_192_and_256_keys() {
    for key in [KEY_16, KEY_24, KEY_32] {
        let req = request(&InstallKey::new(key));
        assert_eq!(req.body(), format!(r#"{{"Key":"{key}"}}"#).as_bytes());
    }
}

#[test]
fn keyring_empty_key_is_rejected_before_sending() {
    for err in [
        InstallKey::new("").to_request(&config()).unwrap_err(),
        UseKey::new("").to_request(&config()).unwrap_err(),
        RemoveKey::new("").to_request(&config()).unwrap_err(),
    ] {
        let (argument, reason) = invalid_argument(err);
        assert_eq!(argument, "key");
        assert!(reason.contains("required"), "{reason}");
    }
}

#[test]
fn keyring_malformed_keys_are_rejected_without_echoing_the_key() {
    let cases = [
        ("not base64 at all!!", "base64"),
        ("HS5lJ+XuTlYKWaeGYyG+/A", "base64"),    // padding missing
        (" HS5lJ+XuTlYKWaeGYyG+/A==", "base64"), // whitespace
        ("HS5lJ-XuTlYKWaeGYyG_/A==", "base64"),  // URL-safe alphabet
        ("c2hvcnRrZXk=", "decodes to 8 bytes"),  // 8 bytes
        (
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==",
            "decodes to 34 bytes",
        ),
    ];
    for (key, expected) in cases {
        let err = InstallKey::new(key).to_request(&config()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "{key:?}: {text}");
        assert!(
            !text.contains(key.trim()),
            "the key must not appear in the error: {text}"
        );
    }
}

#[test]
fn keyring_key_is_hidden_from_debug() {
    let op = InstallKey::new(KEY_16);
    assert!(!format!("{op:?}").contains("HS5lJ"));
}

#[test]
fn keyring_response_parses_and_flags_partially_installed_keys() {
    for op_response in [
        ListKeys::new().parse_response(response(200, KEYRING)),
        InstallKey::new(KEY_16).parse_response(response(200, KEYRING)),
        UseKey::new(KEY_16).parse_response(response(200, KEYRING)),
        RemoveKey::new(KEY_16).parse_response(response(200, KEYRING)),
    ] {
        let ring = op_response.unwrap();
        assert_eq!(ring.num_nodes, 3);
        assert_eq!(ring.keys["HS5lJ+XuTlYKWaeGYyG+/A=="], 3);
        assert!(ring.messages.is_empty());
        assert_eq!(
            ring.partially_installed().collect::<Vec<_>>(),
            ["z3Vc0nN3ID9u5ZqUdfqVXQ=="]
        );
    }
    let ring = ListKeys::new()
        .parse_response(response(
            200,
            r#"{"Messages":{"nomad-2.global":"key not found"},"Keys":null,"NumNodes":3}"#,
        ))
        .unwrap();
    assert!(ring.keys.is_empty());
    assert_eq!(ring.messages["nomad-2.global"], "key not found");
}

#[test]
fn keyring_errors_keep_their_meaning() {
    let err = ListKeys::new()
        .parse_response(text_error(501, "Invalid method"))
        .unwrap_err();
    assert!(err.is_wrong_role(), "client-only agent");
    let err = ListKeys::new()
        .parse_response(text_error(403, "Permission denied"))
        .unwrap_err();
    assert!(err.is_permission_denied());
    assert_eq!(
        err.debug_disabled_hint(),
        None,
        "the keyring does not depend on enable_debug"
    );
    let err = UseKey::new(KEY_16)
        .parse_response(text_error(500, "2/3 nodes reported failure"))
        .unwrap_err();
    assert_eq!(
        unexpected(&err),
        (StatusCode::INTERNAL_SERVER_ERROR, "2/3 nodes reported failure")
    );
    let err = ListKeys::new()
        .parse_response(text_error(404, "resource not found"))
        .unwrap_err();
    assert!(err.is_not_found());
}

// ---------------------------------------------------------------------------------------------
// pprof
// ---------------------------------------------------------------------------------------------

fn expected_duration(req: &Request<Vec<u8>>) -> Option<Duration> {
    req.extensions().get::<ExpectedDuration>().map(|d| d.0)
}

#[test]
fn cpu_profile_request_carries_seconds_and_an_expected_duration() {
    let req = request(&Pprof::cpu_profile().seconds(30));
    assert_request(
        &req,
        Method::GET,
        "http://127.0.0.1:4646/v1/agent/pprof/profile?seconds=30",
        "",
    );
    assert_eq!(expected_duration(&req), Some(Duration::from_secs(30)));
}

#[test]
fn cpu_profile_and_trace_default_to_the_agents_one_second() {
    let req = request(&Pprof::cpu_profile());
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/pprof/profile");
    assert_eq!(expected_duration(&req), Some(Duration::from_secs(1)));
    // seconds=0 means the default to the agent.
    let req = request(&Pprof::trace().seconds(0));
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/pprof/trace?seconds=0");
    assert_eq!(expected_duration(&req), Some(Duration::from_secs(1)));
    // A lookup spelled "profile" is still a CPU profile to the agent.
    let req = request(&Pprof::lookup("profile").seconds(4));
    assert_eq!(expected_duration(&req), Some(Duration::from_secs(4)));
}

#[test]
fn instant_profiles_have_no_expected_duration() {
    for op in [Pprof::cmdline(), Pprof::lookup("goroutine").seconds(10)] {
        assert_eq!(expected_duration(&request(&op)), None, "{:?}", op.kind);
    }
}

#[test]
fn named_profiles_send_debug_gc_and_target() {
    let req = request(
        &Pprof::lookup("heap")
            .debug(1)
            .gc(true)
            .target(Target::Node("4bb9aca7-d43b-43fc-d604-3a271ef0a6c0".into())),
    );
    assert_request(
        &req,
        Method::GET,
        "http://127.0.0.1:4646/v1/agent/pprof/heap?debug=1&gc=1&node_id=4bb9aca7-d43b-43fc-d604-3a271ef0a6c0",
        "",
    );
    let req = request(
        &Pprof::trace()
            .seconds(5)
            .target(Target::Server("server1.global".into())),
    );
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/pprof/trace?seconds=5&server_id=server1.global"
    );
    let req = request(&Pprof::cmdline());
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/pprof/cmdline");
    for name in [
        "goroutine",
        "heap",
        "allocs",
        "block",
        "mutex",
        "threadcreate",
        "my_app.custom-v2~x",
    ] {
        let req = request(&Pprof::lookup(name));
        assert_eq!(req.uri().path(), format!("/v1/agent/pprof/{name}"));
    }
}

#[test]
fn profile_names_that_are_empty_or_not_path_safe_are_rejected() {
    // An empty name would hit /v1/agent/pprof/ (404 "Invalid method"); the others would change
    // the path or the query.
    for name in [
        "",
        ".",
        "..",
        "heap/../cmdline",
        "heap?debug=1",
        "heap#x",
        "he ap",
        "%2e%2e",
        "héap",
    ] {
        let err = Pprof::lookup(name).to_request(&config()).unwrap_err();
        assert_eq!(invalid_argument(err).0, "profile", "{name:?}");
    }
    let err = Pprof::lookup("heap")
        .target(Target::Node(String::new()))
        .to_request(&config())
        .unwrap_err();
    assert_eq!(invalid_argument(err).0, "node_id");
}

#[test]
fn binary_profile_keeps_bytes_content_type_and_file_name() {
    let bytes = vec![0x1f, 0x8b, 0x08, 0x00, 0x00, 0xff, 0x00, 0x10];
    let resp = Response::builder()
        .status(200)
        .header("content-type", "application/octet-stream")
        .header("content-disposition", "attachment; filename=\"heap\"")
        .header("x-content-type-options", "nosniff")
        .body(bytes.clone())
        .unwrap();
    let profile = Pprof::lookup("heap").parse_response(resp).unwrap();
    assert_eq!(profile.data, bytes);
    assert_eq!(profile.content_type.as_deref(), Some("application/octet-stream"));
    assert_eq!(profile.file_name.as_deref(), Some("heap"));
    assert!(!profile.is_text());
}

#[test]
fn text_profiles_are_recognised() {
    let resp = Response::builder()
        .status(200)
        .header("content-type", "text/plain; charset=utf-8")
        .body(b"/usr/local/bin/nomad\0agent\0-dev".to_vec())
        .unwrap();
    let profile = Pprof::cmdline().parse_response(resp).unwrap();
    assert!(profile.is_text());
    assert_eq!(profile.file_name, None);
    assert_eq!(profile.data.split(|b| *b == 0).count(), 3);
    // No headers at all (a custom transport that drops them) is still a profile.
    let profile = Pprof::cpu_profile().parse_response(response(200, "xyz")).unwrap();
    assert_eq!(
        (profile.content_type, profile.file_name, profile.data),
        (None, None, b"xyz".to_vec())
    );
}

#[test]
fn pprof_403_names_enable_debug_and_agent_write() {
    let op = Pprof::cpu_profile();
    let err = op.parse_response(text_error(403, "Permission denied")).unwrap_err();
    assert!(err.is_permission_denied());
    let text = err.to_string();
    assert!(
        text.contains("/v1/agent/pprof") && text.contains("enable_debug") && text.contains("agent:write"),
        "{text}"
    );
    // The streaming check gives the same error from the start of the body.
    let streamed = op
        .check_status(StatusCode::FORBIDDEN, b"Permission denied")
        .unwrap_err();
    assert_eq!(streamed.to_string(), text);
    op.check_status(StatusCode::OK, b"").expect("200 streams");
}

#[test]
fn pprof_unknown_profile_and_bad_target_are_agent_errors() {
    let err = Pprof::lookup("nosuch")
        .parse_response(text_error(404, "Pprof profile not found profile: nosuch"))
        .unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.message(), Some("Pprof profile not found profile: nosuch"));
    let err = Pprof::cpu_profile()
        .check_status(StatusCode::BAD_REQUEST, b"Cannot target node and server simultaneously")
        .unwrap_err();
    assert_eq!(
        unexpected(&err),
        (StatusCode::BAD_REQUEST, "Cannot target node and server simultaneously")
    );
}

#[test]
fn profile_kind_names_the_path() {
    assert_eq!(ProfileKind::Cpu.path_name(), "profile");
    assert_eq!(ProfileKind::Trace.path_name(), "trace");
    assert_eq!(ProfileKind::Cmdline.path_name(), "cmdline");
    assert_eq!(ProfileKind::Lookup("mutex".into()).path_name(), "mutex");
    assert!(ProfileKind::Cpu.is_timed() && ProfileKind::Trace.is_timed());
    assert!(!ProfileKind::Cmdline.is_timed() && !ProfileKind::Lookup("heap".into()).is_timed());
}

// ---------------------------------------------------------------------------------------------
// node name, datacenter, region (from /v1/agent/self)
// ---------------------------------------------------------------------------------------------

fn agent_self(body: &str) -> AgentSelf {
    serde_json::from_str(body).expect("valid self body")
}

#[test]
fn server_self_gives_member_name_datacenter_and_region() {
    let me = agent_self(
        r#"{"config":{"Region":"eu","Datacenter":"eu-west-1a","NodeName":"nomad-1"},
            "member":{"Name":"nomad-1.eu","Addr":"10.0.0.1","Tags":{"region":"eu","dc":"eu-west-1a"},"Status":"alive"},
            "stats":{}}"#,
    );
    assert_eq!(
        me.node_name(),
        Some("nomad-1.eu"),
        "Go's NodeName() is the serf member name"
    );
    assert_eq!(me.datacenter(), Some("eu-west-1a"));
    assert_eq!(me.region(), Some("eu"));
}

#[test]
fn client_only_self_falls_back_to_the_configured_node_name() {
    let me = agent_self(
        r#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"client-7"},
            "member":{"Name":"","Addr":null,"Port":0,"Tags":null,"Status":"none"},"stats":{"client":{}}}"#,
    );
    assert_eq!(me.node_name(), Some("client-7"));
    assert_eq!(me.datacenter(), Some("dc1"));
}

#[test]
fn self_without_values_reports_none_and_tags_fill_gaps() {
    let me = agent_self(r#"{"config":{"Region":"","NodeName":""},"member":{"Name":""},"stats":{}}"#);
    assert_eq!((me.node_name(), me.datacenter(), me.region()), (None, None, None));
    let me = agent_self(r#"{"config":{},"member":{"Name":"n.global","Tags":{"region":"global","dc":"dc9"}}}"#);
    assert_eq!((me.datacenter(), me.region()), (Some("dc9"), Some("global")));
    let err = ResponseError::MissingValue {
        what: "datacenter (config.Datacenter)",
    };
    assert_eq!(
        err.to_string(),
        "the agent's answer has no datacenter (config.Datacenter)"
    );
}
