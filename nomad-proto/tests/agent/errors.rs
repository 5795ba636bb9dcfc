//! The error answers every agent operation shares (`src/error.rs`), parsed by each operation of
//! `nomad_proto::agent::OPERATIONS`: 403, 401, the wrong-role 501 and 400, 405, 404, empty and
//! malformed bodies, and how a `ResponseError` reads.

use nomad_proto::agent::{GetHealth, GetSelf, Join, ListMembers, ListServers, SetServers, OPERATIONS};
use nomad_proto::http::{Response, StatusCode};
use nomad_proto::{Endpoint, ResponseError};

use crate::common::*;

/// Parses a fresh `resp()` with every agent operation and returns the outcomes, by name.
fn parse_all(resp: impl Fn() -> Response<Vec<u8>>) -> Vec<(&'static str, Result<(), ResponseError>)> {
    OPERATIONS
        .iter()
        .map(|op| (op.info.name, (op.parse_sample)(resp())))
        .collect()
}

#[test]
fn permission_denied_403_on_every_operation() {
    for (name, result) in parse_all(|| text_error(403, "Permission denied")) {
        let err = result.expect_err(name);
        assert!(err.is_permission_denied(), "{name}: {err:?}");
        assert_eq!(err.status(), Some(StatusCode::FORBIDDEN), "{name}");
        assert_eq!(err.message(), Some("Permission denied"), "{name}");
        assert!(!err.is_wrong_role(), "{name}");
        // Every operation's error names its call and what it needs.
        let info = OPERATIONS.iter().find(|op| op.info.name == name).unwrap().info;
        let call = err.call().unwrap_or_else(|| panic!("{name}: no call"));
        assert_eq!(call.info(), &info, "{name}");
        let path = info.path.replace("<profile>", "heap");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{} {path}: 403 Permission denied", info.method)),
            "{shown}"
        );
        if info.acl != "none" {
            assert!(shown.contains(info.acl), "{shown}");
        }
    }
}

#[test]
fn acl_token_not_found_403_is_permission_denied() {
    let err = GetSelf::new()
        .parse_response(text_error(403, "ACL token not found"))
        .unwrap_err();
    assert!(err.is_permission_denied());
    assert_eq!(err.message(), Some("ACL token not found"));
}

#[test]
fn invalid_method_501_is_wrong_role() {
    for (name, result) in parse_all(|| text_error(501, "Invalid method")) {
        let err = result.expect_err(name);
        assert!(err.is_wrong_role(), "{name}: {err:?}");
        assert!(!err.is_method_not_allowed(), "{name}");
        assert!(!err.is_permission_denied(), "{name}");
    }
}

#[test]
fn server_only_endpoint_400_is_wrong_role() {
    let err = ListMembers::new()
        .parse_response(text_error(400, "Server only endpoint"))
        .unwrap_err();
    assert!(err.is_wrong_role());
}

#[test]
fn other_501_and_400_are_not_wrong_role() {
    let err = ListServers::new()
        .parse_response(text_error(501, "Not Implemented by proxy"))
        .unwrap_err();
    assert!(!err.is_wrong_role());
    let err = SetServers::new(["x"])
        .parse_response(text_error(400, "missing server address"))
        .unwrap_err();
    assert!(!err.is_wrong_role());
    assert_eq!(err.message(), Some("missing server address"));
}

#[test]
fn invalid_method_405_is_method_not_allowed_not_wrong_role() {
    for (name, result) in parse_all(|| text_error(405, "Invalid method")) {
        let err = result.expect_err(name);
        assert!(err.is_method_not_allowed(), "{name}: {err:?}");
        assert!(!err.is_wrong_role(), "{name}");
    }
}

#[test]
fn not_found_404_with_an_empty_body() {
    for (name, result) in parse_all(|| response(404, "")) {
        let err = result.expect_err(name);
        assert!(err.is_not_found(), "{name}: {err:?}");
        assert_eq!(err.message(), Some(""), "{name}");
        let shown = err.to_string();
        assert!(shown.contains("404"), "{name}: {shown}");
        assert!(shown.contains("empty body"), "{name}: {shown}");
    }
}

#[test]
fn unauthorized_401_from_the_task_api() {
    let err = GetSelf::new()
        .parse_response(text_error(401, "Unauthorized"))
        .unwrap_err();
    assert!(err.is_unauthorized());
    assert!(!err.is_permission_denied());
}

