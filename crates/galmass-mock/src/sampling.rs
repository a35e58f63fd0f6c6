//! Which stars each projection sees, and optional observational realism.
//!
//! - [`SampleScheme::SharedSample`] (sarrato2025 §2): one seeded sample of `min(N, max)` stars per galaxy (at least
//!   `min`), seen along every line of sight.
//! - [`SampleScheme::DisjointSubsets`] (exposito2026 §2): each projection uses its own random subset; subsets are
//!   disjoint, each of `min(N / n_projections, max)` stars (at least `min`).
//!
//! Realism (off by default, [`Realism`]): Gaussian velocity errors per star (fixed, or drawn uniformly between two
//! values per star), a fraction of contaminants (stars replaced by foreground objects placed uniformly over the disc
//! of the sample's largest radius, with velocities from a broad Gaussian), and binary-orbit jitter (a fraction of
//! stars get an extra Gaussian velocity). All draws are seeded.
//!
//! ```
//! use galmass_mock::sampling::{projection_samples, SampleScheme};
//! let shared = projection_samples(50_000, 64, &SampleScheme::SARRATO2025, 1).unwrap();
//! assert_eq!(shared.len(), 64);
//! assert_eq!(shared[0].len(), 10_000);
//! let subsets = projection_samples(50_000, 12, &SampleScheme::EXPOSITO2026, 1).unwrap();
//! assert_eq!(subsets[0].len(), 4166);
//! ```

use galmass_core::projection::{disjoint_subsets, subsample_indices, ProjectedStars};
use galmass_core::CoreError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;
use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// How stars are sampled for the projections of one galaxy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SampleScheme {
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

impl SampleScheme {
    /// sarrato2025 §2: 200 to 1e4 stars per galaxy, shared by its 64 projections.
    pub const SARRATO2025: SampleScheme = SampleScheme::SharedSample { min: 200, max: 10_000 };
    /// exposito2026 §2: disjoint subsets of 100 to 1e4 stars, one per projection.
    pub const EXPOSITO2026: SampleScheme = SampleScheme::DisjointSubsets { min: 100, max: 10_000 };
}

/// Star indices for each of `n_projections` projections of a galaxy with `n_stars` star particles.
pub fn projection_samples(
    n_stars: usize,
    n_projections: usize,
    scheme: &SampleScheme,
    seed: u64,
) -> Result<Vec<Vec<usize>>, MockError> {
    if n_projections == 0 {
        return Err(MockError::invalid("n_projections", "must be at least 1"));
    }
    match *scheme {
        SampleScheme::SharedSample { min, max } => {
            if n_stars < min {
                return Err(CoreError::TooFewParticles { what: "star sample".into(), needed: min, got: n_stars }.into());
            }
            let sample = subsample_indices(n_stars, max, seed);
            Ok(vec![sample; n_projections])
        }
        SampleScheme::DisjointSubsets { min, max } => {
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

/// Observational realism applied to a projected sample (all off by default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Realism {
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

impl Default for Realism {
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

/// Applies `realism` to a projected sample, deterministically for a seed.
pub fn observe(stars: &ProjectedStars, realism: &Realism, seed: u64) -> Result<ObservedSample, MockError> {
    for (name, f) in
        [("contaminant_fraction", realism.contaminant_fraction), ("binary_fraction", realism.binary_fraction)]
    {
        if !(0.0..=1.0).contains(&f) {
            return Err(MockError::invalid(name, format!("must be in [0, 1], got {f}")));
        }
    }
    for (name, s) in
        [("contaminant_sigma_kms", realism.contaminant_sigma_kms), ("binary_sigma_kms", realism.binary_sigma_kms)]
    {
        if !(s.is_finite() && s >= 0.0) {
            return Err(MockError::invalid(name, format!("must be finite and non-negative, got {s}")));
        }
    }
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
            let errors: Vec<f64> = match model {
                VelocityErrors::Fixed { kms } if kms.is_finite() && kms >= 0.0 => vec![kms; n],
                VelocityErrors::Uniform { min_kms, max_kms }
                    if min_kms.is_finite() && max_kms.is_finite() && 0.0 <= min_kms && min_kms <= max_kms =>
                {
                    (0..n).map(|_| min_kms + (max_kms - min_kms) * rng.random::<f64>()).collect()
                }
                other => {
                    return Err(MockError::invalid(
                        "velocity_errors",
                        format!("{other:?} needs finite 0 <= min <= max"),
                    ))
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

    #[test]
    fn schemes_follow_the_papers() {
        let few = projection_samples(150, 64, &SampleScheme::SARRATO2025, 0);
        assert!(matches!(few, Err(MockError::Core(CoreError::TooFewParticles { needed: 200, got: 150, .. }))));
        let small = projection_samples(500, 64, &SampleScheme::SARRATO2025, 0).unwrap();
        assert_eq!(small[0].len(), 500);
        assert!(small.iter().all(|s| s == &small[0]));
        let subsets = projection_samples(3000, 12, &SampleScheme::EXPOSITO2026, 0).unwrap();
        assert_eq!(subsets[0].len(), 250);
        let mut all: Vec<usize> = subsets.concat();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 3000);
        assert!(projection_samples(1000, 12, &SampleScheme::EXPOSITO2026, 0).is_err());
    }

    #[test]
    fn realism_is_seeded_and_off_by_default() {
        let stars = line_of_stars(1000);
        let none = observe(&stars, &Realism::default(), 1).unwrap();
        assert_eq!(none.stars, stars);
        assert!(none.velocity_errors_kms.is_none());
        let realism = Realism {
            velocity_errors: Some(VelocityErrors::Fixed { kms: 5.0 }),
            contaminant_fraction: 0.1,
            binary_fraction: 0.3,
            ..Realism::default()
        };
        let a = observe(&stars, &realism, 7).unwrap();
        assert_eq!(a, observe(&stars, &realism, 7).unwrap());
        assert_eq!(a.contaminants.len(), 100);
        let members: Vec<f64> =
            (0..1000).filter(|i| !a.contaminants.contains(i)).map(|i| a.stars.v_los_kms()[i]).collect();
        let sd = galmass_core::stats::variance(&members, 1).unwrap().sqrt();
        // Members: 5 km/s errors, 30% with 2 km/s jitter: sqrt(25 + 0.3 * 4) = 5.12.
        assert!((sd - 5.12).abs() < 0.4, "{sd}");
        assert!(observe(&stars, &Realism { contaminant_fraction: 1.5, ..Realism::default() }, 0).is_err());
        let bad = Realism {
            velocity_errors: Some(VelocityErrors::Uniform { min_kms: 3.0, max_kms: 1.0 }),
            ..Realism::default()
        };
        assert!(observe(&stars, &bad, 0).is_err());
    }
}
