//! Moments 0, 1 and 2 of a cube, with a mask that is a configuration value (MARTINI's moment maps, methods.md).
//!
//! For each pixel, over the voxels that pass the mask: `mom0 = sum S dv` (in the cube's unit times km/s),
//! `mom1 = sum S v / sum S` and `mom2 = sqrt(sum S (v - mom1)^2 / sum S)` (km/s), `v` the channel centres. Masked
//! pixels are NaN in all three maps (FITS viewers show them blank; a dataset fills them as its recipe says) and
//! `false` in [`Moments::mask`].
//!
//! Masks ([`MomentMask`]):
//! - `ColumnDensityCm2(N)` (the default, 1e19.5 cm^-2 as exposito2026): a pixel is kept when the column density of
//!   its voxels above `clip` reaches `N` (its moment 0 itself sums every channel) (`N_HI = 1.2525e24 sum S dv` for S in Jy/arcsec^2, the same per beam
//!   area for Jy/beam: [`crate::hi::cube::column_density_cm2_per_jy_arcsec2_kms`]);
//! - `IntensityJyPerBeam(S)`: only voxels of at least `S` Jy/beam count, in all three moments; a pixel with no such
//!   voxel is masked (delosrios2023's 0.2 Jy/beam, which it equates with 1e19.5 cm^-2; for a 10'' beam 1e19.5 cm^-2
//!   is about 2.9 mJy/beam km/s of moment 0, methods.md, so the two are not the same mask);
//! - `None`: no mask; every pixel with a finite voxel is kept (moment 0 is then the nan-sum over channels, negative
//!   where noise makes it so; the velocity moments are NaN where no voxel passes `clip`).
//!
//! In a noisy cube the velocity moments use only the voxels above `clip` (MARTINI clips at 5 rms), so noise
//! neither drags `mom1` nor makes `sum S (v - mom1)^2` negative; `mom0` sums every channel (noise averages out).
//!
//! ```
//! use galmass_mock::hi::cube::{DataCube, SkyGrid, SpectralAxis};
//! use galmass_mock::hi::moments::{moments, MomentMask};
//! let mut cube = DataCube::zeros(SkyGrid::square(2, 1.0).unwrap(), SpectralAxis::new(3, 10.0, 0.0).unwrap());
//! cube.data[[0, 0, 0]] = 1.0;
//! cube.data[[2, 0, 0]] = 1.0;
//! let m = moments(&cube, MomentMask::None, 0.0).unwrap();
//! assert_eq!((m.mom0[[0, 0]], m.mom1[[0, 0]], m.mom2[[0, 0]]), (20.0, 0.0, 10.0));
//! assert!(m.mom0[[1, 1]] == 0.0 && m.mom1[[1, 1]].is_nan() && m.mask[[1, 1]]);
//! ```

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::cube::{column_density_cm2_per_jy_arcsec2_kms, CubeUnit, DataCube};

/// 10^19.5 cm^-2, exposito2026's mask (and the column density delosrios2023 quotes).
pub const EXPOSITO2026_COLUMN_DENSITY_CM2: f64 = 3.162_277_660_168_379_5e19;

/// Which pixels and voxels the moments use.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum MomentMask {
    /// No mask: every pixel with a finite voxel (TOML `mask = "none"`).
    None,
    /// Pixels whose moment-0 column density reaches this many cm^-2 (TOML `mask = { column-density-cm2 = 3.16e19 }`).
    ColumnDensityCm2(f64),
    /// Voxels of at least this many Jy/beam (TOML `mask = { intensity-jy-per-beam = 0.2 }`).
    IntensityJyPerBeam(f64),
}

impl MomentMask {
    /// Checks the threshold (finite and positive).
    pub fn check(&self) -> Result<(), MockError> {
        match *self {
            MomentMask::ColumnDensityCm2(v) | MomentMask::IntensityJyPerBeam(v) if !(v.is_finite() && v > 0.0) => {
                Err(MockError::invalid("mask", format!("threshold must be positive, got {v}")))
            }
            _ => Ok(()),
        }
    }
}

/// The three moment maps, `(y, x)`, and the mask they share.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    /// Moment 0 in `mom0_unit`.
    pub mom0: Array2<f64>,
    /// Moment 1 (intensity-weighted mean velocity), km/s.
    pub mom1: Array2<f64>,
    /// Moment 2 (intensity-weighted velocity dispersion), km/s.
    pub mom2: Array2<f64>,
    /// `true` where the pixel passed the mask.
    pub mask: Array2<bool>,
    /// Unit of moment 0 (`Jy/beam km/s` or `Jy/arcsec2 km/s`).
    pub mom0_unit: String,
}

