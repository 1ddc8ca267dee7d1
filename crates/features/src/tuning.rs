//! Tuning estimation: `librosa.estimate_tuning` (piptrack, then `pitch_tuning`), streamed
//! frame by frame.
//!
//! librosa 0.11.0 `core/pitch.py` with the defaults the FMA features use:
//! `estimate_tuning(S=S | y=y, sr, n_fft=2048, resolution=0.01, bins_per_octave=12)`,
//! `piptrack(fmin=150, fmax=4000, threshold=0.1, ref=np.max)`.
//!
//! - piptrack, per frame of a spectrogram `S` (magnitude or power: librosa takes what it is
//!   given): bins `k` with `fmin <= f_k < fmax` that are local maxima
//!   (`x[k] > x[k-1] and x[k] >= x[k+1]`) of `S * (S > 0.1 * max(S over the frame))`
//!   become candidates, with parabolic shift `-b / a` (`a = S[k+1] + S[k-1] - 2 S[k]`,
//!   `b = (S[k+1] - S[k-1]) / 2`, 0 when `|b| >= |a|`), pitch `(k + shift) * sr / n_fft`
//!   and magnitude `S[k] + 0.5 * grad(S)[k] * shift`.
//! - estimate_tuning keeps candidates whose magnitude is at least the median over ALL
//!   candidates of the signal, and `pitch_tuning` histograms
//!   `residual = (12 * log2(pitch / 27.5)) mod 1`, moved to `[-0.5, 0.5)`, over the 100
//!   bins of `linspace(-0.5, 0.5, 101)`; the estimate is the left edge of the first fullest
//!   bin. No candidate at all gives 0.0.
//!
//! The result is an argmax over quantised values, so the arithmetic that decides a bin is
//! reproduced exactly as numpy 2 does it: `S`, the threshold, the masked local maxima,
//! gradient, magnitudes, median and residuals are f32 (NumPy 2 keeps f32 when an f32
//! array meets a Python float); the shift is computed with f64 intermediates (numba
//! types `2 * x[0]` as f64) and stored as f32; the pitch is computed in f64 and stored
//! as f32; the residual is compared with the f64 bin edges in f64. One known gap: numpy's
//! f32 `log2` on AVX-512 machines (SVML) differs from the correctly rounded one (which we
//! and numpy elsewhere use) by an ulp on ~1.4% of inputs, which moves a residual by
//! ~5e-6; that changes a histogram count only when the residual lies that close to a bin
//! edge, and the estimate only if it breaks a near tie.
//!
//! The median needs every candidate, so they are accumulated ([`TuningAccumulator`], 8
//! bytes per candidate) and the estimate is made at the end.

use crate::error::{Error, Result};
use crate::frames::Frames;
use crate::simd::{Lanes8, MAX_LANES};
use crate::stft::{fft_frequencies, Stft};

/// Number of histogram bins of `pitch_tuning` at `resolution=0.01`.
pub const N_TUNING_BINS: usize = 100;

/// Left edge of tuning histogram bin `i` (`np.linspace(-0.5, 0.5, 101)[i]`, bit-exact):
/// the value `estimate_tuning` returns when bin `i` wins.
pub fn tuning_bin_edge(i: usize) -> f64 {
    if i >= N_TUNING_BINS {
        return 0.5;
    }
    i as f64 * ((0.5 - -0.5) / N_TUNING_BINS as f64) + -0.5
}

/// piptrack's parameters (librosa's defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PiptrackParams {
    /// Lowest candidate frequency, Hz. Default 150 (`fmin`).
    pub fmin: f64,
    /// Candidates lie below this frequency, Hz. Default 4000 (`fmax`).
    pub fmax: f64,
    /// Fraction of the frame's max a bin must exceed. Default 0.1 (`threshold`).
    pub threshold: f64,
}

impl Default for PiptrackParams {
    fn default() -> Self {
        PiptrackParams {
            fmin: 150.0,
            fmax: 4000.0,
            threshold: 0.1,
        }
    }
}

