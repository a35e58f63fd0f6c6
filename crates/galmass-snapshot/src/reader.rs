//! One interface for every simulation format: a [`SnapshotReader`] gives the [`SnapshotHeader`] (format, counts per
//! species, redshift, cosmology, units, fields) and reads the particles of one species, whole or by index ranges, in
//! galmass's internal physical units (kpc, km/s, Msun, Gyr), in the snapshot's own frame (not centred).
//!
//! Each format's module (`tipsy`, `arepo`, ...) converts its own units (h, a, 1e10 Msun/h, sqrt(a) km/s) and says
//! how in its docs; [`SnapshotHeader::units`] repeats it for `galmass inspect`.
//!
//! ```
//! use galmass_snapshot::reader::ParticleSelection;
//! let first_ten = ParticleSelection::Ranges(vec![(0, 10)]);
//! assert_eq!(first_ten.count(100), 10);
//! assert_eq!(ParticleSelection::All.count(100), 100);
//! ```

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use galmass_core::{Particles, Species};
use serde::{Deserialize, Serialize};

use crate::error::SnapshotError;
use crate::tipsy::format::{ByteOrder, TipsyPrecision};

/// The simulation formats galmass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotFormat {
    /// Standard tipsy (NIHAO, ChaNGa, Gasoline), with `.param`, auxiliary arrays and AHF catalogues.
    Tipsy,
    /// Arepo HDF5 (IllustrisTNG, AURIGA), with Subfind group catalogues and offsets.
    Arepo,
    /// Gizmo HDF5 (FIRE-2).
    Gizmo,
}

/// What a snapshot holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotHeader {
    /// The format.
    pub format: SnapshotFormat,
    /// The file (or the first chunk) read.
    pub path: PathBuf,
    /// Particles per species in the whole snapshot (all chunks).
    pub n_particles: BTreeMap<Species, u64>,
    /// Cosmological scale factor a (`None` when the units are unknown: a tipsy file without `.param`).
    pub scale_factor: Option<f64>,
    /// Redshift 1/a - 1 (`None` when the units are unknown).
    pub redshift: Option<f64>,
    /// Dimensionless Hubble parameter h, when the format records it.
    pub hubble_param: Option<f64>,
    /// Side of the periodic box in physical kpc, when there is one.
    pub box_size_kpc: Option<f64>,
    /// How the format's units are converted (human-readable); `None` when they are unknown (a tipsy file without
    /// `.param` and without explicit units: the header reads, the particles need the units).
    pub units: Option<String>,
    /// Why something is unknown and what to give (present when `units` is `None`).
    pub note: Option<String>,
    /// The tipsy header as stored (tipsy only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tipsy: Option<TipsyDetails>,
    /// Fields available per species, in the format's own names.
    pub fields: BTreeMap<Species, Vec<String>>,
}

/// What a tipsy header says, whatever the units: its time, count, byte order and record precision.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TipsyDetails {
    /// Header time: the scale factor in comoving runs, else time in code units.
    pub time: f64,
    /// Total particles.
    pub n_total: u64,
    /// Byte order.
    pub byte_order: ByteOrder,
    /// Record precision.
    pub precision: TipsyPrecision,
}

/// Which particles of a species to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParticleSelection {
    /// All of them.
    All,
    /// Half-open index ranges `(start, length)` within the species, in snapshot order (over all chunks).
    Ranges(Vec<(u64, u64)>),
}

impl ParticleSelection {
    /// Number of particles selected out of `n_total` (ranges clipped to it).
    pub fn count(&self, n_total: u64) -> u64 {
        match self {
            ParticleSelection::All => n_total,
            ParticleSelection::Ranges(ranges) => ranges
                .iter()
                .map(|&(start, len)| start.saturating_add(len).min(n_total).saturating_sub(start.min(n_total)))
                .sum(),
        }
    }
}

/// A snapshot opened for reading.
pub trait SnapshotReader {
    /// What the snapshot holds.
    fn header(&self) -> &SnapshotHeader;

    /// The selected particles of one species in internal physical units (positions in the snapshot frame), with
    /// every optional field the format provides (`galmass_core::ScalarField`, ids, luminosities). A species the
    /// snapshot lacks gives empty particles.
    fn read_species(&self, species: Species, selection: &ParticleSelection) -> Result<Particles, SnapshotError>;
}

/// The first 8 bytes of every HDF5 file.
const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// The format of the snapshot at `path`. A file not starting with the HDF5 signature is tipsy (checked when opened).
/// An HDF5 file (or the first `.hdf5` file of a folder) is Gizmo when its gas carries `SmoothingLength` (Gizmo's
/// meshless gas; Arepo's moving-mesh cells have none) and Arepo otherwise (TNG, AURIGA, API cutouts); a snapshot
/// without gas reads as Arepo unless the format is given (`--format gizmo`).
pub fn detect_format(path: &Path) -> Result<SnapshotFormat, SnapshotError> {
    let file_path = if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| SnapshotError::Io {
                path: path.to_owned(),
                context: "listing the snapshot folder".into(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "hdf5"))
            .collect();
        entries.sort();
        match entries.into_iter().next() {
            Some(p) => p,
            None => return Ok(SnapshotFormat::Arepo),
        }
    } else {
        path.to_owned()
    };
    let mut head = [0u8; 8];
    let mut file = std::fs::File::open(&file_path).map_err(|source| SnapshotError::Io {
        path: file_path.clone(),
        context: "opening the snapshot".into(),
        source,
    })?;
    let n = file.read(&mut head).map_err(|source| SnapshotError::Io {
        path: file_path.clone(),
        context: "reading its first bytes".into(),
        source,
    })?;
    if n < 8 || &head != HDF5_SIGNATURE {
        return Ok(SnapshotFormat::Tipsy);
    }
    let h5 = hdf5::File::open(&file_path).map_err(|source| SnapshotError::Hdf5 {
        path: file_path.clone(),
        context: "opening the file".into(),
        source,
    })?;
    Ok(if h5.link_exists("PartType0") && h5.link_exists("PartType0/SmoothingLength") {
        SnapshotFormat::Gizmo
    } else {
        SnapshotFormat::Arepo
    })
}

/// Opens the snapshot at `path` in `format` (detected by [`detect_format`] when `None`); tipsy units follow pynbody
/// 2.8 ([`crate::tipsy::param::UnitConvention::Pynbody28`]) from the `.param` found beside the file (a tipsy file
/// without one opens with unknown units: see [`open_snapshot_with`]).
pub fn open_snapshot(path: &Path, format: Option<SnapshotFormat>) -> Result<Box<dyn SnapshotReader>, SnapshotError> {
    open_snapshot_with(path, format, &crate::tipsy::TipsyOptions::new(crate::tipsy::param::UnitConvention::Pynbody28))
}

/// [`open_snapshot`] with the tipsy options (a `.param` elsewhere, explicit units, precision) used when the
/// snapshot is tipsy.
pub fn open_snapshot_with(
    path: &Path,
    format: Option<SnapshotFormat>,
    tipsy: &crate::tipsy::TipsyOptions,
) -> Result<Box<dyn SnapshotReader>, SnapshotError> {
    let format = match format {
        Some(f) => f,
        None => detect_format(path)?,
    };
    Ok(match format {
        SnapshotFormat::Tipsy => Box::new(crate::tipsy::TipsySnapshot::open(path, tipsy)?),
        SnapshotFormat::Arepo => Box::new(crate::arepo::ArepoSnapshot::open(path)?),
        SnapshotFormat::Gizmo => Box::new(crate::gizmo::GizmoSnapshot::open(path)?),
    })
}
