//! `galmass flow`: train a masked autoregressive flow posterior `q(targets | context)` on a CSV table (sarrato2025's
//! MAF: 5 transforms, 50 hidden features, Adam lr 1e-4, batch 32), sample it and evaluate its log-density.
//!
//! - `train --table T --targets y1,y2 --context x1,x2,x3 --out DIR`: writes the checkpoint into `DIR`
//!   (`model.json`, `model.safetensors`; an ensemble is one checkpoint), the loss curves (`loss.csv`, or
//!   `loss_member{k}.csv` per member of an ensemble) and prints a summary; a progress bar on stderr.
//! - `sample --model DIR --table contexts.csv --n-samples K --out samples.csv`: columns `row`, `sample`, then the
//!   target names; `row` is the 0-based data row of the table, `sample` 0..K.
//! - `log-prob --model DIR --table rows.csv --out logp.csv`: columns `row`, `log_prob` (natural log, in the
//!   targets' units).
//!
//! Tables have a header row (read by `galmass_estimators::gbdt::Table`); a missing column, a NaN or empty cell in
//! a used column, or a training table of fewer than two rows is an error naming the file and the column.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use galmass_core::atomic::write_bytes_atomic;
use galmass_estimators::gbdt::Table;
use galmass_models::flow::{ColumnNames, Posterior, PosteriorConfig};
use galmass_models::train::TrainConfig;
use galmass_models::ComputeDevice;
use ndarray::Array2;

/// Train, sample or evaluate a flow posterior.
#[derive(Debug, Subcommand)]
pub enum FlowCommand {
    /// Train on a CSV table; writes the checkpoint and loss curves into --out and prints a summary.
    Train(TrainArgs),
    /// Draw samples of the targets for every row (context) of a CSV table.
    Sample(SampleArgs),
    /// The log-density of every row's targets given its context.
    LogProb(LogProbArgs),
}

/// Arguments of `galmass flow train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training table (CSV with a header row).
    #[arg(long)]
    table: PathBuf,
    /// Target (parameter) columns, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    targets: Vec<String>,
    /// Context (conditioning) columns, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    context: Vec<String>,
    /// Folder to write the checkpoint and loss curves into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Autoregressive transforms.
    #[arg(long, default_value_t = 5)]
    transforms: usize,
    /// Hidden features of each MADE.
    #[arg(long, default_value_t = 50)]
    hidden: usize,
    /// Most epochs (training stops earlier after 20 epochs without a better validation loss).
    #[arg(long, default_value_t = TrainConfig::sarrato2025().epochs)]
    epochs: usize,
    /// Rows per batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 1e-4)]
    lr: f64,
    /// Flows in the ensemble (an equal-weight mixture).
    #[arg(long, default_value_t = 1)]
    ensemble: usize,
    /// Seed of the split, weights, permutations and batch order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Arguments of `galmass flow sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Checkpoint folder written by `galmass flow train`.
    #[arg(long)]
    model: PathBuf,
    /// Contexts (CSV with a header row holding the model's context columns).
    #[arg(long)]
    table: PathBuf,
    /// Samples per row.
    #[arg(long)]
    n_samples: usize,
    /// Output CSV (`row`, `sample`, then the target columns).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the samples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Arguments of `galmass flow log-prob`.
#[derive(Debug, Args)]
pub struct LogProbArgs {
    /// Checkpoint folder written by `galmass flow train`.
    #[arg(long)]
    model: PathBuf,
    /// Rows (CSV with a header row holding the model's target and context columns).
    #[arg(long)]
    table: PathBuf,
    /// Output CSV (`row`, `log_prob`).
    #[arg(long)]
    out: PathBuf,
}

/// Runs a `galmass flow` command.
pub fn run(command: &FlowCommand) -> Result<()> {
    match command {
        FlowCommand::Train(args) => train_cmd(args),
        FlowCommand::Sample(args) => sample_cmd(args),
        FlowCommand::LogProb(args) => log_prob_cmd(args),
    }
}

/// The named columns of `table` (read from `path`) as float32, refusing missing values.
fn columns(table: &Table, path: &Path, names: &[String], what: &str) -> Result<Array2<f32>> {
    let (values, _) = table.select(names).with_context(|| format!("{}: missing {what} column", path.display()))?;
    for (i, row) in values.outer_iter().enumerate() {
        for (name, v) in names.iter().zip(row) {
            if v.is_nan() {
                bail!("{}: data row {}, {what} column `{name}` is empty or NaN", path.display(), i + 1);
            }
            if !(*v as f32).is_finite() {
                bail!("{}: data row {}, {what} column `{name}` holds {v}, not a finite float32", path.display(), i + 1);
            }
        }
    }
    Ok(values.mapv(|v| v as f32))
}

fn read_table(path: &Path) -> Result<Table> {
    Table::read(path).with_context(|| format!("cannot read table {}", path.display()))
}

fn clean(names: &[String]) -> Vec<String> {
    names.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect()
}

