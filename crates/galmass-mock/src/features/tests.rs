use galmass_core::particles::BandLuminosity;
use galmass_core::GalaxyMeta;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Normal};

use super::*;

const G: f64 = G_KPC_KMS2_PER_MSUN;

/// Plummer positions (scale `a`, cut at 30 a) and isotropic velocities in the Plummer's own potential of mass `m`
/// (Aarseth, Henon & Wielen 1974).
fn plummer(n: usize, a: f64, m: f64, seed: u64) -> (Array2<f64>, Array2<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut pos = Array2::zeros((n, 3));
    let mut vel = Array2::zeros((n, 3));
    let unit = |rng: &mut ChaCha8Rng| {
        let c: f64 = rng.random_range(-1.0..1.0);
        let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let s = (1.0 - c * c).sqrt();
        [s * phi.cos(), s * phi.sin(), c]
    };
    for i in 0..n {
        let r = loop {
            let u: f64 = rng.random_range(1e-6..1.0);
            let r = a / (u.powf(-2.0 / 3.0) - 1.0).sqrt();
            if r < 30.0 * a {
                break r;
            }
        };
        let q = loop {
            let (x, y): (f64, f64) = (rng.random(), rng.random::<f64>() * 0.1);
            if y < x * x * (1.0 - x * x).powf(3.5) {
                break x;
            }
        };
        let v = q * (2.0 * G * m / (r * r + a * a).sqrt()).sqrt();
        let (d, e) = (unit(&mut rng), unit(&mut rng));
        for k in 0..3 {
            pos[[i, k]] = r * d[k];
            vel[[i, k]] = v * e[k];
        }
    }
    (pos, vel)
}

fn with_light(pos: Array2<f64>, vel: Array2<f64>, m: f64) -> Particles {
    let n = pos.nrows();
    let mut p = Particles::new(pos, vel, Array1::from_elem(n, m / n as f64)).unwrap();
    let lum = Array1::from_elem(n, 1e4);
    p.set_luminosity("r", BandLuminosity { lum_lsun: lum.clone(), solar_abs_mag_ab: 4.65 }).unwrap();
    p.set_luminosity("g", BandLuminosity { lum_lsun: lum * 0.7, solar_abs_mag_ab: 5.11 }).unwrap();
    p.set_field(ScalarField::AgeGyr, Array1::from_shape_fn(n, |i| if i % 10 == 0 { 0.5 } else { 8.0 })).unwrap();
    p
}

fn galaxy_of(stars: Particles, extra: Option<Particles>) -> Galaxy {
    let mut g = Galaxy::new(GalaxyMeta::new("test", 0));
    g.set_species(Species::Stars, stars);
    if let Some(dm) = extra {
        g.set_species(Species::Dm, dm);
    }
    g
}

