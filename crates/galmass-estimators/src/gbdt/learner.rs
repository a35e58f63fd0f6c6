//! Leaf-wise (best-first) growth of one tree on the binned data, as LightGBM's `SerialTreeLearner`.
//!
//! The root's histogram is built from all (sampled) rows; then, repeatedly, the leaf whose best split has the
//! largest gain is split, until `num_leaves` leaves or no split with positive gain is left. After a split only the
//! smaller child's histogram is built from its rows; the larger child's is the parent's minus the smaller's. Both
//! children are searched unless `max_depth` is reached or neither has `2 min_data_in_leaf` rows. The rows of each
//! leaf are a contiguous range of one index array, split in place (stably) at every split. Every buffer is
//! allocated once and reused from tree to tree.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_estimators::gbdt::{train, GbdtParams, LabeledData};
//! use ndarray::Array2;
//! // One informative feature: the first tree is a single split at the step.
//! let x = Array2::from_shape_fn((100, 1), |(i, _)| i as f64);
//! let y: Vec<f64> = (0..100).map(|i| if i < 30 { 0.0 } else { 1.0 }).collect();
//! // min_data_in_bin 1: every distinct value may get its own bin (the default 3 would merge 28, 29, 30).
//! let params = GbdtParams { num_leaves: 2, num_boost_round: 1, learning_rate: 1.0, min_data_in_bin: 1, ..GbdtParams::default() }
//!     .check().unwrap();
//! let out = train(&params, LabeledData::new(x.view(), &y).unwrap(), None, None).unwrap();
//! let tree = &out.model.trees()[0];
//! assert!(tree.threshold[0] > 29.0 && tree.threshold[0] < 30.0);
//! ```

use super::binning::MissingType;
use super::dataset::{decode_bundled, map_indexed, BinStore, BinnedData, Placement};
use super::histogram::{self, HistBin, Rows};
use super::split::{best_threshold, LeafSums, SplitInfo, SplitLimits};
use super::tree::Tree;

/// Reusable state of the tree learner.
pub(crate) struct TreeLearner<'d> {
    data: &'d BinnedData,
    limits: SplitLimits,
    num_leaves: usize,
    max_depth: i32,
    indices: Vec<u32>,
    tmp: Vec<u32>,
    leaf_begin: Vec<usize>,
    leaf_count: Vec<usize>,
    hist_pool: Vec<HistBin>,
    leaf_slot: Vec<usize>,
    ord_grad: Vec<f32>,
    ord_hess: Vec<f32>,
    leaf_sums: Vec<LeafSums>,
    best: Vec<SplitInfo>,
    scratch: Vec<HistBin>,
    go_left: Vec<u8>,
    used_features: Vec<bool>,
    /// Per leaf and feature: may still split (LightGBM's `is_splittable`, inherited from the parent).
    splittable: Vec<bool>,
    /// Columns whose histogram a leaf needs.
    needed_columns: Vec<bool>,
    /// The splits of the current tree in order: (leaf split, feature, threshold bin, default left).
    split_log: Vec<(usize, usize, u32, bool)>,
    /// Rows outside the bag, partitioned by replaying the splits.
    oob_indices: Vec<u32>,
    oob_begin: Vec<usize>,
    oob_count: Vec<usize>,
}

/// The inputs of one tree.
pub(crate) struct TreeInput<'a> {
    pub grad: &'a [f32],
    /// None: unit hessians.
    pub hess: Option<&'a [f32]>,
    /// Sorted rows to train on (None: every row).
    pub bag: Option<&'a [u32]>,
    /// Features this tree may split on.
    pub used_features: &'a [bool],
}

