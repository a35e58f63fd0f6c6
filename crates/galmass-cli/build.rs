//! Link settings for `galmass` (and this package's tests), from galmass-models' build script
//! (`DEP_GALMASS_TORCH_LIBTORCH_LIB`, `DEP_GALMASS_TORCH_CUDA`; see `crates/galmass-models/build.rs`):
//!
//! - rpath: embeds libtorch's folder so the binary starts without LD_LIBRARY_PATH (otherwise: "error while loading
//!   shared libraries: libtorch_cpu.so").
//! - CUDA: `libtorch_cuda.so` is linked again after `--no-as-needed`, otherwise the linker drops it and
//!   `galmass flow` never sees the GPU.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_GALMASS_TORCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-env-changed=DEP_GALMASS_TORCH_CUDA");
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
