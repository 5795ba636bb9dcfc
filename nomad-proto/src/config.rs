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

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::BuildError;

/// The default agent address, as in the `nomad` CLI.
pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:4646";

/// Where the agent's HTTP API is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Address {
    /// `http://` or `https://` with host, port and an optional path prefix (for agents behind a
    /// reverse proxy).
    Http {
        /// `true` for `https`.
        tls: bool,
        /// `host[:port]` as it goes into the URI.
        authority: String,
        /// A path prefix without a trailing slash (usually empty).
        prefix: String,
    },
    /// `unix:///path/to/api.sock`: the Task API socket inside an allocation. Requests are built
    /// for `http://127.0.0.1/…`, as Nomad's Go client does, and a transport dials the socket.
    Unix {
        /// The socket path.
        path: PathBuf,
    },
}

impl Address {
    /// Parses `http://host:port[/prefix]`, `https://…` or `unix:///path`. Credentials in the
    /// URL (`http://user:pass@host`) are returned separately as basic auth. An `http(s)` address
    /// without a port uses the scheme's default ([`Address::port`]).
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidAddress`] (showing the address without its credentials) for a
    /// missing or unsupported scheme, a missing host, an invalid port, a query or fragment, or
    /// a relative socket path.
    pub fn parse(input: &str) -> Result<(Address, Option<BasicAuth>), BuildError> {
        let input = input.trim();
        let fail = |reason: &str| BuildError::InvalidAddress {
            address: redact_userinfo(input),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = input
            .split_once("://")
            .ok_or_else(|| fail("expected a URL such as http://127.0.0.1:4646 or unix:///path/to/api.sock"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "unix" => Ok((parse_unix(rest).map_err(fail)?, None)),
            "http" => parse_http(false, rest).map_err(fail),
            "https" => parse_http(true, rest).map_err(fail),
            _ => Err(fail("unsupported scheme (use http, https or unix)")),
        }
    }

    /// The scheme, authority and prefix that request URIs start with.
    pub fn base_url(&self) -> String {
        match self {
            Address::Http { tls, authority, prefix } => {
                format!("{}://{authority}{prefix}", if *tls { "https" } else { "http" })
            }
            Address::Unix { .. } => "http://127.0.0.1".to_owned(),
        }
    }

    /// True for `https://` addresses.
    pub fn is_tls(&self) -> bool {
        matches!(self, Address::Http { tls: true, .. })
    }

    /// The host a transport connects to, for `http://` and `https://` addresses: the
    /// authority's host without the port, and without the brackets of an IPv6 literal
    /// (`::1` for `http://[::1]:4646`). `None` for a `unix://` address (see
    /// [`Address::socket_path`]).
    pub fn host(&self) -> Option<&str> {
        let Address::Http { authority, .. } = self else {
            return None;
        };
        let host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').map_or(bracketed, |(host, _)| host),
            None => authority.rsplit_once(':').map_or(authority.as_str(), |(host, _)| host),
        };
        Some(host)
    }

    /// The port a transport connects to: the authority's port, else the scheme's default (80
    /// for `http`, 443 for `https`; the agent's own default, 4646, applies only to the default
    /// address, which names it). `None` for a `unix://` address.
    ///
    /// ```
    /// use nomad_proto::Address;
    ///
    /// let (address, _) = Address::parse("https://nomad.example")?;
    /// assert_eq!((address.host(), address.port()), (Some("nomad.example"), Some(443)));
    /// let (address, _) = Address::parse("http://[::1]:4646")?;
    /// assert_eq!((address.host(), address.port()), (Some("::1"), Some(4646)));
    /// // A transport can dial `(host, port)` with `std::net::ToSocketAddrs`.
    /// let (address, _) = Address::parse("unix:///run/nomad/api.sock")?;
    /// assert_eq!((address.host(), address.port()), (None, None));
    /// assert_eq!(address.socket_path(), Some(std::path::Path::new("/run/nomad/api.sock")));
    /// # Ok::<(), nomad_proto::BuildError>(())
    /// ```
    pub fn port(&self) -> Option<u16> {
        let Address::Http { tls, authority, .. } = self else {
            return None;
        };
        let after_host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').map_or("", |(_, rest)| rest),
            None => authority.rsplit_once(':').map_or("", |(_, port)| port),
        };
        let explicit = after_host.strip_prefix(':').unwrap_or(after_host);
        match explicit.parse() {
            Ok(port) => Some(port),
            Err(_) => Some(if *tls { 443 } else { 80 }),
        }
    }

    /// The socket path of a `unix://` address (the requests it builds say
    /// `http://127.0.0.1/…`); `None` for `http://` and `https://`.
    pub fn socket_path(&self) -> Option<&std::path::Path> {
        match self {
            Address::Unix { path } => Some(path),
            Address::Http { .. } => None,
        }
    }
}

