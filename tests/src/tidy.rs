//! Architecture invariants, checked from `cargo metadata --no-deps --format-version 1`.
//!
//! The rules are the ones written in ARCHITECTURE.md ("Architecture invariants"); change both together. Only
//! normal dependencies count: dev-dependencies are free (tests may use anything), build-dependencies are checked
//! like normal ones.
//!
//! ```
//! use galmass_tests::tidy::{check_dependencies, Metadata};
//! let metadata: Metadata = serde_json::from_str(r#"{"packages": [
//!     {"name": "galmass-metrics", "manifest_path": "/w/crates/galmass-metrics/Cargo.toml",
//!      "dependencies": [{"name": "hdf5-metno", "kind": null}]}
//! ]}"#).unwrap();
//! let violations = check_dependencies(&metadata);
//! assert_eq!(violations.len(), 1);
//! ```

use std::fmt;

use serde::Deserialize;

/// The part of `cargo metadata` output the checks read.
#[derive(Debug, Deserialize)]
pub struct Metadata {
    /// Workspace packages (with `--no-deps`).
    pub packages: Vec<Package>,
}

/// One package.
#[derive(Debug, Deserialize)]
pub struct Package {
    /// Package name.
    pub name: String,
    /// Path of its Cargo.toml.
    pub manifest_path: String,
    /// Declared dependencies.
    pub dependencies: Vec<Dependency>,
}

/// One declared dependency.
#[derive(Debug, Deserialize)]
pub struct Dependency {
    /// The depended-on package's name (not its rename).
    pub name: String,
    /// `null` for normal, `"dev"` or `"build"`.
    pub kind: Option<String>,
}

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The offending package.
    pub package: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.package, self.message)
    }
}

/// Which galmass crates each crate may depend on (normal dependencies). `None` means any.
const WORKSPACE_EDGES: &[(&str, Option<&[&str]>)] = &[
    ("galmass-core", Some(&[])),
    ("galmass-snapshot", Some(&["galmass-core"])),
    ("galmass-mock", Some(&["galmass-core"])),
    ("galmass-estimators", Some(&["galmass-core"])),
    ("galmass-metrics", Some(&["galmass-core"])),
    ("galmass-models", Some(&["galmass-core"])),
    ("galmass-synth", Some(&["galmass-core", "galmass-snapshot"])),
    ("galmass-plot", Some(&[])),
    ("galmass-pipeline", None),
    ("galmass-cli", None),
    ("galmass-tests", None),
    ("xtask", Some(&[])),
];

/// Heavy native or science dependencies and the only crates allowed to use them.
const CONTAINED: &[(&str, &[&str])] = &[
    ("hdf5-metno", &["galmass-snapshot", "galmass-pipeline", "galmass-cli"]),
    ("hdf5-metno-sys", &["galmass-snapshot", "galmass-pipeline", "galmass-cli"]),
    ("hdf5", &["galmass-snapshot", "galmass-pipeline", "galmass-cli"]),
    ("fitsio", &["galmass-mock", "galmass-cli"]),
    ("fitsio-sys", &["galmass-mock", "galmass-cli"]),
    ("tch", &["galmass-models"]),
    ("torch-sys", &["galmass-models"]),
];

/// Science crates xtask must not depend on (it stays thin: it orders stages and bootstraps toolchains).
const NOT_IN_XTASK: &[&str] = &["ndarray", "ndarray-stats", "rayon", "statrs", "rand", "serde_json", "toml"];

fn is_workspace_crate(name: &str) -> bool {
    name.starts_with("galmass-") || name == "xtask"
}

/// Every dependency-rule violation in `metadata`.
pub fn check_dependencies(metadata: &Metadata) -> Vec<Violation> {
    let mut violations = Vec::new();
    for package in &metadata.packages {
        let mut flag = |message: String| violations.push(Violation { package: package.name.clone(), message });
        let allowed_edges = match WORKSPACE_EDGES.iter().find(|(name, _)| *name == package.name) {
            Some((_, allowed)) => *allowed,
            None => {
                flag("has no architecture rule: add it to ARCHITECTURE.md and to tidy's WORKSPACE_EDGES".into());
                continue;
            }
        };
        for dep in package.dependencies.iter().filter(|d| d.kind.as_deref() != Some("dev")) {
            if is_workspace_crate(&dep.name) {
                if let Some(allowed) = allowed_edges {
                    if !allowed.contains(&dep.name.as_str()) {
                        flag(format!("must not depend on {} (allowed: {})", dep.name, list(allowed)));
                    }
                }
            }
            if let Some((_, allowed_in)) = CONTAINED.iter().find(|(name, _)| *name == dep.name) {
                if !allowed_in.contains(&package.name.as_str()) {
                    flag(format!("must not depend on {} (only {} may)", dep.name, list(allowed_in)));
                }
            }
            if package.name == "xtask" && NOT_IN_XTASK.contains(&dep.name.as_str()) {
                flag(format!("xtask stays thin and must not depend on {}", dep.name));
            }
        }
    }
    violations
}

