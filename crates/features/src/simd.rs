//! Which vector instructions the kernels that run several frames side by side (one per
//! SIMD lane) use, detected once: AVX-512F (8 f64 lanes), AVX2 (4), or plain scalar
//! code (1). Every choice gives the same bits: a lane does the scalar arithmetic.
//!
//! `MUSICGENRE_ISA=scalar|avx2|avx512` in the environment caps the choice (like numpy's
//! `NPY_DISABLE_CPU_FEATURES` or OpenBLAS's `OPENBLAS_CORETYPE`): to check on one
//! machine that the features do not depend on the CPU, or to time the narrower paths.

use std::sync::OnceLock;

/// An instruction set for the lane kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// One frame at a time, plain f64 arithmetic (any CPU).
    Scalar,
    /// Four frames at a time (x86_64 with AVX2).
    Avx2,
    /// Eight frames at a time (x86_64 with AVX-512F).
    Avx512,
}

impl Isa {
    /// Frames a kernel runs side by side with this instruction set.
    pub fn lanes(self) -> usize {
        match self {
            Isa::Scalar => 1,
            Isa::Avx2 => 4,
            Isa::Avx512 => 8,
        }
    }

    /// Whether this CPU can run it.
    pub fn available(self) -> bool {
        match self {
            Isa::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::is_x86_feature_detected!("avx2"),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// `Ok` when this CPU can run it, else the error the `*_with(isa, ...)` entry points
    /// return.
    pub fn require(self) -> crate::error::Result<()> {
        if self.available() {
            Ok(())
        } else {
            Err(crate::error::Error::InvalidArgument(format!(
                "{self:?} is not available on this CPU"
            )))
        }
    }

    /// Every instruction set this CPU can run, widest last.
    pub fn all_available() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|i| i.available())
            .collect()
    }
}

/// The environment variable that caps the instruction set ([`requested`]).
pub const ISA_VAR: &str = "MUSICGENRE_ISA";

/// The cap [`ISA_VAR`] asks for: `None` when it is unset or empty, an error naming the
/// accepted values when it is set to anything else. [`best`] ignores a value it cannot
/// read; binaries call this first to report it.
pub fn requested() -> std::result::Result<Option<Isa>, String> {
    let Some(value) = std::env::var_os(ISA_VAR) else {
        return Ok(None);
    };
    let value = value.to_string_lossy();
    match value.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "scalar" => Ok(Some(Isa::Scalar)),
        "avx2" => Ok(Some(Isa::Avx2)),
        "avx512" | "avx-512" | "avx512f" => Ok(Some(Isa::Avx512)),
        _ => Err(format!(
            "{ISA_VAR}={value:?} is not an instruction set; use scalar, avx2 or avx512"
        )),
    }
}

/// The cap [`ISA_VAR`] sets (AVX-512 when it is unset or unreadable), read once.
fn cap() -> Isa {
    static CAP: OnceLock<Isa> = OnceLock::new();
    *CAP.get_or_init(|| match requested() {
        Ok(Some(cap)) => cap,
        _ => Isa::Avx512,
    })
}

/// The widest instruction set this CPU has, no wider than [`ISA_VAR`] asks (detected on
/// first use).
pub fn best() -> Isa {
    static BEST: OnceLock<Isa> = OnceLock::new();
    *BEST.get_or_init(|| {
        let widest = *Isa::all_available().last().unwrap_or(&Isa::Scalar);
        widest.min(cap())
    })
}

/// Whether the kernels that need only AVX (the banks' dot products, windowing, the
/// resampler's 2:1 stage) may use it: the CPU has it and [`ISA_VAR`] does not ask for
/// scalar code.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx() -> bool {
    static AVX: OnceLock<bool> = OnceLock::new();
    *AVX.get_or_init(|| cap() >= Isa::Avx2 && std::is_x86_feature_detected!("avx"))
}

/// Whether kernels may use FMA next to AVX (where fusing cannot change a bit).
#[cfg(target_arch = "x86_64")]
pub(crate) fn fma() -> bool {
    avx() && std::is_x86_feature_detected!("fma")
}

/// Whether kernels may use AVX-512F: the CPU has it and [`ISA_VAR`] allows it.
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx512() -> bool {
    best() == Isa::Avx512
}

/// The most lanes any instruction set has.
pub const MAX_LANES: usize = 8;

