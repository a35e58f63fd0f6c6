//! The Gadget-family `Header` group (Arepo and Gizmo write the same attributes) and the chunk layout of a
//! multi-file snapshot, as pynbody's `gadgethdf` reads them.

use std::path::{Path, PathBuf};

use galmass_core::cosmology::Cosmology;

use super::ctx::Ctx;
use crate::error::SnapshotError;

/// Number of Gadget particle types (PartType0 ... PartType5).
pub const N_TYPES: usize = 6;

/// The `Header` attributes of a Gadget-family snapshot (Arepo, Gizmo), in the file's own units.
#[derive(Debug, Clone, PartialEq)]
pub struct GadgetHeader {
    /// Particles per type over all chunks (NumPart_Total + 2^32 NumPart_Total_HighWord, or the sum of
    /// NumPart_ThisFile over the files read when there is no NumPart_Total).
    pub num_part_total: [u64; N_TYPES],
    /// NumFilesPerSnapshot.
    pub num_files_per_snapshot: u64,
    /// MassTable, 1e10 Msun/h.
    pub mass_table: [f64; N_TYPES],
    /// HubbleParam h.
    pub hubble_param: f64,
    /// Time: the scale factor a.
    pub time: f64,
    /// Redshift.
    pub redshift: f64,
    /// BoxSize, ckpc/h (0 when a Gizmo header has none).
    pub box_size: f64,
    /// Omega0, when recorded.
    pub omega0: Option<f64>,
    /// OmegaLambda, when recorded.
    pub omega_lambda: Option<f64>,
}

impl GadgetHeader {
    /// ckpc/h to physical kpc: `a / h`.
    pub fn length_to_kpc(&self) -> f64 {
        self.time / self.hubble_param
    }

    /// 1e10 Msun/h to Msun: `1e10 / h`.
    pub fn mass_to_msun(&self) -> f64 {
        1e10 / self.hubble_param
    }

    /// km/s sqrt(a) to peculiar km/s: `sqrt(a)`.
    pub fn velocity_to_kms(&self) -> f64 {
        self.time.sqrt()
    }

    /// 1e10 Msun/h / (ckpc/h)^3 to Msun/kpc^3: `1e10 h^2 / a^3`.
    pub fn density_to_msun_per_kpc3(&self) -> f64 {
        self.mass_to_msun() / self.length_to_kpc().powi(3)
    }

    /// (km/s)^2/a to (km/s)^2: `1 / a`.
    pub fn potential_to_kms2(&self) -> f64 {
        1.0 / self.time
    }

    /// The header's cosmology (HubbleParam, Omega0, OmegaLambda), when Omega0 and OmegaLambda are recorded and
    /// describe a valid Lambda-CDM model (flat or curved).
    pub fn cosmology(&self) -> Option<Cosmology> {
        Cosmology::new(self.hubble_param, self.omega0?, self.omega_lambda?).ok()
    }

    /// The cosmology stellar ages need, or [`SnapshotError::Malformed`] naming `Header/Omega0`.
    pub(crate) fn cosmology_for_ages(&self, path: &Path) -> Result<Cosmology, SnapshotError> {
        self.cosmology().ok_or_else(|| {
            Ctx { path }.malformed(
                "Header/Omega0",
                format!(
                    "stellar ages need a Lambda-CDM cosmology (HubbleParam > 0, Omega0 > 0, OmegaLambda >= 0), got \
                     Omega0 = {:?}, OmegaLambda = {:?}",
                    self.omega0, self.omega_lambda
                ),
            )
        })
    }
}

/// How strict a format is about the header: Arepo files always carry MassTable, Redshift and BoxSize; Gizmo files
/// may lack them (zeros, `1/a - 1` and no box).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderRules {
    /// MassTable, Redshift and BoxSize required.
    Arepo,
    /// MassTable, Redshift and BoxSize optional.
    Gizmo,
}

/// One file's header, its NumPart_ThisFile, and its NumPart_Total (+ HighWord) when recorded.
pub(crate) type FileHeader = (GadgetHeader, [u64; N_TYPES], Option<[u64; N_TYPES]>);