impl<'d> TreeLearner<'d> {
    pub fn new(data: &'d BinnedData, limits: SplitLimits, num_leaves: usize, max_depth: i32) -> Self {
        let n = data.num_rows();
        TreeLearner {
            data,
            limits,
            num_leaves,
            max_depth,
            indices: (0..n as u32).collect(),
            tmp: vec![0; n],
            leaf_begin: vec![0; num_leaves],
            leaf_count: vec![0; num_leaves],
            hist_pool: vec![HistBin::default(); num_leaves * data.hist_len],
            leaf_slot: vec![0; num_leaves],
            ord_grad: vec![0.0; n],
            ord_hess: vec![0.0; n],
            leaf_sums: vec![LeafSums::default(); num_leaves],
            best: vec![SplitInfo::default(); num_leaves],
            scratch: Vec::new(),
            go_left: Vec::new(),
            used_features: vec![false; data.num_features()],
            splittable: vec![true; num_leaves * data.num_features()],
            needed_columns: vec![false; data.num_columns()],
            split_log: Vec::new(),
            oob_indices: Vec::new(),
            oob_begin: vec![0; num_leaves],
            oob_count: vec![0; num_leaves],
        }
    }

    /// Rows of a leaf of the last tree grown.
    pub fn leaf_rows(&self, leaf: usize) -> &[u32] {
        &self.indices[self.leaf_begin[leaf]..self.leaf_begin[leaf] + self.leaf_count[leaf]]
    }

    /// Adds the last tree's leaf values to the scores of rows outside the bag, by replaying its splits on them.
    pub fn add_to_out_of_bag(&mut self, tree: &Tree, rows: &[u32], scores: &mut [f64]) {
        if rows.is_empty() {
            return;
        }
        self.oob_indices.clear();
        self.oob_indices.extend_from_slice(rows);
        self.oob_begin[0] = 0;
        self.oob_count[0] = rows.len();
        for step in 0..self.split_log.len() {
            let (leaf, feature, threshold_bin, default_left) = self.split_log[step];
            let new_leaf = step + 1;
            let (begin, count) = (self.oob_begin[leaf], self.oob_count[leaf]);
            let seg = &mut self.oob_indices[begin..begin + count];
            let n_left = partition_by_split(
                self.data,
                feature,
                threshold_bin,
                default_left,
                &mut self.go_left,
                seg,
                &mut self.tmp,
            );
            self.oob_count[leaf] = n_left;
            self.oob_begin[new_leaf] = begin + n_left;
            self.oob_count[new_leaf] = count - n_left;
        }
        for leaf in 0..tree.num_leaves {
            let value = tree.leaf_value[leaf];
            let (begin, count) = (self.oob_begin[leaf], self.oob_count[leaf]);
            for &r in &self.oob_indices[begin..begin + count] {
                scores[r as usize] += value;
            }
        }
    }

