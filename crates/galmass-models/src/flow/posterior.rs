//! A trained conditional density `q(theta | context)` in the spirit of sbi's posterior objects: plain arrays in and
//! out, [`Posterior::sample`] and [`Posterior::log_prob`] in the original units, whatever flows sit behind it.
//!
//! # Training
//! [`Posterior::train`] splits the rows by the configuration's seed (a fraction `validation_fraction`, 0.1 as in
//! sbi, is held out for validation and early stopping), z-scores the targets and the context with statistics of
//! the training rows, and trains `ensemble` flows by negative log-likelihood through the crate's training loop
//! ([`TrainConfig`]: Adam, early stopping with the best state restored, gradient clipping). Member `k` draws its
//! weights and permutations from a seed derived from the configuration's seed and its batch order from one derived
//! from the training seed (member 0 uses both seeds as given); all members see the same split.
//!
//! # Ensembles
//! `K` members form an equal-weight mixture: `log q = logsumexp_k log q_k - ln K`; sample `i` of each context is
//! drawn from member `i mod K`, so the members share the samples equally and deterministically.
//!
//! # Units
//! Densities are in the original units of the targets: the flow's log-density in z-scored units minus the
//! targets' `sum log std` ([`ZScore::log_jacobian`]).
//!
//! # Checkpoints
//! [`Posterior::save`] writes one checkpoint (architecture `maf`, the [`PosteriorConfig`] as its configuration,
//! the context and target normalisations with their column names, the context's training range); member `k`'s
//! variables are named `member{k}.t{i}.…`. [`Posterior::load`] rebuilds from what the checkpoint says;
//! [`Posterior::load_as`] refuses a checkpoint of another configuration.
//!
//! ```
//! use galmass_models::flow::{ColumnNames, MafConfig, Posterior, PosteriorConfig};
//! use galmass_models::train::TrainConfig;
//! use galmass_models::ComputeDevice;
//! use ndarray::Array2;
//! // theta = 2 x + noise, one context column.
//! let x = Array2::from_shape_fn((200, 1), |(i, _)| (i as f32 / 100.0) - 1.0);
//! let theta = Array2::from_shape_fn((200, 1), |(i, _)| 2.0 * x[[i, 0]] + 0.1 * ((i * 7919 % 13) as f32 - 6.0) / 6.0);
//! let names = ColumnNames { context: vec!["x".into()], targets: vec!["theta".into()] };
//! let config = PosteriorConfig {
//!     maf: MafConfig { n_transforms: 2, hidden: 8, n_blocks: 1, ..MafConfig::sarrato2025(1, 1) },
//!     ..PosteriorConfig::sarrato2025(1, 1)
//! };
//! let train = TrainConfig { epochs: 3, learning_rate: 1e-3, ..TrainConfig::sarrato2025() };
//! let (posterior, history) =
//!     Posterior::train(x.view(), theta.view(), &names, &config, &train, ComputeDevice::Cpu).unwrap();
//! assert_eq!(history.len(), 1);
//! let samples = posterior.sample(x.view(), 10, 0).unwrap();
//! assert_eq!(samples.dim(), (200, 10, 1));
//! assert_eq!(posterior.log_prob(theta.view(), x.view()).unwrap().len(), 200);
//! ```

use std::path::Path;

use galmass_core::params::Params;
use ndarray::{s, Array1, Array2, Array3, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use super::maf::{Maf, MafConfig};
use crate::checkpoint::{self, CheckpointMeta};
use crate::data::{tensor, to_array2, ArraySource, TensorBatch};
use crate::device::ComputeDevice;
use crate::error::ModelError;
use crate::normalise::ZScore;
use crate::train::{fit, TrainConfig, TrainHistory, Trainable};

/// The checkpoint architecture of a posterior.
pub const ARCHITECTURE: &str = "maf";

/// Rows per libtorch call when evaluating or sampling.
const CHUNK_ROWS: usize = 1 << 16;

/// A posterior's flows and how they are trained (unchecked; see [`Params::check`]); stored as the checkpoint's
/// configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosteriorConfig {
    /// The shape of every member.
    pub maf: MafConfig,
    /// Members of the ensemble (1: a single flow).
    pub ensemble: usize,
    /// Fraction of the rows held out for validation and early stopping (sbi: 0.1).
    pub validation_fraction: f64,
    /// Seed of the split, the weights, the permutations and random degrees.
    pub seed: u64,
}

