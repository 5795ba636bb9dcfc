//! Failure modes, end to end: the real ureq-backed `nomad_blocking::Client` against hand-written
//! loopback servers that misbehave byte by byte.
//!
//! Every case must end in a typed, readable error (or a correct result) within a bounded time,
//! with no panic, no hang, and no ACL token in any error text (`Display`, `Debug`, or anything in
//! the `source()` chain). The servers are `support::raw_server`'s, bounded in time; every loop a
//! script runs has a fixed count or a deadline.

mod support;

use std::error::Error as _;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use nomad_blocking::proto::agent::{GetSelf, ListMembers, Monitor, Pprof};
use nomad_blocking::proto::ResponseError;
use nomad_blocking::test_agent::TestAgent;
use nomad_blocking::{Client, Error, TimeoutKind, TransportErrorKind};
use support::raw_server::{ok_json, RawServer, SERVER_LIFETIME};

/// The token every client here sends; it must never show up in an error.
const TOKEN: &str = "s3cr3t-token-value";

const _: () = {
    // Static assertion: one client can be shared by threads and cloned cheaply.
    const fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    assert_send_sync_clone::<Client>();
    assert_send_sync_clone::<nomad_blocking::UreqTransport>();
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn client_for(url: &str) -> Client {
    client_with(url, |b| b)
}

fn client_with(url: &str, f: impl FnOnce(nomad_blocking::ClientBuilder) -> nomad_blocking::ClientBuilder) -> Client {
    let builder = Client::builder()
        .address(url)
        .token(TOKEN)
        .connect_timeout(Some(Duration::from_secs(2)))
        .read_timeout(Some(Duration::from_secs(3)))
        .call_timeout(Some(Duration::from_secs(8)));
    f(builder).build().expect("client builds")
}

/// A server that answers every request on every connection with `response` (keep-alive).
fn answer_always(response: &[u8]) -> RawServer {
    RawServer::answer_always(response)
}

/// Runs `f`, asserts it took less than `limit`, and returns its result.
fn timed<T>(limit: Duration, f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    assert!(elapsed < limit, "took {elapsed:?}, limit {limit:?}");
    (out, elapsed)
}

/// Every text an error can show: Display, alternate Display, Debug, pretty Debug, and the same
/// for each error in its source chain.
fn all_texts(err: &Error) -> Vec<String> {
    let mut texts = vec![
        err.to_string(),
        format!("{err:#}"),
        format!("{err:?}"),
        format!("{err:#?}"),
    ];
    let mut source = err.source();
    while let Some(s) = source {
        texts.push(s.to_string());
        texts.push(format!("{s:?}"));
        source = s.source();
    }
    texts
}

/// The error must be readable and must not contain the token.
fn assert_clean(err: &Error) {
    // Shown with `--nocapture`: what a user would read.
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        chain.push_str(&format!(" <- {s}"));
        source = s.source();
    }
    eprintln!("error: {chain}");
    for text in all_texts(err) {
        assert!(!text.contains(TOKEN), "token leaked in error text: {text}");
    }
    let display = err.to_string();
    assert!(!display.is_empty());
    assert!(
        display.len() < 2048,
        "error Display is {} bytes: {display}",
        display.len()
    );
}

fn transport_kind(err: &Error) -> &TransportErrorKind {
    match err {
        Error::Transport(t) => t.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn members(client: &Client) -> Result<nomad_blocking::proto::agent::ServerMembers, Error> {
    client.call(&ListMembers::new())
}

const MEMBERS_JSON: &str = r#"{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[{"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global"},"Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,"DelegateMin":2,"DelegateMax":5,"DelegateCur":4}]}"#;

// ---------------------------------------------------------------------------------------------
// Broken transfers
// ---------------------------------------------------------------------------------------------

#[test]
fn truncated_body_is_a_protocol_error() {
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() {
            conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"ServerName\":\"nom");
        }
        // Dropping the connection closes it: 982 promised bytes never come.
    });
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
}

#[test]
fn connection_reset_mid_body_is_a_protocol_error() {
    let server = RawServer::start(|_, mut conn| {
        // Read nothing: closing a socket with unread input makes the kernel send a RST. (ureq
        // folds ECONNRESET into "peer disconnected", so the error is the truncation's.)
        let mut first = [0u8; 1];
        let _ = conn.stream.read_exact(&mut first);
        conn.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"ServerName\":",
        );
        std::thread::sleep(Duration::from_millis(200));
        drop(conn);
    });
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
}

