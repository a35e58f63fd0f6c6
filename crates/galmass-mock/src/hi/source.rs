//! The source: what the cube sees of a galaxy's gas (MARTINI's `sources`). The only HI module that knows particles.
//!
//! A [`HiSource`] holds, per emitting particle, its sky position in arcsec from the galaxy's centre, its
//! line-of-sight velocity relative to the galaxy (the systemic velocity removed), its flux `sum S dv` in Jy km/s,
//! the radius of compact support of its kernel in arcsec and the width of its line in km/s. [`HiSource::from_gas`]
//! makes one from the gas of a galaxy file seen along a [`LineOfSight`] from `distance_mpc`:
//! - sky position `(x, y)` as an observer sees it, north up and east to the left: `y` along the line of sight's
//!   `e2`, `x` along `-e1` (the basis `(e1, e2, n)` is right-handed with `n` pointing away from the observer, so
//!   `e1` is east), as FITS cubes are written (`CDELT1 < 0`) and real cubes are read; seen in perspective: a particle
//!   at depth `z` behind the galaxy's centre is at angle `atan(x / (D + z))`, and its support `H` subtends
//!   `H / (D + z)`. (The stellar maps of `crate::star_maps` use `x = e1`, the mirror image.)
//! - flux `M_HI / (2.36e5 D^2)` Jy km/s (methods.md), `D` the galaxy's distance;
//! - line width fixed or thermal (`sqrt(k T / m_p)`, MARTINI's convention) from `TemperatureK`;
//! - particles without HI are left out.
//!
//! HI masses come from the galaxy file (`HiMassMsun`): the snapshot readers and the synthetic suites derive them
//! (TNG: the neutral fraction times the Leroy 2008 atomic fraction, methods.md), so the cube never needs a
//! simulation's HI recipe.
//!
//! ```
//! use galmass_core::particles::{Particles, ScalarField};
//! use galmass_core::LineOfSight;
//! use galmass_mock::hi::line::LineWidth;
//! use galmass_mock::hi::source::HiSource;
//! use ndarray::{array, Array2};
//! let mut gas = Particles::new(array![[1.0, 0.0, 0.0]], Array2::zeros((1, 3)), array![2e6]).unwrap();
//! gas.set_field(ScalarField::HiMassMsun, array![1e6]).unwrap();
//! gas.set_field(ScalarField::SmoothingLengthKpc, array![0.5]).unwrap();
//! let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
//! let source = HiSource::from_gas(&gas, &los, 10.0, LineWidth::FixedKms(7.0)).unwrap();
//! assert!((source.total_flux_jy_kms() - 1e6 / (2.36e5 * 100.0)).abs() < 1e-12);
//! ```

use galmass_core::particles::{Particles, ScalarField};
use galmass_core::units::MPC_KPC;
use galmass_core::LineOfSight;

use crate::error::MockError;
use crate::hi::cube::{flux_jy_kms_from_hi_mass, ARCSEC_PER_RAD};
use crate::hi::line::{thermal_sigma_kms, LineWidth};

/// The emitting particles of a source, in sky units.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HiSource {
    x_arcsec: Vec<f64>,
    y_arcsec: Vec<f64>,
    v_kms: Vec<f64>,
    flux_jy_kms: Vec<f64>,
    support_arcsec: Vec<f64>,
    sigma_kms: Vec<f64>,
}

