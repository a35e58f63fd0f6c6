//! A multi-layer perceptron: the dense head of the CNNs and the body of each MADE in the flows.
//!
//! ```
//! use galmass_models::mlp::MlpConfig;
//! let config = MlpConfig { n_inputs: 3, hidden: vec![16, 16], n_outputs: 1 };
//! assert_eq!(config.n_parameters(), 3 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
//! ```

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};

/// Layer sizes of an MLP with ReLU between layers and a linear output.
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
    /// Number of trainable parameters.
    pub fn n_parameters(&self) -> usize {
        let widths: Vec<usize> =
            std::iter::once(self.n_inputs).chain(self.hidden.iter().copied()).chain([self.n_outputs]).collect();
        widths.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
    }

    /// Builds the layers under `path` (checkpoint keys `layer{i}.weight`, `layer{i}.bias`).
    pub fn build(&self, path: &nn::Path<'_>) -> Mlp {
        let widths: Vec<i64> = std::iter::once(self.n_inputs)
            .chain(self.hidden.iter().copied())
            .chain([self.n_outputs])
            .map(|w| i64::try_from(w).unwrap_or(i64::MAX))
            .collect();
        let layers = widths
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
        tch::manual_seed(0);
        let device = ComputeDevice::Cpu.to_tch();
        let vs = nn::VarStore::new(device);
        let config = MlpConfig { n_inputs: 1, hidden: vec![32, 32], n_outputs: 1 };
        let net = config.build(&(vs.root() / "mlp"));
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
}
