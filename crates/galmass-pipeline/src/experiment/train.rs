//! `galmass train`: every model of an experiment trained on each of its training sets (one *unit* each), into a
//! run folder that `galmass evaluate` reads.
//!
//! # Layout of `RUN/` (version 1)
//! - `run.json`: `format` = `"galmass-run"`, `version`, `experiment` (the config as JSON), `dataset` (the dataset
//!   folder), `dataset_recipe_hash`, `git_revision`, `device`, `units` (one object per unit: `id`, `model`, `kind`,
//!   `train_suites`, `seconds`), `complete` (true once every unit is there).
//! - `experiment.toml`: the config as given.
//! - `units/<id>/unit.json`: what the unit is (model, kind, train suites, maps, scalars, targets and their column
//!   names, downsample, map scaling, training and validation row counts, seconds); written last, so a unit folder
//!   without it is unfinished and is trained again when the run resumes.
//! - networks: `units/<id>/cnn/` (`model.safetensors` + `model.json`, a `galmass_models` checkpoint with its input
//!   recipe), `units/<id>/history.csv`; with a flow head `units/<id>/flow/` (the posterior's checkpoint) and
//!   `flow_history.csv`;
//! - GBDTs: `units/<id>/gbdt-<column>.json` (one model per target column, `GbdtModel::to_json`) and
//!   `gbdt-<column>-history.csv` (the loss curves).
//!
//! Training is deterministic for a seed on the CPU. A unit id is `<model>__<suites joined by +>` with characters
//! other than letters, digits, `-`, `_` and `+` replaced by `-`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use galmass_core::atomic::write_bytes_atomic;
use galmass_core::params::Params;
use galmass_estimators::gbdt::{self, LabeledData, Metric};
use galmass_models::arch::ArchConfig;
use galmass_models::checkpoint::InputRecipe;
use galmass_models::flow::{ColumnNames, Posterior, PosteriorConfig};
use galmass_models::regressor::Regressor;
use galmass_models::ComputeDevice;
use serde::{Deserialize, Serialize};

use super::config::{ExperimentConfig, ModelKind, ModelSpec};
use super::data::{ExperimentData, MapScaling};
use crate::dataset::reader::Split;
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

/// `run.json`'s `format`.
pub const RUN_FORMAT: &str = "galmass-run";
/// Layout version of a run folder.
pub const RUN_VERSION: u32 = 1;

/// One trained unit: a model on one training set (`unit.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// Folder name under `units/`.
    pub id: String,
    /// The model's name.
    pub model: String,
    /// Network or GBDT.
    pub kind: ModelKind,
    /// The suites it was trained on.
    pub train_suites: Vec<String>,
    /// Input maps (networks).
    pub maps: Vec<String>,
    /// Scalars (a network's inputs, a GBDT's features).
    pub scalars: Vec<String>,
    /// Targets.
    pub targets: Vec<String>,
    /// Output columns, `<target>@<radius>`.
    pub columns: Vec<String>,
    /// Block-averaging factor of the maps.
    pub downsample: usize,
    /// The maps' scaling, fitted on the training rows.
    pub map_scaling: BTreeMap<String, MapScaling>,
    /// Whether a flow head was trained.
    pub flow: bool,
    /// Training projections.
    pub n_train: usize,
    /// Validation projections.
    pub n_validation: usize,
    /// Projections dropped for non-finite targets or scalars.
    pub n_dropped: usize,
    /// Trainable parameters of the network (0 for a GBDT).
    pub n_parameters: usize,
    /// Wall time of its training.
    pub seconds: f64,
}

/// `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// [`RUN_FORMAT`].
    pub format: String,
    /// [`RUN_VERSION`].
    pub version: u32,
    /// The experiment.
    pub experiment: ExperimentConfig,
    /// The dataset folder.
    pub dataset: PathBuf,
    /// The dataset's recipe hash.
    pub dataset_recipe_hash: String,
    /// The galmass build that trained.
    pub git_revision: String,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// Units, in training order.
    pub units: Vec<UnitRecord>,
    /// Every unit trained.
    pub complete: bool,
}

