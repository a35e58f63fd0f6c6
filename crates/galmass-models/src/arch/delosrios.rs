//! delosrios2023's networks A, B and C (its tables C1-C3) and ResNet-50, on a stack of input channels.
//!
//! The inputs (SDSS u, g, r, i, z and HI moments 0, 1, 2; 128x128) are stacked along the channel axis in
//! configuration order, so switching channels on and off gives the paper's input sets (the headline 6-channel set is
//! u, r, z + the 3 moments: switch `g` and `i` off). Every enabled input must share one height and width.
//!
//! Layers as the tables, in their order (Keras semantics, which the paper's "Chollet et al." suggests): every
//! convolution has `valid` padding, a bias and ReLU; "2 px pooling" is a 2x2 max pool of stride 2 (floor);
//! dropout is element-wise; batch norm follows the dropout; every dense layer has ReLU, dropout and batch norm;
//! the output layer is linear (20 units: log10 M_DM at 20 radii).
//!
//! | network | convolution rows (kernels, size, stride; + pool, dropout) | dense | dropout |
//! |---|---|---|---|
//! | A (C1) | 64 5x5/2 +p+d, 128 5x5/2 +p+d, 128 5x5/2 +p+d | 256, 128, 64 | 25% |
//! | B (C2) | **64 5x5/2** +p+d, 128 5x5/2 +p+d, 256 5x5/2 | 256, 128, 64 | 50% |
//! | C (C3) | 64 5x5/2 +p+d, 128 5x5/2 +d, 256 5x5/2 +d, 256 3x3/1 +d | 256, 64 | 50% |
//!
//! **Table C2's first row.** The text extraction of C2 kept only "2D max pooling, Dropout, Batch normalization, 2 px
//! pooling, 50% dropout fraction" of its first row: the convolution is lost. We reconstruct it as 64 kernels of
//! 5x5, stride 2, as the first rows of C1 and C3: at 8 x 128 x 128 this gives 1,343,892 trainable weights, which
//! is the caption's "~1.3e6". The alternatives do not fit: 32 kernels give 1,234,996 (~1.2e6), 128 kernels
//! 1,561,684 (~1.6e6), and a 3x3 stride-1 first layer leaves a 6x6x256 map and 3.4e6 weights. The same rules give A 704,532 (caption ~7e5) and C 2,237,204 (caption ~2.2e6), which also pins `valid`
//! padding (with `same` padding A would have a 2x2x128 map before the dense layers and 802,836 weights).
//! Keras would also report 1,536 (A), 1,792 (B) or 2,048 (C) non-trainable batch-norm statistics; the
//! counts here are the trainable ones, as the captions' "trainable weights".
//!
//! ResNet-50: "for the structure of ResNet50 see He et al. (2015); Chollet et al. (2015)"; we use the shared
//! torchvision-layout backbone ([`resnet`](super::resnet)) on the channel stack, global average pooling and one
//! linear layer to the outputs (the paper gives no head). With 8 channels and 20 outputs it has 23,564,692
//! parameters, 33x network A (the paper says "approximately 40x").
//!
//! Batch norm uses Keras' defaults (epsilon 1e-3, moving-average momentum 0.99), convolution and dense weights
//! Keras' glorot-uniform with zero biases. The penultimate features are the 64 outputs of the last dense block
//! (A, B, C) or the 2048 pooled ResNet features.
//!
//! ```
//! use galmass_models::arch::DelosRiosConfig;
//! assert_eq!(DelosRiosConfig::preset("delosrios2023-a")?.n_parameters(), 704_532);
//! assert_eq!(DelosRiosConfig::preset("delosrios2023-b")?.n_parameters(), 1_343_892);
//! assert_eq!(DelosRiosConfig::preset("delosrios2023-c")?.n_parameters(), 2_237_204);
//! # Ok::<(), galmass_models::ModelError>(())
//! ```

use galmass_core::params::Params;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

