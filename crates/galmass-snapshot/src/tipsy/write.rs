//! Writing galmass galaxies as a NIHAO-like cosmological tipsy snapshot: big-endian standard tipsy (single
//! precision, `bComove = 1`, header time = a), a `.param` file with units chosen so that coordinates are within
//! [-0.5, 0.5] and velocities within [-1, 1] (powers of ten for dKpcUnit and dMsolUnit; masses then small, as in
//! real runs, and dHubble0 of order 1), binary `.iord` and `.HI` arrays, and one AHF halo per galaxy
//! (`<snap>.z<z>.AHF_halos` and `.AHF_particles`). The six files are committed together through
//! `galmass_core::atomic::AtomicFileSet`: a failure on any of them leaves none in place and no temporary.
//!
//! Each galaxy ([`PlacedGalaxy`]) is placed at `centre_kpc` (physical kpc) with bulk velocity `velocity_kms`; its
//! particles keep their positions relative to it (`group` is ignored: each galaxy is its own AHF halo). Black holes are not written (tipsy has no black-hole family).
//! The written velocities are those [`super::TipsySnapshot`] (and pynbody) read back: code velocity x a x v_unit.
//! Ids: a galaxy's species with ids writes them to `.iord` (they must fit in `i32`), otherwise the file index.
//! `.HI` holds `hi_mass / mass` for gas with an HI mass field, 0 elsewhere. Star formation times come from
//! `age_gyr` (age of the universe minus age; 0 when a star has no age field). `.AHF_particles` numbers particles
//! as AHF does for tipsy (dark, stars, gas; [`super::ahf::ahf_id_to_file_index`]).
//!
//! ```no_run
//! use galmass_core::{Galaxy, GalaxyMeta};
//! use galmass_snapshot::tipsy::param::UnitConvention;
//! use galmass_snapshot::tipsy::write::{write_galaxies, TipsyWriteOptions};
//! use galmass_snapshot::PlacedGalaxy;
//! let galaxy = Galaxy::new(GalaxyMeta::new("example", 0));
//! let placed = [PlacedGalaxy::new(&galaxy, [100.0, 0.0, 0.0], [0.0; 3])];
//! let options = TipsyWriteOptions::nihao_planck2014(0.0, UnitConvention::Pynbody28);
//! let written = write_galaxies("out/sample.00001".as_ref(), &placed, &options)?;
//! println!("{}", written.param.display());
//! # Ok::<(), galmass_snapshot::SnapshotError>(())
//! ```

use std::path::{Path, PathBuf};

use galmass_core::atomic::AtomicFileSet;
use galmass_core::cosmology::Cosmology;
use galmass_core::units::G_KPC_KMS2_PER_MSUN;
use galmass_core::{Particles, ScalarField, Species};

use super::ahf::{file_index_to_ahf_id, format_ahf_halos, format_ahf_particles, AhfHalo, AhfMembers};
use super::auxiliary::{encode_binary, AuxValues};
use super::format::{ByteOrder, TipsyHeader};
use super::param::{ParamFile, TipsyUnits, UnitConvention};
use super::{aux_path, TIPSY_SPECIES};
use crate::error::SnapshotError;
pub use crate::placed::PlacedGalaxy;

/// Cosmology and units convention of a written snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TipsyWriteOptions {
    /// Redshift (header time a = 1 / (1 + z)).
    pub redshift: f64,
    /// h.
    pub hubble_param: f64,
    /// Omega_matter (`dOmega0`).
    pub omega_matter: f64,
    /// Omega_Lambda (`dLambda`).
    pub omega_lambda: f64,
    /// The velocity-unit convention the reader will use (pynbody's for files pynbody reads).
    pub convention: UnitConvention,
}

impl TipsyWriteOptions {
    /// NIHAO's cosmology (Wang et al. 2015: Planck 2014, h = 0.671, Omega_m = 0.3175, Omega_Lambda = 0.6825).
    pub fn nihao_planck2014(redshift: f64, convention: UnitConvention) -> Self {
        Self { redshift, hubble_param: 0.671, omega_matter: 0.3175, omega_lambda: 0.6825, convention }
    }
}

/// The files written and the units used.
#[derive(Debug, Clone, PartialEq)]
pub struct TipsyWritten {
    /// The tipsy file.
    pub snapshot: PathBuf,
    /// `<dir>/<snap>.param`.
    pub param: PathBuf,
    /// `<snap>.iord`.
    pub iord: PathBuf,
    /// `<snap>.HI`.
    pub hi: PathBuf,
    /// `<snap>.z<z>.AHF_halos`.
    pub ahf_halos: PathBuf,
    /// `<snap>.z<z>.AHF_particles`.
    pub ahf_particles: PathBuf,
    /// The unit system written.
    pub units: TipsyUnits,
}

fn bad(path: &Path, field: &str, reason: String) -> SnapshotError {
    SnapshotError::Malformed { path: path.to_owned(), field: field.to_owned(), reason }
}

