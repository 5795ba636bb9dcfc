//! How errors read (`src/error.rs`, `src/stream/error.rs`, `src/send.rs`): the reason on one
//! line, shown once whether printed with `{}` or through a reporter that walks `source()`; the
//! call and what it needs for a 403 or a wrong-role answer; redirects; and the agent's text with
//! its control characters escaped in `Display` and `Debug` while the accessors keep it raw.

use std::error::Error;

use nomad_proto::agent::{
    GetSchedulerWorkerConfig, GetSelf, InstallKey, Join, ListMembers, ListServers, Monitor, Pprof, Reload,
    SetSchedulerWorkerConfig, SetServers,
};
use nomad_proto::http::{HeaderValue, Response};
use nomad_proto::stream::{LogDecoder, StreamError, StreamFormat};
use nomad_proto::{send, BuildError, Config, Endpoint, ResponseError, SendError};

use crate::common::*;

/// What an error-chain reporter prints (anyhow's `{:#}`): the error, then each source after
/// `": "`.
fn chain(err: &dyn Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// One line, the same with `{}` and through the chain, and `reason` in it exactly once.
fn assert_reads_once(err: &dyn Error, reason: &str) {
    let shown = err.to_string();
    assert!(!shown.contains(['\n', '\r']), "one line: {shown:?}");
    let chained = chain(err);
    assert_eq!(chained.matches(reason).count(), 1, "{reason:?} once in {chained:?}");
    assert_eq!(shown.matches(reason).count(), 1, "{reason:?} once in {shown:?}");
}

// ---------------------------------------------------------------------------------------------
// The call and what it needs
// ---------------------------------------------------------------------------------------------

#[test]
fn a_403_names_the_call_and_the_capability_for_a_read_and_a_write() {
    let read = GetSelf::new()
        .parse_response(text_error(403, "Permission denied"))
        .unwrap_err();
    assert_eq!(
        read.to_string(),
        "GET /v1/agent/self: 403 Permission denied (needs agent:read)"
    );
    let write = InstallKey::new("HS5lJ+XuTlYKWaeGYyG+/A==")
        .parse_response(text_error(403, "Permission denied"))
        .unwrap_err();
    assert_eq!(
        write.to_string(),
        "PUT /v1/agent/keyring/install: 403 Permission denied (needs agent:write)"
    );
    // Members needs node:read, not an agent capability.
    let members = ListMembers::new()
        .parse_response(text_error(403, "ACL token not found"))
        .unwrap_err();
    assert_eq!(
        members.to_string(),
        "GET /v1/agent/members: 403 ACL token not found (needs node:read)"
    );
    for err in [&read, &write, &members] {
        assert!(err.is_permission_denied());
        assert_reads_once(err, "403");
    }
    assert_eq!(
        write.call().map(|c| (c.method(), c.path(), c.acl())),
        Some(("PUT", "/v1/agent/keyring/install", "agent:write"))
    );
}

#[test]
fn a_wrong_role_answer_says_which_role_the_agent_lacks_for_a_read_and_a_write() {
    let read = ListServers::new()
        .parse_response(text_error(501, "Invalid method"))
        .unwrap_err();
    assert_eq!(
        read.to_string(),
        "GET /v1/agent/servers: 501 Invalid method (this agent runs no client; the endpoint needs one)"
    );
    let write = SetServers::new(["10.0.0.1:4647"])
        .parse_response(text_error(501, "Invalid method"))
        .unwrap_err();
    assert_eq!(
        write.to_string(),
        "PUT /v1/agent/servers: 501 Invalid method (this agent runs no client; the endpoint needs one)"
    );
    let join = Join::new(["10.0.0.2"])
        .parse_response(text_error(501, "Invalid method"))
        .unwrap_err();
    assert_eq!(
        join.to_string(),
        "PUT /v1/agent/join: 501 Invalid method (this agent runs no server; the endpoint needs one)"
    );
    let read_400 = GetSchedulerWorkerConfig::new()
        .parse_response(text_error(400, "Server only endpoint"))
        .unwrap_err();
    assert_eq!(
        read_400.to_string(),
        "GET /v1/agent/schedulers/config: 400 Server only endpoint (this agent runs no server; the endpoint needs one)"
    );
    let write_400 = SetSchedulerWorkerConfig::new(2, ["_core"])
        .parse_response(text_error(400, "Server only endpoint"))
        .unwrap_err();
    assert_eq!(
        write_400.to_string(),
        "PUT /v1/agent/schedulers/config: 400 Server only endpoint (this agent runs no server; the endpoint needs one)"
    );
    for err in [&read, &write, &join, &read_400, &write_400] {
        assert!(err.is_wrong_role(), "{err}");
        assert!(!err.is_permission_denied());
    }
    // Another 400 is the agent's own message, with no role hint.
    let other = SetSchedulerWorkerConfig::new(200, ["_core"])
        .parse_response(text_error(400, "Invalid request"))
        .unwrap_err();
    assert_eq!(
        other.to_string(),
        "PUT /v1/agent/schedulers/config: 400 Invalid request"
    );
}

#[test]
fn a_profile_error_names_the_real_path() {
    let err = Pprof::lookup("heap")
        .parse_response(text_error(404, "Pprof profile not found profile: heap"))
        .unwrap_err();
    assert_eq!(err.call().map(|c| c.path()), Some("/v1/agent/pprof/heap"));
    assert_eq!(err.call().map(|c| c.info().path), Some("/v1/agent/pprof/<profile>"));
    assert_eq!(
        err.to_string(),
        "GET /v1/agent/pprof/heap: 404 Pprof profile not found profile: heap"
    );
    let denied = Pprof::cpu_profile()
        .parse_response(text_error(403, "Permission denied"))
        .unwrap_err();
    assert_eq!(
        denied.to_string(),
        "GET /v1/agent/pprof/profile: 403 Permission denied; /v1/agent/pprof/profile needs `enable_debug = true` \
         in the agent configuration when ACLs are disabled, or an ACL token with agent:write when they are enabled"
    );
    // The streaming check gives the same message as the buffered parse.
    let checked = Pprof::cpu_profile()
        .check_status(nomad_proto::http::StatusCode::FORBIDDEN, b"Permission denied")
        .unwrap_err();
    assert_eq!(checked.to_string(), denied.to_string());
}

/// An operation written outside the crate has no call: its errors read as they always did.
#[test]
fn an_operation_without_info_gets_the_plain_messages() {
    struct Ping;
    impl Endpoint for Ping {
        type Output = ();
        fn to_request(&self, config: &Config) -> Result<nomad_proto::http::Request<Vec<u8>>, BuildError> {
            GetSelf::new().to_request(config)
        }
        fn parse_response(&self, response: Response<Vec<u8>>) -> Result<(), ResponseError> {
            self.check_status(response.status(), response.body())
        }
    }
    let err = Ping.parse_response(text_error(403, "Permission denied")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected response status 403 Forbidden: Permission denied"
    );
    assert!(err.call().is_none());
    assert!(err.is_permission_denied());
    let err = ResponseError::unexpected(nomad_proto::http::StatusCode::NOT_IMPLEMENTED, b"Invalid method");
    assert_eq!(
        err.to_string(),
        "unexpected response status 501 Not Implemented: Invalid method"
    );
    assert!(err.is_wrong_role());
}

// ---------------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------------

fn redirect(status: u16, location: &[u8]) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("location", HeaderValue::from_bytes(location).unwrap())
        .body(b"<a href=\"...\">Moved</a>".to_vec())
        .unwrap()
}

