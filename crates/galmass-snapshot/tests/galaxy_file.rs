//! Galaxy-file round trips, a file written by h5py, and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};

use galmass_core::atomic::AtomicWriteError;
use galmass_core::galaxy::log_spaced_radii;
use galmass_core::kinematics::aligned_frame_and_kappa_co;
use galmass_core::particles::BandLuminosity;
use galmass_core::{Galaxy, GalaxyMeta, Particles, Rotation, ScalarField, Species, TruthProfiles};
use galmass_snapshot::{galaxy_file, SnapshotError};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_particles(n: usize, rng: &mut ChaCha8Rng) -> Particles {
    let pos = Array2::from_shape_fn((n, 3), |_| rng.random_range(-10.0..10.0));
    let vel = Array2::from_shape_fn((n, 3), |_| rng.random_range(-200.0..200.0));
    let mass = Array1::from_shape_fn(n, |_| rng.random_range(1e4..1e6));
    Particles::new(pos, vel, mass).unwrap()
}

/// A galaxy with every species and every optional field.
fn full_galaxy() -> Galaxy {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut meta = GalaxyMeta::new("nihao-like", 17);
    meta.redshift = 0.25;
    meta.source = "synthetic: nihao-like seed 5".into();
    meta.source_halo_id = Some(99);
    meta.rotation_to_aligned = Rotation::random(8);
    let mut g = Galaxy::new(meta);
    let mut stars = random_particles(300, &mut rng);
    let n = stars.len();
    stars.set_field(ScalarField::AgeGyr, Array1::from_shape_fn(n, |i| i as f64 * 0.01)).unwrap();
    stars.set_field(ScalarField::Metallicity, Array1::from_elem(n, 0.02)).unwrap();
    stars.set_ids(Array1::from_shape_fn(n, |i| (i as u64) << 40)).unwrap();
    stars
        .set_luminosity("r", BandLuminosity { lum_lsun: Array1::from_elem(n, 3.5e4), solar_abs_mag_ab: 4.65 })
        .unwrap();
    stars
        .set_luminosity("g", BandLuminosity { lum_lsun: Array1::from_elem(n, 2.0e4), solar_abs_mag_ab: 5.11 })
        .unwrap();
    let mut gas = random_particles(200, &mut rng);
    let n = gas.len();
    for field in [
        ScalarField::HiMassMsun,
        ScalarField::TemperatureK,
        ScalarField::SmoothingLengthKpc,
        ScalarField::SfrMsunPerYr,
        ScalarField::DensityMsunPerKpc3,
        ScalarField::PotentialKms2,
    ] {
        gas.set_field(field, Array1::from_shape_fn(n, |i| 1.0 + i as f64)).unwrap();
    }
    let mut dm = random_particles(400, &mut rng);
    dm.set_high_res(Array1::from_shape_fn(400, |i| i % 7 != 0)).unwrap();
    let bh = random_particles(1, &mut rng);
    g.set_species(Species::Stars, stars);
    g.set_species(Species::Gas, gas);
    g.set_species(Species::Dm, dm);
    g.set_species(Species::Bh, bh);
    let mut truth =
        TruthProfiles::from_particles(&g, log_spaced_radii(0.01, 100.0, 256).unwrap(), "all particles").unwrap();
    truth.set_scalar("kappa_co", 0.31).unwrap();
    truth.set_scalar("central", 1.0).unwrap();
    g.truth = Some(truth);
    g
}

#[test]
fn round_trip_preserves_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folder/galaxy.h5");
    let g = full_galaxy();
    galaxy_file::write(&path, &g).unwrap();
    let back = galaxy_file::read(&path).unwrap();
    assert_eq!(back, g);
    // Atomic write: only the final file remains.
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["galaxy.h5".to_string()]);
    // Absent optional fields stay absent.
    assert!(back.species(Species::Stars).unwrap().field(ScalarField::HiMassMsun).is_none());
    assert!(back.species(Species::Gas).unwrap().ids().is_none());
}

