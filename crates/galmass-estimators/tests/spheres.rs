//! The estimators on spheres whose truth is known: the literature's behaviour, reproduced.
//!
//! Tracers are Plummer spheres (`galmass_synth::profiles`, positions drawn by `galmass_synth::df`) whose velocities
//! are drawn from Gaussians with the dispersions of the spherical Jeans equation (`galmass_synth::jeans`) for
//! constant anisotropy beta in the given potential. The estimators use only projected second moments,
//! which this reproduces exactly in expectation (the full distribution function would change higher moments only).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use galmass_core::geometry::{DirectionSet, Rotation};
use galmass_core::numeric::quad::simpson;
use galmass_core::params::Params;
use galmass_core::projection::ProjectedStars;
use galmass_core::units::G_KPC_KMS2_PER_MSUN;
use galmass_core::Particles;
use galmass_estimators::classic::{estimate, estimate_all, EstimatorKind, EstimatorParams};
use galmass_synth::df::{DfAnisotropy, SphericalDf};
use galmass_synth::jeans::JeansSolution;
use galmass_synth::profiles::{Nfw, Plummer, SphericalProfile};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Plummer scale radius of the tracer, kpc (issue: "a Plummer tracer (scale 0.5 kpc)").
const PLUMMER_A_KPC: f64 = 0.5;
/// The tracer (and, for the self-gravitating case, the potential): 1e8 Msun, scale 0.5 kpc.
const PLUMMER: Plummer = Plummer { mass_msun: 1e8, a_kpc: PLUMMER_A_KPC };
/// The dominant halo: a dwarf-spheroidal-like NFW (r_s = 1 kpc, rho_s = 5e7 Msun/kpc^3: M(<0.67 kpc) = 1.8e7 Msun,
/// far above any tracer mass).
const NFW: Nfw = Nfw { rho_s_msun_kpc3: 5e7, r_s_kpc: 1.0 };
/// Stars per sample and lines of sight per average (issue #6).
const N_STARS: usize = 10_000;
const N_LINES: usize = 20;
/// Bootstrap resamples behind the measured statistical error of a mean Wolf ratio.
const N_BOOTSTRAP: usize = 100;

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random_range(f64::MIN_POSITIVE..1.0), rng.random());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Plummer tracer with Gaussian velocities of the constant-beta Jeans dispersions in `potential`
/// (`galmass_synth::jeans`). Positions come from `galmass_synth::df`'s sampler of the self-consistent Plummer sphere
/// (its velocities are replaced: a cored tracer has no positive constant-beta distribution function for beta > 0).
fn tracer(potential: &dyn SphericalProfile, beta: f64, seed: u64) -> Particles {
    let jeans = JeansSolution::constant_beta(&PLUMMER, potential, beta).unwrap();
    let df = SphericalDf::new(&PLUMMER, &PLUMMER, DfAnisotropy::Isotropic).unwrap();
    let (pos, _) = df.sample(N_STARS, seed).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let mut vel = Array2::zeros((N_STARS, 3));
    for (i, p) in pos.rows().into_iter().enumerate() {
        let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
        let (cos_t, phi) = (p[2] / r, p[1].atan2(p[0]));
        let sin_t = (1.0 - cos_t * cos_t).max(0.0).sqrt();
        let (e_r, e_t, e_p) = (
            [sin_t * phi.cos(), sin_t * phi.sin(), cos_t],
            [cos_t * phi.cos(), cos_t * phi.sin(), -sin_t],
            [-phi.sin(), phi.cos(), 0.0],
        );
        let s_r = jeans.sigma_r2_kms2(r).sqrt();
        let s_t = jeans.sigma_t2_kms2(r).sqrt();
        let (vr, vt, vp) = (s_r * gaussian(&mut rng), s_t * gaussian(&mut rng), s_t * gaussian(&mut rng));
        for k in 0..3 {
            vel[[i, k]] = vr * e_r[k] + vt * e_t[k] + vp * e_p[k];
        }
    }
    Particles::new(pos, vel, Array1::from_elem(N_STARS, 1.0)).unwrap()
}

