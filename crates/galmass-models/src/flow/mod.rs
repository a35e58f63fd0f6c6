//! Masked autoregressive flows (MAF) as conditional density estimators, sarrato2025's posterior over the mass
//! profile given the CNN's features: [`made`] (masked layers with a context), [`maf`] (the flow) and [`posterior`]
//! (training with normalisations, ensembles, sampling, densities, checkpoints; plain arrays in and out).
//!
//! ```
//! use galmass_models::flow::{ColumnNames, Posterior, PosteriorConfig};
//! use galmass_models::train::TrainConfig;
//! use galmass_models::ComputeDevice;
//! use ndarray::Array2;
//! let context = Array2::from_shape_fn((64, 2), |(i, j)| ((i * (j + 3)) % 17) as f32);
//! let theta = Array2::from_shape_fn((64, 2), |(i, j)| ((i * (j + 5)) % 11) as f32 + context[[i, j]]);
//! let names = ColumnNames { context: vec!["x1".into(), "x2".into()], targets: vec!["y1".into(), "y2".into()] };
//! let mut config = PosteriorConfig::sarrato2025(2, 2);
//! config.maf.hidden = 8;
//! let train = TrainConfig { epochs: 2, ..TrainConfig::sarrato2025() };
//! let (posterior, _) =
//!     Posterior::train(context.view(), theta.view(), &names, &config, &train, ComputeDevice::Cpu).unwrap();
//! let samples = posterior.sample(context.view(), 100, 7).unwrap(); // (64 contexts, 100 samples, 2)
//! assert_eq!(samples.dim(), (64, 100, 2));
//! ```

pub mod made;
pub mod maf;
pub mod posterior;

#[cfg(test)]
mod tests;

pub use made::{Activation, HiddenDegrees};
pub use maf::{Maf, MafConfig, MafValidConfig, Permutation};
pub use posterior::{ColumnNames, Posterior, PosteriorConfig};
