//! Real FFTs that give scipy's `scipy.fft.rfft` bits (what librosa's `stft` calls), on
//! several frames at once, one frame per SIMD lane.
//!
//! scipy transforms real input with pocketfft's `rfftp`: FFTPACK's real radix-4 and
//! radix-2 passes (`radf4`, `radf2`) in double precision, with twiddles from
//! `sincos_2pibyn`. For lengths that are powers of two, this module makes the same
//! factorisation, the same twiddles (computed the same way, with the system `sin` and
//! `cos` scipy calls too) and the same operations in the same order, so every output
//! value has the bits scipy gives (`tests/reference_rfft.rs` checks them against scipy's
//! output). Running `W` frames side by side, one per lane of `[f64; W]` values, each lane
//! does exactly the scalar arithmetic, and the loops over lanes become vector
//! instructions (AVX-512 for 8 lanes where the CPU has it).

use crate::error::{Error, Result};
use crate::simd::Isa;

/// A forward real FFT of `n` points (a power of two, at least 2), in pocketfft's
/// halfcomplex output order: `r0, r1, i1, r2, i2, ..., r(n/2)`.
#[derive(Debug, Clone)]
pub struct RealFft {
    n: usize,
    /// pocketfft's factors, first to last (a 2, if any, comes first).
    factors: Vec<usize>,
    /// The twiddles of each factor but the last, as `rfftp::comp_twiddle` lays them out.
    twiddles: Vec<Vec<f64>>,
    /// How many of the first passes [`forward_decimated`](Self::forward_decimated) runs
    /// on sub-transforms that fit the L1 cache.
    fused: usize,
}

/// The most points of a sub-transform of [`RealFft::forward_decimated`]: with 8 lanes,
/// two buffers of 16 KB.
const MAX_FUSED_POINTS: usize = 256;

impl RealFft {
    /// The plan for `n` points; `n` must be a power of two of at least 2.
    pub fn new(n: usize) -> Result<Self> {
        if n < 2 || !n.is_power_of_two() {
            return Err(Error::InvalidArgument(format!(
                "real FFT length {n} is not a power of two of at least 2"
            )));
        }
        let mut factors = Vec::new();
        let mut len = n;
        while len.is_multiple_of(4) {
            factors.push(4);
            len /= 4;
        }
        if len.is_multiple_of(2) {
            factors.push(2);
            let last = factors.len() - 1;
            factors.swap(0, last);
        }
        let table = SinCos2PiByN::new(n);
        let mut twiddles = Vec::with_capacity(factors.len());
        let mut l1 = 1;
        for (k, &ip) in factors.iter().enumerate() {
            let ido = n / (l1 * ip);
            let mut tw = Vec::new();
            if k + 1 < factors.len() {
                tw = vec![0.0; (ip - 1) * (ido - 1)];
                for j in 1..ip {
                    for i in 1..=(ido - 1) / 2 {
                        let (re, im) = table.get(j * l1 * i);
                        tw[(j - 1) * (ido - 1) + 2 * i - 2] = re;
                        tw[(j - 1) * (ido - 1) + 2 * i - 1] = im;
                    }
                }
            }
            twiddles.push(tw);
            l1 *= ip;
        }
        // Passes run from the last factor to the first; the first `fused` of them make
        // sub-transforms of at most MAX_FUSED_POINTS points.
        let (mut fused, mut m) = (0, 1);
        for &ip in factors.iter().rev() {
            if m * ip > MAX_FUSED_POINTS {
                break;
            }
            m *= ip;
            fused += 1;
        }
        Ok(RealFft {
            n,
            factors,
            twiddles,
            fused,
        })
    }

    /// The transform length.
    pub fn len(&self) -> usize {
        self.n
    }

    /// `(groups, points)` of [`forward_decimated`](Self::forward_decimated)'s input
    /// order: value `i` of a frame goes to position `(i % groups) * points + i / groups`.
    pub fn decimation(&self) -> (usize, usize) {
        let m: usize = self.factors[self.factors.len() - self.fused..]
            .iter()
            .product();
        (self.n / m, m)
    }