/// One piptrack candidate as `estimate_tuning` needs it. The residual's histogram bin is
/// worked out only for the candidates that pass the median (about half: a `log2` each).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Candidate {
    mag: f32,
    pitch: f32,
}

const NO_BIN: u8 = u8::MAX;

/// A planned piptrack for one `sr` / `n_fft` (immutable, `Send + Sync`).
#[derive(Debug, Clone)]
pub struct PitchTracker {
    sr: f64,
    n_fft: usize,
    n_bins: usize,
    /// Candidate bins are `k_lo..k_hi`, with `1 <= k_lo` and `k_hi <= n_bins - 1` (an
    /// empty range when `k_lo >= k_hi`).
    k_lo: usize,
    k_hi: usize,
    threshold: f32,
}

/// The candidates of a whole signal, for one tuning estimate.
#[derive(Debug, Clone, Default)]
pub struct TuningAccumulator {
    candidates: Vec<Candidate>,
    /// Scratch: the candidate bins of the current frame.
    found: Vec<u32>,
    /// Scratch of the estimate: the magnitudes as ordered integers.
    keys: Vec<u32>,
}

/// An integer whose order is `x`'s in `f32::total_cmp` (sign-magnitude to two's
/// complement order).
fn order_key(x: f32) -> u32 {
    let b = x.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

/// The value of an [`order_key`].
fn from_order_key(k: u32) -> f32 {
    f32::from_bits(if k & 0x8000_0000 != 0 {
        k & 0x7fff_ffff
    } else {
        !k
    })
}

impl PitchTracker {
    /// piptrack for spectrogram frames of `1 + n_fft / 2` bins at `sr`.
    pub fn new(sr: f64, n_fft: usize, params: PiptrackParams) -> Result<Self> {
        if !(sr.is_finite() && sr > 0.0) || n_fft < 4 || !params.threshold.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "piptrack needs sr > 0 and n_fft >= 4, got {sr}, {n_fft}"
            )));
        }
        let freqs = fft_frequencies(sr, n_fft);
        let fmin = params.fmin.max(0.0);
        let fmax = params.fmax.min(sr / 2.0);
        let k_lo = freqs.iter().position(|&f| fmin <= f).unwrap_or(freqs.len());
        let k_hi = freqs.iter().position(|&f| f >= fmax).unwrap_or(freqs.len());
        // Bin 0 is never a local max in librosa (the stencil's border is False), and bin
        // n-1 (Nyquist) is never below fmax <= sr/2: clamping changes nothing.
        let n_bins = freqs.len();
        let k_lo = k_lo.max(1);
        let k_hi = k_hi.min(n_bins - 1);
        Ok(PitchTracker {
            sr,
            n_fft,
            n_bins,
            k_lo,
            k_hi,
            threshold: params.threshold as f32,
        })
    }

    /// Adds the candidates of one spectrogram frame (`n_bins` values) to `acc`.
    pub fn push_frame(&self, s: &[f32], acc: &mut TuningAccumulator) {
        let mut found = std::mem::take(&mut acc.found);
        self.for_each_candidate(s, &mut found, |_, pitch, mag| {
            // pitch_mask = pitch > 0: only those count, for the median and the histogram.
            if pitch > 0.0 {
                acc.candidates.push(Candidate { mag, pitch });
            }
        });
        acc.found = found;
    }

    /// [`push_frame`](Self::push_frame) for the first `count` of [`MAX_LANES`] frames
    /// side by side (`s[k * MAX_LANES + l]` is bin `k` of frame `l`): the same candidates.
    ///
    /// # Safety
    /// The CPU has `I`'s instructions.
    #[inline(always)]
    pub(crate) unsafe fn push_lanes<I: Lanes8>(
        &self,
        s: &[f32],
        count: usize,
        acc: &mut TuningAccumulator,
    ) {
        const L: usize = MAX_LANES;
        if s.len() != self.n_bins * L || self.k_lo >= self.k_hi {
            debug_assert_eq!(s.len(), self.n_bins * L);
            return;
        }
        let row = |k: usize| I::f_load(s.as_ptr().add(k * L));
        // ref_value = threshold * np.max(S, axis=-2), in f32 (a max is exact in any
        // order: four running maxima, then theirs).
        let mut maxes = [I::f_splat(f32::NEG_INFINITY); 4];
        let full = self.n_bins / 4 * 4;
        for k0 in (0..full).step_by(4) {
            for (j, m) in maxes.iter_mut().enumerate() {
                *m = I::f_sort_desc(*m, row(k0 + j)).0;
            }
        }
        for k in full..self.n_bins {
            maxes[0] = I::f_sort_desc(maxes[0], row(k)).0;
        }
        let max = I::f_sort_desc(
            I::f_sort_desc(maxes[0], maxes[1]).0,
            I::f_sort_desc(maxes[2], maxes[3]).0,
        )
        .0;
        let ref_value = I::f_mul(I::f_splat(self.threshold), max);
        let masked = |k: usize| I::f_keep_above(row(k), ref_value);
        let live = if count >= L {
            u32::MAX
        } else {
            (1u32 << count) - 1
        };
        let (mut prev, mut cur) = (masked(self.k_lo - 1), masked(self.k_lo));
        for k in self.k_lo..self.k_hi {
            let next = masked(k + 1);
            let mut bits = I::f_gt(cur, prev) & I::f_ge(cur, next) & live;
            if bits != 0 {
                // The candidates of all lanes at once (the arithmetic of `candidate`),
                // kept where a lane has one.
                let (pitches, mags) = self.candidate_lanes::<I>(k, row(k - 1), row(k), row(k + 1));
                while bits != 0 {
                    let l = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    if pitches[l] > 0.0 {
                        acc.candidates.push(Candidate {
                            mag: mags[l],
                            pitch: pitches[l],
                        });
                    }
                }
            }
            (prev, cur) = (cur, next);
        }
    }

    /// [`candidate`](Self::candidate) on 8 lanes: `(pitches, magnitudes)`.
    ///
    /// # Safety
    /// The CPU has `I`'s instructions.
    #[inline(always)]
    unsafe fn candidate_lanes<I: Lanes8>(
        &self,
        k: usize,
        xm: I::F,
        x0: I::F,
        xp: I::F,
    ) -> ([f32; MAX_LANES], [f32; MAX_LANES]) {
        let a = I::d_sub(
            I::d_from_f(I::f_add(xp, xm)),
            I::d_mul(I::d_splat(2.0), I::d_from_f(x0)),
        );
        let diff = I::f_sub(xp, xm);
        // (xp - xm) as f64 / 2.0: a division by 2 is exact, as the product with 0.5.
        let b = I::d_mul(I::d_from_f(diff), I::d_splat(0.5));
        let zero = I::d_splat(0.0);
        let shift64 = I::d_select_ge(I::d_abs(b), I::d_abs(a), zero, I::d_div(I::d_neg(b), a));
        let shift = I::d_to_f(shift64);
        let avg = I::f_mul(diff, I::f_splat(0.5));
        let mag = I::f_add(x0, I::f_mul(I::f_mul(I::f_splat(0.5), avg), shift));
        let pitch = I::d_to_f(I::d_div(
            I::d_mul(
                I::d_add(I::d_splat(k as f64), I::d_from_f(shift)),
                I::d_splat(self.sr),
            ),
            I::d_splat(self.n_fft as f64),
        ));
        let (mut pitches, mut mags) = ([0.0f32; MAX_LANES], [0.0f32; MAX_LANES]);
        I::f_store(pitch, pitches.as_mut_ptr());
        I::f_store(mag, mags.as_mut_ptr());
        (pitches, mags)
    }

    /// Pitch and magnitude of the candidate at bin `k` with neighbours `xm`, `x0`, `xp`.
    #[inline(always)]
    fn candidate(&self, k: usize, xm: f32, x0: f32, xp: f32) -> (f32, f32) {
        // librosa's _pi_stencil under numba: f32 sum, f64 for anything times 2 or / 2.
        let a = (xp + xm) as f64 - 2.0 * x0 as f64;
        let b = (xp - xm) as f64 / 2.0;
        let shift = if b.abs() >= a.abs() {
            0.0f32
        } else {
            (-b / a) as f32
        };
        // np.gradient (f32), then dskew = 0.5 * avg * shift and mags = S + dskew.
        let avg = (xp - xm) / 2.0f32;
        let mag = x0 + 0.5f32 * avg * shift;
        let pitch = ((k as f64 + shift as f64) * self.sr / self.n_fft as f64) as f32;
        (pitch, mag)
    }

    /// The candidates of one frame as `(bin, pitch, magnitude)`: the nonzero entries of
    /// librosa's `piptrack` outputs for that column.
    pub fn candidates(&self, s: &[f32]) -> Vec<(usize, f32, f32)> {
        let mut out = Vec::new();
        self.for_each_candidate(s, &mut Vec::new(), |k, pitch, mag| {
            out.push((k, pitch, mag))
        });
        out
    }

    fn for_each_candidate(
        &self,
        s: &[f32],
        found: &mut Vec<u32>,
        mut f: impl FnMut(usize, f32, f32),
    ) {
        if s.len() != self.n_bins || self.k_lo >= self.k_hi {
            debug_assert_eq!(s.len(), self.n_bins);
            return;
        }
        // ref_value = threshold * np.max(S, axis=-2), in f32.
        let ref_value = self.threshold * frame_max(s);
        let masked = |v: f32| if v > ref_value { v } else { 0.0 };
        // Local maxima of the masked frame: most bins are masked to zero, so test eight
        // bins at a time without branching (vectorised) and visit only the set bits.
        // In bounds: 1 <= k_lo and k_hi <= n_bins - 1 (see `new`).
        found.clear();
        let is_max = |k: usize| {
            let (prev, cur, next) = (masked(s[k - 1]), masked(s[k]), masked(s[k + 1]));
            cur > prev && cur >= next
        };
        let mut k0 = self.k_lo;
        while k0 + 8 <= self.k_hi {
            let w: &[f32; 10] = s[k0 - 1..k0 + 9].try_into().unwrap_or(&[0.0; 10]);
            let mut bits = 0u32;
            for j in 0..8 {
                let (prev, cur, next) = (masked(w[j]), masked(w[j + 1]), masked(w[j + 2]));
                bits |= ((cur > prev && cur >= next) as u32) << j;
            }
            while bits != 0 {
                found.push((k0 + bits.trailing_zeros() as usize) as u32);
                bits &= bits - 1;
            }
            k0 += 8;
        }
        found.extend((k0..self.k_hi).filter(|&k| is_max(k)).map(|k| k as u32));
        let count = found.len();
        for &k in &found[..count] {
            let k = k as usize;
            let (pitch, mag) = self.candidate(k, s[k - 1], s[k], s[k + 1]);
            f(k, pitch, mag);
        }
    }
}

