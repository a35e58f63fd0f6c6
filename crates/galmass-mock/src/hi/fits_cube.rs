//! HI cubes and moment maps to and from FITS (CFITSIO through `fitsio`), with the conventions real surveys write.
//!
//! **Out.** [`write_cube`] writes a [`DataCube`] as a 3-axis FITS cube (float32 or float64, [`FitsPrecision`])
//! with a full world coordinate system that astropy's `WCS` and DS9 read: `RA---SIN` / `DEC--SIN` about the field
//! centre ([`CubeHeader::centre`]; `CRPIXn = (n + 1) / 2`, the centre of the field in FITS pixels, so 0-based pixel
//! `i` sits `i + 0.5 - n / 2` pixels from it as in [`crate::hi::cube::SkyGrid`]), `CDELT1 = -p / 3600` and
//! `CDELT2 = +p / 3600` degrees (east to the left), and a velocity axis (`VRAD`, `VOPT` or `VELO` by
//! [`CubeHeader::convention`]) in m/s whose reference pixel is channel 0 (`CRPIX3 = 1`,
//! `CRVAL3 = v_sys + v_0`: the cube's velocities are relative to the systemic velocity, which the writer adds
//! back), with `SPECSYS`, `RESTFRQ` (the HI line), `BUNIT`, the beam (`BMAJ`/`BMIN` in degrees, `BPA`, and the
//! kernel's cut in the galmass key `BTRUNC`), `EQUINOX`/`RADESYS`, `OBJECT`, `ORIGIN` and `VSYS` (km/s).
//! [`write_sky_maps`] writes 2-d maps (moments 0, 1, 2: [`SkyMap::moment0`] etc.) with the same celestial WCS into
//! one file, the first map in the primary HDU and the others in image extensions, each named by `EXTNAME`
//! (`MOM0`, `MOM1`, `MOM2`); NaN pixels stay NaN. Writes are atomic (`galmass_core::atomic`).
//!
//! **In.** [`read_cube`] reads a real cube into a [`RealCube`]:
//! - axes 1 and 2 are RA and Dec (any projection: `NCP`, `SIN`, ...; recorded in [`CelestialWcs`]); pixels must be
//!   square (`|CDELT1| = |CDELT2|` to 1e-5, or `CDi_i` without rotation) and unrotated, else a typed error. The
//!   arrays are flipped, when needed, to east = -x and north = +y (the orientation the beam code assumes); the
//!   recorded WCS describes the flipped arrays.
//! - the spectral axis is axis 3 or 4; a degenerate `STOKES` axis (length 1) may sit in either place, a longer one
//!   is refused. Spectral types: `VRAD` (radio), `VOPT` (optical), `VOPT-F2W` and AIPS `FELO-xxx` (optical velocity
//!   on an axis linear in frequency, THINGS), AIPS `VELO-xxx` (`-HEL`, `-LSR`, `-OBS`: optical unless
//!   `VELREF >= 256`, radio, as WCSLIB reads them), plain `VELO` (relativistic, FITS paper III), and `FREQ` with
//!   `RESTFRQ` or `RESTFREQ` (WALLABY), converted with the radio convention `v = c (1 - f / f0)` unless
//!   [`CubeReadOptions::frequency_convention`] says otherwise. `CUNITn` may be absent (m/s or Hz, the FITS default),
//!   `m/s`, `km/s`, `Hz`, `kHz`, `MHz`, `GHz`. The frame is `SPECSYS`, else AIPS's `VELREF` or the type's suffix.
//! - every channel's velocity is computed exactly ([`RealCube::channel_velocities_kms`], its edges in
//!   [`RealCube::channel_edges_kms`], absolute in the file's frame); when the file's velocity decreases with the
//!   channel index (a `FREQ` axis with `CDELT > 0`, or `CDELT3 < 0`), the channels are reversed so that velocity
//!   grows with the index ([`SpectralWcs::flipped`]). The cube's regular [`crate::hi::cube::SpectralAxis`] spans the
//!   same band (first to last edge, `n` equal channels, centre velocity absolute: systemic velocity 0); where the
//!   exact velocities are not uniform (an optical velocity on an axis linear in frequency), the data is not
//!   resampled: the offset of the exact centres from the regular ones is recorded in channels
//!   ([`SpectralWcs::max_offset_channels`], about 1e-3 across a few hundred km/s) and the recipe
//!   ([`crate::hi::recipe`]) rebins from the exact edges.
//! - beams: `BMAJ`/`BMIN`/`BPA` in degrees, or one per channel (`BMAJn`/`BMINn`/`BPAn`, `n` the file's 1-based
//!   channel, as MeerKAT writes them); a cube without a beam reads, and fails only where a beam is needed (`Jy/beam`
//!   or `K`). `bmin > bmaj` is swapped (position angle + 90 degrees).
//! - `BUNIT`: `Jy/beam` in any case or spelling (`JY/BEAM`, `Jy beam-1`, `mJy/beam`), `Jy/arcsec2`, or `K`
//!   (brightness temperature, converted per channel to Jy/beam with its beam and frequency:
//!   `S = T bmaj bmin [arcsec^2] nu^2 [GHz] / 1.222e6`); anything else is refused naming the file and the key.
//! - NaN voxels stay NaN. Errors are typed and name the file and the key; a truncated or corrupt file is an error.
//!
//! ```no_run
//! use galmass_mock::hi::fits_cube::{read_cube, write_cube, CubeHeader, SkyPosition};
//! let real = read_cube("NGC_2903.fits".as_ref())?;
//! println!("{} channels of {:.2} km/s", real.cube.spectral.n, real.cube.spectral.width_kms);
//! let header = CubeHeader::new("NGC 2903", SkyPosition { ra_deg: 143.04, dec_deg: 21.50 }, 0.0);
//! write_cube("copy.fits".as_ref(), &real.cube, &header)?;
//! # Ok::<(), galmass_mock::MockError>(())
//! ```

use std::path::{Path, PathBuf};

use fitsio::hdu::{FitsHdu, HduInfo};
use fitsio::images::{ImageDescription, ImageType};
use fitsio::FitsFile;
use ndarray::{Array3, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::beam::GaussianBeam;
use crate::hi::cube::{CubeUnit, DataCube, SkyGrid, SpectralAxis};

/// The speed of light in km/s (the core's constant, re-exported for the velocity conventions here).
pub use galmass_core::units::SPEED_OF_LIGHT_KMS;

/// The rest frequency of the HI 21-cm line in Hz (`RESTFRQ` of written cubes).
pub const HI_REST_FREQUENCY_HZ: f64 = 1.420_405_751_768e9;

/// The cut, in FWHMs, of the kernel of a beam read from a file without the galmass key `BTRUNC` (delosrios2023's
/// 3 FWHM). It only matters if that beam's own kernel is built; a matching kernel takes the target's cut.
pub const READ_BEAM_TRUNCATE_FWHM: f64 = 3.0;

/// Relative tolerance on `|CDELT1| = |CDELT2|`.
pub const SQUARE_PIXEL_TOLERANCE: f64 = 1e-5;

/// The Rayleigh-Jeans conversion `S [Jy/beam] = T [K] bmaj bmin [arcsec^2] nu^2 [GHz] / 1.222e6`.
pub const KELVIN_ARCSEC2_GHZ2_PER_JY: f64 = 1.222e6;

/// CFITSIO's status for an absent keyword.
const KEY_NO_EXIST: i32 = 202;

/// How a velocity relates to a frequency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VelocityConvention {
    /// `v = c (1 - f / f0)` (`VRAD`).
    Radio,
    /// `v = c (f0 / f - 1)` (`VOPT`, `FELO`).
    Optical,
    /// `v = c (f0^2 - f^2) / (f0^2 + f^2)` (`VELO`, the apparent radial velocity of FITS paper III).
    Relativistic,
}

impl VelocityConvention {
    /// The frequency in Hz of `velocity_kms` for a line at `rest_hz`.
    pub fn frequency_hz(self, velocity_kms: f64, rest_hz: f64) -> f64 {
        let beta = velocity_kms / SPEED_OF_LIGHT_KMS;
        match self {
            VelocityConvention::Radio => rest_hz * (1.0 - beta),
            VelocityConvention::Optical => rest_hz / (1.0 + beta),
            VelocityConvention::Relativistic => rest_hz * ((1.0 - beta) / (1.0 + beta)).sqrt(),
        }
    }

    /// The velocity in km/s of `frequency_hz` for a line at `rest_hz`.
    pub fn velocity_kms(self, frequency_hz: f64, rest_hz: f64) -> f64 {
        let ratio = frequency_hz / rest_hz;
        match self {
            VelocityConvention::Radio => SPEED_OF_LIGHT_KMS * (1.0 - ratio),
            VelocityConvention::Optical => SPEED_OF_LIGHT_KMS * (1.0 / ratio - 1.0),
            VelocityConvention::Relativistic => SPEED_OF_LIGHT_KMS * (1.0 - ratio * ratio) / (1.0 + ratio * ratio),
        }
    }

    /// The FITS spectral type of a velocity axis linear in this velocity (`VRAD`, `VOPT`, `VELO`).
    pub fn ctype(self) -> &'static str {
        match self {
            VelocityConvention::Radio => "VRAD",
            VelocityConvention::Optical => "VOPT",
            VelocityConvention::Relativistic => "VELO",
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------------

/// A position on the sky (equatorial, degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SkyPosition {
    /// Right ascension in degrees, `[0, 360)`.
    pub ra_deg: f64,
    /// Declination in degrees, `[-90, 90]`.
    pub dec_deg: f64,
}

/// The sample type of written pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FitsPrecision {
    /// IEEE float32 (`BITPIX = -32`), as surveys write cubes: half the size, 7 significant digits.
    Float32,
    /// IEEE float64 (`BITPIX = -64`): the values bit for bit.
    Float64,
}

/// What a written cube or map says beyond its grids: where it is on the sky and at which systemic velocity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CubeHeader {
    /// `OBJECT` (printable ASCII, at most 68 characters).
    pub object: String,
    /// The field centre (`CRVAL1`, `CRVAL2`).
    pub centre: SkyPosition,
    /// The systemic velocity in km/s, added to the cube's relative velocities (`CRVAL3`) and written as `VSYS`.
    pub systemic_velocity_kms: f64,
    /// The velocity convention of the spectral axis (its `CTYPE3`).
    pub convention: VelocityConvention,
    /// `SPECSYS`, the frame of the velocities (`BARYCENT`, `LSRK`, ...).
    pub specsys: String,
    /// The sample type.
    pub precision: FitsPrecision,
}

