//! A TNG-layout box writer: galaxies placed in a periodic box become a multi-chunk Arepo snapshot ordered as Subfind
//! writes it, a chunked group catalogue and an offsets file, in TNG's units, readable by [`super::catalogue::TngBox`]
//! and by illustris_python.
//!
//! Order: particles of each type are sorted by FoF group, then by subhalo within the group (the first galaxy of a
//! group is its central, `GroupFirstSub`), as Subfind does; every particle belongs to a subhalo (no fuzz, no
//! particles outside groups). Each type's rows are split evenly over the snapshot chunks, so a subhalo may straddle
//! chunks; groups and subhalos are split evenly over the catalogue chunks.
//!
//! Conversions (the reader's, inverted; [`super::physics`]): positions `(centre + pos) h / a`, wrapped into
//! `[0, BoxSize)`; velocities `(v + bulk) / sqrt(a)`; masses `m h / 1e10` (dark matter of one mass goes to
//! `MassTable[1]` with no Masses dataset, as in TNG); Density, Potential and ages inverted; temperatures become
//! InternalEnergy with ElectronAbundance 1.158 above 1e4 K (ionised) and 0 below; HI masses become the
//! NeutralHydrogenAbundance that the reader's recipe turns back into them (clamped to [0, 1]; for star-forming
//! cells the recipe takes f_neutral = 1, so their HI cannot be encoded and a warning says so); luminosities become
//! g, r, i, z magnitudes with each band's `solar_abs_mag_ab` (U, B, V, K are NaN: galmass does not know them).
//! An optional field is written for a type only when every galaxy with particles of that type has it. Particles
//! without ids get running ids. Float data are float32 except Coordinates (float64, as in TNG).
//!
//! Every file is written under a temporary name beside its destination and renamed into place once all are written.
//!
//! ```no_run
//! use galmass_core::{Galaxy, GalaxyMeta};
//! use galmass_snapshot::arepo::writer::{write_tng_box, PlacedGalaxy, TngBoxParams};
//! let galaxy = Galaxy::new(GalaxyMeta::new("example", 0));
//! let params = TngBoxParams::tng100_like(99, 3, 2);
//! let placed = [PlacedGalaxy { galaxy: &galaxy, group: 0, centre_kpc: [100.0, 200.0, 300.0], velocity_kms: [0.0; 3] }];
//! write_tng_box("out/output".as_ref(), &params, &placed)?;
//! # Ok::<(), galmass_snapshot::SnapshotError>(())
//! ```

use std::path::{Path, PathBuf};

use galmass_core::paths::temporary_path;
use galmass_core::{Galaxy, Particles, ScalarField, Species};
use hdf5::H5Type;
use ndarray::{Array1, Array2};

use super::catalogue::TngLayout;
use super::physics::{self, FlatLcdm};
use super::{part_type, Ctx, N_TYPES};
use crate::error::SnapshotError;

/// The box and file layout to write.
#[derive(Debug, Clone, PartialEq)]
pub struct TngBoxParams {
    /// Side of the box in physical kpc.
    pub box_size_kpc: f64,
    /// h.
    pub hubble_param: f64,
    /// Scale factor a.
    pub scale_factor: f64,
    /// Omega0.
    pub omega_matter: f64,
    /// OmegaLambda (flat: 1 - Omega0).
    pub omega_lambda: f64,
    /// Snapshot number.
    pub snap_num: u32,
    /// Snapshot chunks.
    pub n_snapshot_chunks: usize,
    /// Group catalogue chunks.
    pub n_catalogue_chunks: usize,
    /// AURIGA's layout: snapshot files `snapshot_NNN.C.hdf5` and no offsets file (readers compute the offsets).
    pub auriga_layout: bool,
}

impl TngBoxParams {
    /// TNG's Planck 2015 cosmology (h = 0.6774, Omega0 = 0.3089) at z = 0 in a 75 Mpc/h box.
    pub fn tng100_like(snap_num: u32, n_snapshot_chunks: usize, n_catalogue_chunks: usize) -> Self {
        Self {
            box_size_kpc: 75_000.0 / 0.6774,
            hubble_param: 0.6774,
            scale_factor: 1.0,
            omega_matter: 0.3089,
            omega_lambda: 0.6911,
            snap_num,
            n_snapshot_chunks,
            n_catalogue_chunks,
            auriga_layout: false,
        }
    }

