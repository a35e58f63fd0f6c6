//! Architecture invariants of the real workspace (ARCHITECTURE.md), from `cargo metadata`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};
use std::process::Command;

use galmass_tests::tidy::{check_dependencies, io_lines, Metadata};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace root").to_owned()
}

fn metadata() -> Metadata {
    let manifest = workspace_root().join("Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline", "--manifest-path"])
        .arg(&manifest)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

#[test]
fn dependency_rules_hold() {
    let metadata = metadata();
    let names: Vec<&str> = metadata.packages.iter().map(|p| p.name.as_str()).collect();
    for expected in [
        "galmass-core",
        "galmass-snapshot",
        "galmass-synth",
        "galmass-mock",
        "galmass-estimators",
        "galmass-metrics",
        "galmass-models",
        "galmass-pipeline",
        "galmass-plot",
        "galmass-cli",
        "xtask",
    ] {
        assert!(names.contains(&expected), "workspace lacks {expected}: {names:?}");
    }
    let violations = check_dependencies(&metadata);
    assert!(
        violations.is_empty(),
        "architecture invariants broken:\n{}",
        violations.iter().map(|v| format!("  {v}\n")).collect::<String>()
    );
}

#[test]
fn metrics_does_no_io() {
    let src = workspace_root().join("crates/galmass-metrics/src");
    let mut offending = Vec::new();
    for entry in walk(&src) {
        let text = std::fs::read_to_string(&entry).expect("readable source");
        for (line, code) in io_lines(&text) {
            offending.push(format!("{}:{line}: {code}", entry.display()));
        }
    }
    assert!(offending.is_empty(), "galmass-metrics must not do I/O:\n{}", offending.join("\n"));
}

#[test]
fn every_crate_is_documented_and_uses_workspace_lints() {
    for package in metadata().packages {
        let manifest = PathBuf::from(&package.manifest_path);
        let toml = std::fs::read_to_string(&manifest).expect("readable manifest");
        assert!(toml.contains("[lints]\nworkspace = true"), "{} lacks `[lints] workspace = true`", package.name);
        let dir = manifest.parent().expect("manifest has a folder");
        let root = ["src/lib.rs", "src/main.rs"].iter().map(|f| dir.join(f)).find(|p| p.exists());
        let root = root.unwrap_or_else(|| panic!("{} has no src/lib.rs or src/main.rs", package.name));
        let text = std::fs::read_to_string(&root).expect("readable source");
        assert!(text.trim_start().starts_with("//!"), "{} does not start with //! crate docs", root.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
