//! TARP expected coverage probability (Lemos et al. 2023) and per-dimension marginal coverage.
//!
//! For simulation `j` with posterior samples `x_ij`, truth `theta_j` and a reference point `r_j`, TARP counts the
//! fraction of samples closer to the reference than the truth,
//! `f_j = #{i : d(r_j, x_ij) < d(r_j, theta_j)} / n_samples` (strict `<`), and the expected coverage probability
//! `ECP(alpha)` is the fraction of simulations with `f_j < alpha`, read off a cumulative histogram of `f`. A
//! calibrated posterior gives `ECP(alpha) = alpha`.
//!
//! [`tarp_coverage`] reproduces the `tarp` package v0.1.1 (`get_tarp_coverage(..., bootstrap=False)`) to the last
//! bit when asked to ([`TarpParams::TARP_PACKAGE`] with given references; checked against the package by
//! `tests/tarp_package.rs`, data from `scripts/tarp_compare.py`):
//!
//! - normalisation (`norm`): per dimension, `low`/`high` are the min/max of the truths over simulations and every
//!   sample and truth becomes `(x - low) / (high - low + 1e-10)`;
//! - references: given `(n_sims, n_dims)`, or drawn uniform in `[0, 1]^d` (in the normalised space when `norm`); we
//!   draw them from a seeded ChaCha8 generator, so random references differ from numpy's;
//! - distances: euclidean or manhattan, with the coordinate sum done in numpy's pairwise order;
//! - the histogram: `np.histogram(f, bins=num_alpha_bins, density=True)` with `num_alpha_bins = n_sims // 10` by
//!   default, `ECP = concat([0], cumsum(h) * dx)` and `alpha` the bin edges.
//!
//! **The histogram range is a choice** ([`HistogramRange`]). The package gives numpy no `range`, so its bins span
//! `[min f, max f]`: `alpha` then starts at the smallest `f` rather than 0 and ends at the largest rather than 1, and
//! the curve is stretched horizontally whenever no `f` reaches 0 or 1 (typical of over-dispersed posteriors, or of
//! few simulations). The paper defines ECP on credibility levels in `[0, 1]`, so the default is
//! [`HistogramRange::UnitInterval`], which passes `range=(0, 1)`; [`HistogramRange::PackageCompatible`] reproduces
//! the package. Both coincide when the `f` reach 0 and 1.
//!
//! **Bootstrap.** [`tarp_coverage_bootstrap`] resamples simulations with replacement (each replicate draws `n_sims`
//! simulations, keeping each one's `f_j`, so references and the normalisation stay those of the full set) and
//! histograms the replicate on the same bin edges as the point estimate. It returns the mean and a percentile band
//! per `alpha`. The package's `bootstrap=True` is not a bootstrap: each of its iterations overwrites *one* random
//! simulation with another in place, cumulatively (after `k` iterations the set has had `k` single replacements,
//! and the caller's arrays are modified), so its spread grows with the iteration count instead of measuring the
//! sampling error. Measured on 300 calibrated simulations (the set-up below), its 95% spread of `ECP(0.5)` is
//! +-0.010 after its default 100 iterations and +-0.047 after 1000, against +-0.057 for a real bootstrap (and the
//! binomial `1.96 sqrt(0.25 / 300)`). We do not reproduce it.
//!
//! **What miscalibration looks like** (measured by the tests below: 300 simulations, 500 samples, 2 dimensions,
//! posterior centres `m_j ~ N(0, 1)`, truths `N(m_j, 0.3^2)`, normalised, references uniform in the unit square,
//! 30 bins on `[0, 1]`, 1000 bootstrap replicates at 95%):
//!
//! - exact posteriors (samples `N(m_j, 0.3^2)`): the diagonal lies inside the band at every `alpha`; the band's
//!   half-width peaks at 0.057 near `alpha = 0.5` (the binomial `1.96 sqrt(0.25 / 300)`) and shrinks to 0 at the
//!   ends; `max |ECP - alpha|` is 0.053.
//! - over-narrow posteriors (samples `N(m_j, 0.15^2)`, half the right width): `f` piles up at both ends (15% of
//!   simulations below 0.05 and 26% above 0.95, against 5% each when calibrated), so the curve is a **mirrored,
//!   lopsided S**: above the diagonal at small `alpha` (by up to 0.10; `ECP(0.1) = 0.20`), crossing it near
//!   `alpha = 0.37`, then below it with the largest deficit, 0.23, near `alpha = 0.85` (`ECP(0.9) = 0.68`), before
//!   the jump to 1 in the last bin. 21 of the 31 levels fall outside the band; `max |ECP - alpha|` is four times the
//!   band's half-width. The lopsidedness is geometric: with one dimension the two tails are equal (20% each at
//!   1000 simulations), with two the top one is larger (18% below 0.05, 23% above 0.95), as the truth's larger
//!   spread across the line to the reference puts it farther from the reference than most samples. The deficit at
//!   high `alpha` matches sarrato2025's description of its FIRE posteriors ("increasing overconfidence as the
//!   credibility level rises"). Over-narrow posteriors therefore do not lie below the diagonal everywhere in TARP,
//!   as they do in [`marginal_coverage`] (there 0.59 instead of 0.9 at `alpha = 0.9`, the Gaussian value
//!   `P(|z| < 1.645 / 2)`).
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_metrics::tarp::{tarp_coverage, References, TarpParams};
//! use ndarray::{Array2, Array3};
//! // 20 simulations, 50 samples, 1 dimension: samples spread evenly around each truth.
//! let theta = Array2::from_shape_fn((20, 1), |(j, _)| j as f64);
//! let samples = Array3::from_shape_fn((50, 20, 1), |(i, j, _)| j as f64 + (i as f64 - 24.5) / 10.0);
//! let params = TarpParams::default().check().unwrap();
//! let coverage = tarp_coverage(samples.view(), theta.view(), References::UniformRandom { seed: 1 }, &params).unwrap();
//! assert_eq!(coverage.alpha.len(), 3); // 20 // 10 = 2 bins
//! assert_eq!(coverage.ecp[0], 0.0);
//! assert!((coverage.ecp[2] - 1.0).abs() < 1e-12);
//! ```

