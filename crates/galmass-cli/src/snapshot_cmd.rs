//! `galmass inspect` (what a simulation snapshot holds) and `galmass extract` (halos of a snapshot as centred galaxy
//! files, with the papers' selection filters). Argument parsing and printing only: opening, reading and extracting
//! are `galmass_snapshot` (`reader::open_snapshot_with`, `extract::halos`).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use galmass_pipeline::suite::SuiteManifest;
use galmass_snapshot::extract::halos::{
    CentreChoice, ExtractParams, Extractor, HaloOutcome, HaloSource, HaloSourceOptions, SkipReason, TruthSelection,
};
use galmass_snapshot::extract::Filter;
use galmass_snapshot::galaxy_file;
use galmass_snapshot::reader::{open_snapshot_with, ParticleSelection, SnapshotFormat};
use galmass_snapshot::tipsy::param::{ExplicitUnits, UnitConvention};
use galmass_snapshot::tipsy::TipsyOptions;
use serde::{Deserialize, Serialize};

/// A format named on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Standard tipsy (NIHAO, ChaNGa, Gasoline) with its .param file.
    Tipsy,
    /// Arepo HDF5 (IllustrisTNG, AURIGA, TNG API cutouts).
    Arepo,
    /// Gizmo HDF5 (FIRE-2).
    Gizmo,
}

impl From<FormatArg> for SnapshotFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Tipsy => SnapshotFormat::Tipsy,
            FormatArg::Arepo => SnapshotFormat::Arepo,
            FormatArg::Gizmo => SnapshotFormat::Gizmo,
        }
    }
}

/// The units of a tipsy snapshot when no `.param` file sits beside it (ignored for HDF5 formats).
#[derive(Debug, Clone, Default, Args)]
pub struct TipsyUnitArgs {
    /// Tipsy: the run's .param file, when it is not beside the snapshot or in its parent folder.
    #[arg(long, value_name = "FILE", conflicts_with = "dkpcunit")]
    pub param: Option<PathBuf>,
    /// Tipsy without .param: the length unit in kpc (dKpcUnit; comoving with --comoving). Needs --dmsolunit.
    #[arg(long, value_name = "KPC", requires = "dmsolunit")]
    pub dkpcunit: Option<f64>,
    /// Tipsy without .param: the mass unit in Msun (dMsolUnit). Needs --dkpcunit.
    #[arg(long, value_name = "MSUN", requires = "dkpcunit")]
    pub dmsolunit: Option<f64>,
    /// Tipsy without .param: a cosmological run (bComove = 1: header time = a, comoving lengths).
    #[arg(long, requires = "dkpcunit")]
    pub comoving: bool,
    /// Tipsy without .param: h of a comoving run (gives dHubble0).
    #[arg(long, value_name = "H", requires = "comoving")]
    pub hubble: Option<f64>,
    /// Tipsy without .param: Omega_matter of a comoving run (dOmega0; stellar ages need it).
    #[arg(long, value_name = "OMEGA_M", requires = "comoving")]
    pub omega_m: Option<f64>,
    /// Tipsy without .param: Omega_Lambda of a comoving run (dLambda; stellar ages need it).
    #[arg(long, value_name = "OMEGA_L", requires = "comoving")]
    pub omega_lambda: Option<f64>,
}

impl TipsyUnitArgs {
    /// The tipsy options these flags give (pynbody 2.8's unit convention).
    pub fn tipsy_options(&self) -> TipsyOptions {
        let units = match (self.dkpcunit, self.dmsolunit) {
            (Some(length_kpc), Some(mass_msun)) => Some(ExplicitUnits {
                length_kpc,
                mass_msun,
                comoving: self.comoving,
                hubble_param: self.hubble,
                omega_matter: self.omega_m,
                omega_lambda: self.omega_lambda,
            }),
            _ => None,
        };
        TipsyOptions { param_path: self.param.clone(), units, ..TipsyOptions::new(UnitConvention::Pynbody28) }
    }
}

/// Arguments of `galmass inspect`.
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// The snapshot (a tipsy file, an HDF5 file or chunk, or a snapdir folder).
    #[arg(long)]
    pub snapshot: PathBuf,
    /// The input snapshot's format, when detection (HDF5 signature, gas SmoothingLength) is not enough.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also read every particle of every species (a full check of the file; -v logs the masses).
    #[arg(long)]
    pub read: bool,
    /// Tipsy units when there is no .param beside the file.
    #[command(flatten)]
    pub units: TipsyUnitArgs,
}

