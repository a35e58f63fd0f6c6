//! SPH-smoothed images of a galaxy's stars (chu2024 §2.1): each star's light spread by a cubic-spline kernel whose
//! compact support encloses its 32 nearest neighbour stars, projected along the line of sight and integrated over
//! the pixels; r- and g-band images and the g - r colour map over +-3 R_hsm, re-binned and scaled to [0, 1].
//!
//! - [`ImageGrid`] and [`render_sph`]: the renderer, on any plane coordinates (kpc here, arcsec for
//!   [`crate::optical::sdss`]). A particle's weights come from [`crate::hi::kernels::SphKernel::footprint`] (the
//!   projected cubic spline at pixel centres, normalised over its whole footprint; a Gaussian of the same FWHM
//!   integrated exactly over each pixel when the kernel is smaller than the pixels), so each particle deposits
//!   exactly its weight, minus whatever falls outside the grid. Particles are rendered in fixed chunks whose images
//!   are added in order: the image is bit-identical whatever the number of threads.
//! - [`rebin`]: sum-preserving re-binning (chu2024's 300 -> 150 and 60 resolution tests).
//! - [`Scaling`]: the linear [0, 1] scaling "of all pixels" (chu2024 §2.1), per image or with fixed per-dataset
//!   bounds; the bounds are returned so that they can be stored and undone.
//! - [`sph_images`]: chu2024's r, g and g - r maps of one projection, sky axes `x = p . e1`, `y = p . e2` (the
//!   convention of [`crate::star_maps`]); [`sph_images_with_luminosities`] takes the per-star luminosities of each
//!   band from the caller instead (dust-attenuated light, computed elsewhere).
//!
//! ```
//! use galmass_mock::optical::sph::{render_sph, ImageGrid};
//! let grid = ImageGrid::new(32, 8.0).unwrap();
//! let image = render_sph(&[0.0, 1.0], &[0.0, -2.0], &[1.5, 0.1], &[2.0, 3.0], &grid).unwrap();
//! assert!((image.sum() - 5.0).abs() < 1e-9);
//! ```

use galmass_core::neighbours::smoothing_lengths_kpc;
use galmass_core::params::Params;
use galmass_core::{LineOfSight, Particles};
use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::kernels::{projected, Footprint, SphKernel};

/// Kernels with a compact support above this many pixels are evaluated on the grid's pixels only, normalised
/// analytically (the projected kernel integrates to one); below, the whole footprint is sampled and normalised
/// by its sum. At this size the two normalisations agree to better than 1e-4.
const LARGE_SUPPORT_PX: f64 = 48.0;
/// Particles rendered into one partial image (fixed, so the sum order does not depend on the thread count).
const CHUNK: usize = 8192;
/// Partial images held at once.
const CHUNKS_PER_ROUND: usize = 16;

/// A square pixel grid on a plane, centred on the origin: `npix` x `npix` pixels over `[-half_width, half_width]`
/// in both axes. Arrays are indexed `[iy, ix]`; `ix` grows with +x, `iy` with +y; pixel `k` spans
/// `[-half_width + k p, -half_width + (k + 1) p]` with `p = 2 half_width / npix`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImageGrid {
    /// Pixels per side.
    pub npix: usize,
    /// Half the side, in the unit of the coordinates.
    pub half_width: f64,
}

impl ImageGrid {
    /// A grid of `npix` (1 to 65536) pixels over `+-half_width` (positive, finite).
    pub fn new(npix: usize, half_width: f64) -> Result<Self, MockError> {
        if !(1..=65536).contains(&npix) {
            return Err(MockError::InvalidParameter { name: "npix", reason: format!("{npix}, expected 1 to 65536") });
        }
        if !half_width.is_finite() || half_width <= 0.0 {
            return Err(MockError::InvalidParameter {
                name: "half_width",
                reason: format!("{half_width}, expected a positive number"),
            });
        }
        Ok(Self { npix, half_width })
    }

    /// Side of a pixel.
    pub fn pixel_size(&self) -> f64 {
        2.0 * self.half_width / self.npix as f64
    }

    /// Centre of pixel `k` along either axis.
    pub fn centre(&self, k: usize) -> f64 {
        -self.half_width + (k as f64 + 0.5) * self.pixel_size()
    }

