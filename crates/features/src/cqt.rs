//! The constant-Q transform magnitude, `abs(librosa.cqt(y, ...))`, by librosa 0.11.0's
//! recursive-downsampling algorithm.
//!
//! Follows `librosa.core.constantq.vqt` with `gamma=0` (what `cqt` calls) and the
//! defaults the FMA features use: `filter_scale=1`, `norm=1`, `sparsity=0.01`,
//! `window="hann"`, `scale=True`, `pad_mode="constant"`, `res_type="soxr_hq"`. The
//! parameters that vary ([`CqtParams`]) are `sr`, `hop_length`, `fmin`, `n_bins` and
//! `bins_per_octave`; the tuning is an argument of every call.
//!
//! The algorithm, step by step as librosa does it:
//! - bin `k` has frequency `fmin * 2^(tuning / bins_per_octave) * 2^(k / bins_per_octave)`
//!   (`interval_frequencies(intervals="equal")`), relative bandwidth `alpha` from the
//!   log-spacing of its neighbours (`filters._relative_bandwidth`) and filter length
//!   `Q * sr / f` with `Q = 1 / alpha` (`filters.wavelet_lengths`);
//! - the signal may first be downsampled by a power of two (`__early_downsample`), never
//!   at sr = 22050 with hop 512 and 84 bins, but ported for other rates;
//! - octave by octave from the top, each octave's filters (`filters.wavelet`: complex
//!   exponentials under a periodic Hann window, L1-normalised, centred in a power-of-two
//!   frame, stored as complex64) are taken to the frequency domain and sparsified
//!   (`util.sparsify_rows(quantile=0.01)`: the smallest coefficients holding 1% of a row's
//!   L1 mass are dropped); the octave's response is that sparse basis times a centred,
//!   zero-padded, rectangular-window STFT of the current signal (`__cqt_response`);
//!   then, while the hop is even, the hop is halved and the signal downsampled by 2 with
//!   `resample(orig_sr=2, target_sr=1, res_type="soxr_hq", scale=True)`;
//! - the octaves are stacked, trimmed to the shortest one's frame count (`__trim_stack`),
//!   and each bin divided by the square root of its filter length (`scale=True`).
//!
//! Numbers: filter bases are computed in f64, rounded where librosa rounds to complex64,
//! sparsified in f64 (which coefficients survive matches librosa's choice for every
//! tuning on the 0.01 grid: the decisions have margins of ~3e-5 relative, against
//! rounding differences of ~1e-7). librosa takes the basis to the frequency domain with
//! scipy's complex64 FFT; ours is in f64, rounded once, so the kept values can differ
//! from librosa's by an f32 rounding. Everything after the basis is librosa's arithmetic:
//! frames are transformed by scipy's own real FFT in f64 ([`crate::rfft`]; librosa's
//! STFT multiplies the f32 frames by its float64 rectangular window) and stored as
//! complex64; each row is the sum of its complex64 products in bin order, as scipy's
//! sparse `csr_matvecs` computes it; the scale `1 / sqrt(length)` goes through
//! complex128 as numpy's division of the complex64 matrix by the float64 lengths does;
//! the magnitude is numpy's complex64 `abs`.
//! The octave signals come out of [`resample`] bit-identical to librosa's (the same
//! libsoxr SIMD engine as python-soxr, the same f64 scaling), so the output matches
//! librosa to ~4e-7 of each bin's largest value (`tests/reference_cqt.rs`): the basis'
//! rounding.
//!
//! Performance: a [`CqtPlan`] is built once and shared by threads; it builds each
//! tuning's bases at most once (one lazily filled slot per 0.01 step of tuning). A
//! [`CqtScratch`] per worker holds every per-frame buffer. Frames go 8 at a time, one per
//! SIMD lane, through the transform and the basis ([`crate::simd`]; every instruction
//! set gives the same values). The octave
//! signals are all made before the first octave's response (their schedule does not
//! depend on the tuning at the FMA settings, so the feature plan makes them while the
//! tuning is being estimated); together they hold about as many samples as `y`. On a
//! worker of a rayon pool with other threads, the frames are cut in parts of at least
//! 64 that idle workers can take (`share.rs`); each frame is transformed on its
//! own, so the values do not depend on the cut.

use crate::error::{check_finite, Error, Result};
use crate::frames::Frames;
use crate::resample::resample;
use crate::rfft::RealFft;
use crate::share::{in_shared_pool, share_frames, FrameRun, Spares};
use crate::simd::{Lanes8, MAX_LANES};
use crate::stft::StftLanes;
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;
use std::f64::consts::PI;
use std::sync::{Arc, OnceLock};

/// `note_to_hz("C1")`, librosa's default `fmin`: `440 * 2^((24 - 69) / 12)`.
pub const C1_HZ: f64 = 32.703_195_662_574_83;

/// `filters.window_bandwidth("hann")`, from librosa's `WINDOW_BANDWIDTHS` table.
const HANN_BANDWIDTH: f64 = 1.500_183_105_468_75;

/// `sparsity`: the fraction of each filter's L1 mass that may be dropped.
const SPARSITY: f64 = 0.01;

/// Number of cached tunings: `-0.5 + k * 0.01` for `k` in `0..100`, the values
/// `librosa.estimate_tuning` returns (`np.linspace(-0.5, 0.5, 100, endpoint=False)`).
const N_TUNING_SLOTS: usize = 100;

/// The fewest frames a part gets when a signal's frames are shared out to a rayon pool:
/// 64 frames are about 0.1 ms of CQT work, far more than a task costs.
const MIN_FRAMES_PER_PART: usize = 64;

/// The parameters of `librosa.cqt` that the plan fixes. Defaults are the FMA feature
/// settings: `sr=22050, hop_length=512, fmin=C1, n_bins=84, bins_per_octave=12`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CqtParams {
    /// `sr`: sampling rate of the input in Hz. Default 22050.
    pub sr: f64,
    /// `hop_length`: samples between frames. Default 512.
    pub hop_length: usize,
    /// `fmin`: frequency of bin 0 before tuning, in Hz. Default [`C1_HZ`].
    pub fmin: f64,
    /// `n_bins`: number of frequency bins (at least 2). Default 84.
    pub n_bins: usize,
    /// `bins_per_octave`. Default 12.
    pub bins_per_octave: usize,
}

impl Default for CqtParams {
    fn default() -> Self {
        CqtParams {
            sr: 22050.0,
            hop_length: 512,
            fmin: C1_HZ,
            n_bins: 84,
            bins_per_octave: 12,
        }
    }
}

