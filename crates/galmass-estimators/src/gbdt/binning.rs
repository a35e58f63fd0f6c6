//! Quantile binning of one feature, as LightGBM's `BinMapper::FindBin` (src/io/bin.cpp, 4.x).
//!
//! From a sample of the feature's values: zero gets a bin of its own (|x| <= 1e-35), negative and positive values
//! share the other `max_bin - 1` bins in proportion to their counts, each side binned greedily so bins hold about
//! equal counts (a value that alone fills a bin gets one; no bin holds fewer than `min_data_in_bin` sample rows
//! when it can be avoided). Bin upper bounds sit just above the midpoint between neighbouring distinct values. A
//! feature with NaN in the sample gets one more bin, the last, for NaN ([`MissingType::NaN`]); without NaN in the
//! sample, NaN is read as 0 ([`MissingType::None`]), in training and prediction alike. A value goes to the first
//! bin whose upper bound is >= the value.
//!
//! ```
//! use galmass_estimators::gbdt::binning::{BinMapper, MissingType};
//! let values = [1.0, 2.0, 2.0, 3.0, f64::NAN, 5.0];
//! let mapper = BinMapper::from_values(&values, 255, 1, 0);
//! assert_eq!(mapper.missing_type(), MissingType::NaN);
//! // Bins: zero, then 1, 2, 3, 5, then NaN.
//! assert_eq!(mapper.num_bin(), 6);
//! assert_eq!(mapper.value_to_bin(2.0), 2);
//! assert_eq!(mapper.value_to_bin(f64::NAN), 5);
//! assert!(mapper.upper_bounds()[1] > 1.5 && mapper.upper_bounds()[1] < 1.5 + 1e-12);
//! ```

use serde::{Deserialize, Serialize};

/// LightGBM's `kZeroThreshold` (a float, 1e-35f): values with |x| <= this are zero.
pub const ZERO_THRESHOLD: f64 = 1e-35_f32 as f64;

/// How a feature's missing values (NaN) are binned and routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingType {
    /// No NaN was seen in training: NaN is read as 0.
    None,
    /// NaN has its own bin; each split sends it left or right (the learned default direction).
    #[serde(rename = "nan")]
    NaN,
}

/// The bins of one feature.
#[derive(Debug, Clone, PartialEq)]
pub struct BinMapper {
    upper_bounds: Vec<f64>,
    missing_type: MissingType,
    is_trivial: bool,
    default_bin: u32,
    most_freq_bin: u32,
    sparse_rate: f64,
    min_value: f64,
    max_value: f64,
}

/// `nextafter(a, +inf)` (LightGBM `Common::GetDoubleUpperBound`).
fn next_up(a: f64) -> f64 {
    if a.is_nan() || a == f64::INFINITY {
        return a;
    }
    if a == 0.0 {
        return f64::from_bits(1);
    }
    let bits = a.to_bits();
    if a > 0.0 {
        f64::from_bits(bits + 1)
    } else {
        f64::from_bits(bits - 1)
    }
}

/// LightGBM `Common::CheckDoubleEqualOrdered`: `b <= nextafter(a, +inf)` for `a <= b`.
fn equal_ordered(a: f64, b: f64) -> bool {
    b <= next_up(a)
}