impl CubeHeader {
    /// A header for `object` at `centre` and `systemic_velocity_kms`: radio velocities (`VRAD`), barycentric,
    /// float32 pixels.
    pub fn new(object: impl Into<String>, centre: SkyPosition, systemic_velocity_kms: f64) -> Self {
        Self {
            object: object.into(),
            centre,
            systemic_velocity_kms,
            convention: VelocityConvention::Radio,
            specsys: "BARYCENT".into(),
            precision: FitsPrecision::Float32,
        }
    }

    /// Checks the numbers and the strings.
    pub fn check(&self) -> Result<(), MockError> {
        let SkyPosition { ra_deg, dec_deg } = self.centre;
        if !(ra_deg.is_finite() && (0.0..360.0).contains(&ra_deg)) {
            return Err(MockError::invalid("ra_deg", format!("must be in [0, 360) degrees, got {ra_deg}")));
        }
        if !(dec_deg.is_finite() && (-90.0..=90.0).contains(&dec_deg)) {
            return Err(MockError::invalid("dec_deg", format!("must be in [-90, 90] degrees, got {dec_deg}")));
        }
        if !self.systemic_velocity_kms.is_finite() {
            return Err(MockError::invalid(
                "systemic_velocity_kms",
                format!("must be finite, got {}", self.systemic_velocity_kms),
            ));
        }
        for (name, text) in [("object", &self.object), ("specsys", &self.specsys)] {
            if text.len() > 68 || !text.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
                return Err(MockError::invalid(
                    name,
                    format!("must be printable ASCII of at most 68 characters, got {text:?}"),
                ));
            }
        }
        Ok(())
    }
}

/// One 2-d map to write, `(y, x)` on the cube's sky grid.
#[derive(Debug, Clone)]
pub struct SkyMap<'a> {
    /// `EXTNAME` (`MOM0`, ...).
    pub name: String,
    /// Pixel values, `(y, x)`; NaN allowed.
    pub data: ArrayView2<'a, f64>,
    /// `BUNIT`.
    pub unit: String,
}

impl<'a> SkyMap<'a> {
    /// Moment 0 of a cube in `cube_unit` (`BUNIT` `Jy/beam km/s` or `Jy/arcsec2 km/s`), named `MOM0`.
    pub fn moment0(data: ArrayView2<'a, f64>, cube_unit: CubeUnit) -> Self {
        Self { name: "MOM0".into(), data, unit: format!("{} km/s", cube_unit.as_str()) }
    }

    /// Moment 1 in km/s, named `MOM1`.
    pub fn moment1(data: ArrayView2<'a, f64>) -> Self {
        Self { name: "MOM1".into(), data, unit: "km/s".into() }
    }

    /// Moment 2 in km/s, named `MOM2`.
    pub fn moment2(data: ArrayView2<'a, f64>) -> Self {
        Self { name: "MOM2".into(), data, unit: "km/s".into() }
    }
}

pub(crate) fn fits_err(path: &Path, context: &str, source: fitsio::errors::Error) -> MockError {
    MockError::Fits { path: path.to_owned(), context: context.to_owned(), source }
}

/// Writes `cube` as a FITS cube at `path` (atomically), with the WCS of the module docs.
pub fn write_cube(path: &Path, cube: &DataCube, header: &CubeHeader) -> Result<(), MockError> {
    header.check()?;
    let (n, ny, nx) = cube.data.dim();
    if (n, ny, nx) != (cube.spectral.n, cube.grid.ny, cube.grid.nx) {
        return Err(MockError::BadInput {
            name: "cube",
            expected: format!("{} channels x {} x {} pixels", cube.spectral.n, cube.grid.ny, cube.grid.nx),
            got: format!("{:?}", cube.data.dim()),
        });
    }
    galmass_core::atomic::write_atomic_with(path, |tmp| write_cube_to(tmp, path, cube, header), MockError::from)
}

fn image_type(precision: FitsPrecision) -> ImageType {
    match precision {
        FitsPrecision::Float32 => ImageType::Float,
        FitsPrecision::Float64 => ImageType::Double,
    }
}

/// Writes the pixels (row-major, FITS axis 1 fastest) in the header's precision.
pub(crate) fn write_pixels<'v>(
    path: &Path,
    file: &mut FitsFile,
    hdu: &FitsHdu,
    values: impl Iterator<Item = &'v f64>,
    precision: FitsPrecision,
) -> Result<(), MockError> {
    let result = match precision {
        FitsPrecision::Float32 => hdu.write_image(file, &values.map(|&v| v as f32).collect::<Vec<f32>>()),
        FitsPrecision::Float64 => hdu.write_image(file, &values.copied().collect::<Vec<f64>>()),
    };
    result.map_err(|e| fits_err(path, "writing the pixels", e))
}

/// Creates `tmp` with a primary image of `dims` (numpy order). `fitsio`'s `with_custom_primary` would write
/// `EXTNAME = '_PRIMARY'` into it (and has no call to change a written key), so the file starts with an empty
/// primary that is resized to the image, in the requested sample type.
pub(crate) fn create_with_primary(
    tmp: &Path,
    path: &Path,
    dims: &[usize],
    precision: FitsPrecision,
) -> Result<(FitsFile, FitsHdu), MockError> {
    let mut file = FitsFile::create(tmp).overwrite().open().map_err(|e| fits_err(path, "creating", e))?;
    let mut hdu = file.primary_hdu().map_err(|e| fits_err(path, "opening the primary HDU", e))?;
    hdu.info = HduInfo::ImageInfo { shape: Vec::new(), image_type: image_type(precision) };
    let hdu = hdu.resize(&mut file, dims).map_err(|e| fits_err(path, "sizing the primary HDU", e))?;
    Ok((file, hdu))
}

fn write_cube_to(tmp: &Path, path: &Path, cube: &DataCube, header: &CubeHeader) -> Result<(), MockError> {
    let dims = [cube.spectral.n, cube.grid.ny, cube.grid.nx];
    let (mut file, hdu) = create_with_primary(tmp, path, &dims, header.precision)?;
    write_pixels(path, &mut file, &hdu, cube.data.iter(), header.precision)?;
    let mut cards = CardWriter { path, file: &mut file, hdu: &hdu };
    cards.celestial(&cube.grid, header.centre)?;
    cards.spectral(&cube.spectral, header)?;
    cards.common(header, cube.unit.as_str(), cube.beam.as_ref())
}

