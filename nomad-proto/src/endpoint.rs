//! The [`Endpoint`] trait that every operation implements, and what operations share: per-call
//! options ([`CallOptions`], [`WithCallOptions`]), the request extensions for transports
//! ([`ExpectedDuration`], [`StreamingResponse`]), request building ([`RequestBuilder`]) and the
//! response helpers ([`check_ok`], [`decode_json`], [`parse_json`], [`parse_empty`]).

use std::borrow::Cow;
use std::fmt;
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
///
/// # An endpoint of your own
///
/// Any Nomad endpoint can be an `Endpoint` in a few lines, with the same settings as the
/// operations of this crate (address and prefix, token, basic auth, headers, region, namespace):
/// build the request with [`RequestBuilder`] and parse the answer with [`parse_json`] (or
/// [`parse_empty`], [`check_ok`], [`decode_json`]). Keep a [`CallOptions`] in it and implement
/// [`WithCallOptions`] to get the per-call `region`, `namespace` and `token` methods. For
/// example `GET /v1/status/leader` (Nomad `command/agent/status_endpoint.go`), which answers the
/// leader's RPC address as a JSON string:
///
/// ```
/// use nomad_proto::http::{Request, Response};
/// use nomad_proto::{parse_json, BuildError, CallOptions, Config, Endpoint, RequestBuilder, ResponseError, WithCallOptions};
///
/// /// `GET /v1/status/leader`: the RPC address of the region's leader, `""` without one.
/// #[derive(Debug, Default)]
/// struct StatusLeader {
///     options: CallOptions,
/// }
///
/// impl Endpoint for StatusLeader {
///     type Output = String;
///     fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
///         RequestBuilder::get("/v1/status/leader", &self.options).build(config)
///     }
///     fn parse_response(&self, response: Response<Vec<u8>>) -> Result<String, ResponseError> {
///         parse_json(response)
///     }
/// }
///
/// impl WithCallOptions for StatusLeader {
///     fn call_options_mut(&mut self) -> &mut CallOptions {
///         &mut self.options
///     }
/// }
///
/// let config = Config::builder().address("http://127.0.0.1:4646").token("s3cr3t").build()?;
/// let op = StatusLeader::default().region("eu-west");
/// let request = op.to_request(&config)?;
/// assert_eq!(request.uri(), "http://127.0.0.1:4646/v1/status/leader?region=eu-west");
/// assert_eq!(request.headers()["x-nomad-token"], "s3cr3t");
///
/// let response = Response::builder().status(200).body(br#""10.0.0.1:4647""#.to_vec())?;
/// assert_eq!(op.parse_response(response)?, "10.0.0.1:4647");
///
/// // Errors are the same as every operation's.
/// let denied = Response::builder().status(403).body(b"Permission denied".to_vec())?;
/// assert!(op.parse_response(denied).unwrap_err().is_permission_denied());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// For a one-off call, [`Raw`](crate::Raw) does the same without a type of your own.
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