/// Prints the format, particle counts per species, cosmology, units and fields of a snapshot.
pub fn run_inspect(args: &InspectArgs) -> Result<()> {
    let path = &args.snapshot;
    let reader = open_snapshot_with(path, args.format.map(Into::into), &args.units.tipsy_options())
        .with_context(|| format!("cannot open snapshot {}", path.display()))?;
    if args.read {
        // Read every particle of every species (a full validation), reporting masses.
        for (species, _) in reader.header().n_particles.clone() {
            let particles = reader
                .read_species(species, &ParticleSelection::All)
                .with_context(|| format!("cannot read the {species} of {}", path.display()))?;
            tracing::info!(%species, n = particles.len(), total_mass_msun = particles.total_mass_msun(), "read");
        }
    }
    let h = reader.header();
    if args.json {
        println!("{}", serde_json::to_string_pretty(h)?);
        return Ok(());
    }
    let number = |v: Option<f64>, digits: usize| v.map_or("unknown".into(), |v| format!("{v:.digits$}"));
    println!("{} ({:?})", h.path.display(), h.format);
    println!("  a = {}  z = {}  h = {}", number(h.scale_factor, 6), number(h.redshift, 4), number(h.hubble_param, 4));
    if let Some(t) = &h.tipsy {
        println!(
            "  tipsy header: time {}  n = {}  {:?}-endian  {:?} precision",
            t.time, t.n_total, t.byte_order, t.precision
        );
    }
    if let Some(b) = h.box_size_kpc {
        println!("  box {b:.1} kpc (physical)");
    }
    match &h.units {
        Some(units) => println!("  units: {units}"),
        None => println!("  units: unknown"),
    }
    if let Some(note) = &h.note {
        println!("  note: {note}");
    }
    for (species, n) in &h.n_particles {
        let fields = h.fields.get(species).map(|f| f.join(", ")).unwrap_or_default();
        println!("  {:<5} {:>12} particles  fields: {fields}", species.to_string(), n);
    }
    Ok(())
}

/// Arguments of `galmass extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The snapshot: a tipsy file (AHF lists beside it), an Arepo `output` folder (TNG or AURIGA layout, with
    /// --snap), or a Gizmo (FIRE-2) snapshot file, chunk or snapdir folder.
    #[arg(long, required_unless_present = "manifest", conflicts_with = "manifest")]
    snapshot: Option<PathBuf>,
    /// Instead of --snapshot: a suite's manifest.json (`galmass synth --native`); every native snapshot it lists is
    /// extracted into OUT/<label>/.
    #[arg(long, requires = "all", conflicts_with_all = ["snap", "format"])]
    manifest: Option<PathBuf>,
    /// The input snapshot's format, when detection is not enough.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Snapshot number of an Arepo run (99 for TNG z = 0, 127 for AURIGA).
    #[arg(long)]
    snap: Option<u32>,
    /// Halos to extract, comma-separated: AHF halo ids (tipsy), subhalo ids (Arepo; groups with --group), 0 for a
    /// Gizmo zoom's main galaxy.
    #[arg(long, num_args = 1.., value_delimiter = ',', required_unless_present = "all")]
    halo: Vec<i64>,
    /// Every halo of the catalogue (every AHF halo, subhalo or group), through the filters.
    #[arg(long, conflicts_with = "halo")]
    all: bool,
    /// The truth profile's particles: the galaxy's own, or every particle of its FoF group or zoom within a sphere.
    #[arg(long, value_enum, default_value_t = TruthArg::Members)]
    truth: TruthArg,
    /// Extract the FoF group instead of the subhalo (Arepo).
    #[arg(long)]
    group: bool,
    /// Centre: shrinking spheres on the stars, the potential minimum, or the catalogue position (Arepo).
    #[arg(long, value_enum, default_value_t = CentreArg::ShrinkingSpheres)]
    centre: CentreArg,
    /// Selection filters: a TOML file of `[[filter]]` tables (`kind = "stellar-mass"`, ...); failing halos are
    /// skipped and the reason recorded.
    #[arg(long)]
    filters: Option<PathBuf>,
    /// Radius of the sphere read around a Gizmo (FIRE-2) zoom's centre, kpc.
    #[arg(long, default_value_t = 500.0)]
    radius_kpc: f64,
    /// Suite name written into the galaxy files.
    #[arg(long, default_value = "extracted")]
    suite: String,
    /// Output: a galaxy file for one halo, or a folder (galaxy_<id>.h5 per halo, manifest.json) for several.
    #[arg(long)]
    out: PathBuf,
    /// Print one JSON object (what was written and skipped) instead of text.
    #[arg(long)]
    json: bool,
    /// Tipsy units when there is no .param beside the file.
    #[command(flatten)]
    units: TipsyUnitArgs,
}

/// Which particles the truth of `galmass extract` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TruthArg {
    /// The galaxy's own particles.
    Members,
    /// Every particle within a sphere (FoF group, or the whole zoom) about the centre, out to the farthest member.
    Sphere,
}

/// How `galmass extract` centres a halo.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CentreArg {
    /// Shrinking spheres on the stars (Power et al. 2003).
    ShrinkingSpheres,
    /// The particle with the lowest potential (needs a Potential field).
    Potential,
    /// The group catalogue's position (Arepo only).
    Catalogue,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilterFile {
    filter: Vec<Filter>,
}

