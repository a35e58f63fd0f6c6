//! HDF5 of datasets: a galaxy's unit file (its rows, uncompressed, the groups of `dataset.h5` for one galaxy) and
//! the writer of `dataset.h5` itself (layout: [`super`]), with HDF5 object timestamps off so that equal contents
//! give equal bytes.

use std::path::Path;

use hdf5::types::VarLenUnicode;
use ndarray::{s, Array1, Array2, Array4, ArrayView1, Axis};

use super::unit::{InputMeta, UnitRows};
use crate::h5::{bad_file, h5err, read_scalar, read_str, text, write_array, write_scalar, write_str};
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

/// Format name of a unit file.
pub const UNIT_FORMAT: &str = "galmass-dataset-unit";

fn read_vec_attr(path: &Path, loc: &hdf5::Location, name: &str) -> Result<Vec<f64>> {
    loc.attr(name).and_then(|a| a.read_raw::<f64>()).map_err(|e| bad_file(path, name, format!("attribute: {e}")))
}

/// Creates an HDF5 file without object timestamps (so equal contents give equal bytes).
pub(crate) fn create_file(path: &Path) -> Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fcpl(|p| p.obj_track_times(false))
        .create(path)
        .map_err(h5err(path, "creating the file"))
}

fn write_1d<T: hdf5::H5Type>(path: &Path, file: &hdf5::File, name: &str, values: ArrayView1<T>) -> Result<()> {
    file.new_dataset_builder()
        .obj_track_times(false)
        .with_data(&values)
        .create(name)
        .map(|_| ())
        .map_err(h5err(path, format!("writing {name}")))
}

fn write_nd<T: hdf5::H5Type, D: ndarray::Dimension>(
    path: &Path,
    file: &hdf5::File,
    name: &str,
    values: &ndarray::Array<T, D>,
) -> Result<hdf5::Dataset> {
    file.new_dataset_builder()
        .obj_track_times(false)
        .with_data(values)
        .create(name)
        .map_err(h5err(path, format!("writing {name}")))
}

fn write_strings(path: &Path, file: &hdf5::File, name: &str, values: &[String]) -> Result<()> {
    let v: Vec<VarLenUnicode> = values.iter().map(|s| text(path, s)).collect::<Result<_>>()?;
    write_1d(path, file, name, ArrayView1::from(&v))
}

fn write_input_meta(path: &Path, ds: &hdf5::Dataset, meta: &InputMeta) -> Result<()> {
    write_str(path, ds, "axes", "projection,channel,y,x")?;
    write_str(path, ds, "unit", &meta.unit)?;
    write_str(path, ds, "x_label", &meta.x_label)?;
    write_str(path, ds, "y_label", &meta.y_label)?;
    write_array(path, ds, "x_range", &meta.x_range)?;
    write_array(path, ds, "y_range", &meta.y_range)?;
    write_str(path, ds, "recipe", &meta.recipe)
}

fn read_input_meta(path: &Path, ds: &hdf5::Dataset) -> Result<InputMeta> {
    let range = |name: &str| -> Result<[f64; 2]> {
        let v = read_vec_attr(path, ds, name)?;
        (v.len() == 2).then(|| [v[0], v[1]]).ok_or_else(|| bad_file(path, name, "not two numbers"))
    };
    Ok(InputMeta {
        unit: read_str(path, ds, "", "unit")?,
        x_label: read_str(path, ds, "", "x_label")?,
        y_label: read_str(path, ds, "", "y_label")?,
        x_range: range("x_range")?,
        y_range: range("y_range")?,
        recipe: read_str(path, ds, "", "recipe")?,
    })
}

/// Identity of a unit: what it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitHeader {
    /// The recipe hash of the config that made it.
    pub recipe_hash: String,
    /// The suite.
    pub suite: String,
    /// The candidate's key.
    pub key: String,
}

