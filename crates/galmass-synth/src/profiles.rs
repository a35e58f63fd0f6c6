//! Spherical mass profiles with analytic density, enclosed mass and potential.
//!
//! Units: kpc, Msun, (km/s)^2 for potentials, G from `galmass_core::units`. Potentials vanish at infinity.
//!
//! | profile | density | M(<r) |
//! |---|---|---|
//! | [`Plummer`] | 3M/(4 pi a^3) (1 + r^2/a^2)^(-5/2) | M r^3 / (r^2 + a^2)^(3/2) |
//! | [`Hernquist`] | M a / (2 pi r (r + a)^3) | M r^2 / (r + a)^2 |
//! | [`Nfw`] | rho_s / ((r/r_s)(1 + r/r_s)^2) | 4 pi rho_s r_s^3 [ln(1 + x) - x/(1 + x)] |
//! | [`PrugnielSimien`] | rho_0 x^-p exp(-b x^(1/n)), x = r/R_e | M gamma((3-p)n, b x^(1/n)) / Gamma((3-p)n) |
//!
//! ```
//! use galmass_synth::profiles::{Nfw, Plummer, SphericalProfile};
//! let halo = Nfw { rho_s_msun_kpc3: 5e7, r_s_kpc: 1.0 };
//! let stars = Plummer { mass_msun: 1e6, a_kpc: 0.5 };
//! assert!(halo.enclosed_mass_msun(1.0) > 100.0 * stars.enclosed_mass_msun(1.0));
//! ```

use std::f64::consts::PI;

use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;
use serde::{Deserialize, Serialize};
use statrs::function::gamma::{checked_gamma_lr, checked_gamma_ur, gamma, ln_gamma};

/// A spherical mass distribution.
pub trait SphericalProfile: Send + Sync {
    /// Density in Msun/kpc^3 at radius `r_kpc`.
    fn density_msun_kpc3(&self, r_kpc: f64) -> f64;
    /// Radial derivative of the density, Msun/kpc^4.
    fn density_slope(&self, r_kpc: f64) -> f64;
    /// Mass within the sphere of radius `r_kpc`, Msun.
    fn enclosed_mass_msun(&self, r_kpc: f64) -> f64;
    /// Gravitational potential in (km/s)^2 (negative, zero at infinity).
    fn potential_kms2(&self, r_kpc: f64) -> f64;
    /// A characteristic scale radius in kpc (for grids).
    fn scale_kpc(&self) -> f64;
}

/// Plummer sphere of total mass `mass_msun` and scale radius `a_kpc` (projected half-mass radius = a).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Plummer {
    /// Total mass, Msun.
    pub mass_msun: f64,
    /// Scale radius, kpc.
    pub a_kpc: f64,
}

impl SphericalProfile for Plummer {
    fn density_msun_kpc3(&self, r: f64) -> f64 {
        let a = self.a_kpc;
        3.0 * self.mass_msun / (4.0 * PI * a * a * a) * (1.0 + r * r / (a * a)).powf(-2.5)
    }
    fn density_slope(&self, r: f64) -> f64 {
        let a2 = self.a_kpc * self.a_kpc;
        -5.0 * r / a2 * self.density_msun_kpc3(r) / (1.0 + r * r / a2)
    }
    fn enclosed_mass_msun(&self, r: f64) -> f64 {
        self.mass_msun * r * r * r / (r * r + self.a_kpc * self.a_kpc).powf(1.5)
    }
    fn potential_kms2(&self, r: f64) -> f64 {
        -G * self.mass_msun / (r * r + self.a_kpc * self.a_kpc).sqrt()
    }
    fn scale_kpc(&self) -> f64 {
        self.a_kpc
    }
}

/// Hernquist sphere of total mass `mass_msun` and scale radius `a_kpc` (half-mass radius (1 + sqrt 2) a).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hernquist {
    /// Total mass, Msun.
    pub mass_msun: f64,
    /// Scale radius, kpc.
    pub a_kpc: f64,
}

