//! [`ClientBuilder`]: a [`Client`] with the ureq transport, from connection settings (every
//! [`ConfigBuilder`] setting under the same name) and transport settings.

use std::time::Duration;

use nomad_proto::{Config, ConfigBuilder, Secret};

use super::Client;
use crate::error::{Error, SetupError};
use crate::transport::{ProxyPolicy, TransportSettings, UreqTransport};

/// Builds a [`Client`] with the ureq transport: every connection setting of
/// [`nomad_proto::ConfigBuilder`] under the same name, plus timeouts, body limit and proxy.
///
/// ```
/// use std::time::Duration;
///
/// let client = nomad_blocking::Client::builder()
///     .address("https://10.0.0.5:4646")
///     .token("9f5a0c1e-b7d2-4c53-a1e8-3f6d2b9c7a10")
///     .region("eu-west")
///     .namespace("web")
///     .tls_server_name("server.eu-west.nomad")
///     .call_timeout(Some(Duration::from_secs(20)))
///     .build()?;
/// assert_eq!(client.config().region(), Some("eu-west"));
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    config: Option<Config>,
    builder: ConfigBuilder,
    /// True once a connection setting was edited (`config`, `env`, `address`, `token`, …).
    edited: bool,
    settings: TransportSettings,
}

impl ClientBuilder {
    /// Starts from a finished [`Config`].
    pub fn from_config(config: Config) -> Self {
        ClientBuilder {
            config: Some(config),
            ..Default::default()
        }
    }

    /// Edits the connection settings with any [`ConfigBuilder`] method. Not combinable with
    /// [`ClientBuilder::from_config`] (set them on that `Config` instead): [`ClientBuilder::build`]
    /// then fails rather than drop them. The same holds for every connection setting below.
    pub fn config(mut self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.builder = f(self.builder);
        self.edited = true;
        self
    }

    /// Reads unset connection settings from the process environment (`NOMAD_ADDR`,
    /// `NOMAD_TOKEN`, …; see [`ConfigBuilder::env`]).
    pub fn env(self) -> Self {
        self.config(ConfigBuilder::env)
    }

    /// Reads unset connection settings through `lookup` instead of the process environment
    /// (see [`ConfigBuilder::env_lookup`]): for tests, or settings kept elsewhere.
    pub fn env_lookup(self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.config(|b| b.env_lookup(lookup))
    }

    /// The agent address (`http://…`, `https://…`, `unix://…`; see [`ConfigBuilder::address`]).
    pub fn address(self, address: impl Into<String>) -> Self {
        self.config(|b| b.address(address))
    }

    /// The ACL token (see [`ConfigBuilder::token`]).
    pub fn token(self, token: impl Into<Secret>) -> Self {
        self.config(|b| b.token(token))
    }

    /// No ACL token, even if the environment has one (see [`ConfigBuilder::without_token`]).
    pub fn without_token(self) -> Self {
        self.config(ConfigBuilder::without_token)
    }

    /// The region every request names (see [`ConfigBuilder::region`]).
    pub fn region(self, region: impl Into<String>) -> Self {
        self.config(|b| b.region(region))
    }

    /// The namespace every request names (see [`ConfigBuilder::namespace`]).
    pub fn namespace(self, namespace: impl Into<String>) -> Self {
        self.config(|b| b.namespace(namespace))
    }

