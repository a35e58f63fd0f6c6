//! `galmass`: infer galaxy mass profiles from mock observations of simulated galaxies.
//!
//! Run `galmass --help` for the subcommands. Logs go to stderr through `tracing` (`-v`, `-vv`, or `RUST_LOG`).

mod dataset_cmd;
mod experiment_cmd;
mod flow_cmd;
mod gbdt_cmd;
mod maps_cmd;
mod maps_hi;
mod maps_optical;
mod rc_cmd;
mod snapshot_cmd;
mod synth_cmd;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use galmass_core::geometry::{DirectionSet, Rotation};
use galmass_snapshot::galaxy_file;
use serde::Serialize;
use tracing_subscriber::EnvFilter;

/// galmass infers the mass profiles of galaxies (stellar, dark and total mass within given radii, with calibrated
/// uncertainties) from what a telescope sees, learning from simulations where the truth is known.
#[derive(Debug, Parser)]
#[command(name = "galmass", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Summarise a galaxy file: metadata, particle counts and masses per species, fields present, truth profile.
    Info {
        /// The galaxy file (HDF5, format `galmass-galaxy`).
        #[arg(long)]
        galaxy: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Classic dynamical mass estimators (Walker, Wolf, Amorisco & Evans, Campbell, Errani) of one projection,
    /// with bootstrap uncertainties and the true enclosed mass at each estimator's radius.
    ///
    /// R_h is the projected half-number radius and sigma_los the line-of-sight dispersion of the (sub)sampled stars,
    /// the same numbers the kinematic maps use. The truth is the total 3D mass within the radius from the galaxy
    /// file's truth profile (counted from its particles when the file has none).
    Estimate(EstimateArgs),
    /// What a simulation snapshot holds: format, particle counts per species, scale factor, redshift, h, box, the
    /// unit conversions applied and the fields per species (tipsy with .param, Arepo HDF5 files, chunks or snapdir
    /// folders, TNG API cutouts).
    Inspect(snapshot_cmd::InspectArgs),
    /// Extract halos of a snapshot as centred galaxy files (positions and velocities relative to the centre and the
    /// stars' bulk velocity, box orientation kept, rotation_to_aligned from the stars, truth from the halo's own
    /// particles), optionally through the papers' selection filters.
    Extract(snapshot_cmd::ExtractArgs),
    /// Generate a synthetic suite: one galaxy file per galaxy (particles and analytic truth), catalogue.csv and
    /// manifest.json, in parallel with a progress bar; re-running the same command resumes where it stopped.
    Synth(synth_cmd::SynthArgs),
    /// Gradient boosted trees (LightGBM-class, chu2024 §2.3): `galmass gbdt train` fits a model on a CSV feature
    /// table and prints loss curves, validation metrics and gain importance; `galmass gbdt predict` applies it.
    Gbdt {
        /// Train or predict.
        #[command(subcommand)]
        cmd: gbdt_cmd::GbdtCommand,
    },
    /// Training datasets of galaxy projections: `galmass dataset build` (sharded, resumable), `merge`, `plan`.
    Dataset {
        /// Build, merge or plan.
        #[command(subcommand)]
        cmd: dataset_cmd::DatasetCommand,
    },
    /// Train every model of an experiment (configs/experiments/*.toml) on a dataset: the papers' networks with a
    /// masked-autoregressive-flow posterior head on their penultimate features, and GBDTs on scalar columns, one
    /// unit per model and training set (the cross-suite matrix in one command). Resumes: trained units are kept.
    Train(experiment_cmd::TrainArgs),
    /// Evaluate a trained run on every suite of its dataset, with the classic estimators on the same projections:
    /// records with bootstrap bands over galaxies (summary.json), Markdown and CSV tables, PNG figures, the
    /// papers' claims checked and their published values next to ours (report.md).
    Evaluate(experiment_cmd::EvaluateArgs),
    /// Masked autoregressive flow posteriors (sarrato2025's MAF): `galmass flow train` fits q(targets | context)
    /// on a CSV table, `galmass flow sample` draws from it for each row of contexts, `galmass flow log-prob`
    /// evaluates its log-density.
    Flow {
        /// Train, sample or evaluate.
        #[command(subcommand)]
        cmd: flow_cmd::FlowCommand,
    },
    /// Mock observations as maps: `galmass maps stars` makes the stellar kinematic maps of one projection.
    Maps {
        /// Which maps.
        #[command(subcommand)]
        command: maps_cmd::MapsCommand,
    },
    /// chu2024's ten summary statistics of one projection (its GBDT's features, Table 1): M_r, g_r, sfr, sersic_n,
    /// c_over_a, sigma_v, lambda_r, kinematic_bt, f_cold, f_hot, each with its value, unit and aperture (2 R_hsm
    /// projected unless the aperture says otherwise; R_hsm the 3-D half stellar mass radius).
    Features(maps_optical::FeaturesArgs),
    /// List the lines of sight of a direction set with their sky-plane bases (e1, e2), as used by every projection.
    ///
    /// Directions are unit vectors from the observer to the galaxy in the box frame; v_los = v . n is positive
    /// when receding; (e1, e2, n) is right-handed. Inclination series need a galaxy's rotation_to_aligned.
    Directions {
        /// Which set.
        #[arg(long, value_enum, default_value_t = SetKind::Fibonacci)]
        set: SetKind,
        /// Number of directions (ignored for box axes).
        #[arg(long, default_value_t = 64)]
        n: usize,
        /// Smallest inclination in degrees (inclination series).
        #[arg(long, default_value_t = 0.0)]
        min_deg: f64,
        /// Largest inclination in degrees (inclination series).
        #[arg(long, default_value_t = 90.0)]
        max_deg: f64,
        /// Azimuth about the angular momentum in degrees (inclination series).
        #[arg(long, default_value_t = 0.0)]
        azimuth_deg: f64,
        /// Seed (random set).
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Galaxy file whose rotation_to_aligned defines inclinations (default: the identity).
        #[arg(long)]
        galaxy: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Arguments of `galmass estimate`.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
struct EstimateArgs {
    #[command(subcommand)]
    method: Option<EstimateMethod>,
    /// The galaxy file.
    #[arg(long, required = true)]
    galaxy: Option<PathBuf>,
    /// Line of sight as X,Y,Z in the box frame (from the observer to the galaxy; normalised for you).
    #[arg(long, value_parser = parse_vec3, allow_hyphen_values = true, required = true)]
    los: Option<[f64; 3]>,
    /// Use a seeded random subsample of this many stars (default: every star).
    #[arg(long)]
    n_stars: Option<usize>,
    /// Seed of the star subsample, the velocity errors and the bootstrap.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Add Gaussian velocity errors of this size (km/s) to each star, then correct the dispersions for them by
    /// maximum likelihood.
    #[arg(long)]
    velocity_error_kms: Option<f64>,
    /// Bootstrap resamples for the uncertainties.
    #[arg(long, default_value_t = 200)]
    n_bootstrap: usize,
    /// Annulus (in R_h) where Amorisco & Evans' "dispersion at R_h" is measured, as INNER,OUTER.
    #[arg(long, value_parser = parse_pair, default_value = "0.8,1.2")]
    at_rh_annulus: (f64, f64),
    /// Print one JSON object keyed by estimator instead of a table.
    #[arg(long)]
    json: bool,
}

/// Estimators other than the dispersion-based ones.
#[derive(Debug, Subcommand)]
enum EstimateMethod {
    /// The rotation-curve baseline (delosrios2023 §5.6): tilted rings fitted to the HI velocity field (beam
    /// smearing and asymmetric drift corrected), an exponential stellar disc fitted to the light, and a Bayesian
    /// NFW + disc + gas decomposition by ensemble MCMC, with the enclosed dark and total masses.
    Rc(rc_cmd::RcArgs),
}

fn parse_numbers(text: &str, n: usize) -> Result<Vec<f64>, String> {
    let values: Result<Vec<f64>, _> = text.split(',').map(|p| p.trim().parse::<f64>()).collect();
    match values {
        Ok(v) if v.len() == n && v.iter().all(|x| x.is_finite()) => Ok(v),
        _ => Err(format!("expected {n} comma-separated finite numbers, got `{text}`")),
    }
}

pub(crate) fn parse_vec3(text: &str) -> Result<[f64; 3], String> {
    parse_numbers(text, 3).map(|v| [v[0], v[1], v[2]])
}

fn parse_pair(text: &str) -> Result<(f64, f64), String> {
    parse_numbers(text, 2).map(|v| (v[0], v[1]))
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SetKind {
    /// Quasi-uniform Fibonacci lattice on the sphere (sarrato2025).
    Fibonacci,
    /// Increasing inclinations about the stellar angular momentum (exposito2026).
    Inclination,
    /// The box axes x, y, z (chu2024).
    BoxAxes,
    /// Uniform random directions from --seed.
    Random,
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain of causes on one line, naming the file and field.
            eprintln!("galmass: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let cli = Cli::parse();
    let default_level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Info { galaxy, json } => info(&galaxy, json),
        Command::Estimate(args) => estimate(&args),
        Command::Maps { command } => maps_cmd::run(&command),
        Command::Features(args) => maps_optical::features(&args),
        Command::Gbdt { cmd } => gbdt_cmd::run(&cmd),
        Command::Flow { cmd } => flow_cmd::run(&cmd),
        Command::Dataset { cmd } => dataset_cmd::run(&cmd),
        Command::Train(args) => experiment_cmd::train(&args),
        Command::Evaluate(args) => experiment_cmd::evaluate(&args),
        Command::Synth(args) => synth_cmd::run(&args),
        Command::Inspect(args) => snapshot_cmd::run_inspect(&args),
        Command::Extract(args) => snapshot_cmd::extract(&args),
        Command::Directions { set, n, min_deg, max_deg, azimuth_deg, seed, galaxy, json } => {
            let set = match set {
                SetKind::Fibonacci => DirectionSet::Fibonacci { n },
                SetKind::Inclination => DirectionSet::InclinationSeries { n, min_deg, max_deg, azimuth_deg },
                SetKind::BoxAxes => DirectionSet::BoxAxes,
                SetKind::Random => DirectionSet::Random { n, seed },
            };
            directions(&set, galaxy.as_deref(), json)
        }
    }
}

fn info(path: &std::path::Path, json: bool) -> Result<()> {
    tracing::info!(path = %path.display(), "reading galaxy file");
    let report = galmass_pipeline::info::galaxy_info(path)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("{}", report.path.display());
    println!("  suite {}  galaxy {}  z = {}", report.suite, report.galaxy_id, report.redshift);
    println!("  source {}{}", report.source, report.source_halo_id.map(|h| format!(" (halo {h})")).unwrap_or_default());
    for s in &report.species {
        println!(
            "  {:<5} {:>9} particles  {:.4e} Msun  fields: {}",
            s.species.to_string(),
            s.n_particles,
            s.total_mass_msun,
            s.fields.join(", ")
        );
    }
    match (&report.truth_source, report.truth_n_radii) {
        (Some(src), Some(n)) => {
            println!("  truth: {n} radii, {src}");
            for (s, r) in &report.half_mass_radius_kpc {
                println!("    half-mass radius {s:<5} {r:.4} kpc");
            }
            for (name, value) in &report.truth_scalars {
                println!("    {name:<22} {value:.6}");
            }
        }
        _ => println!("  truth: none"),
    }
    Ok(())
}

#[derive(Debug, Serialize)]
struct DirectionRow {
    index: usize,
    direction: [f64; 3],
    e1: [f64; 3],
    e2: [f64; 3],
    inclination_deg: f64,
}

fn directions(set: &DirectionSet, galaxy: Option<&std::path::Path>, json: bool) -> Result<()> {
    let rotation = match galaxy {
        Some(path) => {
            galaxy_file::read(path)
                .with_context(|| format!("cannot read galaxy file {}", path.display()))?
                .meta
                .rotation_to_aligned
        }
        None => Rotation::identity(),
    };
    let lines = set.directions(&rotation).context("invalid direction set")?;
    let rows: Vec<DirectionRow> = lines
        .iter()
        .enumerate()
        .map(|(index, l)| {
            let (e1, e2) = l.sky_basis();
            DirectionRow { index, direction: l.direction(), e1, e2, inclination_deg: l.inclination_deg(&rotation) }
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!("{:>4}  {:>28}  {:>28}  {:>28}  {:>8}", "idx", "n", "e1", "e2", "incl");
    let fmt = |v: [f64; 3]| format!("({:8.5}, {:8.5}, {:8.5})", v[0], v[1], v[2]);
    for r in rows {
        println!("{:>4}  {}  {}  {}  {:8.3}", r.index, fmt(r.direction), fmt(r.e1), fmt(r.e2), r.inclination_deg);
    }
    Ok(())
}

fn estimate(args: &EstimateArgs) -> Result<()> {
    use galmass_estimators::classic::EstimatorParams;
    use galmass_pipeline::estimate::{estimate_galaxy, EstimateRequest};
    use galmass_pipeline::projection::ProjectionRequest;
    if let Some(EstimateMethod::Rc(rc)) = &args.method {
        return rc_cmd::run(rc);
    }
    let (Some(path), Some(los)) = (&args.galaxy, args.los) else {
        anyhow::bail!("give --galaxy and --los (or a method such as `estimate rc`)");
    };
    let request = EstimateRequest {
        projection: ProjectionRequest { los, n_stars: args.n_stars, seed: args.seed },
        velocity_error_kms: args.velocity_error_kms,
        params: EstimatorParams { at_rh_annulus: args.at_rh_annulus, n_bootstrap: args.n_bootstrap, seed: args.seed },
    };
    let out = estimate_galaxy(path, &request)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out.to_json())?);
        return Ok(());
    }
    let (report, los) = (&out.report, out.projection.los.direction());
    println!(
        "{}: {} stars along ({:.4}, {:.4}, {:.4}); R_h = {:.4} kpc, sigma_los = {:.3} km/s",
        path.display(),
        report.n_stars,
        los[0],
        los[1],
        los[2],
        report.r_h_kpc,
        report.sigma_los_kms
    );
    println!(
        "{:<15} {:>12} {:>12} {:>10} {:>12} {:>8}",
        "estimator", "mass [Msun]", "+- [Msun]", "r [kpc]", "true [Msun]", "ratio"
    );
    for e in &out.estimates {
        let (est, true_mass) = (&e.estimate, e.true_mass_msun);
        println!(
            "{:<15} {:>12.4e} {:>12} {:>10.4} {:>12} {:>8}",
            est.estimator.key(),
            est.mass_msun,
            est.mass_err_msun.map(|x| format!("{x:.3e}")).unwrap_or_else(|| "-".into()),
            est.radius_kpc,
            true_mass.map(|x| format!("{x:.4e}")).unwrap_or_else(|| "-".into()),
            true_mass.map(|t| format!("{:.3}", est.mass_msun / t)).unwrap_or_else(|| "-".into()),
        );
    }
    for (kind, reason) in &out.skipped {
        println!("{:<15} skipped: {reason}", kind.key());
    }
    Ok(())
}
