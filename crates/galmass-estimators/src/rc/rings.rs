//! Tilted-ring fit of a velocity field (moment 1 of an HI cube), as rotcur and 3D-Barolo's two-stage fit do it,
//! with beam smearing and asymmetric drift corrected.
//!
//! # Geometry and conventions
//! Pixel `(x, y)` is column `x`, row `y` of the map; north is `+y` and east `-x` (the sky as FITS viewers show it,
//! the convention of galmass's cubes). The position angle `pa_deg` is that of the receding half of the major axis,
//! from north through east; the inclination is 0 face-on. A pixel at `(dx, dy)` from the centre lies in the disc
//! at radius `R = sqrt(s^2 + (t / cos i)^2)` and azimuth `cos(theta) = s / R` (`s` along the receding major axis,
//! `t` across it), and the model line-of-sight velocity is `v_sys + v_rot(R) sin(i) cos(theta)` (no expansion).
//!
//! # The fit
//! 1. Initial guesses (each replaceable by the caller's): centre from the intensity-weighted centroid, systemic
//!    velocity from the median of the field, position angle from the direction of the field's mean gradient,
//!    inclination from the axis ratio of the intensity's second moments (`cos i = b / a`, clamped to 20-80 deg).
//! 2. Rings of width `ring_width` (default the beam's FWHM, as 3D-Barolo), out to the last ring whose annulus has
//!    valid pixels over at least `min_coverage` of its area; `v_rot`, the inclination and the position angle are
//!    piecewise linear between ring centres (`v_rot = 0` at the centre), so the model is continuous in its
//!    parameters.
//! 3. Stage 1, Levenberg-Marquardt on all pixels outside `free_angle_deg` of the minor axis, weighted by
//!    `|cos theta|`: one centre, systemic velocity, inclination and position angle for the whole disc, one `v_rot`
//!    per ring, a Gaussian prior on the inclination. Stage 2 (3D-Barolo's second pass): centre and systemic
//!    velocity fixed, the inclination and position angle free per ring, regularised across rings (differences of
//!    neighbours penalised on `smoothness_deg`) and held by the same prior, so outer rings with few pixels stay
//!    near their neighbours instead of wandering off.
//! 4. Errors: pixel residuals are scaled by their rms and by the square root of the beam area in pixels (pixels
//!    within a beam are not independent); a ring's `v_rot` error adds in quadrature half the difference between
//!    the receding and approaching halves fitted alone (the usual systematic error of observed rotation curves).
//! 5. Beam smearing ([`crate::rc::beam`]): the fitted rings are turned into a model field and smeared with the
//!    beam weighted by the observed moment 0; the smearing (smeared minus unsmeared model) is subtracted from the
//!    observed field and stage 2 refitted to it, geometry included (smearing rounds the isovelocity contours and
//!    biases a moment-1 inclination low, which correcting the curve alone would leave), `beam_smearing_iterations`
//!    times. The smearing's contribution to moment 2 (the velocity gradient across
//!    the beam) and the channel width (`Delta^2 / 12`) are removed from the dispersion.
//! 6. Asymmetric drift (pressure support, isotropic gas): `v_c^2 = v_rot^2 - sigma^2 d ln(Sigma sigma^2) / d ln R`,
//!    the derivative from an exponential fitted to `Sigma sigma^2` over all rings with weights by pixel count, so a
//!    ring with few pixels never takes its own noisy derivative (the failure of ring-by-ring corrections); the
//!    correction is zero (with a warning) where `Sigma sigma^2` does not fall, and half of it enters the error.
//!
//! ```
//! use galmass_estimators::rc::rings::{fit_rings, DiscGeometry, RingFitParams, VelocityField};
//! use ndarray::Array2;
//! let truth = DiscGeometry { x_centre_px: 40.0, y_centre_px: 40.0, inclination_deg: 60.0, pa_deg: 30.0 };
//! let v_rot = |r: f64| 150.0 * r / (r + 5.0);
//! let velocity = Array2::from_shape_fn((81, 81), |(j, i)| {
//!     let (r, cos_theta) = truth.deproject(i as f64, j as f64);
//!     if r < 35.0 { 1000.0 + v_rot(r) * 60f64.to_radians().sin() * cos_theta } else { f64::NAN }
//! });
//! let field = VelocityField::new(velocity.view(), 10.0);
//! let fit = fit_rings(&field, &RingFitParams::default(), None).unwrap();
//! let outer = fit.rings.last().unwrap();
//! assert!((outer.v_rot_kms - v_rot(outer.radius_arcsec / 10.0)).abs() < 3.0);
//! ```

// `!(x > 0.0)` is meant: NaN must fail these checks, which `x <= 0.0` would let through.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::rc::beam::smear;
use crate::rc::linalg::{invert, solve};
use crate::EstimatorError;

/// Arcseconds per radian.
pub const ARCSEC_PER_RAD: f64 = 206_264.806_247_096_36;

/// Orientation of a disc on the sky, in pixels and degrees (conventions in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DiscGeometry {
    /// Centre, column.
    pub x_centre_px: f64,
    /// Centre, row.
    pub y_centre_px: f64,
    /// Inclination, degrees (0 face-on).
    pub inclination_deg: f64,
    /// Position angle of the receding major axis, degrees from north through east.
    pub pa_deg: f64,
}

impl DiscGeometry {
    /// Radius in the disc (pixels along the major axis) and `cos(theta)` of pixel `(x, y)`.
    pub fn deproject(&self, x: f64, y: f64) -> (f64, f64) {
        deproject(x - self.x_centre_px, y - self.y_centre_px, self.inclination_deg, self.pa_deg)
    }
}

fn deproject(dx: f64, dy: f64, inclination_deg: f64, pa_deg: f64) -> (f64, f64) {
    let (sp, cp) = pa_deg.to_radians().sin_cos();
    let s = -dx * sp + dy * cp;
    let t = dx * cp + dy * sp;
    let cos_i = inclination_deg.to_radians().cos().max(1e-3);
    let r = (s * s + (t / cos_i).powi(2)).sqrt();
    if r > 0.0 {
        (r, s / r)
    } else {
        (0.0, 0.0)
    }
}

/// A velocity field and what comes with it.
#[derive(Debug, Clone)]
pub struct VelocityField<'a> {
    /// Moment 1, km/s, `(y, x)`, NaN where masked.
    pub velocity_kms: ArrayView2<'a, f64>,
    /// Moment 2, km/s (for the dispersion and the asymmetric drift).
    pub dispersion_kms: Option<ArrayView2<'a, f64>>,
    /// Moment 0 in any unit (weights of the beam smearing, surface density, initial geometry); NaN counts as 0.
    pub intensity: Option<ArrayView2<'a, f64>>,
    /// Pixel size, arcsec (square pixels).
    pub pixel_arcsec: f64,
    /// Beam FWHM, arcsec (0: no beam).
    pub beam_fwhm_arcsec: f64,
    /// Channel width, km/s (0: unknown).
    pub channel_kms: f64,
}

