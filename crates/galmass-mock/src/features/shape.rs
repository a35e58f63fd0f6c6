//! The iterative shape tensor of the stars (chu2024 Table 1: "shortest-to-longest axis ratio c/a of the stellar mass
//! distribution, calculated using the inertial tensor method (Allgood et al. 2006), through an iterative approach
//! started within a 3d radius of 3 R_hsm").
//!
//! The mass-weighted shape tensor `S_ij = sum m x_i x_j / sum m` ([`ShapeTensor::Unweighted`]; Zemp et al. 2011,
//! ApJS 197, 30, eq. 8 with weight 1) or the reduced one `S_ij = sum m x_i x_j / r_ell^2 / sum m` with the
//! ellipsoidal radius `r_ell^2 = u_a^2 + (u_b / q)^2 + (u_c / s)^2` of the previous iteration ([`ShapeTensor::Reduced`];
//! Allgood et al. 2006, MNRAS 367, 1781, eq. 2) is computed from the stars inside an ellipsoid that starts as the
//! sphere of the given radius. Each iteration takes the tensor's eigenvectors as the axes and `q = sqrt(l_2 / l_1)`,
//! `s = sqrt(l_3 / l_1)` as the axis ratios, keeping the ellipsoid's volume (`a b c = r^3`, Zemp et al.'s enclosed
//! volume; pynbody's convention); chu2024 does not say whether the volume or the major axis is kept. The iteration
//! stops when `q` and `s` change by less than [`TOLERANCE`], after at most [`MAX_ITERATIONS`].
//! For a density stratified on similar ellipsoids, both tensors give the exact axis ratios.
//!
//! ```
//! use galmass_mock::features::symmetric_eigen;
//! let (values, _) = symmetric_eigen([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 0.5]]);
//! assert!((values[0] - 3.0).abs() < 1e-12 && (values[1] - 1.0).abs() < 1e-12 && (values[2] - 0.5).abs() < 1e-12);
//! ```

use galmass_core::Particles;
use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// Most iterations of the shape tensor.
pub const MAX_ITERATIONS: usize = 100;
/// Convergence of the axis ratios q and s (absolute change per iteration).
pub const TOLERANCE: f64 = 1e-4;
/// Smallest axis ratio of the iterated ellipsoid (a razor-thin disc reports c/a = 0 but is selected with this).
pub const MIN_AXIS_RATIO: f64 = 1e-3;
/// Fewest stars inside the ellipsoid.
pub const MIN_STARS: usize = 10;

/// Which shape tensor (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShapeTensor {
    /// `sum m x_i x_j / sum m` (Zemp et al. 2011's recommendation).
    Unweighted,
    /// Each star weighted by `1 / r_ell^2` (Allgood et al. 2006, the method chu2024 cites).
    Reduced,
}

/// The converged shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisRatios {
    /// Intermediate-to-longest axis ratio q = b/a.
    pub b_over_a: f64,
    /// Shortest-to-longest axis ratio s = c/a.
    pub c_over_a: f64,
    /// The principal axes (columns: major, intermediate, minor), unit vectors.
    pub axes: [[f64; 3]; 3],
    /// Iterations run.
    pub iterations: usize,
    /// Whether the axis ratios converged within [`MAX_ITERATIONS`].
    pub converged: bool,
    /// Stars in the final ellipsoid.
    pub n_stars: usize,
}

