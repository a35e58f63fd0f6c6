//! SDSS-like ugriz frames of a galaxy's stars at a distance (delosrios2023 §2): 128 x 128 pixels over 17.2', a
//! Gaussian PSF per band and sky noise from a documented SDSS photometric model, in nanomaggies.
//!
//! # What is modelled
//! - **Light**: each star's luminosity in a band (`lum_<band>`, solar units of the band) becomes an apparent AB
//!   flux at its distance `d` from the observer, `f = L 10^(-0.4 (M_sun - 22.5)) (10 pc / d)^2` nanomaggies
//!   (1 nmgy is m_AB = 22.5). Stars are placed on the sky as the HI cubes place gas (`crate::hi::source`):
//!   `x = -atan(p . e1 / d)` (west), `y = atan(p . e2 / d)`, in perspective, so that a frame and `galmass maps hi`
//!   of the same projection and field align pixel for pixel (delosrios2023 stacks ugriz and the HI moments as the
//!   channels of one image). The light is spread by the cubic-spline SPH kernel of smoothing lengths enclosing 32
//!   neighbour stars (chu2024's choice, named [`SdssParams::n_neighbours`]) with [`crate::optical::sph::render_sph`].
//! - **PSF**: a circular Gaussian of FWHM equal to the band's median DR16 seeing (methods.md: u 1.53, g 1.44,
//!   r 1.32, i 1.26, z 1.29 arcsec; the paper's "seeing" taken as a FWHM), integrated exactly over each pixel
//!   (differences of the normal CDF), so it conserves flux also when it is far smaller than the pixels (8.06'' at
//!   the paper's field); convolved by FFT ([`crate::hi::beam::PlaneConvolver`]).
//! - **Noise** (the SDSS photometric model, sky-subtracted frames): a native SDSS pixel (0.396'') holds
//!   `S + sky` counts (DN), `sky` from the band's median DR16 sky brightness (methods.md: u 22.01, g 21.84,
//!   r 20.84, i 20.16, z 18.96 mag/arcsec^2) through the band's nanomaggies per count; its variance is
//!   `(S + sky) / gain + dark variance` DN^2. A frame pixel of area A sums `A / 0.396''^2` native pixels, so its
//!   variance is the sum of theirs; the sky's mean is removed, its noise kept. The per-pixel sky rms
//!   ([`BandConstants::sky_rms_nanomaggies`]) therefore follows from the sky brightness. Each band draws from its
//!   own ChaCha8 stream (`seed`, stream = band index): deterministic for a seed.
//!
//! # What is not (delosrios2023 used SKIRT)
//! No radiative transfer: no dust scattering or emission and no MAPPINGS-III nebular emission of stars younger
//! than 10 Myr; dust, when asked for, is the foreground screen of [`crate::optical::dust`], which only dims and
//! reddens. Discs seen edge-on are therefore brighter and bluer than SKIRT's, and lack scattered light.
//!
//! # Constants
//! Exposure 53.907456 s (the SDSS drift-scan time per band). Gains (e-/DN) and dark variances (DN^2 per native
//! pixel) are those of camera column 1 in the SDSS DR7 documentation (`"Gain and dark variance by camcol"`):
//! u 1.62 / 9.61, g 3.32 / 15.6025, r 4.71 / 1.8225, i 5.165 / 7.84, z 4.745 / 0.81. Nanomaggies per count are
//! typical values of the `NMGY` keyword of SDSS DR8+ frames (u 0.0100, g 0.0038, r 0.0052, i 0.0069, z 0.0330):
//! they scale the Poisson term and differ by a few per cent from field to field.

use std::path::Path;

use fitsio::FitsFile;
use galmass_core::neighbours::smoothing_lengths_kpc;
use galmass_core::params::Params;
use galmass_core::{LineOfSight, Particles};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::beam::{PlaneConvolver, FWHM_PER_SIGMA};
use crate::hi::cube::ARCSEC_PER_RAD;
use crate::hi::fits_cube::{create_with_primary, fits_err, write_pixels, FitsPrecision, SkyPosition};
use crate::hi::line::normal_cdf;
use crate::optical::sph::{band_luminosities, render_sph, ImageGrid};

/// SDSS native pixel, arcsec.
pub const NATIVE_PIXEL_ARCSEC: f64 = 0.396;
/// Exposure time per band, s.
pub const EXPOSURE_S: f64 = 53.907456;
/// The AB magnitude of one nanomaggy.
pub const NANOMAGGY_ZERO_POINT: f64 = 22.5;
/// One parsec in kpc.
const PC_KPC: f64 = 1e-3;

