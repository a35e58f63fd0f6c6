//! The papers' published numbers, for experiment reports to print beside our own results.
//!
//! `published.toml` (next to this file, embedded at build time) holds one entry per number that chu2024,
//! delosrios2023, sarrato2025 and exposito2026 print in a table or state in their text: which model, trained and
//! tested on which suite, which target at which radius, which statistic, and a note on how the number was obtained
//! (printed, approximate, a bound, our reading of the sentence). The file's header defines the vocabulary; the
//! constants below are the same lists, and [`all`] checks every entry against them.
//!
//! ```
//! use galmass_pipeline::experiment::published;
//!
//! let table1 = published::for_paper("exposito2026")?
//!     .into_iter()
//!     .filter(|v| v.source == "Table 1" && v.model == "stargas" && v.statistic == "median_ratio")
//!     .collect::<Vec<_>>();
//! assert_eq!(table1.len(), 3); // 0.6, 1 and 2.4 R_hl
//! assert_eq!(table1[0].radius_over_rh, Some(0.6));
//! # Ok::<(), galmass_pipeline::error::PipelineError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

/// The file, as embedded.
const PUBLISHED_TOML: &str = include_str!("published.toml");

/// The papers, by their short names.
pub const PAPERS: [&str; 4] = ["chu2024", "delosrios2023", "sarrato2025", "exposito2026"];

/// The statistics an entry may hold (defined in the header of `published.toml`).
pub const STATISTICS: [&str; 13] = [
    "median_ratio",
    "p16_ratio",
    "p84_ratio",
    "scatter_ratio",
    "abs_bias_ratio",
    "bias_dex",
    "scatter_dex",
    "rmse_dex",
    "mae_dex",
    "uncertainty_dex",
    "importance_rank",
    "importance_fraction",
    "tarp_note",
];

/// The statistics that rank or weigh a LightGBM feature (the entry names it in `feature`).
pub const FEATURE_STATISTICS: [&str; 2] = ["importance_rank", "importance_fraction"];

/// The targets an entry may concern (our dataset target names, plus chu2024's `f_dm` and `f_star`).
pub const TARGETS: [&str; 7] =
    ["log10_mtot", "log10_mstar", "log10_mstar_2d", "log10_mdm", "log10_ml_r", "f_dm", "f_star"];

/// The suites a `train_suite` or `test_suite` may name (before an optional `:<subset>`).
pub const SUITES: [&str; 5] = ["nihao", "auriga", "nihao+auriga", "fire", "tng100"];

/// One published number.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedValue {
    /// The paper's short name, one of [`PAPERS`].
    pub paper: String,
    /// Where in the paper: a table, or a section (with the figure its text describes).
    pub source: String,
    /// Our name of the model or estimator, e.g. `cnn+maf`, `stargas`, `cnn:r+v_mean+v_disp`, `gbdt`, `net-b`, `wolf`.
    pub model: String,
    /// The suite trained on (one of [`SUITES`], optionally `:<subset>`), empty for estimators that are not trained.
    pub train_suite: String,
    /// The suite tested on (one of [`SUITES`]), optionally `:<subset>` (`:validation`, `:edge-on`, `:etg`, ...).
    pub test_suite: String,
    /// The target, one of [`TARGETS`].
    pub target: String,
    /// The radius in units of the projected half-light radius (sarrato2025, exposito2026).
    pub radius_over_rh: Option<f64>,
    /// The radius in units of chu2024's 3D half stellar mass radius R_hsm (its apertures).
    pub radius_over_rhsm: Option<f64>,
    /// The radius in kpc (delosrios2023).
    pub radius_kpc: Option<f64>,
    /// The LightGBM feature an `importance_*` statistic is about (`M_r`, `g_r`, `sigma_v`, `lambda_r`, ...).
    pub feature: Option<String>,
    /// The statistic, one of [`STATISTICS`].
    pub statistic: String,
    /// The number as the paper gives it.
    pub value: f64,
    /// How the number was obtained: printed in a table, quoted in the text, approximate, a bound, our reading.
    pub note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishedFile {
    values: Vec<PublishedValue>,
}