/// Everything `librosa.cqt` derives from its parameters and one tuning: the octave
/// schedule and each octave's sparse frequency-domain filter basis.
struct TunedCqt {
    /// The early downsampling factor (a power of two; 1 when there is none).
    early_factor: usize,
    /// One entry per octave, top octave first.
    octaves: Vec<Octave>,
    /// `1 / sqrt(length)` per bin, lengths at the rate after early downsampling.
    bin_scale: Vec<f64>,
}

/// The signal each octave of a CQT reads: `y` itself for the top octaves, then `y`
/// downsampled (by libsoxr, as librosa does) as the hop halves.
#[derive(Debug)]
pub(crate) struct OctaveSignals {
    /// The schedule they were made for ([`TunedCqt::schedule`]).
    schedule: (usize, Vec<bool>),
    /// Each downsampling's output, in order.
    downsampled: Vec<Vec<f32>>,
    /// Per octave: 0 for `y`, `k` for `downsampled[k - 1]`.
    index: Vec<usize>,
}

/// One octave's part of the transform.
struct Octave {
    /// First output bin of this octave; its rows are `bin_lo..bin_lo + n_rows`.
    bin_lo: usize,
    n_rows: usize,
    hop: usize,
    n_fft: usize,
    /// Whether the signal is downsampled by 2 after this octave (the hop was even).
    downsample_after: bool,
    /// scipy's real FFT of `n_fft` points ([`crate::rfft`]), shared by octaves.
    rfft: Arc<RealFft>,
    /// `n_fft` ones: librosa's rectangular window.
    ones: Vec<f64>,
    /// The FFT bins some row reads.
    bins: std::ops::Range<usize>,
    /// The sparse basis, by rows as scipy's CSR matrix holds it: row `r` has the bins
    /// `col[row_ptr[r]..row_ptr[r + 1]]` (ascending) and their coefficients, librosa's
    /// complex64 values (including its `sqrt(sr / my_sr)` rescaling).
    row_ptr: Vec<usize>,
    col: Vec<usize>,
    coef_re: Vec<f32>,
    coef_im: Vec<f32>,
}

impl Octave {
    /// The kept FFT bins of row `r`.
    #[cfg(test)]
    fn support(&self, r: usize) -> Vec<usize> {
        self.col[self.row_ptr[r]..self.row_ptr[r + 1]].to_vec()
    }
}

/// A reusable constant-Q transform for one parameter set: shared by threads
/// (`Send + Sync`), it builds each tuning's filter bases once, on first use.
pub struct CqtPlan {
    params: CqtParams,
    slots: Box<[TuningSlot]>,
    /// Buffers of the parts of a signal's frames that ran on other workers.
    spare: Spares<CqtScratch>,
}

/// One tuning's bases once built, or why they could not be (kept as text: errors are
/// not `Clone`).
type TuningSlot = OnceLock<std::result::Result<Arc<TunedCqt>, String>>;

impl std::fmt::Debug for CqtPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = self.slots.iter().filter(|s| s.get().is_some()).count();
        f.debug_struct("CqtPlan")
            .field("params", &self.params)
            .field("tunings_built", &built)
            .finish()
    }
}

/// Per-worker buffers for [`CqtPlan::process`]; make one per thread with
/// [`CqtPlan::scratch`]. Buffers grow if an octave needs more and are never shrunk.
#[derive(Debug, Default)]
pub struct CqtScratch {
    /// The frames of one batch, one per lane, and the transform's second buffer.
    data: Vec<f64>,
    tmp: Vec<f64>,
    /// The batch's spectra at the octave's bins, as complex64 in lanes: bin
    /// `bins.start + j` of frame `l` at `j * LANES + l`.
    spec_re: Vec<f32>,
    spec_im: Vec<f32>,
}

/// Frames transformed and multiplied by the basis together, one per SIMD lane.
const LANES: usize = MAX_LANES;

impl CqtScratch {
    fn ensure(&mut self, n_fft: usize, n_spec: usize) {
        if self.data.len() < n_fft * LANES {
            self.data.resize(n_fft * LANES, 0.0);
            self.tmp.resize(n_fft * LANES, 0.0);
        }
        if self.spec_re.len() < n_spec * LANES {
            self.spec_re.resize(n_spec * LANES, 0.0);
            self.spec_im.resize(n_spec * LANES, 0.0);
        }
    }
}

