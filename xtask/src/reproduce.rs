//! `cargo xtask reproduce-paper`: the four papers' pipelines end to end, resumable, into one report.
//!
//! Order: build the release `galmass` binary; the synthetic suites of the selected papers (`galmass synth --native`,
//! then `galmass extract --all` of their native snapshots, under `<out>/synth/` and `<out>/snapshot/`); then per
//! paper, at one scale (quick, medium or full), three stages under `<out>/<paper>/<scale>/`:
//!
//! - **dataset**: `galmass dataset build --config configs/<paper>-<scale>.toml --out dataset`; finished when
//!   `dataset/dataset.h5` and `dataset/manifest.json` exist (the command resumes a partial build itself).
//! - **train**: `galmass train --config configs/experiments/<paper>-<scale>.toml --dataset dataset --out run`;
//!   finished when `run/run.json` says `"complete": true`.
//! - **evaluate**: `galmass evaluate --run run --out report`; finished when `report/summary.json` is newer than
//!   `run/run.json` (a retrained run is evaluated again).
//!
//! Config names: `<paper>-quick`, `<paper>-medium`, and `<paper>` for full, whose suite folders are resolved under
//! `--data DIR` (given to galmass as `GALMASS_DATA_ROOT`).
//!
//! A finished stage is skipped, so an interrupted run resumes. Each stage prints one line with its wall time and
//! writes its output to `<out>/logs/`; a failed stage stops its paper (the error names the command and shows the
//! log's last lines) and the other papers go on. Last, [`crate::report`] assembles `<out>/report/index.md`,
//! `index.html` and `summary.json` from the papers that finished. Example:
//!
//! ```text
//! cargo xtask reproduce-paper --paper chu2024 --medium
//! cargo xtask reproduce-paper --full --data /data/sims      # full configs' suite folders under /data/sims
//! ```

use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::report::{self, PaperSection, RunInfo, TimingRow};
use crate::{cargo, json, run_command, setup};

/// The papers, in the order they run and appear in the report.
pub const PAPERS: &[&str] = &["sarrato2025", "exposito2026", "chu2024", "delosrios2023"];

/// The environment variable that tells galmass where the full configs' suite folders are.
const DATA_ROOT_ENV: &str = "GALMASS_DATA_ROOT";

/// Width of the `[label]` column of the progress lines.
const LABEL_WIDTH: usize = 15;

/// How much of each paper's recipe runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// A few synthetic galaxies: every stage in seconds to a minute.
    Quick,
    /// The science run on synthetic suites, minutes on a few cores.
    Medium,
    /// The papers' real simulation suites (needs `--data`).
    Full,
}

impl Scale {
    /// quick, medium or full.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Quick => "quick",
            Scale::Medium => "medium",
            Scale::Full => "full",
        }
    }

    /// The stem of the paper's config files at this scale: `<paper>-quick`, `<paper>-medium`, `<paper>`.
    pub fn config_stem(self, paper: &str) -> String {
        match self {
            Scale::Quick | Scale::Medium => format!("{paper}-{}", self.name()),
            Scale::Full => paper.to_string(),
        }
    }
}

/// The parsed command line of `reproduce-paper`.
#[derive(Debug, PartialEq)]
pub struct Options {
    /// Selected papers, in [`PAPERS`] order.
    pub papers: Vec<&'static str>,
    /// Scale of the configs.
    pub scale: Scale,
    /// `--data`: the folder the full configs' suite paths are resolved under.
    pub data: Option<PathBuf>,
    /// `--out`: the output root (default `out/` in the workspace root).
    pub out: Option<PathBuf>,
    /// Galaxies per synthetic suite of the synth stage.
    pub n_galaxies: usize,
    /// Seed of the synth stage.
    pub seed: u64,
}

