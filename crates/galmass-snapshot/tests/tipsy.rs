//! Tipsy + AHF: the real ChaNGa fixture against pynbody 2.8's values, round trips of galaxies written as tipsy,
//! and a seeded robustness loop (truncations and byte flips never panic).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use galmass_core::{Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use galmass_snapshot::extract::{centre_galaxy, CentreMethod};
use galmass_snapshot::reader::{ParticleSelection, SnapshotReader};
use galmass_snapshot::tipsy::ahf::{ahf_id_to_file_index, read_ahf_halos, read_ahf_particles};
use galmass_snapshot::tipsy::auxiliary::AuxValues;
use galmass_snapshot::tipsy::format::{ByteOrder, TipsyPrecision};
use galmass_snapshot::tipsy::param::{ExplicitUnits, UnitConvention};
use galmass_snapshot::tipsy::write::{write_galaxies, PlacedGalaxy, TipsyWriteOptions};
use galmass_snapshot::tipsy::{TipsyOptions, TipsySnapshot};
use galmass_snapshot::SnapshotError;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SNAP: &str = "tiny.000640";
const AHF: &str = "tiny.000640.z2.964.AHF_halos";

/// The fixture folder and pynbody's values, or `None` (a printed skip; a failure under
/// GALMASS_REQUIRE_FIXTURES=1) when absent.
fn fixture() -> Option<(PathBuf, serde_json::Value)> {
    let dir = galmass_core::fixtures::fixture("tipsy-changa-tiny")?;
    let expected = galmass_core::fixtures::fixture("expected_by_peers.json")?;
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(expected).unwrap()).unwrap();
    Some((dir, json["tipsy-changa-tiny/tiny.000640"].clone()))
}

fn assert_rel(got: f64, want: f64, what: &str) {
    let tol = 1e-6 * want.abs().max(1e-30);
    assert!((got - want).abs() <= tol, "{what}: got {got}, pynbody {want} (relative {:e})", (got - want) / want);
}

fn vec3(v: &serde_json::Value) -> [f64; 3] {
    [v[0].as_f64().unwrap(), v[1].as_f64().unwrap(), v[2].as_f64().unwrap()]
}

fn mean_pos(p: &Particles) -> [f64; 3] {
    let n = p.len() as f64;
    [0, 1, 2].map(|k| p.pos_kpc().column(k).sum() / n)
}

