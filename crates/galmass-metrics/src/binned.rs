//! Binned statistics of a value against a variable, and numpy-exact histograms.
//!
//! [`binned_statistics`] groups a value (say the ratio `pred / true`) by a variable (radius, stellar mass,
//! inclination) into bins with given edges and reports per bin the count, mean, median and 16th/84th percentiles
//! (numpy's linear interpolation). Empty bins are kept, with count 0 and `None` statistics.
//!
//! Bin membership follows `numpy.histogram`: bin `i` holds `edges[i] <= x < edges[i + 1]`, the last bin also holds
//! `x == edges[n]`, and values outside `[edges[0], edges[n]]` are left out. [`histogram_uniform`] reproduces
//! `numpy.histogram(values, bins=n, range=...)` exactly, edges and counts, including its handling of values within
//! a rounding error of an edge; TARP builds on it.
//!
//! ```
//! use galmass_metrics::binned::binned_statistics;
//! let radius_kpc = [0.5, 1.5, 1.7, 2.0, 3.5];
//! let ratio = [1.1, 0.9, 1.0, 1.2, 0.8];
//! let bins = binned_statistics(&radius_kpc, &ratio, &[0.0, 1.0, 2.0, 3.0]).unwrap();
//! assert_eq!(bins.iter().map(|b| b.count).collect::<Vec<_>>(), [1, 2, 1]); // 3.5 lies outside, 2.0 in the last bin
//! assert_eq!(bins[1].median, Some(0.95));
//! ```

use galmass_core::stats::{percentile_sorted, sort_finite};
use serde::{Deserialize, Serialize};

use crate::check;
use crate::logratio::{P16, P84};
use crate::MetricsError;

/// Statistics of the values in one bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinStatistics {
    /// Lower edge (inclusive).
    pub low: f64,
    /// Upper edge (exclusive, except for the last bin).
    pub high: f64,
    /// Number of values in the bin.
    pub count: usize,
    /// Mean; `None` for an empty bin.
    pub mean: Option<f64>,
    /// Median; `None` for an empty bin.
    pub median: Option<f64>,
    /// 16th percentile; `None` for an empty bin.
    pub p16: Option<f64>,
    /// 84th percentile; `None` for an empty bin.
    pub p84: Option<f64>,
}

/// Per-bin count, mean, median and 16th/84th percentiles of `values` grouped by `x` into bins with `edges`
/// (at least two, finite, strictly increasing). `x` and `values` are paired, non-empty and finite.
pub fn binned_statistics(x: &[f64], values: &[f64], edges: &[f64]) -> Result<Vec<BinStatistics>, MetricsError> {
    check::at_least("x", x.len(), 1)?;
    check::same_len("values", values.len(), "x", x.len())?;
    check::finite("x", x)?;
    check::finite("values", values)?;
    check::at_least("edges", edges.len(), 2)?;
    check::strictly_increasing("edges", edges)?;

    let n_bins = edges.len() - 1;
    let mut members: Vec<Vec<f64>> = vec![Vec::new(); n_bins];
    for (xi, vi) in x.iter().zip(values) {
        if let Some(b) = bin_index(*xi, edges) {
            members[b].push(*vi);
        }
    }
    Ok(members
        .into_iter()
        .enumerate()
        .map(|(b, mut v)| {
            let (low, high) = (edges[b], edges[b + 1]);
            if v.is_empty() || sort_finite(&mut v).is_none() {
                return BinStatistics { low, high, count: 0, mean: None, median: None, p16: None, p84: None };
            }
            BinStatistics {
                low,
                high,
                count: v.len(),
                mean: Some(v.iter().sum::<f64>() / v.len() as f64),
                median: percentile_sorted(&v, 50.0),
                p16: percentile_sorted(&v, P16),
                p84: percentile_sorted(&v, P84),
            }
        })
        .collect())
}

