//! Building one galaxy of a suite (steps 4-8 of [`super`]): its halo, bulge, stellar disc and HI disc in the
//! spherically averaged total potential, their particles, stellar populations and gas properties, a random
//! orientation, and the analytic truth; with the [`CatalogueRow`] that summarises it.
//!
//! ```
//! use galmass_core::params::Params;
//! use galmass_synth::suite::{build_galaxy, SuiteParams};
//! let mut params = SuiteParams::preset("spheroids").unwrap();
//! params.particles.set_counts(Some(500), Some(1000), None);
//! let built = build_galaxy(&params.check().unwrap(), 2, 9).unwrap();
//! assert_eq!(built.row.n_stars, 500);
//! assert_eq!(built.row.bulge_fraction, 1.0);
//! ```

use std::collections::BTreeMap;

use galmass_core::galaxy::{log_spaced_radii, TruthProfiles, TruthSource};
use galmass_core::geometry::Rotation;
use galmass_core::numeric::interp::interp;
use galmass_core::numeric::roots::bisect_monotonic;
use galmass_core::units::G_KPC_KMS2_PER_MSUN as G;
use galmass_core::{Galaxy, GalaxyMeta, Particles, ScalarField, Species};
use ndarray::{concatenate, Array1, Array2, Axis};
use rand::Rng;

use super::catalogue::CatalogueRow;
use super::draw::{
    draw_globals, particle_count, size_scale_for_half_mass, stream, uniform, BulgeShape, EXPONENTIAL_RE_OVER_RD,
    RADIUS_REL_TOL,
};
use super::params::{AnisotropyParams, BulgeProfile, HaloPrescription, SuiteParams, SuiteValidParams};
use crate::df::{DfAnisotropy, SphericalDf};
use crate::disc::{ExponentialDisc, GasDisc};
use crate::error::SynthError;
use crate::halo::{concentration_dm14, Dc14Shape, HaloModel, HALO_COSMOLOGY};
use crate::populations::{assign_populations, assign_populations_with_bulge};
use crate::profiles::{Composite, SphericalProfile};
use crate::tabulated::TabulatedProfile;

/// Hydrogen mass fraction of the cold gas (primordial, as the simulations assume).
pub const HYDROGEN_MASS_FRACTION: f64 = 0.76;
/// Proton mass over Boltzmann's constant, K / (km/s)^2: T = m_p sigma^2 / k_B.
pub const PROTON_MASS_OVER_BOLTZMANN_K_PER_KMS2: f64 = 1.672_621_923_69e-27 * 1e6 / 1.380_649e-23;

/// A built galaxy and its catalogue line.
#[derive(Debug, Clone)]
pub struct BuiltGalaxy {
    /// The galaxy, with its truth.
    pub galaxy: Galaxy,
    /// The catalogue line.
    pub row: CatalogueRow,
}

