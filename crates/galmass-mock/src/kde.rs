//! Two-dimensional Gaussian kernel density estimation on a regular grid, identical to `scipy.stats.gaussian_kde`.
//!
//! # What is computed (scipy's defaults)
//! For points (x_i, y_i) with weights w_i normalised to sum 1 (uniform 1/n by default), the effective sample size is
//! `n_eff = 1 / sum w_i^2`. The data covariance is numpy's `cov(..., aweights=w, ddof=1)`; the kernel covariance is
//! `K = cov x factor^2`. With [`Bandwidth::Scott`] (scipy's default, Scott's rule in 2-d) `factor = n_eff^(-1/6)`, so
//! `K = cov x n_eff^(-1/3)`. [`Bandwidth::PaperLiteral`] reads sarrato2025 appendix A literally ("the covariance
//! matrix of the data multiplied by a factor n^(-1/6)"): `K = cov x n_eff^(-1/6)`, a kernel wider by n^(1/12). The
//! density at a point p is `sum_i w_i N(p; (x_i, y_i), K)` with the normalised 2-d Gaussian
//! `N = exp(-d^T K^-1 d / 2) / (2 pi sqrt(det K))` (the paper's eq. A.2 has (2 pi)^(-3/2), a typo).
//!
//! # How it is computed fast (and still exactly)
//! With `K^-1 = [[a, b], [b, c]]` and grid coordinates (X_j, Y_k) the exponent splits as
//! `-a dx^2/2 - c dy^2/2 - b dx dy` and `-b dx dy = -b X_j Y_k + b X_j y_i + b x_i Y_k - b x_i y_i`, so
//! `density[k][j] = norm e^(-b X_j Y_k) sum_i A[i][j] B[i][k]` with `A[i][j] = w_i e^(-a dx^2/2 + b X_j y_i - b x_i y_i)`
//! and `B[i][k] = e^(-c dy^2/2 + b x_i Y_k)`: one matrix product (n x 64)^T (n x 64). Each row of A and B is a Gaussian
//! in the grid index, filled from its peak outwards by a multiplicative recurrence (two multiplications per value, no
//! exponential in the inner loop). Coordinates are taken relative to the grid centre, and the split is used only when
//! every factor stays below e^250 ([`KdeMethod::Auto`]); otherwise (very elongated kernels) the exact conditional
//! decomposition `exp(-a' dx^2/2) exp(-c (dy + (b/c) dx)^2 / 2)`, `a' = a - b^2/c`, is evaluated column by column with
//! the same recurrences. Both agree with scipy to ~3e-14 of the map maximum (tests: <= 1e-12).
//!
//! # Degenerate input
//! scipy raises for some singular covariances and silently returns meaningless numbers (1e8, or zeros) for others
//! (points exactly on a line, two points). Here fewer than three points is [`MockError::TooFewPoints`] and a data
//! correlation with `1 - rho^2 < 1e-12` (or a zero variance) is [`MockError::DegenerateCovariance`]: never a NaN.
//!
//! ```
//! use galmass_mock::kde::{Bandwidth, GaussianKde2, Grid2, GridAxis, GridSampling};
//! let x = [0.1, -0.2, 0.05, 0.3, -0.1];
//! let y = [0.0, 0.1, -0.3, 0.2, 0.25];
//! let kde = GaussianKde2::new(&x, &y, None, Bandwidth::Scott, "example").unwrap();
//! let axis = GridAxis::new(-0.5, 0.5, 64, GridSampling::Endpoints).unwrap();
//! let map = kde.evaluate_grid(&Grid2 { x: axis, y: axis });
//! assert_eq!(map.dim(), (64, 64)); // axis 0 is y
//! let direct = kde.evaluate_grid_direct(&Grid2 { x: axis, y: axis });
//! let max = direct.iter().cloned().fold(0.0, f64::max);
//! assert!(map.iter().zip(direct.iter()).all(|(a, b)| (a - b).abs() <= 1e-12 * max));
//! ```

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::error::MockError;

/// How the kernel covariance follows from the data covariance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Bandwidth {
    /// scipy's default (Scott's rule): kernel covariance = data covariance x n_eff^(-1/3).
    #[default]
    Scott,
    /// sarrato2025 appendix A read literally: kernel covariance = data covariance x n_eff^(-1/6).
    PaperLiteral,
}

