//! `ListKeys`, `InstallKey`, `UseKey` and `RemoveKey` (`src/agent/keyring.rs`): requests with
//! the `{"Key":…}` body, keys refused before sending (and never echoed), answers and errors.

use nomad_proto::agent::{InstallKey, ListKeys, RemoveKey, UseKey};
use nomad_proto::http::{Method, StatusCode};
use nomad_proto::Endpoint;

use crate::common::*;

const KEY_16: &str = "HS5lJ+XuTlYKWaeGYyG+/A==";

const KEY_24: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";

const KEY_32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

pub(crate) const KEYRING: &str =
    r#"{"Messages":{},"Keys":{"HS5lJ+XuTlYKWaeGYyG+/A==":3,"z3Vc0nN3ID9u5ZqUdfqVXQ==":2},"NumNodes":3}"#;

#[test]
fn keyring_list_is_a_get_without_body() {
    assert_request(
        &request(&ListKeys::new()),
        Method::GET,
        "http://127.0.0.1:4646/v1/agent/keyring/list",
        "",
    );
}

#[test]
fn keyring_changes_are_puts_with_a_key_body() {
    let body = format!(r#"{{"Key":"{KEY_16}"}}"#);
    assert_request(
        &request(&InstallKey::new(KEY_16)),
        Method::PUT,
        "http://127.0.0.1:4646/v1/agent/keyring/install",
        &body,
    );
    assert_request(
        &request(&UseKey::new(KEY_16)),
        Method::PUT,
        "http://127.0.0.1:4646/v1/agent/keyring/use",
        &body,
    );
    assert_request(
        &request(&RemoveKey::new(KEY_16)),
        Method::PUT,
        "http://127.0.0.1:4646/v1/agent/keyring/remove",
        &body,
    );
}

#[test]
fn keyring_accepts_aes_128_192_and_256_keys() {
    for key in [KEY_16, KEY_24, KEY_32] {
        let req = request(&InstallKey::new(key));
        assert_eq!(req.body(), format!(r#"{{"Key":"{key}"}}"#).as_bytes());
    }
}

#[test]
fn keyring_empty_key_is_rejected_before_sending() {
    for err in [
        InstallKey::new("").to_request(&config()).unwrap_err(),
        UseKey::new("").to_request(&config()).unwrap_err(),
        RemoveKey::new("").to_request(&config()).unwrap_err(),
    ] {
        let (argument, reason) = invalid_argument(err);
        assert_eq!(argument, "key");
        assert!(reason.contains("required"), "{reason}");
    }
}

#[test]
fn keyring_malformed_keys_are_rejected_without_echoing_the_key() {
    let cases = [
        ("not base64 at all!!", "base64"),
        ("HS5lJ+XuTlYKWaeGYyG+/A", "base64"),    // padding missing
        (" HS5lJ+XuTlYKWaeGYyG+/A==", "base64"), // whitespace
        ("HS5lJ-XuTlYKWaeGYyG_/A==", "base64"),  // URL-safe alphabet
        ("c2hvcnRrZXk=", "decodes to 8 bytes"),  // 8 bytes
        (
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==",
            "decodes to 34 bytes",
        ),
    ];
    for (key, expected) in cases {
        let err = InstallKey::new(key).to_request(&config()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expected), "{key:?}: {text}");
        assert!(
            !text.contains(key.trim()),
            "the key must not appear in the error: {text}"
        );
    }
}

#[test]
fn keyring_key_is_hidden_from_debug() {
    let op = InstallKey::new(KEY_16);
    assert!(!format!("{op:?}").contains("HS5lJ"));
}

/// A keyring answer in a log line shows how many nodes hold each key, never a key.
#[test]
fn keyring_answer_debug_shows_counts_not_keys() {
    let ring = ListKeys::new().parse_response(response(200, KEYRING)).unwrap();
    for shown in [format!("{ring:?}"), format!("{:?}", ring.exposing_keys())] {
        assert!(shown.contains("KeyringResponse {"), "{shown}");
        assert!(shown.contains(r#"keys: ["<redacted>: 3", "<redacted>: 2"]"#), "{shown}");
        assert!(shown.contains("num_nodes: 3"), "{shown}");
        for key in ring.keys.keys() {
            assert!(!shown.contains(key.as_str()), "{shown}");
        }
    }
    assert!(format!("{:?}", ring.exposing_keys()).starts_with("ExposedKeyring(KeyringResponse {"));
}

#[test]
fn keyring_response_parses_and_flags_partially_installed_keys() {
    for op_response in [
        ListKeys::new().parse_response(response(200, KEYRING)),
        InstallKey::new(KEY_16).parse_response(response(200, KEYRING)),
        UseKey::new(KEY_16).parse_response(response(200, KEYRING)),
        RemoveKey::new(KEY_16).parse_response(response(200, KEYRING)),
    ] {
        let ring = op_response.unwrap();
        assert_eq!(ring.num_nodes, 3);
        assert_eq!(ring.keys["HS5lJ+XuTlYKWaeGYyG+/A=="], 3);
        assert!(ring.messages.is_empty());
        assert_eq!(
            ring.partially_installed().collect::<Vec<_>>(),
            ["z3Vc0nN3ID9u5ZqUdfqVXQ=="]
        );
    }
    let ring = ListKeys::new()
        .parse_response(response(
            200,
            r#"{"Messages":{"nomad-2.global":"key not found"},"Keys":null,"NumNodes":3}"#,
        ))
        .unwrap();
    assert!(ring.keys.is_empty());
    assert_eq!(ring.messages["nomad-2.global"], "key not found");
}

#[test]
fn keyring_errors_keep_their_meaning() {
    let err = ListKeys::new()
        .parse_response(text_error(501, "Invalid method"))
        .unwrap_err();
    assert!(err.is_wrong_role(), "client-only agent");
    let err = ListKeys::new()
        .parse_response(text_error(403, "Permission denied"))
        .unwrap_err();
    assert!(err.is_permission_denied());
    assert_eq!(
        err.debug_disabled_hint(),
        None,
        "the keyring does not depend on enable_debug"
    );
    let err = UseKey::new(KEY_16)
        .parse_response(text_error(500, "2/3 nodes reported failure"))
        .unwrap_err();
    assert_eq!(
        unexpected(&err),
        (StatusCode::INTERNAL_SERVER_ERROR, "2/3 nodes reported failure")
    );
    let err = ListKeys::new()
        .parse_response(text_error(404, "resource not found"))
        .unwrap_err();
    assert!(err.is_not_found());
}

/// The keyring's counts leave out servers that are down: `coverage` counts against the member
/// list.
#[test]
fn coverage_counts_a_key_against_the_alive_and_down_servers() {
    use nomad_proto::agent::ListMembers;
    const KEY: &str = "HS5lJ+XuTlYKWaeGYyG+/A==";
    const NEW: &str = "z3Vc0nN3ID9u5ZqUdfqVXQ==";
    let member = |name: &str, role: &str, status: &str| {
        format!(
            r#"{{"Name":"{name}","Addr":"10.0.0.1","Port":4648,"Tags":{{"role":"{role}","region":"global"}},"Status":"{status}"}}"#
        )
    };
    let members = |list: &[String]| {
        ListMembers::new()
            .parse_response(json_ok(&format!(
                r#"{{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[{}]}}"#,
                list.join(",")
            )))
            .unwrap()
    };
    // Two of three servers alive and answering; the third failed, so it was not asked.
    let ring = ListKeys::new()
        .parse_response(json_ok(&format!(r#"{{"Keys":{{"{KEY}":2,"{NEW}":1}},"NumNodes":2}}"#)))
        .unwrap();
    let three = members(&[
        member("nomad-1.global", "nomad", "alive"),
        member("nomad-2.global", "nomad", "alive"),
        member("nomad-3.global", "nomad", "failed"),
        member("client-1", "client", "alive"),
    ]);
    let primary = ring.coverage(KEY, &three);
    assert_eq!(
        (
            primary.holders,
            primary.answered,
            primary.alive_servers,
            primary.down_servers
        ),
        (2, 2, 2, 1)
    );
    assert_eq!(primary.alive_missing(), 0);
    assert!(!primary.on_every_server(), "nomad-3 is down and unchecked");
    let new = ring.coverage(NEW, &three);
    assert_eq!(new.alive_missing(), 1, "one alive server lacks the new key");
    assert!(!new.on_every_server());
    assert_eq!(ring.coverage("unknown", &three).holders, 0);

    // All alive and holding it: on every server. A server that left is not counted.
    let healthy = members(&[
        member("nomad-1.global", "nomad", "alive"),
        member("nomad-2.global", "nomad", "alive"),
        member("nomad-9.global", "nomad", "left"),
    ]);
    assert!(ring.coverage(KEY, &healthy).on_every_server());
    assert!(!ring.coverage(NEW, &healthy).on_every_server());
}