use galmass_core::params::Params;
use galmass_core::stats::{percentile_sorted, sort_finite};
use ndarray::{Array2, ArrayView2, ArrayView3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::binned::{histogram_uniform, uniform_bin_index};
use crate::bootstrap::{summarise, BootstrapValidParams};
use crate::check;
use crate::MetricsError;

/// Distance between a reference point and a sample or truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DistanceMetric {
    /// `sqrt(sum (r - x)^2)`, the package's default.
    #[default]
    Euclidean,
    /// `sum |r - x|`.
    Manhattan,
}

/// The range of the histogram of `f` from which ECP is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistogramRange {
    /// `[0, 1]`, the paper's definition: `alpha` runs over all credibility levels whatever the `f` are.
    #[default]
    UnitInterval,
    /// `[min f, max f]` (widened by 0.5 each side when all `f` are equal), as `tarp` 0.1.1 calls `np.histogram`.
    PackageCompatible,
}

/// TARP settings (serde, unknown fields rejected, missing fields take the defaults); [`Params::check`] them into
/// [`TarpValidParams`] before use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TarpParams {
    /// Distance metric.
    pub metric: DistanceMetric,
    /// Normalise samples and truths per dimension by the truths' min/max over simulations. Default `true`, as the
    /// paper's procedure (and our methods reference) does; the package's `get_tarp_coverage` defaults to `false`,
    /// which leaves references in `[0, 1]^d` of the raw parameter space.
    pub norm: bool,
    /// Number of histogram bins; `None` means `n_sims / 10` (the package's default), which needs 10 simulations.
    pub num_alpha_bins: Option<usize>,
    /// Histogram range; default [`HistogramRange::UnitInterval`].
    pub histogram_range: HistogramRange,
}

impl Default for TarpParams {
    fn default() -> Self {
        Self {
            metric: DistanceMetric::Euclidean,
            norm: true,
            num_alpha_bins: None,
            histogram_range: HistogramRange::UnitInterval,
        }
    }
}

impl TarpParams {
    /// The defaults of `tarp.get_tarp_coverage` v0.1.1: euclidean, no normalisation, `n_sims // 10` bins over
    /// `[min f, max f]`.
    pub const TARP_PACKAGE: Self = Self {
        metric: DistanceMetric::Euclidean,
        norm: false,
        num_alpha_bins: None,
        histogram_range: HistogramRange::PackageCompatible,
    };
}

impl Params for TarpParams {
    type Valid = TarpValidParams;
    type Error = MetricsError;

    /// Validates the settings (`num_alpha_bins`, when given, is at least 1).
    fn check(&self) -> Result<TarpValidParams, MetricsError> {
        if self.num_alpha_bins == Some(0) {
            return Err(MetricsError::invalid("num_alpha_bins", "at least 1 bin", 0));
        }
        Ok(TarpValidParams(*self))
    }
}

/// Checked [`TarpParams`]; the only form the TARP functions accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TarpValidParams(TarpParams);

