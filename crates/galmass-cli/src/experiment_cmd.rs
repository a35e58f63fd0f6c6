//! `galmass train` and `galmass evaluate` (galmass_pipeline::experiment does the work; this parses and prints).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use galmass_pipeline::experiment::config::ExperimentConfig;
use galmass_pipeline::experiment::evaluate_to;
use galmass_pipeline::experiment::train::train_run;

/// `galmass train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The experiment config (configs/experiments/<paper>{,-medium,-quick}.toml): the models, their inputs,
    /// targets and training sets, the training and flow settings.
    #[arg(long)]
    pub config: PathBuf,
    /// The dataset folder (`galmass dataset build --out`), holding dataset.h5.
    #[arg(long)]
    pub dataset: PathBuf,
    /// The run folder: RUN/run.json, RUN/units/<model>__<suites>/ with checkpoints (safetensors) and loss curves.
    /// Run again, it keeps every unit already trained.
    #[arg(long)]
    pub out: PathBuf,
}

/// `galmass evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The run folder written by `galmass train`.
    #[arg(long)]
    pub run: PathBuf,
    /// The dataset to test on (default: the one the run was trained on; it must have the same recipe).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// The report folder: REPORT/report.md, REPORT/summary.json, REPORT/tables/, REPORT/figures/.
    #[arg(long)]
    pub out: PathBuf,
}

/// Trains every unit of the experiment.
pub fn train(args: &TrainArgs) -> Result<()> {
    let config = ExperimentConfig::read(&args.config)?;
    let text = std::fs::read_to_string(&args.config).with_context(|| format!("reading {}", args.config.display()))?;
    let started = std::time::Instant::now();
    let run = train_run(&config, &text, &args.dataset, &args.out)?;
    println!(
        "galmass train: {} units of {} in {:.1} s on {} -> {}",
        run.units.len(),
        config.name,
        started.elapsed().as_secs_f64(),
        run.device,
        args.out.join("run.json").display()
    );
    Ok(())
}

/// Evaluates a run and writes its report.
pub fn evaluate(args: &EvaluateArgs) -> Result<()> {
    let started = std::time::Instant::now();
    let report = evaluate_to(&args.run, args.dataset.as_deref(), &args.out)?;
    println!("galmass evaluate: {} in {:.1} s", report.display(), started.elapsed().as_secs_f64());
    Ok(())
}
