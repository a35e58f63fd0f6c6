//! An affine-invariant ensemble MCMC sampler: the stretch move of Goodman & Weare (2010), as emcee 3 runs it.
//!
//! The ensemble of `n_walkers` walkers is split at random into two halves at every step (emcee's `StretchMove`
//! with `randomize_split=True`, its default); each half moves in turn, against the other half's current
//! positions. A walker at `x` picks a partner `x_j` of the other half uniformly and a stretch `z` from
//! `g(z) ∝ 1/sqrt(z)` on `[1/a, a]` (`z = ((a - 1) u + 1)^2 / a`, u uniform), proposes `y = x_j + z (x - x_j)`
//! and accepts it with probability `min(1, z^(d-1) p(y) / p(x))`. The proposals of a half are evaluated in
//! parallel (rayon) when one evaluation of the density takes at least [`PARALLEL_MIN_EVAL_S`] (timed on the
//! initial ensemble); cheaper densities run on the calling thread, since handing nanosecond evaluations between
//! threads costs more than it saves (emcee's banana ran 1.6x slower on two threads than on one).
//!
//! Randomness: ChaCha8 keyed by `seed`; step `s` of walker `k` draws from its own stream number
//! `s (n_walkers + 1) + k` (its stretch, its partner, its acceptance draw, in that order) and stream
//! `s (n_walkers + 1) + n_walkers` shuffles that step's split. A chain therefore depends on the seed alone, not
//! on the number of rayon threads.
//!
//! Diagnostics follow emcee: [`Chain::autocorr_time`] is `emcee.autocorr.integrated_time` (FFT autocorrelation
//! of each walker, averaged over walkers, Sokal's automatic window with c = 5), and a chain counts as converged
//! when it keeps at least 50 autocorrelation times (emcee's `tol = 50`) with a mean acceptance fraction in
//! `[0.15, 0.7]` (see [`Diagnostics::converged`]).
//!
//! ```
//! use galmass_estimators::mcmc::{initial_ball, sample, EnsembleConfig};
//! // A 2-D standard normal.
//! let log_prob = |x: &[f64]| -0.5 * x.iter().map(|v| v * v).sum::<f64>();
//! let config = EnsembleConfig { n_walkers: 16, n_steps: 2000, ..EnsembleConfig::default() };
//! let initial = initial_ball(&[0.5, -0.5], &[0.1, 0.1], config.n_walkers, 1);
//! let chain = sample(log_prob, initial.view(), &config).unwrap();
//! assert_eq!(chain.samples.dim(), (2000, 16, 2));
//! let mean = chain.mean(500);
//! assert!(mean.iter().all(|m| m.abs() < 0.2));
//! let report = chain.diagnostics(500);
//! assert!(report.acceptance_mean > 0.2 && report.acceptance_mean < 0.9);
//! ```

use std::sync::Arc;

use ndarray::{s, Array2, Array3, ArrayView1, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

use crate::error::EstimatorError;

/// The stretch scale `a` of Goodman & Weare (2010) §3, emcee's default.
pub const GOODMAN_WEARE_STRETCH_A: f64 = 2.0;
/// The constant of Sokal's automatic window (the window is the first lag M with M >= c tau(M)), emcee's default.
pub const SOKAL_WINDOW_C: f64 = 5.0;
/// Kept steps per autocorrelation time needed to call a chain converged, emcee's `tol`.
pub const CONVERGED_STEPS_PER_TAU: f64 = 50.0;
/// The range of mean acceptance fractions of a converged chain.
pub const CONVERGED_ACCEPTANCE: (f64, f64) = (0.15, 0.7);

/// Settings of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnsembleConfig {
    /// Number of walkers: even and at least twice the number of dimensions.
    pub n_walkers: usize,
    /// Number of steps; every walker moves (or stays) once per step, and every step is stored.
    pub n_steps: usize,
    /// Stretch scale `a` > 1 (Goodman & Weare's 2 by default).
    pub stretch_a: f64,
    /// Seed of every random draw of the run.
    pub seed: u64,
}

impl Default for EnsembleConfig {
    fn default() -> Self {
        Self { n_walkers: 32, n_steps: 3000, stretch_a: GOODMAN_WEARE_STRETCH_A, seed: 0 }
    }
}

