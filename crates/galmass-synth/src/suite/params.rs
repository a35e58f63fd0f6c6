//! The parameters of a synthetic suite: [`SuiteParams`] (serde, `deny_unknown_fields`, the five presets that
//! `configs/synth/*.toml` hold) with its sections ([`HaloPrescription`], [`BulgeProfile`], [`AnisotropyParams`],
//! [`GasParams`], [`SatelliteParams`], [`ParticleParams`], and the stellar populations'
//! [`crate::populations::PopulationParams`]), checked once by [`Params::check`] into [`SuiteValidParams`], the only
//! form [`super::build_galaxy`] accepts; and the medians of the population relations the suite draws from.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_synth::suite::{SuiteParams, PRESETS};
//! for name in PRESETS {
//!     let params = SuiteParams::preset(name).unwrap();
//!     assert_eq!(params.check().unwrap().params().suite, name);
//! }
//! let mut bad = SuiteParams::preset("nihao-like").unwrap();
//! bad.log_m200_range = (12.0, 11.0);
//! assert!(bad.check().is_err());
//! ```

use galmass_core::params::Params;
use serde::{Deserialize, Serialize};

use crate::error::SynthError;
use crate::halo::stellar_mass_moster2013;
use crate::populations::{PopulationParams, PopulationValidParams};
use crate::profiles::PrugnielSimien;

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

/// Parameters of a synthetic suite (unchecked; [`Params::check`] turns them into [`SuiteValidParams`]).
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
}

impl Params for SuiteParams {
    type Valid = SuiteValidParams;
    type Error = SynthError;

    /// Checks ranges and combinations.
    fn check(&self) -> Result<SuiteValidParams, SynthError> {
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
        if !self.mass_function_slope.is_finite() {
            return bad("mass_function_slope", format!("must be finite, got {}", self.mass_function_slope));
        }
        if !(self.redshift.is_finite() && self.redshift >= 0.0) {
            return bad("redshift", format!("must be finite and non-negative, got {}", self.redshift));
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
        if !positive_range(self.disc_height_over_rd) {
            return bad("disc_height_over_rd", format!("{:?} must be a positive range", self.disc_height_over_rd));
        }
        if !(positive_range(self.disc_sigma_over_vc) && self.disc_sigma_over_vc.1 < 1.0) {
            return bad(
                "disc_sigma_over_vc",
                format!("{:?} must be a positive range below 1", self.disc_sigma_over_vc),
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
        let populations = self.populations.check()?;
        Ok(SuiteValidParams { params: self.clone(), populations })
    }
}

/// Checked [`SuiteParams`].
#[derive(Debug, Clone)]
pub struct SuiteValidParams {
    params: SuiteParams,
    populations: PopulationValidParams,
}

impl SuiteValidParams {
    /// The checked values.
    pub fn params(&self) -> &SuiteParams {
        &self.params
    }

    /// The checked stellar populations.
    pub fn populations(&self) -> &PopulationValidParams {
        &self.populations
    }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check fails naming `name`.
    fn refused(params: &SuiteParams, name: &str) {
        let r = params.check();
        assert!(matches!(r, Err(SynthError::InvalidParameter { name: n, .. }) if n == name), "{name}: {r:?}");
    }

    #[test]
    fn parameters_are_checked() {
        let base = SuiteParams::preset("nihao-like").unwrap();
        assert!(SuiteParams::preset("eagle-like").is_none());
        let plummer_radial =
            SuiteParams { bulge_anisotropy: AnisotropyParams::ConstantBeta { range: (0.0, 0.3) }, ..base.clone() };
        refused(&plummer_radial, "bulge_anisotropy");
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
        refused(&sersic((1.0, 4.0)), "bulge_anisotropy"); // p/2 = 0.22 at n = 1
        refused(&sersic((0.3, 4.0)), "bulge_profile");
        refused(&SuiteParams { log_m200_range: (12.0, 11.0), ..base.clone() }, "log_m200_range");
        refused(
            &SuiteParams { log_mstar_range: Some((11.5, 12.0)), log_m200_range: (9.5, 10.0), ..base.clone() },
            "log_mstar_range",
        );
        refused(&SuiteParams { disc_sigma_over_vc: (0.2, 1.5), ..base.clone() }, "disc_sigma_over_vc");
        refused(&SuiteParams { disc_height_over_rd: (0.0, 0.1), ..base.clone() }, "disc_height_over_rd");
        refused(&SuiteParams { redshift: -0.5, ..base.clone() }, "redshift");
        refused(&SuiteParams { mass_function_slope: f64::NAN, ..base.clone() }, "mass_function_slope");
        let mut few = base.clone();
        few.particles.set_counts(None, None, Some(10));
        refused(&few, "gas.n_neighbours"); // 32 neighbours need more than 10 gas particles
        let mut p = base.clone();
        p.particles.stars = (1, 1);
        refused(&p, "particles.stars");
        // The populations are checked with the suite.
        let mut p = base;
        p.populations.age_of_universe_gyr = 20.0;
        refused(&p, "age_of_universe_gyr");
    }
}