/// Writes one galaxy's rows as a unit file at `tmp` (the caller renames it into place).
pub fn write_unit_to(tmp: &Path, header: &UnitHeader, rows: &UnitRows) -> Result<()> {
    let file = create_file(tmp)?;
    write_str(tmp, &file, "format", UNIT_FORMAT)?;
    write_str(tmp, &file, "recipe_hash", &header.recipe_hash)?;
    write_str(tmp, &file, "suite", &header.suite)?;
    write_str(tmp, &file, "key", &header.key)?;
    write_scalar(tmp, &file, "galaxy_id", rows.galaxy_id)?;
    write_scalar(tmp, &file, "n_projections", rows.len() as u64)?;
    for ((name, data, meta), bad) in rows.inputs.iter().zip(&rows.non_finite) {
        let ds = write_nd(tmp, &file, &format!("inputs/{name}"), data)?;
        write_input_meta(tmp, &ds, meta)?;
        write_scalar(tmp, &ds, "non_finite_set_to_zero", *bad)?;
    }
    for (name, values, unit) in &rows.scalars {
        let ds = write_nd(tmp, &file, &format!("scalars/{name}"), values)?;
        write_str(tmp, &ds, "unit", unit)?;
    }
    for (name, values, radii) in &rows.targets {
        write_nd(tmp, &file, &format!("targets/{name}"), values)?;
        write_nd(tmp, &file, &format!("radii/{name}"), radii)?;
    }
    write_nd(tmp, &file, "los", &rows.los)?;
    write_nd(tmp, &file, "n_stars", &rows.n_stars)?;
    write_nd(tmp, &file, "r_h_kpc", &rows.r_h_kpc)?;
    write_nd(tmp, &file, "balance_log10_mass", &rows.balance_log10_mass)?;
    for (name, cols) in &rows.estimators {
        for (col, values) in ESTIMATOR_COLUMNS.iter().zip(cols) {
            write_nd(tmp, &file, &format!("estimators/{name}/{col}"), values)?;
        }
    }
    file.flush().map_err(h5err(tmp, "flushing"))?;
    Ok(())
}

/// The columns of `estimators/<name>/`.
pub const ESTIMATOR_COLUMNS: [&str; 4] = ["mass_msun", "radius_kpc", "true_mass_msun", "mass_err_msun"];

/// Reads a unit file: its header and rows, in the order `inputs`, `scalars`, `targets` and `estimators` name them.
pub fn read_unit(
    path: &Path,
    inputs: &[String],
    scalars: &[String],
    targets: &[String],
    estimators: &[&'static str],
) -> Result<(UnitHeader, UnitRows)> {
    let file = hdf5::File::open(path).map_err(h5err(path, "opening the unit"))?;
    let format = read_str(path, &file, "", "format")?;
    if format != UNIT_FORMAT {
        return Err(bad_file(path, "format", format!("{format:?} is not a dataset unit")));
    }
    let header = UnitHeader {
        recipe_hash: read_str(path, &file, "", "recipe_hash")?,
        suite: read_str(path, &file, "", "suite")?,
        key: read_str(path, &file, "", "key")?,
    };
    let ds = |name: &str| file.dataset(name).map_err(|e| bad_file(path, name, format!("missing: {e}")));
    let read1 = |name: &str| -> Result<Array1<f64>> { ds(name)?.read_1d::<f64>().map_err(h5err(path, name)) };
    let read2 = |name: &str| -> Result<Array2<f64>> { ds(name)?.read_2d::<f64>().map_err(h5err(path, name)) };
    let mut rows_inputs = Vec::new();
    let mut non_finite = Vec::new();
    for name in inputs {
        let key = format!("inputs/{name}");
        let d = ds(&key)?;
        let data: Array4<f32> = d
            .read_dyn::<f32>()
            .map_err(h5err(path, &key))?
            .into_dimensionality()
            .map_err(|e| bad_file(path, &key, e.to_string()))?;
        rows_inputs.push((name.clone(), data, read_input_meta(path, &d)?));
        non_finite.push(read_scalar::<u64>(path, &d, "", "non_finite_set_to_zero")?);
    }
    let mut rows_scalars = Vec::new();
    for name in scalars {
        let key = format!("scalars/{name}");
        rows_scalars.push((name.clone(), read1(&key)?, super::unit::scalar_unit(name)));
    }
    let mut rows_targets = Vec::new();
    for name in targets {
        rows_targets.push((name.clone(), read2(&format!("targets/{name}"))?, read2(&format!("radii/{name}"))?));
    }
    let mut rows_estimators = Vec::new();
    for &name in estimators {
        let cols: [Array1<f64>; 4] = [
            read1(&format!("estimators/{name}/{}", ESTIMATOR_COLUMNS[0]))?,
            read1(&format!("estimators/{name}/{}", ESTIMATOR_COLUMNS[1]))?,
            read1(&format!("estimators/{name}/{}", ESTIMATOR_COLUMNS[2]))?,
            read1(&format!("estimators/{name}/{}", ESTIMATOR_COLUMNS[3]))?,
        ];
        rows_estimators.push((name, cols));
    }
    let rows = UnitRows {
        galaxy_id: read_scalar(path, &file, "", "galaxy_id")?,
        inputs: rows_inputs,
        non_finite,
        scalars: rows_scalars,
        targets: rows_targets,
        los: read2("los")?,
        n_stars: ds("n_stars")?.read_1d::<i64>().map_err(h5err(path, "n_stars"))?,
        r_h_kpc: read1("r_h_kpc")?,
        estimators: rows_estimators,
        balance_log10_mass: read1("balance_log10_mass")?,
    };
    let n = rows.len();
    let bad = rows.inputs.iter().any(|(_, d, _)| d.shape()[0] != n)
        || rows.scalars.iter().any(|(_, v, _)| v.len() != n)
        || rows.targets.iter().any(|(_, v, r)| v.nrows() != n || r.nrows() != n);
    if bad {
        return Err(bad_file(path, "rows", "datasets disagree on the number of projections"));
    }
    Ok((header, rows))
}

/// Running statistics of a column: mean, std, min, max of the finite values, and how many were not finite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Moments {
    n: f64,
    sum: f64,
    sum2: f64,
    min: f64,
    max: f64,
    non_finite: u64,
}

