//! Piecewise-linear interpolation on increasing nodes, with numpy's conventions.
//!
//! [`interp`] is `numpy.interp` (clamped to the end values outside the nodes); [`interp_checked`] refuses points
//! outside; [`bracket`] returns the segment and weight, the building block of multi-linear table look-ups;
//! [`Interp1d`] is a checked table for repeated use. The nodes must increase (strictly, for a unique segment);
//! the free functions do not re-check that on every call, [`Interp1d::new`] does once.
//!
//! ```
//! use galmass_core::numeric::interp::{bracket, interp, Interp1d};
//! let (xs, ys) = ([1.0, 2.0, 4.0], [10.0, 20.0, 0.0]);
//! assert_eq!(interp(&xs, &ys, 3.0), 10.0);
//! assert_eq!(interp(&xs, &ys, 9.0), 0.0); // clamped, like numpy.interp
//! assert_eq!(bracket(&xs, 3.0), (1, 0.5));
//! let table = Interp1d::new(xs.to_vec(), ys.to_vec()).unwrap();
//! assert_eq!(table.eval_checked(0.5), None);
//! ```

use crate::error::CoreError;

/// The segment `i` (nodes `xs[i]`, `xs[i + 1]`) holding `x` and the weight `w` of the upper node, so that the
/// interpolant is `(1 - w) y[i] + w y[i + 1]`. Outside the nodes `x` is clamped (`w` is 0 or 1). `xs` must be
/// increasing with at least two nodes; with one node the result is `(0, 0.0)`.
pub fn bracket(xs: &[f64], x: f64) -> (usize, f64) {
    let n = xs.len();
    if n < 2 {
        return (0, 0.0);
    }
    if x <= xs[0] || x.is_nan() {
        return (0, 0.0);
    }
    if x >= xs[n - 1] {
        return (n - 2, 1.0);
    }
    // First node strictly greater than x, in 1..n-1.
    let hi = xs.partition_point(|&v| v <= x).clamp(1, n - 1);
    let lo = hi - 1;
    let span = xs[hi] - xs[lo];
    let w = if span > 0.0 { (x - xs[lo]) / span } else { 0.0 };
    (lo, w)
}

/// `numpy.interp(x, xs, ys)`: linear between nodes, the end values outside. Empty nodes give NaN.
pub fn interp(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    match (xs.len(), ys.len()) {
        (0, _) | (_, 0) => f64::NAN,
        (1, _) | (_, 1) => ys[0],
        _ => {
            let (i, w) = bracket(xs, x);
            if w == 0.0 {
                ys[i]
            } else if w == 1.0 {
                ys[i + 1]
            } else {
                (1.0 - w) * ys[i] + w * ys[i + 1]
            }
        }
    }
}

/// Linear interpolation, or `None` when `x` lies outside `[xs[0], xs[n-1]]` (or is NaN, or there are fewer than
/// two nodes).
pub fn interp_checked(xs: &[f64], ys: &[f64], x: f64) -> Option<f64> {
    let n = xs.len().min(ys.len());
    (n >= 2 && x >= xs[0] && x <= xs[n - 1]).then(|| interp(&xs[..n], &ys[..n], x))
}

/// Interpolation in log10(x) and log10(y): a power law between nodes (both positive), clamped outside.
pub fn interp_loglog(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let lx: Vec<f64> = xs.iter().map(|v| v.log10()).collect();
    let ly: Vec<f64> = ys.iter().map(|v| v.log10()).collect();
    10f64.powf(interp(&lx, &ly, x.log10()))
}

/// A checked interpolation table: nodes finite and strictly increasing, values finite, at least two of each.
#[derive(Debug, Clone, PartialEq)]
pub struct Interp1d {
    xs: Vec<f64>,
    ys: Vec<f64>,
}

impl Interp1d {
    /// Checks and stores the table; the error names the offending index.
    pub fn new(xs: Vec<f64>, ys: Vec<f64>) -> Result<Self, CoreError> {
        if xs.len() != ys.len() || xs.len() < 2 {
            return Err(CoreError::Shape {
                field: "interpolation table".into(),
                expected: "at least two nodes and one value per node".into(),
                got: format!("{} nodes, {} values", xs.len(), ys.len()),
            });
        }
        for (index, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
            if !x.is_finite() {
                return Err(CoreError::NonFinite { field: "interpolation nodes".into(), index, value: x });
            }
            if !y.is_finite() {
                return Err(CoreError::NonFinite { field: "interpolation values".into(), index, value: y });
            }
            if index > 0 && x <= xs[index - 1] {
                return Err(CoreError::invalid(
                    "interpolation nodes",
                    format!("must increase strictly; node {index} is {x} after {}", xs[index - 1]),
                ));
            }
        }
        Ok(Self { xs, ys })
    }

