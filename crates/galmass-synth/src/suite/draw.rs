//! The random draws of one galaxy: its global properties from the suite's population relations (halo mass,
//! concentration, stellar mass, size, bulge fraction, cold gas, satellite status: steps 1-3 of [`super`]), its bulge
//! shape, and the sizes of bulge and disc that give the drawn half-mass radius. Every draw comes from a ChaCha8 stream
//! of (seed, galaxy index, purpose), so galaxies can be built in any order.
//!
//! ```
//! use galmass_synth::suite::{EXPONENTIAL_RE_OVER_RD, HERNQUIST_RE_OVER_A};
//! // An exponential disc holds half its mass (seen face-on) within 1.678 scale lengths.
//! let x = EXPONENTIAL_RE_OVER_RD;
//! assert!((1.0 - (1.0 + x) * (-x).exp() - 0.5).abs() < 1e-12);
//! assert!(HERNQUIST_RE_OVER_A > 1.8 && HERNQUIST_RE_OVER_A < 1.82);
//! ```

use galmass_core::numeric::roots::bisect_monotonic;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::params::SuiteParams;
use crate::error::SynthError;
use crate::halo::{concentration_dm14, stellar_mass_moster2013, HALO_COSMOLOGY};
use crate::profiles::{Hernquist, Plummer, PrugnielSimien, SphericalProfile};

/// Projected half-mass radius of an exponential disc over its scale length (1.678).
pub const EXPONENTIAL_RE_OVER_RD: f64 = 1.678_346_990_016_660_6;
/// Projected half-mass radius of a Hernquist sphere over its scale length (1.8153; Hernquist 1990).
pub const HERNQUIST_RE_OVER_A: f64 = 1.8153;
/// 3-D over projected half-mass radius of a Plummer sphere (1.3048).
pub const PLUMMER_R3D_OVER_RE: f64 = 1.304_766_372;

/// Relative tolerance of the bisections for sizes and half-mass radii (in the radius or the size factor).
pub(super) const RADIUS_REL_TOL: f64 = 1e-14;

/// One galaxy's bulge shape (the Sersic index drawn).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum BulgeShape {
    /// Plummer.
    Plummer,
    /// Hernquist.
    Hernquist,
    /// Prugniel-Simien with this Sersic index.
    Sersic(f64),
}

impl BulgeShape {
    /// The profile of mass `mass_msun` whose projected half-mass radius is `r_e_kpc`.
    pub(super) fn profile(self, mass_msun: f64, r_e_kpc: f64) -> Box<dyn SphericalProfile> {
        match self {
            BulgeShape::Plummer => Box::new(Plummer { mass_msun, a_kpc: r_e_kpc }),
            BulgeShape::Hernquist => Box::new(Hernquist { mass_msun, a_kpc: r_e_kpc / HERNQUIST_RE_OVER_A }),
            BulgeShape::Sersic(n) => Box::new(PrugnielSimien { mass_msun, r_e_kpc, n }),
        }
    }

    /// Fraction of the mass within projected radius `r` for projected half-mass radius `r_e` (Plummer
    /// `R^2 / (R^2 + a^2)`; Hernquist 1990 eq. 37; the Sersic law for the Prugniel-Simien profile).
    pub(super) fn projected_fraction(self, r: f64, r_e: f64) -> f64 {
        match self {
            BulgeShape::Plummer => r * r / (r * r + r_e * r_e),
            BulgeShape::Hernquist => {
                let s = r / (r_e / HERNQUIST_RE_OVER_A);
                if (s - 1.0).abs() < 1e-6 {
                    return 1.0 / 3.0;
                }
                let x = if s < 1.0 {
                    (1.0 / s).acosh() / (1.0 - s * s).sqrt()
                } else {
                    (1.0 / s).acos() / (s * s - 1.0).sqrt()
                };
                s * s * (x - 1.0) / (1.0 - s * s)
            }
            BulgeShape::Sersic(n) => PrugnielSimien { mass_msun: 1.0, r_e_kpc: r_e, n }.projected_mass_fraction(r),
        }
    }
}

/// The random stream of one purpose of one galaxy.
pub(super) fn stream(seed: u64, index: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index.wrapping_mul(16).wrapping_add(purpose));
    rng
}

/// Uniform in `range` (its value when the ends are equal).
pub(super) fn uniform(rng: &mut ChaCha8Rng, range: (f64, f64)) -> f64 {
    if range.0 == range.1 {
        range.0
    } else {
        rng.random_range(range.0..=range.1)
    }
}

