//! The STFT branch of the feature pipeline: every FMA feature derived from the
//! `n_fft=2048`, `hop_length=512` STFT (MFCC, chroma_stft, rms, spectral centroid,
//! bandwidth, rolloff and contrast), the zero-crossing rate, and the tuning estimate the
//! CQT needs, computed from one signal without keeping its spectrogram.
//!
//! It reproduces these librosa 0.11.0 calls on an f32 mono signal `y` at `sr`
//! (see each module for the conventions):
//!
//! ```text
//! stft        = abs(librosa.stft(y, n_fft=2048, hop_length=512))
//! mfcc        = librosa.feature.mfcc(S=librosa.power_to_db(
//!                   librosa.feature.melspectrogram(S=stft**2, sr=sr)), n_mfcc=20)
//! chroma_stft = librosa.feature.chroma_stft(S=stft**2, sr=sr, n_chroma=12)
//! rms         = librosa.feature.rms(S=stft, frame_length=2048)
//! centroid, bandwidth, rolloff = librosa.feature.spectral_*(S=stft, sr=sr)
//! contrast    = librosa.feature.spectral_contrast(S=stft, sr=sr, n_bands=6)
//! zcr         = librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)
//! tuning_cqt  = librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=12)
//! ```
//!
//! Two passes over the frames, each a batch of 8 frames at a time, one frame per SIMD
//! lane ([`crate::simd`]): the |STFT| of a batch comes out of the transform in lanes
//! ([`Stft::magnitude_lanes`]) and every kernel after it works on the 8 frames side by
//! side, each lane doing exactly what the kernel does for one frame alone (the tests
//! compare them to the bit, and every instruction set gives the same bits). Pass 1
//! computes the mel power (kept, 128 values a frame: `power_to_db` clamps at the max of
//! the whole matrix), the spectral features (contrast as peaks and valleys, finished at
//! the end because its dB conversion clamps at a global max too) and the piptrack
//! candidates of both tuning estimates (on the power spectrum for chroma_stft, on the
//! magnitude for the CQT). Pass 2 applies the chroma bank of the now known tuning to each
//! frame's power spectrum, recomputed by the FFT (cheaper than storing 1025 values a
//! frame for a long song) unless the signal is short enough for the spectrogram cache
//! ([`StftBranchPlan::with_spectrogram_cache`]); both routes give identical values. The
//! zero-crossing rate reads the samples directly, in one pass of its own.
//!
//! On a worker of a rayon pool with other threads, both passes share their frames out in
//! parts of at least 64 frames, cut at multiples of 8 (`rayon::join`): idle workers take parts with buffers of
//! their own, a busy pool does every part on the calling worker. Each frame's values do
//! not depend on which part it was in, and the tuning estimates do not depend on the
//! order of their candidates, so the results are the same to the bit.
//!
//! Memory beyond the signal and the outputs (44 f32 a frame): the mel power (512 bytes a
//! frame), contrast peaks and valleys (112 bytes a frame), the piptrack candidates (8
//! bytes each, a few dozen a frame) and the optional spectrogram cache; about 21 MB for a
//! 10-minute song. On a shared 2-core machine with AVX-512, the whole branch takes ~9 ms
//! of CPU per 30 s of audio (some 3000x real time)
//! (`cargo run --release -p musicgenre-features --example time_stft_branch`).

use crate::chroma::{normalize_inf, ChromaBank, ChromaBankCache, N_CHROMA};
use crate::error::{check_finite, Result};
use crate::frames::Frames;
use crate::mel::{MelBank, N_MELS};
use crate::mfcc::{mfcc_from_db_lanes, power_to_db_lanes, Dct, N_MFCC};
use crate::share::{in_shared_pool, share_frames, FrameRun, Spares};
use crate::simd::{Lanes8, MAX_LANES};
use crate::spectral::{
    contrast_from_peaks_valleys, zero_crossing_rate, SpectralLanes, SpectralPlan, N_CONTRAST,
};
use crate::stft::{Stft, StftScratch, HOP_LENGTH, N_FFT};
use crate::tuning::{PiptrackParams, PitchTracker, TuningAccumulator};

/// Default size of the spectrogram cache, in frames: 4096 frames (95 s at 22050 Hz) of
/// 1025 f32 values, 16.8 MB per worker.
pub const DEFAULT_CACHED_FRAMES: usize = 4096;