#[test]
fn changa_fixture_matches_pynbody() {
    let Some((dir, want)) = fixture() else { return };
    let snap = TipsySnapshot::open(&dir.join(SNAP), &TipsyOptions::new(UnitConvention::Pynbody28)).unwrap();
    let header = snap.header();
    assert_eq!(header.n_particles[&Species::Gas], want["n_gas"].as_u64().unwrap());
    assert_eq!(header.n_particles[&Species::Dm], want["n_dark"].as_u64().unwrap());
    assert_eq!(header.n_particles[&Species::Stars], want["n_star"].as_u64().unwrap());
    assert_eq!(snap.precision(), TipsyPrecision::Single);
    assert_rel(header.scale_factor.unwrap(), want["time_scale_factor"].as_f64().unwrap(), "scale factor");
    assert_rel(header.redshift.unwrap(), want["redshift"].as_f64().unwrap(), "redshift");
    assert_rel(header.hubble_param.unwrap(), want["h"].as_f64().unwrap(), "h");
    for (species, key) in [(Species::Gas, "gas"), (Species::Dm, "dark"), (Species::Stars, "star")] {
        let p = snap.read_species(species, &ParticleSelection::All).unwrap();
        assert_rel(
            p.total_mass_msun(),
            want[format!("{key}_total_mass_msun")].as_f64().unwrap(),
            &format!("{key} mass"),
        );
        let first_pos = vec3(&want[format!("{key}_first_pos_kpc")]);
        let first_vel = vec3(&want[format!("{key}_first_vel_kms")]);
        let mean = vec3(&want[format!("{key}_mean_pos_kpc")]);
        let got_mean = mean_pos(&p);
        for k in 0..3 {
            assert_rel(p.pos_kpc()[[0, k]], first_pos[k], &format!("{key} first pos[{k}]"));
            assert_rel(p.vel_kms()[[0, k]], first_vel[k], &format!("{key} first vel[{k}]"));
            assert_rel(got_mean[k], mean[k], &format!("{key} mean pos[{k}]"));
        }
        assert!(p.ids().is_some(), "{key}: ids from .iord");
    }
    let tform = snap.read_tform_gyr(&ParticleSelection::Ranges(vec![(0, 1)])).unwrap();
    assert_rel(tform[0], want["star_first_tform_gyr"].as_f64().unwrap(), "first tform");
    let iord: Vec<u64> = want["iord_first5"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(&snap.iord().unwrap()[..5], iord.as_slice());
    let gas = snap.read_species(Species::Gas, &ParticleSelection::Ranges(vec![(0, 5)])).unwrap();
    assert_eq!(gas.ids().unwrap().to_vec(), iord);
    // stars' ages are positive and below the age of the universe at z = 2.96 (about 2.2 Gyr)
    let stars = snap.read_species(Species::Stars, &ParticleSelection::All).unwrap();
    let ages = stars.field(ScalarField::AgeGyr).unwrap();
    assert!(ages.iter().all(|&t| t > 0.0 && t < 2.3), "{ages:?}");
}

#[test]
fn changa_fixture_exact_g_units_differ_from_pynbody_by_about_1e_4() {
    let Some((dir, want)) = fixture() else { return };
    let snap = TipsySnapshot::open(&dir.join(SNAP), &TipsyOptions::new(UnitConvention::ExactG)).unwrap();
    let gas = snap.read_species(Species::Gas, &ParticleSelection::Ranges(vec![(0, 1)])).unwrap();
    let pynbody = vec3(&want["gas_first_vel_kms"])[1];
    let ratio = gas.vel_kms()[[0, 1]] / pynbody;
    assert!((ratio - 1.0).abs() > 1e-5 && (ratio - 1.0).abs() < 3e-4, "ratio {ratio}");
    // positions and masses do not depend on G
    assert_rel(gas.pos_kpc()[[0, 0]], vec3(&want["gas_first_pos_kpc"])[0], "gas first pos");
}

#[test]
fn changa_fixture_low_resolution_dark_matter_is_flagged() {
    let Some((dir, _)) = fixture() else { return };
    let snap = TipsySnapshot::open(&dir.join(SNAP), &TipsyOptions::new(UnitConvention::Pynbody28)).unwrap();
    let dark = snap.read_species(Species::Dm, &ParticleSelection::All).unwrap();
    let min = snap.lightest_dark_mass_msun().unwrap();
    let flags = dark.high_res().unwrap();
    let n_high = flags.iter().filter(|&&f| f).count();
    let n_light = dark.mass_msun().iter().filter(|&&m| m <= 1.5 * min).count();
    assert_eq!(n_high, n_light);
    assert!(n_high > 0 && n_high < dark.len(), "a zoom has both: {n_high} of {}", dark.len());
}

#[test]
fn changa_fixture_ahf_table_and_group_array_parse() {
    let Some((dir, _)) = fixture() else { return };
    let catalogue = read_ahf_halos(&dir.join(AHF)).unwrap();
    assert_eq!(catalogue.columns.len(), 83);
    assert_eq!(catalogue.halos.len(), 9);
    assert_eq!(catalogue.rows.len(), 9);
    let first = &catalogue.halos[0];
    assert_eq!((first.id, first.host_halo, first.n_particles), (0, -1, 2_604_573));
    assert_eq!(first.mvir_msun_h, 2.34068e11);
    assert_eq!(first.center_kpc_h, [18494.38646187, 24530.41001747, 15219.31979312]);
    assert_eq!(first.f_mhires, Some(0.905713));
    assert_eq!((first.n_gas, first.n_star), (Some(198_355), Some(364_232)));
    assert_eq!(first.m_star_msun_h, Some(1.17e10));
    assert_eq!(catalogue.column("Rvir").unwrap()[0], 152.40);
    let snap = TipsySnapshot::open(&dir.join(SNAP), &TipsyOptions::new(UnitConvention::Pynbody28)).unwrap();
    assert_eq!(snap.ahf_halos_path(), Some(dir.join(AHF)));
    let AuxValues::Int(groups) = snap.read_aux("amiga.grp", None).unwrap() else { panic!("groups are integers") };
    assert_eq!(groups.len(), 3298);
    // -1 = in no halo (pynbody 2.8 reads this file as float32, turning -1 into NaN; galmass keeps integers)
    assert!(groups.iter().all(|&g| g == -1 || g == 0));
    assert_eq!(groups.iter().filter(|&&g| g == 0).count(), 200);
}

#[test]
fn double_precision_positions_are_detected_from_the_file_size() {
    let Some((dir, _)) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let options = TipsyOptions::new(UnitConvention::Pynbody28);
    let single = TipsySnapshot::open(&dir.join(SNAP), &options).unwrap();
    let mut bytes = std::fs::read(dir.join(SNAP)).unwrap()[..32].to_vec();
    for species in [Species::Gas, Species::Dm, Species::Stars] {
        let (raw, _) = single.read_raw(species, &ParticleSelection::All).unwrap();
        for i in 0..raw.mass.len() {
            bytes.extend_from_slice(&(raw.mass[i] as f32).to_be_bytes());
            for k in 0..3 {
                bytes.extend_from_slice(&raw.pos[3 * i + k].to_be_bytes());
            }
            for k in 0..3 {
                bytes.extend_from_slice(&(raw.vel[3 * i + k] as f32).to_be_bytes());
            }
            for (_, values) in &raw.extra {
                bytes.extend_from_slice(&(values[i] as f32).to_be_bytes());
            }
        }
    }
    std::fs::write(tmp.path().join(SNAP), &bytes).unwrap();
    std::fs::copy(dir.join("tiny.param"), tmp.path().join("tiny.param")).unwrap();
    let double = TipsySnapshot::open(&tmp.path().join(SNAP), &options).unwrap();
    assert_eq!(double.precision(), TipsyPrecision::DoublePositions);
    for species in [Species::Gas, Species::Dm, Species::Stars] {
        let a = single.read_species(species, &ParticleSelection::All).unwrap();
        let b = double.read_species(species, &ParticleSelection::All).unwrap();
        assert_eq!(a.pos_kpc(), b.pos_kpc());
        assert_eq!(a.vel_kms(), b.vel_kms());
        assert_eq!(a.mass_msun(), b.mass_msun());
    }
    // forcing the wrong layout is a typed error
    let mut wrong = options.clone();
    wrong.precision = Some(TipsyPrecision::DoublePositionsAndVelocities);
    let err = TipsySnapshot::open(&tmp.path().join(SNAP), &wrong).unwrap_err();
    assert!(matches!(err, SnapshotError::Truncated { .. }), "{err}");
}

fn random_particles(n: usize, scale_kpc: f64, rng: &mut ChaCha8Rng, first_id: u64) -> Particles {
    let pos = Array2::from_shape_fn((n, 3), |_| rng.random_range(-scale_kpc..scale_kpc));
    let vel = Array2::from_shape_fn((n, 3), |_| rng.random_range(-250.0..250.0));
    let mass = Array1::from_shape_fn(n, |_| rng.random_range(1e4..1e6));
    let mut p = Particles::new(pos, vel, mass).unwrap();
    p.set_ids(Array1::from_iter(first_id..first_id + n as u64)).unwrap();
    p
}

/// A galaxy with gas (HI masses, temperatures, metallicities), dark matter and stars (ages, metallicities).
pub fn sample_galaxy(id: i64, seed: u64) -> Galaxy {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut g = Galaxy::new(GalaxyMeta::new("tipsy-test", id));
    let first = 100_000 * (id as u64 + 1);
    let mut gas = random_particles(120, 20.0, &mut rng, first);
    let hi = Array1::from_iter(gas.mass_msun().iter().map(|m| m * rng.random_range(0.0..0.7)));
    gas.set_field(ScalarField::HiMassMsun, hi).unwrap();
    gas.set_field(ScalarField::TemperatureK, Array1::from_shape_fn(120, |_| rng.random_range(1e3..1e6))).unwrap();
    gas.set_field(ScalarField::Metallicity, Array1::from_shape_fn(120, |_| rng.random_range(0.0..0.03))).unwrap();
    let mut stars = random_particles(80, 8.0, &mut rng, first + 10_000);
    stars.set_field(ScalarField::AgeGyr, Array1::from_shape_fn(80, |_| rng.random_range(0.1..8.0))).unwrap();
    g.set_species(Species::Gas, gas);
    g.set_species(Species::Dm, random_particles(200, 150.0, &mut rng, first + 20_000));
    g.set_species(Species::Stars, stars);
    g
}

fn assert_close(got: f64, want: f64, what: &str) {
    assert!((got - want).abs() <= 1e-6 * want.abs(), "{what}: got {got}, want {want}");
}

#[test]
fn galaxies_round_trip_through_tipsy_param_aux_and_ahf() {
    let galaxies = [sample_galaxy(0, 11), sample_galaxy(1, 12)];
    let offsets = [([1200.0, -340.0, 2500.0], [30.0, -10.0, 5.0]), ([-3000.0, 800.0, 10.0], [-120.0, 60.0, 0.0])];
    for convention in [UnitConvention::Pynbody28, UnitConvention::ExactG] {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("sample.00512");
        let placed: Vec<PlacedGalaxy<'_>> = galaxies
            .iter()
            .zip(offsets)
            .map(|(galaxy, (offset_kpc, velocity_offset_kms))| {
                PlacedGalaxy::new(galaxy, offset_kpc, velocity_offset_kms)
            })
            .collect();
        let options = TipsyWriteOptions::nihao_planck2014(0.5, convention);
        let written = write_galaxies(&path, &placed, &options).unwrap();
        let snap = TipsySnapshot::open(&path, &TipsyOptions::new(convention)).unwrap();
        assert_close(snap.header().redshift.unwrap(), 0.5, "redshift");
        assert_close(snap.header().hubble_param.unwrap(), 0.671, "h");
        let mut file_index = 0u64;
        let mut members_want: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); 2];
        for species in [Species::Gas, Species::Dm, Species::Stars] {
            let read = snap.read_species(species, &ParticleSelection::All).unwrap();
            let mut row = 0;
            for (gk, (g, (offset, voff))) in galaxies.iter().zip(offsets).enumerate() {
                let p = g.species(species).unwrap();
                for i in 0..p.len() {
                    for k in 0..3 {
                        assert_close(read.pos_kpc()[[row, k]], p.pos_kpc()[[i, k]] + offset[k], "pos");
                        assert_close(read.vel_kms()[[row, k]], p.vel_kms()[[i, k]] + voff[k], "vel");
                    }
                    assert_close(read.mass_msun()[row], p.mass_msun()[i], "mass");
                    assert_eq!(read.ids().unwrap()[row], p.ids().unwrap()[i]);
                    if species == Species::Gas {
                        let hi = p.field(ScalarField::HiMassMsun).unwrap()[i];
                        let got = read.field(ScalarField::HiMassMsun).unwrap()[row];
                        assert!((got - hi).abs() <= 1e-6 * p.mass_msun()[i], "HI {got} vs {hi}");
                    }
                    if species == Species::Stars {
                        let age = p.field(ScalarField::AgeGyr).unwrap()[i];
                        let got = read.field(ScalarField::AgeGyr).unwrap()[row];
                        assert!((got - age).abs() < 1e-5, "age {got} vs {age}");
                    }
                    members_want[gk].insert(file_index);
                    row += 1;
                    file_index += 1;
                }
            }
            assert_eq!(row, read.len());
        }
        let halos = read_ahf_halos(&written.ahf_halos).unwrap();
        assert_eq!(halos.halos.len(), 2);
        let a = snap.header().scale_factor.unwrap();
        for (k, halo) in halos.halos.iter().enumerate() {
            let center = halo.center_physical_kpc(a, 0.671);
            for (got, want) in center.iter().zip(offsets[k].0) {
                assert!((got - want).abs() < 1e-9 * 3000.0, "halo centre");
            }
            assert_eq!(halo.n_particles, 400);
            assert_eq!((halo.n_gas, halo.n_star), (Some(120), Some(80)));
        }
        let members = read_ahf_particles(&written.ahf_particles).unwrap();
        assert_eq!(members.len(), 2);
        for (k, m) in members.iter().enumerate() {
            assert_eq!(m.halo_id, k as i64);
            let file_indices: BTreeSet<u64> =
                m.particle_ids.iter().map(|&id| ahf_id_to_file_index(id, snap.tipsy_header()).unwrap()).collect();
            assert_eq!(file_indices, members_want[k]);
        }
        assert_eq!(snap.ahf_halos_path(), Some(written.ahf_halos.clone()));
        // One AHF halo read as a galaxy holds exactly its galaxy's particles, and centring puts it back on its own
        // frame (the offsets were its centre and bulk velocity).
        for (k, g) in galaxies.iter().enumerate() {
            let halo = snap.read_ahf_halo(k as i64, GalaxyMeta::new("sample", k as i64)).unwrap();
            assert_eq!(halo.meta.source_halo_id, Some(k as i64));
            for species in [Species::Gas, Species::Dm, Species::Stars] {
                let (got, want) = (halo.species(species).unwrap(), g.species(species).unwrap());
                let mut ids: Vec<u64> = got.ids().unwrap().to_vec();
                let mut want_ids: Vec<u64> = want.ids().unwrap().to_vec();
                ids.sort_unstable();
                want_ids.sort_unstable();
                assert_eq!(ids, want_ids, "{species}");
            }
            let given = CentreMethod::Given { centre_kpc: offsets[k].0 };
            let centred = centre_galaxy(&halo, &given).unwrap();
            let first = centred.stars().unwrap().pos_kpc().row(0).to_vec();
            let orig = g.stars().unwrap().pos_kpc().row(0).to_vec();
            for (a, b) in first.iter().zip(&orig) {
                assert!((a - b).abs() < 1e-3, "{a} vs {b}");
            }
        }
        let absent = snap.read_ahf_halo(7, GalaxyMeta::new("sample", 7));
        assert!(matches!(&absent, Err(SnapshotError::Malformed { field, .. }) if field == "halo id"), "{absent:?}");
        // the written units keep coordinates within [-0.5, 0.5]
        let (raw, _) = snap.read_raw(Species::Dm, &ParticleSelection::All).unwrap();
        assert!(raw.pos.iter().all(|x| x.abs() <= 0.5), "comoving coordinates in box units");
        assert!(raw.vel.iter().all(|v| v.abs() <= 1.0), "code velocities within [-1, 1]");
    }
}

