//! `/v1/agent/host` end to end: the bare host data of the local agent, forwarded answers naming
//! the agent, and the 403s (ACLs, or `enable_debug` off without ACLs).

use nomad_blocking::http::StatusCode;
use nomad_blocking::proto::agent::Target;
use nomad_blocking::test_agent::{Capability, TestAgent};

use crate::{agent_message, client, client_with_token, raw_json, response_error, start};

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
