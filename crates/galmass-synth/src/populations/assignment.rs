//! Assigning stellar populations to star particles: ages, metallicities and ugriz luminosities for a galaxy of
//! stellar mass M*, from its drawn star formation histories ([`super::sfh`]), its mass-metallicity relation
//! ([`super::metallicity`]) and the embedded SSP table ([`super::ssp`]).
//!
//! For a galaxy of stellar mass M* ([`assign_populations`], [`assign_populations_with_bulge`]):
//! 1. per galaxy (and per component: a disc or whole galaxy, optionally a separate bulge): a star formation history
//!    drawn from the component's [`SfhParams`], from its start to `t_obs`, the age of the universe at the snapshot
//!    (`age_of_universe_gyr`; the presets use [`age_of_universe_z0_gyr`], 13.79 Gyr at z = 0 in Planck 2018);
//! 2. per galaxy: the mean stellar metallicity from a mass-metallicity relation ([`MassMetallicityRelation`]) plus a
//!    Gaussian offset of `galaxy_metallicity_scatter_dex`, plus the component's `metallicity_offset_dex`;
//! 3. per particle: log10 Z scattered by `particle_metallicity_scatter_dex` and clipped to the table's range (so every
//!    metallicity written is one the table covers), then an age: the SFH gives the *formed* mass, and a particle's mass
//!    is *current* mass (living stars + remnants, as simulations store it: the suites' stellar masses and profiles
//!    mean that mass, as observational stellar-to-halo relations do), so ages are drawn from
//!    `psi(t_obs - age) * remaining_fraction(age, Z)` (the SFH thinned by [`SspTable::remaining_mass_fraction`], by
//!    rejection); the formed mass `mass / remaining_fraction` then follows the SFH;
//! 4. the `age_gyr` and `metallicity` fields and the five luminosities are set on the particles, and a
//!    [`PopulationSummary`] (total luminosities, M*/L, mass- and luminosity-weighted ages) is returned. A particle's
//!    luminosity is `mass / remaining_fraction(age, Z) * luminosity_per_msun_formed(age, Z)`
//!    ([`SspTable::particle_luminosity`]).
//!
//! Each random choice comes from a ChaCha8 stream of the caller's seed (streams [`POPULATION_STREAM`] + k), so the
//! same seed gives the same particles.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_core::{Particles, ScalarField};
//! use galmass_synth::populations::{age_of_universe_z0_gyr, assign_populations, PopulationParams};
//! use ndarray::{Array1, Array2};
//!
//! let params = PopulationParams::kirby2013_dwarfs().check().unwrap();
//! let mut stars = Particles::new(Array2::zeros((50, 3)), Array2::zeros((50, 3)), Array1::from_elem(50, 2e4)).unwrap();
//! assign_populations(&mut stars, &params, 6.0, 3).unwrap();
//! let ages = stars.field(ScalarField::AgeGyr).unwrap();
//! assert!(ages.iter().all(|&a| a > 0.0 && a < age_of_universe_z0_gyr()));
//! ```

use galmass_core::cosmology::Cosmology;
use galmass_core::params::Params;
use galmass_core::particles::BandLuminosity;
use galmass_core::{CoreError, Particles, ScalarField};
use ndarray::Array1;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::metallicity::MassMetallicityRelation;
use super::sfh::{SfhParams, SfhShape, StarFormationHistory};
use super::ssp::{check_mass, Band, SspTable, MAX_AGE_GYR, SOLAR_METALLICITY_BC03};
use crate::error::SynthError;

/// The cosmology of the suites' stellar populations: Planck 2018 (Planck Collaboration 2020, A&A 641, A6,
/// TT,TE,EE+lowE+lensing+BAO), whose age of the universe is the presets' observation time. (The haloes' cosmology is
/// Planck 2013, the one Dutton & Maccio 2014 calibrated their concentrations in: [`crate::halo`].)
pub const POPULATION_COSMOLOGY: Cosmology = Cosmology::PLANCK2018;

