//! Particle containers, one per species.
//!
//! A [`Particles`] holds positions (N, 3) in kpc, velocities (N, 3) in km/s and masses (N) in Msun, in physical units,
//! centred on the galaxy and in the simulation box orientation, plus the optional per-particle fields of the galaxy
//! file. Optional fields are either present for every particle or absent: never zero-filled.
//!
//! ```
//! use galmass_core::particles::{Particles, ScalarField};
//! use ndarray::{array, Array2};
//! let mut stars = Particles::new(
//!     array![[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]],
//!     Array2::zeros((2, 3)),
//!     array![1e5, 2e5],
//! ).unwrap();
//! stars.set_field(ScalarField::AgeGyr, array![3.0, 9.5]).unwrap();
//! assert_eq!(stars.len(), 2);
//! assert_eq!(stars.total_mass_msun(), 3e5);
//! assert!(stars.field(ScalarField::Metallicity).is_none());
//! ```

use std::collections::BTreeMap;
use std::fmt;

use ndarray::{s, Array1, Array2, ArrayView1, Axis};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

/// A particle species, as the galaxy file groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Species {
    /// Star particles.
    Stars,
    /// Gas particles or cells.
    Gas,
    /// Dark matter particles.
    Dm,
    /// Black holes.
    Bh,
}

impl Species {
    /// Every species, in galaxy-file order.
    pub const ALL: [Species; 4] = [Species::Stars, Species::Gas, Species::Dm, Species::Bh];

    /// The group name in the galaxy file (`stars`, `gas`, `dm`, `bh`).
    pub fn group_name(self) -> &'static str {
        match self {
            Species::Stars => "stars",
            Species::Gas => "gas",
            Species::Dm => "dm",
            Species::Bh => "bh",
        }
    }

    /// Parses a group name as written by [`Species::group_name`].
    pub fn from_group_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.group_name() == name)
    }
}

impl fmt::Display for Species {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.group_name())
    }
}

/// Optional floating-point per-particle fields of the galaxy file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScalarField {
    /// Stellar age in Gyr.
    AgeGyr,
    /// Metal mass fraction (dimensionless, not solar-scaled).
    Metallicity,
    /// Neutral atomic hydrogen mass in Msun.
    HiMassMsun,
    /// Gas temperature in K.
    TemperatureK,
    /// Radius of compact support of the smoothing kernel in kpc (readers convert each format's convention).
    SmoothingLengthKpc,
    /// Star formation rate in Msun/yr.
    SfrMsunPerYr,
    /// Mass density in Msun/kpc^3.
    DensityMsunPerKpc3,
    /// Gravitational potential in (km/s)^2.
    PotentialKms2,
}

impl ScalarField {
    /// Every optional scalar field.
    pub const ALL: [ScalarField; 8] = [
        ScalarField::AgeGyr,
        ScalarField::Metallicity,
        ScalarField::HiMassMsun,
        ScalarField::TemperatureK,
        ScalarField::SmoothingLengthKpc,
        ScalarField::SfrMsunPerYr,
        ScalarField::DensityMsunPerKpc3,
        ScalarField::PotentialKms2,
    ];

    /// The dataset name in the galaxy file.
    pub fn dataset_name(self) -> &'static str {
        match self {
            ScalarField::AgeGyr => "age_gyr",
            ScalarField::Metallicity => "metallicity",
            ScalarField::HiMassMsun => "hi_mass",
            ScalarField::TemperatureK => "temperature_k",
            ScalarField::SmoothingLengthKpc => "smoothing_length_kpc",
            ScalarField::SfrMsunPerYr => "sfr",
            ScalarField::DensityMsunPerKpc3 => "density",
            ScalarField::PotentialKms2 => "potential",
        }
    }

    /// The unit written beside the dataset (the `units` attribute).
    pub fn unit(self) -> &'static str {
        match self {
            ScalarField::AgeGyr => "Gyr",
            ScalarField::Metallicity => "1",
            ScalarField::HiMassMsun => "Msun",
            ScalarField::TemperatureK => "K",
            ScalarField::SmoothingLengthKpc => "kpc",
            ScalarField::SfrMsunPerYr => "Msun/yr",
            ScalarField::DensityMsunPerKpc3 => "Msun/kpc^3",
            ScalarField::PotentialKms2 => "(km/s)^2",
        }
    }

    /// Parses a dataset name as written by [`ScalarField::dataset_name`].
    pub fn from_dataset_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.dataset_name() == name)
    }
}