/// Builds galaxy `index` of a suite, deterministically for `seed`.
pub fn build_galaxy(params: &SuiteValidParams, index: u64, seed: u64) -> Result<BuiltGalaxy, SynthError> {
    let p = params.params();
    let cosmo = HALO_COSMOLOGY;
    let mut rng = stream(seed, index, 0);
    let d = draw_globals(p, &mut rng)?;
    let nfw = HaloModel::nfw_from_m200(d.m200, d.c200, p.redshift, &cosmo)?;
    let halo = halo_profile(p, &nfw, d.m_star, d.r_e)?;
    let r_outer = if d.central { nfw.r200_kpc } else { d.tidal_fraction * nfw.r200_kpc };
    let halo = if d.central { halo } else { halo.tidally_truncated(r_outer, 0.1)? };
    // The baryons.
    let m_bulge = d.bulge_fraction * d.m_star;
    let m_disc = d.m_star - m_bulge;
    let bulge_ratio = {
        let s = uniform(&mut rng, p.bulge_size_ratio);
        s + (1.0 - s) * d.bulge_fraction
    };
    // Sizes: the disc's face-on R_e is lambda R_e and the bulge's bulge_ratio lambda R_e, with lambda such that the
    // whole galaxy's face-on projected half-mass radius is the drawn R_e.
    let shape = match p.bulge_profile {
        BulgeProfile::Plummer => BulgeShape::Plummer,
        BulgeProfile::Hernquist => BulgeShape::Hernquist,
        BulgeProfile::Sersic { n_range } => BulgeShape::Sersic(uniform(&mut rng, n_range)),
    };
    let lambda = size_scale_for_half_mass(shape, d.bulge_fraction, bulge_ratio);
    let r_e_bulge = bulge_ratio * lambda * d.r_e;
    let bulge = (m_bulge > 0.0).then(|| shape.profile(m_bulge, r_e_bulge));
    let r_d = lambda * d.r_e / EXPONENTIAL_RE_OVER_RD;
    let z_d = uniform(&mut rng, p.disc_height_over_rd) * r_d;
    let sigma_over_vc = uniform(&mut rng, p.disc_sigma_over_vc);
    let disc_sph = if m_disc > 0.0 {
        Some(
            ExponentialDisc { mass_msun: m_disc, r_d_kpc: r_d, z_d_kpc: z_d, sigma_r_at_rd_kms: 0.0 }
                .spherical_profile()?,
        )
    } else {
        None
    };
    let gas_disc = match &p.gas {
        Some(g) if d.m_hi > 0.0 => {
            let r_g = uniform(&mut rng, g.scale_length_over_rd) * r_d;
            Some(GasDisc {
                mass_msun: d.m_hi / HYDROGEN_MASS_FRACTION,
                r_d_kpc: r_g,
                z_d_kpc: g.height_over_scale_length * r_g,
                sigma_kms: uniform(&mut rng, g.dispersion_kms),
            })
        }
        _ => None,
    };
    let gas_sph = gas_disc.as_ref().map(GasDisc::spherical_profile).transpose()?;
    let anisotropy = match p.bulge_anisotropy {
        AnisotropyParams::ConstantBeta { range } => match uniform(&mut rng, range) {
            0.0 => DfAnisotropy::Isotropic,
            beta => DfAnisotropy::ConstantBeta { beta },
        },
        AnisotropyParams::OsipkovMerritt { r_a_over_re_range: (lo, hi) } => {
            let ratio = (lo.ln() + rng.random_range(0.0..=1.0) * (hi / lo).ln()).exp();
            DfAnisotropy::OsipkovMerritt { r_a_kpc: ratio * r_e_bulge }
        }
    };
    // The spherically averaged total potential.
    let mut parts: Vec<Box<dyn SphericalProfile>> = vec![Box::new(halo.clone())];
    if bulge.is_some() {
        parts.push(shape.profile(m_bulge, r_e_bulge));
    }
    if let Some(s) = &disc_sph {
        parts.push(Box::new(s.clone()));
    }
    if let Some(s) = &gas_sph {
        parts.push(Box::new(s.clone()));
    }
    let total = Composite(parts);
    let v_c = |r: f64| (G * total.enclosed_mass_msun(r) / r.max(1e-9)).sqrt();
    // Particles: equal masses per species.
    let res = &p.particles;
    let n_stars = particle_count(d.m_star, res.star_particle_mass_msun, res.stars);
    let n_bulge = ((n_stars as f64 * d.bulge_fraction).round() as usize).min(n_stars);
    let n_disc = n_stars - n_bulge;
    let n_dm = particle_count(halo.total_mass_msun(), res.dm_particle_mass_msun, res.dm);
    let mut star_pos = Array2::zeros((0, 3));
    let mut star_vel = Array2::zeros((0, 3));
    if let (Some(b), true) = (&bulge, n_bulge > 0) {
        let df = SphericalDf::new(b.as_ref(), &total, anisotropy)?;
        (star_pos, star_vel) = df.sample(n_bulge, stream(seed, index, 1).random())?;
    }
    if n_disc > 0 && m_disc > 0.0 {
        let sigma_r = sigma_over_vc * v_c(r_d);
        let disc = ExponentialDisc { mass_msun: m_disc, r_d_kpc: r_d, z_d_kpc: z_d, sigma_r_at_rd_kms: sigma_r };
        let (pos, vel) = disc.sample(n_disc, &v_c, stream(seed, index, 2).random())?;
        star_pos = concatenate(Axis(0), &[star_pos.view(), pos.view()])
            .map_err(|e| SynthError::InvalidParameter { name: "stars", reason: e.to_string() })?;
        star_vel = concatenate(Axis(0), &[star_vel.view(), vel.view()])
            .map_err(|e| SynthError::InvalidParameter { name: "stars", reason: e.to_string() })?;
    }
    let dm_df = SphericalDf::new(&halo, &total, DfAnisotropy::Isotropic)?;
    let (dm_pos, dm_vel) = dm_df.sample(n_dm, stream(seed, index, 3).random())?;
    // Random orientation in the box frame.
    let orientation = Rotation::random(stream(seed, index, 4).random());
    let turn = |a: &Array2<f64>| orientation.apply_rows(a);
    let potential = PotentialTable::new(&total, 1e-4 * d.r_e.min(nfw.nfw.r_s_kpc), 1e3 * nfw.r200_kpc);
    let mut stars =
        Particles::new(turn(&star_pos), turn(&star_vel), Array1::from_elem(n_stars, d.m_star / n_stars as f64))?;
    stars.set_field(ScalarField::PotentialKms2, potential.at_rows(&star_pos))?;
    let mut dm =
        Particles::new(turn(&dm_pos), turn(&dm_vel), Array1::from_elem(n_dm, halo.total_mass_msun() / n_dm as f64))?;
    dm.set_field(ScalarField::PotentialKms2, potential.at_rows(&dm_pos))?;
    let population_seed = stream(seed, index, 5).random();
    let summary = if p.populations.bulge_sfh.is_some() {
        let in_bulge: Vec<bool> = (0..n_stars).map(|i| i < n_bulge).collect();
        assign_populations_with_bulge(&mut stars, params.populations(), &in_bulge, d.m_star.log10(), population_seed)?
    } else {
        assign_populations(&mut stars, params.populations(), d.m_star.log10(), population_seed)?
    };
    let (rotation, kappa_co) = galmass_core::kinematics::aligned_frame_and_kappa_co(&stars)?;
    let gas = match (&gas_disc, &p.gas) {
        (Some(g), Some(gp)) => {
            let n_gas = particle_count(g.mass_msun, res.gas_particle_mass_msun, res.gas);
            let (pos, vel) = g.sample(n_gas, &v_c, stream(seed, index, 6).random())?;
            let density: Array1<f64> =
                pos.rows().into_iter().map(|r| g.density_msun_kpc3(r[0].hypot(r[1]), r[2])).collect();
            let mut gas = gas_particles(turn(&pos), turn(&vel), density, g, gp.n_neighbours)?;
            gas.set_field(ScalarField::PotentialKms2, potential.at_rows(&pos))?;
            Some(gas)
        }
        _ => None,
    };
    // Truth: analytic cumulative masses in 3-D spheres.
    let r_min = 1e-3 * d.r_e.min(nfw.nfw.r_s_kpc);
    let radii = log_spaced_radii(r_min, 10.0 * nfw.r200_kpc, 256)?;
    let star_mass_at = |r: f64| {
        bulge.as_ref().map_or(0.0, |b| b.enclosed_mass_msun(r))
            + disc_sph.as_ref().map_or(0.0, |s| s.enclosed_mass_msun(r))
    };
    let gas_mass_at = |r: f64| gas_sph.as_ref().map_or(0.0, |s| s.enclosed_mass_msun(r));
    let mut cumulative = BTreeMap::from([
        (Species::Stars, radii.mapv(star_mass_at)),
        (Species::Dm, radii.mapv(|r| halo.enclosed_mass_msun(r))),
    ]);
    let (r_lo, r_hi) = (radii[0], 1e3 * radii[radii.len() - 1]);
    let star_total = star_mass_at(r_hi);
    let half_radius =
        |mass_at: &dyn Fn(f64) -> f64, total: f64| bisect_monotonic(mass_at, 0.5 * total, r_lo, r_hi, RADIUS_REL_TOL);
    let r_half_3d = half_radius(&star_mass_at, star_total);
    let mut half = BTreeMap::from([
        (Species::Stars, r_half_3d),
        (Species::Dm, half_radius(&|r| halo.enclosed_mass_msun(r), halo.total_mass_msun())),
    ]);
    let mut all_total = star_total + halo.total_mass_msun();
    if let Some(s) = &gas_sph {
        cumulative.insert(Species::Gas, radii.mapv(gas_mass_at));
        half.insert(Species::Gas, half_radius(&gas_mass_at, s.total_mass_msun()));
        all_total += s.total_mass_msun();
    }
    let total_half = half_radius(&|r| total.enclosed_mass_msun(r), all_total);
    let dm_inner_slope = inner_slope(&halo, nfw.r200_kpc);
    let model = format!(
        "{:?} bulge (B/T {:.3}, {:?}) + exponential disc + {} in a {} halo{}",
        shape,
        d.bulge_fraction,
        anisotropy,
        if gas_sph.is_some() { "HI disc" } else { "no gas" },
        match p.halo {
            HaloPrescription::Nfw => "truncated NFW",
            HaloPrescription::Dc14 => "DC14",
            HaloPrescription::CoreNfw { .. } => "core-NFW",
        },
        if d.central { String::new() } else { format!(", tidally truncated at {r_outer:.1} kpc") }
    )
    .to_lowercase();
    let mut truth = TruthProfiles::new(radii, cumulative, half, total_half, TruthSource::Analytic(model))?;
    for (name, value) in [
        ("kappa_co", kappa_co),
        ("bulge_fraction", d.bulge_fraction),
        ("r_e_kpc", d.r_e),
        ("m200_msun", d.m200),
        ("c200", d.c200),
        ("hi_mass_msun", d.m_hi),
        ("dm_inner_slope", dm_inner_slope),
        ("central", if d.central { 1.0 } else { 0.0 }),
    ] {
        truth.set_scalar(name, value)?;
    }
    let mut meta = GalaxyMeta::new(&p.suite, index as i64);
    meta.redshift = p.redshift;
    meta.source = format!("galmass-synth {} seed {seed} galaxy {index}", p.suite);
    meta.rotation_to_aligned = rotation;
    let face_on = rotation.apply_rows(stars.pos_kpc());
    let projected: Vec<f64> = face_on.rows().into_iter().map(|r| r[0].hypot(r[1])).collect();
    let r_h = galmass_core::stats::median(&projected).unwrap_or(f64::NAN);
    let mut galaxy = Galaxy::new(meta);
    galaxy.set_species(Species::Stars, stars);
    galaxy.set_species(Species::Dm, dm);
    let n_gas = gas.as_ref().map_or(0, Particles::len);
    if let Some(g) = gas {
        galaxy.set_species(Species::Gas, g);
    }
    galaxy.truth = Some(truth);
    let row = CatalogueRow {
        galaxy_id: index as i64,
        central: d.central,
        stellar_mass_msun: d.m_star,
        halo_mass_msun: d.m200,
        c200: d.c200,
        r_e_kpc: d.r_e,
        r_h_kpc: r_h,
        r_half_3d_kpc: r_half_3d,
        bulge_fraction: d.bulge_fraction,
        kappa_co,
        cold_gas_mass_msun: d.m_hi,
        dm_inner_slope,
        mass_to_light_r: summary.mass_to_light("r").unwrap_or(f64::NAN),
        n_stars,
        n_dm,
        n_gas,
    };
    Ok(BuiltGalaxy { galaxy, row })
}

