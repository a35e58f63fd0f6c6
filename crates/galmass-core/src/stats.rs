//! Small statistics helpers whose conventions every crate must share.
//!
//! Percentiles use numpy's default ("linear") interpolation: for sorted values `v[0..n]` and `q` in percent, the
//! position is `q / 100 * (n - 1)` and the result interpolates linearly between its neighbours.
//!
//! ```
//! use galmass_core::stats::{percentile, median};
//! let v = [4.0, 1.0, 3.0, 2.0];
//! assert_eq!(median(&v), Some(2.5));
//! assert!((percentile(&v, 98.0).unwrap() - 3.94).abs() < 1e-12);
//! ```

/// The `q`-th percentile (0..=100) with numpy's default linear interpolation; `None` for an empty slice, a
/// percentile outside 0..=100 or any NaN in the data.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted = values.to_vec();
    sort_finite(&mut sorted)?;
    percentile_sorted(&sorted, q)
}

/// Like [`percentile`] for data already sorted ascending (not checked).
///
/// Bit-identical to numpy's `percentile(..., method="linear")`: the virtual index is computed as numpy computes it
/// (`(n - 1) * (percent / 100)`), and the interpolation is numpy's `_lerp`, which works from the upper neighbour when
/// the fraction is at least 0.5.
pub fn percentile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&q) {
        return None;
    }
    let n = sorted.len();
    let quantile = q / 100.0;
    let virtual_index = ((n - 1) as f64 * quantile).clamp(0.0, (n - 1) as f64);
    let lo = virtual_index.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(lerp_numpy(sorted[lo], sorted[hi], virtual_index - lo as f64))
}

/// The median (50th percentile, numpy convention).
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

/// Like [`percentile`] but in linear time, reordering `values` in place (selection instead of a full sort). Returns
/// exactly the same number as [`percentile`]: the two neighbouring order statistics are the same.
pub fn percentile_in_place(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=100.0).contains(&q) || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let n = values.len();
    let virtual_index = ((n - 1) as f64 * (q / 100.0)).clamp(0.0, (n - 1) as f64);
    let lo = virtual_index.floor() as usize;
    let (_, &mut a, upper) = values.select_nth_unstable_by(lo, f64::total_cmp);
    // The next order statistic is the smallest value above position lo.
    let b = if lo + 1 < n { upper.iter().copied().fold(f64::INFINITY, f64::min) } else { a };
    Some(lerp_numpy(a, b, virtual_index - lo as f64))
}

/// numpy's `_lerp`: interpolates from the upper neighbour when the fraction is at least 0.5.
fn lerp_numpy(a: f64, b: f64, gamma: f64) -> f64 {
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// Arithmetic mean; `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// Variance with `ddof` delta degrees of freedom (numpy's `var(ddof=...)`), computed in two passes;
/// `None` when there are not more than `ddof` values.
pub fn variance(values: &[f64], ddof: usize) -> Option<f64> {
    if values.len() <= ddof {
        return None;
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some(ss / (values.len() - ddof) as f64)
}

/// Sorts ascending; `None` if any value is NaN.
pub fn sort_finite(values: &mut [f64]) -> Option<()> {
    if values.iter().any(|v| v.is_nan()) {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(())
}

/// 1.4826 times the median absolute deviation of the finite values (the rms of Gaussian noise; 0 when none), the
/// medians in numpy's convention.
pub fn robust_rms(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    let Some(median) = percentile_in_place(&mut v, 50.0) else { return 0.0 };
    let mut deviations: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    1.4826 * percentile_in_place(&mut deviations, 50.0).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn robust_rms_is_the_scaled_median_absolute_deviation() {
        // Median 3, absolute deviations [2, 1, 0, 1, 97] with median 1; NaN is skipped.
        let rms = robust_rms([1.0, 2.0, 3.0, 4.0, 100.0, f64::NAN].into_iter());
        assert_abs_diff_eq!(rms, 1.4826, epsilon = 1e-12);
        assert_eq!(robust_rms(std::iter::empty()), 0.0);
    }

    #[test]
    fn percentiles_match_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4, 10], [0, 16, 50, 84, 98, 100])
        let v = [10.0, 2.0, 4.0, 1.0, 3.0];
        let expected = [(0.0, 1.0), (16.0, 1.64), (50.0, 3.0), (84.0, 6.16), (98.0, 9.52), (100.0, 10.0)];
        for (q, e) in expected {
            assert_abs_diff_eq!(percentile(&v, q).unwrap(), e, epsilon = 1e-12);
        }
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[1.0], 101.0), None);
        assert_eq!(percentile(&[1.0, f64::NAN], 50.0), None);
        assert_eq!(percentile(&[7.0], 98.0), Some(7.0));
    }

    #[test]
    fn percentiles_are_bit_identical_to_numpy() {
        // repr(float(numpy.percentile(v, q))) with numpy 2.3.5.
        let v = [0.1, 0.7, 0.3, 1.9, 2.2, 5.5, 3.3, 0.45, 7.1, 2.05];
        let expected: [(f64, f64); 7] = [
            (16.0, 0.366),
            (84.0, 4.531999999999999),
            (98.0, 6.812),
            (33.3, 0.6992499999999999),
            (50.0, 1.9749999999999999),
            (2.5, 0.14500000000000002),
            (97.5, 6.74),
        ];
        for (q, e) in expected {
            assert_eq!(percentile(&v, q).unwrap().to_bits(), e.to_bits(), "q = {q}");
        }
    }

    #[test]
    fn selection_equals_sorting() {
        let v: Vec<f64> = (0..1001).map(|i| ((i * 7919) % 1009) as f64 * 0.37 - 50.0).collect();
        for q in [0.0, 2.5, 16.0, 50.0, 84.0, 98.0, 99.99, 100.0] {
            let mut scratch = v.clone();
            assert_eq!(
                percentile_in_place(&mut scratch, q).unwrap().to_bits(),
                percentile(&v, q).unwrap().to_bits(),
                "q = {q}"
            );
        }
        assert_eq!(percentile_in_place(&mut [], 50.0), None);
        assert_eq!(percentile_in_place(&mut [1.0, f64::NAN], 50.0), None);
        assert_eq!(percentile_in_place(&mut [3.0], 98.0), Some(3.0));
    }

    #[test]
    fn variance_matches_closed_form() {
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert_abs_diff_eq!(variance(&v, 0).unwrap(), 4.0, epsilon = 1e-12);
        assert_abs_diff_eq!(variance(&v, 1).unwrap(), 32.0 / 7.0, epsilon = 1e-12);
        assert_eq!(variance(&[1.0], 1), None);
    }
}