#[test]
fn selections_read_the_same_particles_as_whole_reads() {
    let galaxy = sample_galaxy(0, 3);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sel.00001");
    let placed = [PlacedGalaxy::new(&galaxy, [0.0; 3], [0.0; 3])];
    write_galaxies(&path, &placed, &TipsyWriteOptions::nihao_planck2014(0.0, UnitConvention::ExactG)).unwrap();
    let snap = TipsySnapshot::open(&path, &TipsyOptions::new(UnitConvention::ExactG)).unwrap();
    let all = snap.read_species(Species::Dm, &ParticleSelection::All).unwrap();
    let some = snap.read_species(Species::Dm, &ParticleSelection::Ranges(vec![(10, 5), (190, 50)])).unwrap();
    let want: Vec<usize> = (10..15).chain(190..200).collect();
    assert_eq!(some, all.select(&want).unwrap());
    assert!(snap.read_species(Species::Bh, &ParticleSelection::All).unwrap().is_empty());
}

/// A tipsy file without `.param` (issue 11): the header reads and says the units are unknown; particles need the
/// units, given as a `.param` elsewhere or explicitly, and then read as with the `.param` beside the file.
#[test]
fn missing_param_file_reports_the_header_and_reading_needs_units() {
    let galaxy = sample_galaxy(0, 4);
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let path = sub.join("s.00001");
    let placed = [PlacedGalaxy::new(&galaxy, [0.0; 3], [0.0; 3])];
    let written =
        write_galaxies(&path, &placed, &TipsyWriteOptions::nihao_planck2014(0.0, UnitConvention::ExactG)).unwrap();
    let with_param = TipsySnapshot::open(&path, &TipsyOptions::new(UnitConvention::ExactG)).unwrap();
    let want = with_param.read_species(Species::Stars, &ParticleSelection::All).unwrap();
    let elsewhere = tmp.path().join("elsewhere.param");
    std::fs::rename(&written.param, &elsewhere).unwrap();

    let snap = TipsySnapshot::open(&path, &TipsyOptions::new(UnitConvention::ExactG)).unwrap();
    let header = snap.header();
    assert_eq!(header.units, None);
    assert!(header.note.as_deref().is_some_and(|n| n.contains("units unknown") && n.contains("--param")), "{header:?}");
    assert_eq!((header.scale_factor, header.redshift, header.hubble_param), (None, None, None));
    assert_eq!(header.n_particles[&Species::Stars], with_param.header().n_particles[&Species::Stars]);
    let details = header.tipsy.unwrap();
    assert_eq!((details.time, details.n_total), (1.0, with_param.tipsy_header().n_total));
    assert_eq!((details.byte_order, details.precision), (ByteOrder::Big, TipsyPrecision::Single));
    assert!(snap.units().is_none() && snap.lightest_dark_mass_msun().is_none());
    let err = snap.read_species(Species::Stars, &ParticleSelection::All).unwrap_err();
    assert!(matches!(&err, SnapshotError::UnitsUnknown { path: p } if p == &path), "{err}");
    assert!(err.to_string().contains("s.00001") && err.to_string().contains("--dkpcunit"), "{err}");
    let err = snap.read_tform_gyr(&ParticleSelection::All).unwrap_err();
    assert!(matches!(err, SnapshotError::UnitsUnknown { .. }), "{err}");

    // The .param given from elsewhere.
    let options = TipsyOptions { param_path: Some(elsewhere.clone()), ..TipsyOptions::new(UnitConvention::ExactG) };
    let given = TipsySnapshot::open(&path, &options).unwrap();
    assert_eq!(given.read_species(Species::Stars, &ParticleSelection::All).unwrap(), want);
    assert!(given.header().units.as_deref().is_some_and(|u| u.contains("elsewhere.param")));

    // The same units given explicitly.
    let u = with_param.units().unwrap();
    let units = ExplicitUnits {
        length_kpc: u.length_kpc,
        mass_msun: u.mass_msun,
        comoving: u.comoving,
        hubble_param: u.hubble_param,
        omega_matter: u.omega_matter,
        omega_lambda: u.omega_lambda,
    };
    let options = TipsyOptions { units: Some(units), ..TipsyOptions::new(UnitConvention::ExactG) };
    let explicit = TipsySnapshot::open(&path, &options).unwrap();
    let got = explicit.read_species(Species::Stars, &ParticleSelection::All).unwrap();
    assert_eq!(got.len(), want.len());
    for (a, b) in got.pos_kpc().iter().zip(want.pos_kpc()) {
        assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} {b}");
    }
    let (ages, want_ages) = (got.field(ScalarField::AgeGyr).unwrap(), want.field(ScalarField::AgeGyr).unwrap());
    for (a, b) in ages.iter().zip(want_ages) {
        assert!((a - b).abs() < 1e-6, "{a} {b}");
    }
    // Both at once is refused.
    let both =
        TipsyOptions { param_path: Some(elsewhere), units: Some(units), ..TipsyOptions::new(UnitConvention::ExactG) };
    let err = TipsySnapshot::open(&path, &both).unwrap_err();
    assert!(matches!(err, SnapshotError::Malformed { ref field, .. } if field == "units"), "{err}");
}