    /// An AURIGA-like zoom (Planck 2013 as AURIGA uses it: h = 0.6777, Omega0 = 0.307) at z = 0, snapshot 127, in
    /// AURIGA's file layout, in a box of side `box_size_kpc`.
    pub fn auriga_like(box_size_kpc: f64, n_snapshot_chunks: usize) -> Self {
        Self {
            box_size_kpc,
            hubble_param: 0.6777,
            scale_factor: 1.0,
            omega_matter: 0.307,
            omega_lambda: 0.693,
            snap_num: super::catalogue::AURIGA_Z0_SNAPSHOT,
            n_snapshot_chunks,
            n_catalogue_chunks: 1,
            auriga_layout: true,
        }
    }
}

/// A galaxy (centred particles) placed in the box.
#[derive(Debug, Clone, Copy)]
pub struct PlacedGalaxy<'a> {
    /// The galaxy, positions relative to its centre.
    pub galaxy: &'a Galaxy,
    /// Its FoF group label (galaxies with one label share a group; the first listed is the central).
    pub group: u64,
    /// Where its centre goes, physical kpc.
    pub centre_kpc: [f64; 3],
    /// Its bulk peculiar velocity, km/s.
    pub velocity_kms: [f64; 3],
}

/// What was written, per input galaxy in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct TngBoxWritten {
    /// The layout written.
    pub layout: TngLayout,
    /// Subhalo id of each input galaxy.
    pub subhalo_ids: Vec<u64>,
    /// Group id of each input galaxy.
    pub group_ids: Vec<u64>,
    /// First snapshot row per type of each input galaxy.
    pub offset_type: Vec<[u64; N_TYPES]>,
    /// Rows per type of each input galaxy.
    pub len_type: Vec<[u64; N_TYPES]>,
}