/// Writes `maps` (at least one, each `(grid.ny, grid.nx)`) into one FITS file at `path`, atomically: the first in
/// the primary HDU, the others in image extensions, each with `EXTNAME`, `BUNIT` and the celestial WCS of
/// [`write_cube`]; `beam` (the cube's) is written into each.
pub fn write_sky_maps(
    path: &Path,
    maps: &[SkyMap<'_>],
    grid: &SkyGrid,
    beam: Option<&GaussianBeam>,
    header: &CubeHeader,
) -> Result<(), MockError> {
    header.check()?;
    if maps.is_empty() {
        return Err(MockError::BadInput { name: "maps", expected: "at least one map".into(), got: "none".into() });
    }
    for map in maps {
        if map.data.dim() != (grid.ny, grid.nx) {
            return Err(MockError::BadInput {
                name: "maps",
                expected: format!("{} x {} pixels for {}", grid.ny, grid.nx, map.name),
                got: format!("{:?}", map.data.dim()),
            });
        }
    }
    galmass_core::atomic::write_atomic_with(
        path,
        |tmp| write_maps_to(tmp, path, maps, grid, beam, header),
        MockError::from,
    )
}

fn write_maps_to(
    tmp: &Path,
    path: &Path,
    maps: &[SkyMap<'_>],
    grid: &SkyGrid,
    beam: Option<&GaussianBeam>,
    header: &CubeHeader,
) -> Result<(), MockError> {
    let dims = [grid.ny, grid.nx];
    let description = ImageDescription { data_type: image_type(header.precision), dimensions: &dims };
    let (mut file, primary) = create_with_primary(tmp, path, &dims, header.precision)?;
    let mut primary = Some(primary);
    for map in maps {
        let hdu = if let Some(hdu) = primary.take() {
            hdu
        } else {
            file.create_image(map.name.clone(), &description)
                .map_err(|e| fits_err(path, &format!("creating the image HDU {}", map.name), e))?
        };
        write_pixels(path, &mut file, &hdu, map.data.iter(), header.precision)?;
        let mut cards = CardWriter { path, file: &mut file, hdu: &hdu };
        cards.text("EXTNAME", &map.name, "map name")?;
        cards.celestial(grid, header.centre)?;
        cards.common(header, &map.unit, beam)?;
    }
    Ok(())
}

/// Header cards of one HDU being written; errors name the destination.
struct CardWriter<'a> {
    path: &'a Path,
    file: &'a mut FitsFile,
    hdu: &'a FitsHdu,
}

impl CardWriter<'_> {
    fn text(&mut self, key: &str, value: &str, comment: &str) -> Result<(), MockError> {
        self.hdu
            .write_key(self.file, key, (value, comment))
            .map_err(|e| fits_err(self.path, &format!("writing key {key}"), e))
    }

    fn number(&mut self, key: &str, value: f64, comment: &str) -> Result<(), MockError> {
        self.hdu
            .write_key(self.file, key, (value, comment))
            .map_err(|e| fits_err(self.path, &format!("writing key {key}"), e))
    }

    /// Axes 1 and 2: RA---SIN and DEC--SIN about the field centre.
    fn celestial(&mut self, grid: &SkyGrid, centre: SkyPosition) -> Result<(), MockError> {
        let step_deg = grid.pixel_arcsec / 3600.0;
        self.text("CTYPE1", "RA---SIN", "right ascension, orthographic projection")?;
        self.number("CRPIX1", 0.5 * (grid.nx as f64 + 1.0), "reference pixel: the field centre")?;
        self.number("CRVAL1", centre.ra_deg, "[deg] right ascension of the field centre")?;
        self.number("CDELT1", -step_deg, "[deg] pixel size (east to the left)")?;
        self.text("CUNIT1", "deg", "unit of axis 1")?;
        self.text("CTYPE2", "DEC--SIN", "declination, orthographic projection")?;
        self.number("CRPIX2", 0.5 * (grid.ny as f64 + 1.0), "reference pixel: the field centre")?;
        self.number("CRVAL2", centre.dec_deg, "[deg] declination of the field centre")?;
        self.number("CDELT2", step_deg, "[deg] pixel size")?;
        self.text("CUNIT2", "deg", "unit of axis 2")
    }

    /// Axis 3: velocity in m/s, channel 0 as the reference pixel.
    fn spectral(&mut self, spectral: &SpectralAxis, header: &CubeHeader) -> Result<(), MockError> {
        let first_ms = (header.systemic_velocity_kms + spectral.channel_centre_kms(0)) * 1e3;
        self.text("CTYPE3", header.convention.ctype(), "line-of-sight velocity")?;
        self.number("CRPIX3", 1.0, "reference pixel: the first channel")?;
        self.number("CRVAL3", first_ms, "[m/s] velocity of the first channel")?;
        self.number("CDELT3", spectral.width_kms * 1e3, "[m/s] channel width")?;
        self.text("CUNIT3", "m/s", "unit of axis 3")?;
        self.text("SPECSYS", &header.specsys, "frame of the velocities")?;
        self.number("RESTFRQ", HI_REST_FREQUENCY_HZ, "[Hz] rest frequency of the HI line")
    }

    /// `BUNIT`, the beam and the keys every HDU carries.
    fn common(&mut self, header: &CubeHeader, bunit: &str, beam: Option<&GaussianBeam>) -> Result<(), MockError> {
        self.text("BUNIT", bunit, "unit of the pixel values")?;
        if let Some(beam) = beam {
            self.number("BMAJ", beam.bmaj_arcsec / 3600.0, "[deg] beam major-axis FWHM")?;
            self.number("BMIN", beam.bmin_arcsec / 3600.0, "[deg] beam minor-axis FWHM")?;
            self.number("BPA", beam.bpa_deg, "[deg] beam position angle, north through east")?;
            self.number("BTRUNC", beam.truncate_fwhm, "galmass: beam kernel cut, in FWHM")?;
        }
        self.number("EQUINOX", 2000.0, "equinox of the coordinates")?;
        self.text("RADESYS", "FK5", "frame of the coordinates")?;
        self.number("VSYS", header.systemic_velocity_kms, "[km/s] systemic velocity")?;
        self.text("OBJECT", &header.object, "")?;
        self.text("ORIGIN", "galmass", "mock observation")
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------

/// How [`read_cube_with`] reads a file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CubeReadOptions {
    /// The HDU to read (0 = primary); `None`: the first image HDU with at least 3 axes.
    pub hdu: Option<usize>,
    /// The convention that turns a `FREQ` axis into velocities (radio unless told otherwise).
    pub frequency_convention: VelocityConvention,
}

impl Default for CubeReadOptions {
    fn default() -> Self {
        Self { hdu: None, frequency_convention: VelocityConvention::Radio }
    }
}

/// The celestial WCS of a read cube, describing the returned arrays (after any flip to east = -x, north = +y).
#[derive(Debug, Clone, PartialEq)]
pub struct CelestialWcs {
    /// `CTYPE1` as read (`RA---NCP`, `RA---SIN`, ...).
    pub ctype1: String,
    /// `CTYPE2` as read.
    pub ctype2: String,
    /// `CRVAL1` in degrees.
    pub crval1_deg: f64,
    /// `CRVAL2` in degrees.
    pub crval2_deg: f64,
    /// `CRPIX1` (1-based FITS pixel) in the returned array.
    pub crpix1: f64,
    /// `CRPIX2` in the returned array.
    pub crpix2: f64,
    /// `CDELT1` in degrees (negative).
    pub cdelt1_deg: f64,
    /// `CDELT2` in degrees (positive).
    pub cdelt2_deg: f64,
    /// `RADESYS` when present.
    pub radesys: Option<String>,
    /// `EQUINOX` (or `EPOCH`) when present.
    pub equinox: Option<f64>,
}

/// The spectral axis of a read cube as the file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralWcs {
    /// The axis number in the file (3 or 4).
    pub axis: usize,
    /// `CTYPEn` as read (`VELO-HEL`, `FELO-HEL`, `FREQ`, ...).
    pub ctype: String,
    /// `CUNITn` as read, or the FITS default used when absent (`m/s`, `Hz`).
    pub unit: String,
    /// The convention of the returned velocities.
    pub convention: VelocityConvention,
    /// Whether the file's axis is a frequency.
    pub from_frequency: bool,
    /// The velocity frame: `SPECSYS`, else AIPS's `VELREF` or the type's suffix (`BARYCENT`, `LSRK`, `TOPOCENT`,
    /// ...); `None` when the file does not say.
    pub frame: Option<String>,
    /// `RESTFRQ` or `RESTFREQ` in Hz, when present.
    pub rest_frequency_hz: Option<f64>,
    /// Whether the channels were reversed (the file's velocity decreases with the channel index).
    pub flipped: bool,
    /// The largest distance, in channels, between an exact channel centre and the regular axis's centre (0 for an
    /// axis linear in its velocity).
    pub max_offset_channels: f64,
}

/// A real cube read from FITS.
#[derive(Debug, Clone, PartialEq)]
pub struct RealCube {
    /// The file.
    pub path: PathBuf,
    /// The HDU read.
    pub hdu: usize,
    /// The data, `(channel, y, x)`, velocity growing with the channel index, east = -x; in Jy/beam (K converted)
    /// or Jy/arcsec^2. Its spectral axis is absolute (systemic velocity 0) and spans the band of
    /// [`RealCube::channel_edges_kms`]; its beam is the header's, else (per-channel beams only) that of the middle
    /// channel.
    pub cube: DataCube,
    /// The exact velocity of each channel centre in km/s, in the file's frame, increasing.
    pub channel_velocities_kms: Vec<f64>,
    /// The exact velocities of the `n + 1` channel edges in km/s, increasing.
    pub channel_edges_kms: Vec<f64>,
    /// One beam per channel (in the returned channel order) when the file has `BMAJn` keys.
    pub channel_beams: Option<Vec<GaussianBeam>>,
    /// The celestial WCS.
    pub celestial: CelestialWcs,
    /// The spectral WCS.
    pub spectral: SpectralWcs,
    /// `BUNIT` as read.
    pub bunit: String,
    /// `OBJECT` when present.
    pub object: Option<String>,
}

impl RealCube {
    /// The beam of channel `k`: its own when the file has per-channel beams, else the cube's.
    pub fn beam_of_channel(&self, k: usize) -> Option<GaussianBeam> {
        match &self.channel_beams {
            Some(beams) => beams.get(k).copied(),
            None => self.cube.beam,
        }
    }

    /// The exact width of every channel in km/s.
    pub fn channel_widths_kms(&self) -> Vec<f64> {
        self.channel_edges_kms.windows(2).map(|w| w[1] - w[0]).collect()
    }

    /// Total flux `sum S dv` in Jy km/s with each channel's own width and beam (NaN voxels skipped); NaN when a
    /// Jy/beam channel has no beam.
    pub fn total_flux_jy_kms(&self) -> f64 {
        let pixel_area = self.cube.grid.pixel_area_arcsec2();
        let widths = self.channel_widths_kms();
        let mut total = 0.0;
        for (k, plane) in self.cube.data.axis_iter(Axis(0)).enumerate() {
            let sum: f64 = plane.iter().filter(|v| v.is_finite()).sum();
            let per_unit = match (self.cube.unit, self.beam_of_channel(k)) {
                (CubeUnit::JyPerArcsec2, _) => pixel_area,
                (CubeUnit::JyPerBeam, Some(beam)) => pixel_area / beam.area_arcsec2(),
                (CubeUnit::JyPerBeam, None) => f64::NAN,
            };
            total += sum * per_unit * widths[k];
        }
        total
    }
}

/// Reads the cube of `path` with the default options (first cube HDU, radio velocities from frequencies).
pub fn read_cube(path: &Path) -> Result<RealCube, MockError> {
    read_cube_with(path, &CubeReadOptions::default())
}

/// Reads the cube of `path` as `options` say (see the module docs for the conventions).
pub fn read_cube_with(path: &Path, options: &CubeReadOptions) -> Result<RealCube, MockError> {
    let mut file = FitsFile::open(path).map_err(|e| fits_err(path, "opening", e))?;
    let (hdu_index, hdu, shape) = find_cube_hdu(path, &mut file, options.hdu)?;
    let mut header = HeaderReader { path, file: &mut file, hdu: &hdu };
    let layout = AxisLayout::read(&mut header, &shape)?;
    let (celestial, flip_x, flip_y, pixel_arcsec) = read_celestial(&mut header)?;
    let spectral_read = read_spectral(&mut header, &layout, options.frequency_convention)?;
    let beams = read_beams(&mut header, layout.n_channels)?;
    let bunit = header.text("BUNIT")?;
    let object = header.text("OBJECT")?;
    let raw: Vec<f64> = hdu.read_image(&mut file).map_err(|e| fits_err(path, "reading the pixels", e))?;
    let (n, ny, nx) = (layout.n_channels, layout.ny, layout.nx);
    let mut data = Array3::from_shape_vec((n, ny, nx), raw).map_err(|e| MockError::BadInput {
        name: "fits data",
        expected: format!("{n} x {ny} x {nx} pixels in {}", path.display()),
        got: e.to_string(),
    })?;
    let SpectralRead { mut centres_kms, mut edges_kms, mut wcs } = spectral_read;
    let mut channel_beams = beams.per_channel;
    if edges_kms[n] < edges_kms[0] {
        data.invert_axis(Axis(0));
        centres_kms.reverse();
        edges_kms.reverse();
        if let Some(b) = channel_beams.as_mut() {
            b.reverse();
        }
        wcs.flipped = true;
    }
    if flip_x {
        data.invert_axis(Axis(2));
    }
    if flip_y {
        data.invert_axis(Axis(1));
    }
    let data = data.as_standard_layout().into_owned();
    let axis = regular_axis(path, &wcs.ctype, &edges_kms)?;
    wcs.max_offset_channels = centres_kms
        .iter()
        .enumerate()
        .map(|(k, &v)| (v - axis.channel_centre_kms(k)).abs() / axis.width_kms)
        .fold(0.0, f64::max);
    let grid = SkyGrid::new(nx, ny, pixel_arcsec)?;
    let cube_beam = beams.header.or_else(|| channel_beams.as_ref().and_then(|b| b.get(n / 2).copied()));
    let bunit_text = bunit.unwrap_or_default();
    let mut real = RealCube {
        path: path.to_owned(),
        hdu: hdu_index,
        cube: DataCube { data, grid, spectral: axis, beam: cube_beam, unit: CubeUnit::JyPerBeam },
        channel_velocities_kms: centres_kms,
        channel_edges_kms: edges_kms,
        channel_beams,
        celestial,
        spectral: wcs,
        bunit: bunit_text.clone(),
        object,
    };
    apply_unit(&mut real, &bunit_text)?;
    Ok(real)
}

