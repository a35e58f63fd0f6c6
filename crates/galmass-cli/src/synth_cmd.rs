//! `galmass synth`: write a synthetic suite as galaxy files, a catalogue and a manifest.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result};
use clap::Args;
use galmass_snapshot::galaxy_file;
use galmass_synth::suite::{build_galaxy, CatalogueRow, SuiteParams, PRESETS};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;

/// Arguments of `galmass synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Suite preset: spheroids (dispersion-supported dwarfs), nihao-like (dwarfs to Milky-Way mass, cored haloes),
    /// auriga-like (Milky-Way-mass discs, cuspy haloes), fire-like (held-out physics: core-NFW haloes, larger sizes),
    /// tng-like (a box population, M* 1e9.5..1e12, centrals and satellites). configs/synth/<suite>.toml holds the
    /// same values.
    #[arg(long, default_value = "nihao-like", value_parser = clap::builder::PossibleValuesParser::new(PRESETS))]
    suite: String,
    /// Suite parameters from a TOML file instead of the preset (same keys as configs/synth/<suite>.toml).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Number of galaxies.
    #[arg(long)]
    n_galaxies: usize,
    /// Seed of the suite: galaxy i is the same for a given seed whatever the thread count or order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output folder: galaxy_NNNNNN.h5 files, catalogue.csv, manifest.json and the resolved config.toml.
    #[arg(long)]
    out: PathBuf,
    /// Fix the number of star particles per galaxy (instead of the suite's mass resolution).
    #[arg(long)]
    n_stars: Option<usize>,
    /// Fix the number of dark-matter particles per galaxy.
    #[arg(long)]
    n_dm: Option<usize>,
    /// Fix the number of gas particles per galaxy.
    #[arg(long)]
    n_gas: Option<usize>,
    /// Also write the suite's population plots (stellar vs halo mass, size vs mass, kappa_co, cold gas, inner slope
    /// vs M*/M200) as PNG under OUT/plots/, with the configured relations drawn over the galaxies.
    #[arg(long)]
    plots: bool,
    /// Also write the suite in its simulation's own format under OUT/native/: tipsy + .param + .iord/.HI + AHF per
    /// galaxy (a zoom each, native/gNNNNNN/) for spheroids and nihao-like; one TNG-layout Arepo box (native/output/:
    /// 3 snapshot chunks, Subfind catalogue in 2 chunks; offsets in native/postprocessing/) for tng-like; an
    /// AURIGA-layout zoom per galaxy (native/halo_NNNNNN/output/, snapshot 127, no offsets file) for auriga-like; a
    /// Gizmo zoom per galaxy (native/mNNNNNN/output/snapdir_600/, 2 files) for fire-like. Read them back with `galmass inspect` and
    /// `galmass extract`.
    #[arg(long, value_enum, default_value_t = OutputFormat::Galaxy)]
    format: OutputFormat,
}

/// What `galmass synth` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// galmass galaxy files only.
    Galaxy,
    /// Galaxy files and the simulation's native format.
    Native,
}

#[derive(Debug, Serialize)]
struct Manifest<'a> {
    suite: &'a str,
    seed: u64,
    n_galaxies: usize,
    written: usize,
    resumed: usize,
    skipped: Vec<(u64, String)>,
    config: &'a SuiteParams,
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = galmass_core::paths::temporary_path(path);
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))
}