    /// The pixel (ix or iy) holding coordinate `c`, `None` outside the grid.
    pub fn pixel_of(&self, c: f64) -> Option<usize> {
        let k = ((c + self.half_width) / self.pixel_size()).floor();
        (k >= 0.0 && k < self.npix as f64).then_some(k as usize)
    }
}

fn check_inputs(x: &[f64], y: &[f64], h: &[f64], weight: &[f64]) -> Result<(), MockError> {
    let n = x.len();
    for (name, len) in [("y", y.len()), ("h", h.len()), ("weight", weight.len())] {
        if len != n {
            return Err(MockError::BadInput { name, expected: format!("{n} values (as x)"), got: len.to_string() });
        }
    }
    let bad = |name: &'static str, i: usize, v: f64, what: &str| MockError::BadInput {
        name,
        expected: what.to_owned(),
        got: format!("{v} at index {i}"),
    };
    for i in 0..n {
        if !x[i].is_finite() {
            return Err(bad("x", i, x[i], "finite coordinates"));
        }
        if !y[i].is_finite() {
            return Err(bad("y", i, y[i], "finite coordinates"));
        }
        if !h[i].is_finite() || h[i] < 0.0 {
            return Err(bad("h", i, h[i], "finite smoothing lengths >= 0"));
        }
        if !weight[i].is_finite() || weight[i] < 0.0 {
            return Err(bad("weight", i, weight[i], "finite weights >= 0"));
        }
    }
    Ok(())
}

/// Deposits each particle's `weight` with the projected cubic-spline kernel of compact-support radius `h[i]`
/// (the `galmass_core::neighbours` convention), integrated over pixels (module docs); the part of a kernel outside
/// the grid is lost, so the image sums to the total weight of the particles well inside it. Parallel (rayon) and
/// bit-identical whatever the thread count.
///
/// Errors: slices of different lengths, non-finite positions, negative or non-finite `h` or weights.
pub fn render_sph(x: &[f64], y: &[f64], h: &[f64], weight: &[f64], grid: &ImageGrid) -> Result<Array2<f64>, MockError> {
    check_inputs(x, y, h, weight)?;
    let n = grid.npix;
    let inv_p = 1.0 / grid.pixel_size();
    let render_chunk = |start: usize| -> Array2<f64> {
        let mut image = Array2::<f64>::zeros((n, n));
        let mut fp = Footprint::default();
        let end = (start + CHUNK).min(x.len());
        for i in start..end {
            if weight[i] == 0.0 {
                continue;
            }
            let (xp, yp, hp) = ((x[i] + grid.half_width) * inv_p, (y[i] + grid.half_width) * inv_p, h[i] * inv_p);
            // Far outside (beyond the support and the Gaussian fallback's reach): nothing lands on the grid.
            let reach = hp.max(2.0) + 2.0;
            if xp + reach < 0.0 || yp + reach < 0.0 || xp - reach > n as f64 || yp - reach > n as f64 {
                continue;
            }
            if hp > LARGE_SUPPORT_PX {
                deposit_large(&mut image, xp, yp, hp, weight[i]);
            } else {
                SphKernel::CubicSpline.footprint(xp, yp, hp, &mut fp);
                deposit(&mut image, &fp, weight[i]);
            }
        }
        image
    };
    let starts: Vec<usize> = (0..x.len()).step_by(CHUNK).collect();
    let mut total = Array2::<f64>::zeros((n, n));
    for round in starts.chunks(CHUNKS_PER_ROUND) {
        let parts: Vec<Array2<f64>> = round.par_iter().map(|&s| render_chunk(s)).collect();
        for part in parts {
            total += &part;
        }
    }
    Ok(total)
}