/// A thin disc of `n` stars on circular orbits (exponential, scale 2 kpc) in the spherical potential of a Plummer
/// halo of 1e12 Msun (a = 20 kpc) represented by `n_halo` particles; velocity dispersion `sigma` added.
fn cold_disc(n: usize, sigma: f64, seed: u64) -> Galaxy {
    let (halo_pos, halo_vel) = plummer(100_000, 20.0, 1e12, seed + 1);
    let halo = Particles::new(halo_pos, halo_vel, Array1::from_elem(100_000, 1e7)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let gamma = Gamma::new(2.0, 2.0).unwrap();
    let noise = Normal::new(0.0, sigma.max(1e-9)).unwrap();
    let m_disc = 1e9;
    let radii: Vec<f64> = (0..n).map(|_| gamma.sample(&mut rng)).collect();
    // v_c from the enclosed mass of halo (analytic Plummer) and disc (its own spherical enclosed mass).
    let mut sorted = radii.clone();
    sorted.sort_by(f64::total_cmp);
    let mut halo_r = halo.radii_kpc().to_vec();
    halo_r.sort_by(f64::total_cmp);
    let mut pos = Array2::zeros((n, 3));
    let mut vel = Array2::zeros((n, 3));
    for i in 0..n {
        let r = radii[i];
        let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
        let m_halo = halo_r.partition_point(|&x| x < r) as f64 * 1e7;
        let m_in = m_halo + m_disc * sorted.partition_point(|&x| x < r) as f64 / n as f64;
        let vc = (G * m_in / r).sqrt();
        pos[[i, 0]] = r * phi.cos();
        pos[[i, 1]] = r * phi.sin();
        vel[[i, 0]] = -vc * phi.sin() + if sigma > 0.0 { noise.sample(&mut rng) } else { 0.0 };
        vel[[i, 1]] = vc * phi.cos() + if sigma > 0.0 { noise.sample(&mut rng) } else { 0.0 };
        vel[[i, 2]] = if sigma > 0.0 { noise.sample(&mut rng) } else { 0.0 };
    }
    galaxy_of(with_light(pos, vel, m_disc), Some(halo))
}

#[test]
fn b_n_matches_the_tabulated_values() {
    // Ciotti & Bertin 1999: b_1 = 1.67835, b_4 = 7.66925.
    assert!((fit::sersic_b(1.0) - 1.678_35).abs() < 1e-4);
    assert!((fit::sersic_b(4.0) - 7.669_25).abs() < 1e-4);
}

#[test]
fn a_sampled_sersic_profile_is_fitted_back() {
    for (n, seed) in [(1.0f64, 1u64), (4.0, 2), (2.5, 3)] {
        let b = fit::sersic_b(n);
        let gamma = Gamma::new(2.0 * n, 1.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let r_e = 3.0;
        // The enclosed light of a projected Sérsic profile is P(2n, b (R / R_e)^(1/n)): x ~ Gamma(2n, 1).
        let radii: Vec<f64> = (0..100_000).map(|_| r_e * (gamma.sample(&mut rng) / b).powf(n)).collect();
        let lum = vec![1.0; radii.len()];
        let fitted = fit::fit_sersic(&radii, &lum, r_e, 5.0 * r_e).unwrap();
        assert!((fitted.n / n - 1.0).abs() < 0.05, "n = {n}: fitted {}", fitted.n);
        assert!((fitted.r_e / r_e - 1.0).abs() < 0.05, "n = {n}: R_e {}", fitted.r_e);
    }
}

#[test]
fn axis_ratios_of_oblate_and_prolate_spheroids() {
    let rotation = galmass_core::Rotation::about_axis([0.3, -0.5, 0.8], 0.7).unwrap();
    for (scale, expected) in
        [([1.0, 1.0, 0.5], (1.0, 0.5)), ([1.0, 0.5, 0.5], (0.5, 0.5)), ([1.0, 0.8, 0.3], (0.8, 0.3))]
    {
        let (pos, vel) = plummer(60_000, 2.0, 1e10, 7);
        let pos = Array2::from_shape_fn(pos.dim(), |(i, k)| pos[[i, k]] * scale[k]);
        let stars = with_light(rotation.apply_rows(&pos), vel, 1e10);
        let r_hsm = stars.half_mass_radius_kpc().unwrap();
        let (q, s) = axis_ratios(&stars, 3.0 * r_hsm).unwrap();
        assert!((q - expected.0).abs() < 0.02 && (s - expected.1).abs() < 0.02, "{scale:?}: b/a {q}, c/a {s}");
    }
}

#[test]
fn lambda_r_of_a_pressure_supported_system_and_a_cold_disc() {
    let params = FeatureParams::CHU2024.check().unwrap();
    let (pos, vel) = plummer(200_000, 2.0, 1e10, 11);
    let hot = galaxy_of(with_light(pos, vel, 1e10), None);
    let los = LineOfSight::new([0.2, 0.3, 0.93]).unwrap();
    let f = chu2024_features(&hot, &los, &params).unwrap();
    let lambda = f.get("lambda_r").unwrap().value;
    assert!(lambda < 0.05, "non-rotating: lambda_R = {lambda}");
    // Isotropic: half the stars counter-rotate (B/T = 1), few are cold.
    let bt = f.get("kinematic_bt").unwrap().value;
    assert!((bt - 1.0).abs() < 0.03, "isotropic B/T = {bt}");
    let (cold, hot_frac) = (f.get("f_cold").unwrap().value, f.get("f_hot").unwrap().value);
    assert!(cold < 0.15 && hot_frac > 0.3, "isotropic: f_cold {cold}, f_hot {hot_frac}");
    let disc = cold_disc(60_000, 10.0, 5);
    let inc = 60f64.to_radians();
    let f = chu2024_features(&disc, &LineOfSight::new([0.0, inc.sin(), inc.cos()]).unwrap(), &params).unwrap();
    let lambda = f.get("lambda_r").unwrap().value;
    assert!(lambda > 0.7, "cold disc: lambda_R = {lambda}");
}

#[test]
fn circularities_of_a_pure_cold_disc() {
    let disc = cold_disc(30_000, 0.0, 9);
    let params = FeatureParams::CHU2024.check().unwrap();
    let f = chu2024_features(&disc, &LineOfSight::new([1.0, 0.0, 0.0]).unwrap(), &params).unwrap();
    let (bt, cold, hot) =
        (f.get("kinematic_bt").unwrap().value, f.get("f_cold").unwrap().value, f.get("f_hot").unwrap().value);
    // Circular orbits: eps = 1 for every star (analytic).
    assert!(bt < 0.01 && cold > 0.99 && hot < 0.01, "B/T {bt}, f_cold {cold}, f_hot {hot}");
    let eps = circularities(&disc, disc.species(Species::Stars).unwrap(), 4.0).unwrap();
    let mean: f64 = eps.iter().map(|e| e.1).sum::<f64>() / eps.len() as f64;
    assert!((mean - 1.0).abs() < 0.02, "mean circularity {mean}");
}

#[test]
fn photometry_and_bad_inputs() {
    let (pos, vel) = plummer(5000, 1.0, 1e9, 3);
    let stars = with_light(pos, vel, 1e9);
    let galaxy = galaxy_of(stars.clone(), None);
    let params = FeatureParams::CHU2024.check().unwrap();
    let f = chu2024_features(&galaxy, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), &params).unwrap();
    assert_eq!(f.iter().map(|(k, _)| k).collect::<Vec<_>>(), FEATURE_KEYS.to_vec());
    let g_r = f.get("g_r").unwrap().value;
    assert!((g_r - (-2.5 * 0.7f64.log10() + 0.46)).abs() < 1e-9, "{g_r}");
    // M_r of the stars within 2 R_hsm projected: each 1e4 Lsun.
    let m_r = f.get("M_r").unwrap().value;
    let n_in = 10f64.powf((4.65 - m_r) / 2.5) / 1e4;
    assert!(n_in > 2500.0 && n_in < 5000.0 && (n_in - n_in.round()).abs() < 1e-6, "{n_in}");
    // A tenth of the stars are 0.5 Gyr old: SFR = their mass in the aperture / 1 Gyr.
    let sfr = f.get("sfr").unwrap().value;
    assert!((sfr / (0.1 * n_in * 1e9 / 5000.0 / 1e9) - 1.0).abs() < 0.1, "{sfr}");
    let json = serde_json::to_value(f.get("sigma_v").unwrap()).unwrap();
    assert_eq!(json["unit"], "km/s");
    // Too few stars, no luminosities, no stars.
    let few = galaxy_of(stars.select(&(0..10).collect::<Vec<_>>()).unwrap(), None);
    assert!(matches!(
        chu2024_features(&few, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), &params),
        Err(MockError::TooFewPoints { .. })
    ));
    let dark = Particles::new(
        Array2::from_shape_fn((100, 3), |(i, k)| (i * (k + 1)) as f64 * 0.01),
        Array2::zeros((100, 3)),
        Array1::ones(100),
    )
    .unwrap();
    let err =
        chu2024_features(&galaxy_of(dark, None), &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), &params).unwrap_err();
    assert!(err.to_string().contains("band r"), "{err}");
    let empty = Galaxy::new(GalaxyMeta::new("t", 1));
    assert!(chu2024_features(&empty, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), &params).is_err());
    assert!(FeatureParams { aperture_rhsm: 0.0, ..FeatureParams::CHU2024 }.check().is_err());
}
