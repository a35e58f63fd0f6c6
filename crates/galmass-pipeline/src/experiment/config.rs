//! Experiment configurations: `configs/experiments/{chu2024,delosrios2023,sarrato2025,exposito2026}{,-medium,-quick}.toml`.
//!
//! An experiment names the models a paper trains on a dataset (`galmass dataset build`) and how they are evaluated:
//! each model is a network (one of `galmass_models::arch::ArchConfig::PRESETS`, its maps and scalars switched to
//! the ones named, with a masked-autoregressive-flow posterior head on its penultimate features) or a GBDT on scalar
//! columns (chu2024 §2.3), trained on one or more sets of suites (the cross-suite matrix: one trained *unit* per
//! model and training set) and tested on every suite. Unknown keys are errors; every default is named below.
//!
//! ```
//! let text = r#"
//! name = "tiny"
//! paper = "sarrato2025"
//! [train]
//! epochs = 2
//! [[models]]
//! name = "cnn+maf"
//! arch = "sarrato2025"
//! targets = ["log10_mtot"]
//! "#;
//! let config = galmass_pipeline::experiment::config::ExperimentConfig::from_toml(text, "tiny.toml").unwrap();
//! assert_eq!(config.models[0].flow, true);
//! assert_eq!(config.train_config(None).epochs, 2);
//! ```

use galmass_estimators::gbdt::GbdtParams;
use galmass_models::flow::MafConfig;
use galmass_models::train::{Schedule, TrainConfig};
use serde::{Deserialize, Serialize};

use crate::PipelineError;

/// Default seed of an experiment (weights, batch order, posterior samples, bootstrap).
pub const DEFAULT_SEED: u64 = 1;
/// Default bootstrap replicates of every band (over galaxies).
pub const DEFAULT_BOOTSTRAP: usize = 1000;
/// Default posterior samples drawn per test projection.
pub const DEFAULT_POSTERIOR_SAMPLES: usize = 500;

/// One experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Name of the experiment (the report's title).
    pub name: String,
    /// Paper whose experiments these are: `chu2024`, `delosrios2023`, `sarrato2025`, `exposito2026`.
    pub paper: String,
    /// Seed of everything random in training and evaluation (default [`DEFAULT_SEED`]).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Suites never trained on unless a model's `train_on` names them (sarrato2025: `fire-like`).
    #[serde(default)]
    pub held_out: Vec<String>,
    /// Network training settings shared by the models (each model may override them).
    #[serde(default)]
    pub train: TrainSettings,
    /// The flow head's settings.
    #[serde(default)]
    pub flow: FlowSettings,
    /// How the evaluation measures.
    #[serde(default)]
    pub evaluation: EvaluationSettings,
    /// The models.
    pub models: Vec<ModelSpec>,
}

fn default_seed() -> u64 {
    DEFAULT_SEED
}

/// What kind of model a [`ModelSpec`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelKind {
    /// A network of `galmass_models::arch` (the default).
    #[default]
    Network,
    /// A gradient-boosted decision-tree ensemble on scalar columns (`galmass_estimators::gbdt`).
    Gbdt,
}

/// One model of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The name in the report and in `summary.json`'s `model` (e.g. `cnn+maf`, `star`, `gbdt`).
    pub name: String,
    /// Network (default) or GBDT.
    #[serde(default)]
    pub kind: ModelKind,
    /// The network's preset (`galmass_models::arch::ArchConfig::PRESETS`); networks only.
    #[serde(default)]
    pub arch: Option<String>,
    /// The input maps the network uses (every other map of the preset switched off); default: the preset's
    /// enabled maps. Each must be in the dataset.
    #[serde(default)]
    pub inputs: Option<Vec<String>>,
    /// The scalars (a network's scalar inputs, or a GBDT's features); default: a network's preset scalars, none
    /// for a GBDT (which then needs them).
    #[serde(default)]
    pub scalars: Option<Vec<String>>,
    /// The targets (`targets/<name>` of the dataset; every radius of each is one output).
    pub targets: Vec<String>,
    /// Training sets: each a list of suites; one trained unit per set (default: one set, every suite of the
    /// dataset not in `held_out`).
    #[serde(default)]
    pub train_on: Vec<Vec<String>>,
    /// A flow posterior head on the penultimate features (networks; default true).
    #[serde(default = "yes")]
    pub flow: bool,
    /// Block-average the maps by this integer factor before training and testing (chu2024's resolution test;
    /// default 1: as stored).
    #[serde(default = "one")]
    pub downsample: usize,
    /// SmoothGrad sensitivity maps of a few test projections (delosrios2023 §4; default false).
    #[serde(default)]
    pub smoothgrad: bool,
    /// Training settings of this model, over the experiment's.
    #[serde(default)]
    pub train: Option<TrainSettings>,
    /// Boosting rounds of a GBDT (default chu2024's 500, Table 3).
    #[serde(default)]
    pub num_boost_round: Option<usize>,
    /// Fewest rows in a GBDT leaf (default chu2024's 20, Table 3).
    #[serde(default)]
    pub min_data_in_leaf: Option<usize>,
}