/// The photometric constants of one SDSS band (module docs give the sources).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BandConstants {
    /// `u`, `g`, `r`, `i` or `z`.
    pub band: &'static str,
    /// Median seeing FWHM, arcsec (delosrios2023 / DR16).
    pub seeing_fwhm_arcsec: f64,
    /// Median sky brightness, AB mag per arcsec^2 (delosrios2023 / DR16).
    pub sky_mag_arcsec2: f64,
    /// Gain, electrons per DN.
    pub gain: f64,
    /// Dark variance, DN^2 per native pixel.
    pub dark_variance: f64,
    /// Nanomaggies per DN.
    pub nmgy_per_count: f64,
}

impl BandConstants {
    /// Sky flux per arcsec^2, nanomaggies.
    pub fn sky_nmgy_arcsec2(&self) -> f64 {
        10f64.powf(-0.4 * (self.sky_mag_arcsec2 - NANOMAGGY_ZERO_POINT))
    }

    /// Native pixels in a frame pixel of `pixel_arcsec`.
    fn native_per_pixel(pixel_arcsec: f64) -> f64 {
        (pixel_arcsec / NATIVE_PIXEL_ARCSEC).powi(2)
    }

    /// Variance (nmgy^2) of a frame pixel of `pixel_arcsec` holding `source_nmgy` of source flux.
    pub fn pixel_variance_nmgy2(&self, source_nmgy: f64, pixel_arcsec: f64) -> f64 {
        let n = Self::native_per_pixel(pixel_arcsec);
        let sky_dn = self.sky_nmgy_arcsec2() * pixel_arcsec * pixel_arcsec / self.nmgy_per_count;
        let source_dn = source_nmgy.max(0.0) / self.nmgy_per_count;
        let var_dn = (source_dn + sky_dn) / self.gain + n * self.dark_variance;
        var_dn * self.nmgy_per_count * self.nmgy_per_count
    }

    /// The sky noise rms of a frame pixel of `pixel_arcsec` (no source), nanomaggies.
    pub fn sky_rms_nanomaggies(&self, pixel_arcsec: f64) -> f64 {
        self.pixel_variance_nmgy2(0.0, pixel_arcsec).sqrt()
    }
}

/// The five bands (module docs).
pub const SDSS_BANDS: [BandConstants; 5] = [
    BandConstants {
        band: "u",
        seeing_fwhm_arcsec: 1.53,
        sky_mag_arcsec2: 22.01,
        gain: 1.62,
        dark_variance: 9.61,
        nmgy_per_count: 0.0100,
    },
    BandConstants {
        band: "g",
        seeing_fwhm_arcsec: 1.44,
        sky_mag_arcsec2: 21.84,
        gain: 3.32,
        dark_variance: 15.6025,
        nmgy_per_count: 0.0038,
    },
    BandConstants {
        band: "r",
        seeing_fwhm_arcsec: 1.32,
        sky_mag_arcsec2: 20.84,
        gain: 4.71,
        dark_variance: 1.8225,
        nmgy_per_count: 0.0052,
    },
    BandConstants {
        band: "i",
        seeing_fwhm_arcsec: 1.26,
        sky_mag_arcsec2: 20.16,
        gain: 5.165,
        dark_variance: 7.84,
        nmgy_per_count: 0.0069,
    },
    BandConstants {
        band: "z",
        seeing_fwhm_arcsec: 1.29,
        sky_mag_arcsec2: 18.96,
        gain: 4.745,
        dark_variance: 0.81,
        nmgy_per_count: 0.0330,
    },
];

/// The constants of band `name`.
pub fn band_constants(name: &str) -> Option<&'static BandConstants> {
    SDSS_BANDS.iter().find(|b| b.band == name)
}

/// Parameters of the frames (unchecked; [`Params::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SdssParams {
    /// Pixels per side (delosrios2023: 128).
    pub npix: usize,
    /// Pixel size, arcsec (delosrios2023: 17.2' / 128 = 8.0625'').
    pub pixel_arcsec: f64,
    /// Convolve with the band's PSF.
    pub psf: bool,
    /// Add sky and source noise.
    pub noise: bool,
    /// Neighbour stars enclosed by each smoothing length.
    pub n_neighbours: usize,
}

impl SdssParams {
    /// The paper presets.
    pub const PRESETS: [&'static str; 1] = ["delosrios2023"];

    /// delosrios2023 §2: 128 x 128 over 17.2'.
    pub const DELOSRIOS2023: SdssParams =
        SdssParams { npix: 128, pixel_arcsec: 17.2 * 60.0 / 128.0, psf: true, noise: true, n_neighbours: 32 };

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        (name == "delosrios2023").then_some(Self::DELOSRIOS2023)
    }
}