impl fmt::Display for Address {
    /// The address as a URL (`unix:///path` for a socket), padded to the formatter's width.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix { path } => f.pad(&format!("unix://{}", path.display())),
            other => f.pad(&other.base_url()),
        }
    }
}

/// The part of a `unix://` address after the scheme: an absolute, percent-encoded socket path.
fn parse_unix(rest: &str) -> Result<Address, &'static str> {
    let path = percent_decode(rest).ok_or("invalid percent-encoding in socket path")?;
    if !path.starts_with('/') {
        return Err("a unix address needs an absolute socket path, e.g. unix:///run/nomad/api.sock");
    }
    Ok(Address::Unix {
        path: PathBuf::from(path),
    })
}

/// The part of an `http://` or `https://` address after the scheme:
/// `[user[:password]@]host[:port][/prefix]`.
fn parse_http(tls: bool, rest: &str) -> Result<(Address, Option<BasicAuth>), &'static str> {
    if rest.contains(['?', '#']) {
        return Err("an agent address cannot have a query or fragment");
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (auth, host_port) = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => (Some(parse_userinfo(userinfo)?), host_port),
        None => (None, authority),
    };
    check_host_port(host_port)?;
    let prefix = path.trim_end_matches('/');
    if !prefix.is_empty() && http::uri::PathAndQuery::try_from(prefix).is_err() {
        return Err("invalid path prefix");
    }
    let address = Address::Http {
        tls,
        authority: host_port.to_owned(),
        prefix: prefix.to_owned(),
    };
    Ok((address, auth))
}

/// `user[:password]` from an address, percent-decoded.
fn parse_userinfo(userinfo: &str) -> Result<BasicAuth, &'static str> {
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let user = percent_decode(user).ok_or("invalid percent-encoding in user name")?;
    let password = password
        .map(|p| percent_decode(p).ok_or("invalid percent-encoding in password"))
        .transpose()?;
    Ok(BasicAuth::new(user, password))
}

/// `host[:port]`: a host is required; a port, if given, must be a number up to 65535.
fn check_host_port(host_port: &str) -> Result<(), &'static str> {
    if host_port.is_empty() {
        return Err("missing host");
    }
    let parsed: http::uri::Authority = host_port.parse().map_err(|_| "invalid host or port")?;
    if parsed.host().is_empty() {
        return Err("missing host");
    }
    if let Some((_, port)) = host_port.rsplit_once(':') {
        // A `:` in a bracketed IPv6 host without a port is not a port separator.
        if !host_port.ends_with(']') && port.parse::<u16>().is_err() {
            return Err("invalid port");
        }
    }
    Ok(())
}

