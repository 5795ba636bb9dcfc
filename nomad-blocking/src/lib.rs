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
//! println!("{} in {:?}", me.member.name, me.config.datacenter());
//! let health = client.agent().health()?;
//! if !health.is_healthy() {
//!     eprintln!("unhealthy: {:?}", health.problems());
//! }
//! # Ok::<(), nomad_blocking::Error>(())
//! ```
//!
//! - [`Client`] runs any [`nomad_proto::Endpoint`] with [`Client::call`] (or hands its body over
//!   as a reader with [`Client::open`]), and has a named method per agent endpoint under
//!   [`Client::agent`].
//! - [`Transport`] is implemented by [`UreqTransport`] (rustls, pooled keep-alive connections,
//!   gzip, explicit timeouts and body limit, no redirects, no proxy unless asked) and by any
//!   closure `Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, E>`.
//! - [`Error`] says which side failed: [`Error::Build`], [`Error::Setup`], [`Error::Transport`],
//!   [`Error::Response`], or [`Error::Write`] (the destination of a streamed profile).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use nomad_proto as proto;
pub use nomad_proto::http;
pub use nomad_proto::{Config, ConfigBuilder, WithCallOptions};

mod agent;
mod client;
mod error;
mod stream;
mod transport;

#[cfg(feature = "test-agent")]
pub mod test_agent;

pub use agent::Agent;
pub use client::{Client, ClientBuilder};
pub use error::{Error, SetupError, TimeoutKind, TlsProblem, TransportError, TransportErrorKind};
pub use stream::{LogStream, StopHandle};
pub use transport::{BodyReader, ProxyPolicy, Transport, TransportSettings, UreqTransport};

/// The README's examples, compiled and run as doc tests.
#[cfg(all(doctest, feature = "test-agent"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
