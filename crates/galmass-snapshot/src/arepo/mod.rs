//! Arepo HDF5 snapshots (IllustrisTNG, AURIGA): single files, API cutouts and multi-chunk snapshots
//! (`snapdir_NNN/snap_NNN.C.hdf5`), read by species and index ranges with hyperslab selections, so that only the
//! selected rows are read ([`ArepoSnapshot::elements_read`] counts them). Group catalogues and offsets are in
//! [`catalogue`], the TNG-layout writer in [`writer`], unit conventions and derived quantities in [`physics`].
//!
//! # Species and fields
//! PartType0 is gas, 1 dark matter, 4 stars, 5 black holes. In zooms (AURIGA), PartType2 and 3 are low-resolution dark
//! matter: dark matter then carries `high_res` flags (true for PartType1), a whole read appends types 2 and 3, index
//! ranges count PartType1 rows, and halo reads add the halo's own type-2 and type-3 rows (the high-resolution
//! fraction filter needs them). Every species gives
//! Coordinates (physical kpc), Velocities (peculiar km/s), Masses (Msun; from `Header/MassTable` when the dataset is
//! absent), ParticleIDs (ids) and Potential (`PotentialKms2`). Gas adds GFM_Metallicity, StarFormationRate,
//! Density, TemperatureK (InternalEnergy + ElectronAbundance) and HiMassMsun (with NeutralHydrogenAbundance, Density
//! and the temperature); stars add GFM_Metallicity, AgeGyr (GFM_StellarFormationTime) and luminosities in g, r, i, z
//! (GFM_StellarPhotometrics). The conversions are in [`physics`]. A species with no `PartTypeN` group gives empty
//! particles; an API cutout with no particle group at all gives empty particles for every species.
//!
//! Datasets the reader cannot do without (`Coordinates`; `Masses` when `MassTable[N]` is zero) are
//! [`SnapshotError::Missing`] when absent. API cutouts often carry only what was requested: a missing `Velocities`
//! gives zero velocities (with a warning; [`SnapshotHeader::fields`] lists what the file has), and the other fields are
//! simply left out of the particles.
//!
//! # Wind cells
//! PartType4 holds stars and wind cells (GFM_StellarFormationTime <= 0). Index ranges (and the offsets and lengths of
//! the group catalogue) count PartType4 rows, winds included, exactly as the file stores them; the wind cells are
//! dropped after reading, so the stars returned for a range can be fewer than its length, and
//! [`SnapshotHeader::n_particles`] counts PartType4 rows. Without GFM_StellarFormationTime (cutouts) every row is a
//! star.
//!
//! # Chunks and counts
//! `open` takes one file, any chunk `NAME.C.hdf5` of a multi-chunk snapshot, or a `snapdir_NNN` folder. With
//! `NumFilesPerSnapshot` > 1 and a chunk name, the chunks `NAME.0.hdf5` ... are all opened (headers only) and their
//! `NumPart_ThisFile` must add up to `NumPart_Total` (+ 2^32 `NumPart_Total_HighWord`); a single file (cutouts have no
//! NumPart_Total) is counted by its `NumPart_ThisFile`. A dataset with fewer rows than `NumPart_ThisFile` announces is
//! [`SnapshotError::Truncated`]; more rows, or a wrong width, is [`SnapshotError::BadField`]. Both name the chunk
//! file and `PartTypeN/Field`.
//!
//! ```no_run
//! use galmass_core::Species;
//! use galmass_snapshot::arepo::ArepoSnapshot;
//! use galmass_snapshot::reader::{ParticleSelection, SnapshotReader};
//! let snap = ArepoSnapshot::open("output/snapdir_099/snap_099.0.hdf5".as_ref())?;
//! let dm = snap.read_species(Species::Dm, &ParticleSelection::Ranges(vec![(1000, 500)]))?;
//! println!("{} dm particles, {} numbers read", dm.len(), snap.elements_read());
//! # Ok::<(), galmass_snapshot::SnapshotError>(())
//! ```

pub mod catalogue;
pub mod physics;
pub mod writer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use galmass_core::particles::BandLuminosity;
use galmass_core::{CoreError, Particles, ScalarField, Species};
use ndarray::{s, Array1, Array2};

use crate::error::SnapshotError;
use crate::gadget_hdf5::{open_layout, Chunk, Ctx, GadgetHeader, HeaderRules};
use crate::reader::{ParticleSelection, SnapshotFormat, SnapshotHeader, SnapshotReader};

