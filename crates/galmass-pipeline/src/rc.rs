//! The rotation-curve baseline of one galaxy (`galmass estimate rc`): an HI products file (a mock, or a real cube
//! read from FITS) and, optionally, an optical products file, through `galmass_estimators::rc`.
//!
//! 1. Tilted rings on the HI moment maps (moment 1 the velocity field, moment 2 the dispersion, moment 0 the
//!    weights and surface density; the beam and channel width from the cube).
//! 2. The stellar disc: an exponential fitted to the optical frame of `band` (g by default, as delosrios2023 §5.6)
//!    in the rings' geometry, its nanomaggies turned into solar luminosities at the distance with the band's AB
//!    solar magnitude (Willmer 2018, `galmass_synth::populations::ssp::SOLAR_ABS_MAG_AB`). The optical and HI frames
//!    share their sky conventions (x west, y north, both centred on the galaxy), so the ring centre moves from one
//!    to the other through its offset from the field centre. Without an optical file the disc is left out and a
//!    warning says so.
//! 3. The gas: the rings' face-on HI surface density (moment 0 in Jy/arcsec^2 km/s, or per beam) in Msun/pc^2,
//!    times the helium factor, as a thin disc.
//! 4. The decomposition into an NFW (or Dekel-Zhao) halo, the disc and the gas by MCMC, and the enclosed masses.
//!
//! ```no_run
//! use galmass_pipeline::products::read_products;
//! use galmass_pipeline::rc::{rotation_curve_baseline, RcRequest};
//! let hi = read_products("hi.h5".as_ref()).unwrap();
//! let out = rotation_curve_baseline(hi.hi.as_ref().unwrap(), None, &RcRequest::default()).unwrap();
//! println!("{}", serde_json::to_string_pretty(&out.to_json()).unwrap());
//! ```

use galmass_core::numeric::quad::cumulative_trapezoid;
use galmass_estimators::rc::decompose::{
    decompose, CurvePoint, Decomposition, DecompositionInput, DecompositionParams, EnclosedMass, GasComponent,
    StellarDisc,
};
use galmass_estimators::rc::disc::{
    fit_exponential, thin_disc_v2, ExponentialFit, ExponentialFitParams, HELIUM_FACTOR,
};
use galmass_estimators::rc::rings::{fit_rings, DiscGeometry, RingFit, RingFitParams, VelocityField, ARCSEC_PER_RAD};
use galmass_mock::hi::beam::GaussianBeam;
use galmass_mock::hi::cube::{surface_density_msun_pc2_per_jy_arcsec2_kms, CubeUnit};
use galmass_synth::populations::ssp::SOLAR_ABS_MAG_AB;
use ndarray::ArrayView2;
use serde_json::{json, Value};

use crate::products::{HiProduct, OpticalProduct};
use crate::PipelineError;

/// What to fit, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct RcRequest {
    /// Distance, Mpc (`None`: the HI product's).
    pub distance_mpc: Option<f64>,
    /// Width of the distance prior, Mpc (`None`: 10% of the distance).
    pub distance_err_mpc: Option<f64>,
    /// Width of the inclination prior of the decomposition, degrees (`None`: the tilted rings' error of the global
    /// inclination, at least 3 degrees).
    pub inclination_err_deg: Option<f64>,
    /// Optical band of the stellar disc.
    pub band: String,
    /// Include the gas in the decomposition (delosrios2023 does not).
    pub gas: bool,
    /// The tilted rings.
    pub rings: RingFitParams,
    /// The exponential disc (its radii in optical pixels; `min_radius_px` 0 means 1.5 PSF FWHM).
    pub disc: ExponentialFitParams,
    /// The decomposition.
    pub decomposition: DecompositionParams,
    /// Radii of the enclosed masses, kpc (`None`: the ring radii).
    pub radii_kpc: Option<Vec<f64>>,
}