impl RunRecord {
    /// Reads `RUN/run.json`.
    pub fn read(run: &Path) -> Result<RunRecord> {
        let path = run.join("run.json");
        let text = std::fs::read_to_string(&path).map_err(|source| PipelineError::Io {
            path: path.clone(),
            context: "cannot read the run record (is this a `galmass train` folder?)".into(),
            source,
        })?;
        let record: RunRecord = serde_json::from_str(&text).map_err(|e| PipelineError::BadFile {
            path: path.clone(),
            field: "run.json".into(),
            reason: e.to_string(),
        })?;
        if record.format != RUN_FORMAT || record.version != RUN_VERSION {
            return Err(PipelineError::BadFile {
                path,
                field: "format".into(),
                reason: format!("{} v{}, expected {RUN_FORMAT} v{RUN_VERSION}", record.format, record.version),
            });
        }
        Ok(record)
    }
}

/// A unit's folder name.
pub fn unit_id(model: &str, suites: &[String]) -> String {
    let raw = format!("{model}__{}", suites.join("+"));
    raw.chars().map(|c| if c.is_ascii_alphanumeric() || "-_+".contains(c) { c } else { '-' }).collect()
}

/// The training sets of `model`: its `train_on`, or every suite of the dataset not held out.
pub fn training_sets(config: &ExperimentConfig, model: &ModelSpec, suites: &[String]) -> Vec<Vec<String>> {
    if model.train_on.is_empty() {
        vec![suites.iter().filter(|s| !config.held_out.contains(s)).cloned().collect()]
    } else {
        model.train_on.clone()
    }
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| PipelineError::invalid(path.display().to_string(), e.to_string()))?;
    write_bytes_atomic(path, format!("{text}\n").as_bytes())?;
    Ok(())
}

pub(crate) fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| PipelineError::Io {
        path: dir.to_path_buf(),
        context: "cannot create the folder".into(),
        source,
    })
}

/// The architecture of a network model fitted to the dataset: its preset with the maps and scalars switched to
/// the model's, each map's shape the dataset's (after downsampling) and one output per target column.
pub fn fitted_arch(
    spec: &ModelSpec,
    data: &ExperimentData,
    n_outputs: usize,
) -> Result<(ArchConfig, Vec<String>, Vec<String>)> {
    let preset = spec.arch.as_deref().unwrap_or_default();
    let mut arch = ArchConfig::preset(preset)?;
    // delosrios2023's networks take no scalars.
    let mut no_scalars = Vec::new();
    let (inputs, scalars, outputs) = match &mut arch {
        ArchConfig::Branched(c) => (&mut c.inputs, &mut c.scalars, &mut c.head.n_outputs),
        ArchConfig::MultiResnet(c) => (&mut c.inputs, &mut c.scalars, &mut c.n_outputs),
        ArchConfig::DelosRios(c) => (&mut c.inputs, &mut no_scalars, &mut c.n_outputs),
    };
    *outputs = n_outputs;
    let wanted_maps: Vec<String> = match &spec.inputs {
        Some(m) => m.clone(),
        None => inputs.iter().filter(|s| s.enabled).map(|s| s.name.clone()).collect(),
    };
    for name in &wanted_maps {
        if !inputs.iter().any(|s| &s.name == name) {
            return Err(PipelineError::invalid(
                format!("model {}", spec.name),
                format!(
                    "{preset} has no input map {name:?} (it has {:?})",
                    inputs.iter().map(|s| &s.name).collect::<Vec<_>>()
                ),
            ));
        }
        if !data.file.inputs().contains(name) {
            return Err(PipelineError::invalid(
                format!("model {}", spec.name),
                format!("the dataset has no input {name:?} (it has {:?})", data.file.inputs()),
            ));
        }
    }
    for s in inputs.iter_mut() {
        s.enabled = wanted_maps.contains(&s.name);
        if s.enabled {
            let shape = data.file.input_shape(&s.name)?;
            s.channels = shape.channels;
            s.height = shape.y / spec.downsample;
            s.width = shape.x / spec.downsample;
        }
    }
    let wanted_scalars: Vec<String> = match &spec.scalars {
        Some(v) => v.clone(),
        None => scalars.iter().filter(|s| s.enabled).map(|s| s.name.clone()).collect(),
    };
    for name in &wanted_scalars {
        if matches!(spec.arch.as_deref(), Some(a) if a.starts_with("delosrios2023")) {
            return Err(PipelineError::invalid(
                format!("model {}", spec.name),
                "delosrios2023's networks take no scalars",
            ));
        }
        if !scalars.iter().any(|s| &s.name == name) {
            scalars.push(galmass_models::arch::ScalarSpec::new(name));
        }
        if !data.file.scalars().contains(name) {
            return Err(PipelineError::invalid(
                format!("model {}", spec.name),
                format!("the dataset has no scalar {name:?} (it has {:?})", data.file.scalars()),
            ));
        }
    }
    for s in scalars.iter_mut() {
        s.enabled = wanted_scalars.contains(&s.name);
    }
    // The scalars tensor holds the enabled scalars in configuration order.
    let ordered_scalars: Vec<String> = scalars.iter().filter(|s| s.enabled).map(|s| s.name.clone()).collect();
    let ordered_maps: Vec<String> = inputs.iter().filter(|s| s.enabled).map(|s| s.name.clone()).collect();
    Ok((arch, ordered_maps, ordered_scalars))
}

