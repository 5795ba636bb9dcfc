//! `GetHostData` (`src/agent/host.rs`): targets, the bare and the wrapped answer shapes, lenient
//! decoding, and the 403 that names `enable_debug`.

use nomad_proto::agent::{GetHostData, Target};
use nomad_proto::http::{Method, StatusCode};
use nomad_proto::{Endpoint, ResponseError};

use crate::common::*;

pub(crate) const HOST_DATA: &str = r#"{"OS":"x86_64 ip-172-31-92-147 4.15.0-1007-aws Linux #7-Ubuntu SMP Tue Apr 24 10:56:17 UTC 2018",
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
    // The message says what was expected instead.
    let err = GetHostData::new().parse_response(response(200, "[1]")).unwrap_err();
    assert!(err.to_string().contains("expected a host data object"), "{err}");
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
        text,
        "GET /v1/agent/host: 403 Permission denied; /v1/agent/host needs `enable_debug = true` in the \
         agent configuration when ACLs are disabled, or an ACL token with agent:read when they are enabled"
    );
    assert_eq!(
        err.debug_disabled_hint().as_deref(),
        Some(text.split_once("; ").unwrap().1)
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

/// A host with no network interfaces: the agent sends `"Network":null` (a nil slice, Nomad
/// `command/agent/host/network.go`), which reads as no interfaces.
#[test]
fn a_null_network_reads_as_no_interfaces() {
    let local = r#"{"OS":"Linux 6.8.0","Network":null,"ResolvConf":"","Hosts":"","Environment":{},"Disk":{"/":{"DiskMB":100,"UsedMB":10}}}"#;
    let host = GetHostData::new().parse_response(json_ok(local)).unwrap();
    assert!(host.host_data.network.is_empty());
    assert_eq!(host.host_data.os, "Linux 6.8.0");
    assert_eq!(host.host_data.disk["/"].disk_mb, 100);
    let forwarded = format!(r#"{{"AgentID":"nomad-2.global","HostData":{local}}}"#);
    let host = GetHostData::new().parse_response(json_ok(&forwarded)).unwrap();
    assert!(host.host_data.network.is_empty());
    assert_eq!(host.agent_id.as_deref(), Some("nomad-2.global"));
    // Read directly as `HostData` too.
    let data: nomad_proto::agent::HostData = serde_json::from_str(local).unwrap();
    assert!(data.network.is_empty());
}
