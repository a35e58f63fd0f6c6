//! # galmass-estimators
//!
//! The baselines the learned models must beat: the classic dispersion-based mass estimators (Walker 2009,
//! Wolf 2010, Amorisco & Evans 2012, Campbell 2017, Errani 2018; sarrato2025 §3), Tully-Fisher and power-law
//! mass-to-light baselines, and a LightGBM-class gradient boosted tree (chu2024 §4).
//!
//! Status: laid out by the foundation issue; the estimators arrive with their own issues. They take R_h and
//! sigma_los from `galmass_core::projection`, the same numbers the maps use.
