//! `monitor`: an agent's live logs, like `nomad monitor`.
//!
//! ```text
//! cargo run --example monitor -- -log-level=debug -for 3s     # the bundled test agent
//! NOMAD_ADDR=http://127.0.0.1:4646 cargo run --example monitor -- -log-level=debug -json
//! ```
//!
//! Usage: `monitor [-log-level=<level>] [-log-include-location] [-json] [-node-id=<id> |
//! -server-id=<name|leader>] [-for <duration>]`.
//!
//! Mirrors `nomad monitor` (Nomad `command/agent_monitor.go`), with the same flags:
//! `-log-level` (`trace`, `debug`, `info`, `warn`, `error`; default `info`),
//! `-log-include-location`, `-node-id` or `-server-id` to have this agent forward the stream
//! from another, `-json` to ask the agent for JSON records. It reads
//! `GET /v1/agent/monitor` (ACL `agent:read`) until the agent ends the stream, or for the
//! `-for` duration (a Go duration such as `30s` or `1m`: the stream then ends cleanly however
//! quiet the agent is; `nomad monitor` has no such flag and runs until interrupted).
//!
//! What differs:
//!
//! - Text lines are printed with their control characters escaped (the CLI prints them raw).
//! - With `-json`, each line is parsed into a record and written back as one JSON object per
//!   line (JSON lines, as hclog writes them); a line that is not a record is reported on stderr
//!   and skipped.
//! - When the agent's buffer for this stream overflows, it replaces the lines it drops with
//!   `[WARN] Monitor dropped N logs during monitor request` (Nomad
//!   `command/agent/monitor/monitor.go`), plain text even in a JSON stream. The line is printed
//!   like the others (as a WARN record with `-json`), a notice saying how many lines were lost
//!   goes to stderr, and the stream goes on.
//!
//! With no `NOMAD_ADDR` it tails the bundled test agent, whose log (60 lines at 20 a second)
//! drops 7 lines after the 20th, to show the notice. Errors print as one line on stderr and
//! exit 1; a usage error exits 2.

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::{Monitor, Target};
use nomad_blocking::proto::stream::{LogLevel, StreamError};
use nomad_blocking::proto::ResponseError;
use nomad_blocking::test_agent::{MonitorFeed, TestAgent};
use nomad_blocking::{Client, Error, LogStream};
use support::Flags;

const USAGE: &str = "monitor [-log-level=<level>] [-log-include-location] [-json] \
                     [-node-id=<id> | -server-id=<name|leader>] [-for <duration>]";

/// The start of the line the agent sends in place of the lines it dropped.
const DROPPED_PREFIX: &str = "[WARN] Monitor dropped ";

fn main() {
    let flags = Flags::parse(
        std::env::args().skip(1),
        &["json", "log-include-location"],
        &["log-level", "node-id", "server-id", "for"],
        USAGE,
    );
    if !flags.rest.is_empty() {
        support::usage_error(USAGE, "This command takes no arguments");
    }
    let mut op = Monitor::new()
        .log_json(flags.on("json"))
        .log_include_location(flags.on("log-include-location"));
    if let Some(level) = flags.value("log-level") {
        match level.parse::<LogLevel>() {
            Ok(level) => op = op.log_level(level),
            Err(e) => support::usage_error(USAGE, &e.to_string()),
        }
    }
    match (flags.value("node-id"), flags.value("server-id")) {
        (Some(_), Some(_)) => support::usage_error(USAGE, "-node-id and -server-id cannot be used together"),
        (Some(id), None) => op = op.target(Target::Node(id.to_owned())),
        (None, Some(id)) => op = op.target(Target::Server(id.to_owned())),
        (None, None) => {}
    }
    let duration = flags.value("for").map(|_| flags.duration("for", Duration::ZERO, USAGE));
    if let Err(e) = run(&op, duration) {
        support::fail(e);
    }
}

fn run(op: &Monitor, duration: Option<Duration>) -> Result<(), Error> {
    let (client, _agent) = match support::nomad_addr() {
        Some(_) => (Client::from_env()?, None),
        None => {
            let feed = MonitorFeed::new()
                .lines(60)
                .pace(Duration::from_millis(50))
                .dropped_after(20, 7)
                .linger(Duration::from_secs(1));
            let agent = TestAgent::builder().monitor(feed).start()?;
            support::announce_demo("test agent", agent.url());
            (agent.client()?, Some(agent))
        }
    };

    let started = Instant::now();
    let stream = match duration {
        Some(d) => client.stream_for(op, d)?,
        None => client.stream(op)?,
    };
    let deadline = stream.deadline();
    if op.log_json {
        print_records(stream)?;
    } else {
        print_lines(stream)?;
    }
    match (duration, deadline) {
        (Some(d), Some(at)) if Instant::now() >= at => {
            eprintln!("monitor: stopped after {} (-for)", support::show_duration(d));
        }
        _ => eprintln!(
            "monitor: the agent ended the stream after {:.1} s",
            started.elapsed().as_secs_f64()
        ),
    }
    Ok(())
}

/// The agent's notice that it dropped `count` lines: said on stderr; the stream goes on.
fn dropped_notice(count: u64) {
    eprintln!("notice: the agent dropped {count} log lines (its buffer for this stream overflowed); reading on");
}

fn print_lines(stream: LogStream) -> Result<(), Error> {
    for line in stream {
        let line = line?;
        support::outln(&support::esc(&line.text));
        if line.text.starts_with(DROPPED_PREFIX) {
            if let Some(count) = line.record().ok().and_then(|r| r.dropped()) {
                dropped_notice(count);
            }
        }
    }
    Ok(())
}

fn print_records(stream: LogStream) -> Result<(), Error> {
    for record in stream.records() {
        match record {
            Ok(record) => {
                support::print_json_line(&record);
                if let Some(count) = record.dropped() {
                    dropped_notice(count);
                }
            }
            // A line that is not a record: said, and skipped (the stream itself is fine).
            Err(Error::Response(ResponseError::Stream(e @ StreamError::InvalidRecord { .. }))) => {
                eprintln!("skipped a line that is not a JSON log record: {e}");
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
