//! Rotations, lines of sight and the direction sets every crate projects galaxies along.
//!
//! # Conventions
//! - A [`LineOfSight`] is the unit vector `n` pointing from the observer towards the galaxy. The line-of-sight
//!   velocity of a particle is `v_los = v . n`: **positive means receding** from the observer.
//! - The sky plane has an orthonormal basis `(e1, e2)` with `e1 x e2 = n`, so `(e1, e2, n)` is right-handed. Image
//!   axis x runs along `e1` and image axis y along `e2`.
//! - For a general direction with polar angle theta and azimuth phi, `e1` is the spherical unit vector e_theta and
//!   `e2` is e_phi; at the poles phi is taken as 0, so `n = +z` gives `(e1, e2) = (x, y)` and `n = -z` gives
//!   `(-x, y)`. Lines of sight along the box axes use the cyclic bases `x: (y, z)`, `y: (z, x)`, `z: (x, y)`.
//! - [`Rotation`] matrices act on column vectors: `v' = R v`. A galaxy's `rotation_to_aligned` maps box-frame vectors to
//!   the frame whose z axis is the stellar angular momentum; its x axis is the line of nodes `z_box x L` (or the box x
//!   axis when `L` is parallel to `z_box`).
//! - Inclination is the angle between `n` and the stellar angular momentum: 0 deg face-on, 90 deg edge-on.
//!
//! ```
//! use galmass_core::geometry::{DirectionSet, Rotation};
//! let lines = DirectionSet::Fibonacci { n: 64 }.directions(&Rotation::identity()).unwrap();
//! assert_eq!(lines.len(), 64);
//! let (x, y) = lines[0].project([1.0, 2.0, 3.0]);
//! let v = lines[0].v_los([0.0, 0.0, 10.0]);
//! assert!(x.is_finite() && y.is_finite() && v.is_finite());
//! ```

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A 3-vector.
pub type Vec3 = [f64; 3];

/// Dot product.
pub fn dot(a: Vec3, b: Vec3) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// Cross product.
pub fn cross(a: Vec3, b: Vec3) -> Vec3 {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

/// Euclidean norm.
pub fn norm(a: Vec3) -> f64 {
    dot(a, a).sqrt()
}

/// `a` scaled to unit length; fails for zero or non-finite vectors.
pub fn normalize(a: Vec3) -> Result<Vec3, CoreError> {
    let n = norm(a);
    if !n.is_finite() || n == 0.0 {
        return Err(CoreError::invalid("direction", format!("{a:?} cannot be normalised")));
    }
    Ok(a.map(|x| x / n))
}

/// A proper rotation (orthonormal, determinant +1) acting on column vectors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rotation {
    matrix: [[f64; 3]; 3],
}

impl Default for Rotation {
    fn default() -> Self {
        Self::identity()
    }
}

impl Rotation {
    /// Tolerance on orthonormality accepted by [`Rotation::from_matrix`] (files store float64).
    pub const TOLERANCE: f64 = 1e-6;

