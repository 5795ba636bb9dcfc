//! Property tests for request building: whatever a caller passes as node names,
//! addresses, tokens, regions, namespaces or extra headers (arbitrary Unicode, CR/LF, `&`, `=`,
//! `#`, `%`, `+`, spaces, NUL), building a request either succeeds with a URI whose query decodes
//! (form-urlencoded) to exactly the pairs that were sent, or fails with a typed [`BuildError`]
//! exactly when an input cannot go on the wire. It never panics, never lets a value break out
//! into another header or query parameter, and sends the token exactly once.
//!
//! Also: `Address::parse` never panics on arbitrary input, and what it accepts makes valid URIs.

use http::header::{HeaderName, HeaderValue};
use http::Request;
use nomad_proto::agent::{AgentRole, ForceLeave, GetHealth, GetSelf, Join, ListMembers, ListServers, SetServers};
use nomad_proto::{Address, BuildError, Config, Endpoint, WithCallOptions};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

/// Characters that break naive encoders, mixed with arbitrary Unicode.
fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(vec![
            '\r', '\n', ' ', '&', '=', '#', '%', '+', '\0', '?', '/', ';', '\t', ':', '@', '"', '\'', '<', '\\',
            '\u{7f}', '\u{85}', '\u{a0}', '\u{2028}', '\u{feff}', 'é', '東', '😀',
        ]),
        2 => prop::char::range('a', 'z'),
        1 => any::<char>(),
    ]
}

fn nasty_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..max).prop_map(String::from_iter)
}

/// A string that is usually valid for its purpose, often not.
fn value(valid: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => valid.prop_map(|s: String| s),
        1 => nasty_string(16),
    ]
}

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        // Visible ASCII, sometimes with surrounding whitespace (trimmed, as the agent does).
        4 => ("[ \t]{0,2}", "[!-~]{8,40}", "[ \t\r\n]{0,2}").prop_map(|(a, b, c)| format!("{a}{b}{c}")),
        1 => nasty_string(24),
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "X-[A-Za-z0-9-]{1,12}",
        1 => Just("X-Nomad-Token".to_owned()),
        1 => Just("x-nomad-token".to_owned()),
        1 => nasty_string(10),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[ -~]{0,20}",
        // Header injection attempts.
        1 => "[a-z]{1,5}".prop_map(|s| format!("{s}\r\nX-Nomad-Token: injected")),
        1 => "[a-z]{1,5}".prop_map(|s| format!("{s}\nHost: evil")),
        2 => nasty_string(16),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    ListMembers,
    ListServers,
    GetSelf,
    Health(Vec<AgentRole>),
    ForceLeave(String, bool),
    SetServers(Vec<String>),
    Join(Vec<String>),
}

fn op() -> impl Strategy<Value = Op> {
    let addresses = || {
        prop::collection::vec(
            value("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(:[0-9]{1,5})?"),
            0..4,
        )
    };
    prop_oneof![
        1 => Just(Op::ListMembers),
        1 => Just(Op::ListServers),
        1 => Just(Op::GetSelf),
        1 => prop::collection::vec(prop::sample::select(vec![AgentRole::Client, AgentRole::Server]), 0..3)
            .prop_map(Op::Health),
        3 => (value("[a-z0-9-]{1,12}\\.global"), any::<bool>()).prop_map(|(n, p)| Op::ForceLeave(n, p)),
        3 => addresses().prop_map(Op::SetServers),
        3 => addresses().prop_map(Op::Join),
    ]
}

#[derive(Clone, Debug)]
struct Input {
    op: Op,
    token: Option<String>,
    region: Option<String>,
    namespace: Option<String>,
    headers: Vec<(String, String)>,
    call_token: Option<String>,
    call_region: Option<String>,
    call_namespace: Option<String>,
}

fn input() -> impl Strategy<Value = Input> {
    (
        op(),
        prop::option::of(token()),
        prop::option::of(value("[a-z][a-z0-9-]{0,10}")),
        prop::option::of(value("[a-z][a-z0-9-]{0,10}")),
        prop::collection::vec((header_name(), header_value()), 0..3),
        prop::option::weighted(0.3, token()),
        prop::option::weighted(0.3, value("[a-z][a-z0-9-]{0,10}")),
        prop::option::weighted(0.3, value("[a-z][a-z0-9-]{0,10}")),
    )
        .prop_map(
            |(op, token, region, namespace, headers, call_token, call_region, call_namespace)| Input {
                op,
                token,
                region,
                namespace,
                headers,
                call_token,
                call_region,
                call_namespace,
            },
        )
}

