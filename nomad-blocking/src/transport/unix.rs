//! `unix://` addresses (the Task API socket): a ureq connector that dials the socket whatever
//! the request URI says, with the same connect, read and call timeouts as TCP.

use std::path::Path;

use crate::error::SetupError;

/// A ureq agent that sends every request over the Unix socket at `path`.
#[cfg(unix)]
pub(super) fn unix_agent(
    builder: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
    path: &Path,
) -> Result<ureq::Agent, SetupError> {
    // Never a proxy for a local socket; TLS settings do not apply (the Task API is plain HTTP).
    let config = builder.proxy(None).build();
    Ok(ureq::Agent::with_parts(
        config,
        socket::UnixConnector::new(path),
        socket::LoopbackResolver,
    ))
}

/// `unix://` addresses need Unix sockets.
#[cfg(not(unix))]
pub(super) fn unix_agent(
    _: ureq::config::ConfigBuilder<ureq::typestate::AgentScope>,
    path: &Path,
) -> Result<ureq::Agent, SetupError> {
    Err(SetupError::InvalidSetting {
        setting: "address",
        reason: format!(
            "unix:// addresses are not supported on this platform ({})",
            path.display()
        ),
    })
}

#[cfg(unix)]
mod socket {
    //! The connector, its connection and the resolver.

    use std::io::{self, Read, Write};
    use std::os::unix::net::UnixStream;
    use std::path::{Path, PathBuf};
    use std::sync::mpsc;
    use std::time::Duration;

    use nomad_proto::http::Uri;
    use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
    use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport};

    /// Dials the socket whatever the URI says (nomad-proto builds `http://127.0.0.1/…`, as the
    /// Go client does for `unix://` addresses).
    #[derive(Debug)]
    pub(super) struct UnixConnector {
        path: PathBuf,
    }

    impl UnixConnector {
        pub(super) fn new(path: &Path) -> Self {
            UnixConnector { path: path.to_owned() }
        }
    }

    impl<In: Transport> Connector<In> for UnixConnector {
        type Out = UnixTransport;

        fn connect(&self, details: &ConnectionDetails, _chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
            let stream = connect(&self.path, details.timeout)?;
            let config = details.config;
            Ok(Some(UnixTransport {
                stream,
                buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
                read_timeout: None,
                write_timeout: None,
            }))
        }
    }

    /// A Unix connect is immediate unless the server's backlog is full; then it blocks. With a
    /// deadline, it runs on a helper thread that is abandoned (and ends once the server accepts
    /// or goes away) when the deadline passes.
    fn connect(path: &Path, timeout: NextTimeout) -> Result<UnixStream, ureq::Error> {
        let Some(limit) = timeout.not_zero() else {
            return UnixStream::connect(path).map_err(ureq::Error::Io);
        };
        let limit: Duration = *limit;
        if limit.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let owned = path.to_owned();
        std::thread::Builder::new()
            .name("nomad-unix-connect".into())
            .spawn(move || {
                let _ = tx.send(UnixStream::connect(owned));
            })
            .map_err(ureq::Error::Io)?;
        match rx.recv_timeout(limit) {
            Ok(result) => result.map_err(ureq::Error::Io),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(ureq::Error::Timeout(timeout.reason)),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(ureq::Error::Io(io::Error::other(
                "unix socket connect thread ended without a result",
            ))),
        }
    }

    #[derive(Debug)]
    pub(super) struct UnixTransport {
        stream: UnixStream,
        buffers: LazyBuffers,
        read_timeout: Option<Duration>,
        write_timeout: Option<Duration>,
    }

    /// `Some(d)` for a deadline, an error for one that already passed.
    fn deadline(timeout: NextTimeout) -> Result<Option<Duration>, ureq::Error> {
        match timeout.not_zero() {
            None => Ok(None),
            Some(_) if timeout.after.is_zero() => Err(ureq::Error::Timeout(timeout.reason)),
            Some(d) => Ok(Some(*d)),
        }
    }

    fn timed_out(e: &io::Error) -> bool {
        matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
    }

    impl Transport for UnixTransport {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }

        fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
            let timeout = timeout.for_write();
            let limit = deadline(timeout)?;
            if limit != self.write_timeout {
                self.stream.set_write_timeout(limit)?;
                self.write_timeout = limit;
            }
            let output = &self.buffers.output()[..amount];
            match self.stream.write_all(output) {
                Ok(()) => Ok(()),
                Err(e) if timed_out(&e) => Err(ureq::Error::Timeout(timeout.reason)),
                Err(e) => Err(e.into()),
            }
        }

        fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
            let timeout = timeout.for_read();
            let limit = deadline(timeout)?;
            if limit != self.read_timeout {
                self.stream.set_read_timeout(limit)?;
                self.read_timeout = limit;
            }
            let input = self.buffers.input_append_buf();
            let amount = loop {
                match self.stream.read(input) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) if timed_out(&e) => return Err(ureq::Error::Timeout(timeout.reason)),
                    Err(e) => return Err(e.into()),
                }
            };
            self.buffers.input_appended(amount);
            Ok(amount > 0)
        }

        fn is_open(&mut self) -> bool {
            // As ureq's TCP transport: an idle pooled connection must have nothing to read.
            if self.stream.set_nonblocking(true).is_err() {
                return false;
            }
            let mut byte = [0u8; 1];
            let open = matches!(self.stream.read(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
            open && self.stream.set_nonblocking(false).is_ok()
        }
    }

    /// The URI host of a Unix-socket request is never looked up.
    #[derive(Debug)]
    pub(super) struct LoopbackResolver;

    impl Resolver for LoopbackResolver {
        fn resolve(
            &self,
            _uri: &Uri,
            _config: &ureq::config::Config,
            _timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            let mut addrs = self.empty();
            addrs.push(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
            Ok(addrs)
        }
    }
}
