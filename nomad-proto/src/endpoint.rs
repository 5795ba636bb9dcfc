//! The [`Endpoint`] trait that every operation implements, and what operations share: per-call
//! options ([`CallOptions`], [`WithCallOptions`]), the request extensions for transports
//! ([`ExpectedDuration`], [`StreamingResponse`]) and the response helpers ([`check_ok`],
//! [`decode_json`], [`parse_json`], [`parse_empty`], and [`Object`] for answers that must be JSON
//! objects). Request building (`RequestBuilder`) is in `crate::request`.

use std::marker::PhantomData;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::call::At;
#[cfg(doc)]
use crate::call::Call;
use crate::config::{Config, Secret};
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
///
/// # An endpoint of your own
///
/// Any Nomad endpoint can be an `Endpoint` in a few lines, with the same settings as the
/// operations of this crate (address and prefix, token, basic auth, headers, region, namespace):
/// build the request with [`RequestBuilder`](crate::RequestBuilder) and parse the answer with [`parse_json`] (or
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

/// A value that must be a JSON object. serde's derived structs also read a JSON array, field by
/// field in declaration order (`["a","b"]` would be a members answer whose `ServerName` is
/// `a`); this wrapper asks the parser for a map only (`deserialize_map`), so an array, a
/// string, a number, a boolean or `null` fails with the parser's message ("invalid type:
/// sequence, expected a JSON object (ServerMembers)", with line and column). The object itself
/// is decoded by `T` as usual, straight from the parser.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor(PhantomData))
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = std::any::type_name::<T>();
        write!(f, "a JSON object ({})", name.rsplit("::").next().unwrap_or(name))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Object)
    }
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
            $crate::endpoint::check_ok_at($crate::call::At::op(&Self::INFO), status, body_start)
        }
    };
}
pub(crate) use check_status_with_info;
