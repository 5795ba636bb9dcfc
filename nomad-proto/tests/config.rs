//! Connection settings (`nomad_proto::config`): agent addresses (`http`, `https`, path
//! prefixes, IPv6, `unix://`, credentials in the URL), ACL tokens, extra headers, and every
//! `NOMAD_*` variable the `nomad` CLI reads, through the injectable lookup: what each one sets,
//! the precedence explicit > environment > default, and the error cases. One test reads the real
//! process environment, in a child process with `NOMAD_*` variables of its own.

#[path = "agent/common.rs"]
mod common;

use std::path::{Path, PathBuf};

use nomad_proto::agent::GetSelf;
use nomad_proto::config::Address;
use nomad_proto::{BuildError, Config, ConfigBuilder, Endpoint};

use common::*;

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

/// Every `NOMAD_*` variable, one by one.
mod variables {
    use super::*;

    fn from_env(pairs: &[(&str, &str)]) -> Result<Config, BuildError> {
        Config::builder().env_lookup(env(pairs)).build()
    }

    const EVERYTHING: [(&str, &str); 12] = [
        ("NOMAD_ADDR", "https://nomad.example:4646"),
        ("NOMAD_TOKEN", "env-token"),
        ("NOMAD_REGION", "eu"),
        ("NOMAD_NAMESPACE", "web"),
        ("NOMAD_HTTP_AUTH", "alice:pw"),
        ("NOMAD_CACERT", "/etc/nomad/ca.pem"),
        ("NOMAD_CAPATH", "/etc/nomad/cas"),
        ("NOMAD_CLIENT_CERT", "/etc/nomad/cli.pem"),
        ("NOMAD_CLIENT_KEY", "/etc/nomad/cli-key.pem"),
        ("NOMAD_TLS_SERVER_NAME", "server.eu.nomad"),
        ("NOMAD_SKIP_VERIFY", "true"),
        ("NOMAD_UNRELATED", "ignored"),
    ];

    #[test]
    fn every_variable_is_read() {
        let c = from_env(&EVERYTHING).unwrap();
        assert_eq!(c.base_url(), "https://nomad.example:4646");
        assert!(c.address().is_tls());
        assert_eq!(c.token().map(|t| t.header_value().to_str().unwrap()), Some("env-token"));
        assert_eq!(c.region(), Some("eu"));
        assert_eq!(c.namespace(), Some("web"));
        assert_eq!(c.basic_auth().map(|a| a.user()), Some("alice"));
        let tls = c.tls();
        assert_eq!(tls.ca_cert.as_deref(), Some(Path::new("/etc/nomad/ca.pem")));
        assert_eq!(tls.ca_path.as_deref(), Some(Path::new("/etc/nomad/cas")));
        assert_eq!(tls.client_cert.as_deref(), Some(Path::new("/etc/nomad/cli.pem")));
        assert_eq!(tls.client_key.as_deref(), Some(Path::new("/etc/nomad/cli-key.pem")));
        assert_eq!(tls.server_name.as_deref(), Some("server.eu.nomad"));
        assert!(tls.skip_verify);
    }

    #[test]
    fn nothing_set_gives_the_cli_defaults() {
        let c = from_env(&[]).unwrap();
        assert_eq!(c.base_url(), "http://127.0.0.1:4646");
        assert!(c.token().is_none());
        assert!(c.region().is_none() && c.namespace().is_none() && c.basic_auth().is_none());
        let tls = c.tls();
        assert!(tls.ca_cert.is_none() && tls.ca_path.is_none());
        assert!(tls.client_cert.is_none() && tls.client_key.is_none());
        assert!(tls.server_name.is_none());
        assert!(!tls.skip_verify, "verification is on by default");
    }

    #[test]
    fn explicit_settings_beat_every_variable() {
        let c = Config::builder()
            .env_lookup(env(&EVERYTHING))
            .address("https://explicit.example:4646")
            .token("explicit-token")
            .region("us")
            .namespace("batch")
            .basic_auth("bob", Some("pw2".into()))
            .ca_cert("/explicit/ca.pem")
            .ca_path("/explicit/cas")
            .client_cert("/explicit/cli.pem", "/explicit/cli-key.pem")
            .tls_server_name("server.us.nomad")
            .skip_verify(false)
            .build()
            .unwrap();
        assert_eq!(c.base_url(), "https://explicit.example:4646");
        assert_eq!(
            c.token().map(|t| t.header_value().to_str().unwrap()),
            Some("explicit-token")
        );
        assert_eq!(c.region(), Some("us"));
        assert_eq!(c.namespace(), Some("batch"));
        assert_eq!(c.basic_auth().map(|a| a.user()), Some("bob"));
        let tls = c.tls();
        assert_eq!(tls.ca_cert, Some(PathBuf::from("/explicit/ca.pem")));
        assert_eq!(tls.ca_path, Some(PathBuf::from("/explicit/cas")));
        assert_eq!(tls.client_cert, Some(PathBuf::from("/explicit/cli.pem")));
        assert_eq!(tls.client_key, Some(PathBuf::from("/explicit/cli-key.pem")));
        assert_eq!(tls.server_name.as_deref(), Some("server.us.nomad"));
        assert!(!tls.skip_verify, "an explicit false beats NOMAD_SKIP_VERIFY=true");
    }

