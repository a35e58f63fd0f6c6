//! `galmass inspect` (what a simulation snapshot holds) and `galmass extract` (one halo of a snapshot as a centred
//! galaxy file, with the papers' selection filters).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use galmass_core::{Galaxy, GalaxyMeta};
use galmass_snapshot::arepo::catalogue::TngBox;
use galmass_snapshot::extract::{apply_filters, centre_galaxy, CentreMethod, Filter, GalaxyContext};
use galmass_snapshot::galaxy_file;
use galmass_snapshot::reader::{detect_format, open_snapshot, SnapshotFormat, SnapshotReader};
use galmass_snapshot::tipsy::param::UnitConvention;
use galmass_snapshot::tipsy::{TipsyOptions, TipsySnapshot};
use serde::Deserialize;

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

/// Prints the format, particle counts per species, cosmology, units and fields of a snapshot.
pub fn inspect(path: &Path, format: Option<FormatArg>, json: bool, read: bool) -> Result<()> {
    let reader = open_snapshot(path, format.map(Into::into))
        .with_context(|| format!("cannot open snapshot {}", path.display()))?;
    if read {
        // Read every particle of every species (a full validation), reporting masses.
        for (species, _) in reader.header().n_particles.clone() {
            let particles = reader
                .read_species(species, &galmass_snapshot::reader::ParticleSelection::All)
                .with_context(|| format!("cannot read the {species} of {}", path.display()))?;
            tracing::info!(%species, n = particles.len(), total_mass_msun = particles.total_mass_msun(), "read");
        }
    }
    let h = reader.header();
    if json {
        println!("{}", serde_json::to_string_pretty(h)?);
        return Ok(());
    }
    println!("{} ({:?})", h.path.display(), h.format);
    println!(
        "  a = {:.6}  z = {:.4}  h = {}",
        h.scale_factor,
        h.redshift,
        h.hubble_param.map_or("-".into(), |v| format!("{v:.4}"))
    );
    if let Some(b) = h.box_size_kpc {
        println!("  box {b:.1} kpc (physical)");
    }
    println!("  units: {}", h.units);
    for (species, n) in &h.n_particles {
        let fields = h.fields.get(species).map(|f| f.join(", ")).unwrap_or_default();
        println!("  {:<5} {:>12} particles  fields: {fields}", species.to_string(), n);
    }
    Ok(())
}

/// Arguments of `galmass extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The snapshot: a tipsy file (with .param and .AHF_particles beside it), the `output` folder of a TNG- or
    /// AURIGA-layout Arepo run (snapdir_NNN/, groups_NNN/, offsets when there are some) with --snap, or a Gizmo
    /// (FIRE-2) snapshot file, chunk or snapdir folder (a zoom: --halo 0 is its main galaxy).
    #[arg(long)]
    snapshot: PathBuf,
    /// Snapshot number of a TNG-layout run (99 for TNG z = 0, 127 for AURIGA).
    #[arg(long)]
    snap: Option<u32>,
    /// Halos to extract (comma-separated): AHF halo ids (tipsy), Subfind subhalo ids (Arepo; FoF groups with
    /// --group), 0 for a Gizmo zoom's main galaxy.
    #[arg(long, num_args = 1.., value_delimiter = ',', required_unless_present = "all")]
    halo: Vec<i64>,
    /// Every halo of the catalogue (every AHF halo, every subhalo or group), through the filters.
    #[arg(long, conflicts_with = "halo")]
    all: bool,
    /// The truth profile: the galaxy's own particles (subhalo or halo members), or every particle of the FoF group
    /// (Arepo) or of the snapshot (tipsy and Gizmo zooms) within a sphere about the centre (a spatial selection).
    #[arg(long, value_enum, default_value_t = TruthArg::Members)]
    truth: TruthArg,
    /// Extract the FoF group instead of the subhalo (Arepo).
    #[arg(long)]
    group: bool,
    /// Centre: shrinking spheres on the stars, the potential minimum, or the catalogue position (Arepo SubhaloPos).
    #[arg(long, value_enum, default_value_t = CentreArg::ShrinkingSpheres)]
    centre: CentreArg,
    /// Selection filters (TOML: `[[filter]]` tables with `kind = "stellar-mass"`, ...; see galmass_snapshot::extract).
    /// A galaxy that fails one is skipped and the reason printed; none is written.
    #[arg(long)]
    filters: Option<PathBuf>,
    /// Radius of the sphere read around the centre of a Gizmo (FIRE-2) zoom, kpc.
    #[arg(long, default_value_t = 500.0)]
    radius_kpc: f64,
    /// Suite name written into the galaxy file.
    #[arg(long, default_value = "extracted")]
    suite: String,
    /// Output: a galaxy file for one halo, or a folder (galaxy_<id>.h5 per halo) for several.
    #[arg(long)]
    out: PathBuf,
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

/// The snapshot `galmass extract` reads, opened once for every halo (catalogues and AHF lists read once).
enum Source {
    /// A tipsy zoom and the halo lists of its `.AHF_particles`.
    Tipsy(TipsySnapshot, Vec<galmass_snapshot::tipsy::ahf::AhfMembers>),
    /// A TNG- or AURIGA-layout run.
    Arepo(TngBox),
    /// A Gizmo (FIRE-2) zoom.
    Gizmo(galmass_snapshot::gizmo::GizmoSnapshot),
}