/// Parses the arguments after `reproduce-paper`; `None` for `--help`.
pub fn parse_args(args: &[String]) -> Result<Option<Options>> {
    let mut papers: Vec<&'static str> = Vec::new();
    let mut scale: Option<Scale> = None;
    let mut data = None;
    let mut out = None;
    let mut n_galaxies = 64usize;
    let mut seed = 1u64;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |what: &str| match inline.clone() {
            Some(v) => Ok(v),
            None => it.next().cloned().with_context(|| format!("{flag} needs {what}")),
        };
        let mut set_scale = |s: Scale| match scale {
            Some(previous) if previous != s => {
                bail!("--{} and --{}: choose one of --quick, --medium, --full", previous.name(), s.name())
            }
            _ => {
                scale = Some(s);
                Ok(())
            }
        };
        match flag {
            "--paper" => {
                for name in value("a paper name")?.split(',').map(str::trim) {
                    if name == "all" {
                        papers.extend(PAPERS);
                    } else if let Some(p) = PAPERS.iter().find(|p| **p == name) {
                        papers.push(p);
                    } else {
                        bail!("unknown paper `{name}`: choose all or one of {}", PAPERS.join(", "));
                    }
                }
            }
            "--quick" => set_scale(Scale::Quick)?,
            "--medium" => set_scale(Scale::Medium)?,
            "--full" => set_scale(Scale::Full)?,
            "--data" => data = Some(PathBuf::from(value("a folder")?)),
            "--out" => out = Some(PathBuf::from(value("a folder")?)),
            "--n-galaxies" => {
                n_galaxies = value("a count")?.parse().context("--n-galaxies: not a count")?;
            }
            "--seed" => seed = value("an integer")?.parse().context("--seed: not an integer")?,
            "--help" | "-h" => return Ok(None),
            other => bail!("unknown argument `{other}` to reproduce-paper (see cargo xtask help)"),
        }
    }
    let scale = scale.unwrap_or(Scale::Quick);
    if scale == Scale::Full && data.is_none() {
        bail!(
            "--full runs the papers' real simulation suites: pass --data DIR, the folder their configs' suite paths \
             are resolved under (given to galmass as {DATA_ROOT_ENV})"
        );
    }
    let papers = if papers.is_empty() {
        PAPERS.to_vec()
    } else {
        PAPERS.iter().copied().filter(|p| papers.contains(p)).collect()
    };
    Ok(Some(Options { papers, scale, data, out, n_galaxies, seed }))
}

/// The synthetic suites each paper's synth stage writes (`galmass synth`, configs/synth/<suite>.toml).
fn paper_suites(paper: &str) -> &'static [&'static str] {
    match paper {
        "sarrato2025" => &["nihao-like", "auriga-like", "fire-like"],
        "exposito2026" => &["nihao-like", "auriga-like"],
        _ => &["tng-like"],
    }
}

/// The per-paper stages, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// `galmass dataset build`.
    Dataset,
    /// `galmass train`.
    Train,
    /// `galmass evaluate`.
    Evaluate,
}

/// Every stage, in order.
pub const STAGES: [Stage; 3] = [Stage::Dataset, Stage::Train, Stage::Evaluate];

impl Stage {
    /// dataset, train or evaluate.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Dataset => "dataset",
            Stage::Train => "train",
            Stage::Evaluate => "evaluate",
        }
    }
}

/// Whether a dataset folder is complete: `dataset.h5` and `manifest.json` (written last, by the merge) exist.
pub fn dataset_finished(dataset: &Path) -> bool {
    dataset.join("dataset.h5").is_file() && dataset.join("manifest.json").is_file()
}

/// Whether a training run is complete: `run.json` parses and has `"complete": true` at its top level.
pub fn train_finished(run: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(run.join("run.json")) else { return false };
    json::object_members(&text).is_ok_and(|members| json::member(&members, "complete") == Some("true"))
}

/// Whether an evaluation is current: `report/summary.json` exists and is newer than `run/run.json` (a retrained
/// run is evaluated again).
pub fn evaluate_finished(report: &Path, run: &Path) -> bool {
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(report.join("summary.json")), modified(run.join("run.json"))) {
        (Some(summary), Some(run)) => summary > run,
        _ => false,
    }
}

