//! What the client tells [`tracing`](https://docs.rs/tracing) (feature `tracing`, on by
//! default): a `nomad_call` span and an event per call, and events for a log stream's open, stop
//! and end, all with the target `nomad_blocking` at `DEBUG` level.
//!
//! Only what cannot hold a secret is recorded: the operation's type name, the method, the path
//! (never the query's values, only its keys), the status, sizes and durations, and the error's
//! message (which never holds a secret either). Headers (the token, basic auth) and bodies (gossip
//! keys) are never looked at.
//!
//! Without a subscriber, each call costs the check of one callsite's cached interest: the fields
//! are not computed, and no clock is read. Without the feature, everything here is a no-op.

#[cfg(feature = "tracing")]
pub(crate) use self::on::*;

#[cfg(not(feature = "tracing"))]
pub(crate) use self::off::*;

/// Why a log stream ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The agent closed the stream.
    Closed,
    /// [`StopHandle::stop`](crate::StopHandle::stop) was called.
    Stopped,
    /// The deadline given when it was opened passed.
    Deadline,
    /// An error ended it.
    Failed,
    /// It was dropped before its end.
    Dropped,
}

#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
impl End {
    fn as_str(self) -> &'static str {
        match self {
            End::Closed => "closed by the agent",
            End::Stopped => "stopped",
            End::Deadline => "deadline reached",
            End::Failed => "failed",
            End::Dropped => "dropped",
        }
    }
}

/// The operation's name for logs: its type name without the module path (`ListMembers`).
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) fn op_name<E: ?Sized>() -> &'static str {
    let full = std::any::type_name::<E>();
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// The keys of a query string, comma-separated (`region,namespace`); never the values, which may
/// be anything the caller passed.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) struct QueryKeys<'a>(pub(crate) Option<&'a str>);

impl std::fmt::Display for QueryKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for pair in self.0.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let key = pair.split_once('=').map_or(pair, |(k, _)| k);
            if !first {
                f.write_str(",")?;
            }
            f.write_str(key)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(feature = "tracing")]
mod on {
    use std::time::{Duration, Instant};

    use nomad_proto::http::{Request, StatusCode};
    use tracing::field::Empty;
    use tracing::Span;

    use super::{op_name, End, QueryKeys};
    use crate::error::Error;

    /// Whether any subscriber could want a `DEBUG` span: one atomic load, the first check the
    /// span macro makes, done here so that a call without a subscriber skips the rest.
    #[inline(always)]
    fn debug_enabled() -> bool {
        use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
        STATIC_MAX_LEVEL >= LevelFilter::DEBUG && LevelFilter::current() >= LevelFilter::DEBUG
    }

    fn millis(d: Duration) -> f64 {
        d.as_secs_f64() * 1e3
    }

    /// One call's span, while a subscriber listens.
    #[derive(Debug)]
    pub(crate) struct CallTrace(Option<Active>);

    #[derive(Debug)]
    struct Active {
        span: Span,
        start: Instant,
    }

    impl CallTrace {
        /// Opens the span of a call of `E` about to send `request`.
        #[inline]
        pub(crate) fn start<E: ?Sized>(request: &Request<Vec<u8>>) -> Self {
            if !debug_enabled() {
                return CallTrace(None);
            }
            let span = tracing::debug_span!(
                target: "nomad_blocking",
                "nomad_call",
                op = op_name::<E>(),
                method = %request.method(),
                path = request.uri().path(),
                query_keys = %QueryKeys(request.uri().query()),
                request_bytes = request.body().len(),
                status = Empty,
                response_bytes = Empty,
                elapsed_ms = Empty,
            );
            if span.is_disabled() {
                return CallTrace(None);
            }
            CallTrace(Some(Active {
                span,
                start: Instant::now(),
            }))
        }

        /// Runs `f` (the transport's send) inside the span.
        #[inline]
        pub(crate) fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
            match &self.0 {
                Some(active) => active.span.in_scope(f),
                None => f(),
            }
        }

        /// Records the answer's status and body size.
        #[inline]
        pub(crate) fn answered(&self, status: StatusCode, body_bytes: Option<usize>) {
            if let Some(active) = &self.0 {
                active.span.record("status", status.as_u16());
                if let Some(bytes) = body_bytes {
                    active.span.record("response_bytes", bytes);
                }
            }
        }