/// The (untruncated-by-tides) halo of a galaxy of stellar mass `m_star` and size `r_e` in the NFW halo `nfw`.
fn halo_profile(p: &SuiteParams, nfw: &HaloModel, m_star: f64, r_e: f64) -> Result<TabulatedProfile, SynthError> {
    let x = (m_star / nfw.m200_msun).log10();
    match p.halo {
        HaloPrescription::Nfw => TabulatedProfile::truncated_nfw(nfw.nfw, nfw.r200_kpc, 0.1),
        HaloPrescription::Dc14 => {
            let shape = Dc14Shape::from_log_stellar_to_halo(x);
            TabulatedProfile::dc14(shape, nfw.m200_msun, nfw.r200_kpc, nfw.nfw.r_s_kpc / shape.concentration_factor)
        }
        HaloPrescription::CoreNfw { core_radius_over_re, core_peak_log_ratio, core_width_dex } => {
            let n = (-(x - core_peak_log_ratio).powi(2) / (2.0 * core_width_dex * core_width_dex)).exp();
            TabulatedProfile::core_nfw(nfw.nfw, nfw.r200_kpc, core_radius_over_re * r_e, n)
        }
    }
}

/// Logarithmic density slope between 1% and 2% of r200 (the radii where Di Cintio et al. 2014 measure it).
fn inner_slope(halo: &TabulatedProfile, r200_kpc: f64) -> f64 {
    let r1 = 0.01 * r200_kpc;
    (halo.density_msun_kpc3(2.0 * r1) / halo.density_msun_kpc3(r1)).log2()
}

