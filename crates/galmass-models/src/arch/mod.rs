//! The four papers' networks behind one multi-input interface.
//!
//! Every architecture takes **named maps** (`star_xy`, `star_rv`, `hi_mom0`, `r`, `v_mean`, ...), each a
//! `(batch, channels, height, width)` tensor described by an [`InputSpec`] (name, channel count, spatial size,
//! `enabled`), plus an optional `(batch, n_scalars)` tensor of the enabled named scalars ([`ScalarSpec`], in
//! configuration order), and returns `(batch, n_outputs)`. [`MultiInputNet::forward_features_t`] returns the
//! penultimate features a masked autoregressive flow conditions on (sarrato2025's 32 features). `train` switches
//! dropout and batch norm. Inputs are checked in Rust before any libtorch call: a missing enabled input, a disabled or
//! unknown one, a wrong shape, kind or device is a [`ModelError::InvalidData`], never a panic inside `tch`; a bad
//! configuration is a [`ModelError::InvalidConfig`] naming the field, before anything is built.
//!
//! | module | paper | network |
//! |---|---|---|
//! | [`resnet`] | chu2024, delosrios2023 | torchvision-layout ResNet-18/34/50/101 backbones, any input channels |
//! | [`multi_resnet`] | chu2024 | one ResNet backbone per input map, joined by a fully connected head |
//! | [`delosrios`] | delosrios2023 | networks A, B, C (tables C1-C3) and ResNet-50 on a channel stack |
//! | [`branched`] | sarrato2025, exposito2026 | one small CNN branch per map, scalars joined after the concatenation |
//! | [`augment`] | sarrato2025 | seeded random 90-degree rotations and flips of training maps |
//!
//! [`ArchConfig`] gathers the three configurations behind the presets ([`ArchConfig::PRESETS`]); its
//! [`ArchConfig::n_parameters`] is computed from the configuration alone and equals the built VarStore's trainable
//! count.
//!
//! ```
//! use galmass_models::arch::{ArchConfig, MultiInputNet, NetInputs};
//! use tch::{nn, Device, Kind, Tensor};
//! let mut config = ArchConfig::preset("exposito2026-stargas")?;
//! config.set_enabled("hi_mom2", false)?; // switch a branch off
//! let vs = nn::VarStore::new(Device::Cpu);
//! let net = config.build(&(vs.root() / "cnn"))?;
//! let map = || Tensor::rand([4, 1, 64, 64], (Kind::Float, Device::Cpu));
//! let inputs = NetInputs::new()
//!     .with_map("star_xy", map())
//!     .with_map("star_rv", map())
//!     .with_map("hi_mom0", map())
//!     .with_map("hi_mom1", map())
//!     .with_scalars(Tensor::rand([4, 5], (Kind::Float, Device::Cpu)));
//! let (features, masses) = net.forward_both_t(&inputs, false)?;
//! assert_eq!(features.size(), [4, 32]);
//! assert_eq!(masses.size(), [4, 10]);
//! assert_eq!(config.n_parameters(), vs.trainable_variables().iter().map(|t| t.numel()).sum::<usize>());
//! # Ok::<(), galmass_models::ModelError>(())
//! ```

pub mod augment;
pub mod branched;
pub mod delosrios;
mod layers;
pub mod multi_resnet;
pub mod resnet;

use std::collections::{BTreeMap, BTreeSet};

use galmass_core::params::Params;
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

use crate::error::ModelError;

pub use branched::{BranchConfig, BranchedCnn, BranchedCnnConfig, HeadConfig, Padding};
pub use delosrios::{DelosRiosConfig, DelosRiosNet, DelosRiosNetwork};
pub use multi_resnet::{MultiResNet, MultiResNetConfig};
pub use resnet::ResNetDepth;

/// How an input map is augmented during training ([`MultiInputNet::augment`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Augmentation {
    /// Left as it is (the default).
    #[default]
    None,
    /// A seeded random element of the square's symmetry group per sample: a rotation by 0, 90, 180 or 270 degrees,
    /// optionally followed by a flip (sarrato2025: the position map "is randomly rotated and/or flipped"). Needs a
    /// square map.
    Dihedral,
}