impl<'a> VelocityField<'a> {
    /// A bare velocity field with no beam, dispersion or intensity.
    pub fn new(velocity_kms: ArrayView2<'a, f64>, pixel_arcsec: f64) -> Self {
        Self {
            velocity_kms,
            dispersion_kms: None,
            intensity: None,
            pixel_arcsec,
            beam_fwhm_arcsec: 0.0,
            channel_kms: 0.0,
        }
    }
}

/// Parameters of [`fit_rings`]; every default is named in the module docs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RingFitParams {
    /// Ring width, arcsec (`None`: the beam FWHM, or 2 pixels without a beam).
    pub ring_width_arcsec: Option<f64>,
    /// Outermost ring centre, arcsec (`None`: set by `min_coverage`).
    pub max_radius_arcsec: Option<f64>,
    /// Fewest valid pixels per ring area for a ring to be fitted.
    pub min_coverage: f64,
    /// Rings with fewer pixels than this many beams are flagged `few-pixels`.
    pub min_beams_per_ring: f64,
    /// Pixels within this angle of the minor axis are left out, degrees.
    pub free_angle_deg: f64,
    /// Initial (and prior) centre, pixels `[x, y]`.
    pub centre_px: Option<[f64; 2]>,
    /// Initial systemic velocity, km/s.
    pub vsys_kms: Option<f64>,
    /// Initial inclination and centre of its Gaussian prior, degrees.
    pub inclination_deg: Option<f64>,
    /// Initial position angle, degrees.
    pub pa_deg: Option<f64>,
    /// Width of the inclination prior, degrees.
    pub inclination_prior_sd_deg: f64,
    /// Scale of the ring-to-ring regularisation of inclination and position angle, degrees.
    pub smoothness_deg: f64,
    /// Keep the centre at its initial value.
    pub fix_centre: bool,
    /// Keep the systemic velocity at its initial value.
    pub fix_vsys: bool,
    /// Stage 2 (per-ring inclination and position angle).
    pub per_ring_geometry: bool,
    /// Iterations of the beam-smearing correction (0: none).
    pub beam_smearing_iterations: usize,
    /// Correct for asymmetric drift.
    pub asymmetric_drift: bool,
    /// Levenberg-Marquardt iterations per stage.
    pub max_iterations: usize,
}

impl Default for RingFitParams {
    fn default() -> Self {
        Self {
            ring_width_arcsec: None,
            max_radius_arcsec: None,
            min_coverage: 0.3,
            min_beams_per_ring: 2.0,
            free_angle_deg: 15.0,
            centre_px: None,
            vsys_kms: None,
            inclination_deg: None,
            pa_deg: None,
            inclination_prior_sd_deg: 10.0,
            smoothness_deg: 3.0,
            fix_centre: false,
            fix_vsys: false,
            per_ring_geometry: true,
            beam_smearing_iterations: 5,
            asymmetric_drift: true,
            max_iterations: 60,
        }
    }
}

/// One fitted ring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ring {
    /// Ring centre along the major axis, arcsec.
    pub radius_arcsec: f64,
    /// The same in kpc (NaN without a distance).
    pub radius_kpc: f64,
    /// Rotation velocity, beam smearing corrected, km/s.
    pub v_rot_kms: f64,
    /// Its error, km/s.
    pub v_rot_err_kms: f64,
    /// Rotation velocity before the beam-smearing correction, km/s.
    pub v_rot_observed_kms: f64,
    /// Receding half alone, km/s.
    pub v_receding_kms: f64,
    /// Approaching half alone, km/s.
    pub v_approaching_kms: f64,
    /// Circular velocity (asymmetric drift corrected), km/s.
    pub v_circ_kms: f64,
    /// Its error, km/s.
    pub v_circ_err_kms: f64,
    /// Asymmetric-drift term `sqrt(v_c^2 - v_rot^2)`, km/s.
    pub asymmetric_drift_kms: f64,
    /// Intrinsic gas dispersion (beam smearing and channel width removed), km/s (NaN without moment 2).
    pub sigma_kms: f64,
    /// Inclination, degrees.
    pub inclination_deg: f64,
    /// Its error, degrees.
    pub inclination_err_deg: f64,
    /// Position angle, degrees.
    pub pa_deg: f64,
    /// Its error, degrees.
    pub pa_err_deg: f64,
    /// Centre, column.
    pub x_centre_px: f64,
    /// Centre, row.
    pub y_centre_px: f64,
    /// Systemic velocity, km/s.
    pub vsys_kms: f64,
    /// Pixels fitted in the ring.
    pub n_pixels: usize,
    /// Their fraction of the ring's area.
    pub coverage: f64,
    /// Face-on mean moment 0 in the annulus (moment-0 unit; masked pixels count as 0; NaN without intensity).
    pub surface_brightness: f64,
    /// `few-pixels`, `large-beam-correction`, `dispersion-dominated`.
    pub flags: Vec<String>,
}

/// A tilted-ring fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RingFit {
    /// The rings, inside out.
    pub rings: Vec<Ring>,
    /// Stage 1's global geometry.
    pub geometry: DiscGeometry,
    /// Its systemic velocity, km/s.
    pub vsys_kms: f64,
    /// Errors of stage 1's centre (pixels), systemic velocity (km/s), inclination and position angle (degrees).
    pub geometry_err: [f64; 5],
    /// The initial guesses.
    pub initial: DiscGeometry,
    /// Ring width, arcsec.
    pub ring_width_arcsec: f64,
    /// Pixel size, arcsec.
    pub pixel_arcsec: f64,
    /// Distance the kpc radii use, Mpc (NaN without).
    pub distance_mpc: f64,
    /// Rms of the pixel residuals, km/s.
    pub residual_rms_kms: f64,
    /// Pixels per independent beam the errors account for.
    pub pixels_per_beam: f64,
    /// Scale length of `Sigma sigma^2` used by the asymmetric drift, arcsec (NaN when not applied).
    pub asymmetric_drift_scale_arcsec: f64,
    /// What went differently from the plan.
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy)]
struct Pixel {
    x: f64,
    y: f64,
    v: f64,
}

/// Where the parameters of a stage sit in its vector.
#[derive(Clone, Copy)]
enum Stage {
    /// `[xc, yc, vsys, i, pa, v_0..]`.
    Global,
    /// `[i_0.., pa_0.., v_0..]`, centre and vsys fixed.
    PerRing { xc: f64, yc: f64, vsys: f64 },
}

struct Model<'a> {
    nodes: &'a [f64],
    stage: Stage,
    reference: DiscGeometry,
}

struct Unpacked<'p> {
    xc: f64,
    yc: f64,
    vsys: f64,
    inc: &'p [f64],
    pa: &'p [f64],
    v: &'p [f64],
}