    /// Grows one tree (leaf values not yet shrunk).
    pub fn train(&mut self, input: &TreeInput<'_>, pool: Option<&rayon::ThreadPool>) -> Tree {
        let data = self.data;
        let n = data.num_rows();
        // Partition: every bag row in leaf 0.
        let n_bag = match input.bag {
            Some(bag) => {
                self.indices[..bag.len()].copy_from_slice(bag);
                bag.len()
            }
            None => {
                for (i, v) in self.indices.iter_mut().enumerate() {
                    *v = i as u32;
                }
                n
            }
        };
        self.leaf_begin.fill(0);
        self.leaf_count.fill(0);
        self.leaf_count[0] = n_bag;
        self.best.fill(SplitInfo::default());
        self.split_log.clear();
        // Features and columns in use.
        self.used_features.copy_from_slice(input.used_features);
        for (f, used) in self.used_features.iter_mut().enumerate() {
            if matches!(data.placement(f), Placement::Trivial) {
                *used = false;
            }
        }
        // Root sums.
        let (mut g, mut h) = (0.0f64, 0.0f64);
        match input.bag {
            None => {
                g = input.grad.iter().map(|&x| f64::from(x)).sum();
                h = input.hess.map_or(n as f64, |hs| hs.iter().map(|&x| f64::from(x)).sum());
            }
            Some(bag) => {
                for &r in bag {
                    g += f64::from(input.grad[r as usize]);
                    h += input.hess.map_or(1.0, |hs| f64::from(hs[r as usize]));
                }
            }
        }
        self.leaf_sums[0] = LeafSums { grad: g, hess: h, count: n_bag };
        let mut tree = Tree::single_leaf(0.0);
        tree.leaf_count[0] = n_bag;
        let nf = data.num_features();
        self.splittable[..nf].copy_from_slice(&self.used_features);
        // Root histogram in slot 0.
        self.leaf_slot[0] = 0;
        self.build_leaf_histogram(0, 0, input, pool);
        self.find_best_split(0, pool);
        let mut splits_left = self.num_leaves - 1;
        while splits_left > 0 {
            // The leaf with the best split (LightGBM's ArgMax over SplitInfo).
            let mut best_leaf = 0;
            for leaf in 1..tree.num_leaves {
                if self.best[leaf].better_than(&self.best[best_leaf]) {
                    best_leaf = leaf;
                }
            }
            let info = self.best[best_leaf];
            if !(info.is_valid() && info.gain > 0.0) {
                break;
            }
            let (left, right) = self.split(&mut tree, best_leaf, &info);
            splits_left -= 1;
            if splits_left == 0 {
                break;
            }
            if self.before_find_best_split(&tree, left, right) {
                let (smaller, larger) =
                    if self.leaf_count[left] < self.leaf_count[right] { (left, right) } else { (right, left) };
                let parent_slot = self.leaf_slot[left];
                let new_slot = tree.num_leaves - 1;
                self.leaf_slot[smaller] = new_slot;
                self.leaf_slot[larger] = parent_slot;
                self.build_leaf_histogram(smaller, new_slot, input, pool);
                let hl = data.hist_len;
                let (a, b) = self.hist_pool.split_at_mut(new_slot.max(parent_slot) * hl);
                let (larger_hist, smaller_hist) = if parent_slot < new_slot {
                    (&mut a[parent_slot * hl..(parent_slot + 1) * hl], &b[..hl])
                } else {
                    (&mut b[..hl], &a[new_slot * hl..(new_slot + 1) * hl])
                };
                histogram::subtract(data, &self.needed_columns, larger_hist, smaller_hist);
                self.find_best_split(smaller, pool);
                self.find_best_split(larger, pool);
            } else {
                let parent_slot = self.leaf_slot[left];
                self.leaf_slot[right] = tree.num_leaves - 1;
                self.leaf_slot[left] = parent_slot;
            }
        }
        tree
    }

    /// LightGBM `BeforeFindBestSplit`: false when neither child can be split further.
    fn before_find_best_split(&mut self, tree: &Tree, left: usize, right: usize) -> bool {
        if self.max_depth > 0 && tree.leaf_depth[left] >= self.max_depth as usize {
            self.best[left] = SplitInfo::default();
            self.best[right] = SplitInfo::default();
            return false;
        }
        let min2 = 2 * self.limits.min_data_in_leaf;
        if self.leaf_count[left] < min2 && self.leaf_count[right] < min2 {
            self.best[left] = SplitInfo::default();
            self.best[right] = SplitInfo::default();
            return false;
        }
        true
    }

