//! Which stars each projection sees, and optional observational realism.
//!
//! - [`SamplingParams::SharedSample`] (sarrato2025 §2): one seeded sample of `min(N, max)` stars per galaxy (at
//!   least `min`), seen along every line of sight.
//! - [`SamplingParams::DisjointSubsets`] (exposito2026 §2): each projection uses its own random subset; subsets are
//!   disjoint, each of `min(N / n_projections, max)` stars (at least `min`).
//!
//! Realism (off by default, [`RealismParams`]): Gaussian velocity errors per star (fixed, or drawn uniformly between two
//! values per star), a fraction of contaminants (stars replaced by foreground objects placed uniformly over the disc
//! of the sample's largest radius, with velocities from a broad Gaussian), and binary-orbit jitter (a fraction of
//! stars get an extra Gaussian velocity). All draws are seeded.
//!
//! Both follow the parameter pattern of `galmass_core::params`: [`SamplingParams`] and [`RealismParams`] are
//! checked into [`SamplingValidParams`] and [`RealismValidParams`], the only forms [`projection_samples`] and
//! [`observe`] accept.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_mock::sampling::{projection_samples, SamplingParams};
//! let shared = projection_samples(50_000, 64, &SamplingParams::SARRATO2025.check().unwrap(), 1).unwrap();
//! assert_eq!(shared.len(), 64);
//! assert_eq!(shared[0].len(), 10_000);
//! let subsets = projection_samples(50_000, 12, &SamplingParams::EXPOSITO2026.check().unwrap(), 1).unwrap();
//! assert_eq!(subsets[0].len(), 4166);
//! ```

use galmass_core::params::Params;
use galmass_core::projection::{disjoint_subsets, subsample_indices, ProjectedStars};
use galmass_core::CoreError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;
use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// How stars are sampled for the projections of one galaxy (unchecked; see [`SamplingParams::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SamplingParams {
    /// One sample shared by all projections.
    SharedSample {
        /// Fewest stars accepted.
        min: usize,
        /// Most stars sampled.
        max: usize,
    },
    /// Disjoint subsets, one per projection.
    DisjointSubsets {
        /// Fewest stars per subset.
        min: usize,
        /// Most stars per subset.
        max: usize,
    },
}

impl SamplingParams {
    /// sarrato2025 §2: 200 to 1e4 stars per galaxy, shared by its 64 projections.
    pub const SARRATO2025: SamplingParams = SamplingParams::SharedSample { min: 200, max: 10_000 };
    /// exposito2026 §2: disjoint subsets of 100 to 1e4 stars, one per projection.
    pub const EXPOSITO2026: SamplingParams = SamplingParams::DisjointSubsets { min: 100, max: 10_000 };
}

impl Params for SamplingParams {
    type Valid = SamplingValidParams;
    type Error = MockError;

    /// Checks `1 <= min <= max`.
    fn check(&self) -> Result<SamplingValidParams, MockError> {
        let (SamplingParams::SharedSample { min, max } | SamplingParams::DisjointSubsets { min, max }) = *self;
        if min == 0 {
            return Err(MockError::invalid("min", "must be at least 1 star"));
        }
        if max < min {
            return Err(MockError::invalid("max", format!("must be at least min = {min}, got {max}")));
        }
        Ok(SamplingValidParams(*self))
    }
}

/// Checked [`SamplingParams`]: the only form [`projection_samples`] accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplingValidParams(SamplingParams);

impl SamplingValidParams {
    /// The checked values.
    pub fn params(&self) -> &SamplingParams {
        &self.0
    }
}

