//! # nomad-blocking
//!
//! A blocking client for [HashiCorp Nomad](https://www.nomadproject.io/)'s HTTP agent API, built
//! on the sans-IO [`nomad_proto`] crate and [ureq](https://docs.rs/ureq) 3.
//!
//! ```no_run
//! use nomad_blocking::Client;
//!
//! let client = Client::from_env()?; // NOMAD_ADDR, NOMAD_TOKEN, NOMAD_REGION, NOMAD_CACERT, …
//! let me = client.agent().self_info()?;
//! println!("{} in {:?}", me.node_name().unwrap_or("?"), me.datacenter());
//! let health = client.agent().health()?;
//! if !health.is_healthy() {
//!     eprintln!("unhealthy: {:?}", health.problems());
//! }
//! # Ok::<(), nomad_blocking::Error>(())
//! ```
//!
//! - [`Client`] runs any [`nomad_proto::Endpoint`] with [`Client::call`] (or hands its body over
//!   as a reader with [`Client::open`]), and has a named method per agent endpoint under
//!   [`Client::agent`]. It is one type whatever its transport, cheap to clone and `Send + Sync`.
//! - [`Transport`] is implemented by [`UreqTransport`] (rustls, pooled keep-alive connections,
//!   gzip, explicit timeouts and body limit, no redirects, no proxy unless asked) and by any
//!   closure `Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, E>`.
//! - [`Error`] says which side failed: [`Error::Build`], [`Error::Setup`], [`Error::Transport`],
//!   [`Error::Response`], or [`Error::Write`] (the destination of a streamed profile). Its
//!   `Display` states the reason on one line, once.
//! - [`LogStream`] iterates a live log stream; [`Client::stream_for`] ends one cleanly after a
//!   while, however quiet it is.
//! - With the `tracing` feature (on by default), every call is a `nomad_call` span with an event
//!   (operation, method, path, status, duration, sizes), and log streams log their open and end,
//!   all with the target `nomad_blocking`. No token, password, gossip key or query value is ever
//!   recorded, and without a subscriber it costs nothing measurable.
//! - `generate_gossip_key` (feature `keygen`) makes a gossip encryption key from the OS's random
//!   number generator.
//! - The `tls` module (feature `tls`) is the rustls configuration the client connects with
//!   (trusted roots: the configured CA, else the system's, as the `nomad` CLI), public so that
//!   an async client trusts exactly the same.
//!
//! ## Testing your code against a test agent
//!
//! With the `test-agent` feature (in your `[dev-dependencies]`), the
#![cfg_attr(feature = "test-agent", doc = "[`test_agent`](crate::test_agent)")]
#![cfg_attr(
    not(feature = "test-agent"),
    doc = "[`test_agent`](https://docs.rs/nomad-blocking/latest/nomad_blocking/test_agent/)"
)]
//! module has `TestAgent`, a loopback Nomad test double that answers like a real Nomad 2.0 agent
//! (methods, roles, ACLs, the unhealthy-health 500, join warnings, plain-text errors, gzip) over
//! HTTP, HTTPS with mTLS, or a Unix socket, records every request, and lets you change its state
//! while it runs:
//!
//! ```toml
//! [dev-dependencies]
//! nomad-blocking = { version = "0.1", features = ["test-agent"] }
//! ```
//!
#![cfg_attr(feature = "test-agent", doc = "```")]
#![cfg_attr(not(feature = "test-agent"), doc = "```ignore")]
//! use nomad_blocking::test_agent::{Role, TestAgent};
//!
//! let agent = TestAgent::builder().role(Role::Client).acl("root").servers(&[]).start()?;
//! let client = agent.client_with_token("root")?;
//! let health = client.agent().health()?; // a client with no servers is unhealthy
//! assert_eq!(health.problems(), ["client: no known servers"]);
//! assert!(client.agent().join(["10.0.0.4"]).unwrap_err().is_wrong_role()); // 501 on a client
//! assert_eq!(agent.last_request().unwrap().header("x-nomad-token"), Some("root"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A [`Client`] also runs over any closure (see [`Client::with_transport`]), so unit tests of your
//! own code need no server at all.
//!
//! ## Cargo features
//!
//! - `tls` (default): `https://` addresses through rustls (the ring provider), trusting the
//!   configured CA (`NOMAD_CACERT`, `NOMAD_CAPATH`, or PEM in memory) or else the system's roots
//!   (rustls-native-certs) or Mozilla's (webpki-roots), mTLS, `NOMAD_TLS_SERVER_NAME`,
//!   `NOMAD_SKIP_VERIFY`, and the public `tls` module. Pulls in `rustls`, `ring`,
//!   `rustls-native-certs` and `webpki-roots`. Without it nothing of TLS is built: `http://` and
//!   `unix://` work, and an `https://` address is [`SetupError::FeatureDisabled`] when the client
//!   is built.
//! - `gzip` (default): asks the agent for gzip answers and decodes them, as the Go client does.
//!   Pulls in `flate2`.
//! - `tracing` (default): reports each call through the [`tracing`](https://docs.rs/tracing)
//!   crate, never with a token, password or key. Pulls in `tracing` and `tracing-core`.
//! - `keygen` (default): `generate_gossip_key`, from the OS's random number generator. Pulls in
//!   `getrandom`.
//! - `simd` (default): nomad-proto's `simd` feature: SIMD base64 for log-stream frames (the
//!   `base64-simd` crate); without it the `base64` crate alone decodes them, more slowly.
//! - `test-agent`: the `test_agent` module, a loopback Nomad test double for your tests (above);
//!   its HTTPS front needs `tls` too. Pulls in `tiny_http`, `serde`, `serde_json`, `flate2` and
//!   `form_urlencoded`.
//!
//! `default-features = false` is the lean build: plain HTTP and `unix://` Task API sockets, with
//! no TLS, compression, tracing, key generation or SIMD code.
//!
//! On docs.rs, each item that needs a feature is marked with its name.
//!
//! The sans-IO layer underneath, re-exported as [`proto`], is the
//! [`nomad-proto`](https://docs.rs/nomad-proto) crate: use it directly to drive the agent API from
//! another HTTP stack.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(missing_debug_implementations)]
#![deny(clippy::missing_errors_doc, clippy::return_self_not_must_use)]

pub use nomad_proto as proto;
pub use nomad_proto::http;
pub use nomad_proto::{Config, ConfigBuilder, WithCallOptions};

mod agent;
mod client;
mod error;
mod stream;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub mod tls;
mod trace;
mod transport;

#[cfg(feature = "test-agent")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-agent")))]
pub mod test_agent;

#[cfg(feature = "keygen")]
#[cfg_attr(docsrs, doc(cfg(feature = "keygen")))]
pub use agent::generate_gossip_key;
pub use agent::Agent;
pub use client::{Client, ClientBuilder};
pub use error::{Error, SetupError, TimeoutKind, TlsProblem, TransportError, TransportErrorKind};
pub use stream::{LogStream, StopHandle};
pub use transport::{BodyReader, Deadline, ProxyPolicy, Transport, TransportSettings, UreqTransport};

/// This crate's README (what crates.io shows), its examples compiled and run as doc tests. One
/// of them needs the `test-agent` feature.
#[cfg(all(doctest, feature = "test-agent"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