    fn build_leaf_histogram(
        &mut self,
        leaf: usize,
        slot: usize,
        input: &TreeInput<'_>,
        pool: Option<&rayon::ThreadPool>,
    ) {
        let nf = self.data.num_features();
        self.needed_columns.fill(false);
        for (f, &ok) in self.splittable[leaf * nf..(leaf + 1) * nf].iter().enumerate() {
            if ok {
                if let Placement::Whole { column } | Placement::Bundled { column, .. } = *self.data.placement(f) {
                    self.needed_columns[column] = true;
                }
            }
        }
        let hl = self.data.hist_len;
        let begin = self.leaf_begin[leaf];
        let count = self.leaf_count[leaf];
        let hist = &mut self.hist_pool[slot * hl..(slot + 1) * hl];
        if leaf == 0 && input.bag.is_none() && count == self.data.num_rows() {
            histogram::build(
                self.data,
                &self.needed_columns,
                Rows::All { grad: input.grad, hess: input.hess },
                hist,
                pool,
            );
            return;
        }
        let rows = &self.indices[begin..begin + count];
        for (o, &r) in self.ord_grad[..count].iter_mut().zip(rows) {
            *o = input.grad[r as usize];
        }
        let hess = match input.hess {
            Some(hs) => {
                for (o, &r) in self.ord_hess[..count].iter_mut().zip(rows) {
                    *o = hs[r as usize];
                }
                Some(&self.ord_hess[..count])
            }
            None => None,
        };
        histogram::build(
            self.data,
            &self.needed_columns,
            Rows::Subset { rows, grad: &self.ord_grad[..count], hess },
            hist,
            pool,
        );
    }

    /// Best split of a leaf over the used features (LightGBM `FindBestSplitsFromHistograms`).
    fn find_best_split(&mut self, leaf: usize, pool: Option<&rayon::ThreadPool>) {
        let data = self.data;
        let sums = LeafSums { count: self.leaf_count[leaf], ..self.leaf_sums[leaf] };
        let hl = data.hist_len;
        let slot = self.leaf_slot[leaf];
        let hist = &self.hist_pool[slot * hl..(slot + 1) * hl];
        let limits = self.limits;
        let mut best = SplitInfo::default();
        let nf = data.num_features();
        let flags = &mut self.splittable[leaf * nf..(leaf + 1) * nf];
        let search = |f: usize, scratch: &mut Vec<HistBin>| -> (SplitInfo, bool) {
            let mut out = SplitInfo::default();
            let Some(mapper) = data.mapper(f) else { return (out, false) };
            let nb = mapper.num_bin();
            let ok = match *data.placement(f) {
                Placement::Trivial => false,
                Placement::Whole { column } => {
                    let off = data.columns[column].hist_offset;
                    best_threshold(f, &hist[off..off + nb], mapper.missing_type(), sums, &limits, &mut out)
                }
                Placement::Bundled { column, offset, most_freq_bin } => {
                    let off = data.columns[column].hist_offset + offset as usize;
                    let mfb = most_freq_bin as usize;
                    scratch.clear();
                    scratch.extend_from_slice(&hist[off..off + mfb]);
                    scratch.push(HistBin::default());
                    scratch.extend_from_slice(&hist[off + mfb..off + nb - 1]);
                    let (mut g, mut h) = (sums.grad, sums.hess);
                    for (b, bin) in scratch.iter().enumerate() {
                        if b != mfb {
                            g -= bin.grad;
                            h -= bin.hess;
                        }
                    }
                    scratch[mfb] = HistBin { grad: g, hess: h.max(0.0) };
                    best_threshold(f, scratch, mapper.missing_type(), sums, &limits, &mut out)
                }
            };
            (out, ok)
        };
        let n_searched = flags.iter().filter(|&&u| u).count();
        if pool.is_some() && n_searched >= 64 {
            let results = map_indexed(pool, nf, |f| {
                if flags[f] {
                    search(f, &mut Vec::new())
                } else {
                    (SplitInfo::default(), false)
                }
            });
            for (f, (r, ok)) in results.into_iter().enumerate() {
                flags[f] = ok;
                if r.better_than(&best) {
                    best = r;
                }
            }
        } else {
            let mut scratch = std::mem::take(&mut self.scratch);
            for (f, flag) in flags.iter_mut().enumerate() {
                if *flag {
                    let (r, ok) = search(f, &mut scratch);
                    *flag = ok;
                    if r.better_than(&best) {
                        best = r;
                    }
                }
            }
            self.scratch = scratch;
        }
        self.best[leaf] = best;
    }

