//! Benchmark of `galmass dataset build` on a sarrato2025-shaped dataset: N galaxies x 64 lines of sight, 1e4 stars
//! per projection, the two 64 x 64 star maps, three scalars, log10 M(< f R_h) at 10 radii and the five classic
//! estimators. The synthetic suite is generated first (timed apart); the build then reads it as a folder of galaxy
//! files, as it would read extracted simulation galaxies.
//!
//! `cargo run --release -p galmass-pipeline --example dataset_bench -- [N_GALAXIES] [N_STARS]` (default 157, 10000:
//! 10048 projections). Prints one JSON object: projections, wall seconds of the build and of the merge, projections
//! per second, seconds per stage (summed over threads) and the file size.

use std::time::Instant;

use galmass_pipeline::dataset::build::{build_shard, merge, Shard};
use galmass_pipeline::dataset::config::DatasetConfig;
use galmass_pipeline::dataset::plan::resolve;
use galmass_pipeline::suite::{write_suite, SuiteRequest};
use galmass_synth::suite::SuiteParams;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n_galaxies: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(157);
    let n_stars: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let dir = tempfile::tempdir()?;
    let suite_dir = dir.path().join("suite");
    let mut params = SuiteParams::preset("nihao-like").ok_or("no nihao-like preset")?;
    params.particles.set_counts(Some(n_stars), Some(2000), Some(500));
    let t = Instant::now();
    write_suite(
        &SuiteRequest { params, n_galaxies, seed: 1, out: suite_dir.clone(), plots: false, native: false },
        &|| {},
    )?;
    let synth_seconds = t.elapsed().as_secs_f64();
    let text = format!(
        r#"
name = "bench"
paper = "sarrato2025"
seed = 1
projections = {{ kind = "fibonacci", n = 64 }}
stars = {{ kind = "shared-sample", min = 200, max = {n_stars} }}
scalars = ["r_h", "sigma_los", "v_p98"]
[[suites]]
source = "galaxies"
name = "nihao-like"
path = "{}"
[inputs.star_maps]
preset = "sarrato2025"
[[targets]]
name = "log10_mtot"
quantity = "total"
radii = [0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.2, 2.4]
radius_unit = "r_h"
[estimators]
enabled = true
[splits]
train = 0.7
validation = 0.15
test = 0.15
"#,
        suite_dir.display()
    );
    let config = DatasetConfig::from_toml(&text, "bench")?;
    let out = dir.path().join("dataset");
    let plan = resolve(&config, &out)?;
    let t = Instant::now();
    let record = build_shard(&plan, Shard { index: 0, count: 1 }, &|| {})?;
    let build_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let manifest = merge(&plan, &|| {})?;
    let merge_seconds = t.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(out.join("dataset.h5"))?.len();
    let total = build_seconds + merge_seconds;
    let summary = serde_json::json!({
        "galaxies": n_galaxies,
        "stars_per_projection": n_stars,
        "projections": manifest.n_projections,
        "skipped": manifest.skipped.len(),
        "threads": rayon::current_num_threads(),
        "synth_seconds": synth_seconds,
        "build_seconds": build_seconds,
        "merge_seconds": merge_seconds,
        "total_seconds": total,
        "projections_per_second": manifest.n_projections as f64 / total,
        "stage_seconds_summed_over_threads": record.stage_seconds,
        "dataset_bytes": bytes,
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