impl EnsembleConfig {
    /// Checks the settings for a problem of `n_dim` dimensions: `n_dim` >= 1, `n_walkers` even and at least
    /// `2 n_dim`, `n_steps` >= 1, `stretch_a` finite and > 1, and a chain small enough to be stored.
    pub fn check(&self, n_dim: usize) -> Result<(), EstimatorError> {
        if n_dim == 0 {
            return Err(EstimatorError::BadInput {
                name: "initial",
                expected: "at least one dimension (column)".into(),
                got: "0 columns".into(),
            });
        }
        if self.n_walkers % 2 != 0 || self.n_walkers < 2 * n_dim {
            return Err(EstimatorError::InvalidParameter {
                name: "n_walkers",
                reason: format!(
                    "must be even and at least twice the number of dimensions ({}), got {}",
                    2 * n_dim,
                    self.n_walkers
                ),
            });
        }
        if self.n_steps == 0 {
            return Err(EstimatorError::InvalidParameter { name: "n_steps", reason: "must be at least 1".into() });
        }
        if !self.stretch_a.is_finite() || self.stretch_a <= 1.0 {
            return Err(EstimatorError::InvalidParameter {
                name: "stretch_a",
                reason: format!("must be finite and greater than 1, got {}", self.stretch_a),
            });
        }
        let values = self.n_steps.checked_mul(self.n_walkers).and_then(|n| n.checked_mul(n_dim + 1));
        if values.is_none_or(|n| n > isize::MAX as usize / std::mem::size_of::<f64>()) {
            return Err(EstimatorError::InvalidParameter {
                name: "n_steps",
                reason: format!(
                    "a chain of {} steps x {} walkers x {} dimensions does not fit in memory",
                    self.n_steps, self.n_walkers, n_dim
                ),
            });
        }
        Ok(())
    }
}

/// All steps of every walker.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    /// Positions after each step, (step, walker, dim); the initial positions are not included.
    pub samples: Array3<f64>,
    /// Log-probabilities of `samples`, (step, walker).
    pub log_prob: Array2<f64>,
    /// Accepted proposals, per walker, over all steps.
    pub accepted: Vec<u64>,
}

impl Chain {
    /// Number of stored steps.
    pub fn n_steps(&self) -> usize {
        self.samples.dim().0
    }

    /// Number of walkers.
    pub fn n_walkers(&self) -> usize {
        self.samples.dim().1
    }

    /// Number of dimensions.
    pub fn n_dim(&self) -> usize {
        self.samples.dim().2
    }

    /// Fraction of accepted proposals of each walker, over all steps (burn-in included, as emcee's
    /// `acceptance_fraction`).
    pub fn acceptance_fraction(&self) -> Vec<f64> {
        let n_steps = self.n_steps().max(1) as f64;
        self.accepted.iter().map(|&a| a as f64 / n_steps).collect()
    }

    /// The samples of steps `discard + thin - 1, discard + 2 thin - 1, ...` (emcee's `get_chain(discard, thin,
    /// flat=True)`), step-major: row `i n_walkers + k` is walker `k` at the `i`-th kept step. `thin = 0` counts as
    /// 1; a `discard` past the end gives no rows.
    pub fn flat(&self, discard: usize, thin: usize) -> Array2<f64> {
        let (n_steps, n_walkers, n_dim) = self.samples.dim();
        let thin = thin.max(1);
        let first = discard.saturating_add(thin - 1);
        let steps: Vec<usize> = (first..n_steps).step_by(thin).collect();
        let mut out = Array2::zeros((steps.len() * n_walkers, n_dim));
        for (i, &step) in steps.iter().enumerate() {
            out.slice_mut(s![i * n_walkers..(i + 1) * n_walkers, ..]).assign(&self.samples.slice(s![step, .., ..]));
        }
        out
    }