impl SphericalProfile for Hernquist {
    fn density_msun_kpc3(&self, r: f64) -> f64 {
        let a = self.a_kpc;
        self.mass_msun * a / (2.0 * PI * r * (r + a).powi(3))
    }
    fn density_slope(&self, r: f64) -> f64 {
        -self.density_msun_kpc3(r) * (1.0 / r + 3.0 / (r + self.a_kpc))
    }
    fn enclosed_mass_msun(&self, r: f64) -> f64 {
        self.mass_msun * r * r / ((r + self.a_kpc) * (r + self.a_kpc))
    }
    fn potential_kms2(&self, r: f64) -> f64 {
        -G * self.mass_msun / (r + self.a_kpc)
    }
    fn scale_kpc(&self) -> f64 {
        self.a_kpc
    }
}

/// Navarro-Frenk-White halo (untruncated).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Nfw {
    /// Characteristic density, Msun/kpc^3.
    pub rho_s_msun_kpc3: f64,
    /// Scale radius, kpc.
    pub r_s_kpc: f64,
}

impl SphericalProfile for Nfw {
    fn density_msun_kpc3(&self, r: f64) -> f64 {
        let x = r / self.r_s_kpc;
        self.rho_s_msun_kpc3 / (x * (1.0 + x) * (1.0 + x))
    }
    fn density_slope(&self, r: f64) -> f64 {
        let x = r / self.r_s_kpc;
        -self.density_msun_kpc3(r) * (1.0 + 3.0 * x) / (r * (1.0 + x))
    }
    fn enclosed_mass_msun(&self, r: f64) -> f64 {
        let x = r / self.r_s_kpc;
        4.0 * PI * self.rho_s_msun_kpc3 * self.r_s_kpc.powi(3) * ((1.0 + x).ln() - x / (1.0 + x))
    }
    fn potential_kms2(&self, r: f64) -> f64 {
        let x = r / self.r_s_kpc;
        let m_s = 4.0 * PI * self.rho_s_msun_kpc3 * self.r_s_kpc.powi(3);
        // ln(1 + x) / x -> 1 as x -> 0.
        let lnx = if x < 1e-8 { 1.0 - 0.5 * x } else { (1.0 + x).ln() / x };
        -G * m_s / self.r_s_kpc * lnx
    }
    fn scale_kpc(&self) -> f64 {
        self.r_s_kpc
    }
}

/// The Prugniel & Simien 1997 deprojection of a Sersic profile of index n and projected half-mass radius R_e:
/// `rho = rho_0 x^-p exp(-b x^(1/n))`, `x = r / R_e`, with b from Ciotti & Bertin 1999
/// (`b = 2n - 1/3 + 4/(405 n) + 46/(25515 n^2)`) and `p = 1 - 0.6097/n + 0.05463/n^2` (Lima Neto, Gerbal & Marquez
/// 1999), valid for 0.6 < n < 10; its projection is the Sersic profile to a few per cent. Mass and potential are
/// analytic (incomplete gamma functions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrugnielSimien {
    /// Total mass, Msun.
    pub mass_msun: f64,
    /// Projected half-mass radius R_e of the Sersic profile, kpc.
    pub r_e_kpc: f64,
    /// Sersic index n.
    pub n: f64,
}

impl PrugnielSimien {
    /// Ciotti & Bertin 1999 b_n, so that R_e holds half the projected mass.
    pub fn b(&self) -> f64 {
        let n = self.n;
        2.0 * n - 1.0 / 3.0 + 4.0 / (405.0 * n) + 46.0 / (25515.0 * n * n)
    }

    /// Inner log-slope p (Lima Neto et al. 1999).
    pub fn p(&self) -> f64 {
        1.0 - 0.6097 / self.n + 0.05463 / (self.n * self.n)
    }