/// Trains every unit of `config` on the dataset in `dataset_dir` into `out`, resuming: units whose `unit.json`
/// exists are kept. Returns the run record (also written to `out/run.json`).
pub fn train_run(config: &ExperimentConfig, config_text: &str, dataset_dir: &Path, out: &Path) -> Result<RunRecord> {
    let data = ExperimentData::open(dataset_dir)?;
    let provenance = data.file.provenance().clone();
    if provenance.paper != config.paper {
        tracing::warn!(
            "dataset {} follows {}, the experiment {}",
            dataset_dir.display(),
            provenance.paper,
            config.paper
        );
    }
    create_dir(&out.join("units"))?;
    write_bytes_atomic(&out.join("experiment.toml"), config_text.as_bytes())?;
    let device = ComputeDevice::preferred();
    let suites = data.suites();
    let mut record = RunRecord {
        format: RUN_FORMAT.into(),
        version: RUN_VERSION,
        experiment: config.clone(),
        dataset: dataset_dir.to_path_buf(),
        dataset_recipe_hash: provenance.recipe_hash.clone(),
        git_revision: crate::dataset::build::git_revision().to_string(),
        device: device.to_string(),
        units: Vec::new(),
        complete: false,
    };
    for spec in &config.models {
        for set in training_sets(config, spec, &suites) {
            if let Some(missing) = set.iter().find(|s| !suites.contains(s)) {
                return Err(PipelineError::invalid(
                    format!("model {}", spec.name),
                    format!("train_on names {missing:?}, not a suite of the dataset ({suites:?})"),
                ));
            }
            let id = unit_id(&spec.name, &set);
            let dir = out.join("units").join(&id);
            let unit_json = dir.join("unit.json");
            if let Ok(text) = std::fs::read_to_string(&unit_json) {
                if let Ok(unit) = serde_json::from_str::<UnitRecord>(&text) {
                    tracing::info!("unit {id}: already trained, kept");
                    record.units.push(unit);
                    continue;
                }
            }
            create_dir(&dir)?;
            let started = Instant::now();
            tracing::info!("unit {id}: training {} on {}", spec.name, set.join(", "));
            let mut unit = match spec.kind {
                ModelKind::Network => train_network(config, spec, &data, &set, &dir, device, &provenance.recipe_hash)?,
                ModelKind::Gbdt => train_gbdt(config, spec, &data, &set, &dir)?,
            };
            unit.id = id.clone();
            unit.seconds = started.elapsed().as_secs_f64();
            write_json(&unit_json, &unit)?;
            eprintln!("galmass train: unit {id} in {:.1} s ({} training projections)", unit.seconds, unit.n_train);
            record.units.push(unit);
            write_json(&out.join("run.json"), &record)?;
        }
    }
    record.complete = true;
    write_json(&out.join("run.json"), &record)?;
    Ok(record)
}

