//! `galmass maps sph` (chu2024's SPH images and kinematic maps) and `galmass maps optical` (delosrios2023's
//! SDSS-like ugriz frames) for one projection of a galaxy's stars.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use galmass_mock::optical::kinematic::KinematicWeight;
use galmass_mock::optical::sph::Scaling;
use galmass_pipeline::optical::{
    escape_markup, features_of_galaxy, optical_figure, optical_of_galaxy, save_figure, sph_figure, sph_of_galaxy,
    write_optical_fits, OpticalRequest, SphRequest,
};
use galmass_pipeline::products::write_products;

/// Arguments of `galmass maps sph`.
#[derive(Debug, Args)]
pub struct SphArgs {
    /// The galaxy file (its stars need lum_g and lum_r).
    #[arg(long)]
    galaxy: PathBuf,
    /// Line of sight X,Y,Z in the box frame, observer to galaxy (normalised for you).
    #[arg(long, value_parser = crate::parse_vec3, allow_hyphen_values = true)]
    los: [f64; 3],
    /// Output products file (HDF5; group `sph/`).
    #[arg(long)]
    out: PathBuf,
    /// Paper preset (chu2024: 300 x 300 over +-3 R_hsm, 32-neighbour smoothing, 48 x 48 kinematic maps).
    #[arg(long, default_value = "chu2024", value_parser = clap::builder::PossibleValuesParser::new(["chu2024"]))]
    preset: String,
    /// Pixels per side of the images written: the 300 x 300 rendering re-binned (chu2024 also uses 150 and 60).
    #[arg(long)]
    npix: Option<usize>,
    /// Scaling of every map to [0, 1]: per-image (each map's own range), none (physical values), or
    /// per-dataset with --scale-min/--scale-max. The bounds are stored as attributes either way.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["per-image", "per-dataset", "none"]))]
    scaling: Option<String>,
    /// With --scaling per-dataset: the physical value mapped to 0.
    #[arg(long, allow_hyphen_values = true, requires = "scale_max")]
    scale_min: Option<f64>,
    /// With --scaling per-dataset: the physical value mapped to 1.
    #[arg(long, allow_hyphen_values = true, requires = "scale_min")]
    scale_max: Option<f64>,
    /// Weighting of the kinematic maps: mass (default) or luminosity (r band).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["mass", "luminosity"]))]
    kinematic_weight: Option<String>,
    /// Also draw the maps as a PNG beside the products file (OUT.png).
    #[arg(long)]
    png: bool,
    /// Where the stars' luminosities come from: auto (the galaxy file's when it has every band needed, else all
    /// five SDSS bands from the SSP table by age and metallicity), file, or ssp.
    #[arg(long, default_value = "auto", value_parser = clap::builder::PossibleValuesParser::new(["auto", "file", "ssp"]))]
    luminosities: String,
    /// Dim the stars by a foreground dust screen of the gas's metals in front of each (galmass_mock::optical::dust;
    /// needs gas with metallicity and smoothing_length_kpc). No radiative transfer: no scattering or emission.
    #[arg(long)]
    dust: bool,
    /// Print one JSON object (paths, R_hsm, grids, luminosity in the field) instead of a line of text.
    #[arg(long)]
    json: bool,
}

