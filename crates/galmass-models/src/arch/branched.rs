//! sarrato2025's two-branch CNN and exposito2026's five-branch extension.
//!
//! sarrato2025 (Sect. 4.2, Fig. 3): each map "is passed twice through a combination of convolutional layer plus
//! pooling layer, and then we apply a dropout layer"; the branches are flattened and concatenated, dense layers
//! reduce to a 32-unit penultimate layer and N = 10 outputs, with "dropout between specific layers"; R_h,
//! sigma_los and v_p98 are concatenated "to the outputs of the first dropout layer". exposito2026 (Sect. 3.3) has
//! five such branches (star_xy, star_rv; hi_mom0, hi_mom1, hi_mom2) and joins the star scalars (R_hl, sigma_v) and
//! gas scalars (R_HI, v_cold, sigma_cold) "to the output of the first dropout layer after the concatenation"; its
//! Star, Gas and StarGas models switch branches and scalars on and off.
//!
//! The layout here, for every enabled branch in configuration order:
//! `[conv k x k (bias, ReLU) -> max pool p] x len(filters) -> dropout -> flatten`; then
//! `concatenate -> dropout (head.concat_dropout) -> join the enabled scalars -> [dense (ReLU) -> dropout
//! (head.hidden_dropout)] per head.hidden width -> dense n_features (ReLU): the penultimate features ->
//! dense n_outputs (linear)`. Weights are Keras' glorot-uniform with zero biases (exposito2026 used TensorFlow).
//!
//! **Choices where the papers are silent** (neither gives filter counts, kernel sizes, padding, dense widths or
//! dropout rates): 16 and 32 filters of 3x3 with `valid` padding (Keras' default), 2x2 max pools, branch dropout
//! 0.25, one hidden dense layer of 64 units with dropout 0.25 before the 32 penultimate units. sarrato2025's scalars
//! join right after the concatenation of the (dropped-out) branches (`concat_dropout` 0: its "first dropout layer"
//! is the branches'); exposito2026 places a dropout after the concatenation before the scalars (`concat_dropout`
//! 0.25). Only the position map `star_xy` is augmented ([`Augmentation::Dihedral`]), as sarrato2025 says;
//! exposito2026 does not mention augmentation and its presets do the same (set `augment` on the HI maps to rotate
//! them with the position map: augmented maps of one sample share one symmetry).
//!
//! With these choices on 64x64 maps: `sarrato2025` has 815,082 parameters, `exposito2026-stargas` 2,033,834,
//! `exposito2026-star` 815,018 and `exposito2026-gas` 1,221,290.
//!
//! ```
//! use galmass_models::arch::BranchedCnnConfig;
//! let stargas = BranchedCnnConfig::preset("exposito2026-stargas")?;
//! let star = BranchedCnnConfig::preset("exposito2026-star")?;
//! assert!(star.n_parameters() < stargas.n_parameters());
//! assert_eq!(BranchedCnnConfig::preset("sarrato2025")?.n_parameters(), 815_082);
//! # Ok::<(), galmass_models::ModelError>(())
//! ```

use galmass_core::params::Params;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

use super::layers::{conv_out, conv_parameters, dense_parameters, keras_conv2d, keras_linear, pool_out, DenseLayer};
use super::{
    check_dropout, check_specs, invalid, to_i64, unknown_preset, Augmentation, InputContract, InputSpec, MultiInputNet,
    NetInputs, ScalarSpec,
};
use crate::error::ModelError;

/// Convolution padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// No padding: each k x k convolution trims k - 1 pixels (Keras' default).
    Valid,
    /// Zero padding keeping the size (odd kernels only).
    Same,
}

