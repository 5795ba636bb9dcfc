//! The client's shape as a user meets it on day one: one `Client` type whatever the transport
//! (so helpers take `&Client` and are unit-tested with closures), a builder with every
//! connection setting, and gossip keys generated from the OS's random number generator.

use nomad_blocking::http::{Request, Response};
use nomad_blocking::proto::agent::MemberStatus;
use nomad_blocking::proto::Config;
use nomad_blocking::{Client, Error, UreqTransport};

/// A user's helper: it takes the one client type.
fn alive_members(client: &Client) -> Result<usize, Error> {
    let members = client.agent().members()?.members;
    Ok(members.iter().filter(|m| m.status == MemberStatus::Alive).count())
}

const MEMBERS: &str = r#"{"Members":[{"Name":"a.global","Status":"alive"},{"Name":"b.global","Status":"failed"},{"Name":"c.global","Status":"alive"}]}"#;

#[test]
fn one_helper_takes_a_closure_client_and_a_ureq_client() {
    let canned = Client::with_transport(Config::default(), |req: Request<Vec<u8>>| {
        assert_eq!(req.uri().path(), "/v1/agent/members");
        Response::builder().status(200).body(MEMBERS.as_bytes().to_vec())
    });
    assert_eq!(alive_members(&canned).unwrap(), 2);

    // The same helper, the ureq client: here against a port where nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let real: Client = Client::builder()
        .address(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    assert!(alive_members(&real).unwrap_err().is_connect());

    // Both can be stored side by side, shared between threads, and told apart.
    let clients: Vec<Client> = vec![canned.clone(), real.clone()];
    let counts = std::thread::spawn(move || clients.iter().map(|c| alive_members(c).ok()).collect::<Vec<_>>());
    assert_eq!(counts.join().unwrap(), [Some(2), None]);
    assert!(canned.transport_as::<UreqTransport>().is_none());
    assert!(real.transport_as::<UreqTransport>().is_some());
    assert!(format!("{canned:?}").contains("transport"), "{canned:?}");
}

#[cfg(feature = "tls")] // an https:// address, TLS settings
#[test]
fn the_builder_sets_every_connection_setting_under_its_config_builder_name() {
    let lookup = |name: &str| (name == "NOMAD_NAMESPACE").then(|| "from-env".to_owned());
    let client = Client::builder()
        .address("https://10.0.0.5:4646")
        .token("t0ken")
        .region("eu-west")
        .header("X-Team", "infra")
        .basic_auth("alice", Some("pa55".into()))
        .tls_server_name("server.eu-west.nomad")
        .skip_verify(true)
        .env_lookup(lookup)
        .build()
        .unwrap();
    let config = client.config();
    assert_eq!(config.region(), Some("eu-west"));
    assert_eq!(config.namespace(), Some("from-env"), "env_lookup fills what is unset");
    assert_eq!(config.headers().get("x-team").unwrap(), "infra");
    assert_eq!(config.basic_auth().map(|b| b.user()), Some("alice"));
    assert_eq!(config.tls().server_name.as_deref(), Some("server.eu-west.nomad"));
    assert!(config.tls().skip_verify);
    assert!(config.token().is_some());

    let explicit = Client::builder()
        .namespace("web")
        .env_lookup(lookup)
        .without_token()
        .build()
        .unwrap();
    assert_eq!(
        explicit.config().namespace(),
        Some("web"),
        "explicit beats the environment"
    );
    assert!(explicit.config().token().is_none());
}

#[test]
fn connection_settings_on_top_of_a_finished_config_are_refused_not_dropped() {
    let err = nomad_blocking::ClientBuilder::from_config(Config::default())
        .region("eu-west")
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Setup(nomad_blocking::SetupError::InvalidSetting { setting: "config", .. })
        ),
        "{err:?}"
    );
}

#[cfg(feature = "keygen")]
#[test]
fn a_generated_gossip_key_is_32_random_bytes_in_standard_base64() {
    use base64::Engine as _;
    use nomad_blocking::generate_gossip_key;
    use nomad_blocking::proto::{agent::InstallKey, Endpoint};

    let key = generate_gossip_key().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.expose())
        .expect("standard base64, padded");
    assert_eq!(bytes.len(), 32);
    assert_eq!(key.expose().len(), 44);

    let other = generate_gossip_key().unwrap();
    assert_ne!(key.expose(), other.expose(), "two keys differ");
    assert!(!format!("{key:?}").contains(key.expose()), "Debug hides it");

    // The agent's install operation accepts it: the request builds and carries the key.
    let request = InstallKey::new(key.clone()).to_request(&Config::default()).unwrap();
    let body = String::from_utf8(request.body().clone()).unwrap();
    assert!(body.contains(key.expose()), "{}", body.len());
}