/// Where one paper's stages read and write at one scale.
#[derive(Debug, PartialEq)]
pub struct PaperPaths {
    /// `configs/<paper>-<scale>.toml`.
    pub dataset_config: PathBuf,
    /// `configs/experiments/<paper>-<scale>.toml`.
    pub experiment_config: PathBuf,
    /// `<out>/<paper>/<scale>/dataset`.
    pub dataset: PathBuf,
    /// `<out>/<paper>/<scale>/run`.
    pub run: PathBuf,
    /// `<out>/<paper>/<scale>/report`.
    pub report: PathBuf,
}

impl PaperPaths {
    /// The paths of `paper` at `scale`, configs under `workspace`, outputs under `out_root`.
    pub fn new(workspace: &Path, out_root: &Path, paper: &str, scale: Scale) -> Self {
        let stem = scale.config_stem(paper);
        let root = out_root.join(paper).join(scale.name());
        PaperPaths {
            dataset_config: workspace.join("configs").join(format!("{stem}.toml")),
            experiment_config: workspace.join("configs").join("experiments").join(format!("{stem}.toml")),
            dataset: root.join("dataset"),
            run: root.join("run"),
            report: root.join("report"),
        }
    }

    /// Whether `stage` has nothing left to do.
    pub fn finished(&self, stage: Stage) -> bool {
        match stage {
            Stage::Dataset => dataset_finished(&self.dataset),
            Stage::Train => train_finished(&self.run),
            Stage::Evaluate => evaluate_finished(&self.report, &self.run),
        }
    }

    /// The folder `stage` writes.
    pub fn output(&self, stage: Stage) -> &Path {
        match stage {
            Stage::Dataset => &self.dataset,
            Stage::Train => &self.run,
            Stage::Evaluate => &self.report,
        }
    }

    /// The config `stage` reads, if any.
    fn config(&self, stage: Stage) -> Option<&Path> {
        match stage {
            Stage::Dataset => Some(&self.dataset_config),
            Stage::Train => Some(&self.experiment_config),
            Stage::Evaluate => None,
        }
    }

    /// The `galmass` arguments of `stage`.
    pub fn args(&self, stage: Stage) -> Vec<OsString> {
        let os = OsStr::new;
        let parts = match stage {
            Stage::Dataset => vec![
                os("dataset"),
                os("build"),
                os("--config"),
                self.dataset_config.as_os_str(),
                os("--out"),
                self.dataset.as_os_str(),
            ],
            Stage::Train => vec![
                os("train"),
                os("--config"),
                self.experiment_config.as_os_str(),
                os("--dataset"),
                self.dataset.as_os_str(),
                os("--out"),
                self.run.as_os_str(),
            ],
            Stage::Evaluate => {
                vec![os("evaluate"), os("--run"), self.run.as_os_str(), os("--out"), self.report.as_os_str()]
            }
        };
        parts.into_iter().map(OsStr::to_owned).collect()
    }

    /// What a stage that exited successfully but is not [`finished`](Self::finished) failed to leave behind.
    fn missing(&self, stage: Stage, shown: &dyn Fn(&Path) -> String) -> String {
        match stage {
            Stage::Dataset => format!("{} lacks dataset.h5 or manifest.json", shown(&self.dataset)),
            Stage::Train => format!("{} does not say \"complete\": true", shown(&self.run.join("run.json"))),
            Stage::Evaluate => format!(
                "{} is missing or not newer than {}",
                shown(&self.report.join("summary.json")),
                shown(&self.run.join("run.json"))
            ),
        }
    }
}

/// What became of one stage.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Outcome {
    Ran(Duration),
    Skipped,
    Failed(Duration),
    /// Failed before starting: its config file does not exist.
    NoConfig,
    NotRun,
}

impl Outcome {
    fn cell(self) -> String {
        match self {
            Outcome::Ran(t) => format_duration(t),
            Outcome::Skipped => "done earlier".into(),
            Outcome::Failed(t) => format!("failed after {}", format_duration(t)),
            Outcome::NoConfig => "no config".into(),
            Outcome::NotRun => "-".into(),
        }
    }
}

