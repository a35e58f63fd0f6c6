//! Bayesian decomposition of a rotation curve into a dark halo, a stellar disc and gas (delosrios2023 §5.6):
//! `v_obs^2 = v_DM^2 + Upsilon_* v_*^2 + v_gas^2`, sampled with the affine-invariant ensemble sampler of
//! [`crate::mcmc`] (delosrios2023 used emcee).
//!
//! Free parameters (delosrios2023 §5.6, its five): V200 flat in [10, 800] km/s, C200 flat in [1, 1000], the
//! stellar mass-to-light ratio flat in [0, 20] (left out without a stellar disc), the distance with a Gaussian prior
//! around its measured value and the inclination with a Gaussian prior around the tilted-ring value; a Dekel-Zhao
//! halo adds its inner slope, flat in [0, 2]. How the observables move with distance and inclination (Li et al.
//! 2018, delosrios2023 eq. 8): the radii scale as `D / D_0`, the disc and gas terms as `v^2 ∝ D / D_0` (mass ∝ D^2 at
//! fixed flux, radius ∝ D), the observed velocities and their errors as `sin(i_0) / sin(i)`.
//!
//! Sampling: the walkers move in `ln V200` and `ln C200`, with the Jacobian `V200 C200` in the density so the priors
//! stay flat in V200 and C200 as the paper has them. A curve that stops well inside r200 constrains the halo only
//! along a curved V200-C200 ridge (roughly a power law); in the logarithms the ridge is nearly straight, which the
//! affine-invariant moves follow (the autocorrelation time of a mock disc curve to 3 scale lengths fell from ~250
//! steps in V200, C200 to well under 100). The samples are returned in V200 and C200.
//!
//! Errors: each point's own error and `velocity_error_fraction` of its velocity in quadrature (delosrios2023
//! assumes 10% uncertainties, the median of observed curves, Di Teodoro & Fraternali 2015). Gas is included when
//! given (delosrios2023 leaves it out, taking the baryons as purely stellar; give no gas to reproduce that).
//!
//! The posterior of the enclosed masses: per sample, the halo's mass within the sphere of radius `r` plus the
//! disc's and the gas's masses within the cylinder of radius `r` (thin discs: their spherical and cylindrical
//! masses differ by a few per cent at a few scale lengths, which the decomposition's priors dwarf).
//!
//! ```no_run
//! use galmass_estimators::rc::decompose::{decompose, CurvePoint, DecompositionInput, DecompositionParams};
//! let curve: Vec<CurvePoint> = (1..15)
//!     .map(|k| CurvePoint { radius_kpc: k as f64, v_kms: 150.0 * (1.0 - (-(k as f64) / 3.0).exp()), v_err_kms: 5.0 })
//!     .collect();
//! let input = DecompositionInput::new(curve, 10.0, 60.0);
//! let fit = decompose(&input, &DecompositionParams::default()).unwrap();
//! let mass = fit.enclosed_mass(&[5.0, 10.0]);
//! println!("log10 M_tot(<10 kpc) = {:.2}", mass[1].log10_total.p50);
//! ```

// `!(x > 0.0)` is meant: NaN must fail these checks, which `x <= 0.0` would let through.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use galmass_core::numeric::interp::interp;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::mcmc::{initial_ball, sample, Diagnostics, EnsembleConfig};
use crate::rc::disc::{exponential_disc_mass_msun, exponential_disc_v2};
use crate::rc::halo::{Halo, HaloKind};
use crate::EstimatorError;

/// One point of a rotation curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Radius at the reference distance, kpc.
    pub radius_kpc: f64,
    /// Circular velocity at the reference inclination, km/s.
    pub v_kms: f64,
    /// Its error, km/s.
    pub v_err_kms: f64,
}

/// A stellar exponential disc from the light, at the reference distance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StellarDisc {
    /// Luminosity of the disc, Lsun.
    pub luminosity_lsun: f64,
    /// Scale length, kpc.
    pub scale_length_kpc: f64,
}

