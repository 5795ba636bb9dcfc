//! Shared pieces of the fuzz targets: building responses from fuzz input, choosing the operation
//! that parses them, and the invariants every parse result must keep.

use std::error::Error as _;
use std::fmt::Debug;

use arbitrary::Arbitrary;
use nomad_proto::agent::{Monitor, MonitorExport, Pprof, OPERATIONS};
use nomad_proto::http::{header, HeaderValue, Response, StatusCode};
use nomad_proto::{Endpoint, ResponseError};

/// Longest `Display` an error may have. Bodies are cut to 512 bytes in messages; everything
/// else is short.
pub const MAX_DISPLAY: usize = 4096;

/// A response as the fuzzer describes it.
#[derive(Arbitrary, Debug)]
pub struct FuzzResponse<'a> {
    /// Which operation parses it: see [`parser`].
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

/// One way to parse a response: an operation of [`OPERATIONS`] (its sample instance), or one of
/// the [`EXTRA_PARSERS`].
#[derive(Clone, Copy, Debug)]
pub struct Parser {
    /// The operation's name (`ListMembers`), or for an extra `<operation>.<variant>`
    /// (`Monitor.plain`). Seed files are named after it: `seeds/parse_response/<name>-<n>`.
    pub name: &'static str,
    /// Parses a response, keeping only success or the error.
    pub parse: fn(Response<Vec<u8>>) -> Result<(), ResponseError>,
}

/// Variants whose parsing differs from (or may one day differ from) the sample instance that
/// [`OPERATIONS`] holds for their operation: plain-text log streams, other profile kinds.
/// Their outputs are also formatted with `Debug`.
pub const EXTRA_PARSERS: &[Parser] = &[
    Parser {
        name: "Monitor.plain",
        parse: |r| parse_debug(&Monitor::new().plain(true), r),
    },
    Parser {
        name: "MonitorExport.service.plain",
        parse: |r| parse_debug(&MonitorExport::service("nomad").plain(true), r),
    },
    Parser {
        name: "Pprof.cpu_profile",
        parse: |r| parse_debug(&Pprof::cpu_profile(), r),
    },
    Parser {
        name: "Pprof.cmdline",
        parse: |r| parse_debug(&Pprof::cmdline(), r),
    },
    Parser {
        name: "Pprof.trace",
        parse: |r| parse_debug(&Pprof::trace(), r),
    },
    Parser {
        name: "Pprof.lookup.debug",
        parse: |r| parse_debug(&Pprof::lookup("heap").debug(1), r),
    },
];

/// How many parsers the `op` byte chooses from: every operation, then the extras.
pub fn parser_count() -> usize {
    OPERATIONS.len() + EXTRA_PARSERS.len()
}

/// The parser the `op` byte chooses: `op % parser_count()` indexes [`OPERATIONS`] followed by
/// [`EXTRA_PARSERS`]. A new operation in the list is fuzzed with no change here; the seeds'
/// `op` bytes follow the list's order (`seeds/make_seeds.py` computes them from the names).
pub fn parser(op: u8) -> Parser {
    let index = usize::from(op) % parser_count();
    match OPERATIONS.get(index) {
        Some(operation) => Parser {
            name: operation.info.name,
            parse: operation.parse_sample,
        },
        None => EXTRA_PARSERS[index - OPERATIONS.len()],
    }
}

/// Parses `response` with `parser` and checks the invariants of the result.
pub fn parse(parser: Parser, response: Response<Vec<u8>>) {
    let status = response.status();
    if let Err(err) = (parser.parse)(response) {
        check_error(&err, status);
    }
}

/// Parses with `op`, formatting a successful output with `Debug`.
fn parse_debug<E: Endpoint>(op: &E, response: Response<Vec<u8>>) -> Result<(), ResponseError>
where
    E::Output: Debug,
{
    op.parse_response(response).map(|output| drop(format!("{output:?}")))
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Every seed of `parse_response` is named `<parser>-<n>` and its first byte (`op`) chooses
    /// that parser; every parser has a seed. Fails when the list of operations changed and the
    /// seeds were not regenerated (`python3 fuzz/seeds/make_seeds.py`).
    #[test]
    fn parse_response_seeds_choose_the_parser_they_are_named_after() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds/parse_response");
        let mut seeded = BTreeSet::new();
        for entry in std::fs::read_dir(dir).expect("seeds/parse_response") {
            let path = entry.expect("seed").path();
            let file = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("UTF-8 name")
                .to_owned();
            let (name, n) = file
                .rsplit_once('-')
                .unwrap_or_else(|| panic!("{file}: not <parser>-<n>"));
            assert!(n.parse::<u32>().is_ok(), "{file}: not <parser>-<n>");
            let bytes = std::fs::read(&path).expect("read seed");
            let chosen = parser(bytes[0]).name;
            assert_eq!(chosen, name, "{file} chooses {chosen}: rerun seeds/make_seeds.py");
            seeded.insert(name.to_owned());
        }
        let all: BTreeSet<String> = (0..parser_count()).map(|i| parser(i as u8).name.to_owned()).collect();
        let missing: Vec<_> = all.difference(&seeded).collect();
        assert!(missing.is_empty(), "no seed for {missing:?}");
    }

    #[test]
    fn every_op_byte_value_chooses_a_parser_and_each_parser_has_one_name() {
        assert!(parser_count() <= 256, "the op byte cannot reach every parser");
        let names: BTreeSet<&str> = (0..parser_count()).map(|i| parser(i as u8).name).collect();
        assert_eq!(names.len(), parser_count());
        for op in 0..=u8::MAX {
            parser(op);
        }
    }
}
