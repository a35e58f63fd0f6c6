//! The science claims an experiment is judged by, checked against its records' bootstrap bands:
//! - sarrato2025: the CNN+MAF's scatter below every classic estimator's at every radius they cover; TARP's diagonal
//!   inside its band in-suite and outside it out of suite (the held-out fire-like suite); the degradation when a
//!   model is tested on a suite it was not trained on;
//! - exposito2026: StarGas's scatter below Star's and below Gas's;
//! - delosrios2023 and exposito2026: each network's scatter below the rotation-curve baseline's (the classic method
//!   on the same HI data, [`super::rc_baseline`]) at every target radius both measure, in-suite;
//! - chu2024: the GBDT's gain importance ranking a luminosity feature first for M*.
//!
//! A claim *holds* when the bands separate in its favour, *fails* when the value is on the wrong side, and is
//! *unresolved* when the values agree with it but the bands overlap. Nothing here is tuned: the verdicts are read
//! off whatever the run measured.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::evaluate::Record;

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The bands separate in the claim's favour.
    Holds,
    /// The values agree with the claim, the bands overlap.
    Unresolved,
    /// The values contradict the claim.
    Fails,
    /// Nothing in the run measures it.
    NotMeasured,
}

impl Verdict {
    fn word(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Unresolved => "unresolved (bands overlap)",
            Verdict::Fails => "FAILS",
            Verdict::NotMeasured => "not measured",
        }
    }
}

/// One claim and what the run says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The claim.
    pub text: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The numbers behind it.
    pub evidence: String,
}

/// The claims of a paper.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Claims(pub Vec<Claim>);

impl Claims {
    /// A Markdown table.
    pub fn to_markdown(&self) -> String {
        if self.0.is_empty() {
            return "No claim of this paper is checked automatically.\n".into();
        }
        let mut s = String::from("| claim | verdict | evidence |\n|---|---|---|\n");
        for c in &self.0 {
            let _ = writeln!(s, "| {} | {} | {} |", c.text, c.verdict.word(), c.evidence);
        }
        s
    }
}

fn suites(train: &str) -> Vec<&str> {
    train.split('+').collect()
}

/// `a` below `b` judged by the scatter bands.
fn below(a: &Record, b: &Record) -> Verdict {
    if a.scatter_band_dex[1] < b.scatter_band_dex[0] {
        Verdict::Holds
    } else if a.scatter_dex < b.scatter_dex {
        Verdict::Unresolved
    } else {
        Verdict::Fails
    }
}

/// Combines per-case verdicts: holds when all hold, fails when any fails, else unresolved.
fn combine(verdicts: &[Verdict]) -> Verdict {
    if verdicts.is_empty() {
        Verdict::NotMeasured
    } else if verdicts.contains(&Verdict::Fails) {
        Verdict::Fails
    } else if verdicts.iter().all(|v| *v == Verdict::Holds) {
        Verdict::Holds
    } else {
        Verdict::Unresolved
    }
}

fn count(verdicts: &[Verdict]) -> String {
    let n = |v: Verdict| verdicts.iter().filter(|x| **x == v).count();
    format!("{} hold, {} unresolved, {} fail", n(Verdict::Holds), n(Verdict::Unresolved), n(Verdict::Fails))
}

/// The in-suite posterior records of `model` on `test`: those of the unit trained on the most suites including it.
fn in_suite<'a>(records: &'a [Record], model: &str, test: &str) -> Vec<&'a Record> {
    let candidates: Vec<&Record> = records
        .iter()
        .filter(|r| r.model == model && r.test_suite == test && suites(&r.train_suite).contains(&test))
        .collect();
    let widest = candidates.iter().map(|r| suites(&r.train_suite).len()).max().unwrap_or(0);
    candidates.into_iter().filter(|r| suites(&r.train_suite).len() == widest).collect()
}

/// The test suites of `records`, each once, in first-appearance order.
fn test_suites<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for r in records {
        if !out.contains(&r.test_suite.as_str()) {
            out.push(&r.test_suite);
        }
    }
    out
}

fn nearest<'a>(records: &[&'a Record], radius: f64, target: &str) -> Option<&'a Record> {
    records
        .iter()
        .filter(|r| r.target == target)
        .filter_map(|r| r.radius_over_rh.map(|x| ((x - radius).abs(), *r)))
        .filter(|(d, _)| *d <= 0.25)
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, r)| r)
}

