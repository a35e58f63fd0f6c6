//! Per-projection star quantities that the maps (galmass-mock) and the classic estimators (galmass-estimators) must
//! agree on: the seeded star subsample, projected coordinates, the projected half-number radius R_h, the
//! line-of-sight dispersion sigma_los, the velocity scale v_p98 and apertures.
//!
//! # Definitions (methods.md, "Classic mass estimators"; sarrato2025 §2-3; exposito2026 §2)
//! - R_h: with no flux model, the projected half-*number* radius of the sampled stars: the median of their projected
//!   radii R = sqrt(x^2 + y^2), numpy's linear interpolation.
//! - sigma_los: sample standard deviation of v_los (about the sample mean, ddof = 1) of the stars in an aperture.
//! - v_p98: the 98th percentile of v_los ([`VelocityScale::P98Signed`], sarrato2025) or of |v_los|
//!   ([`VelocityScale::P98Absolute`], exposito2026).
//! - Apertures are circles or annuli on the sky, in kpc or in units of R_h; "within" means R < r (strict), annuli
//!   include their inner edge and exclude their outer one.
//!
//! ```
//! use galmass_core::geometry::LineOfSight;
//! use galmass_core::particles::Particles;
//! use galmass_core::projection::{ProjectedStars, VelocityScale, Aperture, subsample_indices};
//! use ndarray::{array, Array2};
//! let stars = Particles::new(
//!     array![[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0], [-1.0, -1.0, 1.0]],
//!     array![[0.0, 0.0, 5.0], [0.0, 0.0, -5.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
//!     array![1.0, 1.0, 1.0, 1.0],
//! ).unwrap();
//! let idx = subsample_indices(stars.len(), 3, 42);
//! let proj = ProjectedStars::new(&stars, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), Some(&idx)).unwrap();
//! let r_h = proj.half_number_radius_kpc().unwrap();
//! let sigma = proj.sigma_los_kms(&Aperture::All, r_h).unwrap();
//! let v98 = proj.v_p98_kms(VelocityScale::P98Absolute, &Aperture::All, r_h).unwrap();
//! assert!(r_h > 0.0 && sigma > 0.0 && v98 > 0.0);
//! ```

use ndarray::Array1;
use rand::seq::index;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::geometry::LineOfSight;
use crate::particles::{check_indices, Particles};
use crate::stats;

/// A seeded random subsample of `n_sample` indices out of `0..n_total`, sorted ascending, without replacement.
/// When `n_sample >= n_total` every index is returned. Deterministic for a seed (ChaCha8).
pub fn subsample_indices(n_total: usize, n_sample: usize, seed: u64) -> Vec<usize> {
    if n_sample >= n_total {
        return (0..n_total).collect();
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut idx = index::sample(&mut rng, n_total, n_sample).into_vec();
    idx.sort_unstable();
    idx
}

/// `n_subsets` disjoint random subsets of `subset_size` indices each out of `0..n_total` (exposito2026 §2: each
/// projection sees its own stars), each sorted ascending. Fails when there are not enough indices.
pub fn disjoint_subsets(
    n_total: usize,
    subset_size: usize,
    n_subsets: usize,
    seed: u64,
) -> Result<Vec<Vec<usize>>, CoreError> {
    let needed = subset_size.checked_mul(n_subsets).ok_or_else(|| CoreError::invalid("n_subsets", "overflow"))?;
    if needed > n_total {
        return Err(CoreError::TooFewParticles { what: "disjoint star subsets".into(), needed, got: n_total });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let chosen = index::sample(&mut rng, n_total, needed).into_vec();
    Ok(chosen
        .chunks(subset_size.max(1))
        .take(n_subsets)
        .map(|c| {
            let mut v = c.to_vec();
            v.sort_unstable();
            v
        })
        .collect())
}

/// Which velocity the v_p98 scale is the 98th percentile of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VelocityScale {
    /// 98th percentile of v_los (sarrato2025 §2).
    P98Signed,
    /// 98th percentile of |v_los| (exposito2026 §2).
    P98Absolute,
}

/// A region of the sky plane centred on the galaxy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Aperture {
    /// Every star.
    All,
    /// Stars with R < factor x R_h.
    WithinRh {
        /// Radius in units of R_h.
        factor: f64,
    },
    /// Stars with inner x R_h <= R < outer x R_h.
    AnnulusRh {
        /// Inner radius in units of R_h.
        inner: f64,
        /// Outer radius in units of R_h.
        outer: f64,
    },
    /// Stars with R < radius_kpc.
    WithinKpc {
        /// Radius in kpc.
        radius_kpc: f64,
    },
}

