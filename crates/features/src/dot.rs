//! The inner product every bank shares (mel, chroma, DCT): f32 weights against f64
//! values, accumulated in f64 in a fixed order, with an AVX path chosen at run time.
//!
//! Element `i` goes to partial sum `i mod 16`; the 16 sums are added as a fixed tree
//! (`s[j] + s[j + 8]`, then `+ s[j + 4]`, then `(q0 + q2) + (q1 + q3)`), then the tail
//! of fewer than 16 elements in order. The AVX path keeps those 16 sums in four 256-bit
//! registers and performs exactly the same IEEE operations (Rust never fuses a multiply
//! and an add by itself), so both paths give the same bits on every machine.

use crate::simd::{Lanes8, MAX_LANES};

/// `sum w[i] * x[i]` over the common length, accumulated in f64.
#[inline]
pub(crate) fn dot(w: &[f32], x: &[f64]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::avx() {
            // SAFETY: the CPU supports AVX, checked just above.
            return unsafe { avx::dot(w, x) };
        }
    }
    portable(w, x)
}

/// [`dot`] of two f32 slices: the same f64 products (exact: f32 x f32 fits in f64) summed
/// in the same order, so `dot_f32(w, x) == dot(w, widen(x))` bit for bit, without the
/// widened copy of `x`.
#[inline]
pub(crate) fn dot_f32(w: &[f32], x: &[f32]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::avx() {
            // SAFETY: the CPU supports AVX, checked just above.
            return unsafe { avx::dot_f32(w, x) };
        }
    }
    portable_f32(w, x)
}

/// Converts `src` to f64 into `dst` (the common length).
#[inline]
pub(crate) fn widen(src: &[f32], dst: &mut [f64]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s as f64;
    }
}

/// The values a lane dot product takes: value `i` as 8 lanes of f64. Implemented by
/// types rather than passed as a closure, since a closure does not get the target
/// features of its caller (see [`crate::simd::tree8`]).
pub(crate) trait LaneValues<I: Lanes8> {
    /// Value `i`.
    ///
    /// # Safety
    /// `i` is in range; the CPU has `I`'s instructions.
    unsafe fn value(&self, i: usize) -> I::D;
}

/// Values already widened, one `I::D` each.
pub(crate) struct Widened<'a, I: Lanes8>(pub &'a [I::D]);

impl<I: Lanes8> LaneValues<I> for Widened<'_, I> {
    #[inline(always)]
    unsafe fn value(&self, i: usize) -> I::D {
        self.0[i]
    }
}

/// f32 values in lanes (value `i` at `i * MAX_LANES`), widened as they are read.
pub(crate) struct F32Lanes(pub *const f32);

impl<I: Lanes8> LaneValues<I> for F32Lanes {
    #[inline(always)]
    unsafe fn value(&self, i: usize) -> I::D {
        I::d_from_f(I::f_load(self.0.add(i * MAX_LANES)))
    }
}

/// [`dot`] on 8 lanes at once: `sum w[i] * x(i)` over `i < w.len()`, in the same order
/// (partial sums `i mod 16`, their tree, then the tail), so each lane gets the bits
/// [`dot`] gives. The products must be exact in f64 (f32 weights times widened f32
/// values are), as [`Lanes8::d_mul_add_exact`] asks.
///
/// # Safety
/// `x` has a value for every `i < w.len()`; the CPU has `I`'s instructions.
#[inline(always)]
pub(crate) unsafe fn dot_lanes<I: Lanes8>(w: &[f32], x: &impl LaneValues<I>) -> I::D {
    let blocks = w.len() / 16;
    let mut sum = I::d_splat(0.0);
    if blocks > 0 {
        let mut acc = [I::d_splat(0.0); 16];
        for b in 0..blocks {
            for (j, a) in acc.iter_mut().enumerate() {
                let i = b * 16 + j;
                *a = I::d_mul_add_exact(I::d_splat(w[i] as f64), x.value(i), *a);
            }
        }
        sum = crate::simd::tree16::<I>(&acc);
    }
    for (i, &wi) in w.iter().enumerate().skip(blocks * 16) {
        sum = I::d_mul_add_exact(I::d_splat(wi as f64), x.value(i), sum);
    }
    sum
}

fn portable(w: &[f32], x: &[f64]) -> f64 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [0.0f64; 16];
    let mut cw = w.chunks_exact(16);
    let mut cx = x.chunks_exact(16);
    for (a, b) in (&mut cw).zip(&mut cx) {
        for j in 0..16 {
            acc[j] += a[j] as f64 * b[j];
        }
    }
    finish(&acc, cw.remainder(), cx.remainder())
}

fn portable_f32(w: &[f32], x: &[f32]) -> f64 {
    let n = w.len().min(x.len());
    let (w, x) = (&w[..n], &x[..n]);
    let mut acc = [0.0f64; 16];
    let mut cw = w.chunks_exact(16);
    let mut cx = x.chunks_exact(16);
    for (a, b) in (&mut cw).zip(&mut cx) {
        for j in 0..16 {
            acc[j] += a[j] as f64 * b[j] as f64;
        }
    }
    finish_f32(&acc, cw.remainder(), cx.remainder())
}

