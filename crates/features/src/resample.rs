//! Sample-rate conversion with libsoxr at its "HQ" setting, as `librosa.resample` does
//! with its default `res_type="soxr_hq"`.
//!
//! librosa calls python-soxr's `resample(x, in_rate, out_rate, quality="HQ")`, which
//! feeds libsoxr in chunks of `max(1000, 48000 * in_rate / out_rate)` input samples and
//! then flushes; librosa then zero-pads or trims the result to
//! `ceil(len * out_rate / in_rate)` samples (`fix=True`) and, with `scale=True`, divides
//! it by `sqrt(out_rate / in_rate)`. We do the same, on f32 samples through libsoxr's
//! single-precision engine (the one HQ selects), so the output matches librosa's to
//! float rounding. libsoxr is built from source by the `musicgenre-libsoxr` crate
//! (vendored, LGPL-2.1) with the SIMD engine python-soxr uses, so the output is the same.

use crate::error::{Error, Result};
use musicgenre_libsoxr as sys;
use std::ffi::CStr;

/// Resamples `x` from `in_rate` to `out_rate` Hz like `librosa.resample(x, orig_sr=in_rate,
/// target_sr=out_rate, res_type="soxr_hq", fix=True, scale=scale)`.
///
/// Returns `x` unchanged (copied) when the rates are equal, as librosa does.
pub fn resample(x: &[f32], in_rate: f64, out_rate: f64, scale: bool) -> Result<Vec<f32>> {
    check_rates(in_rate, out_rate)?;
    if in_rate == out_rate {
        return Ok(x.to_vec());
    }
    let ratio = out_rate / in_rate;
    let n_samples = (x.len() as f64 * ratio).ceil() as usize;
    let mut y = match half::Half::get().filter(|_| in_rate == 2.0 * out_rate) {
        Some(half) => half.decimate(x),
        None => soxr_hq(x, in_rate, out_rate)?,
    };
    y.resize(n_samples, 0.0);
    if scale {
        // librosa's `y_hat /= np.sqrt(ratio)` divides the float32 array by a float64
        // scalar: numpy computes in f64 and rounds back. An f32 divisor differs in the
        // last bit for ~1 sample in 6.
        divide_in_f64(&mut y, ratio.sqrt());
    }
    Ok(y)
}

/// `v = (v as f64 / s) as f32` for every value, compiled with the widest vector
/// instructions the CPU has (an IEEE division either way: the same bits).
fn divide_in_f64(y: &mut [f32], s: f64) {
    #[inline(always)]
    fn body(y: &mut [f32], s: f64) {
        for v in y.iter_mut() {
            *v = (*v as f64 / s) as f32;
        }
    }
    // SAFETY: the CPU has the instructions of the path taken (simd::best).
    unsafe {
        crate::simd::dispatch!(crate::simd::best(), <_I, _V>(y: &mut [f32] = y, s: f64 = s) {
            body(y, s)
        })
    }
}

/// A streaming resampler with the same libsoxr HQ setting as [`resample`], for audio
/// that arrives in pieces (a decoder's packets): the input is never held whole.
///
/// libsoxr consumes every sample handed to it and its output does not depend on how the
/// input was cut into pieces, so feeding a signal through [`Resampler::process`] in any
/// chunks and closing with [`Resampler::finish`] appends exactly what
/// `resample(signal, in_rate, out_rate, false)` returns (the streaming test checks this
/// sample for sample at the rates we meet).
pub struct Resampler {
    soxr: Soxr,
    ratio: f64,
    /// Input samples fed so far.
    n_in: u64,
    /// Output samples appended so far.
    n_out: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("ratio", &self.ratio)
            .field("n_in", &self.n_in)
            .field("n_out", &self.n_out)
            .finish_non_exhaustive()
    }
}

// SAFETY: a soxr handle is plain heap state with no thread affinity; `Resampler` only
// touches it through `&mut self`, so moving it to another thread is sound.
unsafe impl Send for Resampler {}

impl Resampler {
    /// A resampler from `in_rate` to `out_rate` Hz (mono, f32, soxr HQ).
    pub fn new(in_rate: f64, out_rate: f64) -> Result<Self> {
        check_rates(in_rate, out_rate)?;
        Ok(Resampler {
            soxr: Soxr::hq(in_rate, out_rate)?,
            ratio: out_rate / in_rate,
            n_in: 0,
            n_out: 0,
        })
    }

