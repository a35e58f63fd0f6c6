//! Set-up: the system libraries (HDF5, CFITSIO) and libtorch from the PyPI `torch` wheel.
//!
//! - **HDF5 and CFITSIO** come from Debian's `libhdf5-dev` and `libcfitsio-dev` (found through `pkg-config`). As
//!   root, set-up installs them with apt-get; otherwise it uses `sudo -n` when that works, and else stops with the
//!   command to run (or use the crates' source builds, see CONTRIBUTING.md).
//! - **libtorch**: tch 0.26 needs libtorch 2.13.0 exactly (toolchain.md). Set-up installs `torch==2.13.0` from PyPI
//!   into a virtual environment in a per-user cache keyed by that version (`GALMASS_TORCH_VENV` overrides), so every
//!   clone and CI run shares one 4.7 GB install. A stamp file written after a verified install marks it complete;
//!   an interrupted install has no stamp and is redone from scratch.
//! - Builds go to a target folder in the same cache (`CARGO_TARGET_DIR` overrides), so a fresh clone reuses the
//!   compiled dependencies (torch-sys alone takes minutes).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::run_command;

/// The libtorch version tch 0.26 is built against (its build script checks it).
pub const TORCH_VERSION: &str = "2.13.0";
const STAMP: &str = "galmass-setup-complete";
const DEBIAN_PACKAGES: &[&str] = &["libhdf5-dev", "libcfitsio-dev", "pkg-config"];

/// What a completed set-up provides.
pub struct Toolchain {
    /// The torch virtual environment.
    pub venv: PathBuf,
    /// `torch/lib` inside it (libtorch_cpu.so, and the CUDA libraries).
    pub torch_lib: PathBuf,
    /// The cargo target folder xtask builds into.
    pub target_dir: PathBuf,
}

impl Toolchain {
    /// Environment for cargo and the binaries it runs.
    pub fn cargo_env(&self) -> Vec<(String, String)> {
        let bin = self.venv.join("bin");
        let path = prepend(&bin, std::env::var("PATH").ok());
        let ld = prepend(&self.torch_lib, std::env::var("LD_LIBRARY_PATH").ok());
        vec![
            ("PATH".into(), path),
            ("LIBTORCH_USE_PYTORCH".into(), "1".into()),
            ("PYTHON_SYS_EXECUTABLE".into(), bin.join("python").display().to_string()),
            ("LD_LIBRARY_PATH".into(), ld),
            ("CARGO_TARGET_DIR".into(), self.target_dir.display().to_string()),
        ]
    }
}

fn prepend(dir: &Path, rest: Option<String>) -> String {
    match rest.filter(|r| !r.is_empty()) {
        Some(r) => format!("{}:{r}", dir.display()),
        None => dir.display().to_string(),
    }
}

/// The workspace root (xtask's parent folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_owned).unwrap_or_else(|| PathBuf::from("."))
}

fn cache_root() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("GALMASS_CACHE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("galmass"));
    }
    let home = std::env::var_os("HOME").context("neither GALMASS_CACHE_DIR, XDG_CACHE_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cache").join("galmass"))
}