/// A standard normal deviate.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// log10 M from `dN/dlog M ~ M^slope` on [lo, hi] by inverting its cumulative distribution.
fn draw_log_mass(rng: &mut ChaCha8Rng, (lo, hi): (f64, f64), slope: f64) -> f64 {
    let u: f64 = rng.random_range(0.0..1.0);
    if slope.abs() < 1e-12 || lo == hi {
        return lo + u * (hi - lo);
    }
    let k = slope * std::f64::consts::LN_10;
    let (a, b) = ((k * lo).exp(), (k * hi).exp());
    (a + u * (b - a)).ln() / k
}

/// Particle count for a component of mass `mass` at resolution `particle_mass`, within `limits`.
pub(super) fn particle_count(mass: f64, particle_mass: f64, limits: (usize, usize)) -> usize {
    let n = (mass / particle_mass).round();
    if n.is_finite() {
        (n as usize).clamp(limits.0, limits.1)
    } else {
        limits.0
    }
}

/// The galaxy's global draws (step 1-3 of the module docs).
pub(super) struct Draws {
    /// Central (true) or satellite.
    pub(super) central: bool,
    /// M200, Msun.
    pub(super) m200: f64,
    /// NFW concentration.
    pub(super) c200: f64,
    /// Stellar mass, Msun.
    pub(super) m_star: f64,
    /// Projected half-mass radius of the stars, kpc.
    pub(super) r_e: f64,
    /// Bulge-to-total stellar mass ratio.
    pub(super) bulge_fraction: f64,
    /// HI mass, Msun.
    pub(super) m_hi: f64,
    /// Tidal radius over r200 (infinite for centrals).
    pub(super) tidal_fraction: f64,
}

/// Draws a galaxy's global properties from the suite's relations.
pub(super) fn draw_globals(p: &SuiteParams, rng: &mut ChaCha8Rng) -> Result<Draws, SynthError> {
    let cosmo = HALO_COSMOLOGY;
    let central = match &p.satellites {
        Some(s) => rng.random_range(0.0..1.0) >= s.fraction,
        None => true,
    };
    let mut attempt = 0;
    let (m200, m_star) = loop {
        let m200 = 10f64.powf(draw_log_mass(rng, p.log_m200_range, p.mass_function_slope));
        let m_star = stellar_mass_moster2013(m200) * 10f64.powf(p.stellar_mass_scatter_dex * normal(rng));
        match p.log_mstar_range {
            Some((lo, hi)) if !(lo..=hi).contains(&m_star.log10()) => {
                attempt += 1;
                if attempt > 100_000 {
                    return Err(SynthError::InvalidParameter {
                        name: "log_mstar_range",
                        reason: "no stellar mass drawn inside it in 1e5 tries".into(),
                    });
                }
            }
            _ => break (m200, m_star),
        }
    };
    let c200 =
        (concentration_dm14(&cosmo, m200, p.redshift) * 10f64.powf(p.concentration_scatter_dex * normal(rng))).max(1.5);
    let r_e = p.re_at_1e8_kpc * (m_star / 1e8).powf(p.re_slope) * 10f64.powf(p.re_scatter_dex * normal(rng));
    let bulge_fraction =
        (p.bt_at_1e10 + p.bt_slope * (m_star.log10() - 10.0) + p.bt_scatter * normal(rng)).clamp(0.0, 1.0);
    let mut m_hi = match &p.gas {
        Some(g) => m_star * 10f64.powf(g.median_log_hi_ratio(m_star) + g.hi_scatter_dex * normal(rng)),
        None => 0.0,
    };
    let mut tidal_fraction = f64::INFINITY;
    if let (false, Some(s)) = (central, &p.satellites) {
        tidal_fraction = uniform(rng, s.tidal_radius_over_r200);
        m_hi *= uniform(rng, s.gas_retained);
    }
    Ok(Draws { central, m200, c200, m_star, r_e, bulge_fraction, m_hi, tidal_fraction })
}

