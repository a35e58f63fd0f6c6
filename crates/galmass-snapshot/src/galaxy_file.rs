//! Reader and writer of the galmass galaxy file (format `galmass-galaxy`; the layout is documented in
//! `galmass_core::galaxy`).
//!
//! Writes are atomic: the file is written beside its destination under a temporary name and renamed into place, so
//! an interrupted job never leaves a half-written galaxy behind. Reads validate everything: a truncated or corrupt
//! file, a missing field, a wrong shape or a NaN gives a [`SnapshotError`] naming the file and the field.
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

use galmass_core::galaxy::{GALAXY_FORMAT, GALAXY_FORMAT_VERSION};
use galmass_core::particles::BandLuminosity;
use galmass_core::paths::temporary_path;
use galmass_core::{
    CoreError, Galaxy, GalaxyMeta, Particles, Rotation, ScalarField, Species, TruthProfiles, TruthSource,
};
use hdf5::types::{TypeDescriptor, VarLenUnicode};
use hdf5::{Dataset, Group, H5Type, Location};
use ndarray::{Array1, Array2};

use crate::error::SnapshotError;

/// Reads a galaxy file.
pub fn read(path: &Path) -> Result<Galaxy, SnapshotError> {
    let ctx = Ctx { path };
    let file = hdf5::File::open(path).map_err(|e| ctx.hdf5("opening the file", e))?;
    let format = ctx.read_string_attr(&file, "", "format")?;
    if format != GALAXY_FORMAT {
        return Err(SnapshotError::NotAGalaxyFile {
            path: path.to_owned(),
            reason: format!("attribute `format` is `{format}`, expected `{GALAXY_FORMAT}`"),
        });
    }
    let version = ctx.read_scalar_attr::<i64>(&file, "", "version")?;
    if version < 1 || version > i64::from(GALAXY_FORMAT_VERSION) {
        return Err(ctx.bad_field("version", format!("1..={GALAXY_FORMAT_VERSION}"), version.to_string()));
    }
    let rotation = ctx.read_rotation(&file)?;
    let source_halo_id =
        if file.attr_names().map_err(|e| ctx.hdf5("listing root attributes", e))?.iter().any(|n| n == "source_halo_id")
        {
            Some(ctx.read_scalar_attr::<i64>(&file, "", "source_halo_id")?).filter(|id| *id >= 0)
        } else {
            None
        };
    let meta = GalaxyMeta {
        suite: ctx.read_string_attr(&file, "", "suite")?,
        galaxy_id: ctx.read_scalar_attr::<i64>(&file, "", "galaxy_id")?,
        redshift: ctx.read_scalar_attr::<f64>(&file, "", "redshift")?,
        source: ctx.read_string_attr(&file, "", "source")?,
        source_halo_id,
        rotation_to_aligned: rotation,
    };
    let mut galaxy = Galaxy::new(meta);
    for species in Species::ALL {
        if file.link_exists(species.group_name()) {
            let group =
                file.group(species.group_name()).map_err(|e| ctx.hdf5(&format!("opening group {species}"), e))?;
            galaxy.set_species(species, ctx.read_particles(&group, species.group_name())?);
        }
    }
    if file.link_exists("truth") {
        let group = file.group("truth").map_err(|e| ctx.hdf5("opening group truth", e))?;
        galaxy.truth = Some(ctx.read_truth(&group, &galaxy)?);
    }
    Ok(galaxy)
}

