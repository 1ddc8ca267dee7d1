//! The part of libsoxr's C API that the feature crate uses, over a vendored libsoxr
//! 0.1.3 built as python-soxr builds it (see build.rs). LGPL-2.1: see vendor/LICENCE.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_double, c_int, c_uint, c_ulong, c_void};

/// Opaque resampler handle.
pub type soxr_t = *mut c_void;
/// NULL on success, else a static message.
pub type soxr_error_t = *const c_char;

/// `soxr_datatype_t` values: interleaved float32 is the only one we use.
pub const SOXR_FLOAT32_I: c_uint = 0;
/// `SOXR_HQ`, i.e. `SOXR_20_BITQ`: what python-soxr's default "HQ" and librosa's
/// "soxr_hq" ask for.
pub const SOXR_HQ: c_ulong = 4;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct soxr_io_spec_t {
    pub itype: c_uint,
    pub otype: c_uint,
    pub scale: c_double,
    pub e: *mut c_void,
    pub flags: c_ulong,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct soxr_quality_spec_t {
    pub precision: c_double,
    pub phase_response: c_double,
    pub passband_end: c_double,
    pub stopband_begin: c_double,
    pub e: *mut c_void,
    pub flags: c_ulong,
}

/// What a PFFFT real transform of `N` points needs (`csrc/half.h`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_snake_case)]
pub struct musicgenre_pffft_tables {
    pub N: c_int,
    pub Ncvec: c_int,
    pub ifac: [c_int; 15],
    pub e: *const f32,
    pub twiddle: *const f32,
}

/// A libsoxr HQ 2:1 resampler's one DFT stage (`csrc/half.h`): the filter's ordered
/// spectrum (`dft_length` floats), its length and delay, and the PFFFT tables of the
/// forward (`dft_length`) and inverse (`dft_length / 2`) transforms. The pointers are
/// into the resampler they were read from, valid while it lives.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct musicgenre_half_tables {
    pub coefs: *const f32,
    pub dft_length: c_int,
    pub num_taps: c_int,
    pub post_peak: c_int,
    pub fwd: musicgenre_pffft_tables,
    pub bwd: musicgenre_pffft_tables,
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
extern "C" {
    /// Fills `out` from a mono float32 HQ resampler made for a 2:1 ratio; 1 on success,
    /// 0 if its stages are not the one DFT stage the block kernels reproduce.
    pub fn musicgenre_half_tables_of(soxr: soxr_t, out: *mut musicgenre_half_tables) -> c_int;
}

// The block kernels of `csrc/half_lanes.c`: `musicgenre_half_blocks_xN(t, in, out, work)`
// runs libsoxr's 2:1 stage on N blocks, `in[l]` pointing at `dft_length` input samples
// and `out[l]` at room for `dft_length - (dft_length + num_taps - 1) / 2` outputs;
// `work` holds `musicgenre_half_work_len_xN(t)` floats, 64-byte aligned. The x2 kernel
// needs AVX, the x4 one AVX-512F.
#[cfg(target_arch = "x86_64")]
extern "C" {
    pub fn musicgenre_half_work_len_x1(t: *const musicgenre_half_tables) -> c_int;
    pub fn musicgenre_half_blocks_x1(
        t: *const musicgenre_half_tables,
        input: *const *const f32,
        out: *const *mut f32,
        work: *mut f32,
    );
    pub fn musicgenre_half_work_len_x2(t: *const musicgenre_half_tables) -> c_int;
    pub fn musicgenre_half_blocks_x2(
        t: *const musicgenre_half_tables,
        input: *const *const f32,
        out: *const *mut f32,
        work: *mut f32,
    );
    pub fn musicgenre_half_work_len_x4(t: *const musicgenre_half_tables) -> c_int;
    pub fn musicgenre_half_blocks_x4(
        t: *const musicgenre_half_tables,
        input: *const *const f32,
        out: *const *mut f32,
        work: *mut f32,
    );
}

extern "C" {
    pub fn soxr_io_spec(itype: c_uint, otype: c_uint) -> soxr_io_spec_t;
    pub fn soxr_quality_spec(recipe: c_ulong, flags: c_ulong) -> soxr_quality_spec_t;
    pub fn soxr_create(
        input_rate: c_double,
        output_rate: c_double,
        num_channels: c_uint,
        error: *mut soxr_error_t,
        io_spec: *const soxr_io_spec_t,
        quality_spec: *const soxr_quality_spec_t,
        runtime_spec: *const c_void,
    ) -> soxr_t;
    pub fn soxr_process(
        resampler: soxr_t,
        input: *const c_void,
        ilen: usize,
        idone: *mut usize,
        output: *mut c_void,
        olen: usize,
        odone: *mut usize,
    ) -> soxr_error_t;
    pub fn soxr_delete(resampler: soxr_t);
    pub fn soxr_engine(resampler: soxr_t) -> *const c_char;
    pub fn soxr_version() -> *const c_char;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn hq_uses_the_simd_engine_where_python_soxr_does() {
        let mut err: soxr_error_t = std::ptr::null();
        // SAFETY: valid specs; the handle is deleted below.
        unsafe {
            let io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
            let q = soxr_quality_spec(SOXR_HQ, 0);
            let h = soxr_create(44100.0, 22050.0, 1, &mut err, &io, &q, std::ptr::null());
            assert!(err.is_null() && !h.is_null());
            let engine = CStr::from_ptr(soxr_engine(h))
                .to_string_lossy()
                .into_owned();
            soxr_delete(h);
            let expected = if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
                "cr32s"
            } else {
                "cr32"
            };
            assert_eq!(engine, expected);
            assert!(CStr::from_ptr(soxr_version())
                .to_string_lossy()
                .contains("0.1.3"));
        }
    }
}
