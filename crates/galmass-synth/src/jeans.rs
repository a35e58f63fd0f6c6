//! Spherical Jeans solutions: the radial velocity dispersion of a tracer in a potential, for constant anisotropy
//! beta and for Osipkov-Merritt anisotropy `beta(r) = r^2 / (r^2 + r_a^2)`.
//!
//! `nu g(r) sigma_r^2(r) = int_r^inf nu(r') g(r') G M(r') / r'^2 dr'` with `g = r^(2 beta)` (constant beta) or
//! `g = r^2 + r_a^2` (Osipkov-Merritt), evaluated by the trapezoid rule in ln r on a dense grid
//! (`galmass_core::numeric::quad`) and interpolated linearly in ln r (`galmass_core::numeric::interp`). The
//! tangential dispersion (per component) is `sqrt(1 - beta) sigma_r`. The constructors are checked: beta < 1 (at
//! beta >= 1 the tangential dispersion would be imaginary), a positive finite anisotropy radius and tracer scale.
//!
//! ```
//! use galmass_synth::jeans::JeansSolution;
//! use galmass_synth::profiles::Plummer;
//! let p = Plummer { mass_msun: 1e8, a_kpc: 0.5 };
//! let jeans = JeansSolution::constant_beta(&p, &p, 0.0).unwrap();
//! let exact = galmass_core::units::G_KPC_KMS2_PER_MSUN * 1e8 / (6.0 * (0.25f64 + 0.25).sqrt());
//! assert!((jeans.sigma_r2_kms2(0.5) / exact - 1.0).abs() < 1e-4);
//! ```

use galmass_core::numeric::interp::interp;
use galmass_core::numeric::quad::cumulative_trapezoid;
use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;

use crate::error::SynthError;
use crate::profiles::SphericalProfile;

/// A tabulated Jeans solution.
#[derive(Debug, Clone)]
pub struct JeansSolution {
    ln_r: Vec<f64>,
    sigma_r2: Vec<f64>,
    beta: Anisotropy,
}

#[derive(Debug, Clone, Copy)]
enum Anisotropy {
    Constant(f64),
    OsipkovMerritt(f64),
}

impl JeansSolution {
    /// Constant anisotropy `beta`; fails unless beta is finite and below 1.
    pub fn constant_beta(
        tracer: &dyn SphericalProfile,
        potential: &dyn SphericalProfile,
        beta: f64,
    ) -> Result<Self, SynthError> {
        if !(beta.is_finite() && beta < 1.0) {
            return Err(SynthError::InvalidParameter {
                name: "beta",
                reason: format!("a constant anisotropy must be finite and below 1, got {beta}"),
            });
        }
        Self::solve(tracer, potential, Anisotropy::Constant(beta))
    }

