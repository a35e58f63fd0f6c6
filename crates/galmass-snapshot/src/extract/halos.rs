//! Extracting halos of a snapshot as centred galaxies, whatever the format: the library side of `galmass extract`.
//!
//! A [`HaloSource`] is a snapshot opened once for every halo (its catalogue and AHF lists read once): the AHF halos
//! of a tipsy zoom, the Subfind subhalos or FoF groups of a TNG- or AURIGA-layout Arepo run, or the main galaxy of a
//! Gizmo (FIRE-2) zoom. An [`Extractor`] runs each halo through the same steps: read its particles, skip it when it
//! has no stars (centring, the stellar frame and every paper's selection need them), centre it
//! ([`super::centre_galaxy_in_frame`]), count the truth from its own particles or from every particle of its region
//! within a sphere ([`sphere_truth`]), and apply the selection filters. Each outcome is a [`HaloOutcome`]: the
//! centred galaxy, or the reason it was skipped ([`SkipReason`]).
//!
//! ```no_run
//! use galmass_snapshot::extract::halos::{ExtractParams, Extractor, HaloOutcome, HaloSource, HaloSourceOptions};
//! let source = HaloSource::open("output".as_ref(), &HaloSourceOptions { snap: Some(99), ..Default::default() })?;
//! let mut extractor = Extractor::new(&source, ExtractParams::default());
//! for id in source.halo_ids(false) {
//!     match extractor.extract(id)? {
//!         HaloOutcome::Extracted(galaxy) => println!("halo {id}: {} stars", galaxy.stars()?.len()),
//!         HaloOutcome::Skipped(reason) => println!("halo {id}: skipped: {reason}"),
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use galmass_core::galaxy::{log_spaced_radii, TruthProfiles};
use galmass_core::{CoreError, Galaxy, GalaxyMeta, Species};
use serde::{Deserialize, Serialize};

use super::{apply_filters, centre_galaxy_in_frame, CentreMethod, Filter, FilterOutcome, GalaxyContext};
use crate::arepo::catalogue::TngBox;
use crate::error::SnapshotError;
use crate::gizmo::GizmoSnapshot;
use crate::reader::{detect_format, ParticleSelection, SnapshotFormat, SnapshotReader};
use crate::tipsy::ahf::AhfMembers;
use crate::tipsy::param::UnitConvention;
use crate::tipsy::{TipsyOptions, TipsySnapshot};

/// Radii of a truth profile counted from particles: from 0.01 kpc to just beyond the farthest particle.
pub const TRUTH_RADII: usize = 256;
/// Innermost radius of a truth profile counted from particles, kpc.
pub const TRUTH_R_MIN_KPC: f64 = 0.01;

/// The truth of `galaxy` counted from its particles (centred) on [`TRUTH_RADII`] log-spaced radii from
/// [`TRUTH_R_MIN_KPC`] to 1.001 times the farthest particle (at least 0.02 kpc), labelled `selection`.
pub fn truth_from_particles(galaxy: &Galaxy, selection: &str) -> Result<TruthProfiles, CoreError> {
    let r_max = galaxy.all_species().flat_map(|(_, p)| p.radii_kpc().to_vec()).fold(0.0f64, f64::max);
    TruthProfiles::from_particles(
        galaxy,
        log_spaced_radii(TRUTH_R_MIN_KPC, r_max.max(0.02) * 1.001, TRUTH_RADII)?,
        selection,
    )
}

/// The truth counted from every particle of `region` within the farthest particle of `centred` (`centre_kpc`: the
/// centre of `centred` in the frame of `region`; velocities are not used). The spatial selection of
/// `galmass extract --truth sphere`: the FoF group of a subhalo, or the whole zoom, about the galaxy's centre.
pub fn sphere_truth(centred: &Galaxy, region: &Galaxy, centre_kpc: [f64; 3]) -> Result<TruthProfiles, CoreError> {
    let r_max = centred.all_species().flat_map(|(_, p)| p.radii_kpc().to_vec()).fold(0.02f64, f64::max);
    let mut inside = Galaxy::new(centred.meta.clone());
    for (species, p) in region.all_species() {
        let shifted = p.shifted(centre_kpc, [0.0; 3]);
        let keep: Vec<usize> =
            shifted.radii_kpc().iter().enumerate().filter(|(_, r)| **r <= r_max).map(|(i, _)| i).collect();
        inside.set_species(species, shifted.select(&keep)?);
    }
    let radii = log_spaced_radii(TRUTH_R_MIN_KPC, r_max * 1.001, TRUTH_RADII)?;
    TruthProfiles::from_particles(&inside, radii, "all particles within the sphere of the farthest member")
}