fn train_cmd(args: &TrainArgs) -> Result<()> {
    let (targets, context) = (clean(&args.targets), clean(&args.context));
    if targets.is_empty() || context.is_empty() {
        bail!("--targets and --context each need at least one column");
    }
    if let Some(both) = targets.iter().find(|t| context.contains(t)) {
        bail!("column `{both}` is both a target and a context");
    }
    let table = read_table(&args.table)?;
    let theta = columns(&table, &args.table, &targets, "target")?;
    let ctx = columns(&table, &args.table, &context, "context")?;
    if theta.nrows() < 2 {
        bail!("{}: {} data row(s), training needs at least 2", args.table.display(), theta.nrows());
    }
    let mut config = PosteriorConfig::sarrato2025(targets.len(), context.len());
    config.maf.n_transforms = args.transforms;
    config.maf.hidden = args.hidden;
    config.ensemble = args.ensemble;
    config.seed = args.seed;
    let train_config = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        seed: args.seed,
        progress: true,
        ..TrainConfig::sarrato2025()
    };
    let names = ColumnNames { context: context.clone(), targets: targets.clone() };
    let device = ComputeDevice::preferred();
    tracing::info!(rows = theta.nrows(), %device, "training flow");
    let (posterior, histories) = Posterior::train(ctx.view(), theta.view(), &names, &config, &train_config, device)
        .with_context(|| format!("training on {} failed", args.table.display()))?;
    posterior.save(&args.out).with_context(|| format!("cannot write checkpoint {}", args.out.display()))?;
    let mut summary = String::new();
    let extra = &posterior.meta().extra;
    let _ = writeln!(
        summary,
        "flow of {} ({}) given {} ({}): {} transforms x {} hidden, {} member(s), {} parameters each, on {device}",
        targets.len(),
        targets.join(","),
        context.len(),
        context.join(","),
        config.maf.n_transforms,
        config.maf.hidden,
        config.ensemble,
        config.maf.n_parameters(),
    );
    let _ = writeln!(summary, "{} training rows, {} validation rows", extra["training_rows"], extra["validation_rows"]);
    for (k, h) in histories.iter().enumerate() {
        let loss_path =
            if histories.len() == 1 { args.out.join("loss.csv") } else { args.out.join(format!("loss_member{k}.csv")) };
        h.write_csv(&loss_path).with_context(|| format!("cannot write loss curves {}", loss_path.display()))?;
        let best = h.validation_loss.get(h.best_epoch).or(h.train_loss.get(h.best_epoch)).copied().unwrap_or(f64::NAN);
        let _ = writeln!(
            summary,
            "member {k}: {} epochs{}, best epoch {} (loss {best:.4}, -log q per row in z-scored units), {:.1} s, \
             {:.0} rows/s; curves in {}",
            h.train_loss.len(),
            if h.stopped_early { " (stopped early)" } else { "" },
            h.best_epoch,
            h.seconds,
            h.samples_per_second,
            loss_path.display()
        );
    }
    let _ = writeln!(summary, "checkpoint written to {}", args.out.display());
    print!("{summary}");
    Ok(())
}

fn load(dir: &Path) -> Result<Posterior> {
    Posterior::load(dir, ComputeDevice::preferred()).with_context(|| format!("cannot load flow {}", dir.display()))
}

fn write(path: &Path, text: &str) -> Result<()> {
    write_bytes_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))
}

fn sample_cmd(args: &SampleArgs) -> Result<()> {
    let posterior = load(&args.model)?;
    let table = read_table(&args.table)?;
    let ctx = columns(&table, &args.table, posterior.context_names(), "context")?;
    let samples = posterior.sample(ctx.view(), args.n_samples, args.seed).context("sampling failed")?;
    let mut text = String::with_capacity(samples.len() * 12 + 64);
    text.push_str("row,sample");
    for name in posterior.target_names() {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    for (row, per_row) in samples.outer_iter().enumerate() {
        for (sample, values) in per_row.outer_iter().enumerate() {
            let _ = write!(text, "{row},{sample}");
            for v in values {
                let _ = write!(text, ",{v}");
            }
            text.push('\n');
        }
    }
    write(&args.out, &text)?;
    tracing::info!(out = %args.out.display(), rows = ctx.nrows(), n = args.n_samples, "wrote samples");
    Ok(())
}

fn log_prob_cmd(args: &LogProbArgs) -> Result<()> {
    let posterior = load(&args.model)?;
    let table = read_table(&args.table)?;
    let theta = columns(&table, &args.table, posterior.target_names(), "target")?;
    let ctx = columns(&table, &args.table, posterior.context_names(), "context")?;
    let log_prob = posterior.log_prob(theta.view(), ctx.view()).context("evaluating the log-density failed")?;
    let mut text = String::with_capacity(log_prob.len() * 24 + 16);
    text.push_str("row,log_prob\n");
    for (row, lp) in log_prob.iter().enumerate() {
        let _ = writeln!(text, "{row},{lp}");
    }
    write(&args.out, &text)?;
    tracing::info!(out = %args.out.display(), rows = log_prob.len(), "wrote log-densities");
    Ok(())
}
