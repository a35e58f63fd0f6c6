//! The rows of a dataset an experiment trains and tests on, in memory: which projections (by suite and split), their
//! maps (optionally block-averaged), scalars and targets, as `galmass_models::data::ArraySource`s with per-channel
//! map scaling fitted on the training rows.
//!
//! The experiments' datasets (quick and medium scale) fit in memory; a dataset larger than memory trains through
//! [`crate::dataset::stream::StreamSource`] instead.

use std::collections::BTreeMap;
use std::path::Path;

use galmass_models::data::ArraySource;
use ndarray::{Array1, Array2, Array4, Axis};
use serde::{Deserialize, Serialize};

use crate::dataset::reader::{DatasetFile, Split};
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

/// A dataset file with the per-projection columns an experiment selects by.
#[derive(Debug)]
pub struct ExperimentData {
    /// The file.
    pub file: DatasetFile,
    /// Suite of every projection.
    pub suite: Vec<String>,
    /// Split of every projection.
    pub split: Vec<Split>,
    /// Galaxy id of every projection (the bootstrap's groups).
    pub galaxy_id: Vec<u64>,
    /// Projected half-light (half-number) radius of every projection, kpc.
    pub r_h_kpc: Array1<f64>,
    maps: std::sync::Mutex<BTreeMap<String, std::sync::Arc<Array4<f32>>>>,
}

/// Per-channel affine scaling of a map, `(x - offset) / scale`, fitted on training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapScaling {
    /// Per channel: subtracted.
    pub offset: Vec<f32>,
    /// Per channel: divided by.
    pub scale: Vec<f32>,
}

