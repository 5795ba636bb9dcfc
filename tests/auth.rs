//! Credentials on the wire and off the screen, end to end against the test agent: basic auth
//! from `NOMAD_HTTP_AUTH` and from the address URL (URL first) as the agent decodes it, the ACL
//! token exactly once on every operation (a per-call token replacing the client's), and no token
//! or password in any `Debug`/`Display` of configs, clients or errors.

mod support;

use nomad_blocking::proto::agent::{ListMembers, OPERATIONS};
use nomad_blocking::test_agent::{Capability, TestAgent};
use nomad_blocking::{Client, Config, Error, WithCallOptions};

const TOKEN: &str = "9f7e0c3a-token-very-secret";
const PASSWORD: &str = "pw-very-secret";

fn env(vars: &[(&'static str, String)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let vars: Vec<(&'static str, String)> = vars.to_vec();
    move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
}

/// An agent with ACLs: a management token `root-token`, `agent-writer` (agent:write) and
/// `node-reader` (node:read).
fn acl_agent() -> TestAgent {
    TestAgent::builder()
        .acl("root-token")
        .token("agent-writer", &[Capability::AgentWrite])
        .token("node-reader", &[Capability::NodeRead])
        .start()
        .unwrap()
}

fn seen_auth(agent: &TestAgent) -> Option<(String, String)> {
    agent.last_request().and_then(|r| r.basic_auth())
}

#[test]
fn basic_auth_from_nomad_http_auth_splits_on_the_first_colon() {
    let agent = TestAgent::start().unwrap();
    let lookup = env(&[
        ("NOMAD_ADDR", agent.url().to_owned()),
        ("NOMAD_HTTP_AUTH", format!("alice:{PASSWORD}:with:colons")),
    ]);
    let c = Client::builder().config(|b| b.env_lookup(lookup)).build().unwrap();
    c.agent().servers().unwrap();
    assert_eq!(
        seen_auth(&agent),
        Some(("alice".to_owned(), format!("{PASSWORD}:with:colons")))
    );

    // A user without a password.
    let lookup = env(&[
        ("NOMAD_ADDR", agent.url().to_owned()),
        ("NOMAD_HTTP_AUTH", "alice".into()),
    ]);
    let c = Client::builder().config(|b| b.env_lookup(lookup)).build().unwrap();
    c.agent().servers().unwrap();
    assert_eq!(seen_auth(&agent), Some(("alice".to_owned(), String::new())));
}

#[test]
fn basic_auth_from_url_credentials_percent_decoded() {
    let agent = TestAgent::start().unwrap();
    let port = agent.socket_addr().unwrap().port();
    let c = Client::builder()
        .address(format!("http://bob:p%40ss%3Aword@127.0.0.1:{port}"))
        .build()
        .unwrap();
    c.agent().servers().unwrap();
    assert_eq!(seen_auth(&agent), Some(("bob".to_owned(), "p@ss:word".to_owned())));
}

#[test]
fn url_credentials_win_over_nomad_http_auth() {
    let agent = TestAgent::start().unwrap();
    let port = agent.socket_addr().unwrap().port();
    let lookup = env(&[
        ("NOMAD_ADDR", format!("http://url-user:url-pass@127.0.0.1:{port}")),
        ("NOMAD_HTTP_AUTH", "env-user:env-pass".into()),
    ]);
    let c = Client::builder().config(|b| b.env_lookup(lookup)).build().unwrap();
    c.agent().servers().unwrap();
    assert_eq!(seen_auth(&agent), Some(("url-user".to_owned(), "url-pass".to_owned())));
    let r = agent.last_request().unwrap();
    assert_eq!(
        r.header_all("authorization").len(),
        1,
        "one Authorization header: {r:?}"
    );
}

#[test]
fn the_token_is_sent_exactly_once_alongside_basic_auth() {
    let agent = TestAgent::builder().acl(TOKEN).start().unwrap();
    let lookup = env(&[
        ("NOMAD_ADDR", agent.url().to_owned()),
        ("NOMAD_TOKEN", format!("  {TOKEN}\n")),
        ("NOMAD_HTTP_AUTH", format!("alice:{PASSWORD}")),
    ]);
    let c = Client::builder()
        // A token smuggled in as an extra header must not make a second one.
        .config(|b| b.env_lookup(lookup).header("X-Nomad-Token", "other"))
        .build()
        .unwrap();
    assert_eq!(c.agent().members().unwrap().members.len(), 3);
    let r = agent.last_request().unwrap();
    assert_eq!(r.header_all("x-nomad-token"), [TOKEN]);
    assert_eq!(r.basic_auth(), Some(("alice".to_owned(), PASSWORD.to_owned())));
}

fn assert_hidden(what: &str, text: &str) {
    assert!(!text.contains(TOKEN), "{what} shows the token: {text}");
    assert!(!text.contains(PASSWORD), "{what} shows the password: {text}");
}

#[test]
fn secrets_never_appear_in_debug_or_display() {
    let agent = TestAgent::builder().acl("some-other-token").start().unwrap();
    let port = agent.socket_addr().unwrap().port();

    let builder = Config::builder()
        .address(format!("http://alice:{PASSWORD}@127.0.0.1:{port}"))
        .token(TOKEN)
        .header("X-Nomad-Token", TOKEN)
        .header("Authorization", format!("Bearer {TOKEN}"));
    assert_hidden("ConfigBuilder", &format!("{builder:?}"));
    let config = builder.build().unwrap();
    assert_hidden("Config", &format!("{config:?}"));
    assert_hidden("Config address", &config.address().to_string());

    let lookup = env(&[
        ("NOMAD_ADDR", agent.url().to_owned()),
        ("NOMAD_TOKEN", TOKEN.to_owned()),
        ("NOMAD_HTTP_AUTH", format!("alice:{PASSWORD}")),
    ]);
    let client = Client::builder().config(|b| b.env_lookup(lookup)).build().unwrap();
    assert_hidden("Client", &format!("{client:?}"));
    assert_hidden(
        "UreqTransport",
        &format!("{:?}", client.transport_as::<nomad_blocking::UreqTransport>().unwrap()),
    );

    // An agent error (403: the agent does not know this token).
    let err = client.agent().members().unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    assert_hidden("403 error", &format!("{err} {err:?}"));

    // A transport error.
    let dead = support::RefusedPort::new();
    let c = Client::builder()
        .address(format!("http://alice:{PASSWORD}@{}", dead.addr()))
        .token(TOKEN)
        .build()
        .unwrap();
    let err = c.agent().members().unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    assert_hidden("connect error", &format!("{err} {err:?}"));
    assert_hidden("Client", &format!("{c:?}"));

    // Build errors: a bad address with credentials, a token that cannot be a header.
    let err = Client::builder()
        .address(format!("ftp://alice:{PASSWORD}@host"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Build(_)), "{err:?}");
    assert_hidden("address error", &format!("{err} {err:?}"));
    let bad_token = format!("{TOKEN}\u{7f}");
    let err = Client::builder()
        .address("http://127.0.0.1:4646")
        .token(bad_token.as_str())
        .build()
        .unwrap_err();
    assert_hidden("token error", &format!("{err} {err:?}"));
}

#[test]
fn a_per_call_token_overrides_the_client_token() {
    let agent = acl_agent();
    let client = agent.client_with_token("agent-writer").unwrap();
    let members = client.call(&ListMembers::new().token("node-reader")).unwrap();
    assert_eq!(members.members.len(), 3);
    assert_eq!(
        agent.last_request().unwrap().header_all("x-nomad-token"),
        ["node-reader"]
    );
}

#[test]
fn a_stale_token_extra_header_is_replaced_by_the_token_on_every_agent_call() {
    let agent = acl_agent();
    // A stale X-Nomad-Token extra header must be replaced, never sent next to the token (the
    // agent would answer 400 `Invalid number of Nomad Tokens`).
    let client = Client::builder()
        .address(agent.url())
        .config(|c| c.header("X-Nomad-Token", "stale-token"))
        .token("root-token")
        .build()
        .unwrap();
    client.agent().members().unwrap();
    client.agent().servers().unwrap();
    client.agent().set_servers(["10.0.0.1:4647"]).unwrap();
    client.agent().self_info().unwrap();
    client.agent().join(["10.0.0.4"]).unwrap();
    client.agent().force_leave("nomad-2.global").unwrap();
    client.agent().health().unwrap();

    let requests = agent.requests();
    let seen: Vec<_> = requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("GET", "/v1/agent/members"),
            ("GET", "/v1/agent/servers"),
            ("PUT", "/v1/agent/servers"),
            ("GET", "/v1/agent/self"),
            ("PUT", "/v1/agent/join"),
            ("PUT", "/v1/agent/force-leave"),
            ("GET", "/v1/agent/health"),
        ]
    );
    for r in &requests {
        assert_eq!(r.header_all("x-nomad-token"), ["root-token"], "{} {}", r.method, r.path);
        assert!(r.header("authorization").is_none(), "{}", r.path);
        assert!(r.body.is_empty(), "{}", r.path);
        assert!(r.header("content-type").is_none(), "{}", r.path);
    }
}

