//! Where tensors live: CUDA when a GPU is present, the CPU otherwise.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A compute device, free of tch types so that other crates can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComputeDevice {
    /// The CPU.
    Cpu,
    /// The CUDA device with this ordinal.
    Cuda(usize),
}

impl ComputeDevice {
    /// The first CUDA device when one is usable, else the CPU (`tch::Device::cuda_if_available`).
    ///
    /// CUDA is seen only by binaries that keep `libtorch_cuda.so` linked (see this crate's build script).
    pub fn preferred() -> Self {
        Self::from_tch(tch::Device::cuda_if_available())
    }

    /// Number of CUDA devices visible.
    pub fn cuda_device_count() -> usize {
        usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
    }

    pub(crate) fn from_tch(device: tch::Device) -> Self {
        match device {
            tch::Device::Cuda(i) => ComputeDevice::Cuda(i),
            _ => ComputeDevice::Cpu,
        }
    }

    /// The tch device (crate-internal: tch stays inside this crate).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn to_tch(self) -> tch::Device {
        match self {
            ComputeDevice::Cpu => tch::Device::Cpu,
            ComputeDevice::Cuda(i) => tch::Device::Cuda(i),
        }
    }
}

impl fmt::Display for ComputeDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ComputeDevice::Cpu => f.write_str("cpu"),
            ComputeDevice::Cuda(i) => write!(f, "cuda:{i}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_device_matches_cuda_availability() {
        let _lock = crate::torch_lock();
        let device = ComputeDevice::preferred();
        if ComputeDevice::cuda_device_count() > 0 {
            assert_eq!(device, ComputeDevice::Cuda(0));
        } else {
            assert_eq!(device, ComputeDevice::Cpu);
        }
        assert_eq!(ComputeDevice::from_tch(ComputeDevice::Cuda(1).to_tch()), ComputeDevice::Cuda(1));
    }
}
