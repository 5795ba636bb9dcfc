//! `Reload` (`src/agent/reload.rs`): a bodiless PUT, the empty 200, and the agent's 500 and 403.

use nomad_proto::agent::Reload;
use nomad_proto::http::{Method, StatusCode};
use nomad_proto::Endpoint;

use crate::common::*;

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
