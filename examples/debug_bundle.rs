//! `debug_bundle`: the agent part of `nomad operator debug`: one agent's state, profiles and
//! logs, written as a directory (or a `.tar.gz`) with an index.
//!
//! ```text
//! cargo run --example debug_bundle -- -duration 3s               # the bundled test agent
//! cargo run --example debug_bundle -- -duration 2s -demo-client -archive
//! NOMAD_ADDR=https://nomad.example:4646 NOMAD_TOKEN=… cargo run --example debug_bundle -- \
//!     -server-id leader -duration 30s -archive
//! ```
//!
//! Usage: `debug_bundle [-duration <d>] [-pprof-duration <d>] [-log-level <level>]
//! [-node-id <id> | -server-id <name|leader>] [-output <dir>] [-archive] [-json] [-demo-client]`.
//!
//! It writes `nomad-debug-<UTC time>/` under `-output` (default: the current directory):
//!
//! | file | call | agent |
//! |---|---|---|
//! | `agent-self.json` | `GET /v1/agent/self` | the one you talk to |
//! | `members.json` | `GET /v1/agent/members` | the one you talk to |
//! | `health.json` | `GET /v1/agent/health` | the one you talk to |
//! | `host.json` | `GET /v1/agent/host` | the target |
//! | `scheduler-workers.json` | `GET /v1/agent/schedulers` (servers only) | the one you talk to |
//! | `pprof/profile.prof` | `GET /v1/agent/pprof/profile?seconds=<pprof-duration>` | the target |
//! | `pprof/heap.prof`, `pprof/goroutine.prof` | `GET /v1/agent/pprof/<name>` | the target |
//! | `monitor.log` | `GET /v1/agent/monitor?log_level=<level>` for `-duration` | the target |
//!
//! and `index.json` (every item: its file, call, agent, size in bytes, time, and its error if
//! it failed) with `index.txt`, the same as a table. The logs and the CPU profile are recorded
//! in parallel with the rest, so the bundle takes about `-duration` (default 10s;
//! `-pprof-duration` defaults to 1s, at most `-duration`). The target is the agent you talk to,
//! or the client or server named by `-node-id` / `-server-id`, to which that agent forwards
//! the calls that can be forwarded (host, profiles, logs); the others have no such parameter
//! and always answer for the agent you talk to, as the index says.
//!
//! One failing item never stops the bundle: a 403 on the profiles (they need `agent:write`, or
//! `enable_debug` with ACLs off), the `Server only endpoint` error of the scheduler workers on a
//! client, a lost log stream each end up as that item's error in the index. The exit code is 0 when the bundle
//! was written and at least one item collected, else 1; 2 for a usage error. `-archive` packs
//! the directory into `nomad-debug-<UTC time>.tar.gz` (and removes the directory); `-json`
//! prints `index.json` instead of the table.
//!
//! Secrets: every JSON file is written from the library's typed answers (no request is ever
//! written, so neither is the token that went with it), and the agent redacts its own secrets
//! from `self` and `host`. As a last guard, every file is searched for the ACL token after it
//! is written: a file that holds it is deleted, and its item says so.
//!
//! Mirrors the agent part of `nomad operator debug` (Nomad `command/operator_debug.go`). What
//! differs: one target, not every server and node; no cluster-wide state (jobs, nodes,
//! evaluations, …), Consul, Vault or event stream, which are not agent endpoints; no periodic
//! snapshots (`-interval`); profiles once, not every `-pprof-interval`; the index names each
//! item's size and error (the CLI's `index.json` lists file names).
//!
//! With no `NOMAD_ADDR` it starts the bundled test agent (server and client, ACLs on, its
//! management token used). Demo knob (refused with `NOMAD_ADDR`): `-demo-client` makes it a
//! client-only agent whose token has `agent:read` and `node:read` only, so the profiles fail
//! with 403 and the scheduler workers as server-only, and the bundle is written anyway.

#[path = "support/mod.rs"]
mod support;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nomad_blocking::proto::agent::{Monitor, Pprof, Target};
use nomad_blocking::proto::stream::LogLevel;
use nomad_blocking::test_agent::{Capability, MonitorFeed, Role, TestAgent};
use nomad_blocking::{Client, Error};
use serde::Serialize;
use serde_json::json;
use support::Flags;

