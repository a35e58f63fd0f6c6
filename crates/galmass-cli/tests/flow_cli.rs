//! End-to-end checks of `galmass flow train`, `galmass flow sample` and `galmass flow log-prob` on a small generated
//! table: the files written, the column contract, and bad tables refused with the file and column named.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use galmass_estimators::gbdt::Table;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn galmass() -> Command {
    Command::new(env!("CARGO_BIN_EXE_galmass"))
}

/// y1 = x1 + x2 + noise, y2 = x1 x3 + noise: 400 rows, a `label` column no model uses.
fn write_table(path: &Path, n: usize, seed: u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut text = String::from("x1,x2,label,x3,y1,y2\n");
    for i in 0..n {
        let (x1, x2, x3): (f64, f64, f64) =
            (rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0));
        let y1 = x1 + x2 + 0.1 * rng.random_range(-1.0..1.0);
        let y2 = x1 * x3 + 0.1 * rng.random_range(-1.0..1.0);
        text.push_str(&format!("{x1},{x2},{i},{x3},{y1},{y2}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn train(table: &Path, out: &Path, extra: &[&str]) -> Output {
    galmass()
        .args(["flow", "train", "--targets", "y1,y2", "--context", "x1,x2,x3"])
        .args(["--transforms", "2", "--hidden", "8", "--epochs", "3", "--batch-size", "64", "--lr", "1e-3"])
        .args(extra)
        .arg("--table")
        .arg(table)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

fn failure(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "succeeded: {}", String::from_utf8_lossy(&out.stdout));
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn flow_train_sample_and_log_prob_follow_the_column_contract() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("train.csv");
    write_table(&table, 400, 1);
    let model = dir.path().join("model");
    let stdout = ok(&train(&table, &model, &["--seed", "3"]));
    for needle in ["360 training rows, 40 validation rows", "member 0: 3 epochs", "checkpoint written to"] {
        assert!(stdout.contains(needle), "missing `{needle}` in:\n{stdout}");
    }
    for file in ["model.json", "model.safetensors", "loss.csv"] {
        assert!(model.join(file).is_file(), "{file} missing");
    }
    let loss = std::fs::read_to_string(model.join("loss.csv")).unwrap();
    assert!(loss.starts_with("epoch,train_loss,validation_loss,learning_rate\n") && loss.lines().count() == 4);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    assert_eq!(meta["architecture"], "maf");
    assert_eq!(meta["config"]["maf"]["n_transforms"], 2);
    assert_eq!(meta["target_normalisation"]["names"], serde_json::json!(["y1", "y2"]));

    // Samples: `row`, `sample`, then the targets; contexts may come with other columns in another order.
    let contexts = dir.path().join("contexts.csv");
    std::fs::write(&contexts, "x3,other,x2,x1\n0.5,9,0.1,-0.2\n-0.5,9,0.3,0.7\n0,9,0,0\n").unwrap();
    let samples_path = dir.path().join("samples.csv");
    let sample = |seed: &str| {
        galmass()
            .args(["flow", "sample", "--n-samples", "5", "--seed", seed])
            .arg("--model")
            .arg(&model)
            .arg("--table")
            .arg(&contexts)
            .arg("--out")
            .arg(&samples_path)
            .output()
            .unwrap()
    };
    ok(&sample("1"));
    let samples = Table::read(&samples_path).unwrap();
    assert_eq!(samples.columns(), ["row", "sample", "y1", "y2"]);
    assert_eq!(samples.num_rows(), 15);
    assert_eq!(samples.column("row").unwrap(), [0., 0., 0., 0., 0., 1., 1., 1., 1., 1., 2., 2., 2., 2., 2.]);
    assert_eq!(samples.column("sample").unwrap()[..6], [0., 1., 2., 3., 4., 0.]);
    assert!(samples.values().iter().all(|v| v.is_finite()));
    let first = std::fs::read_to_string(&samples_path).unwrap();
    ok(&sample("1"));
    assert_eq!(std::fs::read_to_string(&samples_path).unwrap(), first, "same seed, same samples");

    // Log-densities of the training rows: `row`, `log_prob`, one line per row.
    let logp_path = dir.path().join("logp.csv");
    ok(&galmass()
        .args(["flow", "log-prob"])
        .arg("--model")
        .arg(&model)
        .arg("--table")
        .arg(&table)
        .arg("--out")
        .arg(&logp_path)
        .output()
        .unwrap());
    let logp = Table::read(&logp_path).unwrap();
    assert_eq!(logp.columns(), ["row", "log_prob"]);
    assert_eq!(logp.num_rows(), 400);
    assert!(logp.column("log_prob").unwrap().iter().all(|v| v.is_finite()));

    // An ensemble: one checkpoint, loss curves per member.
    let ensemble = dir.path().join("ensemble");
    let stdout = ok(&train(&table, &ensemble, &["--ensemble", "2"]));
    assert!(stdout.contains("2 member(s)") && stdout.contains("member 1:"), "{stdout}");
    assert!(ensemble.join("loss_member0.csv").is_file() && ensemble.join("loss_member1.csv").is_file());
}

#[test]
fn flow_refuses_bad_tables_naming_the_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let write = |name: &str, text: &str| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let header = "x1,x2,x3,y1,y2\n";
    let missing = write("missing.csv", "x1,x2,y1,y2\n1,2,3,4\n5,6,7,8\n");
    let err = failure(&train(&missing, &out, &[]));
    assert!(err.contains("missing.csv") && err.contains("x3"), "{err}");
    let nan = write("nan.csv", &format!("{header}1,2,3,4,5\n1,2,3,nan,5\n1,2,3,4,5\n"));
    let err = failure(&train(&nan, &out, &[]));
    assert!(err.contains("nan.csv") && err.contains("data row 2") && err.contains("`y1`"), "{err}");
    let empty_cell = write("empty.csv", &format!("{header}1,2,3,4,5\n1,,3,4,5\n"));
    let err = failure(&train(&empty_cell, &out, &[]));
    assert!(err.contains("empty.csv") && err.contains("`x2`"), "{err}");
    let one_row = write("one.csv", &format!("{header}1,2,3,4,5\n"));
    let err = failure(&train(&one_row, &out, &[]));
    assert!(err.contains("one.csv") && err.contains("at least 2"), "{err}");
    let text = write("text.csv", &format!("{header}1,2,3,4,5\n1,2,x,4,5\n"));
    let err = failure(&train(&text, &out, &[]));
    assert!(err.contains("text.csv") && err.contains("x3"), "{err}");
    let err = failure(&train(&dir.path().join("absent.csv"), &out, &[]));
    assert!(err.contains("absent.csv"), "{err}");

    // A model, then contexts without one of its columns.
    let table = dir.path().join("train.csv");
    write_table(&table, 100, 2);
    ok(&train(&table, &out, &[]));
    let contexts = write("ctx.csv", "x1,x2\n0,0\n");
    let err = failure(
        &galmass()
            .args(["flow", "sample", "--n-samples", "2"])
            .arg("--model")
            .arg(&out)
            .arg("--table")
            .arg(&contexts)
            .arg("--out")
            .arg(dir.path().join("s.csv"))
            .output()
            .unwrap(),
    );
    assert!(err.contains("ctx.csv") && err.contains("x3"), "{err}");
    let err = failure(
        &galmass()
            .args(["flow", "log-prob"])
            .arg("--model")
            .arg(dir.path().join("no_model"))
            .arg("--table")
            .arg(&table)
            .arg("--out")
            .arg(dir.path().join("l.csv"))
            .output()
            .unwrap(),
    );
    assert!(err.contains("no_model"), "{err}");
}
