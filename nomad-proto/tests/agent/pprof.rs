//! `Pprof` (`src/agent/pprof.rs`): profile paths and parameters, the expected duration a timed
//! profile announces to transports, names refused before sending, binary and text answers, and
//! the 403 that names `enable_debug`.

use std::time::Duration;

use nomad_proto::agent::{Pprof, ProfileKind, Target};
use nomad_proto::http::{Method, Request, Response, StatusCode};
use nomad_proto::{Endpoint, ExpectedDuration};

use crate::common::*;

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
