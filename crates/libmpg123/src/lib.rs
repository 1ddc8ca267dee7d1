//! The part of libmpg123's C API that the feature crate uses, over a vendored libmpg123
//! 1.31.2 built as libsndfile's copy is built (see build.rs). LGPL-2.1: see
//! vendor/COPYING.
//!
//! The library exists only on x86_64 Linux (`AVAILABLE`); elsewhere this crate is empty
//! and callers decode MP3 another way.
#![allow(non_camel_case_types)]

/// Whether this build links libmpg123.
pub const AVAILABLE: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub use ffi::*;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod ffi {
    use std::os::raw::{c_char, c_double, c_int, c_long, c_void};

    /// Opaque decoder handle.
    #[repr(C)]
    pub struct mpg123_handle {
        _private: [u8; 0],
    }

    /// `off_t` on x86_64 Linux.
    pub type off_t = i64;

    pub const MPG123_OK: c_int = 0;
    pub const MPG123_ERR: c_int = -1;
    /// Message: the track ended.
    pub const MPG123_DONE: c_int = -12;
    /// Message: the output format changes with the next call.
    pub const MPG123_NEW_FORMAT: c_int = -11;
    pub const MPG123_NEED_MORE: c_int = -10;

    /// `enum mpg123_parms` values.
    pub const MPG123_FLAGS: c_int = 1;
    pub const MPG123_ADD_FLAGS: c_int = 2;
    pub const MPG123_REMOVE_FLAGS: c_int = 13;

    /// `enum mpg123_param_flags` bits.
    pub const MPG123_QUIET: c_long = 0x20;
    pub const MPG123_GAPLESS: c_long = 0x40;
    pub const MPG123_FORCE_FLOAT: c_long = 0x400;
    pub const MPG123_AUTO_RESAMPLE: c_long = 0x8000;
    pub const MPG123_NO_FRANKENSTEIN: c_long = 0x100_0000;

    /// `MPG123_ENC_FLOAT_32`: native-endian 32-bit float samples.
    pub const MPG123_ENC_FLOAT_32: c_int = 0x200;

    pub type read_fn =
        unsafe extern "C" fn(handle: *mut c_void, buf: *mut c_void, n: usize) -> isize;
    pub type lseek_fn =
        unsafe extern "C" fn(handle: *mut c_void, offset: off_t, whence: c_int) -> off_t;
    pub type cleanup_fn = unsafe extern "C" fn(handle: *mut c_void);

    extern "C" {
        pub fn mpg123_new(decoder: *const c_char, error: *mut c_int) -> *mut mpg123_handle;
        pub fn mpg123_delete(mh: *mut mpg123_handle);
        pub fn mpg123_param(
            mh: *mut mpg123_handle,
            kind: c_int,
            value: c_long,
            fvalue: c_double,
        ) -> c_int;
        pub fn mpg123_getparam(
            mh: *mut mpg123_handle,
            kind: c_int,
            value: *mut c_long,
            fvalue: *mut c_double,
        ) -> c_int;
        pub fn mpg123_replace_reader_handle(
            mh: *mut mpg123_handle,
            r_read: Option<read_fn>,
            r_lseek: Option<lseek_fn>,
            cleanup: Option<cleanup_fn>,
        ) -> c_int;
        pub fn mpg123_open_handle(mh: *mut mpg123_handle, iohandle: *mut c_void) -> c_int;
        pub fn mpg123_close(mh: *mut mpg123_handle) -> c_int;
        pub fn mpg123_getformat(
            mh: *mut mpg123_handle,
            rate: *mut c_long,
            channels: *mut c_int,
            encoding: *mut c_int,
        ) -> c_int;
        pub fn mpg123_format_none(mh: *mut mpg123_handle) -> c_int;
        pub fn mpg123_format(
            mh: *mut mpg123_handle,
            rate: c_long,
            channels: c_int,
            encodings: c_int,
        ) -> c_int;
        pub fn mpg123_read(
            mh: *mut mpg123_handle,
            out: *mut c_void,
            size: usize,
            done: *mut usize,
        ) -> c_int;
        pub fn mpg123_length(mh: *mut mpg123_handle) -> off_t;
        pub fn mpg123_strerror(mh: *mut mpg123_handle) -> *const c_char;
        pub fn mpg123_plain_strerror(errcode: c_int) -> *const c_char;
        pub fn mpg123_current_decoder(mh: *mut mpg123_handle) -> *const c_char;
        pub fn mpg123_supported_decoders() -> *mut *const c_char;
    }
}

#[cfg(all(test, target_arch = "x86_64", target_os = "linux"))]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn names(list: *mut *const std::os::raw::c_char) -> Vec<String> {
        let mut out = Vec::new();
        // SAFETY: libmpg123 returns a NULL-terminated array of static strings.
        unsafe {
            let mut p = list;
            while !(*p).is_null() {
                out.push(CStr::from_ptr(*p).to_string_lossy().into_owned());
                p = p.add(1);
            }
        }
        out
    }

    #[test]
    fn the_cpu_dispatch_of_libsndfiles_build_is_there() {
        // SAFETY: a static list.
        let supported = names(unsafe { mpg123_supported_decoders() });
        // Every x86_64 CPU has SSE2, so the x86-64 decoder is always on offer; AVX where
        // the CPU has it; generic always.
        assert!(supported.iter().any(|d| d == "x86-64"), "{supported:?}");
        assert!(supported.iter().any(|d| d == "generic"), "{supported:?}");
        let mut err = 0;
        // SAFETY: a fresh handle, deleted by the guard.
        unsafe {
            let h = mpg123_new(std::ptr::null(), &mut err);
            assert!(!h.is_null() && err == MPG123_OK);
            let _g = Guard(h);
            let chosen = CStr::from_ptr(mpg123_current_decoder(h))
                .to_string_lossy()
                .into_owned();
            assert_eq!(
                &chosen, &supported[0],
                "auto picks the best the CPU supports"
            );
        }
    }

    /// Deletes a handle when dropped.
    struct Guard(*mut mpg123_handle);

    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: created by mpg123_new, deleted once.
            unsafe { mpg123_delete(self.0) }
        }
    }

    #[test]
    fn the_parameter_codes_set_the_flags_they_name() {
        let mut err = 0;
        // SAFETY: a fresh handle, deleted by the guard.
        unsafe {
            let h = mpg123_new(std::ptr::null(), &mut err);
            assert!(!h.is_null());
            let _g = Guard(h);
            let flags = || {
                let (mut v, mut f) = (0, 0.0);
                assert_eq!(mpg123_getparam(h, MPG123_FLAGS, &mut v, &mut f), MPG123_OK);
                v
            };
            assert_ne!(flags() & MPG123_AUTO_RESAMPLE, 0, "on by default");
            assert_eq!(
                mpg123_param(h, MPG123_REMOVE_FLAGS, MPG123_AUTO_RESAMPLE, 0.0),
                MPG123_OK
            );
            assert_eq!(flags() & MPG123_AUTO_RESAMPLE, 0);
            let wanted =
                MPG123_FORCE_FLOAT | MPG123_GAPLESS | MPG123_QUIET | MPG123_NO_FRANKENSTEIN;
            assert_eq!(mpg123_param(h, MPG123_ADD_FLAGS, wanted, 0.0), MPG123_OK);
            assert_eq!(flags() & wanted, wanted);
        }
    }
}
