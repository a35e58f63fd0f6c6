//! The training loop shared by every network and flow: Adam, learning-rate schedules, gradient clipping,
//! validation every epoch, early stopping with the best state restored, loss curves, progress with rate and ETA.
//!
//! A model takes part through the crate-internal `Trainable` trait (its variables and its loss on a batch); the
//! public side is [`TrainConfig`] (serde, the papers' defaults named) and the [`TrainHistory`] it returns. Batches
//! are drawn from a [`BatchSource`] in the order it gives for each epoch and the seed
//! ([`BatchSource::epoch_order`]: by default ChaCha8, one permutation per epoch), so a fixed seed on the CPU gives
//! the same weights after training.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_models::train::{Schedule, TrainConfig};
//! let config = TrainConfig { epochs: 10, schedule: Schedule::Cosine, ..TrainConfig::sarrato2025() };
//! assert!(config.check().is_ok());
//! assert_eq!(config.learning_rate_at(0), 1e-4);
//! ```

use std::path::Path;
use std::time::Instant;

use galmass_core::params::Params;
use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Tensor};

use crate::data::{BatchSource, TensorBatch};
use crate::error::ModelError;

/// How the learning rate changes over epochs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Schedule {
    /// Constant.
    Constant,
    /// Halved every `every` epochs.
    StepHalving {
        /// Epochs between halvings.
        every: usize,
    },
    /// Cosine annealing from the initial rate to zero over the epochs (chu2024).
    Cosine,
}

/// Training settings (unchecked; [`Params::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Most epochs.
    pub epochs: usize,
    /// Rows per batch.
    pub batch_size: usize,
    /// Adam's initial learning rate.
    pub learning_rate: f64,
    /// Adam's (decoupled) weight decay.
    pub weight_decay: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Stop after this many epochs without a better validation loss and restore the best state (`None`: never).
    pub early_stopping_patience: Option<usize>,
    /// Clip the gradients' global norm at this value (`None`: no clipping).
    pub gradient_clip_norm: Option<f64>,
    /// Seed of the initialisation, dropout and batch order.
    pub seed: u64,
    /// Show a progress bar (on stderr).
    pub progress: bool,
    /// CUDA automatic mixed precision: the forward pass autocast to float16 where libtorch deems it safe, the loss
    /// scaled dynamically so that float16 gradients do not underflow (steps whose gradients overflow are skipped and
    /// the scale halved, as PyTorch's `GradScaler`). The weights stay float32. Ignored, with a warning, on the CPU.
    #[serde(default)]
    pub mixed_precision: bool,
}

impl TrainConfig {
    /// sarrato2025's flow recipe (and sbi's defaults, methods.md): Adam, lr 1e-4, batch 32, stop after 20 epochs
    /// without improvement with the best state restored, gradients clipped at norm 5.
    pub fn sarrato2025() -> Self {
        Self {
            epochs: 500,
            batch_size: 32,
            learning_rate: 1e-4,
            weight_decay: 0.0,
            schedule: Schedule::Constant,
            early_stopping_patience: Some(20),
            gradient_clip_norm: Some(5.0),
            seed: 0,
            progress: false,
            mixed_precision: false,
        }
    }

