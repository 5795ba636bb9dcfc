//! The HTTP plumbing of the test agent (tiny_http): the listener, the serving thread, request
//! recording, and writing replies (gzip, chunked streams, delayed answers).

use std::io::{Read, Write as _};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use super::cluster::ClusterLink;
use super::handlers::handle;
use super::reply::Reply;
use super::{lock, AgentState, RecordedRequest};

/// What the serving thread shares with the [`TestAgent`](super::TestAgent).
pub(super) struct Shared {
    pub(super) state: Mutex<AgentState>,
    pub(super) requests: Mutex<Vec<RecordedRequest>>,
    /// Answer `401` to requests without a token.
    pub(super) require_token: bool,
    /// The cluster whose gossip and raft state this agent shares, if any.
    pub(super) cluster: Option<ClusterLink>,
}

impl Shared {
    /// Runs `f` on the agent's state, with the state its cluster shares brought in before and
    /// written back after (under the cluster's lock, so every member sees one state).
    pub(super) fn with_state<R>(&self, f: impl FnOnce(&mut AgentState) -> R) -> R {
        match &self.cluster {
            None => f(&mut lock(&self.state)),
            Some(link) => link.with_state(&mut lock(&self.state), f),
        }
    }
}

/// Starts the thread that serves `server`'s requests.
pub(super) fn spawn(server: Arc<tiny_http::Server>, shared: Arc<Shared>) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name("nomad-test-agent".into())
        .spawn(move || serve_loop(&server, &shared))
        .expect("spawn test agent thread")
}

/// Answers requests until the server is unblocked (the agent is dropped).
fn serve_loop(server: &tiny_http::Server, shared: &Shared) {
    for mut request in server.incoming_requests() {
        let recorded = record(&mut request);
        lock(&shared.requests).push(recorded.clone());
        let reply = shared.with_state(|state| {
            let reply = if shared.require_token && !has_token(&recorded) {
                Reply::Text(401, "Unauthorized".to_owned())
            } else {
                handle(state, &recorded)
            };
            match state.response_delay {
                Some(delay) => Reply::After(delay, Box::new(reply)),
                None => reply,
            }
        });
        let gzip = recorded
            .header("accept-encoding")
            .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
        match reply {
            // Streams, and answers sent later (a CPU profile records for `seconds`, a slow
            // agent waits), are written from their own thread: the state lock is not held
            // meanwhile and the agent keeps answering.
            reply @ (Reply::Stream { .. } | Reply::After(..)) => {
                std::thread::spawn(move || send(request, reply, gzip));
            }
            reply => {
                let _ = send(request, reply, gzip);
            }
        }
    }
}

/// Sends `reply` to `request`, waiting first if it is to be sent later.
fn send(request: tiny_http::Request, reply: Reply, gzip: bool) -> std::io::Result<()> {
    match reply {
        Reply::After(delay, reply) => {
            std::thread::sleep(delay);
            send(request, *reply, gzip)
        }
        Reply::Stream { content_type, body } => write_stream(request.into_writer(), content_type, body, gzip),
        reply => respond(request, reply, gzip),
    }
}

/// Writes a chunked 200 and flushes every chunk as it is produced, as the agent does (tiny_http's
/// own chunked writer buffers 8 KiB, which would hold back heartbeats). With `gzip` the body is
/// compressed and sync-flushed chunk by chunk, as the agent's gzip handler does.
fn write_stream(
    mut out: Box<dyn std::io::Write + Send>,
    content_type: &str,
    mut body: Box<dyn Read + Send>,
    gzip: bool,
) -> std::io::Result<()> {
    let encoding = if gzip {
        "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
    } else {
        ""
    };
    write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n{encoding}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )?;
    let chunk = |out: &mut Box<dyn std::io::Write + Send>, bytes: &[u8]| -> std::io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        write!(out, "{:x}\r\n", bytes.len())?;
        out.write_all(bytes)?;
        out.write_all(b"\r\n")?;
        out.flush()
    };
    let mut encoder = gzip.then(|| flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = body.read(&mut buf)?;
        if n == 0 {
            break;
        }
        match encoder.as_mut() {
            Some(enc) => {
                enc.write_all(&buf[..n])?;
                enc.flush()?; // sync flush: the client can decode everything sent so far
                chunk(&mut out, enc.get_ref())?;
                enc.get_mut().clear();
            }
            None => chunk(&mut out, &buf[..n])?,
        }
    }
    if let Some(enc) = encoder {
        chunk(&mut out, &enc.finish()?)?;
    }
    out.write_all(b"0\r\n\r\n")?;
    out.flush()
}

/// Whether a request carries a token (`X-Nomad-Token`, or `Authorization: Bearer …`).
fn has_token(request: &RecordedRequest) -> bool {
    let bearer = request.header("authorization").is_some_and(|v| {
        v.split_whitespace()
            .next()
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer"))
    });
    bearer || request.header("x-nomad-token").is_some_and(|t| !t.trim().is_empty())
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

/// Sends a complete (non-streaming) reply, gzipped when the client asked for it.
fn respond(request: tiny_http::Request, reply: Reply, gzip: bool) -> std::io::Result<()> {
    let mut extra_headers = Vec::new();
    let (status, content_type, body, extra): (u16, Option<&str>, Vec<u8>, Option<tiny_http::Header>) = match reply {
        Reply::Json(status, body) => (status, Some("application/json"), body, None),
        Reply::Text(status, text) => (status, Some("text/plain; charset=utf-8"), text.into_bytes(), None),
        Reply::Bytes {
            content_type,
            disposition,
            body,
        } => {
            // The profiler always sends nosniff.
            extra_headers.push(header("X-Content-Type-Options", "nosniff"));
            (
                200,
                Some(content_type),
                body,
                disposition.map(|d| header("Content-Disposition", &d)),
            )
        }
        Reply::Empty => (200, None, Vec::new(), None),
        Reply::NotFound => (404, None, Vec::new(), None),
        Reply::Redirect(status, location) => (status, None, Vec::new(), Some(header("Location", &location))),
        Reply::Stream { .. } | Reply::After(..) => unreachable!("handled by the caller"),
    };
    let mut headers = extra_headers;
    if let Some(ct) = content_type {
        headers.push(header("Content-Type", ct));
    }
    headers.extend(extra);
    let body = if gzip && !body.is_empty() {
        headers.push(header("Content-Encoding", "gzip"));
        headers.push(header("Vary", "Accept-Encoding"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &body)?;
        enc.finish()?
    } else {
        body
    };
    let len = body.len();
    let response = tiny_http::Response::new(status.into(), headers, std::io::Cursor::new(body), Some(len), None);
    request.respond(response)
}

/// The request as the test agent keeps it (the body is read here, up to 64 MiB).
fn record(request: &mut tiny_http::Request) -> RecordedRequest {
    let url = request.url().to_owned();
    let (path, raw_query) = match url.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (url, String::new()),
    };
    let query = form_urlencoded_pairs(&raw_query);
    let headers = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let _ = request.as_reader().take(64 * 1024 * 1024).read_to_end(&mut body);
    RecordedRequest {
        method: request.method().as_str().to_owned(),
        path,
        query,
        raw_query,
        headers,
        body,
    }
}

/// Decodes `a=1&b=x%20y` the way Go's `url.ParseQuery` does (`+` is a space).
fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}
