//! The test agent (`nomad_blocking::test_agent`, the loopback Nomad test double) checked against
//! what a real Nomad 2.0 agent answers, over raw HTTP with no client in between.
//!
//! These tests check the test double, not the client: they send requests the client never sends
//! (wrong verbs, missing parameters, hand-made bodies) and read the answers byte for byte. The
//! client's end-to-end tests rely on these answers being the agent's. Unless a test says
//! otherwise, the source is Nomad's `command/agent/agent_endpoint.go` and
//! `command/agent/http.go`, 2.0.x.

mod support;

use std::io::Read;

use nomad_blocking::test_agent::{log_line, MemberStatus, MonitorFeed, Role, TestAgent};
use support::{raw_exchange, RawAnswer};

fn start(role: Role) -> TestAgent {
    TestAgent::builder().role(role).start().expect("test agent starts")
}

fn send(agent: &TestAgent, method: &str, path: &str) -> RawAnswer {
    raw_exchange(agent.socket_addr().unwrap(), method, path, &[], b"")
}

fn send_body(agent: &TestAgent, method: &str, path: &str, body: &str) -> RawAnswer {
    raw_exchange(agent.socket_addr().unwrap(), method, path, &[], body.as_bytes())
}

/// Status and body text.
fn outcome(answer: &RawAnswer) -> (u16, String) {
    (answer.status, answer.text())
}

/// An error answer: `text/plain; charset=utf-8`, the bare message with no newline (the agent's
/// `wrap` in `command/agent/http.go`).
fn assert_text_error(answer: &RawAnswer, status: u16, message: &str) {
    assert_eq!(outcome(answer), (status, message.to_owned()));
    assert_eq!(answer.header("content-type"), Some("text/plain; charset=utf-8"));
}

#[test]
fn a_wrong_verb_is_405_invalid_method() {
    let agent = start(Role::Both);
    for (method, path) in [
        ("DELETE", "/v1/agent/members"),
        ("PUT", "/v1/agent/members"),
        ("DELETE", "/v1/agent/servers"),
        ("POST", "/v1/agent/self"),
        ("GET", "/v1/agent/join"),
        ("GET", "/v1/agent/force-leave"),
        ("PUT", "/v1/agent/health"),
        ("GET", "/v1/agent/reload"),
        ("DELETE", "/v1/agent/schedulers/config"),
    ] {
        let answer = send(&agent, method, path);
        assert_eq!(outcome(&answer), (405, "Invalid method".into()), "{method} {path}");
    }
}

#[test]
fn the_verb_is_checked_before_the_role() {
    // `/v1/agent/servers` switches on the verb first (405), then checks for a client (501).
    let agent = start(Role::Server);
    assert_text_error(&send(&agent, "DELETE", "/v1/agent/servers"), 405, "Invalid method");
    assert_text_error(&send(&agent, "GET", "/v1/agent/servers"), 501, "Invalid method");
}