/// The Wolf ratio these tracers have in expectation: the projected half-number radius of a Plummer sphere is `a`,
/// and by the Jeans equation (the tracer's virial theorem) the mean line-of-sight dispersion is
/// `<sigma_los^2> = (G / 3) <M(r) / r>` over the tracer, whatever beta. With `r = a tan t` the tracer's radial
/// distribution is `3 sin^2 t cos t dt`.
fn expected_wolf_ratio(potential: &dyn SphericalProfile) -> f64 {
    let mean_m_over_r = simpson(
        |t| {
            let r = PLUMMER_A_KPC * t.tan();
            if r > 0.0 && r.is_finite() {
                3.0 * t.sin().powi(2) * t.cos() * potential.enclosed_mass_msun(r) / r
            } else {
                0.0
            }
        },
        0.0,
        std::f64::consts::FRAC_PI_2,
        4000,
    );
    let sigma2 = G_KPC_KMS2_PER_MSUN * mean_m_over_r / 3.0;
    // Wolf et al. 2010: M(<4/3 R_h) = 4 R_h sigma^2 / G (written out, independent of the code under test).
    let wolf_mass = 4.0 * PLUMMER_A_KPC * sigma2 / G_KPC_KMS2_PER_MSUN;
    wolf_mass / potential.enclosed_mass_msun(4.0 / 3.0 * PLUMMER_A_KPC)
}

/// The mean over `N_LINES` Fibonacci lines of sight of Wolf's mass over the true mass at 4/3 R_h.
fn mean_wolf_ratio(stars: &Particles, potential: &dyn SphericalProfile) -> f64 {
    let params = EstimatorParams { n_bootstrap: 0, ..Default::default() }.check().unwrap();
    let lines = DirectionSet::Fibonacci { n: N_LINES }.directions(&Rotation::identity()).unwrap();
    let ratios: Vec<f64> = lines
        .iter()
        .map(|los| {
            let projected = ProjectedStars::new(stars, los, None).unwrap();
            let wolf = estimate(EstimatorKind::Wolf, &projected, None, &params).unwrap();
            wolf.mass_msun / potential.enclosed_mass_msun(wolf.radius_kpc)
        })
        .collect();
    ratios.iter().sum::<f64>() / ratios.len() as f64
}

/// [`mean_wolf_ratio`] and its measured statistical error: the standard deviation of the same mean over bootstrap
/// resamples of the stars (R_h, sigma and every projection recomputed for each).
fn mean_wolf_ratio_with_error(stars: &Particles, potential: &dyn SphericalProfile) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let replicates: Vec<f64> = (0..N_BOOTSTRAP)
        .map(|_| {
            let idx: Vec<usize> = (0..stars.len()).map(|_| rng.random_range(0..stars.len())).collect();
            mean_wolf_ratio(&stars.select(&idx).unwrap(), potential)
        })
        .collect();
    let error = galmass_core::stats::variance(&replicates, 1).unwrap().sqrt();
    (mean_wolf_ratio(stars, potential), error)
}

#[test]
fn jeans_integral_matches_plummer_analytic_dispersion() {
    // Isotropic self-gravitating Plummer: sigma^2(r) = G M / (6 sqrt(r^2 + a^2)).
    let jeans = JeansSolution::constant_beta(&PLUMMER, &PLUMMER, 0.0).unwrap();
    for r in [0.05, 0.5, 2.0, 10.0] {
        let exact = G_KPC_KMS2_PER_MSUN * PLUMMER.mass_msun / (6.0 * (r * r + PLUMMER_A_KPC * PLUMMER_A_KPC).sqrt());
        let s2 = jeans.sigma_r2_kms2(r);
        assert!((s2 / exact - 1.0).abs() < 1e-4, "r = {r}: {s2} vs {exact}");
    }
}

