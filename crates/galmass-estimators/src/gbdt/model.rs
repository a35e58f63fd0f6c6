//! A trained model: prediction, feature importance, and the JSON model file.
//!
//! The file is one JSON object (see the module [`super`] docs for the field list): `format` =
//! `"galmass-gbdt"`, `version` = 1, the parameters it was trained with, the feature names and per-feature bin
//! summaries, `init_score`, `best_iteration`, and `trees` in LightGBM's array layout ([`super::tree::Tree`]).
//! Numbers are written so they read back bit for bit, so a reloaded model predicts exactly the same values.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_estimators::gbdt::{train, GbdtModel, GbdtParams, ImportanceType, LabeledData};
//! use ndarray::Array2;
//! let x = Array2::from_shape_fn((300, 3), |(i, j)| ((i * (2 * j + 1)) % 37) as f64);
//! let y: Vec<f64> = x.rows().into_iter().map(|r| r[1] * 2.0 + 0.1 * r[0]).collect();
//! let params = GbdtParams { num_boost_round: 20, ..GbdtParams::default() }.check().unwrap();
//! let model = train(&params, LabeledData::new(x.view(), &y).unwrap(), None, None).unwrap().model;
//! let text = model.to_json().unwrap();
//! let back = GbdtModel::from_json(&text, "memory").unwrap();
//! assert_eq!(back.predict(x.view()).unwrap(), model.predict(x.view()).unwrap());
//! let gain = model.feature_importance(ImportanceType::Gain);
//! assert!(gain[1] > gain[0] && gain[1] > gain[2]);
//! ```

use std::path::Path;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::binning::MissingType;
use super::error::GbdtError;
use super::params::GbdtParams;
use super::tree::Tree;

/// The value of the `format` field of a model file.
pub const MODEL_FORMAT: &str = "galmass-gbdt";
/// The current model file version.
pub const MODEL_VERSION: u32 = 1;

/// Summary of one feature's bins in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureInfo {
    /// Bins (0: the feature was constant or unsplittable and is never used).
    pub num_bin: usize,
    /// Whether NaN had its own bin.
    pub missing_type: MissingType,
    /// Smallest value in the binning sample (0 counted when present).
    pub min_value: f64,
    /// Largest value in the binning sample.
    pub max_value: f64,
}

/// Which feature importance (LightGBM `importance_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportanceType {
    /// Number of splits on the feature.
    Split,
    /// Total gain of the splits on the feature.
    Gain,
}

/// A trained gradient boosted tree model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GbdtModel {
    format: String,
    version: u32,
    params: GbdtParams,
    feature_names: Vec<String>,
    feature_infos: Vec<FeatureInfo>,
    init_score: f64,
    best_iteration: Option<usize>,
    trees: Vec<Tree>,
}

impl GbdtModel {
    pub(crate) fn new(
        feature_names: Vec<String>,
        init_score: f64,
        trees: Vec<Tree>,
        params: GbdtParams,
        best_iteration: Option<usize>,
        feature_infos: Vec<FeatureInfo>,
    ) -> Self {
        GbdtModel {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            params,
            feature_names,
            feature_infos,
            init_score,
            best_iteration,
            trees,
        }
    }

    /// The parameters the model was trained with.
    pub fn params(&self) -> &GbdtParams {
        &self.params
    }

    /// Feature names, in column order.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Per-feature bin summaries from training.
    pub fn feature_infos(&self) -> &[FeatureInfo] {
        &self.feature_infos
    }

    /// Number of features a row must have.
    pub fn num_features(&self) -> usize {
        self.feature_names.len()
    }

    /// The starting score every prediction adds the trees to (mean or median label, or 0).
    pub fn init_score(&self) -> f64 {
        self.init_score
    }

    /// With early stopping, the best iteration (the model holds that many trees).
    pub fn best_iteration(&self) -> Option<usize> {
        self.best_iteration
    }

    /// The trees, one per iteration.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Prediction for one row of raw feature values (NaN allowed).
    pub fn predict_row(&self, row: &[f64]) -> Result<f64, GbdtError> {
        if row.len() != self.num_features() {
            return Err(GbdtError::BadInput {
                name: "row",
                expected: format!("{} features", self.num_features()),
                got: row.len().to_string(),
            });
        }
        Ok(self.predict_row_unchecked(row))
    }

