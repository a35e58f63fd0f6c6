//! The evaluation's PNG figures (galmass-plot): predicted vs true with ratio histograms, ratio median and 16-84
//! band vs radius with the classic estimators overlaid, RMSE/MAE vs radius, TARP and marginal coverage, GBDT loss
//! curves, gain importance and feature correlations, example input maps and SmoothGrad maps. Every figure returns
//! its file name (relative to the report folder) so the report can link it.

use std::path::Path;

use galmass_metrics::correlation::pearson_correlation_matrix;
use galmass_plot::series::{Band, HeatMap, Histogram, Line, Marker, Scatter};
use galmass_plot::{Color, Figure, Plot};
use ndarray::Array2;

use super::evaluate::{Evaluation, Record, UnitResult, COVERAGE_LEVELS};
use super::train::column_slug;
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

fn save(figure: &Figure, out: &Path, name: &str) -> Result<String> {
    let rel = format!("figures/{name}");
    let path = out.join(&rel);
    figure.save_png(&path).map_err(|source| PipelineError::Plot { path, source })?;
    Ok(rel)
}

fn slug(s: &str) -> String {
    column_slug(s)
}

/// A name shown literally in a title or label (galmass-plot reads `_` as a subscript).
fn esc(s: &str) -> String {
    s.replace('_', "\\_").replace('^', "\\^")
}

/// Predicted vs true for every column of a result (a panel per column, up to 4) and the log-ratio histogram.
pub fn pred_vs_true(out: &Path, r: &UnitResult) -> Result<String> {
    let n_cols = r.truth.ncols();
    let picks: Vec<usize> = if n_cols <= 3 { (0..n_cols).collect() } else { vec![0, n_cols / 2, n_cols - 1] };
    let mut figure = Figure::new(400 * (picks.len() as u32 + 1), 400).grid(1, picks.len() + 1).title(format!(
        "{} (trained on {}) tested on {}",
        r.unit.model,
        r.unit.train_suites.join("+"),
        r.test_suite
    ));
    let mut all_ratios = Vec::new();
    for &j in &picks {
        let t: Vec<f64> = r.truth.column(j).to_vec();
        let p: Vec<f64> = r.pred.column(j).to_vec();
        let mut values: Vec<f64> = t.iter().chain(&p).copied().filter(|v| v.is_finite()).collect();
        if let Some((p16, p84)) = &r.interval {
            values.extend(p16.column(j).iter().chain(p84.column(j).iter()).copied().filter(|v| v.is_finite()));
        }
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = 0.05 * (hi - lo).max(1e-3);
        let (lo, hi) = (lo - pad, hi + pad);
        let mut plot = Plot::new()
            .title(esc(&r.unit.columns[j].replace('@', " at ")))
            .x_label("log_{10} M_{true}")
            .y_label("log_{10} M_{pred}");
        if lo.is_finite() && hi > lo {
            plot = plot.x_range(lo, hi).y_range(lo, hi);
        }
        if let Some((p16, p84)) = &r.interval {
            // Posterior 16-84 intervals as vertical segments would clutter; show them as a band over sorted truth.
            let mut order: Vec<usize> = (0..t.len()).collect();
            order.sort_by(|a, b| t[*a].total_cmp(&t[*b]));
            let xs: Vec<f64> = order.iter().map(|&i| t[i]).collect();
            let l: Vec<f64> = order.iter().map(|&i| p16[[i, j]]).collect();
            let h: Vec<f64> = order.iter().map(|&i| p84[[i, j]]).collect();
            plot =
                plot.with(Band::new(&xs, &l, &h).color(Color::rgba(0x1f, 0x77, 0xb4, 70)).label("posterior 16-84"))?;
        }
        plot = plot
            .with(Line::new(&[lo, hi], &[lo, hi]).color(Color::BLACK).dashed(true).label("1:1"))?
            .with(Scatter::new(&t, &p).size(4.0).color(Color::TAB_ORANGE).label("projections"))?;
        figure.add(plot);
        all_ratios.extend(p.iter().zip(&t).map(|(p, t)| p - t));
    }
    figure.add(
        Plot::new()
            .title("all shown columns")
            .x_label("log_{10}(M_{pred}/M_{true})")
            .y_label("projections")
            .with(Histogram::new(&all_ratios).label("log ratio"))?,
    );
    let name = format!("{}__{}_pred_true.png", r.unit.id, slug(&r.test_suite));
    save(&figure, out, &name)
}

