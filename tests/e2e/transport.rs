//! What the ureq transport does for every call, end to end: gzip asked for and decoded (or
//! turned off), the body limit, connections reused across calls and clones, one request per
//! call (an error answer is not retried), and client settings that cannot be combined. The
//! connection-reuse tests count connections on a `support::raw_server` keep-alive server.

use std::io::Write;

use nomad_blocking::http::{Method, Request, Response, StatusCode};
use nomad_blocking::proto::agent::Join;
use nomad_blocking::proto::{BuildError, Config, Endpoint, ResponseError};
use nomad_blocking::test_agent::{Role, TestAgent};
use nomad_blocking::{Client, Error, SetupError, TransportErrorKind};

use crate::support::raw_server::{ok_json, RawServer};
use crate::{acl_agent, start_as};

/// Any method on any path, to get an error answer the named calls cannot produce.
struct Raw {
    method: Method,
    path: &'static str,
}

impl Endpoint for Raw {
    type Output = Vec<u8>;

    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut req = Request::builder()
            .method(self.method.clone())
            .uri(format!("{}{}", config.base_url(), self.path));
        if let Some(token) = config.token() {
            req = req.header("x-nomad-token", token.header_value().clone());
        }
        Ok(req.body(Vec::new()).expect("valid request"))
    }

    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Vec<u8>, ResponseError> {
        if response.status() == StatusCode::OK {
            Ok(response.into_body())
        } else {
            Err(ResponseError::unexpected(response.status(), response.body()))
        }
    }
}

fn raw(method: Method, path: &'static str) -> Raw {
    Raw { method, path }
}

#[test]
fn gzip_is_negotiated_and_decoded() {
    // The client asks for gzip and decodes what the agent compresses (every answer when asked,
    // checked in `tests/test_agent.rs`): JSON, errors and unhealthy reports.
    let agent = start_as(Role::Both);
    let client = agent.client().unwrap();
    let me = client.agent().self_info().unwrap();
    assert_eq!(me.config.region(), Some("global"));
    let accept = agent
        .last_request()
        .unwrap()
        .header("accept-encoding")
        .unwrap()
        .to_owned();
    assert!(accept.contains("gzip"), "{accept}");

    let err = client.call(&raw(Method::DELETE, "/v1/agent/self")).unwrap_err();
    assert_eq!(err.as_response().unwrap().message(), Some("Invalid method"));

    agent.with_state(|s| s.has_leader = false);
    assert_eq!(client.agent().health().unwrap().problems(), ["server: no leader"]);
}

#[test]
fn gzip_is_asked_for_by_default_and_can_be_turned_off() {
    let agent = TestAgent::start().unwrap();
    let on = agent.client().unwrap();
    let members_on = on.agent().members().unwrap();
    assert_eq!(agent.last_request().unwrap().header("accept-encoding"), Some("gzip"));

    let off = Client::builder().address(agent.url()).gzip(false).build().unwrap();
    let members_off = off.agent().members().unwrap();
    assert_eq!(agent.last_request().unwrap().header("accept-encoding"), None);
    assert_eq!(members_on, members_off, "same answer either way");
}

#[test]
fn an_empty_gzip_stream_is_an_empty_body() {
    // Nomad's compress handler gzips unit responses (force-leave) too: an empty gzip stream.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(b"").unwrap();
    let empty = enc.finish().unwrap();
    assert!(!empty.is_empty());
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\nContent-Length: {}\r\n\r\n",
        empty.len()
    )
    .into_bytes();
    answer.extend_from_slice(&empty);
    let server = RawServer::answer_always(answer);
    let c = Client::builder().address(server.url()).build().unwrap();
    c.agent().force_leave("nomad-2.global").unwrap();
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_body_over_the_limit_is_body_too_large() {
    let agent = start_as(Role::Both);
    let client = Client::builder().address(agent.url()).body_limit(512).build().unwrap();
    let err = client.agent().self_info().unwrap_err();
    let transport = err
        .as_transport()
        .unwrap_or_else(|| panic!("a transport error, got {err:?}"));
    assert_eq!(transport.kind(), &TransportErrorKind::BodyTooLarge { limit: 512 });
    assert!(err.to_string().contains("512"), "{err}");
    // A small answer still fits.
    assert_eq!(client.agent().servers().unwrap().len(), 3);
}

