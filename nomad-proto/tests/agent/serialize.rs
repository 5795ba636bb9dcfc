//! Every result type writes back what it read (`Serialize`, for a CLI's `-json` output): a
//! realistic Nomad 2.0 answer is parsed by its operation, serialized, and the JSON is the agent's
//! answer again, with only the normalisations each type documents applied to the input; parsing
//! that JSON again (with the operation and with plain serde) gives an equal value.

use base64::Engine as _;
use nomad_proto::agent::{
    AgentSelf, GetHealth, GetHostData, GetSchedulerWorkerConfig, GetSchedulerWorkersInfo, GetSelf, HealthReport,
    HostDataResponse, Join, JoinResult, KeyringResponse, ListKeys, ListMembers, Monitor, Pprof, Profile,
    SchedulerWorkerConfig, SchedulerWorkersInfo, ServerMembers, Target,
};
use nomad_proto::http::{Response, StatusCode};
use nomad_proto::stream::{LogLevel, LogLine, LogRecord};
use nomad_proto::Endpoint;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::common::*;
use crate::host::HOST_DATA;
use crate::keyring::KEYRING;
use crate::members::MEMBERS_2_0;
use crate::self_info::{SELF_CLIENT_ONLY_2_0, SELF_OLD_0_5, SELF_SERVER_2_0};

/// Parses `body` (answered with `status`) with `op`, and checks that the value serializes to
/// `expected` (the body with the type's documented normalisations), and that the serialized
/// JSON parses back, through the operation and through serde, into an equal value.
fn round_trip<E>(op: &E, status: u16, body: &str, expected: &Value) -> E::Output
where
    E: Endpoint,
    E::Output: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let parsed = op
        .parse_response(response(status, body))
        .expect("the agent's answer parses");
    let written = serde_json::to_value(&parsed).expect("serializes");
    assert_eq!(&written, expected, "what the value writes");
    let text = serde_json::to_string(&parsed).unwrap();
    let again = op
        .parse_response(response(status, &text))
        .expect("the written JSON parses");
    assert_eq!(again, parsed, "parsed again by the operation");
    let plain: E::Output = serde_json::from_str(&text).expect("serde reads the written JSON");
    assert_eq!(plain, parsed, "read again by serde");
    parsed
}

fn value(body: &str) -> Value {
    serde_json::from_str(body).expect("test body is JSON")
}

#[test]
fn members_write_back_the_agents_answer_unchanged() {
    let members: ServerMembers = round_trip(&ListMembers::new(), 200, MEMBERS_2_0, &value(MEMBERS_2_0));
    assert_eq!(members.members.len(), 3);
}

#[test]
fn self_writes_back_the_agents_answer_unchanged_for_a_server_and_a_0_5_agent() {
    for body in [SELF_SERVER_2_0, SELF_OLD_0_5] {
        let me: AgentSelf = round_trip(&GetSelf::new(), 200, body, &value(body));
        assert!(me.is_server());
    }
}

#[test]
fn self_of_a_client_only_agent_writes_null_tags_as_an_empty_map() {
    // The zero member's `"Tags": null` decodes as an empty map (documented on `AgentMember`);
    // `"Addr": null` stays null.
    let mut expected = value(SELF_CLIENT_ONLY_2_0);
    expected["member"]["Tags"] = json!({});
    let me: AgentSelf = round_trip(&GetSelf::new(), 200, SELF_CLIENT_ONLY_2_0, &expected);
    assert!(me.member.is_empty());
}

#[test]
fn self_stats_that_are_not_strings_are_written_as_their_json_text() {
    let body = r#"{"config":{},"member":{"Name":"a","Addr":"10.0.0.1","Port":4648,"Tags":{},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},"stats":{"nomad":{"leader":true,"peers":3,"note":null}}}"#;
    let mut expected = value(body);
    expected["stats"]["nomad"] = json!({"leader": "true", "peers": "3", "note": ""});
    round_trip(&GetSelf::new(), 200, body, &expected);
}

