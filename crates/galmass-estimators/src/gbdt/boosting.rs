//! The boosting loop: gradients, row sampling (bagging or GOSS), feature sampling, one tree per iteration, score
//! updates, evaluation of the metrics on the training and validation sets, and early stopping.
//!
//! Iteration t (0-based) computes the gradients at the current scores; draws the bag (every `bagging_freq`
//! iterations, each row with probability `bagging_fraction`) or, with GOSS from iteration 1/learning_rate on, keeps
//! the `top_rate` n rows with the largest |g h| and `other_rate` n of the others, whose gradients and hessians are
//! multiplied by (n - top_rate n)/(other_rate n) (LightGBM's GOSS); draws `feature_fraction` of the features; grows
//! a tree; for L1 replaces each leaf value by its rows' median residual; multiplies the values by the learning
//! rate; and adds the tree to the scores. Training stops early when no split has positive gain, or when a
//! validation metric has not improved for `early_stopping_round` iterations (LightGBM's `early_stopping`
//! callback): the model then keeps the trees up to the best iteration.
//!
//! Random streams (ChaCha8, seeded by `seed`): 1 binning sample, 2 feature fraction, 3 bagging and GOSS.
//!
//! Labels are rounded to float32 for training, as LightGBM stores them (`label_t`): 6e-8 relative, and the trees
//! stay identical to LightGBM's where near-tied thresholds would otherwise be decided by that rounding. The metrics
//! are computed on the labels as given.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_estimators::gbdt::{train, GbdtParams, LabeledData, Metric};
//! use ndarray::Array2;
//! let x = Array2::from_shape_fn((500, 2), |(i, j)| ((i * (j + 3)) % 97) as f64);
//! let y: Vec<f64> = x.rows().into_iter().map(|r| 0.1 * r[0] + (r[1] / 20.0).sin()).collect();
//! let params = GbdtParams { num_boost_round: 50, metric: (&["l1", "l2"][..]).into(), is_provide_training_metric: true,
//!     ..GbdtParams::default() }.check().unwrap();
//! let out = train(&params, LabeledData::new(x.view(), &y).unwrap(), None, None).unwrap();
//! let mse = out.history.curve("training", Metric::L2).unwrap();
//! assert_eq!(mse.len(), 50);
//! assert!(mse[49] < 0.1 * mse[0]);
//! ```

use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::dataset::{thread_pool, BinnedData};
use super::error::GbdtError;
use super::learner::{TreeInput, TreeLearner};
use super::model::GbdtModel;
use super::objective::{gradients, initial_score, median, metric_value};
use super::params::{DataSampleStrategy, GbdtValidParams, Metric, Objective};
use super::split::SplitLimits;
use super::tree::Tree;

/// Seed stream of the per-tree feature sample.
const STREAM_FEATURES: u64 = 2;
/// Seed stream of bagging and GOSS.
const STREAM_ROWS: u64 = 3;

/// A feature matrix (rows x features, NaN allowed) with one finite label per row.
#[derive(Debug, Clone, Copy)]
pub struct LabeledData<'a> {
    features: ArrayView2<'a, f64>,
    labels: &'a [f64],
}

impl<'a> LabeledData<'a> {
    /// Checks that there is at least one row and one feature, one label per row, and that labels are finite and
    /// within float32 range (training rounds them to float32, as LightGBM stores them).
    pub fn new(features: ArrayView2<'a, f64>, labels: &'a [f64]) -> Result<Self, GbdtError> {
        let (n_rows, n_features) = features.dim();
        if n_rows == 0 || n_features == 0 {
            return Err(GbdtError::BadInput {
                name: "features",
                expected: "at least one row and one feature".into(),
                got: format!("{n_rows} x {n_features}"),
            });
        }
        if labels.len() != n_rows {
            return Err(GbdtError::BadInput {
                name: "labels",
                expected: format!("{n_rows} labels (one per row)"),
                got: labels.len().to_string(),
            });
        }
        if let Some(i) = labels.iter().position(|y| !(y.is_finite() && y.abs() <= f64::from(f32::MAX))) {
            return Err(GbdtError::BadInput {
                name: "labels",
                expected: "finite labels within float32 range".into(),
                got: format!("{} at row {i}", labels[i]),
            });
        }
        Ok(LabeledData { features, labels })
    }

