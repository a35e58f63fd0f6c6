//! `cargo xtask`: galmass's task runner. Thin on purpose: it bootstraps the toolchain, orders stages and runs cargo
//! and the `galmass` binary; the science lives in the library crates.
//!
//! Commands:
//! - `cargo xtask setup`: installs what the build needs (see [`setup`]); re-running a complete set-up takes seconds.
//! - `cargo xtask test [ARGS]`: set-up when missing, then `cargo test --workspace ARGS` with libtorch found.
//! - `cargo xtask lint`: `cargo fmt --check` and `cargo clippy --workspace --all-targets -- -D warnings`.
//! - `cargo xtask reproduce-paper [--paper NAME]`: set-up when missing, then the stages of the paper pipelines.
//! - `cargo xtask env`: prints the shell exports that let plain `cargo` build and run galmass.

mod setup;

use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};

const USAGE: &str = "\
cargo xtask: galmass task runner

USAGE:
    cargo xtask <COMMAND> [ARGS]

COMMANDS:
    setup             Install what the build needs: Debian's libhdf5-dev, libcfitsio-dev and pkg-config (as root, or
                      say what to install), and the PyPI torch wheel pinned to tch's libtorch in a per-user virtual
                      environment. Complete set-ups are detected and skipped in seconds.
    test [ARGS]       Set up when missing, then run `cargo test --workspace ARGS` with libtorch on the paths.
    lint              `cargo fmt --all --check`, then `cargo clippy --workspace --all-targets -- -D warnings`
                      (unwrap/expect denied outside tests), as CI runs them.
    reproduce-paper   Set up when missing, then run the paper pipelines on the embedded synthetic suites
      [--paper NAME]  (sarrato2025, exposito2026, chu2024, delosrios2023, or all; default all)
      [--n-galaxies N] galaxies per synthetic suite (default 64), [--seed K] (default 1). Stages that exist run
                      (outputs under out/, resumable); the others are listed with the issue that builds them.
    env               Print shell `export` lines so that plain cargo finds libtorch and shares xtask's target dir.
    help              This text.