impl CqtPlan {
    /// Checks the parameters as librosa does (the top filter must stay below Nyquist
    /// for every tuning in [-0.5, 0.5)) and makes an empty tuning cache.
    pub fn new(params: CqtParams) -> Result<Self> {
        let CqtParams {
            sr,
            hop_length,
            fmin,
            n_bins,
            bins_per_octave,
        } = params;
        if !(sr.is_finite() && sr > 0.0) {
            return Err(Error::InvalidArgument(format!("sr={sr} must be positive")));
        }
        if hop_length == 0 {
            return Err(Error::InvalidArgument("hop_length must be positive".into()));
        }
        if !(fmin.is_finite() && fmin > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "fmin={fmin} must be positive"
            )));
        }
        if n_bins < 2 || bins_per_octave == 0 {
            return Err(Error::InvalidArgument(format!(
                "need n_bins >= 2 and bins_per_octave >= 1, got {n_bins} and {bins_per_octave}"
            )));
        }
        // The cutoff grows with the tuning: the highest cached tuning bounds them all.
        TunedCqt::build(&params, tuning_of_slot(N_TUNING_SLOTS - 1))?;
        let slots = (0..N_TUNING_SLOTS).map(|_| OnceLock::new()).collect();
        Ok(CqtPlan {
            params,
            slots,
            spare: Spares::new(),
        })
    }

    /// The parameters this plan computes with.
    pub fn params(&self) -> &CqtParams {
        &self.params
    }

    /// A scratch sized for this plan at tuning 0.
    pub fn scratch(&self) -> CqtScratch {
        let mut s = CqtScratch::default();
        if let Ok(t) = self.tuned(0.0) {
            for o in &t.octaves {
                s.ensure(o.n_fft, o.bins.len());
            }
        }
        s
    }

    /// The frame count of the CQT of `n_samples` samples: the shortest octave's STFT
    /// frame count, which is `1 + n_samples / hop_length` at the default parameters.
    pub fn n_frames(&self, n_samples: usize, tuning: f64) -> Result<usize> {
        Ok(self.tuned(tuning)?.n_frames(n_samples))
    }

    /// `abs(librosa.cqt(y, sr, hop_length, fmin, n_bins, bins_per_octave, tuning=tuning))`
    /// into `out` (`n_bins` rows, frame-major). `tuning` is in fractions of a bin; values
    /// on librosa's grid (`-0.5 + k * 0.01`) use cached bases, others build them afresh.
    ///
    /// Errors: non-finite samples (librosa refuses them too), or input shorter than the
    /// early downsampling factor (only possible when early downsampling applies).
    pub fn process(
        &self,
        y: &[f32],
        tuning: f64,
        scratch: &mut CqtScratch,
        out: &mut Frames,
    ) -> Result<()> {
        self.process_prepared(y, None, tuning, scratch, out)
    }

    /// The signal each octave reads (`y`, downsampled as the octaves go down) for the
    /// octave schedule of tuning 0, which is that of nearly every tuning: the part of
    /// [`process`](Self::process) that does not need the tuning, so it can run while the
    /// tuning is being estimated.
    pub(crate) fn prepare(&self, y: &[f32]) -> Result<OctaveSignals> {
        self.tuned(0.0)?.signals(y)
    }

    /// [`process`](Self::process), with the octave signals of [`prepare`](Self::prepare)
    /// on the same `y` where they are given and their schedule is the tuning's.
    pub(crate) fn process_prepared(
        &self,
        y: &[f32],
        prepared: Option<OctaveSignals>,
        tuning: f64,
        scratch: &mut CqtScratch,
        out: &mut Frames,
    ) -> Result<()> {
        check_finite(y)?;
        let tuned = self.tuned(tuning)?;
        let signals = match prepared {
            Some(s) if s.schedule == tuned.schedule() => s,
            _ => tuned.signals(y)?,
        };
        out.reshape(self.params.n_bins, tuned.n_frames(y.len()));
        let job = Responses {
            tuned: &tuned,
            y,
            signals: &signals,
        };
        let run = CqtFrames {
            first: 0,
            n_bins: self.params.n_bins,
            out: &mut out.data,
        };
        if in_shared_pool() {
            // Idle workers take parts of the frames: each frame is transformed on its own,
            // so the values do not depend on the cut.
            let lend = || self.spare.take(|| self.scratch());
            let work = |run: CqtFrames<'_>, scratch: &mut CqtScratch| job.run(run, scratch);
            let lent = share_frames(run, MIN_FRAMES_PER_PART, 1, scratch, &lend, &work)?;
            self.spare.keep(lent);
            Ok(())
        } else {
            job.run(run, scratch)
        }
    }

    /// [`process`](Self::process) into a new matrix, with a new scratch.
    pub fn cqt(&self, y: &[f32], tuning: f64) -> Result<Frames> {
        let mut out = Frames::default();
        self.process(y, tuning, &mut self.scratch(), &mut out)?;
        Ok(out)
    }

    /// The bases for `tuning`: from the cache when it is on the 0.01 grid.
    fn tuned(&self, tuning: f64) -> Result<Arc<TunedCqt>> {
        if !tuning.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "tuning={tuning} must be finite"
            )));
        }
        match slot_of_tuning(tuning) {
            Some(k) => self.slots[k]
                .get_or_init(|| {
                    TunedCqt::build(&self.params, tuning_of_slot(k))
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .clone()
                .map_err(Error::InvalidArgument),
            None => TunedCqt::build(&self.params, tuning).map(Arc::new),
        }
    }
}

/// librosa's tuning grid value `k`: `np.linspace(-0.5, 0.5, 100, endpoint=False)[k]`,
/// which numpy computes as `k * 0.01 + (-0.5)`.
fn tuning_of_slot(k: usize) -> f64 {
    k as f64 * 0.01 - 0.5
}

/// The grid slot of `tuning`, if it lies within 1e-9 of a grid value.
fn slot_of_tuning(tuning: f64) -> Option<usize> {
    let k = ((tuning + 0.5) * 100.0).round();
    if !(0.0..N_TUNING_SLOTS as f64).contains(&k) {
        return None;
    }
    let k = k as usize;
    ((tuning - tuning_of_slot(k)).abs() < 1e-9).then_some(k)
}

/// Centre frequencies of the bins, as `interval_frequencies(intervals="equal")` makes
/// them: `(2^octave * 2^(i / bpo)) * fmin_tuned`.
pub fn cqt_frequencies(params: &CqtParams, tuning: f64) -> Vec<f64> {
    let bpo = params.bins_per_octave;
    let fmin = params.fmin * 2f64.powf(tuning / bpo as f64);
    (0..params.n_bins)
        .map(|k| {
            let ratio = 2f64.powf((k % bpo) as f64 / bpo as f64);
            (2f64.powf((k / bpo) as f64) * ratio) * fmin
        })
        .collect()
}

/// `filters._relative_bandwidth`: `alpha` per bin from the local log-frequency spacing.
fn relative_bandwidth(freqs: &[f64]) -> Vec<f64> {
    let n = freqs.len();
    let logf: Vec<f64> = freqs.iter().map(|f| f.log2()).collect();
    (0..n)
        .map(|i| {
            let bpo = if i == 0 {
                1.0 / (logf[1] - logf[0])
            } else if i == n - 1 {
                1.0 / (logf[n - 1] - logf[n - 2])
            } else {
                2.0 / (logf[i + 1] - logf[i - 1])
            };
            let r = 2f64.powf(2.0 / bpo);
            (r - 1.0) / (r + 1.0)
        })
        .collect()
}

/// `filters.wavelet_lengths(freqs, sr, window="hann", filter_scale=1, gamma=0)`: the
/// filter length of each bin in samples (`Q * sr / f`, `Q = 1 / alpha`) and the highest
/// frequency any filter reaches.
pub fn wavelet_lengths(freqs: &[f64], sr: f64) -> (Vec<f64>, f64) {
    let alpha = relative_bandwidth(freqs);
    lengths_from_alpha(freqs, &alpha, sr)
}

fn lengths_from_alpha(freqs: &[f64], alpha: &[f64], sr: f64) -> (Vec<f64>, f64) {
    let mut cutoff = f64::NEG_INFINITY;
    let lengths = freqs
        .iter()
        .zip(alpha)
        .map(|(&f, &a)| {
            let q = 1.0 / a;
            cutoff = cutoff.max(f * (1.0 + 0.5 * HANN_BANDWIDTH / q));
            q * sr / f
        })
        .collect();
    (lengths, cutoff)
}

