//! Orbital circularities of star particles and chu2024's kinematic B/T, f_cold and f_hot (Table 1, after Xu et al.
//! 2019, MNRAS 489, 842).
//!
//! Circularity `eps = j_z / j_c(E)` (energy based, Abadi et al. 2003, ApJ 597, 21): `j_z` the specific angular
//! momentum along the total angular momentum of the stars in the aperture (mass weighted; the z axis when that
//! vanishes), `E = v^2 / 2 + Phi` in the galaxy's rest frame, `j_c(E) = r_c v_c(r_c)` the angular momentum of the
//! circular orbit of energy E, `r_c` solving `E_c(r) = Phi(r) + v_c(r)^2 / 2 = E` by bisection (`E_c` rises with r).
//!
//! The potential is the monopole of every species of the galaxy (stars, gas, dark matter, black holes:
//! [`SphericalMass`]): `Phi(r) = -G M(<r) / r - G sum_{r_i > r} m_i / r_i`, `v_c^2 = G M(<r) / r`, with
//! `G` = [`G_KPC_KMS2_PER_MSUN`]. When the stars carry the simulation's potential ([`ScalarField::PotentialKms2`]),
//! a star's E uses its own stored value (which keeps the non-spherical part), and the circular orbits stay those of
//! the monopole above (v_c from the enclosed mass of all species), shifted to the snapshot's zero point by the
//! median over the stars of `stored - monopole` ([`PotentialSource::Stored`]).
//!
//! Edge cases: a star bound at least as tightly as the circular orbit at the innermost particle's radius (the
//! innermost particle at rest, or a stored potential deeper than the monopole's centre) has no circular orbit of
//! its energy and gets `eps = 0` (counted in [`Circularities::n_capped`]); so does a star with `E >= 0` (unbound
//! in the monopole's zero point; [`Circularities::n_unbound`]). |eps| may exceed 1 by the monopole's error.
//!
//! ```
//! use galmass_mock::features::CircularityFractions;
//! let f = CircularityFractions::from_circularities(&[1.0, 0.9, -0.1, 0.1], &[1.0; 4]);
//! assert_eq!((f.kinematic_bt, f.f_cold, f.f_hot), (0.5, 0.5, 0.5));
//! ```

use galmass_core::geometry::{cross, dot};
use galmass_core::numeric::roots::bisect_monotonic;
use galmass_core::particles::ScalarField;
use galmass_core::units::G_KPC_KMS2_PER_MSUN;
use galmass_core::{Galaxy, Particles};

use crate::error::MockError;

/// f_cold counts circularities above this (chu2024 Table 1).
pub const COLD_MIN: f64 = 0.8;
/// f_hot counts |circularity| below this (chu2024 Table 1).
pub const HOT_MAX: f64 = 0.25;

/// The spherically averaged (monopole) mass distribution of a set of particles.
#[derive(Debug, Clone)]
pub struct SphericalMass {
    /// Radii, sorted.
    radii: Vec<f64>,
    /// Mass at or inside `radii[k]`.
    cumulative: Vec<f64>,
    /// `sum_{j > k} m_j / r_j`.
    outer: Vec<f64>,
    /// `sum_j m_j / r_j`.
    outer_all: f64,
}

impl SphericalMass {
    /// The monopole of every species of `galaxy`.
    ///
    /// Errors: no particles with mass.
    pub fn of_galaxy(galaxy: &Galaxy) -> Result<Self, MockError> {
        let mut shells: Vec<(f64, f64)> = Vec::new();
        for (_, part) in galaxy.all_species() {
            shells.extend(part.radii_kpc().iter().copied().zip(part.mass_msun().iter().copied()));
        }
        Self::from_shells(shells)
    }

    /// The monopole of particles at `(radius kpc, mass Msun)`.
    ///
    /// Errors: no positive mass, a negative or non-finite radius or mass.
    pub fn from_shells(mut shells: Vec<(f64, f64)>) -> Result<Self, MockError> {
        if let Some(bad) = shells.iter().find(|(r, m)| !(r.is_finite() && m.is_finite()) || *r < 0.0 || *m < 0.0) {
            return Err(MockError::BadInput {
                name: "particles",
                expected: "finite non-negative radii and masses".into(),
                got: format!("radius {}, mass {}", bad.0, bad.1),
            });
        }
        shells.retain(|s| s.1 > 0.0);
        if shells.is_empty() {
            return Err(MockError::BadInput {
                name: "galaxy",
                expected: "particles with mass".into(),
                got: "none".into(),
            });
        }
        shells.sort_by(|a, b| a.0.total_cmp(&b.0));
        let n = shells.len();
        let radii: Vec<f64> = shells.iter().map(|s| s.0).collect();
        let mut cumulative = Vec::with_capacity(n);
        let mut acc = 0.0;
        for s in &shells {
            acc += s.1;
            cumulative.push(acc);
        }
        let mut outer = vec![0.0; n];
        let mut acc_out = 0.0;
        for k in (0..n).rev() {
            outer[k] = acc_out;
            if shells[k].0 > 0.0 {
                acc_out += shells[k].1 / shells[k].0;
            }
        }
        Ok(Self { radii, cumulative, outer, outer_all: acc_out })
    }