/// Eight lanes of f32 (`F`) and of f64 (`D`) and the element-wise operations the lane
/// kernels use, for one instruction set. Every operation is the plain IEEE one lane by
/// lane (no fused multiply-add, selects rather than `min`/`max`), so every
/// implementation gives the bits of the scalar one.
///
/// # Safety
/// Every method needs the CPU to have the implementation's instructions; loads and
/// stores need 8 valid values at the pointer.
pub(crate) trait Lanes8: Copy {
    type F: Copy;
    type D: Copy;
    /// How many `D` accumulators a loop can keep in registers beside a few temporaries:
    /// kernels with more split their accumulators into groups of at most this many, one
    /// pass over the data each (each accumulator still sees its values in the same
    /// order, so the bits do not change). AVX-512 has 32 registers of 8 f64; AVX2 16 of
    /// 4, two per `D`.
    const D_ACCUMULATORS: usize;
    unsafe fn f_load(p: *const f32) -> Self::F;
    unsafe fn f_store(v: Self::F, p: *mut f32);
    unsafe fn f_splat(x: f32) -> Self::F;
    unsafe fn f_add(a: Self::F, b: Self::F) -> Self::F;
    unsafe fn f_sub(a: Self::F, b: Self::F) -> Self::F;
    unsafe fn f_mul(a: Self::F, b: Self::F) -> Self::F;
    /// numpy's complex64 `abs` of `(re, im)` per lane, for finite parts (see
    /// [`cabs_f32_finite`]).
    unsafe fn f_cabs(re: Self::F, im: Self::F) -> Self::F;
    /// `a > b`, as a bit per lane.
    unsafe fn f_gt(a: Self::F, b: Self::F) -> u32;
    /// `a >= b`, as a bit per lane.
    unsafe fn f_ge(a: Self::F, b: Self::F) -> u32;
    /// Per lane `if b > a { b } else { a }` and the other one: `(larger, smaller)`.
    unsafe fn f_sort_desc(a: Self::F, b: Self::F) -> (Self::F, Self::F);
    /// Per lane `if a > t { a } else { 0 }`.
    unsafe fn f_keep_above(a: Self::F, t: Self::F) -> Self::F;
    /// The smaller of `a` and `b` per lane (either one when equal): for values that are
    /// not NaN.
    unsafe fn f_min(a: Self::F, b: Self::F) -> Self::F;
    /// The larger of `a` and `b` per lane (either one when equal): for values that are
    /// not NaN.
    unsafe fn f_max(a: Self::F, b: Self::F) -> Self::F;
    /// Eight u32 counters.
    type I: Copy;
    unsafe fn i_zero() -> Self::I;
    /// `c + (a < b)` per lane.
    unsafe fn i_add_lt(c: Self::I, a: Self::F, b: Self::F) -> Self::I;
    unsafe fn i_store(v: Self::I, p: *mut u32);
    unsafe fn d_from_f(a: Self::F) -> Self::D;
    unsafe fn d_load(p: *const f64) -> Self::D;
    unsafe fn d_store(v: Self::D, p: *mut f64);
    unsafe fn d_splat(x: f64) -> Self::D;
    unsafe fn d_add(a: Self::D, b: Self::D) -> Self::D;
    unsafe fn d_sub(a: Self::D, b: Self::D) -> Self::D;
    unsafe fn d_mul(a: Self::D, b: Self::D) -> Self::D;
    /// `a * b + c` where `a * b` is exact in f64 (as for two f32 values), so that a fused
    /// multiply-add, where the instruction set has one, gives the same bits.
    unsafe fn d_mul_add_exact(a: Self::D, b: Self::D, c: Self::D) -> Self::D;
    unsafe fn d_div(a: Self::D, b: Self::D) -> Self::D;
    /// `|a|` per lane.
    unsafe fn d_abs(a: Self::D) -> Self::D;
    /// `-a` per lane (the sign flipped).
    unsafe fn d_neg(a: Self::D) -> Self::D;
    /// Per lane `if x >= y { a } else { b }`.
    unsafe fn d_select_ge(x: Self::D, y: Self::D, a: Self::D, b: Self::D) -> Self::D;
    /// Each lane rounded to f32.
    unsafe fn d_to_f(a: Self::D) -> Self::F;
    /// For positive normal `x`: `(m, e)` with `x = m * 2^e`, `m` in `[sqrt(1/2), sqrt(2))`
    /// and `e` an integer (as f64).
    unsafe fn d_frexp_sqrt2(x: Self::D) -> (Self::D, Self::D);

    /// Inserts `v` into the `q` best values of `kept` (`kept[..q]`, sorted ascending when
    /// `ASC`, else descending), dropping the worst: after the values equal to it, so the
    /// multiset is that of sorting. Values from `q` on are scratch.
    #[inline(always)]
    unsafe fn keep_best<const ASC: bool>(kept: &mut Kept16, q: usize, v: f32) {
        let kept = &mut kept.0;
        let better = |a: f32, b: f32| if ASC { a < b } else { a > b };
        if !better(v, kept[q - 1]) {
            return;
        }
        let mut j = q - 1;
        while j > 0 && better(v, kept[j - 1]) {
            kept[j] = kept[j - 1];
            j -= 1;
        }
        kept[j] = v;
    }
}

/// The sum of 8 partial sums in the order numpy's pairwise summation and [`crate::dot`]
/// use: `q[j] = s[j] + s[j + 4]`, then `(q0 + q2) + (q1 + q3)`.
///
/// The lane kernels call functions like this one rather than closures: a closure does
/// not get the target features of the function it is inlined into, so the intrinsics in
/// it can stay calls (`scripts/check-simd-inlined.sh` looks for those).
#[inline(always)]
pub(crate) unsafe fn tree8<I: Lanes8>(s: &[I::D; 8]) -> I::D {
    I::d_add(
        I::d_add(I::d_add(s[0], s[4]), I::d_add(s[2], s[6])),
        I::d_add(I::d_add(s[1], s[5]), I::d_add(s[3], s[7])),
    )
}

/// The sum of 16 partial sums: `s[j] + s[j + 8]`, then [`tree8`].
#[inline(always)]
pub(crate) unsafe fn tree16<I: Lanes8>(s: &[I::D; 16]) -> I::D {
    let mut h = [s[0]; 8];
    for (j, h) in h.iter_mut().enumerate() {
        *h = I::d_add(s[j], s[j + 8]);
    }
    tree8::<I>(&h)
}