/// The gas: its rotation-curve term at the curve's points and its enclosed mass profile, at the reference distance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GasComponent {
    /// Signed `v_gas^2` at each curve point, (km/s)^2.
    pub v2_at_points: Vec<f64>,
    /// Radii of the mass profile, kpc, increasing.
    pub mass_radii_kpc: Vec<f64>,
    /// Gas mass within each radius (cylinders), Msun.
    pub mass_msun: Vec<f64>,
}

/// What the decomposition fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecompositionInput {
    /// The circular-velocity curve.
    pub curve: Vec<CurvePoint>,
    /// Reference (measured) distance, Mpc.
    pub distance_mpc: f64,
    /// Width of its Gaussian prior, Mpc.
    pub distance_err_mpc: f64,
    /// Reference (tilted-ring) inclination, degrees.
    pub inclination_deg: f64,
    /// Width of its Gaussian prior, degrees.
    pub inclination_err_deg: f64,
    /// The stellar disc, when an image was fitted.
    pub stellar: Option<StellarDisc>,
    /// The gas, when its surface density was measured.
    pub gas: Option<GasComponent>,
}

impl DecompositionInput {
    /// A curve alone, with 10% distance and 5 degree inclination priors.
    pub fn new(curve: Vec<CurvePoint>, distance_mpc: f64, inclination_deg: f64) -> Self {
        Self {
            curve,
            distance_mpc,
            distance_err_mpc: 0.1 * distance_mpc,
            inclination_deg,
            inclination_err_deg: 5.0,
            stellar: None,
            gas: None,
        }
    }
}

/// Priors and sampler settings (defaults: delosrios2023 §5.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecompositionParams {
    /// The halo family.
    pub halo: HaloKind,
    /// Flat prior on V200, km/s.
    pub v200_range_kms: [f64; 2],
    /// Flat prior on C200.
    pub c200_range: [f64; 2],
    /// Flat prior on the stellar mass-to-light ratio, Msun/Lsun.
    pub mass_to_light_range: [f64; 2],
    /// Flat prior on the Dekel-Zhao inner slope.
    pub inner_slope_range: [f64; 2],
    /// Fractional error added in quadrature to each velocity (delosrios2023: 10%).
    pub velocity_error_fraction: f64,
    /// Hubble parameter h of r200 = V200 / (10 H0) (TNG100's, delosrios2023 §2).
    pub hubble_h: f64,
    /// The sampler.
    pub mcmc: EnsembleConfig,
    /// Steps discarded as burn-in.
    pub burn_in: usize,
    /// Keep every n-th step of the chain.
    pub thin: usize,
}

impl Default for DecompositionParams {
    fn default() -> Self {
        Self {
            halo: HaloKind::Nfw,
            v200_range_kms: [10.0, 800.0],
            c200_range: [1.0, 1000.0],
            mass_to_light_range: [0.0, 20.0],
            inner_slope_range: [0.0, 2.0],
            velocity_error_fraction: 0.1,
            hubble_h: 0.6774,
            mcmc: EnsembleConfig { n_walkers: 32, n_steps: 6000, ..EnsembleConfig::default() },
            burn_in: 1500,
            thin: 10,
        }
    }
}

/// Percentiles of a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// 2.5th.
    #[serde(rename = "p2.5")]
    pub p2_5: f64,
    /// 16th.
    pub p16: f64,
    /// Median.
    pub p50: f64,
    /// 84th.
    pub p84: f64,
    /// 97.5th.
    #[serde(rename = "p97.5")]
    pub p97_5: f64,
}

impl Percentiles {
    /// Percentiles of `values` (non-finite values dropped; NaN when none is left).
    pub fn of(values: &[f64]) -> Self {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| galmass_core::stats::percentile_sorted(&v, p).unwrap_or(f64::NAN);
        Self { p2_5: q(2.5), p16: q(16.0), p50: q(50.0), p84: q(84.0), p97_5: q(97.5) }
    }
}

