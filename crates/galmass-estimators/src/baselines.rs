//! Scaling-relation baselines.
//!
//! - Tully-Fisher (Hall et al. 2012 calibration, delosrios2023 §5): `log10 V_rot = 0.264 log10 M* - 0.558`
//!   (V_rot in km/s, M* in Msun), compared with the circular velocity at twice the stellar half-mass radius.
//! - Power law between stellar mass and luminosity (chu2024 §4.3, its 0.16 dex baseline): an ordinary least-squares
//!   fit of `log10 M* = a + b log10 L`, its predictions and its scatter in dex.
//!
//! ```
//! use galmass_estimators::baselines::{tully_fisher_vrot_kms, PowerLawFit};
//! let v = tully_fisher_vrot_kms(1e10).unwrap();
//! assert!((v.log10() - (0.264 * 10.0 - 0.558)).abs() < 1e-12);
//! let fit = PowerLawFit::fit(&[1e9, 1e10, 1e11], &[2e9, 2e10, 2e11]).unwrap();
//! assert!((fit.slope - 1.0).abs() < 1e-12);
//! ```

use galmass_core::units::circular_velocity_kms;
use serde::{Deserialize, Serialize};

use crate::error::EstimatorError;

/// Slope of the Hall et al. 2012 Tully-Fisher relation (delosrios2023 §5).
pub const HALL2012_SLOPE: f64 = 0.264;
/// Intercept of the Hall et al. 2012 Tully-Fisher relation (delosrios2023 §5).
pub const HALL2012_INTERCEPT: f64 = -0.558;

/// Rotation velocity in km/s predicted from the stellar mass by the Hall et al. 2012 Tully-Fisher relation.
pub fn tully_fisher_vrot_kms(stellar_mass_msun: f64) -> Result<f64, EstimatorError> {
    positive("stellar_mass_msun", stellar_mass_msun)?;
    Ok(10f64.powf(HALL2012_SLOPE * stellar_mass_msun.log10() + HALL2012_INTERCEPT))
}

/// The true rotation velocity the Tully-Fisher prediction is compared with: the circular velocity at twice the
/// stellar half-mass radius, from the total mass enclosed there.
pub fn true_vrot_kms(enclosed_mass_msun: f64, stellar_half_mass_radius_kpc: f64) -> Result<f64, EstimatorError> {
    positive("stellar_half_mass_radius_kpc", stellar_half_mass_radius_kpc)?;
    if !(enclosed_mass_msun >= 0.0 && enclosed_mass_msun.is_finite()) {
        return Err(bad("enclosed_mass_msun", "a finite non-negative mass", enclosed_mass_msun));
    }
    Ok(circular_velocity_kms(enclosed_mass_msun, 2.0 * stellar_half_mass_radius_kpc))
}

/// A least-squares power law `log10 y = intercept + slope log10 x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PowerLawFit {
    /// Intercept in dex.
    pub intercept: f64,
    /// Slope.
    pub slope: f64,
    /// Standard deviation (ddof 0) of the residuals in dex on the fitted data.
    pub scatter_dex: f64,
}

impl PowerLawFit {
    /// Fits positive `x` (e.g. luminosities) to positive `y` (e.g. stellar masses). Needs two distinct `x`.
    pub fn fit(x: &[f64], y: &[f64]) -> Result<Self, EstimatorError> {
        if x.len() != y.len() {
            return Err(EstimatorError::BadInput {
                name: "y",
                expected: format!("{} values", x.len()),
                got: format!("{}", y.len()),
            });
        }
        let lx = logs("x", x)?;
        let ly = logs("y", y)?;
        let n = lx.len() as f64;
        let mx = lx.iter().sum::<f64>() / n;
        let my = ly.iter().sum::<f64>() / n;
        let sxx: f64 = lx.iter().map(|a| (a - mx) * (a - mx)).sum();
        let sxy: f64 = lx.iter().zip(&ly).map(|(a, b)| (a - mx) * (b - my)).sum();
        if lx.len() < 2 || sxx <= 0.0 {
            return Err(EstimatorError::BadInput {
                name: "x",
                expected: "at least two distinct values".into(),
                got: format!("{} values", lx.len()),
            });
        }
        let slope = sxy / sxx;
        let intercept = my - slope * mx;
        let scatter_dex =
            (lx.iter().zip(&ly).map(|(a, b)| (b - intercept - slope * a).powi(2)).sum::<f64>() / n).sqrt();
        Ok(Self { intercept, slope, scatter_dex })
    }