    #[test]
    fn explicit_settings_win_whatever_the_call_order() {
        let explicit_first = ConfigBuilder::new()
            .tls_server_name("explicit.nomad")
            .skip_verify(false)
            .env_lookup(env(&EVERYTHING))
            .build()
            .unwrap();
        assert_eq!(explicit_first.tls().server_name.as_deref(), Some("explicit.nomad"));
        assert!(!explicit_first.tls().skip_verify);
    }

    #[test]
    fn an_explicit_client_pair_replaces_both_variables() {
        // Only NOMAD_CLIENT_CERT in the environment would be an error, but the explicit pair
        // replaces the environment's pair as a whole.
        let c = Config::builder()
            .env_lookup(env(&[("NOMAD_CLIENT_CERT", "/env/cli.pem")]))
            .client_cert("/explicit/cli.pem", "/explicit/key.pem")
            .build()
            .unwrap();
        assert_eq!(c.tls().client_cert, Some(PathBuf::from("/explicit/cli.pem")));
        assert_eq!(c.tls().client_key, Some(PathBuf::from("/explicit/key.pem")));
    }

    #[test]
    fn half_an_mtls_pair_is_an_error_naming_the_missing_variable() {
        let err = from_env(&[("NOMAD_CLIENT_CERT", "/etc/nomad/cli.pem")]).unwrap_err();
        match &err {
            BuildError::InvalidEnv { var, reason } => {
                assert_eq!(*var, "NOMAD_CLIENT_KEY");
                assert!(reason.contains("both client cert and client key"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        let err = from_env(&[("NOMAD_CLIENT_KEY", "/etc/nomad/cli-key.pem")]).unwrap_err();
        assert!(
            matches!(
                err,
                BuildError::InvalidEnv {
                    var: "NOMAD_CLIENT_CERT",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("NOMAD_CLIENT_CERT"), "{err}");
    }

    #[test]
    fn nomad_skip_verify_accepts_go_booleans() {
        for yes in ["1", "t", "T", "TRUE", "true", "True"] {
            assert!(
                from_env(&[("NOMAD_SKIP_VERIFY", yes)]).unwrap().tls().skip_verify,
                "{yes}"
            );
        }
        for no in ["0", "f", "F", "FALSE", "false", "False"] {
            assert!(
                !from_env(&[("NOMAD_SKIP_VERIFY", no)]).unwrap().tls().skip_verify,
                "{no}"
            );
        }
    }

    #[test]
    fn an_unparseable_nomad_skip_verify_is_an_error_not_a_silent_default() {
        // Go's client ignores such a value; here it is a clear error, so a typo cannot silently
        // leave verification on (or off).
        for bad in ["yes", "on", "2", "tru"] {
            let err = from_env(&[("NOMAD_SKIP_VERIFY", bad)]).unwrap_err();
            match &err {
                BuildError::InvalidEnv { var, reason } => {
                    assert_eq!(*var, "NOMAD_SKIP_VERIFY");
                    assert!(reason.contains(bad), "{reason}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
        // An explicit setting means the variable is not consulted at all.
        let c = Config::builder()
            .env_lookup(env(&[("NOMAD_SKIP_VERIFY", "yes")]))
            .skip_verify(true)
            .build()
            .unwrap();
        assert!(c.tls().skip_verify);
    }

    #[test]
    fn empty_tls_variables_count_as_unset() {
        let c = from_env(&[
            ("NOMAD_CACERT", ""),
            ("NOMAD_CAPATH", ""),
            ("NOMAD_CLIENT_CERT", ""),
            ("NOMAD_CLIENT_KEY", ""),
            ("NOMAD_TLS_SERVER_NAME", ""),
            ("NOMAD_SKIP_VERIFY", ""),
        ])
        .unwrap();
        assert_eq!(c.tls(), Config::default().tls());
    }

    #[test]
    fn bad_nomad_addr_values() {
        for bad in [
            "nomad.example:4646",
            "ftp://nomad.example",
            "http://",
            "http://host:notaport",
            "unix://relative.sock",
        ] {
            let err = from_env(&[("NOMAD_ADDR", bad)]).unwrap_err();
            assert!(matches!(err, BuildError::InvalidAddress { .. }), "{bad}: {err:?}");
        }
        // Credentials in a bad NOMAD_ADDR are not echoed.
        let err = from_env(&[("NOMAD_ADDR", "ftp://alice:s3cr3t@host")]).unwrap_err();
        assert!(!format!("{err} {err:?}").contains("s3cr3t"), "{err:?}");
    }

    #[test]
    fn a_unix_nomad_addr_is_the_task_api_socket() {
        let c = from_env(&[("NOMAD_ADDR", "unix:///alloc/secrets/api.sock")]).unwrap();
        assert_eq!(
            c.address(),
            &Address::Unix {
                path: PathBuf::from("/alloc/secrets/api.sock")
            }
        );
        assert_eq!(c.base_url(), "http://127.0.0.1");
    }

    #[test]
    fn bad_nomad_token_values_are_rejected_without_echoing_them() {
        for bad in ["secret\nnext", "s\u{e9}cret", "sec ret"] {
            let err = from_env(&[("NOMAD_TOKEN", bad)]).unwrap_err();
            assert!(matches!(err, BuildError::InvalidToken { .. }), "{bad:?}: {err:?}");
            assert!(!format!("{err} {err:?}").contains("cret"), "{err:?}");
        }
        // Whitespace around a token (a trailing newline from a file) is trimmed, as the agent does.
        let c = from_env(&[("NOMAD_TOKEN", "  tok\n")]).unwrap();
        assert_eq!(c.token().map(|t| t.header_value().to_str().unwrap()), Some("tok"));
    }
}

/// Set in the child process of `the_process_environment_is_read_only_when_asked`.
const CHILD: &str = "CONFIG_ENV_TEST_CHILD";

/// The `NOMAD_*` variables the child process gets (and no other `NOMAD_*` variable).
const CHILD_ENV: [(&str, &str); 3] = [
    ("NOMAD_ADDR", "http://env.example:4646"),
    ("NOMAD_TOKEN", "env-token"),
    ("NOMAD_REGION", "env-region"),
];

#[test]
fn the_process_environment_is_read_only_when_asked() {
    // Runs itself again in a child process of this test binary with `CHILD_ENV` as its only
    // `NOMAD_*` variables: no test changes the environment of a running process, and none reads
    // the developer's own `NOMAD_*` settings.
    if std::env::var_os(CHILD).is_some() {
        let plain = Config::builder().build().unwrap();
        assert_eq!(
            plain.base_url(),
            "http://127.0.0.1:4646",
            "the builder alone ignores NOMAD_ADDR"
        );
        assert!(plain.token().is_none());
        assert_eq!(plain.region(), None);
        for config in [Config::from_env().unwrap(), Config::builder().env().build().unwrap()] {
            assert_eq!(config.base_url(), "http://env.example:4646");
            assert_eq!(
                config.token().map(|t| t.header_value().clone()),
                Some("env-token".try_into().unwrap())
            );
            assert_eq!(config.region(), Some("env-region"));
        }
        return;
    }
    let test = "the_process_environment_is_read_only_when_asked";
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().to_ascii_uppercase().starts_with("NOMAD_") {
            child.env_remove(name);
        }
    }
    child.envs(CHILD_ENV).env(CHILD, "1");
    let output = child.output().expect("run the child process");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What a transport dials: host and port (the scheme's default when the address has none), or
/// a socket path.
#[test]
fn an_address_gives_the_host_and_port_a_transport_dials() {
    use std::net::ToSocketAddrs;
    for (input, host, port) in [
        ("http://127.0.0.1:4646", "127.0.0.1", 4646),
        ("http://nomad.example", "nomad.example", 80),
        ("https://nomad.example", "nomad.example", 443),
        ("https://nomad.example:8443/prefix", "nomad.example", 8443),
        ("http://[::1]:4646", "::1", 4646),
        ("https://[2001:db8::1]", "2001:db8::1", 443),
        ("http://admin:pw@10.0.0.5:4646", "10.0.0.5", 4646),
    ] {
        let (address, _) = Address::parse(input).unwrap();
        assert_eq!((address.host(), address.port()), (Some(host), Some(port)), "{input}");
        assert_eq!(address.socket_path(), None);
    }
    let (address, _) = Address::parse("http://[::1]:4646").unwrap();
    let dialed: Vec<_> = (address.host().unwrap(), address.port().unwrap())
        .to_socket_addrs()
        .unwrap()
        .collect();
    assert_eq!(dialed, ["[::1]:4646".parse().unwrap()]);
    let (address, _) = Address::parse("unix:///alloc/secrets/api.sock").unwrap();
    assert_eq!((address.host(), address.port()), (None, None));
    assert_eq!(
        address.socket_path(),
        Some(std::path::Path::new("/alloc/secrets/api.sock"))
    );
    assert_eq!(address.base_url(), "http://127.0.0.1");
}

/// A secret converts from every string type a program holds one in, and stays hidden.
#[test]
fn a_secret_converts_from_the_usual_string_types() {
    use nomad_proto::Secret;
    use std::borrow::Cow;
    use std::sync::Arc;
    let owned = String::from("s3cr3t");
    let secrets = [
        Secret::from("s3cr3t"),
        Secret::from(&owned),
        Secret::from(owned.clone()),
        Secret::from(Box::<str>::from("s3cr3t")),
        Secret::from(Cow::Borrowed("s3cr3t")),
        Secret::from(Cow::<str>::Owned(owned.clone())),
        Secret::from(Arc::<str>::from("s3cr3t")),
    ];
    for secret in &secrets {
        assert_eq!(secret.expose(), "s3cr3t");
        assert!(!format!("{secret:?}").contains("s3cr3t"));
        let config = Config::builder().token(secret.clone()).build().unwrap();
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }
    let config = Config::builder().token(&owned).build().unwrap();
    assert_eq!(config.token().unwrap().header_value(), "s3cr3t");
}