/// Builds a request from a [`Config`] the way every operation of this crate does: the
/// address and its path prefix, the ACL token exactly once (the per-call one, else the
/// client-wide one), basic auth, the extra headers, `region` and `namespace` (per-call, else
/// client-wide), percent-encoded query parameters and an optional JSON body. Use it to write an
/// [`Endpoint`] for any Nomad endpoint (see the example there), or send one-off calls with
/// [`Raw`](crate::Raw).
///
/// The path is checked when the request is built ([`BuildError::InvalidPath`]): it must start
/// with `/`, hold no query (`?`, use [`query`](Self::query)) or fragment, no `.` or `..`
/// segment (also percent-encoded: they could leave the address's path prefix), and only
/// printable ASCII (percent-encode anything else).
///
/// ```
/// use nomad_proto::{CallOptions, Config, RequestBuilder, WithCallOptions};
///
/// let config = Config::builder().address("http://10.0.0.5:4646/nomad").token("s3cr3t").region("eu").build()?;
/// let options = CallOptions::new().namespace("prod");
/// // `GET /v1/jobs?prefix=…`: the jobs whose ID starts with `web/`.
/// let request = RequestBuilder::get("/v1/jobs", &options).query("prefix", "web/").build(&config)?;
/// assert_eq!(request.uri(), "http://10.0.0.5:4646/nomad/v1/jobs?prefix=web%2F&region=eu&namespace=prod");
/// assert_eq!(request.headers()["x-nomad-token"], "s3cr3t");
///
/// // `POST /v1/search` with a JSON body.
/// let request = RequestBuilder::post("/v1/search", &options)
///     .json(&serde_json::json!({"Prefix": "web", "Context": "jobs"}))?
///     .build(&config)?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.headers()["content-type"], "application/json");
///
/// // A path that would leave the `/nomad` prefix is refused.
/// let err = RequestBuilder::get("/../admin", &options).build(&config).unwrap_err();
/// assert!(matches!(err, nomad_proto::BuildError::InvalidPath { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a request builder does nothing until `build` is called"]
pub struct RequestBuilder<'a> {
    method: Method,
    path: &'a str,
    query: Vec<(Cow<'static, str>, String)>,
    body: Option<Vec<u8>>,
    options: &'a CallOptions,
}

/// The operations of this crate call [`RequestBuilder`] by its former, shorter name.
pub(crate) use RequestBuilder as Spec;

impl fmt::Debug for RequestBuilder<'_> {
    /// The body is not shown (it may hold a secret, such as a gossip key): only its length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("options", &self.options)
            .finish()
    }
}

impl<'a> RequestBuilder<'a> {
    /// A request with `method` for `path` (e.g. `/v1/status/leader`), with the per-call
    /// `options`.
    pub fn new(method: Method, path: &'a str, options: &'a CallOptions) -> Self {
        RequestBuilder {
            method,
            path,
            query: Vec::new(),
            body: None,
            options,
        }
    }

