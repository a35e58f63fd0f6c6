//! A trained network: one of the papers' architectures ([`crate::arch`]) with its z-scored targets and scalars,
//! trained by mean squared error through the shared loop ([`crate::train`]), predicting in the targets' units from
//! plain arrays, saved and loaded as a checkpoint with its provenance ([`crate::checkpoint`]). Also: the penultimate
//! features a flow conditions on (sarrato2025's CNN + MAF), bootstrap ensembles (delosrios2023's re-trainings on
//! resampled training sets) and SmoothGrad sensitivity maps (Smilkov et al. 2017, delosrios2023 §4).
//!
//! ```no_run
//! use galmass_models::arch::ArchConfig;
//! use galmass_models::data::ArraySource;
//! use galmass_models::regressor::Regressor;
//! use galmass_models::train::TrainConfig;
//! use galmass_models::ComputeDevice;
//! # fn source() -> ArraySource { unimplemented!() }
//! let (train, validation) = (source(), source());
//! let mut net = Regressor::new(ArchConfig::preset("sarrato2025")?, &["log_m_0.6".into()], ComputeDevice::preferred(), 1)?;
//! let history = net.fit(&train, Some(&validation), &TrainConfig::sarrato2025())?;
//! let predictions = net.predict(&validation)?;
//! net.save("run/cnn".as_ref(), None, &["nihao-like".into()], true)?;
//! # Ok::<(), galmass_models::ModelError>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::{Array2, ArrayD, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Kind, Tensor};

use crate::arch::{ArchConfig, MultiInputNet, NetInputs, Network};
use crate::checkpoint::{self, CheckpointMeta, InputRecipe};
use crate::data::{tensor, to_array2, to_arrayd, ArraySource, Batch, BatchSource, TensorBatch};
use crate::error::ModelError;
use crate::normalise::ZScore;
use crate::train::{fit, TrainConfig, TrainHistory, Trainable};
use crate::ComputeDevice;

/// Rows per forward pass when predicting.
const PREDICT_BATCH: usize = 256;

/// A network with the normalisations of its targets and scalars.
#[derive(Debug)]
pub struct Regressor {
    vs: nn::VarStore,
    net: Network,
    arch: ArchConfig,
    target_names: Vec<String>,
    target_norm: Option<ZScore>,
    scalar_norm: Option<ZScore>,
    augment_seed: std::cell::Cell<u64>,
}

impl Regressor {
    /// A freshly initialised network (seed `seed`) on `device`, predicting `target_names`.
    pub fn new(
        arch: ArchConfig,
        target_names: &[String],
        device: ComputeDevice,
        seed: u64,
    ) -> Result<Self, ModelError> {
        tch::manual_seed(seed as i64);
        let vs = nn::VarStore::new(device.to_tch());
        let net = arch.build(&(vs.root() / "net"))?;
        if net.n_outputs() != target_names.len() {
            return Err(ModelError::InvalidConfig {
                field: "n_outputs",
                reason: format!("the network has {} outputs for {} targets", net.n_outputs(), target_names.len()),
            });
        }
        Ok(Self {
            vs,
            net,
            arch,
            target_names: target_names.to_vec(),
            target_norm: None,
            scalar_norm: None,
            augment_seed: std::cell::Cell::new(seed),
        })
    }

    /// The architecture.
    pub fn arch(&self) -> &ArchConfig {
        &self.arch
    }

    /// The device the weights live on.
    pub fn device(&self) -> ComputeDevice {
        ComputeDevice::from_tch(self.vs.device())
    }

    /// Fits the normalisations on `train`, then trains (MSE on z-scored targets).
    pub fn fit(
        &mut self,
        train: &dyn BatchSource,
        validation: Option<&dyn BatchSource>,
        config: &TrainConfig,
    ) -> Result<TrainHistory, ModelError> {
        let all: Vec<usize> = (0..train.len()).collect();
        let mut targets = Vec::new();
        let mut scalars = Vec::new();
        for chunk in all.chunks(4096) {
            let b = train.batch(chunk)?;
            targets.push(b.targets);
            if let Some(s) = b.scalars {
                scalars.push(s);
            }
        }
        let stack = |parts: &[Array2<f32>]| -> Result<Array2<f32>, ModelError> {
            let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
            ndarray::concatenate(Axis(0), &views)
                .map_err(|e| ModelError::InvalidData { field: "train", reason: e.to_string() })
        };
        if targets.is_empty() {
            return Err(ModelError::InvalidData { field: "train", reason: "no training rows".into() });
        }
        self.target_norm = Some(ZScore::fit(&self.target_names, &stack(&targets)?)?);
        let scalar_names: Vec<String> =
            self.net.scalar_specs().iter().filter(|s| s.enabled).map(|s| s.name.clone()).collect();
        self.scalar_norm = if scalars.is_empty() { None } else { Some(ZScore::fit(&scalar_names, &stack(&scalars)?)?) };
        self.augment_seed.set(config.seed);
        fit(self, train, validation, config)
    }

