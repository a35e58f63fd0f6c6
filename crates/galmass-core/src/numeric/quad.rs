//! Quadrature: composite Simpson of a function, the trapezoid rule and its running integral on samples
//! (`scipy.integrate.trapezoid` and `cumulative_trapezoid(..., initial=0)`).
//!
//! ```
//! use galmass_core::numeric::quad::{cumulative_trapezoid, simpson, trapezoid};
//! assert!((simpson(f64::sin, 0.0, std::f64::consts::PI, 64) - 2.0).abs() < 1e-7);
//! assert_eq!(trapezoid(&[0.0, 1.0, 2.0], &[0.0, 1.0, 2.0]), 2.0);
//! assert_eq!(cumulative_trapezoid(&[0.0, 1.0, 2.0], &[0.0, 1.0, 2.0]), vec![0.0, 0.5, 2.0]);
//! ```

/// Composite Simpson's rule for `f` on `[a, b]` with `n` intervals (rounded up to an even number, at least 2).
/// Exact for cubics; error O(h^4) for smooth `f`.
pub fn simpson(f: impl Fn(f64) -> f64, a: f64, b: f64, n: usize) -> f64 {
    let n = (n.max(2) + 1) & !1;
    let h = (b - a) / n as f64;
    let mut sum = f(a) + f(b);
    for i in 1..n {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * f(a + i as f64 * h);
    }
    sum * h / 3.0
}

/// The trapezoid rule on samples `ys` at nodes `xs` (any spacing; uses the shorter length).
pub fn trapezoid(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len().min(ys.len());
    (1..n).map(|i| 0.5 * (ys[i] + ys[i - 1]) * (xs[i] - xs[i - 1])).sum()
}

/// The running trapezoid integral from `xs[0]`: one value per node, the first 0.
pub fn cumulative_trapezoid(xs: &[f64], ys: &[f64]) -> Vec<f64> {
    let n = xs.len().min(ys.len());
    let mut out = Vec::with_capacity(n);
    let mut acc = 0.0;
    for i in 0..n {
        if i > 0 {
            acc += 0.5 * (ys[i] + ys[i - 1]) * (xs[i] - xs[i - 1]);
        }
        out.push(acc);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simpson_is_exact_for_cubics_and_converges_at_fourth_order() {
        let cubic = |x: f64| 2.0 * x * x * x - x + 1.0;
        // Integral on [-1, 2]: x^4/2 - x^2/2 + x = (8 - 2 + 2) - (0.5 - 0.5 - 1) = 9.
        assert!((simpson(cubic, -1.0, 2.0, 2) - 9.0).abs() < 1e-12);
        assert!((simpson(cubic, -1.0, 2.0, 3) - 9.0).abs() < 1e-12); // 3 rounds up to 4
        let e1 = (simpson(f64::exp, 0.0, 1.0, 8) - (1f64.exp() - 1.0)).abs();
        let e2 = (simpson(f64::exp, 0.0, 1.0, 16) - (1f64.exp() - 1.0)).abs();
        assert!((e1 / e2 - 16.0).abs() < 0.5, "ratio {}", e1 / e2);
    }

    #[test]
    fn trapezoid_matches_scipy_on_uneven_nodes() {
        // scipy.integrate.trapezoid([1, 4, 2, 5], [0, 1, 3, 4]) = 2.5 + 6 + 3.5 = 12
        let (xs, ys) = ([0.0, 1.0, 3.0, 4.0], [1.0, 4.0, 2.0, 5.0]);
        assert_eq!(trapezoid(&xs, &ys), 12.0);
        assert_eq!(cumulative_trapezoid(&xs, &ys), vec![0.0, 2.5, 8.5, 12.0]);
        assert_eq!(trapezoid(&[1.0], &[3.0]), 0.0);
        assert!(cumulative_trapezoid(&[], &[]).is_empty());
    }
}