/// Sixteen f32 values on a 64-byte boundary: [`Lanes8::keep_best`]'s sorted lists.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(64))]
pub(crate) struct Kept16(pub [f32; 16]);

/// numpy 2's complex64 `absolute`, for finite parts: with `r = min / max` of `|re|, |im|`
/// it returns `max * sqrt(fma(r, r, 1))` in f32 (numpy's Highway `OpCabs`). The fma is
/// computed in f64, where `r * r` is exact and the sum is rounded once before the
/// rounding to f32 (the double rounding matches a true f32 fma on every tested input).
/// Branch-free; a non-finite input gives a non-finite result (NaN or infinity propagates
/// through the comparisons), so callers can detect those and redo them with numpy's
/// special cases.
#[inline(always)]
pub(crate) fn cabs_f32_finite(re: f32, im: f32) -> f32 {
    let (a, b) = (re.abs(), im.abs());
    // Selects rather than f32::max/min, which would drop a NaN.
    let ge = a >= b;
    let larger = if ge { a } else { b };
    let smaller = if ge { b } else { a };
    let ratio = smaller / larger;
    let ratio = if larger == 0.0 { 0.0 } else { ratio };
    let r = ratio as f64;
    let hypot = ((r * r + 1.0) as f32).sqrt();
    hypot * larger
}

/// `log10` of positive, finite, normal f32 values, computed in f64 and rounded once to
/// f32: the correctly rounded result except where the exact value lies within about
/// 1e-13 (relative) of a rounding boundary. The same operations on every instruction
/// set, so the same bits.
///
/// `x = m 2^e` with `m` in `[sqrt(1/2), sqrt(2))`; `ln m = 2 atanh(s)`, `s = (m - 1) /
/// (m + 1)`, `|s| <= 0.172`, by its series to `s^17` (relative error below 1e-14).
///
/// # Safety
/// The CPU has `I`'s instructions.
#[inline(always)]
pub(crate) unsafe fn log10_f32<I: Lanes8>(x: I::F) -> I::F {
    let one = I::d_splat(1.0);
    let (m, e) = I::d_frexp_sqrt2(I::d_from_f(x));
    let s = I::d_div(I::d_sub(m, one), I::d_add(m, one));
    let z = I::d_mul(s, s);
    let mut p = I::d_splat(1.0 / 17.0);
    for k in (0..8).rev() {
        p = I::d_add(I::d_mul(p, z), I::d_splat(1.0 / (2 * k + 1) as f64));
    }
    let ln_m = I::d_mul(I::d_mul(I::d_splat(2.0), s), p);
    let ln = I::d_add(I::d_mul(e, I::d_splat(std::f64::consts::LN_2)), ln_m);
    I::d_to_f(I::d_mul(ln, I::d_splat(std::f64::consts::LOG10_E)))
}

/// Plain arrays: any CPU.
#[derive(Clone, Copy)]
pub(crate) struct Portable;

macro_rules! lanes {
    ($f:expr) => {{
        let mut r = [Default::default(); 8];
        for (l, v) in r.iter_mut().enumerate() {
            *v = $f(l);
        }
        r
    }};
}