impl Source {
    fn open(args: &ExtractArgs) -> Result<Self> {
        Ok(match detect_format(&args.snapshot)? {
            SnapshotFormat::Tipsy => {
                let snap = TipsySnapshot::open(&args.snapshot, &TipsyOptions::new(UnitConvention::Pynbody28))?;
                let members = snap.ahf_members()?;
                Source::Tipsy(snap, members)
            }
            SnapshotFormat::Arepo => Source::Arepo(TngBox::open(
                &args.snapshot,
                args.snap.context("an Arepo run needs --snap (the snapshot number)")?,
            )?),
            SnapshotFormat::Gizmo => Source::Gizmo(galmass_snapshot::gizmo::GizmoSnapshot::open(&args.snapshot)?),
        })
    }

    fn redshift(&self) -> f64 {
        match self {
            Source::Tipsy(snap, _) => snap.header().redshift,
            Source::Arepo(tng) => tng.snapshot().header().redshift,
            Source::Gizmo(snap) => snap.header().redshift,
        }
    }

    /// Every halo id of the catalogue (AHF halos, subhalos or groups; 0 for a Gizmo zoom).
    fn halo_ids(&self, groups: bool) -> Vec<i64> {
        match self {
            Source::Tipsy(_, members) => members.iter().map(|m| m.halo_id).collect(),
            Source::Arepo(tng) => (0..if groups { tng.n_groups() } else { tng.n_subhalos() } as i64).collect(),
            Source::Gizmo(_) => vec![0],
        }
    }

    /// The halo's particles (snapshot frame; a Gizmo zoom comes centred), its catalogue context and catalogue
    /// centre when known.
    fn read_halo(&self, args: &ExtractArgs, id: i64) -> Result<(Galaxy, GalaxyContext, Option<[f64; 3]>)> {
        let meta = GalaxyMeta {
            source: args.snapshot.display().to_string(),
            redshift: self.redshift(),
            ..GalaxyMeta::new(&args.suite, id)
        };
        match self {
            Source::Tipsy(snap, members) => {
                let halo = members
                    .iter()
                    .find(|m| m.halo_id == id)
                    .with_context(|| format!("no AHF halo {id} among {} halos", members.len()))?;
                Ok((snap.read_ahf_members(halo, meta)?, GalaxyContext::default(), None))
            }
            Source::Arepo(tng) => {
                let uid = u64::try_from(id).context("halo ids are non-negative")?;
                if args.group {
                    let record = tng.group(uid)?;
                    let particles = tng.read_group(uid)?;
                    let context = GalaxyContext { central: Some(true), ..GalaxyContext::default() };
                    Ok((particles.into_galaxy(meta), context, record.pos_kpc))
                } else {
                    let record = tng.subhalo(uid)?;
                    let central = tng.group(record.group_id)?.first_sub == i64::try_from(uid).unwrap_or(-1);
                    let context = GalaxyContext {
                        central: Some(central),
                        subhalo_flag: record.flag,
                        sfr_msun_per_yr: record.sfr_msun_per_yr,
                        r_vir_kpc: None,
                    };
                    let particles = tng.read_subhalo(uid)?;
                    Ok((particles.into_galaxy(meta), context, Some(record.pos_kpc)))
                }
            }
            Source::Gizmo(snap) => {
                // A zoom: the particles within --radius-kpc of the shrinking-sphere centre of the stars.
                let mut galaxy = snap.read_zoom_galaxy(None, args.radius_kpc)?;
                galaxy.meta = meta;
                Ok((galaxy, GalaxyContext::default(), Some([0.0; 3])))
            }
        }
    }

    /// Every particle the spatial truth may count, in the frame `read_halo` gave the halo: the FoF group of a
    /// subhalo (Arepo, snapshot frame), the whole snapshot (tipsy, snapshot frame; Gizmo, the zoom's centred frame).
    fn region(&self, args: &ExtractArgs, id: i64) -> Result<Galaxy> {
        let meta = GalaxyMeta::new(&args.suite, id);
        match self {
            Source::Gizmo(snap) => Ok(snap.read_zoom_galaxy(None, 1e12)?),
            Source::Arepo(tng) => {
                let uid = u64::try_from(id).context("halo ids are non-negative")?;
                let group = if args.group { uid } else { tng.subhalo(uid)?.group_id };
                Ok(tng.read_group(group)?.into_galaxy(meta))
            }
            Source::Tipsy(snap, _) => {
                let mut galaxy = Galaxy::new(meta);
                for species in galmass_core::Species::ALL {
                    let particles = snap.read_species(species, &galmass_snapshot::reader::ParticleSelection::All)?;
                    if !particles.is_empty() {
                        galaxy.set_species(species, particles);
                    }
                }
                Ok(galaxy)
            }
        }
    }
}

