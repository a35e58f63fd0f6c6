//! Lambda-CDM cosmology, one for every crate: the synthetic suites' haloes (critical density, H(z)), the
//! snapshot readers' stellar ages (cosmic time at a scale factor) and the age of the universe at a snapshot.
//!
//! Radiation is neglected (a snapshot's header carries Omega0 and OmegaLambda only). Flat models use the closed form
//! `t(a) = 2 / (3 H0 sqrt(OL)) asinh(sqrt(OL / Om) a^(3/2))`; curved ones integrate
//! `t(a) = (2 / H0) int_0^sqrt(a) u^2 du / sqrt(Om + Ok u^2 + OL u^6)` (a = u^2, smooth at u = 0) by Simpson's rule.
//! Presets are the parameter sets of the simulations and relations galmass uses.
//!
//! ```
//! use galmass_core::cosmology::Cosmology;
//! let tng = Cosmology::PLANCK2015;
//! assert!((tng.age_of_universe_gyr(0.0) - 13.80).abs() < 0.05);
//! let a = 0.5;
//! assert!((tng.scale_factor_at_gyr(tng.cosmic_time_gyr(a)) - a).abs() < 1e-12);
//! ```

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::numeric::{quad::simpson, roots::bisect};
use crate::units::{GYR_S, G_KPC_KMS2_PER_MSUN, KPC_KM, MPC_KPC};

/// 1 / (100 km/s/Mpc) in Gyr: the Hubble time for h = 1 (9.778 Gyr).
pub const HUBBLE_TIME_GYR_H1: f64 = MPC_KPC * KPC_KM / 100.0 / GYR_S;

/// Intervals of the Simpson integration of a curved model's cosmic time (error far below 1e-9 relative).
const SIMPSON_INTERVALS: usize = 2000;

/// |Omega_k| below which a model is treated as flat and takes the closed form.
const FLAT_TOLERANCE: f64 = 1e-9;

/// A Lambda-CDM cosmology (radiation neglected).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cosmology {
    /// Dimensionless Hubble parameter h = H0 / (100 km/s/Mpc).
    pub h: f64,
    /// Matter density parameter today.
    pub omega_m: f64,
    /// Cosmological-constant density parameter today.
    pub omega_lambda: f64,
}

impl Cosmology {
    /// Planck 2013 as used by Dutton & Maccio 2014 and NIHAO (h = 0.671, Omega_m = 0.3175, flat).
    pub const PLANCK2013: Cosmology = Cosmology { h: 0.671, omega_m: 0.3175, omega_lambda: 0.6825 };
    /// Planck 2015 as used by IllustrisTNG (h = 0.6774, Omega_m = 0.3089, Omega_Lambda = 0.6911).
    pub const PLANCK2015: Cosmology = Cosmology { h: 0.6774, omega_m: 0.3089, omega_lambda: 0.6911 };
    /// Planck 2018 (TT,TE,EE+lowE+lensing+BAO: h = 0.6766, Omega_m = 0.3111, flat); the synthetic suites'
    /// stellar populations use its age of the universe (13.79 Gyr at z = 0).
    pub const PLANCK2018: Cosmology = Cosmology { h: 0.6766, omega_m: 0.3111, omega_lambda: 0.6889 };

    /// A checked cosmology: h and Omega_m positive and finite, Omega_Lambda finite and non-negative.
    pub fn new(h: f64, omega_m: f64, omega_lambda: f64) -> Result<Self, CoreError> {
        if !(h > 0.0 && h.is_finite()) {
            return Err(CoreError::invalid("h", format!("must be positive and finite, got {h}")));
        }
        if !(omega_m > 0.0 && omega_m.is_finite()) {
            return Err(CoreError::invalid("omega_m", format!("must be positive and finite, got {omega_m}")));
        }
        if !(omega_lambda >= 0.0 && omega_lambda.is_finite()) {
            return Err(CoreError::invalid(
                "omega_lambda",
                format!("must be non-negative and finite, got {omega_lambda}"),
            ));
        }
        Ok(Self { h, omega_m, omega_lambda })
    }