    /// The identity.
    pub fn identity() -> Self {
        Self { matrix: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] }
    }

    /// Wraps a row-major matrix, checking that it is a proper rotation within [`Rotation::TOLERANCE`].
    pub fn from_matrix(matrix: [[f64; 3]; 3]) -> Result<Self, CoreError> {
        let r = Self { matrix };
        let p = r.compose(&r.transpose());
        for (i, row) in p.matrix.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let expected = if i == j { 1.0 } else { 0.0 };
                if !v.is_finite() || (v - expected).abs() > Self::TOLERANCE {
                    return Err(CoreError::invalid("rotation", format!("{matrix:?} is not orthonormal")));
                }
            }
        }
        let det = dot(matrix[0], cross(matrix[1], matrix[2]));
        if (det - 1.0).abs() > Self::TOLERANCE {
            return Err(CoreError::invalid("rotation", format!("determinant {det} is not +1")));
        }
        Ok(r)
    }

    /// Rotation by `angle_rad` about `axis` (right-hand rule).
    pub fn about_axis(axis: Vec3, angle_rad: f64) -> Result<Self, CoreError> {
        let [x, y, z] = normalize(axis)?;
        let (s, c) = angle_rad.sin_cos();
        let t = 1.0 - c;
        Ok(Self {
            matrix: [
                [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
                [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
                [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
            ],
        })
    }

    /// The rotation taking `axis` to +z, with the new x axis along the line of nodes `z x axis`
    /// (the box x axis when `axis` is parallel to z). This is how `rotation_to_aligned` is built from the stellar
    /// angular momentum.
    pub fn aligning_to_z(axis: Vec3) -> Result<Self, CoreError> {
        let z_new = normalize(axis)?;
        let nodes = cross([0.0, 0.0, 1.0], z_new);
        let x_new = if norm(nodes) < 1e-12 { [1.0, 0.0, 0.0] } else { normalize(nodes)? };
        let y_new = cross(z_new, x_new);
        // Near the poles the line of nodes is ill-defined; re-orthogonalise x against z for safety.
        let x_new = cross(y_new, z_new);
        let y_new = normalize(y_new)?;
        let x_new = normalize(x_new)?;
        Self::from_matrix([x_new, y_new, z_new])
    }

    /// A rotation drawn uniformly from SO(3) (uniform random unit quaternion), deterministic for a seed.
    pub fn random(seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (u1, u2, u3): (f64, f64, f64) = (rng.random(), rng.random(), rng.random());
        let tau = std::f64::consts::TAU;
        let (a, b) = ((1.0 - u1).sqrt(), u1.sqrt());
        let q = [a * (tau * u2).sin(), a * (tau * u2).cos(), b * (tau * u3).sin(), b * (tau * u3).cos()];
        let [w, x, y, z] = q;
        Self {
            matrix: [
                [1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y - z * w), 2.0 * (x * z + y * w)],
                [2.0 * (x * y + z * w), 1.0 - 2.0 * (x * x + z * z), 2.0 * (y * z - x * w)],
                [2.0 * (x * z - y * w), 2.0 * (y * z + x * w), 1.0 - 2.0 * (x * x + y * y)],
            ],
        }
    }

    /// The row-major matrix.
    pub fn matrix(&self) -> [[f64; 3]; 3] {
        self.matrix
    }

    /// The inverse rotation.
    pub fn transpose(&self) -> Self {
        let m = self.matrix;
        Self { matrix: [[m[0][0], m[1][0], m[2][0]], [m[0][1], m[1][1], m[2][1]], [m[0][2], m[1][2], m[2][2]]] }
    }

    /// `self * other`: apply `other` first, then `self`.
    pub fn compose(&self, other: &Rotation) -> Self {
        let (a, b) = (self.matrix, other.matrix);
        let mut m = [[0.0; 3]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
            }
        }
        Self { matrix: m }
    }

    /// Rotates one vector.
    pub fn apply(&self, v: Vec3) -> Vec3 {
        let m = self.matrix;
        [dot(m[0], v), dot(m[1], v), dot(m[2], v)]
    }

    /// Rotates every row of an (N, 3) array.
    pub fn apply_rows(&self, rows: &Array2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros(rows.raw_dim());
        for (row, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
            let r = self.apply([row[0], row[1], row[2]]);
            o[0] = r[0];
            o[1] = r[1];
            o[2] = r[2];
        }
        out
    }
}

/// A line of sight with its sky-plane basis (see the module conventions).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LineOfSight {
    n: Vec3,
    e1: Vec3,
    e2: Vec3,
}

impl LineOfSight {
    /// The line of sight along `direction` (normalised), with the spherical sky basis.
    pub fn new(direction: Vec3) -> Result<Self, CoreError> {
        let n = normalize(direction)?;
        let theta = n[2].clamp(-1.0, 1.0).acos();
        let phi = if n[0] == 0.0 && n[1] == 0.0 { 0.0 } else { n[1].atan2(n[0]) };
        let mut los = Self::from_angles(theta, phi);
        los.n = n;
        Ok(los)
    }

    /// The line of sight at polar angle `theta_rad` from +z and azimuth `phi_rad` from +x.
    pub fn from_angles(theta_rad: f64, phi_rad: f64) -> Self {
        let (st, ct) = theta_rad.sin_cos();
        let (sp, cp) = phi_rad.sin_cos();
        Self { n: [st * cp, st * sp, ct], e1: [ct * cp, ct * sp, -st], e2: [-sp, cp, 0.0] }
    }