const USAGE: &str = "debug_bundle [-duration <d>] [-pprof-duration <d>] [-log-level <level>] \
                     [-node-id <id> | -server-id <name|leader>] [-output <dir>] [-archive] [-json] [-demo-client]";

/// The token of the bundled test agent: `grep` a demo bundle for it to see that it is not there.
const DEMO_TOKEN: &str = "demo-debug-bundle-token-4f1c9e2a";

struct Settings {
    duration: Duration,
    pprof_duration: Duration,
    log_level: LogLevel,
    target: Target,
    output: PathBuf,
    archive: bool,
    json: bool,
}

/// One item of the bundle, as the index lists it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Item {
    path: String,
    call: String,
    agent: String,
    bytes: Option<u64>,
    seconds: f64,
    error: Option<String>,
}

fn main() {
    let flags = Flags::parse(
        std::env::args().skip(1),
        &["archive", "json", "demo-client"],
        &[
            "duration",
            "pprof-duration",
            "log-level",
            "node-id",
            "server-id",
            "output",
        ],
        USAGE,
    );
    if !flags.rest.is_empty() {
        support::usage_error(USAGE, "This command takes no arguments");
    }
    let duration = flags.duration("duration", Duration::from_secs(10), USAGE);
    let pprof_duration = flags
        .duration("pprof-duration", Duration::from_secs(1), USAGE)
        .min(duration);
    let log_level = match flags.value("log-level").unwrap_or("debug").parse::<LogLevel>() {
        Ok(level) => level,
        Err(e) => support::usage_error(USAGE, &e.to_string()),
    };
    let target = match (flags.value("node-id"), flags.value("server-id")) {
        (Some(_), Some(_)) => support::usage_error(USAGE, "-node-id and -server-id cannot be used together"),
        (Some(id), None) => Target::Node(id.to_owned()),
        (None, Some(id)) => Target::Server(id.to_owned()),
        (None, None) => Target::Local,
    };
    let real = support::nomad_addr().is_some();
    if flags.on("demo-client") && real {
        support::usage_error(
            USAGE,
            "-demo-client is a knob of the bundled test agent: unset NOMAD_ADDR",
        );
    }
    let settings = Settings {
        duration,
        pprof_duration,
        log_level,
        target,
        output: PathBuf::from(flags.value("output").unwrap_or(".")),
        archive: flags.on("archive"),
        json: flags.on("json"),
    };

    // The test agent, if any, lives until the end of `main`.
    let (client, _agent) = match connect(real, flags.on("demo-client")) {
        Ok(connected) => connected,
        Err(e) => support::fail(e),
    };
    match bundle(&client, &settings) {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => support::fail(e),
    }
}

fn connect(real: bool, demo_client: bool) -> Result<(Client, Option<TestAgent>), Error> {
    if real {
        return Ok((Client::from_env()?, None));
    }
    let feed = MonitorFeed::new().lines(u64::MAX).pace(Duration::from_millis(100));
    let builder = TestAgent::builder().monitor(feed);
    let agent = if demo_client {
        builder
            .role(Role::Client)
            .token(DEMO_TOKEN, &[Capability::AgentRead, Capability::NodeRead])
            .start()?
    } else {
        builder.role(Role::Both).acl(DEMO_TOKEN).start()?
    };
    support::announce_demo(
        if demo_client {
            "client-only test agent"
        } else {
            "test agent"
        },
        agent.url(),
    );
    let client = agent.client_with_token(DEMO_TOKEN)?;
    Ok((client, Some(agent)))
}

