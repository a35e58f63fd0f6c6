//! Writing a synthetic suite to disk: one galaxy file per galaxy (built in parallel, resumable), the catalogue,
//! the population plots, the simulation's native format and a manifest. `galmass synth` parses its arguments and
//! calls [`write_suite`].
//!
//! # Folder layout
//! - `config.toml`: the resolved suite parameters (same keys as `configs/synth/<suite>.toml`);
//! - `galaxy_NNNNNN.h5` (galaxy files) and `galaxy_NNNNNN.json` (their catalogue rows, the resume marker);
//! - `catalogue.csv`: one row per galaxy written or kept;
//! - `plots/*.png` with `plots` ([`crate::synth_plots`]);
//! - `native/...` with `native` ([`crate::native`]);
//! - `manifest.json`: `suite`, `seed`, `n_galaxies`, `written`, `resumed`, `skipped` ([id, reason] pairs),
//!   `config`, `native` (the [`NativeEntry`] list: label, format, path relative to the folder, snap, galaxy_ids)
//!   and `plots` (paths relative to the folder).
//!
//! Re-running with the same parameters keeps every galaxy whose file and row are complete; every file is written
//! atomically, and galaxy `i` is the same for a seed whatever the thread count or order.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use galmass_core::atomic::write_bytes_atomic;
use galmass_core::params::Params;
use galmass_snapshot::galaxy_file;
use galmass_synth::suite::{build_galaxy, CatalogueRow, SuiteParams};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::native::{write_native, NativeEntry};
use crate::PipelineError;

/// What to write.
#[derive(Debug, Clone)]
pub struct SuiteRequest {
    /// The suite's parameters (a preset or a config file, with any particle-count overrides applied).
    pub params: SuiteParams,
    /// Number of galaxies (ids 0..n).
    pub n_galaxies: usize,
    /// Seed of the suite.
    pub seed: u64,
    /// Output folder.
    pub out: PathBuf,
    /// Also write the population plots.
    pub plots: bool,
    /// Also write the simulation's native format.
    pub native: bool,
}

/// `manifest.json` of a suite folder (module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteManifest {
    /// Suite name.
    pub suite: String,
    /// Seed.
    pub seed: u64,
    /// Galaxies asked for.
    pub n_galaxies: usize,
    /// Galaxies built and written by this run.
    pub written: usize,
    /// Galaxies kept from an earlier run.
    pub resumed: usize,
    /// Galaxies that could not be built, with the reason.
    pub skipped: Vec<(u64, String)>,
    /// The resolved parameters.
    pub config: SuiteParams,
    /// Snapshots written in the native format (empty without `native`).
    #[serde(default)]
    pub native: Vec<NativeEntry>,
    /// Population plots written, relative to the folder (empty without `plots`).
    #[serde(default)]
    pub plots: Vec<PathBuf>,
}

impl SuiteManifest {
    /// Reads `DIR/manifest.json`.
    pub fn read(dir: &Path) -> Result<Self, PipelineError> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|source| PipelineError::Io {
            path: path.clone(),
            context: "reading".into(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| PipelineError::BadFile {
            path,
            field: "manifest".into(),
            reason: format!("not a suite manifest: {e}"),
        })
    }
}

fn json_err(what: &str, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::invalid(what, e.to_string())
}

