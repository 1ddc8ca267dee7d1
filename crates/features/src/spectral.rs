//! Spectral features of a magnitude spectrogram and the zero-crossing rate:
//! `librosa.feature.{rms, spectral_centroid, spectral_bandwidth, spectral_rolloff,
//! spectral_contrast}(S=|stft|, sr)` and `librosa.feature.zero_crossing_rate(y)`.
//!
//! Conventions of librosa 0.11.0 `feature/spectral.py` with the defaults the FMA features
//! use (`n_fft=2048`, `hop_length=512`, `center=True`); every per-frame kernel takes one
//! frame of `|STFT|` (`1 + n_fft / 2` f32 magnitudes):
//!
//! - `rms(S=S, frame_length=n_fft)`: `sqrt(2 * sum(x) / n_fft^2)` with `x = S^2`, the DC
//!   and Nyquist terms halved. Summed in f64 (numpy: f32), rounded to f32.
//! - `spectral_centroid`: `sum(f_k * S_k) / sum(S_k)`; a frame whose sum is below the
//!   smallest normal f32 is not normalised (librosa's `normalize` threshold), so silence
//!   gives 0. Bin frequencies are `np.fft.rfftfreq`'s. f64 (librosa returns f64 too).
//! - `spectral_bandwidth` (`p=2`, `norm=True`): `sqrt(sum(S_k / sum(S) * (f_k - centroid)^2))`.
//! - `spectral_rolloff` (`roll_percent=0.85`): the frequency of the first bin whose
//!   cumulative sum reaches `0.85 * total`. The cumulative sum is sequential in f32 and
//!   the comparison is f32, as numpy does it, so the chosen bin is librosa's.
//! - `spectral_contrast` (`fmin=200`, `n_bands=6`, `quantile=0.02`, `linear=False`):
//!   band edges `[0, 200, 400, ..., 12800]` Hz; band `k` takes the bins with
//!   `f_low <= f <= f_high`, plus the bin below for `k > 0`, minus its last bin for
//!   `k < n_bands`, and everything above for the last band; with
//!   `q = max(1, rint(0.02 * n))` (`n` counting the dropped bin), peak and valley are the
//!   means of the `q` largest and `q` smallest magnitudes. Contrast is
//!   `power_to_db(peak) - power_to_db(valley)` where each `power_to_db` (`amin=1e-10`,
//!   `top_db=80`) clamps at the max over ALL bands and frames, so the per-frame peaks and
//!   valleys are kept and finished by [`contrast_from_peaks_valleys`] once the signal ends.
//! - `zero_crossing_rate(y, frame_length=2048, hop_length=512)`: NOTE the padding differs
//!   from the STFT's: librosa pads with `mode="edge"` (repeats the end samples), then
//!   counts, inside each frame, positions `i >= 1` where the sign bits of `y[i]` and
//!   `y[i-1]` differ after values with `|y| <= 1e-10` are set to 0; the rate is that
//!   count over `frame_length`.

use crate::error::{Error, Result};
use crate::frames::Frames;
use crate::simd::{Kept16, Lanes8};
use crate::stft::fft_frequencies;

/// Number of rows of `spectral_contrast` with `n_bands=6`.
pub const N_CONTRAST: usize = 7;

/// Sum of eight partial sums, as a fixed tree.
fn lanes_sum(l: &[f64; 8]) -> f64 {
    ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

/// Frames per [`RolloffBatch`].
const ROLLOFF_BATCH: usize = 8;

/// Rolloff of many frames, 8 at a time.
///
/// librosa's rolloff is the first bin where numpy's f32 cumulative sum reaches
/// `f32(0.85) * total`; to pick the same bin, the sum has to be that sequential f32 chain,
/// ~1025 dependent additions a frame, bound by the adder's latency. Interleaving the
/// chains of 8 frames (one SIMD lane each) computes 8 for the price of one, each lane
/// still a plain sequential f32 sum. Frames are copied in bin-major order as they come;
/// [`RolloffBatch::push`] fills in results 8 at a time and [`RolloffBatch::finish`] the
/// rest.
#[derive(Debug, Clone)]
pub struct RolloffBatch {
    /// `lanes[k * 8 + i]`: bin `k` of the `i`-th pending frame.
    lanes: Vec<f32>,
    pending: [usize; ROLLOFF_BATCH],
    len: usize,
}

impl RolloffBatch {
    /// An empty batch for frames of `plan`'s size.
    pub fn new(plan: &SpectralPlan) -> Self {
        RolloffBatch {
            lanes: vec![0.0; plan.n_bins() * ROLLOFF_BATCH],
            pending: [0; ROLLOFF_BATCH],
            len: 0,
        }
    }

    /// Queues frame `index` (its `|STFT|`, `n_bins` values); when the batch is full,
    /// writes the rolloff (Hz) of its frames into `rolloff`, indexed by frame.
    pub fn push(&mut self, plan: &SpectralPlan, index: usize, mag: &[f32], rolloff: &mut [f32]) {
        let slot = self.len;
        for (lane, &m) in self.lanes[slot..]
            .iter_mut()
            .step_by(ROLLOFF_BATCH)
            .zip(mag)
        {
            *lane = m;
        }
        self.pending[slot] = index;
        self.len += 1;
        if self.len == ROLLOFF_BATCH {
            self.finish(plan, rolloff);
        }
    }

    /// Writes the rolloff of every queued frame into `rolloff` (indexed by frame) and
    /// empties the batch.
    pub fn finish(&mut self, plan: &SpectralPlan, rolloff: &mut [f32]) {
        if self.len == 0 {
            return;
        }
        // Lanes past `len` hold stale frames: computed alongside, never written out.
        let mut total = [0.0f32; ROLLOFF_BATCH];
        for row in self.lanes.chunks_exact(ROLLOFF_BATCH) {
            for i in 0..ROLLOFF_BATCH {
                total[i] += row[i];
            }
        }
        let mut threshold = [0.0f32; ROLLOFF_BATCH];
        for i in 0..ROLLOFF_BATCH {
            threshold[i] = 0.85f32 * total[i];
        }
        let mut acc = [0.0f32; ROLLOFF_BATCH];
        let mut below = [0u32; ROLLOFF_BATCH];
        for row in self.lanes.chunks_exact(ROLLOFF_BATCH) {
            for i in 0..ROLLOFF_BATCH {
                acc[i] += row[i];
                // The cumulative sum never decreases, so the bins below the threshold are
                // exactly those before the rolloff bin: their count is its index.
                below[i] += (acc[i] < threshold[i]) as u32;
            }
        }
        for (&frame, &k) in self.pending[..self.len].iter().zip(&below) {
            if let Some(r) = rolloff.get_mut(frame) {
                *r = plan.freq_or_zero(k as usize) as f32;
            }
        }
        self.len = 0;
    }
}

/// librosa's rolloff bin the slow, literal way: numpy's sequential f32 cumulative sum
/// (kept in `cumsum`, one chain of additions) and the first bin where it reaches
/// `f32(0.85) * total`.
fn rolloff_bin_exact(mag: &[f32], cumsum: &mut Vec<f32>) -> usize {
    cumsum.clear();
    let mut acc = 0.0f32;
    for &s in mag {
        acc += s;
        cumsum.push(acc);
    }
    let threshold = 0.85f32 * acc;
    // A cumulative sum of non-negative values is non-decreasing: a partition point.
    cumsum.partition_point(|&c| c < threshold)
}

/// The plain sums of one frame.
#[derive(Debug, Clone, Copy)]
struct Sums {
    /// Sum of squared magnitudes, DC and Nyquist halved.
    power: f64,
    total: f64,
    /// Sum of magnitude times bin frequency.
    weighted: f64,
}

impl Sums {
    fn rms(&self, n_fft: usize) -> f32 {
        let frame_length = n_fft as f64;
        (2.0 * self.power / (frame_length * frame_length)).sqrt() as f32
    }
}

/// One contrast band: bins `lo..hi` of the frame, peak/valley over `q` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ContrastBand {
    lo: usize,
    hi: usize,
    q: usize,
}