/// The largest value (`np.max` for data without NaN), in eight lanes so that it vectorises.
fn frame_max(s: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut chunks = s.chunks_exact(8);
    for chunk in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l = if v > *l { v } else { *l };
        }
    }
    for (l, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *l = if v > *l { v } else { *l };
    }
    lanes
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

/// numpy's `np.mod` of f32 values (`npy_remainderf`): the result has the sign of `b`.
fn np_mod_f32(a: f32, b: f32) -> f32 {
    let m = a % b;
    if m != 0.0 && ((m < 0.0) != (b < 0.0)) {
        m + b
    } else if m == 0.0 {
        0.0f32.copysign(b)
    } else {
        m
    }
}

/// The histogram bin of a (positive) pitch's residual, as `pitch_tuning` computes it with
/// 12 bins per octave.
fn residual_bin(pitch: f32) -> u8 {
    // hz_to_octs: log2(f / (440 / 16)) in f32; then 12 * octs, mod 1, all f32.
    let octs = (pitch / 27.5f32).log2();
    let mut r = np_mod_f32(12.0f32 * octs, 1.0);
    if r >= 0.5 {
        r -= 1.0;
    }
    let r = r as f64;
    if !(-0.5..=0.5).contains(&r) {
        return NO_BIN;
    }
    // np.histogram with explicit edges compares in f64: edge[i] <= r < edge[i+1], the last
    // bin closed on the right. Guess from the arithmetic, then settle on the edges.
    let mut i = (((r + 0.5) * N_TUNING_BINS as f64) as usize).min(N_TUNING_BINS - 1);
    while i > 0 && r < tuning_bin_edge(i) {
        i -= 1;
    }
    while i + 1 < N_TUNING_BINS && r >= tuning_bin_edge(i + 1) {
        i += 1;
    }
    i as u8
}