#[test]
fn round_trip_of_a_minimal_galaxy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("minimal.h5");
    let mut g = Galaxy::new(GalaxyMeta::new("tiny", 0));
    g.set_species(Species::Stars, Particles::empty());
    galaxy_file::write(&path, &g).unwrap();
    let back = galaxy_file::read(&path).unwrap();
    assert_eq!(back, g);
    assert!(back.species(Species::Dm).is_none());
    assert!(back.truth.is_none());
    assert_eq!(back.meta.source_halo_id, None);
}

fn test_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

#[test]
fn reads_a_file_written_by_h5py() {
    let g = galaxy_file::read(&test_data("h5py_galaxy.h5")).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(test_data("h5py_galaxy.json")).unwrap()).unwrap();
    assert_eq!(g.meta.suite, "h5py-written");
    assert_eq!(g.meta.galaxy_id, 42);
    assert_eq!(g.meta.redshift, 0.5);
    assert_eq!(g.meta.source_halo_id, Some(1234));
    let c = 30f64.to_radians().cos();
    assert!((g.meta.rotation_to_aligned.matrix()[1][1] - c).abs() < 1e-15);
    assert!(g.species(Species::Bh).is_none());
    for (name, e) in expected["species"].as_object().unwrap() {
        let species = Species::from_group_name(name).unwrap();
        let p = g.species(species).unwrap();
        assert_eq!(p.len() as u64, e["n"].as_u64().unwrap());
        let total = e["total_mass_msun"].as_f64().unwrap();
        assert!((p.total_mass_msun() - total).abs() <= 1e-12 * total);
        for k in 0..3 {
            // float32 on disk, widened exactly.
            assert_eq!(p.pos_kpc()[[0, k]], e["first_pos_kpc"][k].as_f64().unwrap());
            assert_eq!(p.vel_kms()[[p.len() - 1, k]], e["last_vel_kms"][k].as_f64().unwrap());
        }
        let flags = p.high_res().unwrap();
        assert_eq!(flags.iter().filter(|f| **f).count() as u64, e["n_high_res"].as_u64().unwrap());
        assert_eq!(p.ids().unwrap()[0], 1000);
    }
    let stars = g.stars().unwrap();
    assert_eq!(stars.field(ScalarField::AgeGyr).unwrap()[0], expected["first_star_age_gyr"].as_f64().unwrap());
    assert_eq!(stars.luminosity("r").unwrap().solar_abs_mag_ab, 4.65);
    let gas = g.species(Species::Gas).unwrap();
    assert_eq!(gas.field(ScalarField::TemperatureK).unwrap()[0], expected["first_gas_temperature_k"].as_f64().unwrap());
    let truth = g.truth.as_ref().unwrap();
    assert_eq!(truth.radii_kpc().len(), 200);
    let total = expected["truth_total_at_index_150_msun"].as_f64().unwrap();
    assert!((truth.total_msun()[150] - total).abs() <= 1e-9 * total);
    assert_eq!(truth.half_mass_radius_kpc(None), Some(5.0));
}

/// Writes a valid galaxy, then lets `damage` break it with raw HDF5 calls.
fn damaged(dir: &Path, name: &str, damage: impl FnOnce(&hdf5::File)) -> PathBuf {
    let path = dir.join(name);
    galaxy_file::write(&path, &full_galaxy()).unwrap();
    let file = hdf5::File::open_rw(&path).unwrap();
    damage(&file);
    drop(file);
    path
}

fn message(err: SnapshotError) -> String {
    err.to_string()
}

