//! Credentials on the wire and off the screen: basic auth from `NOMAD_HTTP_AUTH` and from the
//! address URL (URL first) as the agent decodes it, the ACL token exactly once, and no token or
//! password in any `Debug`/`Display` of configs, clients or errors.

mod support;

use nomad_blocking::test_agent::TestAgent;
use nomad_blocking::{Client, Config, Error};

const TOKEN: &str = "9f7e0c3a-token-very-secret";
const PASSWORD: &str = "pw-very-secret";

fn env(vars: &[(&'static str, String)]) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
    let vars: Vec<(&'static str, String)> = vars.to_vec();
    move |name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
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
    assert_hidden("UreqTransport", &format!("{:?}", client.transport()));

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