impl Bandwidth {
    /// scipy's `factor` (kernel covariance = data covariance x factor^2).
    pub fn factor(self, n_eff: f64) -> f64 {
        match self {
            Bandwidth::Scott => n_eff.powf(-1.0 / 6.0),
            Bandwidth::PaperLiteral => n_eff.powf(-1.0 / 12.0),
        }
    }
}

/// Where the grid points of an axis sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum GridSampling {
    /// `n` points from `min` to `max` inclusive, like `numpy.linspace(min, max, n)` or `numpy.mgrid[min:max:nj]`.
    #[default]
    Endpoints,
    /// The centres of `n` equal pixels covering `[min, max]`.
    Centres,
}

/// One axis of a regular grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GridAxis {
    /// Lower end of the range.
    pub min: f64,
    /// Upper end of the range.
    pub max: f64,
    /// Number of points.
    pub n: usize,
    /// Where the points sit.
    pub sampling: GridSampling,
}

impl GridAxis {
    /// Checks and builds an axis (finite, min < max, n >= 2).
    pub fn new(min: f64, max: f64, n: usize, sampling: GridSampling) -> Result<Self, MockError> {
        if !(min.is_finite() && max.is_finite() && min < max) || n < 2 {
            return Err(MockError::invalid(
                "grid",
                format!("need finite min < max and n >= 2, got {min}..{max} with {n} points"),
            ));
        }
        Ok(Self { min, max, n, sampling })
    }

    /// Spacing between neighbouring points.
    pub fn step(&self) -> f64 {
        match self.sampling {
            GridSampling::Endpoints => (self.max - self.min) / (self.n - 1) as f64,
            GridSampling::Centres => (self.max - self.min) / self.n as f64,
        }
    }

    /// The first point.
    pub fn first(&self) -> f64 {
        match self.sampling {
            GridSampling::Endpoints => self.min,
            GridSampling::Centres => self.min + 0.5 * self.step(),
        }
    }

    /// Coordinate of point `i`, computed as numpy's linspace does for [`GridSampling::Endpoints`]
    /// (`min + i * step`, the last point set to `max` exactly).
    pub fn coord(&self, i: usize) -> f64 {
        if self.sampling == GridSampling::Endpoints && i == self.n - 1 {
            return self.max;
        }
        self.first() + i as f64 * self.step()
    }

    /// All coordinates.
    pub fn coords(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.coord(i)).collect()
    }

    fn centre(&self) -> f64 {
        0.5 * (self.min + self.max)
    }
}

/// A regular 2-d grid; maps are stored with axis 0 along `y` and axis 1 along `x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Grid2 {
    /// Horizontal axis (array axis 1).
    pub x: GridAxis,
    /// Vertical axis (array axis 0).
    pub y: GridAxis,
}

/// Which evaluation algorithm to use (all give the same numbers to rounding).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KdeMethod {
    /// The separable matrix-product form when its factors are safely representable, else [`KdeMethod::Conditional`].
    #[default]
    Auto,
    /// The separable matrix-product form (falls back to conditional when unsafe).
    Separable,
    /// Column-by-column conditional decomposition (exact, slower).
    Conditional,
}

/// A fitted 2-d Gaussian KDE (see the module docs for the exact definition).
#[derive(Debug, Clone, PartialEq)]
pub struct GaussianKde2 {
    x: Vec<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
    n_eff: f64,
    factor: f64,
    /// Kernel covariance (xx, xy, yy).
    covariance: [f64; 3],
    /// Inverse kernel covariance (a, b, c).
    inverse: [f64; 3],
    norm: f64,
}

/// Largest exponent allowed in a factor of the separable form: a product of two factors, summed over up to e^100
/// stars, stays below e^709.
const MAX_FACTOR_EXPONENT: f64 = 300.0;

/// Buffers reused between evaluations on one thread (no allocation, no page faults per map).
#[derive(Default)]
struct Scratch {
    at: Vec<f64>,
    bt: Vec<f64>,
}