    /// Predicted y for a positive x.
    pub fn predict(&self, x: f64) -> Result<f64, EstimatorError> {
        positive("x", x)?;
        Ok(10f64.powf(self.intercept + self.slope * x.log10()))
    }
}

fn logs(name: &'static str, values: &[f64]) -> Result<Vec<f64>, EstimatorError> {
    values.iter().map(|&v| positive(name, v).map(|()| v.log10())).collect()
}

fn positive(name: &'static str, v: f64) -> Result<(), EstimatorError> {
    if v > 0.0 && v.is_finite() {
        Ok(())
    } else {
        Err(bad(name, "a finite positive value", v))
    }
}

fn bad(name: &'static str, expected: &str, got: f64) -> EstimatorError {
    EstimatorError::BadInput { name, expected: expected.into(), got: format!("{got}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn tully_fisher_matches_closed_form() {
        for m in [1e8, 3e9, 1e11] {
            let expected = 10f64.powf(0.264 * f64::log10(m) - 0.558);
            assert_relative_eq!(tully_fisher_vrot_kms(m).unwrap(), expected, max_relative = 1e-14);
        }
        assert!(matches!(tully_fisher_vrot_kms(0.0), Err(EstimatorError::BadInput { name: "stellar_mass_msun", .. })));
        assert!(matches!(
            tully_fisher_vrot_kms(f64::NAN),
            Err(EstimatorError::BadInput { name: "stellar_mass_msun", .. })
        ));
        let v = true_vrot_kms(1e10, 2.5).unwrap();
        assert_relative_eq!(v * v * 5.0 / galmass_core::units::G_KPC_KMS2_PER_MSUN, 1e10, max_relative = 1e-12);
    }

    #[test]
    fn power_law_recovers_exact_relation_and_scatter() {
        let l = [1e8, 1e9, 1e10, 1e11];
        let m: Vec<f64> = l.iter().map(|x: &f64| 10f64.powf(0.3 + 1.1 * x.log10())).collect();
        let fit = PowerLawFit::fit(&l, &m).unwrap();
        assert_relative_eq!(fit.slope, 1.1, max_relative = 1e-12);
        assert_relative_eq!(fit.intercept, 0.3, max_relative = 1e-10);
        assert!(fit.scatter_dex < 1e-12);
        assert_relative_eq!(fit.predict(1e12).unwrap(), 10f64.powf(0.3 + 13.2), max_relative = 1e-10);
        // Residuals +-0.1 dex alternating about a line: scatter 0.1 dex.
        let m2: Vec<f64> =
            m.iter().enumerate().map(|(i, v)| v * 10f64.powf(if i % 2 == 0 { 0.1 } else { -0.1 })).collect();
        let fit2 = PowerLawFit::fit(&l, &m2).unwrap();
        assert!(fit2.scatter_dex > 0.08 && fit2.scatter_dex <= 0.1 + 1e-12);
        let bad = |x: &[f64], y: &[f64]| match PowerLawFit::fit(x, y) {
            Err(EstimatorError::BadInput { name, .. }) => name,
            other => panic!("expected a bad input, got {other:?}"),
        };
        assert_eq!(bad(&[1.0, 1.0], &[1.0, 2.0]), "x"); // no spread in x
        assert_eq!(bad(&[1.0, -1.0], &[1.0, 2.0]), "x"); // not positive
        assert_eq!(bad(&[1.0], &[1.0, 2.0]), "y"); // lengths differ
    }
}