/// Checked [`SdssParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SdssValidParams(SdssParams);

impl SdssValidParams {
    /// The parameters.
    pub fn params(&self) -> &SdssParams {
        &self.0
    }
}

impl Params for SdssParams {
    type Valid = SdssValidParams;
    type Error = MockError;

    fn check(&self) -> Result<SdssValidParams, MockError> {
        ImageGrid::new(self.npix, 1.0)?;
        if !self.pixel_arcsec.is_finite() || self.pixel_arcsec <= 0.0 {
            return Err(MockError::InvalidParameter {
                name: "pixel_arcsec",
                reason: format!("{}, expected a positive number", self.pixel_arcsec),
            });
        }
        if self.n_neighbours == 0 {
            return Err(MockError::InvalidParameter { name: "n_neighbours", reason: "must be at least 1".into() });
        }
        Ok(SdssValidParams(*self))
    }
}

/// One band's frame.
#[derive(Debug, Clone, PartialEq)]
pub struct BandFrame {
    /// The band's constants.
    pub constants: BandConstants,
    /// The frame `(y, x)`, nanomaggies; x grows to the west.
    pub image: Array2<f64>,
    /// The PSF's FWHM, arcsec (0: none).
    pub psf_fwhm_arcsec: f64,
    /// The sky noise rms per pixel, nanomaggies (0: no noise).
    pub sky_rms_nanomaggies: f64,
}

/// The five frames of one projection.
#[derive(Debug, Clone, PartialEq)]
pub struct SdssFrames {
    /// Pixel size, arcsec.
    pub pixel_arcsec: f64,
    /// Distance, Mpc.
    pub distance_mpc: f64,
    /// Stars behind the observer, left out.
    pub n_behind: usize,
    /// The bands in u, g, r, i, z order.
    pub bands: Vec<BandFrame>,
}

/// Stars on the sky: positions and smoothing lengths in arcsec, distances in kpc.
#[derive(Debug, Clone, PartialEq)]
pub struct SkyStars {
    /// West offsets, arcsec.
    pub x_arcsec: Vec<f64>,
    /// North offsets, arcsec.
    pub y_arcsec: Vec<f64>,
    /// Angular smoothing lengths (compact support), arcsec.
    pub h_arcsec: Vec<f64>,
    /// Distance of each star from the observer, kpc (infinite for a star behind the observer).
    pub distance_kpc: Vec<f64>,
    /// Stars behind the observer (a galaxy's far tail can reach past a nearby observer): they add no light.
    pub n_behind: usize,
}

impl SkyStars {
    /// `stars` seen along `los` from `distance_mpc` (module docs), smoothing lengths from `n_neighbours`.
    pub fn new(
        stars: &Particles,
        los: &LineOfSight,
        distance_mpc: f64,
        n_neighbours: usize,
    ) -> Result<Self, MockError> {
        if !distance_mpc.is_finite() || distance_mpc <= 0.0 {
            return Err(MockError::InvalidParameter {
                name: "distance_mpc",
                reason: format!("{distance_mpc}, expected > 0"),
            });
        }
        if stars.len() <= n_neighbours {
            return Err(MockError::TooFewPoints {
                what: "SDSS frame".into(),
                needed: n_neighbours + 1,
                got: stars.len(),
            });
        }
        let h = smoothing_lengths_kpc(stars.pos_kpc().view(), n_neighbours)?;
        let (e1, e2) = los.sky_basis();
        let n = los.direction();
        let d0 = distance_mpc * 1e3;
        let pos = stars.pos_kpc();
        let mut out =
            SkyStars { x_arcsec: vec![], y_arcsec: vec![], h_arcsec: vec![], distance_kpc: vec![], n_behind: 0 };
        for i in 0..stars.len() {
            let p = [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]];
            let dot = |a: [f64; 3]| p[0] * a[0] + p[1] * a[1] + p[2] * a[2];
            let depth = d0 + dot(n);
            if depth <= 0.0 {
                out.x_arcsec.push(0.0);
                out.y_arcsec.push(0.0);
                out.h_arcsec.push(0.0);
                out.distance_kpc.push(f64::INFINITY);
                out.n_behind += 1;
                continue;
            }
            out.x_arcsec.push((-dot(e1) / depth).atan() * ARCSEC_PER_RAD);
            out.y_arcsec.push((dot(e2) / depth).atan() * ARCSEC_PER_RAD);
            out.h_arcsec.push((h[i] / depth).atan() * ARCSEC_PER_RAD);
            out.distance_kpc.push(depth);
        }
        Ok(out)
    }
}

/// The apparent AB flux, nanomaggies, of `lum_lsun` solar luminosities in a band where the Sun's absolute AB
/// magnitude is `msun`, at `distance_kpc`: `m = msun - 2.5 log10 L + 5 log10(d / 10 pc)`,
/// `f = 10^(-0.4 (m - 22.5))` (0 at an infinite distance).
pub fn apparent_flux_nanomaggies(lum_lsun: f64, msun: f64, distance_kpc: f64) -> f64 {
    lum_lsun * 10f64.powf(-0.4 * (msun - NANOMAGGY_ZERO_POINT)) * (10.0 * PC_KPC / distance_kpc).powi(2)
}

/// The PSF of `fwhm_arcsec` on pixels of `pixel_arcsec`: a Gaussian integrated over each pixel, out to 4 sigma
/// (at least one pixel each side), normalised.
pub fn psf_kernel(fwhm_arcsec: f64, pixel_arcsec: f64) -> Array2<f64> {
    let sigma = fwhm_arcsec / FWHM_PER_SIGMA / pixel_arcsec;
    let half = ((4.0 * sigma).ceil() as usize).max(1);
    let axis: Vec<f64> = (0..=2 * half)
        .map(|k| {
            let c = k as f64 - half as f64;
            normal_cdf((c + 0.5) / sigma) - normal_cdf((c - 0.5) / sigma)
        })
        .collect();
    let mut kernel = Array2::from_shape_fn((2 * half + 1, 2 * half + 1), |(i, j)| axis[i] * axis[j]);
    let sum = kernel.sum();
    kernel.mapv_inplace(|v| v / sum);
    kernel
}

/// The frame of one band from stars on the sky and their luminosities (solar units of the band, Sun's absolute
/// AB magnitude `msun`): flux, PSF, noise as `params` say, noise from `seed` (stream `stream`).
pub fn band_frame(
    sky: &SkyStars,
    lum: &[f64],
    msun: f64,
    constants: &BandConstants,
    params: &SdssValidParams,
    seed: u64,
    stream: u64,
) -> Result<BandFrame, MockError> {
    let p = params.params();
    if lum.len() != sky.x_arcsec.len() {
        return Err(MockError::BadInput {
            name: "lum",
            expected: format!("{} luminosities", sky.x_arcsec.len()),
            got: lum.len().to_string(),
        });
    }
    let flux: Vec<f64> =
        lum.iter().zip(&sky.distance_kpc).map(|(l, d)| apparent_flux_nanomaggies(*l, msun, *d)).collect();
    let grid = ImageGrid::new(p.npix, 0.5 * p.npix as f64 * p.pixel_arcsec)?;
    // The image's x axis grows to the west: render_sph's +x.
    let mut image = render_sph(&sky.x_arcsec, &sky.y_arcsec, &sky.h_arcsec, &flux, &grid)?;
    let psf_fwhm = if p.psf { constants.seeing_fwhm_arcsec } else { 0.0 };
    if p.psf {
        let kernel = psf_kernel(psf_fwhm, p.pixel_arcsec);
        if kernel.nrows() > 1 {
            let mut conv = PlaneConvolver::new(p.npix, p.npix, kernel.view())?;
            conv.convolve(&mut image.view_mut());
        }
    }
    let sky_rms = if p.noise {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        for v in image.iter_mut() {
            let sd = constants.pixel_variance_nmgy2(*v, p.pixel_arcsec).sqrt();
            let z: f64 = StandardNormal.sample(&mut rng);
            *v += sd * z;
        }
        constants.sky_rms_nanomaggies(p.pixel_arcsec)
    } else {
        0.0
    };
    Ok(BandFrame { constants: *constants, image, psf_fwhm_arcsec: psf_fwhm, sky_rms_nanomaggies: sky_rms })
}

/// delosrios2023's five frames of `stars` along `los` at `distance_mpc` (module docs); luminosities from the
/// stars' `lum_u` ... `lum_z` (pass attenuated stars for dust).
pub fn sdss_frames(
    stars: &Particles,
    los: &LineOfSight,
    distance_mpc: f64,
    params: &SdssValidParams,
    seed: u64,
) -> Result<SdssFrames, MockError> {
    let sky = SkyStars::new(stars, los, distance_mpc, params.params().n_neighbours)?;
    let mut bands = Vec::with_capacity(5);
    for (k, constants) in SDSS_BANDS.iter().enumerate() {
        let (lum, msun) = band_luminosities(stars, constants.band)?;
        bands.push(band_frame(&sky, &lum.to_vec(), msun, constants, params, seed, k as u64)?);
    }
    Ok(SdssFrames { pixel_arcsec: params.params().pixel_arcsec, distance_mpc, n_behind: sky.n_behind, bands })
}

