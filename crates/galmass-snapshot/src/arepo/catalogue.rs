//! Subfind group catalogues (`groups_NNN/fof_subhalo_tab_NNN.C.hdf5`) and TNG offsets files
//! (`../postprocessing/offsets/offsets_NNN.hdf5`): the particles of one subhalo or FoF group, read by offset and
//! length per type from a multi-chunk snapshot, streaming across chunks with hyperslabs.
//!
//! The layout is illustris_python's: `base_path` is a simulation's `output` folder holding `snapdir_NNN/` and
//! `groups_NNN/`, and the offsets live in `base_path/../postprocessing/offsets/`.
//!
//! Positions stay in the box frame, but each particle is moved to its periodic image nearest the subhalo's
//! `SubhaloPos` (the group's `GroupPos`, else its first subhalo's position): a subhalo straddling the box edge comes
//! back in one piece, with coordinates that may lie outside `[0, BoxSize)`. Centring (shrinking spheres, potential
//! minimum) is the extraction's job. PartType4 lengths count wind cells, which are dropped (see [`super`]).
//!
//! ```no_run
//! use galmass_core::GalaxyMeta;
//! use galmass_snapshot::arepo::catalogue::TngBox;
//! let tng = TngBox::open("TNG50-1/output".as_ref(), 99)?;
//! let subhalo = tng.read_subhalo(12)?;
//! let galaxy = subhalo.into_galaxy(GalaxyMeta::new("tng50", 12));
//! # Ok::<(), galmass_snapshot::SnapshotError>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galmass_core::{Galaxy, GalaxyMeta, Particles, Species};
use hdf5::H5Type;
use ndarray::{s, Array2};

use super::{ArepoSnapshot, N_TYPES};
use crate::error::SnapshotError;
use crate::gadget_hdf5::Ctx;
use crate::reader::{ParticleSelection, SnapshotReader};

/// Where the files of one TNG snapshot live (illustris_python's conventions), or of an AURIGA snapshot (the same
/// folders, snapshot files named `snapshot_NNN.C.hdf5`, no offsets file: offsets follow from the catalogue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TngLayout {
    /// The `output` folder.
    pub base_path: PathBuf,
    /// Snapshot number.
    pub snap_num: u32,
    /// Stem of the snapshot files: `snap` (TNG) or `snapshot` (AURIGA, Gadget).
    pub snapshot_stem: &'static str,
}

/// AURIGA's z = 0 snapshot number (Grand et al. 2017).
pub const AURIGA_Z0_SNAPSHOT: u32 = 127;

impl TngLayout {
    /// The TNG layout of snapshot `snap_num` under `base_path`.
    pub fn new(base_path: &Path, snap_num: u32) -> Self {
        Self { base_path: base_path.to_owned(), snap_num, snapshot_stem: "snap" }
    }

    /// The AURIGA layout (`snapshot_NNN.C.hdf5`; [`AURIGA_Z0_SNAPSHOT`] is z = 0).
    pub fn auriga(base_path: &Path, snap_num: u32) -> Self {
        Self { base_path: base_path.to_owned(), snap_num, snapshot_stem: "snapshot" }
    }

    /// The layout whose first snapshot chunk exists (TNG's names first, then AURIGA's), or TNG's when neither does.
    pub fn detect(base_path: &Path, snap_num: u32) -> Self {
        let tng = Self::new(base_path, snap_num);
        let auriga = Self::auriga(base_path, snap_num);
        if !tng.snapshot_chunk(0).exists() && auriga.snapshot_chunk(0).exists() {
            auriga
        } else {
            tng
        }
    }

    /// `snapdir_NNN/<stem>_NNN.C.hdf5`.
    pub fn snapshot_chunk(&self, chunk: u64) -> PathBuf {
        let n = self.snap_num;
        self.base_path.join(format!("snapdir_{n:03}")).join(format!("{}_{n:03}.{chunk}.hdf5", self.snapshot_stem))
    }

    /// `groups_NNN/fof_subhalo_tab_NNN.C.hdf5`.
    pub fn group_chunk(&self, chunk: u64) -> PathBuf {
        let n = self.snap_num;
        self.base_path.join(format!("groups_{n:03}")).join(format!("fof_subhalo_tab_{n:03}.{chunk}.hdf5"))
    }

