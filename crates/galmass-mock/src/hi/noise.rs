//! Gaussian noise, added to the Jy/arcsec^2 cube **before** the beam convolution, as MARTINI does (MARTINI's
//! `noise`), so that the noise is correlated on the scale of the beam as in a real cube.
//!
//! The level is given either way the two conventions in use quote it ([`NoiseRms`]):
//! - the rms **after** convolution in Jy/beam (MARTINI 3's convention): the rms before convolution is
//!   `rms / (Omega_beam sqrt(sum k^2))`, `k` the discrete beam kernel (normalised to sum one) and `Omega_beam` its
//!   area in arcsec^2, because convolving white noise of rms `s` with `k` leaves white-noise rms `s sqrt(sum k^2)`;
//! - the rms **before** convolution in Jy/arcsec^2 (delosrios2023 quotes 5e-6 Jy/arcsec^2).
//!
//! Each channel draws from its own ChaCha8 stream (`seed`, stream = channel index), so a cube's noise is the same
//! bytes whatever the number of threads.
//!
//! ```
//! use galmass_mock::hi::noise::{add_noise_plane, NoiseRms};
//! use ndarray::Array2;
//! let mut plane = Array2::<f64>::zeros((64, 64));
//! add_noise_plane(&mut plane.view_mut(), 1e-3, 7, 0);
//! let rms = (plane.iter().map(|v| v * v).sum::<f64>() / 4096.0).sqrt();
//! assert!((rms / 1e-3 - 1.0).abs() < 0.05);
//! assert_eq!(NoiseRms::None.pre_convolution_rms_jy_arcsec2(None, None).unwrap(), 0.0);
//! ```

use ndarray::{ArrayView2, ArrayViewMut2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::MockError;
use crate::hi::beam::GaussianBeam;

/// The noise level of a mock cube.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum NoiseRms {
    /// No noise (TOML `noise = "none"`).
    None,
    /// rms after convolution, Jy/beam (TOML `noise = { jy-per-beam = 1e-4 }`; needs a beam).
    JyPerBeam(f64),
    /// rms before convolution, Jy/arcsec^2 (TOML `noise = { jy-per-arcsec2 = 5e-6 }`).
    JyPerArcsec2(f64),
}

impl NoiseRms {
    /// The rms to draw before convolution, Jy/arcsec^2, given the cube's beam and its discrete kernel.
    pub fn pre_convolution_rms_jy_arcsec2(
        &self,
        beam: Option<&GaussianBeam>,
        kernel: Option<ArrayView2<'_, f64>>,
    ) -> Result<f64, MockError> {
        let positive = |name: &'static str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(v)
            } else {
                Err(MockError::invalid(name, format!("must be finite and >= 0, got {v}")))
            }
        };
        match *self {
            NoiseRms::None => Ok(0.0),
            NoiseRms::JyPerArcsec2(v) => positive("noise_rms_jy_arcsec2", v),
            NoiseRms::JyPerBeam(v) => {
                let v = positive("noise_rms_jy_beam", v)?;
                let (Some(beam), Some(kernel)) = (beam, kernel) else {
                    return Err(MockError::invalid(
                        "noise_rms_jy_beam",
                        "a noise level in Jy/beam needs a beam (give it in Jy/arcsec^2 for an unconvolved cube)",
                    ));
                };
                let k2: f64 = kernel.iter().map(|k| k * k).sum();
                Ok(v / (beam.area_arcsec2() * k2.sqrt()))
            }
        }
    }

    /// The rms after convolution in Jy/beam (or Jy/arcsec^2 without a beam) that this level gives.
    pub fn post_convolution_rms(
        &self,
        beam: Option<&GaussianBeam>,
        kernel: Option<ArrayView2<'_, f64>>,
    ) -> Result<f64, MockError> {
        let pre = self.pre_convolution_rms_jy_arcsec2(beam, kernel)?;
        Ok(match (beam, kernel) {
            (Some(beam), Some(kernel)) => pre * kernel.iter().map(|k| k * k).sum::<f64>().sqrt() * beam.area_arcsec2(),
            _ => pre,
        })
    }
}

/// Adds white Gaussian noise of `rms` to one channel's plane, from stream `channel` of `seed`.
pub fn add_noise_plane(plane: &mut ArrayViewMut2<'_, f64>, rms: f64, seed: u64, channel: u64) {
    if rms == 0.0 {
        return;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(channel);
    for v in plane.iter_mut() {
        let z: f64 = StandardNormal.sample(&mut rng);
        *v += rms * z;
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::hi::beam::PlaneConvolver;

    #[test]
    fn noise_after_convolution_has_the_rms_asked_for() {
        let beam = GaussianBeam::circular(10.0, 3.0).unwrap();
        let pixel = 2.5;
        let kernel = beam.kernel(pixel).unwrap();
        let noise = NoiseRms::JyPerBeam(1e-3);
        let pre = noise.pre_convolution_rms_jy_arcsec2(Some(&beam), Some(kernel.view())).unwrap();
        let n = 256;
        let mut plane = Array2::<f64>::zeros((n, n));
        add_noise_plane(&mut plane.view_mut(), pre, 11, 3);
        PlaneConvolver::new(n, n, kernel.view()).unwrap().convolve(&mut plane.view_mut());
        // Away from the edges (where the zero padding lowers the rms), in Jy/beam.
        let m = kernel.nrows();
        let inner = plane.slice(ndarray::s![m..n - m, m..n - m]);
        let rms = (inner.iter().map(|v| v * v).sum::<f64>() / inner.len() as f64).sqrt() * beam.area_arcsec2();
        assert!((rms / 1e-3 - 1.0).abs() < 0.05, "{rms}");
        let post = noise.post_convolution_rms(Some(&beam), Some(kernel.view())).unwrap();
        assert!((post / 1e-3 - 1.0).abs() < 1e-12);
        assert!(noise.pre_convolution_rms_jy_arcsec2(None, None).is_err());
        assert!(NoiseRms::JyPerArcsec2(f64::NAN).pre_convolution_rms_jy_arcsec2(None, None).is_err());
    }

    #[test]
    fn channels_draw_independent_reproducible_streams() {
        let mut a = Array2::<f64>::zeros((8, 8));
        let mut b = Array2::<f64>::zeros((8, 8));
        let mut c = Array2::<f64>::zeros((8, 8));
        add_noise_plane(&mut a.view_mut(), 1.0, 5, 0);
        add_noise_plane(&mut b.view_mut(), 1.0, 5, 0);
        add_noise_plane(&mut c.view_mut(), 1.0, 5, 1);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
