//! The scripted raw-TCP HTTP server of the end-to-end tests: it runs a test's script on every
//! accepted connection, byte by byte, so a test can answer anything (truncated bodies, silence,
//! resets, endless bodies, keep-alive games).
//!
//! Every server is bounded: it accepts connections only until its test drops it, and never for
//! longer than [`SERVER_LIFETIME`]; each connection gives up reading after
//! [`SERVER_READ_TIMEOUT`] of silence from the client.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A server never accepts connections for longer than this.
pub const SERVER_LIFETIME: Duration = Duration::from_secs(30);

/// How long a connection waits for the client's next bytes before giving up.
pub const SERVER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// One accepted connection, handed to a test's script.
pub struct Conn {
    pub stream: TcpStream,
    /// Bytes read past the end of the last request.
    pending: Vec<u8>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Conn {
    /// Reads one request head (and skips its body). `None` if the client closed the connection
    /// or sent nothing within [`SERVER_READ_TIMEOUT`].
    pub fn read_request(&mut self) -> Option<String> {
        let mut buf = std::mem::take(&mut self.pending);
        let mut chunk = [0u8; 4096];
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > 64 * 1024 {
                return None;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        let body_len = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut rest = buf.split_off(end);
        while rest.len() < body_len {
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => rest.extend_from_slice(&chunk[..n]),
            }
        }
        self.pending = rest.split_off(body_len);
        self.requests.lock().unwrap().push(head.clone());
        Some(head)
    }

    /// Reads whatever the client sends first (for peers that do not speak HTTP, such as a TLS
    /// client). False if it sent nothing.
    pub fn read_some(&mut self) -> bool {
        let mut buf = [0u8; 4096];
        matches!(self.stream.read(&mut buf), Ok(n) if n > 0)
    }

    /// Writes bytes; false once the client went away.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).and_then(|()| self.stream.flush()).is_ok()
    }

    /// Writes `bytes` as one HTTP/1.1 chunk.
    pub fn write_chunk(&mut self, bytes: &[u8]) -> bool {
        let mut chunk = format!("{:x}\r\n", bytes.len()).into_bytes();
        chunk.extend_from_slice(bytes);
        chunk.extend_from_slice(b"\r\n");
        self.write(&chunk)
    }

    /// Keeps the connection open, silent, until the client closes it or `limit` passes.
    pub fn hold_open(mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let mut byte = [0u8; 1];
        while Instant::now() < deadline {
            match self.stream.read(&mut byte) {
                Ok(0) => return,
                Ok(_) => continue,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
                Err(_) => return,
            }
        }
    }
}

/// A loopback server running a script on every accepted connection (each in its own thread);
/// the script gets the connection's index (0 for the first).
pub struct RawServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl RawServer {
    pub fn start(script: impl Fn(usize, Conn) + Send + Sync + 'static) -> RawServer {
        Self::start_on("127.0.0.1:0", script)
    }

    pub fn start_on(bind: &str, script: impl Fn(usize, Conn) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind(bind).expect("bind a loopback port");
        listener.set_nonblocking(true).expect("nonblocking listener");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        let thread = {
            let (requests, connections, stop) = (requests.clone(), connections.clone(), stop.clone());
            std::thread::spawn(move || {
                let deadline = Instant::now() + SERVER_LIFETIME;
                while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let index = connections.fetch_add(1, Ordering::SeqCst);
                            stream.set_nonblocking(false).unwrap();
                            stream.set_read_timeout(Some(SERVER_READ_TIMEOUT)).unwrap();
                            stream.set_write_timeout(Some(SERVER_READ_TIMEOUT)).unwrap();
                            let conn = Conn {
                                stream,
                                pending: Vec::new(),
                                requests: requests.clone(),
                            };
                            let script = script.clone();
                            std::thread::spawn(move || script(index, conn));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        RawServer {
            addr,
            requests,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    /// A server that answers every request on every connection with `response`, keeping each
    /// connection open for more (at most 64 requests on one connection).
    pub fn answer_always(response: impl Into<Vec<u8>>) -> RawServer {
        let response = response.into();
        RawServer::start(move |_, mut conn| {
            for _ in 0..64 {
                if conn.read_request().is_none() || !conn.write(&response) {
                    return;
                }
            }
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request heads received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A complete `200 OK` answer with a JSON body and its length.
pub fn ok_json(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
