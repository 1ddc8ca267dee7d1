//! Times the STFT branch on 30 s of audio, single-threaded, and its memory on 10 minutes:
//! `cargo run --release -p musicgenre-features --example time_stft_branch [RUNS]`.
//!
//! The audio is three fixture clips (brahms, piano, whale: 5 s each) looped to 30 s at
//! 22050 Hz. Prints the best and the median of RUNS runs (default 21), in thread CPU
//! time (which does not count waiting for a core on a busy machine), of the whole branch
//! with the spectrogram kept between its passes, of the branch recomputing it, and of
//! one |STFT| pass alone; then the CPU time and the peak RSS of the branch on the same
//! audio looped to 10 minutes. The criterion benches (`just bench`) time each kernel.

mod common;

use common::clip;
use musicgenre_features::stft::Stft;
use musicgenre_features::stft_branch::StftBranchPlan;
use std::hint::black_box;
use std::time::Instant;

const SR: f64 = 22050.0;

/// The three clips looped to `seconds` of audio.
fn looped(seconds: usize) -> Vec<f32> {
    let clips: Vec<f32> = ["brahms", "piano", "whale"]
        .iter()
        .flat_map(|c| clip(c))
        .collect();
    clips
        .iter()
        .copied()
        .cycle()
        .take(seconds * 22050)
        .collect()
}

/// CPU time of the calling thread, in seconds; wall time elsewhere than Linux.
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

/// Best and median of `runs` calls after a warm-up (which pages buffers in and fills the
/// chroma bank cache).
fn time(runs: usize, mut f: impl FnMut()) -> String {
    f();
    let mut secs: Vec<f64> = (0..runs)
        .map(|_| {
            let t = thread_seconds();
            f();
            thread_seconds() - t
        })
        .collect();
    secs.sort_by(f64::total_cmp);
    format!(
        "best {:6.2} ms, median {:6.2} ms",
        secs[0] * 1e3,
        secs[secs.len() / 2] * 1e3
    )
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(21)
        .max(1);
    let y = looped(30);

    let plan = StftBranchPlan::new(SR).expect("plan");
    let mut scratch = plan.make_scratch();
    let cached = time(runs, || {
        black_box(plan.compute(&y, &mut scratch).expect("branch"));
    });
    let streamed_plan = StftBranchPlan::new(SR)
        .expect("plan")
        .with_spectrogram_cache(0);
    let mut scratch = streamed_plan.make_scratch();
    let streamed = time(runs, || {
        black_box(streamed_plan.compute(&y, &mut scratch).expect("branch"));
    });
    let stft = Stft::new(2048, 512).expect("stft");
    let mut stft_scratch = stft.make_scratch();
    let mut mag = vec![0.0f32; 8 * 1025];
    let n_frames = stft.n_frames(y.len());
    let one_pass = time(runs, || {
        for first in (0..n_frames).step_by(8) {
            let batch = &mut mag[..8.min(n_frames - first) * 1025];
            stft.magnitude_frames(&y, first, &mut stft_scratch, batch)
                .expect("frames");
        }
        black_box(&mag);
    });
    println!("30 s, {n_frames} frames, thread CPU time over {runs} runs:");
    println!("  branch, spectrogram kept between passes: {cached}");
    println!("  branch, spectrogram recomputed:          {streamed}");
    println!("  one |STFT| pass alone:                   {one_pass}");

    drop(y);
    let y = looped(600);
    let before = peak_rss_mb();
    let mut scratch = plan.make_scratch();
    let t = thread_seconds();
    let f = plan.compute(&y, &mut scratch).expect("branch");
    let cpu = thread_seconds() - t;
    let after = peak_rss_mb();
    let mb = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{v:.0} MB"));
    println!(
        "10 min, {} frames: {cpu:.2} s CPU; peak RSS {} before the branch (the signal is {:.0} MB), {} after",
        f.mfcc.n_frames,
        mb(before),
        (y.len() * 4) as f64 / 1e6,
        mb(after)
    );
}