impl Default for RcRequest {
    fn default() -> Self {
        Self {
            distance_mpc: None,
            distance_err_mpc: None,
            inclination_err_deg: None,
            band: "g".into(),
            gas: true,
            rings: RingFitParams::default(),
            disc: ExponentialFitParams { min_radius_px: 0.0, ..ExponentialFitParams::default() },
            decomposition: DecompositionParams::default(),
            radii_kpc: None,
        }
    }
}

/// The stellar disc as fitted.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscSummary {
    /// The band.
    pub band: String,
    /// The fit in optical pixels.
    pub fit: ExponentialFit,
    /// Disc luminosity, Lsun.
    pub luminosity_lsun: f64,
    /// Scale length, kpc.
    pub scale_length_kpc: f64,
}

/// The baseline of one galaxy.
#[derive(Debug, Clone, PartialEq)]
pub struct RcResult {
    /// Distance used, Mpc.
    pub distance_mpc: f64,
    /// The tilted rings.
    pub rings: RingFit,
    /// The stellar disc, when an optical file was given.
    pub disc: Option<DiscSummary>,
    /// The gas used (per ring `v_gas^2` and mass profile), when included.
    pub gas: Option<GasComponent>,
    /// The decomposition.
    pub decomposition: Decomposition,
    /// Enclosed masses.
    pub enclosed: Vec<EnclosedMass>,
    /// What was left out or went differently.
    pub warnings: Vec<String>,
}

fn nan_to_null(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

impl RcResult {
    /// The `--json` object: `rings`, `fit`, `enclosed_mass`, plus the disc, gas, diagnostics and warnings.
    pub fn to_json(&self) -> Value {
        let d = &self.decomposition;
        let percentiles =
            |name: &str| d.parameter(name).map_or(Value::Null, |p| json!({"p16": p.p16, "p50": p.p50, "p84": p.p84}));
        let mut fit = serde_json::Map::new();
        for name in &d.names {
            fit.insert((*name).to_owned(), percentiles(name));
        }
        for (key, name) in [("V200", "v200_kms"), ("C200", "c200"), ("M/L", "mass_to_light")] {
            fit.insert(key.to_owned(), percentiles(name));
        }
        fit.insert("halo".into(), json!(d.params.halo.name()));
        fit.insert("hubble_h".into(), json!(d.params.hubble_h));
        fit.insert("diagnostics".into(), json!(d.diagnostics));
        let model = d.median_model();
        let rings: Vec<Value> = self
            .rings
            .rings
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
                if let (Some(obj), Some(m)) = (v.as_object_mut(), model.get(k)) {
                    obj.insert("v_model_kms".into(), nan_to_null(m[0]));
                    obj.insert("v_dm_kms".into(), nan_to_null(m[1]));
                    obj.insert("v_stars_kms".into(), nan_to_null(m[2]));
                    obj.insert("v_gas_kms".into(), nan_to_null(m[3]));
                    for (key, value) in obj.iter_mut() {
                        if let Some(x) = value.as_f64() {
                            if !x.is_finite() {
                                tracing::trace!(key, "non-finite ring value written as null");
                                *value = Value::Null;
                            }
                        }
                    }
                }
                v
            })
            .collect();
        let enclosed = json!({
            "radii_kpc": self.enclosed.iter().map(|e| e.radius_kpc).collect::<Vec<_>>(),
            "log10_total_msun": self.enclosed.iter().map(|e| e.log10_total).collect::<Vec<_>>(),
            "log10_dark_msun": self.enclosed.iter().map(|e| e.log10_dark).collect::<Vec<_>>(),
            "log10_stars_msun": self.enclosed.iter().map(|e| e.log10_stars).collect::<Vec<_>>(),
        });
        let disc = self.disc.as_ref().map_or(Value::Null, |s| {
            json!({
                "band": s.band,
                "luminosity_lsun": s.luminosity_lsun,
                "scale_length_kpc": s.scale_length_kpc,
                "scale_length_px": s.fit.scale_length_px,
                "scale_length_err_px": s.fit.scale_length_err_px,
                "central_brightness_nanomaggies_per_px": s.fit.central_brightness,
                "image_total_nanomaggies": s.fit.image_total,
            })
        });
        let geometry = &self.rings.geometry;
        json!({
            "distance_mpc": self.distance_mpc,
            "rings": rings,
            "ring_width_arcsec": self.rings.ring_width_arcsec,
            "geometry": {
                "x_centre_px": geometry.x_centre_px,
                "y_centre_px": geometry.y_centre_px,
                "vsys_kms": self.rings.vsys_kms,
                "inclination_deg": geometry.inclination_deg,
                "pa_deg": geometry.pa_deg,
                "errors": {"x_centre_px": self.rings.geometry_err[0], "y_centre_px": self.rings.geometry_err[1],
                           "vsys_kms": self.rings.geometry_err[2], "inclination_deg": self.rings.geometry_err[3],
                           "pa_deg": self.rings.geometry_err[4]},
                "residual_rms_kms": self.rings.residual_rms_kms,
                "asymmetric_drift_scale_arcsec": nan_to_null(self.rings.asymmetric_drift_scale_arcsec),
            },
            "fit": Value::Object(fit),
            "enclosed_mass": enclosed,
            "stellar_disc": disc,
            "gas_included": self.gas.is_some(),
            "warnings": self.warnings,
        })
    }
}

