//! Reading a `dataset.h5` (layout version 1: [the module docs](super)): [`DatasetFile::open`] checks the format,
//! version and the datasets the root attributes name, then every accessor reads one dataset or attribute, with a
//! [`PipelineError::BadFile`] naming the file and the field when it is missing or malformed.
//!
//! Maps are read by rows ([`DatasetFile::read_input_rows`], one hyperslab of contiguous rows), so a file larger than
//! memory is usable; the per-projection columns (`split`, `galaxy_id`, scalars, targets, ...) are read whole or by
//! rows. The HDF5 handles stay inside [`DatasetFile`], which is `Send + Sync`: the hdf5 crate serialises every
//! library call, so threads may read one file at once.
//!
//! ```no_run
//! use galmass_pipeline::dataset::reader::{DatasetFile, Split};
//! let file = DatasetFile::open("runs/sarrato2025/dataset.h5".as_ref())?;
//! let train = file.split()?.iter().filter(|s| **s == Split::Train).count();
//! let first = file.read_input_rows("star_xy", 0, 32)?; // (32, channels, y, x)
//! println!("{} rows, {train} for training, maps {:?}", file.n_projections(), first.dim());
//! # Ok::<(), galmass_pipeline::PipelineError>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use galmass_snapshot::gadget_hdf5::{read_string_attr, StringAttrError};
use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};
use ndarray::{s, Array1, Array2, Array4, Ix4};
use serde::{Deserialize, Serialize};

use crate::h5::{bad_file as bad, h5err};
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

/// The `format` attribute of a dataset file.
pub const FORMAT: &str = "galmass-dataset";
/// The layout version this reader reads.
pub const VERSION: u32 = 1;
/// The columns of an estimator group, in the order of [`EstimatorColumns`].
pub const ESTIMATOR_FIELDS: [&str; 4] = ["mass_msun", "radius_kpc", "true_mass_msun", "mass_err_msun"];

/// The split a projection belongs to (all projections of a galaxy share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training rows (the normalisation statistics are computed on these alone).
    Train,
    /// Validation rows (early stopping, model selection).
    Validation,
    /// Held-out test rows.
    Test,
}

impl Split {
    /// The three splits in file order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Validation, Split::Test];

    /// The name stored in the `split` column.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Split {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Split::ALL
            .into_iter()
            .find(|split| split.name() == s)
            .ok_or_else(|| format!("expected \"train\", \"validation\" or \"test\", got {s:?}"))
    }
}

/// The three groups that have per-projection values and normalisation tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    /// `inputs/<name>`: maps, normalised per channel.
    Inputs,
    /// `scalars/<name>`: one number per projection.
    Scalars,
    /// `targets/<name>`: log10 of a quantity at several radii, normalised per radius.
    Targets,
}

impl Part {
    /// The group's name in the file.
    pub fn name(self) -> &'static str {
        match self {
            Part::Inputs => "inputs",
            Part::Scalars => "scalars",
            Part::Targets => "targets",
        }
    }
}

/// What made the file: the root attributes other than the layout's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The dataset's name.
    pub name: String,
    /// The paper whose recipe it follows.
    pub paper: String,
    /// The seed of everything random in the build.
    pub seed: u64,
    /// The resolved config (TOML).
    pub config: String,
    /// The hash of the recipe part of the config.
    pub recipe_hash: String,
    /// The git revision of the build.
    pub git_revision: String,
}

/// The shape of one row of an input: `(channel, y, x)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InputShape {
    /// Channels.
    pub channels: usize,
    /// Pixels along y (rows of a map).
    pub y: usize,
    /// Pixels along x (columns of a map).
    pub x: usize,
}

impl InputShape {
    /// Values in one row (`channels * y * x`).
    pub fn row_len(self) -> usize {
        self.channels * self.y * self.x
    }
}

/// The attributes of `inputs/<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputInfo {
    /// The shape of a row.
    pub shape: InputShape,
    /// The unit of the pixel values.
    pub unit: String,
    /// What the x axis measures (e.g. `x / R_h`).
    pub x_label: String,
    /// What the y axis measures.
    pub y_label: String,
    /// The first and last pixel centres along x.
    pub x_range: [f64; 2],
    /// The first and last pixel centres along y.
    pub y_range: [f64; 2],
    /// The mock parameters (JSON).
    pub recipe: String,
    /// Non-finite pixels stored as 0 (absent: not recorded).
    pub non_finite_set_to_zero: Option<u64>,
    /// Rows per HDF5 chunk (`None`: not chunked).
    pub chunk_rows: Option<usize>,
}

/// The attributes of `targets/<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetInfo {
    /// The radii, in `radius_unit`, one per column.
    pub radii: Vec<f64>,
    /// `r_h`, `r_hsm` or `kpc`.
    pub radius_unit: String,
    /// The unit of the values (e.g. `log10(Msun)`).
    pub unit: String,
    /// What is measured (e.g. `total`), when recorded.
    pub quantity: Option<String>,
}

/// The four columns of `estimators/<name>`, one value per projection (NaN where the estimator was skipped).
#[derive(Debug, Clone, PartialEq)]
pub struct EstimatorColumns {
    /// The estimated mass, Msun.
    pub mass_msun: Array1<f64>,
    /// The radius it is estimated within, kpc.
    pub radius_kpc: Array1<f64>,
    /// The true mass within that radius, Msun.
    pub true_mass_msun: Array1<f64>,
    /// The estimate's uncertainty, Msun.
    pub mass_err_msun: Array1<f64>,
}