    /// `../postprocessing/offsets/offsets_NNN.hdf5`.
    pub fn offsets_file(&self) -> PathBuf {
        self.base_path
            .join("..")
            .join("postprocessing")
            .join("offsets")
            .join(format!("offsets_{:03}.hdf5", self.snap_num))
    }
}

/// One row of the catalogue's `Subhalo` group, in physical units.
#[derive(Debug, Clone, PartialEq)]
pub struct SubhaloRecord {
    /// Subhalo id (row in the catalogue).
    pub id: u64,
    /// SubhaloLenType: rows per type (PartType4 includes wind cells).
    pub len_type: [u64; N_TYPES],
    /// Subhalo/SnapByType of the offsets file: first row per type.
    pub offset_type: [u64; N_TYPES],
    /// SubhaloGrNr.
    pub group_id: u64,
    /// SubhaloPos in physical kpc (box frame).
    pub pos_kpc: [f64; 3],
    /// SubhaloVel in km/s.
    pub vel_kms: [f64; 3],
    /// SubhaloMassType in Msun.
    pub mass_type_msun: [f64; N_TYPES],
    /// SubhaloHalfmassRadType in physical kpc.
    pub half_mass_radius_type_kpc: [f64; N_TYPES],
    /// SubhaloFlag (true: of cosmological origin), when present.
    pub flag: Option<bool>,
    /// SubhaloSFR in Msun/yr, when present.
    pub sfr_msun_per_yr: Option<f64>,
    /// SubhaloParent, when present.
    pub parent: Option<i64>,
}

/// One row of the catalogue's `Group` group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRecord {
    /// Group id.
    pub id: u64,
    /// GroupLenType.
    pub len_type: [u64; N_TYPES],
    /// Group/SnapByType of the offsets file.
    pub offset_type: [u64; N_TYPES],
    /// GroupFirstSub (-1: none).
    pub first_sub: i64,
    /// GroupNsubs.
    pub n_subs: u64,
    /// GroupPos in physical kpc, when present.
    pub pos_kpc: Option<[f64; 3]>,
}

/// Subhalo or FoF group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaloKind {
    /// A Subfind subhalo.
    Subhalo,
    /// A FoF group.
    Group,
}

/// The particles of one subhalo or group, ready to become a [`Galaxy`].
#[derive(Debug, Clone, PartialEq)]
pub struct HaloParticles {
    /// Subhalo or group.
    pub kind: HaloKind,
    /// Its id.
    pub id: u64,
    /// The position the periodic images were chosen about, physical kpc.
    pub centre_kpc: [f64; 3],
    /// First row per type in the snapshot.
    pub offset_type: [u64; N_TYPES],
    /// Rows per type.
    pub len_type: [u64; N_TYPES],
    /// Particles per species (box frame, unwrapped about `centre_kpc`; wind cells dropped).
    pub species: BTreeMap<Species, Particles>,
}

impl HaloParticles {
    /// A galaxy holding these particles (species with no particle left out); `source_halo_id` is set to the id.
    pub fn into_galaxy(self, mut meta: GalaxyMeta) -> Galaxy {
        meta.source_halo_id = i64::try_from(self.id).ok();
        let mut galaxy = Galaxy::new(meta);
        for (species, particles) in self.species {
            if !particles.is_empty() {
                galaxy.set_species(species, particles);
            }
        }
        galaxy
    }
}

#[derive(Debug, Clone)]
struct CatalogueChunk {
    path: PathBuf,
    first_group: u64,
    n_groups: u64,
    first_subhalo: u64,
    n_subhalos: u64,
}

/// First snapshot row per type of every group and of every subhalo, computed from the catalogue.
type ComputedOffsets = (Vec<[u64; N_TYPES]>, Vec<[u64; N_TYPES]>);

/// A TNG snapshot with its group catalogue and offsets.
#[derive(Debug)]
pub struct TngBox {
    layout: TngLayout,
    snapshot: ArepoSnapshot,
    chunks: Vec<CatalogueChunk>,
    n_groups: u64,
    n_subhalos: u64,
    /// Offsets computed from the catalogue when there is no offsets file: (groups, subhalos).
    computed_offsets: Option<ComputedOffsets>,
}

