//! Benchmark of [`StreamSource`] against the in-memory [`ArraySource`] on a sarrato2025-shaped dataset file: N
//! projections of two 1 x 64 x 64 float32 maps (`star_xy`, `star_rv`), three scalars and one target at 10 radii,
//! stored in chunks of 32 rows, deflate 4, galaxies of 10 projections split 70/15/15.
//!
//! `cargo run --release -p galmass-pipeline --example stream_bench -- [--n N] [--batch B] [--compute-us US]`
//! (default 10000, 64, 0). Writes the file in a temporary folder, then for each source runs one warm-up epoch and
//! times one epoch of training-split batches in the source's own epoch order (`--compute-us`: a busy wait per batch
//! standing in for the training step, during which the prefetcher reads ahead). The file is fresh in the page
//! cache, so the stream's rate is decompression and copying, not disk. Prints one JSON line: both rates in batches
//! per second, their ratio, the file size, the stream's cache bound and counters.

use std::error::Error;
use std::path::Path;
use std::time::{Duration, Instant};

use galmass_core::params::Params;
use galmass_models::data::{ArraySource, BatchSource};
use galmass_pipeline::dataset::reader::Split;
use galmass_pipeline::dataset::stream::{Scaling, StreamParams, StreamSource};
use hdf5::types::VarLenUnicode;
use ndarray::{s, Array1, Array2, Array4, ArrayD, Axis};
use serde_json::json;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const SIDE: usize = 64;
const CHUNK_ROWS: usize = 32;
const RADII: usize = 10;
const SCALARS: [&str; 3] = ["r_h", "sigma_los", "v_p98"];
const INPUTS: [&str; 2] = ["star_xy", "star_rv"];
const PROJECTIONS_PER_GALAXY: usize = 10;

/// SplitMix64: reproducible pseudo-random numbers without a dependency.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn uniform(key: u64) -> f64 {
    (mix(key) >> 11) as f64 / (1u64 << 53) as f64
}

fn split_of(row: usize) -> Split {
    match uniform(1_000_003 * (row / PROJECTIONS_PER_GALAXY) as u64) {
        u if u < 0.70 => Split::Train,
        u if u < 0.85 => Split::Validation,
        _ => Split::Test,
    }
}

/// A smooth, positive map like a KDE of stars: an elliptical Gaussian with a row-dependent width and centre,
/// quantised at the level of a KDE's own noise.
fn map(row: usize, input: usize) -> Array2<f32> {
    let key = (row as u64) * 4 + input as u64;
    let (sx, sy) = (4.0 + 10.0 * uniform(key), 4.0 + 10.0 * uniform(key + 1));
    let (cx, cy) = (28.0 + 8.0 * uniform(key + 2), 28.0 + 8.0 * uniform(key + 3));
    Array2::from_shape_fn((SIDE, SIDE), |(y, x)| {
        let (dx, dy) = ((x as f64 - cx) / sx, (y as f64 - cy) / sy);
        let v = (-0.5 * (dx * dx + dy * dy)).exp() / (2.0 * std::f64::consts::PI * sx * sy);
        ((v * 1e5).round() / 1e5) as f32
    })
}

fn text(value: &str) -> Result<VarLenUnicode> {
    Ok(value.parse::<VarLenUnicode>()?)
}

fn str_attr(loc: &hdf5::Location, name: &str, value: &str) -> Result<()> {
    loc.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&text(value)?)?;
    Ok(())
}

fn column<T: hdf5::H5Type, D: ndarray::Dimension>(
    file: &hdf5::File,
    name: &str,
    data: &ndarray::Array<T, D>,
) -> Result<hdf5::Dataset> {
    let mut chunk = data.shape().to_vec();
    chunk[0] = CHUNK_ROWS.min(chunk[0]);
    Ok(file.new_dataset_builder().with_data(data).chunk(chunk).deflate(4).create(name)?)
}

/// The in-memory arrays of one run: maps per input, scalars, targets (all rows).
struct Arrays {
    maps: Vec<Array4<f32>>,
    scalars: Array2<f32>,
    targets: Array2<f32>,
}

