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
//! Two passes over the frames. Pass 1 computes each frame's |STFT| and from it the mel
//! power (kept, 128 values a frame: `power_to_db` clamps at the max of the whole matrix),
//! the spectral features (rolloff 8 frames at a time, see
//! [`crate::spectral::RolloffBatch`]; contrast as peaks and valleys, finished at the end
//! because its dB conversion clamps at a global max too) and the piptrack candidates of
//! both tuning estimates (on the power spectrum for chroma_stft, on the magnitude for the
//! CQT). Pass 2 applies the chroma bank of the now known tuning to each frame's power
//! spectrum, recomputed by the FFT (cheaper than storing 1025 values a frame for a long
//! song) unless the signal is short enough for the spectrogram cache
//! ([`StftBranchPlan::with_spectrogram_cache`]); both routes give identical values. The
//! zero-crossing rate reads the samples directly, in one pass of its own.
//!
//! Memory beyond the signal and the outputs (44 f32 a frame): the mel power (512 bytes a
//! frame), contrast peaks and valleys (112 bytes a frame), the piptrack candidates (8
//! bytes each, a few dozen a frame) and the optional spectrogram cache; about 21 MB for a
//! 10-minute song. On a shared 2-core machine, the whole branch takes ~17 ms of CPU per
//! 30 s of audio (some 1700x real time), about 10x less than the librosa calls above
//! (see `tests/timing_stft.rs`).

use crate::chroma::{ChromaBankCache, N_CHROMA};
use crate::error::{check_finite, Result};
use crate::frames::Frames;
use crate::mel::{MelBank, N_MELS};
use crate::mfcc::{mfcc_from_mel_power, Dct, N_MFCC};
use crate::spectral::{
    contrast_from_peaks_valleys, zero_crossing_rate, RolloffBatch, SpectralPlan, SpectralScratch,
    N_CONTRAST,
};
use crate::stft::{Stft, StftScratch, HOP_LENGTH, N_FFT};
use crate::tuning::{PiptrackParams, PitchTracker, TuningAccumulator};

/// Default size of the spectrogram cache, in frames: 4096 frames (95 s at 22050 Hz) of
/// 1025 f32 values, 16.8 MB per worker.
pub const DEFAULT_CACHED_FRAMES: usize = 4096;

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
}

/// Per-thread buffers of the branch, reused from one signal to the next.
#[derive(Debug)]
pub struct StftBranchScratch {
    stft: StftScratch,
    mag: Vec<f32>,
    power: Vec<f32>,
    spectral: SpectralScratch,
    rolloff: RolloffBatch,
    tuning_power: TuningAccumulator,
    tuning_magnitude: TuningAccumulator,
    mel: Frames,
    peaks: Vec<f64>,
    valleys: Vec<f64>,
    power_cache: Vec<f32>,
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
        let n_bins = self.stft.n_bins();
        StftBranchScratch {
            stft: self.stft.make_scratch(),
            mag: vec![0.0; n_bins],
            power: vec![0.0; n_bins],
            spectral: self.spectral.make_scratch(),
            rolloff: RolloffBatch::new(&self.spectral),
            tuning_power: TuningAccumulator::new(),
            tuning_magnitude: TuningAccumulator::new(),
            mel: Frames::default(),
            peaks: Vec::new(),
            valleys: Vec::new(),
            power_cache: Vec::new(),
        }
    }

    /// All features of the branch for the mono signal `y` (any length, even empty: that
    /// gives one frame of silence).
    ///
    /// Fails with [`crate::Error::NonFiniteSample`] if `y` holds NaN or infinity.
    pub fn compute(&self, y: &[f32], scratch: &mut StftBranchScratch) -> Result<StftFeatures> {
        check_finite(y)?;
        let n_frames = self.stft.n_frames(y.len());
        let n_bins = self.stft.n_bins();
        let s = scratch;
        s.mel.reshape(self.mel.n_mels(), n_frames);
        s.peaks.resize(N_CONTRAST * n_frames, 0.0);
        s.valleys.resize(N_CONTRAST * n_frames, 0.0);
        s.tuning_power.clear();
        s.tuning_magnitude.clear();
        let cache = n_frames <= self.max_cached_frames;
        // Every cached frame is written in pass 1 before pass 2 reads it: resizing (not
        // clearing) keeps the buffer's old contents and so skips zero-filling megabytes.
        s.power_cache
            .resize(if cache { n_frames * n_bins } else { 0 }, 0.0);

        let mut rms = Frames::zeros(1, n_frames);
        let mut centroid = Frames::zeros(1, n_frames);
        let mut bandwidth = Frames::zeros(1, n_frames);
        let mut rolloff = Frames::zeros(1, n_frames);
        let zcr = zero_crossing_rate(y, N_FFT, HOP_LENGTH);

        // Pass 1.
        for t in 0..n_frames {
            self.stft.magnitude_frame(y, t, &mut s.stft, &mut s.mag)?;
            // stft**2 in f32, as librosa squares it (piptrack compares these values),
            // straight into the cache when there is one.
            let power = if cache {
                &mut s.power_cache[t * n_bins..(t + 1) * n_bins]
            } else {
                &mut s.power[..]
            };
            for (p, &m) in power.iter_mut().zip(&s.mag) {
                *p = m * m;
            }
            self.mel.apply_f32(power, s.mel.frame_mut(t));
            let f = self.spectral.frame_without_rolloff(&s.mag, &mut s.spectral);
            rms.data[t] = f.rms;
            centroid.data[t] = f.centroid as f32;
            bandwidth.data[t] = f.bandwidth as f32;
            s.rolloff.push(&self.spectral, t, &s.mag, &mut rolloff.data);
            s.peaks[t * N_CONTRAST..(t + 1) * N_CONTRAST].copy_from_slice(&f.contrast_peak);
            s.valleys[t * N_CONTRAST..(t + 1) * N_CONTRAST].copy_from_slice(&f.contrast_valley);
            self.pitch.push_frame(power, &mut s.tuning_power);
            self.pitch.push_frame(&s.mag, &mut s.tuning_magnitude);
        }
        s.rolloff.finish(&self.spectral, &mut rolloff.data);
        let tuning_chroma_stft = s.tuning_power.estimate();
        let tuning_cqt = s.tuning_magnitude.estimate();
        let mfcc = mfcc_from_mel_power(&mut s.mel, &self.dct)?;
        let spectral_contrast = contrast_from_peaks_valleys(&s.peaks, &s.valleys);

        // Pass 2.
        let bank = self.chroma.get(tuning_chroma_stft)?;
        let mut chroma_stft = Frames::zeros(bank.n_chroma(), n_frames);
        if cache {
            bank.apply_frames(&s.power_cache, &mut chroma_stft.data);
        } else {
            for t in 0..n_frames {
                self.stft.magnitude_frame(y, t, &mut s.stft, &mut s.mag)?;
                for (p, &m) in s.power.iter_mut().zip(&s.mag) {
                    *p = m * m;
                }
                bank.apply_frames(&s.power, chroma_stft.frame_mut(t));
            }
        }

        Ok(StftFeatures {
            chroma_stft,
            mfcc,
            rms,
            spectral_bandwidth: bandwidth,
            spectral_centroid: centroid,
            spectral_contrast,
            spectral_rolloff: rolloff,
            zcr,
            tuning_cqt,
            tuning_chroma_stft,
        })
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
