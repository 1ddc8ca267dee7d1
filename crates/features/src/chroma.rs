//! STFT chroma filter banks and chroma frames: `librosa.filters.chroma(sr, n_fft, tuning)`
//! and the last two steps of `librosa.feature.chroma_stft(S=power, sr)`.
//!
//! Conventions of librosa 0.11.0 `filters.py::chroma` with its defaults: `n_chroma=12`,
//! `ctroct=5.0`, `octwidth=2`, `norm=2`, `base_c=True`, A440 reference shifted by
//! `tuning` (fractions of a bin). Each FFT bin `k > 0` sits at `12 * log2(f_k / (A440 / 16))`
//! chroma bins (bin 0 is placed 1.5 octaves below bin 1); its weight on class `c` is a
//! Gaussian bump `exp(-0.5 * (2 D / width)^2)` of the distance `D` wrapped to
//! `[-6, 6)`; columns are L2-normalised, then weighted by a Gaussian over octaves centred
//! on octave 5 with sd 2, and rows rotated so that class 0 is C. The bank is computed in
//! f64 and stored as f32, as librosa returns it; it is dense (every weight is positive).
//!
//! `chroma_stft` then projects the power spectrum (accumulated here in f64; librosa's
//! einsum uses f32 BLAS) and normalises each frame by its largest value
//! (`librosa.util.normalize(norm=inf)`): frames whose max is below the smallest normal f32
//! (`tiny`) are left unnormalised, which keeps silence at zero rather than NaN.
//!
//! The bank depends on the tuning estimated per file. Estimates are histogram bin edges,
//! multiples of 0.01 in `[-0.5, 0.5)`, so [`ChromaBankCache`] keeps one lazily built bank
//! per edge, shared by threads.

use crate::error::{Error, Result};
use crate::simd::Lanes8;
use crate::tuning::{tuning_bin_edge, N_TUNING_BINS};
use std::sync::{Arc, OnceLock};

/// librosa's default number of chroma classes.
pub const N_CHROMA: usize = 12;

/// A dense `n_chroma x n_bins` chroma filter bank.
#[derive(Debug, Clone, PartialEq)]
pub struct ChromaBank {
    n_chroma: usize,
    n_bins: usize,
    tuning: f64,
    /// Row-major `n_chroma x n_bins`.
    weights: Vec<f32>,
    /// The same weights widened to f64 and transposed, `n_bins x n_chroma`: the layout
    /// [`ChromaBank::apply_frames`] streams through.
    weights_t: Vec<f64>,
}

