//! A synthetic suite written in its simulation's own format, so the snapshot readers and extraction run end to end
//! on files whose truth is known: tipsy zooms with `.param`, `.iord`, `.HI` and AHF halos (spheroids, nihao-like),
//! AURIGA-layout Arepo zooms (auriga-like), FIRE-2-like Gizmo zooms (fire-like) and a TNG-layout Arepo box with its
//! Subfind catalogue and offsets (tng-like).
//!
//! [`write_native`] returns one [`NativeEntry`] per snapshot written; `galmass synth` records them in its
//! `manifest.json` (key `native`), and `cargo xtask reproduce-paper` reads them from there to extract every halo
//! back: nothing downstream hard-codes a suite's layout.

use std::path::{Path, PathBuf};

use galmass_core::Galaxy;
use galmass_snapshot::galaxy_file;
pub use galmass_snapshot::reader::SnapshotFormat as NativeFormat;
use serde::{Deserialize, Serialize};

use crate::PipelineError;

/// One snapshot written in a native format: what `galmass extract --snapshot PATH [--snap N]` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NativeEntry {
    /// A short name, unique in the suite (the zoom's folder, or `box`): extraction writes into a folder of it.
    pub label: String,
    /// The format.
    pub format: NativeFormat,
    /// The snapshot to pass to `--snapshot`, relative to the suite folder.
    pub path: PathBuf,
    /// The snapshot number to pass to `--snap` (Arepo outputs folders), if any.
    pub snap: Option<u32>,
    /// The suite's galaxy ids the snapshot holds.
    pub galaxy_ids: Vec<u64>,
}

/// Which native layout a suite is written in (from its name), or `None` when it has none.
pub fn native_format_of(suite: &str) -> Option<NativeFormat> {
    match suite {
        "spheroids" | "nihao-like" => Some(NativeFormat::Tipsy),
        "auriga-like" | "tng-like" => Some(NativeFormat::Arepo),
        "fire-like" => Some(NativeFormat::Gizmo),
        _ => None,
    }
}

fn io(path: &Path, context: &str) -> impl FnOnce(std::io::Error) -> PipelineError {
    let (path, context) = (path.to_owned(), context.to_owned());
    move |source| PipelineError::Io { path, context, source }
}

/// Largest particle radius of a galaxy, kpc (at least 1).
fn extent_kpc(galaxy: &Galaxy) -> f64 {
    galaxy.all_species().flat_map(|(_, p)| p.radii_kpc().to_vec()).fold(1.0f64, f64::max)
}

