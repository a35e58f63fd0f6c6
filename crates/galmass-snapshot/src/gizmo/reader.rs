//! Reading Gizmo (FIRE-2) snapshots: chunks, species by index ranges, zoom galaxies (module docs of [`super`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use galmass_core::particles::weighted_mean_3d;
use galmass_core::{CoreError, Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use ndarray::{s, Array1};

use super::{part_types, GizmoHeader};
use crate::arepo::catalogue::unwrap_periodic;
use crate::arepo::physics;
use crate::arepo::rows_nx3;
use crate::error::SnapshotError;
use crate::extract::{centre_galaxy, shrinking_sphere_centre, CentreMethod};
use crate::gadget_hdf5::{open_layout, Chunk, Ctx, HeaderRules};
use crate::reader::{ParticleSelection, SnapshotFormat, SnapshotHeader, SnapshotReader};

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

/// Stars the shrinking spheres of [`GizmoSnapshot::read_zoom_galaxy`] stop at (fewer when the snapshot has fewer).
pub const SHRINK_MIN_STARS: usize = 100;

/// Raw numbers of one field over the rows read: width and row-major values.
#[derive(Debug, Default)]
struct Column {
    width: usize,
    values: Vec<f64>,
}

impl GizmoSnapshot {
    /// Opens a single file, a chunk `snapshot_NNN.C.hdf5` (all chunks are then used) or a `snapdir_NNN` folder.
    pub fn open(path: &Path) -> Result<Self, SnapshotError> {
        let (first, gizmo, chunks) = open_layout(path, HeaderRules::Gizmo)?;
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
            scale_factor: Some(a),
            redshift: Some(gizmo.redshift),
            hubble_param: Some(h),
            box_size_kpc: (gizmo.box_size > 0.0).then(|| gizmo.box_size * gizmo.length_to_kpc()),
            note: None,
            tipsy: None,
            units: Some(format!(
                "Gizmo/FIRE-2, {} chunk(s), a = {a}, h = {h}: Coordinates and SmoothingLength (kernel support radius) kpc \
                 comoving/h x a/h -> kpc; Velocities km/s sqrt(a) x sqrt(a) -> km/s; Masses (or MassTable) 1e10 Msun/h x \
                 1e10/h -> Msun; Density x 1e10 h^2/a^3 -> Msun/kpc^3; Potential x 1/a; InternalEnergy + ElectronAbundance \
                 -> K; HI = X_H NeutralHydrogenAbundance m; StellarFormationTime (scale factor) -> age (the header's Lambda-CDM); \
                 PartType1 high-res dark matter, PartType2/3 low-res",
                chunks.len()
            )),
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
                    return Err(tctx.missing("dataset", format!("{gname}/{required}")));
                }
            }
            if group.link_exists("Masses") {
                present.push("Masses");
            } else if self.gizmo.mass_table[ptype] <= 0.0 {
                return Err(tctx.missing("dataset", format!("{gname}/Masses (MassTable[{ptype}] is zero)")));
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
            let end = start.saturating_add(len);
            for chunk in &self.chunks {
                let Some((local_lo, local_hi, _)) = chunk.local_rows(ptype, start, end) else { continue };
                let ctx = Ctx { path: &chunk.path };
                let file = ctx.open()?;
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
                rows += local_hi - local_lo;
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
        for (name, c) in columns {
            if c.values.len() != n * c.width {
                return Err(ctx.bad_field(
                    &format!("{gname}/{name}"),
                    format!("{n} rows of {}", c.width),
                    format!("{} values", c.values.len()),
                ));
            }
        }
        let column = |name: &str| columns.get(name).map(|c| c.values.as_slice());
        let to_2d = |name: &str, factor: f64| {
            let values = column(name).unwrap_or_default();
            rows_nx3(values, n, factor).ok_or_else(|| {
                ctx.bad_field(&format!("{gname}/{name}"), format!("{n} rows of 3"), format!("{} values", values.len()))
            })
        };
        let pos = to_2d("Coordinates", h.length_to_kpc())?;
        let vel = to_2d("Velocities", h.velocity_to_kms())?;
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
                let cosmology = h.cosmology_for_ages(path)?;
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
                let com = weighted_mean_3d(stars.pos_kpc(), stars.mass_msun().view());
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
            redshift: self.gizmo.redshift,
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
pub(crate) fn hydrogen_mass_fraction(metals: Option<&[f64]>) -> f64 {
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