/// Replaces `user:password@` in an address with `<redacted>@`, also when the scheme is missing
/// (`admin:pw@host:4646`), which is exactly the input that gets rejected and shown in an error.
///
/// Public so transports can show proxy URLs the same way.
pub fn redact_userinfo(input: &str) -> String {
    let (scheme, rest) = match input.split_once("://") {
        Some((scheme, rest)) => (&input[..scheme.len() + 3], rest),
        None => ("", input),
    };
    let slashes = rest.len() - rest.trim_start_matches('/').len();
    let (slashes, rest) = rest.split_at(slashes);
    // The last `@` anywhere, not only in the authority: a password holding a raw `/`, `?` or
    // `#` (`https://u:ab/c@host`) ends the authority early, yet must not leak into the error.
    // An `@` in a path prefix is over-redacted, which is harmless.
    match rest.rfind('@') {
        Some(at) => format!("{scheme}{slashes}<redacted>@{}", &rest[at + 1..]),
        None => input.to_owned(),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A secret string (ACL token, password): never shown by `Debug`.
///
/// It converts from the string types a program holds its secrets in, so that any of them can
/// be passed where a secret is taken:
///
/// ```
/// use std::borrow::Cow;
/// use nomad_proto::{Config, Secret};
///
/// let token = String::from("s3cr3t");
/// Config::builder().token("s3cr3t").build()?; // &str
/// Config::builder().token(&token).build()?; // &String
/// Config::builder().token(token.clone()).build()?; // String
/// Config::builder().token(Box::<str>::from("s3cr3t")).build()?; // Box<str>
/// Config::builder().token(Cow::Borrowed("s3cr3t")).build()?; // Cow<str>
/// Config::builder().token(std::sync::Arc::<str>::from("s3cr3t")).build()?; // Arc<str>
/// Config::builder().token(Secret::new("s3cr3t")).build()?; // Secret
/// assert_eq!(format!("{:?}", Secret::from(&token)), "<redacted>");
/// # Ok::<(), nomad_proto::BuildError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::from(value.into()))
    }
    /// The secret value. Handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(Arc::from(value))
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(Arc::from(value))
    }
}

impl From<&String> for Secret {
    fn from(value: &String) -> Self {
        Secret(Arc::from(value.as_str()))
    }
}

impl From<Box<str>> for Secret {
    fn from(value: Box<str>) -> Self {
        Secret(Arc::from(value))
    }
}

impl From<std::borrow::Cow<'_, str>> for Secret {
    fn from(value: std::borrow::Cow<'_, str>) -> Self {
        Secret(Arc::from(value.as_ref()))
    }
}

impl From<Arc<str>> for Secret {
    fn from(value: Arc<str>) -> Self {
        Secret(value)
    }
}

/// An ACL token, validated to fit in the `X-Nomad-Token` header. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(HeaderValue);

