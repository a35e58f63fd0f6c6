//! The telescope beam: an elliptical Gaussian of given FWHMs and position angle, truncated, and its convolution
//! with each channel of a cube by FFT (MARTINI's `beams`).
//!
//! Conventions: `bmaj`/`bmin` are FWHMs in arcsec; the position angle `bpa_deg` is the major axis measured from
//! north (+y) through east, and east is -x (FITS axis 1 runs along decreasing right ascension, `CDELT1 < 0`, as
//! radio cubes are written). The discrete kernel samples the Gaussian at pixel centres within `truncate` FWHMs
//! (in the normalised elliptical radius) and is normalised to sum to one, so convolution conserves the flux of a
//! surface-brightness image; multiplying by the beam area `pi bmaj bmin / (4 ln 2)` turns Jy/arcsec^2 into Jy/beam.
//!
//! Convolution is linear (not circular): each plane is zero-padded to at least `n + kernel` points per axis (the
//! next size with factors 2, 3 and 5), transformed with `realfft` along x and `rustfft` along y, multiplied by the
//! kernel's transform (computed once per cube) and transformed back.
//!
//! ```
//! use galmass_mock::hi::beam::{GaussianBeam, PlaneConvolver};
//! use ndarray::Array2;
//! let beam = GaussianBeam::circular(10.0, 3.0).unwrap();
//! let kernel = beam.kernel(2.0).unwrap();
//! assert!((kernel.sum() - 1.0).abs() < 1e-12);
//! let mut plane = Array2::<f64>::zeros((32, 32));
//! plane[[16, 16]] = 1.0;
//! let mut convolver = PlaneConvolver::new(32, 32, kernel.view()).unwrap();
//! convolver.convolve(&mut plane.view_mut());
//! assert!((plane.sum() - 1.0).abs() < 1e-9);
//! ```

use std::sync::Arc;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// FWHM of a Gaussian in units of its standard deviation, `2 sqrt(2 ln 2)`.
pub const FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949;

/// An elliptical Gaussian beam.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaussianBeam {
    /// Major-axis FWHM in arcsec.
    pub bmaj_arcsec: f64,
    /// Minor-axis FWHM in arcsec.
    pub bmin_arcsec: f64,
    /// Position angle of the major axis in degrees, north through east.
    pub bpa_deg: f64,
    /// The kernel is cut at this many FWHMs (normalised elliptical radius); delosrios2023 cuts at 3.
    pub truncate_fwhm: f64,
}

impl GaussianBeam {
    /// A circular beam of FWHM `fwhm_arcsec`, cut at `truncate_fwhm` FWHMs.
    pub fn circular(fwhm_arcsec: f64, truncate_fwhm: f64) -> Result<Self, MockError> {
        Self::new(fwhm_arcsec, fwhm_arcsec, 0.0, truncate_fwhm)
    }

    /// Checks the beam's numbers (`bmaj >= bmin > 0`, a finite angle, `truncate_fwhm > 0`).
    pub fn new(bmaj_arcsec: f64, bmin_arcsec: f64, bpa_deg: f64, truncate_fwhm: f64) -> Result<Self, MockError> {
        if !(bmin_arcsec.is_finite() && bmin_arcsec > 0.0 && bmaj_arcsec.is_finite() && bmaj_arcsec >= bmin_arcsec) {
            return Err(MockError::invalid(
                "beam",
                format!("needs bmaj >= bmin > 0 arcsec, got bmaj {bmaj_arcsec}, bmin {bmin_arcsec}"),
            ));
        }
        if !bpa_deg.is_finite() {
            return Err(MockError::invalid("beam", format!("position angle must be finite, got {bpa_deg}")));
        }
        if !(truncate_fwhm.is_finite() && truncate_fwhm > 0.0) {
            return Err(MockError::invalid("beam", format!("truncation must be > 0 FWHM, got {truncate_fwhm}")));
        }
        Ok(Self { bmaj_arcsec, bmin_arcsec, bpa_deg, truncate_fwhm })
    }