    /// The integrated autocorrelation time of each dimension, in steps, over the steps after `discard`: emcee's
    /// `integrated_time(chain[discard:], c=5)`. Each walker's autocorrelation function comes from a zero-padded
    /// FFT (length twice the next power of two), normalised at lag 0; the functions are averaged over walkers,
    /// `tau(M) = 2 sum_{t<=M} rho(t) - 1`, and the estimate is `tau(M)` at the first lag with `M >= 5 tau(M)`.
    ///
    /// Two departures, for chains emcee would warn about: a walker that never moves counts as perfectly
    /// correlated (rho = 1 at every lag); when no lag reaches the window the estimate is `tau` at the last lag
    /// (emcee's `auto_window` returns lag 0 then, a tau of 1). Fewer than two kept steps give NaN.
    pub fn autocorr_time(&self, discard: usize) -> Vec<f64> {
        let (n_steps, n_walkers, n_dim) = self.samples.dim();
        let n = n_steps.saturating_sub(discard);
        if n < 2 || n_walkers == 0 {
            return vec![f64::NAN; n_dim];
        }
        let n_fft = 2 * n.next_power_of_two();
        let mut planner = FftPlanner::new();
        let forward = planner.plan_fft_forward(n_fft);
        let inverse = planner.plan_fft_inverse(n_fft);
        (0..n_dim)
            .map(|d| {
                let per_walker: Vec<Vec<f64>> = (0..n_walkers)
                    .into_par_iter()
                    .map(|k| autocorrelation(self.samples.slice(s![discard.., k, d]), &forward, &inverse))
                    .collect();
                let mut mean = vec![0.0; n];
                for rho in &per_walker {
                    mean.iter_mut().zip(rho).for_each(|(m, r)| *m += r);
                }
                mean.iter_mut().for_each(|m| *m /= n_walkers as f64);
                integrated_time(&mean, SOKAL_WINDOW_C)
            })
            .collect()
    }

    /// Mean of each dimension over the walkers and the steps after `discard` (NaN when none are kept).
    pub fn mean(&self, discard: usize) -> Vec<f64> {
        let flat = self.flat(discard, 1);
        match flat.mean_axis(Axis(0)) {
            Some(m) if flat.nrows() > 0 => m.to_vec(),
            _ => vec![f64::NAN; self.n_dim()],
        }
    }

    /// Sample covariance (ddof = 1, as `numpy.cov`) over the walkers and the steps after `discard` (NaN with
    /// fewer than two samples).
    pub fn covariance(&self, discard: usize) -> Array2<f64> {
        let flat = self.flat(discard, 1);
        let n = flat.nrows();
        let n_dim = self.n_dim();
        if n < 2 {
            return Array2::from_elem((n_dim, n_dim), f64::NAN);
        }
        let mean = self.mean(discard);
        let mut centred = flat;
        for mut row in centred.rows_mut() {
            row.iter_mut().zip(&mean).for_each(|(v, m)| *v -= m);
        }
        centred.t().dot(&centred) / (n - 1) as f64
    }

    /// Acceptance, autocorrelation times, effective sample size and the convergence verdict over the steps after
    /// `discard`.
    pub fn diagnostics(&self, discard: usize) -> Diagnostics {
        let acceptance = self.acceptance_fraction();
        let acceptance_mean = acceptance.iter().sum::<f64>() / acceptance.len().max(1) as f64;
        let acceptance_min = acceptance.iter().copied().fold(f64::INFINITY, f64::min);
        let acceptance_max = acceptance.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let autocorr_time = self.autocorr_time(discard);
        let max_tau = if autocorr_time.is_empty() || autocorr_time.iter().any(|t| t.is_nan()) {
            f64::NAN
        } else {
            autocorr_time.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        };
        let kept_steps = self.n_steps().saturating_sub(discard) as f64;
        let n_effective = kept_steps * self.n_walkers() as f64 / max_tau;
        let (low, high) = CONVERGED_ACCEPTANCE;
        let converged = kept_steps >= CONVERGED_STEPS_PER_TAU * max_tau && (low..=high).contains(&acceptance_mean);
        Diagnostics { acceptance_mean, acceptance_min, acceptance_max, autocorr_time, n_effective, converged }
    }
}

/// A summary of a chain's health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Mean over walkers of the acceptance fraction.
    pub acceptance_mean: f64,
    /// Smallest acceptance fraction of a walker.
    pub acceptance_min: f64,
    /// Largest acceptance fraction of a walker.
    pub acceptance_max: f64,
    /// Integrated autocorrelation time of each dimension, in steps ([`Chain::autocorr_time`]).
    pub autocorr_time: Vec<f64>,
    /// Kept steps times walkers over the largest autocorrelation time.
    pub n_effective: f64,
    /// True when the kept steps number at least 50 times the largest autocorrelation time (emcee's `tol = 50`;
    /// a NaN time is never converged) and the mean acceptance fraction lies in `[0.15, 0.7]`.
    pub converged: bool,
}

