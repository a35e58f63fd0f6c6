//! Arepo/TNG reading: the real API cutouts against h5py's values, a round trip through the TNG-layout writer (by
//! subhalo and by group, with the offsets and the hyperslab element count), and typed errors on damaged files.
//!
//! Byte-level corruption of HDF5 files is not exercised here: it can crash the HDF5 C library itself. Truncation,
//! missing and mis-shaped fields and inflated header counts are.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};

use galmass_core::atomic::AtomicWriteError;
use galmass_core::particles::BandLuminosity;
use galmass_core::{Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use galmass_snapshot::arepo::catalogue::TngBox;
use galmass_snapshot::arepo::writer::{write_tng_box, PlacedGalaxy, TngBoxParams};
use galmass_snapshot::arepo::ArepoSnapshot;
use galmass_snapshot::reader::{ParticleSelection, SnapshotReader};
use galmass_snapshot::SnapshotError;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The fixtures folder, or `None` (a printed skip; a failure under GALMASS_REQUIRE_FIXTURES=1) when absent.
fn fixtures() -> Option<PathBuf> {
    galmass_core::fixtures::fixture("tng-api-cutouts")?;
    galmass_core::fixtures::fixture("expected_by_peers.json").and_then(|p| p.parent().map(Path::to_owned))
}

fn expected(dir: &Path, key: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("expected_by_peers.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all[key].clone()
}

#[test]
fn cutouts_match_h5py() {
    let Some(dir) = fixtures() else { return };
    // cutout_0: 908 DM particles, Coordinates only, mass from MassTable[1].
    let e = expected(&dir, "tng-api-cutouts/cutout_0.hdf5");
    let snap = ArepoSnapshot::open(&dir.join("tng-api-cutouts/cutout_0.hdf5")).unwrap();
    let (h, a) = (e["HubbleParam"].as_f64().unwrap(), e["Time"].as_f64().unwrap());
    let header = snap.header();
    assert_eq!(header.hubble_param, Some(h));
    assert_eq!(header.scale_factor, Some(a));
    assert_eq!(header.redshift, e["Redshift"].as_f64());
    // BoxSize 35000 ckpc/h -> x a / h physical kpc.
    assert!((header.box_size_kpc.unwrap() - 35000.0 * a / h).abs() < 1e-9);
    assert_eq!(header.n_particles[&Species::Dm], e["NumPart_ThisFile"][1].as_u64().unwrap());
    assert_eq!(header.n_particles[&Species::Stars], 0);
    assert_eq!(snap.arepo_header().num_files_per_snapshot, 1);
    let dm = snap.read_species(Species::Dm, &ParticleSelection::All).unwrap();
    assert_eq!(dm.len(), 908);
    // First coordinates: h5py's ckpc/h values times a / h.
    for k in 0..3 {
        let ckpc_h = e["PartType1"]["first_coordinates_ckpc_h"][k].as_f64().unwrap();
        assert!((dm.pos_kpc()[[0, k]] - ckpc_h * a / h).abs() < 1e-9 * ckpc_h, "axis {k}");
    }
    // Mass: MassTable[1] x 1e10 / h, the same for every particle.
    let m_dm = e["MassTable"][1].as_f64().unwrap() * 1e10 / h;
    assert!(dm.mass_msun().iter().all(|&m| (m - m_dm).abs() < 1e-9 * m_dm));
    assert!(dm.vel_kms().iter().all(|&v| v == 0.0), "no Velocities in the cutout: zeros");
    assert_eq!(snap.elements_read(), 908 * 3);

    // cutout_3: two star particles with Coordinates and Masses (no formation times: no wind filtering).
    let e = expected(&dir, "tng-api-cutouts/cutout_3.hdf5");
    let snap = ArepoSnapshot::open(&dir.join("tng-api-cutouts/cutout_3.hdf5")).unwrap();
    let stars = snap.read_species(Species::Stars, &ParticleSelection::All).unwrap();
    assert_eq!(stars.len() as u64, e["NumPart_ThisFile"][4].as_u64().unwrap());
    for k in 0..3 {
        let ckpc_h = e["PartType4"]["first_coordinates_ckpc_h"][k].as_f64().unwrap();
        assert!((stars.pos_kpc()[[0, k]] - ckpc_h * a / h).abs() < 1e-9 * ckpc_h);
    }
    // h5py: Masses[0] = 5.6654285e-06 (float32) x 1e10 / h.
    assert!((stars.mass_msun()[0] - 5.665_428_5e-6 * 1e10 / h).abs() < 1e-6 * stars.mass_msun()[0]);
    assert!(snap.read_species(Species::Dm, &ParticleSelection::All).unwrap().is_empty());

    // cutout_6: no particle group at all.
    let snap = ArepoSnapshot::open(&dir.join("tng-api-cutouts/cutout_6.hdf5")).unwrap();
    for species in Species::ALL {
        assert_eq!(snap.header().n_particles[&species], 0);
        assert!(snap.read_species(species, &ParticleSelection::All).unwrap().is_empty());
    }
}

fn random_particles(rng: &mut ChaCha8Rng, n: usize, scale_kpc: f64, mass: Option<f64>) -> Particles {
    let pos = Array2::from_shape_fn((n, 3), |_| rng.random_range(-scale_kpc..scale_kpc));
    let vel = Array2::from_shape_fn((n, 3), |_| rng.random_range(-200.0..200.0));
    let masses: Array1<f64> = (0..n).map(|_| mass.unwrap_or_else(|| rng.random_range(1e5..1e6))).collect();
    Particles::new(pos, vel, masses).unwrap()
}

/// A galaxy of every species with every field the writer encodes; `seed` varies the particles.
fn test_galaxy(seed: u64, n_stars: usize, n_gas: usize, n_dm: usize) -> Galaxy {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut galaxy = Galaxy::new(GalaxyMeta::new("arepo-test", seed as i64));
    let mut stars = random_particles(&mut rng, n_stars, 5.0, None);
    stars.set_field(ScalarField::AgeGyr, (0..n_stars).map(|_| rng.random_range(0.1..10.0)).collect()).unwrap();
    stars.set_field(ScalarField::Metallicity, (0..n_stars).map(|_| rng.random_range(0.001..0.03)).collect()).unwrap();
    for (band, solar) in [("g", 5.11), ("r", 4.65), ("i", 4.53), ("z", 4.50)] {
        let lum = (0..n_stars).map(|_| rng.random_range(1e3..1e5)).collect();
        stars.set_luminosity(band, BandLuminosity { lum_lsun: lum, solar_abs_mag_ab: solar }).unwrap();
    }
    stars.set_ids((0..n_stars as u64).map(|i| seed * 1_000_000 + i).collect()).unwrap();
    let mut gas = random_particles(&mut rng, n_gas, 10.0, None);
    let n = n_gas;
    gas.set_field(ScalarField::TemperatureK, (0..n).map(|_| rng.random_range(100.0..5e5)).collect()).unwrap();
    gas.set_field(ScalarField::DensityMsunPerKpc3, (0..n).map(|_| rng.random_range(1e4..1e6)).collect()).unwrap();
    gas.set_field(ScalarField::SfrMsunPerYr, Array1::zeros(n)).unwrap();
    gas.set_field(ScalarField::Metallicity, (0..n).map(|_| rng.random_range(0.001..0.03)).collect()).unwrap();
    let hi: Array1<f64> = gas.mass_msun().iter().map(|m| m * rng.random_range(0.0..0.2)).collect();
    gas.set_field(ScalarField::HiMassMsun, hi).unwrap();
    gas.set_ids((0..n as u64).map(|i| seed * 1_000_000 + 100_000 + i).collect()).unwrap();
    let mut dm = random_particles(&mut rng, n_dm, 50.0, Some(3e6));
    dm.set_ids((0..n_dm as u64).map(|i| seed * 1_000_000 + 200_000 + i).collect()).unwrap();
    let mut bh = random_particles(&mut rng, 1, 0.01, Some(1e7));
    bh.set_ids(Array1::from(vec![seed * 1_000_000 + 300_000])).unwrap();
    galaxy.set_species(Species::Stars, stars);
    galaxy.set_species(Species::Gas, gas);
    galaxy.set_species(Species::Dm, dm);
    galaxy.set_species(Species::Bh, bh);
    galaxy
}

fn close(a: f64, b: f64, rel: f64, abs: f64, what: &str) {
    assert!((a - b).abs() <= rel * a.abs().max(b.abs()) + abs, "{what}: {a} vs {b}");
}

/// Compares particles read back (box frame, about `centre`) with the original centred ones, at float32 precision.
fn assert_same(original: &Particles, read: &Particles, centre: [f64; 3], bulk: [f64; 3], what: &str) {
    assert_eq!(original.len(), read.len(), "{what}: count");
    for i in 0..original.len() {
        for k in 0..3 {
            close(read.pos_kpc()[[i, k]] - centre[k], original.pos_kpc()[[i, k]], 0.0, 1e-6, &format!("{what} pos"));
            close(read.vel_kms()[[i, k]] - bulk[k], original.vel_kms()[[i, k]], 0.0, 1e-4, &format!("{what} vel"));
        }
        close(read.mass_msun()[i], original.mass_msun()[i], 1e-6, 0.0, &format!("{what} mass"));
    }
    assert_eq!(original.ids(), read.ids(), "{what}: ids");
    for (field, values) in original.fields() {
        let got = read.field(field).unwrap_or_else(|| panic!("{what}: no {field:?}"));
        let (rel, abs) = match field {
            ScalarField::AgeGyr => (0.0, 1e-4),
            ScalarField::HiMassMsun => (1e-5, 1e-3),
            _ => (1e-5, 0.0),
        };
        for i in 0..values.len() {
            close(got[i], values[i], rel, abs, &format!("{what} {field:?}"));
        }
    }
    for (band, lum) in original.luminosities() {
        let got = read.luminosity(band).unwrap_or_else(|| panic!("{what}: no lum_{band}"));
        for i in 0..lum.lum_lsun.len() {
            close(got.lum_lsun[i], lum.lum_lsun[i], 1e-5, 0.0, &format!("{what} lum_{band}"));
        }
    }
}

/// Numbers per row read for each species from the writer's output (see the test galaxy's fields).
fn row_width(species: Species) -> u64 {
    match species {
        // Coordinates 3, Velocities 3, Masses, ParticleIDs, GFM_Metallicity, StarFormationRate, Density,
        // InternalEnergy, ElectronAbundance, NeutralHydrogenAbundance.
        Species::Gas => 14,
        // Coordinates, Velocities, ParticleIDs (masses in MassTable).
        Species::Dm => 7,
        // Coordinates, Velocities, Masses, ParticleIDs, GFM_Metallicity, GFM_StellarFormationTime, 8 magnitudes.
        Species::Stars => 18,
        Species::Bh => 8,
    }
}

/// Centre (kpc), bulk velocity (km/s) and group label of each test galaxy.
type Placement = Vec<([f64; 3], [f64; 3], u64)>;

fn write_test_box(dir: &Path) -> (Vec<Galaxy>, Placement, TngBoxParams) {
    let galaxies = vec![test_galaxy(1, 300, 200, 500), test_galaxy(2, 80, 50, 120), test_galaxy(3, 150, 90, 260)];
    let params = TngBoxParams { scale_factor: 0.8, box_size_kpc: 5000.0, ..TngBoxParams::tng100_like(33, 3, 2) };
    // Galaxy 3 (its own group) sits on the box corner: its particles wrap around.
    let placement = vec![
        ([1000.0, 2000.0, 3000.0], [100.0, -50.0, 20.0], 7),
        ([1030.0, 2010.0, 2990.0], [-30.0, 80.0, 0.0], 7),
        ([2.0, 4999.0, 1.0], [0.0, 0.0, 300.0], 2),
    ];
    let placed: Vec<PlacedGalaxy<'_>> = galaxies
        .iter()
        .zip(&placement)
        .map(|(g, &(c, v, group))| PlacedGalaxy { galaxy: g, group, centre_kpc: c, velocity_kms: v })
        .collect();
    let written = write_tng_box(&dir.join("output"), &params, &placed).unwrap();
    // Group labels 2 < 7: galaxy 3 is group 0 / subhalo 0, galaxies 1 and 2 are group 1 / subhalos 1 and 2.
    assert_eq!(written.subhalo_ids, vec![1, 2, 0]);
    assert_eq!(written.group_ids, vec![1, 1, 0]);
    (galaxies, placement, params)
}

#[test]
fn tng_box_round_trip_by_subhalo_and_group() {
    let tmp = tempfile::tempdir().unwrap();
    let (galaxies, placement, params) = write_test_box(tmp.path());
    let tng = TngBox::open(&tmp.path().join("output"), 33).unwrap();
    assert_eq!((tng.n_groups(), tng.n_subhalos()), (2, 3));
    assert_eq!(tng.snapshot().chunk_paths().len(), 3);
    // The snapshot folder opens the same chunks.
    let by_folder = ArepoSnapshot::open(&tmp.path().join("output/snapdir_033")).unwrap();
    assert_eq!(by_folder.chunk_paths(), tng.snapshot().chunk_paths());
    let header = tng.snapshot().header();
    assert_eq!(header.n_particles[&Species::Dm], 880);
    assert!((header.box_size_kpc.unwrap() - params.box_size_kpc).abs() < 1e-9);
    let subhalo_of = [1u64, 2, 0];
    for (i, galaxy) in galaxies.iter().enumerate() {
        let (centre, bulk, _) = placement[i];
        tng.snapshot().reset_elements_read();
        let halo = tng.read_subhalo(subhalo_of[i]).unwrap();
        let record = tng.subhalo(subhalo_of[i]).unwrap();
        assert_eq!(halo.offset_type, record.offset_type);
        let mut expected_elements = 0;
        for (species, original) in galaxy.all_species() {
            assert_eq!(record.len_type[galmass_snapshot::arepo::part_type(species)], original.len() as u64);
            expected_elements += original.len() as u64 * row_width(species);
            assert_same(original, &halo.species[&species], centre, bulk, &format!("galaxy {i} {species}"));
        }
        // Only this subhalo's rows were read.
        assert_eq!(tng.snapshot().elements_read(), expected_elements, "galaxy {i}");
        for k in 0..3 {
            close(record.pos_kpc[k], centre[k], 1e-6, 1e-3, "SubhaloPos");
            close(record.vel_kms[k], bulk[k], 1e-6, 0.0, "SubhaloVel");
        }
        let m_stars: f64 = galaxy.stars().unwrap().total_mass_msun();
        close(record.mass_type_msun[4], m_stars, 1e-5, 0.0, "SubhaloMassType");
    }
    // Offsets: subhalo 1 (galaxy 1) starts after subhalo 0 (galaxy 3) in every type.
    let sub1 = tng.subhalo(1).unwrap();
    assert_eq!(sub1.offset_type[1], 260);
    assert_eq!(sub1.offset_type[4], 150);
    assert_eq!(sub1.group_id, 1);
    // Group 1 = galaxies 1 and 2, in subhalo order.
    let group = tng.group(1).unwrap();
    assert_eq!((group.first_sub, group.n_subs), (1, 2));
    let halo = tng.read_group(1).unwrap();
    let stars = &halo.species[&Species::Stars];
    assert_eq!(stars.len(), 380);
    let (centre0, centre1) = (placement[0].0, placement[1].0);
    let first = galaxies[0].stars().unwrap();
    let second = galaxies[1].stars().unwrap();
    close(stars.pos_kpc()[[0, 0]] - centre0[0], first.pos_kpc()[[0, 0]], 0.0, 1e-6, "group star 0");
    close(stars.pos_kpc()[[300, 1]] - centre1[1], second.pos_kpc()[[0, 1]], 0.0, 1e-6, "group star 300");
    let galaxy = tng.read_group(0).unwrap().into_galaxy(GalaxyMeta::new("tng-test", 0));
    assert_eq!(galaxy.meta.source_halo_id, Some(0));
    assert_eq!(galaxy.stars().unwrap().len(), 150);
    // Out-of-range ids are typed errors.
    assert!(matches!(tng.read_subhalo(3), Err(SnapshotError::Malformed { .. })));
}

#[test]
fn wind_cells_are_dropped_from_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    write_test_box(tmp.path());
    let tng = TngBox::open(&tmp.path().join("output"), 33).unwrap();
    // Turn the first PartType4 row of chunk 0 (subhalo 0's first star) into a wind cell.
    let chunk0 = tng.snapshot().chunk_paths()[0].to_owned();
    {
        let file = hdf5::File::open_rw(&chunk0).unwrap();
        let ds = file.dataset("PartType4/GFM_StellarFormationTime").unwrap();
        let mut values = ds.read_1d::<f32>().unwrap();
        values[0] = -0.3;
        ds.write(&values).unwrap();
    }
    let tng = TngBox::open(&tmp.path().join("output"), 33).unwrap();
    let halo = tng.read_subhalo(0).unwrap();
    assert_eq!(halo.len_type[4], 150, "the catalogue length counts the wind cell");
    assert_eq!(halo.species[&Species::Stars].len(), 149, "the wind cell is dropped");
}

fn minimal_snapshot(path: &Path, count: i32, coords: Option<(usize, usize)>) {
    let file = hdf5::File::create(path).unwrap();
    let header = file.create_group("Header").unwrap();
    header.new_attr_builder().with_data(&[0, count, 0, 0, 0, 0]).create("NumPart_ThisFile").unwrap();
    header.new_attr_builder().with_data(&[0.0, 1e-4, 0.0, 0.0, 0.0, 0.0]).create("MassTable").unwrap();
    for (name, value) in [("HubbleParam", 0.7), ("Time", 1.0), ("Redshift", 0.0), ("BoxSize", 1000.0)] {
        header.new_attr::<f64>().create(name).unwrap().write_scalar(&value).unwrap();
    }
    let group = file.create_group("PartType1").unwrap();
    if let Some((rows, width)) = coords {
        group.new_dataset_builder().with_data(&Array2::<f32>::zeros((rows, width))).create("Coordinates").unwrap();
    }
}

#[test]
fn damaged_files_give_typed_errors_naming_file_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let read =
        |path: &Path| ArepoSnapshot::open(path).and_then(|s| s.read_species(Species::Dm, &ParticleSelection::All));

    let missing = tmp.path().join("missing.hdf5");
    minimal_snapshot(&missing, 10, None);
    let err = read(&missing).unwrap_err();
    assert!(matches!(&err, SnapshotError::Missing { name, .. } if name == "PartType1/Coordinates"), "{err}");
    assert!(err.to_string().contains("missing.hdf5"));

    let misshaped = tmp.path().join("misshaped.hdf5");
    minimal_snapshot(&misshaped, 10, Some((10, 2)));
    let err = read(&misshaped).unwrap_err();
    assert!(matches!(&err, SnapshotError::BadField { field, .. } if field == "PartType1/Coordinates"), "{err}");

    let inflated = tmp.path().join("inflated.hdf5");
    minimal_snapshot(&inflated, 25, Some((10, 3)));
    let err = read(&inflated).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Truncated { field, expected_bytes: 300, got_bytes: 120, .. } if field == "PartType1/Coordinates"),
        "{err}"
    );
    assert!(err.to_string().contains("inflated.hdf5"));

    let fine = tmp.path().join("fine.hdf5");
    minimal_snapshot(&fine, 10, Some((10, 3)));
    assert_eq!(read(&fine).unwrap().len(), 10);

    // A chunk of a box cut to half its length.
    write_test_box(tmp.path());
    let chunk1 = tmp.path().join("output/snapdir_033/snap_033.1.hdf5");
    let len = std::fs::metadata(&chunk1).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&chunk1).unwrap().set_len(len / 2).unwrap();
    let err = TngBox::open(&tmp.path().join("output"), 33).and_then(|b| b.read_subhalo(1)).unwrap_err();
    eprintln!("truncated chunk: {err}");
    assert!(err.to_string().contains("snap_033.1.hdf5"), "{err}");
    assert!(matches!(err, SnapshotError::Hdf5 { .. } | SnapshotError::Truncated { .. }), "{err}");
}