ENVIRONMENT:
    GALMASS_REQUIRE_FIXTURES=1  tests that read ../shared/fixtures fail (instead of skipping) when it is absent
    GALMASS_CACHE_DIR   per-user cache (default $XDG_CACHE_HOME/galmass or ~/.cache/galmass)
    GALMASS_TORCH_VENV  the torch virtual environment (default <cache>/torch-<version>)
    GALMASS_PYTHON      the Python that creates it (default python3)
    CARGO_TARGET_DIR    build folder (default <cache>/target, shared by every clone)
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "help".into());
    let rest: Vec<String> = args.collect();
    match command.as_str() {
        "setup" => setup::run(true).map(|_| ()),
        "test" => test(&rest),
        "lint" => lint(),
        "reproduce-paper" => reproduce_paper(&rest),
        "env" => {
            let toolchain = setup::run(false)?;
            for (key, value) in toolchain.cargo_env() {
                println!("export {key}={}", shell_quote(&value));
            }
            Ok(())
        }
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs a command to completion, failing on a non-zero exit.
fn run_command(mut command: Command) -> Result<()> {
    let shown = std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let status = command.status().with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn cargo(toolchain: &setup::Toolchain) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(setup::workspace_root());
    command.envs(toolchain.cargo_env());
    command
}

fn test(extra: &[String]) -> Result<()> {
    let toolchain = setup::run(false)?;
    let mut command = cargo(&toolchain);
    command.args(["test", "--workspace", "--no-fail-fast"]).args(extra);
    eprintln!(
        "xtask: cargo test --workspace --no-fail-fast {} (target dir {})",
        extra.join(" "),
        toolchain.target_dir.display()
    );
    run_command(command)
}

/// The reviewers' checks: formatting, then clippy with warnings as errors over every target.
fn lint() -> Result<()> {
    let toolchain = setup::run(false)?;
    let mut fmt = cargo(&toolchain);
    fmt.args(["fmt", "--all", "--check"]);
    eprintln!("xtask: cargo fmt --all --check");
    run_command(fmt)?;
    let mut clippy = cargo(&toolchain);
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    eprintln!("xtask: cargo clippy --workspace --all-targets -- -D warnings");
    run_command(clippy)
}

/// A stage of a paper pipeline, and the issue that makes it run (`None`: not filed yet).
struct Stage {
    name: &'static str,
    what: &'static str,
    issue: Option<u32>,
}

const fn stage(name: &'static str, what: &'static str, issue: Option<u32>) -> Stage {
    Stage { name, what, issue }
}

/// Each paper: its name, what galmass reproduces of it, and its stages in order.
const PAPERS: &[(&str, &str, &[Stage])] = &[
    (
        "sarrato2025",
        "stars-only CNN + MAF on NIHAO/AURIGA/FIRE-like suites (mass profile at 10 radii)",
        &[
            stage("synth", "nihao-like, auriga-like and fire-like suites with analytic truth", Some(3)),
            stage("snapshot", "native tipsy / Arepo / Gizmo files, re-read and extracted", Some(4)),
            stage(
                "maps",
                "KDE star maps along 64 Fibonacci lines of sight (per projection: galmass maps stars)",
                Some(5),
            ),
            stage(
                "estimators",
                "the five classic estimators on the same projections (per projection: galmass estimate)",
                Some(6),
            ),
            stage("train", "two-branch CNN, then the MAF on its 32 penultimate features", None),
            stage("metrics", "pred/true percentiles per radius, TARP coverage, held-out fire-like suite", Some(6)),
        ],
    ),
    (
        "exposito2026",
        "stars + HI gas, five-branch CNN + MAF (Star, Gas, StarGas models)",
        &[
            stage("synth", "nihao-like and auriga-like suites with HI discs", Some(3)),
            stage("snapshot", "native tipsy / Arepo files, re-read and extracted", Some(4)),
            stage("maps", "KDE star maps along 12 inclinations, disjoint star subsets", Some(5)),
            stage("hi-cubes", "MARTINI-like HI cubes and moments 0, 1, 2", None),
            stage("train", "Star, Gas and StarGas CNN + MAF", None),
            stage("metrics", "pred/true percentiles, cross-suite tests, inclination bias", Some(6)),
        ],
    ),
    (
        "chu2024",
        "TNG-like images and kinematic maps, ResNet-18 branches and the GBDT baseline",
        &[
            stage("synth", "tng-like box population", Some(3)),
            stage("snapshot", "TNG-layout box with group catalogue and offsets, re-read by subhalo", Some(4)),
            stage("images", "r-band, g-r and kinematic maps along the box axes", None),
            stage("gbdt", "LightGBM-class tree on ten summary statistics, gain importance", Some(7)),
            stage("train", "ResNet-18 branches for M*, M_tot, M*/L", None),
            stage("metrics", "mean and scatter of log10(pred/true) in dex", Some(6)),
        ],
    ),
    (
        "delosrios2023",
        "ugriz + HI moments, dark-matter profile at 20 radii",
        &[
            stage("synth", "tng-like centrals with HI", Some(3)),
            stage("snapshot", "TNG-layout box, re-read by subhalo", Some(4)),
            stage("images", "ugriz images with PSF and sky noise, HI moment maps", None),
            stage("baselines", "Tully-Fisher (Hall 2012)", Some(6)),
            stage("train", "networks A, B, C on 6 channels", None),
            stage("metrics", "RMSE and MAE per radius", Some(6)),
        ],
    ),
];

/// The synthetic suites each paper's `synth` stage writes (`galmass synth`, configs/synth/<suite>.toml).
fn paper_suites(paper: &str) -> &'static [&'static str] {
    match paper {
        "sarrato2025" => &["nihao-like", "auriga-like", "fire-like"],
        "exposito2026" => &["nihao-like", "auriga-like"],
        _ => &["tng-like"],
    }
}