    /// The learning rate of epoch `epoch` (0-based).
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        match self.schedule {
            Schedule::Constant => self.learning_rate,
            Schedule::StepHalving { every } => self.learning_rate * 0.5f64.powi((epoch / every.max(1)) as i32),
            Schedule::Cosine => {
                let t = epoch as f64 / self.epochs.max(1) as f64;
                0.5 * self.learning_rate * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

impl Params for TrainConfig {
    type Valid = TrainConfig;
    type Error = ModelError;

    fn check(&self) -> Result<TrainConfig, ModelError> {
        let invalid = |field: &'static str, reason: String| Err(ModelError::InvalidConfig { field, reason });
        if self.epochs == 0 {
            return invalid("epochs", "must be at least 1".into());
        }
        if self.batch_size == 0 {
            return invalid("batch_size", "must be at least 1".into());
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return invalid("learning_rate", format!("must be positive, got {}", self.learning_rate));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return invalid("weight_decay", format!("must be >= 0, got {}", self.weight_decay));
        }
        if let Schedule::StepHalving { every: 0 } = self.schedule {
            return invalid("schedule", "step halving needs every >= 1".into());
        }
        if let Some(c) = self.gradient_clip_norm {
            if !(c.is_finite() && c > 0.0) {
                return invalid("gradient_clip_norm", format!("must be positive, got {c}"));
            }
        }
        Ok(*self)
    }
}

/// What a training run did, epoch by epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainHistory {
    /// Mean training loss per epoch.
    pub train_loss: Vec<f64>,
    /// Validation loss per epoch (empty without a validation source).
    pub validation_loss: Vec<f64>,
    /// Learning rate per epoch.
    pub learning_rate: Vec<f64>,
    /// The epoch whose state was kept (0-based).
    pub best_epoch: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Training rows processed per second.
    pub samples_per_second: f64,
}

impl TrainHistory {
    /// The loss curves as CSV (`epoch,train_loss,validation_loss,learning_rate`), written atomically.
    pub fn write_csv(&self, path: &Path) -> Result<(), ModelError> {
        let mut text = String::from("epoch,train_loss,validation_loss,learning_rate\n");
        for (e, (t, lr)) in self.train_loss.iter().zip(&self.learning_rate).enumerate() {
            let v = self.validation_loss.get(e).map_or(String::new(), |v| v.to_string());
            text.push_str(&format!("{e},{t},{v},{lr}\n"));
        }
        galmass_core::atomic::write_bytes_atomic(path, text.as_bytes())
            .map_err(|e| ModelError::Checkpoint { path: path.display().to_string(), reason: e.to_string() })
    }
}

/// A model that trains: its variables and its loss on a batch (crate-internal).
pub(crate) trait Trainable {
    /// The variables.
    fn var_store(&self) -> &nn::VarStore;
    /// The mean loss of `batch`; `train` switches dropout, batch norm and augmentation.
    fn loss(&self, batch: &TensorBatch, train: bool) -> Result<Tensor, ModelError>;
}

/// Copies of every variable (the best state).
fn snapshot(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    tch::no_grad(|| vs.variables().into_iter().map(|(k, t)| (k, t.copy())).collect())
}

fn restore(vs: &nn::VarStore, state: &[(String, Tensor)]) {
    let vars = vs.variables();
    tch::no_grad(|| {
        for (k, t) in state {
            if let Some(v) = vars.get(k) {
                let mut v = v.shallow_clone();
                v.copy_(t);
            }
        }
    });
}

/// The mean loss over `source` in evaluation mode.
pub(crate) fn evaluate(
    model: &dyn Trainable,
    source: &dyn BatchSource,
    batch_size: usize,
    device: Device,
) -> Result<f64, ModelError> {
    let n = source.len();
    let (mut total, mut rows) = (0.0, 0usize);
    let indices: Vec<usize> = (0..n).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = source.batch(chunk)?.to_tensors(device);
        let loss = tch::no_grad(|| model.loss(&batch, false))?;
        total += loss.double_value(&[]) * chunk.len() as f64;
        rows += chunk.len();
    }
    Ok(if rows == 0 { f64::NAN } else { total / rows as f64 })
}

/// Trains `model` on `train` (validating on `validation` each epoch) as `config` says, on the model's device.
pub(crate) fn fit(
    model: &dyn Trainable,
    train: &dyn BatchSource,
    validation: Option<&dyn BatchSource>,
    config: &TrainConfig,
) -> Result<TrainHistory, ModelError> {
    let config = config.check()?;
    if train.is_empty() {
        return Err(ModelError::InvalidData { field: "train", reason: "no training rows".into() });
    }
    let vs = model.var_store();
    let device = vs.device();
    let amp = config.mixed_precision && device.is_cuda();
    if config.mixed_precision && !amp {
        tracing::warn!("mixed precision needs CUDA: training in float32 on {device:?}");
    }
    let mut scaler = LossScaler::new(amp);
    let mut optimizer = nn::Adam { wd: config.weight_decay, ..Default::default() }.build(vs, config.learning_rate)?;
    let n_batches = train.len().div_ceil(config.batch_size);
    let bar = progress_bar(config.progress, (config.epochs * n_batches) as u64);
    let start = Instant::now();
    let mut history = TrainHistory {
        train_loss: Vec::new(),
        validation_loss: Vec::new(),
        learning_rate: Vec::new(),
        best_epoch: 0,
        stopped_early: false,
        seconds: 0.0,
        samples_per_second: 0.0,
    };
    let (mut best, mut best_state, mut since_best) = (f64::INFINITY, None, 0usize);
    let mut rows_seen = 0usize;
    for epoch in 0..config.epochs {
        let lr = config.learning_rate_at(epoch);
        optimizer.set_lr(lr);
        let order = train.epoch_order(epoch, config.seed);
        if order.len() != train.len() {
            return Err(ModelError::InvalidData {
                field: "epoch_order",
                reason: format!("{} rows in the order of epoch {epoch}, expected {}", order.len(), train.len()),
            });
        }
        let mut total = 0.0;
        for chunk in order.chunks(config.batch_size) {
            let batch = train.batch(chunk)?.to_tensors(device);
            let loss = tch::autocast(amp, || model.loss(&batch, true))?;
            let value = loss.double_value(&[]);
            if !value.is_finite() {
                return Err(ModelError::InvalidData {
                    field: "loss",
                    reason: format!("became {value} at epoch {epoch}: lower the learning rate or check the inputs"),
                });
            }
            optimizer.zero_grad();
            scaler.backward(&loss);
            if scaler.unscale(vs)? {
                if let Some(c) = config.gradient_clip_norm {
                    optimizer.clip_grad_norm(c);
                }
                optimizer.step();
            }
            total += value * chunk.len() as f64;
            rows_seen += chunk.len();
            bar.inc(1);
        }
        let train_loss = total / train.len() as f64;
        history.train_loss.push(train_loss);
        history.learning_rate.push(lr);
        let monitored = match validation {
            Some(v) if !v.is_empty() => {
                let loss = evaluate(model, v, config.batch_size.max(256), device)?;
                history.validation_loss.push(loss);
                loss
            }
            _ => train_loss,
        };
        bar.set_message(format!("epoch {epoch}: train {train_loss:.4}, monitored {monitored:.4}"));
        if monitored < best {
            best = monitored;
            history.best_epoch = epoch;
            since_best = 0;
            if config.early_stopping_patience.is_some() {
                best_state = Some(snapshot(vs));
            }
        } else {
            since_best += 1;
            if config.early_stopping_patience.is_some_and(|p| since_best >= p) {
                history.stopped_early = true;
                break;
            }
        }
    }
    if let Some(state) = &best_state {
        restore(vs, state);
    }
    bar.finish_and_clear();
    history.seconds = start.elapsed().as_secs_f64();
    history.samples_per_second = rows_seen as f64 / history.seconds.max(1e-9);
    tracing::info!(
        epochs = history.train_loss.len(),
        best_epoch = history.best_epoch,
        samples_per_second = history.samples_per_second,
        "trained"
    );
    Ok(history)
}

/// Dynamic loss scaling for float16 training (PyTorch's `GradScaler` defaults: initial scale 2^16, doubled after
/// 2000 steps without overflow, halved and the step skipped on an overflow). Disabled, it is the identity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LossScaler {
    enabled: bool,
    scale: f64,
    good_steps: usize,
}