impl HiSource {
    /// A source from per-particle arrays (all the same length, finite; flux, support and width `>= 0`).
    pub fn new(
        x_arcsec: Vec<f64>,
        y_arcsec: Vec<f64>,
        v_kms: Vec<f64>,
        flux_jy_kms: Vec<f64>,
        support_arcsec: Vec<f64>,
        sigma_kms: Vec<f64>,
    ) -> Result<Self, MockError> {
        let n = x_arcsec.len();
        for (name, values, non_negative) in [
            ("x_arcsec", &x_arcsec, false),
            ("y_arcsec", &y_arcsec, false),
            ("v_kms", &v_kms, false),
            ("flux_jy_kms", &flux_jy_kms, true),
            ("support_arcsec", &support_arcsec, true),
            ("sigma_kms", &sigma_kms, true),
        ] {
            if values.len() != n {
                return Err(MockError::BadInput {
                    name: "source",
                    expected: format!("{n} values of {name}"),
                    got: values.len().to_string(),
                });
            }
            if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite() || (non_negative && **v < 0.0))
            {
                return Err(MockError::BadInput {
                    name: "source",
                    expected: format!("finite{} {name}", if non_negative { ", non-negative" } else { "" }),
                    got: format!("{v} at particle {i}"),
                });
            }
        }
        Ok(Self { x_arcsec, y_arcsec, v_kms, flux_jy_kms, support_arcsec, sigma_kms })
    }

    /// The HI of `gas` (fields `HiMassMsun` and `SmoothingLengthKpc`, and `TemperatureK` for a thermal line) seen
    /// along `los` from `distance_mpc`.
    pub fn from_gas(gas: &Particles, los: &LineOfSight, distance_mpc: f64, line: LineWidth) -> Result<Self, MockError> {
        Self::from_gas_range(gas, los, distance_mpc, line, 0..gas.len())
    }

    /// [`HiSource::from_gas`] in chunks of `chunk` particles, in order: a renderer fed chunk by chunk
    /// ([`crate::hi::render::observe_streamed`]) never holds a sky copy of the whole gas.
    pub fn gas_chunks<'a>(
        gas: &'a Particles,
        los: &'a LineOfSight,
        distance_mpc: f64,
        line: LineWidth,
        chunk: usize,
    ) -> impl Iterator<Item = Result<HiSource, MockError>> + 'a {
        let chunk = chunk.max(1);
        (0..gas.len().div_ceil(chunk)).map(move |c| {
            Self::from_gas_range(gas, los, distance_mpc, line, c * chunk..((c + 1) * chunk).min(gas.len()))
        })
    }

    /// [`HiSource::from_gas`] of the particles `range` only.
    pub fn from_gas_range(
        gas: &Particles,
        los: &LineOfSight,
        distance_mpc: f64,
        line: LineWidth,
        range: std::ops::Range<usize>,
    ) -> Result<Self, MockError> {
        if !(distance_mpc.is_finite() && distance_mpc > 0.0) {
            return Err(MockError::invalid("distance_mpc", format!("must be positive, got {distance_mpc}")));
        }
        line.check()?;
        let need = |field: ScalarField| {
            gas.field(field).ok_or_else(|| MockError::BadInput {
                name: "gas",
                expected: format!("the gas field `{}`", field.dataset_name()),
                got: "no such field in the galaxy".into(),
            })
        };
        let hi = need(ScalarField::HiMassMsun)?;
        let h = need(ScalarField::SmoothingLengthKpc)?;
        let temperature = match line {
            LineWidth::Thermal => Some(need(ScalarField::TemperatureK)?),
            LineWidth::FixedKms(_) => None,
        };
        let d_kpc = distance_mpc * MPC_KPC;
        let direction = los.direction();
        let (e1, e2) = los.sky_basis();
        let pos = gas.pos_kpc();
        let vel = gas.vel_kms();
        let range = range.start.min(gas.len())..range.end.min(gas.len());
        let n = range.len();
        let mut out = Self {
            x_arcsec: Vec::with_capacity(n),
            y_arcsec: Vec::with_capacity(n),
            v_kms: Vec::with_capacity(n),
            flux_jy_kms: Vec::with_capacity(n),
            support_arcsec: Vec::with_capacity(n),
            sigma_kms: Vec::with_capacity(n),
        };
        for i in range {
            if hi[i] == 0.0 {
                continue;
            }
            let p = [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]];
            let v = [vel[[i, 0]], vel[[i, 1]], vel[[i, 2]]];
            let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
            let depth = d_kpc + dot(p, direction);
            if depth.is_nan() || depth <= 0.0 {
                return Err(MockError::BadInput {
                    name: "gas",
                    expected: format!("particles in front of the observer at {distance_mpc} Mpc"),
                    got: format!("particle {i} at depth {depth} kpc"),
                });
            }
            let sigma = match line {
                LineWidth::FixedKms(s) => s,
                LineWidth::Thermal => temperature.map_or(f64::NAN, |t| thermal_sigma_kms(t[i])),
            };
            out.x_arcsec.push((-dot(p, e1) / depth).atan() * ARCSEC_PER_RAD);
            out.y_arcsec.push((dot(p, e2) / depth).atan() * ARCSEC_PER_RAD);
            out.v_kms.push(dot(v, direction));
            out.flux_jy_kms.push(flux_jy_kms_from_hi_mass(hi[i], distance_mpc));
            out.support_arcsec.push(h[i] / depth * ARCSEC_PER_RAD);
            out.sigma_kms.push(sigma);
        }
        // Re-validate: NaN masses, lengths or temperatures in the file become a clear error here.
        Self::new(out.x_arcsec, out.y_arcsec, out.v_kms, out.flux_jy_kms, out.support_arcsec, out.sigma_kms)
    }

    /// Number of emitting particles.
    pub fn len(&self) -> usize {
        self.x_arcsec.len()
    }

    /// Whether no particle emits.
    pub fn is_empty(&self) -> bool {
        self.x_arcsec.is_empty()
    }

    /// Total flux `sum S dv` in Jy km/s.
    pub fn total_flux_jy_kms(&self) -> f64 {
        self.flux_jy_kms.iter().sum()
    }

    /// Sky x offsets in arcsec.
    pub fn x_arcsec(&self) -> &[f64] {
        &self.x_arcsec
    }

    /// Sky y offsets in arcsec.
    pub fn y_arcsec(&self) -> &[f64] {
        &self.y_arcsec
    }

    /// Line-of-sight velocities in km/s.
    pub fn v_kms(&self) -> &[f64] {
        &self.v_kms
    }

    /// Fluxes in Jy km/s.
    pub fn flux_jy_kms(&self) -> &[f64] {
        &self.flux_jy_kms
    }

    /// Radii of compact support in arcsec.
    pub fn support_arcsec(&self) -> &[f64] {
        &self.support_arcsec
    }

    /// Line widths (sigma) in km/s.
    pub fn sigma_kms(&self) -> &[f64] {
        &self.sigma_kms
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{array, Array2};

    use super::*;

    #[test]
    fn missing_fields_and_bad_values_are_named() {
        let gas = Particles::new(array![[1.0, 0.0, 0.0]], Array2::zeros((1, 3)), array![2e6]).unwrap();
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let err = HiSource::from_gas(&gas, &los, 10.0, LineWidth::FixedKms(7.0)).unwrap_err();
        assert!(err.to_string().contains("hi_mass"), "{err}");
        let mut gas = gas;
        gas.set_field(ScalarField::HiMassMsun, array![1e6]).unwrap();
        gas.set_field(ScalarField::SmoothingLengthKpc, array![-0.5]).unwrap();
        let err = HiSource::from_gas(&gas, &los, 10.0, LineWidth::FixedKms(7.0)).unwrap_err();
        assert!(err.to_string().contains("support_arcsec"), "{err}");
        let err = HiSource::from_gas(&gas, &los, 10.0, LineWidth::Thermal).unwrap_err();
        assert!(err.to_string().contains("temperature"), "{err}");
        assert!(HiSource::from_gas(&gas, &los, -1.0, LineWidth::Thermal).is_err());
    }

    #[test]
    fn perspective_and_velocity_follow_the_line_of_sight() {
        let mut gas = Particles::new(array![[1.0, 2.0, 3.0]], array![[10.0, 20.0, 30.0]], array![1.0]).unwrap();
        gas.set_field(ScalarField::HiMassMsun, array![1.0]).unwrap();
        gas.set_field(ScalarField::SmoothingLengthKpc, array![0.1]).unwrap();
        gas.set_field(ScalarField::TemperatureK, array![1e4]).unwrap();
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let s = HiSource::from_gas(&gas, &los, 1.0, LineWidth::Thermal).unwrap();
        let (e1, e2) = los.sky_basis();
        let x = e1[0] * 1.0 + e1[1] * 2.0 + e1[2] * 3.0;
        let y = e2[0] * 1.0 + e2[1] * 2.0 + e2[2] * 3.0;
        assert!((s.x_arcsec()[0] + (x / 1003.0).atan() * ARCSEC_PER_RAD).abs() < 1e-9);
        assert!((s.y_arcsec()[0] - (y / 1003.0).atan() * ARCSEC_PER_RAD).abs() < 1e-9);
        assert_eq!(s.v_kms()[0], 30.0);
        assert!((s.sigma_kms()[0] - thermal_sigma_kms(1e4)).abs() < 1e-12);
    }
}