    /// Osipkov-Merritt anisotropy with radius `r_a_kpc`; fails unless it is positive and finite.
    pub fn osipkov_merritt(
        tracer: &dyn SphericalProfile,
        potential: &dyn SphericalProfile,
        r_a_kpc: f64,
    ) -> Result<Self, SynthError> {
        if !(r_a_kpc.is_finite() && r_a_kpc > 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "r_a_kpc",
                reason: format!("the anisotropy radius must be positive and finite, got {r_a_kpc} kpc"),
            });
        }
        Self::solve(tracer, potential, Anisotropy::OsipkovMerritt(r_a_kpc))
    }

    fn weight(beta: Anisotropy, r: f64) -> f64 {
        match beta {
            Anisotropy::Constant(b) => r.powf(2.0 * b),
            Anisotropy::OsipkovMerritt(ra) => r * r + ra * ra,
        }
    }

    fn solve(
        tracer: &dyn SphericalProfile,
        potential: &dyn SphericalProfile,
        beta: Anisotropy,
    ) -> Result<Self, SynthError> {
        let s = tracer.scale_kpc();
        if !(s.is_finite() && s > 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "tracer",
                reason: format!("scale radius must be positive and finite, got {s} kpc"),
            });
        }
        let (lo, hi, n) = ((1e-4 * s).ln(), (1e5 * s).ln(), 12_000);
        let step = (hi - lo) / n as f64;
        let ln_r: Vec<f64> = (0..=n).map(|i| lo + step * i as f64).collect();
        let r: Vec<f64> = ln_r.iter().map(|l| l.exp()).collect();
        let integrand: Vec<f64> = r
            .iter()
            .map(|&x| tracer.density_msun_kpc3(x) * Self::weight(beta, x) * G * potential.enclosed_mass_msun(x) / x)
            .collect();
        // The integral from r outwards: the running trapezoid integral in -ln r from the last radius, reversed.
        let minus_ln_r: Vec<f64> = ln_r.iter().rev().map(|l| -l).collect();
        let integrand_reversed: Vec<f64> = integrand.iter().rev().copied().collect();
        let mut tail = cumulative_trapezoid(&minus_ln_r, &integrand_reversed);
        tail.reverse();
        let sigma_r2 = (0..=n)
            .map(|i| {
                let denominator = tracer.density_msun_kpc3(r[i]) * Self::weight(beta, r[i]);
                if denominator > 0.0 {
                    tail[i] / denominator
                } else {
                    0.0
                }
            })
            .collect();
        Ok(Self { ln_r, sigma_r2, beta })
    }

    /// sigma_r^2 at radius `r_kpc`, (km/s)^2 (linear in ln r, the end values beyond the grid).
    pub fn sigma_r2_kms2(&self, r_kpc: f64) -> f64 {
        interp(&self.ln_r, &self.sigma_r2, r_kpc.ln())
    }

    /// The anisotropy beta(r).
    pub fn beta(&self, r_kpc: f64) -> f64 {
        match self.beta {
            Anisotropy::Constant(b) => b,
            Anisotropy::OsipkovMerritt(ra) => r_kpc * r_kpc / (r_kpc * r_kpc + ra * ra),
        }
    }

    /// Tangential dispersion per component, (km/s)^2.
    pub fn sigma_t2_kms2(&self, r_kpc: f64) -> f64 {
        (1.0 - self.beta(r_kpc)) * self.sigma_r2_kms2(r_kpc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::{Hernquist, Plummer};

    #[test]
    fn isotropic_hernquist_matches_the_analytic_dispersion() {
        // Hernquist 1990 eq. 10, isotropic and self-consistent, in units G = M = a = 1.
        let h = Hernquist { mass_msun: 1.0 / G, a_kpc: 1.0 };
        let jeans = JeansSolution::constant_beta(&h, &h, 0.0).unwrap();
        let analytic = |r: f64| {
            let x = 1.0 + r;
            r * x.powi(3) * (12.0 * (x / r).ln()) - r / x * (25.0 + 52.0 * r + 42.0 * r * r + 12.0 * r.powi(3))
        };
        for r in [0.1, 0.5, 1.0, 3.0, 10.0] {
            let exact = analytic(r) / 12.0;
            assert!(
                (jeans.sigma_r2_kms2(r) / exact - 1.0).abs() < 1e-3,
                "r = {r}: {} vs {exact}",
                jeans.sigma_r2_kms2(r)
            );
        }
    }

    #[test]
    fn unphysical_anisotropies_are_typed_errors() {
        let p = Plummer { mass_msun: 1e8, a_kpc: 0.5 };
        for beta in [1.0, 1.5, f64::NAN, f64::INFINITY] {
            let r = JeansSolution::constant_beta(&p, &p, beta);
            assert!(matches!(r, Err(SynthError::InvalidParameter { name: "beta", .. })), "beta = {beta}: {r:?}");
        }
        for r_a in [0.0, -1.0, f64::NAN] {
            let r = JeansSolution::osipkov_merritt(&p, &p, r_a);
            assert!(matches!(r, Err(SynthError::InvalidParameter { name: "r_a_kpc", .. })), "r_a = {r_a}: {r:?}");
        }
        let r = JeansSolution::constant_beta(&Plummer { mass_msun: 1e8, a_kpc: -0.5 }, &p, 0.0);
        assert!(matches!(r, Err(SynthError::InvalidParameter { name: "tracer", .. })), "{r:?}");
        // Just below 1 is allowed, and the tangential dispersion stays real.
        let radial = JeansSolution::constant_beta(&p, &p, 0.99).unwrap();
        assert!(radial.sigma_t2_kms2(0.5) >= 0.0 && radial.sigma_r2_kms2(0.5).is_finite());
    }
}
