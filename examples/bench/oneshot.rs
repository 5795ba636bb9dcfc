//! 2. One-shot process: `members_once` (one call, then exit) against `curl`.

use std::process::{Command, Stdio};

use nomad_blocking::test_agent::TestAgent;

use crate::stats::{interleave, mean, median, paired, time, verdict};
use crate::{Opts, Res};

pub fn bench_oneshot(opts: &Opts) -> Res {
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
