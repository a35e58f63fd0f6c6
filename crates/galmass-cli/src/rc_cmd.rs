//! `galmass estimate rc`: the rotation-curve baseline (tilted rings, stellar disc, halo decomposition) of one galaxy.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use galmass_mock::hi::moments::{MomentMask, EXPOSITO2026_COLUMN_DENSITY_CM2};
use galmass_pipeline::hi::{hi_of_fits, FitsHiRequest};
use galmass_pipeline::products::read_products;
use galmass_pipeline::rc::{rotation_curve_baseline, RcRequest};

/// Arguments of `galmass estimate rc`.
#[derive(Debug, clap::Args)]
pub struct RcArgs {
    /// HI products file (`galmass maps hi`): its moment maps, beam and channels.
    #[arg(long, conflicts_with = "hi_fits")]
    hi: Option<PathBuf>,
    /// A real HI cube (FITS; velocity axis conventions as `galmass maps hi --fits` reads them); moments under a
    /// 1e19.5 cm^-2 column-density mask, velocity moments clipped at 3 rms.
    #[arg(long)]
    hi_fits: Option<PathBuf>,
    /// Optical products file (`galmass maps optical`) for the stellar disc; without it the disc is left out.
    #[arg(long)]
    optical: Option<PathBuf>,
    /// Band of the stellar disc (delosrios2023 fits the g band).
    #[arg(long, default_value = "g")]
    band: String,
    /// Distance, Mpc (required for a FITS cube; default the products file's).
    #[arg(long)]
    distance_mpc: Option<f64>,
    /// Width of the Gaussian distance prior, Mpc (default 10% of the distance).
    #[arg(long)]
    distance_error_mpc: Option<f64>,
    /// Initial inclination and centre of its prior, degrees (default from the moment-0 axis ratio).
    #[arg(long)]
    inclination_deg: Option<f64>,
    /// Initial position angle of the receding side, degrees from north through east (default from the field).
    #[arg(long)]
    pa_deg: Option<f64>,
    /// Ring width, arcsec (default the beam FWHM).
    #[arg(long)]
    ring_width_arcsec: Option<f64>,
    /// Leave the gas out of the decomposition (as delosrios2023).
    #[arg(long)]
    no_gas: bool,
    /// MCMC steps per walker.
    #[arg(long, default_value_t = 6000)]
    steps: usize,
    /// MCMC walkers.
    #[arg(long, default_value_t = 32)]
    walkers: usize,
    /// Seed of the MCMC.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Radii of the enclosed masses, kpc, comma-separated (default the ring radii).
    #[arg(long, value_delimiter = ',')]
    radii_kpc: Option<Vec<f64>>,
    /// Print one JSON object (`rings`, `fit`, `enclosed_mass`, ...) instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &RcArgs) -> Result<()> {
    let hi = match (&args.hi, &args.hi_fits) {
        (Some(path), None) => {
            let products = read_products(path).with_context(|| format!("reading {}", path.display()))?;
            products
                .hi
                .with_context(|| format!("{} has no hi/ group (make it with `galmass maps hi`)", path.display()))?
        }
        (None, Some(path)) => {
            let Some(distance) = args.distance_mpc else { bail!("--hi-fits needs --distance-mpc") };
            let request = FitsHiRequest {
                mask: MomentMask::ColumnDensityCm2(EXPOSITO2026_COLUMN_DENSITY_CM2),
                clip_rms: 3.0,
                distance_mpc: Some(distance),
                recipe: None,
            };
            let products = hi_of_fits(path, &request).with_context(|| format!("reading {}", path.display()))?;
            products.hi.context("no HI product from the cube")?
        }
        _ => bail!("give one of --hi (products file) or --hi-fits (FITS cube)"),
    };
    let optical = match &args.optical {
        Some(path) => {
            let products = read_products(path).with_context(|| format!("reading {}", path.display()))?;
            Some(products.optical.with_context(|| {
                format!("{} has no optical/ group (make it with `galmass maps optical`)", path.display())
            })?)
        }
        None => None,
    };
    let mut request = RcRequest {
        distance_mpc: args.distance_mpc,
        distance_err_mpc: args.distance_error_mpc,
        band: args.band.clone(),
        gas: !args.no_gas,
        radii_kpc: args.radii_kpc.clone(),
        ..RcRequest::default()
    };
    request.rings.inclination_deg = args.inclination_deg;
    request.rings.pa_deg = args.pa_deg;
    request.rings.ring_width_arcsec = args.ring_width_arcsec;
    request.decomposition.mcmc.n_steps = args.steps;
    request.decomposition.mcmc.n_walkers = args.walkers;
    request.decomposition.mcmc.seed = args.seed;
    request.decomposition.burn_in = (args.steps * 3 / 8).min(request.decomposition.burn_in.max(args.steps / 4));
    let out = rotation_curve_baseline(&hi, optical.as_ref(), &request)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out.to_json())?);
        return Ok(());
    }
    let g = &out.rings.geometry;
    println!(
        "{}: D = {:.2} Mpc; centre ({:.2}, {:.2}) px, v_sys = {:.1} km/s, i = {:.1} deg, PA = {:.1} deg",
        hi.input, out.distance_mpc, g.x_centre_px, g.y_centre_px, out.rings.vsys_kms, g.inclination_deg, g.pa_deg
    );
    println!(
        "{:>8} {:>8} {:>9} {:>7} {:>9} {:>7} {:>6} {:>6} {:>6}",
        "R[kpc]", "R['']", "v_rot", "+-", "v_circ", "sigma", "incl", "PA", "n_pix"
    );
    for r in &out.rings.rings {
        println!(
            "{:>8.2} {:>8.1} {:>9.1} {:>7.1} {:>9.1} {:>7.1} {:>6.1} {:>6.1} {:>6} {}",
            r.radius_kpc,
            r.radius_arcsec,
            r.v_rot_kms,
            r.v_rot_err_kms,
            r.v_circ_kms,
            r.sigma_kms,
            r.inclination_deg,
            r.pa_deg,
            r.n_pixels,
            r.flags.join(",")
        );
    }
    let d = &out.decomposition;
    for name in &d.names {
        if let Some(p) = d.parameter(name) {
            println!("{name:<16} {:.3} (+{:.3} / -{:.3})", p.p50, p.p84 - p.p50, p.p50 - p.p16);
        }
    }
    println!(
        "MCMC: acceptance {:.2}, autocorrelation times {:?}, converged {}",
        d.diagnostics.acceptance_mean, d.diagnostics.autocorr_time, d.diagnostics.converged
    );
    println!("{:>8} {:>22} {:>22}", "r[kpc]", "log10 M_tot (16-84)", "log10 M_DM (16-84)");
    for e in &out.enclosed {
        println!(
            "{:>8.2} {:>7.3} ({:.3}-{:.3}) {:>7.3} ({:.3}-{:.3})",
            e.radius_kpc,
            e.log10_total.p50,
            e.log10_total.p16,
            e.log10_total.p84,
            e.log10_dark.p50,
            e.log10_dark.p16,
            e.log10_dark.p84
        );
    }
    for w in &out.warnings {
        println!("warning: {w}");
    }
    Ok(())
}