    /// The beam's solid angle `pi bmaj bmin / (4 ln 2)` in arcsec^2.
    pub fn area_arcsec2(&self) -> f64 {
        std::f64::consts::PI * self.bmaj_arcsec * self.bmin_arcsec / (4.0 * std::f64::consts::LN_2)
    }

    /// The covariance `[[xx, xy], [xy, yy]]` in arcsec^2 of the Gaussian on the (x, y) pixel axes (east = -x).
    pub fn covariance_arcsec2(&self) -> [[f64; 2]; 2] {
        let (s_maj, s_min) = (self.bmaj_arcsec / FWHM_PER_SIGMA, self.bmin_arcsec / FWHM_PER_SIGMA);
        let pa = self.bpa_deg.to_radians();
        let (ux, uy) = (-pa.sin(), pa.cos()); // major axis
        let (vx, vy) = (uy, -ux); // minor axis
        let (a, b) = (s_maj * s_maj, s_min * s_min);
        [[a * ux * ux + b * vx * vx, a * ux * uy + b * vx * vy], [a * ux * uy + b * vx * vy, a * uy * uy + b * vy * vy]]
    }

    /// The beam with covariance `c` (arcsec^2), the inverse of [`GaussianBeam::covariance_arcsec2`].
    pub fn from_covariance(c: [[f64; 2]; 2], truncate_fwhm: f64) -> Result<Self, MockError> {
        let (xx, xy, yy) = (c[0][0], c[0][1], c[1][1]);
        let mean = 0.5 * (xx + yy);
        let half_diff = (0.25 * (xx - yy) * (xx - yy) + xy * xy).sqrt();
        let (l_max, l_min) = (mean + half_diff, mean - half_diff);
        if l_min.is_nan() || l_min <= 0.0 {
            return Err(MockError::invalid("beam", format!("covariance {c:?} is not positive definite")));
        }
        // Eigenvector of l_max: (xy, l_max - xx) or (l_max - yy, xy); the major axis is (-sin pa, cos pa).
        let (ex, ey) = if half_diff == 0.0 {
            (0.0, 1.0)
        } else if (l_max - xx).abs() + xy.abs() > (l_max - yy).abs() + xy.abs() {
            (xy, l_max - xx)
        } else {
            (l_max - yy, xy)
        };
        let mut pa_deg = (-ex).atan2(ey).to_degrees();
        pa_deg = pa_deg.rem_euclid(180.0);
        Self::new(l_max.sqrt() * FWHM_PER_SIGMA, l_min.sqrt() * FWHM_PER_SIGMA, pa_deg, truncate_fwhm)
    }

    /// The beam that, convolved with `current`, gives `self` (covariances subtract); `None` when the two are the
    /// same beam; an error when `self` is finer than `current` along some direction (a cube cannot be sharpened).
    pub fn matching_kernel(&self, current: &GaussianBeam) -> Result<Option<GaussianBeam>, MockError> {
        let (t, c) = (self.covariance_arcsec2(), current.covariance_arcsec2());
        let d = [[t[0][0] - c[0][0], t[0][1] - c[0][1]], [t[1][0] - c[1][0], t[1][1] - c[1][1]]];
        let scale = t[0][0] + t[1][1];
        let (tr, det) = (d[0][0] + d[1][1], d[0][0] * d[1][1] - d[0][1] * d[1][0]);
        if tr.abs() <= 1e-9 * scale && det.abs() <= 1e-9 * scale * scale {
            return Ok(None);
        }
        let l_min = 0.5 * tr - (0.25 * tr * tr - det).max(0.0).sqrt();
        if l_min <= 1e-9 * scale {
            return Err(MockError::invalid(
                "beam",
                format!(
                    "the target beam {:.3}'' x {:.3}'' (pa {:.1} deg) is not coarser than the data's {:.3}'' x \
                     {:.3}'' (pa {:.1} deg) in every direction: a cube cannot be sharpened",
                    self.bmaj_arcsec,
                    self.bmin_arcsec,
                    self.bpa_deg,
                    current.bmaj_arcsec,
                    current.bmin_arcsec,
                    current.bpa_deg
                ),
            ));
        }
        Self::from_covariance(d, self.truncate_fwhm).map(Some)
    }