#[test]
fn bad_input_gets_typed_errors_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();

    let missing = damaged(dir.path(), "missing.h5", |f| f.unlink("stars/vel").unwrap());
    let err = galaxy_file::read(&missing).unwrap_err();
    assert!(matches!(err, SnapshotError::Missing { ref name, .. } if name == "stars/vel"), "{err}");
    assert!(message(err).contains("missing.h5"));

    let nan = damaged(dir.path(), "nan.h5", |f| {
        let ds = f.dataset("gas/mass").unwrap();
        let mut mass = ds.read_1d::<f64>().unwrap();
        mass[5] = f64::NAN;
        ds.write(&mass).unwrap();
    });
    let err = message(galaxy_file::read(&nan).unwrap_err());
    assert!(
        err.contains("nan.h5") && err.contains("`gas`") && err.contains("`mass`") && err.contains("index 5"),
        "{err}"
    );

    let shape = damaged(dir.path(), "shape.h5", |f| {
        f.unlink("dm/pos").unwrap();
        f.new_dataset_builder().with_data(&Array2::<f64>::zeros((400, 2))).create("dm/pos").unwrap();
    });
    let err = galaxy_file::read(&shape).unwrap_err();
    assert!(matches!(err, SnapshotError::BadField { ref field, .. } if field == "dm/pos"), "{err}");

    let length = damaged(dir.path(), "length.h5", |f| {
        f.unlink("stars/age_gyr").unwrap();
        f.new_dataset_builder().with_data(&Array1::<f64>::zeros(3)).create("stars/age_gyr").unwrap();
    });
    let err = message(galaxy_file::read(&length).unwrap_err());
    assert!(err.contains("age_gyr") && err.contains("length 300"), "{err}");

    // An absent rotation is no longer an error (issue 11: minimal files load): it is computed from the stars.
    let no_rotation = damaged(dir.path(), "norot.h5", |f| f.delete_attr("rotation_to_aligned").unwrap());
    let back = galaxy_file::read(&no_rotation).unwrap();
    let (expected, _) = aligned_frame_and_kappa_co(back.stars().unwrap()).unwrap();
    assert_eq!(back.meta.rotation_to_aligned, expected);

    let not_rotation = damaged(dir.path(), "notrot.h5", |f| {
        f.delete_attr("rotation_to_aligned").unwrap();
        f.new_attr_builder().with_data(&Array2::<f64>::eye(3).mapv(|v| 2.0 * v)).create("rotation_to_aligned").unwrap();
    });
    let err = message(galaxy_file::read(&not_rotation).unwrap_err());
    assert!(err.contains("not orthonormal"), "{err}");

    let truth = damaged(dir.path(), "truth.h5", |f| f.unlink("truth/mass_dm_msun").unwrap());
    let err = galaxy_file::read(&truth).unwrap_err();
    assert!(matches!(err, SnapshotError::Missing { ref name, .. } if name == "truth/mass_dm_msun"), "{err}");

    let other = dir.path().join("other.h5");
    {
        let f = hdf5::File::create(&other).unwrap();
        f.new_attr::<hdf5::types::VarLenUnicode>()
            .create("format")
            .unwrap()
            .write_scalar(&"gadget".parse::<hdf5::types::VarLenUnicode>().unwrap())
            .unwrap();
    }
    assert!(matches!(galaxy_file::read(&other).unwrap_err(), SnapshotError::NotAGalaxyFile { .. }));

    // Truncated: the first half of a valid file.
    let good = dir.path().join("good.h5");
    galaxy_file::write(&good, &full_galaxy()).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.h5");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = message(galaxy_file::read(&truncated).unwrap_err());
    assert!(err.contains("truncated.h5"), "{err}");

    let garbage = dir.path().join("garbage.h5");
    std::fs::write(&garbage, b"definitely not HDF5").unwrap();
    assert!(message(galaxy_file::read(&garbage).unwrap_err()).contains("garbage.h5"));
    assert!(message(galaxy_file::read(&dir.path().join("absent.h5")).unwrap_err()).contains("absent.h5"));
}

