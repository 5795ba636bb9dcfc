//! A `TestCluster` through the client, as an operator tool sees it: every member at its own
//! address on one port, the leader, a member that is down, a slow one, the keyring shared by
//! the alive members.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use nomad_blocking::http::StatusCode;
use nomad_blocking::proto::agent::MemberStatus;
use nomad_blocking::test_agent::{Capability, TestCluster};
use nomad_blocking::{Client, Error, SetupError};

fn loopback(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))
}

/// A client for `ip` on the cluster's port, as a tool builds it from a member's `Addr`.
fn client_at(cluster: &TestCluster, ip: IpAddr, timeout: Duration) -> Client {
    Client::builder()
        .address(format!("http://{}", SocketAddr::new(ip, cluster.port())))
        .call_timeout(Some(timeout))
        .build()
        .expect("client builds")
}

#[test]
fn every_member_answers_health_and_self_at_its_own_address_on_one_port() {
    let cluster = TestCluster::builder().servers(3).start().expect("cluster starts");
    assert_eq!(cluster.len(), 3);
    for (i, member) in cluster.members().iter().enumerate() {
        let n = u8::try_from(i + 1).unwrap();
        assert_eq!(member.addr(), SocketAddr::new(loopback(n), cluster.port()));
        assert_eq!(member.url(), format!("http://127.0.0.{n}:{}", cluster.port()));
        let client = member.client().unwrap();
        let health = client.agent().health().unwrap();
        assert!(health.is_healthy(), "member {i}: {:?}", health.problems());
        assert!(health.client.is_none(), "a server-only agent checks only its server");
        let me = client.agent().self_info().unwrap();
        assert_eq!(me.config.node_name(), Some(format!("nomad-{n}").as_str()));
        assert_eq!(me.member.name, format!("nomad-{n}.global"));
        assert_eq!(me.member.addr, Some(loopback(n)));
        let advertised = me.config.get("AdvertiseAddrs").and_then(|a| a.get("HTTP"));
        assert_eq!(
            advertised.and_then(|a| a.as_str()),
            Some(format!("127.0.0.{n}:{}", cluster.port()).as_str())
        );
        // The request reached this member's own agent, not another one.
        let agent = member.agent().expect("up");
        assert_eq!(agent.last_request().unwrap().path, "/v1/agent/self");
        assert_eq!(agent.requests().len(), 2);
    }
}

#[test]
fn members_lists_every_member_with_its_own_address_serf_name_and_tags() {
    let cluster = TestCluster::builder()
        .servers(4)
        .region("eu")
        .datacenter("fra1")
        .down(3)
        .start()
        .unwrap();
    for member in cluster.members().iter().filter(|m| !m.is_down()) {
        let answer = member.client().unwrap().agent().members().unwrap();
        assert_eq!(answer.server_name, member.node_name());
        assert_eq!(answer.server_region, "eu");
        assert_eq!(answer.server_dc, "fra1");
        assert_eq!(answer.members.len(), 4);
        for (i, m) in answer.members.iter().enumerate() {
            let n = u8::try_from(i + 1).unwrap();
            assert_eq!(m.name, format!("nomad-{n}.eu"));
            assert_eq!(m.node_name(), format!("nomad-{n}"));
            assert_eq!(m.addr, Some(loopback(n)));
            assert_eq!(m.port, 4648);
            assert!(m.is_server());
            assert_eq!((m.region(), m.datacenter()), (Some("eu"), Some("fra1")));
            assert_eq!(m.tag("rpc_addr"), Some(format!("127.0.0.{n}").as_str()));
            assert_eq!(m.tag("port"), Some("4647"));
            assert_eq!(m.tag("expect"), Some("4"), "bootstrap_expect is the server count");
            assert_eq!(
                m.tag("bootstrap"),
                None,
                "only a single-server cluster bootstraps itself"
            );
            assert_eq!(m.build(), Some("2.0.5"));
            let status = if i == 3 {
                MemberStatus::Failed
            } else {
                MemberStatus::Alive
            };
            assert_eq!(m.status, status, "{}", m.name);
        }
    }
}

