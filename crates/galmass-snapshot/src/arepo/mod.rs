//! Arepo HDF5 snapshots (IllustrisTNG, AURIGA): single files, API cutouts and multi-chunk snapshots
//! (`snapdir_NNN/snap_NNN.C.hdf5`), read by species and index ranges with hyperslab selections, so that only the
//! selected rows are read ([`ArepoSnapshot::elements_read`] counts them). Group catalogues and offsets are in
//! [`catalogue`], the TNG-layout writer in [`writer`], unit conventions and derived quantities in [`physics`].
//!
//! # Species and fields
//! PartType0 is gas, 1 dark matter, 4 stars, 5 black holes. In zooms (AURIGA), PartType2 and 3 are low-resolution dark
//! matter: dark matter then carries `high_res` flags (true for PartType1), a whole read appends types 2 and 3, index
//! ranges count PartType1 rows, and halo reads add the halo's own type-2 and type-3 rows (the high-resolution
//! fraction filter needs them). Every species gives
//! Coordinates (physical kpc), Velocities (peculiar km/s), Masses (Msun; from `Header/MassTable` when the dataset is
//! absent), ParticleIDs (ids) and Potential (`PotentialKms2`). Gas adds GFM_Metallicity, StarFormationRate,
//! Density, TemperatureK (InternalEnergy + ElectronAbundance) and HiMassMsun (with NeutralHydrogenAbundance, Density
//! and the temperature); stars add GFM_Metallicity, AgeGyr (GFM_StellarFormationTime) and luminosities in g, r, i, z
//! (GFM_StellarPhotometrics). The conversions are in [`physics`]. A species with no `PartTypeN` group gives empty
//! particles; an API cutout with no particle group at all gives empty particles for every species.
//!
//! Datasets the reader cannot do without (`Coordinates`; `Masses` when `MassTable[N]` is zero) are
//! [`SnapshotError::Missing`] when absent. API cutouts often carry only what was requested: a missing `Velocities`
//! gives zero velocities (with a warning; [`SnapshotHeader::fields`] lists what the file has), and the other fields are
//! simply left out of the particles.
//!
//! # Wind cells
//! PartType4 holds stars and wind cells (GFM_StellarFormationTime <= 0). Index ranges (and the offsets and lengths of
//! the group catalogue) count PartType4 rows, winds included, exactly as the file stores them; the wind cells are
//! dropped after reading, so the stars returned for a range can be fewer than its length, and
//! [`SnapshotHeader::n_particles`] counts PartType4 rows. Without GFM_StellarFormationTime (cutouts) every row is a
//! star.
//!
//! # Chunks and counts
//! `open` takes one file, any chunk `NAME.C.hdf5` of a multi-chunk snapshot, or a `snapdir_NNN` folder. With
//! `NumFilesPerSnapshot` > 1 and a chunk name, the chunks `NAME.0.hdf5` ... are all opened (headers only) and their
//! `NumPart_ThisFile` must add up to `NumPart_Total` (+ 2^32 `NumPart_Total_HighWord`); a single file (cutouts have no
//! NumPart_Total) is counted by its `NumPart_ThisFile`. A dataset with fewer rows than `NumPart_ThisFile` announces is
//! [`SnapshotError::Truncated`]; more rows, or a wrong width, is [`SnapshotError::BadField`]. Both name the chunk
//! file and `PartTypeN/Field`.
//!
//! ```no_run
//! use galmass_core::Species;
//! use galmass_snapshot::arepo::ArepoSnapshot;
//! use galmass_snapshot::reader::{ParticleSelection, SnapshotReader};
//! let snap = ArepoSnapshot::open("output/snapdir_099/snap_099.0.hdf5".as_ref())?;
//! let dm = snap.read_species(Species::Dm, &ParticleSelection::Ranges(vec![(1000, 500)]))?;
//! println!("{} dm particles, {} numbers read", dm.len(), snap.elements_read());
//! # Ok::<(), galmass_snapshot::SnapshotError>(())
//! ```

