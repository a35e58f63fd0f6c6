//! `galmass maps`: mock observations as maps (stellar kinematic maps now; HI moments and images later).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use galmass_mock::fits::{write_images, AxisWcs, FitsImage};
use galmass_mock::kde::{Grid2, GridSampling};
use galmass_mock::star_maps::{star_maps, StarMapParams, StarMaps};
use hdf5::types::VarLenUnicode;

/// Which maps to make.
#[derive(Debug, Subcommand)]
pub enum MapsCommand {
    /// The two stellar kinematic maps of one projection (sarrato2025, exposito2026): the KDE of (x/R_h, y/R_h) and of
    /// (R/R_h, v_los/v_p98), 64x64 each, written to HDF5 (datasets `star_xy`, `star_rv`; axis 0 is y or v) and
    /// optionally FITS.
    Stars(StarsArgs),
}

/// Arguments of `galmass maps stars`.
#[derive(Debug, Args)]
pub struct StarsArgs {
    /// The galaxy file.
    #[arg(long)]
    galaxy: PathBuf,
    /// Line of sight as X,Y,Z in the box frame (from the observer to the galaxy; normalised for you).
    #[arg(long, value_parser = crate::parse_vec3, allow_hyphen_values = true)]
    los: [f64; 3],
    /// Paper preset for grid, ranges, apertures and the v_p98 definition (configs/maps/stars.toml holds the same values).
    #[arg(long, default_value = "sarrato2025", value_parser = clap::builder::PossibleValuesParser::new(StarMapParams::PRESETS))]
    preset: String,
    /// Use a seeded random subsample of this many stars (default: every star).
    #[arg(long)]
    n_stars: Option<usize>,
    /// Seed of the star subsample.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output HDF5 file.
    #[arg(long)]
    out: PathBuf,
    /// Also write FITS images (primary HDU star_xy, extension STAR_RV) beside the HDF5 file, with the grid in the header.
    #[arg(long)]
    fits: bool,
}

/// Runs a `galmass maps` command.
pub fn run(command: &MapsCommand) -> Result<()> {
    match command {
        MapsCommand::Stars(args) => stars(args),
    }
}

fn stars(args: &StarsArgs) -> Result<()> {
    let path = &args.galaxy;
    let (_, los, projected) = crate::project_stars(path, args.los, args.n_stars, args.seed, "map")?;
    let preset = StarMapParams::preset(&args.preset).with_context(|| format!("unknown preset {}", args.preset))?;
    let params = preset.check()?;
    let maps = star_maps(&projected, &params)
        .with_context(|| format!("{}: cannot make star maps along {:?}", path.display(), args.los))?;
    let meta = Meta { galaxy: path, los: los.direction(), preset: &args.preset, seed: args.seed, params: preset };
    write_hdf5(&args.out, &maps, params.xy_grid(), params.rv_grid(), &meta)?;
    tracing::info!(out = %args.out.display(), n_stars = maps.n_stars, "wrote star maps");
    if args.fits {
        let fits_path = args.out.with_extension("fits");
        write_fits(&fits_path, &maps, params.xy_grid(), params.rv_grid())?;
        tracing::info!(out = %fits_path.display(), "wrote FITS images");
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

struct Meta<'a> {
    galaxy: &'a Path,
    los: [f64; 3],
    preset: &'a str,
    seed: u64,
    params: StarMapParams,
}

fn text(value: &str) -> Result<VarLenUnicode> {
    value.parse::<VarLenUnicode>().map_err(|e| anyhow::anyhow!("cannot store {value:?} as an HDF5 string: {e}"))
}

fn write_hdf5(out: &Path, maps: &StarMaps, xy: &Grid2, rv: &Grid2, meta: &Meta<'_>) -> Result<()> {
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let tmp = galmass_core::paths::temporary_path(out);
    let result = (|| -> Result<()> {
        let file = hdf5::File::create(&tmp)?;
        for (name, value) in [
            ("format", "galmass-star-maps"),
            ("galaxy", &meta.galaxy.display().to_string()),
            ("preset", meta.preset),
            ("params", &serde_json::to_string(&meta.params)?),
        ] {
            file.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&text(value)?)?;
        }
        file.new_attr_builder().with_data(&meta.los).create("los")?;
        for (name, value) in
            [("r_h_kpc", maps.r_h_kpc), ("sigma_los_kms", maps.sigma_los_kms), ("v_p98_kms", maps.v_p98_kms)]
        {
            file.new_attr::<f64>().create(name)?.write_scalar(&value)?;
        }
        for (name, value) in [
            ("n_stars", maps.n_stars),
            ("n_in_aperture", maps.n_in_aperture),
            ("n_in_rv_aperture", maps.n_in_rv_aperture),
        ] {
            file.new_attr::<u64>().create(name)?.write_scalar(&(value as u64))?;
        }
        file.new_attr::<u64>().create("seed")?.write_scalar(&meta.seed)?;
        for (name, data, grid, axis0, axis1) in [
            ("star_xy", &maps.star_xy, xy, "y / R_h", "x / R_h"),
            ("star_rv", &maps.star_rv, rv, "v_los / v_p98", "R / R_h"),
        ] {
            let ds = file.new_dataset_builder().with_data(data).create(name)?;
            ds.new_attr::<VarLenUnicode>().create("axis0")?.write_scalar(&text(axis0)?)?;
            ds.new_attr::<VarLenUnicode>().create("axis1")?.write_scalar(&text(axis1)?)?;
            ds.new_attr_builder().with_data(&grid.y.coords()).create("axis0_coords")?;
            ds.new_attr_builder().with_data(&grid.x.coords()).create("axis1_coords")?;
            let sampling = match grid.x.sampling {
                GridSampling::Endpoints => "endpoints",
                GridSampling::Centres => "centres",
            };
            ds.new_attr::<VarLenUnicode>().create("grid_sampling")?.write_scalar(&text(sampling)?)?;
            ds.new_attr::<VarLenUnicode>()
                .create("units")?
                .write_scalar(&text("probability density per unit axis0 x axis1")?)?;
        }
        file.flush()?;
        Ok(())
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, out).with_context(|| format!("cannot move the maps into {}", out.display())),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e.context(format!("cannot write {}", out.display())))
        }
    }
}

fn write_fits(path: &Path, maps: &StarMaps, xy: &Grid2, rv: &Grid2) -> Result<()> {
    let axis = |axis: &galmass_mock::kde::GridAxis, ctype: &str| AxisWcs {
        ctype: ctype.into(),
        unit: "".into(),
        first: axis.coord(0),
        step: axis.step(),
    };
    let keys = vec![
        ("RH_KPC".to_string(), maps.r_h_kpc, "projected half-number radius [kpc]".to_string()),
        ("SIGLOS".to_string(), maps.sigma_los_kms, "line-of-sight dispersion [km/s]".to_string()),
        ("VP98".to_string(), maps.v_p98_kms, "velocity scale v_p98 [km/s]".to_string()),
        ("NSTARS".to_string(), maps.n_stars as f64, "stars sampled".to_string()),
    ];
    let images = [
        FitsImage {
            extname: "STAR_XY".into(),
            data: maps.star_xy.view(),
            x: axis(&xy.x, "X_RH"),
            y: axis(&xy.y, "Y_RH"),
            keys: keys.clone(),
        },
        FitsImage {
            extname: "STAR_RV".into(),
            data: maps.star_rv.view(),
            x: axis(&rv.x, "R_RH"),
            y: axis(&rv.y, "V_VP98"),
            keys,
        },
    ];
    write_images(path, &images).with_context(|| format!("cannot write {}", path.display()))
}