/// Star indices for each of `n_projections` projections of a galaxy with `n_stars` star particles.
pub fn projection_samples(
    n_stars: usize,
    n_projections: usize,
    params: &SamplingValidParams,
    seed: u64,
) -> Result<Vec<Vec<usize>>, MockError> {
    if n_projections == 0 {
        return Err(MockError::invalid("n_projections", "must be at least 1"));
    }
    match *params.params() {
        SamplingParams::SharedSample { min, max } => {
            if n_stars < min {
                return Err(CoreError::TooFewParticles { what: "star sample".into(), needed: min, got: n_stars }.into());
            }
            let sample = subsample_indices(n_stars, max, seed);
            Ok(vec![sample; n_projections])
        }
        SamplingParams::DisjointSubsets { min, max } => {
            let size = (n_stars / n_projections).min(max);
            if size < min {
                return Err(CoreError::TooFewParticles {
                    what: format!("{n_projections} disjoint star subsets"),
                    needed: min * n_projections,
                    got: n_stars,
                }
                .into());
            }
            Ok(disjoint_subsets(n_stars, size, n_projections, seed)?)
        }
    }
}

/// Per-star velocity errors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum VelocityErrors {
    /// The same error for every star.
    Fixed {
        /// Error in km/s.
        kms: f64,
    },
    /// An error drawn uniformly in [min_kms, max_kms] for each star.
    Uniform {
        /// Smallest error, km/s.
        min_kms: f64,
        /// Largest error, km/s.
        max_kms: f64,
    },
}

/// Observational realism applied to a projected sample (all off by default; unchecked, see
/// [`RealismParams::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RealismParams {
    /// Gaussian velocity errors.
    pub velocity_errors: Option<VelocityErrors>,
    /// Fraction of stars replaced by contaminants.
    pub contaminant_fraction: f64,
    /// Dispersion of the contaminants' velocities about the sample mean, km/s (a broad foreground).
    pub contaminant_sigma_kms: f64,
    /// Fraction of stars in binaries.
    pub binary_fraction: f64,
    /// Dispersion of the binary-orbit velocity jitter, km/s.
    pub binary_sigma_kms: f64,
}

impl Default for RealismParams {
    fn default() -> Self {
        Self {
            velocity_errors: None,
            contaminant_fraction: 0.0,
            contaminant_sigma_kms: 100.0,
            binary_fraction: 0.0,
            binary_sigma_kms: 2.0,
        }
    }
}

/// A sample after realism: the observed stars and their velocity errors (when modelled).
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedSample {
    /// Positions and observed velocities.
    pub stars: ProjectedStars,
    /// Per-star velocity errors in km/s (None without an error model).
    pub velocity_errors_kms: Option<Vec<f64>>,
    /// Indices (into `stars`) of the contaminants.
    pub contaminants: Vec<usize>,
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    rand_distr::StandardNormal.sample(rng)
}

impl Params for RealismParams {
    type Valid = RealismValidParams;
    type Error = MockError;

    /// Checks fractions in [0, 1], finite non-negative dispersions and a velocity-error model with
    /// `0 <= min <= max`.
    fn check(&self) -> Result<RealismValidParams, MockError> {
        for (name, f) in
            [("contaminant_fraction", self.contaminant_fraction), ("binary_fraction", self.binary_fraction)]
        {
            if !(0.0..=1.0).contains(&f) {
                return Err(MockError::invalid(name, format!("must be in [0, 1], got {f}")));
            }
        }
        for (name, s) in
            [("contaminant_sigma_kms", self.contaminant_sigma_kms), ("binary_sigma_kms", self.binary_sigma_kms)]
        {
            if !(s.is_finite() && s >= 0.0) {
                return Err(MockError::invalid(name, format!("must be finite and non-negative, got {s}")));
            }
        }
        match self.velocity_errors {
            None => {}
            Some(VelocityErrors::Fixed { kms }) if kms.is_finite() && kms >= 0.0 => {}
            Some(VelocityErrors::Uniform { min_kms, max_kms })
                if min_kms.is_finite() && max_kms.is_finite() && 0.0 <= min_kms && min_kms <= max_kms => {}
            Some(other) => {
                return Err(MockError::invalid("velocity_errors", format!("{other:?} needs finite 0 <= min <= max")))
            }
        }
        Ok(RealismValidParams(*self))
    }
}

/// Checked [`RealismParams`]: the only form [`observe`] accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RealismValidParams(RealismParams);

