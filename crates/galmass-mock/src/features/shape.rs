//! The iterative shape tensor (module docs of [`super`]).

// Index loops over the three coordinates read as the formulas do.
#![allow(clippy::needless_range_loop)]

use galmass_core::Particles;

use crate::error::MockError;

const MAX_ITERATIONS: usize = 100;
const TOLERANCE: f64 = 1e-4;

/// Eigenvalues (descending) and eigenvectors (columns) of a symmetric 3 x 3 matrix by cyclic Jacobi rotations.
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
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let (c, s) = (1.0 / (t * t + 1.0).sqrt(), t / (t * t + 1.0).sqrt());
            for k in 0..3 {
                let (akp, akq) = (a[k][p], a[k][q]);
                a[k][p] = c * akp - s * akq;
                a[k][q] = s * akp + c * akq;
            }
            for k in 0..3 {
                let (apk, aqk) = (a[p][k], a[q][k]);
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
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

/// The axis ratios `(b/a, c/a)` of the stars from the iterative shape tensor started at the sphere of `radius`
/// kpc (the enclosed volume kept).
pub fn axis_ratios(stars: &Particles, radius: f64) -> Result<(f64, f64), MockError> {
    let (pos, mass) = (stars.pos_kpc(), stars.mass_msun());
    let (mut q, mut s) = (1.0f64, 1.0f64);
    let mut axes = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..MAX_ITERATIONS {
        // Semi-axes a, b = q a, c = s a with a b c = radius^3.
        let a = radius / (q * s).cbrt();
        let (b, c) = (q * a, s * a);
        let mut t = [[0.0; 3]; 3];
        let (mut total, mut count) = (0.0, 0usize);
        for i in 0..stars.len() {
            let x = [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]];
            // Coordinates along the current axes.
            let u: [f64; 3] = std::array::from_fn(|k| x[0] * axes[0][k] + x[1] * axes[1][k] + x[2] * axes[2][k]);
            if (u[0] / a).powi(2) + (u[1] / b).powi(2) + (u[2] / c).powi(2) > 1.0 {
                continue;
            }
            for r in 0..3 {
                for cc in 0..3 {
                    t[r][cc] += mass[i] * x[r] * x[cc];
                }
            }
            total += mass[i];
            count += 1;
        }
        if count < 10 || total <= 0.0 {
            return Err(MockError::TooFewPoints { what: "shape tensor".into(), needed: 10, got: count });
        }
        for row in &mut t {
            for v in row.iter_mut() {
                *v /= total;
            }
        }
        let (values, vectors) = symmetric_eigen(t);
        if values[0] <= 0.0 {
            return Err(MockError::BadInput {
                name: "stars",
                expected: "a 3-D distribution".into(),
                got: "a degenerate shape tensor".into(),
            });
        }
        let (q_new, s_new) = ((values[1].max(0.0) / values[0]).sqrt(), (values[2].max(0.0) / values[0]).sqrt());
        axes = vectors;
        let converged = (q_new - q).abs() < TOLERANCE && (s_new - s).abs() < TOLERANCE;
        q = q_new.max(1e-3);
        s = s_new.max(1e-3);
        if converged {
            break;
        }
    }
    Ok((q, s))
}
