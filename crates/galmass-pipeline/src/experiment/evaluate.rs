//! `galmass evaluate`: every unit of a run tested on every suite of its dataset, the classic estimators on the same
//! projections, statistics with bootstrap bands over galaxies, tables, figures and `summary.json`.
//!
//! # What is tested where
//! A unit is tested on each suite: on the suite's `test` split when the unit trained on that suite, on all of its
//! projections otherwise (none of its galaxies was seen). The classic estimators are measured on each suite's
//! `test` split when some unit trained on it, on all of its projections otherwise, so that every comparison in a
//! suite uses the same projections. Projections whose targets or scalars are not finite are left out and counted.
//!
//! # Statistics (one record per model, training set, test suite, target and radius)
//! With `r = pred / true` per projection (pred: the posterior median for models with a flow head, the network's or
//! GBDT's output otherwise; the network's own output also gets a record named `<model>:point`): `median_ratio`,
//! `p16_ratio`, `p84_ratio`, `scatter_dex` (half the 16-84 width of `log10 r`), `rmse_dex`, `mae_dex` and
//! `bias_dex` (mean of `log10 r`), each with a band (`*_band`, `[lo, hi]`, the 68% interval of 1000 bootstrap
//! replicates resampling galaxies, all of a galaxy's projections together). Posteriors add TARP over all the
//! unit's target columns jointly (Lemos et al. 2023, random references): `tarp_max_dev` (the largest
//! `|ECP - alpha|`), `tarp_band` (its bootstrap interval over galaxies) and `tarp_diagonal_inside` (whether the
//! diagonal lies inside the ECP's bootstrap band at every level), and the marginal coverage of the central 68%
//! interval per column (`coverage_68`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galmass_core::params::Params;
use galmass_core::stats::{percentile_sorted, sort_finite};
use galmass_estimators::gbdt::{GbdtModel, ImportanceType};
use galmass_metrics::bootstrap::{bootstrap_by_group_many, BootstrapParams};
use galmass_metrics::tarp::{marginal_coverage, tarp_coverage, References, TarpParams};
use galmass_models::flow::Posterior;
use galmass_models::regressor::Regressor;
use galmass_models::ComputeDevice;
use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};

use super::config::ModelKind;
use super::data::{unique, ExperimentData};
use super::train::{column_slug, create_dir, write_json, RunRecord, UnitRecord};
use crate::dataset::reader::Split;
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

/// One row of `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The paper.
    pub paper: String,
    /// The model (`cnn+maf`, `star`, `gbdt`, `<model>:point`, or a classic estimator's name such as `wolf`).
    pub model: String,
    /// The training suites joined by `+` (`none` for the classic estimators).
    pub train_suite: String,
    /// The suite tested on.
    pub test_suite: String,
    /// The target (`log10_mtot`, ...).
    pub target: String,
    /// The radius in units of the projected half-light radius (`r_h`) or of the 3-D half-stellar-mass radius
    /// (`r_hsm`, see `radius_unit`); `null` for radii in kpc.
    pub radius_over_rh: Option<f64>,
    /// The radius in kpc where the target's radii are in kpc.
    pub radius_kpc: Option<f64>,
    /// `r_h`, `r_hsm`, `kpc`, or `estimator` (the estimator's own radius, median over projections in `r_h`).
    pub radius_unit: String,
    /// How the prediction is made: `posterior-median`, `network`, `gbdt` or `classic`.
    pub estimate: String,
    /// Median of pred/true.
    pub median_ratio: f64,
    /// Its bootstrap band.
    pub median_ratio_band: [f64; 2],
    /// 16th percentile of pred/true.
    pub p16_ratio: f64,
    /// 84th percentile of pred/true.
    pub p84_ratio: f64,
    /// Half the 16-84 width of log10(pred/true), dex.
    pub scatter_dex: f64,
    /// Its bootstrap band.
    pub scatter_band_dex: [f64; 2],
    /// Root mean square of log10(pred/true), dex.
    pub rmse_dex: f64,
    /// Its bootstrap band.
    pub rmse_band_dex: [f64; 2],
    /// Mean absolute log10(pred/true), dex.
    pub mae_dex: f64,
    /// Its bootstrap band.
    pub mae_band_dex: [f64; 2],
    /// Mean log10(pred/true), dex.
    pub bias_dex: f64,
    /// Its bootstrap band.
    pub bias_band_dex: [f64; 2],
    /// Projections measured.
    pub n_projections: usize,
    /// Galaxies they come from.
    pub n_galaxies: usize,
    /// TARP's largest |ECP - alpha| (posteriors).
    pub tarp_max_dev: Option<f64>,
    /// Its bootstrap band.
    pub tarp_band: Option<[f64; 2]>,
    /// Whether the diagonal is inside the ECP's 95% simultaneous band (bootstrapped over galaxies).
    pub tarp_diagonal_inside: Option<bool>,
    /// Fraction of truths inside the central 68% posterior interval of this column.
    pub coverage_68: Option<f64>,
    /// The subset of the test set measured (`inclination:0-30`, `mass:low`, `support:rotation`, ...; `null`: all).
    #[serde(default)]
    pub subset: Option<String>,
}