impl RealismValidParams {
    /// The checked values.
    pub fn params(&self) -> &RealismParams {
        &self.0
    }
}

/// Applies `realism` to a projected sample, deterministically for a seed.
pub fn observe(stars: &ProjectedStars, realism: &RealismValidParams, seed: u64) -> Result<ObservedSample, MockError> {
    let realism = realism.params();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = stars.len();
    let r_max = stars.radii_kpc().iter().cloned().fold(0.0, f64::max);
    let (mut x_kpc, mut y_kpc, mut v_los_kms, mass_msun) = stars.clone().into_parts();
    let mut contaminants = Vec::new();
    if realism.contaminant_fraction > 0.0 && n > 0 {
        let n_contaminants = (realism.contaminant_fraction * n as f64).round() as usize;
        let v_mean = v_los_kms.mean().unwrap_or(0.0);
        contaminants = rand::seq::index::sample(&mut rng, n, n_contaminants).into_vec();
        contaminants.sort_unstable();
        for &i in &contaminants {
            let r = r_max * rng.random::<f64>().sqrt();
            let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            x_kpc[i] = r * phi.cos();
            y_kpc[i] = r * phi.sin();
            v_los_kms[i] = v_mean + realism.contaminant_sigma_kms * gaussian(&mut rng);
        }
    }
    if realism.binary_fraction > 0.0 {
        for v in v_los_kms.iter_mut() {
            if rng.random::<f64>() < realism.binary_fraction {
                *v += realism.binary_sigma_kms * gaussian(&mut rng);
            }
        }
    }
    let velocity_errors_kms = match realism.velocity_errors {
        None => None,
        Some(model) => {
            // Checked by RealismParams::check: finite, 0 <= min <= max.
            let errors: Vec<f64> = match model {
                VelocityErrors::Fixed { kms } => vec![kms; n],
                VelocityErrors::Uniform { min_kms, max_kms } => {
                    (0..n).map(|_| min_kms + (max_kms - min_kms) * rng.random::<f64>()).collect()
                }
            };
            for (v, e) in v_los_kms.iter_mut().zip(&errors) {
                *v += e * gaussian(&mut rng);
            }
            Some(errors)
        }
    };
    let stars = ProjectedStars::from_parts(x_kpc, y_kpc, v_los_kms, mass_msun)?;
    Ok(ObservedSample { stars, velocity_errors_kms, contaminants })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array1;

    fn line_of_stars(n: usize) -> ProjectedStars {
        ProjectedStars::from_parts(
            Array1::from_shape_fn(n, |i| i as f64 * 0.01),
            Array1::from_shape_fn(n, |i| (i % 7) as f64 * 0.01),
            Array1::zeros(n),
            Array1::from_elem(n, 1.0),
        )
        .unwrap()
    }

    fn check(params: SamplingParams) -> SamplingValidParams {
        params.check().unwrap()
    }

    #[test]
    fn schemes_follow_the_papers() {
        let few = projection_samples(150, 64, &check(SamplingParams::SARRATO2025), 0);
        assert!(matches!(few, Err(MockError::Core(CoreError::TooFewParticles { needed: 200, got: 150, .. }))));
        let small = projection_samples(500, 64, &check(SamplingParams::SARRATO2025), 0).unwrap();
        assert_eq!(small[0].len(), 500);
        assert!(small.iter().all(|s| s == &small[0]));
        let subsets = projection_samples(3000, 12, &check(SamplingParams::EXPOSITO2026), 0).unwrap();
        assert_eq!(subsets[0].len(), 250);
        let mut all: Vec<usize> = subsets.concat();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 3000);
        assert!(matches!(
            projection_samples(1000, 12, &check(SamplingParams::EXPOSITO2026), 0),
            Err(MockError::Core(CoreError::TooFewParticles { needed: 1200, got: 1000, .. }))
        ));
        assert!(matches!(
            projection_samples(1000, 0, &check(SamplingParams::EXPOSITO2026), 0),
            Err(MockError::InvalidParameter { name: "n_projections", .. })
        ));
        assert!(matches!(
            SamplingParams::SharedSample { min: 300, max: 200 }.check(),
            Err(MockError::InvalidParameter { name: "max", .. })
        ));
        assert!(matches!(
            SamplingParams::DisjointSubsets { min: 0, max: 200 }.check(),
            Err(MockError::InvalidParameter { name: "min", .. })
        ));
    }

    #[test]
    fn realism_is_seeded_and_off_by_default() {
        let stars = line_of_stars(1000);
        let none = observe(&stars, &RealismParams::default().check().unwrap(), 1).unwrap();
        assert_eq!(none.stars, stars);
        assert!(none.velocity_errors_kms.is_none());
        let realism = RealismParams {
            velocity_errors: Some(VelocityErrors::Fixed { kms: 5.0 }),
            contaminant_fraction: 0.1,
            binary_fraction: 0.3,
            ..RealismParams::default()
        }
        .check()
        .unwrap();
        let a = observe(&stars, &realism, 7).unwrap();
        assert_eq!(a, observe(&stars, &realism, 7).unwrap());
        assert_eq!(a.contaminants.len(), 100);
        let members: Vec<f64> =
            (0..1000).filter(|i| !a.contaminants.contains(i)).map(|i| a.stars.v_los_kms()[i]).collect();
        let sd = galmass_core::stats::variance(&members, 1).unwrap().sqrt();
        // Members: 5 km/s errors, 30% with 2 km/s jitter: sqrt(25 + 0.3 * 4) = 5.12.
        assert!((sd - 5.12).abs() < 0.4, "{sd}");
        assert!(matches!(
            RealismParams { contaminant_fraction: 1.5, ..RealismParams::default() }.check(),
            Err(MockError::InvalidParameter { name: "contaminant_fraction", .. })
        ));
        assert!(matches!(
            RealismParams { binary_sigma_kms: f64::NAN, ..RealismParams::default() }.check(),
            Err(MockError::InvalidParameter { name: "binary_sigma_kms", .. })
        ));
        let bad = RealismParams {
            velocity_errors: Some(VelocityErrors::Uniform { min_kms: 3.0, max_kms: 1.0 }),
            ..RealismParams::default()
        };
        assert!(matches!(bad.check(), Err(MockError::InvalidParameter { name: "velocity_errors", .. })));
    }

    #[test]
    fn binaries_jitter_the_chosen_fraction_by_their_dispersion() {
        // Binaries alone on stars at rest: exactly the jittered stars move. Their number is Binomial(n, f) and their
        // velocities are N(0, sigma), so both are measured against what the statistics allow (4 sigma).
        let n = 4000;
        let stars = line_of_stars(n);
        let (fraction, sigma_kms) = (0.3, 2.0);
        let realism =
            RealismParams { binary_fraction: fraction, binary_sigma_kms: sigma_kms, ..RealismParams::default() }
                .check()
                .unwrap();
        let observed = observe(&stars, &realism, 5).unwrap();
        let moved: Vec<f64> = observed.stars.v_los_kms().iter().copied().filter(|v| *v != 0.0).collect();
        let expected = fraction * n as f64;
        let count_sd = (n as f64 * fraction * (1.0 - fraction)).sqrt();
        assert!(
            (moved.len() as f64 - expected).abs() < 4.0 * count_sd,
            "{} jittered, expected {expected}",
            moved.len()
        );
        let sd = (moved.iter().map(|v| v * v).sum::<f64>() / moved.len() as f64).sqrt();
        // The standard error of a Gaussian's sample dispersion is sigma / sqrt(2 m).
        let sd_error = sigma_kms / (2.0 * moved.len() as f64).sqrt();
        assert!((sd - sigma_kms).abs() < 4.0 * sd_error, "jitter dispersion {sd} km/s, expected {sigma_kms}");
        // Positions, masses and the rest are untouched; no contaminants, no error model.
        assert_eq!(observed.stars.x_kpc(), stars.x_kpc());
        assert!(observed.contaminants.is_empty() && observed.velocity_errors_kms.is_none());
    }
}
