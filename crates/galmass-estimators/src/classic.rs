//! The classic dispersion-based mass estimators (sarrato2025 §3; methods.md, "Classic mass estimators").
//!
//! Every estimator has the form `M(< f R_h) = k R_h sigma^2 / G`; they differ in `f`, `k` and which stars the
//! dispersion is measured from:
//!
//! | estimator | radius f | prefactor k | dispersion |
//! |---|---|---|---|
//! | Walker et al. 2009 | 1 | 2.5 | all sampled stars |
//! | Wolf et al. 2010 | 4/3 | 4 | all sampled stars |
//! | Amorisco & Evans 2012 | 1.67 | 5.85 | stars *at* R_h: an annulus, [`EstimatorParams::at_rh_annulus`] |
//! | Campbell et al. 2017 | 1.77 | 5.99 | stars within 1.04 R_h |
//! | Errani et al. 2018 | 1.8 | 3.5 x 1.8 | all sampled stars |
//!
//! R_h is the projected half-number radius and sigma the line-of-sight dispersion of the same star sample the maps
//! use (`galmass_core::projection`). How the "dispersion at R_h" of Amorisco & Evans is measured is not stated in
//! the paper: the annulus is a named parameter, default 0.8..1.2 R_h (our choice). With per-star velocity errors
//! dispersions are the maximum-likelihood intrinsic values ([`crate::dispersion`]). Uncertainties come from a seeded
//! bootstrap over stars (R_h and sigma recomputed for each resample).
//!
//! Known behaviour (sarrato2025 §3 on NIHAO+AURIGA): 1-sigma scatter of M_est/M_true 0.26-0.30; Walker low by ~15%,
//! Wolf by ~10%. For a self-gravitating Plummer sphere Wolf is 23% low (tested).

use std::fmt;

use galmass_core::params::Params;
use galmass_core::projection::{Aperture, ProjectedStars};
use galmass_core::units::dynamical_mass_msun;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::dispersion::{ml_dispersion_kms, sample_dispersion_kms};
use crate::error::EstimatorError;

/// One of the five classic estimators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EstimatorKind {
    /// Walker et al. 2009: M(<R_h) = 2.5 R_h sigma^2 / G.
    Walker,
    /// Wolf et al. 2010: M(<4/3 R_h) = 4 R_h sigma^2 / G.
    Wolf,
    /// Amorisco & Evans 2012: M(<1.67 R_h) = 5.85 R_h sigma^2(R_h) / G.
    AmoriscoEvans,
    /// Campbell et al. 2017: M(<1.77 R_h) = 5.99 R_h sigma^2(<1.04 R_h) / G.
    Campbell,
    /// Errani et al. 2018: M(<1.8 R_h) = 3.5 x 1.8 R_h sigma^2 / G.
    Errani,
}

/// Which stars an estimator's dispersion comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispersionSource {
    /// Every sampled star.
    Global,
    /// The annulus "at R_h".
    AtRh,
    /// Stars within 1.04 R_h (Campbell et al. 2017).
    WithinRh104,
}

impl EstimatorKind {
    /// All five, in publication order.
    pub const ALL: [EstimatorKind; 5] = [
        EstimatorKind::Walker,
        EstimatorKind::Wolf,
        EstimatorKind::AmoriscoEvans,
        EstimatorKind::Campbell,
        EstimatorKind::Errani,
    ];