/// Writes the galaxy files `ids` of the suite in `suite_dir` (named `galaxy_NNNNNN.h5`) in the native format of
/// `suite` under `suite_dir/native/`, at `redshift`. Returns what was written, paths relative to `suite_dir`.
pub fn write_native(
    suite_dir: &Path,
    suite: &str,
    redshift: f64,
    ids: &[u64],
) -> Result<Vec<NativeEntry>, PipelineError> {
    use galmass_snapshot::arepo::writer::{write_tng_box, TngBoxParams};
    use galmass_snapshot::gizmo::{write_gizmo_snapshot, GizmoWriteParams};
    use galmass_snapshot::tipsy::param::UnitConvention;
    use galmass_snapshot::tipsy::write::{write_galaxies, TipsyWriteOptions};
    use galmass_snapshot::PlacedGalaxy;
    let native = suite_dir.join("native");
    std::fs::create_dir_all(&native).map_err(io(&native, "creating the native folder"))?;
    let read = |id: u64| galaxy_file::read(&suite_dir.join(format!("galaxy_{id:06}.h5")));
    let relative = |p: &Path| p.strip_prefix(suite_dir).map(Path::to_owned).unwrap_or_else(|_| p.to_owned());
    let mut entries = Vec::new();
    match suite {
        "spheroids" | "nihao-like" => {
            // One zoom per galaxy, its centre placed off the origin as in a cosmological box.
            let options = TipsyWriteOptions::nihao_planck2014(redshift, UnitConvention::Pynbody28);
            for &id in ids {
                let galaxy = read(id)?;
                let label = format!("g{id:06}");
                let zoom = native.join(&label);
                std::fs::create_dir_all(&zoom).map_err(io(&zoom, "creating the zoom folder"))?;
                let path = zoom.join(format!("{label}.01024"));
                let placed = [PlacedGalaxy::new(&galaxy, [12_000.0, 25_000.0, 31_000.0], [35.0, -20.0, 10.0])];
                write_galaxies(&path, &placed, &options)?;
                entries.push(NativeEntry {
                    label,
                    format: NativeFormat::Tipsy,
                    path: relative(&path),
                    snap: None,
                    galaxy_ids: vec![id],
                });
            }
        }
        "auriga-like" => {
            // One zoom per galaxy in AURIGA's layout (snapshot 127, snapshot_127.C.hdf5, Subfind catalogue, no
            // offsets file), the galaxy at the centre of its box.
            for &id in ids {
                let galaxy = read(id)?;
                let box_kpc = 2.2 * extent_kpc(&galaxy);
                let params = TngBoxParams::auriga_like(box_kpc, 2);
                let label = format!("halo_{id:06}");
                let base = native.join(&label).join("output");
                let placed = [PlacedGalaxy::new(&galaxy, [0.5 * box_kpc; 3], [0.0; 3])];
                write_tng_box(&base, &params, &placed)?;
                entries.push(NativeEntry {
                    label,
                    format: NativeFormat::Arepo,
                    path: relative(&base),
                    snap: Some(127),
                    galaxy_ids: vec![id],
                });
            }
        }
        "tng-like" => {
            let galaxies: Vec<Galaxy> = ids.iter().map(|&id| read(id)).collect::<Result<_, _>>()?;
            // A grid of cells wide enough that no particle reaches a neighbour's (nor wraps the box).
            let extent = galaxies.iter().map(extent_kpc).fold(1.0f64, f64::max);
            let n_side = (galaxies.len() as f64).cbrt().ceil().max(1.0) as usize;
            let spacing = 2.2 * extent;
            let mut box_params = TngBoxParams::tng100_like(99, 3, 2);
            box_params.box_size_kpc = spacing * n_side as f64;
            let placed: Vec<PlacedGalaxy<'_>> = galaxies
                .iter()
                .enumerate()
                .map(|(i, galaxy)| {
                    let cell = [i % n_side, (i / n_side) % n_side, i / (n_side * n_side)];
                    PlacedGalaxy {
                        galaxy,
                        group: i as u64,
                        centre_kpc: cell.map(|c| (c as f64 + 0.5) * spacing),
                        velocity_kms: [0.0; 3],
                    }
                })
                .collect();
            let base = native.join("output");
            write_tng_box(&base, &box_params, &placed)?;
            entries.push(NativeEntry {
                label: "box".into(),
                format: NativeFormat::Arepo,
                path: relative(&base),
                snap: Some(99),
                galaxy_ids: ids.to_vec(),
            });
        }
        "fire-like" => {
            // One FIRE-2-like zoom per galaxy: snapdir_600/snapshot_600.C.hdf5 in 2 files, off the box centre.
            for &id in ids {
                let galaxy = read(id)?;
                let label = format!("m{id:06}");
                let base = native.join(&label).join("output");
                let params = GizmoWriteParams::fire2_like(600, 2);
                let centre = [0.4 * params.box_size_kpc, 0.5 * params.box_size_kpc, 0.6 * params.box_size_kpc];
                let placed = [PlacedGalaxy::new(&galaxy, centre, [-40.0, 25.0, 60.0])];
                write_gizmo_snapshot(&base, &params, &placed)?;
                entries.push(NativeEntry {
                    label,
                    format: NativeFormat::Gizmo,
                    path: relative(&base.join("snapdir_600")),
                    snap: None,
                    galaxy_ids: vec![id],
                });
            }
        }
        other => return Err(PipelineError::invalid("suite", format!("no native format for suite {other}"))),
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{synth_galaxy, write_galaxy};
    use galmass_synth::suite::SuiteParams;

    #[test]
    fn every_suite_with_a_format_round_trips_through_extraction_paths() {
        let dir = tempfile::tempdir().unwrap();
        for suite in ["nihao-like", "auriga-like", "fire-like", "tng-like"] {
            let suite_dir = dir.path().join(suite);
            std::fs::create_dir_all(&suite_dir).unwrap();
            for i in 0..2u64 {
                write_galaxy(
                    &suite_dir,
                    &format!("galaxy_{i:06}.h5"),
                    &synth_galaxy(suite, (300, 600, Some(200)), i, 1),
                );
            }
            let redshift = SuiteParams::preset(suite).unwrap().redshift;
            let entries = write_native(&suite_dir, suite, redshift, &[0, 1]).unwrap();
            let expected = native_format_of(suite).unwrap();
            assert!(entries.iter().all(|e| e.format == expected), "{suite}: {entries:?}");
            let ids: Vec<u64> = entries.iter().flat_map(|e| e.galaxy_ids.clone()).collect();
            assert_eq!(ids, vec![0, 1], "{suite}");
            for e in &entries {
                let snapshot = suite_dir.join(&e.path);
                assert!(snapshot.exists(), "{suite}: {} missing", snapshot.display());
                // A recorded path without a snapshot number is itself what the readers open.
                if e.snap.is_none() {
                    let opened = galmass_snapshot::reader::open_snapshot(&snapshot, None);
                    assert!(opened.is_ok(), "{suite}: {}: {:?}", snapshot.display(), opened.err());
                }
            }
            let json = serde_json::to_string(&entries).unwrap();
            assert_eq!(serde_json::from_str::<Vec<NativeEntry>>(&json).unwrap(), entries);
        }
        assert!(matches!(write_native(dir.path(), "custom", 0.0, &[]), Err(PipelineError::Invalid { .. })));
    }
}
