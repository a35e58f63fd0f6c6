//! A config resolved against its data: the candidate galaxies in the dataset's global order, each with its split
//! and shard, and the expected counts, disk, memory and time (`galmass dataset plan`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galmass_core::params::Params;
use galmass_core::Rotation;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::config::{fnv1a64, DatasetConfig, SuiteSource};
use crate::PipelineError;

pub use super::reader::Split;

/// One candidate galaxy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Position in the dataset's global order (suite by suite, file-name order).
    pub index: usize,
    /// Index of its suite in the config.
    pub suite_index: usize,
    /// Its suite's label.
    pub suite: String,
    /// Its galaxy file.
    pub file: PathBuf,
    /// A stable key: the file's stem (`galaxy_000012`), unique within the suite.
    pub key: String,
    /// For a synthetic suite, the galaxy's index in it (the file is generated when missing).
    pub synthetic_index: Option<u64>,
    /// Its split.
    pub split: Split,
}

impl Candidate {
    /// The seed of everything random about this galaxy's projections: the dataset seed, the suite and the key.
    pub fn seed(&self, dataset_seed: u64) -> u64 {
        fnv1a64(format!("{dataset_seed}/{}/{}", self.suite, self.key).as_bytes())
    }

    /// Its shard among `n_shards`.
    pub fn shard(&self, n_shards: usize) -> usize {
        self.index % n_shards.max(1)
    }
}

/// A config resolved against its data.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The config.
    pub config: DatasetConfig,
    /// The output folder.
    pub out: PathBuf,
    /// The candidate galaxies in the global order.
    pub candidates: Vec<Candidate>,
    /// Projections per galaxy.
    pub projections_per_galaxy: usize,
    /// Suites whose folder does not exist (counted from the config's `expected` galaxies, if any).
    pub absent: Vec<String>,
}

/// The folder a synthetic suite is generated into.
pub fn synthetic_dir(out: &Path, suite: &str) -> PathBuf {
    out.join("suites").join(suite)
}

