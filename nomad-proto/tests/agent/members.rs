//! `ListMembers`, `ListServers`, `SetServers`, `Join` and `ForceLeave` (`src/agent/members.rs`):
//! their requests (repeated `address` parameters, `node` and `prune`), realistic answers from a
//! 2.0 server (members with their tags, server lists, join results with warnings and errors) and
//! the error answers of the family.

use std::net::IpAddr;

use nomad_proto::agent::{
    AgentSelf, ForceLeave, Join, ListMembers, ListServers, MemberStatus, ServerMembers, SetServers,
};
use nomad_proto::http::{Method, StatusCode};
use nomad_proto::{BuildError, Endpoint, ResponseError};

use crate::common::*;

pub(crate) const MEMBERS_2_0: &str = r#"{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc1","build":"2.0.5","revision":"5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8","vsn":"1","raft_vsn":"3","id":"5b2f8e4c-1d1a-4c3e-9a8b-000000000001","rpc_addr":"10.0.0.1","port":"4647","bootstrap":"1"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},{"Name":"nomad-2.global","Addr":"10.0.0.2","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc2","build":"2.0.5","revision":"5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8","vsn":"1","raft_vsn":"3","id":"5b2f8e4c-1d1a-4c3e-9a8b-000000000002","rpc_addr":"10.0.0.2","port":"4647","expect":"3","nonvoter":"1","ap_zone":"zone-b","ap_version":"2.0.5"},"Status":"failed","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},{"Name":"nomad-3.global","Addr":"fd00::3","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc1","build":"2.0.5","port":"4647"},"Status":"left","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4}]}"#;

#[test]
fn list_members_is_get_v1_agent_members() {
    let req = ListMembers::new().to_request(&config()).unwrap();
    assert_eq!(req.method(), Method::GET);
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/members");
}

#[test]
fn list_servers_is_get_v1_agent_servers() {
    let req = ListServers::new().to_request(&config()).unwrap();
    assert_eq!(req.method(), Method::GET);
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/servers");
}

#[test]
fn set_servers_is_put_with_one_address_param_per_server_never_comma_joined() {
    let req = SetServers::new(["10.0.0.1:4647", "10.0.0.2:4647"])
        .to_request(&config())
        .unwrap();
    assert_eq!(req.method(), Method::PUT);
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/servers?address=10.0.0.1%3A4647&address=10.0.0.2%3A4647"
    );
    assert_eq!(query_values(&req, "address"), ["10.0.0.1:4647", "10.0.0.2:4647"]);
    assert!(!req.uri().query().unwrap().contains(','), "{}", req.uri());
}

#[test]
fn join_is_put_with_repeated_address_params_never_comma_joined() {
    let req = Join::new(["10.0.0.4", "10.0.0.5:4648", "nomad-6.internal"])
        .to_request(&config())
        .unwrap();
    assert_eq!(req.method(), Method::PUT);
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/join?address=10.0.0.4&address=10.0.0.5%3A4648&address=nomad-6.internal"
    );
    assert_eq!(
        query_values(&req, "address"),
        ["10.0.0.4", "10.0.0.5:4648", "nomad-6.internal"]
    );
}

#[test]
fn force_leave_is_put_with_the_node_param() {
    let req = ForceLeave::new("nomad-2.global").to_request(&config()).unwrap();
    assert_eq!(req.method(), Method::PUT);
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/force-leave?node=nomad-2.global"
    );
}

#[test]
fn force_leave_with_prune_sends_prune_1() {
    let req = ForceLeave::new("nomad-2.global")
        .prune(true)
        .to_request(&config())
        .unwrap();
    assert_eq!(
        req.uri(),
        "http://127.0.0.1:4646/v1/agent/force-leave?node=nomad-2.global&prune=1"
    );
}

#[test]
fn force_leave_without_prune_sends_no_prune_param() {
    let req = ForceLeave::new("nomad-2.global")
        .prune(false)
        .to_request(&config())
        .unwrap();
    assert!(query_values(&req, "prune").is_empty(), "{}", req.uri());
}

