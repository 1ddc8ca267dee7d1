//! Slaney mel filter bank and its application: `librosa.filters.mel(sr, n_fft)` and
//! `librosa.feature.melspectrogram(S=power)`.
//!
//! Conventions of librosa 0.11.0 `filters.py::mel` with its defaults: `n_mels=128`,
//! `fmin=0`, `fmax=sr/2`, `htk=False` (Slaney's mel scale: linear below 1 kHz at
//! 200/3 Hz per mel, logarithmic above with step `ln(6.4) / 27`), `norm="slaney"` (each
//! triangle scaled by `2 / (f[i+2] - f[i])`, constant energy per band).
//!
//! The weights are computed in f64 as librosa does, rounded to f32 once when the triangle
//! is stored and once more after the Slaney scaling (librosa writes the triangles into a
//! float32 array, then multiplies that array by the f64 norms in place); the result equals
//! librosa's `mel_fb.npy` to the last bit or within one f32 ulp where numpy's SIMD `exp`
//! and `log` differ from the platform's by an ulp.
//!
//! The bank is stored sparse: each band's nonzero weights are one contiguous run of bins.
//! Applying it accumulates in f64 and rounds to f32; librosa's einsum goes through BLAS
//! `sgemm` in f32, so the two differ by f32 rounding (relative ~1e-7).

use crate::dot::{dot, dot_f32, dot_lanes, F32Lanes};
use crate::error::{Error, Result};
use crate::simd::Lanes8;
use crate::stft::fft_frequencies;

/// librosa's default number of mel bands.
pub const N_MELS: usize = 128;

// Slaney's mel scale (librosa `hz_to_mel` / `mel_to_hz` with `htk=False`).
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;

fn min_log_mel() -> f64 {
    (MIN_LOG_HZ - 0.0) / F_SP
}

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz to Slaney mels (`librosa.hz_to_mel(f, htk=False)`).
pub fn hz_to_mel(hz: f64) -> f64 {
    let mel = (hz - 0.0) / F_SP;
    if hz >= MIN_LOG_HZ {
        min_log_mel() + (hz / MIN_LOG_HZ).ln() / logstep()
    } else {
        mel
    }
}

/// Slaney mels to Hz (`librosa.mel_to_hz(m, htk=False)`).
pub fn mel_to_hz(mel: f64) -> f64 {
    let hz = 0.0 + F_SP * mel;
    if mel >= min_log_mel() {
        MIN_LOG_HZ * (logstep() * (mel - min_log_mel())).exp()
    } else {
        hz
    }
}

/// `n` frequencies evenly spaced in mels from `fmin` to `fmax` (`librosa.mel_frequencies`).
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64) -> Vec<f64> {
    let (lo, hi) = (hz_to_mel(fmin), hz_to_mel(fmax));
    // numpy linspace: arange * step + start, the last point set to stop.
    let step = if n > 1 {
        (hi - lo) / (n - 1) as f64
    } else {
        0.0
    };
    (0..n)
        .map(|i| {
            let m = if i + 1 == n && n > 1 {
                hi
            } else {
                i as f64 * step + lo
            };
            mel_to_hz(m)
        })
        .collect()
}

/// A mel filter bank, sparse: band `m` has weights `weights[offsets[m]..offsets[m+1]]`
/// for bins `starts[m]..`.
#[derive(Debug, Clone, PartialEq)]
pub struct MelBank {
    n_bins: usize,
    starts: Vec<usize>,
    offsets: Vec<usize>,
    weights: Vec<f32>,
}