/// Moment 0 of a cube in `unit` (times km/s) to HI Msun/pc^2 (distance independent); `None` for a per-beam unit
/// without a beam area.
fn mom0_factor(unit: CubeUnit, beam_area_arcsec2: Option<f64>) -> Option<f64> {
    let per_arcsec2 = surface_density_msun_pc2_per_jy_arcsec2_kms();
    match unit {
        CubeUnit::JyPerArcsec2 => Some(per_arcsec2),
        CubeUnit::JyPerBeam => beam_area_arcsec2.filter(|a| *a > 0.0).map(|a| per_arcsec2 / a),
    }
}

/// HI moment maps and what the baseline needs to know about them: a mock's or a real cube's products
/// ([`HiMaps::of_product`]), or a dataset's stored maps.
#[derive(Debug, Clone, Copy)]
pub struct HiMaps<'a> {
    /// What the maps came from (named in errors).
    pub input: &'a str,
    /// Moment 0 (y, x); NaN outside the mask.
    pub mom0: ArrayView2<'a, f64>,
    /// Moment 1, km/s; NaN outside the mask.
    pub mom1: ArrayView2<'a, f64>,
    /// Moment 2, km/s; NaN outside the mask.
    pub mom2: ArrayView2<'a, f64>,
    /// Pixel size, arcsec.
    pub pixel_arcsec: f64,
    /// Beam FWHM, arcsec (0: none).
    pub beam_fwhm_arcsec: f64,
    /// Channel width, km/s.
    pub channel_kms: f64,
    /// Moment 0's unit to HI Msun/pc^2 (`None`: unknown, the gas is left out).
    pub mom0_to_msun_pc2: Option<f64>,
    /// Distance, Mpc, when known.
    pub distance_mpc: Option<f64>,
}

impl<'a> HiMaps<'a> {
    /// The maps of an HI product.
    pub fn of_product(hi: &'a HiProduct) -> Self {
        let m = &hi.moments;
        Self {
            input: &hi.input,
            mom0: m.mom0.view(),
            mom1: m.mom1.view(),
            mom2: m.mom2.view(),
            pixel_arcsec: hi.cube.grid.pixel_arcsec,
            beam_fwhm_arcsec: hi.cube.beam.map_or(0.0, |b| (b.bmaj_arcsec * b.bmin_arcsec).sqrt()),
            channel_kms: hi.cube.spectral.width_kms.abs(),
            mom0_to_msun_pc2: mom0_factor(hi.cube.unit, hi.cube.beam.map(|b| b.area_arcsec2())),
            distance_mpc: hi.distance_mpc,
        }
    }
}

