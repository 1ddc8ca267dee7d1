//! `abs(librosa.cqt(...))` of librosa 0.11.0 against ours: every fixture clip at tuning 0
//! and at its estimated tuning, plus the corners the clips miss (short inputs, early
//! downsampling, odd hops). Fixtures: `tests/fixtures/generate.py` (estimated tuning,
//! as FMA's features call it) and `tests/fixtures/generate_cqt.py` (tuning 0, the
//! default of `librosa.cqt`, and the corners).
//!
//! Tolerances are relative to each row's largest librosa value ("row-relative"): CQT
//! rows span many decades, so one absolute bound would be either loose for quiet rows or
//! too tight for loud ones. The octave signals are bit-identical to librosa's (same
//! libsoxr engine, same f64 scaling); what differs is arithmetic: librosa rounds the STFT
//! to complex64 and accumulates the sparse products in complex64, we stay in f64.
//! Measured deviations are at most 4.1e-7 row-relative; the bound leaves a few times that.

mod common;

use common::{clip_info, fixtures, read_clip, read_npy, Npy, CLIPS};
use musicgenre_features::cqt::{CqtParams, CqtPlan};
use musicgenre_features::Frames;

/// Largest |ours - theirs| divided by its row's largest |theirs| (absolute for rows that
/// librosa has all zero), and where it happens.
fn row_relative(ours: &Frames, theirs: &Npy) -> (f64, usize, usize) {
    assert_eq!(
        (ours.n_rows, ours.n_frames),
        (theirs.rows(), theirs.cols()),
        "shape"
    );
    let mut worst = (0f64, 0, 0);
    for r in 0..theirs.rows() {
        let scale = theirs.row(r).iter().fold(0f64, |m, v| m.max(v.abs()));
        let scale = if scale > 0.0 { scale } else { 1.0 };
        for t in 0..theirs.cols() {
            let d = (ours.get(r, t) as f64 - theirs.at(r, t)).abs() / scale;
            assert!(d.is_finite(), "non-finite at row {r}, frame {t}");
            if d > worst.0 {
                worst = (d, r, t);
            }
        }
    }
    worst
}

fn fixture(name: &str) -> Npy {
    read_npy(fixtures().join(name))
}

/// generate_cqt.py's `probe`: three sines and a chirp, in f64, cast to f32.
fn probe(n: usize, sr: f64) -> Vec<f32> {
    use std::f64::consts::PI;
    (0..n)
        .map(|i| {
            let t = i as f64 / sr;
            (0.3 * (2.0 * PI * 440.0 * t).sin()
                + 0.2 * (2.0 * PI * 97.3 * t + 0.5).sin()
                + 0.1 * (2.0 * PI * 3150.0 * t).sin()
                + 0.1 * (2.0 * PI * (60.0 * t + 400.0 * t * t)).sin()) as f32
        })
        .collect()
}

/// CQT row-relative bound; measured worst over all fixtures: 4.1e-7.
const CQT_TOL: f64 = 2e-6;

#[test]
fn cqt_matches_librosa_at_tuning_zero() {
    let plan = CqtPlan::new(CqtParams::default()).unwrap();
    for clip in CLIPS {
        let ours = plan.cqt(&read_clip(clip), 0.0).unwrap();
        let (dev, r, t) = row_relative(&ours, &fixture(&format!("{clip}.cqt_tuning0.npy")));
        println!(
            "{clip}: cqt (tuning 0) max row-relative deviation {dev:.2e} at bin {r}, frame {t}"
        );
        assert!(dev < CQT_TOL, "{clip}: {dev:e} at bin {r}, frame {t}");
    }
}

#[test]
fn cqt_matches_librosa_at_estimated_tuning() {
    let plan = CqtPlan::new(CqtParams::default()).unwrap();
    for clip in CLIPS {
        let tuning = clip_info(clip, "tuning_cqt");
        let ours = plan.cqt(&read_clip(clip), tuning).unwrap();
        let (dev, r, t) = row_relative(&ours, &fixture(&format!("{clip}.cqt.npy")));
        println!("{clip}: cqt (tuning {tuning:.2}) max row-relative deviation {dev:.2e} at bin {r}, frame {t}");
        assert!(dev < CQT_TOL, "{clip}: {dev:e} at bin {r}, frame {t}");
    }
}

#[test]
fn frame_counts_match_librosa_for_short_inputs() {
    let plan = CqtPlan::new(CqtParams::default()).unwrap();
    let text = std::fs::read_to_string(fixtures().join("cqt_short.json")).unwrap();
    let list = |key: &str| -> Vec<usize> {
        let at = text.find(&format!("\"{key}\"")).unwrap();
        let rest = &text[at..];
        let body = &rest[rest.find('[').unwrap() + 1..rest.find(']').unwrap()];
        body.split(',').map(|s| s.trim().parse().unwrap()).collect()
    };
    let y = probe(8192, 22050.0);
    for (n, expected) in list("lengths").into_iter().zip(list("n_frames")) {
        assert_eq!(plan.n_frames(n, 0.0).unwrap(), expected, "n = {n}");
        assert_eq!(
            plan.cqt(&y[..n], 0.0).unwrap().n_frames,
            expected,
            "n = {n}"
        );
        // The formula at the default parameters.
        assert_eq!(expected, 1 + n / 512, "n = {n}");
    }
}

#[test]
fn short_inputs_match_librosa() {
    // Mostly zero padding: frames see a few samples, octave signals are a few samples
    // long. Same tolerance as the clips.
    let plan = CqtPlan::new(CqtParams::default()).unwrap();
    let y = probe(5001, 22050.0);
    for n in [1usize, 100, 2047, 2048, 4096, 4097] {
        let ours = plan.cqt(&y[..n], 0.0).unwrap();
        let (dev, r, t) = row_relative(&ours, &fixture(&format!("cqt_short.{n}.npy")));
        println!("n = {n}: max row-relative deviation {dev:.2e} at bin {r}, frame {t}");
        assert!(dev < CQT_TOL, "n = {n}: {dev:e} at bin {r}, frame {t}");
    }
}

#[test]
fn early_downsampling_at_44100_matches_librosa() {
    // At 44.1 kHz librosa first halves the signal (its filters reach only ~4.1 kHz).
    let plan = CqtPlan::new(CqtParams {
        sr: 44100.0,
        ..CqtParams::default()
    })
    .unwrap();
    let ours = plan.cqt(&probe(44100, 44100.0), 0.0).unwrap();
    let (dev, r, t) = row_relative(&ours, &fixture("cqt_44k.npy"));
    println!("44.1 kHz: max row-relative deviation {dev:.2e} at bin {r}, frame {t}");
    assert!(dev < CQT_TOL, "{dev:e} at bin {r}, frame {t}");
}

#[test]
fn odd_hop_after_halvings_matches_librosa() {
    // hop 1000 halves to 500, 250, 125; then librosa stops downsampling and the lower
    // octaves use ever longer filters at 2756.25 Hz.
    let plan = CqtPlan::new(CqtParams {
        hop_length: 1000,
        ..CqtParams::default()
    })
    .unwrap();
    let ours = plan.cqt(&probe(22050, 22050.0), 0.0).unwrap();
    let (dev, r, t) = row_relative(&ours, &fixture("cqt_hop1000.npy"));
    println!("hop 1000: max row-relative deviation {dev:.2e} at bin {r}, frame {t}");
    assert!(dev < CQT_TOL, "{dev:e} at bin {r}, frame {t}");
}
