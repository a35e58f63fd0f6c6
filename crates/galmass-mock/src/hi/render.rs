//! Turning a source into a cube: every particle's kernel footprint times its line profile, summed into the voxels
//! (MARTINI's `insert_source_in_cube`), then noise, beam and units ([`observe`]).
//!
//! Memory stays bounded: no channels x particles array is ever made (MARTINI's known memory problem). The field is
//! split into bands of rows, one per thread ([`Renderer`]); each band visits every particle, skips those whose
//! footprint misses its rows, and adds the particle's footprint (a few hundred weights, reused) times its line
//! into its own voxels. [`observe_streamed`] takes the source in chunks, so peak memory is the cube (twice, while
//! it is put in `(channel, y, x)` order) plus one chunk and one footprint per thread, whatever the particle count;
//! every voxel sums its particles in the source's order, so the cube is the same bytes for any number of threads
//! and any chunking.
//!
//! ```
//! use galmass_mock::hi::cube::{SkyGrid, SpectralAxis};
//! use galmass_mock::hi::kernels::SphKernel;
//! use galmass_mock::hi::render::render;
//! use galmass_mock::hi::source::HiSource;
//! let source = HiSource::new(vec![0.0], vec![0.0], vec![3.0], vec![2.0], vec![20.0], vec![7.0]).unwrap();
//! let grid = SkyGrid::square(32, 2.0).unwrap();
//! let axis = SpectralAxis::new(32, 5.0, 0.0).unwrap();
//! let cube = render(&source, &grid, &axis, SphKernel::CubicSpline);
//! assert!((cube.total_flux_jy_kms() / 2.0 - 1.0).abs() < 1e-9);
//! ```

use ndarray::{s, Array3, Axis};
use rayon::prelude::*;

use crate::error::MockError;
use crate::hi::beam::{GaussianBeam, PlaneConvolver};
use crate::hi::cube::{CubeUnit, DataCube, SkyGrid, SpectralAxis};
use crate::hi::kernels::{Footprint, SphKernel};
use crate::hi::line::{channel_fractions, line_channels};
use crate::hi::noise::{add_noise_plane, NoiseRms};
use crate::hi::source::HiSource;

/// How far (in radii of compact support, plus a pixel) a footprint can reach: the Gaussian kernels reach
/// 4 sigma = 1.23 H, the sampled kernels H.
const FOOTPRINT_REACH_PER_SUPPORT: f64 = 1.25;

/// The noiseless, unconvolved cube of `source` in Jy/arcsec^2: the flux of every particle is spread over its
/// footprint and its line, and the flux falling outside the field or the band is lost.
pub fn render(source: &HiSource, grid: &SkyGrid, spectral: &SpectralAxis, kernel: SphKernel) -> DataCube {
    let mut renderer = Renderer::new(*grid, *spectral, kernel);
    renderer.add(source);
    renderer.finish()
}

/// A cube being filled source by source (or chunk by chunk of one source): [`Renderer::add`] as often as needed,
/// then [`Renderer::finish`]. The field is split into bands of rows, one per thread; each band visits every
/// particle, skips those whose footprint misses its rows, and adds the rest into its own voxels, so every voxel sums
/// its particles in the order they were added whatever the number of threads.
#[derive(Debug, Clone)]
pub struct Renderer {
    grid: SkyGrid,
    spectral: SpectralAxis,
    kernel: SphKernel,
    bands: Vec<(usize, usize)>,
    buffers: Vec<Vec<f64>>,
}

impl Renderer {
    /// An empty cube on `grid` x `spectral`, filled with `kernel`.
    pub fn new(grid: SkyGrid, spectral: SpectralAxis, kernel: SphKernel) -> Self {
        let n_bands = rayon::current_num_threads().clamp(1, grid.ny);
        let bands: Vec<(usize, usize)> =
            (0..n_bands).map(|b| (b * grid.ny / n_bands, (b + 1) * grid.ny / n_bands)).collect();
        let buffers = bands.iter().map(|&(y0, y1)| vec![0.0; (y1 - y0) * grid.nx * spectral.n]).collect();
        Self { grid, spectral, kernel, bands, buffers }
    }