/// The HDU to read and its shape (numpy order).
fn find_cube_hdu(
    path: &Path,
    file: &mut FitsFile,
    wanted: Option<usize>,
) -> Result<(usize, FitsHdu, Vec<usize>), MockError> {
    let candidates: Vec<usize> = match wanted {
        Some(index) => vec![index],
        None => (0..file.num_hdus().map_err(|e| fits_err(path, "counting the HDUs", e))?).collect(),
    };
    for index in candidates {
        let hdu = file.hdu(index).map_err(|e| fits_err(path, &format!("opening HDU {index}"), e))?;
        if let HduInfo::ImageInfo { shape, .. } = &hdu.info {
            if shape.len() >= 3 {
                let shape = shape.clone();
                return Ok((index, hdu, shape));
            }
        }
        if wanted.is_some() {
            return Err(MockError::BadInput {
                name: "fits hdu",
                expected: format!("an image of 3 or 4 axes in HDU {index} of {}", path.display()),
                got: format!("{:?}", hdu.info),
            });
        }
    }
    Err(MockError::BadInput {
        name: "fits hdu",
        expected: format!("an image HDU of 3 or 4 axes in {}", path.display()),
        got: "none".into(),
    })
}

/// An error in a header value, naming the file and the key.
fn header_error(path: &Path, key: &str, expected: impl std::fmt::Display, got: impl std::fmt::Display) -> MockError {
    MockError::BadInput {
        name: "fits header",
        expected: format!("{}: {key}: {expected}", path.display()),
        got: got.to_string(),
    }
}

/// Header keys of the HDU being read; an absent key is `None`, any other CFITSIO error names the key.
struct HeaderReader<'a> {
    path: &'a Path,
    file: &'a mut FitsFile,
    hdu: &'a FitsHdu,
}

impl HeaderReader<'_> {
    fn number(&mut self, key: &str) -> Result<Option<f64>, MockError> {
        match self.hdu.read_key::<f64>(self.file, key) {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            Ok(v) => Err(header_error(self.path, key, "a finite number", v)),
            Err(fitsio::errors::Error::Fits(e)) if e.status == KEY_NO_EXIST => Ok(None),
            Err(e) => Err(fits_err(self.path, &format!("reading key {key}"), e)),
        }
    }

    fn required(&mut self, key: &str, why: &str) -> Result<f64, MockError> {
        self.number(key)?.ok_or_else(|| header_error(self.path, key, why, "absent"))
    }

    fn text(&mut self, key: &str) -> Result<Option<String>, MockError> {
        match self.hdu.read_key::<String>(self.file, key) {
            Ok(v) => Ok(Some(v.trim().to_owned())),
            Err(fitsio::errors::Error::Fits(e)) if e.status == KEY_NO_EXIST => Ok(None),
            Err(e) => Err(fits_err(self.path, &format!("reading key {key}"), e)),
        }
    }
}

/// Which FITS axis holds what.
struct AxisLayout {
    nx: usize,
    ny: usize,
    n_channels: usize,
    /// The spectral axis (1-based FITS number) and its `CTYPE`.
    spectral_axis: usize,
    spectral_ctype: String,
}

impl AxisLayout {
    fn read(header: &mut HeaderReader<'_>, shape: &[usize]) -> Result<Self, MockError> {
        let path = header.path;
        let lengths: Vec<usize> = shape.iter().rev().copied().collect(); // lengths[0] = NAXIS1
        let mut ctypes = Vec::with_capacity(lengths.len());
        for axis in 1..=lengths.len() {
            ctypes.push(header.text(&format!("CTYPE{axis}"))?.unwrap_or_default().to_ascii_uppercase());
        }
        if !ctypes[0].starts_with("RA") {
            return Err(header_error(path, "CTYPE1", "right ascension (RA---xxx)", format!("{:?}", ctypes[0])));
        }
        if !ctypes[1].starts_with("DEC") {
            return Err(header_error(path, "CTYPE2", "declination (DEC--xxx)", format!("{:?}", ctypes[1])));
        }
        let mut spectral = None;
        for (index, ctype) in ctypes.iter().enumerate().skip(2) {
            let axis = index + 1;
            if is_spectral(ctype) && spectral.is_none() {
                spectral = Some((axis, ctype.clone()));
            } else if lengths[index] != 1 {
                let what = if ctype.starts_with("STOKES") {
                    "a degenerate STOKES axis (length 1): select one polarisation first"
                } else {
                    "a spectral axis or a degenerate (length 1) one"
                };
                return Err(header_error(
                    path,
                    &format!("NAXIS{axis}"),
                    what,
                    format!("{} pixels of {ctype:?}", lengths[index]),
                ));
            }
        }
        let Some((spectral_axis, spectral_ctype)) = spectral else {
            return Err(header_error(
                path,
                "CTYPE3",
                "a spectral axis (FREQ, VRAD, VOPT, VELO-xxx, FELO-xxx) as axis 3 or 4",
                format!("{:?}", &ctypes[2..]),
            ));
        };
        Ok(Self {
            nx: lengths[0],
            ny: lengths[1],
            n_channels: lengths[spectral_axis - 1],
            spectral_axis,
            spectral_ctype,
        })
    }
}

fn is_spectral(ctype: &str) -> bool {
    ["FREQ", "VRAD", "VOPT", "VELO", "FELO"].iter().any(|p| ctype.starts_with(p))
}

/// Reads the celestial WCS; returns it (for the flipped arrays), whether x and y flip, and the pixel in arcsec.
fn read_celestial(header: &mut HeaderReader<'_>) -> Result<(CelestialWcs, bool, bool, f64), MockError> {
    let path = header.path;
    if let Some(rotation) = header.number("CROTA2")? {
        if rotation.abs() > 1e-6 {
            return Err(header_error(path, "CROTA2", "0 (rotated grids are not supported)", rotation));
        }
    }
    for key in ["PC1_2", "PC2_1", "CD1_2", "CD2_1"] {
        if let Some(v) = header.number(key)? {
            if v.abs() > 1e-12 {
                return Err(header_error(path, key, "0 (rotated or skewed grids are not supported)", v));
            }
        }
    }
    let mut steps = [0.0; 2];
    for (i, step) in steps.iter_mut().enumerate() {
        let n = i + 1;
        if let Some(unit) = header.text(&format!("CUNIT{n}"))? {
            if !matches!(unit.to_ascii_lowercase().as_str(), "deg" | "degree" | "degrees" | "") {
                return Err(header_error(path, &format!("CUNIT{n}"), "deg", format!("{unit:?}")));
            }
        }
        *step = match header.number(&format!("CDELT{n}"))? {
            Some(cdelt) => cdelt * header.number(&format!("PC{n}_{n}"))?.unwrap_or(1.0),
            None => header.required(&format!("CD{n}_{n}"), "the pixel size (or CDELTn) in degrees")?,
        };
        if *step == 0.0 {
            return Err(header_error(path, &format!("CDELT{n}"), "a non-zero pixel size", 0.0));
        }
    }
    let (a, b) = (steps[0].abs(), steps[1].abs());
    if (a - b).abs() > SQUARE_PIXEL_TOLERANCE * a.max(b) {
        return Err(header_error(
            path,
            "CDELT2",
            format!("square pixels, |CDELT2| = |CDELT1| = {a} deg (regrid the cube first)"),
            b,
        ));
    }
    let (nx, ny) = (header.hdu_len(1)?, header.hdu_len(2)?);
    let (flip_x, flip_y) = (steps[0] > 0.0, steps[1] < 0.0);
    let crpix1 = header.number("CRPIX1")?.unwrap_or(0.0);
    let crpix2 = header.number("CRPIX2")?.unwrap_or(0.0);
    let wcs = CelestialWcs {
        ctype1: header.text("CTYPE1")?.unwrap_or_default(),
        ctype2: header.text("CTYPE2")?.unwrap_or_default(),
        crval1_deg: header.number("CRVAL1")?.unwrap_or(0.0),
        crval2_deg: header.number("CRVAL2")?.unwrap_or(0.0),
        crpix1: if flip_x { nx as f64 + 1.0 - crpix1 } else { crpix1 },
        crpix2: if flip_y { ny as f64 + 1.0 - crpix2 } else { crpix2 },
        cdelt1_deg: -a,
        cdelt2_deg: b,
        radesys: header.text("RADESYS")?,
        equinox: match header.number("EQUINOX")? {
            Some(e) => Some(e),
            None => header.number("EPOCH")?,
        },
    };
    Ok((wcs, flip_x, flip_y, 0.5 * (a + b) * 3600.0))
}

impl HeaderReader<'_> {
    /// `NAXISn` from the HDU's shape.
    fn hdu_len(&mut self, axis: usize) -> Result<usize, MockError> {
        match &self.hdu.info {
            HduInfo::ImageInfo { shape, .. } if axis >= 1 && axis <= shape.len() => Ok(shape[shape.len() - axis]),
            _ => Err(header_error(self.path, &format!("NAXIS{axis}"), "an image axis", "absent")),
        }
    }
}

