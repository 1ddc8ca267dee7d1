//! Short-time Fourier transform magnitudes: `np.abs(librosa.stft(y, n_fft, hop_length))`.
//!
//! Conventions of librosa 0.11.0 `core/spectrum.py::stft` with its defaults, reproduced
//! operation by operation so that the f32 magnitudes come out equal to librosa's, not
//! merely close:
//!
//! - Window: periodic Hann of length `n_fft`, as `scipy.signal.get_window("hann", n_fft,
//!   fftbins=True)` computes it: `0.5 + 0.5 * cos(fac[n])` with
//!   `fac = linspace(-pi, pi, n_fft + 1)`, in f64.
//! - Framing: `center=True`, `pad_mode="constant"`: frame `t` covers
//!   `y[t * hop - n_fft / 2 .. t * hop + n_fft / 2]`, zeros outside the signal. There are
//!   `1 + len(y) / hop` frames (integer division), so at least one even for a signal
//!   shorter than a frame (librosa warns there but still returns that frame).
//! - Arithmetic: librosa multiplies the f32 samples by the f64 window, so the real FFT
//!   (scipy's pocketfft) runs in f64, and the result is stored as complex64. We do the
//!   same: f64 window times f32 sample, then, for a power-of-two `n_fft`, scipy's own
//!   real FFT algorithm ([`crate::rfft`]: the same operations in the same order, so the
//!   same f64 bits), each component then rounded to f32. The magnitudes, and through
//!   them the tuning histograms, are librosa's to the bit (`tests/reference_stft.rs`).
//!   Frames go through the transform several at a time, one per SIMD lane
//!   ([`Stft::magnitude_frames`]). Other even `n_fft` use `realfft` (equal to scipy to
//!   an f64 rounding, so nearly always the same f32 values).
//! - Magnitude: numpy 2's complex64 `absolute` is not `hypotf`: with `r = min / max` of
//!   `|re|, |im|` it returns `max * sqrt(fma(r, r, 1))` in f32 (numpy's Highway
//!   `OpCabs`). We compute the fma in f64, where `r * r` is exact and the sum is rounded
//!   once before the rounding to f32; see [`cabs_f32`].
//!
//! Only even `n_fft` is supported (the Nyquist bin conventions of `rms` depend on it).

use crate::error::{Error, Result};
use crate::frames::Frames;
use crate::rfft::{F64s, RealFft};
use crate::simd::{Isa, MAX_LANES};
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// librosa's default `n_fft`.
pub const N_FFT: usize = 2048;
/// librosa's default `hop_length`.
pub const HOP_LENGTH: usize = 512;

/// Number of frames of a centred STFT (and of every frame-wise feature with
/// `center=True`): `1 + n_samples / hop_length`.
pub fn n_frames(n_samples: usize, hop_length: usize) -> usize {
    1 + n_samples / hop_length.max(1)
}

/// The periodic Hann window of length `n`, exactly as scipy builds it (f64).
pub fn hann_periodic(n: usize) -> Vec<f64> {
    // scipy: general_cosine(n + 1, [0.5, 0.5]) truncated to n points, where
    // fac = linspace(-pi, pi, n + 1) = arange * step + start with step = 2 pi / n.
    let step = (std::f64::consts::PI - -std::f64::consts::PI) / n as f64;
    (0..n)
        .map(|i| {
            let fac = i as f64 * step + -std::f64::consts::PI;
            // w = zeros; w += 0.5 * cos(0 * fac); w += 0.5 * cos(fac)
            0.0 + 0.5 + 0.5 * fac.cos()
        })
        .collect()
}

/// Centre frequency of each FFT bin, `np.fft.rfftfreq(n_fft, 1 / sr)` (what
/// `librosa.fft_frequencies` returns): `k * (1 / (n_fft * (1 / sr)))`, not `k * sr / n_fft`,
/// to the last bit.
pub fn fft_frequencies(sr: f64, n_fft: usize) -> Vec<f64> {
    let val = 1.0 / (n_fft as f64 * (1.0 / sr));
    (0..=n_fft / 2).map(|k| k as f64 * val).collect()
}

/// numpy's `absolute` of a complex64 value (see the module doc). Finite inputs give a
/// finite result unless the true magnitude overflows f32.
#[inline]
pub fn cabs_f32(re: f32, im: f32) -> f32 {
    if !(re.is_finite() && im.is_finite()) {
        return cabs_f32_special(re, im);
    }
    cabs_f32_finite(re, im)
}

pub(crate) use crate::simd::cabs_f32_finite;

/// numpy's handling of infinite and NaN parts.
#[cold]
fn cabs_f32_special(re: f32, im: f32) -> f32 {
    // An infinite part makes the result infinite, otherwise a NaN part makes it NaN.
    if re.is_infinite() || im.is_infinite() {
        f32::INFINITY
    } else {
        f32::NAN
    }
}

