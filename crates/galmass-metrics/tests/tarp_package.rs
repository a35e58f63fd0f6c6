//! Our TARP against the `tarp` package v0.1.1: the expected values come from `scripts/tarp_compare.py`, which calls
//! `tarp.get_tarp_coverage(..., references=refs, bootstrap=False)` on seeded inputs and records `f`, `ecp` and
//! `alpha`, plus numpy's histogram of the same `f` over `[0, 1]` (our `UnitInterval` variant).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use galmass_core::params::Params;
use galmass_metrics::tarp::{
    credibility_fractions, tarp_coverage, DistanceMetric, HistogramRange, References, TarpParams,
};
use ndarray::{Array2, Array3};
use serde::Deserialize;
use std::collections::BTreeMap;

const EXPECTED: &str = include_str!("../test_data/tarp_expected.json");
const TOLERANCE: f64 = 1e-12;

#[derive(Deserialize)]
struct Expected {
    tarp_version: String,
    inputs: BTreeMap<String, Inputs>,
    references: BTreeMap<String, Vec<Vec<f64>>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Inputs {
    samples: Vec<Vec<Vec<f64>>>,
    theta: Vec<Vec<f64>>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    inputs: String,
    references: String,
    metric: String,
    norm: bool,
    num_alpha_bins: Option<usize>,
    f: Vec<f64>,
    ecp: Vec<f64>,
    alpha: Vec<f64>,
    unit_interval_ecp: Vec<f64>,
    unit_interval_alpha: Vec<f64>,
}

fn array2(rows: &[Vec<f64>]) -> Array2<f64> {
    let n_cols = rows[0].len();
    Array2::from_shape_vec((rows.len(), n_cols), rows.iter().flatten().copied().collect()).expect("rectangular")
}

fn array3(blocks: &[Vec<Vec<f64>>]) -> Array3<f64> {
    let (n1, n2) = (blocks[0].len(), blocks[0][0].len());
    let flat: Vec<f64> = blocks.iter().flatten().flatten().copied().collect();
    Array3::from_shape_vec((blocks.len(), n1, n2), flat).expect("rectangular")
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn package_compatible_tarp_equals_tarp_0_1_1() {
    let expected: Expected = serde_json::from_str(EXPECTED).expect("valid expected-values file");
    assert_eq!(expected.tarp_version, "0.1.1");
    assert!(expected.cases.len() >= 6);
    let mut worst = 0.0f64;
    for case in &expected.cases {
        let inputs = &expected.inputs[&case.inputs];
        let samples = array3(&inputs.samples);
        let theta = array2(&inputs.theta);
        let refs = array2(&expected.references[&case.references]);
        let metric = match case.metric.as_str() {
            "euclidean" => DistanceMetric::Euclidean,
            "manhattan" => DistanceMetric::Manhattan,
            other => panic!("unknown metric {other}"),
        };
        let params = TarpParams {
            metric,
            norm: case.norm,
            num_alpha_bins: case.num_alpha_bins,
            histogram_range: HistogramRange::PackageCompatible,
        };
        let valid = params.check().expect("valid params");

        let f = credibility_fractions(samples.view(), theta.view(), References::Given(refs.view()), &valid).expect("f");
        assert_eq!(f, case.f, "{}: f differs from the package", case.name);

        let ours = tarp_coverage(samples.view(), theta.view(), References::Given(refs.view()), &valid).expect("tarp");
        let d_ecp = max_abs_diff(&ours.ecp, &case.ecp);
        let d_alpha = max_abs_diff(&ours.alpha, &case.alpha);
        assert!(d_ecp <= TOLERANCE, "{}: ecp differs by {d_ecp}", case.name);
        assert!(d_alpha <= TOLERANCE, "{}: alpha differs by {d_alpha}", case.name);
        worst = worst.max(d_ecp).max(d_alpha);

        let unit = TarpParams { histogram_range: HistogramRange::UnitInterval, ..params }.check().expect("valid");
        let ours = tarp_coverage(samples.view(), theta.view(), References::Given(refs.view()), &unit).expect("tarp");
        let d_ecp = max_abs_diff(&ours.ecp, &case.unit_interval_ecp);
        let d_alpha = max_abs_diff(&ours.alpha, &case.unit_interval_alpha);
        assert!(
            d_ecp <= TOLERANCE && d_alpha <= TOLERANCE,
            "{}: unit interval differs by {d_ecp}, {d_alpha}",
            case.name
        );
    }
    // Exact, not merely close: the operations run in numpy's order.
    assert_eq!(worst, 0.0, "largest difference from the package");
}

#[test]
fn the_two_ranges_differ_where_f_misses_0_or_1() {
    let expected: Expected = serde_json::from_str(EXPECTED).expect("valid expected-values file");
    let case = expected.cases.iter().find(|c| c.name == "main-euclidean-normTrue-binsNone").expect("case present");
    assert!(case.f.iter().copied().fold(f64::INFINITY, f64::min) > 0.0);
    assert!(case.alpha[0] > 0.0 && case.unit_interval_alpha[0] == 0.0);
    assert!(max_abs_diff(&case.ecp, &case.unit_interval_ecp) > 0.05);
}