/// The records of one model, training set, test suite and target, sorted by radius.
fn radial<'a>(records: &'a [Record], model: &str, train: &str, test: &str, target: &str) -> Vec<&'a Record> {
    let mut v: Vec<&Record> = records
        .iter()
        .filter(|r| r.subset.is_none() && r.model == model && r.train_suite == train && r.test_suite == test)
        .filter(|r| r.target == target)
        .filter(|r| r.radius_over_rh.or(r.radius_kpc).is_some())
        .collect();
    v.sort_by(|a, b| {
        a.radius_over_rh.or(a.radius_kpc).unwrap_or(0.0).total_cmp(&b.radius_over_rh.or(b.radius_kpc).unwrap_or(0.0))
    });
    v
}

/// Ratio median and 16-84 band vs radius for one unit and test suite, with its median's bootstrap band, and the
/// classic estimators of that suite as points with their 16-84 range.
pub fn ratio_vs_radius(out: &Path, r: &UnitResult, records: &[Record]) -> Result<Option<String>> {
    let train = r.unit.train_suites.join("+");
    let mut figure = Figure::new(700 * r.unit.targets.len() as u32, 480).grid(1, r.unit.targets.len());
    let mut any = false;
    for target in &r.unit.targets {
        let rows = radial(records, &r.unit.model, &train, &r.test_suite, target);
        if rows.len() < 2 {
            continue;
        }
        let x: Vec<f64> = rows.iter().map(|r| r.radius_over_rh.or(r.radius_kpc).unwrap_or(f64::NAN)).collect();
        let unit = if rows[0].radius_kpc.is_some() { "r [kpc]" } else { "r / R_h" };
        let mut plot = Plot::new()
            .title(esc(&format!("{} on {}: {target}", r.unit.model, r.test_suite)))
            .x_label(unit)
            .y_label("M_{pred} / M_{true}")
            .with(
                Band::new(
                    &x,
                    &rows.iter().map(|r| r.p16_ratio).collect::<Vec<_>>(),
                    &rows.iter().map(|r| r.p84_ratio).collect::<Vec<_>>(),
                )
                .color(Color::TAB_BLUE)
                .label("16-84 %"),
            )?
            .with(
                Band::new(
                    &x,
                    &rows.iter().map(|r| r.median_ratio_band[0]).collect::<Vec<_>>(),
                    &rows.iter().map(|r| r.median_ratio_band[1]).collect::<Vec<_>>(),
                )
                .color(Color::TAB_CYAN)
                .label("median, bootstrap 68%"),
            )?
            .with(
                Line::new(&x, &rows.iter().map(|r| r.median_ratio).collect::<Vec<_>>())
                    .color(Color::TAB_BLUE)
                    .label("median"),
            )?
            .with(Line::new(&[x[0], x[x.len() - 1]], &[1.0, 1.0]).color(Color::BLACK).dashed(true))?;
        // The rotation-curve baseline on the same projections, where it measured this target.
        let rc = radial(records, super::rc_baseline::MODEL, "none", &r.test_suite, target);
        if rc.len() >= 2 {
            let xr: Vec<f64> = rc.iter().map(|r| r.radius_over_rh.or(r.radius_kpc).unwrap_or(f64::NAN)).collect();
            plot = plot
                .with(
                    Line::new(&xr, &rc.iter().map(|r| r.median_ratio).collect::<Vec<_>>())
                        .color(Color::TAB_ORANGE)
                        .label("rotation curve, median"),
                )?
                .with(
                    Line::new(&xr, &rc.iter().map(|r| r.p16_ratio).collect::<Vec<_>>())
                        .color(Color::TAB_ORANGE)
                        .dashed(true)
                        .label("rotation curve, 16-84 %"),
                )?
                .with(
                    Line::new(&xr, &rc.iter().map(|r| r.p84_ratio).collect::<Vec<_>>())
                        .color(Color::TAB_ORANGE)
                        .dashed(true),
                )?;
        }
        if target == "log10_mtot" {
            for (k, c) in records.iter().filter(|c| c.estimate == "classic" && c.test_suite == r.test_suite).enumerate()
            {
                let Some(rad) = c.radius_over_rh else { continue };
                if unit != "r / R_h" {
                    continue;
                }
                let color = Color::palette(k + 2);
                plot = plot
                    .with(
                        Scatter::new(&[rad], &[c.median_ratio])
                            .marker(Marker::Square)
                            .size(8.0)
                            .color(color)
                            .label(esc(&c.model)),
                    )?
                    .with(Line::new(&[rad, rad], &[c.p16_ratio, c.p84_ratio]).color(color))?;
            }
        }
        figure.add(plot);
        any = true;
    }
    if !any {
        return Ok(None);
    }
    let name = format!("{}__{}_ratio_radius.png", r.unit.id, slug(&r.test_suite));
    save(&figure, out, &name).map(Some)
}

