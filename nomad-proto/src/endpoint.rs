//! The [`Endpoint`] trait that every operation implements, and what operations share: per-call
//! options ([`CallOptions`], [`WithCallOptions`]), the request extensions for transports
//! ([`ExpectedDuration`], [`StreamingResponse`]), request building (`Spec`) and the response
//! helpers (`check_ok`, `decode_json`, `parse_json`, `parse_empty`).

use std::time::Duration;

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::config::{check_query_value, Config, Secret, Token};
use crate::error::{BuildError, ResponseError};

/// One Nomad API operation: it builds its request and parses its response, with no I/O.
///
/// ```
/// use nomad_proto::{agent::ListServers, Config, Endpoint};
///
/// let config = Config::builder().address("http://10.0.0.5:4646").build()?;
/// let op = ListServers::new();
/// let request = op.to_request(&config)?;
/// assert_eq!(request.uri(), "http://10.0.0.5:4646/v1/agent/servers");
///
/// // ... send it with any HTTP stack, then:
/// let response = http::Response::builder()
///     .status(200)
///     .body(br#"["10.0.0.5:4647","10.0.0.6:4647"]"#.to_vec())?;
/// let servers = op.parse_response(response)?;
/// assert_eq!(servers, ["10.0.0.5:4647", "10.0.0.6:4647"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Endpoint {
    /// What a successful response decodes into.
    type Output;

    /// Builds the request: absolute URI, method, headers (token exactly once), body.
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError>;

    /// Parses the agent's response.
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Self::Output, ResponseError>;

    /// Checks the status of an answer whose body will be read as a stream (a log stream, a
    /// profile written to a file) instead of through [`Endpoint::parse_response`]. `body_start`
    /// is the start of the body (a streaming transport reads a bounded amount of it when the
    /// status is not 200). It fails with the error `parse_response` would give for the same
    /// status and body.
    ///
    /// The default accepts `200 OK` only; operations whose error answers say more (the debug
    /// endpoints' `enable_debug` hint) or that accept another status (health's `500` report)
    /// override it.
    fn check_status(&self, status: StatusCode, body_start: &[u8]) -> Result<(), ResponseError> {
        check_ok(status, body_start)
    }
}

/// Per-call settings that override the client-wide [`Config`]: region, namespace, ACL token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CallOptions {
    /// Overrides the client-wide region.
    pub region: Option<String>,
    /// Overrides the client-wide namespace.
    pub namespace: Option<String>,
    /// Overrides the client-wide token (never shown by `Debug`).
    pub token: Option<Secret>,
}

/// Builder methods for per-call options, available on every operation.
pub trait WithCallOptions: Sized {
    /// The operation's per-call options.
    fn call_options_mut(&mut self) -> &mut CallOptions;

    /// Sends this call to `region` instead of the client-wide one.
    fn region(mut self, region: impl Into<String>) -> Self {
        self.call_options_mut().region = Some(region.into());
        self
    }

    /// Uses `namespace` for this call.
    fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.call_options_mut().namespace = Some(namespace.into());
        self
    }

    /// Uses `token` for this call instead of the client-wide token.
    fn token(mut self, token: impl Into<Secret>) -> Self {
        self.call_options_mut().token = Some(token.into());
        self
    }
}

/// A request extension: how long the agent is expected to take before it answers (e.g. a CPU
/// profile of `seconds=30`). Transports should extend their per-call timeout by this much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectedDuration(pub Duration);

/// A request extension marking a long-lived streaming response (the log monitor and its
/// export): a transport that streams the body should not apply an overall timeout to it. When
/// `heartbeats` is true the agent sends a `{}` frame about every second, so a per-read timeout of
/// a few seconds is safe; when it is false (`plain=true` streams) the stream may legitimately
/// stay silent for as long as the agent logs nothing, so a per-read timeout would kill a healthy
/// stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamingResponse {
    /// The agent sends heartbeats on this stream.
    pub heartbeats: bool,
}

/// Collects the pieces of a request before [`Spec::build`] turns them into an `http::Request`.
pub(crate) struct Spec<'a> {
    method: Method,
    path: &'a str,
    query: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    options: &'a CallOptions,
}

impl<'a> Spec<'a> {
    pub(crate) fn new(method: Method, path: &'a str, options: &'a CallOptions) -> Self {
        Spec {
            method,
            path,
            query: Vec::new(),
            body: None,
            options,
        }
    }

