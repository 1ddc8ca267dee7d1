//! `librosa.feature.chroma_cqt`, `chroma_cens` and `tonnetz(chroma=chroma_cens)` of
//! librosa 0.11.0 against ours, on every fixture clip (tests/fixtures/generate.py): each
//! stage from librosa's own CQT, isolating our arithmetic, and end to end from the
//! samples through our CQT.

mod common;

use common::{fixtures, read_clip, read_npy, Npy, CLIPS};
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

/// Frames whose CQT peak (librosa's) is at least `floor` times the clip's CQT peak.
fn loud_frames(cqt: &Npy, floor: f64) -> Vec<bool> {
    let peak = cqt.data.iter().fold(0f64, |m, v| m.max(*v));
    (0..cqt.cols())
        .map(|t| (0..cqt.rows()).map(|r| cqt.at(r, t)).fold(0f64, f64::max) >= floor * peak)
        .collect()
}

/// Largest |ours - theirs| over the frames where `keep` holds.
fn max_abs_where(ours: &Frames, theirs: &Npy, keep: &[bool]) -> f64 {
    assert_eq!(
        (ours.n_rows, ours.n_frames),
        (theirs.rows(), theirs.cols()),
        "shape"
    );
    let mut worst = 0f64;
    for t in (0..theirs.cols()).filter(|&t| keep[t]) {
        for r in 0..theirs.rows() {
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
    // From the samples. Our CQT is within ~1e-5 of each row's scale, but near-silent
    // frames carry an absolute noise floor of ~3e-9 of the clip's peak: the octave signals
    // come out of libsoxr's scalar engine, python-soxr's out of its SIMD engine, a few
    // ulps apart, and in a decay into digital silence those ulps are all there is. Normalising such a frame (chroma_cqt, the L1 step of CENS)
    // blows that noise up to O(1) in librosa and in ours alike, differently. So: frames
    // whose CQT peak is at least 1e-4 of the clip's are compared (error there ~3e-9/1e-4
    // plus the row-relative part), CENS and tonnetz only where the 41-frame smoothing
    // window holds no quieter frame; the rest must be finite and in range. On these
    // clips only synth's silent last half second is excluded.
    let plan = CqtPlan::new(CqtParams::default()).unwrap();
    for clip in CLIPS {
        let theirs_cqt = fixture(&format!("{clip}.cqt.npy"));
        let loud = loud_frames(&theirs_cqt, 1e-4);
        let n = loud.len();
        let loud_around: Vec<bool> = (0..n)
            .map(|t| {
                loud[t.saturating_sub(20)..(t + 21).min(n)]
                    .iter()
                    .all(|&l| l)
            })
            .collect();
        let cqt = plan.cqt(&read_clip(clip), 0.0).unwrap();
        let all = cqt_chroma_features(&cqt).unwrap();
        let d_cq = max_abs_where(
            &all.chroma_cqt,
            &fixture(&format!("{clip}.chroma_cqt.npy")),
            &loud,
        );
        let d_cens = max_abs_where(
            &all.chroma_cens,
            &fixture(&format!("{clip}.chroma_cens.npy")),
            &loud_around,
        );
        let d_ton = max_abs_where(
            &all.tonnetz,
            &fixture(&format!("{clip}.tonnetz.npy")),
            &loud_around,
        );
        let skipped = loud.iter().filter(|&&l| !l).count();
        let skipped_around = loud_around.iter().filter(|&&l| !l).count();
        println!(
            "{clip}: end to end: chroma_cqt {d_cq:.2e} ({skipped} quiet frames skipped), \
             chroma_cens {d_cens:.2e}, tonnetz {d_ton:.2e} ({skipped_around} skipped)"
        );
        assert!(d_cq < 1e-4, "{clip}: chroma_cqt {d_cq:e}");
        assert!(d_cens < 1e-4, "{clip}: chroma_cens {d_cens:e}");
        assert!(d_ton < 1e-4, "{clip}: tonnetz {d_ton:e}");
        // The comparison must cover most of each clip (synth: 93 of 130 frames).
        assert!(
            skipped_around <= n / 3,
            "{clip}: {skipped_around} of {n} frames skipped"
        );
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
