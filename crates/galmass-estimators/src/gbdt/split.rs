//! The best threshold of one feature from its histogram, as LightGBM's `FeatureHistogram::FindBestThreshold`
//! (numerical features).
//!
//! With G, H the gradient and hessian sums of a side and T the soft threshold by `lambda_l1`
//! (T(G) = sign(G) max(|G| - l1, 0)), a leaf's value is -T(G)/(H + l2) and its score T(G)^2/(H + l2); a split's
//! gain is score(left) + score(right) - score(parent) (methods.md, "LightGBM 4.7"). Thresholds are scanned from
//! the right (NaN, when the feature has a NaN bin, goes left) and then, when the feature has a NaN bin and more
//! than two bins, from the left (NaN goes right); a candidate needs `min_data_in_leaf` rows and
//! `min_sum_hessian_in_leaf` on each side and a gain above `min_gain_to_split`. The reported gain is the full gain
//! (LightGBM 4.7 records it without subtracting `min_gain_to_split`, checked against the package), which is what
//! gain importance adds up. Ties keep the first found (the right-to-left scan's rightmost threshold, then the
//! smaller feature index).
//!
//! ```
//! use galmass_estimators::gbdt::split::{leaf_output, leaf_score};
//! // G = -6, H = 3, no regularisation: value 2, score 12.
//! assert_eq!(leaf_output(-6.0, 3.0, 0.0, 0.0), 2.0);
//! assert_eq!(leaf_score(-6.0, 3.0, 0.0, 0.0), 12.0);
//! // l1 = 1 shrinks |G| by 1: value 5/3.
//! assert!((leaf_output(-6.0, 3.0, 1.0, 0.0) - 5.0 / 3.0).abs() < 1e-15);
//! ```

use super::binning::MissingType;
use super::histogram::HistBin;

/// Soft threshold of a gradient sum by `l1` (LightGBM `ThresholdL1`).
pub fn threshold_l1(g: f64, l1: f64) -> f64 {
    let reg = (g.abs() - l1).max(0.0);
    if g >= 0.0 {
        reg
    } else {
        -reg
    }
}

/// Leaf value -T(G)/(H + l2), before shrinkage.
pub fn leaf_output(g: f64, h: f64, l1: f64, l2: f64) -> f64 {
    -threshold_l1(g, l1) / (h + l2)
}

/// Leaf score T(G)^2/(H + l2); a split's gain is the children's scores minus the parent's.
pub fn leaf_score(g: f64, h: f64, l1: f64, l2: f64) -> f64 {
    let t = threshold_l1(g, l1);
    t * t / (h + l2)
}

/// Regularisation and size limits of a split.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitLimits {
    pub lambda_l1: f64,
    pub lambda_l2: f64,
    pub min_data_in_leaf: usize,
    pub min_sum_hessian_in_leaf: f64,
    pub min_gain_to_split: f64,
}

/// Gradient, hessian and row totals of a leaf.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct LeafSums {
    pub grad: f64,
    pub hess: f64,
    pub count: usize,
}

/// The best split found for a leaf.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SplitInfo {
    /// Feature index; `usize::MAX` when there is no valid split.
    pub feature: usize,
    /// Rows with feature bin <= this go left.
    pub threshold_bin: u32,
    /// Where NaN goes (features with a NaN bin).
    pub default_left: bool,
    /// Children's scores minus the parent's; -inf when there is no valid split.
    pub gain: f64,
    pub left: LeafSums,
    pub right: LeafSums,
    pub left_output: f64,
    pub right_output: f64,
}

impl Default for SplitInfo {
    fn default() -> Self {
        SplitInfo {
            feature: usize::MAX,
            threshold_bin: 0,
            default_left: false,
            gain: f64::NEG_INFINITY,
            left: LeafSums::default(),
            right: LeafSums::default(),
            left_output: 0.0,
            right_output: 0.0,
        }
    }
}

impl SplitInfo {
    /// LightGBM's `SplitInfo::operator>`: larger gain, then smaller feature index.
    pub fn better_than(&self, other: &SplitInfo) -> bool {
        let (a, b) = (nan_to_neg_inf(self.gain), nan_to_neg_inf(other.gain));
        if a != b {
            a > b
        } else {
            self.feature < other.feature
        }
    }

