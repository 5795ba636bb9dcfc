//! Every `NOMAD_*` variable the `nomad` CLI reads, through the injectable lookup: what each one
//! sets, the precedence explicit > environment > default, and the error cases (half an mTLS
//! pair, an unparseable `NOMAD_SKIP_VERIFY`, a bad `NOMAD_ADDR`, a bad token).

use std::path::{Path, PathBuf};

use nomad_proto::{Address, BuildError, Config, ConfigBuilder};

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

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

// ---------------------------------------------------------------------------------------------
// The real process environment
// ---------------------------------------------------------------------------------------------

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
