//! The baryons of the decomposition: the stellar disc from the light and the gas from the HI surface density.
//!
//! - [`fit_exponential`]: an exponential disc `I(R) = I_0 exp(-R / R_d)` fitted to the azimuthal mean of an image
//!   in elliptical annuli of the disc's geometry (delosrios2023 §5.6 fits the SDSS g-band light with AUTOPROF), by
//!   weighted least squares on `ln I` outside the seeing core and down to a signal-to-noise limit;
//! - [`exponential_disc_v2`]: the rotation curve of a razor-thin exponential disc (Freeman 1970; Mo, van den Bosch
//!   & White 2010 eq. 11.30), `v^2 = 4 pi G Sigma_0 R_d y^2 [I_0(y) K_0(y) - I_1(y) K_1(y)]` with `y = R / (2 R_d)`
//!   (delosrios2023 eq. 6 prints `y = R / R_d` and a leading minus sign, both typos of the textbook formula), the
//!   Bessel functions from `puruspe`;
//! - [`thin_disc_v2`]: the rotation curve of any axisymmetric thin disc given its surface density at a set of
//!   radii, for the gas (HI times the helium factor [`HELIUM_FACTOR`]): the disc cut into 2000 annuli, each a ring of
//!   potential `-2 G m K(k) / (pi (R + a))`, `k^2 = 4 a R / (R + a)^2`, differentiated numerically on the annulus
//!   edges (half an annulus from the nearest ring) and interpolated between them; `v^2 = R dPhi/dR` is negative where the disc pulls outwards (a central
//!   HI hole), as rotation-curve decompositions use it (signed `v_gas |v_gas|`).
//!
//! ```
//! use galmass_estimators::rc::disc::exponential_disc_v2;
//! use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;
//! // Far out a disc is Keplerian.
//! let v2 = exponential_disc_v2(200.0, 1e10, 2.0);
//! assert!((v2 / (G * 1e10 / 200.0) - 1.0).abs() < 1e-3);
//! ```

// `!(x > 0.0)` is meant: NaN must fail these checks, which `x <= 0.0` would let through.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use std::f64::consts::PI;

use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::rc::rings::DiscGeometry;
use crate::EstimatorError;

/// Total gas over HI mass (hydrogen mass fraction 0.75): the factor rotation-curve decompositions apply to the HI
/// surface density (e.g. de Blok et al. 2008 use 1.4; 1.33 is the primordial helium fraction).
pub const HELIUM_FACTOR: f64 = 1.33;

/// Annuli of [`thin_disc_v2`].
pub const THIN_DISC_ANNULI: usize = 2000;

/// Squared circular velocity, (km/s)^2, of a razor-thin exponential disc of `mass_msun` and scale length `rd_kpc`
/// at `r_kpc` (Freeman 1970); the asymptotic series `G M / R (1 + 9 / (8 y^2))` beyond `y = 200`.
pub fn exponential_disc_v2(r_kpc: f64, mass_msun: f64, rd_kpc: f64) -> f64 {
    if !(r_kpc > 0.0 && rd_kpc > 0.0) || mass_msun == 0.0 {
        return 0.0;
    }
    let y = r_kpc / (2.0 * rd_kpc);
    if y > 200.0 {
        return G * mass_msun / r_kpc * (1.0 + 9.0 / (8.0 * y * y));
    }
    let bessel = puruspe::In(0, y) * puruspe::Kn(0, y) - puruspe::In(1, y) * puruspe::Kn(1, y);
    let sigma0 = mass_msun / (2.0 * PI * rd_kpc * rd_kpc);
    4.0 * PI * G * sigma0 * rd_kpc * y * y * bessel
}

