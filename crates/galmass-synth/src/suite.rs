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
//! ```
//! use galmass_synth::suite::{build_galaxy, SuiteParams};
//! let mut params = SuiteParams::preset("auriga-like").unwrap();
//! params.particles.set_counts(Some(600), Some(1500), Some(300));
//! let built = build_galaxy(&params.check().unwrap(), 0, 42).unwrap();
//! assert_eq!(built.galaxy.stars().unwrap().len(), 600);
//! assert!(built.row.cold_gas_mass_msun > 0.0 && built.row.kappa_co > 0.4);
//! ```

use std::collections::BTreeMap;

use galmass_core::galaxy::{log_spaced_radii, TruthProfiles, TruthSource};
use galmass_core::geometry::Rotation;
use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;
use galmass_core::{Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use ndarray::{concatenate, Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::df::{DfAnisotropy, SphericalDf};
use crate::disc::{ExponentialDisc, GasDisc};
use crate::error::SynthError;
use crate::halo::{stellar_mass_moster2013, Cosmology, Dc14Shape, HaloModel};
use crate::populations::{assign_populations, assign_populations_with_bulge, PopulationParams};
use crate::profiles::{Composite, Hernquist, Plummer, PrugnielSimien, SphericalProfile};
use crate::tabulated::TabulatedProfile;

/// Hydrogen mass fraction of the cold gas (primordial, as the simulations assume).
pub const HYDROGEN_MASS_FRACTION: f64 = 0.76;
/// Proton mass over Boltzmann's constant, K / (km/s)^2: T = m_p sigma^2 / k_B.
pub const PROTON_MASS_OVER_BOLTZMANN_K_PER_KMS2: f64 = 1.672_621_923_69e-27 * 1e6 / 1.380_649e-23;
/// Projected half-mass radius of an exponential disc over its scale length (1.678).
pub const EXPONENTIAL_RE_OVER_RD: f64 = 1.678_346_990_016_660_6;
/// Projected half-mass radius of a Hernquist sphere over its scale length (1.8153; Hernquist 1990).
pub const HERNQUIST_RE_OVER_A: f64 = 1.8153;
/// 3-D over projected half-mass radius of a Plummer sphere (1.3048).
pub const PLUMMER_R3D_OVER_RE: f64 = 1.304_766_372;

/// Stellar density profile of the spheroid (bulge).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BulgeProfile {
    /// Plummer (cored): its anisotropy must be beta <= 0 (An & Evans 2006).
    Plummer,
    /// Hernquist (cusped, like a de Vaucouleurs bulge): beta <= 1/2.
    Hernquist,
    /// Sersic-like: the Prugniel & Simien 1997 deprojection with index n drawn uniformly in `n_range` (0.6..10);
    /// beta <= p/2, p its inner slope (0.3 at n = 0.8, 0.86 at n = 4).
    Sersic {
        /// Range of the Sersic index.
        n_range: (f64, f64),
    },
}

/// One galaxy's bulge shape (the Sersic index drawn).
#[derive(Debug, Clone, Copy, PartialEq)]
enum BulgeShape {
    Plummer,
    Hernquist,
    Sersic(f64),
}

impl BulgeShape {
    /// The profile of mass `mass_msun` whose projected half-mass radius is `r_e_kpc`.
    fn profile(self, mass_msun: f64, r_e_kpc: f64) -> Box<dyn SphericalProfile> {
        match self {
            BulgeShape::Plummer => Box::new(Plummer { mass_msun, a_kpc: r_e_kpc }),
            BulgeShape::Hernquist => Box::new(Hernquist { mass_msun, a_kpc: r_e_kpc / HERNQUIST_RE_OVER_A }),
            BulgeShape::Sersic(n) => Box::new(PrugnielSimien { mass_msun, r_e_kpc, n }),
        }
    }

    /// Fraction of the mass within projected radius `r` for projected half-mass radius `r_e` (Plummer
    /// `R^2 / (R^2 + a^2)`; Hernquist 1990 eq. 37; the Sersic law for the Prugniel-Simien profile).
    fn projected_fraction(self, r: f64, r_e: f64) -> f64 {
        match self {
            BulgeShape::Plummer => r * r / (r * r + r_e * r_e),
            BulgeShape::Hernquist => {
                let s = r / (r_e / HERNQUIST_RE_OVER_A);
                if (s - 1.0).abs() < 1e-6 {
                    return 1.0 / 3.0;
                }
                let x = if s < 1.0 {
                    (1.0 / s).acosh() / (1.0 - s * s).sqrt()
                } else {
                    (1.0 / s).acos() / (s * s - 1.0).sqrt()
                };
                s * s * (x - 1.0) / (1.0 - s * s)
            }
            BulgeShape::Sersic(n) => PrugnielSimien { mass_msun: 1.0, r_e_kpc: r_e, n }.projected_mass_fraction(r),
        }
    }
}

impl BulgeProfile {
    /// The largest constant beta with a non-negative distribution function: half the inner log-slope of the density
    /// (An & Evans 2006), over the Sersic indices allowed.
    pub fn max_constant_beta(&self) -> f64 {
        match *self {
            BulgeProfile::Plummer => 0.0,
            BulgeProfile::Hernquist => 0.5,
            BulgeProfile::Sersic { n_range } => 0.5 * PrugnielSimien { mass_msun: 1.0, r_e_kpc: 1.0, n: n_range.0 }.p(),
        }
    }
}

/// Dark halo prescription.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HaloPrescription {
    /// NFW (cuspy), truncated beyond r200 (Kazantzidis et al. 2004).
    Nfw,
    /// Di Cintio et al. 2014 baryon-modified (alpha, beta, gamma) profile set by X = log10(M*/M200), as calibrated on
    /// NIHAO-like galaxies.
    Dc14,
    /// Read, Agertz & Collins 2016 core-NFW with `r_c = core_radius_over_re R_e` and core strength
    /// `n = exp(-(X - core_peak_log_ratio)^2 / (2 core_width_dex^2))`.
    CoreNfw {
        /// Core radius over the projected half-mass radius (Read et al. 2016 use 1.75).
        core_radius_over_re: f64,
        /// log10(M*/M200) of the strongest cores.
        core_peak_log_ratio: f64,
        /// Width of the core-strength peak in log10(M*/M200).
        core_width_dex: f64,
    },
}

/// Velocity anisotropy of the bulge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AnisotropyParams {
    /// Constant beta drawn uniformly in `range` (Cuddeford 1991 distribution functions).
    ConstantBeta {
        /// Range of beta.
        range: (f64, f64),
    },
    /// Osipkov-Merritt with `r_a / R_e` drawn log-uniformly in `r_a_over_re_range`.
    OsipkovMerritt {
        /// Range of the anisotropy radius over R_e.
        r_a_over_re_range: (f64, f64),
    },
}

/// Mass resolution: particle masses and the limits on particle numbers per species.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParticleParams {
    /// Target star particle mass, Msun.
    pub star_particle_mass_msun: f64,
    /// Target dark-matter particle mass, Msun.
    pub dm_particle_mass_msun: f64,
    /// Target gas particle mass, Msun.
    pub gas_particle_mass_msun: f64,
    /// Star particles per galaxy, at least and at most.
    pub stars: (usize, usize),
    /// Dark-matter particles per galaxy, at least and at most.
    pub dm: (usize, usize),
    /// Gas particles per galaxy, at least and at most (ignored without gas).
    pub gas: (usize, usize),
}

impl ParticleParams {
    /// Fixes the number of particles of the species given (the CLI's `--n-stars`, `--n-dm`, `--n-gas`).
    pub fn set_counts(&mut self, stars: Option<usize>, dm: Option<usize>, gas: Option<usize>) {
        if let Some(n) = stars {
            self.stars = (n, n);
        }
        if let Some(n) = dm {
            self.dm = (n, n);
        }
        if let Some(n) = gas {
            self.gas = (n, n);
        }
    }
}

/// Tidally stripped satellites (the tng-like box).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SatelliteParams {
    /// Probability that a galaxy is a satellite.
    pub fraction: f64,
    /// Range of the tidal radius over r200 (of the halo at infall), drawn uniformly.
    pub tidal_radius_over_r200: (f64, f64),
    /// Range of the fraction of the cold gas a satellite keeps, drawn uniformly.
    pub gas_retained: (f64, f64),
}