/// Runs `galmass maps sph`.
pub fn sph(args: &SphArgs) -> Result<()> {
    let mut request = SphRequest::preset(&args.preset, args.los)?;
    request.luminosities = args.luminosities.parse()?;
    request.dust = args.dust;
    let mut custom = false;
    if let Some(n) = args.npix {
        request.images.output_npix = n;
        custom |= n != request.images.npix;
    }
    if let Some(s) = &args.scaling {
        request.images.scaling = match s.as_str() {
            "none" => Scaling::None,
            "per-dataset" => match (args.scale_min, args.scale_max) {
                (Some(min), Some(max)) => Scaling::PerDataset { min, max },
                _ => anyhow::bail!("--scaling per-dataset needs --scale-min and --scale-max"),
            },
            _ => Scaling::PerImage,
        };
        custom |= s != "per-image";
    }
    if let Some(w) = &args.kinematic_weight {
        request.kinematic.weight =
            if w == "luminosity" { KinematicWeight::Luminosity("r".into()) } else { KinematicWeight::Mass };
        custom |= w != "mass";
    }
    if custom {
        request.preset = "custom".into();
    }
    let products = sph_of_galaxy(&args.galaxy, &request)?;
    write_products(&args.out, &products)?;
    tracing::info!(out = %args.out.display(), "wrote the products file");
    let Some(sph) = &products.sph else { anyhow::bail!("no SPH images were made") };
    let png = args.png.then(|| args.out.with_extension("png"));
    if let Some(path) = &png {
        let title = format!(
            "{} along ({:.2}, {:.2}, {:.2})",
            escape_markup(&args.galaxy.display().to_string()),
            args.los[0],
            args.los[1],
            args.los[2]
        );
        save_figure(path, sph_figure(sph, &title)?)?;
    }
    let lum_in_field: f64 = sph.r.physical().sum();
    if args.json {
        let report = serde_json::json!({
            "out": args.out,
            "png": png,
            "galaxy": args.galaxy,
            "los": products.projection.los,
            "preset": sph.preset,
            "r_hsm_kpc": sph.r_hsm_kpc,
            "npix": sph.r.data.ncols(),
            "pixel_kpc": 2.0 * sph.half_width_kpc / sph.r.data.ncols() as f64,
            "kinematic_npix": sph.v_mean.data.ncols(),
            "kinematic_weight": sph.kinematic_weight,
            "scaling": sph.scaling,
            "lum_r_in_field_lsun": lum_in_field,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{}: R_hsm = {:.3} kpc, r/g/g-r {}x{} over +-{:.2} kpc, kinematic maps {}x{} ({}), L_r in field {:.4e} Lsun",
        args.out.display(),
        sph.r_hsm_kpc,
        sph.r.data.ncols(),
        sph.r.data.ncols(),
        sph.half_width_kpc,
        sph.v_mean.data.ncols(),
        sph.v_mean.data.ncols(),
        sph.kinematic_weight,
        lum_in_field
    );
    Ok(())
}

/// Arguments of `galmass features`.
#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// The galaxy file (its stars need lum_g and lum_r; age_gyr for the SFR, else it is null).
    #[arg(long)]
    galaxy: PathBuf,
    /// Line of sight X,Y,Z in the box frame, observer to galaxy (normalised for you).
    #[arg(long, value_parser = crate::parse_vec3, allow_hyphen_values = true)]
    los: [f64; 3],
    /// Paper preset of the apertures.
    #[arg(long, default_value = "chu2024", value_parser = clap::builder::PossibleValuesParser::new(["chu2024"]))]
    preset: String,
    /// Also write them to a products file (group `scalars/`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where the stars' luminosities come from: auto (the galaxy file's when it has every band needed, else all
    /// five SDSS bands from the SSP table by age and metallicity), file, or ssp.
    #[arg(long, default_value = "auto", value_parser = clap::builder::PossibleValuesParser::new(["auto", "file", "ssp"]))]
    luminosities: String,
    /// Print one JSON object: each key holds `value` (null when it cannot be measured), `unit` and `aperture`.
    #[arg(long)]
    json: bool,
}

/// Runs `galmass features`.
pub fn features(args: &FeaturesArgs) -> Result<()> {
    let (features, products) = features_of_galaxy(&args.galaxy, args.los, &args.preset, args.luminosities.parse()?)?;
    if let Some(out) = &args.out {
        write_products(out, &products)?;
        tracing::info!(out = %out.display(), "wrote the products file");
    }
    if args.json {
        let mut object = serde_json::Map::new();
        for (key, f) in features.iter() {
            object.insert(key.to_owned(), serde_json::to_value(f)?);
        }
        println!("{}", serde_json::to_string_pretty(&serde_json::Value::Object(object))?);
        return Ok(());
    }
    println!(
        "{} along ({}, {}, {}): R_hsm = {:.3} kpc",
        args.galaxy.display(),
        args.los[0],
        args.los[1],
        args.los[2],
        features.r_hsm_kpc
    );
    for (key, f) in features.iter() {
        println!("  {key:<13} {:>12.5} {:<9} ({})", f.value, f.unit, f.aperture);
    }
    Ok(())
}

/// Arguments of `galmass maps optical`.
#[derive(Debug, Args)]
pub struct OpticalArgs {
    /// The galaxy file (its stars need lum_u, lum_g, lum_r, lum_i and lum_z).
    #[arg(long)]
    galaxy: PathBuf,
    /// Line of sight X,Y,Z in the box frame, observer to galaxy (normalised for you).
    #[arg(long, value_parser = crate::parse_vec3, allow_hyphen_values = true)]
    los: [f64; 3],
    /// Distance to the galaxy in Mpc (delosrios2023: uniform in 10..20).
    #[arg(long)]
    distance_mpc: f64,
    /// Output products file (HDF5; group `optical/`, datasets u, g, r, i, z in nanomaggies).
    #[arg(long)]
    out: PathBuf,
    /// Paper preset (delosrios2023: 128 x 128 over 17.2', DR16 seeing and sky).
    #[arg(long, default_value = "delosrios2023", value_parser = clap::builder::PossibleValuesParser::new(["delosrios2023"]))]
    preset: String,
    /// Pixels per side.
    #[arg(long)]
    npix: Option<usize>,
    /// Pixel size in arcsec.
    #[arg(long)]
    pixel_arcsec: Option<f64>,
    /// No PSF.
    #[arg(long)]
    no_psf: bool,
    /// No sky or source noise.
    #[arg(long)]
    no_noise: bool,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write the frames as FITS beside the products file (OUT.fits: one HDU per band, TAN WCS, BUNIT
    /// nanomaggy, SDSS-like keys).
    #[arg(long)]
    fits: bool,
    /// Also draw the frames as a PNG beside the products file (OUT.png).
    #[arg(long)]
    png: bool,
    /// Where the stars' luminosities come from: auto (the galaxy file's when it has every band needed, else all
    /// five SDSS bands from the SSP table by age and metallicity), file, or ssp.
    #[arg(long, default_value = "auto", value_parser = clap::builder::PossibleValuesParser::new(["auto", "file", "ssp"]))]
    luminosities: String,
    /// Dim the stars by a foreground dust screen of the gas's metals in front of each (galmass_mock::optical::dust;
    /// needs gas with metallicity and smoothing_length_kpc). No radiative transfer: no scattering or emission.
    #[arg(long)]
    dust: bool,
    /// Print one JSON object (paths, grid, per-band flux, PSF and sky rms) instead of a line of text.
    #[arg(long)]
    json: bool,
}

/// Runs `galmass maps optical`.
pub fn optical(args: &OpticalArgs) -> Result<()> {
    let mut request = OpticalRequest::preset(&args.preset, args.los, args.distance_mpc, args.seed)?;
    request.luminosities = args.luminosities.parse()?;
    request.dust = args.dust;
    let p = &mut request.params;
    let before = *p;
    if let Some(n) = args.npix {
        p.npix = n;
    }
    if let Some(px) = args.pixel_arcsec {
        p.pixel_arcsec = px;
    }
    p.psf &= !args.no_psf;
    p.noise &= !args.no_noise;
    if *p != before {
        request.preset = "custom".into();
    }
    let products = optical_of_galaxy(&args.galaxy, &request)?;
    write_products(&args.out, &products)?;
    tracing::info!(out = %args.out.display(), "wrote the products file");
    let Some(optical) = &products.optical else { anyhow::bail!("no frames were made") };
    let fits = args.fits.then(|| args.out.with_extension("fits"));
    if let Some(path) = &fits {
        write_optical_fits(path, optical, &args.galaxy.display().to_string())?;
    }
    let png = args.png.then(|| args.out.with_extension("png"));
    if let Some(path) = &png {
        let title = format!(
            "{} along ({:.2}, {:.2}, {:.2}) at {} Mpc",
            escape_markup(&args.galaxy.display().to_string()),
            args.los[0],
            args.los[1],
            args.los[2],
            args.distance_mpc
        );
        save_figure(path, optical_figure(optical, &title)?)?;
    }
    if args.json {
        let bands: serde_json::Map<String, serde_json::Value> = optical
            .bands
            .iter()
            .map(|b| {
                (
                    b.band.clone(),
                    serde_json::json!({
                        "flux_nanomaggies": b.image.sum(),
                        "psf_fwhm_arcsec": b.psf_fwhm_arcsec,
                        "sky_rms_nanomaggies": b.sky_rms_nanomaggies,
                    }),
                )
            })
            .collect();
        let report = serde_json::json!({
            "out": args.out, "fits": fits, "png": png, "galaxy": args.galaxy, "los": products.projection.los,
            "preset": optical.preset, "distance_mpc": optical.distance_mpc, "npix": optical.npix(),
            "pixel_arcsec": optical.pixel_arcsec, "pixel_kpc": optical.pixel_kpc(), "bands": bands,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let r = optical.band("r").map_or(f64::NAN, |b| b.image.sum());
    println!(
        "{}: ugriz {}x{} at {:.3}''/px ({:.3} kpc) at {} Mpc, r flux {:.4e} nmgy (m_r = {:.2})",
        args.out.display(),
        optical.npix(),
        optical.npix(),
        optical.pixel_arcsec,
        optical.pixel_kpc(),
        optical.distance_mpc,
        r,
        22.5 - 2.5 * r.max(1e-30).log10()
    );
    Ok(())
}