/// A normalisation table `normalisation/<part>/<name>`: `mean, std, min, max` per channel, scalar or radius, over
/// the training split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormalisationTable {
    /// Means, one per row of the table.
    pub mean: Vec<f64>,
    /// Standard deviations (population: divided by the row count).
    pub std: Vec<f64>,
    /// Minima.
    pub min: Vec<f64>,
    /// Maxima.
    pub max: Vec<f64>,
    /// The training rows the statistics cover (attribute `n_rows`), when recorded.
    pub n_rows: Option<u64>,
}

impl NormalisationTable {
    /// Rows of the table (channels, 1 for a scalar, radii).
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// The statistics of the union of the rows of several tables of the same length, each weighted by the rows it
    /// covers (tables of weight 0 are left out): means and population variances pooled exactly, extremes combined.
    /// `None` when the lengths differ or no weight is positive.
    pub fn pooled(tables: &[(&NormalisationTable, u64)]) -> Option<NormalisationTable> {
        let used: Vec<(&NormalisationTable, f64)> =
            tables.iter().filter(|(_, w)| *w > 0).map(|(t, w)| (*t, *w as f64)).collect();
        let first = used.first()?.0;
        let k = first.len();
        if used.iter().any(|(t, _)| t.len() != k) {
            return None;
        }
        let total: f64 = used.iter().map(|(_, w)| w).sum();
        let mut out = NormalisationTable {
            mean: vec![0.0; k],
            std: vec![0.0; k],
            min: vec![f64::INFINITY; k],
            max: vec![f64::NEG_INFINITY; k],
            n_rows: Some(tables.iter().map(|(_, w)| *w).sum()),
        };
        for j in 0..k {
            let mean = used.iter().map(|(t, w)| w * t.mean[j]).sum::<f64>() / total;
            let var =
                used.iter().map(|(t, w)| w * (t.std[j] * t.std[j] + (t.mean[j] - mean).powi(2))).sum::<f64>() / total;
            out.mean[j] = mean;
            out.std[j] = var.max(0.0).sqrt();
            out.min[j] = used.iter().map(|(t, _)| t.min[j]).fold(f64::INFINITY, f64::min);
            out.max[j] = used.iter().map(|(t, _)| t.max[j]).fold(f64::NEG_INFINITY, f64::max);
        }
        Some(out)
    }
}

/// An open `dataset.h5` whose format, version, row count and named inputs, scalars and targets have been checked.
#[derive(Debug)]
pub struct DatasetFile {
    path: PathBuf,
    file: hdf5::File,
    n_projections: usize,
    inputs: Vec<String>,
    input_shapes: Vec<InputShape>,
    scalars: Vec<String>,
    targets: Vec<String>,
    target_widths: Vec<usize>,
    provenance: Provenance,
}

/// The field name of attribute `name` of `location` (`/` for the root).
fn attr_field(location: &str, name: &str) -> String {
    if location.is_empty() || location == "/" {
        format!("/{name}")
    } else {
        format!("{location}@{name}")
    }
}

fn read_text_attr(path: &Path, loc: &hdf5::Location, location: &str, name: &str) -> Result<String> {
    let field = attr_field(location, name);
    let attr = loc.attr(name).map_err(|_| bad(path, &field, "missing"))?;
    read_string_attr(&attr).map_err(|e| {
        bad(
            path,
            &field,
            match e {
                StringAttrError::Hdf5(e) => format!("cannot read as a string: {e}"),
                StringAttrError::NotAString(found) => format!("expected a string attribute, got {found}"),
            },
        )
    })
}

fn read_number_attr<T: hdf5::H5Type>(path: &Path, loc: &hdf5::Location, location: &str, name: &str) -> Result<T> {
    let field = attr_field(location, name);
    let attr = loc.attr(name).map_err(|_| bad(path, &field, "missing"))?;
    attr.read_scalar::<T>()
        .map_err(|e| bad(path, &field, format!("expected a scalar {}: {e}", std::any::type_name::<T>())))
}

fn read_numbers_attr(path: &Path, loc: &hdf5::Location, location: &str, name: &str) -> Result<Vec<f64>> {
    let field = attr_field(location, name);
    let attr = loc.attr(name).map_err(|_| bad(path, &field, "missing"))?;
    attr.read_raw::<f64>().map_err(|e| bad(path, &field, format!("expected numbers: {e}")))
}

/// The names of a comma-separated list attribute (an empty string: none), each non-empty and unique.
fn parse_names(path: &Path, field: &str, text: &str) -> Result<Vec<String>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<String> = text.split(',').map(|n| n.trim().to_owned()).collect();
    if let Some(i) = names.iter().position(String::is_empty) {
        return Err(bad(path, field, format!("name {i} of {text:?} is empty")));
    }
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(bad(path, field, format!("{n:?} is named twice in {text:?}")));
        }
    }
    Ok(names)
}

