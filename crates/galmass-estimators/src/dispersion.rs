//! Line-of-sight velocity dispersions.
//!
//! Without velocity errors the dispersion is the sample standard deviation (ddof = 1), the same number
//! `galmass_core::projection::ProjectedStars::sigma_los_kms` gives. With per-star Gaussian errors e_i the intrinsic
//! dispersion is the maximum-likelihood solution of
//! `L(mu, s) = -1/2 sum_i [ln(s + e_i^2) + (v_i - mu)^2 / (s + e_i^2)]`, s = sigma^2 >= 0 (Walker et al. 2006 eq. 8).
//! For a given s the best mean is the inverse-variance weighted mean; s solves
//! `sum_i [(v_i - mu)^2 - (s + e_i^2)] / (s + e_i^2)^2 = 0` (bisection, `galmass_core::numeric::roots`), or is 0 when the errors alone explain the
//! spread. With all errors zero the ML dispersion is the ddof = 0 standard deviation; the ML estimate is used only
//! when errors are given.
//!
//! ```
//! use galmass_estimators::dispersion::ml_dispersion_kms;
//! let v = [-3.0, 4.0, 1.0, -2.0, 0.5];
//! let (mean, sigma) = ml_dispersion_kms(&v, &[0.0; 5]).unwrap();
//! assert!((mean - 0.1).abs() < 1e-12 && sigma > 0.0);
//! ```

use galmass_core::numeric::roots::bisect_monotonic;
use galmass_core::{stats, CoreError};

use crate::error::EstimatorError;

/// Sample standard deviation (ddof = 1). Needs at least two velocities.
pub fn sample_dispersion_kms(v_kms: &[f64]) -> Result<f64, EstimatorError> {
    check_finite("v_los_kms", v_kms)?;
    stats::variance(v_kms, 1)
        .map(f64::sqrt)
        .ok_or_else(|| CoreError::TooFewParticles { what: "sigma_los".into(), needed: 2, got: v_kms.len() }.into())
}

/// Maximum-likelihood mean and intrinsic dispersion given per-star errors (km/s). Needs at least two stars.
pub fn ml_dispersion_kms(v_kms: &[f64], errors_kms: &[f64]) -> Result<(f64, f64), EstimatorError> {
    check_finite("v_los_kms", v_kms)?;
    check_finite("velocity_errors_kms", errors_kms)?;
    if errors_kms.len() != v_kms.len() {
        return Err(EstimatorError::BadInput {
            name: "velocity_errors_kms",
            expected: format!("{} values (one per star)", v_kms.len()),
            got: format!("{}", errors_kms.len()),
        });
    }
    if let Some(e) = errors_kms.iter().find(|e| **e < 0.0) {
        return Err(EstimatorError::BadInput {
            name: "velocity_errors_kms",
            expected: "non-negative errors".into(),
            got: format!("{e}"),
        });
    }
    if v_kms.len() < 2 {
        return Err(CoreError::TooFewParticles { what: "sigma_los".into(), needed: 2, got: v_kms.len() }.into());
    }
    let e2: Vec<f64> = errors_kms.iter().map(|e| e * e).collect();
    let weighted_mean = |s: f64| {
        let (mut sw, mut swv) = (0.0, 0.0);
        for (v, e2) in v_kms.iter().zip(&e2) {
            let w = 1.0 / (s + e2).max(f64::MIN_POSITIVE);
            sw += w;
            swv += w * v;
        }
        swv / sw
    };
    // Derivative of the profile log-likelihood with respect to s (up to a factor 1/2).
    let slope = |s: f64| {
        let mu = weighted_mean(s);
        v_kms
            .iter()
            .zip(&e2)
            .map(|(v, e2)| {
                let t = (s + e2).max(f64::MIN_POSITIVE);
                ((v - mu) * (v - mu) - t) / (t * t)
            })
            .sum::<f64>()
    };
    let spread = stats::variance(v_kms, 0).unwrap_or(0.0);
    // Errors alone explain the spread (or there is none): the intrinsic dispersion is zero.
    if spread == 0.0 || slope(0.0) <= 0.0 {
        return Ok((weighted_mean(0.0), 0.0));
    }
    // The slope decreases through zero: bracket the root, then bisect where -slope reaches 0. (With zero errors the
    // slope at s = 0 itself is undefined, 0/0; the monotonic bisection never needs its value there.)
    let mut hi = 2.0 * spread + 1.0;
    while slope(hi) > 0.0 && hi.is_finite() {
        hi *= 2.0;
    }
    let s = bisect_monotonic(|s| -slope(s), 0.0, 0.0, hi, 1e-14);
    Ok((weighted_mean(s), s.sqrt()))
}

fn check_finite(name: &'static str, values: &[f64]) -> Result<(), EstimatorError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(EstimatorError::BadInput {
            name,
            expected: "finite values".into(),
            got: format!("{} at index {i}", values[i]),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn ml_without_errors_is_population_std() {
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let (mean, sigma) = ml_dispersion_kms(&v, &[0.0; 8]).unwrap();
        assert_relative_eq!(mean, 5.0, epsilon = 1e-12);
        assert_relative_eq!(sigma, 2.0, max_relative = 1e-10);
        assert_relative_eq!(sample_dispersion_kms(&v).unwrap(), (32.0f64 / 7.0).sqrt(), max_relative = 1e-14);
    }

    #[test]
    fn ml_with_equal_errors_subtracts_in_quadrature() {
        // With equal errors e the ML solution is s = var0 - e^2 exactly.
        let v = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let (_, sigma) = ml_dispersion_kms(&v, &[1.5; 8]).unwrap();
        assert_relative_eq!(sigma, (4.0f64 - 2.25).sqrt(), max_relative = 1e-10);
        // Errors larger than the spread: no intrinsic dispersion.
        let (_, sigma) = ml_dispersion_kms(&v, &[3.0; 8]).unwrap();
        assert_eq!(sigma, 0.0);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert!(matches!(
            ml_dispersion_kms(&[1.0], &[0.0]),
            Err(EstimatorError::Core(CoreError::TooFewParticles { .. }))
        ));
        assert!(matches!(ml_dispersion_kms(&[1.0, 2.0], &[0.0]), Err(EstimatorError::BadInput { .. })));
        assert!(matches!(ml_dispersion_kms(&[1.0, f64::NAN], &[0.0, 0.0]), Err(EstimatorError::BadInput { .. })));
        assert!(matches!(ml_dispersion_kms(&[1.0, 2.0], &[0.0, -1.0]), Err(EstimatorError::BadInput { .. })));
        assert!(matches!(
            sample_dispersion_kms(&[]),
            Err(EstimatorError::Core(CoreError::TooFewParticles { got: 0, .. }))
        ));
    }
}