#[test]
fn self_names_the_leader_on_every_member() {
    let cluster = TestCluster::builder().servers(3).leader(1).start().unwrap();
    assert_eq!(cluster.leader().map(|m| m.index()), Some(1));
    for member in cluster.members() {
        let me = member.client().unwrap().agent().self_info().unwrap();
        let leads = member.index() == 1;
        assert_eq!(me.stat("nomad", "leader"), Some(if leads { "true" } else { "false" }));
        assert_eq!(me.stat("nomad", "leader_addr"), Some("127.0.0.2:4647"));
        assert_eq!(
            me.stat("raft", "state"),
            Some(if leads { "Leader" } else { "Follower" })
        );
        assert_eq!(me.stat("raft", "num_peers"), Some("2"));
        assert_eq!(me.stat("serf", "members"), Some("3"));
    }
    // A new leader is seen by all.
    assert!(cluster.set_leader(Some(2)));
    for member in cluster.members() {
        let me = member.client().unwrap().agent().self_info().unwrap();
        assert_eq!(me.stat("nomad", "leader_addr"), Some("127.0.0.3:4647"));
        assert_eq!(
            me.stat("nomad", "leader"),
            Some(if member.index() == 2 { "true" } else { "false" })
        );
    }
}

#[test]
fn without_a_leader_every_member_is_unhealthy_as_a_single_agent_is() {
    let cluster = TestCluster::builder().servers(3).no_leader().start().unwrap();
    assert!(cluster.leader().is_none());
    for member in cluster.members() {
        let client = member.client().unwrap();
        let health = client.agent().health().unwrap();
        assert_eq!(health.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(health.problems(), ["server: no leader"]);
        let me = client.agent().self_info().unwrap();
        assert_eq!(me.stat("nomad", "leader_addr"), Some(""));
        assert_eq!(me.stat("raft", "state"), Some("Candidate"));
    }
    // Losing the leader through one member's state is seen by all, and so is a new one.
    assert!(cluster.set_leader(Some(0)));
    assert!(cluster
        .member(2)
        .unwrap()
        .client()
        .unwrap()
        .agent()
        .health()
        .unwrap()
        .is_healthy());
    cluster
        .member(1)
        .unwrap()
        .agent()
        .unwrap()
        .with_state(|s| s.has_leader = false);
    let health = cluster.member(2).unwrap().client().unwrap().agent().health().unwrap();
    assert_eq!(health.problems(), ["server: no leader"]);
}

#[test]
fn a_member_that_is_down_refuses_connections_and_the_others_list_it_as_failed() {
    let cluster = TestCluster::builder().servers(3).down(2).start().unwrap();
    let down = cluster.member(2).unwrap();
    assert!(down.is_down() && down.agent().is_none());
    let err = down.client().unwrap().agent().health().unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let failed: Vec<String> = cluster
        .member(0)
        .unwrap()
        .client()
        .unwrap()
        .agent()
        .members()
        .unwrap()
        .members
        .into_iter()
        .filter(|m| m.status == MemberStatus::Failed)
        .map(|m| m.name)
        .collect();
    assert_eq!(failed, ["nomad-3.global"]);
    let me = cluster
        .member(1)
        .unwrap()
        .client()
        .unwrap()
        .agent()
        .self_info()
        .unwrap();
    assert_eq!(me.stat("serf", "failed"), Some("1"));
}

#[test]
fn the_first_member_can_be_down_too() {
    // Its address, 127.0.0.1, holds the cluster's port and refuses connections.
    let cluster = TestCluster::builder().servers(2).leader(1).down(0).start().unwrap();
    let err = cluster
        .member(0)
        .unwrap()
        .client()
        .unwrap()
        .agent()
        .health()
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let up = cluster.member(1).unwrap().client().unwrap();
    assert!(up.agent().health().unwrap().is_healthy());
    assert_eq!(up.agent().members().unwrap().members[0].status, MemberStatus::Failed);
}

#[test]
fn a_slow_member_trips_a_short_call_timeout_while_the_others_answer() {
    let cluster = TestCluster::builder()
        .servers(3)
        .slow(1, Duration::from_secs(5))
        .start()
        .unwrap();
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = client_at(&cluster, loopback(2), timeout).agent().health().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the client gave up at its timeout"
    );
    for n in [1, 3] {
        let health = client_at(&cluster, loopback(n), timeout).agent().health();
        assert!(health.expect("answers within the timeout").is_healthy());
    }
    // The slow member is alive in gossip: it is slow, not gone.
    let members = client_at(&cluster, loopback(1), timeout)
        .agent()
        .members()
        .unwrap()
        .members;
    assert_eq!(members[1].status, MemberStatus::Alive);
    // Made fast again, it answers.
    cluster
        .member(1)
        .unwrap()
        .agent()
        .unwrap()
        .with_state(|s| s.response_delay = None);
    assert!(client_at(&cluster, loopback(2), timeout)
        .agent()
        .health()
        .unwrap()
        .is_healthy());
}

