//! SPH kernels projected along the line of sight and integrated over pixels (MARTINI's `sph_kernels`).
//!
//! A particle spreads its flux over the sky as its 3-D kernel integrated along the line of sight. galmass stores
//! the **radius of compact support** `H` of each particle's kernel (the galaxy-file convention,
//! `ScalarField::SmoothingLengthKpc`); MARTINI's `hsm_g` is the kernel's **FWHM** instead. For the cubic spline
//! (Monaghan & Lattanzio 1985) the 3-D kernel falls to half its central value at `q = r / H = 0.3613`, so
//! `H = 1.384 FWHM`; for Wendland C2 at `q = 0.3139`, `H = 1.593 FWHM` ([`SphKernel::support_per_fwhm`]). Feed
//! MARTINI `hsm_g = H / 1.384` (cubic spline) to compare the two on the same particles.
//!
//! - [`SphKernel::CubicSpline`] and [`SphKernel::WendlandC2`]: the projected kernel `F(R / H) / H^2` (tabulated once
//!   from the 3-D kernel by quadrature, 2049 points uniform in `(R / H)^2`, linear interpolation) evaluated at pixel
//!   centres and normalised so that the particle's weights sum to one over its whole footprint (pixels outside the
//!   field included, so flux that falls outside the field is lost, as it should be). Sampling at pixel centres is
//!   valid for kernels resolved by the pixels; below [`ADAPTIVE_MIN_FWHM_PX`] (a FWHM of 1.16 pixels, a compact
//!   support of 1.6 pixels for the cubic spline) the weights fall back to a Gaussian of the same FWHM integrated
//!   exactly over each pixel, which conserves the flux of arbitrarily small kernels and tends to a delta function in
//!   the particle's pixel. MARTINI 3 draws the line differently: it samples the spline down to a compact support of
//!   1.16 pixels (FWHM 0.84), then uses a 6-sigma Gaussian and, for the smallest kernels, a delta function in one
//!   pixel; `scripts/martini_compare.py` measures what the difference does to the maps (BENCHMARKS.md).
//! - [`SphKernel::Gaussian`]: a Gaussian of the FWHM of the cubic spline of the same compact support
//!   (`FWHM = H / 1.384`), integrated exactly over each pixel (differences of `erf`), cut at 4 sigma and normalised.
//!
//! ```
//! use galmass_mock::hi::kernels::{Footprint, SphKernel};
//! let mut fp = Footprint::default();
//! // A particle at pixel coordinates (10.3, 7.8) with a compact support of 4 pixels.
//! SphKernel::CubicSpline.footprint(10.3, 7.8, 4.0, &mut fp);
//! assert!((fp.weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
//! ```

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Kernels whose FWHM is below this many pixels fall back to a Gaussian integrated over pixels.
pub const ADAPTIVE_MIN_FWHM_PX: f64 = 1.16;

/// Gaussian kernels are cut at this many standard deviations (and renormalised).
pub const GAUSSIAN_TRUNCATE_SIGMA: f64 = 4.0;

/// Points of the projected-kernel tables, uniform in `q^2`.
const TABLE_POINTS: usize = 2049;

/// An SPH kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SphKernel {
    /// The M4 cubic spline (Monaghan & Lattanzio 1985), compact support `H`.
    CubicSpline,
    /// Wendland C2 (Dehnen & Aly 2012), compact support `H`.
    WendlandC2,
    /// A Gaussian of the FWHM of the cubic spline of compact support `H`, integrated exactly over pixels.
    Gaussian,
}

impl SphKernel {
    /// Every kernel, with its command-line name.
    pub const ALL: [(SphKernel, &'static str); 3] = [
        (SphKernel::CubicSpline, "cubic-spline"),
        (SphKernel::WendlandC2, "wendland-c2"),
        (SphKernel::Gaussian, "gaussian"),
    ];

    /// The kernel named `cubic-spline`, `wendland-c2` or `gaussian`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, n)| *n == name).map(|(k, _)| *k)
    }

