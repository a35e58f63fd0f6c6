//! chu2024's ten summary statistics of a galaxy projection (Table 1, §2.3), the GBDT's features.
//!
//! Apertures (methods.md, chu2024 Table 1): 2 R_hsm projected unless said, R_hsm the 3-D half stellar mass
//! radius ([`galmass_core::Particles::half_mass_radius_kpc`]).
//! - `M_r`, `g_r`: absolute AB magnitude in r and g - r of the summed luminosities within 2 R_hsm projected.
//! - `sfr`: mass of stars younger than 1 Gyr within 2 R_hsm projected over 1 Gyr, Msun/yr (current masses, so
//!   slightly below the mass formed; NaN without stellar ages).
//! - `sersic_n`: a Sérsic profile `I(R) = I_e exp(-b_n ((R / R_e)^(1/n) - 1))` fitted to the projected r-band
//!   surface brightness in 24 log-spaced annuli from 0.05 to 5 R_hsm (least squares in ln I, each annulus weighted
//!   by its star count, Nelder-Mead over ln I_e, ln R_e, ln n with n in [0.2, 200]); `b_n` exact from
//!   `P(2n, b_n) = 1/2` (regularised lower incomplete gamma, statrs).
//! - `c_over_a`: `sqrt(lambda_3 / lambda_1)` of the mass-weighted shape tensor `S_ij = sum m x_i x_j / sum m` of the
//!   stars within an ellipsoid iterated to convergence: it starts as the sphere of 3 R_hsm and takes the axis
//!   directions and ratios of the last tensor, keeping its volume (Zemp et al. 2011, ApJS 197, 30, "enclosed
//!   volume" variant), until the axis ratios change by less than 1e-4 (at most 100 iterations).
//! - `sigma_v`: r-luminosity-weighted line-of-sight velocity dispersion about the weighted mean, 2 R_hsm projected.
//! - `lambda_r`: Emsellem et al. (2007, MNRAS 379, 401) `sum F R |V| / sum F R sqrt(V^2 + sigma^2)` over square
//!   pixels of 0.25 R_hsm whose centres lie within 2 R_hsm projected, F the pixel's r-band flux, V and sigma its
//!   r-weighted mean and dispersion; pixels with fewer than 20 stars are left out (the paper gives no binning: the
//!   pixels stand in for Emsellem's Voronoi bins and keep the noise bias of |V| small).
//! - `kinematic_bt` (2 x the mass fraction with circularity < 0), `f_cold` (circularity > 0.8), `f_hot`
//!   (|circularity| < 0.25), of the stars in the 3-D sphere of 2 R_hsm. Circularity `eps = j_z / j_c(E)` (Abadi
//!   et al. 2003): `j_z` along the total angular momentum of those stars, `E = v^2 / 2 + Phi`, `j_c(E)` the angular
//!   momentum of the circular orbit of energy E in the spherically averaged potential of every species
//!   (`Phi(r) = -G M(<r) / r - G sum_{r_i > r} m_i / r_i`, `v_c^2 = G M(<r) / r`). When the stars carry the
//!   simulation's potential (`potential` field), E uses it and the circular-orbit energies use its spherical average
//!   in radial shells, so the two share the snapshot's zero point. Stars bound more tightly than the innermost
//!   circular orbit take that orbit; less tightly than the outermost, the outermost.

use galmass_core::params::Params;
use galmass_core::particles::{ScalarField, Species};
use galmass_core::units::G_KPC_KMS2_PER_MSUN;
use galmass_core::{Galaxy, LineOfSight, Particles};
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::optical::sph::{band_luminosities, ImageGrid};

mod fit;
mod shape;

pub use shape::axis_ratios;

/// One statistic: value, unit and where it is measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feature {
    /// The value (NaN when it cannot be measured; JSON writes null).
    pub value: f64,
    /// Its unit.
    pub unit: &'static str,
    /// The aperture.
    pub aperture: String,
}