/// How a [`HaloSource`] is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct HaloSourceOptions {
    /// The format; detected when `None`.
    pub format: Option<SnapshotFormat>,
    /// Snapshot number of a TNG- or AURIGA-layout Arepo run (needed for Arepo).
    pub snap: Option<u32>,
    /// How a tipsy snapshot is opened (its `.param`, or explicit units).
    pub tipsy: TipsyOptions,
}

impl Default for HaloSourceOptions {
    fn default() -> Self {
        Self { format: None, snap: None, tipsy: TipsyOptions::new(UnitConvention::Pynbody28) }
    }
}

/// A snapshot opened for extraction, once for every halo.
#[derive(Debug)]
pub enum HaloSource {
    /// A tipsy zoom and the halo lists of its `.AHF_particles`.
    Tipsy(Box<TipsySnapshot>, Vec<AhfMembers>),
    /// A TNG- or AURIGA-layout Arepo run.
    Arepo(Box<TngBox>),
    /// A Gizmo (FIRE-2) zoom.
    Gizmo(Box<GizmoSnapshot>),
}

/// One halo as read: its particles (snapshot frame; a Gizmo zoom comes centred), catalogue context and catalogue
/// centre when known.
#[derive(Debug, Clone)]
pub struct HaloRead {
    /// The particles.
    pub galaxy: Galaxy,
    /// What the catalogue says (central, SubhaloFlag, SFR).
    pub context: GalaxyContext,
    /// The catalogue position (Arepo SubhaloPos/GroupPos; the origin of a centred Gizmo zoom).
    pub catalogue_centre_kpc: Option<[f64; 3]>,
}

impl HaloSource {
    /// Opens `path` (module docs); an Arepo run without `options.snap` is [`SnapshotError::Missing`].
    pub fn open(path: &Path, options: &HaloSourceOptions) -> Result<Self, SnapshotError> {
        let format = match options.format {
            Some(f) => f,
            None => detect_format(path)?,
        };
        Ok(match format {
            SnapshotFormat::Tipsy => {
                let snap = TipsySnapshot::open(path, &options.tipsy)?;
                let members = snap.ahf_members()?;
                HaloSource::Tipsy(Box::new(snap), members)
            }
            SnapshotFormat::Arepo => {
                let snap = options.snap.ok_or_else(|| SnapshotError::Missing {
                    path: path.to_owned(),
                    kind: "option",
                    name: "the snapshot number of the Arepo run (--snap)".into(),
                })?;
                HaloSource::Arepo(Box::new(TngBox::open(path, snap)?))
            }
            SnapshotFormat::Gizmo => HaloSource::Gizmo(Box::new(GizmoSnapshot::open(path)?)),
        })
    }

    /// The snapshot file (or first chunk) errors name.
    pub fn path(&self) -> PathBuf {
        match self {
            HaloSource::Tipsy(snap, _) => snap.header().path.clone(),
            HaloSource::Arepo(tng) => tng.snapshot().header().path.clone(),
            HaloSource::Gizmo(snap) => snap.header().path.clone(),
        }
    }

    /// The snapshot's redshift (0 when unknown).
    pub fn redshift(&self) -> f64 {
        let header = match self {
            HaloSource::Tipsy(snap, _) => snap.header(),
            HaloSource::Arepo(tng) => tng.snapshot().header(),
            HaloSource::Gizmo(snap) => snap.header(),
        };
        header.redshift.unwrap_or(0.0)
    }

