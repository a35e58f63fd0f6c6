//! Parameters, named and defaulted as LightGBM 4.7's, so a LightGBM configuration carries over.
//!
//! [`GbdtParams`] mirrors the configuration text (TOML or JSON, unknown keys rejected, LightGBM's aliases
//! accepted: `num_iterations` for `num_boost_round`, `reg_lambda` for `lambda_l2`, `subsample` for
//! `bagging_fraction`, ...). [`Params::check`] (the `galmass_core::params` trait) turns it into
//! [`GbdtValidParams`], the only form training accepts. Every default is LightGBM's except `seed` (LightGBM: unset; here 0), and the random streams are
//! galmass' own (ChaCha8), so a seed does not reproduce LightGBM's draws.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_estimators::gbdt::{GbdtParams, Metric, Objective};
//! // chu2024 Table 3: num_leaves 5, 500 rounds, min_data_in_leaf 20, regression; MAE and MSE tracked.
//! let params: GbdtParams = serde_json::from_str(
//!     r#"{"num_leaves": 5, "num_iterations": 500, "min_data_in_leaf": 20, "objective": "regression",
//!         "metric": "l1,l2"}"#,
//! ).unwrap();
//! let valid = params.check().unwrap();
//! assert_eq!(valid.params().num_boost_round, 500);
//! assert_eq!(valid.params().objective, Objective::Regression);
//! assert_eq!(valid.metrics(), &[Metric::L1, Metric::L2]);
//! // Unknown keys are errors, not silently ignored.
//! assert!(serde_json::from_str::<GbdtParams>(r#"{"num_leafs": 5}"#).is_err());
//! ```

use std::fmt;

use galmass_core::params::Params;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::GbdtError;

/// The loss minimised (LightGBM `objective`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Objective {
    /// Squared error (LightGBM `regression`; aliases `regression_l2`, `l2`, `mean_squared_error`, `mse`,
    /// `l2_root`, `root_mean_squared_error`, `rmse`).
    #[default]
    #[serde(
        rename = "regression",
        alias = "regression_l2",
        alias = "l2",
        alias = "mean_squared_error",
        alias = "mse",
        alias = "l2_root",
        alias = "root_mean_squared_error",
        alias = "rmse"
    )]
    Regression,
    /// Absolute error (LightGBM `regression_l1`; aliases `l1`, `mean_absolute_error`, `mae`). Splits use the sign of
    /// the residual; leaf values are then replaced by the median residual of the leaf, as LightGBM does.
    #[serde(rename = "regression_l1", alias = "l1", alias = "mean_absolute_error", alias = "mae")]
    RegressionL1,
    /// Huber loss with threshold `alpha` (LightGBM `huber`).
    #[serde(rename = "huber")]
    Huber,
}

impl Objective {
    /// LightGBM's name.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Regression => "regression",
            Objective::RegressionL1 => "regression_l1",
            Objective::Huber => "huber",
        }
    }

    /// The metric LightGBM evaluates when `metric` is empty.
    pub fn default_metric(self) -> Metric {
        match self {
            Objective::Regression => Metric::L2,
            Objective::RegressionL1 => Metric::L1,
            Objective::Huber => Metric::Huber,
        }
    }
}

/// An evaluation metric (LightGBM `metric`). All are means over rows; lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Mean absolute error (`l1`; aliases `mean_absolute_error`, `mae`, `regression_l1`).
    L1,
    /// Mean squared error (`l2`; aliases `mean_squared_error`, `mse`, `regression_l2`, `regression`).
    L2,
    /// Root mean squared error (`rmse`; aliases `root_mean_squared_error`, `l2_root`).
    Rmse,
    /// Mean Huber loss with the `alpha` parameter (`huber`).
    Huber,
}

