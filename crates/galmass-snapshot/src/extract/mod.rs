//! Galaxy extraction, whatever the format: centring, the stellar frame, truth from particles, and the papers'
//! selection filters.
//!
//! - Centre: [`shrinking_sphere_centre`] (Power et al. 2003: the centre of mass within a sphere that shrinks by
//!   2.5% per step until it holds `min_particles`), or [`potential_minimum_centre`] when the snapshot has a
//!   `Potential` field; [`bulk_velocity`] is the mass-weighted mean velocity of the stars within a radius of it.
//! - [`centre_galaxy`] moves every species to that frame (positions stay in the box orientation), sets
//!   `rotation_to_aligned` from the stars' angular momentum (`galmass_core::kinematics`) and, unless the galaxy
//!   already has one, the truth from its own particles (`TruthProfiles::from_particles`, "the galaxy's own
//!   particles": subhalo or halo members as the reader selected them).
//! - [`Filter`]: each selection of the papers as a named, tested filter with the value it measured, so a batch run
//!   records why a galaxy was skipped.
//! - [`halos`]: a snapshot opened once for its halos ([`halos::HaloSource`]) and the per-halo steps of
//!   `galmass extract` ([`halos::Extractor`]: read, skip without stars, centre, truth from the members or from a
//!   sphere of the region, filters).
//!
//! ```
//! use galmass_core::{Galaxy, GalaxyMeta, Particles, Species};
//! use galmass_snapshot::extract::{centre_galaxy, CentreMethod, Filter, GalaxyContext};
//! use ndarray::{array, Array2};
//! let stars = Particles::new(array![[10.0, 0.0, 0.0], [12.0, 0.0, 0.0], [11.0, 1.0, 0.0]], Array2::zeros((3, 3)), array![1.0, 1.0, 1.0]).unwrap();
//! let mut galaxy = Galaxy::new(GalaxyMeta::new("example", 0));
//! galaxy.set_species(Species::Stars, stars);
//! let centred = centre_galaxy(&galaxy, &CentreMethod::ShrinkingSpheres { initial_radius_kpc: 50.0, min_particles: 2 }).unwrap();
//! assert!(centred.stars().unwrap().pos_kpc()[[0, 0]].abs() < 2.0);
//! let outcome = Filter::MinParticles { species: Species::Stars, min: 50 }.evaluate(&centred, &GalaxyContext::default()).unwrap();
//! assert!(!outcome.passed);
//! ```

pub mod halos;

use galmass_core::kinematics::{aligned_frame_and_kappa_co, KAPPA_APERTURE_KPC};
use galmass_core::{CoreError, Galaxy, Particles, ScalarField, Species};
use serde::{Deserialize, Serialize};

/// How to find a galaxy's centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CentreMethod {
    /// Shrinking spheres on the stars, starting from their centre of mass.
    ShrinkingSpheres {
        /// Radius of the first sphere, kpc.
        initial_radius_kpc: f64,
        /// Stop when the sphere holds fewer stars than this.
        min_particles: usize,
    },
    /// The particle (any species) with the lowest `potential`.
    PotentialMinimum,
    /// A given position (e.g. the group catalogue's `SubhaloPos`), kpc.
    Given {
        /// The centre, kpc, in the snapshot frame.
        centre_kpc: [f64; 3],
    },
}

fn centre_of_mass(p: &Particles, indices: &[usize]) -> Option<[f64; 3]> {
    let (pos, mass) = (p.pos_kpc(), p.mass_msun());
    let total: f64 = indices.iter().map(|&i| mass[i]).sum();
    if total.is_nan() || total <= 0.0 {
        return None;
    }
    let mut c = [0.0; 3];
    for &i in indices {
        for (k, ck) in c.iter_mut().enumerate() {
            *ck += mass[i] * pos[[i, k]];
        }
    }
    Some(c.map(|x| x / total))
}