    /// The key used in JSON output and configs.
    pub fn key(self) -> &'static str {
        match self {
            EstimatorKind::Walker => "walker",
            EstimatorKind::Wolf => "wolf",
            EstimatorKind::AmoriscoEvans => "amorisco_evans",
            EstimatorKind::Campbell => "campbell",
            EstimatorKind::Errani => "errani",
        }
    }

    /// Radius the mass applies to, in units of R_h.
    pub fn radius_factor(self) -> f64 {
        match self {
            EstimatorKind::Walker => 1.0,
            EstimatorKind::Wolf => 4.0 / 3.0,
            EstimatorKind::AmoriscoEvans => 1.67,
            EstimatorKind::Campbell => 1.77,
            EstimatorKind::Errani => 1.8,
        }
    }

    /// The prefactor k of M = k R_h sigma^2 / G.
    pub fn prefactor(self) -> f64 {
        match self {
            EstimatorKind::Walker => 2.5,
            EstimatorKind::Wolf => 4.0,
            EstimatorKind::AmoriscoEvans => 5.85,
            EstimatorKind::Campbell => 5.99,
            EstimatorKind::Errani => 3.5 * 1.8,
        }
    }

    /// Which stars the dispersion is measured from.
    pub fn dispersion_source(self) -> DispersionSource {
        match self {
            EstimatorKind::AmoriscoEvans => DispersionSource::AtRh,
            EstimatorKind::Campbell => DispersionSource::WithinRh104,
            _ => DispersionSource::Global,
        }
    }

    /// The mass in Msun for a given R_h and dispersion.
    pub fn mass_msun(self, r_h_kpc: f64, sigma_kms: f64) -> f64 {
        dynamical_mass_msun(self.prefactor(), r_h_kpc, sigma_kms)
    }
}

impl fmt::Display for EstimatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Parameters of the estimators (unchecked; [`Params::check`] turns them into [`EstimatorValidParams`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EstimatorParams {
    /// Inner and outer radius, in units of R_h, of the annulus where the Amorisco & Evans "dispersion at R_h" is
    /// measured. Not stated by the paper; default (0.8, 1.2), our choice.
    pub at_rh_annulus: (f64, f64),
    /// Bootstrap resamples for the uncertainties (0: none).
    pub n_bootstrap: usize,
    /// Seed of the bootstrap.
    pub seed: u64,
}

impl Default for EstimatorParams {
    fn default() -> Self {
        Self { at_rh_annulus: (0.8, 1.2), n_bootstrap: 200, seed: 0 }
    }
}

/// Checked [`EstimatorParams`]: the only form the estimators accept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EstimatorValidParams(EstimatorParams);

impl Params for EstimatorParams {
    type Valid = EstimatorValidParams;
    type Error = EstimatorError;

    /// Checks the annulus.
    fn check(&self) -> Result<EstimatorValidParams, EstimatorError> {
        Aperture::AnnulusRh { inner: self.at_rh_annulus.0, outer: self.at_rh_annulus.1 }.check().map_err(|_| {
            EstimatorError::InvalidParameter {
                name: "at_rh_annulus",
                reason: format!("{:?} must satisfy 0 <= inner < outer", self.at_rh_annulus),
            }
        })?;
        Ok(EstimatorValidParams(*self))
    }
}

impl EstimatorValidParams {
    /// The checked values.
    pub fn params(&self) -> &EstimatorParams {
        &self.0
    }

    fn aperture(&self, source: DispersionSource) -> Aperture {
        match source {
            DispersionSource::Global => Aperture::All,
            DispersionSource::AtRh => {
                Aperture::AnnulusRh { inner: self.0.at_rh_annulus.0, outer: self.0.at_rh_annulus.1 }
            }
            DispersionSource::WithinRh104 => Aperture::WithinRh { factor: 1.04 },
        }
    }
}

/// One estimator's result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MassEstimate {
    /// Which estimator.
    pub estimator: EstimatorKind,
    /// Estimated enclosed mass in Msun.
    pub mass_msun: f64,
    /// Bootstrap standard deviation of the mass (None without bootstrap or when fewer than two resamples worked).
    pub mass_err_msun: Option<f64>,
    /// The radius the mass applies to, in kpc.
    pub radius_kpc: f64,
    /// The dispersion used, km/s.
    pub sigma_kms: f64,
    /// Bootstrap standard deviation of the dispersion (None without bootstrap).
    pub sigma_err_kms: Option<f64>,
    /// Stars that entered the dispersion.
    pub n_stars: usize,
}

/// All estimators of one projection, with the shared quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimatorReport {
    /// Projected half-number radius, kpc.
    pub r_h_kpc: f64,
    /// Global line-of-sight dispersion, km/s (error-corrected when errors are given).
    pub sigma_los_kms: f64,
    /// Number of sampled stars.
    pub n_stars: usize,
    /// One entry per estimator that could be computed, in [`EstimatorKind::ALL`] order.
    pub estimates: Vec<MassEstimate>,
    /// Estimators that could not be computed, with the reason (e.g. too few stars in the annulus).
    pub skipped: Vec<(EstimatorKind, String)>,
}

