//! `galmass synth`: write a synthetic suite (galmass_pipeline::suite does the work; this parses and prints).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use galmass_pipeline::suite::{write_suite, SuiteRequest};
use galmass_synth::suite::{SuiteParams, PRESETS};
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `galmass synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Suite preset (configs/synth/<suite>.toml holds the same values): spheroids, nihao-like, auriga-like,
    /// fire-like (held-out physics) or tng-like (a box population).
    #[arg(long, default_value = "nihao-like", value_parser = clap::builder::PossibleValuesParser::new(PRESETS))]
    suite: String,
    /// Suite parameters from a TOML file instead of the preset (same keys as configs/synth/<suite>.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Number of galaxies.
    #[arg(long)]
    n_galaxies: usize,
    /// Seed of the suite: galaxy i is the same for a seed whatever the thread count or order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder: galaxy_NNNNNN.h5, catalogue.csv, manifest.json, config.toml.
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
    /// Also draw the population plots (galaxies over the configured relations) as PNG under OUT/plots/.
    #[arg(long)]
    plots: bool,
    /// Also write the suite in its simulation's own format under OUT/native/ (tipsy+AHF, Arepo, Gizmo), listed in
    /// manifest.json under `native` for `galmass extract`.
    #[arg(long)]
    native: bool,
    /// Print the manifest as JSON instead of a summary line.
    #[arg(long)]
    json: bool,
}

/// Runs `galmass synth`.
pub fn run(args: &SynthArgs) -> Result<()> {
    let mut params = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<SuiteParams>(&text)
                .with_context(|| format!("{}: not a synthetic suite config", path.display()))?
        }
        None => SuiteParams::preset(&args.suite).with_context(|| format!("unknown suite {}", args.suite))?,
    };
    params.particles.set_counts(args.n_stars, args.n_dm, args.n_gas);
    let bar = ProgressBar::new(args.n_galaxies as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} galaxies, {elapsed_precise} elapsed, eta {eta}")
            .map_or_else(|_| ProgressStyle::default_bar(), |s| s.progress_chars("=> ")),
    );
    bar.set_message(format!("synth {}", params.suite));
    let request = SuiteRequest {
        params,
        n_galaxies: args.n_galaxies,
        seed: args.seed,
        out: args.out.clone(),
        plots: args.plots,
        native: args.native,
    };
    let manifest = write_suite(&request, &|| bar.inc(1))?;
    bar.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
        return Ok(());
    }
    for path in &manifest.plots {
        tracing::info!(path = %args.out.join(path).display(), "population plot written");
    }
    for entry in &manifest.native {
        println!("{}: {:?} snapshot {}", args.out.join(&entry.path).display(), entry.format, entry.label);
    }
    println!(
        "{}: {} galaxies written, {} kept from an earlier run, {} skipped (see manifest.json)",
        args.out.display(),
        manifest.written,
        manifest.resumed,
        manifest.skipped.len()
    );
    Ok(())
}