/// Runs the sampler from `initial` (walkers, dim); `log_prob` returns -inf outside the prior (never NaN: NaN,
/// and +inf, are treated as -inf, so such a proposal is always rejected).
///
/// Errors: [`EnsembleConfig::check`]'s, and `BadInput` naming `initial` when its number of rows is not
/// `config.n_walkers`, a coordinate is not finite, all walkers share one value in some dimension (the stretch
/// move could never leave that hyperplane), or the log-probability of an initial walker is not finite.
pub fn sample<F: Fn(&[f64]) -> f64 + Sync>(
    log_prob: F,
    initial: ArrayView2<'_, f64>,
    config: &EnsembleConfig,
) -> Result<Chain, EstimatorError> {
    let (n_walkers, n_dim) = initial.dim();
    config.check(n_dim)?;
    if n_walkers != config.n_walkers {
        return Err(EstimatorError::BadInput {
            name: "initial",
            expected: format!("{} walkers (rows, config.n_walkers) x {n_dim} dimensions", config.n_walkers),
            got: format!("{n_walkers} x {n_dim}"),
        });
    }
    if let Some(((k, d), v)) = initial.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(EstimatorError::BadInput {
            name: "initial",
            expected: "finite coordinates".into(),
            got: format!("{v} at walker {k}, dimension {d}"),
        });
    }
    for (d, column) in initial.columns().into_iter().enumerate() {
        let first = column[0];
        if column.iter().all(|&v| v == first) {
            return Err(EstimatorError::BadInput {
                name: "initial",
                expected: "walkers spread in every dimension (a degenerate ensemble never leaves its hyperplane)"
                    .into(),
                got: format!("every walker at {first} in dimension {d}"),
            });
        }
    }
    let sanitize = |lp: f64| if lp.is_nan() || lp == f64::INFINITY { f64::NEG_INFINITY } else { lp };
    let mut positions: Vec<f64> = initial.iter().copied().collect();
    let timer = std::time::Instant::now();
    let mut current_lp: Vec<f64> = positions.chunks(n_dim).map(|x| sanitize(log_prob(x))).collect::<Vec<f64>>();
    let parallel = timer.elapsed().as_secs_f64() / n_walkers as f64 >= PARALLEL_MIN_EVAL_S;
    if let Some((k, lp)) = current_lp.iter().enumerate().find(|(_, lp)| !lp.is_finite()) {
        return Err(EstimatorError::BadInput {
            name: "initial",
            expected: "a finite log_prob at every walker".into(),
            got: format!("log_prob = {lp} at walker {k}"),
        });
    }

    let a = config.stretch_a;
    let key = ChaCha8Rng::seed_from_u64(config.seed).get_seed();
    let stream = |step: usize, walker: usize| {
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream((step as u64).wrapping_mul(n_walkers as u64 + 1).wrapping_add(walker as u64));
        rng
    };
    let mut samples = Array3::zeros((config.n_steps, n_walkers, n_dim));
    let mut log_probs = Array2::zeros((config.n_steps, n_walkers));
    let mut accepted = vec![0u64; n_walkers];
    let mut halves: Vec<usize> = vec![0; n_walkers];
    for step in 0..config.n_steps {
        // emcee: inds = arange(n_walkers) % 2, shuffled.
        halves.iter_mut().enumerate().for_each(|(k, h)| *h = k % 2);
        halves.shuffle(&mut stream(step, n_walkers));
        for half in 0..2 {
            let moving: Vec<usize> = (0..n_walkers).filter(|&k| halves[k] == half).collect();
            let partners: Vec<usize> = (0..n_walkers).filter(|&k| halves[k] != half).collect();
            let propose = |&k: &usize| {
                let mut rng = stream(step, k);
                let z = ((a - 1.0) * rng.random::<f64>() + 1.0).powi(2) / a;
                let j = partners[rng.random_range(0..partners.len())];
                let x = &positions[k * n_dim..(k + 1) * n_dim];
                let x_j = &positions[j * n_dim..(j + 1) * n_dim];
                let y: Vec<f64> = x.iter().zip(x_j).map(|(xk, xj)| xj + z * (xk - xj)).collect();
                let lp_y = sanitize(log_prob(&y));
                let ln_ratio = (n_dim as f64 - 1.0) * z.ln() + lp_y - current_lp[k];
                let accept = ln_ratio > rng.random::<f64>().ln();
                (k, accept.then_some((y, lp_y)))
            };
            let moves: Vec<_> =
                if parallel { moving.par_iter().map(propose).collect() } else { moving.iter().map(propose).collect() };
            for (k, m) in moves {
                if let Some((y, lp_y)) = m {
                    positions[k * n_dim..(k + 1) * n_dim].copy_from_slice(&y);
                    current_lp[k] = lp_y;
                    accepted[k] += 1;
                }
            }
        }
        samples.slice_mut(s![step, .., ..]).iter_mut().zip(&positions).for_each(|(dst, x)| *dst = *x);
        log_probs.row_mut(step).iter_mut().zip(&current_lp).for_each(|(dst, lp)| *dst = *lp);
    }
    Ok(Chain { samples, log_prob: log_probs, accepted })
}