/// The fewest frames a part gets when a signal's frames are shared out to a rayon pool:
/// 64 frames (1.5 s of audio) are about 0.7 ms of pass-1 work, far more than a task costs.
const MIN_FRAMES_PER_PART: usize = 64;

/// Frames computed side by side, one per SIMD lane: the |STFT| batch
/// ([`Stft::magnitude_lanes`]) and every per-frame kernel after it. Parts of a signal
/// shared out to a pool start at multiples of it.
const LANES: usize = MAX_LANES;

/// Everything the branch needs that does not depend on the signal: FFT plan, window, mel
/// bank, DCT, spectral tables and the chroma banks per tuning. Built once, shared by all
/// threads (`Send + Sync`).
#[derive(Debug)]
pub struct StftBranchPlan {
    sr: f64,
    stft: Stft,
    mel: MelBank,
    dct: Dct,
    spectral: SpectralPlan,
    pitch: PitchTracker,
    chroma: ChromaBankCache,
    max_cached_frames: usize,
    /// Buffers of the parts of a signal that ran on other workers, kept for later ones.
    spare: Spares<FrameScratch>,
}

/// Per-thread buffers of the branch, reused from one signal to the next.
#[derive(Debug)]
pub struct StftBranchScratch {
    frames: FrameScratch,
    /// The mel spectra in dB (before `power_to_db`'s clamp), in blocks of [`LANES`]
    /// frames: value `m * LANES + l` of block `b` is band `m` of frame `b * LANES + l`.
    mel: Vec<f32>,
    peaks: Vec<f64>,
    valleys: Vec<f64>,
    power_cache: Vec<f32>,
}

/// The buffers of one run of frames: one worker's share of a signal, or all of it.
#[derive(Debug)]
struct FrameScratch {
    stft: StftScratch,
    /// One batch of [`LANES`] frames in lanes (`[k * LANES + l]`): |STFT| and its square.
    mags: Vec<f32>,
    power: Vec<f32>,
    /// The batch's chroma classes, in lanes.
    chroma: Vec<f32>,
    spectral: SpectralLanes,
    tuning_power: TuningAccumulator,
    tuning_magnitude: TuningAccumulator,
}

/// What pass 1 gives besides what stays in the scratch (mel power, contrast peaks and
/// valleys, the power spectrogram cache), for [`StftBranchPlan::finish`].
#[derive(Debug)]
pub(crate) struct FirstPass {
    n_frames: usize,
    rms: Frames,
    centroid: Frames,
    bandwidth: Frames,
    rolloff: Frames,
    zcr: Frames,
    /// `librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=12)`: what the CQT needs.
    pub(crate) tuning_cqt: f64,
    tuning_chroma_stft: f64,
}

/// Pass 1's outputs for frames `first..first + n_frames` (each slice holds exactly
/// those frames; `power` is empty without the spectrogram cache).
struct FirstPassRun<'a> {
    first: usize,
    n_frames: usize,
    /// Values per frame in `power`.
    n_bins: usize,
    /// Values per frame in `mel`.
    n_mels: usize,
    mel: &'a mut [f32],
    peaks: &'a mut [f64],
    valleys: &'a mut [f64],
    rms: &'a mut [f32],
    centroid: &'a mut [f32],
    bandwidth: &'a mut [f32],
    rolloff: &'a mut [f32],
    power: &'a mut [f32],
}

/// `s` cut after `frames` frames of `width` values each.
fn cut<T>(s: &mut [T], frames: usize, width: usize) -> (&mut [T], &mut [T]) {
    s.split_at_mut((frames * width).min(s.len()))
}

impl FrameRun for FirstPassRun<'_> {
    fn n_frames(&self) -> usize {
        self.n_frames
    }

    fn split_at(self, k: usize) -> (Self, Self) {
        let (n_mels, n_bins) = (self.n_mels, self.n_bins);
        let (mel, mel_r) = cut(self.mel, k, n_mels);
        let (peaks, peaks_r) = cut(self.peaks, k, N_CONTRAST);
        let (valleys, valleys_r) = cut(self.valleys, k, N_CONTRAST);
        let (rms, rms_r) = cut(self.rms, k, 1);
        let (centroid, centroid_r) = cut(self.centroid, k, 1);
        let (bandwidth, bandwidth_r) = cut(self.bandwidth, k, 1);
        let (rolloff, rolloff_r) = cut(self.rolloff, k, 1);
        let (power, power_r) = cut(self.power, k, n_bins);
        (
            FirstPassRun {
                first: self.first,
                n_frames: k,
                n_bins,
                n_mels,
                mel,
                peaks,
                valleys,
                rms,
                centroid,
                bandwidth,
                rolloff,
                power,
            },
            FirstPassRun {
                first: self.first + k,
                n_frames: self.n_frames - k,
                n_bins,
                n_mels,
                mel: mel_r,
                peaks: peaks_r,
                valleys: valleys_r,
                rms: rms_r,
                centroid: centroid_r,
                bandwidth: bandwidth_r,
                rolloff: rolloff_r,
                power: power_r,
            },
        )
    }
}