    /// Fraction of the mass within projected radius `r_kpc` of the Sersic profile: `gamma(2n, b (R/R_e)^(1/n)) / Gamma(2n)`.
    pub fn projected_mass_fraction(&self, r_kpc: f64) -> f64 {
        regularized_lower_gamma(2.0 * self.n, self.b() * (r_kpc / self.r_e_kpc).powf(1.0 / self.n))
    }

    fn rho_0(&self) -> f64 {
        let (n, p, b) = (self.n, self.p(), self.b());
        self.mass_msun / (4.0 * PI * self.r_e_kpc.powi(3) * n * b.powf(-(3.0 - p) * n) * gamma((3.0 - p) * n))
    }
}

impl SphericalProfile for PrugnielSimien {
    fn density_msun_kpc3(&self, r: f64) -> f64 {
        let x = r / self.r_e_kpc;
        self.rho_0() * x.powf(-self.p()) * (-self.b() * x.powf(1.0 / self.n)).exp()
    }
    fn density_slope(&self, r: f64) -> f64 {
        let x = r / self.r_e_kpc;
        self.density_msun_kpc3(r) * (-self.p() - self.b() / self.n * x.powf(1.0 / self.n)) / r
    }
    fn enclosed_mass_msun(&self, r: f64) -> f64 {
        let s = (3.0 - self.p()) * self.n;
        self.mass_msun * regularized_lower_gamma(s, self.b() * (r / self.r_e_kpc).powf(1.0 / self.n))
    }
    fn potential_kms2(&self, r: f64) -> f64 {
        // Phi = -G [M(r)/r + int_r^inf 4 pi r' rho dr'], the second term M b^n Gamma((2-p)n, b x^(1/n)) / (R_e Gamma((3-p)n)).
        let (n, p, b) = (self.n, self.p(), self.b());
        let u = b * (r / self.r_e_kpc).powf(1.0 / n);
        let (s2, s3) = ((2.0 - p) * n, (3.0 - p) * n);
        let ln_ratio = ln_gamma(s2) - ln_gamma(s3) + n * b.ln();
        let outer = self.mass_msun / self.r_e_kpc * regularized_upper_gamma(s2, u) * ln_ratio.exp();
        // M(r) / r ~ r^(2 - p) vanishes at the centre (p < 2).
        let inner = if r > 0.0 { self.enclosed_mass_msun(r) / r } else { 0.0 };
        -G * (inner + outer)
    }
    fn scale_kpc(&self) -> f64 {
        self.r_e_kpc
    }
}

/// The regularized lower incomplete gamma function P(a, x) of statrs, extended to its limits P(a, 0) = 0 and
/// P(a, inf) = 1 (statrs refuses x <= 0 and x = inf, which radii 0 and infinity give); NaN for an invalid `a`.
fn regularized_lower_gamma(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else if x == f64::INFINITY {
        1.0
    } else {
        checked_gamma_lr(a, x).unwrap_or(f64::NAN)
    }
}

/// The regularized upper incomplete gamma function Q(a, x) of statrs, extended to Q(a, 0) = 1 and Q(a, inf) = 0.
fn regularized_upper_gamma(a: f64, x: f64) -> f64 {
    if x <= 0.0 {
        1.0
    } else if x == f64::INFINITY {
        0.0
    } else {
        checked_gamma_ur(a, x).unwrap_or(f64::NAN)
    }
}

/// A sum of profiles (the total potential of a galaxy).
pub struct Composite(pub Vec<Box<dyn SphericalProfile>>);

