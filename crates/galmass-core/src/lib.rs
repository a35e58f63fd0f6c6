//! # galmass-core
//!
//! The shared vocabulary of galmass: internal units and constants ([`units`]), particle containers per species
//! ([`particles`]), whole-galaxy kinematics (stellar frame, kappa_co: [`kinematics`]), the [`Galaxy`](galaxy::Galaxy) with its true mass profiles and the layout of the galaxy file
//! ([`galaxy`]), rotations, lines of sight and direction sets ([`geometry`]), and the per-projection star quantities
//! that maps and estimators must agree on ([`projection`]), and k-nearest-neighbour search with SPH smoothing lengths
//! and densities ([`neighbours`]). The base error is [`CoreError`].
//!
//! Shared helpers, one of each: atomic writes ([`atomic`], the crate's only I/O, `std` alone), interpolation,
//! quadrature and bisection ([`numeric`]), Lambda-CDM cosmology ([`cosmology`]) and the parameter-checking trait
//! ([`params`]); for tests, where the shared real-file fixtures are ([`fixtures`]).
//!
//! This crate links no native library; every other galmass crate depends on it.
//!
//! ```
//! use galmass_core::geometry::{DirectionSet, Rotation};
//! use galmass_core::projection::{ProjectedStars, SummaryParams};
//! use galmass_core::particles::Particles;
//! use ndarray::array;
//! let stars = Particles::new(
//!     array![[1.0, 0.0, 0.2], [-0.5, 0.5, 0.0], [0.0, -1.5, 1.0]],
//!     array![[3.0, 1.0, -2.0], [0.0, -4.0, 1.0], [2.0, 2.0, 2.0]],
//!     array![1e4, 1e4, 1e4],
//! ).unwrap();
//! for los in DirectionSet::BoxAxes.directions(&Rotation::identity()).unwrap() {
//!     let summary = ProjectedStars::new(&stars, &los, None).unwrap().summary(&SummaryParams::SARRATO2025).unwrap();
//!     assert!(summary.r_h_kpc > 0.0);
//! }
//! ```

pub mod atomic;
pub mod cosmology;
pub mod error;
pub mod fixtures;
pub mod galaxy;
pub mod geometry;
pub mod kinematics;
pub mod neighbours;
pub mod numeric;
pub mod params;
pub mod particles;
pub mod projection;
pub mod stats;
pub mod units;

pub use error::CoreError;
pub use galaxy::{Galaxy, GalaxyMeta, TruthProfiles, TruthSource};
pub use geometry::{DirectionSet, LineOfSight, Rotation};
pub use particles::{Particles, ScalarField, Species};
