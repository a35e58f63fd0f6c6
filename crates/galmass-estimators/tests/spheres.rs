//! The estimators on spheres whose truth is known: the literature's behaviour, reproduced.
//!
//! Tracers are Plummer spheres whose velocities are drawn from Gaussians with the dispersions of the spherical Jeans
//! equation for constant anisotropy beta in the given potential. The estimators use only projected second moments,
//! which this reproduces exactly in expectation (the full distribution function would change higher moments only).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use galmass_core::geometry::{DirectionSet, Rotation};
use galmass_core::projection::ProjectedStars;
use galmass_core::units::G_KPC_KMS2_PER_MSUN;
use galmass_core::Particles;
use galmass_estimators::classic::{estimate, estimate_all, EstimatorKind, EstimatorParams};
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Plummer scale radius of the tracer, kpc (issue: "a Plummer tracer (scale 0.5 kpc)").
const PLUMMER_A_KPC: f64 = 0.5;
/// NFW scale radius of the dominant halo, kpc (a dwarf-spheroidal-like halo).
const NFW_RS_KPC: f64 = 1.0;
/// NFW characteristic density, Msun/kpc^3: M(<0.67 kpc) = 1.8e7 Msun, far above any tracer mass.
const NFW_RHO_S_MSUN_KPC3: f64 = 5e7;
/// Stars per sample and lines of sight per average (issue #6).
const N_STARS: usize = 10_000;
const N_LINES: usize = 20;

fn nfw_mass(r: f64) -> f64 {
    let x = r / NFW_RS_KPC;
    4.0 * std::f64::consts::PI * NFW_RHO_S_MSUN_KPC3 * NFW_RS_KPC.powi(3) * ((1.0 + x).ln() - x / (1.0 + x))
}

fn plummer_density(r: f64) -> f64 {
    (1.0 + r * r / (PLUMMER_A_KPC * PLUMMER_A_KPC)).powf(-2.5)
}

fn plummer_mass(total: f64, r: f64) -> f64 {
    total * r.powi(3) / (r * r + PLUMMER_A_KPC * PLUMMER_A_KPC).powf(1.5)
}

/// sigma_r^2(r) from the Jeans equation with constant beta, tabulated on log radii:
/// nu r^(2 beta) sigma_r^2 = int_r^inf nu r'^(2 beta) G M(r') / r'^2 dr'.
fn jeans_sigma_r2(mass: &dyn Fn(f64) -> f64, beta: f64) -> impl Fn(f64) -> f64 {
    let (lo, hi, n) = ((1e-4f64).ln(), (1e4f64).ln(), 8000);
    let step = (hi - lo) / n as f64;
    let r: Vec<f64> = (0..=n).map(|i| (lo + step * i as f64).exp()).collect();
    // Integrand in d ln r.
    let f: Vec<f64> =
        r.iter().map(|&x| plummer_density(x) * x.powf(2.0 * beta) * G_KPC_KMS2_PER_MSUN * mass(x) / x).collect();
    let mut tail = vec![0.0; n + 1];
    for i in (0..n).rev() {
        tail[i] = tail[i + 1] + 0.5 * step * (f[i] + f[i + 1]);
    }
    let s2: Vec<f64> = (0..=n).map(|i| tail[i] / (plummer_density(r[i]) * r[i].powf(2.0 * beta))).collect();
    move |x: f64| {
        let t = ((x.ln() - lo) / step).clamp(0.0, n as f64 - 1.0);
        let i = t.floor() as usize;
        let w = t - i as f64;
        s2[i] * (1.0 - w) + s2[i + 1] * w
    }
}

fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let (u1, u2): (f64, f64) = (rng.random_range(f64::MIN_POSITIVE..1.0), rng.random());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Plummer tracer with Jeans velocities in the potential of `mass`.
fn tracer(mass: &dyn Fn(f64) -> f64, beta: f64, seed: u64) -> Particles {
    let sigma_r2 = jeans_sigma_r2(mass, beta);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos = Array2::zeros((N_STARS, 3));
    let mut vel = Array2::zeros((N_STARS, 3));
    for i in 0..N_STARS {
        let u: f64 = rng.random_range(1e-10..0.999_999);
        let r = PLUMMER_A_KPC / (u.powf(-2.0 / 3.0) - 1.0).sqrt();
        let cos_t: f64 = rng.random_range(-1.0..=1.0);
        let sin_t = (1.0 - cos_t * cos_t).sqrt();
        let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let (e_r, e_t, e_p) = (
            [sin_t * phi.cos(), sin_t * phi.sin(), cos_t],
            [cos_t * phi.cos(), cos_t * phi.sin(), -sin_t],
            [-phi.sin(), phi.cos(), 0.0],
        );
        let s_r = sigma_r2(r).sqrt();
        let s_t = s_r * (1.0 - beta).sqrt();
        let (vr, vt, vp) = (s_r * gaussian(&mut rng), s_t * gaussian(&mut rng), s_t * gaussian(&mut rng));
        for k in 0..3 {
            pos[[i, k]] = r * e_r[k];
            vel[[i, k]] = vr * e_r[k] + vt * e_t[k] + vp * e_p[k];
        }
    }
    Particles::new(pos, vel, Array1::from_elem(N_STARS, 1.0)).unwrap()
}

/// Mean over `N_LINES` Fibonacci lines of sight of Wolf's mass over the true mass at 4/3 R_h.
fn mean_wolf_ratio(stars: &Particles, true_mass: &dyn Fn(f64) -> f64) -> f64 {
    let params = EstimatorParams { n_bootstrap: 0, ..Default::default() }.check().unwrap();
    let lines = DirectionSet::Fibonacci { n: N_LINES }.directions(&Rotation::identity()).unwrap();
    let ratios: Vec<f64> = lines
        .iter()
        .map(|los| {
            let projected = ProjectedStars::new(stars, los, None).unwrap();
            let wolf = estimate(EstimatorKind::Wolf, &projected, None, &params).unwrap();
            wolf.mass_msun / true_mass(wolf.radius_kpc)
        })
        .collect();
    ratios.iter().sum::<f64>() / ratios.len() as f64
}

#[test]
fn jeans_integral_matches_plummer_analytic_dispersion() {
    // Isotropic self-gravitating Plummer: sigma^2(r) = G M / (6 sqrt(r^2 + a^2)).
    let total = 1e8;
    let s2 = jeans_sigma_r2(&|r| plummer_mass(total, r), 0.0);
    for r in [0.05, 0.5, 2.0, 10.0] {
        let exact = G_KPC_KMS2_PER_MSUN * total / (6.0 * (r * r + PLUMMER_A_KPC * PLUMMER_A_KPC).sqrt());
        assert!((s2(r) / exact - 1.0).abs() < 1e-4, "r = {r}: {} vs {exact}", s2(r));
    }
}

#[test]
fn wolf_recovers_mass_at_four_thirds_rh_in_dominant_nfw_halo() {
    for (beta, seed) in [(0.0, 1), (0.5, 2), (-0.5, 3)] {
        let stars = tracer(&nfw_mass, beta, seed);
        let ratio = mean_wolf_ratio(&stars, &nfw_mass);
        eprintln!("plummer tracer in NFW, beta = {beta:+}: <M_wolf / M_true(4/3 R_h)> = {ratio:.4}");
        assert!((ratio - 1.0).abs() < 0.10, "beta = {beta}: ratio {ratio}");
    }
}

#[test]
fn wolf_is_23_percent_low_for_a_self_gravitating_plummer_sphere() {
    // Documented bias: <sigma_los^2> = pi G M / (32 a) and M(<4a/3) = 0.512 M give M_wolf / M_true = 0.767.
    let total = 1e8;
    let mass = |r: f64| plummer_mass(total, r);
    let stars = tracer(&mass, 0.0, 4);
    let ratio = mean_wolf_ratio(&stars, &mass);
    eprintln!("self-gravitating Plummer: <M_wolf / M_true(4/3 R_h)> = {ratio:.4} (expected 0.767)");
    assert!((ratio - 0.767).abs() < 0.03, "ratio {ratio}");
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
