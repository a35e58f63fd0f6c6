//! Errors of the synthetic-galaxy generator.

use galmass_core::CoreError;
use thiserror::Error;

/// A synthetic galaxy could not be built.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SynthError {
    /// A shared-vocabulary error (invalid particles, rotations).
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
    /// The tracer/potential pair has no non-negative distribution function with this anisotropy over too large a
    /// part of the tracer.
    #[error("no physical distribution function ({model}): f < 0 from E = {energy_kms2} (km/s)^2, affecting up to {value} of the tracer mass")]
    NegativeDistributionFunction {
        /// The model.
        model: String,
        /// Lowest energy where f is negative.
        energy_kms2: f64,
        /// Bound on the affected tracer mass fraction.
        value: f64,
    },
    /// The SSP table is malformed.
    #[error("ssp table, {location}: {reason}")]
    SspTable {
        /// Where: `line N`, `header` or `grid`.
        location: String,
        /// What is wrong.
        reason: String,
    },
}