/// Eigenvalues (descending) and eigenvectors (columns, in the same order) of a symmetric 3 x 3 matrix by cyclic
/// Jacobi rotations (Press et al., Numerical Recipes, §11.1).
pub fn symmetric_eigen(m: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut a = m;
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..50 {
        let off = a[0][1].powi(2) + a[0][2].powi(2) + a[1][2].powi(2);
        if off < 1e-30 * (a[0][0].powi(2) + a[1][1].powi(2) + a[2][2].powi(2)).max(1e-300) {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q].abs() < 1e-300 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = if theta == 0.0 { 1.0 } else { theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt()) };
            let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
            for row in &mut a {
                let (akp, akq) = (row[p], row[q]);
                row[p] = c * akp - s * akq;
                row[q] = s * akp + c * akq;
            }
            let (row_p, row_q) = (a[p], a[q]);
            for k in 0..3 {
                a[p][k] = c * row_p[k] - s * row_q[k];
                a[q][k] = s * row_p[k] + c * row_q[k];
            }
            for row in &mut v {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    let mut order = [0usize, 1, 2];
    order.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    let values = [a[order[0]][order[0]], a[order[1]][order[1]], a[order[2]][order[2]]];
    let mut vectors = [[0.0; 3]; 3];
    for (col, &o) in order.iter().enumerate() {
        for row in 0..3 {
            vectors[row][col] = v[row][o];
        }
    }
    (values, vectors)
}

/// The axis ratios of `stars` from the iterative shape tensor started at the sphere of `radius_kpc` about the
/// origin (module docs).
///
/// Errors: a non-positive radius, fewer than [`MIN_STARS`] stars inside the ellipsoid, all of them at the centre.
pub fn axis_ratios(stars: &Particles, radius_kpc: f64, tensor: ShapeTensor) -> Result<AxisRatios, MockError> {
    if !radius_kpc.is_finite() || radius_kpc <= 0.0 {
        return Err(MockError::InvalidParameter {
            name: "shape radius",
            reason: format!("{radius_kpc}, expected a positive radius"),
        });
    }
    let (pos, mass) = (stars.pos_kpc(), stars.mass_msun());
    let (mut q, mut s) = (1.0f64, 1.0f64);
    let mut axes = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    let (mut q_report, mut s_report) = (1.0f64, 1.0f64);
    let mut result = None;
    for iteration in 1..=MAX_ITERATIONS {
        // Semi-axes a, b = q a, c = s a with a b c = radius^3.
        let a = radius_kpc / (q * s).cbrt();
        let mut t = [[0.0; 3]; 3];
        let (mut total, mut count) = (0.0, 0usize);
        for i in 0..stars.len() {
            let x = [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]];
            // Coordinates along the current axes, in units of the major semi-axis.
            let u: [f64; 3] = std::array::from_fn(|k| (x[0] * axes[0][k] + x[1] * axes[1][k] + x[2] * axes[2][k]) / a);
            let r_ell2 = u[0] * u[0] + (u[1] / q).powi(2) + (u[2] / s).powi(2);
            if r_ell2 > 1.0 {
                continue;
            }
            let w = match tensor {
                ShapeTensor::Unweighted => mass[i],
                // A star at the very centre carries no direction; leave it out.
                ShapeTensor::Reduced if r_ell2 > 0.0 => mass[i] / (r_ell2 * a * a),
                ShapeTensor::Reduced => continue,
            };
            for (r, row) in t.iter_mut().enumerate() {
                for (c, v) in row.iter_mut().enumerate() {
                    *v += w * x[r] * x[c];
                }
            }
            total += w;
            count += 1;
        }
        if count < MIN_STARS || total <= 0.0 {
            return Err(MockError::TooFewPoints { what: "shape tensor".into(), needed: MIN_STARS, got: count });
        }
        for row in &mut t {
            for v in row.iter_mut() {
                *v /= total;
            }
        }
        let (values, vectors) = symmetric_eigen(t);
        if values[0].is_nan() || values[0] <= 0.0 {
            return Err(MockError::BadInput {
                name: "stars",
                expected: "stars away from the centre".into(),
                got: format!("a zero shape tensor (eigenvalues {values:?})"),
            });
        }
        let (q_new, s_new) = ((values[1].max(0.0) / values[0]).sqrt(), (values[2].max(0.0) / values[0]).sqrt());
        let converged = (q_new - q_report).abs() < TOLERANCE && (s_new - s_report).abs() < TOLERANCE;
        axes = vectors;
        (q_report, s_report) = (q_new, s_new);
        // The next ellipsoid: a flat (or needle-like) tensor keeps axes of at least MIN_AXIS_RATIO.
        q = q_new.max(MIN_AXIS_RATIO);
        s = s_new.max(MIN_AXIS_RATIO);
        result = Some(AxisRatios {
            b_over_a: q_report,
            c_over_a: s_report,
            axes,
            iterations: iteration,
            converged,
            n_stars: count,
        });
        if converged {
            break;
        }
    }
    result.ok_or_else(|| MockError::InvalidParameter { name: "MAX_ITERATIONS", reason: "is zero".into() })
}
