//! Writing galaxies as a Gizmo (FIRE-2) snapshot in FIRE-2's units ([`write_gizmo_snapshot`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galmass_core::atomic::AtomicFileSet;
use galmass_core::cosmology::Cosmology;
use galmass_core::{Particles, ScalarField, Species};

use super::reader::hydrogen_mass_fraction;
use super::{METALLICITY_COLUMNS, N_TYPES};
use crate::arepo::physics;
use crate::error::SnapshotError;
use crate::gadget_hdf5::write::{electron_abundance_for, int32, split, write_cosmology, write_counts, write_rows};
use crate::gadget_hdf5::Ctx;
use crate::placed::PlacedGalaxy;

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
    cosmology: &Cosmology,
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
/// name and all are committed together at the end (`galmass_core::atomic::AtomicFileSet`); on error no chunk is left
/// in place and the temporary files are removed.
pub fn write_gizmo_snapshot(
    output_dir: &Path,
    params: &GizmoWriteParams,
    galaxies: &[PlacedGalaxy<'_>],
) -> Result<GizmoWritten, SnapshotError> {
    let paths = params.chunk_paths(output_dir);
    let first = paths.first().cloned().unwrap_or_else(|| output_dir.to_owned());
    let ctx = Ctx { path: &first };
    let (a, h) = (params.scale_factor, params.hubble_param);
    let cosmology = Cosmology::new(h, params.omega_matter, params.omega_lambda)
        .ok()
        .filter(|_| a > 0.0 && a.is_finite() && params.box_size_kpc > 0.0 && params.box_size_kpc.is_finite())
        .ok_or_else(|| {
            ctx.malformed("Header", format!("needs a > 0, a Lambda-CDM cosmology and a positive box, got {params:?}"))
        })?;
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
    let n_files = paths.len() as u64;
    let mut files = AtomicFileSet::new();
    for (c, path) in (0u64..).zip(&paths) {
        let tmp = files.stage(path)?;
        // Errors name the destination chunk, not its temporary.
        let cctx = Ctx { path };
        let file = cctx.create(&tmp)?;
        let this_file: [u64; N_TYPES] = std::array::from_fn(|t| {
            let (lo, hi) = split(totals[t], n_files, c);
            hi - lo
        });
        let header = cctx.create_group(&file, "Header")?;
        write_counts(&cctx, &header, this_file, totals, [0.0; N_TYPES], n_files)?;
        write_cosmology(&cctx, &header, a, box_code, &cosmology)?;
        for (name, value) in [
            ("Flag_Sfr", 1),
            ("Flag_Cooling", 1),
            ("Flag_StellarAge", 1),
            ("Flag_Feedback", 1),
            ("Flag_IC_Info", 3),
            ("Flag_Metals", int32(&cctx, "Header/Flag_Metals", METALLICITY_COLUMNS as u64)?),
            ("ComovingIntegrationOn", 1),
        ] {
            let value: i32 = value;
            cctx.write_attr(&header, name, &[value])?;
        }
        for (t, rows) in types.iter().enumerate() {
            let (lo, hi) = split(rows.n as u64, n_files, c);
            if hi == lo {
                continue;
            }
            let range = (lo as usize, hi as usize);
            let gname = format!("PartType{t}");
            let group = cctx.create_group(&file, &gname)?;
            write_rows(&cctx, &group, &gname, "Coordinates", &rows.coords, 3, range)?;
            write_rows(&cctx, &group, &gname, "Velocities", &rows.vel, 3, range)?;
            write_rows(&cctx, &group, &gname, "Masses", &rows.mass, 1, range)?;
            write_rows(&cctx, &group, &gname, "ParticleIDs", &rows.ids, 1, range)?;
            for (name, (width, values)) in &rows.extra {
                write_rows(&cctx, &group, &gname, name, values, *width, range)?;
            }
        }
    }
    files.commit()?;
    Ok(GizmoWritten { chunk_paths: paths, num_part_total: totals })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_names_and_hydrogen_fraction() {
        assert_eq!(hydrogen_mass_fraction(None), 0.76);
        assert!((hydrogen_mass_fraction(Some(&[0.02, 0.27, 0.0])) - 0.71).abs() < 1e-12);
        let p = GizmoWriteParams::fire2_like(600, 2);
        assert!(p.chunk_paths("out".as_ref())[1].ends_with("snapdir_600/snapshot_600.1.hdf5"));
    }
}
