//! The blocking [`Client`]: its runners for any nomad-proto operation ([`Client::call`],
//! [`Client::open`], [`Client::stream`]) and its [`ClientBuilder`]. The named agent methods are
//! in the agent module ([`Client::agent`]).

use std::io::{Cursor, Read};
use std::sync::Arc;
use std::time::Duration;

use nomad_proto::agent::LogStreamRequest;
use nomad_proto::http::StatusCode;
use nomad_proto::{Config, ConfigBuilder, Endpoint};

use crate::error::{Error, SetupError, TransportError};
use crate::stream::LogStream;
use crate::transport::{BodyReader, ProxyPolicy, Transport, TransportSettings, UreqTransport};

/// How much of a streamed body that is not a 200 is read for the operation's status check.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A blocking Nomad client. Cheap to clone (an `Arc`), `Send + Sync` when its transport is, and
/// meant to be shared: clones share the connection pool.
///
/// ```no_run
/// let client = nomad_blocking::Client::from_env()?; // NOMAD_ADDR, NOMAD_TOKEN, NOMAD_CACERT, …
/// for member in client.agent().members()?.members {
///     println!("{} {} {}", member.name, member.status, member.build().unwrap_or("?"));
/// }
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
pub struct Client<T = UreqTransport> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    config: Config,
    transport: T,
}