/// Moment 0 in `unit` (`Jy/arcsec2 km/s`, or `Jy/beam km/s` with a circular Gaussian beam of `beam_fwhm_arcsec`)
/// to HI Msun/pc^2; `None` for any other unit or a per-beam unit without a beam.
pub fn mom0_unit_to_msun_pc2(unit: &str, beam_fwhm_arcsec: f64) -> Option<f64> {
    let cube_unit = [CubeUnit::JyPerArcsec2, CubeUnit::JyPerBeam]
        .into_iter()
        .find(|u| unit.trim() == format!("{} km/s", u.as_str()))?;
    // The truncation does not enter the area.
    let area = GaussianBeam::circular(beam_fwhm_arcsec, 1.0).ok().map(|b| b.area_arcsec2());
    mom0_factor(cube_unit, area)
}

/// The rotation-curve baseline of the galaxy seen in `hi` (and `optical`, for the stellar disc).
pub fn rotation_curve_baseline(
    hi: &HiProduct,
    optical: Option<&OpticalProduct>,
    request: &RcRequest,
) -> Result<RcResult, PipelineError> {
    rotation_curve_of_maps(&HiMaps::of_product(hi), optical, request)
}

/// [`rotation_curve_baseline`] of moment maps.
pub fn rotation_curve_of_maps(
    hi: &HiMaps<'_>,
    optical: Option<&OpticalProduct>,
    request: &RcRequest,
) -> Result<RcResult, PipelineError> {
    let distance_mpc = match request.distance_mpc.or(hi.distance_mpc) {
        Some(d) if d.is_finite() && d > 0.0 => d,
        Some(d) => return Err(PipelineError::invalid("distance", format!("must be positive and finite, got {d} Mpc"))),
        None => {
            return Err(PipelineError::invalid("distance", "the HI product has no distance: give one (--distance-mpc)"))
        }
    };
    let field = VelocityField {
        velocity_kms: hi.mom1,
        dispersion_kms: Some(hi.mom2),
        intensity: Some(hi.mom0),
        pixel_arcsec: hi.pixel_arcsec,
        beam_fwhm_arcsec: hi.beam_fwhm_arcsec,
        channel_kms: hi.channel_kms,
    };
    let rings = fit_rings(&field, &request.rings, Some(distance_mpc))
        .map_err(|e| PipelineError::invalid("tilted rings", format!("{} ({})", e, hi.input)))?;
    let mut warnings = rings.warnings.clone();
    let kpc_per_arcsec = distance_mpc * 1e3 / ARCSEC_PER_RAD;

    // The stellar disc.
    let disc = match optical {
        None => {
            warnings.push("no optical image: the stellar disc is left out of the decomposition".into());
            None
        }
        Some(o) => Some(stellar_disc(o, hi, &rings, distance_mpc, request)?),
    };

    // The gas.
    let ring_radii: Vec<f64> = rings.rings.iter().map(|r| r.radius_kpc).collect();
    let gas = if request.gas {
        match hi.mom0_to_msun_pc2 {
            Some(factor) => {
                let sigma: Vec<f64> = rings
                    .rings
                    .iter()
                    .map(|r| (r.surface_brightness * factor * HELIUM_FACTOR * 1e6).max(0.0))
                    .map(|s| if s.is_finite() { s } else { 0.0 })
                    .collect();
                let v2 = thin_disc_v2(&ring_radii, &ring_radii, &sigma)
                    .map_err(|e| PipelineError::invalid("gas rotation curve", e.to_string()))?;
                // M(<R) = int 2 pi R Sigma dR from the centre (the integrand vanishes there).
                let radii: Vec<f64> = std::iter::once(0.0).chain(ring_radii.iter().copied()).collect();
                let integrand: Vec<f64> = std::iter::once(0.0)
                    .chain(ring_radii.iter().zip(&sigma).map(|(r, s)| 2.0 * std::f64::consts::PI * r * s))
                    .collect();
                let mass = cumulative_trapezoid(&radii, &integrand)[1..].to_vec();
                let radii = ring_radii.clone();
                Some(GasComponent { v2_at_points: v2, mass_radii_kpc: radii, mass_msun: mass })
            }
            None => {
                warnings.push("the cube is in Jy/beam without a beam: the gas is left out".into());
                None
            }
        }
    } else {
        None
    };

    // Rings with a usable circular velocity make the curve (and pick their gas terms).
    let keep: Vec<usize> = rings
        .rings
        .iter()
        .enumerate()
        .filter(|(_, r)| r.v_circ_kms.is_finite() && r.v_circ_kms > 0.0 && r.v_circ_err_kms.is_finite())
        .map(|(k, _)| k)
        .collect();
    let curve: Vec<CurvePoint> = keep
        .iter()
        .map(|&k| &rings.rings[k])
        .map(|r| CurvePoint { radius_kpc: r.radius_kpc, v_kms: r.v_circ_kms, v_err_kms: r.v_circ_err_kms })
        .collect();
    let gas_for_fit = gas.as_ref().map(|g| GasComponent {
        v2_at_points: keep.iter().map(|&k| g.v2_at_points[k]).collect(),
        mass_radii_kpc: g.mass_radii_kpc.clone(),
        mass_msun: g.mass_msun.clone(),
    });
    let inclination_deg = rings.geometry.inclination_deg;
    let input = DecompositionInput {
        curve,
        distance_mpc,
        distance_err_mpc: request.distance_err_mpc.unwrap_or(0.1 * distance_mpc),
        inclination_deg,
        inclination_err_deg: request.inclination_err_deg.unwrap_or_else(|| rings.geometry_err[3].max(3.0)),
        stellar: disc
            .as_ref()
            .map(|d| StellarDisc { luminosity_lsun: d.luminosity_lsun, scale_length_kpc: d.scale_length_kpc }),
        gas: gas_for_fit,
    };
    let decomposition = decompose(&input, &request.decomposition)
        .map_err(|e| PipelineError::invalid("rotation-curve decomposition", format!("{} ({})", e, hi.input)))?;
    if !decomposition.diagnostics.converged {
        warnings.push(format!(
            "the MCMC chain may not have converged (autocorrelation times {:?} steps, acceptance {:.2})",
            decomposition.diagnostics.autocorr_time, decomposition.diagnostics.acceptance_mean
        ));
    }
    let radii = request.radii_kpc.clone().unwrap_or_else(|| ring_radii.iter().map(|r| r.max(1e-3)).collect());
    let enclosed = decomposition.enclosed_mass(&radii);
    tracing::debug!(kpc_per_arcsec, rings = rings.rings.len(), "rotation-curve baseline done");
    Ok(RcResult { distance_mpc, rings, disc, gas, decomposition, enclosed, warnings })
}