/// Age of the universe at z = 0 in [`POPULATION_COSMOLOGY`], Gyr (13.79; Planck 2018 quote 13.787 +- 0.020): the
/// presets' `age_of_universe_gyr`.
pub fn age_of_universe_z0_gyr() -> f64 {
    POPULATION_COSMOLOGY.age_of_universe_gyr(0.0)
}

/// Base of the ChaCha8 streams used here (disjoint from the suites' `index * 16 + purpose` streams).
pub const POPULATION_STREAM: u64 = 1 << 62;

/// Proposals per particle before the age sampler gives up (the remaining fraction is >= 0.5 in the embedded table, so
/// at most about 2 are needed on average).
const MAX_AGE_PROPOSALS: usize = 10_000;

/// Parameters of the stellar populations of a suite (unchecked; [`Params::check`] turns them into
/// [`PopulationValidParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationParams {
    /// Age of the universe at the snapshot, Gyr ([`age_of_universe_z0_gyr`] at z = 0); at most 14, the table's oldest
    /// age.
    pub age_of_universe_gyr: f64,
    /// Mean stellar metallicity against stellar mass.
    pub mass_metallicity: MassMetallicityRelation,
    /// Galaxy-to-galaxy scatter of the mean log10 Z about the relation, dex.
    pub galaxy_metallicity_scatter_dex: f64,
    /// Particle-to-particle scatter of log10 Z within a galaxy, dex.
    pub particle_metallicity_scatter_dex: f64,
    /// History of the whole galaxy, or of its disc when `bulge_sfh` is given.
    pub sfh: SfhParams,
    /// History of the bulge particles ([`assign_populations_with_bulge`]), when the bulge has its own.
    pub bulge_sfh: Option<SfhParams>,
}

impl Default for PopulationParams {
    /// [`PopulationParams::kirby2013_gallazzi2005_disc_bulge`].
    fn default() -> Self {
        Self::kirby2013_gallazzi2005_disc_bulge()
    }
}

impl PopulationParams {
    /// Old, metal-poor dwarf spheroidals: Kirby et al. 2013 metallicities with their 0.17 dex rms scatter between
    /// galaxies and 0.35 dex within one (metallicity distributions of Local Group dwarfs are 0.3-0.5 dex wide, Kirby
    /// et al. 2011, ApJ 727, 78); exponentially declining star formation with tau of 0.5-3 Gyr starting 0.5-2 Gyr
    /// after the Big Bang, so mean ages of 9-12 Gyr (our choice, mostly old populations as in the Local Group dwarfs
    /// of Weisz et al. 2014, ApJ 789, 147).
    pub fn kirby2013_dwarfs() -> Self {
        Self {
            age_of_universe_gyr: age_of_universe_z0_gyr(),
            mass_metallicity: MassMetallicityRelation::Kirby2013,
            galaxy_metallicity_scatter_dex: 0.17,
            particle_metallicity_scatter_dex: 0.35,
            sfh: SfhParams {
                shape: SfhShape::Exponential,
                tau_gyr_range: (0.5, 3.0),
                start_time_gyr_range: (0.5, 2.0),
                metallicity_offset_dex: 0.0,
            },
            bulge_sfh: None,
        }
    }

    /// Disc galaxies from dwarfs to the Milky Way: the Kirby-Gallazzi relation
    /// ([`MassMetallicityRelation::KirbyGallazzi`]) with 0.15 dex between galaxies and 0.25 dex within one; a younger
    /// disc with a delayed-tau history (tau 2-8 Gyr from 1-4 Gyr after the Big Bang, mean ages about 4-8 Gyr) and an
    /// older, 0.1 dex more metal-rich bulge with an exponentially declining one (tau 0.5-2 Gyr from 0.5-2 Gyr, mean
    /// ages about 10-12 Gyr). The ranges are our choice.
    pub fn kirby2013_gallazzi2005_disc_bulge() -> Self {
        Self {
            age_of_universe_gyr: age_of_universe_z0_gyr(),
            mass_metallicity: MassMetallicityRelation::KirbyGallazzi,
            galaxy_metallicity_scatter_dex: 0.15,
            particle_metallicity_scatter_dex: 0.25,
            sfh: SfhParams {
                shape: SfhShape::DelayedTau,
                tau_gyr_range: (2.0, 8.0),
                start_time_gyr_range: (1.0, 4.0),
                metallicity_offset_dex: 0.0,
            },
            bulge_sfh: Some(SfhParams {
                shape: SfhShape::Exponential,
                tau_gyr_range: (0.5, 2.0),
                start_time_gyr_range: (0.5, 2.0),
                metallicity_offset_dex: 0.1,
            }),
        }
    }