    /// The features.
    pub fn features(&self) -> ArrayView2<'a, f64> {
        self.features
    }

    /// The labels.
    pub fn labels(&self) -> &'a [f64] {
        self.labels
    }
}

/// One metric on one data set, every iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalCurve {
    /// `training` or `valid_0`.
    pub dataset: String,
    /// The metric.
    pub metric: Metric,
    /// Value after each iteration.
    pub values: Vec<f64>,
}

/// The metrics of every iteration (the loss curves of chu2024 Fig. 4).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EvalHistory {
    /// One curve per data set and metric.
    pub curves: Vec<EvalCurve>,
    /// Iterations run.
    pub iterations: usize,
    /// With early stopping, the best iteration (1-based, the number of trees kept).
    pub best_iteration: Option<usize>,
    /// Why training ended before `num_boost_round`, if it did.
    pub stopped: Option<String>,
}

impl EvalHistory {
    /// The values of one curve.
    pub fn curve(&self, dataset: &str, metric: Metric) -> Option<&[f64]> {
        self.curves.iter().find(|c| c.dataset == dataset && c.metric == metric).map(|c| c.values.as_slice())
    }
}

/// The result of [`train`].
#[derive(Debug, Clone)]
pub struct Training {
    /// The model (trees up to the best iteration when early stopping fired).
    pub model: GbdtModel,
    /// Metrics per iteration.
    pub history: EvalHistory,
}

/// Data set names in the history, as LightGBM's.
pub const TRAINING_NAME: &str = "training";
/// See [`TRAINING_NAME`].
pub const VALID_NAME: &str = "valid_0";