/// The suites' unique names in first-appearance order.
pub fn unique(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in names {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

impl ExperimentData {
    /// Opens `DIR/dataset.h5`.
    pub fn open(dir: &Path) -> Result<Self> {
        let file = DatasetFile::open(&dir.join("dataset.h5"))?;
        let suite = file.suite()?;
        let split = file.split()?;
        let galaxy_id = file.galaxy_id()?.iter().map(|&g| g as u64).collect();
        let r_h_kpc = file.r_h_kpc()?;
        Ok(Self { file, suite, split, galaxy_id, r_h_kpc, maps: Default::default() })
    }

    /// The suites of the dataset, in order.
    pub fn suites(&self) -> Vec<String> {
        unique(&self.suite)
    }

    /// Projections of `suites` in `splits`, in file order.
    pub fn rows(&self, suites: &[String], splits: &[Split]) -> Vec<usize> {
        (0..self.suite.len()).filter(|&i| suites.contains(&self.suite[i]) && splits.contains(&self.split[i])).collect()
    }

    /// Every row of input `name`, block-averaged by `downsample` (cached).
    pub fn map(&self, name: &str, downsample: usize) -> Result<std::sync::Arc<Array4<f32>>> {
        let key = format!("{name}/{downsample}");
        let mut cache = self.maps.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = cache.get(&key) {
            return Ok(m.clone());
        }
        let full = self.file.read_input_rows(name, 0, self.suite.len())?;
        let map = std::sync::Arc::new(block_average(&full, downsample));
        cache.insert(key, map.clone());
        Ok(map)
    }

    /// Scalar columns `(n_rows, n_scalars)` of `rows`.
    pub fn scalars(&self, names: &[String], rows: &[usize]) -> Result<Array2<f64>> {
        let mut out = Array2::zeros((rows.len(), names.len()));
        for (j, name) in names.iter().enumerate() {
            let col = self.file.scalar(name)?;
            for (k, &r) in rows.iter().enumerate() {
                out[[k, j]] = col[r];
            }
        }
        Ok(out)
    }

    /// Target columns of `rows`: every radius of every target, in order, `(n_rows, sum of radii)`, with the column
    /// names `<target>@<radius>`.
    pub fn targets(&self, names: &[String], rows: &[usize]) -> Result<(Array2<f64>, Vec<String>)> {
        let mut parts = Vec::new();
        let mut columns = Vec::new();
        for name in names {
            let all = self.file.target(name)?;
            let info = self.file.target_info(name)?;
            columns.extend(info.radii.iter().map(|r| format!("{name}@{r}")));
            parts.push(all.select(Axis(0), rows));
        }
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        let stacked = ndarray::concatenate(Axis(1), &views)
            .map_err(|e| PipelineError::invalid("targets", format!("cannot join the target columns: {e}")))?;
        Ok((stacked, columns))
    }

    /// The rows among `rows` whose targets and scalars are all finite.
    pub fn finite_rows(&self, rows: &[usize], targets: &[String], scalars: &[String]) -> Result<Vec<usize>> {
        let (t, _) = self.targets(targets, rows)?;
        let s = self.scalars(scalars, rows)?;
        Ok(rows
            .iter()
            .enumerate()
            .filter(|(k, _)| t.row(*k).iter().chain(s.row(*k).iter()).all(|v| v.is_finite()))
            .map(|(_, &r)| r)
            .collect())
    }

    /// An in-memory batch source of `rows`: the maps scaled by `scaling`, the scalars and targets as float32.
    pub fn source(
        &self,
        rows: &[usize],
        maps: &[String],
        scaling: &BTreeMap<String, MapScaling>,
        downsample: usize,
        scalars: &[String],
        targets: &[String],
    ) -> Result<ArraySource> {
        let mut inputs = BTreeMap::new();
        for name in maps {
            let all = self.map(name, downsample)?;
            let mut picked = all.select(Axis(0), rows);
            if let Some(s) = scaling.get(name) {
                for (c, mut channel) in picked.axis_iter_mut(Axis(1)).enumerate() {
                    let (o, k) = (s.offset[c], s.scale[c]);
                    channel.mapv_inplace(|v| (v - o) / k);
                }
            }
            inputs.insert(name.clone(), picked.into_dyn());
        }
        let s = (!scalars.is_empty()).then(|| self.scalars(scalars, rows)).transpose()?.map(|s| s.mapv(|v| v as f32));
        let (t, _) = self.targets(targets, rows)?;
        ArraySource::new(inputs, s, t.mapv(|v| v as f32)).map_err(PipelineError::from)
    }

    /// Per-channel mean and standard deviation of each map over `rows` (a zero spread scales by 1).
    pub fn fit_scaling(
        &self,
        maps: &[String],
        downsample: usize,
        rows: &[usize],
    ) -> Result<BTreeMap<String, MapScaling>> {
        let mut out = BTreeMap::new();
        for name in maps {
            let all = self.map(name, downsample)?;
            let channels = all.dim().1;
            let (mut offset, mut scale) = (Vec::with_capacity(channels), Vec::with_capacity(channels));
            for c in 0..channels {
                let (mut sum, mut sum2, mut n) = (0.0f64, 0.0f64, 0usize);
                for &r in rows {
                    for &v in all.slice(ndarray::s![r, c, .., ..]).iter() {
                        sum += f64::from(v);
                        sum2 += f64::from(v) * f64::from(v);
                        n += 1;
                    }
                }
                let mean = if n > 0 { sum / n as f64 } else { 0.0 };
                let var = if n > 0 { (sum2 / n as f64 - mean * mean).max(0.0) } else { 0.0 };
                let std = var.sqrt();
                offset.push(mean as f32);
                scale.push(if std > 0.0 && std.is_finite() { std as f32 } else { 1.0 });
            }
            out.insert(name.clone(), MapScaling { offset, scale });
        }
        Ok(out)
    }
}

/// `maps` `(n, c, y, x)` averaged over `factor x factor` blocks (a trailing partial block is dropped); 1 returns a
/// copy.
pub fn block_average(maps: &Array4<f32>, factor: usize) -> Array4<f32> {
    if factor <= 1 {
        return maps.clone();
    }
    let (n, c, h, w) = maps.dim();
    let (oh, ow) = (h / factor, w / factor);
    let norm = (factor * factor) as f32;
    Array4::from_shape_fn((n, c, oh, ow), |(i, k, y, x)| {
        maps.slice(ndarray::s![i, k, y * factor..(y + 1) * factor, x * factor..(x + 1) * factor]).sum() / norm
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_average_keeps_the_mean_of_each_block() {
        let maps = Array4::from_shape_fn((1, 1, 4, 4), |(_, _, y, x)| (y * 4 + x) as f32);
        let out = block_average(&maps, 2);
        assert_eq!(out.dim(), (1, 1, 2, 2));
        assert_eq!(out[[0, 0, 0, 0]], (0.0 + 1.0 + 4.0 + 5.0) / 4.0);
        assert_eq!(out[[0, 0, 1, 1]], (10.0 + 11.0 + 14.0 + 15.0) / 4.0);
        assert_eq!(block_average(&maps, 1), maps);
    }

    #[test]
    fn unique_keeps_first_appearance_order() {
        let names: Vec<String> = ["b", "a", "b", "c", "a"].iter().map(|s| s.to_string()).collect();
        assert_eq!(unique(&names), vec!["b", "a", "c"]);
    }
}