use super::layers::{
    batch_norm, conv_out, conv_parameters, dense_parameters, keras_conv2d, keras_linear, pool_out, DenseLayer,
    KERAS_BN_EPS, KERAS_BN_MOMENTUM,
};
use super::resnet::{build_backbone, ResNetBackbone, ResNetDepth};
use super::{
    check_dropout, check_specs, invalid, to_i64, unknown_preset, InputContract, InputSpec, MultiInputNet, NetInputs,
    ScalarSpec,
};
use crate::error::ModelError;

/// Which of delosrios2023's networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DelosRiosNetwork {
    /// Table C1 (~7e5 weights, dropout 25%).
    A,
    /// Table C2, the paper's benchmark (~1.3e6 weights, dropout 50%).
    B,
    /// Table C3 (~2.2e6 weights, dropout 50%).
    C,
    /// ResNet-50 on the channel stack.
    Resnet50,
}

/// One convolution row of a table: kernels, kernel size, stride, then optional pool and dropout; batch norm always.
#[derive(Debug, Clone, Copy)]
struct ConvRow {
    filters: usize,
    kernel: usize,
    stride: usize,
    pool: bool,
    dropout: bool,
}

const fn row(filters: usize, kernel: usize, stride: usize, pool: bool, dropout: bool) -> ConvRow {
    ConvRow { filters, kernel, stride, pool, dropout }
}

/// The 2x2 pool of every table.
const POOL: usize = 2;

impl DelosRiosNetwork {
    /// Convolution rows and dense widths of tables C1-C3 (empty for ResNet-50).
    fn table(self) -> (&'static [ConvRow], &'static [usize]) {
        const A: [ConvRow; 3] = [row(64, 5, 2, true, true), row(128, 5, 2, true, true), row(128, 5, 2, true, true)];
        // First row reconstructed (see the module docs).
        const B: [ConvRow; 3] = [row(64, 5, 2, true, true), row(128, 5, 2, true, true), row(256, 5, 2, false, false)];
        const C: [ConvRow; 4] = [
            row(64, 5, 2, true, true),
            row(128, 5, 2, false, true),
            row(256, 5, 2, false, true),
            row(256, 3, 1, false, true),
        ];
        match self {
            DelosRiosNetwork::A => (&A, &[256, 128, 64]),
            DelosRiosNetwork::B => (&B, &[256, 128, 64]),
            DelosRiosNetwork::C => (&C, &[256, 64]),
            DelosRiosNetwork::Resnet50 => (&[], &[]),
        }
    }

    /// The paper's dropout fraction: 25% (A), 50% (B, C), none (ResNet-50).
    pub fn paper_dropout(self) -> f64 {
        match self {
            DelosRiosNetwork::A => 0.25,
            DelosRiosNetwork::B | DelosRiosNetwork::C => 0.5,
            DelosRiosNetwork::Resnet50 => 0.0,
        }
    }
}

/// delosrios2023's network on a channel stack (unchecked; see [`Params::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelosRiosConfig {
    /// Which network.
    pub network: DelosRiosNetwork,
    /// The channels, stacked in this order; all enabled ones share one height and width.
    pub inputs: Vec<InputSpec>,
    /// Dropout fraction of every dropout layer (paper: [`DelosRiosNetwork::paper_dropout`]; must be 0 for
    /// ResNet-50, which has none).
    pub dropout: f64,
    /// Outputs (paper: 20 radii).
    pub n_outputs: usize,
}

/// A checked [`DelosRiosConfig`].
#[derive(Debug, Clone, PartialEq)]
pub struct DelosRiosValidConfig {
    config: DelosRiosConfig,
    in_channels: i64,
    /// Flattened features after the last convolution row.
    n_flat: usize,
    n_parameters: usize,
}

#[derive(Debug)]
struct ConvBlock {
    conv: nn::Conv2D,
    pool: bool,
    dropout: f64,
    bn: nn::BatchNorm,
}

#[derive(Debug)]
enum Body {
    Table { convs: Vec<ConvBlock>, dense: Vec<DenseLayer> },
    Resnet(Box<ResNetBackbone>),
}