    /// Splits a leaf: tree, partition, sums. Returns (left, right) leaf indices.
    fn split(&mut self, tree: &mut Tree, leaf: usize, info: &SplitInfo) -> (usize, usize) {
        let data = self.data;
        let f = info.feature;
        let Some(mapper) = data.mapper(f) else { return (leaf, leaf) };
        let begin = self.leaf_begin[leaf];
        let count = self.leaf_count[leaf];
        let seg = &mut self.indices[begin..begin + count];
        let n_left =
            partition_by_split(data, f, info.threshold_bin, info.default_left, &mut self.go_left, seg, &mut self.tmp);
        let right = tree.num_leaves;
        self.leaf_count[leaf] = n_left;
        self.leaf_begin[right] = begin + n_left;
        self.leaf_count[right] = count - n_left;
        self.leaf_sums[leaf] = info.left;
        self.leaf_sums[right] = info.right;
        let nf = data.num_features();
        self.splittable.copy_within(leaf * nf..(leaf + 1) * nf, right * nf);
        let threshold = mapper.bin_to_threshold(info.threshold_bin);
        tree.split(
            leaf,
            f,
            threshold,
            info.default_left,
            mapper.missing_type(),
            info.gain,
            info.left_output,
            info.right_output,
            n_left,
            count - n_left,
        );
        self.split_log.push((leaf, f, info.threshold_bin, info.default_left));
        (leaf, right)
    }
}

/// Partitions `seg` (rows) by a split of `feature` at `threshold_bin`: rows going left first, order kept.
/// `go_left` and `tmp` are scratch. Returns the number of rows going left.
fn partition_by_split(
    data: &BinnedData,
    feature: usize,
    threshold_bin: u32,
    default_left: bool,
    go_left: &mut Vec<u8>,
    seg: &mut [u32],
    tmp: &mut [u32],
) -> usize {
    let Some(mapper) = data.mapper(feature) else { return seg.len() };
    let nb = mapper.num_bin() as u32;
    let missing = mapper.missing_type();
    let decide = |b: u32| -> bool {
        if missing == MissingType::NaN && b == nb - 1 {
            default_left
        } else {
            b <= threshold_bin
        }
    };
    let placement = data.placement(feature);
    let (column, table_len) = match *placement {
        Placement::Whole { column } | Placement::Bundled { column, .. } => (column, data.columns[column].num_bins),
        Placement::Trivial => return seg.len(),
    };
    go_left.clear();
    go_left.resize(table_len.max(256), 0);
    for (v, slot) in go_left.iter_mut().enumerate().take(table_len) {
        let b = match *placement {
            Placement::Bundled { offset, most_freq_bin, .. } => decode_bundled(v as u32, offset, nb, most_freq_bin),
            _ => v as u32,
        };
        *slot = u8::from(decide(b));
    }
    let n = data.num_rows();
    match &data.store {
        BinStore::U8(store) => {
            let bins = &store[column * n..(column + 1) * n];
            let table: &[u8; 256] = go_left[..256].try_into().unwrap_or(&[0; 256]);
            partition(seg, tmp, |r| table[usize::from(bins[r as usize])])
        }
        BinStore::U16(store) => {
            let bins = &store[column * n..(column + 1) * n];
            let table = &go_left[..];
            partition(seg, tmp, |r| table[usize::from(bins[r as usize])])
        }
    }
}

/// Stable in-place partition of `seg` by `goes_left` (1 left, 0 right), branch-free; returns the left count.
fn partition(seg: &mut [u32], tmp: &mut [u32], goes_left: impl Fn(u32) -> u8) -> usize {
    let mut n_left = 0usize;
    let mut n_right = 0usize;
    let tmp = &mut tmp[..seg.len()];
    for i in 0..seg.len() {
        let r = seg[i];
        let left = usize::from(goes_left(r));
        seg[n_left] = r;
        tmp[n_right] = r;
        n_left += left;
        n_right += 1 - left;
    }
    seg[n_left..].copy_from_slice(&tmp[..n_right]);
    n_left
}