    /// Always false: a plan has at least 2 points.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// [`forward`](Self::forward) with the instruction set `isa` (which must be
    /// [available](Isa::available)): `isa.lanes()` frames, `data[i * lanes + l]` being
    /// value `i` of frame `l`.
    pub fn forward_with(&self, isa: Isa, data: &mut [f64], scratch: &mut [f64]) -> Result<()> {
        let len = self.n * isa.lanes();
        if data.len() != len || scratch.len() != len {
            return Err(Error::InvalidArgument(format!(
                "real FFT buffers of {} and {} values, {len} expected",
                data.len(),
                scratch.len()
            )));
        }
        isa.require()?;
        // SAFETY: the CPU has the instructions (checked above).
        unsafe {
            crate::simd::dispatch!(isa, <_I, V>(
                p: &RealFft = self,
                data: &mut [f64] = data,
                scratch: &mut [f64] = scratch,
            ) {
                p.forward::<V>(data, scratch)
            })
        };
        Ok(())
    }

    /// [`forward`](Self::forward) on input in decimated order (see
    /// [`decimation`](Self::decimation)): the first passes, whose data flow splits into
    /// `groups` independent sub-transforms of the values `i = g, g + groups, ...`, run on
    /// one sub-transform at a time, in the L1 cache, instead of sweeping all the data
    /// once per pass; each value gets the same operations as in `forward`, so the output
    /// (in natural order) has the same bits.
    ///
    /// # Safety
    /// The CPU has `V`'s instructions.
    #[inline(always)]
    pub unsafe fn forward_decimated<V: F64s>(&self, data: &mut [f64], scratch: &mut [f64]) {
        let n = self.n;
        assert!(data.len() == n * V::W && scratch.len() == n * V::W);
        let (groups, m) = self.decimation();
        for g in 0..groups {
            let mut l1 = n;
            for k1 in 0..self.fused {
                // SAFETY: sub-transform g holds m vectors from vector g * m.
                l1 = self.pass::<V>(k1, l1, (groups, g * m), data, scratch);
            }
        }
        let mut l1 = n / m;
        for k1 in self.fused..self.factors.len() {
            // SAFETY: both buffers hold the n vectors.
            l1 = self.pass::<V>(k1, l1, (1, 0), data, scratch);
        }
        // pocketfft swaps its two buffers after every pass.
        if self.factors.len() % 2 == 1 {
            data.copy_from_slice(scratch);
        }
    }

    /// Transforms `V::W` frames in place, one per lane: `data[i * V::W + l]` is sample
    /// `i` of frame `l` before, and halfcomplex value `i` of its transform after.
    /// `scratch` holds as many values as `data`, `n * V::W`.
    ///
    /// # Safety
    /// The CPU has `V`'s instructions.
    #[inline(always)]
    pub unsafe fn forward<V: F64s>(&self, data: &mut [f64], scratch: &mut [f64]) {
        let n = self.n;
        assert!(data.len() == n * V::W && scratch.len() == n * V::W);
        let mut l1 = n;
        for k1 in 0..self.factors.len() {
            // SAFETY: both buffers hold the n vectors.
            l1 = self.pass::<V>(k1, l1, (1, 0), data, scratch);
        }
        // pocketfft swaps its two buffers after every pass.
        if self.factors.len() % 2 == 1 {
            data.copy_from_slice(scratch);
        }
    }