/// One named input map of shape `(batch, channels, height, width)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// Name of the map in [`NetInputs::maps`] and in checkpoint keys: ASCII letters, digits and `_`.
    pub name: String,
    /// Channels.
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Whether the network uses this input (default true); a disabled input builds no parameters and is refused
    /// by the forward pass.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Training augmentation (default none).
    #[serde(default)]
    pub augment: Augmentation,
}

/// One named scalar input: a column of the `(batch, n_scalars)` scalars tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalarSpec {
    /// Name (ASCII letters, digits and `_`), unique among maps and scalars.
    pub name: String,
    /// Whether the network uses this scalar (default true). The scalars tensor holds the enabled scalars only, in
    /// configuration order.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl InputSpec {
    /// An enabled map without augmentation.
    pub fn new(name: &str, channels: usize, height: usize, width: usize) -> Self {
        Self { name: name.to_string(), channels, height, width, enabled: true, augment: Augmentation::None }
    }

    /// The same map with this augmentation.
    pub fn with_augment(self, augment: Augmentation) -> Self {
        Self { augment, ..self }
    }

    /// The same map, switched on or off.
    pub fn with_enabled(self, enabled: bool) -> Self {
        Self { enabled, ..self }
    }
}

impl ScalarSpec {
    /// An enabled scalar.
    pub fn new(name: &str) -> Self {
        Self { name: name.to_string(), enabled: true }
    }

    /// The same scalar, switched on or off.
    pub fn with_enabled(self, enabled: bool) -> Self {
        Self { enabled, ..self }
    }
}

/// The inputs of one forward pass: named maps and the optional scalars.
#[derive(Debug, Default)]
pub struct NetInputs {
    /// `(batch, channels, height, width)` maps by input name: exactly the enabled inputs.
    pub maps: BTreeMap<String, Tensor>,
    /// `(batch, n_enabled_scalars)`, columns in configuration order; `None` when the network has no enabled scalar.
    pub scalars: Option<Tensor>,
}

impl NetInputs {
    /// No inputs yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a map.
    pub fn with_map(mut self, name: &str, map: Tensor) -> Self {
        self.maps.insert(name.to_string(), map);
        self
    }

    /// Sets the scalars.
    pub fn with_scalars(mut self, scalars: Tensor) -> Self {
        self.scalars = Some(scalars);
        self
    }

    /// A shallow copy (the tensors share storage).
    pub fn shallow_clone(&self) -> Self {
        Self {
            maps: self.maps.iter().map(|(k, v)| (k.clone(), v.shallow_clone())).collect(),
            scalars: self.scalars.as_ref().map(Tensor::shallow_clone),
        }
    }
}

/// The forward interface every architecture of this module implements.
pub trait MultiInputNet {
    /// Every input map of the configuration, enabled or not.
    fn input_specs(&self) -> &[InputSpec];

    /// Every scalar of the configuration, enabled or not.
    fn scalar_specs(&self) -> &[ScalarSpec];

    /// Width of the penultimate features ([`MultiInputNet::forward_features_t`]).
    fn n_features(&self) -> usize;

    /// Width of the output.
    fn n_outputs(&self) -> usize;

    /// Penultimate features and outputs of one pass, `((batch, n_features), (batch, n_outputs))`.
    fn forward_both_t(&self, inputs: &NetInputs, train: bool) -> Result<(Tensor, Tensor), ModelError>;

    /// The outputs, `(batch, n_outputs)`.
    fn forward_t(&self, inputs: &NetInputs, train: bool) -> Result<Tensor, ModelError> {
        Ok(self.forward_both_t(inputs, train)?.1)
    }

    /// The penultimate features, `(batch, n_features)` (the conditioning vector of a flow).
    fn forward_features_t(&self, inputs: &NetInputs, train: bool) -> Result<Tensor, ModelError> {
        Ok(self.forward_both_t(inputs, train)?.0)
    }