/// Dispersion of the stars of `stars` inside `aperture`, error-corrected when errors are given.
fn dispersion_in(
    stars: &ProjectedStars,
    errors_kms: Option<&[f64]>,
    aperture: &Aperture,
    r_h_kpc: f64,
) -> Result<(f64, usize), EstimatorError> {
    let idx = stars.in_aperture(aperture, r_h_kpc)?;
    let v: Vec<f64> = idx.iter().map(|&i| stars.v_los_kms()[i]).collect();
    let sigma = match errors_kms {
        None => sample_dispersion_kms(&v)?,
        Some(e) => ml_dispersion_kms(&v, &idx.iter().map(|&i| e[i]).collect::<Vec<_>>())?.1,
    };
    Ok((sigma, idx.len()))
}

/// Computes one estimator (no bootstrap).
pub fn estimate(
    kind: EstimatorKind,
    stars: &ProjectedStars,
    errors_kms: Option<&[f64]>,
    params: &EstimatorValidParams,
) -> Result<MassEstimate, EstimatorError> {
    check_errors(stars, errors_kms)?;
    let r_h_kpc = stars.half_number_radius_kpc()?;
    point_estimate(kind, stars, errors_kms, params, r_h_kpc)
}

fn point_estimate(
    kind: EstimatorKind,
    stars: &ProjectedStars,
    errors_kms: Option<&[f64]>,
    params: &EstimatorValidParams,
    r_h_kpc: f64,
) -> Result<MassEstimate, EstimatorError> {
    let (sigma_kms, n_stars) = dispersion_in(stars, errors_kms, &params.aperture(kind.dispersion_source()), r_h_kpc)?;
    Ok(MassEstimate {
        estimator: kind,
        mass_msun: kind.mass_msun(r_h_kpc, sigma_kms),
        mass_err_msun: None,
        sigma_err_kms: None,
        radius_kpc: kind.radius_factor() * r_h_kpc,
        sigma_kms,
        n_stars,
    })
}

fn check_errors(stars: &ProjectedStars, errors_kms: Option<&[f64]>) -> Result<(), EstimatorError> {
    if let Some(e) = errors_kms {
        if e.len() != stars.len() {
            return Err(EstimatorError::BadInput {
                name: "velocity_errors_kms",
                expected: format!("{} values (one per star)", stars.len()),
                got: format!("{}", e.len()),
            });
        }
    }
    Ok(())
}

