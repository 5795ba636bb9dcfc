//! The seven core agent endpoints (members, servers GET/PUT, self, join, force-leave, health):
//! what goes on the wire, what realistic answers parse into, how errors look, and how the
//! connection settings are resolved. Pure function calls on bytes: no sockets.
//!
//! The wire facts are Nomad 2.0.x's: the answers of `command/agent/agent_endpoint.go` and
//! `command/agent/http.go`, the requests of the Go client's `api/agent.go`.

use std::net::IpAddr;

use nomad_proto::agent::{
    AgentRole, ForceLeave, GetHealth, GetSelf, Join, ListMembers, ListServers, MemberStatus, SetServers,
};
use nomad_proto::config::Address;
use nomad_proto::http::{Method, Request, Response, StatusCode};
use nomad_proto::{BuildError, Config, Endpoint, ResponseError, WithCallOptions};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const BASE: &str = "http://127.0.0.1:4646";

fn config() -> Config {
    Config::builder().address(BASE).build().expect("valid config")
}

fn config_with_token(token: &str) -> Config {
    Config::builder()
        .address(BASE)
        .token(token)
        .build()
        .expect("valid config")
}

fn response(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

/// An agent error answer: `text/plain; charset=utf-8`, the bare message with no newline (the
/// agent's `wrap` in `command/agent/http.go`).
fn text_error(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

fn json_ok(body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

/// The decoded query pairs of a request, in order.
fn query_pairs(req: &Request<Vec<u8>>) -> Vec<(String, String)> {
    form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn query_values(req: &Request<Vec<u8>>, name: &str) -> Vec<String> {
    query_pairs(req)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v)
        .collect()
}

fn header_values<'a>(req: &'a Request<Vec<u8>>, name: &str) -> Vec<&'a str> {
    req.headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().expect("ascii header"))
        .collect()
}

/// Applies per-call options to an operation.
type Tweak<'a> = &'a dyn Fn(&mut nomad_proto::CallOptions);

type Built = Result<Request<Vec<u8>>, BuildError>;

/// One request builder per core endpoint, so that header and option rules are checked on all
/// seven. `tweak` applies per-call options.
struct Core {
    name: &'static str,
    build: fn(&Config, Tweak<'_>) -> Built,
}

fn with<E: Endpoint + WithCallOptions>(mut op: E, config: &Config, tweak: Tweak<'_>) -> Built {
    tweak(op.call_options_mut());
    op.to_request(config)
}

fn core_endpoints() -> Vec<Core> {
    vec![
        Core {
            name: "ListMembers",
            build: |c, t| with(ListMembers::new(), c, t),
        },
        Core {
            name: "ListServers",
            build: |c, t| with(ListServers::new(), c, t),
        },
        Core {
            name: "SetServers",
            build: |c, t| with(SetServers::new(["10.0.0.1:4647"]), c, t),
        },
        Core {
            name: "GetSelf",
            build: |c, t| with(GetSelf::new(), c, t),
        },
        Core {
            name: "Join",
            build: |c, t| with(Join::new(["10.0.0.4"]), c, t),
        },
        Core {
            name: "ForceLeave",
            build: |c, t| with(ForceLeave::new("nomad-2.global"), c, t),
        },
        Core {
            name: "GetHealth",
            build: |c, t| with(GetHealth::new(), c, t),
        },
    ]
}

fn no_tweak(_: &mut nomad_proto::CallOptions) {}

// Realistic bodies from a Nomad 2.0 agent: compact JSON in struct field order, as go-msgpack's
// JSON handle writes it (`structs.ServerMembersResponse`, `agentSelf` in
// `command/agent/agent_endpoint.go`).

const MEMBERS_2_0: &str = r#"{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc1","build":"2.0.5","revision":"5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8","vsn":"1","raft_vsn":"3","id":"5b2f8e4c-1d1a-4c3e-9a8b-000000000001","rpc_addr":"10.0.0.1","port":"4647","bootstrap":"1"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},{"Name":"nomad-2.global","Addr":"10.0.0.2","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc2","build":"2.0.5","revision":"5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8","vsn":"1","raft_vsn":"3","id":"5b2f8e4c-1d1a-4c3e-9a8b-000000000002","rpc_addr":"10.0.0.2","port":"4647","expect":"3","nonvoter":"1","ap_zone":"zone-b","ap_version":"2.0.5"},"Status":"failed","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},{"Name":"nomad-3.global","Addr":"fd00::3","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc1","build":"2.0.5","port":"4647"},"Status":"left","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4}]}"#;

const SELF_SERVER_2_0: &str = r#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"nomad-1","DataDir":"/opt/nomad/data","PluginDir":"/opt/nomad/data/plugins","LogLevel":"INFO","LogJson":false,"LogFile":"","LogIncludeLocation":false,"LogRotateDuration":"","LogRotateBytes":0,"LogRotateMaxFiles":0,"BindAddr":"0.0.0.0","EnableDebug":false,"Ports":{"HTTP":4646,"RPC":4647,"Serf":4648},"Addresses":{"HTTP":"0.0.0.0","RPC":"0.0.0.0","Serf":"0.0.0.0"},"AdvertiseAddrs":{"HTTP":"10.0.0.1:4646","RPC":"10.0.0.1:4647","Serf":"10.0.0.1:4648"},"Client":{"Enabled":false,"StateDir":"","Servers":null,"GCInterval":60000000000},"Server":{"Enabled":true,"BootstrapExpect":3,"NumSchedulers":8,"EnabledSchedulers":["service","batch","system","sysbatch","_core"],"HeartbeatGrace":10000000000,"ServerJoin":null},"RPC":{},"ACL":{"Enabled":true,"TokenTTL":30000000000,"PolicyTTL":30000000000,"ReplicationToken":"<redacted>"},"Telemetry":{"CollectionInterval":"1s","CirconusAPIToken":"<redacted>"},"LeaveOnInt":false,"LeaveOnTerm":false,"EnableSyslog":false,"SyslogFacility":"LOCAL0","DisableUpdateCheck":false,"DisableAnonymousSignature":false,"Consuls":[{"Name":"default","Address":"127.0.0.1:8500","Token":"<redacted>"}],"Vaults":[{"Name":"default","Enabled":false}],"UI":{"Enabled":true},"DevMode":false,"Version":{"BuildDate":"2026-08-12T00:00:00Z","Revision":"5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8","Version":"2.0.5","VersionPrerelease":"","VersionMetadata":""},"Files":["/etc/nomad.d/nomad.hcl"],"ConfigPaths":["/etc/nomad.d"],"TLSConfig":{"EnableHTTP":false},"HTTPAPIResponseHeaders":{},"Sentinel":null,"Autopilot":{"CleanupDeadServers":true,"LastContactThreshold":200000000},"Plugins":[],"Limits":{"HTTPMaxConnsPerClient":100},"Audit":null,"Reporting":{"License":{"Enabled":false}},"KEKProviders":[],"Eventlog":null},"member":{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global","dc":"dc1","build":"2.0.5","revision":"5c8612bba6eb0e1bd29bd4d1a5ee1c04f84d5ea8","vsn":"1","raft_vsn":"3","id":"5b2f8e4c-1d1a-4c3e-9a8b-000000000001","rpc_addr":"10.0.0.1","port":"4647","bootstrap":"1"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4},"stats":{"nomad":{"server":"true","leader":"true","leader_addr":"10.0.0.1:4647","bootstrap":"false","known_regions":"1"},"raft":{"applied_index":"1523","commit_index":"1523","fsm_pending":"0","last_contact":"0","num_peers":"2","protocol_version":"3","state":"Leader","term":"2","logstore_backend":"raft-wal"},"serf":{"encrypted":"false","failed":"0","left":"0","members":"3"},"runtime":{"arch":"amd64","cpu_count":"8","goroutines":"144","kernel.name":"linux","max_procs":"8","version":"go1.24.6"}}}"#;

const SELF_CLIENT_ONLY_2_0: &str = r#"{"config":{"Region":"eu-west","Datacenter":"eu-west-1a","NodeName":"worker-7","DataDir":"/var/lib/nomad","Client":{"Enabled":true,"Servers":["10.0.0.1:4647"]},"Server":{"Enabled":false},"ACL":{"Enabled":false},"Version":{"BuildDate":"2026-08-12T00:00:00Z","Revision":"5c8612bb","Version":"2.0.5","VersionPrerelease":"","VersionMetadata":""}},"member":{"Name":"","Addr":null,"Port":0,"Tags":null,"Status":"none","ProtocolMin":0,"ProtocolMax":0,"ProtocolCur":0,"DelegateMin":0,"DelegateMax":0,"DelegateCur":0},"stats":{"client":{"heartbeat_ttl":"17.79s","known_servers":"10.0.0.1:4647,10.0.0.2:4647","last_heartbeat":"3.2s","node_id":"f1b6f2a8-4d2e-4c86-8a4e-9d2b6c1e7a3f","num_allocations":"2"},"runtime":{"arch":"arm64","cpu_count":"4","goroutines":"88","kernel.name":"linux","max_procs":"4","version":"go1.24.6"}}}"#;

/// The docs' 0.5.5-era sample: `Version` is a string with top-level `VersionPrerelease` and
/// `Revision`, `Consul`/`Vault` are objects, and there is no `ACL`, `Reporting`, `raft`, ….
const SELF_OLD_0_5: &str = r#"{"config":{"Region":"global","Datacenter":"dc1","NodeName":"bacon-mac","DataDir":"/tmp/nomad","LogLevel":"DEBUG","BindAddr":"127.0.0.1","EnableDebug":true,"Ports":{"HTTP":4646,"RPC":4647,"Serf":4648},"Consul":{"Addr":"","Auth":"","AutoAdvertise":true,"ChecksUseAdvertise":false,"ClientAutoJoin":true,"ClientServiceName":"nomad-client","EnableSSL":false,"ServerAutoJoin":true,"ServerServiceName":"nomad","Timeout":5000000000,"Token":"","VerifySSL":false},"Vault":{"Addr":"https://vault.service.consul:8200","Enabled":null,"TLSSkipVerify":null},"Revision":"f551dcb83e3ac144c9dbb90583b6e82d234662e9","Version":"0.5.5","VersionPrerelease":"dev"},"member":{"Addr":"127.0.0.1","DelegateCur":4,"DelegateMax":4,"DelegateMin":2,"Name":"bacon-mac.global","Port":4648,"ProtocolCur":2,"ProtocolMax":5,"ProtocolMin":1,"Status":"alive","Tags":{"role":"nomad","region":"global","dc":"dc1","vsn":"1","mvn":"1","build":"0.5.5dev","port":"4647","bootstrap":"1"}},"stats":{"client":{"heartbeat_ttl":"17.79568937s","known_servers":"127.0.0.1:4647","last_heartbeat":"10.107423052s","node_id":"fb2170a8-257d-3c64-b14d-bc06cc94e34c","num_allocations":"0"},"nomad":{"bootstrap":"false","known_regions":"1","leader":"true","server":"true"},"runtime":{"arch":"amd64","cpu_count":"8","goroutines":"79","kernel.name":"darwin","max_procs":"7","version":"go1.8"}}}"#;

// ---------------------------------------------------------------------------------------------
// Requests: method, absolute URI, query
// ---------------------------------------------------------------------------------------------

mod request_line {
    use super::*;