fn stellar_disc(
    optical: &OpticalProduct,
    hi: &HiMaps<'_>,
    rings: &RingFit,
    distance_mpc: f64,
    request: &RcRequest,
) -> Result<DiscSummary, PipelineError> {
    let frame = optical.band(&request.band).ok_or_else(|| {
        PipelineError::invalid(
            "band",
            format!(
                "{:?} is not in the optical file (bands: {:?})",
                request.band,
                optical.bands.iter().map(|b| b.band.as_str()).collect::<Vec<_>>()
            ),
        )
    })?;
    let msun = "ugriz"
        .find(request.band.as_str())
        .filter(|_| request.band.len() == 1)
        .map(|k| SOLAR_ABS_MAG_AB[k])
        .ok_or_else(|| PipelineError::invalid("band", format!("{:?} has no solar magnitude (ugriz)", request.band)))?;
    // The ring centre's offset from the HI field centre, arcsec, carried into the optical frame.
    let (hy, hx) = hi.mom1.dim();
    let (hx, hy) = (hx as f64, hy as f64);
    let dx = (rings.geometry.x_centre_px - (hx - 1.0) / 2.0) * hi.pixel_arcsec;
    let dy = (rings.geometry.y_centre_px - (hy - 1.0) / 2.0) * hi.pixel_arcsec;
    let (ny, nx) = frame.image.dim();
    let geometry = DiscGeometry {
        x_centre_px: (nx as f64 - 1.0) / 2.0 + dx / optical.pixel_arcsec,
        y_centre_px: (ny as f64 - 1.0) / 2.0 + dy / optical.pixel_arcsec,
        inclination_deg: rings.geometry.inclination_deg,
        pa_deg: rings.geometry.pa_deg,
    };
    let mut params = request.disc.clone();
    if params.min_radius_px <= 0.0 {
        params.min_radius_px = (1.5 * frame.psf_fwhm_arcsec / optical.pixel_arcsec).max(1.0);
    }
    if params.sky_rms.is_none() && frame.sky_rms_nanomaggies > 0.0 {
        params.sky_rms = Some(frame.sky_rms_nanomaggies);
    }
    let fit = fit_exponential(frame.image.view(), &geometry, &params).map_err(|e| {
        PipelineError::invalid("stellar disc", format!("{e} ({} band of {})", request.band, optical.input))
    })?;
    // nanomaggies -> Lsun: m = 22.5 - 2.5 log10 f, M = m - 5 log10(D / 10 pc).
    let distance_pc = distance_mpc * 1e6;
    let absolute = 22.5 - 2.5 * fit.total.log10() - 5.0 * (distance_pc / 10.0).log10();
    let luminosity_lsun = 10f64.powf(-0.4 * (absolute - msun));
    let kpc_per_px = optical.pixel_arcsec * distance_mpc * 1e3 / ARCSEC_PER_RAD;
    Ok(DiscSummary {
        band: request.band.clone(),
        scale_length_kpc: fit.scale_length_px * kpc_per_px,
        luminosity_lsun,
        fit,
    })
}

