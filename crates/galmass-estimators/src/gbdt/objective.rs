//! Objectives (gradients, hessians, initial score, leaf renewal) and evaluation metrics, as LightGBM's
//! `regression_objective.hpp` and `regression_metric.hpp`.
//!
//! With residual d = score - label: L2 has g = d; L1 has g = sign(d) and, after each tree is grown, every leaf's
//! value replaced by the median of the residuals label - score of its rows (LightGBM's `RenewTreeOutput`); Huber
//! has g = d clipped to [-alpha, alpha]. Every hessian is 1. The initial score (`boost_from_average`) is the mean
//! label for L2 and Huber, the median for L1.
//!
//! ```
//! use galmass_estimators::gbdt::objective::{median, metric_value};
//! use galmass_estimators::gbdt::Metric;
//! // The median, as numpy's and LightGBM's: the central value, or the mean of the two central values.
//! assert_eq!(median(&mut [1.0, 5.0, 2.0, 4.0, 3.0]), 3.0);
//! assert_eq!(median(&mut [1.0, 2.0, 3.0, 4.0]), 2.5);
//! assert_eq!(metric_value(Metric::L1, &[1.0, 2.0], &[2.0, 0.0], 0.9), 1.5);
//! ```

use super::params::{Metric, Objective};

/// The median, as LightGBM 4.7's `PercentileFun(.., 0.5)` computes it: the central value, or the mean of the two
/// central values, which is numpy's linear-interpolation median (LightGBM's float32 `1 - alpha` is exact at 0.5), so
/// this is `galmass_core::stats::percentile_in_place`. Reorders `values`; NaN for no values (or a NaN among them).
pub fn median(values: &mut [f64]) -> f64 {
    galmass_core::stats::percentile_in_place(values, 50.0).unwrap_or(f64::NAN)
}

/// Initial score with `boost_from_average`: mean label (L2, Huber) or LightGBM's median (L1).
pub(crate) fn initial_score(objective: Objective, labels: &[f64]) -> f64 {
    match objective {
        Objective::Regression | Objective::Huber => labels.iter().sum::<f64>() / labels.len() as f64,
        Objective::RegressionL1 => median(&mut labels.to_vec()),
    }
}

/// Fills the gradients of every row; hessians are 1 for every objective here.
pub(crate) fn gradients(objective: Objective, alpha: f64, labels: &[f64], scores: &[f64], grad: &mut [f32]) {
    let rows = grad.iter_mut().zip(labels.iter().zip(scores));
    match objective {
        Objective::Regression => {
            for (g, (&y, &s)) in rows {
                *g = (s - y) as f32;
            }
        }
        Objective::RegressionL1 => {
            for (g, (&y, &s)) in rows {
                let d = s - y;
                *g = if d > 0.0 {
                    1.0
                } else if d < 0.0 {
                    -1.0
                } else {
                    0.0
                };
            }
        }
        Objective::Huber => {
            for (g, (&y, &s)) in rows {
                let d = s - y;
                *g = if d.abs() <= alpha {
                    d as f32
                } else if d > 0.0 {
                    alpha as f32
                } else {
                    -alpha as f32
                };
            }
        }
    }
}

/// Mean of a metric over rows (L1, L2, RMSE, Huber with threshold `alpha`).
pub fn metric_value(metric: Metric, labels: &[f64], predictions: &[f64], alpha: f64) -> f64 {
    let n = labels.len() as f64;
    let pairs = labels.iter().zip(predictions);
    match metric {
        Metric::L1 => pairs.map(|(y, p)| (p - y).abs()).sum::<f64>() / n,
        Metric::L2 => pairs.map(|(y, p)| (p - y) * (p - y)).sum::<f64>() / n,
        Metric::Rmse => (pairs.map(|(y, p)| (p - y) * (p - y)).sum::<f64>() / n).sqrt(),
        Metric::Huber => {
            pairs
                .map(|(y, p)| {
                    let d = (p - y).abs();
                    if d <= alpha {
                        0.5 * d * d
                    } else {
                        alpha * (d - 0.5 * alpha)
                    }
                })
                .sum::<f64>()
                / n
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_follows_lightgbm_convention() {
        assert_eq!(median(&mut [7.0]), 7.0);
        assert_eq!(median(&mut [1.0, 2.0]), 1.5);
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        // The values LightGBM 4.7 starts L1 from (scripts: lgb.train with no possible split).
        assert_eq!(median(&mut [1.0, 2.0, 6.0]), 2.0);
        assert_eq!(median(&mut (1..=10).map(f64::from).collect::<Vec<_>>()), 5.5);
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn gradients_of_each_objective() {
        let labels = [0.0, 0.0, 0.0];
        let scores = [2.0, -0.5, 0.0];
        let mut g = [0.0f32; 3];
        gradients(Objective::Regression, 0.9, &labels, &scores, &mut g);
        assert_eq!(g, [2.0, -0.5, 0.0]);
        gradients(Objective::RegressionL1, 0.9, &labels, &scores, &mut g);
        assert_eq!(g, [1.0, -1.0, 0.0]);
        gradients(Objective::Huber, 0.9, &labels, &scores, &mut g);
        assert_eq!(g, [0.9, -0.5, 0.0]);
        assert_eq!(initial_score(Objective::Regression, &[1.0, 2.0, 6.0]), 3.0);
        assert_eq!(initial_score(Objective::RegressionL1, &[1.0, 2.0, 6.0]), 2.0);
    }

    #[test]
    fn metrics() {
        let y = [0.0, 0.0];
        let p = [1.0, -3.0];
        assert_eq!(metric_value(Metric::L1, &y, &p, 0.9), 2.0);
        assert_eq!(metric_value(Metric::L2, &y, &p, 0.9), 5.0);
        assert_eq!(metric_value(Metric::Rmse, &y, &p, 0.9), 5f64.sqrt());
        assert_eq!(metric_value(Metric::Huber, &y, &p, 2.0), (0.5 + 2.0 * 2.0) / 2.0);
    }
}