/// Pass 2's chroma for frames `first..first + n_frames`, from the cached power
/// spectrogram of those frames (`power`, empty without the cache).
struct ChromaRun<'a> {
    first: usize,
    n_frames: usize,
    /// Values per frame in `power`.
    n_bins: usize,
    chroma: &'a mut [f32],
    power: &'a [f32],
}

impl FrameRun for ChromaRun<'_> {
    fn n_frames(&self) -> usize {
        self.n_frames
    }

    fn split_at(self, k: usize) -> (Self, Self) {
        let n_chroma = self.chroma.len() / self.n_frames.max(1);
        let n_bins = self.n_bins;
        let (chroma, chroma_r) = cut(self.chroma, k, n_chroma);
        let (power, power_r) = self.power.split_at((k * n_bins).min(self.power.len()));
        (
            ChromaRun {
                first: self.first,
                n_frames: k,
                n_bins,
                chroma,
                power,
            },
            ChromaRun {
                first: self.first + k,
                n_frames: self.n_frames - k,
                n_bins,
                chroma: chroma_r,
                power: power_r,
            },
        )
    }
}

/// The per-frame matrices of the STFT branch (`n_rows x n_frames`, frame-major), named as
/// in the feature layout, and the two tuning estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct StftFeatures {
    /// 12 rows, chroma classes from C.
    pub chroma_stft: Frames,
    /// 20 rows.
    pub mfcc: Frames,
    /// 1 row (the layout calls it `rmse`).
    pub rms: Frames,
    /// 1 row, Hz.
    pub spectral_bandwidth: Frames,
    /// 1 row, Hz.
    pub spectral_centroid: Frames,
    /// 7 rows, dB.
    pub spectral_contrast: Frames,
    /// 1 row, Hz.
    pub spectral_rolloff: Frames,
    /// 1 row.
    pub zcr: Frames,
    /// `librosa.estimate_tuning(y=y, sr=sr, bins_per_octave=12)`: what `librosa.cqt`
    /// uses with `tuning=None`.
    pub tuning_cqt: f64,
    /// `librosa.estimate_tuning(S=stft**2, sr=sr, bins_per_octave=12)`: the tuning of
    /// `chroma_stft`.
    pub tuning_chroma_stft: f64,
}

impl StftFeatures {
    /// Each matrix with its family name in the feature layout ([`crate::layout::FEATURES`]),
    /// alphabetically.
    pub fn families(&self) -> [(&'static str, &Frames); 8] {
        [
            ("chroma_stft", &self.chroma_stft),
            ("mfcc", &self.mfcc),
            ("rmse", &self.rms),
            ("spectral_bandwidth", &self.spectral_bandwidth),
            ("spectral_centroid", &self.spectral_centroid),
            ("spectral_contrast", &self.spectral_contrast),
            ("spectral_rolloff", &self.spectral_rolloff),
            ("zcr", &self.zcr),
        ]
    }

    /// Writes the statistics of all eight families into their places in a full feature
    /// vector of [`crate::layout::N_FEATURES`] values (see [`crate::stats::write_family`]).
    pub fn write_stats(&self, features: &mut [f64], scratch: &mut Vec<f64>) -> Result<()> {
        for (name, frames) in self.families() {
            crate::stats::write_family(name, frames, features, scratch)?;
        }
        Ok(())
    }
}

impl StftBranchPlan {
    /// The plan for signals at `sr` Hz (22050 for the FMA features), with librosa's
    /// parameters: `n_fft=2048`, `hop_length=512`, 128 mel bands, 20 MFCCs, 12 chroma.
    pub fn new(sr: f64) -> Result<Self> {
        Ok(StftBranchPlan {
            sr,
            stft: Stft::new(N_FFT, HOP_LENGTH)?,
            mel: MelBank::slaney(sr, N_FFT, N_MELS)?,
            dct: Dct::ortho(N_MELS, N_MFCC)?,
            spectral: SpectralPlan::new(sr, N_FFT)?,
            pitch: PitchTracker::new(sr, N_FFT, PiptrackParams::default())?,
            chroma: ChromaBankCache::new(sr, N_FFT, N_CHROMA)?,
            max_cached_frames: DEFAULT_CACHED_FRAMES,
            spare: Spares::new(),
        })
    }

