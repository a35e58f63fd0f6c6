//! Benchmark of the star maps (not a test): `cargo run --release -p galmass-mock --example maps_bench -- ARGS`.
//!
//! - `single --x FILE --y FILE --v FILE [--preset P] [--repeat N] [--threads T]`: both maps of one projection, read
//!   from little-endian float64 files (as written by scripts/kde_scipy_reference.py); prints the median time.
//! - `dataset [--projections N] [--stars S] [--threads T]`: N projections (64 lines of sight per Plummer galaxy of S
//!   stars drawn by `galmass_synth::df`, sarrato2025 preset), in parallel over projections; prints the throughput.
//!
//! Both print one JSON line so scripts/maps_bench.py can read them.

use std::error::Error;
use std::time::Instant;

use galmass_core::geometry::{DirectionSet, Rotation};
use galmass_core::params::Params;
use galmass_core::projection::ProjectedStars;
use galmass_core::Particles;
use galmass_mock::star_maps::{star_maps, StarMapParams};
use galmass_synth::df::{DfAnisotropy, SphericalDf};
use galmass_synth::profiles::Plummer;
use ndarray::Array1;
use rayon::prelude::*;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// A parsed flag, or `default` when absent.
fn parsed<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T>
where
    T::Err: Error + 'static,
{
    match arg(args, name) {
        Some(v) => v.parse().map_err(|e| format!("{name} {v}: {e}").into()),
        None => Ok(default),
    }
}

fn load(path: &str) -> Result<Vec<f64>> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(bytes.chunks_exact(8).map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads: usize = parsed(&args, "--threads", 1)?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let preset = arg(&args, "--preset").unwrap_or_else(|| "sarrato2025".into());
    let params = StarMapParams::preset(&preset).ok_or_else(|| format!("unknown preset {preset}"))?.check()?;
    match args.first().map(String::as_str) {
        Some("single") => {
            let file = |name: &str| arg(&args, name).ok_or_else(|| format!("{name} FILE is required"));
            let (x, y, v) = (load(&file("--x")?)?, load(&file("--y")?)?, load(&file("--v")?)?);
            let n = x.len();
            let stars = ProjectedStars::from_parts(
                Array1::from(x),
                Array1::from(y),
                Array1::from(v),
                Array1::from_elem(n, 1.0),
            )?;
            let repeat: usize = parsed(&args, "--repeat", 50)?;
            let mut times = pool.install(|| -> std::result::Result<Vec<f64>, galmass_mock::MockError> {
                let mut times = Vec::with_capacity(repeat);
                for i in 0..repeat + 3 {
                    let t = Instant::now();
                    let maps = star_maps(&stars, &params)?;
                    std::hint::black_box(&maps);
                    if i >= 3 {
                        times.push(t.elapsed().as_secs_f64());
                    }
                }
                Ok(times)
            })?;
            times.sort_by(f64::total_cmp);
            let (Some(&fastest), Some(&median)) = (times.first(), times.get(times.len() / 2)) else {
                return Err("--repeat must be at least 1".into());
            };
            let maps = star_maps(&stars, &params)?;
            println!(
                "{{\"mode\": \"single\", \"n_stars\": {n}, \"n_in_aperture\": {}, \"n_in_rv_aperture\": {}, \"threads\": {threads}, \"median_s\": {median:.6e}, \"min_s\": {fastest:.6e}}}",
                maps.n_in_aperture, maps.n_in_rv_aperture,
            );
        }
        Some("dataset") => {
            let n_projections: usize = parsed(&args, "--projections", 10_000)?;
            let n_stars: usize = parsed(&args, "--stars", 10_000)?;
            let lines = DirectionSet::Fibonacci { n: 64 }.directions(&Rotation::identity())?;
            let n_galaxies = n_projections.div_ceil(64);
            // Self-gravitating Plummer spheres (scale 0.7 kpc) sampled from their isotropic distribution function.
            let plummer = Plummer { mass_msun: 1e8, a_kpc: 0.7 };
            let df = SphericalDf::new(&plummer, &plummer, DfAnisotropy::Isotropic)?;
            let galaxies = (0..n_galaxies)
                .map(|g| -> Result<Particles> {
                    let (pos, vel) = df.sample(n_stars, g as u64)?;
                    Ok(Particles::new(pos, vel, Array1::from_elem(n_stars, 1.0))?)
                })
                .collect::<Result<Vec<_>>>()?;
            let jobs: Vec<(usize, usize)> = (0..n_projections).map(|p| (p / 64, p % 64)).collect();
            let t = Instant::now();
            let done = pool.install(|| -> std::result::Result<usize, galmass_core::CoreError> {
                jobs.par_iter()
                    .map(|&(g, l)| {
                        let projected = ProjectedStars::new(&galaxies[g], &lines[l], None)?;
                        Ok(usize::from(star_maps(&projected, &params).is_ok()))
                    })
                    .sum()
            })?;
            let elapsed = t.elapsed().as_secs_f64();
            println!(
                "{{\"mode\": \"dataset\", \"projections\": {n_projections}, \"succeeded\": {done}, \"n_stars\": {n_stars}, \"threads\": {threads}, \"seconds\": {elapsed:.3}, \"projections_per_s\": {:.1}}}",
                n_projections as f64 / elapsed
            );
        }
        _ => eprintln!(
            "usage: maps_bench single --x F --y F --v F [--preset P] [--repeat N] [--threads T] | dataset [--projections N] [--stars S] [--threads T]"
        ),
    }
    Ok(())
}