/// Adds `weight` times the footprint into `image`, dropping the pixels outside it (row slices: no per-pixel bounds
/// checks).
fn deposit(image: &mut Array2<f64>, fp: &Footprint, weight: f64) {
    let n = image.ncols() as i64;
    // The footprint's columns that fall on the grid.
    let c0 = (-fp.i0).clamp(0, fp.width as i64) as usize;
    let c1 = (n - fp.i0).clamp(0, fp.width as i64) as usize;
    if c0 >= c1 {
        return;
    }
    let x0 = (fp.i0 + c0 as i64) as usize;
    for r in 0..fp.height {
        let iy = fp.j0 + r as i64;
        if iy < 0 || iy >= image.nrows() as i64 {
            continue;
        }
        let mut row = image.row_mut(iy as usize);
        let Some(row) = row.as_slice_mut() else { continue };
        let src = &fp.weights[r * fp.width + c0..r * fp.width + c1];
        for (d, s) in row[x0..x0 + (c1 - c0)].iter_mut().zip(src) {
            *d += weight * s;
        }
    }
}

/// A kernel of compact support `h_px` pixels at pixel coordinates `(x_px, y_px)`: the projected cubic spline at the
/// centres of the grid's pixels it covers (pixel area 1), so memory stays bounded by the grid however large it is.
fn deposit_large(image: &mut Array2<f64>, x_px: f64, y_px: f64, h_px: f64, weight: f64) {
    let n = image.nrows() as f64;
    let lo = |c: f64| ((c - h_px - 0.5).ceil()).clamp(0.0, n) as usize;
    let hi = |c: f64| ((c + h_px - 0.5).floor() + 1.0).clamp(0.0, n) as usize;
    for iy in lo(y_px)..hi(y_px) {
        let dy = iy as f64 + 0.5 - y_px;
        for ix in lo(x_px)..hi(x_px) {
            let dx = ix as f64 + 0.5 - x_px;
            image[[iy, ix]] += weight * projected(SphKernel::CubicSpline, (dx * dx + dy * dy).sqrt(), h_px);
        }
    }
}

/// Sum-preserving re-binning of a square image to `npix` x `npix`: exact block sums when `npix` divides the side,
/// area-weighted overlaps otherwise (each input pixel shares its value among the output pixels it overlaps in
/// proportion to the overlap area).
pub fn rebin(image: &Array2<f64>, npix: usize) -> Result<Array2<f64>, MockError> {
    let (ny, nx) = image.dim();
    if ny != nx || nx == 0 {
        return Err(MockError::BadInput {
            name: "image",
            expected: "a square image".into(),
            got: format!("{ny} x {nx}"),
        });
    }
    if npix == 0 || npix > nx {
        return Err(MockError::InvalidParameter {
            name: "npix",
            reason: format!("{npix}: re-binning goes from {nx} pixels to between 1 and {nx}"),
        });
    }
    // Overlap of input pixel k with output pixel m along one axis, in output-pixel units of the input side.
    let weights = axis_overlaps(nx, npix);
    let mut out = Array2::<f64>::zeros((npix, npix));
    for (iy, wy) in weights.iter().enumerate() {
        for (ix, wx) in weights.iter().enumerate() {
            let v = image[[iy, ix]];
            if v == 0.0 {
                continue;
            }
            for &(my, fy) in wy {
                for &(mx, fx) in wx {
                    out[[my, mx]] += v * fy * fx;
                }
            }
        }
    }
    Ok(out)
}

/// For each input pixel, the output pixels it overlaps and the fraction of it in each.
fn axis_overlaps(n_in: usize, n_out: usize) -> Vec<Vec<(usize, f64)>> {
    (0..n_in)
        .map(|k| {
            if n_in % n_out == 0 {
                return vec![(k / (n_in / n_out), 1.0)];
            }
            // Input pixel k spans [k, k + 1) in input units; output pixel m spans [m r, (m + 1) r), r = n_in / n_out.
            let r = n_in as f64 / n_out as f64;
            let (lo, hi) = (k as f64, k as f64 + 1.0);
            let m0 = (lo / r).floor() as usize;
            let m1 = (((hi / r).ceil() as usize).max(m0 + 1)).min(n_out);
            (m0..m1)
                .filter_map(|m| {
                    let overlap = (hi.min((m + 1) as f64 * r) - lo.max(m as f64 * r)).max(0.0);
                    (overlap > 0.0).then_some((m, overlap))
                })
                .collect()
        })
        .collect()
}

/// An image scaled to [0, 1] and the physical `(min, max)` it was scaled from (`None`: not scaled).
pub type ScaledImage = (Array2<f64>, Option<(f64, f64)>);