impl PublishedValue {
    /// The radius, whichever unit the paper uses: (value, `r_h` | `r_hsm` | `kpc`), or `None`.
    pub fn radius(&self) -> Option<(f64, &'static str)> {
        self.radius_over_rh
            .map(|r| (r, "r_h"))
            .or(self.radius_over_rhsm.map(|r| (r, "r_hsm")))
            .or(self.radius_kpc.map(|r| (r, "kpc")))
    }

    /// Checks the entry against the vocabulary: known paper, statistic, target and suites, a finite value, at most
    /// one positive radius in the unit of its paper, and a `feature` exactly for the feature statistics.
    pub fn check(&self) -> Result<(), PipelineError> {
        let what = || format!("published value {} {} ({}, {})", self.paper, self.model, self.source, self.statistic);
        let bad = |reason: String| Err(PipelineError::invalid(what(), reason));
        if !PAPERS.contains(&self.paper.as_str()) {
            return bad(format!("unknown paper {:?}, expected one of {PAPERS:?}", self.paper));
        }
        if !STATISTICS.contains(&self.statistic.as_str()) {
            return bad(format!("unknown statistic {:?}, expected one of {STATISTICS:?}", self.statistic));
        }
        if !TARGETS.contains(&self.target.as_str()) {
            return bad(format!("unknown target {:?}, expected one of {TARGETS:?}", self.target));
        }
        if self.source.trim().is_empty() || self.model.trim().is_empty() {
            return bad("empty source or model".into());
        }
        let suite = |s: &str| SUITES.contains(&s.split_once(':').map_or(s, |(suite, _)| suite));
        if !(self.train_suite.is_empty() || suite(&self.train_suite)) {
            return bad(format!("unknown train suite {:?}, expected one of {SUITES:?} or empty", self.train_suite));
        }
        if !suite(&self.test_suite) {
            return bad(format!("unknown test suite {:?}, expected one of {SUITES:?}", self.test_suite));
        }
        if !self.value.is_finite() {
            return bad(format!("value {} is not finite", self.value));
        }
        let radii = [self.radius_over_rh, self.radius_over_rhsm, self.radius_kpc];
        if radii.iter().flatten().count() > 1 {
            return bad("more than one of radius_over_rh, radius_over_rhsm and radius_kpc".into());
        }
        if let Some((r, unit)) = self.radius() {
            if !(r.is_finite() && r > 0.0) {
                return bad(format!("radius {r} {unit}, expected finite and > 0"));
            }
            let expected = match self.paper.as_str() {
                "chu2024" => "r_hsm",
                "delosrios2023" => "kpc",
                _ => "r_h",
            };
            if unit != expected {
                return bad(format!("radius in {unit}, but {} gives radii in {expected}", self.paper));
            }
        }
        let is_feature_statistic = FEATURE_STATISTICS.contains(&self.statistic.as_str());
        if is_feature_statistic != self.feature.is_some() {
            return bad(format!("`feature` must be given exactly for {FEATURE_STATISTICS:?}"));
        }
        Ok(())
    }
}

/// Every published value, in file order, each checked with [`PublishedValue::check`].
///
/// Errors if the embedded file does not parse or an entry is outside the vocabulary (a bug in `published.toml`,
/// caught by this module's tests).
pub fn all() -> Result<Vec<PublishedValue>, PipelineError> {
    let file: PublishedFile = toml::from_str(PUBLISHED_TOML)
        .map_err(|e| PipelineError::invalid("experiment/published.toml", format!("cannot parse: {e}")))?;
    for value in &file.values {
        value.check()?;
    }
    Ok(file.values)
}