/// A 16-byte gossip key, base64.
const NEW_KEY: &str = "dGVzdC1jbHVzdGVyLWtleQ==";

#[test]
fn a_key_installed_on_one_member_is_reported_by_every_alive_member() {
    let cluster = TestCluster::builder()
        .servers(4)
        .down(3)
        .acl("root")
        .token("operator", &[Capability::AgentWrite])
        .start()
        .unwrap();
    let old_key = cluster.gossip_keys()[0].clone();
    let via = cluster.member(1).unwrap().client_with_token("operator").unwrap();
    let installed = via.agent().install_key(NEW_KEY).unwrap();
    // serf counts the alive members only: the one that is down neither answers nor counts.
    assert_eq!(installed.num_nodes, 3);
    assert_eq!(installed.keys.get(NEW_KEY), Some(&3));
    for member in cluster.members().iter().filter(|m| !m.is_down()) {
        let keys = member.client_with_token("root").unwrap().agent().list_keys().unwrap();
        assert_eq!(keys.num_nodes, 3, "{}", member.node_name());
        assert_eq!(keys.keys.get(NEW_KEY), Some(&3), "{}", member.node_name());
        assert_eq!(keys.keys.get(&old_key), Some(&3), "{}", member.node_name());
        assert_eq!(keys.partially_installed().count(), 0);
    }
    // The rotation goes on through other members: use the new key on one, remove the old on another.
    cluster
        .member(0)
        .unwrap()
        .client_with_token("root")
        .unwrap()
        .agent()
        .use_key(NEW_KEY)
        .unwrap();
    let removed = cluster
        .member(2)
        .unwrap()
        .client_with_token("root")
        .unwrap()
        .agent()
        .remove_key(old_key.as_str())
        .unwrap();
    assert_eq!(removed.keys.keys().collect::<Vec<_>>(), [NEW_KEY]);
    assert_eq!(cluster.gossip_keys(), [NEW_KEY]);
    let me = cluster
        .member(1)
        .unwrap()
        .client_with_token("root")
        .unwrap()
        .agent()
        .self_info()
        .unwrap();
    assert_eq!(me.stat("serf", "encrypted"), Some("true"));
}

#[test]
fn without_agent_write_a_member_refuses_the_keyring() {
    let cluster = TestCluster::builder().acl("root").start().unwrap();
    let anonymous = cluster.member(0).unwrap().client().unwrap();
    assert!(anonymous
        .agent()
        .install_key(NEW_KEY)
        .unwrap_err()
        .is_permission_denied());
    assert_eq!(cluster.gossip_keys().len(), 1, "nothing installed");
}

