//! Request framing on the wire: a request without a body (every GET of every operation) carries
//! no `Content-Length` header (RFC 9110 section 8.6: a user agent should not send one "when the
//! request message does not contain content and the method semantics do not anticipate such
//! data"; Nomad's Go client and python-nomad send none), over TCP, TLS and the Unix socket alike,
//! while PUT and POST requests always carry their body's length, `0` included.

mod support;

use nomad_blocking::http::{Method, Request};
use nomad_blocking::proto::agent::OPERATIONS;
use nomad_blocking::test_agent::{Role, TestAgent, TlsServerConfig};
use nomad_blocking::{Config, Transport, TransportSettings, UreqTransport};

/// Sends every operation's sample request through the ureq transport to `agent`, and checks the
/// framing of each as the agent received it. Returns how many GETs were checked.
fn every_operation_is_framed_as_the_go_client_frames_it(agent: &TestAgent, config: &Config) -> usize {
    let transport = UreqTransport::new(config, TransportSettings::default()).expect("the transport builds");
    let mut gets = 0;
    for op in OPERATIONS {
        let name = op.info.name;
        let request = (op.sample_request)(config).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (method, body) = (request.method().clone(), request.body().clone());
        let before = agent.requests().len();
        if op.info.streaming {
            // The answer's head is enough: the request has been received by then.
            drop(
                transport
                    .send_streaming(request)
                    .unwrap_or_else(|e| panic!("{name}: {e}")),
            );
        } else {
            transport.send(request).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let requests = agent.requests();
        assert_eq!(requests.len(), before + 1, "{name}: one request reached the agent");
        let seen = &requests[before];
        assert_eq!(seen.method, method.as_str(), "{name}");
        let length = seen.header_all("content-length");
        if method == Method::PUT || method == Method::POST {
            assert_eq!(
                length,
                [body.len().to_string()],
                "{name}: a {method} carries its length"
            );
            assert_eq!(seen.body, body, "{name}");
        } else {
            assert!(body.is_empty(), "{name}: a {method} sample has no body");
            assert!(length.is_empty(), "{name}: {method} sent Content-Length {length:?}");
            assert!(
                seen.header("transfer-encoding").is_none(),
                "{name}: {method} sent a chunked body"
            );
            gets += usize::from(method == Method::GET);
        }
    }
    gets
}

fn agent_builder() -> nomad_blocking::test_agent::TestAgentBuilder {
    TestAgent::builder().role(Role::Both).acl("root")
}

fn config_for(address: &str, f: impl FnOnce(nomad_blocking::ConfigBuilder) -> nomad_blocking::ConfigBuilder) -> Config {
    f(Config::builder().address(address).token("root")).build().unwrap()
}

#[test]
fn no_get_carries_a_content_length_over_tcp() {
    let agent = agent_builder().start().unwrap();
    let gets = every_operation_is_framed_as_the_go_client_frames_it(&agent, &config_for(agent.url(), |b| b));
    assert!(gets >= 10, "the operations' GETs were checked ({gets})");
}

#[test]
fn no_get_carries_a_content_length_over_tls() {
    let ca = support::pki::ca("Nomad Agent CA (test)");
    let server = ca.server(&["127.0.0.1"]);
    let agent = agent_builder()
        .start_tls(TlsServerConfig::new(&server.cert_pem, &server.key_pkcs8_pem))
        .unwrap();
    let config = config_for(agent.url(), |b| b.ca_cert_pem(ca.cert_pem()));
    assert!(every_operation_is_framed_as_the_go_client_frames_it(&agent, &config) > 0);
}

#[cfg(unix)]
#[test]
fn no_get_carries_a_content_length_over_a_unix_socket() {
    let dir = support::pki::TempDir::new("content-length-unix");
    let socket = dir.path().join("api.sock");
    let agent = agent_builder().start_unix(&socket).unwrap();
    let config = config_for(&format!("unix://{}", socket.display()), |b| b);
    assert!(every_operation_is_framed_as_the_go_client_frames_it(&agent, &config) > 0);
}

#[test]
fn an_empty_put_still_says_its_length_is_zero() {
    // As Go's net/http does for a PUT or POST without a body.
    let agent = agent_builder().start().unwrap();
    let config = config_for(agent.url(), |b| b);
    let transport = UreqTransport::new(&config, TransportSettings::default()).unwrap();
    for method in [Method::PUT, Method::POST, Method::DELETE, Method::GET] {
        let request = Request::builder()
            .method(method.clone())
            .uri(format!("{}/v1/agent/servers?address=10.0.0.1:4647", agent.url()))
            .header("X-Nomad-Token", "root")
            .body(Vec::new())
            .unwrap();
        transport.send(request).unwrap();
        let seen = agent.last_request().unwrap();
        let expected: &[&str] = if method == Method::PUT || method == Method::POST {
            &["0"]
        } else {
            &[]
        };
        assert_eq!(seen.header_all("content-length"), expected, "{method}");
    }
}
