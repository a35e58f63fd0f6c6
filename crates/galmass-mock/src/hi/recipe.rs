//! Bringing a real cube to a training recipe: the beam, the channels and the pixels of the mock cubes a model was
//! trained on, so that a survey cube ([`crate::hi::fits_cube::RealCube`]) can be fed to it.
//!
//! [`match_recipe`] runs three steps, in this order:
//! 1. **Beam.** Each channel is convolved to the target beam with the matching kernel
//!    ([`GaussianBeam::matching_kernel`]: covariances subtract; per-channel beams each get their own kernel). The
//!    data is per beam, so a Jy/beam plane convolved with the normalised kernel is multiplied by
//!    `target area / channel beam area` to stay in Jy/beam of the new beam (a Jy/arcsec^2 plane is not). NaN voxels
//!    count as zero in the convolution and are NaN again afterwards. A target finer than the data's beam along
//!    any direction is refused (`cannot be sharpened`); `None` keeps the data's beam(s) (per-channel beams then stay
//!    as they are and the output records the cube's beam).
//! 2. **Channels.** The channels are rebinned to `n_channels` of `channel_width_kms` centred on `centre_kms`
//!    relative to the systemic velocity, from the exact channel edges of the file: each output channel is the mean
//!    of the input channels weighted by the overlap of their velocity intervals, which conserves `sum S dv` (and,
//!    to second order in the width, the first moment). A target width finer than the data's narrowest channel is
//!    refused (channels cannot be split). The systemic velocity is given ([`SystemicVelocity::Kms`]) or the
//!    flux-weighted mean velocity of the global profile ([`systemic_velocity_kms`]).
//! 3. **Pixels.** The planes are regridded to `npix` x `npix` pixels of the target scale (arcsec, or kpc at a
//!    distance: 1 arcsec = `D [Mpc] 1e3 / 206264.806` kpc) about the cube's centre, its WCS reference pixel or a
//!    given pixel. Values are per beam (a surface brightness), so they are averaged, never summed: for a target
//!    pixel at least as large as the data's, the mean over the target pixel weighted by overlapping area (exactly
//!    flux-conserving); for a finer target pixel, bilinear interpolation between pixel centres.
//!
//! In steps 2 and 3 a value is the mean over the part of the target channel or pixel that the data covers (NaN
//! voxels count as zero there); a target channel or pixel the data does not reach at all is NaN or 0
//! ([`OutsideData`]), and one covered only by NaN voxels is NaN.
//!
//! ```no_run
//! use galmass_mock::hi::beam::GaussianBeam;
//! use galmass_mock::hi::fits_cube::read_cube;
//! use galmass_mock::hi::recipe::{match_recipe, FieldCentre, OutsideData, PixelScale, RecipeTarget, SystemicVelocity};
//! let real = read_cube("NGC_2903.fits".as_ref())?;
//! let target = RecipeTarget {
//!     beam: Some(GaussianBeam::circular(90.0, 3.0)?),
//!     channel_width_kms: 10.0,
//!     n_channels: 48,
//!     centre_kms: 0.0,
//!     systemic: SystemicVelocity::FluxWeightedMean,
//!     pixel_scale: PixelScale::Kpc { pixel_kpc: 1.0, distance_mpc: 8.9 },
//!     npix: 64,
//!     centre: FieldCentre::ReferencePixel,
//!     outside: OutsideData::Zero,
//! };
//! let matched = match_recipe(&real, &target)?;
//! println!("systemic velocity {:.1} km/s", matched.systemic_velocity_kms);
//! # Ok::<(), galmass_mock::MockError>(())
//! ```

use ndarray::{Array3, ArrayView3, ArrayViewMut2, Axis, Zip};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::beam::{GaussianBeam, PlaneConvolver};
use crate::hi::cube::{CubeUnit, DataCube, SkyGrid, SpectralAxis, ARCSEC_PER_RAD};
use crate::hi::fits_cube::RealCube;

/// Kiloparsecs per arcsec at a distance of 1 Mpc (`1e3 / 206264.806`).
pub const KPC_PER_ARCSEC_PER_MPC: f64 = 1e3 / ARCSEC_PER_RAD;

/// Relative slack when comparing a target width or pixel with the data's.
const WIDTH_TOLERANCE: f64 = 1e-6;