/// The convolution stack every branch shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchConfig {
    /// Filters of each convolution + pool block (galmass choice: `[16, 32]`; the papers: two blocks).
    pub filters: Vec<usize>,
    /// Square kernel side (galmass choice: 3).
    pub kernel_size: usize,
    /// Padding (galmass choice: `valid`).
    pub padding: Padding,
    /// Side of the square max pool, also its stride (galmass choice: 2).
    pub pool_size: usize,
    /// Dropout after the last block (galmass choice: 0.25).
    pub dropout: f64,
}

/// The dense head after the concatenation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadConfig {
    /// Dropout on the concatenated branch features, before the scalars join (sarrato2025 preset: 0; exposito2026:
    /// 0.25, its "first dropout layer after the concatenation").
    pub concat_dropout: f64,
    /// ReLU dense widths between the join and the penultimate layer (galmass choice: `[64]`).
    pub hidden: Vec<usize>,
    /// Dropout after each hidden layer (galmass choice: 0.25).
    pub hidden_dropout: f64,
    /// Penultimate width, the flow's conditioning features (papers: 32).
    pub n_features: usize,
    /// Outputs (papers: 10 radii, 0.6..2.4 R_h).
    pub n_outputs: usize,
}

/// A multi-branch CNN (unchecked; see [`Params::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchedCnnConfig {
    /// One branch per map; a disabled map builds no branch.
    pub inputs: Vec<InputSpec>,
    /// Scalars joined after the concatenation (disabled ones are not in the scalars tensor).
    pub scalars: Vec<ScalarSpec>,
    /// The convolution stack of every branch.
    pub branch: BranchConfig,
    /// The dense head.
    pub head: HeadConfig,
}

impl BranchConfig {
    /// galmass's choice for both papers: 16 and 32 filters of 3x3, `valid`, 2x2 pools, dropout 0.25.
    pub fn galmass_choice() -> Self {
        Self { filters: vec![16, 32], kernel_size: 3, padding: Padding::Valid, pool_size: 2, dropout: 0.25 }
    }

    /// Output side of a branch on an `n`-pixel side (`None` when a convolution or pool does not fit).
    fn out_side(&self, n: usize) -> Option<i64> {
        let k = self.kernel_size as i64;
        let pad = match self.padding {
            Padding::Valid => 0,
            Padding::Same => k / 2,
        };
        self.filters.iter().try_fold(n as i64, |n, _| pool_out(conv_out(n, k, 1, pad)?, self.pool_size as i64))
    }

    fn n_parameters(&self, in_channels: usize) -> usize {
        let mut c = in_channels;
        self.filters.iter().fold(0usize, |t, &f| {
            let t = t.saturating_add(conv_parameters(c, f, self.kernel_size));
            c = f;
            t
        })
    }

    /// Flattened width of a branch on `spec`'s maps (0 when they are too small).
    fn flat_width(&self, spec: &InputSpec) -> usize {
        let last = self.filters.last().copied().unwrap_or(spec.channels);
        match (self.out_side(spec.height), self.out_side(spec.width)) {
            (Some(h), Some(w)) => last.saturating_mul(h as usize).saturating_mul(w as usize),
            _ => 0,
        }
    }
}

impl HeadConfig {
    /// sarrato2025: scalars join the concatenated branch outputs directly; 64 -> 32 -> 10.
    pub fn sarrato2025() -> Self {
        Self { concat_dropout: 0.0, hidden: vec![64], hidden_dropout: 0.25, n_features: 32, n_outputs: 10 }
    }

    /// exposito2026: a dropout of 0.25 after the concatenation, then the scalars; 64 -> 32 -> 10.
    pub fn exposito2026() -> Self {
        Self { concat_dropout: 0.25, ..Self::sarrato2025() }
    }
}

const EXPOSITO_STAR_MAPS: [&str; 2] = ["star_xy", "star_rv"];
const EXPOSITO_GAS_MAPS: [&str; 3] = ["hi_mom0", "hi_mom1", "hi_mom2"];
const EXPOSITO_STAR_SCALARS: [&str; 2] = ["r_hl", "sigma_v"];
const EXPOSITO_GAS_SCALARS: [&str; 3] = ["r_hi", "v_cold", "sigma_cold"];
/// Side of every map of both papers.
const MAP_SIDE: usize = 64;