impl TarpValidParams {
    /// The checked settings.
    pub fn params(&self) -> &TarpParams {
        &self.0
    }
}

/// Where the reference points come from.
#[derive(Debug, Clone, Copy)]
pub enum References<'a> {
    /// Given points, `(n_sims, n_dims)`, in the (normalised, when `norm`) parameter space.
    Given(ArrayView2<'a, f64>),
    /// Uniform in `[0, 1)^d` from a ChaCha8 generator with this seed, drawn row by row.
    UniformRandom {
        /// Seed of the generator.
        seed: u64,
    },
}

/// The TARP curve of one set of simulations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TarpCoverage {
    /// Credibility levels: the `n_bins + 1` histogram edges.
    pub alpha: Vec<f64>,
    /// Expected coverage probability at each `alpha` (starts at 0, ends at 1).
    pub ecp: Vec<f64>,
    /// `f_j`, the fraction of samples closer to the reference than the truth, per simulation.
    pub credibility: Vec<f64>,
}

impl TarpCoverage {
    /// `max |ECP(alpha) - alpha|` over the grid (sarrato2025 reports coverage "within 3%").
    pub fn max_abs_deviation(&self) -> f64 {
        max_abs_deviation(&self.alpha, &self.ecp)
    }
}

/// The TARP curve with a bootstrap band over simulations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TarpBands {
    /// Credibility levels (shared by every replicate).
    pub alpha: Vec<f64>,
    /// ECP of the full set.
    pub ecp: Vec<f64>,
    /// Mean ECP over replicates.
    pub ecp_mean: Vec<f64>,
    /// Lower percentile of the replicates' ECP per `alpha`.
    pub ecp_low: Vec<f64>,
    /// Upper percentile of the replicates' ECP per `alpha`.
    pub ecp_high: Vec<f64>,
    /// `f_j` per simulation.
    pub credibility: Vec<f64>,
}

impl TarpBands {
    /// `max |ECP(alpha) - alpha|` of the full set.
    pub fn max_abs_deviation(&self) -> f64 {
        max_abs_deviation(&self.alpha, &self.ecp)
    }
    /// The widest half-band, `max (ecp_high - ecp_low) / 2`.
    pub fn max_half_width(&self) -> f64 {
        self.ecp_low.iter().zip(&self.ecp_high).map(|(l, h)| (h - l) / 2.0).fold(0.0, f64::max)
    }
    /// The number of levels at which the diagonal `ECP = alpha` lies outside the band. A band edge that equals
    /// `alpha` up to rounding (within 1e-9; ECP values are multiples of `1 / n_sims`) counts as inside.
    pub fn levels_outside(&self) -> usize {
        self.alpha
            .iter()
            .zip(self.ecp_low.iter().zip(&self.ecp_high))
            .filter(|(a, (l, h))| !(**l - 1e-9 <= **a && **a <= **h + 1e-9))
            .count()
    }

    /// Whether the diagonal lies inside the band at every `alpha` ([`levels_outside`](Self::levels_outside) is 0).
    pub fn diagonal_inside(&self) -> bool {
        self.levels_outside() == 0
    }
}

/// TARP coverage of posterior `samples` `(n_samples, n_sims, n_dims)` against truths `theta` `(n_sims, n_dims)`.
pub fn tarp_coverage(
    samples: ArrayView3<'_, f64>,
    theta: ArrayView2<'_, f64>,
    references: References<'_>,
    params: &TarpValidParams,
) -> Result<TarpCoverage, MetricsError> {
    let credibility = credibility_fractions(samples, theta, references, params)?;
    let n_bins = resolve_bins(params, credibility.len())?;
    let hist = histogram_uniform(&credibility, n_bins, histogram_range(params))?;
    let ecp = ecp_from_counts(&hist.counts, &hist.edges);
    Ok(TarpCoverage { alpha: hist.edges, ecp, credibility })
}