/// From this many points on, the separable sum is split in two halves that may run in parallel.
const PARALLEL_MIN_STARS: usize = 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl GaussianKde2 {
    /// Fits the KDE to points `(x, y)` with optional non-negative weights. `what` names the map in errors.
    pub fn new(
        x: &[f64],
        y: &[f64],
        weights: Option<&[f64]>,
        bandwidth: Bandwidth,
        what: &str,
    ) -> Result<Self, MockError> {
        if x.len() != y.len() {
            return Err(MockError::BadInput {
                name: "y",
                expected: format!("{} values", x.len()),
                got: format!("{}", y.len()),
            });
        }
        let n = x.len();
        if n < 3 {
            return Err(MockError::TooFewPoints { what: what.into(), needed: 3, got: n });
        }
        if let Some(i) = x.iter().chain(y.iter()).position(|v| !v.is_finite()) {
            return Err(MockError::BadInput {
                name: "points",
                expected: "finite coordinates".into(),
                got: format!("non-finite value at flat index {i}"),
            });
        }
        let w: Vec<f64> = match weights {
            None => vec![1.0 / n as f64; n],
            Some(w) => {
                if w.len() != n {
                    return Err(MockError::BadInput {
                        name: "weights",
                        expected: format!("{n} values"),
                        got: format!("{}", w.len()),
                    });
                }
                if w.iter().any(|v| !(v.is_finite() && *v >= 0.0)) {
                    return Err(MockError::BadInput {
                        name: "weights",
                        expected: "finite non-negative weights".into(),
                        got: "a negative or non-finite weight".into(),
                    });
                }
                let total: f64 = w.iter().sum();
                if total <= 0.0 {
                    return Err(MockError::BadInput {
                        name: "weights",
                        expected: "a positive total".into(),
                        got: format!("{total}"),
                    });
                }
                w.iter().map(|v| v / total).collect()
            }
        };
        let n_eff = 1.0 / w.iter().map(|v| v * v).sum::<f64>();
        // numpy.cov(dataset, aweights=w, ddof=1): weighted mean, then sum w x' y' / (1 - sum w^2).
        let sum_w: f64 = w.iter().sum();
        let mx = x.iter().zip(&w).map(|(v, w)| v * w).sum::<f64>() / sum_w;
        let my = y.iter().zip(&w).map(|(v, w)| v * w).sum::<f64>() / sum_w;
        let fact = sum_w - w.iter().map(|v| v * v).sum::<f64>() / sum_w;
        let (mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0);
        for ((xi, yi), wi) in x.iter().zip(y).zip(&w) {
            let (dx, dy) = (xi - mx, yi - my);
            sxx += wi * dx * dx;
            sxy += wi * dx * dy;
            syy += wi * dy * dy;
        }
        let (cxx, cxy, cyy) = (sxx / fact, sxy / fact, syy / fact);
        let correlation = cxy / (cxx * cyy).sqrt();
        let one_minus_rho2 = 1.0 - correlation * correlation;
        // A spread below 1e-10 of the coordinates' magnitude is rounding noise of a constant coordinate.
        let resolved = |var: f64, values: &[f64]| {
            let scale = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            var > (1e-10 * scale).powi(2) && var > 0.0
        };
        if !(resolved(cxx, x) && resolved(cyy, y) && one_minus_rho2 >= 1e-12) {
            return Err(MockError::DegenerateCovariance { what: what.into(), n, correlation });
        }
        let factor = bandwidth.factor(n_eff);
        let f2 = factor * factor;
        let covariance = [cxx * f2, cxy * f2, cyy * f2];
        let det = covariance[0] * covariance[2] - covariance[1] * covariance[1];
        let inverse = [covariance[2] / det, -covariance[1] / det, covariance[0] / det];
        // scipy: (2 pi)^(-d/2) / prod(diag(cholesky(K))) = 1 / (2 pi sqrt(det K)).
        let chol_00 = covariance[0].sqrt();
        let chol_11 = (covariance[2] - covariance[1] * covariance[1] / covariance[0]).sqrt();
        let norm = 1.0 / (2.0 * std::f64::consts::PI) / chol_00 / chol_11;
        Ok(Self { x: x.to_vec(), y: y.to_vec(), w, n_eff, factor, covariance, inverse, norm })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.x.len()
    }

    /// Always false: a fitted KDE has at least three points.
    pub fn is_empty(&self) -> bool {
        self.x.is_empty()
    }

    /// Effective sample size 1 / sum w^2.
    pub fn n_eff(&self) -> f64 {
        self.n_eff
    }

    /// scipy's `factor`.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// The kernel covariance as (xx, xy, yy).
    pub fn covariance(&self) -> [f64; 3] {
        self.covariance
    }

    /// Density at one point, summing every kernel directly (the reference the fast paths are tested against).
    pub fn evaluate_point(&self, px: f64, py: f64) -> f64 {
        let [a, b, c] = self.inverse;
        let sum: f64 = self
            .x
            .iter()
            .zip(&self.y)
            .zip(&self.w)
            .map(|((xi, yi), wi)| {
                let (dx, dy) = (px - xi, py - yi);
                wi * (-0.5 * (a * dx * dx + 2.0 * b * dx * dy + c * dy * dy)).exp()
            })
            .sum();
        self.norm * sum
    }

    /// The density on a grid by direct summation (slow; for tests and references). Axis 0 is y.
    pub fn evaluate_grid_direct(&self, grid: &Grid2) -> Array2<f64> {
        let (xs, ys) = (grid.x.coords(), grid.y.coords());
        Array2::from_shape_fn((grid.y.n, grid.x.n), |(k, j)| self.evaluate_point(xs[j], ys[k]))
    }

    /// The density on a grid, fast and exact to rounding. Axis 0 is y.
    pub fn evaluate_grid(&self, grid: &Grid2) -> Array2<f64> {
        self.evaluate_grid_with(grid, KdeMethod::Auto)
    }

    /// The density on a grid with a chosen algorithm.
    pub fn evaluate_grid_with(&self, grid: &Grid2, method: KdeMethod) -> Array2<f64> {
        match method {
            KdeMethod::Conditional => self.conditional(grid),
            KdeMethod::Auto | KdeMethod::Separable => self.separable(grid).unwrap_or_else(|| self.conditional(grid)),
        }
    }

    /// The separable matrix-product form; `None` when a factor could overflow.
    ///
    /// `density[k][j] = norm exp(-a X^2/2 - c Y^2/2 - b X Y) sum_i A[i][j] B[i][k]` with
    /// `A[i][j] = w_i exp(alpha_i + beta_i X_j)` and `B[i][k] = exp(gamma_i + delta_i Y_k)`, where
    /// `alpha_i = -a x_i^2/2 - b x_i y_i`, `beta_i = a x_i + b y_i`, `gamma_i = -c y_i^2/2`, `delta_i = c y_i + b x_i`
    /// (coordinates relative to the grid centre). Along the grid each row is geometric: one multiplication per value.
    fn separable(&self, grid: &Grid2) -> Option<Array2<f64>> {
        let [a, b, c] = self.inverse;
        let (xc, yc) = (grid.x.centre(), grid.y.centre());
        let (nx, ny, n) = (grid.x.n, grid.y.n, self.len());
        let xs: Vec<f64> = (0..nx).map(|j| grid.x.coord(j) - xc).collect();
        let ys: Vec<f64> = (0..ny).map(|k| grid.y.coord(k) - yc).collect();
        let (x_lo, x_hi) = (xs[0], xs[nx - 1]);
        let (y_lo, y_hi) = (ys[0], ys[ny - 1]);
        let mut rows_a = Vec::with_capacity(n);
        let mut rows_b = Vec::with_capacity(n);
        for i in 0..n {
            let (xi, yi) = (self.x[i] - xc, self.y[i] - yc);
            let (alpha, beta) = (-0.5 * a * xi * xi - b * xi * yi, a * xi + b * yi);
            let (gamma, delta) = (-0.5 * c * yi * yi, c * yi + b * xi);
            // Largest exponent of each factor over the grid (a linear function: its ends).
            let top_a = (alpha + beta * x_lo).max(alpha + beta * x_hi);
            let top_b = (gamma + delta * y_lo).max(gamma + delta * y_hi);
            if !(top_a <= MAX_FACTOR_EXPONENT && top_b <= MAX_FACTOR_EXPONENT) {
                return None;
            }
            rows_a.push((alpha, beta));
            rows_b.push((gamma, delta));
        }
        // Stars split in halves (fixed by n, so the bytes do not depend on the thread count) that rayon may run on
        // two threads; each half sums its outer products, then the halves are added.
        let partial = |range: std::ops::Range<usize>| -> Vec<f64> {
            SCRATCH.with(|scratch| {
                let mut scratch = scratch.borrow_mut();
                let Scratch { at, bt } = &mut *scratch;
                fill_geometric_rows(at, &rows_a[range.clone()], Some(&self.w[range.clone()]), xs[0], grid.x.step(), nx);
                fill_geometric_rows(bt, &rows_b[range.clone()], None, ys[0], grid.y.step(), ny);
                let mut sums = vec![0.0; nx * ny];
                outer_product_sum(at, bt, range.len(), nx, ny, &mut sums);
                sums
            })
        };
        let sums = if n >= PARALLEL_MIN_STARS {
            let (mut first, second) = rayon::join(|| partial(0..n / 2), || partial(n / 2..n));
            first.iter_mut().zip(&second).for_each(|(a, b)| *a += b);
            first
        } else {
            partial(0..n)
        };
        let mut out = Array2::zeros((ny, nx));
        for (k, &yk) in ys.iter().enumerate() {
            for (j, &xj) in xs.iter().enumerate() {
                let quadratic = 0.5 * a * xj * xj + 0.5 * c * yk * yk + b * xj * yk;
                out[[k, j]] = self.norm * (-quadratic).exp() * sums[j * ny + k];
            }
        }
        Some(out)
    }

    /// Column by column: `exp(-a' dx^2/2) exp(-c (dy + beta dx)^2 / 2)`, `a' = a - b^2/c`, `beta = b/c`.
    fn conditional(&self, grid: &Grid2) -> Array2<f64> {
        let [a, b, c] = self.inverse;
        let a_marginal = a - b * b / c;
        let beta = b / c;
        let (hy, y0) = (grid.y.step(), grid.y.first());
        let mut out = Array2::zeros((grid.y.n, grid.x.n));
        let mut column = vec![0.0; grid.y.n];
        for j in 0..grid.x.n {
            let xj = grid.x.coord(j);
            column.iter_mut().for_each(|v| *v = 0.0);
            for i in 0..self.len() {
                let dx = xj - self.x[i];
                let weight = self.w[i] * (-0.5 * a_marginal * dx * dx).exp();
                if weight == 0.0 {
                    continue;
                }
                // exp(-c (Y - s)^2 / 2) with s = y_i - beta dx: -c/2 Y^2 + c s Y - c s^2 / 2.
                let s = self.y[i] - beta * dx;
                fill_gaussian_add(&mut column, c, c * s, -0.5 * c * s * s, y0, hy, weight);
            }
            for (k, v) in column.iter().enumerate() {
                out[[k, j]] = self.norm * v;
            }
        }
        out
    }
}

