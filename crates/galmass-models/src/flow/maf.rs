//! The masked autoregressive flow (Papamakarios et al. 2017, as sbi's `build_maf` on nflows): `n_transforms`
//! affine autoregressive transforms, each a [`MADE`](super::made) giving a shift and a raw scale per dimension
//! (scale = softplus(raw) + 1e-3), a permutation between transforms, and a standard normal base.
//!
//! The flow maps data `x` to noise: each transform computes `z_i = scale_i(x_<i, c) x_i + shift_i(x_<i, c)`, so
//! `log q(x | c) = log N(z; 0, I) + sum log scale`. Sampling runs the inverse, dimension by dimension (`D` MADE
//! passes per transform), for many contexts at once. Everything here works in the units the flow was trained in
//! (z-scored); [`Posterior`](super::Posterior) brings densities and samples back to the original units.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_models::flow::{MafConfig, Permutation};
//! let config = MafConfig::sarrato2025(10, 32);
//! assert_eq!((config.n_transforms, config.hidden, config.permutation), (5, 50, Permutation::Random));
//! assert!(MafConfig { n_dims: 0, ..config.clone() }.check().is_err());
//! assert!(config.check().is_ok());
//! ```

use galmass_core::params::Params;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

use super::made::{Activation, HiddenDegrees, Made, MadeShape};
use crate::error::ModelError;

/// The added floor of every scale: `scale = softplus(raw) + SCALE_FLOOR` (nflows' epsilon).
pub const SCALE_FLOOR: f64 = 1e-3;

/// The permutation of the dimensions between transforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Permutation {
    /// Reverse the order.
    Reverse,
    /// A random permutation drawn from the flow's seed, one per gap between transforms (sbi's `RandomPermutation`).
    Random,
}

/// The shape of a masked autoregressive flow (unchecked; see [`Params::check`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MafConfig {
    /// Dimensions of the modelled variable (the parameters, `theta`).
    pub n_dims: usize,
    /// Dimensions of the context (0: an unconditional density).
    pub n_context: usize,
    /// Autoregressive transforms (sarrato2025: 5).
    pub n_transforms: usize,
    /// Width of each MADE's hidden layers (sarrato2025: 50).
    pub hidden: usize,
    /// Hidden-to-hidden layers of each MADE after the first hidden layer (nflows' `num_blocks`; sbi: 2).
    pub n_blocks: usize,
    /// Non-linearity (sbi: tanh).
    pub activation: Activation,
    /// Permutation between transforms (sbi: random).
    pub permutation: Permutation,
    /// How hidden units get their degrees (sbi: cycling).
    pub hidden_degrees: HiddenDegrees,
}

impl MafConfig {
    /// sarrato2025's flow on sbi's `build_maf` defaults: 5 transforms, 50 hidden features, 2 blocks, tanh, random
    /// permutations, cycling degrees.
    pub fn sarrato2025(n_dims: usize, n_context: usize) -> Self {
        Self {
            n_dims,
            n_context,
            n_transforms: 5,
            hidden: 50,
            n_blocks: 2,
            activation: Activation::Tanh,
            permutation: Permutation::Random,
            hidden_degrees: HiddenDegrees::Cycle,
        }
    }

    /// Number of trainable parameters.
    pub fn n_parameters(&self) -> usize {
        let (d, c, h) = (self.n_dims, self.n_context, self.hidden);
        let context = if c > 0 { c * h + h } else { 0 };
        let per_made = (d * h + h) + context + self.n_blocks * (h * h + h) + (h * 2 * d + 2 * d);
        per_made.saturating_mul(self.n_transforms)
    }

    /// Checks the configuration, then builds the flow under `path` with weights, random permutations and random
    /// degrees drawn from `seed`.
    pub fn build(&self, path: &nn::Path<'_>, seed: u64) -> Result<Maf, ModelError> {
        Ok(self.check()?.build(path, seed))
    }
}

impl Params for MafConfig {
    type Valid = MafValidConfig;
    type Error = ModelError;