/// The keys of [`Features`], in chu2024 Table 1's order (the JSON keys of `galmass features`).
pub const FEATURE_KEYS: [&str; 10] =
    ["M_r", "g_r", "sfr", "sersic_n", "c_over_a", "sigma_v", "lambda_r", "kinematic_bt", "f_cold", "f_hot"];

/// The ten statistics of one projection, by key ([`FEATURE_KEYS`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Features {
    values: Vec<(&'static str, Feature)>,
    /// The 3-D half stellar mass radius the apertures scale with, kpc.
    pub r_hsm_kpc: f64,
    /// The fitted Sérsic effective radius, kpc.
    pub sersic_r_e_kpc: f64,
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

/// Parameters of the statistics (unchecked; [`Params::check`]). Radii in units of R_hsm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureParams {
    /// Projected aperture of M_r, g-r, SFR, sigma_v and lambda_R (chu2024: 2).
    pub aperture_rhsm: f64,
    /// Star formation window, Gyr (chu2024: 1).
    pub sfr_window_gyr: f64,
    /// Outer radius of the Sérsic fit (chu2024: 5).
    pub sersic_max_rhsm: f64,
    /// Starting radius of the shape iteration (chu2024: 3).
    pub shape_aperture_rhsm: f64,
    /// 3-D aperture of the circularity fractions (chu2024: 2).
    pub circularity_aperture_rhsm: f64,
    /// lambda_R pixel size.
    pub lambda_pixel_rhsm: f64,
    /// Fewest stars in a lambda_R pixel.
    pub lambda_min_count: usize,
}

impl FeatureParams {
    /// The paper presets.
    pub const PRESETS: [&'static str; 1] = ["chu2024"];

    /// chu2024 Table 1's apertures (methods.md); lambda_R's binning is galmass's (module docs).
    pub const CHU2024: FeatureParams = FeatureParams {
        aperture_rhsm: 2.0,
        sfr_window_gyr: 1.0,
        sersic_max_rhsm: 5.0,
        shape_aperture_rhsm: 3.0,
        circularity_aperture_rhsm: 2.0,
        lambda_pixel_rhsm: 0.25,
        lambda_min_count: 20,
    };

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        (name == "chu2024").then_some(Self::CHU2024)
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
            ("shape_aperture_rhsm", self.shape_aperture_rhsm),
            ("circularity_aperture_rhsm", self.circularity_aperture_rhsm),
            ("lambda_pixel_rhsm", self.lambda_pixel_rhsm),
        ] {
            if !v.is_finite() || v <= 0.0 {
                return Err(MockError::InvalidParameter { name, reason: format!("{v}, expected a positive number") });
            }
        }
        if self.lambda_min_count < 2 {
            return Err(MockError::InvalidParameter { name: "lambda_min_count", reason: "must be at least 2".into() });
        }
        Ok(FeatureValidParams(*self))
    }
}

/// Fewest stars the statistics are measured from.
pub const MIN_STARS: usize = 50;

fn feature(value: f64, unit: &'static str, aperture: String) -> Feature {
    Feature { value, unit, aperture }
}

/// Weighted mean and standard deviation (about the mean) of `v` with weights `w`; NaN without weight.
fn weighted_moments(v: &[f64], w: &[f64]) -> (f64, f64) {
    let sw: f64 = w.iter().sum();
    if sw.is_nan() || sw <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    let mean = v.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() / sw;
    let var = v.iter().zip(w).map(|(a, b)| b * (a - mean).powi(2)).sum::<f64>() / sw;
    (mean, var.sqrt())
}

