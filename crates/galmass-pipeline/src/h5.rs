//! The HDF5 attribute helpers of the pipeline's own files (products files, datasets and their units): errors name
//! the file and the attribute.

use std::path::Path;

use galmass_snapshot::gadget_hdf5::{read_string_attr, StringAttrError};
use hdf5::types::VarLenUnicode;

use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

/// An HDF5 error on `path` while doing `context`.
pub(crate) fn h5err(path: &Path, context: impl Into<String>) -> impl FnOnce(hdf5::Error) -> PipelineError {
    let (path, context) = (path.to_owned(), context.into());
    move |source| PipelineError::Hdf5 { path, context, source }
}

/// `value` as an HDF5 variable-length UTF-8 string.
pub(crate) fn text(path: &Path, value: &str) -> Result<VarLenUnicode> {
    value.parse::<VarLenUnicode>().map_err(|e| PipelineError::BadFile {
        path: path.to_owned(),
        field: "string attribute".into(),
        reason: format!("cannot store {value:?} as an HDF5 string: {e}"),
    })
}

/// Writes the string attribute `name`.
pub(crate) fn write_str(path: &Path, loc: &hdf5::Location, name: &str, value: &str) -> Result<()> {
    let v = text(path, value)?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)
        .and_then(|a| a.write_scalar(&v))
        .map_err(h5err(path, format!("writing attribute {name}")))
}

/// Writes the scalar attribute `name`.
pub(crate) fn write_scalar<T: hdf5::H5Type>(path: &Path, loc: &hdf5::Location, name: &str, value: T) -> Result<()> {
    loc.new_attr::<T>()
        .create(name)
        .and_then(|a| a.write_scalar(&value))
        .map_err(h5err(path, format!("writing attribute {name}")))
}

/// Writes the float64 array attribute `name`.
pub(crate) fn write_array(path: &Path, loc: &hdf5::Location, name: &str, values: &[f64]) -> Result<()> {
    loc.new_attr_builder()
        .with_data(values)
        .create(name)
        .map(|_| ())
        .map_err(h5err(path, format!("writing attribute {name}")))
}

/// Reads the string attribute `name` of `loc` (`where_` prefixes the field in errors).
pub(crate) fn read_str(path: &Path, loc: &hdf5::Location, where_: &str, name: &str) -> Result<String> {
    let attr = loc.attr(name).map_err(|_| missing(path, where_, name))?;
    read_string_attr(&attr).map_err(|e| PipelineError::BadFile {
        path: path.to_owned(),
        field: format!("{where_}{name}"),
        reason: match e {
            StringAttrError::Hdf5(e) => format!("not a string: {e}"),
            StringAttrError::NotAString(found) => format!("expected a string attribute, got {found}"),
        },
    })
}

/// Reads the scalar attribute `name` of `loc`.
pub(crate) fn read_scalar<T: hdf5::H5Type>(path: &Path, loc: &hdf5::Location, where_: &str, name: &str) -> Result<T> {
    let attr = loc.attr(name).map_err(|_| missing(path, where_, name))?;
    attr.read_scalar::<T>().map_err(|e| PipelineError::BadFile {
        path: path.to_owned(),
        field: format!("{where_}{name}"),
        reason: format!("expected a scalar of type {}: {e}", std::any::type_name::<T>()),
    })
}

/// A missing field `{where_}{name}` of `path`.
pub(crate) fn missing(path: &Path, where_: &str, name: &str) -> PipelineError {
    PipelineError::BadFile { path: path.to_owned(), field: format!("{where_}{name}"), reason: "missing".into() }
}

/// A [`PipelineError::BadFile`] for `field` of `path`.
pub(crate) fn bad_file(path: &Path, field: impl Into<String>, reason: impl Into<String>) -> PipelineError {
    PipelineError::BadFile { path: path.to_owned(), field: field.into(), reason: reason.into() }
}
