//! The test agent's public API as a user's own tests use it: the state types built by hand, `?`
//! with the library's error, log feeds that last or end, the dropped-logs line through the client.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::Monitor;
use nomad_blocking::proto::stream::LogLevel;
use nomad_blocking::test_agent::{log_line, AgentState, Member, MemberStatus, MonitorFeed, Role, TestAgent};
use nomad_blocking::{Error, SetupError};

#[test]
fn members_built_by_a_user_are_what_the_agent_lists() {
    let agent = TestAgent::builder()
        .role(Role::Server)
        .members([
            Member::new("nomad-1", [10, 1, 0, 1]),
            Member::new("nomad-2", Ipv4Addr::new(10, 1, 0, 2)).with_status(MemberStatus::Failed),
            Member::new("nomad-3", IpAddr::from([10, 1, 0, 3]))
                .with_tag("build", "1.10.5")
                .with_tag("nonvoter", "1"),
        ])
        .start()
        .unwrap();
    let members = agent.client().unwrap().agent().members().unwrap().members;
    let view: Vec<(&str, Option<IpAddr>, &MemberStatus)> =
        members.iter().map(|m| (m.name.as_str(), m.addr, &m.status)).collect();
    assert_eq!(
        view,
        [
            ("nomad-1.global", Some([10, 1, 0, 1].into()), &MemberStatus::Alive),
            ("nomad-2.global", Some([10, 1, 0, 2].into()), &MemberStatus::Failed),
            ("nomad-3.global", Some([10, 1, 0, 3].into()), &MemberStatus::Alive),
        ]
    );
    assert_eq!(
        members[2].build(),
        Some("1.10.5"),
        "a tag of the user's replaces the agent's"
    );
    assert_eq!(members[2].tag("nonvoter"), Some("1"));
    assert_eq!(members[0].build(), Some("2.0.5"));
    // Only the alive members answer the keyring's serf query.
    assert_eq!(agent.client().unwrap().agent().list_keys().unwrap().num_nodes, 2);
    // The agent's own member, in `self`, is the one named like the agent.
    let me = agent.client().unwrap().agent().self_info().unwrap();
    assert_eq!(me.member.addr, Some([10, 1, 0, 1].into()));
}

#[test]
fn an_agent_state_built_by_a_user_is_what_the_agent_answers_from() {
    let mut state = AgentState::default();
    state.role = Role::Server;
    state.node_name = "edge-7".into();
    state.region = "eu".into();
    state.datacenter = "fra1".into();
    state.advertise_addr = [192, 0, 2, 7].into();
    state.members = vec![
        Member::new("edge-7", [192, 0, 2, 7]),
        Member::new("edge-8", [192, 0, 2, 8]),
    ];
    state.leader = "edge-8".into();
    state.tokens = BTreeMap::from([(
        "ops".to_owned(),
        vec![nomad_blocking::test_agent::Capability::Management],
    )]);
    let agent = TestAgent::builder().state(state).start().unwrap();

    let client = agent.client_with_token("ops").unwrap();
    let me = client.agent().self_info().unwrap();
    assert_eq!(me.config.node_name(), Some("edge-7"));
    assert_eq!(me.config.region(), Some("eu"));
    assert_eq!(me.member.name, "edge-7.eu");
    assert_eq!(me.stat("nomad", "leader"), Some("false"));
    assert_eq!(me.stat("nomad", "leader_addr"), Some("192.0.2.8:4647"));
    assert!(agent
        .client()
        .unwrap()
        .agent()
        .self_info()
        .unwrap_err()
        .is_permission_denied());
    // Read back through the state accessors.
    assert_eq!(agent.with_state(|s| s.leader_addr()), Some("192.0.2.8:4647".to_owned()));
    assert!(!agent.with_state(|s| s.is_leader()));
}

/// What a user's helper looks like: the test agent's start composes with the library's error.
fn first_member_name() -> Result<String, Error> {
    let agent = TestAgent::start()?;
    let members = agent.client()?.agent().members()?;
    Ok(members.members[0].name.clone())
}

#[test]
fn starting_the_agent_composes_with_the_librarys_error() {
    assert_eq!(first_member_name().unwrap(), "nomad-1.global");
}

