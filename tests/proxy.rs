//! Proxy policies that do not depend on the process environment: an explicit proxy URL is used
//! (for plain and TLS agents), SOCKS proxies are refused up front, credentials stay hidden.

mod support;

use nomad_blocking::test_agent::{TestAgent, TlsServerConfig};
use nomad_blocking::{Client, Error, ProxyPolicy, SetupError};
use support::pki;
use support::proxy::RecordingProxy;

#[test]
fn explicit_proxy_url_is_used_with_connect() {
    let proxy = RecordingProxy::start();
    let agent = TestAgent::start().unwrap();
    let target = agent.socket_addr().unwrap();
    let c = Client::builder()
        .address(agent.url())
        .token("tok")
        .proxy(ProxyPolicy::Url(proxy.url()))
        .build()
        .unwrap();
    assert_eq!(c.agent().servers().unwrap().len(), 3);
    assert_eq!(proxy.seen(), [format!("CONNECT {target} HTTP/1.1")]);
    assert_eq!(agent.requests().len(), 1, "the request went through the tunnel");
    assert_eq!(agent.requests()[0].header_all("x-nomad-token"), ["tok"]);
}

#[test]
fn explicit_proxy_with_a_tls_agent() {
    let dir = pki::TempDir::new("proxy-tls");
    let ca = pki::ca("Proxy test CA");
    let ca_file = dir.write("ca.pem", ca.cert_pem());
    let server = ca.server(&["127.0.0.1"]);
    let agent = TestAgent::builder()
        .start_tls(TlsServerConfig::new(&server.cert_pem, &server.key_pkcs8_pem))
        .unwrap();
    let proxy = RecordingProxy::start();
    let c = Client::builder()
        .address(agent.url())
        .config(|b| b.ca_cert(&ca_file))
        .proxy(ProxyPolicy::Url(proxy.url()))
        .build()
        .unwrap();
    assert!(c.agent().health().unwrap().is_healthy());
    assert_eq!(proxy.seen().len(), 1);
    assert!(proxy.seen()[0].starts_with("CONNECT 127.0.0.1:"), "{:?}", proxy.seen());
}

#[test]
fn the_default_policy_is_direct() {
    let c = Client::builder().address("http://127.0.0.1:4646").build().unwrap();
    assert_eq!(
        c.transport_as::<nomad_blocking::UreqTransport>()
            .unwrap()
            .settings()
            .proxy,
        ProxyPolicy::Direct
    );
    assert_eq!(ProxyPolicy::default(), ProxyPolicy::Direct);
}

#[test]
fn a_broken_proxy_fails_the_call_instead_of_going_direct() {
    let agent = TestAgent::start().unwrap();
    let dead = support::RefusedPort::new();
    let c = Client::builder()
        .address(agent.url())
        .proxy(ProxyPolicy::Url(dead.url()))
        .build()
        .unwrap();
    let err = c.agent().servers().unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert!(agent.requests().is_empty());
}

#[test]
fn socks_and_invalid_proxies_are_setup_errors() {
    for url in ["socks5://127.0.0.1:1080", "socks4://127.0.0.1:1080", "::not a url::"] {
        let result = Client::builder()
            .address("http://127.0.0.1:4646")
            .proxy(ProxyPolicy::Url(url.into()))
            .build();
        match result {
            Err(Error::Setup(SetupError::InvalidSetting { setting, .. })) => assert_eq!(setting, "proxy"),
            other => panic!("{url}: expected a setup error, got {other:?}"),
        }
    }
}

#[test]
fn proxy_credentials_are_not_shown() {
    let policy = ProxyPolicy::Url("http://alice:hunter2@proxy.internal:3128".into());
    let shown = format!("{policy:?}");
    assert!(!shown.contains("hunter2") && !shown.contains("alice"), "{shown}");
    assert!(shown.contains("proxy.internal:3128"), "{shown}");
    let c = Client::builder()
        .address("http://127.0.0.1:4646")
        .proxy(policy)
        .build()
        .unwrap();
    let shown = format!("{c:?} {:?}", c.transport_as::<nomad_blocking::UreqTransport>().unwrap());
    assert!(!shown.contains("hunter2"), "{shown}");
}