    /// The discrete kernel on pixels of `pixel_arcsec`, `(y, x)`, odd-sized and centred, summing to one.
    pub fn kernel(&self, pixel_arcsec: f64) -> Result<Array2<f64>, MockError> {
        if !(pixel_arcsec.is_finite() && pixel_arcsec > 0.0) {
            return Err(MockError::invalid("pixel_arcsec", format!("must be positive, got {pixel_arcsec}")));
        }
        let c = self.covariance_arcsec2();
        let det = c[0][0] * c[1][1] - c[0][1] * c[0][1];
        let inv = [[c[1][1] / det, -c[0][1] / det], [-c[0][1] / det, c[0][0] / det]];
        // Normalised radius u: u^2 = x' S^-1 x' / (FWHM/sigma)^2 ... cut where the Mahalanobis distance reaches
        // truncate * FWHM / sigma (the same number of FWHMs along every direction of the ellipse).
        let cut = self.truncate_fwhm * FWHM_PER_SIGMA;
        let half = ((cut * self.bmaj_arcsec / FWHM_PER_SIGMA) / pixel_arcsec).floor() as usize;
        if half > 4096 {
            return Err(MockError::invalid("beam", format!("kernel of {} pixels is too large", 2 * half + 1)));
        }
        let n = 2 * half + 1;
        let mut k = Array2::<f64>::zeros((n, n));
        for j in 0..n {
            let y = (j as f64 - half as f64) * pixel_arcsec;
            for i in 0..n {
                let x = (i as f64 - half as f64) * pixel_arcsec;
                let m2 = inv[0][0] * x * x + 2.0 * inv[0][1] * x * y + inv[1][1] * y * y;
                if m2 <= cut * cut {
                    k[[j, i]] = (-0.5 * m2).exp();
                }
            }
        }
        let sum = k.sum();
        Ok(k / sum)
    }
}

/// The smallest size `>= n` whose only prime factors are 2, 3 and 5.
fn fast_size(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r % p == 0 {
                r /= p;
            }
        }
        if r == 1 {
            return m;
        }
        m += 1;
    }
}

/// Linear convolution of `ny` x `nx` planes with one kernel, by FFT; the plans and the kernel's transform are made
/// once and reused for every plane (one convolver per thread: clone it).
#[derive(Clone)]
pub struct PlaneConvolver {
    ny: usize,
    nx: usize,
    fy: usize,
    fx: usize,
    r2c: Arc<dyn RealToComplex<f64>>,
    c2r: Arc<dyn ComplexToReal<f64>>,
    col_fwd: Arc<dyn Fft<f64>>,
    col_inv: Arc<dyn Fft<f64>>,
    kernel_hat: Vec<Complex<f64>>,
    row: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    column: Vec<Complex<f64>>,
    scratch: Vec<Complex<f64>>,
}

impl std::fmt::Debug for PlaneConvolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlaneConvolver({} x {} via {} x {})", self.ny, self.nx, self.fy, self.fx)
    }
}