#[test]
fn failed_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    // A NUL in a string attribute cannot be written: the write fails and no file (or temporary) is left.
    let mut g = Galaxy::new(GalaxyMeta::new("bad\0suite", 1));
    g.set_species(Species::Stars, Particles::empty());
    let path = dir.path().join("g.h5");
    let err = galaxy_file::write(&path, &g).unwrap_err();
    assert!(matches!(err, SnapshotError::BadField { ref field, .. } if field == "suite"), "{err}");
    assert!(err.to_string().contains("g.h5") && !err.to_string().contains(".tmp-"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_failed_rename_is_an_io_error_naming_the_destination() {
    let dir = tempfile::tempdir().unwrap();
    // A non-empty folder where the file should go: the HDF5 write succeeds, the rename into place cannot.
    let path = dir.path().join("g.h5");
    std::fs::create_dir_all(path.join("occupied")).unwrap();
    let err = galaxy_file::write(&path, &full_galaxy()).unwrap_err();
    match &err {
        SnapshotError::Write(AtomicWriteError::Io { path: dest, step, .. }) => {
            assert_eq!(dest, &path);
            assert_eq!(*step, "renaming into place");
        }
        other => panic!("expected an I/O write error, got {other:?}"),
    }
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec!["g.h5".to_owned()], "no temporary left beside it");
}

/// Writes the smallest file galmass reads the way h5py writes it: f64 datasets, `format` as a variable-length UTF-8
/// string (h5py's `str`) or, with `fixed_ascii`, as numpy's fixed-length `S` bytes, `version` an int64.
fn minimal_file(path: &Path, stars: &Particles, fixed_ascii: bool) {
    let f = hdf5::File::create(path).unwrap();
    if fixed_ascii {
        let text = hdf5::types::FixedAscii::<14>::from_ascii(b"galmass-galaxy").unwrap();
        f.new_attr::<hdf5::types::FixedAscii<14>>().create("format").unwrap().write_scalar(&text).unwrap();
    } else {
        let text: hdf5::types::VarLenUnicode = "galmass-galaxy".parse().unwrap();
        f.new_attr::<hdf5::types::VarLenUnicode>().create("format").unwrap().write_scalar(&text).unwrap();
    }
    f.new_attr::<i64>().create("version").unwrap().write_scalar(&1i64).unwrap();
    let g = f.create_group("stars").unwrap();
    g.new_dataset_builder().with_data(stars.pos_kpc()).create("pos").unwrap();
    g.new_dataset_builder().with_data(stars.vel_kms()).create("vel").unwrap();
    g.new_dataset_builder().with_data(stars.mass_msun()).create("mass").unwrap();
}

#[test]
fn a_minimal_file_loads_with_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    // A rotating disc of stars about the axis (1, 1, 0) / sqrt(2): the computed frame must take it to +z.
    let n = 500;
    let axis = [std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::FRAC_1_SQRT_2, 0.0];
    let (e1, e2) = ([0.0, 0.0, -1.0], [std::f64::consts::FRAC_1_SQRT_2, -std::f64::consts::FRAC_1_SQRT_2, 0.0]);
    let mut pos = Array2::zeros((n, 3));
    let mut vel = Array2::zeros((n, 3));
    for i in 0..n {
        let (r, phi) = (rng.random_range(0.5..10.0), rng.random_range(0.0..std::f64::consts::TAU));
        for k in 0..3 {
            pos[[i, k]] = r * (phi.cos() * e2[k] + phi.sin() * e1[k]);
            // v = axis x r: counter-clockwise about the axis.
            vel[[i, k]] = 150.0 * (-phi.sin() * e2[k] + phi.cos() * e1[k]);
        }
    }
    let check =
        (0..3).map(|k| axis[(k + 1) % 3] * e2[(k + 2) % 3] - axis[(k + 2) % 3] * e2[(k + 1) % 3]).collect::<Vec<_>>();
    assert!((0..3).all(|k| (check[k] - e1[k]).abs() < 1e-12), "(e2, e1, axis) right-handed");
    let stars = Particles::new(pos, vel, Array1::from_elem(n, 1e5)).unwrap();
    for fixed_ascii in [false, true] {
        let path = dir.path().join(format!("minimal_{fixed_ascii}.h5"));
        minimal_file(&path, &stars, fixed_ascii);
        let g = galaxy_file::read(&path).unwrap();
        assert_eq!(g.meta.suite, "unknown");
        assert_eq!(g.meta.source, "unknown");
        assert_eq!(g.meta.galaxy_id, 0);
        assert_eq!(g.meta.redshift, 0.0);
        assert_eq!(g.meta.source_halo_id, None);
        assert!(g.truth.is_none() && g.species(Species::Gas).is_none());
        assert_eq!(g.stars().unwrap(), &stars);
        let z = g.meta.rotation_to_aligned.apply(axis);
        assert!((z[2] - 1.0).abs() < 1e-9, "the stars' spin goes to +z: {z:?}");
        // What it reads, it writes back in full.
        let full = dir.path().join(format!("full_{fixed_ascii}.h5"));
        galaxy_file::write(&full, &g).unwrap();
        assert_eq!(galaxy_file::read(&full).unwrap().meta, g.meta);
    }
    // A file without stars keeps the identity; a wrong-typed attribute that is present is still an error.
    let dm_only = dir.path().join("dm_only.h5");
    minimal_file(&dm_only, &stars, false);
    {
        let f = hdf5::File::open_rw(&dm_only).unwrap();
        f.relink("stars", "dm").unwrap();
        f.new_attr::<f64>().create("galaxy_id").unwrap().write_scalar(&1.5).unwrap();
        let text: hdf5::types::VarLenUnicode = "x".parse().unwrap();
        f.new_attr::<hdf5::types::VarLenUnicode>().create("redshift").unwrap().write_scalar(&text).unwrap();
    }
    let err = galaxy_file::read(&dm_only).unwrap_err();
    assert!(matches!(err, SnapshotError::BadField { ref field, .. } if field == "redshift"), "{err}");
    {
        let f = hdf5::File::open_rw(&dm_only).unwrap();
        f.delete_attr("redshift").unwrap();
    }
    let g = galaxy_file::read(&dm_only).unwrap();
    assert_eq!(g.meta.rotation_to_aligned, Rotation::identity());
    assert_eq!(g.meta.galaxy_id, 1, "a float id is read as the integer HDF5 converts it to");
}

