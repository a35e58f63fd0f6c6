//! The binned training matrix: one bin mapper per feature, bins stored column-major as u8 (u16 when a column has
//! more than 256 bins), and exclusive feature bundling (EFB).
//!
//! EFB (Ke et al. 2017; LightGBM `FastFeatureBundling`): sparse features, those with at least 80% of rows in their
//! most frequent bin, are bundled greedily, the most populated first, into columns where no row is away from its
//! most frequent bin in two features of the same bundle (LightGBM's `max_conflict_rate` 0, checked on every
//! row). Bin 0 of a bundle means "every feature at its most frequent bin"; feature f's other bins occupy their own
//! slots. One histogram pass over a bundle serves all its features: each feature's histogram is read back from its
//! slots, its most frequent bin being the leaf total minus the rest. On dense data nothing bundles.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_estimators::gbdt::dataset::BinnedData;
//! use galmass_estimators::gbdt::GbdtParams;
//! use ndarray::Array2;
//! // Two one-hot columns (never non-zero together) and one dense column.
//! let x = Array2::from_shape_fn((200, 3), |(i, j)| match j {
//!     0 => if i % 10 == 0 { 1.0 } else { 0.0 },
//!     1 => if i % 10 == 5 { 2.0 } else { 0.0 },
//!     _ => i as f64,
//! });
//! let params = GbdtParams { min_data_in_leaf: 1, ..GbdtParams::default() }.check().unwrap();
//! let data = BinnedData::from_features(x.view(), &params, None).unwrap();
//! assert_eq!(data.num_columns(), 2); // the one-hot pair shares a column
//! assert_eq!(data.feature_bin(0, 10), data.mapper(0).unwrap().value_to_bin(1.0));
//! ```

use ndarray::ArrayView2;
use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::binning::BinMapper;
use super::error::GbdtError;
use super::params::GbdtValidParams;

/// Features with at least this fraction of rows in their most frequent bin are candidates for bundling
/// (LightGBM's sparse threshold 0.8).
pub const BUNDLE_SPARSE_RATE: f64 = 0.8;

/// Seed stream of the binning sample (LightGBM's `data_random_seed`).
pub(crate) const STREAM_BINNING: u64 = 1;

/// Where a feature's bins live.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Placement {
    /// Constant or unsplittable: no column.
    Trivial,
    /// A column of its own: column bin = feature bin.
    Whole { column: usize },
    /// Shares a column: feature bin b != most frequent bin m lives in slot `offset + b - (b > m)`; every other
    /// column value means m.
    Bundled { column: usize, offset: u32, most_freq_bin: u32 },
}

/// One stored column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    /// Bins the column's values range over.
    pub num_bins: usize,
    /// Features stored in it (one unless bundled).
    pub features: Vec<usize>,
    /// Start of the column in a leaf histogram.
    pub hist_offset: usize,
}

/// Column-major bin storage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum BinStore {
    /// Every column has at most 256 bins.
    U8(Vec<u8>),
    /// Some column has more.
    U16(Vec<u16>),
}

/// The binned training matrix.
#[derive(Debug, Clone)]
pub struct BinnedData {
    n_rows: usize,
    mappers: Vec<BinMapper>,
    placements: Vec<Placement>,
    pub(crate) columns: Vec<Column>,
    pub(crate) store: BinStore,
    /// Length of one leaf histogram: columns padded to 256 bins in u8 storage (so a u8 indexes without checks).
    pub(crate) hist_len: usize,
}

/// Builds the thread pool for `num_threads` (0: rayon's default); `None` means run on the calling thread.
pub(crate) fn thread_pool(num_threads: usize) -> Result<Option<rayon::ThreadPool>, GbdtError> {
    if num_threads == 1 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(num_threads)
        .build()
        .map(Some)
        .map_err(|e| GbdtError::ThreadPool { num_threads, reason: e.to_string() })
}

/// Runs `f(i)` for i in 0..n, on the pool when there is one; results in index order.
pub(crate) fn map_indexed<T: Send>(
    pool: Option<&rayon::ThreadPool>,
    n: usize,
    f: impl Fn(usize) -> T + Sync + Send,
) -> Vec<T> {
    match pool {
        Some(pool) if n > 1 => pool.install(|| (0..n).into_par_iter().map(&f).collect()),
        _ => (0..n).map(f).collect(),
    }
}