/// The target pixel size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum PixelScale {
    /// Pixels of this many arcsec.
    Arcsec(f64),
    /// Pixels of `pixel_kpc` at `distance_mpc`.
    Kpc {
        /// Side of a pixel in kpc.
        pixel_kpc: f64,
        /// Distance in Mpc.
        distance_mpc: f64,
    },
}

impl PixelScale {
    /// The pixel size in arcsec (checked positive and finite).
    pub fn pixel_arcsec(&self) -> Result<f64, MockError> {
        let arcsec = match *self {
            PixelScale::Arcsec(p) => p,
            PixelScale::Kpc { pixel_kpc, distance_mpc } => {
                if !(distance_mpc.is_finite() && distance_mpc > 0.0) {
                    return Err(MockError::invalid("distance_mpc", format!("must be positive, got {distance_mpc}")));
                }
                pixel_kpc / (distance_mpc * KPC_PER_ARCSEC_PER_MPC)
            }
        };
        if !(arcsec.is_finite() && arcsec > 0.0) {
            return Err(MockError::invalid("pixel_scale", format!("must be positive, got {self:?}")));
        }
        Ok(arcsec)
    }
}

/// The velocity the target channels are relative to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum SystemicVelocity {
    /// This velocity in km/s, in the file's frame and convention.
    Kms(f64),
    /// The flux-weighted mean velocity of the cube's global profile ([`systemic_velocity_kms`]).
    FluxWeightedMean,
}

/// Where the target field is centred, in the read cube's arrays (east = -x, north = +y).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum FieldCentre {
    /// The centre of the cube's field, pixel `((nx - 1) / 2, (ny - 1) / 2)`.
    CubeCentre,
    /// The WCS reference pixel (`CRPIXn - 1`), often the pointing or the galaxy.
    ReferencePixel,
    /// This 0-based pixel position (pixel `i` spans `[i - 0.5, i + 0.5]`; fractions allowed).
    Pixel {
        /// Along x (FITS axis 1).
        x: f64,
        /// Along y (FITS axis 2).
        y: f64,
    },
}

/// What target channels and pixels that the data does not reach hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutsideData {
    /// NaN (blank in FITS viewers).
    Nan,
    /// Zero (as a mock cube's empty sky).
    Zero,
}

impl OutsideData {
    fn value(self) -> f64 {
        match self {
            OutsideData::Nan => f64::NAN,
            OutsideData::Zero => 0.0,
        }
    }
}

/// The training recipe a real cube is brought to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeTarget {
    /// The target beam (`None`: keep the data's).
    pub beam: Option<GaussianBeam>,
    /// The target channel width in km/s.
    pub channel_width_kms: f64,
    /// The number of target channels.
    pub n_channels: usize,
    /// The velocity of the centre of the target band, relative to the systemic velocity, km/s.
    pub centre_kms: f64,
    /// The systemic velocity.
    pub systemic: SystemicVelocity,
    /// The target pixel size.
    pub pixel_scale: PixelScale,
    /// The target field is `npix` x `npix` pixels.
    pub npix: usize,
    /// Where the target field is centred.
    pub centre: FieldCentre,
    /// What target channels and pixels outside the data hold.
    pub outside: OutsideData,
}

impl RecipeTarget {
    /// Checks the numbers; returns the target velocity axis (relative to the systemic velocity) and sky grid.
    pub fn check(&self) -> Result<(SpectralAxis, SkyGrid), MockError> {
        if let Some(b) = self.beam {
            GaussianBeam::new(b.bmaj_arcsec, b.bmin_arcsec, b.bpa_deg, b.truncate_fwhm)?;
        }
        if let SystemicVelocity::Kms(v) = self.systemic {
            if !v.is_finite() {
                return Err(MockError::invalid("systemic", format!("must be finite, got {v}")));
            }
        }
        if let FieldCentre::Pixel { x, y } = self.centre {
            if !(x.is_finite() && y.is_finite()) {
                return Err(MockError::invalid("centre", format!("pixel must be finite, got ({x}, {y})")));
            }
        }
        let axis = SpectralAxis::new(self.n_channels, self.channel_width_kms, self.centre_kms)?;
        let grid = SkyGrid::square(self.npix, self.pixel_scale.pixel_arcsec()?)?;
        Ok((axis, grid))
    }
}

