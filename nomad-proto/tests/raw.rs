//! Endpoints of your own and raw calls: [`RequestBuilder`] and [`Raw`] build requests exactly as
//! the crate's operations do (same URI, headers and body for the same settings), refuse paths
//! that could reach anything but the agent's API, and answer with the errors every operation
//! gives. Pure function calls: no sockets.

#[path = "agent/common.rs"]
mod common;

use nomad_proto::agent::{ListMembers, SetSchedulerWorkerConfig, CORE_SCHEDULER};
use nomad_proto::http::{Method, Request, StatusCode};
use nomad_proto::{
    check_ok, decode_json, parse_empty, parse_json, BuildError, CallOptions, Config, Endpoint, Raw, RequestBuilder,
    ResponseError, WithCallOptions,
};

use common::*;

/// Configs that exercise every setting a request takes from a `Config`.
fn configs() -> Vec<Config> {
    vec![
        config(),
        Config::builder()
            .address("https://nomad.example:4646/prefix/nomad")
            .token("client-wide")
            .region("global")
            .namespace("default")
            .header("X-Request-Source", "tests")
            .header("X-Nomad-Token", "from-a-header")
            .basic_auth("ops", Some("hunter2".into()))
            .build()
            .unwrap(),
        Config::builder().address("unix:///run/nomad/api.sock").build().unwrap(),
    ]
}

/// Per-call options to combine with them.
fn options() -> Vec<CallOptions> {
    vec![
        CallOptions::new(),
        CallOptions::new().region("eu-west").namespace("prod").token("per-call"),
        CallOptions::new().namespace("ns with spaces & symbols"),
    ]
}

fn same_request(a: &Request<Vec<u8>>, b: &Request<Vec<u8>>) {
    assert_eq!(a.method(), b.method());
    assert_eq!(a.uri(), b.uri());
    assert_eq!(a.headers(), b.headers());
    // The same JSON (`json!` writes its keys in sorted order).
    let json = |r: &Request<Vec<u8>>| {
        (!r.body().is_empty()).then(|| serde_json::from_slice::<serde_json::Value>(r.body()).unwrap())
    };
    assert_eq!(json(a), json(b));
}

#[test]
fn a_raw_call_is_built_exactly_as_the_matching_operation() {
    for config in configs() {
        for options in options() {
            let mut members = ListMembers::new();
            *members.call_options_mut() = options.clone();
            let mut raw = Raw::get("/v1/agent/members").json::<serde_json::Value>();
            *raw.call_options_mut() = options.clone();
            same_request(&raw.to_request(&config).unwrap(), &members.to_request(&config).unwrap());

            let mut set = SetSchedulerWorkerConfig::new(3, [CORE_SCHEDULER, "batch"]);
            *set.call_options_mut() = options.clone();
            let mut raw = Raw::put("/v1/agent/schedulers/config")
                .json_body(&serde_json::json!({"num_schedulers": 3, "enabled_schedulers": ["_core", "batch"]}))
                .unwrap()
                .bytes();
            *raw.call_options_mut() = options.clone();
            same_request(&raw.to_request(&config).unwrap(), &set.to_request(&config).unwrap());
        }
    }
}