impl<T> Clone for Client<T> {
    fn clone(&self) -> Self {
        Client {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("address", &self.inner.config.address().to_string())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client<UreqTransport> {
    /// A client for `config` with the default transport settings.
    pub fn new(config: Config) -> Result<Self, Error> {
        ClientBuilder::from_config(config).build()
    }

    /// A client configured from the `NOMAD_*` environment, as the `nomad` CLI is.
    pub fn from_env() -> Result<Self, Error> {
        Client::new(Config::from_env()?)
    }

    /// A builder for connection and transport settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

impl<T: Transport> Client<T> {
    /// A client that sends through `transport` (any `Fn(Request) -> Result<Response, E>` works).
    pub fn with_transport(config: Config, transport: T) -> Self {
        Client {
            inner: Arc::new(Inner { config, transport }),
        }
    }

    /// The connection settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.transport
    }

    /// Runs any nomad-proto operation: build, send, parse.
    ///
    /// ```
    /// use nomad_blocking::{Client, Config, WithCallOptions};
    /// use nomad_blocking::proto::agent::ListMembers;
    ///
    /// let client = Client::with_transport(Config::default(), |req: nomad_blocking::http::Request<Vec<u8>>| {
    ///     assert_eq!(req.uri().query(), Some("region=eu"));
    ///     nomad_blocking::http::Response::builder().status(403).body(b"Permission denied".to_vec())
    /// });
    /// let err = client.call(&ListMembers::new().region("eu")).unwrap_err();
    /// assert!(err.is_permission_denied());
    /// ```
    pub fn call<E: Endpoint>(&self, op: &E) -> Result<E::Output, Error> {
        let request = op.to_request(&self.inner.config)?;
        let response = self.inner.transport.send(request)?;
        Ok(op.parse_response(response)?)
    }

    /// Runs any nomad-proto operation and hands its body over as a reader instead of parsing
    /// it: for bodies you copy elsewhere or read piece by piece (a profile written to a file, a
    /// log stream). The request goes out with [`Transport::send_streaming`]: the ureq transport
    /// reads the body as it arrives, and its response body limit does not apply.
    ///
    /// The status is checked with the operation's [`Endpoint::check_status`] first. An answer
    /// it refuses (403, 404, …) is read only up to 64 KiB, to build the [`Error::Response`] that
    /// [`Client::call`] would give. An answer it accepts with another status than 200 (an
    /// unhealthy agent's health report) comes back whole.
    ///
    /// ```
    /// use std::io::Read;
    /// use nomad_blocking::http::{Request, Response};
    /// use nomad_blocking::proto::agent::Pprof;
    /// use nomad_blocking::{Client, Config};
    ///
    /// let client = Client::with_transport(Config::default(), |req: Request<Vec<u8>>| {
    ///     match req.uri().path() {
    ///         "/v1/agent/pprof/heap" => Response::builder().status(200).body(b"\x1f\x8b profile".to_vec()),
    ///         _ => Response::builder().status(404).body(b"Pprof profile not found profile: nosuch".to_vec()),
    ///     }
    /// });
    ///
    /// let mut profile = Vec::new();
    /// client.open(&Pprof::lookup("heap"))?.read_to_end(&mut profile).expect("read");
    /// assert!(profile.starts_with(b"\x1f\x8b"));
    ///
    /// let Err(error) = client.open(&Pprof::lookup("nosuch")) else { panic!("a 404 is an error") };
    /// assert!(error.is_not_found());
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    pub fn open<E: Endpoint>(&self, op: &E) -> Result<BodyReader, Error> {
        let request = op.to_request(&self.inner.config)?;
        let (parts, mut body) = self.inner.transport.send_streaming(request)?.into_parts();
        if parts.status == StatusCode::OK {
            return Ok(body);
        }
        let mut start = Vec::new();
        let read = (&mut body).take(ERROR_BODY_LIMIT).read_to_end(&mut start);
        op.check_status(parts.status, &start)?;
        read.map_err(TransportError::from_io)?;
        // Accepted: what was read goes back in front of the rest.
        Ok(Box::new(Cursor::new(start).chain(body)))
    }

    /// Opens a log stream for any [`LogStreamRequest`] ([`nomad_proto::agent::Monitor`],
    /// [`nomad_proto::agent::MonitorExport`]): [`Client::open`], then the operation's decoder.
    pub fn stream<R: LogStreamRequest>(&self, op: &R) -> Result<LogStream, Error> {
        Ok(LogStream::new(self.open(op)?, op.decoder()))
    }
}

/// Builds a [`Client`] with the ureq transport: connection settings (see
/// [`nomad_proto::ConfigBuilder`]) plus timeouts, body limit and proxy.
#[derive(Debug, Default)]
pub struct ClientBuilder {
    config: Option<Config>,
    builder: ConfigBuilder,
    /// True once a connection setting was edited (`config`, `env`, `address`, `token`).
    edited: bool,
    settings: TransportSettings,
}

impl ClientBuilder {
    /// Starts from a finished [`Config`].
    pub fn from_config(config: Config) -> Self {
        ClientBuilder {
            config: Some(config),
            ..Default::default()
        }
    }

    /// Edits the connection settings. Not combinable with [`ClientBuilder::from_config`] (set them
    /// on that `Config` instead): [`ClientBuilder::build`] then fails rather than drop them.
    pub fn config(mut self, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Self {
        self.builder = f(self.builder);
        self.edited = true;
        self
    }

    /// Reads unset connection settings from the process environment.
    pub fn env(self) -> Self {
        self.config(ConfigBuilder::env)
    }

    /// The agent address (`http://…`, `https://…`, `unix://…`).
    pub fn address(self, address: impl Into<String>) -> Self {
        self.config(|b| b.address(address))
    }

    /// The ACL token.
    pub fn token(self, token: impl Into<nomad_proto::Secret>) -> Self {
        self.config(|b| b.token(token))
    }

    /// Connect timeout (default 10 s; `None`: none).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Overall per-call timeout (default 60 s; `None`: none). Log streams are exempt.
    pub fn call_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.call_timeout = timeout;
        self
    }

    /// Per-read timeout (default 30 s; `None`: none).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.settings.read_timeout = timeout;
        self
    }

    /// Largest response body read into memory (default 32 MiB).
    pub fn body_limit(mut self, bytes: u64) -> Self {
        self.settings.body_limit = bytes;
        self
    }

    /// Proxy policy (default: direct).
    pub fn proxy(mut self, proxy: ProxyPolicy) -> Self {
        self.settings.proxy = proxy;
        self
    }

    /// Idle connections kept per host (default 3; 0 turns reuse off).
    pub fn max_idle_per_host(mut self, n: usize) -> Self {
        self.settings.max_idle_per_host = n;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.settings.user_agent = agent.into();
        self
    }

    /// Ask the agent for gzip answers (default on). Turning it off makes small calls cheaper on
    /// fast links; large answers and log streams then travel uncompressed.
    pub fn gzip(mut self, on: bool) -> Self {
        self.settings.gzip = on;
        self
    }

    /// Validates the settings, reads TLS files, and builds the client.
    pub fn build(self) -> Result<Client<UreqTransport>, Error> {
        let config = match self.config {
            Some(_) if self.edited => {
                return Err(SetupError::InvalidSetting {
                    setting: "config",
                    reason: "ClientBuilder::from_config cannot be combined with address/token/env/config: \
                             set those on the Config"
                        .into(),
                }
                .into())
            }
            Some(c) => c,
            None => self.builder.build()?,
        };
        let transport = UreqTransport::new(&config, self.settings)?;
        Ok(Client::with_transport(config, transport))
    }
}

// The default client is Send + Sync + Clone: checked at compile time.
const _: fn() = || {
    fn check<T: Send + Sync + Clone>() {}
    check::<Client<UreqTransport>>();
};

#[cfg(test)]
mod tests {
    use std::io::Read;

    use nomad_proto::agent::{GetHealth, Pprof};
    use nomad_proto::http::{Request, Response};
    use nomad_proto::{Config, ResponseError};

    use super::{Client, ERROR_BODY_LIMIT};

    /// A client whose transport answers every request with `status` and `body`.
    fn answering(status: u16, body: Vec<u8>) -> Client<impl crate::Transport> {
        Client::with_transport(Config::default(), move |_: Request<Vec<u8>>| {
            Response::builder().status(status).body(body.clone())
        })
    }

    fn read_all(mut body: crate::BodyReader) -> Vec<u8> {
        let mut out = Vec::new();
        body.read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn open_hands_over_a_200_body() {
        let client = answering(200, b"profile bytes".to_vec());
        assert_eq!(read_all(client.open(&Pprof::lookup("heap")).unwrap()), b"profile bytes");
    }

    #[test]
    fn open_refuses_what_the_operation_refuses_reading_only_the_start_of_the_body() {
        let body = [
            b"Pprof profile not found profile: heap ".as_slice(),
            &vec![b'x'; 2 * ERROR_BODY_LIMIT as usize],
        ]
        .concat();
        let client = answering(404, body);
        let Err(error) = client.open(&Pprof::lookup("heap")) else {
            panic!("a 404 is an error");
        };
        let Some(ResponseError::UnexpectedStatus { body, .. }) = error.as_response() else {
            panic!("{error:?}");
        };
        assert_eq!(body.len(), ERROR_BODY_LIMIT as usize);
    }

    #[test]
    fn open_hands_over_a_whole_accepted_non_200_body() {
        // An unhealthy agent's report, longer than the part read for the status check.
        let report = format!(
            r#"{{"server":{{"ok":false,"message":"no leader"}},"pad":"{}"}}"#,
            "x".repeat(ERROR_BODY_LIMIT as usize)
        );
        let client = answering(500, report.clone().into_bytes());
        assert_eq!(read_all(client.open(&GetHealth::new()).unwrap()), report.as_bytes());
    }
}