fn map(name: &str) -> InputSpec {
    let spec = InputSpec::new(name, 1, MAP_SIDE, MAP_SIDE);
    if name == "star_xy" {
        spec.with_augment(Augmentation::Dihedral)
    } else {
        spec
    }
}

impl BranchedCnnConfig {
    /// `sarrato2025` (maps `star_xy`, `star_rv`; scalars `r_h`, `sigma_los`, `v_p98`) or `exposito2026-star`,
    /// `-gas`, `-stargas` (maps `star_xy`, `star_rv`, `hi_mom0`, `hi_mom1`, `hi_mom2`; scalars `r_hl`, `sigma_v`
    /// (star), `r_hi`, `v_cold`, `sigma_cold` (gas), switched by model). All maps 1 x 64 x 64.
    pub fn preset(name: &str) -> Result<Self, ModelError> {
        if name == "sarrato2025" {
            return Ok(Self {
                inputs: EXPOSITO_STAR_MAPS.iter().map(|n| map(n)).collect(),
                scalars: ["r_h", "sigma_los", "v_p98"].iter().map(|n| ScalarSpec::new(n)).collect(),
                branch: BranchConfig::galmass_choice(),
                head: HeadConfig::sarrato2025(),
            });
        }
        let (star, gas) = match name {
            "exposito2026-star" => (true, false),
            "exposito2026-gas" => (false, true),
            "exposito2026-stargas" => (true, true),
            _ => return Err(unknown_preset(name)),
        };
        let inputs = EXPOSITO_STAR_MAPS
            .iter()
            .map(|n| map(n).with_enabled(star))
            .chain(EXPOSITO_GAS_MAPS.iter().map(|n| map(n).with_enabled(gas)))
            .collect();
        let scalars = EXPOSITO_STAR_SCALARS
            .iter()
            .map(|n| ScalarSpec::new(n).with_enabled(star))
            .chain(EXPOSITO_GAS_SCALARS.iter().map(|n| ScalarSpec::new(n).with_enabled(gas)))
            .collect();
        Ok(Self { inputs, scalars, branch: BranchConfig::galmass_choice(), head: HeadConfig::exposito2026() })
    }

    fn n_joined(&self) -> usize {
        let maps =
            self.inputs.iter().filter(|s| s.enabled).fold(0usize, |t, s| t.saturating_add(self.branch.flat_width(s)));
        maps.saturating_add(self.scalars.iter().filter(|s| s.enabled).count())
    }

    fn head_widths(&self) -> Vec<usize> {
        std::iter::once(self.n_joined())
            .chain(self.head.hidden.iter().copied())
            .chain([self.head.n_features, self.head.n_outputs])
            .collect()
    }

    /// Trainable parameters, from the configuration alone (saturating).
    pub fn n_parameters(&self) -> usize {
        let branches = self
            .inputs
            .iter()
            .filter(|s| s.enabled)
            .fold(0usize, |t, s| t.saturating_add(self.branch.n_parameters(s.channels)));
        self.head_widths().windows(2).fold(branches, |t, w| t.saturating_add(dense_parameters(w[0], w[1])))
    }

    /// Switches the map or scalar called `name`; an unknown name is an error.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<(), ModelError> {
        super::set_enabled(&mut self.inputs, &mut self.scalars, name, enabled)
    }

    /// Checks, then builds under `path`.
    pub fn build(&self, path: &nn::Path<'_>) -> Result<BranchedCnn, ModelError> {
        Ok(self.check()?.build(path))
    }
}

/// A checked [`BranchedCnnConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct BranchedCnnValidConfig {
    config: BranchedCnnConfig,
    n_parameters: usize,
}

impl Params for BranchedCnnConfig {
    type Valid = BranchedCnnValidConfig;
    type Error = ModelError;

