//! Loads audio files as `librosa.load` would and reports what came out; a tool for
//! checking the decoder against librosa by hand.
//!
//! `cargo run --release -p musicgenre-features --example load -- [--sr N|--native] [--mp3-decoder mpg123|symphonia] [--repeat K] [--out DIR] FILE...`
//! prints one line per file (rate, channels, codec, frames, tags, and the fastest of K
//! loads' wall time) and, with
//! `--out`, writes each result as raw little-endian f32 to `DIR/<i>.f32`, `i` being the
//! file's position in the list (from 0).

use musicgenre_features::decode::{load, LoadOptions, Mp3Decoder};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut opts = LoadOptions::default();
    let mut out_dir: Option<PathBuf> = None;
    let mut repeat = 1usize;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--native" => opts.target_sr = None,
            "--sr" => opts.target_sr = args.next().and_then(|s| s.parse().ok()),
            "--mp3-decoder" => match args.next().as_deref() {
                Some("mpg123") => opts.mp3_decoder = Mp3Decoder::Mpg123,
                Some("symphonia") => opts.mp3_decoder = Mp3Decoder::Symphonia,
                other => {
                    eprintln!("--mp3-decoder takes mpg123 or symphonia, not {other:?}");
                    return ExitCode::from(2);
                }
            },
            "--out" => out_dir = args.next().map(PathBuf::from),
            "--repeat" => repeat = args.next().and_then(|s| s.parse().ok()).unwrap_or(1).max(1),
            _ => files.push(PathBuf::from(a)),
        }
    }
    let mut failed = 0;
    for (index, f) in files.iter().enumerate() {
        let mut secs = f64::INFINITY;
        let mut result = None;
        for _ in 0..repeat {
            let t0 = Instant::now();
            let r = load(f, &opts);
            secs = secs.min(t0.elapsed().as_secs_f64());
            result = Some(r);
        }
        let Some(result) = result else { continue };
        match result {
            Ok(audio) => {
                let i = &audio.info;
                println!(
                    "{}\tok\t{:.4}s\tn={}\tsr={}\tnative_sr={}\tch={}\t{}/{}\tframes={}\tskipped={}\ttrunc={}\tartist={:?}\ttitle={:?}\talbum={:?}",
                    f.display(),
                    secs,
                    audio.samples.len(),
                    audio.sample_rate,
                    i.native_sample_rate,
                    i.channels,
                    i.container,
                    i.codec,
                    i.native_frames,
                    i.skipped_packets,
                    i.truncated,
                    i.artist,
                    i.title,
                    i.album
                );
                if let Some(dir) = &out_dir {
                    let bytes: Vec<u8> =
                        audio.samples.iter().flat_map(|v| v.to_le_bytes()).collect();
                    if let Err(e) = std::fs::write(dir.join(format!("{index}.f32")), bytes) {
                        eprintln!("{}: {e}", dir.display());
                    }
                }
            }
            Err(e) => {
                failed += 1;
                println!("{}\terror\t{e}", f.display());
            }
        }
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
