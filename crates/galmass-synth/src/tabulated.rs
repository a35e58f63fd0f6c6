//! Profiles without a closed-form mass or potential, tabulated from their density: the truncated NFW halo of
//! Kazantzidis, Magorrian & Moore 2004 (finite mass, so dark-matter particles can be sampled) and the Di Cintio et
//! al. 2014 (alpha, beta, gamma) profiles of baryon-modified haloes.
//!
//! [`TabulatedProfile`] integrates `M(r) = int 4 pi r^2 rho dr` and `Phi(r) = -G [M(r)/r + int_r^inf 4 pi r' rho dr']`
//! on 4000 log-spaced radii (the cumulative trapezoid rule in ln r of `galmass_core::numeric::quad`, starting with the
//! analytic inner power law) and interpolates in log-log (`galmass_core::numeric::interp`); beyond the table the mass
//! is constant and the potential Keplerian.
//!
//! ```
//! use galmass_synth::profiles::{Nfw, SphericalProfile};
//! use galmass_synth::tabulated::TabulatedProfile;
//! let nfw = Nfw { rho_s_msun_kpc3: 1e7, r_s_kpc: 10.0 };
//! let truncated = TabulatedProfile::truncated_nfw(nfw, 150.0, 0.1).unwrap();
//! // Finite total mass, slightly above M(<r_vir).
//! let total = truncated.enclosed_mass_msun(1e6);
//! assert!(total > nfw.enclosed_mass_msun(150.0) && total < 1.3 * nfw.enclosed_mass_msun(150.0));
//! ```

use std::f64::consts::PI;
use std::sync::Arc;

use galmass_core::numeric::interp::interp_checked;
use galmass_core::numeric::quad::{cumulative_trapezoid, simpson};
use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;

use crate::error::SynthError;
use crate::halo::Dc14Shape;
use crate::profiles::{Nfw, SphericalProfile};

type DensityFn = dyn Fn(f64) -> f64 + Send + Sync;

/// A spherical profile defined by its density, with mass and potential tabulated.
#[derive(Clone)]
pub struct TabulatedProfile {
    density: Arc<DensityFn>,
    ln_r: Vec<f64>,
    ln_mass: Vec<f64>,
    potential: Vec<f64>,
    scale_kpc: f64,
    total_mass_msun: f64,
}

impl std::fmt::Debug for TabulatedProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TabulatedProfile")
            .field("scale_kpc", &self.scale_kpc)
            .field("total_mass_msun", &self.total_mass_msun)
            .finish()
    }
}

const N_TABLE: usize = 4000;