/// The training and validation rows of a unit (finite targets and scalars only) and how many were dropped.
fn unit_rows(
    data: &ExperimentData,
    set: &[String],
    targets: &[String],
    scalars: &[String],
) -> Result<(Vec<usize>, Vec<usize>, usize)> {
    let train_all = data.rows(set, &[Split::Train]);
    let valid_all = data.rows(set, &[Split::Validation]);
    let train = data.finite_rows(&train_all, targets, scalars)?;
    let valid = data.finite_rows(&valid_all, targets, scalars)?;
    let dropped = train_all.len() + valid_all.len() - train.len() - valid.len();
    if train.len() < 2 {
        return Err(PipelineError::invalid(
            format!("training set {}", set.join("+")),
            format!("{} training projections with finite targets, need at least 2", train.len()),
        ));
    }
    Ok((train, valid, dropped))
}

/// The input recipe a network checkpoint carries: the dataset's recipe hash, the maps, scalars, downsampling and
/// scaling, so that prediction refuses inputs made otherwise.
pub fn input_recipe(unit: &UnitRecord, dataset_recipe_hash: &str) -> InputRecipe {
    InputRecipe::new(
        unit.maps.clone(),
        unit.scalars.clone(),
        serde_json::json!({
            "dataset_recipe_hash": dataset_recipe_hash,
            "downsample": unit.downsample,
            "map_scaling": unit.map_scaling,
        }),
    )
}

fn train_network(
    config: &ExperimentConfig,
    spec: &ModelSpec,
    data: &ExperimentData,
    set: &[String],
    dir: &Path,
    device: ComputeDevice,
    recipe_hash: &str,
) -> Result<UnitRecord> {
    let (_, columns) = data.targets(&spec.targets, &[])?;
    let (arch, maps, scalars) = fitted_arch(spec, data, columns.len())?;
    let (train_rows, valid_rows, n_dropped) = unit_rows(data, set, &spec.targets, &scalars)?;
    let map_scaling = data.fit_scaling(&maps, spec.downsample, &train_rows)?;
    let train = data.source(&train_rows, &maps, &map_scaling, spec.downsample, &scalars, &spec.targets)?;
    let valid = (!valid_rows.is_empty())
        .then(|| data.source(&valid_rows, &maps, &map_scaling, spec.downsample, &scalars, &spec.targets))
        .transpose()?;
    let n_parameters = arch.n_parameters();
    let mut train_config = config.train_config(Some(spec));
    // Batch norm cannot train on a batch of one row: widen the batch until no epoch ends with one.
    while train_rows.len() > 1 && train_rows.len() % train_config.batch_size == 1 {
        train_config.batch_size += 1;
    }
    let mut net = Regressor::new(arch, &columns, device, config.seed)?;
    let history =
        net.fit(&train, valid.as_ref().map(|v| v as &dyn galmass_models::data::BatchSource), &train_config.check()?)?;
    history.write_csv(&dir.join("history.csv"))?;
    let mut unit = UnitRecord {
        id: String::new(),
        model: spec.name.clone(),
        kind: ModelKind::Network,
        train_suites: set.to_vec(),
        maps,
        scalars,
        targets: spec.targets.clone(),
        columns: columns.clone(),
        downsample: spec.downsample,
        map_scaling,
        flow: spec.flow,
        n_train: train_rows.len(),
        n_validation: valid_rows.len(),
        n_dropped,
        n_parameters,
        seconds: 0.0,
    };
    net.save(&dir.join("cnn"), Some(input_recipe(&unit, recipe_hash)), set, true)?;
    if spec.flow {
        // sarrato2025 §3: the MAF conditions on the CNN's 32 penultimate features of the training projections.
        let context = net.features(&train)?;
        let (theta, _) = data.targets(&spec.targets, &train_rows)?;
        let theta = theta.mapv(|v| v as f32);
        let names = ColumnNames {
            context: (0..context.ncols()).map(|j| format!("feature_{j}")).collect(),
            targets: columns.clone(),
        };
        let posterior_config = PosteriorConfig {
            maf: config.flow.maf(columns.len(), context.ncols()),
            ensemble: config.flow.ensemble,
            validation_fraction: 0.1,
            seed: config.seed,
        };
        let (posterior, histories) = Posterior::train(
            context.view(),
            theta.view(),
            &names,
            &posterior_config,
            &config.flow.train_config(config.seed),
            device,
        )?;
        posterior.save(&dir.join("flow"))?;
        if let Some(h) = histories.first() {
            h.write_csv(&dir.join("flow_history.csv"))?;
        }
    } else {
        unit.flow = false;
    }
    Ok(unit)
}

