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
//! - Any other Nomad endpoint with the same settings: an [`Endpoint`] of your own built with
//!   [`RequestBuilder`] and [`parse_json`] (example below), or a one-off [`Raw`] call.
//!
//! ## Out of scope
//! Sockets, TLS, timeouts, retries, threads and clocks: see the
//! [`nomad-blocking`](https://docs.rs/nomad-blocking) crate for a ready client over ureq, or bring
//! your own transport.
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
//! ## Cargo features
//! Nothing in the crate does I/O, whatever the features.
//!
//! - `simd` (default): decodes log-stream frames with the `base64-simd` crate, which holds
//!   `unsafe` SIMD code, with the `base64` crate deciding whatever it rejects. Without it the
//!   `base64` crate alone decodes them: the same lines and errors, more slowly (see the
//!   project's `BENCHMARKS.md`).
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
//!
//! ## Any other endpoint
//!
//! An endpoint of your own takes a few lines and gets every setting of the [`Config`], the
//! per-call options and the errors of the crate's operations. `GET /v1/status/leader` (Nomad
//! `command/agent/status_endpoint.go`) answers the leader's RPC address as a JSON string:
//!
//! ```
//! use nomad_proto::http::{Request, Response};
//! use nomad_proto::{parse_json, BuildError, CallOptions, Config, Endpoint, RequestBuilder, ResponseError, WithCallOptions};
//!
//! /// `GET /v1/status/leader`: the RPC address of the region's leader, `""` without one.
//! #[derive(Debug, Default)]
//! struct StatusLeader {
//!     options: CallOptions,
//! }
//!
//! impl Endpoint for StatusLeader {
//!     type Output = String;
//!     fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
//!         RequestBuilder::get("/v1/status/leader", &self.options).build(config)
//!     }
//!     fn parse_response(&self, response: Response<Vec<u8>>) -> Result<String, ResponseError> {
//!         parse_json(response)
//!     }
//! }
//!
//! impl WithCallOptions for StatusLeader {
//!     fn call_options_mut(&mut self) -> &mut CallOptions {
//!         &mut self.options
//!     }
//! }
//!
//! let config = Config::builder().address("http://127.0.0.1:4646").token("s3cr3t").build()?;
//! let op = StatusLeader::default().region("eu-west");
//! let request = op.to_request(&config)?;
//! assert_eq!(request.uri(), "http://127.0.0.1:4646/v1/status/leader?region=eu-west");
//! assert_eq!(request.headers()["x-nomad-token"], "s3cr3t");
//!
//! let response = Response::builder().status(200).body(br#""10.0.0.1:4647""#.to_vec())?;
//! assert_eq!(op.parse_response(response)?, "10.0.0.1:4647");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For a one-off call, [`Raw`] needs no type of your own:
//! `Raw::get("/v1/status/peers").json::<Vec<String>>()` is an [`Endpoint`] too.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Kept by CI's `-D warnings`: every public type has `Debug`, every fallible function says how it
// fails, and a builder's result cannot be dropped by mistake.
#![warn(missing_debug_implementations)]
#![warn(clippy::missing_errors_doc, clippy::return_self_not_must_use)]

pub use http;

pub mod agent;
mod call;
pub mod config;
mod endpoint;
pub mod error;
mod raw;
mod request;
mod send;
pub mod stream;
mod text;

pub use config::{Address, BasicAuth, Config, ConfigBuilder, Secret, SecretBytes, TlsSettings, Token};
pub use endpoint::{
    check_ok, decode_json, parse_empty, parse_json, CallOptions, Endpoint, ExpectedDuration, StreamingResponse,
    WithCallOptions,
};
pub use error::{terminal_safe, BuildError, ResponseError, TerminalSafe};
pub use raw::{Raw, RawBytes, RawJson};
pub use request::RequestBuilder;
pub use send::{send, SendError};

/// This crate's README (what crates.io shows), its examples compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
