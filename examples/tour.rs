//! A tour of the client.
//!
//! ```text
//! cargo run --example tour                     # against the bundled test agent (no Nomad needed)
//! NOMAD_ADDR=https://nomad:4646 NOMAD_TOKEN=… cargo run --example tour   # read-only, real agent
//! ```
//!
//! With no `NOMAD_ADDR`, it starts the bundled loopback test agent (a Nomad test double with ACLs
//! on) and walks through every agent endpoint, including the error paths. With `NOMAD_ADDR` set,
//! it reads the same `NOMAD_*` variables as the `nomad` CLI and runs only read-only calls.

use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::{AgentRole, ListMembers, Monitor, MonitorExport, Pprof};
use nomad_blocking::proto::stream::LogLevel;
use nomad_blocking::proto::terminal_safe;
use nomad_blocking::test_agent::{MonitorFeed, Role, TestAgent};
use nomad_blocking::{Client, Error, WithCallOptions};

fn main() {
    let outcome = match std::env::var("NOMAD_ADDR") {
        Ok(addr) if !addr.is_empty() => real_agent(&addr),
        _ => test_agent(),
    };
    if let Err(e) = outcome {
        eprintln!("tour failed: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            eprintln!("  caused by: {s}");
            source = s.source();
        }
        std::process::exit(1);
    }
}

fn section(title: &str) {
    println!("\n== {title}");
}

/// Prints the outcome of a call that may legitimately fail (role, ACL).
fn show<T>(what: &str, result: Result<T, Error>, ok: impl FnOnce(T)) {
    match result {
        Ok(v) => ok(v),
        Err(e) if e.is_wrong_role() => println!("{what}: not available on this agent's role ({e})"),
        Err(e) if e.is_permission_denied() => println!("{what}: permission denied ({e})"),
        Err(e) => println!("{what}: error: {e}"),
    }
}

fn read_only_calls(client: &Client) -> Result<(), Error> {
    section("GET /v1/agent/self");
    // A wrong address or TLS setting fails the tour; a token without agent:read does not.
    match client.agent().self_info() {
        Err(e) if e.is_permission_denied() => println!("self: permission denied ({e})"),
        Err(e) => return Err(e),
        Ok(me) => {
            // Text from the agent goes through `terminal_safe`: a hostile or broken endpoint cannot
            // write escape sequences into the terminal.
            let text = |value: Option<&str>| terminal_safe(value.unwrap_or("?")).to_string();
            println!(
                "node {} in region {}, datacenter {}, Nomad {}",
                text(me.node_name()),
                text(me.region()),
                text(me.datacenter()),
                text(me.version())
            );
            println!(
                "runs a server: {}, runs a client: {}, gossip member: {}",
                me.is_server(),
                me.is_client(),
                me.member_name()
                    .map_or("(none: client-only agent)".to_owned(), |name| terminal_safe(name)
                        .to_string())
            );
            if let Some(leader) = me.stat("nomad", "leader") {
                println!(
                    "stats: leader={leader} raft state={}",
                    me.stat("raft", "state").unwrap_or("?")
                );
            }
        }
    }

    section("GET /v1/agent/members");
    show("members", client.agent().members(), |m| {
        println!(
            "answered by {} ({}/{})",
            terminal_safe(&m.server_name),
            terminal_safe(&m.server_region),
            terminal_safe(&m.server_dc)
        );
        for member in &m.members {
            println!(
                "  {:<20} {:<16} {:<8} build {:<8} dc {}",
                terminal_safe(&member.name),
                member.addr.map(|a| a.to_string()).unwrap_or_default(),
                member.status,
                terminal_safe(member.build().unwrap_or("?")),
                terminal_safe(member.datacenter().unwrap_or("?"))
            );
        }
    });

    section("GET /v1/agent/servers");
    show("servers", client.agent().servers(), |s| {
        println!("known servers: {s:?}")
    });

    section("GET /v1/agent/health");
    show("health", client.agent().health(), |h| {
        for (role, check) in h.checks() {
            println!("  {:<6} ok={} ({})", role, check.ok, terminal_safe(&check.message));
        }
        println!("healthy: {}", h.is_healthy());
    });

    section("GET /v1/agent/host");
    show("host", client.agent().host(), |h| {
        let d = &h.host_data;
        println!("OS: {}", terminal_safe(&d.os));
        println!(
            "{} network addresses, {} environment variables",
            d.network.len(),
            d.environment.len()
        );
        for (mount, usage) in &d.disk {
            println!(
                "  disk {}: {} of {} MiB used",
                terminal_safe(mount),
                usage.used_mb,
                usage.disk_mb
            );
        }
    });

    section("GET /v1/agent/schedulers and GET /v1/agent/schedulers/config");
    show("schedulers", client.agent().scheduler_workers_info(), |w| {
        println!("server {} runs {} workers", w.server_id, w.schedulers.len());
        for worker in w.schedulers.iter().take(3) {
            println!(
                "  {} {:<8} {:<17} {:?}",
                &worker.id[worker.id.len().saturating_sub(8)..],
                worker.status.as_str(),
                worker.workload_status.as_str(),
                worker.enabled_schedulers
            );
        }
    });
    show("scheduler config", client.agent().scheduler_worker_config(), |c| {
        println!("num_schedulers={} enabled={:?}", c.num_schedulers, c.enabled_schedulers);
    });

    section("GET /v1/agent/monitor (a few seconds of live logs)");
    show("monitor", tail_logs(client, Duration::from_secs(3)), |()| {});

    section("GET /v1/agent/monitor/export (the start of the agent's log file)");
    show(
        "monitor export",
        client.agent().monitor_export(&MonitorExport::on_disk()),
        |stream| {
            for line in stream.take(3) {
                match line {
                    Ok(line) => println!("  | {}", terminal_safe(&line.text)),
                    Err(e) => println!("monitor export: error: {e}"),
                }
            }
        },
    );
    Ok(())
}

