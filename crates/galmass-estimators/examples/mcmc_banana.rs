//! `galmass_estimators::mcmc` on the 2-D banana (Rosenbrock) density of emcee's old quickstart, for
//! `scripts/emcee_compare.py`.
//!
//! ```text
//! cargo run --release -p galmass-estimators --example mcmc_banana -- \
//!     [--walkers 64] [--steps 20000] [--seed 0] [--discard 2000] [--thin 1] [--samples OUT.f64]
//! ```
//!
//! Density: `ln p(x0, x1) = -(100 (x1 - x0^2)^2 + (1 - x0)^2) / 20`, i.e. x0 ~ N(1, 10) and x1 | x0 ~
//! N(x0^2, 0.1) (mean (1, 11), variances 10 and 240.1, covariance 20). Walkers start in `initial_ball` around
//! (1, 1) with scale 1 per dimension (seed `--seed`). Prints one JSON object: the mean, covariance (ddof = 1) and
//! 16/50/84% quantiles (numpy's linear interpolation) of the samples after `--discard`, the mean acceptance
//! fraction, the autocorrelation times, the effective sample size, the convergence verdict, the rayon threads
//! and the sampling time in seconds (`sample` alone). `--samples` also writes the samples after `--discard`,
//! thinned by `--thin` (emcee's `get_chain(discard, thin, flat=True)`), as raw little-endian f64, row-major
//! (n, 2).

use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use galmass_estimators::mcmc::{initial_ball, sample, EnsembleConfig};
use serde_json::json;

/// emcee's Rosenbrock example.
fn banana_log_prob(x: &[f64]) -> f64 {
    -(100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2)) / 20.0
}

/// numpy's default (`linear`) percentile of sorted values: position q (n - 1), interpolated.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let Some(&last) = sorted.last() else { return f64::NAN };
    let h = q * (sorted.len() - 1) as f64;
    let lo = h.floor() as usize;
    match sorted.get(lo + 1) {
        Some(&hi) => sorted[lo] + (h - lo as f64) * (hi - sorted[lo]),
        None => last,
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let mut config = EnsembleConfig { n_walkers: 64, n_steps: 20_000, ..EnsembleConfig::default() };
    let (mut discard, mut thin, mut samples_out) = (2000usize, 1usize, None::<PathBuf>);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--walkers" => config.n_walkers = value()?.parse().map_err(|e| format!("--walkers N: {e}"))?,
            "--steps" => config.n_steps = value()?.parse().map_err(|e| format!("--steps N: {e}"))?,
            "--seed" => config.seed = value()?.parse().map_err(|e| format!("--seed S: {e}"))?,
            "--discard" => discard = value()?.parse().map_err(|e| format!("--discard N: {e}"))?,
            "--thin" => thin = value()?.parse().map_err(|e| format!("--thin N: {e}"))?,
            "--samples" => samples_out = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if discard >= config.n_steps {
        return Err(format!("--discard {discard} leaves no step of {}", config.n_steps).into());
    }
    let initial = initial_ball(&[1.0, 1.0], &[1.0, 1.0], config.n_walkers, config.seed);
    let start = Instant::now();
    let chain = sample(banana_log_prob, initial.view(), &config)?;
    let seconds = start.elapsed().as_secs_f64();

    let diagnostics = chain.diagnostics(discard);
    let flat = chain.flat(discard, 1);
    let mut quantiles = serde_json::Map::new();
    for (d, column) in flat.columns().into_iter().enumerate() {
        let mut sorted = column.to_vec();
        sorted.sort_by(f64::total_cmp);
        let q = |p: f64| quantile(&sorted, p);
        quantiles.insert(format!("x{d}"), json!({"p16": q(0.16), "p50": q(0.5), "p84": q(0.84)}));
    }
    let cov = chain.covariance(discard);
    let cov: Vec<Vec<f64>> = cov.rows().into_iter().map(|r| r.to_vec()).collect();
    if let Some(path) = samples_out {
        let thinned = chain.flat(discard, thin);
        let bytes: Vec<u8> = thinned.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::File::create(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    let out = json!({
        "walkers": config.n_walkers,
        "steps": config.n_steps,
        "seed": config.seed,
        "discard": discard,
        "thin": thin,
        "threads": rayon::current_num_threads(),
        "mean": chain.mean(discard),
        "cov": cov,
        "quantiles": quantiles,
        "acceptance": diagnostics.acceptance_mean,
        "autocorr_time": diagnostics.autocorr_time,
        "n_effective": diagnostics.n_effective,
        "converged": diagnostics.converged,
        "seconds": seconds,
    });
    println!("{out}");
    Ok(())
}