/// Computes all five estimators on one projection, with bootstrap uncertainties.
///
/// Fails (typed) when R_h or the global dispersion cannot be measured (fewer than two stars); an estimator whose
/// own aperture holds fewer than two stars is listed in `skipped` instead.
pub fn estimate_all(
    stars: &ProjectedStars,
    errors_kms: Option<&[f64]>,
    params: &EstimatorValidParams,
) -> Result<EstimatorReport, EstimatorError> {
    check_errors(stars, errors_kms)?;
    let r_h_kpc = stars.half_number_radius_kpc()?;
    let (sigma_los_kms, _) = dispersion_in(stars, errors_kms, &Aperture::All, r_h_kpc)?;
    let mut estimates = Vec::new();
    let mut skipped = Vec::new();
    for kind in EstimatorKind::ALL {
        match point_estimate(kind, stars, errors_kms, params, r_h_kpc) {
            Ok(e) => estimates.push(e),
            Err(err) => skipped.push((kind, err.to_string())),
        }
    }
    let n_boot = params.params().n_bootstrap;
    if n_boot > 0 {
        let mut rng = ChaCha8Rng::seed_from_u64(params.params().seed);
        let mut masses: Vec<Vec<f64>> = vec![Vec::with_capacity(n_boot); estimates.len()];
        let mut sigmas: Vec<Vec<f64>> = vec![Vec::with_capacity(n_boot); estimates.len()];
        let n = stars.len();
        let mut idx = vec![0usize; n];
        for _ in 0..n_boot {
            idx.iter_mut().for_each(|i| *i = rng.random_range(0..n));
            let resampled = stars.select(&idx)?;
            let errors: Option<Vec<f64>> = errors_kms.map(|e| idx.iter().map(|&i| e[i]).collect());
            let Ok(r_h) = resampled.half_number_radius_kpc() else { continue };
            for (k, est) in estimates.iter().enumerate() {
                if let Ok(b) = point_estimate(est.estimator, &resampled, errors.as_deref(), params, r_h) {
                    masses[k].push(b.mass_msun);
                    sigmas[k].push(b.sigma_kms);
                }
            }
        }
        let std = |values: &[f64]| galmass_core::stats::variance(values, 1).map(f64::sqrt);
        for ((est, boot_mass), boot_sigma) in estimates.iter_mut().zip(&masses).zip(&sigmas) {
            est.mass_err_msun = std(boot_mass);
            est.sigma_err_kms = std(boot_sigma);
        }
    }
    Ok(EstimatorReport { r_h_kpc, sigma_los_kms, n_stars: stars.len(), estimates, skipped })
}