impl Metric {
    /// LightGBM's name.
    pub fn name(self) -> &'static str {
        match self {
            Metric::L1 => "l1",
            Metric::L2 => "l2",
            Metric::Rmse => "rmse",
            Metric::Huber => "huber",
        }
    }

    /// Parses a LightGBM metric name or alias; `None` for an unknown name.
    pub fn from_name(name: &str) -> Option<Metric> {
        match name {
            "l1" | "mean_absolute_error" | "mae" | "regression_l1" => Some(Metric::L1),
            "l2" | "mean_squared_error" | "mse" | "regression_l2" | "regression" => Some(Metric::L2),
            "rmse" | "root_mean_squared_error" | "l2_root" => Some(Metric::Rmse),
            "huber" => Some(Metric::Huber),
            _ => None,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Metric {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Metric::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown metric `{name}` (known: l1, l2, rmse, huber)")))
    }
}

/// The `metric` setting as written: a string (comma-separated names, as LightGBM's config files) or a list of
/// names. Empty means the objective's metric; `None` (LightGBM's spelling) means no metric.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricList(pub Vec<String>);

impl From<&[&str]> for MetricList {
    fn from(names: &[&str]) -> Self {
        MetricList(names.iter().map(|s| (*s).to_string()).collect())
    }
}

impl Serialize for MetricList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MetricList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        let names = match Raw::deserialize(deserializer)? {
            Raw::One(s) => s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
            Raw::Many(v) => v.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect(),
        };
        Ok(MetricList(names))
    }
}

/// How rows are sampled for each tree (LightGBM `data_sample_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataSampleStrategy {
    /// Random row subsets of `bagging_fraction`, redrawn every `bagging_freq` iterations (off by default).
    #[default]
    Bagging,
    /// Gradient-based one-side sampling: keep the `top_rate` rows with the largest |g h|, sample `other_rate` of
    /// the rest and up-weight them; no sampling during the first 1/learning_rate iterations.
    Goss,
}

/// Training parameters, unchecked. Names, aliases and defaults are LightGBM 4.7's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GbdtParams {
    /// Loss: `regression` (L2), `regression_l1`, `huber`.
    #[serde(alias = "objective_type", alias = "app", alias = "application", alias = "loss")]
    pub objective: Objective,
    /// Boosting rounds (LightGBM `num_iterations`), 100.
    #[serde(
        alias = "num_iterations",
        alias = "num_iteration",
        alias = "n_iter",
        alias = "num_tree",
        alias = "num_trees",
        alias = "num_round",
        alias = "num_rounds",
        alias = "nrounds",
        alias = "n_estimators",
        alias = "max_iter"
    )]
    pub num_boost_round: usize,
    /// Shrinkage of every tree's output, 0.1.
    #[serde(alias = "shrinkage_rate", alias = "eta")]
    pub learning_rate: f64,
    /// Maximum leaves per tree (leaf-wise growth), 31.
    #[serde(alias = "num_leaf", alias = "max_leaves", alias = "max_leaf", alias = "max_leaf_nodes")]
    pub num_leaves: usize,
    /// Maximum tree depth; <= 0 means no limit. -1.
    pub max_depth: i32,
    /// Minimum rows per leaf, 20.
    #[serde(alias = "min_data_per_leaf", alias = "min_data", alias = "min_child_samples", alias = "min_samples_leaf")]
    pub min_data_in_leaf: usize,
    /// Minimum hessian sum per leaf, 1e-3.
    #[serde(
        alias = "min_sum_hessian_per_leaf",
        alias = "min_sum_hessian",
        alias = "min_hessian",
        alias = "min_child_weight"
    )]
    pub min_sum_hessian_in_leaf: f64,
    /// Maximum histogram bins per feature (one more for NaN when a feature has missing values), 255.
    #[serde(alias = "max_bins")]
    pub max_bin: usize,
    /// Minimum rows (of the binning sample) per bin, 3.
    pub min_data_in_bin: usize,
    /// Rows sampled to find bin boundaries, 200000.
    #[serde(alias = "subsample_for_bin")]
    pub bin_construct_sample_cnt: usize,
    /// L1 regularisation of leaf values, 0.
    #[serde(alias = "reg_alpha", alias = "l1_regularization")]
    pub lambda_l1: f64,
    /// L2 regularisation of leaf values, 0.
    #[serde(alias = "reg_lambda", alias = "lambda", alias = "l2_regularization")]
    pub lambda_l2: f64,
    /// Minimum gain of a split, 0.
    #[serde(alias = "min_split_gain")]
    pub min_gain_to_split: f64,
    /// Fraction of features drawn for each tree, 1.
    #[serde(alias = "sub_feature", alias = "colsample_bytree")]
    pub feature_fraction: f64,
    /// Fraction of rows drawn for each bag (with `bagging_freq` > 0), 1.
    #[serde(alias = "sub_row", alias = "subsample", alias = "bagging")]
    pub bagging_fraction: f64,
    /// Redraw the bag every this many iterations; 0 disables bagging. 0.
    #[serde(alias = "subsample_freq")]
    pub bagging_freq: usize,
    /// `bagging` or `goss`.
    pub data_sample_strategy: DataSampleStrategy,
    /// GOSS: fraction of rows with the largest gradients kept, 0.2.
    pub top_rate: f64,
    /// GOSS: fraction of rows sampled from the rest, 0.1.
    pub other_rate: f64,
    /// Exclusive feature bundling of sparse, mutually exclusive features, true.
    #[serde(alias = "is_enable_bundle", alias = "bundle")]
    pub enable_bundle: bool,
    /// Start from the mean label (median for L1) rather than 0, true.
    pub boost_from_average: bool,
    /// Huber threshold, 0.9.
    pub alpha: f64,
    /// Metrics evaluated every iteration: names or a comma-separated string; empty means the objective's.
    #[serde(alias = "metrics", alias = "metric_types")]
    pub metric: MetricList,
    /// Also evaluate the metrics on the training set every iteration, false.
    #[serde(alias = "training_metric", alias = "is_training_metric", alias = "train_metric")]
    pub is_provide_training_metric: bool,
    /// Stop when a validation metric has not improved for this many rounds; 0 disables. 0.
    #[serde(alias = "early_stopping_rounds", alias = "early_stopping", alias = "n_iter_no_change")]
    pub early_stopping_round: usize,
    /// Early stopping watches only the first metric, false.
    pub first_metric_only: bool,
    /// Worker threads; 0 means rayon's default (one per core). Results do not depend on it.
    #[serde(alias = "num_thread", alias = "nthread", alias = "nthreads", alias = "n_jobs")]
    pub num_threads: usize,
    /// Seed of every random choice (binning sample, feature fraction, bagging, GOSS). LightGBM leaves it unset;
    /// here 0.
    #[serde(alias = "random_seed", alias = "random_state")]
    pub seed: u64,
    /// Accepted so LightGBM configurations load; logging goes through `tracing` instead. 1.
    #[serde(alias = "verbose")]
    pub verbosity: i32,
}