/// Prints the agent's live logs for `how_long`, then stops the stream from another thread.
fn tail_logs(client: &Client, how_long: Duration) -> Result<(), Error> {
    let stream = client.agent().monitor(&Monitor::new().log_level(LogLevel::Info))?;
    let stop = stream.stop_handle();
    let stopper = stop.clone();
    std::thread::spawn(move || {
        std::thread::sleep(how_long);
        stopper.stop();
    });
    let started = Instant::now();
    let mut shown = 0;
    for line in stream {
        let line = line?;
        if shown < 12 {
            println!("  | {}", terminal_safe(&line.text));
        }
        shown += 1;
    }
    let how = if stop.is_stopped() {
        "stopped with a StopHandle"
    } else {
        "ended by the agent"
    };
    println!(
        "({shown} lines in {:.1} s; the stream was {how})",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn real_agent(addr: &str) -> Result<(), Error> {
    println!("NOMAD_ADDR={addr}: running read-only calls against that agent");
    let client = Client::from_env()?;
    read_only_calls(&client)
}

fn test_agent() -> Result<(), Error> {
    const TOKEN: &str = "0b6f7c6e-tour-management-token";
    let feed = MonitorFeed::new().lines(1_000_000).pace(Duration::from_millis(200));
    let agent = TestAgent::builder().role(Role::Both).acl(TOKEN).monitor(feed).start()?;
    println!(
        "No NOMAD_ADDR set: started the bundled Nomad test agent at {}",
        agent.url()
    );
    println!("(a loopback test double that answers like a Nomad 2.0 agent, ACLs on)");

    let client = agent.client_with_token(TOKEN)?;
    read_only_calls(&client)?;

    section("PUT /v1/agent/servers?address=…");
    client.agent().set_servers(["10.0.0.7:4647", "10.0.0.8:4647"])?;
    println!("servers now: {:?}", client.agent().servers()?);

    section("PUT /v1/agent/join?address=…");
    let joined = client.agent().join(["10.0.0.4"])?;
    println!("joined {} agent(s), warning: {:?}", joined.num_joined, joined.warning);
    match client.agent().join(["10.0.0.4", "10.0.0.99"]) {
        Err(Error::Response(e)) => println!("partial failure is an error that keeps its count: {e}"),
        other => println!("unexpected: {other:?}"),
    }
    let anonymous = agent.client()?;
    let joined = anonymous.agent().join(["10.0.0.5"])?;
    println!(
        "anonymous join (Nomad 2.0 still runs it): warning = {:?}",
        joined.warning
    );

    section("PUT /v1/agent/force-leave?node=…");
    client.agent().force_leave("nomad-3.global")?;
    client.agent().force_leave_prune("nomad-2.global")?;
    for m in client.agent().members()?.members {
        println!("  {:<16} {}", terminal_safe(&m.name), m.status);
    }

    section("PUT /v1/agent/reload");
    client.agent().reload()?;
    println!("configuration reloaded");

    section("PUT /v1/agent/schedulers/config");
    let config = client
        .agent()
        .set_scheduler_worker_config(4, ["_core", "service", "batch"])?;
    println!(
        "now num_schedulers={} enabled={:?}",
        config.num_schedulers, config.enabled_schedulers
    );
    let err = client.agent().set_scheduler_worker_config(4, ["service"]).unwrap_err();
    println!("without _core (rejected before sending): {err}");

    section(
        "Gossip keyring: GET /v1/agent/keyring/list, PUT /v1/agent/keyring/install, PUT /v1/agent/keyring/use, \
         PUT /v1/agent/keyring/remove",
    );
    let new_key = "ZGVmZ2hpamtsbW5vcHFycw==";
    let keys = client.agent().list_keys()?;
    println!("{} key(s) on {} nodes", keys.keys.len(), keys.num_nodes);
    client.agent().install_key(new_key)?;
    client.agent().use_key(new_key)?;
    let keys = client.agent().list_keys()?;
    println!("after install + use: {} key(s)", keys.keys.len());
    let old: Vec<String> = keys.keys.keys().filter(|k| k.as_str() != new_key).cloned().collect();
    for key in old {
        client.agent().remove_key(key)?;
    }
    println!(
        "after removing the old key: {} key(s)",
        client.agent().list_keys()?.keys.len()
    );

    section("GET /v1/agent/pprof/<profile>");
    let cmdline = client.agent().pprof(&Pprof::cmdline())?;
    println!(
        "cmdline: {:?}",
        String::from_utf8_lossy(&cmdline.data).replace('\0', " ")
    );
    let heap = client.agent().lookup("heap")?;
    println!(
        "heap profile: {} bytes ({:?}, file {:?})",
        heap.data.len(),
        heap.content_type,
        heap.file_name
    );
    let mut sink = std::io::sink();
    let streamed = client
        .agent()
        .write_profile(&Pprof::cpu_profile().seconds(1), &mut sink)?;
    println!("1 s CPU profile streamed to a writer: {streamed} bytes");

    section("GET /v1/agent/health when the server has no leader");
    agent.with_state(|s| s.has_leader = false);
    let health = client.agent().health()?;
    println!(
        "healthy: {} (HTTP {}), problems: {:?}",
        health.is_healthy(),
        health.status,
        health.problems()
    );
    let server_only = client.call(&nomad_blocking::proto::agent::GetHealth::new().role(AgentRole::Server))?;
    println!("type=server only: {:?}", server_only.problems());
    agent.with_state(|s| s.has_leader = true);

    section("Errors are typed");
    let err = anonymous.agent().members().unwrap_err();
    println!(
        "without a token: {err}  [permission denied: {}]",
        err.is_permission_denied()
    );
    let err = client.call(&ListMembers::new().token("not-a-real-token")).unwrap_err();
    println!("per-call token override with an unknown token: {err}");
    let server_agent = TestAgent::builder().role(Role::Server).start()?;
    let err = server_agent.client()?.agent().servers().unwrap_err();
    println!(
        "servers on a server-only agent: {err}  [wrong role: {}]",
        err.is_wrong_role()
    );
    let err = Client::builder()
        .address("http://127.0.0.1:4646")
        .token("bad\ntoken")
        .build()
        .unwrap_err();
    println!("a token that cannot go on the wire: {err}");
    println!("\nThe test agent saw {} requests.", agent.requests().len());
    Ok(())
}