    /// Signals of at most `max_frames` frames keep their power spectrogram between the
    /// passes instead of recomputing it (`4 * 1025 * max_frames` bytes per worker; 0
    /// always recomputes). Default [`DEFAULT_CACHED_FRAMES`].
    pub fn with_spectrogram_cache(mut self, max_frames: usize) -> Self {
        self.max_cached_frames = max_frames;
        self
    }

    /// The sample rate the plan was built for.
    pub fn sr(&self) -> f64 {
        self.sr
    }

    /// The STFT plan.
    pub fn stft(&self) -> &Stft {
        &self.stft
    }

    /// The mel bank.
    pub fn mel(&self) -> &MelBank {
        &self.mel
    }

    /// Buffers for one worker thread.
    pub fn make_scratch(&self) -> StftBranchScratch {
        StftBranchScratch {
            frames: self.frame_scratch(),
            mel: Vec::new(),
            peaks: Vec::new(),
            valleys: Vec::new(),
            power_cache: Vec::new(),
        }
    }

    fn frame_scratch(&self) -> FrameScratch {
        let n_bins = self.stft.n_bins();
        FrameScratch {
            stft: self.stft.make_scratch(),
            mags: vec![0.0; n_bins * LANES],
            power: vec![0.0; n_bins * LANES],
            chroma: vec![0.0; N_CHROMA * LANES],
            spectral: SpectralLanes::default(),
            tuning_power: TuningAccumulator::new(),
            tuning_magnitude: TuningAccumulator::new(),
        }
    }

    /// All features of the branch for the mono signal `y` (any length, even empty: that
    /// gives one frame of silence).
    ///
    /// Called on a worker of a rayon pool with more than one thread, the frames are
    /// shared out in parts by `rayon::join`, so idle workers take some (a busy pool does
    /// them all here, as one part). The values are the same either way.
    ///
    /// Fails with [`crate::Error::NonFiniteSample`] if `y` holds NaN or infinity.
    pub fn compute(&self, y: &[f32], scratch: &mut StftBranchScratch) -> Result<StftFeatures> {
        let first = self.first_pass(y, scratch)?;
        self.finish(y, first, scratch)
    }

    /// Pass 1 (see the module documentation) and the zero-crossing rate; what only
    /// needs the whole of pass 1 (the tunings, MFCC, contrast, chroma) is left to
    /// [`finish`](Self::finish), so the CQT, which needs the tuning, can run beside it.
    pub(crate) fn first_pass(
        &self,
        y: &[f32],
        scratch: &mut StftBranchScratch,
    ) -> Result<FirstPass> {
        check_finite(y)?;
        let n_frames = self.stft.n_frames(y.len());
        let n_bins = self.stft.n_bins();
        let s = scratch;
        // Every block is written in pass 1 before it is read: resize without clearing.
        s.mel
            .resize(n_frames.div_ceil(LANES) * LANES * self.mel.n_mels(), 0.0);
        s.peaks.resize(N_CONTRAST * n_frames, 0.0);
        s.valleys.resize(N_CONTRAST * n_frames, 0.0);
        s.frames.tuning_power.clear();
        s.frames.tuning_magnitude.clear();
        let cache = n_frames <= self.max_cached_frames;
        // Every cached batch is written in pass 1 before pass 2 reads it: resizing (not
        // clearing) keeps the buffer's old contents and so skips zero-filling megabytes.
        // Batches of LANES frames in lanes, the last one whole.
        s.power_cache.resize(
            if cache {
                n_frames.div_ceil(LANES) * LANES * n_bins
            } else {
                0
            },
            0.0,
        );

        let mut rms = Frames::zeros(1, n_frames);
        let mut centroid = Frames::zeros(1, n_frames);
        let mut bandwidth = Frames::zeros(1, n_frames);
        let mut rolloff = Frames::zeros(1, n_frames);
        let zcr = zero_crossing_rate(y, N_FFT, HOP_LENGTH);

        let run = FirstPassRun {
            first: 0,
            n_frames,
            n_bins,
            n_mels: self.mel.n_mels(),
            mel: &mut s.mel,
            peaks: &mut s.peaks,
            valleys: &mut s.valleys,
            rms: &mut rms.data,
            centroid: &mut centroid.data,
            bandwidth: &mut bandwidth.data,
            rolloff: &mut rolloff.data,
            power: &mut s.power_cache,
        };
        self.run_frames(run, &mut s.frames, &|run, fs| {
            self.first_pass_frames(y, run, fs)
        })?;
        Ok(FirstPass {
            n_frames,
            rms,
            centroid,
            bandwidth,
            rolloff,
            zcr,
            tuning_cqt: s.frames.tuning_magnitude.estimate(),
            tuning_chroma_stft: s.frames.tuning_power.estimate(),
        })
    }