    /// The inputs with each enabled map's configured [`Augmentation`] applied, seeded: call it on training batches
    /// only. Maps without augmentation and the scalars are passed through (shallow copies). All augmented maps of
    /// one sample get the same symmetry (one draw per sample from `seed`), as one rotation of the sky would.
    fn augment(&self, inputs: &NetInputs, seed: u64) -> Result<NetInputs, ModelError> {
        let mut out = inputs.shallow_clone();
        for spec in self.input_specs().iter().filter(|s| s.enabled) {
            if let (Augmentation::Dihedral, Some(map)) = (spec.augment, inputs.maps.get(&spec.name)) {
                out.maps.insert(spec.name.clone(), augment::dihedral(map, seed)?);
            }
        }
        Ok(out)
    }
}

/// Any of the architectures (serde: `kind = "branched" | "multi-resnet" | "delos-rios"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ArchConfig {
    /// sarrato2025 / exposito2026.
    Branched(BranchedCnnConfig),
    /// chu2024.
    MultiResnet(MultiResNetConfig),
    /// delosrios2023.
    DelosRios(DelosRiosConfig),
}

/// A built architecture.
#[derive(Debug)]
pub enum Network {
    /// sarrato2025 / exposito2026.
    Branched(BranchedCnn),
    /// chu2024.
    MultiResnet(MultiResNet),
    /// delosrios2023.
    DelosRios(DelosRiosNet),
}

impl ArchConfig {
    /// The preset names [`ArchConfig::preset`] knows.
    pub const PRESETS: &'static [&'static str] = &[
        "chu2024-resnet18",
        "chu2024-resnet50",
        "delosrios2023-a",
        "delosrios2023-b",
        "delosrios2023-c",
        "delosrios2023-resnet50",
        "sarrato2025",
        "exposito2026-star",
        "exposito2026-gas",
        "exposito2026-stargas",
    ];

    /// The configuration of a paper's network by name (see [`ArchConfig::PRESETS`] and each module's presets).
    pub fn preset(name: &str) -> Result<Self, ModelError> {
        if name.starts_with("chu2024") {
            MultiResNetConfig::preset(name).map(ArchConfig::MultiResnet)
        } else if name.starts_with("delosrios2023") {
            DelosRiosConfig::preset(name).map(ArchConfig::DelosRios)
        } else if name.starts_with("sarrato2025") || name.starts_with("exposito2026") {
            BranchedCnnConfig::preset(name).map(ArchConfig::Branched)
        } else {
            Err(unknown_preset(name))
        }
    }

    /// Trainable parameters, from the configuration alone (saturating for absurd sizes, which
    /// [`Params::check`] refuses).
    pub fn n_parameters(&self) -> usize {
        match self {
            ArchConfig::Branched(c) => c.n_parameters(),
            ArchConfig::MultiResnet(c) => c.n_parameters(),
            ArchConfig::DelosRios(c) => c.n_parameters(),
        }
    }

    /// Switches the map or scalar called `name` on or off; an unknown name is an error.
    pub fn set_enabled(&mut self, name: &str, enabled: bool) -> Result<(), ModelError> {
        match self {
            ArchConfig::Branched(c) => c.set_enabled(name, enabled),
            ArchConfig::MultiResnet(c) => c.set_enabled(name, enabled),
            ArchConfig::DelosRios(c) => c.set_enabled(name, enabled),
        }
    }

    /// Checks, then builds under `path`.
    pub fn build(&self, path: &nn::Path<'_>) -> Result<Network, ModelError> {
        Ok(match self {
            ArchConfig::Branched(c) => Network::Branched(c.build(path)?),
            ArchConfig::MultiResnet(c) => Network::MultiResnet(c.build(path)?),
            ArchConfig::DelosRios(c) => Network::DelosRios(c.build(path)?),
        })
    }
}

impl Params for ArchConfig {
    type Valid = ArchConfig;
    type Error = ModelError;

    /// Checks the inner configuration; the checked form is the configuration itself (each inner configuration's
    /// own `check` gives its detailed checked form).
    fn check(&self) -> Result<ArchConfig, ModelError> {
        match self {
            ArchConfig::Branched(c) => c.check().map(|_| ()),
            ArchConfig::MultiResnet(c) => c.check().map(|_| ()),
            ArchConfig::DelosRios(c) => c.check().map(|_| ()),
        }?;
        Ok(self.clone())
    }
}

