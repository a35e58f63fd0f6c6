//! `galmass gbdt`: train a LightGBM-class gradient boosted tree on a CSV feature table (chu2024 §2.3) and predict
//! with it.
//!
//! `train` reads the table (header row, numbers; empty cells and `nan` are missing values), takes the `--target`
//! column as the label and the `--features` columns (default: every other column) as features, reads the
//! parameters from a TOML file with LightGBM's names (`configs/gbdt/chu2024.toml`), trains, prints the loss curves,
//! the validation metrics and the gain importance table, and writes the model file (JSON, documented in
//! `galmass_estimators::gbdt`). `predict` writes the input table with a `prediction` column appended, as CSV, to a
//! file or to stdout.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use galmass_core::atomic::write_bytes_atomic;
use galmass_core::params::Params;
use galmass_estimators::gbdt::{train, GbdtModel, GbdtParams, LabeledData, Table, Training};

/// Train or apply a gradient boosted tree.
#[derive(Debug, Subcommand)]
pub enum GbdtCommand {
    /// Train on a CSV table and write the model file; prints loss curves, validation metrics and gain importance.
    Train(TrainArgs),
    /// Predict every row of a CSV table with a model file; writes the table plus a `prediction` column as CSV.
    Predict(PredictArgs),
}

/// Arguments of `galmass gbdt train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training table (CSV with a header row).
    #[arg(long)]
    table: PathBuf,
    /// Column holding the label.
    #[arg(long)]
    target: String,
    /// Feature columns, comma-separated (default: every column but the target).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// Validation table with the same columns: metrics every iteration, early stopping.
    #[arg(long)]
    valid: Option<PathBuf>,
    /// Parameters (TOML, LightGBM names and aliases), e.g. configs/gbdt/chu2024.toml.
    #[arg(long)]
    config: PathBuf,
    /// Model file to write (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Print the metrics every this many iterations (and at the last one); 0 prints only the last.
    #[arg(long, default_value_t = 10)]
    log_period: usize,
    /// Also write every metric of every iteration (the loss curves) to this JSON file.
    #[arg(long)]
    history: Option<PathBuf>,
}

/// Arguments of `galmass gbdt predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Model file written by `galmass gbdt train`.
    #[arg(long)]
    model: PathBuf,
    /// Table to predict (CSV with a header row holding at least the model's feature columns).
    #[arg(long)]
    table: PathBuf,
    /// Output CSV (default: stdout).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs a `galmass gbdt` command.
pub fn run(command: &GbdtCommand) -> Result<()> {
    match command {
        GbdtCommand::Train(args) => train_cmd(args),
        GbdtCommand::Predict(args) => predict_cmd(args),
    }
}

fn read_table(path: &Path) -> Result<Table> {
    Table::read(path).with_context(|| format!("cannot read table {}", path.display()))
}

fn read_params(path: &Path) -> Result<GbdtParams> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: not a valid GBDT configuration", path.display()))
}

fn train_cmd(args: &TrainArgs) -> Result<()> {
    let params = read_params(&args.config)?;
    let valid_params = params.check().with_context(|| format!("{}: invalid parameters", args.config.display()))?;
    let table = read_table(&args.table)?;
    let features = match &args.features {
        Some(names) => names.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect(),
        None => table.columns_except(&[args.target.as_str()]),
    };
    if features.is_empty() {
        bail!("{}: no feature columns besides the target `{}`", args.table.display(), args.target);
    }
    if features.contains(&args.target) {
        bail!("--features includes the target column `{}`", args.target);
    }
    let (x, _) = table.select(&features)?;
    let y = table.column(&args.target)?;
    let valid = match &args.valid {
        Some(path) => {
            let t = read_table(path)?;
            let (xv, _) = t.select(&features)?;
            Some((xv, t.column(&args.target)?))
        }
        None => None,
    };
    let train_data =
        LabeledData::new(x.view(), &y).with_context(|| format!("{}: bad training data", args.table.display()))?;
    let valid_data = match &valid {
        Some((xv, yv)) => Some(LabeledData::new(xv.view(), yv).context("bad validation data")?),
        None => None,
    };
    tracing::info!(rows = x.nrows(), features = features.len(), "training");
    let start = std::time::Instant::now();
    let out = train(&valid_params, train_data, valid_data, Some(features.clone())).context("training failed")?;
    let seconds = start.elapsed().as_secs_f64();
    print!("{}", report(&out, args.log_period));
    println!(
        "trained {} trees on {} rows x {} features in {seconds:.3} s",
        out.model.trees().len(),
        x.nrows(),
        features.len()
    );
    out.model.save(&args.out).with_context(|| format!("cannot write model {}", args.out.display()))?;
    println!("model written to {}", args.out.display());
    if let Some(path) = &args.history {
        let text = serde_json::to_string_pretty(&out.history)?;
        write_bytes_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write history {}", path.display()))?;
        println!("loss curves written to {}", path.display());
    }
    Ok(())
}

