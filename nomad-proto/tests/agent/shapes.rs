//! Every operation against answers of every JSON shape: an object where the agent sends an
//! array, an array where it sends an object, a string, a number, a boolean, `null`, an empty
//! object, an empty body. Each gets the right result or a typed error that keeps the body, never
//! a positional decode (serde's derived structs would read `["a","b","c"]` field by field).

use nomad_proto::agent::{
    GetHealth, GetHostData, GetSchedulerWorkersInfo, GetSelf, Join, ListKeys, ListMembers, ListServers, OPERATIONS,
};
use nomad_proto::http::StatusCode;
use nomad_proto::{Endpoint, ResponseError};

use crate::common::*;

/// The shapes, by name.
const SHAPES: [(&str, &str); 8] = [
    ("object", r#"{"Unknown":1}"#),
    ("array", r#"["a","b","c"]"#),
    ("string", r#""a""#),
    ("number", "42"),
    ("bool", "true"),
    ("null", "null"),
    ("empty object", "{}"),
    ("empty body", ""),
];

/// What a 200 answer of a shape gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Ok,
    /// `ResponseError::Decode`, keeping the body.
    Decode,
    /// `ResponseError::EmptyBody`.
    Empty,
    /// `ResponseError::PartialStream`: a log stream holding something that is not a frame.
    BrokenStream,
}

use Outcome::*;

/// The operations whose answer is a JSON object.
const OBJECT_ANSWERS: &[&str] = &[
    "ListMembers",
    "GetSelf",
    "Join",
    "GetHealth",
    "GetHostData",
    "GetSchedulerWorkersInfo",
    "GetSchedulerWorkerConfig",
    "SetSchedulerWorkerConfig",
    "ListKeys",
    "InstallKey",
    "UseKey",
    "RemoveKey",
];

/// The operations whose success is a 200 with any body (it is ignored).
const BODY_IGNORED: &[&str] = &["SetServers", "ForceLeave", "Reload"];

/// The streamed log operations: their bodies are framed streams (`{…}{…}`), so an object is a
/// frame (one with no data is a heartbeat: no lines), an empty body an empty stream, and
/// anything else text where a frame should start.
const STREAMS: &[&str] = &["Monitor", "MonitorExport"];

fn expected(op: &str, shape: &str) -> Outcome {
    if OBJECT_ANSWERS.contains(&op) {
        return match shape {
            "object" | "empty object" => Ok,
            "empty body" => Empty,
            _ => Decode,
        };
    }
    if BODY_IGNORED.contains(&op) || op == "Pprof" {
        // A profile is bytes, whatever they are.
        return Ok;
    }
    if STREAMS.contains(&op) {
        return match shape {
            "object" | "empty object" | "empty body" => Ok,
            _ => BrokenStream,
        };
    }
    match op {
        // An array of strings; `null` (a nil Go slice) is an empty list.
        "ListServers" => match shape {
            "array" | "null" => Ok,
            "empty body" => Empty,
            _ => Decode,
        },
        other => panic!("{other} is missing from this table: add what each shape gives"),
    }
}

fn outcome(result: &Result<(), ResponseError>) -> Outcome {
    match result {
        Result::Ok(()) => Ok,
        Err(ResponseError::Decode { .. }) => Decode,
        Err(ResponseError::EmptyBody { .. }) => Empty,
        Err(ResponseError::PartialStream { .. }) => BrokenStream,
        Err(other) => panic!("unexpected error kind: {other:?}"),
    }
}

#[test]
fn every_operation_against_every_json_shape() {
    let mut failures = Vec::new();
    for op in OPERATIONS {
        let name = op.info.name;
        for (shape, body) in SHAPES {
            let result = (op.parse_sample)(json_ok(body));
            let got = outcome(&result);
            let want = expected(name, shape);
            if got != want {
                failures.push(format!("{name} × {shape}: expected {want:?}, got {result:?}"));
                continue;
            }
            if let Err(err) = &result {
                // Every error keeps the status, names the call, and a decode error the body.
                assert_eq!(err.status(), Some(StatusCode::OK), "{name} × {shape}");
                assert_eq!(err.call().map(|c| c.info().name), Some(name), "{name} × {shape}: {err}");
                if let ResponseError::Decode { body: kept, .. } = err {
                    assert_eq!(kept, body.as_bytes(), "{name} × {shape}");
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The decode errors say what was found and what was expected, with a position.
#[test]
fn a_decode_error_names_what_it_found_and_expected() {
    let err = ListMembers::new()
        .parse_response(json_ok(r#"["a","b","c"]"#))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /v1/agent/members: cannot decode the response body (status 200 OK, 13 bytes): invalid type: \
         sequence, expected a JSON object (ServerMembers) at line 1 column 0; near `[\"a\",\"b\",\"c\"]`"
    );
    let err = GetSelf::new().parse_response(json_ok("true")).unwrap_err();
    assert!(
        err.to_string()
            .contains("invalid type: boolean `true`, expected a JSON object (AgentSelf)"),
        "{err}"
    );
    let err = ListServers::new().parse_response(json_ok(r#"{"a":1}"#)).unwrap_err();
    assert!(
        err.to_string().contains("invalid type: map, expected a sequence"),
        "{err}"
    );
}

/// A positional decode would have made these answers out of arrays.
#[test]
fn no_answer_is_read_from_an_array_by_position() {
    for body in [r#"["nomad-1","global","dc1",[]]"#, "[]"] {
        assert!(matches!(
            ListMembers::new().parse_response(json_ok(body)),
            Err(ResponseError::Decode { .. })
        ));
    }
    assert!(matches!(
        Join::new(["a"]).parse_response(json_ok("[2, \"\", \"\"]")),
        Err(ResponseError::Decode { .. })
    ));
    assert!(matches!(
        ListKeys::new().parse_response(json_ok(r#"[{}, {"k":1}, 1]"#)),
        Err(ResponseError::Decode { .. })
    ));
}

/// Objects inside an answer are objects too: an array in their place is a decode error.
#[test]
fn nested_objects_must_be_objects() {
    type Parse = fn(&str) -> Result<(), ResponseError>;
    let cases: [(&str, Parse, &str); 7] = [
        (
            "a member that is an array",
            |b| ListMembers::new().parse_response(json_ok(b)).map(drop),
            r#"{"ServerName":"n","Members":[["nomad-1.global","10.0.0.1",4648]]}"#,
        ),
        (
            "self's member that is an array",
            |b| GetSelf::new().parse_response(json_ok(b)).map(drop),
            r#"{"config":{},"member":["nomad-1.global","10.0.0.1"],"stats":{}}"#,
        ),
        (
            "a health check that is an array",
            |b| GetHealth::new().parse_response(json_ok(b)).map(drop),
            r#"{"server":[true,"ok"]}"#,
        ),
        (
            "a disk that is an array",
            |b| GetHostData::new().parse_response(json_ok(b)).map(drop),
            r#"{"OS":"Linux","Disk":{"/":[100,50]}}"#,
        ),
        (
            "forwarded host data that is an array",
            |b| GetHostData::new().parse_response(json_ok(b)).map(drop),
            r#"{"AgentID":"n1","HostData":["Linux",[],"","",{},{}]}"#,
        ),
        (
            "a worker that is an array",
            |b| GetSchedulerWorkersInfo::new().parse_response(json_ok(b)).map(drop),
            r#"{"server_id":"nomad-1.global","schedulers":[["id",["service"],"2024-01-01T00:00:00Z"]]}"#,
        ),
        (
            "keyring counts that are an array",
            |b| ListKeys::new().parse_response(json_ok(b)).map(drop),
            r#"{"Keys":["HS5lJ+XuTlYKWaeGYyG+/A==",3],"NumNodes":3}"#,
        ),
    ];
    for (what, parse, body) in cases {
        match parse(body) {
            Err(ResponseError::Decode { source, .. }) => {
                assert!(
                    source.to_string().contains("invalid type: sequence"),
                    "{what}: {source}"
                );
            }
            other => panic!("{what}: expected Decode, got {other:?}"),
        }
    }
    // `null` in place of a list of objects is an empty list (Go's nil slice).
    let members = ListMembers::new()
        .parse_response(json_ok(r#"{"ServerName":"n","Members":null}"#))
        .unwrap();
    assert!(members.members.is_empty());
    let workers = GetSchedulerWorkersInfo::new()
        .parse_response(json_ok(r#"{"server_id":"s","schedulers":null}"#))
        .unwrap();
    assert!(workers.schedulers.is_empty());
}

/// The same bodies answered with an error status are status errors, never decoded.
#[test]
fn an_error_status_is_never_decoded_whatever_the_shape() {
    for op in OPERATIONS {
        for (shape, body) in SHAPES {
            let err = (op.parse_sample)(text_error(502, body)).expect_err(op.info.name);
            assert_eq!(
                err.status(),
                Some(StatusCode::BAD_GATEWAY),
                "{} × {shape}",
                op.info.name
            );
            assert!(
                matches!(err, ResponseError::UnexpectedStatus { .. }),
                "{} × {shape}: {err:?}",
                op.info.name
            );
        }
    }
}

/// An operation of the list shows what it is when printed (its name, method and path), not its
/// function pointers.
#[test]
fn every_operation_prints_its_facts() {
    for op in nomad_proto::agent::OPERATIONS {
        let shown = format!("{op:?}");
        assert!(shown.starts_with("Operation { info: OperationInfo {"), "{shown}");
        for fact in [op.info.name, op.info.method, op.info.path] {
            assert!(shown.contains(&format!("{fact:?}")), "{shown}");
        }
    }
}
