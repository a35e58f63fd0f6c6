//! Benchmark (not a test): particles generated per second per core, by the spherical DF sampler alone
//! (`synth_bench [N]`) and by whole galaxies of each suite preset (`synth_bench suites [N_GALAXIES]`: halo, bulge,
//! disc, HI disc with smoothing lengths, populations and truth, one galaxy after another).
//! `RAYON_NUM_THREADS=1 cargo run --release -p galmass-synth --example synth_bench -- ...`; one line per case.

use std::error::Error;
use std::time::Instant;

use galmass_core::params::Params;
use galmass_synth::df::{DfAnisotropy, SphericalDf};
use galmass_synth::profiles::{Composite, Hernquist, Nfw, Plummer};

fn suites(n_galaxies: u64) -> Result<(), Box<dyn Error>> {
    use galmass_synth::suite::{build_galaxy, SuiteParams, PRESETS};
    for name in PRESETS {
        let params = SuiteParams::preset(name).ok_or_else(|| format!("no preset {name}"))?.check()?;
        let t = Instant::now();
        let (mut n_particles, mut n_built) = (0usize, 0usize);
        for index in 0..n_galaxies {
            match build_galaxy(&params, index, 1) {
                Ok(built) => {
                    n_particles += built.row.n_stars + built.row.n_dm + built.row.n_gas;
                    n_built += 1;
                }
                Err(e) => println!("{name} galaxy {index} skipped: {e}"),
            }
        }
        let seconds = t.elapsed().as_secs_f64();
        println!(
            "{name}: {n_built} galaxies, {n_particles} particles in {seconds:.2} s = {:.2e} particles/s, {:.3} s per galaxy",
            n_particles as f64 / seconds,
            seconds / n_built.max(1) as f64
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let arg = |k: usize| std::env::args().nth(k);
    if arg(1).as_deref() == Some("suites") {
        let n_galaxies = arg(2).map(|a| a.parse()).transpose().map_err(|e| format!("N_GALAXIES: {e}"))?;
        return suites(n_galaxies.unwrap_or(20));
    }
    let n: usize = arg(1).map(|a| a.parse()).transpose().map_err(|e| format!("N: {e}"))?.unwrap_or(1_000_000);
    let tracer = Plummer { mass_msun: 1e6, a_kpc: 0.5 };
    let halo = Nfw { rho_s_msun_kpc3: 5e7, r_s_kpc: 1.0 };
    let bulge = Hernquist { mass_msun: 1e10, a_kpc: 1.0 };
    let total = Composite(vec![Box::new(bulge), Box::new(Nfw { rho_s_msun_kpc3: 1e7, r_s_kpc: 10.0 })]);
    let cases: Vec<(&str, SphericalDf)> = vec![
        ("plummer-in-nfw isotropic", SphericalDf::new(&tracer, &halo, DfAnisotropy::Isotropic)?),
        ("plummer-in-nfw beta=-0.5", SphericalDf::new(&tracer, &halo, DfAnisotropy::ConstantBeta { beta: -0.5 })?),
        (
            "hernquist-in-nfw osipkov-merritt r_a=2",
            SphericalDf::new(&bulge, &total, DfAnisotropy::OsipkovMerritt { r_a_kpc: 2.0 })?,
        ),
    ];
    for (name, _) in &cases {
        let t = Instant::now();
        let rebuilt = match *name {
            "plummer-in-nfw isotropic" => SphericalDf::new(&tracer, &halo, DfAnisotropy::Isotropic),
            "plummer-in-nfw beta=-0.5" => SphericalDf::new(&tracer, &halo, DfAnisotropy::ConstantBeta { beta: -0.5 }),
            _ => SphericalDf::new(&bulge, &total, DfAnisotropy::OsipkovMerritt { r_a_kpc: 2.0 }),
        };
        std::hint::black_box(rebuilt?);
        println!("{name}: distribution function tabulated in {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    }
    for (name, df) in &cases {
        let t = Instant::now();
        let (pos, vel) = df.sample(n, 1)?;
        let seconds = t.elapsed().as_secs_f64();
        std::hint::black_box((&pos, &vel));
        println!("{name}: {n} particles in {seconds:.3} s = {:.2e} particles/s (one core)", n as f64 / seconds);
    }
    Ok(())
}
