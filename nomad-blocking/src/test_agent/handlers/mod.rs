//! What the test agent answers, one file per endpoint family (as in `nomad_proto::agent`). The
//! behaviour follows Nomad's own handlers (`command/agent/agent_endpoint.go`, v2.0.5).
//!
//! Each family's `route` answers the paths of that family and returns `None` for any other;
//! [`handle`] asks the families in turn. An endpoint added to a family goes into that family's
//! `route`; a new family is a new file plus its line in [`FAMILIES`].

pub(crate) mod health;
pub(crate) mod host;
pub(crate) mod keyring;
pub(crate) mod members;
pub(crate) mod monitor;
pub(crate) mod pprof;
pub(crate) mod reload;
pub(crate) mod schedulers;
pub(crate) mod self_info;
pub(crate) mod status;

use super::reply::Reply;
use super::{AgentState, RecordedRequest};

/// A family's router: its answer to a request for one of its paths, `None` for other paths.
type Route = fn(&mut AgentState, &RecordedRequest) -> Option<Reply>;

/// Every endpoint family.
const FAMILIES: [Route; 10] = [
    members::route,
    self_info::route,
    health::route,
    monitor::route,
    reload::route,
    host::route,
    schedulers::route,
    keyring::route,
    pprof::route,
    status::route,
];

/// The answer to `req`: the UI redirect for `/`, a family's answer, or a 404.
pub(crate) fn handle(state: &mut AgentState, req: &RecordedRequest) -> Reply {
    if req.path == "/" {
        return Reply::Redirect(307, "/ui/".into());
    }
    FAMILIES
        .iter()
        .find_map(|route| route(state, req))
        .unwrap_or(Reply::NotFound)
}