    /// An extra header sent with every request (see [`ConfigBuilder::header`]).
    pub fn header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config(|b| b.header(name, value))
    }

    /// HTTP basic auth, as `NOMAD_HTTP_AUTH` (see [`ConfigBuilder::basic_auth`]).
    pub fn basic_auth(self, user: impl Into<String>, password: Option<String>) -> Self {
        self.config(|b| b.basic_auth(user, password))
    }

    /// The name the agent's certificate is checked against, as `NOMAD_TLS_SERVER_NAME` (see
    /// [`ConfigBuilder::tls_server_name`]).
    pub fn tls_server_name(self, name: impl Into<String>) -> Self {
        self.config(|b| b.tls_server_name(name))
    }

    /// Turns TLS certificate verification off, as `NOMAD_SKIP_VERIFY` (see
    /// [`ConfigBuilder::skip_verify`]). Only for tests against throwaway agents.
    pub fn skip_verify(self, skip: bool) -> Self {
        self.config(|b| b.skip_verify(skip))
    }

    /// Connect timeout (default 10 s; `None`: none).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Overall per-call timeout (default 60 s; `None`: none). Log streams are exempt.
    pub fn call_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.call_timeout = timeout;
        self
    }

    /// Per-read timeout (default 30 s; `None`: none).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.read_timeout = timeout;
        self
    }

    /// Largest response body read into memory (default 32 MiB).
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.settings.body_limit = bytes;
        self
    }

    /// Proxy policy (default: direct).
    pub fn proxy(mut self, proxy: ProxyPolicy) -> Self {
        self.settings.proxy = proxy;
        self
    }

    /// Idle connections kept per host (default 3; 0 turns reuse off).
    pub fn max_idle_per_host(mut self, n: usize) -> Self {
        self.settings.max_idle_per_host = n;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.settings.user_agent = agent.into();
        self
    }

    /// Ask the agent for gzip answers (default on; needs the crate's `gzip` feature, also on by
    /// default). Turning it off makes small calls cheaper on fast links; large answers and log
    /// streams then travel uncompressed.
    pub fn gzip(mut self, on: bool) -> Self {
        self.settings.gzip = on;
        self
    }

    /// Validates the settings, reads TLS files, and builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Build`] for a connection setting that does not parse (address, token, header,
    /// an environment variable); [`Error::Setup`] for a TLS file that cannot be read or does not
    /// hold what it should, an invalid transport setting (proxy URL, server name), or
    /// connection settings edited on top of [`ClientBuilder::from_config`].
    pub fn build(self) -> Result<Client, Error> {
        let config = match self.config {
            Some(_) if self.edited => {
                return Err(SetupError::InvalidSetting {
                    setting: "config",
                    reason: "ClientBuilder::from_config cannot be combined with connection settings \
                             (address, token, env, config, …): set those on the Config"
                        .into(),
                }
                .into())
            }
            Some(c) => c,
            None => self.builder.build()?,
        };
        let transport = UreqTransport::new(&config, self.settings)?;
        Ok(Client::with_transport(config, transport))
    }
}

/// TLS settings (see [`UreqTransport`] for what is trusted, and [`crate::tls`] for the same
/// configuration as a rustls `ClientConfig`). The files and `NOMAD_TLS_SERVER_NAME` are set
/// with [`ClientBuilder::config`] ([`ConfigBuilder::ca_cert`], [`ConfigBuilder::client_cert`],
/// [`ConfigBuilder::tls_server_name`], …).
impl ClientBuilder {
    /// Trust the CA certificates of this PEM (one or more `CERTIFICATE` blocks) instead of the
    /// default roots, as a `NOMAD_CACERT` file would be (the Go client's `CACertPEM`). A CA file
    /// set with [`ConfigBuilder::ca_cert`] wins over it; it wins over a CA directory.
    ///
    /// ```no_run
    /// let ca = std::fs::read("nomad-agent-ca.pem").expect("the CA");
    /// let client = nomad_blocking::Client::builder()
    ///     .address("https://10.0.0.5:4646")
    ///     .ca_cert_pem(ca)
    ///     .config(|b| b.tls_server_name("server.global.nomad"))
    ///     .build()?;
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    pub fn ca_cert_pem(self, pem: impl Into<Vec<u8>>) -> Self {
        self.config(|b| b.ca_cert_pem(pem))
    }

    /// The client certificate chain for mutual TLS, as PEM in memory (leaf first; the Go
    /// client's `ClientCertPEM`). Needs [`ClientBuilder::client_key_pem`]; files set with
    /// [`ConfigBuilder::client_cert`] win over both.
    pub fn client_cert_pem(self, pem: impl Into<Vec<u8>>) -> Self {
        self.config(|b| b.client_cert_pem(pem))
    }

    /// The client key for mutual TLS, as PEM in memory (`EC PRIVATE KEY` as `nomad tls cert
    /// create` writes it, `PRIVATE KEY` or `RSA PRIVATE KEY`; the Go client's `ClientKeyPEM`).
    /// Never shown by `Debug` or in errors.
    pub fn client_key_pem(self, pem: impl Into<Vec<u8>>) -> Self {
        self.config(|b| b.client_key_pem(pem))
    }

    /// The roots trusted when no CA is configured: [`RootCertificates::System`](crate::tls::RootCertificates::System)
    /// (the default, as the `nomad` CLI) or [`RootCertificates::WebPki`](crate::tls::RootCertificates::WebPki)
    /// (Mozilla's, compiled in). Feature `tls`.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn root_certificates(mut self, roots: crate::tls::RootCertificates) -> Self {
        self.settings.root_certificates = roots;
        self
    }
}
