//! Behaviour of `galmass_estimators::gbdt` against analytic truth: a step function, the closed-form leaf values and
//! gains, missing-value routing, sampling and bundling that must not change accuracy, model files, parameters and
//! typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};

use galmass_core::atomic::AtomicWriteError;
use galmass_core::params::Params;
use galmass_estimators::gbdt::binning::MissingType;
use galmass_estimators::gbdt::dataset::BinnedData;
use galmass_estimators::gbdt::split::{leaf_output, leaf_score};
use galmass_estimators::gbdt::{
    train, DataSampleStrategy, GbdtError, GbdtModel, GbdtParams, ImportanceType, LabeledData, Metric, Objective, Table,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn rmse(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64).sqrt()
}

fn test_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

/// Training features and labels, test features and labels, feature names.
type Split = (Array2<f64>, Vec<f64>, Array2<f64>, Vec<f64>, Vec<String>);

/// The chu2024-like table shipped in test_data (scripts/gbdt_data.py).
fn chu_table() -> Split {
    let train_t = Table::read(&test_data("gbdt_train.csv")).unwrap();
    let test_t = Table::read(&test_data("gbdt_test.csv")).unwrap();
    let names = train_t.columns_except(&["log_mstar"]);
    let (x, _) = train_t.select(&names).unwrap();
    let (xt, _) = test_t.select(&names).unwrap();
    (x, train_t.column("log_mstar").unwrap(), xt, test_t.column("log_mstar").unwrap(), names)
}

fn fit(params: GbdtParams, x: &Array2<f64>, y: &[f64]) -> GbdtModel {
    train(&params.check().unwrap(), LabeledData::new(x.view(), y).unwrap(), None, None).unwrap().model
}

#[test]
fn single_split_recovers_a_step_function() {
    // Values on a grid of 200 (fewer than max_bin), so that a bin boundary can fall exactly at the step.
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let n = 1000;
    let x = Array2::from_shape_fn((n, 2), |_| f64::from(rng.random_range(0..200u32)) / 200.0);
    let y: Vec<f64> = (0..n).map(|i| if x[[i, 0]] < 0.3 { 2.0 } else { 5.0 }).collect();
    let params = GbdtParams {
        num_leaves: 2,
        num_boost_round: 1,
        learning_rate: 1.0,
        min_data_in_bin: 1,
        ..GbdtParams::default()
    };
    let model = fit(params, &x, &y);
    let tree = &model.trees()[0];
    assert_eq!((tree.num_leaves, tree.split_feature[0]), (2, 0));
    // The threshold lies between the largest x below 0.3 and the smallest above.
    let below = (0..n).map(|i| x[[i, 0]]).filter(|&v| v < 0.3).fold(f64::MIN, f64::max);
    let above = (0..n).map(|i| x[[i, 0]]).filter(|&v| v >= 0.3).fold(f64::MAX, f64::min);
    assert!(tree.threshold[0] > below && tree.threshold[0] < above, "{} not in ({below}, {above})", tree.threshold[0]);
    // One tree with learning rate 1 reproduces the step exactly (up to float32 gradients).
    let pred = model.predict(x.view()).unwrap();
    for (p, t) in pred.iter().zip(&y) {
        assert!((p - t).abs() < 1e-5, "{p} vs {t}");
    }
    assert!(
        model.predict_row(&[0.1, 0.9]).unwrap() < 2.0 + 1e-5 && model.predict_row(&[0.9, 0.1]).unwrap() > 5.0 - 1e-5
    );
}

