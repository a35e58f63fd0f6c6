//! `galmass train` and `galmass evaluate` end to end, one tiny run per paper: a few synthetic galaxies, one epoch,
//! then the report: summary.json's records with their keys, report.md and every figure it links, and a resumed
//! `train` that keeps its units.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::path::{Path, PathBuf};
use std::process::Command;

fn galmass() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_galmass"));
    command.env("RUST_LOG", "warn").env("RAYON_NUM_THREADS", "2");
    command
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/experiments").join(name)
}

fn ok(args: &[&str]) -> String {
    let out = galmass().args(args).output().unwrap();
    assert!(out.status.success(), "galmass {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Builds, trains, evaluates; checks what every paper's report must hold; returns the summary and the report.
fn run_paper(paper: &str, root: &Path) -> (serde_json::Value, String) {
    let dataset = root.join("dataset");
    let run = root.join("run");
    let report = root.join("report");
    let dataset_config = data(&format!("{paper}-dataset.toml"));
    let experiment = data(&format!("{paper}-experiment.toml"));
    ok(&["dataset", "build", "--config", s(&dataset_config), "--out", s(&dataset)]);
    let text = ok(&["train", "--config", s(&experiment), "--dataset", s(&dataset), "--out", s(&run)]);
    assert!(text.contains("units"), "{text}");
    let run_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["complete"], true);
    let units = run_json["units"].as_array().unwrap();
    assert!(!units.is_empty());
    // Resuming keeps every unit (its unit.json is not rewritten).
    let first = run.join("units").join(units[0]["id"].as_str().unwrap()).join("unit.json");
    let before = std::fs::metadata(&first).unwrap().modified().unwrap();
    ok(&["train", "--config", s(&experiment), "--dataset", s(&dataset), "--out", s(&run)]);
    assert_eq!(std::fs::metadata(&first).unwrap().modified().unwrap(), before, "a trained unit was trained again");
    ok(&["evaluate", "--run", s(&run), "--out", s(&report)]);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
    let records = summary["records"].as_array().unwrap();
    assert!(!records.is_empty(), "no records");
    for r in records {
        for key in [
            "paper",
            "model",
            "train_suite",
            "test_suite",
            "target",
            "radius_over_rh",
            "median_ratio",
            "p16_ratio",
            "p84_ratio",
            "scatter_dex",
            "scatter_band_dex",
            "rmse_dex",
        ] {
            assert!(r.get(key).is_some(), "record without {key}: {r}");
        }
        assert_eq!(r["paper"], paper);
        let band = r["scatter_band_dex"].as_array().unwrap();
        assert_eq!(band.len(), 2);
        let (lo, hi) = (band[0].as_f64().unwrap(), band[1].as_f64().unwrap());
        assert!(lo <= hi, "{r}");
        let (p16, p84) = (r["p16_ratio"].as_f64().unwrap(), r["p84_ratio"].as_f64().unwrap());
        assert!(p16 <= r["median_ratio"].as_f64().unwrap() && r["median_ratio"].as_f64().unwrap() <= p84, "{r}");
        if r["estimate"] == "posterior-median" && r["subset"].is_null() {
            assert!(r["tarp_max_dev"].as_f64().is_some(), "posterior record without TARP: {r}");
            assert_eq!(r["tarp_band"].as_array().unwrap().len(), 2);
        }
    }
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("## The papers' claims, checked"), "{md}");
    assert!(md.contains("## Published values next to ours"), "{md}");
    let mut n_figures = 0;
    for link in md.split("](").skip(1) {
        let file = &link[..link.find(')').unwrap()];
        if file.ends_with(".png") {
            let bytes = std::fs::read(report.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{file}");
            n_figures += 1;
        }
    }
    assert!(n_figures >= 2, "{n_figures} figures in {md}");
    assert!(report.join("tables/records.csv").exists());
    (summary, md)
}

fn records<'a>(summary: &'a serde_json::Value, model: &str) -> Vec<&'a serde_json::Value> {
    summary["records"].as_array().unwrap().iter().filter(|r| r["model"] == model).collect()
}

#[test]
fn sarrato2025_cnn_maf_cross_suite_and_classic_estimators() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, _) = run_paper("sarrato2025", dir.path());
    let flow = records(&summary, "cnn+maf");
    // Two training sets, each tested on all three suites, three radii each.
    assert_eq!(flow.len(), 2 * 3 * 3, "{flow:?}");
    assert!(flow.iter().any(|r| r["train_suite"] == "nihao-like" && r["test_suite"] == "fire-like"));
    assert!(flow.iter().all(|r| r["radius_over_rh"].as_f64().is_some()));
    assert!(!records(&summary, "cnn+maf:point").is_empty());
    let classic: Vec<_> =
        summary["records"].as_array().unwrap().iter().filter(|r| r["train_suite"] == "none").collect();
    assert!(classic.iter().any(|r| r["model"] == "wolf"), "{classic:?}");
}

#[test]
fn exposito2026_star_gas_and_stargas() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, md) = run_paper("exposito2026", dir.path());
    for model in ["star", "gas", "stargas"] {
        assert!(!records(&summary, model).is_empty(), "no {model} records");
    }
    assert!(md.contains("StarGas scatter below"), "{md}");
    let subsets: Vec<_> = summary["records"].as_array().unwrap().iter().filter_map(|r| r["subset"].as_str()).collect();
    for label in ["inclination:0-30", "inclination:60-90", "mass:low", "mass:high"] {
        assert!(subsets.contains(&label), "no {label} records");
    }
}

#[test]
fn chu2024_cnn_resolution_and_gbdt() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, md) = run_paper("chu2024", dir.path());
    assert!(!records(&summary, "cnn:r/2").is_empty());
    let gbdt = records(&summary, "gbdt");
    assert!(gbdt.iter().any(|r| r["target"] == "log10_mstar"), "{gbdt:?}");
    let importance = summary["gbdt_gain_importance"].as_object().unwrap();
    assert_eq!(importance.len(), 2, "{importance:?}");
    assert!(md.contains("GBDT gain importance"), "{md}");
}

#[test]
fn delosrios2023_networks_on_128_pixel_stacks_with_smoothgrad() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, md) = run_paper("delosrios2023", dir.path());
    let c = records(&summary, "net-c");
    assert!(c.iter().all(|r| r["radius_over_rh"].is_null() && r["radius_kpc"].as_f64().is_some()), "{c:?}");
    assert!(!records(&summary, "net-c:hi").is_empty());
    assert!(md.contains("SmoothGrad"), "{md}");
    let tf = records(&summary, "tully_fisher");
    assert!(tf.iter().any(|r| r["target"] == "v_rot_2rhsm" && r["median_ratio"].as_f64().unwrap() > 0.0), "{tf:?}");
}
