//! Times the constant-Q family on 30 s of audio, single-threaded:
//! `cargo run --release -p musicgenre-features --example time_cqt [RUNS]`.
//!
//! The audio is the four fixture clips looped to 661500 samples (30 s at 22050 Hz).
//! The plan is built and the tuning's bases cached before timing, as in a library scan.
//! Prints the best and the median of RUNS runs (default 20) of the CQT, of the chroma
//! family from it, and of both.

mod common;

use common::clip;
use musicgenre_features::chroma_cqt::cqt_chroma_features;
use musicgenre_features::cqt::{CqtParams, CqtPlan};
use musicgenre_features::Frames;
use std::time::Instant;

fn summary(mut secs: Vec<f64>) -> String {
    secs.sort_by(f64::total_cmp);
    format!(
        "best {:7.2} ms, median {:7.2} ms",
        secs[0] * 1e3,
        secs[secs.len() / 2] * 1e3
    )
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut y = Vec::with_capacity(661_500);
    let clips: Vec<Vec<f32>> = ["brahms", "piano", "whale", "synth"]
        .iter()
        .map(|c| clip(c))
        .collect();
    while y.len() < 661_500 {
        for c in &clips {
            y.extend_from_slice(c);
        }
    }
    y.truncate(661_500);

    let tuning = -0.05;
    let plan = CqtPlan::new(CqtParams::default()).expect("plan");
    let mut scratch = plan.scratch();
    let mut cqt = Frames::default();
    plan.process(&y, tuning, &mut scratch, &mut cqt)
        .expect("warm-up");

    let (mut t_cqt, mut t_chroma, mut t_all) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let t0 = Instant::now();
        plan.process(&y, tuning, &mut scratch, &mut cqt)
            .expect("cqt");
        let t1 = Instant::now();
        let features = cqt_chroma_features(&cqt).expect("chroma");
        let t2 = Instant::now();
        std::hint::black_box(&features);
        t_cqt.push((t1 - t0).as_secs_f64());
        t_chroma.push((t2 - t1).as_secs_f64());
        t_all.push((t2 - t0).as_secs_f64());
    }
    println!("30 s of audio, {runs} runs, one thread");
    println!("cqt (84 bins):                       {}", summary(t_cqt));
    println!("chroma_cqt + chroma_cens + tonnetz:  {}", summary(t_chroma));
    println!("all four:                            {}", summary(t_all));
}
