//! `galmass inspect` and `galmass extract` on a tipsy file without its `.param` (issue 11): the header is reported
//! with the units unknown, and reading particles needs `--param FILE` or the unit flags.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use galmass_core::{Galaxy, GalaxyMeta, Particles, Species};
use galmass_snapshot::tipsy::param::{ParamFile, UnitConvention};
use galmass_snapshot::tipsy::write::{write_galaxies, TipsyWriteOptions, TipsyWritten};
use galmass_snapshot::PlacedGalaxy;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The binary, without HDF5 file locking (see tests/cli.rs).
fn galmass() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_galmass"));
    command.env("HDF5_USE_FILE_LOCKING", "FALSE");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A small galaxy: a clump of stars and dark matter about the origin, rotating about z.
fn galaxy(seed: u64) -> Galaxy {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut cloud = |n: usize, mass: f64| {
        let pos = Array2::from_shape_fn((n, 3), |_| rng.random_range(-3.0..3.0));
        let mut vel = Array2::from_shape_fn((n, 3), |_| rng.random_range(-20.0..20.0));
        for i in 0..n {
            vel[[i, 0]] -= 30.0 * pos[[i, 1]];
            vel[[i, 1]] += 30.0 * pos[[i, 0]];
        }
        Particles::new(pos, vel, Array1::from_elem(n, mass)).unwrap()
    };
    let stars = cloud(300, 1e5);
    let dm = cloud(200, 1e6);
    let mut g = Galaxy::new(GalaxyMeta::new("cli-tipsy", 0));
    g.set_species(Species::Stars, stars);
    g.set_species(Species::Dm, dm);
    g
}

/// A tipsy zoom of one galaxy (`zoom/s.01024`) with its `.param` moved to `params/elsewhere.param`, where the
/// search (the snapshot's folder, then its parent) does not look: the snapshot, what was written, the moved `.param`.
fn tipsy_without_param(dir: &Path) -> (PathBuf, TipsyWritten, PathBuf) {
    let g = galaxy(3);
    let path = dir.join("zoom").join("s.01024");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let placed = [PlacedGalaxy::new(&g, [1000.0, 2000.0, 3000.0], [10.0, 0.0, -5.0])];
    let options = TipsyWriteOptions::nihao_planck2014(0.5, UnitConvention::Pynbody28);
    let written = write_galaxies(&path, &placed, &options).unwrap();
    let elsewhere = dir.join("params").join("elsewhere.param");
    std::fs::create_dir_all(elsewhere.parent().unwrap()).unwrap();
    std::fs::rename(&written.param, &elsewhere).unwrap();
    (path, written, elsewhere)
}