    /// The name of the kernel.
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|(k, _)| *k == self).map_or("", |(_, n)| n)
    }

    /// Radius of compact support per FWHM of the 3-D kernel: 1.384 (cubic spline; also the Gaussian's convention)
    /// and 1.593 (Wendland C2), as MARTINI documents; computed, not rounded.
    pub fn support_per_fwhm(self) -> f64 {
        static VALUES: OnceLock<(f64, f64)> = OnceLock::new();
        let (cubic, wendland) = *VALUES.get_or_init(|| {
            let half = |w: fn(f64) -> f64| {
                let w0 = w(0.0);
                galmass_core::numeric::roots::bisect(|q| w(q) - 0.5 * w0, 0.0, 1.0, 1e-14)
                    .map_or(f64::NAN, |q| 1.0 / (2.0 * q))
            };
            (half(cubic_spline_3d), half(wendland_c2_3d))
        });
        match self {
            SphKernel::CubicSpline | SphKernel::Gaussian => cubic,
            SphKernel::WendlandC2 => wendland,
        }
    }

    /// The radius of compact support of a kernel of FWHM `fwhm` (MARTINI's `hsm_g`).
    pub fn support_from_fwhm(self, fwhm: f64) -> f64 {
        fwhm * self.support_per_fwhm()
    }

    /// The FWHM of a kernel of compact support `support` (what MARTINI calls `hsm_g`).
    pub fn fwhm_from_support(self, support: f64) -> f64 {
        support / self.support_per_fwhm()
    }

    /// The weights of one particle at pixel coordinates `(x_px, y_px)` (pixel `i` covers `[i, i + 1)`) with compact
    /// support `support_px` pixels, normalised to sum to one over the whole footprint.
    pub fn footprint(self, x_px: f64, y_px: f64, support_px: f64, out: &mut Footprint) {
        let fwhm_px = self.fwhm_from_support(support_px);
        match self {
            SphKernel::CubicSpline | SphKernel::WendlandC2 if fwhm_px >= ADAPTIVE_MIN_FWHM_PX => {
                self.sampled(x_px, y_px, support_px, out)
            }
            _ => gaussian_integrated(x_px, y_px, fwhm_px / crate::hi::beam::FWHM_PER_SIGMA, out),
        }
    }

    /// The projected kernel sampled at the pixel centres within the support.
    fn sampled(self, x_px: f64, y_px: f64, h: f64, out: &mut Footprint) {
        let table = match self {
            SphKernel::WendlandC2 => wendland_table(),
            _ => cubic_table(),
        };
        // Pixel i's centre is at i + 0.5: pixels with |i + 0.5 - x| < h.
        let i0 = (x_px - h - 0.5).ceil() as i64;
        let i1 = (x_px + h - 0.5).floor() as i64;
        let j0 = (y_px - h - 0.5).ceil() as i64;
        let j1 = (y_px + h - 0.5).floor() as i64;
        out.reset(i0, j0, (i1 - i0 + 1).max(0) as usize, (j1 - j0 + 1).max(0) as usize);
        let inv_h2 = 1.0 / (h * h);
        let mut sum = 0.0;
        for j in 0..out.height {
            let dy = (j0 + j as i64) as f64 + 0.5 - y_px;
            for i in 0..out.width {
                let dx = (i0 + i as i64) as f64 + 0.5 - x_px;
                let w = table.at((dx * dx + dy * dy) * inv_h2);
                out.weights[j * out.width + i] = w;
                sum += w;
            }
        }
        if sum > 0.0 {
            let inv = 1.0 / sum;
            out.weights.iter_mut().for_each(|w| *w *= inv);
        } else {
            // No pixel centre inside the support (cannot happen above the adaptive limit, kept for safety).
            gaussian_integrated(x_px, y_px, self.fwhm_from_support(h) / crate::hi::beam::FWHM_PER_SIGMA, out);
        }
    }
}

/// The weights of one particle: a `width` x `height` box of pixels starting at pixel `(i0, j0)` (which may lie
/// partly outside the grid), row-major.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Footprint {
    /// First pixel column.
    pub i0: i64,
    /// First pixel row.
    pub j0: i64,
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `height * width` weights, row-major, summing to one.
    pub weights: Vec<f64>,
    /// Work space of the separable Gaussian (the x then the y weights).
    axis: Vec<f64>,
}

impl Footprint {
    fn reset(&mut self, i0: i64, j0: i64, width: usize, height: usize) {
        self.i0 = i0;
        self.j0 = j0;
        self.width = width;
        self.height = height;
        self.weights.clear();
        self.weights.resize(width * height, 0.0);
    }
}

use crate::hi::line::normal_cdf as phi;

