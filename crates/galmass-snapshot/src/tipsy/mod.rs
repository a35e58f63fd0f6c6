//! NIHAO / Gasoline / ChaNGa snapshots: standard tipsy files with their `.param` file, auxiliary arrays and AHF
//! halo catalogues, read behind [`SnapshotReader`] and written from galmass galaxies.
//!
//! # Reading
//! [`TipsySnapshot::open`] parses the 32-byte header (byte order detected from `ndim`), checks the counts against
//! the file size, finds the `.param` file and the auxiliary arrays `.iord` (particle ids) and `.HI`, and converts to
//! internal physical units as pynbody 2.8 does:
//!
//! - positions: `x a dKpcUnit` kpc (a = header time when `bComove = 1`, else 1);
//! - velocities: `v a v_unit` km/s, with `v_unit = sqrt(G dMsolUnit / dKpcUnit)` ([`param::UnitConvention`]).
//!   pynbody multiplies comoving tipsy velocities by a (its unit `km s^-1 a`); galmass reproduces that;
//! - masses: `m dMsolUnit` Msun; gas density `rho M / L^3 / a^3`, potential `phi v_unit^2 / a`;
//! - stars: `tform` in code time units (L / v_unit) as the formation time; `age_gyr` = age of the universe at the
//!   snapshot minus tform ([`param::TipsyUnits::time_now_gyr`], the core cosmology; header time x time unit when
//!   not comoving);
//! - h = `dHubble0 x 10 v_unit / dKpcUnit`; redshift 1/a - 1;
//! - ids from `.iord` when present; HI masses of gas from `.HI` as `mass x HI` ([`auxiliary`]);
//! - dark matter heavier than [`LOW_RES_MASS_FACTOR`] times the lightest dark particle is low resolution
//!   (`high_res = false`), the rest high resolution.
//!
//! Record precision ([`format::TipsyPrecision`]): the option when given, else `bDoublePos` / `bDoubleVel` from the
//! `.param` file when either is set there, else the layout whose size matches the file.
//!
//! # Without a `.param` file
//! The units are in the `.param` file, not in the tipsy file. When none is found beside the snapshot (or in its
//! parent folder) and none is given, [`TipsySnapshot::open`] still succeeds: the header (time, counts per species,
//! byte order, precision) is known and [`SnapshotHeader::units`] is `None` with a note saying why, but reading
//! particles is [`SnapshotError::UnitsUnknown`] naming the file. Give a `.param` elsewhere
//! ([`TipsyOptions::param_path`]) or the units themselves ([`TipsyOptions::units`], [`param::ExplicitUnits`]).
//!
//! # Writing
//! [`write::write_galaxies`] places galmass galaxies in one big-endian tipsy snapshot with `.param`, `.iord`,
//! `.HI`, `.AHF_halos` and `.AHF_particles`, every file written atomically.
//!
//! ```no_run
//! use galmass_core::Species;
//! use galmass_snapshot::reader::{ParticleSelection, SnapshotReader};
//! use galmass_snapshot::tipsy::{param::UnitConvention, TipsyOptions, TipsySnapshot};
//! let snapshot = TipsySnapshot::open("g8.26e11.01024".as_ref(), &TipsyOptions::new(UnitConvention::Pynbody28))?;
//! let stars = snapshot.read_species(Species::Stars, &ParticleSelection::All)?;
//! println!("z = {:?}: {} stars", snapshot.header().redshift, stars.len());
//! # Ok::<(), galmass_snapshot::SnapshotError>(())
//! ```

pub mod ahf;
pub mod auxiliary;
pub mod format;
pub mod halo;
pub mod param;
pub mod write;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use galmass_core::{CoreError, Particles, ScalarField, Species};
use ndarray::{Array1, Array2};

use crate::error::SnapshotError;
use crate::reader::{ParticleSelection, SnapshotFormat, SnapshotHeader, SnapshotReader, TipsyDetails};
use auxiliary::{AuxKind, AuxValues};
use format::{RawRecords, TipsyHeader, TipsyPrecision};
use param::{ExplicitUnits, ParamFile, TipsyUnits, UnitConvention};

