//! TNG's unit conventions and derived gas and star quantities: temperature from internal energy, the HI recipe,
//! stellar ages from formation scale factors, luminosities from GFM_StellarPhotometrics.
//!
//! Conventions (TNG data specifications):
//! - Coordinates ckpc/h -> physical kpc: `x * a / h`; Masses 1e10 Msun/h -> Msun: `m * 1e10 / h`; Velocities
//!   km/s sqrt(a) -> peculiar km/s: `v * sqrt(a)`; Density 1e10 Msun/h / (ckpc/h)^3 -> Msun/kpc^3:
//!   `rho * 1e10 h^2 / a^3`; Potential (km/s)^2/a -> (km/s)^2: `phi / a`.
//! - Temperature: `T = (gamma - 1) u / k_B * mu m_p` with u in (km/s)^2 (times 1e10 to cgs), gamma = 5/3 and
//!   `mu = 4 / (1 + 3 X_H + 4 X_H x_e)` (in proton masses), X_H = 0.76 (TNG FAQ).
//! - HI: `M_HI = X_H * f_neutral * f_atomic * m`, f_neutral = NeutralHydrogenAbundance and the atomic share of the
//!   neutral hydrogen from the pressure-based molecular ratio of Leroy et al. (2008, Sec. 5.2, after Blitz &
//!   Rosolowsky 2006): `f_atomic = 1 / (1 + (P / P0)^0.8)`, `P0 / k = 1.7e4 K cm^-3`, `P / k = n T`,
//!   `n = rho / (mu m_p)`. Star-forming cells (StarFormationRate > 0; without that field, hydrogen density
//!   n_H = X_H rho / m_p above 0.1 cm^-3, TNG's threshold) sit on the Springel & Hernquist (2003) effective equation
//!   of state, whose NeutralHydrogenAbundance describes neither phase: like Hdecompose's `TNG_corrections` (used by
//!   MARTINI's TNG source) they are taken fully neutral (f_neutral = 1), with the pressure of the effective
//!   temperature splitting atomic from molecular. The explicit two-phase split (cold-cloud mass fraction of SH03,
//!   as in Diemer et al. 2018) is not done.
//! - Ages: the lookback time from the formation scale factor `a_f` to the snapshot's `a` in the header's
//!   Lambda-CDM (`galmass_core::cosmology::Cosmology`), `t_lb = integral_{a_f}^{a} da' / (a' H(a'))`,
//!   `H(a) = H0 sqrt(Omega_m a^-3 + Omega_Lambda)`, which integrates to
//!   `t(a) = 2 / (3 H0 sqrt(Omega_Lambda)) asinh(sqrt(Omega_Lambda / Omega_m) a^(3/2))` when flat; age = t(a) - t(a_f).
//! - Photometrics: GFM_StellarPhotometrics are absolute magnitudes in U, B, V, K (Vega, Buser) and g, r, i, z (SDSS,
//!   AB). g, r, i, z become luminosities in solar units of each band with the Sun's AB absolute magnitudes of
//!   Willmer (2018, Table 3): 5.11, 4.65, 4.53, 4.50. TNG has no SDSS u: `lum_u` is left absent (it could be
//!   derived from U and B with a colour transformation such as Jordi et al. 2006, which galmass does not do).
//!
//! ```
//! use galmass_core::cosmology::Cosmology;
//! use galmass_snapshot::arepo::physics::temperature_k;
//! assert!((Cosmology::PLANCK2015.cosmic_time_gyr(1.0) - 13.8).abs() < 0.05);
//! assert!((temperature_k(100.0, 1.16) - 4.8e3).abs() < 200.0);
//! ```

/// Hydrogen mass fraction TNG's post-processing recipes assume.
pub const HYDROGEN_MASS_FRACTION: f64 = 0.76;
/// Adiabatic index of TNG's gas.
pub const GAMMA: f64 = 5.0 / 3.0;
/// Boltzmann constant, erg/K.
pub const BOLTZMANN_ERG_PER_K: f64 = 1.380_649e-16;
/// Proton mass, g.
pub const PROTON_MASS_G: f64 = 1.672_621_923_69e-24;
/// Solar mass in g, as TNG's `UnitMass_in_g` (1.989e43 g per 1e10 Msun).
pub const MSUN_G: f64 = 1.989e33;
/// kpc in cm, as TNG's `UnitLength_in_cm`.
pub const KPC_CM: f64 = 3.085_678e21;
/// Leroy et al. (2008) pressure scale of the molecular-to-atomic ratio, P0/k in K cm^-3.
pub const LEROY2008_P0_K_CM3: f64 = 1.7e4;
/// Leroy et al. (2008) exponent of the molecular-to-atomic ratio.
pub const LEROY2008_ALPHA: f64 = 0.8;
/// TNG's star-formation threshold in hydrogen number density, cm^-3 (used only without StarFormationRate).
pub const TNG_SF_THRESHOLD_NH_CM3: f64 = 0.1;

