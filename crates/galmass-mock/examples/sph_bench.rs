//! Benchmark and peer-comparison driver of the SPH images (not a test):
//! `cargo run --release -p galmass-mock --example sph_bench -- ARGS` (scripts/pynbody_sph_compare.py runs it).
//!
//! Two modes:
//! - `--particles FILE --out DIR`: star particles from a raw little-endian float64 file
//!   (`arr.astype('<f8').tofile(path)`), N rows of 4 columns `x y z w` (kpc, weight e.g. Lsun; N from the file size).
//!   Computes the smoothing lengths (radius of compact support enclosing `--neighbours` other stars in 3-D,
//!   `galmass_core::neighbours::smoothing_lengths_kpc`), projects along z (sky x = x, y = y), times
//!   [`render_sph`] (one warm-up run, then `--repeat` runs: median and min) on `--npix` pixels over
//!   `+-half-width` kpc, and writes into DIR `h.f64` (the smoothing lengths, N values), `image.f64` (`(iy, ix)`,
//!   row-major, weight per pixel) and `sph_bench.json` (grid, timings, threads).
//! - `--plummer N`: the issue's benchmark: a seeded Plummer sphere of N stars (a = 2 kpc, cut at 20 a) with r- and
//!   g-band luminosities, R_hsm from its particles; times the smoothing lengths, one 300 x 300 `render_sph` over
//!   +-3 R_hsm and the whole `sph_images` (smoothing lengths, r and g, g - r, scaling) with the chu2024 preset.
//!
//! Arguments (defaults in brackets): `--npix` [300], `--half-width` (kpc) [required with `--particles`],
//! `--neighbours` [32], `--repeat` [5], `--seed` [1] (Plummer). Threads: `RAYON_NUM_THREADS`. Prints one JSON line.

use std::error::Error;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use galmass_core::neighbours::smoothing_lengths_kpc;
use galmass_core::params::Params;
use galmass_core::particles::BandLuminosity;
use galmass_core::{LineOfSight, Particles};
use galmass_mock::optical::sph::{render_sph, sph_images, ImageGrid, SphImageParams};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use serde_json::json;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Columns per particle in the input file.
const COLUMNS: usize = 4;

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

/// Positions (N, 3) and weights (N) from the raw `x y z w` file.
fn load(path: &Path) -> Result<(Array2<f64>, Array1<f64>)> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() % (8 * COLUMNS) != 0 {
        return Err(format!(
            "{}: {} bytes is not a whole number of 4-column float64 rows",
            path.display(),
            bytes.len()
        )
        .into());
    }
    let values: Vec<f64> = bytes
        .chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            f64::from_le_bytes(b)
        })
        .collect();
    let n = values.len() / COLUMNS;
    let pos = Array2::from_shape_fn((n, 3), |(i, d)| values[i * COLUMNS + d]);
    let w = Array1::from_shape_fn(n, |i| values[i * COLUMNS + 3]);
    Ok((pos, w))
}

fn write_f64(path: &Path, values: impl Iterator<Item = f64>) -> Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?);
    for v in values {
        w.write_all(&v.to_le_bytes())?;
    }
    w.flush()?;
    Ok(())
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Runs `f` once to warm up, then `repeat` times; the seconds of each timed run.
fn time<T>(repeat: usize, mut f: impl FnMut() -> Result<T>) -> Result<(T, Vec<f64>)> {
    let mut out = f()?;
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t0 = Instant::now();
        out = f()?;
        times.push(t0.elapsed().as_secs_f64());
    }
    Ok((out, times))
}

/// A seeded Plummer sphere of `n` stars (scale `a_kpc`, cut at 20 a) with r and g luminosities.
fn plummer(n: usize, a_kpc: f64, seed: u64) -> Result<Particles> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut pos = Array2::zeros((n, 3));
    for i in 0..n {
        let r = loop {
            let u: f64 = rng.random();
            let r = (u.powf(-2.0 / 3.0) - 1.0).powf(-0.5);
            if r < 20.0 {
                break r * a_kpc;
            }
        };
        let cos_t: f64 = rng.random_range(-1.0..1.0);
        let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let s = (1.0 - cos_t * cos_t).sqrt();
        pos[[i, 0]] = r * s * phi.cos();
        pos[[i, 1]] = r * s * phi.sin();
        pos[[i, 2]] = r * cos_t;
    }
    let mut stars = Particles::new(pos, Array2::zeros((n, 3)), Array1::from_elem(n, 1e5))?;
    let lum_r = Array1::from_shape_fn(n, |_| 1e4 * rng.random_range(0.5..1.5));
    let lum_g = lum_r.mapv(|l| 0.8 * l);
    // Solar absolute AB magnitudes in SDSS r and g (Willmer 2018).
    stars.set_luminosity("r", BandLuminosity { lum_lsun: lum_r, solar_abs_mag_ab: 4.65 })?;
    stars.set_luminosity("g", BandLuminosity { lum_lsun: lum_g, solar_abs_mag_ab: 5.11 })?;
    Ok(stars)
}

