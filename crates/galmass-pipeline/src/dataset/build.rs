//! `galmass dataset build` and `merge`: units per galaxy (parallel, resumable), then `dataset.h5` and
//! `manifest.json` (module docs of [`super`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galmass_core::atomic::{write_atomic_with, write_bytes_atomic};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::{fnv1a64, DatasetConfig};
use super::plan::{resolve, Candidate, Plan, Split};
use super::unit::{make_unit, skip_path, unit_path, Recipes, StageTimes, UnitOutcome};
use super::writer::{read_unit, write_unit_to, DatasetHeader, DatasetWriter, RowSource, UnitHeader};
use crate::h5::{h5err, read_str};
use crate::PipelineError;

/// Version of the dataset layout.
pub const DATASET_VERSION: u32 = 1;

/// Which shard of a build this process makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..n`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = PipelineError;

    /// `i/N` with `0 <= i < N`.
    fn from_str(s: &str) -> Result<Self, PipelineError> {
        let bad = || PipelineError::invalid("shard", format!("{s:?}: expected i/N with 0 <= i < N"));
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) =
            (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

/// A skip recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkipRecord {
    /// The suite.
    pub suite: String,
    /// The candidate's key.
    pub galaxy: String,
    /// The galaxy file.
    pub file: PathBuf,
    /// Why.
    pub reason: String,
    /// The recipe the skip was decided under.
    pub recipe_hash: String,
}

/// `DIR/work/shard-<i>-of-<n>.json`: a shard's units are all there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// The shard.
    pub shard: usize,
    /// Of how many.
    pub n_shards: usize,
    /// The recipe.
    pub recipe_hash: String,
    /// Galaxies with rows.
    pub units: usize,
    /// Galaxies skipped.
    pub skipped: usize,
    /// Units made by this run (the rest were kept from an earlier one).
    pub made: usize,
    /// Seconds per stage of this run, summed over threads.
    #[serde(default)]
    pub stage_seconds: BTreeMap<String, f64>,
    /// Wall seconds of this run.
    #[serde(default)]
    pub wall_seconds: f64,
}

fn io(path: &Path, context: &str) -> impl FnOnce(std::io::Error) -> PipelineError {
    let (path, context) = (path.to_owned(), context.to_owned());
    move |source| PipelineError::Io { path, context, source }
}

fn json_err(what: &str, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::invalid(what, e.to_string())
}

/// Whether a unit or skip record for `candidate` exists under `recipe_hash`; an error when one exists under
/// another recipe (the folder was built from another config).
fn existing(out: &Path, candidate: &Candidate, recipe_hash: &str) -> Result<bool, PipelineError> {
    let unit = unit_path(out, candidate);
    if unit.exists() {
        let hash = hdf5::File::open(&unit)
            .map_err(h5err(&unit, "opening the unit"))
            .and_then(|f| read_str(&unit, &f, "", "recipe_hash"));
        return match hash {
            Ok(h) if h == recipe_hash => Ok(true),
            Ok(h) => Err(PipelineError::BadFile {
                path: unit,
                field: "recipe_hash".into(),
                reason: format!("made by recipe {h}, this config is {recipe_hash}: use another --out"),
            }),
            // A unit that does not open (a disk fault: units are renamed into place whole) is made again.
            Err(e) => {
                tracing::warn!("{}: unreadable unit, making it again ({e})", unit.display());
                Ok(false)
            }
        };
    }
    let skip = skip_path(out, candidate);
    if let Ok(text) = std::fs::read_to_string(&skip) {
        if let Ok(record) = serde_json::from_str::<SkipRecord>(&text) {
            return Ok(record.recipe_hash == recipe_hash);
        }
    }
    Ok(false)
}