impl Default for GbdtParams {
    fn default() -> Self {
        // LightGBM 4.7 defaults (docs/Parameters.rst).
        Self {
            objective: Objective::Regression,
            num_boost_round: 100,
            learning_rate: 0.1,
            num_leaves: 31,
            max_depth: -1,
            min_data_in_leaf: 20,
            min_sum_hessian_in_leaf: 1e-3,
            max_bin: 255,
            min_data_in_bin: 3,
            bin_construct_sample_cnt: 200_000,
            lambda_l1: 0.0,
            lambda_l2: 0.0,
            min_gain_to_split: 0.0,
            feature_fraction: 1.0,
            bagging_fraction: 1.0,
            bagging_freq: 0,
            data_sample_strategy: DataSampleStrategy::Bagging,
            top_rate: 0.2,
            other_rate: 0.1,
            enable_bundle: true,
            boost_from_average: true,
            alpha: 0.9,
            metric: MetricList::default(),
            is_provide_training_metric: false,
            early_stopping_round: 0,
            first_metric_only: false,
            num_threads: 0,
            seed: 0,
            verbosity: 1,
        }
    }
}

impl GbdtParams {
    /// chu2024 §2.3 / Table 3: num_leaves 5, 500 rounds, min_data_in_leaf 20, regression objective, no depth
    /// limit, MAE and MSE tracked (on the training set too, for the loss curves of Fig. 4). The paper does not
    /// state the learning rate: LightGBM's default 0.1 is kept.
    pub fn chu2024() -> Self {
        Self {
            num_leaves: 5,
            num_boost_round: 500,
            min_data_in_leaf: 20,
            objective: Objective::Regression,
            max_depth: -1,
            metric: MetricList::from(&["l1", "l2"][..]),
            is_provide_training_metric: true,
            ..Self::default()
        }
    }
}

impl Params for GbdtParams {
    type Valid = GbdtValidParams;
    type Error = GbdtError;

