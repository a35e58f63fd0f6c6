//! The parameters of a mock HI observation, with the presets of delosrios2023 and exposito2026
//! (`configs/maps/hi.toml` holds the same values for the pipeline; a workspace test checks they agree).
//!
//! - delosrios2023 (§2.3, methods.md): 64 channels of 5 km/s, a Gaussian beam of FWHM 10'' truncated at 3 FWHM,
//!   noise rms 5e-6 Jy/arcsec^2 before convolution, cubic-spline kernel, 128 x 128 pixels over 17.2' (8.0625''
//!   pixels). The paper draws the distance uniformly in 10..20 Mpc per realisation: the preset's 15 Mpc is the middle
//!   (a dataset draws its own). Its mask (0.2 Jy/beam, which it equates with 1e19.5 cm^-2) is not the same mask as a
//!   column density for a 10'' beam: the preset uses the column density, as exposito2026 does; the intensity mask is
//!   `mask = { intensity-jy-per-beam = 0.2 }`.
//! - exposito2026 (§3.1.2): 64 channels of 5 km/s at 1 Mpc, 64 x 64 pixels over a field of half-width 2 R_HI, mask
//!   below 1e19.5 cm^-2. Not stated, our choices: a beam of 2 pixels FWHM (Nyquist sampling, truncated at 3 FWHM),
//!   no noise, the cubic-spline kernel (MARTINI's default).
//! - Both: line widths are not stated; the presets use thermal widths (`sqrt(k T / m_p)`, MARTINI's thermal model).
//!
//! Velocity moments and the mask's column density use voxels above `clip_rms` times the noise rms (5, MARTINI's
//! clip; without noise every positive voxel), so noise does not fill the mask.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_mock::hi::params::HiParams;
//! let params = HiParams::preset("exposito2026").unwrap().check().unwrap();
//! // exposito2026's field is 4 R_HI wide: R_HI = 3 kpc at 1 Mpc gives 64 pixels of 0.1875 kpc = 38.7''.
//! let observation = params.observation(Some(3.0), 1).unwrap();
//! assert!((observation.grid.pixel_arcsec - 38.67).abs() < 0.01);
//! ```

use galmass_core::params::Params;
use galmass_core::units::MPC_KPC;
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::beam::GaussianBeam;
use crate::hi::cube::{SkyGrid, SpectralAxis, ARCSEC_PER_RAD};
use crate::hi::kernels::SphKernel;
use crate::hi::line::LineWidth;
use crate::hi::moments::{MomentMask, EXPOSITO2026_COLUMN_DENSITY_CM2};
use crate::hi::noise::NoiseRms;
use crate::hi::render::Observation;

/// The pixel size: angular, physical, or set by the field's half-width in units of R_HI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum PixelScale {
    /// Arcsec per pixel (TOML `pixel = { arcsec = 8.0625 }`).
    Arcsec(f64),
    /// kpc per pixel at the source's distance (TOML `pixel = { kpc = 0.5 }`).
    Kpc(f64),
    /// The field's half-width is this many R_HI (TOML `pixel = { field-half-width-r-hi = 2.0 }`, exposito2026).
    FieldHalfWidthRHi(f64),
}

/// The beam's FWHM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum BeamSize {
    /// No beam: the cube stays in Jy/arcsec^2 (TOML `beam = "none"`).
    None,
    /// FWHM in arcsec (TOML `beam = { arcsec = 10.0 }`).
    Arcsec(f64),
    /// FWHM in pixels (TOML `beam = { pixels = 2.0 }`).
    Pixels(f64),
}

/// Parameters of a mock HI observation (unchecked; [`Params::check`] gives [`HiValidParams`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiParams {
    /// Distance to the galaxy in Mpc.
    pub distance_mpc: f64,
    /// Pixels per side (square field).
    pub npix: usize,
    /// Pixel size.
    pub pixel: PixelScale,
    /// Number of channels.
    pub channels: usize,
    /// Channel width in km/s.
    pub channel_kms: f64,
    /// Velocity of the band's centre relative to the systemic velocity, km/s.
    pub centre_kms: f64,
    /// Beam FWHM (circular).
    pub beam: BeamSize,
    /// The beam is cut at this many FWHMs.
    pub beam_truncate_fwhm: f64,
    /// Noise level.
    pub noise: NoiseRms,
    /// SPH kernel.
    pub kernel: SphKernel,
    /// Line width.
    pub line: LineWidth,
    /// Mask of the moment maps.
    pub mask: MomentMask,
    /// Velocity moments (and the mask's column density) use voxels above this many noise rms.
    pub clip_rms: f64,
}

impl HiParams {
    /// delosrios2023 §2.3.
    pub const DELOSRIOS2023: HiParams = HiParams {
        distance_mpc: 15.0,
        npix: 128,
        pixel: PixelScale::Arcsec(17.2 * 60.0 / 128.0),
        channels: 64,
        channel_kms: 5.0,
        centre_kms: 0.0,
        beam: BeamSize::Arcsec(10.0),
        beam_truncate_fwhm: 3.0,
        noise: NoiseRms::JyPerArcsec2(5e-6),
        kernel: SphKernel::CubicSpline,
        line: LineWidth::Thermal,
        mask: MomentMask::ColumnDensityCm2(EXPOSITO2026_COLUMN_DENSITY_CM2),
        clip_rms: 5.0,
    };