    #[test]
    fn list_members_is_get_v1_agent_members() {
        let req = ListMembers::new().to_request(&config()).unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/members");
    }

    #[test]
    fn list_servers_is_get_v1_agent_servers() {
        let req = ListServers::new().to_request(&config()).unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/servers");
    }

    #[test]
    fn set_servers_is_put_with_one_address_param_per_server_never_comma_joined() {
        let req = SetServers::new(["10.0.0.1:4647", "10.0.0.2:4647"])
            .to_request(&config())
            .unwrap();
        assert_eq!(req.method(), Method::PUT);
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:4646/v1/agent/servers?address=10.0.0.1%3A4647&address=10.0.0.2%3A4647"
        );
        assert_eq!(query_values(&req, "address"), ["10.0.0.1:4647", "10.0.0.2:4647"]);
        assert!(!req.uri().query().unwrap().contains(','), "{}", req.uri());
    }

    #[test]
    fn get_self_is_get_v1_agent_self() {
        let req = GetSelf::new().to_request(&config()).unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/self");
    }

    #[test]
    fn join_is_put_with_repeated_address_params_never_comma_joined() {
        let req = Join::new(["10.0.0.4", "10.0.0.5:4648", "nomad-6.internal"])
            .to_request(&config())
            .unwrap();
        assert_eq!(req.method(), Method::PUT);
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:4646/v1/agent/join?address=10.0.0.4&address=10.0.0.5%3A4648&address=nomad-6.internal"
        );
        assert_eq!(
            query_values(&req, "address"),
            ["10.0.0.4", "10.0.0.5:4648", "nomad-6.internal"]
        );
    }

    #[test]
    fn force_leave_is_put_with_the_node_param() {
        let req = ForceLeave::new("nomad-2.global").to_request(&config()).unwrap();
        assert_eq!(req.method(), Method::PUT);
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:4646/v1/agent/force-leave?node=nomad-2.global"
        );
    }

    #[test]
    fn force_leave_with_prune_sends_prune_1() {
        let req = ForceLeave::new("nomad-2.global")
            .prune(true)
            .to_request(&config())
            .unwrap();
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:4646/v1/agent/force-leave?node=nomad-2.global&prune=1"
        );
    }

    #[test]
    fn force_leave_without_prune_sends_no_prune_param() {
        let req = ForceLeave::new("nomad-2.global")
            .prune(false)
            .to_request(&config())
            .unwrap();
        assert!(query_values(&req, "prune").is_empty(), "{}", req.uri());
    }

    #[test]
    fn get_health_is_get_v1_agent_health_without_type() {
        let req = GetHealth::new().to_request(&config()).unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/health");
    }

    #[test]
    fn get_health_for_both_roles_repeats_type() {
        let req = GetHealth::new()
            .role(AgentRole::Client)
            .role(AgentRole::Server)
            .to_request(&config())
            .unwrap();
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:4646/v1/agent/health?type=client&type=server"
        );
    }

    #[test]
    fn get_health_asking_twice_for_a_role_sends_it_once() {
        let req = GetHealth::new()
            .role(AgentRole::Server)
            .role(AgentRole::Server)
            .to_request(&config())
            .unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/health?type=server");
    }

    #[test]
    fn special_characters_in_query_values_are_percent_encoded() {
        // A hostile node name must stay one `node` value: `&`, `=`, `#`, `?`, `/`, `%`, space and
        // non-ASCII are all escaped.
        let node = "web 1&prune=1#frag?x/y%z-é";
        let req = ForceLeave::new(node).to_request(&config()).unwrap();
        assert_eq!(
            req.uri().query(),
            Some("node=web+1%26prune%3D1%23frag%3Fx%2Fy%25z-%C3%A9")
        );
        assert_eq!(req.uri().path(), "/v1/agent/force-leave");
        assert_eq!(query_pairs(&req), [("node".to_owned(), node.to_owned())]);
    }

    #[test]
    fn ipv6_join_addresses_are_percent_encoded() {
        let req = Join::new(["[fd00::4]:4648"]).to_request(&config()).unwrap();
        assert_eq!(req.uri().query(), Some("address=%5Bfd00%3A%3A4%5D%3A4648"));
        assert_eq!(query_values(&req, "address"), ["[fd00::4]:4648"]);
    }

    #[test]
    fn join_and_set_servers_need_at_least_one_nonempty_address() {
        let empty: [&str; 0] = [];
        for result in [
            Join::new(empty).to_request(&config()),
            SetServers::new(empty).to_request(&config()),
            Join::new(["10.0.0.4", " "]).to_request(&config()),
            SetServers::new([""]).to_request(&config()),
        ] {
            match result {
                Err(BuildError::InvalidArgument { argument, .. }) => assert_eq!(argument, "address"),
                other => panic!("expected InvalidArgument(address), got {other:?}"),
            }
        }
    }

    #[test]
    fn force_leave_needs_a_node() {
        for node in ["", "  "] {
            match ForceLeave::new(node).to_request(&config()) {
                Err(BuildError::InvalidArgument { argument, .. }) => assert_eq!(argument, "node"),
                other => panic!("expected InvalidArgument(node), got {other:?}"),
            }
        }
    }

    #[test]
    fn every_core_request_has_an_absolute_uri_and_an_empty_body() {
        for ep in core_endpoints() {
            let req = (ep.build)(&config(), &no_tweak).unwrap();
            assert_eq!(req.uri().scheme_str(), Some("http"), "{}", ep.name);
            assert_eq!(
                req.uri().authority().map(|a| a.as_str()),
                Some("127.0.0.1:4646"),
                "{}",
                ep.name
            );
            assert!(req.uri().path().starts_with("/v1/agent/"), "{}", ep.name);
            assert!(req.body().is_empty(), "{} sent a body", ep.name);
        }
    }

    #[test]
    fn a_path_prefix_is_kept_in_front_of_the_api_path() {
        let config = Config::builder()
            .address("https://gateway.example:8443/nomad/")
            .build()
            .unwrap();
        let req = GetSelf::new().to_request(&config).unwrap();
        assert_eq!(req.uri(), "https://gateway.example:8443/nomad/v1/agent/self");
        let req = Join::new(["10.0.0.4"]).to_request(&config).unwrap();
        assert_eq!(
            req.uri(),
            "https://gateway.example:8443/nomad/v1/agent/join?address=10.0.0.4"
        );
    }

    #[test]
    fn a_unix_socket_address_builds_requests_for_http_127_0_0_1() {
        let config = Config::builder()
            .address("unix:///alloc/secrets/api.sock")
            .build()
            .unwrap();
        let req = GetSelf::new().to_request(&config).unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1/v1/agent/self");
    }

    #[test]
    fn an_ipv6_agent_address_builds_bracketed_uris() {
        let config = Config::builder().address("http://[::1]:4646").build().unwrap();
        let req = ListMembers::new().to_request(&config).unwrap();
        assert_eq!(req.uri(), "http://[::1]:4646/v1/agent/members");
        assert_eq!(req.uri().host(), Some("[::1]"));
        assert_eq!(req.uri().port_u16(), Some(4646));
    }
}

