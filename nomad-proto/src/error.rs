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

use std::borrow::Cow;
use std::fmt;

use http::{HeaderMap, StatusCode};

use crate::agent::{OperationInfo, Serves};
use crate::stream::{floor_char_boundary, LogLine, StreamError};

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

/// How much of an error body `Display` shows; the whole (trimmed) body stays available.
const DISPLAY_BODY_LIMIT: usize = 512;
/// How much of the JSON decoder's message `Display` shows (it can quote a whole string value).
const DISPLAY_DECODER_LIMIT: usize = 300;
/// How many body bytes a decode error shows on each side of the position the decoder names.
const DECODE_SNIPPET_RADIUS: usize = 40;
/// How much of a redirect target `Display` shows.
const DISPLAY_LOCATION_LIMIT: usize = 256;

/// The call an error answer belongs to: the operation's [`OperationInfo`] (method, ACL
/// capability, role) and the path that was requested (for a profile, the real one such as
/// `/v1/agent/pprof/heap`, where the info says `/v1/agent/pprof/<profile>`).
///
/// Every operation of [`crate::agent`] attaches one to the errors of its answers
/// ([`ResponseError::call`]); an operation written outside this crate has none, and its errors
/// read as before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    info: &'static OperationInfo,
    path: Cow<'static, str>,
}

impl Call {
    /// The operation's facts.
    pub fn info(&self) -> &'static OperationInfo {
        self.info
    }
    /// The HTTP method, e.g. `PUT`.
    pub fn method(&self) -> &'static str {
        self.info.method
    }
    /// The path that was requested, e.g. `/v1/agent/keyring/install`.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The ACL capability the operation needs, e.g. `agent:write`, or `none`.
    pub fn acl(&self) -> &'static str {
        self.info.acl
    }
    /// Which agents serve the operation.
    pub fn serves(&self) -> Serves {
        self.info.serves
    }
}

impl fmt::Display for Call {
    /// `METHOD path`, e.g. `PUT /v1/agent/keyring/install`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{} {}", self.method(), self.path))
    }
}

/// Where an answer came from, as the response helpers pass it around: an operation's info and
/// the path requested. Becomes a [`Call`] only when an error is built.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    info: Option<&'static OperationInfo>,
    path: &'a str,
}

impl<'a> At<'a> {
    /// An answer to an operation written outside this crate: its errors name no call.
    pub(crate) const NONE: At<'static> = At { info: None, path: "" };

    /// An operation whose path is the one its info states.
    pub(crate) fn op(info: &'static OperationInfo) -> At<'static> {
        At {
            info: Some(info),
            path: info.path,
        }
    }

    /// An operation requested at `path` (a profile's real path).
    pub(crate) fn path(info: &'static OperationInfo, path: &'a str) -> At<'a> {
        At { info: Some(info), path }
    }

    pub(crate) fn call(self) -> Option<Box<Call>> {
        let info = self.info?;
        let path = if self.path == info.path {
            Cow::Borrowed(info.path)
        } else {
            Cow::Owned(self.path.to_owned())
        };
        Some(Box::new(Call { info, path }))
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

/// Shows server text on one line: control characters, Unicode direction overrides and line
/// separators escaped (as `str`'s `Debug` escapes them: `\u{1b}`, `\n`, `\0`, …), quotes and
/// backslashes as they are. At most `limit` bytes of the text are shown, then `… (N bytes)`.
pub(crate) struct Escaped<'a> {
    text: &'a str,
    limit: usize,
}

impl<'a> Escaped<'a> {
    pub(crate) fn new(text: &'a str, limit: usize) -> Self {
        Escaped { text, limit }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = floor_char_boundary(self.text, self.limit);
        let shown = &self.text[..end];
        // `escape_debug` also escapes `"`, `'` and `\`, which need no escaping here: write the
        // pieces between them escaped and those three as they are.
        let mut rest = shown;
        while let Some(i) = rest.find(['"', '\'', '\\']) {
            write!(f, "{}", rest[..i].escape_debug())?;
            f.write_str(&rest[i..i + 1])?;
            rest = &rest[i + 1..];
        }
        write!(f, "{}", rest.escape_debug())?;
        if end < self.text.len() {
            write!(f, "… ({} bytes)", self.text.len())?;
        }
        Ok(())
    }
}

/// Text that came from the agent (a log line, a member name, a health message), made safe to
/// print on a terminal: control characters, Unicode direction overrides and line separators are
/// escaped (`\u{1b}`, `\n`, `\0`, …, as `str`'s `Debug` escapes them), everything else is shown
/// as it is, so a hostile or broken endpoint cannot write escape sequences into the user's
/// terminal. The errors of this crate escape the agent's text this way already; use this for the
/// rest. Width and alignment are honoured (`{:<16}`).
///
/// ```
/// let name = "nomad-1\u{1b}[2J";
/// assert_eq!(nomad_proto::terminal_safe(name).to_string(), r"nomad-1\u{1b}[2J");
/// assert_eq!(format!("{:<10}|", nomad_proto::terminal_safe("ok")), "ok        |");
/// ```
#[must_use]
pub fn terminal_safe(text: &str) -> TerminalSafe<'_> {
    TerminalSafe(text)
}

