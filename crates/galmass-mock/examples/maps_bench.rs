//! Benchmark of the star maps (not a test): `cargo run --release -p galmass-mock --example maps_bench -- ARGS`.
//!
//! - `single --x FILE --y FILE --v FILE [--preset P] [--repeat N] [--threads T]`: both maps of one projection, read
//!   from little-endian float64 files (as written by scripts/kde_scipy_reference.py); prints the median time.
//! - `dataset [--projections N] [--stars S] [--threads T]`: N projections (64 lines of sight per Plummer galaxy of S
//!   stars, sarrato2025 preset), in parallel over projections; prints the throughput.
//!
//! Both print one JSON line so scripts/maps_bench.py can read them.

use std::time::Instant;

use galmass_core::geometry::{DirectionSet, Rotation};
use galmass_core::projection::ProjectedStars;
use galmass_core::Particles;
use galmass_mock::star_maps::{star_maps, StarMapParams};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn load(path: &str) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    bytes.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect()
}

fn plummer(n: usize, seed: u64) -> Particles {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos = Array2::zeros((n, 3));
    let mut vel = Array2::zeros((n, 3));
    for i in 0..n {
        let u: f64 = rng.random_range(1e-9..1.0);
        let r = 0.7 / (u.powf(-2.0 / 3.0) - 1.0).sqrt();
        let z: f64 = rng.random_range(-1.0..1.0);
        let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let s = (1.0 - z * z).sqrt();
        let p = [r * s * phi.cos(), r * s * phi.sin(), r * z];
        for k in 0..3 {
            pos[[i, k]] = p[k];
            let (u1, u2): (f64, f64) = (rng.random_range(1e-300..1.0), rng.random());
            vel[[i, k]] = 12.0 * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        }
    }
    Particles::new(pos, vel, Array1::from_elem(n, 1.0)).expect("valid sample")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads: usize = arg(&args, "--threads").map(|t| t.parse().expect("--threads")).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
    let preset = arg(&args, "--preset").unwrap_or_else(|| "sarrato2025".into());
    let params = StarMapParams::preset(&preset).expect("known preset").check().expect("valid preset");
    match args.first().map(String::as_str) {
        Some("single") => {
            let (x, y, v) = (load(&arg(&args, "--x").expect("--x")), load(&arg(&args, "--y").expect("--y")), load(&arg(&args, "--v").expect("--v")));
            let n = x.len();
            let stars = ProjectedStars::from_parts(Array1::from(x), Array1::from(y), Array1::from(v), Array1::from_elem(n, 1.0)).expect("finite stars");
            let repeat: usize = arg(&args, "--repeat").map(|r| r.parse().expect("--repeat")).unwrap_or(50);
            let mut times: Vec<f64> = pool.install(|| {
                (0..repeat + 3)
                    .map(|_| {
                        let t = Instant::now();
                        let maps = star_maps(&stars, &params).expect("maps");
                        std::hint::black_box(&maps);
                        t.elapsed().as_secs_f64()
                    })
                    .skip(3)
                    .collect()
            });
            times.sort_by(f64::total_cmp);
            let maps = star_maps(&stars, &params).expect("maps");
            println!(
                "{{\"mode\": \"single\", \"n_stars\": {n}, \"n_in_aperture\": {}, \"n_in_rv_aperture\": {}, \"threads\": {threads}, \"median_s\": {:.6e}, \"min_s\": {:.6e}}}",
                maps.n_in_aperture,
                maps.n_in_rv_aperture,
                times[times.len() / 2],
                times[0]
            );
        }
        Some("dataset") => {
            let n_projections: usize = arg(&args, "--projections").map(|p| p.parse().expect("--projections")).unwrap_or(10_000);
            let n_stars: usize = arg(&args, "--stars").map(|p| p.parse().expect("--stars")).unwrap_or(10_000);
            let lines = DirectionSet::Fibonacci { n: 64 }.directions(&Rotation::identity()).expect("directions");
            let n_galaxies = n_projections.div_ceil(64);
            let galaxies: Vec<Particles> = (0..n_galaxies).map(|g| plummer(n_stars, g as u64)).collect();
            let jobs: Vec<(usize, usize)> = (0..n_projections).map(|p| (p / 64, p % 64)).collect();
            let t = Instant::now();
            let done: usize = pool.install(|| {
                jobs.par_iter()
                    .map(|&(g, l)| {
                        let projected = ProjectedStars::new(&galaxies[g], &lines[l], None).expect("projection");
                        usize::from(star_maps(&projected, &params).is_ok())
                    })
                    .sum()
            });
            let elapsed = t.elapsed().as_secs_f64();
            println!(
                "{{\"mode\": \"dataset\", \"projections\": {n_projections}, \"succeeded\": {done}, \"n_stars\": {n_stars}, \"threads\": {threads}, \"seconds\": {elapsed:.3}, \"projections_per_s\": {:.1}}}",
                n_projections as f64 / elapsed
            );
        }
        _ => eprintln!("usage: maps_bench single --x F --y F --v F [--preset P] [--repeat N] [--threads T] | dataset [--projections N] [--stars S] [--threads T]"),
    }
}