/// Every read a corrupted file can reach: open, all species, a selection, an auxiliary array, the AHF files.
fn read_everything(dir: &Path) -> Result<(), SnapshotError> {
    let _ = read_ahf_halos(&dir.join(AHF));
    let _ = read_ahf_particles(&dir.join("tiny.000640.z2.964.AHF_particles"));
    let snap = TipsySnapshot::open(&dir.join(SNAP), &TipsyOptions::new(UnitConvention::Pynbody28))?;
    for species in Species::ALL {
        snap.read_species(species, &ParticleSelection::All)?;
        snap.read_species(species, &ParticleSelection::Ranges(vec![(3, 7), (u64::MAX - 1, 5)]))?;
    }
    snap.read_aux("amiga.grp", None)?;
    snap.read_tform_gyr(&ParticleSelection::All)?;
    Ok(())
}

#[test]
fn truncated_and_corrupted_files_give_typed_errors_never_panics() {
    let Some((dir, _)) = fixture() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let names = [SNAP, "tiny.000640.iord", "tiny.param", AHF, "tiny.000640.amiga.grp"];
    for name in names {
        std::fs::copy(dir.join(name), tmp.path().join(name)).unwrap();
    }
    // an AHF_particles file to corrupt too
    let mut particles = String::from("2\n");
    for (halo, ids) in [(0, 0..40u64), (1, 100..130)] {
        particles.push_str(&format!("{} {halo}\n", ids.end - ids.start));
        for id in ids {
            particles.push_str(&format!("{id} 1\n"));
        }
    }
    std::fs::write(tmp.path().join("tiny.000640.z2.964.AHF_particles"), particles).unwrap();
    let targets = [SNAP, "tiny.000640.iord", "tiny.param", AHF, "tiny.000640.z2.964.AHF_particles"];
    let originals: Vec<Vec<u8>> = targets.iter().map(|n| std::fs::read(tmp.path().join(n)).unwrap()).collect();
    read_everything(tmp.path()).unwrap();

    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let (mut ok, mut errors) = (0, 0);
    for case in 0..3000 {
        let target = case % targets.len();
        let mut bytes = originals[target].clone();
        match rng.random_range(0..3) {
            0 => bytes.truncate(rng.random_range(0..bytes.len())),
            1 => {
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..bytes.len());
                    bytes[at] ^= 1 << rng.random_range(0..8);
                }
            }
            _ => {
                // the header and count words, where a flip changes the layout
                let at = rng.random_range(0..bytes.len().min(40));
                bytes[at] = rng.random();
            }
        }
        let path = tmp.path().join(targets[target]);
        std::fs::write(&path, &bytes).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_everything(tmp.path())));
        match outcome {
            Ok(Ok(())) => ok += 1,
            Ok(Err(_)) => errors += 1,
            Err(_) => panic!("case {case}: reading {} corrupted to {} bytes panicked", targets[target], bytes.len()),
        }
        std::fs::write(&path, &originals[target]).unwrap();
    }
    println!("3000 corrupted cases: {ok} read fine, {errors} typed errors, 0 panics");
    assert!(errors > 100 && ok > 100, "{ok} ok, {errors} errors");
}

