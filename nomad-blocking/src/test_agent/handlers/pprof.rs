//! `/v1/agent/pprof/<profile>`: Go runtime profiles of the agent (a debug endpoint: with ACLs
//! off it needs `enable_debug`).

use crate::test_agent::acl::debug_acl;
use crate::test_agent::reply::{text, try_reply, Reply};
use crate::test_agent::target::target;
use crate::test_agent::{AgentState, Capability, RecordedRequest};

/// This family's paths; `None` for any other.
pub(crate) fn route(state: &mut AgentState, req: &RecordedRequest) -> Option<Reply> {
    Some(match req.path.as_str() {
        // Go's ServeMux redirects a subtree root without its trailing slash.
        "/v1/agent/pprof" => Reply::Redirect(301, "/v1/agent/pprof/".into()),
        path => pprof(state, req, path.strip_prefix("/v1/agent/pprof/")?),
    })
}

/// Named profiles of Go's runtime/pprof.
const RUNTIME_PROFILES: [&str; 6] = ["goroutine", "threadcreate", "heap", "allocs", "block", "mutex"];

/// `/v1/agent/pprof/<name>`: any method; bad integers become 0; `seconds` defaults to 1.
fn pprof(state: &AgentState, req: &RecordedRequest, name: &str) -> Reply {
    if name.is_empty() {
        return text(404, "Invalid method");
    }
    let int = |p: &str| req.query_param(p).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let seconds = match int("seconds") {
        s if s <= 0 => 1,
        s => s,
    };
    let debug = int("debug");
    try_reply!(target(state, req));
    // The RPC checks agent:write, and with ACLs off the agent needs enable_debug.
    try_reply!(debug_acl(state, req, Capability::AgentWrite));
    let binary = |body: Vec<u8>| Reply::Bytes {
        content_type: "application/octet-stream",
        disposition: Some(format!("attachment; filename=\"{name}\"")),
        body,
    };
    let plain = |body: Vec<u8>| Reply::Bytes {
        content_type: "text/plain; charset=utf-8",
        disposition: None,
        body,
    };
    match name {
        "cmdline" => plain(b"/usr/local/bin/nomad\0agent\0-config=/etc/nomad.d".to_vec()),
        "profile" | "trace" => {
            // The agent records for `seconds` before it answers (capped at a minute here); the
            // reply is sent from its own thread, so other requests are served meanwhile.
            let delay = std::time::Duration::from_secs(seconds.unsigned_abs().min(60));
            Reply::After(delay, Box::new(binary(profile_bytes(name, state.profile_size))))
        }
        _ if RUNTIME_PROFILES.contains(&name) => {
            if debug != 0 {
                plain(profile_text(name, debug).into_bytes())
            } else {
                binary(profile_bytes(name, state.profile_size))
            }
        }
        _ => text(404, &format!("Pprof profile not found profile: {name}")),
    }
}

/// Plausible profile bytes of `size`: a gzip header (pprof's protobuf is gzipped) or a trace
/// header, then deterministic noise.
fn profile_bytes(name: &str, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    if name == "trace" {
        out.extend_from_slice(b"go 1.24 trace\x00\x00\x00");
    } else {
        out.extend_from_slice(&[0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff]);
    }
    let mut x: u64 = name.bytes().fold(0x9e37_79b9_7f4a_7c15, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    while out.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(size);
    out
}

/// A named profile as text (`debug=1`; `debug=2` for goroutine stacks).
fn profile_text(name: &str, debug: i64) -> String {
    match (name, debug) {
        ("goroutine", 2) => "goroutine 1 [chan receive, 42 minutes]:\n\
            main.main()\n\t/opt/nomad/main.go:40 +0x1c5\n\n\
            goroutine 57 [select]:\n\
            github.com/hashicorp/nomad/nomad.(*Worker).run(0xc000a1b2c0)\n\t/opt/nomad/nomad/worker.go:412 +0x2a5\n"
            .to_owned(),
        ("heap" | "allocs", _) => "heap profile: 12: 34560 [345: 1234567] @ heap/1048576\n\
            1: 8192 [1: 8192] @ 0x43a2f6 0x4064ac 0x46d2a1\n\
            #\t0x46d2a0\truntime/pprof.writeHeap+0x80\t/usr/local/go/src/runtime/pprof/pprof.go:540\n"
            .to_owned(),
        _ => format!(
            "{name} profile: total 144\n\
             12 @ 0x43a2f6 0x4064ac 0x46d2a1\n\
             #\t0x46d2a0\tgithub.com/hashicorp/nomad/nomad.(*Worker).run+0x80\t/opt/nomad/nomad/worker.go:412\n"
        ),
    }
}