    /// exposito2026 §3.1.2 (beam, noise and kernel our choices).
    pub const EXPOSITO2026: HiParams = HiParams {
        distance_mpc: 1.0,
        npix: 64,
        pixel: PixelScale::FieldHalfWidthRHi(2.0),
        channels: 64,
        channel_kms: 5.0,
        centre_kms: 0.0,
        beam: BeamSize::Pixels(2.0),
        beam_truncate_fwhm: 3.0,
        noise: NoiseRms::None,
        kernel: SphKernel::CubicSpline,
        line: LineWidth::Thermal,
        mask: MomentMask::ColumnDensityCm2(EXPOSITO2026_COLUMN_DENSITY_CM2),
        clip_rms: 5.0,
    };

    /// Names of the presets.
    pub const PRESETS: [&'static str; 2] = ["delosrios2023", "exposito2026"];

    /// A paper preset by name.
    pub fn preset(name: &str) -> Option<HiParams> {
        match name {
            "delosrios2023" => Some(Self::DELOSRIOS2023),
            "exposito2026" => Some(Self::EXPOSITO2026),
            _ => None,
        }
    }
}

impl Params for HiParams {
    type Valid = HiValidParams;
    type Error = MockError;

    fn check(&self) -> Result<HiValidParams, MockError> {
        let positive = |name: &'static str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(MockError::invalid(name, format!("must be positive, got {v}")))
            }
        };
        positive("distance_mpc", self.distance_mpc)?;
        match self.pixel {
            PixelScale::Arcsec(v) => positive("pixel_arcsec", v)?,
            PixelScale::Kpc(v) => positive("pixel_kpc", v)?,
            PixelScale::FieldHalfWidthRHi(v) => positive("field_half_width_r_hi", v)?,
        }
        match self.beam {
            BeamSize::None => {}
            BeamSize::Arcsec(v) => positive("beam_arcsec", v)?,
            BeamSize::Pixels(v) => positive("beam_pixels", v)?,
        }
        positive("beam_truncate_fwhm", self.beam_truncate_fwhm)?;
        if !(self.clip_rms.is_finite() && self.clip_rms >= 0.0) {
            return Err(MockError::invalid("clip_rms", format!("must be >= 0, got {}", self.clip_rms)));
        }
        // The grids check their own sizes; a trial pixel of 1'' stands in for a pixel that needs R_HI.
        SkyGrid::square(self.npix, 1.0)?;
        SpectralAxis::new(self.channels, self.channel_kms, self.centre_kms)?;
        self.line.check()?;
        self.mask.check()?;
        match self.noise {
            NoiseRms::None => {}
            NoiseRms::JyPerBeam(_) if self.beam == BeamSize::None => {
                return Err(MockError::invalid("noise_rms_jy_beam", "a noise level in Jy/beam needs a beam"));
            }
            NoiseRms::JyPerBeam(v) | NoiseRms::JyPerArcsec2(v) if !(v.is_finite() && v >= 0.0) => {
                return Err(MockError::invalid("noise", format!("rms must be finite and >= 0, got {v}")));
            }
            NoiseRms::JyPerBeam(_) | NoiseRms::JyPerArcsec2(_) => {}
        }
        if matches!(self.mask, MomentMask::IntensityJyPerBeam(_)) && self.beam == BeamSize::None {
            return Err(MockError::invalid("mask", "an intensity mask in Jy/beam needs a beam"));
        }
        Ok(HiValidParams { params: *self })
    }
}

/// Checked [`HiParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HiValidParams {
    params: HiParams,
}

impl HiValidParams {
    /// The parameters.
    pub fn params(&self) -> &HiParams {
        &self.params
    }

    /// Whether the pixel size needs the galaxy's R_HI.
    pub fn needs_r_hi(&self) -> bool {
        matches!(self.params.pixel, PixelScale::FieldHalfWidthRHi(_))
    }

    /// The pixel size in arcsec, given R_HI in kpc where the pixel scale needs it.
    pub fn pixel_arcsec(&self, r_hi_kpc: Option<f64>) -> Result<f64, MockError> {
        let d_kpc = self.params.distance_mpc * MPC_KPC;
        let kpc_to_arcsec = |kpc: f64| (kpc / d_kpc).atan() * ARCSEC_PER_RAD;
        match self.params.pixel {
            PixelScale::Arcsec(v) => Ok(v),
            PixelScale::Kpc(v) => Ok(kpc_to_arcsec(v)),
            PixelScale::FieldHalfWidthRHi(k) => match r_hi_kpc {
                Some(r) if r.is_finite() && r > 0.0 => Ok(kpc_to_arcsec(2.0 * k * r / self.params.npix as f64)),
                other => Err(MockError::invalid(
                    "r_hi_kpc",
                    format!("a field of {k} R_HI needs a positive R_HI, got {other:?}"),
                )),
            },
        }
    }