impl Token {
    /// Validates a token. Surrounding whitespace is trimmed (as the agent does); an empty token or
    /// one with control or non-ASCII characters is rejected.
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidToken`] for an empty token or one that cannot be a header value; the
    /// token is never repeated.
    pub fn new(token: &str) -> Result<Self, BuildError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(BuildError::InvalidToken { reason: "empty token" });
        }
        if !token.bytes().all(|b| (0x21..0x7f).contains(&b)) {
            return Err(BuildError::InvalidToken {
                reason: "a token may only hold visible ASCII characters",
            });
        }
        let mut value = HeaderValue::from_str(token).map_err(|_| BuildError::InvalidToken {
            reason: "not a valid header value",
        })?;
        value.set_sensitive(true);
        Ok(Token(value))
    }

    /// The header value (marked sensitive).
    pub fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// HTTP basic-auth credentials (`NOMAD_HTTP_AUTH` or `user:password@` in the address).
#[derive(Clone, PartialEq, Eq)]
pub struct BasicAuth {
    user: String,
    password: Option<Secret>,
    /// `Basic <base64(user:password)>`, built once (marked sensitive).
    header: HeaderValue,
}

impl BasicAuth {
    /// Credentials with an optional password.
    pub fn new(user: impl Into<String>, password: Option<String>) -> Self {
        use base64::Engine as _;
        let user = user.into();
        let password = password.map(Secret::new);
        let raw = format!("{user}:{}", password.as_ref().map_or("", |p| p.expose()));
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        // "Basic " + base64 is always a valid header value.
        let mut header = HeaderValue::from_str(&format!("Basic {encoded}")).expect("base64 is a valid header value");
        header.set_sensitive(true);
        BasicAuth { user, password, header }
    }

    /// Parses `user` or `user:password` (split on the first `:`), as `NOMAD_HTTP_AUTH` is read.
    pub fn parse(value: &str) -> Self {
        match value.split_once(':') {
            Some((u, p)) => BasicAuth::new(u, Some(p.to_owned())),
            None => BasicAuth::new(value, None),
        }
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The `Authorization: Basic …` header value (marked sensitive).
    pub fn header_value(&self) -> &HeaderValue {
        &self.header
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Secret bytes, such as a private key in PEM: never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Arc<[u8]>);

impl SecretBytes {
    /// Wraps secret bytes.
    #[must_use]
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        SecretBytes(Arc::from(bytes.into()))
    }
    /// The secret bytes. Handle with care.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// TLS settings, named after the `nomad` CLI's variables and the Go client's `api.TLSConfig`
/// fields. nomad-proto only carries them; a transport (such as nomad-blocking's) loads them.
///
/// Where the trusted CAs come from, as in the Go client (`api.ConfigureTLS` with
/// go-rootcerts 1.0.2, which Nomad's `api` module requires): the first of [`ca_cert`](Self::ca_cert)
/// (a file), [`ca_cert_pem`](Self::ca_cert_pem) (in memory) and [`ca_path`](Self::ca_path)
/// (a directory) that is set is used **alone**; with none of them, the transport's default
/// roots (the system's, for nomad-blocking). The client certificate: the files
/// ([`client_cert`](Self::client_cert) and [`client_key`](Self::client_key)) if either is set,
/// else the PEMs in memory; each source needs both halves.
///
/// `Debug` shows the paths and the size of in-memory certificates, never the client key.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSettings {
    /// `NOMAD_CACERT`: a PEM file with one or more CA certificates.
    pub ca_cert: Option<PathBuf>,
    /// `NOMAD_CAPATH`: a directory of PEM CA certificates. Ignored when `ca_cert` or
    /// `ca_cert_pem` is set, as in the Go client.
    pub ca_path: Option<PathBuf>,
    /// One or more PEM CA certificates in memory (the Go client's `CACertPEM`). Ignored when
    /// `ca_cert` is set; used instead of `ca_path`.
    pub ca_cert_pem: Option<Vec<u8>>,
    /// `NOMAD_CLIENT_CERT`: the client certificate (PEM) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// `NOMAD_CLIENT_KEY`: the client key (PEM: `EC PRIVATE KEY`, `PRIVATE KEY` or `RSA PRIVATE KEY`).
    pub client_key: Option<PathBuf>,
    /// The client certificate chain in memory (PEM, leaf first; the Go client's
    /// `ClientCertPEM`). Used only when neither `client_cert` nor `client_key` is set.
    pub client_cert_pem: Option<Vec<u8>>,
    /// The client key in memory (PEM, the same formats as `client_key`; the Go client's
    /// `ClientKeyPEM`). Never shown by `Debug`.
    pub client_key_pem: Option<SecretBytes>,
    /// `NOMAD_TLS_SERVER_NAME`: verify the server certificate against this name instead of the
    /// address host (Nomad issues `server.<region>.nomad` certificates).
    pub server_name: Option<String>,
    /// `NOMAD_SKIP_VERIFY`: do not verify the server certificate. Off unless explicitly set.
    pub skip_verify: bool,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = |pem: &Option<Vec<u8>>| pem.as_ref().map(|p| format!("<{} bytes of PEM>", p.len()));
        f.debug_struct("TlsSettings")
            .field("ca_cert", &self.ca_cert)
            .field("ca_path", &self.ca_path)
            .field("ca_cert_pem", &size(&self.ca_cert_pem))
            .field("client_cert", &self.client_cert)
            .field("client_key", &self.client_key)
            .field("client_cert_pem", &size(&self.client_cert_pem))
            .field("client_key_pem", &self.client_key_pem)
            .field("server_name", &self.server_name)
            .field("skip_verify", &self.skip_verify)
            .finish()
    }
}

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