impl TabulatedProfile {
    /// Tabulates `density` (Msun/kpc^3, finite total mass, inner power law `rho ~ r^-inner_slope` with slope < 3)
    /// from 1e-5 to 1e4 scale radii.
    pub fn new(density: Arc<DensityFn>, scale_kpc: f64, inner_slope: f64) -> Result<Self, SynthError> {
        let valid = scale_kpc.is_finite() && scale_kpc > 0.0 && inner_slope.is_finite() && inner_slope < 3.0;
        if !valid {
            return Err(SynthError::InvalidParameter {
                name: "profile",
                reason: format!("scale {scale_kpc} kpc, inner slope {inner_slope}"),
            });
        }
        let (lo, hi) = ((1e-5 * scale_kpc).ln(), (1e4 * scale_kpc).ln());
        let h = (hi - lo) / (N_TABLE - 1) as f64;
        let ln_r: Vec<f64> = (0..N_TABLE).map(|i| lo + h * i as f64).collect();
        // Integrands in d ln r: 4 pi r^3 rho (mass) and 4 pi r^2 rho (outer potential term).
        let mass_integrand: Vec<f64> = ln_r.iter().map(|&l| 4.0 * PI * l.exp().powi(3) * density(l.exp())).collect();
        let outer_integrand: Vec<f64> = ln_r.iter().map(|&l| 4.0 * PI * l.exp().powi(2) * density(l.exp())).collect();
        if mass_integrand.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "density",
                reason: "must be finite and non-negative".into(),
            });
        }
        // Inner power law below the table: M(r0) = 4 pi r0^3 rho(r0) / (3 - slope).
        let inner_mass = mass_integrand[0] / (3.0 - inner_slope);
        let mass: Vec<f64> = cumulative_trapezoid(&ln_r, &mass_integrand).into_iter().map(|m| inner_mass + m).collect();
        // The outer term integrates inwards from the last radius: the running integral in -ln r, reversed.
        let minus_ln_r: Vec<f64> = ln_r.iter().rev().map(|l| -l).collect();
        let outer_reversed: Vec<f64> = outer_integrand.iter().rev().copied().collect();
        let mut outer = cumulative_trapezoid(&minus_ln_r, &outer_reversed);
        outer.reverse();
        let potential: Vec<f64> = (0..N_TABLE).map(|i| -G * (mass[i] / ln_r[i].exp() + outer[i])).collect();
        let total_mass_msun = mass[N_TABLE - 1];
        Ok(Self {
            density,
            ln_r,
            ln_mass: mass.iter().map(|m| m.max(f64::MIN_POSITIVE).ln()).collect(),
            potential,
            scale_kpc,
            total_mass_msun,
        })
    }

    /// Kazantzidis, Magorrian & Moore 2004 (eq. 2): NFW inside `r_vir_kpc`, and beyond it
    /// `rho(r_vir) (r / r_vir)^eps exp(-(r - r_vir) / r_decay)` with `r_decay = decay_fraction r_vir` and
    /// `eps = -(1 + 3c)/(1 + c) + r_vir / r_decay` (c = r_vir / r_s), so that density and log-slope are continuous.
    pub fn truncated_nfw(nfw: Nfw, r_vir_kpc: f64, decay_fraction: f64) -> Result<Self, SynthError> {
        if !(r_vir_kpc > 0.0 && decay_fraction > 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "r_vir_kpc",
                reason: format!("{r_vir_kpc} kpc, decay fraction {decay_fraction}"),
            });
        }
        let c = r_vir_kpc / nfw.r_s_kpc;
        let r_decay = decay_fraction * r_vir_kpc;
        let eps = -(1.0 + 3.0 * c) / (1.0 + c) + r_vir_kpc / r_decay;
        let rho_vir = nfw.density_msun_kpc3(r_vir_kpc);
        let density = Arc::new(move |r: f64| {
            if r <= r_vir_kpc {
                nfw.density_msun_kpc3(r)
            } else {
                rho_vir * (r / r_vir_kpc).powf(eps) * (-(r - r_vir_kpc) / r_decay).exp()
            }
        });
        Self::new(density, nfw.r_s_kpc, 1.0)
    }

    /// A Di Cintio et al. 2014 (alpha, beta, gamma) halo normalised to `m_vir_msun` within `r_vir_kpc`, scale radius
    /// `r_s_kpc`, truncated beyond r_vir like [`TabulatedProfile::truncated_nfw`] (decay 0.1 r_vir).
    pub fn dc14(shape: Dc14Shape, m_vir_msun: f64, r_vir_kpc: f64, r_s_kpc: f64) -> Result<Self, SynthError> {
        let Dc14Shape { alpha, beta, gamma, .. } = shape;
        let unit = move |r: f64| {
            let x = r / r_s_kpc;
            1.0 / (x.powf(gamma) * (1.0 + x.powf(alpha)).powf((beta - gamma) / alpha))
        };
        // Normalise: M(<r_vir) of the unit-density profile, by Simpson's rule in ln r with the inner power law.
        let (lo, hi) = ((1e-6 * r_s_kpc).ln(), r_vir_kpc.ln());
        let f = |l: f64| 4.0 * PI * l.exp().powi(3) * unit(l.exp());
        let unit_mass = simpson(f, lo, hi, 4000) + f(lo) / (3.0 - gamma);
        let rho_s = m_vir_msun / unit_mass;
        let r_decay = 0.1 * r_vir_kpc;
        let x_vir = r_vir_kpc / r_s_kpc;
        let slope_vir = -gamma - (beta - gamma) * x_vir.powf(alpha) / (1.0 + x_vir.powf(alpha));
        let eps = slope_vir + r_vir_kpc / r_decay;
        let rho_vir = rho_s * unit(r_vir_kpc);
        let density = Arc::new(move |r: f64| {
            if r <= r_vir_kpc {
                rho_s * unit(r)
            } else {
                rho_vir * (r / r_vir_kpc).powf(eps) * (-(r - r_vir_kpc) / r_decay).exp()
            }
        });
        Self::new(density, r_s_kpc, gamma)
    }

    /// The core-NFW halo of Read, Agertz & Collins 2016 (their eqs. 16-19): `M(<r) = M_NFW(<r) f^n` with
    /// `f = tanh(r / r_c)`, so `rho = f^n rho_NFW + n f^(n-1) (1 - f^2) M_NFW(<r) / (4 pi r^2 r_c)`; n = 0 is NFW,
    /// n = 1 a complete core of size r_c (inner log-slope 1 - n). Truncated beyond r_vir like
    /// [`TabulatedProfile::truncated_nfw`] (decay 0.1 r_vir).
    pub fn core_nfw(nfw: Nfw, r_vir_kpc: f64, r_c_kpc: f64, n: f64) -> Result<Self, SynthError> {
        if !(r_c_kpc.is_finite() && r_c_kpc > 0.0 && (0.0..=1.0).contains(&n) && r_vir_kpc > 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "core_nfw",
                reason: format!("r_c = {r_c_kpc} kpc, n = {n}, r_vir = {r_vir_kpc} kpc"),
            });
        }
        let inner = move |r: f64| {
            let f = (r / r_c_kpc).tanh();
            let core = if n > 0.0 {
                n * f.powf(n - 1.0) * (1.0 - f * f) * nfw.enclosed_mass_msun(r) / (4.0 * PI * r * r * r_c_kpc)
            } else {
                0.0
            };
            f.powf(n) * nfw.density_msun_kpc3(r) + core
        };
        let density = exponential_cut(inner, r_vir_kpc, 0.1);
        Self::new(density, nfw.r_s_kpc, 1.0 - n)
    }

    /// This profile cut off beyond `r_t_kpc` as a tidally stripped satellite: the density is kept inside r_t and
    /// continues as `rho(r_t) (r / r_t)^eps exp(-(r - r_t) / r_decay)` with `r_decay = decay_fraction r_t` and eps
    /// keeping the log-slope continuous (the Kazantzidis et al. 2004 form at the tidal radius).
    pub fn tidally_truncated(&self, r_t_kpc: f64, decay_fraction: f64) -> Result<Self, SynthError> {
        if !(r_t_kpc.is_finite() && r_t_kpc > 0.0 && decay_fraction > 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "r_t_kpc",
                reason: format!("{r_t_kpc} kpc, decay fraction {decay_fraction}"),
            });
        }
        let inner = self.density.clone();
        let inner_slope =
            -(self.density_msun_kpc3(1e-4 * self.scale_kpc) / self.density_msun_kpc3(0.5e-4 * self.scale_kpc)).log2();
        Self::new(
            exponential_cut(move |r| inner(r), r_t_kpc, decay_fraction),
            self.scale_kpc,
            inner_slope.clamp(-1.0, 2.9),
        )
    }

    /// Total mass, Msun.
    pub fn total_mass_msun(&self) -> f64 {
        self.total_mass_msun
    }
}