/// The truth counted from every particle of `region` within the farthest member of `centred` (both about the same
/// centre, `centre_kpc` in the frame of `region`).
fn sphere_truth(centred: &Galaxy, region: &Galaxy, centre_kpc: [f64; 3]) -> Result<galmass_core::TruthProfiles> {
    let r_max = centred.all_species().flat_map(|(_, p)| p.radii_kpc().to_vec()).fold(0.02f64, f64::max);
    let mut inside = Galaxy::new(centred.meta.clone());
    for (species, p) in region.all_species() {
        let shifted = p.shifted(centre_kpc, [0.0; 3]);
        let keep: Vec<usize> =
            shifted.radii_kpc().iter().enumerate().filter(|(_, r)| **r <= r_max).map(|(i, _)| i).collect();
        inside.set_species(species, shifted.select(&keep)?);
    }
    let radii = galmass_core::galaxy::log_spaced_radii(0.01, r_max * 1.001, 256)?;
    Ok(galmass_core::TruthProfiles::from_particles(
        &inside,
        radii,
        "all particles within the sphere of the farthest member",
    )?)
}

/// Runs `galmass extract`.
pub fn extract(args: &ExtractArgs) -> Result<()> {
    let filters = match &args.filters {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            toml::from_str::<FilterFile>(&text)
                .with_context(|| format!("{}: not a filter list", path.display()))?
                .filter
        }
        None => Vec::new(),
    };
    let source = Source::open(args).with_context(|| format!("cannot open snapshot {}", args.snapshot.display()))?;
    let halos = if args.all { source.halo_ids(args.group) } else { args.halo.clone() };
    // A zoom's region (the whole snapshot) is the same for every halo: read once.
    let mut zoom_region: Option<Galaxy> = None;
    let many = halos.len() > 1 || args.all;
    if many {
        std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    }
    let (mut written, mut skipped) = (0usize, Vec::<(i64, String)>::new());
    for &id in &halos {
        let (galaxy, context, catalogue_centre) =
            source.read_halo(args, id).with_context(|| format!("halo {id} of {}", args.snapshot.display()))?;
        if galaxy.species(galmass_core::Species::Stars).is_none_or(|s| s.is_empty()) {
            // Centring, the stellar frame and every paper's selection need stars: a dark halo is a recorded skip.
            println!("halo {id}: skipped: no star particles");
            skipped.push((id, "no star particles".into()));
            continue;
        }
        let method = match args.centre {
            CentreArg::ShrinkingSpheres => {
                CentreMethod::ShrinkingSpheres { initial_radius_kpc: 100.0, min_particles: 100 }
            }
            CentreArg::Potential => CentreMethod::PotentialMinimum,
            CentreArg::Catalogue => CentreMethod::Given {
                centre_kpc: catalogue_centre.context("the catalogue gives no position for this halo")?,
            },
        };
        let mut centred = centre_galaxy(&galaxy, &method).with_context(|| format!("centring halo {id}"))?;
        if args.truth == TruthArg::Sphere {
            // The centre in the frame read_halo used: where the first star went.
            let (before, after) = (galaxy.stars()?.pos_kpc(), centred.stars()?.pos_kpc());
            let centre = [0, 1, 2].map(|k| before[[0, k]] - after[[0, k]]);
            let per_halo;
            let region: &Galaxy = if matches!(source, Source::Arepo(_)) {
                per_halo = source.region(args, id).with_context(|| format!("reading the FoF group of halo {id}"))?;
                &per_halo
            } else {
                if zoom_region.is_none() {
                    zoom_region =
                        Some(source.region(args, id).with_context(|| format!("reading the zoom around halo {id}"))?);
                }
                zoom_region.as_ref().context("the zoom region was just read")?
            };
            centred.truth = Some(sphere_truth(&centred, region, centre)?);
        }
        let outcomes = apply_filters(&filters, &centred, &context).with_context(|| format!("filters on halo {id}"))?;
        if let Some(failed) = outcomes.iter().find(|o| !o.passed) {
            let reason = format!("filter {} (value {:.4e})", failed.filter, failed.value);
            println!("halo {id}: skipped by {reason}");
            skipped.push((id, reason));
            continue;
        }
        let out = if many { args.out.join(format!("galaxy_{id:06}.h5")) } else { args.out.clone() };
        galaxy_file::write(&out, &centred).with_context(|| format!("cannot write {}", out.display()))?;
        let n: usize = centred.all_species().map(|(_, p)| p.len()).sum();
        println!("halo {id}: {n} particles -> {}", out.display());
        written += 1;
    }
    if many {
        // What the batch did, beside its galaxy files (atomic, like them).
        let manifest = serde_json::json!({
            "snapshot": args.snapshot.display().to_string(),
            "halos": halos.len(),
            "written": written,
            "skipped": skipped.iter().map(|(id, reason)| serde_json::json!({"halo": id, "reason": reason})).collect::<Vec<_>>(),
        });
        let path = args.out.join("manifest.json");
        let tmp = galmass_core::paths::temporary_path(&path);
        std::fs::write(&tmp, serde_json::to_string_pretty(&manifest)?)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot move {} into place", path.display()))?;
    }
    println!("{written} written, {} skipped (no stars, or by the filters)", skipped.len());
    Ok(())
}