/// The bands of GFM_StellarPhotometrics that galmass converts: name, column, the Sun's absolute AB magnitude
/// (Willmer 2018).
pub const PHOTOMETRIC_BANDS: [(&str, usize, f64); 4] = [("g", 4, 5.11), ("r", 5, 4.65), ("i", 6, 4.53), ("z", 7, 4.50)];
/// Columns of GFM_StellarPhotometrics.
pub const PHOTOMETRIC_COLUMNS: usize = 8;

/// Mean molecular weight in proton masses for electron abundance `x_e` (electrons per hydrogen atom).
pub fn mean_molecular_weight(electron_abundance: f64) -> f64 {
    let x = HYDROGEN_MASS_FRACTION;
    4.0 / (1.0 + 3.0 * x + 4.0 * x * electron_abundance)
}

/// Temperature in K from the internal energy per unit mass in (km/s)^2 and the electron abundance.
pub fn temperature_k(internal_energy_km2_s2: f64, electron_abundance: f64) -> f64 {
    (GAMMA - 1.0) * internal_energy_km2_s2 * 1e10 / BOLTZMANN_ERG_PER_K
        * mean_molecular_weight(electron_abundance)
        * PROTON_MASS_G
}

/// Internal energy in (km/s)^2 giving `temperature_k` at electron abundance `x_e` (inverse of [`temperature_k`]).
pub fn internal_energy_km2_s2(temperature_k: f64, electron_abundance: f64) -> f64 {
    temperature_k * BOLTZMANN_ERG_PER_K
        / ((GAMMA - 1.0) * mean_molecular_weight(electron_abundance) * PROTON_MASS_G * 1e10)
}

/// Msun/kpc^3 to g/cm^3.
pub fn density_g_cm3(density_msun_per_kpc3: f64) -> f64 {
    density_msun_per_kpc3 * MSUN_G / (KPC_CM * KPC_CM * KPC_CM)
}

/// Atomic fraction of neutral hydrogen at pressure `P/k` (K cm^-3): `1 / (1 + (P/P0)^0.8)` (Leroy et al. 2008).
pub fn atomic_fraction_leroy2008(pressure_k_cm3: f64) -> f64 {
    1.0 / (1.0 + (pressure_k_cm3.max(0.0) / LEROY2008_P0_K_CM3).powf(LEROY2008_ALPHA))
}

/// One gas cell's inputs to the HI recipe, in physical units.
#[derive(Debug, Clone, Copy)]
pub struct GasCell {
    /// Mass, Msun.
    pub mass_msun: f64,
    /// Density, Msun/kpc^3.
    pub density_msun_per_kpc3: f64,
    /// Temperature, K.
    pub temperature_k: f64,
    /// Electron abundance.
    pub electron_abundance: f64,
    /// NeutralHydrogenAbundance.
    pub neutral_fraction: f64,
    /// Star-formation rate when known, Msun/yr.
    pub sfr_msun_per_yr: Option<f64>,
}

impl GasCell {
    /// Whether the cell is star-forming (SFR > 0, or n_H above TNG's threshold when the SFR is unknown).
    pub fn is_star_forming(&self) -> bool {
        match self.sfr_msun_per_yr {
            Some(sfr) => sfr > 0.0,
            None => {
                HYDROGEN_MASS_FRACTION * density_g_cm3(self.density_msun_per_kpc3) / PROTON_MASS_G
                    > TNG_SF_THRESHOLD_NH_CM3
            }
        }
    }

    /// P/k = n T in K cm^-3 with n = rho / (mu m_p).
    pub fn pressure_k_cm3(&self) -> f64 {
        let n = density_g_cm3(self.density_msun_per_kpc3)
            / (mean_molecular_weight(self.electron_abundance) * PROTON_MASS_G);
        n * self.temperature_k
    }

