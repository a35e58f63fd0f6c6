//! Internal units and physical constants.
//!
//! galmass works in kpc, km/s, Msun and Gyr everywhere (methods.md, "Internal units everywhere"). Readers convert
//! each simulation's own units on the way in; nothing downstream of a galaxy file sees h, a or code units.
//!
//! ```
//! use galmass_core::units::{G_KPC_KMS2_PER_MSUN, circular_velocity_kms};
//! // A 1e10 Msun point mass seen from 10 kpc moves at about 65.6 km/s.
//! let v = circular_velocity_kms(1e10, 10.0);
//! assert!((v - (G_KPC_KMS2_PER_MSUN * 1e10 / 10.0).sqrt()).abs() < 1e-12);
//! ```

/// Gravitational constant in kpc (km/s)^2 / Msun (methods.md; IAU 2015 nominal solar mass parameter).
pub const G_KPC_KMS2_PER_MSUN: f64 = 4.300_917_27e-6;

/// One kiloparsec in kilometres.
pub const KPC_KM: f64 = 3.085_677_581_491_367e16;

/// One kiloparsec in centimetres.
pub const KPC_CM: f64 = KPC_KM * 1e5;

/// One parsec in centimetres.
pub const PC_CM: f64 = KPC_CM * 1e-3;

/// One megaparsec in kiloparsecs.
pub const MPC_KPC: f64 = 1e3;

/// One Julian year in seconds.
pub const YEAR_S: f64 = 365.25 * 86_400.0;

/// One gigayear in seconds.
pub const GYR_S: f64 = 1e9 * YEAR_S;

/// The time unit kpc / (km/s) expressed in Gyr (about 0.978 Gyr).
pub const KPC_PER_KMS_GYR: f64 = KPC_KM / GYR_S;

/// Solar mass in grams (IAU 2015 nominal, GM_sun / G).
pub const MSUN_G: f64 = 1.988_409_87e33;

/// Proton mass in grams (CODATA 2018).
pub const PROTON_MASS_G: f64 = 1.672_621_923_69e-24;

/// Boltzmann constant in erg / K (exact, SI 2019).
pub const BOLTZMANN_ERG_PER_K: f64 = 1.380_649e-16;

/// Speed of light in km/s (exact).
pub const SPEED_OF_LIGHT_KMS: f64 = 299_792.458;

/// Circular velocity in km/s of a mass `mass_msun` enclosed within `radius_kpc`.
///
/// Returns 0 for non-positive radii rather than infinity, so that profiles can start at the centre.
pub fn circular_velocity_kms(mass_msun: f64, radius_kpc: f64) -> f64 {
    if radius_kpc <= 0.0 {
        return 0.0;
    }
    (G_KPC_KMS2_PER_MSUN * mass_msun / radius_kpc).sqrt()
}

/// Dynamical mass in Msun implied by a velocity `velocity_kms` at `radius_kpc`, with a dimensionless prefactor:
/// `M = prefactor * radius * velocity^2 / G`. All the classic estimators of sarrato2025 §3 have this form.
pub fn dynamical_mass_msun(prefactor: f64, radius_kpc: f64, velocity_kms: f64) -> f64 {
    prefactor * radius_kpc * velocity_kms * velocity_kms / G_KPC_KMS2_PER_MSUN
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn gravitational_constant_matches_cgs_value() {
        // G = 6.6743e-8 cm^3 g^-1 s^-2 (CODATA 2018) converted to kpc (km/s)^2 / Msun.
        let g_cgs = 6.674_30e-8;
        let g = g_cgs * MSUN_G / KPC_CM / 1e10;
        assert_relative_eq!(g, G_KPC_KMS2_PER_MSUN, max_relative = 1e-4);
    }

    #[test]
    fn time_unit_is_about_one_gyr() {
        assert_relative_eq!(KPC_PER_KMS_GYR, 0.977_79, max_relative = 1e-4);
    }

    #[test]
    fn dynamical_mass_inverts_circular_velocity() {
        let v = circular_velocity_kms(3.2e9, 2.5);
        assert_relative_eq!(dynamical_mass_msun(1.0, 2.5, v), 3.2e9, max_relative = 1e-12);
        assert_eq!(circular_velocity_kms(1e10, 0.0), 0.0);
    }
}
