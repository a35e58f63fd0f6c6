//! # galmass-mock
//!
//! Mock observations of a galaxy along a line of sight: the stellar kinematic maps of sarrato2025 and exposito2026
//! (KDE of positions and of radius-velocity), MARTINI-like HI data cubes and their moments, multi-band images, and
//! FITS input and output.
//!
//! Status: laid out by the foundation issue; the maps arrive with the stellar-kinematic-maps issue. Every
//! per-projection quantity (star subsample, R_h, sigma_los, v_p98, apertures) comes from
//! `galmass_core::projection` and is never re-implemented here.