/// Where a batch's magnitudes go: whole frames one after the other, or lanes `offset..`
/// of an `n_bins x MAX_LANES` block.
enum Emit<'a> {
    Frames(&'a mut [f32]),
    Lanes(&'a mut [f32], usize),
}

/// The two steps of a batch of STFT frames around the transform, for each width of
/// [`F64s`]: windowing frames into lanes, and magnitudes out of lanes into frames.
pub(crate) trait StftLanes: F64s {
    /// `data[pos(i) * W + l] = window[i] * y[l * hop + i]` for every lane `l` and `i` in
    /// `0..window.len()`, with `pos(i) = (i % groups) * points + i / groups`: the
    /// decimated order of [`RealFft::forward_decimated`] (`groups = 1` is the natural
    /// order). `groups` is a power of two.
    ///
    /// # Safety
    /// `y` is valid for reads up to `(W - 1) * hop + window.len()`, `data` for
    /// `window.len() * W` writes; the CPU has the instructions.
    unsafe fn fill_frames(
        window: &[f64],
        y: *const f32,
        hop: usize,
        data: *mut f64,
        decimation: (usize, usize),
    );

    /// For lanes `0..count`: the magnitudes of the halfcomplex transform of length `n`
    /// in lane `l` of `data`, rounded to complex64 first, into `out[l * (n/2 + 1)..]`.
    /// Returns false if one is not finite (then the caller redoes them with
    /// [`cabs_f32`]).
    ///
    /// # Safety
    /// `data` holds `n * W` values, `out` `count * (n / 2 + 1)`; `count <= W`; the CPU
    /// has the instructions.
    unsafe fn magnitudes(data: *const f64, n: usize, out: *mut f32, count: usize) -> bool;

    /// The magnitudes of all `W` lanes into lanes `0..W` of rows of [`MAX_LANES`]:
    /// `out[k * MAX_LANES + l]`. Returns false if one is not finite.
    ///
    /// # Safety
    /// `data` holds `n * W` values, `out` `(n / 2) * MAX_LANES + W`; the CPU has the
    /// instructions.
    unsafe fn magnitudes_lanes(data: *const f64, n: usize, out: *mut f32) -> bool;
}

/// The magnitudes of bins `k0..k1` of lane `l` (of `w`), one by one.
///
/// # Safety
/// As [`StftLanes::magnitudes`], with `k0 <= k1 <= n / 2 + 1`.
#[inline(always)]
unsafe fn magnitudes_scalar(
    data: *const f64,
    n: usize,
    w: usize,
    out: *mut f32,
    l: usize,
    k0: usize,
    k1: usize,
) -> bool {
    let nb = n / 2 + 1;
    let mut finite = true;
    for k in k0..k1 {
        let (re, im) = if k == 0 {
            (*data.add(l), 0.0)
        } else if k == n / 2 {
            (*data.add((n - 1) * w + l), 0.0)
        } else {
            (*data.add((2 * k - 1) * w + l), *data.add(2 * k * w + l))
        };
        let m = cabs_f32_finite(re as f32, im as f32);
        finite &= m.is_finite();
        *out.add(l * nb + k) = m;
    }
    finite
}

impl StftLanes for f64 {
    #[inline(always)]
    unsafe fn fill_frames(
        window: &[f64],
        y: *const f32,
        _hop: usize,
        data: *mut f64,
        (groups, points): (usize, usize),
    ) {
        for (i, &wi) in window.iter().enumerate() {
            *data.add((i % groups) * points + i / groups) = wi * *y.add(i) as f64;
        }
    }

    #[inline(always)]
    unsafe fn magnitudes(data: *const f64, n: usize, out: *mut f32, count: usize) -> bool {
        debug_assert!(count == 1);
        magnitudes_scalar(data, n, 1, out, 0, 0, n / 2 + 1)
    }

    #[inline(always)]
    unsafe fn magnitudes_lanes(data: *const f64, n: usize, out: *mut f32) -> bool {
        magnitudes_lanes_scalar(data, n, 1, out, 0)
    }
}

/// [`StftLanes::magnitudes_lanes`] for bins `k0..=n/2`, value by value.
///
/// # Safety
/// As [`StftLanes::magnitudes_lanes`].
#[inline(always)]
unsafe fn magnitudes_lanes_scalar(
    data: *const f64,
    n: usize,
    w: usize,
    out: *mut f32,
    k0: usize,
) -> bool {
    let mut finite = true;
    for k in k0..=n / 2 {
        for l in 0..w {
            let (re, im) = if k == 0 {
                (*data.add(l), 0.0)
            } else if k == n / 2 {
                (*data.add((n - 1) * w + l), 0.0)
            } else {
                (*data.add((2 * k - 1) * w + l), *data.add(2 * k * w + l))
            };
            let m = cabs_f32_finite(re as f32, im as f32);
            finite &= m.is_finite();
            *out.add(k * MAX_LANES + l) = m;
        }
    }
    finite
}

#[cfg(target_arch = "x86_64")]
mod lanes_x86 {
    use super::{magnitudes_scalar, StftLanes, MAX_LANES};
    use crate::rfft::{F64x4, F64x8};
    use crate::simd::{Avx512, Lanes8};
    use std::arch::x86_64::*;

    /// How far apart the decimated positions of `block` consecutive samples starting at a
    /// multiple of `block` lie, when they are evenly spaced: 1 in natural order, `points`
    /// when `groups` is a multiple of `block`; `None` otherwise.
    fn block_step(groups: usize, points: usize, block: usize) -> Option<usize> {
        if groups == 1 {
            Some(1)
        } else if groups.is_multiple_of(block) {
            Some(points)
        } else {
            None
        }
    }

    /// `cabs_f32_finite` on 8 lanes of f32 (AVX-512F for the f64 step).
    #[inline(always)]
    unsafe fn cabs8(re: __m256, im: __m256) -> __m256 {
        <Avx512 as Lanes8>::f_cabs(re, im)
    }

    /// `lo` in lanes 0..8, `hi` in lanes 8..16 (AVX-512F).
    #[inline(always)]
    unsafe fn join8(lo: __m256, hi: __m256) -> __m512 {
        let lo = _mm512_castpd256_pd512(_mm256_castps_pd(lo));
        _mm512_castpd_ps(_mm512_insertf64x4::<1>(lo, _mm256_castps_pd(hi)))
    }

    /// `fma(r, r, 1)` of `cabs_f32_finite` on 8 lanes: computed in f64, rounded to f32.
    /// (This and the helpers below are functions, not closures: a closure does not get
    /// the target features of its caller, so its intrinsics could stay calls.)
    #[inline(always)]
    unsafe fn square_plus_one(r: __m256) -> __m256 {
        let r = _mm512_cvtps_pd(r);
        _mm512_cvtpd_ps(_mm512_add_pd(_mm512_mul_pd(r, r), _mm512_set1_pd(1.0)))
    }

    /// Rows `a` and `a + 2` of 8 lanes of f64 at `data`, rounded to f32, in 16 lanes.
    #[inline(always)]
    unsafe fn pair16(data: *const f64, a: usize) -> __m512 {
        let lo = _mm512_cvtpd_ps(_mm512_loadu_pd(data.add(a * 8)));
        let hi = _mm512_cvtpd_ps(_mm512_loadu_pd(data.add((a + 2) * 8)));
        join8(lo, hi)
    }

    /// `cabs_f32_finite` on 16 lanes of f32 (AVX-512F).
    #[inline(always)]
    unsafe fn cabs16(re: __m512, im: __m512) -> __m512 {
        let (a, b) = (_mm512_abs_ps(re), _mm512_abs_ps(im));
        let ge = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(a, b);
        let larger = _mm512_mask_blend_ps(ge, b, a);
        let smaller = _mm512_mask_blend_ps(ge, a, b);
        let nonzero = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(larger, _mm512_setzero_ps());
        let ratio = _mm512_maskz_div_ps(nonzero, smaller, larger);
        let lo = square_plus_one(_mm512_castps512_ps256(ratio));
        let upper = _mm512_extractf64x4_pd::<1>(_mm512_castps_pd(ratio));
        let hi = square_plus_one(_mm256_castpd_ps(upper));
        let h = join8(lo, hi);
        _mm512_mul_ps(_mm512_sqrt_ps(h), larger)
    }

    /// `cabs_f32_finite` on 4 lanes of f32 (AVX for the f64 step).
    #[inline(always)]
    unsafe fn cabs4(re: __m128, im: __m128) -> __m128 {
        let sign = _mm_set1_ps(-0.0);
        let (a, b) = (_mm_andnot_ps(sign, re), _mm_andnot_ps(sign, im));
        let ge = _mm_cmpge_ps(a, b);
        let larger = _mm_blendv_ps(b, a, ge);
        let smaller = _mm_blendv_ps(a, b, ge);
        let ratio = _mm_div_ps(smaller, larger);
        let zero = _mm_cmpeq_ps(larger, _mm_setzero_ps());
        let ratio = _mm_blendv_ps(ratio, _mm_setzero_ps(), zero);
        let r = _mm256_cvtps_pd(ratio);
        let h = _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(r, r), _mm256_set1_pd(1.0)));
        _mm_mul_ps(_mm_sqrt_ps(h), larger)
    }

    /// Rows `r[j]` become columns: `r[j][l]` moves to `r[l][j]` (8 x 8 f32).
    #[inline(always)]
    unsafe fn transpose8(r: &mut [__m256; 8]) {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        r[0] = _mm256_permute2f128_ps::<0x20>(u0, u4);
        r[1] = _mm256_permute2f128_ps::<0x20>(u1, u5);
        r[2] = _mm256_permute2f128_ps::<0x20>(u2, u6);
        r[3] = _mm256_permute2f128_ps::<0x20>(u3, u7);
        r[4] = _mm256_permute2f128_ps::<0x31>(u0, u4);
        r[5] = _mm256_permute2f128_ps::<0x31>(u1, u5);
        r[6] = _mm256_permute2f128_ps::<0x31>(u2, u6);
        r[7] = _mm256_permute2f128_ps::<0x31>(u3, u7);
    }

    /// Whether all 8 values are finite.
    #[inline(always)]
    unsafe fn finite8(v: __m256) -> bool {
        let a = _mm256_andnot_ps(_mm256_set1_ps(-0.0), v);
        _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LT_OQ>(
            a,
            _mm256_set1_ps(f32::INFINITY),
        )) == 0xff
    }

    /// Whether all 4 values are finite.
    #[inline(always)]
    unsafe fn finite4(v: __m128) -> bool {
        let a = _mm_andnot_ps(_mm_set1_ps(-0.0), v);
        _mm_movemask_ps(_mm_cmplt_ps(a, _mm_set1_ps(f32::INFINITY))) == 0xf
    }

    impl StftLanes for F64x8 {
        #[inline(always)]
        unsafe fn magnitudes_lanes(data: *const f64, n: usize, out: *mut f32) -> bool {
            let mut finite = true;
            for (k, src) in [(0, 0), (n / 2, n - 1)] {
                let re = _mm512_cvtpd_ps(_mm512_loadu_pd(data.add(src * 8)));
                let m = cabs8(re, _mm256_setzero_ps());
                finite &= finite8(m);
                _mm256_storeu_ps(out.add(k * MAX_LANES), m);
            }
            // Two bins at a time in 16 lanes; the largest magnitude bits (as integers,
            // sign cleared) say at the end whether all were finite.
            let mut largest = _mm512_setzero_si512();
            let mut k = 1;
            while k + 2 <= n / 2 {
                let m = cabs16(pair16(data, 2 * k - 1), pair16(data, 2 * k));
                let bits = _mm512_and_si512(_mm512_castps_si512(m), _mm512_set1_epi32(i32::MAX));
                largest = _mm512_max_epu32(largest, bits);
                _mm512_storeu_ps(out.add(k * MAX_LANES), m);
                k += 2;
            }
            finite &= _mm512_reduce_max_epu32(largest) < f32::INFINITY.to_bits();
            for k in k..n / 2 {
                let re = _mm512_cvtpd_ps(_mm512_loadu_pd(data.add((2 * k - 1) * 8)));
                let im = _mm512_cvtpd_ps(_mm512_loadu_pd(data.add(2 * k * 8)));
                let m = cabs8(re, im);
                finite &= finite8(m);
                _mm256_storeu_ps(out.add(k * MAX_LANES), m);
            }
            finite
        }

        #[inline(always)]
        unsafe fn fill_frames(
            window: &[f64],
            y: *const f32,
            hop: usize,
            data: *mut f64,
            (groups, points): (usize, usize),
        ) {
            let n = window.len();
            let pos = |i: usize| (i % groups) * points + i / groups;
            let step = block_step(groups, points, 8);
            let mut i = 0;
            while i + 8 <= n {
                let mut r = [_mm256_setzero_ps(); 8];
                for (l, r) in r.iter_mut().enumerate() {
                    *r = _mm256_loadu_ps(y.add(l * hop + i));
                }
                transpose8(&mut r);
                let first = pos(i);
                for (j, row) in r.iter().enumerate() {
                    let v = _mm512_mul_pd(_mm512_set1_pd(window[i + j]), _mm512_cvtps_pd(*row));
                    let at = match step {
                        Some(step) => first + j * step,
                        None => pos(i + j),
                    };
                    _mm512_storeu_pd(data.add(at * 8), v);
                }
                i += 8;
            }
            for (i, &wi) in window.iter().enumerate().skip(i) {
                for l in 0..8 {
                    *data.add(pos(i) * 8 + l) = wi * *y.add(l * hop + i) as f64;
                }
            }
        }

        #[inline(always)]
        unsafe fn magnitudes(data: *const f64, n: usize, out: *mut f32, count: usize) -> bool {
            let nb = n / 2 + 1;
            let mut finite = true;
            let mut k = 1;
            while k + 8 <= n / 2 {
                let mut r = [_mm256_setzero_ps(); 8];
                for (j, r) in r.iter_mut().enumerate() {
                    let re = _mm512_cvtpd_ps(_mm512_loadu_pd(data.add((2 * (k + j) - 1) * 8)));
                    let im = _mm512_cvtpd_ps(_mm512_loadu_pd(data.add(2 * (k + j) * 8)));
                    *r = cabs8(re, im);
                }
                for row in &r {
                    finite &= finite8(*row);
                }
                transpose8(&mut r);
                for (l, row) in r.iter().enumerate().take(count) {
                    _mm256_storeu_ps(out.add(l * nb + k), *row);
                }
                k += 8;
            }
            // Bin 0 and the bins past the last whole block, one by one.
            for l in 0..count {
                finite &= magnitudes_scalar(data, n, 8, out, l, 0, 1);
                finite &= magnitudes_scalar(data, n, 8, out, l, k, nb);
            }
            finite
        }
    }

    impl StftLanes for F64x4 {
        #[inline(always)]
        unsafe fn magnitudes_lanes(data: *const f64, n: usize, out: *mut f32) -> bool {
            let mut finite = true;
            for (k, src) in [(0, 0), (n / 2, n - 1)] {
                let re = _mm256_cvtpd_ps(_mm256_loadu_pd(data.add(src * 4)));
                let m = cabs4(re, _mm_setzero_ps());
                finite &= finite4(m);
                _mm_storeu_ps(out.add(k * MAX_LANES), m);
            }
            let mut k = 1;
            while k < n / 2 {
                let re = _mm256_cvtpd_ps(_mm256_loadu_pd(data.add((2 * k - 1) * 4)));
                let im = _mm256_cvtpd_ps(_mm256_loadu_pd(data.add(2 * k * 4)));
                let m = cabs4(re, im);
                finite &= finite4(m);
                _mm_storeu_ps(out.add(k * MAX_LANES), m);
                k += 1;
            }
            finite
        }

        #[inline(always)]
        unsafe fn fill_frames(
            window: &[f64],
            y: *const f32,
            hop: usize,
            data: *mut f64,
            (groups, points): (usize, usize),
        ) {
            let n = window.len();
            let pos = |i: usize| (i % groups) * points + i / groups;
            let step = block_step(groups, points, 4);
            let mut i = 0;
            while i + 4 <= n {
                let mut r0 = _mm_loadu_ps(y.add(i));
                let mut r1 = _mm_loadu_ps(y.add(hop + i));
                let mut r2 = _mm_loadu_ps(y.add(2 * hop + i));
                let mut r3 = _mm_loadu_ps(y.add(3 * hop + i));
                _MM_TRANSPOSE4_PS(&mut r0, &mut r1, &mut r2, &mut r3);
                let first = pos(i);
                for (j, row) in [r0, r1, r2, r3].iter().enumerate() {
                    let v = _mm256_mul_pd(_mm256_set1_pd(window[i + j]), _mm256_cvtps_pd(*row));
                    let at = match step {
                        Some(step) => first + j * step,
                        None => pos(i + j),
                    };
                    _mm256_storeu_pd(data.add(at * 4), v);
                }
                i += 4;
            }
            for (i, &wi) in window.iter().enumerate().skip(i) {
                for l in 0..4 {
                    *data.add(pos(i) * 4 + l) = wi * *y.add(l * hop + i) as f64;
                }
            }
        }

        #[inline(always)]
        unsafe fn magnitudes(data: *const f64, n: usize, out: *mut f32, count: usize) -> bool {
            let nb = n / 2 + 1;
            let mut finite = true;
            let mut k = 1;
            while k + 4 <= n / 2 {
                let mut r = [_mm_setzero_ps(); 4];
                for (j, r) in r.iter_mut().enumerate() {
                    let re = _mm256_cvtpd_ps(_mm256_loadu_pd(data.add((2 * (k + j) - 1) * 4)));
                    let im = _mm256_cvtpd_ps(_mm256_loadu_pd(data.add(2 * (k + j) * 4)));
                    *r = cabs4(re, im);
                }
                let [mut r0, mut r1, mut r2, mut r3] = r;
                for row in [r0, r1, r2, r3] {
                    finite &= finite4(row);
                }
                _MM_TRANSPOSE4_PS(&mut r0, &mut r1, &mut r2, &mut r3);
                for (l, row) in [r0, r1, r2, r3].iter().enumerate().take(count) {
                    _mm_storeu_ps(out.add(l * nb + k), *row);
                }
                k += 4;
            }
            // Bin 0 and the bins past the last whole block, one by one.
            for l in 0..count {
                finite &= magnitudes_scalar(data, n, 4, out, l, 0, 1);
                finite &= magnitudes_scalar(data, n, 4, out, l, k, nb);
            }
            finite
        }
    }
}