/// The galaxy files of a folder: `*.h5` in name order.
fn galaxy_files(dir: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    let entries = std::fs::read_dir(dir).map_err(|source| PipelineError::Io {
        path: dir.to_owned(),
        context: "listing the galaxy files".into(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "h5") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Resolves `config` for a dataset in `out`: lists the galaxies of each suite (a synthetic suite's are the files it
/// will have), assigns splits by a seeded shuffle of each suite's galaxies, cut by the fractions.
pub fn resolve(config: &DatasetConfig, out: &Path) -> Result<Plan, PipelineError> {
    let mut candidates = Vec::new();
    let mut absent = Vec::new();
    for (suite_index, suite) in config.suites.iter().enumerate() {
        let files: Vec<(PathBuf, Option<u64>)> = match suite {
            SuiteSource::Synthetic { name, n_galaxies, .. } => {
                let dir = synthetic_dir(out, name);
                (0..*n_galaxies as u64).map(|i| (dir.join(format!("galaxy_{i:06}.h5")), Some(i))).collect()
            }
            SuiteSource::Galaxies { name, path } => {
                if path.is_dir() {
                    galaxy_files(path)?.into_iter().map(|f| (f, None)).collect()
                } else {
                    absent.push(name.clone());
                    Vec::new()
                }
            }
        };
        let splits = split_assignment(files.len(), config, suite.name());
        for ((file, synthetic_index), split) in files.into_iter().zip(splits) {
            let key = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            candidates.push(Candidate {
                index: candidates.len(),
                suite_index,
                suite: suite.name().to_owned(),
                file,
                key,
                synthetic_index,
                split,
            });
        }
    }
    let projections_per_galaxy = config.projections.directions(&Rotation::identity())?.len();
    Ok(Plan { config: config.clone(), out: out.to_owned(), candidates, projections_per_galaxy, absent })
}

/// The split of each of `n` galaxies of a suite: a seeded shuffle cut at round(train n) and round((train + val) n).
fn split_assignment(n: usize, config: &DatasetConfig, suite: &str) -> Vec<Split> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(fnv1a64(format!("{}/splits/{suite}", config.seed).as_bytes()));
    order.shuffle(&mut rng);
    let n_train = (config.splits.train * n as f64).round() as usize;
    let n_val = ((config.splits.train + config.splits.validation) * n as f64).round() as usize - n_train;
    let mut out = vec![Split::Test; n];
    for (rank, &i) in order.iter().enumerate() {
        out[i] = if rank < n_train {
            Split::Train
        } else if rank < n_train + n_val {
            Split::Validation
        } else {
            Split::Test
        };
    }
    out
}

/// Per-projection storage of the inputs, scalars, targets and estimators, bytes (uncompressed).
pub fn bytes_per_projection(config: &DatasetConfig) -> Result<u64, PipelineError> {
    let mut pixels = 0u64;
    if let Some(p) = config.inputs.star_maps_params()? {
        pixels += 2 * (p.grid_size * p.grid_size) as u64;
    }
    if let Some(p) = config.inputs.hi_params()? {
        pixels += 3 * (p.npix * p.npix) as u64;
    }
    if let (Some((images, kinematic)), Some(s)) = (config.inputs.sph_params()?, &config.inputs.sph) {
        for m in &s.maps {
            let side = if m.starts_with('v') { kinematic.npix } else { images.output_npix };
            pixels += (side * side) as u64;
        }
    }
    if let (Some(p), Some(o)) = (config.inputs.optical_params()?, &config.inputs.optical) {
        pixels += (o.bands.len() * p.npix * p.npix) as u64;
    }
    let columns: u64 = config.scalars.len() as u64
        + config.targets.iter().map(|t| 2 * t.radii.len() as u64).sum::<u64>()
        + if config.estimators.enabled { 5 * 4 } else { 0 }
        + 12;
    Ok(4 * pixels + 8 * columns)
}

/// Seconds per projection on one core of this project's development machine, measured on the quick configs
/// (`BENCHMARKS.md`, "Datasets"): per star map pair per 1e4 stars, per HI cube, per SPH image set, per SDSS
/// frame set, per feature set. Used by the plan's time estimate only.
pub const SECONDS_PER_PROJECTION: [(&str, f64); 5] =
    [("star_maps", 0.004), ("hi", 0.25), ("sph", 0.6), ("optical", 0.5), ("features", 0.3)];

/// What `galmass dataset plan` prints (also as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    /// The dataset's name.
    pub name: String,
    /// The paper.
    pub paper: String,
    /// Galaxies per suite and split (before selection).
    pub galaxies: BTreeMap<String, BTreeMap<String, usize>>,
    /// Projections per suite (before selection and balancing).
    pub projections: BTreeMap<String, usize>,
    /// Total projections before selection and balancing.
    pub n_projections: usize,
    /// Lines of sight per galaxy.
    pub projections_per_galaxy: usize,
    /// Suites whose folder is absent (their counts come from `expected`).
    pub absent: Vec<String>,
    /// The paper's own counts, when the config quotes them.
    pub expected: Option<super::config::ExpectedCounts>,
    /// Expected size of `dataset.h5` before compression, bytes.
    pub disk_bytes: u64,
    /// Expected peak memory of the merge (one galaxy's rows plus one chunk per input) and per build worker
    /// (a galaxy's particles), bytes.
    pub memory_bytes: u64,
    /// Expected build time on one core, seconds (from [`SECONDS_PER_PROJECTION`]).
    pub core_seconds: f64,
}

impl Plan {
    /// The summary of this plan.
    pub fn summary(&self) -> Result<PlanSummary, PipelineError> {
        let c = &self.config;
        let mut galaxies: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for cand in &self.candidates {
            *galaxies.entry(cand.suite.clone()).or_default().entry(cand.split.name().into()).or_default() += 1;
        }
        // Absent suites: the config's expected galaxy counts, split by the fractions.
        if let Some(expected) = &c.expected {
            for name in &self.absent {
                if let Some((_, n)) = expected.galaxies.iter().find(|(s, _)| s == name) {
                    let splits = split_assignment(*n, c, name);
                    let entry = galaxies.entry(name.clone()).or_default();
                    for s in splits {
                        *entry.entry(s.name().into()).or_default() += 1;
                    }
                }
            }
        }
        let projections: BTreeMap<String, usize> = galaxies
            .iter()
            .map(|(s, splits)| (s.clone(), splits.values().sum::<usize>() * self.projections_per_galaxy))
            .collect();
        let n_projections: usize = projections.values().sum();
        let per = bytes_per_projection(c)?;
        let cost = |name: &str| SECONDS_PER_PROJECTION.iter().find(|(n, _)| *n == name).map_or(0.0, |(_, s)| *s);
        let stars = match c.stars {
            galmass_mock::sampling::SamplingParams::SharedSample { max, .. }
            | galmass_mock::sampling::SamplingParams::DisjointSubsets { max, .. } => max.min(100_000) as f64,
        };
        let mut per_projection = 0.0;
        if c.inputs.star_maps.is_some() {
            per_projection += cost("star_maps") * stars / 1e4;
        }
        for (present, name) in [
            (c.inputs.hi.is_some(), "hi"),
            (c.inputs.sph.is_some(), "sph"),
            (c.inputs.optical.is_some(), "optical"),
            (c.scalars.iter().any(|s| s == "sersic_n" || s == "lambda_r"), "features"),
        ] {
            if present {
                per_projection += cost(name);
            }
        }
        // A galaxy's particles (~100 bytes each, up to 1e6 per galaxy) plus one chunk per input.
        let memory_bytes = 100 * 1_000_000 + per * c.storage.chunk_rows as u64;
        c.stars.check()?;
        Ok(PlanSummary {
            name: c.name.clone(),
            paper: c.paper.clone(),
            galaxies,
            projections,
            n_projections,
            projections_per_galaxy: self.projections_per_galaxy,
            absent: self.absent.clone(),
            expected: c.expected.clone(),
            disk_bytes: per * n_projections as u64,
            memory_bytes,
            core_seconds: per_projection * n_projections as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_are_seeded_shuffles_cut_by_the_fractions() {
        let text = include_str!("../../tests/data/tiny_dataset.toml");
        let config = DatasetConfig::from_toml(text, "tiny").unwrap();
        let a = split_assignment(100, &config, "s");
        assert_eq!(a, split_assignment(100, &config, "s"));
        assert_ne!(a, split_assignment(100, &config, "t"));
        let count = |s: Split| a.iter().filter(|x| **x == s).count();
        let (tr, va, te) = (config.splits.train, config.splits.validation, config.splits.test);
        assert_eq!(count(Split::Train), (tr * 100.0).round() as usize);
        assert_eq!(count(Split::Validation) + count(Split::Test), ((va + te) * 100.0).round() as usize);
    }
}
