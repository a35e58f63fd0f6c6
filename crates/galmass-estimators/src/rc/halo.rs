//! Dark haloes of the decomposition: NFW in (V200, C200) (Navarro et al. 1996, as delosrios2023 §5.6) and the
//! Dekel-Zhao profile (Freundlich et al. 2020) with a free inner slope.
//!
//! Both are defined at 200 times the critical density today: `V200 = 10 H0 r200` (so `r200 = V200 / (10 H0)`, H0
//! in km/s/kpc) and `M200 = V200^2 r200 / G`.
//! - NFW: `M(<r) = M200 mu(c x) / mu(c)`, `mu(s) = ln(1 + s) - s / (1 + s)`, `x = r / r200`, `c = C200`;
//! - Dekel-Zhao: `rho ∝ s^-a (1 + s^(1/2))^(-2 (3.5 - a))` with `s = r / r_c`, `r_c = r200 / c`, whose mass is
//!   closed form, `M(<r) = M200 (chi(s) / chi(c))^(2 (3 - a))` with `chi(s) = s^(1/2) / (1 + s^(1/2))` (integrate
//!   with `chi` as the variable); `a = 1` is cuspy like NFW, `a = 0` cored.
//!
//! ```
//! use galmass_estimators::rc::halo::Halo;
//! let halo = Halo::Nfw { v200_kms: 150.0, c200: 10.0 };
//! let h0 = 0.07; // km/s/kpc (h = 0.7)
//! let r200 = halo.r200_kpc(h0);
//! assert!((halo.v_circ_kms(r200, h0) - 150.0).abs() < 1e-9);
//! ```

// `!(x > 0.0)` is meant: NaN must fail these checks, which `x <= 0.0` would let through.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;
use serde::{Deserialize, Serialize};

/// A dark halo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum Halo {
    /// Navarro-Frenk-White.
    Nfw {
        /// Circular velocity at r200, km/s.
        v200_kms: f64,
        /// Concentration r200 / r_s.
        c200: f64,
    },
    /// Dekel-Zhao with inner slope `a` (0 cored, 1 NFW-like cusp, < 3).
    DekelZhao {
        /// Circular velocity at r200, km/s.
        v200_kms: f64,
        /// Concentration r200 / r_c.
        c200: f64,
        /// Inner logarithmic slope.
        a: f64,
    },
}

/// Which halo family a decomposition fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HaloKind {
    /// NFW in (V200, C200), delosrios2023's choice.
    #[default]
    Nfw,
    /// Dekel-Zhao in (V200, C200, a).
    DekelZhao,
}

impl HaloKind {
    /// The name used in configs and JSON.
    pub fn name(self) -> &'static str {
        match self {
            HaloKind::Nfw => "nfw",
            HaloKind::DekelZhao => "dekel-zhao",
        }
    }
}

fn mu_nfw(s: f64) -> f64 {
    if s < 1e-4 {
        // Series: s^2/2 - 2 s^3/3 + 3 s^4/4 (the closed form loses digits to cancellation).
        s * s * (0.5 - s * (2.0 / 3.0 - 0.75 * s))
    } else {
        (1.0 + s).ln() - s / (1.0 + s)
    }
}

fn chi(s: f64) -> f64 {
    let q = s.max(0.0).sqrt();
    q / (1.0 + q)
}

impl Halo {
    /// Circular velocity at r200, km/s.
    pub fn v200_kms(&self) -> f64 {
        match *self {
            Halo::Nfw { v200_kms, .. } | Halo::DekelZhao { v200_kms, .. } => v200_kms,
        }
    }

    /// r200 in kpc for a Hubble constant in km/s/kpc.
    pub fn r200_kpc(&self, h0_kms_kpc: f64) -> f64 {
        self.v200_kms() / (10.0 * h0_kms_kpc)
    }

    /// M200 in Msun.
    pub fn m200_msun(&self, h0_kms_kpc: f64) -> f64 {
        let v = self.v200_kms();
        v * v * self.r200_kpc(h0_kms_kpc) / G
    }