/// The enclosed masses at one radius.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnclosedMass {
    /// Radius, kpc.
    pub radius_kpc: f64,
    /// log10 of the total mass, Msun.
    pub log10_total: Percentiles,
    /// log10 of the dark mass, Msun.
    pub log10_dark: Percentiles,
    /// log10 of the stellar mass, Msun (NaN without a disc).
    pub log10_stars: Percentiles,
}

/// A sampled decomposition.
#[derive(Debug, Clone, PartialEq)]
pub struct Decomposition {
    /// Parameter names, in sample order (`v200_kms`, `c200`, [`mass_to_light`], `distance_mpc`,
    /// `inclination_deg`, [`inner_slope`]).
    pub names: Vec<&'static str>,
    /// Posterior samples, `(sample, parameter)`.
    pub samples: Array2<f64>,
    /// Sampler diagnostics.
    pub diagnostics: Diagnostics,
    /// The input.
    pub input: DecompositionInput,
    /// The settings.
    pub params: DecompositionParams,
}

struct Layout {
    ml: Option<usize>,
    slope: Option<usize>,
    distance: usize,
    inclination: usize,
    n: usize,
}

impl Layout {
    fn new(input: &DecompositionInput, params: &DecompositionParams) -> Self {
        let ml = input.stellar.map(|_| 2);
        let distance = 2 + usize::from(ml.is_some());
        let inclination = distance + 1;
        let slope = (params.halo == HaloKind::DekelZhao).then_some(inclination + 1);
        Self { ml, slope, distance, inclination, n: inclination + 1 + usize::from(slope.is_some()) }
    }

    fn names(&self) -> Vec<&'static str> {
        let mut names = vec!["v200_kms", "c200"];
        if self.ml.is_some() {
            names.push("mass_to_light");
        }
        names.extend(["distance_mpc", "inclination_deg"]);
        if self.slope.is_some() {
            names.push("inner_slope");
        }
        names
    }

    fn halo(&self, p: &[f64]) -> Halo {
        match self.slope {
            Some(k) => Halo::DekelZhao { v200_kms: p[0], c200: p[1], a: p[k] },
            None => Halo::Nfw { v200_kms: p[0], c200: p[1] },
        }
    }
}

fn within(x: f64, range: [f64; 2]) -> bool {
    x >= range[0] && x <= range[1]
}

