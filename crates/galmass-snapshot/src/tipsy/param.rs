//! The `.param` file of a Gasoline/ChaNGa run and the unit system it implies.
//!
//! Lines are `key = value`; a `#` starts a comment; other lines are ignored (pynbody's rules). The units:
//! length `dKpcUnit` kpc, mass `dMsolUnit` Msun, G = 1, so the velocity unit is sqrt(G M / L) km/s and the time
//! unit L / v. With `bComove = 1` the header time is the scale factor a, lengths are comoving (physical = a x) and
//! `dHubble0` is H0 in code units (h = dHubble0 x 10 v / L with v in km/s and L in kpc).
//!
//! Two conventions for the velocity unit ([`UnitConvention`]): galmass's G
//! ([`galmass_core::units::G_KPC_KMS2_PER_MSUN`]) exactly, or pynbody 2.8's (its constants, and the unit rounded
//! to 5 significant digits, as pynbody prints it into a unit string), which differs by about 1.3e-4.
//!
//! ```
//! use galmass_snapshot::tipsy::param::{ParamFile, TipsyUnits, UnitConvention};
//! let param = ParamFile::parse("dKpcUnit = 1000\ndMsolUnit = 2.5e10 # comment\nbComove = 0\n");
//! let units = TipsyUnits::from_param(&param, UnitConvention::ExactG, 1.0, "run.param".as_ref()).unwrap();
//! assert!((units.velocity_kms - (galmass_core::units::G_KPC_KMS2_PER_MSUN * 2.5e10 / 1000.0).sqrt()).abs() < 1e-9);
//! assert_eq!(units.scale_factor, 1.0);
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use galmass_core::cosmology::Cosmology;
use galmass_core::units::{GYR_S, G_KPC_KMS2_PER_MSUN, KPC_KM};

use crate::error::SnapshotError;

/// A parsed `.param` file: the raw values by key (later lines win).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamFile {
    /// Values as written, trimmed.
    pub values: BTreeMap<String, String>,
}

impl ParamFile {
    /// Parses the text of a `.param` file (never fails: lines that are not `key = value` are ignored).
    pub fn parse(text: &str) -> Self {
        let mut values = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let line = line.split('#').next().unwrap_or("");
            let mut parts = line.split('=');
            let (Some(key), Some(value), None) = (parts.next(), parts.next(), parts.next()) else { continue };
            let key = key.trim();
            if !key.is_empty() {
                values.insert(key.to_owned(), value.trim().to_owned());
            }
        }
        Self { values }
    }

    /// Reads and parses a `.param` file (bytes that are not UTF-8 are replaced, not refused).
    pub fn read(path: &Path) -> Result<Self, SnapshotError> {
        let bytes = std::fs::read(path).map_err(|source| SnapshotError::Io {
            path: path.to_owned(),
            context: "reading the .param file".into(),
            source,
        })?;
        Ok(Self::parse(&String::from_utf8_lossy(&bytes)))
    }

    /// The raw value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A key as a finite number, `None` when absent; [`SnapshotError::Malformed`] when present but not a number.
    pub fn get_f64(&self, key: &str, path: &Path) -> Result<Option<f64>, SnapshotError> {
        let Some(text) = self.get(key) else { return Ok(None) };
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(Some(value)),
            _ => Err(SnapshotError::Malformed {
                path: path.to_owned(),
                field: key.to_owned(),
                reason: format!("`{text}` is not a finite number"),
            }),
        }
    }

    /// A flag (`bComove`, `bDoublePos`): true when present and a non-zero integer.
    pub fn get_flag(&self, key: &str, path: &Path) -> Result<bool, SnapshotError> {
        let Some(text) = self.get(key) else { return Ok(false) };
        text.parse::<i64>().map(|v| v != 0).map_err(|_| SnapshotError::Malformed {
            path: path.to_owned(),
            field: key.to_owned(),
            reason: format!("`{text}` is not an integer flag"),
        })
    }

    /// The text of the file, one `key = value` line per entry, sorted by key.
    pub fn to_text(&self) -> String {
        self.values.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
    }
}