/// The cost of one density evaluation, s, from which a half-ensemble's proposals are evaluated in parallel.
pub const PARALLEL_MIN_EVAL_S: f64 = 20e-6;

/// A Gaussian ball of walkers around `centre` with per-dimension `scale`, seeded: `centre[d] + scale[d] N(0, 1)`,
/// (walkers, dim). A `scale` shorter than `centre` repeats its last value (one value serves every dimension); an
/// empty `scale` puts every walker at `centre`, which [`sample`] rejects as degenerate.
pub fn initial_ball(centre: &[f64], scale: &[f64], n_walkers: usize, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((n_walkers, centre.len()), |(_, d)| {
        let sd = scale.get(d).or(scale.last()).copied().unwrap_or(0.0);
        centre[d] + sd * rng.sample::<f64, _>(StandardNormal)
    })
}

/// The autocorrelation function of one walker's series (emcee's `function_1d`), normalised at lag 0; a constant
/// series is perfectly correlated.
fn autocorrelation(x: ArrayView1<'_, f64>, forward: &Arc<dyn Fft<f64>>, inverse: &Arc<dyn Fft<f64>>) -> Vec<f64> {
    let n = x.len();
    let mean = x.sum() / n as f64;
    let mut buffer = vec![Complex::new(0.0, 0.0); forward.len()];
    buffer.iter_mut().zip(x.iter()).for_each(|(b, v)| b.re = v - mean);
    forward.process(&mut buffer);
    buffer.iter_mut().for_each(|c| *c = Complex::new(c.norm_sqr(), 0.0));
    inverse.process(&mut buffer);
    let lag0 = buffer[0].re;
    if lag0 > 0.0 {
        buffer[..n].iter().map(|c| c.re / lag0).collect()
    } else {
        vec![1.0; n]
    }
}