/// Dark particles heavier than this factor times the lightest dark particle are low resolution (zoom simulations
/// such as NIHAO have one high-resolution mass and heavier boundary particles, a factor 8 or more apart).
pub const LOW_RES_MASS_FACTOR: f64 = 1.5;

/// How to open a tipsy snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct TipsyOptions {
    /// Velocity-unit convention.
    pub convention: UnitConvention,
    /// The `.param` file; `None` looks in the snapshot's folder, then its parent (unless `units` are given).
    pub param_path: Option<PathBuf>,
    /// Units given explicitly instead of a `.param` file (exclusive with `param_path`).
    pub units: Option<ExplicitUnits>,
    /// Record precision; `None` detects it (module docs).
    pub precision: Option<TipsyPrecision>,
    /// Low-resolution threshold on dark masses, as a factor of the lightest.
    pub low_res_mass_factor: f64,
}

impl TipsyOptions {
    /// Options with the given convention, the `.param` found beside the snapshot, detected precision and
    /// [`LOW_RES_MASS_FACTOR`].
    pub fn new(convention: UnitConvention) -> Self {
        Self { convention, param_path: None, units: None, precision: None, low_res_mass_factor: LOW_RES_MASS_FACTOR }
    }
}

/// The species tipsy holds, in file order.
pub const TIPSY_SPECIES: [Species; 3] = [Species::Gas, Species::Dm, Species::Stars];

/// Where a snapshot's units come from.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamSource {
    /// A `.param` file.
    File(PathBuf),
    /// Units given explicitly ([`TipsyOptions::units`]).
    Explicit,
}

impl std::fmt::Display for ParamSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamSource::File(path) => write!(f, "{}", path.display()),
            ParamSource::Explicit => write!(f, "units given explicitly"),
        }
    }
}

/// A tipsy snapshot opened for reading.
#[derive(Debug, Clone)]
pub struct TipsySnapshot {
    header: SnapshotHeader,
    tipsy: TipsyHeader,
    precision: TipsyPrecision,
    /// `None`: no `.param` and no explicit units (header only).
    units: Option<TipsyUnits>,
    /// The parameters the units come from (a `.param` file, or the explicit units as one) and where from.
    param: Option<(ParamFile, ParamSource)>,
    iord: Option<Vec<u64>>,
    hi_fraction: Option<Vec<f64>>,
    min_dark_mass: Option<f64>,
    low_res_mass_factor: f64,
}

fn io(path: &Path, context: &str) -> impl FnOnce(std::io::Error) -> SnapshotError {
    let path = path.to_owned();
    let context = context.to_owned();
    move |source| SnapshotError::Io { path, context, source }
}

fn invalid(path: &Path, species: Species) -> impl Fn(CoreError) -> SnapshotError {
    let path = path.to_owned();
    move |source| SnapshotError::Invalid { path: path.clone(), group: species.group_name().into(), source }
}

/// An auxiliary array's path: `<snapshot>.<name>`.
pub fn aux_path(snapshot: &Path, name: &str) -> PathBuf {
    let mut s = snapshot.as_os_str().to_os_string();
    s.push(".");
    s.push(name);
    PathBuf::from(s)
}

/// Files beside the snapshot named `<snapshot name>.<anything><suffix>` (e.g. `.AHF_halos`), sorted.
pub fn find_companions(snapshot: &Path, suffix: &str) -> Vec<PathBuf> {
    let Some(name) = snapshot.file_name().map(|n| n.to_string_lossy().into_owned()) else { return Vec::new() };
    let dir = snapshot.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let prefix = format!("{name}.");
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) && n.ends_with(suffix)
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// The `.param` file of a snapshot: in its folder, else the parent folder; among several, the one whose
/// `achOutName` starts the snapshot's name, else the first by name.
pub fn find_param_file(snapshot: &Path) -> Option<PathBuf> {
    let name = snapshot.file_name()?.to_string_lossy().into_owned();
    let dir = snapshot.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    for folder in [Some(dir.clone()), dir.parent().map(Path::to_owned)].into_iter().flatten() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        let mut params: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "param") && p.is_file())
            .collect();
        params.sort();
        let matching = params.iter().find(|p| {
            ParamFile::read(p).ok().and_then(|f| f.get("achOutName").map(str::to_owned)).is_some_and(|out| {
                let base = out.rsplit('/').next().unwrap_or(&out).to_owned();
                !base.is_empty() && name.starts_with(&base)
            })
        });
        if let Some(p) = matching.or(params.first()) {
            return Some(p.clone());
        }
    }
    None
}

