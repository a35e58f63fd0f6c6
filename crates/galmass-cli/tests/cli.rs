//! End-to-end checks of the `galmass` binary.

use std::process::Command;

use galmass_core::{Galaxy, GalaxyMeta, Particles, Species};
use ndarray::array;

fn galmass() -> Command {
    Command::new(env!("CARGO_BIN_EXE_galmass"))
}

#[test]
fn help_lists_existing_subcommands_and_version_prints() {
    let out = galmass().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for sub in ["info", "directions"] {
        assert!(text.contains(sub), "--help lacks {sub}: {text}");
    }
    let out = galmass().arg("--version").output().unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), format!("galmass {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn info_reads_a_galaxy_and_reports_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.h5");
    let mut g = Galaxy::new(GalaxyMeta::new("cli-test", 3));
    g.set_species(Species::Stars, Particles::new(array![[1.0, 2.0, 3.0]], array![[0.0, 0.0, 1.0]], array![5.0]).unwrap());
    galmass_snapshot::galaxy_file::write(&path, &g).unwrap();
    let out = galmass().args(["info", "--json"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["galaxy_id"], 3);
    assert_eq!(v["species"][0]["n_particles"], 1);

    let bad = dir.path().join("bad.h5");
    std::fs::write(&bad, b"not hdf5 at all").unwrap();
    let out = galmass().arg("info").arg(&bad).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("bad.h5"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn directions_prints_right_handed_bases() {
    let out = galmass().args(["directions", "--set", "box-axes", "--json"]).output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[2]["e1"], serde_json::json!([1.0, 0.0, 0.0]));
}
