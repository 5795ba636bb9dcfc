//! `/v1/agent/reload`: re-reads the agent's configuration files.

use http::{Request, Response};

use crate::call::{At, OperationInfo, Serves};
use crate::config::Config;
use crate::endpoint::{call_options, check_status_with_info, parse_empty_at, CallOptions, Endpoint};
use crate::error::{BuildError, ResponseError};
use crate::request::Spec;

/// `PUT /v1/agent/reload`: makes the agent reload its configuration, as `SIGHUP` does.
///
/// ACL: `agent:write`. Any agent (server or client). Success is 200 with an empty body; a failed
/// reload is a 500 whose text is the agent's error ([`ResponseError::UnexpectedStatus`]). Added
/// in Nomad 2.0.3 (Nomad `command/agent/http.go`); older agents, 2.0.0–2.0.2 included, answer
/// 404 ([`ResponseError::is_not_found`]). Go: `Agent().Reload(nil, nil)`.
/// Docs: <https://developer.hashicorp.com/nomad/api-docs/agent#reload-agent>
///
/// ```
/// use nomad_proto::{agent::Reload, Config, Endpoint};
///
/// let op = Reload::new();
/// let req = op.to_request(&Config::default())?;
/// assert_eq!(req.method(), "PUT");
/// assert_eq!(req.uri(), "http://127.0.0.1:4646/v1/agent/reload");
/// assert!(req.body().is_empty());
///
/// let ok = http::Response::builder().status(200).body(Vec::new())?;
/// op.parse_response(ok)?;
/// let failed = http::Response::builder().status(500).body(b"failed to reload TLS config".to_vec())?;
/// assert_eq!(op.parse_response(failed).unwrap_err().message(), Some("failed to reload TLS config"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
#[must_use = "an operation does nothing until it is sent"]
pub struct Reload {
    /// Per-call overrides.
    pub options: CallOptions,
}

impl Reload {
    /// What this operation is on the wire and what the agent requires of it.
    pub const INFO: OperationInfo = OperationInfo::new("Reload", "PUT", "/v1/agent/reload", "agent:write", Serves::Any);

    /// A reload request.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Endpoint for Reload {
    type Output = ();
    fn to_request(&self, config: &Config) -> Result<Request<Vec<u8>>, BuildError> {
        Spec::put("/v1/agent/reload", &self.options).build(config)
    }
    fn parse_response(&self, response: Response<Vec<u8>>) -> Result<(), ResponseError> {
        parse_empty_at(At::op(&Self::INFO), response)
    }
    check_status_with_info!();
}

call_options!(Reload);