#[test]
fn a_redirect_says_it_is_not_followed_and_where_it_pointed_without_query_or_credentials() {
    let err = GetSelf::new()
        .parse_response(redirect(
            307,
            b"https://admin:hunter2@nomad.example:4646/v1/agent/self?token=s3cr3t#x",
        ))
        .unwrap_err();
    assert!(err.is_redirect());
    assert_eq!(err.redirect_target(), Some("https://nomad.example:4646/v1/agent/self"));
    assert_eq!(
        err.to_string(),
        "GET /v1/agent/self: 307 Temporary Redirect to https://nomad.example:4646/v1/agent/self (the client \
         follows no redirects: use the address the agent answers on as the agent address)"
    );
    let debug = format!("{err:?}");
    for secret in ["hunter2", "admin", "s3cr3t"] {
        assert!(!err.to_string().contains(secret) && !debug.contains(secret), "{debug}");
    }
    assert_reads_once(&err, "redirects");

    // Every operation says so, the empty-body ones too.
    for err in [
        Reload::new().parse_response(redirect(301, b"/ui/")).unwrap_err(),
        ListMembers::new().parse_response(redirect(308, b"/ui/")).unwrap_err(),
    ] {
        assert_eq!(err.redirect_target(), Some("/ui/"));
        assert!(
            err.to_string().contains("to /ui/ (the client follows no redirects"),
            "{err}"
        );
    }

    // Without a Location header (or from a status check alone) it still says why.
    let err = GetSelf::new()
        .check_status(nomad_proto::http::StatusCode::FOUND, b"")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /v1/agent/self: 302 Found (the client follows no redirects: use the address the agent answers on \
         as the agent address)"
    );
    // A streaming transport adds the target from the headers it has.
    let headers = redirect(302, b"http://other:4646/v1/agent/monitor?x=1")
        .headers()
        .clone();
    let err = Monitor::new()
        .check_status(nomad_proto::http::StatusCode::FOUND, b"")
        .unwrap_err()
        .with_redirect_target(&headers);
    assert_eq!(err.redirect_target(), Some("http://other:4646/v1/agent/monitor"));
}

