//! Gizmo HDF5 snapshots (FIRE-2): single files, chunks `snapshot_NNN.C.hdf5` and `snapdir_NNN` folders, read by
//! species and index ranges with hyperslab selections ([`GizmoSnapshot::elements_read`] counts the numbers read),
//! zoom-galaxy extraction about a given or shrinking-sphere centre ([`GizmoSnapshot::read_zoom_galaxy`]), and a
//! multi-file writer ([`write_gizmo_snapshot`]).
//!
//! The header is the Gadget-family header Arepo also writes ([`GizmoHeader`] is [`crate::arepo::ArepoHeader`]), and
//! the derived quantities reuse [`crate::arepo::physics`].
//!
//! # Species
//! PartType0 gas, PartType1 high-resolution dark matter, PartType2 and PartType3 low-resolution dark matter (all
//! three read into [`Species::Dm`], with `high_res` true for PartType1 and false otherwise; a Dm index range counts
//! PartType1 rows, then PartType2, then PartType3), PartType4 stars, PartType5 black holes.
//!
//! # Units and fields (FIRE-2 conventions, as gizmo_analysis's `gizmo_io` converts them)
//! - Coordinates kpc comoving/h: `x a / h` -> physical kpc; Velocities km/s sqrt(a): `v sqrt(a)` -> peculiar km/s;
//!   Masses (or `Header/MassTable`) 1e10 Msun/h: `m 1e10 / h` -> Msun; Density 1e10 Msun/h / (kpc comoving/h)^3:
//!   `rho 1e10 h^2 / a^3` -> Msun/kpc^3; Potential `phi / a` -> (km/s)^2.
//! - SmoothingLength (gas): GIZMO's kernel length is the full extent of the kernel, the radius of compact support
//!   (gizmo_analysis: "size in snapshot is full extent of the kernel (radius of compact support)"), in kpc
//!   comoving/h; it is the galaxy file's convention already, so only `x a / h` applies (gizmo_analysis itself goes
//!   on to multiply by 0.5077 to report a mean inter-particle spacing; galmass does not).
//! - Temperature from InternalEnergy + ElectronAbundance with [`physics::temperature_k`] (X_H = 0.76 in the mean
//!   molecular weight; gizmo_analysis uses each particle's helium fraction, which differs by ~1% for FIRE's gas).
//! - HI mass `X_H f_n m` with f_n = NeutralHydrogenAbundance and `X_H = 1 - Metallicity[:,0] - Metallicity[:,1]`
//!   (total metals and helium) when Metallicity has the 11 columns, else 0.76. FIRE-2's NeutralHydrogenAbundance is
//!   the neutral fraction of hydrogen, atomic and molecular together (FIRE-2 snapshots store no molecular fraction):
//!   galmass takes all of it as HI, an upper bound on the atomic hydrogen in dense star-forming gas, and applies no
//!   pressure-based molecular split (unlike the TNG recipe).
//! - Metallicity: column 0 (total metal mass fraction) of the (N, 11) array (0 Z, 1 He, 2 C, 3 N, 4 O, 5 Ne, 6 Mg,
//!   7 Si, 8 S, 9 Ca, 10 Fe); a 1-d Metallicity is the total metallicity.
//! - StellarFormationTime: the scale factor at formation, turned into AgeGyr with the header's flat LCDM
//!   (Omega0, OmegaLambda, HubbleParam; [`physics::FlatLcdm`]). StarFormationRate is Msun/yr already.
//!
//! # Chunks and errors
//! As [`crate::arepo`]: with `NumFilesPerSnapshot` > 1 every chunk's `NumPart_ThisFile` must add up to
//! `NumPart_Total` (+ 2^32 `NumPart_Total_HighWord`); a dataset with fewer rows than its chunk announces is
//! [`SnapshotError::Truncated`], more rows or a wrong width [`SnapshotError::BadField`], a missing Coordinates,
//! Velocities or Masses (with `MassTable[N]` zero) [`SnapshotError::Missing`]; each names the chunk and
//! `PartTypeN/Field`.
//!
//! ```no_run
//! use galmass_snapshot::gizmo::GizmoSnapshot;
//! let snap = GizmoSnapshot::open("m12i/output/snapdir_600".as_ref())?;
//! let galaxy = snap.read_zoom_galaxy(None, 30.0)?;
//! println!("{} stars within 30 kpc, {} numbers read", galaxy.stars()?.len(), snap.elements_read());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use galmass_core::{CoreError, Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use ndarray::{s, Array1, Array2};

use crate::arepo::catalogue::unwrap_periodic;
use crate::arepo::physics::{self, FlatLcdm};
use crate::arepo::writer::{electron_abundance_for, write_attr, write_ds};
use crate::arepo::{chunk_layout, first_file_in, ArepoHeader, Chunk, Ctx};
use crate::error::SnapshotError;
use crate::extract::{centre_galaxy, shrinking_sphere_centre, CentreMethod};
use crate::reader::{ParticleSelection, SnapshotFormat, SnapshotHeader, SnapshotReader};

/// Number of Gizmo particle types.
pub const N_TYPES: usize = 6;
/// Columns of FIRE-2's Metallicity (Z, He, C, N, O, Ne, Mg, Si, S, Ca, Fe).
pub const METALLICITY_COLUMNS: usize = 11;
/// Stars the shrinking spheres of [`GizmoSnapshot::read_zoom_galaxy`] stop at (fewer when the snapshot has fewer).
pub const SHRINK_MIN_STARS: usize = 100;

