//! Compiles the vendored libsoxr the way python-soxr 1.1.0 builds it (and so the way
//! librosa resamples): the single-precision SIMD engine `cr32s` with the PFFFT transform
//! on x86_64 and aarch64, the portable `cr32` engine elsewhere. Double-precision engines
//! (used only above 20-bit quality) are left out.
use std::path::PathBuf;

fn main() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let simd = arch == "x86_64" || arch == "aarch64";
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let flag = |b: bool| if b { 1 } else { 0 };
    let config = format!(
        "#ifndef soxr_config_included\n#define soxr_config_included\n\
         #define AVCODEC_FOUND 0\n#define AVUTIL_FOUND 0\n#define WITH_PFFFT {simd}\n\
         #define HAVE_FENV_H 1\n#define HAVE_STDBOOL_H 1\n#define HAVE_STDINT_H 1\n\
         #define HAVE_GETAUXVAL {getauxval}\n#define HAVE_LRINT 1\n#define HAVE_BIGENDIAN 0\n\
         #define WITH_CR32 1\n#define WITH_CR32S {simd}\n#define WITH_CR64 0\n#define WITH_CR64S 0\n\
         #define WITH_VR32 1\n#define WITH_HI_PREC_CLOCK 1\n#define WITH_FLOAT_STD_PREC_CLOCK 0\n\
         #define WITH_DEV_TRACE 0\n#endif\n",
        simd = flag(simd),
        getauxval = flag(os == "linux"),
    );
    std::fs::write(out.join("soxr-config.h"), config).expect("write soxr-config.h");

    let mut sources = vec![
        "soxr.c",
        "data-io.c",
        "dbesi0.c",
        "filter.c",
        "fft4g64.c",
        "cr.c",
        "cr32.c",
        "fft4g32.c",
        "vr32.c",
    ];
    if simd {
        sources.extend(["cr32s.c", "pffft32s.c", "util32s.c"]);
    }
    let mut build = cc::Build::new();
    build
        .include(&out)
        .include("vendor/src")
        .define("SOXR_LIB", None)
        .flag_if_supported("-std=gnu99")
        // No fused multiply-adds even where CFLAGS allow them: python-soxr's build has
        // none, and csrc/half_lanes.c must round as this build does.
        .flag_if_supported("-ffp-contract=off")
        .warnings(false);
    for s in &sources {
        build.file(format!("vendor/src/{s}"));
    }
    if simd {
        // Reads a 2:1 resampler's own filter for the block kernels below.
        build.file("csrc/half.c");
    }
    build.compile("soxr");

    // libsoxr's 2:1 HQ stage on several blocks at once (csrc/half.h): 1 block with SSE
    // (tests), 2 with AVX, 4 with AVX-512F; the wide ones are called only where the CPU
    // has the instructions.
    if arch == "x86_64" {
        for (lanes, flags) in [(1, &[][..]), (2, &["-mavx"][..]), (4, &["-mavx512f"][..])] {
            let mut kernel = cc::Build::new();
            kernel
                .file(format!("csrc/half_x{lanes}.c"))
                .include("csrc")
                .flag_if_supported("-std=gnu99")
                .flag("-ffp-contract=off")
                .warnings(false);
            for f in flags {
                kernel.flag(f);
            }
            kernel.compile(&format!("soxr_half_x{lanes}"));
        }
    }
    if os != "windows" {
        println!("cargo:rustc-link-lib=m");
    }
    println!("cargo:rerun-if-changed=vendor/src");
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-changed=build.rs");
}