    /// Valid inputs and scalars; at least one filter block, every filter count, the kernel and the pool at least
    /// 1 (an odd kernel for `same`); every enabled map large enough for the blocks; dropout rates in [0, 1);
    /// widths at least 1; the parameter count representable.
    fn check(&self) -> Result<BranchedCnnValidConfig, ModelError> {
        check_specs(&self.inputs, &self.scalars)?;
        let b = &self.branch;
        if b.filters.is_empty() {
            return Err(invalid("branch.filters", "no convolution block, expected at least one"));
        }
        for (i, &f) in b.filters.iter().enumerate() {
            if f == 0 {
                return Err(invalid("branch.filters", format!("block {i} has 0 filters, expected at least 1")));
            }
            to_i64("branch.filters", f)?;
        }
        if b.kernel_size == 0 {
            return Err(invalid("branch.kernel_size", "0, expected at least 1"));
        }
        if b.padding == Padding::Same && b.kernel_size % 2 == 0 {
            return Err(invalid("branch.kernel_size", format!("{} with `same` padding, expected odd", b.kernel_size)));
        }
        if b.pool_size == 0 {
            return Err(invalid("branch.pool_size", "0, expected at least 1"));
        }
        to_i64("branch.kernel_size", b.kernel_size)?;
        to_i64("branch.pool_size", b.pool_size)?;
        check_dropout("branch.dropout", b.dropout)?;
        for s in self.inputs.iter().filter(|s| s.enabled) {
            if b.out_side(s.height).is_none() || b.out_side(s.width).is_none() {
                return Err(invalid(
                    "inputs",
                    format!(
                        "input `{}` ({}x{}) is too small for {} blocks of {}x{} convolution and {}x{} pooling",
                        s.name,
                        s.height,
                        s.width,
                        b.filters.len(),
                        b.kernel_size,
                        b.kernel_size,
                        b.pool_size,
                        b.pool_size
                    ),
                ));
            }
        }
        let h = &self.head;
        check_dropout("head.concat_dropout", h.concat_dropout)?;
        check_dropout("head.hidden_dropout", h.hidden_dropout)?;
        for (i, &w) in h.hidden.iter().enumerate() {
            if w == 0 {
                return Err(invalid("head.hidden", format!("layer {i} has width 0, expected at least 1")));
            }
            to_i64("head.hidden", w)?;
        }
        for (field, w) in [("head.n_features", h.n_features), ("head.n_outputs", h.n_outputs)] {
            if w == 0 {
                return Err(invalid(field, "0, expected at least 1"));
            }
            to_i64(field, w)?;
        }
        let n_parameters = self.n_parameters();
        if i64::try_from(n_parameters).is_err() || n_parameters == usize::MAX {
            return Err(invalid("inputs", format!("{n_parameters} parameters overflow libtorch's i64")));
        }
        Ok(BranchedCnnValidConfig { config: self.clone(), n_parameters })
    }
}

#[derive(Debug)]
struct Branch {
    name: String,
    convs: Vec<nn::Conv2D>,
}

/// A built multi-branch CNN (keys `branches.<input>.conv{i}.weight`, `head.dense{i}`, `head.features`,
/// `head.output`).
#[derive(Debug)]
pub struct BranchedCnn {
    contract: InputContract,
    branches: Vec<Branch>,
    pool_size: i64,
    branch_dropout: f64,
    concat_dropout: f64,
    hidden: Vec<DenseLayer>,
    features: nn::Linear,
    output: nn::Linear,
    n_features: usize,
    n_outputs: usize,
}

impl BranchedCnnValidConfig {
    /// Trainable parameters.
    pub fn n_parameters(&self) -> usize {
        self.n_parameters
    }