impl BinnedData {
    /// Bins a row-major feature matrix (rows x features) with the binning and bundling parameters of `params`.
    /// `pool` parallelises over features (None: the calling thread).
    pub fn from_features(
        features: ArrayView2<'_, f64>,
        params: &GbdtValidParams,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<BinnedData, GbdtError> {
        let p = params.params();
        let (n_rows, n_features) = features.dim();
        if n_rows == 0 || n_features == 0 {
            return Err(GbdtError::BadInput {
                name: "features",
                expected: "at least one row and one column".into(),
                got: format!("{n_rows} x {n_features}"),
            });
        }
        // Binning sample (LightGBM: bin_construct_sample_cnt rows drawn with data_random_seed).
        let sample_rows: Option<Vec<usize>> = if n_rows > p.bin_construct_sample_cnt {
            let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
            rng.set_stream(STREAM_BINNING);
            let mut rows = sample(&mut rng, n_rows, p.bin_construct_sample_cnt).into_vec();
            rows.sort_unstable();
            Some(rows)
        } else {
            None
        };
        let total_sample = sample_rows.as_ref().map_or(n_rows, Vec::len);
        // LightGBM: filter_cnt = min_data_in_leaf * sample / num_data.
        let filter_cnt = ((p.min_data_in_leaf * total_sample) as f64 / n_rows as f64) as usize;
        let is_zero = |v: f64| !v.is_nan() && v.abs() <= super::binning::ZERO_THRESHOLD;
        let mappers: Vec<BinMapper> = map_indexed(pool, n_features, |j| {
            let col = features.column(j);
            let values: Vec<f64> = match &sample_rows {
                Some(rows) => rows.iter().map(|&r| col[r]).filter(|&v| !is_zero(v)).collect(),
                None => col.iter().copied().filter(|&v| !is_zero(v)).collect(),
            };
            BinMapper::from_sample(values, total_sample, p.max_bin, p.min_data_in_bin, filter_cnt)
        });
        Self::from_mappers(features, mappers, p.enable_bundle, pool)
    }

    fn from_mappers(
        features: ArrayView2<'_, f64>,
        mappers: Vec<BinMapper>,
        enable_bundle: bool,
        pool: Option<&rayon::ThreadPool>,
    ) -> Result<BinnedData, GbdtError> {
        let (n_rows, n_features) = features.dim();
        let wide = mappers.iter().any(|m| m.num_bin() > 256);
        let bundle_cap = if wide { 65_536 } else { 256 };
        // Bundling candidates and their non-default rows (bin != most frequent bin), on the full data.
        let candidates: Vec<usize> = if enable_bundle {
            (0..n_features)
                .filter(|&j| !mappers[j].is_trivial() && mappers[j].sparse_rate() >= BUNDLE_SPARSE_RATE)
                .collect()
        } else {
            Vec::new()
        };
        let nonzero: Vec<Vec<(u32, u32)>> = map_indexed(pool, candidates.len(), |k| {
            let j = candidates[k];
            let m = &mappers[j];
            let mfb = m.most_freq_bin();
            features
                .column(j)
                .iter()
                .enumerate()
                .filter_map(|(r, &v)| {
                    let b = m.value_to_bin(v);
                    (b != mfb).then_some((r as u32, b))
                })
                .collect()
        });
        // Greedy bundling, most populated first (LightGBM sorts by non-zero count).
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        order.sort_by(|&a, &b| nonzero[b].len().cmp(&nonzero[a].len()).then(a.cmp(&b)));
        let words = n_rows.div_ceil(64);
        let mut bundles: Vec<(Vec<usize>, Vec<u64>, usize)> = Vec::new(); // (candidate ids, occupied rows, bins)
        for &k in &order {
            let j = candidates[k];
            let need = mappers[j].num_bin() - 1;
            let mut placed = false;
            for (members, occupied, bins) in bundles.iter_mut() {
                if *bins + need > bundle_cap {
                    continue;
                }
                let conflict = nonzero[k].iter().any(|&(r, _)| occupied[r as usize / 64] >> (r % 64) & 1 == 1);
                if !conflict {
                    for &(r, _) in &nonzero[k] {
                        occupied[r as usize / 64] |= 1 << (r % 64);
                    }
                    members.push(k);
                    *bins += need;
                    placed = true;
                    break;
                }
            }
            if !placed {
                let mut occupied = vec![0u64; words];
                for &(r, _) in &nonzero[k] {
                    occupied[r as usize / 64] |= 1 << (r % 64);
                }
                bundles.push((vec![k], occupied, 1 + need));
            }
        }
        // Columns: features in their own column in feature order, then the multi-feature bundles.
        let mut placements = vec![Placement::Trivial; n_features];
        let mut columns: Vec<Column> = Vec::new();
        let bundled: std::collections::BTreeSet<usize> =
            bundles.iter().filter(|b| b.0.len() > 1).flat_map(|b| b.0.iter().map(|&k| candidates[k])).collect();
        for j in 0..n_features {
            if mappers[j].is_trivial() || bundled.contains(&j) {
                continue;
            }
            placements[j] = Placement::Whole { column: columns.len() };
            columns.push(Column { num_bins: mappers[j].num_bin(), features: vec![j], hist_offset: 0 });
        }
        let mut bundle_members: Vec<Vec<usize>> = Vec::new();
        for (members, _, bins) in bundles.iter().filter(|b| b.0.len() > 1) {
            let column = columns.len();
            let mut offset = 1u32;
            let mut feats: Vec<usize> = members.iter().map(|&k| candidates[k]).collect();
            feats.sort_unstable();
            for &j in &feats {
                placements[j] = Placement::Bundled { column, offset, most_freq_bin: mappers[j].most_freq_bin() };
                offset += (mappers[j].num_bin() - 1) as u32;
            }
            columns.push(Column { num_bins: *bins, features: feats, hist_offset: 0 });
            bundle_members.push(members.clone());
        }
        let wide = columns.iter().any(|c| c.num_bins > 256);
        let mut hist_len = 0;
        for c in columns.iter_mut() {
            c.hist_offset = hist_len;
            hist_len += if wide { c.num_bins } else { 256 };
        }
        // Fill the columns.
        let fill = |c: usize, out: &mut dyn FnMut(usize, u32)| {
            let column = &columns[c];
            if let [j] = column.features[..] {
                let m = &mappers[j];
                for (r, &v) in features.column(j).iter().enumerate() {
                    out(r, m.value_to_bin(v));
                }
            } else {
                for &j in &column.features {
                    let Placement::Bundled { offset, most_freq_bin, .. } = placements[j] else { continue };
                    let k = candidates.iter().position(|&cj| cj == j).unwrap_or(0);
                    for &(r, b) in &nonzero[k] {
                        out(r as usize, offset + b - u32::from(b > most_freq_bin));
                    }
                }
            }
        };
        let n_columns = columns.len();
        let store = if wide {
            let mut data = vec![0u16; n_rows * n_columns];
            fill_columns(pool, &mut data, n_rows, |c, chunk: &mut [u16]| fill(c, &mut |r, b| chunk[r] = b as u16));
            BinStore::U16(data)
        } else {
            let mut data = vec![0u8; n_rows * n_columns];
            fill_columns(pool, &mut data, n_rows, |c, chunk: &mut [u8]| fill(c, &mut |r, b| chunk[r] = b as u8));
            BinStore::U8(data)
        };
        tracing::debug!(n_rows, n_features, n_columns, n_bundles = bundle_members.len(), "binned the training matrix");
        Ok(BinnedData { n_rows, mappers, placements, columns, store, hist_len })
    }

    /// Rows.
    pub fn num_rows(&self) -> usize {
        self.n_rows
    }

    /// Features (trivial ones included).
    pub fn num_features(&self) -> usize {
        self.mappers.len()
    }

    /// Stored columns (features that can split, bundles counting once).
    pub fn num_columns(&self) -> usize {
        self.columns.len()
    }

    /// Number of multi-feature bundles.
    pub fn num_bundles(&self) -> usize {
        self.columns.iter().filter(|c| c.features.len() > 1).count()
    }

    /// The bin mapper of a feature; `None` when it is trivial (never split).
    pub fn mapper(&self, feature: usize) -> Option<&BinMapper> {
        self.mappers.get(feature).filter(|m| !m.is_trivial())
    }

    /// All bin mappers, trivial ones included.
    pub(crate) fn mappers(&self) -> &[BinMapper] {
        &self.mappers
    }

    pub(crate) fn placement(&self, feature: usize) -> &Placement {
        &self.placements[feature]
    }

    /// The feature bin of one row (decoded from its bundle when bundled).
    pub fn feature_bin(&self, feature: usize, row: usize) -> u32 {
        match self.placements[feature] {
            Placement::Trivial => 0,
            Placement::Whole { column } => self.column_bin(column, row),
            Placement::Bundled { column, offset, most_freq_bin } => {
                let nb = self.mappers[feature].num_bin() as u32;
                decode_bundled(self.column_bin(column, row), offset, nb, most_freq_bin)
            }
        }
    }

    pub(crate) fn column_bin(&self, column: usize, row: usize) -> u32 {
        let i = column * self.n_rows + row;
        match &self.store {
            BinStore::U8(d) => u32::from(d[i]),
            BinStore::U16(d) => u32::from(d[i]),
        }
    }
}

/// Feature bin from a bundle's column value.
pub(crate) fn decode_bundled(value: u32, offset: u32, num_bin: u32, most_freq_bin: u32) -> u32 {
    if value >= offset && value < offset + num_bin - 1 {
        let b = value - offset;
        if b >= most_freq_bin {
            b + 1
        } else {
            b
        }
    } else {
        most_freq_bin
    }
}

fn fill_columns<T: Send>(
    pool: Option<&rayon::ThreadPool>,
    data: &mut [T],
    n_rows: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    match pool {
        Some(pool) => pool.install(|| data.par_chunks_mut(n_rows).enumerate().for_each(|(c, chunk)| f(c, chunk))),
        None => data.chunks_mut(n_rows).enumerate().for_each(|(c, chunk)| f(c, chunk)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::gbdt::GbdtParams;
    use galmass_core::params::Params;
    use ndarray::Array2;

    fn sparse_matrix(n: usize, n_features: usize) -> Array2<f64> {
        // Feature j is non-zero on rows with i % n_features == j: all mutually exclusive.
        Array2::from_shape_fn((n, n_features), |(i, j)| {
            if i % n_features == j {
                1.0 + (i / n_features % 7) as f64
            } else {
                0.0
            }
        })
    }

    #[test]
    fn exclusive_sparse_features_share_one_column_and_decode_exactly() {
        let x = sparse_matrix(1000, 8);
        let params = GbdtParams { min_data_in_leaf: 1, ..GbdtParams::default() }.check().unwrap();
        let bundled = BinnedData::from_features(x.view(), &params, None).unwrap();
        assert_eq!(bundled.num_columns(), 1);
        assert_eq!(bundled.num_bundles(), 1);
        let params = GbdtParams { min_data_in_leaf: 1, enable_bundle: false, ..GbdtParams::default() }.check().unwrap();
        let plain = BinnedData::from_features(x.view(), &params, None).unwrap();
        assert_eq!(plain.num_columns(), 8);
        for j in 0..8 {
            for r in 0..1000 {
                assert_eq!(bundled.feature_bin(j, r), plain.feature_bin(j, r), "feature {j} row {r}");
            }
        }
    }

    #[test]
    fn conflicting_features_do_not_bundle() {
        let mut x = sparse_matrix(1000, 8);
        x[[0, 1]] = 3.0; // row 0 is non-zero in features 0 and 1
        let params = GbdtParams { min_data_in_leaf: 1, ..GbdtParams::default() }.check().unwrap();
        let data = BinnedData::from_features(x.view(), &params, None).unwrap();
        assert_eq!(data.num_columns(), 2);
        let plain_params =
            GbdtParams { min_data_in_leaf: 1, enable_bundle: false, ..GbdtParams::default() }.check().unwrap();
        let plain = BinnedData::from_features(x.view(), &plain_params, None).unwrap();
        for j in 0..8 {
            for r in 0..1000 {
                assert_eq!(data.feature_bin(j, r), plain.feature_bin(j, r));
            }
        }
    }

    #[test]
    fn dense_features_stay_unbundled_and_empty_input_is_an_error() {
        let x = Array2::from_shape_fn((300, 4), |(i, j)| ((i * 7 + j * 13) % 101) as f64 + 0.5);
        let params = GbdtParams::default().check().unwrap();
        let data = BinnedData::from_features(x.view(), &params, None).unwrap();
        assert_eq!((data.num_columns(), data.num_bundles()), (4, 0));
        let empty = Array2::<f64>::zeros((0, 3));
        assert!(matches!(BinnedData::from_features(empty.view(), &params, None), Err(GbdtError::BadInput { .. })));
    }

    #[test]
    fn binning_sample_is_seeded() {
        let x = Array2::from_shape_fn((5000, 1), |(i, _)| ((i * 7919) % 4999) as f64);
        let params = GbdtParams { bin_construct_sample_cnt: 500, ..GbdtParams::default() }.check().unwrap();
        let a = BinnedData::from_features(x.view(), &params, None).unwrap();
        let b = BinnedData::from_features(x.view(), &params, None).unwrap();
        assert_eq!(a.mapper(0).unwrap(), b.mapper(0).unwrap());
        let params = GbdtParams { bin_construct_sample_cnt: 500, seed: 9, ..GbdtParams::default() }.check().unwrap();
        let c = BinnedData::from_features(x.view(), &params, None).unwrap();
        assert_ne!(a.mapper(0).unwrap().upper_bounds(), c.mapper(0).unwrap().upper_bounds());
    }
}