fn sarrato(records: &[Record]) -> Vec<Claim> {
    let flow = "cnn+maf";
    let mut out = Vec::new();
    let mut verdicts = Vec::new();
    let mut evidence = Vec::new();
    for test in test_suites(records.iter()) {
        let ours = in_suite(records, flow, test);
        for c in records.iter().filter(|r| r.estimate == "classic" && r.test_suite == test) {
            let Some(radius) = c.radius_over_rh else { continue };
            if let Some(o) = nearest(&ours, radius, "log10_mtot") {
                let v = below(o, c);
                verdicts.push(v);
                evidence.push(format!(
                    "{test}, {} at {radius:.2} R_h: {:.3} [{:.3}, {:.3}] vs {:.3} [{:.3}, {:.3}] ({})",
                    c.model,
                    o.scatter_dex,
                    o.scatter_band_dex[0],
                    o.scatter_band_dex[1],
                    c.scatter_dex,
                    c.scatter_band_dex[0],
                    c.scatter_band_dex[1],
                    v.word()
                ));
            }
        }
    }
    out.push(Claim {
        text: "CNN+MAF scatter (dex) below every classic estimator's at every radius they cover, in-suite".into(),
        verdict: combine(&verdicts),
        evidence: if evidence.is_empty() {
            "no estimator radius inside the targets' radii".into()
        } else {
            format!("{}; {}", count(&verdicts), evidence.join("; "))
        },
    });
    // TARP in-suite and out of suite, one value per unit and test suite (the first radius carries it).
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    let mut seen = Vec::new();
    for r in records.iter().filter(|r| r.model == flow && r.tarp_max_dev.is_some()) {
        let key = (r.train_suite.clone(), r.test_suite.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let own = suites(&r.train_suite).contains(&r.test_suite.as_str());
        let text = format!(
            "{} on {}: max dev {:.3} [{:.3}, {:.3}], diagonal {}",
            r.train_suite,
            r.test_suite,
            r.tarp_max_dev.unwrap_or(f64::NAN),
            r.tarp_band.map_or(f64::NAN, |b| b[0]),
            r.tarp_band.map_or(f64::NAN, |b| b[1]),
            if r.tarp_diagonal_inside == Some(true) { "inside the band" } else { "outside the band" }
        );
        if own {
            inside.push((r.tarp_diagonal_inside == Some(true), text));
        } else {
            outside.push((r.tarp_diagonal_inside == Some(false), text));
        }
    }
    let verdict = |cases: &[(bool, String)]| {
        if cases.is_empty() {
            Verdict::NotMeasured
        } else if cases.iter().all(|c| c.0) {
            Verdict::Holds
        } else {
            Verdict::Fails
        }
    };
    out.push(Claim {
        text: "TARP in-suite: the diagonal inside the ECP's 95% simultaneous band over galaxies (calibrated)".into(),
        verdict: verdict(&inside),
        evidence: inside.iter().map(|c| c.1.clone()).collect::<Vec<_>>().join("; "),
    });
    out.push(Claim {
        text: "TARP out of suite: the diagonal outside that band (miscalibrated on unseen physics)".into(),
        verdict: verdict(&outside),
        evidence: outside.iter().map(|c| c.1.clone()).collect::<Vec<_>>().join("; "),
    });
    out.push(degradation(records, flow));
    out
}

/// The scatter of single-suite units on other suites over their in-suite scatter, averaged over radii.
fn degradation(records: &[Record], model: &str) -> Claim {
    let mut lines = Vec::new();
    let mut verdicts = Vec::new();
    let mut pairs: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    for r in records.iter().filter(|r| r.model == model && !r.train_suite.contains('+')) {
        pairs.entry((r.train_suite.clone(), r.test_suite.clone())).or_default().push(r.scatter_dex);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    for ((train, test), s) in &pairs {
        if train == test {
            continue;
        }
        if let Some(own) = pairs.get(&(train.clone(), train.clone())) {
            let ratio = mean(s) / mean(own);
            verdicts.push(if ratio > 1.0 { Verdict::Holds } else { Verdict::Fails });
            lines.push(format!(
                "{train} -> {test}: scatter x{ratio:.2} ({:.3} vs {:.3} dex in-suite)",
                mean(s),
                mean(own)
            ));
        }
    }
    Claim {
        text: format!("cross-suite degradation of {model} measured (scatter on another suite above in-suite)"),
        verdict: combine(&verdicts),
        evidence: if lines.is_empty() { "no single-suite units".into() } else { lines.join("; ") },
    }
}

fn exposito(records: &[Record]) -> Vec<Claim> {
    let mut verdicts = Vec::new();
    let mut evidence = Vec::new();
    for test in test_suites(records.iter()) {
        let stargas = in_suite(records, "stargas", test);
        for other in ["star", "gas"] {
            let others = in_suite(records, other, test);
            let mut vs = Vec::new();
            for s in &stargas {
                let Some(radius) = s.radius_over_rh else { continue };
                if let Some(o) = nearest(&others, radius, &s.target) {
                    vs.push(below(s, o));
                }
            }
            if !vs.is_empty() {
                evidence.push(format!("{test}, vs {other}: {}", count(&vs)));
                verdicts.extend(vs);
            }
        }
    }
    vec![Claim {
        text: "StarGas scatter below Star's and below Gas's at every radius, in-suite".into(),
        verdict: combine(&verdicts),
        evidence: evidence.join("; "),
    }]
}

/// Each network model's scatter below the rotation-curve baseline's at every target and radius both measure.
fn beats_rotation_curve(records: &[Record]) -> Vec<Claim> {
    let rc: Vec<&Record> = records.iter().filter(|r| r.model == super::rc_baseline::MODEL).collect();
    if rc.is_empty() {
        return Vec::new();
    }
    let radius = |r: &Record| r.radius_over_rh.or(r.radius_kpc);
    let mut models: Vec<&str> = Vec::new();
    for r in records.iter().filter(|r| r.estimate != "classic" && !r.model.ends_with(":point")) {
        if !models.contains(&r.model.as_str()) {
            models.push(&r.model);
        }
    }
    let mut verdicts = Vec::new();
    let mut evidence = Vec::new();
    for model in models {
        for test in test_suites(rc.iter().copied()) {
            let ours = in_suite(records, model, test);
            let mut vs = Vec::new();
            let mut worst: Option<(f64, f64, f64)> = None;
            for o in &ours {
                let Some(c) = rc.iter().find(|c| {
                    c.test_suite == test
                        && c.target == o.target
                        && radius(c).zip(radius(o)).is_some_and(|(a, b)| (a - b).abs() < 1e-9)
                }) else {
                    continue;
                };
                vs.push(below(o, c));
                let gap = c.scatter_dex - o.scatter_dex;
                if worst.is_none_or(|w| gap < w.0) {
                    worst = Some((gap, o.scatter_dex, c.scatter_dex));
                }
            }
            if let Some((_, a, b)) = worst {
                evidence.push(format!("{model} on {test}: {} (closest: {a:.3} vs {b:.3} dex)", count(&vs)));
                verdicts.extend(vs);
            }
        }
    }
    vec![Claim {
        text: "every network's scatter below the rotation-curve baseline's (tilted rings + NFW MCMC on the same HI \
               maps) at every radius both measure, in-suite"
            .into(),
        verdict: combine(&verdicts),
        evidence: if evidence.is_empty() { "no radius in common".into() } else { evidence.join("; ") },
    }]
}

/// Luminosity features: absolute magnitudes (`M_r`) and luminosities (`L_r`, `luminosity*`). Not the
/// luminosity-weighted kinematics (`sigma_v_lum`), which measure motions.
fn is_luminosity(name: &str) -> bool {
    name.starts_with("M_") || name.starts_with("L_") || name.starts_with("luminosity") || name.starts_with("mag")
}

fn chu(importance: &BTreeMap<String, Vec<(String, f64)>>) -> Vec<Claim> {
    let mut verdicts = Vec::new();
    let mut evidence = Vec::new();
    for (k, v) in importance.iter().filter(|(k, _)| k.contains("log10_mstar")) {
        // Only models that were given a luminosity feature (chu2024 Table 6 also trains one without the magnitude).
        if !v.iter().any(|(f, _)| is_luminosity(f)) {
            continue;
        }
        let Some((first, _)) = v.first() else { continue };
        let holds = is_luminosity(first);
        verdicts.push(if holds { Verdict::Holds } else { Verdict::Fails });
        evidence.push(format!("{k}: first {first}"));
    }
    vec![Claim {
        text: "GBDT gain importance ranks a luminosity feature first for M* (models given one)".into(),
        verdict: combine(&verdicts),
        evidence: evidence.join("; "),
    }]
}

/// The claims of `paper` checked on `records` (and, for chu2024, the GBDT importances).
pub fn check(paper: &str, records: &[Record], importance: &BTreeMap<String, Vec<(String, f64)>>) -> Claims {
    // Claims are about whole test sets; subsets are reported beside them.
    let whole: Vec<Record> = records.iter().filter(|r| r.subset.is_none()).cloned().collect();
    let records = whole.as_slice();
    Claims(match paper {
        "sarrato2025" => sarrato(records),
        "exposito2026" => [exposito(records), beats_rotation_curve(records)].concat(),
        "delosrios2023" => beats_rotation_curve(records),
        "chu2024" => chu(importance),
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(model: &str, train: &str, test: &str, radius: f64, scatter: f64, band: [f64; 2], estimate: &str) -> Record {
        Record {
            paper: "p".into(),
            model: model.into(),
            train_suite: train.into(),
            test_suite: test.into(),
            target: "log10_mtot".into(),
            radius_over_rh: Some(radius),
            radius_kpc: None,
            radius_unit: "r_h".into(),
            estimate: estimate.into(),
            median_ratio: 1.0,
            median_ratio_band: [0.9, 1.1],
            p16_ratio: 0.8,
            p84_ratio: 1.2,
            scatter_dex: scatter,
            scatter_band_dex: band,
            rmse_dex: scatter,
            rmse_band_dex: band,
            mae_dex: scatter,
            mae_band_dex: band,
            bias_dex: 0.0,
            bias_band_dex: [0.0, 0.0],
            n_projections: 10,
            n_galaxies: 5,
            tarp_max_dev: None,
            tarp_band: None,
            tarp_diagonal_inside: None,
            coverage_68: None,
            subset: None,
        }
    }

    #[test]
    fn verdicts_follow_the_bands() {
        let records = vec![
            rec("cnn+maf", "a+b", "a", 1.0, 0.1, [0.08, 0.12], "posterior-median"),
            rec("wolf", "none", "a", 1.1, 0.2, [0.15, 0.25], "classic"),
            rec("walker", "none", "a", 1.0, 0.11, [0.1, 0.13], "classic"),
            rec("errani", "none", "a", 1.0, 0.05, [0.04, 0.06], "classic"),
        ];
        let claims = check("sarrato2025", &records, &BTreeMap::new());
        assert_eq!(claims.0[0].verdict, Verdict::Fails, "{:?}", claims.0[0]);
        assert!(claims.0[0].evidence.contains("1 hold, 1 unresolved, 1 fail"), "{}", claims.0[0].evidence);
        let mut imp = BTreeMap::new();
        imp.insert("gbdt__t/log10_mstar@1".to_string(), vec![("M_r".to_string(), 3.0), ("sfr".to_string(), 1.0)]);
        assert_eq!(check("chu2024", &[], &imp).0[0].verdict, Verdict::Holds);
        imp.insert("nomag__t/log10_mstar@1".to_string(), vec![("sigma_v_lum".to_string(), 3.0)]);
        assert_eq!(
            check("chu2024", &[], &imp).0[0].verdict,
            Verdict::Holds,
            "a model without luminosity is not judged"
        );
        imp.insert("gbdt__t/log10_mstar@2".to_string(), vec![("sfr".to_string(), 3.0), ("M_r".to_string(), 1.0)]);
        assert_eq!(check("chu2024", &[], &imp).0[0].verdict, Verdict::Fails);
    }

    #[test]
    fn networks_are_judged_against_the_rotation_curve_at_shared_radii() {
        let mut records = vec![
            rec("net-a", "a", "a", 1.0, 0.1, [0.08, 0.12], "posterior-median"),
            rec("net-a", "a", "a", 2.0, 0.1, [0.08, 0.12], "posterior-median"),
            rec("rotation-curve", "none", "a", 1.0, 0.3, [0.25, 0.35], "classic"),
            rec("rotation-curve", "none", "a", 2.0, 0.3, [0.25, 0.35], "classic"),
            rec("rotation-curve", "none", "a", 5.0, 0.01, [0.0, 0.02], "classic"),
        ];
        let claims = check("delosrios2023", &records, &BTreeMap::new());
        assert_eq!(claims.0.len(), 1);
        assert_eq!(claims.0[0].verdict, Verdict::Holds, "{:?}", claims.0[0]);
        assert!(claims.0[0].evidence.contains("net-a on a: 2 hold"), "{}", claims.0[0].evidence);
        records[3].scatter_dex = 0.05;
        records[3].scatter_band_dex = [0.04, 0.06];
        assert_eq!(check("delosrios2023", &records, &BTreeMap::new()).0[0].verdict, Verdict::Fails);
        assert!(check("delosrios2023", &records[..2], &BTreeMap::new()).0.is_empty(), "no baseline, no claim");
    }
}
