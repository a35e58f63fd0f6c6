//! Build settings of galmass-pipeline:
//!
//! - link settings for this package's tests and examples, from galmass-models' build script
//!   (`DEP_GALMASS_TORCH_LIBTORCH_LIB`, `DEP_GALMASS_TORCH_CUDA`; see `crates/galmass-models/build.rs`): libtorch's
//!   folder as rpath, `libtorch_cuda.so` kept after `--no-as-needed`;
//! - `GALMASS_GIT_REVISION`: the commit the crate is built from (`git rev-parse HEAD`, `unknown` outside a git
//!   checkout), recorded in datasets' provenance. Taken at build time so that a build never spawns a process while
//!   HDF5 files are open (their locks would be inherited).

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_GALMASS_TORCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=DEP_GALMASS_TORCH_CUDA");
    git_revision();
    let Ok(lib) = std::env::var("DEP_GALMASS_TORCH_LIBTORCH_LIB") else {
        return;
    };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    if std::env::var("DEP_GALMASS_TORCH_CUDA").as_deref() == Ok("1") {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}

fn git_revision() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
    };
    let revision = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/refs/heads");
        println!("cargo:rerun-if-changed={dir}/packed-refs");
    }
    println!("cargo:rustc-env=GALMASS_GIT_REVISION={revision}");
}