    /// Adds the flux of `source`.
    pub fn add(&mut self, source: &HiSource) {
        let (grid, spectral, kernel) = (&self.grid, &self.spectral, self.kernel);
        self.bands
            .par_iter()
            .zip(self.buffers.par_iter_mut())
            .for_each(|(&(y0, y1), buffer)| render_band(source, grid, spectral, kernel, y0, y1, buffer));
    }

    /// The cube, `(channel, y, x)`, in Jy/arcsec^2.
    pub fn finish(self) -> DataCube {
        let mut cube = DataCube::zeros(self.grid, self.spectral);
        let (nx, nc) = (self.grid.nx, self.spectral.n);
        for (&(y0, y1), buffer) in self.bands.iter().zip(&self.buffers) {
            cube.data.slice_mut(s![.., y0..y1, ..]).indexed_iter_mut().for_each(|((k, y, x), v)| {
                *v = buffer[(y * nx + x) * nc + k];
            });
        }
        cube
    }
}

/// Adds `source` into rows `[y0, y1)` of the cube, `buffer` laid out `(y - y0, x, channel)`.
fn render_band(
    source: &HiSource,
    grid: &SkyGrid,
    spectral: &SpectralAxis,
    kernel: SphKernel,
    y0: usize,
    y1: usize,
    buffer: &mut [f64],
) {
    let nc = spectral.n;
    let nx = grid.nx as i64;
    let mut footprint = Footprint::default();
    let mut line = vec![0.0; nc];
    let inv_pixel = 1.0 / grid.pixel_arcsec;
    // Jy/arcsec^2 per channel from a flux in Jy km/s: divide by the channel width and the pixel area.
    let to_surface_brightness = 1.0 / (spectral.width_kms * grid.pixel_area_arcsec2());
    let (x_edge, y_edge) = (grid.x_edge_arcsec(), grid.y_edge_arcsec());
    for i in 0..source.len() {
        let x_px = (source.x_arcsec()[i] - x_edge) * inv_pixel;
        let y_px = (source.y_arcsec()[i] - y_edge) * inv_pixel;
        let h_px = source.support_arcsec()[i] * inv_pixel;
        let reach = FOOTPRINT_REACH_PER_SUPPORT * h_px + 1.0;
        if x_px + reach < 0.0 || y_px + reach < y0 as f64 || x_px - reach > nx as f64 || y_px - reach > y1 as f64 {
            continue;
        }
        let range = line_channels(source.v_kms()[i], source.sigma_kms()[i], spectral);
        if range.is_empty() {
            continue;
        }
        let (lo, hi) = (range.start, range.end);
        let line = &mut line[..hi - lo];
        channel_fractions(source.v_kms()[i], source.sigma_kms()[i], spectral, lo..hi, line);
        let scale = source.flux_jy_kms()[i] * to_surface_brightness;
        line.iter_mut().for_each(|f| *f *= scale);
        kernel.footprint(x_px, y_px, h_px, &mut footprint);
        for jj in 0..footprint.height {
            let y = footprint.j0 + jj as i64;
            if y < y0 as i64 || y >= y1 as i64 {
                continue;
            }
            let row = &footprint.weights[jj * footprint.width..(jj + 1) * footprint.width];
            let row_base = (y as usize - y0) * grid.nx;
            for (ii, &w) in row.iter().enumerate() {
                let x = footprint.i0 + ii as i64;
                if x < 0 || x >= nx || w == 0.0 {
                    continue;
                }
                let base = (row_base + x as usize) * nc + lo;
                for (voxel, &f) in buffer[base..base + line.len()].iter_mut().zip(line.iter()) {
                    *voxel += w * f;
                }
            }
        }
    }
}