impl TunedCqt {
    fn build(params: &CqtParams, tuning: f64) -> Result<TunedCqt> {
        let n_bins = params.n_bins;
        let bpo = params.bins_per_octave;
        let n_octaves = n_bins.div_ceil(bpo);
        let n_filters = bpo.min(n_bins);
        let freqs = cqt_frequencies(params, tuning);
        let alpha = relative_bandwidth(&freqs);
        let (_, cutoff) = lengths_from_alpha(&freqs, &alpha, params.sr);
        let nyquist = params.sr / 2.0;
        if cutoff > nyquist {
            return Err(Error::InvalidArgument(format!(
                "CQT filters reach {cutoff:.1} Hz, above the Nyquist frequency {nyquist} Hz; \
                 use fewer bins or a lower fmin"
            )));
        }

        // __early_downsample_count
        let count1 = ((nyquist / cutoff).log2().ceil() as i64 - 1 - 1).max(0);
        let count2 = (params.hop_length.trailing_zeros() as i64 - n_octaves as i64 + 1).max(0);
        let early_count = count1.min(count2) as u32;
        let early_factor = 1usize << early_count;
        let sr = params.sr / early_factor as f64;
        let hop = params.hop_length / early_factor;

        let mut complex_planner = FftPlanner::<f64>::new();
        let mut rffts: Vec<Arc<RealFft>> = Vec::new();
        let mut octaves = Vec::with_capacity(n_octaves);
        let (mut my_sr, mut my_hop) = (sr, hop);
        for i in 0..n_octaves {
            let hi = n_bins - n_filters * i;
            let lo = n_bins.saturating_sub(n_filters * (i + 1));
            let downsample_after = my_hop % 2 == 0;
            let (n_fft, basis) =
                filter_basis_fft(&freqs[lo..hi], &alpha[lo..hi], my_sr, &mut complex_planner);
            let rescale = (sr / my_sr).sqrt();
            let mut row_ptr = vec![0usize];
            let (mut col, mut coef_re, mut coef_im) = (Vec::new(), Vec::new(), Vec::new());
            for row in &basis {
                for j in sparse_support(row) {
                    // librosa: complex64 basis *= sqrt(sr / my_sr), rounded to complex64.
                    let c = row[j];
                    col.push(j);
                    coef_re.push((c.re as f32 as f64 * rescale) as f32);
                    coef_im.push((c.im as f32 as f64 * rescale) as f32);
                }
                row_ptr.push(col.len());
            }
            let bins_lo = col.iter().copied().min().unwrap_or(0);
            let bins_hi = col.iter().map(|&c| c + 1).max().unwrap_or(0);
            let rfft = match rffts.iter().find(|f| f.len() == n_fft) {
                Some(f) => f.clone(),
                None => {
                    let f = Arc::new(RealFft::new(n_fft)?);
                    rffts.push(f.clone());
                    f
                }
            };
            octaves.push(Octave {
                bin_lo: lo,
                n_rows: hi - lo,
                hop: my_hop,
                n_fft,
                downsample_after,
                rfft,
                ones: vec![1.0; n_fft],
                bins: bins_lo..bins_hi.max(bins_lo),
                row_ptr,
                col,
                coef_re,
                coef_im,
            });
            if downsample_after {
                my_hop /= 2;
                my_sr /= 2.0;
            }
        }
        let (lengths, _) = lengths_from_alpha(&freqs, &alpha, sr);
        let bin_scale = lengths.iter().map(|l| 1.0 / l.sqrt()).collect();
        Ok(TunedCqt {
            early_factor,
            octaves,
            bin_scale,
        })
    }

    /// What decides the octave signals: the early downsampling factor and, for each
    /// octave but the last, whether the signal is halved after it.
    fn schedule(&self) -> (usize, Vec<bool>) {
        let n = self.octaves.len().saturating_sub(1);
        let halve = self.octaves[..n].iter().map(|o| o.downsample_after);
        (self.early_factor, halve.collect())
    }

    /// The signal of each octave of `y`.
    ///
    /// Errors: input shorter than the early downsampling factor (only possible when
    /// early downsampling applies).
    fn signals(&self, y: &[f32]) -> Result<OctaveSignals> {
        let mut downsampled: Vec<Vec<f32>> = Vec::new();
        if self.early_factor > 1 {
            if y.len() < self.early_factor {
                return Err(Error::InputTooShort {
                    n_samples: y.len(),
                    min_samples: self.early_factor,
                });
            }
            downsampled.push(resample(y, self.early_factor as f64, 1.0, true)?);
        }
        let schedule = self.schedule();
        let mut index = Vec::with_capacity(self.octaves.len());
        for &halve in schedule.1.iter().chain([&false]) {
            let k = downsampled.len();
            index.push(k);
            // librosa also downsamples after the last octave; nothing reads that signal.
            if halve {
                let signal = if k == 0 { y } else { &downsampled[k - 1] };
                let half = resample(signal, 2.0, 1.0, true)?;
                downsampled.push(half);
            }
        }
        Ok(OctaveSignals {
            schedule,
            downsampled,
            index,
        })
    }

    /// `__trim_stack`'s column count: the fewest STFT frames over the octaves.
    fn n_frames(&self, n_samples: usize) -> usize {
        let mut len = if self.early_factor > 1 {
            n_samples.div_ceil(self.early_factor)
        } else {
            n_samples
        };
        let mut n_frames = usize::MAX;
        for o in &self.octaves {
            n_frames = n_frames.min(stft_frames(len, o.n_fft, o.hop));
            if o.downsample_after {
                len = len.div_ceil(2);
            }
        }
        n_frames
    }
}

/// Frames of librosa's centred STFT (`center=True`): `1 + (n + 2 * (n_fft / 2) - n_fft) / hop`.
fn stft_frames(n_samples: usize, n_fft: usize, hop: usize) -> usize {
    1 + (n_samples + 2 * (n_fft / 2) - n_fft) / hop
}

/// One octave's filters in the frequency domain, `__vqt_filter_fft` before
/// sparsification: `(n_fft, rows)` with `n_fft / 2 + 1` bins per row.
///
/// As `filters.wavelet` then `__vqt_filter_fft`: for a filter of (fractional) length
/// `l`, the taps are `t = floor(-l/2) .. floor(l/2)`, each `exp(2 pi i t f / sr)` times a
/// periodic Hann window; the filter is divided by its L1 norm, centred in `n_fft` (the
/// power of two at or above the longest filter), rounded to complex64, multiplied by
/// `l / n_fft` (rounded to complex64 again) and Fourier transformed.
fn filter_basis_fft(
    freqs: &[f64],
    alpha: &[f64],
    sr: f64,
    planner: &mut FftPlanner<f64>,
) -> (usize, Vec<Vec<Complex<f64>>>) {
    let (lengths, _) = lengths_from_alpha(freqs, alpha, sr);
    let max_len = lengths.iter().fold(0f64, |m, &l| m.max(l));
    // At least 2 so the half-length FFT exists; filters are always longer than that
    // (Q > 1.6 even at one bin per octave, and no filter is below 2 samples per cycle).
    let n_fft = (2f64.powf(max_len.log2().ceil()) as usize).max(2);
    let fft = planner.plan_fft_forward(n_fft);
    let mut rows = Vec::with_capacity(freqs.len());
    let mut buf = vec![Complex::new(0.0, 0.0); n_fft];
    for (&len, &freq) in lengths.iter().zip(freqs) {
        let start = (-len / 2.0).floor();
        let n = ((len / 2.0).floor() - start) as usize;
        let window = hann_periodic(n);
        let taps: Vec<Complex<f64>> = (0..n)
            .map(|k| {
                let angle = (start + k as f64) * 2.0 * PI * freq / sr;
                Complex::new(angle.cos(), angle.sin()) * window[k]
            })
            .collect();
        let l1: f64 = taps.iter().map(|c| c.norm()).sum();
        let l1 = if l1 < f64::MIN_POSITIVE { 1.0 } else { l1 };
        let factor = len / n_fft as f64;
        let lpad = (n_fft - n) / 2;
        buf.fill(Complex::new(0.0, 0.0));
        for (k, tap) in taps.iter().enumerate() {
            let c = tap / l1;
            let c32 = Complex::new(c.re as f32 as f64, c.im as f32 as f64);
            buf[lpad + k] = Complex::new(
                (c32.re * factor) as f32 as f64,
                (c32.im * factor) as f32 as f64,
            );
        }
        fft.process(&mut buf);
        rows.push(buf[..n_fft / 2 + 1].to_vec());
    }
    (n_fft, rows)
}

