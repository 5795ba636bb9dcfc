//! `GetHealth` (`src/agent/health.rs`): `type=` for one or both roles, the healthy 200, the
//! unhealthy 500 whose body is JSON under a `text/plain` content type, and the 500s and other
//! statuses that are errors.

use nomad_proto::agent::{AgentRole, GetHealth};
use nomad_proto::http::{Method, StatusCode};
use nomad_proto::{Endpoint, ResponseError};

use crate::common::*;

#[test]
fn get_health_is_get_v1_agent_health_without_type() {
    let req = GetHealth::new().to_request(&config()).unwrap();
    assert_eq!(req.method(), Method::GET);
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/health");
}

#[test]
fn get_health_for_both_roles_repeats_type() {
    let req = GetHealth::new()
        .role(AgentRole::Client)
        .role(AgentRole::Server)
        .to_request(&config())
        .unwrap();
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/health?type=client&type=server"
    );
}

#[test]
fn get_health_asking_twice_for_a_role_sends_it_once() {
    let req = GetHealth::new()
        .role(AgentRole::Server)
        .role(AgentRole::Server)
        .to_request(&config())
        .unwrap();
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/health?type=server");
}

#[test]
fn health_200_is_a_healthy_report() {
    let body = r#"{"client":{"ok":true,"message":"ok"},"server":{"ok":true,"message":"ok"}}"#;
    let report = GetHealth::new().parse_response(json_ok(body)).unwrap();
    assert!(report.is_healthy());
    assert_eq!(report.status, StatusCode::OK);
    assert!(report.problems().is_empty());
    assert_eq!(report.client.as_ref().unwrap().message, "ok");
    assert_eq!(report.checks().count(), 2);
}

#[test]
fn health_500_with_a_json_body_and_text_plain_is_an_unhealthy_report() {
    // Exact body from TestHTTP_AgentHealth_BadClient, with the wrap layer's content type.
    let resp = text_error(500, r#"{"client":{"ok":false,"message":"client not enabled"}}"#);
    let report = GetHealth::new().role(AgentRole::Client).parse_response(resp).unwrap();
    assert!(!report.is_healthy());
    assert_eq!(report.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(report.problems(), ["client: client not enabled"]);
    assert!(report.server.is_none());
}

#[test]
fn health_500_for_a_leaderless_server_lists_only_the_failing_role() {
    let resp = text_error(
        500,
        r#"{"client":{"ok":true,"message":"ok"},"server":{"ok":false,"message":"no leader"}}"#,
    );
    let report = GetHealth::new().parse_response(resp).unwrap();
    assert!(!report.is_healthy());
    assert_eq!(report.problems(), ["server: no leader"]);
    assert!(report.client.as_ref().unwrap().ok);
}

#[test]
fn health_500_with_a_plain_text_body_is_an_error() {
    let resp = text_error(
        500,
        "rpc error: failed to get conn: dial tcp 10.0.0.1:4647: i/o timeout",
    );
    let err = GetHealth::new().parse_response(resp).unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(
        err.message(),
        Some("rpc error: failed to get conn: dial tcp 10.0.0.1:4647: i/o timeout")
    );
}

#[test]
fn health_other_statuses_are_errors_even_with_json() {
    let err = GetHealth::new()
        .parse_response(text_error(405, "Invalid method"))
        .unwrap_err();
    assert!(err.is_method_not_allowed());
    let err = GetHealth::new()
        .parse_response(response(502, r#"{"client":{"ok":true,"message":"ok"}}"#))
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
}

#[test]
fn health_500_with_broken_json_is_a_decode_error_keeping_the_body() {
    let body = r#"{"client":{"ok":false,"#;
    let err = GetHealth::new().parse_response(text_error(500, body)).unwrap_err();
    match err {
        ResponseError::Decode { status, body: raw, .. } => {
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(raw, body.as_bytes());
        }
        other => panic!("expected Decode, got {other:?}"),
    }
}

#[test]
fn health_200_with_an_empty_body_is_empty_body() {
    let err = GetHealth::new().parse_response(response(200, "")).unwrap_err();
    assert!(matches!(err, ResponseError::EmptyBody { .. }), "{err:?}");
}

/// No agent sends a report naming neither role; one that does is not taken for healthy.
#[test]
fn a_report_that_names_no_role_is_not_healthy_and_says_why() {
    for body in ["{}", r#"{"client":null,"server":null}"#, r#"{"leader":true}"#] {
        let report = GetHealth::new().parse_response(json_ok(body)).unwrap();
        assert!(!report.is_healthy(), "{body}");
        assert_eq!(report.checks().count(), 0);
        assert_eq!(
            report.problems(),
            ["the agent reported no role (neither client nor server)"],
            "{body}"
        );
    }
}

#[test]
fn an_unhealthy_role_without_a_message_still_says_why() {
    let resp = text_error(500, r#"{"server":{"ok":false,"message":""}}"#);
    let report = GetHealth::new().parse_response(resp).unwrap();
    assert!(!report.is_healthy());
    assert_eq!(report.problems(), ["server: unhealthy (the agent gave no reason)"]);
    // A 500 whose roles all say ok is unhealthy by its status, and says so.
    let resp = text_error(500, r#"{"client":{"ok":true,"message":"ok"}}"#);
    let report = GetHealth::new().parse_response(resp).unwrap();
    assert!(!report.is_healthy());
    assert_eq!(
        report.problems(),
        ["the agent answered 500 Internal Server Error although every reported role is healthy"]
    );
    // A 500 with no role at all.
    let report = GetHealth::new().parse_response(text_error(500, "{}")).unwrap();
    assert_eq!(
        report.problems(),
        ["the agent reported no role (neither client nor server)"]
    );
    // Healthy: no problems.
    let report = GetHealth::new()
        .parse_response(json_ok(r#"{"client":{"ok":true,"message":"ok"}}"#))
        .unwrap();
    assert!(report.is_healthy());
    assert!(report.problems().is_empty());
}

#[test]
fn problems_escape_the_agents_control_characters_and_the_checks_keep_them() {
    let resp = text_error(500, r#"{"server":{"ok":false,"message":"no \u001b[31mleader"}}"#);
    let report = GetHealth::new().parse_response(resp).unwrap();
    assert_eq!(report.problems(), [r"server: no \u{1b}[31mleader"]);
    assert_eq!(report.server.unwrap().message, "no \u{1b}[31mleader");
}

#[test]
fn stale_health_asks_the_agent_for_its_local_view() {
    let req = GetHealth::new().stale(true).to_request(&config()).unwrap();
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/health?stale=");
    let req = GetHealth::new()
        .role(AgentRole::Server)
        .stale(true)
        .to_request(&config())
        .unwrap();
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/health?type=server&stale=");
    let req = GetHealth::new().stale(false).to_request(&config()).unwrap();
    assert_eq!(req.uri().query(), None);
}

#[test]
fn a_health_status_error_names_the_call() {
    let err = GetHealth::new()
        .parse_response(text_error(500, "rpc error: No cluster leader"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /v1/agent/health: 500 rpc error: No cluster leader"
    );
}