/// Agent text shown with its control characters escaped: see [`terminal_safe`].
#[derive(Clone, Copy, Debug)]
pub struct TerminalSafe<'a>(&'a str);

impl fmt::Display for TerminalSafe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped = Escaped::new(self.0, usize::MAX);
        if f.width().is_some() || f.precision().is_some() {
            f.pad(&escaped.to_string())
        } else {
            fmt::Display::fmt(&escaped, f)
        }
    }
}

/// Server text in `Debug` form: quoted and escaped like `str`'s `Debug`, cut at `limit` bytes.
struct DebugText<'a>(&'a str, usize);

impl fmt::Debug for DebugText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = floor_char_boundary(self.0, self.1);
        write!(f, "{:?}", &self.0[..end])?;
        if end < self.0.len() {
            write!(f, "… ({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

/// `METHOD path: ` for a known call.
struct CallPrefix<'a>(Option<&'a Call>);

impl fmt::Display for CallPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(call) => write!(f, "{} {}: ", call.method(), call.path),
            None => Ok(()),
        }
    }
}

/// The decoder's message, escaped and bounded, and the body around the position it names.
struct DecodeReason<'a> {
    source: &'a serde_json::Error,
    body: &'a [u8],
}

impl fmt::Display for DecodeReason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.source.to_string();
        write!(f, "{}", Escaped::new(&message, DISPLAY_DECODER_LIMIT))?;
        let at = byte_position(self.body, self.source.line(), self.source.column());
        let start = at.saturating_sub(DECODE_SNIPPET_RADIUS);
        let end = at.saturating_add(DECODE_SNIPPET_RADIUS).min(self.body.len());
        if start >= end {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.body[start..end]);
        let before = if start > 0 { "…" } else { "" };
        let after = if end < self.body.len() { "…" } else { "" };
        write!(f, "; near `{before}{}{after}`", Escaped::new(&text, usize::MAX))
    }
}

/// The byte offset of serde_json's 1-based `line` and `column` (0 for an error with no
/// position), clamped to the body.
fn byte_position(body: &[u8], line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let line_start = if line == 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', body)
            .nth(line - 2)
            .map_or(body.len(), |i| i + 1)
    };
    line_start.saturating_add(column.saturating_sub(1)).min(body.len())
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::UnexpectedStatus {
                status,
                body,
                call,
                location,
            } => fmt_status(f, *status, body, call.as_deref(), location.as_deref()),
            ResponseError::Decode {
                status,
                source,
                body,
                call,
            } => write!(
                f,
                "{}cannot decode the response body (status {}, {} bytes): {}",
                CallPrefix(call.as_deref()),
                status,
                body.len(),
                DecodeReason { source, body }
            ),
            ResponseError::EmptyBody { status, call } => write!(
                f,
                "{}empty response body where JSON was expected (status {status})",
                CallPrefix(call.as_deref())
            ),
            ResponseError::Stream(error) => write!(f, "{error}"),
            ResponseError::PartialStream { lines, error, call } => write!(
                f,
                "{}the log stream broke after {} whole line{}: {error}",
                CallPrefix(call.as_deref()),
                lines.len(),
                if lines.len() == 1 { "" } else { "s" }
            ),
            ResponseError::JoinFailed { num_joined, message } => write!(
                f,
                "join failed ({num_joined} joined): {}",
                Escaped::new(message, DISPLAY_BODY_LIMIT)
            ),
            ResponseError::DebugPermissionDenied {
                status,
                body,
                endpoint,
                capability,
                call,
            } => {
                match call {
                    Some(call) => write!(f, "{}{} ", CallPrefix(Some(call)), status.as_u16())?,
                    None => write!(f, "unexpected response status {status}: ")?,
                }
                fmt_body(f, *status, body)?;
                let endpoint = call.as_deref().map_or(*endpoint, |c| c.path());
                write!(f, "; {}", debug_hint(endpoint, capability))
            }
            ResponseError::MissingValue { what } => write!(f, "the agent's answer has no {what}"),
        }
    }
}