/// The Gizmo `Header`: the same Gadget-family attributes and unit conversions as Arepo's.
pub type GizmoHeader = ArepoHeader;

/// The particle types of a species, in the order a species index counts them.
pub fn part_types(species: Species) -> &'static [usize] {
    match species {
        Species::Gas => &[0],
        Species::Dm => &[1, 2, 3],
        Species::Stars => &[4],
        Species::Bh => &[5],
    }
}

/// The optional fields galmass reads per type (Coordinates, Velocities, Masses, ParticleIDs always).
fn optional_fields(ptype: usize) -> &'static [&'static str] {
    match ptype {
        0 => &[
            "Potential",
            "Metallicity",
            "SmoothingLength",
            "Density",
            "InternalEnergy",
            "ElectronAbundance",
            "NeutralHydrogenAbundance",
            "StarFormationRate",
        ],
        4 => &["Potential", "Metallicity", "StellarFormationTime"],
        _ => &["Potential"],
    }
}

/// A Gizmo snapshot opened for reading (every chunk's header read; particles read on request).
#[derive(Debug)]
pub struct GizmoSnapshot {
    header: SnapshotHeader,
    gizmo: GizmoHeader,
    chunks: Vec<Chunk>,
    elements_read: AtomicU64,
}

/// One file's header, its NumPart_ThisFile and its NumPart_Total (+ HighWord) when recorded.
type FileHeader = (GizmoHeader, [u64; N_TYPES], Option<[u64; N_TYPES]>);

fn read_file_header(path: &Path) -> Result<FileHeader, SnapshotError> {
    let ctx = Ctx { path };
    let file = ctx.open()?;
    let header = ctx.group(&file, "Header")?;
    let this_file: [i64; N_TYPES] = ctx
        .array_attr_opt(&header, "Header", "NumPart_ThisFile")?
        .ok_or_else(|| ctx.missing("attribute", "Header/NumPart_ThisFile"))?;
    let mut counts = [0u64; N_TYPES];
    for (k, &n) in this_file.iter().enumerate() {
        counts[k] = u64::try_from(n)
            .map_err(|_| ctx.malformed("Header/NumPart_ThisFile", format!("negative count {n} for PartType{k}")))?;
    }
    let low: Option<[u64; N_TYPES]> = ctx.array_attr_opt(&header, "Header", "NumPart_Total")?;
    let high: Option<[u64; N_TYPES]> = ctx.array_attr_opt(&header, "Header", "NumPart_Total_HighWord")?;
    let totals = low.map(|low| std::array::from_fn(|k| (low[k] & 0xffff_ffff) + (high.map_or(0, |h| h[k]) << 32)));
    let mass_table: [f64; N_TYPES] = ctx.array_attr_opt(&header, "Header", "MassTable")?.unwrap_or([0.0; N_TYPES]);
    let num_files: i64 = ctx.scalar_attr_opt(&header, "Header", "NumFilesPerSnapshot")?.unwrap_or(1);
    let time: f64 = ctx.scalar_attr(&header, "Header", "Time")?;
    let hubble_param: f64 = ctx.scalar_attr(&header, "Header", "HubbleParam")?;
    if !(time > 0.0 && hubble_param > 0.0) {
        return Err(ctx.malformed(
            "Header/Time",
            format!("needs a positive scale factor and HubbleParam, got a = {time}, h = {hubble_param}"),
        ));
    }
    let gizmo = GizmoHeader {
        num_part_total: totals.unwrap_or(counts),
        num_files_per_snapshot: u64::try_from(num_files.max(1)).unwrap_or(1),
        mass_table,
        hubble_param,
        time,
        redshift: ctx.scalar_attr_opt(&header, "Header", "Redshift")?.unwrap_or(1.0 / time - 1.0),
        box_size: ctx.scalar_attr_opt(&header, "Header", "BoxSize")?.unwrap_or(0.0),
        omega0: ctx.scalar_attr_opt(&header, "Header", "Omega0")?,
        omega_lambda: ctx.scalar_attr_opt(&header, "Header", "OmegaLambda")?,
    };
    Ok((gizmo, counts, totals))
}

/// Raw numbers of one field over the rows read: width and row-major values.
#[derive(Debug, Default)]
struct Column {
    width: usize,
    values: Vec<f64>,
}

impl GizmoSnapshot {
    /// Opens a single file, a chunk `snapshot_NNN.C.hdf5` (all chunks are then used) or a `snapdir_NNN` folder.
    pub fn open(path: &Path) -> Result<Self, SnapshotError> {
        let first = if path.is_dir() { first_file_in(path)? } else { path.to_owned() };
        let (mut gizmo, counts, totals) = read_file_header(&first)?;
        let (chunks, running) =
            chunk_layout(&first, gizmo.num_files_per_snapshot, counts, totals, |chunk| Ok(read_file_header(chunk)?.1))?;
        gizmo.num_part_total = running;
        let header = Self::describe(&first, &gizmo, &chunks)?;
        Ok(Self { header, gizmo, chunks, elements_read: AtomicU64::new(0) })
    }