#[test]
fn leaf_values_and_split_gains_equal_the_closed_form() {
    // Twelve rows, two features; feature 0 separates the labels best at 4.5.
    let f0 = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0];
    let f1 = [3.0, 1.0, 4.0, 1.5, 9.0, 2.0, 6.0, 5.0, 3.5, 8.0, 9.5, 7.0];
    // Dyadic labels: exact in float32, the precision labels are trained at (as LightGBM's).
    let y = [1.0, 1.25, 0.75, 1.125, 3.0, 3.375, 2.875, 3.125, 3.25, 2.75, 3.0625, 2.9375];
    let x = Array2::from_shape_fn((12, 2), |(i, j)| if j == 0 { f0[i] } else { f1[i] });
    let (l1, l2, lr) = (0.3, 2.0, 0.5);
    let params = GbdtParams {
        num_leaves: 2,
        num_boost_round: 1,
        learning_rate: lr,
        lambda_l1: l1,
        lambda_l2: l2,
        min_data_in_leaf: 2,
        min_data_in_bin: 1,
        ..GbdtParams::default()
    };
    let model = fit(params, &x, &y);
    let init: f64 = y.iter().sum::<f64>() / 12.0;
    assert!((model.init_score() - init).abs() < 1e-12);
    // Gradients g = init - y, hessians 1; the best split over every threshold of both features, by the formula.
    let g: Vec<f64> = y.iter().map(|t| init - t).collect();
    let score = |idx: &[usize]| leaf_score(idx.iter().map(|&i| g[i]).sum(), idx.len() as f64, l1, l2);
    let all: Vec<usize> = (0..12).collect();
    let mut best = (f64::MIN, 0, 0.0);
    for (j, col) in [f0, f1].iter().enumerate() {
        let mut values = col.to_vec();
        values.sort_by(f64::total_cmp);
        for w in values.windows(2) {
            let cut = (w[0] + w[1]) / 2.0;
            let (left, right): (Vec<usize>, Vec<usize>) = all.iter().partition(|&&i| col[i] <= cut);
            if left.len() < 2 || right.len() < 2 {
                continue;
            }
            let gain = score(&left) + score(&right) - score(&all);
            if gain > best.0 {
                best = (gain, j, cut);
            }
        }
    }
    let tree = &model.trees()[0];
    assert_eq!(tree.split_feature[0], best.1);
    assert!((tree.threshold[0] - best.2).abs() < 1e-9, "{} vs {}", tree.threshold[0], best.2);
    assert!((tree.split_gain[0] - best.0).abs() < 1e-5 * best.0, "gain {} vs {}", tree.split_gain[0], best.0);
    let left: Vec<usize> = all.iter().copied().filter(|&i| f0[i] <= best.2).collect();
    let right: Vec<usize> = all.iter().copied().filter(|&i| f0[i] > best.2).collect();
    for (leaf, rows) in [(0, &left), (1, &right)] {
        let gs: f64 = rows.iter().map(|&i| g[i]).sum();
        let expected = lr * leaf_output(gs, rows.len() as f64, l1, l2);
        assert!(
            (tree.leaf_value[leaf] - expected).abs() < 1e-6,
            "leaf {leaf}: {} vs {expected}",
            tree.leaf_value[leaf]
        );
        assert_eq!(tree.leaf_count[leaf], rows.len());
    }
    // The same numbers written out: with l1 the gradient sums shrink towards 0 by 0.3.
    let gl: f64 = left.iter().map(|&i| g[i]).sum();
    assert!((leaf_output(gl, 4.0, l1, l2) - (-(gl - gl.signum() * 0.3) / 6.0)).abs() < 1e-15);
}