/// How the velocity unit follows from `dKpcUnit` and `dMsolUnit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitConvention {
    /// v = sqrt(G M / L) with galmass's G; time unit L / v.
    ExactG,
    /// pynbody 2.8's: v = 8.0285 sqrt(6.6743e-8 M / L^3) L km/s, rounded to 5 significant digits (`"%.5g"`);
    /// time unit L / v (rounded v) in Gyr with 1 kpc = 3.085677581491367e16 km and 1 Gyr = 3.15576e16 s; h from
    /// the unrounded v. Reproduces pynbody's numbers for velocities, times and h.
    Pynbody28,
}

impl UnitConvention {
    /// The velocity unit in km/s: (the one applied to velocities and times, the one h is computed with).
    pub fn velocity_units_kms(self, length_kpc: f64, mass_msun: f64) -> (f64, f64) {
        match self {
            UnitConvention::ExactG => {
                let v = (G_KPC_KMS2_PER_MSUN * mass_msun / length_kpc).sqrt();
                (v, v)
            }
            UnitConvention::Pynbody28 => {
                let density = mass_msun / length_kpc.powi(3);
                let v = 8.0285 * (6.6743e-8 * density).sqrt() * length_kpc;
                (round_significant_5(v), v)
            }
        }
    }
}

/// Rounds to 5 significant digits, as Python's `"%.5g" % x` then `float()`.
pub fn round_significant_5(x: f64) -> f64 {
    format!("{x:.4e}").parse().unwrap_or(x)
}

/// A tipsy run's units and cosmology, from its `.param` file and header time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TipsyUnits {
    /// Length unit in kpc (comoving kpc when `comoving`).
    pub length_kpc: f64,
    /// Mass unit in Msun.
    pub mass_msun: f64,
    /// Velocity unit in km/s.
    pub velocity_kms: f64,
    /// Time unit in Gyr.
    pub time_gyr: f64,
    /// `bComove`.
    pub comoving: bool,
    /// Scale factor: the header time when comoving, else 1.
    pub scale_factor: f64,
    /// h, when comoving and `dHubble0` is given.
    pub hubble_param: Option<f64>,
    /// `dOmega0`.
    pub omega_matter: Option<f64>,
    /// `dLambda`.
    pub omega_lambda: Option<f64>,
}

fn positive(param: &ParamFile, key: &str, path: &Path) -> Result<f64, SnapshotError> {
    match param.get_f64(key, path)? {
        Some(v) if v > 0.0 => Ok(v),
        Some(v) => Err(SnapshotError::Malformed {
            path: path.to_owned(),
            field: key.into(),
            reason: format!("{v} is not positive"),
        }),
        None => Err(SnapshotError::Missing { path: path.to_owned(), kind: "parameter", name: key.into() }),
    }
}

impl TipsyUnits {
    /// Units from a parsed `.param` (`dKpcUnit` and `dMsolUnit` required) and the header time.
    pub fn from_param(
        param: &ParamFile,
        convention: UnitConvention,
        header_time: f64,
        path: &Path,
    ) -> Result<Self, SnapshotError> {
        let length_kpc = positive(param, "dKpcUnit", path)?;
        let mass_msun = positive(param, "dMsolUnit", path)?;
        let comoving = param.get_flag("bComove", path)?;
        let (velocity_kms, velocity_for_h) = convention.velocity_units_kms(length_kpc, mass_msun);
        if !(velocity_kms.is_finite() && velocity_kms > 0.0) {
            return Err(SnapshotError::Malformed {
                path: path.to_owned(),
                field: "dMsolUnit".into(),
                reason: format!("velocity unit {velocity_kms} km/s is not a positive number"),
            });
        }
        let time_gyr = length_kpc / velocity_kms * KPC_KM / GYR_S;
        let scale_factor = if comoving { header_time } else { 1.0 };
        if comoving && !(scale_factor > 0.0 && scale_factor.is_finite()) {
            return Err(SnapshotError::Malformed {
                path: path.to_owned(),
                field: "header.time".into(),
                reason: format!("comoving run (bComove = 1) with scale factor {scale_factor}"),
            });
        }
        let hubble_param = if comoving {
            param.get_f64("dHubble0", path)?.map(|h0| h0 * 10.0 * velocity_for_h / length_kpc)
        } else {
            None
        };
        Ok(Self {
            length_kpc,
            mass_msun,
            velocity_kms,
            time_gyr,
            comoving,
            scale_factor,
            hubble_param,
            omega_matter: param.get_f64("dOmega0", path)?,
            omega_lambda: param.get_f64("dLambda", path)?,
        })
    }