impl Aperture {
    /// Checks the radii (finite, non-negative, inner < outer).
    pub fn check(&self) -> Result<(), CoreError> {
        let ok = match *self {
            Aperture::All => true,
            Aperture::WithinRh { factor } => factor.is_finite() && factor > 0.0,
            Aperture::AnnulusRh { inner, outer } => {
                inner.is_finite() && outer.is_finite() && 0.0 <= inner && inner < outer
            }
            Aperture::WithinKpc { radius_kpc } => radius_kpc.is_finite() && radius_kpc > 0.0,
        };
        if ok {
            Ok(())
        } else {
            Err(CoreError::invalid("aperture", format!("{self:?} has invalid radii")))
        }
    }

    /// Indices of the projected radii `radii_kpc` that lie inside, for a galaxy of half-number radius `r_h_kpc`.
    pub fn select(&self, radii_kpc: &Array1<f64>, r_h_kpc: f64) -> Result<Vec<usize>, CoreError> {
        self.check()?;
        Ok(radii_kpc.iter().enumerate().filter(|(_, r)| self.contains(**r, r_h_kpc)).map(|(i, _)| i).collect())
    }

    /// Whether a projected radius `r_kpc` lies inside, for a galaxy of half-number radius `r_h_kpc`.
    pub fn contains(&self, r_kpc: f64, r_h_kpc: f64) -> bool {
        match *self {
            Aperture::All => true,
            Aperture::WithinRh { factor } => r_kpc < factor * r_h_kpc,
            Aperture::AnnulusRh { inner, outer } => inner * r_h_kpc <= r_kpc && r_kpc < outer * r_h_kpc,
            Aperture::WithinKpc { radius_kpc } => r_kpc < radius_kpc,
        }
    }
}

/// Stars of one projection: sky coordinates and line-of-sight velocities (and masses, for weighted maps).
///
/// The four arrays always have one entry per star and hold finite numbers: build it with [`ProjectedStars::new`]
/// (from particles) or [`ProjectedStars::from_parts`] (checked), and edit it through [`ProjectedStars::into_parts`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedStars {
    x_kpc: Array1<f64>,
    y_kpc: Array1<f64>,
    v_los_kms: Array1<f64>,
    mass_msun: Array1<f64>,
}

impl ProjectedStars {
    /// Projects `stars` (optionally only `indices`) along `los`, about the galaxy centre (the origin).
    pub fn new(stars: &Particles, los: &LineOfSight, indices: Option<&[usize]>) -> Result<Self, CoreError> {
        let selected;
        let stars = match indices {
            Some(idx) => {
                selected = stars.select(idx)?;
                &selected
            }
            None => stars,
        };
        let (x_kpc, y_kpc) = los.project_rows(stars.pos_kpc());
        Ok(Self { x_kpc, y_kpc, v_los_kms: los.v_los_rows(stars.vel_kms()), mass_msun: stars.mass_msun().clone() })
    }

