//! What a galaxy file holds, as one serialisable summary: metadata, particle counts, masses and fields per
//! species, and the truth profile's radii, half-mass radii and scalars. `galmass info` prints it (text or JSON).

use std::path::{Path, PathBuf};

use galmass_core::Species;
use galmass_snapshot::galaxy_file;
use serde::Serialize;

use crate::PipelineError;

/// One species of a galaxy file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeciesInfo {
    /// The species.
    pub species: Species,
    /// Particle count.
    pub n_particles: usize,
    /// Total mass, Msun.
    pub total_mass_msun: f64,
    /// Datasets present (`pos`, `vel`, `mass`, then optional fields and `lum_<band>`).
    pub fields: Vec<String>,
}

/// A galaxy file's summary (the JSON keys of `galmass info --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GalaxyInfo {
    /// The file.
    pub path: PathBuf,
    /// Suite or simulation.
    pub suite: String,
    /// Galaxy id.
    pub galaxy_id: i64,
    /// Redshift.
    pub redshift: f64,
    /// Where the galaxy came from.
    pub source: String,
    /// Halo id in the source snapshot, if any.
    pub source_halo_id: Option<i64>,
    /// Rotation from the box frame to the stellar frame.
    pub rotation_to_aligned: [[f64; 3]; 3],
    /// Species present.
    pub species: Vec<SpeciesInfo>,
    /// What the truth profile was computed from, if there is one.
    pub truth_source: Option<String>,
    /// Radii of the truth profile.
    pub truth_n_radii: Option<usize>,
    /// Half-mass radius per species and in total, kpc.
    pub half_mass_radius_kpc: Vec<(String, f64)>,
    /// Scalar truth attributes (kappa_co, M200, ...).
    pub truth_scalars: Vec<(String, f64)>,
}

/// Summarises the galaxy file at `path`.
pub fn galaxy_info(path: &Path) -> Result<GalaxyInfo, PipelineError> {
    let galaxy = galaxy_file::read(path)?;
    let species = galaxy
        .all_species()
        .map(|(s, p)| {
            let mut fields: Vec<String> = vec!["pos".into(), "vel".into(), "mass".into()];
            fields.extend(p.ids().map(|_| "id".to_string()));
            fields.extend(p.fields().map(|(f, _)| f.dataset_name().to_string()));
            fields.extend(p.high_res().map(|_| "high_res".to_string()));
            fields.extend(p.luminosities().map(|(b, _)| format!("lum_{b}")));
            SpeciesInfo { species: s, n_particles: p.len(), total_mass_msun: p.total_mass_msun(), fields }
        })
        .collect();
    let truth = galaxy.truth.as_ref();
    let mut half_mass_radius_kpc = Vec::new();
    if let Some(t) = truth {
        for s in t.species() {
            if let Some(r) = t.half_mass_radius_kpc(Some(s)) {
                half_mass_radius_kpc.push((s.to_string(), r));
            }
        }
        if let Some(r) = t.half_mass_radius_kpc(None) {
            half_mass_radius_kpc.push(("total".into(), r));
        }
    }
    Ok(GalaxyInfo {
        path: path.to_owned(),
        suite: galaxy.meta.suite.clone(),
        galaxy_id: galaxy.meta.galaxy_id,
        redshift: galaxy.meta.redshift,
        source: galaxy.meta.source.clone(),
        source_halo_id: galaxy.meta.source_halo_id,
        rotation_to_aligned: galaxy.meta.rotation_to_aligned.matrix(),
        species,
        truth_source: truth.map(|t| t.source.to_attribute()),
        truth_n_radii: truth.map(|t| t.radii_kpc().len()),
        half_mass_radius_kpc,
        truth_scalars: truth.map(|t| t.scalars().map(|(k, v)| (k.to_owned(), v)).collect()).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{synth_galaxy, write_galaxy};

    #[test]
    fn summarises_a_synthetic_galaxy() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_galaxy(dir.path(), "g.h5", &synth_galaxy("nihao-like", (400, 800, Some(300)), 1, 2));
        let info = galaxy_info(&path).unwrap();
        assert_eq!((info.suite.as_str(), info.galaxy_id), ("nihao-like", 1));
        let stars = info.species.iter().find(|s| s.species == Species::Stars).unwrap();
        assert_eq!(stars.n_particles, 400);
        assert!(stars.fields.iter().any(|f| f == "lum_r"), "{:?}", stars.fields);
        assert!(info.half_mass_radius_kpc.iter().any(|(s, r)| s == "total" && *r > 0.0));
        assert!(matches!(galaxy_info(&dir.path().join("none.h5")), Err(PipelineError::Snapshot(_))));
    }
}
