//! What each agent operation is on the wire and what the agent requires of it, in one list.
//! Each operation's facts (`OperationInfo`, `Serves`) are defined in `crate::call`, next to the
//! call that errors name.

use http::{Request, Response};

use crate::call::OperationInfo;
use crate::config::Config;
use crate::error::{BuildError, ResponseError};

/// One entry of [`OPERATIONS`](super::OPERATIONS): an operation's [`OperationInfo`] and a
/// representative instance of it, type-erased, so that tests, fuzzers and tools can walk every
/// operation without naming each type.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Operation {
    /// What the operation is.
    pub info: OperationInfo,
    /// Builds the request of a representative instance (fixed sample arguments).
    pub sample_request: fn(&Config) -> Result<Request<Vec<u8>>, BuildError>,
    /// Parses `response` with a representative instance, keeping only success or the error.
    pub parse_sample: fn(Response<Vec<u8>>) -> Result<(), ResponseError>,
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// Builds the `OPERATIONS` list: one `Type => sample instance` line per operation.
macro_rules! operations {
    ($($ty:ident => $sample:expr,)*) => {
        /// Every agent operation, in the order of the table above: its [`OperationInfo`] and a
        /// representative instance. Adding an operation adds one line here (see the module docs'
        /// checklist); a test fails when an operation in this list is missing from the README,
        /// the tour, the test agent or the fuzz targets.
        pub const OPERATIONS: &[Operation] = &[$(
            Operation {
                info: $ty::INFO,
                sample_request: |config| {
                    let op: $ty = $sample;
                    $crate::endpoint::Endpoint::to_request(&op, config)
                },
                parse_sample: |response| {
                    let op: $ty = $sample;
                    $crate::endpoint::Endpoint::parse_response(&op, response).map(drop)
                },
            },
        )*];
    };
}
pub(crate) use operations;

#[cfg(test)]
mod tests {
    use super::super::OPERATIONS;
    use crate::Config;

    #[test]
    fn every_sample_request_has_the_method_and_path_its_info_states() {
        let config = Config::default();
        for op in OPERATIONS {
            let info = op.info;
            let request = (op.sample_request)(&config).unwrap_or_else(|e| panic!("{}: {e}", info.name));
            assert_eq!(request.method().as_str(), info.method, "{}", info.name);
            let path = request.uri().path();
            match info.path.strip_suffix("<profile>") {
                Some(prefix) => assert!(path.starts_with(prefix) && path.len() > prefix.len(), "{path}"),
                None => assert_eq!(path, info.path, "{}", info.name),
            }
            let streams = request.extensions().get::<crate::StreamingResponse>().is_some();
            assert_eq!(streams, info.streaming, "{}", info.name);
        }
    }

    #[test]
    fn operation_names_are_unique_and_in_the_module_table() {
        let table = include_str!("mod.rs");
        let mut names: Vec<&str> = OPERATIONS.iter().map(|op| op.info.name).collect();
        for name in &names {
            assert!(
                table.contains(&format!("//! | [`{name}`] |")),
                "{name} is missing from the agent module table"
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPERATIONS.len());
    }
}