    /// Stars from sky coordinates (kpc), line-of-sight velocities (km/s) and masses (Msun): one entry per star in
    /// each, all finite.
    pub fn from_parts(
        x_kpc: Array1<f64>,
        y_kpc: Array1<f64>,
        v_los_kms: Array1<f64>,
        mass_msun: Array1<f64>,
    ) -> Result<Self, CoreError> {
        let n = v_los_kms.len();
        for (field, a) in [("x_kpc", &x_kpc), ("y_kpc", &y_kpc), ("v_los_kms", &v_los_kms), ("mass_msun", &mass_msun)] {
            if a.len() != n {
                return Err(CoreError::Shape {
                    field: field.into(),
                    expected: format!("{n} values (one per star, as v_los_kms)"),
                    got: format!("{} values", a.len()),
                });
            }
            if let Some((index, &value)) = a.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(CoreError::NonFinite { field: field.into(), index, value });
            }
        }
        Ok(Self { x_kpc, y_kpc, v_los_kms, mass_msun })
    }

    /// The four arrays `(x_kpc, y_kpc, v_los_kms, mass_msun)`, to edit and rebuild with [`ProjectedStars::from_parts`].
    pub fn into_parts(self) -> (Array1<f64>, Array1<f64>, Array1<f64>, Array1<f64>) {
        (self.x_kpc, self.y_kpc, self.v_los_kms, self.mass_msun)
    }

    /// Sky coordinate along e1 in kpc.
    pub fn x_kpc(&self) -> &Array1<f64> {
        &self.x_kpc
    }

    /// Sky coordinate along e2 in kpc.
    pub fn y_kpc(&self) -> &Array1<f64> {
        &self.y_kpc
    }

    /// Line-of-sight velocity in km/s (positive receding).
    pub fn v_los_kms(&self) -> &Array1<f64> {
        &self.v_los_kms
    }

    /// Particle mass in Msun.
    pub fn mass_msun(&self) -> &Array1<f64> {
        &self.mass_msun
    }

    /// Number of stars.
    pub fn len(&self) -> usize {
        self.v_los_kms.len()
    }

    /// The stars at `indices` (repeats allowed, as in a bootstrap resample); an index at or beyond `len()` is an
    /// error.
    pub fn select(&self, indices: &[usize]) -> Result<Self, CoreError> {
        check_indices(indices, self.len())?;
        let take = |a: &Array1<f64>| a.select(ndarray::Axis(0), indices);
        Ok(Self {
            x_kpc: take(&self.x_kpc),
            y_kpc: take(&self.y_kpc),
            v_los_kms: take(&self.v_los_kms),
            mass_msun: take(&self.mass_msun),
        })
    }

    /// True when there are no stars.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Projected radii sqrt(x^2 + y^2) in kpc.
    pub fn radii_kpc(&self) -> Array1<f64> {
        self.x_kpc.iter().zip(self.y_kpc.iter()).map(|(x, y)| (x * x + y * y).sqrt()).collect()
    }

    /// Projected half-number radius R_h in kpc: the median projected radius. Needs at least one star.
    pub fn half_number_radius_kpc(&self) -> Result<f64, CoreError> {
        half_number_radius_of(&self.radii_kpc())
    }

    /// Indices of the stars inside `aperture`, given R_h.
    pub fn in_aperture(&self, aperture: &Aperture, r_h_kpc: f64) -> Result<Vec<usize>, CoreError> {
        aperture.select(&self.radii_kpc(), r_h_kpc)
    }

    /// Line-of-sight velocity dispersion (ddof = 1) of the stars inside `aperture`. Needs at least two stars there.
    pub fn sigma_los_kms(&self, aperture: &Aperture, r_h_kpc: f64) -> Result<f64, CoreError> {
        let v = self.velocities_in(aperture, r_h_kpc)?;
        stats::variance(&v, 1).map(f64::sqrt).ok_or_else(|| too_few("sigma_los", 2, v.len()))
    }

    /// The v_p98 velocity scale of the stars inside `aperture`. Needs at least one star there.
    pub fn v_p98_kms(&self, scale: VelocityScale, aperture: &Aperture, r_h_kpc: f64) -> Result<f64, CoreError> {
        let mut v = self.velocities_in(aperture, r_h_kpc)?;
        if scale == VelocityScale::P98Absolute {
            v.iter_mut().for_each(|x| *x = x.abs());
        }
        stats::percentile_in_place(&mut v, 98.0).ok_or_else(|| too_few("v_p98", 1, v.len()))
    }

    fn velocities_in(&self, aperture: &Aperture, r_h_kpc: f64) -> Result<Vec<f64>, CoreError> {
        if *aperture == Aperture::All {
            return Ok(self.v_los_kms.to_vec());
        }
        Ok(self.in_aperture(aperture, r_h_kpc)?.into_iter().map(|i| self.v_los_kms[i]).collect())
    }
}

/// The scalars of one projection that maps and estimators share.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProjectionSummary {
    /// Number of sampled stars.
    pub n_stars: usize,
    /// Projected half-number radius in kpc.
    pub r_h_kpc: f64,
    /// Line-of-sight dispersion in km/s.
    pub sigma_los_kms: f64,
    /// Velocity scale in km/s.
    pub v_p98_kms: f64,
}

/// How the scalars of a projection are measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// Which velocity v_p98 is the percentile of.
    pub velocity_scale: VelocityScale,
    /// Stars entering sigma_los.
    pub dispersion_aperture: Aperture,
    /// Stars entering v_p98.
    pub velocity_scale_aperture: Aperture,
}

