//! From audio files to feature rows: load (decode, downmix, resample to 22050 Hz), cut
//! into windows if asked, and compute the 518 features of each window.
//!
//! Windows: with [`Segments`] of length L and hop H seconds, a signal of n samples gives
//! windows starting at 0, H, 2H, ... that fit entirely in it (a tail shorter than L is
//! left out); a signal shorter than L gives one window, the whole signal. Each window's
//! features are computed as if it were a clip of its own (its own tuning estimate,
//! `power_to_db` reference and statistics), which is what classifying the windows of a
//! song needs. Without segments, the whole signal is one window.

use crate::decode::{load, load_from_memory, AudioInfo, LoadOptions};
use crate::error::{Error, Result};
use crate::layout::N_FEATURES;
use crate::plan::{FeaturePlan, Scratch, SAMPLE_RATE};
use crate::share::{in_shared_pool, join_halves, Spares};
use std::path::Path;

/// Window length and hop, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segments {
    length_s: f64,
    hop_s: f64,
}

impl Segments {
    /// Windows of `length_s` seconds every `hop_s` seconds. Both must be finite and at
    /// least one STFT hop (512 samples, 23 ms) long.
    pub fn new(length_s: f64, hop_s: f64) -> Result<Self> {
        let min = 512.0 / SAMPLE_RATE as f64;
        for (name, v) in [("segment length", length_s), ("segment hop", hop_s)] {
            if !v.is_finite() || v < min {
                return Err(Error::InvalidArgument(format!(
                    "{name} must be at least {min} s (one STFT hop, 512 samples), got {v}"
                )));
            }
        }
        Ok(Segments { length_s, hop_s })
    }

    /// Window length in seconds.
    pub fn length_s(&self) -> f64 {
        self.length_s
    }

    /// Step between window starts in seconds.
    pub fn hop_s(&self) -> f64 {
        self.hop_s
    }

    /// `(start, len)` in samples of each window of a signal of `n` samples at `sr` Hz.
    pub fn windows(&self, n: usize, sr: u32) -> Vec<(usize, usize)> {
        let len = (self.length_s * sr as f64).round() as usize;
        let hop = ((self.hop_s * sr as f64).round() as usize).max(1);
        if n <= len {
            return vec![(0, n)];
        }
        (0..=(n - len) / hop).map(|k| (k * hop, len)).collect()
    }
}

/// How to turn a file into rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExtractOptions {
    /// One row per window instead of one per file. Default: `None` (whole files).
    pub segments: Option<Segments>,
}

/// The features of one window of a signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Where the window starts, in seconds from the start of the file.
    pub start_s: f64,
    /// Its length in seconds.
    pub duration_s: f64,
    /// The 518 features, in layout order.
    pub values: Vec<f32>,
}

/// What a file gave: its metadata and the features of each window.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFeatures {
    pub info: AudioInfo,
    pub windows: Vec<Window>,
}

/// The settings the features depend on, for the record (feature tables and models
/// store them, so the same features can be computed again).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop_length: usize,
    pub n_mels: usize,
    pub n_mfcc: usize,
    pub n_chroma: usize,
    pub cqt_bins: usize,
    pub bins_per_octave: usize,
    /// How the tuning of chroma_stft and the CQT is chosen.
    pub tuning: &'static str,
    /// The resampler used to reach `sample_rate`.
    pub resampler: &'static str,
    /// Window length and hop in seconds, when files are cut into windows.
    pub segments: Option<Segments>,
}

/// Files (or samples) to feature rows. Build once, share between threads (`Send +
/// Sync`); give each thread its own [`Scratch`].
#[derive(Debug)]
pub struct Extractor {
    plan: FeaturePlan,
    options: ExtractOptions,
    /// Buffers of the window tasks of [`extract_samples`](Self::extract_samples) that
    /// ran on other workers, kept for the next file.
    spare: Spares<Scratch>,
}

impl Extractor {
    /// Builds the feature plan.
    pub fn new(options: ExtractOptions) -> Result<Self> {
        Ok(Extractor {
            plan: FeaturePlan::new()?,
            options,
            spare: Spares::new(),
        })
    }