/// Cold (HI) gas disc of the suite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GasParams {
    /// log10(M_HI / M*) at M* = 1e9 Msun.
    pub hi_at_1e9: f64,
    /// Slope of log10(M_HI / M*) against log10 M*.
    pub hi_slope: f64,
    /// Largest median log10(M_HI / M*): the relation saturates towards dwarfs (gas-rich dwarfs have M_HI/M* of a
    /// few to ~10, e.g. Bradford et al. 2015), before the scatter.
    pub hi_max_log_ratio: f64,
    /// Scatter of log10(M_HI / M*), dex.
    pub hi_scatter_dex: f64,
    /// Range of the gas scale length over the stellar disc scale length.
    pub scale_length_over_rd: (f64, f64),
    /// Scale height of the gas layer over its scale length.
    pub height_over_scale_length: f64,
    /// Range of the one-dimensional gas dispersion, km/s (8-12 in the suites).
    pub dispersion_kms: (f64, f64),
    /// Neighbours within each gas particle's smoothing length (its radius of compact support).
    pub n_neighbours: usize,
}

impl GasParams {
    /// Median log10(M_HI / M*) at stellar mass `m_star_msun`: `min(hi_at_1e9 + hi_slope (log10 M* - 9), hi_max_log_ratio)`.
    pub fn median_log_hi_ratio(&self, m_star_msun: f64) -> f64 {
        (self.hi_at_1e9 + self.hi_slope * (m_star_msun.log10() - 9.0)).min(self.hi_max_log_ratio)
    }
}

/// Parameters of a synthetic suite (unchecked; see [`SuiteParams::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteParams {
    /// Suite name written into every galaxy file.
    pub suite: String,
    /// Redshift of the snapshot.
    pub redshift: f64,
    /// Range of log10(M200 / Msun).
    pub log_m200_range: (f64, f64),
    /// Logarithmic slope of the halo mass function the masses are drawn from (0 = uniform in log M200).
    pub mass_function_slope: f64,
    /// Range of log10(M* / Msun) kept (M* redrawn outside), when set.
    pub log_mstar_range: Option<(f64, f64)>,
    /// Scatter of log10 c200 about Dutton & Maccio 2014, dex.
    pub concentration_scatter_dex: f64,
    /// Scatter of log10 M* about Moster et al. 2013, dex.
    pub stellar_mass_scatter_dex: f64,
    /// Projected half-mass radius of the stars at M* = 1e8 Msun, kpc.
    pub re_at_1e8_kpc: f64,
    /// Slope of log R_e against log M*.
    pub re_slope: f64,
    /// Scatter of log10 R_e, dex.
    pub re_scatter_dex: f64,
    /// The halo prescription.
    pub halo: HaloPrescription,
    /// Bulge-to-total stellar mass ratio at M* = 1e10 Msun.
    pub bt_at_1e10: f64,
    /// Slope of B/T against log10 M*.
    pub bt_slope: f64,
    /// Gaussian scatter of B/T (clipped to [0, 1]).
    pub bt_scatter: f64,
    /// Bulge profile.
    pub bulge_profile: BulgeProfile,
    /// Range of the bulge's projected half-mass radius over R_e when B/T = 0 (rising linearly to 1 at B/T = 1).
    pub bulge_size_ratio: (f64, f64),
    /// Bulge anisotropy.
    pub bulge_anisotropy: AnisotropyParams,
    /// Range of the disc scale height over its scale length.
    pub disc_height_over_rd: (f64, f64),
    /// Range of the disc's radial dispersion at R_d over v_c(R_d).
    pub disc_sigma_over_vc: (f64, f64),
    /// Cold gas, when the suite has any.
    pub gas: Option<GasParams>,
    /// Satellites, when the suite has any.
    pub satellites: Option<SatelliteParams>,
    /// Stellar populations.
    pub populations: PopulationParams,
    /// Mass resolution.
    pub particles: ParticleParams,
}

/// Names of the presets, in the order `galmass synth --help` lists them.
pub const PRESETS: [&str; 5] = ["spheroids", "nihao-like", "auriga-like", "fire-like", "tng-like"];

impl SuiteParams {
    /// A preset by suite name ([`PRESETS`]); `configs/synth/<name>.toml` holds the same values.
    pub fn preset(name: &str) -> Option<Self> {
        let populations = PopulationParams::default();
        let particles = ParticleParams {
            star_particle_mass_msun: 1e4,
            dm_particle_mass_msun: 5e4,
            gas_particle_mass_msun: 1e4,
            stars: (500, 20_000),
            dm: (5_000, 50_000),
            gas: (500, 10_000),
        };
        let gas = GasParams {
            hi_at_1e9: 0.1,
            hi_slope: -0.55,
            hi_max_log_ratio: 1.0,
            hi_scatter_dex: 0.3,
            scale_length_over_rd: (1.5, 2.5),
            height_over_scale_length: 0.08,
            dispersion_kms: (8.0, 12.0),
            n_neighbours: 32,
        };
        let base = Self {
            suite: name.to_owned(),
            redshift: 0.0,
            log_m200_range: (9.5, 12.3),
            mass_function_slope: -0.9,
            log_mstar_range: None,
            concentration_scatter_dex: 0.11,
            stellar_mass_scatter_dex: 0.15,
            re_at_1e8_kpc: 0.8,
            re_slope: 0.25,
            re_scatter_dex: 0.15,
            halo: HaloPrescription::Dc14,
            bt_at_1e10: 0.45,
            bt_slope: -0.15,
            bt_scatter: 0.2,
            bulge_profile: BulgeProfile::Plummer,
            bulge_size_ratio: (0.3, 0.6),
            bulge_anisotropy: AnisotropyParams::ConstantBeta { range: (-0.5, 0.0) },
            disc_height_over_rd: (0.15, 0.3),
            disc_sigma_over_vc: (0.2, 0.4),
            gas: Some(gas),
            satellites: None,
            populations,
            particles,
        };
        let preset = match name {
            "spheroids" => Self {
                log_m200_range: (9.5, 11.5),
                mass_function_slope: 0.0,
                re_at_1e8_kpc: 0.5,
                bt_at_1e10: 1.0,
                bt_slope: 0.0,
                bt_scatter: 0.0,
                bulge_size_ratio: (1.0, 1.0),
                gas: None,
                populations: PopulationParams::kirby2013_dwarfs(),
                particles: ParticleParams { stars: (20_000, 20_000), dm: (50_000, 50_000), ..particles },
                ..base
            },
            "nihao-like" => base,
            "auriga-like" => Self {
                log_m200_range: (12.0, 12.3),
                mass_function_slope: 0.0,
                re_at_1e8_kpc: 1.0,
                re_slope: 0.22,
                halo: HaloPrescription::Nfw,
                bt_at_1e10: 0.25,
                bt_slope: 0.0,
                bt_scatter: 0.1,
                bulge_profile: BulgeProfile::Hernquist,
                bulge_size_ratio: (0.15, 0.3),
                bulge_anisotropy: AnisotropyParams::OsipkovMerritt { r_a_over_re_range: (1.0, 10.0) },
                disc_height_over_rd: (0.08, 0.15),
                disc_sigma_over_vc: (0.12, 0.25),
                gas: Some(GasParams { hi_at_1e9: 0.3, hi_slope: -0.5, hi_scatter_dex: 0.2, ..gas }),
                particles: ParticleParams {
                    star_particle_mass_msun: 5e6,
                    dm_particle_mass_msun: 3e7,
                    gas_particle_mass_msun: 5e6,
                    ..particles
                },
                ..base
            },
            "fire-like" => Self {
                log_m200_range: (10.0, 12.0),
                mass_function_slope: -0.6,
                re_at_1e8_kpc: 1.2,
                re_slope: 0.3,
                re_scatter_dex: 0.2,
                halo: HaloPrescription::CoreNfw {
                    core_radius_over_re: 1.75,
                    core_peak_log_ratio: -2.5,
                    core_width_dex: 0.6,
                },
                bulge_profile: BulgeProfile::Sersic { n_range: (0.8, 2.5) },
                bt_at_1e10: 0.5,
                bt_slope: -0.1,
                bt_scatter: 0.2,
                bulge_anisotropy: AnisotropyParams::ConstantBeta { range: (-0.3, 0.0) },
                disc_height_over_rd: (0.2, 0.4),
                disc_sigma_over_vc: (0.25, 0.5),
                particles: ParticleParams {
                    star_particle_mass_msun: 7e3,
                    dm_particle_mass_msun: 4e4,
                    gas_particle_mass_msun: 7e3,
                    ..particles
                },
                ..base
            },
            "tng-like" => Self {
                log_m200_range: (11.0, 14.5),
                mass_function_slope: -0.9,
                log_mstar_range: Some((9.5, 12.0)),
                re_at_1e8_kpc: 1.2,
                re_slope: 0.22,
                halo: HaloPrescription::Nfw,
                bt_at_1e10: 0.35,
                bt_slope: 0.25,
                bt_scatter: 0.2,
                bulge_profile: BulgeProfile::Hernquist,
                bulge_size_ratio: (0.2, 0.4),
                bulge_anisotropy: AnisotropyParams::OsipkovMerritt { r_a_over_re_range: (0.5, 5.0) },
                disc_height_over_rd: (0.1, 0.2),
                disc_sigma_over_vc: (0.15, 0.35),
                gas: Some(GasParams { hi_at_1e9: 0.1, hi_slope: -0.6, hi_scatter_dex: 0.35, ..gas }),
                satellites: Some(SatelliteParams {
                    fraction: 0.3,
                    tidal_radius_over_r200: (0.15, 0.6),
                    gas_retained: (0.0, 0.5),
                }),
                particles: ParticleParams {
                    star_particle_mass_msun: 1.4e6,
                    dm_particle_mass_msun: 7.5e6,
                    gas_particle_mass_msun: 1.4e6,
                    ..particles
                },
                ..base
            },
            _ => return None,
        };
        Some(preset)
    }