/// A real cube brought to a recipe.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchedCube {
    /// The cube on the target grids; velocities relative to `systemic_velocity_kms`.
    pub cube: DataCube,
    /// The systemic velocity used, km/s (in the file's frame and convention).
    pub systemic_velocity_kms: f64,
    /// The target field's centre in the read cube's pixels (0-based x, y).
    pub centre_pixel: (f64, f64),
}

/// Brings `real` to `target` (see the module docs for the three steps and their conventions).
pub fn match_recipe(real: &RealCube, target: &RecipeTarget) -> Result<MatchedCube, MockError> {
    let (axis, grid) = target.check()?;
    let systemic_velocity_kms = match target.systemic {
        SystemicVelocity::Kms(v) => v,
        SystemicVelocity::FluxWeightedMean => systemic_velocity_kms(real)?,
    };
    let (convolved, beam) = convolve_to_beam(real, target.beam)?;
    let edges_kms: Vec<f64> = real.channel_edges_kms.iter().map(|v| v - systemic_velocity_kms).collect();
    let rebinned = rebin_channels(convolved.view(), &edges_kms, &axis, target.outside)?;
    let (nx, ny) = (real.cube.grid.nx as f64, real.cube.grid.ny as f64);
    let centre_pixel = match target.centre {
        FieldCentre::CubeCentre => (0.5 * (nx - 1.0), 0.5 * (ny - 1.0)),
        FieldCentre::ReferencePixel => (real.celestial.crpix1 - 1.0, real.celestial.crpix2 - 1.0),
        FieldCentre::Pixel { x, y } => (x, y),
    };
    let data = regrid_pixels(rebinned.view(), &real.cube.grid, centre_pixel, &grid, target.outside);
    let cube = DataCube::from_parts(data, grid, axis, beam, real.cube.unit)?;
    Ok(MatchedCube { cube, systemic_velocity_kms, centre_pixel })
}

/// The flux-weighted mean velocity in km/s of the global profile: `sum_k F_k v_k / sum_k F_k`, `F_k` the flux of
/// channel `k` (every finite voxel, with the channel's beam, so noise averages out) and `v_k` its exact velocity.
/// An error when the total is not positive (a cube dominated by noise or negative residuals: give the velocity).
pub fn systemic_velocity_kms(real: &RealCube) -> Result<f64, MockError> {
    let pixel_area = real.cube.grid.pixel_area_arcsec2();
    let (mut flux, mut moment) = (0.0, 0.0);
    for (k, plane) in real.cube.data.axis_iter(Axis(0)).enumerate() {
        let sum: f64 = plane.iter().filter(|v| v.is_finite()).sum();
        let per_unit = match (real.cube.unit, real.beam_of_channel(k)) {
            (CubeUnit::JyPerBeam, Some(beam)) => pixel_area / beam.area_arcsec2(),
            _ => pixel_area,
        };
        let width = real.channel_edges_kms[k + 1] - real.channel_edges_kms[k];
        let channel_flux = sum * per_unit * width;
        flux += channel_flux;
        moment += channel_flux * real.channel_velocities_kms[k];
    }
    if !(flux.is_finite() && flux > 0.0) {
        return Err(MockError::BadInput {
            name: "systemic velocity",
            expected: format!("a positive total flux in {} to weight the velocities", real.path.display()),
            got: format!("{flux} Jy km/s (give the systemic velocity instead)"),
        });
    }
    Ok(moment / flux)
}

/// The kernel and the unit factor that take one channel to the target beam.
struct ChannelPlan {
    kernel: Option<GaussianBeam>,
    factor: f64,
}