#[test]
fn close_right_after_the_headers_is_a_protocol_error() {
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() {
            conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n");
        }
    });
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
}

#[test]
fn close_before_any_response_byte_is_a_protocol_error() {
    let server = RawServer::start(|_, mut conn| {
        let _ = conn.read_request();
    });
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
}

#[test]
fn a_response_that_is_not_http_is_a_protocol_error() {
    for garbage in [
        &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage-that-looks-like-tls",
        b"hello there, this is not HTTP at all\r\n\r\n",
        b"HTTP/1.1 abc Nope\r\n\r\n",
    ] {
        let server = RawServer::start(move |_, mut conn| {
            if conn.read_request().is_some() {
                conn.write(garbage);
            }
        });
        let client = client_for(&server.url());
        let (result, _) = timed(Duration::from_secs(5), || members(&client));
        let err = result.unwrap_err();
        assert_clean(&err);
        assert_eq!(
            transport_kind(&err),
            &TransportErrorKind::Protocol,
            "{:?}: {err:?}",
            String::from_utf8_lossy(garbage)
        );
    }
}

#[test]
fn oversized_response_headers_are_a_protocol_error() {
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() {
            let mut response = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
            response.extend(std::iter::repeat_n(b'a', 256 * 1024));
            response.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n[]");
            conn.write(&response);
        }
    });
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
}

#[test]
fn endless_chunk_size_line_is_a_protocol_error() {
    // A chunked body whose first chunk-size line never ends (a 256 KiB chunk extension): more
    // than ureq's input buffer holds, so the body reader cannot make progress.
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_none() || !conn.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=")
        {
            return;
        }
        let piece = vec![b'x'; 16 * 1024];
        for _ in 0..16 {
            if !conn.write(&piece) {
                return;
            }
        }
        conn.write(b"\r\n[]\r\n0\r\n\r\n");
    });
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// Odd answers
// ---------------------------------------------------------------------------------------------

#[test]
fn html_502_from_a_proxy_is_unexpected_status_with_the_html_kept() {
    let html = format!(
        "<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx/1.25.3</center>\n{}</body>\n</html>\n",
        "<!-- a padding comment to make the page long -->\n".repeat(40)
    );
    let response = format!(
        "HTTP/1.1 502 Bad Gateway\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n{html}",
        html.len()
    );
    let server = answer_always(response.as_bytes());
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(err.status(), Some(502.try_into().unwrap()));
    match err.as_response() {
        Some(ResponseError::UnexpectedStatus { status, body, .. }) => {
            assert_eq!(status.as_u16(), 502);
            assert_eq!(body, html.trim(), "the whole (trimmed) page is kept");
        }
        other => panic!("expected UnexpectedStatus, got {other:?}"),
    }
    let display = err.to_string();
    assert!(display.contains("502"), "{display}");
    assert!(display.contains("502 Bad Gateway"), "{display}");
    assert!(
        display.len() < html.len(),
        "Display is truncated: {} bytes",
        display.len()
    );
    assert!(
        display.contains("bytes)"),
        "Display says how long the body was: {display}"
    );
}

#[test]
fn non_utf8_error_body_is_kept_lossily() {
    let server = answer_always(
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n\r\nbad \xff\xfe\xc3 thing\x80",
    );
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    match err.as_response() {
        Some(ResponseError::UnexpectedStatus { status, body, .. }) => {
            assert_eq!(status.as_u16(), 500);
            assert!(body.starts_with("bad \u{fffd}"), "{body:?}");
            assert!(body.ends_with("thing\u{fffd}"), "{body:?}");
        }
        other => panic!("expected UnexpectedStatus, got {other:?}"),
    }
}

