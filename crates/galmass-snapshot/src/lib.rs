//! # galmass-snapshot
//!
//! Reading and writing galaxies: the galmass galaxy file ([`galaxy_file`], the interchange every stage reads) and
//! the simulations' own formats (TNG/Arepo and AURIGA HDF5 with Subfind, FIRE-2/Gizmo HDF5, sharing the
//! Gadget-HDF5 layer [`gadget_hdf5`]; NIHAO tipsy with AHF) behind one reader trait ([`reader`]), writers that place
//! galaxies ([`PlacedGalaxy`]) in each format, and galaxy extraction ([`extract`]). Every file is written through
//! `galmass_core::atomic` (multi-file snapshots committed together).
//!
//! This crate and the pipeline/CLI are the only ones that link HDF5 (ARCHITECTURE.md). Readers know nothing of maps
//! or models.
//!
//! ```no_run
//! use galmass_snapshot::galaxy_file;
//! let galaxy = galaxy_file::read("galaxy_000001.h5".as_ref())?;
//! println!("{} stars", galaxy.stars()?.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod arepo;
pub mod error;
pub mod extract;
pub mod gadget_hdf5;
pub mod galaxy_file;
pub mod gizmo;
pub mod placed;
pub mod reader;
pub mod tipsy;

pub use error::SnapshotError;
pub use placed::PlacedGalaxy;
