//! Connection settings: address, ACL token, region, namespace, extra headers, basic auth and TLS
//! file locations, built explicitly or read from the `NOMAD_*` environment.
//!
//! Precedence, for every setting: an explicit builder call wins over the environment, which wins
//! over the default. The environment is read through a lookup function, so tests never need to
//! touch the process environment:
//!
//! ```
//! use nomad_proto::Config;
//!
//! let env = |name: &str| match name {
//!     "NOMAD_ADDR" => Some("https://nomad.example:4646".to_owned()),
//!     "NOMAD_REGION" => Some("eu".to_owned()),
//!     _ => None,
//! };
//! let config = Config::builder()
//!     .env_lookup(env)
//!     .region("us") // explicit beats NOMAD_REGION
//!     .build()?;
//! assert_eq!(config.base_url(), "https://nomad.example:4646");
//! assert_eq!(config.region(), Some("us"));
//! # Ok::<(), nomad_proto::BuildError>(())
//! ```

mod address;
mod secret;
mod tls;

use std::fmt;
use std::path::PathBuf;

use http::header::{HeaderMap, HeaderName, HeaderValue};

pub use address::{redact_userinfo, Address};
pub use secret::{BasicAuth, Secret, SecretBytes, Token};
pub use tls::TlsSettings;

use crate::error::BuildError;

/// The default agent address, as in the `nomad` CLI.
pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:4646";

/// Client-wide settings. Build with [`Config::builder`], or [`Config::from_env`].
///
/// `Debug` never shows the token or passwords.
#[derive(Clone, Debug)]
pub struct Config {
    address: Address,
    base_url: String,
    token: Option<Token>,
    region: Option<String>,
    namespace: Option<String>,
    headers: HeaderMap,
    basic_auth: Option<BasicAuth>,
    tls: TlsSettings,
}

impl Default for Config {
    fn default() -> Self {
        ConfigBuilder::new()
            .build()
            .expect("the default configuration is valid")
    }
}

impl Config {
    /// A builder with nothing set; it does not read the environment unless told to.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::new()
    }

    /// Settings from the process environment (`NOMAD_ADDR`, `NOMAD_TOKEN`, …) over the defaults.
    ///
    /// # Errors
    ///
    /// As [`ConfigBuilder::build`]: a variable holds a value that cannot be used.
    pub fn from_env() -> Result<Config, BuildError> {
        ConfigBuilder::new().env().build()
    }

    /// The agent address.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The scheme, authority and prefix request URIs start with (`http://127.0.0.1` for unix
    /// sockets).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The client-wide ACL token.
    pub fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    /// The client-wide region (`?region=` on every request).
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The client-wide namespace (`?namespace=` on every request).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Extra headers sent with every request.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Basic-auth credentials.
    pub fn basic_auth(&self) -> Option<&BasicAuth> {
        self.basic_auth.as_ref()
    }

    /// TLS settings for the transport.
    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }
}

type EnvLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Builds a [`Config`]. Explicit settings beat the environment (when enabled with
/// [`ConfigBuilder::env`] or [`ConfigBuilder::env_lookup`]), which beats the defaults, whatever
/// the order of calls.
#[derive(Default)]
#[must_use = "a config builder does nothing until `build` is called"]
pub struct ConfigBuilder {
    env: Option<EnvLookup>,
    address: Option<String>,
    token: Option<Secret>,
    no_token: bool,
    region: Option<String>,
    namespace: Option<String>,
    headers: Vec<(String, String)>,
    basic_auth: Option<BasicAuth>,
    ca_cert: Option<PathBuf>,
    ca_path: Option<PathBuf>,
    ca_cert_pem: Option<Vec<u8>>,
    client_cert: Option<PathBuf>,
    client_key: Option<PathBuf>,
    client_cert_pem: Option<Vec<u8>>,
    client_key_pem: Option<SecretBytes>,
    server_name: Option<String>,
    skip_verify: Option<bool>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("env", &self.env.is_some())
            .field("address", &self.address.as_deref().map(redact_userinfo))
            .field("token", &self.token)
            .field("region", &self.region)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// An empty builder (defaults only).
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads unset settings from the process environment.
    pub fn env(self) -> Self {
        self.env_lookup(|name| std::env::var(name).ok())
    }

    /// Reads unset settings through `lookup` (a test can pass a closure over a map).
    pub fn env_lookup(mut self, lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = Some(Box::new(lookup));
        self
    }

    /// The agent address: `http://host:port`, `https://host:port` or `unix:///path`.
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// The ACL token, sent as `X-Nomad-Token` on every request.
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self.no_token = false;
        self
    }

    /// Send no token, even if `NOMAD_TOKEN` is set.
    pub fn without_token(mut self) -> Self {
        self.token = None;
        self.no_token = true;
        self
    }

    /// The region (`?region=` on every request).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The namespace (`?namespace=` on every request).
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// An extra header for every request. Validated by [`ConfigBuilder::build`]: the value must
    /// be ASCII without control characters. An `X-Nomad-Token` given here is sent only when no
    /// token is set (the token replaces it). Extra header values are never shown by `Debug` (any
    /// of them may be a credential); their names are.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// HTTP basic auth (otherwise from the address URL, then `NOMAD_HTTP_AUTH`).
    pub fn basic_auth(mut self, user: impl Into<String>, password: Option<String>) -> Self {
        self.basic_auth = Some(BasicAuth::new(user, password));
        self
    }

    /// A PEM file of CA certificates (`NOMAD_CACERT`). Any explicit CA setting (this,
    /// [`ca_path`](Self::ca_path), [`ca_cert_pem`](Self::ca_cert_pem)) means `NOMAD_CACERT` and
    /// `NOMAD_CAPATH` are not read; which one is used is said at [`TlsSettings`].
    pub fn ca_cert(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_cert = Some(path.into());
        self
    }

    /// A directory of PEM CA certificates (`NOMAD_CAPATH`).
    pub fn ca_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_path = Some(path.into());
        self
    }

    /// One or more PEM CA certificates in memory (the Go client's `CACertPEM`): trusted
    /// instead of the system's roots, as a [`ca_cert`](Self::ca_cert) file would be.
    ///
    /// ```
    /// # let ca_pem = b"-----BEGIN CERTIFICATE-----\n...".to_vec();
    /// let config = nomad_proto::Config::builder()
    ///     .address("https://10.0.0.5:4646")
    ///     .ca_cert_pem(ca_pem)
    ///     .tls_server_name("server.global.nomad")
    ///     .build()?;
    /// assert!(config.tls().ca_cert_pem.is_some());
    /// # Ok::<(), nomad_proto::BuildError>(())
    /// ```
    pub fn ca_cert_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_cert_pem = Some(pem.into());
        self
    }

    /// A client certificate and key for mutual TLS (`NOMAD_CLIENT_CERT`, `NOMAD_CLIENT_KEY`).
    /// Any explicit client certificate setting (this, [`client_cert_pem`](Self::client_cert_pem),
    /// [`client_key_pem`](Self::client_key_pem)) means those variables are not read.
    pub fn client_cert(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert = Some(cert.into());
        self.client_key = Some(key.into());
        self
    }

    /// The client certificate chain in memory (PEM, leaf first; the Go client's
    /// `ClientCertPEM`). Give the key with [`client_key_pem`](Self::client_key_pem); files set
    /// with [`client_cert`](Self::client_cert) win over both.
    pub fn client_cert_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.client_cert_pem = Some(pem.into());
        self
    }

    /// The client key in memory (PEM: `EC PRIVATE KEY` as `nomad tls cert create` writes it,
    /// `PRIVATE KEY` or `RSA PRIVATE KEY`; the Go client's `ClientKeyPEM`). Kept as
    /// [`SecretBytes`]: never shown by `Debug`.
    pub fn client_key_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.client_key_pem = Some(SecretBytes::new(pem));
        self
    }

    /// Verify the server certificate against this name (`NOMAD_TLS_SERVER_NAME`).
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Turn off server certificate verification (`NOMAD_SKIP_VERIFY`). Dangerous.
    pub fn skip_verify(mut self, skip: bool) -> Self {
        self.skip_verify = Some(skip);
        self
    }

    fn lookup(&self, name: &str) -> Option<String> {
        self.env.as_ref().and_then(|env| env(name)).filter(|v| !v.is_empty())
    }

    /// An explicit setting, else the environment variable `var` (if set and not empty).
    fn or_env(&self, explicit: &Option<String>, var: &str) -> Option<String> {
        explicit.clone().or_else(|| self.lookup(var))
    }

    /// Resolves every setting and validates it.
    ///
    /// # Errors
    ///
    /// [`BuildError`] for a setting that cannot be used: the address
    /// ([`BuildError::InvalidAddress`]), the token ([`BuildError::InvalidToken`]), an extra
    /// header ([`BuildError::InvalidHeader`]), a region or namespace
    /// ([`BuildError::InvalidArgument`]), or an environment variable ([`BuildError::InvalidEnv`]).
    pub fn build(self) -> Result<Config, BuildError> {
        let (address, url_auth) = Address::parse(&self.resolve_address())?;
        let token = self.resolve_token()?;
        let (region, namespace) = self.resolve_region_namespace()?;
        let headers = self.build_headers()?;
        let basic_auth = self.resolve_basic_auth(url_auth);
        let tls = self.resolve_tls()?;
        let base_url = address.base_url();
        Ok(Config {
            address,
            base_url,
            token,
            region,
            namespace,
            headers,
            basic_auth,
            tls,
        })
    }

    /// The address text: explicit, else `NOMAD_ADDR`, else [`DEFAULT_ADDRESS`].
    fn resolve_address(&self) -> String {
        self.or_env(&self.address, "NOMAD_ADDR")
            .unwrap_or_else(|| DEFAULT_ADDRESS.to_owned())
    }

    /// The token: explicit, else `NOMAD_TOKEN`; none after [`without_token`](Self::without_token).
    fn resolve_token(&self) -> Result<Option<Token>, BuildError> {
        if self.no_token {
            return Ok(None);
        }
        let token = self
            .token
            .clone()
            .or_else(|| self.lookup("NOMAD_TOKEN").map(Secret::new));
        token.map(|t| Token::new(t.expose())).transpose()
    }

    /// Region and namespace: explicit, else `NOMAD_REGION` and `NOMAD_NAMESPACE`. They go in
    /// the query of every request, so they are checked here once.
    fn resolve_region_namespace(&self) -> Result<(Option<String>, Option<String>), BuildError> {
        let region = self.or_env(&self.region, "NOMAD_REGION");
        let namespace = self.or_env(&self.namespace, "NOMAD_NAMESPACE");
        for (name, value) in [("region", &region), ("namespace", &namespace)] {
            if let Some(v) = value {
                check_query_value(name, v)?;
            }
        }
        Ok((region, namespace))
    }

    /// The extra headers, validated, with every value marked sensitive.
    fn build_headers(&self) -> Result<HeaderMap, BuildError> {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| BuildError::InvalidHeader {
                name: name.clone(),
                reason: "not a valid header name".into(),
            })?;
            let invalid = || BuildError::InvalidHeader {
                name: name.clone(),
                reason: "value holds a control or non-ASCII character".into(),
            };
            if !value.is_ascii() {
                return Err(invalid());
            }
            let mut v = HeaderValue::from_str(value).map_err(|_| invalid())?;
            // Any extra header may carry a credential (X-Vault-Token, X-Api-Key, …): every value
            // stays out of `Debug` output, like the token does.
            v.set_sensitive(true);
            headers.append(n, v);
        }
        Ok(headers)
    }

    /// Basic auth: the explicit setting comes first, then credentials in the address URL
    /// (explicit or `NOMAD_ADDR`), then `NOMAD_HTTP_AUTH`.
    fn resolve_basic_auth(&self, url_auth: Option<BasicAuth>) -> Option<BasicAuth> {
        self.basic_auth
            .clone()
            .or(url_auth)
            .or_else(|| self.lookup("NOMAD_HTTP_AUTH").map(|v| BasicAuth::parse(&v)))
    }

    /// The TLS settings, each explicit, else from its `NOMAD_*` variable. The CA and the
    /// client certificate are one setting each: an explicit CA (file, directory or PEM) means
    /// `NOMAD_CACERT` and `NOMAD_CAPATH` are not read, an explicit client certificate (files or
    /// PEM) that `NOMAD_CLIENT_CERT` and `NOMAD_CLIENT_KEY` are not.
    fn resolve_tls(&self) -> Result<TlsSettings, BuildError> {
        let skip_verify = self.resolve_skip_verify()?;
        let (client_cert, client_key) = self.resolve_client_pair()?;
        let explicit_ca = self.ca_cert.is_some() || self.ca_path.is_some() || self.ca_cert_pem.is_some();
        let path = |explicit: &Option<PathBuf>, var: &str| match explicit_ca {
            true => explicit.clone(),
            false => self.lookup(var).map(PathBuf::from),
        };
        Ok(TlsSettings {
            ca_cert: path(&self.ca_cert, "NOMAD_CACERT"),
            ca_path: path(&self.ca_path, "NOMAD_CAPATH"),
            ca_cert_pem: self.ca_cert_pem.clone(),
            client_cert,
            client_key,
            client_cert_pem: self.client_cert_pem.clone(),
            client_key_pem: self.client_key_pem.clone(),
            server_name: self.or_env(&self.server_name, "NOMAD_TLS_SERVER_NAME"),
            skip_verify,
        })
    }

    /// Explicit, else `NOMAD_SKIP_VERIFY` read as Go reads it ([`parse_go_bool`]), else off.
    fn resolve_skip_verify(&self) -> Result<bool, BuildError> {
        if let Some(skip) = self.skip_verify {
            return Ok(skip);
        }
        match self.lookup("NOMAD_SKIP_VERIFY") {
            Some(v) => parse_go_bool(&v).ok_or_else(|| BuildError::InvalidEnv {
                var: "NOMAD_SKIP_VERIFY",
                reason: format!("`{v}` is not a boolean (use true/false, 1/0, t/f)"),
            }),
            None => Ok(false),
        }
    }

    /// The client certificate and key files, a pair: both explicit ([`client_cert`](Self::client_cert)
    /// sets them together; none when the PEMs are given in memory), else both from `NOMAD_CLIENT_CERT` and `NOMAD_CLIENT_KEY`, where one
    /// without the other is an error naming the missing variable.
    fn resolve_client_pair(&self) -> Result<(Option<PathBuf>, Option<PathBuf>), BuildError> {
        if self.client_cert.is_some() || self.client_cert_pem.is_some() || self.client_key_pem.is_some() {
            return Ok((self.client_cert.clone(), self.client_key.clone()));
        }
        let cert = self.lookup("NOMAD_CLIENT_CERT").map(PathBuf::from);
        let key = self.lookup("NOMAD_CLIENT_KEY").map(PathBuf::from);
        if cert.is_some() != key.is_some() {
            return Err(BuildError::InvalidEnv {
                var: if cert.is_some() {
                    "NOMAD_CLIENT_KEY"
                } else {
                    "NOMAD_CLIENT_CERT"
                },
                reason: "both client cert and client key must be provided".into(),
            });
        }
        Ok((cert, key))
    }
}

/// Parses a boolean the way Go's `strconv.ParseBool` does: `1`, `t`, `T`, `TRUE`, `true`,
/// `True` and their `false` counterparts; anything else is `None`.
///
/// A Go-compatibility helper: [`ConfigBuilder`] reads `NOMAD_SKIP_VERIFY` with it, as the
/// `nomad` CLI does. It is public so that transports and test doubles that read Go-style flags
/// (such as nomad-blocking's test agent) parse them the same way.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

pub(crate) fn check_query_value(name: &'static str, value: &str) -> Result<(), BuildError> {
    if value.is_empty() {
        return Err(BuildError::argument(name, "must not be empty"));
    }
    if value.chars().any(char::is_control) {
        return Err(BuildError::argument(name, "must not contain control characters"));
    }
    Ok(())
}
