//! Pearson correlation matrix of the columns of an `(n, k)` array.
//!
//! Used for the correlation of residuals with galaxy properties (chu2024's feature study) and between the errors at
//! different radii. The input must be free of NaN and infinities; a constant column has no defined correlation and is
//! a typed error ([`MetricsError::ConstantColumn`]) rather than a NaN in the output.
//!
//! The formula follows `numpy.corrcoef`: covariance divided by the two standard deviations, clipped to `[-1, 1]`.
//!
//! ```
//! use galmass_metrics::correlation::pearson_correlation_matrix;
//! use ndarray::array;
//! let data = array![[1.0, 2.0, 5.0], [2.0, 4.0, 3.0], [3.0, 6.0, 1.0]];
//! let r = pearson_correlation_matrix(data.view()).unwrap();
//! assert!((r[[0, 1]] - 1.0).abs() < 1e-12 && (r[[0, 2]] + 1.0).abs() < 1e-12);
//! ```

use ndarray::{Array2, ArrayView2};

use crate::check;
use crate::MetricsError;

/// The `(k, k)` Pearson correlation matrix of the `k` columns of `data` (`n >= 2` rows, finite, no constant column).
pub fn pearson_correlation_matrix(data: ArrayView2<'_, f64>) -> Result<Array2<f64>, MetricsError> {
    check::at_least("data rows", data.nrows(), 2)?;
    check::at_least("data columns", data.ncols(), 1)?;
    check::finite_array("data", &data)?;
    let n = data.nrows() as f64;
    let mut centred: Vec<Vec<f64>> = Vec::with_capacity(data.ncols());
    for (j, col) in data.columns().into_iter().enumerate() {
        let first = col[0];
        if col.iter().all(|v| *v == first) {
            return Err(MetricsError::ConstantColumn { argument: "data", column: j, value: first });
        }
        let m = col.sum() / n;
        centred.push(col.iter().map(|v| v - m).collect());
    }
    let k = centred.len();
    let cov = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>() / (n - 1.0);
    let sd: Vec<f64> = centred.iter().map(|c| cov(c, c).sqrt()).collect();
    let mut r = Array2::zeros((k, k));
    for i in 0..k {
        for j in i..k {
            let v = (cov(&centred[i], &centred[j]) / sd[i] / sd[j]).clamp(-1.0, 1.0);
            r[[i, j]] = v;
            r[[j, i]] = v;
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use ndarray::array;

    #[test]
    fn matches_closed_form() {
        // x = 1..5, y = (2, 1, 4, 3, 5): sum dx dy = 8, sum dx^2 = sum dy^2 = 10 -> r = 0.8.
        // z = x^2: r(x, z) = 60 / sqrt(10 * 374) (sum dx dz = 60, sum dz^2 = 374).
        let data = array![[1.0, 2.0, 1.0], [2.0, 1.0, 4.0], [3.0, 4.0, 9.0], [4.0, 3.0, 16.0], [5.0, 5.0, 25.0]];
        let r = pearson_correlation_matrix(data.view()).unwrap();
        assert_abs_diff_eq!(r[[0, 1]], 0.8, epsilon = 1e-14);
        assert_abs_diff_eq!(r[[1, 0]], 0.8, epsilon = 1e-14);
        assert_abs_diff_eq!(r[[0, 2]], 60.0 / (10.0f64 * 374.0).sqrt(), epsilon = 1e-14);
        // y vs z: sum dy dz = 50 (dy = -1,-2,1,0,2; dz = -10,-7,-2,5,14) -> 50 / sqrt(10 * 374).
        assert_abs_diff_eq!(r[[1, 2]], 50.0 / (10.0f64 * 374.0).sqrt(), epsilon = 1e-14);
        for i in 0..3 {
            assert_abs_diff_eq!(r[[i, i]], 1.0, epsilon = 1e-15);
        }
    }

    #[test]
    fn typed_errors() {
        let constant = array![[1.0, 0.1], [2.0, 0.1], [3.0, 0.1]];
        assert!(matches!(
            pearson_correlation_matrix(constant.view()),
            Err(MetricsError::ConstantColumn { column: 1, .. })
        ));
        let one_row = array![[1.0, 2.0]];
        assert!(matches!(pearson_correlation_matrix(one_row.view()), Err(MetricsError::TooFew { .. })));
        let nan = array![[1.0, 2.0], [f64::NAN, 3.0]];
        assert!(matches!(pearson_correlation_matrix(nan.view()), Err(MetricsError::NonFinite { .. })));
    }
}