/// Piecewise-linear value at `r` of node values `values` at `nodes`, with `at_zero` at the centre (`None`: flat
/// inside the first node) and flat beyond the last.
fn node_interp(nodes: &[f64], values: &[f64], at_zero: Option<f64>, r: f64) -> f64 {
    let n = nodes.len();
    if r <= nodes[0] {
        return match at_zero {
            Some(z) => z + (values[0] - z) * (r / nodes[0]).max(0.0),
            None => values[0],
        };
    }
    if r >= nodes[n - 1] {
        return values[n - 1];
    }
    let k = nodes.partition_point(|&x| x <= r) - 1;
    let t = (r - nodes[k]) / (nodes[k + 1] - nodes[k]);
    values[k] * (1.0 - t) + values[k + 1] * t
}

/// Weights of the node values in [`node_interp`] with `at_zero = Some(0)`: `(index, weight)` pairs.
fn node_weights(nodes: &[f64], r: f64) -> [(usize, f64); 2] {
    let n = nodes.len();
    if r <= nodes[0] {
        return [(0, (r / nodes[0]).max(0.0)), (0, 0.0)];
    }
    if r >= nodes[n - 1] {
        return [(n - 1, 1.0), (n - 1, 0.0)];
    }
    let k = nodes.partition_point(|&x| x <= r) - 1;
    let t = (r - nodes[k]) / (nodes[k + 1] - nodes[k]);
    [(k, 1.0 - t), (k + 1, t)]
}

impl Model<'_> {
    fn unpack<'p>(&self, p: &'p [f64]) -> Unpacked<'p> {
        let n = self.nodes.len();
        match self.stage {
            Stage::Global => Unpacked { xc: p[0], yc: p[1], vsys: p[2], inc: &p[3..4], pa: &p[4..5], v: &p[5..5 + n] },
            Stage::PerRing { xc, yc, vsys } => {
                Unpacked { xc, yc, vsys, inc: &p[..n], pa: &p[n..2 * n], v: &p[2 * n..3 * n] }
            }
        }
    }

    /// `(R, cos theta, sin i)` of a pixel under parameters `u`.
    fn geometry_at(&self, u: &Unpacked<'_>, x: f64, y: f64) -> (f64, f64, f64) {
        let (inc, pa) = if u.inc.len() == 1 {
            (u.inc[0], u.pa[0])
        } else {
            let (r0, _) = self.reference.deproject(x, y);
            (node_interp(self.nodes, u.inc, None, r0), node_interp(self.nodes, u.pa, None, r0))
        };
        let (r, cos_theta) = deproject(x - u.xc, y - u.yc, inc, pa);
        (r, cos_theta, inc.to_radians().sin())
    }

    fn velocity(&self, u: &Unpacked<'_>, x: f64, y: f64) -> f64 {
        let (r, cos_theta, sin_i) = self.geometry_at(u, x, y);
        u.vsys + node_interp(self.nodes, u.v, Some(0.0), r) * sin_i * cos_theta
    }
}

/// Forward-difference step of every parameter of the Levenberg-Marquardt fits (pixels, km/s and degrees alike).
const FD_STEP: f64 = 1e-3;

/// Residuals of a stage: pixels first (scaled by `1 / noise`), then priors and regularisation.
struct Problem<'a> {
    model: Model<'a>,
    pixels: &'a [Pixel],
    weights: Vec<f64>,
    noise: f64,
    inc_prior: (f64, f64),
    smoothness_deg: f64,
    fixed: Vec<bool>,
}

impl Problem<'_> {
    fn residuals(&self, p: &[f64]) -> Vec<f64> {
        let u = self.model.unpack(p);
        let mut r: Vec<f64> = self
            .pixels
            .iter()
            .zip(&self.weights)
            .map(|(px, w)| w.sqrt() * (px.v - self.model.velocity(&u, px.x, px.y)) / self.noise)
            .collect();
        let (mu, sd) = self.inc_prior;
        r.extend(u.inc.iter().map(|i| (i - mu) / sd));
        if u.inc.len() > 1 {
            r.extend(u.inc.windows(2).map(|w| (w[1] - w[0]) / self.smoothness_deg));
            r.extend(u.pa.windows(2).map(|w| (w[1] - w[0]) / self.smoothness_deg));
        }
        r
    }

    fn clamp(&self, p: &mut [f64]) {
        let n = self.model.nodes.len();
        let range = match self.model.stage {
            Stage::Global => 3..4,
            Stage::PerRing { .. } => 0..n,
        };
        for i in &mut p[range] {
            *i = i.clamp(5.0, 88.0);
        }
    }

    /// Levenberg-Marquardt; returns the parameters and the covariance of the free ones (zero rows for fixed).
    fn minimise(&self, mut p: Vec<f64>, max_iterations: usize) -> (Vec<f64>, Vec<f64>, f64) {
        let n = p.len();
        let steps = vec![FD_STEP; n];
        let mut r = self.residuals(&p);
        let mut cost: f64 = r.iter().map(|v| v * v).sum();
        let mut lambda = 1e-3;
        let mut jtj = vec![0.0; n * n];
        for _ in 0..max_iterations {
            let (a, g) = self.normal_equations(&p, &r, &steps);
            jtj.clone_from(&a);
            let mut improved = false;
            while lambda < 1e12 {
                let mut damped = a.clone();
                for k in 0..n {
                    damped[k * n + k] += lambda * a[k * n + k].max(1e-12);
                }
                let Some(delta) = solve(&damped, &g, n) else {
                    lambda *= 10.0;
                    continue;
                };
                let mut trial: Vec<f64> = p.iter().zip(&delta).map(|(a, d)| a + d).collect();
                self.clamp(&mut trial);
                let r_trial = self.residuals(&trial);
                let c_trial: f64 = r_trial.iter().map(|v| v * v).sum();
                if c_trial.is_finite() && c_trial < cost {
                    let relative = (cost - c_trial) / cost.max(1e-300);
                    p = trial;
                    r = r_trial;
                    cost = c_trial;
                    lambda = (lambda / 3.0).max(1e-9);
                    improved = relative > 1e-9;
                    break;
                }
                lambda *= 4.0;
            }
            if !improved {
                break;
            }
        }
        let (a, _) = self.normal_equations(&p, &r, &steps);
        jtj.clone_from(&a);
        // Fixed parameters have zero columns: give them unit diagonal so the inverse exists, then zero them.
        for k in 0..n {
            if self.fixed[k] || jtj[k * n + k] == 0.0 {
                for m in 0..n {
                    jtj[k * n + m] = 0.0;
                    jtj[m * n + k] = 0.0;
                }
                jtj[k * n + k] = 1.0;
            }
        }
        let mut cov = invert(&jtj, n).unwrap_or_else(|| vec![f64::NAN; n * n]);
        for k in 0..n {
            if self.fixed[k] {
                cov[k * n + k] = 0.0;
            }
        }
        (p, cov, cost)
    }

    /// `J^T J` and `-J^T r` by forward differences, skipping fixed parameters and zero Jacobian entries.
    fn normal_equations(&self, p: &[f64], r: &[f64], steps: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let n = p.len();
        let m = r.len();
        let mut jac = vec![0.0; m * n];
        for k in 0..n {
            if self.fixed[k] {
                continue;
            }
            let mut q = p.to_vec();
            q[k] += steps[k];
            let rq = self.residuals(&q);
            for row in 0..m {
                jac[row * n + k] = (rq[row] - r[row]) / steps[k];
            }
        }
        let mut a = vec![0.0; n * n];
        let mut g = vec![0.0; n];
        let mut nonzero = Vec::with_capacity(n);
        for row in 0..m {
            let jr = &jac[row * n..(row + 1) * n];
            nonzero.clear();
            nonzero.extend((0..n).filter(|&k| jr[k] != 0.0));
            for &i in &nonzero {
                g[i] -= jr[i] * r[row];
                for &j in &nonzero {
                    a[i * n + j] += jr[i] * jr[j];
                }
            }
        }
        (a, g)
    }
}