fn threads() -> usize {
    rayon::current_num_threads()
}

fn run_plummer(args: &[String], n: usize) -> Result<()> {
    let repeat: usize = parsed(args, "--repeat", 5)?;
    let seed: u64 = parsed(args, "--seed", 1)?;
    let npix: usize = parsed(args, "--npix", 300)?;
    let stars = plummer(n, 2.0, seed)?;
    let r_hsm = stars.half_mass_radius_kpc().ok_or("no half-mass radius")?;
    let params = SphImageParams { npix, output_npix: npix, ..SphImageParams::CHU2024 }.check()?;
    let neighbours = params.params().n_neighbours;
    let (h, t_h) = time(repeat, || Ok(smoothing_lengths_kpc(stars.pos_kpc().view(), neighbours)?))?;
    let los = LineOfSight::new([0.0, 0.0, 1.0])?;
    let (x, y) = los.project_rows(stars.pos_kpc());
    let (x, y, h) = (x.to_vec(), y.to_vec(), h.to_vec());
    let lum = stars.luminosity("r").ok_or("no r band")?.lum_lsun.to_vec();
    let grid = ImageGrid::new(npix, 3.0 * r_hsm)?;
    let (image, t_render) = time(repeat, || Ok(render_sph(&x, &y, &h, &lum, &grid)?))?;
    let (images, t_all) = time(repeat, || Ok(sph_images(&stars, &los, r_hsm, &params)?))?;
    let report = json!({
        "mode": "plummer",
        "n_stars": n,
        "r_hsm_kpc": r_hsm,
        "npix": npix,
        "half_width_kpc": grid.half_width,
        "threads": threads(),
        "repeat": repeat,
        "smoothing_lengths_s": {"median": median(&t_h), "min": min(&t_h)},
        "render_sph_s": {"median": median(&t_render), "min": min(&t_render)},
        "sph_images_s": {"median": median(&t_all), "min": min(&t_all)},
        "median_h_px": median(&h) / grid.pixel_size(),
        "image_sum_over_total": image.sum() / lum.iter().sum::<f64>(),
        "sph_images_r_sum_over_total": images.r.sum() / images.total_lum_r,
    });
    println!("{report}");
    Ok(())
}

fn run_particles(args: &[String], path: PathBuf) -> Result<()> {
    let out = PathBuf::from(arg(args, "--out").ok_or("--out DIR is required with --particles")?);
    let half_width: f64 = parsed(args, "--half-width", f64::NAN)?;
    if half_width.is_nan() {
        return Err("--half-width KPC is required with --particles".into());
    }
    let npix: usize = parsed(args, "--npix", 300)?;
    let neighbours: usize = parsed(args, "--neighbours", 32)?;
    let repeat: usize = parsed(args, "--repeat", 5)?;
    std::fs::create_dir_all(&out)?;
    let (pos, w) = load(&path)?;
    let t0 = Instant::now();
    let h = smoothing_lengths_kpc(pos.view(), neighbours)?;
    let h_s = t0.elapsed().as_secs_f64();
    let x = pos.column(0).to_vec();
    let y = pos.column(1).to_vec();
    let (h, w) = (h.to_vec(), w.to_vec());
    let grid = ImageGrid::new(npix, half_width)?;
    let (image, t_render) = time(repeat, || Ok(render_sph(&x, &y, &h, &w, &grid)?))?;
    write_f64(&out.join("h.f64"), h.iter().copied())?;
    write_f64(&out.join("image.f64"), image.iter().copied())?;
    let report = json!({
        "mode": "particles",
        "n_particles": x.len(),
        "npix": npix,
        "half_width": half_width,
        "neighbours": neighbours,
        "threads": threads(),
        "repeat": repeat,
        "smoothing_lengths_s": h_s,
        "render_sph_s": {"median": median(&t_render), "min": min(&t_render), "all": t_render},
        "image_sum": image.sum(),
        "weight_sum": w.iter().sum::<f64>(),
    });
    std::fs::write(out.join("sph_bench.json"), report.to_string())?;
    println!("{report}");
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(n) = arg(&args, "--plummer") {
        return run_plummer(&args, n.parse().map_err(|e| format!("--plummer {n}: {e}"))?);
    }
    match arg(&args, "--particles") {
        Some(p) => run_particles(&args, PathBuf::from(p)),
        None => Err("give --particles FILE --out DIR --half-width KPC, or --plummer N".into()),
    }
}