/// `scipy.signal.get_window("hann", n)` (periodic): `0.5 - 0.5 cos(2 pi k / n)`.
fn hann_periodic(n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![1.0];
    }
    (0..n)
        .map(|k| 0.5 - 0.5 * (2.0 * PI * k as f64 / n as f64).cos())
        .collect()
}

/// `util.sparsify_rows(quantile=0.01)` for one row: the indices of the coefficients kept.
///
/// Sort the magnitudes ascending, find the first position where their running sum
/// reaches 1% of the total, and keep every coefficient at least that large.
fn sparse_support(row: &[Complex<f64>]) -> Vec<usize> {
    let mags: Vec<f64> = row.iter().map(|c| c.norm()).collect();
    let total: f64 = mags.iter().sum();
    let mut sorted = mags.clone();
    sorted.sort_by(f64::total_cmp);
    let mut cumulative = 0.0;
    // np.argmin(cumulative < quantile) is 0 when no position reaches the quantile.
    let mut threshold = sorted.first().copied().unwrap_or(0.0);
    for &m in &sorted {
        cumulative += m / total;
        if cumulative >= SPARSITY {
            threshold = m;
            break;
        }
    }
    (0..mags.len()).filter(|&j| mags[j] >= threshold).collect()
}

/// One signal's CQT, once its octave signals are made: what each part of its frames needs.
struct Responses<'a> {
    tuned: &'a TunedCqt,
    y: &'a [f32],
    signals: &'a OctaveSignals,
}

/// The CQT's frames `first..`: `out` holds whole frames of `n_bins` values.
struct CqtFrames<'a> {
    first: usize,
    n_bins: usize,
    out: &'a mut [f32],
}

impl FrameRun for CqtFrames<'_> {
    fn n_frames(&self) -> usize {
        self.out.len() / self.n_bins
    }

    fn split_at(self, k: usize) -> (Self, Self) {
        let (out, rest) = self.out.split_at_mut((k * self.n_bins).min(self.out.len()));
        (
            CqtFrames {
                first: self.first,
                n_bins: self.n_bins,
                out,
            },
            CqtFrames {
                first: self.first + k,
                n_bins: self.n_bins,
                out: rest,
            },
        )
    }
}

impl Responses<'_> {
    /// Every octave's rows of the frames of `run`.
    fn run(&self, run: CqtFrames<'_>, scratch: &mut CqtScratch) -> Result<()> {
        for (octave, &k) in self.tuned.octaves.iter().zip(&self.signals.index) {
            let signal = if k == 0 {
                self.y
            } else {
                &self.signals.downsampled[k - 1]
            };
            octave_response(
                octave,
                signal,
                &self.tuned.bin_scale,
                run.first,
                run.n_bins,
                scratch,
                run.out,
            )?;
        }
        Ok(())
    }
}

/// One octave's rows of the CQT magnitude: frame `t` is samples
/// `t * hop - n_fft / 2 .. t * hop + n_fft / 2` of `signal` (zeros outside), transformed
/// by scipy's real FFT (in f64, stored as complex64, as librosa's STFT with a rectangular
/// window does), multiplied by the sparse basis in complex64 arithmetic as scipy's
/// `csr_matvecs` does (each row's products added in bin order, from 0), scaled by
/// `1 / sqrt(length)` through complex128 as numpy divides a complex64 matrix by
/// float64 lengths, and taken to numpy's complex64 `abs`. Frames go [`LANES`] at a time,
/// one per SIMD lane; `out` gets the rows of its frames.
fn octave_response(
    octave: &Octave,
    signal: &[f32],
    bin_scale: &[f64],
    first: usize,
    n_bins: usize,
    scratch: &mut CqtScratch,
    out: &mut [f32],
) -> Result<()> {
    octave_response_with(
        crate::simd::best(),
        octave,
        signal,
        bin_scale,
        first,
        n_bins,
        scratch,
        out,
    )
}

/// [`octave_response`] with the given instruction set (the same values with any).
#[allow(clippy::too_many_arguments)]
fn octave_response_with(
    isa: crate::simd::Isa,
    octave: &Octave,
    signal: &[f32],
    bin_scale: &[f64],
    first: usize,
    n_bins: usize,
    scratch: &mut CqtScratch,
    out: &mut [f32],
) -> Result<()> {
    isa.require()?;
    scratch.ensure(octave.n_fft, octave.bins.len());
    // SAFETY: the CPU has the instructions of the path taken (checked above).
    unsafe {
        crate::simd::dispatch!(isa, <I, V>(
            o: &Octave = octave,
            signal: &[f32] = signal,
            scale: &[f64] = bin_scale,
            first: usize = first,
            n_bins: usize = n_bins,
            scratch: &mut CqtScratch = scratch,
            out: &mut [f32] = out,
        ) {
            octave_lanes::<I, V>(o, signal, scale, first, n_bins, scratch, out)
        })
    };
    Ok(())
}

