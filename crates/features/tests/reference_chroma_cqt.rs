//! `librosa.feature.chroma_cqt`, `chroma_cens` and `tonnetz(chroma=chroma_cens)` of
//! librosa 0.11.0 against ours, on every fixture clip (tests/fixtures/generate.py): each
//! stage from librosa's own CQT, isolating our arithmetic, and end to end from the
//! samples through our CQT.

mod common;

use common::{clip_info, fixtures, read_clip, read_npy, Npy, CLIPS};
use musicgenre_features::chroma_cqt::{chroma_cens, chroma_cqt, cqt_chroma_features};
use musicgenre_features::cqt::{CqtParams, CqtPlan};
use musicgenre_features::tonnetz::tonnetz;
use musicgenre_features::Frames;

fn fixture(name: &str) -> Npy {
    read_npy(fixtures().join(name))
}

fn to_frames(m: &Npy) -> Frames {
    let mut f = Frames::zeros(m.rows(), m.cols());
    for r in 0..m.rows() {
        for t in 0..m.cols() {
            f.frame_mut(t)[r] = m.at(r, t) as f32;
        }
    }
    f
}

/// Largest |ours - theirs| over the matrix, for matrices whose values are O(1) by
/// construction (normalised chroma, tonnetz).
fn max_abs(ours: &Frames, theirs: &Npy) -> f64 {
    assert_eq!(
        (ours.n_rows, ours.n_frames),
        (theirs.rows(), theirs.cols()),
        "shape"
    );
    let mut worst = 0f64;
    for r in 0..theirs.rows() {
        for t in 0..theirs.cols() {
            worst = worst.max((ours.get(r, t) as f64 - theirs.at(r, t)).abs());
        }
    }
    worst
}

#[test]
fn chroma_stages_match_librosa_from_its_cqt() {
    // Same input as librosa's: only our chroma arithmetic differs, which follows
    // librosa's f64 norms and f32 outputs, so deviations are a few f32 ulps. CENS
    // quantisation could only flip on a value within an ulp of a step.
    for clip in CLIPS {
        let cqt = to_frames(&fixture(&format!("{clip}.cqt.npy")));
        let cq = chroma_cqt(&cqt, 12, 12).unwrap();
        let cens = chroma_cens(&cqt, 12, 12).unwrap();
        let ton = tonnetz(&cens);
        let d_cq = max_abs(&cq, &fixture(&format!("{clip}.chroma_cqt.npy")));
        let d_cens = max_abs(&cens, &fixture(&format!("{clip}.chroma_cens.npy")));
        let d_ton = max_abs(&ton, &fixture(&format!("{clip}.tonnetz.npy")));
        println!("{clip}: from librosa's CQT: chroma_cqt {d_cq:.2e}, chroma_cens {d_cens:.2e}, tonnetz {d_ton:.2e}");
        assert!(d_cq < 1e-6, "{clip}: chroma_cqt {d_cq:e}");
        assert!(d_cens < 1e-6, "{clip}: chroma_cens {d_cens:e}");
        assert!(d_ton < 1e-6, "{clip}: tonnetz {d_ton:e}");

        // The combined entry point gives the same matrices.
        let all = cqt_chroma_features(&cqt).unwrap();
        assert_eq!(
            (all.chroma_cqt, all.chroma_cens, all.tonnetz),
            (cq, cens, ton)
        );
    }
}

#[test]
fn chroma_family_matches_librosa_end_to_end() {
    // From the samples: our CQT is within ~4e-7 of each row's scale (reference_cqt.rs).
    // chroma_cqt divides each frame by its peak, so frames fading into synth's digital
    // silence (peaks ~3e-9 of the clip's, where float32 rounding in librosa's complex64
    // products is a larger share of each value) deviate most: measured 3e-5 there, 5e-7
    // elsewhere. CENS quantises: a value within that much of a step could flip and move
    // ~41 frames by ~0.01; none does on these clips (measured: exact), which the bound
    // asserts. Tonnetz follows CENS.
    let plan = CqtPlan::new(CqtParams::default()).unwrap();
    for clip in CLIPS {
        let cqt = plan
            .cqt(&read_clip(clip), clip_info(clip, "tuning_cqt"))
            .unwrap();
        let all = cqt_chroma_features(&cqt).unwrap();
        let d_cq = max_abs(&all.chroma_cqt, &fixture(&format!("{clip}.chroma_cqt.npy")));
        let d_cens = max_abs(
            &all.chroma_cens,
            &fixture(&format!("{clip}.chroma_cens.npy")),
        );
        let d_ton = max_abs(&all.tonnetz, &fixture(&format!("{clip}.tonnetz.npy")));
        println!("{clip}: end to end: chroma_cqt {d_cq:.2e}, chroma_cens {d_cens:.2e}, tonnetz {d_ton:.2e}");
        assert!(d_cq < 1e-4, "{clip}: chroma_cqt {d_cq:e}");
        assert!(d_cens < 1e-6, "{clip}: chroma_cens {d_cens:e}");
        assert!(d_ton < 1e-6, "{clip}: tonnetz {d_ton:e}");
        for m in [&all.chroma_cqt, &all.chroma_cens] {
            assert!(
                m.data.iter().all(|v| (0.0..=1.0).contains(v)),
                "{clip}: chroma out of [0, 1]"
            );
        }
        assert!(
            all.tonnetz.data.iter().all(|v| v.abs() <= 1.0),
            "{clip}: tonnetz out of [-1, 1]"
        );
    }
}
