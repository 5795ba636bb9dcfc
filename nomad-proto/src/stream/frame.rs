//! The frames of a framed log stream: the wire types ([`StreamFormat`], [`StreamFrame`], and
//! [`RawFrame`], which borrows from the input) and base64 decoding of `Data`. Decoding them out
//! of the stream's bytes is `deframe.rs`.

use std::borrow::Cow;
use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde::{de, Deserialize, Serialize};

/// Base64 engine for `Data`: the standard alphabet. Go sends canonical padding, but
/// unpadded input is accepted too.
pub(super) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How the stream body is encoded, chosen by the request's `plain` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StreamFormat {
    /// JSON [`StreamFrame`]s concatenated with no separator (the default, `plain=false`).
    #[default]
    Framed,
    /// Raw log text (`plain=true`).
    Plain,
}

impl fmt::Display for StreamFormat {
    /// `framed` or `plain`, padded to the formatter's width.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            StreamFormat::Framed => "framed",
            StreamFormat::Plain => "plain",
        })
    }
}

/// One frame of a framed log stream, as the agent sends it: the Go
/// `StreamFrame {Offset int64, Data []byte, File string, FileEvent string}`, where every field
/// is `omitempty`.
///
/// It deserializes from the wire names `Offset`, `Data` (standard base64, decoded into
/// [`data`](Self::data)), `File` and `FileEvent`. Unknown fields are ignored, and a missing or
/// `null` field is `None` (or an empty `data`). It serializes the way the agent does: absent
/// and empty fields are left out, so a heartbeat is `{}`.
///
/// ```rust
/// use nomad_proto::stream::StreamFrame;
///
/// let frame: StreamFrame = serde_json::from_str(r#"{"Data":"aGVsbG8K","FileEvent":"log"}"#)?;
/// assert_eq!(frame.data, b"hello\n");
/// assert_eq!(frame.file_event.as_deref(), Some("log"));
/// assert!(!frame.is_heartbeat());
/// assert!(serde_json::from_str::<StreamFrame>("{}")?.is_heartbeat());
///
/// // A frame of your own (e.g. a fake stream in a test), written as the agent writes it:
/// let frame = StreamFrame::new(b"hello\n".to_vec()).with_file_event("log");
/// assert_eq!(serde_json::to_string(&frame)?, r#"{"Data":"aGVsbG8K","FileEvent":"log"}"#);
/// assert_eq!(serde_json::to_string(&StreamFrame::heartbeat())?, "{}");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct StreamFrame {
    /// `Offset`: cumulative byte offset (export streams). Monitor frames leave it out.
    #[serde(rename = "Offset", skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    /// `Data`, base64-decoded: up to 1024 bytes of log text, which may hold several lines or
    /// part of one.
    #[serde(
        rename = "Data",
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_base64"
    )]
    pub data: Vec<u8>,
    /// `File`: the name of the file the data came from, if the agent sent one. Monitor and
    /// export frames never carry it (Nomad `command/agent/agent_endpoint.go`); other Nomad
    /// streams of the same frame type (allocation file logs) do.
    #[serde(rename = "File", skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// `FileEvent`: `"log"` on monitor frames. Always absent on export frames.
    #[serde(rename = "FileEvent", skip_serializing_if = "Option::is_none")]
    pub file_event: Option<String>,
}

impl StreamFrame {
    /// A frame carrying `data` (decoded log text) and nothing else.
    #[must_use]
    pub fn new(data: Vec<u8>) -> Self {
        StreamFrame {
            data,
            ..StreamFrame::default()
        }
    }

    /// A heartbeat: the empty frame `{}`.
    #[must_use]
    pub fn heartbeat() -> Self {
        StreamFrame::default()
    }

    /// The same frame with an `Offset`.
    #[must_use]
    pub fn with_offset(mut self, offset: i64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// The same frame with a `File`.
    #[must_use]
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// The same frame with a `FileEvent` (`log` on monitor frames).
    #[must_use]
    pub fn with_file_event(mut self, file_event: impl Into<String>) -> Self {
        self.file_event = Some(file_event.into());
        self
    }

    /// Whether this is a heartbeat: every field is empty or zero, as in `{}`. This is the
    /// same test as Go's `StreamFrame.IsHeartbeat`.
    pub fn is_heartbeat(&self) -> bool {
        self.offset.unwrap_or(0) == 0
            && self.data.is_empty()
            && self.file.as_deref().unwrap_or("").is_empty()
            && self.file_event.as_deref().unwrap_or("").is_empty()
    }
}

fn serialize_base64<S: serde::Serializer>(data: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&BASE64.encode(data))
}

impl<'de> Deserialize<'de> for StreamFrame {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawFrame::deserialize(deserializer)?;
        let mut data = Vec::new();
        if let Some(d) = &raw.data {
            BASE64
                .decode_vec(d.0.as_bytes(), &mut data)
                .map_err(|e| de::Error::custom(format_args!("invalid base64 in Data: {e}")))?;
        }
        Ok(StreamFrame {
            offset: raw.offset,
            data,
            file: raw.file.map(|f| f.0.into_owned()),
            file_event: raw.file_event.map(|f| f.0.into_owned()),
        })
    }
}

/// A JSON string that borrows from the input when it has no escapes.
pub(super) struct WireStr<'a>(pub(super) Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for WireStr<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> de::Visitor<'de> for Visitor<'a> {
            type Value = WireStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(WireStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visitor(std::marker::PhantomData))
    }
}

