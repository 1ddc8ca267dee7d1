//! criterion benchmarks of the feature kernels and of one whole file, on committed or
//! generated audio only (`cargo bench -p musicgenre-features`, or `just bench`).
//!
//! The signal is the four committed fixture clips (22050 Hz) looped to 30 s, a song-sized
//! input; `resample` gets a generated 44.1-kHz signal of the same length and `decode` the
//! committed 3-s 44.1-kHz stereo MP3 clip from memory. Every plan (FFT, banks, CQT bases
//! of the tuning) is built and warmed before timing, as in a library scan. Each bench
//! times one kernel over the whole 30 s (1292 frames). The mel, MFCC, contrast, chroma
//! and tuning benches time the public frame-by-frame entry points; the STFT branch runs
//! the same arithmetic on 8 frames at a time in SIMD lanes, fused in one pass over the
//! frames, which `file_30s/stft_branch` times as a whole.
//!
//! Run one group with e.g. `cargo bench -p musicgenre-features -- cqt`.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use musicgenre_features::chroma::ChromaBank;
use musicgenre_features::chroma_cqt::cqt_chroma_features;
use musicgenre_features::cqt::{CqtParams, CqtPlan};
use musicgenre_features::decode::{load_from_memory, LoadOptions, Mp3Decoder};
use musicgenre_features::mel::{MelBank, N_MELS};
use musicgenre_features::mfcc::{mfcc_from_mel_power, Dct, N_MFCC};
use musicgenre_features::resample::resample;
use musicgenre_features::rfft::RealFft;
use musicgenre_features::simd::MAX_LANES;
use musicgenre_features::spectral::{SpectralPlan, N_CONTRAST};
use musicgenre_features::stats::write_family;
use musicgenre_features::stft::{Stft, HOP_LENGTH, N_FFT};
use musicgenre_features::stft_branch::StftBranchPlan;
use musicgenre_features::tuning::estimate_tuning;
use musicgenre_features::{FeaturePlan, Frames, N_FEATURES, SAMPLE_RATE};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

const SR: f64 = SAMPLE_RATE as f64;
/// 30 s at 22050 Hz.
const N_SAMPLES: usize = 661_500;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The four committed fixture clips (16-bit WAV, 22050 Hz mono) looped to 30 s.
fn song() -> Vec<f32> {
    let mut clips = Vec::new();
    for name in ["brahms", "piano", "whale", "synth"] {
        let path = fixtures().join(format!("{name}.wav"));
        let mut reader = hound::WavReader::open(&path).expect("fixture clip");
        let clip: Vec<f32> = match reader.spec().sample_format {
            hound::SampleFormat::Int => reader
                .samples::<i32>()
                .map(|s| s.expect("sample") as f32 / 32768.0)
                .collect(),
            hound::SampleFormat::Float => reader
                .samples::<f32>()
                .map(|s| s.expect("sample"))
                .collect(),
        };
        clips.push(clip);
    }
    let mut y = Vec::with_capacity(N_SAMPLES);
    while y.len() < N_SAMPLES {
        for c in &clips {
            y.extend_from_slice(c);
        }
    }
    y.truncate(N_SAMPLES);
    y
}

/// 30 s at 44.1 kHz: tones and a little noise (what the resampler sees before features).
fn song_44k() -> Vec<f32> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..2 * N_SAMPLES)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.05;
            let t = i as f64 / 44100.0;
            let tones = 0.3 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                + 0.2 * (2.0 * std::f64::consts::PI * 3520.0 * t).sin();
            tones as f32 + noise
        })
        .collect()
}

fn power_spectrogram(y: &[f32]) -> Frames {
    let mut s = Stft::new(N_FFT, HOP_LENGTH)
        .expect("stft")
        .magnitude(y)
        .expect("stft");
    for v in &mut s.data {
        *v *= *v;
    }
    s
}

/// Times `n_frames` real FFTs of `frame` (converted to `T`) in precision `T`.
fn bench_real_fft<T: realfft::FftNum + From<f32>>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    frame: &[f32],
    n_frames: usize,
) {
    let fft = realfft::RealFftPlanner::<T>::new().plan_fft_forward(frame.len());
    let frame: Vec<T> = frame.iter().map(|&v| T::from(v)).collect();
    let (mut input, mut out, mut scratch) = (
        fft.make_input_vec(),
        fft.make_output_vec(),
        fft.make_scratch_vec(),
    );
    g.bench_function(name, |b| {
        b.iter(|| {
            for _ in 0..n_frames {
                input.copy_from_slice(&frame);
                fft.process_with_scratch(&mut input, &mut out, &mut scratch)
                    .expect("fft");
                black_box(&out);
            }
        })
    });
}