impl TipsySnapshot {
    /// Opens a snapshot: header, file-size check, the units (`options.param_path`, `options.units`, or the `.param`
    /// found beside the file; none of them: units unknown, header only, see the module docs), `.iord` and `.HI`
    /// (when present), lightest dark mass.
    pub fn open(path: &Path, options: &TipsyOptions) -> Result<Self, SnapshotError> {
        let mut file = File::open(path).map_err(io(path, "opening the tipsy file"))?;
        let file_bytes = file.metadata().map_err(io(path, "reading the file size"))?.len();
        let mut head = Vec::with_capacity(32);
        (&mut file).take(32).read_to_end(&mut head).map_err(io(path, "reading the header"))?;
        let tipsy = format::parse_header(&head, path)?;

        let param = match (&options.param_path, &options.units) {
            (Some(_), Some(_)) => {
                return Err(SnapshotError::Malformed {
                    path: path.to_owned(),
                    field: "units".into(),
                    reason: "give either a .param file or explicit units, not both".into(),
                })
            }
            (Some(p), None) => Some((ParamFile::read(p)?, ParamSource::File(p.clone()))),
            (None, Some(units)) => Some((units.to_param(options.convention), ParamSource::Explicit)),
            (None, None) => match find_param_file(path) {
                Some(p) => Some((ParamFile::read(&p)?, ParamSource::File(p))),
                None => None,
            },
        };
        let requested = match (options.precision, &param) {
            (Some(p), _) => Some(p),
            (None, Some((param, source))) if param.get("bDoublePos").is_some() || param.get("bDoubleVel").is_some() => {
                let at = match source {
                    ParamSource::File(p) => p.as_path(),
                    ParamSource::Explicit => path,
                };
                Some(match (param.get_flag("bDoublePos", at)?, param.get_flag("bDoubleVel", at)?) {
                    (false, false) => TipsyPrecision::Single,
                    (true, false) => TipsyPrecision::DoublePositions,
                    (_, true) => TipsyPrecision::DoublePositionsAndVelocities,
                })
            }
            (None, _) => None,
        };
        let precision = format::resolve_precision(&tipsy, file_bytes, requested, path)?;
        let units = match &param {
            Some((param, ParamSource::File(p))) => {
                Some(TipsyUnits::from_param(param, options.convention, tipsy.time, p)?)
            }
            Some((param, ParamSource::Explicit)) => {
                Some(TipsyUnits::from_param(param, options.convention, tipsy.time, path)?)
            }
            None => None,
        };
        if options.low_res_mass_factor.is_nan() || options.low_res_mass_factor < 1.0 {
            return Err(SnapshotError::Malformed {
                path: path.to_owned(),
                field: "low_res_mass_factor".into(),
                reason: format!("{} is below 1", options.low_res_mass_factor),
            });
        }

        let iord_path = aux_path(path, "iord");
        let iord = if iord_path.is_file() {
            let values = auxiliary::read_aux_array(&iord_path, tipsy.n_total, tipsy.byte_order, AuxKind::Int)?;
            let ints = match values {
                AuxValues::Int(ints) => ints,
                AuxValues::Float(_) => return Err(not_integers(&iord_path)),
            };
            let mut ids = Vec::with_capacity(ints.len());
            for (index, value) in ints.into_iter().enumerate() {
                ids.push(u64::try_from(value).map_err(|_| SnapshotError::Malformed {
                    path: iord_path.clone(),
                    field: format!("iord[{index}]"),
                    reason: format!("negative particle id {value}"),
                })?);
            }
            Some(ids)
        } else {
            None
        };
        let hi_path = aux_path(path, "HI");
        let hi_fraction = if hi_path.is_file() {
            let values = auxiliary::read_aux_array(&hi_path, tipsy.n_total, tipsy.byte_order, AuxKind::Float)?;
            Some(values.to_f64())
        } else {
            None
        };

        let mut snapshot = Self {
            header: SnapshotHeader {
                format: SnapshotFormat::Tipsy,
                path: path.to_owned(),
                n_particles: TIPSY_SPECIES.iter().map(|&s| (s, tipsy.count(s))).collect(),
                scale_factor: units.map(|u| u.scale_factor),
                redshift: units.map(|u| 1.0 / u.scale_factor - 1.0),
                hubble_param: units.and_then(|u| u.hubble_param),
                box_size_kpc: units.filter(|u| u.comoving).map(|u| u.length_kpc * u.scale_factor),
                units: None,
                note: units.is_none().then(|| {
                    format!(
                        "units unknown: no .param file beside {} or in its parent folder; reading particles needs \
                         --param FILE or the unit flags (--dkpcunit, --dmsolunit, --comoving, --hubble)",
                        path.display()
                    )
                }),
                tipsy: Some(TipsyDetails {
                    time: tipsy.time,
                    n_total: tipsy.n_total,
                    byte_order: tipsy.byte_order,
                    precision,
                }),
                fields: BTreeMap::new(),
            },
            tipsy,
            precision,
            units,
            param,
            iord,
            hi_fraction,
            min_dark_mass: None,
            low_res_mass_factor: options.low_res_mass_factor,
        };
        snapshot.header.units = snapshot.describe_units(options.convention);
        for species in TIPSY_SPECIES {
            let mut names: Vec<String> = ["mass", "pos", "vel"].iter().map(|s| (*s).to_owned()).collect();
            names.extend(format::extra_field_names(species).iter().map(|s| (*s).to_owned()));
            if snapshot.iord.is_some() {
                names.push("iord".into());
            }
            if species == Species::Gas && snapshot.hi_fraction.is_some() {
                names.push("HI".into());
            }
            snapshot.header.fields.insert(species, names);
        }
        if snapshot.units.is_some() {
            snapshot.min_dark_mass = snapshot.lightest_dark_mass()?;
        }
        Ok(snapshot)
    }

