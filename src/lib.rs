//! The workspace's root package (`nomad-workspace`, never published) holds the end-to-end tests
//! (`tests/`) and the examples (`examples/`). This library holds no code: it is here so that the
//! workspace README's Rust examples run as its doc tests (`cargo test --doc --workspace`). Each
//! crate's own README is tested by that crate, so that its packaged copy stays self-contained.

/// The workspace README (`README.md`), its examples compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct WorkspaceReadmeDoctests;
