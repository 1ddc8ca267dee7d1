//! Property tests: for any samples in [-1, 1], at any sample rate we claim (8 to 192 kHz)
//! and any length from 0 to 3 s, in 1 to 6 channels,
//! * decoding a WAV of them gives `ceil(n * 22050 / sr)` finite samples at 22050 Hz
//!   (librosa's `fix_length`), or, for no samples at all, the "no audio samples" error;
//! * every frame-level matrix (the STFT branch's eight families and the CQT) has
//!   `1 + len // 512` frames and finite values;
//! * the 518 features are finite.
//!
//! Signals are drawn from shapes that stress the edge cases (silence, DC, full-scale
//! square, clicks, values of only -1/0/1, noise, sines up to Nyquist) plus plain arbitrary
//! sample vectors. Case counts are small so CI stays fast; set PROPTEST_CASES to run more.

use musicgenre_features::cqt::{CqtParams, CqtPlan};
use musicgenre_features::stft_branch::StftBranchPlan;
use musicgenre_features::{load_from_memory, Error, FeaturePlan, LoadOptions, N_FEATURES};
use proptest::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

const SR: u32 = 22050;
const HOP: usize = 512;

struct Plans {
    features: FeaturePlan,
    stft: StftBranchPlan,
    cqt: CqtPlan,
}

fn plans() -> &'static Plans {
    static PLANS: OnceLock<Plans> = OnceLock::new();
    PLANS.get_or_init(|| Plans {
        features: FeaturePlan::new().unwrap(),
        stft: StftBranchPlan::new(SR as f64).unwrap(),
        cqt: CqtPlan::new(CqtParams::default()).unwrap(),
    })
}

/// Checks the frame counts and finiteness of every matrix and of the 518 features of a
/// 22050-Hz signal.
fn check_signal(y: &[f32]) -> Result<(), TestCaseError> {
    let p = plans();
    let n_frames = 1 + y.len() / HOP;
    let stft = p.stft.compute(y, &mut p.stft.make_scratch()).unwrap();
    for (name, m) in stft.families() {
        prop_assert_eq!(m.n_frames, n_frames, "{} of {} samples", name, y.len());
        prop_assert!(
            m.data.iter().all(|v| v.is_finite()),
            "{} of {} samples is not finite",
            name,
            y.len()
        );
    }
    prop_assert!(stft.tuning_cqt.is_finite() && stft.tuning_chroma_stft.is_finite());
    let cqt = p.cqt.cqt(y, stft.tuning_cqt).unwrap();
    prop_assert_eq!(cqt.n_frames, n_frames, "cqt of {} samples", y.len());
    prop_assert_eq!(cqt.n_rows, 84);
    prop_assert!(cqt.data.iter().all(|v| v.is_finite()));
    let features = p.features.features(y).unwrap();
    prop_assert_eq!(features.len(), N_FEATURES);
    if let Some(i) = features.iter().position(|v| !v.is_finite()) {
        let names = musicgenre_features::feature_names();
        prop_assert!(
            false,
            "{} = {} ({} samples)",
            names[i],
            features[i],
            y.len()
        );
    }
    Ok(())
}

/// The shapes signals are drawn from.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Noise,
    Sine,
    Square,
    Dc,
    Silence,
    Clicks,
    Ternary,
}

/// `n` samples of `shape` at `sr` with peak `amp` (|amp| <= 1); `seed` varies them.
fn make(shape: Shape, n: usize, sr: u32, amp: f32, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 // [0, 1)
    };
    // Up to Nyquist, where resampling filters work hardest.
    let freq = 20.0 + (seed % 10_000) as f64 / 10_000.0 * (sr as f64 / 2.0 - 20.0);
    let phase = |i: usize| (2.0 * std::f64::consts::PI * freq * i as f64 / sr as f64).sin();
    (0..n)
        .map(|i| match shape {
            Shape::Noise => amp * (2.0 * next() - 1.0),
            Shape::Sine => amp * phase(i) as f32,
            Shape::Square => {
                if phase(i) >= 0.0 {
                    amp
                } else {
                    -amp
                }
            }
            Shape::Dc => amp,
            Shape::Silence => 0.0,
            Shape::Clicks => {
                if next() < 0.001 {
                    if next() < 0.5 {
                        1.0
                    } else {
                        -1.0
                    }
                } else {
                    0.0
                }
            }
            Shape::Ternary => [-1.0, 0.0, 1.0][(next() * 3.0) as usize % 3],
        })
        .collect()
}

/// A 32-bit float WAV of `channels` (frame-major), in memory.
fn wav(sr: u32, channels: &[Vec<f32>]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: sr,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut cur = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample(c[i]).unwrap();
        }
    }
    w.finalize().unwrap();
    cur.into_inner()
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Noise),
        Just(Shape::Sine),
        Just(Shape::Square),
        Just(Shape::Dc),
        Just(Shape::Silence),
        Just(Shape::Clicks),
        Just(Shape::Ternary),
    ]
}

fn rate() -> impl Strategy<Value = u32> {
    prop_oneof![
        prop::sample::select(vec![
            8000u32, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000,
        ]),
        8000u32..=192_000,
    ]
}

/// Lengths in seconds: mostly short (where the edge cases are), up to 3 s.
fn seconds() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => 0.0f64..0.1,
        2 => 0.1f64..1.0,
        1 => 1.0f64..3.0,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // Shrinking reruns the whole pipeline: keep it bounded.
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    /// Decode -> resample -> frames -> features, for a file of any rate, length and
    /// channel count.
    #[test]
    fn any_wav_decodes_to_the_formula_length_and_finite_features(
        shape in shape(),
        sr in rate(),
        seconds in seconds(),
        n_channels in 1usize..=6,
        amp in -1.0f32..=1.0,
        seed in any::<u64>(),
    ) {
        let n = (seconds * sr as f64) as usize;
        let channels: Vec<Vec<f32>> = (0..n_channels)
            .map(|c| make(shape, n, sr, amp, seed.wrapping_add(c as u64)))
            .collect();
        let bytes = wav(sr, &channels);
        match load_from_memory(&bytes, Path::new("prop.wav"), &LoadOptions::default()) {
            Ok(audio) => {
                prop_assert!(n > 0);
                prop_assert_eq!(audio.sample_rate, SR);
                prop_assert_eq!(audio.info.native_frames, n as u64);
                // librosa's `int(np.ceil(n * ratio))`, in floating point as it is.
                let want = (n as f64 * (SR as f64 / sr as f64)).ceil() as usize;
                prop_assert_eq!(audio.samples.len(), want, "{} samples at {} Hz", n, sr);
                prop_assert!(audio.samples.iter().all(|v| v.is_finite()));
                check_signal(&audio.samples)?;
            }
            Err(e) => {
                prop_assert_eq!(n, 0, "{}", e);
                prop_assert!(matches!(e, Error::Empty { .. }), "{}", e);
                check_signal(&[])?;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    /// Arbitrary samples in [-1, 1] straight into the features, lengths around the
    /// frame and FFT sizes included.
    #[test]
    fn any_samples_give_finite_features_and_the_formula_frame_count(
        y in prop::collection::vec(-1.0f32..=1.0, 0..5000),
    ) {
        check_signal(&y)?;
    }
}