/// Writes the box (module docs).
pub fn write_tng_box(
    base_path: &Path,
    params: &TngBoxParams,
    galaxies: &[PlacedGalaxy<'_>],
) -> Result<TngBoxWritten, SnapshotError> {
    let layout = if params.auriga_layout {
        TngLayout::auriga(base_path, params.snap_num)
    } else {
        TngLayout::new(base_path, params.snap_num)
    };
    let first = layout.snapshot_chunk(0);
    let ctx = Ctx { path: &first };
    let cosmology = FlatLcdm {
        hubble_param: params.hubble_param,
        omega_matter: params.omega_matter,
        omega_lambda: params.omega_lambda,
    };
    let positive = |x: f64| x > 0.0 && x.is_finite();
    if !cosmology.is_valid()
        || !positive(params.scale_factor)
        || !positive(params.box_size_kpc)
        || params.n_snapshot_chunks == 0
        || params.n_catalogue_chunks == 0
    {
        return Err(ctx.malformed(
            "params",
            format!("need a flat cosmology, a > 0, a positive box and at least one chunk each, got {params:?}"),
        ));
    }
    // Subfind order: by group label, input order within a group.
    let mut order: Vec<usize> = (0..galaxies.len()).collect();
    order.sort_by_key(|&i| galaxies[i].group);
    let mut group_of_sub = Vec::with_capacity(order.len());
    let mut group_ids = vec![0u64; galaxies.len()];
    let mut subhalo_ids = vec![0u64; galaxies.len()];
    let mut n_groups = 0u64;
    for (sub, &i) in order.iter().enumerate() {
        if sub == 0 || galaxies[order[sub - 1]].group != galaxies[i].group {
            n_groups += 1;
        }
        group_of_sub.push(n_groups - 1);
        group_ids[i] = n_groups - 1;
        subhalo_ids[i] = sub as u64;
    }
    let a = params.scale_factor;
    let h = params.hubble_param;
    let to_code_length = h / a;
    let box_code = params.box_size_kpc * to_code_length;
    let mass_to_code = h / 1e10;

    // Per type, the sorted subhalos' particles and their lengths.
    let mut len_sub = vec![[0u64; N_TYPES]; order.len()];
    let mut columns: Vec<TypeColumns> = (0..N_TYPES).map(|_| TypeColumns::default()).collect();
    let mut next_id = 1u64;
    for species in Species::ALL {
        let t = part_type(species);
        let members: Vec<(usize, &Particles)> = order
            .iter()
            .enumerate()
            .filter_map(|(sub, &i)| galaxies[i].galaxy.species(species).filter(|p| !p.is_empty()).map(|p| (sub, p)))
            .collect();
        let all_have = |f: &dyn Fn(&Particles) -> bool| !members.is_empty() && members.iter().all(|(_, p)| f(p));
        let col = &mut columns[t];
        col.fields = wanted_written(species)
            .iter()
            .copied()
            .filter(|name| all_have(&|p: &Particles| has_source(p, name)))
            .collect();
        for &(sub, p) in &members {
            let g = &galaxies[order[sub]];
            len_sub[sub][t] = p.len() as u64;
            for i in 0..p.len() {
                for k in 0..3 {
                    let x = ((g.centre_kpc[k] + p.pos_kpc()[[i, k]]) * to_code_length).rem_euclid(box_code);
                    col.coords.push(x);
                    col.vel.push(((p.vel_kms()[[i, k]] + g.velocity_kms[k]) / a.sqrt()) as f32);
                }
                col.mass.push(p.mass_msun()[i] * mass_to_code);
            }
            match p.ids() {
                Some(ids) => col.ids.extend(ids.iter().copied()),
                None => {
                    col.ids.extend(next_id..next_id + p.len() as u64);
                    next_id += p.len() as u64;
                }
            }
            for name in col.fields.clone() {
                let values = encode_field(&ctx, species, name, p, a, h, &cosmology)?;
                col.extra.entry(name).or_default().extend(values);
            }
        }
    }
    let mut mass_table = [0.0f64; N_TYPES];
    if let Some(&m0) = columns[1].mass.first() {
        if columns[1].mass.iter().all(|&m| m == m0) {
            mass_table[1] = m0;
            columns[1].mass_in_table = true;
        }
    }
    let totals: [u64; N_TYPES] = std::array::from_fn(|t| columns[t].mass.len() as u64);

    // Offsets of the sorted subhalos and of the groups.
    let mut offset_sub = vec![[0u64; N_TYPES]; order.len()];
    let mut running = [0u64; N_TYPES];
    for sub in 0..order.len() {
        offset_sub[sub] = running;
        for t in 0..N_TYPES {
            running[t] += len_sub[sub][t];
        }
    }
    let n_groups_usize = n_groups as usize;
    let mut group_len = vec![[0u64; N_TYPES]; n_groups_usize];
    let mut group_offset = vec![[u64::MAX; N_TYPES]; n_groups_usize];
    let mut group_first_sub = vec![-1i64; n_groups_usize];
    let mut group_nsubs = vec![0i64; n_groups_usize];
    for sub in 0..order.len() {
        let g = group_of_sub[sub] as usize;
        if group_first_sub[g] < 0 {
            group_first_sub[g] = sub as i64;
            group_offset[g] = offset_sub[sub];
        }
        group_nsubs[g] += 1;
        for t in 0..N_TYPES {
            group_len[g][t] += len_sub[sub][t];
        }
    }

    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> Result<(), SnapshotError> {
        // Snapshot chunks.
        let n_chunks = params.n_snapshot_chunks as u64;
        let mut file_offsets_snap = Vec::new();
        for c in 0..n_chunks {
            let path = layout.snapshot_chunk(c);
            let tmp = stage(&path, &mut staged)?;
            let cctx = Ctx { path: &tmp };
            let file = hdf5::File::create(&tmp).map_err(|e| cctx.hdf5("creating the file", e))?;
            let mut this_file = [0i64; N_TYPES];
            let mut starts = [0u64; N_TYPES];
            for t in 0..N_TYPES {
                let (lo, hi) = split(totals[t], n_chunks, c);
                this_file[t] = (hi - lo) as i64;
                starts[t] = lo;
            }
            file_offsets_snap.push(starts.map(|s| s as i64));
            let header = file.create_group("Header").map_err(|e| cctx.hdf5("creating group Header", e))?;
            write_attr(&cctx, &header, "NumPart_ThisFile", &this_file.map(|n| n as i32))?;
            write_attr(&cctx, &header, "NumPart_Total", &totals.map(|n| (n & 0xffff_ffff) as u32))?;
            write_attr(&cctx, &header, "NumPart_Total_HighWord", &totals.map(|n| (n >> 32) as u32))?;
            write_attr(&cctx, &header, "MassTable", &mass_table)?;
            write_attr(&cctx, &header, "NumFilesPerSnapshot", &[n_chunks as i32])?;
            write_common_header(&cctx, &header, params, box_code)?;
            for t in 0..N_TYPES {
                let (lo, hi) = split(totals[t], n_chunks, c);
                if hi == lo {
                    continue;
                }
                let (lo, hi) = (lo as usize, hi as usize);
                let gname = format!("PartType{t}");
                let group = file.create_group(&gname).map_err(|e| cctx.hdf5(&format!("creating group {gname}"), e))?;
                let col = &columns[t];
                let rows = hi - lo;
                let coords = Array2::from_shape_vec((rows, 3), col.coords[3 * lo..3 * hi].to_vec())
                    .map_err(|e| cctx.malformed(&gname, e.to_string()))?;
                write_ds(&cctx, &group, &gname, "Coordinates", &coords)?;
                let vel = Array2::from_shape_vec((rows, 3), col.vel[3 * lo..3 * hi].to_vec())
                    .map_err(|e| cctx.malformed(&gname, e.to_string()))?;
                write_ds(&cctx, &group, &gname, "Velocities", &vel)?;
                if !col.mass_in_table {
                    write_ds(
                        &cctx,
                        &group,
                        &gname,
                        "Masses",
                        &col.mass[lo..hi].iter().map(|&m| m as f32).collect::<Array1<f32>>(),
                    )?;
                }
                write_ds(&cctx, &group, &gname, "ParticleIDs", &Array1::from(col.ids[lo..hi].to_vec()))?;
                for name in &col.fields {
                    let values = &col.extra[name];
                    let width = super::field_width(name);
                    let data = Array2::from_shape_vec((rows, width), values[width * lo..width * hi].to_vec())
                        .map_err(|e| cctx.malformed(&gname, e.to_string()))?;
                    if width == 1 {
                        write_ds(&cctx, &group, &gname, name, &data.column(0).to_owned())?;
                    } else {
                        write_ds(&cctx, &group, &gname, name, &data)?;
                    }
                }
            }
        }

        // Group catalogue chunks.
        let n_cat = params.n_catalogue_chunks as u64;
        let n_subs = order.len() as u64;
        let mut file_offsets_group = Vec::new();
        let mut file_offsets_sub = Vec::new();
        for c in 0..n_cat {
            let path = layout.group_chunk(c);
            let tmp = stage(&path, &mut staged)?;
            let cctx = Ctx { path: &tmp };
            let file = hdf5::File::create(&tmp).map_err(|e| cctx.hdf5("creating the file", e))?;
            let (g0, g1) = split(n_groups, n_cat, c);
            let (s0, s1) = split(n_subs, n_cat, c);
            file_offsets_group.push(g0 as i64);
            file_offsets_sub.push(s0 as i64);
            let header = file.create_group("Header").map_err(|e| cctx.hdf5("creating group Header", e))?;
            write_attr(&cctx, &header, "Ngroups_ThisFile", &[(g1 - g0) as i32])?;
            write_attr(&cctx, &header, "Ngroups_Total", &[n_groups as i32])?;
            write_attr(&cctx, &header, "Nsubgroups_ThisFile", &[(s1 - s0) as i32])?;
            write_attr(&cctx, &header, "Nsubgroups_Total", &[n_subs as i32])?;
            write_attr(&cctx, &header, "NumFiles", &[n_cat as i32])?;
            write_common_header(&cctx, &header, params, box_code)?;
            let group = file.create_group("Group").map_err(|e| cctx.hdf5("creating group Group", e))?;
            if g1 > g0 {
                let gs: Vec<usize> = (g0 as usize..g1 as usize).collect();
                let rows = |f: &dyn Fn(usize) -> [f64; N_TYPES]| {
                    Array2::from_shape_fn((gs.len(), N_TYPES), |(i, t)| f(gs[i])[t])
                };
                write_ds(
                    &cctx,
                    &group,
                    "Group",
                    "GroupLenType",
                    &rows(&|g| group_len[g].map(|n| n as f64)).mapv(|v| v as i32),
                )?;
                write_ds(
                    &cctx,
                    &group,
                    "Group",
                    "GroupLen",
                    &gs.iter().map(|&g| group_len[g].iter().sum::<u64>() as i32).collect::<Array1<i32>>(),
                )?;
                write_ds(
                    &cctx,
                    &group,
                    "Group",
                    "GroupFirstSub",
                    &gs.iter().map(|&g| group_first_sub[g] as i32).collect::<Array1<i32>>(),
                )?;
                write_ds(
                    &cctx,
                    &group,
                    "Group",
                    "GroupNsubs",
                    &gs.iter().map(|&g| group_nsubs[g] as i32).collect::<Array1<i32>>(),
                )?;
                let pos = Array2::from_shape_fn((gs.len(), 3), |(i, k)| {
                    let sub = group_first_sub[gs[i]] as usize;
                    ((galaxies[order[sub]].centre_kpc[k] * to_code_length).rem_euclid(box_code)) as f32
                });
                write_ds(&cctx, &group, "Group", "GroupPos", &pos)?;
                let mass_type = Array2::from_shape_fn((gs.len(), N_TYPES), |(i, t)| {
                    (0..order.len())
                        .filter(|&s| group_of_sub[s] as usize == gs[i])
                        .map(|s| sub_mass(&columns, &offset_sub, &len_sub, &mass_table, s, t))
                        .sum::<f64>() as f32
                });
                write_ds(&cctx, &group, "Group", "GroupMassType", &mass_type)?;
            }
            let subgroup = file.create_group("Subhalo").map_err(|e| cctx.hdf5("creating group Subhalo", e))?;
            if s1 > s0 {
                let ss: Vec<usize> = (s0 as usize..s1 as usize).collect();
                let m = ss.len();
                write_ds(
                    &cctx,
                    &subgroup,
                    "Subhalo",
                    "SubhaloLenType",
                    &Array2::from_shape_fn((m, N_TYPES), |(i, t)| len_sub[ss[i]][t] as i32),
                )?;
                write_ds(
                    &cctx,
                    &subgroup,
                    "Subhalo",
                    "SubhaloLen",
                    &ss.iter().map(|&s| len_sub[s].iter().sum::<u64>() as i32).collect::<Array1<i32>>(),
                )?;
                write_ds(
                    &cctx,
                    &subgroup,
                    "Subhalo",
                    "SubhaloGrNr",
                    &ss.iter().map(|&s| group_of_sub[s] as i32).collect::<Array1<i32>>(),
                )?;
                write_ds(&cctx, &subgroup, "Subhalo", "SubhaloParent", &Array1::<i32>::zeros(m))?;
                write_ds(&cctx, &subgroup, "Subhalo", "SubhaloFlag", &Array1::<u8>::ones(m))?;
                let pos = Array2::from_shape_fn((m, 3), |(i, k)| {
                    ((galaxies[order[ss[i]]].centre_kpc[k] * to_code_length).rem_euclid(box_code)) as f32
                });
                write_ds(&cctx, &subgroup, "Subhalo", "SubhaloPos", &pos)?;
                let vel = Array2::from_shape_fn((m, 3), |(i, k)| galaxies[order[ss[i]]].velocity_kms[k] as f32);
                write_ds(&cctx, &subgroup, "Subhalo", "SubhaloVel", &vel)?;
                let mass_type = Array2::from_shape_fn((m, N_TYPES), |(i, t)| {
                    sub_mass(&columns, &offset_sub, &len_sub, &mass_table, ss[i], t) as f32
                });
                write_ds(&cctx, &subgroup, "Subhalo", "SubhaloMassType", &mass_type)?;
                let half = Array2::from_shape_fn((m, N_TYPES), |(i, t)| {
                    half_mass_radius_code(galaxies[order[ss[i]]].galaxy, t, to_code_length) as f32
                });
                write_ds(&cctx, &subgroup, "Subhalo", "SubhaloHalfmassRadType", &half)?;
                let sfr = ss
                    .iter()
                    .map(|&s| {
                        galaxies[order[s]]
                            .galaxy
                            .species(Species::Gas)
                            .and_then(|g| g.field(ScalarField::SfrMsunPerYr))
                            .map_or(0.0, |v| v.sum()) as f32
                    })
                    .collect::<Array1<f32>>();
                write_ds(&cctx, &subgroup, "Subhalo", "SubhaloSFR", &sfr)?;
            }
        }

        // Offsets (AURIGA has no offsets file).
        if params.auriga_layout {
            return Ok(());
        }
        let path = layout.offsets_file();
        let tmp = stage(&path, &mut staged)?;
        let cctx = Ctx { path: &tmp };
        let file = hdf5::File::create(&tmp).map_err(|e| cctx.hdf5("creating the file", e))?;
        let by_type =
            |rows: &[[u64; N_TYPES]]| Array2::from_shape_fn((rows.len(), N_TYPES), |(i, t)| rows[i][t] as i64);
        let g = file.create_group("Group").map_err(|e| cctx.hdf5("creating group Group", e))?;
        write_ds(&cctx, &g, "Group", "SnapByType", &by_type(&group_offset))?;
        let s = file.create_group("Subhalo").map_err(|e| cctx.hdf5("creating group Subhalo", e))?;
        write_ds(&cctx, &s, "Subhalo", "SnapByType", &by_type(&offset_sub))?;
        let f = file.create_group("FileOffsets").map_err(|e| cctx.hdf5("creating group FileOffsets", e))?;
        write_ds(&cctx, &f, "FileOffsets", "Group", &Array1::from(file_offsets_group))?;
        write_ds(&cctx, &f, "FileOffsets", "Subhalo", &Array1::from(file_offsets_sub))?;
        let snap = Array2::from_shape_fn((file_offsets_snap.len(), N_TYPES), |(c, t)| file_offsets_snap[c][t]);
        write_ds(&cctx, &f, "FileOffsets", "SnapByType", &snap)?;
        Ok(())
    })();
    finish_staged(&staged, result)?;
    let mut offset_type = vec![[0u64; N_TYPES]; galaxies.len()];
    let mut len_type = vec![[0u64; N_TYPES]; galaxies.len()];
    for (sub, &i) in order.iter().enumerate() {
        offset_type[i] = offset_sub[sub];
        len_type[i] = len_sub[sub];
    }
    Ok(TngBoxWritten { layout, subhalo_ids, group_ids, offset_type, len_type })
}

