//! The [`Endpoint`] trait that every operation implements, and what operations share: per-call
//! options ([`CallOptions`], [`WithCallOptions`]), the request extensions for transports
//! ([`ExpectedDuration`], [`StreamingResponse`]), request building (`Spec`) and the response
//! helpers (`check_ok`, `decode_json`, `parse_json`, `parse_empty`).

use std::time::Duration;

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::agent::wire::Object;
use crate::config::{check_query_value, Config, Secret, Token};
#[cfg(doc)]
use crate::error::Call;
use crate::error::{At, BuildError, ResponseError};

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
    ///
    /// # Errors
    ///
    /// [`BuildError`] when a setting or an argument cannot go on the wire (an empty required
    /// argument, a token that is not a valid header value, …); each operation documents its own
    /// checks.
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError>;

    /// Parses the agent's response.
    ///
    /// An answer of another shape than the operation expects (an array where the answer is an
    /// object, a string, `null`, …) is a [`ResponseError::Decode`] that keeps the body, never a
    /// partial or positional decode. Errors of the operations of [`crate::agent`] name the call
    /// ([`ResponseError::call`]).
    ///
    /// # Errors
    ///
    /// [`ResponseError`]: a status the operation does not accept (a redirect included: the
    /// client follows none), a body that does not decode, or a failure the agent reports inside
    /// a successful answer.
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<Self::Output, ResponseError>;

    /// Checks the status of an answer whose body will be read as a stream (a log stream, a
    /// profile written to a file) instead of through [`Endpoint::parse_response`]. `body_start`
    /// is the start of the body (a streaming transport reads a bounded amount of it when the
    /// status is not 200). It fails with the error `parse_response` would give for the same
    /// status and body.
    ///
    /// The default accepts `200 OK` only, with no [`Call`] in its errors; the operations of
    /// [`crate::agent`] override it so that their errors name the call and, for a 403 or a
    /// wrong-role answer, what the call needs; some also say more (the debug endpoints'
    /// `enable_debug` hint) or accept another status (health's `500` report).
    ///
    /// Only the status and the body start are known here: a transport that wants a redirect's
    /// message to say where it pointed adds the answer's headers with
    /// [`ResponseError::with_redirect_target`].
    ///
    /// # Errors
    ///
    /// The [`ResponseError`] that [`Endpoint::parse_response`] would give for this status and
    /// body.
    fn check_status(&self, status: StatusCode, body_start: &[u8]) -> Result<(), ResponseError> {
        check_ok(status, body_start)
    }
}

/// Per-call settings that override the client-wide [`Config`]: region, namespace, ACL token.
///
/// Every operation carries one and sets it through [`WithCallOptions`]; an endpoint of your own
/// can do the same (see [`Endpoint`]). `CallOptions` implements [`WithCallOptions`] itself, so
/// a set of options can also be built on its own:
///
/// ```
/// use nomad_proto::{CallOptions, WithCallOptions};
///
/// let options = CallOptions::new().region("eu-west").token("s3cr3t");
/// assert_eq!(options.region.as_deref(), Some("eu-west"));
/// assert!(!format!("{options:?}").contains("s3cr3t"));
/// ```
///
/// It is `#[non_exhaustive]` (Nomad's query options may grow): build it with
/// [`CallOptions::new`] or `Default` and the [`WithCallOptions`] methods, not with a struct
/// literal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallOptions {
    /// Overrides the client-wide region.
    pub region: Option<String>,
    /// Overrides the client-wide namespace.
    pub namespace: Option<String>,
    /// Overrides the client-wide token (never shown by `Debug`).
    pub token: Option<Secret>,
}

impl CallOptions {
    /// No overrides: the client-wide settings apply.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

/// Builder methods for per-call options, available on every operation.
///
/// To give an endpoint of your own these methods, keep a [`CallOptions`] in it and return it
/// from [`call_options_mut`](Self::call_options_mut) (see the example of [`Endpoint`]).
pub trait WithCallOptions: Sized {
    /// The operation's per-call options.
    fn call_options_mut(&mut self) -> &mut CallOptions;

    /// Sends this call to `region` instead of the client-wide one.
    #[must_use]
    fn region(mut self, region: impl Into<String>) -> Self {
        self.call_options_mut().region = Some(region.into());
        self
    }

    /// Uses `namespace` for this call.
    #[must_use]
    fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.call_options_mut().namespace = Some(namespace.into());
        self
    }

    /// Uses `token` for this call instead of the client-wide token.
    #[must_use]
    fn token(mut self, token: impl Into<Secret>) -> Self {
        self.call_options_mut().token = Some(token.into());
        self
    }
}