impl TuningAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets all candidates, keeping the allocation.
    pub fn clear(&mut self) {
        self.candidates.clear();
    }

    /// Moves every candidate of `other` into this one (the estimate does not depend on
    /// the order candidates came in: frames may be pushed in any order, in parts).
    pub fn append(&mut self, other: &mut TuningAccumulator) {
        self.candidates.append(&mut other.candidates);
    }

    /// Number of candidates so far.
    pub fn len(&self) -> usize {
        self.candidates.len()
    }

    /// Whether no candidate was found.
    pub fn is_empty(&self) -> bool {
        self.candidates.is_empty()
    }

    /// The tuning estimate (fractions of a bin, in `[-0.5, 0.5)`) from every candidate
    /// pushed so far. Reorders the stored candidates.
    pub fn estimate(&mut self) -> f64 {
        let n = self.candidates.len();
        if n == 0 {
            // librosa: threshold 0, then pitch_tuning of an empty set returns 0.0.
            return 0.0;
        }
        // np.median of the f32 magnitudes: the middle one, or the f32 mean of the two.
        // The selection runs on integers that order as the values do.
        let keys = &mut self.keys;
        keys.clear();
        keys.extend(self.candidates.iter().map(|c| order_key(c.mag)));
        let mid = n / 2;
        let (lower, upper, _) = keys.select_nth_unstable(mid);
        let upper = from_order_key(*upper);
        let threshold = if n % 2 == 1 {
            upper
        } else {
            let below = from_order_key(lower.iter().copied().max().unwrap_or(0));
            (below + upper) / 2.0f32
        };
        tuning_of_pitches(
            self.candidates
                .iter()
                .filter(|c| c.mag >= threshold)
                .map(|c| c.pitch),
        )
    }
}

