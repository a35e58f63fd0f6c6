//! Gizmo HDF5 snapshots (FIRE-2): single files, chunks `snapshot_NNN.C.hdf5` and `snapdir_NNN` folders, read by
//! species and index ranges with hyperslab selections ([`GizmoSnapshot::elements_read`] counts the numbers read),
//! zoom-galaxy extraction about a given or shrinking-sphere centre ([`GizmoSnapshot::read_zoom_galaxy`]), and a
//! multi-file writer ([`write_gizmo_snapshot`]); [`reader`] and [`writer`] hold the two halves.
//!
//! The header, chunk layout and write helpers are the Gadget-family layer Arepo shares ([`crate::gadget_hdf5`]:
//! [`GizmoHeader`] is [`crate::gadget_hdf5::GadgetHeader`]), and the derived quantities reuse [`crate::arepo::physics`].
//!
//! # Species
//! PartType0 gas, PartType1 high-resolution dark matter, PartType2 and PartType3 low-resolution dark matter (all
//! three read into [`Species::Dm`], with `high_res` true for PartType1 and false otherwise; a Dm index range counts
//! PartType1 rows, then PartType2, then PartType3), PartType4 stars, PartType5 black holes.
//!
//! # Units and fields (FIRE-2 conventions, as gizmo_analysis's `gizmo_io` converts them)
//! - Coordinates kpc comoving/h: `x a / h` -> physical kpc; Velocities km/s sqrt(a): `v sqrt(a)` -> peculiar km/s;
//!   Masses (or `Header/MassTable`) 1e10 Msun/h: `m 1e10 / h` -> Msun; Density 1e10 Msun/h / (kpc comoving/h)^3:
//!   `rho 1e10 h^2 / a^3` -> Msun/kpc^3; Potential `phi / a` -> (km/s)^2.
//! - SmoothingLength (gas): GIZMO's kernel length is the full extent of the kernel, the radius of compact support
//!   (gizmo_analysis: "size in snapshot is full extent of the kernel (radius of compact support)"), in kpc
//!   comoving/h; it is the galaxy file's convention already, so only `x a / h` applies (gizmo_analysis itself goes
//!   on to multiply by 0.5077 to report a mean inter-particle spacing; galmass does not).
//! - Temperature from InternalEnergy + ElectronAbundance with [`crate::arepo::physics::temperature_k`] (X_H = 0.76 in the mean
//!   molecular weight; gizmo_analysis uses each particle's helium fraction, which differs by ~1% for FIRE's gas).
//! - HI mass `X_H f_n m` with f_n = NeutralHydrogenAbundance and `X_H = 1 - Metallicity[:,0] - Metallicity[:,1]`
//!   (total metals and helium) when Metallicity has the 11 columns, else 0.76. FIRE-2's NeutralHydrogenAbundance is
//!   the neutral fraction of hydrogen, atomic and molecular together (FIRE-2 snapshots store no molecular fraction):
//!   galmass takes all of it as HI, an upper bound on the atomic hydrogen in dense star-forming gas, and applies no
//!   pressure-based molecular split (unlike the TNG recipe).
//! - Metallicity: column 0 (total metal mass fraction) of the (N, 11) array (0 Z, 1 He, 2 C, 3 N, 4 O, 5 Ne, 6 Mg,
//!   7 Si, 8 S, 9 Ca, 10 Fe); a 1-d Metallicity is the total metallicity.
//! - StellarFormationTime: the scale factor at formation, turned into AgeGyr with the header's Lambda-CDM
//!   (Omega0, OmegaLambda, HubbleParam; `galmass_core::cosmology::Cosmology`). StarFormationRate is Msun/yr already.
//!
//! # Chunks and errors
//! As [`crate::arepo`]: with `NumFilesPerSnapshot` > 1 every chunk's `NumPart_ThisFile` must add up to
//! `NumPart_Total` (+ 2^32 `NumPart_Total_HighWord`); a dataset with fewer rows than its chunk announces is
//! [`SnapshotError::Truncated`](crate::SnapshotError::Truncated), more rows or a wrong width [`SnapshotError::BadField`](crate::SnapshotError::BadField), a missing Coordinates,
//! Velocities or Masses (with `MassTable[N]` zero) [`SnapshotError::Missing`](crate::SnapshotError::Missing); each names the chunk and
//! `PartTypeN/Field`.
//!
//! ```no_run
//! use galmass_snapshot::gizmo::GizmoSnapshot;
//! let snap = GizmoSnapshot::open("m12i/output/snapdir_600".as_ref())?;
//! let galaxy = snap.read_zoom_galaxy(None, 30.0)?;
//! println!("{} stars within 30 kpc, {} numbers read", galaxy.stars()?.len(), snap.elements_read());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod reader;
pub mod writer;

use galmass_core::Species;

pub use crate::placed::PlacedGalaxy;
pub use reader::{GizmoSnapshot, SHRINK_MIN_STARS};
pub use writer::{write_gizmo_snapshot, GizmoWriteParams, GizmoWritten};

/// Number of Gizmo particle types.
pub use crate::gadget_hdf5::N_TYPES;
/// Columns of FIRE-2's Metallicity (Z, He, C, N, O, Ne, Mg, Si, S, Ca, Fe).
pub const METALLICITY_COLUMNS: usize = 11;

/// The Gizmo `Header`: the same Gadget-family attributes and unit conversions as Arepo's.
pub type GizmoHeader = crate::gadget_hdf5::GadgetHeader;

/// The particle types of a species, in the order a species index counts them.
pub fn part_types(species: Species) -> &'static [usize] {
    match species {
        Species::Gas => &[0],
        Species::Dm => &[1, 2, 3],
        Species::Stars => &[4],
        Species::Bh => &[5],
    }
}