impl DatasetFile {
    /// Opens `path` and checks it: `format` = `"galmass-dataset"`, `version` = 1, the provenance attributes, and for
    /// each name in `inputs`, `scalars` and `targets` a dataset of `n_projections` rows of the layout's rank (a
    /// target's `radii` as long as its rows), and the `split` column.
    pub fn open(path: &Path) -> Result<DatasetFile> {
        let file = hdf5::File::open(path).map_err(h5err(path, "opening the dataset file"))?;
        let root: &hdf5::Location = &file;
        let format = read_text_attr(path, root, "/", "format")?;
        if format != FORMAT {
            return Err(bad(path, "/format", format!("expected {FORMAT:?}, got {format:?}")));
        }
        let version: i64 = read_number_attr(path, root, "/", "version")?;
        if version != i64::from(VERSION) {
            return Err(bad(path, "/version", format!("expected version {VERSION}, got {version}")));
        }
        let n_projections: u64 = read_number_attr(path, root, "/", "n_projections")?;
        let n_projections = usize::try_from(n_projections)
            .map_err(|_| bad(path, "/n_projections", format!("{n_projections} rows do not fit in memory indices")))?;
        let list = |name: &str| -> Result<Vec<String>> {
            parse_names(path, &attr_field("/", name), &read_text_attr(path, root, "/", name)?)
        };
        let (inputs, scalars, targets) = (list("inputs")?, list("scalars")?, list("targets")?);
        let provenance = Provenance {
            name: read_text_attr(path, root, "/", "name")?,
            paper: read_text_attr(path, root, "/", "paper")?,
            seed: read_number_attr(path, root, "/", "seed")?,
            config: read_text_attr(path, root, "/", "config")?,
            recipe_hash: read_text_attr(path, root, "/", "recipe_hash")?,
            git_revision: read_text_attr(path, root, "/", "git_revision")?,
        };
        let mut out = DatasetFile {
            path: path.to_owned(),
            file,
            n_projections,
            inputs,
            input_shapes: Vec::new(),
            scalars,
            targets,
            target_widths: Vec::new(),
            provenance,
        };
        for name in &out.inputs {
            let shape = out.rows_shape(&format!("inputs/{name}"), 4)?;
            out.input_shapes.push(InputShape { channels: shape[1], y: shape[2], x: shape[3] });
        }
        for name in &out.scalars {
            out.rows_shape(&format!("scalars/{name}"), 1)?;
        }
        for name in &out.targets {
            let field = format!("targets/{name}");
            let width = out.rows_shape(&field, 2)?[1];
            let ds = out.dataset(&field)?;
            let radii = read_numbers_attr(path, &ds, &field, "radii")?;
            if radii.len() != width {
                return Err(bad(
                    path,
                    attr_field(&field, "radii"),
                    format!("{} radii for {width} columns", radii.len()),
                ));
            }
            out.target_widths.push(width);
        }
        out.rows_shape("split", 1)?;
        Ok(out)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Rows (projections) of every per-projection dataset.
    pub fn n_projections(&self) -> usize {
        self.n_projections
    }

    /// The input names (`inputs/<name>`), in the file's order.
    pub fn inputs(&self) -> &[String] {
        &self.inputs
    }

    /// The scalar names (`scalars/<name>`), in the file's order.
    pub fn scalars(&self) -> &[String] {
        &self.scalars
    }

    /// The target names (`targets/<name>`), in the file's order.
    pub fn targets(&self) -> &[String] {
        &self.targets
    }

    /// Who made the file, from what.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The shape of a row of input `name`.
    pub fn input_shape(&self, name: &str) -> Result<InputShape> {
        let i = self.position(Part::Inputs, name)?;
        Ok(self.input_shapes[i])
    }

    /// Radii (columns) of target `name`.
    pub fn target_width(&self, name: &str) -> Result<usize> {
        let i = self.position(Part::Targets, name)?;
        Ok(self.target_widths[i])
    }

    /// The attributes of input `name`.
    pub fn input_info(&self, name: &str) -> Result<InputInfo> {
        let shape = self.input_shape(name)?;
        let field = format!("inputs/{name}");
        let ds = self.dataset(&field)?;
        let range = |attr: &str| -> Result<[f64; 2]> {
            match read_numbers_attr(&self.path, &ds, &field, attr)?.as_slice() {
                [a, b] => Ok([*a, *b]),
                other => Err(bad(&self.path, attr_field(&field, attr), format!("expected 2 numbers, got {other:?}"))),
            }
        };
        let non_finite_set_to_zero = match ds.attr("non_finite_set_to_zero") {
            Ok(_) => Some(read_number_attr(&self.path, &ds, &field, "non_finite_set_to_zero")?),
            Err(_) => None,
        };
        Ok(InputInfo {
            shape,
            unit: read_text_attr(&self.path, &ds, &field, "unit")?,
            x_label: read_text_attr(&self.path, &ds, &field, "x_label")?,
            y_label: read_text_attr(&self.path, &ds, &field, "y_label")?,
            x_range: range("x_range")?,
            y_range: range("y_range")?,
            recipe: read_text_attr(&self.path, &ds, &field, "recipe")?,
            non_finite_set_to_zero,
            chunk_rows: ds.chunk().and_then(|c| c.first().copied()),
        })
    }

    /// Rows per HDF5 chunk of dataset `field` (e.g. `inputs/star_xy`); `None` when it is stored contiguously.
    pub fn chunk_rows(&self, field: &str) -> Result<Option<usize>> {
        Ok(self.dataset(field)?.chunk().and_then(|c| c.first().copied()))
    }

    /// Rows `start..start + count` of input `name`: `(count, channel, y, x)`, one hyperslab read.
    pub fn read_input_rows(&self, name: &str, start: usize, count: usize) -> Result<Array4<f32>> {
        self.position(Part::Inputs, name)?;
        let field = format!("inputs/{name}");
        self.check_range(&field, start, count)?;
        self.dataset(&field)?
            .read_slice::<f32, _, Ix4>(s![start..start + count, .., .., ..])
            .map_err(h5err(&self.path, format!("reading rows {start}..{} of {field}", start + count)))
    }

    /// The split of every projection.
    pub fn split(&self) -> Result<Vec<Split>> {
        self.read_strings("split")?
            .iter()
            .enumerate()
            .map(|(i, s)| s.parse().map_err(|e: String| bad(&self.path, "split", format!("row {i}: {e}"))))
            .collect()
    }

    /// The suite of every projection.
    pub fn suite(&self) -> Result<Vec<String>> {
        self.read_strings("suite")
    }

    /// The galaxy file every projection was made from.
    pub fn galaxy_file(&self) -> Result<Vec<String>> {
        self.read_strings("galaxy_file")
    }

    /// The galaxy of every projection.
    pub fn galaxy_id(&self) -> Result<Array1<i64>> {
        self.read_column("galaxy_id")
    }

    /// The index of every projection's line of sight within its galaxy.
    pub fn projection_index(&self) -> Result<Array1<i64>> {
        self.read_column("projection_index")
    }

    /// The stars sampled for every projection.
    pub fn n_stars(&self) -> Result<Array1<i64>> {
        self.read_column("n_stars")
    }

    /// The projected half-number radius of every projection, kpc.
    pub fn r_h_kpc(&self) -> Result<Array1<f64>> {
        self.read_column("r_h_kpc")
    }

    /// The line of sight of every projection `(projection, 3)`: unit vectors from the observer to the galaxy.
    pub fn los(&self) -> Result<Array2<f64>> {
        let shape = self.rows_shape("los", 2)?;
        if shape[1] != 3 {
            return Err(bad(&self.path, "los", format!("expected 3 columns, got {}", shape[1])));
        }
        self.dataset("los")?.read_2d::<f64>().map_err(h5err(&self.path, "reading los"))
    }

    /// Scalar `name` of every projection.
    pub fn scalar(&self, name: &str) -> Result<Array1<f64>> {
        self.scalar_rows(name, 0, self.n_projections)
    }

    /// Rows `start..start + count` of scalar `name`.
    pub fn scalar_rows(&self, name: &str, start: usize, count: usize) -> Result<Array1<f64>> {
        self.position(Part::Scalars, name)?;
        let field = format!("scalars/{name}");
        self.check_range(&field, start, count)?;
        self.dataset(&field)?
            .read_slice_1d::<f64, _>(s![start..start + count])
            .map_err(h5err(&self.path, format!("reading rows {start}..{} of {field}", start + count)))
    }

    /// The `unit` attribute of scalar `name`.
    pub fn scalar_unit(&self, name: &str) -> Result<String> {
        self.position(Part::Scalars, name)?;
        let field = format!("scalars/{name}");
        let ds = self.dataset(&field)?;
        read_text_attr(&self.path, &ds, &field, "unit")
    }

    /// Target `name` of every projection: `(projection, radius)`, log10 of the quantity.
    pub fn target(&self, name: &str) -> Result<Array2<f64>> {
        self.target_rows(name, 0, self.n_projections)
    }

    /// Rows `start..start + count` of target `name`: `(count, radius)`.
    pub fn target_rows(&self, name: &str, start: usize, count: usize) -> Result<Array2<f64>> {
        self.position(Part::Targets, name)?;
        let field = format!("targets/{name}");
        self.check_range(&field, start, count)?;
        self.dataset(&field)?
            .read_slice_2d::<f64, _>(s![start..start + count, ..])
            .map_err(h5err(&self.path, format!("reading rows {start}..{} of {field}", start + count)))
    }

    /// The attributes of target `name`.
    pub fn target_info(&self, name: &str) -> Result<TargetInfo> {
        self.position(Part::Targets, name)?;
        let field = format!("targets/{name}");
        let ds = self.dataset(&field)?;
        let quantity = match ds.attr("quantity") {
            Ok(_) => Some(read_text_attr(&self.path, &ds, &field, "quantity")?),
            Err(_) => None,
        };
        Ok(TargetInfo {
            radii: read_numbers_attr(&self.path, &ds, &field, "radii")?,
            radius_unit: read_text_attr(&self.path, &ds, &field, "radius_unit")?,
            unit: read_text_attr(&self.path, &ds, &field, "unit")?,
            quantity,
        })
    }

    /// The radii of target `name` in kpc, per projection: `radii/<name>`, `(projection, radius)`.
    pub fn target_radii_kpc(&self, name: &str) -> Result<Array2<f64>> {
        let width = self.target_width(name)?;
        let field = format!("radii/{name}");
        let shape = self.rows_shape(&field, 2)?;
        if shape[1] != width {
            return Err(bad(&self.path, &field, format!("{} columns, the target has {width}", shape[1])));
        }
        self.dataset(&field)?.read_2d::<f64>().map_err(h5err(&self.path, format!("reading {field}")))
    }

    /// The estimators with a group under `estimators/`, sorted (none when the group is absent).
    pub fn estimators(&self) -> Result<Vec<String>> {
        match self.file.group("estimators") {
            Ok(group) => {
                let mut names = group.member_names().map_err(h5err(&self.path, "listing estimators"))?;
                names.sort();
                Ok(names)
            }
            Err(_) => Ok(Vec::new()),
        }
    }

    /// The columns of estimator `name` (`estimators/<name>/...`).
    pub fn estimator(&self, name: &str) -> Result<EstimatorColumns> {
        let column = |field: &str| self.read_column::<f64>(&format!("estimators/{name}/{field}"));
        Ok(EstimatorColumns {
            mass_msun: column(ESTIMATOR_FIELDS[0])?,
            radius_kpc: column(ESTIMATOR_FIELDS[1])?,
            true_mass_msun: column(ESTIMATOR_FIELDS[2])?,
            mass_err_msun: column(ESTIMATOR_FIELDS[3])?,
        })
    }

    /// The normalisation table `normalisation/<part>/<name>` (`(k, 4)`: mean, std, min, max).
    pub fn normalisation(&self, part: Part, name: &str) -> Result<NormalisationTable> {
        let field = format!("normalisation/{}/{name}", part.name());
        let ds = self.dataset(&field)?;
        let table = ds.read_2d::<f64>().map_err(h5err(&self.path, format!("reading {field}")))?;
        if table.ncols() != 4 || table.nrows() == 0 {
            return Err(bad(
                &self.path,
                &field,
                format!("expected (k >= 1, 4) columns mean, std, min, max, got {:?}", table.dim()),
            ));
        }
        let n_rows = match ds.attr("n_rows") {
            Ok(_) => Some(read_number_attr(&self.path, &ds, &field, "n_rows")?),
            Err(_) => None,
        };
        let column = |j: usize| table.column(j).to_vec();
        Ok(NormalisationTable { mean: column(0), std: column(1), min: column(2), max: column(3), n_rows })
    }

    /// The index of `name` among the names of `part`, or an error naming the root attribute.
    fn position(&self, part: Part, name: &str) -> Result<usize> {
        let names = match part {
            Part::Inputs => &self.inputs,
            Part::Scalars => &self.scalars,
            Part::Targets => &self.targets,
        };
        names.iter().position(|n| n == name).ok_or_else(|| {
            bad(&self.path, attr_field("/", part.name()), format!("no {name:?} among [{}]", names.join(", ")))
        })
    }

    fn dataset(&self, field: &str) -> Result<hdf5::Dataset> {
        self.file.dataset(field).map_err(|_| bad(&self.path, field, "missing"))
    }

    /// The shape of `field`, checked to have `ndim` dimensions and `n_projections` rows.
    fn rows_shape(&self, field: &str, ndim: usize) -> Result<Vec<usize>> {
        let shape = self.dataset(field)?.shape();
        if shape.len() != ndim || shape[0] != self.n_projections {
            let axes = if ndim == 1 { String::new() } else { format!(", {} more axes", ndim - 1) };
            return Err(bad(
                &self.path,
                field,
                format!("expected ({} rows{axes}), got shape {shape:?}", self.n_projections),
            ));
        }
        Ok(shape)
    }

    fn check_range(&self, field: &str, start: usize, count: usize) -> Result<()> {
        match start.checked_add(count) {
            Some(end) if end <= self.n_projections => Ok(()),
            _ => Err(PipelineError::invalid(
                format!("{}: {field}", self.path.display()),
                format!("rows {start}..{start}+{count} beyond its {} rows", self.n_projections),
            )),
        }
    }

    fn read_column<T: hdf5::H5Type>(&self, field: &str) -> Result<Array1<T>> {
        self.rows_shape(field, 1)?;
        self.dataset(field)?.read_1d::<T>().map_err(h5err(&self.path, format!("reading {field}")))
    }

    /// A string column as h5py and our writer store it (variable-length UTF-8 or ASCII, or fixed-length).
    fn read_strings(&self, field: &str) -> Result<Vec<String>> {
        self.rows_shape(field, 1)?;
        let ds = self.dataset(field)?;
        let context = || h5err(&self.path, format!("reading {field}"));
        let descriptor = ds.dtype().and_then(|t| t.to_descriptor()).map_err(context())?;
        let strings: Vec<String> = match descriptor {
            TypeDescriptor::VarLenUnicode => {
                ds.read_raw::<VarLenUnicode>().map_err(context())?.iter().map(|s| s.as_str().to_owned()).collect()
            }
            TypeDescriptor::VarLenAscii => {
                ds.read_raw::<VarLenAscii>().map_err(context())?.iter().map(|s| s.as_str().to_owned()).collect()
            }
            TypeDescriptor::FixedAscii(_) => ds
                .read_raw::<FixedAscii<1024>>()
                .map_err(context())?
                .iter()
                .map(|s| s.as_str().trim_end_matches('\0').to_owned())
                .collect(),
            TypeDescriptor::FixedUnicode(_) => ds
                .read_raw::<FixedUnicode<1024>>()
                .map_err(context())?
                .iter()
                .map(|s| s.as_str().trim_end_matches('\0').to_owned())
                .collect(),
            other => return Err(bad(&self.path, field, format!("expected strings, got {other:?}"))),
        };
        Ok(strings)
    }
}

/// Layout-conformant dataset files for tests (until the dataset writer is used here).
#[cfg(test)]
pub(crate) mod test_files {
    use std::path::Path;