// ---------------------------------------------------------------------------------------------
// Every variant: one line, the reason once, with `{}` and through the chain
// ---------------------------------------------------------------------------------------------

#[test]
fn every_response_error_reads_once_with_display_and_with_a_chain_reporter() {
    let truncated = Monitor::new()
        .parse_response(json_ok(r#"{"Data":"b25lCg==","FileEvent":"log"}{"Data":"dHd"#))
        .unwrap_err();
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    decoder.push(b"{}rpc error: EOF");
    let streamed = ResponseError::Stream(decoder.finish().unwrap_err());
    let cases: Vec<(ResponseError, &str)> = vec![
        (
            GetSelf::new().parse_response(text_error(500, "failed")).unwrap_err(),
            "500 failed",
        ),
        (
            ResponseError::unexpected(nomad_proto::http::StatusCode::BAD_GATEWAY, b"bad gateway"),
            "502 Bad Gateway: bad gateway",
        ),
        (
            GetSelf::new().parse_response(redirect(301, b"/x")).unwrap_err(),
            "301 Moved Permanently to /x",
        ),
        (
            GetSelf::new().parse_response(json_ok("{\"config\":")).unwrap_err(),
            "EOF while parsing a value at line 1 column 10",
        ),
        (
            GetSelf::new().parse_response(json_ok("")).unwrap_err(),
            "empty response body where JSON was expected",
        ),
        (streamed, "text after the frames"),
        (truncated, "truncated frame"),
        (
            Join::new(["a"])
                .parse_response(json_ok(r#"{"num_joined":0,"error":"dial tcp: i/o timeout"}"#))
                .unwrap_err(),
            "dial tcp: i/o timeout",
        ),
        (
            nomad_proto::agent::GetHostData::new()
                .parse_response(text_error(403, "Permission denied"))
                .unwrap_err(),
            "enable_debug",
        ),
        (
            ResponseError::MissingValue {
                what: "datacenter (config.Datacenter)",
            },
            "datacenter",
        ),
    ];
    for (err, reason) in &cases {
        assert!(err.source().is_none(), "{err:?}");
        assert_reads_once(err, reason);
    }
}

#[test]
fn every_stream_error_names_its_kind_once() {
    let decode_error = |body: &[u8], format: StreamFormat, limit: usize| {
        let mut decoder = LogDecoder::new(format).with_max_line_len(limit);
        decoder.push(body);
        loop {
            match decoder.finish() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error for {body:?}"),
                Err(e) => return e,
            }
        }
    };
    let cases = [
        (
            decode_error(br#"{"Data":"YQo=",,}"#, StreamFormat::Framed, 1024),
            "log stream: invalid JSON frame (key must be a string at line 1 column 16)",
        ),
        (
            decode_error(br#"{"Data":"not*base64"}"#, StreamFormat::Framed, 1024),
            "log stream: invalid base64 in frame data",
        ),
        (
            decode_error(br#"{"Data":"YQ"#, StreamFormat::Framed, 1024),
            "log stream: truncated frame (the stream ended 11 bytes into a frame)",
        ),
        (
            decode_error(&[b'x'; 100], StreamFormat::Plain, 10),
            "log stream: line longer than 10 bytes",
        ),
        (
            decode_error(b"{}Unknown log level", StreamFormat::Framed, 1024),
            "log stream: text after the frames (probably an error reported by the agent): \"Unknown log level\"",
        ),
        (
            nomad_proto::stream::LogRecord::parse("2024 [INFO] agent: started").unwrap_err(),
            "invalid log record: not a json object (invalid type: integer `2024`, expected a map at line 1 column 4)",
        ),
    ];
    for (err, reason) in &cases {
        assert!(err.to_string().starts_with(reason), "{err}");
        assert!(err.source().is_none());
        assert_reads_once(err, reason);
    }
    // The frame-size limit: one frame over `2 * max_line_len + 4 KiB`.
    let big = format!(r#"{{"Data":"{}"}}"#, "QUFB".repeat(2000));
    let err = decode_error(big.as_bytes(), StreamFormat::Framed, 16);
    assert!(err.to_string().starts_with("log stream: frame larger than"), "{err}");
    assert_reads_once(&err, "frame larger than");
}

#[test]
fn build_and_send_errors_read_once() {
    let encode = BuildError::Encode(serde_json::from_str::<u8>("300").unwrap_err());
    assert!(encode.source().is_none());
    assert_reads_once(
        &encode,
        "cannot encode the request body: invalid value: integer `300`, expected u8",
    );

    // Every other build error states its reason with no source.
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    let build_errors = [
        (
            Config::builder().address("ftp://x").build().unwrap_err(),
            "unsupported scheme",
        ),
        (Config::builder().token("a b").build().unwrap_err(), "visible ASCII"),
        (
            Config::builder().header("X-Bad", "a\nb").build().unwrap_err(),
            "control or non-ASCII",
        ),
        (
            Config::builder()
                .env_lookup(env(&[("NOMAD_SKIP_VERIFY", "maybe")]))
                .build()
                .unwrap_err(),
            "not a boolean",
        ),
        (
            Join::new([""]).to_request(&Config::default()).unwrap_err(),
            "must not be empty",
        ),
    ];
    for (err, reason) in &build_errors {
        assert!(err.source().is_none(), "{err:?}");
        assert_reads_once(err, reason);
    }

    let config = Config::default();
    let build: SendError<std::io::Error> =
        send(&Join::new(Vec::<String>::new()), &config, |_| unreachable!()).unwrap_err();
    assert!(matches!(build, SendError::Build(_)));
    assert_eq!(
        build.to_string(),
        "cannot build the request: invalid argument `address`: at least one address is required"
    );
    assert_reads_once(&build, "at least one address");

    /// A transport error with a cause of its own: the chain shows both, each once.
    #[derive(Debug)]
    struct Dial(std::io::Error);
    impl std::fmt::Display for Dial {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cannot connect to 127.0.0.1:4646")
        }
    }
    impl Error for Dial {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }
    let transport = send(&GetSelf::new(), &config, |_| {
        Err(Dial(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "connection refused",
        )))
    })
    .unwrap_err();
    assert_eq!(transport.to_string(), "transport: cannot connect to 127.0.0.1:4646");
    assert_eq!(
        chain(&transport),
        "transport: cannot connect to 127.0.0.1:4646: connection refused"
    );

    let response: SendError<std::io::Error> =
        send(&GetSelf::new(), &config, |_| Ok(text_error(403, "Permission denied"))).unwrap_err();
    assert!(response.as_response().is_some_and(ResponseError::is_permission_denied));
    assert_eq!(
        response.to_string(),
        "GET /v1/agent/self: 403 Permission denied (needs agent:read)"
    );
    assert_reads_once(&response, "Permission denied");
}

// ---------------------------------------------------------------------------------------------
// The agent's text is escaped when shown, and kept raw
// ---------------------------------------------------------------------------------------------

/// Control characters a hostile endpoint could use on a terminal, and how they are shown.
const HOSTILE: &str = "a\u{1b}[2J\u{7}b\r\nc\0d\u{7f}e\u{9b}31mf\u{202e}g";
const ESCAPED: &str = r"a\u{1b}[2J\u{7}b\r\nc\0d\u{7f}e\u{9b}31mf\u{202e}g";

fn assert_escaped(shown: &str) {
    assert!(shown.contains(ESCAPED), "escaped: {shown}");
    assert!(
        !shown.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "no raw control character: {shown:?}"
    );
}

#[test]
fn control_characters_in_a_403_body_are_escaped_and_kept_raw() {
    let err = GetSelf::new().parse_response(text_error(403, HOSTILE)).unwrap_err();
    assert_escaped(&err.to_string());
    assert_escaped(&format!("{err:?}"));
    assert_eq!(err.message(), Some(HOSTILE), "the accessor returns the text as sent");
    // The debug endpoints' 403 too.
    let err = Pprof::lookup("heap")
        .parse_response(text_error(403, HOSTILE))
        .unwrap_err();
    assert_escaped(&err.to_string());
    assert_escaped(&format!("{err:?}"));
    assert_eq!(err.message(), Some(HOSTILE));
}

#[test]
fn control_characters_in_a_join_error_are_escaped_and_kept_raw() {
    let body = serde_json::json!({"num_joined": 0, "error": HOSTILE}).to_string();
    let err = Join::new(["a"]).parse_response(json_ok(&body)).unwrap_err();
    assert_escaped(&err.to_string());
    assert_escaped(&format!("{err:?}"));
    assert_eq!(err.message(), Some(HOSTILE));
}

#[test]
fn control_characters_in_a_stream_error_are_escaped_and_kept_raw() {
    let body = format!("{{}}{HOSTILE}");
    for err in [Monitor::new().parse_response(json_ok(&body)).unwrap_err(), {
        let mut decoder = LogDecoder::new(StreamFormat::Framed);
        decoder.push(body.as_bytes());
        ResponseError::Stream(decoder.finish().unwrap_err())
    }] {
        let shown = err.to_string();
        assert!(
            shown.contains(r"\u{1b}[2J\u{7}b\r\nc\0d\u{7f}e\u{9b}31mf\u{202e}g"),
            "{shown}"
        );
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(!format!("{err:?}").chars().any(char::is_control));
        let Some(StreamError::TrailingText { snippet }) = err.stream_error() else {
            panic!("{err:?}");
        };
        assert_eq!(snippet, HOSTILE, "the snippet is kept as sent");
    }
}

#[test]
fn control_characters_in_a_decode_snippet_are_escaped_and_the_body_kept_raw() {
    // A raw control character inside a JSON string is itself invalid JSON.
    let body = format!(r#"{{"ServerName":"{HOSTILE}"}}"#);
    let err = ListMembers::new().parse_response(json_ok(&body)).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("control character"), "{shown}");
    assert!(shown.contains(r"near `{"), "{shown}");
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(!format!("{err:?}").chars().any(char::is_control));
    let ResponseError::Decode { body: kept, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(kept, body.as_bytes());
    // A string value the decoder quotes in its message is escaped too.
    let err = ListServers::new()
        .parse_response(json_ok(&serde_json::json!(HOSTILE).to_string()))
        .unwrap_err();
    assert!(!err.to_string().chars().any(char::is_control), "{err}");
}

#[test]
fn control_characters_in_a_redirect_target_are_escaped() {
    // A header value may carry a tab and bytes above 0x7f: C2 9B is U+009B, a C1 control (CSI).
    let err = GetSelf::new()
        .parse_response(redirect(302, b"http://evil.example/\t\xc2\x9b2J?q"))
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains(r"http://evil.example/\t\u{9b}2J (the client"), "{shown}");
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(!format!("{err:?}").chars().any(char::is_control));
}

#[test]
fn long_server_text_is_bounded_when_shown() {
    let body = "\u{1b}".repeat(100_000);
    let err = GetSelf::new().parse_response(text_error(500, &body)).unwrap_err();
    assert!(err.to_string().len() < 4096, "{}", err.to_string().len());
    assert!(format!("{err:?}").len() < 4096);
    let err = ListServers::new()
        .parse_response(json_ok(&serde_json::json!("x".repeat(100_000)).to_string()))
        .unwrap_err();
    assert!(err.to_string().len() < 4096, "{}", err.to_string().len());
    let join = serde_json::json!({"num_joined": 0, "error": "e".repeat(100_000)}).to_string();
    let err = Join::new(["a"]).parse_response(json_ok(&join)).unwrap_err();
    assert!(err.to_string().len() < 4096);
    assert_eq!(err.message().map(str::len), Some(100_000));
}
