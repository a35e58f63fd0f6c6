//! Dark haloes and the galaxy-halo connection: the haloes' cosmology, NFW haloes from (M200, c), the
//! concentration-mass relation of Dutton & Maccio 2014, the stellar-to-halo mass relation of Moster, Naab & White 2013
//! and the baryon-modified inner profiles of Di Cintio et al. 2014 (DC14), all at redshift z.
//!
//! Conventions: M200 and r200 enclose a mean density of 200 times the critical density (Dutton & Maccio 2014 §2);
//! masses in Msun (not Msun/h); the cosmology is [`galmass_core::cosmology::Cosmology`], here Planck 2013 as used by
//! Dutton & Maccio ([`HALO_COSMOLOGY`]: h = 0.671, Omega_m = 0.3175, flat).
//!
//! ```
//! use galmass_synth::halo::{concentration_dm14, HaloModel, HALO_COSMOLOGY};
//! let cosmo = HALO_COSMOLOGY;
//! let halo = HaloModel::nfw_from_m200(1e11, concentration_dm14(&cosmo, 1e11, 0.0), 0.0, &cosmo).unwrap();
//! assert!((halo.m200_msun / 1e11 - 1.0).abs() < 1e-12);
//! ```

use std::f64::consts::PI;

use galmass_core::cosmology::Cosmology;
use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;
use serde::{Deserialize, Serialize};

use crate::error::SynthError;
use crate::profiles::{Nfw, SphericalProfile};

/// The cosmology of the suites' haloes: Planck 2013 as used by Dutton & Maccio 2014, whose concentrations are
/// calibrated in it (h = 0.671, Omega_m = 0.3175, flat).
pub const HALO_COSMOLOGY: Cosmology = Cosmology::PLANCK2013;

/// Dutton & Maccio 2014 (eqs. 7, 10-11) NFW concentration c200 of a halo of mass `m200_msun` at redshift z, with
/// masses in Msun/h of `cosmology`'s h: `log10 c = a + b log10(M200 / (1e12 Msun/h))`,
/// `a = 0.520 + 0.385 exp(-0.617 z^1.21)`, `b = -0.101 + 0.026 z`.
pub fn concentration_dm14(cosmology: &Cosmology, m200_msun: f64, z: f64) -> f64 {
    let a = 0.520 + (0.905 - 0.520) * (-0.617 * z.powf(1.21)).exp();
    let b = -0.101 + 0.026 * z;
    10f64.powf(a + b * (m200_msun * cosmology.h / 1e12).log10())
}

/// Moster, Naab & White 2013 stellar-to-halo mass relation at z = 0 (their eq. 2 and table 1):
/// `M* / M = 2 N [(M/M1)^(-beta) + (M/M1)^gamma]^(-1)`, log10 M1 = 11.590, N = 0.0351, beta = 1.376, gamma = 0.608,
/// intrinsic scatter 0.15 dex (applied by the suites).
pub fn stellar_mass_moster2013(m_halo_msun: f64) -> f64 {
    let x = m_halo_msun / 10f64.powf(11.590);
    m_halo_msun * 2.0 * 0.0351 / (x.powf(-1.376) + x.powf(0.608))
}

/// Di Cintio et al. 2014 (DC14, their eqs. 3-5) inner profile of a halo whose stars-to-halo mass ratio is
/// X = log10(M*/M_halo), valid for -4.1 < X < -1.3: an (alpha, beta, gamma) profile
/// `rho_s / ((r/r_s)^gamma (1 + (r/r_s)^alpha)^((beta - gamma)/alpha))` with scale radius from
/// `c_sph = c_DMO (1 + 0.00003 e^(3.4 (X + 4.5)))` (their eq. 6; r_s = r_vir / c_sph with r_-2 related as they state).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Dc14Shape {
    /// Transition sharpness.
    pub alpha: f64,
    /// Outer slope.
    pub beta: f64,
    /// Inner slope.
    pub gamma: f64,
    /// Concentration multiplier c_sph / c_DMO.
    pub concentration_factor: f64,
}

impl Dc14Shape {
    /// The shape for X = log10(M*/M_halo), clamped to DC14's calibrated range [-4.1, -1.3].
    pub fn from_log_stellar_to_halo(x: f64) -> Self {
        let x = x.clamp(-4.1, -1.3);
        let alpha = 2.94 - ((10f64.powf(x + 2.33)).powf(-1.08) + (10f64.powf(x + 2.33)).powf(2.29)).log10();
        let beta = 4.23 + 1.34 * x + 0.26 * x * x;
        let gamma = -0.06 + ((10f64.powf(x + 2.56)).powf(-0.68) + 10f64.powf(x + 2.56)).log10();
        Self { alpha, beta, gamma, concentration_factor: 1.0 + 0.00003 * (3.4 * (x + 4.5)).exp() }
    }
}

/// A halo: its profile and virial quantities.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HaloModel {
    /// M200, Msun.
    pub m200_msun: f64,
    /// r200, kpc.
    pub r200_kpc: f64,
    /// NFW concentration r200 / r_s.
    pub c200: f64,
    /// The NFW profile.
    pub nfw: Nfw,
}

