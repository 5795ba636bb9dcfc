//! The blocking [`Client`]: its runners for any nomad-proto operation ([`Client::call`],
//! [`Client::open`], [`Client::stream`], [`Client::stream_until`]); its [`ClientBuilder`] is in
//! `builder.rs`. The named agent methods are in the agent module ([`Client::agent`]).

mod builder;

use std::any::Any;
use std::io::{Cursor, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nomad_proto::agent::LogStreamRequest;
use nomad_proto::http::{Request, StatusCode};
use nomad_proto::{Config, Endpoint};

pub use builder::ClientBuilder;

use crate::error::{Error, TransportError};
use crate::stream::LogStream;
use crate::trace::{CallTrace, StreamTrace};
use crate::transport::{BodyReader, Deadline, Transport, UreqTransport};

/// How much of a streamed body that is not a 200 is read for the operation's status check.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// A blocking Nomad client. Cheap to clone (an `Arc`), `Send + Sync`, and meant to be shared:
/// clones share the connection pool.
///
/// It is one type whatever its transport, the default ureq one ([`Client::from_env`],
/// [`Client::builder`]) or any [`Transport`] of your own, closures included
/// ([`Client::with_transport`]): a function of yours that takes a `&Client` runs against a real
/// agent and, in its unit tests, against canned answers.
///
/// ```no_run
/// let client = nomad_blocking::Client::from_env()?; // NOMAD_ADDR, NOMAD_TOKEN, NOMAD_CACERT, …
/// for member in client.agent().members()?.members {
///     println!("{} {} {}", member.name, member.status, member.build().unwrap_or("?"));
/// }
/// # Ok::<(), nomad_blocking::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner<dyn Shared>>,
}

struct Inner<T: ?Sized> {
    config: Config,
    transport: T,
}

/// What the client needs of its transport besides [`Transport`]: a way back to the concrete
/// type ([`Client::transport_as`]) and its name (for `Debug`; a closure has no `Debug`).
trait Shared: Transport + Send + Sync + 'static {
    fn as_transport(&self) -> &(dyn Transport + Send + Sync);
    fn as_any(&self) -> &dyn Any;
    fn type_name(&self) -> &'static str;
}

impl<T: Transport + Send + Sync + 'static> Shared for T {
    fn as_transport(&self) -> &(dyn Transport + Send + Sync) {
        self
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn type_name(&self) -> &'static str {
        crate::trace::op_name::<T>()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Client");
        d.field("address", &self.inner.config.address().to_string())
            .field("config", &self.inner.config);
        match self.transport_as::<UreqTransport>() {
            Some(ureq) => d.field("transport", ureq),
            None => d.field("transport", &self.inner.transport.type_name()),
        };
        d.finish()
    }
}

impl Client {
    /// A client for `config` with the default transport settings.
    ///
    /// # Errors
    ///
    /// [`Error::Setup`] when the TLS files cannot be read or do not hold what they should, or
    /// the address cannot be served (see [`ClientBuilder::build`]).
    pub fn new(config: Config) -> Result<Self, Error> {
        ClientBuilder::from_config(config).build()
    }

    /// A client configured from the `NOMAD_*` environment, as the `nomad` CLI is.
    ///
    /// # Errors
    ///
    /// [`Error::Build`] for a variable that does not parse (an address, `NOMAD_SKIP_VERIFY`, a
    /// token that cannot go in a header), [`Error::Setup`] as for [`Client::new`].
    pub fn from_env() -> Result<Self, Error> {
        Client::new(Config::from_env()?)
    }

