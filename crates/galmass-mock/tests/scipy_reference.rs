//! The maps against scipy.stats.gaussian_kde (values written by scripts/kde_scipy_reference.py).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::Path;

use galmass_core::params::Params;
use galmass_core::projection::ProjectedStars;
use galmass_mock::kde::{Bandwidth, GaussianKde2, Grid2, GridAxis, GridSampling};
use galmass_mock::star_maps::{star_maps, star_maps_many, StarMapParams};
use galmass_mock::MockError;
use ndarray::{Array1, Array2};

/// max |ours - scipy| <= 1e-12 max(scipy): observed up to about 3e-14 (printed by each test), so this bound leaves
/// room for rounding on other processors and fails on any error in the formula (a wrong bandwidth factor, a
/// missing cross term or normalisation is off by 1e-3 or more).
const TOLERANCE: f64 = 1e-12;

fn load(name: &str) -> Vec<f64> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
}

fn load_map(name: &str) -> Array2<f64> {
    Array2::from_shape_vec((64, 64), load(name)).unwrap()
}

fn reference() -> serde_json::Value {
    serde_json::from_str(include_str!("../test_data/kde_reference.json")).unwrap()
}

fn max_relative_difference(ours: &Array2<f64>, scipy: &Array2<f64>) -> f64 {
    assert_eq!(ours.dim(), scipy.dim());
    assert!(ours.iter().all(|v| v.is_finite()));
    let max = scipy.iter().cloned().fold(0.0, f64::max);
    ours.iter().zip(scipy.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max) / max
}

#[test]
fn kde_equals_scipy_for_10_1e3_1e4_points() {
    let axis = GridAxis::new(-0.5, 0.5, 64, GridSampling::Endpoints).unwrap();
    let grid = Grid2 { x: axis, y: axis };
    let mut seen = 0;
    for case in reference()["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "kde") {
        let (x, y) = (load(case["x"].as_str().unwrap()), load(case["y"].as_str().unwrap()));
        let kde = GaussianKde2::new(&x, &y, None, Bandwidth::Scott, "kde").unwrap();
        let d = max_relative_difference(&kde.evaluate_grid(&grid), &load_map(case["map"].as_str().unwrap()));
        eprintln!("{}: max |ours - scipy| / max = {d:.2e}", case["name"]);
        assert!(d <= TOLERANCE, "{}: {d}", case["name"]);
        seen += 1;
    }
    assert_eq!(seen, 3);
}

#[test]
fn star_maps_equal_scipy_pipeline_for_both_presets() {
    let mut seen = 0;
    for case in reference()["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "maps") {
        let name = case["name"].as_str().unwrap();
        let (x, y, v) =
            (load(case["x"].as_str().unwrap()), load(case["y"].as_str().unwrap()), load(case["v"].as_str().unwrap()));
        let n = x.len();
        let stars =
            ProjectedStars::from_parts(Array1::from(x), Array1::from(y), Array1::from(v), Array1::from_elem(n, 1.0))
                .unwrap();
        let params = StarMapParams::preset(case["preset"].as_str().unwrap()).unwrap().check().unwrap();
        let maps = star_maps(&stars, &params).unwrap();
        let close = |ours: f64, key: &str| {
            let theirs = case[key].as_f64().unwrap();
            assert!((ours - theirs).abs() <= 1e-12 * theirs.abs(), "{name} {key}: {ours} vs {theirs}");
        };
        close(maps.r_h_kpc, "r_h_kpc");
        close(maps.v_p98_kms, "v_p98_kms");
        close(maps.sigma_los_kms, "sigma_los_kms");
        assert_eq!(maps.n_in_aperture as u64, case["n_in_aperture"].as_u64().unwrap());
        assert_eq!(maps.n_in_rv_aperture as u64, case["n_in_rv_aperture"].as_u64().unwrap());
        let dxy = max_relative_difference(&maps.star_xy, &load_map(case["star_xy"].as_str().unwrap()));
        let drv = max_relative_difference(&maps.star_rv, &load_map(case["star_rv"].as_str().unwrap()));
        eprintln!("{name}: star_xy {dxy:.2e}, star_rv {drv:.2e} (max |ours - scipy| / max)");
        assert!(dxy <= TOLERANCE && drv <= TOLERANCE, "{name}: {dxy} {drv}");
        seen += 1;
    }
    assert_eq!(seen, 3);
}

fn stars(x: Vec<f64>, y: Vec<f64>, v: Vec<f64>) -> ProjectedStars {
    let n = x.len();
    ProjectedStars::from_parts(Array1::from(x), Array1::from(y), Array1::from(v), Array1::from_elem(n, 1.0)).unwrap()
}

#[test]
fn degenerate_samples_are_typed_errors_never_nan() {
    let params = StarMapParams::SARRATO2025.check().unwrap();
    // One star: no dispersion.
    let one = star_maps(&stars(vec![0.1], vec![0.2], vec![3.0]), &params);
    assert!(matches!(one, Err(MockError::Core(_))), "{one:?}");
    // Every star on a ring of radius 1: R_h = 1 and nobody is within 0.5 R_h.
    let n = 100;
    let ring = stars(
        (0..n).map(|i| (i as f64 * 0.0628).cos()).collect(),
        (0..n).map(|i| (i as f64 * 0.0628).sin()).collect(),
        (0..n).map(|i| if i % 2 == 0 { 5.0 } else { -5.0 }).collect(),
    );
    assert!(matches!(star_maps(&ring, &params), Err(MockError::TooFewPoints { got: 0, .. })));
    // Stars on a line through the centre: map 1's covariance is singular.
    let t: Vec<f64> = (0..200).map(|i| (i as f64 - 100.0) * 0.01).collect();
    let line = stars(t.clone(), t.iter().map(|v| 0.5 * v).collect(), t.iter().map(|v| 10.0 * v + 1.0).collect());
    assert!(matches!(star_maps(&line, &params), Err(MockError::DegenerateCovariance { .. })));
    // All velocities zero: v_p98 = 0.
    let still = stars(
        (0..50).map(|i| (i as f64).sin()).collect(),
        (0..50).map(|i| (i as f64).cos() * 0.3).collect(),
        vec![0.0; 50],
    );
    assert!(matches!(star_maps(&still, &params), Err(MockError::BadInput { name: "v_los", .. })));
}

#[test]
fn many_projections_equal_one_at_a_time_and_keep_failures_apart() {
    let params = StarMapParams::SARRATO2025.check().unwrap();
    let case =
        reference()["cases"].as_array().unwrap().iter().find(|c| c["name"] == "maps_sarrato2025_1000").unwrap().clone();
    let good =
        stars(load(case["x"].as_str().unwrap()), load(case["y"].as_str().unwrap()), load(case["v"].as_str().unwrap()));
    let bad = stars(vec![0.1], vec![0.2], vec![3.0]);
    let results = star_maps_many(&[good.clone(), bad, good.clone()], &params);
    assert_eq!(results.len(), 3);
    let single = star_maps(&good, &params).unwrap();
    assert_eq!(results[0].as_ref().unwrap(), &single);
    assert!(matches!(results[1], Err(MockError::Core(_))), "{:?}", results[1]);
    assert_eq!(results[2].as_ref().unwrap(), &single);
}
