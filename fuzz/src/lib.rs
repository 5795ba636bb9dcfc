//! Shared pieces of the fuzz targets: building responses from fuzz input, and the invariants
//! every parse result must keep.

use std::error::Error as _;
use std::fmt::Debug;

use arbitrary::Arbitrary;
use nomad_proto::http::{header, HeaderValue, Response, StatusCode};
use nomad_proto::{Endpoint, ResponseError};

/// Longest `Display` an error may have. Bodies are cut to 512 bytes in messages; everything
/// else is short.
pub const MAX_DISPLAY: usize = 4096;

/// A response as the fuzzer describes it.
#[derive(Arbitrary, Debug)]
pub struct FuzzResponse<'a> {
    /// Which operation parses it.
    pub op: u8,
    /// Any status 100..=999.
    pub status: u16,
    /// Which `Content-Type` to send (or none).
    pub content_type: u8,
    /// A raw `Content-Disposition` value (pprof reads it).
    pub disposition: Option<&'a [u8]>,
    /// The body: everything that is left.
    pub body: &'a [u8],
}

impl FuzzResponse<'_> {
    /// The `http::Response` for this input.
    pub fn response(&self) -> Response<Vec<u8>> {
        let status = StatusCode::from_u16(100 + self.status % 900).expect("100..=999 is valid");
        let mut response = Response::new(self.body.to_vec());
        *response.status_mut() = status;
        let content_type = match self.content_type % 6 {
            0 => None,
            1 => Some("application/json"),
            2 => Some("text/plain; charset=utf-8"),
            3 => Some("application/octet-stream"),
            4 => Some("text/html"),
            _ => Some("application/json; charset=utf-8"),
        };
        if let Some(ct) = content_type {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if let Some(value) = self.disposition.and_then(|d| HeaderValue::from_bytes(d).ok()) {
            response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

/// Parses `response` with `op` and checks the invariants of the result.
pub fn parse<E: Endpoint>(op: &E, response: Response<Vec<u8>>)
where
    E::Output: Debug,
{
    let status = response.status();
    match op.parse_response(response) {
        Ok(output) => {
            let _ = format!("{output:?}");
        }
        Err(err) => check_error(&err, status),
    }
}

/// An error must format without panicking, report the response's status, and have a bounded
/// `Display` (its source chain included).
pub fn check_error(err: &ResponseError, status: StatusCode) {
    let display = err.to_string();
    assert!(
        display.len() <= MAX_DISPLAY,
        "Display is {} bytes: {:?}…",
        display.len(),
        &display[..display.floor_char_boundary(200)]
    );
    let _ = format!("{err:?} {err:#?}");
    if let Some(reported) = err.status() {
        assert_eq!(reported, status, "{err:?}");
    }
    let _ = (err.message(), err.is_permission_denied(), err.is_wrong_role());
    let mut source = err.source();
    let mut depth = 0;
    while let Some(s) = source {
        let text = s.to_string();
        assert!(text.len() <= MAX_DISPLAY, "source Display is {} bytes", text.len());
        depth += 1;
        assert!(depth < 16, "source chain too deep");
        source = s.source();
    }
}
