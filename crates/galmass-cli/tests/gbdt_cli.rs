//! End-to-end checks of `galmass gbdt train` and `galmass gbdt predict` on the chu2024-like table of
//! galmass-estimators' test data, with the chu2024 preset.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::PathBuf;
use std::process::Command;

use galmass_estimators::gbdt::{GbdtModel, Table};

fn galmass() -> Command {
    Command::new(env!("CARGO_BIN_EXE_galmass"))
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

fn table(name: &str) -> PathBuf {
    repo("crates/galmass-estimators/test_data").join(name)
}

#[test]
fn gbdt_train_then_predict_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("model.json");
    let history_path = dir.path().join("history.json");
    let out = galmass()
        .args(["gbdt", "train", "--target", "log_mstar", "--log-period", "100"])
        .arg("--table")
        .arg(table("gbdt_train.csv"))
        .arg("--valid")
        .arg(table("gbdt_test.csv"))
        .arg("--config")
        .arg(repo("configs/gbdt/chu2024.toml"))
        .arg("--out")
        .arg(&model_path)
        .arg("--history")
        .arg(&history_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // Loss curves (training and validation, MAE and MSE), final validation metrics, gain table.
    for needle in [
        "training l1",
        "training l2",
        "valid_0 l1",
        "valid_0 l2",
        "validation l2:",
        "sigma_v",
        "gain",
        "trained 500 trees",
    ] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
    assert!(stdout.lines().any(|l| l.trim_start().starts_with("500 ")), "{stdout}");
    let history: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&history_path).unwrap()).unwrap();
    assert_eq!(history["curves"].as_array().unwrap().len(), 4);
    assert_eq!(history["curves"][0]["values"].as_array().unwrap().len(), 500);

    // Predict to stdout: the table plus a last `prediction` column equal to the library's predictions.
    let out = galmass()
        .args(["gbdt", "predict"])
        .arg("--model")
        .arg(&model_path)
        .arg("--table")
        .arg(table("gbdt_test.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let written = Table::parse(&text, "stdout").unwrap();
    let input = Table::read(&table("gbdt_test.csv")).unwrap();
    assert_eq!(written.columns().last().unwrap(), "prediction");
    assert_eq!(&written.columns()[..written.columns().len() - 1], input.columns());
    assert_eq!(written.num_rows(), input.num_rows());
    let model = GbdtModel::load(&model_path).unwrap();
    let (x, _) = input.select(model.feature_names()).unwrap();
    let expected = model.predict(x.view()).unwrap();
    let got = written.column("prediction").unwrap();
    assert!(got.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()), "printed predictions differ");
    // ...and to a file.
    let pred_path = dir.path().join("pred.csv");
    let out = galmass()
        .args(["gbdt", "predict"])
        .arg("--model")
        .arg(&model_path)
        .arg("--table")
        .arg(table("gbdt_test.csv"))
        .arg("--out")
        .arg(&pred_path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&pred_path).unwrap(), text);
}

#[test]
fn gbdt_reports_bad_tables_configs_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let bad_csv = dir.path().join("bad.csv");
    std::fs::write(&bad_csv, "a,b,y\n1,2,3\n4,oops,6\n").unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "num_leaves = 5\n").unwrap();
    let run = |table: &PathBuf, config: &PathBuf, target: &str| {
        galmass()
            .args(["gbdt", "train", "--target", target])
            .arg("--table")
            .arg(table)
            .arg("--config")
            .arg(config)
            .arg("--out")
            .arg(dir.path().join("m.json"))
            .output()
            .unwrap()
    };
    let out = run(&bad_csv, &config, "y");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("bad.csv") && err.contains("line 3") && err.contains("column 2"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let bad_config = dir.path().join("bad.toml");
    std::fs::write(&bad_config, "num_leafs = 5\n").unwrap();
    let out = run(&table("gbdt_train.csv"), &bad_config, "log_mstar");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("num_leafs"), "{err}");

    let out = run(&table("gbdt_train.csv"), &config, "no_such_column");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("no_such_column"), "{err}");

    let out = galmass()
        .args(["gbdt", "predict", "--model"])
        .arg(dir.path().join("missing.json"))
        .arg("--table")
        .arg(table("gbdt_test.csv"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("missing.json"), "{err}");
}
