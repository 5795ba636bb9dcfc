//! `GetSelf` (`src/agent/self_info.rs`): the request, answers from a 2.0 server, a client-only
//! agent and an old 0.5 agent, the free-form `config` and string `stats`, and the node name /
//! datacenter / region an answer gives.

use nomad_proto::agent::{AgentSelf, GetSelf, MemberStatus};
use nomad_proto::http::Method;
use nomad_proto::{Endpoint, ResponseError};

use crate::common::*;

pub(crate) const SELF_SERVER_2_0: &str = r#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"nomad-1","DataDir":"/opt/nomad/data","PluginDir":"/opt/nomad/data/plugins","LogLevel":"INFO","LogJson":false,"LogFile":"","LogIncludeLocation":false,"LogRotateDuration":"","LogRotateBytes":0,"LogRotateMaxFiles":0,"BindAddr":"0.0.0.0","EnableDebug":false,"Ports":{"HTTP":4646,"RPC":4647,"Serf":4648},"Addresses":{"HTTP":"0.0.0.0","RPC":"0.0.0.0","Serf":"0.0.0.0"},"AdvertiseAddrs":{"HTTP":"10.0.0.1:4646","RPC":"10.0.0.1:4647","Serf":"10.0.0.1:4648"},"Client":{"Enabled":false,"StateDir":"","Servers":null,"GCInterval":60000000000},"Server":{"Enabled":true,"BootstrapExpect":3,"NumSchedulers":8,"EnabledSchedulers":["service","batch","system","sysbatch","_core"],"HeartbeatGrace":10000000000,"ServerJoin":null},"RPC":{},"ACL":{"Enabled":true,"TokenTTL":30000000000,"PolicyTTL":30000000000,"ReplicationToken":"<redacted>"},"Telemetry":{"CollectionInterval":"1s","CirconusAPIToken":"<redacted>"},"LeaveOnInt":false,"LeaveOnTerm":false,"EnableSyslog":false,"SyslogFacility":"LOCAL0","DisableUpdateCheck":false,"DisableAnonymousSignature":false,"Consuls":[{"Name":"default","Address":"127.0.0.1:8500","Token":"<redacted>"}],"Vaults":[{"Name":"default","Enabled":false}],"UI":{"Enabled":true},"DevMode":false,"Version":{"BuildDate":"2026-08-12T00:00:00Z","Revision":"5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8","Version":"2.0.5","VersionPrerelease":"","VersionMetadata":""},"Files":["/etc/nomad.d/nomad.hcl"],"ConfigPaths":["/etc/nomad.d"],"TLSConfig":{"EnableHTTP":false},"HTTPAPIResponseHeaders":{},"Sentinel":null,"Autopilot":{"CleanupDeadServers":true,"LastContactThreshold":200000000},"Plugins":[],"Limits":{"HTTPMaxConnsPerClient":100},"Audit":null,"Reporting":{"License":{"Enabled":false}},"KEKProviders":[],"Eventlog":null},"member":{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc1","build":"2.0.5","revision":"5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8","vsn":"1","raft_vsn":"3","id":"5b2f8e4c-1d1a-4c3e-9a8b-000000000001","rpc_addr":"10.0.0.1","port":"4647","bootstrap":"1"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},"stats":{"nomad":{"server":"true","leader":"true","leader_addr":"10.0.0.1:4647","bootstrap":"false","known_regions":"1"},"raft":{"applied_index":"1523","commit_index":"1523","fsm_pending":"0","last_contact":"0","num_peers":"2","protocol_version":"3","state":"Leader","term":"2","logstore_backend":"raft-wal"},"serf":{"encrypted":"false","failed":"0","left":"0","members":"3"},"runtime":{"arch":"amd64","cpu_count":"8","goroutines":"144","kernel.name":"linux","max_procs":"8","version":"go1.24.6"}}}"#;

