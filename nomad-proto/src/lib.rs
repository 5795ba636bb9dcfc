//! # nomad-proto
//!
//! A sans-IO protocol layer for [HashiCorp Nomad](https://www.nomadproject.io/)'s HTTP agent API
//! (`/v1/agent/*`). Each operation is a value implementing [`Endpoint`]: it builds an
//! [`http::Request<Vec<u8>>`](http::Request) with an absolute URI and parses an
//! [`http::Response<Vec<u8>>`](http::Response) into a typed result. Send the request with any HTTP
//! stack you like (async or blocking), or test your code against hand-made responses.
//!
//! ## In scope
//! - Connection settings ([`Config`]) built explicitly or read from the `NOMAD_*` environment
//!   through an injectable lookup, with the precedence explicit > environment > default.
//! - Request building: URI, query (percent-encoded, repeated parameters kept repeated), headers
//!   (the ACL token exactly once as `X-Nomad-Token`), JSON bodies.
//! - Response parsing into typed values, and typed errors ([`BuildError`], [`ResponseError`]) that
//!   keep the status and body of anything unexpected.
//! - Result types that serialize back to the agent's JSON (for `-json` output), with the
//!   normalisations each type documents; gossip keys only on request
//!   ([`KeyringResponse::exposing_keys`](agent::KeyringResponse::exposing_keys)).
//! - An incremental decoder for the agent's log streams ([`stream`]).
//!
//! ## Out of scope
//! Sockets, TLS, timeouts, retries, threads and clocks: see the
//! [`nomad-blocking`](https://docs.rs/nomad-blocking) crate for a ready client over ureq, or bring
//! your own transport.
//!
//! ## Cargo features
//! None: everything is always there, and nothing does I/O.
//!
//! ## Your own transport
//! [`send`] runs an operation through any `FnOnce(http::Request<Vec<u8>>) ->
//! Result<http::Response<Vec<u8>>, E>` and tells a build, transport or response failure apart
//! ([`SendError`]). A transport adds the `Host` header (requests carry an absolute URI and no
//! `Host`); may send `Accept-Encoding`, and must then decode gzip itself; connects to
//! [`Address::host`] and [`Address::port`] (80 or 443 when the address names no port), or to
//! the socket of a `unix://` address, whose request URIs say `http://127.0.0.1`; and reads the
//! chunked bodies of the log streams incrementally with [`stream::LogDecoder`] rather than
//! buffering them. [`send`]'s docs list it all.
//!
//! ## Errors
//! Every error's `Display` says why on one line, once (no error repeats its reason through
//! `source()`), and text from the agent is shown with its control characters escaped: see
//! [`error`].
//!
//! ## Example
//! ```
//! use nomad_proto::{agent::ListMembers, Config, Endpoint, WithCallOptions};
//!
//! let config = Config::builder().address("http://127.0.0.1:4646").token("s3cr3t").build()?;
//! let op = ListMembers::new().region("eu-west");
//! let req = op.to_request(&config)?;
//! assert_eq!(req.method(), "GET");
//! assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/members?region=eu-west");
//! assert_eq!(req.headers()["x-nomad-token"], "s3cr3t");
//!
//! let body = br#"{"ServerName":"nomad-1","ServerRegion":"global","ServerDC":"dc1","Members":[
//!   {"Name":"nomad-1.global","Addr":"10.0.0.1","Port":4648,"Tags":{"role":"nomad","region":"global"},
//!    "Status":"alive","ProtocolMin":1,"ProtocolMax":5,"ProtocolCur":2,
//!    "DelegateMin":2,"DelegateMax":5,"DelegateCur":4}]}"#;
//! let resp = http::Response::builder().status(200).body(body.to_vec())?;
//! let members = op.parse_response(resp)?;
//! assert_eq!(members.members[0].node_name(), "nomad-1");
//! assert_eq!(members.members[0].name, "nomad-1.global");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Kept by CI's `-D warnings`: every public type has `Debug`, every fallible function says how it
// fails, and a builder's result cannot be dropped by mistake.
#![warn(missing_debug_implementations)]
#![warn(clippy::missing_errors_doc, clippy::return_self_not_must_use)]

pub use http;

pub mod agent;
pub mod config;
mod endpoint;
pub mod error;
mod send;
pub mod stream;

pub use config::{Address, BasicAuth, Config, ConfigBuilder, Secret, TlsSettings, Token};
pub use endpoint::{CallOptions, Endpoint, ExpectedDuration, StreamingResponse, WithCallOptions};
pub use error::{BuildError, ResponseError};
pub use send::{send, SendError};

/// This crate's README (what crates.io shows), its examples compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
