//! What a call is: an operation's facts ([`OperationInfo`], [`Serves`], public as
//! `agent::OperationInfo` and `agent::Serves`) and the call an error answer belongs to
//! ([`Call`], public as `error::Call`, and [`At`], how the response helpers pass it around).
//!
//! The bottom layer of the crate's errors and operations: it imports nothing from the crate.

use std::borrow::Cow;
use std::fmt;

/// Which agents serve an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Serves {
    /// Servers and clients.
    Any,
    /// Server agents only: a client-only agent answers `501 Invalid method` or
    /// `400 Server only endpoint`
    /// ([`ResponseError::is_wrong_role`](crate::ResponseError::is_wrong_role)).
    Server,
    /// Client agents only: a server-only agent answers `501 Invalid method`.
    Client,
}

impl Serves {
    /// `any`, `server` or `client`.
    pub fn as_str(self) -> &'static str {
        match self {
            Serves::Any => "any",
            Serves::Server => "server",
            Serves::Client => "client",
        }
    }
}

impl std::fmt::Display for Serves {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What one operation is on the wire and what the agent requires of it: the facts each
/// operation's documentation states, as values (for error messages, tracing and tooling).
///
/// Every agent operation has one as its `INFO` constant, e.g. [`ListMembers::INFO`](crate::agent::ListMembers::INFO).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct OperationInfo {
    /// The operation type's name, e.g. `ListMembers`.
    pub name: &'static str,
    /// The HTTP method this client sends, e.g. `GET`.
    pub method: &'static str,
    /// The path; `<profile>` stands for a profile name.
    pub path: &'static str,
    /// The ACL capability the agent checks, e.g. `agent:read`, or `none`.
    pub acl: &'static str,
    /// Which agents serve it.
    pub serves: Serves,
    /// True for the streamed log operations (`monitor`, `monitor/export`).
    pub streaming: bool,
}

impl OperationInfo {
    pub(crate) const fn new(
        name: &'static str,
        method: &'static str,
        path: &'static str,
        acl: &'static str,
        serves: Serves,
    ) -> Self {
        OperationInfo {
            name,
            method,
            path,
            acl,
            serves,
            streaming: false,
        }
    }

    pub(crate) const fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }
}

/// The call an error answer belongs to: the operation's [`OperationInfo`] (method, ACL
/// capability, role) and the path that was requested (for a profile, the real one such as
/// `/v1/agent/pprof/heap`, where the info says `/v1/agent/pprof/<profile>`).
///
/// Every operation of [`crate::agent`] attaches one to the errors of its answers
/// ([`ResponseError::call`](crate::ResponseError::call)); an operation written outside this
/// crate has none, and its errors read as before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    info: &'static OperationInfo,
    path: Cow<'static, str>,
}

impl Call {
    /// The operation's facts.
    pub fn info(&self) -> &'static OperationInfo {
        self.info
    }
    /// The HTTP method, e.g. `PUT`.
    pub fn method(&self) -> &'static str {
        self.info.method
    }
    /// The path that was requested, e.g. `/v1/agent/keyring/install`.
    pub fn path(&self) -> &str {
        &self.path
    }
    /// The ACL capability the operation needs, e.g. `agent:write`, or `none`.
    pub fn acl(&self) -> &'static str {
        self.info.acl
    }
    /// Which agents serve the operation.
    pub fn serves(&self) -> Serves {
        self.info.serves
    }
}

impl fmt::Display for Call {
    /// `METHOD path`, e.g. `PUT /v1/agent/keyring/install`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{} {}", self.method(), self.path))
    }
}

/// Where an answer came from, as the response helpers pass it around: an operation's info and
/// the path requested. Becomes a [`Call`] only when an error is built.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    info: Option<&'static OperationInfo>,
    path: &'a str,
}

impl<'a> At<'a> {
    /// An answer to an operation written outside this crate: its errors name no call.
    pub(crate) const NONE: At<'static> = At { info: None, path: "" };

    /// An operation whose path is the one its info states.
    pub(crate) fn op(info: &'static OperationInfo) -> At<'static> {
        At {
            info: Some(info),
            path: info.path,
        }
    }

    /// An operation requested at `path` (a profile's real path).
    pub(crate) fn path(info: &'static OperationInfo, path: &'a str) -> At<'a> {
        At { info: Some(info), path }
    }

    pub(crate) fn call(self) -> Option<Box<Call>> {
        let info = self.info?;
        let path = if self.path == info.path {
            Cow::Borrowed(info.path)
        } else {
            Cow::Owned(self.path.to_owned())
        };
        Some(Box::new(Call { info, path }))
    }
}