/// The shrinking-sphere centre of `particles` (Power et al. 2003): from the centre of mass of all of them, repeatedly
/// the centre of mass within a sphere of radius r about the last centre, r shrinking by 2.5% per step, until fewer
/// than `min_particles` remain (or 1000 steps).
pub fn shrinking_sphere_centre(
    particles: &Particles,
    initial_radius_kpc: f64,
    min_particles: usize,
) -> Result<[f64; 3], CoreError> {
    if particles.is_empty() {
        return Err(CoreError::invalid("centre", "no particles to centre on"));
    }
    if !(initial_radius_kpc.is_finite() && initial_radius_kpc > 0.0) {
        return Err(CoreError::invalid("initial_radius_kpc", format!("must be positive, got {initial_radius_kpc}")));
    }
    let all: Vec<usize> = (0..particles.len()).collect();
    let mut centre =
        centre_of_mass(particles, &all).ok_or_else(|| CoreError::invalid("mass", "total mass is not positive"))?;
    let pos = particles.pos_kpc();
    let mut radius = initial_radius_kpc;
    // Each sphere's members are sought among the previous sphere's members when the new sphere lies inside the
    // previous one (the centre moved less than the radius shrank), among all particles otherwise: the scan shrinks
    // with the sphere and the result is the same as rescanning everything.
    let mut candidates = all.clone();
    for _ in 0..1000 {
        let distance2 = |i: usize| (0..3).map(|k| (pos[[i, k]] - centre[k]).powi(2)).sum::<f64>();
        let inside: Vec<usize> = candidates.iter().copied().filter(|&i| distance2(i) < radius * radius).collect();
        if inside.len() < min_particles.max(1) {
            break;
        }
        let Some(next) = centre_of_mass(particles, &inside) else { break };
        let shift = (0..3).map(|k| (next[k] - centre[k]).powi(2)).sum::<f64>().sqrt();
        let next_radius = radius * 0.975;
        candidates = if shift <= radius - next_radius { inside } else { all.clone() };
        centre = next;
        radius = next_radius;
    }
    Ok(centre)
}

/// Position of the particle with the lowest gravitational potential over every species that has `potential`.
pub fn potential_minimum_centre(galaxy: &Galaxy) -> Result<[f64; 3], CoreError> {
    let mut best: Option<(f64, [f64; 3])> = None;
    for (_, p) in galaxy.all_species() {
        if let Some(phi) = p.field(ScalarField::PotentialKms2) {
            for (i, &v) in phi.iter().enumerate() {
                if v.is_finite() && best.is_none_or(|(b, _)| v < b) {
                    let row = p.pos_kpc().row(i);
                    best = Some((v, [row[0], row[1], row[2]]));
                }
            }
        }
    }
    best.map(|(_, c)| c).ok_or_else(|| CoreError::invalid("potential", "no particle carries a finite potential"))
}

/// Mass-weighted mean velocity of `particles` within `radius_kpc` of `centre_kpc` (all of them when none is inside).
pub fn bulk_velocity(particles: &Particles, centre_kpc: [f64; 3], radius_kpc: f64) -> [f64; 3] {
    let pos = particles.pos_kpc();
    let inside: Vec<usize> = (0..particles.len())
        .filter(|&i| (0..3).map(|k| (pos[[i, k]] - centre_kpc[k]).powi(2)).sum::<f64>() < radius_kpc * radius_kpc)
        .collect();
    let chosen = if inside.is_empty() { (0..particles.len()).collect() } else { inside };
    let (vel, mass) = (particles.vel_kms(), particles.mass_msun());
    let total: f64 = chosen.iter().map(|&i| mass[i]).sum();
    if total.is_nan() || total <= 0.0 {
        return [0.0; 3];
    }
    let mut v = [0.0; 3];
    for &i in &chosen {
        for (k, vk) in v.iter_mut().enumerate() {
            *vk += mass[i] * vel[[i, k]] / total;
        }
    }
    v
}