/// `out[i] = window[i] * samples[i]` in f64.
fn apply_window(window: &[f64], samples: &[f32], out: &mut [f64]) {
    #[inline(always)]
    fn body(window: &[f64], samples: &[f32], out: &mut [f64]) {
        for ((o, &w), &x) in out.iter_mut().zip(window).zip(samples) {
            *o = w * x as f64;
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx")]
        unsafe fn avx(window: &[f64], samples: &[f32], out: &mut [f64]) {
            body(window, samples, out)
        }
        if crate::simd::avx() {
            // SAFETY: the CPU supports AVX, checked just above.
            return unsafe { avx(window, samples, out) };
        }
    }
    body(window, samples, out)
}

/// The f32 magnitudes of f64 FFT bins rounded to complex64; `re` and `im` are scratch
/// planes of the same length as `out`. Returns false if a magnitude is not finite (then
/// `out` must be redone with [`cabs_f32`]).
///
/// The same loop is compiled twice, with and without AVX; element-wise IEEE operations
/// (no fused multiply-add: Rust never contracts) give the same bits either way.
fn magnitudes(spectrum: &[Complex<f64>], re: &mut [f32], im: &mut [f32], out: &mut [f32]) -> bool {
    #[inline(always)]
    fn body(spectrum: &[Complex<f64>], re: &mut [f32], im: &mut [f32], out: &mut [f32]) -> bool {
        // Split into f32 planes first so that the magnitude loop vectorises.
        for ((r, i), c) in re.iter_mut().zip(im.iter_mut()).zip(spectrum) {
            *r = c.re as f32;
            *i = c.im as f32;
        }
        let mut finite = true;
        for ((o, &r), &i) in out.iter_mut().zip(re.iter()).zip(im.iter()) {
            let m = cabs_f32_finite(r, i);
            finite &= m.is_finite();
            *o = m;
        }
        finite
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx")]
        unsafe fn avx(
            spectrum: &[Complex<f64>],
            re: &mut [f32],
            im: &mut [f32],
            out: &mut [f32],
        ) -> bool {
            body(spectrum, re, im, out)
        }
        if crate::simd::avx() {
            // SAFETY: the CPU supports AVX, checked just above.
            return unsafe { avx(spectrum, re, im, out) };
        }
    }
    body(spectrum, re, im, out)
}

/// A planned STFT: window and FFT, built once, shared by threads (`Send + Sync`).
#[derive(Clone)]
pub struct Stft {
    n_fft: usize,
    hop_length: usize,
    window: Vec<f64>,
    /// scipy's own transform ([`crate::rfft`]), for power-of-two `n_fft`.
    exact: Option<RealFft>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl std::fmt::Debug for Stft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stft")
            .field("n_fft", &self.n_fft)
            .field("hop_length", &self.hop_length)
            .finish_non_exhaustive()
    }
}