/// Samples the posterior of the decomposition of `input`.
pub fn decompose(input: &DecompositionInput, params: &DecompositionParams) -> Result<Decomposition, EstimatorError> {
    check_input(input)?;
    let layout = Layout::new(input, params);
    let h0 = 0.1 * params.hubble_h;
    let sin_i0 = input.inclination_deg.to_radians().sin();
    let star_v2: Vec<f64> = input
        .curve
        .iter()
        .map(|p| {
            input.stellar.map_or(0.0, |s| exponential_disc_v2(p.radius_kpc, s.luminosity_lsun, s.scale_length_kpc))
        })
        .collect();
    let gas_v2: Vec<f64> = input.gas.as_ref().map_or_else(|| vec![0.0; input.curve.len()], |g| g.v2_at_points.clone());
    let f = params.velocity_error_fraction;
    // `u` holds ln V200 and ln C200 in its first two places; `p` the parameters themselves.
    let log_prob = |u: &[f64]| -> f64 {
        let mut p = u.to_vec();
        p[0] = u[0].exp();
        p[1] = u[1].exp();
        if !(within(p[0], params.v200_range_kms) && within(p[1], params.c200_range)) {
            return f64::NEG_INFINITY;
        }
        let ml = layout.ml.map_or(0.0, |k| p[k]);
        if layout.ml.is_some() && !within(ml, params.mass_to_light_range) {
            return f64::NEG_INFINITY;
        }
        if let Some(k) = layout.slope {
            if !within(p[k], params.inner_slope_range) {
                return f64::NEG_INFINITY;
            }
        }
        let (d, inc) = (p[layout.distance], p[layout.inclination]);
        if !(d > 0.0 && inc > 0.0 && inc < 90.0) {
            return f64::NEG_INFINITY;
        }
        let halo = layout.halo(&p);
        let (scale_d, scale_i) = (d / input.distance_mpc, sin_i0 / inc.to_radians().sin());
        // The Jacobian of (V200, C200) -> (ln V200, ln C200) keeps the priors flat in V200 and C200.
        let mut lp = u[0] + u[1]
            - 0.5 * ((d - input.distance_mpc) / input.distance_err_mpc).powi(2)
            - 0.5 * ((inc - input.inclination_deg) / input.inclination_err_deg).powi(2);
        for (k, point) in input.curve.iter().enumerate() {
            let r = point.radius_kpc * scale_d;
            let v2 = halo.v_circ2(r, h0) + (ml * star_v2[k] + gas_v2[k]) * scale_d;
            let model = v2.max(0.0).sqrt();
            let obs = point.v_kms * scale_i;
            let sd = (point.v_err_kms.powi(2) + (f * point.v_kms).powi(2)).sqrt() * scale_i;
            lp += -0.5 * ((obs - model) / sd).powi(2) - sd.ln();
        }
        if lp.is_finite() {
            lp
        } else {
            f64::NEG_INFINITY
        }
    };
    // Start near V200 = 0.8 v_max, C200 = 10, M/L = 1 (halved while the disc alone would overshoot).
    let v_max = input.curve.iter().map(|p| p.v_kms).fold(0.0f64, f64::max);
    let mut centre = vec![
        (0.8 * v_max).clamp(params.v200_range_kms[0] * 1.05, params.v200_range_kms[1] * 0.95),
        10f64.clamp(params.c200_range[0] * 1.05, params.c200_range[1] * 0.95),
    ];
    let mut scale = vec![0.05, 0.1];
    centre[0] = centre[0].ln();
    centre[1] = centre[1].ln();
    if layout.ml.is_some() {
        let mut ml = 1.0f64.clamp(params.mass_to_light_range[0], params.mass_to_light_range[1]);
        while ml > 1e-3 && input.curve.iter().zip(&star_v2).any(|(p, s)| ml * s > (p.v_kms * p.v_kms)) {
            ml *= 0.5;
        }
        centre.push(ml.max(params.mass_to_light_range[0] + 1e-3));
        scale.push(0.1 * ml.max(0.01));
    }
    centre.extend([input.distance_mpc, input.inclination_deg]);
    scale.extend([0.02 * input.distance_mpc, 1.0]);
    if layout.slope.is_some() {
        centre.push(1.0);
        scale.push(0.1);
    }
    let mut initial = initial_ball(&centre, &scale, params.mcmc.n_walkers, params.mcmc.seed);
    // Walkers drawn outside the prior are pulled back towards the centre until they are inside.
    for mut row in initial.rows_mut() {
        let mut tries = 0;
        while !log_prob(&row.to_vec()).is_finite() && tries < 60 {
            for (x, c) in row.iter_mut().zip(&centre) {
                *x = c + 0.5 * (*x - c);
            }
            tries += 1;
        }
    }
    if !log_prob(&centre).is_finite() {
        return Err(EstimatorError::BadInput {
            name: "curve",
            expected: "a curve the priors allow (finite likelihood at the starting point)".into(),
            got: format!("start {centre:?}"),
        });
    }
    let chain = sample(log_prob, initial.view(), &params.mcmc)?;
    let discard = params.burn_in.min(chain.n_steps().saturating_sub(1));
    let mut samples = chain.flat(discard, params.thin.max(1));
    for k in 0..2 {
        samples.column_mut(k).mapv_inplace(f64::exp);
    }
    let diagnostics = chain.diagnostics(discard);
    debug_assert_eq!(samples.ncols(), layout.n);
    Ok(Decomposition { names: layout.names(), samples, diagnostics, input: input.clone(), params: params.clone() })
}