    /// `n_dims`, `n_transforms` at least 1; `hidden` at least `max(1, n_dims - 1)` (so that every dimension's
    /// inputs reach it; `n_dims` with a context); sizes representable by libtorch.
    fn check(&self) -> Result<MafValidConfig, ModelError> {
        let invalid = |field: &'static str, reason: String| Err(ModelError::InvalidConfig { field, reason });
        if self.n_dims == 0 {
            return invalid("n_dims", "must be at least 1".into());
        }
        if self.n_transforms == 0 {
            return invalid("n_transforms", "must be at least 1".into());
        }
        let least = if self.n_context > 0 { self.n_dims } else { self.n_dims.saturating_sub(1).max(1) };
        if self.hidden < least {
            return invalid(
                "hidden",
                format!(
                    "{} units cannot carry the degrees of {} dimensions, expected at least {least}",
                    self.hidden, self.n_dims
                ),
            );
        }
        const LIMIT: usize = 1 << 24;
        for (field, value) in [
            ("n_dims", self.n_dims),
            ("n_context", self.n_context),
            ("hidden", self.hidden),
            ("n_blocks", self.n_blocks),
        ] {
            if value > LIMIT {
                return invalid(field, format!("{value} is more than {LIMIT}"));
            }
        }
        if self.n_transforms > 1024 {
            return invalid("n_transforms", format!("{} is more than 1024", self.n_transforms));
        }
        if self.n_parameters() > (1 << 34) {
            return invalid("hidden", format!("{} parameters is more than 2^34", self.n_parameters()));
        }
        Ok(MafValidConfig(self.clone()))
    }
}

/// A checked [`MafConfig`], ready to build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MafValidConfig(MafConfig);

impl MafValidConfig {
    /// The configuration.
    pub fn config(&self) -> &MafConfig {
        &self.0
    }

    /// Builds the flow under `path`: transform `i` under `t{i}` (see [`super::made`] for the layer names), weights
    /// (libtorch's default uniform ranges), random permutations and random degrees drawn from `seed` (ChaCha8), so
    /// the same configuration and seed give the same flow whatever libtorch's global generator holds.
    pub fn build(&self, path: &nn::Path<'_>, seed: u64) -> Maf {
        let c = &self.0;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let shape = MadeShape {
            n_dims: c.n_dims,
            n_context: c.n_context,
            hidden: c.hidden,
            n_blocks: c.n_blocks,
            activation: c.activation,
            degrees: c.hidden_degrees,
        };
        let mut transforms = Vec::with_capacity(c.n_transforms);
        let mut permutations = Vec::with_capacity(c.n_transforms.saturating_sub(1));
        for i in 0..c.n_transforms {
            transforms.push(Made::new(&(path / format!("t{i}")), shape, &mut rng));
            if i + 1 < c.n_transforms {
                let mut order: Vec<i64> = (0..c.n_dims as i64).collect();
                match c.permutation {
                    Permutation::Reverse => order.reverse(),
                    Permutation::Random => order.shuffle(&mut rng),
                }
                let mut inverse = vec![0i64; order.len()];
                for (k, &o) in order.iter().enumerate() {
                    inverse[o as usize] = k as i64;
                }
                let device = path.device();
                permutations.push((
                    Tensor::from_slice(&order).to_device(device),
                    Tensor::from_slice(&inverse).to_device(device),
                ));
            }
        }
        Maf { transforms, permutations, n_dims: c.n_dims, n_context: c.n_context }
    }
}

/// A built flow; its variables live under the `nn::Path` it was built with.
#[derive(Debug)]
pub struct Maf {
    transforms: Vec<Made>,
    /// Between transform `i` and `i + 1`: the order (`x[:, order]`) and its inverse.
    permutations: Vec<(Tensor, Tensor)>,
    n_dims: usize,
    n_context: usize,
}

fn scale_of(raw: &Tensor) -> Tensor {
    raw.softplus() + SCALE_FLOOR
}

impl Maf {
    /// Dimensions of the modelled variable.
    pub fn n_dims(&self) -> usize {
        self.n_dims
    }

    /// Dimensions of the context.
    pub fn n_context(&self) -> usize {
        self.n_context
    }

    fn context<'a>(&self, context: Option<&'a Tensor>) -> Option<&'a Tensor> {
        if self.n_context > 0 {
            context
        } else {
            None
        }
    }

    /// `log q(x | context)` `(batch,)` of `x` `(batch, D)` and `context` `(batch, C)` (ignored when `C = 0`), in the
    /// flow's units; differentiable.
    pub fn log_prob(&self, x: &Tensor, context: Option<&Tensor>) -> Tensor {
        let context = self.context(context);
        let mut h = x.to_kind(Kind::Float);
        let mut log_det = Tensor::zeros([x.size()[0]], (Kind::Float, x.device()));
        for (i, made) in self.transforms.iter().enumerate() {
            let (raw, shift) = made.forward(&h, context);
            let scale = scale_of(&raw);
            log_det += scale.log().sum_dim_intlist(1, false, Kind::Float);
            h = &scale * &h + shift;
            if let Some((order, _)) = self.permutations.get(i) {
                h = h.index_select(1, order);
            }
        }
        let base = (h.square() * -0.5).sum_dim_intlist(1, false, Kind::Float)
            - 0.5 * (2.0 * std::f64::consts::PI).ln() * self.n_dims as f64;
        base + log_det
    }

    /// The inverse pass: data `(batch, D)` from standard normal `noise` `(batch, D)` and `context` `(batch, C)`
    /// (no gradients).
    pub fn sample_from_noise(&self, noise: &Tensor, context: Option<&Tensor>) -> Tensor {
        let context = self.context(context);
        tch::no_grad(|| {
            let mut h = noise.to_kind(Kind::Float);
            for (i, made) in self.transforms.iter().enumerate().rev() {
                if let Some((_, inverse)) = self.permutations.get(i) {
                    h = h.index_select(1, inverse);
                }
                // After pass k the first k + 1 dimensions are exact: their shift and scale depend on earlier ones.
                let mut x = Tensor::zeros_like(&h);
                for _ in 0..self.n_dims {
                    let (raw, shift) = made.forward(&x, context);
                    x = (&h - shift) / scale_of(&raw);
                }
                h = x;
            }
            h
        })
    }
}

