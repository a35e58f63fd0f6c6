//! The base error type shared by every galmass crate.
//!
//! Library crates wrap [`CoreError`] in their own `thiserror` enums and add context (a file path, a dataset name).
//! Messages are lowercase and carry the field, what was expected and what was found.

use thiserror::Error;

/// Errors raised by the shared vocabulary: invalid particle data, geometry and per-projection quantities.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CoreError {
    /// An array has the wrong shape or length.
    #[error("field `{field}`: expected {expected}, got {got}")]
    Shape {
        /// The field (array) name, as in the galaxy file.
        field: String,
        /// What was expected, in words.
        expected: String,
        /// What was found, in words.
        got: String,
    },
    /// An array holds a NaN or an infinity where a finite number is required.
    #[error("field `{field}`: non-finite value {value} at index {index}")]
    NonFinite {
        /// The field (array) name.
        field: String,
        /// The first offending index (row for 2-d arrays).
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A quantity needs more particles (or stars) than are available.
    #[error("{what}: needs at least {needed} stars, got {got}")]
    TooFewParticles {
        /// What was being computed.
        what: String,
        /// The minimum count.
        needed: usize,
        /// The count available.
        got: usize,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A requested species is absent from the galaxy.
    #[error("galaxy has no {0} particles")]
    MissingSpecies(crate::particles::Species),
}

impl CoreError {
    /// Shorthand for [`CoreError::InvalidParameter`].
    pub fn invalid(name: &str, reason: impl Into<String>) -> Self {
        Self::InvalidParameter { name: name.to_owned(), reason: reason.into() }
    }
}