    /// Checks ranges and combinations (LightGBM's `Config::CheckParamConflict` and per-parameter checks).
    fn check(&self) -> Result<GbdtValidParams, GbdtError> {
        let bad = |name: &'static str, reason: String| Err(GbdtError::InvalidParameter { name, reason });
        let finite_nonneg = |x: f64| x.is_finite() && x >= 0.0;
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad("learning_rate", format!("must be a finite number > 0, got {}", self.learning_rate));
        }
        if !(2..=131_072).contains(&self.num_leaves) {
            return bad("num_leaves", format!("must be in 2..=131072, got {}", self.num_leaves));
        }
        if !(2..=65_535).contains(&self.max_bin) {
            return bad("max_bin", format!("must be in 2..=65535, got {}", self.max_bin));
        }
        if self.min_data_in_bin == 0 {
            return bad("min_data_in_bin", "must be >= 1, got 0".into());
        }
        if self.bin_construct_sample_cnt == 0 {
            return bad("bin_construct_sample_cnt", "must be >= 1, got 0".into());
        }
        if !finite_nonneg(self.min_sum_hessian_in_leaf) {
            return bad(
                "min_sum_hessian_in_leaf",
                format!("must be a finite number >= 0, got {}", self.min_sum_hessian_in_leaf),
            );
        }
        for (name, value) in [
            ("lambda_l1", self.lambda_l1),
            ("lambda_l2", self.lambda_l2),
            ("min_gain_to_split", self.min_gain_to_split),
        ] {
            if !finite_nonneg(value) {
                return bad(name, format!("must be a finite number >= 0, got {value}"));
            }
        }
        for (name, value) in [("feature_fraction", self.feature_fraction), ("bagging_fraction", self.bagging_fraction)]
        {
            if !(value > 0.0 && value <= 1.0) {
                return bad(name, format!("must be in (0, 1], got {value}"));
            }
        }
        if self.objective == Objective::Huber && !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad("alpha", format!("the huber threshold must be a finite number > 0, got {}", self.alpha));
        }
        if self.data_sample_strategy == DataSampleStrategy::Goss {
            if !(self.top_rate > 0.0 && self.top_rate < 1.0) {
                return bad("top_rate", format!("must be in (0, 1), got {}", self.top_rate));
            }
            if !(self.other_rate > 0.0 && self.other_rate < 1.0) {
                return bad("other_rate", format!("must be in (0, 1), got {}", self.other_rate));
            }
            if self.top_rate + self.other_rate > 1.0 {
                return bad(
                    "other_rate",
                    format!("top_rate + other_rate must be <= 1, got {}", self.top_rate + self.other_rate),
                );
            }
            if self.bagging_freq > 0 && self.bagging_fraction < 1.0 {
                // LightGBM: "Cannot use bagging in GOSS".
                return bad(
                    "data_sample_strategy",
                    "goss cannot be combined with bagging (bagging_freq > 0 and bagging_fraction < 1)".into(),
                );
            }
        }
        let mut metrics = Vec::new();
        let names = &self.metric.0;
        let none = names.len() == 1 && matches!(names[0].as_str(), "None" | "none" | "null" | "na" | "custom");
        if names.is_empty() {
            metrics.push(self.objective.default_metric());
        } else if !none {
            for name in names {
                let metric = Metric::from_name(name).ok_or_else(|| GbdtError::InvalidParameter {
                    name: "metric",
                    reason: format!("unknown metric `{name}` (known: l1, l2, rmse, huber, None)"),
                })?;
                if !metrics.contains(&metric) {
                    metrics.push(metric);
                }
            }
        }
        if self.early_stopping_round > 0 && metrics.is_empty() {
            return bad("early_stopping_round", "early stopping needs at least one metric".into());
        }
        Ok(GbdtValidParams { params: self.clone(), metrics })
    }
}

/// Checked [`GbdtParams`]: the only form [`super::train`] accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct GbdtValidParams {
    params: GbdtParams,
    metrics: Vec<Metric>,
}

impl GbdtValidParams {
    /// The checked values.
    pub fn params(&self) -> &GbdtParams {
        &self.params
    }