    /// Pass `k1` (0 first) of the transform, given `l1` as the passes before left it;
    /// returns the new `l1`. Even passes read `data` and write `scratch`, odd ones the
    /// other way round. With `(groups, first) != (1, 0)`, on the sub-transform of
    /// `n / groups` vectors from vector `first` (see
    /// [`forward_decimated`](Self::forward_decimated)).
    ///
    /// # Safety
    /// The CPU has `V`'s instructions; both buffers hold `n * V::W` values; `k1` is one of
    /// the first `fused` passes when `groups > 1`.
    #[inline(always)]
    unsafe fn pass<V: F64s>(
        &self,
        k1: usize,
        l1: usize,
        (groups, first): (usize, usize),
        data: &mut [f64],
        scratch: &mut [f64],
    ) -> usize {
        let k = self.factors.len() - k1 - 1;
        let ip = self.factors[k];
        let ido = self.n / l1;
        let l1 = l1 / ip;
        let base = first * V::W;
        let (cc, ch) = if k1.is_multiple_of(2) {
            (data.as_ptr().add(base), scratch.as_mut_ptr().add(base))
        } else {
            (scratch.as_ptr().add(base), data.as_mut_ptr().add(base))
        };
        let wa = self.twiddles[k].as_ptr();
        // SAFETY: the (sub-)transform holds ip * (l1 / groups) * ido vectors from `base`
        // in each buffer, and the twiddles of factor k hold (ip - 1) * (ido - 1) values
        // (comp_twiddle's layout).
        if ip == 4 {
            radf4::<V>(ido, l1 / groups, cc, ch, wa);
        } else {
            radf2::<V>(ido, l1 / groups, cc, ch, wa);
        }
        l1
    }
}

/// pocketfft's `sincos_2pibyn`: `exp(2 pi i k / n)` for `k` in `0..n`, from two tables
/// of cosines and sines of multiples of `pi / (4 n)`, combined by one complex product.
struct SinCos2PiByN {
    n: usize,
    mask: usize,
    shift: usize,
    v1: Vec<(f64, f64)>,
    v2: Vec<(f64, f64)>,
}

impl SinCos2PiByN {
    fn new(n: usize) -> Self {
        // pocketfft: Thigh(0.25L * pi / n). For a power of two n, the long double
        // quotient is pi (as a long double) scaled by a power of two, which rounds to
        // double exactly as pi does.
        debug_assert!(n.is_power_of_two());
        let ang = std::f64::consts::PI / (4 * n) as f64;
        let nval = (n + 2) / 2;
        let mut shift = 1;
        while (1usize << shift) * (1usize << shift) < nval {
            shift += 1;
        }
        let mask = (1usize << shift) - 1;
        let mut v1 = vec![(1.0, 0.0)];
        v1.extend((1..=mask).map(|i| Self::calc(i, n, ang)));
        let mut v2 = vec![(1.0, 0.0)];
        v2.extend((1..nval.div_ceil(mask + 1)).map(|i| Self::calc(i * (mask + 1), n, ang)));
        SinCos2PiByN {
            n,
            mask,
            shift,
            v1,
            v2,
        }
    }

    fn calc(x: usize, n: usize, ang: f64) -> (f64, f64) {
        let mut x = x << 3;
        let f = |x: usize| x as f64 * ang;
        if x < 4 * n {
            if x < 2 * n {
                if x < n {
                    return (f(x).cos(), f(x).sin());
                }
                return (f(2 * n - x).sin(), f(2 * n - x).cos());
            }
            x -= 2 * n;
            if x < n {
                return (-f(x).sin(), f(x).cos());
            }
            return (-f(2 * n - x).cos(), f(2 * n - x).sin());
        }
        x = 8 * n - x;
        if x < 2 * n {
            if x < n {
                return (f(x).cos(), -f(x).sin());
            }
            return (f(2 * n - x).sin(), -f(2 * n - x).cos());
        }
        x -= 2 * n;
        if x < n {
            return (-f(x).sin(), -f(x).cos());
        }
        (-f(2 * n - x).cos(), -f(2 * n - x).sin())
    }

    fn get(&self, idx: usize) -> (f64, f64) {
        let (idx, sign) = if 2 * idx <= self.n {
            (idx, 1.0)
        } else {
            (self.n - idx, -1.0)
        };
        let (a, b) = (self.v1[idx & self.mask], self.v2[idx >> self.shift]);
        let im = a.0 * b.1 + a.1 * b.0;
        (a.0 * b.0 - a.1 * b.1, if sign < 0.0 { -im } else { im })
    }
}