#[test]
fn auriga_layout_has_no_offsets_file_and_the_catalogue_gives_the_same_offsets() {
    let tmp = tempfile::tempdir().unwrap();
    let (galaxies, placement, _) = write_test_box(tmp.path());
    let tng = TngBox::open(&tmp.path().join("output"), 33).unwrap();
    // The same galaxies in AURIGA's layout: snapshot_127.C.hdf5 and no offsets file.
    let auriga_dir = tmp.path().join("auriga");
    let params = TngBoxParams { box_size_kpc: 5000.0, ..TngBoxParams::auriga_like(5000.0, 2) };
    let placed: Vec<PlacedGalaxy<'_>> = galaxies
        .iter()
        .zip(&placement)
        .map(|(g, &(c, v, group))| PlacedGalaxy { galaxy: g, group, centre_kpc: c, velocity_kms: v })
        .collect();
    let written = write_tng_box(&auriga_dir.join("output"), &params, &placed).unwrap();
    assert!(written.layout.snapshot_chunk(0).ends_with("snapdir_127/snapshot_127.0.hdf5"));
    assert!(written.layout.snapshot_chunk(0).exists() && !written.layout.offsets_file().exists());
    let auriga = TngBox::open(&auriga_dir.join("output"), 127).unwrap();
    assert_eq!(auriga.layout().snapshot_stem, "snapshot");
    for sub in 0..3 {
        assert_eq!(auriga.subhalo(sub).unwrap().offset_type, tng.subhalo(sub).unwrap().offset_type, "subhalo {sub}");
        let (a, t) = (auriga.read_subhalo(sub).unwrap(), tng.read_subhalo(sub).unwrap());
        for species in [Species::Gas, Species::Dm, Species::Stars] {
            assert_eq!(a.species[&species].ids(), t.species[&species].ids(), "subhalo {sub} {species}");
        }
    }
    for group in 0..2 {
        assert_eq!(auriga.group(group).unwrap().offset_type, tng.group(group).unwrap().offset_type, "group {group}");
    }
}

