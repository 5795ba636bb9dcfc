//! `HTTPS_PROXY` and friends in the process environment are ignored unless the client opts in
//! with `ProxyPolicy::FromEnv` (ureq reads them from the process environment, with no lookup to
//! inject).
//!
//! No test here changes the environment of a running process. Each test starts the test agent
//! and a recording proxy, then re-runs itself alone in a child process of this test binary
//! (`std::env::current_exe()`, filtered to its own name) with exactly the environment its
//! scenario needs: the proxy variables, and none of the `NOMAD_*` or proxy variables of the
//! developer's shell. The child makes the calls and checks their results; the parent checks
//! what reached the proxy and the agent.

mod support;

use nomad_blocking::test_agent::TestAgent;
use nomad_blocking::{Client, Error, ProxyPolicy};
use support::child::{child_agent_url, run_child};
use support::proxy::RecordingProxy;

/// Every proxy variable ureq reads, upper- and lowercase, set to `url`.
fn proxy_vars(url: &str) -> Vec<(&'static str, String)> {
    [
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
    ]
    .into_iter()
    .map(|name| (name, url.to_owned()))
    .collect()
}

#[test]
fn the_default_policy_ignores_the_proxy_environment() {
    if let Some(url) = child_agent_url() {
        let direct = Client::builder().address(url).build().unwrap();
        assert_eq!(direct.agent().servers().unwrap().len(), 3);
        // Reading NOMAD_* from the environment does not opt in to proxies either.
        let from_env = Client::builder().env().build().unwrap();
        assert_eq!(from_env.config().base_url(), std::env::var("NOMAD_ADDR").unwrap());
        assert_eq!(from_env.agent().servers().unwrap().len(), 3);
        return;
    }
    let proxy = RecordingProxy::start();
    let agent = TestAgent::start().unwrap();
    let mut vars = proxy_vars(&proxy.url());
    vars.push(("NOMAD_ADDR", agent.url().to_owned()));
    run_child("the_default_policy_ignores_the_proxy_environment", agent.url(), &vars);
    assert!(proxy.seen().is_empty(), "the proxy was used: {:?}", proxy.seen());
    assert_eq!(agent.requests().len(), 2, "both calls went straight to the agent");
}

#[test]
fn from_env_routes_through_the_proxy_of_the_environment() {
    if let Some(url) = child_agent_url() {
        let via_env = Client::builder()
            .address(url)
            .proxy(ProxyPolicy::FromEnv)
            .build()
            .unwrap();
        assert_eq!(via_env.agent().servers().unwrap().len(), 3);
        return;
    }
    let proxy = RecordingProxy::start();
    let agent = TestAgent::start().unwrap();
    run_child(
        "from_env_routes_through_the_proxy_of_the_environment",
        agent.url(),
        &proxy_vars(&proxy.url()),
    );
    let target = agent.socket_addr().unwrap();
    assert_eq!(proxy.seen(), [format!("CONNECT {target} HTTP/1.1")]);
    assert_eq!(agent.requests().len(), 1, "the request went through the tunnel");
}

#[test]
fn from_env_honours_no_proxy() {
    if let Some(url) = child_agent_url() {
        let bypass = Client::builder()
            .address(url)
            .proxy(ProxyPolicy::FromEnv)
            .build()
            .unwrap();
        assert_eq!(bypass.agent().servers().unwrap().len(), 3);
        return;
    }
    let proxy = RecordingProxy::start();
    let agent = TestAgent::start().unwrap();
    let mut vars = proxy_vars(&proxy.url());
    vars.push(("NO_PROXY", "127.0.0.1".to_owned()));
    run_child("from_env_honours_no_proxy", agent.url(), &vars);
    assert!(
        proxy.seen().is_empty(),
        "NO_PROXY did not bypass the proxy: {:?}",
        proxy.seen()
    );
    assert_eq!(agent.requests().len(), 1);
}

#[test]
fn a_socks_proxy_in_the_environment_is_refused_with_from_env_and_ignored_by_default() {
    if let Some(url) = child_agent_url() {
        let result = Client::builder()
            .address(url.clone())
            .proxy(ProxyPolicy::FromEnv)
            .build();
        assert!(matches!(result, Err(Error::Setup(_))), "{result:?}");
        let direct = Client::builder().address(url).build().unwrap();
        assert!(direct.agent().health().unwrap().is_healthy());
        return;
    }
    let agent = TestAgent::start().unwrap();
    run_child(
        "a_socks_proxy_in_the_environment_is_refused_with_from_env_and_ignored_by_default",
        agent.url(),
        &proxy_vars("socks5://127.0.0.1:1080"),
    );
    assert_eq!(agent.requests().len(), 1, "only the default client's call");
}