impl PosteriorConfig {
    /// sarrato2025's flow ([`MafConfig::sarrato2025`]), one member, sbi's validation fraction 0.1, seed 0.
    pub fn sarrato2025(n_dims: usize, n_context: usize) -> Self {
        Self { maf: MafConfig::sarrato2025(n_dims, n_context), ensemble: 1, validation_fraction: 0.1, seed: 0 }
    }
}

impl Params for PosteriorConfig {
    type Valid = PosteriorConfig;
    type Error = ModelError;

    /// The flow's shape ([`MafConfig`]'s check), `ensemble` in 1..=1024, `validation_fraction` in `[0, 1)`.
    fn check(&self) -> Result<PosteriorConfig, ModelError> {
        self.maf.check()?;
        if !(1..=1024).contains(&self.ensemble) {
            return Err(ModelError::InvalidConfig {
                field: "ensemble",
                reason: format!("{} members, expected 1 to 1024", self.ensemble),
            });
        }
        if !(self.validation_fraction.is_finite() && (0.0..1.0).contains(&self.validation_fraction)) {
            return Err(ModelError::InvalidConfig {
                field: "validation_fraction",
                reason: format!("{}, expected a number in [0, 1)", self.validation_fraction),
            });
        }
        Ok(self.clone())
    }
}

/// The names of the context and target columns, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnNames {
    /// Context columns.
    pub context: Vec<String>,
    /// Target (parameter) columns.
    pub targets: Vec<String>,
}

/// A trained ensemble of masked autoregressive flows with its normalisations.
#[derive(Debug)]
pub struct Posterior {
    config: PosteriorConfig,
    meta: CheckpointMeta,
    context_norm: ZScore,
    target_norm: ZScore,
    vs: nn::VarStore,
    members: Vec<Maf>,
}

/// The seed of member `k` from `seed` (member 0: `seed` itself; others: SplitMix64 of `seed` and `k`).
pub fn member_seed(seed: u64, k: usize) -> u64 {
    if k == 0 {
        return seed;
    }
    let mut z = seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Standard normal values by the Box–Muller transform.
fn normals(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
        let u2: f64 = rng.random::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * u2;
        out.push((r * t.cos()) as f32);
        out.push((r * t.sin()) as f32);
    }
    out.truncate(n);
    out
}

fn invalid(field: &'static str, reason: String) -> ModelError {
    ModelError::InvalidData { field, reason }
}

/// `rows` has `names.len()` columns of finite values.
fn check_rows(field: &'static str, rows: ArrayView2<'_, f32>, names: &[String]) -> Result<(), ModelError> {
    if rows.ncols() != names.len() {
        return Err(invalid(
            field,
            format!("{} columns, expected {} ({})", rows.ncols(), names.len(), names.join(", ")),
        ));
    }
    for (i, row) in rows.outer_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                field,
                format!("row {i}, column `{}` is {}, expected a finite number", names[j], row[j]),
            ));
        }
    }
    Ok(())
}

/// One member during training: its own variables and flow.
struct Member<'a> {
    vs: &'a nn::VarStore,
    maf: &'a Maf,
}

impl Trainable for Member<'_> {
    fn var_store(&self) -> &nn::VarStore {
        self.vs
    }

    fn loss(&self, batch: &TensorBatch, _train: bool) -> Result<Tensor, ModelError> {
        Ok(-self.maf.log_prob(&batch.targets, batch.scalars.as_ref()).mean(Kind::Float))
    }
}

/// Builds every member of `config` under `member{k}` in one store on `device`.
fn build_members(config: &PosteriorConfig, device: Device) -> Result<(nn::VarStore, Vec<Maf>), ModelError> {
    let valid = config.maf.check()?;
    let vs = nn::VarStore::new(device);
    let members = (0..config.ensemble)
        .map(|k| valid.build(&(vs.root() / format!("member{k}")), member_seed(config.seed, k)))
        .collect();
    Ok((vs, members))
}

