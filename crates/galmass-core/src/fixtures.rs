//! Where tests find the real files in `../shared/fixtures` (small outputs of the simulation codes and telescopes,
//! with values read by the community's own tools in `expected_by_peers.json`).
//!
//! A test asks for a fixture with [`fixture`]: when the folder is absent (a clone without `../shared`), the test
//! skips with a printed reason; when `GALMASS_REQUIRE_FIXTURES=1` is set (as `.ci/run` does), an absent fixture
//! fails the test instead, so CI can never pass by skipping. `GALMASS_FIXTURES_DIR` points elsewhere.
//!
//! ```
//! if let Some(path) = galmass_core::fixtures::fixture("expected_by_peers.json") {
//!     assert!(path.exists());
//! }
//! ```

use std::path::PathBuf;

/// Environment variable that turns a missing fixture from a skip into a failure (`1`).
pub const REQUIRE_ENV: &str = "GALMASS_REQUIRE_FIXTURES";
/// Environment variable naming the fixtures folder (default: `../shared/fixtures` beside the workspace).
pub const DIR_ENV: &str = "GALMASS_FIXTURES_DIR";

/// The fixtures folder: `$GALMASS_FIXTURES_DIR`, or `shared/fixtures` beside the workspace root. The root is found
/// at run time, upwards from the running test's package (cargo sets `CARGO_MANIFEST_DIR` for test processes) or
/// the current folder, as the first folder whose `Cargo.toml` declares `[workspace]`: a compiled-in path would go
/// stale when a shared target folder serves several clones.
pub fn fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DIR_ENV) {
        return PathBuf::from(dir);
    }
    let start = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).or_else(|| std::env::current_dir().ok());
    let root = start.as_deref().and_then(|start| {
        start
            .ancestors()
            .find(|dir| std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|toml| toml.contains("[workspace]")))
    });
    match root {
        Some(root) => root.join("../shared/fixtures"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"),
    }
}

/// Whether missing fixtures must fail (`GALMASS_REQUIRE_FIXTURES=1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// The fixture at `relative` inside [`fixtures_dir`], or `None` (after printing why the test skips) when it is
/// absent.
///
/// # Panics
/// When the fixture is absent and [`required`]: this is for tests, where the panic is the test failing.
pub fn fixture(relative: &str) -> Option<PathBuf> {
    let path = fixtures_dir().join(relative);
    if path.exists() {
        return Some(path);
    }
    if required() {
        panic!("{REQUIRE_ENV}=1 but the fixture {} is absent", path.display());
    }
    eprintln!("skipped: fixture {} not found (set {REQUIRE_ENV}=1 to make this a failure)", path.display());
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_fixture_skips_unless_required() {
        // The process-wide variable is only read here, so the check is done on the decision itself.
        let absent = "no/such/fixture.bin";
        if required() {
            assert!(std::panic::catch_unwind(|| fixture(absent)).is_err());
        } else {
            assert_eq!(fixture(absent), None);
        }
        assert!(fixtures_dir().ends_with("shared/fixtures") || std::env::var_os(DIR_ENV).is_some());
    }
}