impl EstimatorReport {
    /// The estimate of one estimator, when it could be computed.
    pub fn get(&self, kind: EstimatorKind) -> Option<&MassEstimate> {
        self.estimates.iter().find(|e| e.estimator == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use galmass_core::units::G_KPC_KMS2_PER_MSUN;
    use galmass_core::{CoreError, LineOfSight, Particles};
    use ndarray::{array, Array1, Array2};

    fn projected(pos: Array2<f64>, vz: Array1<f64>) -> ProjectedStars {
        let n = vz.len();
        let mut vel = Array2::zeros((n, 3));
        vel.column_mut(2).assign(&vz);
        let stars = Particles::new(pos, vel, Array1::from_elem(n, 1.0)).unwrap();
        ProjectedStars::new(&stars, &LineOfSight::new([0.0, 0.0, 1.0]).unwrap(), None).unwrap()
    }

    #[test]
    fn formulas_equal_closed_form() {
        // Four stars on the x axis at R = 0.5, 0.9, 1.1, 3 kpc: R_h = median = 1.0 kpc exactly.
        let pos = array![[0.5, 0.0, 0.0], [0.9, 0.0, 0.0], [1.1, 0.0, 0.0], [3.0, 0.0, 0.0]];
        let vz = array![-10.0, 10.0, -10.0, 10.0];
        let stars = projected(pos, vz);
        let params = EstimatorParams { n_bootstrap: 0, ..Default::default() }.check().unwrap();
        let report = estimate_all(&stars, None, &params).unwrap();
        assert_relative_eq!(report.r_h_kpc, 1.0, epsilon = 1e-15);
        // sigma^2 (ddof 1) of +-10 over four stars = 400/3.
        let s2_all = 400.0 / 3.0;
        let g = G_KPC_KMS2_PER_MSUN;
        let walker = report.get(EstimatorKind::Walker).unwrap();
        assert_relative_eq!(walker.mass_msun, 2.5 * s2_all / g, max_relative = 1e-14);
        assert_relative_eq!(walker.radius_kpc, 1.0);
        let wolf = report.get(EstimatorKind::Wolf).unwrap();
        assert_relative_eq!(wolf.mass_msun, 4.0 * s2_all / g, max_relative = 1e-14);
        assert_relative_eq!(wolf.radius_kpc, 4.0 / 3.0, max_relative = 1e-15);
        let errani = report.get(EstimatorKind::Errani).unwrap();
        assert_relative_eq!(errani.mass_msun, 6.3 * s2_all / g, max_relative = 1e-14);
        assert_relative_eq!(errani.radius_kpc, 1.8);
        // Annulus 0.8..1.2 R_h holds the stars at 0.9 and 1.1 (v = 10, -10): sigma^2 = 200.
        let ae = report.get(EstimatorKind::AmoriscoEvans).unwrap();
        assert_eq!(ae.n_stars, 2);
        assert_relative_eq!(ae.mass_msun, 5.85 * 200.0 / g, max_relative = 1e-14);
        assert_relative_eq!(ae.radius_kpc, 1.67);
        // Within 1.04 R_h: the stars at 0.5 and 0.9 (v = -10, 10): sigma^2 = 200.
        let campbell = report.get(EstimatorKind::Campbell).unwrap();
        assert_eq!(campbell.n_stars, 2);
        assert_relative_eq!(campbell.mass_msun, 5.99 * 200.0 / g, max_relative = 1e-14);
        assert_relative_eq!(campbell.radius_kpc, 1.77);
        assert!(report.skipped.is_empty());
    }

    #[test]
    fn zero_or_one_star_is_a_typed_error() {
        let params = EstimatorParams::default().check().unwrap();
        let empty = projected(Array2::zeros((0, 3)), Array1::zeros(0));
        assert!(matches!(
            estimate_all(&empty, None, &params),
            Err(EstimatorError::Core(CoreError::TooFewParticles { got: 0, .. }))
        ));
        let one = projected(array![[1.0, 0.0, 0.0]], array![3.0]);
        assert!(matches!(
            estimate_all(&one, None, &params),
            Err(EstimatorError::Core(CoreError::TooFewParticles { got: 1, .. }))
        ));
        for kind in EstimatorKind::ALL {
            assert!(matches!(
                estimate(kind, &one, None, &params),
                Err(EstimatorError::Core(CoreError::TooFewParticles { got: 1, .. }))
            ));
        }
        let two = projected(array![[1.0, 0.0, 0.0], [2.0, 0.0, 0.0]], array![3.0, -3.0]);
        assert!(matches!(estimate_all(&two, Some(&[1.0]), &params), Err(EstimatorError::BadInput { .. })));
        assert!(matches!(
            EstimatorParams { at_rh_annulus: (1.2, 0.8), ..Default::default() }.check(),
            Err(EstimatorError::InvalidParameter { name: "at_rh_annulus", .. })
        ));
    }

    #[test]
    fn empty_annulus_is_skipped_not_fatal() {
        // Stars at R = 0.1 and 10 kpc, plus one at 1 kpc: the median is 1 kpc, the annulus 0.8..1.2 holds one star.
        let stars = projected(array![[0.1, 0.0, 0.0], [1.0, 0.0, 0.0], [10.0, 0.0, 0.0]], array![1.0, 2.0, -3.0]);
        let params = EstimatorParams { n_bootstrap: 20, ..Default::default() }.check().unwrap();
        let report = estimate_all(&stars, None, &params).unwrap();
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].0, EstimatorKind::AmoriscoEvans);
        assert_eq!(report.estimates.len(), 4);
    }

    #[test]
    fn bootstrap_is_seeded() {
        let n = 200;
        let pos = Array2::from_shape_fn((n, 3), |(i, k)| if k == 0 { 0.01 * i as f64 + 0.1 } else { 0.0 });
        let vz = Array1::from_shape_fn(n, |i| ((i * 37) % 23) as f64 - 11.0);
        let stars = projected(pos, vz);
        let params = EstimatorParams { n_bootstrap: 100, seed: 4, ..Default::default() }.check().unwrap();
        let a = estimate_all(&stars, None, &params).unwrap();
        let b = estimate_all(&stars, None, &params).unwrap();
        assert_eq!(a, b);
        let err = a.get(EstimatorKind::Wolf).unwrap().mass_err_msun.unwrap();
        let mass = a.get(EstimatorKind::Wolf).unwrap().mass_msun;
        // Relative error of a dispersion-squared from n = 200 stars is about sqrt(2/n) = 0.1, plus R_h's.
        assert!(err / mass > 0.05 && err / mass < 0.25, "{}", err / mass);
    }
}