/// RMSE and MAE vs radius of every model on one test suite and target, with bootstrap bands.
pub fn errors_vs_radius(out: &Path, records: &[Record], test: &str, target: &str) -> Result<Option<String>> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in records.iter().filter(|r| r.test_suite == test && r.target == target && r.estimate != "classic") {
        let k = (r.model.clone(), r.train_suite.clone());
        if !keys.contains(&k) && !r.model.ends_with(":point") {
            keys.push(k);
        }
    }
    let mut rmse = Plot::new().title(esc(&format!("RMSE, {target} on {test}"))).x_label("radius").y_label("RMSE [dex]");
    let mut mae = Plot::new().title(esc(&format!("MAE, {target} on {test}"))).x_label("radius").y_label("MAE [dex]");
    let mut any = false;
    for (k, (model, train)) in keys.iter().enumerate() {
        let rows = radial(records, model, train, test, target);
        if rows.len() < 2 {
            continue;
        }
        let color = Color::palette(k);
        let x: Vec<f64> = rows.iter().map(|r| r.radius_over_rh.or(r.radius_kpc).unwrap_or(f64::NAN)).collect();
        let label = esc(&format!("{model} ({train})"));
        let col = |f: &dyn Fn(&Record) -> f64| rows.iter().map(|r| f(r)).collect::<Vec<f64>>();
        rmse = rmse
            .with(Band::new(&x, &col(&|r| r.rmse_band_dex[0]), &col(&|r| r.rmse_band_dex[1])).color(color))?
            .with(Line::new(&x, &col(&|r| r.rmse_dex)).color(color).label(label.clone()))?;
        mae = mae
            .with(Band::new(&x, &col(&|r| r.mae_band_dex[0]), &col(&|r| r.mae_band_dex[1])).color(color))?
            .with(Line::new(&x, &col(&|r| r.mae_dex)).color(color).label(label))?;
        any = true;
    }
    if !any {
        return Ok(None);
    }
    let figure = Figure::new(1300, 480).grid(1, 2).with(rmse).with(mae);
    save(&figure, out, &format!("errors_{}_{}.png", slug(test), slug(target))).map(Some)
}

/// TARP's ECP with its bootstrap band, and the marginal coverage of every column.
pub fn tarp(out: &Path, r: &UnitResult) -> Result<Option<String>> {
    let (Some(t), Some(cov)) = (&r.tarp, &r.coverage) else { return Ok(None) };
    let diag = [0.0, 1.0];
    let tarp_plot = Plot::new()
        .title(esc(&format!("TARP: {} ({}) on {}", r.unit.model, r.unit.train_suites.join("+"), r.test_suite)))
        .x_label("credibility level α")
        .y_label("expected coverage")
        .x_range(0.0, 1.0)
        .y_range(0.0, 1.0)
        .with(Band::new(&t.alpha, &t.ecp_low, &t.ecp_high).color(Color::TAB_BLUE).label("95% simultaneous band"))?
        .with(Line::new(&t.alpha, &t.ecp).color(Color::TAB_BLUE).label(format!("ECP, max dev {:.3}", t.max_dev)))?
        .with(Line::new(&diag, &diag).color(Color::BLACK).dashed(true).label("calibrated"))?;
    let mut marginal = Plot::new()
        .title("marginal coverage per column")
        .x_label("credibility level")
        .y_label("fraction of truths inside")
        .x_range(0.0, 1.0)
        .y_range(0.0, 1.0)
        .with(Line::new(&diag, &diag).color(Color::BLACK).dashed(true))?;
    for (d, row) in cov.outer_iter().enumerate() {
        marginal = marginal.with(Line::new(&COVERAGE_LEVELS, &row.to_vec()).color(Color::palette(d)))?;
    }
    let figure = Figure::new(1100, 480).grid(1, 2).with(tarp_plot).with(marginal);
    save(&figure, out, &format!("{}__{}_tarp.png", r.unit.id, slug(&r.test_suite))).map(Some)
}

/// Vertical bars as filled bands.
fn bars(plot: Plot, values: &[f64], color: Color) -> Result<Plot> {
    let mut plot = plot;
    for (i, v) in values.iter().enumerate() {
        let x = i as f64;
        plot = plot.with(Band::new(&[x - 0.35, x + 0.35], &[0.0, 0.0], &[*v, *v]).color(color))?;
    }
    Ok(plot)
}

