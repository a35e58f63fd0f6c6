//! The rotation-curve baseline in the experiments (delosrios2023 §5.6; the classic method exposito2026's gas model
//! competes with): tilted rings on each test projection's stored HI moment maps, the stellar disc from its g-band
//! frame (when the dataset has SDSS-like frames and the `distance_mpc` scalar), the gas from moment 0, and the MCMC
//! decomposition into an NFW halo ([`crate::rc`]). Its enclosed masses at the dataset's target radii become records of
//! model `rotation-curve` (estimate `classic`, training suite `none`) beside the networks'.
//!
//! Where the galaxy files the dataset was built from can still be read, their truth also measures the method's known
//! biases on the synthetic suites:
//! - the circular velocity: the rings' `v_circ` (after the asymmetric-drift correction) interpolated to 0.5, 1, 2
//!   and 3 R_h against the true `sqrt(G M(<r) / r)` there, as records of target `v_circ` (the ratio is of
//!   velocities; radii outside the rings' span are not extrapolated);
//! - cores from cusps: the inner logarithmic slope of the total density, `alpha = 2 d ln v / d ln r - 2`, fitted to
//!   the rings inside max(R_h, three rings) (the first ring, inside a beam of the centre, left out) against the same
//!   fit to the true curve at the same radii; a fit with `alpha > -0.5` counts as a core (an NFW cusp alone is -1
//!   inside r_s; stars and a bulge make the true total slope steeper). Beam smearing and the missing inner rings
//!   make observed curves rise more slowly, which reads as a core.
//!
//! Maps as stored: masked pixels were written as 0 (non-finite values are stored as 0 in datasets), so a pixel with
//! no positive moment 0 is masked for the rings. The HI recipe (distance, beam, channels, pixel scale) comes from
//! the input's `recipe` attribute; a pixel scale in R_HI (exposito2026) needs the `r_hi` scalar.

use std::collections::BTreeMap;
use std::path::Path;

use galmass_core::stats::{percentile_sorted, sort_finite};
use galmass_core::units::G_KPC_KMS2_PER_MSUN;
use galmass_core::TruthProfiles;
use galmass_estimators::rc::rings::ARCSEC_PER_RAD;
use galmass_mock::hi::params::{BeamSize, HiParams, PixelScale};
use galmass_mock::optical::sdss::{band_constants, SdssParams};
use galmass_snapshot::galaxy_file;
use ndarray::{Array2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::EvaluationSettings;
use super::data::ExperimentData;
use super::evaluate::{classic_rows, record, Measured, Record, RecordKey};
use super::train::RunRecord;
use crate::products::{BandFrameProduct, OpticalProduct};
use crate::rc::{mom0_unit_to_msun_pc2, rotation_curve_of_maps, HiMaps, RcRequest};
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

/// The model name of the baseline's records.
pub const MODEL: &str = "rotation-curve";

/// Radii of the circular-velocity records, in R_h.
pub const V_CIRC_RADII_RH: [f64; 4] = [0.5, 1.0, 2.0, 3.0];

/// Inner density slopes above this count as cores.
pub const CORE_SLOPE: f64 = -0.5;

/// The inner slopes of one test suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlopeSummary {
    /// The test suite.
    pub test_suite: String,
    /// Projections with both slopes.
    pub n_projections: usize,
    /// 16th, 50th and 84th percentiles of the rings' slope.
    pub alpha_rings: [f64; 3],
    /// The same of the true curve's slope at the same radii.
    pub alpha_true: [f64; 3],
    /// Fraction of the rings' slopes above [`CORE_SLOPE`].
    pub cored_fraction_rings: f64,
    /// Fraction of the true slopes above [`CORE_SLOPE`].
    pub cored_fraction_true: f64,
    /// Median outer radius of the slope fits, kpc.
    pub median_fit_radius_kpc: f64,
}

/// What the baseline did on the test projections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RcBaselineSummary {
    /// Projections fitted, per suite.
    pub fitted: Vec<(String, usize)>,
    /// Projections that failed, with the reason (row, suite, error).
    pub failed: Vec<(usize, String, String)>,
    /// Projections whose chain did not pass the convergence test.
    pub not_converged: usize,
    /// Whether the stellar disc was fitted (the dataset has g-band frames and distances).
    pub stellar_disc: bool,
    /// Whether the galaxy files' truth was read (the bias measurements need it).
    pub truth_read: bool,
    /// Inner slopes per suite (empty without the truth).
    pub slopes: Vec<SlopeSummary>,
    /// Wall time, s.
    pub seconds: f64,
}

