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
//! - [`spheroid`]: the `spheroids` suite: dispersion-supported spheroids in DC14 or NFW haloes, with analytic truth;
//! - [`df`]: equilibrium spheroids sampled from Eddington and Osipkov-Merritt distribution functions in the total
//!   potential.
//!
//! Baryon-modified haloes, discs, HI gas, stellar populations and the `nihao-like`, `auriga-like`, `fire-like` and
//! `tng-like` suites (configured under `configs/synth/`) arrive in later steps of the synthetic-suites issue. The crate
//! may use `galmass-snapshot` to write native formats (ARCHITECTURE.md).

pub mod df;
pub mod disc;
pub mod error;
pub mod halo;
pub mod jeans;
pub mod populations;
pub mod profiles;
pub mod spheroid;
pub mod tabulated;

pub use error::SynthError;