    /// Total mass, Msun.
    pub fn total_mass_msun(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// The smallest positive particle radius and the largest, kpc.
    pub fn radius_range_kpc(&self) -> (f64, f64) {
        let r_max = self.radii.last().copied().unwrap_or(0.0);
        let r_min = self.radii.iter().copied().find(|r| *r > 0.0).unwrap_or(r_max);
        (r_min, r_max)
    }

    /// Mass within `r` (particles at `r_i < r`: a star's circular orbit leaves out its own mass), Msun.
    pub fn mass_within_msun(&self, r: f64) -> f64 {
        let k = self.radii.partition_point(|x| *x < r);
        if k == 0 {
            0.0
        } else {
            self.cumulative[k - 1]
        }
    }

    /// Potential at `r > 0`, (km/s)^2, zero at infinity.
    pub fn potential_kms2(&self, r: f64) -> f64 {
        let k = self.radii.partition_point(|x| *x <= r);
        let (inner, out) = if k == 0 { (0.0, self.outer_all) } else { (self.cumulative[k - 1], self.outer[k - 1]) };
        -G_KPC_KMS2_PER_MSUN * (inner / r + out)
    }

    /// Squared circular velocity `G M(<r) / r`, (km/s)^2.
    pub fn circular_velocity2_kms2(&self, r: f64) -> f64 {
        G_KPC_KMS2_PER_MSUN * self.mass_within_msun(r) / r
    }

    /// Energy of the circular orbit at `r`, `Phi + v_c^2 / 2`, (km/s)^2 (non-decreasing in r).
    pub fn circular_energy_kms2(&self, r: f64) -> f64 {
        self.potential_kms2(r) + 0.5 * self.circular_velocity2_kms2(r)
    }

    /// Where a circular orbit has energy `e`: `(r_c, capped)`, capped when `e` lies at or below the innermost
    /// particle's circular energy (then that radius); infinite for `e >= 0`. Beyond every particle `E_c = -G M / (2 r)`.
    pub fn circular_radius_kpc(&self, e: f64) -> (f64, bool) {
        let (r_min, r_max) = self.radius_range_kpc();
        if e >= 0.0 {
            return (f64::INFINITY, false);
        }
        if e <= self.circular_energy_kms2(r_min) {
            return (r_min, true);
        }
        if e >= self.circular_energy_kms2(r_max) {
            return (-G_KPC_KMS2_PER_MSUN * self.total_mass_msun() / (2.0 * e), false);
        }
        (bisect_monotonic(|r| self.circular_energy_kms2(r), e, r_min, r_max, 1e-10), false)
    }

    /// Angular momentum of the circular orbit of energy `e`, kpc km/s: `r_c sqrt(2 (e - Phi(r_c)))`, which is
    /// `r_c v_c(r_c)` where `E_c` is continuous and falls within a particle's step of `v_c` where it jumps (a star
    /// on a circular orbit at its own radius). Zero when capped, infinite for `e >= 0` ([`Self::circular_radius_kpc`]).
    pub fn circular_angular_momentum(&self, e: f64) -> (f64, bool) {
        let (r_c, capped) = self.circular_radius_kpc(e);
        if r_c.is_infinite() {
            return (f64::INFINITY, capped);
        }
        if capped {
            return (0.0, true);
        }
        (r_c * (2.0 * (e - self.potential_kms2(r_c))).max(0.0).sqrt(), false)
    }
}

/// Where the energies' potential came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PotentialSource {
    /// The monopole of every species.
    Monopole,
    /// The stars' stored potential, the circular orbits the monopole's shifted by `offset_kms2`.
    Stored {
        /// Median of `stored - monopole` over the stars, (km/s)^2.
        offset_kms2: f64,
    },
}

/// The circularities of the stars in one aperture.
#[derive(Debug, Clone, PartialEq)]
pub struct Circularities {
    /// Indices of the stars (into the star particles).
    pub star_idx: Vec<usize>,
    /// Their circularities.
    pub eps: Vec<f64>,
    /// Their masses, Msun.
    pub mass_msun: Vec<f64>,
    /// The unit vector j_z is measured along.
    pub axis: [f64; 3],
    /// Where the potential came from.
    pub potential: PotentialSource,
    /// Stars bound at least as tightly as the innermost circular orbit, eps = 0 (module docs).
    pub n_capped: usize,
    /// Stars with `E >= 0` (eps set to 0).
    pub n_unbound: usize,
}