    /// Checks ranges and combinations.
    pub fn check(self) -> Result<ValidSuiteParams, SynthError> {
        let bad = |name: &'static str, reason: String| Err(SynthError::InvalidParameter { name, reason });
        let ordered = |r: (f64, f64)| r.0.is_finite() && r.1.is_finite() && r.0 <= r.1;
        let (lo, hi) = self.log_m200_range;
        if !(ordered(self.log_m200_range) && lo > 6.0 && hi < 16.0) {
            return bad("log_m200_range", format!("{lo}..{hi} is not an ordered range within 6..16"));
        }
        if let Some(r) = self.log_mstar_range {
            if !(ordered(r) && r.0 > 3.0 && r.1 < 13.0) {
                return bad("log_mstar_range", format!("{}..{} is not an ordered range within 3..13", r.0, r.1));
            }
            let reachable = stellar_mass_moster2013(10f64.powf(hi)).log10() + 3.0 * self.stellar_mass_scatter_dex;
            if reachable < r.0 {
                return bad(
                    "log_mstar_range",
                    format!("stellar masses above 10^{} need haloes beyond log_m200_range", r.0),
                );
            }
        }
        if !self.mass_function_slope.is_finite() || !self.redshift.is_finite() || self.redshift < 0.0 {
            return bad("mass_function_slope", "mass-function slope and redshift must be finite, redshift >= 0".into());
        }
        for (name, v) in [
            ("concentration_scatter_dex", self.concentration_scatter_dex),
            ("stellar_mass_scatter_dex", self.stellar_mass_scatter_dex),
            ("re_scatter_dex", self.re_scatter_dex),
            ("bt_scatter", self.bt_scatter),
        ] {
            if !(v.is_finite() && (0.0..2.0).contains(&v)) {
                return bad(name, format!("must be finite and in [0, 2), got {v}"));
            }
        }
        if !(self.re_at_1e8_kpc.is_finite() && self.re_at_1e8_kpc > 0.0 && self.re_slope.is_finite()) {
            return bad("re_at_1e8_kpc", format!("size relation {} kpc, slope {}", self.re_at_1e8_kpc, self.re_slope));
        }
        if !(self.bt_at_1e10.is_finite() && self.bt_slope.is_finite()) {
            return bad("bt_at_1e10", "bulge-fraction relation must be finite".into());
        }
        if let HaloPrescription::CoreNfw { core_radius_over_re, core_peak_log_ratio, core_width_dex } = self.halo {
            if !(core_radius_over_re > 0.0 && core_peak_log_ratio.is_finite() && core_width_dex > 0.0) {
                return bad("halo", "core-NFW needs positive core radius and width".into());
            }
        }
        let positive_range = |r: (f64, f64)| ordered(r) && r.0 > 0.0;
        if let BulgeProfile::Sersic { n_range } = self.bulge_profile {
            if !(ordered(n_range) && n_range.0 >= 0.6 && n_range.1 <= 10.0) {
                return bad(
                    "bulge_profile",
                    format!("Sersic indices {n_range:?} must lie in 0.6..10 (Prugniel-Simien)"),
                );
            }
        }
        if !(positive_range(self.bulge_size_ratio) && self.bulge_size_ratio.1 <= 1.0) {
            return bad("bulge_size_ratio", format!("{:?} must lie in (0, 1]", self.bulge_size_ratio));
        }
        match self.bulge_anisotropy {
            AnisotropyParams::ConstantBeta { range } => {
                if !(ordered(range) && range.0 > -3.0 && range.1 < 1.0) {
                    return bad("bulge_anisotropy", format!("beta range {range:?} must lie in (-3, 1)"));
                }
                let max_beta = self.bulge_profile.max_constant_beta();
                if range.1 > max_beta {
                    return bad(
                        "bulge_anisotropy",
                        format!(
                            "a {:?} bulge has no equilibrium with beta > {max_beta} (An & Evans 2006)",
                            self.bulge_profile
                        ),
                    );
                }
            }
            AnisotropyParams::OsipkovMerritt { r_a_over_re_range } => {
                if !positive_range(r_a_over_re_range) {
                    return bad("bulge_anisotropy", format!("r_a / R_e range {r_a_over_re_range:?} must be positive"));
                }
            }
        }
        if !(positive_range(self.disc_height_over_rd)
            && positive_range(self.disc_sigma_over_vc)
            && self.disc_sigma_over_vc.1 < 1.0)
        {
            return bad(
                "disc_height_over_rd",
                "disc thickness and dispersion ranges must be positive, sigma/v_c < 1".into(),
            );
        }
        if let Some(g) = &self.gas {
            let ok = g.hi_at_1e9.is_finite()
                && g.hi_slope.is_finite()
                && g.hi_max_log_ratio.is_finite()
                && (0.0..2.0).contains(&g.hi_scatter_dex)
                && positive_range(g.scale_length_over_rd)
                && g.height_over_scale_length > 0.0
                && positive_range(g.dispersion_kms)
                && g.n_neighbours >= 1;
            if !ok {
                return bad("gas", format!("{g:?} has a non-positive range or scale"));
            }
        }
        if let Some(s) = &self.satellites {
            let ok = (0.0..=1.0).contains(&s.fraction)
                && positive_range(s.tidal_radius_over_r200)
                && s.tidal_radius_over_r200.1 <= 1.0
                && ordered(s.gas_retained)
                && s.gas_retained.0 >= 0.0
                && s.gas_retained.1 <= 1.0;
            if !ok {
                return bad("satellites", format!("{s:?}: fractions must lie in [0, 1], tidal radii in (0, 1]"));
            }
        }
        let p = &self.particles;
        for (name, m) in [
            ("star_particle_mass_msun", p.star_particle_mass_msun),
            ("dm_particle_mass_msun", p.dm_particle_mass_msun),
            ("gas_particle_mass_msun", p.gas_particle_mass_msun),
        ] {
            if !(m.is_finite() && m > 0.0) {
                return bad(name, format!("must be positive, got {m}"));
            }
        }
        for (name, (lo, hi)) in [("particles.stars", p.stars), ("particles.dm", p.dm), ("particles.gas", p.gas)] {
            if lo < 2 || lo > hi {
                return bad(name, format!("need 2 <= min <= max particles, got {lo}..{hi}"));
            }
        }
        if let Some(g) = &self.gas {
            if g.n_neighbours >= p.gas.0 {
                return bad(
                    "gas.n_neighbours",
                    format!("{} neighbours need more than {} gas particles", g.n_neighbours, p.gas.0),
                );
            }
        }
        let populations = self.populations.clone().check()?;
        Ok(ValidSuiteParams { params: self, populations })
    }
}

/// Checked [`SuiteParams`].
#[derive(Debug, Clone)]
pub struct ValidSuiteParams {
    params: SuiteParams,
    populations: crate::populations::ValidPopulationParams,
}

impl ValidSuiteParams {
    /// The checked values.
    pub fn params(&self) -> &SuiteParams {
        &self.params
    }
}

