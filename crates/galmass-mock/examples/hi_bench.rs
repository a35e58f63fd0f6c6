//! Benchmark and peer-comparison driver of the HI cubes (not a test):
//! `cargo run --release -p galmass-mock --example hi_bench -- ARGS` (scripts/martini_compare.py runs it).
//!
//! Reads gas particles from a raw little-endian float64 file (`arr.astype('<f8').tofile(path)`), N rows of 9 columns
//! `x y z vx vy vz m_hi h T` (kpc, km/s, Msun, radius of compact support in kpc, K; N from the file size), times
//! `HiSource::from_gas` + `observe` (one warm-up run, then `--repeat` runs: median and min), and writes into `--out`
//! the cube `cube.f64` (`(channel, y, x)`, in the cube's unit), the moment maps `mom0.f64`, `mom1.f64`, `mom2.f64`
//! (`(y, x)`, no mask unless `--mask-cm2`, NaN where masked) as raw little-endian float64, and `hi_bench.json`
//! (shapes, grids, channel centres, the line of sight's sky basis, timings per stage, threads, peak memory).
//!
//! Arguments (defaults in brackets): `--particles FILE` (required), `--out DIR` (required), `--los X,Y,Z` [0,0,1],
//! `--distance-mpc` [15], `--npix` [64], `--pixel-arcsec` [5], `--channels` [64], `--channel-kms` [5],
//! `--beam-arcsec` (0: no beam) [10], `--truncate` (beam cut, FWHMs) [4], `--noise-jy-beam` (0: none) [0],
//! `--kernel` (cubic-spline, wendland-c2, gaussian) [cubic-spline], `--line` (`thermal` or sigma in km/s)
//! [thermal], `--seed` [1], `--repeat` [5], `--mask-cm2` (column-density mask of the moments; 0: none) [0].
//! Threads: `RAYON_NUM_THREADS`. Prints one JSON line (the sidecar) on stdout.

use std::error::Error;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use galmass_core::particles::{Particles, ScalarField};
use galmass_core::LineOfSight;
use galmass_mock::hi::beam::GaussianBeam;
use galmass_mock::hi::cube::{SkyGrid, SpectralAxis};
use galmass_mock::hi::kernels::SphKernel;
use galmass_mock::hi::line::LineWidth;
use galmass_mock::hi::moments::{moments, MomentMask};
use galmass_mock::hi::noise::NoiseRms;
use galmass_mock::hi::render::{observe, observe_streamed, render, Observation};
use galmass_mock::hi::source::HiSource;
use ndarray::{Array1, Array2};
use serde_json::json;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Columns per particle in the input file.
const COLUMNS: usize = 9;

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

/// Reads the particle file row by row straight into the particle arrays (no second copy of the file in memory).
fn load_particles(path: &Path) -> Result<Particles> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = file.metadata()?.len() as usize;
    if bytes % (8 * COLUMNS) != 0 {
        return Err(format!(
            "{}: {bytes} bytes is not a whole number of {COLUMNS}-column float64 rows",
            path.display()
        )
        .into());
    }
    let n = bytes / (8 * COLUMNS);
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut pos = Array2::<f64>::zeros((n, 3));
    let mut vel = Array2::<f64>::zeros((n, 3));
    let mut m_hi = Array1::<f64>::zeros(n);
    let mut h = Array1::<f64>::zeros(n);
    let mut t = Array1::<f64>::zeros(n);
    let mut row = [0u8; 8 * COLUMNS];
    for i in 0..n {
        reader.read_exact(&mut row)?;
        let mut v = [0.0f64; COLUMNS];
        for (c, chunk) in v.iter_mut().zip(row.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *c = f64::from_le_bytes(b);
        }
        for d in 0..3 {
            pos[[i, d]] = v[d];
            vel[[i, d]] = v[3 + d];
        }
        m_hi[i] = v[6];
        h[i] = v[7];
        t[i] = v[8];
    }
    let mut gas = Particles::new(pos, vel, m_hi.clone())?;
    gas.set_field(ScalarField::HiMassMsun, m_hi)?;
    gas.set_field(ScalarField::SmoothingLengthKpc, h)?;
    gas.set_field(ScalarField::TemperatureK, t)?;
    Ok(gas)
}