#[derive(Debug, Default)]
struct TypeColumns {
    coords: Vec<f64>,
    vel: Vec<f32>,
    mass: Vec<f64>,
    mass_in_table: bool,
    ids: Vec<u64>,
    fields: Vec<&'static str>,
    extra: std::collections::BTreeMap<&'static str, Vec<f32>>,
}

/// The optional datasets written per species.
fn wanted_written(species: Species) -> &'static [&'static str] {
    match species {
        Species::Gas => &[
            "Potential",
            "GFM_Metallicity",
            "StarFormationRate",
            "Density",
            "InternalEnergy",
            "ElectronAbundance",
            "NeutralHydrogenAbundance",
        ],
        Species::Stars => &["Potential", "GFM_Metallicity", "GFM_StellarFormationTime", "GFM_StellarPhotometrics"],
        Species::Dm | Species::Bh => &["Potential"],
    }
}

/// Whether the particles carry what a dataset is made from.
fn has_source(p: &Particles, name: &str) -> bool {
    match name {
        "Potential" => p.field(ScalarField::PotentialKms2).is_some(),
        "GFM_Metallicity" => p.field(ScalarField::Metallicity).is_some(),
        "StarFormationRate" => p.field(ScalarField::SfrMsunPerYr).is_some(),
        "Density" => p.field(ScalarField::DensityMsunPerKpc3).is_some(),
        "InternalEnergy" | "ElectronAbundance" => p.field(ScalarField::TemperatureK).is_some(),
        "NeutralHydrogenAbundance" => {
            p.field(ScalarField::HiMassMsun).is_some()
                && p.field(ScalarField::TemperatureK).is_some()
                && p.field(ScalarField::DensityMsunPerKpc3).is_some()
        }
        "GFM_StellarFormationTime" => p.field(ScalarField::AgeGyr).is_some(),
        "GFM_StellarPhotometrics" => physics::PHOTOMETRIC_BANDS.iter().all(|(band, _, _)| p.luminosity(band).is_some()),
        _ => false,
    }
}

