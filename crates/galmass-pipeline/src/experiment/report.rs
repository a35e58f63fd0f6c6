//! The evaluation report: `REPORT/report.md` (provenance, tables, the papers' claims checked against our bands,
//! the published values next to ours, figures), `REPORT/tables/records.{csv,md}`, `REPORT/figures/*.png` and
//! `REPORT/summary.json`.

use std::fmt::Write as _;
use std::path::Path;

use galmass_core::atomic::write_bytes_atomic;

use super::evaluate::{write_summary, Evaluation, Record};
use super::figures;
use super::published::{self, PublishedValue};
use super::train::{column_slug, create_dir};
use super::ExperimentData;
use crate::PipelineError;

type Result<T> = std::result::Result<T, PipelineError>;

fn fmt(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "-".into()
    }
}

fn band(b: [f64; 2]) -> String {
    format!("[{}, {}]", fmt(b[0]), fmt(b[1]))
}

fn radius(r: &Record) -> String {
    match (r.radius_over_rh, r.radius_kpc) {
        (Some(x), _) if r.radius_unit == "estimator" => format!("{} R_h (own)", fmt(x)),
        (Some(x), _) => format!("{} {}", fmt(x), r.radius_unit),
        (_, Some(k)) => format!("{} kpc", fmt(k)),
        _ => "-".into(),
    }
}

/// The records as CSV (every field).
pub fn records_csv(records: &[Record]) -> String {
    let mut s = String::from(
        "paper,model,train_suite,test_suite,target,radius_over_rh,radius_kpc,radius_unit,estimate,median_ratio,\
         median_ratio_lo,median_ratio_hi,p16_ratio,p84_ratio,scatter_dex,scatter_lo,scatter_hi,rmse_dex,rmse_lo,rmse_hi,\
         mae_dex,bias_dex,n_projections,n_galaxies,tarp_max_dev,tarp_lo,tarp_hi,tarp_diagonal_inside,coverage_68,subset\n",
    );
    let o = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    for r in records {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.paper,
            r.model,
            r.train_suite,
            r.test_suite,
            r.target,
            o(r.radius_over_rh),
            o(r.radius_kpc),
            r.radius_unit,
            r.estimate,
            r.median_ratio,
            r.median_ratio_band[0],
            r.median_ratio_band[1],
            r.p16_ratio,
            r.p84_ratio,
            r.scatter_dex,
            r.scatter_band_dex[0],
            r.scatter_band_dex[1],
            r.rmse_dex,
            r.rmse_band_dex[0],
            r.rmse_band_dex[1],
            r.mae_dex,
            r.bias_dex,
            r.n_projections,
            r.n_galaxies,
            o(r.tarp_max_dev),
            o(r.tarp_band.map(|b| b[0])),
            o(r.tarp_band.map(|b| b[1])),
            r.tarp_diagonal_inside.map_or(String::new(), |b| b.to_string()),
            o(r.coverage_68),
            r.subset.as_deref().unwrap_or(""),
        );
    }
    s
}

/// A Markdown table of records.
pub fn records_table(records: &[&Record]) -> String {
    let mut s = String::from(
        "| model | trained on | tested on | target | radius | median pred/true [band] | 16-84 % | scatter dex [band] | \
         RMSE dex | TARP max dev [band] | n (galaxies) |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in records {
        let tarp = match (r.tarp_max_dev, r.tarp_band) {
            (Some(d), Some(b)) => {
                format!("{} {}{}", fmt(d), band(b), if r.tarp_diagonal_inside == Some(true) { " ✓" } else { "" })
            }
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} {} | {}-{} | {} {} | {} | {} | {} ({}) |",
            r.model,
            r.train_suite,
            r.test_suite,
            r.target,
            radius(r),
            fmt(r.median_ratio),
            band(r.median_ratio_band),
            fmt(r.p16_ratio),
            fmt(r.p84_ratio),
            fmt(r.scatter_dex),
            band(r.scatter_band_dex),
            fmt(r.rmse_dex),
            tarp,
            r.n_projections,
            r.n_galaxies
        );
    }
    s
}

