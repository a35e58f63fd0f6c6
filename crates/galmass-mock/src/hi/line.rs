//! The line profile of one particle: a Gaussian in velocity integrated over each channel (MARTINI's
//! `spectral_models`, methods.md): the fraction of the particle's flux in channel `[a, b]` is
//! `0.5 [erf((b - v) / (sqrt2 sigma)) - erf((a - v) / (sqrt2 sigma))]`, with `sigma` fixed (MARTINI's default
//! 7 km/s) or thermal, `sqrt(k T / m_p)` (MARTINI's convention, the proton mass). Channels further than
//! [`LINE_TRUNCATE_SIGMA`] from the line centre get nothing (a loss of 2e-9 of the flux); flux beyond the ends of
//! the velocity axis is lost, as in a real band. The Gaussian CDF is [`normal_cdf`], a table with cubic Hermite
//! interpolation (absolute error below 1e-12, three times faster than `erf`, which dominated the cube's cost).
//!
//! ```
//! use galmass_mock::hi::cube::SpectralAxis;
//! use galmass_mock::hi::line::channel_fractions;
//! let axis = SpectralAxis::new(64, 5.0, 0.0).unwrap();
//! let mut fractions = vec![0.0; 64];
//! channel_fractions(12.0, 7.0, &axis, 0..64, &mut fractions);
//! assert!((fractions.iter().sum::<f64>() - 1.0).abs() < 1e-8);
//! ```

use std::ops::Range;

use galmass_core::units::{BOLTZMANN_ERG_PER_K, PROTON_MASS_G};
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::cube::SpectralAxis;

/// Channels further than this many sigma from the line centre get no flux.
pub const LINE_TRUNCATE_SIGMA: f64 = 6.0;

/// `k_B / m_p` in (km/s)^2 per K: a thermal width is `sqrt(k_B T / m_p)`.
pub const THERMAL_KMS2_PER_K: f64 = BOLTZMANN_ERG_PER_K / PROTON_MASS_G * 1e-10;

/// The velocity width of each particle's line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum LineWidth {
    /// The same sigma for every particle, km/s (TOML `line = { fixed-kms = 7.0 }`).
    FixedKms(f64),
    /// Thermal, `sqrt(k_B T / m_p)` from each particle's temperature (TOML `line = "thermal"`).
    Thermal,
}

impl LineWidth {
    /// Checks a fixed width (finite, `>= 0`; 0 puts each particle's flux in one channel).
    pub fn check(&self) -> Result<(), MockError> {
        match *self {
            LineWidth::FixedKms(s) if !(s.is_finite() && s >= 0.0) => {
                Err(MockError::invalid("line_sigma_kms", format!("must be finite and >= 0, got {s}")))
            }
            _ => Ok(()),
        }
    }
}

/// The thermal velocity dispersion `sqrt(k_B T / m_p)` in km/s of gas at `temperature_k` (NaN for a negative or NaN
/// temperature, which the source refuses).
pub fn thermal_sigma_kms(temperature_k: f64) -> f64 {
    (THERMAL_KMS2_PER_K * temperature_k).sqrt()
}

/// The channels `[k_lo, k_hi)` of `axis` within [`LINE_TRUNCATE_SIGMA`] of a line at `v_kms` of width
/// `sigma_kms` (empty when the line lies outside the axis).
pub fn line_channels(v_kms: f64, sigma_kms: f64, axis: &SpectralAxis) -> Range<usize> {
    let reach = LINE_TRUNCATE_SIGMA * sigma_kms;
    let first = axis.first_edge_kms();
    let lo = ((v_kms - reach - first) / axis.width_kms).floor();
    let hi = ((v_kms + reach - first) / axis.width_kms).floor() + 1.0;
    let n = axis.n as f64;
    let lo = lo.clamp(0.0, n) as usize;
    let hi = hi.clamp(0.0, n) as usize;
    lo..hi.max(lo)
}

/// Fills `out[k - range.start]` with the fraction of a line at `v_kms` of width `sigma_kms` in each channel `k` of
/// `range` (`out` must hold `range.len()` values). A zero width puts the whole line in the channel holding `v_kms`.
pub fn channel_fractions(v_kms: f64, sigma_kms: f64, axis: &SpectralAxis, range: Range<usize>, out: &mut [f64]) {
    let first = axis.first_edge_kms();
    let width = axis.width_kms;
    if sigma_kms.is_nan() || sigma_kms <= 0.0 {
        let k = ((v_kms - first) / width).floor();
        for (slot, kk) in out.iter_mut().zip(range) {
            *slot = if kk as f64 == k { 1.0 } else { 0.0 };
        }
        return;
    }
    let inv_sigma = 1.0 / sigma_kms;
    let cdf = |edge: f64| normal_cdf((edge - v_kms) * inv_sigma);
    let mut prev = cdf(first + range.start as f64 * width);
    for (slot, kk) in out.iter_mut().zip(range) {
        let next = cdf(first + (kk + 1) as f64 * width);
        *slot = next - prev;
        prev = next;
    }
}