/// Electron abundance written for a temperature: ionised (1 + 2 He/H electrons per H: 1.158) above 1e4 K, else 0.
pub(crate) fn electron_abundance_for(temperature_k: f64) -> f64 {
    if temperature_k > 1e4 {
        1.0 + (1.0 - physics::HYDROGEN_MASS_FRACTION) / (2.0 * physics::HYDROGEN_MASS_FRACTION)
    } else {
        0.0
    }
}

/// A dataset's values (row-major) for particles `p`, in TNG units.
fn encode_field(
    ctx: &Ctx<'_>,
    species: Species,
    name: &str,
    p: &Particles,
    a: f64,
    h: f64,
    cosmology: &FlatLcdm,
) -> Result<Vec<f32>, SnapshotError> {
    let field = |f: ScalarField| p.field(f).map(|v| v.to_vec()).unwrap_or_default();
    let density_to_code = a.powi(3) / (1e10 * h * h);
    Ok(match name {
        "Potential" => field(ScalarField::PotentialKms2).iter().map(|v| (v * a) as f32).collect(),
        "GFM_Metallicity" => field(ScalarField::Metallicity).iter().map(|&v| v as f32).collect(),
        "StarFormationRate" => field(ScalarField::SfrMsunPerYr).iter().map(|&v| v as f32).collect(),
        "Density" => field(ScalarField::DensityMsunPerKpc3).iter().map(|v| (v * density_to_code) as f32).collect(),
        "ElectronAbundance" => {
            field(ScalarField::TemperatureK).iter().map(|&t| electron_abundance_for(t) as f32).collect()
        }
        "InternalEnergy" => field(ScalarField::TemperatureK)
            .iter()
            .map(|&t| physics::internal_energy_km2_s2(t, electron_abundance_for(t)) as f32)
            .collect(),
        "NeutralHydrogenAbundance" => {
            let (hi, t, rho) = (
                field(ScalarField::HiMassMsun),
                field(ScalarField::TemperatureK),
                field(ScalarField::DensityMsunPerKpc3),
            );
            let sfr = p.field(ScalarField::SfrMsunPerYr);
            let mut warned = false;
            (0..p.len())
                .map(|i| {
                    let cell = physics::GasCell {
                        mass_msun: p.mass_msun()[i],
                        density_msun_per_kpc3: rho[i],
                        temperature_k: t[i],
                        electron_abundance: electron_abundance_for(t[i]),
                        neutral_fraction: 1.0,
                        sfr_msun_per_yr: sfr.map(|s| s[i]),
                    };
                    if cell.is_star_forming() && !warned {
                        warned = true;
                        tracing::warn!(
                            "star-forming gas: the HI recipe takes it fully neutral, its HI mass cannot be encoded"
                        );
                    }
                    let full = cell.hi_mass_msun();
                    (if full > 0.0 { (hi[i] / full).clamp(0.0, 1.0) } else { 0.0 }) as f32
                })
                .collect()
        }
        "GFM_StellarFormationTime" => {
            let now = cosmology.cosmic_time_gyr(a);
            let mut out = Vec::with_capacity(p.len());
            for (i, &age) in field(ScalarField::AgeGyr).iter().enumerate() {
                if age.is_nan() || age >= now {
                    return Err(ctx.bad_field(
                        &format!("{species}/age_gyr[{i}]"),
                        format!("an age below the universe's {now} Gyr"),
                        format!("{age}"),
                    ));
                }
                out.push(cosmology.scale_factor_at_gyr(now - age) as f32);
            }
            out
        }
        "GFM_StellarPhotometrics" => {
            let mut out = vec![f32::NAN; p.len() * physics::PHOTOMETRIC_COLUMNS];
            for (band, col, _) in physics::PHOTOMETRIC_BANDS {
                if let Some(lum) = p.luminosity(band) {
                    for (i, l) in lum.lum_lsun.iter().enumerate() {
                        out[physics::PHOTOMETRIC_COLUMNS * i + col] = (lum.solar_abs_mag_ab - 2.5 * l.log10()) as f32;
                    }
                }
            }
            out
        }
        _ => Vec::new(),
    })
}