/// The measurements of one set of projections, before they become a [`Record`].
#[derive(Debug, Clone)]
pub struct Measured {
    /// log10 of the truth per projection.
    pub truth: Vec<f64>,
    /// log10 of the prediction per projection.
    pub pred: Vec<f64>,
    /// Galaxy of every projection.
    pub galaxy: Vec<u64>,
}

/// The seven statistics of `log10 r`: median, p16 and p84 of r, scatter, rmse, mae, bias.
fn statistics(logr: &mut [f64]) -> Vec<f64> {
    let n = logr.len() as f64;
    let rmse = (logr.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
    let mae = logr.iter().map(|v| v.abs()).sum::<f64>() / n;
    let bias = logr.iter().sum::<f64>() / n;
    let _ = sort_finite(logr);
    let p = |q: f64| percentile_sorted(logr, q).unwrap_or(f64::NAN);
    let (p16, p50, p84) = (p(16.0), p(50.0), p(84.0));
    vec![10f64.powf(p50), 10f64.powf(p16), 10f64.powf(p84), 0.5 * (p84 - p16), rmse, mae, bias]
}

/// Statistics of `m` with bootstrap bands; `None` when there is nothing to measure.
pub fn measure(m: &Measured, bootstrap: usize, seed: u64) -> Result<Option<[galmass_metrics::bootstrap::Band; 7]>> {
    let logr: Vec<f64> = m.pred.iter().zip(&m.truth).map(|(p, t)| p - t).collect();
    let keep: Vec<usize> = (0..logr.len()).filter(|&i| logr[i].is_finite()).collect();
    if keep.is_empty() {
        return Ok(None);
    }
    let logr: Vec<f64> = keep.iter().map(|&i| logr[i]).collect();
    let groups: Vec<u64> = keep.iter().map(|&i| m.galaxy[i]).collect();
    let params = BootstrapParams { n_bootstrap: bootstrap, ..BootstrapParams::new(seed) }.check()?;
    let mut scratch = Vec::with_capacity(logr.len());
    let bands = bootstrap_by_group_many(&groups, &params, 7, |idx| {
        scratch.clear();
        scratch.extend(idx.iter().map(|&i| logr[i]));
        Ok(statistics(&mut scratch))
    })?;
    Ok(bands.try_into().ok())
}

/// Identity of a record before its statistics.
#[derive(Debug, Clone)]
pub struct RecordKey {
    /// Paper.
    pub paper: String,
    /// Model.
    pub model: String,
    /// Training suites.
    pub train_suite: String,
    /// Test suite.
    pub test_suite: String,
    /// Target.
    pub target: String,
    /// Radius (in `radius_unit`).
    pub radius: Option<f64>,
    /// Radius unit.
    pub radius_unit: String,
    /// How the prediction is made.
    pub estimate: String,
}

/// A record from its key and measurements (`None` when nothing is finite).
pub fn record(key: &RecordKey, m: &Measured, bootstrap: usize, seed: u64) -> Result<Option<Record>> {
    let Some(b) = measure(m, bootstrap, seed)? else { return Ok(None) };
    let band = |i: usize| [b[i].low, b[i].high];
    let finite: Vec<usize> = (0..m.pred.len()).filter(|&i| (m.pred[i] - m.truth[i]).is_finite()).collect();
    let in_kpc = key.radius_unit == "kpc";
    Ok(Some(Record {
        paper: key.paper.clone(),
        model: key.model.clone(),
        train_suite: key.train_suite.clone(),
        test_suite: key.test_suite.clone(),
        target: key.target.clone(),
        radius_over_rh: if in_kpc { None } else { key.radius },
        radius_kpc: if in_kpc { key.radius } else { None },
        radius_unit: key.radius_unit.clone(),
        estimate: key.estimate.clone(),
        median_ratio: b[0].value,
        median_ratio_band: band(0),
        p16_ratio: b[1].value,
        p84_ratio: b[2].value,
        scatter_dex: b[3].value,
        scatter_band_dex: band(3),
        rmse_dex: b[4].value,
        rmse_band_dex: band(4),
        mae_dex: b[5].value,
        mae_band_dex: band(5),
        bias_dex: b[6].value,
        bias_band_dex: band(6),
        n_projections: finite.len(),
        n_galaxies: unique(&finite.iter().map(|&i| m.galaxy[i].to_string()).collect::<Vec<_>>()).len(),
        tarp_max_dev: None,
        tarp_band: None,
        tarp_diagonal_inside: None,
        coverage_68: None,
        subset: None,
    }))
}

/// The subsets of a test set's rows (local indices) by `how`; empty when the dataset cannot say.
pub fn subsets(
    data: &ExperimentData,
    rows: &[usize],
    truth: &Array2<f64>,
    how: super::config::Subset,
) -> Result<Vec<(String, Vec<usize>)>> {
    use super::config::Subset;
    let mut out = Vec::new();
    match how {
        Subset::Inclination => {
            let config = crate::dataset::config::DatasetConfig::from_toml(&data.file.provenance().config, "dataset")?;
            let galmass_core::geometry::DirectionSet::InclinationSeries { n, min_deg, max_deg, .. } =
                config.projections
            else {
                return Ok(out);
            };
            let index = data.file.projection_index()?;
            let step = if n > 1 { (max_deg - min_deg) / (n - 1) as f64 } else { 0.0 };
            for (lo, hi) in [(0.0, 30.0), (30.0, 60.0), (60.0, 90.01)] {
                let pick: Vec<usize> = (0..rows.len())
                    .filter(|&k| {
                        let inc = min_deg + step * index[rows[k]] as f64;
                        inc >= lo && inc < hi
                    })
                    .collect();
                out.push((format!("inclination:{lo:.0}-{:.0}", hi.min(90.0)), pick));
            }
        }
        Subset::Mass => {
            if truth.ncols() == 0 {
                return Ok(out);
            }
            let col: Vec<f64> = truth.column(truth.ncols() / 2).to_vec();
            let mut sorted = col.clone();
            let _ = sort_finite(&mut sorted);
            let Some(median) = percentile_sorted(&sorted, 50.0) else { return Ok(out) };
            out.push(("mass:low".into(), (0..rows.len()).filter(|&k| col[k] < median).collect()));
            out.push(("mass:high".into(), (0..rows.len()).filter(|&k| col[k] >= median).collect()));
        }
        Subset::KinematicSupport => {
            let names = data.file.scalars();
            if !(names.iter().any(|n| n == "v_cold") && names.iter().any(|n| n == "sigma_cold")) {
                return Ok(out);
            }
            let v = data.scalars(&["v_cold".into(), "sigma_cold".into()], rows)?;
            let ratio: Vec<f64> = v.outer_iter().map(|r| r[0] / r[1]).collect();
            out.push(("support:rotation".into(), (0..rows.len()).filter(|&k| ratio[k] > 1.0).collect()));
            out.push(("support:dispersion".into(), (0..rows.len()).filter(|&k| ratio[k] <= 1.0).collect()));
        }
    }
    Ok(out)
}

/// TARP of posterior `samples` `(n_samples, n, D)` against `theta` `(n, D)`: the largest deviation, its bootstrap
/// band over galaxies, whether the diagonal is inside the ECP band, and the curve (alpha, ECP, low, high).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TarpSummary {
    /// Largest |ECP - alpha|.
    pub max_dev: f64,
    /// Its 68% bootstrap interval over galaxies (the percentile interval: the largest of noisy deviations grows
    /// under resampling, so the interval can sit above the full-sample value).
    pub band: [f64; 2],
    /// The diagonal inside the ECP's 95% simultaneous band (bootstrapped over galaxies).
    pub diagonal_inside: bool,
    /// Credibility levels.
    pub alpha: Vec<f64>,
    /// Expected coverage probability.
    pub ecp: Vec<f64>,
    /// The ECP's 95% simultaneous band, low.
    pub ecp_low: Vec<f64>,
    /// The ECP's 95% simultaneous band, high.
    pub ecp_high: Vec<f64>,
}