/// The moments of `cube` under `mask`; the velocity moments use voxels above `clip` (in the cube's unit; 0 keeps
/// every positive voxel).
pub fn moments(cube: &DataCube, mask: MomentMask, clip: f64) -> Result<Moments, MockError> {
    mask.check()?;
    if !(clip.is_finite() && clip >= 0.0) {
        return Err(MockError::invalid("clip", format!("must be finite and >= 0, got {clip}")));
    }
    let voxel_threshold = match mask {
        MomentMask::IntensityJyPerBeam(s) => {
            if cube.unit != CubeUnit::JyPerBeam {
                return Err(MockError::invalid(
                    "mask",
                    format!(
                        "an intensity mask in Jy/beam needs a cube in Jy/beam, this one is in {}",
                        cube.unit.as_str()
                    ),
                ));
            }
            Some(s)
        }
        _ => None,
    };
    // Column density per unit of moment 0 in the cube's unit.
    let n_per_mom0 = column_density_cm2_per_jy_arcsec2_kms()
        / match (cube.unit, cube.beam) {
            (CubeUnit::JyPerBeam, Some(b)) => b.area_arcsec2(),
            _ => 1.0,
        };
    let (ny, nx) = (cube.grid.ny, cube.grid.nx);
    let dv = cube.spectral.width_kms;
    let velocities = cube.spectral.centres_kms();
    let mut out = Moments {
        mom0: Array2::from_elem((ny, nx), f64::NAN),
        mom1: Array2::from_elem((ny, nx), f64::NAN),
        mom2: Array2::from_elem((ny, nx), f64::NAN),
        mask: Array2::from_elem((ny, nx), false),
        mom0_unit: format!("{} km/s", cube.unit.as_str()),
    };
    for y in 0..ny {
        for x in 0..nx {
            let spectrum = cube.data.slice(ndarray::s![.., y, x]);
            let passes = |s: f64| s.is_finite() && voxel_threshold.is_none_or(|t| s >= t);
            let mom0: f64 = spectrum.iter().filter(|s| passes(**s)).sum::<f64>() * dv;
            let keep = match mask {
                MomentMask::ColumnDensityCm2(n) => {
                    // The column density of the voxels above the clip, so noise does not fill the mask.
                    let clipped: f64 = spectrum.iter().filter(|s| passes(**s) && **s > clip).sum::<f64>() * dv;
                    clipped * n_per_mom0 >= n
                }
                MomentMask::IntensityJyPerBeam(_) => mom0 > 0.0,
                MomentMask::None => spectrum.iter().any(|s| s.is_finite()),
            };
            if !keep {
                continue;
            }
            let (mut w, mut wv) = (0.0, 0.0);
            for (s, v) in spectrum.iter().zip(&velocities) {
                if passes(*s) && *s > clip {
                    w += s;
                    wv += s * v;
                }
            }
            out.mom0[[y, x]] = mom0;
            out.mask[[y, x]] = true;
            if w > 0.0 {
                let mean = wv / w;
                let var: f64 = spectrum
                    .iter()
                    .zip(&velocities)
                    .filter(|(s, _)| passes(**s) && **s > clip)
                    .map(|(s, v)| s * (v - mean) * (v - mean))
                    .sum::<f64>()
                    / w;
                out.mom1[[y, x]] = mean;
                out.mom2[[y, x]] = var.sqrt();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hi::beam::GaussianBeam;
    use crate::hi::cube::{SkyGrid, SpectralAxis};

    #[test]
    fn a_gaussian_line_has_its_moments() {
        let axis = SpectralAxis::new(200, 1.0, 0.0).unwrap();
        let mut cube = DataCube::zeros(SkyGrid::square(1, 1.0).unwrap(), axis);
        for k in 0..200 {
            let v = axis.channel_centre_kms(k);
            cube.data[[k, 0, 0]] = (-0.5 * ((v - 12.0) / 9.0f64).powi(2)).exp();
        }
        let m = moments(&cube, MomentMask::None, 0.0).unwrap();
        assert!((m.mom1[[0, 0]] - 12.0).abs() < 1e-9);
        assert!((m.mom2[[0, 0]] - 9.0).abs() < 1e-3, "{}", m.mom2[[0, 0]]);
        assert!((m.mom0[[0, 0]] - 9.0 * (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-6);
    }

    #[test]
    fn masks_select_pixels_and_voxels() {
        let beam = GaussianBeam::circular(10.0, 3.0).unwrap();
        let grid = SkyGrid::new(2, 1, 2.0).unwrap();
        let axis = SpectralAxis::new(2, 5.0, 0.0).unwrap();
        let mut data = ndarray::Array3::zeros((2, 1, 2));
        // Pixel 0: 1 mJy/beam in each channel, 10 mJy/beam km/s: 1.1e20 cm^-2 in a 10'' beam; pixel 1: 1e-5.
        data[[0, 0, 0]] = 1e-3;
        data[[1, 0, 0]] = 1e-3;
        data[[0, 0, 1]] = 1e-5;
        let cube = DataCube::from_parts(data, grid, axis, Some(beam), CubeUnit::JyPerBeam).unwrap();
        let m = moments(&cube, MomentMask::ColumnDensityCm2(EXPOSITO2026_COLUMN_DENSITY_CM2), 0.0).unwrap();
        assert_eq!(m.mask.iter().copied().collect::<Vec<_>>(), vec![true, false]);
        assert!(m.mom1[[0, 1]].is_nan());
        let m = moments(&cube, MomentMask::IntensityJyPerBeam(5e-4), 0.0).unwrap();
        assert_eq!(m.mask.iter().copied().collect::<Vec<_>>(), vec![true, false]);
        assert!(moments(&cube, MomentMask::ColumnDensityCm2(-1.0), 0.0).is_err());
        let unconvolved = DataCube::zeros(grid, axis);
        assert!(moments(&unconvolved, MomentMask::IntensityJyPerBeam(0.2), 0.0).is_err());
    }
}
