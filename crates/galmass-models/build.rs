//! Link settings for this crate's own binaries (tests, examples), passed on to dependents.
//!
//! - rpath: embeds libtorch's folder so binaries start without LD_LIBRARY_PATH (otherwise: "error while loading
//!   shared libraries: libtorch_cpu.so").
//! - CUDA: torch-sys asks to link `torch_cuda`, but nothing references its symbols directly, so the linker's
//!   `--as-needed` drops it and `tch::Cuda::is_available()` is false even on a GPU machine. Linking it again after
//!   `--no-as-needed` keeps it.
//!
//! `cargo:rustc-link-arg` only reaches this package's binaries, so the folder is exported to dependents as
//! `DEP_GALMASS_TORCH_LIBTORCH_LIB` (and `DEP_GALMASS_TORCH_CUDA=1` when the CUDA library exists); a binary crate
//! that links galmass-models repeats the two steps in its own build script.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let has_cuda = Path::new(&lib).join("libtorch_cuda.so").exists();
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        if has_cuda {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
            println!("cargo:rustc-link-arg=-ltorch_cuda");
            println!("cargo:rustc-link-arg=-Wl,--as-needed");
        }
    }
    println!("cargo:libtorch_lib={lib}");
    if has_cuda {
        println!("cargo:cuda=1");
    }
}