    /// The options it was built with.
    pub fn options(&self) -> &ExtractOptions {
        &self.options
    }

    /// Buffers for one worker.
    pub fn scratch(&self) -> Scratch {
        self.plan.scratch()
    }

    /// The settings behind the features.
    pub fn settings(&self) -> Settings {
        Settings {
            sample_rate: SAMPLE_RATE,
            n_fft: crate::stft::N_FFT,
            hop_length: crate::stft::HOP_LENGTH,
            n_mels: crate::mel::N_MELS,
            n_mfcc: crate::mfcc::N_MFCC,
            n_chroma: crate::chroma::N_CHROMA,
            cqt_bins: 84,
            bins_per_octave: 12,
            tuning: "estimated per window (librosa.estimate_tuning)",
            resampler: "libsoxr HQ (as librosa.load)",
            segments: self.options.segments,
        }
    }

    /// Loads `path` as `librosa.load(path)` does and computes each window's features.
    pub fn extract_file(&self, path: &Path, scratch: &mut Scratch) -> Result<FileFeatures> {
        let audio = load(path, &LoadOptions::default())?;
        let windows = self.extract_samples(&audio.samples, scratch)?;
        Ok(FileFeatures {
            info: audio.info,
            windows,
        })
    }

    /// [`extract_file`](Self::extract_file) on a file's bytes; `label` names it in errors
    /// and its extension is a format hint.
    pub fn extract_memory(
        &self,
        bytes: &[u8],
        label: &Path,
        scratch: &mut Scratch,
    ) -> Result<FileFeatures> {
        let audio = load_from_memory(bytes, label, &LoadOptions::default())?;
        let windows = self.extract_samples(&audio.samples, scratch)?;
        Ok(FileFeatures {
            info: audio.info,
            windows,
        })
    }

    /// The features of each window of a mono signal at 22050 Hz.
    ///
    /// Called on a thread of a rayon pool with more than one thread, the windows are
    /// split in halves with `rayon::join`, so an idle worker of the pool can take some of
    /// them (a single song's windows then use every core) while a busy pool computes them
    /// all here, with `scratch`, as before. Windows taken elsewhere get buffers of their
    /// own, kept for later files. Called from any other thread they are computed one after
    /// the other. The result is the same either way.
    pub fn extract_samples(&self, y: &[f32], scratch: &mut Scratch) -> Result<Vec<Window>> {
        let spans = match &self.options.segments {
            Some(s) => s.windows(y.len(), SAMPLE_RATE),
            None => vec![(0, y.len())],
        };
        if spans.len() < 2 || !in_shared_pool() {
            return spans
                .into_iter()
                .map(|span| self.window(y, span, scratch))
                .collect();
        }
        // The first failing window's error, if any.
        self.split_windows(y, &spans, scratch).into_iter().collect()
    }

    /// The windows `spans`: one here, more in two halves by `rayon::join`.
    fn split_windows(
        &self,
        y: &[f32],
        spans: &[(usize, usize)],
        scratch: &mut Scratch,
    ) -> Vec<Result<Window>> {
        if spans.len() < 2 {
            return spans
                .iter()
                .map(|&span| self.window(y, span, scratch))
                .collect();
        }
        let lend = || self.spare.take(|| self.plan.scratch());
        let ((mut windows, right), lent) = join_halves(
            spans.split_at(spans.len() / 2),
            scratch,
            &lend,
            &|spans, scratch| self.split_windows(y, spans, scratch),
        );
        self.spare.keep(lent);
        windows.extend(right);
        windows
    }

