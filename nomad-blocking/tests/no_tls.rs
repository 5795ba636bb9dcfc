//! The build without the `tls` feature (`--no-default-features`): no rustls, no ring. Plain
//! HTTP and `unix://` Task API sockets work; an `https://` address (or proxy) is a setup error
//! naming the feature when the client is built, never a panic or a plaintext request.
#![cfg(not(feature = "tls"))]

use nomad_blocking::{Client, Error, ProxyPolicy, SetupError};

fn feature_error(result: Result<Client, Error>) -> (String, SetupError) {
    match result {
        Err(Error::Setup(e @ SetupError::FeatureDisabled { .. })) => (e.to_string(), e),
        other => panic!("expected SetupError::FeatureDisabled, got {other:?}"),
    }
}

#[test]
fn an_https_address_is_a_setup_error_naming_the_tls_feature() {
    let (text, e) = feature_error(Client::builder().address("https://127.0.0.1:4646").build());
    let SetupError::FeatureDisabled { feature, .. } = e else {
        unreachable!()
    };
    assert_eq!(feature, "tls");
    assert!(
        text.contains("https://") && text.contains("nomad-blocking's `tls` feature"),
        "{text}"
    );

    // The same for an address from NOMAD_ADDR.
    let from_env = Client::builder()
        .config(|b| b.env_lookup(|name| (name == "NOMAD_ADDR").then(|| "https://nomad.example:4646".to_owned())))
        .build();
    feature_error(from_env);
}

#[test]
fn an_https_proxy_is_a_setup_error_too() {
    let result = Client::builder()
        .address("http://127.0.0.1:4646")
        .proxy(ProxyPolicy::Url("https://proxy.example:3128".into()))
        .build();
    feature_error(result);
}

#[test]
fn http_and_unix_addresses_build() {
    Client::builder()
        .address("http://127.0.0.1:4646")
        .build()
        .expect("plain http");
    Client::builder()
        .address("unix:///run/nomad/api.sock")
        .build()
        .expect("a unix socket");
}

#[cfg(feature = "test-agent")]
mod with_the_test_agent {
    use nomad_blocking::test_agent::TestAgent;
    use nomad_blocking::Client;

    #[test]
    fn calls_work_over_plain_http() {
        let agent = TestAgent::start().unwrap();
        let client = Client::builder().address(agent.url()).build().unwrap();
        assert_eq!(client.agent().members().unwrap().members.len(), 3);
        assert_eq!(client.agent().servers().unwrap().len(), 3);
        assert_eq!(agent.requests().len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn calls_work_over_a_unix_socket() {
        let dir = std::env::temp_dir().join(format!("nomad-no-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("api.sock");
        let _ = std::fs::remove_file(&socket);
        let agent = TestAgent::builder().start_unix(&socket).unwrap();
        let client = Client::builder()
            .address(format!("unix://{}", socket.display()))
            .build()
            .unwrap();
        assert!(client.agent().health().unwrap().is_healthy());
        assert_eq!(agent.requests().len(), 1);
        drop(agent);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