/// Step 1: every channel of `real` convolved to `target` (see the module docs); returns the data and the beam it
/// now has (`target`, or the cube's when `target` is `None`, in which case the data is returned unchanged).
pub fn convolve_to_beam(
    real: &RealCube,
    target: Option<GaussianBeam>,
) -> Result<(Array3<f64>, Option<GaussianBeam>), MockError> {
    let Some(target) = target else {
        return Ok((real.cube.data.clone(), real.cube.beam));
    };
    let mut plans = Vec::with_capacity(real.cube.spectral.n);
    for k in 0..real.cube.spectral.n {
        let Some(current) = real.beam_of_channel(k) else {
            return Err(MockError::BadInput {
                name: "beam",
                expected: format!("a beam in {} to match the target beam", real.path.display()),
                got: "none".into(),
            });
        };
        let factor = match real.cube.unit {
            CubeUnit::JyPerBeam => target.area_arcsec2() / current.area_arcsec2(),
            CubeUnit::JyPerArcsec2 => 1.0,
        };
        plans.push(ChannelPlan { kernel: target.matching_kernel(&current)?, factor });
    }
    let pixel_arcsec = real.cube.grid.pixel_arcsec;
    let mut data = real.cube.data.clone();
    let mut planes: Vec<ArrayViewMut2<'_, f64>> = data.axis_iter_mut(Axis(0)).collect();
    let block = planes.len().div_ceil(rayon::current_num_threads().max(1)).max(1);
    planes.par_chunks_mut(block).zip(plans.par_chunks(block)).try_for_each(|(planes, plans)| {
        let mut current: Option<(GaussianBeam, PlaneConvolver)> = None;
        for (plane, plan) in planes.iter_mut().zip(plans) {
            if let Some(kernel_beam) = plan.kernel {
                if current.as_ref().is_none_or(|(b, _)| *b != kernel_beam) {
                    let kernel = kernel_beam.kernel(pixel_arcsec)?;
                    let (ny, nx) = plane.dim();
                    current = Some((kernel_beam, PlaneConvolver::new(ny, nx, kernel.view())?));
                }
                if let Some((_, convolver)) = current.as_mut() {
                    convolve_keeping_nan(plane, convolver);
                }
            }
            if plan.factor != 1.0 {
                plane.mapv_inplace(|v| v * plan.factor);
            }
        }
        Ok::<(), MockError>(())
    })?;
    Ok((data, Some(target)))
}

/// Convolves `plane` with NaN voxels counted as zero; they are NaN again afterwards.
fn convolve_keeping_nan(plane: &mut ArrayViewMut2<'_, f64>, convolver: &mut PlaneConvolver) {
    let nan_mask: Vec<bool> = plane.iter().map(|v| v.is_nan()).collect();
    let any_nan = nan_mask.iter().any(|&m| m);
    if any_nan {
        plane.mapv_inplace(|v| if v.is_nan() { 0.0 } else { v });
    }
    convolver.convolve(plane);
    if any_nan {
        for (v, &masked) in plane.iter_mut().zip(&nan_mask) {
            if masked {
                *v = f64::NAN;
            }
        }
    }
}

/// Input intervals (index, weight) contributing to each output interval.
type Weights = Vec<Vec<(usize, f64)>>;

/// For each output interval of `out_edges`, the input intervals of `in_edges` it overlaps and the overlap lengths
/// (both edge lists increasing).
fn overlap_weights(in_edges: &[f64], out_edges: &[f64]) -> Weights {
    out_edges
        .windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            // First input interval whose upper edge lies above a.
            let start = in_edges.partition_point(|&e| e <= a).saturating_sub(1);
            let mut list = Vec::new();
            for k in start..in_edges.len().saturating_sub(1) {
                let (lo, hi) = (in_edges[k], in_edges[k + 1]);
                if lo >= b {
                    break;
                }
                let overlap = hi.min(b) - lo.max(a);
                if overlap > 0.0 {
                    list.push((k, overlap));
                }
            }
            list
        })
        .collect()
}

/// Linear-interpolation weights at the output centres `out_centres` from input samples at `in_centres`
/// (uniform, increasing); a point more than half a spacing beyond the end samples gets none.
fn bilinear_weights(in_first: f64, in_step: f64, n_in: usize, out_centres: &[f64]) -> Weights {
    out_centres
        .iter()
        .map(|&c| {
            let t = (c - in_first) / in_step;
            if t < -0.5 || t > n_in as f64 - 0.5 {
                return Vec::new();
            }
            let t = t.clamp(0.0, (n_in - 1) as f64);
            let i0 = (t.floor() as usize).min(n_in - 1);
            let f = t - i0 as f64;
            if i0 + 1 < n_in && f > 0.0 {
                vec![(i0, 1.0 - f), (i0 + 1, f)]
            } else {
                vec![(i0, 1.0)]
            }
        })
        .collect()
}