#[test]
fn missing_values_follow_the_learned_default_direction() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let n = 2000;
    // Rows of class "nan" have no value for feature 0; their label equals that of large (`alike_large`) or small
    // feature values. Values on a grid of 100, so that a bin boundary falls exactly at the step.
    for alike_large in [true, false] {
        let mut x = Array2::from_shape_fn((n, 1), |_| (f64::from(rng.random_range(0..100u32)) + 0.5) / 100.0);
        let mut y = vec![0.0; n];
        for i in 0..n {
            if i % 5 == 0 {
                x[[i, 0]] = f64::NAN;
                y[i] = if alike_large { 10.0 } else { 0.0 };
            } else {
                y[i] = if x[[i, 0]] > 0.5 { 10.0 } else { 0.0 };
            }
        }
        let params = GbdtParams { num_leaves: 2, num_boost_round: 1, learning_rate: 1.0, ..GbdtParams::default() };
        let model = fit(params, &x, &y);
        let tree = &model.trees()[0];
        assert_eq!(tree.missing_type[0], MissingType::NaN);
        assert_eq!(tree.default_left[0], !alike_large, "alike_large {alike_large}");
        assert!((tree.threshold[0] - 0.5).abs() < 0.01);
        let nan_pred = model.predict_row(&[f64::NAN]).unwrap();
        assert!((nan_pred - if alike_large { 10.0 } else { 0.0 }).abs() < 1e-4, "{nan_pred}");
    }
    // NaN alone separates the labels: the split puts every value left and NaN right.
    let x = Array2::from_shape_fn((n, 1), |(i, _)| if i % 4 == 0 { f64::NAN } else { (i % 97) as f64 });
    let y: Vec<f64> = (0..n).map(|i| if i % 4 == 0 { 1.0 } else { -1.0 }).collect();
    let model =
        fit(GbdtParams { num_leaves: 2, num_boost_round: 1, learning_rate: 1.0, ..GbdtParams::default() }, &x, &y);
    assert!(!model.trees()[0].default_left[0]);
    assert!((model.predict_row(&[f64::NAN]).unwrap() - 1.0).abs() < 1e-5);
    // Every value goes left, however large (below the 1e300 that stands for +inf, as in LightGBM).
    assert!((model.predict_row(&[1e6]).unwrap() + 1.0).abs() < 1e-5);
    assert_eq!(model.trees()[0].threshold[0], 1e300);
    // Trained without NaN, a NaN is read as 0.
    let x = Array2::from_shape_fn((n, 1), |(i, _)| (i % 100) as f64 - 50.0);
    let y: Vec<f64> = (0..n).map(|i| if (i % 100) < 50 { 0.0 } else { 1.0 }).collect();
    let model = fit(
        GbdtParams {
            num_leaves: 2,
            num_boost_round: 1,
            learning_rate: 1.0,
            min_data_in_bin: 1,
            ..GbdtParams::default()
        },
        &x,
        &y,
    );
    assert_eq!(model.trees()[0].missing_type[0], MissingType::None);
    assert_eq!(model.predict_row(&[f64::NAN]).unwrap(), model.predict_row(&[0.0]).unwrap());
}

#[test]
fn goss_leaves_accuracy_unchanged_beyond_seed_noise() {
    let (x, y, xt, yt, _) = chu_table();
    let base = GbdtParams { num_leaves: 5, num_boost_round: 300, min_data_in_leaf: 20, ..GbdtParams::default() };
    let plain = rmse(&fit(base.clone(), &x, &y).predict(xt.view()).unwrap(), &yt);
    let goss: Vec<f64> = (0..4)
        .map(|seed| {
            let p = GbdtParams { data_sample_strategy: DataSampleStrategy::Goss, seed, ..base.clone() };
            rmse(&fit(p, &x, &y).predict(xt.view()).unwrap(), &yt)
        })
        .collect();
    let mean = goss.iter().sum::<f64>() / goss.len() as f64;
    // GOSS is a random subsample: its RMSE scatters by about 1% between seeds here; the mean is the plain RMSE to
    // within 3%.
    assert!((mean / plain - 1.0).abs() < 0.03, "GOSS {goss:?} vs plain {plain}");
    assert!(goss.iter().any(|&r| r != plain), "GOSS changed nothing");
    // Bagging likewise.
    let bag: Vec<f64> = (0..4)
        .map(|seed| {
            let p = GbdtParams { bagging_fraction: 0.7, bagging_freq: 1, seed, ..base.clone() };
            rmse(&fit(p, &x, &y).predict(xt.view()).unwrap(), &yt)
        })
        .collect();
    let mean = bag.iter().sum::<f64>() / bag.len() as f64;
    assert!((mean / plain - 1.0).abs() < 0.03, "bagging {bag:?} vs plain {plain}");
}

