//! Architecture invariants of the real workspace (ARCHITECTURE.md), from `cargo metadata`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};
use std::process::Command;

use galmass_tests::tidy::{
    check_dependencies, io_lines, strip_comments, unused_dependencies, unused_workspace_dependencies, Metadata,
    PackageSources,
};

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

/// Every declared dependency is used by some source of its kind (the checker: `tidy::unused_dependencies`).
#[test]
fn no_declared_dependency_is_unused() {
    let mut unused = Vec::new();
    for package in metadata().packages {
        let dir = PathBuf::from(&package.manifest_path).parent().expect("manifest has a folder").to_owned();
        let read = |path: &Path| std::fs::read_to_string(path).expect("readable source");
        let mut sources = PackageSources::default();
        let build = dir.join("build.rs");
        if build.exists() {
            sources.build_script = strip_comments(&read(&build));
            sources.library.push_str(&sources.build_script);
            sources.all.push_str(&read(&build));
        }
        if dir.join("src").exists() {
            for file in walk(&dir.join("src")) {
                let text = read(&file);
                sources.library.push_str(&strip_comments(&text));
                sources.all.push_str(&text);
            }
        }
        for extra in ["tests", "examples", "benches"] {
            if dir.join(extra).exists() {
                for file in walk(&dir.join(extra)) {
                    sources.all.push_str(&read(&file));
                }
            }
        }
        unused.extend(unused_dependencies(&package, &sources).into_iter().map(|v| v.to_string()));
    }
    assert!(unused.is_empty(), "unused dependencies:\n  {}", unused.join("\n  "));
}

/// Every `[workspace.dependencies]` entry is declared by some member.
#[test]
fn no_workspace_dependency_is_unused() {
    let text = std::fs::read_to_string(workspace_root().join("Cargo.toml")).expect("readable root manifest");
    let root: toml::Value = toml::from_str(&text).expect("root manifest is TOML");
    let declared: Vec<String> = root["workspace"]["dependencies"]
        .as_table()
        .expect("[workspace.dependencies] is a table")
        .iter()
        .map(|(name, spec)| spec.get("package").and_then(|p| p.as_str()).unwrap_or(name).to_string())
        .collect();
    let unused = unused_workspace_dependencies(&declared, &metadata());
    assert!(unused.is_empty(), "[workspace.dependencies] no member uses: {unused:?}");
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
