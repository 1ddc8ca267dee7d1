//! Audio decoding and librosa-compatible features: MFCC, chroma (STFT, CQT, CENS),
//! tonnetz and spectral statistics, the 518 values of the FMA dataset's `features.csv`.
//!
//! Conventions follow librosa 0.11.0 with the calls listed in each module; every module
//! states the reference it follows and its tolerance against librosa's output.

pub mod chroma;
pub mod chroma_cqt;
pub mod cqt;
pub mod decode;
mod dot;
pub mod error;
pub mod extract;
pub mod frames;
pub mod layout;
pub mod mel;
pub mod mfcc;
pub mod plan;
pub mod resample;
pub mod rfft;
mod share;
pub mod simd;
pub mod spectral;
pub mod stats;
pub mod stft;
pub mod stft_branch;
pub mod tonnetz;
pub mod tuning;

pub use decode::{load, load_from_memory, Audio, AudioInfo, LoadOptions, Mp3Decoder};
pub use error::{Error, Result};
pub use extract::{ExtractOptions, Extractor, FileFeatures, Segments, Settings, Window};
pub use frames::Frames;
pub use layout::{feature_names, LAYOUT_VERSION, N_FEATURES};
pub use plan::{FeaturePlan, Scratch, SAMPLE_RATE};
