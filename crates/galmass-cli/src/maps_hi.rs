//! `galmass maps hi`: a mock HI cube and its moment maps for one projection of a galaxy's gas.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use galmass_core::params::Params;
use galmass_mock::hi::kernels::SphKernel;
use galmass_mock::hi::line::LineWidth;
use galmass_mock::hi::moments::MomentMask;
use galmass_mock::hi::noise::NoiseRms;
use galmass_mock::hi::params::{BeamSize, HiParams, PixelScale};
use galmass_mock::hi::recipe::SystemicVelocity;
use galmass_pipeline::hi::{hi_of_fits, hi_of_galaxy, save_hi_figure, write_hi_fits, FitsHiRequest, HiRequest};
use galmass_pipeline::products::write_products;

/// Arguments of `galmass maps hi`.
#[derive(Debug, Args)]
pub struct HiArgs {
    /// The galaxy file (its gas needs hi_mass_msun and smoothing_length_kpc, and temperature_k for --thermal).
    #[arg(long, required_unless_present = "fits_in", conflicts_with = "fits_in", requires = "los")]
    galaxy: Option<PathBuf>,
    /// Line of sight X,Y,Z in the box frame, observer to galaxy (normalised for you).
    #[arg(long, value_parser = crate::parse_vec3, allow_hyphen_values = true)]
    los: Option<[f64; 3]>,
    /// A real HI cube (FITS) instead of a galaxy: its moments, with the mask options below (the preset's mask
    /// otherwise); velocity axes VELO/FELO/VOPT/VRAD or FREQ, Stokes axes, per-channel beams, Jy/beam or K.
    #[arg(long)]
    fits_in: Option<PathBuf>,
    /// With --fits-in: first bring the cube to the preset's recipe (beam, channels, pixels; a beam finer than the
    /// data's is refused). Physical pixels need --distance-mpc (the galaxy's), exposito2026 also --r-hi-kpc.
    #[arg(long, requires = "fits_in")]
    to_recipe: bool,
    /// With --to-recipe and a field of +-k R_HI (exposito2026): the galaxy's R_HI in kpc.
    #[arg(long, requires = "to_recipe")]
    r_hi_kpc: Option<f64>,
    /// With --to-recipe: the systemic velocity in km/s in the cube's frame (default: the flux-weighted mean).
    #[arg(long, requires = "to_recipe", allow_hyphen_values = true)]
    vsys_kms: Option<f64>,
    /// Output products file (HDF5).
    #[arg(long)]
    out: PathBuf,
    /// Paper preset setting every value below (configs/maps/hi.toml holds the same values).
    #[arg(long, default_value = "delosrios2023", value_parser = clap::builder::PossibleValuesParser::new(HiParams::PRESETS))]
    preset: String,
    /// Distance to the galaxy in Mpc.
    #[arg(long)]
    distance_mpc: Option<f64>,
    /// Pixels per side.
    #[arg(long)]
    npix: Option<usize>,
    /// Pixel size in arcsec (instead of the preset's, e.g. exposito2026's field of +-2 R_HI).
    #[arg(long, conflicts_with = "pixel_kpc")]
    pixel_arcsec: Option<f64>,
    /// Pixel size in kpc at the galaxy's distance.
    #[arg(long)]
    pixel_kpc: Option<f64>,
    /// Number of channels.
    #[arg(long)]
    channels: Option<usize>,
    /// Channel width in km/s.
    #[arg(long)]
    channel_kms: Option<f64>,
    /// Velocity of the band centre relative to the galaxy's systemic velocity, km/s.
    #[arg(long, allow_hyphen_values = true)]
    centre_kms: Option<f64>,
    /// Circular Gaussian beam FWHM in arcsec (0: no beam, the cube stays in Jy/arcsec^2).
    #[arg(long)]
    beam_arcsec: Option<f64>,
    /// The beam is cut at this many FWHMs.
    #[arg(long)]
    beam_truncate_fwhm: Option<f64>,
    /// Noise rms after convolution, Jy/beam (MARTINI 3's convention; 0: no noise).
    #[arg(long, conflicts_with = "noise_rms_jy_arcsec2")]
    noise_rms_jy_beam: Option<f64>,
    /// Noise rms before convolution, Jy/arcsec^2 (delosrios2023 quotes 5e-6; 0: no noise).
    #[arg(long)]
    noise_rms_jy_arcsec2: Option<f64>,
    /// SPH kernel: cubic-spline, wendland-c2 or gaussian.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["cubic-spline", "wendland-c2", "gaussian"]))]
    kernel: Option<String>,
    /// A fixed line width sigma in km/s for every particle.
    #[arg(long, conflicts_with = "thermal")]
    line_sigma_kms: Option<f64>,
    /// Thermal line widths sqrt(k T / m_p) from the gas temperatures.
    #[arg(long)]
    thermal: bool,
    /// Mask the moments below this column density in cm^-2 (exposito2026: 3.16e19).
    #[arg(long, conflicts_with_all = ["mask_intensity_jy_beam", "no_mask"])]
    mask_column_density_cm2: Option<f64>,
    /// Mask voxels below this intensity in Jy/beam (delosrios2023 writes 0.2).
    #[arg(long, conflicts_with = "no_mask")]
    mask_intensity_jy_beam: Option<f64>,
    /// No mask: every pixel (moment 0 is the nan-sum over channels).
    #[arg(long)]
    no_mask: bool,
    /// Seed of the noise.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Also write FITS beside the products file: OUT.cube.fits (the cube with its WCS, beam and RESTFRQ) and
    /// OUT.moments.fits (MOM0, MOM1, MOM2).
    #[arg(long)]
    fits: bool,
    /// Also draw the moment maps as a PNG beside the products file (OUT.png).
    #[arg(long)]
    png: bool,
    /// Print one JSON object (paths, grid, HI masses, scalars, timing) instead of a line of text.
    #[arg(long)]
    json: bool,
}