/// One halo in the report of `galmass extract`.
#[derive(Debug, Serialize)]
struct Written {
    halo: i64,
    path: String,
    n_particles: usize,
}

/// A skipped halo and why.
#[derive(Debug, Serialize)]
struct Skipped {
    halo: i64,
    reason: String,
}

/// What `galmass extract` did: its `--json` output, and a batch's `manifest.json`.
#[derive(Debug, Serialize)]
struct ExtractReport {
    snapshot: String,
    halos: usize,
    written: usize,
    skipped: Vec<Skipped>,
    galaxies: Vec<Written>,
}

/// Runs `galmass extract`.
pub fn extract(args: &ExtractArgs) -> Result<()> {
    if let Some(path) = &args.manifest {
        let dir = path.parent().unwrap_or_else(|| std::path::Path::new("."));
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let manifest: SuiteManifest =
            serde_json::from_str(&text).with_context(|| format!("{}: not a suite manifest", path.display()))?;
        if manifest.native.is_empty() {
            bail!("{}: lists no native snapshots (write them with `galmass synth --native`)", path.display());
        }
        for entry in &manifest.native {
            let snapshot = dir.join(&entry.path);
            extract_snapshot(args, &snapshot, Some(entry.format), entry.snap, &args.out.join(&entry.label))?;
        }
        return Ok(());
    }
    let snapshot = args.snapshot.as_deref().context("--snapshot or --manifest is required")?;
    extract_snapshot(args, snapshot, args.format.map(Into::into), args.snap, &args.out)
}

/// Extracts the halos `args` asks for from one snapshot into `out`.
fn extract_snapshot(
    args: &ExtractArgs,
    snapshot: &std::path::Path,
    format: Option<SnapshotFormat>,
    snap: Option<u32>,
    out: &std::path::Path,
) -> Result<()> {
    let filters = match &args.filters {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<FilterFile>(&text)
                .with_context(|| format!("{}: not a filter list", path.display()))?
                .filter
        }
        None => Vec::new(),
    };
    let options = HaloSourceOptions { format, snap, tipsy: args.units.tipsy_options() };
    let source =
        HaloSource::open(snapshot, &options).with_context(|| format!("cannot open snapshot {}", snapshot.display()))?;
    let params = ExtractParams {
        suite: args.suite.clone(),
        source: snapshot.display().to_string(),
        groups: args.group,
        zoom_radius_kpc: args.radius_kpc,
        centre: match args.centre {
            CentreArg::ShrinkingSpheres => CentreChoice::ShrinkingSpheres,
            CentreArg::Potential => CentreChoice::Potential,
            CentreArg::Catalogue => CentreChoice::Catalogue,
        },
        truth: match args.truth {
            TruthArg::Members => TruthSelection::Members,
            TruthArg::Sphere => TruthSelection::Sphere,
        },
        filters,
    };
    let halos = if args.all { source.halo_ids(args.group) } else { args.halo.clone() };
    if halos.is_empty() {
        bail!("{}: the catalogue lists no halos", snapshot.display());
    }
    let many = halos.len() > 1 || args.all;
    let mut extractor = Extractor::new(&source, params);
    let mut report = ExtractReport {
        snapshot: snapshot.display().to_string(),
        halos: halos.len(),
        written: 0,
        skipped: Vec::new(),
        galaxies: Vec::new(),
    };
    for &id in &halos {
        let outcome = extractor.extract(id).with_context(|| format!("halo {id} of {}", snapshot.display()))?;
        match outcome {
            HaloOutcome::Skipped(reason) => {
                if !args.json {
                    match reason {
                        SkipReason::NoStars => println!("halo {id}: skipped: {reason}"),
                        SkipReason::Filter(_) => println!("halo {id}: skipped by {reason}"),
                    }
                }
                report.skipped.push(Skipped { halo: id, reason: reason.to_string() });
            }
            HaloOutcome::Extracted(galaxy) => {
                let out = if many { out.join(format!("galaxy_{id:06}.h5")) } else { out.to_owned() };
                galaxy_file::write(&out, &galaxy).with_context(|| format!("cannot write {}", out.display()))?;
                let n_particles: usize = galaxy.all_species().map(|(_, p)| p.len()).sum();
                if !args.json {
                    println!("halo {id}: {n_particles} particles -> {}", out.display());
                }
                report.written += 1;
                report.galaxies.push(Written { halo: id, path: out.display().to_string(), n_particles });
            }
        }
    }
    if many {
        // What the batch did, beside its galaxy files (atomic, like them).
        let path = out.join("manifest.json");
        galmass_core::atomic::write_bytes_atomic(&path, serde_json::to_string_pretty(&report)?.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{} written, {} skipped (no stars, or by the filters)", report.written, report.skipped.len());
    }
    Ok(())
}