pub mod catalogue;
pub mod physics;
pub mod writer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use galmass_core::particles::BandLuminosity;
use galmass_core::{CoreError, Particles, ScalarField, Species};
use hdf5::types::TypeDescriptor;
use hdf5::{Dataset, H5Type};
use ndarray::{s, Array1, Array2};

use crate::error::SnapshotError;
use crate::reader::{ParticleSelection, SnapshotFormat, SnapshotHeader, SnapshotReader};
use physics::FlatLcdm;

/// Number of Arepo particle types.
pub const N_TYPES: usize = 6;

/// The Arepo particle type of a galmass species (0 gas, 1 dm, 4 stars, 5 bh).
pub fn part_type(species: Species) -> usize {
    match species {
        Species::Gas => 0,
        Species::Dm => 1,
        Species::Stars => 4,
        Species::Bh => 5,
    }
}

/// Low-resolution dark-matter types of zooms (AURIGA): read into `Species::Dm` with `high_res` false.
pub const LOW_RES_DM_TYPES: [usize; 2] = [2, 3];

/// The particles with every `high_res` flag set to `flag`.
fn with_high_res(mut particles: Particles, flag: bool) -> Result<Particles, CoreError> {
    let n = particles.len();
    particles.set_high_res(Array1::from_elem(n, flag))?;
    Ok(particles)
}

/// The `Header` attributes of an Arepo snapshot, in the file's own units.
#[derive(Debug, Clone, PartialEq)]
pub struct ArepoHeader {
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
    /// BoxSize, ckpc/h.
    pub box_size: f64,
    /// Omega0, when recorded.
    pub omega0: Option<f64>,
    /// OmegaLambda, when recorded.
    pub omega_lambda: Option<f64>,
}

impl ArepoHeader {
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

    /// The flat LCDM cosmology of the header, when Omega0 and OmegaLambda are recorded.
    pub fn cosmology(&self) -> Option<FlatLcdm> {
        Some(FlatLcdm { hubble_param: self.hubble_param, omega_matter: self.omega0?, omega_lambda: self.omega_lambda? })
    }
}

/// One file of a snapshot (Arepo or Gizmo).
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    pub(crate) path: PathBuf,
    pub(crate) counts: [u64; N_TYPES],
    /// Index of this chunk's first row of each type within the snapshot.
    pub(crate) first: [u64; N_TYPES],
}

/// The chunks of a Gadget-family snapshot (Arepo, Gizmo) whose file `first` holds `counts` rows per type and
/// announces `num_files` files: with several files and a name `NAME.C.hdf5`, every `NAME.0.hdf5` ... (each chunk's
/// counts from `read_counts`), otherwise `first` alone. With several chunks, their counts must add up to the header's
/// `totals` when it records them. Returns the chunks and the total rows per type.
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
        for k in 0..N_TYPES {
            running[k] += counts[k];
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

/// An Arepo snapshot opened for reading (headers of every chunk read; particles read on request).
#[derive(Debug)]
pub struct ArepoSnapshot {
    header: SnapshotHeader,
    arepo: ArepoHeader,
    chunks: Vec<Chunk>,
    elements_read: AtomicU64,
}

/// Width of each field galmass reads (1 for scalars).
fn field_width(name: &str) -> usize {
    match name {
        "Coordinates" | "Velocities" => 3,
        "GFM_StellarPhotometrics" => physics::PHOTOMETRIC_COLUMNS,
        _ => 1,
    }
}

/// The fields galmass reads for a type, in reading order.
fn wanted_fields(ptype: usize) -> &'static [&'static str] {
    const COMMON: [&str; 5] = ["Coordinates", "Velocities", "Masses", "ParticleIDs", "Potential"];
    match ptype {
        0 => &[
            "Coordinates",
            "Velocities",
            "Masses",
            "ParticleIDs",
            "Potential",
            "GFM_Metallicity",
            "StarFormationRate",
            "Density",
            "InternalEnergy",
            "ElectronAbundance",
            "NeutralHydrogenAbundance",
        ],
        4 => &[
            "Coordinates",
            "Velocities",
            "Masses",
            "ParticleIDs",
            "Potential",
            "GFM_Metallicity",
            "GFM_StellarFormationTime",
            "GFM_StellarPhotometrics",
        ],
        _ => &COMMON,
    }
}