impl PlaneConvolver {
    /// A convolver of `ny` x `nx` planes with the odd-sized, centred `kernel`.
    pub fn new(ny: usize, nx: usize, kernel: ArrayView2<'_, f64>) -> Result<Self, MockError> {
        let (ky, kx) = kernel.dim();
        if ky % 2 == 0 || kx % 2 == 0 || ny == 0 || nx == 0 {
            return Err(MockError::BadInput {
                name: "kernel",
                expected: "an odd-sized kernel and a non-empty plane".into(),
                got: format!("kernel {ky} x {kx}, plane {ny} x {nx}"),
            });
        }
        let (fy, fx) = (fast_size(ny + ky), fast_size(nx + kx));
        let mut real_planner = RealFftPlanner::<f64>::new();
        let r2c = real_planner.plan_fft_forward(fx);
        let c2r = real_planner.plan_fft_inverse(fx);
        let mut planner = FftPlanner::<f64>::new();
        let col_fwd = planner.plan_fft_forward(fy);
        let col_inv = planner.plan_fft_inverse(fy);
        let nc = fx / 2 + 1;
        let scratch_len = col_fwd
            .get_inplace_scratch_len()
            .max(col_inv.get_inplace_scratch_len())
            .max(r2c.get_scratch_len())
            .max(c2r.get_scratch_len());
        let mut me = Self {
            ny,
            nx,
            fy,
            fx,
            r2c,
            c2r,
            col_fwd,
            col_inv,
            kernel_hat: vec![Complex::new(0.0, 0.0); fy * nc],
            row: vec![0.0; fx],
            spectrum: vec![Complex::new(0.0, 0.0); fy * nc],
            column: vec![Complex::new(0.0, 0.0); fy],
            scratch: vec![Complex::new(0.0, 0.0); scratch_len],
        };
        // The kernel wrapped so that its centre sits at index (0, 0).
        let mut wrapped = Array2::<f64>::zeros((fy, fx));
        let (cy, cx) = (ky / 2, kx / 2);
        for ((j, i), &v) in kernel.indexed_iter() {
            let y = (j + fy - cy) % fy;
            let x = (i + fx - cx) % fx;
            wrapped[[y, x]] = v;
        }
        me.forward(wrapped.view());
        me.kernel_hat.clone_from(&me.spectrum);
        Ok(me)
    }

    /// Transforms an `fy` x `fx` (or smaller, zero-padded) plane into `self.spectrum` (row-major, `fy` x `nc`).
    fn forward(&mut self, plane: ArrayView2<'_, f64>) {
        let nc = self.fx / 2 + 1;
        let (py, px) = plane.dim();
        for y in 0..self.fy {
            self.row.iter_mut().for_each(|v| *v = 0.0);
            if y < py {
                for (x, &v) in plane.row(y).iter().enumerate().take(px) {
                    self.row[x] = v;
                }
            }
            let out = &mut self.spectrum[y * nc..(y + 1) * nc];
            // Lengths are the planned ones: the transform cannot fail.
            let _ = self.r2c.process_with_scratch(&mut self.row, out, &mut self.scratch);
        }
        for c in 0..nc {
            for y in 0..self.fy {
                self.column[y] = self.spectrum[y * nc + c];
            }
            self.col_fwd.process_with_scratch(&mut self.column, &mut self.scratch);
            for y in 0..self.fy {
                self.spectrum[y * nc + c] = self.column[y];
            }
        }
    }

