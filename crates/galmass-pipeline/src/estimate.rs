//! The classic dynamical mass estimators of one projection of a galaxy file, with the true enclosed mass at each
//! estimator's radius: galmass-snapshot reads, galmass-core projects, galmass-mock adds observational velocity
//! errors, galmass-estimators estimates. `galmass estimate` prints this.
//!
//! The JSON form ([`EstimateOutput::to_json`]) is a contract: one object keyed by estimator (`walker`, `wolf`,
//! `amorisco_evans`, `campbell`, `errani`) with `mass_msun`, `mass_err_msun`, `radius_kpc`, `true_mass_msun`,
//! `sigma_kms`, `n_stars` (or `skipped` with the reason), and the projection's `r_h_kpc`, `sigma_los_kms`,
//! `n_stars` and `los`.

use std::path::Path;

use galmass_core::params::Params;
use galmass_estimators::classic::{estimate_all, EstimatorKind, EstimatorParams, EstimatorReport, MassEstimate};
use galmass_mock::sampling::{observe, RealismParams, VelocityErrors};
use serde_json::{json, Map, Value};

use crate::projection::{load_projection_for, Projection, ProjectionRequest};
use crate::PipelineError;

/// What to estimate: the projection, observational errors and the estimators' parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EstimateRequest {
    /// The projection (line of sight, star subsample and its seed).
    pub projection: ProjectionRequest,
    /// Gaussian velocity errors of this size (km/s) added to each star (seeded by `projection.seed`), then
    /// corrected for by maximum likelihood. `None`: exact velocities.
    pub velocity_error_kms: Option<f64>,
    /// The estimators' parameters (annulus, bootstrap resamples, bootstrap seed).
    pub params: EstimatorParams,
}

/// One estimator's result next to the truth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EstimateWithTruth {
    /// The estimate.
    pub estimate: MassEstimate,
    /// The true total mass within the estimate's radius (3-D), Msun; `None` outside the truth profile.
    pub true_mass_msun: Option<f64>,
}

/// The estimators of one projection with the truth.
#[derive(Debug, Clone)]
pub struct EstimateOutput {
    /// The projection estimated.
    pub projection: Projection,
    /// The estimators' report (shared R_h and sigma_los, estimates, skips).
    pub report: EstimatorReport,
    /// Each estimate with the true mass at its radius, in the report's order.
    pub estimates: Vec<EstimateWithTruth>,
    /// Estimators that could not be computed, with the reason.
    pub skipped: Vec<(EstimatorKind, String)>,
}

impl EstimateOutput {
    /// The contract JSON object (module docs).
    pub fn to_json(&self) -> Value {
        let mut table = Map::new();
        for e in &self.estimates {
            table.insert(
                e.estimate.estimator.key().to_string(),
                json!({
                    "mass_msun": e.estimate.mass_msun,
                    "mass_err_msun": e.estimate.mass_err_msun,
                    "radius_kpc": e.estimate.radius_kpc,
                    "true_mass_msun": e.true_mass_msun,
                    "sigma_kms": e.estimate.sigma_kms,
                    "n_stars": e.estimate.n_stars,
                }),
            );
        }
        for (kind, reason) in &self.skipped {
            table.insert(kind.key().to_string(), json!({ "skipped": reason }));
        }
        table.insert("r_h_kpc".into(), json!(self.report.r_h_kpc));
        table.insert("sigma_los_kms".into(), json!(self.report.sigma_los_kms));
        table.insert("n_stars".into(), json!(self.report.n_stars));
        table.insert("los".into(), json!(self.projection.los.direction()));
        Value::Object(table)
    }
}