    /// A line of sight with an explicit first sky axis; `e1` must be perpendicular to `direction`.
    pub fn with_basis(direction: Vec3, e1: Vec3) -> Result<Self, CoreError> {
        let n = normalize(direction)?;
        let e1 = normalize(e1)?;
        if dot(n, e1).abs() > 1e-9 {
            return Err(CoreError::invalid("e1", "the first sky axis must be perpendicular to the line of sight"));
        }
        Ok(Self { n, e1, e2: cross(n, e1) })
    }

    /// The unit vector from the observer towards the galaxy.
    pub fn direction(&self) -> Vec3 {
        self.n
    }

    /// The sky-plane basis `(e1, e2)`, with `e1 x e2 = n`.
    pub fn sky_basis(&self) -> (Vec3, Vec3) {
        (self.e1, self.e2)
    }

    /// The same line of sight expressed after applying `rotation` to all three vectors.
    pub fn rotated(&self, rotation: &Rotation) -> Self {
        Self { n: rotation.apply(self.n), e1: rotation.apply(self.e1), e2: rotation.apply(self.e2) }
    }

    /// Sky-plane coordinates `(p . e1, p . e2)` of a position.
    pub fn project(&self, pos: Vec3) -> (f64, f64) {
        (dot(pos, self.e1), dot(pos, self.e2))
    }

    /// Line-of-sight velocity `v . n`, positive receding.
    pub fn v_los(&self, vel: Vec3) -> f64 {
        dot(vel, self.n)
    }

    /// Sky-plane coordinates of every row of an (N, 3) position array.
    pub fn project_rows(&self, pos: &Array2<f64>) -> (Array1<f64>, Array1<f64>) {
        let x = pos.rows().into_iter().map(|p| dot([p[0], p[1], p[2]], self.e1)).collect();
        let y = pos.rows().into_iter().map(|p| dot([p[0], p[1], p[2]], self.e2)).collect();
        (x, y)
    }

    /// Line-of-sight velocities of every row of an (N, 3) velocity array.
    pub fn v_los_rows(&self, vel: &Array2<f64>) -> Array1<f64> {
        vel.rows().into_iter().map(|v| dot([v[0], v[1], v[2]], self.n)).collect()
    }

    /// Inclination in degrees of this line of sight relative to a galaxy whose `rotation_to_aligned` is given:
    /// the angle between `n` and the stellar angular momentum (0 face-on, 90 edge-on, up to 180).
    pub fn inclination_deg(&self, rotation_to_aligned: &Rotation) -> f64 {
        let spin = rotation_to_aligned.transpose().apply([0.0, 0.0, 1.0]);
        dot(self.n, spin).clamp(-1.0, 1.0).acos().to_degrees()
    }
}

/// A set of lines of sight: how a galaxy is projected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DirectionSet {
    /// `n` directions quasi-uniform on the unit sphere (Fibonacci lattice; sarrato2025 §2 says "uniformly
    /// distributed along the unit sphere" without naming a scheme, this is our choice).
    Fibonacci {
        /// Number of directions.
        n: usize,
    },
    /// `n` inclinations spaced linearly from `min_deg` to `max_deg` (inclusive) relative to the stellar angular
    /// momentum, at a fixed azimuth about it (exposito2026 §2: "projections of increasing inclination").
    InclinationSeries {
        /// Number of directions.
        n: usize,
        /// First inclination in degrees (0 face-on).
        min_deg: f64,
        /// Last inclination in degrees (90 edge-on).
        max_deg: f64,
        /// Azimuth about the angular momentum in degrees, from the line of nodes.
        azimuth_deg: f64,
    },
    /// The three box axes x, y, z (chu2024 §2).
    BoxAxes,
    /// `n` directions drawn uniformly on the sphere from `seed`.
    Random {
        /// Number of directions.
        n: usize,
        /// Seed of the generator (ChaCha8).
        seed: u64,
    },
}