#[cfg(test)]
mod tests {
    use galmass_core::galaxy::GalaxyMeta;
    use galmass_core::particles::{Particles, ScalarField, Species};
    use galmass_core::Galaxy;
    use galmass_estimators::rc::disc::exponential_disc_v2;
    use galmass_estimators::rc::halo::Halo;
    use galmass_mock::hi::line::LineWidth;
    use galmass_synth::disc::GasDisc;
    use ndarray::Array1;

    use super::*;
    use crate::hi::{hi_of_loaded, HiRequest};

    /// A thin gas disc in a known NFW halo, seen at 60 degrees through the delosrios2023 HI recipe with its noise,
    /// gives back its circular velocity within the rings' errors, and V200 and C200 within the 68% intervals.
    #[test]
    fn a_gas_disc_in_a_known_nfw_halo_gives_back_its_curve_and_halo() {
        let halo = Halo::Nfw { v200_kms: 120.0, c200: 12.0 };
        let h0 = 0.1 * DecompositionParams::default().hubble_h;
        // The gas: 2e9 Msun in all (HI times the helium factor, as the baseline assumes), R_d 3 kpc, thin.
        let gas_disc = GasDisc { mass_msun: 2e9, r_d_kpc: 3.0, z_d_kpc: 0.1, sigma_kms: 8.0 };
        let v_c = |r: f64| (halo.v_circ2(r, h0) + exponential_disc_v2(r, gas_disc.mass_msun, gas_disc.r_d_kpc)).sqrt();
        let n = 100_000;
        let (pos, vel) = gas_disc.sample(n, &v_c, 11).unwrap();
        let h = galmass_core::neighbours::smoothing_lengths_kpc(pos.view(), 32).unwrap();
        let mut gas = Particles::new(pos, vel, Array1::from_elem(n, gas_disc.mass_msun / n as f64)).unwrap();
        gas.set_field(ScalarField::HiMassMsun, Array1::from_elem(n, gas_disc.mass_msun / n as f64 / HELIUM_FACTOR))
            .unwrap();
        gas.set_field(ScalarField::SmoothingLengthKpc, h).unwrap();
        let mut galaxy = Galaxy::new(GalaxyMeta::new("test", 0));
        galaxy.set_species(Species::Gas, gas);

        // 60 degrees from the disc's axis; the line itself is narrow (the particles carry the dispersion).
        let inclination = 60f64.to_radians();
        let mut request = HiRequest::preset("delosrios2023", [0.0, inclination.sin(), -inclination.cos()], 3).unwrap();
        request.params.line = LineWidth::FixedKms(1.0);
        let products = hi_of_loaded("nfw-disc.h5".as_ref(), &galaxy, &request).unwrap();
        let hi = products.hi.unwrap();
        let out = rotation_curve_baseline(&hi, None, &RcRequest::default()).unwrap();

        let rings = &out.rings;
        assert!((rings.geometry.inclination_deg - 60.0).abs() < 3.0, "{:?}", rings.geometry);
        let usable: Vec<_> = rings.rings.iter().filter(|r| r.v_circ_kms.is_finite() && r.v_circ_kms > 0.0).collect();
        assert!(usable.len() >= 10, "{} usable rings", usable.len());
        let last = usable[usable.len() - 1].radius_kpc;
        // The recipe's noise (5e-6 Jy/arcsec^2 per channel, 5 rms clip) ends the HI near 3 scale lengths.
        assert!(last > 2.5 * gas_disc.r_d_kpc, "the curve stops at {last} kpc");
        // Within the errors: no ring beyond 3 sigma, at most one in six beyond 2 sigma (the innermost ring, inside a
        // beam or two of the centre, is the one the beam still biases).
        let pulls: Vec<f64> =
            usable.iter().skip(1).map(|r| (r.v_circ_kms - v_c(r.radius_kpc)) / r.v_circ_err_kms).collect();
        let table: Vec<String> = usable
            .iter()
            .map(|r| {
                format!(
                    "{:.2} kpc: {:.1} +- {:.1} vs {:.1}",
                    r.radius_kpc,
                    r.v_circ_kms,
                    r.v_circ_err_kms,
                    v_c(r.radius_kpc)
                )
            })
            .collect();
        assert!(pulls.iter().all(|p| p.abs() < 3.0), "pulls {pulls:.2?}\n{}", table.join("\n"));
        assert!(pulls.iter().filter(|p| p.abs() > 2.0).count() * 6 <= pulls.len(), "pulls {pulls:.2?}");

        // The halo within its 68% intervals, the chain converged, the masses close to the truth.
        let fit = &out.decomposition;
        let v200 = fit.parameter("v200_kms").unwrap();
        let c200 = fit.parameter("c200").unwrap();
        assert!(v200.p16 <= 120.0 && 120.0 <= v200.p84, "V200 {v200:?}");
        assert!(c200.p16 <= 12.0 && 12.0 <= c200.p84, "C200 {c200:?}");
        assert!(fit.diagnostics.converged, "{:?}", fit.diagnostics);
        for e in &out.enclosed {
            let truth = (halo.enclosed_mass_msun(e.radius_kpc, h0)
                + galmass_estimators::rc::disc::exponential_disc_mass_msun(
                    e.radius_kpc,
                    gas_disc.mass_msun,
                    gas_disc.r_d_kpc,
                ))
            .log10();
            assert!((e.log10_total.p50 - truth).abs() < 0.1, "{e:?} vs {truth}");
        }
        assert!(out.warnings.iter().any(|w| w.contains("no optical image")), "{:?}", out.warnings);
    }
}
