//! The rotation-curve baseline of delosrios2023 §5.6: what astronomers do with a gas-rich galaxy, so the networks
//! are measured against the real classic method.
//!
//! - [`rings`]: tilted rings fitted to an HI velocity field (rotation, dispersion, inclination, position angle and
//!   centre per ring; priors and regularisation across rings; beam smearing and asymmetric drift corrected);
//! - [`beam`]: the beam-smearing forward model the ring fit corrects with;
//! - [`disc`]: the stellar disc from the light (an exponential fitted to an image, Freeman's thin-disc curve) and
//!   the gas from its surface density (a thin disc of any profile);
//! - [`halo`]: NFW and Dekel-Zhao haloes in (V200, C200);
//! - [`decompose`]: the Bayesian decomposition `v_obs^2 = v_DM^2 + Upsilon v_*^2 + v_gas^2` by the ensemble MCMC of
//!   [`crate::mcmc`], and the posterior of the enclosed dark and total mass at any radius.
//!
//! The crate knows nothing of cubes or files: callers pass maps as `ndarray` views with their pixel size, beam and
//! distance (`galmass_pipeline::rc` reads products files and FITS cubes into them).

pub mod beam;
pub mod decompose;
pub mod disc;
pub mod halo;
mod linalg;
pub mod rings;