/// What the passes need of a vector of `W` f64 lanes. The methods are plain IEEE
/// operations lane by lane (no fused multiply-add), so every implementation gives the
/// scalar bits in every lane.
pub trait F64s: Copy {
    /// Lanes.
    const W: usize;
    /// Loads `W` values.
    ///
    /// # Safety
    /// `p` is valid for `W` reads; the CPU has the implementation's instructions.
    unsafe fn load(p: *const f64) -> Self;
    /// Stores `W` values.
    ///
    /// # Safety
    /// `p` is valid for `W` writes; the CPU has the implementation's instructions.
    unsafe fn store(self, p: *mut f64);
    /// `x` in every lane.
    ///
    /// # Safety
    /// The CPU has the implementation's instructions.
    unsafe fn splat(x: f64) -> Self;
    /// # Safety
    /// The CPU has the implementation's instructions.
    unsafe fn add(self, o: Self) -> Self;
    /// # Safety
    /// The CPU has the implementation's instructions.
    unsafe fn sub(self, o: Self) -> Self;
    /// # Safety
    /// The CPU has the implementation's instructions.
    unsafe fn mul(self, o: Self) -> Self;
    /// `-self` (the sign flipped, as C's unary minus).
    ///
    /// # Safety
    /// The CPU has the implementation's instructions.
    unsafe fn neg(self) -> Self;
}