/// Tables of the spectral features for one `sr` / `n_fft` (immutable, `Send + Sync`).
#[derive(Debug, Clone)]
pub struct SpectralPlan {
    n_fft: usize,
    freqs: Vec<f64>,
    bands: Vec<ContrastBand>,
}

/// Per-thread buffers of [`SpectralPlan`].
#[derive(Debug, Clone, Default)]
pub struct SpectralScratch {
    cumsum: Vec<f32>,
    extremes: ExtremesScratch,
}

/// The spectral features of one frame (contrast still split in peaks and valleys).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpectralFrame {
    pub rms: f32,
    pub centroid: f64,
    pub bandwidth: f64,
    pub rolloff: f64,
    pub contrast_peak: [f64; N_CONTRAST],
    pub contrast_valley: [f64; N_CONTRAST],
}

impl SpectralPlan {
    /// Tables for frames of `1 + n_fft / 2` bins at `sr`, with librosa's contrast
    /// defaults (`fmin=200`, `n_bands=6`, `quantile=0.02`).
    pub fn new(sr: f64, n_fft: usize) -> Result<Self> {
        if !(sr.is_finite() && sr > 0.0) || n_fft < 2 || !n_fft.is_multiple_of(2) {
            return Err(Error::InvalidArgument(format!(
                "spectral features need sr > 0 and an even n_fft, got {sr}, {n_fft}"
            )));
        }
        let freqs = fft_frequencies(sr, n_fft);
        let bands = contrast_bands(&freqs, sr, 200.0, N_CONTRAST - 1, 0.02)?;
        Ok(SpectralPlan {
            n_fft,
            freqs,
            bands,
        })
    }

    /// Number of bins a frame has.
    pub fn n_bins(&self) -> usize {
        self.freqs.len()
    }

    /// Buffers sized for this plan.
    pub fn make_scratch(&self) -> SpectralScratch {
        SpectralScratch {
            cumsum: Vec::with_capacity(self.freqs.len()),
            extremes: ExtremesScratch::default(),
        }
    }

    /// Every spectral feature of one `|STFT|` frame.
    pub fn frame(&self, mag: &[f32], scratch: &mut SpectralScratch) -> SpectralFrame {
        let mut out = self.frame_without_rolloff(mag, scratch);
        out.rolloff = self.rolloff_with(mag, &mut scratch.cumsum);
        out
    }

    /// Every spectral feature of one frame but rolloff (left 0), for callers that batch
    /// rolloff with [`RolloffBatch`].
    pub fn frame_without_rolloff(
        &self,
        mag: &[f32],
        scratch: &mut SpectralScratch,
    ) -> SpectralFrame {
        let sums = self.sums(mag);
        let mut out = SpectralFrame {
            rms: sums.rms(self.n_fft),
            ..Default::default()
        };
        (out.centroid, out.bandwidth) = self.centroid_bandwidth_from(mag, &sums);
        self.contrast(
            mag,
            scratch,
            &mut out.contrast_peak,
            &mut out.contrast_valley,
        );
        out
    }

    /// The plain sums of one frame, in f64 and in independent lanes (vectorised).
    fn sums(&self, mag: &[f32]) -> Sums {
        let mut power = [0.0f64; 8];
        let mut total = [0.0f64; 8];
        let mut weighted = [0.0f64; 8];
        let mut cm = mag.chunks_exact(8);
        let mut cf = self.freqs.chunks_exact(8);
        for (m, f) in (&mut cm).zip(&mut cf) {
            for j in 0..8 {
                // abs2 in f32, like librosa.
                power[j] += (m[j] * m[j]) as f64;
                total[j] += m[j] as f64;
                weighted[j] += m[j] as f64 * f[j];
            }
        }
        let (mut power_tail, mut total_tail, mut weighted_tail) = (0.0, 0.0, 0.0);
        for (&m, &f) in cm.remainder().iter().zip(cf.remainder()) {
            power_tail += (m * m) as f64;
            total_tail += m as f64;
            weighted_tail += m as f64 * f;
        }
        let edges = match (mag.first(), mag.last()) {
            (Some(&first), Some(&last)) if mag.len() > 1 => {
                (first * first) as f64 + (last * last) as f64
            }
            _ => 0.0,
        };
        Sums {
            // rms halves the DC and Nyquist terms.
            power: lanes_sum(&power) + power_tail - 0.5 * edges,
            total: lanes_sum(&total) + total_tail,
            weighted: lanes_sum(&weighted) + weighted_tail,
        }
    }

    /// `rms(S=S, frame_length=n_fft)` of one frame.
    pub fn rms(&self, mag: &[f32]) -> f32 {
        self.sums(mag).rms(self.n_fft)
    }

    /// `(spectral_centroid, spectral_bandwidth)` of one frame.
    pub fn centroid_bandwidth(&self, mag: &[f32]) -> (f64, f64) {
        let sums = self.sums(mag);
        self.centroid_bandwidth_from(mag, &sums)
    }

    fn centroid_bandwidth_from(&self, mag: &[f32], sums: &Sums) -> (f64, f64) {
        // util.normalize(norm=1): a length below f32 tiny is replaced by 1.
        let length = if sums.total < f32::MIN_POSITIVE as f64 {
            1.0
        } else {
            sums.total
        };
        let centroid = sums.weighted / length;
        let mut spread = [0.0f64; 8];
        let mut cm = mag.chunks_exact(8);
        let mut cf = self.freqs.chunks_exact(8);
        for (s, f) in (&mut cm).zip(&mut cf) {
            for j in 0..8 {
                let d = f[j] - centroid;
                spread[j] += s[j] as f64 * (d * d);
            }
        }
        let mut tail = 0.0;
        for (&s, &f) in cm.remainder().iter().zip(cf.remainder()) {
            let d = f - centroid;
            tail += s as f64 * (d * d);
        }
        let spread = lanes_sum(&spread) + tail;
        (centroid, (spread / length).sqrt())
    }

    /// `spectral_rolloff(roll_percent=0.85)` of one frame.
    pub fn rolloff(&self, mag: &[f32]) -> f64 {
        self.rolloff_with(mag, &mut Vec::with_capacity(mag.len()))
    }