/// `librosa.estimate_tuning(S=spec, sr, n_fft)` over a whole spectrogram
/// (`n_fft / 2 + 1` rows, magnitude or power).
pub fn estimate_tuning(spec: &Frames, sr: f64, n_fft: usize) -> Result<f64> {
    let tracker = PitchTracker::new(sr, n_fft, PiptrackParams::default())?;
    if spec.n_rows != tracker.n_bins {
        return Err(Error::InvalidArgument(format!(
            "spectrogram has {} bins, n_fft {n_fft} needs {}",
            spec.n_rows, tracker.n_bins
        )));
    }
    let mut acc = TuningAccumulator::new();
    for t in 0..spec.n_frames {
        tracker.push_frame(spec.frame(t), &mut acc);
    }
    Ok(acc.estimate())
}

/// `librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=12)`, what `librosa.cqt` uses
/// with `tuning=None`: piptrack on the magnitudes of `stft` (librosa's default 2048 / 512
/// centred STFT), one pass, nothing kept but the candidates.
///
/// [`crate::stft_branch`] returns the same value from its own pass; this is for callers
/// that need the tuning without the rest of the branch.
pub fn estimate_tuning_from_signal(stft: &Stft, y: &[f32], sr: f64) -> Result<f64> {
    let tracker = PitchTracker::new(sr, stft.n_fft(), PiptrackParams::default())?;
    let mut scratch = stft.make_scratch();
    let nb = stft.n_bins();
    let mut mags = vec![0.0f32; MAX_LANES * nb];
    let mut acc = TuningAccumulator::new();
    let n_frames = stft.n_frames(y.len());
    for first in (0..n_frames).step_by(MAX_LANES) {
        let batch = &mut mags[..MAX_LANES.min(n_frames - first) * nb];
        stft.magnitude_frames(y, first, &mut scratch, batch)?;
        for mag in batch.chunks_exact(nb) {
            tracker.push_frame(mag, &mut acc);
        }
    }
    Ok(acc.estimate())
}