pub(crate) const SELF_CLIENT_ONLY_2_0: &str = r#"{"config":{"Region":"eu-west","Datacenter":"eu-west-1a","NodeName":"worker-7","DataDir":"/var/lib/nomad","Client":{"Enabled":true,"Servers":["10.0.0.1:4647"]},"Server":{"Enabled":false},"ACL":{"Enabled":false},"Version":{"BuildDate":"2026-08-12T00:00:00Z","Revision":"5c8612bb","Version":"2.0.5","VersionPrerelease":"","VersionMetadata":""}},"member":{"Name":"","Addr":null,"Port":0,"Tags":null,"Status":"none","ProtocolMin":0,"ProtocolMax":0,"ProtocolCur":0,"DelegateMin":0,"DelegateMax":0,"DelegateCur":0},"stats":{"client":{"heartbeat_ttl":"17.79s","known_servers":"10.0.0.1:4647,10.0.0.2:4647","last_heartbeat":"3.2s","node_id":"f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f","num_allocations":"2"},"runtime":{"arch":"arm64","cpu_count":"4","goroutines":"88","kernel.name":"linux","max_procs":"4","version":"go1.24.6"}}}"#;

/// The docs' 0.5.5-era sample: `Version` is a string with top-level `VersionPrerelease` and
/// `Revision`, `Consul`/`Vault` are objects, and there is no `ACL`, `Reporting`, `raft`, ….
pub(crate) const SELF_OLD_0_5: &str = r#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"bacon-mac","DataDir":"/tmp/nomad","LogLevel":"DEBUG","BindAddr":"127.0.0.1","EnableDebug":true,"Ports":{"HTTP":4646,"RPC":4647,"Serf":4648},"Consul":{"Addr":"","Auth":"","AutoAdvertise":true,"ChecksUseAdvertise":false,"ClientAutoJoin":true,"ClientServiceName":"nomad-client","EnableSSL":false,"ServerAutoJoin":true,"ServerServiceName":"nomad","Timeout":5000000000,"Token":"","VerifySSL":false},"Vault":{"Addr":"https://vault.service.consul:8200","Enabled":null,"TLSSkipVerify":null},"Revision":"f551dcb83e3ac144c9dbb90583b6e82d234662e9","Version":"0.5.5","VersionPrerelease":"dev"},"member":{"Addr":"127.0.0.1","DelegateCur":4,"DelegateMax":4,"DelegateMin":2,"Name":"bacon-mac.global","Port":4648,"ProtocolCur":2,"ProtocolMax":5,"ProtocolMin":1,"Status":"alive","Tags":{"role":"nomad","region":"global","dc":"dc1","vsn":"1","mvn":"1","build":"0.5.5dev","port":"4647","bootstrap":"1"}},"stats":{"client":{"heartbeat_ttl":"17.79568937s","known_servers":"127.0.0.1:4647","last_heartbeat":"10.107423052s","node_id":"fb2170a8-257d-3c64-b14d-bc06cc94e34c","num_allocations":"0"},"nomad":{"bootstrap":"false","known_regions":"1","leader":"true","server":"true"},"runtime":{"arch":"amd64","cpu_count":"8","goroutines":"79","kernel.name":"darwin","max_procs":"7","version":"go1.8"}}}"#;

#[test]
fn get_self_is_get_v1_agent_self() {
    let req = GetSelf::new().to_request(&config()).unwrap();
    assert_eq!(req.method(), Method::GET);
    assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/self");
}