#[test]
fn ipv6_join_addresses_are_percent_encoded() {
    let req = Join::new(["[fd00::4]:4648"]).to_request(&config()).unwrap();
    assert_eq!(req.uri().query(), Some("address=%5Bfd00%3A%3A4%5D%3A4648"));
    assert_eq!(query_values(&req, "address"), ["[fd00::4]:4648"]);
}

#[test]
fn join_and_set_servers_need_at_least_one_nonempty_address() {
    let empty: [&str; 0] = [];
    for result in [
        Join::new(empty).to_request(&config()),
        SetServers::new(empty).to_request(&config()),
        Join::new(["10.0.0.4", " "]).to_request(&config()),
        SetServers::new([""]).to_request(&config()),
    ] {
        match result {
            Err(BuildError::InvalidArgument { argument, .. }) => assert_eq!(argument, "address"),
            other => panic!("expected InvalidArgument(address), got {other:?}"),
        }
    }
}

#[test]
fn force_leave_needs_a_node() {
    for node in ["", "  "] {
        match ForceLeave::new(node).to_request(&config()) {
            Err(BuildError::InvalidArgument { argument, .. }) => assert_eq!(argument, "node"),
            other => panic!("expected InvalidArgument(node), got {other:?}"),
        }
    }
}

#[test]
fn members_from_a_2_0_server_with_its_tag_set() {
    let m = ListMembers::new().parse_response(json_ok(MEMBERS_2_0)).unwrap();
    assert_eq!(m.server_name, "nomad-1");
    assert_eq!(m.server_region, "global");
    assert_eq!(m.server_dc, "dc1");
    assert_eq!(m.members.len(), 3);

    let first = &m.members[0];
    assert_eq!(first.name, "nomad-1.global");
    assert_eq!(first.node_name(), "nomad-1");
    assert_eq!(first.addr, Some("10.0.0.1".parse::<IpAddr>().unwrap()));
    assert_eq!(first.port, 4648);
    assert_eq!(first.status, MemberStatus::Alive);
    assert!(first.is_server());
    assert_eq!(first.region(), Some("global"));
    assert_eq!(first.datacenter(), Some("dc1"));
    assert_eq!(first.build(), Some("2.0.5"));
    assert_eq!(first.tag("rpc_addr"), Some("10.0.0.1"));
    assert_eq!(first.tag("port"), Some("4647"));
    assert_eq!(first.tag("raft_vsn"), Some("3"));
    assert_eq!(first.tag("bootstrap"), Some("1"));
    assert_eq!(first.tag("mvn"), None);
    assert_eq!((first.protocol_min, first.protocol_max, first.protocol_cur), (1, 5, 2));
    assert_eq!((first.delegate_min, first.delegate_max, first.delegate_cur), (2, 5, 4));

    let second = &m.members[1];
    assert_eq!(second.status, MemberStatus::Failed);
    assert_eq!(second.datacenter(), Some("dc2"));
    assert_eq!(second.tag("nonvoter"), Some("1"));
    assert_eq!(second.tag("ap_zone"), Some("zone-b"));
    assert_eq!(second.tag("expect"), Some("3"));

    let third = &m.members[2];
    assert_eq!(third.status, MemberStatus::Left);
    assert_eq!(third.addr, Some("fd00::3".parse::<IpAddr>().unwrap()));
}

#[test]
fn every_serf_status_and_an_unknown_one_parse() {
    let body = |status: &str| {
        format!(
            r#"{{"ServerName":"a","ServerRegion":"r","ServerDC":"d","Members":[{{"Name":"a.r","Addr":"10.0.0.1","Port":4648,"Tags":{{}},"Status":"{status}"}}]}}"#
        )
    };
    for (wire, expected) in [
        ("alive", MemberStatus::Alive),
        ("leaving", MemberStatus::Leaving),
        ("left", MemberStatus::Left),
        ("failed", MemberStatus::Failed),
        ("none", MemberStatus::None),
        ("reaped", MemberStatus::Other("reaped".into())),
    ] {
        let m = ListMembers::new().parse_response(json_ok(&body(wire))).unwrap();
        assert_eq!(m.members[0].status, expected);
        assert_eq!(m.members[0].status.to_string(), wire);
    }
}