impl Lanes8 for Portable {
    // Whatever the compiler makes of [f64; 8] arrays: no splitting.
    const D_ACCUMULATORS: usize = usize::MAX;
    type F = [f32; 8];
    type D = [f64; 8];
    #[inline(always)]
    unsafe fn f_load(p: *const f32) -> Self::F {
        p.cast::<[f32; 8]>().read_unaligned()
    }
    #[inline(always)]
    unsafe fn f_store(v: Self::F, p: *mut f32) {
        p.cast::<[f32; 8]>().write_unaligned(v)
    }
    #[inline(always)]
    unsafe fn f_splat(x: f32) -> Self::F {
        [x; 8]
    }
    #[inline(always)]
    unsafe fn f_add(a: Self::F, b: Self::F) -> Self::F {
        lanes!(|l| a[l] + b[l])
    }
    #[inline(always)]
    unsafe fn f_sub(a: Self::F, b: Self::F) -> Self::F {
        lanes!(|l| a[l] - b[l])
    }
    #[inline(always)]
    unsafe fn f_mul(a: Self::F, b: Self::F) -> Self::F {
        lanes!(|l| a[l] * b[l])
    }
    #[inline(always)]
    unsafe fn f_cabs(re: Self::F, im: Self::F) -> Self::F {
        lanes!(|l| cabs_f32_finite(re[l], im[l]))
    }
    #[inline(always)]
    unsafe fn f_gt(a: Self::F, b: Self::F) -> u32 {
        (0..8).fold(0, |m, l| m | ((a[l] > b[l]) as u32) << l)
    }
    #[inline(always)]
    unsafe fn f_ge(a: Self::F, b: Self::F) -> u32 {
        (0..8).fold(0, |m, l| m | ((a[l] >= b[l]) as u32) << l)
    }
    #[inline(always)]
    unsafe fn f_sort_desc(a: Self::F, b: Self::F) -> (Self::F, Self::F) {
        (
            lanes!(|l| if b[l] > a[l] { b[l] } else { a[l] }),
            lanes!(|l| if b[l] > a[l] { a[l] } else { b[l] }),
        )
    }
    #[inline(always)]
    unsafe fn f_keep_above(a: Self::F, t: Self::F) -> Self::F {
        lanes!(|l| if a[l] > t[l] { a[l] } else { 0.0 })
    }
    #[inline(always)]
    unsafe fn f_min(a: Self::F, b: Self::F) -> Self::F {
        lanes!(|l| if a[l] < b[l] { a[l] } else { b[l] })
    }
    #[inline(always)]
    unsafe fn f_max(a: Self::F, b: Self::F) -> Self::F {
        lanes!(|l| if a[l] > b[l] { a[l] } else { b[l] })
    }
    type I = [u32; 8];
    #[inline(always)]
    unsafe fn i_zero() -> Self::I {
        [0; 8]
    }
    #[inline(always)]
    unsafe fn i_add_lt(c: Self::I, a: Self::F, b: Self::F) -> Self::I {
        lanes!(|l| c[l] + (a[l] < b[l]) as u32)
    }
    #[inline(always)]
    unsafe fn i_store(v: Self::I, p: *mut u32) {
        p.cast::<[u32; 8]>().write_unaligned(v)
    }
    #[inline(always)]
    unsafe fn d_from_f(a: Self::F) -> Self::D {
        lanes!(|l| a[l] as f64)
    }
    #[inline(always)]
    unsafe fn d_load(p: *const f64) -> Self::D {
        p.cast::<[f64; 8]>().read_unaligned()
    }
    #[inline(always)]
    unsafe fn d_store(v: Self::D, p: *mut f64) {
        p.cast::<[f64; 8]>().write_unaligned(v)
    }
    #[inline(always)]
    unsafe fn d_splat(x: f64) -> Self::D {
        [x; 8]
    }
    #[inline(always)]
    unsafe fn d_add(a: Self::D, b: Self::D) -> Self::D {
        lanes!(|l| a[l] + b[l])
    }
    #[inline(always)]
    unsafe fn d_sub(a: Self::D, b: Self::D) -> Self::D {
        lanes!(|l| a[l] - b[l])
    }
    #[inline(always)]
    unsafe fn d_mul(a: Self::D, b: Self::D) -> Self::D {
        lanes!(|l| a[l] * b[l])
    }
    #[inline(always)]
    unsafe fn d_mul_add_exact(a: Self::D, b: Self::D, c: Self::D) -> Self::D {
        lanes!(|l| a[l] * b[l] + c[l])
    }
    #[inline(always)]
    unsafe fn d_div(a: Self::D, b: Self::D) -> Self::D {
        lanes!(|l| a[l] / b[l])
    }
    #[inline(always)]
    unsafe fn d_abs(a: Self::D) -> Self::D {
        lanes!(|l| f64::abs(a[l]))
    }
    #[inline(always)]
    unsafe fn d_neg(a: Self::D) -> Self::D {
        lanes!(|l: usize| -> f64 { -(a as [f64; 8])[l] })
    }
    #[inline(always)]
    unsafe fn d_select_ge(x: Self::D, y: Self::D, a: Self::D, b: Self::D) -> Self::D {
        lanes!(|l| if x[l] >= y[l] { a[l] } else { b[l] })
    }
    #[inline(always)]
    unsafe fn d_to_f(a: Self::D) -> Self::F {
        lanes!(|l| a[l] as f32)
    }
    #[inline(always)]
    unsafe fn d_frexp_sqrt2(x: Self::D) -> (Self::D, Self::D) {
        let mut m = [0.0f64; 8];
        let mut e = [0.0f64; 8];
        for l in 0..8 {
            let bits = x[l].to_bits();
            let exp = ((bits >> 52) & 0x7ff) as i64 - 1023;
            let mant = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | (1023u64 << 52));
            let big = mant > std::f64::consts::SQRT_2;
            m[l] = if big { mant * 0.5 } else { mant };
            e[l] = (exp + big as i64) as f64;
        }
        (m, e)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86_lanes {
    use super::Lanes8;
    use std::arch::x86_64::*;

    /// AVX2: f32 in one 256-bit register, f64 in two.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2;

    /// AVX-512F: f32 in one 256-bit register, f64 in one 512-bit register.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512;

    macro_rules! f32_ops {
        () => {
            type F = __m256;
            #[inline(always)]
            unsafe fn f_load(p: *const f32) -> __m256 {
                _mm256_loadu_ps(p)
            }
            #[inline(always)]
            unsafe fn f_store(v: __m256, p: *mut f32) {
                _mm256_storeu_ps(p, v)
            }
            #[inline(always)]
            unsafe fn f_splat(x: f32) -> __m256 {
                _mm256_set1_ps(x)
            }
            #[inline(always)]
            unsafe fn f_add(a: __m256, b: __m256) -> __m256 {
                _mm256_add_ps(a, b)
            }
            #[inline(always)]
            unsafe fn f_sub(a: __m256, b: __m256) -> __m256 {
                _mm256_sub_ps(a, b)
            }
            #[inline(always)]
            unsafe fn f_mul(a: __m256, b: __m256) -> __m256 {
                _mm256_mul_ps(a, b)
            }
            #[inline(always)]
            unsafe fn f_cabs(re: __m256, im: __m256) -> __m256 {
                let sign = _mm256_set1_ps(-0.0);
                let (a, b) = (_mm256_andnot_ps(sign, re), _mm256_andnot_ps(sign, im));
                let ge = _mm256_cmp_ps::<_CMP_GE_OQ>(a, b);
                let larger = _mm256_blendv_ps(b, a, ge);
                let smaller = _mm256_blendv_ps(a, b, ge);
                let ratio = _mm256_div_ps(smaller, larger);
                let zero = _mm256_cmp_ps::<_CMP_EQ_OQ>(larger, _mm256_setzero_ps());
                let ratio = _mm256_blendv_ps(ratio, _mm256_setzero_ps(), zero);
                let r = Self::d_from_f(ratio);
                let h = Self::d_to_f(Self::d_add(Self::d_mul(r, r), Self::d_splat(1.0)));
                _mm256_mul_ps(_mm256_sqrt_ps(h), larger)
            }
            #[inline(always)]
            unsafe fn f_gt(a: __m256, b: __m256) -> u32 {
                _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(a, b)) as u32
            }
            #[inline(always)]
            unsafe fn f_ge(a: __m256, b: __m256) -> u32 {
                _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_GE_OQ>(a, b)) as u32
            }
            #[inline(always)]
            unsafe fn f_sort_desc(a: __m256, b: __m256) -> (__m256, __m256) {
                let m = _mm256_cmp_ps::<_CMP_GT_OQ>(b, a);
                (_mm256_blendv_ps(a, b, m), _mm256_blendv_ps(b, a, m))
            }
            #[inline(always)]
            unsafe fn f_keep_above(a: __m256, t: __m256) -> __m256 {
                _mm256_and_ps(a, _mm256_cmp_ps::<_CMP_GT_OQ>(a, t))
            }
            #[inline(always)]
            unsafe fn f_min(a: __m256, b: __m256) -> __m256 {
                _mm256_min_ps(a, b)
            }
            #[inline(always)]
            unsafe fn f_max(a: __m256, b: __m256) -> __m256 {
                _mm256_max_ps(a, b)
            }
            type I = __m256i;
            #[inline(always)]
            unsafe fn i_zero() -> __m256i {
                _mm256_setzero_si256()
            }
            #[inline(always)]
            unsafe fn i_add_lt(c: __m256i, a: __m256, b: __m256) -> __m256i {
                // A true comparison is all ones: -1 as an integer.
                _mm256_sub_epi32(c, _mm256_castps_si256(_mm256_cmp_ps::<_CMP_LT_OQ>(a, b)))
            }
            #[inline(always)]
            unsafe fn i_store(v: __m256i, p: *mut u32) {
                _mm256_storeu_si256(p.cast(), v)
            }
        };
    }

    /// [`Lanes8::d_frexp_sqrt2`] on 4 lanes. A function, not a closure: a closure does
    /// not get the caller's target features, so the intrinsics in it would stay calls.
    #[inline(always)]
    unsafe fn frexp_sqrt2_4(x: __m256d) -> (__m256d, __m256d) {
        let bits = _mm256_castpd_si256(x);
        let mant = _mm256_castsi256_pd(_mm256_or_si256(
            _mm256_and_si256(bits, _mm256_set1_epi64x(0x000f_ffff_ffff_ffff)),
            _mm256_set1_epi64x(1023 << 52),
        ));
        // The biased exponent (at most 2047) fits the low 32 bits of each lane.
        let exp = _mm256_srli_epi64::<52>(bits);
        let exp = _mm256_permutevar8x32_epi32(exp, _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0));
        let exp = _mm256_cvtepi32_pd(_mm256_castsi256_si128(exp));
        let exp = _mm256_sub_pd(exp, _mm256_set1_pd(1023.0));
        let big = _mm256_cmp_pd::<_CMP_GT_OQ>(mant, _mm256_set1_pd(std::f64::consts::SQRT_2));
        let m = _mm256_blendv_pd(mant, _mm256_mul_pd(mant, _mm256_set1_pd(0.5)), big);
        let e = _mm256_add_pd(exp, _mm256_and_pd(big, _mm256_set1_pd(1.0)));
        (m, e)
    }

    /// `x` moved up one slot, slot 0 taking `carry`'s last value.
    #[inline(always)]
    unsafe fn shift_up(x: __m256, carry: __m256) -> __m256 {
        _mm256_blend_ps::<1>(
            _mm256_permutevar8x32_ps(x, _mm256_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6)),
            _mm256_permutevar8x32_ps(carry, _mm256_set1_epi32(7)),
        )
    }

    impl Lanes8 for Avx2 {
        const D_ACCUMULATORS: usize = 6;
        f32_ops!();
        type D = (__m256d, __m256d);
        #[inline(always)]
        unsafe fn keep_best<const ASC: bool>(kept: &mut super::Kept16, _q: usize, v: f32) {
            // Avx512::keep_best on the two halves: slot j takes kept[j - 1] where v beats
            // it, else v where v beats kept[j], else keeps its value.
            let (lo, hi) = (
                _mm256_load_ps(kept.0.as_ptr()),
                _mm256_load_ps(kept.0.as_ptr().add(8)),
            );
            let vb = _mm256_set1_ps(v);
            let (m_lo, m_hi) = if ASC {
                (
                    _mm256_cmp_ps::<_CMP_LT_OQ>(vb, lo),
                    _mm256_cmp_ps::<_CMP_LT_OQ>(vb, hi),
                )
            } else {
                (
                    _mm256_cmp_ps::<_CMP_GT_OQ>(vb, lo),
                    _mm256_cmp_ps::<_CMP_GT_OQ>(vb, hi),
                )
            };
            // Each half moved up one slot; the upper half's first slot from the lower
            // half's last. The masks move the same way (the lower half's first: false).
            let zero = _mm256_setzero_ps();
            let (s_lo, s_hi) = (shift_up(lo, zero), shift_up(hi, lo));
            let (sm_lo, sm_hi) = (shift_up(m_lo, zero), shift_up(m_hi, m_lo));
            let new_lo = _mm256_blendv_ps(_mm256_blendv_ps(lo, vb, m_lo), s_lo, sm_lo);
            let new_hi = _mm256_blendv_ps(_mm256_blendv_ps(hi, vb, m_hi), s_hi, sm_hi);
            _mm256_store_ps(kept.0.as_mut_ptr(), new_lo);
            _mm256_store_ps(kept.0.as_mut_ptr().add(8), new_hi);
        }
        #[inline(always)]
        unsafe fn d_from_f(a: __m256) -> Self::D {
            (
                _mm256_cvtps_pd(_mm256_castps256_ps128(a)),
                _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(a)),
            )
        }
        #[inline(always)]
        unsafe fn d_load(p: *const f64) -> Self::D {
            (_mm256_loadu_pd(p), _mm256_loadu_pd(p.add(4)))
        }
        #[inline(always)]
        unsafe fn d_store(v: Self::D, p: *mut f64) {
            _mm256_storeu_pd(p, v.0);
            _mm256_storeu_pd(p.add(4), v.1);
        }
        #[inline(always)]
        unsafe fn d_splat(x: f64) -> Self::D {
            (_mm256_set1_pd(x), _mm256_set1_pd(x))
        }
        #[inline(always)]
        unsafe fn d_add(a: Self::D, b: Self::D) -> Self::D {
            (_mm256_add_pd(a.0, b.0), _mm256_add_pd(a.1, b.1))
        }
        #[inline(always)]
        unsafe fn d_sub(a: Self::D, b: Self::D) -> Self::D {
            (_mm256_sub_pd(a.0, b.0), _mm256_sub_pd(a.1, b.1))
        }
        #[inline(always)]
        unsafe fn d_mul(a: Self::D, b: Self::D) -> Self::D {
            (_mm256_mul_pd(a.0, b.0), _mm256_mul_pd(a.1, b.1))
        }
        #[inline(always)]
        unsafe fn d_mul_add_exact(a: Self::D, b: Self::D, c: Self::D) -> Self::D {
            // AVX2 machines without FMA exist (and the wrappers enable only avx2): the
            // plain sequence, which the exact product makes equal to a fused one.
            (
                _mm256_add_pd(_mm256_mul_pd(a.0, b.0), c.0),
                _mm256_add_pd(_mm256_mul_pd(a.1, b.1), c.1),
            )
        }
        #[inline(always)]
        unsafe fn d_div(a: Self::D, b: Self::D) -> Self::D {
            (_mm256_div_pd(a.0, b.0), _mm256_div_pd(a.1, b.1))
        }
        #[inline(always)]
        unsafe fn d_abs(a: Self::D) -> Self::D {
            let sign = _mm256_set1_pd(-0.0);
            (_mm256_andnot_pd(sign, a.0), _mm256_andnot_pd(sign, a.1))
        }
        #[inline(always)]
        unsafe fn d_neg(a: Self::D) -> Self::D {
            let sign = _mm256_set1_pd(-0.0);
            (_mm256_xor_pd(sign, a.0), _mm256_xor_pd(sign, a.1))
        }
        #[inline(always)]
        unsafe fn d_select_ge(x: Self::D, y: Self::D, a: Self::D, b: Self::D) -> Self::D {
            let m0 = _mm256_cmp_pd::<_CMP_GE_OQ>(x.0, y.0);
            let m1 = _mm256_cmp_pd::<_CMP_GE_OQ>(x.1, y.1);
            (
                _mm256_blendv_pd(b.0, a.0, m0),
                _mm256_blendv_pd(b.1, a.1, m1),
            )
        }
        #[inline(always)]
        unsafe fn d_to_f(a: Self::D) -> __m256 {
            _mm256_set_m128(_mm256_cvtpd_ps(a.1), _mm256_cvtpd_ps(a.0))
        }
        #[inline(always)]
        unsafe fn d_frexp_sqrt2(x: Self::D) -> (Self::D, Self::D) {
            let (m0, e0) = frexp_sqrt2_4(x.0);
            let (m1, e1) = frexp_sqrt2_4(x.1);
            ((m0, m1), (e0, e1))
        }
    }

    impl Lanes8 for Avx512 {
        const D_ACCUMULATORS: usize = 24;
        f32_ops!();
        type D = __m512d;
        #[inline(always)]
        unsafe fn d_from_f(a: __m256) -> __m512d {
            _mm512_cvtps_pd(a)
        }
        #[inline(always)]
        unsafe fn d_load(p: *const f64) -> __m512d {
            _mm512_loadu_pd(p)
        }
        #[inline(always)]
        unsafe fn d_store(v: __m512d, p: *mut f64) {
            _mm512_storeu_pd(p, v)
        }
        #[inline(always)]
        unsafe fn d_splat(x: f64) -> __m512d {
            _mm512_set1_pd(x)
        }
        #[inline(always)]
        unsafe fn d_add(a: __m512d, b: __m512d) -> __m512d {
            _mm512_add_pd(a, b)
        }
        #[inline(always)]
        unsafe fn d_sub(a: __m512d, b: __m512d) -> __m512d {
            _mm512_sub_pd(a, b)
        }
        #[inline(always)]
        unsafe fn d_mul(a: __m512d, b: __m512d) -> __m512d {
            _mm512_mul_pd(a, b)
        }
        #[inline(always)]
        unsafe fn d_mul_add_exact(a: __m512d, b: __m512d, c: __m512d) -> __m512d {
            _mm512_fmadd_pd(a, b, c)
        }
        #[inline(always)]
        unsafe fn d_div(a: __m512d, b: __m512d) -> __m512d {
            _mm512_div_pd(a, b)
        }
        #[inline(always)]
        unsafe fn d_abs(a: __m512d) -> __m512d {
            _mm512_abs_pd(a)
        }
        #[inline(always)]
        unsafe fn d_neg(a: __m512d) -> __m512d {
            _mm512_castsi512_pd(_mm512_xor_si512(
                _mm512_castpd_si512(a),
                _mm512_set1_epi64(i64::MIN),
            ))
        }
        #[inline(always)]
        unsafe fn d_select_ge(x: __m512d, y: __m512d, a: __m512d, b: __m512d) -> __m512d {
            _mm512_mask_blend_pd(_mm512_cmp_pd_mask::<_CMP_GE_OQ>(x, y), b, a)
        }
        #[inline(always)]
        unsafe fn d_to_f(a: __m512d) -> __m256 {
            _mm512_cvtpd_ps(a)
        }
        #[inline(always)]
        unsafe fn keep_best<const ASC: bool>(kept: &mut super::Kept16, _q: usize, v: f32) {
            // Branch-free: slot j takes kept[j - 1] where v beats it, else v where v
            // beats kept[j], else keeps its value (kept is sorted, so this is the
            // insertion).
            let k = _mm512_load_ps(kept.0.as_ptr());
            let vb = _mm512_set1_ps(v);
            let m = if ASC {
                _mm512_cmp_ps_mask::<_CMP_LT_OQ>(vb, k)
            } else {
                _mm512_cmp_ps_mask::<_CMP_GT_OQ>(vb, k)
            };
            let up = _mm512_setr_epi32(0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
            let shifted = _mm512_permutexvar_ps(up, k);
            let new = _mm512_mask_blend_ps(m, k, vb);
            let new = _mm512_mask_blend_ps(m << 1, new, shifted);
            _mm512_store_ps(kept.0.as_mut_ptr(), new);
        }
        #[inline(always)]
        unsafe fn d_frexp_sqrt2(x: __m512d) -> (__m512d, __m512d) {
            // getexp: floor(log2 x); getmant with [1, 2): the mantissa, exactly.
            let exp = _mm512_getexp_pd(x);
            let mant = _mm512_getmant_pd::<_MM_MANT_NORM_1_2, _MM_MANT_SIGN_SRC>(x);
            let big =
                _mm512_cmp_pd_mask::<_CMP_GT_OQ>(mant, _mm512_set1_pd(std::f64::consts::SQRT_2));
            let m = _mm512_mask_mul_pd(mant, big, mant, _mm512_set1_pd(0.5));
            let e = _mm512_mask_add_pd(exp, big, exp, _mm512_set1_pd(1.0));
            (m, e)
        }
    }
}
#[cfg(target_arch = "x86_64")]
pub(crate) use x86_lanes::{Avx2, Avx512};