#[test]
fn basic_auth_from_the_address_arrives_and_the_uri_has_no_credentials() {
    let agent = TestAgent::start().unwrap();
    let url = agent.url().replacen("http://", "http://ops:s3cret@", 1);
    let client = Client::builder().address(url).build().unwrap();
    client.agent().self_info().unwrap();
    let req = agent.last_request().unwrap();
    assert_eq!(req.header("authorization"), Some("Basic b3BzOnMzY3JldA==")); // ops:s3cret
    assert!(!format!("{client:?}").contains("s3cret"));
}

#[test]
fn every_operation_sends_the_token_exactly_once() {
    // Every operation's sample request, from a client whose extra headers hold a stale token.
    let agent = acl_agent();
    let client = Client::builder()
        .address(agent.url())
        .config(|c| c.header("X-Nomad-Token", "stale-token"))
        .token("root-token")
        .build()
        .unwrap();
    for op in OPERATIONS {
        let name = op.info.name;
        let request = (op.sample_request)(client.config()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let status = if op.info.streaming {
            client.transport().send_streaming(request).map(|r| r.status())
        } else {
            client.transport().send(request).map(|r| r.status())
        }
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_ne!(status.as_u16(), 403, "{name}: the management token was refused");
        let seen = agent.last_request().unwrap();
        let path = op.info.path.trim_end_matches("<profile>");
        assert!(
            seen.path.starts_with(path),
            "{name}: the last request was {}",
            seen.path
        );
        assert_eq!(seen.header_all("x-nomad-token"), ["root-token"], "{name}");
        assert!(seen.header("authorization").is_none(), "{name}");
    }
}