impl DirectionSet {
    /// The lines of sight in the box frame. `rotation_to_aligned` matters only for inclination series.
    pub fn directions(&self, rotation_to_aligned: &Rotation) -> Result<Vec<LineOfSight>, CoreError> {
        match *self {
            DirectionSet::Fibonacci { n } => {
                check_count(n)?;
                let golden_angle = std::f64::consts::PI * (3.0 - 5f64.sqrt());
                (0..n)
                    .map(|k| {
                        let z = 1.0 - (2 * k + 1) as f64 / n as f64;
                        let phi = (k as f64 * golden_angle).rem_euclid(std::f64::consts::TAU);
                        Ok(LineOfSight::from_angles(z.clamp(-1.0, 1.0).acos(), phi))
                    })
                    .collect()
            }
            DirectionSet::InclinationSeries { n, min_deg, max_deg, azimuth_deg } => {
                check_count(n)?;
                for (name, v) in [("min_deg", min_deg), ("max_deg", max_deg)] {
                    if !(0.0..=180.0).contains(&v) {
                        return Err(CoreError::invalid(name, format!("{v} is outside 0..=180 degrees")));
                    }
                }
                if !azimuth_deg.is_finite() {
                    return Err(CoreError::invalid("azimuth_deg", "must be finite"));
                }
                let to_box = rotation_to_aligned.transpose();
                Ok((0..n)
                    .map(|k| {
                        let f = if n == 1 { 0.0 } else { k as f64 / (n - 1) as f64 };
                        let inc = min_deg + f * (max_deg - min_deg);
                        LineOfSight::from_angles(inc.to_radians(), azimuth_deg.to_radians()).rotated(&to_box)
                    })
                    .collect())
            }
            DirectionSet::BoxAxes => Ok(vec![
                LineOfSight { n: [1.0, 0.0, 0.0], e1: [0.0, 1.0, 0.0], e2: [0.0, 0.0, 1.0] },
                LineOfSight { n: [0.0, 1.0, 0.0], e1: [0.0, 0.0, 1.0], e2: [1.0, 0.0, 0.0] },
                LineOfSight { n: [0.0, 0.0, 1.0], e1: [1.0, 0.0, 0.0], e2: [0.0, 1.0, 0.0] },
            ]),
            DirectionSet::Random { n, seed } => {
                check_count(n)?;
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                Ok((0..n)
                    .map(|_| {
                        let z: f64 = rng.random_range(-1.0..=1.0);
                        let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                        LineOfSight::from_angles(z.acos(), phi)
                    })
                    .collect())
            }
        }
    }
}

