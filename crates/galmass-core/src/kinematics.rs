//! Whole-galaxy kinematic quantities shared by the generators (galmass-synth) and the selection filters of the
//! snapshot readers: the stellar-angular-momentum frame and kappa_co.
//!
//! - `rotation_to_aligned`: the rotation taking the total angular momentum of the stars within 30 kpc to +z
//!   ([`Rotation::aligning_to_z`]); the identity when it vanishes.
//! - kappa_co (Correa et al. 2017, used by sarrato2025 §2 to select dispersion-supported galaxies, kappa_co < 0.5):
//!   the kinetic energy in ordered rotation, `m j_z^2 / (2 R^2)`, of co-rotating stars (`j_z > 0`) within 30 kpc,
//!   over the total kinetic energy of the stars within 30 kpc.
//!
//! ```
//! use galmass_core::kinematics::{aligned_frame_and_kappa_co, KAPPA_APERTURE_KPC};
//! use galmass_core::Particles;
//! use ndarray::array;
//! // Two stars on a circular orbit about z: all kinetic energy is ordered rotation.
//! let stars = Particles::new(array![[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]], array![[0.0, 10.0, 0.0], [0.0, -10.0, 0.0]], array![1.0, 1.0]).unwrap();
//! let (_, kappa) = aligned_frame_and_kappa_co(&stars).unwrap();
//! assert!((kappa - 1.0).abs() < 1e-12 && KAPPA_APERTURE_KPC == 30.0);
//! ```

use crate::error::CoreError;
use crate::geometry::{cross, norm, Rotation};
use crate::particles::Particles;

/// Spherical aperture of the angular momentum and of kappa_co, kpc (Correa et al. 2017).
pub const KAPPA_APERTURE_KPC: f64 = 30.0;

/// The stars' `rotation_to_aligned` and kappa_co, both within [`KAPPA_APERTURE_KPC`] of the centre.
pub fn aligned_frame_and_kappa_co(stars: &Particles) -> Result<(Rotation, f64), CoreError> {
    let (pos, vel, mass) = (stars.pos_kpc(), stars.vel_kms(), stars.mass_msun());
    let radii = stars.radii_kpc();
    let inside: Vec<usize> = (0..stars.len()).filter(|&i| radii[i] < KAPPA_APERTURE_KPC).collect();
    let mut l = [0.0; 3];
    for &i in &inside {
        let c = cross([pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]], [vel[[i, 0]], vel[[i, 1]], vel[[i, 2]]]);
        for k in 0..3 {
            l[k] += mass[i] * c[k];
        }
    }
    let rotation = if norm(l) > 0.0 { Rotation::aligning_to_z(l)? } else { Rotation::identity() };
    let (mut k_rot, mut k_total) = (0.0, 0.0);
    for &i in &inside {
        let p = rotation.apply([pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]]);
        let v = rotation.apply([vel[[i, 0]], vel[[i, 1]], vel[[i, 2]]]);
        let r_cyl2 = p[0] * p[0] + p[1] * p[1];
        let jz = p[0] * v[1] - p[1] * v[0];
        k_total += 0.5 * mass[i] * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        if jz > 0.0 && r_cyl2 > 0.0 {
            k_rot += 0.5 * mass[i] * jz * jz / r_cyl2;
        }
    }
    Ok((rotation, if k_total > 0.0 { k_rot / k_total } else { 0.0 }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn a_tilted_rotating_ring_is_aligned_and_fully_rotating() {
        let n = 360;
        let tilt = Rotation::random(9);
        let mut pos = Array2::zeros((n, 3));
        let mut vel = Array2::zeros((n, 3));
        for i in 0..n {
            let phi = (i as f64).to_radians();
            let p = tilt.apply([2.0 * phi.cos(), 2.0 * phi.sin(), 0.0]);
            let v = tilt.apply([-50.0 * phi.sin(), 50.0 * phi.cos(), 0.0]);
            for k in 0..3 {
                pos[[i, k]] = p[k];
                vel[[i, k]] = v[k];
            }
        }
        let stars = Particles::new(pos, vel, ndarray::Array1::from_elem(n, 1.0)).unwrap();
        let (rotation, kappa) = aligned_frame_and_kappa_co(&stars).unwrap();
        assert!((kappa - 1.0).abs() < 1e-12);
        let spin = rotation.apply(tilt.apply([0.0, 0.0, 1.0]));
        assert!((spin[2] - 1.0).abs() < 1e-12);
        // Counter-rotating half: kappa_co counts only co-rotating stars.
        let mut vel2 = stars.vel_kms().clone();
        for i in 0..n / 4 {
            for k in 0..3 {
                vel2[[i, k]] = -vel2[[i, k]];
            }
        }
        let mixed = Particles::new(stars.pos_kpc().clone(), vel2, ndarray::Array1::from_elem(n, 1.0)).unwrap();
        let (_, kappa_mixed) = aligned_frame_and_kappa_co(&mixed).unwrap();
        assert!((kappa_mixed - 0.75).abs() < 1e-9, "{kappa_mixed}");
    }
}
