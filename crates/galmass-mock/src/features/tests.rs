use galmass_core::particles::BandLuminosity;
use galmass_core::GalaxyMeta;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Normal};

use super::*;

const G: f64 = galmass_core::units::G_KPC_KMS2_PER_MSUN;

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
    assert!((sersic_b(1.0) - 1.678_35).abs() < 1e-4);
    assert!((sersic_b(4.0) - 7.669_25).abs() < 1e-4);
}

#[test]
fn a_sampled_sersic_profile_is_fitted_back() {
    for (n, seed) in [(1.0f64, 1u64), (4.0, 2), (2.5, 3)] {
        let b = sersic_b(n);
        let gamma = Gamma::new(2.0 * n, 1.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let r_e = 3.0;
        // The enclosed light of a projected Sérsic profile is P(2n, b (R / R_e)^(1/n)): x ~ Gamma(2n, 1).
        let radii: Vec<f64> = (0..100_000).map(|_| r_e * (gamma.sample(&mut rng) / b).powf(n)).collect();
        let lum = vec![1.0; radii.len()];
        let fitted = fit_sersic(&radii, &lum, r_e, 5.0 * r_e).unwrap();
        eprintln!("sersic n = {n}: fitted n {:.4}, R_e {:.4} (true {r_e})", fitted.n, fitted.r_e_kpc);
        assert!((fitted.n / n - 1.0).abs() < 0.05, "n = {n}: fitted {}", fitted.n);
        assert!((fitted.r_e_kpc / r_e - 1.0).abs() < 0.05, "n = {n}: R_e {}", fitted.r_e_kpc);
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
        for tensor in [ShapeTensor::Reduced, ShapeTensor::Unweighted] {
            let shape = axis_ratios(&stars, 3.0 * r_hsm, tensor).unwrap();
            let (q, s) = (shape.b_over_a, shape.c_over_a);
            eprintln!("shape {scale:?} {tensor:?}: b/a {q:.4}, c/a {s:.4}, {} iterations", shape.iterations);
            assert!(shape.converged, "{scale:?} {tensor:?}");
            assert!((q - expected.0).abs() < 0.02 && (s - expected.1).abs() < 0.02, "{scale:?}: b/a {q}, c/a {s}");
            // The minor axis is the rotated z axis (undefined for the prolate b = c).
            if scale[1] == scale[2] {
                continue;
            }
            let minor = rotation.apply([0.0, 0.0, 1.0]);
            let along = (0..3).map(|k| shape.axes[k][2] * minor[k]).sum::<f64>().abs();
            assert!(along > 0.99, "{scale:?}: minor axis {along}");
        }
    }
}

/// Exact circularities of stars in the analytic Plummer potential of mass `m`, scale `a` (the truth the particle
/// estimate is compared with): `Phi = -G m / sqrt(r^2 + a^2)`, `v_c^2 = G m r^2 / (r^2 + a^2)^(3/2)`.
fn plummer_circularities(stars: &Particles, m: f64, a: f64, aperture: f64) -> Vec<f64> {
    let phi = |r: f64| -G * m / (r * r + a * a).sqrt();
    let vc2 = |r: f64| G * m * r * r / (r * r + a * a).powf(1.5);
    let (pos, vel) = (stars.pos_kpc(), stars.vel_kms());
    let mut l = [0.0; 3];
    let radii = stars.radii_kpc();
    let inside: Vec<usize> = (0..stars.len()).filter(|&i| radii[i] < aperture).collect();
    for &i in &inside {
        let j = galmass_core::geometry::cross(
            [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]],
            [vel[[i, 0]], vel[[i, 1]], vel[[i, 2]]],
        );
        for k in 0..3 {
            l[k] += j[k];
        }
    }
    let norm = (l[0] * l[0] + l[1] * l[1] + l[2] * l[2]).sqrt();
    inside
        .iter()
        .map(|&i| {
            let (p, v) = ([pos[[i, 0]], pos[[i, 1]], pos[[i, 2]]], [vel[[i, 0]], vel[[i, 1]], vel[[i, 2]]]);
            let r = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
            let e = 0.5 * (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) + phi(r);
            let r_c = galmass_core::numeric::roots::bisect_monotonic(|x| phi(x) + 0.5 * vc2(x), e, 1e-6, 1e4, 1e-12);
            let j = galmass_core::geometry::cross(p, v);
            (j[0] * l[0] + j[1] * l[1] + j[2] * l[2]) / norm / (r_c * vc2(r_c).sqrt())
        })
        .collect()
}