/// Writes `frames` as FITS at `path` (atomically): one image HDU per band (the primary holds u), `EXTNAME` the band,
/// a TAN WCS about `centre` (`CDELT1 < 0`: east to the left), `BUNIT = 'nanomaggy'` and the photometric keys
/// `FILTER`, `NMGY`, `EXPTIME`, `GAIN`, `DARKVAR`, `SKY` (nmgy/arcsec^2), `SKYRMS`, `PSF_FWHM`, `MAG_ZP`,
/// `DISTMPC`; float32 pixels.
pub fn write_frames_fits(path: &Path, frames: &SdssFrames, centre: SkyPosition, object: &str) -> Result<(), MockError> {
    if frames.bands.is_empty() {
        return Err(MockError::BadInput { name: "frames", expected: "at least one band".into(), got: "none".into() });
    }
    galmass_core::atomic::write_atomic_with(
        path,
        |tmp| write_frames_to(tmp, path, frames, centre, object),
        MockError::from,
    )
}

fn write_frames_to(
    tmp: &Path,
    path: &Path,
    frames: &SdssFrames,
    centre: SkyPosition,
    object: &str,
) -> Result<(), MockError> {
    let (ny, nx) = frames.bands[0].image.dim();
    let dims = [ny, nx];
    let (mut file, primary) = create_with_primary(tmp, path, &dims, FitsPrecision::Float32)?;
    let mut primary = Some(primary);
    let description =
        fitsio::images::ImageDescription { data_type: fitsio::images::ImageType::Float, dimensions: &dims };
    let step = frames.pixel_arcsec / 3600.0;
    for frame in &frames.bands {
        let c = &frame.constants;
        let hdu = match primary.take() {
            Some(h) => h,
            None => file
                .create_image(c.band.to_uppercase(), &description)
                .map_err(|e| fits_err(path, &format!("creating HDU {}", c.band), e))?,
        };
        write_pixels(path, &mut file, &hdu, frame.image.iter(), FitsPrecision::Float32)?;
        let texts = [
            ("EXTNAME", c.band.to_uppercase(), "band"),
            ("FILTER", c.band.to_owned(), "SDSS filter"),
            ("CTYPE1", "RA---TAN".into(), "right ascension, gnomonic projection"),
            ("CTYPE2", "DEC--TAN".into(), "declination, gnomonic projection"),
            ("CUNIT1", "deg".into(), ""),
            ("CUNIT2", "deg".into(), ""),
            ("BUNIT", "nanomaggy".into(), "1 nmgy = 3.631e-6 Jy (m_AB = 22.5)"),
            ("RADESYS", "ICRS".into(), ""),
            ("OBJECT", object.chars().filter(|ch| ch.is_ascii_graphic() || *ch == ' ').take(68).collect(), ""),
            ("ORIGIN", "galmass".into(), "SDSS-like mock frame (no radiative transfer)"),
        ];
        for (key, value, comment) in &texts {
            hdu.write_key(&mut file, key, (value.as_str(), *comment))
                .map_err(|e| fits_err(path, &format!("writing key {key}"), e))?;
        }
        let numbers = [
            ("CRPIX1", 0.5 * (nx as f64 + 1.0), "reference pixel: the field centre"),
            ("CRPIX2", 0.5 * (ny as f64 + 1.0), "reference pixel: the field centre"),
            ("CRVAL1", centre.ra_deg, "[deg]"),
            ("CRVAL2", centre.dec_deg, "[deg]"),
            ("CDELT1", -step, "[deg] east to the left"),
            ("CDELT2", step, "[deg]"),
            ("EQUINOX", 2000.0, ""),
            ("NMGY", c.nmgy_per_count, "nanomaggies per count"),
            ("EXPTIME", EXPOSURE_S, "[s]"),
            ("GAIN", c.gain, "[e-/DN]"),
            ("DARKVAR", c.dark_variance, "[DN^2] per native 0.396'' pixel"),
            ("SKY", c.sky_nmgy_arcsec2(), "[nmgy/arcsec2] subtracted sky"),
            ("SKYRMS", frame.sky_rms_nanomaggies, "[nmgy] sky noise per pixel"),
            ("PSF_FWHM", frame.psf_fwhm_arcsec, "[arcsec] Gaussian PSF (0: none)"),
            ("SEEING", frame.psf_fwhm_arcsec, "[arcsec]"),
            ("MAG_ZP", NANOMAGGY_ZERO_POINT, "AB magnitude of 1 nmgy"),
            ("DISTMPC", frames.distance_mpc, "[Mpc] distance"),
            ("PIXSCALE", frames.pixel_arcsec, "[arcsec/pixel]"),
        ];
        for (key, value, comment) in numbers {
            hdu.write_key(&mut file, key, (value, comment))
                .map_err(|e| fits_err(path, &format!("writing key {key}"), e))?;
        }
    }
    Ok(())
}