/// `$body`, as a function of the arguments listed, compiled for instruction set `$isa`
/// and run: with AVX-512F enabled and the type names `$I` and `$V` standing for
/// [`Avx512`] and [`crate::rfft::F64x8`]; with AVX2 and [`Avx2`], `F64x4`; otherwise
/// plain, with [`Portable`] and `f64`. The lane kernels are generic over those types and
/// always inlined, so each copy runs on its own instructions.
///
/// ```text
/// // SAFETY: isa is available; the kernel's own conditions hold.
/// unsafe {
///     dispatch!(isa, <I, _V>(bank: &ChromaBank = bank, out: &mut [f32] = out) {
///         bank.project_lanes::<I>(out)
///     })
/// }
/// ```
///
/// The expansion is unsafe to run: `$isa` must be [available](Isa::available).
macro_rules! dispatch {
    ($isa:expr, <$I:ident, $V:ident>
     ($($arg:ident : $ty:ty = $val:expr),* $(,)?) $(-> $ret:ty)? $body:block) => {
        match $isa {
            #[cfg(target_arch = "x86_64")]
            crate::simd::Isa::Avx512 => {
                #[target_feature(enable = "avx512f")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx512($($arg: $ty),*) $(-> $ret)? {
                    #[allow(dead_code)]
                    type $I = crate::simd::Avx512;
                    #[allow(dead_code)]
                    type $V = crate::rfft::F64x8;
                    $body
                }
                avx512($($val),*)
            }
            #[cfg(target_arch = "x86_64")]
            crate::simd::Isa::Avx2 => {
                #[target_feature(enable = "avx2")]
                #[allow(clippy::too_many_arguments)]
                unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                    #[allow(dead_code)]
                    type $I = crate::simd::Avx2;
                    #[allow(dead_code)]
                    type $V = crate::rfft::F64x4;
                    $body
                }
                avx2($($val),*)
            }
            _ => {
                #[allow(clippy::too_many_arguments)]
                unsafe fn portable($($arg: $ty),*) $(-> $ret)? {
                    #[allow(dead_code)]
                    type $I = crate::simd::Portable;
                    #[allow(dead_code)]
                    type $V = f64;
                    $body
                }
                portable($($val),*)
            }
        }
    };
}
pub(crate) use dispatch;

