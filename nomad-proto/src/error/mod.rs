//! Typed errors: [`BuildError`] for requests that cannot be built, [`ResponseError`] for answers
//! that are not what the operation expects.
//!
//! # How errors read
//!
//! Every error's `Display` states the reason on one line, and no error repeats that reason
//! through [`std::error::Error::source`]: printing with `{}`, or with a reporter that walks the
//! source chain (anyhow's `{:#}`), shows it once. What a source would have held stays reachable
//! through a field or an accessor (e.g. [`ResponseError::Decode`]'s `source`).
//!
//! Text that comes from the agent (status bodies, join messages, log-stream snippets, decode
//! snippets, redirect targets) is shown with its control characters escaped (`ESC` as
//! `\u{1b}`, a newline as `\n`, and likewise `BEL`, `NUL`, `DEL`, C1 controls and Unicode
//! direction overrides), in `Display` and in `Debug`, so a hostile endpoint cannot write escape
//! sequences into a terminal. The accessors ([`ResponseError::message`], the `body` fields)
//! return the text as the agent sent it.

mod display;

use http::{HeaderMap, StatusCode};

use crate::call::At;
pub use crate::call::Call;
use crate::stream::{LogLine, StreamError};
pub use crate::text::{terminal_safe, TerminalSafe};

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
    /// A request path cannot be used ([`crate::RequestBuilder`], [`crate::Raw`]): not absolute,
    /// with a query, a `..` segment or characters that must be percent-encoded.
    #[error("invalid request path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// An environment variable holds a value that cannot be used.
    #[error("invalid environment variable {var}: {reason}")]
    InvalidEnv {
        /// The variable name, e.g. `NOMAD_SKIP_VERIFY`.
        var: &'static str,
        /// Why it was rejected (never the value of a secret variable).
        reason: String,
    },
    /// A JSON request body could not be encoded. The message includes the encoder's, which is
    /// therefore not also returned as the `source`.
    #[error("cannot encode the request body: {0}")]
    Encode(serde_json::Error),
}

impl BuildError {
    pub(crate) fn argument(argument: &'static str, reason: impl Into<String>) -> Self {
        BuildError::InvalidArgument {
            argument,
            reason: reason.into(),
        }
    }
}