/// Builds the units of one shard (parallel with rayon; `progress` is called once per galaxy), then records the
/// shard as complete. Units already present are kept.
pub fn build_shard(plan: &Plan, shard: Shard, progress: &(dyn Fn() + Sync)) -> Result<ShardRecord, PipelineError> {
    let wall = std::time::Instant::now();
    let times = StageTimes::default();
    let recipes = Recipes::new(&plan.config)?;
    let recipe_hash = plan.config.recipe_hash()?;
    let out = &plan.out;
    std::fs::create_dir_all(out.join("work")).map_err(io(out, "creating the dataset folder"))?;
    write_bytes_atomic(&out.join("work").join("config.toml"), plan.config.to_toml()?.as_bytes())?;
    let mine: Vec<&Candidate> = plan.candidates.iter().filter(|c| c.shard(shard.count) == shard.index).collect();
    let outcomes: Vec<Result<(bool, bool), PipelineError>> = mine
        .par_iter()
        .map(|candidate| {
            let result = (|| {
                if existing(out, candidate, &recipe_hash)? {
                    return Ok((unit_path(out, candidate).exists(), false));
                }
                match make_unit(candidate, &recipes, &times)? {
                    UnitOutcome::Rows(rows) => {
                        let header = UnitHeader {
                            recipe_hash: recipe_hash.clone(),
                            suite: candidate.suite.clone(),
                            key: candidate.key.clone(),
                        };
                        let dest = unit_path(out, candidate);
                        times.time("write", || {
                            write_atomic_with(&dest, |tmp| write_unit_to(tmp, &header, &rows), PipelineError::from)
                        })?;
                        Ok((true, true))
                    }
                    UnitOutcome::Skipped(reason) => {
                        tracing::warn!(galaxy = %candidate.file.display(), %reason, "galaxy skipped");
                        let record = SkipRecord {
                            suite: candidate.suite.clone(),
                            galaxy: candidate.key.clone(),
                            file: candidate.file.clone(),
                            reason,
                            recipe_hash: recipe_hash.clone(),
                        };
                        let text = serde_json::to_string_pretty(&record).map_err(|e| json_err("skip record", e))?;
                        write_bytes_atomic(&skip_path(out, candidate), text.as_bytes())?;
                        Ok((false, true))
                    }
                }
            })();
            progress();
            result
        })
        .collect();
    let (mut units, mut skipped, mut made) = (0, 0, 0);
    for o in outcomes {
        let (has_rows, new) = o?;
        if has_rows {
            units += 1;
        } else {
            skipped += 1;
        }
        if new {
            made += 1;
        }
    }
    let record = ShardRecord {
        shard: shard.index,
        n_shards: shard.count,
        recipe_hash,
        units,
        skipped,
        made,
        stage_seconds: times.seconds(),
        wall_seconds: wall.elapsed().as_secs_f64(),
    };
    let text = serde_json::to_string_pretty(&record).map_err(|e| json_err("shard record", e))?;
    write_bytes_atomic(&shard_record_path(out, shard), text.as_bytes())?;
    Ok(record)
}

/// Where a shard's completion record goes.
pub fn shard_record_path(out: &Path, shard: Shard) -> PathBuf {
    out.join("work").join(format!("shard-{}-of-{}.json", shard.index, shard.count))
}

/// `DIR/manifest.json` (module docs of [`super`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetManifest {
    /// `galmass-dataset`.
    pub format: String,
    /// Layout version.
    pub version: u32,
    /// Dataset name.
    pub name: String,
    /// Paper.
    pub paper: String,
    /// The resolved config.
    pub config: serde_json::Value,
    /// The recipe hash.
    pub recipe_hash: String,
    /// The commit galmass was built from.
    pub git_revision: String,
    /// Projections per suite and split.
    pub counts: BTreeMap<String, BTreeMap<String, usize>>,
    /// Galaxies (with rows) per suite and split.
    pub galaxies: BTreeMap<String, BTreeMap<String, usize>>,
    /// Projections in the dataset.
    pub n_projections: usize,
    /// Projections dropped by the balancing, per suite.
    pub balanced_away: BTreeMap<String, usize>,
    /// Galaxies skipped, with the reason.
    pub skipped: Vec<SkipRecord>,
    /// Shard records found.
    pub shards: Vec<ShardRecord>,
}

