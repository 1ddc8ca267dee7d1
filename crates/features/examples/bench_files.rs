//! Per-file timing of our side of `just bench-compare`: decoding alone, features alone
//! and both end to end, on the calling thread: by default one file uses one core (its
//! STFT and CQT branches run one after the other).
//!
//! With `--threads N` (N > 1) everything runs on one worker of an N-thread rayon pool, as
//! `features --jobs N` runs a single file: the other workers take parts of each file
//! (its frames, its STFT and CQT branches), so the times are one file's latency on N
//! cores.
//!
//! `bench_files [--repeat R] [--threads N] FILE...` prints one JSON object on stdout:
//! `{"files": [{"path", "duration_s", "decode_s", "symphonia_decode_s", "features_s",
//! "end_to_end_s", "cpu_features_s"}, ...], "peak_rss_mb", "repeat", "threads"}`, each
//! time the median of R runs (default 5) after one warm-up run of the first file:
//! - `decode_s`: `load` at the file's own rate (our decoder: libmpg123 for MP3 where it
//!   is built, else symphonia; downmix), what `librosa.load(path, sr=None)` does;
//! - `symphonia_decode_s`: the same with symphonia for MP3 too, the floor the feature
//!   issue measures end to end against;
//! - `features_s`: from those samples, resampling to 22050 Hz (libsoxr HQ) and the 518
//!   features, what `librosa.resample` + the feature calls do;
//! - `end_to_end_s`: `Extractor::extract_file` (decode, streaming resampler, features);
//! - `cpu_features_s`: the process CPU time of `features_s` (median), which is less
//!   noisy than wall time on a busy machine.
//!
//! `peak_rss_mb` is the process's `VmHWM` from `/proc/self/status` (0 where there is
//! none). Failing files are reported on stderr and left out; the exit status is then 1.

use musicgenre_features::decode::{load, LoadOptions, Mp3Decoder};
use musicgenre_features::resample::resample;
use musicgenre_features::{ExtractOptions, Extractor, N_FEATURES, SAMPLE_RATE};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let mut repeat = 5usize;
    let mut threads = 1usize;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--repeat" => match args.next().and_then(|s| s.parse().ok()) {
                Some(r) if r > 0 => repeat = r,
                _ => {
                    eprintln!("bench_files: --repeat needs a positive integer");
                    return ExitCode::from(2);
                }
            },
            "--threads" => match args.next().and_then(|s| s.parse().ok()) {
                Some(t) if t > 0 => threads = t,
                _ => {
                    eprintln!("bench_files: --threads needs a positive integer");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                eprintln!("usage: bench_files [--repeat R] [--threads N] FILE...");
                return ExitCode::SUCCESS;
            }
            _ => files.push(PathBuf::from(a)),
        }
    }
    if files.is_empty() {
        eprintln!("usage: bench_files [--repeat R] [--threads N] FILE...");
        return ExitCode::from(2);
    }
    if threads == 1 {
        return run(&files, repeat, threads);
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(|| run(&files, repeat, threads)),
        Err(e) => {
            eprintln!("bench_files: cannot start {threads} threads: {e}");
            ExitCode::from(2)
        }
    }
}

/// The timings of `files`, on the calling thread.
fn run(files: &[PathBuf], repeat: usize, threads: usize) -> ExitCode {
    let extractor = match Extractor::new(ExtractOptions::default()) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("bench_files: {e}");
            return ExitCode::from(2);
        }
    };
    let mut scratch = extractor.scratch();
    // Warm-up: page cache, the tuning's CQT and chroma banks, allocator arenas.
    for f in files {
        if extractor.extract_file(f, &mut scratch).is_ok() {
            break;
        }
    }

    let mut rows = Vec::new();
    let mut failed = false;
    for f in files {
        match time_file(&extractor, &mut scratch, f, repeat) {
            Ok(row) => rows.push(row),
            Err(e) => {
                eprintln!("bench_files: {e}");
                failed = true;
            }
        }
    }
    println!(
        "{{\"files\": [{}], \"peak_rss_mb\": {:.1}, \"repeat\": {repeat}, \"threads\": {}}}",
        rows.join(", "),
        peak_rss_mb(),
        threads
    );
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// One file's JSON object.
fn time_file(
    extractor: &Extractor,
    scratch: &mut musicgenre_features::Scratch,
    path: &Path,
    repeat: usize,
) -> musicgenre_features::Result<String> {
    let plan = musicgenre_features::FeaturePlan::new()?;
    let mut out = vec![0.0f32; N_FEATURES];
    let (mut decode, mut features, mut cpu_features, mut e2e, mut sym_decode) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let symphonia = LoadOptions {
        mp3_decoder: Mp3Decoder::Symphonia,
        ..LoadOptions::native_rate()
    };
    let mut duration_s = 0.0;
    // The plan of `features_s` warms up its banks first, as the extractor's did.
    let warm = load(path, &LoadOptions::native_rate())?;
    let y = resample(
        &warm.samples,
        f64::from(warm.sample_rate),
        f64::from(SAMPLE_RATE),
        false,
    )?;
    let mut plan_scratch = plan.scratch();
    plan.compute(&y, &mut plan_scratch, &mut out)?;
    drop((warm, y));
    for _ in 0..repeat {
        let t0 = Instant::now();
        let audio = load(path, &LoadOptions::native_rate())?;
        let t1 = Instant::now();
        let c1 = process_cpu_time();
        let y = resample(
            &audio.samples,
            f64::from(audio.sample_rate),
            f64::from(SAMPLE_RATE),
            false,
        )?;
        plan.compute(&y, &mut plan_scratch, &mut out)?;
        let c2 = process_cpu_time();
        let t2 = Instant::now();
        std::hint::black_box(&out);
        duration_s = audio.info.duration_s;
        drop((audio, y));
        let t3 = Instant::now();
        let file = extractor.extract_file(path, scratch)?;
        let t4 = Instant::now();
        std::hint::black_box(&file);
        drop(file);
        let t5 = Instant::now();
        let audio = load(path, &symphonia)?;
        let t6 = Instant::now();
        std::hint::black_box(&audio);
        sym_decode.push((t6 - t5).as_secs_f64());
        decode.push((t1 - t0).as_secs_f64());
        features.push((t2 - t1).as_secs_f64());
        cpu_features.push(c2.saturating_sub(c1).as_secs_f64());
        e2e.push((t4 - t3).as_secs_f64());
    }
    Ok(format!(
        "{{\"path\": {}, \"duration_s\": {duration_s:.6}, \"decode_s\": {:.6}, \"symphonia_decode_s\": {:.6}, \"features_s\": {:.6}, \"end_to_end_s\": {:.6}, \"cpu_features_s\": {:.6}}}",
        json_string(&path.display().to_string()),
        median(decode),
        median(sym_decode),
        median(features),
        median(e2e),
        median(cpu_features),
    ))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => 0.5 * (xs[n / 2 - 1] + xs[n / 2]),
    }
}

/// CPU time of all the process's threads, the sum of `/proc/self/task/*/schedstat`
/// (nanoseconds; zero where there is none). Threads that ended are not counted: rayon's
/// workers live as long as the process.
fn process_cpu_time() -> Duration {
    let mut ns = 0u64;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for task in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(task.path().join("schedstat")) {
                ns += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    Duration::from_nanos(ns)
}

/// `VmHWM` of this process in MB (0 where /proc is not there).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
