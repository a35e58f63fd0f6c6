//! The `hi/` group of the products file: an HI data cube, its moment maps and the gas scalars of one projection
//! (a mock observation of a galaxy's gas, or a real cube read from FITS).
//!
//! # Layout (products version 1)
//!
//! Group `hi/`, attributes:
//! - `source` (`"galaxy"`: a mock of the galaxy's gas; `"fits"`: a real cube), `input` (the galaxy or FITS path),
//!   `preset` (a paper preset, `custom` or `fits`), `params` (the resolved `HiParams` as JSON; `""` for a real cube);
//! - the grid: `npix_x`, `npix_y` (u64), `pixel_arcsec`, `pixel_kpc` (NaN without a distance), `distance_mpc` (NaN
//!   when unknown), `channels` (u64), `channel_kms`, `first_channel_kms` (centre of channel 0; relative to the
//!   systemic velocity for a mock, as in the file for a real cube), `beam_bmaj_arcsec`, `beam_bmin_arcsec`,
//!   `beam_bpa_deg` (0 without a beam), `unit` (of the cube);
//! - the observation: `seed`, `n_particles` (emitting gas particles; 0 for a real cube), `hi_mass_msun` (of the
//!   particles; NaN for a real cube), `noise_rms` (in the cube's unit), `clip` (voxel threshold of the velocity
//!   moments, cube unit), `mask` (the `MomentMask` as JSON);
//! - the gas scalars of exposito2026 when measured: `r_hi_kpc`, `v_cold_kms`, `sigma_cold_kms`, and the flags
//!   `sigma_cold_includes_thermal`, `r_hi_reaches_edge` (u8).
//!
//! Datasets, each with `unit`, `axes` and the pixel-centre offsets `x_arcsec`, `y_arcsec` from the field centre:
//! - `cube` (channel, y, x) float32, also `velocity_kms` (channel centres);
//! - `mom0` (y, x) float64 in `<cube unit> km/s`, `mom1` and `mom2` (y, x) float64 in km/s, NaN where masked;
//! - `mask` (y, x) uint8, 1 where the pixel passed the mask.

use std::path::Path;

use galmass_mock::hi::beam::GaussianBeam;
use galmass_mock::hi::cube::{CubeUnit, DataCube, SkyGrid, SpectralAxis};
use galmass_mock::hi::moments::{MomentMask, Moments};
use galmass_mock::hi::params::HiParams;
use galmass_mock::hi::scalars::GasScalars;
use ndarray::{Array2, Array3};

use super::{h5err, missing, read_scalar, read_str, write_array, write_scalar, write_str, Result};
use crate::PipelineError;

/// An HI cube, its moments and scalars, as the products file holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct HiProduct {
    /// `galaxy` (a mock) or `fits` (a real cube).
    pub source: String,
    /// The galaxy file or FITS cube it was made from.
    pub input: String,
    /// A paper preset, `custom`, or `fits`.
    pub preset: String,
    /// The mock's parameters (`None` for a real cube).
    pub params: Option<HiParams>,
    /// Distance in Mpc (`None` when unknown).
    pub distance_mpc: Option<f64>,
    /// Seed of the noise.
    pub seed: u64,
    /// Emitting gas particles.
    pub n_particles: u64,
    /// HI mass of the particles, Msun (NaN for a real cube).
    pub hi_mass_msun: f64,
    /// Noise rms in the cube's unit.
    pub noise_rms: f64,
    /// Voxel threshold of the velocity moments, cube unit.
    pub clip: f64,
    /// The moment mask.
    pub mask: MomentMask,
    /// The gas scalars, when measured.
    pub scalars: Option<GasScalars>,
    /// The cube.
    pub cube: DataCube,
    /// Its moments.
    pub moments: Moments,
}

impl HiProduct {
    /// kpc per pixel at the distance (NaN without one).
    pub fn pixel_kpc(&self) -> f64 {
        self.distance_mpc.map_or(f64::NAN, |d| {
            (self.cube.grid.pixel_arcsec / galmass_mock::hi::cube::ARCSEC_PER_RAD).tan() * d * 1e3
        })
    }
}

fn json<T: serde::Serialize>(value: &T, what: &str) -> Result<String> {
    serde_json::to_string(value).map_err(|e| PipelineError::invalid(what, e.to_string()))
}