/// The agent's text, or `(empty body)` with the status's reason phrase.
fn fmt_body(f: &mut fmt::Formatter<'_>, status: StatusCode, body: &str) -> fmt::Result {
    if body.is_empty() {
        match status.canonical_reason() {
            Some(reason) => write!(f, "{reason} (empty body)"),
            None => f.write_str("(empty body)"),
        }
    } else {
        write!(f, "{}", Escaped::new(body, DISPLAY_BODY_LIMIT))
    }
}

/// [`ResponseError::UnexpectedStatus`]: with a call, `METHOD path: <code> <text> (<fix>)`;
/// without one, `unexpected response status <code reason>: <text>`.
fn fmt_status(
    f: &mut fmt::Formatter<'_>,
    status: StatusCode,
    body: &str,
    call: Option<&Call>,
    location: Option<&str>,
) -> fmt::Result {
    if status.is_redirection() {
        match call {
            Some(_) => write!(f, "{}{status}", CallPrefix(call))?,
            None => write!(f, "unexpected response status {status}")?,
        }
        if let Some(location) = location {
            write!(f, " to {}", Escaped::new(location, DISPLAY_LOCATION_LIMIT))?;
        }
        return f.write_str(
            " (the client follows no redirects: use the address the agent answers on as the agent address)",
        );
    }
    let Some(call) = call else {
        write!(f, "unexpected response status {status}: ")?;
        return fmt_body(f, status, body);
    };
    write!(f, "{}{} ", CallPrefix(Some(call)), status.as_u16())?;
    fmt_body(f, status, body)?;
    if status == StatusCode::FORBIDDEN && call.acl() != "none" {
        write!(f, " (needs {})", call.acl())?;
    } else if is_wrong_role(status, body) {
        match call.serves() {
            Serves::Server => f.write_str(" (this agent runs no server; the endpoint needs one)")?,
            Serves::Client => f.write_str(" (this agent runs no client; the endpoint needs one)")?,
            _ => f.write_str(" (this agent does not run the role the endpoint needs)")?,
        }
    }
    Ok(())
}

impl fmt::Debug for ResponseError {
    /// Like a derived `Debug`, with the agent's text escaped and bounded (the bodies can be
    /// large) and a buffered stream's lines counted rather than listed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::UnexpectedStatus {
                status,
                body,
                call,
                location,
            } => f
                .debug_struct("UnexpectedStatus")
                .field("status", status)
                .field("body", &DebugText(body, DISPLAY_BODY_LIMIT))
                .field("call", &call.as_deref().map(ToString::to_string))
                .field(
                    "location",
                    &location.as_deref().map(|l| DebugText(l, DISPLAY_LOCATION_LIMIT)),
                )
                .finish(),
            ResponseError::Decode {
                status,
                source,
                body,
                call,
            } => f
                .debug_struct("Decode")
                .field("status", status)
                .field("source", &DebugText(&source.to_string(), DISPLAY_DECODER_LIMIT))
                .field("body", &DebugText(&String::from_utf8_lossy(body), DISPLAY_BODY_LIMIT))
                .field("call", &call.as_deref().map(ToString::to_string))
                .finish(),
            ResponseError::EmptyBody { status, call } => f
                .debug_struct("EmptyBody")
                .field("status", status)
                .field("call", &call.as_deref().map(ToString::to_string))
                .finish(),
            ResponseError::Stream(error) => f.debug_tuple("Stream").field(error).finish(),
            ResponseError::PartialStream { lines, error, call } => f
                .debug_struct("PartialStream")
                .field("lines", &format_args!("[{} lines]", lines.len()))
                .field("error", error)
                .field("call", &call.as_deref().map(ToString::to_string))
                .finish(),
            ResponseError::JoinFailed { num_joined, message } => f
                .debug_struct("JoinFailed")
                .field("num_joined", num_joined)
                .field("message", &DebugText(message, DISPLAY_BODY_LIMIT))
                .finish(),
            ResponseError::DebugPermissionDenied {
                status,
                body,
                endpoint,
                capability,
                call,
            } => f
                .debug_struct("DebugPermissionDenied")
                .field("status", status)
                .field("body", &DebugText(body, DISPLAY_BODY_LIMIT))
                .field("endpoint", endpoint)
                .field("capability", capability)
                .field("call", &call.as_deref().map(ToString::to_string))
                .finish(),
            ResponseError::MissingValue { what } => f.debug_struct("MissingValue").field("what", what).finish(),
        }
    }
}

impl std::error::Error for ResponseError {}

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

    #[test]
    fn byte_positions_follow_lines_and_columns() {
        let body = b"{\n  \"a\": [\n  ]\n}";
        assert_eq!(byte_position(body, 0, 0), 0);
        assert_eq!(byte_position(body, 1, 1), 0);
        assert_eq!(byte_position(body, 2, 3), 4);
        assert_eq!(byte_position(body, 9, 9), body.len());
    }
}