/// How the spectral coordinate of a pixel becomes a velocity.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SpectralKind {
    /// A frequency axis, converted with the convention.
    Frequency(VelocityConvention),
    /// A velocity linear in the pixel.
    LinearVelocity(VelocityConvention),
    /// An optical velocity on an axis linear in frequency (`FELO`, `VOPT-F2W`).
    OpticalLinearInFrequency,
}

struct SpectralRead {
    centres_kms: Vec<f64>,
    edges_kms: Vec<f64>,
    wcs: SpectralWcs,
}

/// The AIPS frame of a type suffix (`-HEL`) or of `VELREF % 256`.
fn aips_frame(suffix: &str, velref: Option<i64>) -> Option<String> {
    const FRAMES: [&str; 7] = ["LSRK", "BARYCENT", "TOPOCENT", "LSRD", "GEOCENTR", "SOURCE", "GALACTOC"];
    if let Some(v) = velref {
        let index = v.rem_euclid(256);
        if (1..=7).contains(&index) {
            return Some(FRAMES[index as usize - 1].to_owned());
        }
    }
    match suffix {
        "LSR" => Some("LSRK".into()),
        "HEL" => Some("BARYCENT".into()),
        "OBS" => Some("TOPOCENT".into()),
        _ => None,
    }
}

/// The kind of a spectral `CTYPE` (WCSLIB's reading of AIPS types) and the frame its suffix names.
fn classify_spectral(
    ctype: &str,
    velref: Option<i64>,
    frequency_convention: VelocityConvention,
) -> Option<(SpectralKind, Option<String>)> {
    let base = ctype.get(..4)?;
    let suffix = ctype.get(4..).unwrap_or("").trim_start_matches('-').trim();
    let frame = aips_frame(suffix, velref);
    let kind = match base {
        "FREQ" => SpectralKind::Frequency(frequency_convention),
        "VRAD" => SpectralKind::LinearVelocity(VelocityConvention::Radio),
        "VOPT" if suffix == "F2W" => SpectralKind::OpticalLinearInFrequency,
        "VOPT" => SpectralKind::LinearVelocity(VelocityConvention::Optical),
        "FELO" => SpectralKind::OpticalLinearInFrequency,
        "VELO" if frame.is_some() => match velref.map(|v| v / 256) {
            Some(1) => SpectralKind::LinearVelocity(VelocityConvention::Radio),
            _ => SpectralKind::LinearVelocity(VelocityConvention::Optical),
        },
        "VELO" => SpectralKind::LinearVelocity(VelocityConvention::Relativistic),
        _ => return None,
    };
    Some((kind, frame))
}

/// The factor to km/s (velocity) or Hz (frequency) of `CUNITn`, and the unit's name (the FITS default when absent).
fn spectral_unit(path: &Path, key: &str, unit: Option<&str>, frequency: bool) -> Result<(f64, String), MockError> {
    let Some(unit) = unit.filter(|u| !u.is_empty()) else {
        return Ok(if frequency { (1.0, "Hz".into()) } else { (1e-3, "m/s".into()) });
    };
    let squeezed: String = unit.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    let factor = match (frequency, squeezed.as_str()) {
        (true, "hz") => Some(1.0),
        (true, "khz") => Some(1e3),
        (true, "mhz") => Some(1e6),
        (true, "ghz") => Some(1e9),
        (false, "m/s" | "ms-1" | "m.s-1" | "ms**-1") => Some(1e-3),
        (false, "km/s" | "kms-1" | "km.s-1" | "kms**-1") => Some(1.0),
        _ => None,
    };
    match factor {
        Some(f) => Ok((f, unit.to_owned())),
        None if frequency => Err(header_error(path, key, "Hz, kHz, MHz or GHz", format!("{unit:?}"))),
        None => Err(header_error(path, key, "m/s or km/s", format!("{unit:?}"))),
    }
}

fn read_spectral(
    header: &mut HeaderReader<'_>,
    layout: &AxisLayout,
    frequency_convention: VelocityConvention,
) -> Result<SpectralRead, MockError> {
    let path = header.path;
    let s = layout.spectral_axis;
    let velref = header.number("VELREF")?.map(|v| v.round() as i64);
    let ctype = header.text(&format!("CTYPE{s}"))?.unwrap_or_default();
    let Some((kind, suffix_frame)) = classify_spectral(&layout.spectral_ctype, velref, frequency_convention) else {
        return Err(header_error(
            path,
            &format!("CTYPE{s}"),
            "FREQ, VRAD, VOPT, VELO-xxx or FELO-xxx",
            format!("{ctype:?}"),
        ));
    };
    let is_frequency = matches!(kind, SpectralKind::Frequency(_));
    let (to_unit, unit) =
        spectral_unit(path, &format!("CUNIT{s}"), header.text(&format!("CUNIT{s}"))?.as_deref(), is_frequency)?;
    let crval = header.number(&format!("CRVAL{s}"))?.unwrap_or(0.0) * to_unit;
    let cdelt = match header.number(&format!("CDELT{s}"))? {
        Some(v) => v,
        None => header.required(&format!("CD{s}_{s}"), "the channel width (or CDELTn)")?,
    } * to_unit;
    let crpix = header.number(&format!("CRPIX{s}"))?.unwrap_or(0.0);
    if cdelt == 0.0 {
        return Err(header_error(path, &format!("CDELT{s}"), "a non-zero channel width", 0.0));
    }
    let rest_frequency_hz = match header.number("RESTFRQ")? {
        Some(f) => Some(f),
        None => header.number("RESTFREQ")?,
    };
    let convention = match kind {
        SpectralKind::Frequency(c) | SpectralKind::LinearVelocity(c) => c,
        SpectralKind::OpticalLinearInFrequency => VelocityConvention::Optical,
    };
    let rest = match (kind, rest_frequency_hz) {
        (SpectralKind::Frequency(_), None) => {
            return Err(header_error(
                path,
                "RESTFRQ",
                "the rest frequency (RESTFRQ or RESTFREQ) of a FREQ axis",
                "absent",
            ))
        }
        (_, Some(f)) if f <= 0.0 => return Err(header_error(path, "RESTFRQ", "a positive frequency in Hz", f)),
        (_, f) => f.unwrap_or(HI_REST_FREQUENCY_HZ),
    };
    let velocity_at = |pixel: f64| -> f64 {
        let x = pixel - crpix;
        match kind {
            SpectralKind::Frequency(c) => c.velocity_kms(crval + cdelt * x, rest),
            SpectralKind::LinearVelocity(_) => crval + cdelt * x,
            // Greisen (AIPS memo 27): v = v_r + dv x / (1 - dv x / (c + v_r)).
            SpectralKind::OpticalLinearInFrequency => {
                crval + cdelt * x / (1.0 - cdelt * x / (SPEED_OF_LIGHT_KMS + crval))
            }
        }
    };
    let n = layout.n_channels;
    if is_frequency {
        let lowest = (crval + cdelt * (0.5 - crpix)).min(crval + cdelt * (n as f64 + 0.5 - crpix));
        if lowest.is_nan() || lowest <= 0.0 {
            return Err(header_error(path, &format!("CRVAL{s}"), "positive frequencies across the band", lowest));
        }
    }
    let centres_kms: Vec<f64> = (0..n).map(|k| velocity_at(k as f64 + 1.0)).collect();
    let edges_kms: Vec<f64> = (0..=n).map(|k| velocity_at(k as f64 + 0.5)).collect();
    let frame = match header.text("SPECSYS")? {
        Some(f) if !f.is_empty() => Some(f),
        _ => suffix_frame,
    };
    let wcs = SpectralWcs {
        axis: s,
        ctype,
        unit,
        convention,
        from_frequency: is_frequency,
        frame,
        rest_frequency_hz,
        flipped: false,
        max_offset_channels: 0.0,
    };
    Ok(SpectralRead { centres_kms, edges_kms, wcs })
}

/// The regular axis over the band of `edges_kms` (increasing, `n + 1` values).
fn regular_axis(path: &Path, ctype: &str, edges_kms: &[f64]) -> Result<SpectralAxis, MockError> {
    let n = edges_kms.len() - 1;
    if !edges_kms.windows(2).all(|w| w[1] > w[0]) || !edges_kms.iter().all(|v| v.is_finite()) {
        return Err(header_error(
            path,
            ctype,
            "velocities monotonic across the band",
            format!("edges {:?} ...", &edges_kms[..n.min(3) + 1]),
        ));
    }
    let (first, last) = (edges_kms[0], edges_kms[n]);
    SpectralAxis::new(n, (last - first) / n as f64, 0.5 * (first + last))
}

struct Beams {
    header: Option<GaussianBeam>,
    per_channel: Option<Vec<GaussianBeam>>,
}

/// A beam from degrees; `bmin > bmaj` is swapped (position angle + 90).
fn beam_from_degrees(
    path: &Path,
    key: &str,
    bmaj_deg: f64,
    bmin_deg: f64,
    bpa_deg: f64,
    truncate_fwhm: f64,
) -> Result<GaussianBeam, MockError> {
    let (bmaj, bmin, bpa) =
        if bmin_deg > bmaj_deg { (bmin_deg, bmaj_deg, bpa_deg + 90.0) } else { (bmaj_deg, bmin_deg, bpa_deg) };
    GaussianBeam::new(bmaj * 3600.0, bmin * 3600.0, bpa, truncate_fwhm)
        .map_err(|e| header_error(path, key, "a beam of positive FWHMs in degrees", e))
}

fn read_beams(header: &mut HeaderReader<'_>, n_channels: usize) -> Result<Beams, MockError> {
    let path = header.path;
    let truncate = header.number("BTRUNC")?.unwrap_or(READ_BEAM_TRUNCATE_FWHM);
    let header_beam = match header.number("BMAJ")? {
        Some(bmaj) => {
            let bmin = header.required("BMIN", "the beam minor axis in degrees (BMAJ is present)")?;
            let bpa = header.number("BPA")?.unwrap_or(0.0);
            Some(beam_from_degrees(path, "BMAJ", bmaj, bmin, bpa, truncate)?)
        }
        None => None,
    };
    if header.number("BMAJ1")?.is_none() {
        return Ok(Beams { header: header_beam, per_channel: None });
    }
    let mut beams = Vec::with_capacity(n_channels);
    for k in 1..=n_channels {
        let key = format!("BMAJ{k}");
        let bmaj = header.required(&key, "one beam per channel (BMAJ1 is present)")?;
        let bmin = header.required(&format!("BMIN{k}"), "one beam per channel (BMAJ1 is present)")?;
        let bpa = header.number(&format!("BPA{k}"))?.unwrap_or(0.0);
        beams.push(beam_from_degrees(path, &key, bmaj, bmin, bpa, truncate)?);
    }
    Ok(Beams { header: header_beam, per_channel: Some(beams) })
}