/// `inner` inside `r_cut`, and beyond it `inner(r_cut) (r / r_cut)^eps exp(-(r - r_cut) / r_decay)` with
/// `r_decay = decay_fraction r_cut` and eps from the numerical log-slope of `inner` at r_cut plus `r_cut / r_decay`.
fn exponential_cut(
    inner: impl Fn(f64) -> f64 + Send + Sync + 'static,
    r_cut: f64,
    decay_fraction: f64,
) -> Arc<DensityFn> {
    let r_decay = decay_fraction * r_cut;
    let h = 1e-4;
    let slope = (inner(r_cut * (1.0 + h)).ln() - inner(r_cut * (1.0 - h)).ln()) / ((1.0 + h).ln() - (1.0 - h).ln());
    let eps = slope + r_cut / r_decay;
    let rho_cut = inner(r_cut);
    Arc::new(
        move |r: f64| {
            if r <= r_cut {
                inner(r)
            } else {
                rho_cut * (r / r_cut).powf(eps) * (-(r - r_cut) / r_decay).exp()
            }
        },
    )
}

impl SphericalProfile for TabulatedProfile {
    fn density_msun_kpc3(&self, r: f64) -> f64 {
        (self.density)(r)
    }

    fn density_slope(&self, r: f64) -> f64 {
        let h = 1e-5 * r;
        ((self.density)(r + h) - (self.density)(r - h)) / (2.0 * h)
    }