/// The statistic a published value names, read off our record.
fn our_value(r: &Record, statistic: &str) -> Option<f64> {
    Some(match statistic {
        "median_ratio" => r.median_ratio,
        "p16_ratio" => r.p16_ratio,
        "p84_ratio" => r.p84_ratio,
        "scatter_dex" => r.scatter_dex,
        "bias_dex" => r.bias_dex,
        "rmse_dex" => r.rmse_dex,
        "mae_dex" => r.mae_dex,
        _ => return None,
    })
}

/// Whether our suite name stands for the paper's (`nihao-like` for `nihao`, `tng-like` for `tng100`).
fn suite_matches(ours: &str, theirs: &str) -> bool {
    let stem = |s: &str| -> String {
        s.split('+').map(|p| p.trim().trim_end_matches("-like").replace("tng100", "tng")).collect::<Vec<_>>().join("+")
    };
    theirs.is_empty() || stem(ours) == stem(theirs)
}

/// Our record closest to a published value (same model, target and statistic, matching suites, nearest radius).
pub fn closest<'a>(records: &'a [Record], p: &PublishedValue) -> Option<&'a Record> {
    let dist = |r: &Record| -> Option<f64> {
        let unit_is = |u: &str| r.radius_unit == u || (u == "r_h" && r.radius_unit == "estimator");
        match (p.radius_over_rh, p.radius_over_rhsm, p.radius_kpc) {
            (Some(x), _, _) if unit_is("r_h") => r.radius_over_rh.map(|y| (y - x).abs()),
            (_, Some(x), _) if unit_is("r_hsm") => r.radius_over_rh.map(|y| (y - x).abs()),
            (_, _, Some(k)) => r.radius_kpc.map(|y| (y - k).abs() / k.max(1e-9)),
            (None, None, None) => Some(0.0),
            _ => None,
        }
    };
    records
        .iter()
        .filter(|r| r.subset.is_none() && r.model == p.model && r.target == p.target)
        .filter(|r| our_value(r, &p.statistic).is_some())
        .filter(|r| suite_matches(&r.test_suite, &p.test_suite))
        .filter(|r| r.estimate == "classic" || suite_matches(&r.train_suite, &p.train_suite))
        .filter_map(|r| dist(r).map(|d| (d, r)))
        .filter(|(d, _)| *d <= 0.25)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, r)| r)
}

