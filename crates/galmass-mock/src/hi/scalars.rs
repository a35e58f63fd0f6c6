//! The gas scalars of exposito2026 (§3.2): the radius R_HI where the face-on HI surface density drops below
//! 1 Msun/pc^2, the rotation velocity of the cold gas there, and the mean cold-gas velocity dispersion inside it.
//!
//! Measured on the particles, in the face-on frame of the HI (the HI-mass-weighted angular momentum of the gas
//! along +z), with HI masses as the weights (the HI is the cold gas, as exposito2026 uses it):
//! - **R_HI**: the gas is sorted by cylindrical radius and cut into [`ANNULI`] annuli of equal particle number
//!   (at least [`PARTICLES_PER_ANNULUS`] particles each, and at least 8 annuli); `Sigma_HI` of each annulus is its HI mass over its area; R_HI is the outermost radius where
//!   `Sigma_HI` falls through 1 Msun/pc^2, `log Sigma` interpolated linearly in R between annulus mid-radii. A disc
//!   still above 1 Msun/pc^2 in its outermost annulus gives that annulus's outer edge (and `reaches_edge`); a disc
//!   never reaching 1 Msun/pc^2 is an error.
//! - **v_cold**: the HI-weighted mean rotation velocity `v_phi` of the gas within 10% of R_HI (widened to 25% and
//!   50% when fewer than 16 particles lie there).
//! - **sigma_cold**: the HI-weighted line-of-sight dispersion a face-on observer sees inside R_HI:
//!   `sqrt(<(v_z - <v_z>)^2> + <k T / m_p>)`, the thermal term from `TemperatureK` when present (our reading of
//!   "mean cold gas velocity dispersion within the same region"; the paper gives no formula).
//!
//! ```
//! use galmass_core::particles::{Particles, ScalarField};
//! use galmass_mock::hi::scalars::gas_scalars;
//! use ndarray::{Array1, Array2};
//! // A uniform disc of 1e8 Msun of HI and radius 5 kpc: Sigma = 1.27 Msun/pc^2 inside, so R_HI is its edge.
//! let n = 4000;
//! let mut pos = Array2::zeros((n, 3));
//! let mut vel = Array2::zeros((n, 3));
//! for i in 0..n {
//!     let (r, phi) = (5.0 * ((i as f64 + 0.5) / n as f64).sqrt(), i as f64 * 2.399963);
//!     pos[[i, 0]] = r * phi.cos();
//!     pos[[i, 1]] = r * phi.sin();
//!     vel[[i, 0]] = -100.0 * phi.sin();
//!     vel[[i, 1]] = 100.0 * phi.cos();
//! }
//! let mut gas = Particles::new(pos, vel, Array1::from_elem(n, 2.5e4)).unwrap();
//! gas.set_field(ScalarField::HiMassMsun, Array1::from_elem(n, 2.5e4)).unwrap();
//! let s = gas_scalars(&gas).unwrap();
//! assert!((s.v_cold_kms - 100.0).abs() < 0.5);
//! assert!(s.r_hi_kpc > 4.5 && s.r_hi_kpc <= 5.0);
//! ```

use galmass_core::geometry::Rotation;
use galmass_core::particles::{Particles, ScalarField};
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::line::THERMAL_KMS2_PER_K;

/// Fewest particles per annulus of the surface-density profile.
pub const PARTICLES_PER_ANNULUS: usize = 64;

/// Annuli of the surface-density profile when the gas has more than `ANNULI * PARTICLES_PER_ANNULUS` particles
/// (fewer, larger annuli keep the Poisson noise of the outermost crossing small).
pub const ANNULI: usize = 64;

/// The surface density that defines R_HI, Msun/pc^2 (exposito2026).
pub const R_HI_SURFACE_DENSITY_MSUN_PC2: f64 = 1.0;

/// The gas scalars of one galaxy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GasScalars {
    /// Radius where the face-on HI surface density drops below 1 Msun/pc^2, kpc.
    pub r_hi_kpc: f64,
    /// HI-weighted mean rotation velocity at R_HI, km/s.
    pub v_cold_kms: f64,
    /// HI-weighted face-on velocity dispersion inside R_HI, km/s.
    pub sigma_cold_kms: f64,
    /// Whether the thermal width entered sigma_cold (the gas had temperatures).
    pub includes_thermal: bool,
    /// Whether the HI was still above 1 Msun/pc^2 in the outermost annulus (R_HI is then a lower limit).
    pub reaches_edge: bool,
}

