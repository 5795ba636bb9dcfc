//! Helpers shared by nomad-proto's test binaries (`agent`, and through `#[path]`
//! `request_building` and `config`): configs, canned agent answers, and request inspection.
#![allow(dead_code)] // each binary uses a different part

use nomad_proto::http::{Method, Request, Response, StatusCode};
use nomad_proto::{BuildError, Config, Endpoint, ResponseError};

/// The agent address of every config here.
pub const BASE: &str = "http://127.0.0.1:4646";

/// The token of [`request`]'s config.
pub const TOKEN: &str = "s3cr3t";

/// A config for [`BASE`] without a token.
pub fn config() -> Config {
    Config::builder().address(BASE).build().expect("valid config")
}

pub fn config_with_token(token: &str) -> Config {
    Config::builder()
        .address(BASE)
        .token(token)
        .build()
        .expect("valid config")
}

/// The request of `op` for [`BASE`] with [`TOKEN`].
pub fn request<E: Endpoint>(op: &E) -> Request<Vec<u8>> {
    op.to_request(&config_with_token(TOKEN)).expect("request builds")
}

/// An answer with no content type (a nil-object success, or a body whose type does not matter).
pub fn response(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

/// An agent error answer: `text/plain; charset=utf-8`, the bare message with no newline (the
/// agent's `wrap` in Nomad's `command/agent/http.go`).
pub fn text_error(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

/// A 200 with a JSON body.
pub fn json_ok(body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

/// The decoded query pairs of a request, in order.
pub fn query_pairs(req: &Request<Vec<u8>>) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub fn query_values(req: &Request<Vec<u8>>, name: &str) -> Vec<String> {
    query_pairs(req)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect()
}

pub fn header_values<'a>(req: &'a Request<Vec<u8>>, name: &str) -> Vec<&'a str> {
    req.headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().expect("ascii header"))
        .collect()
}

/// Method, full URI, exactly one [`TOKEN`] header, and the body as text with its content type.
pub fn assert_request(req: &Request<Vec<u8>>, method: Method, uri: &str, body: &str) {
    assert_eq!(req.method(), method, "method of {uri}");
    assert_eq!(req.uri(), uri);
    assert_eq!(header_values(req, "x-nomad-token"), [TOKEN], "exactly one token header");
    assert_eq!(String::from_utf8_lossy(req.body()), body);
    let content_type = req.headers().get("content-type").map(|v| v.to_str().unwrap());
    if body.is_empty() {
        assert_eq!(content_type, None, "no content type without a body");
    } else {
        assert_eq!(content_type, Some("application/json"));
    }
}

pub fn invalid_argument(err: BuildError) -> (&'static str, String) {
    match err {
        BuildError::InvalidArgument { argument, reason } => (argument, reason),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

/// The status and the kept body of an [`ResponseError::UnexpectedStatus`].
pub fn unexpected(err: &ResponseError) -> (StatusCode, &str) {
    match err {
        ResponseError::UnexpectedStatus { status, body, .. } => (*status, body.as_str()),
        other => panic!("expected UnexpectedStatus, got {other:?}"),
    }
}

/// A lookup of `NOMAD_*` variables for `ConfigBuilder::env_lookup`: `pairs` and nothing else.
pub fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}
