//! delosrios2023's SDSS-like frames and the dust screen on a synthetic galaxy: measured PSF widths, flux kept,
//! sky rms against the noise model, and the time of the dust screen.
//!
//! `cargo run --release -p galmass-mock --example sdss_frame [n_stars] [n_gas]`

use std::time::Instant;

use galmass_core::params::Params;
use galmass_core::particles::BandLuminosity;
use galmass_core::{LineOfSight, Particles, ScalarField};
use galmass_mock::hi::beam::FWHM_PER_SIGMA;
use galmass_mock::optical::dust::{dust_screen, DustParams};
use galmass_mock::optical::sdss::{sdss_frames, SdssParams, SDSS_BANDS};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn exponential_disc(n: usize, scale_kpc: f64, height_kpc: f64, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos = Array2::zeros((n, 3));
    for i in 0..n {
        // Radius from the exponential disc's cumulative mass by rejection-free gamma(2) sampling.
        let r = -scale_kpc * (rng.random::<f64>() * rng.random::<f64>()).max(1e-300).ln();
        let phi = rng.random::<f64>() * std::f64::consts::TAU;
        let z = height_kpc * (rng.random::<f64>() - 0.5);
        pos[[i, 0]] = r * phi.cos();
        pos[[i, 1]] = r * phi.sin();
        pos[[i, 2]] = z;
    }
    pos
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let n_stars = args.first().copied().unwrap_or(100_000);
    let n_gas = args.get(1).copied().unwrap_or(100_000);
    let mut stars =
        Particles::new(exponential_disc(n_stars, 3.0, 0.6, 1), Array2::zeros((n_stars, 3)), Array1::ones(n_stars))?;
    for (band, msun) in [("u", 6.39), ("g", 5.11), ("r", 4.65), ("i", 4.53), ("z", 4.50)] {
        let lum = Array1::from_elem(n_stars, 1e10 / n_stars as f64);
        stars.set_luminosity(band, BandLuminosity { lum_lsun: lum, solar_abs_mag_ab: msun })?;
    }
    // Point source at 0.1'' pixels: measured FWHM per band.
    let los = LineOfSight::new([0.0, 0.0, 1.0])?;
    let one = stars.select(&(0..33).collect::<Vec<_>>())?;
    let mut point = Particles::new(Array2::zeros((33, 3)), Array2::zeros((33, 3)), Array1::ones(33))?;
    for (band, l) in one.luminosities() {
        let lum = Array1::from_shape_fn(33, |i| if i == 0 { 1e8 } else { 0.0 });
        point.set_luminosity(band, BandLuminosity { lum_lsun: lum, solar_abs_mag_ab: l.solar_abs_mag_ab })?;
    }
    let fine = SdssParams { npix: 200, pixel_arcsec: 0.1, noise: false, ..SdssParams::DELOSRIOS2023 }.check()?;
    for f in sdss_frames(&point, &los, 15.0, &fine, 0)?.bands {
        let (mut s, mut sx, mut sxx) = (0.0, 0.0, 0.0);
        for ((_, j), v) in f.image.indexed_iter() {
            s += v;
            sx += v * j as f64;
            sxx += v * (j as f64).powi(2);
        }
        let fwhm = (sxx / s - (sx / s).powi(2)).sqrt() * 0.1 * FWHM_PER_SIGMA;
        println!("{}: FWHM measured {fwhm:.4}'' (seeing {})", f.constants.band, f.constants.seeing_fwhm_arcsec);
    }
    // The galaxy at 15 Mpc: flux kept, sky rms.
    let params = SdssParams::DELOSRIOS2023.check()?;
    let clean = SdssParams { noise: false, psf: false, ..SdssParams::DELOSRIOS2023 }.check()?;
    let t = Instant::now();
    let frames = sdss_frames(&stars, &los, 15.0, &params, 3)?;
    println!("frames of {n_stars} stars: {:.3} s", t.elapsed().as_secs_f64());
    let bare = sdss_frames(&stars, &los, 15.0, &clean, 3)?;
    for (f, b) in frames.bands.iter().zip(&bare.bands) {
        let corner = f.image.slice(ndarray::s![..32, ..32]);
        let n = corner.len() as f64;
        let mean = corner.sum() / n;
        let sd = (corner.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        println!(
            "{}: total {:.1} nmgy (no PSF/noise {:.1}); corner std {sd:.4} vs sky rms {:.4} nmgy",
            f.constants.band,
            f.image.sum(),
            b.image.sum(),
            f.sky_rms_nanomaggies
        );
    }
    assert_eq!(SDSS_BANDS.len(), frames.bands.len());
    // Dust: a gas disc of 1e10 Msun at solar metallicity, kernels from a fixed smoothing length.
    let mut gas = Particles::new(exponential_disc(n_gas, 5.0, 0.4, 2), Array2::zeros((n_gas, 3)), {
        Array1::from_elem(n_gas, 1e10 / n_gas as f64)
    })?;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    gas.set_field(ScalarField::SmoothingLengthKpc, Array1::from_shape_fn(n_gas, |_| 0.2 + 0.8 * rng.random::<f64>()))?;
    gas.set_field(ScalarField::Metallicity, Array1::from_elem(n_gas, 0.0134))?;
    let inclined = LineOfSight::new([0.0, 0.8, 0.6])?;
    let t = Instant::now();
    let screen = dust_screen(&stars, &gas, &inclined, &DustParams::DELOSRIOS2023.check()?)?;
    let mut a_v = screen.a_v_mag.to_vec();
    a_v.sort_by(f64::total_cmp);
    println!(
        "dust screen, {n_stars} stars x {n_gas} gas: {:.3} s; A_V median {:.3}, 90% {:.3} mag",
        t.elapsed().as_secs_f64(),
        a_v[a_v.len() / 2],
        a_v[a_v.len() * 9 / 10]
    );
    let dusty = sdss_frames(&screen.attenuate(&stars)?, &inclined, 15.0, &clean, 0)?;
    let plain = sdss_frames(&stars, &inclined, 15.0, &clean, 0)?;
    for (d, p) in dusty.bands.iter().zip(&plain.bands) {
        println!("{}: attenuated / intrinsic flux {:.4}", d.constants.band, d.image.sum() / p.image.sum());
    }
    Ok(())
}