    /// Builds under `path`.
    pub fn build(&self, path: &nn::Path<'_>) -> BranchedCnn {
        let c = &self.config;
        let k = c.branch.kernel_size as i64;
        let pad = match c.branch.padding {
            Padding::Valid => 0,
            Padding::Same => k / 2,
        };
        let root = path / "branches";
        let branches = c
            .inputs
            .iter()
            .filter(|s| s.enabled)
            .map(|s| {
                let p = &root / &s.name;
                let mut channels = s.channels as i64;
                let convs = c
                    .branch
                    .filters
                    .iter()
                    .enumerate()
                    .map(|(i, &f)| {
                        let conv = keras_conv2d(&p / format!("conv{i}"), channels, f as i64, k, 1, pad);
                        channels = f as i64;
                        conv
                    })
                    .collect();
                Branch { name: s.name.clone(), convs }
            })
            .collect();
        let head = path / "head";
        let widths: Vec<i64> = c.head_widths().into_iter().map(|w| w as i64).collect();
        // widths = [joined, hidden..., n_features, n_outputs].
        let n_hidden = c.head.hidden.len();
        let hidden = (0..n_hidden)
            .map(|i| DenseLayer {
                linear: keras_linear(&head / format!("dense{i}"), widths[i], widths[i + 1]),
                relu: true,
                dropout: c.head.hidden_dropout,
                batch_norm: None,
            })
            .collect();
        let features = keras_linear(&head / "features", widths[n_hidden], widths[n_hidden + 1]);
        let output = keras_linear(&head / "output", widths[n_hidden + 1], widths[n_hidden + 2]);
        BranchedCnn {
            contract: InputContract {
                inputs: c.inputs.clone(),
                scalars: c.scalars.clone(),
                device: path.device(),
                kind: path.kind(),
                has_batch_norm: false,
            },
            branches,
            pool_size: c.branch.pool_size as i64,
            branch_dropout: c.branch.dropout,
            concat_dropout: c.head.concat_dropout,
            hidden,
            features,
            output,
            n_features: c.head.n_features,
            n_outputs: c.head.n_outputs,
        }
    }
}

impl MultiInputNet for BranchedCnn {
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
        let p = self.pool_size;
        let mut parts: Vec<Tensor> = Vec::with_capacity(self.branches.len());
        for branch in &self.branches {
            let Some(map) = inputs.maps.get(&branch.name) else { continue };
            let h = branch.convs.iter().fold(map.shallow_clone(), |h, conv| {
                conv.forward(&h).relu().max_pool2d([p, p], [p, p], [0, 0], [1, 1], false)
            });
            parts.push(h.dropout(self.branch_dropout, train).flatten(1, -1));
        }
        let mut joined = Tensor::cat(&parts, 1).dropout(self.concat_dropout, train);
        if self.contract.n_enabled_scalars() > 0 {
            if let Some(s) = &inputs.scalars {
                joined = Tensor::cat(&[joined, s.shallow_clone()], 1);
            }
        }
        let h = self.hidden.iter().fold(joined, |h, layer| layer.forward_t(&h, train));
        let features = self.features.forward(&h).relu();
        let outputs = self.output.forward(&features);
        Ok((features, outputs))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use tch::Device;

    /// A preset on `side` x `side` maps (fast forward passes).
    fn small(name: &str, side: usize) -> BranchedCnnConfig {
        let mut c = BranchedCnnConfig::preset(name).unwrap();
        for s in &mut c.inputs {
            (s.height, s.width) = (side, side);
        }
        c
    }

