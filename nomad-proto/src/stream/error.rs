//! The decoder's error type, and the helpers that cut stream content into short snippets for it.
//!
//! This is the bottom layer of the stream module: it imports nothing from the other files of
//! the module.

use std::fmt;
use std::sync::Arc;

use crate::text::{floor_char_boundary, Escaped};

/// Maximum number of stream bytes copied into an error snippet.
pub(super) const SNIPPET_MAX: usize = 160;

/// Hard cap (in bytes) on a snippet after lossy UTF-8 conversion.
const SNIPPET_HARD_MAX: usize = 200;

/// Error from decoding a log stream or parsing a log record.
///
/// `Display` names the kind of error on one line (`log stream: truncated frame …`,
/// `log stream: invalid base64 …`, `log stream: text after the frames …`, `invalid log record:
/// …`) with the JSON parser's message where there is one; `source()` is therefore always
/// `None`, and the parser's error stays reachable in the `source` fields.
///
/// Snippets of stream content are converted to UTF-8 lossily and cut to about 200 bytes.
/// Messages print them in `{:?}` form, so control characters are escaped (the fields keep them
/// as received). The type is `Clone` (the `serde_json` errors are behind an [`Arc`]), so a
/// failed [`LogDecoder`](super::LogDecoder) can return the same error from every later call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StreamError {
    /// A frame is not valid JSON, or is not a valid `StreamFrame` (for example, `Offset` is not
    /// an integer).
    InvalidFrame {
        /// Stream bytes around the point where parsing failed.
        snippet: String,
        /// The JSON parser's error (its message is part of `Display`).
        source: Arc<serde_json::Error>,
    },
    /// A frame's `Data` field is not valid base64.
    InvalidBase64 {
        /// The base64 decoder's description of the problem (position and symbol).
        detail: String,
        /// Part of the `Data` string around the invalid input.
        snippet: String,
    },
    /// The stream ended (see [`LogDecoder::finish`](super::LogDecoder::finish)) in the middle of a frame.
    Truncated {
        /// How many bytes of the incomplete frame had been received.
        pending: usize,
    },
    /// A line is longer than the decoder's limit ([`LogDecoder::with_max_line_len`](super::LogDecoder::with_max_line_len)).
    LineTooLong {
        /// The limit in bytes, not counting the line terminator.
        limit: usize,
    },
    /// A single frame is larger than the decoder allows (`2 * max_line_len` + 4 KiB).
    FrameTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Text that is not a JSON frame appeared where a frame should start. The agent appends
    /// the text of an error that happens after streaming has started to the body this way.
    /// Text of up to 160 bytes is reported by [`LogDecoder::finish`](super::LogDecoder::finish),
    /// whole; longer text as soon as its 161st byte arrives, cut to its start.
    TrailingText {
        /// The start of the text.
        snippet: String,
    },
    /// A line is not a valid hclog JSON record (see [`LogRecord::parse`](super::LogRecord::parse)).
    InvalidRecord {
        /// What is wrong, e.g. `not a json object` or `missing "@message"`.
        reason: String,
        /// The start of the line, or the offending value.
        snippet: String,
        /// The JSON parser's error, when the line is not valid JSON (its message is part of
        /// `Display`).
        source: Option<Arc<serde_json::Error>>,
    },
}