    /// The network's inputs for `batch` on the device: the enabled maps, the z-scored scalars.
    fn net_inputs(&self, batch: &TensorBatch) -> Result<NetInputs, ModelError> {
        let mut inputs = NetInputs::new();
        for spec in self.net.input_specs().iter().filter(|s| s.enabled) {
            let map = batch.inputs.get(&spec.name).ok_or_else(|| ModelError::InvalidData {
                field: "inputs",
                reason: format!("the network needs the map {:?}, the batch has {:?}", spec.name, batch.inputs.keys()),
            })?;
            inputs = inputs.with_map(&spec.name, map.shallow_clone());
        }
        if let (Some(s), Some(norm)) = (&batch.scalars, &self.scalar_norm) {
            inputs = inputs.with_scalars(zscore(s, norm));
        } else if let Some(s) = &batch.scalars {
            if self.net.scalar_specs().iter().any(|s| s.enabled) {
                inputs = inputs.with_scalars(s.shallow_clone());
            }
        }
        Ok(inputs)
    }

    fn norm(&self) -> Result<&ZScore, ModelError> {
        self.target_norm.as_ref().ok_or(ModelError::InvalidData {
            field: "regressor",
            reason: "not trained: fit it or load a checkpoint first".into(),
        })
    }

    /// Predictions for every row of `source`, in the targets' units.
    pub fn predict(&self, source: &dyn BatchSource) -> Result<Array2<f32>, ModelError> {
        let norm = self.norm()?.clone();
        let z = self.forward_rows(source, |net, inputs| net.forward_t(inputs, false))?;
        norm.invert(&z)
    }

    /// The penultimate features of every row of `source` (the context of a flow).
    pub fn features(&self, source: &dyn BatchSource) -> Result<Array2<f32>, ModelError> {
        self.forward_rows(source, |net, inputs| net.forward_features_t(inputs, false))
    }

    fn forward_rows(
        &self,
        source: &dyn BatchSource,
        f: impl Fn(&Network, &NetInputs) -> Result<Tensor, ModelError>,
    ) -> Result<Array2<f32>, ModelError> {
        let all: Vec<usize> = (0..source.len()).collect();
        let mut parts = Vec::new();
        for chunk in all.chunks(PREDICT_BATCH) {
            let batch = source.batch(chunk)?.to_tensors(self.vs.device());
            let inputs = self.net_inputs(&batch)?;
            parts.push(to_array2(&tch::no_grad(|| f(&self.net, &inputs))?)?);
        }
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        ndarray::concatenate(Axis(0), &views)
            .map_err(|e| ModelError::InvalidData { field: "rows", reason: e.to_string() })
    }

    /// SmoothGrad sensitivity maps of output `output` for the rows of `batch`: the gradient of the (z-scored)
    /// output with respect to each input map, averaged over `n_samples` copies of the maps with Gaussian noise of
    /// `noise_fraction` times each map's value range added (Smilkov et al. 2017), seeded. Maps by name, each of the
    /// input's shape.
    pub fn smoothgrad(
        &self,
        batch: &Batch,
        output: usize,
        n_samples: usize,
        noise_fraction: f64,
        seed: u64,
    ) -> Result<BTreeMap<String, ArrayD<f32>>, ModelError> {
        if output >= self.target_names.len() || n_samples == 0 || noise_fraction.is_nan() || noise_fraction < 0.0 {
            return Err(ModelError::InvalidData {
                field: "smoothgrad",
                reason: format!(
                    "output {output} of {}, {n_samples} samples, noise {noise_fraction}",
                    self.target_names.len()
                ),
            });
        }
        let device = self.vs.device();
        let base = batch.to_tensors(device);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sums: BTreeMap<String, Tensor> = BTreeMap::new();
        for _ in 0..n_samples {
            tch::manual_seed(rng.random::<i64>());
            let mut noisy =
                TensorBatch { inputs: BTreeMap::new(), scalars: None, targets: base.targets.shallow_clone() };
            for (name, map) in &base.inputs {
                let range = (map.max() - map.min()).double_value(&[]);
                let noise = map.randn_like() * (noise_fraction * range);
                noisy.inputs.insert(name.clone(), (map + noise).detach().set_requires_grad(true));
            }
            noisy.scalars = base.scalars.as_ref().map(Tensor::shallow_clone);
            let inputs = self.net_inputs(&noisy)?;
            let out = self.net.forward_t(&inputs, false)?;
            let selected = out.select(1, output as i64).sum(Kind::Float);
            let names: Vec<&String> = inputs.maps.keys().collect();
            let grads = Tensor::run_backward(
                &[selected],
                &names.iter().map(|n| &noisy.inputs[n.as_str()]).collect::<Vec<_>>(),
                false,
                false,
            );
            for (name, g) in names.into_iter().zip(grads) {
                let entry = sums.entry(name.clone()).or_insert_with(|| g.zeros_like());
                *entry += g;
            }
        }
        let mut out = BTreeMap::new();
        for (name, sum) in sums {
            let array = to_arrayd(&(sum / n_samples as f64))?;
            out.insert(name, array);
        }
        Ok(out)
    }