/// Mass of type `t` in subhalo `s`, 1e10 Msun/h.
fn sub_mass(
    columns: &[TypeColumns],
    offset: &[[u64; N_TYPES]],
    len: &[[u64; N_TYPES]],
    mass_table: &[f64; N_TYPES],
    s: usize,
    t: usize,
) -> f64 {
    let (lo, n) = (offset[s][t] as usize, len[s][t] as usize);
    if columns[t].mass_in_table {
        mass_table[t] * n as f64
    } else {
        columns[t].mass[lo..lo + n].iter().sum()
    }
}

/// Half-mass radius of type `t` about the galaxy centre in ckpc/h (0 without particles).
fn half_mass_radius_code(galaxy: &Galaxy, t: usize, to_code_length: f64) -> f64 {
    let Some(species) = Species::ALL.into_iter().find(|&s| part_type(s) == t) else { return 0.0 };
    let Some(p) = galaxy.species(species).filter(|p| !p.is_empty()) else { return 0.0 };
    let mut rm: Vec<(f64, f64)> = p.radii_kpc().iter().copied().zip(p.mass_msun().iter().copied()).collect();
    rm.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total: f64 = rm.iter().map(|x| x.1).sum();
    let mut acc = 0.0;
    for (r, m) in rm {
        acc += m;
        if acc >= 0.5 * total {
            return r * to_code_length;
        }
    }
    0.0
}