impl Default for Moments {
    fn default() -> Self {
        Self { n: 0.0, sum: 0.0, sum2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY, non_finite: 0 }
    }
}

impl Moments {
    pub(crate) fn add(&mut self, v: f64) {
        if v.is_finite() {
            self.n += 1.0;
            self.sum += v;
            self.sum2 += v * v;
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        } else {
            self.non_finite += 1;
        }
    }

    /// Values that were NaN or infinite (left out of the statistics).
    pub(crate) fn non_finite(&self) -> u64 {
        self.non_finite
    }

    pub(crate) fn row(&self) -> [f64; 4] {
        if self.n == 0.0 {
            return [f64::NAN; 4];
        }
        let mean = self.sum / self.n;
        let var = (self.sum2 / self.n - mean * mean).max(0.0);
        [mean, var.sqrt(), self.min, self.max]
    }
}

/// What `dataset.h5` holds besides its rows.
#[derive(Debug, Clone)]
pub struct DatasetHeader {
    /// Root attributes as (name, value) strings, in order.
    pub text_attrs: Vec<(String, String)>,
    /// The seed.
    pub seed: u64,
    /// Rows in total.
    pub n_projections: usize,
    /// Rows per chunk.
    pub chunk_rows: usize,
    /// Deflate level (0: none).
    pub deflate: u8,
    /// Input names, channels and sides.
    pub inputs: Vec<(String, [usize; 3], InputMeta)>,
    /// Target names with their configs.
    pub targets: Vec<super::config::TargetConfig>,
}

/// Streams rows into `dataset.h5` (inputs in whole chunks, everything else at the end).
pub struct DatasetWriter {
    path: std::path::PathBuf,
    file: hdf5::File,
    header: DatasetHeader,
    inputs: Vec<hdf5::Dataset>,
    pending: Vec<Array4<f32>>,
    pending_rows: usize,
    written: usize,
    input_moments: Vec<Moments>,
    non_finite: Vec<u64>,
    columns: Columns,
}

/// A target's values and radii (row-major, projection by radius) and its training statistics per radius.
type TargetColumn = (String, Vec<f64>, Vec<f64>, Vec<Moments>);

/// The per-projection columns other than inputs, kept in memory until the end.
#[derive(Debug, Default)]
struct Columns {
    galaxy_id: Vec<i64>,
    suite: Vec<String>,
    split: Vec<String>,
    galaxy_file: Vec<String>,
    projection_index: Vec<i64>,
    los: Vec<[f64; 3]>,
    n_stars: Vec<i64>,
    r_h_kpc: Vec<f64>,
    scalars: Vec<(String, &'static str, Vec<f64>, Moments)>,
    targets: Vec<TargetColumn>,
    estimators: Vec<(&'static str, [Vec<f64>; 4])>,
}

/// Where one unit's kept rows go.
pub struct RowSource<'a> {
    /// The rows.
    pub rows: &'a UnitRows,
    /// Which of them to keep, ascending.
    pub keep: &'a [usize],
    /// Their suite.
    pub suite: &'a str,
    /// Their split.
    pub split: super::plan::Split,
    /// The galaxy file.
    pub galaxy_file: &'a str,
}

impl DatasetWriter {
    /// Creates `path` (a temporary: the caller renames it) with its input datasets.
    pub fn create(path: &Path, header: DatasetHeader) -> Result<Self> {
        let file = create_file(path)?;
        let n = header.n_projections;
        let mut inputs = Vec::new();
        for (name, [c, h, w], meta) in &header.inputs {
            let rows = header.chunk_rows.min(n.max(1));
            let mut builder =
                file.new_dataset::<f32>().obj_track_times(false).shape((n, *c, *h, *w)).chunk((rows, *c, *h, *w));
            if header.deflate > 0 && hdf5::filters::deflate_available() {
                builder = builder.deflate(header.deflate);
            }
            let ds = builder
                .create(format!("inputs/{name}").as_str())
                .map_err(h5err(path, format!("creating inputs/{name}")))?;
            write_input_meta(path, &ds, meta)?;
            inputs.push(ds);
        }
        let k = header.inputs.len();
        Ok(Self {
            path: path.to_owned(),
            file,
            inputs,
            pending: Vec::new(),
            pending_rows: 0,
            written: 0,
            input_moments: vec![Moments::default(); k],
            non_finite: vec![0; k],
            columns: Columns::default(),
            header,
        })
    }