/// Runs `galmass synth`.
pub fn run(args: &SynthArgs) -> Result<()> {
    let mut params = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<SuiteParams>(&text)
                .with_context(|| format!("{}: not a synthetic suite config", path.display()))?
        }
        None => SuiteParams::preset(&args.suite).with_context(|| format!("unknown suite {}", args.suite))?,
    };
    params.particles.set_counts(args.n_stars, args.n_dm, args.n_gas);
    let valid = params.clone().check()?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    write_atomic(&args.out.join("config.toml"), &toml::to_string(&params)?)?;
    let bar = ProgressBar::new(args.n_galaxies as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} galaxies, {elapsed_precise} elapsed, eta {eta}")
            .map_or_else(|_| ProgressStyle::default_bar(), |s| s.progress_chars("=> ")),
    );
    bar.set_message(format!("synth {}", params.suite));
    let resumed = AtomicUsize::new(0);
    let results: Vec<(u64, Result<CatalogueRow, String>)> = (0..args.n_galaxies as u64)
        .into_par_iter()
        .map(|i| {
            let galaxy_path = args.out.join(format!("galaxy_{i:06}.h5"));
            let row_path = args.out.join(format!("galaxy_{i:06}.json"));
            // Resume: a galaxy whose file and catalogue line are both complete is kept.
            if galaxy_file::read(&galaxy_path).is_ok() {
                if let Some(row) =
                    std::fs::read_to_string(&row_path).ok().and_then(|t| serde_json::from_str::<CatalogueRow>(&t).ok())
                {
                    resumed.fetch_add(1, Ordering::Relaxed);
                    bar.inc(1);
                    return (i, Ok(row));
                }
            }
            let outcome = build_galaxy(&valid, i, args.seed).map_err(|e| e.to_string()).and_then(|built| {
                galaxy_file::write(&galaxy_path, &built.galaxy).map_err(|e| e.to_string())?;
                let json = serde_json::to_string(&built.row).map_err(|e| e.to_string())?;
                write_atomic(&row_path, &json).map_err(|e| format!("{e:#}"))?;
                Ok(built.row)
            });
            if let Err(reason) = &outcome {
                tracing::warn!(galaxy = i, %reason, "galaxy skipped");
            }
            bar.inc(1);
            (i, outcome)
        })
        .collect();
    bar.finish();
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
    write_atomic(&args.out.join("catalogue.csv"), &csv)?;
    if args.format == OutputFormat::Native {
        let ids: Vec<u64> = rows.iter().map(|r| r.galaxy_id as u64).collect();
        write_native(&args.out, &params, &ids)?;
    }
    if args.plots {
        let written = galmass_pipeline::synth_plots::write_population_plots(&args.out.join("plots"), &params, &rows)?;
        for path in written {
            tracing::info!(path = %path.display(), "population plot written");
        }
    }
    let resumed = resumed.load(Ordering::Relaxed);
    let written = results.len() - skipped.len() - resumed;
    let manifest = Manifest {
        suite: &params.suite,
        seed: args.seed,
        n_galaxies: args.n_galaxies,
        written,
        resumed,
        skipped: skipped.clone(),
        config: &params,
    };
    write_atomic(&args.out.join("manifest.json"), &serde_json::to_string_pretty(&manifest)?)?;
    println!(
        "{}: {} galaxies written, {} kept from an earlier run, {} skipped (see manifest.json)",
        args.out.display(),
        written,
        resumed,
        skipped.len()
    );
    Ok(())
}

