//! End-to-end checks of the `galmass` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::process::Command;

use galmass_core::{Galaxy, GalaxyMeta, Particles, Species};
use ndarray::array;

/// The binary under test. Tests run in parallel threads that write HDF5 files while others spawn children; the
/// HDF5 C library opens files without close-on-exec, so a child can inherit (and hold) another test's file lock.
/// The children therefore run without HDF5 file locking, which is what the race would otherwise break.
fn galmass() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_galmass"));
    command.env("HDF5_USE_FILE_LOCKING", "FALSE");
    command
}

#[test]
fn help_lists_existing_subcommands_and_version_prints() {
    let out = galmass().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for sub in ["info", "estimate", "maps", "synth", "gbdt", "directions", "inspect", "extract"] {
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
    g.set_species(
        Species::Stars,
        Particles::new(array![[1.0, 2.0, 3.0]], array![[0.0, 0.0, 1.0]], array![5.0]).unwrap(),
    );
    galmass_snapshot::galaxy_file::write(&path, &g).unwrap();
    let out = galmass().args(["info", "--json", "--galaxy"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["galaxy_id"], 3);
    assert_eq!(v["species"][0]["n_particles"], 1);

    let bad = dir.path().join("bad.h5");
    std::fs::write(&bad, b"not hdf5 at all").unwrap();
    let out = galmass().args(["info", "--galaxy"]).arg(&bad).output().unwrap();
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

/// A galaxy whose stars sit on a ring of radius 1 kpc in the x-y plane moving +-10 km/s along z, with truth.
fn ring_galaxy(dir: &std::path::Path) -> std::path::PathBuf {
    use galmass_core::galaxy::{log_spaced_radii, TruthProfiles};
    let n = 400;
    let pos = ndarray::Array2::from_shape_fn((n, 3), |(i, k)| {
        let phi = std::f64::consts::TAU * i as f64 / n as f64;
        [phi.cos(), phi.sin(), 0.0][k]
    });
    let vel = ndarray::Array2::from_shape_fn((n, 3), |(i, k)| {
        if k == 2 {
            if i % 2 == 0 {
                10.0
            } else {
                -10.0
            }
        } else {
            0.0
        }
    });
    let mut g = Galaxy::new(GalaxyMeta::new("cli-test", 5));
    g.set_species(Species::Stars, Particles::new(pos, vel, ndarray::Array1::from_elem(n, 1e5)).unwrap());
    g.truth = Some(TruthProfiles::from_particles(&g, log_spaced_radii(0.01, 100.0, 200).unwrap(), "all").unwrap());
    let path = dir.join("ring.h5");
    galmass_snapshot::galaxy_file::write(&path, &g).unwrap();
    path
}

#[test]
fn estimate_prints_every_estimator_with_truth() {
    let dir = tempfile::tempdir().unwrap();
    let path = ring_galaxy(dir.path());
    let out = galmass()
        .args(["estimate", "--los", "0,0,1", "--n-bootstrap", "20", "--json", "--galaxy"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Face-on ring: R_h = 1 kpc, sigma = 10 km/s (ddof 1 over 400 stars).
    assert!((v["r_h_kpc"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    let sigma2 = 100.0 * 400.0 / 399.0;
    let wolf = &v["wolf"];
    let expected = 4.0 * sigma2 / galmass_core::units::G_KPC_KMS2_PER_MSUN;
    assert!((wolf["mass_msun"].as_f64().unwrap() / expected - 1.0).abs() < 1e-9, "{wolf}");
    assert!((wolf["radius_kpc"].as_f64().unwrap() - 4.0 / 3.0).abs() < 1e-9);
    // All the ring's 4e7 Msun lies within 4/3 kpc.
    assert!((wolf["true_mass_msun"].as_f64().unwrap() / 4e7 - 1.0).abs() < 1e-9);
    for key in ["walker", "wolf", "errani", "campbell"] {
        assert!(v[key]["mass_err_msun"].is_number(), "{key}: {}", v[key]);
    }
    // Every star sits at R = R_h exactly: the 0.8..1.2 annulus holds them all.
    assert!(v["amorisco_evans"]["mass_msun"].is_number());

    let out = galmass()
        .args(["estimate", "--los", "0,1,0", "--n-stars", "50", "--seed", "3", "--velocity-error-kms", "2", "--galaxy"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout).unwrap().contains("wolf"));
}

#[test]
fn estimate_rejects_bad_input_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let path = ring_galaxy(dir.path());
    for args in [
        vec!["--los", "0,0,0"],
        vec!["--los", "1,2"],
        vec!["--los", "0,0,1", "--n-stars", "1"],
        vec!["--los", "0,0,1", "--velocity-error-kms", "-1"],
    ] {
        let out = galmass().arg("estimate").args(&args).arg("--galaxy").arg(&path).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let mut g = Galaxy::new(GalaxyMeta::new("no-stars", 1));
    g.set_species(Species::Dm, Particles::new(array![[1.0, 0.0, 0.0]], array![[0.0, 0.0, 0.0]], array![1.0]).unwrap());
    let no_stars = dir.path().join("dm.h5");
    galmass_snapshot::galaxy_file::write(&no_stars, &g).unwrap();
    let out = galmass().args(["estimate", "--los", "0,0,1", "--galaxy"]).arg(&no_stars).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("no stars"));
}

/// A Plummer sphere of stars with Gaussian velocities, written as a galaxy file.
fn plummer_galaxy(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let mut g = Galaxy::new(GalaxyMeta::new("cli-test", 9));
    g.set_species(Species::Stars, plummer_stars(n));
    let path = dir.join("plummer.h5");
    galmass_snapshot::galaxy_file::write(&path, &g).unwrap();
    path
}

/// `n` stars of a self-gravitating isotropic Plummer sphere (scale 0.5 kpc, 1e4 Msun each), drawn from its
/// distribution function by galmass-synth.
fn plummer_stars(n: usize) -> Particles {
    use galmass_synth::df::{DfAnisotropy, SphericalDf};
    let plummer = galmass_synth::profiles::Plummer { mass_msun: 1e4 * n as f64, a_kpc: 0.5 };
    let (pos, vel) = SphericalDf::new(&plummer, &plummer, DfAnisotropy::Isotropic).unwrap().sample(n, 12345).unwrap();
    Particles::new(pos, vel, ndarray::Array1::from_elem(n, 1e4)).unwrap()
}

#[test]
fn maps_stars_writes_hdf5_and_fits() {
    let dir = tempfile::tempdir().unwrap();
    let galaxy = plummer_galaxy(dir.path(), 3000);
    let out = dir.path().join("maps").join("m.h5");
    let run = galmass()
        .args([
            "maps",
            "stars",
            "--los",
            "0.3,-0.2,1",
            "--preset",
            "exposito2026",
            "--n-stars",
            "2000",
            "--seed",
            "4",
            "--fits",
            "--galaxy",
        ])
        .arg(&galaxy)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let file = hdf5::File::open(&out).unwrap();
    let star_xy = file.dataset("star_xy").unwrap().read_2d::<f64>().unwrap();
    let star_rv = file.dataset("star_rv").unwrap().read_2d::<f64>().unwrap();
    assert_eq!(star_xy.dim(), (64, 64));
    assert!(star_xy.iter().chain(star_rv.iter()).all(|v| v.is_finite() && *v >= 0.0));
    assert_eq!(file.attr("n_stars").unwrap().read_scalar::<u64>().unwrap(), 2000);
    let r_h = file.attr("r_h_kpc").unwrap().read_scalar::<f64>().unwrap();
    assert!((r_h - 0.5).abs() < 0.1, "{r_h}");
    let rv = file.dataset("star_rv").unwrap();
    let axis1 = rv.attr("axis1_coords").unwrap().read_1d::<f64>().unwrap();
    assert_eq!((axis1[0], axis1[63]), (0.0, 1.0)); // exposito2026: R / R_hl in 0..1
    let (fits_xy, _) = galmass_mock::fits::read_image(&out.with_extension("fits"), 0).unwrap();
    assert_eq!(fits_xy, star_xy);
    let (fits_rv, _) = galmass_mock::fits::read_image(&out.with_extension("fits"), 1).unwrap();
    assert_eq!(fits_rv, star_rv);
    // Nothing but the outputs in the folder (atomic writes leave no temporaries).
    let mut names: Vec<String> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, vec!["m.fits", "m.h5"]);
}

#[test]
fn maps_stars_reports_too_few_stars() {
    let dir = tempfile::tempdir().unwrap();
    let galaxy = plummer_galaxy(dir.path(), 3000);
    let out = dir.path().join("m.h5");
    let run = galmass()
        .args(["maps", "stars", "--los", "0,0,1", "--n-stars", "5", "--galaxy"])
        .arg(&galaxy)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!run.status.success());
    let err = String::from_utf8(run.stderr).unwrap();
    assert!(err.contains("star_xy") && err.contains("needs at least 3"), "{err}");
    assert!(!out.exists());
}

#[test]
fn synth_writes_a_resumable_suite_that_the_other_stages_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("suite");
    let synth = |n: &str| {
        galmass()
            .args([
                "synth",
                "--suite",
                "spheroids",
                "--n-galaxies",
                n,
                "--seed",
                "3",
                "--n-stars",
                "1500",
                "--n-dm",
                "4000",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap()
    };
    let first = synth("2");
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let catalogue = std::fs::read_to_string(out.join("catalogue.csv")).unwrap();
    assert_eq!(catalogue.lines().count(), 3, "{catalogue}");
    let bytes_before = std::fs::read(out.join("galaxy_000001.h5")).unwrap();
    // Re-running with more galaxies keeps the finished ones and adds the rest.
    let second = synth("3");
    assert!(second.status.success());
    assert!(String::from_utf8(second.stdout).unwrap().contains("1 galaxies written, 2 kept"));
    assert_eq!(std::fs::read(out.join("galaxy_000001.h5")).unwrap(), bytes_before);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["n_galaxies"], 3);
    assert!(manifest["skipped"].as_array().unwrap().is_empty());
    // The galaxy files feed the estimators, with truth.
    let est = galmass()
        .args(["estimate", "--los", "1,0,0", "--n-bootstrap", "10", "--json", "--galaxy"])
        .arg(out.join("galaxy_000002.h5"))
        .output()
        .unwrap();
    assert!(est.status.success(), "{}", String::from_utf8_lossy(&est.stderr));
    let v: serde_json::Value = serde_json::from_slice(&est.stdout).unwrap();
    // The CLI prints exactly what the pipeline computes (the estimators' accuracy against the truth is tested in
    // galmass-pipeline::estimate and galmass-estimators).
    let request = galmass_pipeline::estimate::EstimateRequest {
        projection: galmass_pipeline::projection::ProjectionRequest::new([1.0, 0.0, 0.0]),
        velocity_error_kms: None,
        params: galmass_estimators::classic::EstimatorParams { n_bootstrap: 10, ..Default::default() },
    };
    let library = galmass_pipeline::estimate::estimate_galaxy(&out.join("galaxy_000002.h5"), &request).unwrap();
    assert_eq!(v, library.to_json());
    assert!(v["wolf"]["true_mass_msun"].as_f64().unwrap() > 0.0, "{v}");
    // A bad config is a clear error.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "suite = \"x\"\nunknown_key = 1\n").unwrap();
    let run = galmass()
        .args(["synth", "--n-galaxies", "1", "--config"])
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("o"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8(run.stderr).unwrap().contains("bad.toml"));
}

#[test]
fn synth_suites_with_gas_write_plots_and_truth_scalars() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tng");
    let run = galmass()
        .args([
            "synth",
            "--suite",
            "tng-like",
            "--n-galaxies",
            "6",
            "--seed",
            "1",
            "--n-stars",
            "800",
            "--n-dm",
            "1500",
            "--n-gas",
            "400",
            "--plots",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let catalogue = std::fs::read_to_string(out.join("catalogue.csv")).unwrap();
    let header: Vec<&str> = catalogue.lines().next().unwrap().split(',').collect();
    for column in
        ["galaxy_id", "central", "stellar_mass_msun", "halo_mass_msun", "r_e_kpc", "kappa_co", "cold_gas_mass_msun"]
    {
        assert!(header.contains(&column), "{column} missing from {header:?}");
    }
    assert_eq!(catalogue.lines().count(), 7);
    for name in ["stellar_vs_halo_mass", "size_vs_mass", "kappa_co", "cold_gas", "inner_slope"] {
        let png =
            std::fs::read(out.join("plots").join(format!("{name}.png"))).unwrap_or_else(|e| panic!("{name}.png: {e}"));
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
    let info = galmass().args(["info", "--json", "--galaxy"]).arg(out.join("galaxy_000000.h5")).output().unwrap();
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let text = String::from_utf8(info.stdout).unwrap();
    assert!(text.contains("gas") && text.contains("tng-like"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let scalars = v["truth_scalars"].as_array().unwrap();
    assert!(scalars.iter().any(|pair| pair[0] == "kappa_co"), "{scalars:?}");
}

#[test]
fn native_suites_are_inspected_and_extracted_back_into_galaxy_files() {
    let dir = tempfile::tempdir().unwrap();
    for (suite, snapshot, snap) in [
        ("nihao-like", "native/g000001/g000001.01024", None),
        ("tng-like", "native/output", Some("99")),
        ("auriga-like", "native/halo_000001/output", Some("127")),
        ("fire-like", "native/m000001/output/snapdir_600", None),
    ] {
        let out = dir.path().join(suite);
        let run = galmass()
            .args([
                "synth",
                "--suite",
                suite,
                "--n-galaxies",
                "2",
                "--seed",
                "4",
                "--n-stars",
                "700",
                "--n-dm",
                "1400",
                "--n-gas",
                "300",
                "--native",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success(), "{suite}: {}", String::from_utf8_lossy(&run.stderr));
        // inspect sees the particles the suite wrote (tng-like: both galaxies in one box).
        let inspect_path = match suite {
            "tng-like" => out.join("native/output/snapdir_099/snap_099.0.hdf5"),
            "auriga-like" => out.join("native/halo_000001/output/snapdir_127"),
            _ => out.join(snapshot),
        };
        let run = galmass().args(["inspect", "--json", "--snapshot"]).arg(&inspect_path).output().unwrap();
        assert!(run.status.success(), "{suite}: {}", String::from_utf8_lossy(&run.stderr));
        let header: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let n_galaxies = if suite == "tng-like" { 2 } else { 1 };
        assert_eq!(header["n_particles"]["stars"], 700 * n_galaxies, "{header}");
        // extract gives back a centred galaxy with the galaxy file's fields and a truth profile.
        let galaxy_out = out.join("extracted.h5");
        let mut extract = galmass();
        extract
            .args([
                "extract",
                "--radius-kpc",
                "1e5",
                "--halo",
                if suite == "tng-like" { "1" } else { "0" },
                "--snapshot",
            ])
            .arg(out.join(snapshot))
            .arg("--out")
            .arg(&galaxy_out);
        if let Some(n) = snap {
            extract.args(["--snap", n]);
        }
        let run = extract.output().unwrap();
        assert!(run.status.success(), "{suite}: {}", String::from_utf8_lossy(&run.stderr));
        let back = galmass_snapshot::galaxy_file::read(&galaxy_out).unwrap();
        let original = galmass_snapshot::galaxy_file::read(&out.join("galaxy_000001.h5")).unwrap();
        for species in [Species::Stars, Species::Dm, Species::Gas] {
            assert_eq!(
                back.species(species).unwrap().len(),
                original.species(species).unwrap().len(),
                "{suite} {species}"
            );
            let (m_back, m_orig) = (
                back.species(species).unwrap().total_mass_msun(),
                original.species(species).unwrap().total_mass_msun(),
            );
            assert!((m_back / m_orig - 1.0).abs() < 1e-5, "{suite} {species}: {m_back} vs {m_orig}");
        }
        // Centred: the stellar half-mass radius counted from the extracted particles is the original's.
        let r_back = back.truth.as_ref().unwrap().half_mass_radius_kpc(Some(Species::Stars)).unwrap();
        let r_orig = galmass_core::TruthProfiles::from_particles(
            &original,
            galmass_core::galaxy::log_spaced_radii(0.01, 3000.0, 256).unwrap(),
            "all",
        )
        .unwrap()
        .half_mass_radius_kpc(Some(Species::Stars))
        .unwrap();
        assert!((r_back / r_orig - 1.0).abs() < 0.05, "{suite}: {r_back} vs {r_orig}");
        // --all extracts every halo, and --truth sphere counts every particle of the region within the sphere (here
        // the region holds only the galaxy, so the two truths agree).
        let all_out = out.join("all");
        let mut extract = galmass();
        extract
            .args(["extract", "--all", "--truth", "sphere", "--radius-kpc", "1e5", "--snapshot"])
            .arg(out.join(snapshot))
            .arg("--out")
            .arg(&all_out);
        if let Some(n) = snap {
            extract.args(["--snap", n]);
        }
        let run = extract.output().unwrap();
        assert!(run.status.success(), "{suite}: {}", String::from_utf8_lossy(&run.stderr));
        let n_files = std::fs::read_dir(&all_out)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("galaxy_"))
            .count();
        assert!(all_out.join("manifest.json").exists());
        assert_eq!(n_files, if suite == "tng-like" { 2 } else { 1 }, "{suite}");
        let first = galmass_snapshot::galaxy_file::read(&all_out.join("galaxy_000000.h5")).unwrap();
        let truth = first.truth.as_ref().unwrap();
        assert!(truth.source.to_attribute().contains("within the sphere"), "{suite}: {:?}", truth.source);
        let r_sphere = truth.half_mass_radius_kpc(Some(Species::Stars)).unwrap();
        let members =
            galmass_core::TruthProfiles::from_particles(&first, truth.radii_kpc().clone(), "members").unwrap();
        assert!((r_sphere / members.half_mass_radius_kpc(Some(Species::Stars)).unwrap() - 1.0).abs() < 1e-6, "{suite}");
        // A filter that fails skips the galaxy and writes nothing.
        let filters = out.join("filters.toml");
        std::fs::write(&filters, "[[filter]]\nkind = \"min-particles\"\nspecies = \"stars\"\nmin = 100000\n").unwrap();
        let skipped = out.join("skipped.h5");
        let mut extract = galmass();
        extract
            .args(["extract", "--halo", "0", "--snapshot"])
            .arg(out.join(snapshot))
            .arg("--filters")
            .arg(&filters)
            .arg("--out")
            .arg(&skipped);
        if let Some(n) = snap {
            extract.args(["--snap", n]);
        }
        let run = extract.output().unwrap();
        assert!(
            run.status.success() && String::from_utf8_lossy(&run.stdout).contains("skipped by filter min-particles"),
            "{}",
            String::from_utf8_lossy(&run.stdout)
        );
        assert!(!skipped.exists());
    }
}

#[test]
fn inspect_reads_the_real_changa_fixture() {
    let Some(fixture) = galmass_core::fixtures::fixture("tipsy-changa-tiny/tiny.000640") else { return };
    let run = galmass().args(["inspect", "--json", "--snapshot"]).arg(&fixture).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let header: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(header["n_particles"]["gas"], 171);
    assert_eq!(header["n_particles"]["dm"], 3078);
    assert_eq!(header["n_particles"]["stars"], 49);
    assert!((header["redshift"].as_f64().unwrap() - 2.9638282).abs() < 1e-6);
    let bad = galmass().args(["inspect", "--snapshot"]).arg(fixture.with_file_name("tiny.log")).output().unwrap();
    assert!(!bad.status.success());
}

/// Byte-level corruption of HDF5 snapshots can crash the HDF5 C library itself, so it is exercised in child
/// processes (`galmass inspect --read`: the header and every particle) with a timeout: each child must end in time, and one that
/// exits normally either succeeds or fails with a message naming the file.
#[test]
fn corrupted_hdf5_snapshots_are_handled_in_child_processes() {
    use rand::{Rng, SeedableRng};
    let Some(fixture) = galmass_core::fixtures::fixture("tng-api-cutouts/cutout_3.hdf5") else { return };
    let original = std::fs::read(&fixture).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let (mut ok, mut typed, mut crashed) = (0, 0, Vec::new());
    for case in 0..60 {
        let mut bytes = original.clone();
        if case % 3 == 0 {
            bytes.truncate(rng.random_range(8..original.len()));
        } else {
            for _ in 0..rng.random_range(1..16) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] ^= 1 << rng.random_range(0..8);
            }
        }
        let path = dir.path().join(format!("corrupt_{case}.hdf5"));
        std::fs::write(&path, &bytes).unwrap();
        let mut child = galmass()
            .args(["inspect", "--read", "--format", "arepo", "--snapshot"])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(start.elapsed() < std::time::Duration::from_secs(30), "case {case}: inspect hung");
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        match status.code() {
            Some(0) => ok += 1,
            Some(code) => {
                assert_eq!(code, 1, "case {case}: exit code {code} (101 is a panic): {stderr}");
                assert!(
                    stderr.contains(&format!("corrupt_{case}.hdf5")),
                    "case {case}: error without the file name: {stderr}"
                );
                typed += 1;
            }
            None => crashed.push((case, status)),
        }
    }
    eprintln!("corrupted HDF5: {ok} read, {typed} typed errors, {} children killed by a signal", crashed.len());
    assert!(typed > 0, "some corruption must be detected");
    // A crash is a bug (a panic aborts with a message, a signal means the C library or our code died): none allowed.
    assert!(crashed.is_empty(), "children killed by a signal: {crashed:?}");
}

#[test]
fn extract_all_skips_dark_subhalos_and_records_why() {
    use galmass_core::params::Params;
    use galmass_snapshot::arepo::writer::{write_tng_box, PlacedGalaxy, TngBoxParams};
    let dir = tempfile::tempdir().unwrap();
    let mut params = galmass_synth::suite::SuiteParams::preset("tng-like").unwrap();
    params.particles.set_counts(Some(500), Some(1000), Some(200));
    let bright = galmass_synth::suite::build_galaxy(&params.check().unwrap(), 0, 3).unwrap().galaxy;
    let mut dark = Galaxy::new(GalaxyMeta::new("dark", 1));
    dark.set_species(Species::Dm, bright.species(Species::Dm).unwrap().clone());
    let mut box_params = TngBoxParams::tng100_like(99, 2, 1);
    box_params.box_size_kpc = 40_000.0;
    let placed = [
        PlacedGalaxy { galaxy: &bright, group: 0, centre_kpc: [10_000.0; 3], velocity_kms: [0.0; 3] },
        PlacedGalaxy { galaxy: &dark, group: 1, centre_kpc: [30_000.0; 3], velocity_kms: [0.0; 3] },
    ];
    write_tng_box(&dir.path().join("output"), &box_params, &placed).unwrap();
    let out = dir.path().join("extracted");
    let run = galmass()
        .args(["extract", "--all", "--snap", "99", "--snapshot"])
        .arg(dir.path().join("output"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["written"], 1, "{manifest}");
    assert_eq!(manifest["skipped"][0]["reason"], "no star particles", "{manifest}");
    assert!(out.join("galaxy_000000.h5").exists() && !out.join("galaxy_000001.h5").exists());
}

/// A galaxy file as an astronomer writes it from their own code with h5py: only `format`, `version` and
/// `stars/{pos,vel,mass}` (h5py stores str attributes as variable-length UTF-8 and Python ints as int64). `info`,
/// `estimate` (truth counted from the particles) and `maps stars` all take it.
#[test]
fn a_minimal_h5py_style_galaxy_file_works_with_info_estimate_and_maps() {
    use hdf5::types::VarLenUnicode;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.h5");
    // Built in memory: reading back a file this process wrote races with other tests' children, which inherit
    // HDF5's descriptors (and its lock) while they run.
    let stars = plummer_stars(3000);
    {
        let f = hdf5::File::create(&path).unwrap();
        f.new_attr::<VarLenUnicode>()
            .create("format")
            .unwrap()
            .write_scalar(&"galmass-galaxy".parse::<VarLenUnicode>().unwrap())
            .unwrap();
        f.new_attr::<i64>().create("version").unwrap().write_scalar(&1).unwrap();
        let g = f.create_group("stars").unwrap();
        g.new_dataset_builder().with_data(stars.pos_kpc()).create("pos").unwrap();
        g.new_dataset_builder().with_data(stars.vel_kms()).create("vel").unwrap();
        g.new_dataset_builder().with_data(stars.mass_msun()).create("mass").unwrap();
    }
    let info = galmass().args(["info", "--json", "--galaxy"]).arg(&path).output().unwrap();
    assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
    let v: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(
        (v["suite"].as_str(), v["source"].as_str(), v["galaxy_id"].as_i64()),
        (Some("unknown"), Some("unknown"), Some(0))
    );
    assert_eq!(v["species"][0]["n_particles"], 3000);
    let est = galmass()
        .args(["estimate", "--los", "0,0,1", "--n-bootstrap", "0", "--json", "--galaxy"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(est.status.success(), "{}", String::from_utf8_lossy(&est.stderr));
    let v: serde_json::Value = serde_json::from_slice(&est.stdout).unwrap();
    assert!(v["wolf"]["true_mass_msun"].as_f64().unwrap() > 0.0, "{v}");
    let out = dir.path().join("maps.h5");
    let maps = galmass()
        .args(["maps", "stars", "--los", "0,0,1", "--galaxy"])
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(maps.status.success(), "{}", String::from_utf8_lossy(&maps.stderr));
    let products = galmass_pipeline::products::read_products(&out).unwrap();
    assert_eq!(products.projection.suite, "unknown");
    assert_eq!(products.stars.unwrap().maps.n_stars, 3000);
}

/// `galmass extract --manifest` extracts every native snapshot a suite's manifest lists (what `cargo xtask
/// reproduce-paper` runs, so that no suite layout lives in xtask).
#[test]
fn extract_reads_the_native_snapshots_a_suite_manifest_lists() {
    let dir = tempfile::tempdir().unwrap();
    for (suite, labels) in [("nihao-like", vec!["g000000", "g000001"]), ("tng-like", vec!["box"])] {
        let out = dir.path().join(suite);
        let run = galmass()
            .args(["synth", "--suite", suite, "--n-galaxies", "2", "--seed", "2", "--n-stars", "400"])
            .args(["--n-dm", "800", "--n-gas", "200", "--native", "--json", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(run.status.success(), "{suite}: {}", String::from_utf8_lossy(&run.stderr));
        let manifest: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let listed: Vec<&str> =
            manifest["native"].as_array().unwrap().iter().map(|e| e["label"].as_str().unwrap()).collect();
        assert_eq!(listed, labels, "{suite}");
        let extracted = dir.path().join(format!("{suite}-extracted"));
        let run = galmass()
            .args(["extract", "--all", "--suite", suite, "--manifest"])
            .arg(out.join("manifest.json"))
            .arg("--out")
            .arg(&extracted)
            .output()
            .unwrap();
        assert!(run.status.success(), "{suite}: {}", String::from_utf8_lossy(&run.stderr));
        let mut n_stars = 0;
        for label in &labels {
            for entry in std::fs::read_dir(extracted.join(label)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "h5") {
                    n_stars += galmass_snapshot::galaxy_file::read(&path).unwrap().stars().unwrap().len();
                }
            }
        }
        assert_eq!(n_stars, 800, "{suite}: both galaxies' stars come back");
    }
    // --manifest needs --all and refuses --snapshot.
    let run = galmass().args(["extract", "--manifest", "m.json", "--snapshot", "s", "--out", "o"]).output().unwrap();
    assert!(!run.status.success());
}

#[test]
fn maps_hi_observes_a_gas_disc_and_refuses_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("auriga");
    let run = galmass()
        .args(["synth", "--suite", "auriga-like", "--n-galaxies", "1", "--seed", "3"])
        .args(["--n-stars", "800", "--n-dm", "800", "--n-gas", "4000", "--out"])
        .arg(&suite)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let galaxy = suite.join("galaxy_000000.h5");
    let out = dir.path().join("hi.h5");
    let run = galmass()
        .args(["maps", "hi", "--preset", "exposito2026", "--los", "0.1,-0.4,0.9", "--json", "--seed", "2", "--fits"])
        .arg("--galaxy")
        .arg(&galaxy)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([64, 64, 64]));
    assert_eq!(v["unit"], "Jy/beam");
    assert_eq!(v["preset"], "exposito2026");
    let r_hi = v["r_hi_kpc"].as_f64().unwrap();
    assert!((v["pixel_kpc"].as_f64().unwrap() * 64.0 / (4.0 * r_hi) - 1.0).abs() < 1e-6, "{v}");
    assert!(out.exists());
    for name in ["hi.cube.fits", "hi.moments.fits"] {
        let bytes = std::fs::read(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(bytes.starts_with(b"SIMPLE  =") && bytes.len() % 2880 == 0, "{name}");
    }
    assert_eq!(v["fits"]["cube"].as_str().unwrap(), dir.path().join("hi.cube.fits").to_str().unwrap());
    // Options override the preset, and the record says so.
    let custom = dir.path().join("custom.h5");
    let run = galmass()
        .args(["maps", "hi", "--los", "0,0,1", "--json", "--beam-arcsec", "0", "--noise-rms-jy-arcsec2", "0"])
        .args(["--channels", "160", "--npix", "256", "--kernel", "wendland-c2", "--line-sigma-kms", "7"])
        .arg("--galaxy")
        .arg(&galaxy)
        .arg("--out")
        .arg(&custom)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!((v["preset"].as_str(), v["unit"].as_str()), (Some("custom"), Some("Jy/arcsec2")));
    let ratio = v["cube_hi_mass_msun"].as_f64().unwrap() / v["hi_mass_msun"].as_f64().unwrap();
    assert!((ratio - 1.0).abs() < 0.01, "{v}");
    // A noise level in Jy/beam without a beam, and a galaxy without gas, are clear errors.
    let run = galmass()
        .args(["maps", "hi", "--los", "0,0,1", "--beam-arcsec", "0", "--noise-rms-jy-beam", "1e-3", "--galaxy"])
        .arg(&galaxy)
        .arg("--out")
        .arg(dir.path().join("bad.h5"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("needs a beam"), "{}", String::from_utf8_lossy(&run.stderr));
    let stars_only = plummer_galaxy(dir.path(), 500);
    let run = galmass()
        .args(["maps", "hi", "--los", "0,0,1", "--galaxy"])
        .arg(&stars_only)
        .arg("--out")
        .arg(dir.path().join("none.h5"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("no gas"), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
fn maps_hi_makes_moments_of_a_real_cube() {
    let Some(cube) = galmass_core::fixtures::fixture("fits/NGC_2903.fits") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ngc2903.h5");
    let run = galmass()
        .args(["maps", "hi", "--no-mask", "--json", "--distance-mpc", "8.9", "--fits", "--png", "--fits-in"])
        .arg(&cube)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([113, 89, 70]));
    assert_eq!(v["unit"], "Jy/beam");
    assert!(dir.path().join("ngc2903.moments.fits").exists());
    assert!(std::fs::read(dir.path().join("ngc2903.png")).unwrap().starts_with(b"\x89PNG"));
    // A recipe with a beam finer than the data's is refused; a coarse one is matched.
    let run = galmass()
        .args(["maps", "hi", "--to-recipe", "--preset", "delosrios2023", "--fits-in"])
        .arg(&cube)
        .arg("--out")
        .arg(dir.path().join("fine.h5"))
        .output()
        .unwrap();
    assert!(!run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("cannot be sharpened"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let run = galmass()
        .args(["maps", "hi", "--to-recipe", "--preset", "exposito2026", "--r-hi-kpc", "40", "--json", "--fits-in"])
        .arg(&cube)
        .arg("--out")
        .arg(dir.path().join("matched.h5"))
        .output()
        .unwrap();
    assert!(!run.status.success(), "physical pixels need the galaxy's distance");
    assert!(String::from_utf8_lossy(&run.stderr).contains("--distance-mpc"));
    let run = galmass()
        .args(["maps", "hi", "--to-recipe", "--preset", "exposito2026", "--r-hi-kpc", "40", "--distance-mpc", "8.9"])
        .args(["--json", "--fits-in"])
        .arg(&cube)
        .arg("--out")
        .arg(dir.path().join("matched.h5"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([64, 64, 64]));
}