impl Network {
    fn inner(&self) -> &dyn MultiInputNet {
        match self {
            Network::Branched(n) => n,
            Network::MultiResnet(n) => n,
            Network::DelosRios(n) => n,
        }
    }
}

impl MultiInputNet for Network {
    fn input_specs(&self) -> &[InputSpec] {
        self.inner().input_specs()
    }
    fn scalar_specs(&self) -> &[ScalarSpec] {
        self.inner().scalar_specs()
    }
    fn n_features(&self) -> usize {
        self.inner().n_features()
    }
    fn n_outputs(&self) -> usize {
        self.inner().n_outputs()
    }
    fn forward_both_t(&self, inputs: &NetInputs, train: bool) -> Result<(Tensor, Tensor), ModelError> {
        self.inner().forward_both_t(inputs, train)
    }
}

// ---- shared checks ------------------------------------------------------------------------------------------

pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidConfig { field, reason: reason.into() }
}

/// An error about the tensors handed to a forward pass or an augmentation (field `inputs` or `scalars`).
pub(crate) fn input_error(field: &'static str, reason: impl Into<String>) -> ModelError {
    ModelError::InvalidData { field, reason: reason.into() }
}

pub(crate) fn unknown_preset(name: &str) -> ModelError {
    invalid("preset", format!("unknown preset `{name}`, expected one of {}", ArchConfig::PRESETS.join(", ")))
}

pub(crate) fn to_i64(field: &'static str, value: usize) -> Result<i64, ModelError> {
    i64::try_from(value).map_err(|_| invalid(field, format!("{value} is more than libtorch can index")))
}

/// A dropout rate in [0, 1).
pub(crate) fn check_dropout(field: &'static str, p: f64) -> Result<(), ModelError> {
    if p.is_finite() && (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(invalid(field, format!("dropout rate {p}, expected a number in [0, 1)")))
    }
}

fn check_name(field: &'static str, name: &str) -> Result<(), ModelError> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(field, format!("name `{name}` must be non-empty ASCII letters, digits or `_`")));
    }
    Ok(())
}

/// Names valid and unique (maps and scalars together), sizes at least 1 and representable, at least one enabled
/// map, dihedral augmentation only on square maps.
pub(crate) fn check_specs(inputs: &[InputSpec], scalars: &[ScalarSpec]) -> Result<(), ModelError> {
    let mut seen = BTreeSet::new();
    for spec in inputs {
        check_name("inputs", &spec.name)?;
        if !seen.insert(spec.name.as_str()) {
            return Err(invalid("inputs", format!("name `{}` appears twice", spec.name)));
        }
        for (what, value) in [("channels", spec.channels), ("height", spec.height), ("width", spec.width)] {
            if value == 0 {
                return Err(invalid("inputs", format!("input `{}` has {what} 0, expected at least 1", spec.name)));
            }
            to_i64("inputs", value)?;
        }
        if spec.augment == Augmentation::Dihedral && spec.height != spec.width {
            return Err(invalid(
                "inputs",
                format!(
                    "input `{}` is {}x{}: dihedral augmentation needs a square map",
                    spec.name, spec.height, spec.width
                ),
            ));
        }
    }
    for spec in scalars {
        check_name("scalars", &spec.name)?;
        if !seen.insert(spec.name.as_str()) {
            return Err(invalid("scalars", format!("name `{}` appears twice among maps and scalars", spec.name)));
        }
    }
    if !inputs.iter().any(|s| s.enabled) {
        return Err(invalid("inputs", "no input map is enabled, expected at least one"));
    }
    Ok(())
}

