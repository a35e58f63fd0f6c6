//! Beam smearing of a velocity field, as a forward model: the moment 1 of a cube convolved with a beam is the
//! intensity-weighted beam average of the unconvolved moment 1 (the convolution is linear and the moments are
//! ratios of channel sums), `v_smeared = B * (I v) / B * I`, and its moment 2 gains
//! `B * (I v^2) / B * I - v_smeared^2`. Exact without clipping; with the observed (already smeared) moment 0 standing
//! in for the unconvolved intensity, a first-order model, which is what tilted-ring codes correct with.
//!
//! The beam is a circular Gaussian (an elliptical one enters with its geometric-mean FWHM), applied as two
//! separable one-dimensional kernels truncated at 3 FWHM, the frame padded with zero intensity.
//!
//! ```
//! use galmass_estimators::rc::beam::gaussian_smooth;
//! use ndarray::Array2;
//! let mut image = Array2::zeros((21, 21));
//! image[[10, 10]] = 1.0;
//! let smooth = gaussian_smooth(image.view(), 3.0);
//! assert!((smooth.sum() - 1.0).abs() < 1e-9);
//! ```

// `!(x > 0.0)` is meant: NaN must fail these checks, which `x <= 0.0` would let through.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use ndarray::{Array2, ArrayView2, Axis};

/// `image` convolved with a circular Gaussian of `fwhm_px` pixels (returned unchanged for `fwhm_px <= 0`); NaN
/// pixels count as zero.
pub fn gaussian_smooth(image: ArrayView2<'_, f64>, fwhm_px: f64) -> Array2<f64> {
    let clean = image.mapv(|v| if v.is_finite() { v } else { 0.0 });
    if !(fwhm_px > 0.0) {
        return clean;
    }
    let sigma = fwhm_px / (8.0 * 2f64.ln()).sqrt();
    let half = (3.0 * fwhm_px).ceil() as isize;
    let mut kernel: Vec<f64> = (-half..=half).map(|k| (-0.5 * (k as f64 / sigma).powi(2)).exp()).collect();
    let norm: f64 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= norm);
    let rows = convolve_axis(clean.view(), &kernel, Axis(1));
    convolve_axis(rows.view(), &kernel, Axis(0))
}

/// `image` convolved along `axis` with the odd-length `kernel` centred on its middle tap, zero beyond the edges.
fn convolve_axis(image: ArrayView2<'_, f64>, kernel: &[f64], axis: Axis) -> Array2<f64> {
    let half = (kernel.len() / 2) as isize;
    let n = image.len_of(axis) as isize;
    Array2::from_shape_fn(image.dim(), |(j, i)| {
        let centre = if axis == Axis(0) { j } else { i } as isize;
        kernel
            .iter()
            .enumerate()
            .filter_map(|(t, k)| {
                let at = centre + t as isize - half;
                (0..n).contains(&at).then(|| {
                    let at = at as usize;
                    k * if axis == Axis(0) { image[[at, i]] } else { image[[j, at]] }
                })
            })
            .sum()
    })
}

/// The beam-smeared line-of-sight velocity and the dispersion the smearing adds (both km/s), per pixel, of the
/// model velocity field `velocity` (relative to systemic) weighted by the intensity `intensity` (NaN and negative
/// intensities count as zero). Pixels where the smoothed intensity vanishes are NaN.
pub fn smear(
    intensity: ArrayView2<'_, f64>,
    velocity: ArrayView2<'_, f64>,
    fwhm_px: f64,
) -> (Array2<f64>, Array2<f64>) {
    let weight = intensity.mapv(|v| if v.is_finite() && v > 0.0 { v } else { 0.0 });
    let mut iv = weight.clone();
    let mut iv2 = weight.clone();
    ndarray::Zip::from(&mut iv).and(&mut iv2).and(&velocity).for_each(|a, b, &v| {
        let v = if v.is_finite() { v } else { 0.0 };
        *a *= v;
        *b *= v * v;
    });
    let (bw, bv, bv2) = (
        gaussian_smooth(weight.view(), fwhm_px),
        gaussian_smooth(iv.view(), fwhm_px),
        gaussian_smooth(iv2.view(), fwhm_px),
    );
    let mut mean = Array2::from_elem(bw.dim(), f64::NAN);
    let mut extra = Array2::from_elem(bw.dim(), f64::NAN);
    let floor = bw.iter().copied().fold(0.0f64, f64::max) * 1e-9;
    for ((idx, &w), (&a, &b)) in bw.indexed_iter().zip(bv.iter().zip(bv2.iter())) {
        if w > floor {
            let m = a / w;
            mean[idx] = m;
            extra[idx] = (b / w - m * m).max(0.0).sqrt();
        }
    }
    (mean, extra)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn smoothing_a_point_gives_the_gaussian_of_the_fwhm() {
        let mut image = Array2::zeros((41, 41));
        image[[20, 20]] = 1.0;
        let out = gaussian_smooth(image.view(), 4.0);
        // Half maximum at FWHM / 2 from the centre.
        assert_relative_eq!(out[[20, 22]] / out[[20, 20]], 0.5, max_relative = 1e-9);
        assert_relative_eq!(out.sum(), 1.0, max_relative = 1e-9);
    }

    #[test]
    fn a_linear_velocity_field_is_unchanged_but_gains_the_gradient_dispersion() {
        let intensity = Array2::from_elem((60, 60), 1.0);
        let velocity = Array2::from_shape_fn((60, 60), |(_, i)| 2.0 * i as f64);
        let fwhm = 5.0;
        let (mean, extra) = smear(intensity.view(), velocity.view(), fwhm);
        assert_relative_eq!(mean[[30, 30]], 60.0, max_relative = 1e-9);
        // Dispersion = gradient x beam sigma.
        let sigma_px = fwhm / (8.0 * 2f64.ln()).sqrt();
        assert_relative_eq!(extra[[30, 30]], 2.0 * sigma_px, max_relative = 5e-3);
    }
}