    pub(crate) fn get(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::GET, path, options)
    }

    pub(crate) fn put(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::PUT, path, options)
    }

    /// Adds a query parameter (repeat the call for repeated parameters).
    pub(crate) fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    /// Adds a JSON body (with `Content-Type: application/json`).
    pub(crate) fn json<T: serde::Serialize>(mut self, body: &T) -> Result<Self, BuildError> {
        self.body = Some(serde_json::to_vec(body).map_err(BuildError::Encode)?);
        Ok(self)
    }

    pub(crate) fn build(self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        // The config's region and namespace were checked when it was built; per-call ones here.
        for (name, value) in [("region", &self.options.region), ("namespace", &self.options.namespace)] {
            if let Some(v) = value {
                check_query_value(name, v)?;
            }
        }
        let region = self.options.region.as_deref().or(config.region());
        let namespace = self.options.namespace.as_deref().or(config.namespace());
        let base = config.base_url();
        let mut uri = String::with_capacity(base.len() + self.path.len() + 64);
        uri.push_str(base);
        uri.push_str(self.path);
        let has_query = !self.query.is_empty() || region.is_some() || namespace.is_some();
        if has_query {
            uri.push('?');
            let mut ser = form_urlencoded::Serializer::for_suffix(uri, base.len() + self.path.len() + 1);
            for (name, value) in &self.query {
                ser.append_pair(name, value);
            }
            if let Some(region) = region {
                ser.append_pair("region", region);
            }
            if let Some(namespace) = namespace {
                ser.append_pair("namespace", namespace);
            }
            uri = ser.finish();
        }

        // Parse the URI first: a URI the http crate refuses (e.g. longer than 64 KiB, from thousands
        // of addresses or a huge node name) is a typed error, never a panic.
        let uri = http::Uri::try_from(uri)
            .map_err(|e| BuildError::argument("uri", format!("the request URI cannot be built: {e}")))?;
        let mut request = Request::new(self.body.unwrap_or_default());
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        let has_body = !request.body().is_empty();
        let headers = request.headers_mut();
        for (name, value) in config.headers() {
            headers.append(name, value.clone());
        }
        if let Some(auth) = config.basic_auth() {
            headers.insert(http::header::AUTHORIZATION, auth.header_value().clone());
        }
        // Exactly one token header: the per-call token, else the client-wide one. It replaces any
        // X-Nomad-Token given as an extra header (two make the agent answer 400); with no token
        // at all, such an extra header is sent as given.
        let per_call;
        let token = match &self.options.token {
            Some(t) => {
                per_call = Token::new(t.expose())?;
                Some(&per_call)
            }
            None => config.token(),
        };
        if let Some(token) = token {
            // `insert` drops every earlier value of the header.
            headers.insert("x-nomad-token", token.header_value().clone());
        }
        if has_body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(request)
    }
}

/// Accepts only `200 OK`; anything else becomes [`ResponseError::UnexpectedStatus`] with `body`
/// (the whole body, or the bounded start a streaming caller read).
pub(crate) fn check_ok(status: StatusCode, body: &[u8]) -> Result<(), ResponseError> {
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(ResponseError::unexpected(status, body))
    }
}

/// [`check_ok`] for the debug endpoints (host, pprof), whose 403 also explains `enable_debug`.
pub(crate) fn check_ok_debug(
    status: StatusCode,
    body: &[u8],
    endpoint: &'static str,
    capability: &'static str,
) -> Result<(), ResponseError> {
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(ResponseError::from_debug_endpoint(status, body, endpoint, capability))
    }
}

/// [`check_ok`] on a buffered response.
pub(crate) fn require_ok(response: &Response<Vec<u8>>) -> Result<(), ResponseError> {
    check_ok(response.status(), response.body())
}

/// Decodes a JSON body, never feeding an empty body to the parser.
pub(crate) fn decode_json<T: DeserializeOwned>(status: StatusCode, body: Vec<u8>) -> Result<T, ResponseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ResponseError::EmptyBody { status });
    }
    serde_json::from_slice(&body).map_err(|source| ResponseError::Decode { status, source, body })
}

/// `200` + JSON body → `T`.
pub(crate) fn parse_json<T: DeserializeOwned>(response: Response<Vec<u8>>) -> Result<T, ResponseError> {
    require_ok(&response)?;
    let status = response.status();
    decode_json(status, response.into_body())
}

/// `200` with an empty body (force-leave, servers PUT, reload). A body is tolerated and ignored.
pub(crate) fn parse_empty(response: Response<Vec<u8>>) -> Result<(), ResponseError> {
    require_ok(&response)
}

/// Implements [`WithCallOptions`] for operation structs with an `options: CallOptions` field.
macro_rules! call_options {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::endpoint::WithCallOptions for $ty {
            fn call_options_mut(&mut self) -> &mut $crate::endpoint::CallOptions {
                &mut self.options
            }
        }
    )*};
}
pub(crate) use call_options;
