//! Incremental (sans-IO) decoder for the agent log streams
//! `/v1/agent/monitor` and `/v1/agent/monitor/export`.
//!
//! The agent sends these streams in one of two [`StreamFormat`]s (Nomad 2.0.5:
//! `command/agent/agent_endpoint.go`, with the frames of `client/lib/streamframer/framer.go`):
//!
//! * **Framed** (the default): JSON [`StreamFrame`] objects concatenated with no separator
//!   (`{…}{…}{}{…}`). Each frame carries up to 1024 bytes of base64-encoded log text in `Data`,
//!   and a frame may end in the middle of a line. `{}` heartbeats arrive about once a second,
//!   even while logs are flowing. Monitor frames look like `{"Data":"…","FileEvent":"log"}`
//!   (no `Offset`). Export frames carry a cumulative `Offset`.
//! * **Plain** (`plain=true`): the raw log text, with no framing, no base64 and no heartbeats.
//!
//! [`LogDecoder`] turns either format into complete [`LogLine`]s. You feed it bytes as they
//! arrive with [`LogDecoder::push`] (in chunks of any size, split anywhere) and take lines out
//! with [`LogDecoder::next_line`]. At the end of the stream, [`LogDecoder::finish`] returns the
//! last unterminated line, or an error if the stream stopped in the middle of a frame. This
//! module does no I/O: it never reads sockets, starts threads or looks at clocks.
//!
//! With `log_json=true`, each line is an hclog JSON record, which [`LogRecord::parse`] turns
//! into a structured value.
//!
//! # Example
//!
//! ```rust
//! use nomad_proto::stream::{LogDecoder, StreamFormat};
//!
//! // Two monitor frames with a heartbeat between them. The second line is split across
//! // the two frames: "agent: started\npartia" + "l line\n".
//! let body = br#"{"Data":"YWdlbnQ6IHN0YXJ0ZWQKcGFydGlh","FileEvent":"log"}{}{"Data":"bCBsaW5lCg==","FileEvent":"log"}"#;
//!
//! let mut decoder = LogDecoder::new(StreamFormat::Framed);
//! let mut lines = Vec::new();
//! // Bytes can arrive in chunks of any size; here, 7 at a time.
//! for chunk in body.chunks(7) {
//!     decoder.push(chunk);
//!     while let Some(line) = decoder.next_line()? {
//!         lines.push(line.text);
//!     }
//! }
//! // End of the response body: collect a final unterminated line, if any.
//! while let Some(line) = decoder.finish()? {
//!     lines.push(line.text);
//! }
//! assert_eq!(lines, ["agent: started", "partial line"]);
//! assert_eq!(decoder.heartbeats(), 1);
//! # Ok::<(), nomad_proto::stream::StreamError>(())
//! ```
//!
//! # Layout
//!
//! Each file builds only on the ones before it:
//!
//! | File | Holds |
//! |---|---|
//! | `error.rs` | [`StreamError`] and the snippet helpers for its messages |
//! | `record.rs` | [`LogLevel`], [`LogRecord`]: what one `log_json=true` line holds |
//! | `lines.rs` | [`LogLine`], [`LogLineRef`] and the buffer of decoded text they are cut from |
//! | `frame.rs` | [`StreamFormat`], [`StreamFrame`]: the wire form of a frame, and base64 |
//! | `deframe.rs` | decoding one frame into the line buffer: the monitor fast path, the JSON parser, the frame scanner |
//! | `decoder.rs` | [`LogDecoder`]: the state machine that drives the others |

mod decoder;
mod deframe;
mod error;
mod frame;
mod lines;
mod record;

pub use decoder::{LogDecoder, DEFAULT_MAX_LINE_LEN};
pub use error::StreamError;
pub use frame::{StreamFormat, StreamFrame};
pub use lines::{LogLine, LogLineRef};
pub use record::{LogLevel, LogRecord, ParseLogLevelError};