/// Number of Arepo particle types.
pub use crate::gadget_hdf5::N_TYPES;

/// The Arepo particle type of a galmass species (0 gas, 1 dm, 4 stars, 5 bh).
pub fn part_type(species: Species) -> usize {
    match species {
        Species::Gas => 0,
        Species::Dm => 1,
        Species::Stars => 4,
        Species::Bh => 5,
    }
}

/// Low-resolution dark-matter types of zooms (AURIGA): read into `Species::Dm` with `high_res` false.
pub const LOW_RES_DM_TYPES: [usize; 2] = [2, 3];

/// The particles with every `high_res` flag set to `flag`.
fn with_high_res(mut particles: Particles, flag: bool) -> Result<Particles, CoreError> {
    let n = particles.len();
    particles.set_high_res(Array1::from_elem(n, flag))?;
    Ok(particles)
}

/// The `Header` of an Arepo snapshot: the Gadget-family header ([`crate::gadget_hdf5::GadgetHeader`]).
pub type ArepoHeader = GadgetHeader;

/// An Arepo snapshot opened for reading (headers of every chunk read; particles read on request).
#[derive(Debug)]
pub struct ArepoSnapshot {
    header: SnapshotHeader,
    arepo: ArepoHeader,
    chunks: Vec<Chunk>,
    elements_read: AtomicU64,
}

/// Width of each field galmass reads (1 for scalars).
fn field_width(name: &str) -> usize {
    match name {
        "Coordinates" | "Velocities" => 3,
        "GFM_StellarPhotometrics" => physics::PHOTOMETRIC_COLUMNS,
        _ => 1,
    }
}

/// The fields galmass reads for a type, in reading order.
fn wanted_fields(ptype: usize) -> &'static [&'static str] {
    const COMMON: [&str; 5] = ["Coordinates", "Velocities", "Masses", "ParticleIDs", "Potential"];
    match ptype {
        0 => &[
            "Coordinates",
            "Velocities",
            "Masses",
            "ParticleIDs",
            "Potential",
            "GFM_Metallicity",
            "StarFormationRate",
            "Density",
            "InternalEnergy",
            "ElectronAbundance",
            "NeutralHydrogenAbundance",
        ],
        4 => &[
            "Coordinates",
            "Velocities",
            "Masses",
            "ParticleIDs",
            "Potential",
            "GFM_Metallicity",
            "GFM_StellarFormationTime",
            "GFM_StellarPhotometrics",
        ],
        _ => &COMMON,
    }
}

impl ArepoSnapshot {
    /// Opens a single file, a chunk of a multi-chunk snapshot (all its chunks are used) or a snapshot folder.
    pub fn open(path: &Path) -> Result<Self, SnapshotError> {
        let (first, arepo, chunks) = open_layout(path, HeaderRules::Arepo)?;
        let header = Self::describe(&first, &arepo, &chunks)?;
        Ok(Self { header, arepo, chunks, elements_read: AtomicU64::new(0) })
    }

    fn describe(first: &Path, arepo: &ArepoHeader, chunks: &[Chunk]) -> Result<SnapshotHeader, SnapshotError> {
        let mut n_particles = BTreeMap::new();
        let mut fields = BTreeMap::new();
        for species in Species::ALL {
            let t = part_type(species);
            n_particles.insert(species, arepo.num_part_total[t]);
            if let Some(chunk) = chunks.iter().find(|c| c.counts[t] > 0) {
                let ctx = Ctx { path: &chunk.path };
                let file = ctx.open()?;
                let group = ctx.group(&file, &format!("PartType{t}"))?;
                let names = group.member_names().map_err(|e| ctx.hdf5(&format!("listing group PartType{t}"), e))?;
                fields.insert(species, names);
            }
        }
        let a = arepo.time;
        Ok(SnapshotHeader {
            format: SnapshotFormat::Arepo,
            path: first.to_owned(),
            n_particles,
            scale_factor: Some(a),
            redshift: Some(arepo.redshift),
            hubble_param: Some(arepo.hubble_param),
            box_size_kpc: Some(arepo.box_size * arepo.length_to_kpc()),
            note: None,
            tipsy: None,
            units: Some(format!(
                "Arepo/TNG, {} chunk(s), a = {a}, h = {h}: Coordinates ckpc/h x a/h -> kpc; Velocities km/s sqrt(a) x sqrt(a) -> \
                 km/s; Masses (or MassTable) 1e10 Msun/h x 1e10/h -> Msun; Density x 1e10 h^2/a^3 -> Msun/kpc^3; Potential \
                 (km/s)^2/a x 1/a; InternalEnergy + ElectronAbundance -> K; GFM_StellarFormationTime -> age (the header's Lambda-CDM); \
                 PartType4 counts include wind cells (dropped on reading)",
                chunks.len(),
                h = arepo.hubble_param
            )),
            fields,
        })
    }