    /// A flat cosmology (Omega_Lambda = 1 - Omega_m).
    pub fn flat(h: f64, omega_m: f64) -> Result<Self, CoreError> {
        Self::new(h, omega_m, 1.0 - omega_m)
    }

    /// Curvature density parameter 1 - Omega_m - Omega_Lambda.
    pub fn omega_k(&self) -> f64 {
        1.0 - self.omega_m - self.omega_lambda
    }

    /// Whether |Omega_k| < `tolerance`.
    pub fn is_flat_within(&self, tolerance: f64) -> bool {
        self.omega_k().abs() < tolerance
    }

    /// E(z) = H(z) / H0.
    pub fn e_of_z(&self, z: f64) -> f64 {
        let zp1 = 1.0 + z;
        (self.omega_m * zp1.powi(3) + self.omega_k() * zp1 * zp1 + self.omega_lambda).sqrt()
    }

    /// H(z) in km/s/kpc.
    pub fn hubble_kms_kpc(&self, z: f64) -> f64 {
        0.1 * self.h * self.e_of_z(z) // 100 h km/s/Mpc = 0.1 h km/s/kpc
    }

    /// Critical density 3 H(z)^2 / (8 pi G) in Msun/kpc^3.
    pub fn critical_density_msun_kpc3(&self, z: f64) -> f64 {
        let hz = self.hubble_kms_kpc(z);
        3.0 * hz * hz / (8.0 * PI * G_KPC_KMS2_PER_MSUN)
    }

    /// The Hubble time 1 / H0 in Gyr.
    pub fn hubble_time_gyr(&self) -> f64 {
        HUBBLE_TIME_GYR_H1 / self.h
    }

    /// Cosmic time (time since the Big Bang) at scale factor `a`, Gyr; 0 for `a <= 0`.
    pub fn cosmic_time_gyr(&self, a: f64) -> f64 {
        if a <= 0.0 || a.is_nan() {
            return 0.0;
        }
        let (om, ol) = (self.omega_m, self.omega_lambda);
        if self.is_flat_within(FLAT_TOLERANCE) && ol > 0.0 {
            return 2.0 * self.hubble_time_gyr() / (3.0 * ol.sqrt()) * ((ol / om).sqrt() * a.powf(1.5)).asinh();
        }
        let ok = self.omega_k();
        let integrand = |u: f64| u * u / (om + ok * u * u + ol * u.powi(6)).sqrt();
        2.0 * self.hubble_time_gyr() * simpson(integrand, 0.0, a.sqrt(), SIMPSON_INTERVALS)
    }

    /// The scale factor at cosmic time `t_gyr` (the inverse of [`Cosmology::cosmic_time_gyr`]); 0 for `t <= 0`.
    pub fn scale_factor_at_gyr(&self, t_gyr: f64) -> f64 {
        if t_gyr <= 0.0 || t_gyr.is_nan() {
            return 0.0;
        }
        let (om, ol) = (self.omega_m, self.omega_lambda);
        if self.is_flat_within(FLAT_TOLERANCE) && ol > 0.0 {
            return ((1.5 * ol.sqrt() * t_gyr / self.hubble_time_gyr()).sinh() / (ol / om).sqrt()).powf(2.0 / 3.0);
        }
        // Curved: invert numerically on a bracket that grows until it holds t.
        let mut hi = 1.0;
        while self.cosmic_time_gyr(hi) < t_gyr && hi < 1e6 {
            hi *= 2.0;
        }
        bisect(|a| self.cosmic_time_gyr(a) - t_gyr, 0.0, hi, 1e-14).unwrap_or(hi)
    }

    /// The age of the universe at redshift `z`, Gyr.
    pub fn age_of_universe_gyr(&self, z: f64) -> f64 {
        self.cosmic_time_gyr(1.0 / (1.0 + z))
    }