impl SuiteParams {
    /// Inner dark-matter slope (between 1% and 2% of r200) of the suite's halo prescription for a halo of mass
    /// `m200_msun` with median concentration holding `10^log_stellar_to_halo` of its mass in stars of median size.
    pub fn inner_slope_model(&self, m200_msun: f64, log_stellar_to_halo: f64) -> Result<f64, SynthError> {
        let cosmo = HALO_COSMOLOGY;
        let nfw = HaloModel::nfw_from_m200(
            m200_msun,
            concentration_dm14(&cosmo, m200_msun, self.redshift).max(1.5),
            self.redshift,
            &cosmo,
        )?;
        let m_star = m200_msun * 10f64.powf(log_stellar_to_halo);
        Ok(inner_slope(&halo_profile(self, &nfw, m_star, self.median_re_kpc(m_star))?, nfw.r200_kpc))
    }
}

/// The spherically averaged total potential tabulated on 512 log-spaced radii (linear in ln r between them; the
/// innermost value inside, Keplerian outside), so that every particle gets its potential cheaply.
struct PotentialTable {
    ln_r: Vec<f64>,
    phi: Vec<f64>,
    outer_mass_msun: f64,
}

impl PotentialTable {
    fn new(total: &dyn SphericalProfile, r_min_kpc: f64, r_max_kpc: f64) -> Self {
        let n = 512;
        let (a, b) = (r_min_kpc.ln(), r_max_kpc.ln());
        let ln_r: Vec<f64> = (0..n).map(|i| a + (b - a) * i as f64 / (n - 1) as f64).collect();
        let phi = ln_r.iter().map(|l| total.potential_kms2(l.exp())).collect();
        Self { ln_r, phi, outer_mass_msun: total.enclosed_mass_msun(r_max_kpc) }
    }

