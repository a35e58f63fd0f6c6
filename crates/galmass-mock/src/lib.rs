//! # galmass-mock
//!
//! Mock observations of a galaxy along a line of sight:
//! - [`kde`]: 2-d Gaussian kernel density estimation on a grid, identical to `scipy.stats.gaussian_kde` and far
//!   faster (separable matrix-product form with exact recurrences);
//! - [`star_maps`]: the two stellar kinematic maps of sarrato2025 and exposito2026;
//! - [`sampling`]: the star sample of each projection (one sample per galaxy, or disjoint subsets) and optional
//!   observational realism (velocity errors, contaminants, binary jitter);
//! - [`fits`]: FITS images with their grid in the header;
//! - [`hi`]: synthetic HI data cubes of a galaxy's gas and their moment maps (MARTINI's physics, one module per
//!   concept), and real survey cubes read from FITS and brought to a training recipe;
//! - [`optical`]: SPH images, kinematic maps and SDSS-like frames; [`features`]: chu2024's summary statistics.
//!
//! Every per-projection quantity (star subsample,
//! R_h, sigma_los, v_p98, apertures) comes from `galmass_core::projection` and is never re-implemented here.

pub mod error;
pub mod features;
pub mod fits;
pub mod hi;
pub mod kde;
pub mod optical;
pub mod sampling;
pub mod star_maps;

pub use error::MockError;