    #[test]
    fn sarrato2025_shapes_and_counts() {
        let _rng = rng_lock();
        let paper = BranchedCnnConfig::preset("sarrato2025").unwrap();
        // Per branch: 1*9*16+16 + 16*9*32+32; flatten 32*14*14; head 12547 -> 64 -> 32 -> 10.
        let expected = 2 * (160 + 4640) + (2 * 6272 + 3) * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10;
        assert_eq!(paper.n_parameters(), expected);
        assert_eq!(expected, 815_082);
        let vs = nn::VarStore::new(Device::Cpu);
        paper.build(&vs.root()).unwrap();
        assert_eq!(n_trainable(&vs), expected);

        let config = small("sarrato2025", 32);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = config.build(&(vs.root() / "cnn")).unwrap();
        assert_eq!(n_trainable(&vs), config.n_parameters());
        let inputs = random_inputs(&config.inputs, 3, 4);
        let (features, outputs) = net.forward_both_t(&inputs, false).unwrap();
        assert_eq!((features.size(), outputs.size()), (vec![4, 32], vec![4, 10]));
        assert_eq!(net.forward_features_t(&inputs, false).unwrap(), features);
        assert_eq!(net.forward_t(&inputs, false).unwrap(), outputs);
        // Eval mode is deterministic; training mode draws dropout masks.
        assert_ne!(net.forward_t(&inputs, true).unwrap(), net.forward_t(&inputs, true).unwrap());
        let keys: Vec<String> = vs.variables().into_keys().collect();
        for key in ["cnn.branches.star_xy.conv0.weight", "cnn.branches.star_rv.conv1.bias", "cnn.head.features.weight"]
        {
            assert!(keys.iter().any(|k| k == key), "{key}: {keys:?}");
        }
        // Scalars are required.
        let mut no_scalars = inputs.shallow_clone();
        no_scalars.scalars = None;
        assert!(net.forward_t(&no_scalars, false).is_err());
    }