#[test]
fn lambda_r_of_a_non_rotating_system_and_a_cold_disc() {
    let params = FeatureParams::CHU2024.check().unwrap();
    let los = LineOfSight::new([0.2, 0.3, 0.93]).unwrap();
    for n in [200_000, 30_000] {
        let (pos, vel) = plummer(n, 2.0, 1e10, 11);
        let hot = galaxy_of(with_light(pos, vel, 1e10), None);
        let f = chu2024_features(&hot, &los, &params).unwrap();
        let lambda = f.get("lambda_r").unwrap().value;
        eprintln!("isotropic Plummer, {n} stars: lambda_R = {lambda:.4} over {} pixels", f.lambda_r_pixels);
        if n == 200_000 {
            assert!(lambda < 0.05, "non-rotating: lambda_R = {lambda}");
        } else {
            // Fewer stars per pixel: the noise bias of |V| (about 0.8 / sqrt(N) per pixel) shows.
            assert!(lambda < 0.12, "non-rotating, {n} stars: lambda_R = {lambda}");
        }
    }
    for (sigma, inc_deg, min) in [(10.0, 60.0, 0.7), (10.0, 90.0, 0.7), (0.0, 30.0, 0.9)] {
        let disc = cold_disc(60_000, sigma, 5);
        let inc = f64::to_radians(inc_deg);
        let f = chu2024_features(&disc, &LineOfSight::new([0.0, inc.sin(), inc.cos()]).unwrap(), &params).unwrap();
        let lambda = f.get("lambda_r").unwrap().value;
        eprintln!("cold disc (sigma {sigma} km/s) at {inc_deg} deg: lambda_R = {lambda:.4}");
        assert!(lambda > min, "cold disc at {inc_deg} deg: lambda_R = {lambda}");
    }
    // A face-on disc shows no rotation.
    let disc = cold_disc(60_000, 10.0, 5);
    let f = chu2024_features(&disc, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), &params).unwrap();
    let lambda = f.get("lambda_r").unwrap().value;
    eprintln!("cold disc face-on: lambda_R = {lambda:.4}");
    assert!(lambda < 0.1, "face-on: {lambda}");
}

#[test]
fn circularities_of_an_isotropic_plummer_sphere() {
    let (m, a) = (1e10, 2.0);
    let (pos, vel) = plummer(100_000, a, m, 21);
    let stars = with_light(pos, vel, m);
    let r_hsm = half_mass_radius_3d_kpc(&stars).unwrap();
    // Plummer: r_half = a / sqrt(2^(2/3) - 1) = 1.305 a.
    assert!((r_hsm / (1.305 * a) - 1.0).abs() < 0.02, "R_hsm {r_hsm}");
    let truth = plummer_circularities(&stars, m, a, 2.0 * r_hsm);
    let expected = CircularityFractions::from_circularities(&truth, &vec![1.0; truth.len()]);
    let params = FeatureParams::CHU2024.check().unwrap();
    let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
    let mut potential = stars.clone();
    // The exact potential with a zero point of the snapshot's own (an offset the estimate must absorb).
    let radii = stars.radii_kpc();
    potential.set_field(ScalarField::PotentialKms2, radii.mapv(|r| -G * m / (r * r + a * a).sqrt() - 3.0e4)).unwrap();
    for (label, s) in [("monopole", stars), ("stored potential", potential)] {
        let f = chu2024_features(&galaxy_of(s, None), &los, &params).unwrap();
        let (bt, cold, hot) =
            (f.get("kinematic_bt").unwrap().value, f.get("f_cold").unwrap().value, f.get("f_hot").unwrap().value);
        eprintln!(
            "isotropic Plummer ({label}): B/T {bt:.4}, f_cold {cold:.4}, f_hot {hot:.4}; exact-potential truth \
             B/T {:.4}, f_cold {:.4}, f_hot {:.4}; {:?}",
            expected.kinematic_bt, expected.f_cold, expected.f_hot, f.potential
        );
        // Analytic: an isotropic system has as many counter- as co-rotating stars, B/T = 1.
        assert!((bt - 1.0).abs() < 0.03, "{label}: B/T {bt}");
        assert!((cold - expected.f_cold).abs() < 0.01, "{label}: f_cold {cold} vs {}", expected.f_cold);
        assert!((hot - expected.f_hot).abs() < 0.01, "{label}: f_hot {hot} vs {}", expected.f_hot);
        assert!((bt - expected.kinematic_bt).abs() < 0.02, "{label}: B/T {bt} vs {}", expected.kinematic_bt);
    }
    // eps = x u with u = cos(inclination) uniform on [-1, 1] and x = L / L_c(E) in [0, 1]: f_hot >= 0.25 and
    // f_cold <= 0.1 whatever the distribution of x (x = 1 gives the bounds).
    assert!(expected.f_hot >= 0.25 && expected.f_cold <= 0.1, "{expected:?}");
}

