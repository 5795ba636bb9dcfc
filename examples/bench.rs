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
//! e.g. `valgrind --tool=callgrind`). `members`, `oneshot` and `large` pin themselves to one CPU
//! with `taskset` (`BENCH_NO_PIN=1` turns that off). `serve --lines=N` runs a test agent whose
//! monitor stream sends N lines, prints its URL and runs until its standard input closes (`rss`
//! starts it as a separate process, so that the client's peak RSS is the client's alone).

use std::collections::HashMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::{AgentSelf, GetHostData, GetSelf, HostData, Monitor, ServerMembers};
use nomad_blocking::proto::http;
use nomad_blocking::proto::stream::{LogDecoder, LogLevel, StreamFormat, StreamFrame};
use nomad_blocking::proto::Endpoint;
use nomad_blocking::test_agent::{log_line, MonitorFeed, TestAgent};
use nomad_blocking::{Client, LogStream};
use serde::de::{DeserializeOwned, IgnoredAny};

type Res<T = ()> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "help".into());
    let opts = Opts::parse(args);
    if matches!(command.as_str(), "members" | "oneshot" | "large") && repin(&command) {
        return;
    }
    let result = match command.as_str() {
        "members" => bench_members(&opts),
        "oneshot" => bench_oneshot(&opts),
        "decode" => bench_decode(&opts),
        "rss" => bench_rss(&opts),
        "large" => bench_large(&opts),
        "serve" => serve(&opts),
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

// ---------------------------------------------------------------------------------------------
// Options, statistics, output
// ---------------------------------------------------------------------------------------------

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

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn verdict(met: bool) -> &'static str {
    if met {
        "MET"
    } else {
        "NOT MET"
    }
}

/// Runs `a` and `b` alternately (A B, then B A, …) `rounds` times; returns the seconds each run
/// took.
fn interleave(rounds: usize, mut a: impl FnMut() -> f64, mut b: impl FnMut() -> f64) -> (Vec<f64>, Vec<f64>) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            ta.push(a());
            tb.push(b());
        } else {
            tb.push(b());
            ta.push(a());
        }
    }
    (ta, tb)
}

/// Runs every variant once per round, starting each round one variant later (A B C, B C A,
/// C A B, …); returns the seconds of each run, per variant.
fn rotate(rounds: usize, variants: &mut [&mut dyn FnMut() -> f64]) -> Vec<Vec<f64>> {
    let n = variants.len();
    let mut times = vec![Vec::new(); n];
    for round in 0..rounds {
        for k in 0..n {
            let v = (round + k) % n;
            times[v].push(variants[v]());
        }
    }
    times
}

fn time(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64()
}

/// Paired ratios a/b (each pair measured back to back), as median and quartiles.
fn paired(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    (median(&ratios), quantile(&ratios, 0.25), quantile(&ratios, 0.75))
}

// ---------------------------------------------------------------------------------------------
// Servers and the bare-ureq baseline
// ---------------------------------------------------------------------------------------------

/// A minimal keep-alive HTTP/1.1 server answering fixed bodies (gzipped when the request
/// accepts gzip, as Nomad does), so the client side dominates what is measured.
fn start_static_server(routes: &[(&str, Vec<u8>)]) -> Res<String> {
    let mut table = HashMap::new();
    for (path, body) in routes {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body)?;
        let gz = gz.finish()?;
        let head = |len: usize, gzip: bool| {
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{}Content-Length: {len}\r\n\r\n",
                if gzip {
                    "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
                } else {
                    ""
                }
            )
            .into_bytes()
        };
        let plain = [head(body.len(), false), body.clone()].concat();
        let gzip = [head(gz.len(), true), gz].concat();
        table.insert(path.to_string(), (plain, gzip));
    }
    let table = Arc::new(table);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let table = Arc::clone(&table);
            std::thread::spawn(move || {
                let _ = serve_connection(stream, &table);
            });
        }
    });
    Ok(url)
}

fn serve_connection(stream: TcpStream, table: &HashMap<String, (Vec<u8>, Vec<u8>)>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split(' ').nth(1).unwrap_or("");
        let path = target.split('?').next().unwrap_or("").to_owned();
        let (mut gzip, mut content_length) = (false, 0u64);
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("accept-encoding") {
                    gzip = value.contains("gzip");
                } else if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        std::io::copy(&mut (&mut reader).take(content_length), &mut std::io::sink())?;
        match table.get(&path) {
            Some((plain, gz)) => writer.write_all(if gzip { gz } else { plain })?,
            None => writer.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?,
        }
    }
}