    /// The features of window `(start, len)` of `y`.
    fn window(
        &self,
        y: &[f32],
        (start, len): (usize, usize),
        scratch: &mut Scratch,
    ) -> Result<Window> {
        let sr = SAMPLE_RATE as f64;
        let mut values = vec![0.0; N_FEATURES];
        let samples = y.get(start..start + len).unwrap_or(&[]);
        self.plan
            .compute(samples, scratch, &mut values)
            .map_err(|e| match e {
                // Count from the start of the signal, not of the window.
                Error::NonFiniteSample { index } => Error::NonFiniteSample {
                    index: start + index,
                },
                e => e,
            })?;
        Ok(Window {
            start_s: start as f64 / sr,
            duration_s: len as f64 / sr,
            values,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_fit_and_short_signals_are_whole() {
        let s = Segments::new(3.0, 1.5).unwrap();
        let sr = 22050;
        let w = s.windows(10 * sr as usize, sr);
        assert_eq!(w.len(), 5); // starts 0, 1.5, 3, 4.5, 6 s; 7.5 s would end at 10.5 s
        assert!(w.iter().all(|&(a, l)| l == 66150 && a + l <= 220500));
        assert_eq!(w[1].0, 33075);
        assert_eq!(s.windows(1000, sr), vec![(0, 1000)]);
        assert_eq!(s.windows(66150, sr), vec![(0, 66150)]);
        assert_eq!(s.windows(0, sr), vec![(0, 0)]);
    }

    #[test]
    fn segments_must_be_at_least_one_hop() {
        assert!(Segments::new(0.0, 1.0).is_err());
        assert!(Segments::new(3.0, f64::NAN).is_err());
        assert!(Segments::new(0.01, 0.01).is_err());
        assert!(Segments::new(0.05, 0.05).is_ok());
    }

    #[test]
    fn each_window_is_a_clip_of_its_own() {
        let ex = Extractor::new(ExtractOptions {
            segments: Some(Segments::new(1.0, 0.5).unwrap()),
        })
        .unwrap();
        let y: Vec<f32> = (0..44100)
            .map(|i| ((i as f32) * 0.05).sin() * 0.3)
            .collect();
        let mut scratch = ex.scratch();
        let windows = ex.extract_samples(&y, &mut scratch).unwrap();
        assert_eq!(windows.len(), 3);
        let alone = FeaturePlan::new()
            .unwrap()
            .features(&y[11025..33075])
            .unwrap();
        assert_eq!(windows[1].values, alone);
        assert_eq!(windows[1].start_s, 0.5);
        assert!(windows
            .iter()
            .all(|w| w.values.iter().all(|v| v.is_finite())));
    }

    #[test]
    fn windows_in_a_pool_equal_windows_one_after_the_other() {
        let ex = Extractor::new(ExtractOptions {
            segments: Some(Segments::new(0.5, 0.25).unwrap()),
        })
        .unwrap();
        let mut state = 1u32;
        let y: Vec<f32> = (0..3 * 22050)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((i as f32) * 0.03).sin() * 0.2 + (state >> 8) as f32 / (1u32 << 24) as f32 * 0.1
            })
            .collect();
        let alone = ex.extract_samples(&y, &mut ex.scratch()).unwrap();
        assert_eq!(alone.len(), 10); // starts 0, 0.25, ..., 2.25 s (hop 5513 samples)
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        // Some windows run on other workers, with buffers then kept for later. Whether
        // one is taken is up to the scheduler (on a loaded machine it may not), so run
        // again until one has.
        for _ in 0..crate::share::STEAL_ATTEMPTS {
            let pooled = pool.install(|| {
                // Two songs at once, as two workers of `features` would: windows of each
                // are taken by the other's worker and by the idle one.
                let (a, b) = rayon::join(
                    || ex.extract_samples(&y, &mut ex.scratch()),
                    || ex.extract_samples(&y, &mut ex.scratch()),
                );
                [a.unwrap(), b.unwrap()]
            });
            for windows in pooled {
                assert_eq!(windows, alone);
            }
            if ex.spare.len() > 0 {
                break;
            }
        }
        assert!(ex.spare.len() > 0);

        // A window that fails fails the signal, with the window's error.
        let mut bad = y.clone();
        bad[2 * 22050] = f32::NAN;
        let first = ex.extract_samples(&bad, &mut ex.scratch()).unwrap_err();
        assert!(
            matches!(first, Error::NonFiniteSample { index: 44100 }),
            "{first:?}"
        );
        for _ in 0..5 {
            let err = pool.install(|| ex.extract_samples(&bad, &mut ex.scratch()));
            assert_eq!(err.unwrap_err().to_string(), first.to_string());
        }
    }
}