/// A Gaussian of standard deviation `sigma_px` integrated exactly over each pixel (separable), cut at
/// [`GAUSSIAN_TRUNCATE_SIGMA`] and renormalised; a delta function in the particle's pixel when `sigma_px` is 0.
fn gaussian_integrated(x_px: f64, y_px: f64, sigma_px: f64, out: &mut Footprint) {
    if sigma_px.is_nan() || sigma_px <= 0.0 {
        out.reset(x_px.floor() as i64, y_px.floor() as i64, 1, 1);
        out.weights[0] = 1.0;
        return;
    }
    let reach = GAUSSIAN_TRUNCATE_SIGMA * sigma_px;
    let i0 = (x_px - reach).floor() as i64;
    let i1 = (x_px + reach).floor() as i64;
    let j0 = (y_px - reach).floor() as i64;
    let j1 = (y_px + reach).floor() as i64;
    let (w, h) = ((i1 - i0 + 1) as usize, (j1 - j0 + 1) as usize);
    // The separable weights, x first then y, in a reused buffer (no allocation per particle).
    out.reset(i0, j0, w, h);
    out.axis.clear();
    let inv_sigma = 1.0 / sigma_px;
    for (start, n, centre) in [(i0, w, x_px), (j0, h, y_px)] {
        let (lo, hi) = (centre - reach, centre + reach);
        let mut prev = phi(((start as f64).max(lo) - centre) * inv_sigma);
        for k in 0..n {
            let edge = ((start + k as i64 + 1) as f64).min(hi);
            let next = phi((edge - centre) * inv_sigma);
            out.axis.push((next - prev).max(0.0));
            prev = next;
        }
    }
    let (wx, wy) = out.axis.split_at(w);
    let norm = 1.0 / (wx.iter().sum::<f64>() * wy.iter().sum::<f64>());
    for (j, &b) in wy.iter().enumerate() {
        let bn = b * norm;
        for (i, &a) in wx.iter().enumerate() {
            out.weights[j * w + i] = a * bn;
        }
    }
}

/// The cubic spline in 3-D with compact support 1: `8/pi (1 - 6q^2 + 6q^3)` for `q < 1/2`, `16/pi (1 - q)^3` for
/// `q < 1`.
pub fn cubic_spline_3d(q: f64) -> f64 {
    let c = 8.0 / std::f64::consts::PI;
    if q < 0.5 {
        c * (1.0 - 6.0 * q * q + 6.0 * q * q * q)
    } else if q < 1.0 {
        2.0 * c * (1.0 - q).powi(3)
    } else {
        0.0
    }
}

/// Wendland C2 in 3-D with compact support 1: `21 / (2 pi) (1 - q)^4 (1 + 4q)`.
pub fn wendland_c2_3d(q: f64) -> f64 {
    if q < 1.0 {
        21.0 / (2.0 * std::f64::consts::PI) * (1.0 - q).powi(4) * (1.0 + 4.0 * q)
    } else {
        0.0
    }
}

/// The projected kernel `F(q)`, uniform in `q^2` on `[0, 1]`, linear interpolation.
#[derive(Debug)]
struct ProjectedTable {
    values: Vec<f64>,
}

impl ProjectedTable {
    fn new(w: fn(f64) -> f64) -> Self {
        let values = (0..TABLE_POINTS)
            .map(|k| {
                let q2 = k as f64 / (TABLE_POINTS - 1) as f64;
                let zmax = (1.0 - q2).max(0.0).sqrt();
                if zmax == 0.0 {
                    return 0.0;
                }
                // F(q) = 2 int_0^zmax w(sqrt(q^2 + z^2)) dz; the substitution z = zmax sin(t) removes the
                // square-root end point, and the cusp of the cubic spline at r = 1/2 is integrated by many points.
                2.0 * galmass_core::numeric::quad::simpson(
                    |t| w((q2 + (zmax * t.sin()).powi(2)).sqrt()) * zmax * t.cos(),
                    0.0,
                    std::f64::consts::FRAC_PI_2,
                    2048,
                )
            })
            .collect();
        Self { values }
    }

    /// `F` at `q^2` (zero beyond the support).
    #[inline]
    fn at(&self, q2: f64) -> f64 {
        if q2 >= 1.0 {
            return 0.0;
        }
        let x = q2 * (TABLE_POINTS - 1) as f64;
        let k = x as usize;
        let f = x - k as f64;
        self.values[k] * (1.0 - f) + self.values[(k + 1).min(TABLE_POINTS - 1)] * f
    }
}

