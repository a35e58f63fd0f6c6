//! Star formation histories: exponentially declining or delayed-tau `psi(t)` between a start time and the
//! observation (cosmic times), their analytic mean ages, and ages drawn from them.
//!
//! A [`StarFormationHistory`] is one drawn history; [`SfhParams`] are the ranges a galaxy component's history is drawn
//! from (log10 tau uniform in `tau_gyr_range`, the start uniform in `start_time_gyr_range`).
//!
//! ```
//! use galmass_synth::populations::{SfhShape, StarFormationHistory};
//! use rand::SeedableRng;
//! let sfh = StarFormationHistory::new(SfhShape::DelayedTau, 3.0, 2.0, 13.79).unwrap();
//! let age = sfh.sample_age_gyr(&mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
//! assert!((0.0..=sfh.duration_gyr()).contains(&age));
//! assert!(sfh.mean_age_gyr() > 0.0 && sfh.mean_age_gyr() < sfh.duration_gyr());
//! ```

use galmass_core::numeric::roots::bisect_monotonic;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use statrs::function::gamma::checked_gamma_li;

use super::ssp::MAX_AGE_GYR;
use crate::error::SynthError;

/// Relative tolerance of the delayed-tau inversion (in y = (t - t0) / tau).
const INVERSION_REL_TOL: f64 = 1e-13;

/// Shape of a star formation history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SfhShape {
    /// Exponentially declining: `psi(t) ~ exp(-(t - t0) / tau)`.
    Exponential,
    /// Delayed tau: `psi(t) ~ (t - t0) exp(-(t - t0) / tau)`, rising for tau after the start.
    DelayedTau,
}

/// A drawn star formation history of one galaxy component, from `start_time_gyr` to `observation_time_gyr`
/// (cosmic times, Gyr after the Big Bang).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StarFormationHistory {
    shape: SfhShape,
    tau_gyr: f64,
    start_time_gyr: f64,
    observation_time_gyr: f64,
}

impl StarFormationHistory {
    /// Builds a history; fails unless `0 < tau_gyr`, `0 <= start_time_gyr < observation_time_gyr <= 14` Gyr.
    pub fn new(
        shape: SfhShape,
        tau_gyr: f64,
        start_time_gyr: f64,
        observation_time_gyr: f64,
    ) -> Result<Self, SynthError> {
        if !(tau_gyr.is_finite() && tau_gyr > 0.0) {
            return Err(SynthError::InvalidParameter {
                name: "tau_gyr",
                reason: format!("must be positive, got {tau_gyr}"),
            });
        }
        if !(observation_time_gyr.is_finite() && observation_time_gyr > 0.0 && observation_time_gyr <= MAX_AGE_GYR) {
            return Err(SynthError::InvalidParameter {
                name: "age_of_universe_gyr",
                reason: format!("must lie in (0, {MAX_AGE_GYR}] Gyr, got {observation_time_gyr}"),
            });
        }
        if !(start_time_gyr.is_finite() && start_time_gyr >= 0.0 && start_time_gyr < observation_time_gyr) {
            return Err(SynthError::InvalidParameter {
                name: "start_time_gyr",
                reason: format!("must lie in [0, {observation_time_gyr}) Gyr, got {start_time_gyr}"),
            });
        }
        Ok(Self { shape, tau_gyr, start_time_gyr, observation_time_gyr })
    }

    /// The shape.
    pub fn shape(&self) -> SfhShape {
        self.shape
    }

    /// e-folding time, Gyr.
    pub fn tau_gyr(&self) -> f64 {
        self.tau_gyr
    }

    /// Cosmic time at which star formation starts, Gyr.
    pub fn start_time_gyr(&self) -> f64 {
        self.start_time_gyr
    }

    /// Cosmic time of the observation (the age of the universe at the snapshot), Gyr.
    pub fn observation_time_gyr(&self) -> f64 {
        self.observation_time_gyr
    }

    /// Age of the oldest stars, `observation_time - start_time`, Gyr.
    pub fn duration_gyr(&self) -> f64 {
        self.observation_time_gyr - self.start_time_gyr
    }