/// TARP with bands; samples `(n_samples, n, D)`.
pub fn tarp_summary(
    samples: &Array3<f64>,
    theta: &Array2<f64>,
    galaxy: &[u64],
    bootstrap: usize,
    seed: u64,
) -> Result<TarpSummary> {
    // tarp's default is n / 10 bins; small test sets get at least 2.
    let n_bins = (theta.nrows() / 10).clamp(2, 100);
    let params = TarpParams { num_alpha_bins: Some(n_bins), ..TarpParams::default() }.check()?;
    let boot = BootstrapParams { n_bootstrap: bootstrap, ..BootstrapParams::new(seed) }.check()?;
    let refs = References::UniformRandom { seed };
    let full = tarp_coverage(samples.view(), theta.view(), refs, &params)?;
    let cred = full.credibility;
    let alpha = full.alpha;
    // ECP(alpha) = fraction of credibilities below alpha (all of them at alpha = 1), tarp's cumulative histogram:
    // each projection's first level above its credibility, counted once per replicate and summed cumulatively.
    let first_level: Vec<usize> = cred
        .iter()
        .map(|c| {
            let k = alpha.partition_point(|a| a <= c);
            if k == alpha.len() && *c <= 1.0 && alpha.last().is_some_and(|a| *a >= 1.0) {
                alpha.len() - 1
            } else {
                k
            }
        })
        .collect();
    let ecp_of = |idx: &[usize]| -> Vec<f64> {
        let mut counts = vec![0usize; alpha.len() + 1];
        for &i in idx {
            counts[first_level[i]] += 1;
        }
        let n = idx.len().max(1) as f64;
        let mut running = 0usize;
        counts[..alpha.len()]
            .iter()
            .map(|c| {
                running += c;
                running as f64 / n
            })
            .collect()
    };
    let max_dev = |ecp: &[f64]| ecp.iter().zip(&alpha).map(|(e, a)| (e - a).abs()).fold(0.0, f64::max);
    let all: Vec<usize> = (0..cred.len()).collect();
    let ecp = ecp_of(&all);
    // Bands from resampled galaxies (a galaxy's projections are not independent draws). The largest deviation's
    // 68% percentile interval; and a simultaneous band for the whole curve, ECP +- c with c the 95th percentile of
    // the replicates' largest distance from the full-sample ECP (a Kolmogorov-style band: pointwise bands at
    // dozens of levels would miss the diagonal somewhere even for a calibrated posterior). The diagonal is inside
    // when the largest deviation from it is at most c.
    let dev_bands = bootstrap_by_group_many(galaxy, &boot, 1, |idx| Ok(vec![max_dev(&ecp_of(idx))]))?;
    let sup_params = BootstrapParams { n_bootstrap: bootstrap, confidence: 0.9, seed }.check()?;
    let sup = bootstrap_by_group_many(galaxy, &sup_params, 1, |idx| {
        let e = ecp_of(idx);
        Ok(vec![e.iter().zip(&ecp).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)])
    })?;
    let c = sup[0].high;
    let ecp_low: Vec<f64> = ecp.iter().map(|e| (e - c).max(0.0)).collect();
    let ecp_high: Vec<f64> = ecp.iter().map(|e| (e + c).min(1.0)).collect();
    let dev = dev_bands[0];
    let diagonal_inside = max_dev(&ecp) <= c + 1e-12;
    Ok(TarpSummary {
        max_dev: max_dev(&ecp),
        band: [dev.low, dev.high],
        diagonal_inside,
        alpha,
        ecp,
        ecp_low,
        ecp_high,
    })
}

