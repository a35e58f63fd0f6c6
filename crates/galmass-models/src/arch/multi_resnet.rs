//! chu2024's multi-branch ResNet: one ResNet backbone per input map, joined by a fully connected head.
//!
//! chu2024 (Sect. 3.1, Fig. 3): the r-band image (300x300), the g-r colour map (or g-band image: the paper uses both
//! names) and the mean-velocity and velocity-dispersion maps (48x48) are "processed by normal ResNet-18 backbone
//! independently until the last fully-connected layer. At last, all intermediate outputs are combined to give
//! predictions via a fully connected layer." So each enabled map has its own [`resnet`](super::resnet) backbone
//! (torchvision layout; global average pooling makes the sizes free), the pooled features are concatenated
//! (branch order = configuration order) together with any enabled scalars (none in the paper), and a linear layer
//! gives the 1..k targets. `head_hidden` (empty in the paper) inserts ReLU dense layers before it. The penultimate
//! features ([`MultiInputNet::forward_features_t`]) are the input of that last layer: 512 per ResNet-18 branch.
//! chu2024 calls its backbone "a modified version of ResNet-18" without saying what was modified: we use the standard
//! one. ResNet-50 (named as available in the paper's PyTorch) is a config choice (`chu2024-resnet50`).
//!
//! Presets: `chu2024-resnet18` and `chu2024-resnet50` with the inputs `r` (1x300x300), `g_r` (1x300x300,
//! disabled: the headline M* and M_tot models use r + the two velocity maps), `v_mean` and `v_disp` (1x48x48), one
//! output (switch `g_r` on and raise `n_outputs` for the M*/L or joint models).
//!
//! ```
//! use galmass_models::arch::{InputSpec, MultiResNetConfig, ResNetDepth};
//! // torchvision's resnet18 (3 channels, 1000 classes) as a one-branch network:
//! let config = MultiResNetConfig {
//!     depth: ResNetDepth::ResNet18,
//!     inputs: vec![InputSpec::new("image", 3, 224, 224)],
//!     scalars: vec![],
//!     head_hidden: vec![],
//!     n_outputs: 1000,
//! };
//! assert_eq!(config.n_parameters(), 11_689_512);
//! ```

use galmass_core::params::Params;
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

use super::layers::{dense_parameters, DenseLayer};
use super::resnet::{build_backbone, ResNetBackbone, ResNetDepth};
use super::{
    check_specs, invalid, to_i64, unknown_preset, InputContract, InputSpec, MultiInputNet, NetInputs, ScalarSpec,
};
use crate::error::ModelError;

/// A multi-branch ResNet (unchecked; see [`Params::check`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiResNetConfig {
    /// Backbone of every branch (chu2024: ResNet-18).
    pub depth: ResNetDepth,
    /// One branch per map; a disabled map builds no backbone.
    pub inputs: Vec<InputSpec>,
    /// Scalars joined to the concatenated pooled features (chu2024: none).
    pub scalars: Vec<ScalarSpec>,
    /// ReLU dense layers between the concatenation and the output layer (chu2024: none, "a fully connected layer").
    pub head_hidden: Vec<usize>,
    /// Targets (chu2024: 1 for M*, M_tot or M*/L alone, 2 for M* and M_tot together).
    pub n_outputs: usize,
}

/// A checked [`MultiResNetConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiResNetValidConfig {
    config: MultiResNetConfig,
    n_parameters: usize,
}

/// A built multi-branch ResNet (keys `branches.<input>.conv1.weight`, ..., `head.layer{i}.weight`).
#[derive(Debug)]
pub struct MultiResNet {
    contract: InputContract,
    backbones: Vec<(String, ResNetBackbone)>,
    hidden: Vec<DenseLayer>,
    output: DenseLayer,
    n_features: usize,
    n_outputs: usize,
}

impl MultiResNetConfig {
    /// `chu2024-resnet18` or `chu2024-resnet50` (see the module docs).
    pub fn preset(name: &str) -> Result<Self, ModelError> {
        let depth = match name {
            "chu2024-resnet18" => ResNetDepth::ResNet18,
            "chu2024-resnet50" => ResNetDepth::ResNet50,
            _ => return Err(unknown_preset(name)),
        };
        Ok(Self {
            depth,
            inputs: vec![
                InputSpec::new("r", 1, 300, 300),
                InputSpec::new("g_r", 1, 300, 300).with_enabled(false),
                InputSpec::new("v_mean", 1, 48, 48),
                InputSpec::new("v_disp", 1, 48, 48),
            ],
            scalars: vec![],
            head_hidden: vec![],
            n_outputs: 1,
        })
    }

