//! `HTTPS_PROXY` and friends in the process environment are ignored unless the client opts in
//! with `ProxyPolicy::FromEnv`. This binary changes the process environment, so it holds a
//! single test: nothing else runs beside it.

mod proxy_support;

use nomad_blocking::test_agent::TestAgent;
use nomad_blocking::{Client, Error, ProxyPolicy};
use proxy_support::RecordingProxy;

const PROXY_VARS: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

fn set_proxy_env(value: &str) {
    for var in PROXY_VARS {
        std::env::set_var(var, value);
    }
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("no_proxy");
}

#[test]
fn proxy_environment_is_used_only_when_asked() {
    let proxy = RecordingProxy::start();
    let agent = TestAgent::start().unwrap();
    set_proxy_env(&proxy.url());

    // Default: direct, whatever the environment says.
    let direct = Client::builder().address(agent.url()).build().unwrap();
    assert_eq!(direct.agent().servers().unwrap().len(), 3);
    assert!(
        proxy.seen().is_empty(),
        "default client used the proxy: {:?}",
        proxy.seen()
    );
    let from_env_config = Client::builder().env().address(agent.url()).build().unwrap();
    assert_eq!(from_env_config.agent().servers().unwrap().len(), 3);
    assert!(
        proxy.seen().is_empty(),
        "reading NOMAD_* from the environment does not opt in to proxies"
    );

    // Opted in: the same environment routes through the proxy.
    let via_env = Client::builder()
        .address(agent.url())
        .proxy(ProxyPolicy::FromEnv)
        .build()
        .unwrap();
    assert_eq!(via_env.agent().servers().unwrap().len(), 3);
    let target = agent.socket_addr().unwrap();
    assert_eq!(proxy.seen(), [format!("CONNECT {target} HTTP/1.1")]);

    // NO_PROXY is honoured when opted in.
    std::env::set_var("NO_PROXY", "127.0.0.1");
    let bypass = Client::builder()
        .address(agent.url())
        .proxy(ProxyPolicy::FromEnv)
        .build()
        .unwrap();
    assert_eq!(bypass.agent().servers().unwrap().len(), 3);
    assert_eq!(proxy.seen().len(), 1, "NO_PROXY bypassed the proxy");

    // A SOCKS proxy from the environment is refused rather than silently skipped.
    set_proxy_env("socks5://127.0.0.1:1080");
    let result = Client::builder()
        .address(agent.url())
        .proxy(ProxyPolicy::FromEnv)
        .build();
    assert!(matches!(result, Err(Error::Setup(_))), "{result:?}");
    // …and ignored by default.
    let direct = Client::builder().address(agent.url()).build().unwrap();
    assert!(direct.agent().health().unwrap().is_healthy());

    for var in PROXY_VARS {
        std::env::remove_var(var);
    }
    std::env::remove_var("NO_PROXY");
}