    fn rolloff_with(&self, mag: &[f32], cumsum: &mut Vec<f32>) -> f64 {
        self.freq_or_zero(rolloff_bin_exact(mag, cumsum))
    }

    fn freq_or_zero(&self, k: usize) -> f64 {
        self.freqs.get(k).copied().unwrap_or(0.0)
    }

    /// Peak and valley of each contrast band of one frame.
    pub fn contrast(
        &self,
        mag: &[f32],
        scratch: &mut SpectralScratch,
        peak: &mut [f64; N_CONTRAST],
        valley: &mut [f64; N_CONTRAST],
    ) {
        for (i, band) in self.bands.iter().enumerate().take(N_CONTRAST) {
            let values = mag.get(band.lo..band.hi).unwrap_or(&[]);
            (valley[i], peak[i]) = extremes(values, band.q, &mut scratch.extremes);
        }
    }
}

/// librosa's contrast band layout (see the module doc).
fn contrast_bands(
    freqs: &[f64],
    sr: f64,
    fmin: f64,
    n_bands: usize,
    quantile: f64,
) -> Result<Vec<ContrastBand>> {
    let mut octa = vec![0.0f64; n_bands + 2];
    for (i, o) in octa.iter_mut().enumerate().skip(1) {
        *o = fmin * 2f64.powi(i as i32 - 1);
    }
    if octa[..n_bands + 1].iter().any(|&o| o >= 0.5 * sr) {
        return Err(Error::InvalidArgument(format!(
            "spectral contrast band edges {octa:?} exceed Nyquist at sr {sr}"
        )));
    }
    let n = freqs.len();
    let mut bands = Vec::with_capacity(n_bands + 1);
    for k in 0..=n_bands {
        let (f_low, f_high) = (octa[k], octa[k + 1]);
        let inside: Vec<usize> = (0..n)
            .filter(|&j| freqs[j] >= f_low && freqs[j] <= f_high)
            .collect();
        let (Some(&first), Some(&last)) = (inside.first(), inside.last()) else {
            return Err(Error::InvalidArgument(format!(
                "spectral contrast band {f_low}-{f_high} Hz holds no FFT bin"
            )));
        };
        let lo = if k > 0 {
            first.saturating_sub(1)
        } else {
            first
        };
        let end_incl = if k == n_bands { n - 1 } else { last };
        let count = end_incl + 1 - lo;
        // The sub-band drops its last bin except in the top band.
        let hi = if k < n_bands { end_incl } else { end_incl + 1 };
        let q = ((quantile * count as f64).round_ties_even() as usize).max(1);
        bands.push(ContrastBand { lo, hi, q });
    }
    Ok(bands)
}

/// Capacity of the candidate buffers of [`extremes`].
const MAX_CANDIDATES: usize = 128;

/// Buffers of [`extremes`], kept between calls (zeroing them per call would cost more
/// than the selection).
#[derive(Debug, Clone)]
struct ExtremesScratch {
    low: Box<[f32; MAX_CANDIDATES]>,
    high: Box<[f32; MAX_CANDIDATES]>,
    sorted: Vec<f32>,
}

impl Default for ExtremesScratch {
    fn default() -> Self {
        ExtremesScratch {
            low: Box::new([0.0; MAX_CANDIDATES]),
            high: Box::new([0.0; MAX_CANDIDATES]),
            sorted: Vec::new(),
        }
    }
}

/// The means of the `q` smallest and of the `q` largest of `values` (librosa's valley and
/// peak), `(0, 0)` if `values` is empty. `sorted` is scratch for the slow path.
///
/// q is small (at most 9 with librosa's defaults) and bands are long (up to 431 bins), so
/// a sort per band and frame would dominate the branch. Instead:
///
/// 1. one vectorised pass takes the minimum and maximum of each of L residue classes
///    `i mod L` (L = 8 or 16, at least q);
/// 2. those L minima are distinct elements, so the q-th smallest of them is an upper
///    bound of the q-th smallest value (likewise for the maxima);
/// 3. a second pass copies out the few values beyond the bounds without branching on
///    each value, skipping chunks of L that hold none;
/// 4. the candidates are sorted and the q extreme ones averaged.
///
/// Values that cannot be handled this way (q > 16, or more candidates than the buffers
/// hold, as with many ties) go through a full sort instead.
fn extremes(values: &[f32], q: usize, scratch: &mut ExtremesScratch) -> (f64, f64) {
    let q = q.min(values.len());
    if q == 0 {
        return (0.0, 0.0);
    }
    if q == 1 {
        // Plain minimum and maximum (vectorised; NaN is never taken).
        let (lo, hi) = values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (if v < lo { v } else { lo }, if v > hi { v } else { hi })
            });
        return (lo as f64, hi as f64);
    }
    let candidates = (&mut *scratch.low, &mut *scratch.high);
    let fast = if q <= 8 {
        extremes_by_lanes::<8>(values, q, candidates)
    } else if q <= 16 {
        extremes_by_lanes::<16>(values, q, candidates)
    } else {
        None
    };
    let sorted = &mut scratch.sorted;
    if let Some(means) = fast {
        return means;
    }
    sorted.clear();
    sorted.extend_from_slice(values);
    sorted.sort_unstable_by(f32::total_cmp);
    (
        mean_f32(&sorted[..q]),
        mean_f32(&sorted[sorted.len() - q..]),
    )
}

fn extremes_by_lanes<const L: usize>(
    values: &[f32],
    q: usize,
    candidates: (&mut [f32; MAX_CANDIDATES], &mut [f32; MAX_CANDIDATES]),
) -> Option<(f64, f64)> {
    let mut lo = [f32::INFINITY; L];
    let mut hi = [f32::NEG_INFINITY; L];
    let mut chunks = values.chunks_exact(L);
    for chunk in &mut chunks {
        for j in 0..L {
            // Selects, not f32::min/max, so that the loop vectorises (NaN is never taken).
            let v = chunk[j];
            lo[j] = if v < lo[j] { v } else { lo[j] };
            hi[j] = if v > hi[j] { v } else { hi[j] };
        }
    }
    for (j, &v) in chunks.remainder().iter().enumerate() {
        lo[j] = if v < lo[j] { v } else { lo[j] };
        hi[j] = if v > hi[j] { v } else { hi[j] };
    }
    // Lanes left empty (fewer than L values) rank at the far ends, and q <= values.len()
    // keeps both bounds on filled lanes. A NaN-only lane makes the bound infinite, which
    // only lets more candidates through.
    let low_bound = kth_smallest(&lo, q - 1, f32::INFINITY);
    let high_bound = kth_smallest(&hi, L - q, f32::NEG_INFINITY);

    let (low, high) = candidates;
    let (mut n_low, mut n_high) = (0usize, 0usize);
    let mut take = |chunk: &[f32]| -> bool {
        if n_low + chunk.len() > MAX_CANDIDATES || n_high + chunk.len() > MAX_CANDIDATES {
            return false;
        }
        for &v in chunk {
            // Write every value, keep it by advancing the count: no branch per value.
            low[n_low] = v;
            n_low += (v <= low_bound) as usize;
            high[n_high] = v;
            n_high += (v >= high_bound) as usize;
        }
        true
    };
    let mut chunks = values.chunks_exact(L);
    for chunk in &mut chunks {
        let mut wanted = false;
        for &v in chunk {
            wanted |= (v <= low_bound) | (v >= high_bound);
        }
        if wanted && !take(chunk) {
            return None;
        }
    }
    if !take(chunks.remainder()) {
        return None;
    }
    if n_low < q || n_high < q {
        return None;
    }
    let (low, high) = (&mut low[..n_low], &mut high[..n_high]);
    insertion_sort(low);
    insertion_sort(high);
    Some((mean_f32(&low[..q]), mean_f32(&high[n_high - q..])))
}