/// A bare ureq agent with the settings `UreqTransport` uses by default (keep-alive, statuses
/// as responses, no redirects, the same timeouts, pool, user agent and default gzip
/// `Accept-Encoding`, no proxy).
fn bare_agent() -> ureq::Agent {
    bare_config(true).new_agent()
}

fn bare_config(gzip: bool) -> ureq::config::Config {
    let builder = ureq::Agent::config_builder();
    let builder = if gzip { builder } else { builder.accept_encoding("") };
    builder
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(30)))
        .max_idle_connections_per_host(3)
        .max_idle_connections(12)
        .user_agent(concat!("nomad-blocking/", env!("CARGO_PKG_VERSION")))
        .proxy(None)
        .build()
}

/// The same bare agent, but IP-literal hosts are not looked up (as `UreqTransport` does): ureq's
/// `DefaultResolver` starts a thread per request to apply the resolve timeout.
fn bare_agent_literal(gzip: bool) -> ureq::Agent {
    ureq::Agent::with_parts(
        bare_config(gzip),
        ureq::unversioned::transport::DefaultConnector::new(),
        LiteralResolver,
    )
}

#[derive(Debug)]
struct LiteralResolver;

impl ureq::unversioned::resolver::Resolver for LiteralResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or("");
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        match (host.parse::<std::net::IpAddr>(), uri.port_u16()) {
            (Ok(ip), Some(port)) => {
                let mut addrs = self.empty();
                addrs.push(std::net::SocketAddr::new(ip, port));
                Ok(addrs)
            }
            _ => ureq::unversioned::resolver::DefaultResolver::default().resolve(uri, config, timeout),
        }
    }
}

/// Bare ureq GET + `serde_json::from_slice` into `T`: the baseline a call is compared with.
fn bare_get<T: DeserializeOwned>(agent: &ureq::Agent, url: &str) -> T {
    let mut response = agent.get(url).call().expect("bare GET");
    assert_eq!(response.status(), 200);
    let body = response
        .body_mut()
        .with_config()
        .limit(32 * 1024 * 1024)
        .read_to_vec()
        .expect("bare body");
    serde_json::from_slice(&body).expect("bare decode")
}

/// A body as the agent sends it, uncompressed.
fn fetch_raw(base: &str, path: &str) -> Res<Vec<u8>> {
    let agent: ureq::Agent = ureq::Agent::config_builder().accept_encoding("").build().new_agent();
    Ok(agent
        .get(format!("{base}{path}"))
        .call()?
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()?)
}

fn client_for(url: &str) -> Res<Client> {
    Ok(Client::builder().address(url).build()?)
}

// ---------------------------------------------------------------------------------------------
// 1. Per-call cost
// ---------------------------------------------------------------------------------------------

fn bench_members(opts: &Opts) -> Res {
    let agent = TestAgent::start()?;
    let members_json = fetch_raw(agent.url(), "/v1/agent/members")?;
    let which = opts.str("server", "both");
    println!(
        "== 1. per-call cost: client.agent().members() vs bare ureq GET + serde_json::from_slice::<ServerMembers>"
    );
    println!(
        "   keep-alive, gzip; members body {} bytes; median of per-round µs/call, ratio = median of paired (back-to-back) round ratios",
        members_json.len()
    );
    if which == "static" || which == "both" {
        let url = start_static_server(&[("/v1/agent/members", members_json.clone())])?;
        let rounds = opts.num("rounds", 40);
        let calls = opts.num("calls", 2000);
        members_rounds("static server", &url, rounds, calls)?;
        if std::env::var_os("BENCH_ONLY").is_none() {
            gzip_cost(&url, rounds / 2, calls)?;
        }
    }
    if which == "agent" || which == "both" {
        // The test agent is slow per request (and records every request): a shorter run.
        let rounds = opts.num("rounds", 40) / 2;
        let calls = opts.num("calls", 2000) / 10;
        members_rounds("test agent", agent.url(), rounds, calls)?;
    }
    Ok(())
}