/// LightGBM `GreedyFindBin`.
fn greedy_find_bin(
    distinct: &[f64],
    counts: &[usize],
    mut max_bin: usize,
    total_cnt: usize,
    min_data_in_bin: usize,
) -> Vec<f64> {
    let n = distinct.len();
    let mut bounds = Vec::new();
    if n == 0 {
        bounds.push(f64::INFINITY);
        return bounds;
    }
    if n <= max_bin {
        let mut cur = 0usize;
        for i in 0..n - 1 {
            cur += counts[i];
            if cur >= min_data_in_bin {
                let val = next_up((distinct[i] + distinct[i + 1]) / 2.0);
                if bounds.last().is_none_or(|&last| !equal_ordered(last, val)) {
                    bounds.push(val);
                    cur = 0;
                }
            }
        }
        bounds.push(f64::INFINITY);
        return bounds;
    }
    if let Some(cap) = total_cnt.checked_div(min_data_in_bin) {
        max_bin = max_bin.min(cap).max(1);
    }
    let mut mean_bin_size = total_cnt as f64 / max_bin as f64;
    let mut rest_bin_cnt = max_bin as i64;
    let mut rest_sample_cnt = total_cnt as i64;
    let is_big: Vec<bool> = counts.iter().map(|&c| c as f64 >= mean_bin_size).collect();
    for (i, &big) in is_big.iter().enumerate() {
        if big {
            rest_bin_cnt -= 1;
            rest_sample_cnt -= counts[i] as i64;
        }
    }
    mean_bin_size = rest_sample_cnt as f64 / rest_bin_cnt as f64;
    let mut upper = vec![f64::INFINITY; max_bin];
    let mut lower = vec![f64::INFINITY; max_bin];
    let mut bin_cnt = 0usize;
    lower[0] = distinct[0];
    let mut cur = 0usize;
    for i in 0..n - 1 {
        if !is_big[i] {
            rest_sample_cnt -= counts[i] as i64;
        }
        cur += counts[i];
        // `mean_bin_size * 0.5f` is computed in double in LightGBM too (0.5f is exact).
        if is_big[i] || cur as f64 >= mean_bin_size || (is_big[i + 1] && cur as f64 >= (mean_bin_size * 0.5).max(1.0)) {
            upper[bin_cnt] = distinct[i];
            bin_cnt += 1;
            lower[bin_cnt] = distinct[i + 1];
            if bin_cnt + 1 >= max_bin {
                break;
            }
            cur = 0;
            if !is_big[i] {
                rest_bin_cnt -= 1;
                mean_bin_size = rest_sample_cnt as f64 / rest_bin_cnt as f64;
            }
        }
    }
    bin_cnt += 1;
    for i in 0..bin_cnt - 1 {
        let val = next_up((upper[i] + lower[i + 1]) / 2.0);
        if bounds.last().is_none_or(|&last| !equal_ordered(last, val)) {
            bounds.push(val);
        }
    }
    bounds.push(f64::INFINITY);
    bounds
}

/// LightGBM `FindBinWithZeroAsOneBin` (no forced bounds).
fn find_bin_zero_as_one_bin(
    distinct: &[f64],
    counts: &[usize],
    max_bin: usize,
    total_sample_cnt: usize,
    min_data_in_bin: usize,
) -> Vec<f64> {
    let (mut left_cnt_data, mut cnt_zero, mut right_cnt_data) = (0usize, 0usize, 0usize);
    for (&v, &c) in distinct.iter().zip(counts) {
        if v <= -ZERO_THRESHOLD {
            left_cnt_data += c;
        } else if v > ZERO_THRESHOLD {
            right_cnt_data += c;
        } else {
            cnt_zero += c;
        }
    }
    let n = distinct.len();
    let left_cnt = distinct.iter().position(|&v| v > -ZERO_THRESHOLD).unwrap_or(n);
    let mut bounds = Vec::new();
    if left_cnt > 0 && max_bin > 1 {
        let denom = (total_sample_cnt - cnt_zero) as f64;
        let left_max_bin = ((left_cnt_data as f64 / denom * (max_bin - 1) as f64) as usize).max(1);
        bounds =
            greedy_find_bin(&distinct[..left_cnt], &counts[..left_cnt], left_max_bin, left_cnt_data, min_data_in_bin);
        if let Some(last) = bounds.last_mut() {
            *last = -ZERO_THRESHOLD;
        }
    }
    let right_start = (left_cnt..n).find(|&i| distinct[i] > ZERO_THRESHOLD);
    let right_max_bin = max_bin as i64 - 1 - bounds.len() as i64;
    match right_start {
        Some(start) if right_max_bin > 0 => {
            let right = greedy_find_bin(
                &distinct[start..],
                &counts[start..],
                right_max_bin as usize,
                right_cnt_data,
                min_data_in_bin,
            );
            bounds.push(ZERO_THRESHOLD);
            bounds.extend(right);
        }
        _ => bounds.push(f64::INFINITY),
    }
    bounds
}

impl BinMapper {
    /// Bins a feature from all its values (the sample is the whole column): a convenience over
    /// [`BinMapper::from_sample`]. `min_split_data` marks the feature trivial when no threshold leaves that many
    /// sample rows on each side (LightGBM's `feature_pre_filter`); 0 disables the check.
    pub fn from_values(values: &[f64], max_bin: usize, min_data_in_bin: usize, min_split_data: usize) -> BinMapper {
        let nonzero: Vec<f64> = values.iter().copied().filter(|v| v.is_nan() || v.abs() > ZERO_THRESHOLD).collect();
        BinMapper::from_sample(nonzero, values.len(), max_bin, min_data_in_bin, min_split_data)
    }