    /// Unnormalised star formation rate at stellar age `age_gyr` (zero outside `[0, duration]`).
    pub fn relative_sfr_at_age(&self, age_gyr: f64) -> f64 {
        let x = self.duration_gyr() - age_gyr;
        if !(0.0..=self.duration_gyr()).contains(&x) {
            return 0.0;
        }
        let y = x / self.tau_gyr;
        match self.shape {
            SfhShape::Exponential => (-y).exp(),
            SfhShape::DelayedTau => y * (-y).exp(),
        }
    }

    /// Mean age of the stars formed (weighted by mass formed), Gyr, analytic: with `y = (t - t0) / tau` and
    /// `Y = duration / tau`, the mean of y is `gamma(2, Y) / gamma(1, Y)` (exponential) or `gamma(3, Y) / gamma(2, Y)`
    /// (delayed tau), lower incomplete gamma functions; series in Y below 1e-3.
    pub fn mean_age_gyr(&self) -> f64 {
        let big_y = self.duration_gyr() / self.tau_gyr;
        let mean_y = match self.shape {
            SfhShape::Exponential if big_y < 1e-3 => big_y / 2.0 - big_y * big_y / 12.0,
            SfhShape::DelayedTau if big_y < 1e-3 => 2.0 * big_y / 3.0 - big_y * big_y / 18.0,
            SfhShape::Exponential => lower_incomplete_gamma(2.0, big_y) / lower_incomplete_gamma(1.0, big_y),
            SfhShape::DelayedTau => lower_incomplete_gamma(3.0, big_y) / lower_incomplete_gamma(2.0, big_y),
        };
        self.duration_gyr() - self.tau_gyr * mean_y
    }

    /// Draws the age of a star (Gyr) from the history, weighted by mass formed, by inversion of its cumulative
    /// distribution (closed form for the exponential, bisection for the delayed tau).
    pub fn sample_age_gyr<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let big_y = self.duration_gyr() / self.tau_gyr;
        let u: f64 = rng.random();
        let y = match self.shape {
            // F(y) = (1 - e^-y) / (1 - e^-Y).
            SfhShape::Exponential => -(-u * -(-big_y).exp_m1()).ln_1p(),
            // F(y) = G(y) / G(Y), G(y) = 1 - (1 + y) e^-y.
            SfhShape::DelayedTau => {
                let g = |y: f64| -(-y).exp_m1() - y * (-y).exp();
                bisect_monotonic(g, u * g(big_y), 0.0, big_y, INVERSION_REL_TOL)
            }
        };
        (self.duration_gyr() - self.tau_gyr * y).clamp(0.0, self.duration_gyr())
    }
}

/// The lower incomplete gamma function `gamma(a, y)` (statrs), NaN outside its domain (a > 0, 0 < y < inf; the
/// histories call it with a in {1, 2, 3} and y = duration / tau >= 1e-3).
fn lower_incomplete_gamma(a: f64, y: f64) -> f64 {
    checked_gamma_li(a, y).unwrap_or(f64::NAN)
}

/// Star formation history parameters of one component (a whole galaxy, its disc or its bulge).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SfhParams {
    /// Shape of the history.
    pub shape: SfhShape,
    /// Range of the e-folding time tau, Gyr; log10 tau is drawn uniformly per galaxy.
    pub tau_gyr_range: (f64, f64),
    /// Range of the cosmic time at which star formation starts, Gyr after the Big Bang; drawn uniformly per galaxy.
    pub start_time_gyr_range: (f64, f64),
    /// Offset of this component's mean log10 Z from the galaxy's, dex.
    pub metallicity_offset_dex: f64,
}