/// One projection's fit, reduced to what the records need.
struct Fitted {
    row: usize,
    /// Per dataset target, per radius: log10 posterior median of its quantity.
    masses: Vec<Vec<f64>>,
    /// (log10 v_rings, log10 v_true) at [`V_CIRC_RADII_RH`] (NaN where not measured).
    v_circ: Vec<(f64, f64)>,
    /// (alpha rings, alpha true, outer radius kpc).
    slope: Option<(f64, f64, f64)>,
    converged: bool,
}

/// One channel of one row of a map input as f64 (y, x).
fn map_row(data: &ExperimentData, name: &str, row: usize, channel: usize) -> Result<Array2<f64>> {
    let block = data.file.read_input_rows(name, row, 1)?;
    Ok(block.index_axis(Axis(0), 0).index_axis(Axis(0), channel).mapv(f64::from))
}

/// The HI recipe and pixel scale of the dataset's `hi_mom0` (pixel arcsec, or the R_HI multiple per pixel).
struct HiRecipe {
    params: HiParams,
    /// Pixel size in the axis unit (arcsec, or R_HI).
    pixel_axis: f64,
    in_r_hi: bool,
    unit: String,
}

fn hi_recipe(data: &ExperimentData) -> Result<HiRecipe> {
    let info = data.file.input_info("hi_mom0")?;
    let params: HiParams = serde_json::from_str(&info.recipe)
        .map_err(|e| PipelineError::invalid("inputs/hi_mom0 recipe", format!("not an HI recipe: {e}")))?;
    let n = params.npix.max(2) as f64;
    let pixel_axis = (info.x_range[1] - info.x_range[0]) / (n - 1.0);
    let in_r_hi = matches!(params.pixel, PixelScale::FieldHalfWidthRHi(_));
    Ok(HiRecipe { params, pixel_axis, in_r_hi, unit: info.unit })
}

/// The dataset's g-band frames and their distances, for the stellar disc.
struct GBand {
    /// The frames' recipe (JSON).
    recipe: String,
    params: SdssParams,
    pixel_arcsec: f64,
    /// Distance of every projection's frames, Mpc.
    distance: Vec<f64>,
}

/// The g-band recipe, when the dataset has g-band frames and the `distance_mpc` scalar.
fn g_band(data: &ExperimentData) -> Result<Option<GBand>> {
    let has_scalar = data.file.scalars().iter().any(|s| s == "distance_mpc");
    if !has_scalar || !data.file.inputs().iter().any(|i| i == "g") {
        return Ok(None);
    }
    let info = data.file.input_info("g")?;
    let params: SdssParams = serde_json::from_str(&info.recipe)
        .map_err(|e| PipelineError::invalid("inputs/g recipe", format!("not an SDSS frame recipe: {e}")))?;
    let pixel_arcsec = (info.x_range[1] - info.x_range[0]) / (params.npix.max(2) - 1) as f64;
    let distance = data.file.scalar("distance_mpc")?.to_vec();
    Ok(Some(GBand { recipe: info.recipe, params, pixel_arcsec, distance }))
}

/// The g-band frame of one projection as an optical product.
fn optical_of_row(data: &ExperimentData, row: usize, g: &GBand) -> Result<OpticalProduct> {
    let band = band_constants("g").ok_or_else(|| PipelineError::invalid("band", "no g-band constants"))?;
    let (params, pixel_arcsec) = (&g.params, g.pixel_arcsec);
    Ok(OpticalProduct {
        input: format!("{} row {row}", data.file.path().display()),
        preset: "dataset".into(),
        params_json: g.recipe.clone(),
        distance_mpc: g.distance[row],
        pixel_arcsec,
        seed: 0,
        psf: params.psf,
        noise: params.noise,
        dust: "none".into(),
        luminosities: "dataset".into(),
        bands: vec![BandFrameProduct {
            band: "g".into(),
            image: map_row(data, "g", row, 0)?,
            psf_fwhm_arcsec: if params.psf { band.seeing_fwhm_arcsec } else { 0.0 },
            sky_rms_nanomaggies: if params.noise { band.sky_rms_nanomaggies(pixel_arcsec) } else { 0.0 },
        }],
    })
}