/// Per-thread buffers of one [`Stft`], sized once by [`Stft::make_scratch`].
#[derive(Debug, Clone)]
pub struct StftScratch {
    input: Vec<f64>,
    output: Vec<Complex<f64>>,
    fft_scratch: Vec<Complex<f64>>,
    re: Vec<f32>,
    im: Vec<f32>,
    /// The frames of one batch, one per lane (`n_fft * MAX_LANES` values), and the
    /// transform's second buffer.
    lanes: AlignedF64,
    lanes_scratch: AlignedF64,
}

/// f64 values in 64-byte aligned memory.
#[derive(Clone)]
struct AlignedF64 {
    blocks: Vec<Block>,
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([f64; 8]);

impl std::fmt::Debug for AlignedF64 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AlignedF64({} values)", self.blocks.len() * 8)
    }
}

impl AlignedF64 {
    fn zeros(len: usize) -> Self {
        AlignedF64 {
            blocks: vec![Block([0.0; 8]); len.div_ceil(8)],
        }
    }

    fn as_mut_slice(&mut self, len: usize) -> &mut [f64] {
        let all: &mut [f64] = bytemuck_blocks(&mut self.blocks);
        &mut all[..len]
    }
}

/// The values of `blocks`, in order.
fn bytemuck_blocks(blocks: &mut [Block]) -> &mut [f64] {
    // SAFETY: `Block` is `repr(C)` around `[f64; 8]` with no padding (64 bytes, align
    // 64), so `n` blocks are `8 * n` consecutive f64 values.
    unsafe { std::slice::from_raw_parts_mut(blocks.as_mut_ptr().cast::<f64>(), blocks.len() * 8) }
}

