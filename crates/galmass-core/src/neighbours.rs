//! Nearest-neighbour search in 3-D (a static k-d tree), SPH smoothing lengths and SPH densities.
//!
//! - [`KdTree`]: built once over an `(N, 3)` array of positions (median splits along the widest axis of each node,
//!   leaf buckets of at most 16 points, the points copied in tree order so a leaf is contiguous in memory). Build
//!   O(N log N); [`KdTree::k_nearest`] and [`KdTree::within_radius`] answer single queries exactly (the distances
//!   are bit-identical to a brute-force `sqrt(dx^2 + dy^2 + dz^2)`).
//! - [`knn_distances`]: for every point, the distance to its k-th nearest neighbour, **not counting the point
//!   itself**. Duplicated points are neighbours at distance 0. This is column `k` of scipy's
//!   `cKDTree(x).query(x, k + 1)[0]`, which counts the point itself as its own nearest neighbour (column 0).
//! - [`smoothing_lengths_kpc`]: SPH smoothing lengths in the galaxy-file convention
//!   ([`ScalarField::SmoothingLengthKpc`](crate::particles::ScalarField::SmoothingLengthKpc)): `h_i` is the radius
//!   of compact support of the kernel, equal to the distance to the `n_neighbours`-th nearest other particle, so the
//!   sphere of radius `h_i` encloses `n_neighbours` neighbours besides particle `i` (chu2024's "sphere enclosing 32
//!   neighbour stars" is `n_neighbours = 32`).
//! - [`sph_density_msun_kpc3`]: `rho_i = sum_j m_j W(|r_i - r_j|, h_i)`, `j = i` included, with the cubic spline
//!   kernel [`cubic_spline_kernel`] of Monaghan & Lattanzio (1985) normalised to compact support `h`.
//!
//! The batch functions run in parallel over points on rayon's current pool; every result is computed independently
//! of the others in a fixed order, so the output is the same bytes for any number of threads.
//!
//! # Bias of the SPH density on random points
//!
//! For particles that sample a smooth density at random (a Poisson sample, as the synthetic suites draw them), the
//! self term `m_i W(0, h_i) = 32/3 m_i / (4/3 pi h_i^3)` weighs as much as 10.7 neighbours, and the estimate is biased
//! high: with `h_i` from `k` neighbours, `E[rho_i] = rho (1 + 32 / (3 (k - 1)))`, +17% for `k = 64` and +34% for
//! `k = 32` (Dehnen & Aly 2012 discuss this self-contribution). Simulation particles are arranged more
//! regularly than a Poisson sample and show much less of it. [`POISSON_SELF_BIAS_NUMERATOR`] states the constant.
//!
//! ```
//! use galmass_core::neighbours::{knn_distances, sph_density_msun_kpc3, smoothing_lengths_kpc, KdTree};
//! use ndarray::{array, Array1};
//! let pos = array![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 4.0], [1.0, 0.0, 0.0]];
//! // Points 1 and 4 coincide: each is the other's nearest neighbour, at distance 0; the point itself never counts.
//! assert_eq!(knn_distances(pos.view(), 1).unwrap().to_vec(), vec![1.0, 0.0, 2.0, 4.0, 0.0]);
//! // Point 0 has two neighbours at distance 1, so its second-nearest is at 1 too.
//! assert_eq!(knn_distances(pos.view(), 2).unwrap()[0], 1.0);
//! let tree = KdTree::new(pos.view()).unwrap();
//! assert_eq!(tree.k_nearest([0.0, 0.1, 0.0], 1).unwrap()[0].0, 0);
//! assert_eq!(tree.within_radius([1.0, 0.0, 0.0], 0.5).unwrap(), vec![(1, 0.0), (4, 0.0)]);
//! let h_kpc = smoothing_lengths_kpc(pos.view(), 2).unwrap();
//! let rho = sph_density_msun_kpc3(pos.view(), Array1::from_elem(5, 1e4).view(), h_kpc.view()).unwrap();
//! assert!(rho.iter().all(|&r| r > 0.0));
//! ```

use ndarray::{Array1, ArrayView1, ArrayView2};
use rayon::prelude::*;

use crate::error::CoreError;
use crate::geometry::Vec3;

/// Most points in a leaf bucket: every leaf holds `floor` or `ceil` of `N / 2^depth` points, at most this many.
const LEAF_SIZE: usize = 16;

/// Largest coordinate magnitude accepted, so that every squared distance is finite.
const MAX_COORDINATE: f64 = 1e150;

/// Points per parallel work item of the batch functions (consecutive in tree order, so spatially close).
const CHUNK: usize = 256;

/// The self term of the SPH density, `W(0, h) * 4/3 pi h^3 = 32/3`, in units of one neighbour: on a Poisson sample,
/// [`sph_density_msun_kpc3`] with smoothing lengths from `k` neighbours has expectation
/// `rho * (1 + POISSON_SELF_BIAS_NUMERATOR / (k - 1))` (see the module docs).
pub const POISSON_SELF_BIAS_NUMERATOR: f64 = 32.0 / 3.0;