impl TngBox {
    /// Opens snapshot `snap_num` under `base_path` in the layout found there ([`TngLayout::detect`]); the
    /// snapshot's and the catalogue's chunk headers are read.
    pub fn open(base_path: &Path, snap_num: u32) -> Result<Self, SnapshotError> {
        Self::open_layout(TngLayout::detect(base_path, snap_num))
    }

    /// Opens the snapshot and catalogue of `layout`. Without an offsets file, the offsets are computed from the
    /// catalogue (Subfind order: groups one after another, each group's subhalos from its first row on).
    pub fn open_layout(layout: TngLayout) -> Result<Self, SnapshotError> {
        let snapshot = ArepoSnapshot::open(&layout.snapshot_chunk(0))?;
        let first = layout.group_chunk(0);
        let ctx = Ctx { path: &first };
        let file = ctx.open()?;
        let header = ctx.group(&file, "Header")?;
        let num_files: i64 = ctx.scalar_attr(&header, "Header", "NumFiles")?;
        let n_groups =
            nonnegative(&ctx, "Header/Ngroups_Total", ctx.scalar_attr::<i64>(&header, "Header", "Ngroups_Total")?)?;
        let n_subhalos = nonnegative(
            &ctx,
            "Header/Nsubgroups_Total",
            ctx.scalar_attr::<i64>(&header, "Header", "Nsubgroups_Total")?,
        )?;
        drop(file);
        let mut chunks = Vec::new();
        let (mut g, mut sub) = (0, 0);
        for c in 0..nonnegative(&ctx, "Header/NumFiles", num_files)? {
            let path = layout.group_chunk(c);
            let cctx = Ctx { path: &path };
            let file = cctx.open()?;
            let header = cctx.group(&file, "Header")?;
            let ng = nonnegative(
                &cctx,
                "Header/Ngroups_ThisFile",
                cctx.scalar_attr::<i64>(&header, "Header", "Ngroups_ThisFile")?,
            )?;
            let ns = nonnegative(
                &cctx,
                "Header/Nsubgroups_ThisFile",
                cctx.scalar_attr::<i64>(&header, "Header", "Nsubgroups_ThisFile")?,
            )?;
            drop(file);
            chunks.push(CatalogueChunk { path, first_group: g, n_groups: ng, first_subhalo: sub, n_subhalos: ns });
            g += ng;
            sub += ns;
        }
        if g != n_groups || sub != n_subhalos {
            return Err(ctx.malformed(
                "Header/Ngroups_Total",
                format!("totals {n_groups} groups, {n_subhalos} subhalos; the chunks hold {g} and {sub}"),
            ));
        }
        let mut tng = Self { layout, snapshot, chunks, n_groups, n_subhalos, computed_offsets: None };
        if !tng.layout.offsets_file().exists() {
            tng.computed_offsets = Some(tng.offsets_from_catalogue()?);
        }
        Ok(tng)
    }