fn yes() -> bool {
    true
}

fn one() -> usize {
    1
}

/// Network training settings; every unset field keeps sarrato2025's recipe
/// (`galmass_models::train::TrainConfig::sarrato2025`: Adam, lr 1e-4, batch 32, 500 epochs, patience 20, clip 5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSettings {
    /// Most epochs.
    pub epochs: Option<usize>,
    /// Rows per batch.
    pub batch_size: Option<usize>,
    /// Adam's learning rate.
    pub learning_rate: Option<f64>,
    /// Adam's weight decay.
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule.
    pub schedule: Option<Schedule>,
    /// Early-stopping patience in epochs (0: none).
    pub early_stopping_patience: Option<usize>,
}

impl TrainSettings {
    fn over(self, base: TrainConfig) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs.unwrap_or(base.epochs),
            batch_size: self.batch_size.unwrap_or(base.batch_size),
            learning_rate: self.learning_rate.unwrap_or(base.learning_rate),
            weight_decay: self.weight_decay.unwrap_or(base.weight_decay),
            schedule: self.schedule.unwrap_or(base.schedule),
            early_stopping_patience: match self.early_stopping_patience {
                Some(0) => None,
                Some(p) => Some(p),
                None => base.early_stopping_patience,
            },
            ..base
        }
    }

    fn merged(self, over: TrainSettings) -> TrainSettings {
        TrainSettings {
            epochs: over.epochs.or(self.epochs),
            batch_size: over.batch_size.or(self.batch_size),
            learning_rate: over.learning_rate.or(self.learning_rate),
            weight_decay: over.weight_decay.or(self.weight_decay),
            schedule: over.schedule.or(self.schedule),
            early_stopping_patience: over.early_stopping_patience.or(self.early_stopping_patience),
        }
    }
}

/// The flow head (sarrato2025 §3: 5 MADE transforms of 50 hidden units, Adam lr 1e-4, batch 32, patience 20).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FlowSettings {
    /// MADE transforms (sarrato2025: 5).
    pub n_transforms: usize,
    /// Hidden units per MADE layer (sarrato2025: 50).
    pub hidden: usize,
    /// Flows in the ensemble (default 1).
    pub ensemble: usize,
    /// Most epochs (sarrato2025 recipe: 500 with early stopping).
    pub epochs: usize,
    /// Rows per batch (sarrato2025: 32).
    pub batch_size: usize,
    /// Adam's learning rate (sarrato2025: 1e-4).
    pub learning_rate: f64,
    /// Early-stopping patience (sbi: 20; 0: none).
    pub early_stopping_patience: usize,
}

impl Default for FlowSettings {
    fn default() -> Self {
        Self {
            n_transforms: 5,
            hidden: 50,
            ensemble: 1,
            epochs: 500,
            batch_size: 32,
            learning_rate: 1e-4,
            early_stopping_patience: 20,
        }
    }
}

impl FlowSettings {
    /// The flow's shape for `n_dims` targets given `n_context` features.
    pub fn maf(&self, n_dims: usize, n_context: usize) -> MafConfig {
        MafConfig { n_transforms: self.n_transforms, hidden: self.hidden, ..MafConfig::sarrato2025(n_dims, n_context) }
    }

    /// The flow's training loop settings, seeded.
    pub fn train_config(&self, seed: u64) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            early_stopping_patience: (self.early_stopping_patience > 0).then_some(self.early_stopping_patience),
            seed,
            ..TrainConfig::sarrato2025()
        }
    }
}