/// Ends an atomic multi-file write: when `result` is Ok, renames every staged temporary file into place; otherwise
/// (or when a rename fails) removes the temporary files and returns the error.
pub(crate) fn finish_staged(
    staged: &[(PathBuf, PathBuf)],
    result: Result<(), SnapshotError>,
) -> Result<(), SnapshotError> {
    let result = result.and_then(|()| {
        for (tmp, path) in staged {
            std::fs::rename(tmp, path).map_err(|e| SnapshotError::Io {
                path: path.clone(),
                context: "renaming into place".into(),
                source: e,
            })?;
        }
        Ok(())
    });
    if result.is_err() {
        for (tmp, _) in staged {
            // Best effort: temporary files are garbage whatever happened.
            let _ = std::fs::remove_file(tmp);
        }
    }
    result
}

/// Rows `[lo, hi)` of chunk `c` when `n` rows are split evenly over `n_chunks`.
fn split(n: u64, n_chunks: u64, c: u64) -> (u64, u64) {
    (n * c / n_chunks, n * (c + 1) / n_chunks)
}

/// Registers `path` for an atomic multi-file write: creates its folder and returns the temporary file to write, which
/// [`finish_staged`] later renames into place.
pub(crate) fn stage(path: &Path, staged: &mut Vec<(PathBuf, PathBuf)>) -> Result<PathBuf, SnapshotError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| SnapshotError::Io {
            path: path.to_owned(),
            context: "creating the parent folder".into(),
            source: e,
        })?;
    }
    let tmp = temporary_path(path);
    staged.push((tmp.clone(), path.to_owned()));
    Ok(tmp)
}

