//! `GetSchedulerWorkersInfo`, `GetSchedulerWorkerConfig` and `SetSchedulerWorkerConfig`
//! (`src/agent/schedulers.rs`): requests and the JSON body, worker states, arguments refused
//! before sending, and the agent's 400s.

use nomad_proto::agent::{
    GetSchedulerWorkerConfig, GetSchedulerWorkersInfo, SetSchedulerWorkerConfig, WorkerStatus, WorkloadStatus,
};
use nomad_proto::http::{Method, StatusCode};
use nomad_proto::Endpoint;

use crate::common::*;

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
