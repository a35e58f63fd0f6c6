//! Errors of the mock observations.

use std::path::PathBuf;

use galmass_core::atomic::AtomicWriteError;
use galmass_core::CoreError;
use thiserror::Error;

/// A mock observation could not be made.
#[derive(Debug, Error)]
pub enum MockError {
    /// A shared per-projection quantity failed (too few stars, bad aperture).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The KDE needs at least `needed` points in its aperture.
    #[error("{what}: needs at least {needed} stars in the aperture, got {got}")]
    TooFewPoints {
        /// Which map.
        what: String,
        /// Minimum count.
        needed: usize,
        /// Count found.
        got: usize,
    },
    /// The points lie on a line (or coincide): their covariance is singular and no Gaussian kernel exists.
    #[error("{what}: the {n} stars lie on a line (data covariance is singular: correlation {correlation})")]
    DegenerateCovariance {
        /// Which map.
        what: String,
        /// Number of points.
        n: usize,
        /// Correlation coefficient of the two coordinates (NaN when one variance is zero).
        correlation: f64,
    },
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// An input array is inconsistent.
    #[error("input `{name}`: expected {expected}, got {got}")]
    BadInput {
        /// The input.
        name: &'static str,
        /// What was expected.
        expected: String,
        /// What was found.
        got: String,
    },
    /// A file could not be put in place (creating its folder, syncing or renaming the temporary file); the error
    /// names the destination.
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    /// CFITSIO refused an operation.
    #[error("{}: {context}: {source}", path.display())]
    Fits {
        /// The file.
        path: PathBuf,
        /// What was being done.
        context: String,
        /// The library's error.
        #[source]
        source: fitsio::errors::Error,
    },
}

impl MockError {
    pub(crate) fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter { name, reason: reason.into() }
    }
}