/// Runs the classic estimators on one projection of the galaxy file at `path`.
pub fn estimate_galaxy(path: &Path, request: &EstimateRequest) -> Result<EstimateOutput, PipelineError> {
    let projection = load_projection_for(path, &request.projection, "estimate from")?;
    let params = request.params.check()?;
    let observed = match request.velocity_error_kms {
        Some(e) if !(e >= 0.0 && e.is_finite()) => {
            return Err(PipelineError::invalid(
                "velocity error",
                format!("must be a finite non-negative number of km/s, got {e}"),
            ))
        }
        Some(kms) => {
            let realism =
                RealismParams { velocity_errors: Some(VelocityErrors::Fixed { kms }), ..RealismParams::default() }
                    .check()?;
            Some(observe(&projection.stars, &realism, request.projection.seed)?)
        }
        None => None,
    };
    let (stars, errors) = match &observed {
        Some(sample) => (&sample.stars, sample.velocity_errors_kms.as_deref()),
        None => (&projection.stars, None),
    };
    let report = estimate_all(stars, errors, &params).map_err(|source| PipelineError::Estimate {
        path: path.to_owned(),
        los: projection.los.direction(),
        source,
    })?;
    let estimates = {
        let truth = projection.truth()?;
        let at = |r: f64| truth.enclosed_mass_msun(None, r).ok();
        report.estimates.iter().map(|e| EstimateWithTruth { estimate: *e, true_mass_msun: at(e.radius_kpc) }).collect()
    };
    let skipped = report.skipped.clone();
    Ok(EstimateOutput { projection, report, estimates, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{synth_galaxy, write_galaxy};
    use galmass_synth::suite::{build_galaxy, SuiteParams};

    fn spheroid(dir: &Path, with_truth: bool) -> std::path::PathBuf {
        let mut galaxy = synth_galaxy("spheroids", (3000, 3000, None), 0, 5);
        if !with_truth {
            galaxy.truth = None;
        }
        write_galaxy(dir, if with_truth { "g.h5" } else { "g_no_truth.h5" }, &galaxy)
    }

    #[test]
    fn estimates_carry_the_truth_and_the_contract_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = spheroid(dir.path(), true);
        let request = EstimateRequest {
            projection: ProjectionRequest { los: [0.0, 0.0, 1.0], n_stars: Some(2000), seed: 3 },
            velocity_error_kms: Some(2.0),
            params: EstimatorParams { n_bootstrap: 20, ..EstimatorParams::default() },
        };
        let out = estimate_galaxy(&path, &request).unwrap();
        assert_eq!(out.report.n_stars, 2000);
        assert!(!out.projection.truth_counted());
        let json = out.to_json();
        for key in ["r_h_kpc", "sigma_los_kms", "n_stars", "los"] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        let ratio =
            |key: &str| json[key]["mass_msun"].as_f64().unwrap() / json[key]["true_mass_msun"].as_f64().unwrap();
        // Amorisco & Evans 2011 recovers the truth of the spheroids suite to 4% with 20000 stars on every galaxy
        // tried (wolf_ratios_over_spheroids); with 2000 stars (~400 in the annulus at R_h: ~7% on sigma^2) within 15%.
        assert!(
            (0.85..1.15).contains(&ratio("amorisco_evans")),
            "amorisco_evans / truth = {}",
            ratio("amorisco_evans")
        );
        // Wolf et al. 2010 assumes a flat dispersion profile: over the suite it ranges 0.78..1.56 (with 20000 stars,
        // any anisotropy), this galaxy being at the top (1.55).
        assert!((1.35..1.75).contains(&ratio("wolf")), "wolf / truth = {}", ratio("wolf"));
        // Same request, same numbers (seeded subsample, errors and bootstrap).
        assert_eq!(estimate_galaxy(&path, &request).unwrap().to_json(), json);
    }

    #[test]
    fn a_file_without_truth_counts_it_from_particles() {
        let dir = tempfile::tempdir().unwrap();
        let with = estimate_galaxy(
            &spheroid(dir.path(), true),
            &EstimateRequest {
                projection: ProjectionRequest::new([1.0, 0.0, 0.0]),
                velocity_error_kms: None,
                params: EstimatorParams { n_bootstrap: 0, ..EstimatorParams::default() },
            },
        )
        .unwrap();
        let without = estimate_galaxy(
            &spheroid(dir.path(), false),
            &EstimateRequest {
                projection: ProjectionRequest::new([1.0, 0.0, 0.0]),
                velocity_error_kms: None,
                params: EstimatorParams { n_bootstrap: 0, ..EstimatorParams::default() },
            },
        )
        .unwrap();
        assert!(without.projection.truth_counted());
        assert!(!with.projection.truth_counted());
        // Counted from the 6000 particles against the analytic profile, at the analytic total half-mass radius
        // (about 3000 particles inside: 2% Poisson noise).
        let r_half = with.projection.truth().unwrap().half_mass_radius_kpc(None).unwrap();
        let (a, b) = (
            with.projection.truth().unwrap().enclosed_mass_msun(None, r_half).unwrap(),
            without.projection.truth().unwrap().enclosed_mass_msun(None, r_half).unwrap(),
        );
        assert!((a / b - 1.0).abs() < 0.08, "{a} vs {b} at {r_half} kpc");
    }

    /// Estimator / truth over eight synthetic spheroids, 20000 stars each, two lines of sight (prints; `ISOTROPIC=1`
    /// draws beta = 0). Measured 2026-12-02: Amorisco & Evans 0.97..1.05, Campbell 0.79..1.14, Errani 0.94..1.27,
    /// Wolf 0.78..1.56, Walker 0.71..1.83, the same with beta = 0: Wolf's spread is the profile shape, not anisotropy.
    #[test]
    #[ignore = "a measurement, run by hand: cargo test -p galmass-pipeline wolf_ratios -- --ignored --nocapture"]
    fn wolf_ratios_over_spheroids() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = SuiteParams::preset("spheroids").unwrap();
        params.particles.set_counts(Some(20000), Some(20000), None);
        if std::env::var("ISOTROPIC").is_ok() {
            params.bulge_anisotropy = galmass_synth::suite::AnisotropyParams::ConstantBeta { range: (0.0, 0.0) };
        }
        let valid = params.check().unwrap();
        for i in 0..8 {
            let path = write_galaxy(dir.path(), &format!("g{i}.h5"), &build_galaxy(&valid, i, 5).unwrap().galaxy);
            for los in [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]] {
                let out = estimate_galaxy(
                    &path,
                    &EstimateRequest {
                        projection: ProjectionRequest::new(los),
                        velocity_error_kms: None,
                        params: EstimatorParams { n_bootstrap: 0, ..EstimatorParams::default() },
                    },
                )
                .unwrap();
                let ratios: Vec<String> = out
                    .estimates
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {:.3}",
                            e.estimate.estimator.key(),
                            e.estimate.mass_msun / e.true_mass_msun.unwrap()
                        )
                    })
                    .collect();
                println!("galaxy {i} los {los:?}: {}", ratios.join(", "));
            }
        }
    }

    #[test]
    fn bad_requests_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = spheroid(dir.path(), true);
        let mut request = EstimateRequest {
            projection: ProjectionRequest::new([0.0, 0.0, 0.0]),
            velocity_error_kms: None,
            params: EstimatorParams::default(),
        };
        assert!(matches!(estimate_galaxy(&path, &request), Err(PipelineError::Invalid { .. })));
        request.projection.los = [0.0, 0.0, 1.0];
        request.velocity_error_kms = Some(f64::NAN);
        assert!(matches!(estimate_galaxy(&path, &request), Err(PipelineError::Invalid { .. })));
        request.velocity_error_kms = None;
        assert!(matches!(estimate_galaxy(&dir.path().join("missing.h5"), &request), Err(PipelineError::Snapshot(_))));
    }
}
