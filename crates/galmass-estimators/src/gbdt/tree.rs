//! One regression tree in LightGBM's array layout, as stored in the model file.
//!
//! Internal node i splits on `split_feature[i]` at `threshold[i]`: a value `<= threshold` goes to `left_child[i]`,
//! a larger one to `right_child[i]`. A child >= 0 is an internal node, a child < 0 is leaf `!child` (that is
//! `-child - 1`). NaN goes the `default_left[i]` way when `missing_type[i]` is `nan`, and is read as 0 when it is
//! `none` (the feature had no NaN in training). Node 0 is the root; a tree with one leaf has no nodes.
//!
//! ```
//! use galmass_estimators::gbdt::tree::Tree;
//! use galmass_estimators::gbdt::binning::MissingType;
//! let mut tree = Tree::single_leaf(0.0);
//! let right = tree.split(0, 0, 2.5, false, MissingType::NaN, 4.0, -1.0, 1.0, 10, 10);
//! assert_eq!(right, 1);
//! assert_eq!(tree.predict_row(&[1.0]), -1.0);
//! assert_eq!(tree.predict_row(&[3.0]), 1.0);
//! assert_eq!(tree.predict_row(&[f64::NAN]), 1.0); // default right
//! ```

use serde::{Deserialize, Serialize};

use super::binning::MissingType;

/// A regression tree (values already multiplied by the learning rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tree {
    /// Number of leaves.
    pub num_leaves: usize,
    /// Learning rate the leaf values were multiplied by.
    pub shrinkage: f64,
    /// Feature of each internal node.
    pub split_feature: Vec<usize>,
    /// Threshold of each internal node (values <= go left).
    pub threshold: Vec<f64>,
    /// Where NaN goes at each internal node (when `missing_type` is `nan`).
    pub default_left: Vec<bool>,
    /// NaN handling of each internal node's feature.
    pub missing_type: Vec<MissingType>,
    /// Gain of each split (children's scores minus the parent's), summed by gain importance.
    pub split_gain: Vec<f64>,
    /// Left child of each internal node (`< 0`: leaf `!child`).
    pub left_child: Vec<i32>,
    /// Right child of each internal node (`< 0`: leaf `!child`).
    pub right_child: Vec<i32>,
    /// Value each internal node had as a leaf before it was split.
    pub internal_value: Vec<f64>,
    /// Training rows through each internal node.
    pub internal_count: Vec<usize>,
    /// Value of each leaf.
    pub leaf_value: Vec<f64>,
    /// Training rows in each leaf.
    pub leaf_count: Vec<usize>,
    /// Parent node of each leaf (-1 for the root leaf of a one-leaf tree).
    pub leaf_parent: Vec<i32>,
    /// Depth of each leaf (the root is at depth 0).
    pub leaf_depth: Vec<usize>,
}

impl Tree {
    /// A tree of one leaf with this value.
    pub fn single_leaf(value: f64) -> Tree {
        Tree {
            num_leaves: 1,
            shrinkage: 1.0,
            split_feature: Vec::new(),
            threshold: Vec::new(),
            default_left: Vec::new(),
            missing_type: Vec::new(),
            split_gain: Vec::new(),
            left_child: Vec::new(),
            right_child: Vec::new(),
            internal_value: Vec::new(),
            internal_count: Vec::new(),
            leaf_value: vec![value],
            leaf_count: vec![0],
            leaf_parent: vec![-1],
            leaf_depth: vec![0],
        }
    }

    /// Splits `leaf` (LightGBM `Tree::Split`): the left child keeps the leaf's index, the right child is the new
    /// last leaf, whose index is returned.
    #[allow(clippy::too_many_arguments)]
    pub fn split(
        &mut self,
        leaf: usize,
        feature: usize,
        threshold: f64,
        default_left: bool,
        missing_type: MissingType,
        gain: f64,
        left_value: f64,
        right_value: f64,
        left_count: usize,
        right_count: usize,
    ) -> usize {
        let node = self.num_leaves - 1;
        let parent = self.leaf_parent[leaf];
        if parent >= 0 {
            let p = parent as usize;
            if self.left_child[p] == !(leaf as i32) {
                self.left_child[p] = node as i32;
            } else {
                self.right_child[p] = node as i32;
            }
        }
        let new_leaf = self.num_leaves;
        self.split_feature.push(feature);
        // LightGBM `Common::AvoidInf`: a threshold of +-inf (all values left, NaN right) is stored as +-1e300.
        self.threshold.push(threshold.clamp(-1e300, 1e300));
        self.default_left.push(default_left);
        self.missing_type.push(missing_type);
        self.split_gain.push(gain);
        self.left_child.push(!(leaf as i32));
        self.right_child.push(!(new_leaf as i32));
        self.internal_value.push(self.leaf_value[leaf]);
        self.internal_count.push(left_count + right_count);
        self.leaf_parent[leaf] = node as i32;
        self.leaf_parent.push(node as i32);
        self.leaf_value[leaf] = if left_value.is_nan() { 0.0 } else { left_value };
        self.leaf_value.push(if right_value.is_nan() { 0.0 } else { right_value });
        self.leaf_count[leaf] = left_count;
        self.leaf_count.push(right_count);
        let depth = self.leaf_depth[leaf] + 1;
        self.leaf_depth[leaf] = depth;
        self.leaf_depth.push(depth);
        self.num_leaves += 1;
        new_leaf
    }