/// The `k`-th smallest (0-based) of `v`, by counting ranks (ties broken by position):
/// branch-free, cheaper than sorting these few values. `default` if no value has rank
/// `k` (only possible with NaN).
fn kth_smallest<const L: usize>(v: &[f32; L], k: usize, default: f32) -> f32 {
    let mut ranks = [0u32; L];
    for j in 0..L {
        let vj = v[j];
        for i in 0..L {
            ranks[i] += ((vj < v[i]) | ((j < i) & (vj == v[i]))) as u32;
        }
    }
    let mut out = default;
    for i in 0..L {
        out = if ranks[i] as usize == k { v[i] } else { out };
    }
    out
}

/// Ascending insertion sort of a few values (NaN stays where it is).
fn insertion_sort(v: &mut [f32]) {
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        while j > 0 && v[j - 1] > x {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

/// `np.mean(sorted[a:b], axis=-2)` of f32 values as librosa's contrast takes it: the
/// values summed one after the other in f32 (numpy reduces a C-ordered array's first
/// axis row by row), then divided by their count in f32; 0 if empty.
fn mean_f32(values: &[f32]) -> f64 {
    let Some((&first, rest)) = values.split_first() else {
        return 0.0;
    };
    let sum = rest.iter().fold(first, |acc, &v| acc + v);
    (sum / values.len() as f32) as f64
}

/// The spectral features of [`LANES`] frames side by side (what
/// [`SpectralPlan::frame`] gives for each, bit for bit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectralLanes {
    pub rms: [f32; LANES],
    pub centroid: [f64; LANES],
    pub bandwidth: [f64; LANES],
    pub rolloff: [f64; LANES],
    pub contrast_peak: [[f64; LANES]; N_CONTRAST],
    pub contrast_valley: [[f64; LANES]; N_CONTRAST],
}

impl Default for SpectralLanes {
    fn default() -> Self {
        SpectralLanes {
            rms: [0.0; LANES],
            centroid: [0.0; LANES],
            bandwidth: [0.0; LANES],
            rolloff: [0.0; LANES],
            contrast_peak: [[0.0; LANES]; N_CONTRAST],
            contrast_valley: [[0.0; LANES]; N_CONTRAST],
        }
    }
}

/// Frames whose spectral features the branch computes side by side, one per lane.
pub const LANES: usize = crate::simd::MAX_LANES;

type L64 = [f64; LANES];

impl SpectralPlan {
    /// Every spectral feature of [`LANES`] `|STFT|` frames in lanes
    /// (`mags[k * LANES + l]` is bin `k` of frame `l`), each equal to what
    /// [`frame`](Self::frame) gives for that frame alone.
    ///
    /// # Safety
    /// The CPU has `I`'s instructions.
    #[inline(always)]
    pub(crate) unsafe fn lanes<I: Lanes8>(&self, mags: &[f32], out: &mut SpectralLanes) {
        let nb = self.n_bins();
        assert_eq!(mags.len(), nb * LANES);
        self.sums_lanes::<I>(mags, out);
        self.rolloff_lanes::<I>(mags, &mut out.rolloff);
        for (i, band) in self.bands.iter().enumerate().take(N_CONTRAST) {
            (out.contrast_valley[i], out.contrast_peak[i]) =
                extremes_lanes::<I>(&mags[band.lo * LANES..band.hi * LANES], band.q);
        }
    }

    /// rms, centroid and bandwidth of the frames in lanes, as [`sums`](Self::sums) and
    /// [`centroid_bandwidth_from`](Self::centroid_bandwidth_from) compute them per frame:
    /// the same partial sums (bin `k` into sum `k mod 8`), tree and tail, lane by lane.
    #[inline(always)]
    unsafe fn sums_lanes<I: Lanes8>(&self, mags: &[f32], out: &mut SpectralLanes) {
        let nb = self.n_bins();
        let full = nb / 8 * 8;
        let m = |k: usize| I::f_load(mags.as_ptr().add(k * LANES));
        let zero = I::d_splat(0.0);
        let (mut power, mut total, mut weighted) = ([zero; 8], [zero; 8], [zero; 8]);
        for k0 in (0..full).step_by(8) {
            for j in 0..8 {
                let v = m(k0 + j);
                let v64 = I::d_from_f(v);
                power[j] = I::d_add(power[j], I::d_from_f(I::f_mul(v, v)));
                total[j] = I::d_add(total[j], v64);
                weighted[j] = I::d_add(weighted[j], I::d_mul(v64, I::d_splat(self.freqs[k0 + j])));
            }
        }
        let (mut p_tail, mut t_tail, mut w_tail) = (zero, zero, zero);
        for k in full..nb {
            let v = m(k);
            let v64 = I::d_from_f(v);
            p_tail = I::d_add(p_tail, I::d_from_f(I::f_mul(v, v)));
            t_tail = I::d_add(t_tail, v64);
            w_tail = I::d_add(w_tail, I::d_mul(v64, I::d_splat(self.freqs[k])));
        }
        let edges = if nb > 1 {
            let (first, last) = (m(0), m(nb - 1));
            I::d_add(
                I::d_from_f(I::f_mul(first, first)),
                I::d_from_f(I::f_mul(last, last)),
            )
        } else {
            zero
        };
        let power = I::d_sub(
            I::d_add(crate::simd::tree8::<I>(&power), p_tail),
            I::d_mul(I::d_splat(0.5), edges),
        );
        let total = I::d_add(crate::simd::tree8::<I>(&total), t_tail);
        let weighted = I::d_add(crate::simd::tree8::<I>(&weighted), w_tail);
        let (mut p, mut t, mut w) = ([0.0f64; LANES], [0.0f64; LANES], [0.0f64; LANES]);
        I::d_store(power, p.as_mut_ptr());
        I::d_store(total, t.as_mut_ptr());
        I::d_store(weighted, w.as_mut_ptr());
        let mut length = [0.0f64; LANES];
        for l in 0..LANES {
            let sums = Sums {
                power: p[l],
                total: t[l],
                weighted: w[l],
            };
            out.rms[l] = sums.rms(self.n_fft);
            length[l] = if sums.total < f32::MIN_POSITIVE as f64 {
                1.0
            } else {
                sums.total
            };
            out.centroid[l] = sums.weighted / length[l];
        }
        let centroid = I::d_load(out.centroid.as_ptr());
        // A function, not a closure: a closure does not get the caller's target
        // features, so the AVX2 intrinsics in it would stay calls.
        #[inline(always)]
        unsafe fn spread_term<I: Lanes8>(m: I::F, freq: f64, centroid: I::D) -> I::D {
            let d = I::d_sub(I::d_splat(freq), centroid);
            I::d_mul(I::d_from_f(m), I::d_mul(d, d))
        }
        let mut spread = [zero; 8];
        for k0 in (0..full).step_by(8) {
            for (j, acc) in spread.iter_mut().enumerate() {
                *acc = I::d_add(
                    *acc,
                    spread_term::<I>(m(k0 + j), self.freqs[k0 + j], centroid),
                );
            }
        }
        let mut tail = zero;
        for k in full..nb {
            tail = I::d_add(tail, spread_term::<I>(m(k), self.freqs[k], centroid));
        }
        let mut sp = [0.0f64; LANES];
        I::d_store(
            I::d_add(crate::simd::tree8::<I>(&spread), tail),
            sp.as_mut_ptr(),
        );
        for l in 0..LANES {
            out.bandwidth[l] = (sp[l] / length[l]).sqrt();
        }
    }

    /// The rolloff (Hz) of the frames in lanes: librosa's sequential f32 cumulative
    /// sums, lane by lane (as [`RolloffBatch`]).
    #[inline(always)]
    unsafe fn rolloff_lanes<I: Lanes8>(&self, mags: &[f32], out: &mut [f64; LANES]) {
        let nb = self.n_bins();
        let m = |k: usize| I::f_load(mags.as_ptr().add(k * LANES));
        let mut total = I::f_splat(0.0);
        for k in 0..nb {
            total = I::f_add(total, m(k));
        }
        let threshold = I::f_mul(I::f_splat(0.85), total);
        let mut acc = I::f_splat(0.0);
        let mut below = I::i_zero();
        for k in 0..nb {
            acc = I::f_add(acc, m(k));
            // The cumulative sum never decreases: the bins below the threshold are those
            // before the rolloff bin, and their count is its index.
            below = I::i_add_lt(below, acc, threshold);
        }
        let mut bins = [0u32; LANES];
        I::i_store(below, bins.as_mut_ptr());
        for l in 0..LANES {
            out[l] = self.freq_or_zero(bins[l] as usize);
        }
    }
}

/// [`extremes`] of the bins of a band in lanes (`values[i * LANES + l]`): the means of
/// the `q` smallest and `q` largest values of each lane, as `(valley, peak)`.
///
/// Each lane keeps its `q` largest values so far in descending order and its `q`
/// smallest in ascending order; a new value is compared with the last kept one and,
/// only when some lane needs it, merged in by a chain of exchanges, which keeps the
/// same multiset as sorting would. Magnitudes of finite signals are never NaN.
#[inline(always)]
unsafe fn extremes_lanes<I: Lanes8>(values: &[f32], q: usize) -> (L64, L64) {
    let n = values.len() / LANES;
    match q.min(n) {
        0 => ([0.0; LANES], [0.0; LANES]),
        q @ 1..=MAX_Q => extremes_lanes_bounded::<I>(values, q),
        q => {
            // Other quantiles: each lane on its own.
            let (mut valley, mut peak) = ([0.0; LANES], [0.0; LANES]);
            let mut scratch = ExtremesScratch::default();
            let mut lane = vec![0.0f32; n];
            for l in 0..LANES {
                for (i, v) in lane.iter_mut().enumerate() {
                    *v = values[i * LANES + l];
                }
                (valley[l], peak[l]) = extremes(&lane, q, &mut scratch);
            }
            (valley, peak)
        }
    }
}

/// The largest `q` [`extremes_lanes_bounded`] takes: the 16 classes must hold `q` bounds.
const MAX_Q: usize = 16;

/// Batcher's odd-even merge sort network for 16 values: 63 compare-exchanges `(i, j)`,
/// `i < j`, after which the values are in ascending order. [`sort16`] writes it out; the
/// tests check that against this table, and the table by the 0-1 principle.
#[cfg(test)]
const SORT16: [(u8, u8); 63] = sort16_network();

#[cfg(test)]
const fn sort16_network() -> [(u8, u8); 63] {
    let n = 16usize;
    let mut out = [(0u8, 0u8); 63];
    let mut len = 0;
    let mut p = 1;
    while p < n {
        let mut k = p;
        while k >= 1 {
            let mut j = k % p;
            while j + k < n {
                let mut i = 0;
                while i < k && i + j + k < n {
                    if (i + j) / (2 * p) == (i + j + k) / (2 * p) {
                        out[len] = ((i + j) as u8, (i + j + k) as u8);
                        len += 1;
                    }
                    i += 1;
                }
                j += 2 * k;
            }
            k /= 2;
        }
        p *= 2;
    }
    assert!(len == 63);
    out
}

/// [`SORT16`] on 16 vectors, lane by lane, written out so that they stay in registers.
#[inline(always)]
unsafe fn sort16<I: Lanes8>(g: &mut [I::F; 16]) {
    macro_rules! network {
        ($(($i:literal, $j:literal))*) => {
            $({
                let (a, b) = (g[$i], g[$j]);
                g[$i] = I::f_min(a, b);
                g[$j] = I::f_max(a, b);
            })*
        };
    }
    network!(
        (0, 1)(2, 3)(4, 5)(6, 7)(8, 9)(10, 11)(12, 13)(14, 15)(0, 2)(1, 3)(4, 6)(5, 7)(8, 10)(
            9, 11
        )(12, 14)(13, 15)(1, 2)(5, 6)(9, 10)(13, 14)(0, 4)(1, 5)(2, 6)(3, 7)(8, 12)(9, 13)(
            10, 14
        )(11, 15)(2, 4)(3, 5)(10, 12)(11, 13)(1, 2)(3, 4)(5, 6)(9, 10)(11, 12)(13, 14)(0, 8)(
            1, 9
        )(2, 10)(3, 11)(4, 12)(5, 13)(6, 14)(7, 15)(4, 8)(5, 9)(6, 10)(7, 11)(2, 4)(3, 5)(
            6, 8
        )(7, 9)(10, 12)(11, 13)(1, 2)(3, 4)(5, 6)(7, 8)(9, 10)(11, 12)(13, 14)
    );
}

/// [`extremes_lanes`] for `1 <= q <= 16`: each lane keeps its `q` smallest and largest
/// values in small sorted arrays; to spare those scalar insertions most values, a first
/// vector pass bounds them. The minima of the 16 classes of bins `i mod 16` are values at
/// distinct bins, so the `q`-th smallest of them is at least the band's `q`-th smallest
/// value (likewise for the maxima); only values within the bounds are offered to the
/// arrays (about `q` a lane, for values in random order).
#[inline(always)]
unsafe fn extremes_lanes_bounded<I: Lanes8>(values: &[f32], q: usize) -> (L64, L64) {
    let n = values.len() / LANES;
    let v = |i: usize| I::f_load(values.as_ptr().add(i * LANES));
    let mut gmin = [I::f_splat(f32::INFINITY); 16];
    let mut gmax = [I::f_splat(f32::NEG_INFINITY); 16];
    let full = n / 16 * 16;
    for i0 in (0..full).step_by(16) {
        for g in 0..16 {
            let x = v(i0 + g);
            gmin[g] = I::f_min(gmin[g], x);
            gmax[g] = I::f_max(gmax[g], x);
        }
    }
    for i in full..n {
        let x = v(i);
        gmin[i - full] = I::f_min(gmin[i - full], x);
        gmax[i - full] = I::f_max(gmax[i - full], x);
    }
    if q == 1 {
        // The minimum and maximum themselves: the means of one value.
        let (mut lo, mut hi) = (gmin[0], gmax[0]);
        for g in 1..16 {
            lo = I::f_min(lo, gmin[g]);
            hi = I::f_max(hi, gmax[g]);
        }
        let (mut a, mut b) = ([0.0f32; LANES], [0.0f32; LANES]);
        I::f_store(lo, a.as_mut_ptr());
        I::f_store(hi, b.as_mut_ptr());
        return (a.map(|v| v as f64), b.map(|v| v as f64));
    }
    // Classes without a bin (n < 16) keep an infinity and sort to the far end; at least
    // q classes have one (n >= q).
    sort16::<I>(&mut gmin);
    sort16::<I>(&mut gmax);
    let (lo_bound, hi_bound) = (gmin[q - 1], gmax[16 - q]);
    let mut low = [Kept16([f32::INFINITY; MAX_Q]); LANES];
    let mut high = [Kept16([f32::NEG_INFINITY; MAX_Q]); LANES];
    for i in 0..n {
        let x = v(i);
        let mut lo = I::f_ge(lo_bound, x);
        let mut hi = I::f_ge(x, hi_bound);
        while lo != 0 {
            let l = lo.trailing_zeros() as usize;
            lo &= lo - 1;
            I::keep_best::<true>(&mut low[l], q, values[i * LANES + l]);
        }
        while hi != 0 {
            let l = hi.trailing_zeros() as usize;
            hi &= hi - 1;
            I::keep_best::<false>(&mut high[l], q, values[i * LANES + l]);
        }
    }
    // librosa sums the sorted values in ascending order: the q smallest from the
    // smallest up, the q largest from the q-th largest up; then divides in f32.
    let (mut valley, mut peak) = ([0.0f64; LANES], [0.0f64; LANES]);
    for l in 0..LANES {
        let (low, high) = (&low[l].0, &high[l].0);
        let mut lo = low[0];
        for &x in &low[1..q] {
            lo += x;
        }
        let mut hi = high[q - 1];
        for &x in high[..q - 1].iter().rev() {
            hi += x;
        }
        valley[l] = (lo / q as f32) as f64;
        peak[l] = (hi / q as f32) as f64;
    }
    (valley, peak)
}

/// `power_to_db(peak) - power_to_db(valley)` over all frames (`N_CONTRAST` values per
/// frame, frame-major), each dB conversion clamped at its own global max minus 80 dB.
pub fn contrast_from_peaks_valleys(peaks: &[f64], valleys: &[f64]) -> Frames {
    let n_frames = peaks.len().min(valleys.len()) / N_CONTRAST;
    let db = |x: f64| 10.0 * x.max(1e-10).log10();
    let floor = |v: &[f64]| v.iter().map(|&x| db(x)).fold(f64::NEG_INFINITY, f64::max) - 80.0;
    let (peak_floor, valley_floor) = (floor(peaks), floor(valleys));
    let mut out = Frames::zeros(N_CONTRAST, n_frames);
    for (o, (&p, &v)) in out.data.iter_mut().zip(peaks.iter().zip(valleys)) {
        *o = (db(p).max(peak_floor) - db(v).max(valley_floor)) as f32;
    }
    out
}

/// `zero_crossing_rate(y, frame_length, hop_length, center=True)` of frame `frame`.
pub fn zero_crossing_rate_frame(
    y: &[f32],
    frame: usize,
    frame_length: usize,
    hop_length: usize,
) -> f32 {
    if y.is_empty() || frame_length == 0 {
        return 0.0;
    }
    // Edge padding repeats the end samples, which adds no crossing: count the pairs
    // (j - 1, j) of the frame that lie inside the signal.
    let start = (frame * hop_length) as isize - (frame_length / 2) as isize;
    let lo = start.max(0) as usize;
    let hi = ((start + frame_length as isize - 1).min(y.len() as isize - 1)).max(0) as usize;
    if hi <= lo {
        return 0.0;
    }
    // librosa's _zc_stencil: |x| <= 1e-10 (compared in f64) counts as +0.
    let negative = |x: f32| (x as f64) < -1e-10;
    let count = y[lo..=hi]
        .windows(2)
        .filter(|w| negative(w[0]) != negative(w[1]))
        .count();
    (count as f64 / frame_length as f64) as f32
}

/// `zero_crossing_rate(y, frame_length, hop_length)` for a whole signal: `1 x n_frames`.
///
/// When `frame_length` is an even multiple of `hop_length` (2048 = 4 x 512), frames are
/// whole runs of hop-sized blocks, so each sample pair is compared once and a frame is the
/// sum of its blocks' counts; otherwise each frame is counted on its own
/// ([`zero_crossing_rate_frame`]). Both give the same counts.
pub fn zero_crossing_rate(y: &[f32], frame_length: usize, hop_length: usize) -> Frames {
    let n = crate::stft::n_frames(y.len(), hop_length);
    let blocks_fit = hop_length > 0 && frame_length.is_multiple_of(2 * hop_length);
    let data = if blocks_fit && y.len() >= 2 {
        zcr_by_blocks(y, n, frame_length, hop_length)
    } else {
        (0..n)
            .map(|t| zero_crossing_rate_frame(y, t, frame_length, hop_length))
            .collect()
    };
    Frames {
        n_rows: 1,
        n_frames: n,
        data,
    }
}

fn zcr_by_blocks(y: &[f32], n_frames: usize, frame_length: usize, hop: usize) -> Vec<f32> {
    let negative = |x: f32| (x as f64) < -1e-10;
    // crossing(j) for the pair (j - 1, j), 1 <= j < len; 0 elsewhere.
    let crossing = |j: i64| -> u32 {
        if j >= 1 && (j as usize) < y.len() {
            (negative(y[j as usize - 1]) != negative(y[j as usize])) as u32
        } else {
            0
        }
    };
    // The same test in f32, which vectorises: below -1e-10 is below the least f32 at
    // or above it.
    let mut below = -1e-10f64 as f32;
    if (below as f64) < -1e-10 {
        below = below.next_up();
    }
    // Block b holds the pairs j in b * hop + 1 ..= (b + 1) * hop.
    let n_blocks = (y.len() - 1).div_ceil(hop);
    let blocks: Vec<u32> = (0..n_blocks)
        .map(|b| {
            let first = b * hop + 1;
            let last = ((b + 1) * hop).min(y.len() - 1);
            let (a, c) = (&y[first - 1..last], &y[first..=last]);
            a.iter()
                .zip(c)
                .map(|(&p, &q)| ((p < below) != (q < below)) as u32)
                .sum()
        })
        .collect();
    let block = |b: i64| -> u32 {
        if b >= 0 && (b as usize) < n_blocks {
            blocks[b as usize]
        } else {
            0
        }
    };
    // Frame t covers pairs (t - m/2) * hop + 1 ..= (t + m/2) * hop - 1, m = frame / hop:
    // blocks t - m/2 .. t + m/2 - 1, less the pair that closes the last one.
    let half = (frame_length / hop / 2) as i64;
    (0..n_frames as i64)
        .map(|t| {
            let sum: u32 = (t - half..t + half).map(block).sum();
            let count = sum - crossing((t + half) * hop as i64);
            (count as f64 / frame_length as f64) as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stft::Stft;

    fn sine(bin: f64, len: usize) -> Vec<f32> {
        (0..len)
            .map(|n| (2.0 * std::f64::consts::PI * bin * n as f64 / 2048.0).sin() as f32)
            .collect()
    }

    #[test]
    fn sine_at_bin_k_has_its_centroid_and_rolloff_there() {
        let plan = SpectralPlan::new(22050.0, 2048).unwrap();
        let stft = Stft::new(2048, 512).unwrap();
        let mut scratch = plan.make_scratch();
        for k in [20usize, 100, 400] {
            let m = stft.magnitude(&sine(k as f64, 16384)).unwrap();
            let f = plan.frame(m.frame(8), &mut scratch);
            let fk = k as f64 * 22050.0 / 2048.0;
            // The Hann main lobe is symmetric about bin k: only leakage moves the centroid.
            assert!((f.centroid - fk).abs() < 0.01, "k {k}: {}", f.centroid);
            // Bins k-1, k, k+1 hold 1/4, 1/2, 1/4 of the mass: 85% is reached at k + 1.
            assert_eq!(f.rolloff, plan.freqs[k + 1], "k {k}");
            // Spread of the main lobe: sqrt(2 * 1/4 * bin^2) = bin / sqrt(2), plus the f32
            // quantisation floor of the sine (~-150 dB a bin), which the squared distances
            // of up to 11 kHz weigh in at about 0.5 Hz: allow 1 Hz.
            let bin = 22050.0 / 2048.0;
            assert!(
                (f.bandwidth - bin / 2f64.sqrt()).abs() < 1.0,
                "{}",
                f.bandwidth
            );
            // The same lobe without the floor is exact.
            let mut lobe = vec![0.0f32; 1025];
            lobe[k - 1..=k + 1].copy_from_slice(&[1.0, 2.0, 1.0]);
            let (c, b) = plan.centroid_bandwidth(&lobe);
            assert!(
                (c - fk).abs() < 1e-9 && (b - bin / 2f64.sqrt()).abs() < 1e-9,
                "{c} {b}"
            );
            // Unit sine: rms of the frame is 1/sqrt(2) times the window's rms (sqrt(3/8)).
            let want = (0.5f64 * 3.0 / 8.0).sqrt();
            assert!((f.rms as f64 - want).abs() < 1e-4, "{}", f.rms);
        }
    }

    #[test]
    fn batched_rolloff_equals_one_chain_per_frame() {
        let plan = SpectralPlan::new(22050.0, 2048).unwrap();
        let mut state = 12345u64;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        let mut frames: Vec<Vec<f32>> = Vec::new();
        for shape in 0..60 {
            // Falling spectra of random slope, sparse spikes.
            let slope = uniform() * 0.02;
            frames.push(
                (0..1025)
                    .map(|k| uniform() * (-(k as f32) * slope).exp())
                    .collect(),
            );
            let mut spiky = vec![0.0f32; 1025];
            for _ in 0..(shape % 7 + 1) {
                spiky[(uniform() * 1024.0) as usize] = uniform() * 1e3;
            }
            frames.push(spiky);
        }
        // An exact tie with 85%, silence, and values near the bottom of f32.
        let mut ties = vec![0.0f32; 1025];
        ties[..100].fill(1.0);
        frames.push(ties);
        frames.push(vec![0.0; 1025]);
        frames.push(vec![1e-30; 1025]);
        let mut batch = RolloffBatch::new(&plan);
        let mut got = vec![f32::NAN; frames.len()];
        for (t, mag) in frames.iter().enumerate() {
            batch.push(&plan, t, mag, &mut got);
        }
        batch.finish(&plan, &mut got);
        for (t, mag) in frames.iter().enumerate() {
            assert_eq!(got[t], plan.rolloff(mag) as f32, "frame {t}");
        }
        // Worked with numpy 2.4 / librosa 0.11 (spectral_rolloff(S=..., sr=22050)):
        // 100 ones: 0.85f32 * 100 rounds to exactly 85.0 in f32, reached at bin 84.
        assert_eq!(plan.rolloff(&frames[120]), plan.freqs[84]);
        assert_eq!(plan.rolloff(&frames[121]), 0.0);
        // 1025 x 1e-30: the f32 chain's rounding puts librosa's answer at bin 871, not at
        // the 872 that exact arithmetic (0.85 * 1025 = 871.25) would give.
        assert_eq!(plan.rolloff(&frames[122]), plan.freqs[871]);
    }

    #[test]
    fn lanes_give_each_frames_own_features() {
        let plan = SpectralPlan::new(22050.0, 2048).unwrap();
        let mut scratch = plan.make_scratch();
        let nb = plan.n_bins();
        let mut state = 99u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        for case in 0..6 {
            // Frames of random magnitudes, silence, a constant, coarse values with many
            // ties, a falling spectrum, and one with an infinite bin.
            let frames: Vec<Vec<f32>> = (0..LANES)
                .map(|l| {
                    (0..nb)
                        .map(|k| match (case + l) % 6 {
                            0 => next() * 10.0,
                            1 => 0.0,
                            2 => 0.25,
                            3 => (next() * 4.0).floor(),
                            4 => 100.0 / (1.0 + k as f32) + next(),
                            _ => {
                                if k == 300 {
                                    f32::INFINITY
                                } else {
                                    next()
                                }
                            }
                        })
                        .collect()
                })
                .collect();
            let mags = crate::simd::interleave(&frames);
            unsafe fn run<I: crate::simd::Lanes8>(
                plan: &SpectralPlan,
                mags: &[f32],
            ) -> SpectralLanes {
                let mut lanes = SpectralLanes::default();
                plan.lanes::<I>(mags, &mut lanes);
                lanes
            }
            let bits = |x: &SpectralLanes| {
                format!(
                    "{:?}",
                    (
                        x.rms.map(f32::to_bits),
                        x.centroid.map(f64::to_bits),
                        x.bandwidth.map(f64::to_bits),
                        x.rolloff.map(f64::to_bits),
                        x.contrast_peak.map(|r| r.map(f64::to_bits)),
                        x.contrast_valley.map(|r| r.map(f64::to_bits))
                    )
                )
            };
            let results = crate::simd::on_every_isa!(run(&plan, &mags));
            let lanes = results[0].1;
            for (isa, other) in &results {
                assert_eq!(bits(other), bits(&lanes), "{isa:?}");
            }
            for (l, f) in frames.iter().enumerate() {
                let one = plan.frame(f, &mut scratch);
                let same =
                    |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
                assert_eq!(
                    lanes.rms[l].to_bits(),
                    one.rms.to_bits(),
                    "case {case} lane {l} rms"
                );
                assert!(
                    same(lanes.centroid[l], one.centroid),
                    "case {case} lane {l} centroid"
                );
                assert!(
                    same(lanes.bandwidth[l], one.bandwidth),
                    "case {case} lane {l} bandwidth"
                );
                assert_eq!(
                    lanes.rolloff[l], one.rolloff,
                    "case {case} lane {l} rolloff"
                );
                for b in 0..N_CONTRAST {
                    assert!(
                        same(lanes.contrast_peak[b][l], one.contrast_peak[b]),
                        "case {case} lane {l} peak {b}"
                    );
                    assert!(
                        same(lanes.contrast_valley[b][l], one.contrast_valley[b]),
                        "case {case} lane {l} valley {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn sort16_network_sorts_every_zero_one_input() {
        // The 0-1 principle: a network that sorts every 0/1 input sorts everything.
        for bits in 0u32..1 << 16 {
            let mut v: Vec<u32> = (0..16).map(|i| (bits >> i) & 1).collect();
            for &(i, j) in SORT16.iter() {
                let (i, j) = (i as usize, j as usize);
                if v[i] > v[j] {
                    v.swap(i, j);
                }
            }
            assert!(v.windows(2).all(|w| w[0] <= w[1]), "{bits:016b}");
        }
    }

    #[test]
    fn the_written_out_network_is_sort16() {
        let mut state = 3u64;
        for _ in 0..200 {
            let mut g = [[0.0f32; 8]; 16];
            for v in g.iter_mut().flatten() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                *v = (state >> 40) as f32;
            }
            let mut by_table = g;
            for &(i, j) in SORT16.iter() {
                let (i, j) = (i as usize, j as usize);
                let (a, b) = (by_table[i], by_table[j]);
                by_table[i] = std::array::from_fn(|l| a[l].min(b[l]));
                by_table[j] = std::array::from_fn(|l| a[l].max(b[l]));
            }
            // SAFETY: portable code.
            unsafe { sort16::<crate::simd::Portable>(&mut g) };
            assert_eq!(g, by_table);
        }
    }

    #[test]
    fn silence_is_finite_and_zero() {
        let plan = SpectralPlan::new(22050.0, 2048).unwrap();
        let mut scratch = plan.make_scratch();
        let f = plan.frame(&[0.0; 1025], &mut scratch);
        assert_eq!(
            (f.rms, f.centroid, f.bandwidth, f.rolloff),
            (0.0, 0.0, 0.0, 0.0)
        );
        let c = contrast_from_peaks_valleys(&f.contrast_peak, &f.contrast_valley);
        assert!(c.data.iter().all(|&v| v == 0.0), "{:?}", c.data);
    }

    #[test]
    fn contrast_bands_match_librosa() {
        // Worked from librosa's code for sr 22050, n_fft 2048 (bin width 10.77 Hz).
        let plan = SpectralPlan::new(22050.0, 2048).unwrap();
        let got: Vec<(usize, usize, usize)> =
            plan.bands.iter().map(|b| (b.lo, b.hi, b.q)).collect();
        assert_eq!(
            got,
            vec![
                (0, 18, 1),
                (18, 37, 1),
                (37, 74, 1),
                (74, 148, 2),
                (148, 297, 3),
                (297, 594, 6),
                (594, 1025, 9)
            ]
        );
    }

    #[test]
    fn extremes_equal_sorting() {
        let noisy: Vec<f32> = (0..431).map(|i| ((i * 7919 % 431) as f32).sin()).collect();
        let falling: Vec<f32> = (0..431).map(|i| 1000.0 / (1.0 + i as f32)).collect();
        let rising: Vec<f32> = falling.iter().rev().copied().collect();
        let ties: Vec<f32> = (0..300).map(|i| (i % 3) as f32).collect();
        let mut scratch = ExtremesScratch::default();
        for values in [
            noisy,
            falling,
            rising,
            ties,
            vec![5.0],
            vec![2.0, 1.0],
            vec![],
        ] {
            for q in [1, 2, 3, 6, 8, 9, 16, 17, 431, 500] {
                let got = extremes(&values, q, &mut scratch);
                let mut sorted = values.clone();
                sorted.sort_by(f32::total_cmp);
                let q = q.min(values.len());
                let want = if q == 0 {
                    (0.0, 0.0)
                } else {
                    (
                        mean_f32(&sorted[..q]),
                        mean_f32(&sorted[sorted.len() - q..]),
                    )
                };
                assert_eq!(got, want, "q {q} of {}", values.len());
            }
        }
    }

    #[test]
    fn zcr_by_blocks_equals_frame_by_frame() {
        let mut state = 99u64;
        for len in [
            0usize, 1, 2, 3, 511, 512, 513, 1025, 2047, 2048, 2049, 5000, 10_000,
        ] {
            // Runs of random signs, with zeros, values inside the 1e-10 dead zone and
            // the f32 values around its edge.
            let edge = -1e-10f32;
            let y: Vec<f32> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                    match (state >> 60) % 6 {
                        0 => 0.0,
                        1 => -1e-11,
                        2 => [edge.next_down(), edge, edge.next_up()][(state >> 20) as usize % 3],
                        _ => ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5,
                    }
                })
                .collect();
            let fast = zero_crossing_rate(&y, 2048, 512);
            let slow: Vec<f32> = (0..fast.n_frames)
                .map(|t| zero_crossing_rate_frame(&y, t, 2048, 512))
                .collect();
            assert_eq!(fast.data, slow, "len {len}");
        }
    }

    #[test]
    fn zcr_of_an_alternating_signal() {
        // +1, -1, ...: every pair inside the signal crosses.
        let y: Vec<f32> = (0..8192)
            .map(|i| if i % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let z = zero_crossing_rate(&y, 2048, 512);
        assert_eq!(z.n_frames, 17);
        // Interior frames: 2047 crossings out of 2048 positions.
        assert_eq!(z.data[8], 2047.0 / 2048.0);
        // Frame 0 sees 1024 edge copies of y[0] and 1024 samples: 1023 crossings.
        assert_eq!(z.data[0], 1023.0 / 2048.0);
        // Values within 1e-10 of zero count as positive zeros.
        let tiny = [1e-11f32, -1e-11, 1e-11, -1.0, 1.0];
        assert_eq!(zero_crossing_rate_frame(&tiny, 0, 2048, 512), 2.0 / 2048.0);
        assert_eq!(zero_crossing_rate_frame(&[], 0, 2048, 512), 0.0);
    }
}