    /// A builder for connection and transport settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client that sends through `transport`: a [`UreqTransport`] you built, a transport of
    /// your own, or any `Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, E>` closure (for tests
    /// with canned answers). The client is the same type whatever the transport.
    ///
    /// ```
    /// use nomad_blocking::{http, Client, Config};
    ///
    /// fn server_count(client: &Client) -> Result<usize, nomad_blocking::Error> {
    ///     Ok(client.agent().servers()?.len())
    /// }
    ///
    /// let client = Client::with_transport(Config::default(), |_: http::Request<Vec<u8>>| {
    ///     http::Response::builder().status(200).body(br#"["10.0.0.1:4647"]"#.to_vec())
    /// });
    /// assert_eq!(server_count(&client)?, 1);
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    #[must_use]
    pub fn with_transport<T: Transport + Send + Sync + 'static>(config: Config, transport: T) -> Self {
        let inner: Arc<Inner<dyn Shared>> = Arc::new(Inner { config, transport });
        Client { inner }
    }

    /// The connection settings.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The transport.
    pub fn transport(&self) -> &(dyn Transport + Send + Sync) {
        self.inner.transport.as_transport()
    }

    /// The transport as its concrete type `T`, if it is one: e.g. the [`UreqTransport`] of a
    /// client made by [`ClientBuilder::build`], for its [`settings`](UreqTransport::settings).
    ///
    /// ```
    /// use nomad_blocking::{Client, ProxyPolicy, UreqTransport};
    ///
    /// let client = Client::builder().address("http://127.0.0.1:4646").build()?;
    /// let ureq = client.transport_as::<UreqTransport>().expect("the default transport");
    /// assert_eq!(ureq.settings().proxy, ProxyPolicy::Direct);
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    pub fn transport_as<T: Transport + 'static>(&self) -> Option<&T> {
        self.inner.transport.as_any().downcast_ref::<T>()
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
    ///
    /// # Errors
    ///
    /// [`Error::Build`] when the request cannot be built (nothing is sent),
    /// [`Error::Transport`] when it gets no complete answer, [`Error::Response`] when the agent
    /// answers with an error status or a body that does not decode.
    pub fn call<E: Endpoint>(&self, op: &E) -> Result<E::Output, Error> {
        let request = op.to_request(&self.inner.config)?;
        let trace = CallTrace::start::<E>(&request);
        let result = self.send_and_parse(op, request, &trace);
        trace.finish(&result);
        result
    }

    #[inline]
    fn send_and_parse<E: Endpoint>(
        &self,
        op: &E,
        request: Request<Vec<u8>>,
        trace: &CallTrace,
    ) -> Result<E::Output, Error> {
        let response = trace.in_scope(|| self.inner.transport.send(request))?;
        trace.answered(response.status(), Some(response.body().len()));
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
    ///
    /// # Errors
    ///
    /// As [`Client::call`]: [`Error::Build`], [`Error::Transport`] (before the body is handed
    /// over; later failures are the reader's `io::Error`s), [`Error::Response`] for a status the
    /// operation refuses.
    pub fn open<E: Endpoint>(&self, op: &E) -> Result<BodyReader, Error> {
        let request = op.to_request(&self.inner.config)?;
        let trace = CallTrace::start::<E>(&request);
        let result = self.open_request(op, request, &trace);
        trace.finish(&result);
        result
    }

    /// Sends `request` (built from `op`) for a streamed answer and checks its status.
    fn open_request<E: Endpoint>(
        &self,
        op: &E,
        request: Request<Vec<u8>>,
        trace: &CallTrace,
    ) -> Result<BodyReader, Error> {
        let response = trace.in_scope(|| self.inner.transport.send_streaming(request))?;
        let (parts, mut body) = response.into_parts();
        trace.answered(parts.status, None);
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
    /// It runs until the agent ends it, [`StopHandle::stop`](crate::StopHandle::stop) is called,
    /// or it is dropped; [`Client::stream_for`] ends it after a while.
    ///
    /// # Errors
    ///
    /// As [`Client::open`]. Errors after the stream started are items of the [`LogStream`].
    pub fn stream<R: LogStreamRequest>(&self, op: &R) -> Result<LogStream, Error> {
        self.stream_with(op, None)
    }

    /// Opens a log stream that ends cleanly (the iterator returns `None`, as after
    /// [`StopHandle::stop`](crate::StopHandle::stop)) at `deadline`, however quiet the stream:
    /// the deadline bounds the request itself (the transport is told through a [`Deadline`]
    /// request extension, which the ureq transport turns into the call's overall timeout), so a
    /// plain stream with no heartbeats ends on time too. If the agent has not answered by then
    /// (an agent sends the status of a plain stream with its first log bytes), the stream ends
    /// at once, empty. A connect that hangs still fails as a connect timeout, just before the
    /// deadline.
    ///
    /// # Errors
    ///
    /// As [`Client::stream`]; a timeout that fires before the deadline (connecting, or the
    /// per-read timeout of a framed stream whose heartbeats stopped) stays an error.
    pub fn stream_until<R: LogStreamRequest>(&self, op: &R, deadline: Instant) -> Result<LogStream, Error> {
        self.stream_with(op, Some(deadline))
    }

    /// [`Client::stream_until`] `now + duration`: the stream ends cleanly after `duration`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use nomad_blocking::proto::agent::Monitor;
    ///
    /// // Tail the agent's logs for 3 seconds.
    /// let client = nomad_blocking::Client::from_env()?;
    /// for line in client.stream_for(&Monitor::new(), Duration::from_secs(3))? {
    ///     println!("{}", line?.text);
    /// }
    /// # Ok::<(), nomad_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Client::stream_until`].
    pub fn stream_for<R: LogStreamRequest>(&self, op: &R, duration: Duration) -> Result<LogStream, Error> {
        let now = Instant::now();
        // A duration too large for the clock is no deadline.
        match now.checked_add(duration) {
            Some(deadline) => self.stream_until(op, deadline),
            None => self.stream(op),
        }
    }

    fn stream_with<R: LogStreamRequest>(&self, op: &R, deadline: Option<Instant>) -> Result<LogStream, Error> {
        let mut request = op.to_request(&self.inner.config)?;
        if let Some(deadline) = deadline {
            request.extensions_mut().insert(Deadline::at(deadline));
        }
        let plain = op.format() == nomad_proto::stream::StreamFormat::Plain;
        let (method, path, query) = (
            request.method().clone(),
            request.uri().path().to_owned(),
            request.uri().query().map(str::to_owned),
        );
        let trace = CallTrace::start::<R>(&request);
        let opened = self.open_request(op, request, &trace);
        let reached = |d: &Instant| Instant::now() >= *d;
        let body = match opened {
            Ok(body) => Some(body),
            // No answer by the deadline (a plain stream's status comes with its first bytes):
            // a clean, empty end.
            Err(Error::Transport(ref t))
                if matches!(t.kind(), crate::TransportErrorKind::Timeout(_))
                    && deadline.as_ref().is_some_and(reached) =>
            {
                None
            }
            Err(e) => {
                let failed = Err(e);
                trace.finish(&failed);
                return failed;
            }
        };
        trace.finish(&Ok::<(), Error>(()));
        let stream_trace = StreamTrace::open::<R>(method.as_str(), &path, query.as_deref(), plain, deadline);
        let stream = match body {
            Some(body) => LogStream::new(body, op.decoder()),
            None => LogStream::ended(op.decoder()),
        };
        Ok(stream
            .with_deadline(deadline)
            .with_log_json(op.log_json())
            .with_trace(stream_trace))
    }
}

// The client is Send + Sync + Clone: checked at compile time.
const _: fn() = || {
    fn check<T: Send + Sync + Clone>() {}
    check::<Client>();
};

#[cfg(test)]
mod tests {
    use std::io::Read;

    use nomad_proto::agent::{GetHealth, Pprof};
    use nomad_proto::http::{Request, Response};
    use nomad_proto::{Config, ResponseError};

    use super::{Client, ERROR_BODY_LIMIT};

    /// A client whose transport answers every request with `status` and `body`.
    fn answering(status: u16, body: Vec<u8>) -> Client {
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
