//! The Sérsic fit of a projected light profile (chu2024 Table 1: "Sérsic index from a Sérsic profile (Sérsic 1963)
//! fitting to the light distribution within a projected radius of 5 R_hsm").
//!
//! The profile `I(R) = I_e exp(-b_n ((R / R_e)^(1/n) - 1))` (Sérsic 1963; Graham & Driver 2005, PASA 22, 118,
//! eq. 1) with `b_n` exact from `Γ(2n) = 2 γ(2n, b_n)`, i.e. `P(2n, b_n) = 1/2` for the regularised lower incomplete
//! gamma function P (Graham & Driver eq. 4; Ciotti & Bertin 1999 for the tabulated values the tests check).
//! The stars' light is summed in [`ANNULI`] log-spaced annuli from `0.01 r_max` to `r_max`; the fit minimises the
//! squared residuals in `ln I`, each annulus weighted by its effective star count `(sum L)^2 / sum L^2` (the
//! inverse Poisson variance of `ln I`), by Nelder-Mead over `(ln I_e, ln R_e, ln n)` from three starting indices
//! (0.7, 2, 5), with `n` held to [`N_RANGE`]. chu2024 drops galaxies with `n > 100`, so the range reaches past it;
//! a fit at the upper bound means "at least 200".
//!
//! ```
//! use galmass_mock::features::sersic_b;
//! assert!((sersic_b(4.0) - 7.669).abs() < 1e-3);
//! ```

use statrs::function::gamma::gamma_lr;

use crate::error::MockError;

/// A fitted Sérsic profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SersicFit {
    /// Index n.
    pub n: f64,
    /// Effective (half-light) radius R_e, kpc.
    pub r_e_kpc: f64,
    /// Surface brightness at R_e, luminosity per kpc^2.
    pub i_e: f64,
    /// Annuli the fit used.
    pub n_annuli: usize,
}

/// Bounds of the fitted index.
pub const N_RANGE: (f64, f64) = (0.2, 200.0);
/// Number of annuli of the profile.
pub const ANNULI: usize = 24;
/// Fewest stars an annulus needs to enter the fit.
pub const MIN_STARS_PER_ANNULUS: usize = 3;
/// Fewest annuli a fit needs (three parameters).
pub const MIN_ANNULI: usize = 4;

/// `b_n` with `P(2n, b_n) = 1/2`: half the light within R_e (exact, by bisection on the regularised lower
/// incomplete gamma function; Graham & Driver 2005, eq. 4). `b_n` is close to `2n - 1/3`, inside `(0, 4n + 10)`.
pub fn sersic_b(n: f64) -> f64 {
    let a = 2.0 * n;
    galmass_core::numeric::roots::bisect_monotonic(|b| gamma_lr(a, b), 0.5, 1e-9, 4.0 * a + 10.0, 1e-12)
}

/// Fits a Sérsic profile to the light `lum` of stars at projected radii `radii` (kpc) within `r_max` (module docs);
/// `r_scale` (kpc) is the starting R_e.
///
/// Errors: mismatched lengths, a non-positive `r_max` or `r_scale`, fewer than [`MIN_ANNULI`] annuli with
/// [`MIN_STARS_PER_ANNULUS`] stars and light.
pub fn fit_sersic(radii: &[f64], lum: &[f64], r_scale: f64, r_max: f64) -> Result<SersicFit, MockError> {
    if radii.len() != lum.len() {
        return Err(MockError::BadInput {
            name: "lum",
            expected: format!("{} values (as radii)", radii.len()),
            got: lum.len().to_string(),
        });
    }
    for (name, v) in [("r_max", r_max), ("r_scale", r_scale)] {
        if !v.is_finite() || v <= 0.0 {
            return Err(MockError::InvalidParameter { name, reason: format!("{v}, expected a positive radius") });
        }
    }
    let r_min = 0.01 * r_max;
    let edges: Vec<f64> = (0..=ANNULI).map(|k| r_min * (r_max / r_min).powf(k as f64 / ANNULI as f64)).collect();
    // Per annulus: sum L, sum L^2, count.
    let mut sums = vec![(0.0, 0.0, 0usize); ANNULI];
    for (&r, &l) in radii.iter().zip(lum) {
        if r.is_nan() || r < r_min || r >= r_max {
            continue;
        }
        let k = edges.partition_point(|e| *e <= r).saturating_sub(1).min(ANNULI - 1);
        sums[k].0 += l;
        sums[k].1 += l * l;
        sums[k].2 += 1;
    }
    // (geometric centre radius, ln surface brightness, weight = effective star count).
    let points: Vec<(f64, f64, f64)> = (0..ANNULI)
        .filter(|&k| sums[k].2 >= MIN_STARS_PER_ANNULUS && sums[k].0 > 0.0)
        .map(|k| {
            let area = std::f64::consts::PI * (edges[k + 1].powi(2) - edges[k].powi(2));
            let n_eff = sums[k].0 * sums[k].0 / sums[k].1;
            ((edges[k] * edges[k + 1]).sqrt(), (sums[k].0 / area).ln(), n_eff)
        })
        .collect();
    if points.len() < MIN_ANNULI {
        return Err(MockError::TooFewPoints {
            what: "Sérsic fit (annuli with light)".into(),
            needed: MIN_ANNULI,
            got: points.len(),
        });
    }
    let index = |ln_n: f64| ln_n.exp().clamp(N_RANGE.0, N_RANGE.1);
    let cost = |p: &[f64; 3]| -> f64 {
        let (ln_ie, r_e, n) = (p[0], p[1].exp(), index(p[2]));
        let b = sersic_b(n);
        points.iter().map(|&(r, ln_i, w)| w * (ln_i - (ln_ie - b * ((r / r_e).powf(1.0 / n) - 1.0))).powi(2)).sum()
    };
    // Start: R_e at the scale, I_e from the annulus nearest it.
    let nearest = points.iter().min_by(|a, b| (a.0 / r_scale).ln().abs().total_cmp(&(b.0 / r_scale).ln().abs()));
    let ln_ie0 = nearest.map_or(0.0, |p| p.1);
    let mut best = [ln_ie0, r_scale.ln(), 2f64.ln()];
    let mut best_cost = f64::INFINITY;
    for n0 in [0.7f64, 2.0, 5.0] {
        let (p, c) = nelder_mead(&cost, [ln_ie0, r_scale.ln(), n0.ln()], [0.5, 0.3, 0.3], 4000, 1e-12);
        if c < best_cost {
            best = p;
            best_cost = c;
        }
    }
    Ok(SersicFit { n: index(best[2]), r_e_kpc: best[1].exp(), i_e: best[0].exp(), n_annuli: points.len() })
}

/// Minimises `f` by the Nelder-Mead simplex (Nelder & Mead 1965; coefficients 1, 2, 1/2, 1/2) from `start` with
/// initial steps `step`; stops after `max_iter` iterations or when the simplex's values span less than `tol`.
/// NaN values rank last. Returns the best vertex and its value.
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
                    for (x, b) in s.0.iter_mut().zip(best) {
                        *x = b + 0.5 * (*x - b);
                    }
                    s.1 = f(&s.0);
                }
            }
        }
    }
    simplex.sort_by(nan_last);
    simplex[0]
}
