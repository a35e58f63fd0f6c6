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
//! Every file is written under a temporary name beside its destination and all are committed together once all are
//! written (`galmass_core::atomic::AtomicFileSet`): a failure leaves no file of the box in place and no temporary.
//! SubhaloHalfmassRadType is each type's half-mass radius counted from the galaxy's particles.
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

use std::path::Path;

use galmass_core::atomic::AtomicFileSet;
use galmass_core::cosmology::Cosmology;
use galmass_core::galaxy::{log_spaced_radii, TruthProfiles, MIN_TRUTH_RADII};
use galmass_core::{CoreError, Galaxy, Particles, ScalarField, Species};
use ndarray::{Array1, Array2};

use super::catalogue::TngLayout;
use super::physics;
use super::{part_type, N_TYPES};
use crate::error::SnapshotError;
use crate::gadget_hdf5::write::{electron_abundance_for, int32, split, write_cosmology, write_counts, write_rows};
use crate::gadget_hdf5::Ctx;
pub use crate::placed::PlacedGalaxy;

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
    let positive = |x: f64| x > 0.0 && x.is_finite();
    let cosmology = Cosmology::new(params.hubble_param, params.omega_matter, params.omega_lambda)
        .ok()
        .filter(|_| {
            positive(params.scale_factor)
                && positive(params.box_size_kpc)
                && params.n_snapshot_chunks > 0
                && params.n_catalogue_chunks > 0
        })
        .ok_or_else(|| {
            ctx.malformed(
                "params",
                format!(
                    "need a Lambda-CDM cosmology, a > 0, a positive box and at least one chunk each, got {params:?}"
                ),
            )
        })?;
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

    let mut files = AtomicFileSet::new();
    // Snapshot chunks.
    let n_chunks = params.n_snapshot_chunks as u64;
    let mut file_offsets_snap = Vec::new();
    for c in 0..n_chunks {
        let path = layout.snapshot_chunk(c);
        let tmp = files.stage(&path)?;
        // Errors name the destination, not its temporary.
        let cctx = Ctx { path: &path };
        let file = cctx.create(&tmp)?;
        let this_file: [u64; N_TYPES] = std::array::from_fn(|t| {
            let (lo, hi) = split(totals[t], n_chunks, c);
            hi - lo
        });
        let starts: [u64; N_TYPES] = std::array::from_fn(|t| split(totals[t], n_chunks, c).0);
        file_offsets_snap.push(starts.map(|s| s as i64));
        let header = cctx.create_group(&file, "Header")?;
        write_counts(&cctx, &header, this_file, totals, mass_table, n_chunks)?;
        write_cosmology(&cctx, &header, a, box_code, &cosmology)?;
        for (t, col) in columns.iter().enumerate() {
            let (lo, hi) = split(totals[t], n_chunks, c);
            if hi == lo {
                continue;
            }
            let range = (lo as usize, hi as usize);
            let gname = format!("PartType{t}");
            let group = cctx.create_group(&file, &gname)?;
            write_rows(&cctx, &group, &gname, "Coordinates", &col.coords, 3, range)?;
            write_rows(&cctx, &group, &gname, "Velocities", &col.vel, 3, range)?;
            if !col.mass_in_table {
                let mass: Vec<f32> = col.mass.iter().map(|&m| m as f32).collect();
                write_rows(&cctx, &group, &gname, "Masses", &mass, 1, range)?;
            }
            write_rows(&cctx, &group, &gname, "ParticleIDs", &col.ids, 1, range)?;
            for name in &col.fields {
                let values = col.extra.get(name).map(Vec::as_slice).unwrap_or_default();
                write_rows(&cctx, &group, &gname, name, values, super::field_width(name), range)?;
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
        let tmp = files.stage(&path)?;
        let cctx = Ctx { path: &path };
        let file = cctx.create(&tmp)?;
        let (g0, g1) = split(n_groups, n_cat, c);
        let (s0, s1) = split(n_subs, n_cat, c);
        file_offsets_group.push(g0 as i64);
        file_offsets_sub.push(s0 as i64);
        let int = |field: &str, n: u64| int32(&cctx, field, n);
        let header = cctx.create_group(&file, "Header")?;
        cctx.write_attr(&header, "Ngroups_ThisFile", &[int("Header/Ngroups_ThisFile", g1 - g0)?])?;
        cctx.write_attr(&header, "Ngroups_Total", &[int("Header/Ngroups_Total", n_groups)?])?;
        cctx.write_attr(&header, "Nsubgroups_ThisFile", &[int("Header/Nsubgroups_ThisFile", s1 - s0)?])?;
        cctx.write_attr(&header, "Nsubgroups_Total", &[int("Header/Nsubgroups_Total", n_subs)?])?;
        cctx.write_attr(&header, "NumFiles", &[int("Header/NumFiles", n_cat)?])?;
        write_cosmology(&cctx, &header, a, box_code, &cosmology)?;
        let group = cctx.create_group(&file, "Group")?;
        if g1 > g0 {
            let gs: Vec<usize> = (g0 as usize..g1 as usize).collect();
            let m = gs.len();
            let by_type = |f: &dyn Fn(usize, usize) -> f64| Array2::from_shape_fn((m, N_TYPES), |(i, t)| f(gs[i], t));
            let per_group = |f: &dyn Fn(usize) -> i32| gs.iter().map(|&g| f(g)).collect::<Array1<i32>>();
            cctx.write_ds(
                &group,
                "Group",
                "GroupLenType",
                &by_type(&|g, t| group_len[g][t] as f64).mapv(|v| v as i32),
            )?;
            cctx.write_ds(&group, "Group", "GroupLen", &per_group(&|g| group_len[g].iter().sum::<u64>() as i32))?;
            cctx.write_ds(&group, "Group", "GroupFirstSub", &per_group(&|g| group_first_sub[g] as i32))?;
            cctx.write_ds(&group, "Group", "GroupNsubs", &per_group(&|g| group_nsubs[g] as i32))?;
            let pos = Array2::from_shape_fn((m, 3), |(i, k)| {
                let centre = usize::try_from(group_first_sub[gs[i]])
                    .ok()
                    .and_then(|sub| order.get(sub))
                    .map_or(0.0, |&gal| galaxies[gal].centre_kpc[k]);
                ((centre * to_code_length).rem_euclid(box_code)) as f32
            });
            cctx.write_ds(&group, "Group", "GroupPos", &pos)?;
            let mass_type = by_type(&|g, t| {
                (0..order.len())
                    .filter(|&s| group_of_sub[s] as usize == g)
                    .map(|s| sub_mass(&columns, &offset_sub, &len_sub, &mass_table, s, t))
                    .sum::<f64>()
            })
            .mapv(|v| v as f32);
            cctx.write_ds(&group, "Group", "GroupMassType", &mass_type)?;
        }
        let subgroup = cctx.create_group(&file, "Subhalo")?;
        if s1 > s0 {
            let ss: Vec<usize> = (s0 as usize..s1 as usize).collect();
            let m = ss.len();
            let placed = |i: usize| &galaxies[order[ss[i]]];
            cctx.write_ds(
                &subgroup,
                "Subhalo",
                "SubhaloLenType",
                &Array2::from_shape_fn((m, N_TYPES), |(i, t)| len_sub[ss[i]][t] as i32),
            )?;
            cctx.write_ds(
                &subgroup,
                "Subhalo",
                "SubhaloLen",
                &ss.iter().map(|&s| len_sub[s].iter().sum::<u64>() as i32).collect::<Array1<i32>>(),
            )?;
            cctx.write_ds(
                &subgroup,
                "Subhalo",
                "SubhaloGrNr",
                &ss.iter().map(|&s| group_of_sub[s] as i32).collect::<Array1<i32>>(),
            )?;
            cctx.write_ds(&subgroup, "Subhalo", "SubhaloParent", &Array1::<i32>::zeros(m))?;
            cctx.write_ds(&subgroup, "Subhalo", "SubhaloFlag", &Array1::<u8>::ones(m))?;
            let pos = Array2::from_shape_fn((m, 3), |(i, k)| {
                ((placed(i).centre_kpc[k] * to_code_length).rem_euclid(box_code)) as f32
            });
            cctx.write_ds(&subgroup, "Subhalo", "SubhaloPos", &pos)?;
            let vel = Array2::from_shape_fn((m, 3), |(i, k)| placed(i).velocity_kms[k] as f32);
            cctx.write_ds(&subgroup, "Subhalo", "SubhaloVel", &vel)?;
            let mass_type = Array2::from_shape_fn((m, N_TYPES), |(i, t)| {
                sub_mass(&columns, &offset_sub, &len_sub, &mass_table, ss[i], t) as f32
            });
            cctx.write_ds(&subgroup, "Subhalo", "SubhaloMassType", &mass_type)?;
            let mut half = Array2::<f32>::zeros((m, N_TYPES));
            for i in 0..m {
                let radii = half_mass_radii_kpc(placed(i).galaxy).map_err(|e| cctx.invalid("Subhalo", e))?;
                for t in 0..N_TYPES {
                    half[[i, t]] = (radii[t] * to_code_length) as f32;
                }
            }
            cctx.write_ds(&subgroup, "Subhalo", "SubhaloHalfmassRadType", &half)?;
            let sfr = (0..m)
                .map(|i| {
                    placed(i)
                        .galaxy
                        .species(Species::Gas)
                        .and_then(|g| g.field(ScalarField::SfrMsunPerYr))
                        .map_or(0.0, |v| v.sum()) as f32
                })
                .collect::<Array1<f32>>();
            cctx.write_ds(&subgroup, "Subhalo", "SubhaloSFR", &sfr)?;
        }
    }

    // Offsets (AURIGA has no offsets file).
    if !params.auriga_layout {
        let path = layout.offsets_file();
        let tmp = files.stage(&path)?;
        let cctx = Ctx { path: &path };
        let file = cctx.create(&tmp)?;
        let by_type =
            |rows: &[[u64; N_TYPES]]| Array2::from_shape_fn((rows.len(), N_TYPES), |(i, t)| rows[i][t] as i64);
        let g = cctx.create_group(&file, "Group")?;
        cctx.write_ds(&g, "Group", "SnapByType", &by_type(&group_offset))?;
        let s = cctx.create_group(&file, "Subhalo")?;
        cctx.write_ds(&s, "Subhalo", "SnapByType", &by_type(&offset_sub))?;
        let f = cctx.create_group(&file, "FileOffsets")?;
        cctx.write_ds(&f, "FileOffsets", "Group", &Array1::from(file_offsets_group))?;
        cctx.write_ds(&f, "FileOffsets", "Subhalo", &Array1::from(file_offsets_sub))?;
        let snap = Array2::from_shape_fn((file_offsets_snap.len(), N_TYPES), |(c, t)| file_offsets_snap[c][t]);
        cctx.write_ds(&f, "FileOffsets", "SnapByType", &snap)?;
    }
    files.commit()?;
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

/// A dataset's values (row-major) for particles `p`, in TNG units.
fn encode_field(
    ctx: &Ctx<'_>,
    species: Species,
    name: &str,
    p: &Particles,
    a: f64,
    h: f64,
    cosmology: &Cosmology,
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

/// Half-mass radius of each Arepo type about the galaxy centre, kpc (0 for a type without particles), from the
/// galaxy's own particles (`TruthProfiles::from_particles`: the radius where the sorted cumulative mass reaches half,
/// interpolated between particles).
fn half_mass_radii_kpc(galaxy: &Galaxy) -> Result<[f64; N_TYPES], CoreError> {
    let mut out = [0.0; N_TYPES];
    if galaxy.all_species().all(|(_, p)| p.is_empty()) {
        return Ok(out);
    }
    let truth = TruthProfiles::from_particles(
        galaxy,
        log_spaced_radii(0.01, 1.0, MIN_TRUTH_RADII)?,
        "the subhalo's particles",
    )?;
    for species in Species::ALL {
        if let Some(r) = truth.half_mass_radius_kpc(Some(species)).filter(|r| r.is_finite()) {
            out[part_type(species)] = r;
        }
    }
    Ok(out)
}