fn kernels(c: &mut Criterion) {
    let y = song();
    let n_frames = 1 + y.len() / HOP_LENGTH;
    let stft = Stft::new(N_FFT, HOP_LENGTH).expect("stft");
    let magnitude = stft.magnitude(&y).expect("stft");
    let power = power_spectrogram(&y);

    let mut g = c.benchmark_group("kernel");
    g.throughput(Throughput::Elements(n_frames as u64));

    // |STFT| of 8 frames at a time in lanes, as the branch computes it (scipy's f64 real
    // FFT, one frame per SIMD lane, librosa's complex64 rounding), and frame by frame in
    // rows (`magnitude_frames`, what the other callers use).
    g.bench_function("stft_magnitudes", |b| {
        let mut scratch = stft.make_scratch();
        let mut out = vec![0.0f32; MAX_LANES * stft.n_bins()];
        b.iter(|| {
            for first in (0..n_frames).step_by(MAX_LANES) {
                stft.magnitude_lanes(&y, first, &mut scratch, &mut out)
                    .expect("lanes");
                black_box(&out);
            }
        })
    });
    g.bench_function("stft_magnitudes_rows", |b| {
        let mut scratch = stft.make_scratch();
        let nb = stft.n_bins();
        let mut out = vec![0.0f32; MAX_LANES * nb];
        b.iter(|| {
            for first in (0..n_frames).step_by(MAX_LANES) {
                let batch = &mut out[..MAX_LANES.min(n_frames - first) * nb];
                stft.magnitude_frames(&y, first, &mut scratch, batch)
                    .expect("frames");
                black_box(&batch);
            }
        })
    });

    // The bare real FFT of 2048 points for every frame of the file: ours (scipy's
    // algorithm, frames side by side in SIMD lanes, f64), and realfft's in f64 and f32
    // for comparison (f32 would give up magnitudes identical to librosa's).
    let frame = &y[..N_FFT];
    let isa = musicgenre_features::simd::best();
    let rfft = RealFft::new(N_FFT).expect("rfft");
    g.bench_function("fft_2048_f64_lanes", |b| {
        let w = isa.lanes();
        let lanes: Vec<f64> = frame.iter().flat_map(|&v| vec![v as f64; w]).collect();
        let (mut data, mut scratch) = (lanes.clone(), lanes.clone());
        b.iter(|| {
            for _ in (0..n_frames).step_by(w) {
                data.copy_from_slice(&lanes);
                rfft.forward_with(isa, &mut data, &mut scratch)
                    .expect("fft");
                black_box(&data);
            }
        })
    });
    bench_real_fft::<f64>(&mut g, "fft_2048_f64", frame, n_frames);
    bench_real_fft::<f32>(&mut g, "fft_2048_f32", frame, n_frames);

    // Mel power of every frame, then power_to_db and the DCT.
    let mel = MelBank::slaney(SR, N_FFT, N_MELS).expect("mel");
    let dct = Dct::ortho(N_MELS, N_MFCC).expect("dct");
    g.bench_function("mel", |b| {
        let mut out = Frames::zeros(N_MELS, n_frames);
        b.iter(|| {
            for t in 0..n_frames {
                mel.apply_f32(power.frame(t), out.frame_mut(t));
            }
            black_box(&out);
        })
    });
    let mut mel_power = Frames::zeros(N_MELS, n_frames);
    for t in 0..n_frames {
        mel.apply_f32(power.frame(t), mel_power.frame_mut(t));
    }
    g.bench_function("mfcc_from_mel", |b| {
        b.iter_batched_ref(
            || mel_power.clone(),
            |m| black_box(mfcc_from_mel_power(m, &dct).expect("mfcc")),
            BatchSize::LargeInput,
        )
    });

    // Spectral contrast's peaks and valleys (the q largest and smallest bins of each of
    // the 7 bands) of every frame.
    let spectral = SpectralPlan::new(SR, N_FFT).expect("spectral");
    g.bench_function("spectral_contrast", |b| {
        let mut scratch = spectral.make_scratch();
        let (mut peak, mut valley) = ([0.0; N_CONTRAST], [0.0; N_CONTRAST]);
        b.iter(|| {
            for t in 0..n_frames {
                spectral.contrast(magnitude.frame(t), &mut scratch, &mut peak, &mut valley);
                black_box((&peak, &valley));
            }
        })
    });

    // The chroma filter bank: built once per tuning, applied to every frame.
    let bank = ChromaBank::new(SR, N_FFT, 12, -0.19).expect("chroma bank");
    g.bench_function("chroma_bank_apply", |b| {
        let mut out = Frames::zeros(12, n_frames);
        b.iter(|| {
            bank.apply_frames(&power.data, &mut out.data);
            black_box(&out);
        })
    });

    // estimate_tuning(S=|STFT|): piptrack over every frame and the histogram.
    g.bench_function("tuning_estimate", |b| {
        b.iter(|| black_box(estimate_tuning(&magnitude, SR, N_FFT).expect("tuning")))
    });

    // The CQT (7 octaves, 6 halvings by soxr) at a cached tuning.
    let cqt_plan = CqtPlan::new(CqtParams::default()).expect("cqt plan");
    let mut cqt_scratch = cqt_plan.scratch();
    let mut cqt = Frames::default();
    cqt_plan
        .process(&y, -0.1, &mut cqt_scratch, &mut cqt)
        .expect("cqt");
    g.bench_function("cqt", |b| {
        b.iter(|| {
            cqt_plan
                .process(&y, -0.1, &mut cqt_scratch, &mut cqt)
                .expect("cqt");
            black_box(&cqt);
        })
    });

    // chroma_cqt, chroma_cens and tonnetz from the CQT.
    g.bench_function("cqt_chroma_cens_tonnetz", |b| {
        b.iter(|| black_box(cqt_chroma_features(&cqt).expect("chroma")))
    });

    // The seven statistics of all 74 rows (518 values) from the per-frame matrices.
    let branch = StftBranchPlan::new(SR).expect("branch");
    let stft_features = branch
        .compute(&y, &mut branch.make_scratch())
        .expect("branch");
    let chroma = cqt_chroma_features(&cqt).expect("chroma");
    g.bench_function("statistics_518", |b| {
        let mut features = vec![0.0f64; N_FEATURES];
        let mut scratch = Vec::new();
        b.iter(|| {
            for (name, m) in [
                ("chroma_cens", &chroma.chroma_cens),
                ("chroma_cqt", &chroma.chroma_cqt),
                ("tonnetz", &chroma.tonnetz),
            ] {
                write_family(name, m, &mut features, &mut scratch).expect("stats");
            }
            stft_features
                .write_stats(&mut features, &mut scratch)
                .expect("stats");
            black_box(&features);
        })
    });
    g.finish();

    let mut g = c.benchmark_group("io");
    // librosa.load's resampling: 30 s of 44.1 kHz to 22050 Hz with soxr HQ.
    let x44 = song_44k();
    g.throughput(Throughput::Elements(x44.len() as u64));
    g.bench_function("resample_44k_to_22k", |b| {
        b.iter(|| black_box(resample(&x44, 44100.0, SR, false).expect("resample")))
    });

    // Decoding a 3-s 44.1-kHz stereo MP3 (the committed public-domain clip) from memory
    // into mono at 22050 Hz (libmpg123 where it is built, else symphonia; downmix,
    // streaming soxr), and at the native rate with each MP3 decoder.
    let mp3_path = fixtures().join("formats/brahms_cut.mp3");
    let mp3 = std::fs::read(&mp3_path).expect("mp3 fixture");
    g.throughput(Throughput::Bytes(mp3.len() as u64));
    g.bench_function("decode_mp3_from_memory", |b| {
        b.iter(|| {
            black_box(
                load_from_memory(&mp3, Path::new("clip.mp3"), &LoadOptions::default())
                    .expect("decode"),
            )
        })
    });
    g.bench_function("decode_mp3_from_memory_native_rate", |b| {
        b.iter(|| {
            black_box(
                load_from_memory(&mp3, Path::new("clip.mp3"), &LoadOptions::native_rate())
                    .expect("decode"),
            )
        })
    });
    let symphonia = LoadOptions {
        mp3_decoder: Mp3Decoder::Symphonia,
        ..LoadOptions::native_rate()
    };
    g.bench_function("decode_mp3_from_memory_native_rate_symphonia", |b| {
        b.iter(|| {
            black_box(load_from_memory(&mp3, Path::new("clip.mp3"), &symphonia).expect("decode"))
        })
    });
    g.finish();
}

fn per_file(c: &mut Criterion) {
    let y = song();
    let mut g = c.benchmark_group("file_30s");
    g.throughput(Throughput::Elements(1));

    // The STFT branch alone: both passes, every STFT feature and both tunings.
    let branch = StftBranchPlan::new(SR).expect("branch");
    let mut branch_scratch = branch.make_scratch();
    g.bench_function("stft_branch", |b| {
        b.iter(|| black_box(branch.compute(&y, &mut branch_scratch).expect("branch")))
    });

    // All 518 features of 30 s of audio at 22050 Hz (no decoding, no resampling).
    let plan = FeaturePlan::new().expect("plan");
    let mut scratch = plan.scratch();
    let mut out = vec![0.0f32; N_FEATURES];
    plan.compute(&y, &mut scratch, &mut out).expect("warm-up");
    g.bench_function("feature_plan_compute", |b| {
        b.iter(|| {
            plan.compute(&y, &mut scratch, &mut out).expect("features");
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = kernels, per_file
}
criterion_main!(benches);