/// A galaxy moved to its centre, and the centre and bulk velocity it was moved by (in the frame it was read in).
#[derive(Debug, Clone)]
pub struct CentredGalaxy {
    /// The centred galaxy.
    pub galaxy: Galaxy,
    /// The centre found, kpc, in the input frame.
    pub centre_kpc: [f64; 3],
    /// The stars' bulk velocity removed, km/s.
    pub velocity_kms: [f64; 3],
}

/// The galaxy moved to its centre and the stars' bulk velocity (within [`KAPPA_APERTURE_KPC`]), with
/// `rotation_to_aligned` from the stars and, when it has none, the truth counted from its own particles on 256 radii
/// from 0.01 kpc to the farthest particle ([`halos::truth_from_particles`]).
pub fn centre_galaxy(galaxy: &Galaxy, method: &CentreMethod) -> Result<Galaxy, CoreError> {
    centre_galaxy_in_frame(galaxy, method).map(|c| c.galaxy)
}

/// [`centre_galaxy`], also returning the centre and bulk velocity used.
pub fn centre_galaxy_in_frame(galaxy: &Galaxy, method: &CentreMethod) -> Result<CentredGalaxy, CoreError> {
    let stars = galaxy.stars()?;
    let centre = match method {
        CentreMethod::ShrinkingSpheres { initial_radius_kpc, min_particles } => {
            shrinking_sphere_centre(stars, *initial_radius_kpc, *min_particles)?
        }
        CentreMethod::PotentialMinimum => potential_minimum_centre(galaxy)?,
        CentreMethod::Given { centre_kpc } => *centre_kpc,
    };
    let velocity = bulk_velocity(stars, centre, KAPPA_APERTURE_KPC);
    let mut out = Galaxy::new(galaxy.meta.clone());
    for (species, p) in galaxy.all_species() {
        out.set_species(species, p.shifted(centre, velocity));
    }
    let (rotation, _) = aligned_frame_and_kappa_co(out.stars()?)?;
    out.meta.rotation_to_aligned = rotation;
    out.truth = match &galaxy.truth {
        Some(t) => Some(t.clone()),
        None => Some(halos::truth_from_particles(&out, "the galaxy's own particles")?),
    };
    Ok(CentredGalaxy { galaxy: out, centre_kpc: centre, velocity_kms: velocity })
}

/// What a catalogue says of a galaxy beyond its particles (unknown fields are `None`; filters needing them fail).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GalaxyContext {
    /// Central (true) or satellite.
    pub central: Option<bool>,
    /// Subfind's `SubhaloFlag` (true: of cosmological origin).
    pub subhalo_flag: Option<bool>,
    /// Star formation rate, Msun/yr.
    pub sfr_msun_per_yr: Option<f64>,
    /// Virial radius, kpc (for the high-resolution fraction).
    pub r_vir_kpc: Option<f64>,
}

/// A selection of the papers, evaluated on a centred galaxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Filter {
    /// Stellar mass within a 3-D aperture in [min, max] Msun (chu2024: > 5e9 within 30 kpc; sarrato2025 and
    /// exposito2026: 1e5.5..1e11; delosrios2023: 1e10..1e12).
    StellarMass {
        /// Lower bound, Msun.
        min_msun: f64,
        /// Upper bound, Msun.
        max_msun: f64,
        /// Aperture radius, kpc (infinite: all the galaxy's stars).
        aperture_kpc: f64,
    },
    /// At least `min` particles of a species (sarrato2025: 50 stars; exposito2026: 100 stars and 100 gas).
    MinParticles {
        /// The species.
        species: Species,
        /// Minimum count.
        min: usize,
    },
    /// High-resolution dark-matter mass fraction within the virial radius above `min` (NIHAO/AURIGA/FIRE: 0.95).
    HighResFraction {
        /// Minimum fraction.
        min: f64,
    },
    /// Dispersion supported: kappa_co below `max` (sarrato2025: 0.5, Correa et al. 2017).
    KappaCoBelow {
        /// Upper bound.
        max: f64,
    },
    /// Cold gas (HI as its proxy): M_HI above `min_msun` and M_HI / M* above `min_ratio` (exposito2026: 1e7.5, 0.1).
    ColdGas {
        /// Minimum HI mass, Msun.
        min_msun: f64,
        /// Minimum HI-to-stellar mass ratio.
        min_ratio: f64,
    },
    /// Central galaxies only (delosrios2023: SubhaloParent = 0).
    Central,
    /// Subfind's `SubhaloFlag` = 1 (delosrios2023).
    SubhaloFlag,
    /// Star formation rate at least `min` Msun/yr (delosrios2023: 0.1).
    MinSfr {
        /// Minimum SFR, Msun/yr.
        min_msun_per_yr: f64,
    },
}