impl ChromaBank {
    /// `librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=n_chroma, tuning=tuning)`.
    pub fn new(sr: f64, n_fft: usize, n_chroma: usize, tuning: f64) -> Result<Self> {
        if !(sr.is_finite() && sr > 0.0) || n_fft < 2 || n_chroma == 0 || !tuning.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "chroma bank needs sr > 0, n_fft >= 2, n_chroma > 0, finite tuning; \
                 got {sr}, {n_fft}, {n_chroma}, {tuning}"
            )));
        }
        let nc = n_chroma as f64;
        // frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
        let step = sr / n_fft as f64;
        let a440 = 440.0 * 2f64.powf(tuning / nc);
        let mut frqbins: Vec<f64> = Vec::with_capacity(n_fft);
        frqbins.push(0.0);
        for i in 1..n_fft {
            let f = i as f64 * step + 0.0;
            frqbins.push(nc * (f / (a440 / 16.0)).log2());
        }
        frqbins[0] = frqbins[1] - 1.5 * nc;
        // binwidthbins = concat(maximum(diff(frqbins), 1.0), [1])
        let widths: Vec<f64> = (0..n_fft)
            .map(|j| {
                if j + 1 < n_fft {
                    (frqbins[j + 1] - frqbins[j]).max(1.0)
                } else {
                    1.0
                }
            })
            .collect();
        let n_chroma2 = (nc / 2.0).round_ties_even();
        let n_bins = n_fft / 2 + 1;
        // Columns beyond n_bins are dropped by librosa after normalisation; each column is
        // normalised on its own, so computing only the kept ones gives the same values.
        let mut wts = vec![0.0f64; n_chroma * n_bins];
        for j in 0..n_bins {
            let mut sumsq = 0.0f64;
            for c in 0..n_chroma {
                let d = frqbins[j] - c as f64;
                // np.remainder(D + n_chroma2 + 10 * n_chroma, n_chroma) - n_chroma2
                let d = py_mod(d + n_chroma2 + 10.0 * nc, nc) - n_chroma2;
                let w = (-0.5 * (2.0 * d / widths[j]).powi(2)).exp();
                wts[c * n_bins + j] = w;
                sumsq += w * w;
            }
            // util.normalize(norm=2, axis=0): sum of squares (rows in order), sqrt;
            // a column below f64 tiny is left as is.
            let length = sumsq.sqrt();
            let length = if length < f64::MIN_POSITIVE {
                1.0
            } else {
                length
            };
            let octave = (-0.5 * ((frqbins[j] / nc - 5.0) / 2.0).powi(2)).exp();
            for c in 0..n_chroma {
                let w = &mut wts[c * n_bins + j];
                *w = *w / length * octave;
            }
        }
        // base_c: np.roll(wts, -3 * (n_chroma // 12), axis=0) makes row c the old row c + 3.
        let shift = 3 * (n_chroma / 12);
        let mut weights = vec![0.0f32; n_chroma * n_bins];
        for c in 0..n_chroma {
            let src = (c + shift) % n_chroma;
            for j in 0..n_bins {
                weights[c * n_bins + j] = wts[src * n_bins + j] as f32;
            }
        }
        let mut weights_t = vec![0.0f64; n_bins * n_chroma];
        for c in 0..n_chroma {
            for j in 0..n_bins {
                weights_t[j * n_chroma + c] = f64::from(weights[c * n_bins + j]);
            }
        }
        Ok(ChromaBank {
            n_chroma,
            n_bins,
            tuning,
            weights,
            weights_t,
        })
    }

    /// Number of chroma classes.
    pub fn n_chroma(&self) -> usize {
        self.n_chroma
    }

    /// Number of FFT bins the bank expects.
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// The tuning the bank was built for.
    pub fn tuning(&self) -> f64 {
        self.tuning
    }

    /// The weights, row-major `n_chroma x n_bins`.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// One chroma frame from one power-spectrum frame: the projection normalised by its
    /// max ([`normalize_inf`]). `power` has `n_bins` values, `out` `n_chroma`.
    ///
    /// Each class is `sum_k w[c, k] * power[k]` accumulated in f64 in bin order, as in
    /// [`apply_frames`](Self::apply_frames).
    pub fn apply(&self, power: &[f64], out: &mut [f32]) {
        debug_assert_eq!(power.len(), self.n_bins);
        let mut acc = vec![0.0f64; self.n_chroma];
        for (w, &p) in self.weights_t.chunks_exact(self.n_chroma).zip(power) {
            for (a, &w) in acc.iter_mut().zip(w) {
                *a += w * p;
            }
        }
        for (o, a) in out.iter_mut().zip(&acc) {
            *o = *a as f32;
        }
        normalize_inf(out);
    }

    /// [`apply_frames`](Self::apply_frames) for one frame.
    pub fn apply_f32(&self, power: &[f32], out: &mut [f32]) {
        self.apply_frames(power, out);
    }

    /// The projections of [`crate::simd::MAX_LANES`] power-spectrum frames side by side
    /// (`power[k * LANES + l]` is bin `k` of frame `l`), before normalisation:
    /// `out[c * LANES + l]` is class `c` of frame `l`, each summed in bin order in f64
    /// as [`apply`](Self::apply) does.
    ///
    /// # Safety
    /// The CPU has `I`'s instructions.
    #[inline(always)]
    pub(crate) unsafe fn project_lanes<I: Lanes8>(&self, power: &[f32], out: &mut [f32]) {
        const L: usize = crate::simd::MAX_LANES;
        let (nb, nc) = (self.n_bins, self.n_chroma);
        assert_eq!(power.len(), nb * L);
        assert_eq!(out.len(), nc * L);
        let mut lanes = [0.0f64; L];
        if nc != N_CHROMA {
            for c in 0..nc {
                let mut acc = I::d_splat(0.0);
                for k in 0..nb {
                    let p = I::d_from_f(I::f_load(power.as_ptr().add(k * L)));
                    acc = I::d_mul_add_exact(I::d_splat(self.weights_t[k * nc + c]), p, acc);
                }
                I::d_store(acc, lanes.as_mut_ptr());
                for l in 0..L {
                    out[c * L + l] = lanes[l] as f32;
                }
            }
            return;
        }
        if I::D_ACCUMULATORS >= N_CHROMA {
            self.project_chroma::<I, N_CHROMA>(power, 0, out);
        } else {
            self.project_chroma::<I, { N_CHROMA / 2 }>(power, 0, out);
            self.project_chroma::<I, { N_CHROMA / 2 }>(power, N_CHROMA / 2, out);
        }
    }

    /// [`project_lanes`](Self::project_lanes) for the `G` chroma bins from `c0` on (12
    /// chroma bins): one pass over the power spectrum with `G` accumulators.
    #[inline(always)]
    unsafe fn project_chroma<I: Lanes8, const G: usize>(
        &self,
        power: &[f32],
        c0: usize,
        out: &mut [f32],
    ) {
        const L: usize = crate::simd::MAX_LANES;
        let mut acc = [I::d_splat(0.0); G];
        let w = self.weights_t.as_ptr().add(c0);
        for k in 0..self.n_bins {
            let p = I::d_from_f(I::f_load(power.as_ptr().add(k * L)));
            for (c, a) in acc.iter_mut().enumerate() {
                // The weights are f32 values: exact products.
                *a = I::d_mul_add_exact(I::d_splat(*w.add(k * N_CHROMA + c)), p, *a);
            }
        }
        let mut lanes = [0.0f64; L];
        for (c, a) in acc.iter().enumerate() {
            I::d_store(*a, lanes.as_mut_ptr());
            for l in 0..L {
                out[(c0 + c) * L + l] = lanes[l] as f32;
            }
        }
    }

    /// Chroma of consecutive power-spectrum frames: `power` holds `n` frames of `n_bins`
    /// values, `out` `n` frames of `n_chroma`; each frame as [`apply`](Self::apply) on the
    /// widened frame, to the bit (exact f64 products of f32 values, summed in bin order).
    ///
    /// Four frames at a time share each weight load; with FMA the multiply-add is fused,
    /// which changes nothing since the products are exact. Any grouping of frames into
    /// calls gives the same values.
    pub fn apply_frames(&self, power: &[f32], out: &mut [f32]) {
        let (nb, nc) = (self.n_bins, self.n_chroma);
        if nb == 0 || nc == 0 {
            return;
        }
        let n = (power.len() / nb).min(out.len() / nc);
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        if nc == N_CHROMA && crate::simd::avx() {
            let blocks = n / 4;
            let fma = crate::simd::fma();
            for b in 0..blocks {
                let p = &power[4 * b * nb..4 * (b + 1) * nb];
                let o = &mut out[4 * b * nc..4 * (b + 1) * nc];
                // SAFETY: the CPU supports AVX (and FMA where used), checked above.
                unsafe {
                    if fma {
                        project4::fma(&self.weights_t, p, o);
                    } else {
                        project4::avx(&self.weights_t, p, o);
                    }
                }
            }
            done = 4 * blocks;
        }
        let mut acc = vec![0.0f64; nc];
        for t in done..n {
            acc.fill(0.0);
            let frame = &power[t * nb..(t + 1) * nb];
            for (w, &p) in self.weights_t.chunks_exact(nc).zip(frame) {
                let p = f64::from(p);
                for (a, &w) in acc.iter_mut().zip(w) {
                    *a += w * p;
                }
            }
            for (o, a) in out[t * nc..(t + 1) * nc].iter_mut().zip(&acc) {
                *o = *a as f32;
            }
        }
        for frame in out[..n * nc].chunks_exact_mut(nc) {
            normalize_inf(frame);
        }
    }
}