/// Writes a galaxy file atomically (temporary file in the same folder, then rename), creating parent folders.
pub fn write(path: &Path, galaxy: &Galaxy) -> Result<(), SnapshotError> {
    let io = |context: &str, source| SnapshotError::Io { path: path.to_owned(), context: context.to_owned(), source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| io("creating the parent folder", e))?;
    }
    let tmp = temporary_path(path);
    let result =
        write_to(&tmp, galaxy).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| io("renaming into place", e)));
    if result.is_err() {
        // Best effort: the temporary file is garbage whatever happened.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_to(path: &Path, galaxy: &Galaxy) -> Result<(), SnapshotError> {
    let ctx = Ctx { path };
    let file = hdf5::File::create(path).map_err(|e| ctx.hdf5("creating the file", e))?;
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
        let group = file.create_group(name).map_err(|e| ctx.hdf5(&format!("creating group {name}"), e))?;
        ctx.write_particles(&group, name, particles)?;
    }
    if let Some(truth) = &galaxy.truth {
        let group = file.create_group("truth").map_err(|e| ctx.hdf5("creating group truth", e))?;
        ctx.write_truth(&group, truth)?;
    }
    file.flush().map_err(|e| ctx.hdf5("flushing", e))?;
    Ok(())
}

/// The file being read or written, for error context.
struct Ctx<'a> {
    path: &'a Path,
}

fn join(group: &str, name: &str) -> String {
    if group.is_empty() {
        name.to_owned()
    } else {
        format!("{group}/{name}")
    }
}

