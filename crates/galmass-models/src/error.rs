//! The one error type of galmass-models: configurations are checked before any libtorch call, so a bad layer size
//! is a [`ModelError`] naming the field instead of a panic inside `tch`.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_models::mlp::MlpConfig;
//! use galmass_models::ModelError;
//! let err = MlpConfig { n_inputs: 3, hidden: vec![16, 0], n_outputs: 1 }.check().unwrap_err();
//! assert!(matches!(err, ModelError::InvalidConfig { field: "hidden", .. }));
//! assert_eq!(err.to_string(), "invalid model configuration `hidden`: layer 1 has width 0, expected at least 1");
//! ```

use thiserror::Error;

/// A model could not be configured or built.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ModelError {
    /// A configuration field is out of range.
    #[error("invalid model configuration `{field}`: {reason}")]
    InvalidConfig {
        /// The field of the configuration.
        field: &'static str,
        /// What is wrong, with the value found.
        reason: String,
    },
    /// Training or prediction data is inconsistent (shapes, non-finite values, indices).
    #[error("invalid data `{field}`: {reason}")]
    InvalidData {
        /// What is wrong: the array or argument.
        field: &'static str,
        /// What is wrong, with the value found.
        reason: String,
    },
    /// A checkpoint could not be written or read, or does not match what loads it.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint folder or file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// libtorch refused an operation.
    #[error("libtorch: {0}")]
    Torch(String),
}

impl From<tch::TchError> for ModelError {
    fn from(e: tch::TchError) -> Self {
        ModelError::Torch(e.to_string())
    }
}