/// Reads the `Header` group of one file (the header's totals are this file's counts when NumPart_Total is absent).
pub(crate) fn read_file_header(path: &Path, rules: HeaderRules) -> Result<FileHeader, SnapshotError> {
    let ctx = Ctx { path };
    let file = ctx.open()?;
    let header = ctx.group(&file, "Header")?;
    let this_file: [i64; N_TYPES] = ctx.array_attr(&header, "Header", "NumPart_ThisFile")?;
    let mut counts = [0u64; N_TYPES];
    for (k, &n) in this_file.iter().enumerate() {
        counts[k] = u64::try_from(n)
            .map_err(|_| ctx.malformed("Header/NumPart_ThisFile", format!("negative count {n} for PartType{k}")))?;
    }
    let total_low: Option<[u64; N_TYPES]> = ctx.array_attr_opt(&header, "Header", "NumPart_Total")?;
    let high: Option<[u64; N_TYPES]> = ctx.array_attr_opt(&header, "Header", "NumPart_Total_HighWord")?;
    let totals = total_low
        .map(|low| std::array::from_fn(|k| (low[k] & 0xffff_ffff).saturating_add(high.map_or(0, |h| h[k] << 32))));
    let num_files: i64 = ctx.scalar_attr_opt(&header, "Header", "NumFilesPerSnapshot")?.unwrap_or(1);
    let hubble_param: f64 = ctx.scalar_attr(&header, "Header", "HubbleParam")?;
    let time: f64 = ctx.scalar_attr(&header, "Header", "Time")?;
    if !(hubble_param > 0.0 && hubble_param.is_finite()) {
        return Err(ctx.malformed("Header/HubbleParam", format!("expected a positive h, got {hubble_param}")));
    }
    if !(time > 0.0 && time.is_finite()) {
        return Err(ctx.malformed("Header/Time", format!("expected a positive scale factor, got {time}")));
    }
    let (mass_table, redshift, box_size) = match rules {
        HeaderRules::Arepo => (
            ctx.array_attr(&header, "Header", "MassTable")?,
            ctx.scalar_attr(&header, "Header", "Redshift")?,
            ctx.scalar_attr(&header, "Header", "BoxSize")?,
        ),
        HeaderRules::Gizmo => (
            ctx.array_attr_opt(&header, "Header", "MassTable")?.unwrap_or([0.0; N_TYPES]),
            ctx.scalar_attr_opt(&header, "Header", "Redshift")?.unwrap_or(1.0 / time - 1.0),
            ctx.scalar_attr_opt(&header, "Header", "BoxSize")?.unwrap_or(0.0),
        ),
    };
    let gadget = GadgetHeader {
        num_part_total: totals.unwrap_or(counts),
        num_files_per_snapshot: u64::try_from(num_files.max(1)).unwrap_or(1),
        mass_table,
        hubble_param,
        time,
        redshift,
        box_size,
        omega0: ctx.scalar_attr_opt(&header, "Header", "Omega0")?,
        omega_lambda: ctx.scalar_attr_opt(&header, "Header", "OmegaLambda")?,
    };
    Ok((gadget, counts, totals))
}

/// One file of a snapshot (Arepo or Gizmo).
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub(crate) path: PathBuf,
    pub(crate) counts: [u64; N_TYPES],
    /// Index of this chunk's first row of each type within the snapshot.
    pub(crate) first: [u64; N_TYPES],
}

impl Chunk {
    /// The global rows `[start, end)` of type `ptype` that this chunk holds, as local rows `(lo, hi)` and the
    /// global first row `lo + first`; `None` when it holds none of them.
    pub(crate) fn local_rows(&self, ptype: usize, start: u64, end: u64) -> Option<(usize, usize, u64)> {
        let c0 = *self.first.get(ptype)?;
        let c1 = c0.saturating_add(*self.counts.get(ptype)?);
        let (lo, hi) = (start.max(c0), end.min(c1));
        (lo < hi).then(|| ((lo - c0) as usize, (hi - c0) as usize, lo))
    }
}