impl LossScaler {
    const INITIAL: f64 = 65536.0;
    const GROWTH_INTERVAL: usize = 2000;

    pub(crate) fn new(enabled: bool) -> Self {
        Self { enabled, scale: Self::INITIAL, good_steps: 0 }
    }

    /// Back-propagates `loss`, scaled when enabled.
    pub(crate) fn backward(&self, loss: &Tensor) {
        if self.enabled {
            // In float32: a float16 loss times 2^16 would overflow float16 itself.
            (loss.to_kind(tch::Kind::Float) * self.scale).backward();
        } else {
            loss.backward();
        }
    }

    /// Divides every gradient of `vs` by the scale; returns whether they are all finite (whether to step), and
    /// updates the scale.
    pub(crate) fn unscale(&mut self, vs: &nn::VarStore) -> Result<bool, ModelError> {
        if !self.enabled {
            return Ok(true);
        }
        let inverse = 1.0 / self.scale;
        let mut finite = true;
        tch::no_grad(|| -> Result<(), ModelError> {
            for var in vs.trainable_variables() {
                let mut grad = var.grad();
                if !grad.defined() {
                    continue;
                }
                let _ = grad.f_mul_scalar_(inverse)?;
                if finite && grad.f_isfinite()?.f_all()?.int64_value(&[]) == 0 {
                    finite = false;
                }
            }
            Ok(())
        })?;
        if finite {
            self.good_steps += 1;
            if self.good_steps >= Self::GROWTH_INTERVAL {
                self.scale *= 2.0;
                self.good_steps = 0;
            }
        } else {
            self.scale *= 0.5;
            self.good_steps = 0;
            tracing::debug!(scale = self.scale, "float16 gradients overflowed: step skipped");
        }
        Ok(finite)
    }
}