/// A static 3-D k-d tree over a set of points, for exact k-nearest-neighbour and fixed-radius queries.
///
/// The tree is balanced: each internal node splits its points at the median along the axis of their widest extent,
/// so all leaves sit at the same depth and hold at most 16 points. Indices in query results are rows of the
/// positions the tree was built from.
#[derive(Debug, Clone)]
pub struct KdTree {
    /// Coordinates in tree order (leaf by leaf, left to right).
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    /// Row in the input of each point in tree order.
    row: Vec<usize>,
    /// Split axis of each internal node, in heap order (the children of node `i` are `2i + 1` and `2i + 2`).
    split_axis: Vec<u8>,
    /// Split coordinate of each internal node: the left child holds coordinates `<=` it, the right child `>=` it.
    split_value: Vec<f64>,
    /// Depth of every leaf (0 when the root is a leaf).
    leaf_depth: u32,
}

/// A point and its input row, while the tree is being built.
#[derive(Clone, Copy)]
struct Entry {
    p: Vec3,
    row: usize,
}

impl KdTree {
    /// Builds the tree over `positions` (N, 3). Fails on another shape or a non-finite coordinate (naming the row), or
    /// one above 1e150 in magnitude.
    /// An empty set of points is allowed (every query then finds nothing).
    pub fn new(positions: ArrayView2<f64>) -> Result<Self, CoreError> {
        check_positions("positions", positions)?;
        let n = positions.nrows();
        let mut entries: Vec<Entry> =
            positions.rows().into_iter().enumerate().map(|(row, p)| Entry { p: [p[0], p[1], p[2]], row }).collect();
        let mut leaf_depth = 0u32;
        while n.div_ceil(1usize << leaf_depth) > LEAF_SIZE {
            leaf_depth += 1;
        }
        let n_internal = (1usize << leaf_depth) - 1;
        let mut split_axis = Vec::with_capacity(n_internal);
        let mut split_value = Vec::with_capacity(n_internal);
        // Level by level: the nodes of one level own disjoint, contiguous ranges and are split in parallel. Heap
        // order within a level is left to right, so the splits are appended in order.
        for level in 0..leaf_depth {
            let mut pieces = Vec::with_capacity(1 << level);
            node_slices(&mut entries, level, &mut pieces);
            let splits: Vec<(u8, f64)> = pieces.into_par_iter().map(split_at_median).collect();
            for (axis, value) in splits {
                split_axis.push(axis);
                split_value.push(value);
            }
        }
        Ok(Self {
            x: entries.iter().map(|e| e.p[0]).collect(),
            y: entries.iter().map(|e| e.p[1]).collect(),
            z: entries.iter().map(|e| e.p[2]).collect(),
            row: entries.iter().map(|e| e.row).collect(),
            split_axis,
            split_value,
            leaf_depth,
        })
    }

    /// The number of points.
    pub fn len(&self) -> usize {
        self.row.len()
    }

    /// Whether the tree holds no point.
    pub fn is_empty(&self) -> bool {
        self.row.is_empty()
    }

    /// The `k` points nearest to `query` as `(row, distance)`, sorted by distance and then by row. A point of the
    /// tree equal to `query` is included (at distance 0). Fails for `k = 0`, `k` above [`len`](Self::len) or a
    /// non-finite query.
    pub fn k_nearest(&self, query: Vec3, k: usize) -> Result<Vec<(usize, f64)>, CoreError> {
        check_query(query)?;
        if k == 0 || k > self.len() {
            return Err(CoreError::invalid("k", format!("must be in 1..={}, got {k}", self.len())));
        }
        let mut best = KBest::new(k);
        self.knn(query, &mut best);
        let mut found: Vec<(usize, f64)> = best.items.iter().map(|&(d2, pos)| (self.row[pos], d2.sqrt())).collect();
        found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        Ok(found)
    }

    /// Every point within `radius` of `query` (distance `<= radius`) as `(row, distance)`, sorted by distance and
    /// then by row. Fails for a negative or NaN radius or a non-finite query.
    pub fn within_radius(&self, query: Vec3, radius: f64) -> Result<Vec<(usize, f64)>, CoreError> {
        check_query(query)?;
        if radius.is_nan() || radius < 0.0 {
            return Err(CoreError::invalid("radius", format!("must be non-negative, got {radius}")));
        }
        let mut found = Vec::new();
        self.visit_within(query, radius, |pos, d2| {
            let distance = d2.sqrt();
            if distance <= radius {
                found.push((self.row[pos], distance));
            }
        });
        found.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        Ok(found)
    }

    fn point(&self, pos: usize) -> Vec3 {
        [self.x[pos], self.y[pos], self.z[pos]]
    }

    /// Fills `best` with the nearest points to `query` (tree positions, squared distances).
    fn knn(&self, query: Vec3, best: &mut KBest) {
        let mut offset = [0.0; 3];
        self.knn_node(0, 0, 0, self.len(), &query, &mut offset, best);
    }

