//! # galmass-estimators
//!
//! The baselines the learned models must beat:
//! - [`classic`]: the dispersion-based mass estimators of Walker et al. 2009, Wolf et al. 2010, Amorisco & Evans
//!   2012, Campbell et al. 2017 and Errani et al. 2018 (sarrato2025 §3), computed from the same star sample, R_h and
//!   sigma_los as the maps (`galmass_core::projection`), with bootstrap uncertainties;
//! - [`dispersion`]: line-of-sight dispersions, corrected for per-star velocity errors by maximum likelihood;
//! - [`baselines`]: the Tully-Fisher prediction of Hall et al. 2012 (delosrios2023 §5) and the power-law
//!   log M* - log L fit (chu2024 §4);
//! - [`gbdt`]: a LightGBM-class gradient boosted tree (chu2024 §2.3), with LightGBM's parameter names and
//!   defaults, a JSON model file and a small CSV reader for feature tables;
//! - [`mcmc`]: an affine-invariant ensemble MCMC sampler (Goodman & Weare 2010, as emcee) and its diagnostics.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_core::{LineOfSight, Particles};
//! use galmass_core::projection::ProjectedStars;
//! use galmass_estimators::classic::{estimate_all, EstimatorParams};
//! use ndarray::array;
//! let stars = Particles::new(
//!     array![[0.1, 0.0, 0.0], [0.0, 0.3, 0.0], [-0.2, 0.1, 0.0], [0.4, -0.4, 0.0], [0.0, -0.1, 0.2]],
//!     array![[0.0, 0.0, 8.0], [0.0, 0.0, -12.0], [0.0, 0.0, 3.0], [0.0, 0.0, -1.0], [0.0, 0.0, 10.0]],
//!     array![1.0, 1.0, 1.0, 1.0, 1.0],
//! ).unwrap();
//! let projected = ProjectedStars::new(&stars, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), None).unwrap();
//! let params = EstimatorParams { n_bootstrap: 50, ..EstimatorParams::default() }.check().unwrap();
//! let report = estimate_all(&projected, None, &params).unwrap();
//! // An estimator whose aperture holds fewer than two stars is skipped, with the reason.
//! assert_eq!(report.estimates.len() + report.skipped.len(), 5);
//! ```

pub mod baselines;
pub mod classic;
pub mod dispersion;
pub mod error;
pub mod gbdt;
pub mod mcmc;
pub mod rc;

pub use error::EstimatorError;
