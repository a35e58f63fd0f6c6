//! One AHF halo of a tipsy snapshot as a galaxy: its member particles from `.AHF_particles` (AHF numbering: dark,
//! stars, gas; see [`super::ahf::ahf_id_to_file_index`]), read by index ranges, in the snapshot frame (centre it with
//! `crate::extract::centre_galaxy`).

use std::collections::BTreeMap;

use galmass_core::{Galaxy, GalaxyMeta, Species};

use super::ahf::{ahf_id_to_file_index, read_ahf_particles, AhfMembers};
use super::{TipsySnapshot, TIPSY_SPECIES};
use crate::error::SnapshotError;
use crate::reader::{ParticleSelection, SnapshotReader};

/// Sorted indices as `(start, len)` runs.
fn runs(sorted: &[u64]) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &i in sorted {
        match out.last_mut() {
            Some((start, len)) if *start + *len == i => *len += 1,
            _ => out.push((i, 1)),
        }
    }
    out
}

impl TipsySnapshot {
    /// The halo lists of the `.AHF_particles` beside the snapshot (read once, then [`TipsySnapshot::read_ahf_members`]
    /// per halo); none there is [`SnapshotError::Missing`].
    pub fn ahf_members(&self) -> Result<Vec<AhfMembers>, SnapshotError> {
        let path = self.ahf_particles_path().ok_or_else(|| SnapshotError::Missing {
            path: self.header().path.clone(),
            kind: "file",
            name: "<snapshot>.AHF_particles".into(),
        })?;
        read_ahf_particles(&path)
    }

    /// The members of AHF halo `halo_id` (the id in `.AHF_particles`), every species, in the snapshot frame;
    /// `source_halo_id` is the halo id. A halo id absent from the file is [`SnapshotError::Malformed`]; no
    /// `.AHF_particles` beside the snapshot is [`SnapshotError::Missing`].
    pub fn read_ahf_halo(&self, halo_id: i64, meta: GalaxyMeta) -> Result<Galaxy, SnapshotError> {
        let members = self.ahf_members()?;
        let halo = members.iter().find(|m| m.halo_id == halo_id).ok_or_else(|| SnapshotError::Malformed {
            path: self.ahf_particles_path().unwrap_or_default(),
            field: "halo id".into(),
            reason: format!("no halo {halo_id} among {} halos", members.len()),
        })?;
        self.read_ahf_members(halo, meta)
    }

    /// The particles listed in one halo of `.AHF_particles` (from [`TipsySnapshot::ahf_members`]), every species, in
    /// the snapshot frame; `source_halo_id` is the halo's id. An AHF id beyond the snapshot is
    /// [`SnapshotError::Malformed`].
    pub fn read_ahf_members(&self, halo: &AhfMembers, meta: GalaxyMeta) -> Result<Galaxy, SnapshotError> {
        let header = self.tipsy_header();
        let mut per_species: BTreeMap<Species, Vec<u64>> = BTreeMap::new();
        for &id in &halo.particle_ids {
            let index = ahf_id_to_file_index(id, header).ok_or_else(|| SnapshotError::Malformed {
                path: self.ahf_particles_path().unwrap_or_default(),
                field: format!("halo {} particle {id}", halo.halo_id),
                reason: format!("beyond the snapshot's {} particles", header.n_total),
            })?;
            let species = TIPSY_SPECIES
                .into_iter()
                .rev()
                .find(|&s| index >= header.species_first_index(s) && header.count(s) > 0)
                .unwrap_or(Species::Gas);
            per_species.entry(species).or_default().push(index - header.species_first_index(species));
        }
        let mut galaxy = Galaxy::new(GalaxyMeta { source_halo_id: Some(halo.halo_id), ..meta });
        for (species, mut indices) in per_species {
            indices.sort_unstable();
            indices.dedup();
            let particles = self.read_species(species, &ParticleSelection::Ranges(runs(&indices)))?;
            galaxy.set_species(species, particles);
        }
        Ok(galaxy)
    }
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn consecutive_indices_become_runs() {
        assert_eq!(runs(&[1, 2, 3, 7, 9, 10]), vec![(1, 3), (7, 1), (9, 2)]);
        assert!(runs(&[]).is_empty());
    }
}