/// How an image is brought to [0, 1] (chu2024 §2.1: "all pixels scaled linearly to [0, 1]"; per image or per
/// dataset is not stated, so both are offered).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Scaling {
    /// Physical values kept.
    None,
    /// Each image's own finite minimum to 0 and maximum to 1.
    PerImage,
    /// Fixed bounds shared by a dataset (clipped to [0, 1] outside them).
    PerDataset {
        /// Physical value mapped to 0.
        min: f64,
        /// Physical value mapped to 1.
        max: f64,
    },
}

impl Scaling {
    /// The name stored beside the images (`none`, `per-image`, `per-dataset`).
    pub fn name(&self) -> &'static str {
        match self {
            Scaling::None => "none",
            Scaling::PerImage => "per-image",
            Scaling::PerDataset { .. } => "per-dataset",
        }
    }

    /// The scaled image and the bounds `(min, max)` it was scaled from (physical = min + value (max - min));
    /// `None` for [`Scaling::None`]. NaN pixels stay NaN; a constant image scales to 0.
    pub fn apply(&self, image: &Array2<f64>) -> Result<ScaledImage, MockError> {
        let (lo, hi) = match *self {
            Scaling::None => return Ok((image.clone(), None)),
            Scaling::PerImage => image
                .iter()
                .filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v))),
            Scaling::PerDataset { min, max } => {
                if !(min.is_finite() && max.is_finite()) || max <= min {
                    return Err(MockError::InvalidParameter {
                        name: "scaling",
                        reason: format!("per-dataset bounds [{min}, {max}] must be finite with min < max"),
                    });
                }
                (min, max)
            }
        };
        if !lo.is_finite() {
            return Ok((image.clone(), Some((0.0, 1.0))));
        }
        let span = hi - lo;
        let scaled = image.mapv(|v| {
            if v.is_nan() {
                v
            } else if span > 0.0 {
                ((v - lo) / span).clamp(0.0, 1.0)
            } else {
                0.0
            }
        });
        Ok((scaled, Some((lo, if span > 0.0 { hi } else { lo + 1.0 }))))
    }
}

/// Parameters of chu2024's SPH images (unchecked; [`Params::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SphImageParams {
    /// Pixels per side of the rendered image (chu2024: 300).
    pub npix: usize,
    /// Pixels per side of the images returned, a re-binning of the rendered ones (chu2024: 300, also 150 and 60).
    pub output_npix: usize,
    /// Half the field in units of the 3-D half stellar mass radius (chu2024: 3, i.e. 0.02 R_hsm per pixel).
    pub half_width_rhsm: f64,
    /// Neighbour stars enclosed by each smoothing length (chu2024: 32).
    pub n_neighbours: usize,
    /// The [0, 1] scaling.
    pub scaling: Scaling,
}

impl SphImageParams {
    /// The paper presets.
    pub const PRESETS: [&'static str; 1] = ["chu2024"];

    /// chu2024 §2.1: 300 x 300 pixels over +-3 R_hsm, smoothing lengths enclosing 32 neighbours, per-image [0, 1]
    /// scaling (the paper does not say whether per image or per dataset).
    pub const CHU2024: SphImageParams = SphImageParams {
        npix: 300,
        output_npix: 300,
        half_width_rhsm: 3.0,
        n_neighbours: 32,
        scaling: Scaling::PerImage,
    };

    /// A preset by name.
    pub fn preset(name: &str) -> Option<Self> {
        (name == "chu2024").then_some(Self::CHU2024)
    }
}

/// Checked [`SphImageParams`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SphImageValidParams(SphImageParams);

impl SphImageValidParams {
    /// The parameters.
    pub fn params(&self) -> &SphImageParams {
        &self.0
    }
}

impl Params for SphImageParams {
    type Valid = SphImageValidParams;
    type Error = MockError;

