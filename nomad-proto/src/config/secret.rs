//! Secrets and credentials: [`Secret`] and [`SecretBytes`], which `Debug` never shows, the
//! validated ACL [`Token`] and [`BasicAuth`].

use std::fmt;
use std::sync::Arc;

use http::header::HeaderValue;

use crate::error::BuildError;

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