#[test]
fn many_sequential_calls_all_reach_the_agent() {
    let agent = start_as(Role::Both);
    let client = agent.client().unwrap();
    for i in 0..40 {
        match i % 4 {
            0 => drop(client.agent().members().unwrap()),
            1 => drop(client.agent().self_info().unwrap()),
            2 => drop(client.agent().servers().unwrap()),
            _ => drop(client.agent().health().unwrap()),
        }
    }
    assert_eq!(agent.requests().len(), 40);
}

/// A keep-alive server answering every request with a server list.
fn keep_alive_server() -> RawServer {
    RawServer::answer_always(ok_json(r#"["10.0.0.1:4647"]"#))
}

#[test]
fn sequential_calls_reuse_one_connection() {
    let server = keep_alive_server();
    let client = Client::builder().address(server.url()).build().unwrap();
    for _ in 0..10 {
        assert_eq!(client.agent().servers().unwrap(), ["10.0.0.1:4647"]);
    }
    assert_eq!(server.requests().len(), 10);
    assert_eq!(server.connections(), 1, "one connection for all calls");
}

#[test]
fn clones_share_the_connection_pool() {
    let server = keep_alive_server();
    let client = Client::builder().address(server.url()).build().unwrap();
    assert_eq!(client.agent().servers().unwrap(), ["10.0.0.1:4647"]);
    let clone = client.clone();
    let servers = std::thread::spawn(move || clone.agent().servers().unwrap())
        .join()
        .unwrap();
    assert_eq!(servers, ["10.0.0.1:4647"]);
    assert_eq!(server.requests().len(), 2);
    assert_eq!(server.connections(), 1, "the clone reused the pooled connection");
}

#[test]
fn without_idle_connections_every_call_opens_a_new_one() {
    // The control for the reuse tests: the server really counts connections.
    let server = keep_alive_server();
    let client = Client::builder()
        .address(server.url())
        .max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(client.agent().servers().unwrap(), ["10.0.0.1:4647"]);
    }
    assert_eq!(server.requests().len(), 3);
    assert_eq!(server.connections(), 3);
}

#[test]
fn an_error_answer_is_not_retried_behind_the_users_back() {
    // A failure the agent reports (in a 200 for join, as a 500 for reload) is returned, not
    // retried: each call reaches the agent exactly once.
    let agent = acl_agent();
    let client = agent.client().unwrap();
    for _ in 0..5 {
        let err = client.call(&Join::new(["10.0.0.99"])).unwrap_err();
        assert!(
            matches!(err.as_response(), Some(ResponseError::JoinFailed { num_joined: 0, .. })),
            "{err:?}"
        );
    }
    assert_eq!(agent.requests().len(), 5);
    agent.with_state(|s| s.reload_error = Some("error loading configuration: bad HCL".into()));
    let root = agent.client_with_token("root-token").unwrap();
    for _ in 0..3 {
        let err = root.agent().reload().unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err}");
    }
    assert_eq!(agent.requests().len(), 8);
}

#[test]
fn from_config_cannot_be_silently_overridden_by_later_settings() {
    // The same address setting on a fresh builder is fine ...
    let client = Client::builder().address("http://10.9.9.9:1234").build().unwrap();
    assert_eq!(client.config().base_url(), "http://10.9.9.9:1234");
    // ... but after `from_config` it would be dropped silently, so it is an error.
    let err = nomad_blocking::ClientBuilder::from_config(Config::default())
        .address("http://10.9.9.9:1234")
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Setup(SetupError::InvalidSetting { setting: "config", .. })),
        "{err}"
    );
}