/// Trains a model. `feature_names` defaults to LightGBM's `Column_0`, `Column_1`, ...
pub fn train(
    params: &GbdtValidParams,
    train_data: LabeledData<'_>,
    valid: Option<LabeledData<'_>>,
    feature_names: Option<Vec<String>>,
) -> Result<Training, GbdtError> {
    let p = params.params();
    let (n, n_features) = train_data.features.dim();
    if let Some(v) = &valid {
        if v.features.ncols() != n_features {
            return Err(GbdtError::BadInput {
                name: "valid features",
                expected: format!("{n_features} columns (as training)"),
                got: v.features.ncols().to_string(),
            });
        }
    }
    let feature_names = match feature_names {
        Some(names) if names.len() != n_features => {
            return Err(GbdtError::BadInput {
                name: "feature_names",
                expected: format!("{n_features} names"),
                got: names.len().to_string(),
            });
        }
        Some(names) => names,
        None => (0..n_features).map(|j| format!("Column_{j}")).collect(),
    };
    if p.early_stopping_round > 0 && valid.is_none() {
        return Err(GbdtError::InvalidParameter {
            name: "early_stopping_round",
            reason: "early stopping needs a validation set".into(),
        });
    }
    let pool = thread_pool(p.num_threads)?;
    let pool = pool.as_ref();
    let data = BinnedData::from_features(train_data.features, params, pool)?;
    let labels_f64 = train_data.labels;
    // LightGBM keeps labels as float32 (`label_t`); rounding them the same way (6e-8 relative) keeps the trees
    // identical to LightGBM's, which near-ties between thresholds would otherwise break. Metrics use the labels given.
    let labels_f32: Vec<f64> = labels_f64.iter().map(|&y| f64::from(y as f32)).collect();
    let labels = labels_f32.as_slice();
    let limits = SplitLimits {
        lambda_l1: p.lambda_l1,
        lambda_l2: p.lambda_l2,
        min_data_in_leaf: p.min_data_in_leaf,
        min_sum_hessian_in_leaf: p.min_sum_hessian_in_leaf,
        min_gain_to_split: p.min_gain_to_split,
    };
    let mut learner = TreeLearner::new(&data, limits, p.num_leaves, p.max_depth);
    let init_score = if p.boost_from_average { initial_score(p.objective, labels) } else { 0.0 };
    let mut scores = vec![init_score; n];
    let mut grad = vec![0.0f32; n];
    let mut hess = vec![1.0f32; n];
    let mut valid_scores = valid.as_ref().map(|v| vec![init_score; v.features.nrows()]);
    let mut row_buf: Vec<f64> = vec![0.0; n_features];

    // Sampling state.
    let mut rng_rows = ChaCha8Rng::seed_from_u64(p.seed);
    rng_rows.set_stream(STREAM_ROWS);
    let mut rng_features = ChaCha8Rng::seed_from_u64(p.seed);
    rng_features.set_stream(STREAM_FEATURES);
    let bagging =
        p.data_sample_strategy == DataSampleStrategy::Bagging && p.bagging_freq > 0 && p.bagging_fraction < 1.0;
    let goss = p.data_sample_strategy == DataSampleStrategy::Goss;
    let goss_warmup = params.goss_warmup_iterations();
    let mut bag: Vec<u32> = Vec::new();
    let mut out_of_bag: Vec<u32> = Vec::new();
    let mut goss_buf: Vec<f32> = Vec::new();
    let mut residuals: Vec<f64> = Vec::new();
    let splittable: Vec<usize> = (0..n_features).filter(|&f| data.mapper(f).is_some()).collect();
    let mut used_features = vec![false; n_features];
    for &f in &splittable {
        used_features[f] = true;
    }
    let n_used_features = if p.feature_fraction >= 1.0 {
        splittable.len()
    } else {
        // LightGBM ColSampler::GetCnt: max(round(total * fraction), min(2, total)).
        let total = splittable.len();
        ((total as f64 * p.feature_fraction + 0.5) as usize).max(total.min(2)).min(total)
    };

    // Evaluation state.
    let metrics = params.metrics();
    let mut history = EvalHistory::default();
    if p.is_provide_training_metric {
        for &m in metrics {
            history.curves.push(EvalCurve { dataset: TRAINING_NAME.into(), metric: m, values: Vec::new() });
        }
    }
    let first_valid_curve = history.curves.len();
    if valid.is_some() {
        for &m in metrics {
            history.curves.push(EvalCurve { dataset: VALID_NAME.into(), metric: m, values: Vec::new() });
        }
    }
    let mut best_score = vec![f64::INFINITY; metrics.len()];
    let mut best_iter = vec![0usize; metrics.len()];

    let mut trees: Vec<Tree> = Vec::with_capacity(p.num_boost_round);
    let mut best_iteration = None;
    for iter in 0..p.num_boost_round {
        gradients(p.objective, p.alpha, labels, &scores, &mut grad);
        // Row sampling.
        let mut use_hess = false;
        let mut use_bag = false;
        if bagging {
            if iter % p.bagging_freq == 0 {
                bag.clear();
                out_of_bag.clear();
                for r in 0..n as u32 {
                    if rng_rows.random::<f64>() < p.bagging_fraction {
                        bag.push(r);
                    } else {
                        out_of_bag.push(r);
                    }
                }
                if bag.is_empty() {
                    bag.push(out_of_bag.remove(0));
                }
            }
            use_bag = true;
        } else if goss && iter >= goss_warmup {
            goss_sample(
                p.top_rate,
                p.other_rate,
                &mut grad,
                &mut hess,
                &mut bag,
                &mut out_of_bag,
                &mut goss_buf,
                &mut rng_rows,
            );
            use_bag = true;
            use_hess = true;
        }
        // Feature sampling.
        if n_used_features < splittable.len() {
            used_features.fill(false);
            for k in rand::seq::index::sample(&mut rng_features, splittable.len(), n_used_features) {
                used_features[splittable[k]] = true;
            }
        }
        let input = TreeInput {
            grad: &grad,
            hess: use_hess.then_some(hess.as_slice()),
            bag: use_bag.then_some(bag.as_slice()),
            used_features: &used_features,
        };
        let mut tree = learner.train(&input, pool);
        if use_hess {
            hess.fill(1.0);
        }
        if tree.num_leaves <= 1 {
            history.stopped = Some(format!("iteration {}: no split with positive gain is left", iter + 1));
            tracing::warn!(iteration = iter + 1, "stopped training: no more leaves meet the split requirements");
            break;
        }
        if p.objective == Objective::RegressionL1 {
            // LightGBM RenewTreeOutput: the median residual of each leaf's (in-bag) rows.
            for leaf in 0..tree.num_leaves {
                let rows = learner.leaf_rows(leaf);
                if rows.is_empty() {
                    continue;
                }
                residuals.clear();
                residuals.extend(rows.iter().map(|&r| labels[r as usize] - scores[r as usize]));
                tree.leaf_value[leaf] = median(&mut residuals);
            }
        }
        tree.shrink(p.learning_rate);
        // Scores: in-bag rows by leaf, the others through the binned tree.
        for leaf in 0..tree.num_leaves {
            let value = tree.leaf_value[leaf];
            for &r in learner.leaf_rows(leaf) {
                scores[r as usize] += value;
            }
        }
        if use_bag {
            learner.add_to_out_of_bag(&tree, &out_of_bag, &mut scores);
        }
        if let (Some(v), Some(vs)) = (&valid, valid_scores.as_mut()) {
            for (i, row) in v.features.rows().into_iter().enumerate() {
                let value = match row.as_slice() {
                    Some(s) => tree.predict_row(s),
                    None => {
                        for (b, x) in row_buf.iter_mut().zip(row.iter()) {
                            *b = *x;
                        }
                        tree.predict_row(&row_buf)
                    }
                };
                vs[i] += value;
            }
        }
        trees.push(tree);
        // Evaluation.
        let mut k = 0;
        if p.is_provide_training_metric {
            for &m in metrics {
                history.curves[k].values.push(metric_value(m, labels_f64, &scores, p.alpha));
                k += 1;
            }
        }
        if let (Some(v), Some(vs)) = (&valid, valid_scores.as_ref()) {
            for &m in metrics {
                history.curves[k].values.push(metric_value(m, v.labels, vs, p.alpha));
                k += 1;
            }
        }
        history.iterations = iter + 1;
        // Early stopping (LightGBM's callback: any watched validation metric without improvement).
        if p.early_stopping_round > 0 {
            let watched = if p.first_metric_only { 1 } else { metrics.len() };
            let mut stop = None;
            for i in 0..metrics.len() {
                let score = history.curves[first_valid_curve + i].values[iter];
                if score < best_score[i] {
                    best_score[i] = score;
                    best_iter[i] = iter;
                }
                if i >= watched {
                    continue;
                }
                if iter - best_iter[i] >= p.early_stopping_round {
                    stop = Some(i);
                    break;
                }
                if iter + 1 == p.num_boost_round {
                    // LightGBM's final-iteration check: the first watched metric's best iteration.
                    stop = Some(i);
                    break;
                }
            }
            if let Some(i) = stop {
                best_iteration = Some(best_iter[i] + 1);
                if iter + 1 < p.num_boost_round {
                    history.stopped = Some(format!(
                        "early stopping at iteration {}: {} {} has not improved for {} rounds",
                        iter + 1,
                        VALID_NAME,
                        metrics[i],
                        p.early_stopping_round
                    ));
                }
                break;
            }
        }
    }
    if let Some(best) = best_iteration {
        trees.truncate(best);
    }
    history.best_iteration = best_iteration;
    let model = GbdtModel::new(feature_names, init_score, trees, p.clone(), best_iteration, feature_infos(&data));
    Ok(Training { model, history })
}