/// The git revision galmass was built from.
pub fn git_revision() -> &'static str {
    env!("GALMASS_GIT_REVISION")
}

/// Which rows of each unit the balancing keeps (sarrato2025 §2: equal numbers of projections per suite in each
/// mass bin; rows outside the bins are dropped; suites held out are kept whole). `masses[c]` are the balance
/// masses of candidate `c`'s rows (None: skipped).
fn balance(plan: &Plan, masses: &[Option<Vec<f64>>]) -> (Vec<Vec<usize>>, BTreeMap<String, usize>) {
    let mut keep: Vec<Vec<usize>> =
        masses.iter().map(|m| m.as_ref().map_or(Vec::new(), |v| (0..v.len()).collect())).collect();
    let mut away = BTreeMap::new();
    let Some(b) = &plan.config.balance else { return (keep, away) };
    let [lo, hi] = b.log10_mass_range;
    let bin_of = |m: f64| -> Option<usize> {
        (m.is_finite() && m >= lo && m < hi)
            .then(|| (((m - lo) / (hi - lo)) * b.bins as f64) as usize)
            .map(|k| k.min(b.bins - 1))
    };
    let balanced: Vec<&str> =
        plan.config.suites.iter().map(|s| s.name()).filter(|s| !b.held_out.iter().any(|h| h == s)).collect();
    // rows[(suite, bin)] = [(candidate, row)] in global order.
    let mut rows: BTreeMap<(usize, usize), Vec<(usize, usize)>> = BTreeMap::new();
    for (c, m) in masses.iter().enumerate() {
        let cand = &plan.candidates[c];
        if !balanced.contains(&cand.suite.as_str()) {
            continue;
        }
        let Some(m) = m else { continue };
        for (r, &v) in m.iter().enumerate() {
            match bin_of(v) {
                Some(k) => rows.entry((cand.suite_index, k)).or_default().push((c, r)),
                None => *away.entry(cand.suite.clone()).or_insert(0) += 1,
            }
        }
        keep[c].clear();
    }
    let suite_indices: Vec<usize> =
        (0..plan.config.suites.len()).filter(|&i| balanced.contains(&plan.config.suites[i].name())).collect();
    for k in 0..b.bins {
        let min = suite_indices.iter().map(|s| rows.get(&(*s, k)).map_or(0, Vec::len)).min().unwrap_or(0);
        for &s in &suite_indices {
            let Some(list) = rows.get(&(s, k)) else { continue };
            let mut chosen = list.clone();
            let mut rng =
                ChaCha8Rng::seed_from_u64(fnv1a64(format!("{}/balance/{s}/{k}", plan.config.seed).as_bytes()));
            chosen.shuffle(&mut rng);
            let name = plan.config.suites[s].name().to_owned();
            *away.entry(name).or_insert(0) += list.len() - min;
            for (c, r) in chosen.into_iter().take(min) {
                keep[c].push(r);
            }
        }
    }
    for k in &mut keep {
        k.sort_unstable();
    }
    (keep, away)
}