impl Stft {
    /// Plans an STFT with a periodic Hann window of `n_fft` samples (`n_fft` even, >= 2)
    /// and `hop_length` (>= 1).
    pub fn new(n_fft: usize, hop_length: usize) -> Result<Self> {
        if n_fft < 2 || !n_fft.is_multiple_of(2) {
            return Err(Error::InvalidArgument(format!(
                "n_fft must be even and at least 2, got {n_fft}"
            )));
        }
        if hop_length == 0 {
            return Err(Error::InvalidArgument("hop_length must be positive".into()));
        }
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        let exact = if n_fft >= 4 && n_fft.is_power_of_two() {
            Some(RealFft::new(n_fft)?)
        } else {
            None
        };
        Ok(Stft {
            n_fft,
            hop_length,
            window: hann_periodic(n_fft),
            exact,
            fft,
        })
    }

    /// `n_fft`.
    pub fn n_fft(&self) -> usize {
        self.n_fft
    }

    /// `hop_length`.
    pub fn hop_length(&self) -> usize {
        self.hop_length
    }

    /// Number of frequency bins, `1 + n_fft / 2`.
    pub fn n_bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// The analysis window.
    pub fn window(&self) -> &[f64] {
        &self.window
    }

    /// Number of frames for a signal of `n_samples` samples.
    pub fn n_frames(&self, n_samples: usize) -> usize {
        n_frames(n_samples, self.hop_length)
    }

    /// Buffers for [`Stft::magnitude_frame`].
    pub fn make_scratch(&self) -> StftScratch {
        StftScratch {
            input: self.fft.make_input_vec(),
            output: self.fft.make_output_vec(),
            fft_scratch: self.fft.make_scratch_vec(),
            re: vec![0.0; self.n_bins()],
            im: vec![0.0; self.n_bins()],
            lanes: AlignedF64::zeros(if self.exact.is_some() {
                self.n_fft * MAX_LANES
            } else {
                0
            }),
            lanes_scratch: AlignedF64::zeros(if self.exact.is_some() {
                self.n_fft * MAX_LANES
            } else {
                0
            }),
        }
    }

    /// Writes `|STFT|` of the `out.len() / n_bins` frames from `first` on into `out`,
    /// frame after frame (`n_bins` values each). With a power-of-two `n_fft` the frames
    /// are transformed several at a time, one per SIMD lane ([`crate::simd`]), by
    /// scipy's own algorithm ([`crate::rfft`]): the values are librosa's, bit for bit,
    /// whichever instruction set runs.
    ///
    /// Fails only if `scratch` or `out` do not belong to this plan's sizes.
    pub fn magnitude_frames(
        &self,
        y: &[f32],
        first: usize,
        scratch: &mut StftScratch,
        out: &mut [f32],
    ) -> Result<()> {
        self.magnitude_frames_with(crate::simd::best(), y, first, scratch, out)
    }