/// Wire form of a frame, borrowing `Data` (still base64) from the input.
#[derive(Deserialize)]
pub(super) struct RawFrame<'a> {
    #[serde(rename = "Offset", default)]
    pub(super) offset: Option<i64>,
    #[serde(rename = "Data", default, borrow)]
    pub(super) data: Option<WireStr<'a>>,
    #[serde(rename = "File", default, borrow)]
    pub(super) file: Option<WireStr<'a>>,
    #[serde(rename = "FileEvent", default, borrow)]
    pub(super) file_event: Option<WireStr<'a>>,
}

impl RawFrame<'_> {
    pub(super) fn is_heartbeat(&self) -> bool {
        fn empty(s: &Option<WireStr<'_>>) -> bool {
            s.as_ref().is_none_or(|s| s.0.is_empty())
        }
        self.offset.unwrap_or(0) == 0 && empty(&self.data) && empty(&self.file) && empty(&self.file_event)
    }
}

/// Appends the base64-decoded `data` to `out` for the monitor fast path. Returns false, with
/// `out` as it was, for input it rejects; the parser path then decodes it again and reports the
/// error. With the `simd` feature this is the SIMD decoder (`base64-simd`), which is strict
/// (canonical padding and trailing bits); without it, the [`BASE64`] engine.
#[cfg(feature = "simd")]
pub(super) fn decode_base64_fast(data: &[u8], out: &mut Vec<u8>) -> bool {
    let engine = if data.len() % 4 == 0 {
        base64_simd::STANDARD
    } else {
        base64_simd::STANDARD_NO_PAD
    };
    let start = out.len();
    out.reserve(data.len() / 4 * 3 + 3);
    if engine.decode_append(data, out).is_ok() {
        return true;
    }
    out.truncate(start);
    false
}

/// See the `simd` version.
#[cfg(not(feature = "simd"))]
pub(super) fn decode_base64_fast(data: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    if BASE64.decode_vec(data, out).is_ok() {
        return true;
    }
    out.truncate(start);
    false
}

/// Appends the base64-decoded `data` to `out`. With the `simd` feature: the SIMD decoder first,
/// and whatever it rejects is decoded again by the [`BASE64`] engine, whose result or error is
/// returned. So what is accepted, and every error message, is exactly as with [`BASE64`] alone
/// (a unit test checks the two agree); only the speed differs. The engine may have appended part
/// of the data before an error.
pub(super) fn decode_base64(data: &[u8], out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    #[cfg(feature = "simd")]
    if decode_base64_fast(data, out) {
        return Ok(());
    }
    BASE64.decode_vec(data, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_data_is_borrowed_from_the_input_unless_escaped() {
        let raw: RawFrame<'_> = serde_json::from_slice(br#"{"Data":"YWJj","FileEvent":"log"}"#).unwrap();
        assert!(matches!(raw.data, Some(WireStr(Cow::Borrowed("YWJj")))));
        let raw: RawFrame<'_> = serde_json::from_slice(br#"{"Data":"YWJ\u006A"}"#).unwrap();
        assert!(matches!(raw.data, Some(WireStr(Cow::Owned(ref s))) if s == "YWJj"));
    }

    /// Small deterministic generator (xorshift) for the differential tests.
    #[cfg(feature = "simd")]
    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    #[cfg(feature = "simd")]
    fn simd_base64_agrees_with_the_base64_crate_on_valid_and_invalid_input() {
        // Every string of up to 4 symbols over a mix of valid, padding and invalid bytes, then
        // random longer ones: same decoded bytes, or the same error.
        let alphabet = b"AQgw+/=\\* \n\"Zz9";
        let mut cases: Vec<Vec<u8>> = vec![Vec::new()];
        let mut frontier = cases.clone();
        for _ in 0..4 {
            let mut next = Vec::new();
            for prefix in &frontier {
                for &b in alphabet {
                    let mut s = prefix.clone();
                    s.push(b);
                    next.push(s);
                }
            }
            cases.extend(next.iter().cloned());
            frontier = next;
        }
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let len = (xorshift(&mut state) % 40) as usize;
            let mut data: Vec<u8> = (0..len).map(|_| xorshift(&mut state) as u8).collect();
            let mut encoded = BASE64.encode(&data).into_bytes();
            match xorshift(&mut state) % 4 {
                0 => {}
                1 => encoded.retain(|&b| b != b'='),
                2 if !encoded.is_empty() => {
                    let at = (xorshift(&mut state) as usize) % encoded.len();
                    encoded[at] = alphabet[(xorshift(&mut state) as usize) % alphabet.len()];
                }
                _ => {
                    data.clear();
                    encoded.truncate((xorshift(&mut state) as usize) % (encoded.len() + 1));
                }
            }
            cases.push(encoded);
        }
        for case in cases {
            let mut expected = b"kept".to_vec();
            let expected_result = BASE64.decode_vec(&case, &mut expected);
            let mut actual = b"kept".to_vec();
            let actual_result = decode_base64(&case, &mut actual);
            assert_eq!(actual_result, expected_result, "{:?}", String::from_utf8_lossy(&case));
            if expected_result.is_ok() {
                assert_eq!(actual, expected, "{:?}", String::from_utf8_lossy(&case));
            }
        }
    }
}