fn members_rounds(server: &str, url: &str, rounds: usize, calls: usize) -> Res {
    let client = client_for(url)?;
    let bare = bare_agent();
    let literal = bare_agent_literal(true);
    let target = format!("{url}/v1/agent/members");
    let expected = client.agent().members()?;
    assert_eq!(bare_get::<ServerMembers>(&bare, &target), expected);
    let per_call = |f: &dyn Fn()| {
        time(|| {
            for _ in 0..calls {
                f();
            }
        }) / calls as f64
    };
    let mut run_client = || per_call(&|| drop(black_box(client.agent().members().expect("members"))));
    let mut run_bare = || per_call(&|| drop(black_box(bare_get::<ServerMembers>(&bare, &target))));
    let mut run_literal = || per_call(&|| drop(black_box(bare_get::<ServerMembers>(&literal, &target))));
    // `BENCH_ONLY=client|bare|literal|identity` (no gzip): one side alone, for a profiler.
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        let t = match only.as_str() {
            "client" => run_client(),
            "bare" => run_bare(),
            "identity" => {
                let identity = bare_agent_literal(false);
                per_call(&|| drop(black_box(bare_get::<ServerMembers>(&identity, &target))))
            }
            _ => run_literal(),
        };
        println!("   {only} alone: {:.2} µs/call", t * 1e6);
        return Ok(());
    }
    // Warm-up: connections, allocator, caches.
    run_client();
    run_bare();
    run_literal();
    // Two separate comparisons: the same-settings baseline starts a thread per request, and
    // those threads would also slow down whatever runs next to them.
    let l = rotate(rounds, &mut [&mut run_client, &mut run_literal]);
    let b = rotate(rounds, &mut [&mut run_client, &mut run_bare]);
    let t = [b[0].clone(), b[1].clone(), l[1].clone()];
    let (ratio, q1, q3) = paired(&b[0], &b[1]);
    let (ratio_l, q1_l, q3_l) = paired(&l[0], &l[1]);
    println!(
        "   {server:<13} client {:7.2} µs/call | bare ureq, same settings {:7.2} µs/call: ratio {ratio:.3} (p25 {q1:.3}, p75 {q3:.3})   target <= 1.05: {}",
        median(&t[0]) * 1e6,
        median(&t[1]) * 1e6,
        verdict(ratio <= 1.05)
    );
    println!(
        "   {:<13} client {:7.2} µs/call | bare ureq + IP-literal resolver {:7.2} µs/call: ratio {ratio_l:.3} (p25 {q1_l:.3}, p75 {q3_l:.3})   target <= 1.05: {}",
        "",
        median(&l[0]) * 1e6,
        median(&t[2]) * 1e6,
        verdict(ratio_l <= 1.05)
    );
    Ok(())
}