    fn describe_units(&self, convention: UnitConvention) -> Option<String> {
        let u = self.units.as_ref()?;
        let (_, source) = self.param.as_ref()?;
        let a = if u.comoving { " x a" } else { "" };
        Some(format!(
            "tipsy with {} ({convention:?}): positions x {} kpc{a}, velocities x {} km/s{a} (as pynbody), masses x {} \
             Msun, tform x {} Gyr; HI mass = mass x HI; dark matter above {} x the lightest mass is low resolution",
            source, u.length_kpc, u.velocity_kms, u.mass_msun, u.time_gyr, self.low_res_mass_factor
        ))
    }

    fn lightest_dark_mass(&self) -> Result<Option<f64>, SnapshotError> {
        let n = self.tipsy.n_dark;
        let record = self.precision.record_bytes(Species::Dm);
        let mut file = File::open(&self.header.path).map_err(io(&self.header.path, "opening the tipsy file"))?;
        let offset = self.tipsy.species_offset(Species::Dm, self.precision);
        file.seek(SeekFrom::Start(offset)).map_err(io(&self.header.path, "seeking to the dark records"))?;
        let chunk_records = 65_536u64;
        let mut min: Option<f64> = None;
        let mut done = 0;
        let mut buffer = Vec::new();
        while done < n {
            let count = chunk_records.min(n - done);
            buffer.resize((count * record) as usize, 0);
            file.read_exact(&mut buffer).map_err(io(&self.header.path, "reading the dark records"))?;
            for chunk in buffer.chunks_exact(record as usize) {
                let m = self.tipsy.byte_order.f32([chunk[0], chunk[1], chunk[2], chunk[3]]) as f64;
                if m.is_finite() && m > 0.0 {
                    min = Some(min.map_or(m, |x: f64| x.min(m)));
                }
            }
            done += count;
        }
        Ok(min.zip(self.units).map(|(m, u)| m * u.mass_msun))
    }

    /// The tipsy header.
    pub fn tipsy_header(&self) -> &TipsyHeader {
        &self.tipsy
    }

    /// The record precision in use.
    pub fn precision(&self) -> TipsyPrecision {
        self.precision
    }