/// [`tarp_coverage`] with a bootstrap band: simulations resampled with replacement, each replicate histogrammed on
/// the full set's bin edges; band percentiles `(1 -+ confidence) / 2`.
pub fn tarp_coverage_bootstrap(
    samples: ArrayView3<'_, f64>,
    theta: ArrayView2<'_, f64>,
    references: References<'_>,
    params: &TarpValidParams,
    bootstrap: &BootstrapValidParams,
) -> Result<TarpBands, MetricsError> {
    let full = tarp_coverage(samples, theta, references, params)?;
    let n_sims = full.credibility.len();
    let n_bins = full.alpha.len() - 1;
    let bins: Vec<Option<usize>> = full.credibility.iter().map(|f| uniform_bin_index(*f, &full.alpha)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(bootstrap.seed());
    let mut per_alpha: Vec<Vec<f64>> = vec![Vec::with_capacity(bootstrap.n_bootstrap()); n_bins + 1];
    let mut counts = vec![0u64; n_bins];
    for _ in 0..bootstrap.n_bootstrap() {
        counts.iter_mut().for_each(|c| *c = 0);
        for _ in 0..n_sims {
            if let Some(b) = bins[rng.random_range(0..n_sims)] {
                counts[b] += 1;
            }
        }
        for (k, e) in ecp_from_counts(&counts, &full.alpha).into_iter().enumerate() {
            per_alpha[k].push(e);
        }
    }
    let (mut ecp_mean, mut ecp_low, mut ecp_high) = (Vec::new(), Vec::new(), Vec::new());
    for reps in per_alpha {
        let (m, l, h) = summarise(reps, bootstrap);
        ecp_mean.push(m);
        ecp_low.push(l);
        ecp_high.push(h);
    }
    Ok(TarpBands { alpha: full.alpha, ecp: full.ecp, ecp_mean, ecp_low, ecp_high, credibility: full.credibility })
}

/// `f_j` per simulation: the fraction of samples strictly closer to the reference point than the truth, after the
/// optional normalisation, exactly as `tarp` 0.1.1 computes it.
pub fn credibility_fractions(
    samples: ArrayView3<'_, f64>,
    theta: ArrayView2<'_, f64>,
    references: References<'_>,
    params: &TarpValidParams,
) -> Result<Vec<f64>, MetricsError> {
    let (n_samples, n_sims, n_dims) = check_posterior_shapes(samples, theta)?;
    let p = params.params();

    // Normalisation: (x - low) / (high - low + 1e-10), as the package writes it.
    let (low, scale): (Vec<f64>, Vec<f64>) = (0..n_dims)
        .map(|d| {
            let col = theta.column(d);
            let low = col.iter().copied().fold(f64::INFINITY, f64::min);
            let high = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (low, high - low + 1e-10)
        })
        .unzip();
    let norm = p.norm;
    let normalise = |x: f64, d: usize| if norm { (x - low[d]) / scale[d] } else { x };

    let refs: Array2<f64> = match references {
        References::Given(r) => {
            check::shape("references", r.shape(), &[n_sims, n_dims])?;
            check::finite_array("references", &r)?;
            r.to_owned()
        }
        References::UniformRandom { seed } => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            Array2::from_shape_simple_fn((n_sims, n_dims), || rng.random::<f64>())
        }
    };

    let metric = p.metric;
    let term = |diff: f64| match metric {
        DistanceMetric::Euclidean => diff * diff,
        DistanceMetric::Manhattan => diff.abs(),
    };
    let finish = |sum: f64| match metric {
        DistanceMetric::Euclidean => sum.sqrt(),
        DistanceMetric::Manhattan => sum,
    };

    let mut terms = vec![0.0; n_dims];
    let mut f = Vec::with_capacity(n_sims);
    for j in 0..n_sims {
        let r = refs.row(j);
        for d in 0..n_dims {
            terms[d] = term(r[d] - normalise(theta[[j, d]], d));
        }
        let theta_distance = finish(numpy_pairwise_sum(&terms));
        let mut closer = 0usize;
        for i in 0..n_samples {
            for d in 0..n_dims {
                terms[d] = term(r[d] - normalise(samples[[i, j, d]], d));
            }
            if finish(numpy_pairwise_sum(&terms)) < theta_distance {
                closer += 1;
            }
        }
        f.push(closer as f64 / n_samples as f64);
    }
    Ok(f)
}