/// One galaxy's line in the suite catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CatalogueRow {
    /// Galaxy id (its index in the suite).
    pub galaxy_id: i64,
    /// Central (true) or satellite.
    pub central: bool,
    /// Stellar mass, Msun.
    pub stellar_mass_msun: f64,
    /// M200, Msun (at infall for satellites).
    pub halo_mass_msun: f64,
    /// Concentration c200 of the NFW halo the profile derives from.
    pub c200: f64,
    /// Projected half-mass radius of the stars drawn from the size relation, kpc.
    pub r_e_kpc: f64,
    /// Projected half-mass radius of the star particles seen face-on (along the stellar angular momentum), kpc.
    pub r_h_kpc: f64,
    /// 3-D half-mass radius of the stars (analytic), kpc.
    pub r_half_3d_kpc: f64,
    /// Bulge-to-total stellar mass ratio.
    pub bulge_fraction: f64,
    /// Fraction of the stellar kinetic energy in ordered rotation of co-rotating stars (Correa et al. 2017).
    pub kappa_co: f64,
    /// Cold gas (HI) mass, Msun.
    pub cold_gas_mass_msun: f64,
    /// Logarithmic slope of the dark-matter density between 1% and 2% of r200 (Di Cintio et al. 2014's measure).
    pub dm_inner_slope: f64,
    /// r-band stellar mass-to-light ratio, Msun/Lsun.
    pub mass_to_light_r: f64,
    /// Star particles.
    pub n_stars: usize,
    /// Dark-matter particles.
    pub n_dm: usize,
    /// Gas particles.
    pub n_gas: usize,
}

impl CatalogueRow {
    /// The CSV header matching [`CatalogueRow::csv_line`].
    pub const CSV_HEADER: &'static str = "galaxy_id,central,stellar_mass_msun,halo_mass_msun,c200,r_e_kpc,r_h_kpc,r_half_3d_kpc,bulge_fraction,kappa_co,cold_gas_mass_msun,dm_inner_slope,mass_to_light_r,n_stars,n_dm,n_gas";

    /// One CSV line (no newline).
    pub fn csv_line(&self) -> String {
        format!(
            "{},{},{:.6e},{:.6e},{:.4},{:.6},{:.6},{:.6},{:.4},{:.4},{:.6e},{:.4},{:.4},{},{},{}",
            self.galaxy_id,
            u8::from(self.central),
            self.stellar_mass_msun,
            self.halo_mass_msun,
            self.c200,
            self.r_e_kpc,
            self.r_h_kpc,
            self.r_half_3d_kpc,
            self.bulge_fraction,
            self.kappa_co,
            self.cold_gas_mass_msun,
            self.dm_inner_slope,
            self.mass_to_light_r,
            self.n_stars,
            self.n_dm,
            self.n_gas
        )
    }
}

/// A built galaxy and its catalogue line.
#[derive(Debug, Clone)]
pub struct BuiltGalaxy {
    /// The galaxy, with its truth.
    pub galaxy: Galaxy,
    /// The catalogue line.
    pub row: CatalogueRow,
}

/// The random stream of one purpose of one galaxy.
fn stream(seed: u64, index: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index.wrapping_mul(16).wrapping_add(purpose));
    rng
}