    /// The unit system and cosmology; `None` without a `.param` file or explicit units.
    pub fn units(&self) -> Option<&TipsyUnits> {
        self.units.as_ref()
    }

    /// The units, or [`SnapshotError::UnitsUnknown`] naming the file.
    pub fn require_units(&self) -> Result<&TipsyUnits, SnapshotError> {
        self.units.as_ref().ok_or_else(|| SnapshotError::UnitsUnknown { path: self.header.path.clone() })
    }

    /// The parameters the units come from (the `.param` file, or explicit units as one) and where from.
    pub fn param(&self) -> Option<(&ParamFile, &ParamSource)> {
        self.param.as_ref().map(|(p, s)| (p, s))
    }

    /// Particle ids from `.iord`, over the whole file, when present.
    pub fn iord(&self) -> Option<&[u64]> {
        self.iord.as_deref()
    }

    /// The lightest dark particle mass in Msun (the high-resolution mass of a zoom); `None` without units.
    pub fn lightest_dark_mass_msun(&self) -> Option<f64> {
        self.min_dark_mass
    }

    /// Reads the auxiliary array `<snapshot>.<name>` (one value per particle of the file); `kind` defaults to
    /// [`AuxKind::for_name`].
    pub fn read_aux(&self, name: &str, kind: Option<AuxKind>) -> Result<AuxValues, SnapshotError> {
        let path = aux_path(&self.header.path, name);
        auxiliary::read_aux_array(
            &path,
            self.tipsy.n_total,
            self.tipsy.byte_order,
            kind.unwrap_or(AuxKind::for_name(name)),
        )
    }

    /// The AHF halo table beside the snapshot (`<snapshot>.*AHF_halos`), when there is one.
    pub fn ahf_halos_path(&self) -> Option<PathBuf> {
        find_companions(&self.header.path, ".AHF_halos").into_iter().next()
    }

    /// The AHF particle lists beside the snapshot (`<snapshot>.*AHF_particles`), when there are some.
    pub fn ahf_particles_path(&self) -> Option<PathBuf> {
        find_companions(&self.header.path, ".AHF_particles").into_iter().next()
    }

    /// Index ranges `(start, len)` of a selection within a species, clipped to its count.
    fn ranges(&self, species: Species, selection: &ParticleSelection) -> Vec<(u64, u64)> {
        let n = self.tipsy.count(species);
        match selection {
            ParticleSelection::All => vec![(0, n)],
            ParticleSelection::Ranges(ranges) => ranges
                .iter()
                .map(|&(start, len)| (start.min(n), start.saturating_add(len).min(n).saturating_sub(start.min(n))))
                .filter(|&(_, len)| len > 0)
                .collect(),
        }
    }

    /// The selected records of a species in code units, and their indices in the whole file.
    pub fn read_raw(
        &self,
        species: Species,
        selection: &ParticleSelection,
    ) -> Result<(RawRecords, Vec<u64>), SnapshotError> {
        let mut out = RawRecords::default();
        let mut indices = Vec::new();
        let record = self.precision.record_bytes(species);
        if record == 0 {
            return Ok((out, indices));
        }
        let path = &self.header.path;
        let mut file = File::open(path).map_err(io(path, "opening the tipsy file"))?;
        let base = self.tipsy.species_offset(species, self.precision);
        let first = self.tipsy.species_first_index(species);
        let mut buffer = Vec::new();
        for (start, len) in self.ranges(species, selection) {
            file.seek(SeekFrom::Start(base + start * record)).map_err(io(path, "seeking to the records"))?;
            buffer.resize((len * record) as usize, 0);
            file.read_exact(&mut buffer).map_err(io(path, &format!("reading {} records", species.group_name())))?;
            format::decode_records(&buffer, species, self.precision, self.tipsy.byte_order, &mut out);
            indices.extend((start..start + len).map(|i| first + i));
        }
        if out.extra.is_empty() {
            out.extra = format::extra_field_names(species).iter().map(|&n| (n, Vec::new())).collect();
        }
        Ok((out, indices))
    }