/// `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 59.95 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let s = secs.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        let m = (secs / 60.0).round() as u64;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

/// `YYYY-MM-DD HH:MM UTC` of seconds since the Unix epoch (proleptic Gregorian calendar).
pub fn format_utc(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

/// `args` as a shell would need them typed.
fn shell_words<'a>(args: impl IntoIterator<Item = &'a str>) -> String {
    args.into_iter()
        .map(|a| {
            let plain = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:@+".contains(c));
            if plain {
                a.to_string()
            } else {
                crate::shell_quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A path as printed: relative to the current folder when under it.
fn shown(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// `[label] stage time path`, the one line each stage prints.
fn stage_line(label: &str, stage: &str, time: &str, path: &str) -> String {
    format!("{:<LABEL_WIDTH$} {stage:<9} {time:>12}  {path}", format!("[{label}]"))
}

/// Runs the release `galmass` binary with its output in log files.
struct Galmass {
    binary: PathBuf,
    env: Vec<(String, String)>,
    workspace: PathBuf,
    cwd: PathBuf,
    logs: PathBuf,
    tty: bool,
}

impl Galmass {
    fn shown(&self, path: &Path) -> String {
        shown(path, &self.cwd)
    }

    /// `galmass ARGS` as printed (paths relative to the current folder).
    fn shown_command(&self, args: &[OsString]) -> String {
        let args: Vec<String> = args.iter().map(|a| self.shown(Path::new(a))).collect();
        format!("galmass {}", shell_words(args.iter().map(String::as_str)))
    }

    /// Runs `galmass ARGS` to completion with stdout and stderr into `log_name` under the logs folder, printing the
    /// stage's line (a "running" line first on a terminal). Returns the wall time, and the error naming the command
    /// with the log's last lines when it fails.
    fn run(
        &self,
        label: &str,
        stage: &str,
        args: &[OsString],
        output: &Path,
        log_name: &str,
    ) -> (Duration, Result<()>) {
        let started = Instant::now();
        let log = self.logs.join(log_name);
        if self.tty {
            print!("{}", stage_line(label, stage, "running", &format!("(log {})", self.shown(&log))));
            let _ = std::io::stdout().flush();
        }
        let result = self.run_logged(args, &log);
        let elapsed = started.elapsed();
        let time = match &result {
            Ok(()) => format_duration(elapsed),
            Err(_) => format!("FAILED {}", format_duration(elapsed)),
        };
        if self.tty {
            print!("\r\x1b[2K");
        }
        println!("{}", stage_line(label, stage, &time, &self.shown(output)));
        (elapsed, result)
    }

    fn run_logged(&self, args: &[OsString], log: &Path) -> Result<()> {
        let shown = self.shown_command(args);
        let folder = log.parent().unwrap_or(&self.logs);
        std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
        let file = std::fs::File::create(log).with_context(|| format!("cannot create {}", log.display()))?;
        let err_file = file.try_clone().with_context(|| format!("cannot reopen {}", log.display()))?;
        let status = Command::new(&self.binary)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.workspace)
            .stdin(Stdio::null())
            .stdout(file)
            .stderr(err_file)
            .status()
            .with_context(|| format!("cannot start `{shown}` ({})", self.binary.display()))?;
        if !status.success() {
            bail!("`{shown}` failed with {status}\n{}", log_tail(log, 20, &self.shown(log)));
        }
        Ok(())
    }
}

/// The last `n` lines of a log, indented, under a line naming it.
fn log_tail(log: &Path, n: usize, shown: &str) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    if lines.is_empty() {
        return format!("(log {shown} is empty)");
    }
    let tail = &lines[lines.len().saturating_sub(n)..];
    format!("last lines of {shown}:\n{}", tail.iter().map(|l| format!("    | {l}")).collect::<Vec<_>>().join("\n"))
}

/// Prints an error under the stage line it belongs to.
fn print_error(err: &anyhow::Error) {
    for line in format!("{err:#}").lines() {
        eprintln!("    {line}");
    }
}

/// Runs the synth and extract stages of `suites` (each failure recorded, the other suites going on).
fn run_synth_stage(galmass: &Galmass, out_root: &Path, options: &Options, suites: &[&str]) -> Vec<(TimingRow, bool)> {
    let mut rows = Vec::new();
    for suite in suites {
        let synth_out = out_root.join("synth").join(suite);
        let mut args: Vec<OsString> = ["synth", "--suite", suite, "--n-galaxies"].map(OsString::from).into();
        args.push(options.n_galaxies.to_string().into());
        args.push("--seed".into());
        args.push(options.seed.to_string().into());
        args.extend(["--plots", "--native", "--out"].map(OsString::from));
        args.push(synth_out.clone().into());
        let (synth_time, synth) = galmass.run(suite, "synth", &args, &synth_out, &format!("synth-{suite}.log"));
        let mut row = TimingRow { name: (*suite).into(), cells: vec![], status: "ok".into() };
        if let Err(err) = synth {
            print_error(&err);
            row.cells = vec![Outcome::Failed(synth_time).cell(), Outcome::NotRun.cell()];
            row.status = "failed at synth".into();
            rows.push((row, false));
            continue;
        }
        // Every native snapshot back into galaxy files (the snapshot readers' and extraction's end-to-end run;
        // xtask knows no suite's layout: the manifest lists them).
        let extracted = out_root.join("snapshot").join(suite);
        let mut args: Vec<OsString> = ["extract", "--all", "--suite", suite, "--manifest"].map(OsString::from).into();
        args.push(synth_out.join("manifest.json").into());
        args.push("--out".into());
        args.push(extracted.clone().into());
        let (extract_time, extract) = galmass.run(suite, "extract", &args, &extracted, &format!("extract-{suite}.log"));
        let ok = extract.is_ok();
        row.cells = vec![
            Outcome::Ran(synth_time).cell(),
            if ok { Outcome::Ran(extract_time) } else { Outcome::Failed(extract_time) }.cell(),
        ];
        if let Err(err) = extract {
            print_error(&err);
            row.status = "failed at extract".into();
        }
        rows.push((row, ok));
    }
    rows
}

/// Runs one paper's stages, skipping the finished ones; stops at the first failure. Returns each stage's outcome
/// and the failed stage, if any.
fn run_paper(galmass: &Galmass, paths: &PaperPaths, paper: &str, scale: Scale) -> (Vec<Outcome>, Option<Stage>) {
    let mut outcomes = vec![Outcome::NotRun; STAGES.len()];
    for (i, stage) in STAGES.into_iter().enumerate() {
        if paths.finished(stage) {
            println!("{}", stage_line(paper, stage.name(), "done earlier", &galmass.shown(paths.output(stage))));
            outcomes[i] = Outcome::Skipped;
            continue;
        }
        match run_stage(galmass, paths, paper, scale, stage) {
            Ok(elapsed) => outcomes[i] = Outcome::Ran(elapsed),
            Err((outcome, err)) => {
                print_error(&err);
                outcomes[i] = outcome;
                return (outcomes, Some(stage));
            }
        }
    }
    (outcomes, None)
}

/// Runs one unfinished stage and checks that it finished. The error comes with the stage's outcome.
fn run_stage(
    galmass: &Galmass,
    paths: &PaperPaths,
    paper: &str,
    scale: Scale,
    stage: Stage,
) -> Result<Duration, (Outcome, anyhow::Error)> {
    let args = paths.args(stage);
    let output = paths.output(stage);
    let shown_command = galmass.shown_command(&args);
    if let Some(config) = paths.config(stage).filter(|c| !c.is_file()) {
        println!("{}", stage_line(paper, stage.name(), "FAILED", &galmass.shown(output)));
        let err = anyhow::anyhow!("`{shown_command}` cannot run: {} does not exist", galmass.shown(config));
        return Err((Outcome::NoConfig, err));
    }
    let log = format!("{}/{paper}-{}.log", scale.name(), stage.name());
    let (elapsed, result) = galmass.run(paper, stage.name(), &args, output, &log);
    result.map_err(|err| (Outcome::Failed(elapsed), err))?;
    if !paths.finished(stage) {
        let missing = paths.missing(stage, &|p| galmass.shown(p));
        return Err((Outcome::Failed(elapsed), anyhow::anyhow!("`{shown_command}` succeeded but {missing}")));
    }
    Ok(elapsed)
}

/// Machine name, from the kernel (or `$HOSTNAME`).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// `cargo xtask reproduce-paper ARGS`.
pub fn run(args: &[String]) -> Result<()> {
    let Some(options) = parse_args(args)? else {
        print!("{}", crate::USAGE);
        return Ok(());
    };
    let started = Instant::now();
    let start_date = format_utc(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()));
    let workspace = setup::workspace_root();
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let out_root = options.out.as_ref().map_or_else(|| workspace.join("out"), |o| cwd.join(o));
    let data = options.data.as_ref().map(|d| cwd.join(d));
    if let Some(data) = &data {
        if !data.is_dir() {
            bail!("--data {}: not a folder", data.display());
        }
    }
    let toolchain = setup::run(false)?;
    println!(
        "xtask: reproduce-paper {} at {} scale into {} (torch {} at {})",
        options.papers.join(", "),
        options.scale.name(),
        shown(&out_root, &cwd),
        setup::TORCH_VERSION,
        toolchain.torch_lib.display()
    );

    let build_started = Instant::now();
    let mut build = cargo(&toolchain);
    build.args(["build", "--release", "-p", "galmass-cli"]);
    run_command(build)?;
    let binary = toolchain.target_dir.join("release").join("galmass");
    println!("{}", stage_line("galmass", "build", &format_duration(build_started.elapsed()), &shown(&binary, &cwd)));

    let mut env = toolchain.cargo_env();
    if let Some(data) = &data {
        env.push((DATA_ROOT_ENV.into(), data.display().to_string()));
    }
    let galmass = Galmass {
        binary,
        env,
        workspace: workspace.clone(),
        cwd: cwd.clone(),
        logs: out_root.join("logs"),
        tty: std::io::stdout().is_terminal(),
    };

    let mut suites: Vec<&str> = Vec::new();
    for paper in &options.papers {
        for suite in paper_suites(paper) {
            if !suites.contains(suite) {
                suites.push(suite);
            }
        }
    }
    let synth = run_synth_stage(&galmass, &out_root, &options, &suites);
    let mut failures: Vec<String> =
        synth.iter().filter(|(_, ok)| !ok).map(|(row, _)| format!("{} ({})", row.name, row.status)).collect();
    let synth_rows: Vec<TimingRow> = synth.into_iter().map(|(row, _)| row).collect();

    let mut rows = Vec::new();
    let mut sections = Vec::new();
    let mut n_finished = 0;
    for paper in PAPERS {
        let paths = PaperPaths::new(&workspace, &out_root, paper, options.scale);
        if !options.papers.contains(paper) {
            // Not selected: a report finished by an earlier run at this scale still goes into the index.
            if paths.finished(Stage::Evaluate) && paths.report.join("report.md").is_file() {
                rows.push(TimingRow {
                    name: (*paper).into(),
                    cells: vec![Outcome::NotRun.cell(); STAGES.len()],
                    status: "not selected: report of an earlier run".into(),
                });
                sections.push(PaperSection { paper: (*paper).into(), report_dir: Some(paths.report), note: "".into() });
            }
            continue;
        }
        let (outcomes, failed) = run_paper(&galmass, &paths, paper, options.scale);
        let (status, report_dir) = match failed {
            Some(stage) => (format!("failed at {}", stage.name()), None),
            None if !paths.report.join("report.md").is_file() => {
                println!("    `galmass evaluate` wrote no {}", shown(&paths.report.join("report.md"), &cwd));
                ("failed at evaluate: no report.md".to_string(), None)
            }
            None => ("ok".to_string(), Some(paths.report.clone())),
        };
        if report_dir.is_some() {
            n_finished += 1;
        } else {
            failures.push(format!("{paper} ({status})"));
        }
        let note = format!("No report: {status} (logs in {}).", shown(&galmass.logs, &cwd));
        rows.push(TimingRow { name: (*paper).into(), cells: outcomes.iter().map(|o| o.cell()).collect(), status });
        sections.push(PaperSection { paper: (*paper).into(), report_dir, note });
    }

    let command = format!("cargo xtask reproduce-paper {}", shell_words(args.iter().map(String::as_str)));
    let info = RunInfo {
        command: command.trim_end().to_string(),
        hostname: hostname(),
        nproc: std::thread::available_parallelism().map_or(1, |n| n.get()),
        scale: options.scale.name().into(),
        date: start_date,
        total: format_duration(started.elapsed()),
    };
    let report_root = out_root.join("report");
    let (index, problems) = report::write_report(&report_root, &info, &synth_rows, &rows, &sections)
        .with_context(|| format!("assembling the report in {}", shown(&report_root, &cwd)))?;
    for problem in &problems {
        eprintln!("xtask: report: {problem}");
    }
    if !problems.is_empty() {
        failures.push("the report (see above)".into());
    }
    println!(
        "xtask: report: {} (index.md and summary.json beside it); {n_finished} of {} papers finished in {}",
        shown(&index, &cwd),
        options.papers.len(),
        info.total
    );
    if !failures.is_empty() {
        bail!("failed: {}; see the errors above and the logs in {}", failures.join(", "), shown(&galmass.logs, &cwd));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn defaults_are_all_papers_at_quick_scale() {
        let o = parse_args(&[]).unwrap().unwrap();
        assert_eq!(
            o,
            Options { papers: PAPERS.to_vec(), scale: Scale::Quick, data: None, out: None, n_galaxies: 64, seed: 1 }
        );
    }

    #[test]
    fn arguments_parse() {
        let o = parse_args(&args("--paper chu2024,sarrato2025 --medium --out /tmp/o --n-galaxies 8 --seed=3"))
            .unwrap()
            .unwrap();
        assert_eq!(o.papers, vec!["sarrato2025", "chu2024"], "in the papers' order");
        assert_eq!(o.scale, Scale::Medium);
        assert_eq!(o.out, Some(PathBuf::from("/tmp/o")));
        assert_eq!((o.n_galaxies, o.seed), (8, 3));
        let o = parse_args(&args("--full --data=/d --paper all --paper chu2024")).unwrap().unwrap();
        assert_eq!((o.scale, o.data, o.papers.len()), (Scale::Full, Some(PathBuf::from("/d")), 4));
        assert_eq!(parse_args(&args("--quick --quick")).unwrap().unwrap().scale, Scale::Quick);
        assert_eq!(parse_args(&args("--seed 2 --help")).unwrap(), None);
    }

    #[test]
    fn bad_arguments_fail_clearly() {
        let err = |s: &str| format!("{:#}", parse_args(&args(s)).unwrap_err());
        assert!(err("--full").contains("--data DIR"));
        assert!(err("--quick --medium").contains("choose one of --quick, --medium, --full"));
        assert!(err("--paper nope").contains("unknown paper `nope`"));
        assert!(err("--paper").contains("--paper needs"));
        assert!(err("--seed x").contains("--seed: not an integer"));
        assert!(err("--fast").contains("unknown argument `--fast`"));
    }

    #[test]
    fn config_names_and_paths_follow_the_scale() {
        assert_eq!(Scale::Quick.config_stem("chu2024"), "chu2024-quick");
        assert_eq!(Scale::Medium.config_stem("chu2024"), "chu2024-medium");
        assert_eq!(Scale::Full.config_stem("chu2024"), "chu2024");
        let p = PaperPaths::new(Path::new("/w"), Path::new("/o"), "chu2024", Scale::Full);
        assert_eq!(p.dataset_config, Path::new("/w/configs/chu2024.toml"));
        assert_eq!(p.experiment_config, Path::new("/w/configs/experiments/chu2024.toml"));
        assert_eq!(p.dataset, Path::new("/o/chu2024/full/dataset"));
        let train: Vec<String> = p.args(Stage::Train).iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(
            train,
            [
                "train",
                "--config",
                "/w/configs/experiments/chu2024.toml",
                "--dataset",
                "/o/chu2024/full/dataset",
                "--out",
                "/o/chu2024/full/run"
            ]
        );
        let eval: Vec<String> = p.args(Stage::Evaluate).iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(eval, ["evaluate", "--run", "/o/chu2024/full/run", "--out", "/o/chu2024/full/report"]);
        assert_eq!(p.args(Stage::Dataset)[..3], ["dataset", "build", "--config"].map(OsString::from));
    }

    #[test]
    fn dataset_is_finished_with_both_files() {
        let dir = temp_dir("dataset-finished");
        assert!(!dataset_finished(&dir));
        std::fs::write(dir.join("dataset.h5"), b"").unwrap();
        assert!(!dataset_finished(&dir), "the merge writes manifest.json last");
        std::fs::write(dir.join("manifest.json"), b"{}").unwrap();
        assert!(dataset_finished(&dir));
        assert!(!dataset_finished(&dir.join("missing")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn train_is_finished_when_run_json_says_complete() {
        let dir = temp_dir("train-finished");
        assert!(!train_finished(&dir));
        for (text, finished) in [
            (r#"{"complete": false, "epoch": 3}"#, false),
            (r#"{"complete": "true"}"#, false),
            (r#"{"nested": {"complete": true}}"#, false),
            (r#"{"complete": true"#, false),
            (r#"{"epoch": 9, "complete" : true, "loss": [1.0, 2e-3]}"#, true),
        ] {
            std::fs::write(dir.join("run.json"), text).unwrap();
            assert_eq!(train_finished(&dir), finished, "{text}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn evaluation_is_finished_when_newer_than_the_run() {
        let dir = temp_dir("evaluate-finished");
        let (run, report) = (dir.join("run"), dir.join("report"));
        std::fs::create_dir_all(&run).unwrap();
        std::fs::create_dir_all(&report).unwrap();
        let set_mtime = |p: &Path, secs: u64| {
            let f = std::fs::File::options().write(true).open(p).unwrap();
            f.set_modified(UNIX_EPOCH + Duration::from_secs(secs)).unwrap();
        };
        std::fs::write(report.join("summary.json"), b"{}").unwrap();
        assert!(!evaluate_finished(&report, &run), "no run.json");
        std::fs::write(run.join("run.json"), b"{}").unwrap();
        set_mtime(&run.join("run.json"), 2_000_000_000);
        set_mtime(&report.join("summary.json"), 1_000_000_000);
        assert!(!evaluate_finished(&report, &run), "retrained after the evaluation");
        set_mtime(&report.join("summary.json"), 2_000_000_001);
        assert!(evaluate_finished(&report, &run));
        std::fs::remove_file(report.join("summary.json")).unwrap();
        assert!(!evaluate_finished(&report, &run));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn durations_and_dates_format() {
        assert_eq!(format_duration(Duration::from_millis(12_340)), "12.3 s");
        assert_eq!(format_duration(Duration::from_secs(245)), "4 min 05 s");
        assert_eq!(format_duration(Duration::from_secs(7380)), "2 h 03 min");
        assert_eq!(format_utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(1_767_323_045), "2026-01-02 03:04 UTC");
    }

    #[test]
    fn lines_and_commands_print_plainly() {
        assert_eq!(
            stage_line("sarrato2025", "dataset", "12.3 s", "out/sarrato2025/quick/dataset"),
            "[sarrato2025]   dataset         12.3 s  out/sarrato2025/quick/dataset"
        );
        assert_eq!(shell_words(["--paper", "chu2024", "--out", "my out"]), "--paper chu2024 --out 'my out'");
        assert_eq!(shown(Path::new("/w/out/x"), Path::new("/w")), "out/x");
        assert_eq!(shown(Path::new("/elsewhere/x"), Path::new("/w")), "/elsewhere/x");
    }
}
