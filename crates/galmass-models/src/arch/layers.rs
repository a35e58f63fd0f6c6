//! Small building blocks shared by the architectures: output sizes of convolutions and pools, Keras-style and
//! torchvision-style initialisation, and a dense layer with optional dropout and batch norm.

use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

/// Output side of a convolution (`None` when the kernel does not fit the padded input).
pub(crate) fn conv_out(n: i64, kernel: i64, stride: i64, padding: i64) -> Option<i64> {
    let span = n.checked_add(padding.checked_mul(2)?)?.checked_sub(kernel)?;
    if span < 0 || stride < 1 {
        None
    } else {
        Some(span / stride + 1)
    }
}

/// Output side of a non-overlapping max pool of `size` (floor mode, as Keras' `MaxPooling2D` and PyTorch's
/// default); `None` when the input is smaller than the pool.
pub(crate) fn pool_out(n: i64, size: i64) -> Option<i64> {
    if size < 1 || n < size {
        None
    } else {
        Some(n / size)
    }
}

/// Keras' default `glorot_uniform` for a layer with these fans.
pub(crate) fn glorot_uniform(fan_in: i64, fan_out: i64) -> nn::Init {
    let limit = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt();
    nn::Init::Uniform { lo: -limit, up: limit }
}

/// A Keras `Conv2D` (glorot-uniform kernel, zero bias) with stride and symmetric zero padding.
pub(crate) fn keras_conv2d(
    path: nn::Path<'_>,
    in_channels: i64,
    out_channels: i64,
    kernel: i64,
    stride: i64,
    padding: i64,
) -> nn::Conv2D {
    let config = nn::ConvConfig {
        stride,
        padding,
        ws_init: glorot_uniform(in_channels * kernel * kernel, out_channels * kernel * kernel),
        bs_init: nn::Init::Const(0.0),
        ..Default::default()
    };
    nn::conv2d(path, in_channels, out_channels, kernel, config)
}

/// A Keras `Dense` (glorot-uniform kernel, zero bias).
pub(crate) fn keras_linear(path: nn::Path<'_>, n_in: i64, n_out: i64) -> nn::Linear {
    let config =
        nn::LinearConfig { ws_init: glorot_uniform(n_in, n_out), bs_init: Some(nn::Init::Const(0.0)), bias: true };
    nn::linear(path, n_in, n_out, config)
}

/// Batch norm with unit scale and zero shift at initialisation (as PyTorch and Keras; tch's default draws the scale
/// uniformly in [0, 1]). `momentum` is PyTorch's (weight of the new batch statistic).
pub(crate) fn batch_norm(path: nn::Path<'_>, n: i64, two_d: bool, eps: f64, momentum: f64) -> nn::BatchNorm {
    let config = nn::BatchNormConfig {
        eps,
        momentum,
        ws_init: nn::Init::Const(1.0),
        bs_init: nn::Init::Const(0.0),
        ..Default::default()
    };
    if two_d {
        nn::batch_norm2d(path, n, config)
    } else {
        nn::batch_norm1d(path, n, config)
    }
}

/// Keras' batch-norm defaults in PyTorch's convention: epsilon 1e-3, momentum 0.99 (so 0.01 for the new batch).
pub(crate) const KERAS_BN_EPS: f64 = 1e-3;
/// See [`KERAS_BN_EPS`].
pub(crate) const KERAS_BN_MOMENTUM: f64 = 0.01;
/// PyTorch's batch-norm defaults (torchvision's ResNets).
pub(crate) const TORCH_BN_EPS: f64 = 1e-5;
/// See [`TORCH_BN_EPS`].
pub(crate) const TORCH_BN_MOMENTUM: f64 = 0.1;

/// A dense layer, optionally followed by ReLU, dropout and batch norm (in that order, as delosrios2023's tables).
#[derive(Debug)]
pub(crate) struct DenseLayer {
    pub(crate) linear: nn::Linear,
    pub(crate) relu: bool,
    pub(crate) dropout: f64,
    pub(crate) batch_norm: Option<nn::BatchNorm>,
}

impl DenseLayer {
    pub(crate) fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut h = self.linear.forward(xs);
        if self.relu {
            h = h.relu();
        }
        if self.dropout > 0.0 {
            h = h.dropout(self.dropout, train);
        }
        if let Some(bn) = &self.batch_norm {
            h = bn.forward_t(&h, train);
        }
        h
    }
}

/// Parameters of a dense layer `n_in -> n_out` with bias.
pub(crate) fn dense_parameters(n_in: usize, n_out: usize) -> usize {
    n_in.saturating_mul(n_out).saturating_add(n_out)
}

/// Parameters of a convolution with bias.
pub(crate) fn conv_parameters(in_channels: usize, out_channels: usize, kernel: usize) -> usize {
    in_channels.saturating_mul(out_channels).saturating_mul(kernel.saturating_mul(kernel)).saturating_add(out_channels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_floor_conventions() {
        let _lock = crate::torch_lock();
        assert_eq!(conv_out(128, 5, 2, 0), Some(62));
        assert_eq!(conv_out(64, 3, 1, 0), Some(62));
        assert_eq!(conv_out(64, 3, 1, 1), Some(64));
        assert_eq!(conv_out(224, 7, 2, 3), Some(112));
        assert_eq!(conv_out(4, 5, 2, 0), None);
        assert_eq!(pool_out(31, 2), Some(15));
        assert_eq!(pool_out(1, 2), None);
    }
}