fn uniform(rng: &mut ChaCha8Rng, range: (f64, f64)) -> f64 {
    if range.0 == range.1 {
        range.0
    } else {
        rng.random_range(range.0..=range.1)
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// log10 M from `dN/dlog M ~ M^slope` on [lo, hi] by inverting its cumulative distribution.
fn draw_log_mass(rng: &mut ChaCha8Rng, (lo, hi): (f64, f64), slope: f64) -> f64 {
    let u: f64 = rng.random_range(0.0..1.0);
    if slope.abs() < 1e-12 || lo == hi {
        return lo + u * (hi - lo);
    }
    let k = slope * std::f64::consts::LN_10;
    let (a, b) = ((k * lo).exp(), (k * hi).exp());
    (a + u * (b - a)).ln() / k
}

/// Particle count for a component of mass `mass` at resolution `particle_mass`, within `limits`.
fn particle_count(mass: f64, particle_mass: f64, limits: (usize, usize)) -> usize {
    let n = (mass / particle_mass).round();
    if n.is_finite() {
        (n as usize).clamp(limits.0, limits.1)
    } else {
        limits.0
    }
}

/// The galaxy's global draws (step 1-3 of the module docs).
struct Draws {
    central: bool,
    m200: f64,
    c200: f64,
    m_star: f64,
    r_e: f64,
    bulge_fraction: f64,
    m_hi: f64,
    tidal_fraction: f64,
}

fn draw_globals(p: &SuiteParams, rng: &mut ChaCha8Rng) -> Result<Draws, SynthError> {
    let cosmo = Cosmology::PLANCK2013;
    let central = match &p.satellites {
        Some(s) => rng.random_range(0.0..1.0) >= s.fraction,
        None => true,
    };
    let mut attempt = 0;
    let (m200, m_star) = loop {
        let m200 = 10f64.powf(draw_log_mass(rng, p.log_m200_range, p.mass_function_slope));
        let m_star = stellar_mass_moster2013(m200) * 10f64.powf(p.stellar_mass_scatter_dex * normal(rng));
        match p.log_mstar_range {
            Some((lo, hi)) if !(lo..=hi).contains(&m_star.log10()) => {
                attempt += 1;
                if attempt > 100_000 {
                    return Err(SynthError::InvalidParameter {
                        name: "log_mstar_range",
                        reason: "no stellar mass drawn inside it in 1e5 tries".into(),
                    });
                }
            }
            _ => break (m200, m_star),
        }
    };
    let c200 =
        (cosmo.concentration_dm14(m200, p.redshift) * 10f64.powf(p.concentration_scatter_dex * normal(rng))).max(1.5);
    let r_e = p.re_at_1e8_kpc * (m_star / 1e8).powf(p.re_slope) * 10f64.powf(p.re_scatter_dex * normal(rng));
    let bulge_fraction =
        (p.bt_at_1e10 + p.bt_slope * (m_star.log10() - 10.0) + p.bt_scatter * normal(rng)).clamp(0.0, 1.0);
    let mut m_hi = match &p.gas {
        Some(g) => m_star * 10f64.powf(g.median_log_hi_ratio(m_star) + g.hi_scatter_dex * normal(rng)),
        None => 0.0,
    };
    let mut tidal_fraction = f64::INFINITY;
    if let (false, Some(s)) = (central, &p.satellites) {
        tidal_fraction = uniform(rng, s.tidal_radius_over_r200);
        m_hi *= uniform(rng, s.gas_retained);
    }
    Ok(Draws { central, m200, c200, m_star, r_e, bulge_fraction, m_hi, tidal_fraction })
}

/// Builds galaxy `index` of a suite, deterministically for `seed`.
pub fn build_galaxy(params: &ValidSuiteParams, index: u64, seed: u64) -> Result<BuiltGalaxy, SynthError> {
    let p = params.params();
    let cosmo = Cosmology::PLANCK2013;
    let mut rng = stream(seed, index, 0);
    let d = draw_globals(p, &mut rng)?;
    let nfw = HaloModel::nfw_from_m200(d.m200, d.c200, p.redshift, &cosmo)?;
    let halo = halo_profile(p, &nfw, d.m_star, d.r_e)?;
    let r_outer = if d.central { nfw.r200_kpc } else { d.tidal_fraction * nfw.r200_kpc };
    let halo = if d.central { halo } else { halo.tidally_truncated(r_outer, 0.1)? };
    // The baryons.
    let m_bulge = d.bulge_fraction * d.m_star;
    let m_disc = d.m_star - m_bulge;
    let bulge_ratio = {
        let s = uniform(&mut rng, p.bulge_size_ratio);
        s + (1.0 - s) * d.bulge_fraction
    };
    // Sizes: the disc's face-on R_e is lambda R_e and the bulge's bulge_ratio lambda R_e, with lambda such that the
    // whole galaxy's face-on projected half-mass radius is the drawn R_e.
    let shape = match p.bulge_profile {
        BulgeProfile::Plummer => BulgeShape::Plummer,
        BulgeProfile::Hernquist => BulgeShape::Hernquist,
        BulgeProfile::Sersic { n_range } => BulgeShape::Sersic(uniform(&mut rng, n_range)),
    };
    let lambda = size_scale_for_half_mass(shape, d.bulge_fraction, bulge_ratio);
    let r_e_bulge = bulge_ratio * lambda * d.r_e;
    let bulge = (m_bulge > 0.0).then(|| shape.profile(m_bulge, r_e_bulge));
    let r_d = lambda * d.r_e / EXPONENTIAL_RE_OVER_RD;
    let z_d = uniform(&mut rng, p.disc_height_over_rd) * r_d;
    let sigma_over_vc = uniform(&mut rng, p.disc_sigma_over_vc);
    let disc_sph = if m_disc > 0.0 {
        Some(
            ExponentialDisc { mass_msun: m_disc, r_d_kpc: r_d, z_d_kpc: z_d, sigma_r_at_rd_kms: 0.0 }
                .spherical_profile()?,
        )
    } else {
        None
    };
    let gas_disc = match &p.gas {
        Some(g) if d.m_hi > 0.0 => {
            let r_g = uniform(&mut rng, g.scale_length_over_rd) * r_d;
            Some(GasDisc {
                mass_msun: d.m_hi / HYDROGEN_MASS_FRACTION,
                r_d_kpc: r_g,
                z_d_kpc: g.height_over_scale_length * r_g,
                sigma_kms: uniform(&mut rng, g.dispersion_kms),
            })
        }
        _ => None,
    };
    let gas_sph = gas_disc.as_ref().map(GasDisc::spherical_profile).transpose()?;
    let anisotropy = match p.bulge_anisotropy {
        AnisotropyParams::ConstantBeta { range } => match uniform(&mut rng, range) {
            0.0 => DfAnisotropy::Isotropic,
            beta => DfAnisotropy::ConstantBeta { beta },
        },
        AnisotropyParams::OsipkovMerritt { r_a_over_re_range: (lo, hi) } => {
            let ratio = (lo.ln() + rng.random_range(0.0..=1.0) * (hi / lo).ln()).exp();
            DfAnisotropy::OsipkovMerritt { r_a_kpc: ratio * r_e_bulge }
        }
    };
    // The spherically averaged total potential.
    let mut parts: Vec<Box<dyn SphericalProfile>> = vec![Box::new(halo.clone())];
    if bulge.is_some() {
        parts.push(shape.profile(m_bulge, r_e_bulge));
    }
    if let Some(s) = &disc_sph {
        parts.push(Box::new(s.clone()));
    }
    if let Some(s) = &gas_sph {
        parts.push(Box::new(s.clone()));
    }
    let total = Composite(parts);
    let v_c = |r: f64| (G * total.enclosed_mass_msun(r) / r.max(1e-9)).sqrt();
    // Particles: equal masses per species.
    let res = &p.particles;
    let n_stars = particle_count(d.m_star, res.star_particle_mass_msun, res.stars);
    let n_bulge = ((n_stars as f64 * d.bulge_fraction).round() as usize).min(n_stars);
    let n_disc = n_stars - n_bulge;
    let n_dm = particle_count(halo.total_mass_msun(), res.dm_particle_mass_msun, res.dm);
    let mut star_pos = Array2::zeros((0, 3));
    let mut star_vel = Array2::zeros((0, 3));
    if let (Some(b), true) = (&bulge, n_bulge > 0) {
        let df = SphericalDf::new(b.as_ref(), &total, anisotropy)?;
        (star_pos, star_vel) = df.sample(n_bulge, stream(seed, index, 1).random())?;
    }
    if n_disc > 0 && m_disc > 0.0 {
        let sigma_r = sigma_over_vc * v_c(r_d);
        let disc = ExponentialDisc { mass_msun: m_disc, r_d_kpc: r_d, z_d_kpc: z_d, sigma_r_at_rd_kms: sigma_r };
        let (pos, vel) = disc.sample(n_disc, &v_c, stream(seed, index, 2).random())?;
        star_pos = concatenate(Axis(0), &[star_pos.view(), pos.view()])
            .map_err(|e| SynthError::InvalidParameter { name: "stars", reason: e.to_string() })?;
        star_vel = concatenate(Axis(0), &[star_vel.view(), vel.view()])
            .map_err(|e| SynthError::InvalidParameter { name: "stars", reason: e.to_string() })?;
    }
    let dm_df = SphericalDf::new(&halo, &total, DfAnisotropy::Isotropic)?;
    let (dm_pos, dm_vel) = dm_df.sample(n_dm, stream(seed, index, 3).random())?;
    // Random orientation in the box frame.
    let orientation = Rotation::random(stream(seed, index, 4).random());
    let turn = |a: &Array2<f64>| orientation.apply_rows(a);
    let potential = PotentialTable::new(&total, 1e-4 * d.r_e.min(nfw.nfw.r_s_kpc), 1e3 * nfw.r200_kpc);
    let mut stars =
        Particles::new(turn(&star_pos), turn(&star_vel), Array1::from_elem(n_stars, d.m_star / n_stars as f64))?;
    stars.set_field(ScalarField::PotentialKms2, potential.at_rows(&star_pos))?;
    let mut dm =
        Particles::new(turn(&dm_pos), turn(&dm_vel), Array1::from_elem(n_dm, halo.total_mass_msun() / n_dm as f64))?;
    dm.set_field(ScalarField::PotentialKms2, potential.at_rows(&dm_pos))?;
    let population_seed = stream(seed, index, 5).random();
    let summary = if p.populations.bulge_sfh.is_some() {
        let in_bulge: Vec<bool> = (0..n_stars).map(|i| i < n_bulge).collect();
        assign_populations_with_bulge(&mut stars, &params.populations, &in_bulge, d.m_star.log10(), population_seed)?
    } else {
        assign_populations(&mut stars, &params.populations, d.m_star.log10(), population_seed)?
    };
    let (rotation, kappa_co) = galmass_core::kinematics::aligned_frame_and_kappa_co(&stars)?;
    let gas = match (&gas_disc, &p.gas) {
        (Some(g), Some(gp)) => {
            let n_gas = particle_count(g.mass_msun, res.gas_particle_mass_msun, res.gas);
            let (pos, vel) = g.sample(n_gas, &v_c, stream(seed, index, 6).random())?;
            let density: Array1<f64> =
                pos.rows().into_iter().map(|r| g.density_msun_kpc3(r[0].hypot(r[1]), r[2])).collect();
            let mut gas = gas_particles(turn(&pos), turn(&vel), density, g, gp.n_neighbours)?;
            gas.set_field(ScalarField::PotentialKms2, potential.at_rows(&pos))?;
            Some(gas)
        }
        _ => None,
    };
    // Truth: analytic cumulative masses in 3-D spheres.
    let r_min = 1e-3 * d.r_e.min(nfw.nfw.r_s_kpc);
    let radii = log_spaced_radii(r_min, 10.0 * nfw.r200_kpc, 256)?;
    let star_mass_at = |r: f64| {
        bulge.as_ref().map_or(0.0, |b| b.enclosed_mass_msun(r))
            + disc_sph.as_ref().map_or(0.0, |s| s.enclosed_mass_msun(r))
    };
    let gas_mass_at = |r: f64| gas_sph.as_ref().map_or(0.0, |s| s.enclosed_mass_msun(r));
    let mut cumulative = BTreeMap::from([
        (Species::Stars, radii.mapv(star_mass_at)),
        (Species::Dm, radii.mapv(|r| halo.enclosed_mass_msun(r))),
    ]);
    let (r_lo, r_hi) = (radii[0], 1e3 * radii[radii.len() - 1]);
    let star_total = star_mass_at(r_hi);
    let r_half_3d = bisect(&star_mass_at, 0.5 * star_total, r_lo, r_hi);
    let mut half = BTreeMap::from([
        (Species::Stars, r_half_3d),
        (Species::Dm, bisect(&|r| halo.enclosed_mass_msun(r), 0.5 * halo.total_mass_msun(), r_lo, r_hi)),
    ]);
    let mut all_total = star_total + halo.total_mass_msun();
    if let Some(s) = &gas_sph {
        cumulative.insert(Species::Gas, radii.mapv(gas_mass_at));
        half.insert(Species::Gas, bisect(&gas_mass_at, 0.5 * s.total_mass_msun(), r_lo, r_hi));
        all_total += s.total_mass_msun();
    }
    let total_half = bisect(&|r| total.enclosed_mass_msun(r), 0.5 * all_total, r_lo, r_hi);
    let dm_inner_slope = inner_slope(&halo, nfw.r200_kpc);
    let model = format!(
        "{:?} bulge (B/T {:.3}, {:?}) + exponential disc + {} in a {} halo{}",
        shape,
        d.bulge_fraction,
        anisotropy,
        if gas_sph.is_some() { "HI disc" } else { "no gas" },
        match p.halo {
            HaloPrescription::Nfw => "truncated NFW",
            HaloPrescription::Dc14 => "DC14",
            HaloPrescription::CoreNfw { .. } => "core-NFW",
        },
        if d.central { String::new() } else { format!(", tidally truncated at {r_outer:.1} kpc") }
    )
    .to_lowercase();
    let mut truth = TruthProfiles::new(radii, cumulative, half, total_half, TruthSource::Analytic(model))?;
    for (name, value) in [
        ("kappa_co", kappa_co),
        ("bulge_fraction", d.bulge_fraction),
        ("r_e_kpc", d.r_e),
        ("m200_msun", d.m200),
        ("c200", d.c200),
        ("hi_mass_msun", d.m_hi),
        ("dm_inner_slope", dm_inner_slope),
        ("central", if d.central { 1.0 } else { 0.0 }),
    ] {
        truth.set_scalar(name, value)?;
    }
    let mut meta = GalaxyMeta::new(&p.suite, index as i64);
    meta.redshift = p.redshift;
    meta.source = format!("galmass-synth {} seed {seed} galaxy {index}", p.suite);
    meta.rotation_to_aligned = rotation;
    let face_on = rotation.apply_rows(stars.pos_kpc());
    let projected: Vec<f64> = face_on.rows().into_iter().map(|r| r[0].hypot(r[1])).collect();
    let r_h = galmass_core::stats::median(&projected).unwrap_or(f64::NAN);
    let mut galaxy = Galaxy::new(meta);
    galaxy.set_species(Species::Stars, stars);
    galaxy.set_species(Species::Dm, dm);
    let n_gas = gas.as_ref().map_or(0, Particles::len);
    if let Some(g) = gas {
        galaxy.set_species(Species::Gas, g);
    }
    galaxy.truth = Some(truth);
    let row = CatalogueRow {
        galaxy_id: index as i64,
        central: d.central,
        stellar_mass_msun: d.m_star,
        halo_mass_msun: d.m200,
        c200: d.c200,
        r_e_kpc: d.r_e,
        r_h_kpc: r_h,
        r_half_3d_kpc: r_half_3d,
        bulge_fraction: d.bulge_fraction,
        kappa_co,
        cold_gas_mass_msun: d.m_hi,
        dm_inner_slope,
        mass_to_light_r: summary.mass_to_light("r").unwrap_or(f64::NAN),
        n_stars,
        n_dm,
        n_gas,
    };
    Ok(BuiltGalaxy { galaxy, row })
}

/// The (untruncated-by-tides) halo of a galaxy of stellar mass `m_star` and size `r_e` in the NFW halo `nfw`.
fn halo_profile(p: &SuiteParams, nfw: &HaloModel, m_star: f64, r_e: f64) -> Result<TabulatedProfile, SynthError> {
    let x = (m_star / nfw.m200_msun).log10();
    match p.halo {
        HaloPrescription::Nfw => TabulatedProfile::truncated_nfw(nfw.nfw, nfw.r200_kpc, 0.1),
        HaloPrescription::Dc14 => {
            let shape = Dc14Shape::from_log_stellar_to_halo(x);
            TabulatedProfile::dc14(shape, nfw.m200_msun, nfw.r200_kpc, nfw.nfw.r_s_kpc / shape.concentration_factor)
        }
        HaloPrescription::CoreNfw { core_radius_over_re, core_peak_log_ratio, core_width_dex } => {
            let n = (-(x - core_peak_log_ratio).powi(2) / (2.0 * core_width_dex * core_width_dex)).exp();
            TabulatedProfile::core_nfw(nfw.nfw, nfw.r200_kpc, core_radius_over_re * r_e, n)
        }
    }
}

/// Logarithmic density slope between 1% and 2% of r200 (the radii where Di Cintio et al. 2014 measure it).
fn inner_slope(halo: &TabulatedProfile, r200_kpc: f64) -> f64 {
    let r1 = 0.01 * r200_kpc;
    (halo.density_msun_kpc3(2.0 * r1) / halo.density_msun_kpc3(r1)).log2()
}

impl SuiteParams {
    /// Median M* of a halo of mass `m200_msun` (Moster, Naab & White 2013), Msun.
    pub fn median_stellar_mass_msun(&self, m200_msun: f64) -> f64 {
        stellar_mass_moster2013(m200_msun)
    }

    /// Median projected half-mass radius at stellar mass `m_star_msun`, kpc.
    pub fn median_re_kpc(&self, m_star_msun: f64) -> f64 {
        self.re_at_1e8_kpc * (m_star_msun / 1e8).powf(self.re_slope)
    }

    /// Median M_HI / M* at stellar mass `m_star_msun` (of centrals), when the suite has gas.
    pub fn median_hi_ratio(&self, m_star_msun: f64) -> Option<f64> {
        self.gas.as_ref().map(|g| 10f64.powf(g.median_log_hi_ratio(m_star_msun)))
    }

    /// Median bulge fraction at stellar mass `m_star_msun` (before the scatter and the clipping to [0, 1]).
    pub fn median_bulge_fraction(&self, m_star_msun: f64) -> f64 {
        self.bt_at_1e10 + self.bt_slope * (m_star_msun.log10() - 10.0)
    }

    /// Inner dark-matter slope (between 1% and 2% of r200) of the suite's halo prescription for a halo of mass
    /// `m200_msun` with median concentration holding `10^log_stellar_to_halo` of its mass in stars of median size.
    pub fn inner_slope_model(&self, m200_msun: f64, log_stellar_to_halo: f64) -> Result<f64, SynthError> {
        let cosmo = Cosmology::PLANCK2013;
        let nfw = HaloModel::nfw_from_m200(
            m200_msun,
            cosmo.concentration_dm14(m200_msun, self.redshift).max(1.5),
            self.redshift,
            &cosmo,
        )?;
        let m_star = m200_msun * 10f64.powf(log_stellar_to_halo);
        Ok(inner_slope(&halo_profile(self, &nfw, m_star, self.median_re_kpc(m_star))?, nfw.r200_kpc))
    }
}

/// The spherically averaged total potential tabulated on 512 log-spaced radii (linear in ln r between them; the
/// innermost value inside, Keplerian outside), so that every particle gets its potential cheaply.
struct PotentialTable {
    ln_r: Vec<f64>,
    phi: Vec<f64>,
    outer_mass_msun: f64,
}

impl PotentialTable {
    fn new(total: &dyn SphericalProfile, r_min_kpc: f64, r_max_kpc: f64) -> Self {
        let n = 512;
        let (a, b) = (r_min_kpc.ln(), r_max_kpc.ln());
        let ln_r: Vec<f64> = (0..n).map(|i| a + (b - a) * i as f64 / (n - 1) as f64).collect();
        let phi = ln_r.iter().map(|l| total.potential_kms2(l.exp())).collect();
        Self { ln_r, phi, outer_mass_msun: total.enclosed_mass_msun(r_max_kpc) }
    }

    fn at(&self, r_kpc: f64) -> f64 {
        let (first, last) = (self.ln_r[0], self.ln_r[self.ln_r.len() - 1]);
        let l = r_kpc.max(1e-300).ln();
        if l <= first {
            return self.phi[0];
        }
        if l >= last {
            return -G * self.outer_mass_msun / r_kpc;
        }
        let t = (l - first) / (last - first) * (self.ln_r.len() - 1) as f64;
        let i = (t.floor() as usize).min(self.ln_r.len() - 2);
        let w = t - i as f64;
        self.phi[i] * (1.0 - w) + self.phi[i + 1] * w
    }

    /// The potential at each row of (N, 3) positions about the centre, (km/s)^2.
    fn at_rows(&self, pos: &Array2<f64>) -> Array1<f64> {
        pos.rows().into_iter().map(|r| self.at((r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt())).collect()
    }
}

/// Gas particles with HI masses, temperatures, smoothing lengths (from the `n_neighbours` nearest gas particles) and
/// the disc's analytic density at each particle (`density`: the truth, where an SPH estimate from randomly placed
/// particles would be biased high by its self term, 32 / (3 (k - 1)); see `galmass_core::neighbours`).
fn gas_particles(
    pos: Array2<f64>,
    vel: Array2<f64>,
    density: Array1<f64>,
    disc: &GasDisc,
    n_neighbours: usize,
) -> Result<Particles, SynthError> {
    let n = pos.nrows();
    let mass = Array1::from_elem(n, disc.mass_msun / n as f64);
    let h = galmass_core::neighbours::smoothing_lengths_kpc(pos.view(), n_neighbours)?;
    let rho = density;
    let mut gas = Particles::new(pos, vel, mass.clone())?;
    gas.set_field(ScalarField::HiMassMsun, mass.mapv(|m| m * HYDROGEN_MASS_FRACTION))?;
    gas.set_field(
        ScalarField::TemperatureK,
        Array1::from_elem(n, PROTON_MASS_OVER_BOLTZMANN_K_PER_KMS2 * disc.sigma_kms * disc.sigma_kms),
    )?;
    gas.set_field(ScalarField::SmoothingLengthKpc, h)?;
    gas.set_field(ScalarField::DensityMsunPerKpc3, rho)?;
    gas.set_field(ScalarField::SfrMsunPerYr, Array1::zeros(n))?;
    Ok(gas)
}

/// The factor lambda by which a disc of face-on half-mass radius lambda and a bulge of projected half-mass radius
/// `bulge_ratio` lambda (both in units of R_e), holding `bulge_fraction` of the mass, have a combined face-on projected
/// half-mass radius of 1 (nested bisections).
fn size_scale_for_half_mass(shape: BulgeShape, bulge_fraction: f64, bulge_ratio: f64) -> f64 {
    let projected = |lambda: f64, r: f64| {
        let x = r * EXPONENTIAL_RE_OVER_RD / lambda;
        let disc = 1.0 - (1.0 + x) * (-x).exp();
        bulge_fraction * shape.projected_fraction(r, bulge_ratio * lambda) + (1.0 - bulge_fraction) * disc
    };
    let half_radius = |lambda: f64| bisect(&|r| projected(lambda, r), 0.5, 1e-3, 1e3);
    // The half-mass radius grows with lambda (both components scale with it).
    let (mut lo, mut hi) = (0.1f64.ln(), 10f64.ln());
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if half_radius(mid.exp()) < 1.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Radius where the increasing function `f` reaches `target`, by bisection in ln r.
fn bisect(f: &dyn Fn(f64) -> f64, target: f64, lo: f64, hi: f64) -> f64 {
    let (mut a, mut b) = (lo.ln(), hi.ln());
    for _ in 0..100 {
        let m = 0.5 * (a + b);
        if f(m.exp()) < target {
            a = m;
        } else {
            b = m;
        }
    }
    (0.5 * (a + b)).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(name: &str, stars: usize, dm: usize, gas: usize) -> ValidSuiteParams {
        let mut p = SuiteParams::preset(name).unwrap();
        p.particles.set_counts(Some(stars), Some(dm), Some(gas));
        p.check().unwrap()
    }

    /// Counted mass fraction within r against the truth, within 4 Poisson sigmas (+ a small floor).
    fn assert_counts_match_truth(galaxy: &Galaxy, species: Species) {
        let truth = galaxy.truth.as_ref().unwrap();
        let particles = galaxy.species(species).unwrap();
        let radii = particles.radii_kpc();
        let n = radii.len() as f64;
        let total = truth.enclosed_mass_msun(Some(species), truth.radii_kpc()[truth.radii_kpc().len() - 1]).unwrap();
        assert!(
            (particles.total_mass_msun() / total - 1.0).abs() < 5e-3,
            "{species}: {} vs {total}",
            particles.total_mass_msun()
        );
        let r_half = truth.half_mass_radius_kpc(Some(species)).unwrap();
        for f in [0.25, 0.5, 1.0, 2.0, 4.0] {
            let r = f * r_half;
            let frac = truth.enclosed_mass_msun(Some(species), r).unwrap() / total;
            let counted = radii.iter().filter(|&&x| x < r).count() as f64 / n;
            let tol = 4.0 * (frac * (1.0 - frac) / n).sqrt() + 2e-3;
            assert!((counted - frac).abs() < tol, "{species} at {f} r_half: counted {counted:.4}, truth {frac:.4}");
        }
    }

    #[test]
    fn every_preset_builds_galaxies_whose_particles_follow_their_truth() {
        for name in PRESETS {
            let params = small(name, 4000, 8000, 3000);
            for index in [0, 1] {
                let built = build_galaxy(&params, index, 5).unwrap_or_else(|e| panic!("{name} galaxy {index}: {e}"));
                let g = &built.galaxy;
                assert_counts_match_truth(g, Species::Stars);
                assert_counts_match_truth(g, Species::Dm);
                let truth = g.truth.as_ref().unwrap();
                assert_eq!(truth.scalar("kappa_co"), Some(built.row.kappa_co));
                assert_eq!(g.meta.suite, name);
                if let Some(gas) = g.species(Species::Gas) {
                    assert_counts_match_truth(g, Species::Gas);
                    let hi: f64 = gas.field(ScalarField::HiMassMsun).unwrap().sum();
                    assert!((hi / built.row.cold_gas_mass_msun - 1.0).abs() < 1e-9);
                    let h = gas.field(ScalarField::SmoothingLengthKpc).unwrap();
                    assert!(h.iter().all(|&x| x > 0.0 && x.is_finite()));
                    assert!(gas
                        .field(ScalarField::DensityMsunPerKpc3)
                        .unwrap()
                        .iter()
                        .all(|&d| d > 0.0 && d.is_finite()));
                    let t = gas.field(ScalarField::TemperatureK).unwrap()[0];
                    // 8-12 km/s: T = m_p sigma^2 / k from 7.7e3 to 1.75e4 K.
                    assert!((7.5e3..1.8e4).contains(&t), "{t}");
                } else {
                    assert!(params.params().gas.is_none() || built.row.cold_gas_mass_msun == 0.0);
                }
                // The aligned frame puts the stellar angular momentum on +z.
                let stars = g.stars().unwrap();
                let rot = g.meta.rotation_to_aligned;
                let (pos, vel) = (rot.apply_rows(stars.pos_kpc()), rot.apply_rows(stars.vel_kms()));
                let mut l = [0.0; 3];
                for i in 0..stars.len() {
                    l[0] += pos[[i, 1]] * vel[[i, 2]] - pos[[i, 2]] * vel[[i, 1]];
                    l[1] += pos[[i, 2]] * vel[[i, 0]] - pos[[i, 0]] * vel[[i, 2]];
                    l[2] += pos[[i, 0]] * vel[[i, 1]] - pos[[i, 1]] * vel[[i, 0]];
                }
                if built.row.bulge_fraction < 0.9 {
                    assert!(l[2] > 0.0 && l[2].abs() > 10.0 * l[0].abs().max(l[1].abs()), "{name}: {l:?}");
                }
                // The potential deepens towards the centre: the deepest particle sits near it.
                let phi = stars.field(ScalarField::PotentialKms2).unwrap();
                let deepest = (0..stars.len()).min_by(|&a, &b| phi[a].total_cmp(&phi[b])).unwrap();
                assert!(stars.radii_kpc()[deepest] < 0.2 * built.row.r_e_kpc, "{name}: {}", stars.radii_kpc()[deepest]);
                assert!(phi.iter().all(|&v| v < 0.0));
                let ages = stars.field(ScalarField::AgeGyr).unwrap();
                assert!(ages.iter().all(|&a| a > 0.0 && a < 14.0));
                assert!(stars.luminosity("r").is_some() && built.row.mass_to_light_r > 0.1);
            }
        }
    }

    #[test]
    fn bulge_and_disc_sizes_give_the_drawn_half_mass_radius() {
        // Each bulge's projected mass reaches one half at its R_e, and Hernquist's formula is continuous at s = 1.
        for shape in [BulgeShape::Plummer, BulgeShape::Hernquist, BulgeShape::Sersic(1.0), BulgeShape::Sersic(4.0)] {
            assert!((shape.projected_fraction(2.0, 2.0) - 0.5).abs() < 1e-3, "{shape:?}");
        }
        let a = 1.0 / HERNQUIST_RE_OVER_A;
        let h = |r: f64| BulgeShape::Hernquist.projected_fraction(r, 1.0);
        assert!((h(a * (1.0 + 1e-3)) - h(a * (1.0 - 1e-3))).abs() < 1e-3);
        for kind in [BulgeShape::Plummer, BulgeShape::Hernquist, BulgeShape::Sersic(2.0)] {
            // Pure components need no rescaling.
            assert!((size_scale_for_half_mass(kind, 0.0, 0.3) - 1.0).abs() < 1e-6);
            assert!(
                (size_scale_for_half_mass(kind, 1.0, 1.0) - 1.0).abs() < 1e-4,
                "{}",
                size_scale_for_half_mass(kind, 1.0, 1.0)
            );
            // A compact bulge shrinks the half-mass radius, so the components grow.
            assert!(size_scale_for_half_mass(kind, 0.3, 0.2) > 1.05);
        }
    }

    #[test]
    fn galaxies_are_deterministic_per_index() {
        let params = small("nihao-like", 1500, 3000, 800);
        let a = build_galaxy(&params, 3, 11).unwrap();
        let b = build_galaxy(&params, 3, 11).unwrap();
        assert_eq!(a.galaxy, b.galaxy);
        assert_eq!(a.row, b.row);
        assert_ne!(build_galaxy(&params, 4, 11).unwrap().row, a.row);
        assert_ne!(build_galaxy(&params, 3, 12).unwrap().row, a.row);
    }

    #[test]
    fn discs_rotate_and_spheroids_do_not() {
        let disc = build_galaxy(&small("auriga-like", 6000, 6000, 2000), 0, 1).unwrap();
        assert!(disc.row.kappa_co > 0.5 && disc.row.bulge_fraction < 0.5, "{:?}", disc.row);
        let sph = build_galaxy(&small("spheroids", 6000, 6000, 100), 0, 1).unwrap();
        assert!(sph.row.kappa_co < 0.3 && sph.row.bulge_fraction == 1.0, "{:?}", sph.row);
        assert!(sph.galaxy.species(Species::Gas).is_none());
        // The projected half-mass radius of a pure spheroid is its drawn R_e (face-on or not, it is spherical), and so
        // is the face-on one of a bulge + disc galaxy.
        assert!((sph.row.r_h_kpc / sph.row.r_e_kpc - 1.0).abs() < 0.05, "{:?}", sph.row);
        assert!((disc.row.r_h_kpc / disc.row.r_e_kpc - 1.0).abs() < 0.05, "{:?}", disc.row);
    }

    /// Least-squares slope and intercept of y on x.
    fn fit(points: &[(f64, f64)]) -> (f64, f64) {
        let n = points.len() as f64;
        let (mx, my) = (points.iter().map(|p| p.0).sum::<f64>() / n, points.iter().map(|p| p.1).sum::<f64>() / n);
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
        (sxy / sxx, my - sxy / sxx * mx)
    }

    #[test]
    fn populations_follow_the_configured_relations() {
        for name in PRESETS {
            let p = SuiteParams::preset(name).unwrap();
            let draws: Vec<Draws> = (0..4000).map(|i| draw_globals(&p, &mut stream(9, i, 0)).unwrap()).collect();
            // Stellar masses scatter about Moster et al. 2013 with the configured scatter (no range cut).
            if let Some((lo, hi)) = p.log_mstar_range {
                assert!(draws.iter().all(|d| (lo..=hi).contains(&d.m_star.log10())));
            } else {
                let resid: Vec<f64> =
                    draws.iter().map(|d| (d.m_star / stellar_mass_moster2013(d.m200)).log10()).collect();
                let mean = resid.iter().sum::<f64>() / resid.len() as f64;
                let sd = (resid.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / resid.len() as f64).sqrt();
                assert!(
                    mean.abs() < 0.01 && (sd / p.stellar_mass_scatter_dex - 1.0).abs() < 0.05,
                    "{name}: {mean} {sd}"
                );
            }
            // Size-mass relation: slope and normalisation recovered.
            let size: Vec<(f64, f64)> = draws.iter().map(|d| ((d.m_star / 1e8).log10(), d.r_e.log10())).collect();
            let (slope, intercept) = fit(&size);
            assert!(
                (slope - p.re_slope).abs() < 0.02 && (intercept - p.re_at_1e8_kpc.log10()).abs() < 0.03,
                "{name}: {slope} {intercept}"
            );
            if let Some(g) = &p.gas {
                // Where the cap does not act, the power law; where it does, the cap.
                let below_cap = |d: &&Draws| g.hi_at_1e9 + g.hi_slope * (d.m_star.log10() - 9.0) < g.hi_max_log_ratio;
                let hi: Vec<(f64, f64)> = draws
                    .iter()
                    .filter(|d| d.central)
                    .filter(below_cap)
                    .map(|d| (d.m_star.log10() - 9.0, (d.m_hi / d.m_star).log10()))
                    .collect();
                if hi.len() > 200 {
                    let (slope, intercept) = fit(&hi);
                    assert!(
                        (slope - g.hi_slope).abs() < 0.05 && (intercept - g.hi_at_1e9).abs() < 0.08,
                        "{name}: {slope} {intercept} ({} galaxies)",
                        hi.len()
                    );
                }
                let capped: Vec<f64> = draws
                    .iter()
                    .filter(|d| d.central && !below_cap(d))
                    .map(|d| (d.m_hi / d.m_star).log10() - g.hi_max_log_ratio)
                    .collect();
                if capped.len() > 200 {
                    let mean = capped.iter().sum::<f64>() / capped.len() as f64;
                    assert!(mean.abs() < 0.05, "{name}: capped mean offset {mean}");
                }
            }
            if let Some(s) = &p.satellites {
                let sat = draws.iter().filter(|d| !d.central).count() as f64 / draws.len() as f64;
                assert!((sat - s.fraction).abs() < 0.03, "{name}: satellite fraction {sat}");
            }
        }
    }

    #[test]
    fn satellites_are_stripped_and_halo_prescriptions_shape_the_centre() {
        let params = small("tng-like", 1500, 3000, 800);
        let mut seen = (false, false);
        for index in 0..12 {
            let built = build_galaxy(&params, index, 3).unwrap();
            let truth = built.galaxy.truth.as_ref().unwrap();
            let dm_total = built.galaxy.species(Species::Dm).unwrap().total_mass_msun();
            if built.row.central {
                seen.0 = true;
                assert!(dm_total > built.row.halo_mass_msun);
            } else {
                seen.1 = true;
                assert!(dm_total < 0.9 * built.row.halo_mass_msun, "{dm_total} vs {}", built.row.halo_mass_msun);
                assert_eq!(truth.scalar("central"), Some(0.0));
            }
            assert!((9.5..=12.0).contains(&built.row.stellar_mass_msun.log10()));
        }
        assert!(seen.0 && seen.1, "{seen:?}");
        // Cuspy NFW haloes have inner slopes near -1.1 (between 1% and 2% of r200); cored ones are shallower.
        let auriga = build_galaxy(&small("auriga-like", 500, 2000, 300), 0, 2).unwrap();
        assert!((-1.4..-0.9).contains(&auriga.row.dm_inner_slope), "{}", auriga.row.dm_inner_slope);
        let p = SuiteParams { log_m200_range: (10.8, 10.8), ..SuiteParams::preset("nihao-like").unwrap() };
        let mut p = p;
        p.particles.set_counts(Some(500), Some(2000), Some(300));
        let cored = build_galaxy(&p.check().unwrap(), 0, 2).unwrap();
        assert!(cored.row.dm_inner_slope > -0.9, "{:?}", cored.row);
    }

    #[test]
    fn parameters_are_checked() {
        let base = SuiteParams::preset("nihao-like").unwrap();
        assert!(SuiteParams::preset("eagle-like").is_none());
        assert!(SuiteParams { bulge_anisotropy: AnisotropyParams::ConstantBeta { range: (0.0, 0.3) }, ..base.clone() }
            .check()
            .is_err());
        assert!(SuiteParams {
            bulge_profile: BulgeProfile::Hernquist,
            bulge_anisotropy: AnisotropyParams::ConstantBeta { range: (0.0, 0.3) },
            ..base.clone()
        }
        .check()
        .is_ok());
        let sersic = |n_range| SuiteParams {
            bulge_profile: BulgeProfile::Sersic { n_range },
            bulge_anisotropy: AnisotropyParams::ConstantBeta { range: (0.0, 0.3) },
            ..base.clone()
        };
        assert!(sersic((4.0, 6.0)).check().is_ok(), "p/2 = 0.43 at n = 4");
        assert!(sersic((1.0, 4.0)).check().is_err(), "p/2 = 0.22 at n = 1");
        assert!(sersic((0.3, 4.0)).check().is_err());
        assert!(SuiteParams { log_m200_range: (12.0, 11.0), ..base.clone() }.check().is_err());
        assert!(SuiteParams { log_mstar_range: Some((11.5, 12.0)), log_m200_range: (9.5, 10.0), ..base.clone() }
            .check()
            .is_err());
        assert!(SuiteParams { disc_sigma_over_vc: (0.2, 1.5), ..base.clone() }.check().is_err());
        let mut few = base.clone();
        few.particles.set_counts(None, None, Some(10));
        assert!(few.check().is_err(), "32 neighbours need more than 10 gas particles");
        let mut p = base;
        p.particles.stars = (1, 1);
        assert!(p.check().is_err());
    }
}