    /// The rest of the branch after [`first_pass`](Self::first_pass) on the same `y`
    /// and `scratch`: MFCC, contrast, and pass 2 (chroma_stft).
    pub(crate) fn finish(
        &self,
        y: &[f32],
        first: FirstPass,
        scratch: &mut StftBranchScratch,
    ) -> Result<StftFeatures> {
        let s = scratch;
        let n_frames = first.n_frames;
        let mfcc = mfcc_from_db_lanes(&s.mel, n_frames, 80.0, &self.dct)?;
        let spectral_contrast = contrast_from_peaks_valleys(&s.peaks, &s.valleys);

        // Pass 2.
        let bank = self.chroma.get(first.tuning_chroma_stft)?;
        let mut chroma_stft = Frames::zeros(bank.n_chroma(), n_frames);
        let run = ChromaRun {
            first: 0,
            n_frames,
            n_bins: self.stft.n_bins(),
            chroma: &mut chroma_stft.data,
            power: &s.power_cache,
        };
        self.run_frames(run, &mut s.frames, &|run, fs| {
            self.chroma_frames(y, &bank, run, fs)
        })?;

        Ok(StftFeatures {
            chroma_stft,
            mfcc,
            rms: first.rms,
            spectral_bandwidth: first.bandwidth,
            spectral_centroid: first.centroid,
            spectral_contrast,
            spectral_rolloff: first.rolloff,
            zcr: first.zcr,
            tuning_cqt: first.tuning_cqt,
            tuning_chroma_stft: first.tuning_chroma_stft,
        })
    }

    /// Pass 1 on one run of frames: each frame's |STFT| and from it the mel power, the
    /// spectral features and the piptrack candidates (into `s`'s accumulators).
    fn first_pass_frames(
        &self,
        y: &[f32],
        run: FirstPassRun<'_>,
        s: &mut FrameScratch,
    ) -> Result<()> {
        let n_bins = self.stft.n_bins();
        let n_mels = self.mel.n_mels();
        let FirstPassRun {
            first,
            n_frames,
            mel,
            peaks,
            n_bins: _,
            n_mels: _,
            valleys,
            rms,
            centroid,
            bandwidth,
            rolloff,
            power: cache,
        } = run;
        // |STFT| a batch of LANES frames at a time (one per SIMD lane), and every
        // per-frame feature of the batch side by side; lanes past the run's last frame
        // hold the zero padding's silence and are not written out.
        debug_assert!(first.is_multiple_of(LANES));
        for b0 in (0..n_frames).step_by(LANES) {
            let count = LANES.min(n_frames - b0);
            self.stft
                .magnitude_lanes(y, first + b0, &mut s.stft, &mut s.mags)?;
            let FrameScratch {
                mags,
                power: power_lanes,
                spectral,
                tuning_power,
                tuning_magnitude,
                ..
            } = &mut *s;
            let mel_lanes = &mut mel[b0 * n_mels..(b0 + LANES) * n_mels];
            // stft**2 in f32, as librosa squares it (piptrack compares these values),
            // straight into the cache when there is one.
            let power = if cache.is_empty() {
                &mut power_lanes[..]
            } else {
                &mut cache[b0 * n_bins..(b0 + LANES) * n_bins]
            };
            self.first_pass_lanes(
                mags,
                power,
                mel_lanes,
                spectral,
                tuning_power,
                tuning_magnitude,
                count,
            );
            for l in 0..count {
                let i = b0 + l;
                rms[i] = spectral.rms[l];
                centroid[i] = spectral.centroid[l] as f32;
                bandwidth[i] = spectral.bandwidth[l] as f32;
                rolloff[i] = spectral.rolloff[l] as f32;
                for b in 0..N_CONTRAST {
                    peaks[i * N_CONTRAST + b] = spectral.contrast_peak[b][l];
                    valleys[i * N_CONTRAST + b] = spectral.contrast_valley[b][l];
                }
            }
        }
        Ok(())
    }