    fn predict_row_unchecked(&self, row: &[f64]) -> f64 {
        self.init_score + self.trees.iter().map(|t| t.predict_row(row)).sum::<f64>()
    }

    /// Predictions for every row of a rows x features matrix.
    pub fn predict(&self, features: ArrayView2<'_, f64>) -> Result<Vec<f64>, GbdtError> {
        if features.ncols() != self.num_features() {
            return Err(GbdtError::BadInput {
                name: "features",
                expected: format!("{} columns", self.num_features()),
                got: features.ncols().to_string(),
            });
        }
        let mut buf = vec![0.0; self.num_features()];
        Ok(features
            .rows()
            .into_iter()
            .map(|row| match row.as_slice() {
                Some(s) => self.predict_row_unchecked(s),
                None => {
                    for (b, x) in buf.iter_mut().zip(row.iter()) {
                        *b = *x;
                    }
                    self.predict_row_unchecked(&buf)
                }
            })
            .collect())
    }

    /// Feature importance, one value per feature: the number of splits or their summed gain.
    pub fn feature_importance(&self, kind: ImportanceType) -> Vec<f64> {
        let mut out = vec![0.0; self.num_features()];
        for tree in &self.trees {
            for (node, &f) in tree.split_feature.iter().enumerate() {
                out[f] += match kind {
                    ImportanceType::Split => 1.0,
                    ImportanceType::Gain => tree.split_gain[node],
                };
            }
        }
        out
    }

    /// (name, gain, split count) for every feature, by decreasing gain (ties by name order of columns).
    pub fn importance_table(&self) -> Vec<(String, f64, usize)> {
        let gain = self.feature_importance(ImportanceType::Gain);
        let split = self.feature_importance(ImportanceType::Split);
        let mut rows: Vec<(String, f64, usize)> =
            self.feature_names.iter().enumerate().map(|(j, n)| (n.clone(), gain[j], split[j] as usize)).collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        rows
    }

    /// The model as JSON text (the documented model file).
    pub fn to_json(&self) -> Result<String, GbdtError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| GbdtError::Model { source_name: "(serialisation)".into(), reason: e.to_string() })
    }

    /// Reads a model from JSON text; `source_name` labels errors (a file name).
    pub fn from_json(text: &str, source_name: &str) -> Result<GbdtModel, GbdtError> {
        let bad = |reason: String| GbdtError::Model { source_name: source_name.into(), reason };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        match value.get("format").and_then(|f| f.as_str()) {
            Some(MODEL_FORMAT) => {}
            other => return Err(bad(format!("`format` is {other:?}, expected \"{MODEL_FORMAT}\""))),
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(MODEL_VERSION) => {}
            other => return Err(bad(format!("`version` is {other:?}, this build reads version {MODEL_VERSION}"))),
        }
        let model: GbdtModel = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
        if model.feature_infos.len() != model.feature_names.len() {
            return Err(bad(format!(
                "{} feature_infos for {} feature_names",
                model.feature_infos.len(),
                model.feature_names.len()
            )));
        }
        if !model.init_score.is_finite() {
            return Err(bad("init_score is not finite".into()));
        }
        for (i, tree) in model.trees.iter().enumerate() {
            tree.validate(model.num_features()).map_err(|e| bad(format!("tree {i}: {e}")))?;
        }
        Ok(model)
    }

    /// Writes the model file atomically (`galmass_core::atomic`: a temporary beside `path`, synced and renamed into
    /// place, removed on any error); a failed write is [`GbdtError::Write`], naming `path`.
    pub fn save(&self, path: &Path) -> Result<(), GbdtError> {
        let text = self.to_json()?;
        Ok(galmass_core::atomic::write_bytes_atomic(path, text.as_bytes())?)
    }

    /// Reads a model file.
    pub fn load(path: &Path) -> Result<GbdtModel, GbdtError> {
        let text = std::fs::read_to_string(path).map_err(|source| GbdtError::Io { path: path.to_owned(), source })?;
        GbdtModel::from_json(&text, &path.display().to_string())
    }
}
