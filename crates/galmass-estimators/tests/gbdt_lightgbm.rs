//! galmass' GBDT against LightGBM 4.7 on the same table: expected values written by
//! `scripts/gbdt_lightgbm_reference.py` into `test_data/` (the Rust tests never run Python).
//!
//! Without row or feature sampling both tools are deterministic and follow the same algorithm, so the first trees
//! must agree split for split (features, thresholds, NaN directions, leaf values and counts), every one of the 1000
//! test predictions after 100 rounds must equal LightGBM's to [`PREDICTION_TOLERANCE`], and the top-3 features by
//! gain must be the same.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::PathBuf;

use galmass_core::params::Params;
use galmass_estimators::gbdt::{train, GbdtParams, ImportanceType, LabeledData, Table};
use serde_json::Value;

/// Largest accepted |ours - LightGBM| of a test prediction or a leaf value (log10 M*, values about 10). Observed:
/// leaf values of the dumped trees equal to the bit, test predictions within 1.6e-14 (l1; 1.1e-14 to 1.2e-14 in the
/// other cases): about 9 ulps of 10, the rounding of summing 100 trees in another order. A single split placed
/// differently moves some prediction by 1e-3 or more.
const PREDICTION_TOLERANCE: f64 = 1e-13;

fn test_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

fn top3(gain: &[f64], names: &[String]) -> Vec<String> {
    let mut idx: Vec<usize> = (0..gain.len()).collect();
    idx.sort_by(|&a, &b| gain[b].total_cmp(&gain[a]));
    idx[..3].iter().map(|&i| names[i].clone()).collect()
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-12)
}

#[test]
fn matches_lightgbm_trees_predictions_and_feature_ranking() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(test_data("gbdt_lightgbm_expected.json")).unwrap()).unwrap();
    let train_table = Table::read(&test_data("gbdt_train.csv")).unwrap();
    let test_table = Table::read(&test_data("gbdt_test.csv")).unwrap();
    let target = expected["target"].as_str().unwrap();
    let names: Vec<String> =
        expected["features"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let (x, _) = train_table.select(&names).unwrap();
    let y = train_table.column(target).unwrap();
    let (xt, _) = test_table.select(&names).unwrap();
    let yt = test_table.column(target).unwrap();
    for (case, exp) in expected["cases"].as_object().unwrap() {
        let params: GbdtParams =
            serde_json::from_value(exp["params"].clone()).unwrap_or_else(|e| panic!("{case}: {e}"));
        let params = params.check().unwrap();
        let out = train(&params, LabeledData::new(x.view(), &y).unwrap(), None, Some(names.clone())).unwrap();
        let model = &out.model;
        let mut max_leaf_diff = 0.0f64;
        // Trees, split for split. LightGBM folds the initial score into the first tree's leaves.
        for (t, exp_tree) in exp["trees"].as_array().unwrap().iter().enumerate() {
            let tree = &model.trees()[t];
            let bias = if t == 0 { model.init_score() } else { 0.0 };
            let ctx = format!("{case}, tree {t}");
            assert_eq!(tree.num_leaves as u64, exp_tree["num_leaves"].as_u64().unwrap(), "{ctx}");
            let feats: Vec<usize> =
                exp_tree["split_feature"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
            assert_eq!(tree.split_feature, feats, "{ctx}: split features");
            for (node, thr) in exp_tree["threshold"].as_array().unwrap().iter().enumerate() {
                assert!(
                    rel_close(tree.threshold[node], thr.as_f64().unwrap(), 1e-12),
                    "{ctx}: threshold {node}: {} vs {thr}",
                    tree.threshold[node]
                );
                // LightGBM stores gains as float32.
                let gain = exp_tree["split_gain"][node].as_f64().unwrap();
                assert!(
                    rel_close(tree.split_gain[node], gain, 1e-5),
                    "{ctx}: gain {node}: {} vs {gain}",
                    tree.split_gain[node]
                );
                if exp_tree["missing_type"][node] == "NaN" {
                    assert_eq!(
                        tree.default_left[node],
                        exp_tree["default_left"][node].as_bool().unwrap(),
                        "{ctx}: default_left {node}"
                    );
                }
            }
            for (leaf, value) in exp_tree["leaf_value"].as_array().unwrap().iter().enumerate() {
                max_leaf_diff = max_leaf_diff.max((tree.leaf_value[leaf] + bias - value.as_f64().unwrap()).abs());
                // The table's labels are float32 values already (as LightGBM stores them), so the leaves agree to rounding.
                let ours = tree.leaf_value[leaf] + bias;
                let theirs = value.as_f64().unwrap();
                assert!((ours - theirs).abs() <= PREDICTION_TOLERANCE, "{ctx}: leaf {leaf}: {ours} vs {theirs}");
                assert_eq!(
                    tree.leaf_count[leaf] as u64,
                    exp_tree["leaf_count"][leaf].as_u64().unwrap(),
                    "{ctx}: leaf count {leaf}"
                );
            }
        }
        // Every prediction after all rounds, then the RMSE they imply.
        let pred = model.predict(xt.view()).unwrap();
        let lgb_pred: Vec<f64> =
            exp["test_predictions"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(lgb_pred.len(), yt.len(), "{case}: one LightGBM prediction per test row");
        let mut max_diff = 0.0f64;
        for (i, (ours, theirs)) in pred.iter().zip(&lgb_pred).enumerate() {
            let diff = (ours - theirs).abs();
            assert!(diff <= PREDICTION_TOLERANCE, "{case}: test row {i}: {ours} vs LightGBM {theirs}");
            max_diff = max_diff.max(diff);
        }
        let rmse = (pred.iter().zip(&yt).map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / yt.len() as f64).sqrt();
        let lgb_rmse = exp["test_rmse"].as_f64().unwrap();
        assert!((rmse - lgb_rmse).abs() <= PREDICTION_TOLERANCE, "{case}: test RMSE {rmse} vs LightGBM {lgb_rmse}");
        let lgb_gain: Vec<f64> = exp["gain"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(
            top3(&model.feature_importance(ImportanceType::Gain), &names),
            top3(&lgb_gain, &names),
            "{case}: top-3 by gain"
        );
        println!(
            "{case}: RMSE {rmse:.6} (LightGBM {lgb_rmse:.6}), largest prediction difference {max_diff:.2e}, \
             largest leaf-value difference {max_leaf_diff:.2e}"
        );
    }
}
