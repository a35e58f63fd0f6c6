//! Input checks shared by the metrics (private).

use crate::MetricsError;
use ndarray::{ArrayView, Dimension};

/// At least `expected` values.
pub(crate) fn at_least(argument: &'static str, got: usize, expected: usize) -> Result<(), MetricsError> {
    if got < expected {
        return Err(MetricsError::TooFew { argument, expected, got });
    }
    Ok(())
}

/// `argument` has the length of `reference`.
pub(crate) fn same_len(
    argument: &'static str,
    got: usize,
    reference: &'static str,
    expected: usize,
) -> Result<(), MetricsError> {
    if got != expected {
        return Err(MetricsError::LengthMismatch { argument, reference, expected, got });
    }
    Ok(())
}

/// Every value finite.
pub(crate) fn finite(argument: &'static str, values: &[f64]) -> Result<(), MetricsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(MetricsError::NonFinite { argument, index: vec![i], value: values[i] }),
        None => Ok(()),
    }
}

/// Every value finite and strictly positive.
pub(crate) fn positive(argument: &'static str, values: &[f64]) -> Result<(), MetricsError> {
    finite(argument, values)?;
    match values.iter().position(|v| *v <= 0.0) {
        Some(i) => Err(MetricsError::NonPositive { argument, index: vec![i], value: values[i] }),
        None => Ok(()),
    }
}

/// Every element of an array finite; the error names the multi-index of the first offender (logical order).
pub(crate) fn finite_array<D: Dimension>(
    argument: &'static str,
    values: &ArrayView<'_, f64, D>,
) -> Result<(), MetricsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(flat) => {
            let shape = values.shape();
            let mut index = vec![0; shape.len()];
            let mut rest = flat;
            for axis in (0..shape.len()).rev() {
                index[axis] = rest % shape[axis];
                rest /= shape[axis];
            }
            let value = values.iter().nth(flat).copied().unwrap_or(f64::NAN);
            Err(MetricsError::NonFinite { argument, index, value })
        }
        None => Ok(()),
    }
}

/// The array has exactly this shape.
pub(crate) fn shape(argument: &'static str, got: &[usize], expected: &[usize]) -> Result<(), MetricsError> {
    if got != expected {
        return Err(MetricsError::Shape { argument, expected: expected.to_vec(), got: got.to_vec() });
    }
    Ok(())
}

/// Strictly increasing (and finite) values.
pub(crate) fn strictly_increasing(argument: &'static str, values: &[f64]) -> Result<(), MetricsError> {
    finite(argument, values)?;
    for (i, pair) in values.windows(2).enumerate() {
        if pair[1] <= pair[0] {
            return Err(MetricsError::NotIncreasing { argument, index: i + 1, previous: pair[0], value: pair[1] });
        }
    }
    Ok(())
}