/// Per dimension and credibility level `alpha`, the fraction of simulations whose truth lies inside the central
/// `alpha` interval of that dimension's marginal samples: `[P((1 - alpha)/2), P((1 + alpha)/2)]`, both ends
/// included, percentiles with numpy's linear interpolation. Returns `(n_dims, n_levels)`; a calibrated posterior
/// gives `coverage[[d, k]] ~ credibility_levels[k]`, an over-narrow one less.
pub fn marginal_coverage(
    samples: ArrayView3<'_, f64>,
    theta: ArrayView2<'_, f64>,
    credibility_levels: &[f64],
) -> Result<Array2<f64>, MetricsError> {
    let (n_samples, n_sims, n_dims) = check_posterior_shapes(samples, theta)?;
    check::at_least("credibility_levels", credibility_levels.len(), 1)?;
    check::finite("credibility_levels", credibility_levels)?;
    if let Some(bad) = credibility_levels.iter().find(|a| !(0.0..=1.0).contains(*a)) {
        return Err(MetricsError::invalid("credibility_levels", "values in [0, 1]", bad));
    }
    let quantiles: Vec<(f64, f64)> = credibility_levels.iter().map(|a| (50.0 * (1.0 - a), 50.0 * (1.0 + a))).collect();
    let mut inside = Array2::<usize>::zeros((n_dims, credibility_levels.len()));
    let mut marginal = Vec::with_capacity(n_samples);
    for j in 0..n_sims {
        for d in 0..n_dims {
            marginal.clear();
            marginal.extend(samples.slice(ndarray::s![.., j, d]).iter().copied());
            if sort_finite(&mut marginal).is_none() {
                continue; // unreachable: samples were checked finite
            }
            let t = theta[[j, d]];
            for (k, (q_low, q_high)) in quantiles.iter().enumerate() {
                let low = percentile_sorted(&marginal, *q_low).unwrap_or(f64::NAN);
                let high = percentile_sorted(&marginal, *q_high).unwrap_or(f64::NAN);
                if low <= t && t <= high {
                    inside[[d, k]] += 1;
                }
            }
        }
    }
    Ok(inside.mapv(|c| c as f64 / n_sims as f64))
}

/// Checks `samples` `(n_samples, n_sims, n_dims)` and `theta` `(n_sims, n_dims)`: non-empty, matching, finite.
fn check_posterior_shapes(
    samples: ArrayView3<'_, f64>,
    theta: ArrayView2<'_, f64>,
) -> Result<(usize, usize, usize), MetricsError> {
    let (n_samples, n_sims, n_dims) = samples.dim();
    check::at_least("samples (axis 0, samples per simulation)", n_samples, 1)?;
    check::at_least("samples (axis 1, simulations)", n_sims, 1)?;
    check::at_least("samples (axis 2, dimensions)", n_dims, 1)?;
    check::shape("theta", theta.shape(), &[n_sims, n_dims])?;
    check::finite_array("samples", &samples)?;
    check::finite_array("theta", &theta)?;
    Ok((n_samples, n_sims, n_dims))
}

fn resolve_bins(params: &TarpValidParams, n_sims: usize) -> Result<usize, MetricsError> {
    match params.params().num_alpha_bins {
        Some(n) => Ok(n),
        None if n_sims >= 10 => Ok(n_sims / 10),
        None => Err(MetricsError::invalid(
            "num_alpha_bins",
            "an explicit bin count when there are fewer than 10 simulations (the default is n_sims / 10)",
            format!("none with {n_sims} simulations"),
        )),
    }
}

fn histogram_range(params: &TarpValidParams) -> Option<(f64, f64)> {
    match params.params().histogram_range {
        HistogramRange::UnitInterval => Some((0.0, 1.0)),
        HistogramRange::PackageCompatible => None,
    }
}

/// `concat([0], cumsum(counts / width / total) * dx)` with `dx = edges[1] - edges[0]`, in numpy's operation order.
fn ecp_from_counts(counts: &[u64], edges: &[f64]) -> Vec<f64> {
    let total = counts.iter().sum::<u64>() as f64;
    let dx = edges[1] - edges[0];
    let mut ecp = Vec::with_capacity(counts.len() + 1);
    ecp.push(0.0);
    let mut cumulative = 0.0;
    for (c, e) in counts.iter().zip(edges.windows(2)) {
        cumulative += *c as f64 / (e[1] - e[0]) / total;
        ecp.push(cumulative * dx);
    }
    ecp
}

fn max_abs_deviation(alpha: &[f64], ecp: &[f64]) -> f64 {
    alpha.iter().zip(ecp).map(|(a, e)| (e - a).abs()).fold(0.0, f64::max)
}

