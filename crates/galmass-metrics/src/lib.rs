//! # galmass-metrics
//!
//! The numbers every paper reports: log-ratio statistics (mean and scatter in dex, median and 16/84th percentiles of
//! pred/true, RMSE and MAE per radius) with bootstrap bands over galaxies, TARP posterior calibration, marginal
//! coverage, correlation matrices and binned statistics.
//!
//! Architecture invariant: this crate does no I/O at all (no files, no HDF5, no FITS); it takes slices and arrays
//! and returns numbers. The tidy test enforces it.
//!
//! Status: laid out by the foundation issue; the metrics arrive with the estimators-and-metrics issue.