    use hdf5::types::VarLenUnicode;
    use ndarray::{Array1, Array2, Array4};

    use super::Split;

    /// What a test file holds; values are functions of the global row `offset + i`, so the files of a set differ.
    #[derive(Debug, Clone)]
    pub(crate) struct Spec {
        pub(crate) n: usize,
        pub(crate) offset: usize,
        pub(crate) chunk_rows: usize,
        /// (name, channels, side)
        pub(crate) inputs: Vec<(&'static str, usize, usize)>,
        pub(crate) scalars: Vec<&'static str>,
        /// (name, radii)
        pub(crate) targets: Vec<(&'static str, usize)>,
    }

    impl Spec {
        pub(crate) fn small(n: usize, offset: usize) -> Spec {
            Spec {
                n,
                offset,
                chunk_rows: 4,
                inputs: vec![("star_xy", 1, 6), ("hi_mom0", 2, 5)],
                scalars: vec!["sigma_los_kms", "r_h_kpc"],
                targets: vec![("log10_mtot", 3)],
            }
        }
    }

    /// Split of global row `g`: galaxies of 3 rows, cycling train, train, validation, test.
    pub(crate) fn split_of(g: usize) -> Split {
        [Split::Train, Split::Train, Split::Validation, Split::Test][(g / 3) % 4]
    }

    pub(crate) fn input_value(name: &str, g: usize, c: usize, y: usize, x: usize) -> f32 {
        let k = if name == "star_xy" { 1.0 } else { 2.0 };
        k * (g as f32) + 0.25 * c as f32 + 0.01 * (y * 10 + x) as f32
    }

    pub(crate) fn scalar_value(j: usize, g: usize) -> f64 {
        (j as f64 + 1.0) * 10.0 + g as f64 * 0.5
    }

    pub(crate) fn target_value(g: usize, k: usize) -> f64 {
        8.0 + 0.001 * g as f64 + k as f64
    }

    /// Normalisation table rows (mean, std, min, max), distinct per row `j`.
    pub(crate) fn table_row(part: usize, j: usize) -> [f64; 4] {
        [1.5 + part as f64 + j as f64, 2.0 + 0.5 * j as f64, -1.0, 100.0]
    }

    fn text(value: &str) -> VarLenUnicode {
        value.parse().unwrap()
    }

    fn str_attr(loc: &hdf5::Location, name: &str, value: &str) {
        loc.new_attr::<VarLenUnicode>().create(name).unwrap().write_scalar(&text(value)).unwrap();
    }

    fn chunked<T: hdf5::H5Type, D: ndarray::Dimension>(
        file: &hdf5::File,
        name: &str,
        data: &ndarray::Array<T, D>,
        chunk_rows: usize,
    ) -> hdf5::Dataset {
        let mut chunk = data.shape().to_vec();
        chunk[0] = chunk_rows.min(data.shape()[0]).max(1);
        file.new_dataset_builder().with_data(data).chunk(chunk).deflate(4).create(name).unwrap()
    }

    /// Writes `spec` as a layout-version-1 `dataset.h5` at `path`.
    pub(crate) fn write(path: &Path, spec: &Spec) {
        let file = hdf5::File::create(path).unwrap();
        let n = spec.n;
        let g = |i: usize| spec.offset + i;
        for &(name, c, side) in &spec.inputs {
            let data = Array4::from_shape_fn((n, c, side, side), |(i, c, y, x)| input_value(name, g(i), c, y, x));
            let ds = chunked(&file, &format!("inputs/{name}"), &data, spec.chunk_rows);
            str_attr(&ds, "axes", "projection,channel,y,x");
            str_attr(&ds, "unit", "1 / (R_h^2)");
            str_attr(&ds, "x_label", "x / R_h");
            str_attr(&ds, "y_label", "y / R_h");
            ds.new_attr_builder().with_data(&[-2.0, 2.0]).create("x_range").unwrap();
            ds.new_attr_builder().with_data(&[-2.0, 2.0]).create("y_range").unwrap();
            str_attr(&ds, "recipe", "{\"grid_size\":6}");
            ds.new_attr::<u64>().create("non_finite_set_to_zero").unwrap().write_scalar(&3u64).unwrap();
        }
        for (j, &name) in spec.scalars.iter().enumerate() {
            let data = Array1::from_shape_fn(n, |i| scalar_value(j, g(i)));
            let ds = chunked(&file, &format!("scalars/{name}"), &data, spec.chunk_rows);
            str_attr(&ds, "unit", "km/s");
        }
        for &(name, k) in &spec.targets {
            let data = Array2::from_shape_fn((n, k), |(i, r)| target_value(g(i), r));
            let ds = chunked(&file, &format!("targets/{name}"), &data, spec.chunk_rows);
            str_attr(&ds, "unit", "log10(Msun)");
            str_attr(&ds, "quantity", "total");
            ds.new_attr_builder()
                .with_data(&(0..k).map(|r| 0.5 * (r + 1) as f64).collect::<Vec<_>>())
                .create("radii")
                .unwrap();
            str_attr(&ds, "radius_unit", "r_h");
            let radii = Array2::from_shape_fn((n, k), |(i, r)| 0.5 * (r + 1) as f64 * (1.0 + 0.01 * g(i) as f64));
            chunked(&file, &format!("radii/{name}"), &radii, spec.chunk_rows);
        }
        let strings = |f: &dyn Fn(usize) -> String| Array1::from_shape_fn(n, |i| text(&f(g(i))));
        chunked(&file, "split", &strings(&|g| split_of(g).name().to_owned()), spec.chunk_rows);
        chunked(
            &file,
            "suite",
            &strings(&|g| if g % 2 == 0 { "nihao".into() } else { "auriga".into() }),
            spec.chunk_rows,
        );
        chunked(&file, "galaxy_file", &strings(&|g| format!("suites/g{}.h5", g / 3)), spec.chunk_rows);
        chunked(&file, "galaxy_id", &Array1::from_shape_fn(n, |i| (g(i) / 3) as i64), spec.chunk_rows);
        chunked(&file, "projection_index", &Array1::from_shape_fn(n, |i| (g(i) % 3) as i64), spec.chunk_rows);
        chunked(&file, "n_stars", &Array1::from_shape_fn(n, |i| 1000 + g(i) as i64), spec.chunk_rows);
        chunked(&file, "r_h_kpc", &Array1::from_shape_fn(n, |i| 1.0 + g(i) as f64), spec.chunk_rows);
        let los = Array2::from_shape_fn((n, 3), |(i, k)| if k == g(i) % 3 { 1.0 } else { 0.0 });
        chunked(&file, "los", &los, spec.chunk_rows);
        for est in ["walker", "wolf"] {
            for (f, field) in super::ESTIMATOR_FIELDS.iter().enumerate() {
                let v =
                    Array1::from_shape_fn(
                        n,
                        |i| if est == "wolf" && g(i) % 5 == 0 { f64::NAN } else { (f + g(i)) as f64 },
                    );
                chunked(&file, &format!("estimators/{est}/{field}"), &v, spec.chunk_rows);
            }
        }
        let n_train = (0..n).filter(|&i| split_of(g(i)) == Split::Train).count() as u64;
        let table = |part: usize, group: &str, name: &str, k: usize| {
            let t = Array2::from_shape_fn((k, 4), |(j, c)| table_row(part, j)[c]);
            let ds = file
                .new_dataset_builder()
                .with_data(&t)
                .create(format!("normalisation/{group}/{name}").as_str())
                .unwrap();
            str_attr(&ds, "columns", "mean,std,min,max");
            str_attr(&ds, "split", "train");
            ds.new_attr::<u64>().create("n_rows").unwrap().write_scalar(&n_train).unwrap();
        };
        for &(name, c, _) in &spec.inputs {
            table(0, "inputs", name, c);
        }
        for &name in &spec.scalars {
            table(1, "scalars", name, 1);
        }
        for &(name, k) in &spec.targets {
            table(2, "targets", name, k);
        }
        let root: &hdf5::Location = &file;
        str_attr(root, "format", super::FORMAT);
        root.new_attr::<u32>().create("version").unwrap().write_scalar(&1u32).unwrap();
        str_attr(root, "name", "test");
        str_attr(root, "paper", "sarrato2025");
        root.new_attr::<u64>().create("seed").unwrap().write_scalar(&42u64).unwrap();
        str_attr(root, "config", "name = \"test\"\n");
        str_attr(root, "recipe_hash", "abc123");
        str_attr(root, "git_revision", "deadbeef");
        root.new_attr::<u64>().create("n_projections").unwrap().write_scalar(&(n as u64)).unwrap();
        let names = |v: Vec<&str>| v.join(",");
        str_attr(root, "inputs", &names(spec.inputs.iter().map(|t| t.0).collect()));
        str_attr(root, "scalars", &names(spec.scalars.clone()));
        str_attr(root, "targets", &names(spec.targets.iter().map(|t| t.0).collect()));
    }
}

#[cfg(test)]
mod tests {
    use super::test_files::{self, Spec};
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    fn field_of(err: PipelineError) -> String {
        match err {
            PipelineError::BadFile { field, .. } => field,
            other => panic!("expected BadFile, got {other}"),
        }
    }