    pub fn is_valid(&self) -> bool {
        self.feature != usize::MAX && self.gain.is_finite()
    }
}

fn nan_to_neg_inf(x: f64) -> f64 {
    if x.is_nan() {
        f64::NEG_INFINITY
    } else {
        x
    }
}

#[inline]
fn round_count(hess: f64, cnt_factor: f64) -> usize {
    // LightGBM `Common::RoundInt(hess * cnt_factor)`: (int)(x + 0.5).
    let x = hess * cnt_factor + 0.5;
    if x <= 0.0 {
        0
    } else {
        x as usize
    }
}

#[derive(Clone, Copy)]
struct Best {
    gain: f64,
    threshold: u32,
    left: LeafSums,
    right: LeafSums,
}

/// Scans one feature's histogram (`hist.len()` = its number of bins) for the best threshold of a leaf. Writes into
/// `out` only when better than what `out` holds (callers start from `SplitInfo::default`). Returns whether any
/// threshold passed the size limits with a gain above `min_gain_to_split` (LightGBM's `is_splittable`): a feature
/// that is not splittable in a leaf is not searched again in that leaf's subtree, as in LightGBM.
pub(crate) fn best_threshold(
    feature: usize,
    hist: &[HistBin],
    missing: MissingType,
    leaf: LeafSums,
    limits: &SplitLimits,
    out: &mut SplitInfo,
) -> bool {
    let num_bin = hist.len();
    if num_bin < 2 || leaf.count == 0 {
        return false;
    }
    let (l1, l2) = (limits.lambda_l1, limits.lambda_l2);
    let score = |g: f64, h: f64| leaf_score(g, h, l1, l2);
    let parent_score = score(leaf.grad, leaf.hess);
    let min_gain_shift = parent_score + limits.min_gain_to_split;
    let cnt_factor = leaf.count as f64 / leaf.hess;
    let min_data = limits.min_data_in_leaf;
    let min_hess = limits.min_sum_hessian_in_leaf;
    let mut best: Option<Best> = None;
    let mut best_gain = f64::NEG_INFINITY;
    let mut default_left = true;
    let na_as_missing = missing == MissingType::NaN && num_bin > 2;

    // Right to left: the right side accumulates; NaN (last bin) stays on the left when it has its own bin.
    {
        let (mut rg, mut rh, mut rc) = (0.0f64, 0.0f64, 0usize);
        let t_start = num_bin - 1 - usize::from(na_as_missing);
        let mut t = t_start;
        while t >= 1 {
            let bin = hist[t];
            t -= 1;
            rg += bin.grad;
            rh += bin.hess;
            rc += round_count(bin.hess, cnt_factor);
            if rc < min_data || rh < min_hess {
                continue;
            }
            let lc = leaf.count.saturating_sub(rc);
            if lc < min_data {
                break;
            }
            let lh = leaf.hess - rh;
            if lh < min_hess {
                break;
            }
            let lg = leaf.grad - rg;
            let gain = score(lg, lh) + score(rg, rh);
            if gain <= min_gain_shift {
                continue;
            }
            if gain > best_gain {
                best_gain = gain;
                // Left is <= threshold: the bin before the first right bin (now at index t).
                best = Some(Best {
                    gain,
                    threshold: t as u32,
                    left: LeafSums { grad: lg, hess: lh, count: lc },
                    right: LeafSums { grad: rg, hess: rh, count: rc },
                });
            }
        }
    }
    // Left to right, NaN going right.
    if na_as_missing {
        let (mut lg, mut lh, mut lc) = (0.0f64, 0.0f64, 0usize);
        let mut forward_best: Option<Best> = None;
        let mut forward_gain = best_gain;
        for (t, bin) in hist.iter().enumerate().take(num_bin - 1) {
            lg += bin.grad;
            lh += bin.hess;
            lc += round_count(bin.hess, cnt_factor);
            if lc < min_data || lh < min_hess {
                continue;
            }
            let rc = leaf.count.saturating_sub(lc);
            if rc < min_data {
                break;
            }
            let rh = leaf.hess - lh;
            if rh < min_hess {
                break;
            }
            let rg = leaf.grad - lg;
            let gain = score(lg, lh) + score(rg, rh);
            if gain <= min_gain_shift {
                continue;
            }
            if gain > forward_gain {
                forward_gain = gain;
                forward_best = Some(Best {
                    gain,
                    threshold: t as u32,
                    left: LeafSums { grad: lg, hess: lh, count: lc },
                    right: LeafSums { grad: rg, hess: rh, count: rc },
                });
            }
        }
        if forward_best.is_some() {
            best = forward_best;
            default_left = false;
        }
    } else if missing == MissingType::NaN {
        // LightGBM: with only two bins (one value bin and NaN), NaN goes right.
        default_left = false;
    }
    let Some(best) = best else { return false };
    let candidate = SplitInfo {
        feature,
        threshold_bin: best.threshold,
        default_left,
        gain: best.gain - parent_score,
        left: best.left,
        right: best.right,
        left_output: leaf_output(best.left.grad, best.left.hess, l1, l2),
        right_output: leaf_output(best.right.grad, best.right.hess, l1, l2),
    };
    if candidate.better_than(out) {
        *out = candidate;
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn limits(min_data: usize) -> SplitLimits {
        SplitLimits {
            lambda_l1: 0.0,
            lambda_l2: 0.0,
            min_data_in_leaf: min_data,
            min_sum_hessian_in_leaf: 1e-3,
            min_gain_to_split: 0.0,
        }
    }

    fn hist(pairs: &[(f64, f64)]) -> Vec<HistBin> {
        pairs.iter().map(|&(grad, hess)| HistBin { grad, hess }).collect()
    }

    #[test]
    fn step_is_found_with_closed_form_gain() {
        // Bins 0..3 with 2 rows each; gradients -1 on bins 0, 1 and +1 on bins 2, 3.
        let h = hist(&[(-2.0, 2.0), (-2.0, 2.0), (2.0, 2.0), (2.0, 2.0)]);
        let leaf = LeafSums { grad: 0.0, hess: 8.0, count: 8 };
        let mut out = SplitInfo::default();
        best_threshold(3, &h, MissingType::None, leaf, &limits(1), &mut out);
        assert_eq!((out.feature, out.threshold_bin), (3, 1));
        assert_eq!(out.gain, 16.0 / 4.0 + 16.0 / 4.0);
        assert_eq!((out.left_output, out.right_output), (1.0, -1.0));
        assert_eq!((out.left.count, out.right.count), (4, 4));
    }

    #[test]
    fn min_data_and_min_gain_block_splits() {
        let h = hist(&[(-2.0, 2.0), (-2.0, 2.0), (2.0, 2.0), (2.0, 2.0)]);
        let leaf = LeafSums { grad: 0.0, hess: 8.0, count: 8 };
        let mut out = SplitInfo::default();
        best_threshold(0, &h, MissingType::None, leaf, &limits(5), &mut out);
        assert!(!out.is_valid());
        let mut out = SplitInfo::default();
        best_threshold(0, &h, MissingType::None, leaf, &SplitLimits { min_gain_to_split: 9.0, ..limits(1) }, &mut out);
        assert!(!out.is_valid());
        let mut out = SplitInfo::default();
        best_threshold(0, &h, MissingType::None, leaf, &SplitLimits { min_gain_to_split: 7.0, ..limits(1) }, &mut out);
        // Accepted (8 > 7), and reported as the full gain, as LightGBM does.
        assert_eq!(out.gain, 8.0);
    }

    #[test]
    fn nan_bin_goes_with_the_side_it_resembles() {
        // Bins: 0, 1, 2 values; 3 = NaN. NaN rows have gradient +1 like bin 2.
        let h = hist(&[(-3.0, 3.0), (-3.0, 3.0), (3.0, 3.0), (3.0, 3.0)]);
        let leaf = LeafSums { grad: 0.0, hess: 12.0, count: 12 };
        let mut out = SplitInfo::default();
        best_threshold(0, &h, MissingType::NaN, leaf, &limits(1), &mut out);
        assert_eq!((out.threshold_bin, out.default_left), (1, false));
        // NaN rows like bin 0: NaN goes left.
        let h = hist(&[(-3.0, 3.0), (3.0, 3.0), (3.0, 3.0), (-3.0, 3.0)]);
        let mut out = SplitInfo::default();
        best_threshold(0, &h, MissingType::NaN, leaf, &limits(1), &mut out);
        assert_eq!((out.threshold_bin, out.default_left), (0, true));
    }
}
