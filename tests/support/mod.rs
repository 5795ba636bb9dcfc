//! Helpers shared by the workspace's test binaries: tests run in a child process ([`child`]),
//! the scripted raw-TCP server ([`raw_server`]), a throwaway PKI ([`pki`]), a recording HTTP
//! proxy ([`proxy`]), a port that refuses connections, and a raw HTTP exchange with no client
//! library in between.
#![allow(dead_code)] // each test binary uses a different part

pub mod child;
pub mod pki;
pub mod proxy;
pub mod raw_server;

use std::net::{SocketAddr, TcpListener, TcpStream};

/// A loopback port that refuses connections for as long as this value lives.
///
/// The port is the local end of a connected socket that never listens: the kernel answers a
/// connection attempt to it with a reset (`ECONNREFUSED`), and since the socket keeps the port
/// bound, no other test or process can start listening there meanwhile. ("Bind port 0, close,
/// connect" races with anyone who binds the port in between; a listener that never accepts is
/// not a refusal either: the kernel completes the handshake itself.)
pub struct RefusedPort {
    addr: SocketAddr,
    _held: (TcpStream, TcpStream),
}

impl RefusedPort {
    pub fn new() -> RefusedPort {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let near = TcpStream::connect(listener.local_addr().unwrap()).expect("connect to it");
        let (far, _) = listener.accept().expect("accept");
        let addr = near.local_addr().unwrap();
        RefusedPort {
            addr,
            _held: (near, far),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// An HTTP answer as it came off the wire.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: u16,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked (not decompressed).
    pub body: Vec<u8>,
}

impl RawAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 exchange over a fresh TCP connection (`Connection: close`), with no client
/// library in between: what a server really answers to `method path`.
pub fn raw_exchange(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawAnswer {
    use std::io::{Read, Write};
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut all = Vec::new();
    stream.read_to_end(&mut all).expect("read the answer");
    let split = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header block in {:?}", String::from_utf8_lossy(&all)));
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut rest = all[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        rest = dechunk(&rest);
    }
    RawAnswer {
        status,
        headers,
        body: rest,
    }
}

/// The payload of a chunked body.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("a chunk size");
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// Reads one request head from `stream`, a byte at a time so that nothing after the blank line
/// is consumed; false when the connection ends (or fails) first.
pub fn read_head(stream: &mut impl std::io::Read) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            _ => return false,
        }
    }
    true
}