    /// Mass within the sphere of radius `r_kpc`, Msun.
    pub fn enclosed_mass_msun(&self, r_kpc: f64, h0_kms_kpc: f64) -> f64 {
        if r_kpc <= 0.0 {
            return 0.0;
        }
        let m200 = self.m200_msun(h0_kms_kpc);
        let x = r_kpc / self.r200_kpc(h0_kms_kpc);
        match *self {
            Halo::Nfw { c200, .. } => m200 * mu_nfw(c200 * x) / mu_nfw(c200),
            Halo::DekelZhao { c200, a, .. } => m200 * (chi(c200 * x) / chi(c200)).powf(2.0 * (3.0 - a)),
        }
    }

    /// Circular velocity at `r_kpc`, km/s.
    pub fn v_circ_kms(&self, r_kpc: f64, h0_kms_kpc: f64) -> f64 {
        self.v_circ2(r_kpc, h0_kms_kpc).sqrt()
    }

    /// Squared circular velocity at `r_kpc`, (km/s)^2.
    pub fn v_circ2(&self, r_kpc: f64, h0_kms_kpc: f64) -> f64 {
        if r_kpc <= 0.0 {
            return 0.0;
        }
        G * self.enclosed_mass_msun(r_kpc, h0_kms_kpc) / r_kpc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    const H0: f64 = 0.07;

    #[test]
    fn nfw_mass_matches_the_density_integral() {
        let halo = Halo::Nfw { v200_kms: 120.0, c200: 12.0 };
        let r200 = halo.r200_kpc(H0);
        let rs = r200 / 12.0;
        // rho_s from M200 = 4 pi rho_s rs^3 mu(c).
        let rho_s = halo.m200_msun(H0) / (4.0 * std::f64::consts::PI * rs.powi(3) * mu_nfw(12.0));
        let r = 7.5;
        let n = 20_000;
        let dr = r / n as f64;
        let mut m = 0.0;
        for k in 0..n {
            let x = (k as f64 + 0.5) * dr;
            let s = x / rs;
            m += 4.0 * std::f64::consts::PI * x * x * rho_s / (s * (1.0 + s) * (1.0 + s)) * dr;
        }
        assert_relative_eq!(halo.enclosed_mass_msun(r, H0), m, max_relative = 1e-5);
        assert_relative_eq!(halo.v_circ_kms(r200, H0), 120.0, max_relative = 1e-12);
        // r200 = V200 / (10 H0): 120 / 0.7 kpc.
        assert_relative_eq!(r200, 120.0 / 0.7, max_relative = 1e-12);
    }

    #[test]
    fn dekel_zhao_mass_matches_its_density_and_reaches_m200() {
        let halo = Halo::DekelZhao { v200_kms: 90.0, c200: 8.0, a: 0.5 };
        let r200 = halo.r200_kpc(H0);
        assert_relative_eq!(halo.enclosed_mass_msun(r200, H0), halo.m200_msun(H0), max_relative = 1e-12);
        let rc = r200 / 8.0;
        let density = |r: f64| {
            let s = r / rc;
            s.powf(-0.5) * (1.0 + s.sqrt()).powf(-2.0 * 3.0)
        };
        // Ratio M(<r1) / M(<r2) from the density alone (the normalisation cancels).
        let integrate = |r: f64| {
            let n = 40_000;
            let du = (r / 1e-6f64).ln() / n as f64;
            (0..n)
                .map(|k| {
                    let x = 1e-6 * ((k as f64 + 0.5) * du).exp();
                    x * x * x * density(x) * du
                })
                .sum::<f64>()
        };
        let (r1, r2) = (2.0, 20.0);
        let expected = integrate(r1) / integrate(r2);
        let got = halo.enclosed_mass_msun(r1, H0) / halo.enclosed_mass_msun(r2, H0);
        assert_relative_eq!(got, expected, max_relative = 1e-3);
    }
}