#[test]
fn health_writes_the_body_and_an_unhealthy_report_reads_back_with_its_500() {
    let healthy = r#"{"client":{"ok":true,"message":"ok"},"server":{"ok":true,"message":"ok"}}"#;
    let report: HealthReport = round_trip(&GetHealth::new(), 200, healthy, &value(healthy));
    assert!(report.is_healthy());

    let unhealthy = r#"{"client":{"ok":true,"message":"ok"},"server":{"ok":false,"message":"no leader"}}"#;
    let report: HealthReport = round_trip(&GetHealth::new(), 500, unhealthy, &value(unhealthy));
    assert_eq!(report.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!report.is_healthy());

    // Only the reported roles are written, and an empty message is left out, as the agent does.
    let one = r#"{"server":{"ok":false}}"#;
    let report: HealthReport = round_trip(&GetHealth::new(), 500, one, &value(one));
    assert!(report.client.is_none());
}

#[test]
fn host_data_is_written_in_the_shape_it_was_read_from() {
    let bare: HostDataResponse = round_trip(&GetHostData::new(), 200, HOST_DATA, &value(HOST_DATA));
    assert_eq!(bare.agent_id, None);

    let wrapped = format!(r#"{{"AgentID":"4bb9aca7-d43b-43fc-d604-3a271ef0a6c0","HostData":{HOST_DATA}}}"#);
    let op = GetHostData::new().target(Target::Node("4bb9aca7-d43b-43fc-d604-3a271ef0a6c0".into()));
    let forwarded: HostDataResponse = round_trip(&op, 200, &wrapped, &value(&wrapped));
    assert_eq!(forwarded.host_data, bare.host_data);
}

#[test]
fn host_data_writes_null_fields_as_empty_values() {
    // Nomad `command/agent/host/network.go`: `Network` is null on a host with no interfaces.
    let body = r#"{"OS":"Linux","Network":null,"ResolvConf":"","Hosts":"","Environment":null,"Disk":null}"#;
    let mut expected = value(body);
    expected["Network"] = json!([]);
    expected["Environment"] = json!({});
    expected["Disk"] = json!({});
    round_trip(&GetHostData::new(), 200, body, &expected);
}

#[test]
fn scheduler_answers_write_back_unchanged() {
    let workers = r#"{"server_id":"server1.global","schedulers":[
      {"id":"5669d6fa-0def-7369-6558-a47c35fdc675","enabled_schedulers":["service","batch","system","sysbatch","_core"],
       "started":"2021-12-21T19:25:00.911883Z","status":"Paused","workload_status":"Paused"},
      {"id":"458816ae-83cf-0710-d8d4-35d2ad2e42d7","enabled_schedulers":["service","batch","system","sysbatch","_core"],
       "started":"2021-12-21T19:25:00.912119Z","status":"Started","workload_status":"WaitingToDequeue"},
      {"id":"9d3e1f55-0c6a-4a8e-8f2b-0a1b2c3d4e5f","enabled_schedulers":["_core"],
       "started":"2021-12-21T19:25:00.912500Z","status":"Draining","workload_status":"Rebalancing"}]}"#;
    // The last worker's states are unknown to this client: they are written as received.
    let info: SchedulerWorkersInfo = round_trip(&GetSchedulerWorkersInfo::new(), 200, workers, &value(workers));
    assert_eq!(info.schedulers[2].status.as_str(), "Draining");

    let config = r#"{"server_id":"server1.global","num_schedulers":8,"enabled_schedulers":["service","batch","system","sysbatch","_core"]}"#;
    let config: SchedulerWorkerConfig = round_trip(&GetSchedulerWorkerConfig::new(), 200, config, &value(config));
    assert_eq!(config.num_schedulers, 8);
}

#[test]
fn a_join_writes_back_the_agents_answer() {
    let warned = r#"{"num_joined":1,"error":"","warning":"anonymous server join is deprecated and will be removed in a future version of Nomad"}"#;
    let joined: JoinResult = round_trip(&Join::new(["10.0.0.2"]), 200, warned, &value(warned));
    assert!(joined.warning.is_some());
    let clean = r#"{"num_joined":2,"error":"","warning":""}"#;
    round_trip(&Join::new(["10.0.0.2", "10.0.0.3"]), 200, clean, &value(clean));

    // A failed join is an error, not a result, for serde as for the operation.
    let failed = r#"{"num_joined":0,"error":"1 error occurred:\n\t* Failed to join 10.0.0.9:4648: i/o timeout\n\n","warning":""}"#;
    let err = serde_json::from_str::<JoinResult>(failed).unwrap_err();
    assert!(err.to_string().contains("i/o timeout"), "{err}");
}