impl MelBank {
    /// `librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)` (Slaney scale and norm,
    /// 0 Hz to `sr / 2`).
    pub fn slaney(sr: f64, n_fft: usize, n_mels: usize) -> Result<Self> {
        if !(sr.is_finite() && sr > 0.0) || n_fft < 2 || n_mels == 0 {
            return Err(Error::InvalidArgument(format!(
                "mel bank needs sr > 0, n_fft >= 2, n_mels > 0; got {sr}, {n_fft}, {n_mels}"
            )));
        }
        let fftfreqs = fft_frequencies(sr, n_fft);
        let mel_f = mel_frequencies(n_mels + 2, 0.0, sr / 2.0);
        let n_bins = fftfreqs.len();
        let mut starts = Vec::with_capacity(n_mels);
        let mut offsets = Vec::with_capacity(n_mels + 1);
        let mut weights = Vec::new();
        offsets.push(0);
        for i in 0..n_mels {
            let fdiff_lo = mel_f[i + 1] - mel_f[i];
            let fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
            let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
            let weight = |f: f64| -> f32 {
                let lower = -(mel_f[i] - f) / fdiff_lo;
                let upper = (mel_f[i + 2] - f) / fdiff_hi;
                // np.maximum(0, np.minimum(lower, upper)) stored into float32 ...
                let tri = 0f64.max(lower.min(upper)) as f32;
                // ... then `weights *= enorm[:, None]`: an f64 product, stored as f32.
                (tri as f64 * enorm) as f32
            };
            let first = fftfreqs.iter().position(|&f| weight(f) > 0.0);
            match first {
                Some(first) => {
                    let end = fftfreqs[first..]
                        .iter()
                        .position(|&f| weight(f) <= 0.0)
                        .map_or(n_bins, |n| first + n);
                    starts.push(first);
                    weights.extend(fftfreqs[first..end].iter().map(|&f| weight(f)));
                }
                // An empty band (too many mels for n_fft): librosa warns, we keep it empty.
                None => starts.push(0),
            }
            offsets.push(weights.len());
        }
        Ok(MelBank {
            n_bins,
            starts,
            offsets,
            weights,
        })
    }

    /// Number of mel bands.
    pub fn n_mels(&self) -> usize {
        self.starts.len()
    }

    /// Number of FFT bins the bank expects (`1 + n_fft / 2`).
    pub fn n_bins(&self) -> usize {
        self.n_bins
    }

    /// Band `m`: its first bin and its nonzero weights. Panics if `m >= n_mels()` (like
    /// slice indexing).
    pub fn band(&self, m: usize) -> (usize, &[f32]) {
        (
            self.starts[m],
            &self.weights[self.offsets[m]..self.offsets[m + 1]],
        )
    }