/// What one unit predicted on one test suite (kept for the figures).
#[derive(Debug, Clone)]
pub struct UnitResult {
    /// The unit.
    pub unit: UnitRecord,
    /// The suite tested on.
    pub test_suite: String,
    /// Dataset rows tested.
    pub rows: Vec<usize>,
    /// Truth `(n, D)`, log10.
    pub truth: Array2<f64>,
    /// Point predictions `(n, D)` (posterior medians with a flow).
    pub pred: Array2<f64>,
    /// Posterior 16th and 84th percentiles per projection and column, with a flow.
    pub interval: Option<(Array2<f64>, Array2<f64>)>,
    /// TARP, with a flow.
    pub tarp: Option<TarpSummary>,
    /// Marginal coverage `(D, levels)` at [`COVERAGE_LEVELS`], with a flow.
    pub coverage: Option<Array2<f64>>,
}

/// Credibility levels of the marginal coverage curves.
pub const COVERAGE_LEVELS: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.68, 0.8, 0.9];

/// Everything an evaluation produced.
#[derive(Debug)]
pub struct Evaluation {
    /// The run.
    pub run: RunRecord,
    /// The dataset folder used.
    pub dataset: PathBuf,
    /// Every record.
    pub records: Vec<Record>,
    /// Per unit and test suite.
    pub results: Vec<UnitResult>,
    /// GBDT gain importance per unit id and column: (feature, gain), sorted by gain.
    pub importance: BTreeMap<String, Vec<(String, f64)>>,
    /// Projections left out per suite for non-finite values.
    pub dropped: BTreeMap<String, usize>,
    /// What the rotation-curve baseline did, when the evaluation ran it.
    pub rotation_curve: Option<super::rc_baseline::RcBaselineSummary>,
}

/// The target and radius of an output column `<target>@<radius>`.
fn split_column(column: &str) -> (String, Option<f64>) {
    match column.rsplit_once('@') {
        Some((t, r)) => (t.to_string(), r.parse().ok()),
        None => (column.to_string(), None),
    }
}