/// The factor lambda by which a disc of face-on half-mass radius lambda and a bulge of projected half-mass radius
/// `bulge_ratio` lambda (both in units of R_e), holding `bulge_fraction` of the mass, have a combined face-on projected
/// half-mass radius of 1 (nested bisections).
pub(super) fn size_scale_for_half_mass(shape: BulgeShape, bulge_fraction: f64, bulge_ratio: f64) -> f64 {
    let projected = |lambda: f64, r: f64| {
        let x = r * EXPONENTIAL_RE_OVER_RD / lambda;
        let disc = 1.0 - (1.0 + x) * (-x).exp();
        bulge_fraction * shape.projected_fraction(r, bulge_ratio * lambda) + (1.0 - bulge_fraction) * disc
    };
    let half_radius = |lambda: f64| bisect_monotonic(|r| projected(lambda, r), 0.5, 1e-3, 1e3, RADIUS_REL_TOL);
    // The half-mass radius grows with lambda (both components scale with it).
    bisect_monotonic(half_radius, 1.0, 0.1, 10.0, RADIUS_REL_TOL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::PRESETS;

    #[test]
    fn bulge_and_disc_sizes_give_the_drawn_half_mass_radius() {
        // Each bulge's projected mass reaches one half at its R_e, and Hernquist's formula is continuous at s = 1.
        for shape in [BulgeShape::Plummer, BulgeShape::Hernquist, BulgeShape::Sersic(1.0), BulgeShape::Sersic(4.0)] {
            assert!((shape.projected_fraction(2.0, 2.0) - 0.5).abs() < 1e-3, "{shape:?}");
        }
        let a = 1.0 / HERNQUIST_RE_OVER_A;
        let h = |r: f64| BulgeShape::Hernquist.projected_fraction(r, 1.0);
        assert!((h(a * (1.0 + 1e-3)) - h(a * (1.0 - 1e-3))).abs() < 1e-3);
        for kind in [BulgeShape::Plummer, BulgeShape::Hernquist, BulgeShape::Sersic(2.0)] {
            // Pure components need no rescaling.
            assert!((size_scale_for_half_mass(kind, 0.0, 0.3) - 1.0).abs() < 1e-6);
            assert!(
                (size_scale_for_half_mass(kind, 1.0, 1.0) - 1.0).abs() < 1e-4,
                "{}",
                size_scale_for_half_mass(kind, 1.0, 1.0)
            );
            // A compact bulge shrinks the half-mass radius, so the components grow.
            assert!(size_scale_for_half_mass(kind, 0.3, 0.2) > 1.05);
        }
    }

    /// Least-squares slope and intercept of y on x.
    fn fit(points: &[(f64, f64)]) -> (f64, f64) {
        let n = points.len() as f64;
        let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
        (sxy / sxx, my - sxy / sxx * mx)
    }

    #[test]
    fn populations_follow_the_configured_relations() {
        for name in PRESETS {
            let p = SuiteParams::preset(name).unwrap();
            let draws: Vec<Draws> = (0..4000).map(|i| draw_globals(&p, &mut stream(9, i, 0)).unwrap()).collect();
            // Stellar masses scatter about Moster et al. 2013 with the configured scatter (no range cut).
            if let Some((lo, hi)) = p.log_mstar_range {
                assert!(draws.iter().all(|d| (lo..=hi).contains(&d.m_star.log10())));
            } else {
                let resid: Vec<f64> =
                    draws.iter().map(|d| (d.m_star / stellar_mass_moster2013(d.m200)).log10()).collect();
                let mean = resid.iter().sum::<f64>() / resid.len() as f64;
                let sd = (resid.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / resid.len() as f64).sqrt();
                assert!(
                    mean.abs() < 0.01 && (sd / p.stellar_mass_scatter_dex - 1.0).abs() < 0.05,
                    "{name}: {mean} {sd}"
                );
            }
            // Size-mass relation: slope and normalisation recovered.
            let size: Vec<(f64, f64)> = draws.iter().map(|d| ((d.m_star / 1e8).log10(), d.r_e.log10())).collect();
            let (slope, intercept) = fit(&size);
            assert!(
                (slope - p.re_slope).abs() < 0.02 && (intercept - p.re_at_1e8_kpc.log10()).abs() < 0.03,
                "{name}: {slope} {intercept}"
            );
            if let Some(g) = &p.gas {
                // Where the cap does not act, the power law; where it does, the cap.
                let below_cap = |d: &&Draws| g.hi_at_1e9 + g.hi_slope * (d.m_star.log10() - 9.0) < g.hi_max_log_ratio;
                let hi: Vec<(f64, f64)> = draws
                    .iter()
                    .filter(|d| d.central)
                    .filter(below_cap)
                    .map(|d| (d.m_star.log10() - 9.0, (d.m_hi / d.m_star).log10()))
                    .collect();
                if hi.len() > 200 {
                    let (slope, intercept) = fit(&hi);
                    assert!(
                        (slope - g.hi_slope).abs() < 0.05 && (intercept - g.hi_at_1e9).abs() < 0.08,
                        "{name}: {slope} {intercept} ({} galaxies)",
                        hi.len()
                    );
                }
                let capped: Vec<f64> = draws
                    .iter()
                    .filter(|d| d.central && !below_cap(d))
                    .map(|d| (d.m_hi / d.m_star).log10() - g.hi_max_log_ratio)
                    .collect();
                if capped.len() > 200 {
                    let mean = capped.iter().sum::<f64>() / capped.len() as f64;
                    assert!(mean.abs() < 0.05, "{name}: capped mean offset {mean}");
                }
            }
            if let Some(s) = &p.satellites {
                let sat = draws.iter().filter(|d| !d.central).count() as f64 / draws.len() as f64;
                assert!((sat - s.fraction).abs() < 0.03, "{name}: satellite fraction {sat}");
            }
        }
    }
}