/// Switches the map or scalar `name`; an unknown name is an error listing the known ones.
pub(crate) fn set_enabled(
    inputs: &mut [InputSpec],
    scalars: &mut [ScalarSpec],
    name: &str,
    enabled: bool,
) -> Result<(), ModelError> {
    if let Some(spec) = inputs.iter_mut().find(|s| s.name == name) {
        spec.enabled = enabled;
        return Ok(());
    }
    if let Some(spec) = scalars.iter_mut().find(|s| s.name == name) {
        spec.enabled = enabled;
        return Ok(());
    }
    let known: Vec<&str> =
        inputs.iter().map(|s| s.name.as_str()).chain(scalars.iter().map(|s| s.name.as_str())).collect();
    Err(invalid("inputs", format!("unknown input `{name}`, expected one of {}", known.join(", "))))
}

/// What the forward pass needs to know to check its inputs.
#[derive(Debug, Clone)]
pub(crate) struct InputContract {
    pub(crate) inputs: Vec<InputSpec>,
    pub(crate) scalars: Vec<ScalarSpec>,
    pub(crate) device: Device,
    pub(crate) kind: Kind,
    /// Whether a batch norm layer needs more than one sample in training mode.
    pub(crate) has_batch_norm: bool,
}

impl InputContract {
    pub(crate) fn n_enabled_scalars(&self) -> usize {
        self.scalars.iter().filter(|s| s.enabled).count()
    }

    /// Checks the tensors against the configuration and returns the batch size: exactly the enabled maps, each
    /// `(batch, channels, height, width)` of the model's kind and device, one batch size, the scalars
    /// `(batch, n_enabled_scalars)` (or absent when there are none), and at least 2 samples in training mode when
    /// batch norm is present.
    pub(crate) fn check(&self, given: &NetInputs, train: bool) -> Result<i64, ModelError> {
        for name in given.maps.keys() {
            match self.inputs.iter().find(|s| &s.name == name) {
                None => {
                    let known: Vec<&str> = self.inputs.iter().map(|s| s.name.as_str()).collect();
                    return Err(input_error(
                        "inputs",
                        format!("`{name}` is not an input of this network, expected one of {}", known.join(", ")),
                    ));
                }
                Some(spec) if !spec.enabled => {
                    return Err(input_error("inputs", format!("input `{name}` is disabled in this configuration")));
                }
                Some(_) => {}
            }
        }
        let mut batch: Option<(i64, String)> = None;
        let mut agree = |n: i64, what: &str| -> Result<(), ModelError> {
            match &batch {
                Some((b, first)) if *b != n => Err(input_error(
                    "inputs",
                    format!("`{what}` has batch size {n} but `{first}` has {b}, expected one batch size"),
                )),
                Some(_) => Ok(()),
                None => {
                    batch = Some((n, what.to_string()));
                    Ok(())
                }
            }
        };
        for spec in self.inputs.iter().filter(|s| s.enabled) {
            let Some(map) = given.maps.get(&spec.name) else {
                return Err(input_error("inputs", format!("enabled input `{}` is missing", spec.name)));
            };
            let expected = [spec.channels as i64, spec.height as i64, spec.width as i64];
            let size = map.size();
            if size.len() != 4 || size[1..] != expected {
                return Err(input_error(
                    "inputs",
                    format!(
                        "input `{}` has shape {size:?}, expected [batch, {}, {}, {}]",
                        spec.name, expected[0], expected[1], expected[2]
                    ),
                ));
            }
            self.check_tensor("inputs", &spec.name, map)?;
            agree(size[0], &spec.name)?;
        }
        let n_scalars = self.n_enabled_scalars() as i64;
        match (&given.scalars, n_scalars) {
            (None, 0) => {}
            (None, n) => {
                return Err(input_error("scalars", format!("missing: this network expects {n} scalars per sample")))
            }
            (Some(s), n) => {
                let size = s.size();
                if size.len() != 2 || size[1] != n {
                    return Err(input_error("scalars", format!("shape {size:?}, expected [batch, {n}]")));
                }
                self.check_tensor("scalars", "scalars", s)?;
                agree(size[0], "scalars")?;
            }
        }
        let batch = batch.map(|(b, _)| b).unwrap_or(0);
        if batch < 1 {
            return Err(input_error("inputs", "empty batch, expected at least one sample"));
        }
        if train && self.has_batch_norm && batch < 2 {
            return Err(input_error("inputs", "batch norm in training mode needs at least 2 samples per batch"));
        }
        Ok(batch)
    }

