//! Request building shared by every agent operation (`Endpoint::to_request` through the
//! crate's request builder): absolute URIs (path prefixes, Unix sockets, IPv6), percent-encoded
//! queries, the client-wide and per-call region and namespace, the token exactly once, basic
//! auth, extra headers, a JSON content type exactly when there is a body, and secrets kept out of
//! `Debug`. Pure function calls: no sockets.

#[path = "agent/common.rs"]
mod common;

use nomad_proto::agent::{
    AgentRole, ForceLeave, GetHealth, GetHostData, GetSchedulerWorkerConfig, GetSchedulerWorkersInfo, GetSelf,
    InstallKey, Join, ListKeys, ListMembers, ListServers, Monitor, MonitorExport, Pprof, Reload, RemoveKey,
    SetSchedulerWorkerConfig, SetServers, UseKey, CORE_SCHEDULER, OPERATIONS,
};
use nomad_proto::http::Request;
use nomad_proto::{BuildError, CallOptions, Config, Endpoint, WithCallOptions};

use common::*;

/// Applies per-call options to an operation.
type Tweak<'a> = &'a dyn Fn(&mut CallOptions);

type Built = Result<Request<Vec<u8>>, BuildError>;

/// One request builder per agent operation, so that the rules here are checked on each; `tweak`
/// applies per-call options.
struct Op {
    name: &'static str,
    build: fn(&Config, Tweak<'_>) -> Built,
}

fn with<E: Endpoint + WithCallOptions>(mut op: E, config: &Config, tweak: Tweak<'_>) -> Built {
    tweak(op.call_options_mut());
    op.to_request(config)
}

/// A valid gossip key.
const KEY: &str = "HS5lJ+XuTlYKWaeGYyG+/A==";

/// Every agent operation, with a typical instance.
fn operations() -> Vec<Op> {
    macro_rules! ops {
        ($($name:ident => $sample:expr,)*) => {
            vec![$(Op { name: stringify!($name), build: |c, t| with($sample, c, t) },)*]
        };
    }
    ops![
        ListMembers => ListMembers::new(),
        ListServers => ListServers::new(),
        SetServers => SetServers::new(["10.0.0.1:4647"]),
        GetSelf => GetSelf::new(),
        Join => Join::new(["10.0.0.4"]),
        ForceLeave => ForceLeave::new("nomad-2.global"),
        GetHealth => GetHealth::new().role(AgentRole::Server),
        Monitor => Monitor::new(),
        MonitorExport => MonitorExport::on_disk(),
        Reload => Reload::new(),
        GetHostData => GetHostData::new(),
        GetSchedulerWorkersInfo => GetSchedulerWorkersInfo::new(),
        GetSchedulerWorkerConfig => GetSchedulerWorkerConfig::new(),
        SetSchedulerWorkerConfig => SetSchedulerWorkerConfig::new(2, [CORE_SCHEDULER, "batch"]),
        ListKeys => ListKeys::new(),
        InstallKey => InstallKey::new(KEY),
        UseKey => UseKey::new(KEY),
        RemoveKey => RemoveKey::new(KEY),
        Pprof => Pprof::lookup("heap"),
    ]
}

/// The operations that send a JSON body.
const WITH_BODY: [&str; 4] = ["SetSchedulerWorkerConfig", "InstallKey", "UseKey", "RemoveKey"];

fn no_tweak(_: &mut CallOptions) {}

#[test]
fn the_operations_here_are_every_agent_operation() {
    let here: Vec<&str> = operations().iter().map(|op| op.name).collect();
    let all: Vec<&str> = OPERATIONS.iter().map(|op| op.info.name).collect();
    assert_eq!(here, all);
}

mod request_line {
    use super::*;

    #[test]
    fn every_request_has_an_absolute_uri_and_a_body_only_if_it_carries_json() {
        for ep in operations() {
            let req = (ep.build)(&config(), &no_tweak).unwrap();
            assert_eq!(req.uri().scheme_str(), Some("http"), "{}", ep.name);
            assert_eq!(
                req.uri().authority().map(|a| a.as_str()),
                Some("127.0.0.1:4646"),
                "{}",
                ep.name
            );
            assert!(req.uri().path().starts_with("/v1/agent/"), "{}", ep.name);
            let json = WITH_BODY.contains(&ep.name);
            assert_eq!(!req.body().is_empty(), json, "{} body: {:?}", ep.name, req.body());
        }
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
}

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
    fn client_wide_region_and_namespace_go_on_every_request() {
        for ep in operations() {
            let req = (ep.build)(&regional_config(), &no_tweak).unwrap();
            assert_eq!(query_values(&req, "region"), ["eu-west"], "{}: {}", ep.name, req.uri());
            assert_eq!(query_values(&req, "namespace"), ["prod"], "{}: {}", ep.name, req.uri());
        }
    }

    #[test]
    fn per_call_region_and_namespace_override_the_client_wide_ones() {
        for ep in operations() {
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

    #[test]
    fn per_call_options_apply_to_the_new_operations() {
        let req = request(&Reload::new().region("eu-west").token("other"));
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/reload?region=eu-west");
        let tokens: Vec<_> = req.headers().get_all("x-nomad-token").iter().collect();
        assert_eq!(tokens, ["other"], "the per-call token replaces the client token");
        let req = request(&ListKeys::new().region("eu-west"));
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/keyring/list?region=eu-west");
        let req = request(&Pprof::lookup("heap").region("eu-west"));
        assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/pprof/heap?region=eu-west");
    }
}

mod headers {
    use super::*;

    #[test]
    fn the_token_is_sent_exactly_once_as_x_nomad_token_on_every_request() {
        let config = config_with_token("3f2c9a57-token");
        for ep in operations() {
            let req = (ep.build)(&config, &no_tweak).unwrap();
            assert_eq!(header_values(&req, "x-nomad-token"), ["3f2c9a57-token"], "{}", ep.name);
            assert!(req.headers().get("authorization").is_none(), "{}", ep.name);
        }
    }

    #[test]
    fn without_a_token_no_token_header_is_sent() {
        for ep in operations() {
            let req = (ep.build)(&config(), &no_tweak).unwrap();
            assert!(req.headers().get("x-nomad-token").is_none(), "{}", ep.name);
        }
    }

    #[test]
    fn a_per_call_token_overrides_the_client_token() {
        let config = config_with_token("client-wide");
        for ep in operations() {
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
        for ep in operations() {
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
        for ep in operations() {
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
    fn a_json_content_type_exactly_when_there_is_a_body() {
        for ep in operations() {
            let req = (ep.build)(&config_with_token("t"), &no_tweak).unwrap();
            let content_type = header_values(&req, "content-type");
            if req.body().is_empty() {
                assert!(content_type.is_empty(), "{}: {content_type:?}", ep.name);
            } else {
                assert_eq!(content_type, ["application/json"], "{}", ep.name);
                serde_json::from_slice::<serde_json::Value>(req.body()).expect("a JSON body");
            }
        }
    }

    #[test]
    fn extra_headers_go_on_every_request() {
        let config = Config::builder()
            .address(BASE)
            .header("X-Request-Source", "ci")
            .header("X-Trace", "a")
            .header("X-Trace", "b")
            .build()
            .unwrap();
        for ep in operations() {
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