impl HaloModel {
    /// The NFW halo with M(<r200) = `m200_msun` and concentration `c200` at redshift z.
    pub fn nfw_from_m200(m200_msun: f64, c200: f64, z: f64, cosmology: &Cosmology) -> Result<Self, SynthError> {
        if !(m200_msun.is_finite() && m200_msun > 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "m200_msun",
                reason: format!("must be positive, got {m200_msun}"),
            });
        }
        if !(c200.is_finite() && c200 > 1.0) {
            return Err(SynthError::InvalidParameter { name: "c200", reason: format!("must exceed 1, got {c200}") });
        }
        let rho_200 = 200.0 * cosmology.critical_density_msun_kpc3(z);
        let r200_kpc = (3.0 * m200_msun / (4.0 * PI * rho_200)).cbrt();
        let r_s_kpc = r200_kpc / c200;
        let mu = (1.0 + c200).ln() - c200 / (1.0 + c200);
        let rho_s_msun_kpc3 = m200_msun / (4.0 * PI * r_s_kpc.powi(3) * mu);
        Ok(Self { m200_msun, r200_kpc, c200, nfw: Nfw { rho_s_msun_kpc3, r_s_kpc } })
    }

    /// Circular velocity at r200, km/s.
    pub fn v200_kms(&self) -> f64 {
        (G * self.m200_msun / self.r200_kpc).sqrt()
    }

    /// Mass within r (the NFW profile), Msun.
    pub fn enclosed_mass_msun(&self, r_kpc: f64) -> f64 {
        self.nfw.enclosed_mass_msun(r_kpc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn critical_density_and_virial_definition() {
        let cosmo = Cosmology::PLANCK2013;
        // 277.5 h^2 Msun/kpc^3 today.
        assert_relative_eq!(cosmo.critical_density_msun_kpc3(0.0), 277.5 * 0.671 * 0.671, max_relative = 1e-3);
        let halo = HaloModel::nfw_from_m200(1e12, 8.0, 0.0, &cosmo).unwrap();
        assert_relative_eq!(halo.enclosed_mass_msun(halo.r200_kpc), 1e12, max_relative = 1e-12);
        let mean_density = 1e12 / (4.0 / 3.0 * PI * halo.r200_kpc.powi(3));
        assert_relative_eq!(mean_density, 200.0 * cosmo.critical_density_msun_kpc3(0.0), max_relative = 1e-12);
        // A Milky-Way halo has r200 ~ 200 kpc and V200 ~ 145 km/s.
        assert!((190.0..220.0).contains(&halo.r200_kpc), "{}", halo.r200_kpc);
        assert!((140.0..150.0).contains(&halo.v200_kms()), "{}", halo.v200_kms());
        assert!(matches!(
            HaloModel::nfw_from_m200(-1.0, 8.0, 0.0, &cosmo),
            Err(SynthError::InvalidParameter { name: "m200_msun", .. })
        ));
        assert!(matches!(
            HaloModel::nfw_from_m200(1e12, 0.5, 0.0, &cosmo),
            Err(SynthError::InvalidParameter { name: "c200", .. })
        ));
    }

    #[test]
    fn dutton_maccio_concentrations() {
        let cosmo = HALO_COSMOLOGY;
        let c = |m: f64, z: f64| concentration_dm14(&cosmo, m, z);
        // At 1e12 Msun/h and z = 0, log10 c = 0.905; the slope is -0.101 per dex.
        assert_relative_eq!(c(1e12 / 0.671, 0.0), 10f64.powf(0.905), max_relative = 1e-12);
        let ratio = c(1e10 / 0.671, 0.0) / c(1e12 / 0.671, 0.0);
        assert_relative_eq!(ratio.log10(), 0.202, max_relative = 1e-9);
        assert!(c(1e12, 1.0) < c(1e12, 0.0));
    }

    #[test]
    fn moster_relation_peaks_near_m1() {
        // Efficiency M*/M peaks near M1 = 10^11.59 at ~ N, and falls steeply on both sides.
        let eff = |m: f64| stellar_mass_moster2013(m) / m;
        let peak = (100..140).map(|i| 10f64.powf(i as f64 / 10.0)).max_by(|a, b| eff(*a).total_cmp(&eff(*b))).unwrap();
        assert!((11.5..12.2).contains(&peak.log10()), "{}", peak.log10());
        assert!(eff(peak) > 0.025 && eff(peak) < 0.04);
        assert!(eff(1e10) < 0.1 * eff(peak));
        // A Milky-Way halo hosts a few 1e10 Msun of stars.
        assert!((2e10..8e10).contains(&stellar_mass_moster2013(1e12)), "{}", stellar_mass_moster2013(1e12));
    }

    #[test]
    fn dc14_cores_peak_near_half_percent() {
        // The inner slope parameter is shallowest near X = -2.66 (minimum of -0.06 + log10(y^-0.68 + y) at
        // y = 0.68^(1/1.68): gamma = 0.233) and cuspy (~1) at both ends of the calibrated range.
        let gamma = |x: f64| Dc14Shape::from_log_stellar_to_halo(x).gamma;
        let core = (0..=28).map(|i| -4.1 + 0.1 * i as f64).min_by(|a, b| gamma(*a).total_cmp(&gamma(*b))).unwrap();
        assert!((-3.0..-2.4).contains(&core), "{core}");
        assert_relative_eq!(gamma(core), 0.233, epsilon = 0.005);
        assert!(gamma(-4.1) > 0.8 && gamma(-1.3) > 0.8);
        assert!(Dc14Shape::from_log_stellar_to_halo(-2.7).concentration_factor > 1.0);
    }
}