#[test]
fn self_from_a_2_0_server() {
    let me = GetSelf::new().parse_response(json_ok(SELF_SERVER_2_0)).unwrap();
    assert_eq!(me.config.region(), Some("global"));
    assert_eq!(me.config.datacenter(), Some("dc1"));
    assert_eq!(me.config.node_name(), Some("nomad-1"));
    assert_eq!(me.config.data_dir(), Some("/opt/nomad/data"));
    assert_eq!(me.config.version().as_deref(), Some("2.0.5"));
    assert_eq!(me.config.acl_enabled(), Some(true));
    assert_eq!(me.config.enable_debug(), Some(false));
    assert!(me.config.get("Consuls").unwrap().is_array());
    assert_eq!(me.member.name, "nomad-1.global");
    assert_eq!(me.member.node_name(), "nomad-1");
    assert!(!me.member.is_empty());
    assert!(me.is_server());
    assert!(!me.is_client());
    assert_eq!(me.stat("nomad", "leader"), Some("true"));
    assert_eq!(me.stat("raft", "state"), Some("Leader"));
    assert_eq!(me.stat("raft", "logstore_backend"), Some("raft-wal"));
    assert_eq!(me.stat("runtime", "goroutines"), Some("144"));
    assert_eq!(me.stat("client", "node_id"), None);
}

#[test]
fn self_from_a_client_only_agent_has_the_zero_member() {
    let me = GetSelf::new().parse_response(json_ok(SELF_CLIENT_ONLY_2_0)).unwrap();
    assert!(me.member.is_empty());
    assert_eq!(me.member.name, "");
    assert_eq!(me.member.addr, None);
    assert!(me.member.tags.is_empty());
    assert_eq!(me.member.status, MemberStatus::None);
    assert!(!me.member.is_server());
    assert!(me.is_client());
    assert!(!me.is_server());
    assert_eq!(me.stat("client", "known_servers"), Some("10.0.0.1:4647,10.0.0.2:4647"));
    assert_eq!(me.stat("client", "heartbeat_ttl"), Some("17.79s"));
    assert_eq!(me.config.region(), Some("eu-west"));
    assert_eq!(me.config.acl_enabled(), Some(false));
}

#[test]
fn self_from_an_old_agent_with_a_version_string_and_consul_vault_objects() {
    let me = GetSelf::new().parse_response(json_ok(SELF_OLD_0_5)).unwrap();
    assert_eq!(me.config.version().as_deref(), Some("0.5.5-dev"));
    assert_eq!(me.config.region(), Some("global"));
    assert_eq!(me.config.node_name(), Some("bacon-mac"));
    assert_eq!(me.config.acl_enabled(), None, "old agents have no ACL block");
    assert_eq!(me.config.enable_debug(), Some(true));
    assert!(me.config.get("Consul").unwrap().is_object());
    assert_eq!(me.member.tag("mvn"), Some("1"));
    assert_eq!(me.member.build(), Some("0.5.5dev"));
    assert!(me.is_server() && me.is_client());
    assert_eq!(me.stat("raft", "state"), None);
}

#[test]
fn self_version_object_with_a_prerelease() {
    let body = r#"{"config":{"Version":{"Version":"2.1.0","VersionPrerelease":"beta.1","VersionMetadata":""}},"member":{},"stats":{}}"#;
    let me = GetSelf::new().parse_response(json_ok(body)).unwrap();
    assert_eq!(me.config.version().as_deref(), Some("2.1.0-beta.1"));
}

#[test]
fn self_with_missing_keys_parses_to_defaults() {
    let me = GetSelf::new().parse_response(json_ok("{}")).unwrap();
    assert!(me.member.is_empty());
    assert!(me.stats.is_empty());
    assert_eq!(me.config.region(), None);
    assert_eq!(me.config.version(), None);
}