    /// [`magnitude_frames`](Self::magnitude_frames) with the given instruction set,
    /// which must be [available](Isa::available).
    pub fn magnitude_frames_with(
        &self,
        isa: Isa,
        y: &[f32],
        first: usize,
        scratch: &mut StftScratch,
        out: &mut [f32],
    ) -> Result<()> {
        let nb = self.n_bins();
        if !out.len().is_multiple_of(nb) || scratch.input.len() != self.n_fft {
            return Err(Error::InvalidArgument(format!(
                "STFT buffers sized for n_fft {} / {} values, plan has n_fft {}",
                scratch.input.len(),
                out.len(),
                self.n_fft
            )));
        }
        let Some(exact) = &self.exact else {
            for (i, frame) in out.chunks_exact_mut(nb).enumerate() {
                self.magnitude_frame(y, first + i, scratch, frame)?;
            }
            return Ok(());
        };
        isa.require()?;
        let w = isa.lanes();
        let len = self.n_fft * w;
        let data = scratch.lanes.as_mut_slice(len);
        let tmp = scratch.lanes_scratch.as_mut_slice(len);
        for (b, chunk) in out.chunks_mut(w * nb).enumerate() {
            let start = first + b * w;
            // SAFETY: `isa` is available (checked above); the buffers hold n_fft * w
            // values and `chunk` whole frames.
            unsafe {
                self.batch_dispatch(isa, exact, y, start, data, tmp, Emit::Frames(chunk));
            }
        }
        Ok(())
    }

    /// `|STFT|` of the [`MAX_LANES`] frames from `first` on, in lanes: value
    /// `k * MAX_LANES + l` of `out` is bin `k` of frame `first + l` (`n_bins * MAX_LANES`
    /// values). Frames past the signal's last are those of its zero padding (silence).
    /// The values are those of [`magnitude_frames`](Self::magnitude_frames), for the
    /// kernels that take frames side by side.
    pub fn magnitude_lanes(
        &self,
        y: &[f32],
        first: usize,
        scratch: &mut StftScratch,
        out: &mut [f32],
    ) -> Result<()> {
        self.magnitude_lanes_with(crate::simd::best(), y, first, scratch, out)
    }

    /// [`magnitude_lanes`](Self::magnitude_lanes) with the given instruction set, which
    /// must be [available](Isa::available).
    pub fn magnitude_lanes_with(
        &self,
        isa: Isa,
        y: &[f32],
        first: usize,
        scratch: &mut StftScratch,
        out: &mut [f32],
    ) -> Result<()> {
        let nb = self.n_bins();
        if out.len() != nb * MAX_LANES || scratch.input.len() != self.n_fft {
            return Err(Error::InvalidArgument(format!(
                "STFT lanes of {} values, n_fft {} needs {}",
                out.len(),
                self.n_fft,
                nb * MAX_LANES
            )));
        }
        let Some(exact) = &self.exact else {
            let mut frame = vec![0.0f32; nb];
            for l in 0..MAX_LANES {
                self.magnitude_frame(y, first + l, scratch, &mut frame)?;
                for (k, &v) in frame.iter().enumerate() {
                    out[k * MAX_LANES + l] = v;
                }
            }
            return Ok(());
        };
        isa.require()?;
        let w = isa.lanes();
        let len = self.n_fft * w;
        let data = scratch.lanes.as_mut_slice(len);
        let tmp = scratch.lanes_scratch.as_mut_slice(len);
        for offset in (0..MAX_LANES).step_by(w) {
            // SAFETY: `isa` is available (checked above); the buffers hold n_fft * w
            // values and `out` n_bins * MAX_LANES.
            unsafe {
                self.batch_dispatch(
                    isa,
                    exact,
                    y,
                    first + offset,
                    data,
                    tmp,
                    Emit::Lanes(out, offset),
                );
            }
        }
        Ok(())
    }

    /// [`batch`](Self::batch) compiled for `isa`.
    ///
    /// # Safety
    /// As [`batch`](Self::batch); `isa` is available.
    #[allow(clippy::too_many_arguments)]
    unsafe fn batch_dispatch(
        &self,
        isa: Isa,
        exact: &RealFft,
        y: &[f32],
        first: usize,
        data: &mut [f64],
        tmp: &mut [f64],
        emit: Emit<'_>,
    ) {
        crate::simd::dispatch!(isa, <_I, V>(
            s: &Stft = self,
            exact: &RealFft = exact,
            y: &[f32] = y,
            first: usize = first,
            data: &mut [f64] = data,
            tmp: &mut [f64] = tmp,
            emit: Emit<'_> = emit,
        ) {
            s.batch::<V>(exact, y, first, data, tmp, emit)
        })
    }