    /// The output length [`finish`](Self::finish) will have produced in all:
    /// `ceil(n_in * out_rate / in_rate)`, librosa's `fix_length`.
    pub fn output_len_for(&self, n_in: u64) -> u64 {
        (n_in as f64 * self.ratio).ceil() as u64
    }

    /// Feeds `x` and appends to `out` whatever output is ready.
    pub fn process(&mut self, x: &[f32], out: &mut Vec<f32>) -> Result<()> {
        if x.is_empty() {
            return Ok(());
        }
        self.n_in += x.len() as u64;
        // Room for this chunk's share of output plus what libsoxr may still hold back.
        let room = (x.len() as f64 * self.ratio).ceil() as usize + 1024;
        // With `idone` null libsoxr takes all the input at once and keeps what it cannot
        // output yet; later calls with an empty (non-null) input drain it.
        let mut input = x;
        loop {
            let odone = self.run(input.as_ptr(), input.len(), out, room)?;
            input = &x[x.len()..];
            if odone < room {
                return Ok(());
            }
        }
    }

    /// Flushes libsoxr and makes the total output exactly `ceil(n_in * ratio)` samples
    /// (zero-padded or trimmed, as librosa's `fix=True`). `out` must be the vector the
    /// earlier calls appended to; the trim only removes samples this resampler appended.
    pub fn finish(mut self, out: &mut Vec<f32>) -> Result<()> {
        if self.n_in > 0 {
            let room = 4096;
            loop {
                // A null input tells libsoxr the input has ended.
                let odone = self.run(std::ptr::null(), 0, out, room)?;
                if odone < room {
                    break;
                }
            }
        }
        let want = self.output_len_for(self.n_in);
        if self.n_out < want {
            let pad = (want - self.n_out) as usize;
            out.resize(out.len() + pad, 0.0);
        } else {
            let excess = (self.n_out - want) as usize;
            out.truncate(out.len().saturating_sub(excess));
        }
        self.n_out = want;
        Ok(())
    }

    /// One `soxr_process` call writing up to `room` samples at the end of `out`.
    fn run(
        &mut self,
        input: *const f32,
        ilen: usize,
        out: &mut Vec<f32>,
        room: usize,
    ) -> Result<usize> {
        let start = out.len();
        out.resize(start + room, 0.0);
        let mut odone = 0usize;
        // SAFETY: `input` is null (flush) or valid for `ilen` samples; the output slice
        // is valid for `room` samples.
        let e = unsafe {
            sys::soxr_process(
                self.soxr.0,
                input.cast(),
                ilen,
                std::ptr::null_mut(),
                out[start..].as_mut_ptr().cast(),
                room,
                &mut odone,
            )
        };
        let odone = odone.min(room);
        out.truncate(start + odone);
        check(e)?;
        self.n_out += odone as u64;
        Ok(odone)
    }
}

fn check_rates(in_rate: f64, out_rate: f64) -> Result<()> {
    if !(in_rate.is_finite() && out_rate.is_finite() && in_rate > 0.0 && out_rate > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "sample rates must be positive, got {in_rate} -> {out_rate}"
        )));
    }
    Ok(())
}

/// Owns a libsoxr handle and deletes it on every path out.
struct Soxr(sys::soxr_t);

impl Drop for Soxr {
    fn drop(&mut self) {
        // SAFETY: the handle came from soxr_create and is deleted exactly once.
        unsafe { sys::soxr_delete(self.0) }
    }
}

impl Soxr {
    /// A mono f32 -> f32 resampler at python-soxr's `quality="HQ"`.
    fn hq(in_rate: f64, out_rate: f64) -> Result<Self> {
        let mut err: sys::soxr_error_t = std::ptr::null();
        // SAFETY: plain constructors of value structs.
        let io_spec = unsafe { sys::soxr_io_spec(sys::SOXR_FLOAT32_I, sys::SOXR_FLOAT32_I) };
        let quality = unsafe { sys::soxr_quality_spec(sys::SOXR_HQ, 0) };
        // SAFETY: valid pointers to live specs; the handle is owned by `Soxr` below.
        let handle = unsafe {
            sys::soxr_create(
                in_rate,
                out_rate,
                1,
                &mut err,
                &io_spec,
                &quality,
                std::ptr::null(),
            )
        };
        // On error libsoxr has already deleted the handle and returns null.
        check(err)?;
        if handle.is_null() {
            return Err(Error::Resample("soxr_create returned no resampler".into()));
        }
        Ok(Soxr(handle))
    }
}