impl SummaryParams {
    /// sarrato2025 §2: global dispersion, v_p98 of v_los over the sampled stars.
    pub const SARRATO2025: SummaryParams = SummaryParams {
        velocity_scale: VelocityScale::P98Signed,
        dispersion_aperture: Aperture::All,
        velocity_scale_aperture: Aperture::All,
    };
    /// exposito2026 §2: global dispersion, v_p98 of |v_los| over the sampled stars.
    pub const EXPOSITO2026: SummaryParams = SummaryParams {
        velocity_scale: VelocityScale::P98Absolute,
        dispersion_aperture: Aperture::All,
        velocity_scale_aperture: Aperture::All,
    };
}

impl ProjectedStars {
    /// R_h, sigma_los and v_p98 measured as `params` says.
    pub fn summary(&self, params: &SummaryParams) -> Result<ProjectionSummary, CoreError> {
        let r_h_kpc = self.half_number_radius_kpc()?;
        Ok(ProjectionSummary {
            n_stars: self.len(),
            r_h_kpc,
            sigma_los_kms: self.sigma_los_kms(&params.dispersion_aperture, r_h_kpc)?,
            v_p98_kms: self.v_p98_kms(params.velocity_scale, &params.velocity_scale_aperture, r_h_kpc)?,
        })
    }
}

/// The projected half-number radius (median, numpy's convention) of precomputed projected radii.
pub fn half_number_radius_of(radii_kpc: &Array1<f64>) -> Result<f64, CoreError> {
    stats::percentile_in_place(&mut radii_kpc.to_vec(), 50.0)
        .ok_or_else(|| too_few("projected half-number radius", 1, radii_kpc.len()))
}