#[test]
fn a_keyring_writes_its_keys_only_when_asked_to() {
    let ring = ListKeys::new().parse_response(json_ok(KEYRING)).unwrap();
    // The agent's answer, keys included, only through the explicit view.
    let exposed = serde_json::to_value(ring.exposing_keys()).unwrap();
    assert_eq!(exposed, value(KEYRING));
    let again = ListKeys::new().parse_response(json_ok(&exposed.to_string())).unwrap();
    assert_eq!(again, ring);

    // Serialize and Debug keep the counts and never show a key.
    let redacted = serde_json::to_value(&ring).unwrap();
    assert_eq!(
        redacted,
        json!({"Messages": {}, "Keys": {"<redacted 1>": 3, "<redacted 2>": 2}, "NumNodes": 3})
    );
    for key in ring.keys.keys() {
        assert!(!redacted.to_string().contains(key.as_str()));
        assert!(!format!("{ring:?}").contains(key.as_str()));
        assert!(!format!("{:?}", ring.exposing_keys()).contains(key.as_str()));
    }
    let read_back: KeyringResponse = serde_json::from_value(redacted).unwrap();
    assert_eq!(read_back.num_nodes, 3);
}

#[test]
fn a_profile_writes_its_bytes_as_base64_with_its_headers() {
    let op = Pprof::lookup("heap");
    let bytes = vec![0x1f, 0x8b, 0x08, 0x00, 0xff, 0x00];
    let answer = Response::builder()
        .status(200)
        .header("content-type", "application/octet-stream")
        .header("content-disposition", r#"attachment; filename="heap""#)
        .body(bytes.clone())
        .unwrap();
    let profile = op.parse_response(answer).unwrap();
    let written = serde_json::to_value(&profile).unwrap();
    assert_eq!(
        written,
        json!({"content_type": "application/octet-stream", "file_name": "heap", "data": "H4sIAP8A"})
    );
    let read: Profile = serde_json::from_value(written).unwrap();
    assert_eq!(read, profile);
    assert_eq!(read.data, bytes);
    assert!(serde_json::from_value::<Profile>(json!({"data": "not base64!"})).is_err());
}

#[test]
fn log_lines_and_hclog_records_write_back_what_the_stream_held() {
    // A `log_json=true` monitor stream with one record: hclog writes its keys sorted.
    let record_json = r#"{"@caller":"agent/agent.go:512","@level":"info","@message":"agent: plugin process exited","@module":"agent.plugin_loader","@timestamp":"2024-05-01T10:00:00.000000Z","id":1234,"path":"/usr/bin/nomad"}"#;
    let frame = format!(
        r#"{{"Data":"{}","FileEvent":"log"}}{{}}"#,
        base64::engine::general_purpose::STANDARD.encode(format!("{record_json}\n"))
    );
    let lines = Monitor::new().log_json(true).parse_response(json_ok(&frame)).unwrap();
    assert_eq!(lines, [LogLine::new(record_json)]);
    assert_eq!(serde_json::to_value(&lines[0]).unwrap(), json!({"text": record_json}));
    assert_eq!(
        serde_json::from_value::<LogLine>(json!({"text": record_json})).unwrap(),
        lines[0]
    );

    let record = lines[0].record().unwrap();
    assert_eq!(record.level, LogLevel::Info);
    // Byte for byte what hclog wrote.
    assert_eq!(serde_json::to_string(&record).unwrap(), record_json);
    let read: LogRecord = serde_json::from_str(record_json).unwrap();
    assert_eq!(read, record);
    // What `LogRecord::parse` refuses, serde refuses too.
    assert!(serde_json::from_str::<LogRecord>(r#"{"@level":"loud","@message":"x"}"#).is_err());
}