/// Writes `product` as group `hi/` of `file`.
pub(super) fn write_hi(path: &Path, file: &hdf5::File, product: &HiProduct) -> Result<()> {
    let group = file.create_group("hi").map_err(h5err(path, "creating group hi"))?;
    let g: &hdf5::Location = &group;
    let cube = &product.cube;
    let (grid, spectral) = (cube.grid, cube.spectral);
    write_str(path, g, "source", &product.source)?;
    write_str(path, g, "input", &product.input)?;
    write_str(path, g, "preset", &product.preset)?;
    let params = match &product.params {
        Some(p) => json(p, "HI parameters")?,
        None => String::new(),
    };
    write_str(path, g, "params", &params)?;
    write_scalar(path, g, "npix_x", grid.nx as u64)?;
    write_scalar(path, g, "npix_y", grid.ny as u64)?;
    write_scalar(path, g, "pixel_arcsec", grid.pixel_arcsec)?;
    write_scalar(path, g, "pixel_kpc", product.pixel_kpc())?;
    write_scalar(path, g, "distance_mpc", product.distance_mpc.unwrap_or(f64::NAN))?;
    write_scalar(path, g, "channels", spectral.n as u64)?;
    write_scalar(path, g, "channel_kms", spectral.width_kms)?;
    write_scalar(path, g, "first_channel_kms", spectral.channel_centre_kms(0))?;
    let (bmaj, bmin, bpa) = cube.beam.map_or((0.0, 0.0, 0.0), |b| (b.bmaj_arcsec, b.bmin_arcsec, b.bpa_deg));
    write_scalar(path, g, "beam_bmaj_arcsec", bmaj)?;
    write_scalar(path, g, "beam_bmin_arcsec", bmin)?;
    write_scalar(path, g, "beam_bpa_deg", bpa)?;
    write_scalar(path, g, "beam_truncate_fwhm", cube.beam.map_or(0.0, |b| b.truncate_fwhm))?;
    write_str(path, g, "unit", cube.unit.as_str())?;
    write_scalar(path, g, "seed", product.seed)?;
    write_scalar(path, g, "n_particles", product.n_particles)?;
    write_scalar(path, g, "hi_mass_msun", product.hi_mass_msun)?;
    write_scalar(path, g, "noise_rms", product.noise_rms)?;
    write_scalar(path, g, "clip", product.clip)?;
    write_str(path, g, "mask", &json(&product.mask, "moment mask")?)?;
    if let Some(s) = &product.scalars {
        write_scalar(path, g, "r_hi_kpc", s.r_hi_kpc)?;
        write_scalar(path, g, "v_cold_kms", s.v_cold_kms)?;
        write_scalar(path, g, "sigma_cold_kms", s.sigma_cold_kms)?;
        write_scalar(path, g, "sigma_cold_includes_thermal", u8::from(s.includes_thermal))?;
        write_scalar(path, g, "r_hi_reaches_edge", u8::from(s.reaches_edge))?;
    }
    let xs: Vec<f64> = (0..grid.nx).map(|i| grid.x_centre_arcsec(i)).collect();
    let ys: Vec<f64> = (0..grid.ny).map(|j| grid.y_centre_arcsec(j)).collect();
    let coords = |loc: &hdf5::Location, unit: &str, axes: &str| -> Result<()> {
        write_str(path, loc, "unit", unit)?;
        write_str(path, loc, "axes", axes)?;
        write_array(path, loc, "x_arcsec", &xs)?;
        write_array(path, loc, "y_arcsec", &ys)?;
        write_scalar(path, loc, "pixel_arcsec", grid.pixel_arcsec)
    };
    let data32 = cube.data.mapv(|v| v as f32);
    let ds = group
        .new_dataset_builder()
        .chunk((1, grid.ny, grid.nx))
        .deflate(4)
        .with_data(&data32)
        .create("cube")
        .map_err(h5err(path, "writing dataset hi/cube"))?;
    coords(&ds, cube.unit.as_str(), "channel, y, x")?;
    write_array(path, &ds, "velocity_kms", &spectral.centres_kms())?;
    let m = &product.moments;
    for (name, data, unit) in
        [("mom0", &m.mom0, m.mom0_unit.as_str()), ("mom1", &m.mom1, "km/s"), ("mom2", &m.mom2, "km/s")]
    {
        let ds = group
            .new_dataset_builder()
            .with_data(data)
            .create(name)
            .map_err(h5err(path, format!("writing dataset hi/{name}")))?;
        coords(&ds, unit, "y, x")?;
    }
    let mask = m.mask.mapv(u8::from);
    let ds =
        group.new_dataset_builder().with_data(&mask).create("mask").map_err(h5err(path, "writing dataset hi/mask"))?;
    coords(&ds, "1 where the pixel passed the mask", "y, x")?;
    Ok(())
}

fn optional_scalar(group: &hdf5::Group, name: &str) -> Option<f64> {
    group.attr(name).ok().and_then(|a| a.read_scalar::<f64>().ok())
}

fn flag(group: &hdf5::Group, name: &str) -> bool {
    group.attr(name).ok().and_then(|a| a.read_scalar::<u8>().ok()).is_some_and(|v| v != 0)
}

fn bad(path: &Path, field: &str, reason: impl Into<String>) -> PipelineError {
    PipelineError::BadFile { path: path.to_owned(), field: field.into(), reason: reason.into() }
}