/// [`octave_response`] with 8-lane f32 arithmetic `I` and transforms of `V::W` frames.
///
/// # Safety
/// The CPU has the instructions of `I` and `V`; `scratch` is sized for the octave.
#[inline(always)]
unsafe fn octave_lanes<I: Lanes8, V: StftLanes>(
    o: &Octave,
    signal: &[f32],
    bin_scale: &[f64],
    first: usize,
    n_bins: usize,
    scratch: &mut CqtScratch,
    out: &mut [f32],
) {
    let n = o.n_fft;
    let w = V::W;
    let n_frames = out.len() / n_bins;
    let (bins, nb) = (o.bins.clone(), n / 2 + 1);
    let data = &mut scratch.data[..n * w];
    let tmp = &mut scratch.tmp[..n * w];
    let (spec_re, spec_im) = (&mut scratch.spec_re[..], &mut scratch.spec_im[..]);
    let scale = &bin_scale[o.bin_lo..o.bin_lo + o.n_rows];
    let mut mags = [0.0f32; LANES];
    for t0 in (0..n_frames).step_by(LANES) {
        let count = LANES.min(n_frames - t0);
        for offset in (0..LANES).step_by(w) {
            // Frames first + t0 + offset + l of the signal, lanes l of the transform.
            let start = |l: usize| ((first + t0 + offset + l) * o.hop) as i64 - (n / 2) as i64;
            if start(0) >= 0 && start(w - 1) + n as i64 <= signal.len() as i64 {
                // A rectangular window: times 1.0, which changes no value.
                let base = signal.as_ptr().add(start(0) as usize);
                V::fill_frames(&o.ones, base, o.hop, data.as_mut_ptr(), (1, n));
            } else {
                for l in 0..w {
                    let s0 = start(l);
                    for i in 0..n {
                        let j = s0 + i as i64;
                        data[i * w + l] = if j >= 0 && j < signal.len() as i64 {
                            signal[j as usize] as f64
                        } else {
                            0.0
                        };
                    }
                }
            }
            o.rfft.forward::<V>(data, tmp);
            // Halfcomplex r0, r1, i1, ..., r(n/2), stored as complex64.
            for (j, k) in bins.clone().enumerate() {
                for l in 0..w {
                    let (re, im) = if k == 0 {
                        (data[l], 0.0)
                    } else if k == nb - 1 {
                        (data[(n - 1) * w + l], 0.0)
                    } else {
                        (data[(2 * k - 1) * w + l], data[2 * k * w + l])
                    };
                    spec_re[j * LANES + offset + l] = re as f32;
                    spec_im[j * LANES + offset + l] = im as f32;
                }
            }
        }
        for r in 0..o.n_rows {
            let (mut y_re, mut y_im) = (I::f_splat(0.0), I::f_splat(0.0));
            for jj in o.row_ptr[r]..o.row_ptr[r + 1] {
                let j = o.col[jj] - bins.start;
                let x_re = I::f_load(spec_re.as_ptr().add(j * LANES));
                let x_im = I::f_load(spec_im.as_ptr().add(j * LANES));
                let (a_re, a_im) = (I::f_splat(o.coef_re[jj]), I::f_splat(o.coef_im[jj]));
                // scipy's complex_wrapper: (ar xr - ai xi, ar xi + ai xr), then y += p.
                let p_re = I::f_sub(I::f_mul(a_re, x_re), I::f_mul(a_im, x_im));
                let p_im = I::f_add(I::f_mul(a_re, x_im), I::f_mul(a_im, x_re));
                y_re = I::f_add(y_re, p_re);
                y_im = I::f_add(y_im, p_im);
            }
            // V /= sqrt(lengths): complex128 by (s + 0i), which numpy's division turns
            // into a product with 1 / s; then back to complex64.
            let inv = I::d_splat(scale[r]);
            let re = I::d_to_f(I::d_mul(I::d_from_f(y_re), inv));
            let im = I::d_to_f(I::d_mul(I::d_from_f(y_im), inv));
            I::f_store(I::f_cabs(re, im), mags.as_mut_ptr());
            for (l, &m) in mags.iter().enumerate().take(count) {
                out[(t0 + l) * n_bins + o.bin_lo + r] = m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body of a little-endian float32 `.npy` fixture (the header is skipped).
    fn read_npy_f32(name: &str) -> Vec<f32> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00", "{}", path.display());
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert!(std::str::from_utf8(&bytes[10..10 + header_len])
            .unwrap()
            .contains("'<f4'"));
        bytes[10 + header_len..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    fn default_plan() -> CqtPlan {
        CqtPlan::new(CqtParams::default()).unwrap()
    }

    fn sine(freq: f64, n: usize, sr: f64) -> Vec<f32> {
        (0..n)
            .map(|i| (0.5 * (2.0 * PI * freq * i as f64 / sr).sin()) as f32)
            .collect()
    }

    /// The bin with the largest mean magnitude over the middle frames.
    fn loudest_bin(c: &Frames) -> usize {
        let frames = c.n_frames / 4..3 * c.n_frames / 4;
        (0..c.n_rows)
            .map(|r| (r, frames.clone().map(|t| c.get(r, t) as f64).sum::<f64>()))
            .fold((0, f64::MIN), |best, x| if x.1 > best.1 { x } else { best })
            .0
    }

    #[test]
    fn tuning_grid_round_trips() {
        for k in 0..N_TUNING_SLOTS {
            assert_eq!(slot_of_tuning(tuning_of_slot(k)), Some(k));
        }
        // The values librosa.estimate_tuning returns, as the fixtures store them.
        assert_eq!(tuning_of_slot(40), -0.09999999999999998);
        assert_eq!(slot_of_tuning(-0.1), Some(40));
        assert_eq!(slot_of_tuning(0.5), None);
        assert_eq!(slot_of_tuning(0.013), None);
    }

    #[test]
    fn frames_shared_out_in_a_pool_give_the_values_of_one_worker() {
        // 20 s: 862 frames, shared out in parts of 64 to 107 frames, whose first frames
        // fall anywhere in the groups of LANES frames that one worker would make.
        let mut state = 77u64;
        let y: Vec<f32> = sine(261.6, 20 * 22050, 22050.0)
            .into_iter()
            .map(|x| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                0.5 * x + ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.1
            })
            .collect();
        let plan = default_plan();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for tuning in [0.0, -0.37] {
            let alone = plan.cqt(&y, tuning).unwrap();
            assert_eq!(alone.n_frames, 862);
            let pooled = pool.install(|| plan.cqt(&y, tuning)).unwrap();
            assert_eq!(pooled, alone, "tuning {tuning}");
        }
        // Some parts ran on the other worker, whose buffers are now kept for later.
        // Whether the other worker takes a part is up to the scheduler (on a loaded
        // machine it may not), so run again until one has.
        for _ in 0..crate::share::STEAL_ATTEMPTS {
            if plan.spare.len() > 0 {
                break;
            }
            assert_eq!(
                pool.install(|| plan.cqt(&y, 0.0)).unwrap(),
                plan.cqt(&y, 0.0).unwrap()
            );
        }
        assert!(plan.spare.len() > 0);
    }

    #[test]
    fn equal_tempered_tones_land_in_their_bins() {
        // Bin k of the default CQT is MIDI note 24 + k (C1 = 24); with a tuning of
        // `t` bins every centre moves up by t semitones, and so does a tone played there.
        let plan = default_plan();
        for (midi, tuning) in [
            (69.0, 0.0),
            (45.0, 0.0),
            (81.0, 0.0),
            (60.0, 0.3),
            (70.0, -0.45),
        ] {
            let freq = 440.0 * 2f64.powf((midi + tuning - 69.0) / 12.0);
            let c = plan.cqt(&sine(freq, 22050, 22050.0), tuning).unwrap();
            assert_eq!(
                loudest_bin(&c),
                midi as usize - 24,
                "MIDI {midi}, tuning {tuning}"
            );
        }
    }

    #[test]
    fn filter_lengths_follow_the_constant_q_formula() {
        // Equal spacing of 12 bins per octave: alpha = (2^(1/6) - 1) / (2^(1/6) + 1) at
        // every bin (the end bins use the one-sided spacing, which is the same), and a
        // filter is Q sr / f = sr / (alpha f) samples long.
        let params = CqtParams::default();
        let freqs = cqt_frequencies(&params, 0.0);
        assert!(
            (freqs[45] - 440.0).abs() < 1e-9,
            "A4 is bin 45: {}",
            freqs[45]
        );
        let alpha = (2f64.powf(1.0 / 6.0) - 1.0) / (2f64.powf(1.0 / 6.0) + 1.0);
        let (lengths, cutoff) = wavelet_lengths(&freqs, 22050.0);
        for (k, (&l, &f)) in lengths.iter().zip(&freqs).enumerate() {
            let expected = 22050.0 / (alpha * f);
            assert!(
                (l - expected).abs() < 1e-9 * expected,
                "bin {k}: {l} vs {expected}"
            );
        }
        // librosa.filters.wavelet_lengths gives 868.5490137800854 for A4.
        assert!(
            (lengths[45] - 868.549_013_780_085_4).abs() < 1e-9,
            "A4 filter: {}",
            lengths[45]
        );
        // The cutoff: top bin plus half its Hann bandwidth, 4122.06 Hz (librosa's value).
        assert!(
            (cutoff - 4_122.064_078_905_25).abs() < 1e-6,
            "cutoff {cutoff}"
        );
    }

    #[test]
    fn the_octave_signals_need_no_tuning_at_the_fma_settings() {
        // So the feature plan can make them while the tuning is being estimated.
        let plan = default_plan();
        let at_zero = plan.tuned(0.0).unwrap().schedule();
        assert_eq!(at_zero, (1, vec![true; 6]));
        for k in 0..N_TUNING_SLOTS {
            let tuned = plan.tuned(tuning_of_slot(k)).unwrap();
            assert_eq!(tuned.schedule(), at_zero, "tuning {}", tuning_of_slot(k));
        }
    }

    #[test]
    fn prepared_signals_give_the_same_cqt_and_others_are_redone() {
        let y: Vec<f32> = sine(220.0, 40_000, 22050.0)
            .iter()
            .zip(sine(1234.5, 40_000, 22050.0))
            .map(|(a, b)| a + 0.3 * b)
            .collect();
        let plan = default_plan();
        let direct = plan.cqt(&y, 0.12).unwrap();
        let mut out = Frames::default();
        let prepared = plan.prepare(&y).unwrap();
        plan.process_prepared(&y, Some(prepared), 0.12, &mut plan.scratch(), &mut out)
            .unwrap();
        assert_eq!(out, direct);
        // Signals prepared for another schedule (hop 1000 halves only three times; 44.1
        // kHz downsamples early) are not used.
        for (sr, hop) in [(22050.0, 1000), (44100.0, 512)] {
            let other = CqtPlan::new(CqtParams {
                sr,
                hop_length: hop,
                ..CqtParams::default()
            })
            .unwrap();
            let prepared = other.prepare(&y).unwrap();
            assert_ne!(prepared.schedule, plan.tuned(0.12).unwrap().schedule());
            plan.process_prepared(&y, Some(prepared), 0.12, &mut plan.scratch(), &mut out)
                .unwrap();
            assert_eq!(out, direct, "prepared at {sr} Hz, hop {hop}");
        }
    }

    #[test]
    fn early_downsampling_follows_librosa() {
        // Filters reach ~4.1 kHz: at 44.1 kHz librosa halves first; at 22.05 kHz it
        // does not; hop 1000 (three factors of two) leaves no room for it.
        let tuned = |sr: f64, hop: usize| {
            let params = CqtParams {
                sr,
                hop_length: hop,
                ..CqtParams::default()
            };
            TunedCqt::build(&params, 0.0).unwrap()
        };
        assert_eq!(tuned(22050.0, 512).early_factor, 1);
        assert_eq!(tuned(44100.0, 512).early_factor, 2);
        assert_eq!(tuned(48000.0, 512).early_factor, 2);
        assert_eq!(tuned(44100.0, 1000).early_factor, 1);
        let t = tuned(44100.0, 512);
        assert_eq!(
            t.octaves.iter().map(|o| o.hop).collect::<Vec<_>>(),
            [256, 128, 64, 32, 16, 8, 4]
        );
        // Above Nyquist: C7's filter needs more than 4 kHz.
        assert!(CqtPlan::new(CqtParams {
            sr: 8000.0,
            ..CqtParams::default()
        })
        .is_err());
    }

    #[test]
    fn silence_and_empty_input_give_finite_zeros() {
        let plan = default_plan();
        for n in [0usize, 1, 1000, 30000] {
            let c = plan.cqt(&vec![0.0; n], 0.13).unwrap();
            assert_eq!((c.n_rows, c.n_frames), (84, 1 + n / 512), "n = {n}");
            assert!(c.data.iter().all(|&v| v == 0.0), "n = {n}");
        }
        // A whisper at the f32 noise floor stays finite too.
        let c = plan.cqt(&vec![1e-30; 5000], 0.0).unwrap();
        assert!(c.data.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn rejects_non_finite_samples_and_tunings() {
        let plan = default_plan();
        let mut y = vec![0.1f32; 3000];
        y[1234] = f32::NAN;
        assert!(matches!(
            plan.cqt(&y, 0.0),
            Err(Error::NonFiniteSample { index: 1234 })
        ));
        assert!(plan.cqt(&[0.0; 10], f64::NAN).is_err());
    }

    #[test]
    fn off_grid_tunings_match_on_grid_ones_nearby() {
        // An off-grid tuning builds its own bases; 1e-12 away from a grid value it gives
        // the same output to float rounding.
        let plan = default_plan();
        let y = sine(300.0, 8000, 22050.0);
        let a = plan.cqt(&y, 0.21).unwrap();
        let b = plan.cqt(&y, 0.21 + 1e-8).unwrap();
        let peak = a.data.iter().fold(0f32, |m, &v| m.max(v));
        for (x, z) in a.data.iter().zip(&b.data) {
            assert!((x - z).abs() <= 1e-5 * peak, "{x} vs {z}");
        }
    }

    #[test]
    fn sparse_support_keeps_99_percent_of_each_filter() {
        // sparsify_rows drops the smallest coefficients whose sum stays below 1% of the
        // row's L1 mass.
        let t = TunedCqt::build(&CqtParams::default(), 0.0).unwrap();
        let freqs = cqt_frequencies(&CqtParams::default(), 0.0);
        let alpha = relative_bandwidth(&freqs);
        let mut planner = FftPlanner::new();
        let (_, rows) = filter_basis_fft(&freqs[72..84], &alpha[72..84], 22050.0, &mut planner);
        for (r, row) in rows.iter().enumerate() {
            let total: f64 = row.iter().map(|c| c.norm()).sum();
            let kept = sparse_support(row);
            let kept_mass: f64 = kept.iter().map(|&j| row[j].norm()).sum();
            assert!(kept_mass >= 0.99 * total && kept_mass < total, "row {r}");
            assert_eq!(kept, t.octaves[0].support(r), "row {r}");
        }
    }

    #[test]
    fn sparse_supports_match_librosa_for_every_tuning() {
        // cqt_support.npy (generate_cqt.py): per grid tuning and bin, how many FFT-domain
        // coefficients librosa keeps and the sum of their indices. Exact: which
        // coefficients survive decides the response, not rounding.
        let support = read_npy_f32("cqt_support.npy");
        assert_eq!(support.len(), N_TUNING_SLOTS * 84 * 2);
        let plan = default_plan();
        for k in 0..N_TUNING_SLOTS {
            let t = plan.tuned(tuning_of_slot(k)).unwrap();
            for o in &t.octaves {
                for r in 0..o.n_rows {
                    let cols = o.support(r);
                    let at = (k * 84 + o.bin_lo + r) * 2;
                    let ours = (cols.len() as f32, cols.iter().sum::<usize>() as f32);
                    assert_eq!(
                        ours,
                        (support[at], support[at + 1]),
                        "tuning slot {k}, bin {}",
                        o.bin_lo + r
                    );
                }
            }
        }
    }

    /// The obvious way to one octave's response: a naive f64 DFT of each zero-padded
    /// frame and the sparse basis as a dense row.
    fn octave_response_slow(
        o: &Octave,
        signal: &[f32],
        scale: &[f64],
        n_frames: usize,
    ) -> Vec<Vec<(f64, f64)>> {
        let n = o.n_fft;
        let mut out = vec![vec![(0.0, 0.0); o.n_rows]; n_frames];
        for (t, row_out) in out.iter_mut().enumerate() {
            let frame: Vec<f64> = (0..n)
                .map(|m| {
                    let i = (t * o.hop + m) as isize - (n / 2) as isize;
                    if i >= 0 && (i as usize) < signal.len() {
                        signal[i as usize] as f64
                    } else {
                        0.0
                    }
                })
                .collect();
            let dft: Vec<Complex<f64>> = (0..=n / 2)
                .map(|k| {
                    frame
                        .iter()
                        .enumerate()
                        .fold(Complex::new(0.0, 0.0), |acc, (m, &x)| {
                            let phase = -2.0 * PI * ((k * m) % n) as f64 / n as f64;
                            acc + Complex::new(phase.cos(), phase.sin()) * x
                        })
                })
                .collect();
            for (r, v) in row_out.iter_mut().enumerate() {
                let mut acc = Complex::new(0.0, 0.0);
                let mut bound = 0.0;
                for jj in o.row_ptr[r]..o.row_ptr[r + 1] {
                    let b = Complex::new(o.coef_re[jj] as f64, o.coef_im[jj] as f64);
                    acc += b * dft[o.col[jj]];
                    bound += b.norm() * dft[o.col[jj]].norm();
                }
                *v = (acc.norm() * scale[r], bound * scale[r]);
            }
        }
        out
    }

    #[test]
    fn fast_octave_response_matches_naive_dft() {
        let plan = default_plan();
        let t = plan.tuned(0.27).unwrap();
        let mut state = 12345u64;
        let signal: Vec<f32> = (0..3000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect();
        let o = &t.octaves[2];
        let n_frames = stft_frames(signal.len(), o.n_fft, o.hop);
        let mut out = Frames::zeros(84, n_frames);
        let mut scratch = plan.scratch();
        octave_response(o, &signal, &t.bin_scale, 0, 84, &mut scratch, &mut out.data).unwrap();
        let slow = octave_response_slow(
            o,
            &signal,
            &t.bin_scale[o.bin_lo..o.bin_lo + o.n_rows],
            n_frames,
        );
        for (f, row) in slow.iter().enumerate() {
            for (r, &(v, bound)) in row.iter().enumerate() {
                let fast = out.get(o.bin_lo + r, f) as f64;
                // complex64 products and sums, as scipy's: a few f32 roundings of the
                // terms, which are at most `bound` in size.
                assert!(
                    (fast - v).abs() <= 1e-6 * bound + 1e-12,
                    "frame {f}, row {r}: {fast} vs {v} (terms up to {bound})"
                );
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_responses() {
        let plan = default_plan();
        let t = plan.tuned(-0.13).unwrap();
        let mut state = 999u64;
        let signal: Vec<f32> = (0..7000)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect();
        for o in &t.octaves {
            let n_frames = stft_frames(signal.len(), o.n_fft, o.hop);
            let mut outs = Vec::new();
            for isa in crate::simd::Isa::all_available() {
                for first in [0usize, 3] {
                    let mut out = vec![0.0f32; (n_frames - first) * 84];
                    let mut scratch = plan.scratch();
                    octave_response_with(
                        isa,
                        o,
                        &signal,
                        &t.bin_scale,
                        first,
                        84,
                        &mut scratch,
                        &mut out,
                    )
                    .unwrap();
                    outs.push((isa, first, out));
                }
            }
            for (isa, first, out) in &outs {
                let (_, _, reference) = outs.iter().find(|(_, f, _)| f == first).unwrap();
                assert!(
                    out.iter()
                        .zip(reference)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{isa:?} first {first} octave at hop {}",
                    o.hop
                );
            }
        }
    }

    #[test]
    fn plan_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<CqtPlan>();
        // Threads racing to fill the same tuning slot get identical results.
        let plan = default_plan();
        let y = sine(1000.0, 4000, 22050.0);
        let results: Vec<Frames> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| s.spawn(|| plan.cqt(&y, -0.33).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(results.windows(2).all(|w| w[0] == w[1]));
    }
}