/// Not a target: what asking for gzip costs a small answer on loopback (bare ureq with the
/// IP-literal resolver on both sides, with and without `Accept-Encoding: gzip`).
fn gzip_cost(url: &str, rounds: usize, calls: usize) -> Res {
    let gzip = bare_agent_literal(true);
    let identity = bare_agent_literal(false);
    let target = format!("{url}/v1/agent/members");
    let run = |agent: &ureq::Agent| {
        time(|| {
            for _ in 0..calls {
                black_box(bare_get::<ServerMembers>(agent, &target));
            }
        }) / calls as f64
    };
    run(&gzip);
    run(&identity);
    let (a, b) = interleave(rounds.max(2), || run(&gzip), || run(&identity));
    let (ratio, _, _) = paired(&a, &b);
    println!(
        "   (info) bare ureq with gzip {:.2} µs/call vs without Accept-Encoding {:.2} µs/call: gzip costs {ratio:.2}x on a small answer",
        median(&a) * 1e6,
        median(&b) * 1e6
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 2. One-shot process
// ---------------------------------------------------------------------------------------------

fn bench_oneshot(opts: &Opts) -> Res {
    let n = opts.num("n", 50);
    let exe = std::env::current_exe()?.with_file_name(format!("members_once{}", std::env::consts::EXE_SUFFIX));
    if !exe.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release --examples` first",
            exe.display()
        )
        .into());
    }
    let agent = TestAgent::start()?;
    let url = agent.url().to_owned();
    let target = format!("{url}/v1/agent/members");
    let run_example = || {
        time(|| {
            let status = Command::new(&exe)
                .env("NOMAD_ADDR", &url)
                .env_remove("NOMAD_TOKEN")
                .stdout(Stdio::null())
                .status()
                .expect("spawn members_once");
            assert!(status.success());
        })
    };
    let run_curl = || {
        time(|| {
            let status = Command::new("curl")
                .args(["-s", "--compressed", "-o", "/dev/null", &target])
                .status()
                .expect("spawn curl (is it installed?)");
            assert!(status.success());
        })
    };
    for _ in 0..3 {
        run_example();
        run_curl();
    }
    let (a, b) = interleave(n, run_example, run_curl);
    let (ratio, q1, q3) = paired(&a, &b);
    println!(
        "== 2. one-shot process: members_once (release) vs `curl -s --compressed`, {n} spawns each, same test agent"
    );
    println!(
        "   members_once  mean {:6.2} ms  median {:6.2} ms\n   curl          mean {:6.2} ms  median {:6.2} ms",
        mean(&a) * 1e3,
        median(&a) * 1e3,
        mean(&b) * 1e3,
        median(&b) * 1e3
    );
    println!(
        "   ratio of medians {:.3}, of means {:.3}, paired median {ratio:.3} (p25 {q1:.3}, p75 {q3:.3})   target not slower than curl: {}",
        median(&a) / median(&b),
        mean(&a) / mean(&b),
        verdict(median(&a) <= median(&b))
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 3. Log-stream decoding and streaming memory
// ---------------------------------------------------------------------------------------------

/// A monitor stream as the agent frames it: hclog text lines cut into `Data` chunks of at most
/// 1024 bytes (splitting lines anywhere), `{"Data":"<base64>","FileEvent":"log"}`, with a `{}`
/// heartbeat every 64 frames. Returns the body, its line count and its text bytes.
fn recording(target: usize) -> (Vec<u8>, u64, u64) {
    let mut body = Vec::with_capacity(target + 4096);
    let mut raw = Vec::with_capacity(4096);
    let (mut lines, mut text, mut frames) = (0u64, 0u64, 0u64);
    while body.len() < target || !raw.is_empty() {
        while raw.len() < 1024 && body.len() < target {
            let (_, line) = log_line(lines, false);
            text += line.len() as u64;
            raw.extend_from_slice(line.as_bytes());
            raw.push(b'\n');
            lines += 1;
        }
        let frame = StreamFrame {
            data: raw.drain(..raw.len().min(1024)).collect(),
            file_event: Some("log".into()),
            ..Default::default()
        };
        serde_json::to_writer(&mut body, &frame).expect("frame");
        frames += 1;
        if frames % 64 == 0 {
            body.extend_from_slice(b"{}");
        }
    }
    (body, lines, text)
}

const CHUNK: usize = 16 * 1024; // what LogStream reads at a time

fn decode_ref(body: &[u8]) -> (u64, u64) {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    let (mut lines, mut bytes) = (0u64, 0u64);
    for chunk in body.chunks(CHUNK) {
        decoder.push(chunk);
        while let Some(line) = decoder.next_line_ref().expect("decode") {
            lines += 1;
            bytes += line.text.len() as u64;
        }
    }
    while let Some(line) = decoder.finish().expect("finish") {
        lines += 1;
        bytes += line.text.len() as u64;
    }
    (lines, bytes)
}

fn decode_owned(body: &[u8]) -> (u64, u64) {
    let mut decoder = LogDecoder::new(StreamFormat::Framed);
    let (mut lines, mut bytes) = (0u64, 0u64);
    for chunk in body.chunks(CHUNK) {
        decoder.push(chunk);
        while let Some(line) = decoder.next_line().expect("decode") {
            lines += 1;
            bytes += black_box(line).text.len() as u64;
        }
    }
    while let Some(line) = decoder.finish().expect("finish") {
        lines += 1;
        bytes += line.text.len() as u64;
    }
    (lines, bytes)
}

/// The blocking `LogStream` iterator (an owned `LogLine` per line), reading the body from memory
/// 16 KiB at a time as it reads a response.
fn stream_iter(body: &Arc<[u8]>) -> (u64, u64) {
    let reader = Box::new(std::io::Cursor::new(Arc::clone(body)));
    let (mut lines, mut bytes) = (0u64, 0u64);
    for line in LogStream::new(reader, LogDecoder::new(StreamFormat::Framed)) {
        lines += 1;
        bytes += black_box(line.expect("stream")).text.len() as u64;
    }
    (lines, bytes)
}

/// `LogStream::for_each_line` (borrowed lines) over the same in-memory reader.
fn stream_for_each(body: &Arc<[u8]>) -> (u64, u64) {
    let reader = Box::new(std::io::Cursor::new(Arc::clone(body)));
    let (mut lines, mut bytes) = (0u64, 0u64);
    LogStream::new(reader, LogDecoder::new(StreamFormat::Framed))
        .for_each_line(|line| {
            lines += 1;
            bytes += line.text.len() as u64;
            std::ops::ControlFlow::Continue(())
        })
        .expect("stream");
    (lines, bytes)
}

fn bare_scan(body: &[u8]) -> u64 {
    serde_json::Deserializer::from_slice(body)
        .into_iter::<IgnoredAny>()
        .map(|v| {
            v.expect("scan");
            1
        })
        .sum()
}

fn bench_decode(opts: &Opts) -> Res {
    let mb = opts.num("mb", 96usize);
    let reps = opts.num("reps", 11usize);
    let (body, lines, text) = recording(mb << 20);
    assert_eq!(decode_ref(&body), (lines, text));
    assert_eq!(decode_owned(&body), (lines, text));
    // `LogStream` reads a `'static` body: share the recording instead of copying it per run.
    let shared: Arc<[u8]> = Arc::from(&body[..]);
    assert_eq!(stream_iter(&shared), (lines, text));
    assert_eq!(stream_for_each(&shared), (lines, text));
    let frames = bare_scan(&body);
    let body = &body[..];
    let mut run_ref = || {
        time(|| {
            black_box(decode_ref(black_box(body)));
        })
    };
    let mut run_owned = || {
        time(|| {
            black_box(decode_owned(black_box(body)));
        })
    };
    let mut run_scan = || {
        time(|| {
            black_box(bare_scan(black_box(body)));
        })
    };
    let mut run_iter = || {
        time(|| {
            black_box(stream_iter(black_box(&shared)));
        })
    };
    let mut run_each = || {
        time(|| {
            black_box(stream_for_each(black_box(&shared)));
        })
    };
    // Each round runs every variant once, starting one variant later each time.
    let t = rotate(
        reps,
        &mut [
            &mut run_ref,
            &mut run_owned,
            &mut run_scan,
            &mut run_iter,
            &mut run_each,
        ],
    );
    let mbs = |t: f64| body.len() as f64 / 1e6 / t;
    let [tr, to, ts, ti, te]: [f64; 5] = std::array::from_fn(|i| median(&t[i]));
    println!(
        "== 3a. LogDecoder on a recorded monitor stream: {:.1} MB, {frames} frames (incl. heartbeats), {lines} lines, pushed in {} KiB chunks; median of {reps}",
        body.len() as f64 / 1e6,
        CHUNK / 1024
    );
    println!(
        "   bare serde_json scan (IgnoredAny)      {:6.1} ms  {:6.0} MB/s",
        ts * 1e3,
        mbs(ts)
    );
    println!(
        "   LogDecoder next_line_ref (borrowed)    {:6.1} ms  {:6.0} MB/s  = {:.2}x the scan   targets >= 500 MB/s: {}, >= 0.5x: {}",
        tr * 1e3,
        mbs(tr),
        ts / tr,
        verdict(mbs(tr) >= 500.0),
        verdict(ts / tr >= 0.5)
    );
    println!(
        "   LogDecoder next_line (owned String)    {:6.1} ms  {:6.0} MB/s  = {:.2}x the scan   targets >= 500 MB/s: {}, >= 0.5x: {}",
        to * 1e3,
        mbs(to),
        ts / to,
        verdict(mbs(to) >= 500.0),
        verdict(ts / to >= 0.5)
    );
    println!(
        "   LogStream iterator (owned)             {:6.1} ms  {:6.0} MB/s  = {:.2}x the scan   (16 KiB reads from an in-memory body)",
        ti * 1e3,
        mbs(ti),
        ts / ti
    );
    println!(
        "   LogStream::for_each_line (borrowed)    {:6.1} ms  {:6.0} MB/s  = {:.2}x the scan   (same reads)",
        te * 1e3,
        mbs(te),
        ts / te
    );
    Ok(())
}

/// A `/proc/self/status` field of this process (`VmRSS:`, `VmHWM:`), in KiB.
fn proc_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// User + system CPU seconds this process has used (from /proc/self/stat, in clock ticks of
/// 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs `bench serve` as a child process; returns it and the URL it printed.
fn spawn_server(lines: u64) -> Res<(std::process::Child, String)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["serve", &format!("--lines={lines}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut url = String::new();
    BufReader::new(child.stdout.take().ok_or("no stdout")?).read_line(&mut url)?;
    Ok((child, url.trim().to_owned()))
}

fn stop_server(mut child: std::process::Child) -> Res {
    drop(child.stdin.take()); // `serve` exits when its stdin closes
    child.wait()?;
    Ok(())
}

fn serve(opts: &Opts) -> Res {
    let feed = MonitorFeed {
        lines: opts.num("lines", 1000u64),
        ..Default::default()
    };
    let agent = TestAgent::builder().monitor(feed).start()?;
    println!("{}", agent.url());
    std::io::stdout().flush()?;
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    Ok(())
}

fn bench_rss(opts: &Opts) -> Res {
    let gib = opts.num("gib", 1.0f64);
    let start_rss = proc_status("VmRSS:");
    // Stream-body bytes per line: text + '\n', base64 (4/3), plus the frame's 29 bytes per 1368.
    let sample: u64 = (0..10_000).map(|i| log_line(i, false).1.len() as u64 + 1).sum();
    let per_line = sample as f64 / 10_000.0 * 4.0 / 3.0 * (1368.0 + 29.0) / 1368.0;
    let lines = (gib * (1u64 << 30) as f64 / per_line * 1.02).ceil() as u64;

    let (child, url) = spawn_server(lines)?;
    let client = client_for(&url)?;
    let mut stream = client.agent().monitor(&Monitor::new().log_level(LogLevel::Trace))?;
    let after_open = proc_status("VmRSS:");
    let (mut n, mut text, mut max_rss) = (0u64, 0u64, 0u64);
    let mut samples = Vec::new();
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    for line in stream.by_ref() {
        let line = line?;
        n += 1;
        text += line.text.len() as u64;
        if n % (lines / 10).max(1) == 0 {
            let rss = proc_status("VmRSS:");
            max_rss = max_rss.max(rss);
            samples.push(format!("{:.1}", mib(rss)));
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let wire = stream.decoder().bytes_pushed();
    // VmHWM is updated lazily by the kernel: take the larger of it and the sampled VmRSS.
    let hwm = proc_status("VmHWM:").max(max_rss);
    drop(stream);
    stop_server(child)?;

    // Baseline for the throughput: the same stream read with bare ureq and thrown away.
    let (child, url) = spawn_server(lines)?;
    let bare = bare_agent();
    let raw_start = Instant::now();
    let mut reader = bare
        .get(format!("{url}/v1/agent/monitor?log_level=trace"))
        .call()?
        .into_body()
        .into_reader();
    let mut buf = vec![0u8; CHUNK];
    let mut raw_bytes = 0u64;
    loop {
        match reader.read(&mut buf)? {
            0 => break,
            k => raw_bytes += k as u64,
        }
    }
    let raw_elapsed = raw_start.elapsed().as_secs_f64();
    stop_server(child)?;

    println!("== 3b. memory of client.agent().monitor(..) over a long stream from a test agent in another process");
    println!(
        "   streamed {:.2} GiB of stream body (framed JSON, after gzip decoding: the test agent gzips streams as the agent does) = {} lines, {:.2} GiB of log text, in {:.1} s = {:.0} MB/s; bare ureq reading the same stream and discarding it: {:.0} MB/s (the test agent's ceiling)",
        wire as f64 / (1u64 << 30) as f64,
        n,
        text as f64 / (1u64 << 30) as f64,
        elapsed,
        wire as f64 / 1e6 / elapsed,
        raw_bytes as f64 / 1e6 / raw_elapsed
    );
    println!(
        "   client CPU (user+sys) {cpu:.2} s = busy {:.0}% of the wall time; {:.0} MB per CPU-second",
        cpu / elapsed * 100.0,
        wire as f64 / 1e6 / cpu.max(0.01)
    );
    println!(
        "   RSS at start {:.1} MiB, after opening the stream {:.1} MiB, every 10%: [{}] MiB; peak (VmHWM) {:.1} MiB   target < 16 MiB: {}",
        mib(start_rss),
        mib(after_open),
        samples.join(", "),
        mib(hwm),
        verdict(mib(hwm) < 16.0 && wire >= 1 << 30)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 4. Large answers
// ---------------------------------------------------------------------------------------------

/// The test agent's `/v1/agent/self`, grown to about `target` bytes the way big real answers
/// are big: a large client `Meta` map, many plugin configs, many stats.
fn big_self(small: &[u8], target: usize) -> Res<Vec<u8>> {
    let mut v: serde_json::Value = serde_json::from_slice(small)?;
    let mut i = 0;
    loop {
        for _ in 0..50 {
            v["config"]["Client"]["Meta"][format!("rack.unit.{i}")] =
                format!("r{:02}-u{:02}-zone-{}", i % 40, i % 42, i % 3).into();
            v["config"]["Plugins"]
                .as_array_mut()
                .ok_or("Plugins")?
                .push(serde_json::json!({
                    "Name": format!("driver-{i}"), "Args": ["-log-level", "info"],
                    "Config": {"enabled": true, "gc": {"image": true, "image_delay": "3m"},
                               "volumes": {"enabled": i % 2 == 0}, "allow_privileged": false,
                               "pull_activity_timeout": "2m", "extra_labels": ["job_name", "task_group_name"]}
                }));
            v["stats"]["runtime"][format!("gc.pause_ns.{i}")] = format!("{}", 1000 + i * 7).into();
            v["stats"]["client"][format!("host.disk.{i}.used_percent")] =
                format!("{:.2}", (i % 100) as f64 / 1.3).into();
            i += 1;
        }
        let bytes = serde_json::to_vec(&v)?;
        if bytes.len() >= target {
            return Ok(bytes);
        }
    }
}

/// A `/v1/agent/host` answer of about `target` bytes: many interface addresses, a long
/// `/etc/hosts`, a big environment, many mounts.
fn big_host(target: usize) -> Res<Vec<u8>> {
    let mut network = Vec::new();
    let mut hosts = String::from("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n");
    let mut env = serde_json::Map::new();
    let mut disk = serde_json::Map::new();
    let mut i = 0u32;
    loop {
        for _ in 0..50 {
            let (a, b) = (i / 250 % 250 + 1, i % 250 + 1);
            network.push(serde_json::json!({
                "address": format!("10.{a}.{b}.7"), "broadcast": format!("10.{a}.{b}.255"),
                "interface": format!("veth{i:05x}"), "mask_bits": "24", "netmask": "255.255.255.0",
                "network": format!("10.{a}.{b}.0/24"), "string": format!("10.{a}.{b}.7/24"), "type": "IPv4",
            }));
            hosts.push_str(&format!("10.{a}.{b}.7\tnode-{i}.dc1.example.internal node-{i}\n"));
            let value = if i % 10 == 0 {
                "<redacted>".to_owned()
            } else {
                format!("/opt/app/{i}/bin:/usr/bin")
            };
            env.insert(format!("APP_SETTING_{i}"), value.into());
            disk.insert(
                format!("/var/lib/nomad/alloc/{i:08x}"),
                serde_json::json!({"DiskMB": 102400, "UsedMB": i * 13 % 102400}),
            );
            i += 1;
        }
        let body = serde_json::json!({
            "OS": "Linux 6.8.0-45-generic #45-Ubuntu SMP PREEMPT_DYNAMIC x86_64",
            "Network": network, "ResolvConf": "nameserver 10.0.0.2\nsearch dc1.example.internal\n",
            "Hosts": hosts, "Environment": env, "Disk": disk,
        });
        let bytes = serde_json::to_vec(&body)?;
        if bytes.len() >= target {
            return Ok(bytes);
        }
    }
}

/// Parse through the endpoint (`Endpoint::parse_response`) vs untyped `serde_json::Value` vs
/// an `IgnoredAny` scan of the same bytes, interleaved.
fn parse_rounds<E: Endpoint>(name: &str, op: &E, body: &[u8], reps: usize) -> f64 {
    let batch = (4_000_000 / body.len().max(1)).clamp(1, 200);
    let mut typed = Vec::new();
    let mut value = Vec::new();
    let mut scan = Vec::new();
    for rep in 0..reps {
        let responses: Vec<http::Response<Vec<u8>>> = (0..batch)
            .map(|_| {
                http::Response::builder()
                    .status(200)
                    .body(body.to_vec())
                    .expect("response")
            })
            .collect();
        let run_typed = || {
            time(|| {
                for r in responses {
                    black_box(op.parse_response(r).expect("typed parse"));
                }
            }) / batch as f64
        };
        let run_value = || {
            time(|| {
                for _ in 0..batch {
                    black_box(serde_json::from_slice::<serde_json::Value>(black_box(body)).expect("value"));
                }
            }) / batch as f64
        };
        let run_scan = || {
            time(|| {
                for _ in 0..batch {
                    black_box(serde_json::from_slice::<IgnoredAny>(black_box(body)).expect("scan"));
                }
            }) / batch as f64
        };
        if rep % 2 == 0 {
            typed.push(run_typed());
            value.push(run_value());
            scan.push(run_scan());
        } else {
            scan.push(run_scan());
            value.push(run_value());
            typed.push(run_typed());
        }
    }
    let (t, v, s) = (median(&typed), median(&value), median(&scan));
    let mbs = |x: f64| body.len() as f64 / 1e6 / x;
    println!(
        "   {name:<22} {:>9} B  typed {:8.1} µs ({:5.0} MB/s)  Value {:8.1} µs  IgnoredAny scan {:7.1} µs ({:5.0} MB/s)  typed/scan {:.2}x  Value/scan {:.2}x",
        body.len(),
        t * 1e6,
        mbs(t),
        v * 1e6,
        s * 1e6,
        mbs(s),
        t / s,
        v / s
    );
    t
}

/// Median seconds of `f` over `reps` batches.
fn median_time(body: &[u8], reps: usize, f: impl Fn(&[u8])) -> f64 {
    let batch = (4_000_000 / body.len().max(1)).clamp(1, 200);
    let runs: Vec<f64> = (0..reps)
        .map(|_| {
            time(|| {
                for _ in 0..batch {
                    f(black_box(body));
                }
            }) / batch as f64
        })
        .collect();
    median(&runs)
}

fn bench_large(opts: &Opts) -> Res {
    let reps = opts.num("reps", 21usize);
    let agent = TestAgent::start()?;
    let small = fetch_raw(agent.url(), "/v1/agent/self")?;
    let big = big_self(&small, 1_000_000)?;
    let host = big_host(1_000_000)?;
    let parsed = GetSelf::new().parse_response(http::Response::builder().status(200).body(big.clone())?)?;
    assert!(parsed.config.0.len() > 10 && parsed.stats["runtime"].len() > 1000);
    let parsed_host = GetHostData::new().parse_response(http::Response::builder().status(200).body(host.clone())?)?;
    assert!(parsed_host.host_data.environment.len() > 1000);

    println!("== 4. large answers: parse (Endpoint::parse_response) vs serde_json IgnoredAny scan of the same bytes; median of {reps}");
    parse_rounds("/v1/agent/self (agent)", &GetSelf::new(), &small, reps);
    parse_rounds("/v1/agent/self (big)", &GetSelf::new(), &big, reps);
    let endpoint = parse_rounds("/v1/agent/host (big)", &GetHostData::new(), &host, reps);
    // HostDataResponse accepts two shapes by building a serde_json::Map first, then converting
    // it; a direct HostData parse shows what that detour costs.
    let direct = median_time(&host, reps, |b| {
        black_box(serde_json::from_slice::<HostData>(b).expect("host data"));
    });
    println!(
        "   /v1/agent/host (big)   direct serde_json::from_slice::<HostData> {:.1} µs: the endpoint's two-shape detour costs {:.2}x",
        direct * 1e6,
        endpoint / direct
    );

    // The whole response path: keep-alive GET of the big self body (gzipped), read, decode.
    let url = start_static_server(&[("/v1/agent/self", big.clone())])?;
    let client = client_for(&url)?;
    let bare = bare_agent_literal(true);
    let target = format!("{url}/v1/agent/self");
    assert_eq!(bare_get::<AgentSelf>(&bare, &target), client.agent().self_info()?);
    let calls = 20;
    let run_client = || {
        time(|| {
            for _ in 0..calls {
                black_box(client.agent().self_info().expect("self"));
            }
        }) / calls as f64
    };
    let run_bare = || {
        time(|| {
            for _ in 0..calls {
                black_box(bare_get::<AgentSelf>(&bare, &target));
            }
        }) / calls as f64
    };
    run_client();
    run_bare();
    let (a, b) = interleave(opts.num("rounds", 20), run_client, run_bare);
    let (ratio, q1, q3) = paired(&a, &b);
    println!(
        "   over HTTP (gzip, keep-alive, static server): client.agent().self_info() {:.0} µs vs bare ureq (+ IP-literal resolver) + from_slice::<AgentSelf> {:.0} µs: ratio {ratio:.3} (p25 {q1:.3}, p75 {q3:.3})",
        median(&a) * 1e6,
        median(&b) * 1e6
    );
    Ok(())
}
