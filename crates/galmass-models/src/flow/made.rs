//! MADE (Germain et al. 2015): a feed-forward network whose masks make output `i` depend only on inputs `< i`, and
//! here on a context vector too; one MADE gives the shift and raw scale of one affine autoregressive transform.
//!
//! # Degrees and masks (nflows' scheme)
//! Inputs carry degrees `1..=D`. Hidden units carry degrees cycling over a range (`arange(H) % span + low`, nflows'
//! `random_mask = False`) or drawn uniformly from it by the seed ([`HiddenDegrees::Random`]). A hidden unit sees
//! the units before it of degree `<=` its own; an output of dimension `i` (degree `i`) sees the last hidden units of
//! degree `< i`. The context enters the first hidden layer through its own unmasked linear map (sbi/nflows), so
//! every hidden unit sees it.
//!
//! Deviation from nflows, on purpose: with a context, hidden degrees range over `0..=D-1` instead of `1..=D-1`.
//! nflows' range starts at 1 for `D >= 2`, which leaves the first dimension's shift and scale of every MADE a
//! constant (no hidden unit has a degree below 1), so within one transform that dimension ignores the context;
//! degree-0 units see the context alone and feed every output. With `D = 1` nflows' range is `{0}` already and the
//! context reaches the output the same way. Without a context the range is nflows' (`1..=D-1`, `{0}` for `D = 1`).
//!
//! ```
//! use galmass_models::flow::made::{hidden_degrees, input_degrees};
//! use galmass_models::flow::HiddenDegrees;
//! assert_eq!(input_degrees(3), vec![1, 2, 3]);
//! // D = 3 with a context: hidden degrees cycle 0, 1, 2.
//! assert_eq!(hidden_degrees(5, 3, true, HiddenDegrees::Cycle, &mut None), vec![0, 1, 2, 0, 1]);
//! // Without a context, nflows' 1..=D-1.
//! assert_eq!(hidden_degrees(4, 3, false, HiddenDegrees::Cycle, &mut None), vec![1, 2, 1, 2]);
//! ```

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// The non-linearity between hidden layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `tanh` (sbi's `build_maf`).
    Tanh,
    /// `max(0, x)`.
    Relu,
}

impl Activation {
    fn apply(self, xs: &Tensor) -> Tensor {
        match self {
            Activation::Tanh => xs.tanh(),
            Activation::Relu => xs.relu(),
        }
    }
}

/// How hidden units get their degrees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HiddenDegrees {
    /// Cycling over the range (nflows' default, sbi's `random_mask = False`).
    Cycle,
    /// Uniform over the range, drawn from the flow's seed, anew for each hidden layer.
    Random,
}

/// Degrees of the `n_dims` inputs: `1..=n_dims`.
pub fn input_degrees(n_dims: usize) -> Vec<usize> {
    (1..=n_dims).collect()
}

/// Degrees of `n_hidden` hidden units of a MADE over `n_dims` dimensions (see the module docs for the range);
/// `rng` is used (and required) by [`HiddenDegrees::Random`] only, which falls back to cycling without one.
pub fn hidden_degrees(
    n_hidden: usize,
    n_dims: usize,
    has_context: bool,
    kind: HiddenDegrees,
    rng: &mut Option<&mut ChaCha8Rng>,
) -> Vec<usize> {
    let top = n_dims.saturating_sub(1);
    // nflows: `arange(H) % max(1, D - 1) + min(1, D - 1)`; with a context `arange(H) % D`.
    let (low, span) = if has_context { (0, n_dims.max(1)) } else { (1.min(top), top.max(1)) };
    match (kind, rng.as_deref_mut()) {
        (HiddenDegrees::Random, Some(rng)) => (0..n_hidden).map(|_| rng.random_range(low..low + span)).collect(),
        _ => (0..n_hidden).map(|k| k % span + low).collect(),
    }
}

/// A mask `(out, in)`: 1 where `out` may see `in` (`>=` between hidden layers, `>` into the outputs).
fn mask(out_degrees: &[usize], in_degrees: &[usize], strict: bool) -> Vec<f32> {
    let mut values = Vec::with_capacity(out_degrees.len() * in_degrees.len());
    for &o in out_degrees {
        for &i in in_degrees {
            let connected = if strict { o > i } else { o >= i };
            values.push(if connected { 1.0 } else { 0.0 });
        }
    }
    values
}