/// Error helpers for one file.
pub(crate) struct Ctx<'a> {
    pub(crate) path: &'a Path,
}

impl Ctx<'_> {
    pub(crate) fn hdf5(&self, context: &str, source: hdf5::Error) -> SnapshotError {
        SnapshotError::Hdf5 { path: self.path.to_owned(), context: context.to_owned(), source }
    }

    pub(crate) fn missing(&self, kind: &'static str, name: &str) -> SnapshotError {
        SnapshotError::Missing { path: self.path.to_owned(), kind, name: name.to_owned() }
    }

    pub(crate) fn bad_field(&self, field: &str, expected: impl Into<String>, got: impl Into<String>) -> SnapshotError {
        SnapshotError::BadField {
            path: self.path.to_owned(),
            field: field.to_owned(),
            expected: expected.into(),
            got: got.into(),
        }
    }

    pub(crate) fn malformed(&self, field: &str, reason: impl Into<String>) -> SnapshotError {
        SnapshotError::Malformed { path: self.path.to_owned(), field: field.to_owned(), reason: reason.into() }
    }

    pub(crate) fn invalid(&self, group: &str, source: CoreError) -> SnapshotError {
        SnapshotError::Invalid { path: self.path.to_owned(), group: group.to_owned(), source }
    }

    pub(crate) fn open(&self) -> Result<hdf5::File, SnapshotError> {
        hdf5::File::open(self.path).map_err(|e| self.hdf5("opening the file", e))
    }

    pub(crate) fn group(&self, file: &hdf5::File, name: &str) -> Result<hdf5::Group, SnapshotError> {
        if !file.link_exists(name) {
            return Err(self.missing("group", name));
        }
        file.group(name).map_err(|e| self.hdf5(&format!("opening group {name}"), e))
    }

    pub(crate) fn dataset(&self, file: &hdf5::File, name: &str) -> Result<Dataset, SnapshotError> {
        if !file.link_exists(name) {
            return Err(self.missing("dataset", name));
        }
        file.dataset(name).map_err(|e| self.hdf5(&format!("opening dataset {name}"), e))
    }

    fn attr(&self, loc: &hdf5::Location, group: &str, name: &str) -> Result<Option<hdf5::Attribute>, SnapshotError> {
        let names = loc.attr_names().map_err(|e| self.hdf5(&format!("listing attributes of {group}"), e))?;
        if !names.iter().any(|n| n == name) {
            return Ok(None);
        }
        loc.attr(name).map(Some).map_err(|e| self.hdf5(&format!("opening attribute {group}/{name}"), e))
    }

    fn check_numeric(&self, dtype: hdf5::Result<hdf5::Datatype>, full: &str) -> Result<(), SnapshotError> {
        let desc =
            dtype.and_then(|t| t.to_descriptor()).map_err(|e| self.hdf5(&format!("reading the type of {full}"), e))?;
        match desc {
            TypeDescriptor::Float(_) | TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => Ok(()),
            other => Err(self.bad_field(full, "a numeric field", format!("{other:?}"))),
        }
    }

    /// A numeric attribute of one value (scalar or length-1 array), when present.
    pub(crate) fn scalar_attr_opt<T: H5Type + Copy>(
        &self,
        loc: &hdf5::Location,
        group: &str,
        name: &str,
    ) -> Result<Option<T>, SnapshotError> {
        let Some(attr) = self.attr(loc, group, name)? else { return Ok(None) };
        let full = format!("{group}/{name}");
        self.check_numeric(attr.dtype(), &full)?;
        let shape = attr.shape();
        let values = attr.read_raw::<T>().map_err(|e| self.hdf5(&format!("reading attribute {full}"), e))?;
        match values.as_slice() {
            [v] => Ok(Some(*v)),
            _ => Err(self.bad_field(&full, "one value", format!("shape {shape:?}"))),
        }
    }

    pub(crate) fn scalar_attr<T: H5Type + Copy>(
        &self,
        loc: &hdf5::Location,
        group: &str,
        name: &str,
    ) -> Result<T, SnapshotError> {
        self.scalar_attr_opt(loc, group, name)?.ok_or_else(|| self.missing("attribute", &format!("{group}/{name}")))
    }

    /// A numeric attribute of exactly `N` values, when present.
    pub(crate) fn array_attr_opt<T: H5Type + Copy + Default, const N: usize>(
        &self,
        loc: &hdf5::Location,
        group: &str,
        name: &str,
    ) -> Result<Option<[T; N]>, SnapshotError> {
        let Some(attr) = self.attr(loc, group, name)? else { return Ok(None) };
        let full = format!("{group}/{name}");
        self.check_numeric(attr.dtype(), &full)?;
        let values = attr.read_raw::<T>().map_err(|e| self.hdf5(&format!("reading attribute {full}"), e))?;
        if values.len() != N {
            return Err(self.bad_field(&full, format!("{N} values"), format!("{} values", values.len())));
        }
        let mut out = [T::default(); N];
        out.copy_from_slice(&values);
        Ok(Some(out))
    }

    fn array_attr<T: H5Type + Copy + Default, const N: usize>(
        &self,
        loc: &hdf5::Location,
        group: &str,
        name: &str,
    ) -> Result<[T; N], SnapshotError> {
        self.array_attr_opt(loc, group, name)?.ok_or_else(|| self.missing("attribute", &format!("{group}/{name}")))
    }

    /// Checks that `ds` has `rows` rows of `width` numbers (`width == 1`: a 1-d dataset).
    pub(crate) fn check_rows(&self, ds: &Dataset, full: &str, rows: u64, width: usize) -> Result<(), SnapshotError> {
        self.check_numeric(ds.dtype(), full)?;
        let shape = ds.shape();
        let expected_shape = if width == 1 { format!("({rows},)") } else { format!("({rows}, {width})") };
        let width_ok = if width == 1 { shape.len() == 1 } else { shape.len() == 2 && shape[1] == width };
        if !width_ok {
            return Err(self.bad_field(full, format!("shape {expected_shape}"), format!("shape {shape:?}")));
        }
        let got = shape[0] as u64;
        if got < rows {
            let item = ds.dtype().map(|t| t.size() as u64).unwrap_or(4) * width as u64;
            return Err(SnapshotError::Truncated {
                path: self.path.to_owned(),
                field: full.to_owned(),
                expected_bytes: rows * item,
                got_bytes: got * item,
            });
        }
        if got > rows {
            return Err(self.bad_field(
                full,
                format!("shape {expected_shape} (the header's count)"),
                format!("shape {shape:?}"),
            ));
        }
        Ok(())
    }
}