    fn check_tensor(&self, field: &'static str, name: &str, t: &Tensor) -> Result<(), ModelError> {
        if t.kind() != self.kind {
            return Err(input_error(field, format!("`{name}` is {:?}, expected {:?}", t.kind(), self.kind)));
        }
        if t.device() != self.device {
            return Err(input_error(field, format!("`{name}` is on {:?}, expected {:?}", t.device(), self.device)));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::MutexGuard;

    use tch::{nn, Device, Kind, Tensor};

    use super::{InputSpec, NetInputs};

    /// Serialises the tests that draw from libtorch's global generator (the crate's one lock).
    pub(crate) fn rng_lock() -> MutexGuard<'static, ()> {
        crate::torch_lock()
    }

    pub(crate) fn n_trainable(vs: &nn::VarStore) -> usize {
        vs.trainable_variables().iter().map(|t| t.numel()).sum()
    }

    /// Random maps for every enabled input, and scalars when `n_scalars > 0`.
    pub(crate) fn random_inputs(specs: &[InputSpec], n_scalars: usize, batch: i64) -> NetInputs {
        let mut inputs = NetInputs::new();
        for s in specs.iter().filter(|s| s.enabled) {
            let shape = [batch, s.channels as i64, s.height as i64, s.width as i64];
            inputs = inputs.with_map(&s.name, Tensor::rand(shape, (Kind::Float, Device::Cpu)));
        }
        if n_scalars > 0 {
            inputs = inputs.with_scalars(Tensor::rand([batch, n_scalars as i64], (Kind::Float, Device::Cpu)));
        }
        inputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_checks_and_counts_parameters() {
        let _lock = crate::torch_lock();
        for name in ArchConfig::PRESETS {
            let config = ArchConfig::preset(name).unwrap();
            config.check().unwrap();
            assert!(config.n_parameters() > 10_000, "{name}");
        }
        assert!(matches!(ArchConfig::preset("lenet"), Err(ModelError::InvalidConfig { field: "preset", .. })));
        assert!(matches!(
            ArchConfig::preset("delosrios2023-d"),
            Err(ModelError::InvalidConfig { field: "preset", .. })
        ));
    }

    #[test]
    fn configurations_round_trip_through_serde_and_refuse_unknown_fields() {
        let _lock = crate::torch_lock();
        for name in ArchConfig::PRESETS {
            let config = ArchConfig::preset(name).unwrap();
            let json = serde_json::to_value(&config).unwrap();
            assert_eq!(serde_json::from_value::<ArchConfig>(json.clone()).unwrap(), config, "{name}");
            let mut extra = json.clone();
            extra["n_filters"] = serde_json::json!(3);
            assert!(serde_json::from_value::<ArchConfig>(extra).is_err(), "{name}");
        }
        let json = serde_json::json!({
            "kind": "branched",
            "inputs": [{"name": "star_xy", "channels": 1, "height": 64, "width": 64, "augment": "dihedral"}],
            "scalars": [{"name": "r_h"}],
            "branch": {"filters": [16, 32], "kernel_size": 3, "padding": "valid", "pool_size": 2, "dropout": 0.25},
            "head": {"concat_dropout": 0.0, "hidden": [64], "hidden_dropout": 0.25, "n_features": 32, "n_outputs": 10}
        });
        let config: ArchConfig = serde_json::from_value(json).unwrap();
        let ArchConfig::Branched(c) = &config else { panic!("{config:?}") };
        assert!(c.inputs[0].enabled && c.scalars[0].enabled);
        assert_eq!(c.inputs[0].augment, Augmentation::Dihedral);
        let bad =
            serde_json::json!({"kind": "delos-rios", "network": "d", "inputs": [], "dropout": 0.0, "n_outputs": 1});
        assert!(serde_json::from_value::<ArchConfig>(bad).is_err());
    }

    #[test]
    fn switching_an_unknown_name_is_a_typed_error() {
        let _lock = crate::torch_lock();
        let mut config = ArchConfig::preset("sarrato2025").unwrap();
        let err = config.set_enabled("hi_mom0", true).unwrap_err();
        assert!(err.to_string().contains("unknown input `hi_mom0`"), "{err}");
        config.set_enabled("v_p98", false).unwrap();
        config.check().unwrap();
    }

    #[test]
    fn bad_names_and_sizes_are_typed_errors() {
        let _lock = crate::torch_lock();
        let ok = [InputSpec::new("a", 1, 8, 8)];
        assert!(check_specs(&ok, &[]).is_ok());
        let field = |inputs: &[InputSpec], scalars: &[ScalarSpec]| match check_specs(inputs, scalars) {
            Err(ModelError::InvalidConfig { field, .. }) => field,
            Err(other) => panic!("{other}"),
            Ok(()) => panic!("accepted {inputs:?} {scalars:?}"),
        };
        assert_eq!(field(&[InputSpec::new("a.b", 1, 8, 8)], &[]), "inputs");
        assert_eq!(field(&[InputSpec::new("", 1, 8, 8)], &[]), "inputs");
        assert_eq!(field(&[InputSpec::new("a", 0, 8, 8)], &[]), "inputs");
        assert_eq!(field(&[InputSpec::new("a", 1, 8, 8), InputSpec::new("a", 1, 8, 8)], &[]), "inputs");
        assert_eq!(field(&[InputSpec::new("a", 1, 8, 8).with_enabled(false)], &[]), "inputs");
        assert_eq!(field(&[InputSpec::new("a", 1, 8, 6).with_augment(Augmentation::Dihedral)], &[]), "inputs");
        assert_eq!(field(&ok, &[ScalarSpec::new("a")]), "scalars");
        assert_eq!(field(&ok, &[ScalarSpec::new("r h")]), "scalars");
    }

    #[test]
    fn forward_accepts_exactly_the_enabled_inputs() {
        let _lock = crate::torch_lock();
        let contract = InputContract {
            inputs: vec![InputSpec::new("a", 1, 4, 4), InputSpec::new("b", 2, 3, 3).with_enabled(false)],
            scalars: vec![ScalarSpec::new("s"), ScalarSpec::new("t").with_enabled(false)],
            device: Device::Cpu,
            kind: Kind::Float,
            has_batch_norm: true,
        };
        let map = |shape: &[i64]| Tensor::zeros(shape, (Kind::Float, Device::Cpu));
        let good = || NetInputs::new().with_map("a", map(&[2, 1, 4, 4])).with_scalars(map(&[2, 1]));
        assert_eq!(contract.check(&good(), true).unwrap(), 2);
        let reason = |inputs: NetInputs, train: bool| contract.check(&inputs, train).unwrap_err().to_string();
        assert!(reason(NetInputs::new().with_scalars(map(&[2, 1])), false).contains("enabled input `a` is missing"));
        assert!(reason(good().with_map("b", map(&[2, 2, 3, 3])), false).contains("`b` is disabled"));
        assert!(reason(good().with_map("c", map(&[2, 1, 4, 4])), false).contains("`c` is not an input"));
        assert!(reason(good().with_map("a", map(&[2, 3, 4, 4])), false).contains("expected [batch, 1, 4, 4]"));
        assert!(reason(good().with_map("a", map(&[1, 4, 4])), false).contains("expected [batch, 1, 4, 4]"));
        assert!(reason(good().with_scalars(map(&[2, 2])), false).contains("expected [batch, 1]"));
        assert!(reason(good().with_scalars(map(&[3, 1])), false).contains("batch size"));
        let mut no_scalars = good();
        no_scalars.scalars = None;
        assert!(reason(no_scalars, false).contains("expects 1 scalars"));
        let double = NetInputs::new()
            .with_map("a", Tensor::zeros([2, 1, 4, 4], (Kind::Double, Device::Cpu)))
            .with_scalars(map(&[2, 1]));
        assert!(reason(double, false).contains("expected Float"));
        let single = NetInputs::new().with_map("a", map(&[1, 1, 4, 4])).with_scalars(map(&[1, 1]));
        assert!(reason(single.shallow_clone(), true).contains("at least 2 samples"));
        assert_eq!(contract.check(&single, false).unwrap(), 1);
    }
}