impl WithCallOptions for CallOptions {
    fn call_options_mut(&mut self) -> &mut CallOptions {
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
///
/// Build it with [`StreamingResponse::new`] (it is `#[non_exhaustive]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamingResponse {
    /// The agent sends heartbeats on this stream.
    pub heartbeats: bool,
}

impl StreamingResponse {
    /// A streaming response, with or without heartbeats.
    #[must_use]
    pub const fn new(heartbeats: bool) -> Self {
        StreamingResponse { heartbeats }
    }
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
/// (the whole body, or the bounded start a streaming caller read), with no [`Call`]: the default
/// of [`Endpoint::check_status`], for operations written outside this crate.
pub(crate) fn check_ok(status: StatusCode, body: &[u8]) -> Result<(), ResponseError> {
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(ResponseError::unexpected(status, body))
    }
}

/// [`check_ok`] for an operation of this crate: its errors carry the call (method, path, ACL
/// capability, role), so that a 403 names the capability and a wrong-role answer the role.
pub(crate) fn check_ok_at(at: At<'_>, status: StatusCode, body: &[u8]) -> Result<(), ResponseError> {
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(ResponseError::unexpected_at(at, status, body))
    }
}

/// [`check_ok_at`] for the debug endpoints (host, pprof), whose 403 also explains `enable_debug`.
pub(crate) fn check_ok_debug(
    at: At<'_>,
    status: StatusCode,
    body: &[u8],
    endpoint: &'static str,
    capability: &'static str,
) -> Result<(), ResponseError> {
    if status == StatusCode::OK {
        Ok(())
    } else {
        Err(ResponseError::from_debug_endpoint(
            at, status, body, endpoint, capability,
        ))
    }
}

/// Runs a status check on a buffered response, adding a redirect's target from its headers.
pub(crate) fn check_response(
    response: &Response<Vec<u8>>,
    check: impl FnOnce(StatusCode, &[u8]) -> Result<(), ResponseError>,
) -> Result<(), ResponseError> {
    check(response.status(), response.body()).map_err(|e| e.with_redirect_target(response.headers()))
}

/// An empty (or all-whitespace) body, which is never fed to the JSON parser.
fn empty_body(at: At<'_>, status: StatusCode, body: &[u8]) -> Result<(), ResponseError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ResponseError::EmptyBody {
            status,
            call: at.call(),
        });
    }
    Ok(())
}

/// Decodes a JSON body of any shape `T` accepts (an array, `null`, …). For answers that are
/// objects use [`decode_object`].
pub(crate) fn decode_json<T: DeserializeOwned>(
    at: At<'_>,
    status: StatusCode,
    body: Vec<u8>,
) -> Result<T, ResponseError> {
    empty_body(at, status, &body)?;
    serde_json::from_slice(&body).map_err(|source| ResponseError::Decode {
        status,
        source,
        body,
        call: at.call(),
    })
}

/// Decodes a body that must be a JSON object: an array (which serde's derived structs would
/// read field by field, by position), a string, a number, a boolean or `null` is a
/// [`ResponseError::Decode`] naming what it found. The check is the parser's own: the body goes
/// through `deserialize_map` only, with no intermediate `serde_json::Value`.
pub(crate) fn decode_object<T: DeserializeOwned>(
    at: At<'_>,
    status: StatusCode,
    body: Vec<u8>,
) -> Result<T, ResponseError> {
    decode_json::<Object<T>>(at, status, body).map(|object| object.0)
}

/// `200` + a JSON object → `T` (see [`decode_object`]).
pub(crate) fn parse_json<T: DeserializeOwned>(at: At<'_>, response: Response<Vec<u8>>) -> Result<T, ResponseError> {
    check_response(&response, |status, body| check_ok_at(at, status, body))?;
    let status = response.status();
    decode_object(at, status, response.into_body())
}

/// `200` with an empty body (force-leave, servers PUT, reload). A body is tolerated and ignored.
pub(crate) fn parse_empty(at: At<'_>, response: Response<Vec<u8>>) -> Result<(), ResponseError> {
    check_response(&response, |status, body| check_ok_at(at, status, body))
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

/// Inside an `impl Endpoint for Op` block: [`Endpoint::check_status`] with the operation's
/// `INFO`, so that its status errors name the call ([`check_ok_at`]).
macro_rules! check_status_with_info {
    () => {
        fn check_status(
            &self,
            status: http::StatusCode,
            body_start: &[u8],
        ) -> Result<(), $crate::error::ResponseError> {
            $crate::endpoint::check_ok_at($crate::error::At::op(&Self::INFO), status, body_start)
        }
    };
}
pub(crate) use check_status_with_info;