    fn n_joined(&self) -> usize {
        let maps = self.inputs.iter().filter(|s| s.enabled).count();
        let scalars = self.scalars.iter().filter(|s| s.enabled).count();
        maps.saturating_mul(self.depth.n_features()).saturating_add(scalars)
    }

    /// Trainable parameters, from the configuration alone (saturating).
    pub fn n_parameters(&self) -> usize {
        let backbones = self
            .inputs
            .iter()
            .filter(|s| s.enabled)
            .fold(0usize, |t, s| t.saturating_add(self.depth.backbone_parameters(s.channels)));
        let widths: Vec<usize> =
            std::iter::once(self.n_joined()).chain(self.head_hidden.iter().copied()).chain([self.n_outputs]).collect();
        widths.windows(2).fold(backbones, |t, w| t.saturating_add(dense_parameters(w[0], w[1])))
    }

    /// Switches the map or scalar called `name`; an unknown name is an error.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<(), ModelError> {
        super::set_enabled(&mut self.inputs, &mut self.scalars, name, enabled)
    }

    /// Checks, then builds under `path`.
    pub fn build(&self, path: &nn::Path<'_>) -> Result<MultiResNet, ModelError> {
        Ok(self.check()?.build(path))
    }
}

impl Params for MultiResNetConfig {
    type Valid = MultiResNetValidConfig;
    type Error = ModelError;

    /// Valid inputs and scalars (see the module docs of [`arch`](super)), every head width and `n_outputs` at least
    /// 1, the parameter count representable.
    fn check(&self) -> Result<MultiResNetValidConfig, ModelError> {
        check_specs(&self.inputs, &self.scalars)?;
        for (i, &w) in self.head_hidden.iter().enumerate() {
            if w == 0 {
                return Err(invalid("head_hidden", format!("layer {i} has width 0, expected at least 1")));
            }
            to_i64("head_hidden", w)?;
        }
        if self.n_outputs == 0 {
            return Err(invalid("n_outputs", "0 outputs, expected at least 1"));
        }
        to_i64("n_outputs", self.n_outputs)?;
        let n_parameters = self.n_parameters();
        if i64::try_from(n_parameters).is_err() || n_parameters == usize::MAX {
            return Err(invalid("inputs", format!("{n_parameters} parameters overflow libtorch's i64")));
        }
        Ok(MultiResNetValidConfig { config: self.clone(), n_parameters })
    }
}

impl MultiResNetValidConfig {
    /// Trainable parameters.
    pub fn n_parameters(&self) -> usize {
        self.n_parameters
    }

    /// Builds under `path`.
    pub fn build(&self, path: &nn::Path<'_>) -> MultiResNet {
        let c = &self.config;
        let branches = path / "branches";
        let backbones = c
            .inputs
            .iter()
            .filter(|s| s.enabled)
            .map(|s| (s.name.clone(), build_backbone(&(&branches / &s.name), c.depth, s.channels as i64)))
            .collect();
        let head = path / "head";
        let widths: Vec<i64> =
            std::iter::once(c.n_joined()).chain(c.head_hidden.iter().copied()).map(|w| w as i64).collect();
        let dense = |i: usize, n_in: i64, n_out: i64, relu: bool| DenseLayer {
            linear: nn::linear(&head / format!("layer{i}"), n_in, n_out, Default::default()),
            relu,
            dropout: 0.0,
            batch_norm: None,
        };
        let hidden: Vec<DenseLayer> = widths.windows(2).enumerate().map(|(i, w)| dense(i, w[0], w[1], true)).collect();
        let n_features = widths[widths.len() - 1];
        let output = dense(hidden.len(), n_features, c.n_outputs as i64, false);
        MultiResNet {
            contract: InputContract {
                inputs: c.inputs.clone(),
                scalars: c.scalars.clone(),
                device: path.device(),
                kind: path.kind(),
                has_batch_norm: true,
            },
            backbones,
            hidden,
            output,
            n_features: n_features as usize,
            n_outputs: c.n_outputs,
        }
    }
}

