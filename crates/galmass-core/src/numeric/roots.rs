//! Root finding by bisection: robust for the monotonic functions galmass inverts (enclosed mass for half-mass
//! radii, cumulative distributions, cosmic time).
//!
//! ```
//! use galmass_core::numeric::roots::{bisect, bisect_monotonic};
//! let r = bisect(|x| x.powi(3) - 8.0, 0.0, 10.0, 1e-14).unwrap();
//! assert!((r - 2.0).abs() < 1e-12);
//! // Where an increasing f reaches a target, clamped to the bracket when it never does.
//! assert_eq!(bisect_monotonic(|x| x, 20.0, 0.0, 10.0, 1e-12), 10.0);
//! ```

use crate::error::CoreError;

/// Iterations after which bisection stops whatever the tolerance (2^-200 of any bracket is below f64 resolution).
pub const MAX_ITERATIONS: usize = 200;

/// A root of `f` in `[lo, hi]`, where `f(lo)` and `f(hi)` differ in sign (a zero at either end is returned
/// as is). Stops when the bracket is narrower than `rel_tol` times the larger of `|mid|` and the smallest positive
/// normal number, or after [`MAX_ITERATIONS`].
pub fn bisect(f: impl Fn(f64) -> f64, lo: f64, hi: f64, rel_tol: f64) -> Result<f64, CoreError> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(CoreError::invalid("bisection bracket", format!("needs finite lo < hi, got [{lo}, {hi}]")));
    }
    let (f_lo, f_hi) = (f(lo), f(hi));
    if f_lo == 0.0 {
        return Ok(lo);
    }
    if f_hi == 0.0 {
        return Ok(hi);
    }
    if !(f_lo.is_finite() && f_hi.is_finite()) || f_lo.signum() == f_hi.signum() {
        return Err(CoreError::invalid(
            "bisection bracket",
            format!("f must change sign on [{lo}, {hi}], got f(lo) = {f_lo}, f(hi) = {f_hi}"),
        ));
    }
    let (mut a, mut b, negative_at_a) = (lo, hi, f_lo < 0.0);
    for _ in 0..MAX_ITERATIONS {
        let mid = 0.5 * (a + b);
        if (b - a) <= rel_tol * mid.abs().max(f64::MIN_POSITIVE) {
            return Ok(mid);
        }
        let fm = f(mid);
        if fm == 0.0 {
            return Ok(mid);
        }
        if (fm < 0.0) == negative_at_a {
            a = mid;
        } else {
            b = mid;
        }
    }
    Ok(0.5 * (a + b))
}

/// Where the non-decreasing `f` reaches `target` on `[lo, hi]`; `lo` when `f(lo) >= target`, `hi` when
/// `f(hi) < target`. Never fails: for half-mass radii and quantiles, where the bracket is known to hold the answer.
pub fn bisect_monotonic(f: impl Fn(f64) -> f64, target: f64, lo: f64, hi: f64, rel_tol: f64) -> f64 {
    if f(lo) >= target {
        return lo;
    }
    if f(hi) < target {
        return hi;
    }
    let (mut a, mut b) = (lo, hi);
    for _ in 0..MAX_ITERATIONS {
        let mid = 0.5 * (a + b);
        if (b - a) <= rel_tol * mid.abs().max(f64::MIN_POSITIVE) {
            break;
        }
        if f(mid) < target {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_roots_of_increasing_and_decreasing_functions() {
        let r = bisect(|x| x.cos() - x, 0.0, 1.0, 1e-15).unwrap();
        assert!((r.cos() - r).abs() < 1e-14);
        let r = bisect(|x| 1.0 - x * x, 0.0, 5.0, 1e-15).unwrap();
        assert!((r - 1.0).abs() < 1e-14);
        assert_eq!(bisect(|x| x - 1.0, 1.0, 2.0, 1e-12).unwrap(), 1.0);
    }

    #[test]
    fn refuses_a_bracket_without_a_sign_change() {
        assert!(matches!(bisect(|x| x * x + 1.0, -1.0, 1.0, 1e-12), Err(CoreError::InvalidParameter { .. })));
        assert!(matches!(bisect(|x| x, 1.0, 0.0, 1e-12), Err(CoreError::InvalidParameter { .. })));
        assert!(matches!(bisect(|_| f64::NAN, 0.0, 1.0, 1e-12), Err(CoreError::InvalidParameter { .. })));
    }

    #[test]
    fn monotonic_inversion_of_a_plummer_mass_profile() {
        // Plummer M(<r)/M = r^3 / (r^2 + a^2)^(3/2): half-mass radius (2^(2/3) - 1)^(-1/2) a = 1.3048 a.
        let a = 0.7;
        let m = |r: f64| r.powi(3) / (r * r + a * a).powf(1.5);
        let r_half = bisect_monotonic(m, 0.5, 1e-4, 1e4, 1e-14);
        assert!((r_half / a - 1.0 / (2f64.powf(2.0 / 3.0) - 1.0).sqrt()).abs() < 1e-12);
        assert_eq!(bisect_monotonic(m, 0.0, 1e-4, 1e4, 1e-14), 1e-4);
        assert_eq!(bisect_monotonic(m, 2.0, 1e-4, 1e4, 1e-14), 1e4);
    }
}