/// How the evaluation measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluationSettings {
    /// Bootstrap replicates of every band, resampling galaxies (default [`DEFAULT_BOOTSTRAP`]).
    pub bootstrap: usize,
    /// Posterior samples per test projection (default [`DEFAULT_POSTERIOR_SAMPLES`]).
    pub posterior_samples: usize,
    /// Test projections whose maps are drawn as examples (default 3).
    pub example_maps: usize,
    /// Subsets of each test set measured on their own as well (exposito2026 §4.3-4.4; default none).
    pub subsets: Vec<Subset>,
    /// delosrios2023 §5's Tully-Fisher baseline (Hall et al. 2012): needs the dataset targets `log10_mstar` (its
    /// last radius taken as the whole galaxy) and `log10_mtot` at 2 R_hsm (default false).
    pub tully_fisher: bool,
    /// delosrios2023 §5.6's rotation-curve baseline on the test projections' HI moment maps (and the g-band frames
    /// with the `distance_mpc` scalar, for the stellar disc; [`super::rc_baseline`]): default false.
    pub rotation_curve: bool,
    /// Test projections per suite the baseline fits, evenly spaced through the test rows (0: all; default 60).
    pub rotation_curve_projections: usize,
    /// MCMC steps per walker of each decomposition, the first quarter discarded (default 6000).
    pub rotation_curve_steps: usize,
}

/// A way of cutting a test set into subsets, each measured on its own (records with `subset` set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subset {
    /// Inclination bins 0-30, 30-60, 60-90 degrees (datasets whose lines of sight are an inclination series).
    Inclination,
    /// Below and above the test set's median true mass at the middle radius of the first target.
    Mass,
    /// Rotation- (v_cold / sigma_cold > 1) or dispersion-supported gas, from the dataset's scalars.
    KinematicSupport,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        Self {
            bootstrap: DEFAULT_BOOTSTRAP,
            posterior_samples: DEFAULT_POSTERIOR_SAMPLES,
            example_maps: 3,
            subsets: Vec::new(),
            tully_fisher: false,
            rotation_curve: false,
            rotation_curve_projections: 60,
            rotation_curve_steps: 6000,
        }
    }
}

/// The papers an experiment may name.
pub const PAPERS: [&str; 4] = ["chu2024", "delosrios2023", "sarrato2025", "exposito2026"];

