//! `galmass dataset build|merge|inspect|plan` (galmass_pipeline::dataset does the work; this parses and prints).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;
use galmass_pipeline::dataset::build::{build_shard, folder_config, merge, DatasetManifest, Shard};
use galmass_pipeline::dataset::config::DatasetConfig;
use galmass_pipeline::dataset::inspect::inspect;
use galmass_pipeline::dataset::plan::resolve;
use indicatif::{ProgressBar, ProgressStyle};

/// The dataset subcommands.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Build a training dataset from a config (configs/<paper>{,-medium,-quick}.toml): selection, lines of sight,
    /// star samples, mock maps and scalars, targets and classic-estimator values per projection, splits by galaxy.
    ///
    /// Writes one unit file per galaxy under OUT/work/ (parallel, each written atomically), then OUT/dataset.h5 and
    /// OUT/manifest.json. Killed and run again, it keeps every unit it finds and ends with the same bytes. With
    /// --shard i/N it builds only galaxies i, i+N, ... and stops before the merge (run `galmass dataset merge` once
    /// every shard is done, e.g. from scripts/slurm/).
    Build {
        /// The dataset config (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Output folder (synthetic suites are generated into OUT/suites/).
        #[arg(long)]
        out: PathBuf,
        /// Build only shard i of N (`i/N`, 0-based), leaving the merge to `galmass dataset merge`.
        #[arg(long)]
        shard: Option<Shard>,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Merge the shards of a build (every galaxy must have its unit or skip record) into OUT/dataset.h5 and
    /// OUT/manifest.json: balancing, normalisation over the training split, provenance.
    Merge {
        /// The dataset folder given to the shards' `build --out`.
        #[arg(long)]
        out: PathBuf,
        /// The config (default: the one the shards recorded in OUT/work/config.toml).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// What a dataset holds: projections and galaxies per suite and split, value ranges of every input, scalar
    /// and target, the estimators and the provenance; example input maps as DIR/inspect.png.
    Inspect {
        /// The dataset folder (holding dataset.h5).
        dir: PathBuf,
        /// Galaxies whose first projection is drawn.
        #[arg(long, default_value_t = 4)]
        examples: usize,
        /// Do not draw the PNG.
        #[arg(long)]
        no_png: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Resolve a config against its data without building: galaxies per suite and split, projections, the
    /// paper's own counts, and the expected disk, memory and core time.
    Plan {
        /// The dataset config (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Output folder the build would use (synthetic suites are planned into it; default: a folder beside the
        /// config named after the dataset).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn bar(len: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} galaxies, {per_sec}, {elapsed_precise} elapsed, eta {eta}",
        )
        .map_or_else(|_| ProgressStyle::default_bar(), |s| s.progress_chars("=> ")),
    );
    bar.set_message(what.to_owned());
    bar
}

fn print_manifest(out: &std::path::Path, manifest: &DatasetManifest, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(manifest)?);
        return Ok(());
    }
    println!("{}: {} projections ({})", out.join("dataset.h5").display(), manifest.n_projections, manifest.paper);
    for (suite, splits) in &manifest.counts {
        let parts: Vec<String> = splits.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!("  {suite}: {}", parts.join(", "));
    }
    if !manifest.balanced_away.is_empty() {
        println!("  balanced away: {:?}", manifest.balanced_away);
    }
    println!("  {} galaxies skipped (reasons in manifest.json)", manifest.skipped.len());
    Ok(())
}