/// The published values of `paper` with ours beside them.
pub fn published_table(paper: &str, records: &[Record]) -> Result<String> {
    let values = published::for_paper(paper)?;
    if values.is_empty() {
        return Ok(String::from("The paper gives no values that this report can set against ours.\n"));
    }
    let mut s = String::from(
        "| source | model | trained on | tested on | target | radius | statistic | published | ours (same setting) |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for p in &values {
        let r = match (p.radius_over_rh, p.radius_over_rhsm, p.radius_kpc) {
            (Some(x), _, _) => format!("{x} R_h"),
            (_, Some(x), _) => format!("{x} R_hsm"),
            (_, _, Some(k)) => format!("{k} kpc"),
            _ => "-".into(),
        };
        let ours = closest(records, p).and_then(|rec| {
            our_value(rec, &p.statistic)
                .map(|v| format!("{} ({} on {}, {})", fmt(v), rec.train_suite, rec.test_suite, radius(rec)))
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {}{} | {} |",
            p.source,
            p.model,
            p.train_suite,
            p.test_suite,
            p.target,
            r,
            p.statistic,
            p.value,
            p.note.as_deref().map_or(String::new(), |n| format!(" ({n})")),
            ours.unwrap_or_else(|| "not measured here".into())
        );
    }
    Ok(s)
}

/// Writes the whole report of `evaluation` into `out` and returns the path of `report.md`.
pub fn write_report(
    out: &Path,
    evaluation: &Evaluation,
    data: &ExperimentData,
    run_dir: &Path,
) -> Result<std::path::PathBuf> {
    create_dir(&out.join("figures"))?;
    create_dir(&out.join("tables"))?;
    write_summary(out, evaluation)?;
    let records = &evaluation.records;
    write_bytes_atomic(&out.join("tables/records.csv"), records_csv(records).as_bytes())?;
    let all: Vec<&Record> = records.iter().collect();
    write_bytes_atomic(&out.join("tables/records.md"), records_table(&all).as_bytes())?;
    let config = &evaluation.run.experiment;
    let mut md = String::new();
    let _ = writeln!(md, "# {}: {}\n", config.paper, config.name);
    let _ = writeln!(
        md,
        "Dataset `{}` (recipe {}), run `{}` (galmass {}, trained on {}). Every band is the 68% interval of {} \
         bootstrap replicates over galaxies. Models trained on synthetic suites are not for scientific use.\n",
        evaluation.dataset.display(),
        evaluation.run.dataset_recipe_hash,
        run_dir.display(),
        evaluation.run.git_revision,
        evaluation.run.device,
        config.evaluation.bootstrap
    );
    md.push_str("## Trained units\n\n| unit | model | trained on | maps | scalars | targets | train / validation | parameters | seconds |\n|---|---|---|---|---|---|---|---|---|\n");
    for u in &evaluation.run.units {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} / {} | {} | {:.1} |",
            u.id,
            u.model,
            u.train_suites.join("+"),
            u.maps.join(", "),
            u.scalars.join(", "),
            u.targets.join(", "),
            u.n_train,
            u.n_validation,
            u.n_parameters,
            u.seconds
        );
    }
    md.push_str("\n## The papers' claims, checked\n\n");
    md.push_str(&super::claims::check(&config.paper, records, &evaluation.importance).to_markdown());
    let mut suites: Vec<String> = Vec::new();
    for r in records {
        if !suites.contains(&r.test_suite) {
            suites.push(r.test_suite.clone());
        }
    }
    for suite in &suites {
        let _ = writeln!(md, "\n## Tested on {suite}\n");
        let ours: Vec<&Record> = records.iter().filter(|r| &r.test_suite == suite && r.estimate != "classic").collect();
        md.push_str(&records_table(&ours));
        let classic: Vec<&Record> =
            records.iter().filter(|r| &r.test_suite == suite && r.estimate == "classic").collect();
        if !classic.is_empty() {
            md.push_str("\nClassic estimators on the same projections (each at its own radius):\n\n");
            md.push_str(&records_table(&classic));
        }
    }
    if let Some(rc) = &evaluation.rotation_curve {
        md.push_str("\n## The rotation-curve baseline\n\n");
        md.push_str(&rc.to_markdown());
    }
    if !evaluation.importance.is_empty() {
        md.push_str("\n## GBDT gain importance\n\n| unit / column | ranking (fraction of gain) |\n|---|---|\n");
        for (k, v) in &evaluation.importance {
            let total: f64 = v.iter().map(|(_, g)| g).sum::<f64>().max(f64::MIN_POSITIVE);
            let ranking: Vec<String> = v.iter().map(|(f, g)| format!("{f} ({:.2})", g / total)).collect();
            let _ = writeln!(md, "| {k} | {} |", ranking.join(", "));
        }
    }
    md.push_str("\n## Published values next to ours\n\n");
    md.push_str(&published_table(&config.paper, records)?);
    md.push_str("\n## Figures\n\n");
    let mut figs = figures::all(out, evaluation)?;
    for u in evaluation.run.units.iter().filter(|u| u.kind == super::config::ModelKind::Gbdt) {
        let rows = data.rows(&u.train_suites, &[crate::dataset::reader::Split::Train]);
        let x = data.scalars(&u.scalars, &rows)?;
        for column in &u.columns {
            let hist = std::fs::read_to_string(
                run_dir.join("units").join(&u.id).join(format!("gbdt-{}-history.csv", column_slug(column))),
            )
            .unwrap_or_default();
            let imp = evaluation.importance.get(&format!("{}/{column}", u.id)).cloned().unwrap_or_default();
            if let Some(f) = figures::gbdt(out, &u.id, column, &hist, &imp, &x, &u.scalars)? {
                let caption =
                    format!("GBDT {} for {column}: loss curves, gain importance, feature correlations", u.model);
                figs.push((caption, f));
            }
        }
    }
    if let Some(f) = example_maps(out, evaluation, data)? {
        figs.insert(0, ("Example input maps of test projections".into(), f));
    }
    figs.extend(smoothgrad_maps(out, evaluation, data, run_dir)?);
    for (caption, file) in &figs {
        let _ = writeln!(md, "### {caption}\n\n![{caption}]({file})\n");
    }
    let path = out.join("report.md");
    write_bytes_atomic(&path, md.as_bytes())?;
    Ok(path)
}