/// Merges the units of every shard into `DIR/dataset.h5` and `DIR/manifest.json` (atomically). Every candidate
/// must have a unit or a skip record under this recipe.
pub fn merge(plan: &Plan, progress: &(dyn Fn() + Sync)) -> Result<DatasetManifest, PipelineError> {
    let config = &plan.config;
    let out = &plan.out;
    let recipe_hash = config.recipe_hash()?;
    let mut missing = Vec::new();
    for c in &plan.candidates {
        if !existing(out, c, &recipe_hash)? {
            missing.push(c.file.display().to_string());
        }
    }
    if !missing.is_empty() {
        return Err(PipelineError::invalid(
            "dataset merge",
            format!(
                "{} galaxies have neither a unit nor a skip record (a shard is unfinished), e.g. {}",
                missing.len(),
                missing[0]
            ),
        ));
    }
    // Pass 1: skips and the balance masses.
    let mut skipped = Vec::new();
    let mut masses: Vec<Option<Vec<f64>>> = Vec::with_capacity(plan.candidates.len());
    for c in &plan.candidates {
        let unit = unit_path(out, c);
        if unit.exists() {
            let file = hdf5::File::open(&unit).map_err(h5err(&unit, "opening the unit"))?;
            let m = file
                .dataset("balance_log10_mass")
                .and_then(|d| d.read_raw::<f64>())
                .map_err(h5err(&unit, "balance_log10_mass"))?;
            masses.push(Some(m));
        } else {
            let path = skip_path(out, c);
            let text = std::fs::read_to_string(&path).map_err(io(&path, "reading the skip record"))?;
            skipped.push(serde_json::from_str::<SkipRecord>(&text).map_err(|e| json_err("skip record", e))?);
            masses.push(None);
        }
    }
    let (keep, balanced_away) = balance(plan, &masses);
    let n_projections: usize = keep.iter().map(Vec::len).sum();
    // The inputs' shapes and meanings from the first unit with rows.
    let input_names = config.inputs.names();
    let scalar_names = config.scalars.clone();
    let target_names: Vec<String> = config.targets.iter().map(|t| t.name.clone()).collect();
    let estimator_names: Vec<&'static str> = if config.estimators.enabled {
        galmass_estimators::classic::EstimatorKind::ALL.iter().map(|k| k.key()).collect()
    } else {
        Vec::new()
    };
    let read =
        |c: &Candidate| read_unit(&unit_path(out, c), &input_names, &scalar_names, &target_names, &estimator_names);
    let first = plan.candidates.iter().zip(&keep).find(|(_, k)| !k.is_empty());
    let inputs = match first {
        Some((c, _)) => {
            let (_, rows) = read(c)?;
            rows.inputs
                .iter()
                .map(|(n, d, m)| (n.clone(), [d.shape()[1], d.shape()[2], d.shape()[3]], m.clone()))
                .collect()
        }
        None => Vec::new(),
    };
    let text_attrs = vec![
        ("format".to_string(), "galmass-dataset".to_string()),
        ("name".into(), config.name.clone()),
        ("paper".into(), config.paper.clone()),
        ("config".into(), config.to_toml()?),
        ("recipe_hash".into(), recipe_hash.clone()),
        ("git_revision".into(), git_revision().to_string()),
        ("inputs".into(), input_names.join(",")),
        ("scalars".into(), scalar_names.join(",")),
        ("targets".into(), target_names.join(",")),
        ("estimators".into(), estimator_names.join(",")),
    ];
    let header = DatasetHeader {
        text_attrs,
        seed: config.seed,
        n_projections,
        chunk_rows: config.storage.chunk_rows,
        deflate: config.storage.deflate,
        inputs,
        targets: config.targets.clone(),
    };
    let mut counts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut galaxies: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let dest = out.join("dataset.h5");
    write_atomic_with(
        &dest,
        |tmp| {
            let mut writer = DatasetWriter::create(tmp, header)?;
            for (c, k) in plan.candidates.iter().zip(&keep) {
                if !k.is_empty() {
                    let (_, rows) = read(c)?;
                    // Relative to the dataset folder when inside it (synthetic suites), so a folder moved or
                    // built elsewhere holds the same bytes.
                    let file = c.file.strip_prefix(out).unwrap_or(&c.file).display().to_string();
                    writer.append(&RowSource {
                        rows: &rows,
                        keep: k,
                        suite: &c.suite,
                        split: c.split,
                        galaxy_file: &file,
                    })?;
                    *counts.entry(c.suite.clone()).or_default().entry(c.split.name().into()).or_default() += k.len();
                    *galaxies.entry(c.suite.clone()).or_default().entry(c.split.name().into()).or_default() += 1;
                }
                progress();
            }
            writer.finish()
        },
        PipelineError::from,
    )?;
    let mut shards = Vec::new();
    if let Ok(entries) = std::fs::read_dir(out.join("work")) {
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            let is_record = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("shard-"))
                && p.extension().is_some_and(|x| x == "json");
            if is_record {
                if let Some(r) =
                    std::fs::read_to_string(&p).ok().and_then(|t| serde_json::from_str::<ShardRecord>(&t).ok())
                {
                    shards.push(r);
                }
            }
        }
    }
    for split in Split::ALL {
        for suite in config.suites.iter().map(|s| s.name()) {
            counts.entry(suite.into()).or_default().entry(split.name().into()).or_default();
            galaxies.entry(suite.into()).or_default().entry(split.name().into()).or_default();
        }
    }
    let manifest = DatasetManifest {
        format: "galmass-dataset".into(),
        version: DATASET_VERSION,
        name: config.name.clone(),
        paper: config.paper.clone(),
        config: serde_json::to_value(config).map_err(|e| json_err("config", e))?,
        recipe_hash,
        git_revision: git_revision().to_string(),
        counts,
        galaxies,
        n_projections,
        balanced_away,
        skipped,
        shards,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| json_err("manifest", e))?;
    write_bytes_atomic(&out.join("manifest.json"), text.as_bytes())?;
    Ok(manifest)
}