/// A 2-D image with its celestial WCS, as read from FITS.
#[derive(Debug, Clone, PartialEq)]
pub struct WcsImage {
    /// Pixels `(y, x)`.
    pub data: Array2<f64>,
    /// `BUNIT` (empty when absent).
    pub unit: String,
    /// `CTYPE1`, `CTYPE2`.
    pub ctype: [String; 2],
    /// `CRVAL1`, `CRVAL2`, degrees.
    pub crval: [f64; 2],
    /// `CRPIX1`, `CRPIX2` (1-based).
    pub crpix: [f64; 2],
    /// The linear transform (degrees per pixel): `CD` or `CDELT` x `PC`.
    pub cd: [[f64; 2]; 2],
}

impl WcsImage {
    /// Pixel scale, arcsec (the square root of the transform's determinant).
    pub fn pixel_arcsec(&self) -> f64 {
        (self.cd[0][0] * self.cd[1][1] - self.cd[0][1] * self.cd[1][0]).abs().sqrt() * 3600.0
    }
}

/// Reads the image of HDU `hdu_index` with its celestial WCS (`CD` matrix, or `CDELT` with an optional `PC`).
pub fn read_wcs_image(path: &Path, hdu_index: usize) -> Result<WcsImage, MockError> {
    let (data, unit) = crate::fits::read_image(path, hdu_index)?;
    let mut file = FitsFile::open(path).map_err(|e| fits_err(path, "opening", e))?;
    let hdu = file.hdu(hdu_index).map_err(|e| fits_err(path, &format!("opening HDU {hdu_index}"), e))?;
    let text = |file: &mut FitsFile, key: &str| -> Result<String, MockError> {
        hdu.read_key::<String>(file, key).map_err(|e| fits_err(path, &format!("reading key {key}"), e))
    };
    let number = |file: &mut FitsFile, key: &str| hdu.read_key::<f64>(file, key).ok();
    let need = |file: &mut FitsFile, key: &str| -> Result<f64, MockError> {
        hdu.read_key::<f64>(file, key).map_err(|e| fits_err(path, &format!("reading key {key}"), e))
    };
    let ctype = [text(&mut file, "CTYPE1")?, text(&mut file, "CTYPE2")?];
    let crval = [need(&mut file, "CRVAL1")?, need(&mut file, "CRVAL2")?];
    let crpix = [need(&mut file, "CRPIX1")?, need(&mut file, "CRPIX2")?];
    let cd = match number(&mut file, "CD1_1") {
        Some(cd11) => [
            [cd11, number(&mut file, "CD1_2").unwrap_or(0.0)],
            [number(&mut file, "CD2_1").unwrap_or(0.0), number(&mut file, "CD2_2").unwrap_or(0.0)],
        ],
        None => {
            let (d1, d2) = (need(&mut file, "CDELT1")?, need(&mut file, "CDELT2")?);
            let pc = |file: &mut FitsFile, key: &str, default: f64| number(file, key).unwrap_or(default);
            [
                [d1 * pc(&mut file, "PC1_1", 1.0), d1 * pc(&mut file, "PC1_2", 0.0)],
                [d2 * pc(&mut file, "PC2_1", 0.0), d2 * pc(&mut file, "PC2_2", 1.0)],
            ]
        }
    };
    Ok(WcsImage { data, unit: unit.unwrap_or_default(), ctype, crval, crpix, cd })
}

#[cfg(test)]
mod tests {
    use galmass_core::particles::BandLuminosity;
    use ndarray::Array1;

    use super::*;

    fn point_source_stars(lum: f64) -> Particles {
        // One bright star at the centre and 40 faint ones far outside the field (smoothing lengths need
        // neighbours); the bright one gets a tiny kernel from a tight cluster of dark companions.
        let n = 41;
        let pos = Array2::from_shape_fn((n, 3), |(i, k)| if i == 0 { 0.0 } else { 1e-6 * ((i * (k + 2)) % 7) as f64 });
        let mut stars = Particles::new(pos, Array2::zeros((n, 3)), Array1::ones(n)).unwrap();
        for b in SDSS_BANDS {
            let l = Array1::from_shape_fn(n, |i| if i == 0 { lum } else { 0.0 });
            let msun = [6.39, 5.11, 4.65, 4.53, 4.50]["ugriz".find(b.band).unwrap()];
            stars.set_luminosity(b.band, BandLuminosity { lum_lsun: l, solar_abs_mag_ab: msun }).unwrap();
        }
        stars
    }