#[test]
fn circularities_of_a_pure_cold_disc() {
    let disc = cold_disc(30_000, 0.0, 9);
    let params = FeatureParams::CHU2024.check().unwrap();
    let f = chu2024_features(&disc, &LineOfSight::new([1.0, 0.0, 0.0]).unwrap(), &params).unwrap();
    let (bt, cold, hot) =
        (f.get("kinematic_bt").unwrap().value, f.get("f_cold").unwrap().value, f.get("f_hot").unwrap().value);
    eprintln!("cold disc: B/T {bt:.4}, f_cold {cold:.4}, f_hot {hot:.4}");
    // Circular orbits: eps = 1 for every star (analytic): B/T = 0, f_cold = 1, f_hot = 0.
    assert!(bt < 0.01 && cold > 0.99 && hot < 0.01, "B/T {bt}, f_cold {cold}, f_hot {hot}");
    let circ = circularities(&disc, disc.species(Species::Stars).unwrap(), 4.0).unwrap();
    let mean: f64 = circ.eps.iter().sum::<f64>() / circ.eps.len() as f64;
    let worst = circ.eps.iter().map(|e| (e - 1.0).abs()).fold(0.0, f64::max);
    eprintln!("cold disc: mean eps {mean:.5}, worst |eps - 1| {worst:.4}, capped {}", circ.n_capped);
    assert!((mean - 1.0).abs() < 0.01, "mean circularity {mean}");
    // The innermost star sits at rest in the test's construction (no mass inside it): eps = 0 there, capped.
    let off = circ.eps.iter().filter(|e| (*e - 1.0).abs() > 0.01).count();
    assert!(off <= 1 && circ.n_capped <= 1, "{off} stars off circular, {} capped", circ.n_capped);
    // The disc reversed: j_z is measured along the stars' own angular momentum, so eps stays 1.
    let stars = disc.species(Species::Stars).unwrap();
    let flipped = Particles::new(stars.pos_kpc().clone(), -stars.vel_kms().clone(), stars.mass_msun().clone()).unwrap();
    let circ = circularities(&disc, &flipped, 4.0).unwrap();
    let mean: f64 = circ.eps.iter().sum::<f64>() / circ.eps.len() as f64;
    assert!((mean - 1.0).abs() < 0.01, "the axis follows the stars' own angular momentum: {mean}");
}

#[test]
fn a_sampled_sersic_galaxy_is_fitted_back_through_the_features() {
    let params = FeatureParams::CHU2024.check().unwrap();
    for (n, seed) in [(1.0f64, 31u64), (4.0, 32)] {
        let b = sersic_b(n);
        let gamma = Gamma::new(2.0 * n, 1.0).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let r_e = 4.0;
        let count = 60_000;
        let mut pos = Array2::zeros((count, 3));
        for i in 0..count {
            let r = r_e * (gamma.sample(&mut rng) / b).powf(n);
            let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            pos[[i, 0]] = r * phi.cos();
            pos[[i, 1]] = r * phi.sin();
            pos[[i, 2]] = 0.1 * r_e * rng.random_range(-1.0..1.0);
        }
        let galaxy = galaxy_of(with_light(pos, Array2::zeros((count, 3)), 1e10), None);
        let f = chu2024_features(&galaxy, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), &params).unwrap();
        let fitted = f.get("sersic_n").unwrap().value;
        eprintln!(
            "Sérsic galaxy n = {n}: fitted n {fitted:.4}, R_e {:.3} (true {r_e}), R_hsm {:.3}",
            f.sersic.r_e_kpc, f.r_hsm_kpc
        );
        assert!((fitted / n - 1.0).abs() < 0.05, "n = {n}: fitted {fitted}");
        assert!((f.sersic.r_e_kpc / r_e - 1.0).abs() < 0.05, "n = {n}: R_e {}", f.sersic.r_e_kpc);
    }
}