    /// Every halo id of the catalogue: AHF halos, subhalos (FoF groups with `groups`), or 0 for a Gizmo zoom.
    pub fn halo_ids(&self, groups: bool) -> Vec<i64> {
        match self {
            HaloSource::Tipsy(_, members) => members.iter().map(|m| m.halo_id).collect(),
            HaloSource::Arepo(tng) => {
                let n = if groups { tng.n_groups() } else { tng.n_subhalos() };
                (0..i64::try_from(n).unwrap_or(i64::MAX)).collect()
            }
            HaloSource::Gizmo(_) => vec![0],
        }
    }

    fn arepo_id(&self, id: i64) -> Result<u64, SnapshotError> {
        u64::try_from(id).map_err(|_| SnapshotError::Malformed {
            path: self.path(),
            field: "halo id".into(),
            reason: format!("{id}: subhalo and group ids are non-negative"),
        })
    }

    /// Halo `id`: an AHF halo, a subhalo (a FoF group with `groups`), or a Gizmo zoom's main galaxy (the particles
    /// within `zoom_radius_kpc` of the stars' shrinking-sphere centre).
    pub fn read_halo(
        &self,
        id: i64,
        groups: bool,
        zoom_radius_kpc: f64,
        meta: GalaxyMeta,
    ) -> Result<HaloRead, SnapshotError> {
        match self {
            HaloSource::Tipsy(snap, members) => {
                let halo = members.iter().find(|m| m.halo_id == id).ok_or_else(|| SnapshotError::Malformed {
                    path: snap.ahf_particles_path().unwrap_or_else(|| self.path()),
                    field: "halo id".into(),
                    reason: format!("no AHF halo {id} among {} halos", members.len()),
                })?;
                let galaxy = snap.read_ahf_members(halo, meta)?;
                Ok(HaloRead { galaxy, context: GalaxyContext::default(), catalogue_centre_kpc: None })
            }
            HaloSource::Arepo(tng) => {
                let uid = self.arepo_id(id)?;
                if groups {
                    let record = tng.group(uid)?;
                    let galaxy = tng.read_group(uid)?.into_galaxy(meta);
                    let context = GalaxyContext { central: Some(true), ..GalaxyContext::default() };
                    Ok(HaloRead { galaxy, context, catalogue_centre_kpc: record.pos_kpc })
                } else {
                    let record = tng.subhalo(uid)?;
                    // A subhalo is its group's central when it is the group's first subhalo.
                    let central = u64::try_from(tng.group(record.group_id)?.first_sub).is_ok_and(|first| first == uid);
                    let context = GalaxyContext {
                        central: Some(central),
                        subhalo_flag: record.flag,
                        sfr_msun_per_yr: record.sfr_msun_per_yr,
                        r_vir_kpc: None,
                    };
                    let galaxy = tng.read_subhalo(uid)?.into_galaxy(meta);
                    Ok(HaloRead { galaxy, context, catalogue_centre_kpc: Some(record.pos_kpc) })
                }
            }
            HaloSource::Gizmo(snap) => {
                let mut galaxy = snap.read_zoom_galaxy(None, zoom_radius_kpc)?;
                galaxy.meta = meta;
                Ok(HaloRead { galaxy, context: GalaxyContext::default(), catalogue_centre_kpc: Some([0.0; 3]) })
            }
        }
    }

    /// Every particle the spatial truth of halo `id` may count, in the frame [`HaloSource::read_halo`] gives the
    /// halo: the FoF group of a subhalo (Arepo, snapshot frame), the whole snapshot (tipsy, snapshot frame; Gizmo,
    /// the zoom's centred frame).
    pub fn region(&self, id: i64, groups: bool, meta: GalaxyMeta) -> Result<Galaxy, SnapshotError> {
        match self {
            HaloSource::Gizmo(snap) => snap.read_zoom_galaxy(None, 1e12),
            HaloSource::Arepo(tng) => {
                let uid = self.arepo_id(id)?;
                let group = if groups { uid } else { tng.subhalo(uid)?.group_id };
                Ok(tng.read_group(group)?.into_galaxy(meta))
            }
            HaloSource::Tipsy(snap, _) => {
                let mut galaxy = Galaxy::new(meta);
                for species in Species::ALL {
                    let particles = snap.read_species(species, &ParticleSelection::All)?;
                    if !particles.is_empty() {
                        galaxy.set_species(species, particles);
                    }
                }
                Ok(galaxy)
            }
        }
    }