/// One file's header, its NumPart_ThisFile, and its NumPart_Total (+ HighWord) when recorded.
type FileHeader = (ArepoHeader, [u64; N_TYPES], Option<[u64; N_TYPES]>);

/// Reads the `Header` group of one file (the header's totals are this file's counts when NumPart_Total is absent).
fn read_file_header(path: &Path) -> Result<FileHeader, SnapshotError> {
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
    let totals = total_low.map(|low| {
        let mut t = [0u64; N_TYPES];
        for k in 0..N_TYPES {
            t[k] = (low[k] & 0xffff_ffff) + (high.map_or(0, |h| h[k]) << 32);
        }
        t
    });
    let num_files: i64 = ctx.scalar_attr_opt(&header, "Header", "NumFilesPerSnapshot")?.unwrap_or(1);
    let arepo = ArepoHeader {
        num_part_total: totals.unwrap_or(counts),
        num_files_per_snapshot: u64::try_from(num_files.max(1)).unwrap_or(1),
        mass_table: ctx.array_attr(&header, "Header", "MassTable")?,
        hubble_param: ctx.scalar_attr(&header, "Header", "HubbleParam")?,
        time: ctx.scalar_attr(&header, "Header", "Time")?,
        redshift: ctx.scalar_attr(&header, "Header", "Redshift")?,
        box_size: ctx.scalar_attr(&header, "Header", "BoxSize")?,
        omega0: ctx.scalar_attr_opt(&header, "Header", "Omega0")?,
        omega_lambda: ctx.scalar_attr_opt(&header, "Header", "OmegaLambda")?,
    };
    if !(arepo.hubble_param > 0.0 && arepo.hubble_param.is_finite()) {
        return Err(ctx.malformed("Header/HubbleParam", format!("expected a positive h, got {}", arepo.hubble_param)));
    }
    if !(arepo.time > 0.0 && arepo.time.is_finite()) {
        return Err(ctx.malformed("Header/Time", format!("expected a positive scale factor, got {}", arepo.time)));
    }
    Ok((arepo, counts, totals))
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

impl ArepoSnapshot {
    /// Opens a single file, a chunk of a multi-chunk snapshot (all its chunks are used) or a snapshot folder.
    pub fn open(path: &Path) -> Result<Self, SnapshotError> {
        let first = if path.is_dir() { first_file_in(path)? } else { path.to_owned() };
        let (mut arepo, counts, totals) = read_file_header(&first)?;
        let (chunks, running) =
            chunk_layout(&first, arepo.num_files_per_snapshot, counts, totals, |chunk| Ok(read_file_header(chunk)?.1))?;
        arepo.num_part_total = running;
        let header = Self::describe(&first, &arepo, &chunks)?;
        Ok(Self { header, arepo, chunks, elements_read: AtomicU64::new(0) })
    }

    fn describe(first: &Path, arepo: &ArepoHeader, chunks: &[Chunk]) -> Result<SnapshotHeader, SnapshotError> {
        let mut n_particles = BTreeMap::new();
        let mut fields = BTreeMap::new();
        for species in Species::ALL {
            let t = part_type(species);
            n_particles.insert(species, arepo.num_part_total[t]);
            if let Some(chunk) = chunks.iter().find(|c| c.counts[t] > 0) {
                let ctx = Ctx { path: &chunk.path };
                let file = ctx.open()?;
                let group = ctx.group(&file, &format!("PartType{t}"))?;
                let names = group.member_names().map_err(|e| ctx.hdf5(&format!("listing group PartType{t}"), e))?;
                fields.insert(species, names);
            }
        }
        let a = arepo.time;
        Ok(SnapshotHeader {
            format: SnapshotFormat::Arepo,
            path: first.to_owned(),
            n_particles,
            scale_factor: a,
            redshift: arepo.redshift,
            hubble_param: Some(arepo.hubble_param),
            box_size_kpc: Some(arepo.box_size * arepo.length_to_kpc()),
            units: format!(
                "Arepo/TNG, {} chunk(s), a = {a}, h = {h}: Coordinates ckpc/h x a/h -> kpc; Velocities km/s sqrt(a) x sqrt(a) -> \
                 km/s; Masses (or MassTable) 1e10 Msun/h x 1e10/h -> Msun; Density x 1e10 h^2/a^3 -> Msun/kpc^3; Potential \
                 (km/s)^2/a x 1/a; InternalEnergy + ElectronAbundance -> K; GFM_StellarFormationTime -> age (flat LCDM); \
                 PartType4 counts include wind cells (dropped on reading)",
                chunks.len(),
                h = arepo.hubble_param
            ),
            fields,
        })
    }

    /// The header in the file's own units.
    pub fn arepo_header(&self) -> &ArepoHeader {
        &self.arepo
    }

    /// The chunk files, in order.
    pub fn chunk_paths(&self) -> Vec<&Path> {
        self.chunks.iter().map(|c| c.path.as_path()).collect()
    }

    /// Numbers read from particle datasets since opening (or the last reset): rows times width, summed over fields.
    pub fn elements_read(&self) -> u64 {
        self.elements_read.load(Ordering::Relaxed)
    }

    /// Sets [`ArepoSnapshot::elements_read`] back to zero.
    pub fn reset_elements_read(&self) {
        self.elements_read.store(0, Ordering::Relaxed);
    }

    /// Whether the snapshot holds low-resolution dark matter (PartType2 or 3: a zoom such as AURIGA).
    pub fn is_zoom(&self) -> bool {
        LOW_RES_DM_TYPES.iter().any(|&t| self.arepo.num_part_total[t] > 0)
    }

    /// Rows `ranges` of low-resolution dark matter of type `ptype` (2 or 3), as dark matter with `high_res` false.
    pub fn read_low_res_dm(&self, ptype: usize, ranges: &[(u64, u64)]) -> Result<Particles, SnapshotError> {
        if !LOW_RES_DM_TYPES.contains(&ptype) {
            return Err(Ctx { path: &self.header.path }
                .malformed("PartType", format!("{ptype} is not a low-resolution dark-matter type (2 or 3)")));
        }
        let ranges: Vec<(u64, u64)> = ranges.iter().copied().filter(|r| r.1 > 0).collect();
        let raw = self.read_raw(ptype, &ranges)?;
        let particles = self.convert(ptype, Species::Dm, raw)?;
        with_high_res(particles, false)
            .map_err(|e| Ctx { path: &self.header.path }.invalid(&format!("PartType{ptype}"), e))
    }

    /// Reads the raw columns of a type for global row ranges: field name -> (width, values row-major), plus the ids.
    fn read_raw(&self, ptype: usize, ranges: &[(u64, u64)]) -> Result<RawColumns, SnapshotError> {
        let mut raw = RawColumns::default();
        let Some(template) = self.chunks.iter().find(|c| c.counts[ptype] > 0) else { return Ok(raw) };
        let gname = format!("PartType{ptype}");
        // The fields present in the first chunk holding this type are required in every chunk read.
        let present: Vec<&str> = {
            let ctx = Ctx { path: &template.path };
            let file = ctx.open()?;
            let group = ctx.group(&file, &gname)?;
            wanted_fields(ptype).iter().copied().filter(|f| group.link_exists(f)).collect()
        };
        let tctx = Ctx { path: &template.path };
        if !present.contains(&"Coordinates") {
            return Err(tctx.missing("dataset", &format!("{gname}/Coordinates")));
        }
        if !present.contains(&"Masses") && self.arepo.mass_table[ptype] <= 0.0 {
            return Err(tctx.missing("dataset", &format!("{gname}/Masses (MassTable[{ptype}] is zero)")));
        }
        for name in &present {
            raw.columns.insert((*name).to_owned(), (field_width(name), Vec::new()));
        }
        for &(start, len) in ranges {
            let end = start + len;
            for chunk in &self.chunks {
                let (c0, c1) = (chunk.first[ptype], chunk.first[ptype] + chunk.counts[ptype]);
                let (lo, hi) = (start.max(c0), end.min(c1));
                if lo >= hi {
                    continue;
                }
                let ctx = Ctx { path: &chunk.path };
                let file = ctx.open()?;
                let (local_lo, local_hi) = ((lo - c0) as usize, (hi - c0) as usize);
                for name in &present {
                    let full = format!("{gname}/{name}");
                    let ds = ctx.dataset(&file, &full)?;
                    let width = field_width(name);
                    ctx.check_rows(&ds, &full, chunk.counts[ptype], width)?;
                    let read_err = |e| ctx.hdf5(&format!("reading dataset {full}"), e);
                    if *name == "ParticleIDs" {
                        let ids: Array1<u64> = ds.read_slice_1d(s![local_lo..local_hi]).map_err(read_err)?;
                        raw.ids.extend(ids.iter().copied());
                    } else {
                        let values: Vec<f64> = if width == 1 {
                            ds.read_slice_1d::<f64, _>(s![local_lo..local_hi]).map_err(read_err)?.into_iter().collect()
                        } else {
                            ds.read_slice_2d::<f64, _>(s![local_lo..local_hi, ..])
                                .map_err(read_err)?
                                .into_iter()
                                .collect()
                        };
                        if let Some((_, column)) = raw.columns.get_mut(*name) {
                            column.extend(values);
                        }
                    }
                    self.elements_read.fetch_add(((local_hi - local_lo) * width) as u64, Ordering::Relaxed);
                }
                raw.rows += (hi - lo) as usize;
            }
        }
        raw.has_ids = present.contains(&"ParticleIDs");
        Ok(raw)
    }

    fn convert(&self, ptype: usize, species: Species, raw: RawColumns) -> Result<Particles, SnapshotError> {
        let n = raw.rows;
        if n == 0 {
            return Ok(Particles::empty());
        }
        let ctx = Ctx { path: &self.header.path };
        let gname = format!("PartType{ptype}");
        let h = &self.arepo;
        let column = |name: &str| raw.columns.get(name).map(|(_, v)| v.as_slice());
        let to_2d = |values: &[f64], factor: f64| Array2::from_shape_fn((n, 3), |(i, k)| values[3 * i + k] * factor);
        let pos = to_2d(column("Coordinates").unwrap_or_default(), h.length_to_kpc());
        let vel = match column("Velocities") {
            Some(v) => to_2d(v, h.velocity_to_kms()),
            None => {
                tracing::warn!(path = %ctx.path.display(), group = %gname, "no Velocities: zero velocities");
                Array2::zeros((n, 3))
            }
        };
        let mass: Array1<f64> = match column("Masses") {
            Some(m) => m.iter().map(|v| v * h.mass_to_msun()).collect(),
            None => Array1::from_elem(n, h.mass_table[ptype] * h.mass_to_msun()),
        };
        let invalid = |e| ctx.invalid(&gname, e);
        let mut particles = Particles::new(pos, vel, mass).map_err(invalid)?;
        if raw.has_ids {
            particles.set_ids(Array1::from(raw.ids)).map_err(invalid)?;
        }
        let scaled =
            |name: &str, factor: f64| column(name).map(|v| v.iter().map(|x| x * factor).collect::<Array1<f64>>());
        if let Some(phi) = scaled("Potential", h.potential_to_kms2()) {
            particles.set_field(ScalarField::PotentialKms2, phi).map_err(invalid)?;
        }
        if let Some(z) = scaled("GFM_Metallicity", 1.0) {
            particles.set_field(ScalarField::Metallicity, z).map_err(invalid)?;
        }
        let mut keep: Option<Vec<usize>> = None;
        match species {
            Species::Gas => self.convert_gas(&ctx, &mut particles, &column)?,
            Species::Stars => {
                if let Some(sft) = column("GFM_StellarFormationTime") {
                    let cosmology = h.cosmology().filter(FlatLcdm::is_valid).ok_or_else(|| {
                        ctx.malformed(
                            "Header/Omega0",
                            "stellar ages need a flat LCDM cosmology (Omega0 + OmegaLambda = 1)",
                        )
                    })?;
                    let ages: Array1<f64> = sft
                        .iter()
                        .map(|&a_form| if a_form > 0.0 { cosmology.age_gyr(a_form, h.time) } else { 0.0 })
                        .collect();
                    particles.set_field(ScalarField::AgeGyr, ages).map_err(invalid)?;
                    keep = Some((0..n).filter(|&i| sft[i] > 0.0).collect());
                }
                if let Some(mags) = column("GFM_StellarPhotometrics") {
                    let sft = column("GFM_StellarFormationTime");
                    for (band, col, solar) in physics::PHOTOMETRIC_BANDS {
                        // Wind cells may carry placeholder magnitudes: zero, and dropped below.
                        let lum: Array1<f64> = (0..n)
                            .map(|i| {
                                if sft.is_some_and(|s| s[i] <= 0.0) {
                                    0.0
                                } else {
                                    physics::luminosity_lsun(mags[physics::PHOTOMETRIC_COLUMNS * i + col], solar)
                                }
                            })
                            .collect();
                        particles
                            .set_luminosity(band, BandLuminosity { lum_lsun: lum, solar_abs_mag_ab: solar })
                            .map_err(invalid)?;
                    }
                }
            }
            Species::Dm | Species::Bh => {}
        }
        Ok(match keep {
            Some(idx) if idx.len() < n => particles.select(&idx).map_err(|e| ctx.invalid(&gname, e))?,
            _ => particles,
        })
    }

    fn convert_gas<'c>(
        &self,
        ctx: &Ctx<'_>,
        particles: &mut Particles,
        column: &dyn Fn(&str) -> Option<&'c [f64]>,
    ) -> Result<(), SnapshotError> {
        let h = &self.arepo;
        let invalid = |e| ctx.invalid("PartType0", e);
        let sfr = column("StarFormationRate");
        if let Some(s) = sfr {
            particles.set_field(ScalarField::SfrMsunPerYr, s.iter().copied().collect()).map_err(invalid)?;
        }
        let density: Option<Vec<f64>> =
            column("Density").map(|d| d.iter().map(|x| x * h.density_to_msun_per_kpc3()).collect());
        if let Some(d) = &density {
            particles.set_field(ScalarField::DensityMsunPerKpc3, Array1::from(d.clone())).map_err(invalid)?;
        }
        let (Some(u), Some(x_e)) = (column("InternalEnergy"), column("ElectronAbundance")) else { return Ok(()) };
        let temperature: Vec<f64> = u.iter().zip(x_e).map(|(&u, &x)| physics::temperature_k(u, x)).collect();
        particles.set_field(ScalarField::TemperatureK, Array1::from(temperature.clone())).map_err(invalid)?;
        let (Some(neutral), Some(density)) = (column("NeutralHydrogenAbundance"), density) else { return Ok(()) };
        let hi: Array1<f64> = (0..particles.len())
            .map(|i| {
                physics::GasCell {
                    mass_msun: particles.mass_msun()[i],
                    density_msun_per_kpc3: density[i],
                    temperature_k: temperature[i],
                    electron_abundance: x_e[i],
                    neutral_fraction: neutral[i],
                    sfr_msun_per_yr: sfr.map(|s| s[i]),
                }
                .hi_mass_msun()
            })
            .collect();
        particles.set_field(ScalarField::HiMassMsun, hi).map_err(invalid)
    }
}

