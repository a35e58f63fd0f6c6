//! `galmass synth`: write a synthetic suite as galaxy files, a catalogue and a manifest.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use clap::Args;
use galmass_snapshot::galaxy_file;
use galmass_synth::suite::{build_galaxy, CatalogueRow, SuiteParams, PRESETS};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

/// Arguments of `galmass synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Suite preset: spheroids (dispersion-supported dwarfs), nihao-like (dwarfs to Milky-Way mass, cored haloes),
    /// auriga-like (Milky-Way-mass discs, cuspy haloes), fire-like (held-out physics: core-NFW haloes, larger sizes),
    /// tng-like (a box population, M* 1e9.5..1e12, centrals and satellites). configs/synth/<suite>.toml holds the
    /// same values.
    #[arg(long, default_value = "nihao-like", value_parser = clap::builder::PossibleValuesParser::new(PRESETS))]
    suite: String,
    /// Suite parameters from a TOML file instead of the preset (same keys as configs/synth/<suite>.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Number of galaxies.
    #[arg(long)]
    n_galaxies: usize,
    /// Seed of the suite: galaxy i is the same for a given seed whatever the thread count or order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder: galaxy_NNNNNN.h5 files, catalogue.csv, manifest.json and the resolved config.toml.
    #[arg(long)]
    out: PathBuf,
    /// Fix the number of star particles per galaxy (instead of the suite's mass resolution).
    #[arg(long)]
    n_stars: Option<usize>,
    /// Fix the number of dark-matter particles per galaxy.
    #[arg(long)]
    n_dm: Option<usize>,
    /// Fix the number of gas particles per galaxy.
    #[arg(long)]
    n_gas: Option<usize>,
    /// Also write the suite's population plots (stellar vs halo mass, size vs mass, kappa_co, cold gas, inner slope
    /// vs M*/M200) as PNG under OUT/plots/, with the configured relations drawn over the galaxies.
    #[arg(long)]
    plots: bool,
}

#[derive(Debug, Serialize)]
struct Manifest<'a> {
    suite: &'a str,
    seed: u64,
    n_galaxies: usize,
    written: usize,
    resumed: usize,
    skipped: Vec<(u64, String)>,
    config: &'a SuiteParams,
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = galmass_core::paths::temporary_path(path);
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))
}

/// Runs `galmass synth`.
pub fn run(args: &SynthArgs) -> Result<()> {
    let mut params = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<SuiteParams>(&text).with_context(|| format!("{}: not a synthetic suite config", path.display()))?
        }
        None => SuiteParams::preset(&args.suite).with_context(|| format!("unknown suite {}", args.suite))?,
    };
    params.particles.set_counts(args.n_stars, args.n_dm, args.n_gas);
    let valid = params.clone().check()?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    write_atomic(&args.out.join("config.toml"), &toml::to_string(&params)?)?;
    let bar = ProgressBar::new(args.n_galaxies as u64);
    bar.set_style(ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} galaxies, {elapsed_precise} elapsed, eta {eta}").map_or_else(|_| ProgressStyle::default_bar(), |s| s.progress_chars("=> ")));
    bar.set_message(format!("synth {}", params.suite));
    let resumed = AtomicUsize::new(0);
    let results: Vec<(u64, Result<CatalogueRow, String>)> = (0..args.n_galaxies as u64)
        .into_par_iter()
        .map(|i| {
            let galaxy_path = args.out.join(format!("galaxy_{i:06}.h5"));
            let row_path = args.out.join(format!("galaxy_{i:06}.json"));
            // Resume: a galaxy whose file and catalogue line are both complete is kept.
            if galaxy_file::read(&galaxy_path).is_ok() {
                if let Some(row) = std::fs::read_to_string(&row_path).ok().and_then(|t| serde_json::from_str::<CatalogueRow>(&t).ok()) {
                    resumed.fetch_add(1, Ordering::Relaxed);
                    bar.inc(1);
                    return (i, Ok(row));
                }
            }
            let outcome = build_galaxy(&valid, i, args.seed).map_err(|e| e.to_string()).and_then(|built| {
                galaxy_file::write(&galaxy_path, &built.galaxy).map_err(|e| e.to_string())?;
                let json = serde_json::to_string(&built.row).map_err(|e| e.to_string())?;
                write_atomic(&row_path, &json).map_err(|e| format!("{e:#}"))?;
                Ok(built.row)
            });
            if let Err(reason) = &outcome {
                tracing::warn!(galaxy = i, %reason, "galaxy skipped");
            }
            bar.inc(1);
            (i, outcome)
        })
        .collect();
    bar.finish();
    let mut csv = format!("{}\n", CatalogueRow::CSV_HEADER);
    let mut skipped = Vec::new();
    let mut rows = Vec::new();
    for (i, result) in &results {
        match result {
            Ok(r) => {
                csv.push_str(&r.csv_line());
                csv.push('\n');
                rows.push(*r);
            }
            Err(reason) => skipped.push((*i, reason.clone())),
        }
    }
    write_atomic(&args.out.join("catalogue.csv"), &csv)?;
    if args.plots {
        let written = crate::synth_plots::write_population_plots(&args.out.join("plots"), &params, &rows)?;
        for path in written {
            tracing::info!(path = %path.display(), "population plot written");
        }
    }
    let resumed = resumed.load(Ordering::Relaxed);
    let written = results.len() - skipped.len() - resumed;
    let manifest = Manifest { suite: &params.suite, seed: args.seed, n_galaxies: args.n_galaxies, written, resumed, skipped: skipped.clone(), config: &params };
    write_atomic(&args.out.join("manifest.json"), &serde_json::to_string_pretty(&manifest)?)?;
    println!(
        "{}: {} galaxies written, {} kept from an earlier run, {} skipped (see manifest.json)",
        args.out.display(),
        written,
        resumed,
        skipped.len()
    );
    Ok(())
}
