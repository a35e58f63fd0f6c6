//! Write helpers of the Gadget-family writers (the TNG/AURIGA box and the Gizmo zoom): the `Header` attributes,
//! rows of a particle type split evenly over chunks, and the electron-abundance recipe that turns a temperature
//! back into `InternalEnergy` + `ElectronAbundance`.

use galmass_core::cosmology::Cosmology;
use hdf5::{Group, H5Type};
use ndarray::{ArrayView1, ArrayView2};

use super::ctx::Ctx;
use super::header::N_TYPES;
use crate::arepo::physics;
use crate::error::SnapshotError;

/// Electron abundance written for a temperature: ionised (1 + 2 He/H electrons per H: 1.158) above 1e4 K, else 0.
pub(crate) fn electron_abundance_for(temperature_k: f64) -> f64 {
    if temperature_k > 1e4 {
        1.0 + (1.0 - physics::HYDROGEN_MASS_FRACTION) / (2.0 * physics::HYDROGEN_MASS_FRACTION)
    } else {
        0.0
    }
}

/// Rows `[lo, hi)` of chunk `c` when `n` rows are split evenly over `n_chunks` (at least 1).
pub(crate) fn split(n: u64, n_chunks: u64, c: u64) -> (u64, u64) {
    let n_chunks = n_chunks.max(1);
    let at = |c: u64| (u128::from(n) * u128::from(c) / u128::from(n_chunks)) as u64;
    (at(c), at(c + 1))
}

/// Writes the particle counts of a snapshot chunk: NumPart_ThisFile (int32), NumPart_Total and
/// NumPart_Total_HighWord (uint32), MassTable and NumFilesPerSnapshot.
pub(crate) fn write_counts(
    ctx: &Ctx<'_>,
    header: &Group,
    this_file: [u64; N_TYPES],
    totals: [u64; N_TYPES],
    mass_table: [f64; N_TYPES],
    n_files: u64,
) -> Result<(), SnapshotError> {
    let mut this_file_i32 = [0i32; N_TYPES];
    for (slot, n) in this_file_i32.iter_mut().zip(this_file) {
        *slot = int32(ctx, "Header/NumPart_ThisFile", n)?;
    }
    ctx.write_attr(header, "NumPart_ThisFile", &this_file_i32)?;
    ctx.write_attr(header, "NumPart_Total", &totals.map(|n| (n & 0xffff_ffff) as u32))?;
    ctx.write_attr(header, "NumPart_Total_HighWord", &totals.map(|n| (n >> 32) as u32))?;
    ctx.write_attr(header, "MassTable", &mass_table)?;
    ctx.write_attr(header, "NumFilesPerSnapshot", &[int32(ctx, "Header/NumFilesPerSnapshot", n_files)?])
}

/// A count as the int32 Gadget headers and catalogues store; [`SnapshotError::Malformed`] when it does not fit.
pub(crate) fn int32(ctx: &Ctx<'_>, field: &str, n: u64) -> Result<i32, SnapshotError> {
    i32::try_from(n).map_err(|_| ctx.malformed(field, format!("{n} does not fit in the int32 the format stores")))
}

/// Writes Time, Redshift, BoxSize (code units), HubbleParam, Omega0, OmegaLambda and Flag_DoublePrecision = 0.
pub(crate) fn write_cosmology(
    ctx: &Ctx<'_>,
    header: &Group,
    scale_factor: f64,
    box_size_code: f64,
    cosmology: &Cosmology,
) -> Result<(), SnapshotError> {
    ctx.write_attr(header, "Time", &[scale_factor])?;
    ctx.write_attr(header, "Redshift", &[1.0 / scale_factor - 1.0])?;
    ctx.write_attr(header, "BoxSize", &[box_size_code])?;
    ctx.write_attr(header, "HubbleParam", &[cosmology.h])?;
    ctx.write_attr(header, "Omega0", &[cosmology.omega_m])?;
    ctx.write_attr(header, "OmegaLambda", &[cosmology.omega_lambda])?;
    ctx.write_attr(header, "Flag_DoublePrecision", &[0i32])
}

/// Writes rows `[lo, hi)` of a row-major column of `width` numbers per row as dataset `gname/name` (1-d when
/// `width` is 1, else (rows, width)).
pub(crate) fn write_rows<T: H5Type + Copy>(
    ctx: &Ctx<'_>,
    group: &Group,
    gname: &str,
    name: &str,
    values: &[T],
    width: usize,
    (lo, hi): (usize, usize),
) -> Result<(), SnapshotError> {
    let full = format!("{gname}/{name}");
    let rows = hi.saturating_sub(lo);
    let slice = values.get(width * lo..width * hi).ok_or_else(|| {
        ctx.malformed(&full, format!("rows {lo}..{hi} of width {width} beyond the {} values", values.len()))
    })?;
    if width == 1 {
        ctx.write_ds(group, gname, name, ArrayView1::from(slice))?;
    } else {
        let view = ArrayView2::from_shape((rows, width), slice).map_err(|e| ctx.malformed(&full, e.to_string()))?;
        ctx.write_ds(group, gname, name, view)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_split_evenly_and_cover_everything() {
        let parts: Vec<(u64, u64)> = (0..3).map(|c| split(10, 3, c)).collect();
        assert_eq!(parts, vec![(0, 3), (3, 6), (6, 10)]);
        assert_eq!(split(u64::MAX, 2, 1).1, u64::MAX);
        assert_eq!(split(5, 0, 0), (0, 5));
        assert!((electron_abundance_for(2e4) - 1.157_894_736_842_105_2).abs() < 1e-12);
        assert_eq!(electron_abundance_for(5e3), 0.0);
    }
}