    /// Group and subhalo offsets per type from GroupLenType, GroupFirstSub, GroupNsubs and SubhaloLenType.
    fn offsets_from_catalogue(&self) -> Result<ComputedOffsets, SnapshotError> {
        let mut group_len = Vec::new();
        let mut group_first = Vec::new();
        let mut group_nsubs = Vec::new();
        let mut sub_len = Vec::new();
        for chunk in &self.chunks {
            let ctx = Ctx { path: &chunk.path };
            let file = ctx.open()?;
            for row in 0..chunk.n_groups as usize {
                group_len.push(
                    read_row::<i64, N_TYPES>(&ctx, &file, "Group/GroupLenType", chunk.n_groups, row)?
                        .map(|v| v.max(0) as u64),
                );
                group_first.push(read_row::<i64, 1>(&ctx, &file, "Group/GroupFirstSub", chunk.n_groups, row)?[0]);
                group_nsubs.push(nonnegative(
                    &ctx,
                    "Group/GroupNsubs",
                    read_row::<i64, 1>(&ctx, &file, "Group/GroupNsubs", chunk.n_groups, row)?[0],
                )?);
            }
            for row in 0..chunk.n_subhalos as usize {
                sub_len.push(
                    read_row::<i64, N_TYPES>(&ctx, &file, "Subhalo/SubhaloLenType", chunk.n_subhalos, row)?
                        .map(|v| v.max(0) as u64),
                );
            }
        }
        let mut group_offsets = vec![[0u64; N_TYPES]; group_len.len()];
        let mut sub_offsets = vec![[0u64; N_TYPES]; sub_len.len()];
        let mut next = [0u64; N_TYPES];
        for g in 0..group_len.len() {
            group_offsets[g] = next;
            let mut cursor = next;
            if group_first[g] >= 0 {
                let first = usize::try_from(group_first[g]).unwrap_or(usize::MAX);
                let nsubs = usize::try_from(group_nsubs[g]).unwrap_or(usize::MAX);
                for sub in first..first.saturating_add(nsubs).min(sub_len.len()) {
                    sub_offsets[sub] = cursor;
                    for t in 0..N_TYPES {
                        cursor[t] = cursor[t].saturating_add(sub_len[sub][t]);
                    }
                }
            }
            for t in 0..N_TYPES {
                next[t] = next[t].saturating_add(group_len[g][t]);
            }
        }
        Ok((group_offsets, sub_offsets))
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &ArepoSnapshot {
        &self.snapshot
    }

    /// The file layout.
    pub fn layout(&self) -> &TngLayout {
        &self.layout
    }

    /// Number of FoF groups.
    pub fn n_groups(&self) -> u64 {
        self.n_groups
    }

    /// Number of subhalos.
    pub fn n_subhalos(&self) -> u64 {
        self.n_subhalos
    }

    fn offsets_row(&self, group: &str, id: u64) -> Result<[u64; N_TYPES], SnapshotError> {
        if let Some((groups, subhalos)) = &self.computed_offsets {
            let table = if group == "Subhalo" { subhalos } else { groups };
            return table.get(id as usize).copied().ok_or_else(|| {
                let path = self.layout.group_chunk(0);
                Ctx { path: &path }.malformed(group, format!("no {group} {id} in the catalogue"))
            });
        }
        let path = self.layout.offsets_file();
        let ctx = Ctx { path: &path };
        let file = ctx.open()?;
        let name = format!("{group}/SnapByType");
        let ds = ctx.dataset(&file, &name)?;
        let n = if group == "Subhalo" { self.n_subhalos } else { self.n_groups };
        ctx.check_rows(&ds, &name, n, N_TYPES)?;
        let row: Array2<i64> = ds
            .read_slice_2d(s![id as usize..id as usize + 1, ..])
            .map_err(|e| ctx.hdf5(&format!("reading dataset {name}"), e))?;
        let mut out = [0u64; N_TYPES];
        for k in 0..N_TYPES {
            out[k] = nonnegative(&ctx, &name, row[[0, k]])?;
        }
        Ok(out)
    }

    fn chunk_of(&self, kind: HaloKind, id: u64) -> Result<(&CatalogueChunk, usize), SnapshotError> {
        let (n, what) = match kind {
            HaloKind::Subhalo => (self.n_subhalos, "subhalo"),
            HaloKind::Group => (self.n_groups, "group"),
        };
        let not_found = || {
            let path = self.layout.group_chunk(0);
            Ctx { path: &path }.malformed(what, format!("no {what} {id}: the catalogue has {n}"))
        };
        if id >= n {
            return Err(not_found());
        }
        self.chunks
            .iter()
            .find_map(|c| {
                let (first, len) = match kind {
                    HaloKind::Subhalo => (c.first_subhalo, c.n_subhalos),
                    HaloKind::Group => (c.first_group, c.n_groups),
                };
                (id >= first && id < first + len).then(|| (c, (id - first) as usize))
            })
            .ok_or_else(not_found)
    }

    /// The catalogue entry of a subhalo.
    pub fn subhalo(&self, id: u64) -> Result<SubhaloRecord, SnapshotError> {
        let (chunk, row) = self.chunk_of(HaloKind::Subhalo, id)?;
        let ctx = Ctx { path: &chunk.path };
        let file = ctx.open()?;
        let n = chunk.n_subhalos;
        let h = self.snapshot.arepo_header();
        let len_type =
            read_row::<i64, N_TYPES>(&ctx, &file, "Subhalo/SubhaloLenType", n, row)?.map(|v| v.max(0) as u64);
        let group_id = read_row::<i64, 1>(&ctx, &file, "Subhalo/SubhaloGrNr", n, row)?[0];
        let pos = read_row::<f64, 3>(&ctx, &file, "Subhalo/SubhaloPos", n, row)?;
        let optional = |name: &str| -> Result<Option<[f64; 1]>, SnapshotError> {
            if file.link_exists(name) {
                read_row::<f64, 1>(&ctx, &file, name, n, row).map(Some)
            } else {
                Ok(None)
            }
        };
        let vel = if file.link_exists("Subhalo/SubhaloVel") {
            read_row::<f64, 3>(&ctx, &file, "Subhalo/SubhaloVel", n, row)?
        } else {
            [0.0; 3]
        };
        let mass_type = if file.link_exists("Subhalo/SubhaloMassType") {
            read_row::<f64, N_TYPES>(&ctx, &file, "Subhalo/SubhaloMassType", n, row)?.map(|m| m * h.mass_to_msun())
        } else {
            [f64::NAN; N_TYPES]
        };
        let half_mass = if file.link_exists("Subhalo/SubhaloHalfmassRadType") {
            read_row::<f64, N_TYPES>(&ctx, &file, "Subhalo/SubhaloHalfmassRadType", n, row)?
                .map(|r| r * h.length_to_kpc())
        } else {
            [f64::NAN; N_TYPES]
        };
        Ok(SubhaloRecord {
            id,
            len_type,
            offset_type: self.offsets_row("Subhalo", id)?,
            group_id: nonnegative(&ctx, "Subhalo/SubhaloGrNr", group_id)?,
            pos_kpc: pos.map(|x| x * h.length_to_kpc()),
            vel_kms: vel,
            mass_type_msun: mass_type,
            half_mass_radius_type_kpc: half_mass,
            flag: optional("Subhalo/SubhaloFlag")?.map(|f| f[0] != 0.0),
            sfr_msun_per_yr: optional("Subhalo/SubhaloSFR")?.map(|f| f[0]),
            parent: optional("Subhalo/SubhaloParent")?.map(|f| f[0] as i64),
        })
    }

    /// The catalogue entry of a FoF group.
    pub fn group(&self, id: u64) -> Result<GroupRecord, SnapshotError> {
        let (chunk, row) = self.chunk_of(HaloKind::Group, id)?;
        let ctx = Ctx { path: &chunk.path };
        let file = ctx.open()?;
        let n = chunk.n_groups;
        let h = self.snapshot.arepo_header();
        let len_type = read_row::<i64, N_TYPES>(&ctx, &file, "Group/GroupLenType", n, row)?.map(|v| v.max(0) as u64);
        let first_sub = read_row::<i64, 1>(&ctx, &file, "Group/GroupFirstSub", n, row)?[0];
        let n_subs = read_row::<i64, 1>(&ctx, &file, "Group/GroupNsubs", n, row)?[0];
        let pos = if file.link_exists("Group/GroupPos") {
            Some(read_row::<f64, 3>(&ctx, &file, "Group/GroupPos", n, row)?)
        } else {
            None
        };
        Ok(GroupRecord {
            id,
            len_type,
            offset_type: self.offsets_row("Group", id)?,
            first_sub,
            n_subs: nonnegative(&ctx, "Group/GroupNsubs", n_subs)?,
            pos_kpc: pos.map(|p| p.map(|x| x * h.length_to_kpc())),
        })
    }

    /// The particles of subhalo `id` (only its rows are read).
    pub fn read_subhalo(&self, id: u64) -> Result<HaloParticles, SnapshotError> {
        let record = self.subhalo(id)?;
        self.read_halo(HaloKind::Subhalo, id, record.pos_kpc, record.offset_type, record.len_type)
    }

    /// The particles of FoF group `id` (all its subhalos and its fuzz; only its rows are read).
    pub fn read_group(&self, id: u64) -> Result<HaloParticles, SnapshotError> {
        let record = self.group(id)?;
        let centre = match record.pos_kpc {
            Some(p) => p,
            None if record.first_sub >= 0 => self.subhalo(record.first_sub as u64)?.pos_kpc,
            None => {
                let path = self.layout.group_chunk(0);
                return Err(Ctx { path: &path }.missing("dataset", "Group/GroupPos (and the group has no subhalo)"));
            }
        };
        self.read_halo(HaloKind::Group, id, centre, record.offset_type, record.len_type)
    }

    fn read_halo(
        &self,
        kind: HaloKind,
        id: u64,
        centre_kpc: [f64; 3],
        offset_type: [u64; N_TYPES],
        len_type: [u64; N_TYPES],
    ) -> Result<HaloParticles, SnapshotError> {
        let box_kpc = self.snapshot.arepo_header().box_size * self.snapshot.arepo_header().length_to_kpc();
        let mut species = BTreeMap::new();
        for s in Species::ALL {
            let t = super::part_type(s);
            let mut particles = if len_type[t] == 0 {
                Particles::empty()
            } else {
                let p =
                    self.snapshot.read_species(s, &ParticleSelection::Ranges(vec![(offset_type[t], len_type[t])]))?;
                unwrap_periodic(p, centre_kpc, box_kpc)
            };
            if s == Species::Dm && self.snapshot.is_zoom() {
                // The halo's own low-resolution dark matter joins its dark matter (flagged high_res = false).
                let mut parts = vec![particles];
                for lt in super::LOW_RES_DM_TYPES {
                    if len_type[lt] > 0 {
                        let p = self.snapshot.read_low_res_dm(lt, &[(offset_type[lt], len_type[lt])])?;
                        parts.push(unwrap_periodic(p, centre_kpc, box_kpc));
                    }
                }
                particles = Particles::concatenate(parts)
                    .map_err(|e| Ctx { path: &self.layout.snapshot_chunk(0) }.invalid("PartType1", e))?;
            }
            species.insert(s, particles);
        }
        Ok(HaloParticles { kind, id, centre_kpc, offset_type, len_type, species })
    }
}

/// Moves every position to its periodic image nearest `centre_kpc` in a box of side `box_kpc`.
pub fn unwrap_periodic(particles: Particles, centre_kpc: [f64; 3], box_kpc: f64) -> Particles {
    if box_kpc.is_nan() || box_kpc <= 0.0 || particles.is_empty() {
        return particles;
    }
    let mut pos = particles.pos_kpc().clone();
    for mut row in pos.rows_mut() {
        for k in 0..3 {
            let d = row[k] - centre_kpc[k];
            row[k] = centre_kpc[k] + d - box_kpc * (d / box_kpc).round();
        }
    }
    replace_positions(particles, pos)
}

fn replace_positions(particles: Particles, pos: Array2<f64>) -> Particles {
    // Particles has no position setter: rebuild it with every optional field carried along.
    let mut out = match Particles::new(pos, particles.vel_kms().clone(), particles.mass_msun().clone()) {
        Ok(p) => p,
        Err(_) => return particles,
    };
    if let Some(ids) = particles.ids() {
        let _ = out.set_ids(ids.clone());
    }
    if let Some(flags) = particles.high_res() {
        let _ = out.set_high_res(flags.clone());
    }
    for (field, values) in particles.fields() {
        let _ = out.set_field(field, values.clone());
    }
    for (band, lum) in particles.luminosities() {
        let _ = out.set_luminosity(band, lum.clone());
    }
    out
}

fn nonnegative(ctx: &Ctx<'_>, field: &str, value: i64) -> Result<u64, SnapshotError> {
    u64::try_from(value).map_err(|_| ctx.malformed(field, format!("expected a non-negative integer, got {value}")))
}

/// Row `row` of dataset `name` (n rows of `W` numbers; `W == 1`: 1-d).
fn read_row<T: H5Type + Copy + Default, const W: usize>(
    ctx: &Ctx<'_>,
    file: &hdf5::File,
    name: &str,
    n: u64,
    row: usize,
) -> Result<[T; W], SnapshotError> {
    let ds = ctx.dataset(file, name)?;
    ctx.check_rows(&ds, name, n, W)?;
    let read_err = |e| ctx.hdf5(&format!("reading dataset {name}"), e);
    let values: Vec<T> = if W == 1 {
        ds.read_slice_1d::<T, _>(s![row..row + 1]).map_err(read_err)?.to_vec()
    } else {
        ds.read_slice_2d::<T, _>(s![row..row + 1, ..]).map_err(read_err)?.into_iter().collect()
    };
    let mut out = [T::default(); W];
    if values.len() != W {
        return Err(ctx.bad_field(name, format!("rows of {W}"), format!("{} values in row {row}", values.len())));
    }
    out.copy_from_slice(&values);
    Ok(out)
}
