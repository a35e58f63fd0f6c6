//! Reader and writer of the galmass galaxy file (format `galmass-galaxy`; the layout is documented in
//! `galmass_core::galaxy`).
//!
//! Writes are atomic (`galmass_core::atomic`): the file is written beside its destination under a temporary name,
//! synced and renamed into place, so an interrupted job never leaves a half-written galaxy behind; a failed write is
//! [`SnapshotError::Write`] (or the HDF5 error) naming the destination. Reads validate everything: a truncated or
//! corrupt file, a wrong shape or a NaN gives a [`SnapshotError`] naming the file and the field.
//!
//! # The minimal file
//! Astronomers write galaxy files from their own codes with h5py. The smallest file that loads has the root
//! attributes `format = "galmass-galaxy"` and `version = 1` and one species group (`stars`, `gas`, `dm` or `bh`)
//! holding `pos` (N, 3) kpc, `vel` (N, 3) km/s and `mass` (N) Msun (any float or integer type):
//!
//! ```text
//! import h5py, numpy as np
//! with h5py.File("galaxy.h5", "w") as f:
//!     f.attrs["format"] = "galmass-galaxy"
//!     f.attrs["version"] = 1
//!     stars = f.create_group("stars")
//!     stars["pos"] = pos_kpc; stars["vel"] = vel_kms; stars["mass"] = mass_msun
//! ```
//!
//! (`scripts/make_minimal_galaxy.py` writes one.) The other root metadata take documented defaults when absent, and
//! one `info` log line lists which were defaulted:
//!
//! | attribute | default |
//! |---|---|
//! | `suite` | `"unknown"` |
//! | `source` | `"unknown"` |
//! | `galaxy_id` | 0 |
//! | `redshift` | 0 |
//! | `source_halo_id` | none |
//! | `rotation_to_aligned` | computed from the stars' angular momentum within 30 kpc (`galmass_core::kinematics`); the identity when the file has no stars |
//!
//! String attributes may be variable-length (h5py's `str`) or fixed-length, UTF-8 or ASCII. Datasets' `units`
//! attributes are not needed to read. A present attribute of the wrong type is still an error, not a default.
//!
//! ```no_run
//! use galmass_core::{Galaxy, GalaxyMeta};
//! use galmass_snapshot::galaxy_file;
//! let galaxy = Galaxy::new(GalaxyMeta::new("nihao-like", 7));
//! galaxy_file::write("out/galaxy_7.h5".as_ref(), &galaxy)?;
//! let back = galaxy_file::read("out/galaxy_7.h5".as_ref())?;
//! assert_eq!(back.meta.galaxy_id, 7);
//! # Ok::<(), galmass_snapshot::SnapshotError>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use galmass_core::atomic::write_atomic_with;
use galmass_core::galaxy::{GALAXY_FORMAT, GALAXY_FORMAT_VERSION};
use galmass_core::kinematics::aligned_frame_and_kappa_co;
use galmass_core::particles::BandLuminosity;
use galmass_core::{Galaxy, GalaxyMeta, Particles, Rotation, ScalarField, Species, TruthProfiles, TruthSource};
use hdf5::{Dataset, Group};
use ndarray::Array2;

use crate::error::SnapshotError;
use crate::gadget_hdf5::ctx::join;
use crate::gadget_hdf5::Ctx;

/// `suite` and `source` of a file that does not say.
pub const UNKNOWN: &str = "unknown";

