//! A multi-layer perceptron: the dense head of the CNNs and the body of each MADE in the flows.
//!
//! [`MlpConfig`] (serde) is checked ([`Params::check`]) into [`MlpValidConfig`] before any libtorch call: every
//! width at least 1 and the parameter count representable, so a bad configuration is a [`ModelError`], never a
//! panic inside `tch`. [`MlpConfig::build`] checks and builds in one call (style.md's `FooConfig::build(&self,
//! path)`, fallible).
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_models::mlp::MlpConfig;
//! let config = MlpConfig { n_inputs: 3, hidden: vec![16, 16], n_outputs: 1 };
//! assert_eq!(config.n_parameters(), 3 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
//! assert!(MlpConfig { n_inputs: 0, ..config.clone() }.check().is_err());
//! assert_eq!(config.check().unwrap().n_parameters(), config.n_parameters());
//! ```

use galmass_core::params::Params;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};

use crate::error::ModelError;

/// Layer sizes of an MLP with ReLU between layers and a linear output (unchecked; see [`Params::check`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Input features.
    pub n_inputs: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Output features.
    pub n_outputs: usize,
}

/// A built MLP; its parameters live under the `nn::Path` it was built with (`layer0`, `layer1`, ...).
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<nn::Linear>,
}

impl MlpConfig {
    /// Number of trainable parameters (saturating at `usize::MAX` for absurd sizes, which [`Params::check`]
    /// refuses).
    pub fn n_parameters(&self) -> usize {
        let widths: Vec<usize> =
            std::iter::once(self.n_inputs).chain(self.hidden.iter().copied()).chain([self.n_outputs]).collect();
        widths.windows(2).fold(0usize, |total, w| total.saturating_add(w[0].saturating_mul(w[1]).saturating_add(w[1])))
    }

    /// Checks the configuration, then builds the layers under `path` (checkpoint keys `layer{i}.weight`,
    /// `layer{i}.bias`).
    pub fn build(&self, path: &nn::Path<'_>) -> Result<Mlp, ModelError> {
        Ok(self.check()?.build(path))
    }
}

impl Params for MlpConfig {
    type Valid = MlpValidConfig;
    type Error = ModelError;

    /// Every width (inputs, each hidden layer, outputs) at least 1, and the widths and the parameter count
    /// representable as libtorch's `i64`.
    fn check(&self) -> Result<MlpValidConfig, ModelError> {
        let invalid = |field: &'static str, reason: String| ModelError::InvalidConfig { field, reason };
        let widths = std::iter::once(("n_inputs", self.n_inputs))
            .chain(self.hidden.iter().map(|&w| ("hidden", w)))
            .chain([("n_outputs", self.n_outputs)]);
        let mut checked = Vec::with_capacity(self.hidden.len() + 2);
        for (index, (field, width)) in widths.enumerate() {
            let what = if field == "hidden" { format!("layer {}", index - 1) } else { "it".to_string() };
            if width == 0 {
                return Err(invalid(field, format!("{what} has width 0, expected at least 1")));
            }
            let width = i64::try_from(width)
                .map_err(|_| invalid(field, format!("{what} has width {width}, more than libtorch can index")))?;
            checked.push(width);
        }
        let n_parameters = checked
            .windows(2)
            .try_fold(0i64, |total, w| w[0].checked_mul(w[1])?.checked_add(w[1])?.checked_add(total))
            .ok_or_else(|| invalid("hidden", format!("{} parameters overflow libtorch's i64", self.n_parameters())))?;
        Ok(MlpValidConfig { widths: checked, n_parameters })
    }
}

/// A checked [`MlpConfig`]: the layer widths, ready to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlpValidConfig {
    widths: Vec<i64>,
    n_parameters: i64,
}

impl MlpValidConfig {
    /// Number of trainable parameters.
    pub fn n_parameters(&self) -> usize {
        usize::try_from(self.n_parameters).unwrap_or(usize::MAX)
    }

    /// Builds the layers under `path` (checkpoint keys `layer{i}.weight`, `layer{i}.bias`).
    pub fn build(&self, path: &nn::Path<'_>) -> Mlp {
        let layers = self
            .widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| nn::linear(path / format!("layer{i}"), w[0], w[1], Default::default()))
            .collect();
        Mlp { layers }
    }
}

impl Module for Mlp {
    fn forward(&self, xs: &tch::Tensor) -> tch::Tensor {
        let last = self.layers.len().saturating_sub(1);
        self.layers.iter().enumerate().fold(xs.shallow_clone(), |h, (i, layer)| {
            let h = layer.forward(&h);
            if i < last {
                h.relu()
            } else {
                h
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ComputeDevice;
    use tch::nn::OptimizerConfig;
    use tch::{Kind, Tensor};

    /// The libtorch smoke test: a tiny network fits y = sin(3x) + x on CPU and its loss falls.
    #[test]
    fn tiny_network_trains_on_cpu() {
        let _lock = crate::torch_lock();
        tch::manual_seed(0);
        let device = ComputeDevice::Cpu.to_tch();
        let vs = nn::VarStore::new(device);
        let config = MlpConfig { n_inputs: 1, hidden: vec![32, 32], n_outputs: 1 };
        let net = config.build(&(vs.root() / "mlp")).unwrap();
        let n_params: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
        assert_eq!(n_params as usize, config.n_parameters());
        let x = Tensor::linspace(-1.0, 1.0, 256, (Kind::Float, device)).unsqueeze(1);
        let y = (&x * 3.0).sin() + &x;
        let mut opt = nn::Adam::default().build(&vs, 1e-2).expect("adam");
        let loss_at = |net: &Mlp| net.forward(&x).mse_loss(&y, tch::Reduction::Mean).double_value(&[]);
        let initial = loss_at(&net);
        for _ in 0..200 {
            let loss = net.forward(&x).mse_loss(&y, tch::Reduction::Mean);
            opt.backward_step(&loss);
        }
        let trained = loss_at(&net);
        assert!(trained < 0.05 * initial, "loss {initial} -> {trained}");
        let keys: Vec<String> = vs.variables().into_keys().collect();
        assert!(keys.contains(&"mlp.layer0.weight".to_string()), "{keys:?}");
    }

    #[test]
    fn bad_layer_sizes_are_typed_errors_before_libtorch() {
        let _lock = crate::torch_lock();
        let vs = nn::VarStore::new(ComputeDevice::Cpu.to_tch());
        let field = |config: MlpConfig| match config.build(&(vs.root() / "bad")) {
            Err(ModelError::InvalidConfig { field, .. }) => field,
            Err(other) => panic!("{config:?}: {other}"),
            Ok(_) => panic!("{config:?} built"),
        };
        let good = MlpConfig { n_inputs: 2, hidden: vec![8, 4], n_outputs: 1 };
        assert_eq!(field(MlpConfig { n_inputs: 0, ..good.clone() }), "n_inputs");
        assert_eq!(field(MlpConfig { n_outputs: 0, ..good.clone() }), "n_outputs");
        assert_eq!(field(MlpConfig { hidden: vec![8, 0], ..good.clone() }), "hidden");
        assert_eq!(field(MlpConfig { hidden: vec![usize::MAX], ..good.clone() }), "hidden");
        assert_eq!(field(MlpConfig { hidden: vec![1 << 40, 1 << 40], ..good.clone() }), "hidden");
        // Nothing was created for the refused configurations.
        assert!(vs.variables().is_empty());
        assert_eq!(good.check().unwrap().n_parameters(), good.n_parameters());
        assert_eq!(MlpConfig { hidden: vec![], ..good }.n_parameters(), 3);
    }
}