    /// The nodes.
    pub fn xs(&self) -> &[f64] {
        &self.xs
    }

    /// The values.
    pub fn ys(&self) -> &[f64] {
        &self.ys
    }

    /// The interpolant, clamped outside the nodes ([`interp`]).
    pub fn eval(&self, x: f64) -> f64 {
        interp(&self.xs, &self.ys, x)
    }

    /// The interpolant, `None` outside the nodes ([`interp_checked`]).
    pub fn eval_checked(&self, x: f64) -> Option<f64> {
        interp_checked(&self.xs, &self.ys, x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy_interp() {
        // numpy.interp([-1, 0, 0.25, 1, 1.5, 3, 4], [0, 1, 3], [5, 7, 3]) = [5, 5, 5.5, 7, 6, 3, 3]
        let (xs, ys) = ([0.0, 1.0, 3.0], [5.0, 7.0, 3.0]);
        let got: Vec<f64> = [-1.0, 0.0, 0.25, 1.0, 1.5, 3.0, 4.0].iter().map(|&x| interp(&xs, &ys, x)).collect();
        assert_eq!(got, vec![5.0, 5.0, 5.5, 7.0, 6.0, 3.0, 3.0]);
        assert!(interp(&[], &[], 1.0).is_nan());
        assert_eq!(interp(&[2.0], &[9.0], 1.0), 9.0);
    }

    #[test]
    fn exact_on_linear_functions_and_at_nodes() {
        let xs: Vec<f64> = (0..50).map(|i| (i as f64).powf(1.3)).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x - 2.0).collect();
        for k in 0..500 {
            let x = xs[49] * k as f64 / 499.0;
            assert!((interp(&xs, &ys, x) - (3.0 * x - 2.0)).abs() < 1e-11);
        }
        for (x, y) in xs.iter().zip(&ys) {
            assert_eq!(interp(&xs, &ys, *x), *y);
        }
    }

    #[test]
    fn bracket_segments_and_weights() {
        let xs = [0.0, 1.0, 2.0, 4.0];
        assert_eq!(bracket(&xs, -3.0), (0, 0.0));
        assert_eq!(bracket(&xs, 0.5), (0, 0.5));
        assert_eq!(bracket(&xs, 1.0), (1, 0.0));
        assert_eq!(bracket(&xs, 3.0), (2, 0.5));
        assert_eq!(bracket(&xs, 4.0), (2, 1.0));
        assert_eq!(bracket(&xs, 7.0), (2, 1.0));
        assert_eq!(bracket(&xs, f64::NAN), (0, 0.0));
    }

    #[test]
    fn checked_refuses_outside_and_loglog_is_a_power_law() {
        assert_eq!(interp_checked(&[1.0, 2.0], &[1.0, 2.0], 2.5), None);
        assert_eq!(interp_checked(&[1.0, 2.0], &[1.0, 2.0], 1.5), Some(1.5));
        // y = x^2 between nodes 1 and 10 is exact in log-log.
        let y = interp_loglog(&[1.0, 10.0], &[1.0, 100.0], 3.0);
        assert!((y - 9.0).abs() < 1e-12, "{y}");
    }

    #[test]
    fn table_checks_its_nodes() {
        assert!(matches!(Interp1d::new(vec![0.0], vec![1.0]), Err(CoreError::Shape { .. })));
        assert!(matches!(Interp1d::new(vec![0.0, 1.0], vec![1.0]), Err(CoreError::Shape { .. })));
        assert!(matches!(
            Interp1d::new(vec![0.0, f64::NAN], vec![1.0, 2.0]),
            Err(CoreError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            Interp1d::new(vec![0.0, 1.0, 1.0], vec![1.0, 2.0, 3.0]),
            Err(CoreError::InvalidParameter { .. })
        ));
        let t = Interp1d::new(vec![0.0, 2.0], vec![0.0, 4.0]).unwrap();
        assert_eq!(t.eval(1.0), 2.0);
        assert_eq!(t.eval(5.0), 4.0);
        assert_eq!(t.eval_checked(5.0), None);
    }
}
