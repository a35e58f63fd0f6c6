//! Writes a small TNG-layout box (random-particle galaxies, 3 snapshot chunks, 2 catalogue chunks) and a JSON of
//! what every subhalo holds in physical units, for `scripts/illustris_check.py` to compare with illustris_python.
//!
//! ```sh
//! cargo run -p galmass-snapshot --example tng_box -- /tmp/tngbox
//! # writes /tmp/tngbox/output/{snapdir_099,groups_099}/..., /tmp/tngbox/postprocessing/offsets/offsets_099.hdf5
//! # and /tmp/tngbox/expected.json
//! ```

use std::path::PathBuf;

use galmass_core::particles::BandLuminosity;
use galmass_core::{Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use galmass_snapshot::arepo::catalogue::TngBox;
use galmass_snapshot::arepo::writer::{write_tng_box, PlacedGalaxy, TngBoxParams};
use galmass_snapshot::reader::SnapshotReader;
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
    let mass: Array1<f64> = (0..n).map(|_| mass_msun.unwrap_or_else(|| rng.random_range(5e4..5e5))).collect();
    Ok(Particles::new(pos, vel, mass)?)
}

fn galaxy(seed: u64, n_stars: usize, n_gas: usize, n_dm: usize) -> Result<Galaxy, Box<dyn std::error::Error>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut stars = particles(&mut rng, n_stars, 4.0, None)?;
    stars.set_field(ScalarField::AgeGyr, (0..n_stars).map(|_| rng.random_range(0.2..10.0)).collect())?;
    stars.set_field(ScalarField::Metallicity, (0..n_stars).map(|_| rng.random_range(0.002..0.03)).collect())?;
    for (band, solar) in [("g", 5.11), ("r", 4.65), ("i", 4.53), ("z", 4.50)] {
        stars.set_luminosity(
            band,
            BandLuminosity {
                lum_lsun: (0..n_stars).map(|_| rng.random_range(1e3..1e5)).collect(),
                solar_abs_mag_ab: solar,
            },
        )?;
    }
    let mut gas = particles(&mut rng, n_gas, 8.0, None)?;
    gas.set_field(ScalarField::TemperatureK, (0..n_gas).map(|_| rng.random_range(100.0..1e5)).collect())?;
    gas.set_field(ScalarField::DensityMsunPerKpc3, (0..n_gas).map(|_| rng.random_range(1e4..1e6)).collect())?;
    let dm = particles(&mut rng, n_dm, 40.0, Some(2e6))?;
    let bh = particles(&mut rng, 1, 0.01, Some(1e7))?;
    let mut g = Galaxy::new(GalaxyMeta::new("tng-box-example", seed as i64));
    for (s, p) in [(Species::Stars, stars), (Species::Gas, gas), (Species::Dm, dm), (Species::Bh, bh)] {
        g.set_species(s, p);
    }
    Ok(g)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).ok_or("usage: tng_box OUT_DIR")?);
    let galaxies =
        [galaxy(11, 200, 120, 300)?, galaxy(12, 60, 40, 90)?, galaxy(13, 120, 80, 200)?, galaxy(14, 30, 0, 50)?];
    let params = TngBoxParams { box_size_kpc: 10_000.0, scale_factor: 0.75, ..TngBoxParams::tng100_like(99, 3, 2) };
    // Galaxies 0 and 1 share a group; galaxy 2 straddles the box corner.
    let placement = [
        ([2000.0, 3000.0, 4000.0], [120.0, -40.0, 10.0], 0),
        ([2025.0, 3010.0, 3990.0], [-60.0, 90.0, 5.0], 0),
        ([3.0, 9998.0, 1.0], [0.0, 0.0, 250.0], 1),
        ([7000.0, 500.0, 5000.0], [10.0, 10.0, 10.0], 2),
    ];
    let placed: Vec<PlacedGalaxy<'_>> = galaxies
        .iter()
        .zip(&placement)
        .map(|(g, &(c, v, group))| PlacedGalaxy { galaxy: g, group, centre_kpc: c, velocity_kms: v })
        .collect();
    let written = write_tng_box(&root.join("output"), &params, &placed)?;
    let tng = TngBox::open(&root.join("output"), params.snap_num)?;
    let mut subhalos = Vec::new();
    for (i, g) in galaxies.iter().enumerate() {
        let (centre, bulk, _) = placement[i];
        let read = tng.read_subhalo(written.subhalo_ids[i])?;
        let mut species = serde_json::Map::new();
        for (s, p) in g.all_species() {
            let back = &read.species[&s];
            let rows = |a: &Array2<f64>, add: [f64; 3]| -> Vec<[f64; 3]> {
                a.rows().into_iter().map(|r| [r[0] + add[0], r[1] + add[1], r[2] + add[2]]).collect()
            };
            species.insert(
                s.group_name().into(),
                json!({
                    "count": p.len(),
                    "pos_kpc": rows(p.pos_kpc(), centre),
                    "vel_kms": rows(p.vel_kms(), bulk),
                    "mass_msun": p.mass_msun().to_vec(),
                    "age_gyr": p.field(ScalarField::AgeGyr).map(|a| a.to_vec()),
                    "galmass_ids": back.ids().map(|a| a.to_vec()),
                    "galmass_count": back.len(),
                }),
            );
        }
        subhalos.push(json!({
            "subhalo_id": written.subhalo_ids[i],
            "group_id": written.group_ids[i],
            "centre_kpc": centre,
            "len_type": written.len_type[i],
            "offset_type": written.offset_type[i],
            "species": species,
        }));
    }
    let header = tng.snapshot().header();
    let out = json!({
        "base_path": root.join("output"),
        "snap_num": params.snap_num,
        "hubble_param": params.hubble_param,
        "scale_factor": params.scale_factor,
        "omega_matter": params.omega_matter,
        "omega_lambda": params.omega_lambda,
        "box_size_kpc": header.box_size_kpc,
        "n_groups": tng.n_groups(),
        "n_subhalos": tng.n_subhalos(),
        "subhalos": subhalos,
    });
    std::fs::write(root.join("expected.json"), serde_json::to_string_pretty(&out)?)?;
    println!("wrote {} subhalos in {} groups under {}", tng.n_subhalos(), tng.n_groups(), root.display());
    Ok(())
}