    /// LightGBM `FindBin` on the non-zero (and NaN) values of a sample of `total_sample_cnt` rows; the rows not
    /// listed are zeros.
    pub fn from_sample(
        mut values: Vec<f64>,
        total_sample_cnt: usize,
        max_bin: usize,
        min_data_in_bin: usize,
        min_split_data: usize,
    ) -> BinMapper {
        let num_sample_values = values.len();
        values.retain(|v| !v.is_nan());
        let na_cnt = num_sample_values - values.len();
        let missing_type = if na_cnt == 0 { MissingType::None } else { MissingType::NaN };
        let zero_cnt = total_sample_cnt.saturating_sub(num_sample_values);
        values.sort_unstable_by(f64::total_cmp);
        let mut distinct: Vec<f64> = Vec::new();
        let mut counts: Vec<usize> = Vec::new();
        if values.is_empty() || (values[0] > 0.0 && zero_cnt > 0) {
            distinct.push(0.0);
            counts.push(zero_cnt);
        }
        if let Some(&first) = values.first() {
            distinct.push(first);
            counts.push(1);
        }
        for i in 1..values.len() {
            if !equal_ordered(values[i - 1], values[i]) {
                if values[i - 1] < 0.0 && values[i] > 0.0 {
                    distinct.push(0.0);
                    counts.push(zero_cnt);
                }
                distinct.push(values[i]);
                counts.push(1);
            } else if let (Some(d), Some(c)) = (distinct.last_mut(), counts.last_mut()) {
                // LightGBM keeps the larger of two values closer than one ulp.
                *d = values[i];
                *c += 1;
            }
        }
        if values.last().is_some_and(|&v| v < 0.0) && zero_cnt > 0 {
            distinct.push(0.0);
            counts.push(zero_cnt);
        }
        let min_value = distinct.first().copied().unwrap_or(0.0);
        let max_value = distinct.last().copied().unwrap_or(0.0);
        let mut upper_bounds = match missing_type {
            MissingType::None => {
                find_bin_zero_as_one_bin(&distinct, &counts, max_bin, total_sample_cnt, min_data_in_bin)
            }
            MissingType::NaN => {
                let mut b = find_bin_zero_as_one_bin(
                    &distinct,
                    &counts,
                    max_bin - 1,
                    total_sample_cnt - na_cnt,
                    min_data_in_bin,
                );
                b.push(f64::NAN);
                b
            }
        };
        if upper_bounds.is_empty() {
            upper_bounds.push(f64::INFINITY);
        }
        let num_bin = upper_bounds.len();
        let mut cnt_in_bin = vec![0usize; num_bin];
        let mut i_bin = 0usize;
        for (&v, &c) in distinct.iter().zip(&counts) {
            // LightGBM 4.x advances at most one bin per distinct value; bounds are built so that suffices.
            while i_bin + 1 < num_bin && v > upper_bounds[i_bin] {
                i_bin += 1;
            }
            cnt_in_bin[i_bin] += c;
        }
        if missing_type == MissingType::NaN {
            cnt_in_bin[num_bin - 1] = na_cnt;
        }
        let mut is_trivial = num_bin <= 1;
        if !is_trivial && min_split_data > 0 {
            // LightGBM `NeedFilter`: trivial when no threshold leaves min_split_data sample rows on both sides.
            let mut sum_left = 0usize;
            let mut splittable = false;
            for &c in &cnt_in_bin[..num_bin - 1] {
                sum_left += c;
                if sum_left >= min_split_data && total_sample_cnt.saturating_sub(sum_left) >= min_split_data {
                    splittable = true;
                    break;
                }
            }
            is_trivial = !splittable;
        }
        let mut mapper = BinMapper {
            upper_bounds,
            missing_type,
            is_trivial,
            default_bin: 0,
            most_freq_bin: 0,
            sparse_rate: 1.0,
            min_value,
            max_value,
        };
        if !is_trivial {
            mapper.default_bin = mapper.value_to_bin(0.0);
            let mut most = 0usize;
            for (b, &c) in cnt_in_bin.iter().enumerate() {
                if c > cnt_in_bin[most] {
                    most = b;
                }
            }
            mapper.most_freq_bin = most as u32;
            mapper.sparse_rate =
                if total_sample_cnt > 0 { cnt_in_bin[most] as f64 / total_sample_cnt as f64 } else { 1.0 };
        }
        mapper
    }

    /// Number of bins (including the NaN bin).
    pub fn num_bin(&self) -> usize {
        self.upper_bounds.len()
    }

    /// Upper bound of each bin (the NaN bin's is NaN, the last value bin's +inf).
    pub fn upper_bounds(&self) -> &[f64] {
        &self.upper_bounds
    }

    /// How NaN is handled.
    pub fn missing_type(&self) -> MissingType {
        self.missing_type
    }