#[test]
fn post_is_accepted_like_put_for_join_and_force_leave() {
    let agent = start(Role::Server);
    let answer = send(&agent, "POST", "/v1/agent/force-leave?node=nomad-2.global");
    assert_eq!(outcome(&answer), (200, String::new()));
    assert_eq!(
        answer.header("content-type"),
        None,
        "a nil-object success has no content type"
    );
    let left = agent.with_state(|s| s.members.iter().find(|m| m.node == "nomad-2").map(|m| m.status.clone()));
    assert_eq!(left, Some(MemberStatus::Left));
    let answer = send(&agent, "POST", "/v1/agent/join?address=10.0.0.4");
    assert_eq!(answer.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(json, serde_json::json!({"num_joined": 1, "error": "", "warning": ""}));
}

#[test]
fn force_leave_of_a_name_serf_does_not_know_still_answers_200() {
    // Serf knows members by their full name (`nomad-2.global`): `nomad-2` matches no member,
    // and the agent still answers 200 with an empty body.
    let agent = start(Role::Server);
    assert_eq!(
        outcome(&send(&agent, "PUT", "/v1/agent/force-leave?node=nomad-2")),
        (200, String::new())
    );
    let status = agent.with_state(|s| s.members.iter().find(|m| m.node == "nomad-2").map(|m| m.status.clone()));
    assert_eq!(status, Some(MemberStatus::Alive));
}

#[test]
fn a_blank_token_header_is_the_anonymous_token_not_an_unknown_one() {
    // `parseToken` trims the header: a blank token is the anonymous token (403 Permission
    // denied), not an unknown secret (403 ACL token not found).
    let agent = TestAgent::builder().acl("root").start().unwrap();
    let answer = raw_exchange(
        agent.socket_addr().unwrap(),
        "GET",
        "/v1/agent/self",
        &[("X-Nomad-Token", " ")],
        b"",
    );
    assert_text_error(&answer, 403, "Permission denied");
    let answer = raw_exchange(
        agent.socket_addr().unwrap(),
        "GET",
        "/v1/agent/self",
        &[("X-Nomad-Token", "no-such-token")],
        b"",
    );
    assert_text_error(&answer, 403, "ACL token not found");
}

#[test]
fn unknown_paths_and_trailing_slashes_are_404_with_an_empty_body() {
    // Go's ServeMux matches paths exactly; anything else falls through to `/`, which answers
    // 404 with an empty body.
    let agent = start(Role::Both);
    for path in ["/v1/agent/self/", "/v1/agent/nope", "/v1/agent/members/x"] {
        let answer = send(&agent, "GET", path);
        assert_eq!(outcome(&answer), (404, String::new()), "{path}");
    }
}

#[test]
fn missing_required_parameters_are_400_with_the_agent_text() {
    let agent = start(Role::Both);
    for (path, message) in [
        ("/v1/agent/join", "missing address to join"),
        ("/v1/agent/servers", "missing server address"),
        ("/v1/agent/force-leave", "missing node to force leave"),
        (
            "/v1/agent/force-leave?node=nomad-2.global&prune=maybe",
            "invalid prune value",
        ),
    ] {
        assert_text_error(&send(&agent, "PUT", path), 400, message);
    }
}

#[test]
fn answers_are_gzip_compressed_when_asked() {
    // The agent wraps its handlers in gorilla/handlers `CompressHandler`: any answer is gzip
    // when `Accept-Encoding` names it.
    let agent = start(Role::Both);
    for path in ["/v1/agent/self", "/v1/agent/members"] {
        let answer = raw_exchange(
            agent.socket_addr().unwrap(),
            "GET",
            path,
            &[("Accept-Encoding", "gzip")],
            b"",
        );
        assert_eq!(answer.status, 200, "{path}");
        assert_eq!(answer.header("content-encoding"), Some("gzip"), "{path}");
        let mut json = String::new();
        flate2::read::GzDecoder::new(&answer.body[..])
            .read_to_string(&mut json)
            .expect("a gzip body");
        assert!(json.starts_with('{') && json.ends_with('}'), "{path}: {json}");
        let plain = send(&agent, "GET", path);
        assert_eq!(
            plain.header("content-encoding"),
            None,
            "{path}: not asked, not compressed"
        );
        assert_eq!(plain.text(), json, "{path}: the same answer either way");
    }
}

#[test]
fn profiles_carry_the_profilers_headers() {
    // Go's `net/http/pprof` sets the content type, `Content-Disposition` for binary profiles,
    // and always `X-Content-Type-Options: nosniff`.
    let agent = TestAgent::builder().enable_debug(true).start().unwrap();
    let heap = send(&agent, "GET", "/v1/agent/pprof/heap");
    assert_eq!(heap.status, 200);
    assert_eq!(heap.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(heap.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        heap.header("content-disposition"),
        Some("attachment; filename=\"heap\"")
    );
    let cmdline = send(&agent, "GET", "/v1/agent/pprof/cmdline");
    assert_eq!(cmdline.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(cmdline.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(cmdline.header("content-disposition"), None);
}

#[test]
fn the_pprof_root_is_404_invalid_method_and_without_its_slash_redirects() {
    let agent = TestAgent::builder().enable_debug(true).start().unwrap();
    assert_text_error(&send(&agent, "GET", "/v1/agent/pprof/"), 404, "Invalid method");
    // Go's ServeMux redirects a subtree root without its trailing slash.
    let answer = send(&agent, "GET", "/v1/agent/pprof");
    assert_eq!(answer.status, 301);
    assert_eq!(answer.header("location"), Some("/v1/agent/pprof/"));
}

#[test]
fn node_id_and_server_id_together_are_refused() {
    let agent = TestAgent::builder().enable_debug(true).start().unwrap();
    assert_text_error(
        &send(&agent, "GET", "/v1/agent/host?node_id=a&server_id=b"),
        400,
        "Can only forward to either client node or server",
    );
    assert_text_error(
        &send(&agent, "GET", "/v1/agent/pprof/heap?node_id=a&server_id=b"),
        400,
        "Cannot target node and server simultaneously",
    );
}

#[test]
fn scheduler_config_bodies_the_agent_refuses() {
    // `SchedulerWorkerPoolArgs.IsValid` (Nomad `nomad/structs/structs.go`): `_core` is required.
    let agent = start(Role::Server);
    let path = "/v1/agent/schedulers/config";
    assert_text_error(
        &send_body(&agent, "PUT", path, ""),
        400,
        "Invalid request: Request body is empty",
    );
    assert_text_error(
        &send_body(&agent, "PUT", path, r#"{"num_schedulers":4}"#),
        400,
        "Invalid request",
    );
    let answer = send_body(&agent, "POST", path, "{nope");
    assert_eq!(answer.status, 400);
    assert!(answer.text().starts_with("Invalid request: "), "{}", answer.text());
}

#[test]
fn keyring_requests_the_agent_refuses() {
    let agent = start(Role::Server);
    assert_text_error(
        &send(&agent, "GET", "/v1/agent/keyring/rotate"),
        404,
        "resource not found",
    );
    assert_text_error(
        &send(&agent, "PUT", "/v1/agent/keyring/install"),
        400,
        "Request body is empty",
    );
    // An 8-byte key: every server refuses it, and serf reports that (hashicorp/serf
    // `serf/keymanager.go`).
    assert_text_error(
        &send_body(&agent, "PUT", "/v1/agent/keyring/install", r#"{"Key":"c2hvcnRrZXk="}"#),
        500,
        "3/3 nodes reported failure",
    );
    // No method check: a POST lists too.
    let answer = send(&agent, "POST", "/v1/agent/keyring/list");
    assert_eq!(answer.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(json["NumNodes"], 3, "{json}");
}

#[test]
fn a_leader_pauses_three_quarters_of_its_scheduler_workers() {
    // Nomad `nomad/leader.go`: the leader pauses 3/4 of its workers to leave CPU for raft.
    let agent = start(Role::Server);
    let answer = send(&agent, "GET", "/v1/agent/schedulers");
    assert_eq!(answer.status, 200);
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    let workers = json["schedulers"].as_array().unwrap();
    assert_eq!(workers.len(), 8);
    let paused = workers.iter().filter(|w| w["status"] == "Paused").count();
    assert_eq!(paused, 6);
}

/// The frames of a framed log stream, as the agent wrote them (concatenated JSON objects).
fn frames(body: &[u8]) -> Vec<serde_json::Value> {
    serde_json::Deserializer::from_slice(body)
        .into_iter::<serde_json::Value>()
        .map(|frame| frame.expect("a JSON frame"))
        .collect()
}

/// The log bytes a framed stream carries: its frames' `Data`, base64-decoded and joined.
fn frame_data(body: &[u8]) -> String {
    use base64::Engine as _;
    let mut data = Vec::new();
    for frame in frames(body) {
        if let Some(b64) = frame.get("Data").and_then(|d| d.as_str()) {
            data.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .expect("standard base64"),
            );
        }
    }
    String::from_utf8(data).expect("UTF-8 logs")
}

/// Lines `range` of the generated feed at trace level, each with its newline.
fn feed_lines(range: std::ops::Range<u64>, json: bool) -> String {
    range.map(|i| log_line(i, json).1 + "\n").collect()
}

/// The line a Nomad monitor inserts when its buffer overflowed (`command/agent/monitor/monitor.go`).
const DROPPED_7: &str = "[WARN] Monitor dropped 7 logs during monitor request\n";

fn dropping_agent() -> TestAgent {
    // 20 lines; after the first 5, lines 5 to 11 are dropped and the warning takes their place.
    TestAgent::builder()
        .monitor(MonitorFeed::new().lines(20).dropped_after(5, 7))
        .start()
        .expect("test agent starts")
}

#[test]
fn a_framed_monitor_stream_carries_the_dropped_logs_warning_in_place_of_the_lost_lines() {
    let agent = dropping_agent();
    let answer = send(&agent, "GET", "/v1/agent/monitor?log_level=trace");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    for frame in frames(&answer.body) {
        let keys: Vec<&str> = frame.as_object().unwrap().keys().map(String::as_str).collect();
        assert!(
            keys.is_empty() || keys == ["Data", "FileEvent"],
            "a monitor frame: {frame}"
        );
    }
    let expected = feed_lines(0..5, false) + DROPPED_7 + &feed_lines(12..20, false);
    assert_eq!(frame_data(&answer.body), expected);
}

#[test]
fn with_log_json_the_dropped_logs_warning_is_the_one_line_that_is_not_json() {
    let agent = dropping_agent();
    let answer = send(&agent, "GET", "/v1/agent/monitor?log_level=trace&log_json=true");
    assert_eq!(answer.status, 200);
    let data = frame_data(&answer.body);
    assert_eq!(data, feed_lines(0..5, true) + DROPPED_7 + &feed_lines(12..20, true));
    let not_json: Vec<&str> = data
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
        .collect();
    assert_eq!(not_json, [DROPPED_7.trim_end()]);
}

#[test]
fn a_plain_monitor_stream_carries_the_dropped_logs_warning_as_raw_text() {
    let agent = dropping_agent();
    for (query, json) in [("", false), ("&log_json=true", true)] {
        let answer = send(
            &agent,
            "GET",
            &format!("/v1/agent/monitor?log_level=trace&plain=true{query}"),
        );
        assert_eq!(answer.status, 200);
        assert_eq!(answer.header("content-type"), Some("text/plain"));
        let expected = feed_lines(0..5, json) + DROPPED_7 + &feed_lines(12..20, json);
        assert_eq!(answer.text(), expected, "plain=true{query}");
    }
}

#[test]
fn the_dropped_lines_are_counted_after_level_filtering() {
    // At `warn`, the generated levels (info, debug, warn, info, error, …) let lines 2, 4, 7, 9,
    // 12, 14, 17, 19 through: after 2 of them, 3 more (7, 9, 12) are dropped.
    let agent = TestAgent::builder()
        .monitor(MonitorFeed::new().lines(20).dropped_after(2, 3))
        .start()
        .unwrap();
    let answer = send(&agent, "GET", "/v1/agent/monitor?log_level=warn&plain=true");
    let expected: String = [2, 4].map(|i| log_line(i, false).1 + "\n").concat()
        + "[WARN] Monitor dropped 3 logs during monitor request\n"
        + &[14, 17, 19].map(|i| log_line(i, false).1 + "\n").concat();
    assert_eq!(answer.text(), expected);
}

#[test]
fn an_export_drops_no_lines() {
    // The export reads a log file or journald: no monitor buffer, nothing dropped.
    let agent = dropping_agent();
    let answer = send(&agent, "GET", "/v1/agent/monitor/export?on_disk=true&plain=true");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), feed_lines(0..20, false));
}

#[test]
fn go_structs_are_written_in_their_field_order() {
    // go-msgpack's JsonHandle writes a struct's fields in declaration order (a Go map's keys in
    // map order): `structs.ServerMembersResponse`, `serf.Member`, `structs.KeyringResponse`,
    // `agentSelf`, the join result.
    let agent = start(Role::Both);
    let members = send(&agent, "GET", "/v1/agent/members").text();
    assert!(
        members.starts_with(
            r#"{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"#
        ),
        "{members}"
    );
    assert!(
        members.contains(
            r#"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4}"#
        ),
        "{members}"
    );
    let keys = send(&agent, "GET", "/v1/agent/keyring/list").text();
    assert_eq!(
        keys,
        r#"{"Messages":{},"Keys":{"HS5lJ+XuTlYKWaeGYyG+/A==":3},"NumNodes":3}"#
    );
    let me = send(&agent, "GET", "/v1/agent/self").text();
    assert!(
        me.starts_with(r#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"nomad-1","DataDir":"#),
        "{me}"
    );
    let (config_at, member_at, stats_at) = (
        me.find(r#""config":"#).unwrap(),
        me.find(r#""member":{"Name""#).unwrap(),
        me.find(r#""stats":{"#).unwrap(),
    );
    assert!(config_at < member_at && member_at < stats_at, "{me}");
    let joined = send(&agent, "PUT", "/v1/agent/join?address=10.0.0.4").text();
    assert_eq!(joined, r#"{"num_joined":1,"error":"","warning":""}"#);
}