impl HiArgs {
    /// The request for a real cube: the mask (options over the preset's) and, with --to-recipe, the target.
    fn fits_request(&self, params: HiParams, preset: String) -> Result<FitsHiRequest> {
        let recipe = if self.to_recipe {
            let physical = !matches!(params.pixel, PixelScale::Arcsec(_));
            if physical && self.distance_mpc.is_none() {
                bail!("--to-recipe with the {preset} preset's physical pixels needs --distance-mpc (the galaxy's)");
            }
            let systemic = self.vsys_kms.map_or(SystemicVelocity::FluxWeightedMean, SystemicVelocity::Kms);
            let target = params.check()?.recipe_target(self.r_hi_kpc, systemic)?;
            Some((preset, target))
        } else {
            None
        };
        Ok(FitsHiRequest { mask: params.mask, clip_rms: params.clip_rms, distance_mpc: self.distance_mpc, recipe })
    }

    /// The preset with the options applied, and whether any option changed it.
    fn params(&self) -> Result<(HiParams, bool)> {
        let Some(preset) = HiParams::preset(&self.preset) else { bail!("unknown HI preset {:?}", self.preset) };
        let mut p = preset;
        let set = |slot: &mut f64, value: Option<f64>| {
            if let Some(v) = value {
                *slot = v;
            }
        };
        set(&mut p.distance_mpc, self.distance_mpc);
        set(&mut p.channel_kms, self.channel_kms);
        set(&mut p.centre_kms, self.centre_kms);
        set(&mut p.beam_truncate_fwhm, self.beam_truncate_fwhm);
        if let Some(n) = self.npix {
            p.npix = n;
        }
        if let Some(n) = self.channels {
            p.channels = n;
        }
        if let Some(v) = self.pixel_arcsec {
            p.pixel = PixelScale::Arcsec(v);
        }
        if let Some(v) = self.pixel_kpc {
            p.pixel = PixelScale::Kpc(v);
        }
        if let Some(v) = self.beam_arcsec {
            p.beam = if v == 0.0 { BeamSize::None } else { BeamSize::Arcsec(v) };
        }
        if let Some(v) = self.noise_rms_jy_beam {
            p.noise = if v == 0.0 { NoiseRms::None } else { NoiseRms::JyPerBeam(v) };
        }
        if let Some(v) = self.noise_rms_jy_arcsec2 {
            p.noise = if v == 0.0 { NoiseRms::None } else { NoiseRms::JyPerArcsec2(v) };
        }
        if let Some(name) = &self.kernel {
            let Some(k) = SphKernel::from_name(name) else { bail!("unknown kernel {name:?}") };
            p.kernel = k;
        }
        if let Some(v) = self.line_sigma_kms {
            p.line = LineWidth::FixedKms(v);
        }
        if self.thermal {
            p.line = LineWidth::Thermal;
        }
        if let Some(v) = self.mask_column_density_cm2 {
            p.mask = MomentMask::ColumnDensityCm2(v);
        }
        if let Some(v) = self.mask_intensity_jy_beam {
            p.mask = MomentMask::IntensityJyPerBeam(v);
        }
        if self.no_mask {
            p.mask = MomentMask::None;
        }
        Ok((p, p != preset))
    }
}

