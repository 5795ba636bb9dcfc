//! 3a. Log-stream decoding: `LogDecoder` and `LogStream` against a bare `serde_json` scan.

use std::hint::black_box;
use std::sync::Arc;

use nomad_blocking::proto::stream::{LogDecoder, StreamFormat, StreamFrame};
use nomad_blocking::test_agent::log_line;
use nomad_blocking::LogStream;
use serde::de::IgnoredAny;

use crate::stats::{median, rotate, time, verdict};
use crate::{Opts, Res};

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
        let frame = StreamFrame::new(raw.drain(..raw.len().min(1024)).collect()).with_file_event("log");
        serde_json::to_writer(&mut body, &frame).expect("frame");
        frames += 1;
        if frames % 64 == 0 {
            body.extend_from_slice(b"{}");
        }
    }
    (body, lines, text)
}

pub const CHUNK: usize = 16 * 1024; // what LogStream reads at a time

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

pub fn bench_decode(opts: &Opts) -> Res {
    let mb = opts.num("mb", 96usize);
    let reps = opts.num("reps", 11usize);
    let (body, lines, text) = recording(mb << 20);
    // `BENCH_ONLY=none|scan|ref|owned`: build the recording, then run one variant once, for
    // instruction counts (`valgrind --tool=cachegrind`): a variant's cost is its count minus
    // `none`'s, whatever the load of the machine.
    if let Ok(only) = std::env::var("BENCH_ONLY") {
        let n = match only.as_str() {
            "none" => 0,
            "scan" => bare_scan(black_box(&body)),
            "ref" => decode_ref(black_box(&body)).0,
            "owned" => decode_owned(black_box(&body)).0,
            other => return Err(format!("BENCH_ONLY={other}: expected none, scan, ref or owned").into()),
        };
        println!("   {only} alone: {n} items from {:.1} MB", body.len() as f64 / 1e6);
        return Ok(());
    }
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
