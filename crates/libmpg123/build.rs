//! Compiles the vendored libmpg123 the way its own `configure --with-cpu=x86-64` build
//! does (the build inside python-soundfile's libsndfile, and so librosa's MP3 decoder):
//! runtime CPU dispatch between the AVX, SSE (x86-64) and generic decoders, float
//! ("real") synthesis, and the compiler flags configure picks (`-O2 -ffast-math ...`),
//! which decide the last bits of the output. Integer output, resampling, the
//! equalizer, ICY and messages are left out. Only x86_64 Linux gets the library; the
//! feature crate decodes MP3 with symphonia elsewhere.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=vendor");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if arch != "x86_64" || os != "linux" {
        return;
    }
    let c_sources = [
        "compat/compat.c",
        "compat/compat_str.c",
        "libmpg123/dct64.c",
        "libmpg123/dither.c",
        "libmpg123/feature.c",
        "libmpg123/format.c",
        "libmpg123/frame.c",
        "libmpg123/id3.c",
        "libmpg123/index.c",
        "libmpg123/layer1.c",
        "libmpg123/layer2.c",
        "libmpg123/layer3.c",
        "libmpg123/lfs_alias.c",
        "libmpg123/libmpg123.c",
        "libmpg123/optimize.c",
        "libmpg123/parse.c",
        "libmpg123/readers.c",
        "libmpg123/stringbuf.c",
        "libmpg123/synth_real.c",
        "libmpg123/tabinit.c",
    ];
    let asm_sources = [
        "dct36_avx.S",
        "dct36_x86_64.S",
        "dct64_avx_float.S",
        "dct64_x86_64_float.S",
        "getcpuflags_x86_64.S",
        "synth_stereo_avx_accurate.S",
        "synth_stereo_avx_float.S",
        "synth_stereo_x86_64_accurate.S",
        "synth_stereo_x86_64_float.S",
        "synth_x86_64_accurate.S",
        "synth_x86_64_float.S",
    ];
    let mut build = cc::Build::new();
    build
        .include("vendor/config")
        .include("vendor/src")
        .include("vendor/src/compat")
        .include("vendor/src/libmpg123")
        .define("HAVE_CONFIG_H", None)
        .define("OPT_MULTI", None)
        .define("OPT_X86_64", None)
        .define("OPT_GENERIC", None)
        .define("OPT_GENERIC_DITHER", None)
        .define("REAL_IS_FLOAT", None)
        .define("OPT_AVX", None)
        // configure's flags, whatever the cargo profile: they fix the float results.
        .opt_level(2)
        .debug(false)
        .flag("-fomit-frame-pointer")
        .flag("-funroll-all-loops")
        .flag("-finline-functions")
        .flag("-ffast-math")
        .warnings(false);
    for s in c_sources {
        build.file(format!("vendor/src/{s}"));
    }
    for s in asm_sources {
        build.file(format!("vendor/src/libmpg123/{s}"));
    }
    build.compile("mpg123");
    println!("cargo:rustc-link-lib=m");
    println!("cargo:enabled=1");
}