/// Resamples `data` along `axis` with `weights` (one list per output index): the weighted mean over the covered
/// part, NaN voxels counting as zero; `fill` where nothing is covered, NaN where only NaN voxels are.
fn resample_axis(data: ArrayView3<'_, f64>, axis: Axis, weights: &Weights, fill: f64) -> Array3<f64> {
    let mut shape = [data.dim().0, data.dim().1, data.dim().2];
    shape[axis.index()] = weights.len();
    let mut out = Array3::<f64>::zeros(shape);
    Zip::from(out.lanes_mut(axis)).and(data.lanes(axis)).for_each(|mut out_lane, in_lane| {
        for (o, list) in out_lane.iter_mut().zip(weights) {
            let (mut sum, mut covered, mut finite) = (0.0, 0.0, false);
            for &(k, w) in list {
                covered += w;
                let v = in_lane[k];
                if v.is_finite() {
                    sum += v * w;
                    finite = true;
                }
            }
            *o = if covered <= 0.0 {
                fill
            } else if finite {
                sum / covered
            } else {
                f64::NAN
            };
        }
    });
    out
}

/// Step 2: `data` (channels along axis 0, with the increasing `edges_kms`, relative to the systemic velocity)
/// rebinned to `axis` by overlap-weighted means; refuses target channels finer than the data's.
pub fn rebin_channels(
    data: ArrayView3<'_, f64>,
    edges_kms: &[f64],
    axis: &SpectralAxis,
    outside: OutsideData,
) -> Result<Array3<f64>, MockError> {
    if edges_kms.len() != data.dim().0 + 1 || !edges_kms.windows(2).all(|w| w[1] > w[0]) {
        return Err(MockError::BadInput {
            name: "edges_kms",
            expected: format!("{} increasing channel edges", data.dim().0 + 1),
            got: format!("{} edges", edges_kms.len()),
        });
    }
    let narrowest = edges_kms.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
    if axis.width_kms < narrowest * (1.0 - WIDTH_TOLERANCE) {
        return Err(MockError::invalid(
            "channel_width_kms",
            format!(
                "the target channels of {} km/s are finer than the data's {narrowest} km/s: channels cannot be split",
                axis.width_kms
            ),
        ));
    }
    let out_edges: Vec<f64> = (0..=axis.n).map(|k| axis.first_edge_kms() + k as f64 * axis.width_kms).collect();
    Ok(resample_axis(data, Axis(0), &overlap_weights(edges_kms, &out_edges), outside.value()))
}

/// The weights of one sky axis: `n_in` data pixels of `in_pixel` whose pixel `centre` (0-based) becomes the
/// target field's centre, to `n_out` target pixels of `out_pixel` (arcsec).
fn sky_axis_weights(n_in: usize, in_pixel: f64, centre: f64, n_out: usize, out_pixel: f64) -> Weights {
    let out_first_edge = -0.5 * n_out as f64 * out_pixel;
    if out_pixel >= in_pixel * (1.0 - WIDTH_TOLERANCE) {
        let in_edges: Vec<f64> = (0..=n_in).map(|i| (i as f64 - 0.5 - centre) * in_pixel).collect();
        let out_edges: Vec<f64> = (0..=n_out).map(|j| out_first_edge + j as f64 * out_pixel).collect();
        overlap_weights(&in_edges, &out_edges)
    } else {
        let out_centres: Vec<f64> = (0..n_out).map(|j| out_first_edge + (j as f64 + 0.5) * out_pixel).collect();
        bilinear_weights(-centre * in_pixel, in_pixel, n_in, &out_centres)
    }
}