/// How much of the JSON parser's message a stream error shows.
const DISPLAY_PARSER_LIMIT: usize = 300;

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parser = |e: &serde_json::Error| e.to_string();
        match self {
            StreamError::InvalidFrame { snippet, source } => write!(
                f,
                "log stream: invalid JSON frame ({}) near {snippet:?}",
                Escaped::new(&parser(source), DISPLAY_PARSER_LIMIT)
            ),
            StreamError::InvalidBase64 { detail, snippet } => {
                write!(
                    f,
                    "log stream: invalid base64 in frame data ({detail}) near {snippet:?}"
                )
            }
            StreamError::Truncated { pending } => write!(
                f,
                "log stream: truncated frame (the stream ended {pending} bytes into a frame)"
            ),
            StreamError::LineTooLong { limit } => write!(f, "log stream: line longer than {limit} bytes"),
            StreamError::FrameTooLarge { limit } => write!(f, "log stream: frame larger than {limit} bytes"),
            StreamError::TrailingText { snippet } => write!(
                f,
                "log stream: text after the frames (probably an error reported by the agent): {snippet:?}"
            ),
            StreamError::InvalidRecord {
                reason,
                snippet,
                source,
            } => {
                write!(f, "invalid log record: {reason}")?;
                if let Some(source) = source {
                    write!(f, " ({})", Escaped::new(&parser(source), DISPLAY_PARSER_LIMIT))?;
                }
                write!(f, " near {snippet:?}")
            }
        }
    }
}

impl std::error::Error for StreamError {}

/// Lossy-UTF-8 excerpt of `bytes`: at most [`SNIPPET_MAX`] input bytes and about
/// [`SNIPPET_HARD_MAX`] output bytes, with `…` marking where it was cut.
pub(super) fn snippet(bytes: &[u8]) -> String {
    let cut = bytes.len().min(SNIPPET_MAX);
    let mut s = String::from_utf8_lossy(&bytes[..cut]).into_owned();
    let mut truncated = cut < bytes.len();
    if s.len() > SNIPPET_HARD_MAX {
        let end = floor_char_boundary(&s, SNIPPET_HARD_MAX);
        s.truncate(end);
        truncated = true;
    }
    if truncated {
        s.push('…');
    }
    s
}

/// Excerpt of `bytes` around byte `index`, marked with a leading `…` if it does not start at 0.
pub(super) fn snippet_around(bytes: &[u8], index: usize) -> String {
    let index = index.min(bytes.len());
    let start = index.saturating_sub(SNIPPET_MAX / 2);
    let s = snippet(&bytes[start..]);
    if start > 0 {
        format!("…{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_bounded_and_lossy() {
        let s = snippet(&[0xff; 1000]);
        assert!(s.len() <= SNIPPET_HARD_MAX + '…'.len_utf8());
        assert!(s.starts_with('\u{fffd}'));
        assert_eq!(snippet(b"short"), "short");
        assert!(snippet_around(&[b'x'; 1000], 500).starts_with('…'));
    }

    /// `…` marks a cut, and only a cut: at the input limit, at the output limit, and at the
    /// start of an excerpt taken from the middle.
    #[test]
    fn snippets_mark_exactly_where_they_were_cut() {
        let at_limit = [b'a'; SNIPPET_MAX];
        assert_eq!(snippet(&at_limit), "a".repeat(SNIPPET_MAX));
        assert_eq!(
            snippet(&[b'a'; SNIPPET_MAX + 1]),
            format!("{}…", "a".repeat(SNIPPET_MAX))
        );
        // 20 invalid bytes (3 output bytes each, U+FFFD) and 140 ASCII: exactly the output
        // limit from exactly the input limit, not cut.
        let mixed = [[0xff; 20].as_slice(), &[b'a'; 140]].concat();
        let s = snippet(&mixed);
        assert_eq!(s.len(), SNIPPET_HARD_MAX);
        assert!(!s.ends_with('…'), "{s}");
        // Invalid bytes grow to three (U+FFFD) each: cut at the output limit.
        let s = snippet(&[0xff; SNIPPET_MAX]);
        assert!(s.ends_with('…') && s.len() <= SNIPPET_HARD_MAX + '…'.len_utf8(), "{s}");

        let bytes: Vec<u8> = (0..300u32).map(|i| b'a' + (i % 26) as u8).collect();
        // Half the input limit before the index, marked as not the start.
        assert_eq!(
            snippet_around(&bytes, 250),
            format!("…{}", snippet(&bytes[250 - SNIPPET_MAX / 2..]))
        );
        assert_eq!(snippet_around(&bytes, SNIPPET_MAX / 2), snippet(&bytes));
        assert_eq!(snippet_around(b"short", 3), "short");
    }
}