/// Mass of an exponential disc within the cylinder of radius `r_kpc`: `M (1 - (1 + x) e^-x)`, `x = R / R_d`.
pub fn exponential_disc_mass_msun(r_kpc: f64, mass_msun: f64, rd_kpc: f64) -> f64 {
    if !(r_kpc > 0.0 && rd_kpc > 0.0) {
        return 0.0;
    }
    let x = r_kpc / rd_kpc;
    mass_msun * (1.0 - (1.0 + x) * (-x).exp())
}

/// Complete elliptic integral of the first kind `K(k)` (modulus `k`) by the arithmetic-geometric mean.
pub fn elliptic_k(k: f64) -> f64 {
    let (mut a, mut b) = (1.0f64, (1.0 - k * k).max(0.0).sqrt());
    if b == 0.0 {
        return f64::INFINITY;
    }
    for _ in 0..60 {
        if (a - b).abs() <= 1e-15 * a {
            break;
        }
        let next = 0.5 * (a + b);
        b = (a * b).sqrt();
        a = next;
    }
    PI / (2.0 * a)
}

/// Piecewise-linear surface density: flat inside the first radius, zero beyond the last.
fn surface_density_at(radii: &[f64], sigma: &[f64], r: f64) -> f64 {
    match radii.last() {
        Some(&last) if r <= last => galmass_core::numeric::interp::interp(radii, sigma, r),
        _ => 0.0,
    }
}

/// Squared circular velocity, (km/s)^2, at each of `r_kpc` of a thin axisymmetric disc whose surface density is
/// `sigma_msun_kpc2` at `sigma_radii_kpc` (increasing; linear between, flat inside the first, zero beyond the last).
pub fn thin_disc_v2(
    r_kpc: &[f64],
    sigma_radii_kpc: &[f64],
    sigma_msun_kpc2: &[f64],
) -> Result<Vec<f64>, EstimatorError> {
    if sigma_radii_kpc.len() != sigma_msun_kpc2.len() || sigma_radii_kpc.is_empty() {
        return Err(EstimatorError::BadInput {
            name: "sigma_msun_kpc2",
            expected: format!("{} values, one per radius", sigma_radii_kpc.len()),
            got: format!("{}", sigma_msun_kpc2.len()),
        });
    }
    if sigma_radii_kpc.windows(2).any(|w| !(w[1] > w[0])) || sigma_msun_kpc2.iter().any(|s| !s.is_finite()) {
        return Err(EstimatorError::BadInput {
            name: "sigma_radii_kpc",
            expected: "increasing radii with finite surface densities".into(),
            got: format!("{sigma_radii_kpc:?}"),
        });
    }
    let edge = sigma_radii_kpc[sigma_radii_kpc.len() - 1];
    let da = edge / THIN_DISC_ANNULI as f64;
    let rings: Vec<(f64, f64)> = (0..THIN_DISC_ANNULI)
        .map(|j| {
            let a = (j as f64 + 0.5) * da;
            (a, 2.0 * PI * a * da * surface_density_at(sigma_radii_kpc, sigma_msun_kpc2, a))
        })
        .collect();
    // Unsoftened rings evaluated on the annulus edges (half an annulus from the nearest ring, where the midpoint
    // rule handles the logarithmic singularity of K), interpolated linearly between edges.
    let potential = |r: f64| -> f64 {
        rings
            .iter()
            .map(|&(a, m)| {
                let d2 = (r + a) * (r + a);
                let k = (4.0 * a * r / d2).sqrt().min(1.0 - 1e-16);
                -2.0 * G * m * elliptic_k(k) / (PI * d2.sqrt())
            })
            .sum()
    };
    let v2_direct = |r: f64| {
        let h = 1e-3 * da;
        r * (potential(r + h) - potential(r - h)) / (2.0 * h)
    };
    // Only the edges up to the largest radius asked for.
    let grid_max = r_kpc.iter().filter(|r| r.is_finite()).fold(0.0f64, |m, &r| m.max(r)).min(edge + da);
    let n_grid = ((grid_max / da).floor() as usize + 2).min(THIN_DISC_ANNULI + 2);
    let grid: Vec<f64> = (0..n_grid).map(|j| if j == 0 { 0.0 } else { v2_direct(j as f64 * da) }).collect();
    Ok(r_kpc
        .iter()
        .map(|&r| {
            if !(r > 0.0) {
                0.0
            } else if r < edge + da {
                let x = r / da;
                let j = (x.floor() as usize).min(n_grid.saturating_sub(2));
                let t = x - j as f64;
                grid[j] * (1.0 - t) + grid[j + 1] * t
            } else {
                v2_direct(r)
            }
        })
        .collect())
}