fn check_input(input: &DecompositionInput) -> Result<(), EstimatorError> {
    let bad = |name: &'static str, expected: &str, got: String| {
        Err(EstimatorError::BadInput { name, expected: expected.into(), got })
    };
    if input.curve.len() < 3 {
        return bad("curve", "at least 3 points", format!("{}", input.curve.len()));
    }
    if let Some(p) = input
        .curve
        .iter()
        .find(|p| !(p.radius_kpc > 0.0 && p.v_kms.is_finite() && p.v_err_kms.is_finite() && p.v_err_kms >= 0.0))
    {
        return bad("curve", "positive radii, finite velocities and non-negative errors", format!("{p:?}"));
    }
    if !(input.distance_mpc > 0.0 && input.distance_err_mpc > 0.0) {
        return bad(
            "distance_mpc",
            "a positive distance and prior width",
            format!("{} +- {}", input.distance_mpc, input.distance_err_mpc),
        );
    }
    if !(input.inclination_deg > 0.0 && input.inclination_deg < 90.0 && input.inclination_err_deg > 0.0) {
        return bad(
            "inclination_deg",
            "in (0, 90) with a positive prior width",
            format!("{} +- {}", input.inclination_deg, input.inclination_err_deg),
        );
    }
    if let Some(s) = input.stellar {
        if !(s.luminosity_lsun >= 0.0 && s.scale_length_kpc > 0.0) {
            return bad("stellar", "a non-negative luminosity and a positive scale length", format!("{s:?}"));
        }
    }
    if let Some(g) = &input.gas {
        if g.v2_at_points.len() != input.curve.len()
            || g.mass_radii_kpc.len() != g.mass_msun.len()
            || g.mass_radii_kpc.is_empty()
        {
            return bad(
                "gas",
                "v_gas^2 per curve point and a mass profile",
                format!("{} terms, {} radii", g.v2_at_points.len(), g.mass_radii_kpc.len()),
            );
        }
    }
    Ok(())
}

