//! # galmass-synth
//!
//! Synthetic galaxy suites with known truth, the embedded default that lets a fresh machine run every galmass
//! pipeline without downloads:
//! - [`profiles`]: Plummer, Hernquist, NFW and Prugniel-Simien (Sersic-like) profiles with analytic density, mass and
//!   potential, and sums of them;
//! - [`jeans`]: spherical Jeans solutions (constant beta, Osipkov-Merritt), the truth that samples are tested against;
//! - [`halo`]: the haloes' cosmology (Planck 2013), NFW haloes from (M200, c), Dutton & Maccio 2014 concentrations,
//!   Moster 2013 stellar masses, Di Cintio 2014 inner profile shapes;
//! - [`tabulated`]: profiles tabulated from their density (truncated NFW haloes of finite mass, DC14 and core-NFW
//!   haloes, tidal truncation of satellites);
//! - [`disc`]: exponential stellar and HI discs as approximate equilibria (Jeans moments, asymmetric drift, pressure
//!   support) and their exact spherically averaged monopoles;
//! - [`populations`]: the embedded BC03 SSP table (Chabrier IMF, SDSS ugriz) and star-formation histories and
//!   mass-metallicity relations giving star particles ages, metallicities and luminosities;
//! - [`suite`]: the suites (`spheroids`, `nihao-like`, `auriga-like`, `fire-like`, `tng-like`): galaxies of a halo,
//!   a bulge, a stellar disc and an HI disc drawn from configured population relations, with analytic truth;
//! - [`df`]: equilibrium spheroids sampled from Eddington, Osipkov-Merritt and constant-beta (Cuddeford)
//!   distribution functions in the spherically averaged total potential.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_synth::suite::{build_galaxy, SuiteParams};
//! let mut params = SuiteParams::preset("nihao-like").unwrap();
//! params.particles.set_counts(Some(400), Some(1000), Some(200));
//! let galaxy = build_galaxy(&params.check().unwrap(), 7, 1).unwrap().galaxy;
//! let truth = galaxy.truth.as_ref().unwrap();
//! assert!(truth.scalar("kappa_co").is_some() && truth.half_mass_radius_kpc(None).is_some());
//! ```
//!
//! The suites are configured under `configs/synth/`. The crate knows no file format and depends on `galmass-core`
//! alone (ARCHITECTURE.md): writing suites to disk, and in the simulations' native formats, is `galmass-pipeline`'s.
//! The numerical helpers (interpolation, quadrature, bisection) and the cosmology are `galmass_core`'s, the gamma
//! functions `statrs`'.

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