#[test]
fn the_request_builder_sends_the_token_once_and_every_setting() {
    let configs = configs();
    let config = &configs[1];
    let options = CallOptions::new().namespace("prod");
    let request = RequestBuilder::post("/v1/search", &options)
        .query("prefix", "web/")
        .query("context", "jobs")
        .query("context", "nodes")
        .json(&serde_json::json!({"Prefix": "web"}))
        .unwrap()
        .build(config)
        .unwrap();
    assert_eq!(request.method(), Method::POST);
    assert_eq!(
        request.uri(),
        "https://nomad.example:4646/prefix/nomad/v1/search?prefix=web%2F&context=jobs&context=nodes&region=global&namespace=prod"
    );
    assert_eq!(header_values(&request, "x-nomad-token"), ["client-wide"]);
    assert_eq!(header_values(&request, "x-request-source"), ["tests"]);
    assert!(header_values(&request, "authorization")[0].starts_with("Basic "));
    assert_eq!(header_values(&request, "content-type"), ["application/json"]);
    assert_eq!(request.body(), br#"{"Prefix":"web"}"#);

    let delete = RequestBuilder::delete("/v1/var/app/config", &CallOptions::new())
        .build(&common::config())
        .unwrap();
    assert_eq!(delete.method(), Method::DELETE);
    assert!(delete.body().is_empty() && delete.headers().get("content-type").is_none());
}

#[test]
fn paths_that_could_leave_the_api_are_refused_before_sending() {
    let bad = [
        ("", "must start with `/`"),
        ("v1/status/leader", "must start with `/`"),
        ("http://elsewhere/v1/status/leader", "must start with `/`"),
        ("//elsewhere/v1/status/leader", "`//`"),
        ("/v1/status/leader?stale=true", "query"),
        ("/v1/status/leader#top", "query or fragment"),
        ("/../admin", "`..`"),
        ("/v1/../../admin", "`..`"),
        ("/v1/./status", "`.`"),
        ("/v1/%2e%2e/admin", "`..`"),
        ("/v1/.%2E/admin", "`..`"),
        ("/v1/x%2f..%2fadmin", "`..`"),
        ("/v1\\..\\admin", "`..`"),
        ("/v1/job/my job", "percent-encoded"),
        ("/v1/job/\u{e9}t\u{e9}", "percent-encoded"),
        ("/v1/job/a\nb", "percent-encoded"),
    ];
    let config = Config::builder()
        .address("http://127.0.0.1:4646/nomad")
        .build()
        .unwrap();
    for (path, reason) in bad {
        let err = Raw::get(path).bytes().to_request(&config).unwrap_err();
        match &err {
            BuildError::InvalidPath { path: p, reason: r } => {
                assert_eq!(p, path);
                assert!(r.contains(reason), "{path:?}: {r}");
            }
            other => panic!("{path:?}: expected InvalidPath, got {other:?}"),
        }
        // The message escapes what it repeats.
        assert!(!err.to_string().contains('\n'), "{err}");
    }
    for path in [
        "/v1/status/leader",
        "/v1/job/my%20job",
        "/v1/var/app.config/v1..2",
        "/v1/x/.../y",
        "/",
    ] {
        let request = Raw::get(path).bytes().to_request(&config).unwrap();
        assert_eq!(request.uri().path(), format!("/nomad{path}"));
    }
}

#[test]
fn raw_answers_decode_into_any_type_or_stay_bytes() {
    let peers = Raw::get("/v1/status/peers").json::<Vec<String>>();
    assert_eq!(
        peers
            .parse_response(json_ok(r#"["10.0.0.1:4647","10.0.0.2:4647"]"#))
            .unwrap(),
        ["10.0.0.1:4647", "10.0.0.2:4647"]
    );
    let bytes = Raw::get("/v1/agent/pprof/cmdline").bytes();
    assert_eq!(
        bytes.parse_response(response(200, "nomad\0agent")).unwrap(),
        b"nomad\0agent"
    );
    assert!(bytes.parse_response(response(200, "")).unwrap().is_empty());
}

#[test]
fn raw_errors_are_those_of_every_operation() {
    let peers = Raw::get("/v1/status/peers").json::<Vec<String>>();
    let err = peers.parse_response(text_error(403, "Permission denied")).unwrap_err();
    assert!(err.is_permission_denied());
    assert_eq!(unexpected(&err), (StatusCode::FORBIDDEN, "Permission denied"));
    let err = Raw::get("/v1/nope")
        .bytes()
        .parse_response(response(404, ""))
        .unwrap_err();
    assert!(err.is_not_found());

    let err = peers.parse_response(response(200, " \n")).unwrap_err();
    assert!(
        matches!(
            err,
            ResponseError::EmptyBody {
                status: StatusCode::OK,
                ..
            }
        ),
        "{err:?}"
    );

    let err = peers.parse_response(response(200, r#"{"not":"a list"}"#)).unwrap_err();
    match err {
        ResponseError::Decode { status, body, .. } => {
            assert_eq!(status, StatusCode::OK);
            assert_eq!(body, br#"{"not":"a list"}"#);
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    // The status check a streaming transport runs is the same.
    assert!(peers
        .check_status(StatusCode::INTERNAL_SERVER_ERROR, b"rpc error")
        .is_err());
    assert!(peers.check_status(StatusCode::OK, b"").is_ok());
}

#[test]
fn a_raw_body_and_per_call_token_stay_out_of_debug() {
    let raw = Raw::put("/v1/agent/keyring/install")
        .json_body(&serde_json::json!({"Key": "HS5lJ+XuTlYKWaeGYyG+/A=="}))
        .unwrap()
        .token("per-call-secret");
    for text in [
        format!("{raw:?}"),
        format!("{:?}", raw.clone().bytes()),
        format!("{:?}", raw.clone().json::<serde_json::Value>()),
    ] {
        assert!(!text.contains("HS5lJ") && !text.contains("per-call-secret"), "{text}");
        assert!(text.contains("/v1/agent/keyring/install"), "{text}");
    }
    let options = CallOptions::new().token("per-call-secret");
    let builder = RequestBuilder::put("/v1/agent/keyring/install", &options)
        .json(&serde_json::json!({"Key": "HS5lJ+XuTlYKWaeGYyG+/A=="}))
        .unwrap();
    let text = format!("{builder:?}");
    assert!(!text.contains("HS5lJ") && !text.contains("per-call-secret"), "{text}");
}

#[test]
fn a_body_that_cannot_be_json_is_a_build_error() {
    let mut map = std::collections::BTreeMap::new();
    map.insert((1, 2), "tuple keys are not JSON object keys");
    assert!(matches!(Raw::post("/v1/x").json_body(&map), Err(BuildError::Encode(_))));
    let options = CallOptions::new();
    assert!(matches!(
        RequestBuilder::post("/v1/x", &options).json(&map),
        Err(BuildError::Encode(_))
    ));
}

#[test]
fn the_response_helpers_are_the_operations_rules() {
    assert!(check_ok(StatusCode::OK, b"").is_ok());
    let err = check_ok(StatusCode::NOT_IMPLEMENTED, b" Invalid method\n").unwrap_err();
    assert!(err.is_wrong_role());
    let leader: String = parse_json(json_ok(r#""10.0.0.1:4647""#)).unwrap();
    assert_eq!(leader, "10.0.0.1:4647");
    parse_empty(response(200, "ignored")).unwrap();
    assert!(parse_empty(response(500, "boom")).is_err());
    // `decode_json` reads JSON whatever the status (e.g. an unhealthy agent's 500).
    let body: serde_json::Value = decode_json(StatusCode::INTERNAL_SERVER_ERROR, br#"{"ok":false}"#.to_vec()).unwrap();
    assert_eq!(body["ok"], false);
    assert!(matches!(
        decode_json::<serde_json::Value>(StatusCode::INTERNAL_SERVER_ERROR, Vec::new()),
        Err(ResponseError::EmptyBody { .. })
    ));
}
