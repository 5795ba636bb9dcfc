//! Benchmarks (BENCHMARKS.md). Every figure is printed next to its baseline, measured in the
//! same run against the same loopback server, with the two sides interleaved (A B B A …) so that
//! noise from other processes hits both.
//!
//! ```text
//! cargo build --release --examples                       # `oneshot` spawns examples/members_once
//! cargo run --release --example bench -- members         # per-call cost vs bare ureq + serde_json
//! cargo run --release --example bench -- oneshot         # one-call process vs `curl -s`
//! cargo run --release --example bench -- decode          # LogDecoder vs a bare serde_json scan
//! cargo run --release --example bench -- rss             # peak RSS over a >= 1 GiB monitor stream
//! cargo run --release --example bench -- large           # big /v1/agent/self and host-data bodies
//! cargo run --release --example bench -- all             # all of the above
//! ```
//!
//! Options (`--name=value`): `members`: `--rounds`, `--calls`, `--server=static|agent|both`;
//! `oneshot`: `--n`; `decode`: `--mb`, `--reps`; `rss`: `--gib`; `large`: `--reps`, `--rounds`.
//! `BENCH_ONLY=client|bare|literal|identity` runs one side of `members` alone (for a profiler,
//! e.g. `valgrind --tool=callgrind`); `BENCH_ONLY=none|scan|ref|owned` runs one variant of `decode`
//! once (for instruction counts with `valgrind --tool=cachegrind`). `members`, `oneshot` and `large` pin themselves to one CPU
//! with `taskset` (`BENCH_NO_PIN=1` turns that off). `serve --lines=N` runs a test agent whose
//! monitor stream sends N lines, prints its URL and runs until its standard input closes (`rss`
//! starts it as a separate process, so that the client's peak RSS is the client's alone).
//!
//! One module per subcommand (`members`, `oneshot`, `decode`, `rss`, `large`), beside the shared
//! pieces: `stats` (medians, paired ratios, interleaved runs), `server` (the static HTTP server)
//! and `baseline` (bare ureq with the client's settings).

mod baseline;
mod decode;
mod large;
mod members;
mod oneshot;
mod rss;
mod server;
mod stats;

use std::collections::HashMap;
use std::process::Command;

use nomad_blocking::Client;

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "help".into());
    let opts = Opts::parse(args);
    if matches!(command.as_str(), "members" | "oneshot" | "large") && repin(&command) {
        return;
    }
    let result = match command.as_str() {
        "members" => members::bench_members(&opts),
        "oneshot" => oneshot::bench_oneshot(&opts),
        "decode" => decode::bench_decode(&opts),
        "rss" => rss::bench_rss(&opts),
        "large" => large::bench_large(&opts),
        "serve" => rss::serve(&opts),
        "all" => run_all(),
        _ => {
            eprintln!("usage: bench <members|oneshot|decode|rss|large|all|serve> [--name=value …]");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Runs every benchmark, each in a fresh process (so that `rss` measures only itself), with
/// the same options.
fn run_all() -> Res {
    let exe = std::env::current_exe()?;
    let options: Vec<String> = std::env::args().skip(2).collect();
    for name in ["members", "oneshot", "decode", "large", "rss"] {
        let status = Command::new(&exe).arg(name).args(&options).status()?;
        if !status.success() {
            return Err(format!("`bench {name}` failed: {status}").into());
        }
    }
    Ok(())
}

/// Runs this benchmark again pinned to one CPU (with `taskset`), unless it is pinned already or
/// `BENCH_NO_PIN` is set; returns true once that run is over. Client, server and baseline then
/// share one core: on a machine with few cores, the scheduler can otherwise keep one side's
/// server thread on a busy core for a whole run, which biases a comparison either way.
fn repin(command: &str) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let cpus = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap_or("")
        .trim()
        .to_owned();
    if cpus.is_empty() || !cpus.contains([',', '-']) || std::env::var_os("BENCH_NO_PIN").is_some() {
        if !cpus.is_empty() && !cpus.contains([',', '-']) {
            println!("   ({command}: pinned to CPU {cpus})");
        }
        return false;
    }
    let last = cpus.rsplit([',', '-']).next().unwrap_or("0").to_owned();
    let Ok(exe) = std::env::current_exe() else { return false };
    match Command::new("taskset")
        .args(["-c", &last])
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .status()
    {
        Ok(status) => {
            if !status.success() {
                std::process::exit(status.code().unwrap_or(1));
            }
            true
        }
        Err(_) => {
            println!("   ({command}: not pinned to a CPU: taskset is not available)");
            false
        }
    }
}

/// The `--name=value` (or `--name value`) options of a subcommand.
struct Opts(HashMap<String, String>);

impl Opts {
    fn parse(args: impl Iterator<Item = String>) -> Opts {
        let mut map = HashMap::new();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let Some(flag) = arg.strip_prefix("--") else { continue };
            match flag.split_once('=') {
                Some((k, v)) => map.insert(k.to_owned(), v.to_owned()),
                None => {
                    let v = args.next_if(|v| !v.starts_with("--")).unwrap_or_default();
                    map.insert(flag.to_owned(), v)
                }
            };
        }
        Opts(map)
    }

    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        self.0.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    fn str<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.0.get(name).map(String::as_str).unwrap_or(default)
    }
}

/// A client of the server at `url` with the default settings.
fn client_for(url: &str) -> Res<Client> {
    Ok(Client::builder().address(url).build()?)
}