/// Sparse table: 30 features that are each non-zero on a disjoint tenth... of a category (one-hot like, mutually
/// exclusive), plus one dense feature; the label depends on the category and the dense feature.
fn sparse_table(n: usize, seed: u64) -> (Array2<f64>, Vec<f64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_cat = 30;
    let mut x = Array2::zeros((n, n_cat + 1));
    let mut y = vec![0.0; n];
    for i in 0..n {
        let cat = rng.random_range(0..n_cat);
        let strength: f64 = 1.0 + rng.random::<f64>();
        x[[i, cat]] = strength;
        let dense: f64 = rng.random();
        x[[i, n_cat]] = dense;
        y[i] = (cat % 7) as f64 * 0.5
            + strength * if cat % 2 == 0 { 1.0 } else { -1.0 }
            + 2.0 * dense
            + 0.1 * rng.random::<f64>();
    }
    (x, y)
}

#[test]
fn exclusive_feature_bundling_leaves_accuracy_unchanged() {
    let (x, y) = sparse_table(4000, 3);
    let (xt, yt) = sparse_table(2000, 4);
    let base = GbdtParams { num_leaves: 15, num_boost_round: 200, min_data_in_leaf: 10, ..GbdtParams::default() };
    let bundled_params = GbdtParams { enable_bundle: true, ..base.clone() };
    let data = BinnedData::from_features(x.view(), &bundled_params.check().unwrap(), None).unwrap();
    assert!(
        data.num_bundles() >= 1 && data.num_columns() < 10,
        "{} columns, {} bundles",
        data.num_columns(),
        data.num_bundles()
    );
    let plain = fit(GbdtParams { enable_bundle: false, ..base.clone() }, &x, &y);
    let bundled = fit(bundled_params, &x, &y);
    let (r_plain, r_bundled) =
        (rmse(&plain.predict(xt.view()).unwrap(), &yt), rmse(&bundled.predict(xt.view()).unwrap(), &yt));
    // Bundling without conflicts is lossless: the same histograms, hence (up to summation order) the same trees.
    assert!((r_bundled / r_plain - 1.0).abs() < 1e-3, "bundled {r_bundled} vs plain {r_plain}");
    assert_eq!(plain.trees()[0].split_feature, bundled.trees()[0].split_feature);
    assert!(r_plain < 0.5, "the model did not learn: {r_plain}");
}

#[test]
fn training_scores_with_row_sampling_equal_the_model_predictions() {
    // Rows outside the bag get the tree's value by replaying the splits on their bins; the training metric must
    // therefore equal the metric of the finished model's predictions.
    let (x, y, _, _, _) = chu_table();
    for strategy in [
        GbdtParams { bagging_fraction: 0.5, bagging_freq: 2, ..GbdtParams::default() },
        GbdtParams { data_sample_strategy: DataSampleStrategy::Goss, learning_rate: 0.3, ..GbdtParams::default() },
        GbdtParams { feature_fraction: 0.5, ..GbdtParams::default() },
    ] {
        let params = GbdtParams {
            num_boost_round: 40,
            is_provide_training_metric: true,
            metric: (&["l2"][..]).into(),
            ..strategy
        }
        .check()
        .unwrap();
        let out = train(&params, LabeledData::new(x.view(), &y).unwrap(), None, None).unwrap();
        let curve = out.history.curve("training", Metric::L2).unwrap();
        let pred = out.model.predict(x.view()).unwrap();
        let mse = pred.iter().zip(&y).map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / y.len() as f64;
        assert!(
            (curve[39] - mse).abs() < 1e-12 * mse.max(1e-300) + 1e-15,
            "{:?}: {} vs {mse}",
            params.params().data_sample_strategy,
            curve[39]
        );
    }
}

