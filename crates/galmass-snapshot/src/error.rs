//! Errors of the snapshot crate: every variant names the file, and the field where there is one.

use std::path::PathBuf;

use galmass_core::atomic::AtomicWriteError;
use galmass_core::CoreError;
use thiserror::Error;

/// An error reading or writing a snapshot or galaxy file.
#[derive(Debug, Error)]
pub enum SnapshotError {
    /// The HDF5 library refused an operation.
    #[error("{}: {context}: {source}", path.display())]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// What was being done, naming the object (`reading dataset stars/pos`).
        context: String,
        /// The library's error.
        #[source]
        source: hdf5::Error,
    },
    /// A required attribute, dataset or group is absent.
    #[error("{}: missing {kind} `{name}`", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// `attribute`, `dataset` or `group`.
        kind: &'static str,
        /// Its full name (`stars/pos`, `redshift`).
        name: String,
    },
    /// A field has the wrong type or shape.
    #[error("{}: field `{field}`: expected {expected}, got {got}", path.display())]
    BadField {
        /// The file.
        path: PathBuf,
        /// The field's full name.
        field: String,
        /// What was expected.
        expected: String,
        /// What was found.
        got: String,
    },
    /// The file is HDF5 but not a galaxy file.
    #[error("{}: not a galmass galaxy file: {reason}", path.display())]
    NotAGalaxyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The data read are invalid (NaN, negative mass, inconsistent lengths); `group` says where.
    #[error("{}: group `{group}`: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The group (`stars`, `truth`, `/`).
        group: String,
        /// What is wrong.
        #[source]
        source: CoreError,
    },
    /// A file-system operation failed.
    #[error("{}: {context}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Writing a file into place failed (creating its folder, its temporary, syncing or renaming it); the error
    /// names the destination, which is left as it was (no temporary stays behind).
    #[error(transparent)]
    Write(#[from] AtomicWriteError),
    /// A tipsy snapshot has no `.param` file beside it and no units were given: its header can be reported, but
    /// reading particles needs the units (`TipsyOptions::param_path` / `galmass ... --param FILE`, or explicit units
    /// `TipsyOptions::units` / `--dkpcunit`, `--dmsolunit`, ...).
    #[error(
        "{}: the units are unknown: no .param file beside the snapshot or in its parent folder; give a .param file \
         (--param FILE) or the units (--dkpcunit KPC --dmsolunit MSUN, with --comoving and --hubble H for a \
         cosmological run) to read its particles",
        path.display()
    )]
    UnitsUnknown {
        /// The tipsy file.
        path: PathBuf,
    },
    /// The file ends before the data its header announces.
    #[error("{}: field `{field}`: file truncated: needs {expected_bytes} bytes, has {got_bytes}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// What was being read (`header`, `gas[12].pos`, `iord`).
        field: String,
        /// Bytes the header implies.
        expected_bytes: u64,
        /// Bytes present.
        got_bytes: u64,
    },
    /// A file's content cannot be parsed (bad header, bad number, inconsistent counts).
    #[error("{}: field `{field}`: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The field or line (`header.ndim`, `line 12`, `dKpcUnit`).
        field: String,
        /// What is wrong.
        reason: String,
    },
}