fn list(names: &[&str]) -> String {
    if names.is_empty() {
        "no galmass crate".into()
    } else {
        names.join(", ")
    }
}

/// Lines of Rust source that do I/O (file system, standard streams, HDF5, FITS), for crates that must not.
pub fn io_lines(source: &str) -> Vec<(usize, String)> {
    const PATTERNS: &[&str] =
        &["std::fs", "std::io", "File::", "hdf5::", "fitsio::", "std::net", "OpenOptions", "println!", "eprintln!"];
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.split("//").next().unwrap_or("");
            PATTERNS.iter().any(|p| code.contains(p))
        })
        .map(|(i, line)| (i + 1, line.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (package, [(dependency, kind)]).
    type Spec<'a> = (&'a str, &'a [(&'a str, Option<&'a str>)]);

    fn metadata(packages: &[Spec<'_>]) -> Metadata {
        Metadata {
            packages: packages
                .iter()
                .map(|(name, deps)| Package {
                    name: (*name).into(),
                    manifest_path: format!("/w/{name}/Cargo.toml"),
                    dependencies: deps
                        .iter()
                        .map(|(d, k)| Dependency { name: (*d).into(), kind: k.map(Into::into) })
                        .collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_intended_graph_passes() {
        let m = metadata(&[
            ("galmass-core", &[("ndarray", None), ("approx", Some("dev"))]),
            ("galmass-snapshot", &[("galmass-core", None), ("hdf5-metno", None)]),
            ("galmass-synth", &[("galmass-core", None), ("galmass-snapshot", None)]),
            ("galmass-models", &[("galmass-core", None), ("tch", None), ("torch-sys", None)]),
            ("galmass-mock", &[("galmass-core", None), ("fitsio", None), ("galmass-snapshot", Some("dev"))]),
            ("galmass-cli", &[("galmass-models", None), ("hdf5-metno", None), ("fitsio", None)]),
            ("galmass-plot", &[("png", None), ("thiserror", None), ("tempfile", Some("dev"))]),
            ("xtask", &[("anyhow", None)]),
        ]);
        assert_eq!(check_dependencies(&m), vec![]);
    }

    #[test]
    fn a_forbidden_edge_between_leaves_fails() {
        let m = metadata(&[("galmass-metrics", &[("galmass-core", None), ("galmass-snapshot", None)])]);
        let v = check_dependencies(&m);
        assert_eq!(v.len(), 1);
        assert!(v[0].message.contains("must not depend on galmass-snapshot"), "{}", v[0]);
    }

    #[test]
    fn the_plot_crate_depends_on_no_galmass_crate() {
        let m = metadata(&[("galmass-plot", &[("png", None), ("galmass-core", None), ("galmass-synth", Some("dev"))])]);
        let v = check_dependencies(&m);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].message.contains("must not depend on galmass-core (allowed: no galmass crate)"), "{}", v[0]);
    }

    #[test]
    fn native_libraries_stay_contained() {
        let m = metadata(&[
            ("galmass-estimators", &[("galmass-core", None), ("tch", None)]),
            ("galmass-core", &[("hdf5-metno", Some("build"))]),
            ("galmass-snapshot", &[("fitsio", None)]),
        ]);
        let v = check_dependencies(&m);
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(v.iter().any(|x| x.package == "galmass-estimators" && x.message.contains("tch")));
        assert!(v.iter().any(|x| x.package == "galmass-core" && x.message.contains("hdf5-metno")));
    }

    #[test]
    fn unknown_crates_and_fat_xtask_fail() {
        let m = metadata(&[("galmass-newthing", &[]), ("xtask", &[("galmass-core", None), ("ndarray", None)])]);
        let v = check_dependencies(&m);
        assert_eq!(v.len(), 3, "{v:?}");
    }

    #[test]
    fn io_lines_are_found_outside_comments() {
        let src =
            "use std::fs::File;\n// std::fs in a comment is fine\nlet x = 1; // println! here too\nprintln!(\"x\");\n";
        let found = io_lines(src);
        assert_eq!(found.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![1, 4]);
    }
}