/// [`finish`] with an f32 tail.
#[inline(always)]
fn finish_f32(acc: &[f64; 16], w_tail: &[f32], x_tail: &[f32]) -> f64 {
    let mut sum = finish(acc, &[], &[]);
    for (a, b) in w_tail.iter().zip(x_tail) {
        sum += *a as f64 * *b as f64;
    }
    sum
}

/// The fixed reduction of the 16 partial sums, then the tail in order.
#[inline(always)]
fn finish(acc: &[f64; 16], w_tail: &[f32], x_tail: &[f64]) -> f64 {
    let mut h = [0.0f64; 8];
    for j in 0..8 {
        h[j] = acc[j] + acc[j + 8];
    }
    let mut q = [0.0f64; 4];
    for j in 0..4 {
        q[j] = h[j] + h[j + 4];
    }
    let mut sum = (q[0] + q[2]) + (q[1] + q[3]);
    for (a, b) in w_tail.iter().zip(x_tail) {
        sum += *a as f64 * *b;
    }
    sum
}

#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx")]
    pub(super) unsafe fn dot(w: &[f32], x: &[f64]) -> f64 {
        let n = w.len().min(x.len());
        let blocks = n / 16;
        let (wp, xp) = (w.as_ptr(), x.as_ptr());
        let mut acc = [_mm256_setzero_pd(); 4];
        for b in 0..blocks {
            let i = b * 16;
            for (j, a) in acc.iter_mut().enumerate() {
                // SAFETY: i + 4 j + 4 <= 16 * blocks <= n, within both slices.
                let wv = _mm256_cvtps_pd(_mm_loadu_ps(wp.add(i + 4 * j)));
                let xv = _mm256_loadu_pd(xp.add(i + 4 * j));
                *a = _mm256_add_pd(*a, _mm256_mul_pd(wv, xv));
            }
        }
        let mut sums = [0.0f64; 16];
        for (j, a) in acc.iter().enumerate() {
            // SAFETY: 4 j + 4 <= 16.
            _mm256_storeu_pd(sums.as_mut_ptr().add(4 * j), *a);
        }
        let done = blocks * 16;
        super::finish(&sums, &w[done..n], &x[done..n])
    }

    #[target_feature(enable = "avx")]
    pub(super) unsafe fn dot_f32(w: &[f32], x: &[f32]) -> f64 {
        let n = w.len().min(x.len());
        let blocks = n / 16;
        let (wp, xp) = (w.as_ptr(), x.as_ptr());
        let mut acc = [_mm256_setzero_pd(); 4];
        for b in 0..blocks {
            let i = b * 16;
            for (j, a) in acc.iter_mut().enumerate() {
                // SAFETY: i + 4 j + 4 <= 16 * blocks <= n, within both slices.
                let wv = _mm256_cvtps_pd(_mm_loadu_ps(wp.add(i + 4 * j)));
                let xv = _mm256_cvtps_pd(_mm_loadu_ps(xp.add(i + 4 * j)));
                *a = _mm256_add_pd(*a, _mm256_mul_pd(wv, xv));
            }
        }
        let mut sums = [0.0f64; 16];
        for (j, a) in acc.iter().enumerate() {
            // SAFETY: 4 j + 4 <= 16.
            _mm256_storeu_pd(sums.as_mut_ptr().add(4 * j), *a);
        }
        let done = blocks * 16;
        super::finish_f32(&sums, &w[done..n], &x[done..n])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_gives_the_same_bits() {
        let w: Vec<f32> = (0..1027)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 3.0)
            .collect();
        let x: Vec<f64> = (0..1027).map(|i| ((i * 53 % 97) as f64).sqrt()).collect();
        for n in [0, 1, 7, 15, 16, 17, 100, 1025, 1027] {
            let slow: f64 = w[..n].iter().zip(&x[..n]).map(|(a, b)| *a as f64 * b).sum();
            let fast = dot(&w[..n], &x[..n]);
            assert_eq!(
                fast.to_bits(),
                portable(&w[..n], &x[..n]).to_bits(),
                "n {n}"
            );
            // Another order of the same exact f64 products: a few ulps apart.
            assert!((fast - slow).abs() <= 1e-12 * slow.abs().max(1.0), "n {n}");
        }
        // The f32 form is the f64 form on widened values, to the bit.
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut x64 = vec![0.0; x32.len()];
        widen(&x32, &mut x64);
        for n in [0, 1, 7, 15, 16, 17, 100, 1025, 1027] {
            let want = dot(&w[..n], &x64[..n]).to_bits();
            assert_eq!(dot_f32(&w[..n], &x32[..n]).to_bits(), want, "n {n}");
            assert_eq!(portable_f32(&w[..n], &x32[..n]).to_bits(), want, "n {n}");
        }
        // Mismatched lengths use the common part.
        assert_eq!(dot(&w[..20], &x[..18]), portable(&w[..18], &x[..18]));
    }
}