    /// A `GET` request.
    pub fn get(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::GET, path, options)
    }

    /// A `PUT` request.
    pub fn put(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::PUT, path, options)
    }

    /// A `POST` request.
    pub fn post(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::POST, path, options)
    }

    /// A `DELETE` request.
    pub fn delete(path: &'a str, options: &'a CallOptions) -> Self {
        Self::new(Method::DELETE, path, options)
    }

    /// Adds a query parameter, percent-encoded when the request is built (repeat the call for
    /// repeated parameters). `region` and `namespace` come from the options and the config: set
    /// them there.
    pub fn query(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Adds a JSON body (sent with `Content-Type: application/json`).
    ///
    /// # Errors
    ///
    /// [`BuildError::Encode`] if `body` cannot be encoded as JSON (e.g. a map with non-string
    /// keys).
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self, BuildError> {
        self.body = Some(serde_json::to_vec(body).map_err(BuildError::Encode)?);
        Ok(self)
    }

    /// Adds a body already encoded as JSON.
    pub(crate) fn json_bytes(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// Builds the request for `config`: absolute URI, method, headers, body.
    ///
    /// # Errors
    ///
    /// - [`BuildError::InvalidPath`] if the path breaks the rules above.
    /// - [`BuildError::InvalidArgument`] for an empty per-call region or namespace, or one with
    ///   control characters, or a URI the `http` crate refuses (e.g. longer than 64 KiB).
    /// - [`BuildError::InvalidToken`] if the per-call token cannot be a header value.
    pub fn build(self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        check_path(self.path)?;
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

/// Checks a request path: absolute, printable ASCII, no query or fragment, no authority, and no
/// `.` or `..` segment, also once percent-decoded (with `%2F` and `\` read as separators, as some
/// servers and proxies read them), so that it cannot leave the address's path prefix.
fn check_path(path: &str) -> Result<(), BuildError> {
    let fail = |reason: &'static str| {
        Err(BuildError::InvalidPath {
            path: path.to_owned(),
            reason,
        })
    };
    if !path.starts_with('/') {
        return fail("must start with `/` (a path such as /v1/status/leader, without scheme or host)");
    }
    if path.starts_with("//") {
        return fail("must not start with `//` (it would name a host)");
    }
    if !path.bytes().all(|b| b.is_ascii_graphic()) {
        return fail("spaces, control characters and non-ASCII characters must be percent-encoded");
    }
    if path.contains(['?', '#']) {
        return fail("must not hold a query or fragment (add query parameters with `query`)");
    }
    let decoded = if path.contains('%') {
        Cow::Owned(percent_encoding::percent_decode(path.as_bytes()).collect())
    } else {
        Cow::Borrowed(path.as_bytes())
    };
    if decoded
        .split(|&b| b == b'/' || b == b'\\')
        .any(|segment| segment == b"." || segment == b"..")
    {
        return fail("must not hold `.` or `..` segments");
    }
    Ok(())
}

/// Accepts only `200 OK`; anything else becomes [`ResponseError::UnexpectedStatus`] with `body`
/// (the whole body, or the bounded start a streaming caller read). The default of
/// [`Endpoint::check_status`].
///
/// # Errors
///
/// [`ResponseError::UnexpectedStatus`] for any status but 200, keeping the body as text.
pub fn check_ok(status: StatusCode, body: &[u8]) -> Result<(), ResponseError> {
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
pub(crate) fn decode_json_at<T: DeserializeOwned>(
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
    decode_json_at::<Object<T>>(at, status, body).map(|object| object.0)
}

/// `200` + a JSON object → `T` (see [`decode_object`]).
pub(crate) fn parse_json_at<T: DeserializeOwned>(at: At<'_>, response: Response<Vec<u8>>) -> Result<T, ResponseError> {
    check_response(&response, |status, body| check_ok_at(at, status, body))?;
    let status = response.status();
    decode_object(at, status, response.into_body())
}

/// `200` with an empty body (force-leave, servers PUT, reload). A body is tolerated and ignored.
pub(crate) fn parse_empty_at(at: At<'_>, response: Response<Vec<u8>>) -> Result<(), ResponseError> {
    check_response(&response, |status, body| check_ok_at(at, status, body))
}

/// Decodes a JSON body into `T` whatever the status (for answers that carry JSON on a status
/// other than 200, such as an unhealthy agent's `500`); `status` goes into the errors. An empty
/// body is never fed to the parser. `T` decides which shapes it accepts (a JSON string for
/// `String`, an array for `Vec<_>`, …).
///
/// # Errors
///
/// - [`ResponseError::EmptyBody`] if the body is empty or only whitespace.
/// - [`ResponseError::Decode`] if it is not JSON for `T`; the error keeps the raw body.
pub fn decode_json<T: DeserializeOwned>(status: StatusCode, body: Vec<u8>) -> Result<T, ResponseError> {
    decode_json_at(At::NONE, status, body)
}

/// The usual answer of a Nomad read: `200` and a JSON body, decoded into `T`. What
/// [`Endpoint::parse_response`] does for most operations.
///
/// # Errors
///
/// - [`ResponseError::UnexpectedStatus`] for any status but 200, keeping the body as text (a
///   redirect also says where it pointed: the client follows none).
/// - [`ResponseError::EmptyBody`] if the body is empty or only whitespace.
/// - [`ResponseError::Decode`] if it is not JSON for `T`; the error keeps the raw body.
pub fn parse_json<T: DeserializeOwned>(response: Response<Vec<u8>>) -> Result<T, ResponseError> {
    check_response(&response, check_ok)?;
    let status = response.status();
    decode_json(status, response.into_body())
}

/// The answer of a Nomad write that returns nothing (force-leave, servers PUT, reload): `200`.
/// A body is tolerated and ignored.
///
/// # Errors
///
/// [`ResponseError::UnexpectedStatus`] for any status but 200, keeping the body as text.
pub fn parse_empty(response: Response<Vec<u8>>) -> Result<(), ResponseError> {
    check_response(&response, check_ok)
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
