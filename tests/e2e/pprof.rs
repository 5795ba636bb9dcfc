//! `/v1/agent/pprof/<profile>` end to end: profiles with their bytes and headers, buffered or
//! streamed to a writer past the body limit, timeouts extended by the recording time, unknown
//! profiles, the 403s (ACLs, or `enable_debug` off without ACLs) and a failing writer.

use std::io::Write;
use std::time::{Duration, Instant};

use nomad_blocking::http::{Request, Response};
use nomad_blocking::proto::agent::{Pprof, Target};
use nomad_blocking::proto::{BuildError, Config, Endpoint, ResponseError};
use nomad_blocking::test_agent::{Capability, TestAgent};
use nomad_blocking::{Client, Error, TransportErrorKind};

use crate::{client, client_with_token, response_error, start, support};

#[test]
fn pprof_profiles_come_back_with_their_bytes_and_headers() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let a = client(&agent);
    // Each profile as the agent sent it: the same bytes, content type and file name.
    let cases = [
        (a.agent().cpu_profile(1), "/v1/agent/pprof/profile?seconds=1", false),
        (a.agent().trace(1), "/v1/agent/pprof/trace?seconds=1", false),
        (a.agent().lookup("heap"), "/v1/agent/pprof/heap", false),
        (
            a.agent().pprof(&Pprof::lookup("goroutine").debug(1)),
            "/v1/agent/pprof/goroutine?debug=1",
            true,
        ),
        (a.agent().pprof(&Pprof::cmdline()), "/v1/agent/pprof/cmdline", true),
    ];
    for (profile, path, text) in cases {
        let profile = profile.unwrap_or_else(|e| panic!("{path}: {e}"));
        let sent = support::raw_exchange(agent.socket_addr().unwrap(), "GET", path, &[], b"");
        assert_eq!(sent.status, 200, "{path}");
        assert_eq!(profile.data, sent.body, "{path}");
        assert_eq!(profile.content_type.as_deref(), sent.header("content-type"), "{path}");
        let file_name = sent
            .header("content-disposition")
            .and_then(|d| d.split("filename=").nth(1))
            .map(|f| f.trim_matches('"'));
        assert_eq!(profile.file_name.as_deref(), file_name, "{path}");
        assert_eq!(profile.is_text(), text, "{path}");
        assert!(!profile.data.is_empty(), "{path}");
    }
}

#[test]
fn pprof_unknown_profile_is_not_found() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let a = client(&agent);
    let err = a.agent().lookup("nosuch").unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(response_error(&err).is_not_found());
    assert!(!err.is_method_not_allowed() && !err.is_permission_denied());
    assert_eq!(
        err.to_string(),
        "GET /v1/agent/pprof/nosuch: 404 Pprof profile not found profile: nosuch"
    );
}

#[test]
fn pprof_without_acls_and_without_enable_debug_explains_the_403() {
    let agent = start(TestAgent::builder());
    let err = client(&agent).agent().lookup("heap").unwrap_err();
    assert!(err.is_permission_denied());
    let text = err.to_string();
    assert!(text.contains("enable_debug") && text.contains("agent:write"), "{text}");
}

#[test]
fn pprof_with_acls_needs_agent_write() {
    let agent = start(
        TestAgent::builder()
            .token("reader", &[Capability::AgentRead])
            .token("writer", &[Capability::AgentWrite]),
    );
    assert!(client_with_token(&agent, "reader")
        .agent()
        .lookup("heap")
        .unwrap_err()
        .is_permission_denied());
    let heap = client_with_token(&agent, "writer")
        .agent()
        .lookup("heap")
        .expect("agent:write profiles");
    assert_eq!(heap.data.len(), 4096);
}

#[test]
fn pprof_forwarded_to_a_server() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let a = client(&agent);
    let op = Pprof::lookup("goroutine").target(Target::Server("leader".into()));
    assert_eq!(a.agent().pprof(&op).unwrap().file_name.as_deref(), Some("goroutine"));
    assert_eq!(agent.last_request().unwrap().query_param("server_id"), Some("leader"));
}