fn bad(name: &'static str, expected: impl Into<String>, got: impl Into<String>) -> EstimatorError {
    EstimatorError::BadInput { name, expected: expected.into(), got: got.into() }
}

fn wrap_pa(pa: f64) -> f64 {
    pa.rem_euclid(360.0)
}

/// Initial geometry from the field and its intensity (module docs, step 1).
fn initial_geometry(field: &VelocityField<'_>, params: &RingFitParams) -> (DiscGeometry, f64) {
    let v = &field.velocity_kms;
    let weight = |j: usize, i: usize| -> f64 {
        match field.intensity {
            Some(m) => m[[j, i]].max(0.0),
            None => 1.0,
        }
    };
    let (mut sw, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for ((j, i), val) in v.indexed_iter() {
        let w = if val.is_finite() { weight(j, i) } else { 0.0 };
        let w = if w.is_finite() { w } else { 0.0 };
        sw += w;
        sx += w * i as f64;
        sy += w * j as f64;
    }
    let (xc, yc) = match params.centre_px {
        Some([x, y]) => (x, y),
        None if sw > 0.0 => (sx / sw, sy / sw),
        None => ((v.dim().1 as f64 - 1.0) / 2.0, (v.dim().0 as f64 - 1.0) / 2.0),
    };
    let mut values: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    let vsys =
        params.vsys_kms.unwrap_or_else(|| galmass_core::stats::percentile_in_place(&mut values, 50.0).unwrap_or(0.0));
    // Second moments of the intensity (or of the valid-pixel mask).
    let (mut mxx, mut myy, mut mxy) = (0.0, 0.0, 0.0);
    // Mean velocity gradient: least squares of v - vsys = b dx + c dy.
    let (mut axx, mut ayy, mut axy, mut bx, mut by) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for ((j, i), &val) in v.indexed_iter() {
        if !val.is_finite() {
            continue;
        }
        let (dx, dy) = (i as f64 - xc, j as f64 - yc);
        let w = weight(j, i);
        let w = if w.is_finite() { w } else { 0.0 };
        mxx += w * dx * dx;
        myy += w * dy * dy;
        mxy += w * dx * dy;
        axx += dx * dx;
        ayy += dy * dy;
        axy += dx * dy;
        bx += dx * (val - vsys);
        by += dy * (val - vsys);
    }
    let det = axx * ayy - axy * axy;
    let (gb, gc) = if det > 0.0 { ((ayy * bx - axy * by) / det, (axx * by - axy * bx) / det) } else { (0.0, 1.0) };
    let pa_kin = wrap_pa((-gb).atan2(gc).to_degrees());
    let tr = mxx + myy;
    let disc = ((mxx - myy).powi(2) + 4.0 * mxy * mxy).sqrt();
    let (l1, l2) = ((tr + disc) / 2.0, (tr - disc) / 2.0);
    let inc_morph = if l1 > 0.0 { (l2.max(0.0) / l1).sqrt().acos().to_degrees().clamp(20.0, 80.0) } else { 45.0 };
    let geometry = DiscGeometry {
        x_centre_px: xc,
        y_centre_px: yc,
        inclination_deg: params.inclination_deg.unwrap_or(inc_morph),
        pa_deg: params.pa_deg.unwrap_or(pa_kin),
    };
    (geometry, vsys)
}

/// Fits tilted rings to `field` (module docs); radii in kpc when `distance_mpc` is given.
pub fn fit_rings(
    field: &VelocityField<'_>,
    params: &RingFitParams,
    distance_mpc: Option<f64>,
) -> Result<RingFit, EstimatorError> {
    let (ny, nx) = field.velocity_kms.dim();
    if !(field.pixel_arcsec > 0.0 && field.pixel_arcsec.is_finite()) {
        return Err(EstimatorError::InvalidParameter {
            name: "pixel_arcsec",
            reason: format!("{}", field.pixel_arcsec),
        });
    }
    for (name, map) in [("dispersion_kms", field.dispersion_kms), ("intensity", field.intensity)] {
        if let Some(m) = map {
            if m.dim() != (ny, nx) {
                return Err(bad(
                    name,
                    format!("a map of {ny} x {nx} like the velocity field"),
                    format!("{:?}", m.dim()),
                ));
            }
        }
    }
    if !(params.inclination_prior_sd_deg > 0.0 && params.smoothness_deg > 0.0 && params.min_coverage >= 0.0) {
        return Err(EstimatorError::InvalidParameter {
            name: "inclination_prior_sd_deg",
            reason: "prior width and smoothness must be positive".into(),
        });
    }
    let mut warnings = Vec::new();
    let beam_px = field.beam_fwhm_arcsec / field.pixel_arcsec;
    let pixels_per_beam =
        if beam_px > 0.0 { (std::f64::consts::PI / (4.0 * 2f64.ln()) * beam_px * beam_px).max(1.0) } else { 1.0 };
    let width_px =
        params.ring_width_arcsec.map_or(if beam_px > 0.0 { beam_px.max(1.0) } else { 2.0 }, |w| w / field.pixel_arcsec);
    if !(width_px > 0.0 && width_px.is_finite()) {
        return Err(EstimatorError::InvalidParameter { name: "ring_width_arcsec", reason: format!("{width_px} px") });
    }
    let all: Vec<Pixel> = field
        .velocity_kms
        .indexed_iter()
        .filter(|(_, v)| v.is_finite())
        .map(|((j, i), &v)| Pixel { x: i as f64, y: j as f64, v })
        .collect();
    if all.len() < 10 {
        return Err(bad("velocity_kms", "at least 10 finite pixels", format!("{}", all.len())));
    }
    let (initial, vsys0) = initial_geometry(field, params);
    let max_radius_px = params.max_radius_arcsec.map_or(f64::INFINITY, |r| r / field.pixel_arcsec);

    // Rings by coverage under the initial geometry.
    let ring_count = |geometry: &DiscGeometry| -> usize {
        let cos_i = geometry.inclination_deg.to_radians().cos();
        let n_max = ((nx.max(ny) as f64) * 2.0 / width_px) as usize + 1;
        let mut counts = vec![0usize; n_max];
        for px in &all {
            let (r, _) = geometry.deproject(px.x, px.y);
            let k = (r / width_px) as usize;
            if k < n_max {
                counts[k] += 1;
            }
        }
        let mut n = 0;
        for (k, &c) in counts.iter().enumerate() {
            let area = std::f64::consts::PI * (2.0 * k as f64 + 1.0) * width_px * width_px * cos_i;
            let centre = (k as f64 + 0.5) * width_px;
            if centre > max_radius_px || (k >= 2 && (c as f64) < params.min_coverage * area) {
                break;
            }
            n = k + 1;
        }
        n
    };
    let n_rings = ring_count(&initial);
    if n_rings < 2 {
        return Err(bad("velocity_kms", "a field covering at least two rings", format!("{n_rings} ring(s)")));
    }
    let nodes: Vec<f64> = (0..n_rings).map(|k| (k as f64 + 0.5) * width_px).collect();
    let edge = n_rings as f64 * width_px;
    let sin_free = params.free_angle_deg.to_radians().sin();
    // The pixels a stage fits under `geometry`, with their |cos theta| weights.
    let select = |geometry: &DiscGeometry| -> (Vec<Pixel>, Vec<f64>) {
        let mut chosen = Vec::new();
        let mut w = Vec::new();
        for px in &all {
            let (r, c) = geometry.deproject(px.x, px.y);
            if r <= edge && c.abs() >= sin_free {
                chosen.push(*px);
                w.push(c.abs());
            }
        }
        (chosen, w)
    };

    // Stage 1: global geometry.
    let inc_prior = (initial.inclination_deg, params.inclination_prior_sd_deg);
    let v_guess = {
        let spread: Vec<f64> = all.iter().map(|p| (p.v - vsys0).abs()).collect();
        let mut s = spread;
        galmass_core::stats::percentile_in_place(&mut s, 90.0).unwrap_or(50.0)
            / initial.inclination_deg.to_radians().sin().max(0.2)
    };
    let mut p1 = vec![initial.x_centre_px, initial.y_centre_px, vsys0, initial.inclination_deg, initial.pa_deg];
    p1.extend(nodes.iter().map(|r| v_guess * (r / edge).min(1.0).sqrt().max(0.3)));
    let mut fixed1 = vec![params.fix_centre, params.fix_centre, params.fix_vsys, false, false];
    fixed1.extend(std::iter::repeat_n(false, n_rings));
    let mut reference = initial;
    let mut noise = field.channel_kms.max(5.0) * pixels_per_beam.sqrt();
    let mut stage1 = (p1.clone(), vec![0.0; p1.len() * p1.len()]);
    // Twice: the second pass re-selects the pixels and rescales the noise with the first pass's geometry.
    for _ in 0..2 {
        let (pixels, weights) = select(&reference);
        let problem = Problem {
            model: Model { nodes: &nodes, stage: Stage::Global, reference },
            pixels: &pixels,
            weights,
            noise,
            inc_prior,
            smoothness_deg: params.smoothness_deg,
            fixed: fixed1.clone(),
        };
        let (p, cov, _) = problem.minimise(stage1.0.clone(), params.max_iterations);
        let rms = residual_rms(&problem, &p);
        noise = rms.max(1e-3) * pixels_per_beam.sqrt();
        reference = DiscGeometry { x_centre_px: p[0], y_centre_px: p[1], inclination_deg: p[3], pa_deg: p[4] };
        stage1 = (p, cov);
    }
    // A negative curve means the position angle points at the approaching side.
    let (mut p1, mut cov1) = stage1;
    if p1[5..].iter().sum::<f64>() < 0.0 {
        p1[4] += 180.0;
        for v in &mut p1[5..] {
            *v = -*v;
        }
    }
    p1[4] = wrap_pa(p1[4]);
    let n1 = p1.len();
    // Re-derive the noise and covariance at the final stage-1 solution with a consistent scaling.
    let geometry = DiscGeometry { x_centre_px: p1[0], y_centre_px: p1[1], inclination_deg: p1[3], pa_deg: p1[4] };
    let vsys = p1[2];
    {
        let (pixels, weights) = select(&geometry);
        let problem = Problem {
            model: Model { nodes: &nodes, stage: Stage::Global, reference: geometry },
            pixels: &pixels,
            weights,
            noise,
            inc_prior,
            smoothness_deg: params.smoothness_deg,
            fixed: fixed1.clone(),
        };
        let (_, cov, _) = problem.minimise(p1.clone(), 0);
        cov1 = if cov.iter().all(|c| c.is_finite()) { cov } else { cov1 };
    }
    let geometry_err = [0, 1, 2, 3, 4].map(|k| cov1[k * n1 + k].max(0.0).sqrt());

    // Stage 2 (per-ring inclination and position angle), repeated on the field with the beam smearing of the
    // previous pass's model removed.
    let (mut incs, mut pas, mut vs) =
        (vec![geometry.inclination_deg; n_rings], vec![geometry.pa_deg; n_rings], p1[5..].to_vec());
    let (mut inc_err, mut pa_err, mut v_err_stat) = (
        vec![geometry_err[3]; n_rings],
        vec![geometry_err[4]; n_rings],
        (0..n_rings).map(|k| cov1[(5 + k) * n1 + 5 + k].max(0.0).sqrt()).collect::<Vec<_>>(),
    );
    let stage2 = Stage::PerRing { xc: geometry.x_centre_px, yc: geometry.y_centre_px, vsys };
    let (pixels, weights) = select(&geometry);
    let intensity = field.intensity.map(|m| m.mapv(|v| if v.is_finite() && v > 0.0 { v } else { 0.0 }));
    let wants_smearing = beam_px > 0.0 && params.beam_smearing_iterations > 0;
    if wants_smearing && intensity.is_none() {
        warnings.push("no moment 0 given: the beam-smearing correction needs it and was skipped".into());
    }
    let n_passes = 1 + if wants_smearing && intensity.is_some() { params.beam_smearing_iterations } else { 0 };
    let geo = |incs: &[f64], pas: &[f64], x: f64, y: f64| -> (f64, f64, f64) {
        let (r0, _) = geometry.deproject(x, y);
        let (inc, pa) = (node_interp(&nodes, incs, None, r0), node_interp(&nodes, pas, None, r0));
        let (r, c) = deproject(x - geometry.x_centre_px, y - geometry.y_centre_px, inc, pa);
        (r, c, inc.to_radians().sin())
    };
    let mut corrected: Vec<f64> = pixels.iter().map(|p| p.v).collect();
    let mut vs_observed = vs.clone();
    let mut sigma_bs2 = vec![0.0; n_rings];
    // The last pass's per-pixel geometry, which is the final one (its fit comes before it in the pass).
    let mut last_map: Option<Array2<(f64, f64, f64)>> = None;
    for pass in 0..n_passes {
        let fit_px: Vec<Pixel> = pixels.iter().zip(&corrected).map(|(p, &v)| Pixel { x: p.x, y: p.y, v }).collect();
        if params.per_ring_geometry {
            let problem = Problem {
                model: Model { nodes: &nodes, stage: stage2, reference: geometry },
                pixels: &fit_px,
                weights: weights.clone(),
                noise,
                inc_prior,
                smoothness_deg: params.smoothness_deg,
                fixed: vec![false; 3 * n_rings],
            };
            let mut p2 = incs.clone();
            p2.extend(&pas);
            p2.extend(&vs);
            let (p, cov, _) = problem.minimise(p2, params.max_iterations);
            let n2 = p.len();
            let sd = |k: usize| cov[k * n2 + k].max(0.0).sqrt();
            incs = p[..n_rings].to_vec();
            pas = p[n_rings..2 * n_rings].to_vec();
            vs = p[2 * n_rings..].to_vec();
            inc_err = (0..n_rings).map(sd).collect();
            pa_err = (n_rings..2 * n_rings).map(sd).collect();
            v_err_stat = (2 * n_rings..3 * n_rings).map(sd).collect();
        } else {
            let chosen: Vec<_> = fit_px
                .iter()
                .zip(&weights)
                .map(|(px, w)| {
                    let (r, c, s) = geo(&incs, &pas, px.x, px.y);
                    (r, c, s, px.v - vsys, *w)
                })
                .collect();
            if let Some(curve) = linear_curve(&nodes, &chosen) {
                for (v, new) in vs.iter_mut().zip(curve) {
                    if new.is_finite() {
                        *v = new;
                    }
                }
            }
        }
        if pass == 0 {
            vs_observed = vs.clone();
        }
        if let (Some(weight_map), true) = (&intensity, n_passes > 1) {
            let geometry_map: Array2<(f64, f64, f64)> =
                Array2::from_shape_fn((ny, nx), |(j, i)| geo(&incs, &pas, i as f64, j as f64));
            let model_field = geometry_map.mapv(|(r, c, s)| node_interp(&nodes, &vs, Some(0.0), r) * s * c);
            let (smeared, extra) = smear(weight_map.view(), model_field.view(), beam_px);
            sigma_bs2 = ring_means(&geometry_map, &nodes, width_px, |j, i| {
                let e = extra[[j, i]];
                (e * e, weight_map[[j, i]])
            });
            if pass + 1 < n_passes {
                for (v, px) in corrected.iter_mut().zip(&pixels) {
                    let (j, i) = (px.y as usize, px.x as usize);
                    let shift = smeared[[j, i]] - model_field[[j, i]];
                    *v = if shift.is_finite() { px.v - shift } else { px.v };
                }
            }
            last_map = Some(geometry_map);
        }
    }
    let geo_of = |x: f64, y: f64| geo(&incs, &pas, x, y);
    let fit_pixels: Vec<(f64, f64, f64, f64, f64)> = pixels
        .iter()
        .zip(&corrected)
        .zip(&weights)
        .map(|((px, &v), w)| {
            let (r, c, s) = geo_of(px.x, px.y);
            (r, c, s, v - vsys, *w)
        })
        .collect();
    let residual_rms_kms = {
        let s: f64 = fit_pixels
            .iter()
            .map(|&(r, c, si, dv, _)| (dv - node_interp(&nodes, &vs, Some(0.0), r) * si * c).powi(2))
            .sum();
        (s / fit_pixels.len().max(1) as f64).sqrt()
    };
    let sides = |sign: f64| -> Vec<f64> {
        let chosen: Vec<_> = fit_pixels.iter().copied().filter(|p| p.1 * sign > 0.0).collect();
        linear_curve(&nodes, &chosen).unwrap_or_else(|| vec![f64::NAN; n_rings])
    };
    let (v_rec, v_app) = (sides(1.0), sides(-1.0));

    // Dispersion, surface brightness and counts per ring.
    let geometry_map = last_map.unwrap_or_else(|| Array2::from_shape_fn((ny, nx), |(j, i)| geo_of(i as f64, j as f64)));
    let channel_var = field.channel_kms * field.channel_kms / 12.0;
    let sigma_obs2 = match (field.dispersion_kms, &intensity) {
        (Some(d), weight) => ring_means(&geometry_map, &nodes, width_px, |j, i| {
            let s = d[[j, i]];
            let w = weight.as_ref().map_or(1.0, |m| m[[j, i]]);
            if s.is_finite() {
                (s * s, w)
            } else {
                (0.0, 0.0)
            }
        }),
        (None, _) => vec![f64::NAN; n_rings],
    };
    let surface = match &intensity {
        Some(m) => {
            let cos = |k: usize| incs[k].to_radians().cos();
            ring_means(&geometry_map, &nodes, width_px, |j, i| (m[[j, i]], 1.0))
                .iter()
                .enumerate()
                .map(|(k, s)| s * cos(k))
                .collect()
        }
        None => vec![f64::NAN; n_rings],
    };
    let mut counts = vec![0usize; n_rings];
    for &(r, _, _, _, _) in &fit_pixels {
        let k = ((r / width_px) as usize).min(n_rings - 1);
        counts[k] += 1;
    }
    let sigma: Vec<f64> = (0..n_rings)
        .map(|k| (sigma_obs2[k] - sigma_bs2[k] - channel_var).max(0.0).sqrt())
        .map(|s| if s.is_finite() { s } else { f64::NAN })
        .collect();

    // Asymmetric drift.
    let mut ad2 = vec![0.0; n_rings];
    let mut ad_scale = f64::NAN;
    if params.asymmetric_drift {
        let points: Vec<(f64, f64, f64)> = (0..n_rings)
            .filter(|&k| sigma[k] > 0.0 && surface[k] > 0.0 && counts[k] > 0)
            .map(|k| (nodes[k], (surface[k] * sigma[k] * sigma[k]).ln(), counts[k] as f64))
            .collect();
        if points.len() >= 3 {
            let (sw, sx, sy, sxx, sxy) = points.iter().fold((0.0, 0.0, 0.0, 0.0, 0.0), |a, &(x, y, w)| {
                (a.0 + w, a.1 + w * x, a.2 + w * y, a.3 + w * x * x, a.4 + w * x * y)
            });
            let slope = (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
            if slope < 0.0 {
                ad_scale = -1.0 / slope * field.pixel_arcsec;
                for k in 0..n_rings {
                    let s = if sigma[k].is_finite() { sigma[k] } else { 0.0 };
                    ad2[k] = -s * s * slope * nodes[k];
                }
            } else {
                warnings.push(format!("Sigma sigma^2 does not fall outwards (slope {slope:.3e} per pixel): no asymmetric-drift correction"));
            }
        } else if field.dispersion_kms.is_some() {
            warnings.push(
                "fewer than 3 rings with a dispersion and surface brightness: no asymmetric-drift correction".into(),
            );
        }
    }

    let kpc_per_arcsec = distance_mpc.map_or(f64::NAN, |d| d * 1e3 / ARCSEC_PER_RAD);
    let min_pixels = params.min_beams_per_ring * pixels_per_beam;
    let rings = (0..n_rings)
        .map(|k| {
            let side = 0.5 * (v_rec[k] - v_app[k]).abs();
            let side = if side.is_finite() { side } else { 0.0 };
            let v_rot = vs[k];
            let v_err = (v_err_stat[k].powi(2) + side * side).sqrt();
            let v_circ = (v_rot * v_rot + ad2[k]).max(0.0).sqrt();
            let v_circ_err = if v_circ > 0.0 {
                ((v_rot * v_err / v_circ).powi(2) + (0.5 * ad2[k] / v_circ).powi(2)).sqrt()
            } else {
                v_err
            };
            let cos_i = incs[k].to_radians().cos();
            let area = std::f64::consts::PI * (2.0 * k as f64 + 1.0) * width_px * width_px * cos_i;
            let mut flags = Vec::new();
            if (counts[k] as f64) < min_pixels {
                flags.push("few-pixels".to_owned());
            }
            if (v_rot - vs_observed[k]).abs() > 0.2 * v_rot.abs() {
                flags.push("large-beam-correction".to_owned());
            }
            if sigma[k].is_finite() && sigma[k] > 0.5 * v_rot.abs() {
                flags.push("dispersion-dominated".to_owned());
            }
            Ring {
                radius_arcsec: nodes[k] * field.pixel_arcsec,
                radius_kpc: nodes[k] * field.pixel_arcsec * kpc_per_arcsec,
                v_rot_kms: v_rot,
                v_rot_err_kms: v_err,
                v_rot_observed_kms: vs_observed[k],
                v_receding_kms: v_rec[k],
                v_approaching_kms: v_app[k],
                v_circ_kms: v_circ,
                v_circ_err_kms: v_circ_err,
                asymmetric_drift_kms: ad2[k].max(0.0).sqrt(),
                sigma_kms: sigma[k],
                inclination_deg: incs[k],
                inclination_err_deg: inc_err[k],
                pa_deg: wrap_pa(pas[k]),
                pa_err_deg: pa_err[k],
                x_centre_px: geometry.x_centre_px,
                y_centre_px: geometry.y_centre_px,
                vsys_kms: vsys,
                n_pixels: counts[k],
                coverage: counts[k] as f64 / area.max(1e-12),
                surface_brightness: surface[k],
                flags,
            }
        })
        .collect();
    Ok(RingFit {
        rings,
        geometry,
        vsys_kms: vsys,
        geometry_err,
        initial,
        ring_width_arcsec: width_px * field.pixel_arcsec,
        pixel_arcsec: field.pixel_arcsec,
        distance_mpc: distance_mpc.unwrap_or(f64::NAN),
        residual_rms_kms,
        pixels_per_beam,
        asymmetric_drift_scale_arcsec: ad_scale,
        warnings,
    })
}

fn residual_rms(problem: &Problem<'_>, p: &[f64]) -> f64 {
    let u = problem.model.unpack(p);
    let (mut s, mut w) = (0.0, 0.0);
    for (px, wt) in problem.pixels.iter().zip(&problem.weights) {
        s += wt * (px.v - problem.model.velocity(&u, px.x, px.y)).powi(2);
        w += wt;
    }
    if w > 0.0 {
        (s / w).sqrt()
    } else {
        f64::NAN
    }
}

/// The rotation curve at `nodes` by weighted linear least squares over pixels `(R, cos theta, sin i, v - vsys,
/// weight)` with the geometry fixed; NaN for nodes no pixel constrains; `None` when nothing does.
fn linear_curve(nodes: &[f64], pixels: &[(f64, f64, f64, f64, f64)]) -> Option<Vec<f64>> {
    let n = nodes.len();
    let mut a = vec![0.0; n * n];
    let mut b = vec![0.0; n];
    for &(r, c, s, dv, w) in pixels {
        let basis = node_weights(nodes, r);
        for &(i, bi) in &basis {
            let xi = bi * s * c;
            b[i] += w * xi * dv;
            for &(j, bj) in &basis {
                a[i * n + j] += w * xi * bj * s * c;
            }
        }
    }
    let trace: f64 = (0..n).map(|k| a[k * n + k]).sum();
    if !(trace > 0.0) {
        return None;
    }
    let empty: Vec<bool> = (0..n).map(|k| a[k * n + k] <= 1e-9 * trace / n as f64).collect();
    for k in 0..n {
        a[k * n + k] += 1e-9 * trace / n as f64 + if empty[k] { trace / n as f64 } else { 0.0 };
    }
    let x = solve(&a, &b, n)?;
    Some(x.into_iter().zip(empty).map(|(v, e)| if e { f64::NAN } else { v }).collect())
}

/// Weighted mean per ring of `value(j, i) -> (value, weight)` over the whole map, rings by radius.
fn ring_means(
    geometry_map: &Array2<(f64, f64, f64)>,
    nodes: &[f64],
    width_px: f64,
    value: impl Fn(usize, usize) -> (f64, f64),
) -> Vec<f64> {
    let n = nodes.len();
    let mut sums = vec![(0.0f64, 0.0f64); n];
    for ((j, i), &(r, _, _)) in geometry_map.indexed_iter() {
        let k = (r / width_px) as usize;
        if k < n {
            let (v, w) = value(j, i);
            if v.is_finite() && w.is_finite() {
                sums[k].0 += v * w;
                sums[k].1 += w;
            }
        }
    }
    sums.into_iter().map(|(s, w)| if w > 0.0 { s / w } else { f64::NAN }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    fn field_of(
        truth: &DiscGeometry,
        vsys: f64,
        v_rot: impl Fn(f64) -> f64,
        n: usize,
        r_max: f64,
        noise: f64,
        seed: u64,
    ) -> Array2<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0, noise.max(1e-12)).unwrap();
        let sin_i = truth.inclination_deg.to_radians().sin();
        Array2::from_shape_fn((n, n), |(j, i)| {
            let (r, c) = truth.deproject(i as f64, j as f64);
            if r < r_max {
                vsys + v_rot(r) * sin_i * c + if noise > 0.0 { normal.sample(&mut rng) } else { 0.0 }
            } else {
                f64::NAN
            }
        })
    }

    #[test]
    fn recovers_the_geometry_and_curve_of_a_noisy_disc() {
        let truth = DiscGeometry { x_centre_px: 50.4, y_centre_px: 49.2, inclination_deg: 58.0, pa_deg: 122.0 };
        let v_rot = |r: f64| 180.0 * (1.0 - (-r / 8.0).exp());
        let velocity = field_of(&truth, 530.0, v_rot, 101, 45.0, 4.0, 3);
        let field = VelocityField { channel_kms: 5.0, ..VelocityField::new(velocity.view(), 6.0) };
        let params = RingFitParams { ring_width_arcsec: Some(24.0), ..RingFitParams::default() };
        let fit = fit_rings(&field, &params, Some(10.0)).unwrap();
        assert_abs_diff_eq!(fit.geometry.x_centre_px, 50.4, epsilon = 0.3);
        assert_abs_diff_eq!(fit.geometry.y_centre_px, 49.2, epsilon = 0.3);
        assert_abs_diff_eq!(fit.vsys_kms, 530.0, epsilon = 1.0);
        assert_abs_diff_eq!(fit.geometry.inclination_deg, 58.0, epsilon = 2.0);
        assert_abs_diff_eq!(fit.geometry.pa_deg, 122.0, epsilon = 1.0);
        assert!(fit.rings.len() >= 9, "{} rings", fit.rings.len());
        let mut pulls = Vec::new();
        for ring in &fit.rings[1..] {
            let truth_v = v_rot(ring.radius_arcsec / 6.0);
            assert!((ring.v_rot_kms - truth_v).abs() < 4.0 * ring.v_rot_err_kms + 2.0, "{ring:?} vs {truth_v}");
            pulls.push((ring.v_rot_kms - truth_v) / ring.v_rot_err_kms);
            assert_abs_diff_eq!(ring.inclination_deg, 58.0, epsilon = 4.0);
        }
        assert!((fit.rings[3].radius_kpc - fit.rings[3].radius_arcsec * 10e3 / ARCSEC_PER_RAD).abs() < 1e-9);
    }

    #[test]
    fn the_beam_correction_undoes_smearing_of_a_steep_inner_curve() {
        let truth = DiscGeometry { x_centre_px: 60.0, y_centre_px: 60.0, inclination_deg: 60.0, pa_deg: 40.0 };
        let v_rot = |r: f64| 200.0 * (1.0 - (-r / 4.0).exp());
        let intensity = Array2::from_shape_fn((121, 121), |(j, i)| {
            let (r, _) = truth.deproject(i as f64, j as f64);
            (-r / 25.0).exp()
        });
        let clean = field_of(&truth, 0.0, v_rot, 121, 1e9, 0.0, 0);
        let beam_px = 6.0;
        let (smeared, _) = smear(intensity.view(), clean.view(), beam_px);
        let field = VelocityField {
            intensity: Some(intensity.view()),
            beam_fwhm_arcsec: beam_px * 5.0,
            ..VelocityField::new(smeared.view(), 5.0)
        };
        // The inclination as an optical image would give it (the morphological guess of a square frame is rounder).
        let params = RingFitParams {
            max_radius_arcsec: Some(250.0),
            asymmetric_drift: false,
            inclination_deg: Some(60.0),
            inclination_prior_sd_deg: 3.0,
            beam_smearing_iterations: 6,
            ..RingFitParams::default()
        };
        let fit = fit_rings(&field, &params, None).unwrap();
        // The reference: the same rings fitted to the unsmeared field (a piecewise-linear curve sits above a
        // concave one at its nodes, which is no fault of the correction).
        let sharp = VelocityField { intensity: Some(intensity.view()), ..VelocityField::new(clean.view(), 5.0) };
        let reference =
            fit_rings(&sharp, &RingFitParams { ring_width_arcsec: Some(fit.ring_width_arcsec), ..params }, None)
                .unwrap();
        for (k, (ring, truth_ring)) in fit.rings.iter().zip(&reference.rings).take(3).enumerate() {
            let offset = (truth_ring.v_rot_kms - ring.v_rot_observed_kms).abs();
            let left = (truth_ring.v_rot_kms - ring.v_rot_kms).abs();
            assert!(left < 0.3 * offset + 1.0, "ring {k}: {ring:?} vs {truth_ring:?}");
            if k == 0 {
                // Smearing lowers the observed inner velocity by tens of km/s.
                assert!(offset > 10.0, "{ring:?}");
            }
        }
        assert!((fit.rings[1].inclination_deg - 60.0).abs() < 2.0, "{:?}", fit.rings[1]);
    }

    #[test]
    fn asymmetric_drift_restores_the_circular_velocity() {
        let truth = DiscGeometry { x_centre_px: 50.0, y_centre_px: 50.0, inclination_deg: 60.0, pa_deg: 0.0 };
        // Sigma = exp(-R / 10 px), sigma = 20 km/s: v_c^2 - v_rot^2 = sigma^2 R / 10.
        let (sigma, rd) = (20.0, 10.0);
        let v_c = 100.0;
        let v_rot = |r: f64| (v_c * v_c - sigma * sigma * r / rd).max(0.0).sqrt();
        let velocity = field_of(&truth, 0.0, v_rot, 101, 40.0, 0.0, 0);
        let intensity = Array2::from_shape_fn((101, 101), |(j, i)| (-truth.deproject(i as f64, j as f64).0 / rd).exp());
        let dispersion = Array2::from_elem((101, 101), sigma);
        let field = VelocityField {
            intensity: Some(intensity.view()),
            dispersion_kms: Some(dispersion.view()),
            ..VelocityField::new(velocity.view(), 1.0)
        };
        let params =
            RingFitParams { ring_width_arcsec: Some(4.0), beam_smearing_iterations: 0, ..RingFitParams::default() };
        let fit = fit_rings(&field, &params, None).unwrap();
        for ring in &fit.rings[1..] {
            assert_abs_diff_eq!(ring.v_circ_kms, v_c, epsilon = 2.0);
            assert_abs_diff_eq!(ring.sigma_kms, sigma, epsilon = 0.5);
        }
        assert_abs_diff_eq!(fit.asymmetric_drift_scale_arcsec, rd, epsilon = 0.5);
    }

    #[test]
    fn bad_fields_are_errors() {
        let empty = Array2::from_elem((10, 10), f64::NAN);
        assert!(fit_rings(&VelocityField::new(empty.view(), 1.0), &RingFitParams::default(), None).is_err());
        let v = Array2::zeros((10, 10));
        assert!(fit_rings(&VelocityField::new(v.view(), 0.0), &RingFitParams::default(), None).is_err());
        let wrong = Array2::zeros((3, 3));
        let field = VelocityField { intensity: Some(wrong.view()), ..VelocityField::new(v.view(), 1.0) };
        assert!(fit_rings(&field, &RingFitParams::default(), None).is_err());
    }
}