    /// True when the feature cannot be split (one bin, or no threshold leaves `min_data_in_leaf` rows per side).
    pub fn is_trivial(&self) -> bool {
        self.is_trivial
    }

    /// Bin of the value 0.
    pub fn default_bin(&self) -> u32 {
        self.default_bin
    }

    /// Bin holding the most sample rows.
    pub fn most_freq_bin(&self) -> u32 {
        self.most_freq_bin
    }

    /// Fraction of sample rows in the most frequent bin.
    pub fn sparse_rate(&self) -> f64 {
        self.sparse_rate
    }

    /// Smallest and largest distinct sample value (0 included when zeros were present).
    pub fn value_range(&self) -> (f64, f64) {
        (self.min_value, self.max_value)
    }

    /// The bin of a value (LightGBM `ValueToBin`): NaN goes to the NaN bin, or is read as 0 without one.
    pub fn value_to_bin(&self, value: f64) -> u32 {
        let mut value = value;
        if value.is_nan() {
            if self.missing_type == MissingType::NaN {
                return (self.num_bin() - 1) as u32;
            }
            value = 0.0;
        }
        let mut r = self.num_bin() - 1;
        if self.missing_type == MissingType::NaN {
            r -= 1;
        }
        // First bin whose upper bound is >= value, among 0..=r (the last value bin's bound is +inf).
        let bounds = &self.upper_bounds[..r];
        bounds.partition_point(|&b| b < value) as u32
    }

    /// The real threshold of a split after bin `bin` (values <= it go left).
    pub fn bin_to_threshold(&self, bin: u32) -> f64 {
        self.upper_bounds[bin as usize]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn few_distinct_values_get_one_bin_each_plus_zero() {
        let m = BinMapper::from_values(&[1.0, 2.0, 3.0, 1.0, 2.0, 3.0], 255, 1, 0);
        // zero bin (<= 1e-35), then 1, 2, 3.
        assert_eq!(m.num_bin(), 4);
        assert_eq!(m.missing_type(), MissingType::None);
        assert_eq!(m.upper_bounds()[0], ZERO_THRESHOLD);
        assert_eq!(
            (m.value_to_bin(1.0), m.value_to_bin(2.0), m.value_to_bin(3.0), m.value_to_bin(100.0)),
            (1, 2, 3, 3)
        );
        assert_eq!(m.value_to_bin(f64::NAN), m.value_to_bin(0.0));
        assert_eq!(m.value_to_bin(-5.0), 0);
    }

    #[test]
    fn negative_values_close_with_the_zero_bound() {
        let m = BinMapper::from_values(&[-3.0, -2.0, -1.0, -3.0, -2.0, -1.0], 255, 1, 0);
        assert_eq!(m.upper_bounds().len(), 4);
        assert_eq!(m.upper_bounds()[2], -ZERO_THRESHOLD);
        assert_eq!(m.upper_bounds()[3], f64::INFINITY);
        assert_eq!((m.value_to_bin(-3.0), m.value_to_bin(-1.0), m.value_to_bin(0.0)), (0, 2, 3));
    }

    #[test]
    fn many_values_give_equal_count_bins_within_max_bin() {
        let values: Vec<f64> = (0..10_000).map(|i| 1.0 + (i as f64 * 0.7548776662466927).fract()).collect();
        let m = BinMapper::from_values(&values, 16, 3, 0);
        assert!(m.num_bin() <= 16);
        let mut counts = vec![0usize; m.num_bin()];
        for &v in &values {
            counts[m.value_to_bin(v) as usize] += 1;
        }
        // Bin 0 is the (empty) zero bin; the others hold about 10000/15 rows each.
        assert_eq!(counts[0], 0);
        for &c in &counts[1..] {
            assert!((c as f64 - 10_000.0 / 15.0).abs() < 30.0, "{counts:?}");
        }
    }

    #[test]
    fn constant_and_unsplittable_features_are_trivial() {
        assert!(BinMapper::from_values(&[0.0; 50], 255, 3, 0).is_trivial());
        let mut v = vec![1.0; 100];
        v[0] = 2.0;
        assert!(!BinMapper::from_values(&v, 255, 1, 0).is_trivial());
        assert!(BinMapper::from_values(&v, 255, 1, 20).is_trivial());
    }

    #[test]
    fn next_up_is_one_ulp() {
        assert_eq!(next_up(1.0), 1.0 + f64::EPSILON);
        assert!(next_up(-1.0) > -1.0 && next_up(-1.0) - (-1.0) < 2.0 * f64::EPSILON);
        assert!(next_up(0.0) > 0.0);
    }
}
