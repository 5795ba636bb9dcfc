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

use std::process::Command;

use nomad_blocking::test_agent::TestAgent;
use nomad_blocking::{Client, Error, ProxyPolicy};
use support::proxy::RecordingProxy;

/// Set in a child process: the test agent's URL. Its presence makes a test run its child part.
const CHILD_AGENT_URL: &str = "PROXY_ENV_TEST_AGENT_URL";

/// The agent URL when running as the child of a test.
fn child_agent_url() -> Option<String> {
    std::env::var(CHILD_AGENT_URL).ok()
}

/// Whether a variable of the parent's environment must not reach a child: `NOMAD_*` and proxy
/// settings (the child gets only the ones its scenario sets).
fn inherited_setting(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("NOMAD_") || upper.ends_with("_PROXY") || upper == CHILD_AGENT_URL
}

/// Runs `test` (this test's own name) alone in a child process with `vars` set, and fails with
/// the child's output unless its test ran and passed.
fn run_child(test: &str, agent: &TestAgent, vars: &[(&str, String)]) {
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = Command::new(exe);
    command.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (name, _) in std::env::vars_os() {
        if inherited_setting(&name.to_string_lossy()) {
            command.env_remove(name);
        }
    }
    command.env(CHILD_AGENT_URL, agent.url());
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().expect("run the child process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child `{test}` failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

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
    run_child("the_default_policy_ignores_the_proxy_environment", &agent, &vars);
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
        &agent,
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
    run_child("from_env_honours_no_proxy", &agent, &vars);
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
        &agent,
        &proxy_vars("socks5://127.0.0.1:1080"),
    );
    assert_eq!(agent.requests().len(), 1, "only the default client's call");
}