/// One lane: plain f64 arithmetic.
impl F64s for f64 {
    const W: usize = 1;
    #[inline(always)]
    unsafe fn load(p: *const f64) -> Self {
        *p
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64) {
        *p = self;
    }
    #[inline(always)]
    unsafe fn splat(x: f64) -> Self {
        x
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        self + o
    }
    #[inline(always)]
    unsafe fn sub(self, o: Self) -> Self {
        self - o
    }
    #[inline(always)]
    unsafe fn mul(self, o: Self) -> Self {
        self * o
    }
    #[inline(always)]
    unsafe fn neg(self) -> Self {
        -self
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::F64s;
    use std::arch::x86_64::*;

    /// Four lanes (AVX2).
    #[derive(Clone, Copy)]
    pub struct F64x4(__m256d);

    impl F64s for F64x4 {
        const W: usize = 4;
        #[inline(always)]
        unsafe fn load(p: *const f64) -> Self {
            F64x4(_mm256_loadu_pd(p))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f64) {
            _mm256_storeu_pd(p, self.0)
        }
        #[inline(always)]
        unsafe fn splat(x: f64) -> Self {
            F64x4(_mm256_set1_pd(x))
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            F64x4(_mm256_add_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            F64x4(_mm256_sub_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            F64x4(_mm256_mul_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn neg(self) -> Self {
            F64x4(_mm256_xor_pd(self.0, _mm256_set1_pd(-0.0)))
        }
    }

    /// Eight lanes (AVX-512F).
    #[derive(Clone, Copy)]
    pub struct F64x8(__m512d);

    impl F64s for F64x8 {
        const W: usize = 8;
        #[inline(always)]
        unsafe fn load(p: *const f64) -> Self {
            F64x8(_mm512_loadu_pd(p))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f64) {
            _mm512_storeu_pd(p, self.0)
        }
        #[inline(always)]
        unsafe fn splat(x: f64) -> Self {
            F64x8(_mm512_set1_pd(x))
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            F64x8(_mm512_add_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            F64x8(_mm512_sub_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            F64x8(_mm512_mul_pd(self.0, o.0))
        }
        #[inline(always)]
        unsafe fn neg(self) -> Self {
            F64x8(_mm512_castsi512_pd(_mm512_xor_si512(
                _mm512_castpd_si512(self.0),
                _mm512_set1_epi64(i64::MIN),
            )))
        }
    }
}
#[cfg(target_arch = "x86_64")]
pub use x86::{F64x4, F64x8};

/// pocketfft's `MULPM(a, b, c, d, e, f)`: `a = c*e + d*f`, `b = c*f - d*e` (conj(c + id)
/// times (e + if)), with scalar twiddles `c`, `d`.
#[inline(always)]
unsafe fn mulpm<V: F64s>(c: f64, d: f64, e: V, f: V) -> (V, V) {
    let (c, d) = (V::splat(c), V::splat(d));
    (c.mul(e).add(d.mul(f)), c.mul(f).sub(d.mul(e)))
}

/// pocketfft's `rfftp::radf2`, on vectors `V` stored `V::W` floats apart.
///
/// # Safety
/// `cc` and `ch` hold `2 * l1 * ido` vectors, `wa` `ido - 1` values where `ido > 2`; the
/// CPU has `V`'s instructions.
#[inline(always)]
unsafe fn radf2<V: F64s>(ido: usize, l1: usize, cc: *const f64, ch: *mut f64, wa: *const f64) {
    let w = V::W;
    let cc = |a: usize, b: usize, c: usize| V::load(cc.add((a + ido * (b + l1 * c)) * w));
    let ch = |a: usize, b: usize, c: usize| ch.add((a + ido * (b + 2 * c)) * w);
    let wa = |i: usize| *wa.add(i);
    for k in 0..l1 {
        let (c, d) = (cc(0, k, 0), cc(0, k, 1));
        c.add(d).store(ch(0, 0, k));
        c.sub(d).store(ch(ido - 1, 1, k));
    }
    if ido.is_multiple_of(2) {
        for k in 0..l1 {
            cc(ido - 1, k, 1).neg().store(ch(0, 1, k));
            cc(ido - 1, k, 0).store(ch(ido - 1, 0, k));
        }
    }
    if ido <= 2 {
        return;
    }
    for k in 0..l1 {
        for i in (2..ido).step_by(2) {
            let ic = ido - i;
            let (tr2, ti2) = mulpm(wa(i - 2), wa(i - 1), cc(i - 1, k, 1), cc(i, k, 1));
            let a = cc(i - 1, k, 0);
            a.add(tr2).store(ch(i - 1, 0, k));
            a.sub(tr2).store(ch(ic - 1, 1, k));
            let b = cc(i, k, 0);
            ti2.add(b).store(ch(i, 0, k));
            ti2.sub(b).store(ch(ic, 1, k));
        }
    }
}

/// pocketfft's `rfftp::radf4`, on vectors `V` stored `V::W` floats apart.
///
/// # Safety
/// `cc` and `ch` hold `4 * l1 * ido` vectors, `wa` `3 * (ido - 1)` values where
/// `ido > 2`; the CPU has `V`'s instructions.
#[inline(always)]
unsafe fn radf4<V: F64s>(ido: usize, l1: usize, cc: *const f64, ch: *mut f64, wa: *const f64) {
    // T0(0.707106781186547524400844362104849L) rounded to double.
    const HSQT2: f64 = std::f64::consts::FRAC_1_SQRT_2;
    let w = V::W;
    let (cc_ptr, ch_ptr, wa_ptr) = (cc, ch, wa);
    // cc(a, k, c) = cc[a + ido (k + l1 c)] and ch(a, b, k) = ch[a + ido (b + 4 k)], as
    // pointers stepped once per k (vectors of w values).
    let (kc, c_step, kh) = (ido * w, ido * l1 * w, 4 * ido * w);
    {
        let (mut c, mut h) = (cc_ptr, ch_ptr);
        let hi = (ido - 1) * w;
        for _ in 0..l1 {
            let (c3, c1) = (V::load(c.add(3 * c_step)), V::load(c.add(c_step)));
            let tr1 = c3.add(c1);
            c3.sub(c1).store(h.add(2 * kc));
            let (c0, c2) = (V::load(c), V::load(c.add(2 * c_step)));
            let tr2 = c0.add(c2);
            c0.sub(c2).store(h.add(hi + kc));
            tr2.add(tr1).store(h);
            tr2.sub(tr1).store(h.add(hi + 3 * kc));
            c = c.add(kc);
            h = h.add(kh);
        }
    }
    if ido.is_multiple_of(2) {
        let (minus_h, h_const) = (V::splat(-HSQT2), V::splat(HSQT2));
        let hi = (ido - 1) * w;
        let (mut c, mut h) = (cc_ptr.add(hi), ch_ptr);
        for _ in 0..l1 {
            let (a1, a3) = (V::load(c.add(c_step)), V::load(c.add(3 * c_step)));
            // -hsqt2 * (a1 + a3): the negated constant times the sum.
            let ti1 = minus_h.mul(a1.add(a3));
            let tr1 = h_const.mul(a1.sub(a3));
            let a0 = V::load(c);
            a0.add(tr1).store(h.add(hi));
            a0.sub(tr1).store(h.add(hi + 2 * kc));
            let a2 = V::load(c.add(2 * c_step));
            ti1.add(a2).store(h.add(3 * kc));
            ti1.sub(a2).store(h.add(kc));
            c = c.add(kc);
            h = h.add(kh);
        }
    }
    if ido <= 2 {
        return;
    }
    let (t0, t1, t2) = (wa_ptr, wa_ptr.add(ido - 1), wa_ptr.add(2 * (ido - 1)));
    for k in 0..l1 {
        // The four inputs cc(., k, c) and the four outputs ch(., b, k) of this k.
        let c0 = cc_ptr.add(ido * k * w);
        let c1 = cc_ptr.add(ido * (k + l1) * w);
        let c2 = cc_ptr.add(ido * (k + 2 * l1) * w);
        let c3 = cc_ptr.add(ido * (k + 3 * l1) * w);
        let h0 = ch_ptr.add(ido * 4 * k * w);
        let h1 = ch_ptr.add(ido * (1 + 4 * k) * w);
        let h2 = ch_ptr.add(ido * (2 + 4 * k) * w);
        let h3 = ch_ptr.add(ido * (3 + 4 * k) * w);
        let ld = |p: *const f64, j: usize| V::load(p.add(j * w));
        let mut i = 2;
        while i < ido {
            let ic = ido - i;
            let (cr2, ci2) = mulpm(*t0.add(i - 2), *t0.add(i - 1), ld(c1, i - 1), ld(c1, i));
            let (cr3, ci3) = mulpm(*t1.add(i - 2), *t1.add(i - 1), ld(c2, i - 1), ld(c2, i));
            let (cr4, ci4) = mulpm(*t2.add(i - 2), *t2.add(i - 1), ld(c3, i - 1), ld(c3, i));
            let (tr1, tr4) = (cr4.add(cr2), cr4.sub(cr2));
            let (ti1, ti4) = (ci2.add(ci4), ci2.sub(ci4));
            let a = ld(c0, i - 1);
            let (tr2, tr3) = (a.add(cr3), a.sub(cr3));
            let b = ld(c0, i);
            let (ti2, ti3) = (b.add(ci3), b.sub(ci3));
            tr2.add(tr1).store(h0.add((i - 1) * w));
            tr2.sub(tr1).store(h3.add((ic - 1) * w));
            ti1.add(ti2).store(h0.add(i * w));
            ti1.sub(ti2).store(h3.add(ic * w));
            tr3.add(ti4).store(h2.add((i - 1) * w));
            tr3.sub(ti4).store(h1.add((ic - 1) * w));
            tr4.add(ti3).store(h2.add(i * w));
            tr4.sub(ti3).store(h1.add(ic * w));
            i += 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_lengths_that_are_not_powers_of_two() {
        for n in [0, 1, 3, 6, 12, 100, 2047] {
            assert!(RealFft::new(n).is_err(), "{n}");
        }
        for n in [2, 4, 8, 16, 32, 256, 2048, 4096] {
            assert_eq!(RealFft::new(n).unwrap().len(), n);
        }
    }

    /// A direct DFT in f64 sums, as halfcomplex.
    fn dft(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        let mut out = vec![0.0; n];
        for k in 0..=n / 2 {
            let (mut re, mut im) = (0.0, 0.0);
            for (j, &v) in x.iter().enumerate() {
                let a = -2.0 * std::f64::consts::PI * ((k * j) % n) as f64 / n as f64;
                re += v * a.cos();
                im += v * a.sin();
            }
            if k == 0 {
                out[0] = re;
            } else if 2 * k == n {
                out[n - 1] = re;
            } else {
                out[2 * k - 1] = re;
                out[2 * k] = im;
            }
        }
        out
    }

    #[test]
    fn every_length_and_lane_width_transforms_alike() {
        // Each power of two from 4 to 4096 (factors 4 only, and a 2 first), every
        // instruction set: the DFT to rounding, and the same bits in every lane width.
        let mut state = 5u64;
        for log in 1..=12 {
            let n = 1usize << log;
            let p = RealFft::new(n).unwrap();
            let frames: Vec<Vec<f64>> = (0..8)
                .map(|_| {
                    (0..n)
                        .map(|_| {
                            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
                        })
                        .collect()
                })
                .collect();
            let mut results: Vec<Vec<Vec<f64>>> = Vec::new();
            for isa in Isa::all_available() {
                let w = isa.lanes();
                let mut out = Vec::new();
                for group in frames.chunks(w) {
                    let mut data = vec![0.0; n * w];
                    for (l, f) in group.iter().enumerate() {
                        for (i, &v) in f.iter().enumerate() {
                            data[i * w + l] = v;
                        }
                    }
                    let mut scratch = vec![0.0; n * w];
                    p.forward_with(isa, &mut data, &mut scratch).unwrap();
                    for l in 0..group.len() {
                        out.push((0..n).map(|i| data[i * w + l]).collect::<Vec<_>>());
                    }
                }
                results.push(out);
            }
            for other in &results[1..] {
                for (a, b) in results[0].iter().zip(other) {
                    assert!(
                        a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
                        "n {n}"
                    );
                }
            }
            if n <= 512 {
                for (f, got) in frames.iter().zip(&results[0]) {
                    let want = dft(f);
                    let err = got
                        .iter()
                        .zip(&want)
                        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
                    assert!(err < 1e-12 * n as f64, "n {n}: {err}");
                }
            }
        }
    }

    #[test]
    fn decimated_order_gives_the_same_bits() {
        for log in 1..=13 {
            let n = 1usize << log;
            let p = RealFft::new(n).unwrap();
            let (groups, m) = p.decimation();
            assert_eq!(groups * m, n);
            assert!(m <= MAX_FUSED_POINTS || groups == 1);
            let x: Vec<f64> = (0..n)
                .map(|i| ((i * 7919) % 1013) as f64 / 7.0 - 70.0)
                .collect();
            let mut natural = x.clone();
            let mut scratch = vec![0.0; n];
            let mut decimated = vec![0.0; n];
            for (i, &v) in x.iter().enumerate() {
                decimated[(i % groups) * m + i / groups] = v;
            }
            // SAFETY: plain f64 arithmetic.
            unsafe {
                p.forward::<f64>(&mut natural, &mut scratch);
                p.forward_decimated::<f64>(&mut decimated, &mut scratch);
            }
            assert!(
                natural
                    .iter()
                    .zip(&decimated)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "n {n}"
            );
        }
    }

    #[test]
    fn rejects_buffers_of_other_sizes() {
        let p = RealFft::new(16).unwrap();
        assert!(p
            .forward_with(Isa::Scalar, &mut [0.0; 15], &mut [0.0; 16])
            .is_err());
        assert!(p
            .forward_with(Isa::Scalar, &mut [0.0; 16], &mut [0.0; 8])
            .is_err());
    }
}