    fn check(&self) -> Result<SphImageValidParams, MockError> {
        ImageGrid::new(self.npix, 1.0)?;
        if self.output_npix == 0 || self.output_npix > self.npix {
            return Err(MockError::InvalidParameter {
                name: "output_npix",
                reason: format!("{}, expected 1 to npix ({})", self.output_npix, self.npix),
            });
        }
        if !self.half_width_rhsm.is_finite() || self.half_width_rhsm <= 0.0 {
            return Err(MockError::InvalidParameter {
                name: "half_width_rhsm",
                reason: format!("{}, expected a positive number", self.half_width_rhsm),
            });
        }
        if self.n_neighbours == 0 {
            return Err(MockError::InvalidParameter { name: "n_neighbours", reason: "must be at least 1".into() });
        }
        if let Scaling::PerDataset { .. } = self.scaling {
            self.scaling.apply(&Array2::zeros((1, 1)))?;
        }
        Ok(SphImageValidParams(*self))
    }
}

/// chu2024's images of one projection.
#[derive(Debug, Clone, PartialEq)]
pub struct SphImages {
    /// The grid of the returned images (kpc).
    pub grid: ImageGrid,
    /// r-band luminosity per pixel, solar r-band units (physical).
    pub r: Array2<f64>,
    /// g-band luminosity per pixel, solar g-band units (physical).
    pub g: Array2<f64>,
    /// g - r in AB magnitudes, NaN where a pixel has no light.
    pub g_r: Array2<f64>,
    /// The scaled r image and its bounds.
    pub r_scaled: ScaledImage,
    /// The scaled g image and its bounds.
    pub g_scaled: ScaledImage,
    /// The scaled colour map and its bounds.
    pub g_r_scaled: ScaledImage,
    /// Total r-band luminosity of the stars, and the part inside the field.
    pub total_lum_r: f64,
}

/// Per-star luminosities of a band (solar units of the band) and the Sun's absolute AB magnitude in it.
pub fn band_luminosities<'a>(stars: &'a Particles, band: &str) -> Result<(&'a ndarray::Array1<f64>, f64), MockError> {
    let lum = stars.luminosity(band).ok_or_else(|| MockError::BadInput {
        name: "stars",
        expected: format!("luminosities in band {band} (lum_{band} in the galaxy file)"),
        got: "none".into(),
    })?;
    Ok((&lum.lum_lsun, lum.solar_abs_mag_ab))
}

/// chu2024's r, g and g - r images of `stars` seen along `los`, over `+-half_width_rhsm * r_hsm_kpc`; luminosities
/// from the stars' own `lum_g`, `lum_r`. For dust, pass attenuated stars or call [`sph_images_with_luminosities`].
///
/// Errors: missing band luminosities (naming the band), fewer stars than `n_neighbours + 1`, a non-positive
/// `r_hsm_kpc`.
pub fn sph_images(
    stars: &Particles,
    los: &LineOfSight,
    r_hsm_kpc: f64,
    params: &SphImageValidParams,
) -> Result<SphImages, MockError> {
    let (lum_r, msun_r) = band_luminosities(stars, "r")?;
    let (lum_g, msun_g) = band_luminosities(stars, "g")?;
    let (lum_r, lum_g) = (lum_r.to_vec(), lum_g.to_vec());
    let r = BandWeights { lum_lsun: &lum_r, solar_abs_mag_ab: msun_r };
    let g = BandWeights { lum_lsun: &lum_g, solar_abs_mag_ab: msun_g };
    sph_images_with_luminosities(stars, los, r_hsm_kpc, r, g, params)
}

/// Per-star luminosities of one band (solar units of the band, one per star) and the Sun's absolute AB magnitude in
/// that band: the override of [`sph_images_with_luminosities`] (e.g. dust-attenuated luminosities).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandWeights<'a> {
    /// Luminosity of each star, solar units of the band.
    pub lum_lsun: &'a [f64],
    /// The Sun's absolute AB magnitude in the band (the g - r zero point).
    pub solar_abs_mag_ab: f64,
}

