//! How a [`ResponseError`] reads: its `Display` (the call, the status, the agent's text
//! escaped and bounded, the fix when it is known) and its `Debug` (escaped and bounded too).

use std::fmt;

use http::StatusCode;

use super::{debug_hint, is_wrong_role, ResponseError};
use crate::call::{Call, Serves};
use crate::text::{floor_char_boundary, Escaped};

/// How much of an error body `Display` shows; the whole (trimmed) body stays available.
const DISPLAY_BODY_LIMIT: usize = 512;
/// How much of the JSON decoder's message `Display` shows (it can quote a whole string value).
const DISPLAY_DECODER_LIMIT: usize = 300;
/// How many body bytes a decode error shows on each side of the position the decoder names.
const DECODE_SNIPPET_RADIUS: usize = 40;
/// How much of a redirect target `Display` shows.
const DISPLAY_LOCATION_LIMIT: usize = 256;

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
            Some(call) => write!(f, "{} {}: ", call.method(), call.path()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_positions_follow_lines_and_columns() {
        let body = b"{\n  \"a\": [\n  ]\n}";
        assert_eq!(byte_position(body, 0, 0), 0);
        assert_eq!(byte_position(body, 1, 1), 0);
        assert_eq!(byte_position(body, 2, 3), 4);
        assert_eq!(byte_position(body, 9, 9), body.len());
    }
}
