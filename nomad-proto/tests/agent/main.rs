//! The agent operations of `nomad_proto::agent`, one module per endpoint family as in
//! `src/agent/`: what goes on the wire, what realistic answers from a Nomad 2.0 agent parse
//! into, and how every error answer looks. Pure function calls on bytes: no sockets.
//!
//! The wire facts are Nomad 2.0.x's: the answers of `command/agent/agent_endpoint.go` and
//! `command/agent/http.go`, the requests of the Go client's `api/agent.go`. Request-building
//! rules shared by every operation are in `request_building.rs`, connection settings in
//! `config.rs`.

mod common;

mod enums;
mod errors;
mod health;
mod host;
mod keyring;
mod members;
mod messages;
mod monitor;
mod pprof;
mod reload;
mod schedulers;
mod self_info;
mod serialize;
mod shapes;