#[cfg(test)]
mod tests {
    use tch::Device;

    use super::*;

    /// Sampling inverts the density's forward pass: log q of a sample equals the base log-density of its noise
    /// minus the log-determinant, checked through the exact inverse on random weights.
    #[test]
    fn sampling_inverts_the_forward_pass_and_densities_normalise() {
        let _lock = crate::torch_lock();
        for (n_dims, permutation) in [(1, Permutation::Reverse), (3, Permutation::Random), (2, Permutation::Reverse)] {
            let vs = nn::VarStore::new(Device::Cpu);
            let config = MafConfig { hidden: 8, n_blocks: 1, permutation, ..MafConfig::sarrato2025(n_dims, 2) };
            let maf = config.build(&(vs.root() / "maf"), 3).unwrap();
            // Perturb the output layers away from the identity.
            tch::no_grad(|| {
                for (_, mut v) in vs.variables() {
                    let noise = Tensor::randn(v.size(), (Kind::Float, Device::Cpu)) * 0.3;
                    v += noise;
                }
            });
            let context = Tensor::randn([64, 2], (Kind::Float, Device::Cpu));
            let noise = Tensor::randn([64, n_dims as i64], (Kind::Float, Device::Cpu));
            let x = maf.sample_from_noise(&noise, Some(&context));
            // Forward from x gives back the noise.
            let mut h = x.shallow_clone();
            for (i, made) in maf.transforms.iter().enumerate() {
                let (raw, shift) = made.forward(&h, Some(&context));
                h = scale_of(&raw) * &h + shift;
                if let Some((order, _)) = maf.permutations.get(i) {
                    h = h.index_select(1, order);
                }
            }
            let err = (&h - &noise).abs().max().double_value(&[]);
            assert!(err < 1e-4, "D = {n_dims}: inverse error {err}");
            assert_eq!(maf.log_prob(&x, Some(&context)).size(), vec![64]);
        }
        // A 1-D density integrates to one (trapezoid on a wide grid) for a fixed context.
        let vs = nn::VarStore::new(Device::Cpu);
        let maf = MafConfig { hidden: 8, ..MafConfig::sarrato2025(1, 1) }.build(&(vs.root() / "m"), 1).unwrap();
        let grid = Tensor::linspace(-12.0, 12.0, 4001, (Kind::Float, Device::Cpu)).unsqueeze(1);
        let context = Tensor::full([4001, 1], 0.7, (Kind::Float, Device::Cpu));
        let density = maf.log_prob(&grid, Some(&context)).exp();
        let integral = density.sum(Kind::Double).double_value(&[]) * 24.0 / 4000.0;
        assert!((integral - 1.0).abs() < 1e-3, "{integral}");
    }

    #[test]
    fn configurations_are_checked() {
        let _lock = crate::torch_lock();
        let good = MafConfig::sarrato2025(2, 3);
        let field = |c: MafConfig| match c.check() {
            Err(ModelError::InvalidConfig { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(MafConfig { n_dims: 0, ..good.clone() }), "n_dims");
        assert_eq!(field(MafConfig { n_transforms: 0, ..good.clone() }), "n_transforms");
        assert_eq!(field(MafConfig { hidden: 1, ..good.clone() }), "hidden");
        assert_eq!(field(MafConfig { hidden: usize::MAX, ..good.clone() }), "hidden");
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = good.build(&(vs.root() / "maf"), 0).unwrap();
        let n: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
        assert_eq!(n as usize, good.n_parameters());
        let json = serde_json::to_value(&good).unwrap();
        assert_eq!(json["permutation"], "random");
        assert_eq!(serde_json::from_value::<MafConfig>(json).unwrap(), good);
    }
}
