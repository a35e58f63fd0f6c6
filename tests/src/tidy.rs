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
    /// The name it is imported as, when renamed (`hdf5 = { package = "hdf5-metno" }`).
    #[serde(default)]
    pub rename: Option<String>,
}

impl Dependency {
    /// The identifier Rust code uses for it (`hdf5`, `galmass_core`).
    pub fn identifier(&self) -> String {
        self.rename.as_deref().unwrap_or(&self.name).replace('-', "_")
    }
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
    ("galmass-synth", Some(&["galmass-core"])),
    ("galmass-plot", Some(&["galmass-core"])),
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

/// Dependencies that are used without their name appearing in code, with the reason. Keep it short.
const USED_WITHOUT_PATH: &[(&str, &str, &str)] = &[];

/// The Rust sources of one package, split by what may use which dependency kind.
#[derive(Debug, Default, Clone)]
pub struct PackageSources {
    /// `src/**` and `build.rs`, comments removed: what normal dependencies must be used by.
    pub library: String,
    /// `build.rs`, comments removed: what build dependencies must be used by.
    pub build_script: String,
    /// Everything (`src/**` with doc comments, `tests/`, `examples/`, `benches/`, `build.rs`): what
    /// dev-dependencies must be used by (doctests included).
    pub all: String,
}

/// Code of `source` with `//` comments removed (doc comments included).
pub fn strip_comments(source: &str) -> String {
    source.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Whether `code` uses the crate imported as `ident` (a path `ident::`, `use ident`, `extern crate ident`, or a
/// macro from it such as `ident::json!`), on identifier boundaries.
pub fn mentions_crate(code: &str, ident: &str) -> bool {
    let bytes = code.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut start = 0;
    while let Some(found) = code[start..].find(ident) {
        let at = start + found;
        let end = at + ident.len();
        let before_ok = at == 0 || !is_ident(bytes[at - 1]);
        let after = &code[end..];
        let after_ok = after.starts_with("::")
            || after.starts_with(';')
            || after.starts_with(" as ")
            || (after.starts_with([' ', '\n', ',', '}']) && {
                let head = code[..at].trim_end();
                head.ends_with("use") || head.ends_with("crate") || head.ends_with('{') || head.ends_with(',')
            });
        if before_ok && after_ok {
            return true;
        }
        start = end;
    }
    false
}

/// Declared dependencies of `package` that none of its sources use: a normal dependency unused by `src/`, a
/// build dependency unused by `build.rs`, a dev-dependency unused anywhere.
pub fn unused_dependencies(package: &Package, sources: &PackageSources) -> Vec<Violation> {
    let mut violations = Vec::new();
    for dep in &package.dependencies {
        if USED_WITHOUT_PATH.iter().any(|(p, d, _)| *p == package.name && *d == dep.name) {
            continue;
        }
        let ident = dep.identifier();
        let (code, where_) = match dep.kind.as_deref() {
            None => (&sources.library, "src/ (or build.rs)"),
            Some("build") => (&sources.build_script, "build.rs"),
            _ => (&sources.all, "any source, test, example or bench"),
        };
        if !mentions_crate(code, &ident) {
            let kind = dep.kind.as_deref().map_or("dependency".to_string(), |k| format!("{k}-dependency"));
            violations.push(Violation {
                package: package.name.clone(),
                message: format!("declares the {kind} {} but no {where_} uses `{ident}`: drop it", dep.name),
            });
        }
    }
    violations
}

/// Entries of `[workspace.dependencies]` that no member declares (entries naming a member themselves, kept for
/// other projects depending on single crates, do not count).
pub fn unused_workspace_dependencies(workspace_dependencies: &[String], metadata: &Metadata) -> Vec<String> {
    workspace_dependencies
        .iter()
        .filter(|name| !metadata.packages.iter().any(|p| &&p.name == name))
        .filter(|name| {
            !metadata
                .packages
                .iter()
                .any(|p| p.dependencies.iter().any(|d| &&d.name == name || d.rename.as_deref() == Some(name.as_str())))
        })
        .cloned()
        .collect()
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
                        .map(|(d, k)| Dependency { name: (*d).into(), kind: k.map(Into::into), rename: None })
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
            ("galmass-synth", &[("galmass-core", None), ("galmass-snapshot", Some("dev"))]),
            ("galmass-models", &[("galmass-core", None), ("tch", None), ("torch-sys", None)]),
            ("galmass-mock", &[("galmass-core", None), ("fitsio", None), ("galmass-snapshot", Some("dev"))]),
            ("galmass-cli", &[("galmass-models", None), ("hdf5-metno", None), ("fitsio", None)]),
            ("galmass-plot", &[("galmass-core", None), ("plotters", None), ("tempfile", Some("dev"))]),
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
    fn the_plot_crate_depends_on_core_only() {
        let m = metadata(&[("galmass-plot", &[("png", None), ("galmass-synth", None), ("galmass-core", None)])]);
        let v = check_dependencies(&m);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].message.contains("must not depend on galmass-synth (allowed: galmass-core)"), "{}", v[0]);
    }

    #[test]
    fn synth_may_no_longer_depend_on_snapshot() {
        let m = metadata(&[("galmass-synth", &[("galmass-core", None), ("galmass-snapshot", None)])]);
        let v = check_dependencies(&m);
        assert_eq!(v.len(), 1, "{v:?}");
    }

    fn package(deps: &[(&str, Option<&str>, Option<&str>)]) -> Package {
        Package {
            name: "galmass-synth".into(),
            manifest_path: "/w/crates/galmass-synth/Cargo.toml".into(),
            dependencies: deps
                .iter()
                .map(|(n, k, r)| Dependency { name: (*n).into(), kind: k.map(Into::into), rename: r.map(Into::into) })
                .collect(),
        }
    }

    #[test]
    fn an_unused_galmass_dependency_is_caught() {
        // galmass-synth as it was: galmass-snapshot declared, nothing of it used.
        let p = package(&[("galmass-core", None, None), ("galmass-snapshot", None, None)]);
        let code = "use galmass_core::Particles;\n/// Written by [`galmass_snapshot::galaxy_file`].\nfn f() {}";
        let sources = PackageSources { library: strip_comments(code), all: code.into(), ..Default::default() };
        let v = unused_dependencies(&p, &sources);
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].message.contains("galmass-snapshot") && v[0].message.contains("drop it"), "{}", v[0]);
        // Used in code: clean.
        let used = PackageSources {
            library: "use galmass_core::Particles;\nfn g() { galmass_snapshot::galaxy_file::read(p); }".into(),
            ..Default::default()
        };
        assert!(unused_dependencies(&p, &used).is_empty());
    }

    #[test]
    fn dependency_kinds_renames_and_boundaries() {
        let p = package(&[
            ("hdf5-metno", None, Some("hdf5")),
            ("approx", Some("dev"), None),
            ("cc", Some("build"), None),
            ("rand", None, None),
        ]);
        // `rand_chacha::` is not `rand::`; a dev-dependency in a test counts; hdf5 is found under its rename.
        let sources = PackageSources {
            library: "use hdf5::File;\nlet r = rand_chacha::ChaCha8Rng::seed_from_u64(1);".into(),
            build_script: String::new(),
            all: "use approx::assert_relative_eq;".into(),
        };
        let v = unused_dependencies(&p, &sources);
        let names: Vec<&str> = v.iter().map(|x| x.message.split_whitespace().nth(3).unwrap_or("")).collect();
        assert_eq!(names, vec!["cc", "rand"], "{v:?}");
        assert!(mentions_crate("use rand::Rng;", "rand"));
        assert!(mentions_crate("use {rand, serde};", "rand"));
        assert!(!mentions_crate("operand::x", "rand"));
    }

    #[test]
    fn unused_workspace_dependencies_are_listed() {
        let m = metadata(&[("galmass-core", &[("ndarray", None)]), ("galmass-metrics", &[])]);
        let declared = vec!["ndarray".to_string(), "ndarray-stats".to_string(), "galmass-metrics".to_string()];
        assert_eq!(unused_workspace_dependencies(&declared, &m), vec!["ndarray-stats".to_string()]);
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
