//! Gizmo/FIRE-2 reading and writing: a round trip of placed galaxies through a 2-chunk snapshot (float32 precision,
//! ids, every field, high- and low-resolution dark matter), zoom-galaxy extraction about a shrinking-sphere or given
//! centre, and typed errors on damaged files.
//!
//! Byte-level corruption of HDF5 files is not exercised here: it can crash the HDF5 C library itself. Truncation,
//! missing and mis-shaped fields and inflated header counts are.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::collections::HashMap;
use std::path::Path;

use galmass_core::{Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use galmass_snapshot::gizmo::{write_gizmo_snapshot, GizmoSnapshot, GizmoWriteParams, PlacedGalaxy};
use galmass_snapshot::reader::{ParticleSelection, SnapshotFormat, SnapshotReader};
use galmass_snapshot::SnapshotError;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_particles(rng: &mut ChaCha8Rng, n: usize, scale_kpc: f64, mass: Option<f64>) -> Particles {
    let pos = Array2::from_shape_fn((n, 3), |_| rng.random_range(-scale_kpc..scale_kpc));
    let vel = Array2::from_shape_fn((n, 3), |_| rng.random_range(-200.0..200.0));
    let masses: Array1<f64> = (0..n).map(|_| mass.unwrap_or_else(|| rng.random_range(1e4..1e5))).collect();
    Particles::new(pos, vel, masses).unwrap()
}

/// A galaxy of every species with every field the writer encodes; a third of the dark matter low-resolution.
fn test_galaxy(seed: u64, n_stars: usize, n_gas: usize, n_dm: usize) -> Galaxy {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut galaxy = Galaxy::new(GalaxyMeta::new("gizmo-test", seed as i64));
    let mut stars = random_particles(&mut rng, n_stars, 5.0, None);
    stars.set_field(ScalarField::AgeGyr, (0..n_stars).map(|_| rng.random_range(0.1..10.0)).collect()).unwrap();
    stars.set_field(ScalarField::Metallicity, (0..n_stars).map(|_| rng.random_range(0.001..0.03)).collect()).unwrap();
    stars.set_field(ScalarField::PotentialKms2, (0..n_stars).map(|_| rng.random_range(-2e5..-1e4)).collect()).unwrap();
    stars.set_ids((0..n_stars as u64).map(|i| seed * 1_000_000 + i).collect()).unwrap();
    let mut gas = random_particles(&mut rng, n_gas, 10.0, None);
    let n = n_gas;
    gas.set_field(ScalarField::TemperatureK, (0..n).map(|_| rng.random_range(100.0..5e5)).collect()).unwrap();
    gas.set_field(ScalarField::DensityMsunPerKpc3, (0..n).map(|_| rng.random_range(1e4..1e8)).collect()).unwrap();
    gas.set_field(ScalarField::SfrMsunPerYr, (0..n).map(|_| rng.random_range(0.0..0.01)).collect()).unwrap();
    gas.set_field(ScalarField::SmoothingLengthKpc, (0..n).map(|_| rng.random_range(0.05..3.0)).collect()).unwrap();
    gas.set_field(ScalarField::Metallicity, (0..n).map(|_| rng.random_range(0.001..0.03)).collect()).unwrap();
    gas.set_field(ScalarField::PotentialKms2, (0..n).map(|_| rng.random_range(-2e5..-1e4)).collect()).unwrap();
    let hi: Array1<f64> = gas.mass_msun().iter().map(|m| m * rng.random_range(0.0..0.6)).collect();
    gas.set_field(ScalarField::HiMassMsun, hi).unwrap();
    gas.set_ids((0..n as u64).map(|i| seed * 1_000_000 + 100_000 + i).collect()).unwrap();
    let mut dm = random_particles(&mut rng, n_dm, 50.0, Some(3e5));
    dm.set_ids((0..n_dm as u64).map(|i| seed * 1_000_000 + 200_000 + i).collect()).unwrap();
    dm.set_high_res((0..n_dm).map(|i| i % 3 != 0).collect()).unwrap();
    dm.set_field(ScalarField::PotentialKms2, (0..n_dm).map(|_| rng.random_range(-2e5..-1e4)).collect()).unwrap();
    let mut bh = random_particles(&mut rng, 1, 0.01, Some(1e7));
    bh.set_ids(Array1::from(vec![seed * 1_000_000 + 300_000])).unwrap();
    bh.set_field(ScalarField::PotentialKms2, Array1::from(vec![-3e5])).unwrap();
    galaxy.set_species(Species::Stars, stars);
    galaxy.set_species(Species::Gas, gas);
    galaxy.set_species(Species::Dm, dm);
    galaxy.set_species(Species::Bh, bh);
    galaxy
}

fn close(a: f64, b: f64, rel: f64, abs: f64, what: &str) {
    assert!((a - b).abs() <= rel * a.abs().max(b.abs()) + abs, "{what}: {a} vs {b}");
}

/// Each read particle, found by id among the originals (box frame = original + centre), agrees at float32 precision.
fn assert_matches(originals: &[(&Particles, [f64; 3], [f64; 3])], read: &Particles, what: &str) {
    let mut index: HashMap<u64, (usize, usize)> = HashMap::new();
    for (g, (p, _, _)) in originals.iter().enumerate() {
        for (i, &id) in p.ids().unwrap().iter().enumerate() {
            index.insert(id, (g, i));
        }
    }
    assert_eq!(read.len(), index.len(), "{what}: count");
    let ids = read.ids().expect("ids read");
    for (j, id) in ids.iter().enumerate() {
        let &(g, i) = index.get(id).unwrap_or_else(|| panic!("{what}: unknown id {id}"));
        let (p, centre, bulk) = originals[g];
        for k in 0..3 {
            close(read.pos_kpc()[[j, k]], p.pos_kpc()[[i, k]] + centre[k], 1e-12, 1e-8, &format!("{what} pos"));
            close(read.vel_kms()[[j, k]], p.vel_kms()[[i, k]] + bulk[k], 1e-6, 1e-4, &format!("{what} vel"));
        }
        close(read.mass_msun()[j], p.mass_msun()[i], 1e-6, 0.0, &format!("{what} mass"));
        if let Some(flags) = p.high_res() {
            assert_eq!(read.high_res().unwrap()[j], flags[i], "{what}: high_res of id {id}");
        }
        for (field, values) in p.fields() {
            let got = read.field(field).unwrap_or_else(|| panic!("{what}: {field:?} not read"))[j];
            let (rel, abs) = match field {
                // Ages go through a float32 scale factor; HI through a float32 fraction of X_H m.
                ScalarField::AgeGyr => (1e-4, 2e-3),
                ScalarField::HiMassMsun => (1e-5, 1e-3),
                _ => (1e-5, 0.0),
            };
            close(got, values[i], rel, abs, &format!("{what} {field:?}"));
        }
    }
}

#[test]
fn round_trip_through_a_two_chunk_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let galaxies = [test_galaxy(1, 300, 200, 400), test_galaxy(2, 80, 50, 120)];
    let place =
        [([30_000.0, 20_000.0, 10_000.0], [100.0, -50.0, 20.0]), ([31_000.0, 20_500.0, 9_000.0], [-30.0, 60.0, 0.0])];
    let placed: Vec<PlacedGalaxy<'_>> =
        galaxies.iter().zip(&place).map(|(g, &(c, v))| PlacedGalaxy::new(g, c, v)).collect();
    let params = GizmoWriteParams { scale_factor: 0.8, ..GizmoWriteParams::fire2_like(600, 2) };
    let written = write_gizmo_snapshot(tmp.path(), &params, &placed).unwrap();
    assert_eq!(written.chunk_paths.len(), 2);
    let low_res =
        |g: &Galaxy| g.species(Species::Dm).unwrap().high_res().unwrap().iter().filter(|f| !**f).count() as u64;
    let n_low: u64 = galaxies.iter().map(low_res).sum();
    assert_eq!(written.num_part_total, [250, 520 - n_low, n_low, 0, 380, 2]);
    let names: Vec<String> = std::fs::read_dir(tmp.path().join("snapdir_600"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");

    // The second chunk, the folder and the first chunk open the same snapshot.
    let snap = GizmoSnapshot::open(&written.chunk_paths[1]).unwrap();
    assert_eq!(snap.chunk_paths().len(), 2);
    assert_eq!(
        GizmoSnapshot::open(&tmp.path().join("snapdir_600")).unwrap().header().n_particles,
        snap.header().n_particles
    );
    let header = snap.header();
    assert_eq!(header.format, SnapshotFormat::Gizmo);
    close(header.scale_factor.unwrap(), 0.8, 1e-12, 0.0, "a");
    assert_eq!(header.n_particles[&Species::Dm], 520);
    assert_eq!(header.n_particles[&Species::Stars], 380);
    assert!(header.fields[&Species::Gas].iter().any(|f| f == "SmoothingLength"));

    for species in Species::ALL {
        let originals: Vec<(&Particles, [f64; 3], [f64; 3])> =
            galaxies.iter().zip(&place).map(|(g, &(c, v))| (g.species(species).unwrap(), c, v)).collect();
        snap.reset_elements_read();
        let read = snap.read_species(species, &ParticleSelection::All).unwrap();
        assert_matches(&originals, &read, &species.to_string());
        assert!(snap.elements_read() > 0);
    }

    // A range of Dm rows straddling PartType1 and PartType2 reads exactly those rows.
    let n1 = 520 - n_low;
    snap.reset_elements_read();
    let dm = snap.read_species(Species::Dm, &ParticleSelection::Ranges(vec![(n1 - 5, 10)])).unwrap();
    assert_eq!(dm.len(), 10);
    assert_eq!(dm.high_res().unwrap().iter().filter(|f| **f).count(), 5);
    // Coordinates 3 + Velocities 3 + Masses + ParticleIDs + Potential = 9 numbers a row.
    assert_eq!(snap.elements_read(), 10 * 9);
}

#[test]
fn zoom_galaxy_is_recovered_around_its_centre() {
    let tmp = tempfile::tempdir().unwrap();
    let main = test_galaxy(3, 600, 100, 300);
    let satellite = test_galaxy(4, 60, 20, 50);
    let (c_main, c_sat) = ([40_000.0, 40_000.0, 40_000.0], [40_500.0, 40_000.0, 40_000.0]);
    let placed =
        [PlacedGalaxy::new(&main, c_main, [50.0, 0.0, 0.0]), PlacedGalaxy::new(&satellite, c_sat, [0.0, 0.0, 0.0])];
    let params = GizmoWriteParams { scale_factor: 0.9, ..GizmoWriteParams::fire2_like(600, 2) };
    let written = write_gizmo_snapshot(tmp.path(), &params, &placed).unwrap();
    let snap = GizmoSnapshot::open(&written.chunk_paths[0]).unwrap();

    let galaxy = snap.read_zoom_galaxy(None, 100.0).unwrap();
    for species in Species::ALL {
        let want = main.species(species).unwrap();
        let got = galaxy.species(species).unwrap();
        assert_eq!(got.len(), want.len(), "{species}: every particle of the main galaxy and none of the satellite");
    }
    // The shrinking-sphere centre is the main galaxy's: its stars are uniform in a cube of half-width 5 kpc, which has
    // no density peak, so the last sphere's 100 stars leave it within a few kpc of the cube's centre.
    let stars = galaxy.stars().unwrap();
    let mut id_to_row: HashMap<u64, usize> = HashMap::new();
    for (i, &id) in main.stars().unwrap().ids().unwrap().iter().enumerate() {
        id_to_row.insert(id, i);
    }
    let (j, id) = (0, stars.ids().unwrap()[0]);
    let i = id_to_row[&id];
    let offset: Vec<f64> = (0..3).map(|k| stars.pos_kpc()[[j, k]] - main.stars().unwrap().pos_kpc()[[i, k]]).collect();
    assert!(offset.iter().all(|d| d.abs() < 3.0), "centre offset {offset:?}");
    assert!(galaxy.truth.is_some());

    // A given centre picks the satellite, with its positions exactly.
    let galaxy = snap.read_zoom_galaxy(Some(c_sat), 20.0).unwrap();
    assert_eq!(galaxy.stars().unwrap().len(), 60);
    let got = galaxy.stars().unwrap();
    let want = satellite.stars().unwrap();
    let mut by_id: HashMap<u64, usize> = HashMap::new();
    for (i, &id) in want.ids().unwrap().iter().enumerate() {
        by_id.insert(id, i);
    }
    for (j, id) in got.ids().unwrap().iter().enumerate() {
        let i = by_id[id];
        for k in 0..3 {
            close(got.pos_kpc()[[j, k]], want.pos_kpc()[[i, k]], 0.0, 1e-6, "satellite pos");
        }
    }
    assert!(matches!(snap.read_zoom_galaxy(None, -1.0), Err(SnapshotError::Invalid { .. })));
}

/// A one-file snapshot with `count` PartType1 rows announced and Coordinates of `coords` = (rows, width).
fn minimal_snapshot(path: &Path, count: i32, coords: Option<(usize, usize)>, velocities: bool) {
    let file = hdf5::File::create(path).unwrap();
    let header = file.create_group("Header").unwrap();
    header.new_attr_builder().with_data(&[0, count, 0, 0, 0, 0]).create("NumPart_ThisFile").unwrap();
    header.new_attr_builder().with_data(&[0.0, 1e-4, 0.0, 0.0, 0.0, 0.0]).create("MassTable").unwrap();
    for (name, value) in [("HubbleParam", 0.702), ("Time", 1.0), ("Redshift", 0.0), ("BoxSize", 60_000.0)] {
        header.new_attr::<f64>().create(name).unwrap().write_scalar(&value).unwrap();
    }
    let group = file.create_group("PartType1").unwrap();
    if let Some((rows, width)) = coords {
        group.new_dataset_builder().with_data(&Array2::<f32>::zeros((rows, width))).create("Coordinates").unwrap();
    }
    if velocities {
        group.new_dataset_builder().with_data(&Array2::<f32>::zeros((10, 3))).create("Velocities").unwrap();
    }
}

#[test]
fn damaged_files_give_typed_errors_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let read =
        |path: &Path| GizmoSnapshot::open(path).and_then(|s| s.read_species(Species::Dm, &ParticleSelection::All));

    let missing = tmp.path().join("missing.hdf5");
    minimal_snapshot(&missing, 10, None, true);
    let err = read(&missing).unwrap_err();
    assert!(matches!(&err, SnapshotError::Missing { name, .. } if name == "PartType1/Coordinates"), "{err}");
    assert!(err.to_string().contains("missing.hdf5"), "{err}");

    let no_velocities = tmp.path().join("novel.hdf5");
    minimal_snapshot(&no_velocities, 10, Some((10, 3)), false);
    let err = read(&no_velocities).unwrap_err();
    assert!(matches!(&err, SnapshotError::Missing { name, .. } if name == "PartType1/Velocities"), "{err}");

    let misshaped = tmp.path().join("misshaped.hdf5");
    minimal_snapshot(&misshaped, 10, Some((10, 2)), true);
    let err = read(&misshaped).unwrap_err();
    assert!(matches!(&err, SnapshotError::BadField { field, .. } if field == "PartType1/Coordinates"), "{err}");
    assert!(err.to_string().contains("misshaped.hdf5"), "{err}");

    let inflated = tmp.path().join("inflated.hdf5");
    minimal_snapshot(&inflated, 25, Some((25, 3)), true);
    let err = read(&inflated).unwrap_err();
    assert!(matches!(&err, SnapshotError::Truncated { field, .. } if field == "PartType1/Velocities"), "{err}");
    assert!(err.to_string().contains("inflated.hdf5"), "{err}");

    let fine = tmp.path().join("fine.hdf5");
    minimal_snapshot(&fine, 10, Some((10, 3)), true);
    let dm = read(&fine).unwrap();
    assert_eq!(dm.len(), 10);
    close(dm.mass_msun()[0], 1e-4 * 1e10 / 0.702, 1e-12, 0.0, "MassTable mass");

    // Header totals larger than the chunks hold, and a chunk cut to half its length.
    let galaxy = test_galaxy(5, 50, 30, 60);
    let placed = [PlacedGalaxy::new(&galaxy, [1000.0; 3], [0.0; 3])];
    let written =
        write_gizmo_snapshot(&tmp.path().join("box"), &GizmoWriteParams::fire2_like(600, 2), &placed).unwrap();
    {
        let file = hdf5::File::open_rw(&written.chunk_paths[0]).unwrap();
        let header = file.group("Header").unwrap();
        header.attr("NumPart_Total").unwrap().write(&[30u32, 50, 30, 0, 50, 1]).unwrap();
    }
    let err = GizmoSnapshot::open(&written.chunk_paths[0]).unwrap_err();
    assert!(matches!(&err, SnapshotError::Malformed { field, .. } if field == "Header/NumPart_Total"), "{err}");
    assert!(err.to_string().contains("snapshot_600.0.hdf5"), "{err}");

    let written =
        write_gizmo_snapshot(&tmp.path().join("cut"), &GizmoWriteParams::fire2_like(600, 2), &placed).unwrap();
    let chunk1 = &written.chunk_paths[1];
    let len = std::fs::metadata(chunk1).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(chunk1).unwrap().set_len(len / 2).unwrap();
    let err = GizmoSnapshot::open(&written.chunk_paths[0])
        .and_then(|s| {
            Species::ALL.into_iter().try_for_each(|sp| s.read_species(sp, &ParticleSelection::All).map(|_| ()))
        })
        .unwrap_err();
    eprintln!("truncated chunk: {err}");
    assert!(err.to_string().contains("snapshot_600.1.hdf5"), "{err}");
    assert!(matches!(err, SnapshotError::Hdf5 { .. } | SnapshotError::Truncated { .. }), "{err}");
}

/// The chunks are committed together: when the last chunk cannot be written, the first is not left in place either,
/// and no temporary stays behind.
#[test]
fn a_failed_later_chunk_leaves_no_chunk() {
    let tmp = tempfile::tempdir().unwrap();
    let galaxy = test_galaxy(5, 50, 30, 60);
    let params = GizmoWriteParams::fire2_like(600, 2);
    let paths = params.chunk_paths(tmp.path());
    // A folder where the last chunk's temporary must go: creating that HDF5 file fails.
    let blocked = galmass_core::atomic::temporary_path(&paths[1]);
    std::fs::create_dir_all(&blocked).unwrap();
    let placed = [PlacedGalaxy::new(&galaxy, [1000.0; 3], [0.0; 3])];
    let err = write_gizmo_snapshot(tmp.path(), &params, &placed).unwrap_err();
    assert!(matches!(&err, SnapshotError::Hdf5 { path, .. } if path == &paths[1]), "{err}");
    let left: Vec<String> = std::fs::read_dir(tmp.path().join("snapdir_600"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, vec![blocked.file_name().unwrap().to_string_lossy().into_owned()]);
}
