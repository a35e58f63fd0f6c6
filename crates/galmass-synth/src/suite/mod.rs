//! Simulation-like synthetic suites: galaxies of a dark halo, a spheroid (bulge), an exponential stellar disc and a
//! cold (HI) gas disc, with stellar populations and analytic truth, drawn from population relations configured per
//! suite (`configs/synth/*.toml`).
//!
//! | suite | haloes | what it stands for |
//! |---|---|---|
//! | `spheroids` | DC14, M200 1e9.5..1e11.5 | dispersion-supported dwarf spheroids, no disc or gas (the first suite) |
//! | `nihao-like` | DC14 cores, mostly dwarfs up to Milky-Way mass | NIHAO (Wang et al. 2015): zooms of dwarfs to MW mass |
//! | `auriga-like` | NFW (cuspy), M200 1e12..1e12.3 | AURIGA (Grand et al. 2017): Milky-Way-mass discs |
//! | `fire-like` | core-NFW (Read et al. 2016) with its own core strength, Sersic-like bulges, a larger size relation | FIRE-2: held-out physics |
//! | `tng-like` | NFW, M* 1e9.5..1e12, centrals and tidally stripped satellites | a TNG100-like box population |
//!
//! For galaxy `index` of a suite with seed `seed` (each random choice from its own ChaCha8 stream, so galaxies can
//! be built in any order, in parallel, and resumed):
//! 1. log10 M200 from `dN/dlog M ~ M^mass_function_slope` in `log_m200_range`; c200 from Dutton & Maccio 2014 with
//!    scatter; M* from Moster, Naab & White 2013 with scatter (redrawn until it lies in `log_mstar_range`, when set);
//!    satellite with probability `satellites.fraction`;
//! 2. the face-on projected half-mass radius of all the stars `R_e = re_at_1e8_kpc (M*/1e8)^re_slope` with scatter
//!    (disc and bulge sizes are scaled together to give it); the bulge fraction
//!    `B/T = bt_at_1e10 + bt_slope (log10 M* - 10)` with Gaussian scatter, clipped to [0, 1];
//! 3. the cold gas: `log10(M_HI / M*) = min(hi_at_1e9 + hi_slope (log10 M* - 9), hi_max_log_ratio)` with scatter
//!    (satellites keep a fraction of it); gas particles carry hydrogen and helium, `M_gas = M_HI / X_H` with X_H = 0.76, all hydrogen atomic;
//! 4. the halo (NFW, DC14 with X = log10(M*/M200), or core-NFW with `r_c = core_radius_over_re R_e` and core strength
//!    `n = exp(-(X - core_peak_log_ratio)^2 / (2 core_width_dex^2))`), truncated beyond r200 (Kazantzidis et al. 2004)
//!    or, for satellites, beyond a tidal radius `r_t = f_t r200` (the same exponential cut with decay length 0.1 r_t);
//! 5. the bulge (Plummer, Hernquist or Prugniel-Simien of projected half-mass radius s lambda R_e, `s` the bulge size
//!    ratio, lambda from step 2) sampled from its
//!    distribution function (constant beta or Osipkov-Merritt) in the spherically averaged total potential; the
//!    stellar disc (R_d = R_e / 1.678, z_d from `height_over_rd`, sigma_R(R_d) a fraction of v_c(R_d)) and the gas disc
//!    (R_g = `scale_length_over_rd` R_d, sigma 8-12 km/s) from Jeans moments (approximate equilibria, see
//!    [`crate::disc`]); dark matter from its isotropic distribution function in the same potential;
//! 6. each galaxy is turned to a random orientation in the box frame (uniform on SO(3)); `rotation_to_aligned` and
//!    kappa_co come from the stars' angular momentum (`galmass_core::kinematics`);
//! 7. stellar ages, metallicities and ugriz luminosities from the embedded SSP table ([`crate::populations`]); gas
//!    temperatures `T = m_p sigma^2 / k_B` (the thermal width MARTINI uses equals sigma), HI masses, smoothing lengths
//!    enclosing `n_neighbours` gas particles (`galmass_core::neighbours`) and the analytic gas density;
//!    every particle carries the spherically averaged total potential at its radius (`potential`);
//! 8. the truth: analytic cumulative mass of stars (bulge + disc monopole), gas and dark matter within 3-D spheres on
//!    256 log-spaced radii, half-mass radii, and scalars (kappa_co, B/T, R_e, M_HI, inner dark-matter slope, central
//!    flag).
//!
//! Particle numbers follow the mass resolution: `n = clamp(round(M / particle_mass), min, max)` per species, so the
//! particles of one galaxy have equal masses per species.
//!
//! The module is split along these steps: [`params`] (the configuration and its check), [`draw`] (the random draws
//! of steps 1-3 and the component sizes), [`build`] (steps 4-8) and [`catalogue`] (one line per galaxy); every
//! public item is re-exported here, so `galmass_synth::suite::X` names it.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_synth::suite::{build_galaxy, SuiteParams};
//! let mut params = SuiteParams::preset("auriga-like").unwrap();
//! params.particles.set_counts(Some(600), Some(1500), Some(300));
//! let built = build_galaxy(&params.check().unwrap(), 0, 42).unwrap();
//! assert_eq!(built.galaxy.stars().unwrap().len(), 600);
//! assert!(built.row.cold_gas_mass_msun > 0.0 && built.row.kappa_co > 0.4);
//! ```

pub mod build;
pub mod catalogue;
pub mod draw;
pub mod params;

pub use build::{build_galaxy, BuiltGalaxy, HYDROGEN_MASS_FRACTION, PROTON_MASS_OVER_BOLTZMANN_K_PER_KMS2};
pub use catalogue::CatalogueRow;
pub use draw::{EXPONENTIAL_RE_OVER_RD, HERNQUIST_RE_OVER_A, PLUMMER_R3D_OVER_RE};
pub use params::{
    AnisotropyParams, BulgeProfile, GasParams, HaloPrescription, ParticleParams, SatelliteParams, SuiteParams,
    SuiteValidParams, PRESETS,
};
