//! Bakes libtorch's lib folder into the binaries and test binaries of the package as an
//! rpath, so they run without LD_LIBRARY_PATH (torch-sys does not do it for dependents).
//! Shared by every package that links libtorch (`build = ...` in the root and
//! crates/cli manifests); each needs torch-sys as a direct dependency, which is what
//! hands it DEP_TCH_LIBTORCH_LIB.
fn main() {
    if let Some(dir) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        // Resolve the `.libtorch` link so the rpath names the cache folder itself.
        let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.into());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