/// Uniform values in `[-bound, bound]` from `rng` (libtorch's default `Linear` initialisation is uniform with
/// `bound = 1 / sqrt(fan_in)`; drawing it from the flow's own seed keeps builds independent of libtorch's global
/// generator, so models built on parallel threads are reproducible).
fn uniform(rng: &mut ChaCha8Rng, n: usize, bound: f64) -> Vec<f32> {
    (0..n).map(|_| (rng.random_range(-1.0..=1.0) * bound) as f32).collect()
}

/// A linear layer `y = x (W * M)^T + b` with a fixed mask `M` (no mask: all ones).
#[derive(Debug)]
pub(crate) struct MaskedLinear {
    weight: Tensor,
    bias: Tensor,
    mask: Option<Tensor>,
}

impl MaskedLinear {
    /// Variables `weight` `(out, in)` and `bias` `(out)` under `path`, drawn from `rng`, the weights scaled by
    /// `weight_scale`; `mask` (row-major `(out, in)`) is not a variable: it is rebuilt from the configuration.
    fn new(
        path: &nn::Path<'_>,
        n_in: usize,
        n_out: usize,
        mask: Option<Vec<f32>>,
        weight_scale: f64,
        rng: &mut ChaCha8Rng,
    ) -> Self {
        let bound = 1.0 / (n_in.max(1) as f64).sqrt();
        let shape = [n_out as i64, n_in as i64];
        let w = Tensor::from_slice(&uniform(rng, n_out * n_in, bound * weight_scale)).reshape(shape);
        let b = Tensor::from_slice(&uniform(rng, n_out, bound));
        let weight = path.var_copy("weight", &w);
        let bias = path.var_copy("bias", &b);
        let mask = mask.map(|m| Tensor::from_slice(&m).reshape(shape).to_device(path.device()));
        Self { weight, bias, mask }
    }

    fn forward(&self, xs: &Tensor) -> Tensor {
        match &self.mask {
            Some(mask) => xs.linear(&(&self.weight * mask), Some(&self.bias)),
            None => xs.linear(&self.weight, Some(&self.bias)),
        }
    }

    /// Sets the bias (used to start a transform at the identity).
    fn set_bias(&mut self, values: &[f32]) {
        let device = self.bias.device();
        tch::no_grad(|| self.bias.copy_(&Tensor::from_slice(values).to_device(device)));
    }
}

/// The shape of one MADE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MadeShape {
    pub(crate) n_dims: usize,
    pub(crate) n_context: usize,
    pub(crate) hidden: usize,
    pub(crate) n_blocks: usize,
    pub(crate) activation: Activation,
    pub(crate) degrees: HiddenDegrees,
}

/// softplus⁻¹(1 - 1e-3): the raw scale whose scale is 1, so that a fresh transform starts near the identity.
const IDENTITY_RAW_SCALE: f32 = 0.541_325;

/// One MADE: `initial` (masked, inputs to hidden) plus `context` (unmasked, context to hidden), the activation,
/// `n_blocks` masked hidden-to-hidden layers each followed by the activation, and `final` (masked, hidden to
/// `2 D` outputs: the raw scales of dimensions `1..=D`, then their shifts).
#[derive(Debug)]
pub(crate) struct Made {
    initial: MaskedLinear,
    context: Option<MaskedLinear>,
    blocks: Vec<MaskedLinear>,
    last: MaskedLinear,
    activation: Activation,
    n_dims: i64,
}

impl Made {
    /// Builds the layers under `path` (`initial`, `context`, `block{i}`, `final`), weights from `rng`. The output
    /// layer starts with weights scaled by 1e-2, raw-scale biases at softplus⁻¹(1 - 1e-3) and zero shifts, so
    /// each transform starts close to the identity.
    pub(crate) fn new(path: &nn::Path<'_>, shape: MadeShape, rng: &mut ChaCha8Rng) -> Self {
        let MadeShape { n_dims, n_context, hidden, n_blocks, activation, degrees } = shape;
        let has_context = n_context > 0;
        let inputs = input_degrees(n_dims);
        let mut previous = hidden_degrees(hidden, n_dims, has_context, degrees, &mut Some(&mut *rng));
        let initial =
            MaskedLinear::new(&(path / "initial"), n_dims, hidden, Some(mask(&previous, &inputs, false)), 1.0, rng);
        let context = has_context.then(|| MaskedLinear::new(&(path / "context"), n_context, hidden, None, 1.0, rng));
        let mut blocks = Vec::with_capacity(n_blocks);
        for i in 0..n_blocks {
            let next = hidden_degrees(hidden, n_dims, has_context, degrees, &mut Some(&mut *rng));
            let m = mask(&next, &previous, false);
            blocks.push(MaskedLinear::new(&(path / format!("block{i}")), hidden, hidden, Some(m), 1.0, rng));
            previous = next;
        }
        let outputs: Vec<usize> = inputs.iter().chain(&inputs).copied().collect();
        let mut last =
            MaskedLinear::new(&(path / "final"), hidden, 2 * n_dims, Some(mask(&outputs, &previous, true)), 1e-2, rng);
        let bias: Vec<f32> = (0..2 * n_dims).map(|k| if k < n_dims { IDENTITY_RAW_SCALE } else { 0.0 }).collect();
        last.set_bias(&bias);
        Self { initial, context, blocks, last, activation, n_dims: n_dims as i64 }
    }