/// How to fit the exponential disc to an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialFitParams {
    /// Width of the elliptical annuli along the major axis, pixels.
    pub ring_width_px: f64,
    /// Inner limit of the fit, pixels (outside the seeing core: 1.5 PSF FWHM is a good choice).
    pub min_radius_px: f64,
    /// Outer limit, pixels (`None`: where the annulus mean falls below `min_snr`).
    pub max_radius_px: Option<f64>,
    /// Sky noise per pixel in the image's unit (`None`: 1.4826 times the median absolute deviation of the pixels
    /// in the outer 5% border of the frame).
    pub sky_rms: Option<f64>,
    /// Annuli whose mean is below this many standard errors end the fit.
    pub min_snr: f64,
    /// Relative error floor of each annulus mean (surface-brightness fluctuations, bars, arms).
    pub relative_floor: f64,
}

impl Default for ExponentialFitParams {
    fn default() -> Self {
        Self {
            ring_width_px: 1.0,
            min_radius_px: 2.0,
            max_radius_px: None,
            sky_rms: None,
            min_snr: 3.0,
            relative_floor: 0.05,
        }
    }
}

/// One annulus of the light profile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfilePoint {
    /// Mid radius along the major axis, pixels.
    pub radius_px: f64,
    /// Mean of the image in the annulus, image unit per pixel.
    pub mean: f64,
    /// Standard error of the mean.
    pub error: f64,
    /// Pixels in the annulus.
    pub n_pixels: usize,
    /// Whether the exponential fit used it.
    pub fitted: bool,
}

/// An exponential disc fitted to an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExponentialFit {
    /// Observed central surface brightness of the fit, image unit per pixel.
    pub central_brightness: f64,
    /// Scale length along the major axis, pixels.
    pub scale_length_px: f64,
    /// Its 1-sigma error, pixels.
    pub scale_length_err_px: f64,
    /// Total of the exponential disc, `2 pi I_0 cos(i) R_d^2`, image unit (times pixels^2 / pixel^2).
    pub total: f64,
    /// Sum of the finite pixels of the whole image, for comparison (bulge, arms and noise included).
    pub image_total: f64,
    /// Sky noise per pixel used.
    pub sky_rms: f64,
    /// The light profile.
    pub profile: Vec<ProfilePoint>,
}