impl SphericalProfile for Composite {
    fn density_msun_kpc3(&self, r: f64) -> f64 {
        self.0.iter().map(|p| p.density_msun_kpc3(r)).sum()
    }
    fn density_slope(&self, r: f64) -> f64 {
        self.0.iter().map(|p| p.density_slope(r)).sum()
    }
    fn enclosed_mass_msun(&self, r: f64) -> f64 {
        self.0.iter().map(|p| p.enclosed_mass_msun(r)).sum()
    }
    fn potential_kms2(&self, r: f64) -> f64 {
        self.0.iter().map(|p| p.potential_kms2(r)).sum()
    }
    fn scale_kpc(&self) -> f64 {
        self.0.iter().map(|p| p.scale_kpc()).fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// Density, mass and potential agree: dM/dr = 4 pi r^2 rho and dPhi/dr = G M / r^2 (numerically).
    fn check_consistency(p: &dyn SphericalProfile) {
        for r in [0.01, 0.3, 1.0, 4.0, 30.0] {
            let h = 1e-5 * r;
            let dm = (p.enclosed_mass_msun(r + h) - p.enclosed_mass_msun(r - h)) / (2.0 * h);
            assert_relative_eq!(dm, 4.0 * PI * r * r * p.density_msun_kpc3(r), max_relative = 1e-6);
            let dphi = (p.potential_kms2(r + h) - p.potential_kms2(r - h)) / (2.0 * h);
            assert_relative_eq!(dphi, G * p.enclosed_mass_msun(r) / (r * r), max_relative = 1e-6);
            let drho = (p.density_msun_kpc3(r + h) - p.density_msun_kpc3(r - h)) / (2.0 * h);
            assert_relative_eq!(drho, p.density_slope(r), max_relative = 1e-6);
        }
    }

    #[test]
    fn profiles_are_self_consistent() {
        check_consistency(&Plummer { mass_msun: 1e8, a_kpc: 0.5 });
        check_consistency(&Hernquist { mass_msun: 1e10, a_kpc: 2.0 });
        check_consistency(&Nfw { rho_s_msun_kpc3: 5e7, r_s_kpc: 1.0 });
        for n in [0.8, 1.0, 2.0, 4.0] {
            // R_e = 10 kpc keeps the test radii (0.01..30 kpc) where the density is resolved in double precision.
            let ps = PrugnielSimien { mass_msun: 1e10, r_e_kpc: 10.0, n };
            check_consistency(&ps);
            assert_relative_eq!(ps.enclosed_mass_msun(1e5), 1e10, max_relative = 1e-9);
            // R_e holds half the projected mass; the 3-D half-mass radius of a Sersic profile is about 1.33 R_e.
            assert_relative_eq!(ps.projected_mass_fraction(10.0), 0.5, max_relative = 1e-3);
            let r3 = (1..4000).map(|i| i as f64 * 1e-3 * 10.0).find(|&r| ps.enclosed_mass_msun(r) > 5e9).unwrap();
            assert!((1.25..1.42).contains(&(r3 / 10.0)), "n = {n}: r_1/2 / R_e = {}", r3 / 10.0);
        }
        let c = Composite(vec![
            Box::new(Plummer { mass_msun: 1e8, a_kpc: 0.5 }),
            Box::new(Nfw { rho_s_msun_kpc3: 5e7, r_s_kpc: 1.0 }),
        ]);
        check_consistency(&c);
        // The Sersic-like profile is defined at the centre and at infinity (statrs' incomplete gamma functions refuse
        // those limits).
        let ps = PrugnielSimien { mass_msun: 1e10, r_e_kpc: 2.0, n: 2.0 };
        assert_eq!(ps.enclosed_mass_msun(0.0), 0.0);
        assert_eq!(ps.enclosed_mass_msun(f64::INFINITY), 1e10);
        assert_eq!(ps.projected_mass_fraction(0.0), 0.0);
        assert!(ps.potential_kms2(0.0).is_finite() && ps.potential_kms2(0.0) < ps.potential_kms2(1.0));
        assert_relative_eq!(
            Hernquist { mass_msun: 1.0, a_kpc: 1.0 }.enclosed_mass_msun(1.0 + 2f64.sqrt()),
            0.5,
            max_relative = 1e-12
        );
    }
}