impl Decomposition {
    fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| *n == name)
    }

    /// Percentiles of one parameter (`None` for a name not sampled).
    pub fn parameter(&self, name: &str) -> Option<Percentiles> {
        self.column(name).map(|k| Percentiles::of(&self.samples.column(k).to_vec()))
    }

    /// The halo of one sample row.
    fn halo_of(&self, row: &[f64]) -> Halo {
        match self.column("inner_slope") {
            Some(k) => Halo::DekelZhao { v200_kms: row[0], c200: row[1], a: row[k] },
            None => Halo::Nfw { v200_kms: row[0], c200: row[1] },
        }
    }

    /// Per-sample masses within `radius_kpc`: (dark, stars, gas).
    fn masses(&self, row: &[f64], radius_kpc: f64) -> (f64, f64, f64) {
        let h0 = 0.1 * self.params.hubble_h;
        let d = row[self.column("distance_mpc").unwrap_or(0)];
        let scale = d / self.input.distance_mpc;
        let dark = self.halo_of(row).enclosed_mass_msun(radius_kpc, h0);
        let stars = match (self.input.stellar, self.column("mass_to_light")) {
            (Some(s), Some(k)) => {
                row[k]
                    * exponential_disc_mass_msun(
                        radius_kpc,
                        s.luminosity_lsun * scale * scale,
                        s.scale_length_kpc * scale,
                    )
            }
            _ => 0.0,
        };
        let gas = self.input.gas.as_ref().map_or(0.0, |g| {
            let r0 = radius_kpc / scale;
            let last = g.mass_radii_kpc.len() - 1;
            let m0 = if r0 <= g.mass_radii_kpc[0] {
                g.mass_msun[0] * (r0 / g.mass_radii_kpc[0]).powi(2)
            } else if r0 >= g.mass_radii_kpc[last] {
                g.mass_msun[last]
            } else {
                interp(&g.mass_radii_kpc, &g.mass_msun, r0)
            };
            m0 * scale * scale
        });
        (dark, stars, gas)
    }

    /// Posterior percentiles of the enclosed total, dark and stellar masses at each radius (kpc).
    pub fn enclosed_mass(&self, radii_kpc: &[f64]) -> Vec<EnclosedMass> {
        radii_kpc
            .iter()
            .map(|&r| {
                let (mut total, mut dark, mut stars) = (Vec::new(), Vec::new(), Vec::new());
                for row in self.samples.rows() {
                    let row = row.to_vec();
                    let (d, s, g) = self.masses(&row, r);
                    total.push((d + s + g).log10());
                    dark.push(d.log10());
                    stars.push(if self.input.stellar.is_some() { s.log10() } else { f64::NAN });
                }
                EnclosedMass {
                    radius_kpc: r,
                    log10_total: Percentiles::of(&total),
                    log10_dark: Percentiles::of(&dark),
                    log10_stars: Percentiles::of(&stars),
                }
            })
            .collect()
    }

    /// Median model circular velocity and its halo, disc and gas terms (km/s, signed square roots) at the curve's
    /// points, for plots.
    pub fn median_model(&self) -> Vec<[f64; 4]> {
        let h0 = 0.1 * self.params.hubble_h;
        let medians: Vec<f64> =
            (0..self.names.len()).map(|k| Percentiles::of(&self.samples.column(k).to_vec()).p50).collect();
        let halo = self.halo_of(&medians);
        let scale = medians[self.column("distance_mpc").unwrap_or(0)] / self.input.distance_mpc;
        let ml = self.column("mass_to_light").map_or(0.0, |k| medians[k]);
        self.input
            .curve
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let dm = halo.v_circ2(p.radius_kpc * scale, h0);
                let st = self
                    .input
                    .stellar
                    .map_or(0.0, |s| exponential_disc_v2(p.radius_kpc, s.luminosity_lsun, s.scale_length_kpc))
                    * ml
                    * scale;
                let gas = self.input.gas.as_ref().map_or(0.0, |g| g.v2_at_points[k]) * scale;
                let signed = |v2: f64| v2.signum() * v2.abs().sqrt();
                [signed(dm + st + gas), dm.sqrt(), signed(st), signed(gas)]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_nfw_halo_from_its_exact_curve() {
        let truth = Halo::Nfw { v200_kms: 140.0, c200: 9.0 };
        let params = DecompositionParams {
            mcmc: EnsembleConfig { n_walkers: 24, n_steps: 2500, seed: 5, ..EnsembleConfig::default() },
            burn_in: 800,
            ..DecompositionParams::default()
        };
        let h0 = 0.1 * params.hubble_h;
        let curve: Vec<CurvePoint> = (1..=20)
            .map(|k| {
                let r = k as f64 * 1.5;
                CurvePoint { radius_kpc: r, v_kms: truth.v_circ_kms(r, h0), v_err_kms: 3.0 }
            })
            .collect();
        let mut input = DecompositionInput::new(curve, 12.0, 65.0);
        input.distance_err_mpc = 0.3;
        input.inclination_err_deg = 2.0;
        let fit = decompose(&input, &params).unwrap();
        let v200 = fit.parameter("v200_kms").unwrap();
        let c200 = fit.parameter("c200").unwrap();
        assert!(v200.p2_5 < 140.0 && 140.0 < v200.p97_5, "{v200:?}");
        assert!(c200.p2_5 < 9.0 && 9.0 < c200.p97_5, "{c200:?}");
        let m = fit.enclosed_mass(&[10.0]);
        let true_log = truth.enclosed_mass_msun(10.0, h0).log10();
        assert!((m[0].log10_total.p50 - true_log).abs() < 0.08, "{:?} vs {true_log}", m[0]);
        assert!(fit.diagnostics.acceptance_mean > 0.1);
        assert!(fit.parameter("mass_to_light").is_none());
    }

    #[test]
    fn bad_curves_are_errors() {
        let p = CurvePoint { radius_kpc: 1.0, v_kms: 10.0, v_err_kms: 1.0 };
        assert!(decompose(&DecompositionInput::new(vec![p; 2], 10.0, 60.0), &DecompositionParams::default()).is_err());
        let nan = CurvePoint { v_kms: f64::NAN, ..p };
        assert!(
            decompose(&DecompositionInput::new(vec![p, p, nan], 10.0, 60.0), &DecompositionParams::default()).is_err()
        );
        assert!(decompose(&DecompositionInput::new(vec![p; 3], 10.0, 95.0), &DecompositionParams::default()).is_err());
    }
}
