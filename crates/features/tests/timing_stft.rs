//! Timing and memory of the STFT branch, ignored by default. Run in release mode:
//!
//! ```text
//! cargo test --release -p musicgenre-features --test timing_stft -- --ignored --nocapture --test-threads 1
//! ```

mod common;

use musicgenre_features::stft::Stft;
use musicgenre_features::stft_branch::StftBranchPlan;
use std::time::Instant;

const SR: f64 = 22050.0;

/// 30 s of real music: the three 5 s recordings, twice.
fn thirty_seconds() -> Vec<f32> {
    let mut y = Vec::new();
    for _ in 0..2 {
        for clip in ["brahms", "piano", "whale"] {
            y.extend(common::read_clip(clip));
        }
    }
    assert_eq!(y.len(), 30 * 22050);
    y
}

/// CPU time of the calling thread, in seconds: unlike wall time it does not count the
/// time the thread waits for a core, which on a machine shared with other builds is most
/// of the noise. Falls back to wall time elsewhere than Linux.
fn thread_seconds() -> f64 {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Timespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid pointer to a timespec-shaped struct (64-bit Linux layout).
        if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64()
}

/// The fastest of `runs` calls after a warm-up (page in buffers, fill the chroma bank
/// cache), in thread CPU time; the minimum is the least disturbed by other processes.
fn fastest_seconds(runs: usize, mut f: impl FnMut()) -> f64 {
    f();
    (0..runs)
        .map(|_| {
            let t = thread_seconds();
            f();
            thread_seconds() - t
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
#[ignore = "timing: run in release with --ignored --nocapture"]
fn branch_time_on_thirty_seconds() {
    let y = thirty_seconds();
    let plan = StftBranchPlan::new(SR).unwrap();
    let mut scratch = plan.make_scratch();
    let branch = fastest_seconds(21, || {
        std::hint::black_box(plan.compute(&y, &mut scratch).unwrap());
    });
    let streamed_plan = StftBranchPlan::new(SR).unwrap().with_spectrogram_cache(0);
    let mut scratch = streamed_plan.make_scratch();
    let streamed = fastest_seconds(21, || {
        std::hint::black_box(streamed_plan.compute(&y, &mut scratch).unwrap());
    });
    let stft = Stft::new(2048, 512).unwrap();
    let mut stft_scratch = stft.make_scratch();
    let mut out = vec![0.0f32; 1025];
    let n_frames = stft.n_frames(y.len());
    let fft_only = fastest_seconds(21, || {
        for t in 0..n_frames {
            stft.magnitude_frame(&y, t, &mut stft_scratch, &mut out)
                .unwrap();
        }
        std::hint::black_box(&out);
    });
    println!(
        "30 s, {n_frames} frames, thread CPU time: branch {:.1} ms (spectrogram cached between passes), \
         {:.1} ms (recomputed); one |STFT| pass alone {:.1} ms",
        branch * 1e3,
        streamed * 1e3,
        fft_only * 1e3
    );
}

#[test]
#[ignore = "timing: run in release with --ignored --nocapture"]
fn branch_components_on_thirty_seconds() {
    use musicgenre_features::chroma::ChromaBank;
    use musicgenre_features::mel::MelBank;
    use musicgenre_features::spectral::{zero_crossing_rate, SpectralPlan};
    use musicgenre_features::tuning::{PiptrackParams, PitchTracker, TuningAccumulator};
    let y = thirty_seconds();
    let stft = Stft::new(2048, 512).unwrap();
    let mag = stft.magnitude(&y).unwrap();
    // Power spectra widened to f64, as the banks take them.
    let power: Vec<Vec<f64>> = (0..mag.n_frames)
        .map(|t| mag.frame(t).iter().map(|&m| (m * m) as f64).collect())
        .collect();
    let n = mag.n_frames;
    let per_frame_us = |s: f64| s * 1e6 / n as f64;
    let mel = MelBank::slaney(SR, 2048, 128).unwrap();
    let mut out = vec![0.0f32; 128];
    let t_mel = fastest_seconds(11, || {
        for p in &power {
            mel.apply(p, &mut out);
        }
        std::hint::black_box(&out);
    });
    let spectral = SpectralPlan::new(SR, 2048).unwrap();
    let mut ss = spectral.make_scratch();
    let t_spectral = fastest_seconds(11, || {
        for t in 0..n {
            std::hint::black_box(spectral.frame(mag.frame(t), &mut ss));
        }
    });
    let t_sums = fastest_seconds(11, || {
        let mut rolloff = vec![0.0f32; n];
        let mut batch = musicgenre_features::spectral::RolloffBatch::new(&spectral);
        for t in 0..n {
            batch.push(&spectral, t, mag.frame(t), &mut rolloff);
        }
        batch.finish(&spectral, &mut rolloff);
        std::hint::black_box(&rolloff);
    });
    let (mut peak, mut valley) = ([0.0; 7], [0.0; 7]);
    let t_contrast = fastest_seconds(11, || {
        for t in 0..n {
            spectral.contrast(mag.frame(t), &mut ss, &mut peak, &mut valley);
        }
        std::hint::black_box((&peak, &valley));
    });
    println!(
        "TEMP sums+rolloff {:.2} contrast {:.2}",
        per_frame_us(t_sums),
        per_frame_us(t_contrast)
    );
    let tracker = PitchTracker::new(SR, 2048, PiptrackParams::default()).unwrap();
    let mut acc = TuningAccumulator::new();
    let t_pitch = fastest_seconds(11, || {
        acc.clear();
        for t in 0..n {
            tracker.push_frame(mag.frame(t), &mut acc);
        }
        std::hint::black_box(acc.estimate());
    });
    let t_zcr = fastest_seconds(11, || {
        std::hint::black_box(zero_crossing_rate(&y, 2048, 512));
    });
    let bank = ChromaBank::new(SR, 2048, 12, 0.0).unwrap();
    let mut chroma = vec![0.0f32; 12];
    let t_chroma = fastest_seconds(11, || {
        for p in &power {
            bank.apply(p, &mut chroma);
        }
        std::hint::black_box(&chroma);
    });
    let mut stft_scratch = stft.make_scratch();
    let mut frame = vec![0.0f32; 1025];
    let t_stft = fastest_seconds(11, || {
        for t in 0..n {
            stft.magnitude_frame(&y, t, &mut stft_scratch, &mut frame)
                .unwrap();
        }
        std::hint::black_box(&frame);
    });
    println!(
        "per frame, us of thread CPU time: |STFT| {:.2}, mel {:.2}, spectral {:.2} (of which batched \
         rolloff {:.2}, contrast {:.2}), piptrack + estimate {:.2}, zcr {:.2}, chroma {:.2}",
        per_frame_us(t_stft),
        per_frame_us(t_mel),
        per_frame_us(t_spectral),
        per_frame_us(t_sums),
        per_frame_us(t_contrast),
        per_frame_us(t_pitch),
        per_frame_us(t_zcr),
        per_frame_us(t_chroma)
    );
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
#[ignore = "memory: run alone in release with --ignored --nocapture"]
fn branch_memory_on_ten_minutes() {
    // Ten minutes of the 30 s excerpt, repeated.
    let thirty = thirty_seconds();
    let y: Vec<f32> = thirty.iter().copied().cycle().take(600 * 22050).collect();
    drop(thirty);
    let before = peak_rss_kib();
    let plan = StftBranchPlan::new(SR).unwrap();
    let mut scratch = plan.make_scratch();
    let t = thread_seconds();
    let f = plan.compute(&y, &mut scratch).unwrap();
    let elapsed = thread_seconds() - t;
    let after = peak_rss_kib();
    println!(
        "10 min ({} frames): {:.2} s CPU; peak RSS {:?} KiB before (signal: {} KiB), {:?} KiB after",
        f.mfcc.n_frames,
        elapsed,
        before,
        y.len() * 4 / 1024,
        after
    );
}