    /// The per-frame features of one batch of [`LANES`] frames in lanes (`mags`): their
    /// squares into `power`, the mel power in dB (unclamped) into `mel`, the spectral features into
    /// `spectral`, and the piptrack candidates of the first `count` frames into the two
    /// accumulators. Compiled with the widest vector instructions this CPU has; the
    /// values do not depend on which.
    #[allow(clippy::too_many_arguments)]
    fn first_pass_lanes(
        &self,
        mags: &[f32],
        power: &mut [f32],
        mel: &mut [f32],
        spectral: &mut SpectralLanes,
        tuning_power: &mut TuningAccumulator,
        tuning_magnitude: &mut TuningAccumulator,
        count: usize,
    ) {
        // SAFETY: the CPU has the instructions of the path taken (simd::best).
        unsafe {
            crate::simd::dispatch!(crate::simd::best(), <I, _V>(
                plan: &StftBranchPlan = self,
                mags: &[f32] = mags,
                power: &mut [f32] = power,
                mel: &mut [f32] = mel,
                spectral: &mut SpectralLanes = spectral,
                tuning_power: &mut TuningAccumulator = tuning_power,
                tuning_magnitude: &mut TuningAccumulator = tuning_magnitude,
                count: usize = count,
            ) {
                for (p, m) in power.chunks_exact_mut(LANES).zip(mags.chunks_exact(LANES)) {
                    let m = I::f_load(m.as_ptr());
                    I::f_store(I::f_mul(m, m), p.as_mut_ptr());
                }
                plan.mel.apply_lanes::<I>(power, mel);
                for m in mel.chunks_exact_mut(LANES) {
                    let db = power_to_db_lanes::<I>(I::f_load(m.as_ptr()), 1e-10);
                    I::f_store(db, m.as_mut_ptr());
                }
                plan.spectral.lanes::<I>(mags, spectral);
                plan.pitch.push_lanes::<I>(power, count, tuning_power);
                plan.pitch.push_lanes::<I>(mags, count, tuning_magnitude);
            })
        }
    }

    /// [`ChromaBank::project_lanes`], compiled with the widest vector instructions this
    /// CPU has (the values do not depend on which).
    fn project_lanes(&self, bank: &ChromaBank, power: &[f32], out: &mut [f32]) {
        // SAFETY: the CPU has the instructions of the path taken (simd::best).
        unsafe {
            crate::simd::dispatch!(crate::simd::best(), <I, _V>(
                bank: &ChromaBank = bank,
                power: &[f32] = power,
                out: &mut [f32] = out,
            ) {
                bank.project_lanes::<I>(power, out)
            })
        }
    }

    /// Pass 2 on one run of frames: the chroma bank applied to each frame's power
    /// spectrum, from the cache or recomputed by the FFT.
    fn chroma_frames(
        &self,
        y: &[f32],
        bank: &ChromaBank,
        run: ChromaRun<'_>,
        s: &mut FrameScratch,
    ) -> Result<()> {
        let (n_bins, n_chroma) = (self.stft.n_bins(), bank.n_chroma());
        debug_assert!(run.first.is_multiple_of(LANES));
        for (b, chroma) in run.chroma.chunks_mut(LANES * n_chroma).enumerate() {
            let count = chroma.len() / n_chroma;
            let power = if run.power.is_empty() {
                self.stft
                    .magnitude_lanes(y, run.first + b * LANES, &mut s.stft, &mut s.power)?;
                for p in s.power.iter_mut() {
                    *p *= *p;
                }
                &s.power[..]
            } else {
                &run.power[b * LANES * n_bins..(b + 1) * LANES * n_bins]
            };
            self.project_lanes(bank, power, &mut s.chroma);
            for (l, frame) in chroma.chunks_exact_mut(n_chroma).enumerate().take(count) {
                for (c, v) in frame.iter_mut().enumerate() {
                    *v = s.chroma[c * LANES + l];
                }
                normalize_inf(frame);
            }
        }
        Ok(())
    }

