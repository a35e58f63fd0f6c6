//! Writes a small FIRE-2-like Gizmo snapshot (a main galaxy with high- and low-resolution dark matter and a
//! satellite, 2 files) and a JSON of what it holds in physical units, for `scripts/gizmo_check.py` to compare with
//! gizmo_analysis / h5py.
//!
//! ```sh
//! cargo run -p galmass-snapshot --example gizmo_sample -- /tmp/gizmo_sample
//! # writes /tmp/gizmo_sample/output/snapdir_600/snapshot_600.{0,1}.hdf5 and /tmp/gizmo_sample/expected.json
//! ```

use std::path::PathBuf;

use galmass_core::{Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use galmass_snapshot::gizmo::{part_types, write_gizmo_snapshot, GizmoSnapshot, GizmoWriteParams, PlacedGalaxy};
use galmass_snapshot::reader::{ParticleSelection, SnapshotReader};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

fn particles(
    rng: &mut ChaCha8Rng,
    n: usize,
    scale_kpc: f64,
    mass_msun: Option<f64>,
) -> Result<Particles, Box<dyn std::error::Error>> {
    let pos = Array2::from_shape_fn((n, 3), |_| rng.random_range(-scale_kpc..scale_kpc));
    let vel = Array2::from_shape_fn((n, 3), |_| rng.random_range(-150.0..150.0));
    let mass: Array1<f64> = (0..n).map(|_| mass_msun.unwrap_or_else(|| rng.random_range(5e3..5e4))).collect();
    Ok(Particles::new(pos, vel, mass)?)
}

fn galaxy(seed: u64, n_stars: usize, n_gas: usize, n_dm: usize) -> Result<Galaxy, Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stars = particles(&mut rng, n_stars, 4.0, None)?;
    stars.set_field(ScalarField::AgeGyr, (0..n_stars).map(|_| rng.random_range(0.2..10.0)).collect())?;
    stars.set_field(ScalarField::Metallicity, (0..n_stars).map(|_| rng.random_range(0.002..0.03)).collect())?;
    let mut gas = particles(&mut rng, n_gas, 8.0, None)?;
    gas.set_field(ScalarField::TemperatureK, (0..n_gas).map(|_| rng.random_range(100.0..1e5)).collect())?;
    gas.set_field(ScalarField::DensityMsunPerKpc3, (0..n_gas).map(|_| rng.random_range(1e4..1e8)).collect())?;
    gas.set_field(ScalarField::SmoothingLengthKpc, (0..n_gas).map(|_| rng.random_range(0.05..2.0)).collect())?;
    gas.set_field(ScalarField::Metallicity, (0..n_gas).map(|_| rng.random_range(0.002..0.03)).collect())?;
    let hi: Array1<f64> = gas.mass_msun().iter().map(|m| m * rng.random_range(0.0..0.6)).collect();
    gas.set_field(ScalarField::HiMassMsun, hi)?;
    let mut dm = particles(&mut rng, n_dm, 40.0, Some(3e5))?;
    // The outer fifth is low-resolution (PartType2).
    dm.set_high_res((0..n_dm).map(|i| i % 5 != 0).collect())?;
    let bh = particles(&mut rng, 1, 0.01, Some(1e6))?;
    let mut g = Galaxy::new(GalaxyMeta::new("gizmo-sample", seed as i64));
    for (s, p) in [(Species::Stars, stars), (Species::Gas, gas), (Species::Dm, dm), (Species::Bh, bh)] {
        g.set_species(s, p);
    }
    Ok(g)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).ok_or("usage: gizmo_sample OUT_DIR")?);
    let galaxies = [galaxy(21, 400, 200, 500)?, galaxy(22, 50, 30, 80)?];
    let params = GizmoWriteParams { scale_factor: 0.95, ..GizmoWriteParams::fire2_like(600, 2) };
    let placement =
        [([41_000.0, 42_000.0, 43_000.0], [80.0, -20.0, 15.0]), ([41_200.0, 42_050.0, 43_010.0], [-40.0, 70.0, 0.0])];
    let placed: Vec<PlacedGalaxy<'_>> =
        galaxies.iter().zip(&placement).map(|(g, &(c, v))| PlacedGalaxy::new(g, c, v)).collect();
    let written = write_gizmo_snapshot(&root.join("output"), &params, &placed)?;
    let snap = GizmoSnapshot::open(&written.chunk_paths[0])?;
    // Per Gizmo type, what galmass's reader returns, in physical units (kpc, km/s, Msun).
    let mut types = serde_json::Map::new();
    for species in Species::ALL {
        let p = snap.read_species(species, &ParticleSelection::All)?;
        let mut start = 0usize;
        for &t in part_types(species) {
            let n = written.num_part_total[t] as usize;
            let rows: Vec<usize> = (start..start + n).collect();
            start += n;
            let sub = p.select(&rows)?;
            let first: Vec<Vec<f64>> = (0..sub.len().min(5)).map(|i| sub.pos_kpc().row(i).to_vec()).collect();
            let hi = sub.field(ScalarField::HiMassMsun).map(|v| v.sum());
            types.insert(
                format!("PartType{t}"),
                json!({
                    "count": sub.len(),
                    "total_mass_msun": sub.total_mass_msun(),
                    "first_pos_kpc": first,
                    "first_ids": sub.ids().map(|v| v.iter().take(5).copied().collect::<Vec<u64>>()),
                    "hi_mass_msun": hi,
                    "mean_age_gyr": sub.field(ScalarField::AgeGyr).map(|v| v.mean()),
                }),
            );
        }
    }
    let expected = json!({
        "snap_num": params.snap_num,
        "scale_factor": params.scale_factor,
        "hubble_param": params.hubble_param,
        "n_files": params.n_files,
        "types": types,
    });
    std::fs::write(root.join("expected.json"), serde_json::to_string_pretty(&expected)?)?;
    println!(
        "wrote {} and {}",
        written.chunk_paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        root.join("expected.json").display()
    );
    Ok(())
}