impl Ctx<'_> {
    fn hdf5(&self, context: &str, source: hdf5::Error) -> SnapshotError {
        SnapshotError::Hdf5 { path: self.path.to_owned(), context: context.to_owned(), source }
    }

    fn missing(&self, kind: &'static str, name: String) -> SnapshotError {
        SnapshotError::Missing { path: self.path.to_owned(), kind, name }
    }

    fn bad_field(&self, field: &str, expected: impl Into<String>, got: impl Into<String>) -> SnapshotError {
        SnapshotError::BadField {
            path: self.path.to_owned(),
            field: field.to_owned(),
            expected: expected.into(),
            got: got.into(),
        }
    }

    fn invalid(&self, group: &str, source: CoreError) -> SnapshotError {
        SnapshotError::Invalid {
            path: self.path.to_owned(),
            group: if group.is_empty() { "/".into() } else { group.into() },
            source,
        }
    }

    fn attr(&self, loc: &Location, group: &str, name: &str) -> Result<hdf5::Attribute, SnapshotError> {
        let names = loc.attr_names().map_err(|e| self.hdf5(&format!("listing attributes of `{group}`"), e))?;
        if !names.iter().any(|n| n == name) {
            return Err(self.missing("attribute", join(group, name)));
        }
        loc.attr(name).map_err(|e| self.hdf5(&format!("opening attribute {}", join(group, name)), e))
    }

    fn read_scalar_attr<T: H5Type>(&self, loc: &Location, group: &str, name: &str) -> Result<T, SnapshotError> {
        let attr = self.attr(loc, group, name)?;
        attr.read_scalar::<T>().map_err(|e| self.hdf5(&format!("reading attribute {}", join(group, name)), e))
    }

    /// Reads a string attribute whether it is variable-length (h5py's default for `str`) or fixed-length, UTF-8 or
    /// ASCII.
    fn read_string_attr(&self, loc: &Location, group: &str, name: &str) -> Result<String, SnapshotError> {
        let attr = self.attr(loc, group, name)?;
        let full = join(group, name);
        let desc = attr
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(|e| self.hdf5(&format!("reading the type of attribute {full}"), e))?;
        let read_err = |e| self.hdf5(&format!("reading attribute {full}"), e);
        let text = match desc {
            TypeDescriptor::VarLenUnicode => attr.read_scalar::<VarLenUnicode>().map_err(read_err)?.as_str().to_owned(),
            TypeDescriptor::VarLenAscii => {
                attr.read_scalar::<hdf5::types::VarLenAscii>().map_err(read_err)?.as_str().to_owned()
            }
            TypeDescriptor::FixedAscii(_) => attr
                .read_scalar::<hdf5::types::FixedAscii<1024>>()
                .map_err(read_err)?
                .as_str()
                .trim_end_matches('\0')
                .to_owned(),
            TypeDescriptor::FixedUnicode(_) => attr
                .read_scalar::<hdf5::types::FixedUnicode<1024>>()
                .map_err(read_err)?
                .as_str()
                .trim_end_matches('\0')
                .to_owned(),
            other => return Err(self.bad_field(&full, "a string", format!("{other:?}"))),
        };
        Ok(text)
    }

    fn read_rotation(&self, file: &hdf5::File) -> Result<Rotation, SnapshotError> {
        let attr = self.attr(file, "", "rotation_to_aligned")?;
        let shape = attr.shape();
        if shape != [3, 3] {
            return Err(self.bad_field("rotation_to_aligned", "shape (3, 3)", format!("shape {shape:?}")));
        }
        let m = attr.read_2d::<f64>().map_err(|e| self.hdf5("reading attribute rotation_to_aligned", e))?;
        let matrix =
            [[m[[0, 0]], m[[0, 1]], m[[0, 2]]], [m[[1, 0]], m[[1, 1]], m[[1, 2]]], [m[[2, 0]], m[[2, 1]], m[[2, 2]]]];
        Rotation::from_matrix(matrix).map_err(|e| self.invalid("", e))
    }

    fn write_string_attr(&self, loc: &Location, name: &str, value: &str) -> Result<(), SnapshotError> {
        let text: VarLenUnicode =
            value.parse().map_err(|_| self.bad_field(name, "a string without NUL characters", format!("{value:?}")))?;
        loc.new_attr::<VarLenUnicode>()
            .create(name)
            .and_then(|a| a.write_scalar(&text))
            .map_err(|e| self.hdf5(&format!("writing attribute {name}"), e))
    }

    fn write_scalar_attr<T: H5Type>(&self, loc: &Location, name: &str, value: &T) -> Result<(), SnapshotError> {
        loc.new_attr::<T>()
            .create(name)
            .and_then(|a| a.write_scalar(value))
            .map_err(|e| self.hdf5(&format!("writing attribute {name}"), e))
    }

    fn dataset(&self, group: &Group, gname: &str, name: &str) -> Result<Dataset, SnapshotError> {
        if !group.link_exists(name) {
            return Err(self.missing("dataset", join(gname, name)));
        }
        group.dataset(name).map_err(|e| self.hdf5(&format!("opening dataset {}", join(gname, name)), e))
    }

    fn read_1d(&self, group: &Group, gname: &str, name: &str) -> Result<Array1<f64>, SnapshotError> {
        let full = join(gname, name);
        let ds = self.dataset(group, gname, name)?;
        let shape = ds.shape();
        if shape.len() != 1 {
            return Err(self.bad_field(&full, "a 1-d dataset", format!("shape {shape:?}")));
        }
        self.check_numeric(&ds, &full)?;
        ds.read_1d::<f64>().map_err(|e| self.hdf5(&format!("reading dataset {full}"), e))
    }

    fn read_nx3(&self, group: &Group, gname: &str, name: &str) -> Result<Array2<f64>, SnapshotError> {
        let full = join(gname, name);
        let ds = self.dataset(group, gname, name)?;
        let shape = ds.shape();
        if shape.len() != 2 || shape[1] != 3 {
            return Err(self.bad_field(&full, "shape (N, 3)", format!("shape {shape:?}")));
        }
        self.check_numeric(&ds, &full)?;
        ds.read_2d::<f64>().map_err(|e| self.hdf5(&format!("reading dataset {full}"), e))
    }

    fn check_numeric(&self, ds: &Dataset, full: &str) -> Result<(), SnapshotError> {
        let desc = ds
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(|e| self.hdf5(&format!("reading the type of {full}"), e))?;
        match desc {
            TypeDescriptor::Float(_) | TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => Ok(()),
            other => Err(self.bad_field(full, "a numeric dataset", format!("{other:?}"))),
        }
    }

    fn read_particles(&self, group: &Group, gname: &str) -> Result<Particles, SnapshotError> {
        let pos = self.read_nx3(group, gname, "pos")?;
        let vel = self.read_nx3(group, gname, "vel")?;
        let mass = self.read_1d(group, gname, "mass")?;
        let mut particles = Particles::new(pos, vel, mass).map_err(|e| self.invalid(gname, e))?;
        for field in ScalarField::ALL {
            if group.link_exists(field.dataset_name()) {
                let values = self.read_1d(group, gname, field.dataset_name())?;
                particles.set_field(field, values).map_err(|e| self.invalid(gname, e))?;
            }
        }
        if group.link_exists("id") {
            let full = join(gname, "id");
            let ds = self.dataset(group, gname, "id")?;
            match ds
                .dtype()
                .and_then(|t| t.to_descriptor())
                .map_err(|e| self.hdf5(&format!("reading the type of {full}"), e))?
            {
                TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {}
                other => return Err(self.bad_field(&full, "an integer dataset", format!("{other:?}"))),
            }
            let ids = ds.read_1d::<u64>().map_err(|e| self.hdf5(&format!("reading dataset {full}"), e))?;
            particles.set_ids(ids).map_err(|e| self.invalid(gname, e))?;
        }
        if group.link_exists("high_res") {
            particles.set_high_res(self.read_flags(group, gname, "high_res")?).map_err(|e| self.invalid(gname, e))?;
        }
        let names = group.member_names().map_err(|e| self.hdf5(&format!("listing group {gname}"), e))?;
        for name in names.iter().filter(|n| n.starts_with("lum_")) {
            let full = join(gname, name);
            let lum_lsun = self.read_1d(group, gname, name)?;
            let ds = self.dataset(group, gname, name)?;
            let solar_abs_mag_ab = self.read_scalar_attr::<f64>(&ds, &full, "solar_abs_mag_ab")?;
            particles
                .set_luminosity(&name["lum_".len()..], BandLuminosity { lum_lsun, solar_abs_mag_ab })
                .map_err(|e| self.invalid(gname, e))?;
        }
        Ok(particles)
    }

    /// Boolean flags: HDF5 enums of int8 (h5py's and hdf5-rust's `bool`) or plain integers, 0 = false.
    fn read_flags(&self, group: &Group, gname: &str, name: &str) -> Result<Array1<bool>, SnapshotError> {
        let full = join(gname, name);
        let ds = self.dataset(group, gname, name)?;
        let desc = ds
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(|e| self.hdf5(&format!("reading the type of {full}"), e))?;
        let read_err = |e| self.hdf5(&format!("reading dataset {full}"), e);
        match desc {
            TypeDescriptor::Boolean => ds.read_1d::<bool>().map_err(read_err),
            TypeDescriptor::Enum(e) if e.members.iter().all(|m| m.value <= 1) => {
                // An enum of {FALSE: 0, TRUE: 1} with other member names: read the raw integers.
                let raw: Array1<i8> = ds.as_reader().read_raw::<i8>().map(Array1::from).map_err(read_err)?;
                Ok(raw.mapv(|v| v != 0))
            }
            TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) => {
                Ok(ds.read_1d::<i64>().map_err(read_err)?.mapv(|v| v != 0))
            }
            other => Err(self.bad_field(&full, "a boolean or integer dataset", format!("{other:?}"))),
        }
    }

    fn write_dataset<'d, A, D>(
        &self,
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
        let full = join(gname, name);
        let view: ndarray::ArrayView<'d, f64, D> = data.into();
        let ds = group
            .new_dataset_builder()
            .with_data(&view)
            .create(name)
            .map_err(|e| self.hdf5(&format!("writing dataset {full}"), e))?;
        self.write_string_attr(&ds, "units", units)?;
        Ok(ds)
    }

    fn write_particles(&self, group: &Group, gname: &str, p: &Particles) -> Result<(), SnapshotError> {
        self.write_dataset(group, gname, "pos", p.pos_kpc(), "kpc")?;
        self.write_dataset(group, gname, "vel", p.vel_kms(), "km/s")?;
        self.write_dataset(group, gname, "mass", p.mass_msun(), "Msun")?;
        for (field, values) in p.fields() {
            self.write_dataset(group, gname, field.dataset_name(), values, field.unit())?;
        }
        if let Some(ids) = p.ids() {
            let ds = group
                .new_dataset_builder()
                .with_data(ids)
                .create("id")
                .map_err(|e| self.hdf5(&format!("writing dataset {gname}/id"), e))?;
            self.write_string_attr(&ds, "units", "1")?;
        }
        if let Some(flags) = p.high_res() {
            let ds = group
                .new_dataset_builder()
                .with_data(flags)
                .create("high_res")
                .map_err(|e| self.hdf5(&format!("writing dataset {gname}/high_res"), e))?;
            self.write_string_attr(&ds, "units", "1")?;
        }
        for (band, lum) in p.luminosities() {
            let ds =
                self.write_dataset(group, gname, &format!("lum_{band}"), &lum.lum_lsun, &format!("Lsun_{band}"))?;
            self.write_scalar_attr(&ds, "solar_abs_mag_ab", &lum.solar_abs_mag_ab)?;
        }
        Ok(())
    }

    fn read_truth(&self, group: &Group, galaxy: &Galaxy) -> Result<TruthProfiles, SnapshotError> {
        let radii = self.read_1d(group, "truth", "radii_kpc")?;
        let mut cumulative = BTreeMap::new();
        let mut half = BTreeMap::new();
        for species in Species::ALL {
            let name = format!("mass_{species}_msun");
            if group.link_exists(&name) {
                cumulative.insert(species, self.read_1d(group, "truth", &name)?);
                let attr = format!("half_mass_radius_{species}_kpc");
                if group.attr_names().map_err(|e| self.hdf5("listing attributes of truth", e))?.contains(&attr) {
                    half.insert(species, self.read_scalar_attr::<f64>(group, "truth", &attr)?);
                }
            } else if galaxy.species(species).is_some() {
                return Err(self.missing("dataset", format!("truth/{name}")));
            }
        }
        let half_total = self.read_scalar_attr::<f64>(group, "truth", "half_mass_radius_total_kpc")?;
        let source = TruthSource::from_attribute(&self.read_string_attr(group, "truth", "source")?);
        let mut truth =
            TruthProfiles::new(radii, cumulative, half, half_total, source).map_err(|e| self.invalid("truth", e))?;
        let attrs = group.attr_names().map_err(|e| self.hdf5("listing attributes of truth", e))?;
        if attrs.iter().any(|a| a == "scalar_names") {
            let names = self.read_string_attr(group, "truth", "scalar_names")?;
            for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let value = self.read_scalar_attr::<f64>(group, "truth", name)?;
                truth.set_scalar(name, value).map_err(|e| self.invalid("truth", e))?;
            }
        }
        Ok(truth)
    }

    fn write_truth(&self, group: &Group, truth: &TruthProfiles) -> Result<(), SnapshotError> {
        self.write_dataset(group, "truth", "radii_kpc", truth.radii_kpc(), "kpc")?;
        for species in truth.species().collect::<Vec<_>>() {
            if let Some(profile) = truth.cumulative_msun(species) {
                self.write_dataset(group, "truth", &format!("mass_{species}_msun"), profile, "Msun")?;
            }
            if let Some(r) = truth.half_mass_radius_kpc(Some(species)) {
                self.write_scalar_attr(group, &format!("half_mass_radius_{species}_kpc"), &r)?;
            }
        }
        self.write_dataset(group, "truth", "mass_total_msun", &truth.total_msun(), "Msun")?;
        self.write_scalar_attr(
            group,
            "half_mass_radius_total_kpc",
            &truth.half_mass_radius_kpc(None).unwrap_or(f64::NAN),
        )?;
        let mut names = Vec::new();
        for (name, value) in truth.scalars() {
            self.write_scalar_attr(group, name, &value)?;
            names.push(name);
        }
        if !names.is_empty() {
            self.write_string_attr(group, "scalar_names", &names.join(","))?;
        }
        self.write_string_attr(group, "source", &truth.source.to_attribute())
    }
}
