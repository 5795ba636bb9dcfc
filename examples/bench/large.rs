//! 4. Large answers: big `/v1/agent/self` and host-data bodies, parsed and fetched.

use std::hint::black_box;

use nomad_blocking::proto::agent::{AgentSelf, GetHostData, GetSelf, HostData};
use nomad_blocking::proto::http;
use nomad_blocking::proto::Endpoint;
use nomad_blocking::test_agent::TestAgent;
use serde::de::IgnoredAny;

use crate::baseline::{bare_agent_literal, bare_get, fetch_raw};
use crate::server::start_static_server;
use crate::stats::{interleave, median, paired, time};
use crate::{client_for, Opts, Res};

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

pub fn bench_large(opts: &Opts) -> Res {
    let reps = opts.num("reps", 21usize);
    let agent = TestAgent::start()?;
    let small = fetch_raw(agent.url(), "/v1/agent/self")?;
    let big = big_self(&small, 1_000_000)?;
    let host = big_host(1_000_000)?;
    let parsed = GetSelf::new().parse_response(http::Response::builder().status(200).body(big.clone())?)?;
    assert!(parsed.config.as_map().len() > 10 && parsed.stats["runtime"].len() > 1000);
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