    /// Arya & Mount's incremental search. `offset[d]` is the signed distance from the query to the current cell
    /// along axis d (0 inside it); the squared norm of `offset` is a lower bound on the squared distance to every
    /// point of the cell, also in floating point: each offset is a rounded difference to a split coordinate that
    /// lies between the query and the point, and the sum is taken in the same order as a point's, so pruning on
    /// `bound >= worst` never drops a point that would enter the result.
    #[allow(clippy::too_many_arguments)]
    fn knn_node(
        &self,
        node: usize,
        level: u32,
        lo: usize,
        hi: usize,
        query: &Vec3,
        offset: &mut [f64; 3],
        best: &mut KBest,
    ) {
        if level == self.leaf_depth {
            // Distances first (a loop the compiler vectorises), then the rare insertions.
            let mut d2s = [0.0; LEAF_SIZE];
            let d2s = &mut d2s[..hi - lo];
            let (xs, ys, zs) = (&self.x[lo..hi], &self.y[lo..hi], &self.z[lo..hi]);
            for (d2, ((&x, &y), &z)) in d2s.iter_mut().zip(xs.iter().zip(ys).zip(zs)) {
                *d2 = squared_distance(x, y, z, query);
            }
            for (j, &d2) in d2s.iter().enumerate() {
                if d2 < best.worst {
                    best.insert(d2, lo + j);
                }
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        let axis = usize::from(self.split_axis[node]);
        let diff = query[axis] - self.split_value[node];
        let (near, far) = if diff < 0.0 {
            ((2 * node + 1, lo, mid), (2 * node + 2, mid, hi))
        } else {
            ((2 * node + 2, mid, hi), (2 * node + 1, lo, mid))
        };
        self.knn_node(near.0, level + 1, near.1, near.2, query, offset, best);
        let old = offset[axis];
        offset[axis] = diff;
        let bound = offset[0] * offset[0] + offset[1] * offset[1] + offset[2] * offset[2];
        if bound < best.worst {
            self.knn_node(far.0, level + 1, far.1, far.2, query, offset, best);
        }
        offset[axis] = old;
    }

    /// Calls `visit(tree position, squared distance)` for every point at squared distance `<= radius^2 (1 + 1e-12)`,
    /// a superset of the points within `radius` (the callers test the exact condition), in a fixed order.
    fn visit_within(&self, query: Vec3, radius: f64, mut visit: impl FnMut(usize, f64)) {
        let limit = radius * radius * (1.0 + 1e-12);
        let mut offset = [0.0; 3];
        self.within_node(0, 0, 0, self.len(), &query, limit, &mut offset, &mut visit);
    }

    #[allow(clippy::too_many_arguments)]
    fn within_node(
        &self,
        node: usize,
        level: u32,
        lo: usize,
        hi: usize,
        query: &Vec3,
        limit: f64,
        offset: &mut [f64; 3],
        visit: &mut impl FnMut(usize, f64),
    ) {
        if level == self.leaf_depth {
            let (xs, ys, zs) = (&self.x[lo..hi], &self.y[lo..hi], &self.z[lo..hi]);
            for (j, ((&x, &y), &z)) in xs.iter().zip(ys).zip(zs).enumerate() {
                let d2 = squared_distance(x, y, z, query);
                if d2 <= limit {
                    visit(lo + j, d2);
                }
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        let axis = usize::from(self.split_axis[node]);
        let diff = query[axis] - self.split_value[node];
        let (near, far) = if diff < 0.0 {
            ((2 * node + 1, lo, mid), (2 * node + 2, mid, hi))
        } else {
            ((2 * node + 2, mid, hi), (2 * node + 1, lo, mid))
        };
        self.within_node(near.0, level + 1, near.1, near.2, query, limit, offset, visit);
        let old = offset[axis];
        offset[axis] = diff;
        let bound = offset[0] * offset[0] + offset[1] * offset[1] + offset[2] * offset[2];
        if bound <= limit {
            self.within_node(far.0, level + 1, far.1, far.2, query, limit, offset, visit);
        }
        offset[axis] = old;
    }

    /// For every point (in input order), the distance to its `k`-th nearest other point; `k < len` (checked by the
    /// caller). The (k+1)-th nearest point counting the point itself: its own distance 0 is the smallest of all.
    fn kth_other_distances(&self, k: usize) -> Array1<f64> {
        let n = self.len();
        let mut in_tree_order = vec![0.0; n];
        in_tree_order.par_chunks_mut(CHUNK).enumerate().for_each(|(chunk_idx, chunk)| {
            let mut best = KBest::new(k + 1);
            let mut previous: Vec<usize> = Vec::with_capacity(k + 1);
            for (j, out) in chunk.iter_mut().enumerate() {
                let query = self.point(chunk_idx * CHUNK + j);
                // The previous query (a close point in tree order) found k + 1 points: their largest distance to
                // this query bounds this query's (k+1)-th distance and prunes the search from the start.
                if previous.len() != k + 1 {
                    best.clear();
                } else {
                    let bound = previous
                        .iter()
                        .map(|&pos| squared_distance(self.x[pos], self.y[pos], self.z[pos], &query))
                        .fold(0.0, f64::max);
                    best.reset_with_bound(bound);
                }
                self.knn(query, &mut best);
                *out = best.worst.sqrt();
                previous.clear();
                previous.extend(best.items.iter().map(|&(_, pos)| pos));
            }
        });
        self.to_input_order(&in_tree_order)
    }

    fn to_input_order(&self, in_tree_order: &[f64]) -> Array1<f64> {
        let mut out = Array1::zeros(self.len());
        for (&row, &value) in self.row.iter().zip(in_tree_order) {
            out[row] = value;
        }
        out
    }
}

/// The `k` smallest squared distances seen so far with their tree positions: a binary max-heap on the squared
/// distance (`items[0]` is the largest kept).
struct KBest {
    k: usize,
    items: Vec<(f64, usize)>,
    /// Candidates must be below this: the k-th smallest squared distance once `k` points were kept, before that
    /// infinity or just above a known upper bound on it ([`KBest::reset_with_bound`]).
    worst: f64,
}

impl KBest {
    fn new(k: usize) -> Self {
        Self { k, items: Vec::with_capacity(k), worst: f64::INFINITY }
    }

    fn clear(&mut self) {
        self.items.clear();
        self.worst = f64::INFINITY;
    }

    /// Empties the heap, knowing that at least `k` points lie at squared distance `<= bound` (finite, `>= 0`):
    /// candidates above it are skipped, the others are all kept, so the result is the same as without the bound.
    fn reset_with_bound(&mut self, bound: f64) {
        self.items.clear();
        // The next float above `bound` (positive and finite, so its bit pattern plus one).
        self.worst = f64::from_bits(bound.to_bits() + 1);
    }

    /// Inserts a candidate with `d2 < self.worst`.
    fn insert(&mut self, d2: f64, pos: usize) {
        if self.items.len() < self.k {
            // Sift up.
            let mut i = self.items.len();
            self.items.push((d2, pos));
            while i > 0 {
                let parent = (i - 1) / 2;
                if self.items[parent].0 >= d2 {
                    break;
                }
                self.items[i] = self.items[parent];
                i = parent;
            }
            self.items[i] = (d2, pos);
            if self.items.len() == self.k {
                self.worst = self.items[0].0;
            }
            return;
        }
        // Replace the largest and sift down.
        let n = self.k;
        let mut i = 0;
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && self.items[right].0 > self.items[left].0 { right } else { left };
            if self.items[child].0 <= d2 {
                break;
            }
            self.items[i] = self.items[child];
            i = child;
        }
        self.items[i] = (d2, pos);
        self.worst = self.items[0].0;
    }
}

#[inline(always)]
fn squared_distance(x: f64, y: f64, z: f64, query: &Vec3) -> f64 {
    let (dx, dy, dz) = (x - query[0], y - query[1], z - query[2]);
    dx * dx + dy * dy + dz * dz
}

/// The lower and upper corners of the points' bounding box (infinite, inverted for no point).
fn bounding_box(entries: &[Entry]) -> [f64; 6] {
    let mut bounds =
        [f64::INFINITY, f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
    for e in entries.iter() {
        for d in 0..3 {
            bounds[d] = bounds[d].min(e.p[d]);
            bounds[d + 3] = bounds[d + 3].max(e.p[d]);
        }
    }
    bounds
}

/// Cuts `entries` into the ranges of the `2^level` nodes of that level, left to right (a node of `n` points has a
/// left child of `n / 2` points and a right child of `n - n / 2`).
fn node_slices<'a>(entries: &'a mut [Entry], level: u32, out: &mut Vec<&'a mut [Entry]>) {
    if level == 0 {
        out.push(entries);
        return;
    }
    let mid = entries.len() / 2;
    let (left, right) = entries.split_at_mut(mid);
    node_slices(left, level - 1, out);
    node_slices(right, level - 1, out);
}

/// Splits a node's points at the median of their widest axis (ties to the lower axis): afterwards the first
/// `len / 2` points have coordinates `<=` the returned split value and the others `>=` it.
fn split_at_median(entries: &mut [Entry]) -> (u8, f64) {
    let bounds = bounding_box(entries);
    let mut axis = 0;
    for d in 1..3 {
        if bounds[d + 3] - bounds[d] > bounds[axis + 3] - bounds[axis] {
            axis = d;
        }
    }
    let mid = entries.len() / 2;
    if entries.is_empty() {
        return (0, 0.0);
    }
    let (_, median, _) = entries.select_nth_unstable_by(mid, |a, b| a.p[axis].total_cmp(&b.p[axis]));
    (axis as u8, median.p[axis])
}

fn check_positions(field: &str, positions: ArrayView2<f64>) -> Result<(), CoreError> {
    if positions.ncols() != 3 {
        return Err(CoreError::Shape {
            field: field.into(),
            expected: "shape (N, 3)".into(),
            got: format!("shape {:?}", positions.dim()),
        });
    }
    for (row, p) in positions.rows().into_iter().enumerate() {
        if let Some(&value) = p.iter().find(|v| !v.is_finite()) {
            return Err(CoreError::NonFinite { field: field.into(), index: row, value });
        }
        if let Some(&value) = p.iter().find(|v| v.abs() > MAX_COORDINATE) {
            return Err(CoreError::invalid(
                field,
                format!("coordinate {value} at index {row} exceeds {MAX_COORDINATE:e} in magnitude (squared distances would overflow)"),
            ));
        }
    }
    Ok(())
}

fn check_query(query: Vec3) -> Result<(), CoreError> {
    match query.iter().find(|v| !v.is_finite()) {
        Some(&value) => Err(CoreError::NonFinite { field: "query".into(), index: 0, value }),
        None => Ok(()),
    }
}

fn check_k(name: &str, k: usize, n: usize) -> Result<(), CoreError> {
    if k == 0 {
        return Err(CoreError::invalid(name, "must be at least 1"));
    }
    if k >= n {
        return Err(CoreError::invalid(
            name,
            format!("{k} neighbours besides each point need at least {} points, got {n}", k + 1),
        ));
    }
    Ok(())
}

/// For every point of `positions` (N, 3), the distance to its `k`-th nearest neighbour **not counting the point
/// itself**, in input order. Coincident points are each other's neighbours at distance 0.
///
/// scipy's `cKDTree(x).query(x, k + 1)` counts every point as its own nearest neighbour (column 0, distance 0); its
/// column `k` is this distance. Exact (bit-identical to brute force); parallel over points, deterministic.
///
/// Fails for `k = 0`, `k >= N`, another shape or a non-finite coordinate (naming the row).
pub fn knn_distances(positions: ArrayView2<f64>, k: usize) -> Result<Array1<f64>, CoreError> {
    check_positions("positions", positions)?;
    check_k("k", k, positions.nrows())?;
    Ok(KdTree::new(positions)?.kth_other_distances(k))
}

/// SPH smoothing lengths in kpc: the radius of compact support of the kernel (the galaxy-file convention), taken as
/// the distance from each particle to its `n_neighbours`-th nearest other particle ([`knn_distances`]). The sphere
/// of radius `h_i` then encloses `n_neighbours` particles besides `i` (one of them on its surface, where the kernel
/// vanishes). Codes that count the particle itself among its neighbours correspond to `n_neighbours - 1`.
///
/// Fails as [`knn_distances`] does. More than `n_neighbours` coincident particles give `h = 0`, which
/// [`sph_density_msun_kpc3`] rejects.
pub fn smoothing_lengths_kpc(positions_kpc: ArrayView2<f64>, n_neighbours: usize) -> Result<Array1<f64>, CoreError> {
    check_positions("positions_kpc", positions_kpc)?;
    check_k("n_neighbours", n_neighbours, positions_kpc.nrows())?;
    Ok(KdTree::new(positions_kpc)?.kth_other_distances(n_neighbours))
}

/// The cubic spline kernel of Monaghan & Lattanzio (1985) with compact support `h_kpc`, in kpc^-3:
/// `W = 8 / (pi h^3) * (1 - 6 q^2 + 6 q^3)` for `q = r / h <= 1/2`, `8 / (pi h^3) * 2 (1 - q)^3` for `1/2 < q <= 1`,
/// 0 beyond (the normalisation of Gadget-2 and MARTINI's `CubicSplineKernel`; `4 pi r^2 W` integrates to 1).
/// `h_kpc` must be positive (not checked here; [`sph_density_msun_kpc3`] checks it).
pub fn cubic_spline_kernel(r_kpc: f64, h_kpc: f64) -> f64 {
    let q = r_kpc / h_kpc;
    let norm = 8.0 / (std::f64::consts::PI * h_kpc * h_kpc * h_kpc);
    if q <= 0.5 {
        norm * (1.0 - 6.0 * q * q + 6.0 * q * q * q)
    } else if q <= 1.0 {
        let u = 1.0 - q;
        norm * 2.0 * u * u * u
    } else {
        0.0
    }
}

/// SPH densities in Msun/kpc^3: `rho_i = sum_j m_j W(|r_i - r_j|, h_i)` over all particles `j` within `h_i`,
/// `j = i` included, with [`cubic_spline_kernel`] and the smoothing length of the particle itself ("gather").
/// On random (Poisson) particles the self term biases the result high; see the module docs.
///
/// Fails for a shape or length mismatch, a non-finite coordinate, a negative or non-finite mass, or a smoothing
/// length that is not positive and finite (each naming the row). Parallel over particles, deterministic.
pub fn sph_density_msun_kpc3(
    positions_kpc: ArrayView2<f64>,
    masses_msun: ArrayView1<f64>,
    smoothing_lengths_kpc: ArrayView1<f64>,
) -> Result<Array1<f64>, CoreError> {
    check_positions("positions_kpc", positions_kpc)?;
    let n = positions_kpc.nrows();
    for (field, len) in [("masses_msun", masses_msun.len()), ("smoothing_lengths_kpc", smoothing_lengths_kpc.len())] {
        if len != n {
            return Err(CoreError::Shape {
                field: field.into(),
                expected: format!("length {n}"),
                got: format!("length {len}"),
            });
        }
    }
    for (row, &m) in masses_msun.iter().enumerate() {
        if !m.is_finite() {
            return Err(CoreError::NonFinite { field: "masses_msun".into(), index: row, value: m });
        }
        if m < 0.0 {
            return Err(CoreError::invalid("masses_msun", format!("must be non-negative, got {m} at index {row}")));
        }
    }
    for (row, &h) in smoothing_lengths_kpc.iter().enumerate() {
        if !h.is_finite() {
            return Err(CoreError::NonFinite { field: "smoothing_lengths_kpc".into(), index: row, value: h });
        }
        if h <= 0.0 {
            return Err(CoreError::invalid(
                "smoothing_lengths_kpc",
                format!("must be positive, got {h} at index {row}"),
            ));
        }
    }
    let tree = KdTree::new(positions_kpc)?;
    let mass_in_tree_order: Vec<f64> = tree.row.iter().map(|&row| masses_msun[row]).collect();
    let mut in_tree_order = vec![0.0; n];
    in_tree_order.par_chunks_mut(CHUNK).enumerate().for_each(|(chunk_idx, chunk)| {
        for (j, out) in chunk.iter_mut().enumerate() {
            let pos = chunk_idx * CHUNK + j;
            let h = smoothing_lengths_kpc[tree.row[pos]];
            let mut rho = 0.0;
            tree.visit_within(tree.point(pos), h, |other, d2| {
                rho += mass_in_tree_order[other] * cubic_spline_kernel(d2.sqrt(), h)
            });
            *out = rho;
        }
    });
    Ok(tree.to_input_order(&in_tree_order))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use ndarray::{Array2, Axis};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn uniform_cube(n: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Array2::from_shape_fn((n, 3), |_| rng.random::<f64>())
    }

    /// A few tight Gaussian-ish clumps, a uniform background, exact duplicates and points sharing coordinates.
    fn clustered_with_duplicates(n: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres: Vec<Vec3> = (0..5).map(|_| [rng.random(), rng.random(), rng.random()]).collect();
        let mut pos = Array2::zeros((n, 3));
        for i in 0..n {
            let p: Vec3 = match i % 4 {
                0 => [rng.random(), rng.random(), rng.random()],
                1 | 2 => {
                    let c = centres[rng.random_range(0..centres.len())];
                    c.map(|x| x + 1e-3 * (rng.random::<f64>() - 0.5))
                }
                // A duplicate of an earlier point, or a point on a coarse grid (equal coordinates along an axis).
                _ if i > 4 && rng.random::<bool>() => {
                    let j = rng.random_range(0..i);
                    [pos[[j, 0]], pos[[j, 1]], pos[[j, 2]]]
                }
                _ => [0.0; 3].map(|_: f64| f64::from(rng.random_range(0..4u8)) * 0.25),
            };
            for d in 0..3 {
                pos[[i, d]] = p[d];
            }
        }
        pos
    }

    fn brute_squared_distances(pos: &Array2<f64>, query: Vec3) -> Vec<f64> {
        pos.rows().into_iter().map(|p| squared_distance(p[0], p[1], p[2], &query)).collect()
    }

    /// For every point, the sorted squared distances to all other points.
    fn brute_sorted_others(pos: &Array2<f64>) -> Vec<Vec<f64>> {
        (0..pos.nrows())
            .map(|i| {
                let q = [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]];
                let mut d2: Vec<f64> = brute_squared_distances(pos, q)
                    .into_iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .map(|(_, d)| d)
                    .collect();
                d2.sort_by(f64::total_cmp);
                d2
            })
            .collect()
    }

    #[test]
    fn knn_distances_equal_brute_force_exactly() {
        for (n, seed) in [(1usize, 1u64), (2, 2), (17, 3), (100, 4), (1000, 5), (3001, 6)] {
            for pos in [uniform_cube(n, seed), clustered_with_duplicates(n, seed + 100)] {
                let sorted_others = brute_sorted_others(&pos);
                for k in [1usize, 2, 7, 16, 33, 64] {
                    if k >= n {
                        assert!(matches!(knn_distances(pos.view(), k), Err(CoreError::InvalidParameter { .. })));
                        continue;
                    }
                    let ours = knn_distances(pos.view(), k).unwrap();
                    let brute: Vec<f64> = sorted_others.iter().map(|d2| d2[k - 1].sqrt()).collect();
                    assert_eq!(ours.to_vec(), brute, "n = {n}, k = {k}");
                }
            }
        }
    }

    #[test]
    fn duplicates_are_neighbours_at_distance_zero() {
        let mut pos = Array2::zeros((40, 3));
        for i in 20..40 {
            pos[[i, 0]] = 1.0 + i as f64;
        }
        // Twenty copies of the origin: each has 19 others at distance 0, the 20th other is at distance 21.
        let d = knn_distances(pos.view(), 19).unwrap();
        assert!(d.iter().take(20).all(|&x| x == 0.0));
        let d = knn_distances(pos.view(), 20).unwrap();
        assert!(d.iter().take(20).all(|&x| x == 21.0));
        let tree = KdTree::new(pos.view()).unwrap();
        let found = tree.k_nearest([0.0; 3], 20).unwrap();
        assert_eq!(found, (0..20).map(|i| (i, 0.0)).collect::<Vec<_>>());
    }

    #[test]
    fn k_nearest_equals_brute_force_for_outside_queries() {
        let pos = clustered_with_duplicates(2000, 7);
        let tree = KdTree::new(pos.view()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for _ in 0..200 {
            let q: Vec3 = [0.0; 3].map(|_: f64| rng.random_range(-0.5..1.5));
            for k in [1, 5, 40, 2000] {
                let found = tree.k_nearest(q, k).unwrap();
                let mut brute: Vec<(usize, f64)> =
                    brute_squared_distances(&pos, q).into_iter().enumerate().map(|(j, d2)| (j, d2.sqrt())).collect();
                brute.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                // Distances agree exactly; rows agree except among points tied at the k-th distance.
                let distances: Vec<f64> = found.iter().map(|f| f.1).collect();
                assert_eq!(distances, brute[..k].iter().map(|b| b.1).collect::<Vec<_>>());
                let kth = brute[k - 1].1;
                let strictly_closer =
                    |v: &[(usize, f64)]| v.iter().filter(|f| f.1 < kth).map(|f| f.0).collect::<Vec<_>>();
                assert_eq!(strictly_closer(&found), strictly_closer(&brute[..k]));
            }
        }
    }

    #[test]
    fn within_radius_equals_brute_force() {
        let pos = clustered_with_duplicates(3000, 9);
        let tree = KdTree::new(pos.view()).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(10);
        for i in 0..300 {
            let q: Vec3 = if i % 2 == 0 {
                [0.0; 3].map(|_: f64| rng.random_range(-0.2..1.2))
            } else {
                let j = rng.random_range(0..pos.nrows());
                [pos[[j, 0]], pos[[j, 1]], pos[[j, 2]]]
            };
            // Radii include 0 (exact matches only) and a radius equal to an existing distance (boundary included).
            let exact = brute_squared_distances(&pos, q)[i % pos.nrows()].sqrt();
            for radius in [0.0, 1e-4, 0.01, 0.1, 0.3, exact, 2.0] {
                let found = tree.within_radius(q, radius).unwrap();
                let mut brute: Vec<(usize, f64)> = brute_squared_distances(&pos, q)
                    .into_iter()
                    .enumerate()
                    .map(|(j, d2)| (j, d2.sqrt()))
                    .filter(|&(_, d)| d <= radius)
                    .collect();
                brute.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                assert_eq!(found, brute, "radius {radius}");
            }
        }
    }

    #[test]
    fn invalid_input_is_an_error_not_a_panic() {
        let pos = uniform_cube(10, 11);
        assert!(matches!(knn_distances(pos.view(), 0), Err(CoreError::InvalidParameter { .. })));
        assert!(matches!(knn_distances(pos.view(), 10), Err(CoreError::InvalidParameter { .. })));
        assert!(knn_distances(pos.view(), 9).is_ok());
        assert!(matches!(knn_distances(Array2::zeros((0, 3)).view(), 1), Err(CoreError::InvalidParameter { .. })));
        assert!(matches!(knn_distances(Array2::zeros((5, 2)).view(), 1), Err(CoreError::Shape { .. })));
        let mut bad = pos.clone();
        bad[[6, 2]] = f64::NAN;
        let err = knn_distances(bad.view(), 3).unwrap_err();
        assert!(matches!(err, CoreError::NonFinite { index: 6, .. }), "{err}");
        bad[[6, 2]] = f64::INFINITY;
        assert!(matches!(KdTree::new(bad.view()), Err(CoreError::NonFinite { index: 6, .. })));
        bad[[6, 2]] = -1e200;
        assert!(KdTree::new(bad.view()).unwrap_err().to_string().contains("index 6"));
        let tree = KdTree::new(pos.view()).unwrap();
        assert!(matches!(tree.k_nearest([0.0; 3], 0), Err(CoreError::InvalidParameter { .. })));
        assert!(matches!(tree.k_nearest([0.0; 3], 11), Err(CoreError::InvalidParameter { .. })));
        assert_eq!(tree.k_nearest([0.0; 3], 10).unwrap().len(), 10);
        assert!(matches!(tree.k_nearest([f64::NAN, 0.0, 0.0], 1), Err(CoreError::NonFinite { .. })));
        assert!(matches!(tree.within_radius([0.0; 3], -1.0), Err(CoreError::InvalidParameter { .. })));
        assert!(matches!(tree.within_radius([0.0; 3], f64::NAN), Err(CoreError::InvalidParameter { .. })));
        assert_eq!(tree.within_radius([0.0; 3], f64::INFINITY).unwrap().len(), 10);
        let empty = KdTree::new(Array2::zeros((0, 3)).view()).unwrap();
        assert!(empty.is_empty() && empty.within_radius([0.0; 3], 1.0).unwrap().is_empty());
        assert!(matches!(empty.k_nearest([0.0; 3], 1), Err(CoreError::InvalidParameter { .. })));
        let m = Array1::from_elem(10, 1.0);
        let h = Array1::from_elem(10, 0.5);
        assert!(sph_density_msun_kpc3(pos.view(), m.view(), h.view()).is_ok());
        assert!(matches!(
            sph_density_msun_kpc3(pos.view(), m.slice(ndarray::s![..9]), h.view()),
            Err(CoreError::Shape { .. })
        ));
        assert!(matches!(
            sph_density_msun_kpc3(pos.view(), m.view(), h.slice(ndarray::s![..9])),
            Err(CoreError::Shape { .. })
        ));
        let mut h0 = h.clone();
        h0[4] = 0.0;
        assert!(sph_density_msun_kpc3(pos.view(), m.view(), h0.view()).unwrap_err().to_string().contains("index 4"));
        h0[4] = f64::NAN;
        assert!(matches!(
            sph_density_msun_kpc3(pos.view(), m.view(), h0.view()),
            Err(CoreError::NonFinite { index: 4, .. })
        ));
        let mut m_bad = m.clone();
        m_bad[3] = -1.0;
        assert!(sph_density_msun_kpc3(pos.view(), m_bad.view(), h.view()).unwrap_err().to_string().contains("index 3"));
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let pos = clustered_with_duplicates(20000, 12);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let h = smoothing_lengths_kpc(pos.view(), 32).unwrap();
                let m = Array1::from_elem(pos.nrows(), 1.0);
                // Duplicated clumps can leave h = 0; floor it so the density is defined.
                let h = h.mapv(|x| x.max(1e-6));
                (h.clone(), sph_density_msun_kpc3(pos.view(), m.view(), h.view()).unwrap())
            })
        };
        let (h1, rho1) = run(1);
        let (h3, rho3) = run(3);
        assert_eq!(h1, h3);
        assert_eq!(rho1.mapv(f64::to_bits), rho3.mapv(f64::to_bits));
    }