/// The published values of one paper (`chu2024`, `delosrios2023`, `sarrato2025` or `exposito2026`), in file order.
///
/// Errors on an unknown paper name, or as [`all`].
pub fn for_paper(paper: &str) -> Result<Vec<PublishedValue>, PipelineError> {
    if !PAPERS.contains(&paper) {
        return Err(PipelineError::invalid("paper", format!("unknown paper {paper:?}, expected one of {PAPERS:?}")));
    }
    Ok(all()?.into_iter().filter(|v| v.paper == paper).collect())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;

    /// What identifies an entry: everything but the value and the note, radii as bit patterns.
    type Key = (String, String, String, String, String, String, [Option<u64>; 3], Option<String>, String);

    fn key(v: &PublishedValue) -> Key {
        (
            v.paper.clone(),
            v.source.clone(),
            v.model.clone(),
            v.train_suite.clone(),
            v.test_suite.clone(),
            v.target.clone(),
            [v.radius_over_rh, v.radius_over_rhsm, v.radius_kpc].map(|r| r.map(f64::to_bits)),
            v.feature.clone(),
            v.statistic.clone(),
        )
    }

    #[test]
    fn the_file_parses_and_every_entry_is_in_the_vocabulary() {
        let values = all().unwrap();
        assert!(values.len() > 100, "{} values", values.len());
        for v in &values {
            v.check().unwrap();
            assert!(PAPERS.contains(&v.paper.as_str()), "{v:?}");
            assert!(STATISTICS.contains(&v.statistic.as_str()), "{v:?}");
            assert!(v.value.is_finite(), "{v:?}");
            assert!(
                v.note.as_deref().is_some_and(|n| !n.trim().is_empty()),
                "every number says how it was obtained: {v:?}"
            );
        }
    }

    #[test]
    fn every_paper_has_entries_and_for_paper_selects_them() {
        let values = all().unwrap();
        let mut total = 0;
        for paper in PAPERS {
            let own = for_paper(paper).unwrap();
            assert!(!own.is_empty(), "{paper} has no published values");
            assert!(own.iter().all(|v| v.paper == paper));
            total += own.len();
        }
        assert_eq!(total, values.len());
        let err = for_paper("sarrato2024").unwrap_err();
        assert!(err.to_string().contains("unknown paper \"sarrato2024\""), "{err}");
    }

    #[test]
    fn radii_are_positive_and_in_each_papers_unit() {
        for v in all().unwrap() {
            let set = [v.radius_over_rh, v.radius_over_rhsm, v.radius_kpc].iter().flatten().count();
            assert!(set <= 1, "{v:?}");
            match v.paper.as_str() {
                "chu2024" => assert!(v.radius_over_rh.is_none() && v.radius_kpc.is_none(), "{v:?}"),
                "delosrios2023" => {
                    assert!(v.radius_over_rh.is_none() && v.radius_over_rhsm.is_none(), "{v:?}");
                    assert!(
                        v.radius_kpc.is_none_or(|r| (1.0..=100.0).contains(&r)),
                        "outside the 1..100 kpc grid: {v:?}"
                    );
                }
                _ => {
                    assert!(v.radius_over_rhsm.is_none() && v.radius_kpc.is_none(), "{v:?}");
                    assert!(v.radius_over_rh.is_none_or(|r| (0.5..=2.5).contains(&r)), "{v:?}");
                }
            }
            if let Some((r, _)) = v.radius() {
                assert!(r.is_finite() && r > 0.0, "{v:?}");
            }
        }
    }

    #[test]
    fn no_number_is_entered_twice() {
        let mut seen = HashMap::new();
        for (i, v) in all().unwrap().iter().enumerate() {
            if let Some(first) = seen.insert(key(v), i) {
                panic!(
                    "entries {first} and {i} share paper, source, model, suites, target, radius and statistic: {v:?}"
                );
            }
        }
    }

    #[test]
    fn percentiles_bracket_the_centre() {
        // (paper, source, model, suites, target, radius) -> statistic -> value.
        let mut groups: BTreeMap<Key, BTreeMap<String, f64>> = BTreeMap::new();
        let percentiles = ["p16_ratio", "median_ratio", "p84_ratio"];
        for v in all().unwrap().iter().filter(|v| percentiles.contains(&v.statistic.as_str())) {
            let mut k = key(v);
            k.8 = String::new();
            groups.entry(k).or_default().insert(v.statistic.clone(), v.value);
        }
        let mut complete = 0;
        for (k, stats) in &groups {
            if let (Some(p16), Some(median), Some(p84)) =
                (stats.get("p16_ratio"), stats.get("median_ratio"), stats.get("p84_ratio"))
            {
                assert!(0.0 < *p16 && p16 <= median && median <= p84, "{k:?}: {stats:?}");
                complete += 1;
            } else {
                assert!(!stats.contains_key("p16_ratio") && !stats.contains_key("p84_ratio"), "{k:?}: {stats:?}");
            }
        }
        // exposito2026 Tables 1 and 2: (3 + 6 rows) x 3 radii.
        assert_eq!(complete, 27);
    }

    #[test]
    fn features_come_with_the_feature_statistics_only() {
        for v in all().unwrap() {
            let ranked = FEATURE_STATISTICS.contains(&v.statistic.as_str());
            assert_eq!(ranked, v.feature.is_some(), "{v:?}");
            if v.statistic == "importance_rank" {
                assert!(v.value >= 1.0 && v.value.fract() == 0.0, "a rank is a positive integer: {v:?}");
            }
            if v.statistic == "importance_fraction" {
                assert!((0.0..=1.0).contains(&v.value), "{v:?}");
            }
        }
    }

    #[test]
    fn headline_numbers_are_as_printed() {
        let find = |paper: &str, source: &str, model: &str, target: &str, statistic: &str, radius: Option<f64>| {
            let hits: Vec<_> = for_paper(paper)
                .unwrap()
                .into_iter()
                .filter(|v| {
                    v.source == source
                        && v.model == model
                        && v.target == target
                        && v.statistic == statistic
                        && v.radius().map(|(r, _)| r) == radius
                        && (v.test_suite == "tng100" || v.test_suite == "nihao")
                })
                .collect();
            assert_eq!(hits.len(), 1, "{paper} {source} {model} {target} {statistic} {radius:?}: {hits:?}");
            hits[0].value
        };
        // chu2024 Table 4 and Table 6.
        assert_eq!(find("chu2024", "Table 4", "cnn:r+v_mean+v_disp", "log10_mstar", "scatter_dex", Some(1.0)), 0.04);
        assert_eq!(find("chu2024", "Table 4", "cnn:r+v_mean+v_disp", "log10_mtot", "scatter_dex", Some(1.0)), 0.06);
        assert_eq!(find("chu2024", "Table 4", "cnn:r+g_r+v_mean+v_disp", "log10_ml_r", "scatter_dex", Some(1.0)), 0.04);
        assert_eq!(find("chu2024", "Table 6", "gbdt", "log10_mdm", "scatter_dex", Some(1.0)), 0.13);
        assert_eq!(find("chu2024", "Table 6", "gbdt-no-mag", "log10_mtot", "scatter_dex", Some(1.0)), 0.11);
        // exposito2026 Table 1, StarGas at 0.6 R_hl: 1.00^+0.19_-0.16.
        assert_eq!(find("exposito2026", "Table 1", "stargas", "log10_mtot", "median_ratio", Some(0.6)), 1.00);
        assert!(
            (find("exposito2026", "Table 1", "stargas", "log10_mtot", "p16_ratio", Some(0.6)) - 0.84).abs() < 1e-12
        );
        assert!(
            (find("exposito2026", "Table 1", "stargas", "log10_mtot", "p84_ratio", Some(0.6)) - 1.19).abs() < 1e-12
        );
        // delosrios2023 Sect. 5.2: photometry only, ~0.23 near 10 kpc.
        assert_eq!(
            find("delosrios2023", "Sect. 5.2 (Fig. 5)", "net-b:u+r+z", "log10_mdm", "rmse_dex", Some(10.0)),
            0.23
        );
    }

    #[test]
    fn check_rejects_entries_outside_the_vocabulary() {
        let good = all().unwrap().into_iter().find(|v| v.paper == "exposito2026").unwrap();
        type Spoil = fn(&mut PublishedValue);
        let cases: [(&str, Spoil); 7] = [
            ("unknown paper", |v| v.paper = "smith2020".into()),
            ("unknown statistic", |v| v.statistic = "mean_ratio".into()),
            ("unknown target", |v| v.target = "log10_mgas".into()),
            ("unknown test suite", |v| v.test_suite = "eagle".into()),
            ("not finite", |v| v.value = f64::NAN),
            ("more than one", |v| v.radius_kpc = Some(5.0)),
            ("`feature` must be given", |v| v.feature = Some("M_r".into())),
        ];
        for (reason, spoil) in cases {
            let mut v = good.clone();
            spoil(&mut v);
            let err = v.check().unwrap_err();
            assert!(err.to_string().contains(reason), "{reason}: {err}");
        }
        let mut v = good;
        v.radius_over_rh = None;
        v.radius_kpc = Some(5.0);
        assert!(v.check().unwrap_err().to_string().contains("gives radii in r_h"));
    }
}