/// Test helper: `kernel::<I>(args)` for the portable [`Lanes8`] and then for every
/// instruction set this CPU has, as `(Isa, result)` pairs, the portable one first (as
/// `Isa::Scalar`). `kernel` is an `unsafe fn` generic over `I: Lanes8`.
#[cfg(test)]
macro_rules! on_every_isa {
    ($kernel:ident ( $($arg:expr),* $(,)? )) => {{
        // SAFETY: portable code.
        let first = unsafe { $kernel::<crate::simd::Portable>($($arg),*) };
        #[allow(unused_mut)]
        let mut results = vec![(crate::simd::Isa::Scalar, first)];
        #[cfg(target_arch = "x86_64")]
        for isa in crate::simd::Isa::all_available() {
            // SAFETY: the CPU has the instructions (all_available).
            let result = unsafe {
                match isa {
                    crate::simd::Isa::Avx2 => $kernel::<crate::simd::Avx2>($($arg),*),
                    crate::simd::Isa::Avx512 => $kernel::<crate::simd::Avx512>($($arg),*),
                    crate::simd::Isa::Scalar => continue,
                }
            };
            results.push((isa, result));
        }
        results
    }};
}
#[cfg(test)]
pub(crate) use on_every_isa;

/// Test helper: up to [`MAX_LANES`] frames of equal length in lanes, value `k` of frame
/// `l` at `k * MAX_LANES + l` (lanes past the last frame hold 0).
#[cfg(test)]
pub(crate) fn interleave(frames: &[Vec<f32>]) -> Vec<f32> {
    let n = frames.first().map_or(0, Vec::len);
    let mut lanes = vec![0.0f32; n * MAX_LANES];
    for (l, frame) in frames.iter().enumerate() {
        for (k, &v) in frame.iter().enumerate() {
            lanes[k * MAX_LANES + l] = v;
        }
    }
    lanes
}

