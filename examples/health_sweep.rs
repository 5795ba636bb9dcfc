//! `health_sweep`: the health of every server, each asked at its own HTTP API, in parallel.
//!
//! ```text
//! cargo run --example health_sweep                     # the bundled 3-server test cluster
//! cargo run --example health_sweep -- -timeout 1s -demo-down
//! NOMAD_ADDR=https://nomad.example:4646 NOMAD_TOKEN=… cargo run --example health_sweep -- \
//!     -address-template 'https://{{addr}}:4646'
//! ```
//!
//! Usage: `health_sweep [-json] [-timeout <duration>] [-address-template <template>] [-demo-down]`.
//!
//! No `nomad` command does this: `nomad server members` shows what gossip thinks of each server,
//! and `GET /v1/agent/health` answers for the one agent you ask. The sweep asks one agent for
//! the members (`GET /v1/agent/members`), then every server member that has not left, each at
//! its own HTTP address and in its own thread, for `GET /v1/agent/health` and, when that
//! answered, `GET /v1/agent/self` (for its version and whether it leads). It prints a table:
//! `Name Address Reachable Healthy Problems Version Leader`.
//!
//! Gossip members carry their gossip address, not their HTTP one: a member's HTTP address is
//! built from the template, `<scheme>://{{addr}}:<port>` by default with the scheme and port of
//! `NOMAD_ADDR`; `-address-template` replaces it (`{{addr}}` is the member's address, an IPv6
//! one in brackets; `{{name}}` its node name, e.g. `nomad-2`). Every member's client reads the
//! other `NOMAD_*` settings (token, CA, `NOMAD_TLS_SERVER_NAME`, …) as the `nomad` CLI does.
//!
//! Each member has its own client whose connect, read and call timeouts are `-timeout`
//! (default 5s), so a member that is down or hangs costs that much in its own thread, and never
//! stalls the others: the sweep takes about the slowest member's time, at most about two
//! timeouts. Exit code: 0 when every server answered and is healthy, 1 when one is unhealthy or
//! unreachable (or the members cannot be read), 2 for a usage error. `-json` prints one JSON
//! array, an object per server, holding the agent's health answer as it sent it.
//!
//! With no `NOMAD_ADDR` it starts the bundled test cluster (three healthy servers on
//! `127.0.0.1` to `127.0.0.3`, one HTTP port). Demo knob (refused with `NOMAD_ADDR`):
//! `-demo-down` starts four servers instead, the third slow (it answers three timeouts late)
//! and the fourth down, so the sweep shows both and exits 1 in about one timeout.

#[path = "support/mod.rs"]
mod support;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::{AgentMember, HealthReport, MemberStatus};
use nomad_blocking::test_agent::TestCluster;
use nomad_blocking::{Client, ClientBuilder, Error};
use serde_json::json;
use support::Flags;

const USAGE: &str = "health_sweep [-json] [-timeout <duration>] [-address-template <template>] [-demo-down]";

/// What was learned about one server.
struct Checked {
    name: String,
    url: String,
    /// The health answer, when the member answered it.
    health: Result<HealthReport, Error>,
    /// Its `self`, asked only when health answered.
    me: Option<Result<nomad_blocking::proto::agent::AgentSelf, Error>>,
    took: Duration,
}

impl Checked {
    fn reachable(&self) -> bool {
        match &self.health {
            Ok(_) => true,
            // An error status is an answer: the agent is up, and not healthy. A transport error
            // (or an address that cannot be used) is no answer.
            Err(e) => e.as_response().is_some(),
        }
    }
    fn healthy(&self) -> bool {
        matches!(&self.health, Ok(h) if h.is_healthy())
    }
    fn problems(&self) -> Vec<String> {
        match &self.health {
            Ok(h) => h.problems(),
            Err(e) => vec![e.to_string()],
        }
    }
    fn version(&self) -> Option<&str> {
        self.me.as_ref()?.as_ref().ok()?.version()
    }
    fn leader(&self) -> Option<bool> {
        let me = self.me.as_ref()?.as_ref().ok()?;
        Some(me.stat("nomad", "leader") == Some("true"))
    }
}

