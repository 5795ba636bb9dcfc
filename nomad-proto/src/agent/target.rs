//! [`Target`]: which agent a call is forwarded to (log streams, host data, profiles).

use crate::error::BuildError;
use crate::request::Spec;

/// Which agent a stream or debug call is forwarded to: the one you talk to, a client node, or a
/// server (by name, or `leader`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Target {
    /// The agent the request is sent to.
    #[default]
    Local,
    /// A client node, by node ID (`node_id=`).
    Node(String),
    /// A server, by name or `leader` (`server_id=`).
    Server(String),
}

impl std::fmt::Display for Target {
    /// `local`, `node <node ID>` or `server <name>`, padded to the formatter's width.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Local => f.pad("local"),
            Target::Node(id) => f.pad(&format!("node {id}")),
            Target::Server(id) => f.pad(&format!("server {id}")),
        }
    }
}

impl Target {
    /// Adds the parameter that forwards the call: `node_id=` or `server_id=` (nothing for
    /// [`Target::Local`]). An empty ID is an error rather than a call to the local agent.
    pub(super) fn apply<'a>(&self, spec: Spec<'a>) -> Result<Spec<'a>, BuildError> {
        Ok(match self {
            Target::Local => spec,
            Target::Node(id) => spec.query("node_id", non_empty("node_id", id)?),
            Target::Server(id) => spec.query("server_id", non_empty("server_id", id)?),
        })
    }
}

/// `value`, unless it is empty or only whitespace: then an invalid-`argument` error.
pub(super) fn non_empty<'s>(argument: &'static str, value: &'s str) -> Result<&'s str, BuildError> {
    if value.trim().is_empty() {
        return Err(BuildError::argument(argument, "must not be empty"));
    }
    Ok(value)
}