/// [`sph_images`] with the r- and g-band luminosities given per star instead of read from `stars` (which then only
/// give positions): the entry point for dust-attenuated light, which is computed elsewhere.
///
/// Errors: luminosity slices not one per star (or negative, non-finite), fewer stars than `n_neighbours + 1`, a
/// non-positive `r_hsm_kpc`.
pub fn sph_images_with_luminosities(
    stars: &Particles,
    los: &LineOfSight,
    r_hsm_kpc: f64,
    lum_r: BandWeights<'_>,
    lum_g: BandWeights<'_>,
    params: &SphImageValidParams,
) -> Result<SphImages, MockError> {
    let p = params.params();
    if !r_hsm_kpc.is_finite() || r_hsm_kpc <= 0.0 {
        return Err(MockError::InvalidParameter { name: "r_hsm_kpc", reason: format!("{r_hsm_kpc}, expected > 0") });
    }
    for (name, band) in [("lum_r", &lum_r), ("lum_g", &lum_g)] {
        if band.lum_lsun.len() != stars.len() {
            return Err(MockError::BadInput {
                name,
                expected: format!("{} luminosities (one per star)", stars.len()),
                got: band.lum_lsun.len().to_string(),
            });
        }
        if !band.solar_abs_mag_ab.is_finite() {
            return Err(MockError::BadInput {
                name,
                expected: "a finite solar absolute magnitude".into(),
                got: band.solar_abs_mag_ab.to_string(),
            });
        }
    }
    if stars.len() <= p.n_neighbours {
        return Err(MockError::TooFewPoints { what: "SPH image".into(), needed: p.n_neighbours + 1, got: stars.len() });
    }
    let h = smoothing_lengths_kpc(stars.pos_kpc().view(), p.n_neighbours)?;
    let (x, y) = los.project_rows(stars.pos_kpc());
    let (x, y) = (x.to_vec(), y.to_vec());
    let grid = ImageGrid::new(p.npix, p.half_width_rhsm * r_hsm_kpc)?;
    let h = h.to_vec();
    let render = |lum: &[f64]| -> Result<Array2<f64>, MockError> {
        let image = render_sph(&x, &y, &h, lum, &grid)?;
        if p.output_npix == p.npix {
            Ok(image)
        } else {
            rebin(&image, p.output_npix)
        }
    };
    let (r, g) = (render(lum_r.lum_lsun)?, render(lum_g.lum_lsun)?);
    // g - r = -2.5 log10(L_g / L_r) + (M_sun,g - M_sun,r), luminosities in solar units of each band.
    let offset = lum_g.solar_abs_mag_ab - lum_r.solar_abs_mag_ab;
    let g_r = ndarray::Zip::from(&g).and(&r).map_collect(|&lg, &lr| {
        if lg > 0.0 && lr > 0.0 {
            -2.5 * (lg / lr).log10() + offset
        } else {
            f64::NAN
        }
    });
    Ok(SphImages {
        grid: ImageGrid::new(p.output_npix, grid.half_width)?,
        r_scaled: p.scaling.apply(&r)?,
        g_scaled: p.scaling.apply(&g)?,
        g_r_scaled: p.scaling.apply(&g_r)?,
        total_lum_r: lum_r.lum_lsun.iter().sum(),
        r,
        g,
        g_r,
    })
}