/// The agent answered, but not with what the operation expects.
///
/// `Display` names the call (for the operations of [`crate::agent`]), the status and the
/// agent's text, and for the answers whose fix is known, the fix:
///
/// ```
/// use nomad_proto::agent::{InstallKey, ListServers};
/// use nomad_proto::{Endpoint, ResponseError};
///
/// // A token without the capability: the message names the capability the call needs.
/// let resp = http::Response::builder().status(403).body(b"Permission denied".to_vec())?;
/// let err = InstallKey::new("HS5lJ+XuTlYKWaeGYyG+/A==").parse_response(resp).unwrap_err();
/// assert!(err.is_permission_denied());
/// assert_eq!(
///     err.to_string(),
///     "PUT /v1/agent/keyring/install: 403 Permission denied (needs agent:write)"
/// );
///
/// // A server-only agent has no server list: 501 `Invalid method`.
/// let resp = http::Response::builder().status(501).body(b"Invalid method".to_vec())?;
/// let err = ListServers::new().parse_response(resp).unwrap_err();
/// assert!(err.is_wrong_role());
/// assert_eq!(err.status(), Some(http::StatusCode::NOT_IMPLEMENTED));
/// assert_eq!(err.message(), Some("Invalid method"));
/// assert_eq!(
///     err.to_string(),
///     "GET /v1/agent/servers: 501 Invalid method (this agent runs no client; the endpoint needs one)"
/// );
///
/// // An empty body where JSON is expected is never a serde error.
/// let resp = http::Response::builder().status(200).body(Vec::new())?;
/// let err = ListServers::new().parse_response(resp).unwrap_err();
/// assert!(matches!(err, ResponseError::EmptyBody { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `source()` is always `None`: every message already includes what a source would add (see
/// the [module docs](self)).
#[non_exhaustive]
pub enum ResponseError {
    /// The status code is not one this operation accepts (Nomad's errors are plain-text bodies such
    /// as `Permission denied`; the body is kept, trimmed). A redirect (3xx) is one too: the
    /// client follows none, and the message says where it pointed.
    #[non_exhaustive]
    UnexpectedStatus {
        /// The HTTP status.
        status: StatusCode,
        /// The response body as the agent sent it (lossy UTF-8), whitespace-trimmed.
        body: String,
        /// The call, for the operations of [`crate::agent`].
        call: Option<Box<Call>>,
        /// For a redirect: where the `Location` header pointed, with scheme, host and path only
        /// (never its query, fragment or `user:password@`). `None` for other statuses, or when
        /// the error was built from a status and body alone ([`crate::Endpoint::check_status`];
        /// add it with [`ResponseError::with_redirect_target`]).
        location: Option<String>,
    },
    /// The body could not be decoded into the expected type (malformed JSON, or JSON of another
    /// shape, such as an array where the answer is an object); the raw body is kept.
    #[non_exhaustive]
    Decode {
        /// The HTTP status.
        status: StatusCode,
        /// The decoder's error (its message, with line and column, is part of `Display`).
        source: serde_json::Error,
        /// The raw body.
        body: Vec<u8>,
        /// The call, for the operations of [`crate::agent`].
        call: Option<Box<Call>>,
    },
    /// JSON was expected but the body is empty.
    #[non_exhaustive]
    EmptyBody {
        /// The HTTP status.
        status: StatusCode,
        /// The call, for the operations of [`crate::agent`].
        call: Option<Box<Call>>,
    },
    /// A log stream (`/v1/agent/monitor`, `/v1/agent/monitor/export`) read incrementally could
    /// not be decoded: it broke off mid-frame, carried something that is not a frame (such as
    /// an error the agent appended after streaming started), or went over the decoder's
    /// limits. The lines before it were already handed out.
    Stream(StreamError),
    /// A whole buffered log stream ([`crate::Endpoint::parse_response`] of
    /// [`Monitor`](crate::agent::Monitor) or [`MonitorExport`](crate::agent::MonitorExport))
    /// broke: `lines` holds every whole line decoded before the break, `error` says what broke
    /// ([`ResponseError::partial_lines`], [`ResponseError::stream_error`]).
    #[non_exhaustive]
    PartialStream {
        /// The whole lines before the break, in order.
        lines: Vec<LogLine>,
        /// What broke the stream.
        error: StreamError,
        /// The call.
        call: Option<Box<Call>>,
    },
    /// `PUT /v1/agent/join` answered 200 but reported a failure in its `error` field.
    JoinFailed {
        /// How many agents were joined before the failure.
        num_joined: u64,
        /// The agent's error message, as sent (trimmed); `Display` escapes it.
        message: String,
    },
    /// A `403 Permission denied` from a debug endpoint (`/v1/agent/host`, `/v1/agent/pprof/…`).
    ///
    /// These endpoints also answer 403 when the agent has ACLs disabled and was started without
    /// `enable_debug = true`, with the same message as for a token that lacks the capability.
    /// The client cannot tell which applies, so the message names both.
    /// [`ResponseError::is_permission_denied`] is true for it.
    #[non_exhaustive]
    DebugPermissionDenied {
        /// The HTTP status (403).
        status: StatusCode,
        /// The agent's message (`Permission denied`), whitespace-trimmed.
        body: String,
        /// The endpoint family, e.g. `/v1/agent/host` or `/v1/agent/pprof`.
        endpoint: &'static str,
        /// The ACL capability it needs when ACLs are enabled, e.g. `agent:read`.
        capability: &'static str,
        /// The call, with the real path (e.g. `/v1/agent/pprof/heap`).
        call: Option<Box<Call>>,
    },
    /// A successful answer lacks a value the call needs (e.g. the datacenter in
    /// `/v1/agent/self`).
    MissingValue {
        /// What is missing, e.g. `datacenter (config.Datacenter)`.
        what: &'static str,
    },
}

impl ResponseError {
    /// Builds [`ResponseError::UnexpectedStatus`] from a status and a raw body, for an
    /// operation written outside this crate (no [`Call`]).
    pub fn unexpected(status: StatusCode, body: &[u8]) -> Self {
        ResponseError::UnexpectedStatus {
            status,
            body: trimmed_text(body),
            call: None,
            location: None,
        }
    }

    /// [`ResponseError::unexpected`] for an operation of this crate.
    pub(crate) fn unexpected_at(at: At<'_>, status: StatusCode, body: &[u8]) -> Self {
        ResponseError::UnexpectedStatus {
            status,
            body: trimmed_text(body),
            call: at.call(),
            location: None,
        }
    }

    /// For a redirect ([`ResponseError::UnexpectedStatus`] with a 3xx status): adds where the
    /// answer's `Location` header pointed (scheme, host and path only), so the message can say
    /// where to point the client instead. Any other error is returned unchanged. The response
    /// helpers of this crate do it; a transport that checks a streamed answer with
    /// [`Endpoint::check_status`](crate::Endpoint::check_status) can do it with the answer's
    /// headers.
    #[must_use]
    pub fn with_redirect_target(mut self, headers: &HeaderMap) -> Self {
        if let ResponseError::UnexpectedStatus { status, location, .. } = &mut self {
            if status.is_redirection() {
                if let Some(value) = headers.get(http::header::LOCATION) {
                    *location = Some(redirect_target(&String::from_utf8_lossy(value.as_bytes())));
                }
            }
        }
        self
    }