#[test]
fn wolf_recovers_mass_at_four_thirds_rh_in_dominant_nfw_halo() {
    let expected = expected_wolf_ratio(&NFW);
    // The literature's claim, from the model alone: Wolf's formula is good to 10% in a dominant halo.
    assert!((expected - 1.0).abs() < 0.10, "expected ratio {expected}");
    for (beta, seed) in [(0.0, 1), (0.5, 2), (-0.5, 3)] {
        let stars = tracer(&NFW, beta, seed);
        let (ratio, error) = mean_wolf_ratio_with_error(&stars, &NFW);
        eprintln!(
            "plummer tracer in NFW, beta = {beta:+}: <M_wolf / M_true(4/3 R_h)> = {ratio:.4} +- {error:.4} \
             (expected {expected:.4})"
        );
        // The estimator on these stars: within 4 measured standard errors of what the model predicts.
        assert!((ratio - expected).abs() < 4.0 * error, "beta = {beta}: ratio {ratio} +- {error}, expected {expected}");
    }
}

#[test]
fn wolf_is_23_percent_low_for_a_self_gravitating_plummer_sphere() {
    // Documented bias: <sigma_los^2> = pi G M / (32 a) and M(<4a/3) = 0.512 M give M_wolf / M_true = 0.767.
    let expected = expected_wolf_ratio(&PLUMMER);
    let closed_form = std::f64::consts::PI / 8.0 / (4.0f64 / 3.0).powi(3) * (16.0f64 / 9.0 + 1.0).powf(1.5);
    assert!((expected - closed_form).abs() < 1e-6, "{expected} vs {closed_form}");
    assert!((closed_form - 0.767).abs() < 5e-4, "{closed_form}");
    let stars = tracer(&PLUMMER, 0.0, 4);
    let (ratio, error) = mean_wolf_ratio_with_error(&stars, &PLUMMER);
    eprintln!(
        "self-gravitating Plummer: <M_wolf / M_true(4/3 R_h)> = {ratio:.4} +- {error:.4} (expected {expected:.4})"
    );
    assert!((ratio - expected).abs() < 4.0 * error, "ratio {ratio} +- {error}, expected {expected}");
}

#[test]
fn velocity_errors_are_removed_by_the_corrected_dispersion() {
    // A 10 km/s system observed with 5 km/s errors.
    let n = 5000;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let pos = Array2::from_shape_fn((n, 3), |_| rng.random_range(-1.0..1.0));
    let mut vel = Array2::zeros((n, 3));
    let errors = vec![5.0; n];
    for i in 0..n {
        vel[[i, 2]] = 10.0 * gaussian(&mut rng) + 5.0 * gaussian(&mut rng);
    }
    let stars = Particles::new(pos, vel, Array1::from_elem(n, 1.0)).unwrap();
    let projected =
        ProjectedStars::new(&stars, &galmass_core::LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), None).unwrap();
    let params = EstimatorParams { n_bootstrap: 200, seed: 3, ..Default::default() }.check().unwrap();
    let corrected = estimate_all(&projected, Some(&errors), &params).unwrap();
    let naive = estimate_all(&projected, None, &params).unwrap();
    let walker = corrected.get(EstimatorKind::Walker).unwrap();
    let err = walker.sigma_err_kms.unwrap();
    eprintln!(
        "10 km/s system, 5 km/s errors: naive sigma {:.3}, corrected {:.3} +- {:.3}",
        naive.sigma_los_kms, walker.sigma_kms, err
    );
    assert!((walker.sigma_kms - 10.0).abs() < 2.0 * err, "corrected {} +- {err}", walker.sigma_kms);
    // The uncorrected dispersion is biased to sqrt(125) = 11.18 km/s, many bootstrap errors away.
    assert!((naive.sigma_los_kms - 10.0) > 4.0 * err, "naive {} +- {err}", naive.sigma_los_kms);
}
