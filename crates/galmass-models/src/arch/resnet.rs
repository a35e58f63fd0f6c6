//! ResNet backbones in torchvision's layout (He et al. 2016), for any number of input channels.
//!
//! Stem: 7x7 stride-2 convolution to 64 channels (no bias), batch norm, ReLU, 3x3 stride-2 max pool (padding 1);
//! then four stages of widths 64, 128, 256, 512 (strides 1, 2, 2, 2) of basic blocks (two 3x3 convolutions;
//! ResNet-18 [2, 2, 2, 2], ResNet-34 [3, 4, 6, 3]) or bottleneck blocks (1x1, 3x3 with the stride, 1x1 to 4x the
//! width, as torchvision's v1.5; ResNet-50 [3, 4, 6, 3], ResNet-101 [3, 4, 23, 3]); a 1x1 stride-matching projection
//! with batch norm where a block changes width or stride; global average pooling, so any spatial size works. The
//! backbone ends at the pooled features ([`ResNetDepth::n_features`]: 512 or 2048); heads belong to the
//! architectures. Checkpoint keys are torchvision's (`conv1.weight`, `bn1.running_mean`,
//! `layer2.0.downsample.0.weight`, ...), convolutions are initialised as torchvision's (Kaiming normal, fan out),
//! batch norm with unit scale, zero shift, eps 1e-5, momentum 0.1.
//!
//! With 3 input channels and torchvision's 1000-way linear head the counts are torchvision's: ResNet-18 11,689,512,
//! ResNet-34 21,797,672, ResNet-50 25,557,032, ResNet-101 44,549,160 (tested).
//!
//! ```
//! use galmass_models::arch::ResNetDepth;
//! let backbone = ResNetDepth::ResNet18.backbone_parameters(3);
//! assert_eq!(backbone + 512 * 1000 + 1000, 11_689_512);
//! assert_eq!(ResNetDepth::ResNet50.n_features(), 2048);
//! ```

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

use super::layers::{batch_norm, TORCH_BN_EPS, TORCH_BN_MOMENTUM};

/// Depth (and block type) of a ResNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResNetDepth {
    /// Basic blocks [2, 2, 2, 2] (chu2024's backbone).
    ResNet18,
    /// Basic blocks [3, 4, 6, 3].
    ResNet34,
    /// Bottleneck blocks [3, 4, 6, 3] (delosrios2023; chu2024 names it as available).
    ResNet50,
    /// Bottleneck blocks [3, 4, 23, 3].
    ResNet101,
}

const STAGE_WIDTHS: [usize; 4] = [64, 128, 256, 512];
const STEM_WIDTH: usize = 64;

impl ResNetDepth {
    /// Blocks per stage.
    pub fn blocks(self) -> [usize; 4] {
        match self {
            ResNetDepth::ResNet18 => [2, 2, 2, 2],
            ResNetDepth::ResNet34 | ResNetDepth::ResNet50 => [3, 4, 6, 3],
            ResNetDepth::ResNet101 => [3, 4, 23, 3],
        }
    }

    /// Whether the blocks are bottlenecks (expansion 4) rather than basic blocks.
    pub fn bottleneck(self) -> bool {
        matches!(self, ResNetDepth::ResNet50 | ResNetDepth::ResNet101)
    }

    fn expansion(self) -> usize {
        if self.bottleneck() {
            4
        } else {
            1
        }
    }

    /// Width of the pooled features: 512 (basic) or 2048 (bottleneck).
    pub fn n_features(self) -> usize {
        STAGE_WIDTHS[3] * self.expansion()
    }

    /// Trainable parameters of the backbone (no head) on `in_channels` input channels: convolution weights and
    /// batch-norm scales and shifts (running statistics are buffers, not parameters).
    pub fn backbone_parameters(self, in_channels: usize) -> usize {
        let conv = |i: usize, o: usize, k: usize| i.saturating_mul(o).saturating_mul(k * k);
        let bn = |c: usize| 2 * c;
        let mut total = conv(in_channels, STEM_WIDTH, 7).saturating_add(bn(STEM_WIDTH));
        let mut width_in = STEM_WIDTH;
        for (stage, (&planes, &n_blocks)) in STAGE_WIDTHS.iter().zip(self.blocks().iter()).enumerate() {
            for block in 0..n_blocks {
                let stride = if stage > 0 && block == 0 { 2 } else { 1 };
                let width_out = planes * self.expansion();
                let body = if self.bottleneck() {
                    conv(width_in, planes, 1)
                        + bn(planes)
                        + conv(planes, planes, 3)
                        + bn(planes)
                        + conv(planes, width_out, 1)
                        + bn(width_out)
                } else {
                    conv(width_in, planes, 3) + bn(planes) + conv(planes, planes, 3) + bn(planes)
                };
                let projection =
                    if stride != 1 || width_in != width_out { conv(width_in, width_out, 1) + bn(width_out) } else { 0 };
                total = total.saturating_add(body + projection);
                width_in = width_out;
            }
        }
        total
    }
}