/// Step 3: the planes of `data` (on `in_grid`) regridded to `out_grid`, the data's pixel `centre_pixel` (0-based x,
/// y) at the centre of the target field: area-weighted means for target pixels at least as large as the data's,
/// bilinear interpolation for finer ones.
pub fn regrid_pixels(
    data: ArrayView3<'_, f64>,
    in_grid: &SkyGrid,
    centre_pixel: (f64, f64),
    out_grid: &SkyGrid,
    outside: OutsideData,
) -> Array3<f64> {
    let (p_in, p_out) = (in_grid.pixel_arcsec, out_grid.pixel_arcsec);
    let wx = sky_axis_weights(in_grid.nx, p_in, centre_pixel.0, out_grid.nx, p_out);
    let wy = sky_axis_weights(in_grid.ny, p_in, centre_pixel.1, out_grid.ny, p_out);
    let along_x = resample_axis(data, Axis(2), &wx, outside.value());
    resample_axis(along_x.view(), Axis(1), &wy, outside.value())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hi::fits_cube::{read_cube, write_cube, CubeHeader, FitsPrecision, SkyPosition};

    const VSYS_KMS: f64 = 1000.0;

    /// A Gaussian blob (spatial sigma `sigma_arcsec` about pixel offset (dx, dy) from the field centre) with a
    /// Gaussian line at `line_kms` of `line_sigma_kms`, in Jy/beam of `beam`, written to FITS and read back.
    fn blob(dir: &std::path::Path, beam: GaussianBeam, sigma_arcsec: f64, offset: (f64, f64)) -> RealCube {
        let grid = SkyGrid::square(72, 4.0).unwrap();
        let spectral = SpectralAxis::new(60, 2.0, 0.0).unwrap();
        let (line_kms, line_sigma_kms) = (13.0, 15.0);
        let data = Array3::from_shape_fn((60, 72, 72), |(k, j, i)| {
            let (x, y) = (grid.x_centre_arcsec(i) - offset.0, grid.y_centre_arcsec(j) - offset.1);
            let v = spectral.channel_centre_kms(k) - line_kms;
            (-0.5 * (x * x + y * y) / (sigma_arcsec * sigma_arcsec)).exp()
                * (-0.5 * v * v / (line_sigma_kms * line_sigma_kms)).exp()
        });
        let cube = DataCube::from_parts(data, grid, spectral, Some(beam), CubeUnit::JyPerBeam).unwrap();
        let path = dir.join("blob.fits");
        let mut header = CubeHeader::new("blob", SkyPosition { ra_deg: 180.0, dec_deg: 10.0 }, VSYS_KMS);
        header.precision = FitsPrecision::Float64;
        write_cube(&path, &cube, &header).unwrap();
        read_cube(&path).unwrap()
    }

    fn target(beam: Option<GaussianBeam>, width_kms: f64, n: usize, pixel_arcsec: f64, npix: usize) -> RecipeTarget {
        RecipeTarget {
            beam,
            channel_width_kms: width_kms,
            n_channels: n,
            centre_kms: 0.0,
            systemic: SystemicVelocity::Kms(VSYS_KMS),
            pixel_scale: PixelScale::Arcsec(pixel_arcsec),
            npix,
            centre: FieldCentre::CubeCentre,
            outside: OutsideData::Nan,
        }
    }

    /// Second moments (xx, yy) in arcsec^2 of a cube's moment 0 about its centroid.
    fn second_moments(cube: &DataCube) -> (f64, f64) {
        let mom0 = cube.integrated();
        let (mut s, mut sx, mut sy, mut sxx, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for ((j, i), &w) in mom0.indexed_iter() {
            let (x, y) = (cube.grid.x_centre_arcsec(i), cube.grid.y_centre_arcsec(j));
            s += w;
            sx += w * x;
            sy += w * y;
            sxx += w * x * x;
            syy += w * y * y;
        }
        let (mx, my) = (sx / s, sy / s);
        (sxx / s - mx * mx, syy / s - my * my)
    }

    #[test]
    fn convolving_to_a_coarser_beam_keeps_the_flux_and_gets_the_target_width() {
        let dir = tempfile::tempdir().unwrap();
        let data_beam = GaussianBeam::new(12.0, 10.0, 30.0, 4.0).unwrap();
        let real = blob(dir.path(), data_beam, 12.0, (0.0, 0.0));
        let coarse = GaussianBeam::circular(30.0, 4.0).unwrap();
        let matched = match_recipe(&real, &target(Some(coarse), 2.0, 60, 4.0, 72)).unwrap();
        assert_eq!(matched.cube.beam, Some(coarse));
        let (before, after) = (real.total_flux_jy_kms(), matched.cube.total_flux_jy_kms());
        assert!((after / before - 1.0).abs() < 0.01, "{before} -> {after}");
        // The blob's covariance grows by the matching kernel's: target - data.
        let (xx, yy) = second_moments(&matched.cube);
        let (t, d) = (coarse.covariance_arcsec2(), data_beam.covariance_arcsec2());
        let want = (144.0 + t[0][0] - d[0][0], 144.0 + t[1][1] - d[1][1]);
        assert!((xx / want.0 - 1.0).abs() < 0.02 && (yy / want.1 - 1.0).abs() < 0.02, "{xx} {yy} vs {want:?}");
        // Per beam, the peak of a blob wider than both beams barely changes.
        let peak = matched.cube.data.iter().fold(0.0f64, |m, &v| m.max(v));
        assert!(peak > 1.0, "{peak}");
    }

    #[test]
    fn per_channel_beams_each_get_their_own_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let mut real = blob(dir.path(), GaussianBeam::circular(10.0, 4.0).unwrap(), 10.0, (0.0, 0.0));
        let beams: Vec<GaussianBeam> =
            (0..60).map(|k| GaussianBeam::new(10.0 + 0.1 * k as f64, 9.0, 3.0 * k as f64, 4.0).unwrap()).collect();
        real.channel_beams = Some(beams.clone());
        let coarse = GaussianBeam::circular(25.0, 4.0).unwrap();
        let (data, beam) = convolve_to_beam(&real, Some(coarse)).unwrap();
        assert_eq!(beam, Some(coarse));
        let pixel_area = real.cube.grid.pixel_area_arcsec2();
        for k in [5, 30, 55] {
            let before = real.cube.data.index_axis(Axis(0), k).sum() * pixel_area / beams[k].area_arcsec2();
            let after = data.index_axis(Axis(0), k).sum() * pixel_area / coarse.area_arcsec2();
            assert!((after / before - 1.0).abs() < 0.01, "channel {k}: {before} -> {after}");
        }
    }

    #[test]
    fn rebinning_channels_conserves_the_flux_and_the_first_moment() {
        let dir = tempfile::tempdir().unwrap();
        let beam = GaussianBeam::circular(12.0, 4.0).unwrap();
        let real = blob(dir.path(), beam, 12.0, (0.0, 0.0));
        // The line sits at +13 km/s of the written systemic velocity.
        let systemic = systemic_velocity_kms(&real).unwrap();
        assert!((systemic - (VSYS_KMS + 13.0)).abs() < 0.05, "{systemic}");
        // 24 channels of 5 km/s over the data's 60 of 2 km/s: the same band.
        let matched = match_recipe(&real, &target(None, 5.0, 24, 4.0, 72)).unwrap();
        assert_eq!(matched.cube.spectral.width_kms, 5.0);
        let (before, after) = (real.total_flux_jy_kms(), matched.cube.total_flux_jy_kms());
        assert!((after / before - 1.0).abs() < 1e-9, "{before} -> {after}");
        // The rebinned profile's first moment stays at +13 km/s.
        let profile: Vec<f64> = matched.cube.data.axis_iter(Axis(0)).map(|p| p.sum()).collect();
        let centres = matched.cube.spectral.centres_kms();
        let mean = profile.iter().zip(&centres).map(|(s, v)| s * v).sum::<f64>() / profile.iter().sum::<f64>();
        assert!((mean - 13.0).abs() < 0.05, "{mean}");
        // Channels cannot be split.
        let err = match_recipe(&real, &target(None, 1.0, 30, 4.0, 72)).unwrap_err();
        assert!(err.to_string().contains("cannot be split"), "{err}");
    }

    #[test]
    fn regridding_conserves_the_flux_of_a_smooth_source() {
        let dir = tempfile::tempdir().unwrap();
        let beam = GaussianBeam::circular(12.0, 4.0).unwrap();
        let real = blob(dir.path(), beam, 15.0, (0.0, 0.0));
        let before = real.total_flux_jy_kms();
        for (pixel, npix) in [(6.5, 48), (2.5, 120), (4.0, 72)] {
            let matched = match_recipe(&real, &target(None, 2.0, 60, pixel, npix)).unwrap();
            let after = matched.cube.total_flux_jy_kms();
            assert!((after / before - 1.0).abs() < 0.01, "{pixel}'': {before} -> {after}");
        }
        // The same pixels and centre give the same cube.
        let same = match_recipe(&real, &target(None, 2.0, 60, 4.0, 72)).unwrap();
        let err = (&same.cube.data - &real.cube.data).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-9, "{err}");
        // Pixels in kpc at a distance.
        let kpc = PixelScale::Kpc { pixel_kpc: 0.5, distance_mpc: 10.0 }.pixel_arcsec().unwrap();
        assert!((kpc / (0.5 / (10.0 * 1e3 / 206_264.806)) - 1.0).abs() < 1e-8, "{kpc}");
    }

    #[test]
    fn the_field_recentres_on_a_given_pixel_and_pads_outside_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let beam = GaussianBeam::circular(12.0, 4.0).unwrap();
        // A blob 40'' east (-x) and 20'' north of the field centre: pixel (35.5 - 10, 35.5 + 5).
        let real = blob(dir.path(), beam, 10.0, (-40.0, 20.0));
        let mut recipe = target(None, 2.0, 80, 4.0, 100);
        recipe.centre = FieldCentre::Pixel { x: 25.5, y: 40.5 };
        recipe.outside = OutsideData::Zero;
        let matched = match_recipe(&real, &recipe).unwrap();
        let mom0 = matched.cube.integrated();
        let peak =
            mom0.indexed_iter().fold(((0, 0), f64::MIN), |best, (ij, &v)| if v > best.1 { (ij, v) } else { best });
        let ((row, column), _) = peak;
        assert!((49..=50).contains(&row) && (49..=50).contains(&column), "{peak:?}");
        // Channels beyond the band (80 x 2 km/s over a 120 km/s band) and pixels beyond the field are zero.
        assert_eq!(matched.cube.data[[0, 50, 50]], 0.0);
        assert_eq!(matched.cube.data[[40, 99, 99]], 0.0);
        recipe.outside = OutsideData::Nan;
        let matched = match_recipe(&real, &recipe).unwrap();
        assert!(matched.cube.data[[0, 50, 50]].is_nan() && matched.cube.data[[40, 99, 99]].is_nan());
        assert!(matched.cube.data[[40, 50, 50]].is_finite());
    }

    #[test]
    fn nan_voxels_stay_nan_and_do_not_spread() {
        let dir = tempfile::tempdir().unwrap();
        let beam = GaussianBeam::circular(12.0, 4.0).unwrap();
        let mut real = blob(dir.path(), beam, 12.0, (0.0, 0.0));
        real.cube.data[[30, 36, 36]] = f64::NAN;
        let (data, _) = convolve_to_beam(&real, Some(GaussianBeam::circular(20.0, 4.0).unwrap())).unwrap();
        assert!(data[[30, 36, 36]].is_nan());
        assert_eq!(data.iter().filter(|v| v.is_nan()).count(), 1);
    }

    #[test]
    fn a_finer_target_beam_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let real = blob(dir.path(), GaussianBeam::new(20.0, 15.0, 0.0, 4.0).unwrap(), 12.0, (0.0, 0.0));
        let fine = GaussianBeam::circular(18.0, 4.0).unwrap();
        let err = match_recipe(&real, &target(Some(fine), 2.0, 60, 4.0, 72)).unwrap_err();
        assert!(err.to_string().contains("cannot be sharpened"), "{err}");
        let mut no_beam = real.clone();
        no_beam.cube.beam = None;
        assert!(convolve_to_beam(&no_beam, Some(fine)).is_err());
        assert!(match_recipe(&real, &target(None, 2.0, 0, 4.0, 72)).is_err());
        assert!(match_recipe(&real, &target(None, 2.0, 60, -1.0, 72)).is_err());
    }

    #[test]
    fn ngc_2903_comes_to_a_recipe() {
        let Some(path) = galmass_core::fixtures::fixture("fits/NGC_2903.fits") else { return };
        let real = read_cube(&path).unwrap();
        let recipe = RecipeTarget {
            beam: Some(GaussianBeam::circular(75.0, 3.0).unwrap()),
            channel_width_kms: 10.0,
            n_channels: 40,
            centre_kms: 0.0,
            systemic: SystemicVelocity::FluxWeightedMean,
            pixel_scale: PixelScale::Arcsec(25.0),
            npix: 48,
            centre: FieldCentre::ReferencePixel,
            outside: OutsideData::Zero,
        };
        let matched = match_recipe(&real, &recipe).unwrap();
        // NGC 2903's systemic velocity is about 556 km/s (heliocentric).
        assert!((matched.systemic_velocity_kms - 556.0).abs() < 10.0, "{}", matched.systemic_velocity_kms);
        assert_eq!(matched.cube.data.dim(), (40, 48, 48));
        assert!(matched.cube.data.iter().all(|v| v.is_finite()));
        let (before, after) = (real.total_flux_jy_kms(), matched.cube.total_flux_jy_kms());
        // 253.6 Jy km/s in the whole cube, 248.2 in the recipe's band and field (the rest is noise and edges).
        assert!((after / before - 1.0).abs() < 0.05, "{before} -> {after}");
    }
}