/// chu2024's ten statistics of `galaxy` seen along `los` (module docs). The stars need `lum_g` and `lum_r`;
/// ages for `sfr` (NaN without them).
///
/// Errors: no stars or fewer than [`MIN_STARS`], missing luminosities, non-finite values.
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
    let r_hsm = stars.half_mass_radius_kpc().filter(|r| *r > 0.0).ok_or_else(|| MockError::BadInput {
        name: "stars",
        expected: "a positive stellar mass".into(),
        got: "none".into(),
    })?;
    let (lum_r, msun_r) = band_luminosities(stars, "r")?;
    let (lum_g, msun_g) = band_luminosities(stars, "g")?;
    let (x, y) = los.project_rows(stars.pos_kpc());
    let v_los = los.v_los_rows(stars.vel_kms());
    let aperture = p.aperture_rhsm * r_hsm;
    let inside: Vec<usize> = (0..stars.len()).filter(|&i| x[i].hypot(y[i]) < aperture).collect();
    let ap_name = format!("{} R_hsm projected", p.aperture_rhsm);
    // Photometry.
    let (lr, lg): (f64, f64) = inside.iter().fold((0.0, 0.0), |(a, b), &i| (a + lum_r[i], b + lum_g[i]));
    let m_r = if lr > 0.0 { msun_r - 2.5 * lr.log10() } else { f64::NAN };
    let g_r = if lr > 0.0 && lg > 0.0 { -2.5 * (lg / lr).log10() + (msun_g - msun_r) } else { f64::NAN };
    let sfr = match stars.field(ScalarField::AgeGyr) {
        Some(age) => {
            let young: f64 = inside.iter().filter(|&&i| age[i] < p.sfr_window_gyr).map(|&i| stars.mass_msun()[i]).sum();
            young / (p.sfr_window_gyr * 1e9)
        }
        None => f64::NAN,
    };
    // sigma_v.
    let v_in: Vec<f64> = inside.iter().map(|&i| v_los[i]).collect();
    let w_in: Vec<f64> = inside.iter().map(|&i| lum_r[i]).collect();
    let sigma_v = weighted_moments(&v_in, &w_in).1;
    // Sérsic.
    let radii: Vec<f64> = x.iter().zip(y.iter()).map(|(a, b)| a.hypot(*b)).collect();
    let sersic =
        fit::fit_sersic(&radii, lum_r.as_slice().unwrap_or(&lum_r.to_vec()), r_hsm, p.sersic_max_rhsm * r_hsm)?;
    // Shape.
    let c_over_a = shape::axis_ratios(stars, p.shape_aperture_rhsm * r_hsm)?.1;
    // lambda_R.
    let lambda_r = lambda_r(
        &x.to_vec(),
        &y.to_vec(),
        &v_los.to_vec(),
        &lum_r.to_vec(),
        aperture,
        p.lambda_pixel_rhsm * r_hsm,
        p.lambda_min_count,
    )?;
    // Circularities.
    let circ_ap = p.circularity_aperture_rhsm * r_hsm;
    let eps = circularities(galaxy, stars, circ_ap)?;
    let (mut m_tot, mut m_neg, mut m_cold, mut m_hot) = (0.0, 0.0, 0.0, 0.0);
    for &(i, e) in &eps {
        let m = stars.mass_msun()[i];
        m_tot += m;
        if e < 0.0 {
            m_neg += m;
        }
        if e > 0.8 {
            m_cold += m;
        }
        if e.abs() < 0.25 {
            m_hot += m;
        }
    }
    let frac = |m: f64| if m_tot > 0.0 { m / m_tot } else { f64::NAN };
    let sphere = format!("3D sphere of {} R_hsm", p.circularity_aperture_rhsm);
    let values = vec![
        ("M_r", feature(m_r, "mag (AB)", ap_name.clone())),
        ("g_r", feature(g_r, "mag (AB)", ap_name.clone())),
        ("sfr", feature(sfr, "Msun/yr", format!("{ap_name}, stars younger than {} Gyr", p.sfr_window_gyr))),
        ("sersic_n", feature(sersic.n, "1", format!("r-band profile within {} R_hsm projected", p.sersic_max_rhsm))),
        ("c_over_a", feature(c_over_a, "1", format!("iterative shape tensor from {} R_hsm", p.shape_aperture_rhsm))),
        ("sigma_v", feature(sigma_v, "km/s", format!("{ap_name}, r-luminosity weighted"))),
        ("lambda_r", feature(lambda_r, "1", format!("{ap_name}, {} R_hsm pixels", p.lambda_pixel_rhsm))),
        ("kinematic_bt", feature(2.0 * frac(m_neg), "1", sphere.clone())),
        ("f_cold", feature(frac(m_cold), "1", sphere.clone())),
        ("f_hot", feature(frac(m_hot), "1", sphere)),
    ];
    Ok(Features { values, r_hsm_kpc: r_hsm, sersic_r_e_kpc: sersic.r_e })
}