/// The gas scalars of `gas` (centred on the galaxy, fields `HiMassMsun` and optionally `TemperatureK`).
pub fn gas_scalars(gas: &Particles) -> Result<GasScalars, MockError> {
    let hi = gas.field(ScalarField::HiMassMsun).ok_or_else(|| MockError::BadInput {
        name: "gas",
        expected: "the gas field `hi_mass_msun`".into(),
        got: "no such field in the galaxy".into(),
    })?;
    let emitting: Vec<usize> = (0..gas.len()).filter(|&i| hi[i] > 0.0).collect();
    let needed = 8 * PARTICLES_PER_ANNULUS.min(16);
    if emitting.len() < needed {
        return Err(MockError::TooFewPoints { what: "gas scalars".into(), needed, got: emitting.len() });
    }
    let face_on = face_on_rotation(gas, hi.as_slice().unwrap_or(&[]), &emitting)?;
    let temperature = gas.field(ScalarField::TemperatureK);
    // (R, v_phi, v_z, m, thermal variance) in the face-on frame.
    let mut rows: Vec<[f64; 5]> = emitting
        .iter()
        .map(|&i| {
            let p = face_on.apply([gas.pos_kpc()[[i, 0]], gas.pos_kpc()[[i, 1]], gas.pos_kpc()[[i, 2]]]);
            let v = face_on.apply([gas.vel_kms()[[i, 0]], gas.vel_kms()[[i, 1]], gas.vel_kms()[[i, 2]]]);
            let r = p[0].hypot(p[1]);
            let v_phi = if r > 0.0 { (p[0] * v[1] - p[1] * v[0]) / r } else { 0.0 };
            let thermal = temperature.map_or(0.0, |t| THERMAL_KMS2_PER_K * t[i].max(0.0));
            [r, v_phi, v[2], hi[i], thermal]
        })
        .collect();
    rows.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (r_hi_kpc, reaches_edge) = r_hi_of_sorted(&rows)?;
    let v_cold_kms = v_cold(&rows, r_hi_kpc);
    let inside: Vec<&[f64; 5]> = rows.iter().filter(|r| r[0] <= r_hi_kpc).collect();
    let w: f64 = inside.iter().map(|r| r[3]).sum();
    let mean_vz = inside.iter().map(|r| r[3] * r[2]).sum::<f64>() / w;
    let var_vz = inside.iter().map(|r| r[3] * (r[2] - mean_vz).powi(2)).sum::<f64>() / w;
    let thermal = inside.iter().map(|r| r[3] * r[4]).sum::<f64>() / w;
    Ok(GasScalars {
        r_hi_kpc,
        v_cold_kms,
        sigma_cold_kms: (var_vz + thermal).sqrt(),
        includes_thermal: temperature.is_some(),
        reaches_edge,
    })
}

/// The rotation putting the HI-weighted angular momentum of the emitting gas along +z.
fn face_on_rotation(gas: &Particles, hi: &[f64], emitting: &[usize]) -> Result<Rotation, MockError> {
    let (pos, vel) = (gas.pos_kpc(), gas.vel_kms());
    let mut l = [0.0; 3];
    for &i in emitting {
        let m = hi.get(i).copied().unwrap_or(0.0);
        let (p, v) = ([pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]], [vel[[i, 0]], vel[[i, 1]], vel[[i, 2]]]);
        let j = galmass_core::geometry::cross(p, v);
        for k in 0..3 {
            l[k] += m * j[k];
        }
    }
    if galmass_core::geometry::norm(l) == 0.0 {
        return Ok(Rotation::identity());
    }
    Ok(Rotation::aligning_to_z(l)?)
}

/// R_HI from rows sorted by R; `true` when the profile is still above the threshold at the edge.
fn r_hi_of_sorted(rows: &[[f64; 5]]) -> Result<(f64, bool), MockError> {
    let per = PARTICLES_PER_ANNULUS.max(rows.len() / ANNULI).min(rows.len() / 8).max(1);
    // (mid-radius, Sigma in Msun/pc^2, outer edge) per annulus.
    let mut annuli = Vec::new();
    let mut inner = 0.0;
    for chunk in rows.chunks(per) {
        let outer = chunk[chunk.len() - 1][0];
        let area_pc2 = std::f64::consts::PI * (outer * outer - inner * inner) * 1e6;
        let mass: f64 = chunk.iter().map(|r| r[3]).sum();
        if area_pc2 > 0.0 {
            annuli.push((((inner * inner + outer * outer) / 2.0).sqrt(), mass / area_pc2, outer));
        }
        inner = outer;
    }
    let threshold = R_HI_SURFACE_DENSITY_MSUN_PC2;
    let Some(last_above) = annuli.iter().rposition(|a| a.1 >= threshold) else {
        return Err(MockError::BadInput {
            name: "gas",
            expected: format!("an HI surface density reaching {threshold} Msun/pc^2 somewhere"),
            got: format!("at most {:.3} Msun/pc^2", annuli.iter().map(|a| a.1).fold(0.0, f64::max)),
        });
    };
    if last_above + 1 == annuli.len() {
        return Ok((annuli[last_above].2, true));
    }
    let (a, b) = (annuli[last_above], annuli[last_above + 1]);
    let (la, lb) = (a.1.ln(), b.1.max(1e-300).ln());
    let t = if la > lb { (la - threshold.ln()) / (la - lb) } else { 0.0 };
    Ok((a.0 + t.clamp(0.0, 1.0) * (b.0 - a.0), false))
}