/// The 12-class projection of four frames at once (one frame per f64 lane).
#[cfg(target_arch = "x86_64")]
mod project4 {
    use super::N_CHROMA;
    use std::arch::x86_64::*;

    #[inline(always)]
    unsafe fn body<const FMA: bool>(weights_t: &[f64], power: &[f32], out: &mut [f32]) {
        let nb = power.len() / 4;
        let (p0, p1, p2, p3) = (
            &power[..nb],
            &power[nb..2 * nb],
            &power[2 * nb..3 * nb],
            &power[3 * nb..4 * nb],
        );
        let mut acc = [_mm256_setzero_pd(); N_CHROMA];
        for (k, w) in weights_t.chunks_exact(N_CHROMA).take(nb).enumerate() {
            let p = _mm256_cvtps_pd(_mm_set_ps(p3[k], p2[k], p1[k], p0[k]));
            for (a, w) in acc.iter_mut().zip(w) {
                let w = _mm256_set1_pd(*w);
                *a = if FMA {
                    _mm256_fmadd_pd(w, p, *a)
                } else {
                    _mm256_add_pd(*a, _mm256_mul_pd(w, p))
                };
            }
        }
        let mut lanes = [0.0f64; 4];
        for (c, a) in acc.iter().enumerate() {
            // SAFETY: `lanes` holds four f64.
            _mm256_storeu_pd(lanes.as_mut_ptr(), *a);
            for (t, v) in lanes.iter().enumerate() {
                out[t * N_CHROMA + c] = *v as f32;
            }
        }
    }

