//! `server_members`: the servers of the gossip pool and which one leads, like
//! `nomad server members`.
//!
//! ```text
//! cargo run --example server_members                  # the bundled 3-server test cluster
//! cargo run --example server_members -- -detailed -demo-down
//! NOMAD_ADDR=https://nomad.example:4646 NOMAD_TOKEN=… cargo run --example server_members -- -json
//! ```
//!
//! Usage: `server_members [-detailed|-verbose] [-json] [-demo-down]`.
//!
//! Mirrors `nomad server members` (Nomad `command/server_members.go`): the same columns in the
//! same order (`Name Address Port Status Leader Raft Version Build Datacenter Region`; with
//! `-detailed` or `-verbose`, `Name Address Port Status Leader Protocol Raft Version Build
//! Datacenter Region Tags`), members sorted by region, datacenter and name. The leader is
//! decided as the CLI decides it: for each region with a member that has not left, ask
//! `GET /v1/status/leader?region=<region>` for the leader's RPC address, and mark the member
//! whose `<Addr>:<port tag>` it is. A region whose leader cannot be found is reported after the
//! table, and the exit code is then 1, as with the CLI. `-json` prints the members as the CLI
//! does (a JSON array of the agent's member objects, each with a `Leader` tag added).
//!
//! What differs: the tags of `-detailed` are sorted by name (the CLI prints them in Go's random
//! map order); there is no `-t`; the agent's text is printed with its control characters
//! escaped.
//!
//! With no `NOMAD_ADDR` it starts the bundled test cluster: three servers on `127.0.0.1` to
//! `127.0.0.3`, the first one leading. Demo knob: `-demo-down` takes the third server down
//! (the others list it `failed`); it is refused with `NOMAD_ADDR`. Calls: `GET
//! /v1/agent/members` (ACL `node:read`), `GET /v1/status/leader`. Errors print as one line on
//! stderr and exit 1; a usage error exits 2.

#[path = "support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use nomad_blocking::proto::agent::{AgentMember, MemberStatus};
use nomad_blocking::proto::Raw;
use nomad_blocking::test_agent::TestCluster;
use nomad_blocking::{Client, Error, WithCallOptions};
use support::Flags;

const USAGE: &str = "server_members [-detailed|-verbose] [-json] [-demo-down]";

fn main() {
    let flags = Flags::parse(
        std::env::args().skip(1),
        &["detailed", "verbose", "json", "demo-down"],
        &[],
        USAGE,
    );
    if !flags.rest.is_empty() {
        support::usage_error(USAGE, "This command takes no arguments");
    }
    let demo_down = flags.on("demo-down");
    let real = support::nomad_addr().is_some();
    if demo_down && real {
        support::usage_error(
            USAGE,
            "-demo-down is a knob of the bundled test cluster: unset NOMAD_ADDR",
        );
    }
    let verbose = flags.on("detailed") || flags.on("verbose");
    match run(real, demo_down, verbose, flags.on("json")) {
        Ok(code) => std::process::exit(code),
        Err(e) => support::fail(e),
    }
}

fn run(real: bool, demo_down: bool, verbose: bool, json: bool) -> Result<i32, Error> {
    let (client, _cluster) = if real {
        (Client::from_env()?, None)
    } else {
        let mut cluster = TestCluster::builder().servers(3).leader(0);
        if demo_down {
            cluster = cluster.down(2);
        }
        let cluster = cluster.start()?;
        let seed = cluster.member(0).expect("a cluster has a first member");
        support::announce_demo("3-server test cluster", &seed.url());
        (seed.client()?, Some(cluster))
    };

    let mut members = client.agent().members()?.members;
    // As Go's `api.AgentMembersNameSort`: by region, then datacenter, then name.
    members.sort_by(|a, b| (a.region(), a.datacenter(), &a.name).cmp(&(b.region(), b.datacenter(), &b.name)));
    let (leaders, problems) = region_leaders(&client, &members);
    let is_leader = |m: &AgentMember| -> bool {
        let Some(ip) = m.addr else { return false };
        let rpc_port = m.tag("port").and_then(|p| p.parse::<u16>().ok());
        let region = m.region().unwrap_or("");
        match (rpc_port, leaders.get(region)) {
            (Some(port), Some(leader)) => SocketAddr::new(ip, port).to_string() == *leader,
            _ => false,
        }
    };

    if json {
        // As the CLI: the members, each with its `Leader` tag.
        let tagged: Vec<AgentMember> = members
            .iter()
            .map(|m| {
                let mut m = m.clone();
                let leader = is_leader(&m).to_string();
                m.tags.insert("Leader".into(), leader);
                m
            })
            .collect();
        support::print_json(&tagged);
    } else {
        support::out(&table(&members, verbose, &is_leader));
    }
    if problems.is_empty() {
        return Ok(0);
    }
    if !json {
        support::outln("");
    }
    eprintln!("Error determining leaders: {}", problems.join("; "));
    Ok(1)
}

/// The leader's RPC address of each region that has a member which has not left, as the CLI's
/// `regionLeaders` finds them, and the regions whose leader could not be found.
fn region_leaders(client: &Client, members: &[AgentMember]) -> (BTreeMap<String, String>, Vec<String>) {
    let regions: BTreeSet<&str> = members
        .iter()
        .filter(|m| m.status != MemberStatus::Left)
        .map(|m| m.region().unwrap_or(""))
        .collect();
    let mut leaders = BTreeMap::new();
    let mut problems = Vec::new();
    for region in regions {
        let op = Raw::get("/v1/status/leader").json::<String>().region(region);
        match client.call(&op) {
            Ok(leader) if !leader.is_empty() => {
                leaders.insert(region.to_owned(), leader);
            }
            Ok(_) => problems.push(format!("Region {:?}: no cluster leader", support::esc(region))),
            Err(e) => problems.push(format!("Region {:?}: {e}", support::esc(region))),
        }
    }
    (leaders, problems)
}

fn table(members: &[AgentMember], verbose: bool, is_leader: &dyn Fn(&AgentMember) -> bool) -> String {
    let header: &[&str] = if verbose {
        &[
            "Name",
            "Address",
            "Port",
            "Status",
            "Leader",
            "Protocol",
            "Raft Version",
            "Build",
            "Datacenter",
            "Region",
            "Tags",
        ]
    } else {
        &[
            "Name",
            "Address",
            "Port",
            "Status",
            "Leader",
            "Raft Version",
            "Build",
            "Datacenter",
            "Region",
        ]
    };
    let mut rows = vec![header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    for m in members {
        let tag = |key: &str| m.tag(key).unwrap_or("").to_owned();
        let mut row = vec![
            m.name.clone(),
            m.addr.map(|a| a.to_string()).unwrap_or_default(),
            m.port.to_string(),
            m.status.to_string(),
            is_leader(m).to_string(),
        ];
        if verbose {
            row.push(m.protocol_cur.to_string());
        }
        row.extend([tag("raft_vsn"), tag("build"), tag("dc"), tag("region")]);
        if verbose {
            let tags: Vec<String> = m.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            row.push(tags.join(","));
        }
        rows.push(row);
    }
    support::columnize(&rows)
}