    /// Appends the kept rows of one unit.
    pub fn append(&mut self, src: &RowSource<'_>) -> Result<()> {
        if src.keep.is_empty() {
            return Ok(());
        }
        let rows = src.rows;
        let train = src.split == super::plan::Split::Train;
        // Inputs: the kept rows of each, concatenated into the pending block.
        let mut block = Vec::new();
        for (i, (_, data, _)) in rows.inputs.iter().enumerate() {
            let kept = data.select(Axis(0), src.keep);
            if train {
                for v in kept.iter() {
                    self.input_moments[i].add(f64::from(*v));
                }
            }
            self.non_finite[i] += rows.non_finite[i];
            block.push(kept);
        }
        if self.pending.is_empty() {
            self.pending = block;
        } else {
            for (p, b) in self.pending.iter_mut().zip(block) {
                *p = ndarray::concatenate(Axis(0), &[p.view(), b.view()])
                    .map_err(|e| PipelineError::invalid("dataset rows", e.to_string()))?;
            }
        }
        self.pending_rows += src.keep.len();
        self.flush_chunks(false)?;
        // Columns.
        let c = &mut self.columns;
        if c.scalars.is_empty() && c.galaxy_id.is_empty() {
            c.scalars = rows.scalars.iter().map(|(n, _, u)| (n.clone(), *u, Vec::new(), Moments::default())).collect();
            c.targets = rows
                .targets
                .iter()
                .map(|(n, v, _)| (n.clone(), Vec::new(), Vec::new(), vec![Moments::default(); v.ncols()]))
                .collect();
            c.estimators = rows.estimators.iter().map(|(n, _)| (*n, Default::default())).collect();
        }
        for &p in src.keep {
            c.galaxy_id.push(rows.galaxy_id);
            c.suite.push(src.suite.to_owned());
            c.split.push(src.split.name().to_owned());
            c.galaxy_file.push(src.galaxy_file.to_owned());
            c.projection_index.push(p as i64);
            c.los.push([rows.los[[p, 0]], rows.los[[p, 1]], rows.los[[p, 2]]]);
            c.n_stars.push(rows.n_stars[p]);
            c.r_h_kpc.push(rows.r_h_kpc[p]);
            for ((_, _, out, m), (_, v, _)) in c.scalars.iter_mut().zip(&rows.scalars) {
                out.push(v[p]);
                if train {
                    m.add(v[p]);
                }
            }
            for ((_, out, radii, ms), (_, v, r)) in c.targets.iter_mut().zip(&rows.targets) {
                for k in 0..v.ncols() {
                    out.push(v[[p, k]]);
                    radii.push(r[[p, k]]);
                    if train {
                        ms[k].add(v[[p, k]]);
                    }
                }
            }
            for ((_, out), (_, cols)) in c.estimators.iter_mut().zip(&rows.estimators) {
                for (o, col) in out.iter_mut().zip(cols) {
                    o.push(col[p]);
                }
            }
        }
        Ok(())
    }

    /// Writes the pending rows in whole chunks (all of them when `all`).
    fn flush_chunks(&mut self, all: bool) -> Result<()> {
        let chunk = self.header.chunk_rows.max(1);
        let n_write = if all { self.pending_rows } else { (self.pending_rows / chunk) * chunk };
        if n_write == 0 {
            return Ok(());
        }
        let start = self.written;
        for (ds, p) in self.inputs.iter().zip(self.pending.iter_mut()) {
            ds.write_slice(&p.slice(s![..n_write, .., .., ..]), s![start..start + n_write, .., .., ..])
                .map_err(h5err(&self.path, format!("writing rows {start}.. of {}", ds.name())))?;
            *p = p.slice(s![n_write.., .., .., ..]).to_owned();
        }
        self.written += n_write;
        self.pending_rows -= n_write;
        Ok(())
    }

