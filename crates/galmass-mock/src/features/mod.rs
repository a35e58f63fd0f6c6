//! chu2024's ten summary statistics of one projection of a galaxy (Table 1, §2.3): the GBDT's features.
//!
//! Apertures (methods.md, chu2024 Table 1): 2 R_hsm projected unless said, R_hsm the 3-D half stellar mass radius
//! about the galaxy's centre ([`half_mass_radius_3d_kpc`]). Radii in [`FeatureParams`] are in units of R_hsm.
//!
//! | key | definition | module |
//! |---|---|---|
//! | `M_r` | absolute AB magnitude of the r-band light within 2 R_hsm projected | [`photometry`] |
//! | `g_r` | g - r (AB) of the summed g and r light in the same aperture | [`photometry`] |
//! | `sfr` | mass of stars younger than 1 Gyr within 2 R_hsm projected / 1 Gyr (current masses) | [`photometry`] |
//! | `sersic_n` | Sérsic index fitted to the projected r-band profile within 5 R_hsm | [`sersic`] |
//! | `c_over_a` | c/a of the iterative shape tensor started at the sphere of 3 R_hsm | [`shape`] |
//! | `sigma_v` | r-luminosity-weighted v_los dispersion within 2 R_hsm projected | [`kinematics`] |
//! | `lambda_r` | Emsellem et al. 2007 over pixels within 2 R_hsm projected | [`kinematics`] |
//! | `kinematic_bt` | 2 x the mass fraction with circularity < 0, 3-D sphere of 2 R_hsm | [`circularity`] |
//! | `f_cold` | mass fraction with circularity > 0.8, 3-D sphere of 2 R_hsm | [`circularity`] |
//! | `f_hot` | mass fraction with abs(circularity) < 0.25, 3-D sphere of 2 R_hsm | [`circularity`] |
//!
//! chu2024 leaves open: the binning of lambda_R (galmass: pixels of 0.25 R_hsm with at least 20 stars), the shape
//! tensor's weighting (the preset: Allgood et al. 2006's reduced tensor, which the paper cites) and whether the
//! ellipsoid keeps its volume or its major axis (galmass: the volume), the SFR's mass (current masses). Dust is the
//! caller's: pass attenuated luminosities. A statistic that cannot be measured is NaN (JSON `null`) with a
//! [`Feature::note`] saying why (no ages for `sfr`, no pixel with enough stars for `lambda_r`).
//!
//! ```no_run
//! use galmass_core::params::Params;
//! use galmass_core::{Galaxy, LineOfSight};
//! use galmass_mock::features::{chu2024_features, FeatureParams};
//! # fn run(galaxy: &Galaxy) -> Result<(), galmass_mock::MockError> {
//! let params = FeatureParams::named("chu2024")?.check()?;
//! let features = chu2024_features(galaxy, &LineOfSight::new([0.0, 0.0, 1.0])?, &params)?;
//! for (key, f) in features.iter() {
//!     println!("{key} = {} {} ({})", f.value, f.unit, f.aperture);
//! }
//! # Ok(())
//! # }
//! ```

use galmass_core::params::Params;
use galmass_core::particles::{ScalarField, Species};
use galmass_core::{Galaxy, LineOfSight, Particles};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::error::MockError;
use crate::optical::sph::band_luminosities;

pub mod circularity;
pub mod kinematics;
pub mod photometry;
pub mod sersic;
pub mod shape;

pub use circularity::{circularities, Circularities, CircularityFractions, PotentialSource, SphericalMass};
pub use kinematics::{lambda_r, weighted_moments, LambdaR};
pub use photometry::{absolute_magnitude_ab, colour_ab, star_formation_rate_msun_yr};
pub use sersic::{fit_sersic, sersic_b, SersicFit};
pub use shape::{axis_ratios, symmetric_eigen, AxisRatios, ShapeTensor};

/// One statistic: value, unit and where it is measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feature {
    /// The value (NaN when it cannot be measured; JSON writes null).
    pub value: f64,
    /// Its unit ("1" for dimensionless).
    pub unit: &'static str,
    /// The aperture, e.g. "2 R_hsm projected", "3D sphere of 2 R_hsm".
    pub aperture: String,
    /// Why the value is NaN, or a caveat; absent from JSON when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The keys of [`Features`], in chu2024 Table 1's order (the JSON keys of `galmass features`).
pub const FEATURE_KEYS: [&str; 10] =
    ["M_r", "g_r", "sfr", "sersic_n", "c_over_a", "sigma_v", "lambda_r", "kinematic_bt", "f_cold", "f_hot"];

