//! `cargo xtask`: galmass's task runner. Thin on purpose: it bootstraps the toolchain, orders stages and runs cargo
//! and the `galmass` binary; the science lives in the library crates.
//!
//! Commands:
//! - `cargo xtask setup`: installs what the build needs (see [`setup`]); re-running a complete set-up takes seconds.
//! - `cargo xtask test [ARGS]`: set-up when missing, then `cargo test --workspace ARGS` with libtorch found.
//! - `cargo xtask lint`: `cargo fmt --check` and `cargo clippy --workspace --all-targets -- -D warnings`.
//! - `cargo xtask reproduce-paper [--paper P] [--quick|--medium|--full] [--data DIR] [--out DIR]`: set-up when
//!   missing, then the papers' pipelines end to end (synthetic suites, dataset, train, evaluate; see [`reproduce`])
//!   into one report, `out/report/index.html` (see [`report`]).
//! - `cargo xtask env`: prints the shell exports that let plain `cargo` build and run galmass.

mod json;
mod report;
mod reproduce;
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
    reproduce-paper   Set up when missing, build the release galmass binary, then run the paper pipelines end
                      to end and assemble one report. Stages: the synthetic suites (galmass synth --native and
                      galmass extract --all, under out/synth/ and out/snapshot/), then per paper under
                      out/<paper>/<scale>/: dataset (galmass dataset build --config configs/<paper>-<scale>.toml),
                      train (galmass train --config configs/experiments/<paper>-<scale>.toml), evaluate (galmass
                      evaluate). Each prints one line with its wall time and logs to out/logs/; finished stages
                      are skipped (re-running resumes); a failed stage stops its paper, the others go on, and the
                      exit status is non-zero. The report: out/report/index.md, a self-contained index.html
                      (figures embedded; scripts/screenshot_report.sh makes a PNG of it) and summary.json.
      [--paper P]     sarrato2025, exposito2026, chu2024, delosrios2023, a comma list, or all (default all)
      [--quick]       the default: configs/<paper>-quick.toml, a few synthetic galaxies (seconds per stage)
      [--medium]      configs/<paper>-medium.toml, the science run on synthetic suites (minutes)
      [--full]        configs/<paper>.toml, the papers' real simulation suites: needs --data
      [--data DIR]    the folder the full configs' suite folders are resolved under (passed to galmass as
                      GALMASS_DATA_ROOT=DIR); required with --full
      [--out DIR]     output root (default out/ in the workspace root)
      [--n-galaxies N] galaxies per synthetic suite of the synth stage (default 64), [--seed K] (default 1)
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
        "reproduce-paper" => reproduce::run(&rest),
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
