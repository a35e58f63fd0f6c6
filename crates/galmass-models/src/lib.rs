//! # galmass-models
//!
//! The only galmass crate that links libtorch (through `tch`). It will hold the CNN branches of sarrato2025,
//! exposito2026, chu2024 and delosrios2023, and the masked autoregressive flow; the foundation issue lays down the
//! device choice ([`device`]), the dense building block ([`mlp`]) they share and the crate's error ([`error`]).
//!
//! No `tch` type appears in another crate's public API: other crates talk to models through plain Rust types
//! ([`ComputeDevice`], slices, ndarray arrays).
//!
//! ## Run-time library path
//! Binaries need libtorch's `torch/lib` at run time. This crate's build script embeds it as an rpath and exports it
//! to dependents as `DEP_GALMASS_TORCH_LIBTORCH_LIB`; `cargo xtask` also sets `LD_LIBRARY_PATH` when it runs things.
//!
//! ```
//! use galmass_models::ComputeDevice;
//! let device = ComputeDevice::preferred();
//! println!("training on {device}");
//! ```

pub mod arch;
pub mod checkpoint;
pub mod data;
pub mod device;
pub mod error;
pub mod flow;
pub mod mlp;
pub mod normalise;
pub mod regressor;
pub mod train;

pub use device::ComputeDevice;
pub use error::ModelError;

// torch-sys is a direct dependency only so that build.rs receives its links metadata (DEP_TCH_LIBTORCH_LIB: cargo
// passes it to direct dependents alone); tch itself links the same crate.
use torch_sys as _;

/// Serialises the tests that draw from libtorch's global generator (initialisation, dropout, random tensors) or
/// depend on it: `tch::manual_seed` is process-wide, so two tests running at once would disturb each other's
/// "same seed, same weights" checks. Every test of this crate takes it.
#[cfg(test)]
pub(crate) fn torch_lock() -> std::sync::MutexGuard<'static, ()> {
    static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}