/// The ten chu2024 Table 1 statistics of one projection, by key: `M_r`, `g_r`, `sfr`, `sersic_n`, `c_over_a`,
/// `sigma_v`, `lambda_r`, `kinematic_bt`, `f_cold`, `f_hot` ([`FEATURE_KEYS`]).
///
/// Serialises as a map of those ten keys to [`Feature`]s; the other fields are diagnostics for callers.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    values: Vec<(&'static str, Feature)>,
    /// The 3-D half stellar mass radius the apertures scale with, kpc.
    pub r_hsm_kpc: f64,
    /// The Sérsic fit behind `sersic_n`.
    pub sersic: SersicFit,
    /// The shape behind `c_over_a`.
    pub shape: AxisRatios,
    /// Pixels behind `lambda_r`.
    pub lambda_r_pixels: usize,
    /// The potential behind the circularities.
    pub potential: PotentialSource,
}

impl Features {
    /// The statistics in [`FEATURE_KEYS`] order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Feature)> {
        self.values.iter().map(|(k, f)| (*k, f))
    }

    /// The statistic `key`.
    pub fn get(&self, key: &str) -> Option<&Feature> {
        self.values.iter().find(|(k, _)| *k == key).map(|(_, f)| f)
    }
}

impl Serialize for Features {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len()))?;
        for (key, feature) in &self.values {
            map.serialize_entry(key, feature)?;
        }
        map.end()
    }
}

/// Parameters of the statistics (unchecked; [`Params::check`]). Radii in units of R_hsm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureParams {
    /// Projected aperture of M_r, g-r, SFR, sigma_v and lambda_R (chu2024: 2).
    pub aperture_rhsm: f64,
    /// Star formation window, Gyr (chu2024: 1).
    pub sfr_window_gyr: f64,
    /// Outer projected radius of the Sérsic fit (chu2024: 5).
    pub sersic_max_rhsm: f64,
    /// Radius of the sphere the shape iteration starts from (chu2024: 3).
    pub shape_start_rhsm: f64,
    /// The shape tensor (chu2024 cites Allgood et al. 2006: reduced).
    pub shape_tensor: ShapeTensor,
    /// 3-D aperture of the circularity fractions (chu2024: 2).
    pub circularity_aperture_rhsm: f64,
    /// lambda_R pixel side (galmass: 0.25; chu2024 gives no binning).
    pub lambda_pixel_rhsm: f64,
    /// Fewest stars in a lambda_R pixel (galmass: 20).
    pub lambda_min_stars: usize,
}

impl FeatureParams {
    /// The paper presets.
    pub const PRESETS: [&'static str; 1] = ["chu2024"];

    /// chu2024 Table 1's apertures (methods.md); lambda_R's binning is galmass's (module docs).
    pub const CHU2024: FeatureParams = FeatureParams {
        aperture_rhsm: 2.0,
        sfr_window_gyr: 1.0,
        sersic_max_rhsm: 5.0,
        shape_start_rhsm: 3.0,
        shape_tensor: ShapeTensor::Reduced,
        circularity_aperture_rhsm: 2.0,
        lambda_pixel_rhsm: 0.25,
        lambda_min_stars: 20,
    };

    /// A preset by name ([`FeatureParams::PRESETS`]); `None` for an unknown name.
    pub fn preset(name: &str) -> Option<Self> {
        (name == "chu2024").then_some(Self::CHU2024)
    }

    /// [`FeatureParams::preset`] as a typed error for an unknown name.
    pub fn named(name: &str) -> Result<Self, MockError> {
        Self::preset(name).ok_or_else(|| MockError::InvalidParameter {
            name: "preset",
            reason: format!("unknown feature preset `{name}`, expected one of {:?}", Self::PRESETS),
        })
    }
}

/// Checked [`FeatureParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureValidParams(FeatureParams);

impl FeatureValidParams {
    /// The parameters.
    pub fn params(&self) -> &FeatureParams {
        &self.0
    }
}

impl Params for FeatureParams {
    type Valid = FeatureValidParams;
    type Error = MockError;