impl Posterior {
    /// Trains `config.ensemble` flows of `theta` `(n, D)` given `context` `(n, C)` on `device` (see the module
    /// docs); returns the posterior and each member's loss curves.
    ///
    /// Errors: shapes that disagree with `config.maf` or `names`, fewer than 2 rows, non-finite values, a bad
    /// configuration, or a loss that stops being finite.
    pub fn train(
        context: ArrayView2<'_, f32>,
        theta: ArrayView2<'_, f32>,
        names: &ColumnNames,
        config: &PosteriorConfig,
        train_config: &TrainConfig,
        device: ComputeDevice,
    ) -> Result<(Posterior, Vec<TrainHistory>), ModelError> {
        let config = config.check()?;
        let train_config = train_config.check()?;
        let (n_dims, n_context) = (config.maf.n_dims, config.maf.n_context);
        if names.targets.len() != n_dims || names.context.len() != n_context {
            return Err(invalid(
                "names",
                format!(
                    "{} target and {} context names for a flow of {n_dims} dimensions and {n_context} context values",
                    names.targets.len(),
                    names.context.len()
                ),
            ));
        }
        check_rows("theta", theta, &names.targets)?;
        check_rows("context", context, &names.context)?;
        let n = theta.nrows();
        if context.nrows() != n {
            return Err(invalid("context", format!("{} rows, theta has {n}", context.nrows())));
        }
        if n < 2 {
            return Err(invalid("theta", format!("{n} rows, expected at least 2 to train")));
        }
        // The split: a seeded shuffle, the last `floor(fraction n)` rows (at most n - 1) for validation.
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(config.seed));
        let n_validation = ((config.validation_fraction * n as f64).floor() as usize).min(n - 1);
        let (train_rows, validation_rows) = order.split_at(n - n_validation);
        let context_train = context.select(Axis(0), train_rows);
        let theta_train = theta.select(Axis(0), train_rows);
        let context_norm = ZScore::fit(&names.context, &context_train)?;
        let target_norm = ZScore::fit(&names.targets, &theta_train)?;
        let train_source = ArraySource::tabular(context_norm.apply(&context_train)?, target_norm.apply(&theta_train)?)?;
        let validation_source = if validation_rows.is_empty() {
            None
        } else {
            let c = context.select(Axis(0), validation_rows);
            let t = theta.select(Axis(0), validation_rows);
            Some(ArraySource::tabular(context_norm.apply(&c)?, target_norm.apply(&t)?)?)
        };
        let device = device.to_tch();
        let (vs, members) = build_members(&config, device)?;
        let mut histories = Vec::with_capacity(config.ensemble);
        let combined = vs.variables();
        for k in 0..config.ensemble {
            // Each member trains in its own store (the loop's optimiser takes every variable of a store), then its
            // trained values are copied into the shared one.
            let own = nn::VarStore::new(device);
            let maf = config.maf.check()?.build(&(own.root() / format!("member{k}")), member_seed(config.seed, k));
            let member_train = TrainConfig { seed: member_seed(train_config.seed, k), ..train_config };
            let history = fit(
                &Member { vs: &own, maf: &maf },
                &train_source,
                validation_source.as_ref().map(|v| v as &dyn crate::data::BatchSource),
                &member_train,
            )?;
            histories.push(history);
            for (name, value) in own.variables() {
                let target = combined.get(&name).ok_or_else(|| ModelError::Torch(format!("no variable {name}")))?;
                let mut target = target.shallow_clone();
                tch::no_grad(|| target.f_copy_(&value))?;
            }
        }
        let mut meta = CheckpointMeta::new(ARCHITECTURE, config_json(&config)?);
        meta.input_normalisation = Some(context_norm.clone());
        meta.target_normalisation = Some(target_norm.clone());
        for (j, name) in names.context.iter().enumerate() {
            let col = context_train.column(j);
            let lo = col.iter().fold(f64::INFINITY, |a, &v| a.min(f64::from(v)));
            let hi = col.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(f64::from(v)));
            meta.training_domain.insert(name.clone(), [lo, hi]);
        }
        meta.trained_on = ComputeDevice::from_tch(device).to_string();
        meta.extra = serde_json::json!({
            "members": config.ensemble,
            "training_rows": train_rows.len(),
            "validation_rows": validation_rows.len(),
            "train": train_config,
        });
        let posterior = Posterior { config, meta, context_norm, target_norm, vs, members };
        Ok((posterior, histories))
    }

    /// The configuration.
    pub fn config(&self) -> &PosteriorConfig {
        &self.config
    }

    /// The checkpoint's provenance (normalisations, training domain, device).
    pub fn meta(&self) -> &CheckpointMeta {
        &self.meta
    }

    /// Context column names, in order.
    pub fn context_names(&self) -> &[String] {
        &self.context_norm.names
    }

    /// Target column names, in order.
    pub fn target_names(&self) -> &[String] {
        &self.target_norm.names
    }

    /// Members of the ensemble.
    pub fn n_members(&self) -> usize {
        self.members.len()
    }

    fn check_context(&self, context: ArrayView2<'_, f32>) -> Result<Array2<f32>, ModelError> {
        check_rows("context", context, &self.context_norm.names)?;
        self.context_norm.apply(&context.to_owned())
    }

    /// Every member's log-density `(n, K)` of `theta` `(n, D)` given `context` `(n, C)`, in the original units.
    pub fn log_prob_members(
        &self,
        theta: ArrayView2<'_, f32>,
        context: ArrayView2<'_, f32>,
    ) -> Result<Array2<f64>, ModelError> {
        check_rows("theta", theta, &self.target_norm.names)?;
        let context = self.check_context(context)?;
        if context.nrows() != theta.nrows() {
            return Err(invalid("context", format!("{} rows, theta has {}", context.nrows(), theta.nrows())));
        }
        let theta = self.target_norm.apply(&theta.to_owned())?;
        let jacobian = self.target_norm.log_jacobian();
        let device = self.vs.device();
        let mut out = Array2::zeros((theta.nrows(), self.members.len()));
        let mut start = 0;
        while start < theta.nrows() {
            let end = (start + CHUNK_ROWS).min(theta.nrows());
            let t = as_tensor(theta.slice(s![start..end, ..]), device);
            let c = as_tensor(context.slice(s![start..end, ..]), device);
            for (k, maf) in self.members.iter().enumerate() {
                let lp = tch::no_grad(|| maf.log_prob(&t, Some(&c))).to_kind(Kind::Double).to_device(Device::Cpu);
                let mut values = vec![0f64; end - start];
                lp.f_copy_data(&mut values, end - start)?;
                for (i, v) in values.into_iter().enumerate() {
                    out[[start + i, k]] = v - jacobian;
                }
            }
            start = end;
        }
        Ok(out)
    }

    /// `log q(theta | context)` `(n,)` of `theta` `(n, D)` given `context` `(n, C)` in the original units; an
    /// ensemble's is the equal-weight mixture's (`logsumexp - ln K`).
    pub fn log_prob(
        &self,
        theta: ArrayView2<'_, f32>,
        context: ArrayView2<'_, f32>,
    ) -> Result<Array1<f64>, ModelError> {
        let members = self.log_prob_members(theta, context)?;
        let ln_k = (members.ncols() as f64).ln();
        Ok(members.map_axis(Axis(1), |row| {
            let max = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            if !max.is_finite() {
                return max;
            }
            max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln() - ln_k
        }))
    }

    /// `n` samples `(m, n, D)` of theta for each of the `m` rows of `context` `(m, C)`, in the original units,
    /// deterministic given `seed`.
    pub fn sample(&self, context: ArrayView2<'_, f32>, n: usize, seed: u64) -> Result<Array3<f32>, ModelError> {
        let context = self.check_context(context)?;
        let (m, d, n_members) = (context.nrows(), self.config.maf.n_dims, self.members.len());
        let device = self.vs.device();
        let mut out = Array3::zeros((m, n, d));
        for (k, maf) in self.members.iter().enumerate() {
            let slots: Vec<usize> = (k..n).step_by(n_members).collect();
            if slots.is_empty() {
                continue;
            }
            let mut rng = ChaCha8Rng::seed_from_u64(member_seed(seed, k));
            let per_chunk = (CHUNK_ROWS / slots.len()).max(1);
            let mut start = 0;
            while start < m {
                let end = (start + per_chunk).min(m);
                let rows = (end - start) * slots.len();
                let c = as_tensor(context.slice(s![start..end, ..]), device).repeat_interleave_self_int(
                    slots.len() as i64,
                    0,
                    None,
                );
                let noise = tensor(&normals(&mut rng, rows * d), &[rows, d], device);
                let z = to_array2(&maf.sample_from_noise(&noise, Some(&c)))?;
                let x = self.target_norm.invert(&z)?;
                for (r, row) in x.outer_iter().enumerate() {
                    let (j, slot) = (start + r / slots.len(), slots[r % slots.len()]);
                    out.slice_mut(s![j, slot, ..]).assign(&row);
                }
                start = end;
            }
        }
        Ok(out)
    }

    /// Writes the checkpoint into the folder `dir` (see the module docs).
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        checkpoint::save(dir, &self.vs, &self.meta)
    }

    /// Loads the checkpoint in `dir` onto `device`, with the configuration it was trained with.
    pub fn load(dir: &Path, device: ComputeDevice) -> Result<Posterior, ModelError> {
        let meta = checkpoint::read_meta(dir)?;
        let path = dir.join(checkpoint::META_FILE).display().to_string();
        if meta.architecture != ARCHITECTURE {
            return Err(ModelError::Checkpoint {
                path,
                reason: format!("holds a {:?}, not a {ARCHITECTURE:?}", meta.architecture),
            });
        }
        let config: PosteriorConfig = serde_json::from_value(meta.config.clone())
            .map_err(|e| ModelError::Checkpoint { path, reason: format!("not a flow configuration: {e}") })?;
        Self::load_as(dir, &config, device)
    }

    /// Loads the checkpoint in `dir` onto `device` into flows of `config`; refuses a checkpoint of another
    /// configuration, architecture or set of variables.
    pub fn load_as(dir: &Path, config: &PosteriorConfig, device: ComputeDevice) -> Result<Posterior, ModelError> {
        let config = config.check()?;
        let (vs, members) = build_members(&config, device.to_tch())?;
        let meta = checkpoint::load(dir, &vs, ARCHITECTURE, &config_json(&config)?, None)?;
        let path = dir.join(checkpoint::META_FILE).display().to_string();
        let missing = |what: &str| ModelError::Checkpoint { path: path.clone(), reason: format!("no {what}") };
        let context_norm = meta.input_normalisation.clone().ok_or_else(|| missing("context normalisation"))?;
        let target_norm = meta.target_normalisation.clone().ok_or_else(|| missing("target normalisation"))?;
        if context_norm.names.len() != config.maf.n_context || target_norm.names.len() != config.maf.n_dims {
            return Err(ModelError::Checkpoint {
                path,
                reason: format!(
                    "normalisations of {} context and {} target columns for a flow of {} and {}",
                    context_norm.names.len(),
                    target_norm.names.len(),
                    config.maf.n_context,
                    config.maf.n_dims
                ),
            });
        }
        Ok(Posterior { config, meta, context_norm, target_norm, vs, members })
    }
}

fn config_json(config: &PosteriorConfig) -> Result<serde_json::Value, ModelError> {
    serde_json::to_value(config).map_err(|e| ModelError::InvalidConfig { field: "config", reason: e.to_string() })
}

fn as_tensor(rows: ArrayView2<'_, f32>, device: Device) -> Tensor {
    let owned = rows.as_standard_layout();
    tensor(owned.as_slice().unwrap_or(&[]), &[rows.nrows(), rows.ncols()], device)
}

/// Every variable's values by name, sorted (tests compare weights).
#[cfg(test)]
pub(crate) fn variable_values(p: &Posterior) -> Vec<(String, Vec<f32>)> {
    let mut v: Vec<(String, Vec<f32>)> =
        p.vs.variables()
            .into_iter()
            .map(|(k, t)| {
                let t = t.to_device(Device::Cpu).flatten(0, -1);
                let mut out = vec![0f32; t.numel()];
                t.copy_data(&mut out, t.numel());
                (k, out)
            })
            .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}