impl MultiInputNet for MultiResNet {
    fn input_specs(&self) -> &[InputSpec] {
        &self.contract.inputs
    }
    fn scalar_specs(&self) -> &[ScalarSpec] {
        &self.contract.scalars
    }
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn n_outputs(&self) -> usize {
        self.n_outputs
    }
    fn forward_both_t(&self, inputs: &NetInputs, train: bool) -> Result<(Tensor, Tensor), ModelError> {
        self.contract.check(inputs, train)?;
        let mut parts: Vec<Tensor> = Vec::with_capacity(self.backbones.len() + 1);
        for (name, backbone) in &self.backbones {
            // Present: checked above.
            if let Some(map) = inputs.maps.get(name) {
                parts.push(backbone.forward_t(map, train));
            }
        }
        if self.contract.n_enabled_scalars() > 0 {
            if let Some(s) = &inputs.scalars {
                parts.push(s.shallow_clone());
            }
        }
        let features = self.hidden.iter().fold(Tensor::cat(&parts, 1), |h, layer| layer.forward_t(&h, train));
        let outputs = self.output.forward_t(&features, train);
        Ok((features, outputs))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use tch::Device;

    fn one_branch(depth: ResNetDepth) -> MultiResNetConfig {
        MultiResNetConfig {
            depth,
            inputs: vec![InputSpec::new("image", 3, 224, 224)],
            scalars: vec![],
            head_hidden: vec![],
            n_outputs: 1000,
        }
    }

    #[test]
    fn torchvision_counts_built_and_computed() {
        let _rng = rng_lock();
        for (depth, expected) in [(ResNetDepth::ResNet18, 11_689_512), (ResNetDepth::ResNet50, 25_557_032)] {
            let config = one_branch(depth);
            assert_eq!(config.n_parameters(), expected);
            let vs = nn::VarStore::new(Device::Cpu);
            let net = config.build(&vs.root()).unwrap();
            assert_eq!(n_trainable(&vs), expected);
            assert_eq!(net.n_features(), depth.n_features());
            let keys: Vec<String> = vs.variables().into_keys().collect();
            for key in
                ["branches.image.conv1.weight", "branches.image.layer2.0.downsample.0.weight", "head.layer0.bias"]
            {
                assert!(keys.iter().any(|k| k == key), "{key} not in keys");
            }
        }
    }

    #[test]
    fn branches_of_different_sizes_join() {
        let _rng = rng_lock();
        let mut config = MultiResNetConfig::preset("chu2024-resnet18").unwrap();
        // Small maps for a fast forward pass; sizes still differ between branches.
        config.inputs[0].height = 32;
        config.inputs[0].width = 32;
        config.inputs[2].height = 16;
        config.inputs[2].width = 16;
        config.inputs[3].height = 16;
        config.inputs[3].width = 16;
        config.n_outputs = 2;
        let vs = nn::VarStore::new(Device::Cpu);
        let net = config.build(&(vs.root() / "chu")).unwrap();
        assert_eq!(n_trainable(&vs), config.n_parameters());
        assert_eq!(config.n_parameters(), 3 * ResNetDepth::ResNet18.backbone_parameters(1) + 3 * 512 * 2 + 2);
        let inputs = random_inputs(&config.inputs, 0, 2);
        let (features, outputs) = net.forward_both_t(&inputs, true).unwrap();
        assert_eq!(features.size(), [2, 3 * 512]);
        assert_eq!(outputs.size(), [2, 2]);
        // Switching a branch on adds a backbone, and the forward pass then requires it.
        let mut with_colour = config.clone();
        with_colour.set_enabled("g_r", true).unwrap();
        assert_eq!(
            with_colour.n_parameters() - config.n_parameters(),
            ResNetDepth::ResNet18.backbone_parameters(1) + 512 * 2
        );
        // The forward pass refuses the disabled branch.
        let extra = inputs.shallow_clone().with_map("g_r", inputs.maps["r"].shallow_clone());
        let err = net.forward_t(&extra, false).unwrap_err();
        assert!(err.to_string().contains("input `g_r` is disabled"), "{err}");
        // Eval mode is deterministic.
        let a = net.forward_t(&inputs, false).unwrap();
        assert_eq!(a, net.forward_t(&inputs, false).unwrap());
    }

    #[test]
    fn scalars_and_hidden_layers_change_the_head() {
        let _rng = rng_lock();
        let config = MultiResNetConfig {
            depth: ResNetDepth::ResNet18,
            inputs: vec![InputSpec::new("m", 2, 8, 8)],
            scalars: vec![ScalarSpec::new("s0"), ScalarSpec::new("s1")],
            head_hidden: vec![16],
            n_outputs: 3,
        };
        let vs = nn::VarStore::new(Device::Cpu);
        let net = config.build(&vs.root()).unwrap();
        assert_eq!(n_trainable(&vs), config.n_parameters());
        let (features, outputs) = net.forward_both_t(&random_inputs(&config.inputs, 2, 2), false).unwrap();
        assert_eq!((features.size(), outputs.size()), (vec![2, 16], vec![2, 3]));
        let field = |c: MultiResNetConfig| match c.check() {
            Err(ModelError::InvalidConfig { field, .. }) => field,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted"),
        };
        assert_eq!(field(MultiResNetConfig { head_hidden: vec![0], ..config.clone() }), "head_hidden");
        assert_eq!(field(MultiResNetConfig { n_outputs: 0, ..config.clone() }), "n_outputs");
        assert_eq!(field(MultiResNetConfig { inputs: vec![], ..config }), "inputs");
    }
}