    fn enclosed_mass_msun(&self, r: f64) -> f64 {
        match interp_checked(&self.ln_r, &self.ln_mass, r.ln()) {
            Some(ln_mass) => ln_mass.exp(),
            None if r < self.ln_r[0].exp() => self.ln_mass[0].exp() * (r / self.ln_r[0].exp()).powf(3.0),
            None => self.total_mass_msun,
        }
    }

    fn potential_kms2(&self, r: f64) -> f64 {
        match interp_checked(&self.ln_r, &self.potential, r.ln()) {
            Some(phi) => phi,
            None if r < self.ln_r[0].exp() => self.potential[0],
            None => -G * self.total_mass_msun / r,
        }
    }

    fn scale_kpc(&self) -> f64 {
        self.scale_kpc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::df::{DfAnisotropy, SphericalDf};
    use crate::halo::{concentration_dm14, HaloModel, HALO_COSMOLOGY};
    use crate::profiles::Hernquist;
    use approx::assert_relative_eq;

    #[test]
    fn tabulation_reproduces_an_analytic_profile() {
        let h = Hernquist { mass_msun: 1e10, a_kpc: 2.0 };
        let t = TabulatedProfile::new(Arc::new(move |r| h.density_msun_kpc3(r)), 2.0, 1.0).unwrap();
        for r in [0.01, 0.5, 2.0, 10.0, 200.0] {
            assert_relative_eq!(t.enclosed_mass_msun(r), h.enclosed_mass_msun(r), max_relative = 1e-5);
            assert_relative_eq!(t.potential_kms2(r), h.potential_kms2(r), max_relative = 1e-4);
        }
        assert_relative_eq!(t.total_mass_msun(), 1e10, max_relative = 1e-3);
    }

    #[test]
    fn truncated_nfw_is_continuous_and_finite() {
        let halo = HaloModel::nfw_from_m200(1e11, 10.0, 0.0, &HALO_COSMOLOGY).unwrap();
        let t = TabulatedProfile::truncated_nfw(halo.nfw, halo.r200_kpc, 0.1).unwrap();
        let r = halo.r200_kpc;
        assert_relative_eq!(t.density_msun_kpc3(r * (1.0 + 1e-9)), t.density_msun_kpc3(r), max_relative = 1e-6);
        assert_relative_eq!(t.enclosed_mass_msun(r), 1e11, max_relative = 1e-4);
        // The exponential tail (rising as (r/r_vir)^eps before it decays) adds about a fifth of M200.
        assert!(t.total_mass_msun() > 1e11 && t.total_mass_msun() < 1.3e11, "{}", t.total_mass_msun());
        // Sampled dark matter reproduces the enclosed-mass profile within Poisson error, and the Jeans dispersion.
        let df = SphericalDf::new(&t, &t, DfAnisotropy::Isotropic).unwrap();
        let n = 100_000;
        let (pos, _) = df.sample(n, 3).unwrap();
        for radius in [1.0, 10.0, 50.0, r] {
            let frac = t.enclosed_mass_msun(radius) / t.total_mass_msun();
            let counted = (0..n)
                .filter(|&i| (pos[[i, 0]].powi(2) + pos[[i, 1]].powi(2) + pos[[i, 2]].powi(2)).sqrt() < radius)
                .count() as f64
                / n as f64;
            assert!(
                (counted - frac).abs() < 4.0 * (frac * (1.0 - frac) / n as f64).sqrt() + 1e-3,
                "r = {radius}: {counted} vs {frac}"
            );
        }
        let (_, vel) = df.sample(n, 3).unwrap();
        let jeans = crate::jeans::JeansSolution::constant_beta(&t, &t, 0.0).unwrap();
        let mut rows: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let p = [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]];
                let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
                (r, (p[0] * vel[[i, 0]] + p[1] * vel[[i, 1]] + p[2] * vel[[i, 2]]) / r)
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        for bin in rows.chunks(10_000).take(9) {
            let m = bin.len() as f64;
            let sigma = (bin.iter().map(|x| x.1 * x.1).sum::<f64>() / m).sqrt();
            let expected = (bin.iter().map(|x| jeans.sigma_r2_kms2(x.0)).sum::<f64>() / m).sqrt();
            assert!((sigma / expected - 1.0).abs() < 0.03, "r = {:.2}: {sigma} vs {expected}", bin[5000].0);
        }
    }

