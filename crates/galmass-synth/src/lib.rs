//! # galmass-synth
//!
//! Synthetic galaxy suites with known truth, the embedded default that lets a fresh machine run every galmass
//! pipeline without downloads. This first part holds the spherical machinery every suite builds on:
//! - [`profiles`]: Plummer, Hernquist and NFW profiles with analytic density, mass and potential, and sums of them;
//! - [`jeans`]: spherical Jeans solutions (constant beta, Osipkov-Merritt), the truth that samples are tested against;
//! - [`halo`]: cosmology, NFW haloes from (M200, c), Dutton & Maccio 2014 concentrations, Moster 2013 stellar masses,
//!   Di Cintio 2014 inner profile shapes;
//! - [`tabulated`]: profiles tabulated from their density (truncated NFW haloes of finite mass, DC14 haloes);
//! - [`disc`]: exponential discs as approximate equilibria (Jeans moments, asymmetric drift);
//! - [`populations`]: the embedded BC03 SSP table (Chabrier IMF, SDSS ugriz) and star-formation histories and
//!   mass-metallicity relations giving star particles ages, metallicities and luminosities;
//! - [`suite`]: the suites (`spheroids`, `nihao-like`, `auriga-like`, `fire-like`, `tng-like`): galaxies of a halo,
//!   a bulge, a stellar disc and an HI disc drawn from configured population relations, with analytic truth;
//! - [`df`]: equilibrium spheroids sampled from Eddington and Osipkov-Merritt distribution functions in the total
//!   potential.
//!
//! The suites are configured under `configs/synth/`. Writing them in the simulations' native formats belongs to
//! `galmass-snapshot` (the crate may use it, ARCHITECTURE.md).

pub mod df;
pub mod disc;
pub mod error;
pub mod halo;
pub mod jeans;
pub mod populations;
pub mod profiles;
pub mod suite;
pub mod tabulated;

pub use error::SynthError;