#[test]
fn photometry_json_and_bad_inputs() {
    let (pos, vel) = plummer(5000, 1.0, 1e9, 3);
    let stars = with_light(pos, vel, 1e9);
    let galaxy = galaxy_of(stars.clone(), None);
    let params = FeatureParams::named("chu2024").unwrap().check().unwrap();
    assert_eq!(FeatureParams::preset("chu2024"), Some(FeatureParams::CHU2024));
    let los = LineOfSight::new([0.0, 0.0, 1.0]).unwrap();
    let f = chu2024_features(&galaxy, &los, &params).unwrap();
    assert_eq!(f.iter().map(|(k, _)| k).collect::<Vec<_>>(), FEATURE_KEYS.to_vec());
    let g_r = f.get("g_r").unwrap().value;
    assert!((g_r - (-2.5 * 0.7f64.log10() + 0.46)).abs() < 1e-9, "{g_r}");
    // M_r of the stars within 2 R_hsm projected: each 1e4 Lsun, so their number is an integer.
    let m_r = f.get("M_r").unwrap().value;
    let n_in = 10f64.powf((4.65 - m_r) / 2.5) / 1e4;
    let r_hsm = f.r_hsm_kpc;
    let counted = (0..5000).filter(|&i| stars.pos_kpc()[[i, 0]].hypot(stars.pos_kpc()[[i, 1]]) < 2.0 * r_hsm).count();
    assert!((n_in - counted as f64).abs() < 1e-6, "{n_in} vs {counted}");
    // A tenth of the stars (every tenth index) are 0.5 Gyr old: SFR = their mass in the aperture / 1 Gyr.
    let young = (0..5000)
        .filter(|&i| i % 10 == 0 && stars.pos_kpc()[[i, 0]].hypot(stars.pos_kpc()[[i, 1]]) < 2.0 * r_hsm)
        .count();
    let sfr = f.get("sfr").unwrap().value;
    assert!((sfr - young as f64 * (1e9 / 5000.0) / 1e9).abs() < 1e-12, "{sfr}");
    // sigma_v of equal-light stars: the plain dispersion about the mean.
    let v: Vec<f64> = (0..5000)
        .filter(|&i| stars.pos_kpc()[[i, 0]].hypot(stars.pos_kpc()[[i, 1]]) < 2.0 * r_hsm)
        .map(|i| stars.vel_kms()[[i, 2]])
        .collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    assert!((f.get("sigma_v").unwrap().value - sd).abs() < 1e-9);
    // JSON: the ten keys, each with value, unit and aperture.
    let json = serde_json::to_value(&f).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 10);
    for key in FEATURE_KEYS {
        let entry = &json[key];
        assert!(entry["value"].is_number() && entry["unit"].is_string() && entry["aperture"].is_string(), "{key}");
    }
    assert_eq!(json["sigma_v"]["unit"], "km/s");
    assert_eq!(json["f_cold"]["aperture"], "3D sphere of 2 R_hsm");
    assert_eq!(json["M_r"]["aperture"], "2 R_hsm projected");
    // No ages: sfr is NaN (JSON null) with a note.
    let mut ageless =
        Particles::new(stars.pos_kpc().clone(), stars.vel_kms().clone(), stars.mass_msun().clone()).unwrap();
    for band in ["r", "g"] {
        ageless.set_luminosity(band, stars.luminosity(band).unwrap().clone()).unwrap();
    }
    let f = chu2024_features(&galaxy_of(ageless, None), &los, &params).unwrap();
    let sfr = f.get("sfr").unwrap();
    assert!(sfr.value.is_nan() && sfr.note.as_deref().unwrap().contains("no ages"), "{sfr:?}");
    assert!(serde_json::to_value(&f).unwrap()["sfr"]["value"].is_null());
    // Too few stars, no luminosities, negative luminosities, no stars, all stars at the centre.
    let few = galaxy_of(stars.select(&(0..10).collect::<Vec<_>>()).unwrap(), None);
    assert!(matches!(chu2024_features(&few, &los, &params), Err(MockError::TooFewPoints { .. })));
    let dark = Particles::new(
        Array2::from_shape_fn((100, 3), |(i, k)| (i * (k + 1)) as f64 * 0.01),
        Array2::zeros((100, 3)),
        Array1::ones(100),
    )
    .unwrap();
    let err = chu2024_features(&galaxy_of(dark.clone(), None), &los, &params).unwrap_err();
    assert!(err.to_string().contains("band r"), "{err}");
    let mut negative = stars.clone();
    let mut lum = stars.luminosity("g").unwrap().clone();
    lum.lum_lsun[7] = -1.0;
    negative.set_luminosity("g", lum).unwrap();
    let err = chu2024_features(&galaxy_of(negative, None), &los, &params).unwrap_err();
    assert!(err.to_string().contains("non-negative luminosities in band g"), "{err}");
    let empty = Galaxy::new(GalaxyMeta::new("t", 1));
    assert!(matches!(chu2024_features(&empty, &los, &params), Err(MockError::BadInput { .. })));
    let point = with_light(Array2::zeros((100, 3)), Array2::zeros((100, 3)), 1e9);
    assert!(matches!(chu2024_features(&galaxy_of(point, None), &los, &params), Err(MockError::BadInput { .. })));
    assert!(half_mass_radius_3d_kpc(&Particles::empty()).is_err());
    // Low-level checks.
    assert!(lambda_r(&[0.0], &[0.0, 1.0], &[0.0], &[1.0], 1.0, 0.1, 2).is_err());
    assert!(lambda_r(&[0.0], &[0.0], &[0.0], &[1.0], 1.0, 0.0, 2).is_err());
    assert!(lambda_r(&[0.0], &[0.0], &[0.0], &[1.0], 1.0, 0.1, 2).unwrap().value.is_nan());
    assert!(matches!(fit_sersic(&[1.0, 2.0], &[1.0, 1.0], 1.0, 5.0), Err(MockError::TooFewPoints { .. })));
    assert!(fit_sersic(&[1.0], &[1.0, 2.0], 1.0, 5.0).is_err());
    assert!(axis_ratios(&dark, 0.0, ShapeTensor::Reduced).is_err());
    // A razor-thin disc has c/a = 0; stars all at the centre have no shape.
    let flat = with_light(
        Array2::from_shape_fn((500, 3), |(i, k)| if k == 2 { 0.0 } else { ((i * (k + 3)) % 17) as f64 - 8.0 }),
        Array2::zeros((500, 3)),
        1e9,
    );
    let shape = axis_ratios(&flat, 20.0, ShapeTensor::Unweighted).unwrap();
    assert!(shape.c_over_a < 1e-12 && shape.b_over_a > 0.5, "{shape:?}");
    let centre = with_light(Array2::zeros((500, 3)), Array2::zeros((500, 3)), 1e9);
    assert!(matches!(axis_ratios(&centre, 1.0, ShapeTensor::Unweighted), Err(MockError::BadInput { .. })));
    assert!(matches!(axis_ratios(&centre, 1.0, ShapeTensor::Reduced), Err(MockError::TooFewPoints { .. })));
    assert!(circularities(&galaxy, &stars, -1.0).is_err());
    assert!(matches!(circularities(&galaxy, &stars, 1e-9), Err(MockError::TooFewPoints { .. })));
    // Parameters.
    assert!(FeatureParams::preset("nope").is_none());
    assert!(matches!(FeatureParams::named("nope"), Err(MockError::InvalidParameter { name: "preset", .. })));
    assert!(FeatureParams { aperture_rhsm: 0.0, ..FeatureParams::CHU2024 }.check().is_err());
    assert!(FeatureParams { sersic_max_rhsm: f64::NAN, ..FeatureParams::CHU2024 }.check().is_err());
    assert!(FeatureParams { lambda_min_stars: 1, ..FeatureParams::CHU2024 }.check().is_err());
    assert!(FeatureParams { lambda_pixel_rhsm: 3.0, ..FeatureParams::CHU2024 }.check().is_err());
    let text = toml::to_string(&FeatureParams::CHU2024).unwrap();
    assert!(text.contains("shape_tensor = \"reduced\""), "{text}");
    let back: FeatureParams = toml::from_str(&text).unwrap();
    assert_eq!(back, FeatureParams::CHU2024);
    assert!(toml::from_str::<FeatureParams>(&format!("{text}\nextra = 1\n")).is_err());
}