/// SmoothGrad sensitivity maps (Smilkov et al. 2017; delosrios2023 §4) of the models that ask for them: the first
/// test projection's inputs next to the gradient of the middle output column, averaged over 16 noisy copies (noise
/// 10% of each map's range).
fn smoothgrad_maps(
    out: &Path,
    evaluation: &Evaluation,
    data: &ExperimentData,
    run_dir: &Path,
) -> Result<Vec<(String, String)>> {
    let mut made = Vec::new();
    let config = &evaluation.run.experiment;
    for spec in config.models.iter().filter(|m| m.smoothgrad) {
        let Some(r) = evaluation.results.iter().find(|r| r.unit.model == spec.name && !r.rows.is_empty()) else {
            continue;
        };
        let unit = &r.unit;
        let dir = run_dir.join("units").join(&unit.id).join("cnn");
        let (net, _) =
            galmass_models::regressor::Regressor::load(&dir, galmass_models::ComputeDevice::preferred(), None)?;
        let rows = &r.rows[..1];
        let source = data.source(rows, &unit.maps, &unit.map_scaling, unit.downsample, &unit.scalars, &unit.targets)?;
        let batch = galmass_models::data::BatchSource::batch(&source, &[0])?;
        let output = unit.columns.len() / 2;
        let grads = net.smoothgrad(&batch, output, 16, 0.1, config.seed)?;
        let mut panels = Vec::new();
        for name in &unit.maps {
            let (Some(input), Some(grad)) = (batch.inputs.get(name), grads.get(name)) else { continue };
            let slice = |a: &ndarray::ArrayD<f32>| -> Option<ndarray::Array2<f32>> {
                a.slice(ndarray::s![0, 0, .., ..]).into_dimensionality::<ndarray::Ix2>().ok().map(|v| v.to_owned())
            };
            if let (Some(i), Some(g)) = (slice(input), slice(grad)) {
                panels.push((format!("{name} (scaled)"), i));
                panels.push((format!("{name}: SmoothGrad of {}", unit.columns[output]), g.mapv(f32::abs)));
            }
        }
        if panels.is_empty() {
            continue;
        }
        let name = format!("{}_smoothgrad.png", unit.id);
        if let Some(f) = figures::maps_grid(out, &panels, &name)? {
            made.push((format!("SmoothGrad sensitivity of {} on a {} test projection", unit.model, r.test_suite), f));
        }
    }
    Ok(made)
}

/// The maps of the first few test projections of the first network unit.
fn example_maps(out: &Path, evaluation: &Evaluation, data: &ExperimentData) -> Result<Option<String>> {
    let Some(r) = evaluation.results.iter().find(|r| !r.unit.maps.is_empty()) else { return Ok(None) };
    let mut panels = Vec::new();
    for &row in r.rows.iter().take(evaluation.run.experiment.evaluation.example_maps) {
        for name in &r.unit.maps {
            let map = data.map(name, r.unit.downsample)?;
            let m = map.slice(ndarray::s![row, 0, .., ..]).to_owned();
            panels.push((format!("{name}, {} #{row}", data.suite[row]), m));
        }
    }
    figures::example_maps(out, &panels)
}