    /// The header in the file's own units.
    pub fn arepo_header(&self) -> &ArepoHeader {
        &self.arepo
    }

    /// The chunk files, in order.
    pub fn chunk_paths(&self) -> Vec<&Path> {
        self.chunks.iter().map(|c| c.path.as_path()).collect()
    }

    /// Numbers read from particle datasets since opening (or the last reset): rows times width, summed over fields.
    pub fn elements_read(&self) -> u64 {
        self.elements_read.load(Ordering::Relaxed)
    }

    /// Sets [`ArepoSnapshot::elements_read`] back to zero.
    pub fn reset_elements_read(&self) {
        self.elements_read.store(0, Ordering::Relaxed);
    }

    /// Whether the snapshot holds low-resolution dark matter (PartType2 or 3: a zoom such as AURIGA).
    pub fn is_zoom(&self) -> bool {
        LOW_RES_DM_TYPES.iter().any(|&t| self.arepo.num_part_total[t] > 0)
    }

    /// Rows `ranges` of low-resolution dark matter of type `ptype` (2 or 3), as dark matter with `high_res` false.
    pub fn read_low_res_dm(&self, ptype: usize, ranges: &[(u64, u64)]) -> Result<Particles, SnapshotError> {
        if !LOW_RES_DM_TYPES.contains(&ptype) {
            return Err(Ctx { path: &self.header.path }
                .malformed("PartType", format!("{ptype} is not a low-resolution dark-matter type (2 or 3)")));
        }
        let ranges: Vec<(u64, u64)> = ranges.iter().copied().filter(|r| r.1 > 0).collect();
        let raw = self.read_raw(ptype, &ranges)?;
        let particles = self.convert(ptype, Species::Dm, raw)?;
        with_high_res(particles, false)
            .map_err(|e| Ctx { path: &self.header.path }.invalid(&format!("PartType{ptype}"), e))
    }

    /// Reads the raw columns of a type for global row ranges: field name -> (width, values row-major), plus the ids.
    fn read_raw(&self, ptype: usize, ranges: &[(u64, u64)]) -> Result<RawColumns, SnapshotError> {
        let mut raw = RawColumns::default();
        let Some(template) = self.chunks.iter().find(|c| c.counts[ptype] > 0) else { return Ok(raw) };
        let gname = format!("PartType{ptype}");
        // The fields present in the first chunk holding this type are required in every chunk read.
        let present: Vec<&str> = {
            let ctx = Ctx { path: &template.path };
            let file = ctx.open()?;
            let group = ctx.group(&file, &gname)?;
            wanted_fields(ptype).iter().copied().filter(|f| group.link_exists(f)).collect()
        };
        let tctx = Ctx { path: &template.path };
        if !present.contains(&"Coordinates") {
            return Err(tctx.missing("dataset", format!("{gname}/Coordinates")));
        }
        if !present.contains(&"Masses") && self.arepo.mass_table[ptype] <= 0.0 {
            return Err(tctx.missing("dataset", format!("{gname}/Masses (MassTable[{ptype}] is zero)")));
        }
        for name in &present {
            raw.columns.insert((*name).to_owned(), (field_width(name), Vec::new()));
        }
        for &(start, len) in ranges {
            let end = start.saturating_add(len);
            for chunk in &self.chunks {
                let Some((local_lo, local_hi, _)) = chunk.local_rows(ptype, start, end) else { continue };
                let ctx = Ctx { path: &chunk.path };
                let file = ctx.open()?;
                for name in &present {
                    let full = format!("{gname}/{name}");
                    let ds = ctx.dataset(&file, &full)?;
                    let width = field_width(name);
                    ctx.check_rows(&ds, &full, chunk.counts[ptype], width)?;
                    let read_err = |e| ctx.hdf5(&format!("reading dataset {full}"), e);
                    if *name == "ParticleIDs" {
                        let ids: Array1<u64> = ds.read_slice_1d(s![local_lo..local_hi]).map_err(read_err)?;
                        raw.ids.extend(ids.iter().copied());
                    } else {
                        let values: Vec<f64> = if width == 1 {
                            ds.read_slice_1d::<f64, _>(s![local_lo..local_hi]).map_err(read_err)?.into_iter().collect()
                        } else {
                            ds.read_slice_2d::<f64, _>(s![local_lo..local_hi, ..])
                                .map_err(read_err)?
                                .into_iter()
                                .collect()
                        };
                        if let Some((_, column)) = raw.columns.get_mut(*name) {
                            column.extend(values);
                        }
                    }
                    self.elements_read.fetch_add(((local_hi - local_lo) * width) as u64, Ordering::Relaxed);
                }
                raw.rows += local_hi - local_lo;
            }
        }
        raw.has_ids = present.contains(&"ParticleIDs");
        Ok(raw)
    }

