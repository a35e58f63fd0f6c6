//! `galmass dataset`: a build killed with SIGKILL and resumed ends byte-identical to an uninterrupted one; shards
//! merged equal a single build; plan prints the counts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn galmass() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_galmass"));
    command.env("RUST_LOG", "warn").env("RAYON_NUM_THREADS", "2");
    command
}

fn tiny_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../galmass-pipeline/tests/data/tiny_dataset.toml")
}

fn build(out: &Path, extra: &[&str]) -> std::process::Output {
    let config = tiny_config();
    let mut args = vec!["dataset", "build", "--config", config.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    galmass().args(&args).output().unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn units(dir: &Path) -> usize {
    walk(&dir.join("work")).iter().filter(|p| p.to_string_lossy().ends_with(".unit.h5")).count()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_build_killed_with_sigkill_resumes_to_the_same_bytes_and_shards_merge_to_them_too() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let text = ok(&build(&whole, &[]));
    assert!(text.contains("projections"), "{text}");
    let reference = std::fs::read(whole.join("dataset.h5")).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["n_projections"].as_u64().unwrap() > 0);

    // Killed twice at different points (after the first units, after more), then resumed.
    let killed = dir.path().join("killed");
    for wanted in [1, 4] {
        let config = tiny_config();
        let mut child = galmass()
            .args(["dataset", "build", "--config", config.to_str().unwrap(), "--out", killed.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while units(&killed) < wanted && start.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // Nothing half-written under a final name: every unit present opens.
        for p in walk(&killed.join("work")) {
            if p.to_string_lossy().ends_with(".unit.h5") {
                assert!(hdf5::File::open(&p).is_ok(), "{} is not a whole HDF5 file", p.display());
            }
        }
    }
    ok(&build(&killed, &[]));
    assert_eq!(std::fs::read(killed.join("dataset.h5")).unwrap(), reference, "resumed build differs");

    // Two shards and a merge.
    let sharded = dir.path().join("sharded");
    for shard in ["0/2", "1/2"] {
        let text = ok(&build(&sharded, &["--shard", shard]));
        assert!(text.contains("merge"), "{text}");
    }
    assert!(!sharded.join("dataset.h5").exists());
    ok(&galmass().args(["dataset", "merge", "--out", sharded.to_str().unwrap()]).output().unwrap());
    assert_eq!(std::fs::read(sharded.join("dataset.h5")).unwrap(), reference, "merged shards differ");

    // A merge before every shard is done says which galaxies are missing.
    let half = dir.path().join("half");
    ok(&build(&half, &["--shard", "0/3"]));
    let out = galmass().args(["dataset", "merge", "--out", half.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unfinished"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn plan_prints_counts_without_building() {
    let dir = tempfile::tempdir().unwrap();
    let config = tiny_config();
    let out = galmass()
        .args([
            "dataset",
            "plan",
            "--config",
            config.to_str().unwrap(),
            "--out",
            dir.path().to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(summary["n_projections"], 9 * 4);
    assert_eq!(summary["galaxies"]["nihao-like"]["train"], 3);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "plan wrote files");
    let bad = galmass().args(["dataset", "build", "--config", "/nonexistent.toml", "--out", "x"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nonexistent.toml"));
}