/// Nodes of the [`normal_cdf`] table over `[-NORMAL_CDF_REACH, NORMAL_CDF_REACH]`.
const NORMAL_CDF_NODES: usize = 4097;

/// Beyond this many sigma the standard normal CDF is 0 or 1 to 1e-17.
const NORMAL_CDF_REACH: f64 = 8.5;

/// The standard normal CDF `Phi(x)`: a table of `Phi` and its derivative at 4097 nodes on `[-8.5, 8.5]`, cubic
/// Hermite interpolation between them (absolute error below 1e-12), 0 or 1 beyond.
pub fn normal_cdf(x: f64) -> f64 {
    static TABLE: std::sync::OnceLock<Vec<[f64; 2]>> = std::sync::OnceLock::new();
    let step = 2.0 * NORMAL_CDF_REACH / (NORMAL_CDF_NODES - 1) as f64;
    let table = TABLE.get_or_init(|| {
        (0..NORMAL_CDF_NODES)
            .map(|k| {
                let x = -NORMAL_CDF_REACH + k as f64 * step;
                let value = 0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2);
                let density = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
                [value, density * step]
            })
            .collect()
    });
    let t = (x + NORMAL_CDF_REACH) / step;
    if t.is_nan() {
        return f64::NAN;
    }
    if t <= 0.0 {
        return 0.0;
    }
    if t >= (NORMAL_CDF_NODES - 1) as f64 {
        return 1.0;
    }
    let k = t as usize;
    let u = t - k as f64;
    let ([p0, m0], [p1, m1]) = (table[k], table[k + 1]);
    let u2 = u * u;
    let u3 = u2 * u;
    (2.0 * u3 - 3.0 * u2 + 1.0) * p0 + (u3 - 2.0 * u2 + u) * m0 + (-2.0 * u3 + 3.0 * u2) * p1 + (u3 - u2) * m1
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tabulated_cdf_matches_erf() {
        let mut worst: f64 = 0.0;
        for k in 0..200_001 {
            let x = -10.0 + k as f64 * 1e-4;
            let exact = 0.5 * libm::erfc(-x * std::f64::consts::FRAC_1_SQRT_2);
            worst = worst.max((normal_cdf(x) - exact).abs());
        }
        assert!(worst < 1e-12, "{worst}");
        assert!(normal_cdf(f64::NAN).is_nan());
    }

    use super::*;

    #[test]
    fn fractions_follow_the_gaussian() {
        let axis = SpectralAxis::new(64, 5.0, 0.0).unwrap();
        let range = line_channels(12.0, 7.0, &axis);
        let mut f = vec![0.0; range.len()];
        channel_fractions(12.0, 7.0, &axis, range.clone(), &mut f);
        let mean: f64 = f.iter().zip(range.clone()).map(|(w, k)| w * axis.channel_centre_kms(k)).sum();
        let var: f64 = f.iter().zip(range.clone()).map(|(w, k)| w * (axis.channel_centre_kms(k) - 12.0).powi(2)).sum();
        assert!((f.iter().sum::<f64>() - 1.0).abs() < 1e-8);
        assert!((mean - 12.0).abs() < 1e-6, "{mean}");
        // Sheppard's correction: binning adds width^2 / 12.
        assert!((var - (49.0 + 25.0 / 12.0)).abs() < 1e-4, "{var}");
        // A line near the band edge loses the part beyond it.
        let edge = line_channels(-158.0, 7.0, &axis);
        let mut g = vec![0.0; edge.len()];
        channel_fractions(-158.0, 7.0, &axis, edge, &mut g);
        let lost = 1.0 - g.iter().sum::<f64>();
        let expected = 0.5 * libm::erfc(2.0 / (7.0 * 2f64.sqrt()));
        assert!((lost - expected).abs() < 1e-8, "{lost} vs {expected}");
        assert!(line_channels(1e4, 7.0, &axis).is_empty());
    }

    #[test]
    fn thermal_width_of_warm_gas() {
        // 1e4 K: sqrt(k T / m_p) = 9.09 km/s.
        assert!((thermal_sigma_kms(1e4) - 9.085).abs() < 1e-3, "{}", thermal_sigma_kms(1e4));
        assert!(LineWidth::FixedKms(-1.0).check().is_err());
        let mut one = [0.0; 1];
        let axis = SpectralAxis::new(4, 1.0, 0.0).unwrap();
        channel_fractions(0.4, 0.0, &axis, 2..3, &mut one);
        assert_eq!(one[0], 1.0);
    }
}