/// A built delosrios2023 network (keys `conv{i}`, `conv{i}_bn`, `dense{i}`, `dense{i}_bn`, `output`; ResNet-50:
/// `backbone.*`, `output`).
#[derive(Debug)]
pub struct DelosRiosNet {
    contract: InputContract,
    body: Body,
    output: nn::Linear,
    n_features: usize,
    n_outputs: usize,
}

const ALL_CHANNELS: [&str; 8] = ["u", "g", "r", "i", "z", "hi_mom0", "hi_mom1", "hi_mom2"];

impl DelosRiosConfig {
    /// `delosrios2023-a`, `-b`, `-c`, `-resnet50`: all 8 channels (ugriz + HI moments 0-2, 128x128, as the
    /// captions' counts), the paper's dropout, 20 outputs.
    pub fn preset(name: &str) -> Result<Self, ModelError> {
        let network = match name {
            "delosrios2023-a" => DelosRiosNetwork::A,
            "delosrios2023-b" => DelosRiosNetwork::B,
            "delosrios2023-c" => DelosRiosNetwork::C,
            "delosrios2023-resnet50" => DelosRiosNetwork::Resnet50,
            _ => return Err(unknown_preset(name)),
        };
        Ok(Self {
            network,
            inputs: ALL_CHANNELS.iter().map(|n| InputSpec::new(n, 1, 128, 128)).collect(),
            dropout: network.paper_dropout(),
            n_outputs: 20,
        })
    }

    fn enabled(&self) -> impl Iterator<Item = &InputSpec> {
        self.inputs.iter().filter(|s| s.enabled)
    }

    fn in_channels(&self) -> usize {
        self.enabled().fold(0usize, |t, s| t.saturating_add(s.channels))
    }

    /// Spatial side after the convolution rows (`None` when the input is too small), and the flattened width.
    fn flat_width(&self) -> Result<usize, String> {
        let (convs, _) = self.network.table();
        let Some(first) = self.enabled().next() else { return Ok(0) };
        let (mut h, mut w) = (first.height as i64, first.width as i64);
        for (i, r) in convs.iter().enumerate() {
            let step = |n: i64| {
                let n = conv_out(n, r.kernel as i64, r.stride as i64, 0)?;
                if r.pool {
                    pool_out(n, POOL as i64)
                } else {
                    Some(n)
                }
            };
            match (step(h), step(w)) {
                (Some(a), Some(b)) => (h, w) = (a, b),
                _ => {
                    return Err(format!(
                        "{}x{} maps are too small for convolution row {i} of network {:?}",
                        first.height, first.width, self.network
                    ))
                }
            }
        }
        let filters = convs.last().map_or(0, |r| r.filters) as i64;
        Ok((filters * h * w) as usize)
    }

    /// Trainable parameters, from the configuration alone (saturating; 0 when the maps are too small, which
    /// [`Params::check`] refuses).
    pub fn n_parameters(&self) -> usize {
        let in_channels = self.in_channels();
        if self.network == DelosRiosNetwork::Resnet50 {
            return ResNetDepth::ResNet50
                .backbone_parameters(in_channels)
                .saturating_add(dense_parameters(ResNetDepth::ResNet50.n_features(), self.n_outputs));
        }
        let (convs, dense) = self.network.table();
        let mut total = 0usize;
        let mut c = in_channels;
        for r in convs {
            total = total.saturating_add(conv_parameters(c, r.filters, r.kernel)).saturating_add(2 * r.filters);
            c = r.filters;
        }
        let mut n = self.flat_width().unwrap_or(0);
        for &d in dense {
            total = total.saturating_add(dense_parameters(n, d)).saturating_add(2 * d);
            n = d;
        }
        total.saturating_add(dense_parameters(n, self.n_outputs))
    }

    /// Switches the channel called `name`; an unknown name is an error.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<(), ModelError> {
        super::set_enabled(&mut self.inputs, &mut [], name, enabled)
    }

    /// Checks, then builds under `path`.
    pub fn build(&self, path: &nn::Path<'_>) -> Result<DelosRiosNet, ModelError> {
        Ok(self.check()?.build(path))
    }
}

impl Params for DelosRiosConfig {
    type Valid = DelosRiosValidConfig;
    type Error = ModelError;