    /// A preset by name: `kirby2013-dwarfs` or `kirby2013-gallazzi2005-disc-bulge`.
    pub fn preset(name: &str) -> Option<Self> {
        match name {
            "kirby2013-dwarfs" => Some(Self::kirby2013_dwarfs()),
            "kirby2013-gallazzi2005-disc-bulge" => Some(Self::kirby2013_gallazzi2005_disc_bulge()),
            _ => None,
        }
    }
}

impl Params for PopulationParams {
    type Valid = PopulationValidParams;
    type Error = SynthError;

    /// Checks ranges.
    fn check(&self) -> Result<PopulationValidParams, SynthError> {
        let t = self.age_of_universe_gyr;
        if !(t.is_finite() && t > 0.0 && t <= MAX_AGE_GYR) {
            return Err(SynthError::InvalidParameter {
                name: "age_of_universe_gyr",
                reason: format!("must lie in (0, {MAX_AGE_GYR}] Gyr (the SSP table's oldest age), got {t}"),
            });
        }
        for (name, v) in [
            ("galaxy_metallicity_scatter_dex", self.galaxy_metallicity_scatter_dex),
            ("particle_metallicity_scatter_dex", self.particle_metallicity_scatter_dex),
        ] {
            if !(v.is_finite() && (0.0..=2.0).contains(&v)) {
                return Err(SynthError::InvalidParameter { name, reason: format!("must lie in [0, 2] dex, got {v}") });
            }
        }
        self.sfh.check_within("sfh", t)?;
        if let Some(b) = &self.bulge_sfh {
            b.check_within("bulge_sfh", t)?;
        }
        Ok(PopulationValidParams(self.clone()))
    }
}

/// Checked [`PopulationParams`].
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationValidParams(PopulationParams);

impl PopulationValidParams {
    /// The checked values.
    pub fn params(&self) -> &PopulationParams {
        &self.0
    }
}

/// What was drawn for a galaxy by [`assign_populations`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DrawnPopulations {
    /// History of the galaxy (or of its disc).
    pub sfh: StarFormationHistory,
    /// History of the bulge, when configured.
    pub bulge_sfh: Option<StarFormationHistory>,
    /// The galaxy's mean log10(Z / Zsun) (relation plus galaxy scatter, before component offsets).
    pub log_metallicity_zsun: f64,
}

/// Totals of a galaxy's stellar populations, for the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationSummary {
    /// Current stellar mass (living stars + remnants), the sum of the particle masses, Msun.
    pub stellar_mass_msun: f64,
    /// Mass initially formed, sum of current mass / remaining fraction, Msun.
    pub formed_mass_msun: f64,
    /// Total luminosity per band in solar units of the band, in [`Band::ALL`] order.
    pub luminosity_lsun: [f64; 5],
    /// Current stellar mass over luminosity per band, in [`Band::ALL`] order.
    pub mass_to_light: [f64; 5],
    /// Current-mass-weighted mean age, Gyr.
    pub mass_weighted_age_gyr: f64,
    /// r-band-luminosity-weighted mean age, Gyr.
    pub r_luminosity_weighted_age_gyr: f64,
    /// Current-mass-weighted mean metal mass fraction.
    pub mass_weighted_metallicity: f64,
    /// The drawn histories and metallicity, when the populations were assigned here.
    pub drawn: Option<DrawnPopulations>,
}

impl PopulationSummary {
    /// Total luminosity in a band by name (`"u"` ... `"z"`).
    pub fn luminosity_lsun(&self, band: &str) -> Option<f64> {
        Band::from_name(band).map(|b| self.luminosity_lsun[b.index()])
    }