// ---------------------------------------------------------------------------------------------
// Region and namespace
// ---------------------------------------------------------------------------------------------

mod region_and_namespace {
    use super::*;

    fn regional_config() -> Config {
        Config::builder()
            .address(BASE)
            .region("eu-west")
            .namespace("prod")
            .build()
            .unwrap()
    }

    #[test]
    fn client_wide_region_and_namespace_go_on_every_core_request() {
        for ep in core_endpoints() {
            let req = (ep.build)(&regional_config(), &no_tweak).unwrap();
            assert_eq!(query_values(&req, "region"), ["eu-west"], "{}: {}", ep.name, req.uri());
            assert_eq!(query_values(&req, "namespace"), ["prod"], "{}: {}", ep.name, req.uri());
        }
    }

    #[test]
    fn per_call_region_and_namespace_override_the_client_wide_ones() {
        for ep in core_endpoints() {
            let req = (ep.build)(&regional_config(), &|o| {
                o.region = Some("us-east".into());
                o.namespace = Some("dev".into());
            })
            .unwrap();
            assert_eq!(query_values(&req, "region"), ["us-east"], "{}: {}", ep.name, req.uri());
            assert_eq!(query_values(&req, "namespace"), ["dev"], "{}: {}", ep.name, req.uri());
        }
    }

    #[test]
    fn per_call_region_without_a_client_wide_one() {
        let req = ListMembers::new().region("ap-south").to_request(&config()).unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/members?region=ap-south");
    }

    #[test]
    fn per_call_region_overrides_only_the_region() {
        let req = Join::new(["10.0.0.4"])
            .region("us-east")
            .to_request(&regional_config())
            .unwrap();
        assert_eq!(
            query_pairs(&req),
            [
                ("address".to_owned(), "10.0.0.4".to_owned()),
                ("region".to_owned(), "us-east".to_owned()),
                ("namespace".to_owned(), "prod".to_owned()),
            ]
        );
    }

    #[test]
    fn region_and_namespace_are_percent_encoded() {
        let req = GetSelf::new()
            .region("eu west&x=1")
            .namespace("team/a")
            .to_request(&config())
            .unwrap();
        assert_eq!(req.uri().query(), Some("region=eu+west%26x%3D1&namespace=team%2Fa"));
    }