/// Writes the suite (module docs); `progress` is called once per galaxy finished (for a progress bar).
pub fn write_suite(request: &SuiteRequest, progress: &(dyn Fn() + Sync)) -> Result<SuiteManifest, PipelineError> {
    let params = &request.params;
    let valid = params.check()?;
    let out = &request.out;
    std::fs::create_dir_all(out).map_err(|source| PipelineError::Io {
        path: out.clone(),
        context: "creating the suite folder".into(),
        source,
    })?;
    let config = toml::to_string(params).map_err(|e| json_err("suite config", e))?;
    write_bytes_atomic(&out.join("config.toml"), config.as_bytes())?;
    let resumed = AtomicUsize::new(0);
    let results: Vec<(u64, Result<CatalogueRow, String>)> = (0..request.n_galaxies as u64)
        .into_par_iter()
        .map(|i| {
            let galaxy_path = out.join(format!("galaxy_{i:06}.h5"));
            let row_path = out.join(format!("galaxy_{i:06}.json"));
            // Resume: a galaxy whose file and catalogue row are both complete is kept.
            if galaxy_file::read(&galaxy_path).is_ok() {
                if let Some(row) =
                    std::fs::read_to_string(&row_path).ok().and_then(|t| serde_json::from_str::<CatalogueRow>(&t).ok())
                {
                    resumed.fetch_add(1, Ordering::Relaxed);
                    progress();
                    return (i, Ok(row));
                }
            }
            let outcome = build_galaxy(&valid, i, request.seed).map_err(|e| e.to_string()).and_then(|built| {
                galaxy_file::write(&galaxy_path, &built.galaxy).map_err(|e| e.to_string())?;
                let json = serde_json::to_string(&built.row).map_err(|e| e.to_string())?;
                write_bytes_atomic(&row_path, json.as_bytes()).map_err(|e| e.to_string())?;
                Ok(built.row)
            });
            if let Err(reason) = &outcome {
                tracing::warn!(galaxy = i, %reason, "galaxy skipped");
            }
            progress();
            (i, outcome)
        })
        .collect();
    let mut csv = format!("{}\n", CatalogueRow::CSV_HEADER);
    let mut skipped = Vec::new();
    let mut rows = Vec::new();
    for (i, result) in &results {
        match result {
            Ok(r) => {
                csv.push_str(&r.csv_line());
                csv.push('\n');
                rows.push(*r);
            }
            Err(reason) => skipped.push((*i, reason.clone())),
        }
    }
    write_bytes_atomic(&out.join("catalogue.csv"), csv.as_bytes())?;
    let native = if request.native {
        let ids: Vec<u64> = rows.iter().map(|r| r.galaxy_id as u64).collect();
        write_native(out, &params.suite, params.redshift, &ids)?
    } else {
        Vec::new()
    };
    let plots = if request.plots {
        let written = crate::synth_plots::write_population_plots(&out.join("plots"), params, &rows)?;
        written.iter().map(|p| p.strip_prefix(out).map(Path::to_owned).unwrap_or_else(|_| p.clone())).collect()
    } else {
        Vec::new()
    };
    let resumed = resumed.load(Ordering::Relaxed);
    let manifest = SuiteManifest {
        suite: params.suite.clone(),
        seed: request.seed,
        n_galaxies: request.n_galaxies,
        written: results.len() - skipped.len() - resumed,
        resumed,
        skipped,
        config: params.clone(),
        native,
        plots,
    };
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| json_err("manifest", e))?;
    write_bytes_atomic(&out.join("manifest.json"), text.as_bytes())?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suite_resumes_and_records_its_native_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = SuiteParams::preset("fire-like").unwrap();
        params.particles.set_counts(Some(300), Some(600), Some(200));
        let mut request =
            SuiteRequest { params, n_galaxies: 2, seed: 4, out: dir.path().join("s"), plots: false, native: true };
        let calls = AtomicUsize::new(0);
        let first = write_suite(&request, &|| {
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!((first.written, first.resumed, calls.load(Ordering::Relaxed)), (2, 0, 2));
        assert_eq!(first.native.len(), 2);
        assert_eq!(SuiteManifest::read(&request.out).unwrap(), first);
        let bytes = std::fs::read(request.out.join("galaxy_000001.h5")).unwrap();
        request.n_galaxies = 3;
        let second = write_suite(&request, &|| {}).unwrap();
        assert_eq!((second.written, second.resumed), (1, 2));
        assert_eq!(std::fs::read(request.out.join("galaxy_000001.h5")).unwrap(), bytes);
        assert_eq!(second.native.iter().flat_map(|e| e.galaxy_ids.clone()).collect::<Vec<_>>(), vec![0, 1, 2]);
        let csv = std::fs::read_to_string(request.out.join("catalogue.csv")).unwrap();
        assert_eq!(csv.lines().count(), 4);
    }
}