    /// Saves the weights and the provenance (the architecture, the normalisations, the training domain of the
    /// scalars, `recipe`, `training_suites` and whether the model is `not_for_scientific_use`) into the folder `dir`.
    pub fn save(
        &self,
        dir: &Path,
        recipe: Option<InputRecipe>,
        training_suites: &[String],
        not_for_scientific_use: bool,
    ) -> Result<(), ModelError> {
        let config = serde_json::to_value(&self.arch)
            .map_err(|e| ModelError::Checkpoint { path: dir.display().to_string(), reason: e.to_string() })?;
        let mut meta = CheckpointMeta::new("cnn", config);
        meta.recipe = recipe;
        meta.input_normalisation = self.scalar_norm.clone();
        meta.target_normalisation = Some(self.norm()?.clone());
        meta.training_suites = training_suites.to_vec();
        meta.not_for_scientific_use = not_for_scientific_use;
        meta.trained_on = self.device().to_string();
        meta.extra = serde_json::json!({ "target_names": self.target_names });
        checkpoint::save(dir, &self.vs, &meta)
    }

    /// Loads a checkpoint saved by [`Regressor::save`] onto `device` (whatever it was trained on), refusing another
    /// input recipe than `recipe` when one is given.
    pub fn load(
        dir: &Path,
        device: ComputeDevice,
        recipe: Option<&InputRecipe>,
    ) -> Result<(Self, CheckpointMeta), ModelError> {
        let meta = checkpoint::read_meta(dir)?;
        let bad = |reason: String| ModelError::Checkpoint { path: dir.display().to_string(), reason };
        if meta.architecture != "cnn" {
            return Err(bad(format!("holds a {:?}, not a cnn", meta.architecture)));
        }
        let arch: ArchConfig = serde_json::from_value(meta.config.clone())
            .map_err(|e| bad(format!("not a network configuration: {e}")))?;
        let names: Vec<String> = meta
            .extra
            .get("target_names")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .ok_or_else(|| bad("no target_names".into()))?;
        let mut me = Self::new(arch, &names, device, 0)?;
        let meta = checkpoint::load(dir, &me.vs, "cnn", &meta.config, recipe)?;
        me.target_norm = meta.target_normalisation.clone();
        me.scalar_norm = meta.input_normalisation.clone();
        Ok((me, meta))
    }
}

fn zscore(t: &Tensor, norm: &ZScore) -> Tensor {
    let device = t.device();
    let mean: Vec<f32> = norm.mean.iter().map(|&v| v as f32).collect();
    let std: Vec<f32> = norm.std.iter().map(|&v| v as f32).collect();
    let k = mean.len();
    (t - tensor(&mean, &[1, k], device)) / tensor(&std, &[1, k], device)
}

impl Trainable for Regressor {
    fn var_store(&self) -> &nn::VarStore {
        &self.vs
    }

    fn loss(&self, batch: &TensorBatch, train: bool) -> Result<Tensor, ModelError> {
        let mut inputs = self.net_inputs(batch)?;
        if train {
            let seed = self.augment_seed.get();
            self.augment_seed.set(seed.wrapping_add(1));
            inputs = self.net.augment(&inputs, seed)?;
        }
        let out = self.net.forward_t(&inputs, train)?;
        let targets = zscore(&batch.targets, self.norm()?);
        Ok(out.mse_loss(&targets, tch::Reduction::Mean))
    }
}