/// A filter's verdict on one galaxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterOutcome {
    /// The filter's name (`stellar-mass`, `kappa-co-below`, ...).
    pub filter: &'static str,
    /// Whether the galaxy passes.
    pub passed: bool,
    /// The value measured (mass, count, fraction, kappa_co, ratio; 1/0 for flags).
    pub value: f64,
}

impl Filter {
    /// The filter's name as in configs.
    pub fn name(&self) -> &'static str {
        match self {
            Filter::StellarMass { .. } => "stellar-mass",
            Filter::MinParticles { .. } => "min-particles",
            Filter::HighResFraction { .. } => "high-res-fraction",
            Filter::KappaCoBelow { .. } => "kappa-co-below",
            Filter::ColdGas { .. } => "cold-gas",
            Filter::Central => "central",
            Filter::SubhaloFlag => "subhalo-flag",
            Filter::MinSfr { .. } => "min-sfr",
        }
    }

    /// Evaluates the filter on a centred galaxy; an error when the galaxy or its context lacks what the filter
    /// needs (no stars, no catalogue flag, no high-resolution flags).
    pub fn evaluate(&self, galaxy: &Galaxy, context: &GalaxyContext) -> Result<FilterOutcome, CoreError> {
        let outcome = |passed: bool, value: f64| Ok(FilterOutcome { filter: self.name(), passed, value });
        let missing = |what: &str| Err(CoreError::invalid(self.name(), format!("needs {what}")));
        let mass_within = |p: &Particles, r: f64| -> f64 {
            p.radii_kpc().iter().zip(p.mass_msun().iter()).filter(|(ri, _)| **ri < r).map(|(_, m)| m).sum()
        };
        match *self {
            Filter::StellarMass { min_msun, max_msun, aperture_kpc } => {
                let m = mass_within(galaxy.stars()?, aperture_kpc);
                outcome((min_msun..=max_msun).contains(&m), m)
            }
            Filter::MinParticles { species, min } => {
                let n = galaxy.species(species).map_or(0, Particles::len);
                outcome(n >= min, n as f64)
            }
            Filter::HighResFraction { min } => {
                let Some(dm) = galaxy.species(Species::Dm) else { return missing("dark matter") };
                let Some(flags) = dm.high_res() else { return missing("high_res flags on the dark matter") };
                let r_vir = context.r_vir_kpc.unwrap_or(f64::INFINITY);
                let radii = dm.radii_kpc();
                let (mut hi, mut all) = (0.0, 0.0);
                for i in 0..dm.len() {
                    if radii[i] < r_vir {
                        all += dm.mass_msun()[i];
                        if flags[i] {
                            hi += dm.mass_msun()[i];
                        }
                    }
                }
                let fraction = if all > 0.0 { hi / all } else { 0.0 };
                outcome(fraction > min, fraction)
            }
            Filter::KappaCoBelow { max } => {
                let (_, kappa) = aligned_frame_and_kappa_co(galaxy.stars()?)?;
                outcome(kappa < max, kappa)
            }
            Filter::ColdGas { min_msun, min_ratio } => {
                let hi = galaxy
                    .species(Species::Gas)
                    .and_then(|g| g.field(ScalarField::HiMassMsun))
                    .map_or(0.0, |h| h.sum());
                let m_star = galaxy.stars()?.total_mass_msun();
                let ratio = if m_star > 0.0 { hi / m_star } else { f64::INFINITY };
                outcome(hi > min_msun && ratio > min_ratio, hi)
            }
            Filter::Central => match context.central {
                Some(c) => outcome(c, f64::from(u8::from(c))),
                None => missing("the catalogue's central flag"),
            },
            Filter::SubhaloFlag => match context.subhalo_flag {
                Some(f) => outcome(f, f64::from(u8::from(f))),
                None => missing("the catalogue's SubhaloFlag"),
            },
            Filter::MinSfr { min_msun_per_yr } => match context.sfr_msun_per_yr {
                Some(sfr) => outcome(sfr >= min_msun_per_yr, sfr),
                None => missing("the catalogue's star formation rate"),
            },
        }
    }
}