/// log v vs log r least-squares slope.
fn log_slope(r: &[f64], v: &[f64]) -> f64 {
    let pts: Vec<(f64, f64)> =
        r.iter().zip(v).filter(|(r, v)| **r > 0.0 && **v > 0.0).map(|(r, v)| (r.ln(), v.ln())).collect();
    let n = pts.len() as f64;
    if n < 3.0 {
        return f64::NAN;
    }
    let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    sxy / sxx
}

/// Linear interpolation of (r, v) at `x` inside the span only.
fn interp_inside(r: &[f64], v: &[f64], x: f64) -> f64 {
    if r.is_empty() || x < r[0] || x > r[r.len() - 1] {
        return f64::NAN;
    }
    galmass_core::numeric::interp::interp(r, v, x)
}

/// A dataset target: name, quantity, values (projection, radius) and radii in kpc.
struct Target {
    name: String,
    quantity: Option<String>,
    values: Array2<f64>,
    radii_kpc: Array2<f64>,
}

struct RowInputs<'a> {
    data: &'a ExperimentData,
    recipe: &'a HiRecipe,
    r_hi: Option<ndarray::Array1<f64>>,
    g_band: Option<GBand>,
    /// Every projection's galaxy file, and the truth of those read.
    galaxy_files: Vec<String>,
    truths: BTreeMap<String, TruthProfiles>,
    targets: Vec<Target>,
    request: RcRequest,
}

fn fit_row(inputs: &RowInputs<'_>, row: usize) -> Result<Fitted> {
    let (data, recipe) = (inputs.data, inputs.recipe);
    let p = &recipe.params;
    let pixel_arcsec = if recipe.in_r_hi {
        let r_hi = inputs.r_hi.as_ref().map_or(f64::NAN, |r| r[row]);
        recipe.pixel_axis * r_hi / (p.distance_mpc * 1e3) * ARCSEC_PER_RAD
    } else {
        recipe.pixel_axis
    };
    if !(pixel_arcsec.is_finite() && pixel_arcsec > 0.0) {
        return Err(PipelineError::invalid("HI pixel scale", format!("{pixel_arcsec} arcsec (r_hi missing?)")));
    }
    let beam = match p.beam {
        BeamSize::None => 0.0,
        BeamSize::Arcsec(b) => b,
        BeamSize::Pixels(b) => b * pixel_arcsec,
    };
    let mom0 = map_row(data, "hi_mom0", row, 0)?;
    let mask = mom0.mapv(|m| m > 0.0 && m.is_finite());
    let masked = |a: Array2<f64>| -> Array2<f64> {
        let mut a = a;
        a.zip_mut_with(&mask, |v, &keep| {
            if !keep {
                *v = f64::NAN;
            }
        });
        a
    };
    let mom1 = masked(map_row(data, "hi_mom1", row, 0)?);
    let mom2 = masked(map_row(data, "hi_mom2", row, 0)?);
    let mom0 = masked(mom0);
    let input = format!("{} row {row}", data.file.path().display());
    let maps = HiMaps {
        input: &input,
        mom0: mom0.view(),
        mom1: mom1.view(),
        mom2: mom2.view(),
        pixel_arcsec,
        beam_fwhm_arcsec: beam,
        channel_kms: p.channel_kms,
        mom0_to_msun_pc2: mom0_unit_to_msun_pc2(&recipe.unit, beam),
        distance_mpc: Some(p.distance_mpc),
    };
    let optical = inputs.g_band.as_ref().map(|g| optical_of_row(data, row, g)).transpose()?;
    let mut request = inputs.request.clone();
    let mut radii = Vec::new();
    for t in &inputs.targets {
        radii.extend(t.radii_kpc.row(row).iter().copied());
    }
    request.radii_kpc = Some(radii.iter().map(|r| r.max(1e-3)).collect());
    let out = rotation_curve_of_maps(&maps, optical.as_ref(), &request)?;
    let mut masses = Vec::new();
    let mut k = 0;
    for t in &inputs.targets {
        let mut m = Vec::new();
        for _ in 0..t.radii_kpc.ncols() {
            let e = &out.enclosed[k];
            m.push(match t.quantity.as_deref() {
                Some("dark") => e.log10_dark.p50,
                Some("stellar") => e.log10_stars.p50,
                Some("total") => e.log10_total.p50,
                _ => f64::NAN,
            });
            k += 1;
        }
        masses.push(m);
    }
    // The curve and, from the galaxy file, the truth.
    let curve: Vec<(f64, f64)> = out
        .rings
        .rings
        .iter()
        .filter(|r| r.v_circ_kms.is_finite() && r.v_circ_kms > 0.0)
        .map(|r| (r.radius_kpc, r.v_circ_kms))
        .collect();
    let (cr, cv): (Vec<f64>, Vec<f64>) = curve.iter().copied().unzip();
    let mut v_circ = vec![(f64::NAN, f64::NAN); V_CIRC_RADII_RH.len()];
    let mut slope = None;
    if let Some(truth) = inputs.truths.get(&inputs.galaxy_files[row]) {
        let v_true = |r: f64| -> f64 {
            truth.enclosed_mass_msun(None, r).map_or(f64::NAN, |m| (G_KPC_KMS2_PER_MSUN * m / r).sqrt())
        };
        let r_h = data.r_h_kpc[row];
        for (slot, f) in v_circ.iter_mut().zip(V_CIRC_RADII_RH) {
            let v = interp_inside(&cr, &cv, f * r_h);
            if v.is_finite() && v > 0.0 {
                *slot = (v.log10(), v_true(f * r_h).log10());
            }
        }
        // The inner slope: rings 2.. inside max(R_h, the third of them).
        if cr.len() >= 4 {
            let outer = r_h.max(cr[3]);
            let keep: Vec<usize> = (1..cr.len()).filter(|&k| cr[k] <= outer).collect();
            let r: Vec<f64> = keep.iter().map(|&k| cr[k]).collect();
            let v: Vec<f64> = keep.iter().map(|&k| cv[k]).collect();
            let t: Vec<f64> = r.iter().map(|&x| v_true(x)).collect();
            let (a, b) = (2.0 * log_slope(&r, &v) - 2.0, 2.0 * log_slope(&r, &t) - 2.0);
            if a.is_finite() && b.is_finite() {
                slope = Some((a, b, outer));
            }
        }
    }
    Ok(Fitted { row, masses, v_circ, slope, converged: out.decomposition.diagnostics.converged })
}