#[test]
fn stats_with_non_string_leaf_values_are_kept_as_text() {
    let body = r#"{"config":{},"member":{},"stats":{"runtime":{"goroutines":144,"cgo":true,"ratio":0.5,"gone":null,"nested":{"a":1}},"empty":null,"client":{"node_id":"abc"}}}"#;
    let me = GetSelf::new().parse_response(json_ok(body)).unwrap();
    assert_eq!(me.stat("runtime", "goroutines"), Some("144"));
    assert_eq!(me.stat("runtime", "cgo"), Some("true"));
    assert_eq!(me.stat("runtime", "ratio"), Some("0.5"));
    assert_eq!(me.stat("runtime", "gone"), Some(""));
    assert_eq!(me.stat("runtime", "nested"), Some(r#"{"a":1}"#));
    assert!(me.stats["empty"].is_empty());
    assert_eq!(me.stat("client", "node_id"), Some("abc"));
}

#[test]
fn self_ignores_unknown_top_level_fields() {
    let body = r#"{"config":{"Region":"global"},"member":{"Name":"a.global","Addr":"10.0.0.9","Port":4648,"Tags":{"region":"global"},"Status":"alive","NewThing":1},"stats":{},"future":[1]}"#;
    let me = GetSelf::new().parse_response(json_ok(body)).unwrap();
    assert_eq!(me.member.node_name(), "a");
}

fn agent_self(body: &str) -> AgentSelf {
    serde_json::from_str(body).expect("valid self body")
}

#[test]
fn server_self_gives_member_name_datacenter_and_region() {
    let me = agent_self(
        r#"{"config":{"Region":"eu","Datacenter":"eu-west-1a","NodeName":"nomad-1"},
            "member":{"Name":"nomad-1.eu","Addr":"10.0.0.1","Tags":{"region":"eu","dc":"eu-west-1a"},"Status":"alive"},
            "stats":{}}"#,
    );
    assert_eq!(me.node_name(), Some("nomad-1"), "the node name has no region");
    assert_eq!(
        me.member_name(),
        Some("nomad-1.eu"),
        "the member name (Go's NodeName()) is the node name and the region"
    );
    assert_eq!(me.datacenter(), Some("eu-west-1a"));
    assert_eq!(me.region(), Some("eu"));
}

#[test]
fn client_only_self_falls_back_to_the_configured_node_name() {
    let me = agent_self(
        r#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"client-7"},
            "member":{"Name":"","Addr":null,"Port":0,"Tags":null,"Status":"none"},"stats":{"client":{}}}"#,
    );
    assert_eq!(me.node_name(), Some("client-7"));
    assert_eq!(me.datacenter(), Some("dc1"));
}