    #[test]
    fn core_nfw_has_the_read_2016_mass_and_a_core() {
        let halo = HaloModel::nfw_from_m200(3e10, 12.0, 0.0, &HALO_COSMOLOGY).unwrap();
        let r_c = 1.5;
        let cored = TabulatedProfile::core_nfw(halo.nfw, halo.r200_kpc, r_c, 1.0).unwrap();
        for r in [0.05, 0.5, 1.5, 5.0, 50.0] {
            let expected = halo.nfw.enclosed_mass_msun(r) * (r / r_c).tanh();
            assert_relative_eq!(cored.enclosed_mass_msun(r), expected, max_relative = 2e-4);
        }
        let slope = |p: &TabulatedProfile, r: f64| p.density_slope(r) * r / p.density_msun_kpc3(r);
        assert!(slope(&cored, 0.01 * r_c).abs() < 0.05, "{}", slope(&cored, 0.01 * r_c));
        let cusp = TabulatedProfile::core_nfw(halo.nfw, halo.r200_kpc, r_c, 0.0).unwrap();
        assert_relative_eq!(cusp.enclosed_mass_msun(1.0), halo.nfw.enclosed_mass_msun(1.0), max_relative = 1e-4);
        assert!(matches!(
            TabulatedProfile::core_nfw(halo.nfw, halo.r200_kpc, r_c, 1.5),
            Err(SynthError::InvalidParameter { name: "core_nfw", .. })
        ));
        // A stripped satellite keeps its inner mass and loses its outskirts.
        let stripped = cusp.tidally_truncated(0.3 * halo.r200_kpc, 0.3).unwrap();
        assert_relative_eq!(stripped.enclosed_mass_msun(2.0), cusp.enclosed_mass_msun(2.0), max_relative = 1e-3);
        assert!(stripped.total_mass_msun() < 0.8 * cusp.enclosed_mass_msun(halo.r200_kpc));
    }

    #[test]
    fn dc14_halo_holds_its_virial_mass_and_a_shallower_centre() {
        let cosmo = HALO_COSMOLOGY;
        let nfw = HaloModel::nfw_from_m200(1e10, concentration_dm14(&cosmo, 1e10, 0.0), 0.0, &cosmo).unwrap();
        let shape = Dc14Shape::from_log_stellar_to_halo(-2.7);
        let r_s = nfw.nfw.r_s_kpc / shape.concentration_factor;
        let dc14 = TabulatedProfile::dc14(shape, 1e10, nfw.r200_kpc, r_s).unwrap();
        assert_relative_eq!(dc14.enclosed_mass_msun(nfw.r200_kpc), 1e10, max_relative = 1e-3);
        // Less mass than the NFW halo in the inner 0.5 kpc (the core).
        assert!(dc14.enclosed_mass_msun(0.5) < 0.8 * nfw.enclosed_mass_msun(0.5));
        let slope = |r: f64| dc14.density_slope(r) * r / dc14.density_msun_kpc3(r);
        assert!(slope(0.01 * r_s) > -0.5, "{}", slope(0.01 * r_s));
    }
}