    /// Writes the columns, normalisations and attributes; closes the file.
    pub fn finish(mut self) -> Result<()> {
        self.flush_chunks(true)?;
        let path = self.path.clone();
        if self.written != self.header.n_projections {
            return Err(PipelineError::invalid(
                "dataset rows",
                format!("{} rows written, {} planned", self.written, self.header.n_projections),
            ));
        }
        let file = &self.file;
        let c = &self.columns;
        let n = self.written;
        for (ds, bad) in self.inputs.iter().zip(&self.non_finite) {
            write_scalar(&path, ds, "non_finite_set_to_zero", *bad)?;
        }
        write_1d(&path, file, "galaxy_id", ArrayView1::from(&c.galaxy_id))?;
        write_strings(&path, file, "suite", &c.suite)?;
        write_strings(&path, file, "split", &c.split)?;
        write_strings(&path, file, "galaxy_file", &c.galaxy_file)?;
        write_1d(&path, file, "projection_index", ArrayView1::from(&c.projection_index))?;
        let los = Array2::from_shape_fn((n, 3), |(i, k)| c.los[i][k]);
        write_nd(&path, file, "los", &los)?;
        write_1d(&path, file, "n_stars", ArrayView1::from(&c.n_stars))?;
        write_1d(&path, file, "r_h_kpc", ArrayView1::from(&c.r_h_kpc))?;
        for (name, unit, values, _) in &c.scalars {
            let ds = write_nd(&path, file, &format!("scalars/{name}"), &Array1::from(values.clone()))?;
            write_str(&path, &ds, "unit", unit)?;
        }
        for ((name, values, radii, _), t) in c.targets.iter().zip(&self.header.targets) {
            let k = t.radii.len();
            let v = Array2::from_shape_vec((n, k), values.clone())
                .map_err(|e| PipelineError::invalid(name, e.to_string()))?;
            let ds = write_nd(&path, file, &format!("targets/{name}"), &v)?;
            write_str(&path, &ds, "unit", t.quantity.unit())?;
            write_str(
                &path,
                &ds,
                "quantity",
                &serde_json::to_string(&t.quantity).unwrap_or_default().replace('"', ""),
            )?;
            write_array(&path, &ds, "radii", &t.radii)?;
            write_str(&path, &ds, "radius_unit", t.radius_unit.name())?;
            let r = Array2::from_shape_vec((n, k), radii.clone())
                .map_err(|e| PipelineError::invalid(name, e.to_string()))?;
            let ds = write_nd(&path, file, &format!("radii/{name}"), &r)?;
            write_str(&path, &ds, "unit", "kpc")?;
        }
        for (name, cols) in &c.estimators {
            for (col, values) in ESTIMATOR_COLUMNS.iter().zip(cols) {
                let ds = write_nd(&path, file, &format!("estimators/{name}/{col}"), &Array1::from(values.clone()))?;
                write_str(&path, &ds, "unit", if *col == "radius_kpc" { "kpc" } else { "Msun" })?;
            }
        }
        // Normalisation over the training split.
        let n_train = c.split.iter().filter(|s| *s == "train").count() as u64;
        let norm = |group: &str, name: &str, rows: Vec<[f64; 4]>| -> Result<()> {
            let table = Array2::from_shape_fn((rows.len(), 4), |(i, k)| rows[i][k]);
            let ds = write_nd(&path, file, &format!("normalisation/{group}/{name}"), &table)?;
            write_str(&path, &ds, "columns", "mean,std,min,max")?;
            write_str(&path, &ds, "split", "train")?;
            write_scalar(&path, &ds, "n_rows", n_train)
        };
        for ((name, ..), m) in self.header.inputs.iter().zip(&self.input_moments) {
            norm("inputs", name, vec![m.row()])?;
        }
        for (name, _, _, m) in &c.scalars {
            norm("scalars", name, vec![m.row()])?;
        }
        for (name, _, _, ms) in &c.targets {
            norm("targets", name, ms.iter().map(Moments::row).collect())?;
        }
        for (name, value) in &self.header.text_attrs {
            write_str(&path, file, name, value)?;
        }
        write_scalar(&path, file, "version", 1u32)?;
        write_scalar(&path, file, "seed", self.header.seed)?;
        write_scalar(&path, file, "n_projections", n as u64)?;
        file.flush().map_err(h5err(&path, "flushing"))?;
        Ok(())
    }
}