/// HI-weighted mean v_phi within 10% of `r_hi` (widened when fewer than 16 particles lie there).
fn v_cold(rows: &[[f64; 5]], r_hi: f64) -> f64 {
    for width in [0.1, 0.25, 0.5, 1.0] {
        let ring: Vec<&[f64; 5]> = rows.iter().filter(|r| (r[0] - r_hi).abs() <= width * r_hi).collect();
        if ring.len() >= 16 || width == 1.0 {
            let w: f64 = ring.iter().map(|r| r[3]).sum();
            return if w > 0.0 { ring.iter().map(|r| r[3] * r[1]).sum::<f64>() / w } else { f64::NAN };
        }
    }
    f64::NAN
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// An exponential HI disc (mass `m`, scale length `rd`), tilted, rotating at 80 km/s with vertical dispersion
    /// 10 km/s.
    fn tilted_exponential_disc(n: usize, m: f64, rd: f64) -> Particles {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let tilt = Rotation::about_axis([1.0, 0.0, 0.0], 0.7).unwrap();
        let mut pos = Array2::zeros((n, 3));
        let mut vel = Array2::zeros((n, 3));
        for i in 0..n {
            let r = -rd * (rng.random::<f64>() * rng.random::<f64>()).ln();
            let phi = rng.random::<f64>() * std::f64::consts::TAU;
            let g: f64 = rand_distr::Distribution::sample(&rand_distr::StandardNormal, &mut rng);
            let p = tilt.apply([r * phi.cos(), r * phi.sin(), 0.0]);
            let v = tilt.apply([-80.0 * phi.sin(), 80.0 * phi.cos(), 10.0 * g]);
            for k in 0..3 {
                pos[[i, k]] = p[k];
                vel[[i, k]] = v[k];
            }
        }
        let mut gas = Particles::new(pos, vel, Array1::from_elem(n, m / n as f64)).unwrap();
        gas.set_field(ScalarField::HiMassMsun, Array1::from_elem(n, m / n as f64)).unwrap();
        gas
    }

    #[test]
    fn scalars_of_an_exponential_disc_match_the_analytic_values() {
        // Sigma(R) = M / (2 pi rd^2) exp(-R / rd): with M = 2e9 and rd = 2 kpc, Sigma(0) = 79.6 Msun/pc^2 and R_HI =
        // rd ln(79.6) = 8.75 kpc.
        let (m, rd) = (2e9, 2.0);
        let gas = tilted_exponential_disc(60_000, m, rd);
        let s = gas_scalars(&gas).unwrap();
        let expected = rd * (m / (2.0 * std::f64::consts::PI * rd * rd * 1e6)).ln();
        assert!((s.r_hi_kpc / expected - 1.0).abs() < 0.03, "{} vs {expected}", s.r_hi_kpc);
        assert!((s.v_cold_kms - 80.0).abs() < 1.0, "{}", s.v_cold_kms);
        assert!((s.sigma_cold_kms - 10.0).abs() < 0.3, "{}", s.sigma_cold_kms);
        assert!(!s.includes_thermal && !s.reaches_edge);
        let mut with_t = gas.clone();
        with_t.set_field(ScalarField::TemperatureK, Array1::from_elem(with_t.len(), 1e4)).unwrap();
        let t = gas_scalars(&with_t).unwrap();
        assert!((t.sigma_cold_kms - (100.0 + THERMAL_KMS2_PER_K * 1e4).sqrt()).abs() < 0.3);
    }

    #[test]
    fn too_little_hi_is_an_error() {
        let gas = tilted_exponential_disc(2000, 1e5, 2.0);
        assert!(gas_scalars(&gas).unwrap_err().to_string().contains("Msun/pc^2"));
        let few = tilted_exponential_disc(20, 1e9, 2.0);
        assert!(matches!(gas_scalars(&few), Err(MockError::TooFewPoints { .. })));
    }
}