/// delosrios2023's bootstrap: `n` networks, each trained on a resample (with replacement, seeded) of `train`, for
/// the spread of their predictions.
pub fn bootstrap(
    arch: &ArchConfig,
    target_names: &[String],
    train: &ArraySource,
    validation: Option<&dyn BatchSource>,
    n: usize,
    config: &TrainConfig,
    device: ComputeDevice,
) -> Result<Vec<(Regressor, TrainHistory)>, ModelError> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    (0..n)
        .map(|k| {
            let rows: Vec<usize> = (0..train.len()).map(|_| rng.random_range(0..train.len())).collect();
            let resample = train.subset(&rows)?;
            let seed = config.seed.wrapping_add(1 + k as u64);
            let mut net = Regressor::new(arch.clone(), target_names, device, seed)?;
            let history = net.fit(&resample, validation, &TrainConfig { seed, ..*config })?;
            Ok((net, history))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use ndarray::{Array1, Array4};

    use super::*;

    /// Maps whose mean brightness sets the target: a network must learn it.
    fn blobs(n: usize, seed: u64) -> ArraySource {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let amplitude: Array1<f32> = (0..n).map(|_| rng.random::<f32>()).collect();
        let maps = Array4::from_shape_fn((n, 1, 16, 16), |(i, _, y, x)| {
            let r2 = (x as f32 - 7.5).powi(2) + (y as f32 - 7.5).powi(2);
            amplitude[i] * (-r2 / 20.0).exp()
        });
        let scalars = Array2::from_shape_fn((n, 3), |(i, j)| amplitude[i] * (j + 1) as f32 * 0.1);
        let targets = Array2::from_shape_fn((n, 2), |(i, j)| 10.0 + (j as f32 + 1.0) * amplitude[i]);
        let mut inputs = BTreeMap::new();
        inputs.insert("star_xy".to_string(), maps.clone().into_dyn());
        inputs.insert("star_rv".to_string(), maps.into_dyn());
        ArraySource::new(inputs, Some(scalars), targets).unwrap()
    }

    fn small_arch() -> ArchConfig {
        let mut arch = ArchConfig::preset("sarrato2025").unwrap();
        if let ArchConfig::Branched(c) = &mut arch {
            for input in &mut c.inputs {
                input.height = 16;
                input.width = 16;
            }
            c.head.n_outputs = 2;
        }
        arch
    }

    #[test]
    fn a_small_cnn_learns_saves_loads_and_explains() {
        let _lock = crate::torch_lock();
        let names = vec!["a".to_string(), "b".to_string()];
        let (train, valid) = (blobs(256, 1), blobs(64, 2));
        let mut net = Regressor::new(small_arch(), &names, ComputeDevice::Cpu, 3).unwrap();
        let config = TrainConfig { epochs: 12, learning_rate: 3e-3, ..TrainConfig::sarrato2025() };
        let history = net.fit(&train, Some(&valid), &config).unwrap();
        let pred = net.predict(&valid).unwrap();
        let truth = valid.batch(&(0..64).collect::<Vec<_>>()).unwrap().targets;
        let rmse = ((&pred - &truth).mapv(|d| d * d).mean().unwrap()).sqrt();
        let spread = truth.column(1).std(0.0);
        assert!(rmse < 0.3 * spread, "rmse {rmse} vs spread {spread}; {history:?}");
        assert_eq!(net.features(&valid).unwrap().dim(), (64, 32));
        let dir = tempfile::tempdir().unwrap();
        let recipe = InputRecipe::new(vec!["star_xy".into(), "star_rv".into()], vec![], serde_json::json!({}));
        net.save(dir.path(), Some(recipe.clone()), &["synthetic".into()], true).unwrap();
        let (back, meta) = Regressor::load(dir.path(), ComputeDevice::Cpu, Some(&recipe)).unwrap();
        assert!(meta.not_for_scientific_use);
        assert_eq!(back.predict(&valid).unwrap(), pred);
        let other = InputRecipe::new(vec!["hi_mom0".into()], vec![], serde_json::json!({}));
        assert!(Regressor::load(dir.path(), ComputeDevice::Cpu, Some(&other)).is_err());
        let maps = net.smoothgrad(&valid.batch(&[0, 1]).unwrap(), 0, 4, 0.1, 5).unwrap();
        assert_eq!(maps["star_xy"].shape(), &[2, 1, 16, 16]);
        assert!(maps["star_xy"].iter().any(|v| *v != 0.0));
        assert_eq!(net.smoothgrad(&valid.batch(&[0, 1]).unwrap(), 0, 4, 0.1, 5).unwrap(), maps);
    }

    #[test]
    fn bootstrap_members_differ_and_each_trains() {
        let _lock = crate::torch_lock();
        let names = vec!["a".to_string(), "b".to_string()];
        let train = blobs(96, 7);
        let config = TrainConfig { epochs: 2, learning_rate: 3e-3, ..TrainConfig::sarrato2025() };
        let members = bootstrap(&small_arch(), &names, &train, None, 2, &config, ComputeDevice::Cpu).unwrap();
        assert_eq!(members.len(), 2);
        let (a, b) = (members[0].0.predict(&train).unwrap(), members[1].0.predict(&train).unwrap());
        assert_ne!(a, b);
    }
}