    /// HI mass in Msun (module docs: neutral fraction, 1 for star-forming cells, times the Leroy 2008 atomic share).
    pub fn hi_mass_msun(&self) -> f64 {
        let neutral = if self.is_star_forming() { 1.0 } else { self.neutral_fraction.clamp(0.0, 1.0) };
        HYDROGEN_MASS_FRACTION * neutral * atomic_fraction_leroy2008(self.pressure_k_cm3()) * self.mass_msun
    }
}

/// Luminosity in solar units of a band from an absolute magnitude and the Sun's in that band.
pub fn luminosity_lsun(abs_mag: f64, solar_abs_mag: f64) -> f64 {
    10f64.powf(-0.4 * (abs_mag - solar_abs_mag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use galmass_core::cosmology::Cosmology;
    use galmass_core::numeric::quad::simpson;

    /// TNG's cosmology as its headers record it.
    const TNG: Cosmology = Cosmology { h: 0.6774, omega_m: 0.3089, omega_lambda: 0.6911 };

    /// The ages the readers compute (the core cosmology's closed form) against a direct Simpson integration of
    /// da / (a H(a)).
    #[test]
    fn lookback_time_closed_form_matches_the_integral() {
        let h0 = 1.0 / TNG.hubble_time_gyr();
        let integrand = |a: f64| 1.0 / (a * h0 * (TNG.omega_m / (a * a * a) + TNG.omega_lambda).sqrt());
        for (a_form, a) in [(0.1, 1.0), (0.5, 0.9), (0.05, 0.3)] {
            assert_relative_eq!(TNG.age_gyr(a_form, a), simpson(integrand, a_form, a, 20_000), max_relative = 1e-9);
        }
        // Planck 2015 age of the universe: 13.80 Gyr.
        assert_relative_eq!(TNG.cosmic_time_gyr(1.0), 13.80, max_relative = 3e-3);
        assert_relative_eq!(TNG.scale_factor_at_gyr(TNG.cosmic_time_gyr(0.37)), 0.37, max_relative = 1e-12);
    }

    #[test]
    fn temperature_inverts_and_hi_follows_the_recipe() {
        assert_relative_eq!(temperature_k(internal_energy_km2_s2(8e3, 0.1), 0.1), 8e3, max_relative = 1e-12);
        // Neutral gas (x_e = 0): mu = 4 / (1 + 3 X_H) = 4 / 3.28.
        assert_relative_eq!(mean_molecular_weight(0.0), 4.0 / 3.28, max_relative = 1e-12);
        let cell = GasCell {
            mass_msun: 1e6,
            density_msun_per_kpc3: 1e6,
            temperature_k: 1e4,
            electron_abundance: 0.0,
            neutral_fraction: 0.5,
            sfr_msun_per_yr: Some(0.0),
        };
        // 1e6 Msun/kpc^3 = 6.77e-26 g/cm^3: n = rho / (mu m_p) = 0.0332 cm^-3, P/k = n T = 332 K cm^-3, so
        // f_atomic = 1 / (1 + (332 / 1.7e4)^0.8) = 0.957.
        let n = 1e6 * 1.989e33 / 3.085_678e21f64.powi(3) / (4.0 / 3.28 * PROTON_MASS_G);
        assert_relative_eq!(cell.pressure_k_cm3(), n * 1e4, max_relative = 1e-12);
        assert_relative_eq!(cell.pressure_k_cm3(), 332.0, max_relative = 2e-3);
        let f_atomic = 1.0 / (1.0 + (cell.pressure_k_cm3() / 1.7e4).powf(0.8));
        assert_relative_eq!(cell.hi_mass_msun(), 0.76 * 0.5 * f_atomic * 1e6, max_relative = 1e-12);
        assert_relative_eq!(atomic_fraction_leroy2008(LEROY2008_P0_K_CM3), 0.5);
        let star_forming = GasCell { sfr_msun_per_yr: Some(0.1), ..cell };
        assert_relative_eq!(star_forming.hi_mass_msun(), 0.76 * f_atomic * 1e6, max_relative = 1e-12);
        assert_relative_eq!(luminosity_lsun(4.65 - 5.0, 4.65), 100.0, max_relative = 1e-12);
    }
}