    /// M*/L in a band by name (`"u"` ... `"z"`).
    pub fn mass_to_light(&self, band: &str) -> Option<f64> {
        Band::from_name(band).map(|b| self.mass_to_light[b.index()])
    }
}

/// Assigns ages, metallicities and ugriz luminosities to every particle from the galaxy history `params.sfh`, for a
/// galaxy of stellar mass 10^`log_stellar_mass` Msun (module docs), from the embedded table. Deterministic for `seed`.
///
/// Fails on no particles or a `log_stellar_mass` outside [2, 13].
pub fn assign_populations(
    particles: &mut Particles,
    params: &PopulationValidParams,
    log_stellar_mass: f64,
    seed: u64,
) -> Result<PopulationSummary, SynthError> {
    assign(particles, params, None, log_stellar_mass, seed, SspTable::embedded()?)
}

/// As [`assign_populations`], with the particles flagged in `in_bulge` following `params.bulge_sfh` (and its
/// metallicity offset) and the others `params.sfh`.
///
/// Fails also when `in_bulge` does not have one flag per particle, or flags a particle without a `bulge_sfh`.
pub fn assign_populations_with_bulge(
    particles: &mut Particles,
    params: &PopulationValidParams,
    in_bulge: &[bool],
    log_stellar_mass: f64,
    seed: u64,
) -> Result<PopulationSummary, SynthError> {
    assign(particles, params, Some(in_bulge), log_stellar_mass, seed, SspTable::embedded()?)
}

fn stream(seed: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(POPULATION_STREAM + purpose);
    rng
}

fn assign(
    particles: &mut Particles,
    params: &PopulationValidParams,
    in_bulge: Option<&[bool]>,
    log_stellar_mass: f64,
    seed: u64,
    table: &SspTable,
) -> Result<PopulationSummary, SynthError> {
    let p = params.params();
    let n = particles.len();
    if n == 0 {
        return Err(CoreError::TooFewParticles { what: "stellar populations".into(), needed: 1, got: 0 }.into());
    }
    if !(log_stellar_mass.is_finite() && (2.0..=13.0).contains(&log_stellar_mass)) {
        return Err(SynthError::InvalidParameter {
            name: "log_stellar_mass",
            reason: format!("must lie in [2, 13], got {log_stellar_mass}"),
        });
    }
    if let Some(flags) = in_bulge {
        if flags.len() != n {
            return Err(CoreError::Shape {
                field: "in_bulge".into(),
                expected: format!("length {n}"),
                got: format!("length {}", flags.len()),
            }
            .into());
        }
        if p.bulge_sfh.is_none() && flags.iter().any(|&b| b) {
            return Err(SynthError::InvalidParameter {
                name: "bulge_sfh",
                reason: "bulge particles are flagged but the populations have no bulge history".into(),
            });
        }
    }
    let mut galaxy_rng = stream(seed, 0);
    let sfh = p.sfh.draw(p.age_of_universe_gyr, &mut galaxy_rng)?;
    let bulge_sfh = p.bulge_sfh.as_ref().map(|b| b.draw(p.age_of_universe_gyr, &mut galaxy_rng)).transpose()?;
    let galaxy_offset: f64 = StandardNormal.sample(&mut galaxy_rng);
    let log_metallicity_zsun =
        p.mass_metallicity.log_z_over_zsun(log_stellar_mass)? + p.galaxy_metallicity_scatter_dex * galaxy_offset;

    let z_nodes = table.metallicities();
    let (z_min, z_max) = (z_nodes[0], z_nodes[z_nodes.len() - 1]);
    let mut rng = stream(seed, 1);
    let mut ages = Array1::zeros(n);
    let mut metallicities = Array1::zeros(n);
    for i in 0..n {
        let bulge = in_bulge.is_some_and(|f| f[i]);
        let (history, component) = match (&bulge_sfh, &p.bulge_sfh) {
            (Some(h), Some(c)) if bulge => (h, c),
            _ => (&sfh, &p.sfh),
        };
        let scatter: f64 = StandardNormal.sample(&mut rng);
        let log_z =
            log_metallicity_zsun + component.metallicity_offset_dex + p.particle_metallicity_scatter_dex * scatter;
        let z = (SOLAR_METALLICITY_BC03 * 10f64.powf(log_z)).clamp(z_min, z_max);
        // Current-mass-weighted ages: the SFH (mass formed) thinned by the remaining fraction (<= 1).
        let mut accepted = None;
        for _ in 0..MAX_AGE_PROPOSALS {
            let age = history.sample_age_gyr(&mut rng);
            let keep: f64 = rng.random();
            if keep < table.remaining_mass_fraction(age, z)? {
                accepted = Some(age);
                break;
            }
        }
        ages[i] = accepted.ok_or_else(|| SynthError::InvalidParameter {
            name: "remaining_mass_fraction",
            reason: format!(
                "no age accepted in {MAX_AGE_PROPOSALS} proposals at Z = {z}: the table's fractions are tiny"
            ),
        })?;
        metallicities[i] = z;
    }
    particles.set_field(ScalarField::AgeGyr, ages)?;
    particles.set_field(ScalarField::Metallicity, metallicities)?;
    let mut summary = set_luminosities(particles, table)?;
    summary.drawn = Some(DrawnPopulations { sfh, bulge_sfh, log_metallicity_zsun });
    Ok(summary)
}