    /// The metrics evaluated every iteration, resolved from `metric` and `objective`, without duplicates.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// Iterations without row sampling at the start of GOSS: LightGBM's `static_cast<int>(1.0f / learning_rate)`.
    pub(crate) fn goss_warmup_iterations(&self) -> usize {
        let warm = 1.0_f64 / self.params.learning_rate;
        if warm >= usize::MAX as f64 {
            usize::MAX
        } else {
            warm as usize
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_are_lightgbm_defaults() {
        let p = GbdtParams::default();
        assert_eq!(
            (p.num_leaves, p.num_boost_round, p.min_data_in_leaf, p.max_bin, p.min_data_in_bin),
            (31, 100, 20, 255, 3)
        );
        assert_eq!(
            (p.learning_rate, p.min_sum_hessian_in_leaf, p.top_rate, p.other_rate, p.alpha),
            (0.1, 1e-3, 0.2, 0.1, 0.9)
        );
        assert_eq!((p.max_depth, p.bagging_freq, p.bin_construct_sample_cnt), (-1, 0, 200_000));
        assert!(p.enable_bundle && p.boost_from_average);
        let v = p.check().unwrap();
        assert_eq!(v.metrics(), &[Metric::L2]);
        assert_eq!(
            GbdtParams { objective: Objective::RegressionL1, ..GbdtParams::default() }.check().unwrap().metrics(),
            &[Metric::L1]
        );
    }

    #[test]
    fn aliases_and_metric_forms_parse() {
        let p: GbdtParams = toml::from_str(
            "num_iterations = 7\neta = 0.05\nreg_lambda = 2.0\nsubsample = 0.5\nsubsample_freq = 1\nobjective = \"mae\"\nmetric = [\"mse\", \"mae\"]",
        )
        .unwrap();
        assert_eq!(
            (p.num_boost_round, p.learning_rate, p.lambda_l2, p.bagging_fraction, p.bagging_freq),
            (7, 0.05, 2.0, 0.5, 1)
        );
        assert_eq!(p.objective, Objective::RegressionL1);
        assert_eq!(p.check().unwrap().metrics(), &[Metric::L2, Metric::L1]);
        let p: GbdtParams = serde_json::from_str(r#"{"num_boost_round": 3, "metric": "None"}"#).unwrap();
        assert!(p.check().unwrap().metrics().is_empty());
        let p: GbdtParams = serde_json::from_str(r#"{"data_sample_strategy": "goss", "objective": "huber"}"#).unwrap();
        assert_eq!((p.data_sample_strategy, p.objective), (DataSampleStrategy::Goss, Objective::Huber));
    }

    #[test]
    fn unknown_keys_duplicates_and_bad_values_are_rejected() {
        assert!(toml::from_str::<GbdtParams>("num_leafs = 5").is_err());
        assert!(toml::from_str::<GbdtParams>("num_iterations = 5\nnum_boost_round = 6").is_err());
        assert!(toml::from_str::<GbdtParams>("objective = \"poisson\"").is_err());
        let err = GbdtParams { metric: MetricList::from(&["auc"][..]), ..GbdtParams::default() }.check().unwrap_err();
        assert!(err.to_string().contains("auc"), "{err}");
        for p in [
            GbdtParams { learning_rate: 0.0, ..GbdtParams::default() },
            GbdtParams { feature_fraction: 1.5, ..GbdtParams::default() },
            GbdtParams { max_bin: 1, ..GbdtParams::default() },
            GbdtParams { lambda_l2: f64::NAN, ..GbdtParams::default() },
            GbdtParams {
                data_sample_strategy: DataSampleStrategy::Goss,
                bagging_freq: 1,
                bagging_fraction: 0.5,
                ..GbdtParams::default()
            },
            GbdtParams {
                data_sample_strategy: DataSampleStrategy::Goss,
                top_rate: 0.7,
                other_rate: 0.5,
                ..GbdtParams::default()
            },
        ] {
            assert!(matches!(p.check(), Err(GbdtError::InvalidParameter { .. })), "{p:?}");
        }
    }

    #[test]
    fn goss_warmup_matches_lightgbm() {
        let v = GbdtParams { learning_rate: 0.1, ..GbdtParams::default() }.check().unwrap();
        assert_eq!(v.goss_warmup_iterations(), 10);
        let v = GbdtParams { learning_rate: 0.3, ..GbdtParams::default() }.check().unwrap();
        assert_eq!(v.goss_warmup_iterations(), 3);
    }
}