/// Emsellem et al. 2007's lambda_R over square pixels of side `pixel` whose centres lie within `aperture`.
pub fn lambda_r(
    x: &[f64],
    y: &[f64],
    v: &[f64],
    flux: &[f64],
    aperture: f64,
    pixel: f64,
    min_count: usize,
) -> Result<f64, MockError> {
    let npix = ((2.0 * aperture / pixel).ceil() as usize).max(1);
    let grid = ImageGrid::new(npix, 0.5 * npix as f64 * pixel)?;
    let mut cells: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); npix * npix];
    for i in 0..x.len() {
        if let (Some(ix), Some(iy)) = (grid.pixel_of(x[i]), grid.pixel_of(y[i])) {
            cells[iy * npix + ix].0.push(v[i]);
            cells[iy * npix + ix].1.push(flux[i]);
        }
    }
    let (mut num, mut den) = (0.0, 0.0);
    for iy in 0..npix {
        for ix in 0..npix {
            let r = grid.centre(ix).hypot(grid.centre(iy));
            let (vs, fs) = &cells[iy * npix + ix];
            if r > aperture || vs.len() < min_count {
                continue;
            }
            let f: f64 = fs.iter().sum();
            let (mean, sigma) = weighted_moments(vs, fs);
            if !(mean.is_finite() && sigma.is_finite()) {
                continue;
            }
            num += f * r * mean.abs();
            den += f * r * (mean * mean + sigma * sigma).sqrt();
        }
    }
    Ok(if den > 0.0 { num / den } else { f64::NAN })
}