    #[test]
    fn cubic_spline_kernel_integrates_to_one() {
        // Composite Simpson's rule of 4 pi r^2 W on [0, h]; the kernel is a cubic on each half, so the breakpoint at
        // h / 2 is a grid point and the rule is exact up to rounding for the degree-5 integrand.
        for h in [0.1, 1.0, 3.7] {
            let f = |r: f64| 4.0 * std::f64::consts::PI * r * r * cubic_spline_kernel(r, h);
            assert_relative_eq!(crate::numeric::quad::simpson(f, 0.0, h, 2000), 1.0, epsilon = 1e-6);
        }
        assert_eq!(cubic_spline_kernel(1.0, 1.0), 0.0);
        assert_eq!(cubic_spline_kernel(1.5, 1.0), 0.0);
        assert_relative_eq!(cubic_spline_kernel(0.0, 2.0), 1.0 / std::f64::consts::PI, max_relative = 1e-15);
        // Continuous at q = 1/2: 1 - 6/4 + 6/8 = 2 (1/2)^3 = 1/4.
        assert_relative_eq!(cubic_spline_kernel(0.5, 1.0), 2.0 / std::f64::consts::PI, max_relative = 1e-15);
    }

    #[test]
    fn sph_density_of_a_uniform_cube_matches_the_poisson_expectation() {
        let n = 40000;
        let total_mass_msun = 4e9;
        let pos = uniform_cube(n, 13);
        let m = Array1::from_elem(n, total_mass_msun / n as f64);
        for k in [32usize, 64] {
            let h = smoothing_lengths_kpc(pos.view(), k).unwrap();
            let rho = sph_density_msun_kpc3(pos.view(), m.view(), h.view()).unwrap();
            // Interior: the kernel sphere of every particle in [0.25, 0.75]^3 lies inside the cube.
            let interior: Vec<usize> =
                (0..n).filter(|&i| pos.row(i).iter().all(|&x| (0.25..=0.75).contains(&x))).collect();
            assert!(interior.iter().all(|&i| h[i] < 0.25));
            let mean = interior.iter().map(|&i| rho[i]).sum::<f64>() / interior.len() as f64;
            let expected = total_mass_msun * (1.0 + POISSON_SELF_BIAS_NUMERATOR / (k as f64 - 1.0));
            assert_relative_eq!(mean, expected, max_relative = 0.02);
            // The bias is real: the raw mean is more than 15% above the true density.
            assert!(mean > 1.15 * total_mass_msun, "k = {k}: mean {mean:e}");
        }
    }