/// The rows each suite is tested on for a unit trained on `train_suites`.
pub fn test_rows(data: &ExperimentData, suite: &str, trained_on_suite: bool) -> Vec<usize> {
    let splits: &[Split] =
        if trained_on_suite { &[Split::Test] } else { &[Split::Train, Split::Validation, Split::Test] };
    data.rows(&[suite.to_string()], splits)
}

/// Evaluates the run in `run_dir` on its dataset (or `dataset`).
pub fn evaluate_run(run_dir: &Path, dataset: Option<&Path>) -> Result<Evaluation> {
    let run = RunRecord::read(run_dir)?;
    let dataset_dir = dataset.map(Path::to_path_buf).unwrap_or_else(|| run.dataset.clone());
    let data = ExperimentData::open(&dataset_dir)?;
    if data.file.provenance().recipe_hash != run.dataset_recipe_hash {
        return Err(PipelineError::invalid(
            dataset_dir.display().to_string(),
            format!(
                "recipe hash {} differs from the one the run was trained on ({})",
                data.file.provenance().recipe_hash,
                run.dataset_recipe_hash
            ),
        ));
    }
    let config = &run.experiment;
    let settings = config.evaluation.clone();
    let device = ComputeDevice::preferred();
    let suites = data.suites();
    let paper = config.paper.clone();
    let mut records = Vec::new();
    let mut results = Vec::new();
    let mut importance = BTreeMap::new();
    let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
    let target_infos: BTreeMap<String, crate::dataset::reader::TargetInfo> =
        data.file.targets().iter().map(|t| Ok((t.clone(), data.file.target_info(t)?))).collect::<Result<_>>()?;
    let unit_dir = |u: &UnitRecord| run_dir.join("units").join(&u.id);
    for unit in &run.units {
        tracing::info!("evaluating unit {}", unit.id);
        let dir = unit_dir(unit);
        let (net, posterior, gbdts) = match unit.kind {
            ModelKind::Network => {
                let (net, _) = Regressor::load(&dir.join("cnn"), device, None)?;
                let posterior = if unit.flow { Some(Posterior::load(&dir.join("flow"), device)?) } else { None };
                (Some(net), posterior, Vec::new())
            }
            ModelKind::Gbdt => {
                let mut models = Vec::new();
                for column in &unit.columns {
                    let path = dir.join(format!("gbdt-{}.json", column_slug(column)));
                    let text = std::fs::read_to_string(&path).map_err(|source| PipelineError::Io {
                        path: path.clone(),
                        context: "cannot read the GBDT model".into(),
                        source,
                    })?;
                    let model = GbdtModel::from_json(&text, &path.display().to_string())?;
                    let mut gains: Vec<(String, f64)> = model
                        .feature_names()
                        .iter()
                        .cloned()
                        .zip(model.feature_importance(ImportanceType::Gain))
                        .collect();
                    gains.sort_by(|a, b| b.1.total_cmp(&a.1));
                    importance.insert(format!("{}/{column}", unit.id), gains);
                    models.push(model);
                }
                (None, None, models)
            }
        };
        for suite in &suites {
            let trained_here = unit.train_suites.contains(suite);
            let candidates = test_rows(&data, suite, trained_here);
            let rows = data.finite_rows(&candidates, &unit.targets, &unit.scalars)?;
            *dropped.entry(suite.clone()).or_default() += candidates.len() - rows.len();
            if rows.is_empty() {
                tracing::warn!("unit {}: no test projections in {suite}", unit.id);
                continue;
            }
            let (truth, columns) = data.targets(&unit.targets, &rows)?;
            let mut interval = None;
            let mut tarp = None;
            let mut coverage = None;
            let mut point = None;
            let pred: Array2<f64> = match unit.kind {
                ModelKind::Network => {
                    let source = data.source(
                        &rows,
                        &unit.maps,
                        &unit.map_scaling,
                        unit.downsample,
                        &unit.scalars,
                        &unit.targets,
                    )?;
                    let net = net.as_ref().ok_or_else(|| PipelineError::invalid("unit", "no network"))?;
                    let out = net.predict(&source)?.mapv(f64::from);
                    if let Some(posterior) = &posterior {
                        let context = net.features(&source)?;
                        let samples = posterior.sample(context.view(), settings.posterior_samples, config.seed)?;
                        // (n, S, D) -> (S, n, D), float64.
                        let samples = samples.permuted_axes([1, 0, 2]).mapv(f64::from);
                        let q = |p: f64| {
                            samples.map_axis(Axis(0), |lane| {
                                let mut v = lane.to_vec();
                                let _ = sort_finite(&mut v);
                                percentile_sorted(&v, p).unwrap_or(f64::NAN)
                            })
                        };
                        let median = q(50.0);
                        interval = Some((q(16.0), q(84.0)));
                        let galaxy: Vec<u64> = rows.iter().map(|&r| data.galaxy_id[r]).collect();
                        tarp = Some(tarp_summary(&samples, &truth, &galaxy, settings.bootstrap, config.seed)?);
                        coverage = Some(marginal_coverage(samples.view(), truth.view(), &COVERAGE_LEVELS)?);
                        point = Some(out);
                        median
                    } else {
                        out
                    }
                }
                ModelKind::Gbdt => {
                    let x = data.scalars(&unit.scalars, &rows)?;
                    let mut pred = Array2::zeros((rows.len(), gbdts.len()));
                    for (j, model) in gbdts.iter().enumerate() {
                        for (i, v) in model.predict(x.view())?.into_iter().enumerate() {
                            pred[[i, j]] = v;
                        }
                    }
                    pred
                }
            };
            let galaxy: Vec<u64> = rows.iter().map(|&r| data.galaxy_id[r]).collect();
            let estimate = match (unit.kind, unit.flow) {
                (ModelKind::Gbdt, _) => "gbdt",
                (_, true) => "posterior-median",
                (_, false) => "network",
            };
            let mut variants = vec![(unit.model.clone(), estimate, &pred)];
            if let Some(p) = &point {
                variants.push((format!("{}:point", unit.model), "network", p));
            }
            // The key of output column `j` of `model` made by `estimate`.
            let column_key = |model: &str, estimate: &str, j: usize| {
                let (target, radius) = split_column(&columns[j]);
                let radius_unit = target_infos.get(&target).map_or("r_h".to_string(), |i| i.radius_unit.clone());
                RecordKey {
                    paper: paper.clone(),
                    model: model.to_string(),
                    train_suite: unit.train_suites.join("+"),
                    test_suite: suite.clone(),
                    target,
                    radius,
                    radius_unit,
                    estimate: estimate.to_string(),
                }
            };
            for (model, estimate, values) in variants {
                for j in 0..columns.len() {
                    let key = column_key(&model, estimate, j);
                    let m = Measured {
                        truth: truth.column(j).to_vec(),
                        pred: values.column(j).to_vec(),
                        galaxy: galaxy.clone(),
                    };
                    if let Some(mut r) = record(&key, &m, settings.bootstrap, config.seed)? {
                        if estimate == "posterior-median" {
                            if let Some(t) = &tarp {
                                r.tarp_max_dev = Some(t.max_dev);
                                r.tarp_band = Some(t.band);
                                r.tarp_diagonal_inside = Some(t.diagonal_inside);
                            }
                            if let Some(c) = &coverage {
                                let k68 = COVERAGE_LEVELS.iter().position(|&a| a == 0.68).unwrap_or(0);
                                r.coverage_68 = Some(c[[j, k68]]);
                            }
                        }
                        records.push(r);
                    }
                }
            }
            let mut cuts = Vec::new();
            for how in &settings.subsets {
                cuts.extend(subsets(&data, &rows, &truth, *how)?);
            }
            for (label, local) in cuts.iter().filter(|(_, l)| !l.is_empty()) {
                for j in 0..columns.len() {
                    let key = column_key(&unit.model, estimate, j);
                    let m = Measured {
                        truth: local.iter().map(|&k| truth[[k, j]]).collect(),
                        pred: local.iter().map(|&k| pred[[k, j]]).collect(),
                        galaxy: local.iter().map(|&k| galaxy[k]).collect(),
                    };
                    if let Some(mut r) = record(&key, &m, settings.bootstrap, config.seed)? {
                        r.subset = Some(label.clone());
                        records.push(r);
                    }
                }
            }
            results.push(UnitResult {
                unit: unit.clone(),
                test_suite: suite.clone(),
                rows,
                truth,
                pred,
                interval,
                tarp,
                coverage,
            });
        }
    }
    records.extend(classic_records(&data, &run, &paper, settings.bootstrap, config.seed)?);
    if settings.tully_fisher {
        records.extend(tully_fisher_records(&data, &run, &paper, settings.bootstrap, config.seed)?);
    }
    let rotation_curve = if settings.rotation_curve {
        let (rc, summary) = super::rc_baseline::rotation_curve_records(&data, &run, &paper, &settings, config.seed)?;
        records.extend(rc);
        Some(summary)
    } else {
        None
    };
    Ok(Evaluation { run, dataset: dataset_dir, records, results, importance, dropped, rotation_curve })
}