/// What a mock observation needs beyond the source: the grids, the SPH kernel, the beam (`None`: no convolution),
/// the noise and its seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// The sky grid.
    pub grid: SkyGrid,
    /// The velocity axis.
    pub spectral: SpectralAxis,
    /// The SPH kernel.
    pub kernel: SphKernel,
    /// The beam, or `None` for an unconvolved cube in Jy/arcsec^2.
    pub beam: Option<GaussianBeam>,
    /// The noise.
    pub noise: NoiseRms,
    /// Seed of the noise.
    pub seed: u64,
}

impl Observation {
    /// The rms of the noise in the final cube's unit (0 without noise).
    pub fn noise_rms_in_cube_unit(&self) -> Result<f64, MockError> {
        let kernel = self.beam.map(|b| b.kernel(self.grid.pixel_arcsec)).transpose()?;
        self.noise.post_convolution_rms(self.beam.as_ref(), kernel.as_ref().map(|k| k.view()))
    }
}

/// Observes `source`: renders it on the field grown by the beam kernel's half-width (so that emission just outside
/// the field spills in, as MARTINI pads), adds noise before convolution, convolves every channel with the beam,
/// crops to the field and converts Jy/arcsec^2 to Jy/beam.
pub fn observe(source: &HiSource, observation: &Observation) -> Result<DataCube, MockError> {
    observe_streamed(observation, std::iter::once(Ok::<_, MockError>(source)))
}

/// [`observe`] of a source given in chunks (e.g. [`HiSource::gas_chunks`]), added in order: peak memory is the
/// cube and one chunk, whatever the number of particles, and the cube is the same bytes as [`observe`] of the whole.
pub fn observe_streamed<S: std::borrow::Borrow<HiSource>>(
    observation: &Observation,
    chunks: impl IntoIterator<Item = Result<S, MockError>>,
) -> Result<DataCube, MockError> {
    let Observation { grid, spectral, kernel, beam, noise, seed } = *observation;
    let beam_kernel = beam.map(|b| b.kernel(grid.pixel_arcsec)).transpose()?;
    let pad = beam_kernel.as_ref().map_or(0, |k| k.nrows() / 2);
    let padded = grid.padded(pad);
    let rms = noise.pre_convolution_rms_jy_arcsec2(beam.as_ref(), beam_kernel.as_ref().map(|k| k.view()))?;
    let mut renderer = Renderer::new(padded, spectral, kernel);
    for chunk in chunks {
        renderer.add(chunk?.borrow());
    }
    let mut big = renderer.finish();
    let (Some(beam), Some(beam_kernel)) = (beam, beam_kernel) else {
        big.data.axis_iter_mut(Axis(0)).collect::<Vec<_>>().into_par_iter().enumerate().for_each(|(k, mut plane)| {
            add_noise_plane(&mut plane, rms, seed, k as u64);
        });
        return Ok(big);
    };
    let convolver = PlaneConvolver::new(padded.ny, padded.nx, beam_kernel.view())?;
    big.data.axis_iter_mut(Axis(0)).collect::<Vec<_>>().into_par_iter().enumerate().for_each_init(
        || None,
        |slot: &mut Option<PlaneConvolver>, (k, mut plane)| {
            add_noise_plane(&mut plane, rms, seed, k as u64);
            // One convolver (plans, kernel transform, work buffers) per thread.
            let convolver = slot.get_or_insert_with(|| convolver.clone());
            convolver.convolve(&mut plane);
        },
    );
    let area = beam.area_arcsec2();
    let data: Array3<f64> = big.data.slice(s![.., pad..pad + grid.ny, pad..pad + grid.nx]).mapv(|v| v * area);
    DataCube::from_parts(data, grid, spectral, Some(beam), CubeUnit::JyPerBeam)
}

