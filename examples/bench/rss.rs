//! 3b. Streaming memory: peak RSS of `client.agent().monitor(..)` over a >= 1 GiB stream
//! served by `bench serve` in another process.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

use nomad_blocking::proto::agent::Monitor;
use nomad_blocking::proto::stream::LogLevel;
use nomad_blocking::test_agent::{log_line, MonitorFeed, TestAgent};

use crate::baseline::bare_agent;
use crate::decode::CHUNK;
use crate::stats::verdict;
use crate::{client_for, Opts, Res};

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

pub fn serve(opts: &Opts) -> Res {
    let feed = MonitorFeed::new().lines(opts.num("lines", 1000u64));
    let agent = TestAgent::builder().monitor(feed).start()?;
    println!("{}", agent.url());
    std::io::stdout().flush()?;
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    Ok(())
}

pub fn bench_rss(opts: &Opts) -> Res {
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
