//! The one error type of galmass-metrics.
//!
//! Every metric checks its inputs before computing and returns a [`MetricsError`] instead of panicking: empty
//! inputs, length or shape mismatches, NaN or infinite values, non-positive masses in a log ratio, unordered bin
//! edges, constant columns in a correlation and invalid parameters. Messages are lowercase and name the argument,
//! what was expected and what was found.
//!
//! ```
//! use galmass_metrics::{logratio::log_ratio_stats, MetricsError};
//! let err = log_ratio_stats(&[1.0, -2.0], &[1.0, 1.0]).unwrap_err();
//! assert!(matches!(err, MetricsError::NonPositive { argument: "pred_mass", .. }));
//! assert_eq!(err.to_string(), "`pred_mass`: expected a positive value, got -2 at index [1]");
//! ```

use thiserror::Error;

/// Errors raised by the metrics on invalid input or parameters.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MetricsError {
    /// An input has fewer values than the metric needs (an empty slice, one row for a correlation, ...).
    #[error("`{argument}`: expected at least {expected} values, got {got}")]
    TooFew {
        /// The argument name.
        argument: &'static str,
        /// The minimum count.
        expected: usize,
        /// The count given.
        got: usize,
    },
    /// Two paired inputs have different lengths.
    #[error("`{argument}`: expected length {expected} (the length of `{reference}`), got {got}")]
    LengthMismatch {
        /// The argument whose length is wrong.
        argument: &'static str,
        /// The argument it must match.
        reference: &'static str,
        /// The expected length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// An array has the wrong shape.
    #[error("`{argument}`: expected shape {expected:?}, got {got:?}")]
    Shape {
        /// The argument name.
        argument: &'static str,
        /// The expected shape.
        expected: Vec<usize>,
        /// The shape given.
        got: Vec<usize>,
    },
    /// A NaN or an infinity where a finite number is required.
    #[error("`{argument}`: expected a finite value, got {value} at index {index:?}")]
    NonFinite {
        /// The argument name.
        argument: &'static str,
        /// The first offending index (one entry per array axis).
        index: Vec<usize>,
        /// The offending value.
        value: f64,
    },
    /// A zero or negative value where a positive one is required (masses in a log ratio).
    #[error("`{argument}`: expected a positive value, got {value} at index {index:?}")]
    NonPositive {
        /// The argument name.
        argument: &'static str,
        /// The first offending index.
        index: Vec<usize>,
        /// The offending value.
        value: f64,
    },
    /// Bin edges (or another ordered grid) that do not increase strictly.
    #[error("`{argument}`: expected strictly increasing values, got {previous} then {value} at index {index}")]
    NotIncreasing {
        /// The argument name.
        argument: &'static str,
        /// The index of the first value not above its predecessor.
        index: usize,
        /// The predecessor.
        previous: f64,
        /// The offending value.
        value: f64,
    },
    /// A constant column, whose correlation with anything is undefined.
    #[error("`{argument}`: expected a column with spread, got column {column} constant at {value}")]
    ConstantColumn {
        /// The argument name.
        argument: &'static str,
        /// The column index.
        column: usize,
        /// The value every row holds.
        value: f64,
    },
    /// A parameter outside its valid range.
    #[error("invalid parameter `{name}`: expected {expected}, got {got}")]
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// What is allowed, in words.
        expected: String,
        /// What was given.
        got: String,
    },
}

impl MetricsError {
    /// Shorthand for [`MetricsError::InvalidParameter`].
    pub(crate) fn invalid(name: &'static str, expected: impl Into<String>, got: impl ToString) -> Self {
        Self::InvalidParameter { name, expected: expected.into(), got: got.to_string() }
    }
}