/// The chunks of a Gadget-family snapshot whose file `first` holds `counts` rows per type and announces
/// `num_files` files: with several files and a name `NAME.C.hdf5`, every `NAME.0.hdf5` ... (each chunk's counts from
/// `read_counts`), otherwise `first` alone. With several chunks, their counts must add up to the header's `totals`
/// when it records them. Returns the chunks and the total rows per type.
pub(crate) fn chunk_layout(
    first: &Path,
    num_files: u64,
    counts: [u64; N_TYPES],
    totals: Option<[u64; N_TYPES]>,
    read_counts: impl Fn(&Path) -> Result<[u64; N_TYPES], SnapshotError>,
) -> Result<(Vec<Chunk>, [u64; N_TYPES]), SnapshotError> {
    let mut chunk_counts = vec![(first.to_owned(), counts)];
    if num_files > 1 {
        if let Some((base, index)) = split_chunk_name(first) {
            chunk_counts.clear();
            for c in 0..num_files {
                let chunk = first.with_file_name(format!("{base}.{c}.hdf5"));
                let counts = if c == index { counts } else { read_counts(&chunk)? };
                chunk_counts.push((chunk, counts));
            }
        } else {
            tracing::warn!(path = %first.display(), "NumFilesPerSnapshot > 1 but the name is not NAME.C.hdf5: reading this file alone");
        }
    }
    let mut chunks = Vec::with_capacity(chunk_counts.len());
    let mut running = [0u64; N_TYPES];
    for (path, counts) in chunk_counts {
        chunks.push(Chunk { path, counts, first: running });
        for (total, n) in running.iter_mut().zip(counts) {
            *total = total.saturating_add(n);
        }
    }
    if let Some(totals) = totals.filter(|_| chunks.len() > 1) {
        if totals != running {
            return Err(Ctx { path: first }.malformed(
                "Header/NumPart_Total",
                format!("NumPart_Total {totals:?} but the chunks' NumPart_ThisFile add up to {running:?}"),
            ));
        }
    }
    // A single file (cutout, or one-file snapshot) is counted by what it holds.
    Ok((chunks, running))
}

/// Opens a Gadget-family snapshot as both readers do: `path` is a single file, a chunk `NAME.C.hdf5` (all chunks
/// are then used) or a snapshot folder. Returns the first file, its header with the total rows per type over every
/// chunk, and the chunks.
pub(crate) fn open_layout(
    path: &Path,
    rules: HeaderRules,
) -> Result<(PathBuf, GadgetHeader, Vec<Chunk>), SnapshotError> {
    let first = if path.is_dir() { first_file_in(path)? } else { path.to_owned() };
    let (mut header, counts, totals) = read_file_header(&first, rules)?;
    let (chunks, running) = chunk_layout(&first, header.num_files_per_snapshot, counts, totals, |chunk| {
        Ok(read_file_header(chunk, rules)?.1)
    })?;
    header.num_part_total = running;
    Ok((first, header, chunks))
}

/// `NAME.C.hdf5` -> (`NAME`, C).
pub(crate) fn split_chunk_name(path: &Path) -> Option<(String, u64)> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".hdf5")?;
    let (base, index) = stem.rsplit_once('.')?;
    Some((base.to_owned(), index.parse().ok()?))
}

/// The first chunk (or single file) inside a snapshot folder.
pub(crate) fn first_file_in(dir: &Path) -> Result<PathBuf, SnapshotError> {
    let io = |e| SnapshotError::Io { path: dir.to_owned(), context: "listing the snapshot folder".into(), source: e };
    let mut names: Vec<PathBuf> =
        std::fs::read_dir(dir).map_err(io)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort();
    let is_hdf5 = |p: &&PathBuf| p.extension().is_some_and(|e| e == "hdf5");
    names
        .iter()
        .filter(is_hdf5)
        .find(|p| split_chunk_name(p).is_some_and(|(_, c)| c == 0))
        .or_else(|| names.iter().find(is_hdf5))
        .cloned()
        .ok_or_else(|| SnapshotError::Missing { path: dir.to_owned(), kind: "file", name: "*.0.hdf5".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_names_split_and_rows_map_to_chunks() {
        assert_eq!(split_chunk_name("a/snapshot_600.3.hdf5".as_ref()), Some(("snapshot_600".into(), 3)));
        assert_eq!(split_chunk_name("a/snapshot_600.hdf5".as_ref()), None);
        let chunk = Chunk { path: "x".into(), counts: [10, 0, 0, 0, 0, 0], first: [5, 0, 0, 0, 0, 0] };
        assert_eq!(chunk.local_rows(0, 0, 8), Some((0, 3, 5)));
        assert_eq!(chunk.local_rows(0, 12, 100), Some((7, 10, 12)));
        assert_eq!(chunk.local_rows(0, 15, 100), None);
        assert_eq!(chunk.local_rows(1, 0, 100), None);
        assert_eq!(chunk.local_rows(9, 0, 100), None);
    }
}