#[cfg(test)]
mod tests {
    use galmass_core::particles::BandLuminosity;
    use ndarray::Array1;
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, Normal};

    use super::*;

    fn plummer_stars(n: usize, seed: u64) -> Particles {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut pos = Array2::zeros((n, 3));
        for i in 0..n {
            // Plummer radii with a = 1 kpc, cut at 20 a.
            let r = loop {
                let u: f64 = rng.random();
                let r = (u.powf(-2.0 / 3.0) - 1.0).powf(-0.5);
                if r < 20.0 {
                    break r;
                }
            };
            let cos_t: f64 = rng.random_range(-1.0..1.0);
            let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let s = (1.0 - cos_t * cos_t).sqrt();
            pos[[i, 0]] = r * s * phi.cos();
            pos[[i, 1]] = r * s * phi.sin();
            pos[[i, 2]] = r * cos_t;
        }
        let normal = Normal::new(0.0, 50.0).unwrap();
        let vel = Array2::from_shape_fn((n, 3), |_| normal.sample(&mut rng));
        let mut stars = Particles::new(pos, vel, Array1::from_elem(n, 1e5)).unwrap();
        let lum = Array1::from_shape_fn(n, |i| 1e4 * (1.0 + (i % 7) as f64));
        stars.set_luminosity("r", BandLuminosity { lum_lsun: lum.clone(), solar_abs_mag_ab: 4.65 }).unwrap();
        stars.set_luminosity("g", BandLuminosity { lum_lsun: lum * 0.8, solar_abs_mag_ab: 5.11 }).unwrap();
        stars
    }

    #[test]
    fn one_particle_deposits_its_weight_symmetrically() {
        let grid = ImageGrid::new(41, 10.0).unwrap();
        let image = render_sph(&[0.0], &[0.0], &[3.0], &[7.5], &grid).unwrap();
        assert!((image.sum() - 7.5).abs() < 1e-12);
        for i in 0..41 {
            for j in 0..41 {
                assert!((image[[i, j]] - image[[40 - i, j]]).abs() < 1e-12);
                assert!((image[[i, j]] - image[[j, i]]).abs() < 1e-12);
            }
        }
        assert!(image[[20, 20]] > image[[20, 23]] && image[[20, 23]] > 0.0);
        // Nothing beyond the compact support (3 kpc = 6.15 px from the centre pixel).
        assert_eq!(image[[20, 27]], 0.0);
        // A kernel far larger than the grid: the pixels get their share of the analytic kernel, no more.
        let big = render_sph(&[0.0], &[0.0], &[1000.0], &[1.0], &grid).unwrap();
        let area = (20.0f64 / 41.0).powi(2);
        let expected = projected(SphKernel::CubicSpline, 0.0, 1000.0) * area;
        assert!((big[[20, 20]] / expected - 1.0).abs() < 1e-3, "{} vs {expected}", big[[20, 20]]);
        // Both normalisations agree where they meet: a kernel of 47.9 and 48.1 pixels deposits the same.
        let g = ImageGrid::new(200, 100.0).unwrap();
        let a = render_sph(&[0.0], &[0.0], &[47.9], &[1.0], &g).unwrap().sum();
        let b = render_sph(&[0.0], &[0.0], &[48.1], &[1.0], &g).unwrap().sum();
        assert!((a - 1.0).abs() < 1e-12 && (b - 1.0).abs() < 1e-3, "{a} {b}");
        // A particle smaller than a pixel still deposits all of it; one outside deposits nothing.
        let tiny = render_sph(&[0.3, 50.0], &[-0.2, 0.0], &[0.01, 1.0], &[2.0, 9.0], &grid).unwrap();
        assert!((tiny.sum() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn sph_images_conserve_the_luminosity_and_are_thread_independent() {
        let stars = plummer_stars(20_000, 1);
        let los = LineOfSight::new([0.3, -0.4, 0.866]).unwrap();
        // A field wide enough to hold every star and its kernel.
        let params = SphImageParams { half_width_rhsm: 40.0, ..SphImageParams::CHU2024 }.check().unwrap();
        let images = sph_images(&stars, &los, 1.0, &params).unwrap();
        let rel = (images.r.sum() - images.total_lum_r).abs() / images.total_lum_r;
        assert!(rel < 0.005, "luminosity conserved to {rel}");
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let again = one.install(|| sph_images(&stars, &los, 1.0, &params).unwrap());
        assert_eq!(again.r, images.r);
        // The colour of a uniform population: g - r = -2.5 log10(0.8) + 0.46 everywhere with light.
        let expected = -2.5 * 0.8f64.log10() + (5.11 - 4.65);
        let lit: Vec<f64> = images.g_r.iter().copied().filter(|v| v.is_finite()).collect();
        assert!(!lit.is_empty() && lit.iter().all(|v| (v - expected).abs() < 1e-9));
        assert!(images.g_r.iter().any(|v| v.is_nan()), "dark pixels are marked");
        let (scaled, bounds) = &images.r_scaled;
        let (lo, hi) = bounds.unwrap();
        assert!(scaled.iter().all(|v| (0.0..=1.0).contains(v)) && lo == 0.0 && hi > 0.0);
    }

    #[test]
    fn luminosities_can_be_overridden_per_band() {
        let stars = plummer_stars(2_000, 4);
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let params = SphImageParams::CHU2024.check().unwrap();
        let own = sph_images(&stars, &los, 1.0, &params).unwrap();
        let (lum_r, msun_r) = band_luminosities(&stars, "r").unwrap();
        let (lum_g, msun_g) = band_luminosities(&stars, "g").unwrap();
        // Half the g light (a uniform attenuation): g - r redder by 2.5 log10 2 everywhere, r unchanged.
        let dimmed: Vec<f64> = lum_g.iter().map(|l| 0.5 * l).collect();
        let r = BandWeights { lum_lsun: lum_r.as_slice().unwrap(), solar_abs_mag_ab: msun_r };
        let g = BandWeights { lum_lsun: &dimmed, solar_abs_mag_ab: msun_g };
        let attenuated = sph_images_with_luminosities(&stars, &los, 1.0, r, g, &params).unwrap();
        assert_eq!(attenuated.r, own.r);
        let shift = 2.5 * 2f64.log10();
        for (a, b) in attenuated.g_r.iter().zip(own.g_r.iter()) {
            assert!(a.is_nan() == b.is_nan() && (a.is_nan() || (a - b - shift).abs() < 1e-9));
        }
        let short = BandWeights { lum_lsun: &dimmed[..10], solar_abs_mag_ab: msun_g };
        assert!(matches!(
            sph_images_with_luminosities(&stars, &los, 1.0, r, short, &params),
            Err(MockError::BadInput { name: "lum_g", .. })
        ));
    }

    #[test]
    fn rebinning_preserves_sums() {
        let image = Array2::from_shape_fn((300, 300), |(i, j)| ((i * 31 + j * 17) % 23) as f64);
        let r150 = rebin(&image, 150).unwrap();
        let r60 = rebin(&image, 60).unwrap();
        assert_eq!(r150[[0, 0]], image[[0, 0]] + image[[0, 1]] + image[[1, 0]] + image[[1, 1]]);
        assert!((r60.sum() - image.sum()).abs() < 1e-9 * image.sum());
        assert_eq!(rebin(&r150, 60).unwrap().sum(), r60.sum());
        let r7 = rebin(&image, 7).unwrap();
        assert!((r7.sum() - image.sum()).abs() < 1e-9 * image.sum());
        assert!(rebin(&image, 301).is_err() && rebin(&Array2::zeros((3, 4)), 2).is_err());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let grid = ImageGrid::new(8, 1.0).unwrap();
        assert!(render_sph(&[0.0], &[0.0, 1.0], &[1.0], &[1.0], &grid).is_err());
        assert!(render_sph(&[f64::NAN], &[0.0], &[1.0], &[1.0], &grid).is_err());
        assert!(render_sph(&[0.0], &[0.0], &[-1.0], &[1.0], &grid).is_err());
        assert!(ImageGrid::new(0, 1.0).is_err() && ImageGrid::new(4, 0.0).is_err());
        let mut stars = plummer_stars(100, 2);
        let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
        let params = SphImageParams::CHU2024.check().unwrap();
        assert!(matches!(sph_images(&stars, &los, 0.0, &params), Err(MockError::InvalidParameter { .. })));
        stars = stars.select(&(0..20).collect::<Vec<_>>()).unwrap();
        assert!(matches!(sph_images(&stars, &los, 1.0, &params), Err(MockError::TooFewPoints { .. })));
        let bare = Particles::new(Array2::zeros((50, 3)), Array2::zeros((50, 3)), Array1::ones(50)).unwrap();
        let err = sph_images(&bare, &los, 1.0, &params).unwrap_err().to_string();
        assert!(err.contains("band r"), "{err}");
        let bad = SphImageParams { scaling: Scaling::PerDataset { min: 1.0, max: 1.0 }, ..SphImageParams::CHU2024 };
        assert!(bad.check().is_err());
    }

    #[test]
    fn scaling_maps_to_the_unit_interval_and_back() {
        let image = Array2::from_shape_fn((4, 4), |(i, j)| if i == 0 && j == 0 { f64::NAN } else { (i + j) as f64 });
        let (s, b) = Scaling::PerImage.apply(&image).unwrap();
        let (lo, hi) = b.unwrap();
        assert_eq!((lo, hi), (1.0, 6.0));
        assert!(s[[0, 0]].is_nan() && s[[3, 3]] == 1.0 && s[[0, 1]] == 0.0);
        assert!((lo + s[[1, 2]] * (hi - lo) - 3.0).abs() < 1e-12);
        let (d, _) = Scaling::PerDataset { min: 0.0, max: 3.0 }.apply(&image).unwrap();
        assert_eq!(d[[3, 3]], 1.0, "clipped");
        assert_eq!(Scaling::None.apply(&image).unwrap().1, None);
    }
}