/// Builds a whole dataset in one process: shard 0 of 1, then the merge.
pub fn build(
    config: &DatasetConfig,
    out: &Path,
    progress: &(dyn Fn() + Sync),
) -> Result<DatasetManifest, PipelineError> {
    let plan = resolve(config, out)?;
    build_shard(&plan, Shard { index: 0, count: 1 }, progress)?;
    merge(&plan, &|| {})
}

/// The config a dataset folder was built with (`DIR/work/config.toml`), for `galmass dataset merge DIR`.
pub fn folder_config(out: &Path) -> Result<DatasetConfig, PipelineError> {
    let path = out.join("work").join("config.toml");
    let text = std::fs::read_to_string(&path).map_err(io(&path, "reading the build's config"))?;
    DatasetConfig::from_toml(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn tiny() -> DatasetConfig {
        DatasetConfig::from_toml(include_str!("../../tests/data/tiny_dataset.toml"), "tiny").unwrap()
    }

    fn strings(file: &hdf5::File, name: &str) -> Vec<String> {
        file.dataset(name)
            .unwrap()
            .read_raw::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect()
    }

    #[test]
    fn builds_are_deterministic_shards_merge_to_the_same_bytes_and_splits_hold_galaxies_together() {
        let dir = tempfile::tempdir().unwrap();
        let config = tiny();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let manifest = build(&config, &a, &|| {}).unwrap();
        assert!(manifest.n_projections > 0, "{manifest:?}");
        // The same config in another folder, as two shards merged: the same bytes.
        let plan = resolve(&config, &b).unwrap();
        for index in [1, 0] {
            let record = build_shard(&plan, Shard { index, count: 2 }, &|| {}).unwrap();
            assert_eq!(record.made, record.units + record.skipped);
        }
        let merged = merge(&plan, &|| {}).unwrap();
        let bytes = |p: &Path| std::fs::read(p.join("dataset.h5")).unwrap();
        assert_eq!(bytes(&a), bytes(&b), "sharded build differs from the single-process one");
        assert_eq!(merged.counts, manifest.counts);
        // Resumed: nothing is made again and the file is unchanged.
        let again = build_shard(&plan, Shard { index: 0, count: 1 }, &|| {}).unwrap();
        assert_eq!(again.made, 0);
        merge(&plan, &|| {}).unwrap();
        assert_eq!(bytes(&a), bytes(&b));

        let file = hdf5::File::open(a.join("dataset.h5")).unwrap();
        let n = manifest.n_projections;
        let split = strings(&file, "split");
        let suite = strings(&file, "suite");
        let ids = file.dataset("galaxy_id").unwrap().read_raw::<i64>().unwrap();
        assert_eq!((split.len(), suite.len(), ids.len()), (n, n, n));
        // No galaxy's projections cross splits.
        let mut split_of: BTreeMap<(String, i64), BTreeSet<String>> = BTreeMap::new();
        for i in 0..n {
            split_of.entry((suite[i].clone(), ids[i])).or_default().insert(split[i].clone());
        }
        assert!(split_of.values().all(|s| s.len() == 1), "{split_of:?}");
        assert!(split.iter().any(|s| s == "train") && split.iter().any(|s| s != "train"));
        // Normalisations come from the training rows only.
        let target = file.dataset("targets/log10_mtot").unwrap().read_2d::<f64>().unwrap();
        let norm = file.dataset("normalisation/targets/log10_mtot").unwrap().read_2d::<f64>().unwrap();
        let train: Vec<usize> = (0..n).filter(|&i| split[i] == "train").collect();
        for k in 0..target.ncols() {
            let vals: Vec<f64> = train.iter().map(|&i| target[[i, k]]).collect();
            let mean = vals.iter().sum::<f64>() / vals.len() as f64;
            approx::assert_relative_eq!(norm[[k, 0]], mean, max_relative = 1e-12);
            let all_mean = target.column(k).sum() / n as f64;
            assert!((all_mean - mean).abs() > 1e-9, "the training mean equals the overall mean: test is blind");
        }
        let xy = file.dataset("inputs/star_xy").unwrap();
        assert_eq!(xy.shape(), vec![n, 1, 16, 16]);
        assert_eq!(xy.chunk(), Some(vec![8, 1, 16, 16]));
        let norm_xy = file.dataset("normalisation/inputs/star_xy").unwrap().read_2d::<f64>().unwrap();
        let maps = xy.read_dyn::<f32>().unwrap();
        let train_sum: f64 = train
            .iter()
            .map(|&i| maps.index_axis(ndarray::Axis(0), i).iter().map(|v| f64::from(*v)).sum::<f64>())
            .sum();
        approx::assert_relative_eq!(norm_xy[[0, 0]], train_sum / (train.len() * 256) as f64, max_relative = 1e-9);
        // Balancing: equal projections per suite in each bin, so equal totals.
        let per_suite: BTreeMap<String, usize> =
            manifest.counts.iter().map(|(s, splits)| (s.clone(), splits.values().sum())).collect();
        let totals: BTreeSet<usize> = per_suite.values().copied().collect();
        assert_eq!(totals.len(), 1, "{per_suite:?}");
        // Provenance.
        let attr = |name: &str| read_str(Path::new("d"), &file, "", name).unwrap();
        assert_eq!(attr("format"), "galmass-dataset");
        assert_eq!(attr("recipe_hash"), config.recipe_hash().unwrap());
        assert_eq!(DatasetConfig::from_toml(&attr("config"), "c").unwrap(), config);
    }

    #[test]
    fn a_corrupt_galaxy_file_is_skipped_and_listed_and_another_recipe_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = tiny();
        config.balance = None;
        config.suites.truncate(1);
        // Generate the synthetic suite once, then read it as a folder of galaxy files with one truncated.
        let plan = resolve(&config, &dir.path().join("gen")).unwrap();
        build_shard(&plan, Shard { index: 0, count: 1 }, &|| {}).unwrap();
        let folder = dir.path().join("gen/suites/nihao-like");
        let victim = folder.join("galaxy_000002.h5");
        let bytes = std::fs::read(&victim).unwrap();
        std::fs::write(&victim, &bytes[..bytes.len() / 3]).unwrap();
        config.suites = vec![super::super::config::SuiteSource::Galaxies { name: "real".into(), path: folder }];
        let out = dir.path().join("d");
        let manifest = build(&config, &out, &|| {}).unwrap();
        assert_eq!(manifest.skipped.len(), 1, "{:?}", manifest.skipped);
        assert_eq!(manifest.skipped[0].file, victim);
        assert!(manifest.skipped[0].reason.contains("galaxy file"), "{}", manifest.skipped[0].reason);
        assert_eq!(manifest.n_projections, 4 * 4);
        // The folder holds this recipe: another one is refused rather than mixed in.
        let mut other = config.clone();
        other.targets[0].radii = vec![1.0];
        let err = build(&other, &out, &|| {}).unwrap_err().to_string();
        assert!(err.contains("recipe"), "{err}");
    }
}