    /// Time from scale factor `a_form` to `a` (the age at `a` of a star formed at `a_form`), Gyr.
    pub fn age_gyr(&self, a_form: f64, a: f64) -> f64 {
        self.cosmic_time_gyr(a) - self.cosmic_time_gyr(a_form)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn hubble_time_and_critical_density() {
        assert_relative_eq!(HUBBLE_TIME_GYR_H1, 9.777_922, max_relative = 1e-6);
        // rho_crit,0 = 2.775e2 h^2 Msun/kpc^3.
        let c = Cosmology::flat(1.0, 0.3).unwrap();
        assert_relative_eq!(c.critical_density_msun_kpc3(0.0), 277.5, max_relative = 1e-3);
        assert_relative_eq!(c.hubble_kms_kpc(0.0), 0.1, max_relative = 1e-15);
    }

    #[test]
    fn ages_of_the_universe_match_the_published_values() {
        // Planck 2015 (TNG): 13.80 Gyr; Planck 2018: 13.787 Gyr (astropy Planck18, radiation included, 13.787).
        assert_relative_eq!(Cosmology::PLANCK2015.age_of_universe_gyr(0.0), 13.80, max_relative = 3e-3);
        assert_relative_eq!(Cosmology::PLANCK2018.age_of_universe_gyr(0.0), 13.79, max_relative = 2e-3);
        // Einstein-de Sitter: t0 = 2 / (3 H0) exactly.
        let eds = Cosmology::new(0.7, 1.0, 0.0).unwrap();
        assert_relative_eq!(eds.age_of_universe_gyr(0.0), 2.0 / 3.0 * HUBBLE_TIME_GYR_H1 / 0.7, max_relative = 1e-9);
        assert_relative_eq!(eds.age_of_universe_gyr(3.0), eds.age_of_universe_gyr(0.0) / 8.0, max_relative = 1e-9);
    }

    #[test]
    fn closed_form_matches_the_integral() {
        let flat = Cosmology::PLANCK2015;
        // A nearly flat model takes the integral; it must agree with the closed form to the curvature's effect.
        let almost = Cosmology { omega_lambda: flat.omega_lambda + 1e-8, ..flat };
        for a in [0.05, 0.3, 0.7, 1.0] {
            assert_relative_eq!(almost.cosmic_time_gyr(a), flat.cosmic_time_gyr(a), max_relative = 1e-7);
        }
        assert_relative_eq!(flat.age_gyr(0.5, 1.0), flat.cosmic_time_gyr(1.0) - flat.cosmic_time_gyr(0.5));
    }

    #[test]
    fn scale_factor_inverts_cosmic_time_flat_and_curved() {
        let open = Cosmology::new(0.7, 0.3, 0.0).unwrap();
        for c in [Cosmology::PLANCK2013, open] {
            for a in [0.01, 0.2, 0.5, 1.0, 1.5] {
                assert_relative_eq!(c.scale_factor_at_gyr(c.cosmic_time_gyr(a)), a, max_relative = 1e-10);
            }
        }
        assert_eq!(Cosmology::PLANCK2013.cosmic_time_gyr(0.0), 0.0);
        assert_eq!(Cosmology::PLANCK2013.scale_factor_at_gyr(-1.0), 0.0);
    }

    #[test]
    fn new_refuses_unphysical_parameters() {
        assert!(
            matches!(Cosmology::new(0.0, 0.3, 0.7), Err(CoreError::InvalidParameter { ref name, .. }) if name == "h")
        );
        assert!(
            matches!(Cosmology::new(0.7, f64::NAN, 0.7), Err(CoreError::InvalidParameter { ref name, .. }) if name == "omega_m")
        );
        assert!(
            matches!(Cosmology::new(0.7, 0.3, -0.1), Err(CoreError::InvalidParameter { ref name, .. }) if name == "omega_lambda")
        );
    }
}
