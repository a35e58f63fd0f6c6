//! Training datasets of galaxy projections: a config ([`config`]) turned into `DIR/dataset.h5` and
//! `DIR/manifest.json` (`galmass dataset build|merge|plan|inspect`), and streamed back in shuffled batches
//! ([`stream`]).
//!
//! # Stages
//! [`plan`] resolves a config against its data: the suites (synthetic ones are generated into `DIR/suites/<name>/`,
//! resumably, exactly as `galmass synth` would), the candidate galaxies in a fixed global order (suite by suite, file
//! name order), each galaxy's split (a seeded shuffle of the candidates of each suite, cut by the split fractions: a
//! galaxy's projections all share its split) and its shard (global index modulo the shard count). [`build`] makes,
//! for each galaxy of a shard, in parallel: selection -> lines of sight -> star samples -> projections -> maps and
//! scalars -> targets -> classic-estimator values, into one *unit* file per galaxy under `DIR/work/` (written
//! atomically: a unit is there whole or not at all), or a recorded skip (a corrupt or truncated file, a failed
//! filter, too few stars). When every unit of a shard exists it writes `DIR/work/shard-<i>-of-<n>.json`. [`merge`]
//! reads the units of every shard in the global order, balances suites by mass bin (sarrato2025), computes the
//! normalisation statistics on the training split only and writes `DIR/dataset.h5` and `DIR/manifest.json`
//! atomically. `build` without `--shard` is shard 0 of 1 followed by the merge, so a sharded build merged is the
//! same file, byte for byte, as a single-process one; a build killed at any point and run again reuses every unit
//! it finds and ends with the same bytes.
//!
//! # Layout of `dataset.h5` (version 1)
//! Root attributes: `format` = `"galmass-dataset"`, `version` = 1, `name`, `paper`, `seed`, `config` (the resolved
//! TOML), `recipe_hash` ([`config::DatasetConfig::recipe_hash`]), `git_revision`, `n_projections`, `inputs`,
//! `scalars`, `targets` (comma-separated names, in order). HDF5 object timestamps are off and datasets are written
//! in a fixed order, so equal contents give equal bytes. Every per-projection dataset has `n_projections` rows; the
//! inputs are chunked by [`config::StorageConfig::chunk_rows`] rows and deflate-compressed, the (small) columns are
//! contiguous.
//! - `inputs/<name>`: float32 `(projection, channel, y, x)`; attributes `axes` = `"projection,channel,y,x"`,
//!   `unit`, `x_range` and `y_range` (the grid's first and last pixel centres), `x_label`, `y_label` (what the axes
//!   measure, e.g. `x / R_h`), `recipe` (the mock parameters as JSON). Names: `star_xy`, `star_rv` (sarrato2025,
//!   exposito2026), `hi_mom0`, `hi_mom1`, `hi_mom2`, `r`, `g`, `g_r`, `v_mean`, `v_disp`, `u`, `i`, `z`.
//!   Non-finite pixels (empty kinematic pixels, masked moments) are stored as 0 and counted in the attribute
//!   `non_finite_set_to_zero`.
//! - `scalars/<name>`: float64 `(projection)`, attribute `unit`.
//! - `targets/<name>`: float64 `(projection, radius)`: log10 of the quantity; attributes `unit`, `quantity`,
//!   `radii` (the radii in `radius_unit`) and `radius_unit` (`r_h`, `r_hsm`, `kpc`); `radii/<name>`: float64
//!   `(projection, radius)`, the same radii in kpc.
//! - `galaxy_id` int64, `suite` and `split` (variable-length UTF-8: `train`, `validation`, `test`), `los` float64
//!   `(projection, 3)` (unit vector observer to galaxy, box frame), `projection_index` int64 (the line of sight's
//!   index within its galaxy), `n_stars` int64 (stars sampled), `r_h_kpc` float64, `galaxy_file` (path of the
//!   galaxy file, relative to the dataset folder when inside it, as the synthetic suites are).
//! - `estimators/<name>/mass_msun`, `.../radius_kpc`, `.../true_mass_msun`, `.../mass_err_msun`: float64
//!   `(projection)` for `walker`, `wolf`, `amorisco_evans`, `campbell`, `errani`; NaN where an estimator was
//!   skipped (the reason in the unit's log).
//! - `normalisation/inputs/<name>`, `normalisation/scalars/<name>`, `normalisation/targets/<name>`: float64
//!   `(k, 4)` with columns `mean, std, min, max` (attribute `columns`) per channel, per scalar (k = 1) or per radius,
//!   over the **training split only** (attribute `split` = `"train"`, `n_rows`).
//!
//! # `manifest.json`
//! `format`, `version`, `name`, `paper`, `config` (resolved, as a JSON object), `recipe_hash`, `git_revision`,
//! `counts` (`{suite: {split: projections}}`), `galaxies` (`{suite: {split: galaxies}}`), `n_projections`,
//! `balanced_away` (projections dropped by the balancing, per suite), `skipped` (`[{suite, galaxy, file,
//! reason}]`), `shards`.
//!
//! # Reading it from Python
//! ```python
//! import h5py, torch
//! class GalmassDataset(torch.utils.data.Dataset):
//!     def __init__(self, path, split="train", inputs=("star_xy", "star_rv"), target="log10_mtot"):
//!         self.f = h5py.File(path, "r")
//!         self.rows = [i for i, s in enumerate(self.f["split"].asstr()[:]) if s == split]
//!         self.inputs, self.target = inputs, target
//!     def __len__(self):
//!         return len(self.rows)
//!     def __getitem__(self, k):
//!         i = self.rows[k]
//!         return [torch.from_numpy(self.f["inputs"][n][i]) for n in self.inputs], torch.from_numpy(self.f["targets"][self.target][i])
//! ```

pub mod build;
pub mod config;
pub mod inspect;
pub mod plan;
pub mod reader;
pub mod stream;
pub mod unit;
pub mod writer;