    fn fwhm_of(image: &Array2<f64>, pixel: f64) -> f64 {
        let (mut s, mut sx, mut sxx) = (0.0, 0.0, 0.0);
        for ((_, j), v) in image.indexed_iter() {
            s += v;
            sx += v * j as f64;
            sxx += v * (j as f64).powi(2);
        }
        let var = sxx / s - (sx / s).powi(2);
        var.sqrt() * pixel * FWHM_PER_SIGMA
    }

    #[test]
    fn a_point_source_has_the_band_fwhm_and_keeps_its_flux() {
        let stars = point_source_stars(1e8);
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let fine =
            SdssParams { npix: 200, pixel_arcsec: 0.1, noise: false, ..SdssParams::DELOSRIOS2023 }.check().unwrap();
        let frames = sdss_frames(&stars, &los, 15.0, &fine, 0).unwrap();
        for f in &frames.bands {
            let measured = fwhm_of(&f.image, 0.1);
            // The pixel adds p^2/12 to the variance: negligible at 0.1''.
            assert!((measured / f.constants.seeing_fwhm_arcsec - 1.0).abs() < 0.01, "{}: {measured}", f.constants.band);
        }
        // At SDSS-like pixels the flux is kept: a 1e8 Lsun_r star at 15 Mpc.
        let coarse = SdssParams { noise: false, ..SdssParams::DELOSRIOS2023 }.check().unwrap();
        let frames = sdss_frames(&stars, &los, 15.0, &coarse, 0).unwrap();
        let r = &frames.bands[2];
        let m = 4.65 - 2.5 * 1e8f64.log10() + 5.0 * (15e6f64 / 10.0).log10();
        let expected = 10f64.powf(-0.4 * (m - 22.5));
        assert!((r.image.sum() / expected - 1.0).abs() < 1e-6, "{} vs {expected}", r.image.sum());
        // Inverse square: at 30 Mpc a quarter.
        let far = sdss_frames(&stars, &los, 30.0, &coarse, 0).unwrap();
        assert!((far.bands[2].image.sum() / r.image.sum() - 0.25).abs() < 1e-6);
    }

