//! `agent_info`: the local agent's identity and runtime stats, like `nomad agent-info`.
//!
//! ```text
//! cargo run --example agent_info                      # the bundled test agent
//! NOMAD_ADDR=https://nomad.example:4646 NOMAD_TOKEN=… cargo run --example agent_info -- -json
//! ```
//!
//! Usage: `agent_info [-json]`. One call, `GET /v1/agent/self` (ACL `agent:read`).
//!
//! Mirrors `nomad agent-info` (Nomad `command/agent_info.go`): each stats group (`client`,
//! `nomad`, `raft`, `runtime`, `serf`, …) as a section of `key = value` lines, groups and keys
//! sorted. What differs: a header comes first, the agent's name, version, region, datacenter
//! and roles, then a blank line; everything after that blank line is what the CLI prints. The
//! agent's text is printed with its control characters escaped. `-json` prints the answer as
//! the agent sent it (config, member, stats), like the CLI's `-json`; there is no `-t`.
//!
//! With no `NOMAD_ADDR` it starts the bundled test agent (a server and client in one); with it,
//! it reads the `NOMAD_*` variables as the `nomad` CLI does. Errors print as one line on stderr
//! and exit 1; a usage error exits 2.

#[path = "support/mod.rs"]
mod support;

use nomad_blocking::proto::agent::AgentSelf;
use nomad_blocking::test_agent::TestAgent;
use nomad_blocking::{Client, Error};
use support::{esc, Flags};

const USAGE: &str = "agent_info [-json]";

fn main() {
    let flags = Flags::parse(std::env::args().skip(1), &["json"], &[], USAGE);
    if !flags.rest.is_empty() {
        support::usage_error(USAGE, "This command takes no arguments");
    }
    if let Err(e) = run(flags.on("json")) {
        support::fail(e);
    }
}

fn run(json: bool) -> Result<(), Error> {
    // The test agent, if any, lives until the end of `run`.
    let (client, _agent) = match support::nomad_addr() {
        Some(_) => (Client::from_env()?, None),
        None => {
            let agent = TestAgent::start()?;
            support::announce_demo("test agent", agent.url());
            (agent.client()?, Some(agent))
        }
    };
    let me = client.agent().self_info()?;
    if json {
        support::print_json(&me);
    } else {
        support::out(&render(&me));
    }
    Ok(())
}

/// The header, a blank line, then the stats groups as `nomad agent-info` prints them.
fn render(me: &AgentSelf) -> String {
    let unknown = |v: Option<&str>| v.map(esc).unwrap_or_else(|| "(unknown)".into());
    let mut roles = Vec::new();
    if me.is_server() {
        roles.push("server");
    }
    if me.is_client() {
        roles.push("client");
    }
    let mut out = String::new();
    let header = [
        ("Name", unknown(me.node_name())),
        ("Member", me.member_name().map_or("(none: a client agent)".into(), esc)),
        ("Version", unknown(me.version())),
        ("Region", unknown(me.region())),
        ("Datacenter", unknown(me.datacenter())),
        ("Roles", roles.join(", ")),
    ];
    for (key, value) in header {
        out.push_str(&format!("{key:<10} = {value}\n"));
    }
    out.push('\n');
    // `stats` is a BTreeMap of BTreeMaps: groups and keys come sorted, as the CLI sorts them.
    for (group, stats) in &me.stats {
        out.push_str(&format!("{}\n", esc(group)));
        for (key, value) in stats {
            out.push_str(&format!("  {} = {}\n", esc(key), esc(value)));
        }
    }
    out
}
