//! Typed errors: [`BuildError`] for requests that cannot be built, [`ResponseError`] for answers
//! that are not what the operation expects.

use http::StatusCode;

use crate::stream::{floor_char_boundary, StreamError};

/// A request could not be built: a setting or an argument cannot go on the wire.
///
/// Messages never contain the ACL token or a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The agent address cannot be used (`NOMAD_ADDR` or [`crate::ConfigBuilder::address`]).
    #[error("invalid agent address `{address}`: {reason}")]
    InvalidAddress {
        /// The address as given, with any `user:password@` part removed.
        address: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The ACL token cannot be sent as an HTTP header value. The token itself is never shown.
    #[error("invalid ACL token: {reason}")]
    InvalidToken {
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An extra header name or value cannot go on the wire.
    #[error("invalid header `{name}`: {reason}")]
    InvalidHeader {
        /// The header name as given.
        name: String,
        /// Why it was rejected.
        reason: String,
    },
    /// An argument of an operation is invalid (empty, out of range, or a rejected combination).
    #[error("invalid argument `{argument}`: {reason}")]
    InvalidArgument {
        /// The argument or query parameter name.
        argument: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// An environment variable holds a value that cannot be used.
    #[error("invalid environment variable {var}: {reason}")]
    InvalidEnv {
        /// The variable name, e.g. `NOMAD_SKIP_VERIFY`.
        var: &'static str,
        /// Why it was rejected (never the value of a secret variable).
        reason: String,
    },
    /// A JSON request body could not be encoded.
    #[error("cannot encode request body")]
    Encode(#[source] serde_json::Error),
}

impl BuildError {
    pub(crate) fn argument(argument: &'static str, reason: impl Into<String>) -> Self {
        BuildError::InvalidArgument {
            argument,
            reason: reason.into(),
        }
    }
}

/// How much of an error body is shown by `Display`; the whole (trimmed) body stays available.
const DISPLAY_BODY_LIMIT: usize = 512;

/// The agent answered, but not with what the operation expects.
///
/// ```
/// use nomad_proto::{agent::ListServers, Endpoint, ResponseError};
///
/// // A server-only agent has no server list: 501 `Invalid method`.
/// let resp = http::Response::builder().status(501).body(b"Invalid method".to_vec())?;
/// let err = ListServers::new().parse_response(resp).unwrap_err();
/// assert!(err.is_wrong_role());
/// assert_eq!(err.status(), Some(http::StatusCode::NOT_IMPLEMENTED));
/// assert_eq!(err.message(), Some("Invalid method"));
///
/// // An empty body where JSON is expected is never a serde error.
/// let resp = http::Response::builder().status(200).body(Vec::new())?;
/// let err = ListServers::new().parse_response(resp).unwrap_err();
/// assert!(matches!(err, ResponseError::EmptyBody { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The status code is not one this operation accepts (Nomad's errors are plain-text bodies such
    /// as `Permission denied`; the body is kept, trimmed).
    #[error("unexpected response status {status}: {}", BodySnippet(body))]
    UnexpectedStatus {
        /// The HTTP status.
        status: StatusCode,
        /// The response body as text (lossy UTF-8), whitespace-trimmed.
        body: String,
    },
    /// The body could not be decoded into the expected type; the raw body is kept.
    #[error("cannot decode response body (status {status}, {} bytes)", body.len())]
    Decode {
        /// The HTTP status.
        status: StatusCode,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
        /// The raw body.
        body: Vec<u8>,
    },
    /// JSON was expected but the body is empty.
    #[error("empty response body where JSON was expected (status {status})")]
    EmptyBody {
        /// The HTTP status.
        status: StatusCode,
    },
    /// A log stream (`/v1/agent/monitor`, `/v1/agent/monitor/export`) could not be decoded: it
    /// broke off mid-frame, carried something that is not a frame (such as an error the agent
    /// appended after streaming started), or went over the decoder's limits.
    #[error("log stream error")]
    Stream(#[source] StreamError),
    /// `PUT /v1/agent/join` answered 200 but reported a failure in its `error` field.
    #[error("join failed ({num_joined} joined): {message}")]
    JoinFailed {
        /// How many agents were joined before the failure.
        num_joined: u64,
        /// The agent's error message.
        message: String,
    },
    /// A `403 Permission denied` from a debug endpoint (`/v1/agent/host`, `/v1/agent/pprof/…`).
    ///
    /// These endpoints also answer 403 when the agent has ACLs disabled and was started without
    /// `enable_debug = true`, with the same message as for a token that lacks the capability.
    /// The client cannot tell which applies, so the message names both.
    /// [`ResponseError::is_permission_denied`] is true for it.
    #[error(
        "unexpected response status {status}: {}; {}",
        BodySnippet(body),
        debug_hint(endpoint, capability)
    )]
    DebugPermissionDenied {
        /// The HTTP status (403).
        status: StatusCode,
        /// The agent's message (`Permission denied`), whitespace-trimmed.
        body: String,
        /// The endpoint, e.g. `/v1/agent/host`.
        endpoint: &'static str,
        /// The ACL capability it needs when ACLs are enabled, e.g. `agent:read`.
        capability: &'static str,
    },
    /// A successful answer lacks a value the call needs (e.g. the datacenter in
    /// `/v1/agent/self`).
    #[error("the agent's answer has no {what}")]
    MissingValue {
        /// What is missing, e.g. `datacenter (config.Datacenter)`.
        what: &'static str,
    },
}

fn debug_hint(endpoint: &str, capability: &str) -> String {
    format!(
        "{endpoint} needs `enable_debug = true` in the agent configuration when ACLs are disabled, \
         or an ACL token with {capability} when they are enabled"
    )
}

struct BodySnippet<'a>(&'a str);