/// Test rows of `suite`, at most `n` evenly spaced through them (0: all).
fn chosen(rows: Vec<usize>, n: usize) -> Vec<usize> {
    if n == 0 || rows.len() <= n {
        return rows;
    }
    (0..n).map(|k| rows[k * rows.len() / n]).collect()
}

fn quantiles(mut values: Vec<f64>) -> [f64; 3] {
    let values = &mut values;
    let _ = sort_finite(values);
    [percentile_sorted(values, 16.0), percentile_sorted(values, 50.0), percentile_sorted(values, 84.0)]
        .map(|v| v.unwrap_or(f64::NAN))
}

/// The baseline's records on every test suite of `data`, and what it did.
pub fn rotation_curve_records(
    data: &ExperimentData,
    run: &RunRecord,
    paper: &str,
    settings: &EvaluationSettings,
    seed: u64,
) -> Result<(Vec<Record>, RcBaselineSummary)> {
    let start = std::time::Instant::now();
    for needed in ["hi_mom0", "hi_mom1", "hi_mom2"] {
        if !data.file.inputs().iter().any(|i| i == needed) {
            return Err(PipelineError::invalid(
                "evaluation.rotation_curve",
                format!("the dataset has no input {needed} (the baseline needs the HI moment maps)"),
            ));
        }
    }
    let recipe = hi_recipe(data)?;
    let has = |name: &str| data.file.scalars().iter().any(|s| s == name);
    let r_hi = if has("r_hi") { Some(data.file.scalar("r_hi")?) } else { None };
    let g_band = g_band(data)?;
    let stellar_disc = g_band.is_some();
    let mut targets = Vec::new();
    for name in data.file.targets() {
        let info = data.file.target_info(name)?;
        targets.push(Target {
            name: name.clone(),
            quantity: info.quantity,
            values: data.file.target(name)?,
            radii_kpc: data.file.target_radii_kpc(name)?,
        });
    }
    // Galaxy files are stored relative to the dataset's folder (or absolute).
    let folder = data.file.path().parent().map(Path::to_path_buf).unwrap_or_default();
    let galaxy_files: Vec<String> =
        data.file.galaxy_file()?.into_iter().map(|f| folder.join(f).display().to_string()).collect();
    let plan: Vec<(String, Vec<usize>)> = data
        .suites()
        .into_iter()
        .map(|suite| {
            let rows = chosen(classic_rows(data, run, &suite), settings.rotation_curve_projections);
            (suite, rows)
        })
        .collect();
    // The truth of each galaxy file the chosen rows come from, read once (a file that cannot be read, or has no
    // truth, leaves its projections without the bias measurements, not without their masses).
    let mut files: Vec<&String> = plan.iter().flat_map(|(_, rows)| rows.iter().map(|&r| &galaxy_files[r])).collect();
    files.sort();
    files.dedup();
    let truths: BTreeMap<String, TruthProfiles> = files
        .par_iter()
        .filter_map(|f| match galaxy_file::read(Path::new(f.as_str())) {
            Ok(g) => g.truth.map(|t| ((*f).clone(), t)),
            Err(e) => {
                tracing::warn!("{e}: its projections' rotation-curve biases are not measured");
                None
            }
        })
        .collect();
    let truth = !truths.is_empty();
    let mut request = RcRequest::default();
    request.decomposition.mcmc.n_steps = settings.rotation_curve_steps;
    request.decomposition.burn_in = (settings.rotation_curve_steps / 4).max(1);
    request.decomposition.mcmc.seed = seed;
    let inputs = RowInputs { data, recipe: &recipe, r_hi, g_band, galaxy_files, truths, targets, request };

    let mut records = Vec::new();
    let mut summary = RcBaselineSummary {
        fitted: Vec::new(),
        failed: Vec::new(),
        not_converged: 0,
        stellar_disc,
        truth_read: truth,
        slopes: Vec::new(),
        seconds: 0.0,
    };
    for (suite, rows) in plan {
        tracing::info!(suite, projections = rows.len(), "rotation-curve baseline");
        let results: Vec<(usize, Result<Fitted>)> = rows.par_iter().map(|&r| (r, fit_row(&inputs, r))).collect();
        let mut fitted = Vec::new();
        for (row, result) in results {
            match result {
                Ok(f) => fitted.push(f),
                Err(e) => {
                    tracing::warn!(row, suite, "rotation-curve baseline failed: {e}");
                    summary.failed.push((row, suite.clone(), e.to_string()));
                }
            }
        }
        summary.not_converged += fitted.iter().filter(|f| !f.converged).count();
        summary.fitted.push((suite.clone(), fitted.len()));
        let galaxy = |f: &Fitted| data.galaxy_id[f.row];
        for (t, target) in inputs.targets.iter().enumerate() {
            let (name, values) = (&target.name, &target.values);
            if target.quantity.is_none() {
                continue;
            }
            let info = data.file.target_info(name)?;
            for (j, &radius) in info.radii.iter().enumerate() {
                let m = Measured {
                    truth: fitted.iter().map(|f| values[[f.row, j]]).collect(),
                    pred: fitted.iter().map(|f| f.masses[t][j]).collect(),
                    galaxy: fitted.iter().map(galaxy).collect(),
                };
                let key = RecordKey {
                    paper: paper.to_string(),
                    model: MODEL.into(),
                    train_suite: "none".into(),
                    test_suite: suite.clone(),
                    target: name.clone(),
                    radius: Some(radius),
                    radius_unit: info.radius_unit.clone(),
                    estimate: "classic".into(),
                };
                if let Some(r) = record(&key, &m, settings.bootstrap, seed)? {
                    records.push(r);
                }
            }
        }
        if truth {
            for (j, &f) in V_CIRC_RADII_RH.iter().enumerate() {
                let ok: Vec<&Fitted> = fitted.iter().filter(|x| x.v_circ[j].0.is_finite()).collect();
                let m = Measured {
                    truth: ok.iter().map(|x| x.v_circ[j].1).collect(),
                    pred: ok.iter().map(|x| x.v_circ[j].0).collect(),
                    galaxy: ok.iter().map(|x| galaxy(x)).collect(),
                };
                let key = RecordKey {
                    paper: paper.to_string(),
                    model: MODEL.into(),
                    train_suite: "none".into(),
                    test_suite: suite.clone(),
                    target: "v_circ".into(),
                    radius: Some(f),
                    radius_unit: "r_h".into(),
                    estimate: "classic".into(),
                };
                if let Some(r) = record(&key, &m, settings.bootstrap, seed)? {
                    records.push(r);
                }
            }
            let slopes: Vec<(f64, f64, f64)> = fitted.iter().filter_map(|f| f.slope).collect();
            if !slopes.is_empty() {
                let n = slopes.len();
                let cored = |pick: fn(&(f64, f64, f64)) -> f64| {
                    slopes.iter().filter(|s| pick(s) > CORE_SLOPE).count() as f64 / n as f64
                };
                summary.slopes.push(SlopeSummary {
                    test_suite: suite.clone(),
                    n_projections: n,
                    alpha_rings: quantiles(slopes.iter().map(|s| s.0).collect()),
                    alpha_true: quantiles(slopes.iter().map(|s| s.1).collect()),
                    cored_fraction_rings: cored(|s| s.0),
                    cored_fraction_true: cored(|s| s.1),
                    median_fit_radius_kpc: quantiles(slopes.iter().map(|s| s.2).collect())[1],
                });
            }
        }
    }
    summary.seconds = start.elapsed().as_secs_f64();
    Ok((records, summary))
}

