//! The small dense linear algebra of the least-squares fits (normal equations of at most a few hundred
//! parameters): Gaussian elimination with partial pivoting, and the inverse through it.

// `!(x > 0.0)` is meant: NaN must fail these checks, which `x <= 0.0` would let through.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

/// Solves `a x = b` for a square row-major `a` of size `n`; `None` when `a` is singular to working precision.
pub fn solve(a: &[f64], b: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut x = b.to_vec();
    if m.len() != n * n || x.len() != n {
        return None;
    }
    let scale = m.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(f64::MIN_POSITIVE);
    for col in 0..n {
        let pivot = (col..n).max_by(|&p, &q| m[p * n + col].abs().total_cmp(&m[q * n + col].abs()))?;
        if !(m[pivot * n + col].abs() > 1e-14 * scale) {
            return None;
        }
        if pivot != col {
            for k in 0..n {
                m.swap(pivot * n + k, col * n + k);
            }
            x.swap(pivot, col);
        }
        let d = m[col * n + col];
        for row in col + 1..n {
            let f = m[row * n + col] / d;
            if f != 0.0 {
                for k in col..n {
                    m[row * n + k] -= f * m[col * n + k];
                }
                x[row] -= f * x[col];
            }
        }
    }
    for col in (0..n).rev() {
        let mut s = x[col];
        for k in col + 1..n {
            s -= m[col * n + k] * x[k];
        }
        x[col] = s / m[col * n + col];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The inverse of a square row-major `a` (row-major), `None` when singular.
pub fn invert(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut inv = vec![0.0; n * n];
    for col in 0..n {
        let mut e = vec![0.0; n];
        e[col] = 1.0;
        let x = solve(a, &e, n)?;
        for row in 0..n {
            inv[row * n + col] = x[row];
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts_a_small_system() {
        let a = [0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 3.0, 0.0, 1.0];
        let x = solve(&a, &[5.0, 3.0, 6.0], 3).unwrap();
        for (got, want) in x.iter().zip([1.4, 1.6, 1.8]) {
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
        let inv = invert(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let p: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((p - f64::from(u8::from(i == j))).abs() < 1e-12);
            }
        }
        assert!(solve(&[1.0, 2.0, 2.0, 4.0], &[1.0, 2.0], 2).is_none());
    }
}
