//! [`FeaturePlan`]: the 518 features of one mono 22050-Hz signal, from everything built
//! once (FFT plans, windows, mel/chroma/CQT banks) and a per-worker [`Scratch`].
//!
//! The pipeline is the one of FMA's `features.py` with librosa 0.11.0:
//! the STFT branch ([`crate::stft_branch`]: MFCC, chroma_stft, rms, spectral centroid,
//! bandwidth, rolloff and contrast, zero-crossing rate, and the tuning estimate of the
//! signal), then the CQT at that tuning ([`crate::cqt`]) and its chroma_cqt,
//! chroma_cens and tonnetz ([`crate::chroma_cqt`]), then seven statistics per row
//! ([`crate::stats`]) in the order of [`crate::layout`].
//!
//! On a worker of a rayon pool with other threads (as `features` runs files), one signal
//! uses the idle workers: the STFT branch's frames are shared out
//! ([`crate::stft_branch`]), the CQT's downsampled octave signals are made while the
//! tuning is being estimated, and the CQT, whose frames are shared out too
//! ([`crate::cqt`]), runs while the STFT branch finishes. A busy pool does it all on the
//! calling worker; the values are the same either way.
//!
//! Where librosa's statistics are undefined (skew and kurtosis of a constant row, e.g.
//! in digital silence) the value is 0, so every output is finite.

use crate::chroma_cqt::cqt_chroma_features;
use crate::cqt::{CqtParams, CqtPlan, CqtScratch};
use crate::error::{Error, Result};
use crate::frames::Frames;
use crate::layout::N_FEATURES;
use crate::stft_branch::{StftBranchPlan, StftBranchScratch};

/// The sample rate every feature is computed at (librosa's default).
pub const SAMPLE_RATE: u32 = 22050;

/// Everything the features need that does not depend on the signal. Build it once per
/// run and share it between threads (it is `Send + Sync`; banks that depend on the tuning
/// are filled in lazily, once per tuning value).
#[derive(Debug)]
pub struct FeaturePlan {
    stft: StftBranchPlan,
    cqt: CqtPlan,
}

/// Per-worker buffers, reused from one signal to the next.
#[derive(Debug)]
pub struct Scratch {
    stft: StftBranchScratch,
    cqt: CqtScratch,
    cqt_out: Frames,
    stats: Vec<f64>,
    features: Vec<f64>,
}

impl FeaturePlan {
    /// The plan with librosa's (and FMA's) parameters at 22050 Hz.
    pub fn new() -> Result<Self> {
        Ok(FeaturePlan {
            stft: StftBranchPlan::new(SAMPLE_RATE as f64)?,
            cqt: CqtPlan::new(CqtParams::default())?,
        })
    }

    /// Fresh buffers for one worker.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            stft: self.stft.make_scratch(),
            cqt: self.cqt.scratch(),
            cqt_out: Frames::default(),
            stats: Vec::new(),
            features: vec![0.0; N_FEATURES],
        }
    }

    /// The 518 features of `y` (mono, 22050 Hz, any length) into `out`, in layout order.
    ///
    /// Errors: `out` is not 518 long, or `y` holds NaN or infinity.
    pub fn compute(&self, y: &[f32], scratch: &mut Scratch, out: &mut [f32]) -> Result<()> {
        if out.len() != N_FEATURES {
            return Err(Error::InvalidArgument(format!(
                "the output holds {} values, not {N_FEATURES}",
                out.len()
            )));
        }
        let Scratch {
            stft: stft_scratch,
            cqt: cqt_scratch,
            cqt_out,
            stats,
            features,
        } = scratch;
        // In a shared pool, idle workers can take parts of the STFT branch's frames, the
        // CQT's downsampled signals (which need no tuning) while the tuning is being
        // estimated, then parts of the CQT's frames while this worker finishes the STFT
        // branch. Elsewhere all runs here, one after the other. The STFT branch's error
        // comes first either way.
        let shared = crate::share::in_shared_pool();
        let (first, prepared) = if shared {
            let (first, prepared) = rayon::join(
                || self.stft.first_pass(y, stft_scratch),
                || self.cqt.prepare(y),
            );
            // A failed preparation is redone, and its error reported, by the CQT itself.
            (first?, prepared.ok())
        } else {
            (self.stft.first_pass(y, stft_scratch)?, None)
        };
        let tuning = first.tuning_cqt;
        let stft_rest = || self.stft.finish(y, first, stft_scratch);
        let cqt_branch = || {
            self.cqt
                .process_prepared(y, prepared, tuning, cqt_scratch, cqt_out)?;
            cqt_chroma_features(cqt_out)
        };
        let (stft, chroma) = if shared {
            let (stft, chroma) = rayon::join(stft_rest, cqt_branch);
            (stft?, chroma?)
        } else {
            let stft = stft_rest()?;
            (stft, cqt_branch()?)
        };
        features.resize(N_FEATURES, 0.0);
        crate::stats::write_family("chroma_cens", &chroma.chroma_cens, features, stats)?;
        crate::stats::write_family("chroma_cqt", &chroma.chroma_cqt, features, stats)?;
        crate::stats::write_family("tonnetz", &chroma.tonnetz, features, stats)?;
        stft.write_stats(features, stats)?;
        for (o, &v) in out.iter_mut().zip(features.iter()) {
            // Statistics of finite f32 matrices are finite; this guards the contract.
            *o = if v.is_finite() { v as f32 } else { 0.0 };
        }
        Ok(())
    }

    /// [`compute`](Self::compute) into a new vector, with new buffers.
    pub fn features(&self, y: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; N_FEATURES];
        self.compute(y, &mut self.scratch(), &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_signal_shared_out_in_a_pool_gives_the_values_of_one_worker() {
        // 12 s of two tones and noise: 517 frames, shared out in parts.
        let mut state = 9u32;
        let y: Vec<f32> = (0..12 * 22050)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let t = i as f32 / 22050.0;
                0.3 * (2.0 * std::f32::consts::PI * 261.6 * t).sin()
                    + 0.2 * (2.0 * std::f32::consts::PI * 1568.0 * t).sin()
                    + ((state >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.05
            })
            .collect();
        let plan = FeaturePlan::new().unwrap();
        let alone = plan.features(&y).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        for _ in 0..3 {
            assert_eq!(pool.install(|| plan.features(&y)).unwrap(), alone);
        }

        // A bad sample is reported as one worker reports it.
        let mut bad = y.clone();
        bad[100_000] = f32::INFINITY;
        let err = pool.install(|| plan.features(&bad)).unwrap_err();
        assert!(
            matches!(err, Error::NonFiniteSample { index: 100_000 }),
            "{err:?}"
        );
    }
}