/// Sets the five ugriz luminosities of particles that already carry `age_gyr` and `metallicity` fields (a
/// simulation's star particles, or [`assign_populations`]), and returns their totals.
///
/// Fails when a field is missing, there are no particles, or an age or metallicity is out of range.
pub fn set_luminosities(particles: &mut Particles, table: &SspTable) -> Result<PopulationSummary, SynthError> {
    let n = particles.len();
    if n == 0 {
        return Err(CoreError::TooFewParticles { what: "stellar luminosities".into(), needed: 1, got: 0 }.into());
    }
    let missing = |field: ScalarField| SynthError::InvalidParameter {
        name: "particles",
        reason: format!("star particles carry no `{}` field", field.dataset_name()),
    };
    let ages = particles.field(ScalarField::AgeGyr).ok_or_else(|| missing(ScalarField::AgeGyr))?.clone();
    let metallicities =
        particles.field(ScalarField::Metallicity).ok_or_else(|| missing(ScalarField::Metallicity))?.clone();
    let masses = particles.mass_msun().clone();
    let mut lum: [Array1<f64>; 5] = std::array::from_fn(|_| Array1::zeros(n));
    let mut formed_mass = 0.0;
    for i in 0..n {
        check_mass(masses[i])?;
        let point = table.evaluate(ages[i], metallicities[i])?;
        let formed = masses[i] / point.remaining_fraction;
        formed_mass += formed;
        for (band_lum, l) in lum.iter_mut().zip(point.luminosity_per_msun_formed) {
            band_lum[i] = formed * l;
        }
    }
    let stellar_mass = masses.sum();
    let luminosity_lsun: [f64; 5] = std::array::from_fn(|b| lum[b].sum());
    let mass_to_light = std::array::from_fn(|b| stellar_mass / luminosity_lsun[b]);
    let weighted = |w: &Array1<f64>, v: &Array1<f64>| {
        let total = w.sum();
        if total > 0.0 {
            w.iter().zip(v).map(|(a, b)| a * b).sum::<f64>() / total
        } else {
            f64::NAN
        }
    };
    let summary = PopulationSummary {
        stellar_mass_msun: stellar_mass,
        formed_mass_msun: formed_mass,
        luminosity_lsun,
        mass_to_light,
        mass_weighted_age_gyr: weighted(&masses, &ages),
        r_luminosity_weighted_age_gyr: weighted(&lum[Band::R.index()], &ages),
        mass_weighted_metallicity: weighted(&masses, &metallicities),
        drawn: None,
    };
    for (band, lum_lsun) in Band::ALL.into_iter().zip(lum) {
        particles
            .set_luminosity(band.name(), BandLuminosity { lum_lsun, solar_abs_mag_ab: band.solar_abs_mag_ab() })?;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::super::test_helpers::{equal_mass_stars, table, weighted_mean_and_error};
    use super::*;

    #[test]
    fn assigned_populations_follow_the_sfh_and_the_mass_metallicity_relation() {
        // A nearly constant star formation rate over 12.8 Gyr, so that remaining fractions range from 1 to ~0.53.
        let mut params = PopulationParams::kirby2013_dwarfs();
        params.sfh = SfhParams {
            shape: SfhShape::Exponential,
            tau_gyr_range: (100.0, 100.0),
            start_time_gyr_range: (1.0, 1.0),
            metallicity_offset_dex: 0.0,
        };
        let params = params.check().unwrap();
        let n = 20_000;
        let mut stars = equal_mass_stars(n, 1e4);
        let summary = assign_populations(&mut stars, &params, 8.0, 11).unwrap();
        let drawn = summary.drawn.unwrap();
        let ages = stars.field(ScalarField::AgeGyr).unwrap().to_vec();
        let zs = stars.field(ScalarField::Metallicity).unwrap().to_vec();
        // Formed mass (mass / remaining fraction) follows the SFH: its weighted mean age is the SFH's.
        let weights: Vec<f64> =
            ages.iter().zip(&zs).map(|(&a, &z)| 1e4 / table().remaining_mass_fraction(a, z).unwrap()).collect();
        let (mean, se) = weighted_mean_and_error(&ages, &weights);
        let expect = drawn.sfh.mean_age_gyr();
        assert!((mean - expect).abs() < 4.0 * se, "formed-mass-weighted age {mean} vs SFH {expect} (se {se})");
        // Thinning by the remaining fraction (lower at old ages) favours young ages: the current-mass-weighted mean
        // age is below the SFH's (by ~0.18 Gyr here; less than with living stars only: the remaining fraction falls to ~0.58, not 0.44).
        assert!(
            summary.mass_weighted_age_gyr < expect - 0.1,
            "current-mass-weighted age {} vs SFH {expect}",
            summary.mass_weighted_age_gyr
        );
        // Metallicities: log10(Z/Zsun) scatter by 0.35 dex about the galaxy's mean, which is Kirby et al. 2013 at
        // 1e8 Msun (-1.09) plus the galaxy offset; clipping at Z = 1e-4 and 0.05 (3.4 and 4.2 sigma away) is
        // negligible.
        let log_z: Vec<f64> = zs.iter().map(|z| (z / SOLAR_METALLICITY_BC03).log10()).collect();
        let (mean_z, se_z) = weighted_mean_and_error(&log_z, &vec![1.0; n]);
        assert!((mean_z - drawn.log_metallicity_zsun).abs() < 4.0 * se_z, "{mean_z} vs {}", drawn.log_metallicity_zsun);
        let sd = (log_z.iter().map(|v| (v - mean_z).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((sd / 0.35 - 1.0).abs() < 0.03, "scatter {sd}");
        assert!((drawn.log_metallicity_zsun + 1.09).abs() < 4.0 * 0.17);
        assert!(zs.iter().all(|&z| (1e-4..=0.05).contains(&z)));
        // Every particle's luminosity is mass / remaining fraction * the per-formed-mass luminosity.
        for i in [0, 17, 9999] {
            for band in Band::ALL {
                let expect = table().particle_luminosity(band, 1e4, ages[i], zs[i]).unwrap();
                let got = stars.luminosity(band.name()).unwrap();
                assert_eq!(got.lum_lsun[i], expect);
                assert_eq!(got.solar_abs_mag_ab, band.solar_abs_mag_ab());
            }
        }
        // The summary adds up.
        let l_r = stars.luminosity("r").unwrap().lum_lsun.sum();
        approx::assert_relative_eq!(summary.luminosity_lsun("r").unwrap(), l_r, max_relative = 1e-12);
        approx::assert_relative_eq!(summary.mass_to_light("r").unwrap(), 1e4 * n as f64 / l_r, max_relative = 1e-12);
        approx::assert_relative_eq!(summary.formed_mass_msun, weights.iter().sum::<f64>(), max_relative = 1e-12);
        assert!(summary.r_luminosity_weighted_age_gyr < summary.mass_weighted_age_gyr);
        assert_eq!(summary.mass_to_light("y"), None);
    }

    #[test]
    fn the_same_seed_gives_the_same_particles() {
        let params = PopulationParams::default().check().unwrap();
        let run = |seed| {
            let mut stars = equal_mass_stars(500, 2e5);
            let summary = assign_populations(&mut stars, &params, 10.3, seed).unwrap();
            (stars, summary)
        };
        let (a, sa) = run(7);
        let (b, sb) = run(7);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        let (c, _) = run(8);
        assert_ne!(a.field(ScalarField::AgeGyr), c.field(ScalarField::AgeGyr));
    }

    #[test]
    fn bulges_are_older_and_more_metal_rich_than_discs() {
        let params = PopulationParams::kirby2013_gallazzi2005_disc_bulge().check().unwrap();
        let n = 4000;
        let in_bulge: Vec<bool> = (0..n).map(|i| i < n / 4).collect();
        for seed in 0..5 {
            let mut stars = equal_mass_stars(n, 1e6);
            let summary = assign_populations_with_bulge(&mut stars, &params, &in_bulge, 9.5, seed).unwrap();
            let drawn = summary.drawn.unwrap();
            let ages = stars.field(ScalarField::AgeGyr).unwrap();
            let zs = stars.field(ScalarField::Metallicity).unwrap();
            let pick = |v: &Array1<f64>, bulge: bool| -> Vec<f64> {
                v.iter().zip(&in_bulge).filter(|(_, b)| **b == bulge).map(|(x, _)| *x).collect()
            };
            // Each component's formed mass follows its own history; the bulge's is the older.
            let mut means = [0.0; 2];
            for (k, (bulge, sfh)) in [(false, drawn.sfh), (true, drawn.bulge_sfh.unwrap())].into_iter().enumerate() {
                let (a, z) = (pick(ages, bulge), pick(zs, bulge));
                let w: Vec<f64> =
                    a.iter().zip(&z).map(|(&a, &z)| 1.0 / table().remaining_mass_fraction(a, z).unwrap()).collect();
                let (mean, se) = weighted_mean_and_error(&a, &w);
                assert!(
                    (mean - sfh.mean_age_gyr()).abs() < 4.0 * se,
                    "seed {seed}, bulge {bulge}: {mean} vs {}",
                    sfh.mean_age_gyr()
                );
                means[k] = sfh.mean_age_gyr();
            }
            assert!(means[1] > means[0] + 0.5, "seed {seed}: disc {} bulge {}", means[0], means[1]);
            // The bulge is 0.1 dex more metal-rich (0.25 dex scatter, 1000 and 3000 particles: error 0.009 dex).
            let log_mean = |bulge: bool| {
                let v = pick(&zs.mapv(f64::log10), bulge);
                v.iter().sum::<f64>() / v.len() as f64
            };
            let offset = log_mean(true) - log_mean(false);
            assert!((offset - 0.1).abs() < 0.04, "seed {seed}: bulge - disc log Z = {offset}");
        }
    }
    #[test]
    fn bad_inputs_give_typed_errors() {
        let t = table();
        let params = PopulationParams::kirby2013_dwarfs().check().unwrap();
        let mut stars = equal_mass_stars(10, 1e4);
        for bad in [f64::NAN, f64::INFINITY, -3.0, 1.0, 14.0] {
            let r = assign_populations(&mut stars, &params, bad, 1);
            assert!(matches!(r, Err(SynthError::InvalidParameter { name: "log_stellar_mass", .. })), "{bad}: {r:?}");
        }
        let r = assign_populations(&mut Particles::empty(), &params, 7.0, 1);
        assert!(matches!(r, Err(SynthError::Core(CoreError::TooFewParticles { .. }))), "{r:?}");
        let r = assign_populations_with_bulge(&mut stars, &params, &[true; 3], 7.0, 1);
        assert!(matches!(r, Err(SynthError::Core(CoreError::Shape { .. }))), "{r:?}");
        let r = assign_populations_with_bulge(&mut stars, &params, &[true; 10], 7.0, 1);
        assert!(matches!(r, Err(SynthError::InvalidParameter { name: "bulge_sfh", .. })), "{r:?}");
        // No flagged particle: the same as assign_populations.
        let mut other = stars.clone();
        let a = assign_populations(&mut stars, &params, 7.0, 1).unwrap();
        let b = assign_populations_with_bulge(&mut other, &params, &[false; 10], 7.0, 1).unwrap();
        assert_eq!((a, &stars), (b, &other));

        // Luminosities need ages and metallicities, in range.
        let mut bare = equal_mass_stars(3, 1e4);
        assert!(matches!(set_luminosities(&mut bare, t), Err(SynthError::InvalidParameter { name: "particles", .. })));
        bare.set_field(ScalarField::AgeGyr, Array1::from_elem(3, 5.0)).unwrap();
        bare.set_field(ScalarField::Metallicity, Array1::from_vec(vec![0.02, 1.5, 0.02])).unwrap();
        assert!(matches!(
            set_luminosities(&mut bare, t),
            Err(SynthError::InvalidParameter { name: "metallicity", .. })
        ));
        assert!(bare.luminosity("r").is_none());
        bare.set_field(ScalarField::Metallicity, Array1::from_elem(3, 0.02)).unwrap();
        let summary = set_luminosities(&mut bare, t).unwrap();
        assert!(summary.drawn.is_none());
        approx::assert_relative_eq!(
            summary.mass_to_light[2],
            t.mass_to_light(Band::R, 5.0, 0.02).unwrap(),
            max_relative = 1e-12
        );
    }

    #[test]
    fn params_are_checked() {
        let bad = |edit: fn(&mut PopulationParams), name: &str| {
            let mut p = PopulationParams::default();
            edit(&mut p);
            let err = p.check().unwrap_err();
            assert!(matches!(err, SynthError::InvalidParameter { name: n, .. } if n == name), "{err:?}");
        };
        bad(|p| p.age_of_universe_gyr = 15.0, "age_of_universe_gyr");
        bad(|p| p.age_of_universe_gyr = f64::NAN, "age_of_universe_gyr");
        bad(|p| p.galaxy_metallicity_scatter_dex = -0.1, "galaxy_metallicity_scatter_dex");
        bad(|p| p.particle_metallicity_scatter_dex = f64::NAN, "particle_metallicity_scatter_dex");
        bad(|p| p.sfh.tau_gyr_range = (0.0, 1.0), "tau_gyr_range");
        bad(|p| p.sfh.tau_gyr_range = (3.0, 1.0), "tau_gyr_range");
        bad(|p| p.sfh.start_time_gyr_range = (1.0, p.age_of_universe_gyr), "start_time_gyr_range");
        bad(|p| p.sfh.start_time_gyr_range = (-1.0, 1.0), "start_time_gyr_range");
        bad(|p| p.bulge_sfh.as_mut().unwrap().metallicity_offset_dex = 5.0, "metallicity_offset_dex");
        for name in ["kirby2013-dwarfs", "kirby2013-gallazzi2005-disc-bulge"] {
            assert!(PopulationParams::preset(name).unwrap().check().is_ok());
        }
        assert!(PopulationParams::preset("salpeter").is_none());
    }

    #[test]
    fn presets_observe_at_the_planck2018_age_of_the_universe() {
        // Derived from the cosmology (it was a hard-coded 13.8): 13.787 Gyr in Planck 2018.
        let age = age_of_universe_z0_gyr();
        assert!((age - 13.787).abs() < 0.02, "{age}");
        for name in ["kirby2013-dwarfs", "kirby2013-gallazzi2005-disc-bulge"] {
            assert_eq!(PopulationParams::preset(name).unwrap().age_of_universe_gyr, age);
        }
    }
}