/// Runs a dataset subcommand.
pub fn run(command: &DatasetCommand) -> Result<()> {
    match command {
        DatasetCommand::Build { config, out, shard, json } => {
            let config = DatasetConfig::read(config)?;
            let plan = resolve(&config, out)?;
            let shard = shard.unwrap_or(Shard { index: 0, count: 1 });
            let n = plan.candidates.iter().filter(|c| c.shard(shard.count) == shard.index).count();
            let progress = bar(n, &format!("dataset {} shard {}/{}", config.name, shard.index, shard.count));
            let record = build_shard(&plan, shard, &|| progress.inc(1))?;
            progress.finish();
            if shard.count > 1 {
                println!(
                    "shard {}/{}: {} galaxies with rows ({} made now), {} skipped; merge with `galmass dataset merge --out {}` once all shards are done",
                    shard.index,
                    shard.count,
                    record.units,
                    record.made,
                    record.skipped,
                    out.display()
                );
                return Ok(());
            }
            let progress = bar(plan.candidates.len(), "merge");
            let manifest = merge(&plan, &|| progress.inc(1))?;
            progress.finish();
            print_manifest(out, &manifest, *json)
        }
        DatasetCommand::Merge { out, config, json } => {
            let config = match config {
                Some(path) => DatasetConfig::read(path)?,
                None => folder_config(out)?,
            };
            let plan = resolve(&config, out)?;
            let progress = bar(plan.candidates.len(), "merge");
            let manifest = merge(&plan, &|| progress.inc(1))?;
            progress.finish();
            print_manifest(out, &manifest, *json)
        }
        DatasetCommand::Inspect { dir, examples, no_png, json } => {
            let png = dir.join("inspect.png");
            let report = inspect(dir, (!no_png).then_some(png.as_path()), *examples)?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            let p = &report.provenance;
            println!(
                "{}: {} ({}), {} projections, recipe {}, galmass {}",
                report.path.display(),
                p.name,
                p.paper,
                report.n_projections,
                p.recipe_hash,
                p.git_revision
            );
            for (suite, splits) in &report.projections {
                let parts: Vec<String> = splits.iter().map(|(s, n)| format!("{s} {n}")).collect();
                let g: usize = report.galaxies.get(suite).map_or(0, |m| m.values().sum());
                println!("  {suite}: {} projections of {g} galaxies", parts.join(", "));
            }
            for (r, [c, y, x]) in &report.inputs {
                println!(
                    "  input {} ({c} x {y} x {x}, {}): {:.4e} .. {:.4e}, mean {:.4e}",
                    r.name, r.unit, r.min, r.max, r.mean
                );
            }
            for r in report.scalars.iter().chain(&report.targets) {
                let bad = if r.non_finite > 0 { format!(", {} non-finite", r.non_finite) } else { String::new() };
                println!("  {} [{}]: {:.4} .. {:.4}, mean {:.4}{bad}", r.name, r.unit, r.min, r.max, r.mean);
            }
            println!("  estimators: {}", report.estimators.join(", "));
            if let Some(f) = &report.figure {
                println!("  example maps: {}", f.display());
            }
            Ok(())
        }
        DatasetCommand::Plan { config: path, out, json } => {
            let config = DatasetConfig::read(path)?;
            let out = out.clone().unwrap_or_else(|| {
                path.parent().unwrap_or(std::path::Path::new(".")).join("..").join("datasets").join(&config.name)
            });
            let plan = resolve(&config, &out).with_context(|| format!("planning {}", path.display()))?;
            let summary = plan.summary().with_context(|| format!("planning {}", path.display()))?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
                return Ok(());
            }
            println!(
                "{} ({}): {} lines of sight per galaxy",
                summary.name, summary.paper, summary.projections_per_galaxy
            );
            for (suite, splits) in &summary.galaxies {
                let parts: Vec<String> = splits.iter().map(|(s, n)| format!("{s} {n}")).collect();
                let absent = if summary.absent.contains(suite) { " (folder absent: the paper's count)" } else { "" };
                println!(
                    "  {suite}: {} galaxies ({}), {} projections before selection{absent}",
                    splits.values().sum::<usize>(),
                    parts.join(", "),
                    summary.projections.get(suite).copied().unwrap_or(0)
                );
            }
            println!("  {} projections before selection and balancing", summary.n_projections);
            if let Some(e) = &summary.expected {
                if let Some(n) = e.projections_per_suite {
                    println!("  the paper: {n} projections per suite after selection and balancing ({})", e.source);
                }
                if let Some(n) = e.projections {
                    println!("  the paper: {n} projections ({})", e.source);
                }
            }
            println!(
                "  disk ~{:.1} GB uncompressed, memory ~{:.1} GB per worker, ~{:.1} core-hours",
                summary.disk_bytes as f64 / 1e9,
                summary.memory_bytes as f64 / 1e9,
                summary.core_seconds / 3600.0
            );
            Ok(())
        }
    }
}
