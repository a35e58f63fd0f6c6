//! # galmass-pipeline
//!
//! The glue of galmass: everything that joins two leaf crates lives here, never in the leaves or in the CLI.
//!
//! - [`synth_plots`]: the population plots of a synthetic suite (galmass-synth rows drawn with galmass-plot).
//!
//! Later issues add datasets of projections (selection, balancing, splits by galaxy), the experiments of the four
//! papers and their reports. Errors are [`PipelineError`].

pub mod error;
pub mod synth_plots;

pub use error::PipelineError;
