//! `galmass dataset inspect DIR`: what a dataset holds (counts per suite and split, value ranges of every input,
//! scalar and target, the estimators, the provenance) and a PNG of example maps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galmass_plot::{Colormap, Figure, Scale};
use serde::Serialize;

use super::reader::{DatasetFile, Provenance};
use super::writer::Moments;
use crate::optical::{escape_markup, heat_panel, save_figure};
use crate::PipelineError;

/// The range of one column (NaN and infinities counted, not included).
#[derive(Debug, Clone, Serialize)]
pub struct Range {
    /// The name (`targets/<name>` per radius: `<name>[k]`).
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// Minimum.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Maximum.
    pub max: f64,
    /// Non-finite values.
    pub non_finite: u64,
}

impl Range {
    fn of(m: &Moments, name: String, unit: String) -> Range {
        let [mean, _, min, max] = m.row();
        Range { name, unit, min, mean, max, non_finite: m.non_finite() }
    }
}

/// What `galmass dataset inspect` reports.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    /// The dataset file.
    pub path: PathBuf,
    /// Provenance.
    pub provenance: Provenance,
    /// Projections.
    pub n_projections: usize,
    /// Projections per suite and split.
    pub projections: BTreeMap<String, BTreeMap<String, usize>>,
    /// Galaxies per suite and split.
    pub galaxies: BTreeMap<String, BTreeMap<String, usize>>,
    /// Inputs: `(channel, y, x)` and value ranges.
    pub inputs: Vec<(Range, [usize; 3])>,
    /// Scalar ranges.
    pub scalars: Vec<Range>,
    /// Target ranges per radius.
    pub targets: Vec<Range>,
    /// Estimators stored.
    pub estimators: Vec<String>,
    /// The PNG of example maps, if written.
    pub figure: Option<PathBuf>,
}

/// Inspects `DIR/dataset.h5`; with `figure`, draws the inputs of `n_examples` projections (one galaxy each, the
/// first of each suite's training galaxies) into that PNG.
pub fn inspect(dir: &Path, figure: Option<&Path>, n_examples: usize) -> Result<InspectReport, PipelineError> {
    let path = dir.join("dataset.h5");
    let file = DatasetFile::open(&path)?;
    let n = file.n_projections();
    let (suite, split, ids) = (file.suite()?, file.split()?, file.galaxy_id()?);
    let mut projections: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut seen: BTreeMap<(String, i64), ()> = BTreeMap::new();
    let mut galaxies: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for i in 0..n {
        *projections.entry(suite[i].clone()).or_default().entry(split[i].name().into()).or_default() += 1;
        if seen.insert((suite[i].clone(), ids[i]), ()).is_none() {
            *galaxies.entry(suite[i].clone()).or_default().entry(split[i].name().into()).or_default() += 1;
        }
    }
    let mut inputs = Vec::new();
    const BLOCK: usize = 256;
    for name in file.inputs() {
        let info = file.input_info(name)?;
        let mut acc = Moments::default();
        let mut start = 0;
        while start < n {
            let count = BLOCK.min(n - start);
            for v in file.read_input_rows(name, start, count)?.iter() {
                acc.add(f64::from(*v));
            }
            start += count;
        }
        let s = info.shape;
        inputs.push((Range::of(&acc, name.clone(), info.unit.clone()), [s.channels, s.y, s.x]));
    }
    let mut scalars = Vec::new();
    for name in file.scalars() {
        let mut acc = Moments::default();
        file.scalar(name)?.iter().for_each(|v| acc.add(*v));
        scalars.push(Range::of(&acc, name.clone(), file.scalar_unit(name)?));
    }
    let mut targets = Vec::new();
    for name in file.targets() {
        let values = file.target(name)?;
        let info = file.target_info(name)?;
        for (k, r) in info.radii.iter().enumerate() {
            let mut acc = Moments::default();
            values.column(k).iter().for_each(|v| acc.add(*v));
            targets.push(Range::of(&acc, format!("{name}[{r} {}]", info.radius_unit), info.unit.clone()));
        }
    }
    let figure_path = match figure {
        Some(p) if n > 0 && !file.inputs().is_empty() => {
            // The first training projection of up to `n_examples` galaxies, suites taken in turn.
            let mut rows = Vec::new();
            let mut used: Vec<(String, i64)> = Vec::new();
            for i in 0..n {
                let key = (suite[i].clone(), ids[i]);
                if rows.len() < n_examples.max(1) && !used.contains(&key) {
                    used.push(key);
                    rows.push(i);
                }
            }
            let names = file.inputs().to_vec();
            let cols = names.len();
            let mut fig = Figure::new(380 * cols as u32 + 40, 340 * rows.len() as u32 + 60)
                .grid(rows.len(), cols)
                .title(format!("{}: example inputs", escape_markup(&file.provenance().name)));
            for &row in &rows {
                for name in &names {
                    let info = file.input_info(name)?;
                    let map = file.read_input_rows(name, row, 1)?;
                    let m = map.slice(ndarray::s![0, 0, .., ..]).mapv(f64::from);
                    let title = format!(
                        "{} {} #{} ({})",
                        escape_markup(name),
                        escape_markup(&suite[row]),
                        ids[row],
                        split[row].name()
                    );
                    fig = fig.with(heat_panel(
                        &title,
                        &m,
                        [info.x_range[0], info.x_range[1], info.y_range[0], info.y_range[1]],
                        [&escape_markup(&info.x_label), &escape_markup(&info.y_label)],
                        &escape_markup(&info.unit),
                        Colormap::Viridis,
                        Scale::Linear,
                    )?);
                }
            }
            save_figure(p, fig)?;
            Some(p.to_owned())
        }
        _ => None,
    };
    Ok(InspectReport {
        path,
        provenance: file.provenance().clone(),
        n_projections: n,
        projections,
        galaxies,
        inputs,
        scalars,
        targets,
        estimators: file.estimators()?,
        figure: figure_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::config::DatasetConfig;

    #[test]
    fn inspect_counts_ranges_and_draws_examples() {
        let dir = tempfile::tempdir().unwrap();
        let config = DatasetConfig::from_toml(include_str!("../../tests/data/tiny_dataset.toml"), "tiny").unwrap();
        let manifest = crate::dataset::build::build(&config, dir.path(), &|| {}).unwrap();
        let png = dir.path().join("examples.png");
        let report = inspect(dir.path(), Some(&png), 3).unwrap();
        assert_eq!(report.n_projections, manifest.n_projections);
        for (suite, splits) in &manifest.counts {
            for (split, count) in splits {
                let got = report.projections.get(suite).and_then(|m| m.get(split)).copied().unwrap_or(0);
                assert_eq!(got, *count, "{suite} {split}");
            }
        }
        assert_eq!(report.inputs.len(), 2);
        assert_eq!(report.inputs[0].1, [1, 16, 16]);
        // KDE maps are densities: non-negative, positive somewhere.
        assert!(report.inputs[0].0.min >= 0.0 && report.inputs[0].0.max > 0.0);
        assert_eq!(report.targets.len(), 3);
        // log10 M(< 0.6 R_h) < log10 M(< 1.8 R_h) on average.
        assert!(report.targets[0].mean < report.targets[2].mean);
        assert_eq!(report.estimators.len(), 5);
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert!(inspect(&dir.path().join("nothing"), None, 1).is_err());
    }
}