    /// The target that brings a real cube to this recipe ([`crate::hi::recipe::match_recipe`]): the same beam,
    /// channels and pixels (physical pixels at `distance_mpc` of the parameters, which must then be the real galaxy's
    /// distance), centred on the cube's centre, NaN outside the data.
    pub fn recipe_target(
        &self,
        r_hi_kpc: Option<f64>,
        systemic: crate::hi::recipe::SystemicVelocity,
    ) -> Result<crate::hi::recipe::RecipeTarget, MockError> {
        use crate::hi::recipe::{FieldCentre, OutsideData, PixelScale as TargetPixel, RecipeTarget};
        let p = &self.params;
        let pixel_arcsec = self.pixel_arcsec(r_hi_kpc)?;
        let pixel_scale = match p.pixel {
            PixelScale::Arcsec(v) => TargetPixel::Arcsec(v),
            PixelScale::Kpc(v) => TargetPixel::Kpc { pixel_kpc: v, distance_mpc: p.distance_mpc },
            PixelScale::FieldHalfWidthRHi(k) => TargetPixel::Kpc {
                pixel_kpc: 2.0 * k * r_hi_kpc.unwrap_or(f64::NAN) / p.npix as f64,
                distance_mpc: p.distance_mpc,
            },
        };
        let beam = match p.beam {
            BeamSize::None => None,
            BeamSize::Arcsec(f) => Some(GaussianBeam::circular(f, p.beam_truncate_fwhm)?),
            BeamSize::Pixels(f) => Some(GaussianBeam::circular(f * pixel_arcsec, p.beam_truncate_fwhm)?),
        };
        let target = RecipeTarget {
            beam,
            channel_width_kms: p.channel_kms,
            n_channels: p.channels,
            centre_kms: p.centre_kms,
            systemic,
            pixel_scale,
            npix: p.npix,
            centre: FieldCentre::CubeCentre,
            outside: OutsideData::Nan,
        };
        target.check()?;
        Ok(target)
    }

    /// The observation: grids, beam, kernel, noise and `seed`.
    pub fn observation(&self, r_hi_kpc: Option<f64>, seed: u64) -> Result<Observation, MockError> {
        let p = &self.params;
        let pixel_arcsec = self.pixel_arcsec(r_hi_kpc)?;
        let beam = match p.beam {
            BeamSize::None => None,
            BeamSize::Arcsec(f) => Some(GaussianBeam::circular(f, p.beam_truncate_fwhm)?),
            BeamSize::Pixels(f) => Some(GaussianBeam::circular(f * pixel_arcsec, p.beam_truncate_fwhm)?),
        };
        Ok(Observation {
            grid: SkyGrid::square(p.npix, pixel_arcsec)?,
            spectral: SpectralAxis::new(p.channels, p.channel_kms, p.centre_kms)?,
            kernel: p.kernel,
            beam,
            noise: p.noise,
            seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_check_and_resolve() {
        let d = HiParams::DELOSRIOS2023.check().unwrap();
        let obs = d.observation(None, 0).unwrap();
        assert!((obs.grid.pixel_arcsec * 128.0 - 17.2 * 60.0).abs() < 1e-9);
        assert_eq!(obs.beam.unwrap().bmaj_arcsec, 10.0);
        let e = HiParams::EXPOSITO2026.check().unwrap();
        assert!(e.needs_r_hi() && e.observation(None, 0).is_err());
        let obs = e.observation(Some(2.0), 0).unwrap();
        assert!((obs.beam.unwrap().bmaj_arcsec / obs.grid.pixel_arcsec - 2.0).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_are_named() {
        let bad = HiParams { distance_mpc: 0.0, ..HiParams::DELOSRIOS2023 };
        assert!(bad.check().unwrap_err().to_string().contains("distance_mpc"));
        let bad = HiParams { beam: BeamSize::None, noise: NoiseRms::JyPerBeam(1e-3), ..HiParams::DELOSRIOS2023 };
        assert!(bad.check().unwrap_err().to_string().contains("needs a beam"));
        let bad =
            HiParams { beam: BeamSize::None, mask: MomentMask::IntensityJyPerBeam(0.2), ..HiParams::DELOSRIOS2023 };
        assert!(bad.check().is_err());
        let bad = HiParams { channels: 0, ..HiParams::DELOSRIOS2023 };
        assert!(bad.check().is_err());
        let toml = "distance_mpc = 1.0\nnpix = 8\npixel = { arcsec = 1.0 }\nchannels = 4\nchannel_kms = 5.0\n\
                    centre_kms = 0.0\nbeam = \"none\"\nbeam_truncate_fwhm = 3.0\nnoise = \"none\"\n\
                    kernel = \"wendland-c2\"\nline = { fixed-kms = 7.0 }\nmask = \"none\"\nclip_rms = 5.0\n";
        let parsed: HiParams = toml::from_str(toml).unwrap();
        assert_eq!(parsed.kernel, SphKernel::WendlandC2);
        assert!(toml::from_str::<HiParams>(&format!("{toml}colour = 1\n")).is_err());
    }
}
