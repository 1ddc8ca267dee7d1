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
//!   same: f64 window times f32 sample, an f64 real FFT (`realfft`), each component then
//!   rounded to f32. The f64 transform costs ~25% more than an f32 one on a 2048-point
//!   frame; it is what keeps the magnitudes, and through them the tuning histograms,
//!   identical to librosa's.
//! - Magnitude: numpy 2's complex64 `absolute` is not `hypotf`: with `r = min / max` of
//!   `|re|, |im|` it returns `max * sqrt(fma(r, r, 1))` in f32 (numpy's Highway
//!   `OpCabs`). We compute the fma in f64, where `r * r` is exact and the sum is rounded
//!   once before the rounding to f32; see [`cabs_f32`].
//!
//! Only even `n_fft` is supported (the Nyquist bin conventions of `rms` depend on it).

use crate::error::{Error, Result};
use crate::frames::Frames;
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

/// [`cabs_f32`] for finite inputs, branch-free so that loops over it vectorise. Gives a
/// non-finite result for any non-finite input (NaN or infinity propagates through the
/// comparisons below), so callers can detect those and redo them with [`cabs_f32`].
#[inline(always)]
fn cabs_f32_finite(re: f32, im: f32) -> f32 {
    let (a, b) = (re.abs(), im.abs());
    // Selects rather than f32::max/min, which would drop a NaN.
    let ge = a >= b;
    let larger = if ge { a } else { b };
    let smaller = if ge { b } else { a };
    let ratio = smaller / larger;
    let ratio = if larger == 0.0 { 0.0 } else { ratio };
    let r = ratio as f64;
    // r * r is exact in f64 (48 significant bits), so this is fma(r, r, 1) rounded to f64,
    // then to f32; the double rounding matches a true f32 fma on every tested input.
    let hypot = ((r * r + 1.0) as f32).sqrt();
    hypot * larger
}

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
        if std::is_x86_feature_detected!("avx") {
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
        if std::is_x86_feature_detected!("avx") {
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
}

impl Stft {
    /// Plans an STFT with a periodic Hann window of `n_fft` samples (`n_fft` even, >= 2)
    /// and `hop_length` (>= 1).
    pub fn new(n_fft: usize, hop_length: usize) -> Result<Self> {
        if n_fft < 2 || n_fft % 2 != 0 {
            return Err(Error::InvalidArgument(format!(
                "n_fft must be even and at least 2, got {n_fft}"
            )));
        }
        if hop_length == 0 {
            return Err(Error::InvalidArgument("hop_length must be positive".into()));
        }
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        Ok(Stft {
            n_fft,
            hop_length,
            window: hann_periodic(n_fft),
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
        for t in 0..n_frames {
            self.magnitude_frame(y, t, &mut scratch, out.frame_mut(t))?;
        }
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