    #[test]
    fn reads_back_what_was_written() {
        assert_send_sync::<DatasetFile>();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset.h5");
        let spec = Spec::small(10, 0);
        test_files::write(&path, &spec);
        let f = DatasetFile::open(&path).unwrap();
        assert_eq!(f.n_projections(), 10);
        assert_eq!(f.inputs(), ["star_xy", "hi_mom0"]);
        assert_eq!(f.scalars(), ["sigma_los_kms", "r_h_kpc"]);
        assert_eq!(f.targets(), ["log10_mtot"]);
        assert_eq!(f.input_shape("hi_mom0").unwrap(), InputShape { channels: 2, y: 5, x: 5 });
        assert_eq!(f.target_width("log10_mtot").unwrap(), 3);
        let p = f.provenance();
        assert_eq!((p.name.as_str(), p.paper.as_str(), p.seed), ("test", "sarrato2025", 42));
        assert_eq!((p.recipe_hash.as_str(), p.git_revision.as_str()), ("abc123", "deadbeef"));
        assert!(p.config.contains("name"));

        let split = f.split().unwrap();
        assert_eq!(split, (0..10).map(test_files::split_of).collect::<Vec<_>>());
        assert_eq!(f.suite().unwrap()[1], "auriga");
        assert_eq!(f.galaxy_file().unwrap()[7], "suites/g2.h5");
        assert_eq!(f.galaxy_id().unwrap().to_vec(), (0..10).map(|g| (g / 3) as i64).collect::<Vec<_>>());
        assert_eq!(f.projection_index().unwrap()[5], 2);
        assert_eq!(f.n_stars().unwrap()[4], 1004);
        assert_eq!(f.r_h_kpc().unwrap()[9], 10.0);
        let los = f.los().unwrap();
        assert_eq!(los.dim(), (10, 3));
        assert_eq!(los.row(4).to_vec(), vec![0.0, 1.0, 0.0]);

        let rows = f.read_input_rows("hi_mom0", 3, 5).unwrap();
        assert_eq!(rows.dim(), (5, 2, 5, 5));
        assert_eq!(rows[[2, 1, 3, 4]], test_files::input_value("hi_mom0", 5, 1, 3, 4));
        assert_eq!(
            f.read_input_rows("star_xy", 9, 1).unwrap()[[0, 0, 0, 1]],
            test_files::input_value("star_xy", 9, 0, 0, 1)
        );
        assert!(f.read_input_rows("star_xy", 8, 3).is_err());
        assert!(f.read_input_rows("nope", 0, 1).is_err());
        let info = f.input_info("star_xy").unwrap();
        assert_eq!((info.chunk_rows, info.non_finite_set_to_zero, info.x_range), (Some(4), Some(3), [-2.0, 2.0]));
        assert_eq!(info.x_label, "x / R_h");
        assert_eq!(f.chunk_rows("scalars/r_h_kpc").unwrap(), Some(4));

        assert_eq!(f.scalar("r_h_kpc").unwrap()[3], test_files::scalar_value(1, 3));
        assert_eq!(f.scalar_rows("sigma_los_kms", 6, 2).unwrap().to_vec(), vec![13.0, 13.5]);
        assert_eq!(f.scalar_unit("sigma_los_kms").unwrap(), "km/s");
        let t = f.target("log10_mtot").unwrap();
        assert_eq!(t.dim(), (10, 3));
        assert_eq!(t[[7, 2]], test_files::target_value(7, 2));
        assert_eq!(f.target_rows("log10_mtot", 7, 1).unwrap().row(0), t.row(7));
        let ti = f.target_info("log10_mtot").unwrap();
        assert_eq!(ti.radii, vec![0.5, 1.0, 1.5]);
        assert_eq!(
            (ti.radius_unit.as_str(), ti.unit.as_str(), ti.quantity.as_deref()),
            ("r_h", "log10(Msun)", Some("total"))
        );
        assert_eq!(f.target_radii_kpc("log10_mtot").unwrap()[[0, 1]], 1.0);

        assert_eq!(f.estimators().unwrap(), ["walker", "wolf"]);
        let wolf = f.estimator("wolf").unwrap();
        assert!(wolf.mass_msun[5].is_nan());
        assert_eq!(wolf.radius_kpc[1], 2.0);
        assert!(f.estimator("errani").is_err());

        let table = f.normalisation(Part::Inputs, "hi_mom0").unwrap();
        assert_eq!(table.len(), 2);
        assert_eq!(table.mean[1], test_files::table_row(0, 1)[0]);
        assert_eq!(table.std[1], test_files::table_row(0, 1)[1]);
        assert_eq!(table.n_rows, Some(split.iter().filter(|s| **s == Split::Train).count() as u64));
        assert_eq!(f.normalisation(Part::Targets, "log10_mtot").unwrap().len(), 3);
        assert_eq!(field_of(f.normalisation(Part::Scalars, "nope").unwrap_err()), "normalisation/scalars/nope");
    }