#[test]
fn inspect_reports_the_header_of_a_tipsy_file_without_param_and_says_the_units_are_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, _) = tipsy_without_param(dir.path());

    let text = run(galmass().args(["inspect", "--snapshot"]).arg(&path));
    assert!(text.status.success(), "{}", stderr(&text));
    let out = stdout(&text);
    assert!(out.contains("units: unknown"), "{out}");
    assert!(out.contains("--param FILE"), "{out}");
    assert!(out.contains("tipsy header: time 0.666") && out.contains("n = 500"), "{out}");
    assert!(out.contains("Big-endian") && out.contains("Single precision"), "{out}");

    let json = run(galmass().args(["inspect", "--json", "--snapshot"]).arg(&path));
    assert!(json.status.success(), "{}", stderr(&json));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v["units"].is_null(), "{v}");
    assert!(v["scale_factor"].is_null() && v["redshift"].is_null(), "{v}");
    assert!(v["note"].as_str().unwrap().contains("units unknown"), "{v}");
    assert_eq!(v["n_particles"]["stars"], 300);
    assert_eq!(v["n_particles"]["dm"], 200);
    assert_eq!(v["n_particles"]["gas"], 0);
    assert_eq!(v["tipsy"]["n_total"], 500);
    assert_eq!(v["tipsy"]["byte_order"], "big");
    assert_eq!(v["tipsy"]["precision"], "single");
    assert!((v["tipsy"]["time"].as_f64().unwrap() - 1.0 / 1.5).abs() < 1e-12, "{v}");

    // Reading the particles needs the units, and the error says how to give them.
    let read = run(galmass().args(["inspect", "--read", "--snapshot"]).arg(&path));
    assert!(!read.status.success());
    let err = stderr(&read);
    assert!(err.contains("s.01024") && err.contains("units are unknown") && err.contains("--param"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn extract_needs_units_and_takes_a_param_file_or_unit_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, elsewhere) = tipsy_without_param(dir.path());
    let extract = |extra: &[&str], out: &Path| {
        let mut command = galmass();
        command.args(["extract", "--halo", "0", "--json", "--snapshot"]).arg(&path).arg("--out").arg(out);
        command.args(extra);
        run(&mut command)
    };

    let none = extract(&[], &dir.path().join("none.h5"));
    assert!(!none.status.success());
    let err = stderr(&none);
    assert!(err.contains("s.01024") && err.contains("units are unknown") && err.contains("--dkpcunit"), "{err}");
    assert!(!dir.path().join("none.h5").exists());

    let with_param = dir.path().join("param.h5");
    let run_param = extract(&["--param", elsewhere.to_str().unwrap()], &with_param);
    assert!(run_param.status.success(), "{}", stderr(&run_param));
    let report: serde_json::Value = serde_json::from_slice(&run_param.stdout).unwrap();
    assert_eq!(report["written"], 1, "{report}");
    assert_eq!(report["galaxies"][0]["n_particles"], 500, "{report}");

    // The same units as flags, read off the .param file.
    let param = ParamFile::read(&elsewhere).unwrap();
    let h = galmass_snapshot::tipsy::param::TipsyUnits::from_param(
        &param,
        UnitConvention::Pynbody28,
        1.0 / 1.5,
        &elsewhere,
    )
    .unwrap()
    .hubble_param
    .unwrap();
    let with_flags = dir.path().join("flags.h5");
    let flags = [
        "--dkpcunit",
        param.get("dKpcUnit").unwrap(),
        "--dmsolunit",
        param.get("dMsolUnit").unwrap(),
        "--comoving",
        "--hubble",
        &h.to_string(),
        "--omega-m",
        param.get("dOmega0").unwrap(),
        "--omega-lambda",
        param.get("dLambda").unwrap(),
    ];
    let run_flags = extract(&flags, &with_flags);
    assert!(run_flags.status.success(), "{}", stderr(&run_flags));
    let (a, b) = (
        galmass_snapshot::galaxy_file::read(&with_param).unwrap(),
        galmass_snapshot::galaxy_file::read(&with_flags).unwrap(),
    );
    assert!((a.meta.redshift - 0.5).abs() < 1e-9 && (b.meta.redshift - 0.5).abs() < 1e-9);
    let (sa, sb) = (a.stars().unwrap(), b.stars().unwrap());
    assert_eq!(sa.len(), 300);
    assert_eq!(sa.len(), sb.len());
    for (x, y) in sa.pos_kpc().iter().zip(sb.pos_kpc()) {
        assert!((x - y).abs() < 1e-6, "{x} {y}");
    }

    // A .param and unit flags together are refused by the parser; a unit flag alone needs its partner.
    let both = extract(&["--param", elsewhere.to_str().unwrap(), "--dkpcunit", "1", "--dmsolunit", "1"], &with_flags);
    assert!(!both.status.success());
    assert!(stderr(&both).contains("cannot be used with"), "{}", stderr(&both));
    let half = extract(&["--dkpcunit", "1"], &with_flags);
    assert!(!half.status.success());
    assert!(stderr(&half).contains("--dmsolunit"), "{}", stderr(&half));
}

#[test]
fn inspect_read_takes_the_units_too() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _, elsewhere) = tipsy_without_param(dir.path());
    let read =
        run(galmass().args(["inspect", "--read", "--json", "--param"]).arg(&elsewhere).arg("--snapshot").arg(&path));
    assert!(read.status.success(), "{}", stderr(&read));
    let v: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();
    assert!((v["redshift"].as_f64().unwrap() - 0.5).abs() < 1e-9, "{v}");
    assert!(v["units"].as_str().unwrap().contains("elsewhere.param"), "{v}");
    let flags =
        run(galmass().args(["inspect", "--read", "--dkpcunit", "1e4", "--dmsolunit", "1e14", "--snapshot"]).arg(&path));
    assert!(flags.status.success(), "{}", stderr(&flags));
    assert!(stdout(&flags).contains("units given explicitly"), "{}", stdout(&flags));
}
