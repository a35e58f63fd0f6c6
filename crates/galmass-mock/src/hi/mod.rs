//! Synthetic HI observations and real HI cubes (MARTINI's shape: one module per concept, each swappable).
//!
//! - [`source`]: the gas of a galaxy seen along a line of sight at a distance (HI mass, temperature, smoothing
//!   length, sky position and line-of-sight velocity per particle); the only module that knows particles;
//! - [`kernels`]: SPH kernels integrated along the line of sight and over pixels;
//! - [`line`]: the line profile of a particle, a Gaussian integrated over each channel;
//! - [`beam`]: the Gaussian beam and its FFT convolution;
//! - [`noise`]: Gaussian noise, added before convolution as MARTINI does;
//! - [`cube`]: the data cube and its grids (nothing of simulations), units, the flux <-> HI mass relation;
//! - [`moments`]: moments 0, 1 and 2 with a column-density or intensity mask;
//! - [`observe`]: the parameters of an observation (presets of delosrios2023 and exposito2026) and the recipe
//!   that turns a source into a cube;
//! - [`scalars`]: the gas scalars of exposito2026 (R_HI, v_cold, sigma_cold);
//! - [`fits_cube`]: cubes and moment maps to and from FITS, with the conventions real surveys write;
//! - [`recipe`]: bringing a real cube to a training recipe (beam, channels, pixel scale).

pub mod beam;
pub mod cube;
pub mod fits_cube;
pub mod kernels;
pub mod line;
pub mod moments;
pub mod noise;
pub mod params;
pub mod recipe;
pub mod render;
pub mod scalars;
pub mod source;