impl SfhParams {
    /// Checks the ranges of `component`'s history for an observation at `age_of_universe_gyr` (part of
    /// [`crate::populations::PopulationParams`]' check).
    pub(super) fn check_within(&self, component: &str, age_of_universe_gyr: f64) -> Result<(), SynthError> {
        let (t0, t1) = self.tau_gyr_range;
        if !(t0.is_finite() && t1.is_finite() && t0 > 0.0 && t0 <= t1 && t1 <= 1000.0) {
            return Err(SynthError::InvalidParameter {
                name: "tau_gyr_range",
                reason: format!("{component}: need 0 < min <= max <= 1000 Gyr, got {t0}..{t1}"),
            });
        }
        let (s0, s1) = self.start_time_gyr_range;
        if !(s0.is_finite() && s1.is_finite() && s0 >= 0.0 && s0 <= s1 && s1 < age_of_universe_gyr) {
            return Err(SynthError::InvalidParameter {
                name: "start_time_gyr_range",
                reason: format!(
                    "{component}: need 0 <= min <= max < age of the universe {age_of_universe_gyr} Gyr, got {s0}..{s1}"
                ),
            });
        }
        if !(self.metallicity_offset_dex.is_finite() && self.metallicity_offset_dex.abs() <= 2.0) {
            return Err(SynthError::InvalidParameter {
                name: "metallicity_offset_dex",
                reason: format!("{component}: must be finite and within +-2 dex, got {}", self.metallicity_offset_dex),
            });
        }
        Ok(())
    }

    /// Draws one history: log10 tau and the start uniformly in their ranges.
    pub(super) fn draw(
        &self,
        age_of_universe_gyr: f64,
        rng: &mut ChaCha8Rng,
    ) -> Result<StarFormationHistory, SynthError> {
        let (t0, t1) = self.tau_gyr_range;
        let log_tau = if t0 < t1 { rng.random_range(t0.log10()..=t1.log10()) } else { t0.log10() };
        let (s0, s1) = self.start_time_gyr_range;
        let start = if s0 < s1 { rng.random_range(s0..=s1) } else { s0 };
        StarFormationHistory::new(self.shape, 10f64.powf(log_tau), start, age_of_universe_gyr)
    }
}

#[cfg(test)]
mod tests {
    use galmass_core::numeric::quad::trapezoid;
    use rand::SeedableRng;

    use super::super::test_helpers::weighted_mean_and_error;
    use super::*;

    #[test]
    fn sampled_ages_follow_the_sfh() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for (shape, tau, start) in [
            (SfhShape::Exponential, 1.0, 1.0),
            (SfhShape::Exponential, 30.0, 3.0),
            (SfhShape::DelayedTau, 3.0, 2.0),
            (SfhShape::DelayedTau, 0.3, 0.5),
            (SfhShape::DelayedTau, 50.0, 12.0),
        ] {
            let sfh = StarFormationHistory::new(shape, tau, start, 13.8).unwrap();
            // The analytic mean against a quadrature of the SFH (trapezoid, 20000 steps).
            let steps = 20_000;
            let grid: Vec<f64> = (0..=steps).map(|k| sfh.duration_gyr() * f64::from(k) / f64::from(steps)).collect();
            let sfr: Vec<f64> = grid.iter().map(|&age| sfh.relative_sfr_at_age(age)).collect();
            let weighted: Vec<f64> = grid.iter().zip(&sfr).map(|(age, w)| age * w).collect();
            let quadrature = trapezoid(&grid, &weighted) / trapezoid(&grid, &sfr);
            approx::assert_relative_eq!(sfh.mean_age_gyr(), quadrature, max_relative = 1e-5);
            // 20000 draws: their mean within 4 standard errors of the analytic one, all within [0, duration].
            let ages: Vec<f64> = (0..20_000).map(|_| sfh.sample_age_gyr(&mut rng)).collect();
            assert!(ages.iter().all(|a| (0.0..=sfh.duration_gyr()).contains(a)));
            let (mean, se) = weighted_mean_and_error(&ages, &vec![1.0; ages.len()]);
            assert!(
                (mean - sfh.mean_age_gyr()).abs() < 4.0 * se,
                "{shape:?} tau {tau}: {mean} vs {} (se {se})",
                sfh.mean_age_gyr()
            );
        }
    }

    #[test]
    fn histories_are_checked() {
        let invalid = |r: Result<StarFormationHistory, SynthError>, name: &str| {
            assert!(matches!(r, Err(SynthError::InvalidParameter { name: n, .. }) if n == name), "{r:?}");
        };
        invalid(StarFormationHistory::new(SfhShape::Exponential, 1.0, 14.0, 13.8), "start_time_gyr");
        invalid(StarFormationHistory::new(SfhShape::Exponential, f64::NAN, 1.0, 13.8), "tau_gyr");
        invalid(StarFormationHistory::new(SfhShape::DelayedTau, 1.0, 1.0, 14.5), "age_of_universe_gyr");
    }
}