/// Reads a galaxy file; metadata a minimal file lacks take the defaults of the module docs.
pub fn read(path: &Path) -> Result<Galaxy, SnapshotError> {
    let ctx = Ctx { path };
    let file = ctx.open()?;
    let format = ctx.string_attr(&file, "", "format")?;
    if format != GALAXY_FORMAT {
        return Err(SnapshotError::NotAGalaxyFile {
            path: path.to_owned(),
            reason: format!("attribute `format` is `{format}`, expected `{GALAXY_FORMAT}`"),
        });
    }
    let version = ctx.scalar_attr::<i64>(&file, "", "version")?;
    if version < 1 || version > i64::from(GALAXY_FORMAT_VERSION) {
        return Err(ctx.bad_field("version", format!("1..={GALAXY_FORMAT_VERSION}"), version.to_string()));
    }
    let mut defaulted: Vec<&str> = Vec::new();
    let mut string_or = |name: &'static str, default: &str| -> Result<String, SnapshotError> {
        Ok(ctx.string_attr_opt(&file, "", name)?.unwrap_or_else(|| {
            defaulted.push(name);
            default.to_owned()
        }))
    };
    let suite = string_or("suite", UNKNOWN)?;
    let source = string_or("source", UNKNOWN)?;
    let galaxy_id = ctx.scalar_attr_opt::<i64>(&file, "", "galaxy_id")?.unwrap_or_else(|| {
        defaulted.push("galaxy_id");
        0
    });
    let redshift = ctx.scalar_attr_opt::<f64>(&file, "", "redshift")?.unwrap_or_else(|| {
        defaulted.push("redshift");
        0.0
    });
    let source_halo_id = ctx.scalar_attr_opt::<i64>(&file, "", "source_halo_id")?.filter(|id| *id >= 0);
    let rotation = read_rotation(&ctx, &file)?;
    let meta = GalaxyMeta {
        suite,
        galaxy_id,
        redshift,
        source,
        source_halo_id,
        rotation_to_aligned: rotation.unwrap_or_else(Rotation::identity),
    };
    let mut galaxy = Galaxy::new(meta);
    for species in Species::ALL {
        if file.link_exists(species.group_name()) {
            let group = ctx.group(&file, species.group_name())?;
            galaxy.set_species(species, read_particles(&ctx, &group, species.group_name())?);
        }
    }
    if rotation.is_none() {
        // A minimal file: the stellar frame from the stars' angular momentum (the identity without stars).
        defaulted.push("rotation_to_aligned");
        if let Some(stars) = galaxy.species(Species::Stars) {
            let (rotation, _) = aligned_frame_and_kappa_co(stars).map_err(|e| ctx.invalid("stars", e))?;
            galaxy.meta.rotation_to_aligned = rotation;
        }
    }
    if file.link_exists("truth") {
        let group = ctx.group(&file, "truth")?;
        galaxy.truth = Some(read_truth(&ctx, &group, &galaxy)?);
    }
    if !defaulted.is_empty() {
        tracing::info!(
            path = %path.display(),
            "galaxy file without {}: defaulted (suite and source \"unknown\", galaxy_id 0, redshift 0, \
             rotation_to_aligned from the stars' angular momentum)",
            defaulted.join(", ")
        );
    }
    Ok(galaxy)
}

/// Writes a galaxy file atomically (temporary file in the same folder, fsync, rename), creating parent folders.
pub fn write(path: &Path, galaxy: &Galaxy) -> Result<(), SnapshotError> {
    write_atomic_with(path, |tmp| write_to(path, tmp, galaxy), SnapshotError::from)
}

/// Writes the layout into `tmp`; errors name `dest`.
fn write_to(dest: &Path, tmp: &Path, galaxy: &Galaxy) -> Result<(), SnapshotError> {
    let ctx = Ctx { path: dest };
    let file = ctx.create(tmp)?;
    let meta = &galaxy.meta;
    ctx.write_string_attr(&file, "format", GALAXY_FORMAT)?;
    ctx.write_scalar_attr(&file, "version", &i64::from(GALAXY_FORMAT_VERSION))?;
    ctx.write_string_attr(&file, "suite", &meta.suite)?;
    ctx.write_scalar_attr(&file, "galaxy_id", &meta.galaxy_id)?;
    ctx.write_scalar_attr(&file, "redshift", &meta.redshift)?;
    ctx.write_string_attr(&file, "source", &meta.source)?;
    ctx.write_scalar_attr(&file, "source_halo_id", &meta.source_halo_id.unwrap_or(-1))?;
    let m = meta.rotation_to_aligned.matrix();
    let rot = Array2::from_shape_fn((3, 3), |(i, j)| m[i][j]);
    file.new_attr_builder()
        .with_data(&rot)
        .create("rotation_to_aligned")
        .map_err(|e| ctx.hdf5("writing attribute rotation_to_aligned", e))?;
    for (species, particles) in galaxy.all_species() {
        let name = species.group_name();
        let group = ctx.create_group(&file, name)?;
        write_particles(&ctx, &group, name, particles)?;
    }
    if let Some(truth) = &galaxy.truth {
        let group = ctx.create_group(&file, "truth")?;
        write_truth(&ctx, &group, truth)?;
    }
    file.flush().map_err(|e| ctx.hdf5("flushing", e))?;
    Ok(())
}

