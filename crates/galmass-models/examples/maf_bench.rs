//! The galmass side of `scripts/maf_compare.py`: trains sarrato2025's conditional MAF (5 transforms, 50 hidden,
//! 2 blocks, tanh; Adam, batch 32, gradient norm clipped at 5) on a CSV table for a fixed number of epochs on all its
//! rows (no validation split, no early stopping: the same budget as the peer), then prints the mean negative
//! log-density of a held-out table in the targets' units and the training time, as one JSON line.
//!
//! `cargo run --release -p galmass-models --example maf_bench -- TRAIN.csv TEST.csv TARGETS CONTEXT EPOCHS THREADS
//! [LR] [SEED]` with TARGETS and CONTEXT comma-separated column names.

use std::path::Path;

use galmass_models::flow::{ColumnNames, Posterior, PosteriorConfig};
use galmass_models::train::{Schedule, TrainConfig};
use galmass_models::ComputeDevice;
use ndarray::Array2;

/// The named columns of a plain numeric CSV with a header row.
fn read_columns(path: &Path, names: &[String]) -> Result<Array2<f32>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or("empty table")?.split(',').map(str::trim).collect();
    let index: Vec<usize> = names
        .iter()
        .map(|n| header.iter().position(|h| h == n).ok_or_else(|| format!("{}: no column {n}", path.display())))
        .collect::<Result<_, _>>()?;
    let mut values = Vec::new();
    let mut rows = 0;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        for &i in &index {
            values.push(cells.get(i).ok_or("short row")?.trim().parse::<f32>()?);
        }
        rows += 1;
    }
    Ok(Array2::from_shape_vec((rows, names.len()), values)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 6 {
        return Err("usage: maf_bench TRAIN.csv TEST.csv TARGETS CONTEXT EPOCHS THREADS [LR] [SEED]".into());
    }
    let split = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
    let (targets, context) = (split(&args[2]), split(&args[3]));
    let epochs: usize = args[4].parse()?;
    let threads: i32 = args[5].parse()?;
    let lr: f64 = args.get(6).map_or(Ok(1e-4), |a| a.parse())?;
    let seed: u64 = args.get(7).map_or(Ok(0), |a| a.parse())?;
    tch::set_num_threads(threads);
    let (train, test) = (Path::new(&args[0]), Path::new(&args[1]));
    let (theta, ctx) = (read_columns(train, &targets)?, read_columns(train, &context)?);
    let (theta_test, ctx_test) = (read_columns(test, &targets)?, read_columns(test, &context)?);
    let mut config = PosteriorConfig::sarrato2025(targets.len(), context.len());
    config.validation_fraction = 0.0;
    config.seed = seed;
    let train_config = TrainConfig {
        epochs,
        batch_size: 32,
        learning_rate: lr,
        schedule: Schedule::Constant,
        early_stopping_patience: None,
        gradient_clip_norm: Some(5.0),
        seed,
        ..TrainConfig::sarrato2025()
    };
    let names = ColumnNames { context, targets };
    let (posterior, histories) =
        Posterior::train(ctx.view(), theta.view(), &names, &config, &train_config, ComputeDevice::Cpu)?;
    let log_q = posterior.log_prob(theta_test.view(), ctx_test.view())?;
    let nll = -log_q.iter().sum::<f64>() / log_q.len() as f64;
    let h = &histories[0];
    println!(
        "{{\"tool\": \"galmass\", \"parameters\": {}, \"rows\": {}, \"epochs\": {epochs}, \"threads\": {threads}, \
         \"seconds\": {:.3}, \"test_nll\": {nll:.5}, \"final_train_loss\": {:.5}}}",
        config.maf.n_parameters(),
        theta.nrows(),
        h.seconds,
        h.train_loss.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