fn main() {
    let flags = Flags::parse(
        std::env::args().skip(1),
        &["json", "demo-down"],
        &["timeout", "address-template"],
        USAGE,
    );
    if !flags.rest.is_empty() {
        support::usage_error(USAGE, "This command takes no arguments");
    }
    let timeout = flags.duration("timeout", Duration::from_secs(5), USAGE);
    if timeout.is_zero() {
        support::usage_error(USAGE, "-timeout must be more than 0");
    }
    let real = support::nomad_addr().is_some();
    if flags.on("demo-down") && real {
        support::usage_error(
            USAGE,
            "-demo-down is a knob of the bundled test cluster: unset NOMAD_ADDR",
        );
    }
    let template = flags.value("address-template").map(str::to_owned);
    if let Some(t) = &template {
        if !t.contains("{{addr}}") && !t.contains("{{name}}") {
            support::usage_error(USAGE, "-address-template must hold {{addr}} or {{name}}");
        }
    }

    // The bundled cluster, if any, lives until the end of `main`.
    let mut cluster = None;
    if !real {
        let mut builder = TestCluster::builder().servers(3).leader(0);
        if flags.on("demo-down") {
            let slow = (timeout * 3).max(Duration::from_secs(2));
            builder = TestCluster::builder().servers(4).leader(0).slow(2, slow).down(3);
        }
        match builder.start() {
            Ok(c) => cluster = Some(c),
            Err(e) => support::fail(e),
        }
    }
    let seed_url = cluster.as_ref().map(|c| c.member(0).expect("a first member").url());
    if let Some(url) = &seed_url {
        support::announce_demo("test cluster", url);
    }
    let code = match sweep(seed_url.as_deref(), template, timeout, flags.on("json")) {
        Ok(all_healthy) => i32::from(!all_healthy),
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    // Exit now: a slow member of the bundled cluster may still be sleeping on a request.
    std::process::exit(code);
}

/// A client builder with the sweep's timeouts: from `NOMAD_*`, or bare for the test cluster.
fn builder(demo: bool, timeout: Duration) -> ClientBuilder {
    let builder = if demo {
        Client::builder()
    } else {
        Client::builder().env()
    };
    builder
        .connect_timeout(Some(timeout))
        .read_timeout(Some(timeout))
        .call_timeout(Some(timeout))
}

/// Sweeps the servers; true when every one answered and is healthy.
fn sweep(seed_url: Option<&str>, template: Option<String>, timeout: Duration, json: bool) -> Result<bool, Error> {
    let started = Instant::now();
    let demo = seed_url.is_some();
    let mut seed = builder(demo, timeout);
    if let Some(url) = seed_url {
        seed = seed.address(url);
    }
    let seed = seed.build()?;
    let template = match template {
        Some(t) => t,
        None => default_template(&seed).unwrap_or_else(|why| support::usage_error(USAGE, &why)),
    };

    let mut members: Vec<AgentMember> = seed
        .agent()
        .members()?
        .members
        .into_iter()
        .filter(|m| m.is_server() && m.status != MemberStatus::Left)
        .collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    if members.is_empty() {
        support::fail("the member list holds no server");
    }

    let checked: Vec<Checked> = std::thread::scope(|scope| {
        let threads: Vec<_> = members
            .iter()
            .map(|m| {
                let url = member_url(&template, m);
                scope.spawn(move || check(m, url, demo, timeout))
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a sweep thread does not panic"))
            .collect()
    });

    let all_healthy = checked.iter().all(|c| c.reachable() && c.healthy());
    if json {
        support::print_json(&checked.iter().map(to_json).collect::<Vec<_>>());
    } else {
        support::out(&table(&checked));
        for c in &checked {
            if let Some(Err(e)) = &c.me {
                eprintln!("note: {}: self: {e}", support::esc(&c.name));
            }
        }
    }
    let unhealthy = checked.iter().filter(|c| !(c.reachable() && c.healthy())).count();
    eprintln!(
        "swept {} servers in {:.2} s (timeout {} per call): {}",
        checked.len(),
        started.elapsed().as_secs_f64(),
        support::show_duration(timeout),
        if all_healthy {
            "all healthy".to_owned()
        } else {
            format!("{unhealthy} unhealthy or unreachable")
        }
    );
    Ok(all_healthy)
}

/// `<scheme>://{{addr}}:<port>` from the client's address; a Unix socket has no such form.
fn default_template(client: &Client) -> Result<String, String> {
    let address = client.config().address();
    if address.socket_path().is_some() {
        return Err("NOMAD_ADDR is a Unix socket: give the servers' HTTP address with -address-template".into());
    }
    let scheme = if address.is_tls() { "https" } else { "http" };
    let port = address.port().unwrap_or(if address.is_tls() { 443 } else { 80 });
    Ok(format!("{scheme}://{{{{addr}}}}:{port}"))
}

/// The member's HTTP address from the template.
fn member_url(template: &str, member: &AgentMember) -> String {
    let addr = match member.addr {
        Some(IpAddr::V6(ip)) => format!("[{ip}]"),
        Some(ip) => ip.to_string(),
        None => String::new(),
    };
    template
        .replace("{{addr}}", &addr)
        .replace("{{name}}", member.node_name())
}

/// Health, then self, of one member, with its own client and timeouts.
fn check(member: &AgentMember, url: String, demo: bool, timeout: Duration) -> Checked {
    let started = Instant::now();
    let client = builder(demo, timeout).address(url.clone()).build();
    let (health, me) = match client {
        Err(e) => (Err(e), None),
        Ok(client) => {
            let health = client.agent().health();
            // An agent that did not answer is not asked again: one timeout per dead member.
            let me = health.is_ok().then(|| client.agent().self_info());
            (health, me)
        }
    };
    Checked {
        name: member.name.clone(),
        url,
        health,
        me,
        took: started.elapsed(),
    }
}

fn table(checked: &[Checked]) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let mut rows = vec![[
        "Name",
        "Address",
        "Reachable",
        "Healthy",
        "Problems",
        "Version",
        "Leader",
    ]
    .map(str::to_owned)
    .to_vec()];
    for c in checked {
        let problems = c.problems().join("; ");
        rows.push(vec![
            c.name.clone(),
            c.url.clone(),
            yes_no(c.reachable()),
            yes_no(c.healthy()),
            if problems.is_empty() { "-".into() } else { problems },
            c.version().unwrap_or("?").to_owned(),
            c.leader().map_or("?".into(), |l| l.to_string()),
        ]);
    }
    support::columnize(&rows)
}

fn to_json(c: &Checked) -> serde_json::Value {
    json!({
        "Name": c.name,
        "Address": c.url,
        "Reachable": c.reachable(),
        "Healthy": c.healthy(),
        "Problems": c.problems(),
        "Version": c.version(),
        "Leader": c.leader(),
        "Health": c.health.as_ref().ok(),
        "Error": c.health.as_ref().err().map(ToString::to_string),
        "SelfError": c.me.as_ref().and_then(|m| m.as_ref().err()).map(ToString::to_string),
        "Seconds": c.took.as_secs_f64(),
    })
}