/// The rows the classic estimators are measured on in `suite` (see the module docs).
pub fn classic_rows(data: &ExperimentData, run: &RunRecord, suite: &str) -> Vec<usize> {
    let trained = run.units.iter().any(|u| u.train_suites.iter().any(|s| s == suite));
    test_rows(data, suite, trained)
}

/// One record per classic estimator and suite: its mass against the true mass within its own radius.
fn classic_records(
    data: &ExperimentData,
    run: &RunRecord,
    paper: &str,
    bootstrap: usize,
    seed: u64,
) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    let names = data.file.estimators()?;
    for suite in data.suites() {
        let rows = classic_rows(data, run, &suite);
        for name in &names {
            let cols = data.file.estimator(name)?;
            let (mut truth, mut pred, mut galaxy, mut radius) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for &r in &rows {
                let (m, t, rad) = (cols.mass_msun[r], cols.true_mass_msun[r], cols.radius_kpc[r]);
                if m > 0.0 && t > 0.0 && m.is_finite() && t.is_finite() && rad.is_finite() {
                    pred.push(m.log10());
                    truth.push(t.log10());
                    galaxy.push(data.galaxy_id[r]);
                    radius.push(rad / data.r_h_kpc[r]);
                }
            }
            if pred.is_empty() {
                continue;
            }
            let _ = sort_finite(&mut radius);
            let key = RecordKey {
                paper: paper.to_string(),
                model: name.clone(),
                train_suite: "none".into(),
                test_suite: suite.clone(),
                target: "log10_mtot".into(),
                radius: percentile_sorted(&radius, 50.0),
                radius_unit: "estimator".into(),
                estimate: "classic".into(),
            };
            if let Some(mut r) = record(&key, &Measured { truth, pred, galaxy }, bootstrap, seed)? {
                r.radius_over_rh = key.radius;
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// delosrios2023 §5's Tully-Fisher baseline per suite, on the classic estimators' projections: the rotation velocity
/// of Hall et al. 2012 from the stellar mass (the last radius of `log10_mstar`) against the circular velocity at
/// 2 R_hsm from the total mass there (`log10_mtot` at radius 2 in `r_hsm`), as a record of target `v_rot_2rhsm`
/// (the ratio is of velocities).
fn tully_fisher_records(
    data: &ExperimentData,
    run: &RunRecord,
    paper: &str,
    bootstrap: usize,
    seed: u64,
) -> Result<Vec<Record>> {
    use galmass_estimators::baselines::{true_vrot_kms, tully_fisher_vrot_kms};
    let missing = |what: &str| PipelineError::invalid("evaluation.tully_fisher", format!("the dataset has no {what}"));
    let mstar = data.file.target("log10_mstar").map_err(|_| missing("target log10_mstar"))?;
    let mtot = data.file.target("log10_mtot").map_err(|_| missing("target log10_mtot"))?;
    let info = data.file.target_info("log10_mtot")?;
    let k = info
        .radii
        .iter()
        .position(|r| (r - 2.0).abs() < 1e-9 && info.radius_unit == "r_hsm")
        .ok_or_else(|| missing("log10_mtot at 2 r_hsm"))?;
    let radii_kpc = data.file.target_radii_kpc("log10_mtot")?;
    let last = mstar.ncols().checked_sub(1).ok_or_else(|| missing("radius of log10_mstar"))?;
    let mut out = Vec::new();
    for suite in data.suites() {
        let (mut truth, mut pred, mut galaxy) = (Vec::new(), Vec::new(), Vec::new());
        for r in classic_rows(data, run, &suite) {
            let (ms, mt, r2) = (10f64.powf(mstar[[r, last]]), 10f64.powf(mtot[[r, k]]), radii_kpc[[r, k]]);
            if let (Ok(v), Ok(t)) = (tully_fisher_vrot_kms(ms), true_vrot_kms(mt, 0.5 * r2)) {
                if v > 0.0 && t > 0.0 {
                    pred.push(v.log10());
                    truth.push(t.log10());
                    galaxy.push(data.galaxy_id[r]);
                }
            }
        }
        let key = RecordKey {
            paper: paper.to_string(),
            model: "tully_fisher".into(),
            train_suite: "none".into(),
            test_suite: suite.clone(),
            target: "v_rot_2rhsm".into(),
            radius: Some(2.0),
            radius_unit: "r_hsm".into(),
            estimate: "classic".into(),
        };
        if let Some(r) = record(&key, &Measured { truth, pred, galaxy }, bootstrap, seed)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// Writes `summary.json` (`{"records": [...], ...}`) into `out`.
pub fn write_summary(out: &Path, evaluation: &Evaluation) -> Result<()> {
    create_dir(out)?;
    let importance: BTreeMap<&String, Vec<serde_json::Value>> = evaluation
        .importance
        .iter()
        .map(|(k, v)| (k, v.iter().map(|(f, g)| serde_json::json!({"feature": f, "gain": g})).collect()))
        .collect();
    let tarp: Vec<serde_json::Value> = evaluation
        .results
        .iter()
        .filter_map(|r| {
            r.tarp.as_ref().map(|t| {
                serde_json::json!({
                    "model": r.unit.model, "train_suite": r.unit.train_suites.join("+"), "test_suite": r.test_suite,
                    "alpha": t.alpha, "ecp": t.ecp, "ecp_low": t.ecp_low, "ecp_high": t.ecp_high,
                })
            })
        })
        .collect();
    let summary = serde_json::json!({
        "format": "galmass-summary",
        "version": 1,
        "paper": evaluation.run.experiment.paper,
        "experiment": evaluation.run.experiment.name,
        "dataset": evaluation.dataset,
        "git_revision": evaluation.run.git_revision,
        "records": evaluation.records,
        "gbdt_gain_importance": importance,
        "tarp_curves": tarp,
        "dropped_non_finite": evaluation.dropped,
        "rotation_curve_baseline": evaluation.rotation_curve,
    });
    write_json(&out.join("summary.json"), &summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_a_known_sample() {
        // log10 r = -0.1, 0, 0.1 (x 10 each): median 1, bias 0, rmse sqrt(2/3) 0.1, mae 2/3 0.1.
        let mut logr: Vec<f64> = (0..30).map(|i| f64::from(i % 3 - 1) * 0.1).collect();
        let s = statistics(&mut logr);
        assert!((s[0] - 1.0).abs() < 1e-12);
        assert!((s[4] - (2.0f64 / 3.0).sqrt() * 0.1).abs() < 1e-12);
        assert!((s[5] - 0.2 / 3.0).abs() < 1e-12);
        assert!(s[6].abs() < 1e-12);
        assert!((s[3] - 0.1).abs() < 1e-12, "scatter {}", s[3]);
    }

    #[test]
    fn records_carry_bands_that_contain_the_value() {
        let truth: Vec<f64> = (0..40).map(|i| 8.0 + 0.05 * f64::from(i)).collect();
        let pred: Vec<f64> =
            truth.iter().enumerate().map(|(i, t)| t + 0.1 * ((i * 7 % 5) as f64 - 2.0) / 2.0).collect();
        let galaxy: Vec<u64> = (0..40).map(|i| i / 4).collect();
        let key = RecordKey {
            paper: "sarrato2025".into(),
            model: "m".into(),
            train_suite: "a".into(),
            test_suite: "a".into(),
            target: "log10_mtot".into(),
            radius: Some(1.0),
            radius_unit: "r_h".into(),
            estimate: "network".into(),
        };
        let r = record(&key, &Measured { truth, pred, galaxy }, 200, 1).unwrap().unwrap();
        assert_eq!((r.n_projections, r.n_galaxies), (40, 10));
        assert!(r.scatter_band_dex[0] <= r.scatter_dex && r.scatter_dex <= r.scatter_band_dex[1]);
        assert!(r.p16_ratio < r.median_ratio && r.median_ratio < r.p84_ratio);
        assert_eq!(r.radius_over_rh, Some(1.0));
    }

    /// Posteriors of width `width` around means whose truths scatter by 1: calibrated at width 1.
    fn toy_posterior(width: f64, seed: u64) -> (Array3<f64>, Array2<f64>, Vec<u64>) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut normal = move || {
            let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let (n, s) = (400, 200);
        let mu: Vec<f64> = (0..n).map(|i| (i % 17) as f64).collect();
        let theta = Array2::from_shape_fn((n, 1), |(i, _)| mu[i] + normal());
        let samples = Array3::from_shape_fn((s, n, 1), |(_, i, _)| mu[i] + width * normal());
        let galaxy = (0..n as u64).map(|i| i / 4).collect();
        (samples, theta, galaxy)
    }

    #[test]
    fn tarp_bands_contain_the_diagonal_for_a_calibrated_posterior_only() {
        let (samples, theta, galaxy) = toy_posterior(1.0, 1);
        let t = tarp_summary(&samples, &theta, &galaxy, 200, 2).unwrap();
        assert!(t.diagonal_inside, "calibrated: max dev {} band {:?}", t.max_dev, t.band);
        // The largest of noisy deviations grows under resampling: its band may sit above the value, never below 0.
        assert!(t.band[0] >= 0.0 && t.band[0] <= t.band[1]);
        let (samples, theta, galaxy) = toy_posterior(0.3, 1);
        let t = tarp_summary(&samples, &theta, &galaxy, 200, 2).unwrap();
        assert!(!t.diagonal_inside && t.max_dev > 0.2, "overconfident: max dev {}", t.max_dev);
    }

    #[test]
    fn columns_split_into_target_and_radius() {
        assert_eq!(split_column("log10_mtot@0.6"), ("log10_mtot".into(), Some(0.6)));
        assert_eq!(split_column("x"), ("x".into(), None));
    }
}