    fn convert(&self, ptype: usize, species: Species, raw: RawColumns) -> Result<Particles, SnapshotError> {
        let n = raw.rows;
        if n == 0 {
            return Ok(Particles::empty());
        }
        let ctx = Ctx { path: &self.header.path };
        let gname = format!("PartType{ptype}");
        for (name, (width, values)) in &raw.columns {
            // Ids are kept apart (as integers): their column stays empty.
            let got = if name == "ParticleIDs" { raw.ids.len() } else { values.len() };
            if got != n * width {
                return Err(ctx.bad_field(
                    &format!("{gname}/{name}"),
                    format!("{n} rows of {width}"),
                    format!("{got} values"),
                ));
            }
        }
        let h = &self.arepo;
        let column = |name: &str| raw.columns.get(name).map(|(_, v)| v.as_slice());
        let to_2d = |name: &str, values: &[f64], factor: f64| {
            rows_nx3(values, n, factor).ok_or_else(|| {
                ctx.bad_field(&format!("{gname}/{name}"), format!("{n} rows of 3"), format!("{} values", values.len()))
            })
        };
        let pos = to_2d("Coordinates", column("Coordinates").unwrap_or_default(), h.length_to_kpc())?;
        let vel = match column("Velocities") {
            Some(v) => to_2d("Velocities", v, h.velocity_to_kms())?,
            None => {
                tracing::warn!(path = %ctx.path.display(), group = %gname, "no Velocities: zero velocities");
                Array2::zeros((n, 3))
            }
        };
        let mass: Array1<f64> = match column("Masses") {
            Some(m) => m.iter().map(|v| v * h.mass_to_msun()).collect(),
            None => Array1::from_elem(n, h.mass_table[ptype] * h.mass_to_msun()),
        };
        let invalid = |e| ctx.invalid(&gname, e);
        let mut particles = Particles::new(pos, vel, mass).map_err(invalid)?;
        if raw.has_ids {
            particles.set_ids(Array1::from(raw.ids)).map_err(invalid)?;
        }
        let scaled =
            |name: &str, factor: f64| column(name).map(|v| v.iter().map(|x| x * factor).collect::<Array1<f64>>());
        if let Some(phi) = scaled("Potential", h.potential_to_kms2()) {
            particles.set_field(ScalarField::PotentialKms2, phi).map_err(invalid)?;
        }
        if let Some(z) = scaled("GFM_Metallicity", 1.0) {
            particles.set_field(ScalarField::Metallicity, z).map_err(invalid)?;
        }
        let mut keep: Option<Vec<usize>> = None;
        match species {
            Species::Gas => self.convert_gas(&ctx, &mut particles, &column)?,
            Species::Stars => {
                if let Some(sft) = column("GFM_StellarFormationTime") {
                    let cosmology = h.cosmology_for_ages(ctx.path)?;
                    let ages: Array1<f64> = sft
                        .iter()
                        .map(|&a_form| if a_form > 0.0 { cosmology.age_gyr(a_form, h.time) } else { 0.0 })
                        .collect();
                    particles.set_field(ScalarField::AgeGyr, ages).map_err(invalid)?;
                    keep = Some((0..n).filter(|&i| sft[i] > 0.0).collect());
                }
                if let Some(mags) = column("GFM_StellarPhotometrics") {
                    let sft = column("GFM_StellarFormationTime");
                    for (band, col, solar) in physics::PHOTOMETRIC_BANDS {
                        // Wind cells may carry placeholder magnitudes: zero, and dropped below.
                        let lum: Array1<f64> = (0..n)
                            .map(|i| {
                                if sft.is_some_and(|s| s[i] <= 0.0) {
                                    0.0
                                } else {
                                    physics::luminosity_lsun(mags[physics::PHOTOMETRIC_COLUMNS * i + col], solar)
                                }
                            })
                            .collect();
                        particles
                            .set_luminosity(band, BandLuminosity { lum_lsun: lum, solar_abs_mag_ab: solar })
                            .map_err(invalid)?;
                    }
                }
            }
            Species::Dm | Species::Bh => {}
        }
        Ok(match keep {
            Some(idx) if idx.len() < n => particles.select(&idx).map_err(|e| ctx.invalid(&gname, e))?,
            _ => particles,
        })
    }

