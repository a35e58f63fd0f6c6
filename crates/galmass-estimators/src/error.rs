//! Errors of the estimators.

use galmass_core::CoreError;
use thiserror::Error;

/// An estimator could not be computed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EstimatorError {
    /// A shared per-projection quantity failed (too few stars, bad aperture).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A parameter is out of range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// An input array is inconsistent (length mismatch, NaN, negative error).
    #[error("input `{name}`: expected {expected}, got {got}")]
    BadInput {
        /// The input.
        name: &'static str,
        /// What was expected.
        expected: String,
        /// What was found.
        got: String,
    },
}