fn too_few(what: &str, needed: usize, got: usize) -> CoreError {
    CoreError::TooFewParticles { what: what.into(), needed, got }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::DirectionSet;
    use crate::geometry::Rotation;
    use approx::assert_abs_diff_eq;
    use ndarray::{array, Array2};
    use rand::Rng;

    #[test]
    fn checked_parts_and_selection_refuse_bad_input() {
        let ok = ProjectedStars::from_parts(array![0.0, 1.0], array![1.0, 0.0], array![5.0, -5.0], array![1.0, 1.0])
            .unwrap();
        assert_eq!(ok.len(), 2);
        let short = ProjectedStars::from_parts(array![0.0], array![1.0, 0.0], array![5.0, -5.0], array![1.0, 1.0]);
        assert!(matches!(short, Err(CoreError::Shape { ref field, .. }) if field == "x_kpc"), "{short:?}");
        let nan =
            ProjectedStars::from_parts(array![0.0, 1.0], array![1.0, 0.0], array![5.0, f64::NAN], array![1.0, 1.0]);
        assert!(matches!(nan, Err(CoreError::NonFinite { index: 1, ref field, .. }) if field == "v_los_kms"));
        assert_eq!(ok.select(&[1, 1]).unwrap().v_los_kms(), &array![-5.0, -5.0]);
        assert!(matches!(ok.select(&[2]), Err(CoreError::InvalidParameter { ref name, .. }) if name == "indices"));
        let (x, y, v, m) = ok.into_parts();
        assert_eq!((x.len(), y.len(), v.len(), m.len()), (2, 2, 2, 2));
    }

    /// An isotropic Plummer sphere of scale radius `a` (positions only; velocities Gaussian with `sigma`).
    fn plummer(n: usize, a: f64, sigma: f64, seed: u64) -> Particles {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut pos = Array2::zeros((n, 3));
        let mut vel = Array2::zeros((n, 3));
        for i in 0..n {
            let u: f64 = rng.random_range(1e-12..1.0);
            let r = a / (u.powf(-2.0 / 3.0) - 1.0).sqrt();
            let z: f64 = rng.random_range(-1.0..=1.0);
            let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let s = (1.0 - z * z).sqrt();
            pos.row_mut(i).assign(&array![r * s * phi.cos(), r * s * phi.sin(), r * z]);
            for k in 0..3 {
                // Box-Muller.
                let (u1, u2): (f64, f64) = (rng.random_range(1e-300..1.0), rng.random());
                vel[[i, k]] = sigma * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            }
        }
        Particles::new(pos, vel, Array1::from_elem(n, 1.0)).unwrap()
    }

    #[test]
    fn plummer_half_number_radius_is_scale_radius() {
        // Projected Plummer: Sigma(<R) / M = R^2 / (R^2 + a^2), so the projected half-number radius is a.
        let a = 0.5;
        let n = 20_000;
        let stars = plummer(n, a, 10.0, 1);
        for los in (DirectionSet::Fibonacci { n: 8 }).directions(&Rotation::identity()).unwrap() {
            let r_h = ProjectedStars::new(&stars, &los, None).unwrap().half_number_radius_kpc().unwrap();
            // Sampling error of a median: 1 / (2 f(R_h) sqrt(n)), f(R) = 2 R a^2 / (R^2 + a^2)^2 = 1/(2a) at R = a.
            let sampling_error = a / (n as f64).sqrt();
            assert_abs_diff_eq!(r_h, a, epsilon = 4.0 * sampling_error);
        }
    }

    #[test]
    fn gaussian_moments_recovered() {
        let sigma = 12.0;
        let n = 40_000;
        let stars = plummer(n, 1.0, sigma, 2);
        let proj = ProjectedStars::new(&stars, &LineOfSight::new([1.0, 1.0, 0.0]).unwrap(), None).unwrap();
        let s = proj.summary(&SummaryParams::SARRATO2025).unwrap();
        assert_abs_diff_eq!(s.sigma_los_kms, sigma, epsilon = 4.0 * sigma / (2.0 * n as f64).sqrt());
        // The 98th percentile of a Gaussian is 2.0537 sigma; of |v| it is the 99th of v, 2.3263 sigma.
        assert_abs_diff_eq!(s.v_p98_kms, 2.0537 * sigma, epsilon = 0.05 * sigma);
        let s_abs = proj.summary(&SummaryParams::EXPOSITO2026).unwrap();
        assert_abs_diff_eq!(s_abs.v_p98_kms, 2.3263 * sigma, epsilon = 0.05 * sigma);
    }

    #[test]
    fn subsamples_are_seeded_and_disjoint() {
        let a = subsample_indices(1000, 100, 9);
        assert_eq!(a, subsample_indices(1000, 100, 9));
        assert_ne!(a, subsample_indices(1000, 100, 10));
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(subsample_indices(5, 10, 1), vec![0, 1, 2, 3, 4]);
        let subsets = disjoint_subsets(1000, 100, 10, 3).unwrap();
        let mut all: Vec<usize> = subsets.concat();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 1000);
        assert!(matches!(disjoint_subsets(10, 5, 3, 0), Err(CoreError::TooFewParticles { needed: 15, got: 10, .. })));
    }

    #[test]
    fn apertures_select_as_documented() {
        let stars = Particles::new(
            array![[0.5, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [3.0, 0.0, 9.0]],
            array![[0.0, 0.0, 1.0], [0.0, 0.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 4.0]],
            Array1::from_elem(4, 1.0),
        )
        .unwrap();
        let proj = ProjectedStars::new(&stars, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), None).unwrap();
        let r_h = proj.half_number_radius_kpc().unwrap();
        assert_abs_diff_eq!(r_h, 1.5, epsilon = 1e-12);
        assert_eq!(proj.in_aperture(&Aperture::WithinRh { factor: 1.0 }, r_h).unwrap(), vec![0, 1]);
        assert_eq!(proj.in_aperture(&Aperture::AnnulusRh { inner: 2.0 / 3.0, outer: 2.0 }, r_h).unwrap(), vec![1, 2]);
        assert_eq!(proj.in_aperture(&Aperture::WithinKpc { radius_kpc: 2.5 }, r_h).unwrap(), vec![0, 1, 2]);
        assert!(matches!(
            proj.in_aperture(&Aperture::AnnulusRh { inner: 2.0, outer: 1.0 }, r_h),
            Err(CoreError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn too_few_stars_is_a_typed_error() {
        let one = Particles::new(array![[1.0, 0.0, 0.0]], array![[0.0, 0.0, 1.0]], array![1.0]).unwrap();
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let proj = ProjectedStars::new(&one, &los, None).unwrap();
        assert!(matches!(
            proj.summary(&SummaryParams::SARRATO2025),
            Err(CoreError::TooFewParticles { needed: 2, got: 1, .. })
        ));
        let none = ProjectedStars::new(&Particles::empty(), &los, None).unwrap();
        assert!(matches!(none.half_number_radius_kpc(), Err(CoreError::TooFewParticles { needed: 1, got: 0, .. })));
        assert!(matches!(ProjectedStars::new(&one, &los, Some(&[3])), Err(CoreError::InvalidParameter { .. })));
    }
}