#[cfg(test)]
mod tests {
    use galmass_core::particles::{Particles, ScalarField};
    use galmass_core::LineOfSight;
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::hi::cube::{flux_jy_kms_from_hi_mass, ARCSEC_PER_RAD};
    use crate::hi::kernels::projected;
    use crate::hi::line::LineWidth;
    use crate::hi::moments::{moments, MomentMask};

    /// An exponential gas disc of `n` particles (scale length 2 kpc) rotating at a flat 120 km/s, with HI masses,
    /// smoothing lengths and temperatures.
    fn disc(n: usize, seed: u64) -> Particles {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut pos = Array2::zeros((n, 3));
        let mut vel = Array2::zeros((n, 3));
        for i in 0..n {
            // R from a gamma(2) distribution (exponential surface density), phi uniform.
            let r = -2.0 * (rng.random::<f64>() * rng.random::<f64>()).ln();
            let phi = rng.random::<f64>() * std::f64::consts::TAU;
            pos[[i, 0]] = r * phi.cos();
            pos[[i, 1]] = r * phi.sin();
            pos[[i, 2]] = 0.1 * (rng.random::<f64>() - 0.5);
            vel[[i, 0]] = -120.0 * phi.sin();
            vel[[i, 1]] = 120.0 * phi.cos();
        }
        let mut gas = Particles::new(pos, vel, Array1::from_elem(n, 1e5)).unwrap();
        gas.set_field(ScalarField::HiMassMsun, Array1::from_elem(n, 7e4)).unwrap();
        let h = galmass_core::neighbours::smoothing_lengths_kpc(gas.pos_kpc().view(), 32).unwrap();
        gas.set_field(ScalarField::SmoothingLengthKpc, h).unwrap();
        gas.set_field(ScalarField::TemperatureK, Array1::from_elem(n, 8e3)).unwrap();
        gas
    }

    fn observation(npix: usize, pixel_arcsec: f64, beam: Option<GaussianBeam>, noise: NoiseRms) -> Observation {
        Observation {
            grid: SkyGrid::square(npix, pixel_arcsec).unwrap(),
            spectral: SpectralAxis::new(64, 5.0, 0.0).unwrap(),
            kernel: SphKernel::CubicSpline,
            beam,
            noise,
            seed: 3,
        }
    }

    #[test]
    fn total_flux_is_the_hi_mass() {
        // A noiseless, unconvolved cube holds M_HI = 2.36e5 D^2 sum S dv (the disc seen at 45 degrees from 10 Mpc,
        // every particle inside the field and the band), for each kernel.
        let gas = disc(3000, 1);
        let los = LineOfSight::new([0.0, std::f64::consts::FRAC_1_SQRT_2, std::f64::consts::FRAC_1_SQRT_2]).unwrap();
        let source = HiSource::from_gas(&gas, &los, 10.0, LineWidth::Thermal).unwrap();
        let m_hi = gas.field(ScalarField::HiMassMsun).unwrap().sum();
        for kernel in [SphKernel::CubicSpline, SphKernel::WendlandC2, SphKernel::Gaussian] {
            // 30 kpc at 10 Mpc is 619''; 128 pixels of 6''.
            let obs = Observation { kernel, ..observation(128, 6.0, None, NoiseRms::None) };
            let cube = observe(&source, &obs).unwrap();
            assert_eq!(cube.unit, CubeUnit::JyPerArcsec2);
            let ratio = cube.hi_mass_msun(10.0) / m_hi;
            assert!((ratio - 1.0).abs() < 0.01, "{kernel:?}: {ratio}");
        }
        // Tiny kernels (under a pixel: the adaptive Gaussian) conserve it too.
        let tiny = HiSource::new(
            source.x_arcsec().to_vec(),
            source.y_arcsec().to_vec(),
            source.v_kms().to_vec(),
            source.flux_jy_kms().to_vec(),
            vec![0.3; source.len()],
            source.sigma_kms().to_vec(),
        )
        .unwrap();
        let cube = observe(&tiny, &observation(128, 6.0, None, NoiseRms::None)).unwrap();
        assert!((cube.hi_mass_msun(10.0) / m_hi - 1.0).abs() < 0.01);
    }