#[derive(Debug, Default)]
struct RawColumns {
    rows: usize,
    columns: BTreeMap<String, (usize, Vec<f64>)>,
    ids: Vec<u64>,
    has_ids: bool,
}

impl SnapshotReader for ArepoSnapshot {
    fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    fn read_species(&self, species: Species, selection: &ParticleSelection) -> Result<Particles, SnapshotError> {
        let ptype = part_type(species);
        let total = self.arepo.num_part_total[ptype];
        let ranges: Vec<(u64, u64)> = match selection {
            ParticleSelection::All => vec![(0, total)],
            ParticleSelection::Ranges(r) => r
                .iter()
                .map(|&(start, len)| {
                    (start.min(total), start.saturating_add(len).min(total).saturating_sub(start.min(total)))
                })
                .filter(|r| r.1 > 0)
                .collect(),
        };
        let raw = self.read_raw(ptype, &ranges)?;
        let particles = self.convert(ptype, species, raw)?;
        if species != Species::Dm || !self.is_zoom() {
            return Ok(particles);
        }
        // A zoom: PartType1 is the high-resolution dark matter; a whole read appends PartType2 and 3.
        let mut parts =
            vec![with_high_res(particles, true).map_err(|e| Ctx { path: &self.header.path }.invalid("PartType1", e))?];
        if *selection == ParticleSelection::All {
            for t in LOW_RES_DM_TYPES {
                parts.push(self.read_low_res_dm(t, &[(0, self.arepo.num_part_total[t])])?);
            }
        }
        Particles::concatenate(parts).map_err(|e| Ctx { path: &self.header.path }.invalid("PartType1", e))
    }
}