    #[target_feature(enable = "avx")]
    pub(super) unsafe fn avx(weights_t: &[f64], power: &[f32], out: &mut [f32]) {
        body::<false>(weights_t, power, out)
    }

    #[target_feature(enable = "avx,fma")]
    pub(super) unsafe fn fma(weights_t: &[f64], power: &[f32], out: &mut [f32]) {
        body::<true>(weights_t, power, out)
    }
}

/// Python's float `%` (numpy `remainder`): the result has the sign of `b`.
fn py_mod(a: f64, b: f64) -> f64 {
    let m = a % b;
    if m != 0.0 && ((m < 0.0) != (b < 0.0)) {
        m + b
    } else {
        m
    }
}

/// `librosa.util.normalize(x, norm=np.inf)` of one frame of f32 values: divides by the
/// largest magnitude unless it is below the smallest normal f32 (then leaves `x` as is).
pub fn normalize_inf(x: &mut [f32]) {
    let length = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if length < f32::MIN_POSITIVE {
        return;
    }
    for v in x.iter_mut() {
        // librosa divides by an f64 length and stores f32: the same as an f32 division.
        *v /= length;
    }
}

/// One lazily built [`ChromaBank`] per tuning estimate, shared by threads.
#[derive(Debug)]
pub struct ChromaBankCache {
    sr: f64,
    n_fft: usize,
    n_chroma: usize,
    slots: Vec<OnceLock<Arc<ChromaBank>>>,
}

impl ChromaBankCache {
    /// An empty cache for banks of these parameters.
    pub fn new(sr: f64, n_fft: usize, n_chroma: usize) -> Result<Self> {
        // Validate once, so that `get` can only fail on the tuning.
        ChromaBank::new(sr, n_fft, n_chroma, 0.0)?;
        Ok(ChromaBankCache {
            sr,
            n_fft,
            n_chroma,
            slots: (0..N_TUNING_BINS).map(|_| OnceLock::new()).collect(),
        })
    }

