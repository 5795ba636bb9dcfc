//! nomad-proto from an async (tokio) program: the sans-IO operations sent with hyper 1 over
//! HTTP/1.1, TLS from nomad-blocking's public rustls setup, log streams decoded as they arrive.
//!
//! ```text
//! cargo run --example async_tokio                                # the bundled test agent
//! NOMAD_ADDR=http://127.0.0.1:4646 cargo run --example async_tokio
//! NOMAD_ADDR=https://nomad.example:4646 NOMAD_CACERT=ca.pem \
//!   NOMAD_CLIENT_CERT=cli.pem NOMAD_CLIENT_KEY=cli-key.pem cargo run --example async_tokio
//! NOMAD_ADDR=unix:///secrets/api.sock NOMAD_TOKEN=… cargo run --example async_tokio
//! ```
//!
//! It lists the gossip members, reads the agent's health, then tails its log for 3 seconds
//! (`ASYNC_TAIL_SECS` to change it). Settings come from the `NOMAD_*` variables exactly as the
//! blocking client reads them (`Config::from_env`); against a real agent it makes read-only
//! calls only. With no `NOMAD_ADDR` it starts the bundled test agent (nomad-blocking's
//! `test-agent` feature) and checks what it got: members, a healthy report, log lines. On any
//! failure it prints one line, `error: …`, and exits with status 1.
//!
//! `nomad_async.rs` beside this file is the part to copy: an `AsyncClient` with a generic
//! `call(&op)` for any `Endpoint`, `stream(&op)` for the log streams, and typed errors. It needs
//! these crates (each with its default features off), plus nomad-proto and, for `https://`,
//! nomad-blocking's `tls` feature (which also builds ureq, unused here):
//!
//! ```toml
//! tokio = { version = "1.43", default-features = false, features = ["rt", "net", "time"] }
//! hyper = { version = "1.6", default-features = false, features = ["client", "http1"] }
//! hyper-util = { version = "0.1.10", default-features = false, features = ["tokio"] }
//! http-body-util = "0.1.2"
//! tokio-rustls = { version = "0.26", default-features = false }
//! thiserror = "2"
//! nomad-proto = "0.1"
//! nomad-blocking = { version = "0.1", default-features = false, features = ["tls"] }
//! ```
//!
//! Why hyper rather than reqwest: hyper's connection takes any byte stream, so the TLS session
//! is opened by tokio-rustls with the very `ClientConfig` and server name the blocking client
//! uses (reqwest accepts a rustls config but verifies the certificate against the URL's host, so
//! `NOMAD_TLS_SERVER_NAME` would need the URL rewritten and the name resolved by hand), and a
//! `unix://` socket is one more stream. Its HTTP/1.1-only client is what Nomad's agent speaks.
//! And it is small: these crates with tokio and rustls are 33 crates, where reqwest 0.12 with
//! rustls and no default features is 91 (url, idna and ICU, tower, futures-util, …).

mod nomad_async;

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use nomad_async::AsyncClient;
use nomad_blocking::test_agent::{MonitorFeed, TestAgent};
use nomad_proto::agent::{GetHealth, ListMembers, Monitor};
use nomad_proto::{terminal_safe, Config};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let tail = match std::env::var("ASYNC_TAIL_SECS") {
        Ok(secs) => Duration::from_secs(
            secs.parse()
                .map_err(|_| format!("ASYNC_TAIL_SECS={secs:?} is not a number of seconds"))?,
        ),
        Err(_) => Duration::from_secs(3),
    };
    // The test agent serves on threads of its own: it is started (and dropped) outside the
    // runtime, and the async client talks to it over loopback like to any agent.
    let test_agent = match std::env::var("NOMAD_ADDR") {
        Ok(address) if !address.is_empty() => None,
        _ => {
            // A log line every 100 ms for as long as the stream is read.
            let agent = TestAgent::builder().monitor(MonitorFeed::endless()).start()?;
            eprintln!("No NOMAD_ADDR: using the bundled test agent at {}", agent.url());
            Some(agent)
        }
    };
    let config = match &test_agent {
        Some(agent) => Config::builder().address(agent.url()).build()?,
        None => Config::from_env()?,
    };

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let seen = runtime.block_on(tour(config, tail))?;

    if test_agent.is_some() {
        // The test agent's answers are known: check that the async path got them whole.
        if seen.members == 0 || !seen.healthy || seen.log_lines == 0 {
            return Err(format!(
                "the test agent's answers did not come through: {} members, healthy: {}, {} log lines",
                seen.members, seen.healthy, seen.log_lines
            )
            .into());
        }
        eprintln!("ok: the test agent's members, health and log lines came through");
    }
    Ok(())
}

/// What the tour saw.
struct Seen {
    members: usize,
    healthy: bool,
    log_lines: u64,
}

async fn tour(config: Config, tail: Duration) -> Result<Seen, Box<dyn Error>> {
    let client = AsyncClient::new(config)?;
    println!("agent: {}", client.config().address());

    let members = client.call(&ListMembers::new()).await?;
    // Text from the agent is printed through `terminal_safe`: its control characters escaped.
    println!(
        "{} members in {} (region {})",
        members.members.len(),
        terminal_safe(&members.server_dc),
        terminal_safe(&members.server_region)
    );
    for member in &members.members {
        let addr = member.addr.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
        println!(
            "  {:<24} {addr}:{} {}",
            terminal_safe(&member.name),
            member.port,
            member.status
        );
    }

    let health = client.call(&GetHealth::new()).await?;
    if health.is_healthy() {
        println!("health: ok");
    } else {
        println!("health: {}", health.problems().join("; "));
    }

    let mut stream = client.stream(&Monitor::new()).await?;
    let mut log_lines = 0;
    let tailing = stream.for_each_line(|line| {
        log_lines += 1;
        println!("log: {}", terminal_safe(&line.text));
    });
    let how = match tokio::time::timeout(tail, tailing).await {
        Ok(ended) => ended.map(|()| "the agent ended the stream")?,
        // Dropping the stream (here, at the end of the function) closes the connection.
        Err(_) => "stopped",
    };
    println!(
        "log: {log_lines} lines, {} heartbeats in {tail:?} ({how})",
        stream.decoder().heartbeats()
    );

    Ok(Seen {
        members: members.members.len(),
        healthy: health.is_healthy(),
        log_lines,
    })
}