    /// Up to `V::W` frames from `first` on (`out.len() / n_bins` of them), one per lane:
    /// windowed into `data`, transformed, and their magnitudes written to `out`.
    ///
    /// # Safety
    /// The CPU has `V`'s instructions; `data` and `tmp` hold `n_fft * V::W` values.
    #[inline(always)]
    unsafe fn batch<V: StftLanes>(
        &self,
        exact: &RealFft,
        y: &[f32],
        first: usize,
        data: &mut [f64],
        tmp: &mut [f64],
        emit: Emit<'_>,
    ) {
        let (n, w, nb, hop) = (self.n_fft, V::W, self.n_bins(), self.hop_length);
        debug_assert!(data.len() == n * w);
        // Signal index of lane l's first sample (lanes past `count` take the frames
        // after; their results are not written).
        let start = |l: usize| ((first + l) * hop) as i64 - (n / 2) as i64;
        let inside = start(0) >= 0 && start(w - 1) + n as i64 <= y.len() as i64;
        // The frames go in the transform's decimated order (see RealFft::decimation).
        let (groups, points) = exact.decimation();
        if inside {
            // Every lane reads n samples of y, lanes `hop` apart.
            V::fill_frames(
                &self.window,
                y.as_ptr().add(start(0) as usize),
                hop,
                data.as_mut_ptr(),
                (groups, points),
            );
        } else {
            for l in 0..w {
                let s = start(l);
                for (i, &wi) in self.window.iter().enumerate() {
                    let j = s + i as i64;
                    let x = if j >= 0 && j < y.len() as i64 {
                        wi * y[j as usize] as f64
                    } else {
                        0.0
                    };
                    data[((i % groups) * points + i / groups) * w + l] = x;
                }
            }
        }
        exact.forward_decimated::<V>(data, tmp);
        // Halfcomplex r0, r1, i1, ..., r(n/2): bin k is (r(2k-1), r(2k)), with zero
        // imaginary parts at 0 and n/2; librosa stores it as complex64, then takes abs.
        let bin = |k: usize, l: usize| -> (f32, f32) {
            if k == 0 {
                (data[l] as f32, 0.0)
            } else if k == nb - 1 {
                (data[(n - 1) * w + l] as f32, 0.0)
            } else {
                (data[(2 * k - 1) * w + l] as f32, data[2 * k * w + l] as f32)
            }
        };
        match emit {
            Emit::Frames(out) => {
                let count = out.len() / nb;
                debug_assert!(count >= 1 && count <= w);
                if !V::magnitudes(data.as_ptr(), n, out.as_mut_ptr(), count) {
                    for l in 0..count {
                        for k in 0..nb {
                            let (re, im) = bin(k, l);
                            out[l * nb + k] = cabs_f32(re, im);
                        }
                    }
                }
            }
            Emit::Lanes(out, offset) => {
                debug_assert!(offset + w <= MAX_LANES && out.len() == nb * MAX_LANES);
                if !V::magnitudes_lanes(data.as_ptr(), n, out.as_mut_ptr().add(offset)) {
                    for l in 0..w {
                        for k in 0..nb {
                            let (re, im) = bin(k, l);
                            out[k * MAX_LANES + offset + l] = cabs_f32(re, im);
                        }
                    }
                }
            }
        }
    }

    /// Writes `|STFT|` of frame `frame` of `y` into `out` (`n_bins` values).
    ///
    /// Fails only if `scratch` or `out` do not belong to this plan's sizes.
    pub fn magnitude_frame(
        &self,
        y: &[f32],
        frame: usize,
        scratch: &mut StftScratch,
        out: &mut [f32],
    ) -> Result<()> {
        if self.exact.is_some() && out.len() == self.n_bins() {
            return self.magnitude_frames_with(Isa::Scalar, y, frame, scratch, out);
        }
        if out.len() != self.n_bins() || scratch.input.len() != self.n_fft {
            return Err(Error::InvalidArgument(format!(
                "STFT buffers sized for n_fft {} / {} bins, plan has n_fft {}",
                scratch.input.len(),
                out.len(),
                self.n_fft
            )));
        }
        self.windowed_frame(y, frame, &mut scratch.input);
        self.fft
            .process_with_scratch(
                &mut scratch.input,
                &mut scratch.output,
                &mut scratch.fft_scratch,
            )
            .map_err(|e| Error::InvalidArgument(format!("FFT buffers: {e}")))?;
        // librosa stores the complex128 FFT in a complex64 matrix, then takes abs.
        let finite = magnitudes(&scratch.output, &mut scratch.re, &mut scratch.im, out);
        if !finite {
            // Non-finite parts (or an overflow): numpy's special cases, value by value.
            for ((o, &re), &im) in out.iter_mut().zip(&scratch.re).zip(&scratch.im) {
                *o = cabs_f32(re, im);
            }
        }
        Ok(())
    }

    /// Copies frame `frame` of the zero-padded, centred signal into `buf`, windowed.
    fn windowed_frame(&self, y: &[f32], frame: usize, buf: &mut [f64]) {
        let n = buf.len().min(self.window.len());
        // Signal index of buf[0]; negative in the left padding.
        let start = (frame * self.hop_length) as i64 - (self.n_fft / 2) as i64;
        // buf[a..b] overlaps the signal, zeros elsewhere.
        let a = (-start).clamp(0, n as i64) as usize;
        let b = (y.len() as i64 - start).clamp(a as i64, n as i64) as usize;
        buf[..a].fill(0.0);
        buf[b..].fill(0.0);
        if b > a {
            let first = (start + a as i64) as usize;
            let samples = &y[first..first + (b - a)];
            apply_window(&self.window[a..b], samples, &mut buf[a..b]);
        }
    }