/// `tau(M) = 2 sum_{t<=M} rho(t) - 1` at the first lag with `M >= c tau(M)` (Sokal's window), or at the last lag.
fn integrated_time(rho: &[f64], c: f64) -> f64 {
    let mut sum = 0.0;
    let mut tau = f64::NAN;
    for (lag, r) in rho.iter().enumerate() {
        sum += r;
        tau = 2.0 * sum - 1.0;
        if lag as f64 >= c * tau {
            return tau;
        }
    }
    tau
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    const MEANS: [f64; 3] = [1.0, -2.0, 0.5];
    const SDS: [f64; 3] = [1.0, 0.5, 2.0];

    /// Covariance of the 3-D test Gaussian: correlations 0.8 (0, 1), -0.4 (0, 2), -0.3 (1, 2). (With +0.3 for
    /// (1, 2) the correlation matrix would not be positive definite: its determinant would be -0.082.)
    fn test_covariance() -> Array2<f64> {
        let corr = array![[1.0, 0.8, -0.4], [0.8, 1.0, -0.3], [-0.4, -0.3, 1.0]];
        Array2::from_shape_fn((3, 3), |(i, j)| corr[[i, j]] * SDS[i] * SDS[j])
    }

    /// The inverse of a symmetric positive definite 3x3 matrix (cofactors).
    fn inverse_3x3(m: &Array2<f64>) -> Array2<f64> {
        let c = |i: usize, j: usize| {
            let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
            let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
            m[[r0, c0]] * m[[r1, c1]] - m[[r0, c1]] * m[[r1, c0]]
        };
        let det = m[[0, 0]] * c(0, 0) + m[[0, 1]] * c(0, 1) + m[[0, 2]] * c(0, 2);
        assert!(det > 0.0 && c(0, 0) > 0.0 && m[[0, 0]] > 0.0, "not positive definite");
        Array2::from_shape_fn((3, 3), |(i, j)| c(j, i) / det)
    }

    fn gaussian_log_prob(precision: &Array2<f64>) -> impl Fn(&[f64]) -> f64 + Sync + '_ {
        move |x: &[f64]| {
            let r: Vec<f64> = x.iter().zip(MEANS).map(|(v, m)| v - m).collect();
            let mut q = 0.0;
            for i in 0..3 {
                for j in 0..3 {
                    q += r[i] * precision[[i, j]] * r[j];
                }
            }
            -0.5 * q
        }
    }

    fn standard_normal(x: &[f64]) -> f64 {
        -0.5 * x.iter().map(|v| v * v).sum::<f64>()
    }

    /// Checks a chain of the 3-D Gaussian against its moments: means within `tol` sd, covariance entries within
    /// `tol` sd_i sd_j.
    fn assert_moments(chain: &Chain, discard: usize, tol: f64) {
        let cov = test_covariance();
        let mean = chain.mean(discard);
        let sample_cov = chain.covariance(discard);
        for i in 0..3 {
            assert!((mean[i] - MEANS[i]).abs() / SDS[i] < tol, "mean {i}: {} vs {}", mean[i], MEANS[i]);
            for j in 0..3 {
                let scaled = (sample_cov[[i, j]] - cov[[i, j]]) / (SDS[i] * SDS[j]);
                assert!(scaled.abs() < tol, "cov {i}{j}: {} vs {}", sample_cov[[i, j]], cov[[i, j]]);
            }
        }
    }

    #[test]
    fn correlated_gaussian_moments_recovered() {
        let precision = inverse_3x3(&test_covariance());
        let config = EnsembleConfig { n_walkers: 32, n_steps: 20_000, seed: 7, ..EnsembleConfig::default() };
        let initial = initial_ball(&[0.0, 0.0, 0.0], &[0.5, 0.5, 0.5], 32, 3);
        let chain = sample(gaussian_log_prob(&precision), initial.view(), &config).unwrap();
        let report = chain.diagnostics(1000);
        assert!(report.converged, "{report:?}");
        assert_moments(&chain, 1000, 0.03);
    }

    /// emcee 3.1.6 on standard normals, 24 walkers, 5000 steps, mean of 4 seeds (sd of one run's mean
    /// acceptance about 0.002): 0.646 in 3 dimensions, 0.517 in 6. The stretch move is affine invariant, so the
    /// correlated 3-D Gaussian accepts as the standard one does.
    #[test]
    fn acceptance_fraction_sane_on_gaussian() {
        let precision = inverse_3x3(&test_covariance());
        let config = EnsembleConfig { n_walkers: 24, n_steps: 3000, seed: 11, ..EnsembleConfig::default() };
        let chain = sample(gaussian_log_prob(&precision), initial_ball(&MEANS, &SDS, 24, 5).view(), &config).unwrap();
        let report = chain.diagnostics(300);
        assert!((report.acceptance_mean - 0.646).abs() < 0.015, "{report:?}");
        assert!(report.acceptance_min > 0.5 && report.acceptance_max < 0.8, "{report:?}");
        assert_eq!(chain.acceptance_fraction().len(), 24);
        let n = 3000.0 * report.acceptance_mean * 24.0;
        assert_abs_diff_eq!(chain.accepted.iter().sum::<u64>() as f64, n, epsilon = 1e-6);

        let chain = sample(standard_normal, initial_ball(&[0.0; 6], &[1.0], 24, 6).view(), &config).unwrap();
        let report = chain.diagnostics(300);
        assert!(report.acceptance_mean > 0.2 && report.acceptance_mean < 0.6, "{report:?}");
        assert!((report.acceptance_mean - 0.517).abs() < 0.015, "{report:?}");
    }

    #[test]
    fn ar1_autocorr_time_matches_theory() {
        let (n_steps, n_walkers, rho) = (20_000, 32, 0.8);
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut samples = Array3::zeros((n_steps, n_walkers, 2));
        let innovation_sd = (1.0f64 - rho * rho).sqrt();
        for k in 0..n_walkers {
            let mut x = rng.sample::<f64, _>(StandardNormal);
            for step in 0..n_steps {
                x = rho * x + innovation_sd * rng.sample::<f64, _>(StandardNormal);
                samples[[step, k, 0]] = x;
                samples[[step, k, 1]] = rng.sample::<f64, _>(StandardNormal);
            }
        }
        let chain = Chain { samples, log_prob: Array2::zeros((n_steps, n_walkers)), accepted: vec![0; n_walkers] };
        let tau = chain.autocorr_time(0);
        let expected = (1.0 + rho) / (1.0 - rho);
        assert!((tau[0] - expected).abs() < 0.1 * expected, "AR(1) tau {} vs {expected}", tau[0]);
        assert!((tau[1] - 1.0).abs() < 0.1, "white noise tau {}", tau[1]);
    }

    #[test]
    fn integrated_time_window_and_fallback() {
        // rho = 1 at every lag: tau(M) = 2M + 1 never meets M >= 5 tau, so the last lag's tau is returned.
        assert_abs_diff_eq!(integrated_time(&[1.0; 10], 5.0), 19.0);
        // rho = 1, 0, 0, ...: tau = 1 from lag 0, the window closes at lag 5.
        let mut rho = vec![0.0; 10];
        rho[0] = 1.0;
        assert_abs_diff_eq!(integrated_time(&rho, 5.0), 1.0);
        // A stuck walker is perfectly correlated; fewer than two steps give NaN.
        let chain =
            Chain { samples: Array3::from_elem((8, 2, 1), 3.0), log_prob: Array2::zeros((8, 2)), accepted: vec![0; 2] };
        assert_abs_diff_eq!(chain.autocorr_time(0)[0], 15.0);
        assert!(chain.autocorr_time(7)[0].is_nan());
        assert!(!chain.diagnostics(7).converged);
    }

    #[test]
    fn same_seed_same_chain_in_any_thread_pool() {
        let config = EnsembleConfig { n_walkers: 10, n_steps: 300, seed: 99, ..EnsembleConfig::default() };
        let initial = initial_ball(&[0.0, 1.0], &[1.0, 0.5], 10, 4);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| sample(standard_normal, initial.view(), &config).unwrap())
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(4));
        assert_eq!(one, sample(standard_normal, initial.view(), &config).unwrap());
        let other = sample(standard_normal, initial.view(), &EnsembleConfig { seed: 100, ..config.clone() }).unwrap();
        assert_ne!(one.samples, other.samples);
        assert_eq!(initial, initial_ball(&[0.0, 1.0], &[1.0, 0.5], 10, 4));
        // A density slow enough to be evaluated in parallel gives the same chain.
        let slow = |x: &[f64]| {
            std::thread::sleep(std::time::Duration::from_secs_f64(2.0 * PARALLEL_MIN_EVAL_S));
            standard_normal(x)
        };
        let short = EnsembleConfig { n_steps: 40, ..config.clone() };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let parallel = pool.install(|| sample(slow, initial.view(), &short).unwrap());
        assert_eq!(parallel, sample(standard_normal, initial.view(), &short).unwrap());
    }

    #[test]
    fn nan_log_prob_is_outside_the_support() {
        // A unit box, with NaN outside: no walker may leave it.
        let boxed = |x: &[f64]| if x.iter().all(|v| (0.0..=1.0).contains(v)) { 0.0 } else { f64::NAN };
        let config = EnsembleConfig { n_walkers: 8, n_steps: 500, seed: 1, ..EnsembleConfig::default() };
        let initial = initial_ball(&[0.5, 0.5], &[0.1, 0.1], 8, 2);
        let chain = sample(boxed, initial.view(), &config).unwrap();
        assert!(chain.samples.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!(chain.log_prob.iter().all(|lp| *lp == 0.0));
        // Uniform on the box: mean 0.5, variance 1/12.
        let mean = chain.mean(100);
        assert!(mean.iter().all(|m| (m - 0.5).abs() < 0.05), "{mean:?}");
    }

    #[test]
    fn flat_mean_and_covariance_follow_emcee_layout() {
        let samples = Array3::from_shape_fn((5, 2, 2), |(step, k, d)| (100 * step + 10 * k + d) as f64);
        let chain = Chain { samples, log_prob: Array2::zeros((5, 2)), accepted: vec![2, 4] };
        assert_eq!((chain.n_steps(), chain.n_walkers(), chain.n_dim()), (5, 2, 2));
        assert_eq!(chain.acceptance_fraction(), vec![0.4, 0.8]);
        // emcee: chain[discard + thin - 1::thin], step-major.
        assert_eq!(chain.flat(1, 2), array![[200.0, 201.0], [210.0, 211.0], [400.0, 401.0], [410.0, 411.0]]);
        assert_eq!(chain.flat(0, 0).nrows(), 10);
        assert_eq!(chain.flat(9, 1).nrows(), 0);
        assert_eq!(chain.mean(3), vec![355.0, 356.0]);
        // Kept: steps 3 and 4 of both walkers; x1 = x0 + 1, so every covariance entry is var(x0).
        let values = [300.0, 310.0, 400.0, 410.0];
        let m = values.iter().sum::<f64>() / 4.0;
        let var = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / 3.0;
        let cov = chain.covariance(3);
        for v in cov.iter() {
            assert_abs_diff_eq!(*v, var, epsilon = 1e-9);
        }
        assert!(chain.mean(5).iter().all(|m| m.is_nan()));
        assert!(chain.covariance(5).iter().all(|c| c.is_nan()));
    }

    #[test]
    fn invalid_inputs_are_rejected() {
        let config = EnsembleConfig { n_walkers: 6, n_steps: 10, ..EnsembleConfig::default() };
        let initial = initial_ball(&[0.0, 0.0], &[1.0], 6, 0);
        assert!(sample(standard_normal, initial.view(), &config).is_ok());

        let not_finite = |x: &[f64]| if x[0] > 0.0 { f64::NEG_INFINITY } else { standard_normal(x) };
        let err = sample(not_finite, initial.view(), &config).unwrap_err();
        assert!(matches!(err, EstimatorError::BadInput { name: "initial", .. }), "{err}");
        let err = sample(|_: &[f64]| f64::NAN, initial.view(), &config).unwrap_err();
        assert!(matches!(err, EstimatorError::BadInput { name: "initial", .. }), "{err}");

        let odd = EnsembleConfig { n_walkers: 5, ..config.clone() };
        let err = sample(standard_normal, initial_ball(&[0.0, 0.0], &[1.0], 5, 0).view(), &odd).unwrap_err();
        assert!(matches!(err, EstimatorError::InvalidParameter { name: "n_walkers", .. }), "{err}");
        let too_few = EnsembleConfig { n_walkers: 4, ..config.clone() };
        assert!(too_few.check(3).is_err() && too_few.check(2).is_ok());

        let err = sample(standard_normal, initial_ball(&[0.0, 0.0], &[1.0], 8, 0).view(), &config).unwrap_err();
        assert!(matches!(err, EstimatorError::BadInput { name: "initial", .. }), "{err}");
        let err = sample(standard_normal, Array2::<f64>::zeros((6, 0)).view(), &config).unwrap_err();
        assert!(matches!(err, EstimatorError::BadInput { name: "initial", .. }), "{err}");

        let mut degenerate = initial.clone();
        degenerate.column_mut(1).fill(2.0);
        let err = sample(standard_normal, degenerate.view(), &config).unwrap_err();
        assert!(matches!(err, EstimatorError::BadInput { name: "initial", .. }), "{err}");
        let mut with_nan = initial.clone();
        with_nan[[3, 0]] = f64::NAN;
        assert!(sample(standard_normal, with_nan.view(), &config).is_err());

        for (field, bad) in [
            ("n_steps", EnsembleConfig { n_steps: 0, ..config.clone() }),
            ("stretch_a", EnsembleConfig { stretch_a: 1.0, ..config.clone() }),
            ("stretch_a", EnsembleConfig { stretch_a: f64::NAN, ..config.clone() }),
            ("n_steps", EnsembleConfig { n_steps: usize::MAX / 2, ..config.clone() }),
        ] {
            let err = bad.check(2).unwrap_err();
            assert!(matches!(err, EstimatorError::InvalidParameter { name, .. } if name == field), "{err}");
        }
    }

    #[test]
    fn config_serde_round_trip_and_defaults() {
        let config: EnsembleConfig = serde_json::from_str(r#"{"n_walkers": 64, "seed": 3}"#).unwrap();
        assert_eq!(config, EnsembleConfig { n_walkers: 64, seed: 3, ..EnsembleConfig::default() });
        assert_eq!((config.n_steps, config.stretch_a), (3000, 2.0));
        assert!(serde_json::from_str::<EnsembleConfig>(r#"{"walkers": 64}"#).is_err());
        let text = serde_json::to_string(&config).unwrap();
        assert_eq!(serde_json::from_str::<EnsembleConfig>(&text).unwrap(), config);
    }
}
