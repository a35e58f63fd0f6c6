//! Optical images of a galaxy's stars along a line of sight:
//! - [`sph`]: SPH-smoothed luminosity images integrated over pixels (chu2024), re-binning and [0, 1] scaling;
//! - [`kinematic`]: nearest-grid-point mean velocity and dispersion maps (chu2024);
//! - [`sdss`]: SDSS-like ugriz frames at a distance, with seeing and sky noise in nanomaggies (delosrios2023);
//! - [`dust`]: an optional screen attenuation of each star by the gas metals in front of it.

pub mod dust;
pub mod kinematic;
pub mod sdss;
pub mod sph;