/// Writes attribute `name` of `loc`: a scalar for one value, an array otherwise.
pub(crate) fn write_attr<T: H5Type>(
    ctx: &Ctx<'_>,
    loc: &hdf5::Location,
    name: &str,
    values: &[T],
) -> Result<(), SnapshotError> {
    let result = if values.len() == 1 {
        loc.new_attr::<T>().create(name).and_then(|a| a.write_scalar(&values[0]))
    } else {
        loc.new_attr_builder().with_data(values).create(name).map(|_| ())
    };
    result.map_err(|e| ctx.hdf5(&format!("writing attribute Header/{name}"), e))
}

fn write_common_header(
    ctx: &Ctx<'_>,
    header: &hdf5::Group,
    params: &TngBoxParams,
    box_code: f64,
) -> Result<(), SnapshotError> {
    let a = params.scale_factor;
    write_attr(ctx, header, "Time", &[a])?;
    write_attr(ctx, header, "Redshift", &[1.0 / a - 1.0])?;
    write_attr(ctx, header, "BoxSize", &[box_code])?;
    write_attr(ctx, header, "HubbleParam", &[params.hubble_param])?;
    write_attr(ctx, header, "Omega0", &[params.omega_matter])?;
    write_attr(ctx, header, "OmegaLambda", &[params.omega_lambda])?;
    write_attr(ctx, header, "Flag_DoublePrecision", &[0i32])
}

/// Writes dataset `gname/name` of `group` from an array view.
pub(crate) fn write_ds<'d, T, A, D>(
    ctx: &Ctx<'_>,
    group: &hdf5::Group,
    gname: &str,
    name: &str,
    data: A,
) -> Result<(), SnapshotError>
where
    T: H5Type + 'd,
    A: Into<ndarray::ArrayView<'d, T, D>>,
    D: ndarray::Dimension,
{
    let view: ndarray::ArrayView<'d, T, D> = data.into();
    group
        .new_dataset_builder()
        .with_data(&view)
        .create(name)
        .map(|_| ())
        .map_err(|e| ctx.hdf5(&format!("writing dataset {gname}/{name}"), e))
}