    /// Formation times of the selected stars in Gyr since the big bang (tform x time unit, as pynbody).
    pub fn read_tform_gyr(&self, selection: &ParticleSelection) -> Result<Vec<f64>, SnapshotError> {
        let time_gyr = self.require_units()?.time_gyr;
        let (raw, _) = self.read_raw(Species::Stars, selection)?;
        Ok(extra(&raw, "tform").iter().map(|t| t * time_gyr).collect())
    }
}

fn not_integers(path: &Path) -> SnapshotError {
    SnapshotError::BadField {
        path: path.to_owned(),
        field: "iord".into(),
        expected: "integers".into(),
        got: "floats".into(),
    }
}

fn extra<'a>(raw: &'a RawRecords, name: &str) -> &'a [f64] {
    raw.extra.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_slice()).unwrap_or(&[])
}

impl SnapshotReader for TipsySnapshot {
    fn header(&self) -> &SnapshotHeader {
        &self.header
    }

    fn read_species(&self, species: Species, selection: &ParticleSelection) -> Result<Particles, SnapshotError> {
        if !TIPSY_SPECIES.contains(&species) {
            return Ok(Particles::empty());
        }
        let path = &self.header.path;
        let u = self.require_units()?;
        let (raw, indices) = self.read_raw(species, selection)?;
        let n = raw.mass.len();
        let to_array2 = |values: &[f64], factor: f64| {
            Array2::from_shape_fn((n, 3), |(i, k)| values.get(3 * i + k).copied().unwrap_or(f64::NAN) * factor)
        };
        let pos = to_array2(&raw.pos, u.position_factor_kpc());
        let vel = to_array2(&raw.vel, u.velocity_factor_kms());
        let mass = Array1::from_iter(raw.mass.iter().map(|m| m * u.mass_msun));
        let mut particles = Particles::new(pos, vel, mass).map_err(invalid(path, species))?;
        let a = u.scale_factor;
        let scaled = |name: &str, factor: f64| Array1::from_iter(extra(&raw, name).iter().map(|x| x * factor));
        let mut fields = vec![(ScalarField::PotentialKms2, scaled("phi", u.velocity_kms * u.velocity_kms / a))];
        match species {
            Species::Gas => {
                fields.push((ScalarField::DensityMsunPerKpc3, scaled("rho", u.mass_msun / (u.length_kpc * a).powi(3))));
                fields.push((ScalarField::TemperatureK, scaled("temp", 1.0)));
                fields.push((ScalarField::Metallicity, scaled("metals", 1.0)));
                if let Some(hi) = &self.hi_fraction {
                    let hi_mass = Array1::from_iter(
                        indices
                            .iter()
                            .zip(particles.mass_msun().iter())
                            .map(|(&i, m)| m * hi.get(i as usize).copied().unwrap_or(f64::NAN)),
                    );
                    fields.push((ScalarField::HiMassMsun, hi_mass));
                }
            }
            Species::Stars => {
                fields.push((ScalarField::Metallicity, scaled("metals", 1.0)));
                if let Some(now) = u.time_now_gyr(self.tipsy.time) {
                    let age = Array1::from_iter(extra(&raw, "tform").iter().map(|t| now - t * u.time_gyr));
                    fields.push((ScalarField::AgeGyr, age));
                }
            }
            _ => {}
        }
        for (field, values) in fields {
            particles.set_field(field, values).map_err(invalid(path, species))?;
        }
        if let Some(iord) = &self.iord {
            let ids =
                indices.iter().map(|&i| iord.get(i as usize).copied()).collect::<Option<Array1<u64>>>().ok_or_else(
                    || SnapshotError::Malformed {
                        path: aux_path(path, "iord"),
                        field: "iord".into(),
                        reason: format!("fewer ids than the snapshot's {} particles", self.tipsy.n_total),
                    },
                )?;
            particles.set_ids(ids).map_err(invalid(path, species))?;
        }
        if species == Species::Dm {
            if let Some(min) = self.min_dark_mass {
                let limit = self.low_res_mass_factor * min;
                let flags = Array1::from_iter(particles.mass_msun().iter().map(|&m| m <= limit));
                particles.set_high_res(flags).map_err(invalid(path, species))?;
            }
        }
        Ok(particles)
    }
}