        /// Ends the call: one event, `call finished` or `call failed` with the error.
        #[inline]
        pub(crate) fn finish<T>(self, result: &Result<T, Error>) {
            let Some(active) = self.0 else { return };
            let elapsed = millis(active.start.elapsed());
            active.span.record("elapsed_ms", elapsed);
            match result {
                Ok(_) => {
                    tracing::debug!(target: "nomad_blocking", parent: &active.span, elapsed_ms = elapsed, "call finished")
                }
                Err(error) => tracing::debug!(
                    target: "nomad_blocking",
                    parent: &active.span,
                    elapsed_ms = elapsed,
                    status = error.status().map(|s| s.as_u16()),
                    error = %error,
                    "call failed"
                ),
            }
        }
    }

    /// A log stream's span, while a subscriber listens.
    #[derive(Debug)]
    pub(crate) struct StreamTrace(Option<Active>);

    impl StreamTrace {
        /// No trace (a stream made with `LogStream::new`).
        pub(crate) fn none() -> Self {
            StreamTrace(None)
        }

        /// Logs the open of a stream of `R` requested with `method` and `path`.
        pub(crate) fn open<R: ?Sized>(
            method: &str,
            path: &str,
            query: Option<&str>,
            plain: bool,
            deadline: Option<Instant>,
        ) -> Self {
            let span = tracing::debug_span!(
                target: "nomad_blocking",
                "nomad_log_stream",
                op = op_name::<R>(),
                method,
                path,
                query_keys = %QueryKeys(query),
                format = if plain { "plain" } else { "framed" },
            );
            if span.is_disabled() {
                return StreamTrace(None);
            }
            let within_ms = deadline.map(|d| millis(d.saturating_duration_since(Instant::now())));
            tracing::debug!(target: "nomad_blocking", parent: &span, deadline_in_ms = within_ms, "log stream opened");
            StreamTrace(Some(Active {
                span,
                start: Instant::now(),
            }))
        }

        /// Logs the end of the stream.
        pub(crate) fn end(&mut self, why: End, lines: u64, bytes: u64, error: Option<&Error>) {
            let Some(active) = self.0.take() else { return };
            let elapsed = millis(active.start.elapsed());
            // `error` is recorded only when there is one (`None` records nothing).
            tracing::debug!(
                target: "nomad_blocking",
                parent: &active.span,
                end = why.as_str(),
                lines,
                bytes,
                elapsed_ms = elapsed,
                error = error.map(tracing::field::display),
                "log stream ended"
            );
        }
    }

    /// Logs a stop request (from any thread).
    pub(crate) fn stop_requested() {
        tracing::debug!(target: "nomad_blocking", "log stream stop requested");
    }
}

#[cfg(not(feature = "tracing"))]
#[allow(clippy::extra_unused_type_parameters)] // the same signatures as with the feature
mod off {
    use std::time::Instant;

    use nomad_proto::http::{Request, StatusCode};

    use super::End;
    use crate::error::Error;

    #[derive(Debug)]
    pub(crate) struct CallTrace;

    impl CallTrace {
        #[inline(always)]
        pub(crate) fn start<E: ?Sized>(_: &Request<Vec<u8>>) -> Self {
            CallTrace
        }
        #[inline(always)]
        pub(crate) fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
            f()
        }
        #[inline(always)]
        pub(crate) fn answered(&self, _: StatusCode, _: Option<usize>) {}
        #[inline(always)]
        pub(crate) fn finish<T>(self, _: &Result<T, Error>) {}
    }

    #[derive(Debug)]
    pub(crate) struct StreamTrace;

    impl StreamTrace {
        pub(crate) fn none() -> Self {
            StreamTrace
        }
        pub(crate) fn open<R: ?Sized>(_: &str, _: &str, _: Option<&str>, _: bool, _: Option<Instant>) -> Self {
            StreamTrace
        }
        pub(crate) fn end(&mut self, _: End, _: u64, _: u64, _: Option<&Error>) {}
    }

    pub(crate) fn stop_requested() {}
}
