//! Gradient histograms: per column and bin, the sums of gradients and hessians of a leaf's rows.
//!
//! Row counts are carried by the hessian sums: every objective here has unit hessians, so a bin's hessian sum is its
//! row count; under GOSS, where sampled rows are up-weighted, a count is estimated as LightGBM does, hessian sum
//! times (rows in leaf / leaf hessian sum). A leaf's histogram is built from its row indices and the gradients
//! gathered in that order ("ordered gradients"); the root without row sampling is a sequential pass. Columns are
//! independent, so they are built in parallel (rayon) with the same result for any thread count. The larger child
//! of a split gets parent minus smaller child (histogram subtraction).
//!
//! ```
//! use galmass_estimators::gbdt::histogram::HistBin;
//! let a = HistBin { grad: 1.5, hess: 3.0 };
//! let b = HistBin { grad: 0.5, hess: 1.0 };
//! assert_eq!(a - b, HistBin { grad: 1.0, hess: 2.0 });
//! ```

use std::ops::Sub;

use rayon::prelude::*;

use super::dataset::{BinStore, BinnedData};

/// One histogram bin.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[repr(C)]
pub struct HistBin {
    /// Sum of gradients.
    pub grad: f64,
    /// Sum of hessians (the row count for unit hessians).
    pub hess: f64,
}

impl Sub for HistBin {
    type Output = HistBin;
    fn sub(self, rhs: HistBin) -> HistBin {
        HistBin { grad: self.grad - rhs.grad, hess: self.hess - rhs.hess }
    }
}

/// The rows and gradients a histogram is built from.
#[derive(Clone, Copy)]
pub(crate) enum Rows<'a> {
    /// Every row, in order; gradients indexed by row. `hess` None: unit hessians.
    All { grad: &'a [f32], hess: Option<&'a [f32]> },
    /// These rows; gradients already gathered in the same order.
    Subset { rows: &'a [u32], grad: &'a [f32], hess: Option<&'a [f32]> },
}

fn seq_u8(bins: &[u8], grad: &[f32], hess: Option<&[f32]>, hist: &mut [HistBin; 256]) {
    match hess {
        None => {
            for (&b, &g) in bins.iter().zip(grad) {
                let e = &mut hist[usize::from(b)];
                e.grad += f64::from(g);
                e.hess += 1.0;
            }
        }
        Some(hess) => {
            for ((&b, &g), &h) in bins.iter().zip(grad).zip(hess) {
                let e = &mut hist[usize::from(b)];
                e.grad += f64::from(g);
                e.hess += f64::from(h);
            }
        }
    }
}

fn idx_u8(bins: &[u8], rows: &[u32], grad: &[f32], hess: Option<&[f32]>, hist: &mut [HistBin; 256]) {
    match hess {
        None => {
            for (&r, &g) in rows.iter().zip(grad) {
                let e = &mut hist[usize::from(bins[r as usize])];
                e.grad += f64::from(g);
                e.hess += 1.0;
            }
        }
        Some(hess) => {
            for ((&r, &g), &h) in rows.iter().zip(grad).zip(hess) {
                let e = &mut hist[usize::from(bins[r as usize])];
                e.grad += f64::from(g);
                e.hess += f64::from(h);
            }
        }
    }
}

fn seq_u16(bins: &[u16], grad: &[f32], hess: Option<&[f32]>, hist: &mut [HistBin]) {
    for (i, (&b, &g)) in bins.iter().zip(grad).enumerate() {
        let h = hess.map_or(1.0, |h| f64::from(h[i]));
        let e = &mut hist[usize::from(b)];
        e.grad += f64::from(g);
        e.hess += h;
    }
}

fn idx_u16(bins: &[u16], rows: &[u32], grad: &[f32], hess: Option<&[f32]>, hist: &mut [HistBin]) {
    for (k, (&r, &g)) in rows.iter().zip(grad).enumerate() {
        let h = hess.map_or(1.0, |h| f64::from(h[k]));
        let e = &mut hist[usize::from(bins[r as usize])];
        e.grad += f64::from(g);
        e.hess += h;
    }
}

/// Splits a leaf histogram into one mutable slice per column.
fn column_slices<'h>(data: &BinnedData, hist: &'h mut [HistBin]) -> Vec<&'h mut [HistBin]> {
    let mut out = Vec::with_capacity(data.columns.len());
    let mut rest = hist;
    let mut pos = 0;
    for c in &data.columns {
        let (_, tail) = rest.split_at_mut(c.hist_offset - pos);
        let width = match data.store {
            BinStore::U8(_) => 256,
            BinStore::U16(_) => c.num_bins,
        };
        let (mine, tail) = tail.split_at_mut(width);
        out.push(mine);
        rest = tail;
        pos = c.hist_offset + width;
    }
    out
}

fn build_column(data: &BinnedData, column: usize, rows: Rows<'_>, hist: &mut [HistBin]) {
    hist.fill(HistBin::default());
    let n = data.num_rows();
    match &data.store {
        BinStore::U8(store) => {
            let bins = &store[column * n..(column + 1) * n];
            let Ok(hist) = <&mut [HistBin; 256]>::try_from(hist) else { return };
            match rows {
                Rows::All { grad, hess } => seq_u8(bins, grad, hess, hist),
                Rows::Subset { rows, grad, hess } => idx_u8(bins, rows, grad, hess, hist),
            }
        }
        BinStore::U16(store) => {
            let bins = &store[column * n..(column + 1) * n];
            match rows {
                Rows::All { grad, hess } => seq_u16(bins, grad, hess, hist),
                Rows::Subset { rows, grad, hess } => idx_u16(bins, rows, grad, hess, hist),
            }
        }
    }
}

/// Builds the histogram of the columns marked in `used` (the others are left as they are).
pub(crate) fn build(
    data: &BinnedData,
    used: &[bool],
    rows: Rows<'_>,
    hist: &mut [HistBin],
    pool: Option<&rayon::ThreadPool>,
) {
    let slices = column_slices(data, hist);
    match pool {
        Some(pool) => pool.install(|| {
            slices
                .into_par_iter()
                .enumerate()
                .filter(|(c, _)| used[*c])
                .for_each(|(c, h)| build_column(data, c, rows, h));
        }),
        None => {
            for (c, h) in slices.into_iter().enumerate() {
                if used[c] {
                    build_column(data, c, rows, h);
                }
            }
        }
    }
}

/// `larger -= smaller` over the used columns (histogram subtraction).
pub(crate) fn subtract(data: &BinnedData, used: &[bool], larger: &mut [HistBin], smaller: &[HistBin]) {
    for (c, col) in data.columns.iter().enumerate() {
        if !used[c] {
            continue;
        }
        let range = col.hist_offset..col.hist_offset + col.num_bins;
        for (l, s) in larger[range.clone()].iter_mut().zip(&smaller[range]) {
            l.grad -= s.grad;
            l.hess -= s.hess;
        }
    }
}