fn check(err: sys::soxr_error_t) -> Result<()> {
    if err.is_null() {
        return Ok(());
    }
    // SAFETY: libsoxr returns static NUL-terminated strings as errors.
    let msg = unsafe { CStr::from_ptr(err) }
        .to_string_lossy()
        .into_owned();
    Err(Error::Resample(msg))
}

/// python-soxr's `csoxr_divide_proc<float>`: chunked `soxr_process`, then a flush.
fn soxr_hq(x: &[f32], in_rate: f64, out_rate: f64) -> Result<Vec<f32>> {
    let soxr = Soxr::hq(in_rate, out_rate)?;

    let olen = (x.len() as f64 * out_rate / in_rate) as usize + 1;
    // Two samples of slack past `olen`: libsoxr reads the output pointer's first 8 bytes
    // as a channel-pointer array even for interleaved output (`soxr_output_no_callback`)
    // and ignores the value, so with fewer than two f32 left from `out_pos` on (a 1- or
    // 2-sample input) it read past the buffer (found by AddressSanitizer under the fuzzer).
    let mut y = vec![0f32; olen + 2];
    let div_len = (48000.0 * in_rate / out_rate).max(1000.0) as usize;
    let mut out_pos = 0usize;
    let mut idx = 0usize;
    while idx < x.len() {
        let n = div_len.min(x.len() - idx);
        let mut odone = 0usize;
        // SAFETY: input and output slices are valid for the lengths passed.
        let e = unsafe {
            sys::soxr_process(
                soxr.0,
                x[idx..].as_ptr().cast(),
                n,
                std::ptr::null_mut(),
                y[out_pos..].as_mut_ptr().cast(),
                olen - out_pos,
                &mut odone,
            )
        };
        check(e)?;
        out_pos += odone;
        idx += n;
    }
    let mut odone = 0usize;
    // SAFETY: a null input flushes; the output slice is valid for olen - out_pos.
    let e = unsafe {
        sys::soxr_process(
            soxr.0,
            std::ptr::null(),
            0,
            std::ptr::null_mut(),
            y[out_pos..].as_mut_ptr().cast(),
            olen - out_pos,
            &mut odone,
        )
    };
    check(e)?;
    out_pos += odone;
    y.truncate(out_pos);
    Ok(y)
}

/// libsoxr's HQ 2:1 decimation with its DFT stage run on several blocks at once (the
/// block kernels of `musicgenre-libsoxr`, `csrc/half.h`): the same output, bit for bit,
/// as a libsoxr resampler fed the whole signal, in about half the time. Used for 2:1
/// ratios (44.1 kHz to 22.05 kHz, and the CQT's octave halvings) on x86_64 CPUs with AVX.
mod half {
    use super::{sys, Soxr};
    use std::sync::OnceLock;

    type Kernel = unsafe extern "C" fn(
        *const sys::musicgenre_half_tables,
        *const *const f32,
        *const *mut f32,
        *mut f32,
    );

    /// The most blocks a kernel takes at once.
    const MAX_LANES: usize = 4;

    /// A 64-byte aligned run of floats for the kernels' work buffers.
    #[derive(Clone, Copy)]
    #[repr(C, align(64))]
    struct Aligned([f32; 16]);

    /// A 2:1 HQ resampler's filter and FFT tables and the widest kernel this CPU runs.
    pub(super) struct Half {
        /// Owns the memory `tables` points into; never run.
        _soxr: Soxr,
        tables: sys::musicgenre_half_tables,
        lanes: usize,
        kernel: Kernel,
        work_len: usize,
    }

    // SAFETY: after construction `Half` only reads the tables (libsoxr never touches a
    // resampler that is not run), so sharing it between threads is sound.
    unsafe impl Send for Half {}
    unsafe impl Sync for Half {}