    /// Whether the spatial region is the same for every halo (a zoom), so it can be read once.
    fn region_is_shared(&self) -> bool {
        !matches!(self, HaloSource::Arepo(_))
    }
}

/// How an [`Extractor`] centres each halo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CentreChoice {
    /// Shrinking spheres on the stars (Power et al. 2003), from 100 kpc down to 100 stars.
    ShrinkingSpheres,
    /// The particle with the lowest potential.
    Potential,
    /// The catalogue's position (Arepo SubhaloPos or GroupPos).
    Catalogue,
}

/// Which particles the truth counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TruthSelection {
    /// The galaxy's own particles (subhalo or halo members).
    Members,
    /// Every particle of the halo's region (FoF group, or the whole zoom) within the farthest member.
    Sphere,
}

/// What an [`Extractor`] does to each halo.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractParams {
    /// Suite name written into each galaxy's metadata.
    pub suite: String,
    /// Where each galaxy's particles come from (`GalaxyMeta::source`).
    pub source: String,
    /// FoF groups instead of subhalos (Arepo).
    pub groups: bool,
    /// Radius of the sphere read around a Gizmo zoom's centre, kpc.
    pub zoom_radius_kpc: f64,
    /// The centring.
    pub centre: CentreChoice,
    /// The truth's particles.
    pub truth: TruthSelection,
    /// The selection filters; a galaxy failing one is skipped.
    pub filters: Vec<Filter>,
}

impl Default for ExtractParams {
    /// `galmass extract`'s defaults: suite `extracted`, subhalos, 500 kpc zoom spheres, shrinking spheres, the
    /// members' truth, no filters.
    fn default() -> Self {
        Self {
            suite: "extracted".into(),
            source: String::new(),
            groups: false,
            zoom_radius_kpc: 500.0,
            centre: CentreChoice::ShrinkingSpheres,
            truth: TruthSelection::Members,
            filters: Vec::new(),
        }
    }
}

/// Why a halo was skipped; its `Display` is the reason a batch's manifest records.
#[derive(Debug, Clone, PartialEq)]
pub enum SkipReason {
    /// The halo has no star particles (`no star particles`).
    NoStars,
    /// A filter failed (`filter <name> (value <measured>)`).
    Filter(FilterOutcome),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::NoStars => write!(f, "no star particles"),
            SkipReason::Filter(outcome) => write!(f, "filter {} (value {:.4e})", outcome.filter, outcome.value),
        }
    }
}

/// What became of one halo.
#[derive(Debug, Clone)]
pub enum HaloOutcome {
    /// The centred galaxy, with its truth, passing every filter.
    Extracted(Box<Galaxy>),
    /// Skipped, and why.
    Skipped(SkipReason),
}

/// Runs halos of one source through the extraction steps (module docs); a zoom's region is read once.
#[derive(Debug)]
pub struct Extractor<'a> {
    source: &'a HaloSource,
    params: ExtractParams,
    shared_region: Option<Galaxy>,
}

impl<'a> Extractor<'a> {
    /// An extractor of `source` with `params`.
    pub fn new(source: &'a HaloSource, params: ExtractParams) -> Self {
        Self { source, params, shared_region: None }
    }

    fn meta(&self, id: i64) -> GalaxyMeta {
        GalaxyMeta {
            source: self.params.source.clone(),
            redshift: self.source.redshift(),
            ..GalaxyMeta::new(&self.params.suite, id)
        }
    }