/// A destination that keeps only a length, a checksum and the largest single write.
#[derive(Default)]
struct Sink {
    len: u64,
    sum: u64,
    largest_write: usize,
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.len += buf.len() as u64;
        self.sum = buf
            .iter()
            .fold(self.sum, |s, b| s.wrapping_mul(31).wrapping_add(u64::from(*b)));
        self.largest_write = self.largest_write.max(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_multi_mib_profile_streams_to_a_writer_past_the_body_limit() {
    const SIZE: usize = 6 * 1024 * 1024;
    let agent = start(TestAgent::builder().enable_debug(true).profile_size(SIZE));
    let limited = Client::builder()
        .address(agent.url())
        .body_limit(1024 * 1024)
        .build()
        .unwrap();
    // Read into memory, the profile is over the limit ...
    let err = limited.agent().lookup("heap").unwrap_err();
    assert!(
        matches!(
            err.as_transport().map(|t| t.kind()),
            Some(TransportErrorKind::BodyTooLarge { .. })
        ),
        "{err:?}"
    );
    // ... streamed, it arrives whole, in bounded pieces.
    let mut sink = Sink::default();
    let written = limited
        .agent()
        .write_profile(&Pprof::lookup("heap"), &mut sink)
        .unwrap();
    assert_eq!(written, SIZE as u64);
    assert_eq!(sink.len, SIZE as u64);
    assert!(sink.largest_write <= 64 * 1024, "largest write {}", sink.largest_write);
    // Same bytes as the buffered call (with a limit that fits).
    let buffered = client(&agent).agent().lookup("heap").unwrap();
    let mut expected = Sink::default();
    expected.write_all(&buffered.data).unwrap();
    assert_eq!((sink.len, sink.sum), (expected.len, expected.sum));
}

#[test]
fn streaming_an_error_answer_writes_nothing() {
    let agent = start(TestAgent::builder());
    let mut out = Vec::new();
    let err = client(&agent)
        .agent()
        .write_profile(&Pprof::lookup("heap"), &mut out)
        .unwrap_err();
    assert!(err.is_permission_denied());
    assert!(err.to_string().contains("enable_debug"), "{err}");
    assert!(out.is_empty());

    agent.with_state(|s| s.enable_debug = true);
    let err = client(&agent)
        .agent()
        .write_profile(&Pprof::lookup("nosuch"), &mut out)
        .unwrap_err();
    assert!(response_error(&err).is_not_found());
    assert!(out.is_empty());
}

#[test]
fn a_failing_writer_is_a_write_error() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let agent = start(TestAgent::builder().enable_debug(true));
    let err = client(&agent)
        .agent()
        .write_profile(&Pprof::lookup("heap"), &mut Broken)
        .unwrap_err();
    match err {
        Error::Write(io) => assert_eq!(io.kind(), std::io::ErrorKind::StorageFull),
        other => panic!("expected Error::Write, got {other:?}"),
    }
}

/// A CPU profile request *without* the `ExpectedDuration` extension, to show what it is for.
struct UnannouncedCpuProfile;

impl Endpoint for UnannouncedCpuProfile {
    type Output = ();
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut request = Pprof::cpu_profile().seconds(PROFILE_SECONDS).to_request(config)?;
        request.extensions_mut().clear();
        Ok(request)
    }
    fn parse_response(&self, _: Response<Vec<u8>>) -> Result<(), ResponseError> {
        Ok(())
    }
}

/// The timeouts of the client in the profile test, and the length of its profiles: the
/// extended timeouts (timeout + profile) and the plain ones miss the profile's end by as much
/// either way.
const SHORT_TIMEOUT: Duration = Duration::from_millis(1_500);

const PROFILE_SECONDS: u32 = 3;

#[test]
fn a_profile_longer_than_the_call_timeout_still_succeeds() {
    let agent = start(TestAgent::builder().enable_debug(true));
    let short = Client::builder()
        .address(agent.url())
        .call_timeout(Some(SHORT_TIMEOUT))
        .read_timeout(Some(SHORT_TIMEOUT))
        .build()
        .unwrap();
    let profile_time = Duration::from_secs(PROFILE_SECONDS.into());
    // The agent records each profile for `seconds` before it answers, and serves requests
    // meanwhile: the three calls run side by side.
    std::thread::scope(|scope| {
        let buffered = scope.spawn(|| {
            let started = Instant::now();
            (short.agent().cpu_profile(PROFILE_SECONDS), started.elapsed())
        });
        let streamed = scope.spawn(|| {
            let mut sink = Sink::default();
            let written = short
                .agent()
                .write_profile(&Pprof::cpu_profile().seconds(PROFILE_SECONDS), &mut sink);
            (written, sink.len)
        });
        // The same request without the extension hits the short timeout.
        let unannounced = scope.spawn(|| short.call(&UnannouncedCpuProfile));

        let (profile, elapsed) = buffered.join().unwrap();
        let profile = profile.expect("the timeout is extended by `seconds`");
        assert!(
            elapsed >= profile_time,
            "the agent recorded for {profile_time:?}: {elapsed:?}"
        );
        assert_eq!(profile.file_name.as_deref(), Some("profile"));
        let (written, len) = streamed.join().unwrap();
        assert_eq!(written.expect("streaming is extended too"), 4096);
        assert_eq!(len, 4096);
        let err = unannounced.join().unwrap().unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    });
}