    #[test]
    fn a_single_particle_gives_the_kernel_and_the_line() {
        // Support 12 pixels: voxel (k, y, x) = F(R/H)/H^2 (per pixel, the weights normalised) x channel fraction.
        let (pixel, h, flux, v, sigma) = (2.0, 24.0, 3.0, 11.0, 9.0);
        let source = HiSource::new(vec![1.3], vec![-0.7], vec![v], vec![flux], vec![h], vec![sigma]).unwrap();
        let obs = observation(48, pixel, None, NoiseRms::None);
        let cube = observe(&source, &obs).unwrap();
        let axis = obs.spectral;
        let mut worst: f64 = 0.0;
        let peak = projected(SphKernel::CubicSpline, 0.0, h) * flux / axis.width_kms;
        for k in [26, 32, 34, 40] {
            let (a, b) = (axis.first_edge_kms() + k as f64 * 5.0, axis.first_edge_kms() + (k + 1) as f64 * 5.0);
            let fraction =
                0.5 * (libm::erf((b - v) / (sigma * 2f64.sqrt())) - libm::erf((a - v) / (sigma * 2f64.sqrt())));
            for (y, x) in [(24, 24), (20, 30), (30, 14), (10, 24)] {
                let (dx, dy) = (obs.grid.x_centre_arcsec(x) - 1.3, obs.grid.y_centre_arcsec(y) + 0.7);
                let expected =
                    projected(SphKernel::CubicSpline, (dx * dx + dy * dy).sqrt(), h) * flux * fraction / axis.width_kms;
                worst = worst.max((cube.data[[k, y, x]] - expected).abs() / (peak * fraction));
            }
        }
        assert!(worst < 5e-3, "{worst}");
    }

    #[test]
    fn a_rotating_disc_gives_mom1_of_v_sin_i() {
        // Sky-plane disc at inclination 60 degrees: x = R cos phi, y = R sin phi cos i, v = v_c cos phi sin i.
        let (n, v_c, inc) = (40_000, 150.0f64, 60f64.to_radians());
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut cols: [Vec<f64>; 6] = Default::default();
        for _ in 0..n {
            let r = 5.0 + 40.0 * rng.random::<f64>();
            let phi = rng.random::<f64>() * std::f64::consts::TAU;
            cols[0].push(r * phi.cos());
            cols[1].push(r * phi.sin() * inc.cos());
            cols[2].push(v_c * phi.cos() * inc.sin());
            cols[3].push(1e-3);
            cols[4].push(3.0);
            cols[5].push(7.0);
        }
        let [x, y, v, f, h, s] = cols;
        let source = HiSource::new(x, y, v, f, h, s).unwrap();
        let obs = Observation {
            spectral: SpectralAxis::new(96, 5.0, 0.0).unwrap(),
            ..observation(50, 2.0, None, NoiseRms::None)
        };
        let cube = observe(&source, &obs).unwrap();
        let m = moments(&cube, MomentMask::None, 0.0).unwrap();
        // Major axis (y = 0): pixels at x = +-30''.
        let (row, right, left) = (25, 40, 9);
        let expected = v_c * inc.sin();
        let quarter_channel = 1.25;
        assert!((m.mom1[[row, right]] - expected).abs() < quarter_channel, "{}", m.mom1[[row, right]]);
        assert!((m.mom1[[row, left]] + expected).abs() < quarter_channel, "{}", m.mom1[[row, left]]);
        // Off the major axis the disc projects v_c sin i x / R (R the radius in the disc plane): at the pixel
        // centred (1'', 17'') near the minor axis, about 4 km/s.
        let (x, y) = (obs.grid.x_centre_arcsec(25), obs.grid.y_centre_arcsec(33));
        let expected = v_c * inc.sin() * x / (x * x + (y / inc.cos()).powi(2)).sqrt();
        assert!((m.mom1[[33, 25]] - expected).abs() < quarter_channel, "{} vs {expected}", m.mom1[[33, 25]]);
    }