    fn at(&self, r_kpc: f64) -> f64 {
        let (first, last) = (self.ln_r[0], self.ln_r[self.ln_r.len() - 1]);
        let l = r_kpc.max(1e-300).ln();
        if l <= first {
            return self.phi[0];
        }
        if l >= last {
            return -G * self.outer_mass_msun / r_kpc;
        }
        interp(&self.ln_r, &self.phi, l)
    }

    /// The potential at each row of (N, 3) positions about the centre, (km/s)^2.
    fn at_rows(&self, pos: &Array2<f64>) -> Array1<f64> {
        pos.rows().into_iter().map(|r| self.at((r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt())).collect()
    }
}

/// Gas particles with HI masses, temperatures, smoothing lengths (from the `n_neighbours` nearest gas particles) and
/// the disc's analytic density at each particle (`density`: the truth, where an SPH estimate from randomly placed
/// particles would be biased high by its self term, 32 / (3 (k - 1)); see `galmass_core::neighbours`).
fn gas_particles(
    pos: Array2<f64>,
    vel: Array2<f64>,
    density: Array1<f64>,
    disc: &GasDisc,
    n_neighbours: usize,
) -> Result<Particles, SynthError> {
    let n = pos.nrows();
    let mass = Array1::from_elem(n, disc.mass_msun / n as f64);
    let h = galmass_core::neighbours::smoothing_lengths_kpc(pos.view(), n_neighbours)?;
    let rho = density;
    let mut gas = Particles::new(pos, vel, mass.clone())?;
    gas.set_field(ScalarField::HiMassMsun, mass.mapv(|m| m * HYDROGEN_MASS_FRACTION))?;
    gas.set_field(
        ScalarField::TemperatureK,
        Array1::from_elem(n, PROTON_MASS_OVER_BOLTZMANN_K_PER_KMS2 * disc.sigma_kms * disc.sigma_kms),
    )?;
    gas.set_field(ScalarField::SmoothingLengthKpc, h)?;
    gas.set_field(ScalarField::DensityMsunPerKpc3, rho)?;
    gas.set_field(ScalarField::SfrMsunPerYr, Array1::zeros(n))?;
    Ok(gas)
}

#[cfg(test)]
mod tests {
    use galmass_core::params::Params;