impl std::fmt::Display for BodySnippet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = self.0;
        if body.is_empty() {
            return f.write_str("(empty body)");
        }
        if body.len() <= DISPLAY_BODY_LIMIT {
            return f.write_str(body);
        }
        let end = floor_char_boundary(body, DISPLAY_BODY_LIMIT);
        write!(f, "{}… ({} bytes)", &body[..end], body.len())
    }
}

impl ResponseError {
    /// Builds [`ResponseError::UnexpectedStatus`] from a status and a raw body.
    pub fn unexpected(status: StatusCode, body: &[u8]) -> Self {
        ResponseError::UnexpectedStatus {
            status,
            body: String::from_utf8_lossy(body).trim().to_owned(),
        }
    }

    /// The HTTP status of the response, when the error is about one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ResponseError::UnexpectedStatus { status, .. }
            | ResponseError::DebugPermissionDenied { status, .. }
            | ResponseError::Decode { status, .. }
            | ResponseError::EmptyBody { status } => Some(*status),
            ResponseError::JoinFailed { .. } | ResponseError::Stream(_) | ResponseError::MissingValue { .. } => {
                Some(StatusCode::OK)
            }
        }
    }

    /// The error text the agent sent (for [`ResponseError::UnexpectedStatus`] and
    /// [`ResponseError::DebugPermissionDenied`]) or reported (for [`ResponseError::JoinFailed`]).
    pub fn message(&self) -> Option<&str> {
        match self {
            ResponseError::UnexpectedStatus { body, .. } | ResponseError::DebugPermissionDenied { body, .. } => {
                Some(body)
            }
            ResponseError::JoinFailed { message, .. } => Some(message),
            _ => None,
        }
    }

    /// True for a 403 (`Permission denied`, `ACL token not found`): the token is missing or lacks
    /// the capability (or, for [`ResponseError::DebugPermissionDenied`], the agent may have
    /// `enable_debug` off).
    pub fn is_permission_denied(&self) -> bool {
        match self {
            ResponseError::UnexpectedStatus { status, .. } => *status == StatusCode::FORBIDDEN,
            ResponseError::DebugPermissionDenied { .. } => true,
            _ => false,
        }
    }

    /// For a 403 from a debug endpoint ([`ResponseError::DebugPermissionDenied`]): what may be
    /// wrong, e.g. "/v1/agent/host needs `enable_debug = true` in the agent configuration when
    /// ACLs are disabled, or an ACL token with agent:read when they are enabled".
    pub fn debug_disabled_hint(&self) -> Option<String> {
        match self {
            ResponseError::DebugPermissionDenied {
                endpoint, capability, ..
            } => Some(debug_hint(endpoint, capability)),
            _ => None,
        }
    }

    /// A 403 from a debug endpoint becomes [`ResponseError::DebugPermissionDenied`], unless the
    /// agent said `ACL token not found` (then ACLs are on and `enable_debug` is irrelevant).
    pub(crate) fn from_debug_endpoint(
        status: StatusCode,
        body: &[u8],
        endpoint: &'static str,
        capability: &'static str,
    ) -> Self {
        let error = ResponseError::unexpected(status, body);
        match error {
            ResponseError::UnexpectedStatus { status, body }
                if status == StatusCode::FORBIDDEN && !body.ends_with("ACL token not found") =>
            {
                ResponseError::DebugPermissionDenied {
                    status,
                    body,
                    endpoint,
                    capability,
                }
            }
            other => other,
        }
    }

    /// True when the agent does not run the role this endpoint needs: `501 Invalid method`
    /// (e.g. `/v1/agent/servers` on a server-only agent, `/v1/agent/join` on a client-only agent)
    /// or `400 Server only endpoint` (scheduler endpoints on a client-only agent).
    pub fn is_wrong_role(&self) -> bool {
        match self {
            ResponseError::UnexpectedStatus { status, body } => {
                (*status == StatusCode::NOT_IMPLEMENTED && body == "Invalid method")
                    || (*status == StatusCode::BAD_REQUEST && body == "Server only endpoint")
            }
            _ => false,
        }
    }

    /// True for `405 Invalid method`: the endpoint exists but not for this HTTP method.
    pub fn is_method_not_allowed(&self) -> bool {
        matches!(self, ResponseError::UnexpectedStatus { status, .. } if *status == StatusCode::METHOD_NOT_ALLOWED)
    }

    /// True for a 404 (unknown path, profile or keyring operation).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ResponseError::UnexpectedStatus { status, .. } if *status == StatusCode::NOT_FOUND)
    }

    /// True for a 401 (the Task API's answer without a token).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, ResponseError::UnexpectedStatus { status, .. } if *status == StatusCode::UNAUTHORIZED)
    }
}
