//! Spherical Jeans solutions: the radial velocity dispersion of a tracer in a potential, for constant anisotropy
//! beta and for Osipkov-Merritt anisotropy `beta(r) = r^2 / (r^2 + r_a^2)`.
//!
//! `nu g(r) sigma_r^2(r) = int_r^inf nu(r') g(r') G M(r') / r'^2 dr'` with `g = r^(2 beta)` (constant beta) or
//! `g = r^2 + r_a^2` (Osipkov-Merritt), evaluated by the trapezoid rule in ln r on a dense grid and interpolated.
//! The tangential dispersion (per component) is `sqrt(1 - beta) sigma_r`.
//!
//! ```
//! use galmass_synth::jeans::JeansSolution;
//! use galmass_synth::profiles::Plummer;
//! let p = Plummer { mass_msun: 1e8, a_kpc: 0.5 };
//! let jeans = JeansSolution::constant_beta(&p, &p, 0.0);
//! let exact = galmass_core::units::G_KPC_KMS2_PER_MSUN * 1e8 / (6.0 * (0.25f64 + 0.25).sqrt());
//! assert!((jeans.sigma_r2_kms2(0.5) / exact - 1.0).abs() < 1e-4);
//! ```

use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;

use crate::profiles::SphericalProfile;

/// A tabulated Jeans solution.
#[derive(Debug, Clone)]
pub struct JeansSolution {
    ln_r0: f64,
    step: f64,
    sigma_r2: Vec<f64>,
    beta: Anisotropy,
}

#[derive(Debug, Clone, Copy)]
enum Anisotropy {
    Constant(f64),
    OsipkovMerritt(f64),
}

impl JeansSolution {
    /// Constant anisotropy `beta` (< 1).
    pub fn constant_beta(tracer: &dyn SphericalProfile, potential: &dyn SphericalProfile, beta: f64) -> Self {
        Self::solve(tracer, potential, Anisotropy::Constant(beta))
    }

    /// Osipkov-Merritt anisotropy with radius `r_a_kpc`.
    pub fn osipkov_merritt(tracer: &dyn SphericalProfile, potential: &dyn SphericalProfile, r_a_kpc: f64) -> Self {
        Self::solve(tracer, potential, Anisotropy::OsipkovMerritt(r_a_kpc))
    }

    fn weight(beta: Anisotropy, r: f64) -> f64 {
        match beta {
            Anisotropy::Constant(b) => r.powf(2.0 * b),
            Anisotropy::OsipkovMerritt(ra) => r * r + ra * ra,
        }
    }

    fn solve(tracer: &dyn SphericalProfile, potential: &dyn SphericalProfile, beta: Anisotropy) -> Self {
        let s = tracer.scale_kpc();
        let (lo, hi, n) = ((1e-4 * s).ln(), (1e5 * s).ln(), 12_000);
        let step = (hi - lo) / n as f64;
        let r: Vec<f64> = (0..=n).map(|i| (lo + step * i as f64).exp()).collect();
        let integrand: Vec<f64> = r
            .iter()
            .map(|&x| tracer.density_msun_kpc3(x) * Self::weight(beta, x) * G * potential.enclosed_mass_msun(x) / x)
            .collect();
        let mut tail = vec![0.0; n + 1];
        for i in (0..n).rev() {
            tail[i] = tail[i + 1] + 0.5 * step * (integrand[i] + integrand[i + 1]);
        }
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
        Self { ln_r0: lo, step, sigma_r2, beta }
    }

    /// sigma_r^2 at radius `r_kpc`, (km/s)^2.
    pub fn sigma_r2_kms2(&self, r_kpc: f64) -> f64 {
        let t = ((r_kpc.ln() - self.ln_r0) / self.step).clamp(0.0, (self.sigma_r2.len() - 2) as f64);
        let i = t.floor() as usize;
        let w = t - i as f64;
        self.sigma_r2[i] * (1.0 - w) + self.sigma_r2[i + 1] * w
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