/// The bin of `x` for increasing `edges` with numpy.histogram's rule (left-closed bins, the last one closed on both
/// sides); `None` outside `[edges[0], edges[n]]`, for NaN, or with fewer than two edges.
pub fn bin_index(x: f64, edges: &[f64]) -> Option<usize> {
    if edges.len() < 2 || x.is_nan() {
        return None;
    }
    // Number of edges <= x (numpy: searchsorted(..., side='right') on the left edges).
    let k = edges.partition_point(|e| *e <= x);
    if k == 0 {
        None
    } else if k == edges.len() {
        (x == edges[edges.len() - 1]).then_some(edges.len() - 2)
    } else {
        Some(k - 1)
    }
}

/// A histogram with equal-width bins, as `numpy.histogram(values, bins=n_bins, range=range)` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UniformHistogram {
    /// Number of values per bin.
    pub counts: Vec<u64>,
    /// The `n_bins + 1` edges, `numpy.linspace(first, last, n_bins + 1)`.
    pub edges: Vec<f64>,
}

impl UniformHistogram {
    /// `numpy.histogram(..., density=True)`: `counts / width / total` per bin (NaN when no value is in range, as in
    /// numpy).
    pub fn density(&self) -> Vec<f64> {
        let total = self.counts.iter().sum::<u64>() as f64;
        self.counts.iter().zip(self.edges.windows(2)).map(|(c, e)| *c as f64 / (e[1] - e[0]) / total).collect()
    }
}

/// The outer edges numpy uses: `range` or the data's min and max, widened by 0.5 on each side when they coincide
/// (numpy's `_get_outer_edges`; `[0, 1]` for no data and no range).
pub fn outer_edges(values: &[f64], range: Option<(f64, f64)>) -> Result<(f64, f64), MetricsError> {
    let (first, last) = match range {
        Some((first, last)) => {
            if !(first.is_finite() && last.is_finite()) {
                return Err(MetricsError::invalid("range", "finite bounds", format!("[{first}, {last}]")));
            }
            if first > last {
                return Err(MetricsError::invalid("range", "first <= last", format!("[{first}, {last}]")));
            }
            (first, last)
        }
        None if values.is_empty() => (0.0, 1.0),
        None => {
            check::finite("values", values)?;
            let first = values.iter().copied().fold(f64::INFINITY, f64::min);
            let last = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (first, last)
        }
    };
    Ok(if first == last { (first - 0.5, last + 0.5) } else { (first, last) })
}

/// `numpy.linspace(first, last, n_points)` (endpoint included) to the last bit: `first + i * step` with
/// `step = (last - first) / (n_points - 1)`, the last point set to `last`.
pub fn linspace(first: f64, last: f64, n_points: usize) -> Vec<f64> {
    if n_points == 0 {
        return Vec::new();
    }
    if n_points == 1 {
        return vec![first];
    }
    let div = (n_points - 1) as f64;
    let delta = last - first;
    let step = delta / div;
    let mut y: Vec<f64> =
        (0..n_points).map(|i| if step == 0.0 { i as f64 / div * delta } else { i as f64 * step } + first).collect();
    y[n_points - 1] = last;
    y
}

/// `numpy.histogram(values, bins=n_bins, range=range)`: equal-width bins over `range`, or over the data's
/// `[min, max]` when `range` is `None` (widened to `[v - 0.5, v + 0.5]` when all values are equal). Values outside
/// the range are left out; NaN is an error.
///
/// Bin indices are computed as numpy does: `trunc((x - first) / (last - first) * n_bins)`, the top edge put in the
/// last bin, then corrected by comparing `x` with the computed edges (down if `x < edges[i]`, up if
/// `x >= edges[i + 1]` except in the last bin). So a value equal to an interior edge lands in the upper bin.
pub fn histogram_uniform(
    values: &[f64],
    n_bins: usize,
    range: Option<(f64, f64)>,
) -> Result<UniformHistogram, MetricsError> {
    if n_bins == 0 {
        return Err(MetricsError::invalid("n_bins", "at least 1 bin", n_bins));
    }
    check::finite("values", values)?;
    let (first, last) = outer_edges(values, range)?;
    let edges = linspace(first, last, n_bins + 1);
    if edges.windows(2).any(|w| w[0] >= w[1]) {
        return Err(MetricsError::invalid(
            "n_bins",
            format!("few enough bins for finite-sized bins over [{first}, {last}]"),
            n_bins,
        ));
    }
    let mut counts = vec![0u64; n_bins];
    for &x in values {
        if let Some(b) = uniform_bin_index(x, &edges) {
            counts[b] += 1;
        }
    }
    Ok(UniformHistogram { counts, edges })
}