    /// The bank for `tuning`: cached when `tuning` is one of the estimator's values
    /// ([`crate::tuning::tuning_bin_edge`]), built afresh otherwise.
    pub fn get(&self, tuning: f64) -> Result<Arc<ChromaBank>> {
        let slot = ((tuning + 0.5) * N_TUNING_BINS as f64).round();
        if slot >= 0.0 && slot < N_TUNING_BINS as f64 {
            let i = slot as usize;
            if tuning_bin_edge(i) == tuning {
                if let Some(bank) = self.slots[i].get() {
                    return Ok(bank.clone());
                }
                let bank = Arc::new(ChromaBank::new(self.sr, self.n_fft, self.n_chroma, tuning)?);
                // Another thread may have won the race; either bank is the same.
                return Ok(self.slots[i].get_or_init(|| bank).clone());
            }
        }
        Ok(Arc::new(ChromaBank::new(
            self.sr,
            self.n_fft,
            self.n_chroma,
            tuning,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_project_as_frame_by_frame() {
        const L: usize = crate::simd::MAX_LANES;
        let bank = ChromaBank::new(22050.0, 2048, 12, 0.03).unwrap();
        let frames: Vec<Vec<f32>> = (0..L)
            .map(|l| {
                (0..1025)
                    .map(|k| (((k * 31 + l * 7) % 97) as f32 + 0.25) / (3.0 + l as f32))
                    .collect()
            })
            .collect();
        let power = crate::simd::interleave(&frames);
        unsafe fn run<I: crate::simd::Lanes8>(bank: &ChromaBank, power: &[f32]) -> Vec<f32> {
            let mut out = vec![0.0f32; 12 * crate::simd::MAX_LANES];
            bank.project_lanes::<I>(power, &mut out);
            out
        }
        let results = crate::simd::on_every_isa!(run(&bank, &power));
        let lanes = &results[0].1;
        for (isa, other) in &results {
            assert!(crate::simd::same_bits(other, lanes), "{isa:?}");
        }
        for (l, f) in frames.iter().enumerate() {
            let mut one = [0.0f32; 12];
            let mut col: Vec<f32> = (0..12).map(|c| lanes[c * L + l]).collect();
            normalize_inf(&mut col);
            bank.apply_f32(f, &mut one);
            for c in 0..12 {
                assert_eq!(col[c].to_bits(), one[c].to_bits(), "lane {l} class {c}");
            }
        }
    }

    #[test]
    fn a440_lands_on_class_a() {
        let bank = ChromaBank::new(22050.0, 2048, 12, 0.0).unwrap();
        // Bin 41 is 441.4 Hz; with base_c, class 9 is A.
        let col: Vec<f32> = (0..12).map(|c| bank.weights()[c * 1025 + 41]).collect();
        let best = (0..12).max_by(|&a, &b| col[a].total_cmp(&col[b])).unwrap();
        assert_eq!(best, 9, "{col:?}");
    }

    #[test]
    fn normalize_inf_leaves_silence_alone() {
        let mut x = [0.0f32; 12];
        normalize_inf(&mut x);
        assert!(x.iter().all(|&v| v == 0.0));
        let mut x = [1.0, -4.0, 2.0];
        normalize_inf(&mut x);
        assert_eq!(x, [0.25, -1.0, 0.5]);
        let mut tiny = [1e-39f32, 0.0];
        normalize_inf(&mut tiny);
        assert_eq!(tiny, [1e-39, 0.0]);
    }

    #[test]
    fn cache_returns_the_same_bank_for_grid_tunings() {
        let cache = ChromaBankCache::new(22050.0, 2048, 12).unwrap();
        let t = tuning_bin_edge(46);
        let a = cache.get(t).unwrap();
        let b = cache.get(t).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(*a, ChromaBank::new(22050.0, 2048, 12, t).unwrap());
        // Off the grid: built, not cached, still right.
        let c = cache.get(0.123).unwrap();
        assert_eq!(c.tuning(), 0.123);
        assert!(cache.get(f64::NAN).is_err());
    }

    #[test]
    fn py_mod_has_the_sign_of_the_divisor() {
        assert_eq!(py_mod(-1.0, 12.0), 11.0);
        assert_eq!(py_mod(13.0, 12.0), 1.0);
        assert_eq!(py_mod(12.0, 12.0), 0.0);
    }
}