/// Writes the suite's galaxy files `ids` in their simulation's format under `out/native/`.
fn write_native(out: &Path, params: &SuiteParams, ids: &[u64]) -> Result<()> {
    use galmass_snapshot::arepo::writer::{write_tng_box, PlacedGalaxy as BoxPlaced, TngBoxParams};
    use galmass_snapshot::tipsy::param::UnitConvention;
    use galmass_snapshot::tipsy::write::{write_galaxies, PlacedGalaxy as ZoomPlaced, TipsyWriteOptions};
    let native = out.join("native");
    std::fs::create_dir_all(&native).with_context(|| format!("cannot create {}", native.display()))?;
    let read = |id: u64| {
        let path = out.join(format!("galaxy_{id:06}.h5"));
        galaxy_file::read(&path).with_context(|| format!("cannot read {}", path.display()))
    };
    match params.suite.as_str() {
        "spheroids" | "nihao-like" => {
            // One zoom per galaxy, its centre placed off the origin as in a cosmological box.
            let options = TipsyWriteOptions::nihao_planck2014(params.redshift, UnitConvention::Pynbody28);
            for &id in ids {
                let galaxy = read(id)?;
                let dir = native.join(format!("g{id:06}"));
                std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
                let path = dir.join(format!("g{id:06}.01024"));
                let placed = [ZoomPlaced {
                    galaxy: &galaxy,
                    offset_kpc: [12_000.0, 25_000.0, 31_000.0],
                    velocity_offset_kms: [35.0, -20.0, 10.0],
                }];
                write_galaxies(&path, &placed, &options).with_context(|| format!("cannot write {}", path.display()))?;
            }
            println!("{}: {} tipsy zooms (with .param, .iord, .HI, AHF)", native.display(), ids.len());
        }
        "auriga-like" => {
            // One zoom per galaxy in AURIGA's layout (snapshot 127, snapshot_127.C.hdf5, Subfind catalogue, no
            // offsets file), the galaxy at the centre of its box.
            for &id in ids {
                let galaxy = read(id)?;
                let extent = galaxy.all_species().flat_map(|(_, p)| p.radii_kpc().to_vec()).fold(1.0f64, f64::max);
                let box_kpc = 2.2 * extent;
                let params = TngBoxParams::auriga_like(box_kpc, 2);
                let base = native.join(format!("halo_{id:06}")).join("output");
                let placed =
                    [BoxPlaced { galaxy: &galaxy, group: 0, centre_kpc: [0.5 * box_kpc; 3], velocity_kms: [0.0; 3] }];
                write_tng_box(&base, &params, &placed)
                    .with_context(|| format!("cannot write the AURIGA-layout zoom under {}", base.display()))?;
            }
            println!("{}: {} AURIGA-layout zooms (halo_NNNNNN/output, snapshot 127)", native.display(), ids.len());
        }
        "tng-like" => {
            let galaxies: Vec<_> = ids.iter().map(|&id| read(id)).collect::<Result<_>>()?;
            // A grid of cells wide enough that no particle reaches a neighbour's (nor wraps the box).
            let extent = galaxies
                .iter()
                .flat_map(|g| g.all_species().map(|(_, p)| p.radii_kpc().iter().copied().fold(0.0f64, f64::max)))
                .fold(1.0f64, f64::max);
            let n_side = (galaxies.len() as f64).cbrt().ceil().max(1.0) as usize;
            let spacing = 2.2 * extent;
            let mut box_params = TngBoxParams::tng100_like(99, 3, 2);
            box_params.box_size_kpc = spacing * n_side as f64;
            let placed: Vec<BoxPlaced<'_>> = galaxies
                .iter()
                .enumerate()
                .map(|(i, galaxy)| {
                    let cell = [i % n_side, (i / n_side) % n_side, i / (n_side * n_side)];
                    BoxPlaced {
                        galaxy,
                        group: i as u64,
                        centre_kpc: cell.map(|c| (c as f64 + 0.5) * spacing),
                        velocity_kms: [0.0; 3],
                    }
                })
                .collect();
            let base = native.join("output");
            write_tng_box(&base, &box_params, &placed)
                .with_context(|| format!("cannot write the TNG-layout box under {}", base.display()))?;
            println!(
                "{}: TNG-layout box of {} subhalos (snapshot 99, box {:.0} kpc; offsets in native/postprocessing)",
                base.display(),
                galaxies.len(),
                box_params.box_size_kpc
            );
        }
        "fire-like" => {
            use galmass_snapshot::gizmo::{write_gizmo_snapshot, GizmoWriteParams, PlacedGalaxy as GizmoPlaced};
            // One FIRE-2-like zoom per galaxy: snapdir_600/snapshot_600.C.hdf5 in 2 files, the galaxy off the
            // box centre.
            for &id in ids {
                let galaxy = read(id)?;
                let base = native.join(format!("m{id:06}")).join("output");
                let params = GizmoWriteParams::fire2_like(600, 2);
                let centre = [0.4 * params.box_size_kpc, 0.5 * params.box_size_kpc, 0.6 * params.box_size_kpc];
                let placed = [GizmoPlaced { galaxy: &galaxy, centre_kpc: centre, velocity_kms: [-40.0, 25.0, 60.0] }];
                write_gizmo_snapshot(&base, &params, &placed)
                    .with_context(|| format!("cannot write the Gizmo zoom under {}", base.display()))?;
            }
            println!("{}: {} Gizmo (FIRE-2-like) zooms (mNNNNNN/output/snapdir_600)", native.display(), ids.len());
        }
        other => anyhow::bail!("no native format for suite {other}"),
    }
    Ok(())
}
