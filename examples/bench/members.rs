//! 1. Per-call cost: `client.agent().members()` against bare ureq + `serde_json`.

use std::hint::black_box;

use nomad_blocking::proto::agent::ServerMembers;
use nomad_blocking::test_agent::TestAgent;

use crate::baseline::{bare_agent, bare_agent_literal, bare_get, fetch_raw};
use crate::server::start_static_server;
use crate::stats::{interleave, median, paired, rotate, time, verdict};
use crate::{client_for, Opts, Res};

pub fn bench_members(opts: &Opts) -> Res {
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