#[test]
fn zoom_low_resolution_dark_matter_is_read_and_flagged() {
    let tmp = tempfile::tempdir().unwrap();
    let galaxy = test_galaxy(5, 40, 30, 60);
    let params = TngBoxParams { box_size_kpc: 4000.0, ..TngBoxParams::auriga_like(4000.0, 1) };
    let placed = [PlacedGalaxy { galaxy: &galaxy, group: 0, centre_kpc: [2000.0; 3], velocity_kms: [0.0; 3] }];
    let written = write_tng_box(&tmp.path().join("output"), &params, &placed).unwrap();
    // Add 7 low-resolution particles as PartType2, as an AURIGA zoom holds them.
    let chunk = written.layout.snapshot_chunk(0);
    {
        let file = hdf5::File::open_rw(&chunk).unwrap();
        let g = file.create_group("PartType2").unwrap();
        let pos = Array2::from_shape_fn((7, 3), |(i, k)| 100.0 + (i * 3 + k) as f64);
        g.new_dataset_builder().with_data(&pos).create("Coordinates").unwrap();
        g.new_dataset_builder().with_data(&Array2::<f32>::zeros((7, 3))).create("Velocities").unwrap();
        g.new_dataset_builder().with_data(&Array1::from_elem(7, 0.5f32)).create("Masses").unwrap();
        g.new_dataset_builder().with_data(&Array1::from_iter(900_000u64..900_007)).create("ParticleIDs").unwrap();
        let header = file.group("Header").unwrap();
        for name in ["NumPart_ThisFile", "NumPart_Total"] {
            let attr = header.attr(name).unwrap();
            let mut counts: Vec<i64> = attr.read_raw::<i64>().unwrap();
            counts[2] = 7;
            header.delete_attr(name).unwrap();
            if name == "NumPart_ThisFile" {
                header
                    .new_attr_builder()
                    .with_data(&counts.iter().map(|&c| c as i32).collect::<Vec<_>>())
                    .create(name)
                    .unwrap();
            } else {
                header
                    .new_attr_builder()
                    .with_data(&counts.iter().map(|&c| c as u32).collect::<Vec<_>>())
                    .create(name)
                    .unwrap();
            }
        }
    }
    let snap = ArepoSnapshot::open(&chunk).unwrap();
    assert!(snap.is_zoom());
    let dm = snap.read_species(Species::Dm, &ParticleSelection::All).unwrap();
    assert_eq!(dm.len(), 60 + 7);
    let flags = dm.high_res().unwrap();
    assert_eq!(flags.iter().filter(|f| !**f).count(), 7);
    assert!(dm.ids().unwrap().iter().any(|&id| id == 900_003));
    // The halo read keeps its own dark matter, flagged high resolution (its catalogue lists no type-2 rows).
    let tng = TngBox::open(&tmp.path().join("output"), 127).unwrap();
    let halo = tng.read_subhalo(0).unwrap();
    let halo_dm = &halo.species[&Species::Dm];
    assert_eq!(halo_dm.len(), 60);
    assert!(halo_dm.high_res().unwrap().iter().all(|f| *f));
    let not_low_res = snap.read_low_res_dm(1, &[(0, 1)]);
    assert!(
        matches!(&not_low_res, Err(SnapshotError::Malformed { field, .. }) if field == "PartType"),
        "{not_low_res:?}"
    );
    // Ranges past the end (even at u64::MAX) read nothing rather than overflow.
    assert!(snap.read_low_res_dm(2, &[(u64::MAX - 1, 5)]).unwrap().is_empty());
}

/// Every entry under `dir`, recursively, relative to it.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The box is committed as one set: when a later file (the group catalogue) cannot be created, no snapshot chunk is
/// left in place and no temporary stays behind; the error is an I/O error naming that file.
#[test]
fn a_failed_later_file_leaves_no_file_of_the_box() {
    let tmp = tempfile::tempdir().unwrap();
    let galaxy = test_galaxy(5, 40, 30, 60);
    let base = tmp.path().join("output");
    std::fs::create_dir_all(&base).unwrap();
    // A plain file where the catalogue's folder must go.
    std::fs::write(base.join("groups_099"), b"in the way").unwrap();
    let placed = [PlacedGalaxy::new(&galaxy, [2000.0; 3], [0.0; 3])];
    let err = write_tng_box(&base, &TngBoxParams::tng100_like(99, 3, 2), &placed).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Write(AtomicWriteError::Io { path, .. }) if path.ends_with("groups_099/fof_subhalo_tab_099.0.hdf5")),
        "{err}"
    );
    // The snapshot folder was created for the chunks, but holds nothing: no chunk, no temporary.
    assert_eq!(tree(&base), vec!["groups_099".to_owned(), "snapdir_099".to_owned()]);
}