    fn convert_gas<'c>(
        &self,
        ctx: &Ctx<'_>,
        particles: &mut Particles,
        column: &dyn Fn(&str) -> Option<&'c [f64]>,
    ) -> Result<(), SnapshotError> {
        let h = &self.arepo;
        let invalid = |e| ctx.invalid("PartType0", e);
        let sfr = column("StarFormationRate");
        if let Some(s) = sfr {
            particles.set_field(ScalarField::SfrMsunPerYr, s.iter().copied().collect()).map_err(invalid)?;
        }
        let density: Option<Vec<f64>> =
            column("Density").map(|d| d.iter().map(|x| x * h.density_to_msun_per_kpc3()).collect());
        if let Some(d) = &density {
            particles.set_field(ScalarField::DensityMsunPerKpc3, Array1::from(d.clone())).map_err(invalid)?;
        }
        let (Some(u), Some(x_e)) = (column("InternalEnergy"), column("ElectronAbundance")) else { return Ok(()) };
        let temperature: Vec<f64> = u.iter().zip(x_e).map(|(&u, &x)| physics::temperature_k(u, x)).collect();
        particles.set_field(ScalarField::TemperatureK, Array1::from(temperature.clone())).map_err(invalid)?;
        let (Some(neutral), Some(density)) = (column("NeutralHydrogenAbundance"), density) else { return Ok(()) };
        let hi: Array1<f64> = (0..particles.len())
            .map(|i| {
                physics::GasCell {
                    mass_msun: particles.mass_msun()[i],
                    density_msun_per_kpc3: density[i],
                    temperature_k: temperature[i],
                    electron_abundance: x_e[i],
                    neutral_fraction: neutral[i],
                    sfr_msun_per_yr: sfr.map(|s| s[i]),
                }
                .hi_mass_msun()
            })
            .collect();
        particles.set_field(ScalarField::HiMassMsun, hi).map_err(invalid)
    }
}

/// `n` rows of 3 numbers from row-major `values`, each times `factor`; `None` when the lengths disagree.
pub(crate) fn rows_nx3(values: &[f64], n: usize, factor: f64) -> Option<Array2<f64>> {
    if values.len() != 3 * n {
        return None;
    }
    Array2::from_shape_vec((n, 3), values.iter().map(|v| v * factor).collect()).ok()
}

#[derive(Debug, Default)]
struct RawColumns {
    rows: usize,
    columns: BTreeMap<String, (usize, Vec<f64>)>,
    ids: Vec<u64>,
    has_ids: bool,
}

impl SnapshotReader for ArepoSnapshot {
    fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    fn read_species(&self, species: Species, selection: &ParticleSelection) -> Result<Particles, SnapshotError> {
        let ptype = part_type(species);
        let total = self.arepo.num_part_total[ptype];
        let ranges: Vec<(u64, u64)> = match selection {
            ParticleSelection::All => vec![(0, total)],
            ParticleSelection::Ranges(r) => r
                .iter()
                .map(|&(start, len)| {
                    (start.min(total), start.saturating_add(len).min(total).saturating_sub(start.min(total)))
                })
                .filter(|r| r.1 > 0)
                .collect(),
        };
        let raw = self.read_raw(ptype, &ranges)?;
        let particles = self.convert(ptype, species, raw)?;
        if species != Species::Dm || !self.is_zoom() {
            return Ok(particles);
        }
        // A zoom: PartType1 is the high-resolution dark matter; a whole read appends PartType2 and 3.
        let mut parts =
            vec![with_high_res(particles, true).map_err(|e| Ctx { path: &self.header.path }.invalid("PartType1", e))?];
        if *selection == ParticleSelection::All {
            for t in LOW_RES_DM_TYPES {
                parts.push(self.read_low_res_dm(t, &[(0, self.arepo.num_part_total[t])])?);
            }
        }
        Particles::concatenate(parts).map_err(|e| Ctx { path: &self.header.path }.invalid("PartType1", e))
    }
}