/// The history file of a GBDT of one column: `iteration,<dataset>_<metric>,...`.
fn gbdt_history_csv(history: &gbdt::EvalHistory) -> String {
    let curves = &history.curves;
    let mut text = String::from("iteration");
    for c in curves {
        text.push_str(&format!(",{}_{}", c.dataset, c.metric.name()));
    }
    text.push('\n');
    let n = curves.iter().map(|c| c.values.len()).max().unwrap_or(0);
    for i in 0..n {
        text.push_str(&(i + 1).to_string());
        for c in curves {
            text.push(',');
            if let Some(v) = c.values.get(i) {
                text.push_str(&v.to_string());
            }
        }
        text.push('\n');
    }
    text
}

/// The file-name-safe form of a target column.
pub fn column_slug(column: &str) -> String {
    column.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect()
}

fn train_gbdt(
    config: &ExperimentConfig,
    spec: &ModelSpec,
    data: &ExperimentData,
    set: &[String],
    dir: &Path,
) -> Result<UnitRecord> {
    let features = spec.scalars.clone().unwrap_or_default();
    let (train_rows, valid_rows, n_dropped) = unit_rows(data, set, &spec.targets, &features)?;
    let x_train = data.scalars(&features, &train_rows)?;
    let x_valid = data.scalars(&features, &valid_rows)?;
    let (y_train, columns) = data.targets(&spec.targets, &train_rows)?;
    let (y_valid, _) = data.targets(&spec.targets, &valid_rows)?;
    let mut params = config.gbdt_params(spec);
    params.metric = galmass_estimators::gbdt::MetricList(vec![Metric::L1.name().into(), Metric::L2.name().into()]);
    params.is_provide_training_metric = true;
    let valid_params = params.check()?;
    for (j, column) in columns.iter().enumerate() {
        let labels: Vec<f64> = y_train.column(j).to_vec();
        let valid_labels: Vec<f64> = y_valid.column(j).to_vec();
        let train_data = LabeledData::new(x_train.view(), &labels)?;
        let valid = if valid_rows.is_empty() { None } else { Some(LabeledData::new(x_valid.view(), &valid_labels)?) };
        let trained = gbdt::train(&valid_params, train_data, valid, Some(features.clone()))?;
        let slug = column_slug(column);
        write_bytes_atomic(&dir.join(format!("gbdt-{slug}.json")), trained.model.to_json()?.as_bytes())?;
        write_bytes_atomic(
            &dir.join(format!("gbdt-{slug}-history.csv")),
            gbdt_history_csv(&trained.history).as_bytes(),
        )?;
    }
    Ok(UnitRecord {
        id: String::new(),
        model: spec.name.clone(),
        kind: ModelKind::Gbdt,
        train_suites: set.to_vec(),
        maps: Vec::new(),
        scalars: features,
        targets: spec.targets.clone(),
        columns,
        downsample: 1,
        map_scaling: BTreeMap::new(),
        flow: false,
        n_train: train_rows.len(),
        n_validation: valid_rows.len(),
        n_dropped,
        n_parameters: 0,
        seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_ids_are_file_names() {
        let id = unit_id("cnn+maf", &["nihao-like".into(), "auriga-like".into()]);
        assert_eq!(id, "cnn+maf__nihao-like+auriga-like");
        assert_eq!(unit_id("a b/c", &["x".into()]), "a-b-c__x");
        assert_eq!(column_slug("log10_mtot@0.6"), "log10_mtot-0.6");
    }
}