    impl Half {
        /// The shared instance with the widest kernel, or None where there is none (no
        /// AVX, another architecture, or a libsoxr whose 2:1 stage is not the expected one).
        pub(super) fn get() -> Option<&'static Half> {
            static HALF: OnceLock<Option<Half>> = OnceLock::new();
            HALF.get_or_init(|| {
                #[cfg(target_arch = "x86_64")]
                {
                    if crate::simd::avx512() {
                        return Half::with_lanes(4);
                    }
                    if crate::simd::avx() {
                        return Half::with_lanes(2);
                    }
                }
                None
            })
            .as_ref()
        }

        /// The kernel taking `lanes` blocks at once (1, 2 or 4; the caller checks the
        /// CPU), or None.
        #[allow(unused_variables)]
        pub(super) fn with_lanes(lanes: usize) -> Option<Half> {
            #[cfg(target_arch = "x86_64")]
            {
                let soxr = Soxr::hq(2.0, 1.0).ok()?;
                let mut tables = std::mem::MaybeUninit::<sys::musicgenre_half_tables>::uninit();
                // SAFETY: a live mono float32 HQ resampler; `tables` is written on success.
                if unsafe { sys::musicgenre_half_tables_of(soxr.0, tables.as_mut_ptr()) } != 1 {
                    return None;
                }
                // SAFETY: filled just above.
                let tables = unsafe { tables.assume_init() };
                type WorkLen = unsafe extern "C" fn(*const sys::musicgenre_half_tables) -> i32;
                let (kernel, len): (Kernel, WorkLen) = match lanes {
                    1 => (
                        sys::musicgenre_half_blocks_x1,
                        sys::musicgenre_half_work_len_x1,
                    ),
                    2 => (
                        sys::musicgenre_half_blocks_x2,
                        sys::musicgenre_half_work_len_x2,
                    ),
                    4 => (
                        sys::musicgenre_half_blocks_x4,
                        sys::musicgenre_half_work_len_x4,
                    ),
                    _ => return None,
                };
                // SAFETY: valid tables.
                let work_len = unsafe { len(&tables) } as usize;
                Some(Half {
                    _soxr: soxr,
                    tables,
                    lanes,
                    kernel,
                    work_len,
                })
            }
            #[cfg(not(target_arch = "x86_64"))]
            None
        }