impl RcBaselineSummary {
    /// The report's section: what was fitted and the inner slopes.
    pub fn to_markdown(&self) -> String {
        use std::fmt::Write;
        let mut md = String::new();
        let fitted: Vec<String> = self.fitted.iter().map(|(s, n)| format!("{n} on {s}")).collect();
        let _ = writeln!(
            md,
            "Tilted rings on each test projection's HI moment maps, {}, the gas from moment 0, and an NFW halo by \
             MCMC (delosrios2023 §5.6); records of model `{MODEL}` in the tables above. Fitted: {} projections \
             ({:.0} s); {} failed; {} chains did not pass the convergence test.\n",
            if self.stellar_disc {
                "the stellar disc from the g-band frame"
            } else {
                "no stellar disc (the dataset has no g-band frames with distances: the halo takes all the mass)"
            },
            fitted.join(", "),
            self.seconds,
            self.failed.len(),
            self.not_converged
        );
        if !self.truth_read {
            md.push_str("The galaxy files could not be read: the biases against the truth are not measured.\n");
            return md;
        }
        md.push_str(
            "Known biases, against the synthetic truth: `v_circ` records compare the rings' circular velocity with \
             the true one at 0.5-3 R_h. Inner slope of the total density, alpha = 2 dln v/dln r - 2, fitted to the rings inside \
             max(R_h, 3 rings), the innermost ring left out, and to the true curve at the same radii (a core: \
             alpha > -0.5):\n\n| test suite | n | alpha rings (16/50/84) | alpha true (16/50/84) | cored, rings | \
             cored, truth | fit radius (median) |\n|---|---|---|---|---|---|---|\n",
        );
        for s in &self.slopes {
            let _ = writeln!(
                md,
                "| {} | {} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} | {:.0}% | {:.0}% | {:.1} kpc |",
                s.test_suite,
                s.n_projections,
                s.alpha_rings[0],
                s.alpha_rings[1],
                s.alpha_rings[2],
                s.alpha_true[0],
                s.alpha_true[1],
                s.alpha_true[2],
                100.0 * s.cored_fraction_rings,
                100.0 * s.cored_fraction_true,
                s.median_fit_radius_kpc
            );
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_of_power_laws() {
        let r: Vec<f64> = (1..8).map(f64::from).collect();
        let v: Vec<f64> = r.iter().map(|x| 3.0 * x.powf(0.5)).collect();
        assert!((2.0 * log_slope(&r, &v) - 2.0 + 1.0).abs() < 1e-12, "a cusp is -1");
        let v: Vec<f64> = r.iter().map(|x| 3.0 * x).collect();
        assert!((2.0 * log_slope(&r, &v) - 2.0).abs() < 1e-12, "a core is 0");
        assert!(log_slope(&r[..2], &v[..2]).is_nan());
        assert!(interp_inside(&r, &v, 0.5).is_nan() && (interp_inside(&r, &v, 1.5) - 4.5).abs() < 1e-12);
        assert_eq!(chosen((0..10).collect(), 3), vec![0, 3, 6]);
        assert_eq!(chosen((0..2).collect(), 3), vec![0, 1]);
    }
}