/// Collects every item into a new directory, writes the index, and packs it if asked. True when
/// at least one item was collected.
fn bundle(client: &Client, settings: &Settings) -> Result<bool, String> {
    let started = Instant::now();
    let stamp = format!("nomad-debug-{}", utc_stamp(SystemTime::now()));
    std::fs::create_dir_all(&settings.output)
        .map_err(|e| format!("cannot create {}: {e}", settings.output.display()))?;
    // A new directory (`create_dir` fails on one that exists): the stamp, or the stamp with a
    // counter when another bundle was made in the same second.
    let (name, dir) = (1..100)
        .map(|n| if n == 1 { stamp.clone() } else { format!("{stamp}-{n}") })
        .find_map(|name| {
            let dir = settings.output.join(&name);
            let taken = settings.archive && settings.output.join(format!("{name}.tar.gz")).exists();
            (!taken && std::fs::create_dir(&dir).is_ok()).then_some((name, dir))
        })
        .ok_or_else(|| format!("cannot create a new directory {stamp} in {}", settings.output.display()))?;
    std::fs::create_dir(dir.join("pprof")).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let target = settings.target.to_string();

    let mut items = std::thread::scope(|scope| {
        // The two long items run beside the others.
        let logs = scope.spawn(|| logs_item(client, &dir, settings));
        let cpu = scope.spawn(|| {
            let seconds = u32::try_from(settings.pprof_duration.as_secs().max(1)).unwrap_or(u32::MAX);
            let op = Pprof::cpu_profile().seconds(seconds).target(settings.target.clone());
            profile_item(client, &dir, "pprof/profile.prof", op, &target)
        });
        let agent = client.agent();
        let mut items = vec![
            json_item(&dir, "agent-self.json", "GET /v1/agent/self", "local", || {
                agent.self_info()
            }),
            json_item(&dir, "members.json", "GET /v1/agent/members", "local", || {
                agent.members()
            }),
            json_item(&dir, "health.json", "GET /v1/agent/health", "local", || agent.health()),
            json_item(&dir, "host.json", "GET /v1/agent/host", &target, || {
                agent.host_of(settings.target.clone())
            }),
            json_item(
                &dir,
                "scheduler-workers.json",
                "GET /v1/agent/schedulers",
                "local",
                || agent.scheduler_workers_info(),
            ),
        ];
        for name in ["heap", "goroutine"] {
            let op = Pprof::lookup(name).target(settings.target.clone());
            items.push(profile_item(client, &dir, &format!("pprof/{name}.prof"), op, &target));
        }
        items.push(cpu.join().expect("the profile thread does not panic"));
        items.push(logs.join().expect("the log thread does not panic"));
        items
    });

    // The last guard: no file may hold the token.
    if let Some(token) = client.config().token() {
        let token = token.header_value().as_bytes();
        for item in items.iter_mut().filter(|i| i.bytes.is_some()) {
            let path = dir.join(&item.path);
            let holds_token = std::fs::read(&path)
                .map(|data| data.windows(token.len()).any(|w| w == token))
                .unwrap_or(false);
            if holds_token {
                let _ = std::fs::remove_file(&path);
                item.bytes = None;
                item.error = Some("withheld: the answer held the ACL token".into());
            }
        }
    }

    let collected = items.iter().filter(|i| i.error.is_none()).count();
    let index = json!({
        "Bundle": name,
        "Agent": client.config().base_url(),
        "Target": target,
        "LogLevel": settings.log_level.as_str(),
        "Duration": support::show_duration(settings.duration),
        "PprofDuration": support::show_duration(settings.pprof_duration),
        "Seconds": started.elapsed().as_secs_f64(),
        "Collected": collected,
        "Failed": items.len() - collected,
        "Items": items,
    });
    let summary = summary(&name, client, settings, &items);
    let json_text = serde_json::to_string_pretty(&index).map_err(|e| format!("cannot write the index: {e}"))?;
    write_file(&dir.join("index.json"), json_text.as_bytes())?;
    write_file(&dir.join("index.txt"), summary.as_bytes())?;

    let written = if settings.archive {
        let archive = settings.output.join(format!("{name}.tar.gz"));
        pack(&dir, &name, &archive)?;
        std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
        format!("Created debug archive: {}", archive.display())
    } else {
        format!("Created debug directory: {}", dir.display())
    };
    if settings.json {
        support::outln(&json_text);
    } else {
        support::out(&summary);
    }
    eprintln!("{written}");
    if collected == 0 {
        let first = items.iter().find_map(|i| i.error.as_deref()).unwrap_or("none");
        eprintln!("error: no item could be collected; the first error: {first}");
    }
    Ok(collected > 0)
}