    /// `np.abs(librosa.stft(y))` for a whole signal: `n_bins x n_frames`.
    ///
    /// Keeps the whole spectrogram: for tests and short signals. The feature pipeline
    /// ([`crate::stft_branch`]) streams frames instead.
    pub fn magnitude(&self, y: &[f32]) -> Result<Frames> {
        let n_frames = self.n_frames(y.len());
        let mut out = Frames::zeros(self.n_bins(), n_frames);
        let mut scratch = self.make_scratch();
        self.magnitude_frames(y, 0, &mut scratch, &mut out.data)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_count_formula() {
        // librosa: 1 + len // hop with center=True, even below one frame.
        for (len, want) in [
            (0, 1),
            (1, 1),
            (100, 1),
            (511, 1),
            (512, 2),
            (2047, 4),
            (2048, 5),
            (2049, 5),
        ] {
            assert_eq!(n_frames(len, 512), want, "len {len}");
            let stft = Stft::new(2048, 512).unwrap();
            let m = stft.magnitude(&vec![0.25; len]).unwrap();
            assert_eq!((m.n_rows, m.n_frames), (1025, want), "len {len}");
            assert!(m.data.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn window_is_periodic_hann() {
        let w = hann_periodic(2048);
        assert_eq!(w[0], 0.0);
        // Periodic: the peak is at n/2 and the window is symmetric about it.
        assert!((w[1024] - 1.0).abs() < 1e-15);
        for n in 1..1024 {
            assert!((w[n] - w[2048 - n]).abs() < 1e-15, "n {n}");
            let direct = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / 2048.0).cos();
            assert!((w[n] - direct).abs() < 1e-15, "n {n}");
        }
    }

    #[test]
    fn cabs_matches_an_exact_fma() {
        // f32::mul_add is a true single-rounding fma (libm); the f64 form must agree.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            f32::from_bits((state >> 32) as u32 & 0x7f7f_ffff) // finite, positive
        };
        for _ in 0..200_000 {
            let (a, b) = (next(), next());
            let (l, s) = if a >= b { (a, b) } else { (b, a) };
            let r = s / l;
            let want = r.mul_add(r, 1.0).sqrt() * l;
            assert_eq!(cabs_f32(a, -b).to_bits(), want.to_bits(), "{a} {b}");
        }
        assert_eq!(cabs_f32(0.0, 0.0), 0.0);
        assert_eq!(cabs_f32(3.0, 4.0), 5.0);
        assert_eq!(cabs_f32(f32::INFINITY, f32::NAN), f32::INFINITY);
        assert_eq!(cabs_f32(-3.0, f32::NEG_INFINITY), f32::INFINITY);
        assert!(cabs_f32(f32::NAN, 1.0).is_nan());
        assert!(cabs_f32(0.0, f32::NAN).is_nan());
        // The branch-free kernel flags every non-finite input.
        for (a, b) in [
            (f32::NAN, 1.0),
            (1.0, f32::NAN),
            (f32::INFINITY, 0.0),
            (0.0, f32::INFINITY),
        ] {
            assert!(!cabs_f32_finite(a, b).is_finite(), "{a} {b}");
        }
    }

    #[test]
    fn sine_at_a_bin_peaks_there() {
        let stft = Stft::new(2048, 512).unwrap();
        let k = 100;
        let y: Vec<f32> = (0..8192)
            .map(|n| (2.0 * std::f64::consts::PI * k as f64 * n as f64 / 2048.0).sin() as f32)
            .collect();
        let m = stft.magnitude(&y).unwrap();
        let frame = m.frame(8);
        let peak = (0..frame.len())
            .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
            .unwrap();
        assert_eq!(peak, k);
        // A unit sine under a Hann window of sum n/2 gives n/4 at its bin.
        assert!((frame[k] - 512.0).abs() < 1e-3, "{}", frame[k]);
    }

    #[test]
    fn fft_frequencies_are_rfftfreq() {
        let f = fft_frequencies(22050.0, 2048);
        assert_eq!(f.len(), 1025);
        assert_eq!(f[0], 0.0);
        assert_eq!(f[1024], 11025.0);
        assert!((f[1] - 22050.0 / 2048.0).abs() < 1e-12);
    }

    #[test]
    fn every_instruction_set_and_batch_gives_the_same_bits() {
        // Signals shorter than a frame, around batch and frame edges, quiet and loud,
        // and one whose spectrum overflows f32 (numpy's infinite magnitudes).
        let stft = Stft::new(2048, 512).unwrap();
        let mut scratch = stft.make_scratch();
        let mut state = 11u64;
        for (len, scale) in [
            (0usize, 1.0f32),
            (1, 1.0),
            (700, 1.0),
            (2047, 1e-30),
            (2048, 1.0),
            (4609, 3e4),
            (9000, 1.0),
            (20_000, 3e37),
        ] {
            let y: Vec<f32> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale
                })
                .collect();
            let n_frames = stft.n_frames(len);
            let mut one_by_one = vec![0.0f32; n_frames * 1025];
            for (t, frame) in one_by_one.chunks_exact_mut(1025).enumerate() {
                stft.magnitude_frame(&y, t, &mut scratch, frame).unwrap();
            }
            if scale > 1e37 {
                assert!(one_by_one.iter().any(|v| v.is_infinite()));
            }
            for isa in Isa::all_available() {
                for (first, batch) in [(0usize, 8usize), (1, 8), (0, 3), (2, 5)] {
                    if first >= n_frames {
                        continue;
                    }
                    let mut out = vec![0.0f32; (n_frames - first) * 1025];
                    for (b, chunk) in out.chunks_mut(batch * 1025).enumerate() {
                        stft.magnitude_frames_with(isa, &y, first + b * batch, &mut scratch, chunk)
                            .unwrap();
                    }
                    let same = out
                        .iter()
                        .zip(&one_by_one[first * 1025..])
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(same, "len {len} {isa:?} first {first} batch {batch}");
                }
            }
        }
    }

    #[test]
    fn lanes_hold_the_frames_magnitudes() {
        let stft = Stft::new(2048, 512).unwrap();
        let mut scratch = stft.make_scratch();
        let mut state = 3u64;
        for (len, scale) in [(0usize, 1.0f32), (3000, 1.0), (9000, 1e-20), (30_000, 3e37)] {
            let y: Vec<f32> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale
                })
                .collect();
            let n_frames = stft.n_frames(len);
            let mut frames = vec![0.0f32; (n_frames + MAX_LANES) * 1025];
            for (t, frame) in frames.chunks_exact_mut(1025).enumerate() {
                stft.magnitude_frame(&y, t, &mut scratch, frame).unwrap();
            }
            for isa in Isa::all_available() {
                for first in [0usize, 1, n_frames.saturating_sub(2)] {
                    let mut lanes = vec![f32::NAN; 1025 * MAX_LANES];
                    stft.magnitude_lanes_with(isa, &y, first, &mut scratch, &mut lanes)
                        .unwrap();
                    for l in 0..MAX_LANES {
                        for k in 0..1025 {
                            assert_eq!(
                                lanes[k * MAX_LANES + l].to_bits(),
                                frames[(first + l) * 1025 + k].to_bits(),
                                "len {len} {isa:?} first {first} lane {l} bin {k}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn rejects_odd_or_zero_sizes() {
        assert!(Stft::new(2047, 512).is_err());
        assert!(Stft::new(0, 512).is_err());
        assert!(Stft::new(2048, 0).is_err());
        let stft = Stft::new(2048, 512).unwrap();
        let mut scratch = stft.make_scratch();
        let mut out = vec![0.0; 10];
        assert!(stft
            .magnitude_frame(&[0.0; 10], 0, &mut scratch, &mut out)
            .is_err());
    }
}