/// `librosa.pitch_tuning(frequencies)` with `resolution=0.01`, `bins_per_octave=12`, for
/// f32 frequencies (what `estimate_tuning` hands it).
pub fn pitch_tuning(frequencies: &[f32]) -> f64 {
    tuning_of_pitches(frequencies.iter().copied().filter(|&f| f > 0.0))
}

/// The histogram step of `librosa.pitch_tuning`: the left edge of the fullest bin of the
/// pitches' residuals (np.argmax: the first of the fullest), or 0 with no pitch at all.
fn tuning_of_pitches(pitches: impl Iterator<Item = f32>) -> f64 {
    let mut counts = [0usize; N_TUNING_BINS];
    let mut any = false;
    for f in pitches {
        any = true;
        let bin = residual_bin(f) as usize;
        if bin < N_TUNING_BINS {
            counts[bin] += 1;
        }
    }
    if !any {
        return 0.0;
    }
    let mut best = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c > counts[best] {
            best = i;
        }
    }
    tuning_bin_edge(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_keys_order_as_the_values_and_come_back() {
        let values = [
            f32::NEG_INFINITY,
            -3.5,
            -1e-30,
            -0.0,
            0.0,
            1e-40,
            1e-30,
            2.0,
            3.5,
            f32::MAX,
            f32::INFINITY,
        ];
        for w in values.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]), "{} {}", w[0], w[1]);
        }
        for &v in &values {
            assert_eq!(from_order_key(order_key(v)).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn bin_edges_are_numpy_linspace() {
        assert_eq!(tuning_bin_edge(0), -0.5);
        assert_eq!(tuning_bin_edge(46), -0.03999999999999998);
        assert_eq!(tuning_bin_edge(51), 0.010000000000000009);
        assert_eq!(tuning_bin_edge(100), 0.5);
    }

    #[test]
    fn pitch_tuning_of_detuned_notes() {
        // Notes of an equal-tempered scale 25 cents sharp: librosa's docstring says 0.25.
        let freqs: Vec<f32> = (0..24)
            .map(|i| (55.0 * 2f64.powf((i as f64 + 0.25) / 12.0)) as f32)
            .collect();
        assert_eq!(pitch_tuning(&freqs), 0.25);
        assert_eq!(pitch_tuning(&[]), 0.0);
        assert_eq!(pitch_tuning(&[0.0, -3.0]), 0.0);
        // A440 exactly: residual 0 falls in the bin whose left edge is 0.
        assert_eq!(pitch_tuning(&[440.0, 880.0]), tuning_bin_edge(50));
    }

    #[test]
    fn residual_compares_in_f64() {
        // f32(-0.49) is below the f64 edge -0.49, so numpy puts it in bin 0 (checked with
        // numpy 2.4: np.histogram(np.float32([-0.49]), np.linspace(-.5, .5, 101))).
        let r = -0.49f32;
        assert!((r as f64) < tuning_bin_edge(1));
    }

    #[test]
    fn candidate_bins_equal_a_plain_scan() {
        let tracker = PitchTracker::new(22050.0, 2048, PiptrackParams::default()).unwrap();
        let mut state = 5u64;
        for frame in 0..200 {
            let s: Vec<f32> = (0..1025)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    let v = (state >> 40) as f32 / (1u64 << 24) as f32;
                    // Plateaus (ties) in some frames, as quantised spectra have.
                    if frame % 3 == 0 {
                        (v * 4.0).floor()
                    } else {
                        v * v
                    }
                })
                .collect();
            let ref_value = 0.1f32 * s.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let masked = |k: usize| if s[k] > ref_value { s[k] } else { 0.0 };
            let slow: Vec<usize> = (tracker.k_lo..tracker.k_hi)
                .filter(|&k| masked(k) > masked(k - 1) && masked(k) >= masked(k + 1))
                .collect();
            let fast: Vec<usize> = tracker.candidates(&s).iter().map(|c| c.0).collect();
            assert_eq!(fast, slow, "frame {frame}");
        }
        // fmin 150 Hz and fmax 4000 Hz at 10.77 Hz a bin.
        assert_eq!((tracker.k_lo, tracker.k_hi), (14, 372));
    }

    #[test]
    fn lanes_find_each_frames_candidates() {
        const L: usize = MAX_LANES;
        let tracker = PitchTracker::new(22050.0, 2048, PiptrackParams::default()).unwrap();
        let mut state = 8u64;
        for round in 0..20 {
            let frames: Vec<Vec<f32>> = (0..L)
                .map(|l| {
                    (0..1025)
                        .map(|_| {
                            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                            let v = (state >> 40) as f32 / (1u64 << 24) as f32;
                            match (round + l) % 3 {
                                0 => (v * 4.0).floor(),
                                1 => v * v,
                                _ => 0.0,
                            }
                        })
                        .collect()
                })
                .collect();
            let s = crate::simd::interleave(&frames);
            unsafe fn run<I: Lanes8>(
                tracker: &PitchTracker,
                s: &[f32],
                count: usize,
            ) -> TuningAccumulator {
                let mut acc = TuningAccumulator::new();
                tracker.push_lanes::<I>(s, count, &mut acc);
                acc
            }
            for count in [L, 5] {
                let mut want = TuningAccumulator::new();
                for f in &frames[..count] {
                    tracker.push_frame(f, &mut want);
                }
                let results = crate::simd::on_every_isa!(run(&tracker, &s, count));
                let got = &results[0].1;
                for (isa, other) in &results {
                    assert_eq!(other.candidates, got.candidates, "{isa:?}");
                }
                let key = |c: &Candidate| (c.pitch.to_bits(), c.mag.to_bits());
                let mut a: Vec<_> = want.candidates.iter().map(key).collect();
                let mut b: Vec<_> = got.candidates.iter().map(key).collect();
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b, "round {round} count {count}");
            }
        }
    }

    #[test]
    fn an_empty_frequency_range_finds_nothing() {
        // sr 200 Hz: Nyquist 100 Hz is below fmin 150 Hz.
        let tracker = PitchTracker::new(200.0, 2048, PiptrackParams::default()).unwrap();
        assert!(tracker.candidates(&[1.0; 1025]).is_empty());
    }

    #[test]
    fn no_candidates_gives_zero() {
        let tracker = PitchTracker::new(22050.0, 2048, PiptrackParams::default()).unwrap();
        let mut acc = TuningAccumulator::new();
        tracker.push_frame(&[0.0; 1025], &mut acc);
        assert!(acc.is_empty());
        assert_eq!(acc.estimate(), 0.0);
    }

    #[test]
    fn a_peak_between_bins_interpolates() {
        let tracker = PitchTracker::new(22050.0, 2048, PiptrackParams::default()).unwrap();
        let mut s = vec![0.0f32; 1025];
        // A symmetric parabola peaking at 40.25: values at 39, 40, 41.
        for (k, v) in [
            (39usize, 1.0 - 1.25f32 * 1.25),
            (40, 1.0 - 0.0625),
            (41, 1.0 - 0.5625),
        ] {
            s[k] = v;
        }
        let c = tracker.candidates(&s);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].0, 40);
        let want = 40.25 * 22050.0 / 2048.0;
        assert!((c[0].1 as f64 - want).abs() < 1e-3, "{c:?}");
    }
}