/// The text printed after training: loss curves, final metrics, gain importance.
fn report(out: &Training, log_period: usize) -> String {
    let h = &out.history;
    let mut s = String::new();
    if !h.curves.is_empty() && h.iterations > 0 {
        let _ = write!(s, "{:>6}", "iter");
        for c in &h.curves {
            let _ = write!(s, "  {:>16}", format!("{} {}", c.dataset, c.metric));
        }
        s.push('\n');
        for it in 0..h.iterations {
            let last = it + 1 == h.iterations;
            if !(last || (log_period > 0 && (it + 1) % log_period == 0)) {
                continue;
            }
            let _ = write!(s, "{:>6}", it + 1);
            for c in &h.curves {
                let _ = write!(s, "  {:>16.6e}", c.values[it]);
            }
            s.push('\n');
        }
    }
    if let Some(reason) = &h.stopped {
        let _ = writeln!(s, "{reason}");
    }
    if let Some(best) = h.best_iteration {
        let _ = writeln!(s, "best iteration {best} (the model keeps {best} trees)");
    }
    let final_index = h.best_iteration.unwrap_or(h.iterations).checked_sub(1);
    for c in h.curves.iter().filter(|c| c.dataset != "training") {
        if let Some(v) = final_index.and_then(|i| c.values.get(i)) {
            let _ = writeln!(s, "validation {}: {v:.6e}", c.metric);
        }
    }
    let table = out.model.importance_table();
    let total: f64 = table.iter().map(|r| r.1).sum();
    let _ = writeln!(s, "{:<24} {:>14} {:>8} {:>8}", "feature", "gain", "share", "splits");
    for (name, gain, splits) in &table {
        let share = if total > 0.0 { 100.0 * gain / total } else { 0.0 };
        let _ = writeln!(s, "{name:<24} {gain:>14.6e} {share:>7.2}% {splits:>8}");
    }
    s
}

fn format_number(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else {
        // Shortest text that reads back to the same number.
        format!("{v}")
    }
}

fn predict_cmd(args: &PredictArgs) -> Result<()> {
    let model = GbdtModel::load(&args.model).with_context(|| format!("cannot load model {}", args.model.display()))?;
    let table = read_table(&args.table)?;
    let (x, _) = table.select(model.feature_names()).with_context(|| {
        format!("{} lacks a feature column of model {}", args.table.display(), args.model.display())
    })?;
    let pred = model.predict(x.view())?;
    let mut name = String::from("prediction");
    while table.columns().contains(&name) {
        name.push('_');
    }
    let mut text = String::with_capacity(table.num_rows() * (table.columns().len() + 1) * 12);
    text.push_str(&table.columns().join(","));
    text.push(',');
    text.push_str(&name);
    text.push('\n');
    for (row, p) in table.values().rows().into_iter().zip(&pred) {
        for v in row.iter() {
            text.push_str(&format_number(*v));
            text.push(',');
        }
        text.push_str(&format_number(*p));
        text.push('\n');
    }
    match &args.out {
        Some(path) => {
            write_bytes_atomic(path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
            tracing::info!(out = %path.display(), rows = pred.len(), "wrote predictions");
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            match lock.write_all(text.as_bytes()).and_then(|()| lock.flush()) {
                // A closed pipe (`| head`) is the reader's choice, not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write to stdout")?,
            }
        }
    }
    Ok(())
}