/// The brightness unit of a `BUNIT`, with its scale to Jy or K.
#[derive(Debug, Clone, Copy, PartialEq)]
enum BrightnessUnit {
    JyPerBeam(f64),
    JyPerArcsec2(f64),
    Kelvin(f64),
}

fn parse_bunit(bunit: &str) -> Option<BrightnessUnit> {
    let s: String = bunit
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '^' | '(' | ')'))
        .collect::<String>()
        .to_ascii_lowercase();
    let (scale, rest) = match s.strip_prefix("mjy") {
        Some(rest) => (1e-3, format!("jy{rest}")),
        None => (1.0, s.clone()),
    };
    match rest.as_str() {
        "jy/beam" | "jy/bm" | "jybeam-1" | "jy.beam-1" | "jy/beam/channel" => Some(BrightnessUnit::JyPerBeam(scale)),
        "jy/arcsec2" | "jyarcsec-2" | "jy.arcsec-2" => Some(BrightnessUnit::JyPerArcsec2(scale)),
        _ => match s.as_str() {
            "k" | "kelvin" => Some(BrightnessUnit::Kelvin(1.0)),
            "mk" => Some(BrightnessUnit::Kelvin(1e-3)),
            _ => None,
        },
    }
}

/// Converts the data to Jy/beam or Jy/arcsec^2 as `BUNIT` says; K becomes Jy/beam with each channel's beam and
/// frequency.
fn apply_unit(real: &mut RealCube, bunit: &str) -> Result<(), MockError> {
    let path = real.path.clone();
    let Some(unit) = parse_bunit(bunit) else {
        return Err(header_error(&path, "BUNIT", "Jy/beam, mJy/beam, Jy/arcsec2 or K", format!("{bunit:?}")));
    };
    let needs_beam = !matches!(unit, BrightnessUnit::JyPerArcsec2(_));
    if needs_beam && real.cube.beam.is_none() {
        return Err(header_error(
            &path,
            "BMAJ",
            format!("a beam (BMAJ/BMIN/BPA or BMAJn) for BUNIT {bunit:?}"),
            "absent",
        ));
    }
    match unit {
        BrightnessUnit::JyPerBeam(scale) => {
            real.cube.unit = CubeUnit::JyPerBeam;
            if scale != 1.0 {
                real.cube.data.mapv_inplace(|v| v * scale);
            }
        }
        BrightnessUnit::JyPerArcsec2(scale) => {
            real.cube.unit = CubeUnit::JyPerArcsec2;
            if scale != 1.0 {
                real.cube.data.mapv_inplace(|v| v * scale);
            }
        }
        BrightnessUnit::Kelvin(scale) => {
            real.cube.unit = CubeUnit::JyPerBeam;
            let rest = real.spectral.rest_frequency_hz.unwrap_or(HI_REST_FREQUENCY_HZ);
            for k in 0..real.cube.spectral.n {
                let beam = real
                    .beam_of_channel(k)
                    .ok_or_else(|| header_error(&path, "BMAJ", "a beam for BUNIT K", "absent"))?;
                let nu_ghz = real.spectral.convention.frequency_hz(real.channel_velocities_kms[k], rest) * 1e-9;
                let factor = scale * beam.bmaj_arcsec * beam.bmin_arcsec * nu_ghz * nu_ghz / KELVIN_ARCSEC2_GHZ2_PER_JY;
                real.cube.data.index_axis_mut(Axis(0), k).mapv_inplace(|v| v * factor);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// A header value for the test writer.
    enum Key<'a> {
        Num(f64),
        Text(&'a str),
    }

    /// Writes a float32 image of FITS axis lengths `naxes` (NAXIS1 first) with `keys`, as a survey would.
    fn write_raw(path: &Path, naxes: &[usize], data: &[f32], keys: &[(&str, Key<'_>)]) {
        let dims: Vec<usize> = naxes.iter().rev().copied().collect();
        let description = ImageDescription { data_type: ImageType::Float, dimensions: &dims };
        let mut file = FitsFile::create(path).with_custom_primary(&description).overwrite().open().unwrap();
        let hdu = file.primary_hdu().unwrap();
        hdu.write_image(&mut file, data).unwrap();
        for (key, value) in keys {
            match value {
                Key::Num(v) => hdu.write_key(&mut file, key, *v).unwrap(),
                Key::Text(t) => hdu.write_key(&mut file, key, *t).unwrap(),
            }
        }
    }

    /// The celestial keys of a 4 x 3 field of 10'' pixels, and a beam of 30'' x 20''.
    fn sky_keys() -> Vec<(&'static str, Key<'static>)> {
        vec![
            ("CTYPE1", Key::Text("RA---SIN")),
            ("CRPIX1", Key::Num(2.5)),
            ("CRVAL1", Key::Num(150.0)),
            ("CDELT1", Key::Num(-10.0 / 3600.0)),
            ("CUNIT1", Key::Text("deg")),
            ("CTYPE2", Key::Text("DEC--SIN")),
            ("CRPIX2", Key::Num(2.0)),
            ("CRVAL2", Key::Num(-30.0)),
            ("CDELT2", Key::Num(10.0 / 3600.0)),
            ("BMAJ", Key::Num(30.0 / 3600.0)),
            ("BMIN", Key::Num(20.0 / 3600.0)),
            ("BPA", Key::Num(45.0)),
            ("BUNIT", Key::Text("JY/BEAM")),
        ]
    }

    /// Data where voxel (k, y, x) of the file holds 100 k + 10 y + x.
    fn ramp(n: usize) -> Vec<f32> {
        let mut data = Vec::new();
        for k in 0..n {
            for y in 0..3 {
                for x in 0..4 {
                    data.push((100 * k + 10 * y + x) as f32);
                }
            }
        }
        data
    }

    fn with(
        mut keys: Vec<(&'static str, Key<'static>)>,
        more: Vec<(&'static str, Key<'static>)>,
    ) -> Vec<(&'static str, Key<'static>)> {
        keys.extend(more);
        keys
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn ngc_2903_reads_as_peers_read_it() {
        let Some(path) = galmass_core::fixtures::fixture("fits/NGC_2903.fits") else { return };
        let real = read_cube(&path).unwrap();
        assert_eq!(real.cube.data.dim(), (113, 89, 70));
        assert_eq!(real.bunit, "Jy/beam");
        assert_eq!(real.cube.unit, CubeUnit::JyPerBeam);
        let beam = real.cube.beam.unwrap();
        assert!(close(beam.bmaj_arcsec, 0.01594897171609944 * 3600.0, 1e-12));
        assert!(close(beam.bmin_arcsec, 0.01342092461328889 * 3600.0, 1e-12));
        assert_eq!(beam.bpa_deg, 0.0);
        assert_eq!(real.spectral.ctype, "VELO-HEL");
        assert_eq!(real.spectral.unit, "m/s");
        assert_eq!(real.spectral.convention, VelocityConvention::Optical);
        assert_eq!(real.spectral.frame.as_deref(), Some("BARYCENT"));
        assert!(!real.spectral.flipped && real.spectral.max_offset_channels < 1e-9);
        assert_eq!(real.celestial.ctype1, "RA---NCP");
        assert!(close(real.celestial.cdelt2_deg, 0.00555469, 1e-12));
        assert!(close(real.cube.grid.pixel_arcsec, 0.00555469 * 3600.0, 1e-12));
        let (width, crval, crpix) = (4.129893038259999, 574.0, 60.9998399488);
        assert!(close(real.cube.spectral.width_kms, width, 1e-12));
        for k in [0, 60, 112] {
            let expected = crval + width * (k as f64 + 1.0 - crpix);
            assert!((real.channel_velocities_kms[k] - expected).abs() < 1e-9);
            assert!((real.cube.spectral.channel_centre_kms(k) - expected).abs() < 1e-9);
        }
        assert_eq!(real.cube.data.iter().filter(|v| v.is_nan()).count(), 2);
        let sum: f64 = real.cube.data.iter().filter(|v| v.is_finite()).sum();
        assert!(close(sum, 482.6756429747628, 1e-6), "{sum}");
        let mom0_total = real.cube.integrated().sum();
        assert!(close(mom0_total, 1993.3987776591418, 1e-6), "{mom0_total}");
    }

    fn mock_cube() -> DataCube {
        let grid = SkyGrid::new(5, 4, 6.0).unwrap();
        let spectral = SpectralAxis::new(3, 4.0, -2.0).unwrap();
        let data =
            Array3::from_shape_fn((3, 4, 5), |(k, y, x)| 0.01 * (k as f64 + 1.0) * (1.0 + y as f64) - 0.003 * x as f64);
        let mut cube = DataCube::from_parts(
            data,
            grid,
            spectral,
            Some(GaussianBeam::new(15.0, 12.0, 30.0, 4.0).unwrap()),
            CubeUnit::JyPerBeam,
        )
        .unwrap();
        cube.data[[1, 2, 3]] = f64::NAN;
        cube
    }

    #[test]
    fn a_written_cube_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let cube = mock_cube();
        for precision in [FitsPrecision::Float64, FitsPrecision::Float32] {
            let path = dir.path().join("cube.fits");
            let mut header = CubeHeader::new("mock", SkyPosition { ra_deg: 10.0, dec_deg: 20.0 }, 1200.0);
            header.precision = precision;
            write_cube(&path, &cube, &header).unwrap();
            let back = read_cube(&path).unwrap();
            let tol = if precision == FitsPrecision::Float64 { 0.0 } else { 1e-7 };
            for (a, b) in back.cube.data.iter().zip(cube.data.iter()) {
                assert!(a.is_nan() == b.is_nan() && (a.is_nan() || (a - b).abs() <= tol * b.abs()), "{a} vs {b}");
            }
            assert_eq!(back.cube.grid.nx, 5);
            assert_eq!(back.cube.grid.ny, 4);
            assert!(close(back.cube.grid.pixel_arcsec, 6.0, 1e-12));
            assert_eq!(back.cube.spectral.n, 3);
            assert!(close(back.cube.spectral.width_kms, 4.0, 1e-12));
            assert!(close(back.cube.spectral.centre_kms - 1200.0, -2.0, 1e-9));
            let (got, want) = (back.cube.beam.unwrap(), cube.beam.unwrap());
            assert!(close(got.bmaj_arcsec, want.bmaj_arcsec, 1e-12) && close(got.bmin_arcsec, want.bmin_arcsec, 1e-12));
            assert!(close(got.bpa_deg, want.bpa_deg, 1e-12) && got.truncate_fwhm == want.truncate_fwhm);
            assert_eq!(back.cube.unit, CubeUnit::JyPerBeam);
            assert_eq!(back.spectral.convention, VelocityConvention::Radio);
            assert_eq!(back.spectral.frame.as_deref(), Some("BARYCENT"));
            assert_eq!(back.celestial.ctype1, "RA---SIN");
            assert_eq!(back.celestial.crpix1, 3.0);
            assert_eq!(back.celestial.crpix2, 2.5);
            assert!(close(back.celestial.cdelt1_deg, -6.0 / 3600.0, 1e-12));
            assert_eq!(back.object.as_deref(), Some("mock"));
            let mut file = FitsFile::open(&path).unwrap();
            let primary = file.primary_hdu().unwrap();
            assert!(primary.read_key::<String>(&mut file, "EXTNAME").is_err());
            let bitpix = if precision == FitsPrecision::Float64 { -64 } else { -32 };
            assert_eq!(primary.read_key::<i64>(&mut file, "BITPIX").unwrap(), bitpix);
            assert_eq!(primary.read_key::<String>(&mut file, "CTYPE3").unwrap(), "VRAD");
            assert_eq!(primary.read_key::<f64>(&mut file, "RESTFRQ").unwrap(), HI_REST_FREQUENCY_HZ);
            let total = back.total_flux_jy_kms();
            assert!(close(total, cube.total_flux_jy_kms(), 1e-6), "{total}");
        }
    }

    #[test]
    fn moment_maps_are_written_with_their_names_and_units() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("moments.fits");
        let grid = SkyGrid::new(3, 2, 5.0).unwrap();
        let mut mom0 = Array2::from_elem((2, 3), 1.5);
        mom0[[0, 1]] = f64::NAN;
        let mom1 = Array2::from_elem((2, 3), -20.0);
        let mom2 = Array2::from_elem((2, 3), 8.0);
        let maps = [
            SkyMap::moment0(mom0.view(), CubeUnit::JyPerBeam),
            SkyMap::moment1(mom1.view()),
            SkyMap::moment2(mom2.view()),
        ];
        let beam = GaussianBeam::circular(12.0, 3.0).unwrap();
        let header = CubeHeader::new("mock", SkyPosition { ra_deg: 1.0, dec_deg: 2.0 }, 500.0);
        write_sky_maps(&path, &maps, &grid, Some(&beam), &header).unwrap();
        for (hdu, (name, unit, value)) in
            [("MOM0", "Jy/beam km/s", 1.5), ("MOM1", "km/s", -20.0), ("MOM2", "km/s", 8.0)].into_iter().enumerate()
        {
            let (image, bunit) = crate::fits::read_image(&path, hdu).unwrap();
            assert_eq!(bunit.as_deref(), Some(unit));
            assert_eq!(image[[1, 2]], value);
            let mut file = FitsFile::open(&path).unwrap();
            let h = file.hdu(hdu).unwrap();
            assert_eq!(h.read_key::<String>(&mut file, "EXTNAME").unwrap(), name);
            assert_eq!(h.read_key::<String>(&mut file, "CTYPE2").unwrap(), "DEC--SIN");
            assert_eq!(h.read_key::<f64>(&mut file, "CRPIX1").unwrap(), 2.0);
        }
        assert!(crate::fits::read_image(&path, 0).unwrap().0[[0, 1]].is_nan());
        let wrong = Array2::zeros((3, 3));
        assert!(write_sky_maps(&path, &[SkyMap::moment1(wrong.view())], &grid, None, &header).is_err());
    }

    #[test]
    fn felo_hel_in_m_s_with_velref_is_optical_and_linear_in_frequency() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("things.fits");
        let keys = with(
            sky_keys(),
            vec![
                ("CTYPE3", Key::Text("FELO-HEL")),
                ("CRPIX3", Key::Num(1.0)),
                ("CRVAL3", Key::Num(1.0e6)),
                ("CDELT3", Key::Num(-5.0e3)),
                ("CUNIT3", Key::Text("M/S")),
                ("VELREF", Key::Num(2.0)),
            ],
        );
        write_raw(&path, &[4, 3, 40], &ramp(40), &keys);
        let real = read_cube(&path).unwrap();
        assert_eq!(real.spectral.convention, VelocityConvention::Optical);
        assert_eq!(real.spectral.frame.as_deref(), Some("BARYCENT"));
        assert!(real.spectral.flipped);
        // The reference channel (file channel 1, now the last) sits at CRVAL3.
        assert!((real.channel_velocities_kms[39] - 1000.0).abs() < 1e-9);
        assert_eq!(real.cube.data[[39, 0, 0]], 0.0);
        assert_eq!(real.cube.data[[0, 0, 0]], 3900.0);
        // Optical velocities whose frequencies are equally spaced.
        let f: Vec<f64> =
            real.channel_edges_kms.iter().map(|&v| HI_REST_FREQUENCY_HZ / (1.0 + v / SPEED_OF_LIGHT_KMS)).collect();
        let df = f[1] - f[0];
        assert!(f.windows(2).all(|w| ((w[1] - w[0]) / df - 1.0).abs() < 1e-9));
        let widths = real.channel_widths_kms();
        assert!(widths[0] != widths[39] && (widths[39] - 5.0).abs() < 0.02);
        assert!(real.spectral.max_offset_channels > 1e-4 && real.spectral.max_offset_channels < 1e-2);
    }

    #[test]
    fn vopt_in_km_s_and_vrad_without_unit_are_linear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vopt.fits");
        let vopt = vec![
            ("CTYPE3", Key::Text("VOPT")),
            ("CRPIX3", Key::Num(3.0)),
            ("CRVAL3", Key::Num(700.0)),
            ("CDELT3", Key::Num(2.5)),
            ("CUNIT3", Key::Text("km/s")),
            ("SPECSYS", Key::Text("BARYCENT")),
        ];
        write_raw(&path, &[4, 3, 5], &ramp(5), &with(sky_keys(), vopt));
        let real = read_cube(&path).unwrap();
        assert_eq!(real.spectral.convention, VelocityConvention::Optical);
        assert_eq!(real.channel_velocities_kms, vec![695.0, 697.5, 700.0, 702.5, 705.0]);
        assert!(close(real.cube.spectral.centre_kms, 700.0, 1e-12) && close(real.cube.spectral.width_kms, 2.5, 1e-12));
        let vrad = vec![
            ("CTYPE3", Key::Text("VRAD")),
            ("CRPIX3", Key::Num(1.0)),
            ("CRVAL3", Key::Num(-3.0e3)),
            ("CDELT3", Key::Num(1.5e3)),
        ];
        write_raw(&path, &[4, 3, 5], &ramp(5), &with(sky_keys(), vrad));
        let real = read_cube(&path).unwrap();
        assert_eq!(real.spectral.convention, VelocityConvention::Radio);
        assert_eq!(real.spectral.unit, "m/s");
        assert!((real.channel_velocities_kms[4] - 3.0).abs() < 1e-12);
        assert_eq!(real.spectral.frame, None);
    }

    #[test]
    fn a_wallaby_frequency_cube_with_stokes_third_reads_as_radio_velocities() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallaby.fits");
        let f0 = HI_REST_FREQUENCY_HZ;
        let keys = with(
            sky_keys(),
            vec![
                ("CTYPE3", Key::Text("STOKES")),
                ("CRPIX3", Key::Num(1.0)),
                ("CRVAL3", Key::Num(1.0)),
                ("CDELT3", Key::Num(1.0)),
                ("CTYPE4", Key::Text("FREQ")),
                ("CRPIX4", Key::Num(1.0)),
                ("CRVAL4", Key::Num(1.40e9)),
                ("CDELT4", Key::Num(18.5e3)),
                ("CUNIT4", Key::Text("Hz")),
                ("RESTFRQ", Key::Num(f0)),
                ("SPECSYS", Key::Text("BARYCENT")),
            ],
        );
        write_raw(&path, &[4, 3, 1, 6], &ramp(6), &keys);
        let real = read_cube(&path).unwrap();
        assert_eq!(real.spectral.axis, 4);
        assert!(real.spectral.from_frequency && real.spectral.flipped);
        assert_eq!(real.spectral.convention, VelocityConvention::Radio);
        let c = SPEED_OF_LIGHT_KMS;
        for k in 0..6 {
            let f = 1.40e9 + 18.5e3 * (5 - k) as f64;
            assert!((real.channel_velocities_kms[k] - c * (1.0 - f / f0)).abs() < 1e-8);
            assert_eq!(real.cube.data[[k, 2, 1]], (100 * (5 - k) + 21) as f64);
        }
        assert!(real.spectral.max_offset_channels < 1e-9);
        assert!(close(real.cube.spectral.width_kms, c * 18.5e3 / f0, 1e-9));
    }

    #[test]
    fn a_frequency_cube_with_restfreq_and_stokes_fourth_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("restfreq.fits");
        let keys = with(
            sky_keys(),
            vec![
                ("CTYPE3", Key::Text("FREQ")),
                ("CRPIX3", Key::Num(2.0)),
                ("CRVAL3", Key::Num(1419.0)),
                ("CDELT3", Key::Num(-0.1)),
                ("CUNIT3", Key::Text("MHz")),
                ("CTYPE4", Key::Text("STOKES")),
                ("RESTFREQ", Key::Num(HI_REST_FREQUENCY_HZ)),
            ],
        );
        write_raw(&path, &[4, 3, 8, 1], &ramp(8), &keys);
        let real = read_cube(&path).unwrap();
        assert!(!real.spectral.flipped);
        assert_eq!(real.spectral.rest_frequency_hz, Some(HI_REST_FREQUENCY_HZ));
        let radio = VelocityConvention::Radio.velocity_kms(1419.0e6, HI_REST_FREQUENCY_HZ);
        assert!((real.channel_velocities_kms[1] - radio).abs() < 1e-8);
        assert_eq!(real.cube.data[[7, 0, 3]], 703.0);
        let options = CubeReadOptions { frequency_convention: VelocityConvention::Optical, ..Default::default() };
        let optical = read_cube_with(&path, &options).unwrap();
        let v = VelocityConvention::Optical.velocity_kms(1419.0e6, HI_REST_FREQUENCY_HZ);
        assert!((optical.channel_velocities_kms[1] - v).abs() < 1e-8);
        assert!(optical.spectral.max_offset_channels > 0.0);
    }

    #[test]
    fn per_channel_beams_follow_their_channels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meerkat.fits");
        let mut keys: Vec<(&str, Key<'_>)> =
            sky_keys().into_iter().filter(|(k, _)| !k.starts_with('B') || *k == "BUNIT").collect();
        keys.extend([
            ("CTYPE3", Key::Text("VRAD")),
            ("CRPIX3", Key::Num(1.0)),
            ("CRVAL3", Key::Num(5.0e5)),
            ("CDELT3", Key::Num(-5.5e3)),
            ("BMAJ1", Key::Num(10.0 / 3600.0)),
            ("BMIN1", Key::Num(8.0 / 3600.0)),
            ("BPA1", Key::Num(10.0)),
            ("BMAJ2", Key::Num(11.0 / 3600.0)),
            ("BMIN2", Key::Num(12.0 / 3600.0)),
            ("BPA2", Key::Num(20.0)),
            ("BMAJ3", Key::Num(12.0 / 3600.0)),
            ("BMIN3", Key::Num(9.0 / 3600.0)),
            ("BPA3", Key::Num(30.0)),
        ]);
        write_raw(&path, &[4, 3, 3], &ramp(3), &keys);
        let real = read_cube(&path).unwrap();
        let beams = real.channel_beams.as_ref().unwrap();
        assert!(real.spectral.flipped);
        assert!(close(beams[0].bmaj_arcsec, 12.0, 1e-12) && close(beams[2].bmaj_arcsec, 10.0, 1e-12));
        // bmin > bmaj is swapped.
        assert!(close(beams[1].bmaj_arcsec, 12.0, 1e-12) && close(beams[1].bmin_arcsec, 11.0, 1e-12));
        assert_eq!(beams[1].bpa_deg, 110.0);
        assert_eq!(real.cube.beam, Some(beams[1]));
        assert_eq!(real.beam_of_channel(2), Some(beams[2]));
        // An incomplete set is refused, naming the key.
        let short: Vec<(&str, Key<'_>)> = keys.into_iter().filter(|(k, _)| *k != "BMIN3").collect();
        write_raw(&path, &[4, 3, 3], &ramp(3), &short);
        let err = read_cube(&path).unwrap_err().to_string();
        assert!(err.contains("BMIN3") && err.contains("meerkat.fits"), "{err}");
    }

    #[test]
    fn kelvin_becomes_jy_per_beam_with_the_beam_and_frequency() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kelvin.fits");
        let mut keys: Vec<(&str, Key<'_>)> = sky_keys().into_iter().filter(|(k, _)| *k != "BUNIT").collect();
        keys.extend([
            ("BUNIT", Key::Text("K")),
            ("CTYPE3", Key::Text("VRAD")),
            ("CRPIX3", Key::Num(1.0)),
            ("CRVAL3", Key::Num(0.0)),
            ("CDELT3", Key::Num(1.0e4)),
        ]);
        write_raw(&path, &[4, 3, 2], &[1.0; 24], &keys);
        let real = read_cube(&path).unwrap();
        assert_eq!(real.cube.unit, CubeUnit::JyPerBeam);
        let nu0 = HI_REST_FREQUENCY_HZ * 1e-9;
        assert!(close(real.cube.data[[0, 1, 1]], 30.0 * 20.0 * nu0 * nu0 / 1.222e6, 1e-6));
        let nu1 = HI_REST_FREQUENCY_HZ * (1.0 - 10.0 / SPEED_OF_LIGHT_KMS) * 1e-9;
        assert!(close(real.cube.data[[1, 1, 1]], 30.0 * 20.0 * nu1 * nu1 / 1.222e6, 1e-6));
        // Without a beam, K cannot be converted.
        let no_beam: Vec<(&str, Key<'_>)> =
            keys.into_iter().filter(|(k, _)| !k.starts_with("BM") && *k != "BPA").collect();
        write_raw(&path, &[4, 3, 2], &[1.0; 24], &no_beam);
        let err = read_cube(&path).unwrap_err().to_string();
        assert!(err.contains("BMAJ") && err.contains("kelvin.fits"), "{err}");
    }

    #[test]
    fn bad_files_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.fits");
        let spectral = || {
            vec![
                ("CTYPE3", Key::Text("VELO-LSR")),
                ("CRPIX3", Key::Num(1.0)),
                ("CRVAL3", Key::Num(0.0)),
                ("CDELT3", Key::Num(1.0e4)),
            ]
        };
        // A velocity axis that reads (VELO-LSR, AIPS: optical, LSRK).
        write_raw(&path, &[4, 3, 2], &ramp(2), &with(sky_keys(), spectral()));
        let real = read_cube(&path).unwrap();
        assert_eq!(real.spectral.frame.as_deref(), Some("LSRK"));
        assert_eq!(real.spectral.convention, VelocityConvention::Optical);
        // A non-degenerate Stokes axis.
        let stokes = vec![
            ("CTYPE3", Key::Text("STOKES")),
            ("CTYPE4", Key::Text("FREQ")),
            ("RESTFRQ", Key::Num(1.42e9)),
            ("CDELT4", Key::Num(1e4)),
            ("CRVAL4", Key::Num(1.4e9)),
        ];
        write_raw(&path, &[4, 3, 2, 2], &ramp(4), &with(sky_keys(), stokes));
        let err = read_cube(&path).unwrap_err().to_string();
        assert!(err.contains("STOKES") && err.contains("NAXIS3"), "{err}");
        // An unknown unit.
        let mut keys: Vec<(&str, Key<'_>)> = sky_keys().into_iter().filter(|(k, _)| *k != "BUNIT").collect();
        keys.push(("BUNIT", Key::Text("W/m2/Hz")));
        write_raw(&path, &[4, 3, 2], &ramp(2), &with(keys, spectral()));
        let err = read_cube(&path).unwrap_err().to_string();
        assert!(err.contains("BUNIT") && err.contains("bad.fits") && err.contains("W/m2/Hz"), "{err}");
        // Jy/beam without a beam.
        let keys: Vec<(&str, Key<'_>)> =
            sky_keys().into_iter().filter(|(k, _)| !k.starts_with("BM") && *k != "BPA").collect();
        write_raw(&path, &[4, 3, 2], &ramp(2), &with(keys, spectral()));
        assert!(read_cube(&path).unwrap_err().to_string().contains("BMAJ"));
        // Non-square pixels.
        let mut keys: Vec<(&str, Key<'_>)> = sky_keys().into_iter().filter(|(k, _)| *k != "CDELT2").collect();
        keys.push(("CDELT2", Key::Num(12.0 / 3600.0)));
        write_raw(&path, &[4, 3, 2], &ramp(2), &with(keys, spectral()));
        assert!(read_cube(&path).unwrap_err().to_string().contains("square pixels"));
        // A frequency axis without a rest frequency.
        let freq = vec![("CTYPE3", Key::Text("FREQ")), ("CRVAL3", Key::Num(1.4e9)), ("CDELT3", Key::Num(1e4))];
        write_raw(&path, &[4, 3, 2], &ramp(2), &with(sky_keys(), freq));
        assert!(read_cube(&path).unwrap_err().to_string().contains("RESTFRQ"));
        // Not a spectral cube.
        let wave = vec![("CTYPE3", Key::Text("WAVE")), ("CDELT3", Key::Num(1e-9))];
        write_raw(&path, &[4, 3, 2], &ramp(2), &with(sky_keys(), wave));
        assert!(read_cube(&path).unwrap_err().to_string().contains("WAVE"));
    }

    #[test]
    fn truncated_and_corrupt_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cube.fits");
        let header = CubeHeader::new("mock", SkyPosition { ra_deg: 0.0, dec_deg: 0.0 }, 0.0);
        let grid = SkyGrid::square(40, 5.0).unwrap();
        let mut cube = DataCube::zeros(grid, SpectralAxis::new(20, 5.0, 0.0).unwrap());
        cube.data.fill(1.0);
        write_cube(&path, &cube, &header).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        for keep in [bytes.len() / 2, 2880 + 100, 2000, 10] {
            std::fs::write(&path, &bytes[..keep]).unwrap();
            assert!(read_cube(&path).is_err(), "{keep} bytes read");
        }
        std::fs::write(&path, vec![b'x'; 5760]).unwrap();
        assert!(read_cube(&path).is_err());
        assert!(matches!(read_cube(&dir.path().join("absent.fits")), Err(MockError::Fits { .. })));
    }

    #[test]
    fn conventions_invert_and_bunits_parse() {
        for c in [VelocityConvention::Radio, VelocityConvention::Optical, VelocityConvention::Relativistic] {
            let f = c.frequency_hz(1234.5, HI_REST_FREQUENCY_HZ);
            assert!((c.velocity_kms(f, HI_REST_FREQUENCY_HZ) - 1234.5).abs() < 1e-8);
        }
        assert_eq!(parse_bunit("JY/BEAM"), Some(BrightnessUnit::JyPerBeam(1.0)));
        assert_eq!(parse_bunit("Jy beam-1"), Some(BrightnessUnit::JyPerBeam(1.0)));
        assert_eq!(parse_bunit("mJy/beam"), Some(BrightnessUnit::JyPerBeam(1e-3)));
        assert_eq!(parse_bunit("Jy/arcsec**2"), Some(BrightnessUnit::JyPerArcsec2(1.0)));
        assert_eq!(parse_bunit("K"), Some(BrightnessUnit::Kelvin(1.0)));
        assert_eq!(parse_bunit("DN"), None);
    }
}