    fn check(&self) -> Result<FeatureValidParams, MockError> {
        for (name, v) in [
            ("aperture_rhsm", self.aperture_rhsm),
            ("sfr_window_gyr", self.sfr_window_gyr),
            ("sersic_max_rhsm", self.sersic_max_rhsm),
            ("shape_start_rhsm", self.shape_start_rhsm),
            ("circularity_aperture_rhsm", self.circularity_aperture_rhsm),
            ("lambda_pixel_rhsm", self.lambda_pixel_rhsm),
        ] {
            if !v.is_finite() || v <= 0.0 {
                return Err(MockError::InvalidParameter { name, reason: format!("{v}, expected a positive number") });
            }
        }
        if self.lambda_pixel_rhsm > self.aperture_rhsm {
            return Err(MockError::InvalidParameter {
                name: "lambda_pixel_rhsm",
                reason: format!("{} exceeds the aperture {}", self.lambda_pixel_rhsm, self.aperture_rhsm),
            });
        }
        if self.aperture_rhsm / self.lambda_pixel_rhsm > 4096.0 {
            return Err(MockError::InvalidParameter {
                name: "lambda_pixel_rhsm",
                reason: format!("{}, more than 4096 pixels across the aperture radius", self.lambda_pixel_rhsm),
            });
        }
        if self.lambda_min_stars < 2 {
            return Err(MockError::InvalidParameter {
                name: "lambda_min_stars",
                reason: format!("{}, expected at least 2 (a dispersion needs two stars)", self.lambda_min_stars),
            });
        }
        Ok(FeatureValidParams(*self))
    }
}

/// Fewest star particles the statistics are measured from.
pub const MIN_STARS: usize = 50;

/// chu2024's R_hsm: the 3-D radius about the origin (the galaxy's centre) enclosing half the stellar mass, kpc
/// ([`Particles::half_mass_radius_kpc`]).
///
/// Errors: no stars with mass, or all of them at the centre.
pub fn half_mass_radius_3d_kpc(stars: &Particles) -> Result<f64, MockError> {
    stars.half_mass_radius_kpc().filter(|r| r.is_finite() && *r > 0.0).ok_or_else(|| MockError::BadInput {
        name: "stars",
        expected: "stellar mass away from the centre (a positive half-mass radius)".into(),
        got: format!("{} star particles of total mass {} Msun", stars.len(), stars.total_mass_msun()),
    })
}

fn feature(value: f64, unit: &'static str, aperture: String) -> Feature {
    Feature { value, unit, aperture, note: None }
}

fn noted(value: f64, unit: &'static str, aperture: String, note: Option<String>) -> Feature {
    Feature { value, unit, aperture, note }
}

/// chu2024's ten statistics of `galaxy` seen along `los` (module docs). The stars need `lum_g` and `lum_r`; ages
/// for `sfr` (NaN with a note without them). Circularities use every species' mass.
///
/// Errors: no stars or fewer than [`MIN_STARS`], missing or negative luminosities, no positive R_hsm, too few
/// stars for the Sérsic fit, the shape tensor or the circularities.
pub fn chu2024_features(
    galaxy: &Galaxy,
    los: &LineOfSight,
    params: &FeatureValidParams,
) -> Result<Features, MockError> {
    let p = params.params();
    let stars = galaxy.species(Species::Stars).ok_or_else(|| MockError::BadInput {
        name: "galaxy",
        expected: "star particles".into(),
        got: "no stars".into(),
    })?;
    if stars.len() < MIN_STARS {
        return Err(MockError::TooFewPoints { what: "summary statistics".into(), needed: MIN_STARS, got: stars.len() });
    }
    let r_hsm = half_mass_radius_3d_kpc(stars)?;
    let (lum_r, msun_r) = band_luminosities(stars, "r")?;
    let (lum_g, msun_g) = band_luminosities(stars, "g")?;
    for (band, lum) in [("r", lum_r), ("g", lum_g)] {
        if let Some((i, l)) = lum.iter().enumerate().find(|(_, l)| **l < 0.0) {
            return Err(MockError::BadInput {
                name: "stars",
                expected: format!("non-negative luminosities in band {band}"),
                got: format!("{l} Lsun at star {i}"),
            });
        }
    }
    let lum_r = lum_r.to_vec();
    let (x, y) = los.project_rows(stars.pos_kpc());
    let (x, y, v_los) = (x.to_vec(), y.to_vec(), los.v_los_rows(stars.vel_kms()).to_vec());
    let projected: Vec<f64> = x.iter().zip(&y).map(|(a, b)| a.hypot(*b)).collect();
    let aperture = p.aperture_rhsm * r_hsm;
    let inside: Vec<usize> = (0..stars.len()).filter(|&i| projected[i] < aperture).collect();
    let ap_name = format!("{} R_hsm projected", p.aperture_rhsm);

    // Photometry (chu2024 Table 1: M_r, g - r).
    let (lr, lg): (f64, f64) = inside.iter().fold((0.0, 0.0), |(a, b), &i| (a + lum_r[i], b + lum_g[i]));
    let no_light = (lr <= 0.0).then(|| "no r-band light in the aperture".to_string());
    let m_r = noted(absolute_magnitude_ab(lr, msun_r), "mag (AB)", ap_name.clone(), no_light.clone());
    let no_colour = (lr <= 0.0 || lg <= 0.0).then(|| "no g- or r-band light in the aperture".to_string());
    let g_r = noted(colour_ab(lg, msun_g, lr, msun_r), "mag (AB)", ap_name.clone(), no_colour);
    // SFR over the window, current masses.
    let sfr_aperture = format!("{ap_name}, stars younger than {} Gyr", p.sfr_window_gyr);
    let sfr = match stars.field(ScalarField::AgeGyr) {
        Some(age) => {
            let (age, mass) = (age.to_vec(), stars.mass_msun().to_vec());
            feature(star_formation_rate_msun_yr(&age, &mass, &inside, p.sfr_window_gyr), "Msun/yr", sfr_aperture)
        }
        None => noted(f64::NAN, "Msun/yr", sfr_aperture, Some("the stars carry no ages (age_gyr)".into())),
    };
    // sigma_v: r-luminosity weighted about the weighted mean.
    let v_in: Vec<f64> = inside.iter().map(|&i| v_los[i]).collect();
    let w_in: Vec<f64> = inside.iter().map(|&i| lum_r[i]).collect();
    let sigma = weighted_moments(&v_in, &w_in).1;
    let sigma_v = noted(sigma, "km/s", format!("{ap_name}, r-luminosity weighted"), no_light);
    // Sérsic index of the projected r-band profile.
    let sersic = fit_sersic(&projected, &lum_r, r_hsm, p.sersic_max_rhsm * r_hsm)?;
    let at_bound = (sersic.n >= sersic::N_RANGE.1).then(|| format!("at the fit's upper bound {}", sersic::N_RANGE.1));
    let sersic_n =
        noted(sersic.n, "1", format!("r-band profile within {} R_hsm projected", p.sersic_max_rhsm), at_bound);
    // Shape from the iterative tensor.
    let shape = axis_ratios(stars, p.shape_start_rhsm * r_hsm, p.shape_tensor)?;
    let unconverged = (!shape.converged).then(|| format!("not converged in {} iterations", shape::MAX_ITERATIONS));
    let c_over_a = noted(
        shape.c_over_a,
        "1",
        format!("iterative shape tensor from a 3D sphere of {} R_hsm", p.shape_start_rhsm),
        unconverged,
    );
    // lambda_R.
    let lambda = lambda_r(&x, &y, &v_los, &lum_r, aperture, p.lambda_pixel_rhsm * r_hsm, p.lambda_min_stars)?;
    let no_pixels = (lambda.n_pixels == 0)
        .then(|| format!("no {} R_hsm pixel holds {} stars", p.lambda_pixel_rhsm, p.lambda_min_stars));
    let lambda_feature =
        noted(lambda.value, "1", format!("{ap_name}, {} R_hsm pixels", p.lambda_pixel_rhsm), no_pixels);
    // Circularities in the 3-D sphere.
    let circ = circularities(galaxy, stars, p.circularity_aperture_rhsm * r_hsm)?;
    let fractions = CircularityFractions::from_circularities(&circ.eps, &circ.mass_msun);
    let sphere = format!("3D sphere of {} R_hsm", p.circularity_aperture_rhsm);
    let values = vec![
        ("M_r", m_r),
        ("g_r", g_r),
        ("sfr", sfr),
        ("sersic_n", sersic_n),
        ("c_over_a", c_over_a),
        ("sigma_v", sigma_v),
        ("lambda_r", lambda_feature),
        ("kinematic_bt", feature(fractions.kinematic_bt, "1", sphere.clone())),
        ("f_cold", feature(fractions.f_cold, "1", sphere.clone())),
        ("f_hot", feature(fractions.f_hot, "1", sphere)),
    ];
    Ok(Features {
        values,
        r_hsm_kpc: r_hsm,
        sersic,
        shape,
        lambda_r_pixels: lambda.n_pixels,
        potential: circ.potential,
    })
}

#[cfg(test)]
mod tests;
