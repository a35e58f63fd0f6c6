//! Writes a sampled Plummer tracer (a = 0.5 kpc) in an NFW halo (rho_s = 5e7 Msun/kpc^3, r_s = 1 kpc) with constant
//! beta, as little-endian float64 rows (x, y, z [kpc], vx, vy, vz [km/s]), for scripts/galpy_compare.py.
//! `cargo run --release -p galmass-synth --example sample_sphere -- BETA N SEED OUT`

use std::error::Error;
use std::io::Write;

use galmass_synth::df::{DfAnisotropy, SphericalDf};
use galmass_synth::profiles::{Nfw, Plummer};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let beta: f64 = args.first().map(|a| a.parse()).transpose().map_err(|e| format!("BETA: {e}"))?.unwrap_or(0.0);
    let n: usize = args.get(1).map(|a| a.parse()).transpose().map_err(|e| format!("N: {e}"))?.unwrap_or(100_000);
    let seed: u64 = args.get(2).map(|a| a.parse()).transpose().map_err(|e| format!("SEED: {e}"))?.unwrap_or(1);
    let out = args.get(3).cloned().unwrap_or_else(|| "sphere.f64".into());
    let tracer = Plummer { mass_msun: 1e6, a_kpc: 0.5 };
    let halo = Nfw { rho_s_msun_kpc3: 5e7, r_s_kpc: 1.0 };
    let anisotropy = if beta == 0.0 { DfAnisotropy::Isotropic } else { DfAnisotropy::ConstantBeta { beta } };
    let df = SphericalDf::new(&tracer, &halo, anisotropy)?;
    let (pos, vel) = df.sample(n, seed)?;
    let mut bytes = Vec::with_capacity(n * 48);
    for i in 0..n {
        for v in [pos[[i, 0]], pos[[i, 1]], pos[[i, 2]], vel[[i, 0]], vel[[i, 1]], vel[[i, 2]]] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::File::create(&out).and_then(|mut f| f.write_all(&bytes)).map_err(|e| format!("{out}: {e}"))?;
    eprintln!("wrote {n} particles to {out} (clamped mass fraction bound {:.4})", df.clamped_mass_fraction());
    Ok(())
}