    use super::*;
    use crate::suite::PRESETS;

    fn small(name: &str, stars: usize, dm: usize, gas: usize) -> SuiteValidParams {
        let mut p = SuiteParams::preset(name).unwrap();
        p.particles.set_counts(Some(stars), Some(dm), Some(gas));
        p.check().unwrap()
    }

    /// Counted mass fraction within r against the truth, within 4 Poisson sigmas (+ a small floor).
    fn assert_counts_match_truth(galaxy: &Galaxy, species: Species) {
        let truth = galaxy.truth.as_ref().unwrap();
        let particles = galaxy.species(species).unwrap();
        let radii = particles.radii_kpc();
        let n = radii.len() as f64;
        let total = truth.enclosed_mass_msun(Some(species), truth.radii_kpc()[truth.radii_kpc().len() - 1]).unwrap();
        assert!(
            (particles.total_mass_msun() / total - 1.0).abs() < 5e-3,
            "{species}: {} vs {total}",
            particles.total_mass_msun()
        );
        let r_half = truth.half_mass_radius_kpc(Some(species)).unwrap();
        for f in [0.25, 0.5, 1.0, 2.0, 4.0] {
            let r = f * r_half;
            let frac = truth.enclosed_mass_msun(Some(species), r).unwrap() / total;
            let counted = radii.iter().filter(|&&x| x < r).count() as f64 / n;
            let tol = 4.0 * (frac * (1.0 - frac) / n).sqrt() + 2e-3;
            assert!((counted - frac).abs() < tol, "{species} at {f} r_half: counted {counted:.4}, truth {frac:.4}");
        }
    }

    #[test]
    fn every_preset_builds_galaxies_whose_particles_follow_their_truth() {
        for name in PRESETS {
            let params = small(name, 4000, 8000, 3000);
            for index in [0, 1] {
                let built = build_galaxy(&params, index, 5).unwrap_or_else(|e| panic!("{name} galaxy {index}: {e}"));
                let g = &built.galaxy;
                assert_counts_match_truth(g, Species::Stars);
                assert_counts_match_truth(g, Species::Dm);
                let truth = g.truth.as_ref().unwrap();
                assert_eq!(truth.scalar("kappa_co"), Some(built.row.kappa_co));
                assert_eq!(g.meta.suite, name);
                if let Some(gas) = g.species(Species::Gas) {
                    assert_counts_match_truth(g, Species::Gas);
                    let hi: f64 = gas.field(ScalarField::HiMassMsun).unwrap().sum();
                    assert!((hi / built.row.cold_gas_mass_msun - 1.0).abs() < 1e-9);
                    let h = gas.field(ScalarField::SmoothingLengthKpc).unwrap();
                    assert!(h.iter().all(|&x| x > 0.0 && x.is_finite()));
                    assert!(gas
                        .field(ScalarField::DensityMsunPerKpc3)
                        .unwrap()
                        .iter()
                        .all(|&d| d > 0.0 && d.is_finite()));
                    let t = gas.field(ScalarField::TemperatureK).unwrap()[0];
                    // 8-12 km/s: T = m_p sigma^2 / k from 7.7e3 to 1.75e4 K.
                    assert!((7.5e3..1.8e4).contains(&t), "{t}");
                } else {
                    assert!(params.params().gas.is_none() || built.row.cold_gas_mass_msun == 0.0);
                }
                // The aligned frame puts the stellar angular momentum on +z.
                let stars = g.stars().unwrap();
                let rot = g.meta.rotation_to_aligned;
                let (pos, vel) = (rot.apply_rows(stars.pos_kpc()), rot.apply_rows(stars.vel_kms()));
                let mut l = [0.0; 3];
                for i in 0..stars.len() {
                    l[0] += pos[[i, 1]] * vel[[i, 2]] - pos[[i, 2]] * vel[[i, 1]];
                    l[1] += pos[[i, 2]] * vel[[i, 0]] - pos[[i, 0]] * vel[[i, 2]];
                    l[2] += pos[[i, 0]] * vel[[i, 1]] - pos[[i, 1]] * vel[[i, 0]];
                }
                if built.row.bulge_fraction < 0.9 {
                    assert!(l[2] > 0.0 && l[2].abs() > 10.0 * l[0].abs().max(l[1].abs()), "{name}: {l:?}");
                }
                // The potential deepens towards the centre: the deepest particle sits near it.
                let phi = stars.field(ScalarField::PotentialKms2).unwrap();
                let deepest = (0..stars.len()).min_by(|&a, &b| phi[a].total_cmp(&phi[b])).unwrap();
                assert!(stars.radii_kpc()[deepest] < 0.2 * built.row.r_e_kpc, "{name}: {}", stars.radii_kpc()[deepest]);
                assert!(phi.iter().all(|&v| v < 0.0));
                let ages = stars.field(ScalarField::AgeGyr).unwrap();
                assert!(ages.iter().all(|&a| a > 0.0 && a < 14.0));
                assert!(stars.luminosity("r").is_some() && built.row.mass_to_light_r > 0.1);
            }
        }
    }