/// The root `rotation_to_aligned`, `None` when absent (a minimal file).
fn read_rotation(ctx: &Ctx<'_>, file: &hdf5::File) -> Result<Option<Rotation>, SnapshotError> {
    let Some(attr) = ctx.attr_opt(file, "", "rotation_to_aligned")? else { return Ok(None) };
    let shape = attr.shape();
    if shape != [3, 3] {
        return Err(ctx.bad_field("rotation_to_aligned", "shape (3, 3)", format!("shape {shape:?}")));
    }
    ctx.check_numeric(attr.dtype(), "rotation_to_aligned")?;
    let m = attr.read_2d::<f64>().map_err(|e| ctx.hdf5("reading attribute rotation_to_aligned", e))?;
    let matrix: [[f64; 3]; 3] =
        std::array::from_fn(|i| std::array::from_fn(|j| m.get([i, j]).copied().unwrap_or(f64::NAN)));
    Rotation::from_matrix(matrix).map(Some).map_err(|e| ctx.invalid("", e))
}

fn read_particles(ctx: &Ctx<'_>, group: &Group, gname: &str) -> Result<Particles, SnapshotError> {
    let pos = ctx.read_nx3(group, gname, "pos")?;
    let vel = ctx.read_nx3(group, gname, "vel")?;
    let mass = ctx.read_1d(group, gname, "mass")?;
    let mut particles = Particles::new(pos, vel, mass).map_err(|e| ctx.invalid(gname, e))?;
    for field in ScalarField::ALL {
        if group.link_exists(field.dataset_name()) {
            let values = ctx.read_1d(group, gname, field.dataset_name())?;
            particles.set_field(field, values).map_err(|e| ctx.invalid(gname, e))?;
        }
    }
    if group.link_exists("id") {
        particles.set_ids(ctx.read_ids(group, gname, "id")?).map_err(|e| ctx.invalid(gname, e))?;
    }
    if group.link_exists("high_res") {
        particles.set_high_res(ctx.read_flags(group, gname, "high_res")?).map_err(|e| ctx.invalid(gname, e))?;
    }
    let names = group.member_names().map_err(|e| ctx.hdf5(&format!("listing group {gname}"), e))?;
    for (name, band) in names.iter().filter_map(|n| n.strip_prefix("lum_").map(|band| (n, band))) {
        let full = join(gname, name);
        let lum_lsun = ctx.read_1d(group, gname, name)?;
        let ds = ctx.dataset_in(group, gname, name)?;
        let solar_abs_mag_ab = ctx.scalar_attr::<f64>(&ds, &full, "solar_abs_mag_ab")?;
        particles
            .set_luminosity(band, BandLuminosity { lum_lsun, solar_abs_mag_ab })
            .map_err(|e| ctx.invalid(gname, e))?;
    }
    Ok(particles)
}

fn write_dataset<'d, A, D>(
    ctx: &Ctx<'_>,
    group: &Group,
    gname: &str,
    name: &str,
    data: A,
    units: &str,
) -> Result<Dataset, SnapshotError>
where
    A: Into<ndarray::ArrayView<'d, f64, D>>,
    D: ndarray::Dimension,
{
    let ds = ctx.write_ds(group, gname, name, data)?;
    ctx.write_string_attr(&ds, "units", units)?;
    Ok(ds)
}

