//! The Sérsic fit of a projected light profile (module docs of [`super`]).

// Index loops over the three coordinates read as the formulas do.
#![allow(clippy::needless_range_loop)]

use statrs::function::gamma::gamma_lr;

use crate::error::MockError;

/// A fitted Sérsic profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sersic {
    /// Index.
    pub n: f64,
    /// Effective (half-light) radius, kpc.
    pub r_e: f64,
    /// Surface brightness at R_e, luminosity per kpc^2.
    pub i_e: f64,
}

/// Bounds of the fitted index.
const N_RANGE: (f64, f64) = (0.2, 200.0);
/// Annuli of the profile.
const ANNULI: usize = 24;

/// `b_n` with `P(2n, b_n) = 1/2`: half the light within R_e (exact, by bisection on the regularised incomplete
/// gamma function).
pub fn sersic_b(n: f64) -> f64 {
    let a = 2.0 * n;
    galmass_core::numeric::roots::bisect_monotonic(|b| gamma_lr(a, b), 0.5, 1e-6, 4.0 * a + 10.0, 1e-12)
}

/// Fits a Sérsic profile to the light `lum` at projected radii `radii` in 24 log-spaced annuli from
/// `0.01 r_max` to `r_max` (`r_scale` sets the starting R_e).
pub fn fit_sersic(radii: &[f64], lum: &[f64], r_scale: f64, r_max: f64) -> Result<Sersic, MockError> {
    let r_min = 0.01 * r_max;
    let edges: Vec<f64> = (0..=ANNULI).map(|k| r_min * (r_max / r_min).powf(k as f64 / ANNULI as f64)).collect();
    let mut sums = vec![(0.0, 0usize); ANNULI];
    for (r, l) in radii.iter().zip(lum) {
        if *r < r_min || *r >= r_max {
            continue;
        }
        let k = edges.partition_point(|e| e <= r).saturating_sub(1).min(ANNULI - 1);
        sums[k].0 += l;
        sums[k].1 += 1;
    }
    // (centre radius, ln surface brightness, weight = star count).
    let points: Vec<(f64, f64, f64)> = (0..ANNULI)
        .filter(|&k| sums[k].1 >= 3 && sums[k].0 > 0.0)
        .map(|k| {
            let area = std::f64::consts::PI * (edges[k + 1].powi(2) - edges[k].powi(2));
            ((edges[k] * edges[k + 1]).sqrt(), (sums[k].0 / area).ln(), sums[k].1 as f64)
        })
        .collect();
    if points.len() < 4 {
        return Err(MockError::TooFewPoints {
            what: "Sérsic fit (annuli with light)".into(),
            needed: 4,
            got: points.len(),
        });
    }
    let cost = |p: &[f64; 3]| -> f64 {
        let (ln_ie, r_e, n) = (p[0], p[1].exp(), p[2].exp().clamp(N_RANGE.0, N_RANGE.1));
        let b = sersic_b(n);
        points.iter().map(|&(r, ln_i, w)| w * (ln_i - (ln_ie - b * ((r / r_e).powf(1.0 / n) - 1.0))).powi(2)).sum()
    };
    // Start: n = 2 with R_e at the scale; I_e from the annulus nearest it.
    let near = points.iter().min_by(|a, b| (a.0 / r_scale).ln().abs().total_cmp(&(b.0 / r_scale).ln().abs()));
    let ln_ie0 = near.map_or(0.0, |p| p.1);
    let mut best = [0.0; 3];
    let mut best_cost = f64::INFINITY;
    for n0 in [0.7f64, 2.0, 5.0] {
        let start = [ln_ie0, r_scale.ln(), n0.ln()];
        let (p, c) = nelder_mead(&cost, start, [0.5, 0.3, 0.3], 4000, 1e-12);
        if c < best_cost {
            best = p;
            best_cost = c;
        }
    }
    Ok(Sersic { n: best[2].exp().clamp(N_RANGE.0, N_RANGE.1), r_e: best[1].exp(), i_e: best[0].exp() })
}

/// Minimises `f` by the Nelder-Mead simplex (standard coefficients 1, 2, 1/2, 1/2) from `start` with initial steps
/// `step`; stops after `max_iter` iterations or when the simplex's values span less than `tol`.
pub fn nelder_mead(
    f: &dyn Fn(&[f64; 3]) -> f64,
    start: [f64; 3],
    step: [f64; 3],
    max_iter: usize,
    tol: f64,
) -> ([f64; 3], f64) {
    let mut simplex: Vec<([f64; 3], f64)> = (0..4)
        .map(|k| {
            let mut p = start;
            if k > 0 {
                p[k - 1] += step[k - 1];
            }
            (p, f(&p))
        })
        .collect();
    let nan_last = |a: &([f64; 3], f64), b: &([f64; 3], f64)| {
        let key = |v: f64| if v.is_nan() { f64::INFINITY } else { v };
        key(a.1).total_cmp(&key(b.1))
    };
    for _ in 0..max_iter {
        simplex.sort_by(nan_last);
        if (simplex[3].1 - simplex[0].1).abs() < tol {
            break;
        }
        let mut centroid = [0.0; 3];
        for (p, _) in &simplex[..3] {
            for d in 0..3 {
                centroid[d] += p[d] / 3.0;
            }
        }
        let along = |t: f64| {
            let mut p = [0.0; 3];
            for d in 0..3 {
                p[d] = centroid[d] + t * (simplex[3].0[d] - centroid[d]);
            }
            p
        };
        let reflected = along(-1.0);
        let fr = f(&reflected);
        if fr < simplex[0].1 {
            let expanded = along(-2.0);
            let fe = f(&expanded);
            simplex[3] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[2].1 {
            simplex[3] = (reflected, fr);
        } else {
            let contracted = along(0.5);
            let fc = f(&contracted);
            if fc < simplex[3].1 {
                simplex[3] = (contracted, fc);
            } else {
                let best = simplex[0].0;
                for s in simplex.iter_mut().skip(1) {
                    for d in 0..3 {
                        s.0[d] = best[d] + 0.5 * (s.0[d] - best[d]);
                    }
                    s.1 = f(&s.0);
                }
            }
        }
    }
    simplex.sort_by(nan_last);
    simplex[0]
}