#[test]
fn saved_model_predicts_identically_and_bad_files_are_errors() {
    let (x, y, xt, _, names) = chu_table();
    let params = GbdtParams {
        num_boost_round: 60,
        feature_fraction: 0.8,
        bagging_fraction: 0.8,
        bagging_freq: 1,
        ..GbdtParams::chu2024()
    };
    let model = train(&params.check().unwrap(), LabeledData::new(x.view(), &y).unwrap(), None, Some(names.clone()))
        .unwrap()
        .model;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    model.save(&path).unwrap();
    let back = GbdtModel::load(&path).unwrap();
    assert_eq!(back, model);
    let (a, b) = (model.predict(xt.view()).unwrap(), back.predict(xt.view()).unwrap());
    assert!(a.iter().zip(&b).all(|(p, q)| p.to_bits() == q.to_bits()));
    // NaN inputs too.
    let row = [f64::NAN; 10];
    assert_eq!(model.predict_row(&row).unwrap().to_bits(), back.predict_row(&row).unwrap().to_bits());
    let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(value["format"], "galmass-gbdt");
    assert_eq!(value["version"], 1);
    assert_eq!(value["feature_names"][0], names[0].as_str());
    assert_eq!(value["params"]["num_leaves"], 5);

    let write = |name: &str, text: &str| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let load_err = |p: &Path| GbdtModel::load(p).unwrap_err();
    assert!(matches!(load_err(&write("junk.json", "{not json")), GbdtError::Model { .. }));
    let mut other = value.clone();
    other["format"] = "lightgbm".into();
    assert!(load_err(&write("format.json", &other.to_string())).to_string().contains("format"));
    let mut other = value.clone();
    other["extra"] = 1.into();
    assert!(load_err(&write("extra.json", &other.to_string())).to_string().contains("extra"));
    let mut other = value.clone();
    other["trees"][0]["left_child"][0] = 7.into();
    assert!(load_err(&write("links.json", &other.to_string())).to_string().contains("tree 0"));
    let mut other = value.clone();
    other["trees"][0]["split_feature"][0] = 99.into();
    assert!(matches!(load_err(&write("feature.json", &other.to_string())), GbdtError::Model { .. }));
    assert!(matches!(GbdtModel::load(&dir.path().join("missing.json")), Err(GbdtError::Io { .. })));

    // A destination that cannot be replaced (a folder holding a file): an I/O error naming it, the temporary
    // removed and the folder untouched.
    let blocked = dir.path().join("blocked.json");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), b"x").unwrap();
    let err = model.save(&blocked).unwrap_err();
    assert!(
        matches!(&err, GbdtError::Write(AtomicWriteError::Io { path, step, .. }) if path == &blocked && step.contains("renaming")),
        "{err:?}"
    );
    assert!(err.to_string().contains("blocked.json"), "{err}");
    assert!(blocked.join("keep").exists());
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn parameter_aliases_presets_and_unknown_keys() {
    let p: GbdtParams = toml::from_str(
        "objective = \"regression\"\nnum_iterations = 500\nnum_leaves = 5\nmin_child_samples = 20\nmetric = \"l1,l2\"\n\
         is_training_metric = true\n",
    )
    .unwrap();
    assert_eq!(p, GbdtParams::chu2024());
    let err = toml::from_str::<GbdtParams>("num_leaves = 5\nboosting_typo = \"gbdt\"\n").unwrap_err();
    assert!(err.to_string().contains("boosting_typo"), "{err}");
    assert!(serde_json::from_str::<GbdtParams>(r#"{"num_iterations": 3, "n_estimators": 4}"#).is_err());
    // The shipped preset is the chu2024 constructor.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/gbdt/chu2024.toml");
    let text = std::fs::read_to_string(&path).expect("configs/gbdt/chu2024.toml exists");
    let preset: GbdtParams = toml::from_str(&text).unwrap();
    assert_eq!(preset, GbdtParams::chu2024());
    preset.check().unwrap();
}

#[test]
fn bad_input_is_a_typed_error_not_a_panic() {
    let x = Array2::from_shape_fn((50, 2), |(i, j)| (i * (j + 1)) as f64);
    let y: Vec<f64> = (0..50).map(f64::from).collect();
    let params = GbdtParams::default().check().unwrap();
    let mut bad_y = y.clone();
    bad_y[7] = f64::NAN;
    assert!(matches!(LabeledData::new(x.view(), &bad_y), Err(GbdtError::BadInput { name: "labels", .. })));
    assert!(matches!(LabeledData::new(x.view(), &y[..49]), Err(GbdtError::BadInput { name: "labels", .. })));
    let mut huge = y.clone();
    huge[3] = 1e300;
    assert!(matches!(LabeledData::new(x.view(), &huge), Err(GbdtError::BadInput { name: "labels", .. })));
    let empty = Array2::<f64>::zeros((0, 2));
    assert!(matches!(LabeledData::new(empty.view(), &[]), Err(GbdtError::BadInput { name: "features", .. })));
    let narrow = Array2::<f64>::zeros((50, 1));
    let err = train(
        &params,
        LabeledData::new(x.view(), &y).unwrap(),
        Some(LabeledData::new(narrow.view(), &y).unwrap()),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, GbdtError::BadInput { name: "valid features", .. }), "{err}");
    let err = train(&params, LabeledData::new(x.view(), &y).unwrap(), None, Some(vec!["a".into()])).unwrap_err();
    assert!(matches!(err, GbdtError::BadInput { name: "feature_names", .. }), "{err}");
    let stop = GbdtParams { early_stopping_round: 5, ..GbdtParams::default() }.check().unwrap();
    assert!(matches!(
        train(&stop, LabeledData::new(x.view(), &y).unwrap(), None, None),
        Err(GbdtError::InvalidParameter { .. })
    ));
    let model = train(&params, LabeledData::new(x.view(), &y).unwrap(), None, None).unwrap().model;
    assert!(matches!(model.predict(narrow.view()), Err(GbdtError::BadInput { .. })));
    assert!(matches!(model.predict_row(&[1.0]), Err(GbdtError::BadInput { .. })));
    // Constant features and a constant label train (no split) without error.
    let constant = Array2::from_elem((30, 2), 1.0);
    let out = train(&params, LabeledData::new(constant.view(), &[3.0; 30]).unwrap(), None, None).unwrap();
    assert!(out.model.trees().is_empty() && out.history.stopped.is_some());
    assert_eq!(out.model.predict_row(&[1.0, 1.0]).unwrap(), 3.0);
}

#[test]
fn early_stopping_keeps_the_best_iteration() {
    let (x, y, xt, yt, _) = chu_table();
    // A large learning rate and many leaves overfit the 2000 rows quickly.
    let params = GbdtParams {
        num_leaves: 63,
        min_data_in_leaf: 2,
        learning_rate: 0.5,
        num_boost_round: 300,
        early_stopping_round: 10,
        metric: (&["l2", "l1"][..]).into(),
        ..GbdtParams::default()
    }
    .check()
    .unwrap();
    let out =
        train(&params, LabeledData::new(x.view(), &y).unwrap(), Some(LabeledData::new(xt.view(), &yt).unwrap()), None)
            .unwrap();
    let best = out.history.best_iteration.unwrap();
    assert!(out.history.iterations < 300, "never stopped");
    assert_eq!(out.model.trees().len(), best);
    assert_eq!(out.model.best_iteration(), Some(best));
    let l2 = out.history.curve("valid_0", Metric::L2).unwrap();
    let l1 = out.history.curve("valid_0", Metric::L1).unwrap();
    // Stopped when one watched metric had not improved for 10 rounds; best_iteration is that metric's best.
    let argmin = |c: &[f64]| c.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0 + 1;
    assert!(argmin(l2) == best || argmin(l1) == best, "best {best}, l2 {}, l1 {}", argmin(l2), argmin(l1));
    assert_eq!(out.history.iterations, best + 10);
    // The kept model gives the validation metric of its best iteration.
    let pred = out.model.predict(xt.view()).unwrap();
    let mse = pred.iter().zip(&yt).map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / yt.len() as f64;
    assert!((mse - l2[best - 1]).abs() < 1e-12, "{mse} vs {}", l2[best - 1]);
}

#[test]
fn deterministic_for_a_seed_whatever_the_thread_count() {
    let (x, y, _, _, _) = chu_table();
    let run = |seed: u64, threads: usize| {
        let p = GbdtParams {
            num_boost_round: 30,
            data_sample_strategy: DataSampleStrategy::Goss,
            feature_fraction: 0.7,
            learning_rate: 0.3,
            seed,
            num_threads: threads,
            bin_construct_sample_cnt: 1000,
            ..GbdtParams::default()
        };
        fit(p, &x, &y).to_json().unwrap()
    };
    let a = run(4, 1);
    // The saved parameters differ in num_threads only.
    assert_eq!(a, run(4, 1));
    assert_eq!(a.replace("\"num_threads\": 1", "\"num_threads\": 2"), run(4, 2));
    assert_ne!(a, run(5, 1));
}

#[test]
fn depth_limit_feature_fraction_and_objectives() {
    let (x, y, xt, yt, _) = chu_table();
    let model = fit(GbdtParams { num_leaves: 31, max_depth: 3, num_boost_round: 20, ..GbdtParams::default() }, &x, &y);
    assert!(model.trees().iter().all(|t| t.depth() <= 3 && t.num_leaves <= 8));
    let model = fit(GbdtParams { feature_fraction: 0.25, num_boost_round: 20, ..GbdtParams::default() }, &x, &y);
    for t in model.trees() {
        let mut used: Vec<usize> = t.split_feature.clone();
        used.sort_unstable();
        used.dedup();
        // round(10 * 0.25) = 3 features per tree (LightGBM's count: rounded, at least 2).
        assert!(used.len() <= 3, "{used:?}");
    }
    // L1 and Huber fit the table about as well as L2, and shrug off gross outliers in the labels.
    let mut y_out = y.clone();
    for v in y_out.iter_mut().step_by(50) {
        *v += 30.0;
    }
    let base = GbdtParams { num_leaves: 5, num_boost_round: 200, ..GbdtParams::default() };
    let l2 = rmse(&fit(base.clone(), &x, &y_out).predict(xt.view()).unwrap(), &yt);
    let l1 = rmse(
        &fit(GbdtParams { objective: Objective::RegressionL1, ..base.clone() }, &x, &y_out).predict(xt.view()).unwrap(),
        &yt,
    );
    let huber = rmse(
        &fit(GbdtParams { objective: Objective::Huber, alpha: 0.2, ..base.clone() }, &x, &y_out)
            .predict(xt.view())
            .unwrap(),
        &yt,
    );
    assert!(l1 < 0.5 * l2 && huber < 0.5 * l2, "l2 {l2}, l1 {l1}, huber {huber}");
    let clean = rmse(&fit(base, &x, &y).predict(xt.view()).unwrap(), &yt);
    assert!(l1 < 1.2 * clean, "l1 {l1} vs clean l2 {clean}");
    // Split-count importance counts every split.
    let splits: f64 = model.feature_importance(ImportanceType::Split).iter().sum();
    assert_eq!(splits as usize, model.trees().iter().map(|t| t.num_leaves - 1).sum::<usize>());
}
