//! A LightGBM-class gradient boosted tree for regression (chu2024 §2.3: masses from ten summary statistics,
//! features ranked by gain).
//!
//! The algorithms follow LightGBM 4.7 (methods.md, "LightGBM 4.7"), so its settings carry over and accuracy
//! matches: quantile histogram bins ([`binning`]: `max_bin`, `min_data_in_bin`, a sample of
//! `bin_construct_sample_cnt` rows; NaN in a bin of its own, routed at every split by a learned default
//! direction); exclusive feature bundling of sparse features ([`dataset`], `enable_bundle`); leaf-wise best-first
//! growth with `num_leaves` and `max_depth`, histogram subtraction, `min_data_in_leaf`, `min_sum_hessian_in_leaf`,
//! `lambda_l1`, `lambda_l2`, `min_gain_to_split` ([`learner`], [`split`]); `learning_rate`, `feature_fraction`,
//! bagging and GOSS ([`boosting`]); L2, L1 and Huber objectives with MAE/MSE/RMSE/Huber metrics on the training and
//! validation sets every iteration, and early stopping ([`objective`], [`boosting`]); gain and split-count
//! importance, prediction and a JSON model file ([`model`]). Parameters keep LightGBM's names, aliases and
//! defaults ([`params`]). Histograms are built in parallel over columns (rayon, `num_threads`); results do not
//! depend on the thread count, and are the same for the same seed.
//!
//! Without row or feature sampling the trees are LightGBM's, split for split (tested against the package, with
//! labels rounded to float32 as LightGBM stores them). Differences, documented where they live: random draws use
//! ChaCha8 streams (so a seed does not reproduce LightGBM's bags or, above `bin_construct_sample_cnt` rows, its
//! binning sample), GOSS samples over all rows at once (LightGBM per thread block), the model keeps only the trees up
//! to the best iteration after early stopping, bundling checks conflicts on every row and keeps bundles within 256
//! bins, and histograms are dense (LightGBM also has sparse storage, which matters without bundling).
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_estimators::gbdt::{train, GbdtModel, GbdtParams, ImportanceType, LabeledData, Metric};
//! use ndarray::Array2;
//! // y depends on column 0 (strongly) and column 2 (weakly); column 1 is noise; column 2 has missing values.
//! let n = 2000;
//! let x = Array2::from_shape_fn((n, 3), |(i, j)| {
//!     let u = ((i * 7919 + j * 104_729) % 1009) as f64 / 1009.0;
//!     if j == 2 && i % 50 == 0 { f64::NAN } else { u }
//! });
//! let y: Vec<f64> = x.rows().into_iter().map(|r| 3.0 * r[0] + if r[2] > 0.5 { 0.5 } else { 0.0 }).collect();
//! let params = GbdtParams { num_leaves: 5, num_boost_round: 200, ..GbdtParams::chu2024() }.check().unwrap();
//! let out = train(&params, LabeledData::new(x.view(), &y).unwrap(), None, None).unwrap();
//! assert!(out.history.curve("training", Metric::L2).unwrap()[199] < 1e-3);
//! let gain = out.model.feature_importance(ImportanceType::Gain);
//! assert!(gain[0] > gain[2] && gain[2] > gain[1]);
//! let reloaded = GbdtModel::from_json(&out.model.to_json().unwrap(), "memory").unwrap();
//! assert_eq!(reloaded.predict(x.view()).unwrap(), out.model.predict(x.view()).unwrap());
//! ```
//!
//! # Model file (JSON, version 1)
//!
//! One object; every number is written so it reads back bit for bit (serde_json's round-trip floats), so a
//! reloaded model predicts exactly the same values.
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `format` | string | always `"galmass-gbdt"` |
//! | `version` | integer | 1 |
//! | `params` | object | the [`GbdtParams`] used, every field (LightGBM names) |
//! | `feature_names` | array of strings | one per input column, in order (default `Column_0`, ...) |
//! | `feature_infos` | array of objects | per feature: `num_bin` (0: never split), `missing_type` (`"none"`/`"nan"`), `min_value`, `max_value` |
//! | `init_score` | number | starting score (mean label for L2/Huber, median for L1, 0 without `boost_from_average`) |
//! | `best_iteration` | integer or null | with early stopping, the best iteration; `trees` then holds that many |
//! | `trees` | array of objects | one per iteration, LightGBM's array layout ([`tree::Tree`]), values already shrunk |
//!
//! Each tree: `num_leaves`, `shrinkage` (the learning rate applied), and per internal node (`num_leaves - 1`
//! entries, node 0 the root) `split_feature`, `threshold` (values `<=` go left; +-inf is written as +-1e300 as
//! LightGBM does), `default_left` (where NaN goes when `missing_type` is `"nan"`; with `"none"` NaN is read as 0),
//! `missing_type`, `split_gain`, `left_child`, `right_child` (>= 0: a node; < 0: leaf `-child - 1`),
//! `internal_value`, `internal_count`; per leaf `leaf_value`, `leaf_count`, `leaf_parent`, `leaf_depth`. A prediction
//! is `init_score` plus the leaf value reached in every tree. Unknown fields are rejected on load; the link
//! structure of every tree is checked.

pub mod binning;
pub mod boosting;
pub mod dataset;
pub mod error;
pub mod histogram;
pub mod learner;
pub mod model;
pub mod objective;
pub mod params;
pub mod split;
pub mod table;
pub mod tree;

pub use boosting::{train, EvalCurve, EvalHistory, LabeledData, Training};
pub use error::GbdtError;
pub use model::{FeatureInfo, GbdtModel, ImportanceType};
pub use params::{DataSampleStrategy, GbdtParams, GbdtValidParams, Metric, MetricList, Objective};
pub use table::Table;