    #[test]
    fn galaxies_are_deterministic_per_index() {
        let params = small("nihao-like", 1500, 3000, 800);
        let a = build_galaxy(&params, 3, 11).unwrap();
        let b = build_galaxy(&params, 3, 11).unwrap();
        assert_eq!(a.galaxy, b.galaxy);
        assert_eq!(a.row, b.row);
        assert_ne!(build_galaxy(&params, 4, 11).unwrap().row, a.row);
        assert_ne!(build_galaxy(&params, 3, 12).unwrap().row, a.row);
    }

    #[test]
    fn discs_rotate_and_spheroids_do_not() {
        let disc = build_galaxy(&small("auriga-like", 6000, 6000, 2000), 0, 1).unwrap();
        assert!(disc.row.kappa_co > 0.5 && disc.row.bulge_fraction < 0.5, "{:?}", disc.row);
        let sph = build_galaxy(&small("spheroids", 6000, 6000, 100), 0, 1).unwrap();
        assert!(sph.row.kappa_co < 0.3 && sph.row.bulge_fraction == 1.0, "{:?}", sph.row);
        assert!(sph.galaxy.species(Species::Gas).is_none());
        // The projected half-mass radius of a pure spheroid is its drawn R_e (face-on or not, it is spherical), and so
        // is the face-on one of a bulge + disc galaxy.
        assert!((sph.row.r_h_kpc / sph.row.r_e_kpc - 1.0).abs() < 0.05, "{:?}", sph.row);
        assert!((disc.row.r_h_kpc / disc.row.r_e_kpc - 1.0).abs() < 0.05, "{:?}", disc.row);
    }

    #[test]
    fn satellites_are_stripped_and_halo_prescriptions_shape_the_centre() {
        let params = small("tng-like", 1500, 3000, 800);
        let mut seen = (false, false);
        for index in 0..12 {
            let built = build_galaxy(&params, index, 3).unwrap();
            let truth = built.galaxy.truth.as_ref().unwrap();
            let dm_total = built.galaxy.species(Species::Dm).unwrap().total_mass_msun();
            if built.row.central {
                seen.0 = true;
                assert!(dm_total > built.row.halo_mass_msun);
            } else {
                seen.1 = true;
                assert!(dm_total < 0.9 * built.row.halo_mass_msun, "{dm_total} vs {}", built.row.halo_mass_msun);
                assert_eq!(truth.scalar("central"), Some(0.0));
            }
            assert!((9.5..=12.0).contains(&built.row.stellar_mass_msun.log10()));
        }
        assert!(seen.0 && seen.1, "{seen:?}");
        // Cuspy NFW haloes have inner slopes near -1.1 (between 1% and 2% of r200); cored ones are shallower.
        let auriga = build_galaxy(&small("auriga-like", 500, 2000, 300), 0, 2).unwrap();
        assert!((-1.4..-0.9).contains(&auriga.row.dm_inner_slope), "{}", auriga.row.dm_inner_slope);
        let p = SuiteParams { log_m200_range: (10.8, 10.8), ..SuiteParams::preset("nihao-like").unwrap() };
        let mut p = p;
        p.particles.set_counts(Some(500), Some(2000), Some(300));
        let cored = build_galaxy(&p.check().unwrap(), 0, 2).unwrap();
        assert!(cored.row.dm_inner_slope > -0.9, "{:?}", cored.row);
    }
}