    /// Valid inputs sharing one height and width, large enough for every convolution and pool of the table
    /// (network A needs at least 127 px, B 95 px, C 87 px), dropout in [0, 1) (0 for ResNet-50), `n_outputs` at least 1.
    fn check(&self) -> Result<DelosRiosValidConfig, ModelError> {
        check_specs(&self.inputs, &[])?;
        let mut enabled = self.enabled();
        if let Some(first) = enabled.next() {
            if let Some(other) = enabled.find(|s| (s.height, s.width) != (first.height, first.width)) {
                return Err(invalid(
                    "inputs",
                    format!(
                        "input `{}` is {}x{} but `{}` is {}x{}: stacked channels share one size",
                        other.name, other.height, other.width, first.name, first.height, first.width
                    ),
                ));
            }
        }
        check_dropout("dropout", self.dropout)?;
        if self.network == DelosRiosNetwork::Resnet50 && self.dropout != 0.0 {
            return Err(invalid(
                "dropout",
                format!("{} for ResNet-50, which has no dropout: expected 0", self.dropout),
            ));
        }
        if self.n_outputs == 0 {
            return Err(invalid("n_outputs", "0 outputs, expected at least 1"));
        }
        to_i64("n_outputs", self.n_outputs)?;
        let n_flat = self.flat_width().map_err(|reason| invalid("inputs", reason))?;
        let in_channels = to_i64("inputs", self.in_channels())?;
        let n_parameters = self.n_parameters();
        if i64::try_from(n_parameters).is_err() || n_parameters == usize::MAX {
            return Err(invalid("inputs", format!("{n_parameters} parameters overflow libtorch's i64")));
        }
        Ok(DelosRiosValidConfig { config: self.clone(), in_channels, n_flat, n_parameters })
    }
}

impl DelosRiosValidConfig {
    /// Trainable parameters.
    pub fn n_parameters(&self) -> usize {
        self.n_parameters
    }

    /// Builds under `path`.
    pub fn build(&self, path: &nn::Path<'_>) -> DelosRiosNet {
        let c = &self.config;
        let contract = InputContract {
            inputs: c.inputs.clone(),
            scalars: vec![],
            device: path.device(),
            kind: path.kind(),
            has_batch_norm: true,
        };
        let (body, n_features) = if c.network == DelosRiosNetwork::Resnet50 {
            let backbone = build_backbone(&(path / "backbone"), ResNetDepth::ResNet50, self.in_channels);
            (Body::Resnet(Box::new(backbone)), ResNetDepth::ResNet50.n_features())
        } else {
            let (rows, widths) = c.network.table();
            let mut channels = self.in_channels;
            let mut convs = Vec::with_capacity(rows.len());
            for (i, r) in rows.iter().enumerate() {
                let filters = r.filters as i64;
                let conv =
                    keras_conv2d(path / format!("conv{i}"), channels, filters, r.kernel as i64, r.stride as i64, 0);
                let bn = batch_norm(path / format!("conv{i}_bn"), filters, true, KERAS_BN_EPS, KERAS_BN_MOMENTUM);
                convs.push(ConvBlock { conv, pool: r.pool, dropout: if r.dropout { c.dropout } else { 0.0 }, bn });
                channels = filters;
            }
            let mut n = self.n_flat as i64;
            let mut dense = Vec::with_capacity(widths.len());
            for (i, &w) in widths.iter().enumerate() {
                let w = w as i64;
                dense.push(DenseLayer {
                    linear: keras_linear(path / format!("dense{i}"), n, w),
                    relu: true,
                    dropout: c.dropout,
                    batch_norm: Some(batch_norm(
                        path / format!("dense{i}_bn"),
                        w,
                        false,
                        KERAS_BN_EPS,
                        KERAS_BN_MOMENTUM,
                    )),
                });
                n = w;
            }
            (Body::Table { convs, dense }, n as usize)
        };
        let output = if c.network == DelosRiosNetwork::Resnet50 {
            nn::linear(path / "output", n_features as i64, c.n_outputs as i64, Default::default())
        } else {
            keras_linear(path / "output", n_features as i64, c.n_outputs as i64)
        };
        DelosRiosNet { contract, body, output, n_features, n_outputs: c.n_outputs }
    }
}