    /// The dense `n_mels x n_bins` matrix, row-major, as librosa returns it.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0; self.n_mels() * self.n_bins];
        for m in 0..self.n_mels() {
            let (start, w) = self.band(m);
            dense[m * self.n_bins + start..][..w.len()].copy_from_slice(w);
        }
        dense
    }

    /// Mel power of one frame: `out[m] = sum_k bank[m, k] * power[k]`, accumulated in f64.
    /// `power` (the power spectrum, widened to f64 once per frame: every band reads it)
    /// has [`MelBank::n_bins`] values, `out` [`MelBank::n_mels`].
    pub fn apply(&self, power: &[f64], out: &mut [f32]) {
        debug_assert_eq!(power.len(), self.n_bins);
        debug_assert_eq!(out.len(), self.n_mels());
        for (m, o) in out.iter_mut().enumerate().take(self.n_mels()) {
            let (start, w) = self.band(m);
            let p = power.get(start..start + w.len()).unwrap_or(&[]);
            *o = dot(w, p) as f32;
        }
    }

    /// [`apply_f32`](Self::apply_f32) on [`crate::simd::MAX_LANES`] frames side by side:
    /// `power[k * LANES + l]` is bin `k` of frame `l`, `out[m * LANES + l]` band `m` of
    /// it. Each lane gets the f64 products and sums of [`crate::dot`]'s fixed order
    /// (partial sums `i mod 16`, their tree, then the tail), so the values equal
    /// `apply_f32`'s frame by frame, to the bit.
    ///
    /// # Safety
    /// The CPU has `I`'s instructions.
    #[inline(always)]
    pub(crate) unsafe fn apply_lanes<I: Lanes8>(&self, power: &[f32], out: &mut [f32]) {
        const L: usize = crate::simd::MAX_LANES;
        assert_eq!(power.len(), self.n_bins * L);
        assert_eq!(out.len(), self.n_mels() * L);
        let mut lanes = [0.0f64; L];
        for m in 0..self.n_mels() {
            let (start, w) = self.band(m);
            let w = &w[..w.len().min(self.n_bins.saturating_sub(start))];
            // f32 weights times widened f32 power: exact products.
            let sum = dot_lanes::<I>(w, &F32Lanes(power.as_ptr().add(start * L)));
            I::d_store(sum, lanes.as_mut_ptr());
            for l in 0..L {
                out[m * L + l] = lanes[l] as f32;
            }
        }
    }

    /// [`apply`](Self::apply) on the f32 power spectrum itself: the same f64 products and
    /// sums, bit for bit, without a widened copy of the frame.
    pub fn apply_f32(&self, power: &[f32], out: &mut [f32]) {
        debug_assert_eq!(power.len(), self.n_bins);
        debug_assert_eq!(out.len(), self.n_mels());
        for (m, o) in out.iter_mut().enumerate().take(self.n_mels()) {
            let (start, w) = self.band(m);
            let p = power.get(start..start + w.len()).unwrap_or(&[]);
            *o = dot_f32(w, p) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_scale_round_trips_and_is_linear_below_1k() {
        assert_eq!(hz_to_mel(0.0), 0.0);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(500.0) - 7.5).abs() < 1e-12);
        for hz in [0.0, 100.0, 999.0, 1000.0, 4000.0, 11025.0] {
            assert!(
                (mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9 * hz.max(1.0),
                "{hz}"
            );
        }
    }

    #[test]
    fn lanes_equal_frame_by_frame() {
        const L: usize = crate::simd::MAX_LANES;
        let bank = MelBank::slaney(22050.0, 2048, 128).unwrap();
        let frames: Vec<Vec<f32>> = (0..L)
            .map(|l| {
                (0..1025)
                    .map(|k| (((k * 37 + l * 11) % 101) as f32 + 0.5) / (7.0 + l as f32))
                    .collect()
            })
            .collect();
        let power = crate::simd::interleave(&frames);
        unsafe fn run<I: crate::simd::Lanes8>(bank: &MelBank, power: &[f32]) -> Vec<f32> {
            let mut out = vec![0.0f32; 128 * crate::simd::MAX_LANES];
            bank.apply_lanes::<I>(power, &mut out);
            out
        }
        let results = crate::simd::on_every_isa!(run(&bank, &power));
        let lanes = &results[0].1;
        for (isa, other) in &results {
            assert!(crate::simd::same_bits(other, lanes), "{isa:?}");
        }
        for (l, f) in frames.iter().enumerate() {
            let mut one = vec![0.0f32; 128];
            bank.apply_f32(f, &mut one);
            for m in 0..128 {
                assert_eq!(
                    lanes[m * L + l].to_bits(),
                    one[m].to_bits(),
                    "lane {l} band {m}"
                );
            }
        }
    }

    #[test]
    fn sparse_apply_equals_dense_product() {
        let bank = MelBank::slaney(22050.0, 2048, 128).unwrap();
        let dense = bank.to_dense();
        let power: Vec<f64> = (0..1025)
            .map(|k| ((k * 37 % 101) as f64 + 0.5) / 7.0)
            .collect();
        let mut fast = vec![0.0; 128];
        bank.apply(&power, &mut fast);
        for m in 0..128 {
            let slow: f64 = (0..1025)
                .map(|k| dense[m * 1025 + k] as f64 * power[k])
                .sum();
            // Same f64 terms, different summation order: a few f64 ulps, then one f32 rounding.
            assert!(
                (fast[m] as f64 - slow).abs() <= 1e-6 * slow.abs(),
                "band {m}: {} vs {slow}",
                fast[m]
            );
        }
    }

    #[test]
    fn every_band_is_nonempty_and_contiguous() {
        let bank = MelBank::slaney(22050.0, 2048, 128).unwrap();
        let dense = bank.to_dense();
        for m in 0..128 {
            let (start, w) = bank.band(m);
            assert!(!w.is_empty(), "band {m}");
            assert!(w.iter().all(|&x| x > 0.0));
            let nonzero = dense[m * 1025..(m + 1) * 1025]
                .iter()
                .filter(|&&x| x > 0.0)
                .count();
            assert_eq!(nonzero, w.len(), "band {m} starting at {start}");
        }
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(MelBank::slaney(0.0, 2048, 128).is_err());
        assert!(MelBank::slaney(22050.0, 2048, 0).is_err());
    }
}
