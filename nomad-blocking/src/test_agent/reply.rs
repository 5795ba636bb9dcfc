//! What a handler answers ([`Reply`]), the answers every endpoint shares, and the request
//! predicates the handlers switch on.

use std::io::Read;

use super::RecordedRequest;

/// What the agent answers.
pub(crate) enum Reply {
    /// 200 (or another status) with compact JSON and `Content-Type: application/json`.
    Json(u16, Vec<u8>),
    /// An error: `text/plain; charset=utf-8`, the bare message, no newline.
    Text(u16, String),
    /// 200 with raw bytes (pprof), optionally with `Content-Disposition`.
    Bytes {
        content_type: &'static str,
        disposition: Option<String>,
        body: Vec<u8>,
    },
    /// 200, empty body, no content type.
    Empty,
    /// 404 with an empty body (unknown path).
    NotFound,
    /// A redirect with a Location header.
    Redirect(u16, String),
    /// Another reply, sent after a delay (CPU profiles and traces record for `seconds`).
    After(std::time::Duration, Box<Reply>),
    /// A streaming 200 body.
    Stream {
        content_type: &'static str,
        body: Box<dyn Read + Send>,
    },
}

/// 200 with `v` as compact JSON.
pub(crate) fn ok_json(v: &impl serde::Serialize) -> Reply {
    Reply::Json(200, serde_json::to_vec(v).expect("json"))
}

/// An error answer: `status` with the plain-text message `msg`.
pub(crate) fn text(status: u16, msg: &str) -> Reply {
    Reply::Text(status, msg.to_owned())
}

/// The endpoint exists, not for this HTTP method.
pub(crate) fn invalid_method() -> Reply {
    text(405, "Invalid method")
}

/// A client-only or server-only endpoint on an agent that does not run that role.
pub(crate) fn wrong_role() -> Reply {
    text(501, "Invalid method")
}

/// A server-only endpoint of the scheduler family on an agent that runs no server.
pub(crate) fn server_only() -> Reply {
    text(400, "Server only endpoint")
}

/// `Ok(v)` → `v`; `Err(reply)` → answer with that reply.
macro_rules! try_reply {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}
pub(crate) use try_reply;

/// A `GET`.
pub(crate) fn is_get(req: &RecordedRequest) -> bool {
    req.method == "GET"
}

/// A `PUT` or `POST` (Nomad's write endpoints take both).
pub(crate) fn is_write(req: &RecordedRequest) -> bool {
    req.method == "PUT" || req.method == "POST"
}
