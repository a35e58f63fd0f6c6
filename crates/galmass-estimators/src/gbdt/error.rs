//! Errors of the gradient boosted trees: bad parameters, bad input data, unreadable tables and model files.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_estimators::gbdt::{GbdtError, GbdtParams};
//! let err = GbdtParams { num_leaves: 1, ..GbdtParams::default() }.check().unwrap_err();
//! assert!(matches!(err, GbdtError::InvalidParameter { name: "num_leaves", .. }));
//! ```

use std::path::PathBuf;

use galmass_core::atomic::AtomicWriteError;
use thiserror::Error;

/// Something the gradient boosted trees cannot work with. Messages name the parameter, input, file, line or column.
#[derive(Debug, Error)]
pub enum GbdtError {
    /// A parameter is out of range or inconsistent with another.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter (LightGBM's name).
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// Input arrays are inconsistent (empty, mismatched widths or lengths, non-finite labels).
    #[error("input `{name}`: expected {expected}, got {got}")]
    BadInput {
        /// The input.
        name: &'static str,
        /// What was expected.
        expected: String,
        /// What was found.
        got: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be put in place (writing, syncing or renaming its temporary); the error names the
    /// destination.
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    /// A CSV cell is not a number.
    #[error("{source_name}: line {line}, column {column} (`{column_name}`): cannot read `{value}` as a number")]
    CsvCell {
        /// File name (or another label of the text).
        source_name: String,
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The column's header.
        column_name: String,
        /// The offending text.
        value: String,
    },
    /// A CSV file is malformed (no header, ragged rows, duplicate or unknown columns).
    #[error("{source_name}: {reason}")]
    Csv {
        /// File name (or another label of the text).
        source_name: String,
        /// What is wrong, with the line where it applies.
        reason: String,
    },
    /// A model file is not a galmass GBDT model or is inconsistent.
    #[error("model {source_name}: {reason}")]
    Model {
        /// File name (or another label of the text).
        source_name: String,
        /// What is wrong.
        reason: String,
    },
    /// The worker threads could not be started.
    #[error("cannot start {num_threads} worker threads: {reason}")]
    ThreadPool {
        /// Requested threads.
        num_threads: usize,
        /// rayon's message.
        reason: String,
    },
}