    /// Physical kpc per code length: a L (pynbody's `kpc a`).
    pub fn position_factor_kpc(&self) -> f64 {
        self.scale_factor * self.length_kpc
    }

    /// km/s per code velocity: a v in comoving runs (pynbody's `km s^-1 a`), v otherwise.
    pub fn velocity_factor_kms(&self) -> f64 {
        self.scale_factor * self.velocity_kms
    }

    /// The run's cosmology (h, `dOmega0`, `dLambda`), when comoving and complete and valid.
    pub fn cosmology(&self) -> Option<Cosmology> {
        if !self.comoving {
            return None;
        }
        Cosmology::new(self.hubble_param?, self.omega_matter?, self.omega_lambda?).ok()
    }

    /// Age of the universe at the snapshot in Gyr when comoving (flat or curved matter + Lambda, no radiation:
    /// [`Cosmology::cosmic_time_gyr`]), else the header time in Gyr; `None` when the cosmology is incomplete.
    pub fn time_now_gyr(&self, header_time: f64) -> Option<f64> {
        if !self.comoving {
            return Some(header_time * self.time_gyr);
        }
        let cosmology = self.cosmology()?;
        (self.scale_factor > 0.0 && self.scale_factor.is_finite()).then(|| cosmology.cosmic_time_gyr(self.scale_factor))
    }
}

/// Units given explicitly instead of a `.param` file (the `galmass --dkpcunit ... --dmsolunit ...` flags): what a
/// `.param` file would say, turned into one by [`ExplicitUnits::to_param`] so that the same checks and conventions
/// apply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExplicitUnits {
    /// Length unit, kpc (`dKpcUnit`; comoving kpc when `comoving`).
    pub length_kpc: f64,
    /// Mass unit, Msun (`dMsolUnit`).
    pub mass_msun: f64,
    /// Cosmological run (`bComove = 1`): the header time is the scale factor and lengths are comoving.
    pub comoving: bool,
    /// h, for a comoving run (written as the `dHubble0` that gives it).
    pub hubble_param: Option<f64>,
    /// Omega_matter (`dOmega0`), for stellar ages in a comoving run.
    pub omega_matter: Option<f64>,
    /// Omega_Lambda (`dLambda`), for stellar ages in a comoving run.
    pub omega_lambda: Option<f64>,
}

impl ExplicitUnits {
    /// Non-comoving units of `length_kpc` and `mass_msun`.
    pub fn new(length_kpc: f64, mass_msun: f64) -> Self {
        Self { length_kpc, mass_msun, comoving: false, hubble_param: None, omega_matter: None, omega_lambda: None }
    }