    /// The HTTP status of the response, when the error is about one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ResponseError::UnexpectedStatus { status, .. }
            | ResponseError::DebugPermissionDenied { status, .. }
            | ResponseError::Decode { status, .. }
            | ResponseError::EmptyBody { status, .. } => Some(*status),
            ResponseError::JoinFailed { .. }
            | ResponseError::Stream(_)
            | ResponseError::PartialStream { .. }
            | ResponseError::MissingValue { .. } => Some(StatusCode::OK),
        }
    }

    /// The error text the agent sent (for [`ResponseError::UnexpectedStatus`] and
    /// [`ResponseError::DebugPermissionDenied`]) or reported (for [`ResponseError::JoinFailed`]),
    /// **as sent** (whitespace-trimmed, invalid UTF-8 replaced): control characters are kept, so
    /// escape it before printing it to a terminal, or print the error itself, whose `Display`
    /// escapes them.
    pub fn message(&self) -> Option<&str> {
        match self {
            ResponseError::UnexpectedStatus { body, .. } | ResponseError::DebugPermissionDenied { body, .. } => {
                Some(body)
            }
            ResponseError::JoinFailed { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The call the answer belongs to: set by every operation of [`crate::agent`] on its
    /// status, decode and empty-body errors.
    pub fn call(&self) -> Option<&Call> {
        match self {
            ResponseError::UnexpectedStatus { call, .. }
            | ResponseError::Decode { call, .. }
            | ResponseError::EmptyBody { call, .. }
            | ResponseError::PartialStream { call, .. }
            | ResponseError::DebugPermissionDenied { call, .. } => call.as_deref(),
            _ => None,
        }
    }

    /// For a redirect: where the agent pointed (scheme, host and path), if the `Location`
    /// header was seen.
    pub fn redirect_target(&self) -> Option<&str> {
        match self {
            ResponseError::UnexpectedStatus { location, .. } => location.as_deref(),
            _ => None,
        }
    }

    /// True for a 3xx answer: the client follows no redirects.
    pub fn is_redirect(&self) -> bool {
        matches!(self, ResponseError::UnexpectedStatus { status, .. } if status.is_redirection())
    }

    /// The log-stream error, for [`ResponseError::Stream`] and [`ResponseError::PartialStream`].
    pub fn stream_error(&self) -> Option<&StreamError> {
        match self {
            ResponseError::Stream(error) | ResponseError::PartialStream { error, .. } => Some(error),
            _ => None,
        }
    }

    /// The whole lines a buffered log stream held before it broke
    /// ([`ResponseError::PartialStream`]); empty for every other error.
    pub fn partial_lines(&self) -> &[LogLine] {
        match self {
            ResponseError::PartialStream { lines, .. } => lines,
            _ => &[],
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
        at: At<'_>,
        status: StatusCode,
        body: &[u8],
        endpoint: &'static str,
        capability: &'static str,
    ) -> Self {
        let body_text = trimmed_text(body);
        if status == StatusCode::FORBIDDEN && !body_text.ends_with("ACL token not found") {
            return ResponseError::DebugPermissionDenied {
                status,
                body: body_text,
                endpoint,
                capability,
                call: at.call(),
            };
        }
        ResponseError::UnexpectedStatus {
            status,
            body: body_text,
            call: at.call(),
            location: None,
        }
    }

    /// True when the agent does not run the role this endpoint needs: `501 Invalid method`
    /// (e.g. `/v1/agent/servers` on a server-only agent, `/v1/agent/join` on a client-only agent)
    /// or `400 Server only endpoint` (scheduler endpoints on a client-only agent).
    pub fn is_wrong_role(&self) -> bool {
        match self {
            ResponseError::UnexpectedStatus { status, body, .. } => is_wrong_role(*status, body),
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

impl std::error::Error for ResponseError {}

fn is_wrong_role(status: StatusCode, body: &str) -> bool {
    (status == StatusCode::NOT_IMPLEMENTED && body == "Invalid method")
        || (status == StatusCode::BAD_REQUEST && body == "Server only endpoint")
}

/// A body as text: lossy UTF-8, whitespace-trimmed.
fn trimmed_text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).trim().to_owned()
}

fn debug_hint(endpoint: &str, capability: &str) -> String {
    format!(
        "{endpoint} needs `enable_debug = true` in the agent configuration when ACLs are disabled, \
         or an ACL token with {capability} when they are enabled"
    )
}

/// A `Location` value with its query, fragment and `user:password@` removed: `scheme://host/path`
/// for an absolute URL, the path for a relative one.
fn redirect_target(raw: &str) -> String {
    let raw = raw.trim();
    let before_query = raw.find(['?', '#']).map_or(raw, |i| &raw[..i]);
    let (scheme, rest) = match before_query.split_once("//") {
        Some((scheme, rest)) if scheme.is_empty() || scheme.ends_with(':') => (&before_query[..scheme.len() + 2], rest),
        _ => return before_query.to_owned(),
    };
    // As for agent addresses: everything up to the last `@` goes, even past a `/`, so that a
    // password holding a raw `/` does not leak (an `@` in a path is dropped with it: harmless).
    let rest = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
    format!("{scheme}{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_targets_keep_scheme_host_and_path_only() {
        for (raw, shown) in [
            (
                "https://nomad.example:4646/v1/agent/self?token=x#f",
                "https://nomad.example:4646/v1/agent/self",
            ),
            ("http://admin:pw@proxy/ui/", "http://proxy/ui/"),
            ("https://u:ab/c@host/p", "https://host/p"),
            ("/ui/?region=x", "/ui/"),
            ("//other-host/v1", "//other-host/v1"),
            ("ui", "ui"),
        ] {
            assert_eq!(redirect_target(raw), shown, "{raw}");
        }
    }
}