/// `10^ceil(log10(x))`, 1 for non-positive x.
fn power_of_ten_above(x: f64) -> f64 {
    if x > 0.0 && x.is_finite() {
        10f64.powi(x.log10().ceil() as i32)
    } else {
        1.0
    }
}

fn species_of<'a>(g: &PlacedGalaxy<'a>, s: Species) -> Option<&'a Particles> {
    g.galaxy.species(s).filter(|p| !p.is_empty())
}

/// Writes the galaxies as one tipsy snapshot with its `.param`, `.iord`, `.HI` and AHF files.
pub fn write_galaxies(
    snapshot_path: &Path,
    galaxies: &[PlacedGalaxy<'_>],
    options: &TipsyWriteOptions,
) -> Result<TipsyWritten, SnapshotError> {
    let path = snapshot_path;
    let o = options;
    if !(o.redshift >= 0.0 && o.redshift.is_finite() && o.hubble_param > 0.0 && o.omega_matter > 0.0) {
        return Err(bad(path, "options", format!("unusable cosmology {o:?}")));
    }
    let a = 1.0 / (1.0 + o.redshift);

    // Units: comoving coordinates within [-0.5, 0.5] (L a power of ten), code velocities within [-1, 1] (M the
    // power of ten that makes sqrt(G M / L) exceed the largest |v| / a); masses then follow from G = 1.
    let mut max_abs_kpc: f64 = 0.0;
    let mut max_speed_kms: f64 = 0.0;
    for g in galaxies {
        for s in TIPSY_SPECIES {
            let Some(p) = species_of(g, s) else { continue };
            for (pos, vel) in p.pos_kpc().rows().into_iter().zip(p.vel_kms().rows()) {
                for k in 0..3 {
                    max_abs_kpc = max_abs_kpc.max((pos[k] + g.centre_kpc[k]).abs());
                    max_speed_kms = max_speed_kms.max((vel[k] + g.velocity_kms[k]).abs());
                }
            }
        }
    }
    let length_kpc = power_of_ten_above(2.0 * max_abs_kpc / a);
    let speed_kms = (max_speed_kms / a).max(1.0) * 1.001; // margin for pynbody's rounding and its constants
    let mass_msun = power_of_ten_above(speed_kms * speed_kms * length_kpc / G_KPC_KMS2_PER_MSUN);
    let (_, velocity_for_h) = o.convention.velocity_units_kms(length_kpc, mass_msun);
    // No `bDoublePos = 0` / `bDoubleVel = 0` lines: pynbody 2.8 takes any value written there (the string "0"
    // included) as true and would read doubles.
    let mut param = ParamFile::default();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for (key, value) in [
        ("achOutName", name.clone()),
        ("dKpcUnit", format!("{length_kpc:e}")),
        ("dMsolUnit", format!("{mass_msun:e}")),
        ("dHubble0", format!("{:e}", o.hubble_param / (10.0 * velocity_for_h / length_kpc))),
        ("dOmega0", format!("{:e}", o.omega_matter)),
        ("dLambda", format!("{:e}", o.omega_lambda)),
        ("bComove", "1".into()),
        ("iBinaryOutput", "1".into()),
        ("bPeriodic", "0".into()),
    ] {
        param.values.insert(key.into(), value);
    }
    let units = TipsyUnits::from_param(&param, o.convention, a, path)?;
    let pos_factor = units.position_factor_kpc();
    let vel_factor = units.velocity_factor_kms();
    let now_gyr = Cosmology::new(o.hubble_param, o.omega_matter, o.omega_lambda).ok().map(|c| c.cosmic_time_gyr(a));

    let mut counts = [0u64; 3];
    for (k, &s) in TIPSY_SPECIES.iter().enumerate() {
        counts[k] = galaxies.iter().filter_map(|g| species_of(g, s)).map(|p| p.len() as u64).sum();
    }
    let header = TipsyHeader {
        time: a,
        n_total: counts.iter().sum(),
        n_gas: counts[0],
        n_dark: counts[1],
        n_star: counts[2],
        byte_order: ByteOrder::Big,
    };
    let mut bytes = header.to_bytes(path)?.to_vec();
    let mut iord = Vec::new();
    let mut hi = Vec::new();
    let mut members: Vec<AhfMembers> = (0..galaxies.len())
        .map(|k| AhfMembers { halo_id: k as i64, particle_ids: Vec::new(), particle_types: Vec::new() })
        .collect();
    let push = |bytes: &mut Vec<u8>, x: f64| bytes.extend_from_slice(&(x as f32).to_be_bytes());
    for s in TIPSY_SPECIES {
        for (gk, g) in galaxies.iter().enumerate() {
            let Some(p) = species_of(g, s) else { continue };
            let field = |f: ScalarField, i: usize| p.field(f).map_or(0.0, |v| v[i]);
            for i in 0..p.len() {
                let file_index = iord.len() as u64;
                push(&mut bytes, p.mass_msun()[i] / units.mass_msun);
                for k in 0..3 {
                    push(&mut bytes, (p.pos_kpc()[[i, k]] + g.centre_kpc[k]) / pos_factor);
                }
                for k in 0..3 {
                    push(&mut bytes, (p.vel_kms()[[i, k]] + g.velocity_kms[k]) / vel_factor);
                }
                let phi = field(ScalarField::PotentialKms2, i) * a / (units.velocity_kms * units.velocity_kms);
                match s {
                    Species::Gas => {
                        push(
                            &mut bytes,
                            field(ScalarField::DensityMsunPerKpc3, i) * pos_factor.powi(3) / units.mass_msun,
                        );
                        push(&mut bytes, field(ScalarField::TemperatureK, i));
                        push(&mut bytes, 0.0);
                        push(&mut bytes, field(ScalarField::Metallicity, i));
                        push(&mut bytes, phi);
                    }
                    Species::Dm => {
                        push(&mut bytes, 0.0);
                        push(&mut bytes, phi);
                    }
                    _ => {
                        push(&mut bytes, field(ScalarField::Metallicity, i));
                        let tform = match (p.field(ScalarField::AgeGyr), now_gyr) {
                            (Some(age), Some(now)) => (now - age[i]) / units.time_gyr,
                            _ => 0.0,
                        };
                        push(&mut bytes, tform);
                        push(&mut bytes, 0.0);
                        push(&mut bytes, phi);
                    }
                }
                iord.push(match p.ids() {
                    Some(ids) => i64::try_from(ids[i]).unwrap_or(i64::MAX),
                    None => file_index as i64,
                });
                let mass = p.mass_msun()[i];
                hi.push(match (s, p.field(ScalarField::HiMassMsun)) {
                    (Species::Gas, Some(h)) if mass > 0.0 => h[i] / mass,
                    _ => 0.0,
                });
                members[gk].particle_ids.push(file_index_to_ahf_id(file_index, &header).unwrap_or(file_index));
                members[gk].particle_types.push(match s {
                    Species::Gas => 0,
                    Species::Dm => 1,
                    _ => 4,
                });
            }
        }
    }

    let h = o.hubble_param;
    let halos: Vec<AhfHalo> = galaxies
        .iter()
        .enumerate()
        .map(|(k, g)| {
            let present: Vec<(Species, &Particles)> =
                TIPSY_SPECIES.iter().filter_map(|&s| species_of(g, s).map(|p| (s, p))).collect();
            let total = |s: Option<Species>| -> (u64, f64) {
                present
                    .iter()
                    .filter(|(t, _)| s.is_none_or(|s| s == *t))
                    .fold((0, 0.0), |(n, m), (_, p)| (n + p.len() as u64, m + p.total_mass_msun()))
            };
            let r_max = present.iter().flat_map(|(_, p)| p.radii_kpc().to_vec()).fold(0.0f64, f64::max);
            let (n_all, m_all) = total(None);
            let (n_gas, m_gas) = total(Some(Species::Gas));
            let (n_star, m_star) = total(Some(Species::Stars));
            AhfHalo {
                id: k as i64,
                host_halo: -1,
                n_particles: n_all,
                mvir_msun_h: m_all * h,
                rvir_kpc_h: r_max / a * h,
                center_kpc_h: g.centre_kpc.map(|x| x / a * h),
                velocity_kms: g.velocity_kms,
                f_mhires: Some(1.0),
                n_gas: Some(n_gas),
                m_gas_msun_h: Some(m_gas * h),
                n_star: Some(n_star),
                m_star_msun_h: Some(m_star * h),
            }
        })
        .collect();

    let dir = path.parent().unwrap_or(Path::new(""));
    let written = TipsyWritten {
        snapshot: path.to_owned(),
        param: dir.join(format!("{name}.param")),
        iord: aux_path(path, "iord"),
        hi: aux_path(path, "HI"),
        ahf_halos: aux_path(path, &format!("z{:.3}.AHF_halos", o.redshift)),
        ahf_particles: aux_path(path, &format!("z{:.3}.AHF_particles", o.redshift)),
        units,
    };
    let iord_bytes = encode_binary(&AuxValues::Int(iord), ByteOrder::Big, &written.iord)?;
    let hi_bytes = encode_binary(&AuxValues::Float(hi), ByteOrder::Big, &written.hi)?;
    // The file set is committed together: a failure on any file leaves none of them in place.
    let mut files = AtomicFileSet::new();
    let (param_text, halos_text, particles_text) =
        (param.to_text(), format_ahf_halos(&halos), format_ahf_particles(&members));
    let contents: [(&Path, &[u8]); 6] = [
        (&written.snapshot, &bytes),
        (&written.param, param_text.as_bytes()),
        (&written.iord, &iord_bytes),
        (&written.hi, &hi_bytes),
        (&written.ahf_halos, halos_text.as_bytes()),
        (&written.ahf_particles, particles_text.as_bytes()),
    ];
    for (dest, content) in contents {
        let tmp = files.stage(dest)?;
        std::fs::write(&tmp, content).map_err(|source| SnapshotError::Io {
            path: dest.to_owned(),
            context: "writing the temporary file".into(),
            source,
        })?;
    }
    files.commit()?;
    Ok(written)
}