#[test]
fn json_of_the_wrong_shape_is_a_decode_error_keeping_the_body() {
    let body = r#"{"ServerName":["not","a","string"],"Members":7}"#;
    let server = answer_always(&ok_json(body));
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    match err.as_response() {
        Some(ResponseError::Decode { status, body: kept, .. }) => {
            assert_eq!(status.as_u16(), 200);
            assert_eq!(kept, body.as_bytes());
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    // The decoder's message is part of the error's own, with where it failed.
    assert!(
        err.to_string()
            .contains("invalid type: sequence, expected a string at line 1 column 14"),
        "{err}"
    );
}

#[test]
fn empty_200_where_json_is_expected_is_an_empty_body_error() {
    let server = answer_always(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert!(
        matches!(err.as_response(), Some(ResponseError::EmptyBody { status, .. }) if status.as_u16() == 200),
        "{err:?}"
    );
}

#[test]
fn deeply_nested_json_hits_the_recursion_limit_not_the_stack() {
    // 100k `[` as the whole body, and inside the free-form `config` object of /v1/agent/self
    // (a serde_json::Value, which would recurse without serde_json's limit).
    let nested = "[".repeat(100_000);
    let bodies = [
        nested.clone(),
        format!(r#"{{"config":{{"x":{nested}"#),
        format!(r#"{{"stats":{{"nomad":{{"leader":{nested}"#),
        format!(r#"{{"config":{{"x":{}"#, "{\"a\":".repeat(50_000)),
    ];
    for body in bodies {
        let server = answer_always(&ok_json(&body));
        let client = client_for(&server.url());
        // On a thread with a 512 KiB stack (a debug build needs about that for ureq plus serde_json's
        // 128 levels): 100k levels of unbounded recursion would overflow any stack.
        let (result, _) = timed(Duration::from_secs(10), || {
            std::thread::Builder::new()
                .stack_size(512 * 1024)
                .spawn(move || {
                    let members = members(&client).map(|_| ());
                    let me = client.call(&GetSelf::new()).map(|_| ());
                    (members, me)
                })
                .unwrap()
                .join()
                .expect("no stack overflow or panic")
        });
        let (members_err, self_err) = (result.0.unwrap_err(), result.1.unwrap_err());
        for err in [&members_err, &self_err] {
            assert_clean(err);
            match err.as_response() {
                Some(ResponseError::Decode { body: kept, .. }) => assert_eq!(kept.len(), body.len()),
                other => panic!("expected Decode, got {other:?}"),
            }
        }
        if body.starts_with('{') {
            // The nesting sits where AgentSelf keeps free-form JSON: serde_json's limit fired.
            let shown = self_err.to_string();
            assert!(shown.contains("recursion limit exceeded"), "{shown}");
        }
    }
}

#[test]
fn conflicting_content_lengths_are_a_protocol_error() {
    let server = answer_always(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n[]");
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
}

#[test]
fn close_delimited_http_1_0_body_and_interim_100_are_read_correctly() {
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() {
            let mut bytes =
                b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n".to_vec();
            bytes.extend_from_slice(MEMBERS_JSON.as_bytes());
            conn.write(&bytes);
        }
    });
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    assert_eq!(result.expect("a 100 then a close-delimited 200").server_name, "nomad-1");
}

// ---------------------------------------------------------------------------------------------
// Size limits
// ---------------------------------------------------------------------------------------------

#[test]
fn body_far_larger_than_the_limit_is_body_too_large_quickly() {
    const LIMIT: u64 = 64 * 1024;
    let sent = Arc::new(AtomicUsize::new(0));
    let server = {
        let sent = sent.clone();
        RawServer::start(move |_, mut conn| {
            if conn.read_request().is_none() {
                return;
            }
            // Promise 1 GiB, then send it in 64 KiB pieces until the client hangs up.
            if !conn
                .write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n[\"")
            {
                return;
            }
            let piece = vec![b'a'; 64 * 1024];
            for _ in 0..(1 << 14) {
                if !conn.write(&piece) {
                    return;
                }
                sent.fetch_add(piece.len(), Ordering::SeqCst);
            }
        })
    };
    let client = client_with(&server.url(), |b| b.body_limit(LIMIT));
    let (result, elapsed) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(
        transport_kind(&err),
        &TransportErrorKind::BodyTooLarge { limit: LIMIT },
        "{err:?}"
    );
    assert!(err.to_string().contains(&LIMIT.to_string()), "{err}");
    // The client stopped reading early: the server could not push much more than its socket
    // buffers hold beyond the limit.
    std::thread::sleep(Duration::from_millis(200));
    let sent = sent.load(Ordering::SeqCst);
    assert!(sent < 64 * 1024 * 1024, "server pushed {sent} bytes in {elapsed:?}");
}

#[test]
fn chunked_body_larger_than_the_limit_is_body_too_large() {
    const LIMIT: u64 = 16 * 1024;
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_none() || !conn.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") {
            return;
        }
        let chunk = format!("1000\r\n{}\r\n", "b".repeat(0x1000));
        for _ in 0..4096 {
            if !conn.write(chunk.as_bytes()) {
                return;
            }
        }
        conn.write(b"0\r\n\r\n");
    });
    let client = client_with(&server.url(), |b| b.body_limit(LIMIT));
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(
        transport_kind(&err),
        &TransportErrorKind::BodyTooLarge { limit: LIMIT },
        "{err:?}"
    );
}

#[test]
fn small_gzip_body_inflating_past_the_limit_is_body_too_large() {
    const LIMIT: u64 = 1024 * 1024;
    // 64 MiB of spaces compress to about 64 KiB.
    let gz = {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = vec![b' '; 1024 * 1024];
        for _ in 0..64 {
            enc.write_all(&block).unwrap();
        }
        enc.finish().unwrap()
    };
    assert!(gz.len() < 256 * 1024, "compressed to {} bytes", gz.len());
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    response.extend_from_slice(&gz);
    let server = answer_always(&response);
    let client = client_with(&server.url(), |b| b.body_limit(LIMIT));
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(
        transport_kind(&err),
        &TransportErrorKind::BodyTooLarge { limit: LIMIT },
        "{err:?}"
    );
    assert!(server.requests()[0]
        .to_ascii_lowercase()
        .contains("accept-encoding: gzip"));
}

#[test]
fn corrupt_gzip_body_is_a_protocol_error() {
    let server = answer_always(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 12\r\n\r\nnot gzip!!!!",
    );
    let client = client_for(&server.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
}

/// A 200 answer to `ListServers` whose body is `["10.0.0.1:4647"]` padded with spaces to exactly
/// `len` bytes, sent as is or gzip-compressed.
fn servers_answer_of(len: usize, gzip: bool) -> Vec<u8> {
    let mut body = br#"["10.0.0.1:4647"]"#.to_vec();
    body.resize(len, b' ');
    let (encoding, body) = if gzip {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&body).unwrap();
        ("Content-Encoding: gzip\r\n", enc.finish().unwrap())
    } else {
        ("", body)
    };
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{encoding}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
}

#[test]
fn a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_body_too_large() {
    const LIMIT: u64 = 1024;
    for gzip in [false, true] {
        for len in [LIMIT - 1, LIMIT, LIMIT + 1] {
            let server = answer_always(&servers_answer_of(len as usize, gzip));
            let client = client_with(&server.url(), |b| b.body_limit(LIMIT));
            let (result, _) = timed(Duration::from_secs(5), || client.agent().servers());
            let case = format!("{len} bytes, gzip {gzip}");
            if len <= LIMIT {
                assert_eq!(result.expect(&case), ["10.0.0.1:4647"], "{case}");
            } else {
                let err = result.expect_err(&case);
                assert_clean(&err);
                assert_eq!(
                    transport_kind(&err),
                    &TransportErrorKind::BodyTooLarge { limit: LIMIT },
                    "{case}: {err:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------------

/// Sends headers announcing a 60-byte body, then one body byte per second (at most 60).
fn drip_server() -> RawServer {
    RawServer::start(|_, mut conn| {
        if conn.read_request().is_none()
            || !conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n")
        {
            return;
        }
        for _ in 0..60 {
            if !conn.write(b" ") {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    })
}

#[test]
fn dripping_server_trips_the_per_read_timeout() {
    let server = drip_server();
    let client = client_with(&server.url(), |b| {
        b.read_timeout(Some(Duration::from_millis(400)))
            .call_timeout(Some(Duration::from_secs(30)))
    });
    let (result, elapsed) = timed(Duration::from_secs(4), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(
        transport_kind(&err),
        &TransportErrorKind::Timeout(TimeoutKind::Read),
        "{err:?}"
    );
    assert!(elapsed >= Duration::from_millis(400), "{elapsed:?}");
}

#[test]
fn dripping_server_trips_the_call_timeout_when_reads_may_wait_long() {
    let server = drip_server();
    let client = client_with(&server.url(), |b| {
        b.read_timeout(Some(Duration::from_secs(20)))
            .call_timeout(Some(Duration::from_millis(2500)))
    });
    let (result, elapsed) = timed(Duration::from_secs(6), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(
        transport_kind(&err),
        &TransportErrorKind::Timeout(TimeoutKind::Call),
        "{err:?}"
    );
    assert!(elapsed >= Duration::from_millis(2400), "{elapsed:?}");
}

#[test]
fn server_that_never_answers_trips_the_read_timeout() {
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() {
            conn.hold_open(SERVER_LIFETIME);
        }
    });
    let client = client_with(&server.url(), |b| b.read_timeout(Some(Duration::from_millis(500))));
    let (result, elapsed) = timed(Duration::from_secs(10), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(
        transport_kind(&err),
        &TransportErrorKind::Timeout(TimeoutKind::Read),
        "{err:?}"
    );
    assert!(elapsed >= Duration::from_millis(500), "{elapsed:?}");
}

// ---------------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------------

#[test]
fn redirect_to_ui_is_not_followed_and_is_unexpected_status() {
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let response = format!(
            "HTTP/1.1 {status}\r\nLocation: /ui/\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\n\r\n"
        );
        let server = answer_always(response.as_bytes());
        let client = client_for(&server.url());
        let (result, _) = timed(Duration::from_secs(5), || client.call(&GetSelf::new()));
        let err = result.unwrap_err();
        assert_clean(&err);
        match err.as_response() {
            Some(ResponseError::UnexpectedStatus { status: got, body, .. }) => {
                assert_eq!(got.as_u16().to_string(), status[..3]);
                assert!(body.is_empty());
            }
            other => panic!("{status}: expected UnexpectedStatus, got {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(100));
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{status}: the redirect was followed: {requests:#?}");
        assert!(requests[0].starts_with("GET /v1/agent/self "), "{}", requests[0]);
    }
}

#[test]
fn redirect_to_another_host_is_not_followed_and_the_token_stays_home() {
    // The second host: 127.0.0.2 is loopback too. It must never see a connection.
    let other = RawServer::start_on("127.0.0.2:0", |_, mut conn| {
        let _ = conn.read_request();
        conn.write(&ok_json(MEMBERS_JSON));
    });
    let location = format!("http://{}/v1/agent/members", other.addr);
    let response = format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
    let agent = answer_always(response.as_bytes());
    let client = client_for(&agent.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    match err.as_response() {
        Some(ResponseError::UnexpectedStatus { status, .. }) => assert_eq!(status.as_u16(), 307),
        other => panic!("expected UnexpectedStatus for the 307, got {other:?}"),
    }
    // Same with a body on the redirect, and with a PUT.
    let (result, _) = timed(Duration::from_secs(5), || {
        client.call(&nomad_blocking::proto::agent::Join::new(["10.0.0.9"]))
    });
    assert_eq!(result.unwrap_err().status().map(|s| s.as_u16()), Some(307));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(other.connections(), 0, "the other host was contacted");
    assert!(other.requests().is_empty());
    assert_eq!(agent.requests().len(), 2);
    assert!(
        agent.requests()[0].contains(TOKEN),
        "sanity: the agent itself does get the token"
    );
}

// ---------------------------------------------------------------------------------------------
// Connection reuse
// ---------------------------------------------------------------------------------------------

#[test]
fn pooled_connection_closed_by_the_server_between_calls_is_replaced() {
    // The server answers one request per connection with keep-alive headers, then closes:
    // the client's pooled connection is dead when the second call starts.
    let (closed_tx, closed_rx) = mpsc::channel();
    let closed_tx = Mutex::new(closed_tx);
    let server = RawServer::start(move |index, mut conn| {
        if conn.read_request().is_some() {
            let body = MEMBERS_JSON.replace("nomad-1", &format!("conn-{index}"));
            conn.write(&ok_json(&body));
        }
        drop(conn);
        let _ = closed_tx.lock().unwrap().send(index);
    });
    let client = client_for(&server.url());
    let first = members(&client).expect("first call");
    assert_eq!(first.server_name, "conn-0");
    assert_eq!(
        closed_rx.recv_timeout(Duration::from_secs(5)),
        Ok(0),
        "the server closed"
    );
    let (second, _) = timed(Duration::from_secs(5), || members(&client));
    let second = second.expect("ureq probes pooled connections and dials a new one");
    assert_eq!(second.server_name, "conn-1", "fresh data from a fresh connection");
    assert_eq!(server.connections(), 2);
}

#[test]
fn pooled_connection_dropped_after_reading_the_next_request_is_a_clear_error() {
    // The keep-alive race: the server takes the second request on the pooled connection and
    // closes without answering. The client does not replay the request behind the caller's
    // back (it may not be idempotent): the call fails, and the error says what happened.
    let server = RawServer::start(|index, mut conn| {
        if index > 0 {
            // A replay on a new connection would get fresh data.
            if conn.read_request().is_some() {
                conn.write(&ok_json(&MEMBERS_JSON.replace("nomad-1", "replayed")));
            }
            return;
        }
        if conn.read_request().is_some() {
            conn.write(&ok_json(MEMBERS_JSON));
        }
        let _ = conn.read_request();
    });
    let client = client_for(&server.url());
    assert_eq!(members(&client).expect("first call").server_name, "nomad-1");
    let (second, _) = timed(Duration::from_secs(5), || members(&client));
    let err = second.expect_err("the dropped request fails");
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Protocol, "{err:?}");
    assert_eq!(server.requests().len(), 2, "both requests reached the server once");
    assert_eq!(server.connections(), 1, "no replay on a new connection");
}

#[test]
fn extra_bytes_after_a_response_are_never_served_as_the_next_answer() {
    // The first response is followed by a complete second response nobody asked for. The
    // client must not hand it out as the answer to its next call.
    let server = RawServer::start(|index, mut conn| {
        if conn.read_request().is_none() {
            return;
        }
        let stale = MEMBERS_JSON.replace("nomad-1", "stale");
        let mut bytes = ok_json(&MEMBERS_JSON.replace("nomad-1", &format!("conn-{index}")));
        bytes.extend(ok_json(&stale));
        conn.write(&bytes);
        for _ in 0..4 {
            if conn.read_request().is_none() {
                return;
            }
            conn.write(&ok_json(&stale));
        }
    });
    let client = client_for(&server.url());
    assert_eq!(members(&client).unwrap().server_name, "conn-0");
    std::thread::sleep(Duration::from_millis(50));
    let second = members(&client).unwrap();
    assert_eq!(second.server_name, "conn-1", "a new connection, not the unread bytes");
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[test]
fn one_client_shared_by_16_threads_gets_correct_results() {
    let agent = TestAgent::start().expect("test agent");
    let client = client_with(agent.url(), |b| b);
    let expected_members = client.agent().members().unwrap();
    let expected_self = client.agent().self_info().unwrap();
    let expected_servers = client.agent().servers().unwrap();
    let expected_health = client.agent().health().unwrap();
    assert!(expected_health.is_healthy());

    let barrier = Arc::new(std::sync::Barrier::new(16));
    let (_, _) = timed(Duration::from_secs(30), || {
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let client = client.clone();
                let barrier = barrier.clone();
                let (m, s, sv, h) = (
                    expected_members.clone(),
                    expected_self.clone(),
                    expected_servers.clone(),
                    expected_health.clone(),
                );
                std::thread::spawn(move || {
                    barrier.wait();
                    for round in 0..10 {
                        match (i + round) % 4 {
                            0 => assert_eq!(client.agent().members().unwrap(), m),
                            1 => assert_eq!(client.agent().self_info().unwrap(), s),
                            2 => assert_eq!(client.agent().servers().unwrap(), sv),
                            _ => assert_eq!(client.agent().health().unwrap(), h),
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("no thread panicked");
        }
    });
    // 4 warm-up calls + 16 × 10.
    assert_eq!(agent.requests().len(), 4 + 160);
}

// ---------------------------------------------------------------------------------------------
// Refused connections
// ---------------------------------------------------------------------------------------------

#[test]
fn refused_connection_is_a_connect_error() {
    let refused = support::RefusedPort::new();
    let client = client_for(&refused.url());
    let (result, _) = timed(Duration::from_secs(5), || members(&client));
    let err = result.unwrap_err();
    assert_clean(&err);
    assert_eq!(transport_kind(&err), &TransportErrorKind::Connect, "{err:?}");
    assert!(!err.is_timeout());
    assert_eq!(err.status(), None);
    assert!(
        err.to_string().contains(&refused.addr().to_string()),
        "names the agent: {err}"
    );
}

// ---------------------------------------------------------------------------------------------
// Streamed bodies (log streams, profiles written to a destination)
// ---------------------------------------------------------------------------------------------

/// Runs `f` on its own thread and returns its result, failing the test if it takes longer than
/// `limit` (a hang must fail the test, not block the run).
fn within<T: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out,
        Err(_) => panic!("{what}: no result within {limit:?}"),
    }
}

const CHUNKED_JSON_200: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

/// One monitor frame: `hello\n`.
const HELLO_FRAME: &[u8] = br#"{"Data":"aGVsbG8K","FileEvent":"log"}"#;

fn transport_error(err: &Error) -> &nomad_blocking::TransportError {
    err.as_transport()
        .unwrap_or_else(|| panic!("expected a transport error, got {err:?}"))
}

#[test]
fn a_framed_log_stream_that_goes_silent_ends_in_a_read_timeout_naming_the_agent() {
    // A framed stream has a heartbeat every second, so silence means a dead agent: the read
    // timeout must fire (not a hang), and the error must still say which agent and why.
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() && conn.write(CHUNKED_JSON_200) && conn.write_chunk(HELLO_FRAME) {
            conn.hold_open(SERVER_LIFETIME);
        }
    });
    let client = client_with(&server.url(), |b| b.read_timeout(Some(Duration::from_millis(700))));
    let started = Instant::now();
    let items = within(Duration::from_secs(10), "a silent framed stream", move || {
        let stream = client.agent().monitor(&Monitor::new()).expect("the stream opens");
        stream.collect::<Vec<_>>()
    });
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().expect("the line before the silence").text, "hello");
    let err = items[1].as_ref().unwrap_err();
    assert_clean(err);
    let transport = transport_error(err);
    assert_eq!(
        transport.kind(),
        &TransportErrorKind::Timeout(TimeoutKind::Read),
        "{err:?}"
    );
    assert_eq!(transport.agent(), Some(server.url().as_str()), "{err:?}");
    assert!(err.is_timeout());
}

#[test]
fn a_profile_download_that_goes_silent_ends_in_a_read_timeout_naming_the_agent() {
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some()
            && conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4096\r\n\r\n")
            && conn.write(&[0x1f; 1024])
        {
            conn.hold_open(SERVER_LIFETIME);
        }
    });
    let client = client_with(&server.url(), |b| b.read_timeout(Some(Duration::from_millis(700))));
    let result = within(Duration::from_secs(10), "a silent profile download", move || {
        let mut out = Vec::new();
        client
            .agent()
            .write_profile(&Pprof::lookup("heap"), &mut out)
            .map(|n| (n, out))
    });
    let err = result.unwrap_err();
    assert_clean(&err);
    let transport = transport_error(&err);
    assert_eq!(
        transport.kind(),
        &TransportErrorKind::Timeout(TimeoutKind::Read),
        "{err:?}"
    );
    assert_eq!(transport.agent(), Some(server.url().as_str()), "{err:?}");
}

#[test]
fn a_log_stream_reset_mid_body_is_a_protocol_error_naming_the_agent() {
    let server = RawServer::start(|_, mut conn| {
        // Read only part of the request: closing a socket with unread input sends a reset.
        let mut first = [0u8; 1];
        if conn.stream.read_exact(&mut first).is_ok() && conn.write(CHUNKED_JSON_200) && conn.write_chunk(HELLO_FRAME) {
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let client = client_for(&server.url());
    let items = within(Duration::from_secs(10), "a reset stream", move || {
        client
            .agent()
            .monitor(&Monitor::new())
            .expect("the stream opens")
            .collect::<Vec<_>>()
    });
    assert_eq!(items[0].as_ref().expect("the line before the reset").text, "hello");
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_clean(err);
    let transport = transport_error(err);
    assert_eq!(transport.kind(), &TransportErrorKind::Protocol, "{err:?}");
    assert_eq!(transport.agent(), Some(server.url().as_str()), "{err:?}");
}

#[test]
fn a_log_stream_cut_mid_frame_is_a_stream_error_after_the_lines_before_it() {
    // A complete frame, then half a frame, then the end of the chunked body.
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() && conn.write(CHUNKED_JSON_200) {
            conn.write_chunk(br#"{"Data":"aGVsbG8K","FileEvent":"log"}{"Data":"aGVs"#);
            conn.write(b"0\r\n\r\n");
        }
    });
    let client = client_for(&server.url());
    let items = within(Duration::from_secs(10), "a stream cut mid-frame", move || {
        client
            .agent()
            .monitor(&Monitor::new())
            .expect("the stream opens")
            .collect::<Vec<_>>()
    });
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().expect("the complete frame's line").text, "hello");
    let err = items[1].as_ref().unwrap_err();
    assert_clean(err);
    assert!(matches!(err, Error::Response(ResponseError::Stream(_))), "{err:?}");
}

#[test]
fn a_log_stream_whose_connection_drops_without_the_final_chunk_is_a_protocol_error() {
    let server = RawServer::start(|_, mut conn| {
        if conn.read_request().is_some() && conn.write(CHUNKED_JSON_200) {
            conn.write_chunk(HELLO_FRAME);
        }
        // No terminating chunk: the connection just closes.
    });
    let client = client_for(&server.url());
    let items = within(Duration::from_secs(10), "a stream without its final chunk", move || {
        client
            .agent()
            .monitor(&Monitor::new())
            .expect("the stream opens")
            .collect::<Vec<_>>()
    });
    assert_eq!(items[0].as_ref().expect("the line before the cut").text, "hello");
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_clean(err);
    let transport = transport_error(err);
    assert_eq!(transport.kind(), &TransportErrorKind::Protocol, "{err:?}");
    assert_eq!(transport.agent(), Some(server.url().as_str()), "{err:?}");
}

/// A server answering `head` and then an endless chunked body of `Permission denied` lines,
/// until the client hangs up (at most `SERVER_LIFETIME`). Returns how many body bytes it sent.
fn endless_error_server(head: &'static [u8]) -> (RawServer, Arc<AtomicUsize>) {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = RawServer::start(move |_, mut conn| {
        if conn.read_request().is_none() || !conn.write(head) {
            return;
        }
        let piece = "Permission denied\n".repeat(1024);
        let deadline = Instant::now() + SERVER_LIFETIME;
        while Instant::now() < deadline && conn.write_chunk(piece.as_bytes()) {
            counter.fetch_add(piece.len(), Ordering::SeqCst);
        }
    });
    (server, sent)
}

/// The bound on the error body of a refused stream or profile download.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

fn assert_bounded_403(err: &Error) {
    assert_clean(err);
    assert!(err.is_permission_denied(), "{err:?}");
    let message = err.as_response().and_then(ResponseError::message).unwrap();
    assert!(message.starts_with("Permission denied"), "{}", &message[..64]);
    assert!(
        message.len() <= ERROR_BODY_LIMIT,
        "the error keeps {} bytes of an endless body",
        message.len()
    );
}

#[test]
fn an_endless_error_answer_to_a_log_stream_is_read_only_up_to_its_bound() {
    let (server, sent) = endless_error_server(
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let client = client_for(&server.url());
    let err = within(
        Duration::from_secs(10),
        "monitor answered by an endless 403",
        move || client.agent().monitor(&Monitor::new()).unwrap_err(),
    );
    assert_bounded_403(&err);
    // The client hung up after the bound: the server could not push much more than its socket
    // buffers hold.
    std::thread::sleep(Duration::from_millis(200));
    let sent = sent.load(Ordering::SeqCst);
    assert!(sent < 64 * 1024 * 1024, "the server pushed {sent} bytes");
}

#[test]
fn an_endless_error_answer_to_a_profile_download_is_read_only_up_to_its_bound() {
    let (server, _) = endless_error_server(
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let client = client_for(&server.url());
    let (err, out) = within(
        Duration::from_secs(10),
        "a profile answered by an endless 403",
        move || {
            let mut out = Vec::new();
            let err = client
                .agent()
                .write_profile(&Pprof::lookup("heap"), &mut out)
                .unwrap_err();
            (err, out)
        },
    );
    assert_bounded_403(&err);
    assert!(
        out.is_empty(),
        "nothing of an error answer is written to the destination"
    );
}