/// Test helper: whether two slices of f32 hold the same bits.
#[cfg(test)]
pub(crate) fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_best_keeps_the_sorted_extremes_everywhere() {
        let mut state = 5u64;
        for round in 0..300 {
            let q = 1 + round % 16;
            let n = 1 + (round * 7) % 60;
            let values: Vec<f32> = (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    // Coarse values: many ties.
                    ((state >> 40) % 13) as f32
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f32::total_cmp);
            let check = |asc: bool, keep: &dyn Fn(&mut Kept16, f32)| {
                let mut kept = Kept16(
                    [if asc {
                        f32::INFINITY
                    } else {
                        f32::NEG_INFINITY
                    }; 16],
                );
                for &v in &values {
                    keep(&mut kept, v);
                }
                let mut want: Vec<f32> = if asc {
                    sorted.iter().take(q).copied().collect()
                } else {
                    sorted.iter().rev().take(q).copied().collect()
                };
                want.resize(
                    q,
                    if asc {
                        f32::INFINITY
                    } else {
                        f32::NEG_INFINITY
                    },
                );
                assert_eq!(&kept.0[..q], &want[..], "q {q} asc {asc} {values:?}");
            };
            // SAFETY: portable code, or the CPU has the instructions (all_available).
            unsafe {
                check(true, &|k, v| Portable::keep_best::<true>(k, q, v));
                check(false, &|k, v| Portable::keep_best::<false>(k, q, v));
                #[cfg(target_arch = "x86_64")]
                if Isa::Avx512.available() {
                    check(true, &|k, v| Avx512::keep_best::<true>(k, q, v));
                    check(false, &|k, v| Avx512::keep_best::<false>(k, q, v));
                }
                #[cfg(target_arch = "x86_64")]
                if Isa::Avx2.available() {
                    check(true, &|k, v| Avx2::keep_best::<true>(k, q, v));
                    check(false, &|k, v| Avx2::keep_best::<false>(k, q, v));
                }
            }
        }
    }

    #[test]
    fn log10_is_correctly_rounded_nearly_always_and_alike_everywhere() {
        let mut state = 77u64;
        let xs: Vec<f32> = (0..200_000)
            .map(|i| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                match i % 4 {
                    0 => 1.0 + (i as f32) * 1e-5,
                    1 => 10f32.powi(i % 30 - 12),
                    _ => f32::from_bits(((state >> 33) as u32 % 0x7e80_0000) + 0x0080_0000),
                }
            })
            .collect();
        unsafe fn run<I: Lanes8>(xs: &[f32]) -> Vec<f32> {
            let mut out = vec![0.0f32; xs.len()];
            for (o, x) in out.chunks_exact_mut(8).zip(xs.chunks_exact(8)) {
                I::f_store(log10_f32::<I>(I::f_load(x.as_ptr())), o.as_mut_ptr());
            }
            out
        }
        let results = on_every_isa!(run(&xs));
        let ours = &results[0].1;
        let wrong = ours
            .iter()
            .zip(&xs)
            .filter(|(o, x)| o.to_bits() != ((**x as f64).log10() as f32).to_bits())
            .count();
        assert!(
            wrong <= 2,
            "{wrong} values differ from the correctly rounded ones"
        );
        for (isa, got) in &results {
            assert!(same_bits(got, ours), "{isa:?}");
        }
    }
}
