//! [`Raw`]: a call to any Nomad endpoint with the settings of every other operation, like the Go
//! client's `Raw()`.

use std::fmt;
use std::marker::PhantomData;

use http::{Method, Request, Response};
use serde::de::DeserializeOwned;

use crate::config::Config;
use crate::endpoint::{check_ok, check_response, parse_json, CallOptions, Endpoint, WithCallOptions};
use crate::error::{BuildError, ResponseError};
use crate::request::RequestBuilder;

/// A call to any Nomad endpoint: any method and path, query parameters, an optional JSON body,
/// and the client's settings (address and prefix, token, basic auth, headers, region,
/// namespace), as the Go client's `Raw()` offers. Choose what the answer becomes with
/// [`json`](Self::json) (any `Deserialize` type) or [`bytes`](Self::bytes) (the body as is);
/// both are [`Endpoint`]s, so any transport runs them.
///
/// Errors are those of every operation: a status other than 200 is
/// [`ResponseError::UnexpectedStatus`] with the agent's text; an empty body where JSON is
/// expected is [`ResponseError::EmptyBody`]; JSON that does not fit the type is
/// [`ResponseError::Decode`] with the raw body. The path is checked as
/// [`RequestBuilder`] checks it ([`BuildError::InvalidPath`]): a path that names a host or
/// leaves the address's path prefix is never sent.
///
/// ```
/// use nomad_proto::{BuildError, Config, Endpoint, Raw, WithCallOptions};
///
/// let config = Config::builder().address("http://127.0.0.1:4646").token("s3cr3t").build()?;
///
/// // A typed answer: `GET /v1/status/peers` is a JSON array of `ip:port`.
/// let peers = Raw::get("/v1/status/peers").json::<Vec<String>>().region("eu-west");
/// let request = peers.to_request(&config)?;
/// assert_eq!(request.uri(), "http://127.0.0.1:4646/v1/status/peers?region=eu-west");
/// assert_eq!(request.headers()["x-nomad-token"], "s3cr3t");
/// let answer = http::Response::builder().status(200).body(br#"["10.0.0.1:4647","10.0.0.2:4647"]"#.to_vec())?;
/// assert_eq!(peers.parse_response(answer)?, ["10.0.0.1:4647", "10.0.0.2:4647"]);
///
/// // A write with a JSON body, keeping the answer's bytes.
/// let op = Raw::put("/v1/agent/schedulers/config")
///     .json_body(&serde_json::json!({"num_schedulers": 2, "enabled_schedulers": ["_core", "batch"]}))?
///     .bytes();
/// let request = op.to_request(&config)?;
/// assert_eq!(request.method(), "PUT");
/// assert_eq!(request.headers()["content-type"], "application/json");
///
/// // The same errors as every operation.
/// let denied = http::Response::builder().status(403).body(b"Permission denied".to_vec())?;
/// assert!(op.parse_response(denied).unwrap_err().is_permission_denied());
///
/// // Only paths under the address: no host, no way out of a path prefix.
/// let err = Raw::get("https://elsewhere/v1/status/leader").bytes().to_request(&config).unwrap_err();
/// assert!(matches!(err, BuildError::InvalidPath { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Raw {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    /// The encoded JSON body.
    body: Option<Vec<u8>>,
    options: CallOptions,
}

impl fmt::Debug for Raw {
    /// The body is not shown (it may hold a secret, such as a gossip key): only its length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Raw")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("options", &self.options)
            .finish()
    }
}

impl Raw {
    /// A `method` call to `path` (e.g. `/v1/status/leader`; the query goes in
    /// [`query`](Self::query)).
    #[must_use]
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Raw {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            options: CallOptions::default(),
        }
    }

    /// A `GET` of `path`.
    #[must_use]
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }

    /// A `PUT` to `path`.
    #[must_use]
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }

    /// A `POST` to `path`.
    #[must_use]
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }

    /// A `DELETE` of `path`.
    #[must_use]
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }

    /// Adds a query parameter, percent-encoded when the request is built (repeat the call for
    /// repeated parameters). Set `region` and `namespace` with [`WithCallOptions`] instead.
    #[must_use]
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Sends `body` as JSON (with `Content-Type: application/json`).
    ///
    /// # Errors
    ///
    /// [`BuildError::Encode`] if `body` cannot be encoded as JSON (e.g. a map with non-string
    /// keys).
    pub fn json_body<B: serde::Serialize + ?Sized>(mut self, body: &B) -> Result<Self, BuildError> {
        self.body = Some(serde_json::to_vec(body).map_err(BuildError::Encode)?);
        Ok(self)
    }

    /// The answer becomes a `T`, decoded from a `200` JSON body.
    #[must_use]
    pub fn json<T: DeserializeOwned>(self) -> RawJson<T> {
        RawJson {
            raw: self,
            output: PhantomData,
        }
    }

    /// The answer is kept as the bytes of a `200` body (empty for endpoints that send nothing).
    #[must_use]
    pub fn bytes(self) -> RawBytes {
        RawBytes { raw: self }
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path, as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        let mut builder = RequestBuilder::new(self.method.clone(), &self.path, &self.options);
        for (name, value) in &self.query {
            builder = builder.query(name.clone(), value.as_str());
        }
        if let Some(body) = &self.body {
            builder = builder.json_bytes(body.clone());
        }
        builder.build(config)
    }
}

impl WithCallOptions for Raw {
    fn call_options_mut(&mut self) -> &mut CallOptions {
        &mut self.options
    }
}

/// A [`Raw`] call whose `200` JSON answer decodes into `T` (made by [`Raw::json`]).
pub struct RawJson<T> {
    raw: Raw,
    output: PhantomData<fn() -> T>,
}

impl<T> Clone for RawJson<T> {
    fn clone(&self) -> Self {
        RawJson {
            raw: self.raw.clone(),
            output: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RawJson<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawJson")
            .field("raw", &self.raw)
            .field("output", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T> RawJson<T> {
    /// The call.
    pub fn raw(&self) -> &Raw {
        &self.raw
    }
}

impl<T: DeserializeOwned> Endpoint for RawJson<T> {
    type Output = T;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        self.raw.to_request(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<T, ResponseError> {
        parse_json(response)
    }
}

impl<T> WithCallOptions for RawJson<T> {
    fn call_options_mut(&mut self) -> &mut CallOptions {
        &mut self.raw.options
    }
}

/// A [`Raw`] call whose `200` answer is kept as bytes (made by [`Raw::bytes`]).
#[derive(Clone, Debug)]
pub struct RawBytes {
    raw: Raw,
}

impl RawBytes {
    /// The call.
    pub fn raw(&self) -> &Raw {
        &self.raw
    }
}

impl Endpoint for RawBytes {
    type Output = Vec<u8>;
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        self.raw.to_request(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Vec<u8>, ResponseError> {
        check_response(&response, check_ok)?;
        Ok(response.into_body())
    }
}

impl WithCallOptions for RawBytes {
    fn call_options_mut(&mut self) -> &mut CallOptions {
        &mut self.raw.options
    }
}