    #[test]
    fn same_seed_same_outputs() {
        let _rng = rng_lock();
        let config = small("sarrato2025", 16);
        let run = |seed: i64| {
            tch::manual_seed(seed);
            let vs = nn::VarStore::new(Device::Cpu);
            let net = config.build(&vs.root()).unwrap();
            tch::manual_seed(99);
            let inputs = random_inputs(&config.inputs, 3, 2);
            net.forward_t(&inputs, false).unwrap()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
    }

    #[test]
    fn exposito2026_models_switch_branches() {
        let _rng = rng_lock();
        let count = |name: &str| BranchedCnnConfig::preset(name).unwrap().n_parameters();
        let (star, gas, stargas) =
            (count("exposito2026-star"), count("exposito2026-gas"), count("exposito2026-stargas"));
        let branch = 160 + 4640;
        let flat = 6272 * 64;
        assert_eq!(stargas - star, 3 * branch + 3 * flat + 3 * 64);
        assert_eq!(stargas - gas, 2 * branch + 2 * flat + 2 * 64);
        assert_eq!((star, gas, stargas), (815_018, 1_221_290, 2_033_834));
        for (name, maps, n_scalars) in
            [("exposito2026-star", 2, 2), ("exposito2026-gas", 3, 3), ("exposito2026-stargas", 5, 5)]
        {
            let config = small(name, 24);
            let vs = nn::VarStore::new(Device::Cpu);
            let net = config.build(&vs.root()).unwrap();
            assert_eq!(n_trainable(&vs), config.n_parameters(), "{name}");
            let inputs = random_inputs(&config.inputs, n_scalars, 3);
            assert_eq!(inputs.maps.len(), maps);
            let out = net.forward_t(&inputs, true).unwrap();
            assert_eq!(out.size(), [3, 10], "{name}");
        }
        // The Star model refuses gas maps; the StarGas model needs them.
        let star = small("exposito2026-star", 24);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = star.build(&vs.root()).unwrap();
        let mut inputs = random_inputs(&star.inputs, 2, 2);
        inputs.maps.insert("hi_mom0".into(), inputs.maps["star_xy"].shallow_clone());
        let err = net.forward_t(&inputs, false).unwrap_err();
        assert!(err.to_string().contains("`hi_mom0` is disabled"), "{err}");
        let stargas = small("exposito2026-stargas", 24);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = stargas.build(&vs.root()).unwrap();
        let star_inputs = random_inputs(&star.inputs, 5, 2);
        let err = net.forward_t(&star_inputs, false).unwrap_err();
        assert!(err.to_string().contains("enabled input `hi_mom0` is missing"), "{err}");
    }

    #[test]
    fn augmentation_rotates_only_the_position_map() {
        let _rng = rng_lock();
        let config = small("sarrato2025", 12);
        let vs = nn::VarStore::new(Device::Cpu);
        let net = config.build(&vs.root()).unwrap();
        let inputs = random_inputs(&config.inputs, 3, 16);
        let augmented = net.augment(&inputs, 5).unwrap();
        assert_eq!(augmented.maps["star_rv"], inputs.maps["star_rv"]);
        assert_eq!(augmented.scalars.as_ref().unwrap(), inputs.scalars.as_ref().unwrap());
        assert_ne!(augmented.maps["star_xy"], inputs.maps["star_xy"]);
        assert_eq!(net.augment(&inputs, 5).unwrap().maps["star_xy"], augmented.maps["star_xy"]);
        assert_eq!(augmented.maps["star_xy"], super::super::augment::dihedral(&inputs.maps["star_xy"], 5).unwrap());
    }

    #[test]
    fn bad_configurations_are_typed_errors() {
        let _lock = crate::torch_lock();
        let good = BranchedCnnConfig::preset("sarrato2025").unwrap();
        let field = |c: BranchedCnnConfig| match c.check() {
            Err(ModelError::InvalidConfig { field, .. }) => field,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted {c:?}"),
        };
        let with_branch = |f: &dyn Fn(&mut BranchConfig)| {
            let mut c = good.clone();
            f(&mut c.branch);
            c
        };
        let with_head = |f: &dyn Fn(&mut HeadConfig)| {
            let mut c = good.clone();
            f(&mut c.head);
            c
        };
        assert_eq!(field(with_branch(&|b| b.filters = vec![16, 0])), "branch.filters");
        assert_eq!(field(with_branch(&|b| b.filters = vec![])), "branch.filters");
        assert_eq!(field(with_branch(&|b| b.kernel_size = 0)), "branch.kernel_size");
        assert_eq!(field(with_branch(&|b| (b.kernel_size, b.padding) = (4, Padding::Same))), "branch.kernel_size");
        assert_eq!(field(with_branch(&|b| b.pool_size = 0)), "branch.pool_size");
        assert_eq!(field(with_branch(&|b| b.dropout = -0.25)), "branch.dropout");
        assert_eq!(field(with_branch(&|b| b.filters = vec![4; 6])), "inputs");
        assert_eq!(field(with_head(&|h| h.concat_dropout = 1.5)), "head.concat_dropout");
        assert_eq!(field(with_head(&|h| h.hidden_dropout = f64::INFINITY)), "head.hidden_dropout");
        assert_eq!(field(with_head(&|h| h.hidden = vec![0])), "head.hidden");
        assert_eq!(field(with_head(&|h| h.n_features = 0)), "head.n_features");
        assert_eq!(field(with_head(&|h| h.n_outputs = 0)), "head.n_outputs");
        let mut renamed = good.clone();
        renamed.inputs[1].name = "star.rv".into();
        assert_eq!(field(renamed), "inputs");
        let mut off = good.clone();
        off.set_enabled("star_xy", false).unwrap();
        off.set_enabled("star_rv", false).unwrap();
        assert_eq!(field(off), "inputs");
        // `same` padding keeps sizes: 64 -> 32 -> 16.
        let same = with_branch(&|b| b.padding = Padding::Same);
        assert_eq!(same.n_parameters() - good.n_parameters(), 2 * (32 * 16 * 16 - 6272) * 64);
        // Nothing was created for a refused configuration.
        let vs = nn::VarStore::new(Device::Cpu);
        assert!(with_branch(&|b| b.filters = vec![0]).build(&vs.root()).is_err());
        assert!(vs.variables().is_empty());
    }
}
