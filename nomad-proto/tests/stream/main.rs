//! Tests for `nomad_proto::stream`: decoding `/v1/agent/monitor` and `/v1/agent/monitor/export`
//! bodies into log lines, and parsing hclog JSON records. The shared helpers are here; one module
//! per subject.

mod decoder;
mod errors;
mod frame;
mod framed;
mod limits;
mod plain;
mod record;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use nomad_proto::stream::{LogDecoder, LogLevel, LogLine, LogRecord, StreamError, StreamFormat, StreamFrame};

/// Realistic agent log lines (hclog text format), including a line longer than one frame,
/// quotes, braces and non-ASCII text.
fn agent_log_lines() -> Vec<String> {
    let mut lines = vec![
        "==> Loaded configuration from /etc/nomad.d/nomad.hcl".to_owned(),
        "2024-05-01T10:00:00.123Z [INFO]  agent: detected plugin: name=docker type=driver plugin_version=0.1.0".to_owned(),
        "2024-05-01T10:00:00.124Z [INFO]  agent: detected plugin: name=raw_exec type=driver plugin_version=0.1.0".to_owned(),
        "2024-05-01T10:00:00.456Z [DEBUG] client.driver_mgr.docker: using client connection initialized from environment: driver=docker".to_owned(),
        "2024-05-01T10:00:01.001Z [WARN]  client.fingerprint_mgr.network: unable to parse speed: path=/usr/sbin/ethtool device=eth0".to_owned(),
        r#"2024-05-01T10:00:01.002Z [ERROR] http: request failed: method=GET path="/v1/agent/health?type=server" error="{\"server\":{\"ok\":false,\"message\":\"No known servers\"}}" code=500"#.to_owned(),
        "2024-05-01T10:00:01.500Z [INFO]  client.alloc_runner.task_runner: Task event: alloc_id=2f1b6c3e-8d9a-4b7e-9c1f-0a2b3c4d5e6f task=wëb-ünïcode type=Started msg=\"Task started by client ✓\"".to_owned(),
    ];
    // A stack-trace-like line longer than a 1024-byte frame.
    let mut long = String::from("2024-05-01T10:00:02.000Z [ERROR] client.alloc_runner: panic: ");
    while long.len() < 2600 {
        long.push_str(
            "goroutine 42 [running]: github.com/hashicorp/nomad/client/allocrunner.(*allocRunner).Run(0xc000a1b2c0) ",
        );
    }
    lines.push(long);
    for i in 0..20 {
        lines.push(format!(
            "2024-05-01T10:00:{:02}.{:03}Z [TRACE] nomad.rpc: request complete: method=Node.GetClientAllocs duration={}µs index={}",
            3 + i,
            i * 37 % 1000,
            100 + i * 13,
            1000 + i
        ));
    }
    lines
}

/// The stream body the agent sends for `text` on `/v1/agent/monitor`: `Data` chunks of at
/// most 1024 bytes that split lines anywhere, `FileEvent` "log", no `Offset`, and `{}`
/// heartbeats in between.
fn monitor_body(text: &[u8]) -> Vec<u8> {
    let sizes = [1024, 300, 1024, 1, 77, 1024, 512, 2];
    let mut body = b"{}".to_vec();
    let mut rest = text;
    let mut n = 0;
    while !rest.is_empty() {
        let take = sizes[n % sizes.len()].min(rest.len());
        let (chunk, tail) = rest.split_at(take);
        body.extend_from_slice(format!(r#"{{"Data":"{}","FileEvent":"log"}}"#, BASE64.encode(chunk)).as_bytes());
        rest = tail;
        n += 1;
        if n % 2 == 0 {
            body.extend_from_slice(b"{}");
        }
    }
    body
}

fn data_frame(data: &[u8]) -> String {
    format!(r#"{{"Data":"{}","FileEvent":"log"}}"#, BASE64.encode(data))
}

/// The frames the agent sends for `chunks` on `/v1/agent/monitor/export`: `Data` and a
/// cumulative `Offset` (the bytes sent so far, this frame included), and never `File` or
/// `FileEvent` (Nomad `command/agent/monitor/stream_helpers.go` and
/// `client/lib/streamframer/framer.go`, 2.0.x).
fn export_frames(chunks: &[&[u8]]) -> Vec<String> {
    let mut offset = 0;
    chunks
        .iter()
        .map(|data| {
            offset += data.len();
            format!(r#"{{"Offset":{offset},"Data":"{}"}}"#, BASE64.encode(data))
        })
        .collect()
}

/// Everything a decoder produces for a body pushed in the given chunks: the lines, then the
/// error that stopped it, if any.
#[derive(Debug, PartialEq)]
struct Outcome {
    lines: Vec<LogLine>,
    error: Option<String>,
}

impl Outcome {
    fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|l| l.text.as_str()).collect()
    }
}

fn decode_with(mut decoder: LogDecoder, chunks: &[&[u8]]) -> Outcome {
    let mut lines = Vec::new();
    for chunk in chunks {
        decoder.push(chunk);
        loop {
            match decoder.next_line() {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => break,
                Err(e) => {
                    return Outcome {
                        lines,
                        error: Some(e.to_string()),
                    }
                }
            }
        }
    }
    loop {
        match decoder.finish() {
            Ok(Some(line)) => lines.push(line),
            Ok(None) => return Outcome { lines, error: None },
            Err(e) => {
                return Outcome {
                    lines,
                    error: Some(e.to_string()),
                }
            }
        }
    }
}

fn decode(format: StreamFormat, chunks: &[&[u8]]) -> Outcome {
    decode_with(LogDecoder::new(format), chunks)
}

/// Decodes `body` pushed in one piece, then checks that every two-piece split and one-byte
/// pushes give exactly the same outcome.
fn decode_any_split(format: StreamFormat, body: &[u8]) -> Outcome {
    let whole = decode(format, &[body]);
    for split in 0..=body.len() {
        let (a, b) = body.split_at(split);
        assert_eq!(decode(format, &[a, b]), whole, "split at byte {split}");
    }
    let bytes: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(decode(format, &bytes), whole, "one-byte pushes");
    whole
}

/// Collects lines until `next_line` returns `Ok(None)` or an error.
fn drain(decoder: &mut LogDecoder) -> Result<Vec<String>, StreamError> {
    let mut lines = Vec::new();
    while let Some(line) = decoder.next_line()? {
        lines.push(line.text);
    }
    Ok(lines)
}
