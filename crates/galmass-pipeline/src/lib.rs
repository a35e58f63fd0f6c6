//! # galmass-pipeline
//!
//! The glue of galmass: everything that joins two leaf crates lives here, never in the leaves or in the CLI (which
//! parses arguments, calls these functions and prints).
//!
//! - [`projection`]: a galaxy file read and one projection of its stars, with its truth (the file's, or counted from
//!   particles);
//! - [`estimate`]: the classic estimators of one projection next to the truth (`galmass estimate`);
//! - [`maps`] and [`products`]: mock-observation maps of one projection, and the versioned per-projection products
//!   file that holds them, with its reader (`galmass maps stars`);
//! - [`suite`], [`native`] and [`synth_plots`]: a synthetic suite written to disk, resumable, with its catalogue,
//!   manifest, population plots and the simulations' native formats (`galmass synth`);
//! - [`info`]: a galaxy file's summary (`galmass info`).
//!
//! Later issues add datasets of projections (selection, balancing, splits by galaxy), the experiments of the four
//! papers and their reports. Errors are [`PipelineError`], naming the file and field.
//!
//! ```no_run
//! use galmass_pipeline::estimate::{estimate_galaxy, EstimateRequest};
//! use galmass_pipeline::projection::ProjectionRequest;
//! use galmass_estimators::classic::EstimatorParams;
//! let request = EstimateRequest {
//!     projection: ProjectionRequest::new([0.0, 0.0, 1.0]),
//!     velocity_error_kms: Some(2.0),
//!     params: EstimatorParams::default(),
//! };
//! let out = estimate_galaxy("galaxy.h5".as_ref(), &request).unwrap();
//! println!("{}", out.to_json());
//! ```

pub mod dataset;
pub mod error;
pub mod estimate;
pub mod experiment;
mod h5;
pub mod hi;
pub mod info;
pub mod maps;
pub mod native;
pub mod optical;
pub mod photometry;
pub mod products;
pub mod projection;
pub mod rc;
pub mod suite;
pub mod synth_plots;
#[cfg(test)]
mod test_support;

pub use error::PipelineError;