/// Writes the layout-version-1 file and returns the arrays it holds.
fn write_dataset(path: &Path, n: usize) -> Result<Arrays> {
    let file = hdf5::File::create(path)?;
    let mut maps = Vec::new();
    for (k, name) in INPUTS.iter().enumerate() {
        let data = {
            let mut data = Array4::<f32>::zeros((n, 1, SIDE, SIDE));
            for (row, mut slot) in data.axis_iter_mut(Axis(0)).enumerate() {
                slot.slice_mut(s![0, .., ..]).assign(&map(row, k));
            }
            data
        };
        let ds = file
            .new_dataset::<f32>()
            .shape((n, 1, SIDE, SIDE))
            .chunk((CHUNK_ROWS.min(n), 1, SIDE, SIDE))
            .deflate(4)
            .create(format!("inputs/{name}").as_str())?;
        ds.write(&data)?;
        str_attr(&ds, "axes", "projection,channel,y,x")?;
        str_attr(&ds, "unit", "1 / R_h^2")?;
        maps.push(data);
    }
    let scalars = Array2::from_shape_fn((n, SCALARS.len()), |(i, j)| 1.0 + 10.0 * uniform(((i * 3 + j) as u64) << 20));
    for (j, name) in SCALARS.iter().enumerate() {
        let ds = column(&file, &format!("scalars/{name}"), &scalars.column(j).to_owned())?;
        str_attr(&ds, "unit", "kpc")?;
    }
    let targets = Array2::from_shape_fn((n, RADII), |(i, r)| 8.0 + 2.0 * uniform(i as u64 * 7) + 0.1 * r as f64);
    let ds = column(&file, "targets/log10_mtot", &targets)?;
    str_attr(&ds, "unit", "log10(Msun)")?;
    str_attr(&ds, "quantity", "total")?;
    str_attr(&ds, "radius_unit", "r_h")?;
    ds.new_attr_builder().with_data(&(1..=RADII).map(|r| 0.2 * r as f64).collect::<Vec<_>>()).create("radii")?;
    let split: Vec<VarLenUnicode> = (0..n).map(|i| text(split_of(i).name())).collect::<Result<_>>()?;
    column(&file, "split", &Array1::from(split))?;
    let root: &hdf5::Location = &file;
    str_attr(root, "format", "galmass-dataset")?;
    root.new_attr::<u32>().create("version")?.write_scalar(&1u32)?;
    for (name, value) in [
        ("name", "stream-bench"),
        ("paper", "sarrato2025"),
        ("config", ""),
        ("recipe_hash", ""),
        ("git_revision", ""),
        ("inputs", "star_xy,star_rv"),
        ("scalars", "r_h,sigma_los,v_p98"),
        ("targets", "log10_mtot"),
    ] {
        str_attr(root, name, value)?;
    }
    root.new_attr::<u64>().create("seed")?.write_scalar(&1u64)?;
    root.new_attr::<u64>().create("n_projections")?.write_scalar(&(n as u64))?;
    file.flush()?;
    Ok(Arrays { maps, scalars: scalars.mapv(|v| v as f32), targets: targets.mapv(|v| v as f32) })
}

/// Runs epoch `epoch` of `source` in batches of `batch`, with a busy wait of `compute` per batch; returns the batches
/// and seconds.
fn epoch(source: &dyn BatchSource, epoch: usize, batch: usize, compute: Duration) -> Result<(usize, f64)> {
    let start = Instant::now();
    let order = source.epoch_order(epoch, 17);
    let mut batches = 0;
    let mut checksum = 0.0f32;
    for indices in order.chunks(batch) {
        let b = source.batch(indices)?;
        checksum += b.targets[[0, 0]];
        let until = Instant::now() + compute;
        while Instant::now() < until {
            std::hint::spin_loop();
        }
        batches += 1;
    }
    std::hint::black_box(checksum);
    Ok((batches, start.elapsed().as_secs_f64()))
}

fn main() -> Result<()> {
    let mut n = 10_000usize;
    let mut batch = 64usize;
    let mut compute_us = 0u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--n" => n = value.parse()?,
            "--batch" => batch = value.parse()?,
            "--compute-us" => compute_us = value.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let compute = Duration::from_micros(compute_us);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("dataset.h5");
    let t = Instant::now();
    let arrays = write_dataset(&path, n)?;
    let write_seconds = t.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(&path)?.len();

    let params = StreamParams::new(Split::Train, &INPUTS, &SCALARS, &["log10_mtot"], Scaling::Raw).check()?;
    let stream = StreamSource::open(&[path.as_path()], &params)?;
    epoch(&stream, 0, batch, compute)?;
    let warm = stream.stats();
    let (stream_batches, stream_seconds) = epoch(&stream, 1, batch, compute)?;
    let stats = stream.stats();

    let train: Vec<usize> = (0..n).filter(|&i| split_of(i) == Split::Train).collect();
    let inputs = INPUTS
        .iter()
        .zip(&arrays.maps)
        .map(|(name, m)| ((*name).to_owned(), m.select(Axis(0), &train).into_dyn()))
        .collect::<std::collections::BTreeMap<String, ArrayD<f32>>>();
    let memory =
        ArraySource::new(inputs, Some(arrays.scalars.select(Axis(0), &train)), arrays.targets.select(Axis(0), &train))?;
    drop(arrays);
    epoch(&memory, 0, batch, compute)?;
    let (array_batches, array_seconds) = epoch(&memory, 1, batch, compute)?;

    let stream_rate = stream_batches as f64 / stream_seconds;
    let array_rate = array_batches as f64 / array_seconds;
    let line = json!({
        "n_projections": n,
        "train_rows": stream.len(),
        "batch_size": batch,
        "compute_us_per_batch": compute_us,
        "file_bytes": file_bytes,
        "raw_bytes": n * INPUTS.len() * SIDE * SIDE * 4 + n * (SCALARS.len() + RADII) * 8,
        "write_seconds": write_seconds,
        "stream_batches_per_s": stream_rate,
        "array_batches_per_s": array_rate,
        "stream_over_array": stream_rate / array_rate,
        "stream_rows_per_s": stream.len() as f64 / stream_seconds,
        "blocks": stream.n_blocks(),
        "cache_bound_bytes": params.params().cache_chunks * stream.block_bytes(),
        "timed_epoch": {
            "decoded_on_demand": stats.decoded_on_demand - warm.decoded_on_demand,
            "prefetched": stats.prefetched - warm.prefetched,
            "cache_hits": stats.cache_hits - warm.cache_hits,
            "waits": stats.waits - warm.waits,
        },
    });
    println!("{line}");
    Ok(())
}