/// Fills `out` (n rows of `len`) with `scale_i exp(alpha_i + beta_i t_m)`, `t_m = t0 + m h`, as geometric sequences:
/// each row is written as four interleaved chains (starting at m = 0, 1, 2, 3 and stepping by ratio^4) so that the
/// multiplications overlap.
fn fill_geometric_rows(out: &mut Vec<f64>, rows: &[(f64, f64)], scale: Option<&[f64]>, t0: f64, h: f64, len: usize) {
    out.clear();
    out.reserve(rows.len() * len);
    for (i, &(alpha, beta)) in rows.iter().enumerate() {
        let first = scale.map_or(1.0, |s| s[i]) * (alpha + beta * t0).exp();
        let ratio = (beta * h).exp();
        let ratio4 = (ratio * ratio) * (ratio * ratio);
        let mut chain = [first, first * ratio, first * ratio * ratio, first * ratio * ratio * ratio];
        let start = out.len();
        for _ in 0..len / 4 {
            out.extend_from_slice(&chain);
            chain.iter_mut().for_each(|v| *v *= ratio4);
        }
        out.extend_from_slice(&chain[..len % 4]);
        debug_assert_eq!(out.len() - start, len);
    }
}

/// `s[j][k] += sum_i at[i][j] bt[i][k]` for row-major `at` (n, nx), `bt` (n, ny) and `s` (nx, ny): the matrix product
/// of the separable form. For each block of 8 stars a 8 x 16 tile of `bt` stays in registers while 4 rows of `s`
/// (8 independent accumulator chains) are updated; `s` itself stays in the L1 cache. Compiled for AVX-512 and AVX2
/// with FMA and chosen at run time (multiversion), with a portable fallback.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn outer_product_sum(at: &[f64], bt: &[f64], n: usize, nx: usize, ny: usize, s: &mut [f64]) {
    const STARS: usize = 8;
    const COLS: usize = 16;
    const ROWS: usize = 4;
    let fma = multiversion::target::target_cfg_f!(target_feature = "fma");
    let madd = |a: f64, b: f64, c: f64| if fma { a.mul_add(b, c) } else { a * b + c };
    let full_stars = n - n % STARS;
    let full_cols = ny - ny % COLS;
    let full_rows = nx - nx % ROWS;
    for i0 in (0..full_stars).step_by(STARS) {
        for k0 in (0..full_cols).step_by(COLS) {
            let mut tile = [[0.0f64; COLS]; STARS];
            for (t, row) in tile.iter_mut().enumerate() {
                row.copy_from_slice(&bt[(i0 + t) * ny + k0..(i0 + t) * ny + k0 + COLS]);
            }
            for j0 in (0..full_rows).step_by(ROWS) {
                let mut acc = [[0.0f64; COLS]; ROWS];
                for (r, a) in acc.iter_mut().enumerate() {
                    a.copy_from_slice(&s[(j0 + r) * ny + k0..(j0 + r) * ny + k0 + COLS]);
                }
                for (t, brow) in tile.iter().enumerate() {
                    let arow = &at[(i0 + t) * nx + j0..(i0 + t) * nx + j0 + ROWS];
                    for (acc_row, &a) in acc.iter_mut().zip(arow) {
                        for (c, b) in acc_row.iter_mut().zip(brow) {
                            *c = madd(a, *b, *c);
                        }
                    }
                }
                for (r, a) in acc.iter().enumerate() {
                    s[(j0 + r) * ny + k0..(j0 + r) * ny + k0 + COLS].copy_from_slice(a);
                }
            }
        }
    }
    // What the blocks left over: rows past full_rows, columns past full_cols, stars past full_stars.
    for i in 0..n {
        let (arow, brow) = (&at[i * nx..(i + 1) * nx], &bt[i * ny..(i + 1) * ny]);
        for j in 0..nx {
            let cols = if i < full_stars && j < full_rows { full_cols..ny } else { 0..ny };
            for k in cols {
                s[j * ny + k] = madd(arow[j], brow[k], s[j * ny + k]);
            }
        }
    }
}