/// The circularities of the stars of `galaxy` within the 3-D sphere of `aperture_kpc` about the origin (module
/// docs); `stars` are the galaxy's star particles.
///
/// Errors: a non-positive aperture, fewer than two stars in it, no mass in the galaxy.
pub fn circularities(galaxy: &Galaxy, stars: &Particles, aperture_kpc: f64) -> Result<Circularities, MockError> {
    if !aperture_kpc.is_finite() || aperture_kpc <= 0.0 {
        return Err(MockError::InvalidParameter {
            name: "circularity aperture",
            reason: format!("{aperture_kpc}, expected a positive radius"),
        });
    }
    let monopole = SphericalMass::of_galaxy(galaxy)?;
    let (pos, vel, mass) = (stars.pos_kpc(), stars.vel_kms(), stars.mass_msun());
    let radii = stars.radii_kpc();
    let row = |a: &ndarray::Array2<f64>, i: usize| [a[[i, 0]], a[[i, 1]], a[[i, 2]]];
    let star_idx: Vec<usize> = (0..stars.len()).filter(|&i| radii[i] < aperture_kpc).collect();
    if star_idx.len() < 2 {
        return Err(MockError::TooFewPoints { what: "circularities".into(), needed: 2, got: star_idx.len() });
    }
    let (r_min, _) = monopole.radius_range_kpc();
    let stored = stars.field(ScalarField::PotentialKms2);
    let potential = match stored {
        Some(pot) => {
            let mut diff: Vec<f64> =
                (0..stars.len()).map(|i| pot[i] - monopole.potential_kms2(radii[i].max(r_min))).collect();
            diff.sort_by(f64::total_cmp);
            let mid = diff.len() / 2;
            let median = if diff.len() % 2 == 1 { diff[mid] } else { 0.5 * (diff[mid - 1] + diff[mid]) };
            PotentialSource::Stored { offset_kms2: median }
        }
        None => PotentialSource::Monopole,
    };
    // The stars' total angular momentum.
    let mut l = [0.0; 3];
    for &i in &star_idx {
        let j = cross(row(pos, i), row(vel, i));
        for k in 0..3 {
            l[k] += mass[i] * j[k];
        }
    }
    let norm = dot(l, l).sqrt();
    let axis = if norm > 0.0 { [l[0] / norm, l[1] / norm, l[2] / norm] } else { [0.0, 0.0, 1.0] };
    let (mut n_capped, mut n_unbound) = (0, 0);
    let mut eps = Vec::with_capacity(star_idx.len());
    for &i in &star_idx {
        let v = row(vel, i);
        // The energy in the monopole's zero point.
        let phi = match (stored, potential) {
            (Some(pot), PotentialSource::Stored { offset_kms2 }) => pot[i] - offset_kms2,
            _ => monopole.potential_kms2(radii[i].max(r_min)),
        };
        let e = 0.5 * dot(v, v) + phi;
        let (j_c, capped) = monopole.circular_angular_momentum(e);
        n_capped += usize::from(capped);
        let j_z = dot(cross(row(pos, i), v), axis);
        eps.push(if j_c.is_infinite() {
            n_unbound += 1;
            0.0
        } else if j_c > 0.0 {
            j_z / j_c
        } else {
            0.0
        });
    }
    let mass_msun = star_idx.iter().map(|&i| mass[i]).collect();
    Ok(Circularities { star_idx, eps, mass_msun, axis, potential, n_capped, n_unbound })
}

/// chu2024's orbit fractions (Table 1) of a set of circularities.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircularityFractions {
    /// Twice the mass fraction with eps < 0.
    pub kinematic_bt: f64,
    /// Mass fraction with eps > [`COLD_MIN`].
    pub f_cold: f64,
    /// Mass fraction with |eps| < [`HOT_MAX`].
    pub f_hot: f64,
}

impl CircularityFractions {
    /// The fractions of circularities `eps` with masses `mass`; NaN without mass.
    pub fn from_circularities(eps: &[f64], mass: &[f64]) -> Self {
        let (mut total, mut negative, mut cold, mut hot) = (0.0, 0.0, 0.0, 0.0);
        for (&e, &m) in eps.iter().zip(mass) {
            total += m;
            if e < 0.0 {
                negative += m;
            }
            if e > COLD_MIN {
                cold += m;
            }
            if e.abs() < HOT_MAX {
                hot += m;
            }
        }
        let frac = |m: f64| if total > 0.0 { m / total } else { f64::NAN };
        Self { kinematic_bt: 2.0 * frac(negative), f_cold: frac(cold), f_hot: frac(hot) }
    }
}