// ---------------------------------------------------------------------------------------------
// The oracle: what the wire allows
// ---------------------------------------------------------------------------------------------

/// A token can be sent if, trimmed, it is non-empty visible ASCII.
fn token_ok(t: &str) -> bool {
    let t = t.trim();
    !t.is_empty() && t.bytes().all(|b| (0x21..0x7f).contains(&b))
}

/// A region or namespace can be sent if it is non-empty and has no control characters.
fn query_value_ok(v: &str) -> bool {
    !v.is_empty() && !v.chars().any(char::is_control)
}

/// Extra headers: a valid name, and a value of visible ASCII, spaces and tabs (the `http` crate
/// would also take obs-text bytes, which config rejects as non-ASCII).
fn header_ok(name: &str, value: &str) -> bool {
    HeaderName::from_bytes(name.as_bytes()).is_ok() && value.is_ascii() && HeaderValue::from_str(value).is_ok()
}

/// Path and query pairs the operation must send (before region and namespace), or `None` if its
/// arguments are invalid.
fn expected_op(op: &Op) -> Option<(&'static str, Vec<(String, String)>)> {
    let pairs = |name: &str, values: &[String]| -> Vec<(String, String)> {
        values.iter().map(|v| (name.to_owned(), v.clone())).collect()
    };
    let addresses_ok = |a: &[String]| !a.is_empty() && a.iter().all(|a| !a.trim().is_empty());
    Some(match op {
        Op::ListMembers => ("/v1/agent/members", vec![]),
        Op::ListServers => ("/v1/agent/servers", vec![]),
        Op::GetSelf => ("/v1/agent/self", vec![]),
        Op::Health(roles) => {
            let mut unique: Vec<AgentRole> = Vec::new();
            for r in roles {
                if !unique.contains(r) {
                    unique.push(*r);
                }
            }
            let names: Vec<String> = unique.iter().map(|r| r.as_str().to_owned()).collect();
            ("/v1/agent/health", pairs("type", &names))
        }
        Op::ForceLeave(node, prune) => {
            if node.trim().is_empty() {
                return None;
            }
            let mut q = vec![("node".to_owned(), node.clone())];
            if *prune {
                q.push(("prune".to_owned(), "1".to_owned()));
            }
            ("/v1/agent/force-leave", q)
        }
        Op::SetServers(a) => {
            if !addresses_ok(a) {
                return None;
            }
            ("/v1/agent/servers", pairs("address", a))
        }
        Op::Join(a) => {
            if !addresses_ok(a) {
                return None;
            }
            ("/v1/agent/join", pairs("address", a))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Running an input
// ---------------------------------------------------------------------------------------------

fn config_for(input: &Input) -> Result<Config, BuildError> {
    let mut b = Config::builder().address("http://127.0.0.1:4646");
    if let Some(t) = &input.token {
        b = b.token(t.as_str());
    }
    if let Some(r) = &input.region {
        b = b.region(r.as_str());
    }
    if let Some(n) = &input.namespace {
        b = b.namespace(n.as_str());
    }
    for (name, value) in &input.headers {
        b = b.header(name.as_str(), value.as_str());
    }
    b.build()
}

fn with_options<E: WithCallOptions>(mut op: E, input: &Input) -> E {
    if let Some(t) = &input.call_token {
        op = op.token(t.as_str());
    }
    if let Some(r) = &input.call_region {
        op = op.region(r.as_str());
    }
    if let Some(n) = &input.call_namespace {
        op = op.namespace(n.as_str());
    }
    op
}

fn build(input: &Input, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
    match &input.op {
        Op::ListMembers => with_options(ListMembers::new(), input).to_request(config),
        Op::ListServers => with_options(ListServers::new(), input).to_request(config),
        Op::GetSelf => with_options(GetSelf::new(), input).to_request(config),
        Op::Health(roles) => {
            let op = roles.iter().fold(GetHealth::new(), |op, r| op.role(*r));
            with_options(op, input).to_request(config)
        }
        Op::ForceLeave(node, prune) => {
            with_options(ForceLeave::new(node.as_str()).prune(*prune), input).to_request(config)
        }
        Op::SetServers(a) => with_options(SetServers::new(a.clone()), input).to_request(config),
        Op::Join(a) => with_options(Join::new(a.clone()), input).to_request(config),
    }
}

/// No secret (of at least 8 characters) shows up in an error message.
fn assert_no_secret(err: &BuildError, secrets: &[&Option<String>]) -> Result<(), TestCaseError> {
    let texts = [err.to_string(), format!("{err:?}")];
    for secret in secrets.iter().filter_map(|s| s.as_deref()) {
        let secret = secret.trim();
        if secret.len() >= 8 {
            for text in &texts {
                prop_assert!(!text.contains(secret), "secret in error text: {text}");
            }
        }
    }
    Ok(())
}

fn check(input: &Input) -> Result<(), TestCaseError> {
    // What should happen.
    let config_valid = input.token.as_deref().is_none_or(token_ok)
        && input.region.as_deref().is_none_or(query_value_ok)
        && input.namespace.as_deref().is_none_or(query_value_ok)
        && input.headers.iter().all(|(n, v)| header_ok(n, v));
    let expected = expected_op(&input.op);
    let call_valid = input.call_token.as_deref().is_none_or(token_ok)
        && input.call_region.as_deref().is_none_or(query_value_ok)
        && input.call_namespace.as_deref().is_none_or(query_value_ok);

    let secrets = [&input.token, &input.call_token];
    let config = match config_for(input) {
        Ok(c) => {
            prop_assert!(config_valid, "config accepted invalid input");
            c
        }
        Err(err) => {
            prop_assert!(!config_valid, "config rejected valid input: {err}");
            return assert_no_secret(&err, &secrets);
        }
    };
    let request = match build(input, &config) {
        Ok(r) => r,
        Err(err) => {
            prop_assert!(expected.is_none() || !call_valid, "request rejected valid input: {err}");
            return assert_no_secret(&err, &secrets);
        }
    };
    let Some((path, mut pairs)) = expected else {
        return Err(TestCaseError::fail("request built from invalid arguments"));
    };
    prop_assert!(call_valid, "request built with an invalid per-call option");

    // The URI: nothing raw that could end the request line or split the query.
    let uri = request.uri().to_string();
    prop_assert!(
        !uri.contains([' ', '\r', '\n', '\0', '#']) && uri.is_ascii(),
        "raw character in URI {uri:?}"
    );
    prop_assert_eq!(request.uri().path(), path);
    prop_assert_eq!(request.uri().authority().map(|a| a.as_str()), Some("127.0.0.1:4646"));

    // The query decodes to exactly the pairs sent, in order.
    if let Some(region) = input.call_region.as_ref().or(input.region.as_ref()) {
        pairs.push(("region".to_owned(), region.clone()));
    }
    if let Some(ns) = input.call_namespace.as_ref().or(input.namespace.as_ref()) {
        pairs.push(("namespace".to_owned(), ns.clone()));
    }
    let query = request.uri().query();
    prop_assert_eq!(query.is_some(), !pairs.is_empty(), "query {:?}", query);
    let decoded: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect();
    prop_assert_eq!(decoded.len(), pairs.len(), "query injection: {:?}", query);
    prop_assert_eq!(decoded, pairs);

    // Headers: no CR/LF anywhere, the token exactly once.
    for (name, value) in request.headers() {
        prop_assert!(
            !value.as_bytes().iter().any(|b| matches!(b, b'\r' | b'\n' | b'\0')),
            "control byte in header {name}: {value:?}"
        );
    }
    let tokens: Vec<&HeaderValue> = request.headers().get_all("x-nomad-token").iter().collect();
    match input.call_token.as_ref().or(input.token.as_ref()) {
        Some(t) => {
            prop_assert_eq!(tokens.len(), 1, "token headers: {:?}", tokens);
            prop_assert_eq!(tokens[0].as_bytes(), t.trim().as_bytes());
            prop_assert!(tokens[0].is_sensitive());
        }
        None => {
            // No token configured: an X-Nomad-Token given as an extra header goes out as given.
            let extra: Vec<&[u8]> = input
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("x-nomad-token"))
                .map(|(_, v)| v.as_bytes())
                .collect();
            let sent: Vec<&[u8]> = tokens.iter().map(|v| v.as_bytes()).collect();
            prop_assert_eq!(sent, extra);
        }
    }
    // Extra headers arrive as given (except X-Nomad-Token, which the real token replaces).
    for (name, value) in &input.headers {
        if name.eq_ignore_ascii_case("x-nomad-token") {
            continue;
        }
        let sent: Vec<&[u8]> = request
            .headers()
            .get_all(name.as_str())
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        prop_assert!(sent.contains(&value.as_bytes()), "header {name} lost: {sent:?}");
    }
    // Debug of the request never shows the token.
    if let Some(t) = input.call_token.as_ref().or(input.token.as_ref()) {
        let t = t.trim();
        if t.len() >= 8 {
            prop_assert!(!format!("{config:?}").contains(t), "token in Config Debug");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn requests_are_built_exactly_or_rejected_with_a_typed_error(input in input()) {
        check(&input)?;
    }

    #[test]
    fn address_parse_never_panics(raw in prop_oneof![
        nasty_string(40),
        ("(http|https|unix|HTTP|ftp)", "(://|:/|:)", nasty_string(30)).prop_map(|(s, sep, rest)| format!("{s}{sep}{rest}")),
        ("(http|https)://", "([a-z]{1,4}(:[^@/]{0,8})?@)?", "[a-z0-9.\\[\\]:]{0,20}", "(:[0-9]{0,6})?", "(/[^ ]{0,12})?")
            .prop_map(|(a, b, c, d, e)| format!("{a}{b}{c}{d}{e}")),
    ]) {
        if let Ok((address, _auth)) = Address::parse(&raw) {
            // What is accepted makes request URIs that `http` can parse, and parses back the same.
            let base = address.base_url();
            let uri = format!("{base}/v1/agent/self");
            prop_assert!(uri.parse::<http::Uri>().is_ok(), "{raw:?} gave an unusable base URL {base:?}");
            if let Address::Http { .. } = &address {
                let (again, _) = Address::parse(&base).map_err(|e| TestCaseError::fail(format!("{base:?}: {e}")))?;
                prop_assert_eq!(again, address);
            }
        }
    }

    #[test]
    fn address_errors_never_show_the_password(
        user in "[a-z]{1,6}",
        password in "[A-Za-z0-9/?#@:%]{12,20}",
        host in prop_oneof![Just("nomad.example:4646".to_owned()), nasty_string(12)],
        path in prop_oneof![Just(String::new()), nasty_string(8)],
    ) {
        let raw = format!("https://{user}:{password}@{host}{path}");
        match Address::parse(&raw) {
            // A raw `/`, `?` or `#` in the password ends the authority (RFC 3986, as in Go):
            // then the URL has no credentials at all.
            Ok((_, Some(auth))) => prop_assert_eq!(auth.user(), user.as_str()),
            Ok((_, None)) => prop_assert!(password.contains(['/', '?', '#']), "credentials lost"),
            Err(err) => {
                prop_assert!(!err.to_string().contains(&password), "password in {err}");
                prop_assert!(!format!("{err:?}").contains(&password), "password in {err:?}");
            }
        }
    }
}

/// Regression (found by `address_errors_never_show_the_password`): a password holding a raw `/`
/// or `#` ended the redacted part early, and the rejected address was shown with the password.
#[test]
fn rejected_address_with_slash_or_hash_in_the_password_is_redacted() {
    for raw in [
        "https://a:0Aaa/#a000##@nomad.example:4646",
        "https://admin:pa/ss?w0rd@nomad.example:notaport",
        "http://admin:s3cr3t#x@host:99999",
        "https://admin:ab/cdefgh@nomad.example:4646",
    ] {
        let err = Address::parse(raw).unwrap_err();
        let text = format!("{err} {err:?}");
        for secret in ["0Aaa/#a000##", "pa/ss?w0rd", "s3cr3t#x", "ab/cdefgh"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("<redacted>@"), "{text}");
    }
}