/// GBDT loss curves (from the history CSV), gain importance and the features' correlation matrix.
pub fn gbdt(
    out: &Path,
    unit_id: &str,
    column: &str,
    history_csv: &str,
    importance: &[(String, f64)],
    features: &Array2<f64>,
    feature_names: &[String],
) -> Result<Option<String>> {
    let mut lines = history_csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').map(|v| v.parse().unwrap_or(f64::NAN)).collect()).collect();
    let mut panels = Vec::new();
    let mut loss = Plot::new().title(esc(&format!("GBDT loss, {column}"))).x_label("iteration").y_label("loss");
    let mut any_loss = false;
    for (k, name) in header.iter().enumerate().skip(1) {
        let x: Vec<f64> = rows.iter().map(|r| r[0]).collect();
        let y: Vec<f64> = rows.iter().map(|r| r.get(k).copied().unwrap_or(f64::NAN)).collect();
        if y.iter().any(|v| v.is_finite()) {
            loss = loss.with(Line::new(&x, &y).color(Color::palette(k - 1)).label(esc(name)))?;
            any_loss = true;
        }
    }
    if any_loss {
        panels.push(loss);
    }
    let total: f64 = importance.iter().map(|(_, g)| g).sum::<f64>().max(f64::MIN_POSITIVE);
    let gains: Vec<f64> = importance.iter().map(|(_, g)| g / total).collect();
    let order_names: Vec<String> = importance.iter().map(|(n, _)| n.clone()).collect();
    if !gains.is_empty() {
        panels.push(bars(
            Plot::new()
                .title("gain importance")
                .x_label(esc(&format!(
                    "ranked: {}",
                    order_names.iter().take(4).cloned().collect::<Vec<_>>().join(" > ")
                )))
                .y_label("fraction of gain")
                .y_range(0.0, 1.0),
            &gains,
            Color::TAB_GREEN,
        )?);
    }
    // A constant feature has no correlation: left out of the matrix (its row would be undefined).
    let n = feature_names.len();
    if let (true, Ok(corr)) = (n > 0, pearson_correlation_matrix(features.view())) {
        if corr.iter().any(|v| v.is_finite()) {
            panels.push(
                Plot::new()
                    .title("feature correlation")
                    .x_label(esc(&format!("0 = {}, {} = {}", feature_names[0], n - 1, feature_names[n - 1])))
                    .y_label("feature index")
                    .with(
                        HeatMap::new(&corr.iter().copied().collect::<Vec<_>>(), n, n)
                            .extent(0.0, n as f64, 0.0, n as f64)
                            .colorbar("Pearson r"),
                    )?,
            );
        }
    }
    if panels.is_empty() {
        return Ok(None);
    }
    let mut figure = Figure::new(600 * panels.len() as u32, 480).grid(1, panels.len());
    for p in panels {
        figure.add(p);
    }
    save(&figure, out, &format!("{unit_id}_{}_gbdt.png", slug(column))).map(Some)
}

/// A few test projections' input maps, one panel per map and projection.
pub fn example_maps(out: &Path, maps: &[(String, Array2<f32>)]) -> Result<Option<String>> {
    maps_grid(out, maps, "example_inputs.png")
}

/// Titled maps in a grid of up to 4 columns (an even count keeps input/saliency pairs side by side), as `name`.
pub fn maps_grid(out: &Path, maps: &[(String, Array2<f32>)], name: &str) -> Result<Option<String>> {
    if maps.is_empty() {
        return Ok(None);
    }
    let cols = maps.len().min(4);
    let rows = maps.len().div_ceil(cols);
    let mut figure = Figure::new(300 * cols as u32, 300 * rows as u32).grid(rows, cols);
    for (title, map) in maps {
        let (h, w) = map.dim();
        let values: Vec<f64> = map.iter().map(|v| f64::from(*v)).collect();
        figure.add(Plot::new().title(esc(title)).with(HeatMap::new(&values, h, w).colorbar(""))?);
    }
    save(&figure, out, name).map(Some)
}

/// Figures of every result of `evaluation`, written under `out/figures/`; returns (caption, file) pairs.
pub fn all(out: &Path, evaluation: &Evaluation) -> Result<Vec<(String, String)>> {
    let mut made = Vec::new();
    for r in &evaluation.results {
        let what = format!("{} trained on {}, tested on {}", r.unit.model, r.unit.train_suites.join("+"), r.test_suite);
        made.push((format!("Predicted vs true: {what}"), pred_vs_true(out, r)?));
        if let Some(f) = ratio_vs_radius(out, r, &evaluation.records)? {
            made.push((format!("Ratio vs radius: {what}"), f));
        }
        if let Some(f) = tarp(out, r)? {
            made.push((format!("TARP and marginal coverage: {what}"), f));
        }
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for r in &evaluation.records {
        let k = (r.test_suite.clone(), r.target.clone());
        if r.estimate != "classic" && !pairs.contains(&k) {
            pairs.push(k);
        }
    }
    for (test, target) in pairs {
        if let Some(f) = errors_vs_radius(out, &evaluation.records, &test, &target)? {
            made.push((format!("RMSE and MAE vs radius: {target} on {test}"), f));
        }
    }
    Ok(made)
}
