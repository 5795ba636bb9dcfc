//! `/v1/agent/schedulers` and `/v1/agent/schedulers/config` end to end: the workers' states,
//! reading and changing the pool, what is refused before sending and by the agent, roles, ACLs.

use nomad_blocking::http::StatusCode;
use nomad_blocking::proto::agent::{WorkerStatus, WorkloadStatus};
use nomad_blocking::proto::BuildError;
use nomad_blocking::test_agent::{Capability, Role, TestAgent};
use nomad_blocking::Error;

use crate::{agent_message, client, client_with_token, raw_json, start};

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