fn cubic_table() -> &'static ProjectedTable {
    static TABLE: OnceLock<ProjectedTable> = OnceLock::new();
    TABLE.get_or_init(|| ProjectedTable::new(cubic_spline_3d))
}

fn wendland_table() -> &'static ProjectedTable {
    static TABLE: OnceLock<ProjectedTable> = OnceLock::new();
    TABLE.get_or_init(|| ProjectedTable::new(wendland_c2_3d))
}

/// The projected kernel `F(R / H) / H^2` of compact support `support` at projected distance `r` (per unit area).
pub fn projected(kernel: SphKernel, r: f64, support: f64) -> f64 {
    match kernel {
        SphKernel::CubicSpline => cubic_table().at((r / support).powi(2)) / (support * support),
        SphKernel::WendlandC2 => wendland_table().at((r / support).powi(2)) / (support * support),
        SphKernel::Gaussian => {
            let s = kernel.fwhm_from_support(support) / crate::hi::beam::FWHM_PER_SIGMA;
            (-0.5 * (r / s).powi(2)).exp() / (2.0 * std::f64::consts::PI * s * s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_per_fwhm_matches_martini() {
        assert!((SphKernel::CubicSpline.support_per_fwhm() - 1.384).abs() < 1e-3);
        assert!((SphKernel::WendlandC2.support_per_fwhm() - 1.593).abs() < 1e-3);
    }

    #[test]
    fn projected_kernels_integrate_to_one() {
        for kernel in [SphKernel::CubicSpline, SphKernel::WendlandC2, SphKernel::Gaussian] {
            let total = galmass_core::numeric::quad::simpson(
                |r| 2.0 * std::f64::consts::PI * r * projected(kernel, r, 1.0),
                0.0,
                1.5,
                20_000,
            );
            assert!((total - 1.0).abs() < 1e-4, "{kernel:?}: {total}");
        }
        // The centre of the projected cubic spline, 2 int_0^1 w(z) dz = 3 / (2 pi) analytically... (integral of
        // 8/pi (1 - 6z^2 + 6z^3) on [0, 1/2] plus 16/pi (1-z)^3 on [1/2, 1]) = 8/pi (1/2 - 1/4 + 3/32) + 16/pi / 64.
        let centre =
            2.0 * (8.0 / std::f64::consts::PI * (0.5 - 0.25 + 6.0 / 64.0) + 16.0 / std::f64::consts::PI / 64.0);
        assert!((projected(SphKernel::CubicSpline, 0.0, 1.0) / centre - 1.0).abs() < 1e-6);
    }

    #[test]
    fn footprints_conserve_weight_at_every_size() {
        let mut fp = Footprint::default();
        for kernel in [SphKernel::CubicSpline, SphKernel::WendlandC2, SphKernel::Gaussian] {
            for h in [1e-3, 0.3, 1.0, 1.7, 2.5, 8.0, 40.0] {
                kernel.footprint(3.37, -2.81, h, &mut fp);
                let s: f64 = fp.weights.iter().sum();
                assert!((s - 1.0).abs() < 1e-12, "{kernel:?} h {h}: {s}");
                assert!(fp.weights.iter().all(|w| *w >= 0.0));
            }
        }
        // A tiny kernel lands in the particle's pixel.
        SphKernel::CubicSpline.footprint(3.37, -2.81, 1e-6, &mut fp);
        let (best, _) = fp.weights.iter().enumerate().fold((0, 0.0), |b, (k, &w)| if w > b.1 { (k, w) } else { b });
        assert_eq!((fp.i0 + (best % fp.width) as i64, fp.j0 + (best / fp.width) as i64), (3, -3));
    }

    #[test]
    fn resolved_footprints_sample_the_projected_kernel() {
        // H = 10 px: the normalised weights equal F(R/H)/H^2 at pixel centres to the sampling accuracy.
        let mut fp = Footprint::default();
        SphKernel::WendlandC2.footprint(20.5, 20.5, 10.0, &mut fp);
        let k = fp.weights.iter().enumerate().fold((0, 0.0), |b, (k, &w)| if w > b.1 { (k, w) } else { b }).1;
        let expected = projected(SphKernel::WendlandC2, 0.0, 10.0);
        assert!((k / expected - 1.0).abs() < 5e-3, "{k} vs {expected}");
    }
}