        /// What a libsoxr HQ resampler from rate 2 to rate 1 outputs for `x` and a flush:
        /// `ceil(len / 2)` samples.
        pub(super) fn decimate(&self, x: &[f32]) -> Vec<f32> {
            let t = &self.tables;
            let n = t.dft_length as usize;
            let taps = t.num_taps as usize;
            // Blocks advance by `step` input samples and give `keep` outputs each
            // (cr.c, dft_stage_fn); the stage's input starts with `post_peak` zeros
            // and is followed by as many zeros as the flush needs.
            let step = n - (taps - 1);
            let keep = n - ((n + taps - 1) >> 1);
            let preload = t.post_peak as usize;
            let n_out = x.len().div_ceil(2);
            let n_blocks = n_out.div_ceil(keep);
            let mut y = vec![0f32; n_blocks * keep];
            let mut work = vec![Aligned([0.0; 16]); self.work_len.div_ceil(16)];
            // Blocks that reach outside `x` are copied, with their zeros, here.
            let mut edge = vec![0f32; MAX_LANES * n];
            let mut spare = vec![0f32; keep];
            for first in (0..n_blocks).step_by(self.lanes) {
                let mut input = [std::ptr::null::<f32>(); MAX_LANES];
                let mut out = [std::ptr::null_mut::<f32>(); MAX_LANES];
                let (edge_rest, y_rest) = (&mut edge[..], &mut y[first * keep..]);
                let mut edges = edge_rest.chunks_exact_mut(n);
                let mut outs = y_rest.chunks_exact_mut(keep);
                for l in 0..self.lanes {
                    let b = first + l;
                    if b >= n_blocks {
                        // A lane past the last block reruns the first one into `spare`.
                        input[l] = input[0];
                        out[l] = spare.as_mut_ptr();
                        continue;
                    }
                    let start = (b * step) as isize - preload as isize;
                    if start >= 0 && start as usize + n <= x.len() {
                        input[l] = x[start as usize..].as_ptr();
                    } else {
                        let window = edges.next().expect("one edge window per lane");
                        stream_window(x, start, window);
                        input[l] = window.as_ptr();
                    }
                    out[l] = outs.next().expect("room for every block").as_mut_ptr();
                }
                // SAFETY: every input pointer has `n` readable samples, every output
                // `keep` writable ones, and `work` `work_len` aligned floats.
                unsafe {
                    (self.kernel)(t, input.as_ptr(), out.as_ptr(), work.as_mut_ptr().cast());
                }
            }
            y.truncate(n_out);
            y
        }
    }

    /// `x[start .. start + window.len()]`, zero outside `x`.
    fn stream_window(x: &[f32], start: isize, window: &mut [f32]) {
        window.fill(0.0);
        let lo = start.max(0);
        let hi = (start + window.len() as isize).min(x.len() as isize);
        if hi > lo {
            window[(lo - start) as usize..(hi - start) as usize]
                .copy_from_slice(&x[lo as usize..hi as usize]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_rate_is_identity() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin()).collect();
        assert_eq!(resample(&x, 22050.0, 22050.0, false).unwrap(), x);
    }

    #[test]
    fn length_is_ceil_of_ratio() {
        for n in [1usize, 7, 1000, 44101, 100_003] {
            let x = vec![0.25f32; n];
            let y = resample(&x, 44100.0, 22050.0, false).unwrap();
            assert_eq!(y.len(), (n as f64 / 2.0).ceil() as usize, "n = {n}");
        }
    }

    #[test]
    fn keeps_a_low_sine() {
        // A 440 Hz sine survives 44.1 kHz -> 22.05 kHz with its amplitude.
        let x: Vec<f32> = (0..44100)
            .map(|i| (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 44100.0).sin() as f32)
            .collect();
        let y = resample(&x, 44100.0, 22050.0, false).unwrap();
        let mid = &y[5000..15000];
        let peak = mid.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!((peak - 1.0).abs() < 1e-3, "peak {peak}");
    }

    #[test]
    fn rejects_bad_rates() {
        assert!(resample(&[0.0], 0.0, 22050.0, false).is_err());
        assert!(resample(&[0.0], f64::NAN, 22050.0, false).is_err());
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod half_tests {
    use super::*;

    fn signal(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1;
                let t = i as f64 / 44100.0;
                (0.4 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                    + 0.2 * (2.0 * std::f64::consts::PI * 10_000.0 * t).sin())
                    as f32
                    + noise
            })
            .collect()
    }

    #[test]
    fn block_kernels_give_libsoxrs_bits() {
        let mut lanes = vec![1];
        if std::is_x86_feature_detected!("avx") {
            lanes.push(2);
        }
        if std::is_x86_feature_detected!("avx512f") {
            lanes.push(4);
        }
        for l in lanes {
            let half = half::Half::with_lanes(l).expect("the 2:1 stage");
            // Lengths around the block edges, and some at random; three loudness
            // levels, the quietest with subnormal products.
            let mut cases = vec![
                (0, 0),
                (1, 1),
                (2, 2),
                (3, 3),
                (1659, 4),
                (1660, 5),
                (2048, 6),
                (5000, 7),
                (44_101, 8),
                (100_000, 9),
            ];
            let mut state = 17u64;
            for seed in 10..40 {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                cases.push(((state >> 33) as usize % 30_000, seed));
            }
            for (len, seed) in cases {
                let scale = [1.0, 1e-36, 3e4][seed as usize % 3];
                let x: Vec<f32> = signal(len, seed).iter().map(|v| v * scale).collect();
                let want = soxr_hq(&x, 2.0, 1.0).unwrap();
                let got = half.decimate(&x);
                assert_eq!(got.len(), want.len(), "lanes {l} len {len}");
                let diff = got
                    .iter()
                    .zip(&want)
                    .position(|(a, b)| a.to_bits() != b.to_bits());
                assert_eq!(diff, None, "lanes {l} len {len}: first differing sample");
            }
        }
    }
}