fn feature_infos(data: &BinnedData) -> Vec<super::model::FeatureInfo> {
    data.mappers()
        .iter()
        .map(|m| {
            let (min, max) = m.value_range();
            super::model::FeatureInfo {
                num_bin: if m.is_trivial() { 0 } else { m.num_bin() },
                missing_type: m.missing_type(),
                min_value: if min.is_finite() { min } else { 0.0 },
                max_value: if max.is_finite() { max } else { 0.0 },
            }
        })
        .collect()
}

/// The k-th largest (1-based) of non-negative, non-NaN floats, by a radix pass on the top 12 bits of their
/// representation (monotonic for non-negative floats) and a selection inside the one bucket that holds it.
fn kth_largest_nonneg(values: impl Iterator<Item = f32> + Clone, k: usize, buf: &mut Vec<f32>) -> f32 {
    const SHIFT: u32 = 20;
    let mut counts = [0usize; 1 << (32 - SHIFT)];
    for v in values.clone() {
        counts[(v.to_bits() >> SHIFT) as usize] += 1;
    }
    let mut above = 0usize;
    let mut bucket = counts.len() - 1;
    loop {
        if above + counts[bucket] >= k || bucket == 0 {
            break;
        }
        above += counts[bucket];
        bucket -= 1;
    }
    buf.clear();
    buf.extend(values.filter(|v| (v.to_bits() >> SHIFT) as usize == bucket));
    if buf.is_empty() {
        return 0.0;
    }
    let rank = (k - above).clamp(1, buf.len());
    let (_, &mut kth, _) = buf.select_nth_unstable_by(rank - 1, |a, b| b.total_cmp(a));
    kth
}