/// Fits an exponential disc to `image` (y, x) seen with `geometry` (NaN pixels skipped).
pub fn fit_exponential(
    image: ArrayView2<'_, f64>,
    geometry: &DiscGeometry,
    params: &ExponentialFitParams,
) -> Result<ExponentialFit, EstimatorError> {
    let bad = |name: &'static str, reason: String| Err(EstimatorError::InvalidParameter { name, reason });
    if !(params.ring_width_px > 0.0 && params.min_radius_px >= 0.0 && params.min_snr >= 0.0) {
        return bad("ring_width_px", format!("positive ring width and non-negative limits, got {params:?}"));
    }
    let (ny, nx) = image.dim();
    let cos_i = geometry.inclination_deg.to_radians().cos();
    if !(cos_i > 0.0) {
        return bad(
            "inclination_deg",
            format!("must be below 90 for a light profile, got {}", geometry.inclination_deg),
        );
    }
    let sky_rms = match params.sky_rms {
        Some(s) => s,
        None => {
            let border = (nx.min(ny) / 20).max(1);
            let edge = image
                .indexed_iter()
                .filter(|&((j, i), v)| {
                    v.is_finite() && (i < border || j < border || i >= nx - border || j >= ny - border)
                })
                .map(|(_, v)| *v);
            galmass_core::stats::robust_rms(edge)
        }
    };
    let max_r = params.max_radius_px.unwrap_or(f64::INFINITY);
    let n_rings = ((nx.max(ny) as f64) / params.ring_width_px).ceil() as usize + 1;
    let mut sums = vec![(0.0f64, 0usize); n_rings];
    let mut image_total = 0.0;
    for ((j, i), &v) in image.indexed_iter() {
        if !v.is_finite() {
            continue;
        }
        image_total += v;
        let (r, _) = geometry.deproject(i as f64, j as f64);
        let k = (r / params.ring_width_px) as usize;
        if k < n_rings {
            sums[k].0 += v;
            sums[k].1 += 1;
        }
    }
    let mut profile = Vec::new();
    let mut ended = false;
    for (k, &(sum, n)) in sums.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let radius_px = (k as f64 + 0.5) * params.ring_width_px;
        let mean = sum / n as f64;
        let error = sky_rms / (n as f64).sqrt();
        if radius_px >= params.min_radius_px && (!(mean > params.min_snr * error) || radius_px > max_r) {
            ended = true;
        }
        let fitted = !ended && radius_px >= params.min_radius_px && mean > 0.0;
        profile.push(ProfilePoint { radius_px, mean, error, n_pixels: n, fitted });
    }
    // Weighted least squares of ln I = ln I0 - R / R_d, each annulus weighted by 1 / var(ln I) with the floor.
    let weight = |p: &ProfilePoint| {
        let rel = p.error / p.mean;
        1.0 / (rel * rel + params.relative_floor * params.relative_floor)
    };
    let (mut sw, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut n_fit = 0;
    for p in profile.iter().filter(|p| p.fitted) {
        let w = weight(p);
        let y = p.mean.ln();
        sw += w;
        sx += w * p.radius_px;
        sy += w * y;
        sxx += w * p.radius_px * p.radius_px;
        sxy += w * p.radius_px * y;
        n_fit += 1;
    }
    let det = sw * sxx - sx * sx;
    if n_fit < 3 || !(det > 0.0) {
        return Err(EstimatorError::BadInput {
            name: "image",
            expected: "at least 3 annuli above the signal-to-noise limit outside the seeing core".into(),
            got: format!("{n_fit}"),
        });
    }
    let slope = (sw * sxy - sx * sy) / det;
    let intercept = (sy - slope * sx) / sw;
    if !(slope < 0.0) {
        return Err(EstimatorError::BadInput {
            name: "image",
            expected: "a light profile falling outwards".into(),
            got: format!("slope {slope} per pixel of ln I"),
        });
    }
    // Scatter-scaled slope error (the floor makes the formal weights approximate).
    let chi2: f64 = profile
        .iter()
        .filter(|p| p.fitted)
        .map(|p| weight(p) * (p.mean.ln() - intercept - slope * p.radius_px).powi(2))
        .sum();
    let scale = if n_fit > 2 { (chi2 / (n_fit - 2) as f64).max(1.0) } else { 1.0 };
    let slope_err = (sw / det * scale).sqrt();
    let scale_length_px = -1.0 / slope;
    let central_brightness = intercept.exp();
    Ok(ExponentialFit {
        central_brightness,
        scale_length_px,
        scale_length_err_px: slope_err / (slope * slope),
        total: 2.0 * PI * central_brightness * cos_i * scale_length_px * scale_length_px,
        image_total,
        sky_rms,
        profile,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use ndarray::Array2;

    #[test]
    fn bessel_functions_match_reference_values() {
        // Abramowitz & Stegun table 9.8.
        assert_relative_eq!(puruspe::In(0, 1.0), 1.266_065_877_752_008, max_relative = 1e-10);
        assert_relative_eq!(puruspe::Kn(0, 1.0), 0.421_024_438_240_708_3, max_relative = 1e-10);
        assert_relative_eq!(puruspe::In(1, 1.0), 0.565_159_103_992_485, max_relative = 1e-10);
        assert_relative_eq!(puruspe::Kn(1, 1.0), 0.601_907_230_197_235, max_relative = 1e-10);
        assert_relative_eq!(elliptic_k(0.5f64.sqrt()), 1.854_074_677_301_372, max_relative = 1e-12);
    }

    #[test]
    fn freeman_disc_peaks_at_2_2_scale_lengths_and_joins_its_asymptote() {
        let (m, rd) = (5e10, 3.0);
        let v = |r: f64| exponential_disc_v2(r, m, rd).sqrt();
        let peak = (1..2000).map(|k| k as f64 * 0.01).max_by(|a, b| v(*a).total_cmp(&v(*b))).unwrap_or(0.0);
        assert!((peak / rd - 2.15).abs() < 0.03, "peak at {} R_d", peak / rd);
        // Peak velocity 0.623 sqrt(G M / R_d) (Binney & Tremaine 2008 §2.6).
        assert_relative_eq!(v(peak), 0.6232 * (G * m / rd).sqrt(), max_relative = 2e-3);
        let (below, above) =
            (exponential_disc_v2(2.0 * 199.9 * rd, m, rd), exponential_disc_v2(2.0 * 200.1 * rd, m, rd));
        assert_relative_eq!(below, above, max_relative = 1e-3);
    }

    #[test]
    fn ring_sum_reproduces_the_freeman_curve() {
        let (m, rd) = (2e9, 1.5);
        let radii: Vec<f64> = (0..=300).map(|k| k as f64 * 0.1).collect();
        let sigma: Vec<f64> = radii.iter().map(|r| m / (2.0 * PI * rd * rd) * (-r / rd).exp()).collect();
        let eval = [0.5, 1.5, 3.0, 5.0, 8.0];
        let v2 = thin_disc_v2(&eval, &radii, &sigma).unwrap();
        for (r, got) in eval.iter().zip(&v2) {
            assert_relative_eq!(*got, exponential_disc_v2(*r, m, rd), max_relative = 0.02);
        }
    }

    #[test]
    fn a_central_hole_pulls_outwards() {
        let radii = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let sigma = [0.0, 0.0, 1e7, 1e7, 1e7, 0.0];
        let v2 = thin_disc_v2(&[0.8], &radii, &sigma).unwrap();
        assert!(v2[0] < 0.0, "{v2:?}");
        assert!(thin_disc_v2(&[1.0], &[2.0, 1.0], &[1.0, 1.0]).is_err());
    }

    #[test]
    fn exponential_fit_recovers_an_inclined_disc() {
        let geometry = DiscGeometry { x_centre_px: 50.3, y_centre_px: 49.6, inclination_deg: 55.0, pa_deg: 30.0 };
        let (i0, rd) = (100.0, 8.0);
        let image = Array2::from_shape_fn((100, 100), |(j, i)| {
            let (r, _) = geometry.deproject(i as f64, j as f64);
            i0 * (-r / rd).exp()
        });
        let fit = fit_exponential(
            image.view(),
            &geometry,
            &ExponentialFitParams { sky_rms: Some(0.01), ..Default::default() },
        )
        .unwrap();
        assert_relative_eq!(fit.scale_length_px, rd, max_relative = 0.02);
        assert_relative_eq!(fit.central_brightness, i0, max_relative = 0.03);
        assert_relative_eq!(fit.total, 2.0 * PI * i0 * 55f64.to_radians().cos() * rd * rd, max_relative = 0.05);
        let flat = Array2::from_elem((20, 20), 1.0);
        assert!(fit_exponential(flat.view(), &geometry, &ExponentialFitParams::default()).is_err());
    }
}
