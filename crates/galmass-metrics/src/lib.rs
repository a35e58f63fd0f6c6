//! # galmass-metrics
//!
//! The numbers every paper reports: log-ratio statistics (mean and scatter in dex, median and 16/84th percentiles of
//! pred/true, RMSE and MAE per radius) with bootstrap bands over galaxies, TARP posterior calibration, marginal
//! coverage, correlation matrices and binned statistics.
//!
//! Architecture invariant: this crate does no I/O at all (no files, no HDF5, no FITS); it takes slices and arrays
//! and returns numbers. The tidy test enforces it.
//!
//! Modules:
//! - [`logratio`]: mean/std of `log10(pred/true)` (chu2024), median and 16/84th percentiles of `pred/true`
//!   (sarrato2025, exposito2026), RMSE/MAE per radius (delosrios2023), each with galaxy-bootstrap bands;
//! - [`bootstrap`]: [`bootstrap_by_group`], the resampling of galaxies behind every band;
//! - [`tarp`]: TARP expected coverage (Lemos et al. 2023, bit-compatible with the `tarp` package 0.1.1 on request)
//!   and per-dimension marginal coverage;
//! - [`correlation`]: Pearson correlation matrices;
//! - [`binned`]: statistics in bins of radius, mass or inclination, and numpy-exact histograms;
//! - [`error`]: the one error type, [`MetricsError`].
//!
//! Conventions: percentiles use numpy's default linear interpolation ([`galmass_core::stats`]); every random choice
//! takes an explicit seed (ChaCha8); bad input is a [`MetricsError`], never a panic.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_metrics::bootstrap::BootstrapParams;
//! use galmass_metrics::logratio::log_ratio_stats_bootstrap;
//! let true_mass = [1e9, 1e9, 4e9, 4e9, 2e10, 2e10];
//! let pred_mass = [1.2e9, 1.1e9, 3.5e9, 3.9e9, 2.1e10, 1.8e10];
//! let galaxy_ids = [1, 1, 2, 2, 3, 3]; // two projections per galaxy
//! let params = BootstrapParams::new(7).check().unwrap();
//! let bands = log_ratio_stats_bootstrap(&pred_mass, &true_mass, &galaxy_ids, &params).unwrap();
//! assert!(bands.std_dex.value < 0.1 && bands.mean_dex.low <= bands.mean_dex.high);
//! ```

pub mod binned;
pub mod bootstrap;
mod check;
pub mod correlation;
pub mod error;
pub mod logratio;
pub mod tarp;

pub use bootstrap::{bootstrap_by_group, Band, BootstrapParams, BootstrapValidParams};
pub use error::MetricsError;