    /// Convolves `plane` (`ny` x `nx`) in place with the kernel; pixels outside the plane count as zero.
    pub fn convolve(&mut self, plane: &mut ArrayViewMut2<'_, f64>) {
        debug_assert_eq!(plane.dim(), (self.ny, self.nx));
        self.forward(plane.view());
        let nc = self.fx / 2 + 1;
        let norm = 1.0 / (self.fx * self.fy) as f64;
        for (s, k) in self.spectrum.iter_mut().zip(&self.kernel_hat) {
            *s *= *k * norm;
        }
        for c in 0..nc {
            for y in 0..self.fy {
                self.column[y] = self.spectrum[y * nc + c];
            }
            self.col_inv.process_with_scratch(&mut self.column, &mut self.scratch);
            for y in 0..self.fy {
                self.spectrum[y * nc + c] = self.column[y];
            }
        }
        for y in 0..self.ny {
            let spec = &mut self.spectrum[y * nc..(y + 1) * nc];
            // The DC and Nyquist bins of a real signal's transform are real: zero their rounding-error imaginary
            // parts, which realfft refuses.
            spec[0].im = 0.0;
            if self.fx % 2 == 0 {
                spec[nc - 1].im = 0.0;
            }
            let _ = self.c2r.process_with_scratch(spec, &mut self.row, &mut self.scratch);
            for x in 0..self.nx {
                plane[[y, x]] = self.row[x];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct linear convolution, for reference.
    fn direct(plane: &Array2<f64>, kernel: &Array2<f64>) -> Array2<f64> {
        let (ny, nx) = plane.dim();
        let (ky, kx) = kernel.dim();
        let (cy, cx) = (ky as isize / 2, kx as isize / 2);
        Array2::from_shape_fn((ny, nx), |(j, i)| {
            let mut s = 0.0;
            for b in 0..ky as isize {
                for a in 0..kx as isize {
                    let (y, x) = (j as isize - (b - cy), i as isize - (a - cx));
                    if y >= 0 && x >= 0 && (y as usize) < ny && (x as usize) < nx {
                        s += kernel[[b as usize, a as usize]] * plane[[y as usize, x as usize]];
                    }
                }
            }
            s
        })
    }

    #[test]
    fn fft_convolution_equals_direct_convolution() {
        let beam = GaussianBeam::new(9.0, 5.0, 30.0, 2.0).unwrap();
        let kernel = beam.kernel(1.5).unwrap();
        let plane = Array2::from_shape_fn((23, 31), |(j, i)| ((j * 7 + i * 13) % 17) as f64 - 5.0);
        let expected = direct(&plane, &kernel);
        let mut got = plane.clone();
        PlaneConvolver::new(23, 31, kernel.view()).unwrap().convolve(&mut got.view_mut());
        let err = (&got - &expected).iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(err < 1e-10, "{err}");
    }

    #[test]
    fn kernel_has_the_beam_width_and_orientation() {
        // A fine grid: the kernel's second moments are the covariance (the truncation at 4 FWHM costs nothing).
        let beam = GaussianBeam::new(10.0, 4.0, 30.0, 4.0).unwrap();
        let p = 0.25;
        let k = beam.kernel(p).unwrap();
        let h = (k.nrows() / 2) as f64;
        let (mut xx, mut xy, mut yy) = (0.0, 0.0, 0.0);
        for ((j, i), &w) in k.indexed_iter() {
            let (x, y) = ((i as f64 - h) * p, (j as f64 - h) * p);
            xx += w * x * x;
            xy += w * x * y;
            yy += w * y * y;
        }
        let c = beam.covariance_arcsec2();
        for (got, want) in [(xx, c[0][0]), (xy, c[0][1]), (yy, c[1][1])] {
            assert!((got - want).abs() < 1e-3 * c[1][1], "{got} vs {want}");
        }
        // PA 30 deg from north through east (-x): the major axis leans to -x as it goes up, so xy < 0.
        assert!(c[0][1] < 0.0);
        let back = GaussianBeam::from_covariance(c, 4.0).unwrap();
        assert!((back.bmaj_arcsec - 10.0).abs() < 1e-9 && (back.bmin_arcsec - 4.0).abs() < 1e-9);
        assert!((back.bpa_deg - 30.0).abs() < 1e-9, "{}", back.bpa_deg);
    }

    #[test]
    fn matching_kernel_subtracts_covariances_and_refuses_sharpening() {
        let data = GaussianBeam::new(12.0, 8.0, 45.0, 3.0).unwrap();
        let target = GaussianBeam::circular(30.0, 3.0).unwrap();
        let k = target.matching_kernel(&data).unwrap().unwrap();
        let (a, b, t) = (k.covariance_arcsec2(), data.covariance_arcsec2(), target.covariance_arcsec2());
        for r in 0..2 {
            for c in 0..2 {
                assert!((a[r][c] + b[r][c] - t[r][c]).abs() < 1e-9);
            }
        }
        assert!(data.matching_kernel(&data).unwrap().is_none());
        let err = GaussianBeam::circular(10.0, 3.0).unwrap().matching_kernel(&data).unwrap_err();
        assert!(err.to_string().contains("cannot be sharpened"), "{err}");
    }

    #[test]
    fn bad_beams_are_refused() {
        assert!(GaussianBeam::new(1.0, 2.0, 0.0, 3.0).is_err());
        assert!(GaussianBeam::new(2.0, 0.0, 0.0, 3.0).is_err());
        assert!(GaussianBeam::circular(2.0, 0.0).is_err());
        assert_eq!(fast_size(97), 100);
    }
}
