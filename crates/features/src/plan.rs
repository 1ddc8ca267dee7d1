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
        let stft = self.stft.compute(y, &mut scratch.stft)?;
        self.cqt
            .process(y, stft.tuning_cqt, &mut scratch.cqt, &mut scratch.cqt_out)?;
        let chroma = cqt_chroma_features(&scratch.cqt_out)?;

        let features = &mut scratch.features;
        features.resize(N_FEATURES, 0.0);
        let stats = &mut scratch.stats;
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
