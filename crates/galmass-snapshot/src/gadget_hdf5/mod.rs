//! The Gadget-family HDF5 layer that Arepo ([`crate::arepo`]) and Gizmo ([`crate::gizmo`]) share, after pynbody's
//! `gadgethdf`: the `Header` attributes and their unit conversions ([`GadgetHeader`]), the chunk layout of
//! multi-file snapshots (`NAME.C.hdf5` files whose `NumPart_ThisFile` add up to `NumPart_Total`), the write helpers
//! (header attributes, rows split over chunks, the electron-abundance recipe) and the HDF5 context helpers that name
//! the file and object of every error (also used by the galaxy file, [`crate::galaxy_file`]).
//!
//! ```
//! use galmass_snapshot::gadget_hdf5::{GadgetHeader, N_TYPES};
//! let header = GadgetHeader {
//!     num_part_total: [0; N_TYPES],
//!     num_files_per_snapshot: 1,
//!     mass_table: [0.0; N_TYPES],
//!     hubble_param: 0.7,
//!     time: 0.5,
//!     redshift: 1.0,
//!     box_size: 1000.0,
//!     omega0: Some(0.3),
//!     omega_lambda: Some(0.7),
//! };
//! assert!((header.length_to_kpc() - 0.5 / 0.7).abs() < 1e-15);
//! assert!(header.cosmology().is_some());
//! ```

pub(crate) mod ctx;
mod header;
pub(crate) mod write;

pub(crate) use ctx::Ctx;
pub use ctx::{read_string_attr, StringAttrError};
pub(crate) use header::{open_layout, Chunk, HeaderRules};
pub use header::{GadgetHeader, N_TYPES};
