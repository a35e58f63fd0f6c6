//! `galmass maps`: mock observations of one projection as maps, written to the products file
//! (`galmass_pipeline::products`): stellar kinematic maps (`maps stars`) and HI cubes with their moment maps
//! (`maps hi`), chu2024's SPH images and kinematic maps (`maps sph`) and SDSS-like frames (`maps optical`).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use galmass_mock::star_maps::StarMapParams;
use galmass_pipeline::maps::{star_maps_of_galaxy, write_star_maps_fits};
use galmass_pipeline::products::write_products;
use galmass_pipeline::projection::ProjectionRequest;

/// Which maps to make.
#[derive(Debug, Subcommand)]
pub enum MapsCommand {
    /// The two stellar kinematic maps of one projection (sarrato2025, exposito2026): KDEs of (x/R_h, y/R_h) and of
    /// (R/R_h, v_los/v_p98), into the products file (group `stars/`, datasets `star_xy`, `star_rv`), optionally FITS.
    Stars(StarsArgs),
    /// A mock HI observation of one projection of a galaxy's gas (delosrios2023, exposito2026; MARTINI's physics):
    /// the data cube (channel, y, x), moments 0, 1 and 2 and the gas scalars (R_HI, v_cold, sigma_cold), into the
    /// products file (group `hi/`, datasets `cube`, `mom0`, `mom1`, `mom2`, `mask`). A preset sets every value;
    /// the options below override it (the record then says `custom`).
    Hi(Box<crate::maps_hi::HiArgs>),
    /// chu2024's images of one projection: r- and g-band luminosity and the g - r colour, SPH-smoothed (cubic
    /// spline, smoothing lengths enclosing 32 stars) over +-3 R_hsm, and nearest-grid-point mean velocity and
    /// dispersion maps, scaled to [0, 1], into the products file (group `sph/`, datasets `r`, `g`, `g_r`,
    /// `v_mean`, `v_disp`, `count`).
    Sph(Box<crate::maps_optical::SphArgs>),
    /// delosrios2023's SDSS-like frames of one projection at a distance: u, g, r, i, z in nanomaggies (stars'
    /// SSP luminosities, SPH-smoothed, Gaussian PSF at the DR16 seeing, SDSS sky and source noise), aligned with
    /// `maps hi` of the same projection, into the products file (group `optical/`), optionally FITS.
    Optical(Box<crate::maps_optical::OpticalArgs>),
}

/// Arguments of `galmass maps stars`.
#[derive(Debug, Args)]
pub struct StarsArgs {
    /// The galaxy file.
    #[arg(long)]
    galaxy: PathBuf,
    /// Line of sight X,Y,Z in the box frame, observer to galaxy (normalised for you).
    #[arg(long, value_parser = crate::parse_vec3, allow_hyphen_values = true)]
    los: [f64; 3],
    /// Paper preset for grid, ranges, apertures and v_p98 (configs/maps/stars.toml holds the same values).
    #[arg(long, default_value = "sarrato2025", value_parser = clap::builder::PossibleValuesParser::new(StarMapParams::PRESETS))]
    preset: String,
    /// Use a seeded random subsample of this many stars (default: every star).
    #[arg(long)]
    n_stars: Option<usize>,
    /// Seed of the star subsample.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output products file (HDF5).
    #[arg(long)]
    out: PathBuf,
    /// Also write FITS images beside it (primary HDU star_xy, extension STAR_RV, grid as WCS).
    #[arg(long)]
    fits: bool,
    /// Print one JSON object (paths and the projection's scalars) instead of a line of text.
    #[arg(long)]
    json: bool,
}

/// Runs a `galmass maps` command.
pub fn run(command: &MapsCommand) -> Result<()> {
    match command {
        MapsCommand::Stars(args) => stars(args),
        MapsCommand::Hi(args) => crate::maps_hi::run(args),
        MapsCommand::Sph(args) => crate::maps_optical::sph(args),
        MapsCommand::Optical(args) => crate::maps_optical::optical(args),
    }
}

fn stars(args: &StarsArgs) -> Result<()> {
    let request = ProjectionRequest { los: args.los, n_stars: args.n_stars, seed: args.seed };
    let products = star_maps_of_galaxy(&args.galaxy, &request, &args.preset)?;
    write_products(&args.out, &products)?;
    tracing::info!(out = %args.out.display(), "wrote the products file");
    let Some(stars) = &products.stars else { anyhow::bail!("no star maps were made") };
    let fits_path = args.fits.then(|| args.out.with_extension("fits"));
    if let Some(path) = &fits_path {
        write_star_maps_fits(path, stars)?;
        tracing::info!(out = %path.display(), "wrote FITS images");
    }
    let maps = &stars.maps;
    if args.json {
        let report = serde_json::json!({
            "out": args.out,
            "fits": fits_path,
            "galaxy": args.galaxy,
            "los": products.projection.los,
            "preset": stars.preset,
            "r_h_kpc": maps.r_h_kpc,
            "sigma_los_kms": maps.sigma_los_kms,
            "v_p98_kms": maps.v_p98_kms,
            "n_stars": maps.n_stars,
            "n_in_aperture": maps.n_in_aperture,
            "n_in_rv_aperture": maps.n_in_rv_aperture,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{}: R_h = {:.4} kpc, sigma_los = {:.3} km/s, v_p98 = {:.3} km/s, {} stars ({} in map 1, {} in map 2)",
        args.out.display(),
        maps.r_h_kpc,
        maps.sigma_los_kms,
        maps.v_p98_kms,
        maps.n_stars,
        maps.n_in_aperture,
        maps.n_in_rv_aperture
    );
    Ok(())
}