    /// Multiplies every value by `rate` (LightGBM `Tree::Shrinkage`).
    pub fn shrink(&mut self, rate: f64) {
        for v in self.leaf_value.iter_mut().chain(self.internal_value.iter_mut()) {
            *v *= rate;
        }
        self.shrinkage *= rate;
    }

    /// Maximum leaf depth.
    pub fn depth(&self) -> usize {
        self.leaf_depth.iter().copied().max().unwrap_or(0)
    }

    /// Which way a value goes at internal node `node`: true for left.
    #[inline]
    pub fn goes_left(&self, node: usize, value: f64) -> bool {
        let mut value = value;
        if value.is_nan() {
            if self.missing_type[node] == MissingType::NaN {
                return self.default_left[node];
            }
            value = 0.0;
        }
        value <= self.threshold[node]
    }

    /// The leaf a row of raw feature values falls in. Rows must hold every feature the tree splits on.
    #[inline]
    pub fn leaf_index(&self, row: &[f64]) -> usize {
        if self.num_leaves <= 1 {
            return 0;
        }
        let mut node = 0i32;
        while node >= 0 {
            let n = node as usize;
            node = if self.goes_left(n, row[self.split_feature[n]]) { self.left_child[n] } else { self.right_child[n] };
        }
        (!node) as usize
    }

    /// The tree's output for one row.
    #[inline]
    pub fn predict_row(&self, row: &[f64]) -> f64 {
        self.leaf_value[self.leaf_index(row)]
    }

    /// Checks the array lengths and child links (for trees read from files); `Err` says what is wrong.
    pub(crate) fn validate(&self, num_features: usize) -> Result<(), String> {
        let n_nodes = self.num_leaves.checked_sub(1).ok_or("num_leaves is 0")?;
        let node_arrays = [
            ("split_feature", self.split_feature.len()),
            ("threshold", self.threshold.len()),
            ("default_left", self.default_left.len()),
            ("missing_type", self.missing_type.len()),
            ("split_gain", self.split_gain.len()),
            ("left_child", self.left_child.len()),
            ("right_child", self.right_child.len()),
            ("internal_value", self.internal_value.len()),
            ("internal_count", self.internal_count.len()),
        ];
        for (name, len) in node_arrays {
            if len != n_nodes {
                return Err(format!("{name} has {len} entries, expected {n_nodes} (num_leaves - 1)"));
            }
        }
        for (name, len) in [
            ("leaf_value", self.leaf_value.len()),
            ("leaf_count", self.leaf_count.len()),
            ("leaf_parent", self.leaf_parent.len()),
            ("leaf_depth", self.leaf_depth.len()),
        ] {
            if len != self.num_leaves {
                return Err(format!("{name} has {len} entries, expected {}", self.num_leaves));
            }
        }
        if let Some(&f) = self.split_feature.iter().find(|&&f| f >= num_features) {
            return Err(format!("split_feature {f} is not below the number of features {num_features}"));
        }
        if self.threshold.iter().any(|t| t.is_nan()) || self.leaf_value.iter().any(|v| !v.is_finite()) {
            return Err("NaN threshold or non-finite leaf value".into());
        }
        // Every node and leaf must be reached exactly once from the root, children pointing forward.
        let mut seen_nodes = vec![false; n_nodes];
        let mut seen_leaves = vec![false; self.num_leaves];
        for i in 0..n_nodes {
            for child in [self.left_child[i], self.right_child[i]] {
                if child >= 0 {
                    let c = child as usize;
                    if c <= i || c >= n_nodes || seen_nodes[c] {
                        return Err(format!("node {i} has a bad child node {child}"));
                    }
                    seen_nodes[c] = true;
                } else {
                    let leaf = (!child) as usize;
                    if leaf >= self.num_leaves || seen_leaves[leaf] {
                        return Err(format!("node {i} has a bad child leaf {child}"));
                    }
                    seen_leaves[leaf] = true;
                }
            }
        }
        if n_nodes > 0 && (seen_nodes.iter().skip(1).any(|s| !s) || seen_leaves.iter().any(|s| !s)) {
            return Err("some nodes or leaves are unreachable".into());
        }
        Ok(())
    }
}