    /// `work` on all of `run` with `scratch`, or, on a worker of a shared rayon pool,
    /// on parts of it that idle workers can take; the piptrack candidates of parts done
    /// with other buffers are then collected into `scratch`.
    fn run_frames<R: FrameRun>(
        &self,
        run: R,
        scratch: &mut FrameScratch,
        work: &(dyn Fn(R, &mut FrameScratch) -> Result<()> + Sync),
    ) -> Result<()> {
        if !in_shared_pool() {
            return work(run, scratch);
        }
        let lend = || self.spare.take(|| self.frame_scratch());
        let mut lent = share_frames(run, MIN_FRAMES_PER_PART, LANES, scratch, &lend, work)?;
        for other in &mut lent {
            scratch.tuning_power.append(&mut other.tuning_power);
            scratch.tuning_magnitude.append(&mut other.tuning_magnitude);
        }
        self.spare.keep(lent);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn noise(len: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.5
            })
            .collect()
    }

    #[test]
    fn cached_and_recomputed_spectrograms_agree() {
        let y = noise(30_000, 7);
        let cached = StftBranchPlan::new(22050.0).unwrap();
        let streamed = StftBranchPlan::new(22050.0)
            .unwrap()
            .with_spectrogram_cache(0);
        let a = cached.compute(&y, &mut cached.make_scratch()).unwrap();
        let b = streamed.compute(&y, &mut streamed.make_scratch()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn frames_shared_out_in_a_pool_give_the_values_of_one_worker() {
        // 20 s: 862 frames, shared out in parts of 64 to 107 frames.
        let y = noise(20 * 22050, 3);
        for cached_frames in [DEFAULT_CACHED_FRAMES, 0] {
            let plan = StftBranchPlan::new(22050.0)
                .unwrap()
                .with_spectrogram_cache(cached_frames);
            let alone = plan.compute(&y, &mut plan.make_scratch()).unwrap();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            // Some parts run on the other worker, whose buffers are then kept for later.
            // Whether it takes a part is up to the scheduler (on a loaded machine it may
            // not), so run again until one has.
            for _ in 0..crate::share::STEAL_ATTEMPTS {
                let pooled = pool.install(|| plan.compute(&y, &mut plan.make_scratch()).unwrap());
                assert_eq!(pooled, alone, "cache of {cached_frames} frames");
                if plan.spare.len() > 0 {
                    break;
                }
            }
            assert!(plan.spare.len() > 0);
        }
    }

    #[test]
    fn any_length_gives_finite_features_and_the_frame_count() {
        let plan = StftBranchPlan::new(22050.0).unwrap();
        let mut scratch = plan.make_scratch();
        for len in [0usize, 1, 100, 2047, 2048, 2049, 5000] {
            for y in [vec![0.0f32; len], noise(len, len as u64)] {
                let f = plan.compute(&y, &mut scratch).unwrap();
                let n = 1 + len / 512;
                for (name, m) in f.families() {
                    assert_eq!(m.n_frames, n, "{name} len {len}");
                    assert!(m.data.iter().all(|v| v.is_finite()), "{name} len {len}");
                }
                assert_eq!(f.mfcc.n_rows, 20);
                assert_eq!(f.chroma_stft.n_rows, 12);
                assert_eq!(f.spectral_contrast.n_rows, 7);
            }
        }
    }

    #[test]
    fn silence_has_zero_tuning_and_unnormalised_chroma() {
        let plan = StftBranchPlan::new(22050.0).unwrap();
        let f = plan
            .compute(&[0.0; 10_000], &mut plan.make_scratch())
            .unwrap();
        assert_eq!((f.tuning_cqt, f.tuning_chroma_stft), (0.0, 0.0));
        assert!(f.chroma_stft.data.iter().all(|&v| v == 0.0));
        // power_to_db of silence is -100 dB everywhere: only c0 is nonzero.
        assert!((f.mfcc.get(0, 0) + 100.0 * 128f32.sqrt()).abs() < 1e-2);
    }

    #[test]
    fn rejects_non_finite_samples() {
        let plan = StftBranchPlan::new(22050.0).unwrap();
        let mut y = vec![0.0; 100];
        y[42] = f32::NAN;
        assert!(matches!(
            plan.compute(&y, &mut plan.make_scratch()),
            Err(Error::NonFiniteSample { index: 42 })
        ));
    }
}