    /// The raw scales and shifts `(batch, D)` each, of `xs` `(batch, D)` with `context` `(batch, C)`.
    pub(crate) fn forward(&self, xs: &Tensor, context: Option<&Tensor>) -> (Tensor, Tensor) {
        let mut h = self.initial.forward(xs);
        if let (Some(layer), Some(c)) = (&self.context, context) {
            h += layer.forward(c);
        }
        h = self.activation.apply(&h);
        for block in &self.blocks {
            h = self.activation.apply(&block.forward(&h));
        }
        let out = self.last.forward(&h);
        (out.narrow(1, 0, self.n_dims), out.narrow(1, self.n_dims, self.n_dims))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use tch::{Device, Kind};

    use super::*;

    fn made(n_dims: usize, n_context: usize, degrees: HiddenDegrees) -> (nn::VarStore, Made) {
        let vs = nn::VarStore::new(Device::Cpu);
        let shape = MadeShape { n_dims, n_context, hidden: 12, n_blocks: 2, activation: Activation::Tanh, degrees };
        let made = Made::new(&(vs.root() / "made"), shape, &mut ChaCha8Rng::seed_from_u64(7));
        (vs, made)
    }

    /// The Jacobian of every output with respect to every input: output `i` depends only on inputs `< i`, and
    /// (with a context) every output depends on the context, also for one dimension.
    #[test]
    fn outputs_are_autoregressive_and_see_the_context() {
        let _lock = crate::torch_lock();
        for (n_dims, degrees) in [(1, HiddenDegrees::Cycle), (3, HiddenDegrees::Cycle), (4, HiddenDegrees::Random)] {
            let (_vs, made) = made(n_dims, 2, degrees);
            let x = Tensor::randn([1, n_dims as i64], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let c = Tensor::randn([1, 2], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            for (which, out) in
                ["raw", "shift"].iter().zip([made.forward(&x, Some(&c)).0, made.forward(&x, Some(&c)).1])
            {
                for i in 0..n_dims {
                    let grads = Tensor::run_backward(&[out.get(0).get(i as i64)], &[&x, &c], true, false);
                    let gx = Vec::<f32>::try_from(grads[0].flatten(0, -1)).unwrap();
                    let gc = Vec::<f32>::try_from(grads[1].flatten(0, -1)).unwrap();
                    for (j, g) in gx.iter().enumerate() {
                        if j >= i {
                            assert_eq!(*g, 0.0, "{which} {i} depends on input {j} (D = {n_dims})");
                        }
                    }
                    assert!(gc.iter().any(|g| *g != 0.0), "{which} {i} ignores the context (D = {n_dims})");
                    if i > 0 && degrees == HiddenDegrees::Cycle {
                        assert!(gx[..i].iter().any(|g| *g != 0.0), "{which} {i} ignores its inputs");
                    }
                }
            }
        }
    }

    #[test]
    fn degrees_follow_nflows_without_a_context() {
        let _lock = crate::torch_lock();
        assert_eq!(hidden_degrees(3, 1, false, HiddenDegrees::Cycle, &mut None), vec![0, 0, 0]);
        assert_eq!(hidden_degrees(3, 1, true, HiddenDegrees::Cycle, &mut None), vec![0, 0, 0]);
        assert_eq!(hidden_degrees(5, 4, false, HiddenDegrees::Cycle, &mut None), vec![1, 2, 3, 1, 2]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let random = hidden_degrees(50, 4, false, HiddenDegrees::Random, &mut Some(&mut rng));
        assert!(random.iter().all(|d| (1..=3).contains(d)));
        assert_eq!(mask(&[1, 2], &[1, 2], true), vec![0.0, 0.0, 1.0, 0.0]);
        assert_eq!(mask(&[1, 2], &[1, 2], false), vec![1.0, 0.0, 1.0, 1.0]);
    }
}
