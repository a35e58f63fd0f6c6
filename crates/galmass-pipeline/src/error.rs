//! The pipeline's error: the leaf crates' errors, with the file or stage they concern.

use std::path::PathBuf;

use galmass_core::atomic::AtomicWriteError;
use galmass_core::CoreError;
use thiserror::Error;

/// Errors of the glue between galmass crates. Messages name the file (and the dataset or field) concerned.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// Invalid data or parameters in the shared vocabulary.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A galaxy file or snapshot could not be read or written.
    #[error(transparent)]
    Snapshot(#[from] galmass_snapshot::SnapshotError),
    /// A synthetic suite could not be built.
    #[error(transparent)]
    Synth(#[from] galmass_synth::SynthError),
    /// A mock observation failed (boxed: the mock error is large).
    #[error(transparent)]
    Mock(Box<galmass_mock::MockError>),
    /// An estimator failed.
    #[error(transparent)]
    Estimators(#[from] galmass_estimators::error::EstimatorError),
    /// A network or flow failed (training, prediction, checkpoint).
    #[error(transparent)]
    Models(#[from] galmass_models::ModelError),
    /// A GBDT failed.
    #[error(transparent)]
    Gbdt(#[from] galmass_estimators::gbdt::GbdtError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] galmass_metrics::MetricsError),
    /// The estimators failed on one projection of a galaxy file.
    #[error("{}: cannot estimate masses along {los:?}: {source}", path.display())]
    Estimate {
        /// The galaxy file.
        path: PathBuf,
        /// The line of sight.
        los: [f64; 3],
        /// The estimators' error.
        source: galmass_estimators::error::EstimatorError,
    },
    /// The maps of one projection of a galaxy file could not be made.
    #[error("{}: cannot make maps along {los:?}: {source}", path.display())]
    Maps {
        /// The galaxy file.
        path: PathBuf,
        /// The line of sight.
        los: [f64; 3],
        /// The mock-observation error (boxed: it is large).
        source: Box<galmass_mock::MockError>,
    },
    /// A figure could not be drawn or saved.
    #[error("figure {}: {source}", path.display())]
    Plot {
        /// The PNG file.
        path: PathBuf,
        /// What went wrong.
        source: galmass_plot::PlotError,
    },
    /// A figure could not be composed (bad series, empty plot).
    #[error("figure: {0}")]
    Figure(#[from] galmass_plot::PlotError),
    /// An atomic write failed (the destination is unchanged).
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    /// An HDF5 operation on a pipeline file failed.
    #[error("{}: {context}: {source}", path.display())]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The dataset, group or attribute and what was being done.
        context: String,
        /// The HDF5 library's error.
        source: hdf5::Error,
    },
    /// A file-system operation failed.
    #[error("{}: {context}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done.
        context: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A pipeline file holds something it should not (wrong format, version, shape or missing field).
    #[error("{}: {field}: {reason}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// The dataset, group or attribute.
        field: String,
        /// What is wrong, with what was expected and found.
        reason: String,
    },
    /// An input or parameter is invalid.
    #[error("{what}: {reason}")]
    Invalid {
        /// The input or parameter.
        what: String,
        /// Why.
        reason: String,
    },
}

impl From<galmass_mock::MockError> for PipelineError {
    fn from(e: galmass_mock::MockError) -> Self {
        Self::Mock(Box::new(e))
    }
}

impl PipelineError {
    /// Shorthand for [`PipelineError::Invalid`].
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Invalid { what: what.into(), reason: reason.into() }
    }
}