/// The bin of `x` among equal-width `edges` (from [`linspace`]) by numpy's fast path; `None` outside.
pub(crate) fn uniform_bin_index(x: f64, edges: &[f64]) -> Option<usize> {
    let n_bins = edges.len() - 1;
    let (first, last) = (edges[0], edges[n_bins]);
    if !(x >= first && x <= last) {
        return None;
    }
    // numpy: f_indices = ((x - first_edge) / norm_denom) * n_equal_bins; astype(intp) truncates.
    let mut i = ((x - first) / (last - first) * n_bins as f64) as usize;
    if i == n_bins {
        i -= 1;
    }
    if x < edges[i] {
        i -= 1;
    }
    if x >= edges[i + 1] && i != n_bins - 1 {
        i += 1;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn statistics_per_bin_by_hand() {
        // Bin [0, 1): values 1, 2, 3, 4, 10 -> mean 4, numpy percentiles 16/50/84 = 1.64, 3, 6.16.
        // Bin [1, 2): empty. Bin [2, 3]: x = 3 exactly (last edge, included), value 5.
        let x = [0.1, 0.2, 0.0, 0.9, 0.5, 3.0, -1.0, 3.1];
        let v = [10.0, 2.0, 4.0, 1.0, 3.0, 5.0, 99.0, 99.0];
        let bins = binned_statistics(&x, &v, &[0.0, 1.0, 2.0, 3.0]).unwrap();
        assert_eq!(bins.len(), 3);
        assert_eq!(bins[0].count, 5);
        assert_abs_diff_eq!(bins[0].mean.unwrap(), 4.0, epsilon = 1e-12);
        assert_abs_diff_eq!(bins[0].p16.unwrap(), 1.64, epsilon = 1e-12);
        assert_abs_diff_eq!(bins[0].median.unwrap(), 3.0, epsilon = 1e-12);
        assert_abs_diff_eq!(bins[0].p84.unwrap(), 6.16, epsilon = 1e-12);
        assert_eq!(
            bins[1],
            BinStatistics { low: 1.0, high: 2.0, count: 0, mean: None, median: None, p16: None, p84: None }
        );
        assert_eq!((bins[2].count, bins[2].median, bins[2].p16), (1, Some(5.0), Some(5.0)));
    }

    #[test]
    fn bin_index_follows_numpy_edges() {
        let edges = [0.0, 1.0, 2.0];
        let cases = [(-0.1, None), (0.0, Some(0)), (0.999, Some(0)), (1.0, Some(1)), (2.0, Some(1)), (2.0001, None)];
        for (x, want) in cases {
            assert_eq!(bin_index(x, &edges), want, "x = {x}");
        }
        assert_eq!(bin_index(f64::NAN, &edges), None);
    }

    #[test]
    fn uniform_histogram_matches_numpy() {
        // np.histogram([0.0, 0.1, 0.2, 0.3, 0.35, 0.9, 1.0], bins=3, range=(0, 1)):
        // edges [0, 1/3, 2/3, 1], counts [4, 1, 2].
        let h = histogram_uniform(&[0.0, 0.1, 0.2, 0.3, 0.35, 0.9, 1.0], 3, Some((0.0, 1.0))).unwrap();
        assert_eq!(h.counts, [4, 1, 2]);
        assert_eq!(h.edges, [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]);
        // Data range: np.histogram([1, 2, 2, 3, 4], bins=3): edges [1, 2, 3, 4], counts [1, 2, 2] (2 and 3 sit on
        // interior edges and go up; 4 is the closed top edge).
        let h = histogram_uniform(&[1.0, 2.0, 2.0, 3.0, 4.0], 3, None).unwrap();
        assert_eq!(h.counts, [1, 2, 2]);
        assert_eq!(h.edges, [1.0, 2.0, 3.0, 4.0]);
        // All equal: range widened to [v - 0.5, v + 0.5]; np.histogram([0, 0, 0], bins=2) -> [0, 3], [-0.5, 0, 0.5].
        let h = histogram_uniform(&[0.0, 0.0, 0.0], 2, None).unwrap();
        assert_eq!(h.counts, [0, 3]);
        assert_eq!(h.edges, [-0.5, 0.0, 0.5]);
        assert_eq!(h.density(), [0.0, 2.0]);
        // Values outside an explicit range are dropped.
        let h = histogram_uniform(&[-1.0, 0.5, 2.0], 2, Some((0.0, 1.0))).unwrap();
        assert_eq!(h.counts, [0, 1]);
        // Multiples of 1/80 against edges that are multiples of 0.1 (np.histogram(np.arange(81) / 80, bins=10)):
        // counts [8, 8, 9, 7, 8, 9, 8, 7, 8, 9]: the edges are i * 0.1, so 0.30000000000000004, 0.6000000000000001 and
        // 0.7000000000000001 lie just above 24/80, 48/80 and 56/80, which stay in the lower bin.
        let v: Vec<f64> = (0..=80).map(|i| i as f64 / 80.0).collect();
        let h = histogram_uniform(&v, 10, None).unwrap();
        assert_eq!(h.counts, [8, 8, 9, 7, 8, 9, 8, 7, 8, 9]);
        // The upward correction: for np.arange(71) / 80 with bins=5 (edges 0, 0.175, 0.35, ...), the value 0.175
        // gives (0.175 / 0.875) * 5 = 0.9999999999999999, truncated to bin 0, and numpy moves it up to bin 1 because
        // it equals the edge: counts [14, 14, 14, 14, 15] (without the correction [15, 14, 13, 15, 14]).
        let v: Vec<f64> = (0..=70).map(|i| i as f64 / 80.0).collect();
        assert_eq!(histogram_uniform(&v, 5, None).unwrap().counts, [14, 14, 14, 14, 15]);
        assert_eq!(histogram_uniform(&v, 10, None).unwrap().counts, [7, 7, 7, 7, 7, 7, 7, 7, 7, 8]);
    }

    #[test]
    fn linspace_matches_numpy_bits() {
        // np.linspace(0.0125, 0.8625, 7) printed with repr.
        let e = linspace(0.0125, 0.8625, 7);
        let want = [
            0.0125,
            0.1541666666666667,
            0.2958333333333334,
            0.43750000000000006,
            0.5791666666666667,
            0.7208333333333334,
            0.8625,
        ];
        for (a, b) in e.iter().zip(want) {
            assert_eq!(*a, b);
        }
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(binned_statistics(&[], &[], &[0.0, 1.0]), Err(MetricsError::TooFew { argument: "x", .. })));
        assert!(matches!(
            binned_statistics(&[1.0], &[1.0, 2.0], &[0.0, 1.0]),
            Err(MetricsError::LengthMismatch { argument: "values", .. })
        ));
        assert!(matches!(
            binned_statistics(&[1.0], &[f64::NAN], &[0.0, 1.0]),
            Err(MetricsError::NonFinite { argument: "values", .. })
        ));
        assert!(matches!(
            binned_statistics(&[1.0], &[1.0], &[0.0, 1.0, 1.0]),
            Err(MetricsError::NotIncreasing { argument: "edges", index: 2, .. })
        ));
        assert!(matches!(
            binned_statistics(&[1.0], &[1.0], &[0.0]),
            Err(MetricsError::TooFew { argument: "edges", .. })
        ));
        assert!(matches!(histogram_uniform(&[1.0], 0, None), Err(MetricsError::InvalidParameter { .. })));
        assert!(matches!(histogram_uniform(&[f64::NAN], 2, None), Err(MetricsError::NonFinite { .. })));
        assert!(matches!(histogram_uniform(&[1.0], 2, Some((1.0, 0.0))), Err(MetricsError::InvalidParameter { .. })));
    }
}
