//! [`PlacedGalaxy`]: a galaxy and where a snapshot writer puts it, the one input type of the tipsy
//! ([`crate::tipsy::write`]), Arepo ([`crate::arepo::writer`]) and Gizmo ([`crate::gizmo::writer`]) writers.
//!
//! ```
//! use galmass_core::{Galaxy, GalaxyMeta};
//! use galmass_snapshot::PlacedGalaxy;
//! let galaxy = Galaxy::new(GalaxyMeta::new("example", 0));
//! let placed = PlacedGalaxy::new(&galaxy, [100.0, 200.0, 300.0], [10.0, 0.0, -5.0]);
//! assert_eq!(placed.group, 0);
//! ```

use galmass_core::Galaxy;

/// A galaxy (particles relative to its centre, physical units) placed in a snapshot.
#[derive(Debug, Clone, Copy)]
pub struct PlacedGalaxy<'a> {
    /// The galaxy, positions and velocities relative to its centre and bulk velocity.
    pub galaxy: &'a Galaxy,
    /// Its FoF group label in a TNG-layout box (galaxies with one label share a group; the first listed is the
    /// central). The tipsy and Gizmo writers, whose zooms have no group catalogue, ignore it.
    pub group: u64,
    /// Where its centre goes, physical kpc in the snapshot frame.
    pub centre_kpc: [f64; 3],
    /// Its bulk peculiar velocity, km/s.
    pub velocity_kms: [f64; 3],
}

impl<'a> PlacedGalaxy<'a> {
    /// A galaxy at `centre_kpc` moving with `velocity_kms`, in group 0.
    pub fn new(galaxy: &'a Galaxy, centre_kpc: [f64; 3], velocity_kms: [f64; 3]) -> Self {
        Self { galaxy, group: 0, centre_kpc, velocity_kms }
    }

    /// The same placement in FoF group `group`.
    pub fn in_group(self, group: u64) -> Self {
        Self { group, ..self }
    }
}