fn check_count(n: usize) -> Result<(), CoreError> {
    if n == 0 {
        return Err(CoreError::invalid("n", "a direction set needs at least one direction"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use rand::Rng;

    fn assert_right_handed(los: &LineOfSight) {
        let n = los.direction();
        let (e1, e2) = los.sky_basis();
        for (a, b, expected) in [(n, n, 1.0), (e1, e1, 1.0), (e2, e2, 1.0), (n, e1, 0.0), (n, e2, 0.0), (e1, e2, 0.0)] {
            assert_abs_diff_eq!(dot(a, b), expected, epsilon = 1e-12);
        }
        let c = cross(e1, e2);
        for k in 0..3 {
            assert_abs_diff_eq!(c[k], n[k], epsilon = 1e-12);
        }
    }

    #[test]
    fn every_direction_set_has_right_handed_orthonormal_sky_basis() {
        let tilted = Rotation::random(3);
        let sets = [
            DirectionSet::Fibonacci { n: 64 },
            DirectionSet::Fibonacci { n: 1 },
            DirectionSet::InclinationSeries { n: 12, min_deg: 0.0, max_deg: 180.0, azimuth_deg: 30.0 },
            DirectionSet::BoxAxes,
            DirectionSet::Random { n: 100, seed: 7 },
        ];
        for set in &sets {
            for rot in [Rotation::identity(), tilted] {
                for los in set.directions(&rot).unwrap() {
                    assert_right_handed(&los);
                }
            }
        }
        // The poles, and directions given as vectors.
        for d in [[0.0, 0.0, 1.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0], [-2.0, 3.0, 0.5], [1e-300, 0.0, -1.0]] {
            assert_right_handed(&LineOfSight::new(d).unwrap());
        }
        let up = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        assert_eq!(up.sky_basis(), ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]));
        assert!(LineOfSight::new([0.0, 0.0, 0.0]).is_err());
        assert!(LineOfSight::new([f64::NAN, 0.0, 1.0]).is_err());
    }

    #[test]
    fn v_los_positive_when_receding() {
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        // Moving along n, i.e. away from an observer who looks along n.
        assert!(los.v_los([0.0, 0.0, 5.0]) > 0.0);
        assert!(los.v_los([0.0, 0.0, -5.0]) < 0.0);
    }

    #[test]
    fn fibonacci_directions_are_uniform() {
        let lines = DirectionSet::Fibonacci { n: 2000 }.directions(&Rotation::identity()).unwrap();
        // Uniform on the sphere: <n> = 0 and <n_i n_j> = delta_ij / 3.
        for i in 0..3 {
            let mean: f64 = lines.iter().map(|l| l.direction()[i]).sum::<f64>() / 2000.0;
            assert_abs_diff_eq!(mean, 0.0, epsilon = 2e-3);
            for j in 0..3 {
                let m: f64 = lines.iter().map(|l| l.direction()[i] * l.direction()[j]).sum::<f64>() / 2000.0;
                assert_abs_diff_eq!(m, if i == j { 1.0 / 3.0 } else { 0.0 }, epsilon = 2e-3);
            }
        }
    }

    #[test]
    fn random_directions_are_seeded() {
        let a = DirectionSet::Random { n: 5, seed: 1 }.directions(&Rotation::identity()).unwrap();
        let b = DirectionSet::Random { n: 5, seed: 1 }.directions(&Rotation::identity()).unwrap();
        let c = DirectionSet::Random { n: 5, seed: 2 }.directions(&Rotation::identity()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn rotations_compose_and_align() {
        let r = Rotation::random(11);
        Rotation::from_matrix(r.matrix()).unwrap();
        let id = r.compose(&r.transpose());
        for i in 0..3 {
            for j in 0..3 {
                assert_abs_diff_eq!(id.matrix()[i][j], if i == j { 1.0 } else { 0.0 }, epsilon = 1e-12);
            }
        }
        let spin = [0.3, -0.4, 0.8];
        let align = Rotation::aligning_to_z(spin).unwrap();
        let z = align.apply(normalize(spin).unwrap());
        assert_abs_diff_eq!(z[2], 1.0, epsilon = 1e-12);
        let q = Rotation::about_axis([0.0, 0.0, 1.0], std::f64::consts::FRAC_PI_2).unwrap();
        let y = q.apply([1.0, 0.0, 0.0]);
        assert_abs_diff_eq!(y[1], 1.0, epsilon = 1e-12);
        assert!(Rotation::from_matrix([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]]).is_err());
        assert!(Rotation::aligning_to_z([0.0, 0.0, -2.0]).is_ok());
    }

    /// A thin disc seen at inclination i has projected axis ratio cos i.
    #[test]
    fn disc_axis_ratio_is_cos_inclination() {
        let n_points = 100_000;
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let spin_frame = Rotation::random(5); // box -> aligned
        let to_box = spin_frame.transpose();
        let disc: Vec<Vec3> = (0..n_points)
            .map(|_| {
                let r: f64 = rng.random::<f64>().sqrt();
                let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                to_box.apply([r * phi.cos(), r * phi.sin(), 0.0])
            })
            .collect();
        let set = DirectionSet::InclinationSeries { n: 7, min_deg: 0.0, max_deg: 90.0, azimuth_deg: 40.0 };
        for los in set.directions(&spin_frame).unwrap() {
            let inc = los.inclination_deg(&spin_frame);
            let (mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0);
            for p in &disc {
                let (x, y) = los.project(*p);
                sxx += x * x;
                syy += y * y;
                sxy += x * y;
            }
            let tr = sxx + syy;
            let det = sxx * syy - sxy * sxy;
            let disc_term = (tr * tr / 4.0 - det).max(0.0).sqrt();
            let (l_max, l_min) = (tr / 2.0 + disc_term, (tr / 2.0 - disc_term).max(0.0));
            let axis_ratio = (l_min / l_max).sqrt();
            assert_abs_diff_eq!(axis_ratio, inc.to_radians().cos(), epsilon = 0.01);
        }
    }
}
