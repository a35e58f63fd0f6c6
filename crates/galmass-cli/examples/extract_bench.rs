//! Benchmark (not a test): extraction of a 1e6-particle galaxy from native snapshots, the `galmass extract` path.
//! A tng-like synthetic galaxy (3e5 stars, 6e5 dark matter, 1e5 gas) and a smaller neighbour are written as a
//! TNG-layout box (3 snapshot chunks) and the big one as a tipsy zoom with AHF; then, timed separately: opening,
//! reading the halo's particles (subhalo by offsets / AHF members), centring (shrinking spheres, frame, truth from
//! particles) and writing the galaxy file.
//!
//! ```sh
//! eval "$(cargo xtask env)" && cargo run --release -p galmass-cli --example extract_bench -- /tmp/extract_bench
//! ```

use std::path::PathBuf;
use std::time::Instant;

use galmass_core::params::Params;
use galmass_core::GalaxyMeta;
use galmass_snapshot::arepo::catalogue::TngBox;
use galmass_snapshot::arepo::writer::{write_tng_box, PlacedGalaxy, TngBoxParams};
use galmass_snapshot::extract::{centre_galaxy, CentreMethod};
use galmass_snapshot::galaxy_file;
use galmass_snapshot::tipsy::param::UnitConvention;
use galmass_snapshot::tipsy::write::{write_galaxies, TipsyWriteOptions};
use galmass_snapshot::tipsy::{TipsyOptions, TipsySnapshot};
use galmass_synth::suite::{build_galaxy, SuiteParams};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: extract_bench OUT_DIR")?);
    std::fs::create_dir_all(&dir)?;
    let mut params = SuiteParams::preset("tng-like").ok_or("preset")?;
    params.particles.set_counts(Some(300_000), Some(600_000), Some(100_000));
    let big = build_galaxy(&params.check()?, 0, 1)?.galaxy;
    params.particles.set_counts(Some(30_000), Some(60_000), Some(10_000));
    let small = build_galaxy(&params.check()?, 1, 1)?.galaxy;
    let n_big: usize = big.all_species().map(|(_, p)| p.len()).sum();
    let mut box_params = TngBoxParams::tng100_like(99, 3, 2);
    box_params.box_size_kpc = 20_000.0;
    let placed = [
        PlacedGalaxy { galaxy: &small, group: 0, centre_kpc: [5000.0; 3], velocity_kms: [0.0; 3] },
        PlacedGalaxy { galaxy: &big, group: 1, centre_kpc: [15000.0; 3], velocity_kms: [100.0, -50.0, 20.0] },
    ];
    let base = dir.join("tng/output");
    write_tng_box(&base, &box_params, &placed)?;
    let zoom = dir.join("zoom/big.01024");
    std::fs::create_dir_all(zoom.parent().ok_or("parent")?)?;
    let zplaced = [PlacedGalaxy::new(&big, [12_000.0, 25_000.0, 31_000.0], [35.0, -20.0, 10.0])];
    write_galaxies(&zoom, &zplaced, &TipsyWriteOptions::nihao_planck2014(0.0, UnitConvention::Pynbody28))?;
    println!(
        "galaxy of {n_big} particles (stars, dm, gas) written as a TNG-layout box and a tipsy zoom under {}",
        dir.display()
    );
    let method = CentreMethod::ShrinkingSpheres { initial_radius_kpc: 100.0, min_particles: 100 };
    for repeat in 0..3 {
        let t0 = Instant::now();
        let tng = TngBox::open(&base, 99)?;
        let t1 = Instant::now();
        let halo = tng.read_subhalo(1)?.into_galaxy(GalaxyMeta::new("bench", 1));
        let t2 = Instant::now();
        let centred = centre_galaxy(&halo, &method)?;
        let t3 = Instant::now();
        galaxy_file::write(&dir.join("tng_extracted.h5"), &centred)?;
        let t4 = Instant::now();
        let n: usize = centred.all_species().map(|(_, p)| p.len()).sum();
        println!(
            "tng subhalo ({n} particles, {} numbers read) #{repeat}: open {:.3} s, read {:.3} s, centre {:.3} s, write {:.3} s, total {:.3} s",
            tng.snapshot().elements_read(),
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t4 - t3).as_secs_f64(),
            (t4 - t0).as_secs_f64()
        );
        let t0 = Instant::now();
        let snap = TipsySnapshot::open(&zoom, &TipsyOptions::new(UnitConvention::Pynbody28))?;
        let t1 = Instant::now();
        let halo = snap.read_ahf_halo(0, GalaxyMeta::new("bench", 0))?;
        let t2 = Instant::now();
        let centred = centre_galaxy(&halo, &method)?;
        let t3 = Instant::now();
        galaxy_file::write(&dir.join("tipsy_extracted.h5"), &centred)?;
        let t4 = Instant::now();
        println!(
            "tipsy AHF halo ({n} particles) #{repeat}: open {:.3} s, read {:.3} s, centre {:.3} s, write {:.3} s, total {:.3} s",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            (t4 - t3).as_secs_f64(),
            (t4 - t0).as_secs_f64()
        );
    }
    Ok(())
}