/// Every filter's outcome; the galaxy passes when all pass. The first error (a filter that cannot be evaluated)
/// is returned as is.
pub fn apply_filters(
    filters: &[Filter],
    galaxy: &Galaxy,
    context: &GalaxyContext,
) -> Result<Vec<FilterOutcome>, CoreError> {
    filters.iter().map(|f| f.evaluate(galaxy, context)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use galmass_core::GalaxyMeta;
    use ndarray::{Array1, Array2};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A Plummer sphere of `n` particles (scale 1 kpc) centred at `centre`, moving with `velocity`, on a circular
    /// rotation about z of speed `v_rot` at every radius, plus 1% of particles spread uniformly over a 400-kpc box to
    /// one side of it (offsets 0..400 kpc on each axis).
    fn plummer(n: usize, centre: [f64; 3], velocity: [f64; 3], v_rot: f64, seed: u64) -> Particles {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut pos = Array2::zeros((n, 3));
        let mut vel = Array2::zeros((n, 3));
        for i in 0..n {
            let p = if i % 100 == 0 {
                [rng.random_range(0.0..400.0), rng.random_range(0.0..400.0), rng.random_range(0.0..400.0)]
            } else {
                let u: f64 = rng.random_range(1e-6..0.999);
                let r = 1.0 / (u.powf(-2.0 / 3.0) - 1.0).sqrt();
                let cos_t: f64 = rng.random_range(-1.0..1.0);
                let phi: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                let s = (1.0 - cos_t * cos_t).sqrt();
                [r * s * phi.cos(), r * s * phi.sin(), r * cos_t]
            };
            let r_cyl = p[0].hypot(p[1]).max(1e-9);
            let v = [-v_rot * p[1] / r_cyl, v_rot * p[0] / r_cyl, 0.0];
            for k in 0..3 {
                pos[[i, k]] = p[k] + centre[k];
                vel[[i, k]] = v[k] + velocity[k];
            }
        }
        Particles::new(pos, vel, Array1::from_elem(n, 1e5)).unwrap()
    }

    #[test]
    fn shrinking_spheres_find_the_density_peak_despite_outliers() {
        let centre = [5000.0, -300.0, 42.0];
        let stars = plummer(20_000, centre, [100.0, -50.0, 20.0], 0.0, 1);
        // The plain centre of mass is pulled ~2 kpc off by the one-sided 1%; the shrinking sphere is not.
        let all: Vec<usize> = (0..stars.len()).collect();
        let com = centre_of_mass(&stars, &all).unwrap();
        assert!((com[0] - centre[0]).abs() > 1.0, "{com:?}");
        let c = shrinking_sphere_centre(&stars, 200.0, 1000).unwrap();
        for k in 0..3 {
            assert!((c[k] - centre[k]).abs() < 0.1, "{c:?}");
        }
        let empty = shrinking_sphere_centre(&Particles::empty(), 10.0, 10);
        assert!(matches!(&empty, Err(CoreError::InvalidParameter { name, .. }) if name == "centre"), "{empty:?}");
        let negative = shrinking_sphere_centre(&stars, -1.0, 10);
        assert!(
            matches!(&negative, Err(CoreError::InvalidParameter { name, .. }) if name == "initial_radius_kpc"),
            "{negative:?}"
        );
    }

    #[test]
    fn centring_removes_position_and_bulk_velocity_and_aligns_the_spin() {
        let stars = plummer(20_000, [10.0, 20.0, 30.0], [100.0, -50.0, 20.0], 80.0, 2);
        let mut galaxy = Galaxy::new(GalaxyMeta::new("test", 0));
        galaxy.set_species(Species::Stars, stars.clone());
        galaxy.set_species(Species::Dm, plummer(5_000, [10.0, 20.0, 30.0], [100.0, -50.0, 20.0], 0.0, 3));
        let centred =
            centre_galaxy(&galaxy, &CentreMethod::ShrinkingSpheres { initial_radius_kpc: 100.0, min_particles: 200 })
                .unwrap();
        let s = centred.stars().unwrap();
        let v = bulk_velocity(s, [0.0; 3], 30.0);
        assert!(v.iter().all(|x| x.abs() < 1.0), "{v:?}");
        // Rotation about +z stays +z.
        let z = centred.meta.rotation_to_aligned.apply([0.0, 0.0, 1.0]);
        assert!((z[2] - 1.0).abs() < 1e-3, "{z:?}");
        // The truth is counted from the particles: half the Plummer mass (99% of it) within ~1.3 kpc.
        let truth = centred.truth.as_ref().unwrap();
        let m = truth.enclosed_mass_msun(Some(Species::Stars), 1.3048).unwrap() / s.total_mass_msun();
        assert!((m - 0.495).abs() < 0.02, "{m}");
        // A given centre is used as is; the potential minimum needs a potential.
        let given = centre_galaxy(&galaxy, &CentreMethod::Given { centre_kpc: [10.0, 20.0, 30.0] }).unwrap();
        assert!((given.stars().unwrap().pos_kpc()[[1, 0]] - (stars.pos_kpc()[[1, 0]] - 10.0)).abs() < 1e-12);
        let no_potential = centre_galaxy(&galaxy, &CentreMethod::PotentialMinimum);
        assert!(
            matches!(&no_potential, Err(CoreError::InvalidParameter { name, .. }) if name == "potential"),
            "{no_potential:?}"
        );
        // The centre and velocity it reports are the ones removed.
        let framed = centre_galaxy_in_frame(&galaxy, &CentreMethod::Given { centre_kpc: [10.0, 20.0, 30.0] }).unwrap();
        assert_eq!(framed.centre_kpc, [10.0, 20.0, 30.0]);
        let v0 = stars.vel_kms()[[0, 0]] - framed.velocity_kms[0];
        assert!((framed.galaxy.stars().unwrap().vel_kms()[[0, 0]] - v0).abs() < 1e-12);
    }

    #[test]
    fn potential_minimum_is_the_deepest_particle() {
        let mut stars = plummer(100, [0.0; 3], [0.0; 3], 0.0, 4);
        let phi = Array1::from_shape_fn(100, |i| if i == 37 { -5e4 } else { -1e4 + i as f64 });
        stars.set_field(ScalarField::PotentialKms2, phi).unwrap();
        let mut galaxy = Galaxy::new(GalaxyMeta::new("test", 0));
        galaxy.set_species(Species::Stars, stars.clone());
        let c = potential_minimum_centre(&galaxy).unwrap();
        assert_eq!(c, [stars.pos_kpc()[[37, 0]], stars.pos_kpc()[[37, 1]], stars.pos_kpc()[[37, 2]]]);
    }

    #[test]
    fn filters_measure_and_decide() {
        let mut galaxy = Galaxy::new(GalaxyMeta::new("test", 0));
        galaxy.set_species(Species::Stars, plummer(1000, [0.0; 3], [0.0; 3], 0.0, 5));
        let mut dm = plummer(1000, [0.0; 3], [0.0; 3], 0.0, 6);
        dm.set_high_res(Array1::from_shape_fn(1000, |i| i % 50 != 0)).unwrap();
        galaxy.set_species(Species::Dm, dm);
        let mut gas = plummer(200, [0.0; 3], [0.0; 3], 0.0, 7);
        gas.set_field(ScalarField::HiMassMsun, Array1::from_elem(200, 2e5)).unwrap();
        galaxy.set_species(Species::Gas, gas);
        let ctx = GalaxyContext {
            central: Some(false),
            subhalo_flag: Some(true),
            sfr_msun_per_yr: Some(0.05),
            r_vir_kpc: Some(150.0),
        };
        let run = |f: Filter| f.evaluate(&galaxy, &ctx).unwrap();
        // 1000 stars of 1e5 Msun: 1e8 Msun in all; the 1% spread over the box falls mostly outside 30 kpc.
        let all = run(Filter::StellarMass { min_msun: 5e7, max_msun: 1e11, aperture_kpc: f64::INFINITY });
        assert!(all.passed && (all.value - 1e8).abs() < 1.0);
        let inner = run(Filter::StellarMass { min_msun: 1e8, max_msun: 1e11, aperture_kpc: 30.0 });
        assert!(!inner.passed && inner.value < 1e8);
        assert!(run(Filter::MinParticles { species: Species::Stars, min: 50 }).passed);
        assert!(!run(Filter::MinParticles { species: Species::Bh, min: 1 }).passed);
        let hires = run(Filter::HighResFraction { min: 0.95 });
        assert!(hires.passed && (hires.value - 0.98).abs() < 0.01, "{hires:?}");
        assert!(!run(Filter::HighResFraction { min: 0.99 }).passed);
        let kappa = run(Filter::KappaCoBelow { max: 0.5 });
        assert!(kappa.passed && kappa.value < 0.3, "{kappa:?}");
        // HI 4e7 Msun, 0.4 of M*.
        let cold = run(Filter::ColdGas { min_msun: 10f64.powf(7.5), min_ratio: 0.1 });
        assert!(cold.passed && (cold.value - 4e7).abs() < 1.0);
        assert!(!run(Filter::ColdGas { min_msun: 1e8, min_ratio: 0.1 }).passed);
        assert!(!run(Filter::Central).passed && run(Filter::SubhaloFlag).passed);
        assert!(!run(Filter::MinSfr { min_msun_per_yr: 0.1 }).passed);
        // What a filter needs but lacks is an error, not a silent pass.
        let no_flag = Filter::Central.evaluate(&galaxy, &GalaxyContext::default());
        assert!(matches!(&no_flag, Err(CoreError::InvalidParameter { name, .. }) if name == "central"), "{no_flag:?}");
        let no_flags = {
            let mut g = galaxy.clone();
            g.set_species(Species::Dm, plummer(10, [0.0; 3], [0.0; 3], 0.0, 8));
            g
        };
        let unflagged = Filter::HighResFraction { min: 0.95 }.evaluate(&no_flags, &ctx);
        assert!(
            matches!(&unflagged, Err(CoreError::InvalidParameter { name, .. }) if name == "high-res-fraction"),
            "{unflagged:?}"
        );
        let outcomes = apply_filters(
            &[Filter::MinParticles { species: Species::Stars, min: 50 }, Filter::SubhaloFlag],
            &galaxy,
            &ctx,
        )
        .unwrap();
        assert!(outcomes.iter().all(|o| o.passed));
        // Filters parse from TOML-like configs by name.
        let parsed: Filter = serde_json::from_str(r#"{"kind": "kappa-co-below", "max": 0.5}"#).unwrap();
        assert_eq!(parsed, Filter::KappaCoBelow { max: 0.5 });
    }
}