/// The file `scripts/make_minimal_galaxy.py` writes with h5py (`--n 200`): only `format`, `version` and
/// `stars/{pos,vel,mass}`. Numbers read back by h5py and numpy when it was written.
#[test]
fn reads_the_minimal_file_h5py_writes() {
    let g = galaxy_file::read(&test_data("h5py_minimal_galaxy.h5")).unwrap();
    assert_eq!((g.meta.suite.as_str(), g.meta.source.as_str()), ("unknown", "unknown"));
    assert_eq!((g.meta.galaxy_id, g.meta.redshift, g.meta.source_halo_id), (0, 0.0, None));
    let stars = g.stars().unwrap();
    assert_eq!(stars.len(), 200);
    assert!((stars.total_mass_msun() - 1e8).abs() < 1e-6);
    let first = [1.2492066100869956, -0.4307196684400207, 0.16526466879757382];
    let last_vel = [-1.6606407301095918, -11.10253428343092, -4.993128547088203];
    for k in 0..3 {
        assert_eq!(stars.pos_kpc()[[0, k]], first[k]);
        assert_eq!(stars.vel_kms()[[199, k]], last_vel[k]);
    }
    // numpy's unit angular momentum of the stars within 30 kpc goes to +z.
    let l_hat = [-0.017236358305512803, -0.2602734893349966, 0.9653810743440899];
    let z = g.meta.rotation_to_aligned.apply(l_hat);
    assert!((z[2] - 1.0).abs() < 1e-12 && z[0].abs() < 1e-6 && z[1].abs() < 1e-6, "{z:?}");
}