#[test]
fn an_empty_200_body_where_json_is_expected_is_empty_body_never_a_serde_error() {
    for body in ["", " \r\n\t"] {
        let results = [
            (
                "ListMembers",
                ListMembers::new().parse_response(response(200, body)).map(drop),
            ),
            (
                "ListServers",
                ListServers::new().parse_response(response(200, body)).map(drop),
            ),
            ("GetSelf", GetSelf::new().parse_response(response(200, body)).map(drop)),
            ("Join", Join::new(["a"]).parse_response(response(200, body)).map(drop)),
            (
                "GetHealth",
                GetHealth::new().parse_response(response(200, body)).map(drop),
            ),
        ];
        for (name, result) in results {
            match result {
                Err(ResponseError::EmptyBody { status, .. }) => assert_eq!(status, StatusCode::OK, "{name}"),
                other => panic!("{name} with {body:?}: expected EmptyBody, got {other:?}"),
            }
        }
    }
}

#[test]
fn malformed_json_is_a_decode_error_keeping_the_raw_body() {
    let body = r#"{"ServerName":"nomad-1","Members":[{"Name":"#;
    let err = ListMembers::new().parse_response(json_ok(body)).unwrap_err();
    match &err {
        ResponseError::Decode {
            status,
            body: raw,
            source,
            ..
        } => {
            assert_eq!(*status, StatusCode::OK);
            assert_eq!(raw, body.as_bytes());
            assert!(source.is_eof());
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    // The decoder's message is part of the error's own message, not repeated as its source.
    assert!(std::error::Error::source(&err).is_none());
    let shown = err.to_string();
    assert!(
        shown.contains("EOF while parsing a value at line 1 column 43; near `…ServerName"),
        "{shown}"
    );
}

#[test]
fn json_of_the_wrong_shape_is_a_decode_error() {
    let err = ListServers::new()
        .parse_response(json_ok(r#"{"servers":["a"]}"#))
        .unwrap_err();
    assert!(matches!(err, ResponseError::Decode { .. }), "{err:?}");
    let err = GetSelf::new()
        .parse_response(json_ok(r#""Permission denied""#))
        .unwrap_err();
    assert!(matches!(err, ResponseError::Decode { .. }), "{err:?}");
    let err = Join::new(["a"])
        .parse_response(json_ok(r#"{"num_joined":"one"}"#))
        .unwrap_err();
    assert!(matches!(err, ResponseError::Decode { .. }), "{err:?}");
}

#[test]
fn a_200_is_the_only_success_status() {
    for (name, result) in parse_all(|| response(204, "")) {
        let err = result.expect_err(name);
        assert_eq!(err.status(), Some(StatusCode::NO_CONTENT), "{name}");
    }
}

#[test]
fn unexpected_status_display_is_readable_with_a_trimmed_body() {
    let err = ListMembers::new()
        .parse_response(text_error(403, "  Permission denied\n"))
        .unwrap_err();
    assert_eq!(err.message(), Some("Permission denied"));
    assert_eq!(
        err.to_string(),
        "GET /v1/agent/members: 403 Permission denied (needs node:read)"
    );
}

#[test]
fn long_bodies_are_truncated_in_display_but_kept_whole_in_the_value() {
    let body = "x".repeat(10_000);
    let err = GetSelf::new().parse_response(text_error(500, &body)).unwrap_err();
    let shown = err.to_string();
    assert!(shown.len() < 700, "display is {} bytes", shown.len());
    assert!(shown.contains("10000 bytes"), "{shown}");
    match &err {
        ResponseError::UnexpectedStatus { body: kept, .. } => assert_eq!(kept.len(), 10_000),
        other => panic!("expected UnexpectedStatus, got {other:?}"),
    }
    assert_eq!(err.message().map(str::len), Some(10_000));
}

#[test]
fn truncation_never_splits_a_multibyte_character() {
    // 3-byte characters: a byte-count cut would land inside one.
    let body = "€".repeat(1_000);
    let err = GetSelf::new().parse_response(text_error(500, &body)).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("3000 bytes"), "{shown}");
    assert!(shown.contains("€€€"), "{shown}");
}

#[test]
fn invalid_utf8_bodies_are_shown_lossily() {
    let resp = Response::builder().status(500).body(b"bad \xff byte".to_vec()).unwrap();
    let err = GetSelf::new().parse_response(resp).unwrap_err();
    assert_eq!(err.message(), Some("bad \u{fffd} byte"));
}

#[test]
fn empty_body_and_decode_errors_say_what_happened() {
    let err = GetSelf::new().parse_response(response(200, "")).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("empty"), "{shown}");
    assert!(shown.contains("200"), "{shown}");

    let err = GetSelf::new().parse_response(json_ok("{not json")).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("decode"), "{shown}");
    assert!(shown.contains("9 bytes"), "{shown}");
}