/// Runs `galmass maps hi`.
pub fn run(args: &HiArgs) -> Result<()> {
    let (params, changed) = args.params()?;
    let preset = if changed { "custom".to_owned() } else { args.preset.clone() };
    let start = Instant::now();
    let products = match (&args.galaxy, args.los, &args.fits_in) {
        (Some(galaxy), Some(los), None) => hi_of_galaxy(galaxy, &HiRequest { los, preset, params, seed: args.seed })?,
        (None, _, Some(cube)) => hi_of_fits(cube, &args.fits_request(params, preset)?)?,
        _ => bail!("give --galaxy with --los, or --fits-in"),
    };
    let seconds = start.elapsed().as_secs_f64();
    write_products(&args.out, &products)?;
    tracing::info!(out = %args.out.display(), seconds, "wrote the products file");
    let Some(hi) = &products.hi else { bail!("no HI cube was made") };
    let fits = if args.fits {
        let object = format!("{} galaxy {}", products.projection.suite, products.projection.galaxy_id);
        let (cube, moments) = write_hi_fits(&args.out, hi, &object)?;
        tracing::info!(cube = %cube.display(), moments = %moments.display(), "wrote FITS");
        Some((cube, moments))
    } else {
        None
    };
    let png = if args.png {
        let path = args.out.with_extension("png");
        let title = if hi.source == "fits" {
            let file =
                std::path::Path::new(&hi.input).file_name().map_or(hi.input.clone(), |f| f.to_string_lossy().into());
            // `_` and `^` start sub- and superscripts in figure text: escape them.
            let file = file.replace('_', "\\_").replace('^', "\\^");
            format!("{} ({file}): HI moments", products.projection.suite)
        } else {
            format!("{} galaxy {}: HI ({})", products.projection.suite, products.projection.galaxy_id, hi.preset)
        };
        save_hi_figure(&path, hi, &title)?;
        Some(path)
    } else {
        None
    };
    let distance = hi.distance_mpc;
    let cube_hi_mass = distance.map(|d| hi.cube.hi_mass_msun(d));
    let cube = &hi.cube;
    if args.json {
        let report = serde_json::json!({
            "out": args.out,
            "fits": fits.as_ref().map(|(c, m)| serde_json::json!({"cube": c, "moments": m})),
            "galaxy": args.galaxy,
            "fits_in": args.fits_in,
            "png": png,
            "los": products.projection.los,
            "preset": hi.preset,
            "params": hi.params,
            "shape": [cube.spectral.n, cube.grid.ny, cube.grid.nx],
            "unit": cube.unit.as_str(),
            "pixel_arcsec": cube.grid.pixel_arcsec,
            "pixel_kpc": hi.pixel_kpc(),
            "distance_mpc": distance,
            "n_particles": hi.n_particles,
            "hi_mass_msun": hi.hi_mass_msun,
            "cube_hi_mass_msun": cube_hi_mass,
            "noise_rms": hi.noise_rms,
            "masked_fraction": hi.moments.mask.iter().filter(|m| !**m).count() as f64 / hi.moments.mask.len() as f64,
            "r_hi_kpc": hi.scalars.map(|s| s.r_hi_kpc),
            "v_cold_kms": hi.scalars.map(|s| s.v_cold_kms),
            "sigma_cold_kms": hi.scalars.map(|s| s.sigma_cold_kms),
            "seconds": seconds,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{}: {} channels x {} x {} pixels of {:.3}'' ({:.4} kpc) in {}, M_HI {:.4e} Msun in the cube, {:.4e} in {} \
         particles{}",
        args.out.display(),
        cube.spectral.n,
        cube.grid.ny,
        cube.grid.nx,
        cube.grid.pixel_arcsec,
        hi.pixel_kpc(),
        cube.unit.as_str(),
        cube_hi_mass.unwrap_or(f64::NAN),
        hi.hi_mass_msun,
        hi.n_particles,
        hi.scalars.map_or(String::new(), |s| format!(", R_HI {:.3} kpc, v_cold {:.2} km/s", s.r_hi_kpc, s.v_cold_kms))
    );
    Ok(())
}