/// `index.txt`: what was asked, and a table of the items.
fn summary(name: &str, client: &Client, settings: &Settings, items: &[Item]) -> String {
    let mut rows = vec![["Path", "Call", "Agent", "Bytes", "Error"].map(str::to_owned).to_vec()];
    for item in items {
        rows.push(vec![
            item.path.clone(),
            item.call.clone(),
            item.agent.clone(),
            item.bytes.map_or("-".into(), |b| b.to_string()),
            item.error.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    let failed = items.iter().filter(|i| i.error.is_some()).count();
    format!(
        "Nomad debug bundle {name}\nAgent:  {}\nTarget: {}\nLogs:   {} at level {}; CPU profile: {}\n\n{}\n{} of {} items collected, {failed} failed\n",
        client.config().base_url(),
        settings.target,
        support::show_duration(settings.duration),
        settings.log_level,
        support::show_duration(settings.pprof_duration),
        support::columnize(&rows),
        items.len() - failed,
        items.len(),
    )
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), String> {
    std::fs::write(path, data).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// An item written as JSON from a typed answer.
fn json_item<T: Serialize>(
    dir: &Path,
    path: &str,
    call: &str,
    agent: &str,
    fetch: impl FnOnce() -> Result<T, Error>,
) -> Item {
    let started = Instant::now();
    let outcome = fetch().map_err(|e| e.to_string()).and_then(|answer| {
        let data = serde_json::to_vec_pretty(&answer).map_err(|e| format!("cannot encode: {e}"))?;
        write_file(&dir.join(path), &data)?;
        Ok(data.len() as u64)
    });
    item(path, call, agent, started, outcome)
}

fn item(path: &str, call: &str, agent: &str, started: Instant, outcome: Result<u64, String>) -> Item {
    let (bytes, error) = match outcome {
        Ok(bytes) => (Some(bytes), None),
        Err(e) => (None, Some(e)),
    };
    Item {
        path: path.to_owned(),
        call: call.to_owned(),
        agent: agent.to_owned(),
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        error,
    }
}

/// A profile, streamed into its file (removed again if the call fails).
fn profile_item(client: &Client, dir: &Path, path: &str, op: Pprof, agent: &str) -> Item {
    let started = Instant::now();
    let call = format!("GET /v1/agent/pprof/{}", op.kind.path_name());
    let file_path = dir.join(path);
    let outcome = File::create(&file_path)
        .map_err(|e| format!("cannot create {}: {e}", file_path.display()))
        .and_then(|mut file| {
            client.agent().write_profile(&op, &mut file).map_err(|e| {
                let _ = std::fs::remove_file(&file_path);
                e.to_string()
            })
        });
    item(path, &call, agent, started, outcome)
}

/// `-duration` of logs into `monitor.log`, as the agent sent them. A stream that fails midway
/// keeps the lines received before, and the item its error.
fn logs_item(client: &Client, dir: &Path, settings: &Settings) -> Item {
    let started = Instant::now();
    let path = "monitor.log";
    let op = Monitor::new()
        .log_level(settings.log_level)
        .target(settings.target.clone());
    let call = format!("GET /v1/agent/monitor?log_level={}", settings.log_level);
    let file_path = dir.join(path);
    let outcome = (|| -> Result<u64, String> {
        let stream = client.stream_for(&op, settings.duration).map_err(|e| e.to_string())?;
        let mut file = File::create(&file_path).map_err(|e| format!("cannot create {}: {e}", file_path.display()))?;
        let mut bytes = 0;
        for line in stream {
            let line = line.map_err(|e| format!("the stream failed after {bytes} bytes: {e}"))?;
            writeln!(file, "{}", line.text).map_err(|e| format!("cannot write {}: {e}", file_path.display()))?;
            bytes += line.text.len() as u64 + 1;
        }
        Ok(bytes)
    })();
    let mut item = item(path, &call, &settings.target.to_string(), started, outcome);
    if item.error.is_some() {
        // What was received before the failure stays, and the index gives its size.
        item.bytes = std::fs::metadata(&file_path).ok().map(|m| m.len());
    }
    item
}

/// Packs `dir` into a gzipped tar at `archive`, its entries under `name/`.
fn pack(dir: &Path, name: &str, archive: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", archive.display());
    let file = File::create(archive).map_err(fail)?;
    let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gzip);
    tar.append_dir_all(name, dir).map_err(fail)?;
    tar.into_inner().and_then(|gzip| gzip.finish()).map_err(fail)?;
    Ok(())
}

/// `2006-01-02-150405Z`, the CLI's stamp, in UTC.
fn utc_stamp(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's `civil_from_days`).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}-{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