/// Per-particle luminosity in one photometric band.
#[derive(Debug, Clone, PartialEq)]
pub struct BandLuminosity {
    /// Luminosity of each particle in solar luminosities of this band.
    pub lum_lsun: Array1<f64>,
    /// Absolute AB magnitude of the Sun in this band, which turns `lum_lsun` back into magnitudes.
    pub solar_abs_mag_ab: f64,
}

/// Particles of one species: required kinematics plus optional fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Particles {
    pos_kpc: Array2<f64>,
    vel_kms: Array2<f64>,
    mass_msun: Array1<f64>,
    ids: Option<Array1<u64>>,
    high_res: Option<Array1<bool>>,
    fields: BTreeMap<ScalarField, Array1<f64>>,
    luminosities: BTreeMap<String, BandLuminosity>,
}

impl Particles {
    /// Builds particles from positions (N, 3) kpc, velocities (N, 3) km/s and masses (N) Msun.
    ///
    /// Fails when the shapes disagree or a value is not finite (masses must also be non-negative).
    pub fn new(pos_kpc: Array2<f64>, vel_kms: Array2<f64>, mass_msun: Array1<f64>) -> Result<Self, CoreError> {
        let n = mass_msun.len();
        check_shape_2d("pos", &pos_kpc, n)?;
        check_shape_2d("vel", &vel_kms, n)?;
        check_finite("pos", pos_kpc.iter().copied(), 3)?;
        check_finite("vel", vel_kms.iter().copied(), 3)?;
        check_finite("mass", mass_msun.iter().copied(), 1)?;
        if let Some((index, &value)) = mass_msun.iter().enumerate().find(|(_, m)| **m < 0.0) {
            return Err(CoreError::Shape {
                field: "mass".into(),
                expected: "non-negative masses".into(),
                got: format!("{value} at index {index}"),
            });
        }
        Ok(Self {
            pos_kpc,
            vel_kms,
            mass_msun,
            ids: None,
            high_res: None,
            fields: BTreeMap::new(),
            luminosities: BTreeMap::new(),
        })
    }

    /// An empty container (zero particles).
    pub fn empty() -> Self {
        Self {
            pos_kpc: Array2::zeros((0, 3)),
            vel_kms: Array2::zeros((0, 3)),
            mass_msun: Array1::zeros(0),
            ids: None,
            high_res: None,
            fields: BTreeMap::new(),
            luminosities: BTreeMap::new(),
        }
    }

    /// Number of particles.
    pub fn len(&self) -> usize {
        self.mass_msun.len()
    }

    /// True when there are no particles.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Positions (N, 3) in kpc.
    pub fn pos_kpc(&self) -> &Array2<f64> {
        &self.pos_kpc
    }

    /// Velocities (N, 3) in km/s.
    pub fn vel_kms(&self) -> &Array2<f64> {
        &self.vel_kms
    }

    /// Masses (N) in Msun.
    pub fn mass_msun(&self) -> &Array1<f64> {
        &self.mass_msun
    }

    /// Sum of the particle masses in Msun.
    pub fn total_mass_msun(&self) -> f64 {
        self.mass_msun.sum()
    }