/// torchvision's convolution initialisation: Kaiming normal, fan out, ReLU gain; no bias.
fn conv(path: nn::Path<'_>, i: i64, o: i64, k: i64, stride: i64, padding: i64) -> nn::Conv2D {
    let config = nn::ConvConfig {
        stride,
        padding,
        bias: false,
        ws_init: nn::Init::Kaiming {
            dist: nn::init::NormalOrUniform::Normal,
            fan: nn::init::FanInOut::FanOut,
            non_linearity: nn::init::NonLinearity::ReLU,
        },
        ..Default::default()
    };
    nn::conv2d(path, i, o, k, config)
}

fn bn(path: nn::Path<'_>, c: i64) -> nn::BatchNorm {
    batch_norm(path, c, true, TORCH_BN_EPS, TORCH_BN_MOMENTUM)
}

#[derive(Debug)]
struct ConvBn {
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
}

impl ConvBn {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.bn.forward_t(&self.conv.forward(xs), train)
    }
}

/// One residual block: the body's conv + bn pairs (ReLU between them) and the optional projection.
#[derive(Debug)]
struct Block {
    body: Vec<ConvBn>,
    downsample: Option<ConvBn>,
}

impl Block {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let last = self.body.len().saturating_sub(1);
        let mut h = xs.shallow_clone();
        for (i, layer) in self.body.iter().enumerate() {
            h = layer.forward_t(&h, train);
            if i < last {
                h = h.relu();
            }
        }
        let shortcut = match &self.downsample {
            Some(d) => d.forward_t(xs, train),
            None => xs.shallow_clone(),
        };
        (h + shortcut).relu()
    }
}

/// A built backbone: `(batch, in_channels, H, W)` to `(batch, n_features)` pooled features.
#[derive(Debug)]
pub struct ResNetBackbone {
    stem: ConvBn,
    blocks: Vec<Block>,
}

/// Builds a backbone under `path` with torchvision's keys. Sizes must be positive (checked by the callers'
/// configurations).
pub(crate) fn build_backbone(path: &nn::Path<'_>, depth: ResNetDepth, in_channels: i64) -> ResNetBackbone {
    let stem = ConvBn { conv: conv(path / "conv1", in_channels, 64, 7, 2, 3), bn: bn(path / "bn1", 64) };
    let mut blocks = Vec::new();
    let mut width_in = STEM_WIDTH as i64;
    let expansion = depth.expansion() as i64;
    for (stage, (&planes, &n_blocks)) in STAGE_WIDTHS.iter().zip(depth.blocks().iter()).enumerate() {
        let planes = planes as i64;
        let stage_path = path / format!("layer{}", stage + 1);
        for block in 0..n_blocks {
            let p = &stage_path / block;
            let stride = if stage > 0 && block == 0 { 2 } else { 1 };
            let width_out = planes * expansion;
            let pair = |name: usize, i: i64, o: i64, k: i64, s: i64, pad: i64| ConvBn {
                conv: conv(&p / format!("conv{name}"), i, o, k, s, pad),
                bn: bn(&p / format!("bn{name}"), o),
            };
            let body = if depth.bottleneck() {
                // torchvision v1.5: the stride sits on the 3x3 convolution.
                vec![
                    pair(1, width_in, planes, 1, 1, 0),
                    pair(2, planes, planes, 3, stride, 1),
                    pair(3, planes, width_out, 1, 1, 0),
                ]
            } else {
                vec![pair(1, width_in, planes, 3, stride, 1), pair(2, planes, planes, 3, 1, 1)]
            };
            let downsample = (stride != 1 || width_in != width_out).then(|| {
                let d = &p / "downsample";
                ConvBn { conv: conv(&d / 0, width_in, width_out, 1, stride, 0), bn: bn(&d / 1, width_out) }
            });
            blocks.push(Block { body, downsample });
            width_in = width_out;
        }
    }
    ResNetBackbone { stem, blocks }
}

impl ResNetBackbone {
    /// Pooled features `(batch, n_features)`.
    pub fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let h = self.stem.forward_t(xs, train).relu().max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        let h = self.blocks.iter().fold(h, |h, block| block.forward_t(&h, train));
        h.adaptive_avg_pool2d([1, 1]).flatten(1, -1)
    }
}

impl ModuleT for ResNetBackbone {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        ResNetBackbone::forward_t(self, xs, train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_counts_are_torchvisions() {
        let _lock = crate::torch_lock();
        let head = |d: ResNetDepth| d.n_features() * 1000 + 1000;
        let total = |d: ResNetDepth| d.backbone_parameters(3) + head(d);
        assert_eq!(total(ResNetDepth::ResNet18), 11_689_512);
        assert_eq!(total(ResNetDepth::ResNet34), 21_797_672);
        assert_eq!(total(ResNetDepth::ResNet50), 25_557_032);
        assert_eq!(total(ResNetDepth::ResNet101), 44_549_160);
        // Input channels enter the stem only.
        assert_eq!(
            ResNetDepth::ResNet18.backbone_parameters(8) - ResNetDepth::ResNet18.backbone_parameters(3),
            5 * 64 * 49
        );
    }
}