/// LightGBM's GOSS draw over all rows (one block, whatever the thread count): rows with |g h| at or above the
/// top-k threshold are kept; of the others, `other_k` (exactly, without ties at the threshold) are drawn by sequential selection sampling and
/// up-weighted by (n - top_k)/other_k.
#[allow(clippy::too_many_arguments)]
fn goss_sample(
    top_rate: f64,
    other_rate: f64,
    grad: &mut [f32],
    hess: &mut [f32],
    bag: &mut Vec<u32>,
    out_of_bag: &mut Vec<u32>,
    buf: &mut Vec<f32>,
    rng: &mut ChaCha8Rng,
) {
    let n = grad.len();
    let top_k = ((n as f64 * top_rate) as usize).max(1);
    let other_k = (n as f64 * other_rate) as usize;
    let abs_gh = grad.iter().zip(hess.iter()).map(|(g, h)| (g * h).abs());
    let threshold = kth_largest_nonneg(abs_gh, top_k, buf);
    let multiply = if other_k > 0 { (n - top_k) as f32 / other_k as f32 } else { 1.0 };
    bag.clear();
    out_of_bag.clear();
    let mut big = 0usize;
    for i in 0..n {
        let value = (grad[i] * hess[i]).abs();
        if value >= threshold {
            bag.push(i as u32);
            big += 1;
        } else {
            // Keep with probability rest_need / rest_all (selection sampling: exactly other_k in all).
            let sampled = bag.len() - big;
            let rest_need = other_k as f64 - sampled as f64;
            let rest_all = (n - i) as f64 - (top_k as f64 - big as f64);
            if rng.random::<f64>() * rest_all < rest_need {
                bag.push(i as u32);
                grad[i] *= multiply;
                hess[i] *= multiply;
            } else {
                out_of_bag.push(i as u32);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kth_largest_matches_sorting() {
        let values: Vec<f32> =
            (0..10_000).map(|i| ((i * 7919 % 10_007) as f32 * 0.37).sin().abs() * 10f32.powi(i % 5)).collect();
        let mut sorted = values.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let mut buf = Vec::new();
        for k in [1, 2, 17, 2000, 9999, 10_000] {
            assert_eq!(kth_largest_nonneg(values.iter().copied(), k, &mut buf), sorted[k - 1], "k = {k}");
        }
    }

    #[test]
    fn goss_keeps_the_top_rows_and_exactly_other_k_others() {
        let n = 1000;
        let mut grad: Vec<f32> = (0..n).map(|i| (i * 37 % 1009) as f32 / 10.0 - 1.0).collect();
        let original = grad.clone();
        let mut hess = vec![1.0f32; n];
        let (mut bag, mut oob, mut buf) = (Vec::new(), Vec::new(), Vec::new());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        goss_sample(0.2, 0.1, &mut grad, &mut hess, &mut bag, &mut oob, &mut buf, &mut rng);
        let mut sorted: Vec<f32> = original.iter().map(|g| g.abs()).collect();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let threshold = sorted[199];
        let n_big = original.iter().filter(|g| g.abs() >= threshold).count();
        assert_eq!(n_big, 200);
        assert_eq!(bag.len(), n_big + 100);
        assert_eq!(bag.len() + oob.len(), n);
        let multiply = 800.0 / 100.0;
        for &r in &bag {
            let r = r as usize;
            if original[r].abs() >= threshold {
                assert_eq!((grad[r], hess[r]), (original[r], 1.0));
            } else {
                assert_eq!((grad[r], hess[r]), (original[r] * multiply, multiply));
            }
        }
        assert!(bag.windows(2).all(|w| w[0] < w[1]));
    }
}