    /// Extracts halo `id`. Errors are what cannot be read or computed (a missing halo, a broken file, a filter that
    /// needs a catalogue field the source lacks); a halo without stars or failing a filter is a [`HaloOutcome::Skipped`].
    pub fn extract(&mut self, id: i64) -> Result<HaloOutcome, SnapshotError> {
        let p = &self.params;
        let invalid = |source: CoreError| SnapshotError::Invalid {
            path: self.source.path(),
            group: format!("halo {id}"),
            source,
        };
        let halo = self.source.read_halo(id, p.groups, p.zoom_radius_kpc, self.meta(id))?;
        if halo.galaxy.species(Species::Stars).is_none_or(|s| s.is_empty()) {
            return Ok(HaloOutcome::Skipped(SkipReason::NoStars));
        }
        let method = match p.centre {
            CentreChoice::ShrinkingSpheres => {
                CentreMethod::ShrinkingSpheres { initial_radius_kpc: 100.0, min_particles: 100 }
            }
            CentreChoice::Potential => CentreMethod::PotentialMinimum,
            CentreChoice::Catalogue => CentreMethod::Given {
                centre_kpc: halo.catalogue_centre_kpc.ok_or_else(|| SnapshotError::Missing {
                    path: self.source.path(),
                    kind: "catalogue position",
                    name: format!("halo {id}"),
                })?,
            },
        };
        let centred = centre_galaxy_in_frame(&halo.galaxy, &method).map_err(invalid)?;
        let mut galaxy = centred.galaxy;
        if p.truth == TruthSelection::Sphere {
            let truth = if self.source.region_is_shared() {
                if self.shared_region.is_none() {
                    self.shared_region = Some(self.source.region(id, p.groups, self.meta(id))?);
                }
                match &self.shared_region {
                    Some(region) => sphere_truth(&galaxy, region, centred.centre_kpc),
                    None => return Err(invalid(CoreError::invalid("region", "the zoom region was not read"))),
                }
            } else {
                let region = self.source.region(id, p.groups, self.meta(id))?;
                sphere_truth(&galaxy, &region, centred.centre_kpc)
            };
            galaxy.truth = Some(truth.map_err(invalid)?);
        }
        let outcomes = apply_filters(&p.filters, &galaxy, &halo.context).map_err(invalid)?;
        if let Some(failed) = outcomes.into_iter().find(|o| !o.passed) {
            return Ok(HaloOutcome::Skipped(SkipReason::Filter(failed)));
        }
        Ok(HaloOutcome::Extracted(Box::new(galaxy)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use galmass_core::Particles;
    use ndarray::{array, Array1, Array2};

    fn particles(pos: Array2<f64>, mass: f64) -> Particles {
        let n = pos.nrows();
        Particles::new(pos, Array2::zeros((n, 3)), Array1::from_elem(n, mass)).unwrap()
    }

    #[test]
    fn sphere_truth_counts_every_region_particle_within_the_farthest_member() {
        // The galaxy (centred): two stars, the farthest at 2 kpc. The region (snapshot frame, centre at x = 100):
        // those stars, a dark particle at 1.5 kpc (inside), one at 2.5 kpc (outside) and gas at 0.5 kpc.
        let centre = [100.0, 0.0, 0.0];
        let mut centred = Galaxy::new(GalaxyMeta::new("t", 1));
        centred.set_species(Species::Stars, particles(array![[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]], 10.0));
        let mut region = Galaxy::new(GalaxyMeta::new("t", 1));
        region.set_species(Species::Stars, particles(array![[101.0, 0.0, 0.0], [100.0, 2.0, 0.0]], 10.0));
        region.set_species(Species::Dm, particles(array![[100.0, 0.0, 1.5], [102.5, 0.0, 0.0]], 100.0));
        region.set_species(Species::Gas, particles(array![[100.0, -0.5, 0.0]], 1.0));
        let truth = sphere_truth(&centred, &region, centre).unwrap();
        let at = |species: Option<Species>, r: f64| truth.enclosed_mass_msun(species, r).unwrap();
        approx::assert_relative_eq!(at(Some(Species::Dm), 1.6), 100.0, max_relative = 1e-12);
        approx::assert_relative_eq!(at(Some(Species::Dm), 1.4), 0.0);
        approx::assert_relative_eq!(at(Some(Species::Stars), 2.002), 20.0, max_relative = 1e-12);
        approx::assert_relative_eq!(at(None, 2.002), 121.0, max_relative = 1e-12);
        let last = *truth.radii_kpc().iter().last().unwrap();
        assert!((last - 2.002).abs() < 1e-12, "{last}");
        // The members' truth counts the stars alone.
        let members = truth_from_particles(&centred, "the galaxy's own particles").unwrap();
        approx::assert_relative_eq!(members.enclosed_mass_msun(None, 2.002).unwrap(), 20.0, max_relative = 1e-12);
        assert_eq!(members.radii_kpc().len(), TRUTH_RADII);
    }
}
