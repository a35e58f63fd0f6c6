//! Writes a sample tipsy snapshot (+ `.param`, `.iord`, `.HI`, AHF files) from two galaxies of random particles,
//! and `expected.json` with what a reader should find, for `scripts/pynbody_check.py`.
//!
//! ```sh
//! cargo run -p galmass-snapshot --example tipsy_sample -- /tmp/tipsy-sample
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // an example: failures abort with a message

use std::path::PathBuf;

use galmass_core::{Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use galmass_snapshot::tipsy::param::UnitConvention;
use galmass_snapshot::tipsy::write::{write_galaxies, PlacedGalaxy, TipsyWriteOptions};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_particles(n: usize, scale_kpc: f64, mass_msun: f64, rng: &mut ChaCha8Rng) -> Particles {
    let pos = Array2::from_shape_fn((n, 3), |_| rng.random_range(-scale_kpc..scale_kpc));
    let vel = Array2::from_shape_fn((n, 3), |_| rng.random_range(-200.0..200.0));
    let mass = Array1::from_shape_fn(n, |_| mass_msun * rng.random_range(0.5..1.5));
    Particles::new(pos, vel, mass).unwrap()
}

fn galaxy(id: i64, seed: u64) -> Galaxy {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut g = Galaxy::new(GalaxyMeta::new("tipsy-sample", id));
    let mut gas = random_particles(300, 30.0, 2e5, &mut rng);
    let hi = Array1::from_iter(gas.mass_msun().iter().map(|m| m * rng.random_range(0.0..0.7)));
    gas.set_field(ScalarField::HiMassMsun, hi).unwrap();
    let mut stars = random_particles(500, 10.0, 1e5, &mut rng);
    stars.set_field(ScalarField::AgeGyr, Array1::from_shape_fn(500, |_| rng.random_range(0.1..5.0))).unwrap();
    g.set_species(Species::Gas, gas);
    g.set_species(Species::Dm, random_particles(1000, 200.0, 1e6, &mut rng));
    g.set_species(Species::Stars, stars);
    g
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "tipsy-sample".into()));
    std::fs::create_dir_all(&dir).unwrap();
    let galaxies = [galaxy(0, 1), galaxy(1, 2)];
    let offsets = [([2000.0, 1500.0, -800.0], [50.0, -20.0, 10.0]), ([-2500.0, 300.0, 1200.0], [-80.0, 40.0, 0.0])];
    let placed: Vec<PlacedGalaxy<'_>> = galaxies
        .iter()
        .zip(offsets)
        .map(|(galaxy, (offset_kpc, velocity_offset_kms))| PlacedGalaxy::new(galaxy, offset_kpc, velocity_offset_kms))
        .collect();
    let options = TipsyWriteOptions::nihao_planck2014(0.5, UnitConvention::Pynbody28);
    let written = write_galaxies(&dir.join("sample.00512"), &placed, &options).unwrap();

    let mut expected = serde_json::Map::new();
    expected.insert("snapshot".into(), written.snapshot.display().to_string().into());
    expected.insert("scale_factor".into(), (1.0 / 1.5).into());
    expected.insert("h".into(), options.hubble_param.into());
    expected.insert("n_halos".into(), galaxies.len().into());
    for (species, key) in [(Species::Gas, "gas"), (Species::Dm, "dark"), (Species::Stars, "star")] {
        let n: usize = galaxies.iter().map(|g| g.species(species).unwrap().len()).sum();
        let mass: f64 = galaxies.iter().map(|g| g.species(species).unwrap().total_mass_msun()).sum();
        let first = galaxies[0].species(species).unwrap();
        let pos: Vec<f64> = (0..3).map(|k| first.pos_kpc()[[0, k]] + offsets[0].0[k]).collect();
        let vel: Vec<f64> = (0..3).map(|k| first.vel_kms()[[0, k]] + offsets[0].1[k]).collect();
        expected.insert(format!("n_{key}"), n.into());
        expected.insert(format!("halo0_n_{key}"), first.len().into());
        expected.insert(format!("{key}_total_mass_msun"), mass.into());
        expected.insert(format!("{key}_first_pos_kpc"), pos.into());
        expected.insert(format!("{key}_first_vel_kms"), vel.into());
    }
    let gas = galaxies[0].species(Species::Gas).unwrap();
    let hi_total: f64 =
        galaxies.iter().map(|g| g.species(Species::Gas).unwrap().field(ScalarField::HiMassMsun).unwrap().sum()).sum();
    expected.insert("gas_hi_total_msun".into(), hi_total.into());
    expected.insert(
        "gas_first_hi_fraction".into(),
        (gas.field(ScalarField::HiMassMsun).unwrap()[0] / gas.mass_msun()[0]).into(),
    );
    let json = serde_json::to_string_pretty(&serde_json::Value::Object(expected)).unwrap();
    std::fs::write(dir.join("expected.json"), json).unwrap();
    println!(
        "wrote {} (+ .param, .iord, .HI, AHF) and {}",
        written.snapshot.display(),
        dir.join("expected.json").display()
    );
}