/// Circularity of each star within the 3-D sphere of `aperture` kpc: `(index, eps)` (module docs).
pub fn circularities(galaxy: &Galaxy, stars: &Particles, aperture: f64) -> Result<Vec<(usize, f64)>, MockError> {
    // The spherical mass profile of every species.
    let mut shells: Vec<(f64, f64)> = Vec::new();
    for (_, part) in galaxy.all_species() {
        for (r, m) in part.radii_kpc().iter().zip(part.mass_msun()) {
            shells.push((*r, *m));
        }
    }
    shells.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = shells.len();
    let mut m_in = vec![0.0; n];
    let mut acc = 0.0;
    for (k, s) in shells.iter().enumerate() {
        acc += s.1;
        m_in[k] = acc;
    }
    // Outer term sum_{r_i > r} m_i / r_i, from the outside in.
    let mut outer = vec![0.0; n];
    let mut acc_out = 0.0;
    for k in (0..n).rev() {
        outer[k] = acc_out;
        if shells[k].0 > 0.0 {
            acc_out += shells[k].1 / shells[k].0;
        }
    }
    let g = G_KPC_KMS2_PER_MSUN;
    // A table of radii log-spaced over the stars' range: M(<r), Phi(r), E_c(r).
    let r_lo = shells.iter().map(|s| s.0).find(|r| *r > 0.0).unwrap_or(1e-3).max(1e-4);
    let r_hi = shells.last().map_or(1.0, |s| s.0).max(2.0 * r_lo);
    let nt = 256;
    let radii: Vec<f64> = (0..nt).map(|k| r_lo * (r_hi / r_lo).powf(k as f64 / (nt - 1) as f64)).collect();
    let index_at = |r: f64| shells.partition_point(|s| s.0 <= r);
    let mass_at = |r: f64| {
        let k = index_at(r);
        if k == 0 {
            0.0
        } else {
            m_in[k - 1]
        }
    };
    let phi_mass = |r: f64| {
        let k = index_at(r);
        let inner = if k == 0 { 0.0 } else { m_in[k - 1] };
        let out = if k == 0 {
            acc_out
        } else if k < n {
            outer[k - 1]
        } else {
            0.0
        };
        -g * inner / r - g * out
    };
    let stored = stars.field(ScalarField::PotentialKms2);
    let star_r = stars.radii_kpc();
    // With stored potentials, the circular curve's potential is their average in radial shells of the table.
    let phi_table: Vec<f64> = match stored {
        Some(pot) => {
            let mut sums = vec![(0.0, 0usize); nt];
            for (r, p) in star_r.iter().zip(pot) {
                let k = radii.partition_point(|t| t < r).min(nt - 1);
                sums[k].0 += p;
                sums[k].1 += 1;
            }
            // Shells without stars take the mass-profile potential shifted to the stored zero point.
            let offsets: Vec<f64> =
                (0..nt).filter(|&k| sums[k].1 > 0).map(|k| sums[k].0 / sums[k].1 as f64 - phi_mass(radii[k])).collect();
            let offset = if offsets.is_empty() { 0.0 } else { offsets.iter().sum::<f64>() / offsets.len() as f64 };
            (0..nt)
                .map(|k| if sums[k].1 >= 5 { sums[k].0 / sums[k].1 as f64 } else { phi_mass(radii[k]) + offset })
                .collect()
        }
        None => radii.iter().map(|&r| phi_mass(r)).collect(),
    };
    let vc2: Vec<f64> = radii.iter().map(|&r| g * mass_at(r) / r).collect();
    // E_c must increase with r; enforce it (shot noise in the stored shells) by a running maximum.
    let mut e_c: Vec<f64> = phi_table.iter().zip(&vc2).map(|(p, v)| p + 0.5 * v).collect();
    for k in 1..nt {
        if e_c[k] < e_c[k - 1] {
            e_c[k] = e_c[k - 1];
        }
    }
    // Stars in the aperture and their angular momentum axis.
    let (pos, vel) = (stars.pos_kpc(), stars.vel_kms());
    let members: Vec<usize> = (0..stars.len()).filter(|&i| star_r[i] < aperture).collect();
    if members.len() < 2 {
        return Err(MockError::TooFewPoints { what: "circularities".into(), needed: 2, got: members.len() });
    }
    let cross = |i: usize| {
        let (p, v) = ([pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]], [vel[[i, 0]], vel[[i, 1]], vel[[i, 2]]]);
        [p[1] * v[2] - p[2] * v[1], p[2] * v[0] - p[0] * v[2], p[0] * v[1] - p[1] * v[0]]
    };
    let mut l = [0.0; 3];
    for &i in &members {
        let j = cross(i);
        for k in 0..3 {
            l[k] += stars.mass_msun()[i] * j[k];
        }
    }
    let norm = (l[0] * l[0] + l[1] * l[1] + l[2] * l[2]).sqrt();
    let axis = if norm > 0.0 { [l[0] / norm, l[1] / norm, l[2] / norm] } else { [0.0, 0.0, 1.0] };
    let mut out = Vec::with_capacity(members.len());
    for &i in &members {
        let v2 = vel[[i, 0]].powi(2) + vel[[i, 1]].powi(2) + vel[[i, 2]].powi(2);
        let phi = match stored {
            Some(pot) => pot[i],
            None => phi_mass(star_r[i].max(r_lo)),
        };
        let e = 0.5 * v2 + phi;
        let k = e_c.partition_point(|c| *c < e).clamp(1, nt - 1);
        let (e0, e1) = (e_c[k - 1], e_c[k]);
        let t = if e1 > e0 { ((e - e0) / (e1 - e0)).clamp(0.0, 1.0) } else { 0.0 };
        let r_c = radii[k - 1] + t * (radii[k] - radii[k - 1]);
        let j_c = r_c * (g * mass_at(r_c) / r_c).sqrt();
        let j = cross(i);
        let j_z = j[0] * axis[0] + j[1] * axis[1] + j[2] * axis[2];
        out.push((i, if j_c > 0.0 { j_z / j_c } else { 0.0 }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
