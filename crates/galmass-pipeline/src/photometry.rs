//! Where the stars' luminosities come from for optical mock observations: the galaxy file's own `lum_<band>`
//! datasets, or the embedded SSP table (`galmass_synth::populations::SspTable`: BC03 2016/MILES, Chabrier IMF, SDSS
//! u g r i z) from each star's current mass, age and metallicity.
//!
//! Synthetic suites carry all five SDSS bands from the same table. Snapshots differ: TNG's
//! `GFM_StellarPhotometrics` give g, r, i, z (SDSS) but U, B, V, K in Johnson filters, so a TNG galaxy file has no
//! SDSS u; NIHAO and FIRE-2 carry none. [`LuminositySource::Auto`] takes the file's bands when every band asked
//! for is there, and otherwise derives all five from the SSP table (never a mix of the two), which needs
//! `age_gyr` and `metallicity`; [`LuminositySource::GalaxyFile`] and [`LuminositySource::Ssp`] force one or the
//! other (TNG's own photometrics stay available by name).

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;

use galmass_core::particles::{BandLuminosity, ScalarField};
use galmass_core::Particles;
use galmass_synth::populations::{Band, SspTable};
use ndarray::Array1;

use crate::PipelineError;

/// Where luminosities come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LuminositySource {
    /// The file's bands when all asked for are there, else the SSP table for all five.
    #[default]
    Auto,
    /// The galaxy file's `lum_<band>` datasets only.
    GalaxyFile,
    /// The SSP table from ages and metallicities, whatever the file holds.
    Ssp,
}

impl FromStr for LuminositySource {
    type Err = PipelineError;

    fn from_str(s: &str) -> Result<Self, PipelineError> {
        match s {
            "auto" => Ok(Self::Auto),
            "file" => Ok(Self::GalaxyFile),
            "ssp" => Ok(Self::Ssp),
            other => Err(PipelineError::invalid("luminosities", format!("{other:?}: expected auto, file or ssp"))),
        }
    }
}

/// The stars with luminosities in `bands` taken as `source` says, and a description of where they came from.
pub fn stars_with_luminosities<'a>(
    path: &Path,
    stars: &'a Particles,
    bands: &[&str],
    source: LuminositySource,
) -> Result<(Cow<'a, Particles>, String), PipelineError> {
    let in_file = bands.iter().all(|b| stars.luminosity(b).is_some());
    match source {
        LuminositySource::GalaxyFile | LuminositySource::Auto if in_file => {
            Ok((Cow::Borrowed(stars), format!("galaxy file (lum_{})", bands.join(", lum_"))))
        }
        LuminositySource::GalaxyFile => {
            let missing: Vec<&str> = bands.iter().copied().filter(|b| stars.luminosity(b).is_none()).collect();
            Err(PipelineError::BadFile {
                path: path.to_owned(),
                field: format!("stars/lum_{}", missing.join(", stars/lum_")),
                reason: "missing (TNG has no SDSS u: --luminosities ssp derives ugriz from ages and metallicities)"
                    .into(),
            })
        }
        _ => Ok((
            Cow::Owned(ssp_luminosities(path, stars)?),
            "SSP table (BC03 2016/MILES, Chabrier) from current mass, age and metallicity".into(),
        )),
    }
}

/// `stars` with all five SDSS bands from the SSP table (any luminosities of the file replaced).
pub fn ssp_luminosities(path: &Path, stars: &Particles) -> Result<Particles, PipelineError> {
    let missing = |field: &str| PipelineError::BadFile {
        path: path.to_owned(),
        field: format!("stars/{field}"),
        reason: "missing: SSP luminosities need each star's age and metallicity".into(),
    };
    let age = stars.field(ScalarField::AgeGyr).ok_or_else(|| missing("age_gyr"))?;
    let z = stars.field(ScalarField::Metallicity).ok_or_else(|| missing("metallicity"))?;
    let table = SspTable::embedded()?;
    let mut out = stars.clone();
    for band in Band::ALL {
        let mut lum = Array1::zeros(stars.len());
        for i in 0..stars.len() {
            lum[i] = table.particle_luminosity(band, stars.mass_msun()[i], age[i], z[i]).map_err(|e| {
                PipelineError::BadFile {
                    path: path.to_owned(),
                    field: format!("stars (particle {i})"),
                    reason: format!("no {} luminosity: {e}", band.name()),
                }
            })?;
        }
        out.set_luminosity(band.name(), BandLuminosity { lum_lsun: lum, solar_abs_mag_ab: band.solar_abs_mag_ab() })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    fn stars(with_fields: bool) -> Particles {
        let n = 4;
        let mut s = Particles::new(Array2::zeros((n, 3)), Array2::zeros((n, 3)), Array1::from_elem(n, 1e6)).unwrap();
        if with_fields {
            s.set_field(ScalarField::AgeGyr, Array1::from(vec![0.1, 1.0, 5.0, 10.0])).unwrap();
            s.set_field(ScalarField::Metallicity, Array1::from_elem(n, 0.02)).unwrap();
        }
        s
    }

    #[test]
    fn sources_choose_as_documented() {
        let p = Path::new("g.h5");
        let mut tng = stars(true);
        for b in ["g", "r", "i", "z"] {
            let lum = BandLuminosity { lum_lsun: Array1::from_elem(4, 7.0), solar_abs_mag_ab: 4.6 };
            tng.set_luminosity(b, lum).unwrap();
        }
        // g and r asked for: the file's own.
        let (s, what) = stars_with_luminosities(p, &tng, &["g", "r"], LuminositySource::Auto).unwrap();
        assert!(matches!(s, Cow::Borrowed(_)) && what.starts_with("galaxy file"));
        // ugriz asked for on a TNG-like file: the SSP table for all five, none of the file's kept.
        let bands = ["u", "g", "r", "i", "z"];
        let (s, what) = stars_with_luminosities(p, &tng, &bands, LuminositySource::Auto).unwrap();
        assert!(what.starts_with("SSP"));
        let table = SspTable::embedded().unwrap();
        let expected = table.particle_luminosity(Band::R, 1e6, 10.0, 0.02).unwrap();
        assert_eq!(s.luminosity("r").unwrap().lum_lsun[3], expected);
        let u = &s.luminosity("u").unwrap().lum_lsun;
        assert!(u[0] > u[3], "a young population is brighter in u");
        let err = stars_with_luminosities(p, &tng, &bands, LuminositySource::GalaxyFile).unwrap_err().to_string();
        assert!(err.contains("stars/lum_u") && err.contains("g.h5"), "{err}");
        let err = stars_with_luminosities(p, &stars(false), &bands, LuminositySource::Ssp).unwrap_err().to_string();
        assert!(err.contains("stars/age_gyr"), "{err}");
        assert_eq!("ssp".parse::<LuminositySource>().unwrap(), LuminositySource::Ssp);
        assert!("x".parse::<LuminositySource>().is_err());
    }
}