#[test]
fn unknown_fields_are_ignored() {
    let body = r#"{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","FutureField":{"x":[1,2]},"Members":[{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4,"Zone":"z1","Meta":null}]}"#;
    let m = ListMembers::new().parse_response(json_ok(body)).unwrap();
    assert_eq!(m.members[0].node_name(), "nomad-1");
}

#[test]
fn missing_and_null_fields_take_defaults() {
    let m = ListMembers::new()
        .parse_response(json_ok(r#"{"ServerName":"nomad-1","Members":null}"#))
        .unwrap();
    assert_eq!(m.server_name, "nomad-1");
    assert_eq!(m.server_region, "");
    assert!(m.members.is_empty());
}

#[test]
fn servers_list_parses() {
    let s = ListServers::new()
        .parse_response(json_ok(r#"["10.0.0.1:4647","10.0.0.2:4647"]"#))
        .unwrap();
    assert_eq!(s, ["10.0.0.1:4647", "10.0.0.2:4647"]);
}

#[test]
fn servers_empty_array_and_null_are_an_empty_list() {
    for body in ["[]", "null"] {
        let s = ListServers::new().parse_response(json_ok(body)).unwrap();
        assert!(s.is_empty(), "{body}");
    }
}

#[test]
fn an_empty_or_odd_member_address_does_not_fail_the_whole_answer() {
    let body = br#"{"ServerName":"s","ServerRegion":"global","ServerDC":"dc1","Members":[
        {"Name":"a.global","Addr":"","Port":4648,"Tags":{},"Status":"alive"},
        {"Name":"b.global","Addr":"not-an-ip","Port":4648,"Tags":{},"Status":"alive"},
        {"Name":"c.global","Addr":"10.0.0.3","Port":4648,"Tags":{},"Status":"alive"}]}"#;
    let members: ServerMembers = serde_json::from_slice(body).unwrap();
    let addrs: Vec<_> = members.members.iter().map(|m| m.addr).collect();
    assert_eq!(addrs, [None, None, Some("10.0.0.3".parse().unwrap())]);
    // A named member without a usable address is still a member, not the zero member.
    assert!(members.members.iter().all(|m| !m.is_empty()));
    let me: AgentSelf = serde_json::from_slice(br#"{"member":{"Name":"","Addr":""}}"#).unwrap();
    assert!(me.member.is_empty());
}

#[test]
fn join_with_an_error_is_join_failed_keeping_num_joined_and_the_message() {
    let body = r#"{"num_joined":1,"error":"1 error occurred:\n\t* Failed to join 10.0.0.9:4648: dial tcp 10.0.0.9:4648: connect: connection refused\n\n","warning":""}"#;
    let err = Join::new(["10.0.0.4", "10.0.0.9"])
        .parse_response(json_ok(body))
        .unwrap_err();
    match &err {
        ResponseError::JoinFailed { num_joined, message } => {
            assert_eq!(*num_joined, 1);
            assert_eq!(
                message,
                "1 error occurred:\n\t* Failed to join 10.0.0.9:4648: dial tcp 10.0.0.9:4648: connect: connection refused"
            );
        }
        other => panic!("expected JoinFailed, got {other:?}"),
    }
    assert_eq!(err.status(), Some(StatusCode::OK));
    assert!(err.message().unwrap().contains("connection refused"));
    let shown = err.to_string();
    assert!(shown.contains("1 joined"), "{shown}");
    assert!(shown.contains("connection refused"), "{shown}");
}

#[test]
fn join_with_a_warning_is_ok_and_the_warning_is_visible() {
    let body = r#"{"num_joined":1,"error":"","warning":"anonymous server join is deprecated and will be removed in a future version of Nomad"}"#;
    let r = Join::new(["10.0.0.4"]).parse_response(json_ok(body)).unwrap();
    assert_eq!(r.num_joined, 1);
    assert_eq!(
        r.warning.as_deref(),
        Some("anonymous server join is deprecated and will be removed in a future version of Nomad")
    );
}

#[test]
fn join_with_both_empty_is_ok_without_warning() {
    let r = Join::new(["10.0.0.4", "10.0.0.5"])
        .parse_response(json_ok(r#"{"num_joined":2,"error":"","warning":""}"#))
        .unwrap();
    assert_eq!(r.num_joined, 2);
    assert_eq!(r.warning, None);
}

#[test]
fn join_with_a_whitespace_only_error_is_ok() {
    // Nomad's join handler fills `error` only from a real serf error
    // (`command/agent/agent_endpoint.go`, `AgentJoinRequest`), whose text is never blank:
    // whitespace alone carries no message, so it is not a failure.
    for error in ["\n", " ", "\r\n\t"] {
        let body = serde_json::json!({"num_joined": 1, "error": error, "warning": ""}).to_string();
        let r = Join::new(["10.0.0.4"])
            .parse_response(json_ok(&body))
            .unwrap_or_else(|e| panic!("{error:?}: {e}"));
        assert_eq!(r.num_joined, 1, "{error:?}");
        assert_eq!(r.warning, None, "{error:?}");
    }
}

#[test]
fn join_from_an_agent_without_the_warning_key() {
    // Agents before the COMPAT(2.1.0) warning only send num_joined and error.
    let r = Join::new(["10.0.0.4"])
        .parse_response(json_ok(r#"{"num_joined":1,"error":""}"#))
        .unwrap();
    assert_eq!(r.num_joined, 1);
    assert_eq!(r.warning, None);
}

#[test]
fn join_with_an_error_and_a_warning_is_join_failed() {
    let body = r#"{"num_joined":0,"error":"1 error occurred:\n\t* Failed to join 10.0.0.9:4648: i/o timeout\n\n","warning":"anonymous server join is deprecated and will be removed in a future version of Nomad"}"#;
    let err = Join::new(["10.0.0.9"]).parse_response(json_ok(body)).unwrap_err();
    assert!(
        matches!(&err, ResponseError::JoinFailed { num_joined: 0, message } if message.ends_with("i/o timeout")),
        "{err:?}"
    );
}

#[test]
fn force_leave_and_set_servers_200_with_an_empty_body_are_ok() {
    // A nil-object success: 200, empty body, no Content-Type (`wrap` in
    // `command/agent/http.go`).
    ForceLeave::new("nomad-2.global")
        .parse_response(response(200, ""))
        .unwrap();
    ForceLeave::new("nomad-2.global")
        .prune(true)
        .parse_response(response(200, ""))
        .unwrap();
    SetServers::new(["10.0.0.1:4647"])
        .parse_response(response(200, ""))
        .unwrap();
}

#[test]
fn force_leave_and_set_servers_errors_keep_the_agent_text() {
    let err = ForceLeave::new("x")
        .parse_response(text_error(500, "agent: member not found"))
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(err.message(), Some("agent: member not found"));
    let err = SetServers::new(["bad"])
        .parse_response(text_error(400, "failed to resolve bad: unknown port"))
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(err.message(), Some("failed to resolve bad: unknown port"));
}

/// A member list of the wrong type says what was expected.
#[test]
fn a_member_list_of_the_wrong_type_says_what_was_expected() {
    let err = ListMembers::new()
        .parse_response(json_ok(r#"{"ServerName":"nomad-1","Members":"nomad-2"}"#))
        .unwrap_err();
    assert!(matches!(err, ResponseError::Decode { .. }), "{err:?}");
    assert!(
        err.to_string().contains("expected an array of JSON objects or null"),
        "{err}"
    );
}
