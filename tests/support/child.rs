//! Tests that depend on the process environment (`NOMAD_*`, `SSL_CERT_*`, proxy variables) run
//! their client part in a child process of their own test binary, with exactly the variables
//! their scenario needs: no test changes the environment of a running process.
//!
//! A test calls [`child_agent_url`] first: `Some(url)` means it is the child and makes the calls
//! against `url`; otherwise it is the parent, starts what the child needs and calls
//! [`run_child`] with its own name.

use std::process::Command;

/// Set in a child process: the test agent's URL. Its presence makes a test run its child part.
const CHILD_AGENT_URL: &str = "NOMAD_BLOCKING_TEST_CHILD_AGENT_URL";

/// The agent URL when running as the child of a test.
pub fn child_agent_url() -> Option<String> {
    std::env::var(CHILD_AGENT_URL).ok()
}

/// Whether a variable of the parent's environment must not reach a child: the settings the
/// client reads (`NOMAD_*`, `SSL_CERT_*`, proxies); the child gets only those its scenario sets.
fn inherited_setting(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper.starts_with("NOMAD_") || upper.starts_with("SSL_CERT_") || upper.ends_with("_PROXY")
}

/// Runs `test` (the calling test's own name) alone in a child process with `vars` set and the
/// agent at `agent_url`, and fails with the child's output unless its test ran and passed.
pub fn run_child(test: &str, agent_url: &str, vars: &[(&str, String)]) {
    let exe = std::env::current_exe().expect("the test binary");
    let mut command = Command::new(exe);
    command.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (name, _) in std::env::vars_os() {
        if inherited_setting(&name.to_string_lossy()) {
            command.env_remove(name);
        }
    }
    command.env(CHILD_AGENT_URL, agent_url);
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