    #[test]
    fn empty_or_control_character_region_is_rejected() {
        for bad in ["", "eu\nwest"] {
            match GetSelf::new().region(bad).to_request(&config()) {
                Err(BuildError::InvalidArgument { argument, .. }) => assert_eq!(argument, "region"),
                other => panic!("expected InvalidArgument(region) for {bad:?}, got {other:?}"),
            }
        }
        match Config::builder().namespace("a\u{7}b").build() {
            Err(BuildError::InvalidArgument { argument, .. }) => assert_eq!(argument, "namespace"),
            other => panic!("expected InvalidArgument(namespace), got {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------------------------

mod headers {
    use super::*;

    #[test]
    fn the_token_is_sent_exactly_once_as_x_nomad_token_on_every_core_request() {
        let config = config_with_token("3f2c9a57-token");
        for ep in core_endpoints() {
            let req = (ep.build)(&config, &no_tweak).unwrap();
            assert_eq!(header_values(&req, "x-nomad-token"), ["3f2c9a57-token"], "{}", ep.name);
            assert!(req.headers().get("authorization").is_none(), "{}", ep.name);
        }
    }

    #[test]
    fn without_a_token_no_token_header_is_sent() {
        for ep in core_endpoints() {
            let req = (ep.build)(&config(), &no_tweak).unwrap();
            assert!(req.headers().get("x-nomad-token").is_none(), "{}", ep.name);
        }
    }

    #[test]
    fn a_per_call_token_overrides_the_client_token() {
        let config = config_with_token("client-wide");
        for ep in core_endpoints() {
            let req = (ep.build)(&config, &|o| o.token = Some("per-call".into())).unwrap();
            assert_eq!(header_values(&req, "x-nomad-token"), ["per-call"], "{}", ep.name);
        }
    }

    #[test]
    fn a_per_call_token_works_without_a_client_token() {
        let req = ListMembers::new().token("per-call").to_request(&config()).unwrap();
        assert_eq!(header_values(&req, "x-nomad-token"), ["per-call"]);
    }

    #[test]
    fn an_x_nomad_token_extra_header_is_replaced_by_the_token_not_duplicated() {
        // Two token headers make the agent answer 400 `Invalid number of Nomad Tokens`.
        let config = Config::builder()
            .address(BASE)
            .header("X-Nomad-Token", "from-extra-header")
            .token("real-token")
            .build()
            .unwrap();
        for ep in core_endpoints() {
            let req = (ep.build)(&config, &no_tweak).unwrap();
            assert_eq!(header_values(&req, "x-nomad-token"), ["real-token"], "{}", ep.name);
            let req = (ep.build)(&config, &|o| o.token = Some("per-call".into())).unwrap();
            assert_eq!(header_values(&req, "x-nomad-token"), ["per-call"], "{}", ep.name);
        }
    }

    #[test]
    fn an_x_nomad_token_extra_header_is_sent_once_when_no_token_is_configured() {
        let config = Config::builder()
            .address(BASE)
            .header("X-Nomad-Token", "from-extra-header")
            .build()
            .unwrap();
        let req = GetSelf::new().to_request(&config).unwrap();
        assert_eq!(header_values(&req, "x-nomad-token"), ["from-extra-header"]);
    }

    #[test]
    fn basic_auth_becomes_an_authorization_basic_header() {
        let config = Config::builder()
            .address(BASE)
            .basic_auth("admin", Some("pa:ss".to_owned()))
            .token("tok")
            .build()
            .unwrap();
        for ep in core_endpoints() {
            let req = (ep.build)(&config, &no_tweak).unwrap();
            // base64("admin:pa:ss")
            assert_eq!(
                header_values(&req, "authorization"),
                ["Basic YWRtaW46cGE6c3M="],
                "{}",
                ep.name
            );
            assert_eq!(header_values(&req, "x-nomad-token"), ["tok"], "{}", ep.name);
        }
    }

    #[test]
    fn basic_auth_without_password_sends_user_colon() {
        let config = Config::builder().address(BASE).basic_auth("ops", None).build().unwrap();
        let req = GetSelf::new().to_request(&config).unwrap();
        assert_eq!(header_values(&req, "authorization"), ["Basic b3BzOg=="]); // "ops:"
    }

    #[test]
    fn credentials_in_the_address_become_basic_auth_and_leave_the_uri() {
        let config = Config::builder()
            .address("http://admin:s%40cret@127.0.0.1:4646")
            .build()
            .unwrap();
        let req = GetSelf::new().to_request(&config).unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/self");
        assert_eq!(header_values(&req, "authorization"), ["Basic YWRtaW46c0BjcmV0"]);
        // admin:s@cret
    }

    #[test]
    fn no_content_type_without_a_body() {
        for ep in core_endpoints() {
            let req = (ep.build)(&config_with_token("t"), &no_tweak).unwrap();
            assert!(req.body().is_empty(), "{}", ep.name);
            assert!(req.headers().get("content-type").is_none(), "{}", ep.name);
        }
    }

    #[test]
    fn extra_headers_go_on_every_core_request() {
        let config = Config::builder()
            .address(BASE)
            .header("X-Request-Source", "ci")
            .header("X-Trace", "a")
            .header("X-Trace", "b")
            .build()
            .unwrap();
        for ep in core_endpoints() {
            let req = (ep.build)(&config, &no_tweak).unwrap();
            assert_eq!(header_values(&req, "x-request-source"), ["ci"], "{}", ep.name);
            assert_eq!(header_values(&req, "x-trace"), ["a", "b"], "{}", ep.name);
        }
    }

    #[test]
    fn logging_a_request_never_shows_the_token_or_password() {
        let config = Config::builder()
            .address(BASE)
            .token("client-secret-1")
            .basic_auth("admin", Some("hunter2".to_owned()))
            .build()
            .unwrap();
        let req = ListMembers::new().to_request(&config).unwrap();
        let per_call = ListMembers::new()
            .token("per-call-secret-2")
            .to_request(&config)
            .unwrap();
        for req in [req, per_call] {
            let shown = format!("{req:?}");
            assert!(!shown.contains("client-secret-1"), "{shown}");
            assert!(!shown.contains("per-call-secret-2"), "{shown}");
            assert!(!shown.contains("YWRtaW46aHVudGVyMg"), "{shown}"); // base64("admin:hunter2")
        }
    }

    #[test]
    fn debug_of_an_operation_never_shows_its_per_call_token() {
        let op = Join::new(["10.0.0.4"]).token("per-call-secret-3");
        let shown = format!("{op:?}");
        assert!(!shown.contains("per-call-secret-3"), "{shown}");
        let shown = format!("{:?}", ListMembers::new().token("per-call-secret-3").options);
        assert!(!shown.contains("per-call-secret-3"), "{shown}");
    }

    #[test]
    fn an_invalid_per_call_token_is_a_build_error_that_does_not_echo_it() {
        let err = GetSelf::new()
            .token("abc\r\nX-Evil: 1")
            .to_request(&config())
            .unwrap_err();
        assert!(matches!(err, BuildError::InvalidToken { .. }), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("X-Evil"), "{shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing realistic answers
// ---------------------------------------------------------------------------------------------

mod parse_members {
    use super::*;

    #[test]
    fn members_from_a_2_0_server_with_its_tag_set() {
        let m = ListMembers::new().parse_response(json_ok(MEMBERS_2_0)).unwrap();
        assert_eq!(m.server_name, "nomad-1");
        assert_eq!(m.server_region, "global");
        assert_eq!(m.server_dc, "dc1");
        assert_eq!(m.members.len(), 3);

        let first = &m.members[0];
        assert_eq!(first.name, "nomad-1.global");
        assert_eq!(first.node_name(), "nomad-1");
        assert_eq!(first.addr, Some("10.0.0.1".parse::<IpAddr>().unwrap()));
        assert_eq!(first.port, 4648);
        assert_eq!(first.status, MemberStatus::Alive);
        assert!(first.is_server());
        assert_eq!(first.region(), Some("global"));
        assert_eq!(first.datacenter(), Some("dc1"));
        assert_eq!(first.build(), Some("2.0.5"));
        assert_eq!(first.tag("rpc_addr"), Some("10.0.0.1"));
        assert_eq!(first.tag("port"), Some("4647"));
        assert_eq!(first.tag("raft_vsn"), Some("3"));
        assert_eq!(first.tag("bootstrap"), Some("1"));
        assert_eq!(first.tag("mvn"), None);
        assert_eq!((first.protocol_min, first.protocol_max, first.protocol_cur), (1, 5, 2));
        assert_eq!((first.delegate_min, first.delegate_max, first.delegate_cur), (2, 5, 4));

        let second = &m.members[1];
        assert_eq!(second.status, MemberStatus::Failed);
        assert_eq!(second.datacenter(), Some("dc2"));
        assert_eq!(second.tag("nonvoter"), Some("1"));
        assert_eq!(second.tag("ap_zone"), Some("zone-b"));
        assert_eq!(second.tag("expect"), Some("3"));

        let third = &m.members[2];
        assert_eq!(third.status, MemberStatus::Left);
        assert_eq!(third.addr, Some("fd00::3".parse::<IpAddr>().unwrap()));
    }

    #[test]
    fn every_serf_status_and_an_unknown_one_parse() {
        let body = |status: &str| {
            format!(
                r#"{{"ServerName":"a","ServerRegion":"r","ServerDC":"d","Members":[{{"Name":"a.r","Addr":"10.0.0.1","Port":4648,"Tags":{{}},"Status":"{status}"}}]}}"#
            )
        };
        for (wire, expected) in [
            ("alive", MemberStatus::Alive),
            ("leaving", MemberStatus::Leaving),
            ("left", MemberStatus::Left),
            ("failed", MemberStatus::Failed),
            ("none", MemberStatus::None),
            ("reaped", MemberStatus::Other("reaped".into())),
        ] {
            let m = ListMembers::new().parse_response(json_ok(&body(wire))).unwrap();
            assert_eq!(m.members[0].status, expected);
            assert_eq!(m.members[0].status.to_string(), wire);
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let body = r#"{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","FutureField":{"x":[1,2]},"Members":[{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4,"Zone":"z1","Meta":null}]}"#;
        let m = ListMembers::new().parse_response(json_ok(body)).unwrap();
        assert_eq!(m.members[0].node_name(), "nomad-1");
    }

    #[test]
    fn missing_and_null_fields_take_defaults() {
        let m = ListMembers::new()
            .parse_response(json_ok(r#"{"ServerName":"nomad-1","Members":null}"#))
            .unwrap();
        assert_eq!(m.server_name, "nomad-1");
        assert_eq!(m.server_region, "");
        assert!(m.members.is_empty());
    }

    #[test]
    fn servers_list_parses() {
        let s = ListServers::new()
            .parse_response(json_ok(r#"["10.0.0.1:4647","10.0.0.2:4647"]"#))
            .unwrap();
        assert_eq!(s, ["10.0.0.1:4647", "10.0.0.2:4647"]);
    }

    #[test]
    fn servers_empty_array_and_null_are_an_empty_list() {
        for body in ["[]", "null"] {
            let s = ListServers::new().parse_response(json_ok(body)).unwrap();
            assert!(s.is_empty(), "{body}");
        }
    }
}

mod parse_self {
    use super::*;

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
}

mod parse_join {
    use super::*;

    #[test]
    fn join_with_an_error_is_join_failed_keeping_num_joined_and_the_message() {
        let body = r#"{"num_joined":1,"error":"1 error occurred:\n\t* Failed to join 10.0.0.9:4648: dial tcp 10.0.0.9:4648: connect: connection refused\n\n","warning":""}"#;
        let err = Join::new(["10.0.0.4", "10.0.0.9"])
            .parse_response(json_ok(body))
            .unwrap_err();
        match &err {
            ResponseError::JoinFailed { num_joined, message } => {
                assert_eq!(*num_joined, 1);
                assert_eq!(
                    message,
                    "1 error occurred:\n\t* Failed to join 10.0.0.9:4648: dial tcp 10.0.0.9:4648: connect: connection refused"
                );
            }
            other => panic!("expected JoinFailed, got {other:?}"),
        }
        assert_eq!(err.status(), Some(StatusCode::OK));
        assert!(err.message().unwrap().contains("connection refused"));
        let shown = err.to_string();
        assert!(shown.contains("1 joined"), "{shown}");
        assert!(shown.contains("connection refused"), "{shown}");
    }

    #[test]
    fn join_with_a_warning_is_ok_and_the_warning_is_visible() {
        let body = r#"{"num_joined":1,"error":"","warning":"anonymous server join is deprecated and will be removed in a future version of Nomad"}"#;
        let r = Join::new(["10.0.0.4"]).parse_response(json_ok(body)).unwrap();
        assert_eq!(r.num_joined, 1);
        assert_eq!(
            r.warning.as_deref(),
            Some("anonymous server join is deprecated and will be removed in a future version of Nomad")
        );
    }

    #[test]
    fn join_with_both_empty_is_ok_without_warning() {
        let r = Join::new(["10.0.0.4", "10.0.0.5"])
            .parse_response(json_ok(r#"{"num_joined":2,"error":"","warning":""}"#))
            .unwrap();
        assert_eq!(r.num_joined, 2);
        assert_eq!(r.warning, None);
    }

    #[test]
    fn join_with_a_whitespace_only_error_is_ok() {
        // Nomad's join handler fills `error` only from a real serf error
        // (`command/agent/agent_endpoint.go`, `AgentJoinRequest`), whose text is never blank:
        // whitespace alone carries no message, so it is not a failure.
        for error in ["\n", " ", "\r\n\t"] {
            let body = serde_json::json!({"num_joined": 1, "error": error, "warning": ""}).to_string();
            let r = Join::new(["10.0.0.4"])
                .parse_response(json_ok(&body))
                .unwrap_or_else(|e| panic!("{error:?}: {e}"));
            assert_eq!(r.num_joined, 1, "{error:?}");
            assert_eq!(r.warning, None, "{error:?}");
        }
    }

    #[test]
    fn join_from_an_agent_without_the_warning_key() {
        // Agents before the COMPAT(2.1.0) warning only send num_joined and error.
        let r = Join::new(["10.0.0.4"])
            .parse_response(json_ok(r#"{"num_joined":1,"error":""}"#))
            .unwrap();
        assert_eq!(r.num_joined, 1);
        assert_eq!(r.warning, None);
    }

    #[test]
    fn join_with_an_error_and_a_warning_is_join_failed() {
        let body = r#"{"num_joined":0,"error":"1 error occurred:\n\t* Failed to join 10.0.0.9:4648: i/o timeout\n\n","warning":"anonymous server join is deprecated and will be removed in a future version of Nomad"}"#;
        let err = Join::new(["10.0.0.9"]).parse_response(json_ok(body)).unwrap_err();
        assert!(
            matches!(&err, ResponseError::JoinFailed { num_joined: 0, message } if message.ends_with("i/o timeout")),
            "{err:?}"
        );
    }
}

mod parse_health {
    use super::*;

    #[test]
    fn health_200_is_a_healthy_report() {
        let body = r#"{"client":{"ok":true,"message":"ok"},"server":{"ok":true,"message":"ok"}}"#;
        let report = GetHealth::new().parse_response(json_ok(body)).unwrap();
        assert!(report.is_healthy());
        assert_eq!(report.status, StatusCode::OK);
        assert!(report.problems().is_empty());
        assert_eq!(report.client.as_ref().unwrap().message, "ok");
        assert_eq!(report.checks().count(), 2);
    }

    #[test]
    fn health_500_with_a_json_body_and_text_plain_is_an_unhealthy_report() {
        // Exact body from TestHTTP_AgentHealth_BadClient, with the wrap layer's content type.
        let resp = text_error(500, r#"{"client":{"ok":false,"message":"client not enabled"}}"#);
        let report = GetHealth::new().role(AgentRole::Client).parse_response(resp).unwrap();
        assert!(!report.is_healthy());
        assert_eq!(report.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(report.problems(), ["client: client not enabled"]);
        assert!(report.server.is_none());
    }

    #[test]
    fn health_500_for_a_leaderless_server_lists_only_the_failing_role() {
        let resp = text_error(
            500,
            r#"{"client":{"ok":true,"message":"ok"},"server":{"ok":false,"message":"no leader"}}"#,
        );
        let report = GetHealth::new().parse_response(resp).unwrap();
        assert!(!report.is_healthy());
        assert_eq!(report.problems(), ["server: no leader"]);
        assert!(report.client.as_ref().unwrap().ok);
    }

    #[test]
    fn health_500_with_a_plain_text_body_is_an_error() {
        let resp = text_error(
            500,
            "rpc error: failed to get conn: dial tcp 10.0.0.1:4647: i/o timeout",
        );
        let err = GetHealth::new().parse_response(resp).unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
        assert_eq!(
            err.message(),
            Some("rpc error: failed to get conn: dial tcp 10.0.0.1:4647: i/o timeout")
        );
    }

    #[test]
    fn health_other_statuses_are_errors_even_with_json() {
        let err = GetHealth::new()
            .parse_response(text_error(405, "Invalid method"))
            .unwrap_err();
        assert!(err.is_method_not_allowed());
        let err = GetHealth::new()
            .parse_response(response(502, r#"{"client":{"ok":true,"message":"ok"}}"#))
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    }

    #[test]
    fn health_500_with_broken_json_is_a_decode_error_keeping_the_body() {
        let body = r#"{"client":{"ok":false,"#;
        let err = GetHealth::new().parse_response(text_error(500, body)).unwrap_err();
        match err {
            ResponseError::Decode { status, body: raw, .. } => {
                assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
                assert_eq!(raw, body.as_bytes());
            }
            other => panic!("expected Decode, got {other:?}"),
        }
    }

    #[test]
    fn health_200_with_an_empty_body_is_empty_body() {
        let err = GetHealth::new().parse_response(response(200, "")).unwrap_err();
        assert!(matches!(err, ResponseError::EmptyBody { .. }), "{err:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Error answers
// ---------------------------------------------------------------------------------------------

/// Parses `resp` with every core endpoint and returns the errors.
fn parse_all(resp: impl Fn() -> Response<Vec<u8>>) -> Vec<(&'static str, Result<(), ResponseError>)> {
    vec![
        ("ListMembers", ListMembers::new().parse_response(resp()).map(drop)),
        ("ListServers", ListServers::new().parse_response(resp()).map(drop)),
        ("SetServers", SetServers::new(["a:1"]).parse_response(resp()).map(drop)),
        ("GetSelf", GetSelf::new().parse_response(resp()).map(drop)),
        ("Join", Join::new(["a"]).parse_response(resp()).map(drop)),
        ("ForceLeave", ForceLeave::new("a").parse_response(resp()).map(drop)),
        ("GetHealth", GetHealth::new().parse_response(resp()).map(drop)),
    ]
}

mod errors {
    use super::*;

    #[test]
    fn permission_denied_403_on_every_core_endpoint() {
        for (name, result) in parse_all(|| text_error(403, "Permission denied")) {
            let err = result.expect_err(name);
            assert!(err.is_permission_denied(), "{name}: {err:?}");
            assert_eq!(err.status(), Some(StatusCode::FORBIDDEN), "{name}");
            assert_eq!(err.message(), Some("Permission denied"), "{name}");
            assert!(!err.is_wrong_role(), "{name}");
        }
    }

    #[test]
    fn acl_token_not_found_403_is_permission_denied() {
        let err = GetSelf::new()
            .parse_response(text_error(403, "ACL token not found"))
            .unwrap_err();
        assert!(err.is_permission_denied());
        assert_eq!(err.message(), Some("ACL token not found"));
    }

    #[test]
    fn invalid_method_501_is_wrong_role() {
        for (name, result) in parse_all(|| text_error(501, "Invalid method")) {
            let err = result.expect_err(name);
            assert!(err.is_wrong_role(), "{name}: {err:?}");
            assert!(!err.is_method_not_allowed(), "{name}");
            assert!(!err.is_permission_denied(), "{name}");
        }
    }

    #[test]
    fn server_only_endpoint_400_is_wrong_role() {
        let err = ListMembers::new()
            .parse_response(text_error(400, "Server only endpoint"))
            .unwrap_err();
        assert!(err.is_wrong_role());
    }

    #[test]
    fn other_501_and_400_are_not_wrong_role() {
        let err = ListServers::new()
            .parse_response(text_error(501, "Not Implemented by proxy"))
            .unwrap_err();
        assert!(!err.is_wrong_role());
        let err = SetServers::new(["x"])
            .parse_response(text_error(400, "missing server address"))
            .unwrap_err();
        assert!(!err.is_wrong_role());
        assert_eq!(err.message(), Some("missing server address"));
    }

    #[test]
    fn invalid_method_405_is_method_not_allowed_not_wrong_role() {
        for (name, result) in parse_all(|| text_error(405, "Invalid method")) {
            let err = result.expect_err(name);
            assert!(err.is_method_not_allowed(), "{name}: {err:?}");
            assert!(!err.is_wrong_role(), "{name}");
        }
    }

    #[test]
    fn not_found_404_with_an_empty_body() {
        for (name, result) in parse_all(|| response(404, "")) {
            let err = result.expect_err(name);
            assert!(err.is_not_found(), "{name}: {err:?}");
            assert_eq!(err.message(), Some(""), "{name}");
            let shown = err.to_string();
            assert!(shown.contains("404"), "{name}: {shown}");
            assert!(shown.contains("empty body"), "{name}: {shown}");
        }
    }

    #[test]
    fn unauthorized_401_from_the_task_api() {
        let err = GetSelf::new()
            .parse_response(text_error(401, "Unauthorized"))
            .unwrap_err();
        assert!(err.is_unauthorized());
        assert!(!err.is_permission_denied());
    }

    #[test]
    fn an_empty_200_body_where_json_is_expected_is_empty_body_never_a_serde_error() {
        for body in ["", " \r\n\t"] {
            let results = [
                (
                    "ListMembers",
                    ListMembers::new().parse_response(response(200, body)).map(drop),
                ),
                (
                    "ListServers",
                    ListServers::new().parse_response(response(200, body)).map(drop),
                ),
                ("GetSelf", GetSelf::new().parse_response(response(200, body)).map(drop)),
                ("Join", Join::new(["a"]).parse_response(response(200, body)).map(drop)),
                (
                    "GetHealth",
                    GetHealth::new().parse_response(response(200, body)).map(drop),
                ),
            ];
            for (name, result) in results {
                match result {
                    Err(ResponseError::EmptyBody { status }) => assert_eq!(status, StatusCode::OK, "{name}"),
                    other => panic!("{name} with {body:?}: expected EmptyBody, got {other:?}"),
                }
            }
        }
    }

    #[test]
    fn malformed_json_is_a_decode_error_keeping_the_raw_body() {
        let body = r#"{"ServerName":"nomad-1","Members":[{"Name":"#;
        let err = ListMembers::new().parse_response(json_ok(body)).unwrap_err();
        match &err {
            ResponseError::Decode {
                status,
                body: raw,
                source,
            } => {
                assert_eq!(*status, StatusCode::OK);
                assert_eq!(raw, body.as_bytes());
                assert!(source.is_eof());
            }
            other => panic!("expected Decode, got {other:?}"),
        }
        let source = std::error::Error::source(&err).expect("the serde error is the source");
        assert!(source.to_string().contains("EOF"), "{source}");
    }

    #[test]
    fn json_of_the_wrong_shape_is_a_decode_error() {
        let err = ListServers::new()
            .parse_response(json_ok(r#"{"servers":["a"]}"#))
            .unwrap_err();
        assert!(matches!(err, ResponseError::Decode { .. }), "{err:?}");
        let err = GetSelf::new()
            .parse_response(json_ok(r#""Permission denied""#))
            .unwrap_err();
        assert!(matches!(err, ResponseError::Decode { .. }), "{err:?}");
        let err = Join::new(["a"])
            .parse_response(json_ok(r#"{"num_joined":"one"}"#))
            .unwrap_err();
        assert!(matches!(err, ResponseError::Decode { .. }), "{err:?}");
    }

    #[test]
    fn force_leave_and_set_servers_200_with_an_empty_body_are_ok() {
        // A nil-object success: 200, empty body, no Content-Type (`wrap` in
        // `command/agent/http.go`).
        ForceLeave::new("nomad-2.global")
            .parse_response(response(200, ""))
            .unwrap();
        ForceLeave::new("nomad-2.global")
            .prune(true)
            .parse_response(response(200, ""))
            .unwrap();
        SetServers::new(["10.0.0.1:4647"])
            .parse_response(response(200, ""))
            .unwrap();
    }

    #[test]
    fn force_leave_and_set_servers_errors_keep_the_agent_text() {
        let err = ForceLeave::new("x")
            .parse_response(text_error(500, "agent: member not found"))
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
        assert_eq!(err.message(), Some("agent: member not found"));
        let err = SetServers::new(["bad"])
            .parse_response(text_error(400, "failed to resolve bad: unknown port"))
            .unwrap_err();
        assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
        assert_eq!(err.message(), Some("failed to resolve bad: unknown port"));
    }

    #[test]
    fn a_200_is_the_only_success_status() {
        for (name, result) in parse_all(|| response(204, "")) {
            let err = result.expect_err(name);
            assert_eq!(err.status(), Some(StatusCode::NO_CONTENT), "{name}");
        }
    }
}

mod error_display {
    use super::*;

    #[test]
    fn unexpected_status_display_is_readable_with_a_trimmed_body() {
        let err = ListMembers::new()
            .parse_response(text_error(403, "  Permission denied\n"))
            .unwrap_err();
        assert_eq!(err.message(), Some("Permission denied"));
        let shown = err.to_string();
        assert!(shown.contains("403"), "{shown}");
        assert!(shown.ends_with(": Permission denied"), "{shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }

    #[test]
    fn long_bodies_are_truncated_in_display_but_kept_whole_in_the_value() {
        let body = "x".repeat(10_000);
        let err = GetSelf::new().parse_response(text_error(500, &body)).unwrap_err();
        let shown = err.to_string();
        assert!(shown.len() < 700, "display is {} bytes", shown.len());
        assert!(shown.contains("10000 bytes"), "{shown}");
        match &err {
            ResponseError::UnexpectedStatus { body: kept, .. } => assert_eq!(kept.len(), 10_000),
            other => panic!("expected UnexpectedStatus, got {other:?}"),
        }
        assert_eq!(err.message().map(str::len), Some(10_000));
    }

    #[test]
    fn truncation_never_splits_a_multibyte_character() {
        // 3-byte characters: a byte-count cut would land inside one.
        let body = "€".repeat(1_000);
        let err = GetSelf::new().parse_response(text_error(500, &body)).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("3000 bytes"), "{shown}");
        assert!(shown.contains("€€€"), "{shown}");
    }

    #[test]
    fn invalid_utf8_bodies_are_shown_lossily() {
        let resp = Response::builder().status(500).body(b"bad \xff byte".to_vec()).unwrap();
        let err = GetSelf::new().parse_response(resp).unwrap_err();
        assert_eq!(err.message(), Some("bad \u{fffd} byte"));
    }

    #[test]
    fn empty_body_and_decode_errors_say_what_happened() {
        let err = GetSelf::new().parse_response(response(200, "")).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("empty"), "{shown}");
        assert!(shown.contains("200"), "{shown}");

        let err = GetSelf::new().parse_response(json_ok("{not json")).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains("decode"), "{shown}");
        assert!(shown.contains("9 bytes"), "{shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// Connection settings
// ---------------------------------------------------------------------------------------------

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let map: std::collections::HashMap<String, String> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name: &str| map.get(name).cloned()
}

mod address {
    use super::*;

    fn http(addr: &Address) -> (bool, &str, &str) {
        match addr {
            Address::Http { tls, authority, prefix } => (*tls, authority.as_str(), prefix.as_str()),
            other => panic!("expected an http address, got {other:?}"),
        }
    }

    #[test]
    fn http_address() {
        let (addr, auth) = Address::parse("http://127.0.0.1:4646").unwrap();
        assert_eq!(http(&addr), (false, "127.0.0.1:4646", ""));
        assert!(auth.is_none());
        assert!(!addr.is_tls());
        assert_eq!(addr.base_url(), "http://127.0.0.1:4646");
    }

    #[test]
    fn https_address_with_a_host_name_and_no_port() {
        let (addr, _) = Address::parse("HTTPS://nomad.example.com").unwrap();
        assert_eq!(http(&addr), (true, "nomad.example.com", ""));
        assert!(addr.is_tls());
        assert_eq!(addr.base_url(), "https://nomad.example.com");
    }

    #[test]
    fn path_prefix_without_trailing_slash() {
        let (addr, _) = Address::parse("https://gw.example:443/teams/nomad///").unwrap();
        assert_eq!(http(&addr), (true, "gw.example:443", "/teams/nomad"));
        let (addr, _) = Address::parse("http://127.0.0.1:4646/").unwrap();
        assert_eq!(http(&addr), (false, "127.0.0.1:4646", ""));
    }

    #[test]
    fn ipv6_address() {
        let (addr, _) = Address::parse("http://[::1]:4646").unwrap();
        assert_eq!(http(&addr), (false, "[::1]:4646", ""));
        assert_eq!(addr.to_string(), "http://[::1]:4646");
        let (addr, _) = Address::parse("https://[fd00::1]").unwrap();
        assert_eq!(http(&addr), (true, "[fd00::1]", ""));
    }

    #[test]
    fn unix_socket_address() {
        let (addr, auth) = Address::parse("unix:///alloc/secrets/api.sock").unwrap();
        assert_eq!(
            addr,
            Address::Unix {
                path: "/alloc/secrets/api.sock".into()
            }
        );
        assert!(auth.is_none());
        assert_eq!(addr.to_string(), "unix:///alloc/secrets/api.sock");
        assert_eq!(addr.base_url(), "http://127.0.0.1");
        let (addr, _) = Address::parse("unix:///tmp/my%20dir/api.sock").unwrap();
        assert_eq!(
            addr,
            Address::Unix {
                path: "/tmp/my dir/api.sock".into()
            }
        );
    }

    #[test]
    fn invalid_addresses_are_invalid_address_errors() {
        for bad in [
            "127.0.0.1:4646",       // missing scheme
            "localhost",            // missing scheme
            "ftp://127.0.0.1:4646", // unsupported scheme
            "http://",              // missing host
            "http://:4646",         // missing host
            "http://127.0.0.1:99999",
            "http://127.0.0.1:port",
            "http://127.0.0.1:",
            "http://127.0.0.1:-1",
            "http://127.0.0.1:4646?region=eu",
            "http://127.0.0.1:4646/#frag",
            "http://[::1",
            "http://exa mple:4646",
            "unix://",
            "unix://relative/api.sock",
        ] {
            match Address::parse(bad) {
                Err(BuildError::InvalidAddress { address, reason }) => {
                    assert_eq!(address, bad);
                    assert!(!reason.is_empty());
                }
                other => panic!("{bad:?}: expected InvalidAddress, got {other:?}"),
            }
            assert!(
                matches!(
                    Config::builder().address(bad).build(),
                    Err(BuildError::InvalidAddress { .. })
                ),
                "{bad:?} through the builder"
            );
        }
    }

    #[test]
    fn the_default_address_is_local_4646() {
        let config = Config::builder().build().unwrap();
        assert_eq!(config.base_url(), "http://127.0.0.1:4646");
        assert_eq!(Config::default().base_url(), "http://127.0.0.1:4646");
    }

    #[test]
    fn userinfo_becomes_basic_auth() {
        let (addr, auth) = Address::parse("https://admin:p%3Ass@nomad.example:4646").unwrap();
        assert_eq!(http(&addr), (true, "nomad.example:4646", ""));
        let auth = auth.expect("basic auth");
        assert_eq!(auth.user(), "admin");
        assert_eq!(auth.header_value(), "Basic YWRtaW46cDpzcw=="); // admin:p:ss
    }

    #[test]
    fn userinfo_is_never_shown_in_display_debug_or_errors() {
        let config = Config::builder()
            .address("https://admin:hunter2@nomad.example:4646")
            .build()
            .unwrap();
        for shown in [
            config.address().to_string(),
            format!("{:?}", config.address()),
            format!("{config:?}"),
            config.base_url().to_owned(),
            format!("{:?}", config.basic_auth()),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let builder = Config::builder().address("https://admin:hunter2@nomad.example:4646");
        assert!(!format!("{builder:?}").contains("hunter2"));

        // Rejected addresses: the error names the address without its credentials.
        for bad in [
            "https://admin:hunter2@nomad.example:99999",
            "ftp://admin:hunter2@nomad.example",
            "admin:hunter2@nomad.example:4646",
            "//admin:hunter2@nomad.example:4646",
            "http://admin:hunter2%zz@nomad.example:4646",
        ] {
            let err = Address::parse(bad).unwrap_err();
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("hunter2"), "{bad}: {shown}");
            assert!(shown.contains("nomad.example"), "{bad}: {shown}");
        }
    }
}

mod token {
    use super::*;
    use nomad_proto::{Secret, Token};

    #[test]
    fn tokens_with_newlines_or_non_ascii_are_invalid_token_without_echoing_them() {
        for bad in [
            "sekrit-1\nX-Injected: yes",
            "sekrit-1\r\nX-Injected: yes",
            "sekrit-\u{e9}-1",
            "sekrit 1",
            "sekrit\t1",
            "",
            "   ",
        ] {
            let err = Token::new(bad).expect_err(bad);
            assert!(matches!(err, BuildError::InvalidToken { .. }), "{bad:?}: {err:?}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("sekrit"), "{shown}");

            let err = Config::builder().token(bad).build().unwrap_err();
            assert!(matches!(err, BuildError::InvalidToken { .. }), "{bad:?}: {err:?}");
            assert!(!format!("{err} {err:?}").contains("sekrit"));
        }
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_as_the_agent_does() {
        let config = Config::builder().token("  tok-1\n").build().unwrap();
        let req = GetSelf::new().to_request(&config).unwrap();
        assert_eq!(header_values(&req, "x-nomad-token"), ["tok-1"]);
    }

    #[test]
    fn debug_of_token_secret_config_and_builder_never_shows_the_token() {
        let token = "b2c4e6f8-very-secret";
        let shown = [
            format!("{:?}", Token::new(token).unwrap()),
            format!("{:?}", Secret::new(token)),
            format!("{:?}", Config::builder().token(token)),
            format!("{:?}", Config::builder().token(token).build().unwrap()),
            format!(
                "{:?}",
                Config::builder()
                    .env_lookup(env(&[("NOMAD_TOKEN", token)]))
                    .build()
                    .unwrap()
            ),
            format!(
                "{:?}",
                Config::builder()
                    .header("X-Nomad-Token", token)
                    .header("Authorization", format!("Bearer {token}"))
                    .build()
                    .unwrap()
            ),
        ];
        for s in shown {
            assert!(!s.contains("very-secret"), "{s}");
        }
    }
}

mod extra_headers {
    use super::*;

    #[test]
    fn invalid_header_names_and_values_are_invalid_header() {
        for (name, value) in [
            ("Bad Header", "x"),
            ("", "x"),
            ("X-Ok", "line\nbreak"),
            ("X-Ok", "caf\u{e9}"),
            ("X-Ok", "nul\0"),
        ] {
            match Config::builder().header(name, value).build() {
                Err(BuildError::InvalidHeader { name: n, .. }) => assert_eq!(n, name),
                other => panic!("({name:?}, {value:?}): expected InvalidHeader, got {other:?}"),
            }
        }
    }

    #[test]
    fn header_errors_do_not_echo_the_value() {
        let err = Config::builder()
            .header("Authorization", "Bearer top-secret\n")
            .build()
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("top-secret"));
    }
}

mod environment {
    use super::*;

    fn full_env() -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        env(&[
            ("NOMAD_ADDR", "https://env.example:4646"),
            ("NOMAD_TOKEN", "env-token"),
            ("NOMAD_REGION", "env-region"),
            ("NOMAD_NAMESPACE", "env-ns"),
            ("NOMAD_HTTP_AUTH", "envuser:env:pass"),
        ])
    }

    #[test]
    fn environment_beats_defaults() {
        let config = Config::builder().env_lookup(full_env()).build().unwrap();
        assert_eq!(config.base_url(), "https://env.example:4646");
        assert_eq!(config.region(), Some("env-region"));
        assert_eq!(config.namespace(), Some("env-ns"));
        assert_eq!(config.basic_auth().unwrap().user(), "envuser");
        let req = GetSelf::new().to_request(&config).unwrap();
        assert_eq!(
            req.uri(),
            "https://env.example:4646/v1/agent/self?region=env-region&namespace=env-ns"
        );
        assert_eq!(header_values(&req, "x-nomad-token"), ["env-token"]);
        // NOMAD_HTTP_AUTH splits on the first colon: envuser / env:pass.
        assert_eq!(header_values(&req, "authorization"), ["Basic ZW52dXNlcjplbnY6cGFzcw=="]);
    }

    #[test]
    fn explicit_settings_beat_the_environment_whatever_the_call_order() {
        let explicit_first = Config::builder()
            .address("http://explicit:4646")
            .token("explicit-token")
            .region("explicit-region")
            .namespace("explicit-ns")
            .basic_auth("explicit-user", None)
            .env_lookup(full_env())
            .build()
            .unwrap();
        let env_first = Config::builder()
            .env_lookup(full_env())
            .address("http://explicit:4646")
            .token("explicit-token")
            .region("explicit-region")
            .namespace("explicit-ns")
            .basic_auth("explicit-user", None)
            .build()
            .unwrap();
        for config in [explicit_first, env_first] {
            assert_eq!(config.base_url(), "http://explicit:4646");
            assert_eq!(config.region(), Some("explicit-region"));
            assert_eq!(config.namespace(), Some("explicit-ns"));
            assert_eq!(config.basic_auth().unwrap().user(), "explicit-user");
            let req = GetSelf::new().to_request(&config).unwrap();
            assert_eq!(header_values(&req, "x-nomad-token"), ["explicit-token"]);
        }
    }

    #[test]
    fn without_token_beats_nomad_token() {
        let config = Config::builder()
            .env_lookup(full_env())
            .without_token()
            .build()
            .unwrap();
        assert!(config.token().is_none());
        let req = GetSelf::new().to_request(&config).unwrap();
        assert!(req.headers().get("x-nomad-token").is_none());
    }

    #[test]
    fn empty_environment_values_count_as_unset() {
        let config = Config::builder()
            .env_lookup(env(&[("NOMAD_ADDR", ""), ("NOMAD_TOKEN", ""), ("NOMAD_REGION", "")]))
            .build()
            .unwrap();
        assert_eq!(config.base_url(), "http://127.0.0.1:4646");
        assert!(config.token().is_none());
        assert!(config.region().is_none());
    }

    #[test]
    fn a_bad_nomad_addr_or_nomad_token_is_rejected() {
        let err = Config::builder()
            .env_lookup(env(&[("NOMAD_ADDR", "nomad.example:4646")]))
            .build()
            .unwrap_err();
        assert!(matches!(err, BuildError::InvalidAddress { .. }), "{err:?}");
        let err = Config::builder()
            .env_lookup(env(&[("NOMAD_TOKEN", "env-secret\nx")]))
            .build()
            .unwrap_err();
        assert!(matches!(err, BuildError::InvalidToken { .. }), "{err:?}");
        assert!(!format!("{err} {err:?}").contains("env-secret"));
    }

    #[test]
    fn credentials_in_nomad_addr_beat_nomad_http_auth() {
        let config = Config::builder()
            .env_lookup(env(&[
                ("NOMAD_ADDR", "http://urluser:urlpass@env.example:4646"),
                ("NOMAD_HTTP_AUTH", "envuser:envpass"),
            ]))
            .build()
            .unwrap();
        assert_eq!(config.basic_auth().unwrap().user(), "urluser");
        assert_eq!(config.base_url(), "http://env.example:4646");
    }

    #[test]
    fn explicit_basic_auth_beats_credentials_in_nomad_addr() {
        let config = Config::builder()
            .env_lookup(env(&[("NOMAD_ADDR", "http://urluser:urlpass@env.example:4646")]))
            .basic_auth("explicit-user", Some("explicit-pass".into()))
            .build()
            .unwrap();
        assert_eq!(config.basic_auth().unwrap().user(), "explicit-user");
    }

    #[test]
    fn an_explicit_address_ignores_nomad_addr_credentials() {
        let config = Config::builder()
            .env_lookup(env(&[("NOMAD_ADDR", "http://urluser:urlpass@env.example:4646")]))
            .address("http://explicit:4646")
            .build()
            .unwrap();
        assert!(config.basic_auth().is_none());
    }
}

mod review_regressions {
    use nomad_proto::agent::{AgentSelf, ForceLeave, Join, ListMembers, ServerMembers};
    use nomad_proto::{BuildError, Config, Endpoint, WithCallOptions};

    #[test]
    fn a_request_uri_too_long_for_http_is_a_typed_error_not_a_panic() {
        let config = Config::default();
        let many: Vec<String> = (0..6_000)
            .map(|i| format!("10.0.{}.{}:4648", i / 250, i % 250))
            .collect();
        let err = Join::new(many).to_request(&config).unwrap_err();
        assert!(
            matches!(err, BuildError::InvalidArgument { argument: "uri", .. }),
            "{err}"
        );
        let err = ForceLeave::new("n".repeat(70_000)).to_request(&config).unwrap_err();
        assert!(
            matches!(err, BuildError::InvalidArgument { argument: "uri", .. }),
            "{err}"
        );
        let err = ListMembers::new()
            .region("r".repeat(70_000))
            .to_request(&config)
            .unwrap_err();
        assert!(
            matches!(err, BuildError::InvalidArgument { argument: "uri", .. }),
            "{err}"
        );
    }

    #[test]
    fn an_empty_or_odd_member_address_does_not_fail_the_whole_answer() {
        let body = br#"{"ServerName":"s","ServerRegion":"global","ServerDC":"dc1","Members":[
            {"Name":"a.global","Addr":"","Port":4648,"Tags":{},"Status":"alive"},
            {"Name":"b.global","Addr":"not-an-ip","Port":4648,"Tags":{},"Status":"alive"},
            {"Name":"c.global","Addr":"10.0.0.3","Port":4648,"Tags":{},"Status":"alive"}]}"#;
        let members: ServerMembers = serde_json::from_slice(body).unwrap();
        let addrs: Vec<_> = members.members.iter().map(|m| m.addr).collect();
        assert_eq!(addrs, [None, None, Some("10.0.0.3".parse().unwrap())]);
        let me: AgentSelf = serde_json::from_slice(br#"{"member":{"Name":"","Addr":""}}"#).unwrap();
        assert!(me.member.is_empty());
    }

    #[test]
    fn every_extra_header_value_stays_out_of_debug() {
        let config = Config::builder()
            .header("X-Vault-Token", "hvs.very-secret")
            .build()
            .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hvs.very-secret"), "{shown}");
        assert!(
            shown.to_ascii_lowercase().contains("x-vault-token"),
            "the name is still shown: {shown}"
        );
    }
}