fn write_particles(ctx: &Ctx<'_>, group: &Group, gname: &str, p: &Particles) -> Result<(), SnapshotError> {
    write_dataset(ctx, group, gname, "pos", p.pos_kpc(), "kpc")?;
    write_dataset(ctx, group, gname, "vel", p.vel_kms(), "km/s")?;
    write_dataset(ctx, group, gname, "mass", p.mass_msun(), "Msun")?;
    for (field, values) in p.fields() {
        write_dataset(ctx, group, gname, field.dataset_name(), values, field.unit())?;
    }
    if let Some(ids) = p.ids() {
        let ds = group
            .new_dataset_builder()
            .with_data(ids)
            .create("id")
            .map_err(|e| ctx.hdf5(&format!("writing dataset {gname}/id"), e))?;
        ctx.write_string_attr(&ds, "units", "1")?;
    }
    if let Some(flags) = p.high_res() {
        let ds = group
            .new_dataset_builder()
            .with_data(flags)
            .create("high_res")
            .map_err(|e| ctx.hdf5(&format!("writing dataset {gname}/high_res"), e))?;
        ctx.write_string_attr(&ds, "units", "1")?;
    }
    for (band, lum) in p.luminosities() {
        let ds = write_dataset(ctx, group, gname, &format!("lum_{band}"), &lum.lum_lsun, &format!("Lsun_{band}"))?;
        ctx.write_scalar_attr(&ds, "solar_abs_mag_ab", &lum.solar_abs_mag_ab)?;
    }
    Ok(())
}

fn read_truth(ctx: &Ctx<'_>, group: &Group, galaxy: &Galaxy) -> Result<TruthProfiles, SnapshotError> {
    let radii = ctx.read_1d(group, "truth", "radii_kpc")?;
    let mut cumulative = BTreeMap::new();
    let mut half = BTreeMap::new();
    for species in Species::ALL {
        let name = format!("mass_{species}_msun");
        if group.link_exists(&name) {
            cumulative.insert(species, ctx.read_1d(group, "truth", &name)?);
            let attr = format!("half_mass_radius_{species}_kpc");
            if group.attr_names().map_err(|e| ctx.hdf5("listing attributes of truth", e))?.contains(&attr) {
                half.insert(species, ctx.scalar_attr::<f64>(group, "truth", &attr)?);
            }
        } else if galaxy.species(species).is_some() {
            return Err(ctx.missing("dataset", format!("truth/{name}")));
        }
    }
    let half_total = ctx.scalar_attr::<f64>(group, "truth", "half_mass_radius_total_kpc")?;
    let source = TruthSource::from_attribute(&ctx.string_attr(group, "truth", "source")?);
    let mut truth =
        TruthProfiles::new(radii, cumulative, half, half_total, source).map_err(|e| ctx.invalid("truth", e))?;
    let attrs = group.attr_names().map_err(|e| ctx.hdf5("listing attributes of truth", e))?;
    if attrs.iter().any(|a| a == "scalar_names") {
        let names = ctx.string_attr(group, "truth", "scalar_names")?;
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let value = ctx.scalar_attr::<f64>(group, "truth", name)?;
            truth.set_scalar(name, value).map_err(|e| ctx.invalid("truth", e))?;
        }
    }
    Ok(truth)
}

fn write_truth(ctx: &Ctx<'_>, group: &Group, truth: &TruthProfiles) -> Result<(), SnapshotError> {
    write_dataset(ctx, group, "truth", "radii_kpc", truth.radii_kpc(), "kpc")?;
    for species in truth.species().collect::<Vec<_>>() {
        if let Some(profile) = truth.cumulative_msun(species) {
            write_dataset(ctx, group, "truth", &format!("mass_{species}_msun"), profile, "Msun")?;
        }
        if let Some(r) = truth.half_mass_radius_kpc(Some(species)) {
            ctx.write_scalar_attr(group, &format!("half_mass_radius_{species}_kpc"), &r)?;
        }
    }
    write_dataset(ctx, group, "truth", "mass_total_msun", &truth.total_msun(), "Msun")?;
    ctx.write_scalar_attr(group, "half_mass_radius_total_kpc", &truth.half_mass_radius_kpc(None).unwrap_or(f64::NAN))?;
    let mut names = Vec::new();
    for (name, value) in truth.scalars() {
        ctx.write_scalar_attr(group, name, &value)?;
        names.push(name);
    }
    if !names.is_empty() {
        ctx.write_string_attr(group, "scalar_names", &names.join(","))?;
    }
    ctx.write_string_attr(group, "source", &truth.source.to_attribute())
}
