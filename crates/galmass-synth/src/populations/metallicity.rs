//! Stellar mass-metallicity relations: the mean log10(Z / Zsun) of a galaxy's stars against its stellar mass
//! (Gallazzi et al. 2005, Kirby et al. 2013 and a blend of the two), with Zsun = 0.02 (BC03).
//!
//! ```
//! use galmass_synth::populations::MassMetallicityRelation;
//! let dwarf = MassMetallicityRelation::Kirby2013.log_z_over_zsun(8.0).unwrap();
//! assert!((dwarf + 1.09).abs() < 1e-12);
//! assert!(MassMetallicityRelation::Gallazzi2005.log_z_over_zsun(f64::NAN).is_err());
//! ```

use galmass_core::numeric::interp::interp;
use serde::{Deserialize, Serialize};

use crate::error::SynthError;

/// Stellar mass-metallicity relations, giving the mean log10(Z / Zsun) of a galaxy's stars with Zsun = 0.02 (BC03).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MassMetallicityRelation {
    /// Gallazzi et al. 2005 (MNRAS 362, 41), table 2: median stellar log10(Z/Zsun) of SDSS DR2 galaxies (BC03
    /// models, Zsun = 0.02) in 16 mass bins, interpolated linearly in log M* and held constant beyond the ends.
    Gallazzi2005,
    /// Kirby et al. 2013 (ApJ 779, 102), eq. 4, for dwarf galaxies: `<[Fe/H]> = -1.69 + 0.30 log10(M* / 1e6 Msun)`
    /// (rms 0.17 dex about it), taken as log10(Z/Zsun) (dwarfs' alpha enhancement ignored).
    Kirby2013,
    /// Kirby et al. 2013 up to log M* = 9, Gallazzi et al. 2005 from 9.5, linear in log M* between (our blend: the
    /// Gallazzi relation is flat below 9.5, where SDSS holds few galaxies, and Kirby's fit is for dwarfs).
    KirbyGallazzi,
}

/// Gallazzi et al. 2005, table 2: log10 M*/Msun of the 16 mass bins, as tabulated in Prospector's
/// `prior_data/gallazzi_05_massmet.txt` (Johnson et al. 2021, ApJS 254, 22).
const GALLAZZI2005_LOG_MSTAR: [f64; 16] =
    [8.87, 9.07, 9.27, 9.47, 9.68, 9.87, 10.07, 10.27, 10.47, 10.68, 10.87, 11.07, 11.27, 11.47, 11.68, 11.87];

/// Gallazzi et al. 2005, table 2: the median stellar log10 Z/Zsun in each bin of [`GALLAZZI2005_LOG_MSTAR`].
const GALLAZZI2005_MEDIAN_LOG_Z: [f64; 16] =
    [-0.60, -0.61, -0.65, -0.61, -0.52, -0.41, -0.23, -0.11, -0.01, 0.04, 0.07, 0.10, 0.12, 0.13, 0.14, 0.15];

/// log10 M* where [`MassMetallicityRelation::KirbyGallazzi`] leaves Kirby et al. 2013 and reaches Gallazzi et al.
/// 2005.
const BLEND_LOG_MSTAR: [f64; 2] = [9.0, 9.5];

impl MassMetallicityRelation {
    /// Mean log10(Z / Zsun) of the stars of a galaxy of stellar mass 10^`log_stellar_mass` Msun.
    ///
    /// Fails on a non-finite `log_stellar_mass`.
    pub fn log_z_over_zsun(self, log_stellar_mass: f64) -> Result<f64, SynthError> {
        if !log_stellar_mass.is_finite() {
            return Err(SynthError::InvalidParameter {
                name: "log_stellar_mass",
                reason: format!("must be finite, got {log_stellar_mass}"),
            });
        }
        let kirby = |m: f64| -1.69 + 0.30 * (m - 6.0);
        // Linear in log M* between the bins, held constant beyond the ends.
        let gallazzi = |m: f64| interp(&GALLAZZI2005_LOG_MSTAR, &GALLAZZI2005_MEDIAN_LOG_Z, m);
        let m = log_stellar_mass;
        let [lo, hi] = BLEND_LOG_MSTAR;
        Ok(match self {
            MassMetallicityRelation::Gallazzi2005 => gallazzi(m),
            MassMetallicityRelation::Kirby2013 => kirby(m),
            MassMetallicityRelation::KirbyGallazzi if m <= lo => kirby(m),
            MassMetallicityRelation::KirbyGallazzi if m >= hi => gallazzi(m),
            MassMetallicityRelation::KirbyGallazzi => interp(&BLEND_LOG_MSTAR, &[kirby(lo), gallazzi(hi)], m),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mass_metallicity_relations() {
        // Kirby et al. 2013 eq. 4 at 1e6 and 1e8 Msun; Gallazzi et al. 2005 at a tabulated node and beyond the ends.
        approx::assert_abs_diff_eq!(
            MassMetallicityRelation::Kirby2013.log_z_over_zsun(6.0).unwrap(),
            -1.69,
            epsilon = 1e-12
        );
        approx::assert_abs_diff_eq!(
            MassMetallicityRelation::Kirby2013.log_z_over_zsun(8.0).unwrap(),
            -1.09,
            epsilon = 1e-12
        );
        approx::assert_abs_diff_eq!(
            MassMetallicityRelation::Gallazzi2005.log_z_over_zsun(10.47).unwrap(),
            -0.01,
            epsilon = 1e-12
        );
        approx::assert_abs_diff_eq!(
            MassMetallicityRelation::Gallazzi2005.log_z_over_zsun(12.5).unwrap(),
            0.15,
            epsilon = 1e-12
        );
        approx::assert_abs_diff_eq!(
            MassMetallicityRelation::Gallazzi2005.log_z_over_zsun(7.0).unwrap(),
            -0.60,
            epsilon = 1e-12
        );
        let blend = MassMetallicityRelation::KirbyGallazzi;
        approx::assert_abs_diff_eq!(blend.log_z_over_zsun(8.0).unwrap(), -1.09, epsilon = 1e-12);
        approx::assert_abs_diff_eq!(
            blend.log_z_over_zsun(11.0).unwrap(),
            MassMetallicityRelation::Gallazzi2005.log_z_over_zsun(11.0).unwrap(),
            epsilon = 1e-12
        );
        // Continuous and rising across the blend.
        let values: Vec<f64> = (0..=40).map(|k| blend.log_z_over_zsun(8.5 + 0.05 * f64::from(k)).unwrap()).collect();
        assert!(values.windows(2).all(|w| w[1] > w[0] && w[1] - w[0] < 0.05), "{values:?}");
    }

    #[test]
    fn a_non_finite_stellar_mass_is_an_error_not_a_panic() {
        // NaN used to underflow the Gallazzi table index.
        for relation in [
            MassMetallicityRelation::Gallazzi2005,
            MassMetallicityRelation::Kirby2013,
            MassMetallicityRelation::KirbyGallazzi,
        ] {
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let r = relation.log_z_over_zsun(bad);
                assert!(matches!(r, Err(SynthError::InvalidParameter { name: "log_stellar_mass", .. })), "{r:?}");
            }
        }
    }
}
