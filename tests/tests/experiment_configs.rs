//! The experiment configs `configs/experiments/<paper>{,-medium,-quick}.toml`
//! (galmass_pipeline::experiment::config::ExperimentConfig): each parses, follows the paper of the dataset config
//! of the same name, names only targets, maps, scalars and suites that dataset has, and the CPU-sized variants run
//! the same models as the full config.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test by panicking

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galmass_pipeline::dataset::config::DatasetConfig;
use galmass_pipeline::experiment::config::{ExperimentConfig, PAPERS};

fn configs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs")
}

fn experiments() -> BTreeMap<String, ExperimentConfig> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(configs_dir().join("experiments")).expect("configs/experiments/ exists") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("toml") {
            let config = ExperimentConfig::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.insert(path.file_stem().unwrap().to_str().unwrap().to_owned(), config);
        }
    }
    out
}

#[test]
fn every_paper_has_an_experiment_at_every_scale() {
    let all = experiments();
    for paper in PAPERS {
        for stem in [paper.to_string(), format!("{paper}-medium"), format!("{paper}-quick")] {
            let c = all.get(&stem).unwrap_or_else(|| panic!("no configs/experiments/{stem}.toml"));
            assert_eq!(c.paper, paper, "{stem}");
            assert_eq!(c.name, stem, "{stem}: name");
        }
    }
}

#[test]
fn experiments_name_only_what_their_datasets_hold() {
    for (stem, c) in experiments() {
        let dataset = DatasetConfig::read(&configs_dir().join(format!("{stem}.toml")))
            .unwrap_or_else(|e| panic!("configs/{stem}.toml: {e}"));
        assert_eq!(dataset.paper, c.paper, "{stem}");
        let suites: Vec<&str> = dataset.suites.iter().map(|s| s.name()).collect();
        let maps = dataset.inputs.names();
        let targets: Vec<&str> = dataset.targets.iter().map(|t| t.name.as_str()).collect();
        for h in &c.held_out {
            assert!(suites.contains(&h.as_str()), "{stem}: held_out {h} is not a suite of the dataset ({suites:?})");
        }
        for m in &c.models {
            for t in &m.targets {
                assert!(targets.contains(&t.as_str()), "{stem}: model {}: target {t} not in {targets:?}", m.name);
            }
            for i in m.inputs.iter().flatten() {
                assert!(maps.contains(i), "{stem}: model {}: input {i} not in {maps:?}", m.name);
            }
            for s in m.scalars.iter().flatten() {
                assert!(
                    dataset.scalars.contains(s),
                    "{stem}: model {}: scalar {s} not in {:?}",
                    m.name,
                    dataset.scalars
                );
            }
            for set in &m.train_on {
                for s in set {
                    assert!(suites.contains(&s.as_str()), "{stem}: model {}: train_on {s} not in {suites:?}", m.name);
                }
            }
        }
    }
}

#[test]
fn medium_and_quick_experiments_run_the_full_models() {
    let all = experiments();
    let shape = |c: &ExperimentConfig| -> Vec<String> {
        c.models
            .iter()
            .map(|m| {
                format!(
                    "{} {:?} {:?} {:?} {:?} {} {}",
                    m.name, m.kind, m.arch, m.inputs, m.targets, m.flow, m.downsample
                )
            })
            .collect()
    };
    for paper in PAPERS {
        let full = &all[paper];
        for variant in ["medium", "quick"] {
            let c = &all[&format!("{paper}-{variant}")];
            assert_eq!(shape(c), shape(full), "{paper}-{variant}: models differ from the full config's");
            assert_eq!(c.evaluation.subsets, full.evaluation.subsets, "{paper}-{variant}: subsets");
        }
    }
}