/// Peak index and the value/ratios needed to fill `scale * exp(-q/2 t^2 + beta t + gamma)` on `t_m = t0 + m h`.
fn gaussian_walk(len: usize, q: f64, beta: f64, gamma: f64, t0: f64, h: f64) -> (usize, f64, f64, f64, f64) {
    let vertex = beta / q;
    let peak = ((vertex - t0) / h).round().clamp(0.0, (len - 1) as f64) as usize;
    let tp = t0 + peak as f64 * h;
    let value = (-0.5 * q * tp * tp + beta * tp + gamma).exp();
    // Ratios E(m+1)/E(m) and E(m-1)/E(m) at the peak; each step multiplies them by exp(-q h^2).
    let up = (-q * h * tp - 0.5 * q * h * h + beta * h).exp();
    let down = (q * h * tp - 0.5 * q * h * h - beta * h).exp();
    (peak, value, up, down, (-q * h * h).exp())
}

/// Adds `scale * exp(-q/2 t^2 + beta t + gamma)` at each grid point to `acc`, from the peak outwards.
fn fill_gaussian_add(acc: &mut [f64], q: f64, beta: f64, gamma: f64, t0: f64, h: f64, scale: f64) {
    let len = acc.len();
    let (peak, value, mut up, mut down, step) = gaussian_walk(len, q, beta, gamma, t0, h);
    let peak_value = scale * value;
    acc[peak] += peak_value;
    let mut e = peak_value;
    for slot in acc.iter_mut().skip(peak + 1) {
        e *= up;
        up *= step;
        *slot += e;
    }
    e = peak_value;
    for slot in acc[..peak].iter_mut().rev() {
        e *= down;
        down *= step;
        *slot += e;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn grid() -> Grid2 {
        let axis = GridAxis::new(-0.5, 0.5, 64, GridSampling::Endpoints).unwrap();
        Grid2 { x: axis, y: GridAxis::new(-1.0, 1.0, 48, GridSampling::Centres).unwrap() }
    }

    fn max_rel_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
        let max = b.iter().cloned().fold(0.0, f64::max);
        a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / max
    }

    fn correlated_points(n: usize, rho: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let (u, v): (f64, f64) = (rng.random_range(-0.3..0.3), rng.random_range(-0.3..0.3));
                (u, rho * u + (1.0 - rho * rho).sqrt() * v)
            })
            .unzip()
    }

    #[test]
    fn fast_paths_equal_direct_summation() {
        for (n, rho) in [(5, 0.0), (300, 0.3), (2000, -0.6), (500, 0.97)] {
            let (x, y) = correlated_points(n, rho, n as u64);
            for bandwidth in [Bandwidth::Scott, Bandwidth::PaperLiteral] {
                let kde = GaussianKde2::new(&x, &y, None, bandwidth, "test").unwrap();
                let direct = kde.evaluate_grid_direct(&grid());
                for method in [KdeMethod::Auto, KdeMethod::Conditional] {
                    let d = max_rel_diff(&kde.evaluate_grid_with(&grid(), method), &direct);
                    assert!(d < 1e-12, "n = {n}, rho = {rho}, {bandwidth:?}, {method:?}: {d}");
                }
            }
        }
    }

    #[test]
    fn weights_are_normalised_and_checked() {
        let (x, y) = correlated_points(50, 0.2, 1);
        let w: Vec<f64> = (0..50).map(|i| 1.0 + (i % 5) as f64).collect();
        let kde = GaussianKde2::new(&x, &y, Some(&w), Bandwidth::Scott, "test").unwrap();
        let total: f64 = w.iter().sum();
        let n_eff = total * total / w.iter().map(|v| v * v).sum::<f64>();
        assert!((kde.n_eff() - n_eff).abs() < 1e-9 * n_eff);
        let d = max_rel_diff(&kde.evaluate_grid(&grid()), &kde.evaluate_grid_direct(&grid()));
        assert!(d < 1e-12);
        assert!(matches!(
            GaussianKde2::new(&x, &y, Some(&w[..3]), Bandwidth::Scott, "t"),
            Err(MockError::BadInput { name: "weights", .. })
        ));
        let mut bad = w.clone();
        bad[3] = -1.0;
        assert!(matches!(
            GaussianKde2::new(&x, &y, Some(&bad), Bandwidth::Scott, "t"),
            Err(MockError::BadInput { name: "weights", .. })
        ));
    }

    #[test]
    fn density_integrates_to_one() {
        let (x, y) = correlated_points(400, 0.4, 9);
        let kde = GaussianKde2::new(&x, &y, None, Bandwidth::Scott, "test").unwrap();
        let axis = GridAxis::new(-1.5, 1.5, 300, GridSampling::Centres).unwrap();
        let map = kde.evaluate_grid(&Grid2 { x: axis, y: axis });
        let integral = map.sum() * axis.step() * axis.step();
        assert!((integral - 1.0).abs() < 1e-6, "{integral}");
    }

    #[test]
    fn degenerate_inputs_are_typed_errors() {
        let t: Vec<f64> = (0..20).map(|i| i as f64 * 0.01).collect();
        let line: Vec<f64> = t.iter().map(|v| 0.3 * v + 0.01).collect();
        assert!(matches!(
            GaussianKde2::new(&t, &line, None, Bandwidth::Scott, "m"),
            Err(MockError::DegenerateCovariance { .. })
        ));
        assert!(matches!(
            GaussianKde2::new(&t, &[0.1; 20], None, Bandwidth::Scott, "m"),
            Err(MockError::DegenerateCovariance { .. })
        ));
        assert!(matches!(
            GaussianKde2::new(&[0.1, 0.2], &[0.3, 0.1], None, Bandwidth::Scott, "m"),
            Err(MockError::TooFewPoints { got: 2, .. })
        ));
        assert!(matches!(
            GaussianKde2::new(&[], &[], None, Bandwidth::Scott, "m"),
            Err(MockError::TooFewPoints { got: 0, .. })
        ));
        assert!(matches!(
            GaussianKde2::new(&[0.1, f64::NAN, 0.2], &[0.0, 0.1, 0.3], None, Bandwidth::Scott, "m"),
            Err(MockError::BadInput { name: "points", .. })
        ));
        assert!(matches!(
            GridAxis::new(1.0, -1.0, 64, GridSampling::Endpoints),
            Err(MockError::InvalidParameter { name: "grid", .. })
        ));
    }

    #[test]
    fn grid_coordinates_match_numpy_linspace() {
        let axis = GridAxis::new(-0.5, 0.5, 64, GridSampling::Endpoints).unwrap();
        assert_eq!(axis.coord(0), -0.5);
        assert_eq!(axis.coord(63), 0.5);
        assert!((axis.coord(10) - (-0.5 + 10.0 / 63.0)).abs() < 1e-16);
        let centres = GridAxis::new(0.0, 1.0, 4, GridSampling::Centres).unwrap();
        assert_eq!(centres.coords(), vec![0.125, 0.375, 0.625, 0.875]);
    }
}
