//! Tails an agent's logs like `nomad monitor`.
//!
//! ```text
//! cargo run --example monitor -- -log-level=debug            # the bundled test agent
//! NOMAD_ADDR=http://127.0.0.1:4646 cargo run --example monitor -- -log-level=debug -json
//! ```
//!
//! Flags (as in `nomad monitor`): `-log-level=<trace|debug|info|warn|error>`, `-json`,
//! `-node-id=<id>`, `-server-id=<name|leader>`. With no `NOMAD_ADDR` it tails the bundled test
//! agent for a few seconds.

use std::time::Duration;

use nomad_blocking::proto::agent::{Monitor, Target};
use nomad_blocking::proto::stream::LogLevel;
use nomad_blocking::test_agent::{MonitorFeed, TestAgent};
use nomad_blocking::Client;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut op = Monitor::new();
    for arg in std::env::args().skip(1) {
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) => (f.trim_start_matches('-'), Some(v)),
            None => (arg.trim_start_matches('-'), None),
        };
        op = match (flag, value) {
            ("log-level", Some(v)) => op.log_level(v.parse::<LogLevel>()?),
            ("json", None) => op.log_json(true),
            ("node-id", Some(v)) => op.target(Target::Node(v.to_owned())),
            ("server-id", Some(v)) => op.target(Target::Server(v.to_owned())),
            _ => return Err(format!("unknown flag {arg:?}").into()),
        };
    }

    let _test_agent; // kept alive while we tail it
    let client = match std::env::var("NOMAD_ADDR") {
        Ok(a) if !a.is_empty() => Client::from_env()?,
        _ => {
            let feed = MonitorFeed::new()
                .lines(60)
                .pace(Duration::from_millis(50))
                .linger(Duration::from_secs(2));
            let agent = TestAgent::builder().monitor(feed).start()?;
            eprintln!("No NOMAD_ADDR: tailing the bundled test agent at {}", agent.url());
            let client = agent.client()?;
            _test_agent = agent;
            client
        }
    };

    let json = op.log_json;
    for line in client.agent().monitor(&op)? {
        let line = line?;
        if json {
            let r = line.record()?;
            println!(
                "{} [{}] {}: {}",
                r.timestamp,
                r.level,
                r.module.as_deref().unwrap_or("-"),
                r.message
            );
        } else {
            println!("{}", line.text);
        }
    }
    Ok(())
}