    #[test]
    fn sph_density_of_a_plummer_sphere_matches_the_analytic_density() {
        let (n, a_kpc, total_mass_msun, k) = (100_000usize, 1.0, 1e10, 64usize);
        let mut rng = ChaCha8Rng::seed_from_u64(14);
        let mut pos = Array2::zeros((n, 3));
        for mut p in pos.axis_iter_mut(Axis(0)) {
            // M(<r) / M = r^3 / (r^2 + a^2)^(3/2) = u  =>  r = a / sqrt(u^(-2/3) - 1).
            let u: f64 = rng.random_range(1e-12..1.0);
            let r = a_kpc / (u.powf(-2.0 / 3.0) - 1.0).sqrt();
            let cos_theta: f64 = rng.random_range(-1.0..1.0);
            let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let sin_theta = (1.0 - cos_theta * cos_theta).sqrt();
            p.assign(&ndarray::arr1(&[r * sin_theta * phi.cos(), r * sin_theta * phi.sin(), r * cos_theta]));
        }
        let m = Array1::from_elem(n, total_mass_msun / n as f64);
        let h = smoothing_lengths_kpc(pos.view(), k).unwrap();
        let rho = sph_density_msun_kpc3(pos.view(), m.view(), h.view()).unwrap();
        let analytic = |r: f64| {
            3.0 * total_mass_msun / (4.0 * std::f64::consts::PI * a_kpc.powi(3))
                * (1.0 + r * r / (a_kpc * a_kpc)).powf(-2.5)
        };
        let poisson_bias = 1.0 + POISSON_SELF_BIAS_NUMERATOR / (k as f64 - 1.0);
        for r0 in [0.5 * a_kpc, a_kpc, 2.0 * a_kpc] {
            let shell: Vec<usize> =
                (0..n).filter(|&i| (pos.row(i).dot(&pos.row(i)).sqrt() / r0 - 1.0).abs() < 0.05).collect();
            assert!(shell.len() > 1000, "{} particles in the shell at {r0}", shell.len());
            let mean = shell.iter().map(|&i| rho[i]).sum::<f64>() / shell.len() as f64;
            let ratio = mean / analytic(r0);
            // Biased high by the self term as on a uniform sample (measured 1.17 to 1.21 for this seed); once the
            // Poisson bias is divided out, within 5% (measured +0.3%, +1.5%, +3.1% at a/2, a, 2a).
            assert!(ratio > 1.1, "r = {r0}: ratio {ratio}");
            assert_relative_eq!(ratio / poisson_bias, 1.0, max_relative = 0.05);
        }
    }
}
