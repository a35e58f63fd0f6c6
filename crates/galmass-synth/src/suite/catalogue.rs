//! The suite catalogue: one [`CatalogueRow`] per galaxy (drawn and measured properties, particle counts) and its CSV
//! form, which the pipeline writes as `catalogue.csv` beside the galaxy files.
//!
//! ```
//! use galmass_synth::suite::CatalogueRow;
//! let columns = CatalogueRow::CSV_HEADER.split(',').count();
//! assert_eq!(columns, 16);
//! ```

use serde::{Deserialize, Serialize};

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