/// Every entry of a folder, by name.
fn entries(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// The tipsy file set is committed together: when a later file (the AHF particle lists) cannot be written, none of
/// the six files is left in place and no temporary stays behind.
#[test]
fn a_failed_later_file_leaves_no_file_of_the_set() {
    let galaxy = sample_galaxy(0, 4);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.00001");
    let options = TipsyWriteOptions::nihao_planck2014(0.0, UnitConvention::ExactG);
    let placed = [PlacedGalaxy::new(&galaxy, [0.0; 3], [0.0; 3])];
    // Block the temporary of the last file of the set with a folder of that name.
    let blocked = galmass_core::atomic::temporary_path(&tmp.path().join("s.00001.z0.000.AHF_particles"));
    std::fs::create_dir(&blocked).unwrap();
    let err = write_galaxies(&path, &placed, &options).unwrap_err();
    assert!(matches!(&err, SnapshotError::Io { path: p, .. } if p.ends_with("s.00001.z0.000.AHF_particles")), "{err}");
    let blocker = blocked.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(entries(tmp.path()), BTreeSet::from([blocker]), "only the blocking folder remains");
    // Unblocked, the same write puts all six files in place.
    std::fs::remove_dir(&blocked).unwrap();
    let written = write_galaxies(&path, &placed, &options).unwrap();
    for file in
        [&written.snapshot, &written.param, &written.iord, &written.hi, &written.ahf_halos, &written.ahf_particles]
    {
        assert!(file.is_file(), "{}", file.display());
    }
    assert_eq!(entries(tmp.path()).len(), 6);
}
