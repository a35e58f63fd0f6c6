//! The papers' experiments: models trained on a dataset (`galmass train`, [`train`]), evaluated on every suite with
//! the classic estimators on the same projections (`galmass evaluate`, [`evaluate`]), and the report: tables, PNG
//! figures, `summary.json`, the papers' claims checked ([`claims`]) and their published values beside ours
//! ([`published`]).
//!
//! - the experiment files, `configs/experiments/<paper>{,-medium,-quick}.toml` ([`config`]);
//! - the dataset's rows in memory, selected by suite and split ([`data`]);
//! - the run folder: `RUN/run.json`, one folder per trained unit, checkpoints readable from Python ([`train`]);
//! - records with bootstrap bands over galaxies, TARP ([`evaluate`]); the rotation-curve baseline ([`rc_baseline`]);
//! - `REPORT/report.md`, `REPORT/tables/`, `REPORT/figures/`, `REPORT/summary.json` ([`figures`], [`report`]).
//!
//! ```no_run
//! use galmass_pipeline::experiment::{config::ExperimentConfig, evaluate_to, train::train_run};
//! let path = std::path::Path::new("configs/experiments/sarrato2025-quick.toml");
//! let config = ExperimentConfig::read(path)?;
//! let text = std::fs::read_to_string(path).unwrap();
//! train_run(&config, &text, "out/dataset".as_ref(), "out/run".as_ref())?;
//! let report = evaluate_to("out/run".as_ref(), None, "out/report".as_ref())?;
//! println!("{}", report.display());
//! # Ok::<(), galmass_pipeline::PipelineError>(())
//! ```

pub mod claims;
pub mod config;
pub mod data;
pub mod evaluate;
pub mod figures;
pub mod published;
pub mod rc_baseline;
pub mod report;
pub mod train;

use std::path::{Path, PathBuf};

pub use data::ExperimentData;

/// Evaluates the run in `run` (on its dataset, or `dataset`) and writes the report into `out`; returns the path of
/// `report.md`.
pub fn evaluate_to(run: &Path, dataset: Option<&Path>, out: &Path) -> Result<PathBuf, crate::PipelineError> {
    let evaluation = evaluate::evaluate_run(run, dataset)?;
    let data = ExperimentData::open(&evaluation.dataset)?;
    report::write_report(out, &evaluation, &data, run)
}