/// Reads group `hi/` of `file` (`None` when absent).
pub(super) fn read_hi(path: &Path, file: &hdf5::File) -> Result<Option<HiProduct>> {
    let Ok(group) = file.group("hi") else { return Ok(None) };
    let g: &hdf5::Location = &group;
    let w = "hi/";
    let params_json = read_str(path, g, w, "params")?;
    let params = if params_json.is_empty() {
        None
    } else {
        Some(serde_json::from_str::<HiParams>(&params_json).map_err(|e| bad(path, "hi/params", e.to_string()))?)
    };
    let mask: MomentMask = serde_json::from_str(&read_str(path, g, w, "mask")?)
        .map_err(|e| bad(path, "hi/mask", format!("not a moment mask: {e}")))?;
    let nx = read_scalar::<u64>(path, g, w, "npix_x")? as usize;
    let ny = read_scalar::<u64>(path, g, w, "npix_y")? as usize;
    let n = read_scalar::<u64>(path, g, w, "channels")? as usize;
    let grid = SkyGrid::new(nx, ny, read_scalar(path, g, w, "pixel_arcsec")?)
        .map_err(|e| bad(path, "hi/pixel_arcsec", e.to_string()))?;
    let width: f64 = read_scalar(path, g, w, "channel_kms")?;
    let first: f64 = read_scalar(path, g, w, "first_channel_kms")?;
    let spectral = SpectralAxis::new(n, width, first + 0.5 * (n as f64 - 1.0) * width)
        .map_err(|e| bad(path, "hi/channels", e.to_string()))?;
    let bmaj: f64 = read_scalar(path, g, w, "beam_bmaj_arcsec")?;
    let beam = if bmaj > 0.0 {
        Some(
            GaussianBeam::new(
                bmaj,
                read_scalar(path, g, w, "beam_bmin_arcsec")?,
                read_scalar(path, g, w, "beam_bpa_deg")?,
                read_scalar(path, g, w, "beam_truncate_fwhm")?,
            )
            .map_err(|e| bad(path, "hi/beam_bmaj_arcsec", e.to_string()))?,
        )
    } else {
        None
    };
    let unit = match read_str(path, g, w, "unit")?.as_str() {
        "Jy/beam" => CubeUnit::JyPerBeam,
        "Jy/arcsec2" => CubeUnit::JyPerArcsec2,
        other => return Err(bad(path, "hi/unit", format!("expected Jy/beam or Jy/arcsec2, got {other:?}"))),
    };
    let data: Array3<f32> = group
        .dataset("cube")
        .map_err(|_| missing(path, w, "cube"))?
        .read::<f32, ndarray::Ix3>()
        .map_err(|e| bad(path, "hi/cube", format!("expected a (channel, y, x) float array: {e}")))?;
    let cube = DataCube::from_parts(data.mapv(f64::from), grid, spectral, beam, unit)
        .map_err(|e| bad(path, "hi/cube", e.to_string()))?;
    let map = |name: &str| -> Result<Array2<f64>> {
        let m = group
            .dataset(name)
            .map_err(|_| missing(path, w, name))?
            .read_2d::<f64>()
            .map_err(h5err(path, format!("reading dataset hi/{name}")))?;
        if m.dim() != (ny, nx) {
            return Err(bad(path, &format!("hi/{name}"), format!("expected {ny} x {nx}, got {:?}", m.dim())));
        }
        Ok(m)
    };
    let mom0_ds = group.dataset("mom0").map_err(|_| missing(path, w, "mom0"))?;
    let mom0_unit = read_str(path, &mom0_ds, "hi/mom0/", "unit")?;
    let mask_map: Array2<u8> = group
        .dataset("mask")
        .map_err(|_| missing(path, w, "mask"))?
        .read_2d()
        .map_err(h5err(path, "reading dataset hi/mask"))?;
    let moments = Moments {
        mom0: map("mom0")?,
        mom1: map("mom1")?,
        mom2: map("mom2")?,
        mask: mask_map.mapv(|v| v != 0),
        mom0_unit,
    };
    let distance = read_scalar::<f64>(path, g, w, "distance_mpc")?;
    let scalars = match (optional_scalar(&group, "r_hi_kpc"), optional_scalar(&group, "v_cold_kms")) {
        (Some(r_hi_kpc), Some(v_cold_kms)) => Some(GasScalars {
            r_hi_kpc,
            v_cold_kms,
            sigma_cold_kms: optional_scalar(&group, "sigma_cold_kms").unwrap_or(f64::NAN),
            includes_thermal: flag(&group, "sigma_cold_includes_thermal"),
            reaches_edge: flag(&group, "r_hi_reaches_edge"),
        }),
        _ => None,
    };
    Ok(Some(HiProduct {
        source: read_str(path, g, w, "source")?,
        input: read_str(path, g, w, "input")?,
        preset: read_str(path, g, w, "preset")?,
        params,
        distance_mpc: distance.is_finite().then_some(distance),
        seed: read_scalar(path, g, w, "seed")?,
        n_particles: read_scalar(path, g, w, "n_particles")?,
        hi_mass_msun: read_scalar(path, g, w, "hi_mass_msun")?,
        noise_rms: read_scalar(path, g, w, "noise_rms")?,
        clip: read_scalar(path, g, w, "clip")?,
        mask,
        scalars,
        cube,
        moments,
    }))
}
