//! The baseline: bare ureq with the settings `UreqTransport` uses, and `serde_json`.

use std::time::Duration;

use nomad_blocking::proto::http;
use serde::de::DeserializeOwned;

use crate::Res;

/// A bare ureq agent with the settings `UreqTransport` uses by default (keep-alive, statuses
/// as responses, no redirects, the same timeouts, pool, user agent and default gzip
/// `Accept-Encoding`, no proxy).
pub fn bare_agent() -> ureq::Agent {
    bare_config(true).new_agent()
}

fn bare_config(gzip: bool) -> ureq::config::Config {
    let builder = ureq::Agent::config_builder();
    let builder = if gzip { builder } else { builder.accept_encoding("") };
    builder
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(30)))
        .max_idle_connections_per_host(3)
        .max_idle_connections(12)
        .user_agent(concat!("nomad-blocking/", env!("CARGO_PKG_VERSION")))
        .proxy(None)
        .build()
}

/// The same bare agent, but IP-literal hosts are not looked up (as `UreqTransport` does): ureq's
/// `DefaultResolver` starts a thread per request to apply the resolve timeout.
pub fn bare_agent_literal(gzip: bool) -> ureq::Agent {
    ureq::Agent::with_parts(
        bare_config(gzip),
        ureq::unversioned::transport::DefaultConnector::new(),
        LiteralResolver,
    )
}

#[derive(Debug)]
struct LiteralResolver;

impl ureq::unversioned::resolver::Resolver for LiteralResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or("");
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        match (host.parse::<std::net::IpAddr>(), uri.port_u16()) {
            (Ok(ip), Some(port)) => {
                let mut addrs = self.empty();
                addrs.push(std::net::SocketAddr::new(ip, port));
                Ok(addrs)
            }
            _ => ureq::unversioned::resolver::DefaultResolver::default().resolve(uri, config, timeout),
        }
    }
}

/// Bare ureq GET + `serde_json::from_slice` into `T`: the baseline a call is compared with.
pub fn bare_get<T: DeserializeOwned>(agent: &ureq::Agent, url: &str) -> T {
    let mut response = agent.get(url).call().expect("bare GET");
    assert_eq!(response.status(), 200);
    let body = response
        .body_mut()
        .with_config()
        .limit(32 * 1024 * 1024)
        .read_to_vec()
        .expect("bare body");
    serde_json::from_slice(&body).expect("bare decode")
}

/// A body as the agent sends it, uncompressed.
pub fn fetch_raw(base: &str, path: &str) -> Res<Vec<u8>> {
    let agent: ureq::Agent = ureq::Agent::config_builder().accept_encoding("").build().new_agent();
    Ok(agent
        .get(format!("{base}{path}"))
        .call()?
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()?)
}
