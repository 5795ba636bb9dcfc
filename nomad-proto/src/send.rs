//! Running an operation through a transport of your own: [`send`] and its error, [`SendError`].
//!
//! nomad-proto builds [`http::Request`]s and parses [`http::Response`]s; [`send`] joins the two
//! around any function that turns one into the other, and says which side failed.

use std::fmt;

use http::{Request, Response};

use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::error::{BuildError, ResponseError};
#[cfg(doc)]
use crate::Address;

/// Builds `op`'s request for `config`, hands it to `transport`, and parses the answer.
///
/// # What a transport must do
///
/// - **Connect** to [`Address::host`] and [`Address::port`] of [`Config::address`] (the port
///   defaults to 80 for `http` and 443 for `https` when the address names none), with TLS for
///   an `https` address ([`Address::is_tls`], [`Config::tls`]). For a `unix://` address, connect
///   to the socket at [`Address::socket_path`]: the request URIs then say `http://127.0.0.1`,
///   as Nomad's Go client does.
/// - **Add `Host`**: the requests carry an absolute URI but no `Host` header (HTTP/1.1 requires
///   one; take it from the URI's authority).
/// - **`Accept-Encoding` is optional.** The agent compresses any answer when the request asks
///   for it, so a transport that sends `Accept-Encoding: gzip` must decode gzip (and `deflate`
///   if it names it) before handing the body back. Sending none is always safe.
/// - **Stream the log operations.** [`Monitor`](crate::agent::Monitor) and
///   [`MonitorExport`](crate::agent::MonitorExport) requests carry a
///   [`StreamingResponse`](crate::StreamingResponse) extension: the agent answers with a chunked
///   body that lasts as long as the stream, so a transport should not buffer it through
///   [`send`]. Check the status with [`Endpoint::check_status`] and feed the body to a
///   [`LogDecoder`](crate::stream::LogDecoder) as it arrives. Likewise a long profile
///   ([`ExpectedDuration`](crate::ExpectedDuration)) needs a longer timeout.
/// - Follow no redirects: a 3xx comes back as [`ResponseError::UnexpectedStatus`] saying where
///   it pointed.
///
/// ```
/// use nomad_proto::agent::ListServers;
/// use nomad_proto::{send, Config, SendError};
///
/// let config = Config::builder().address("http://10.0.0.5:4646").build()?;
/// // Any function from a request to a response is a transport: here, a canned agent.
/// let servers = send(&ListServers::new(), &config, |request: http::Request<Vec<u8>>| {
///     assert_eq!(request.uri(), "http://10.0.0.5:4646/v1/agent/servers");
///     http::Response::builder().status(200).body(br#"["10.0.0.5:4647"]"#.to_vec())
/// })?;
/// assert_eq!(servers, ["10.0.0.5:4647"]);
///
/// // A transport failure is told apart from what the agent answered.
/// let err = send(&ListServers::new(), &config, |_| {
///     Err(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused"))
/// })
/// .unwrap_err();
/// assert!(matches!(err, SendError::Transport(_)));
/// assert_eq!(err.to_string(), "transport: connection refused");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`SendError::Build`] when the request cannot be built (nothing is sent),
/// [`SendError::Transport`] with the transport's error, [`SendError::Response`] when the answer
/// is not what the operation expects.
pub fn send<O, F, E>(op: &O, config: &Config, transport: F) -> Result<O::Output, SendError<E>>
where
    O: Endpoint + ?Sized,
    F: FnOnce(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, E>,
{
    let request = op.to_request(config).map_err(SendError::Build)?;
    let response = transport(request).map_err(SendError::Transport)?;
    op.parse_response(response).map_err(SendError::Response)
}

/// Which side of [`send`] failed.
///
/// `Display` is the failing side's message after `cannot build the request: `, `transport: `
/// or nothing (a [`ResponseError`] names the call itself); `source()` is that error's own
/// source, so a reporter that walks the chain shows each reason once.
#[derive(Debug)]
#[non_exhaustive]
pub enum SendError<E> {
    /// The request could not be built; nothing was sent.
    Build(BuildError),
    /// The transport failed: no answer to parse.
    Transport(E),
    /// The agent answered, but not with what the operation expects.
    Response(ResponseError),
}

impl<E> SendError<E> {
    /// The response error, if the agent answered.
    pub fn as_response(&self) -> Option<&ResponseError> {
        match self {
            SendError::Response(e) => Some(e),
            _ => None,
        }
    }
}

impl<E: fmt::Display> fmt::Display for SendError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Build(e) => write!(f, "cannot build the request: {e}"),
            SendError::Transport(e) => write!(f, "transport: {e}"),
            SendError::Response(e) => write!(f, "{e}"),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for SendError<E> {
    /// The failing side's own source: its message is already part of `Display`.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SendError::Build(e) => e.source(),
            SendError::Transport(e) => e.source(),
            SendError::Response(e) => e.source(),
        }
    }
}