#[test]
fn self_without_values_reports_none_and_tags_fill_gaps() {
    let me = agent_self(r#"{"config":{"Region":"","NodeName":""},"member":{"Name":""},"stats":{}}"#);
    assert_eq!((me.node_name(), me.datacenter(), me.region()), (None, None, None));
    let me = agent_self(r#"{"config":{},"member":{"Name":"n.global","Tags":{"region":"global","dc":"dc9"}}}"#);
    assert_eq!((me.datacenter(), me.region()), (Some("dc9"), Some("global")));
    let err = ResponseError::MissingValue {
        what: "datacenter (config.Datacenter)",
    };
    assert_eq!(
        err.to_string(),
        "the agent's answer has no datacenter (config.Datacenter)"
    );
}

/// Every accessor on a server's and a client-only agent's answer (the bodies above, as Nomad
/// 2.0 sends them): the node name is never suffixed, the member name exists only on a server,
/// and all of them return the same kind.
#[test]
fn accessors_on_a_server_and_a_client_only_answer() {
    let server = GetSelf::new().parse_response(json_ok(SELF_SERVER_2_0)).unwrap();
    assert_eq!(server.node_name(), Some("nomad-1"));
    assert_eq!(server.member_name(), Some("nomad-1.global"));
    assert_eq!(server.region(), Some("global"));
    assert_eq!(server.datacenter(), Some("dc1"));
    assert_eq!(server.version(), Some("2.0.5"));
    assert_eq!(server.member.node_name(), "nomad-1");
    assert_eq!(server.member.name, "nomad-1.global");

    let client = GetSelf::new().parse_response(json_ok(SELF_CLIENT_ONLY_2_0)).unwrap();
    assert_eq!(client.node_name(), Some("worker-7"));
    assert_eq!(client.member_name(), None, "a client-only agent is no gossip member");
    assert_eq!(client.region(), Some("eu-west"));
    assert_eq!(client.datacenter(), Some("eu-west-1a"));
    assert_eq!(client.version(), Some("2.0.5"));

    let old = GetSelf::new().parse_response(json_ok(SELF_OLD_0_5)).unwrap();
    assert_eq!(old.node_name(), Some("bacon-mac"));
    assert_eq!(old.member_name(), Some("bacon-mac.global"));
    assert_eq!(old.version(), Some("0.5.5-dev"));
}

#[test]
fn without_node_name_the_node_name_is_the_member_name_without_its_region() {
    let me =
        agent_self(r#"{"config":{"Region":"eu"},"member":{"Name":"nomad-3.eu","Tags":{"region":"eu"}},"stats":{}}"#);
    assert_eq!(me.node_name(), Some("nomad-3"));
    assert_eq!(me.member_name(), Some("nomad-3.eu"));
}

/// The version as the agent prints it (Nomad `version/version.go`): prerelease after `-`,
/// metadata (Enterprise, FIPS) after `+`.
#[test]
fn the_version_includes_prerelease_and_enterprise_metadata() {
    let version = |v: &str, pre: &str, meta: &str| {
        let body = format!(
            r#"{{"config":{{"Version":{{"Version":"{v}","VersionPrerelease":"{pre}","VersionMetadata":"{meta}"}}}},"member":{{}},"stats":{{}}}}"#
        );
        let me = GetSelf::new().parse_response(json_ok(&body)).unwrap();
        assert_eq!(
            me.version().map(str::to_owned),
            me.config.version(),
            "both accessors agree"
        );
        me.version().map(str::to_owned)
    };
    assert_eq!(version("2.0.5", "", "").as_deref(), Some("2.0.5"));
    assert_eq!(version("2.0.5", "", "ent").as_deref(), Some("2.0.5+ent"));
    assert_eq!(
        version("2.0.5", "", "ent.fips1403").as_deref(),
        Some("2.0.5+ent.fips1403")
    );
    assert_eq!(version("2.1.0", "beta.1", "").as_deref(), Some("2.1.0-beta.1"));
    assert_eq!(version("2.1.0", "rc.1", "ent").as_deref(), Some("2.1.0-rc.1+ent"));
    assert_eq!(version("", "", "ent"), None, "no version number, no version");
    // Old agents: top-level `Version`, `VersionPrerelease` and `VersionMetadata` strings.
    let me = agent_self(r#"{"config":{"Version":"0.9.0","VersionPrerelease":"","VersionMetadata":"ent"}}"#);
    assert_eq!(me.version(), Some("0.9.0+ent"));
}

#[test]
fn a_self_answer_of_another_shape_is_a_decode_error() {
    for body in [r#"[{"Region":"global"},{"Name":"n"},{}]"#, "null", r#""self""#] {
        let err = GetSelf::new().parse_response(json_ok(body)).unwrap_err();
        assert!(matches!(err, ResponseError::Decode { .. }), "{body}: {err:?}");
    }
}

/// Either sign of a server is enough: a `nomad` stats section (the server's own stats), or a
/// member with the server's tags (an answer whose stats were left out).
#[test]
fn a_server_is_recognised_by_its_stats_or_by_its_member() {
    assert!(agent_self(r#"{"stats":{"nomad":{"leader":"true"}}}"#).is_server());
    let member_only = agent_self(
        r#"{"member":{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Status":"alive","Tags":{"role":"nomad","region":"global","dc":"dc1"}}}"#,
    );
    assert!(member_only.member.is_server());
    assert!(member_only.is_server());
    assert!(!agent_self(r#"{"stats":{"client":{}}}"#).is_server());
}

/// The agent's `config` object, built and read back whole (for a test's canned answer).
#[test]
fn agent_config_is_built_from_and_read_as_a_json_object() {
    let mut map = serde_json::Map::new();
    map.insert("Datacenter".to_owned(), serde_json::json!("dc2"));
    let config = nomad_proto::agent::AgentConfig::from(map.clone());
    assert_eq!(config.as_map(), &map);
    assert_eq!(config.datacenter(), Some("dc2"));
    assert_eq!(config.into_map(), map);
}