/// Makes sure everything is installed. `verbose` prints what was found even when nothing had to be done.
pub fn run(verbose: bool) -> Result<Toolchain> {
    let started = Instant::now();
    ensure_system_libraries(verbose)?;
    let cache = cache_root()?;
    let venv = std::env::var_os("GALMASS_TORCH_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache.join(format!("torch-{TORCH_VERSION}")));
    let torch_lib = ensure_torch(&venv, verbose)?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| cache.join("target"));
    if verbose {
        println!("xtask: torch {TORCH_VERSION} in {}", venv.display());
        println!("xtask: libtorch at {}", torch_lib.display());
        println!("xtask: target dir {}", target_dir.display());
        println!("xtask: set-up complete in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(Toolchain { venv, torch_lib, target_dir })
}

fn pkg_config_has(name: &str) -> bool {
    Command::new("pkg-config").args(["--exists", name]).status().map(|s| s.success()).unwrap_or(false)
}

fn ensure_system_libraries(verbose: bool) -> Result<()> {
    let present = || pkg_config_has("hdf5") && pkg_config_has("cfitsio");
    if present() {
        if verbose {
            println!("xtask: HDF5 and CFITSIO found by pkg-config");
        }
        return Ok(());
    }
    let apt = Path::new("/usr/bin/apt-get");
    if !apt.exists() {
        bail!(
            "HDF5 and CFITSIO development files were not found by pkg-config and this is not a Debian-like system: \
             install HDF5 (1.10 to 1.14) and CFITSIO with their pkg-config files, then re-run `cargo xtask setup`"
        );
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let sudo_works =
        !is_root && Command::new("sudo").args(["-n", "true"]).status().map(|s| s.success()).unwrap_or(false);
    if !is_root && !sudo_works {
        bail!(
            "HDF5 and CFITSIO development files are missing and set-up cannot install them without root: run\n    \
             sudo apt-get install {}\nthen re-run `cargo xtask setup` (or see CONTRIBUTING.md for building them from source)",
            DEBIAN_PACKAGES.join(" ")
        );
    }
    println!("xtask: installing {} with apt-get", DEBIAN_PACKAGES.join(" "));
    let apt_command = |args: &[&str]| {
        let mut c = if is_root {
            Command::new(apt)
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "/usr/bin/apt-get"]);
            c
        };
        c.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        c
    };
    run_command(apt_command(&["update", "-qq"]))?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend_from_slice(DEBIAN_PACKAGES);
    run_command(apt_command(&install))?;
    if !present() {
        bail!("apt-get installed {} but pkg-config still finds no hdf5 or cfitsio", DEBIAN_PACKAGES.join(" "));
    }
    Ok(())
}

/// `torch/lib` inside a virtual environment, if torch is installed there.
fn find_torch_lib(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages").join("torch").join("lib"))
        .find(|p| p.join("libtorch_cpu.so").exists())
}

fn ensure_torch(venv: &Path, verbose: bool) -> Result<PathBuf> {
    let stamp = venv.join(STAMP);
    if let (Ok(text), Some(lib)) = (std::fs::read_to_string(&stamp), find_torch_lib(venv)) {
        if text.trim() == TORCH_VERSION {
            return Ok(lib);
        }
        if verbose {
            println!("xtask: {} holds torch {}, need {TORCH_VERSION}: reinstalling", venv.display(), text.trim());
        }
    }
    let started = Instant::now();
    if venv.exists() {
        println!("xtask: removing incomplete environment {}", venv.display());
        std::fs::remove_dir_all(venv).with_context(|| format!("cannot remove {}", venv.display()))?;
    }
    if let Some(parent) = venv.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let python = std::env::var("GALMASS_PYTHON").unwrap_or_else(|_| "python3".into());
    println!("xtask: creating {} with {python} (torch=={TORCH_VERSION} from PyPI, about 4.7 GB)", venv.display());
    let mut create = Command::new(&python);
    create.args(["-m", "venv"]).arg(venv);
    run_command(create).context("creating the torch virtual environment (Debian needs python3-venv)")?;
    let venv_python = venv.join("bin").join("python");
    let mut install = Command::new(&venv_python);
    install.args([
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        &format!("torch=={TORCH_VERSION}"),
    ]);
    run_command(install).context("installing torch from PyPI")?;
    let out = Command::new(&venv_python)
        .args(["-c", "import torch; print(torch.__version__)"])
        .output()
        .context("running python to check torch")?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || !version.starts_with(TORCH_VERSION) {
        bail!("torch in {} reports version `{version}`, expected {TORCH_VERSION}", venv.display());
    }
    let lib = find_torch_lib(venv)
        .with_context(|| format!("torch installed but no torch/lib/libtorch_cpu.so under {}", venv.display()))?;
    std::fs::write(&stamp, format!("{TORCH_VERSION}\n"))
        .with_context(|| format!("cannot write {}", stamp.display()))?;
    println!("xtask: torch {version} installed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(lib)
}
