//! Stellar populations of the synthetic galaxies: an embedded simple-stellar-population (SSP) table and a
//! star-formation-history and chemistry model that give every star particle an age, a metallicity and luminosities in
//! the SDSS u, g, r, i, z bands, the truth behind mock images and M*/L.
//!
//! - [`ssp`]: the embedded BC03 / Chabrier / MILES table in SDSS ugriz ([`SspTable`], [`Band`]) and its bilinear
//!   interpolation in (log10 age, log10 Z), clamped to the grid; the remaining (living + remnant) mass fraction and
//!   luminosities from a particle's current mass ([`SspTable::luminosities_from_current_mass`],
//!   [`SspTable::band_luminosities`]);
//! - [`sfh`]: exponentially declining and delayed-tau star formation histories ([`StarFormationHistory`],
//!   [`SfhParams`]);
//! - [`metallicity`]: stellar mass-metallicity relations ([`MassMetallicityRelation`]: Gallazzi et al. 2005, Kirby
//!   et al. 2013 and their blend);
//! - [`assignment`]: ages, metallicities and luminosities given to star particles ([`assign_populations`],
//!   [`assign_populations_with_bulge`], [`set_luminosities`]) under checked [`PopulationParams`]; the presets observe
//!   at the Planck 2018 age of the universe ([`age_of_universe_z0_gyr`]).
//!
//! Every public item is re-exported here, so `galmass_synth::populations::X` names it.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_core::{Particles, ScalarField};
//! use galmass_synth::populations::{age_of_universe_z0_gyr, assign_populations, Band, PopulationParams, SspTable};
//! use ndarray::{Array1, Array2};
//!
//! // An old solar-metallicity population: M*/L_r in solar r-band units (M* = living stars + remnants).
//! let table = SspTable::embedded().unwrap();
//! let ml_r = table.mass_to_light(Band::R, 10.0, 0.02).unwrap();
//! assert!(ml_r > 3.0 && ml_r < 3.8);
//!
//! // A dwarf galaxy of 1e7 Msun in 200 equal-mass star particles.
//! let params = PopulationParams::kirby2013_dwarfs().check().unwrap();
//! let n = 200;
//! let mut stars = Particles::new(Array2::zeros((n, 3)), Array2::zeros((n, 3)), Array1::from_elem(n, 5e4)).unwrap();
//! let summary = assign_populations(&mut stars, &params, 7.0, 42).unwrap();
//! assert!(stars.field(ScalarField::AgeGyr).unwrap().iter().all(|&a| a > 0.0 && a < age_of_universe_z0_gyr()));
//! assert!(stars.luminosity("r").is_some());
//! assert!(summary.mass_to_light("r").unwrap() > 0.5);
//! ```

pub mod assignment;
pub mod metallicity;
pub mod sfh;
pub mod ssp;

pub use assignment::{
    age_of_universe_z0_gyr, assign_populations, assign_populations_with_bulge, set_luminosities, DrawnPopulations,
    PopulationParams, PopulationSummary, PopulationValidParams, POPULATION_COSMOLOGY, POPULATION_STREAM,
};
pub use metallicity::MassMetallicityRelation;
pub use sfh::{SfhParams, SfhShape, StarFormationHistory};
pub use ssp::{Band, SspPoint, SspTable, SOLAR_ABS_MAG_AB, SOLAR_METALLICITY_BC03};

/// Helpers shared by the submodules' tests.
#[cfg(test)]
mod test_helpers {
    use galmass_core::Particles;
    use ndarray::{Array1, Array2};

    use super::SspTable;

    /// The embedded table.
    pub(super) fn table() -> &'static SspTable {
        SspTable::embedded().unwrap()
    }

    /// `n` star particles of `mass_msun` at the origin.
    pub(super) fn equal_mass_stars(n: usize, mass_msun: f64) -> Particles {
        Particles::new(Array2::zeros((n, 3)), Array2::zeros((n, 3)), Array1::from_elem(n, mass_msun)).unwrap()
    }

    /// Mean and standard error of `values` weighted by `weights`.
    pub(super) fn weighted_mean_and_error(values: &[f64], weights: &[f64]) -> (f64, f64) {
        let total: f64 = weights.iter().sum();
        let mean = values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total;
        let var = values.iter().zip(weights).map(|(v, w)| (w * (v - mean)).powi(2)).sum::<f64>() / (total * total);
        (mean, var.sqrt())
    }
}