    /// The `.param` lines these units stand for, under `convention` (which fixes the `dHubble0` giving h).
    pub fn to_param(&self, convention: UnitConvention) -> ParamFile {
        let mut param = ParamFile::default();
        let mut set = |key: &str, value: String| {
            param.values.insert(key.to_owned(), value);
        };
        set("dKpcUnit", format!("{:e}", self.length_kpc));
        set("dMsolUnit", format!("{:e}", self.mass_msun));
        set("bComove", if self.comoving { "1" } else { "0" }.to_owned());
        if let Some(h) = self.hubble_param {
            let (_, velocity_for_h) = convention.velocity_units_kms(self.length_kpc, self.mass_msun);
            set("dHubble0", format!("{:e}", h * self.length_kpc / (10.0 * velocity_for_h)));
        }
        if let Some(om) = self.omega_matter {
            set("dOmega0", format!("{om:e}"));
        }
        if let Some(ol) = self.omega_lambda {
            set("dLambda", format!("{ol:e}"));
        }
        param
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_pynbody() {
        let p =
            ParamFile::parse("# a comment = 3\nachOutName = tiny\ndMsolUnit = 1e10 #trailing\nbad line\na = b = c\n");
        assert_eq!(p.get("achOutName"), Some("tiny"));
        assert_eq!(p.get("dMsolUnit"), Some("1e10"));
        assert_eq!(p.values.len(), 2);
        let not_a_number = p.get_f64("achOutName", "x".as_ref());
        assert!(matches!(not_a_number, Err(SnapshotError::Malformed { ref field, .. }) if field == "achOutName"));
        assert_eq!(p.get_f64("missing", "x".as_ref()).unwrap(), None);
    }

    #[test]
    fn pynbody_velocity_unit_rounds_to_five_digits() {
        let (v, v_h) = UnitConvention::Pynbody28.velocity_units_kms(50000.0, 1.57138e16);
        assert_eq!(v, 1162.8);
        assert!((v_h - 1_162.767_493_354_57).abs() < 1e-8);
        let (exact, _) = UnitConvention::ExactG.velocity_units_kms(50000.0, 1.57138e16);
        assert!((v_h / exact - 1.0).abs() < 2e-4);
        assert_eq!(round_significant_5(0.000123456), 0.00012346);
    }

    fn comoving_units(a: f64, h: f64, om: f64, ol: f64) -> TipsyUnits {
        let units = ExplicitUnits {
            comoving: true,
            hubble_param: Some(h),
            omega_matter: Some(om),
            omega_lambda: Some(ol),
            ..ExplicitUnits::new(1e5, 1e16)
        };
        TipsyUnits::from_param(&units.to_param(UnitConvention::ExactG), UnitConvention::ExactG, a, "x".as_ref())
            .unwrap()
    }

    /// The age of the universe a comoving run's stars are dated against (the core cosmology) against the closed
    /// form, and against Einstein-de Sitter's 2 / (3 H0) for a curved-integral case.
    #[test]
    fn flat_lambda_cdm_age_matches_the_analytic_formula() {
        let (h, om, ol): (f64, f64, f64) = (0.7, 0.3, 0.7);
        let h0_per_gyr = 0.1 * h * GYR_S / KPC_KM;
        for a in [0.1f64, 0.25, 0.5, 1.0] {
            let analytic: f64 = 2.0 / (3.0 * h0_per_gyr * ol.sqrt()) * ((ol / om).sqrt() * a.powf(1.5)).asinh();
            let units = comoving_units(a, h, om, ol);
            approx::assert_relative_eq!(units.hubble_param.unwrap(), h, max_relative = 1e-12);
            approx::assert_relative_eq!(units.time_now_gyr(a).unwrap(), analytic, max_relative = 1e-9);
        }
        let eds = comoving_units(1.0, 1.0, 1.0, 0.0).time_now_gyr(1.0).unwrap();
        approx::assert_relative_eq!(eds, 2.0 / (3.0 * 0.1 * GYR_S / KPC_KM), max_relative = 1e-9);
        // An incomplete cosmology dates nothing.
        let no_lambda = ExplicitUnits { comoving: true, hubble_param: Some(h), ..ExplicitUnits::new(1e5, 1e16) };
        let units = TipsyUnits::from_param(
            &no_lambda.to_param(UnitConvention::ExactG),
            UnitConvention::ExactG,
            0.5,
            "x".as_ref(),
        )
        .unwrap();
        assert_eq!(units.time_now_gyr(0.5), None);
    }
}