    /// Writes a good file, lets `spoil` change it, and returns the field of the error opening it.
    fn spoiled(spoil: impl Fn(&hdf5::File)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset.h5");
        test_files::write(&path, &Spec::small(6, 0));
        spoil(&hdf5::File::open_rw(&path).unwrap());
        field_of(DatasetFile::open(&path).unwrap_err())
    }

    #[test]
    fn bad_files_are_errors_naming_the_field() {
        let text = |s: &str| s.parse::<VarLenUnicode>().unwrap();
        assert_eq!(spoiled(|f| f.attr("format").unwrap().write_scalar(&text("galmass-galaxy")).unwrap()), "/format");
        assert_eq!(spoiled(|f| f.delete_attr("format").unwrap()), "/format");
        assert_eq!(spoiled(|f| f.attr("version").unwrap().write_scalar(&2u32).unwrap()), "/version");
        assert_eq!(spoiled(|f| f.delete_attr("version").unwrap()), "/version");
        assert_eq!(spoiled(|f| f.delete_attr("git_revision").unwrap()), "/git_revision");
        assert_eq!(spoiled(|f| f.unlink("inputs/hi_mom0").unwrap()), "inputs/hi_mom0");
        assert_eq!(spoiled(|f| f.unlink("split").unwrap()), "split");
        assert_eq!(spoiled(|f| f.attr("n_projections").unwrap().write_scalar(&7u64).unwrap()), "inputs/star_xy");
        assert_eq!(spoiled(|f| f.attr("scalars").unwrap().write_scalar(&text("a,,b")).unwrap()), "/scalars");
        assert_eq!(
            spoiled(|f| f.attr("targets").unwrap().write_scalar(&text("log10_mstar")).unwrap()),
            "targets/log10_mstar"
        );
        let four_radii = |f: &hdf5::File| {
            let ds = f.dataset("targets/log10_mtot").unwrap();
            ds.delete_attr("radii").unwrap();
            ds.new_attr_builder().with_data(&[1.0, 2.0, 3.0, 4.0]).create("radii").unwrap();
        };
        assert_eq!(spoiled(four_radii), "targets/log10_mtot@radii");
        let message = {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("dataset.h5");
            test_files::write(&path, &Spec::small(6, 0));
            hdf5::File::open_rw(&path).unwrap().attr("version").unwrap().write_scalar(&2u32).unwrap();
            DatasetFile::open(&path).unwrap_err().to_string()
        };
        assert!(message.contains("dataset.h5: /version: expected version 1, got 2"), "{message}");
        assert!(matches!(DatasetFile::open(Path::new("/nonexistent/dataset.h5")), Err(PipelineError::Hdf5 { .. })));
        // Empty lists are no names; a bad split value names the column.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dataset.h5");
        test_files::write(&path, &Spec { scalars: vec![], ..Spec::small(6, 0) });
        {
            let f = hdf5::File::open_rw(&path).unwrap();
            f.unlink("split").unwrap();
            let v = ndarray::Array1::from_shape_fn(6, |i| text(if i == 4 { "training" } else { "test" }));
            f.new_dataset_builder().with_data(&v).create("split").unwrap();
        }
        let f = DatasetFile::open(&path).unwrap();
        assert!(f.scalars().is_empty());
        let err = f.split().unwrap_err().to_string();
        assert!(err.contains("split: row 4: expected"), "{err}");
    }
}