#[cfg(unix)]
#[test]
fn an_agent_that_cannot_listen_is_a_setup_error_that_says_why() {
    let path = std::path::Path::new("/nonexistent-directory-for-the-test-agent/api.sock");
    let err = TestAgent::builder().start_unix(path).unwrap_err();
    let Error::Setup(SetupError::TestAgentStart { source }) = &err else {
        panic!("{err:?}");
    };
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    // The OS reason is in the message, once; the io::Error stays reachable.
    assert!(err.to_string().contains("no such file"), "{err}");
    assert!(std::error::Error::source(&err).is_none());
    let Error::Setup(setup) = &err else { unreachable!() };
    assert_eq!(
        setup.io_error().map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );
}

#[test]
fn the_default_feed_ends_the_stream_early() {
    // 200 lines at the default `info` level: 160 are sent, and the stream ends right away.
    let agent = TestAgent::start().unwrap();
    let started = Instant::now();
    let lines: Vec<String> = agent
        .client()
        .unwrap()
        .agent()
        .monitor(&Monitor::new())
        .unwrap()
        .map(|l| l.unwrap().text)
        .collect();
    assert_eq!(lines.len(), 160);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[test]
fn an_endless_feed_keeps_a_tail_going_at_its_pace() {
    let agent = TestAgent::builder().monitor(MonitorFeed::endless()).start().unwrap();
    let mut stream = agent
        .client()
        .unwrap()
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Trace))
        .unwrap();
    let started = Instant::now();
    let mut lines = Vec::new();
    while started.elapsed() < Duration::from_millis(1_200) {
        lines.push(stream.next().expect("the stream goes on").unwrap().text);
    }
    // A line every 100 ms: about 12 in 1.2 s, in order; never all at once.
    assert!((6..=14).contains(&lines.len()), "{} lines", lines.len());
    let expected: Vec<String> = (0..lines.len() as u64).map(|i| log_line(i, false).1).collect();
    assert_eq!(lines, expected);
}

#[test]
fn a_paced_feed_spreads_its_lines_and_then_lingers() {
    let feed = MonitorFeed::new()
        .lines(5)
        .pace(Duration::from_millis(150))
        .linger(Duration::from_millis(500));
    let agent = TestAgent::builder().monitor(feed).start().unwrap();
    let started = Instant::now();
    let items: Vec<_> = agent
        .client()
        .unwrap()
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Trace))
        .unwrap()
        .collect();
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    // Four pauses between five lines, the last pause, then the linger: over a second.
    assert!(
        started.elapsed() >= Duration::from_millis(1_000),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_dropped_logs_warning_reaches_the_client_as_a_line() {
    let feed = MonitorFeed::new().lines(10).dropped_after(3, 4);
    let agent = TestAgent::builder().monitor(feed).start().unwrap();
    let lines: Vec<String> = agent
        .client()
        .unwrap()
        .agent()
        .monitor(&Monitor::new().log_level(LogLevel::Trace))
        .unwrap()
        .map(|l| l.unwrap().text)
        .collect();
    let mut expected: Vec<String> = (0..3).map(|i| log_line(i, false).1).collect();
    expected.push("[WARN] Monitor dropped 4 logs during monitor request".to_owned());
    expected.extend((7..10).map(|i| log_line(i, false).1));
    assert_eq!(lines, expected);
}

#[test]
fn debug_output_hides_tokens_and_gossip_keys() {
    const TOKEN: &str = "0f1e2d3c-secret-management-token";
    const KEY: &str = "dGVzdC1jbHVzdGVyLWtleQ==";
    let agent = TestAgent::builder().acl(TOKEN).start().unwrap();
    agent
        .client_with_token(TOKEN)
        .unwrap()
        .agent()
        .install_key(KEY)
        .unwrap();
    let shown = format!(
        "{:?} {:?} {:?}",
        agent.with_state(|s| s.clone()),
        agent.requests(),
        nomad_blocking::test_agent::TestCluster::builder()
            .acl(TOKEN)
            .gossip_keys(&[KEY]),
    );
    assert!(!shown.contains(TOKEN) && !shown.contains(KEY), "{shown}");
    assert!(
        shown.contains("/v1/agent/keyring/install"),
        "the rest still shows: {shown}"
    );
    // The recorded request itself keeps everything, for the test to check.
    let install = agent.last_request().unwrap();
    assert_eq!(install.header("x-nomad-token"), Some(TOKEN));
    assert!(String::from_utf8_lossy(&install.body).contains(KEY));
}
