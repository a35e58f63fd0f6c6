//! HDF5 context helpers: every HDF5 call of the crate (the Gadget-family readers and writers, the Subfind
//! catalogue, the galaxy file) goes through a [`Ctx`] naming the file, so that each error says which file and which
//! object (`PartType1/Coordinates`, `Header/NumPart_ThisFile`, `stars/pos`) it is about.
//!
//! Readers are lenient where h5py users differ (a scalar attribute may be a length-1 array; strings may be
//! variable-length or fixed-length, UTF-8 or ASCII) and strict on what matters (numeric types, shapes, row counts).

use std::path::Path;

use galmass_core::CoreError;
use hdf5::types::{TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, Dataset, Datatype, Group, H5Type, Location};
use ndarray::{Array1, Array2};

use crate::error::SnapshotError;

/// `group/name`, or `name` at the root (`group` empty).
pub(crate) fn join(group: &str, name: &str) -> String {
    if group.is_empty() {
        name.to_owned()
    } else {
        format!("{group}/{name}")
    }
}

/// Why [`read_string_attr`] failed.
#[derive(Debug)]
pub enum StringAttrError {
    /// The HDF5 library could not read the attribute or its type.
    Hdf5(hdf5::Error),
    /// The attribute is not a string; the type found, in words.
    NotAString(String),
}

/// The text of a string attribute, as h5py and our writers store it: variable-length (h5py's default for `str`) or
/// fixed-length, UTF-8 or ASCII (fixed-length padding NULs removed). The one string reader of every galmass HDF5
/// file (galaxy files, snapshots, the pipeline's products file).
pub fn read_string_attr(attr: &Attribute) -> Result<String, StringAttrError> {
    let descriptor = attr.dtype().and_then(|t| t.to_descriptor()).map_err(StringAttrError::Hdf5)?;
    let text = match descriptor {
        TypeDescriptor::VarLenUnicode => attr.read_scalar::<VarLenUnicode>().map(|t| t.as_str().to_owned()),
        TypeDescriptor::VarLenAscii => attr.read_scalar::<VarLenAscii>().map(|t| t.as_str().to_owned()),
        TypeDescriptor::FixedAscii(_) => {
            attr.read_scalar::<hdf5::types::FixedAscii<1024>>().map(|t| t.as_str().trim_end_matches('\0').to_owned())
        }
        TypeDescriptor::FixedUnicode(_) => {
            attr.read_scalar::<hdf5::types::FixedUnicode<1024>>().map(|t| t.as_str().trim_end_matches('\0').to_owned())
        }
        other => return Err(StringAttrError::NotAString(format!("{other:?}"))),
    };
    text.map_err(StringAttrError::Hdf5)
}

/// The file being read or written, for error context. When writing through a temporary file, `path` is the
/// destination (what the user asked for), not the temporary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) path: &'a Path,
}