/// numpy's summation order for `np.sum` of a contiguous float64 axis (`pairwise_sum` in numpy's loops): a plain
/// loop below 8 values, eight interleaved accumulators up to 128, halves (rounded to a multiple of 8) above.
fn numpy_pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]];
        let mut i = 8;
        while i < n - n % 8 {
            for (k, rk) in r.iter_mut().enumerate() {
                *rk += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for x in &a[i..] {
            res += x;
        }
        res
    } else {
        let mut half = n / 2;
        half -= half % 8;
        numpy_pairwise_sum(&a[..half]) + numpy_pairwise_sum(&a[half..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::BootstrapParams;
    use approx::assert_abs_diff_eq;
    use ndarray::{array, Array3};

    /// Standard normal deviates by Box-Muller from a seeded ChaCha8 stream.
    fn normals(seed: u64) -> impl FnMut() -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        move || {
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            let v: f64 = rng.random();
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        }
    }

    /// Posterior centres `m_j ~ N(0, 1)` per simulation and dimension, truths `N(m_j, s^2)`, samples
    /// `N(m_j, (width * s)^2)`; `width = 1` is the exact posterior of this set-up.
    fn gaussian_posteriors(
        n_sims: usize,
        n_samples: usize,
        n_dims: usize,
        width: f64,
        seed: u64,
    ) -> (Array3<f64>, Array2<f64>) {
        let s = 0.3;
        let mut z = normals(seed);
        let centre = Array2::from_shape_simple_fn((n_sims, n_dims), &mut z);
        let theta = Array2::from_shape_fn((n_sims, n_dims), |(j, d)| centre[[j, d]] + s * z());
        let samples = Array3::from_shape_fn((n_samples, n_sims, n_dims), |(_, j, d)| centre[[j, d]] + width * s * z());
        (samples, theta)
    }

    fn unit_interval_bands(width: f64) -> TarpBands {
        let (samples, theta) = gaussian_posteriors(300, 500, 2, width, 17);
        let params = TarpParams::default().check().unwrap();
        let boot = BootstrapParams { n_bootstrap: 1000, confidence: 0.95, seed: 5 }.check().unwrap();
        tarp_coverage_bootstrap(samples.view(), theta.view(), References::UniformRandom { seed: 3 }, &params, &boot)
            .unwrap()
    }

    #[test]
    fn exact_posteriors_follow_the_diagonal_within_the_band() {
        let bands = unit_interval_bands(1.0);
        assert_eq!(bands.alpha.len(), 31); // 300 // 10 bins
        assert_eq!((bands.alpha[0], bands.alpha[30]), (0.0, 1.0));
        assert!(bands.diagonal_inside(), "{} levels outside the band: {bands:?}", bands.levels_outside());
        // Measured: half-width 0.057 (binomial: 1.96 sqrt(0.25 / 300) = 0.057), max |ECP - alpha| 0.053.
        let half = bands.max_half_width();
        assert!((0.045..0.07).contains(&half), "half width {half}");
        assert!(bands.max_abs_deviation() < half, "deviation {} vs half width {half}", bands.max_abs_deviation());
        for (m, e) in bands.ecp_mean.iter().zip(&bands.ecp) {
            assert_abs_diff_eq!(m, e, epsilon = 0.01);
        }
    }

    #[test]
    fn over_narrow_posteriors_leave_the_band_as_a_mirrored_s() {
        let bands = unit_interval_bands(0.5);
        let half = bands.max_half_width();
        let dev = bands.max_abs_deviation();
        // Measured: max |ECP - alpha| 0.227 against a half-width of 0.057; 21 of 31 levels outside the band.
        assert!(dev > 3.0 * half, "deviation {dev} vs half width {half}");
        let outside = bands.levels_outside();
        assert!(outside >= 15, "{outside} levels outside the band");
        // Shape: above the diagonal at small alpha, crossing below before alpha = 0.5, the largest deficit at high alpha.
        let signed: Vec<f64> = bands.ecp.iter().zip(&bands.alpha).map(|(e, a)| e - a).collect();
        let (k_max, k_min) = (argmax(&signed), argmax(&signed.iter().map(|d| -d).collect::<Vec<_>>()));
        assert!(
            bands.alpha[k_max] < 0.3 && signed[k_max] > 1.5 * half,
            "peak {} at {}",
            signed[k_max],
            bands.alpha[k_max]
        );
        assert!(
            bands.alpha[k_min] > 0.7 && signed[k_min] < -3.0 * half,
            "trough {} at {}",
            signed[k_min],
            bands.alpha[k_min]
        );
        let crossing = bands.alpha[signed.iter().position(|d| *d < 0.0).unwrap_or(0)];
        assert!((0.25..0.5).contains(&crossing), "crosses the diagonal at {crossing}");
        // f piles up at both ends, more at the top: a calibrated set has 5% of f in each of [0, 0.05) and (0.95, 1].
        let low_tail = bands.credibility.iter().filter(|f| **f < 0.05).count();
        let high_tail = bands.credibility.iter().filter(|f| **f > 0.95).count();
        assert!(low_tail > 30 && high_tail > 60, "tails {low_tail}, {high_tail} of 300");
    }

    fn argmax(v: &[f64]) -> usize {
        (0..v.len()).fold(0, |best, k| if v[k] > v[best] { k } else { best })
    }

    #[test]
    fn marginal_coverage_is_diagonal_for_exact_and_below_for_over_narrow_posteriors() {
        let levels: Vec<f64> = (2..=9).map(|k| k as f64 / 10.0).collect();
        let (samples, theta) = gaussian_posteriors(1000, 500, 2, 1.0, 23);
        let exact = marginal_coverage(samples.view(), theta.view(), &levels).unwrap();
        let (samples, theta) = gaussian_posteriors(1000, 500, 2, 0.5, 29);
        let narrow = marginal_coverage(samples.view(), theta.view(), &levels).unwrap();
        assert_eq!(exact.dim(), (2, 8));
        // A posterior of half the width covers the truth with probability P(|z| < z_alpha / 2), z_alpha the
        // two-sided normal quantile: 0.101, 0.153, 0.208, 0.266, 0.324, 0.400, 0.478, 0.589 for alpha = 0.2..0.9.
        let closed_form = [0.1008, 0.1527, 0.2081, 0.2661, 0.3242, 0.3999, 0.4778, 0.5889];
        for d in 0..2 {
            for (k, a) in levels.iter().enumerate() {
                // Binomial sd at 1000 simulations is <= 0.016.
                assert_abs_diff_eq!(exact[[d, k]], *a, epsilon = 0.05);
                assert!(narrow[[d, k]] < a - 0.05, "dim {d} alpha {a}: coverage {}", narrow[[d, k]]);
                assert_abs_diff_eq!(narrow[[d, k]], closed_form[k], epsilon = 0.04);
            }
        }
    }

    #[test]
    fn credibility_fraction_by_hand() {
        // One dimension, no normalisation, reference at 0. Truth 1.0 is at distance 1; samples at -2, -0.5, 0.5, 1.0,
        // 3: two strictly closer (the tie at distance 1 does not count) -> f = 2/5.
        let samples = Array3::from_shape_vec((5, 1, 1), vec![-2.0, -0.5, 0.5, 1.0, 3.0]).unwrap();
        let theta = array![[1.0]];
        let refs = array![[0.0]];
        let params = TarpParams { norm: false, num_alpha_bins: Some(2), ..TarpParams::default() }.check().unwrap();
        let f = credibility_fractions(samples.view(), theta.view(), References::Given(refs.view()), &params).unwrap();
        assert_eq!(f, [0.4]);
        // Manhattan in 2-d: reference (0, 0), truth (1, 1) at 2; samples (0.5, 1) at 1.5, (2, 0) at 2, (-1, -1.5) at 2.5.
        let samples = Array3::from_shape_vec((3, 1, 2), vec![0.5, 1.0, 2.0, 0.0, -1.0, -1.5]).unwrap();
        let theta = array![[1.0, 1.0]];
        let refs = array![[0.0, 0.0]];
        let params = TarpParams {
            norm: false,
            metric: DistanceMetric::Manhattan,
            num_alpha_bins: Some(1),
            ..TarpParams::default()
        }
        .check()
        .unwrap();
        let f = credibility_fractions(samples.view(), theta.view(), References::Given(refs.view()), &params).unwrap();
        assert_eq!(f, [1.0 / 3.0]);
    }

    #[test]
    fn histogram_range_variants() {
        // f = 0.2, 0.4, 0.4, 0.6 (one dimension, 5 samples, references at 0, truths at 1, no normalisation).
        let closer = [1usize, 2, 2, 3];
        let n_sims = closer.len();
        let samples = Array3::from_shape_fn((5, n_sims, 1), |(i, j, _)| if i < closer[j] { 0.5 } else { 2.0 });
        let theta = Array2::from_elem((n_sims, 1), 1.0);
        let refs = Array2::zeros((n_sims, 1));
        let run = |range| {
            let p =
                TarpParams { norm: false, num_alpha_bins: Some(2), histogram_range: range, ..TarpParams::default() };
            tarp_coverage(samples.view(), theta.view(), References::Given(refs.view()), &p.check().unwrap()).unwrap()
        };
        let unit = run(HistogramRange::UnitInterval);
        assert_eq!(unit.credibility, [0.2, 0.4, 0.4, 0.6]);
        assert_eq!(unit.alpha, [0.0, 0.5, 1.0]);
        assert_abs_diff_eq!(unit.ecp.as_slice(), [0.0, 0.75, 1.0].as_slice(), epsilon = 1e-15);
        // Package: bins over [0.2, 0.6], edges 0.2, 0.4, 0.6; 0.4 is an interior edge and goes up.
        let package = run(HistogramRange::PackageCompatible);
        assert_eq!(package.alpha, [0.2, 0.4, 0.6]);
        assert_abs_diff_eq!(package.ecp.as_slice(), [0.0, 0.25, 1.0].as_slice(), epsilon = 1e-15);
    }

    #[test]
    fn normalisation_maps_truths_to_the_unit_interval() {
        // With norm, shifting and scaling every truth and sample by the same affine map leaves f unchanged.
        let (samples, theta) = gaussian_posteriors(40, 30, 2, 0.8, 41);
        let params = TarpParams::default().check().unwrap();
        let refs = References::UniformRandom { seed: 8 };
        let a = credibility_fractions(samples.view(), theta.view(), refs, &params).unwrap();
        let b =
            credibility_fractions((&samples * 4.0 + 7.0).view(), (&theta * 4.0 + 7.0).view(), refs, &params).unwrap();
        let differing = a.iter().zip(&b).filter(|(x, y)| x != y).count();
        assert!(differing <= 1, "{differing} simulations changed"); // rounding may flip a near-tie
    }

    #[test]
    fn pairwise_sum_follows_numpy_order() {
        // np.sum(np.array([1.0] + [2.0**-53] * 7)) == 1 + 3 * 2**-52 (a plain loop would give 1.0).
        let mut v = vec![2f64.powi(-53); 8];
        v[0] = 1.0;
        assert_eq!(numpy_pairwise_sum(&v), 1.0 + 3.0 * 2f64.powi(-52));
        assert_eq!(numpy_pairwise_sum(&v[..7]), 1.0);
        let long: Vec<f64> = (0..300).map(|i| i as f64).collect();
        assert_eq!(numpy_pairwise_sum(&long), 44850.0);
    }

    #[test]
    fn random_references_are_seeded() {
        let (samples, theta) = gaussian_posteriors(30, 20, 2, 1.0, 1);
        let params = TarpParams::default().check().unwrap();
        let run =
            |seed| tarp_coverage(samples.view(), theta.view(), References::UniformRandom { seed }, &params).unwrap();
        assert_eq!(run(4), run(4));
        assert_ne!(run(4).credibility, run(5).credibility);
    }

    #[test]
    fn typed_errors() {
        let samples = Array3::<f64>::zeros((4, 12, 2));
        let theta = Array2::<f64>::zeros((12, 2));
        let params = TarpParams::default().check().unwrap();
        let refs = References::UniformRandom { seed: 0 };
        let bad_theta = Array2::<f64>::zeros((11, 2));
        assert!(matches!(
            tarp_coverage(samples.view(), bad_theta.view(), refs, &params),
            Err(MetricsError::Shape { argument: "theta", .. })
        ));
        let bad_refs = Array2::<f64>::zeros((12, 3));
        assert!(matches!(
            tarp_coverage(samples.view(), theta.view(), References::Given(bad_refs.view()), &params),
            Err(MetricsError::Shape { argument: "references", .. })
        ));
        let mut nan = samples.clone();
        nan[[1, 2, 1]] = f64::NAN;
        let err = tarp_coverage(nan.view(), theta.view(), refs, &params).unwrap_err();
        assert!(matches!(err, MetricsError::NonFinite { argument: "samples", ref index, .. } if index == &[1, 2, 1]));
        let empty = Array3::<f64>::zeros((0, 12, 2));
        assert!(matches!(tarp_coverage(empty.view(), theta.view(), refs, &params), Err(MetricsError::TooFew { .. })));
        let few = Array3::<f64>::zeros((4, 9, 2));
        let few_theta = Array2::<f64>::zeros((9, 2));
        assert!(matches!(
            tarp_coverage(few.view(), few_theta.view(), refs, &params),
            Err(MetricsError::InvalidParameter { name: "num_alpha_bins", .. })
        ));
        assert!(matches!(
            TarpParams { num_alpha_bins: Some(0), ..TarpParams::default() }.check(),
            Err(MetricsError::InvalidParameter { name: "num_alpha_bins", .. })
        ));
        assert!(matches!(
            marginal_coverage(samples.view(), theta.view(), &[0.5, 1.5]),
            Err(MetricsError::InvalidParameter { name: "credibility_levels", .. })
        ));
        assert!(matches!(marginal_coverage(samples.view(), theta.view(), &[]), Err(MetricsError::TooFew { .. })));
    }

    #[test]
    fn params_serde() {
        let p: TarpParams =
            serde_json::from_str(r#"{"metric": "manhattan", "histogram_range": "package-compatible"}"#).unwrap();
        assert_eq!(
            p,
            TarpParams {
                metric: DistanceMetric::Manhattan,
                histogram_range: HistogramRange::PackageCompatible,
                ..TarpParams::default()
            }
        );
        assert!(p.norm);
        assert!(serde_json::from_str::<TarpParams>(r#"{"bins": 3}"#).is_err());
    }
}