impl ExperimentConfig {
    /// Parses and checks a TOML experiment; `origin` (the file) names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, PipelineError> {
        let config: ExperimentConfig =
            toml::from_str(text).map_err(|e| PipelineError::invalid(origin.to_string(), e.to_string()))?;
        config.check().map_err(|reason| PipelineError::invalid(origin.to_string(), reason))?;
        Ok(config)
    }

    /// Reads and checks an experiment file.
    pub fn read(path: &std::path::Path) -> Result<Self, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Io {
            path: path.to_path_buf(),
            context: "cannot read the experiment config".into(),
            source,
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    fn check(&self) -> Result<(), String> {
        if !PAPERS.contains(&self.paper.as_str()) {
            return Err(format!("paper {:?}: expected one of {}", self.paper, PAPERS.join(", ")));
        }
        if self.models.is_empty() {
            return Err("no [[models]]".into());
        }
        if self.evaluation.rotation_curve && self.evaluation.rotation_curve_steps == 0 {
            return Err("evaluation.rotation_curve_steps: the decomposition's chains need at least 1 step".into());
        }
        for (i, m) in self.models.iter().enumerate() {
            if m.name.is_empty() || self.models[..i].iter().any(|o| o.name == m.name) {
                return Err(format!("models[{i}]: empty or repeated name {:?}", m.name));
            }
            if m.targets.is_empty() {
                return Err(format!("model {}: no targets", m.name));
            }
            if m.downsample == 0 {
                return Err(format!("model {}: downsample must be at least 1", m.name));
            }
            match m.kind {
                ModelKind::Network => {
                    let Some(arch) = &m.arch else { return Err(format!("model {}: a network needs `arch`", m.name)) };
                    if !galmass_models::arch::ArchConfig::PRESETS.contains(&arch.as_str()) {
                        return Err(format!(
                            "model {}: arch {arch:?} is not one of {}",
                            m.name,
                            galmass_models::arch::ArchConfig::PRESETS.join(", ")
                        ));
                    }
                }
                ModelKind::Gbdt => {
                    if m.scalars.as_ref().is_none_or(Vec::is_empty) {
                        return Err(format!("model {}: a GBDT needs `scalars` (its features)", m.name));
                    }
                    if m.arch.is_some() || m.inputs.is_some() {
                        return Err(format!("model {}: a GBDT takes no `arch` or `inputs`", m.name));
                    }
                }
            }
            if m.train_on.iter().any(Vec::is_empty) {
                return Err(format!("model {}: an empty training set in train_on", m.name));
            }
        }
        let f = &self.flow;
        if f.n_transforms == 0 || f.hidden == 0 || f.ensemble == 0 || f.epochs == 0 || f.batch_size == 0 {
            return Err("flow: n_transforms, hidden, ensemble, epochs and batch_size must be at least 1".into());
        }
        if !(f.learning_rate.is_finite() && f.learning_rate > 0.0) {
            return Err(format!("flow.learning_rate {}: must be positive", f.learning_rate));
        }
        let e = &self.evaluation;
        if e.bootstrap == 0 || e.posterior_samples < 2 {
            return Err("evaluation: bootstrap >= 1 and posterior_samples >= 2".into());
        }
        Ok(())
    }

    /// The network training settings of `model` (the experiment's, then the model's), seeded by the experiment.
    pub fn train_config(&self, model: Option<&ModelSpec>) -> TrainConfig {
        let settings = match model.and_then(|m| m.train) {
            Some(over) => self.train.merged(over),
            None => self.train,
        };
        TrainConfig { seed: self.seed, progress: true, ..settings.over(TrainConfig::sarrato2025()) }
    }

    /// The GBDT parameters of `model`: chu2024's (Table 3), with its boosting rounds.
    pub fn gbdt_params(&self, model: &ModelSpec) -> GbdtParams {
        let base = GbdtParams::chu2024();
        GbdtParams {
            num_boost_round: model.num_boost_round.unwrap_or(base.num_boost_round),
            min_data_in_leaf: model.min_data_in_leaf.unwrap_or(base.min_data_in_leaf),
            seed: self.seed,
            ..base
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "name = \"t\"\npaper = \"sarrato2025\"\n";

    #[test]
    fn unknown_keys_and_bad_models_are_errors() {
        let ok = format!("{BASE}[[models]]\nname = \"a\"\narch = \"sarrato2025\"\ntargets = [\"t\"]\n");
        assert!(ExperimentConfig::from_toml(&ok, "x").is_ok());
        assert!(ExperimentConfig::from_toml(&format!("{ok}colour = 1\n"), "x").is_err());
        let no_arch = format!("{BASE}[[models]]\nname = \"a\"\ntargets = [\"t\"]\n");
        assert!(ExperimentConfig::from_toml(&no_arch, "x").unwrap_err().to_string().contains("arch"));
        let gbdt = format!("{BASE}[[models]]\nname = \"g\"\nkind = \"gbdt\"\ntargets = [\"t\"]\n");
        assert!(ExperimentConfig::from_toml(&gbdt, "x").unwrap_err().to_string().contains("scalars"));
        let paper = ok.replace("sarrato2025\"\n[", "nobody\"\n[");
        assert!(ExperimentConfig::from_toml(&paper, "x").is_err());
        let rc = format!("{ok}[evaluation]\nrotation_curve = true\nrotation_curve_steps = 0\n");
        assert!(ExperimentConfig::from_toml(&rc, "x").unwrap_err().to_string().contains("rotation_curve_steps"));
        assert!(ExperimentConfig::from_toml(&rc.replace("steps = 0", "steps = 10"), "x").is_ok());
    }

    #[test]
    fn model_settings_override_the_experiment() {
        let text = format!(
            "{BASE}[train]\nepochs = 3\nlearning_rate = 0.01\n[[models]]\nname = \"a\"\narch = \"sarrato2025\"\n\
             targets = [\"t\"]\ntrain = {{ epochs = 7, early_stopping_patience = 0 }}\n"
        );
        let c = ExperimentConfig::from_toml(&text, "x").unwrap();
        let t = c.train_config(Some(&c.models[0]));
        assert_eq!((t.epochs, t.learning_rate, t.early_stopping_patience), (7, 0.01, None));
        assert_eq!(c.train_config(None).epochs, 3);
        assert_eq!(c.train_config(None).batch_size, 32);
    }
}