/// Runs the `synth` and `snapshot` stages: the release `galmass` binary writes each suite (population plots, and
/// its simulation's native format) under out/synth/<suite>/, then extracts every native snapshot its manifest.json
/// lists back into galaxy files under out/snapshot/<suite>/ (`galmass extract --manifest`: xtask knows no suite's
/// layout); a suite already complete is kept (the commands resume or overwrite atomically).
fn run_synth_stage(toolchain: &setup::Toolchain, suites: &[&str], n_galaxies: usize, seed: u64) -> Result<()> {
    let mut build = cargo(toolchain);
    build.args(["build", "--release", "-p", "galmass-cli"]);
    run_command(build)?;
    let binary = toolchain.target_dir.join("release").join("galmass");
    let galmass = || {
        let mut command = Command::new(&binary);
        command.envs(toolchain.cargo_env());
        command
    };
    let root = setup::workspace_root().join("out");
    for suite in suites {
        let out = root.join("synth").join(suite);
        let mut command = galmass();
        command.args([
            "synth",
            "--suite",
            suite,
            "--n-galaxies",
            &n_galaxies.to_string(),
            "--seed",
            &seed.to_string(),
            "--plots",
            "--native",
            "--out",
        ]);
        command.arg(&out);
        run_command(command)?;
        // Every native snapshot back into galaxy files (the snapshot readers' and extraction's end-to-end run).
        let extracted = root.join("snapshot").join(suite);
        let mut command = galmass();
        command.args(["extract", "--all", "--suite", suite, "--manifest"]).arg(out.join("manifest.json"));
        command.arg("--out").arg(&extracted).stdout(std::process::Stdio::null());
        run_command(command)?;
        println!("xtask: {suite}: native snapshots extracted back into {}", extracted.display());
    }
    Ok(())
}

fn reproduce_paper(args: &[String]) -> Result<()> {
    let mut paper = "all".to_string();
    let mut n_galaxies = 64usize;
    let mut seed = 1u64;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--paper" => paper = it.next().context("--paper needs a value")?.clone(),
            "--n-galaxies" => {
                n_galaxies =
                    it.next().context("--n-galaxies needs a value")?.parse().context("--n-galaxies: not a count")?
            }
            "--seed" => seed = it.next().context("--seed needs a value")?.parse().context("--seed: not an integer")?,
            "--help" | "-h" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}` to reproduce-paper"),
        }
    }
    let selected: Vec<_> = PAPERS.iter().filter(|(name, _, _)| paper == "all" || *name == paper).collect();
    if selected.is_empty() {
        bail!(
            "unknown paper `{paper}`: choose one of all, {}",
            PAPERS.iter().map(|p| p.0).collect::<Vec<_>>().join(", ")
        );
    }
    let toolchain = setup::run(false)?;
    println!("galmass reproduce-paper: {} (outputs under {})", paper, setup::workspace_root().join("out").display());
    println!("toolchain: torch {} at {}", setup::TORCH_VERSION, toolchain.torch_lib.display());
    let mut suites: Vec<&str> = Vec::new();
    for (name, what, stages) in &selected {
        println!("\n== {name}: {what}");
        for (i, stage) in stages.iter().enumerate() {
            let status = match (stage.name, stage.issue) {
                ("synth", _) => format!("runs: out/synth/{}", paper_suites(name).join(", out/synth/")),
                ("snapshot", _) => "runs: out/synth/<suite>/native -> out/snapshot/<suite>".to_string(),
                (_, Some(n)) => format!("issue #{n}"),
                (_, None) => "no issue filed yet".to_string(),
            };
            println!("  {}. {:<10} {:<76} [{status}]", i + 1, stage.name, stage.what);
        }
        for suite in paper_suites(name) {
            if !suites.contains(suite) {
                suites.push(suite);
            }
        }
    }
    println!("\n== synth: {} galaxies per suite, seed {seed}: {}", n_galaxies, suites.join(", "));
    run_synth_stage(&toolchain, &suites, n_galaxies, seed)?;
    println!(
        "\nThe synth and snapshot stages ran (galaxy files, catalogue.csv, manifest.json, plots/*.png and native/ per suite\n\
         under out/synth/; the native halos extracted back into galaxy files under out/snapshot/).\n\
         The other stages exist as commands on one galaxy or table (`galmass maps stars`, `galmass estimate`,\n\
         `galmass gbdt train|predict`); chaining them over a suite belongs to galmass-pipeline (issues not filed yet)."
    );
    Ok(())
}