fn progress_bar(show: bool, total: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} batches, {per_sec}, ETA {eta} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;
    use tch::nn::Module;

    use super::*;
    use crate::data::ArraySource;
    use crate::mlp::{Mlp, MlpConfig};

    struct Regression {
        vs: nn::VarStore,
        net: Mlp,
    }

    impl Trainable for Regression {
        fn var_store(&self) -> &nn::VarStore {
            &self.vs
        }
        fn loss(&self, batch: &TensorBatch, _train: bool) -> Result<Tensor, ModelError> {
            let x =
                batch.scalars.as_ref().ok_or(ModelError::InvalidData { field: "scalars", reason: "none".into() })?;
            Ok(self.net.forward(x).mse_loss(&batch.targets, tch::Reduction::Mean))
        }
    }

    fn model(seed: u64) -> Regression {
        tch::manual_seed(seed as i64);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = MlpConfig { n_inputs: 1, hidden: vec![16], n_outputs: 1 }.build(&(vs.root() / "mlp")).unwrap();
        Regression { vs, net }
    }

    fn data(n: usize, offset: usize) -> ArraySource {
        let x = Array2::from_shape_fn((n, 1), |(i, _)| ((i + offset) as f32 * 0.37).sin());
        let y = x.mapv(|v| 2.0 * v + 0.5);
        ArraySource::tabular(x, y).unwrap()
    }

    #[test]
    fn training_lowers_the_loss_and_is_reproducible() {
        let _lock = crate::torch_lock();
        let config = TrainConfig { epochs: 30, learning_rate: 1e-2, seed: 3, ..TrainConfig::sarrato2025() };
        let (train, valid) = (data(256, 0), data(64, 1000));
        let a = model(1);
        let before = evaluate(&a, &valid, 64, Device::Cpu).unwrap();
        let history = fit(&a, &train, Some(&valid), &config).unwrap();
        let after = evaluate(&a, &valid, 64, Device::Cpu).unwrap();
        assert!(after < 0.05 * before, "{before} -> {after}");
        assert_eq!(history.validation_loss.len(), history.train_loss.len());
        // The best state is the one kept.
        let best = history.validation_loss[history.best_epoch];
        assert!((after - best).abs() < 1e-6, "{after} vs {best}");
        let b = model(1);
        fit(&b, &train, Some(&valid), &config).unwrap();
        let weights = |m: &Regression| {
            let mut v: Vec<(String, Vec<f32>)> =
                m.vs.variables()
                    .into_iter()
                    .map(|(k, t)| {
                        let t = t.flatten(0, -1);
                        let mut out = vec![0f32; t.numel()];
                        t.copy_data(&mut out, t.numel());
                        (k, out)
                    })
                    .collect();
            v.sort_by(|x, y| x.0.cmp(&y.0));
            v
        };
        assert_eq!(weights(&a), weights(&b));
    }

    fn zero_grads(vs: &nn::VarStore) {
        for v in vs.trainable_variables() {
            let _ = v.grad().zero_();
        }
    }

    #[test]
    fn loss_scaler_unscales_and_skips_overflows() {
        let _lock = crate::torch_lock();
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().ones("w", &[3]);
        let mut scaler = LossScaler::new(true);
        scaler.backward(&(&w * 2.0).sum(tch::Kind::Float));
        assert!(scaler.unscale(&vs).unwrap());
        let mut grad = vec![0f32; 3];
        w.grad().copy_data(&mut grad, 3);
        assert_eq!(grad, vec![2.0; 3], "the scale is divided out");
        assert_eq!(scaler.scale, LossScaler::INITIAL);
        // A gradient that overflows once scaled: the step is refused and the scale halved.
        zero_grads(&vs);
        scaler.backward(&(&w * 1e34).sum(tch::Kind::Float));
        assert!(!scaler.unscale(&vs).unwrap());
        assert_eq!(scaler.scale, LossScaler::INITIAL / 2.0);
        // The scale grows after a run of good steps.
        for _ in 0..LossScaler::GROWTH_INTERVAL {
            zero_grads(&vs);
            scaler.backward(&w.sum(tch::Kind::Float));
            assert!(scaler.unscale(&vs).unwrap());
        }
        assert_eq!(scaler.scale, LossScaler::INITIAL);
        // Disabled, it is the identity.
        let mut off = LossScaler::new(false);
        zero_grads(&vs);
        off.backward(&(&w * 3.0).sum(tch::Kind::Float));
        assert!(off.unscale(&vs).unwrap());
        w.grad().copy_data(&mut grad, 3);
        assert_eq!(grad, vec![3.0; 3]);
    }

    #[test]
    fn mixed_precision_on_the_cpu_trains_as_float32() {
        let _lock = crate::torch_lock();
        let config = TrainConfig { epochs: 3, learning_rate: 1e-2, seed: 5, ..TrainConfig::sarrato2025() };
        let (a, b) = (model(4), model(4));
        let plain = fit(&a, &data(64, 0), None, &config).unwrap();
        let amp = fit(&b, &data(64, 0), None, &TrainConfig { mixed_precision: true, ..config }).unwrap();
        assert_eq!(plain.train_loss, amp.train_loss);
    }

    #[test]
    fn early_stopping_and_schedules() {
        let _lock = crate::torch_lock();
        let config = TrainConfig {
            epochs: 200,
            learning_rate: 0.5,
            early_stopping_patience: Some(3),
            ..TrainConfig::sarrato2025()
        };
        let history = fit(&model(2), &data(64, 0), Some(&data(32, 500)), &config).unwrap();
        assert!(history.stopped_early && history.train_loss.len() < 200);
        let step = TrainConfig { schedule: Schedule::StepHalving { every: 2 }, ..config };
        assert_eq!((step.learning_rate_at(1), step.learning_rate_at(2), step.learning_rate_at(5)), (0.5, 0.25, 0.125));
        let cosine = TrainConfig { schedule: Schedule::Cosine, epochs: 10, ..config };
        assert!((cosine.learning_rate_at(5) - 0.25).abs() < 1e-12);
        assert!(TrainConfig { batch_size: 0, ..config }.check().is_err());
        assert!(TrainConfig { gradient_clip_norm: Some(-1.0), ..config }.check().is_err());
        let dir = tempfile::tempdir().unwrap();
        history.write_csv(&dir.path().join("loss.csv")).unwrap();
        let text = std::fs::read_to_string(dir.path().join("loss.csv")).unwrap();
        assert_eq!(text.lines().count(), history.train_loss.len() + 1);
    }
}