    #[test]
    fn the_noise_model_gives_the_sky_rms_it_documents() {
        let mut stars = point_source_stars(0.0);
        stars = stars.select(&(0..41).collect::<Vec<_>>()).unwrap();
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let params = SdssParams { npix: 256, ..SdssParams::DELOSRIOS2023 }.check().unwrap();
        let frames = sdss_frames(&stars, &los, 15.0, &params, 7).unwrap();
        for f in &frames.bands {
            let n = f.image.len() as f64;
            let mean = f.image.sum() / n;
            let sd = (f.image.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
            assert!(
                (sd / f.sky_rms_nanomaggies - 1.0).abs() < 0.02,
                "{}: {sd} vs {}",
                f.constants.band,
                f.sky_rms_nanomaggies
            );
            assert!(mean.abs() < 5.0 * f.sky_rms_nanomaggies / n.sqrt(), "sky subtracted");
        }
        // The documented formula, by hand for r at 8.0625'' pixels.
        let r = band_constants("r").unwrap();
        let p = 17.2 * 60.0 / 128.0;
        let sky_dn = 10f64.powf(-0.4 * (20.84 - 22.5)) * p * p / 0.0052;
        let var = sky_dn / 4.71 + (p / 0.396).powi(2) * 1.8225;
        assert!((r.sky_rms_nanomaggies(p) - var.sqrt() * 0.0052).abs() < 1e-12);
        // Deterministic for a seed, different for another.
        let again = sdss_frames(&stars, &los, 15.0, &params, 7).unwrap();
        assert_eq!(again, frames);
        assert_ne!(sdss_frames(&stars, &los, 15.0, &params, 8).unwrap().bands[0].image, frames.bands[0].image);
    }

    #[test]
    fn frames_round_trip_through_fits_with_a_tan_wcs() {
        let stars = point_source_stars(1e9);
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let params = SdssParams { npix: 32, ..SdssParams::DELOSRIOS2023 }.check().unwrap();
        let frames = sdss_frames(&stars, &los, 12.0, &params, 1).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.fits");
        write_frames_fits(&path, &frames, SkyPosition { ra_deg: 150.0, dec_deg: 2.0 }, "mock").unwrap();
        for (k, f) in frames.bands.iter().enumerate() {
            let back = read_wcs_image(&path, k).unwrap();
            assert_eq!(back.unit, "nanomaggy");
            assert_eq!(back.ctype, ["RA---TAN".to_string(), "DEC--TAN".to_string()]);
            assert!(back.cd[0][0] < 0.0 && (back.pixel_arcsec() - params.params().pixel_arcsec).abs() < 1e-9);
            assert_eq!(back.crval, [150.0, 2.0]);
            let max = f.image.iter().zip(back.data.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(max <= 1e-6 * f.image.iter().fold(0.0f64, |a, v| a.max(v.abs())), "float32 round trip");
        }
    }

    #[test]
    fn the_sdss_cutout_fixture_reads_with_its_wcs() {
        let Some(path) = galmass_core::fixtures::fixture("fits/ic3478rss_256.fits") else { return };
        let image = read_wcs_image(&path, 0).unwrap();
        assert_eq!(image.data.dim(), (256, 256));
        assert_eq!(image.unit, "DNs");
        assert_eq!(image.ctype, ["RA---TAN".to_string(), "DEC--TAN".to_string()]);
        assert!((image.data.sum() - 825_563.0).abs() < 1.0, "{}", image.data.sum());
        assert!((image.pixel_arcsec() - 0.396).abs() < 0.01, "{}", image.pixel_arcsec());
        // The header's WCS (astropy reads the same keys): the frame is rotated ~90 degrees (CD1_2, CD2_1 carry it).
        assert_eq!(image.crval, [188.175424600000, 14.2423539000000]);
        assert_eq!(image.crpix, [547.500000000002, 46.5000000000011]);
        assert_eq!(
            image.cd,
            [[1.56669558723135e-06, 1.09964763767387e-04], [1.10001010742188e-04, -1.5899395161293e-06]]
        );
        assert!((image.pixel_arcsec() - 0.3960).abs() < 5e-4, "{}", image.pixel_arcsec());
    }

    #[test]
    fn flux_follows_the_magnitude_formula_and_the_inverse_square() {
        // 1 Lsun_r at 10 pc has the Sun's absolute magnitude, m = 4.65.
        let f = apparent_flux_nanomaggies(1.0, 4.65, 10.0 * PC_KPC);
        assert!((f / 10f64.powf(-0.4 * (4.65 - 22.5)) - 1.0).abs() < 1e-12, "{f}");
        assert!((apparent_flux_nanomaggies(1.0, 4.65, 20.0 * PC_KPC) / f - 0.25).abs() < 1e-12);
        // 1e10 Lsun at 10 Mpc: m = 4.65 - 25 + 30 = 9.65.
        let g = apparent_flux_nanomaggies(1e10, 4.65, 1e4);
        assert!((g / 10f64.powf(-0.4 * (9.65 - 22.5)) - 1.0).abs() < 1e-12, "{g}");
        assert_eq!(apparent_flux_nanomaggies(1.0, 4.65, f64::INFINITY), 0.0);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let stars = point_source_stars(1.0);
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let params = SdssParams::DELOSRIOS2023.check().unwrap();
        assert!(sdss_frames(&stars, &los, 0.0, &params, 0).is_err());
        // A star behind the observer adds no light.
        let mut pos = stars.pos_kpc().clone();
        pos[[0, 2]] = -2e4;
        let behind = Particles::new(pos, Array2::zeros((41, 3)), Array1::ones(41)).unwrap();
        let mut behind = behind;
        for (name, l) in stars.luminosities() {
            behind.set_luminosity(name, l.clone()).unwrap();
        }
        let frames = sdss_frames(
            &behind,
            &los,
            10.0,
            &SdssParams { noise: false, ..SdssParams::DELOSRIOS2023 }.check().unwrap(),
            0,
        )
        .unwrap();
        assert_eq!(frames.n_behind, 1);
        assert_eq!(frames.bands[2].image.sum(), 0.0);
        assert!(SdssParams { pixel_arcsec: -1.0, ..SdssParams::DELOSRIOS2023 }.check().is_err());
        let bare = Particles::new(
            Array2::from_shape_fn((50, 3), |(i, k)| (i + k) as f64),
            Array2::zeros((50, 3)),
            Array1::ones(50),
        )
        .unwrap();
        let err = sdss_frames(&bare, &los, 10.0, &params, 0).unwrap_err().to_string();
        assert!(err.contains("band u"), "{err}");
    }
}