impl MultiInputNet for DelosRiosNet {
    fn input_specs(&self) -> &[InputSpec] {
        &self.contract.inputs
    }
    fn scalar_specs(&self) -> &[ScalarSpec] {
        &[]
    }
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn n_outputs(&self) -> usize {
        self.n_outputs
    }
    fn forward_both_t(&self, inputs: &NetInputs, train: bool) -> Result<(Tensor, Tensor), ModelError> {
        self.contract.check(inputs, train)?;
        let maps: Vec<Tensor> = self
            .contract
            .inputs
            .iter()
            .filter(|s| s.enabled)
            .filter_map(|s| inputs.maps.get(&s.name).map(Tensor::shallow_clone))
            .collect();
        let stack = Tensor::cat(&maps, 1);
        let features = match &self.body {
            Body::Resnet(backbone) => backbone.forward_t(&stack, train),
            Body::Table { convs, dense } => {
                let mut h = stack;
                for block in convs {
                    h = block.conv.forward(&h).relu();
                    if block.pool {
                        h = h.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
                    }
                    if block.dropout > 0.0 {
                        h = h.dropout(block.dropout, train);
                    }
                    h = block.bn.forward_t(&h, train);
                }
                // Keras flattens channels-last; the order only permutes the first dense layer's weights.
                dense.iter().fold(h.flatten(1, -1), |h, layer| layer.forward_t(&h, train))
            }
        };
        let outputs = self.output.forward(&features);
        Ok((features, outputs))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use tch::Device;

    /// The paper's caption counts, with the precision it quotes them to.
    fn rounds_to(count: usize, quoted: f64, significant_step: f64) -> bool {
        ((count as f64 / significant_step).round() * significant_step - quoted).abs() < 1e-6 * quoted
    }

    #[test]
    fn tables_c1_c3_counts_match_the_captions() {
        let _rng = rng_lock();
        // The captions quote ~7e5 (one significant figure), ~1.3e6 and ~2.2e6 (two): our exact counts must round
        // to them at that precision (a tolerance of half the last quoted digit: 5e4 for A, 5e4 for B and C).
        let cases = [("a", 704_532, 7e5, 1e5), ("b", 1_343_892, 1.3e6, 1e5), ("c", 2_237_204, 2.2e6, 1e5)];
        for (net, exact, quoted, step) in cases {
            let config = DelosRiosConfig::preset(&format!("delosrios2023-{net}")).unwrap();
            assert_eq!(config.n_parameters(), exact, "{net}");
            assert!(rounds_to(exact, quoted, step), "{net}: {exact} vs {quoted}");
            let vs = nn::VarStore::new(Device::Cpu);
            let built = config.build(&vs.root()).unwrap();
            assert_eq!(n_trainable(&vs), exact, "{net}");
            assert_eq!(built.n_features(), 64);
            // "exact number depends on the number of input channels": the first convolution only.
            let mut six = config.clone();
            six.set_enabled("g", false).unwrap();
            six.set_enabled("i", false).unwrap();
            assert_eq!(exact - six.n_parameters(), 2 * 25 * 64, "{net}");
        }
        let resnet = DelosRiosConfig::preset("delosrios2023-resnet50").unwrap();
        assert_eq!(resnet.n_parameters(), 23_564_692);
        let ratio = resnet.n_parameters() as f64 / 704_532.0;
        // "approximately 40x more free parameters than network architecture A": 33x here.
        assert!((30.0..45.0).contains(&ratio), "{ratio}");
    }

    #[test]
    fn forward_shapes_and_modes() {
        let _rng = rng_lock();
        for net in ["a", "b", "c"] {
            let mut config = DelosRiosConfig::preset(&format!("delosrios2023-{net}")).unwrap();
            config.set_enabled("g", false).unwrap();
            config.set_enabled("i", false).unwrap();
            let vs = nn::VarStore::new(Device::Cpu);
            let model = config.build(&(vs.root() / "dlr")).unwrap();
            assert_eq!(n_trainable(&vs), config.n_parameters());
            let inputs = random_inputs(&config.inputs, 0, 2);
            let (features, outputs) = model.forward_both_t(&inputs, true).unwrap();
            assert_eq!((features.size(), outputs.size()), (vec![2, 64], vec![2, 20]), "{net}");
            let eval = model.forward_t(&inputs, false).unwrap();
            assert_eq!(eval, model.forward_t(&inputs, false).unwrap(), "{net}");
            // Training mode draws dropout masks.
            assert_ne!(model.forward_t(&inputs, true).unwrap(), model.forward_t(&inputs, true).unwrap(), "{net}");
            // The disabled channels are refused.
            let err = model.forward_t(&inputs.shallow_clone().with_map("g", inputs.maps["u"].shallow_clone()), false);
            assert!(err.unwrap_err().to_string().contains("`g` is disabled"));
        }
        let keys: Vec<String> = {
            let vs = nn::VarStore::new(Device::Cpu);
            DelosRiosConfig::preset("delosrios2023-b").unwrap().build(&vs.root()).unwrap();
            vs.variables().into_keys().collect()
        };
        for key in ["conv0.weight", "conv2_bn.running_var", "dense2_bn.weight", "output.bias"] {
            assert!(keys.iter().any(|k| k == key), "{key}");
        }
    }

    #[test]
    fn resnet50_on_a_small_stack() {
        let _rng = rng_lock();
        let mut config = DelosRiosConfig::preset("delosrios2023-resnet50").unwrap();
        for s in &mut config.inputs {
            (s.height, s.width) = (32, 32);
        }
        config.inputs.truncate(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let model = config.build(&vs.root()).unwrap();
        assert_eq!(n_trainable(&vs), config.n_parameters());
        let (features, outputs) = model.forward_both_t(&random_inputs(&config.inputs, 0, 2), false).unwrap();
        assert_eq!((features.size(), outputs.size()), (vec![2, 2048], vec![2, 20]));
    }

    #[test]
    fn bad_configurations_are_typed_errors() {
        let _lock = crate::torch_lock();
        let field = |c: DelosRiosConfig| match c.check() {
            Err(ModelError::InvalidConfig { field, .. }) => field,
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("accepted {c:?}"),
        };
        let b = DelosRiosConfig::preset("delosrios2023-b").unwrap();
        assert_eq!(field(DelosRiosConfig { dropout: -0.1, ..b.clone() }), "dropout");
        assert_eq!(field(DelosRiosConfig { dropout: 1.0, ..b.clone() }), "dropout");
        assert_eq!(field(DelosRiosConfig { dropout: f64::NAN, ..b.clone() }), "dropout");
        assert_eq!(field(DelosRiosConfig { n_outputs: 0, ..b.clone() }), "n_outputs");
        let mut small = b.clone();
        for s in &mut small.inputs {
            (s.height, s.width) = (64, 64);
        }
        assert_eq!(field(small.clone()), "inputs");
        let mut c = small.clone();
        c.network = DelosRiosNetwork::C;
        assert_eq!(field(c.clone()), "inputs");
        for s in &mut c.inputs {
            (s.height, s.width) = (95, 95);
        }
        c.check().unwrap();
        let mut mixed = b.clone();
        mixed.inputs[3].width = 100;
        assert_eq!(field(mixed), "inputs");
        let mut resnet = DelosRiosConfig::preset("delosrios2023-resnet50").unwrap();
        resnet.dropout = 0.5;
        assert_eq!(field(resnet), "dropout");
        let mut unknown = b.clone();
        assert!(unknown.set_enabled("hi_mom3", false).is_err());
        let mut a = DelosRiosConfig::preset("delosrios2023-a").unwrap();
        for s in &mut a.inputs {
            (s.height, s.width) = (126, 126);
        }
        assert_eq!(field(a.clone()), "inputs");
        for s in &mut a.inputs {
            (s.height, s.width) = (127, 127);
        }
        a.check().unwrap();
    }
}