fn parse_vec3(s: &str) -> Result<[f64; 3]> {
    let parts: Vec<f64> = s.split(',').map(|p| p.trim().parse::<f64>()).collect::<std::result::Result<_, _>>()?;
    match parts.as_slice() {
        [x, y, z] => Ok([*x, *y, *z]),
        _ => Err(format!("--los wants X,Y,Z, got {s}").into()),
    }
}

fn write_f64(path: &Path, values: impl Iterator<Item = f64>) -> Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?);
    for v in values {
        w.write_all(&v.to_le_bytes())?;
    }
    w.flush()?;
    Ok(())
}

/// A `Vm*` line of /proc/self/status in KiB (None off Linux).
fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok())
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

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let particles = PathBuf::from(arg(&args, "--particles").ok_or("--particles FILE is required")?);
    let out = PathBuf::from(arg(&args, "--out").ok_or("--out DIR is required")?);
    let los_direction = parse_vec3(&arg(&args, "--los").unwrap_or_else(|| "0,0,1".into()))?;
    let distance_mpc: f64 = parsed(&args, "--distance-mpc", 15.0)?;
    let npix: usize = parsed(&args, "--npix", 64)?;
    let pixel_arcsec: f64 = parsed(&args, "--pixel-arcsec", 5.0)?;
    let channels: usize = parsed(&args, "--channels", 64)?;
    let channel_kms: f64 = parsed(&args, "--channel-kms", 5.0)?;
    let beam_arcsec: f64 = parsed(&args, "--beam-arcsec", 10.0)?;
    let truncate: f64 = parsed(&args, "--truncate", 4.0)?;
    let noise_jy_beam: f64 = parsed(&args, "--noise-jy-beam", 0.0)?;
    let kernel_name = arg(&args, "--kernel").unwrap_or_else(|| "cubic-spline".into());
    let kernel = SphKernel::from_name(&kernel_name).ok_or_else(|| format!("unknown kernel {kernel_name}"))?;
    let line_arg = arg(&args, "--line").unwrap_or_else(|| "thermal".into());
    let line = if line_arg == "thermal" {
        LineWidth::Thermal
    } else {
        LineWidth::FixedKms(line_arg.parse().map_err(|e| format!("--line {line_arg}: {e}"))?)
    };
    let seed: u64 = parsed(&args, "--seed", 1)?;
    let repeat: usize = parsed(&args, "--repeat", 5)?;
    let mask_cm2: f64 = parsed(&args, "--mask-cm2", 0.0)?;
    // --streamed: time what `galmass maps hi` runs, the source made and rendered in chunks of 65536 particles
    // (`observe_streamed`), whose peak memory does not grow with the particle count.
    let streamed = args.iter().any(|a| a == "--streamed");

    let t_load = Instant::now();
    let gas = load_particles(&particles)?;
    let load_s = t_load.elapsed().as_secs_f64();
    let hwm_after_load_kib = proc_status_kib("VmHWM:");
    let los = LineOfSight::new(los_direction)?;
    let (e1, e2) = los.sky_basis();
    let beam = if beam_arcsec > 0.0 { Some(GaussianBeam::circular(beam_arcsec, truncate)?) } else { None };
    let noise = if noise_jy_beam > 0.0 { NoiseRms::JyPerBeam(noise_jy_beam) } else { NoiseRms::None };
    let observation = Observation {
        grid: SkyGrid::square(npix, pixel_arcsec)?,
        spectral: SpectralAxis::new(channels, channel_kms, 0.0)?,
        kernel,
        beam,
        noise,
        seed,
    };

    // Warm-up (first touch of the kernel tables, the FFT plans, the allocator), then the timed runs.
    let chunked = || observe_streamed(&observation, HiSource::gas_chunks(&gas, &los, distance_mpc, line, 1 << 16));
    let mut cube = if streamed {
        chunked()?
    } else {
        observe(&HiSource::from_gas(&gas, &los, distance_mpc, line)?, &observation)?
    };
    let (mut total, mut source_s, mut observe_s) = (Vec::new(), Vec::new(), Vec::new());
    let mut n_emitting = 0;
    for _ in 0..if streamed { repeat } else { 0 } {
        let t0 = Instant::now();
        cube = chunked()?;
        total.push(t0.elapsed().as_secs_f64());
    }
    // The peak memory of the streamed runs, before the stage split below (which holds a whole source).
    let hwm_streamed_kib = proc_status_kib("VmHWM:");
    for _ in 0..repeat {
        let t0 = Instant::now();
        let source = HiSource::from_gas(&gas, &los, distance_mpc, line)?;
        let t1 = Instant::now();
        cube = observe(&source, &observation)?;
        let t2 = Instant::now();
        n_emitting = source.len();
        source_s.push((t1 - t0).as_secs_f64());
        observe_s.push((t2 - t1).as_secs_f64());
        if !streamed {
            total.push((t2 - t0).as_secs_f64());
        }
    }
    // The insertion alone (the padded grid `observe` renders on), to split observe into insertion and the rest
    // (noise, beam convolution, crop, units).
    let source = HiSource::from_gas(&gas, &los, distance_mpc, line)?;
    let pad = match beam {
        Some(b) => b.kernel(pixel_arcsec)?.nrows() / 2,
        None => 0,
    };
    let padded = observation.grid.padded(pad);
    let mut render_s = Vec::new();
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let rendered = render(&source, &padded, &observation.spectral, kernel);
        render_s.push(t.elapsed().as_secs_f64());
        drop(rendered);
    }
    drop(source);

    let mask = if mask_cm2 > 0.0 { MomentMask::ColumnDensityCm2(mask_cm2) } else { MomentMask::None };
    let m = moments(&cube, mask, 0.0)?;
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    write_f64(&out.join("cube.f64"), cube.data.iter().copied())?;
    write_f64(&out.join("mom0.f64"), m.mom0.iter().copied())?;
    write_f64(&out.join("mom1.f64"), m.mom1.iter().copied())?;
    write_f64(&out.join("mom2.f64"), m.mom2.iter().copied())?;
    let (nk, ny, nx) = cube.data.dim();
    let sidecar = json!({
        "particles": gas.len(),
        "emitting": n_emitting,
        "shape_kyx": [nk, ny, nx],
        "pixel_arcsec": pixel_arcsec,
        "distance_mpc": distance_mpc,
        "channel_kms": channel_kms,
        "channel_centres_kms": observation.spectral.centres_kms(),
        "unit": cube.unit.as_str(),
        "mom0_unit": m.mom0_unit,
        "beam_arcsec": beam_arcsec,
        "beam_area_arcsec2": beam.map(|b| b.area_arcsec2()),
        "beam_kernel_pad_px": pad,
        "truncate_fwhm": truncate,
        "kernel": kernel.name(),
        "line": line_arg,
        "los": los.direction(),
        "e1": e1,
        "e2": e2,
        "total_flux_jy_kms": cube.total_flux_jy_kms(),
        "threads": rayon::current_num_threads(),
        "streamed": streamed,
        "repeat": repeat,
        "load_s": load_s,
        "total_s_median": median(&total),
        "total_s_min": min(&total),
        "source_s_median": median(&source_s),
        "observe_s_median": median(&observe_s),
        "render_s_median": median(&render_s),
        "render_s_min": min(&render_s),
        "vm_hwm_after_load_kib": hwm_after_load_kib,
        "vm_hwm_kib": if streamed { hwm_streamed_kib } else { proc_status_kib("VmHWM:") },
    });
    std::fs::write(out.join("hi_bench.json"), serde_json::to_string_pretty(&sidecar)?)?;
    println!("{sidecar}");
    Ok(())
}