#[test]
fn a_join_or_force_leave_through_one_member_is_seen_by_the_others() {
    let cluster = TestCluster::builder().servers(3).start().unwrap();
    cluster
        .member(0)
        .unwrap()
        .agent()
        .unwrap()
        .with_state(|s| s.joinable.push("10.0.0.9".into()));
    let joined = cluster
        .member(0)
        .unwrap()
        .client()
        .unwrap()
        .agent()
        .join(["10.0.0.9"])
        .unwrap();
    assert_eq!(joined.num_joined, 1);
    cluster
        .member(1)
        .unwrap()
        .client()
        .unwrap()
        .agent()
        .force_leave("nomad-3.global")
        .unwrap();
    let members = cluster
        .member(2)
        .unwrap()
        .client()
        .unwrap()
        .agent()
        .members()
        .unwrap()
        .members;
    let view: Vec<(String, MemberStatus)> = members.into_iter().map(|m| (m.name, m.status)).collect();
    assert_eq!(
        view,
        [
            ("nomad-1.global".to_owned(), MemberStatus::Alive),
            ("nomad-2.global".to_owned(), MemberStatus::Alive),
            ("nomad-3.global".to_owned(), MemberStatus::Left),
            ("nomad-4.global".to_owned(), MemberStatus::Alive),
        ]
    );
    assert_eq!(cluster.gossip_members().len(), 4);
}

#[test]
fn a_health_sweep_reaches_every_member_from_one_address() {
    // What a sweep tool does: NOMAD_ADDR names one agent; the members' HTTP addresses are their
    // gossip `Addr` with NOMAD_ADDR's port.
    let cluster = TestCluster::builder()
        .servers(5)
        .down(4)
        .slow(3, Duration::from_secs(5))
        .start()
        .unwrap();
    let seed = cluster.member(0).unwrap().client().unwrap();
    let mut report = Vec::new();
    for member in seed.agent().members().unwrap().members {
        let client = client_at(&cluster, member.addr.unwrap(), Duration::from_millis(300));
        let outcome = match client.agent().health() {
            Ok(h) if h.is_healthy() => "healthy",
            Ok(_) => "unhealthy",
            Err(e) if e.is_timeout() => "timeout",
            Err(e) if e.is_connect() => "refused",
            Err(_) => "error",
        };
        report.push((member.node_name().to_owned(), outcome));
    }
    let expected = [
        ("nomad-1", "healthy"),
        ("nomad-2", "healthy"),
        ("nomad-3", "healthy"),
        ("nomad-4", "timeout"),
        ("nomad-5", "refused"),
    ];
    let expected: Vec<(String, &str)> = expected.iter().map(|(n, o)| ((*n).to_owned(), *o)).collect();
    assert_eq!(report, expected);
}

#[test]
fn a_plan_that_cannot_run_is_a_setup_error() {
    let cases = [
        TestCluster::builder().servers(3).leader(1).down(1),
        TestCluster::builder().servers(3).down(3),
        TestCluster::builder().servers(3).slow(7, Duration::from_secs(1)),
        TestCluster::builder().servers(0),
    ];
    for builder in cases {
        let plan = format!("{builder:?}");
        let err = builder.start().expect_err(&plan);
        match &err {
            Error::Setup(SetupError::TestAgentStart { source }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::InvalidInput, "{plan}: {source}");
            }
            other => panic!("{plan}: {other:?}"),
        }
        // The reason is in the message, once (no `source()` repeats it).
        assert!(err.to_string().starts_with("the test agent cannot start: "), "{err}");
        assert!(std::error::Error::source(&err).is_none(), "{plan}");
    }
}

#[test]
fn several_clusters_run_side_by_side_on_different_ports() {
    let a = TestCluster::start().unwrap();
    let b = TestCluster::start().unwrap();
    assert_ne!(a.port(), b.port());
    for cluster in [&a, &b] {
        let node = client_at(cluster, loopback(2), Duration::from_secs(5))
            .agent()
            .node_name()
            .unwrap();
        assert_eq!(node, "nomad-2", "the agent's node name, without the serf name's region");
    }
}
