//! z-scoring of inputs, contexts and targets, computed on the training rows and carried by checkpoints.
//!
//! ```
//! use galmass_models::normalise::ZScore;
//! use ndarray::array;
//! let x = array![[1.0f32, 10.0], [3.0, 30.0]];
//! let z = ZScore::fit(&["a".into(), "b".into()], &x).unwrap();
//! let scaled = z.apply(&x).unwrap();
//! assert!((scaled[[0, 0]] + 1.0).abs() < 1e-6);
//! assert!((z.invert(&scaled).unwrap()[[1, 1]] - 30.0).abs() < 1e-4);
//! ```

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// Per-column mean and standard deviation (ddof 0); a constant column gets a standard deviation of 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZScore {
    /// Column names.
    pub names: Vec<String>,
    /// Column means.
    pub mean: Vec<f64>,
    /// Column standard deviations.
    pub std: Vec<f64>,
}

impl ZScore {
    /// The statistics of the columns of `rows` (at least one row, finite values).
    pub fn fit(names: &[String], rows: &Array2<f32>) -> Result<Self, ModelError> {
        if rows.nrows() == 0 || rows.ncols() != names.len() {
            return Err(ModelError::InvalidData {
                field: "rows",
                reason: format!("{} x {} values for {} named columns", rows.nrows(), rows.ncols(), names.len()),
            });
        }
        let mut mean = Vec::with_capacity(names.len());
        let mut std = Vec::with_capacity(names.len());
        for (name, col) in names.iter().zip(rows.axis_iter(Axis(1))) {
            if col.iter().any(|v| !v.is_finite()) {
                return Err(ModelError::InvalidData {
                    field: "rows",
                    reason: format!("column {name:?} is not finite"),
                });
            }
            let n = col.len() as f64;
            let m = col.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let var = col.iter().map(|&v| (f64::from(v) - m).powi(2)).sum::<f64>() / n;
            mean.push(m);
            std.push(if var > 0.0 { var.sqrt() } else { 1.0 });
        }
        Ok(Self { names: names.to_vec(), mean, std })
    }

    fn check_columns(&self, rows: &Array2<f32>) -> Result<(), ModelError> {
        if rows.ncols() != self.names.len() {
            return Err(ModelError::InvalidData {
                field: "rows",
                reason: format!(
                    "{} columns, the normalisation has {} ({:?})",
                    rows.ncols(),
                    self.names.len(),
                    self.names
                ),
            });
        }
        Ok(())
    }

    /// `(x - mean) / std` per column.
    pub fn apply(&self, rows: &Array2<f32>) -> Result<Array2<f32>, ModelError> {
        self.check_columns(rows)?;
        let mut out = rows.clone();
        for (j, mut col) in out.axis_iter_mut(Axis(1)).enumerate() {
            col.mapv_inplace(|v| ((f64::from(v) - self.mean[j]) / self.std[j]) as f32);
        }
        Ok(out)
    }

    /// `z std + mean` per column.
    pub fn invert(&self, rows: &Array2<f32>) -> Result<Array2<f32>, ModelError> {
        self.check_columns(rows)?;
        let mut out = rows.clone();
        for (j, mut col) in out.axis_iter_mut(Axis(1)).enumerate() {
            col.mapv_inplace(|v| (f64::from(v) * self.std[j] + self.mean[j]) as f32);
        }
        Ok(out)
    }

    /// `sum log std`: what a density in z-scored units loses per row when brought back to the original units
    /// (`log p(x) = log p(z) - sum log std`).
    pub fn log_jacobian(&self) -> f64 {
        self.std.iter().map(|s| s.ln()).sum()
    }
}