    fn describe(first: &Path, gizmo: &GizmoHeader, chunks: &[Chunk]) -> Result<SnapshotHeader, SnapshotError> {
        let mut n_particles = BTreeMap::new();
        let mut fields = BTreeMap::new();
        for species in Species::ALL {
            let types = part_types(species);
            n_particles.insert(species, types.iter().map(|&t| gizmo.num_part_total[t]).sum());
            let mut names: Vec<String> = Vec::new();
            for &t in types {
                if let Some(chunk) = chunks.iter().find(|c| c.counts[t] > 0) {
                    let ctx = Ctx { path: &chunk.path };
                    let file = ctx.open()?;
                    let group = ctx.group(&file, &format!("PartType{t}"))?;
                    for name in group.member_names().map_err(|e| ctx.hdf5(&format!("listing group PartType{t}"), e))? {
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
            }
            if !names.is_empty() {
                fields.insert(species, names);
            }
        }
        let (a, h) = (gizmo.time, gizmo.hubble_param);
        Ok(SnapshotHeader {
            format: SnapshotFormat::Gizmo,
            path: first.to_owned(),
            n_particles,
            scale_factor: a,
            redshift: gizmo.redshift,
            hubble_param: Some(h),
            box_size_kpc: (gizmo.box_size > 0.0).then(|| gizmo.box_size * gizmo.length_to_kpc()),
            units: format!(
                "Gizmo/FIRE-2, {} chunk(s), a = {a}, h = {h}: Coordinates and SmoothingLength (kernel support radius) kpc \
                 comoving/h x a/h -> kpc; Velocities km/s sqrt(a) x sqrt(a) -> km/s; Masses (or MassTable) 1e10 Msun/h x \
                 1e10/h -> Msun; Density x 1e10 h^2/a^3 -> Msun/kpc^3; Potential x 1/a; InternalEnergy + ElectronAbundance \
                 -> K; HI = X_H NeutralHydrogenAbundance m; StellarFormationTime (scale factor) -> age (flat LCDM); \
                 PartType1 high-res dark matter, PartType2/3 low-res",
                chunks.len()
            ),
            fields,
        })
    }

    /// The header in the file's own units (totals over all chunks).
    pub fn gizmo_header(&self) -> &GizmoHeader {
        &self.gizmo
    }

    /// The chunk files, in order.
    pub fn chunk_paths(&self) -> Vec<&Path> {
        self.chunks.iter().map(|c| c.path.as_path()).collect()
    }

    /// Numbers read from particle datasets since opening (or the last reset): rows times width, summed over fields.
    pub fn elements_read(&self) -> u64 {
        self.elements_read.load(Ordering::Relaxed)
    }

    /// Sets [`GizmoSnapshot::elements_read`] back to zero.
    pub fn reset_elements_read(&self) {
        self.elements_read.store(0, Ordering::Relaxed);
    }

    /// Reads the rows `ranges` (within the type) of one particle type and converts them to physical units.
    fn read_type(&self, ptype: usize, ranges: &[(u64, u64)]) -> Result<Particles, SnapshotError> {
        let Some(template) = self.chunks.iter().find(|c| c.counts[ptype] > 0) else { return Ok(Particles::empty()) };
        if ranges.is_empty() {
            return Ok(Particles::empty());
        }
        let gname = format!("PartType{ptype}");
        let tctx = Ctx { path: &template.path };
        let mut present: Vec<&str> = vec!["Coordinates", "Velocities"];
        {
            let file = tctx.open()?;
            let group = tctx.group(&file, &gname)?;
            for required in ["Coordinates", "Velocities"] {
                if !group.link_exists(required) {
                    return Err(tctx.missing("dataset", &format!("{gname}/{required}")));
                }
            }
            if group.link_exists("Masses") {
                present.push("Masses");
            } else if self.gizmo.mass_table[ptype] <= 0.0 {
                return Err(tctx.missing("dataset", &format!("{gname}/Masses (MassTable[{ptype}] is zero)")));
            }
            present.extend(
                ["ParticleIDs"]
                    .into_iter()
                    .chain(optional_fields(ptype).iter().copied())
                    .filter(|f| group.link_exists(f)),
            );
        }
        let mut columns: BTreeMap<&str, Column> = BTreeMap::new();
        let mut ids: Vec<u64> = Vec::new();
        let mut rows = 0usize;
        for &(start, len) in ranges {
            let end = start + len;
            for chunk in &self.chunks {
                let (c0, c1) = (chunk.first[ptype], chunk.first[ptype] + chunk.counts[ptype]);
                let (lo, hi) = (start.max(c0), end.min(c1));
                if lo >= hi {
                    continue;
                }
                let ctx = Ctx { path: &chunk.path };
                let file = ctx.open()?;
                let (local_lo, local_hi) = ((lo - c0) as usize, (hi - c0) as usize);
                for &name in &present {
                    let full = format!("{gname}/{name}");
                    let ds = ctx.dataset(&file, &full)?;
                    let width = match name {
                        "Coordinates" | "Velocities" => 3,
                        // Metallicity: (N, 11) in FIRE-2, (N,) accepted.
                        "Metallicity" => match ds.shape().as_slice() {
                            [_, w] if *w >= 1 => *w,
                            _ => 1,
                        },
                        _ => 1,
                    };
                    ctx.check_rows(&ds, &full, chunk.counts[ptype], width)?;
                    let read_err = |e| ctx.hdf5(&format!("reading dataset {full}"), e);
                    if name == "ParticleIDs" {
                        let chunk_ids: Array1<u64> = ds.read_slice_1d(s![local_lo..local_hi]).map_err(read_err)?;
                        ids.extend(chunk_ids.iter().copied());
                    } else {
                        let is_2d = ds.ndim() == 2;
                        let values: Vec<f64> = if is_2d {
                            ds.read_slice_2d::<f64, _>(s![local_lo..local_hi, ..])
                                .map_err(read_err)?
                                .into_iter()
                                .collect()
                        } else {
                            ds.read_slice_1d::<f64, _>(s![local_lo..local_hi]).map_err(read_err)?.into_iter().collect()
                        };
                        let column = columns.entry(name).or_insert_with(|| Column { width, values: Vec::new() });
                        if column.width != width {
                            return Err(ctx.bad_field(
                                &full,
                                format!("{} columns, as in the first chunk read", column.width),
                                format!("{width} columns"),
                            ));
                        }
                        column.values.extend(values);
                    }
                    self.elements_read.fetch_add(((local_hi - local_lo) * width) as u64, Ordering::Relaxed);
                }
                rows += (hi - lo) as usize;
            }
        }
        self.convert(ptype, rows, &columns, present.contains(&"ParticleIDs").then_some(ids), &template.path)
    }

    fn convert(
        &self,
        ptype: usize,
        n: usize,
        columns: &BTreeMap<&str, Column>,
        ids: Option<Vec<u64>>,
        path: &Path,
    ) -> Result<Particles, SnapshotError> {
        if n == 0 {
            return Ok(Particles::empty());
        }
        let h = &self.gizmo;
        let ctx = Ctx { path };
        let gname = format!("PartType{ptype}");
        let invalid = |e| ctx.invalid(&gname, e);
        let column = |name: &str| columns.get(name).map(|c| c.values.as_slice());
        let to_2d = |values: &[f64], factor: f64| Array2::from_shape_fn((n, 3), |(i, k)| values[3 * i + k] * factor);
        let pos = to_2d(column("Coordinates").unwrap_or_default(), h.length_to_kpc());
        let vel = to_2d(column("Velocities").unwrap_or_default(), h.velocity_to_kms());
        let mass: Array1<f64> = match column("Masses") {
            Some(m) => m.iter().map(|v| v * h.mass_to_msun()).collect(),
            None => Array1::from_elem(n, h.mass_table[ptype] * h.mass_to_msun()),
        };
        let mut p = Particles::new(pos, vel, mass).map_err(invalid)?;
        if let Some(ids) = ids {
            p.set_ids(Array1::from(ids)).map_err(invalid)?;
        }
        if (1..=3).contains(&ptype) {
            p.set_high_res(Array1::from_elem(n, ptype == 1)).map_err(invalid)?;
        }
        let scaled =
            |name: &str, factor: f64| column(name).map(|v| v.iter().map(|x| x * factor).collect::<Array1<f64>>());
        if let Some(phi) = scaled("Potential", h.potential_to_kms2()) {
            p.set_field(ScalarField::PotentialKms2, phi).map_err(invalid)?;
        }
        let metals = columns.get("Metallicity");
        if let Some(m) = metals {
            p.set_field(ScalarField::Metallicity, (0..n).map(|i| m.values[m.width * i]).collect()).map_err(invalid)?;
        }
        if ptype == 0 {
            if let Some(hsml) = scaled("SmoothingLength", h.length_to_kpc()) {
                p.set_field(ScalarField::SmoothingLengthKpc, hsml).map_err(invalid)?;
            }
            if let Some(rho) = scaled("Density", h.density_to_msun_per_kpc3()) {
                p.set_field(ScalarField::DensityMsunPerKpc3, rho).map_err(invalid)?;
            }
            if let Some(sfr) = scaled("StarFormationRate", 1.0) {
                p.set_field(ScalarField::SfrMsunPerYr, sfr).map_err(invalid)?;
            }
            if let (Some(u), Some(x_e)) = (column("InternalEnergy"), column("ElectronAbundance")) {
                let t: Array1<f64> = u.iter().zip(x_e).map(|(&u, &x)| physics::temperature_k(u, x)).collect();
                p.set_field(ScalarField::TemperatureK, t).map_err(invalid)?;
            }
            if let Some(f_neutral) = column("NeutralHydrogenAbundance") {
                let hi: Array1<f64> = (0..n)
                    .map(|i| {
                        hydrogen_mass_fraction(metals.map(|m| &m.values[m.width * i..m.width * (i + 1)]))
                            * f_neutral[i].clamp(0.0, 1.0)
                            * p.mass_msun()[i]
                    })
                    .collect();
                p.set_field(ScalarField::HiMassMsun, hi).map_err(invalid)?;
            }
        }
        if ptype == 4 {
            if let Some(a_form) = column("StellarFormationTime") {
                let cosmology = h.cosmology().filter(FlatLcdm::is_valid).ok_or_else(|| {
                    ctx.malformed("Header/Omega0", "stellar ages need a flat LCDM cosmology (Omega0 + OmegaLambda = 1)")
                })?;
                if let Some((i, bad)) =
                    a_form.iter().enumerate().find(|(_, &x)| !(x > 0.0 && x <= h.time * (1.0 + 1e-6)))
                {
                    return Err(ctx.bad_field(
                        &format!("{gname}/StellarFormationTime[{i}]"),
                        format!("a scale factor in (0, {}]", h.time),
                        format!("{bad}"),
                    ));
                }
                let ages: Array1<f64> = a_form.iter().map(|&x| cosmology.age_gyr(x.min(h.time), h.time)).collect();
                p.set_field(ScalarField::AgeGyr, ages).map_err(invalid)?;
            }
        }
        Ok(p)
    }

    /// Species index ranges -> (type, ranges within the type).
    fn type_ranges(&self, species: Species, selection: &ParticleSelection) -> Vec<(usize, Vec<(u64, u64)>)> {
        let mut out = Vec::new();
        let mut offset = 0u64;
        for &t in part_types(species) {
            let n = self.gizmo.num_part_total[t];
            let ranges: Vec<(u64, u64)> = match selection {
                ParticleSelection::All => vec![(0, n)],
                ParticleSelection::Ranges(r) => r
                    .iter()
                    .filter_map(|&(start, len)| {
                        let (lo, hi) = (start.max(offset), start.saturating_add(len).min(offset + n));
                        (lo < hi).then(|| (lo - offset, hi - lo))
                    })
                    .collect(),
            };
            out.push((t, ranges.into_iter().filter(|r| r.1 > 0).collect()));
            offset += n;
        }
        out
    }

    /// The zoom galaxy: every particle within `radius_kpc` (physical) of `centre` (physical kpc in the snapshot
    /// frame; the shrinking-sphere centre of all stars when `None`, from their centre of mass and a sphere holding
    /// them all, down to [`SHRINK_MIN_STARS`]), read chunk by chunk, unwrapped across the periodic box, and centred
    /// with [`centre_galaxy`] on that centre (`CentreMethod::Given`; bulk velocity, orientation and truth from the
    /// particles kept). Meta: suite `gizmo`, the snapshot's redshift, source the first chunk's path.
    pub fn read_zoom_galaxy(&self, centre: Option<[f64; 3]>, radius_kpc: f64) -> Result<Galaxy, SnapshotError> {
        let path = self.header.path.clone();
        let ctx = Ctx { path: &path };
        if !(radius_kpc.is_finite() && radius_kpc > 0.0) {
            return Err(
                ctx.invalid("/", CoreError::invalid("radius_kpc", format!("must be positive, got {radius_kpc}")))
            );
        }
        let box_kpc = self.header.box_size_kpc.unwrap_or(0.0);
        let centre = match centre {
            Some(c) => c,
            None => {
                let stars = self.read_species(Species::Stars, &ParticleSelection::All)?;
                let (pos, mass) = (stars.pos_kpc(), stars.mass_msun());
                let total = mass.sum();
                let com: [f64; 3] = std::array::from_fn(|k| {
                    if total > 0.0 {
                        (0..stars.len()).map(|i| mass[i] * pos[[i, k]]).sum::<f64>() / total
                    } else {
                        0.0
                    }
                });
                let extent = stars
                    .pos_kpc()
                    .rows()
                    .into_iter()
                    .map(|r| (0..3).map(|k| (r[k] - com[k]).powi(2)).sum::<f64>().sqrt())
                    .fold(0.0f64, f64::max);
                let min_stars = SHRINK_MIN_STARS.min(stars.len().div_ceil(2)).max(1);
                shrinking_sphere_centre(&stars, extent.max(1e-3) * 1.001, min_stars)
                    .map_err(|e| ctx.invalid("PartType4", e))?
            }
        };
        let mut galaxy = Galaxy::new(GalaxyMeta {
            redshift: self.header.redshift,
            source: path.display().to_string(),
            ..GalaxyMeta::new("gizmo", 0)
        });
        for species in Species::ALL {
            let mut kept = Vec::new();
            for chunk in &self.chunks {
                // This chunk's rows of the species, in species index space.
                let mut offset = 0u64;
                let mut ranges = Vec::new();
                for &t in part_types(species) {
                    if chunk.counts[t] > 0 {
                        ranges.push((offset + chunk.first[t], chunk.counts[t]));
                    }
                    offset += self.gizmo.num_part_total[t];
                }
                if ranges.is_empty() {
                    continue;
                }
                let p =
                    unwrap_periodic(self.read_species(species, &ParticleSelection::Ranges(ranges))?, centre, box_kpc);
                let pos = p.pos_kpc();
                let inside: Vec<usize> = (0..p.len())
                    .filter(|&i| {
                        (0..3).map(|k| (pos[[i, k]] - centre[k]).powi(2)).sum::<f64>() <= radius_kpc * radius_kpc
                    })
                    .collect();
                kept.push(p.select(&inside).map_err(|e| ctx.invalid(species.group_name(), e))?);
            }
            let p = Particles::concatenate(kept).map_err(|e| ctx.invalid(species.group_name(), e))?;
            if !p.is_empty() {
                galaxy.set_species(species, p);
            }
        }
        centre_galaxy(&galaxy, &CentreMethod::Given { centre_kpc: centre }).map_err(|e| ctx.invalid("/", e))
    }
}

/// X_H = 1 - Z - Y from a Metallicity row with the helium column, else 0.76.
fn hydrogen_mass_fraction(metals: Option<&[f64]>) -> f64 {
    match metals {
        Some([z, y, ..]) => (1.0 - z - y).clamp(0.0, 1.0),
        _ => physics::HYDROGEN_MASS_FRACTION,
    }
}

impl SnapshotReader for GizmoSnapshot {
    fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    fn read_species(&self, species: Species, selection: &ParticleSelection) -> Result<Particles, SnapshotError> {
        let mut parts = Vec::new();
        for (t, ranges) in self.type_ranges(species, selection) {
            parts.push(self.read_type(t, &ranges)?);
        }
        Particles::concatenate(parts).map_err(|e| Ctx { path: &self.header.path }.invalid(species.group_name(), e))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Writer

/// A galaxy and where it goes in the snapshot.
#[derive(Debug, Clone, Copy)]
pub struct PlacedGalaxy<'a> {
    /// The galaxy (particles centred on it, physical units).
    pub galaxy: &'a Galaxy,
    /// Its centre in the snapshot, physical kpc.
    pub centre_kpc: [f64; 3],
    /// Its bulk velocity, km/s.
    pub velocity_kms: [f64; 3],
}

/// The snapshot to write.
#[derive(Debug, Clone, PartialEq)]
pub struct GizmoWriteParams {
    /// Snapshot number (`snapdir_NNN/snapshot_NNN.C.hdf5`).
    pub snap_num: u32,
    /// Files per snapshot (at least 1).
    pub n_files: usize,
    /// Scale factor a.
    pub scale_factor: f64,
    /// h.
    pub hubble_param: f64,
    /// Omega0.
    pub omega_matter: f64,
    /// OmegaLambda (flat: 1 - Omega0).
    pub omega_lambda: f64,
    /// Side of the periodic box, physical kpc.
    pub box_size_kpc: f64,
}

impl GizmoWriteParams {
    /// FIRE-2's Latte cosmology (h = 0.702, Omega0 = 0.272, OmegaLambda = 0.728; Wetzel et al. 2016) at z = 0 in a
    /// box of 60 Mpc/h (a choice: the zoom's parent-box size does not matter to galmass).
    pub fn fire2_like(snap_num: u32, n_files: usize) -> Self {
        Self {
            snap_num,
            n_files,
            scale_factor: 1.0,
            hubble_param: 0.702,
            omega_matter: 0.272,
            omega_lambda: 0.728,
            box_size_kpc: 60_000.0 / 0.702,
        }
    }

    /// The chunk files under `output_dir`: `snapdir_NNN/snapshot_NNN.C.hdf5`.
    pub fn chunk_paths(&self, output_dir: &Path) -> Vec<PathBuf> {
        let num = self.snap_num;
        (0..self.n_files.max(1))
            .map(|c| output_dir.join(format!("snapdir_{num:03}")).join(format!("snapshot_{num:03}.{c}.hdf5")))
            .collect()
    }
}

/// Solar mass fractions of C, N, O, Ne, Mg, Si, S, Ca, Fe (Asplund et al. 2009, as gizmo_analysis tabulates them),
/// and their total metal fraction: the written columns 2-10 are `Z` times these over the total.
const SOLAR_ELEMENTS: [f64; 9] = [2.38e-3, 0.70e-3, 5.79e-3, 1.26e-3, 0.70e-3, 0.67e-3, 0.31e-3, 0.064e-3, 1.29e-3];
const SOLAR_METALS: f64 = 0.0142;
/// Helium written in Metallicity[:,1]: `Y = 0.24 + 1.5 Z` (a linear enrichment law, a choice: the reader's HI recipe
/// uses the same column, so HI masses round-trip whatever it is).
fn helium_for(z: f64) -> f64 {
    0.24 + 1.5 * z
}

/// What [`write_gizmo_snapshot`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct GizmoWritten {
    /// The chunk files, in order.
    pub chunk_paths: Vec<PathBuf>,
    /// Particles per type over the snapshot (NumPart_Total).
    pub num_part_total: [u64; N_TYPES],
}

/// The Gizmo type a species' particle goes to (low-resolution dark matter to PartType2).
fn type_of(species: Species, high_res: bool) -> usize {
    match species {
        Species::Gas => 0,
        Species::Dm if high_res => 1,
        Species::Dm => 2,
        Species::Stars => 4,
        Species::Bh => 5,
    }
}

#[derive(Debug, Default)]
struct TypeRows {
    coords: Vec<f64>,
    vel: Vec<f32>,
    mass: Vec<f32>,
    ids: Vec<u64>,
    /// Optional datasets: name -> (width, values), kept only when every galaxy contributing rows has them.
    extra: BTreeMap<&'static str, (usize, Vec<f32>)>,
    n: usize,
    galaxies: usize,
}

/// One optional dataset: name, width, row-major values.
type Encoded = (&'static str, usize, Vec<f32>);

/// The optional datasets of a type that particles `p` can provide, with their values (row-major) in Gizmo units.
fn encode(
    ctx: &Ctx<'_>,
    galaxy: usize,
    p: &Particles,
    rows: &[usize],
    ptype: usize,
    params: &GizmoWriteParams,
    cosmology: &FlatLcdm,
) -> Result<Vec<Encoded>, SnapshotError> {
    let (a, h) = (params.scale_factor, params.hubble_param);
    let field = |f: ScalarField| p.field(f).map(|v| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>());
    let mut out = Vec::new();
    if let Some(phi) = field(ScalarField::PotentialKms2) {
        out.push(("Potential", 1, phi.iter().map(|v| (v * a) as f32).collect()));
    }
    if ptype != 0 && ptype != 4 {
        return Ok(out);
    }
    let metals = field(ScalarField::Metallicity);
    if let Some(z) = &metals {
        let mut values = Vec::with_capacity(z.len() * METALLICITY_COLUMNS);
        for &zi in z {
            values.push(zi as f32);
            values.push(helium_for(zi) as f32);
            values.extend(SOLAR_ELEMENTS.iter().map(|x| (zi * x / SOLAR_METALS) as f32));
        }
        out.push(("Metallicity", METALLICITY_COLUMNS, values));
    }
    if ptype == 4 {
        if let Some(ages) = field(ScalarField::AgeGyr) {
            let now = cosmology.cosmic_time_gyr(a);
            let mut values = Vec::with_capacity(ages.len());
            for (i, &age) in ages.iter().enumerate() {
                if age.is_nan() || age < 0.0 || age >= now {
                    return Err(ctx.bad_field(
                        &format!("galaxy {galaxy}: stars/age_gyr[{}]", rows[i]),
                        format!("an age in [0, {now}) Gyr"),
                        format!("{age}"),
                    ));
                }
                values.push(cosmology.scale_factor_at_gyr(now - age) as f32);
            }
            out.push(("StellarFormationTime", 1, values));
        }
        return Ok(out);
    }
    let length = h / a;
    if let Some(hsml) = field(ScalarField::SmoothingLengthKpc) {
        out.push(("SmoothingLength", 1, hsml.iter().map(|v| (v * length) as f32).collect()));
    }
    if let Some(rho) = field(ScalarField::DensityMsunPerKpc3) {
        let to_code = a.powi(3) / (1e10 * h * h);
        out.push(("Density", 1, rho.iter().map(|v| (v * to_code) as f32).collect()));
    }
    if let Some(sfr) = field(ScalarField::SfrMsunPerYr) {
        out.push(("StarFormationRate", 1, sfr.iter().map(|&v| v as f32).collect()));
    }
    if let Some(t) = field(ScalarField::TemperatureK) {
        out.push(("ElectronAbundance", 1, t.iter().map(|&t| electron_abundance_for(t) as f32).collect()));
        out.push((
            "InternalEnergy",
            1,
            t.iter().map(|&t| physics::internal_energy_km2_s2(t, electron_abundance_for(t)) as f32).collect(),
        ));
    }
    if let Some(hi) = field(ScalarField::HiMassMsun) {
        let values = rows
            .iter()
            .enumerate()
            .map(|(j, &i)| {
                // The reader's X_H, from the float32 columns actually written.
                let x_h = match &metals {
                    Some(z) => hydrogen_mass_fraction(Some(&[z[j] as f32 as f64, helium_for(z[j]) as f32 as f64])),
                    None => physics::HYDROGEN_MASS_FRACTION,
                };
                let full = x_h * p.mass_msun()[i];
                (if full > 0.0 { (hi[j] / full).clamp(0.0, 1.0) } else { 0.0 }) as f32
            })
            .collect();
        out.push(("NeutralHydrogenAbundance", 1, values));
    }
    Ok(out)
}

/// Writes `galaxies` as one Gizmo snapshot `output_dir/snapdir_NNN/snapshot_NNN.C.hdf5` in FIRE-2's units (the
/// reader's conversions inverted: positions `(centre + pos) h / a` wrapped into `[0, BoxSize)`, velocities
/// `(v + bulk) / sqrt(a)`, masses `m h / 1e10` in a Masses dataset for every type with MassTable zero, Potential
/// `phi a`, SmoothingLength `h_kpc h / a`, Density, ages as StellarFormationTime scale factors, temperatures as
/// InternalEnergy with ElectronAbundance 1.158 above 1e4 K and 0 below, HI masses as the NeutralHydrogenAbundance
/// the reader turns back into them, metallicity as 11 columns (Z, He = 0.24 + 1.5 Z, then Z in solar proportions)).
///
/// Gas goes to PartType0, dark matter to PartType1 (PartType2 where `high_res` is false), stars to PartType4, black
/// holes to PartType5. An optional dataset is written for a type only when every galaxy with particles of that type
/// has its source field. Particles without ids get running ids above the largest id given. Each type's rows are split
/// evenly over the files. Floats are float32 except Coordinates (float64). Every file is written under a temporary
/// name and all are renamed into place at the end; on error the temporary files are removed.
pub fn write_gizmo_snapshot(
    output_dir: &Path,
    params: &GizmoWriteParams,
    galaxies: &[PlacedGalaxy<'_>],
) -> Result<GizmoWritten, SnapshotError> {
    let paths = params.chunk_paths(output_dir);
    let first = paths[0].clone();
    let ctx = Ctx { path: &first };
    let (a, h) = (params.scale_factor, params.hubble_param);
    let cosmology = FlatLcdm { hubble_param: h, omega_matter: params.omega_matter, omega_lambda: params.omega_lambda };
    if !(a > 0.0 && cosmology.is_valid() && params.box_size_kpc > 0.0) {
        return Err(ctx.malformed("Header", format!("needs a > 0, a flat LCDM and a positive box, got {params:?}")));
    }
    let box_code = params.box_size_kpc * h / a;
    let mut types: Vec<TypeRows> = (0..N_TYPES).map(|_| TypeRows::default()).collect();
    let mut next_id = 1 + galaxies
        .iter()
        .flat_map(|g| g.galaxy.all_species())
        .filter_map(|(_, p)| p.ids().and_then(|v| v.iter().max().copied()))
        .max()
        .unwrap_or(0);
    for (g, placed) in galaxies.iter().enumerate() {
        for (species, p) in placed.galaxy.all_species() {
            for high_res in [true, false] {
                let ptype = type_of(species, high_res);
                if species != Species::Dm && !high_res {
                    continue;
                }
                let rows: Vec<usize> = (0..p.len())
                    .filter(|&i| species != Species::Dm || p.high_res().is_none_or(|f| f[i]) == high_res)
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                let extra = encode(&ctx, g, p, &rows, ptype, params, &cosmology)?;
                let t = &mut types[ptype];
                for &i in &rows {
                    for k in 0..3 {
                        t.coords.push(((placed.centre_kpc[k] + p.pos_kpc()[[i, k]]) * h / a).rem_euclid(box_code));
                        t.vel.push(((placed.velocity_kms[k] + p.vel_kms()[[i, k]]) / a.sqrt()) as f32);
                    }
                    t.mass.push((p.mass_msun()[i] * h / 1e10) as f32);
                    t.ids.push(match p.ids() {
                        Some(ids) => ids[i],
                        None => {
                            next_id += 1;
                            next_id - 1
                        }
                    });
                }
                // Keep only datasets every contributing galaxy has.
                let names: Vec<&str> = extra.iter().map(|e| e.0).collect();
                if t.galaxies == 0 {
                    t.extra = extra.into_iter().map(|(name, w, v)| (name, (w, v))).collect();
                } else {
                    t.extra.retain(|name, _| names.contains(name));
                    for (name, _, values) in extra {
                        if let Some((_, column)) = t.extra.get_mut(name) {
                            column.extend(values);
                        }
                    }
                }
                t.n += rows.len();
                t.galaxies += 1;
            }
        }
    }
    let totals: [u64; N_TYPES] = std::array::from_fn(|t| types[t].n as u64);
    let n_files = paths.len();
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> Result<(), SnapshotError> {
        for (c, path) in paths.iter().enumerate() {
            let tmp = crate::arepo::writer::stage(path, &mut staged)?;
            let cctx = Ctx { path: &tmp };
            let file = hdf5::File::create(&tmp).map_err(|e| cctx.hdf5("creating the file", e))?;
            let split = |n: usize| (n * c / n_files, n * (c + 1) / n_files);
            let this_file: [i32; N_TYPES] = std::array::from_fn(|t| {
                let (lo, hi) = split(types[t].n);
                (hi - lo) as i32
            });
            let header = file.create_group("Header").map_err(|e| cctx.hdf5("creating group Header", e))?;
            write_attr(&cctx, &header, "NumPart_ThisFile", &this_file)?;
            write_attr(&cctx, &header, "NumPart_Total", &totals.map(|n| (n & 0xffff_ffff) as u32))?;
            write_attr(&cctx, &header, "NumPart_Total_HighWord", &totals.map(|n| (n >> 32) as u32))?;
            write_attr(&cctx, &header, "MassTable", &[0.0f64; N_TYPES])?;
            write_attr(&cctx, &header, "Time", &[a])?;
            write_attr(&cctx, &header, "Redshift", &[1.0 / a - 1.0])?;
            write_attr(&cctx, &header, "BoxSize", &[box_code])?;
            write_attr(&cctx, &header, "NumFilesPerSnapshot", &[n_files as i32])?;
            write_attr(&cctx, &header, "Omega0", &[params.omega_matter])?;
            write_attr(&cctx, &header, "OmegaLambda", &[params.omega_lambda])?;
            write_attr(&cctx, &header, "HubbleParam", &[h])?;
            for (name, value) in [
                ("Flag_Sfr", 1),
                ("Flag_Cooling", 1),
                ("Flag_StellarAge", 1),
                ("Flag_Feedback", 1),
                ("Flag_DoublePrecision", 0),
                ("Flag_IC_Info", 3),
            ] {
                let value: i32 = value;
                write_attr(&cctx, &header, name, &[value])?;
            }
            write_attr(&cctx, &header, "Flag_Metals", &[METALLICITY_COLUMNS as i32])?;
            write_attr(&cctx, &header, "ComovingIntegrationOn", &[1i32])?;
            for (t, rows) in types.iter().enumerate() {
                let (lo, hi) = split(rows.n);
                if hi == lo {
                    continue;
                }
                let gname = format!("PartType{t}");
                let group = file.create_group(&gname).map_err(|e| cctx.hdf5(&format!("creating group {gname}"), e))?;
                let m = hi - lo;
                let coords = Array2::from_shape_vec((m, 3), rows.coords[3 * lo..3 * hi].to_vec())
                    .map_err(|e| cctx.malformed(&gname, e.to_string()))?;
                write_ds(&cctx, &group, &gname, "Coordinates", &coords)?;
                let vel = Array2::from_shape_vec((m, 3), rows.vel[3 * lo..3 * hi].to_vec())
                    .map_err(|e| cctx.malformed(&gname, e.to_string()))?;
                write_ds(&cctx, &group, &gname, "Velocities", &vel)?;
                write_ds(&cctx, &group, &gname, "Masses", &Array1::from(rows.mass[lo..hi].to_vec()))?;
                write_ds(&cctx, &group, &gname, "ParticleIDs", &Array1::from(rows.ids[lo..hi].to_vec()))?;
                for (name, (width, values)) in &rows.extra {
                    if *width == 1 {
                        write_ds(&cctx, &group, &gname, name, &Array1::from(values[lo..hi].to_vec()))?;
                    } else {
                        let data = Array2::from_shape_vec((m, *width), values[width * lo..width * hi].to_vec())
                            .map_err(|e| cctx.malformed(&gname, e.to_string()))?;
                        write_ds(&cctx, &group, &gname, name, &data)?;
                    }
                }
            }
        }
        Ok(())
    })();
    crate::arepo::writer::finish_staged(&staged, result)?;
    Ok(GizmoWritten { chunk_paths: paths, num_part_total: totals })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arepo::split_chunk_name;

    #[test]
    fn chunk_names_and_hydrogen_fraction() {
        assert_eq!(split_chunk_name("a/snapshot_600.3.hdf5".as_ref()), Some(("snapshot_600".into(), 3)));
        assert_eq!(split_chunk_name("a/snapshot_600.hdf5".as_ref()), None);
        assert_eq!(hydrogen_mass_fraction(None), 0.76);
        assert!((hydrogen_mass_fraction(Some(&[0.02, 0.27, 0.0])) - 0.71).abs() < 1e-12);
        let p = GizmoWriteParams::fire2_like(600, 2);
        assert!(p.chunk_paths("out".as_ref())[1].ends_with("snapdir_600/snapshot_600.1.hdf5"));
    }
}