    /// Spherical radii |pos| in kpc.
    pub fn radii_kpc(&self) -> Array1<f64> {
        self.pos_kpc.map_axis(Axis(1), |p| (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt())
    }

    /// The 3-D radius enclosing half the mass about the origin (linear in cumulative mass between particles, the
    /// truth profiles' convention), kpc; `None` without mass (chu2024's R_hsm for the stars).
    pub fn half_mass_radius_kpc(&self) -> Option<f64> {
        let mut sorted: Vec<(f64, f64)> =
            self.radii_kpc().iter().copied().zip(self.mass_msun.iter().copied()).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        crate::galaxy::half_mass_radius(&sorted)
    }

    /// Particle identifiers, when known.
    pub fn ids(&self) -> Option<&Array1<u64>> {
        self.ids.as_ref()
    }

    /// Sets the particle identifiers.
    pub fn set_ids(&mut self, ids: Array1<u64>) -> Result<(), CoreError> {
        check_len("id", ids.len(), self.len())?;
        self.ids = Some(ids);
        Ok(())
    }

    /// High-resolution flags (zoom simulations), when known.
    pub fn high_res(&self) -> Option<&Array1<bool>> {
        self.high_res.as_ref()
    }

    /// Sets the high-resolution flags.
    pub fn set_high_res(&mut self, flags: Array1<bool>) -> Result<(), CoreError> {
        check_len("high_res", flags.len(), self.len())?;
        self.high_res = Some(flags);
        Ok(())
    }

    /// An optional scalar field, when present.
    pub fn field(&self, field: ScalarField) -> Option<&Array1<f64>> {
        self.fields.get(&field)
    }

    /// Present optional scalar fields, in a fixed order.
    pub fn fields(&self) -> impl Iterator<Item = (ScalarField, &Array1<f64>)> {
        self.fields.iter().map(|(k, v)| (*k, v))
    }

    /// Sets an optional scalar field; its length must match and its values must be finite.
    pub fn set_field(&mut self, field: ScalarField, values: Array1<f64>) -> Result<(), CoreError> {
        check_len(field.dataset_name(), values.len(), self.len())?;
        check_finite(field.dataset_name(), values.iter().copied(), 1)?;
        self.fields.insert(field, values);
        Ok(())
    }

    /// Luminosity in a band (e.g. `"r"`), when present.
    pub fn luminosity(&self, band: &str) -> Option<&BandLuminosity> {
        self.luminosities.get(band)
    }

    /// Present bands, sorted by name.
    pub fn luminosities(&self) -> impl Iterator<Item = (&str, &BandLuminosity)> {
        self.luminosities.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Sets the luminosity in a band. The band name must be a plain identifier (`[A-Za-z0-9_]+`).
    pub fn set_luminosity(&mut self, band: &str, luminosity: BandLuminosity) -> Result<(), CoreError> {
        if band.is_empty() || !band.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(CoreError::invalid("band", format!("`{band}` is not a plain identifier")));
        }
        let field = format!("lum_{band}");
        check_len(&field, luminosity.lum_lsun.len(), self.len())?;
        check_finite(&field, luminosity.lum_lsun.iter().copied(), 1)?;
        if !luminosity.solar_abs_mag_ab.is_finite() {
            return Err(CoreError::NonFinite { field, index: 0, value: luminosity.solar_abs_mag_ab });
        }
        self.luminosities.insert(band.to_owned(), luminosity);
        Ok(())
    }

    /// The particles moved to a frame whose origin sits at `position_offset_kpc` and moves with
    /// `velocity_offset_kms` (both subtracted), every optional field carried along.
    pub fn shifted(&self, position_offset_kpc: [f64; 3], velocity_offset_kms: [f64; 3]) -> Self {
        let mut out = self.clone();
        for mut row in out.pos_kpc.rows_mut() {
            for k in 0..3 {
                row[k] -= position_offset_kpc[k];
            }
        }
        for mut row in out.vel_kms.rows_mut() {
            for k in 0..3 {
                row[k] -= velocity_offset_kms[k];
            }
        }
        out
    }

    /// Particles one after another; ids, high-res flags, fields and luminosities kept when every non-empty part has
    /// them.
    pub fn concatenate(parts: Vec<Particles>) -> Result<Particles, CoreError> {
        let parts: Vec<Particles> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        if parts.len() <= 1 {
            return Ok(parts.into_iter().next().unwrap_or_else(Particles::empty));
        }
        let n: usize = parts.iter().map(Particles::len).sum();
        let stack = |f: &dyn Fn(&Particles) -> &Array2<f64>| {
            let mut out = Array2::zeros((n, 3));
            let mut row = 0;
            for p in &parts {
                out.slice_mut(s![row..row + p.len(), ..]).assign(f(p));
                row += p.len();
            }
            out
        };
        let join = |f: &dyn Fn(&Particles) -> Option<Array1<f64>>| -> Option<Array1<f64>> {
            let pieces: Option<Vec<Array1<f64>>> = parts.iter().map(f).collect();
            pieces.map(|v| v.into_iter().flatten().collect())
        };
        let mass = join(&|p| Some(p.mass_msun().clone())).unwrap_or_default();
        let mut out = Particles::new(stack(&|p| p.pos_kpc()), stack(&|p| p.vel_kms()), mass)?;
        let ids: Option<Vec<u64>> =
            parts.iter().map(|p| p.ids().map(|v| v.to_vec())).collect::<Option<Vec<_>>>().map(|v| v.concat());
        if let Some(ids) = ids {
            out.set_ids(Array1::from(ids))?;
        }
        let flags: Option<Vec<bool>> =
            parts.iter().map(|p| p.high_res().map(|v| v.to_vec())).collect::<Option<Vec<_>>>().map(|v| v.concat());
        if let Some(flags) = flags {
            out.set_high_res(Array1::from(flags))?;
        }
        for field in ScalarField::ALL {
            if let Some(values) = join(&|p| p.field(field).cloned()) {
                out.set_field(field, values)?;
            }
        }
        let bands: Vec<String> = parts[0].luminosities().map(|(b, _)| b.to_owned()).collect();
        for band in bands {
            if let Some(values) = join(&|p| p.luminosity(&band).map(|l| l.lum_lsun.clone())) {
                let solar = parts[0].luminosity(&band).map_or(f64::NAN, |l| l.solar_abs_mag_ab);
                out.set_luminosity(&band, BandLuminosity { lum_lsun: values, solar_abs_mag_ab: solar })?;
            }
        }
        Ok(out)
    }

    /// The particles at `indices` (repeats allowed), with every optional field carried along; an index at or
    /// beyond `len()` is an error.
    pub fn select(&self, indices: &[usize]) -> Result<Self, CoreError> {
        check_indices(indices, self.len())?;
        let take1 = |a: &Array1<f64>| a.select(Axis(0), indices);
        Ok(Self {
            pos_kpc: self.pos_kpc.select(Axis(0), indices),
            vel_kms: self.vel_kms.select(Axis(0), indices),
            mass_msun: take1(&self.mass_msun),
            ids: self.ids.as_ref().map(|a| a.select(Axis(0), indices)),
            high_res: self.high_res.as_ref().map(|a| a.select(Axis(0), indices)),
            fields: self.fields.iter().map(|(k, v)| (*k, take1(v))).collect(),
            luminosities: self
                .luminosities
                .iter()
                .map(|(k, v)| {
                    (k.clone(), BandLuminosity { lum_lsun: take1(&v.lum_lsun), solar_abs_mag_ab: v.solar_abs_mag_ab })
                })
                .collect(),
        })
    }
}

/// Errors with the first index at or beyond `len` (callers' indices must select rows of `len`).
pub(crate) fn check_indices(indices: &[usize], len: usize) -> Result<(), CoreError> {
    match indices.iter().find(|&&i| i >= len) {
        Some(&bad) => Err(CoreError::invalid("indices", format!("index {bad} out of range 0..{len}"))),
        None => Ok(()),
    }
}

/// Mass-weighted mean of rows of `values` (N, 3); zero when the total weight is zero.
pub fn weighted_mean_3d(values: &Array2<f64>, weights: ArrayView1<'_, f64>) -> [f64; 3] {
    let total: f64 = weights.sum();
    if total <= 0.0 {
        return [0.0; 3];
    }
    let mut mean = [0.0; 3];
    for (row, w) in values.rows().into_iter().zip(weights.iter()) {
        for k in 0..3 {
            mean[k] += w * row[k];
        }
    }
    mean.map(|m| m / total)
}

fn check_shape_2d(field: &str, a: &Array2<f64>, n: usize) -> Result<(), CoreError> {
    if a.dim() != (n, 3) {
        return Err(CoreError::Shape {
            field: field.into(),
            expected: format!("shape ({n}, 3)"),
            got: format!("shape {:?}", a.dim()),
        });
    }
    Ok(())
}

fn check_len(field: &str, len: usize, n: usize) -> Result<(), CoreError> {
    if len != n {
        return Err(CoreError::Shape {
            field: field.into(),
            expected: format!("length {n}"),
            got: format!("length {len}"),
        });
    }
    Ok(())
}

/// Returns the first non-finite value; `stride` turns a flat index into a row index.
fn check_finite(field: &str, values: impl Iterator<Item = f64>, stride: usize) -> Result<(), CoreError> {
    for (i, v) in values.enumerate() {
        if !v.is_finite() {
            return Err(CoreError::NonFinite { field: field.into(), index: i / stride, value: v });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn two_particles() -> Particles {
        Particles::new(array![[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]], Array2::zeros((2, 3)), array![1.0, 3.0]).unwrap()
    }

    #[test]
    fn rejects_mismatched_shapes_and_nan() {
        let err = Particles::new(Array2::zeros((3, 3)), Array2::zeros((2, 3)), Array1::zeros(2)).unwrap_err();
        assert!(matches!(err, CoreError::Shape { ref field, .. } if field == "pos"));
        let err = Particles::new(array![[0.0, f64::NAN, 0.0]], Array2::zeros((1, 3)), array![1.0]).unwrap_err();
        assert!(matches!(err, CoreError::NonFinite { ref field, index: 0, value } if field == "pos" && value.is_nan()));
        let err = Particles::new(Array2::zeros((1, 3)), Array2::zeros((1, 3)), array![-1.0]).unwrap_err();
        assert!(err.to_string().contains("non-negative"));
    }

    #[test]
    fn optional_fields_checked_and_selected() {
        let mut p = two_particles();
        assert!(matches!(p.set_field(ScalarField::AgeGyr, array![1.0]), Err(CoreError::Shape { .. })));
        p.set_field(ScalarField::AgeGyr, array![1.0, 2.0]).unwrap();
        p.set_ids(array![7, 9]).unwrap();
        p.set_luminosity("r", BandLuminosity { lum_lsun: array![10.0, 20.0], solar_abs_mag_ab: 4.65 }).unwrap();
        assert!(matches!(
            p.set_luminosity("r band", BandLuminosity { lum_lsun: array![1.0, 1.0], solar_abs_mag_ab: 4.65 }),
            Err(CoreError::InvalidParameter { .. })
        ));
        let s = p.select(&[1]).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s.field(ScalarField::AgeGyr).unwrap()[0], 2.0);
        assert_eq!(s.ids().unwrap()[0], 9);
        assert_eq!(s.luminosity("r").unwrap().lum_lsun[0], 20.0);
        assert_eq!(p.radii_kpc(), array![5.0, 1.0]);
    }

    #[test]
    fn species_names_round_trip() {
        for s in Species::ALL {
            assert_eq!(Species::from_group_name(s.group_name()), Some(s));
        }
        for f in ScalarField::ALL {
            assert_eq!(ScalarField::from_dataset_name(f.dataset_name()), Some(f));
        }
    }

    #[test]
    fn weighted_mean_ignores_zero_weight() {
        let p = two_particles();
        let m = weighted_mean_3d(p.pos_kpc(), array![1.0, 0.0].view());
        assert_eq!(m, [3.0, 4.0, 0.0]);
    }
}