    #[test]
    fn the_beam_preserves_flux_and_sets_units() {
        let gas = disc(2000, 4);
        let los = LineOfSight::new([0.3, 0.2, 0.9]).unwrap();
        let source = HiSource::from_gas(&gas, &los, 15.0, LineWidth::FixedKms(7.0)).unwrap();
        let beam = GaussianBeam::circular(12.0, 3.0).unwrap();
        let cube = observe(&source, &observation(128, 4.0, Some(beam), NoiseRms::None)).unwrap();
        assert_eq!(cube.unit, CubeUnit::JyPerBeam);
        let expected = flux_jy_kms_from_hi_mass(gas.field(ScalarField::HiMassMsun).unwrap().sum(), 15.0);
        let ratio = cube.total_flux_jy_kms() / expected;
        assert!((ratio - 1.0).abs() < 0.01, "{ratio}");
        // A point source becomes the beam: peak in Jy/beam equals its flux density (the beam sampled finely).
        let point = HiSource::new(vec![0.0], vec![0.0], vec![2.5], vec![1.0], vec![0.0], vec![0.0]).unwrap();
        let obs =
            Observation { grid: SkyGrid::square(65, 1.0).unwrap(), ..observation(1, 1.0, Some(beam), NoiseRms::None) };
        let cube = observe(&point, &obs).unwrap();
        let peak = cube.data.iter().fold(0.0f64, |m, v| m.max(*v));
        // 1 Jy km/s in one 5 km/s channel is 0.2 Jy; the point sits on a pixel corner, a quarter-pixel from 4
        // pixel centres, which see exp(-0.5 (0.707/5.1)^2) of the peak.
        let sigma = 12.0 / crate::hi::beam::FWHM_PER_SIGMA;
        let expected = 0.2 * (-0.5 * 0.5 / (sigma * sigma)).exp();
        assert!((peak / expected - 1.0).abs() < 0.01, "{peak} vs {expected}");
        let _ = ARCSEC_PER_RAD;
    }

    #[test]
    fn noise_has_the_requested_rms_and_the_cube_is_reproducible() {
        let empty = HiSource::default();
        let beam = GaussianBeam::circular(10.0, 3.0).unwrap();
        let obs = observation(96, 2.5, Some(beam), NoiseRms::JyPerBeam(2e-3));
        let cube = observe(&empty, &obs).unwrap();
        let rms = (cube.data.iter().map(|v| v * v).sum::<f64>() / cube.data.len() as f64).sqrt();
        assert!((rms / 2e-3 - 1.0).abs() < 0.03, "{rms}");
        assert!((obs.noise_rms_in_cube_unit().unwrap() / 2e-3 - 1.0).abs() < 1e-12);
        let again = observe(&empty, &obs).unwrap();
        assert_eq!(cube, again);
        let other = observe(&empty, &Observation { seed: 4, ..obs }).unwrap();
        assert_ne!(cube, other);
    }

    #[test]
    fn the_cube_is_the_same_bytes_for_any_thread_count() {
        let gas = disc(1500, 5);
        let los = LineOfSight::new([0.0, 0.5, 0.8]).unwrap();
        let source = HiSource::from_gas(&gas, &los, 10.0, LineWidth::Thermal).unwrap();
        let obs = observation(64, 8.0, Some(GaussianBeam::circular(16.0, 3.0).unwrap()), NoiseRms::JyPerArcsec2(1e-6));
        let run = |threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| observe(&source, &obs))
        };
        let whole = run(1).unwrap();
        assert_eq!(whole, run(3).unwrap());
        // Fed in chunks of 100 particles: the same bytes.
        let chunks = HiSource::gas_chunks(&gas, &los, 10.0, LineWidth::Thermal, 100);
        assert_eq!(observe_streamed(&obs, chunks).unwrap(), whole);
    }
}