impl Ctx<'_> {
    pub(crate) fn hdf5(&self, context: &str, source: hdf5::Error) -> SnapshotError {
        SnapshotError::Hdf5 { path: self.path.to_owned(), context: context.to_owned(), source }
    }

    pub(crate) fn missing(&self, kind: &'static str, name: impl Into<String>) -> SnapshotError {
        SnapshotError::Missing { path: self.path.to_owned(), kind, name: name.into() }
    }

    pub(crate) fn bad_field(&self, field: &str, expected: impl Into<String>, got: impl Into<String>) -> SnapshotError {
        SnapshotError::BadField {
            path: self.path.to_owned(),
            field: field.to_owned(),
            expected: expected.into(),
            got: got.into(),
        }
    }

    pub(crate) fn malformed(&self, field: &str, reason: impl Into<String>) -> SnapshotError {
        SnapshotError::Malformed { path: self.path.to_owned(), field: field.to_owned(), reason: reason.into() }
    }

    /// Invalid data in `group` (the root `""` is reported as `/`).
    pub(crate) fn invalid(&self, group: &str, source: CoreError) -> SnapshotError {
        SnapshotError::Invalid {
            path: self.path.to_owned(),
            group: if group.is_empty() { "/".into() } else { group.into() },
            source,
        }
    }

    /// Opens the file read-only.
    pub(crate) fn open(&self) -> Result<hdf5::File, SnapshotError> {
        hdf5::File::open(self.path).map_err(|e| self.hdf5("opening the file", e))
    }

    /// Creates (truncates) `at` for writing; errors name this context's file (the destination).
    pub(crate) fn create(&self, at: &Path) -> Result<hdf5::File, SnapshotError> {
        hdf5::File::create(at).map_err(|e| self.hdf5("creating the file", e))
    }

    /// Group `name` of `loc` (a path from it); [`SnapshotError::Missing`] when absent.
    pub(crate) fn group(&self, loc: &Group, name: &str) -> Result<Group, SnapshotError> {
        if !loc.link_exists(name) {
            return Err(self.missing("group", name));
        }
        loc.group(name).map_err(|e| self.hdf5(&format!("opening group {name}"), e))
    }

    /// Creates group `name` of `loc`.
    pub(crate) fn create_group(&self, loc: &Group, name: &str) -> Result<Group, SnapshotError> {
        loc.create_group(name).map_err(|e| self.hdf5(&format!("creating group {name}"), e))
    }

    /// Dataset `name` of `loc` (a path from it, reported as is); [`SnapshotError::Missing`] when absent.
    pub(crate) fn dataset(&self, loc: &Group, name: &str) -> Result<Dataset, SnapshotError> {
        if !loc.link_exists(name) {
            return Err(self.missing("dataset", name));
        }
        loc.dataset(name).map_err(|e| self.hdf5(&format!("opening dataset {name}"), e))
    }

    /// Dataset `name` of group `group` whose full name is `gname/name`.
    pub(crate) fn dataset_in(&self, group: &Group, gname: &str, name: &str) -> Result<Dataset, SnapshotError> {
        if !group.link_exists(name) {
            return Err(self.missing("dataset", join(gname, name)));
        }
        group.dataset(name).map_err(|e| self.hdf5(&format!("opening dataset {}", join(gname, name)), e))
    }

    /// Whether `loc` has attribute `name`.
    pub(crate) fn has_attr(&self, loc: &Location, group: &str, name: &str) -> Result<bool, SnapshotError> {
        let names = loc.attr_names().map_err(|e| self.hdf5(&format!("listing attributes of `{group}`"), e))?;
        Ok(names.iter().any(|n| n == name))
    }

    /// Attribute `name` of `loc` (whose name is `group`), when present.
    pub(crate) fn attr_opt(&self, loc: &Location, group: &str, name: &str) -> Result<Option<Attribute>, SnapshotError> {
        if !self.has_attr(loc, group, name)? {
            return Ok(None);
        }
        loc.attr(name).map(Some).map_err(|e| self.hdf5(&format!("opening attribute {}", join(group, name)), e))
    }

    /// The type descriptor of an attribute or dataset.
    fn descriptor(&self, dtype: hdf5::Result<Datatype>, full: &str) -> Result<TypeDescriptor, SnapshotError> {
        dtype.and_then(|t| t.to_descriptor()).map_err(|e| self.hdf5(&format!("reading the type of {full}"), e))
    }

    /// [`SnapshotError::BadField`] unless the type is a float or an integer.
    pub(crate) fn check_numeric(&self, dtype: hdf5::Result<Datatype>, full: &str) -> Result<(), SnapshotError> {
        match self.descriptor(dtype, full)? {
            TypeDescriptor::Float(_) | TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => Ok(()),
            other => Err(self.bad_field(full, "a numeric field", format!("{other:?}"))),
        }
    }

    /// A numeric attribute of one value (scalar or length-1 array), when present.
    pub(crate) fn scalar_attr_opt<T: H5Type + Copy>(
        &self,
        loc: &Location,
        group: &str,
        name: &str,
    ) -> Result<Option<T>, SnapshotError> {
        let Some(attr) = self.attr_opt(loc, group, name)? else { return Ok(None) };
        let full = join(group, name);
        self.check_numeric(attr.dtype(), &full)?;
        let shape = attr.shape();
        let values = attr.read_raw::<T>().map_err(|e| self.hdf5(&format!("reading attribute {full}"), e))?;
        match values.as_slice() {
            [v] => Ok(Some(*v)),
            _ => Err(self.bad_field(&full, "one value", format!("shape {shape:?}"))),
        }
    }

    /// A numeric attribute of one value; [`SnapshotError::Missing`] when absent.
    pub(crate) fn scalar_attr<T: H5Type + Copy>(
        &self,
        loc: &Location,
        group: &str,
        name: &str,
    ) -> Result<T, SnapshotError> {
        self.scalar_attr_opt(loc, group, name)?.ok_or_else(|| self.missing("attribute", join(group, name)))
    }

    /// A numeric attribute of exactly `N` values, when present.
    pub(crate) fn array_attr_opt<T: H5Type + Copy + Default, const N: usize>(
        &self,
        loc: &Location,
        group: &str,
        name: &str,
    ) -> Result<Option<[T; N]>, SnapshotError> {
        let Some(attr) = self.attr_opt(loc, group, name)? else { return Ok(None) };
        let full = join(group, name);
        self.check_numeric(attr.dtype(), &full)?;
        let values = attr.read_raw::<T>().map_err(|e| self.hdf5(&format!("reading attribute {full}"), e))?;
        if values.len() != N {
            return Err(self.bad_field(&full, format!("{N} values"), format!("{} values", values.len())));
        }
        let mut out = [T::default(); N];
        out.copy_from_slice(&values);
        Ok(Some(out))
    }

    /// A numeric attribute of exactly `N` values; [`SnapshotError::Missing`] when absent.
    pub(crate) fn array_attr<T: H5Type + Copy + Default, const N: usize>(
        &self,
        loc: &Location,
        group: &str,
        name: &str,
    ) -> Result<[T; N], SnapshotError> {
        self.array_attr_opt(loc, group, name)?.ok_or_else(|| self.missing("attribute", join(group, name)))
    }

    /// A string attribute, variable-length (h5py's default for `str`) or fixed-length, UTF-8 or ASCII, when present.
    pub(crate) fn string_attr_opt(
        &self,
        loc: &Location,
        group: &str,
        name: &str,
    ) -> Result<Option<String>, SnapshotError> {
        let Some(attr) = self.attr_opt(loc, group, name)? else { return Ok(None) };
        let full = join(group, name);
        let text = read_string_attr(&attr).map_err(|e| match e {
            StringAttrError::Hdf5(source) => self.hdf5(&format!("reading attribute {full}"), source),
            StringAttrError::NotAString(found) => self.bad_field(&full, "a string", found),
        })?;
        Ok(Some(text))
    }

    /// A string attribute; [`SnapshotError::Missing`] when absent.
    pub(crate) fn string_attr(&self, loc: &Location, group: &str, name: &str) -> Result<String, SnapshotError> {
        self.string_attr_opt(loc, group, name)?.ok_or_else(|| self.missing("attribute", join(group, name)))
    }

    /// Writes a variable-length UTF-8 string attribute (h5py's `str`).
    pub(crate) fn write_string_attr(&self, loc: &Location, name: &str, value: &str) -> Result<(), SnapshotError> {
        let text: VarLenUnicode =
            value.parse().map_err(|_| self.bad_field(name, "a string without NUL characters", format!("{value:?}")))?;
        loc.new_attr::<VarLenUnicode>()
            .create(name)
            .and_then(|a| a.write_scalar(&text))
            .map_err(|e| self.hdf5(&format!("writing attribute {name}"), e))
    }

    /// Writes a scalar attribute.
    pub(crate) fn write_scalar_attr<T: H5Type>(
        &self,
        loc: &Location,
        name: &str,
        value: &T,
    ) -> Result<(), SnapshotError> {
        loc.new_attr::<T>()
            .create(name)
            .and_then(|a| a.write_scalar(value))
            .map_err(|e| self.hdf5(&format!("writing attribute {name}"), e))
    }

    /// Writes attribute `name` of `loc`: a scalar for one value, an array otherwise (Gadget headers).
    pub(crate) fn write_attr<T: H5Type>(&self, loc: &Location, name: &str, values: &[T]) -> Result<(), SnapshotError> {
        let result = match values {
            [one] => loc.new_attr::<T>().create(name).and_then(|a| a.write_scalar(one)),
            _ => loc.new_attr_builder().with_data(values).create(name).map(|_| ()),
        };
        result.map_err(|e| self.hdf5(&format!("writing attribute {name}"), e))
    }

    /// Writes dataset `gname/name` of `group` from an array view.
    pub(crate) fn write_ds<'d, T, A, D>(
        &self,
        group: &Group,
        gname: &str,
        name: &str,
        data: A,
    ) -> Result<Dataset, SnapshotError>
    where
        T: H5Type + 'd,
        A: Into<ndarray::ArrayView<'d, T, D>>,
        D: ndarray::Dimension,
    {
        let view: ndarray::ArrayView<'d, T, D> = data.into();
        group
            .new_dataset_builder()
            .with_data(&view)
            .create(name)
            .map_err(|e| self.hdf5(&format!("writing dataset {}", join(gname, name)), e))
    }

    /// A 1-d numeric dataset `gname/name` as `f64`.
    pub(crate) fn read_1d(&self, group: &Group, gname: &str, name: &str) -> Result<Array1<f64>, SnapshotError> {
        let full = join(gname, name);
        let ds = self.dataset_in(group, gname, name)?;
        let shape = ds.shape();
        if shape.len() != 1 {
            return Err(self.bad_field(&full, "a 1-d dataset", format!("shape {shape:?}")));
        }
        self.check_numeric(ds.dtype(), &full)?;
        ds.read_1d::<f64>().map_err(|e| self.hdf5(&format!("reading dataset {full}"), e))
    }

    /// An (N, 3) numeric dataset `gname/name` as `f64`.
    pub(crate) fn read_nx3(&self, group: &Group, gname: &str, name: &str) -> Result<Array2<f64>, SnapshotError> {
        let full = join(gname, name);
        let ds = self.dataset_in(group, gname, name)?;
        let shape = ds.shape();
        if shape.len() != 2 || shape.get(1) != Some(&3) {
            return Err(self.bad_field(&full, "shape (N, 3)", format!("shape {shape:?}")));
        }
        self.check_numeric(ds.dtype(), &full)?;
        ds.read_2d::<f64>().map_err(|e| self.hdf5(&format!("reading dataset {full}"), e))
    }

    /// A 1-d integer dataset `gname/name` as `u64`.
    pub(crate) fn read_ids(&self, group: &Group, gname: &str, name: &str) -> Result<Array1<u64>, SnapshotError> {
        let full = join(gname, name);
        let ds = self.dataset_in(group, gname, name)?;
        match self.descriptor(ds.dtype(), &full)? {
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {}
            other => return Err(self.bad_field(&full, "an integer dataset", format!("{other:?}"))),
        }
        ds.read_1d::<u64>().map_err(|e| self.hdf5(&format!("reading dataset {full}"), e))
    }

    /// Boolean flags `gname/name`: HDF5 enums of int8 (h5py's and hdf5-rust's `bool`) or plain integers, 0 = false.
    pub(crate) fn read_flags(&self, group: &Group, gname: &str, name: &str) -> Result<Array1<bool>, SnapshotError> {
        let full = join(gname, name);
        let ds = self.dataset_in(group, gname, name)?;
        let read_err = |e| self.hdf5(&format!("reading dataset {full}"), e);
        match self.descriptor(ds.dtype(), &full)? {
            TypeDescriptor::Boolean => ds.read_1d::<bool>().map_err(read_err),
            TypeDescriptor::Enum(e) if e.members.iter().all(|m| m.value <= 1) => {
                // An enum of {FALSE: 0, TRUE: 1} with other member names: read the raw integers.
                let raw: Array1<i8> = ds.as_reader().read_raw::<i8>().map(Array1::from).map_err(read_err)?;
                Ok(raw.mapv(|v| v != 0))
            }
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
                Ok(ds.read_1d::<i64>().map_err(read_err)?.mapv(|v| v != 0))
            }
            other => Err(self.bad_field(&full, "a boolean or integer dataset", format!("{other:?}"))),
        }
    }

    /// Checks that `ds` has `rows` rows of `width` numbers (`width == 1`: a 1-d dataset): fewer rows is
    /// [`SnapshotError::Truncated`], more rows or another width [`SnapshotError::BadField`].
    pub(crate) fn check_rows(&self, ds: &Dataset, full: &str, rows: u64, width: usize) -> Result<(), SnapshotError> {
        self.check_numeric(ds.dtype(), full)?;
        let shape = ds.shape();
        let expected_shape = if width == 1 { format!("({rows},)") } else { format!("({rows}, {width})") };
        let width_ok = if width == 1 { shape.len() == 1 } else { shape.len() == 2 && shape.get(1) == Some(&width) };
        let Some(&got) = shape.first().filter(|_| width_ok) else {
            return Err(self.bad_field(full, format!("shape {expected_shape}"), format!("shape {shape:?}")));
        };
        let got = got as u64;
        if got < rows {
            let item = ds.dtype().map(|t| t.size() as u64).unwrap_or(4) * width as u64;
            return Err(SnapshotError::Truncated {
                path: self.path.to_owned(),
                field: full.to_owned(),
                expected_bytes: rows * item,
                got_bytes: got * item,
            });
        }
        if got > rows {
            return Err(self.bad_field(
                full,
                format!("shape {expected_shape} (the header's count)"),
                format!("shape {shape:?}"),
            ));
        }
        Ok(())
    }
}
