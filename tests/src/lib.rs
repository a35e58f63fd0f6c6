//! # galmass-tests
//!
//! Workspace-level tests. [`tidy`] checks the architecture invariants of ARCHITECTURE.md against `cargo metadata`;
//! its integration test (`tests/tidy.rs`) runs the check on the real workspace.

pub mod tidy;
