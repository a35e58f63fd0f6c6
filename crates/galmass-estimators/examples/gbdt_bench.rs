//! Training-time benchmark of `galmass_estimators::gbdt` on a CSV table, for `scripts/gbdt_compare.py`.
//!
//! ```text
//! cargo run --release -p galmass-estimators --example gbdt_bench -- \
//!     --train train.csv --test test.csv --target log_mstar \
//!     [--params '{"num_leaves": 5, "num_boost_round": 500, "num_threads": 1}'] [--repeat 3] [--model out.json]
//! ```
//!
//! Times `train` (binning included, as LightGBM's `Dataset` construction is included on the Python side; CSV
//! parsing excluded) `--repeat` times and prints one JSON object: the best and every time in seconds, the test
//! RMSE, the features by decreasing gain, and the number of trees and bundles.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use galmass_core::params::Params;
use galmass_estimators::gbdt::dataset::BinnedData;
use galmass_estimators::gbdt::{train, GbdtParams, LabeledData, Table};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (mut train_path, mut test_path, mut target, mut params_json, mut repeat, mut model_out) =
        (None, None, None, String::from("{}"), 3usize, None::<PathBuf>);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--train" => train_path = Some(PathBuf::from(value()?)),
            "--test" => test_path = Some(PathBuf::from(value()?)),
            "--target" => target = Some(value()?),
            "--params" => params_json = value()?,
            "--repeat" => repeat = value()?.parse().map_err(|e| format!("--repeat N: {e}"))?,
            "--model" => model_out = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let target = target.ok_or("--target COL is required")?;
    let train_table = Table::read(&train_path.ok_or("--train T.csv is required")?)?;
    let test_table = Table::read(&test_path.ok_or("--test V.csv is required")?)?;
    let names = train_table.columns_except(&[target.as_str()]);
    let (x, _) = train_table.select(&names)?;
    let y = train_table.column(&target)?;
    let (xt, _) = test_table.select(&names)?;
    let yt = test_table.column(&target)?;
    let params: GbdtParams =
        serde_json::from_str(&params_json).map_err(|e| format!("--params is not a JSON object of GbdtParams: {e}"))?;
    let params = params.check()?;
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let out = train(&params, LabeledData::new(x.view(), &y)?, None, Some(names.clone()))?;
        times.push(start.elapsed().as_secs_f64());
        last = Some(out);
    }
    let out = last.ok_or("no training run")?;
    let pred = out.model.predict(xt.view())?;
    let rmse = (pred.iter().zip(&yt).map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / yt.len() as f64).sqrt();
    let bundles = BinnedData::from_features(x.view(), &params, None)?.num_bundles();
    if let Some(path) = model_out {
        out.model.save(&path)?;
    }
    let table = out.model.importance_table();
    let report = serde_json::json!({
        "train_seconds": times.iter().copied().fold(f64::INFINITY, f64::min),
        "all_seconds": times,
        "test_rmse": rmse,
        "features_by_gain": table.iter().map(|r| &r.0).collect::<Vec<_>>(),
        "gain": table.iter().map(|r| r.1).collect::<Vec<_>>(),
        "num_trees": out.model.trees().len(),
        "num_bundles": bundles,
        "rows": x.nrows(),
    });
    println!("{report}");
    Ok(())
}
