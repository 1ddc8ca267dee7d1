//! The STFT branch against librosa 0.11.0's outputs for every fixture clip
//! (`tests/fixtures`, written by `generate.py`). Run with `--nocapture` to see the
//! measured deviations.

mod common;

use common::{clip_info, fixtures, read_clip, read_npy, Npy, CLIPS};
use musicgenre_features::chroma::ChromaBank;
use musicgenre_features::frames::Frames;
use musicgenre_features::layout::{column_index, FEATURES, N_FEATURES, STATISTICS};
use musicgenre_features::mel::MelBank;
use musicgenre_features::stats::write_stats;
use musicgenre_features::stft::Stft;
use musicgenre_features::stft_branch::{StftBranchPlan, StftFeatures};
use musicgenre_features::tuning::{estimate_tuning, estimate_tuning_from_signal};

const SR: f64 = 22050.0;

/// Largest `|ours - ref| / scale(row)` over a matrix, where `scale` is the row's largest
/// reference magnitude (so values of very different sizes are judged against their own
/// row), floored at `floor` so that all-zero rows compare absolutely.
fn max_row_relative_error(ours: &Frames, reference: &Npy, floor: f64) -> f64 {
    assert_eq!(
        (ours.n_rows, ours.n_frames),
        (reference.rows(), reference.cols()),
        "shape"
    );
    let mut worst = 0.0f64;
    for r in 0..ours.n_rows {
        let row = reference.row(r);
        let scale = row.iter().fold(floor, |m, v| m.max(v.abs()));
        for (t, &want) in row.iter().enumerate() {
            let err = (ours.get(r, t) as f64 - want).abs() / scale;
            worst = worst.max(err);
        }
    }
    worst
}

/// Largest absolute difference.
fn max_abs_error(ours: &Frames, reference: &Npy) -> f64 {
    assert_eq!(
        (ours.n_rows, ours.n_frames),
        (reference.rows(), reference.cols()),
        "shape"
    );
    let mut worst = 0.0f64;
    for r in 0..ours.n_rows {
        for (t, &want) in reference.row(r).iter().enumerate() {
            worst = worst.max((ours.get(r, t) as f64 - want).abs());
        }
    }
    worst
}

/// One row of the fixture's spectral stack as a 1-row matrix.
fn spectral_rows(clip: &str, first: usize, n: usize) -> Npy {
    let all = read_npy(fixtures().join(format!("{clip}.spectral.npy")));
    let cols = all.cols();
    Npy {
        shape: vec![n, cols],
        data: all.data[first * cols..(first + n) * cols].to_vec(),
    }
}

fn branch(clip: &str) -> StftFeatures {
    let plan = StftBranchPlan::new(SR).unwrap();
    plan.compute(&read_clip(clip), &mut plan.make_scratch())
        .unwrap()
}

/// Counts equal values and the largest difference in f32 ulps (of same-signed values).
fn ulp_report(ours: &[f32], reference: &[f64]) -> (usize, u32) {
    assert_eq!(ours.len(), reference.len());
    let mut equal = 0;
    let mut worst = 0;
    for (&a, &b) in ours.iter().zip(reference) {
        let b = b as f32;
        if a == b {
            // Includes +0 == -0: librosa's mel bank holds some -0.0 outside the triangles.
            equal += 1;
            continue;
        }
        worst = worst.max((a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32);
    }
    (equal, worst)
}

#[test]
fn mel_bank_matches_librosa() {
    let bank = MelBank::slaney(SR, 2048, 128).unwrap();
    let reference = read_npy(fixtures().join("mel_fb.npy"));
    assert_eq!(reference.shape, vec![128, 1025]);
    let (equal, ulps) = ulp_report(&bank.to_dense(), &reference.data);
    println!(
        "mel_fb: {equal}/{} bit-identical, max {ulps} ulp",
        reference.data.len()
    );
    // Same f64 formulas and roundings; numpy's SIMD exp/log may differ from libm's by an
    // f64 ulp, which can move an f32 rounding by one ulp.
    assert!(ulps <= 1, "{ulps}");
}

#[test]
fn chroma_bank_matches_librosa() {
    let bank = ChromaBank::new(SR, 2048, 12, 0.0).unwrap();
    let reference = read_npy(fixtures().join("chroma_fb.npy"));
    assert_eq!(reference.shape, vec![12, 1025]);
    let (equal, ulps) = ulp_report(bank.weights(), &reference.data);
    println!(
        "chroma_fb: {equal}/{} bit-identical, max {ulps} ulp",
        reference.data.len()
    );
    // As for the mel bank: f64 exp/log2 of numpy vs libm, then one f32 rounding.
    assert!(ulps <= 1, "{ulps}");
}

#[test]
fn mel_spectrogram_matches_librosa() {
    let stft = Stft::new(2048, 512).unwrap();
    let bank = MelBank::slaney(SR, 2048, 128).unwrap();
    for clip in CLIPS {
        let mag = stft.magnitude(&read_clip(clip)).unwrap();
        let mut mel = Frames::zeros(128, mag.n_frames);
        let mut power = vec![0.0f64; 1025];
        for t in 0..mag.n_frames {
            for (p, &m) in power.iter_mut().zip(mag.frame(t)) {
                *p = (m * m) as f64;
            }
            bank.apply(&power, mel.frame_mut(t));
        }
        let reference = read_npy(fixtures().join(format!("{clip}.mel.npy")));
        let err = max_row_relative_error(&mel, &reference, 1e-30);
        println!("{clip} mel: max error {err:.2e} of the band's max");
        // f64 accumulation vs librosa's f32 sgemm: the f32 rounding of sums of up to ~60
        // positive terms, ~1e-6 relative at worst.
        assert!(err < 1e-5, "{clip}: {err}");
    }
}

#[test]
fn tunings_match_exactly() {
    let stft = Stft::new(2048, 512).unwrap();
    for clip in CLIPS {
        let want_cqt = clip_info(clip, "tuning_cqt");
        let want_chroma = clip_info(clip, "tuning_chroma_stft");
        let f = branch(clip);
        println!(
            "{clip} tuning: cqt {} (librosa {want_cqt}), chroma_stft {} (librosa {want_chroma})",
            f.tuning_cqt, f.tuning_chroma_stft
        );
        // Histogram argmaxes: exact, to the bit of the returned bin edge.
        assert_eq!(f.tuning_cqt, want_cqt, "{clip} cqt");
        assert_eq!(f.tuning_chroma_stft, want_chroma, "{clip} chroma_stft");
        // The building blocks agree with the streamed branch: on a whole spectrogram
        // (magnitude and power), and streamed from the signal.
        let y = read_clip(clip);
        let mut mag = stft.magnitude(&y).unwrap();
        assert_eq!(estimate_tuning(&mag, SR, 2048).unwrap(), want_cqt, "{clip}");
        assert_eq!(
            estimate_tuning_from_signal(&stft, &y, SR).unwrap(),
            want_cqt,
            "{clip}"
        );
        for v in &mut mag.data {
            *v *= *v;
        }
        assert_eq!(
            estimate_tuning(&mag, SR, 2048).unwrap(),
            want_chroma,
            "{clip}"
        );
    }
}

#[test]
fn branch_matrices_match_librosa() {
    for clip in CLIPS {
        let f = branch(clip);
        let n_frames = clip_info(clip, "n_frames") as usize;
        assert_eq!(f.mfcc.n_frames, n_frames);

        let mfcc = read_npy(fixtures().join(format!("{clip}.mfcc.npy")));
        let e_mfcc = max_row_relative_error(&f.mfcc, &mfcc, 1.0);
        let chroma = read_npy(fixtures().join(format!("{clip}.chroma_stft.npy")));
        let e_chroma = max_abs_error(&f.chroma_stft, &chroma);
        let e_rms = max_row_relative_error(&f.rms, &spectral_rows(clip, 0, 1), 1e-30);
        let e_centroid =
            max_row_relative_error(&f.spectral_centroid, &spectral_rows(clip, 1, 1), 1.0);
        let e_bandwidth =
            max_row_relative_error(&f.spectral_bandwidth, &spectral_rows(clip, 2, 1), 1.0);
        let rolloff = spectral_rows(clip, 3, 1);
        let e_rolloff = max_abs_error(&f.spectral_rolloff, &rolloff);
        let e_contrast = max_abs_error(&f.spectral_contrast, &spectral_rows(clip, 4, 7));
        let e_zcr = max_abs_error(&f.zcr, &spectral_rows(clip, 11, 1));
        println!(
            "{clip}: mfcc {e_mfcc:.1e} (of row max) | chroma_stft {e_chroma:.1e} (abs) | \
             rms {e_rms:.1e} | centroid {e_centroid:.1e} | bandwidth {e_bandwidth:.1e} (of row max) | \
             rolloff {e_rolloff:.1e} Hz | contrast {e_contrast:.1e} dB | zcr {e_zcr:.1e} (abs)"
        );
        // MFCC: scipy's f32 DCT of f32 dB values (up to ~100 in magnitude, 128 terms) carries
        // ~1e-5 of absolute error; relative to a row's max that stays well under 1e-4.
        assert!(e_mfcc < 1e-4, "{clip} mfcc {e_mfcc}");
        // Chroma in [0, 1]: f32 sgemm vs f64 accumulation, then a division by the max.
        assert!(e_chroma < 1e-5, "{clip} chroma {e_chroma}");
        // rms, centroid, bandwidth: sums of 1025 terms in f32 (numpy) vs f64 (ours).
        assert!(e_rms < 1e-5, "{clip} rms {e_rms}");
        assert!(e_centroid < 1e-5, "{clip} centroid {e_centroid}");
        assert!(e_bandwidth < 1e-5, "{clip} bandwidth {e_bandwidth}");
        // Rolloff picks a bin: with librosa's f32 cumulative sum reproduced it is the same
        // bin (f32-stored Hz values, so equality up to the f32 rounding of the fixture).
        assert!(e_rolloff < 1e-3, "{clip} rolloff {e_rolloff}");
        // Contrast in dB (values ~10-60): f32 means of the same sorted values, then log10;
        // 1e-3 dB is about 2e-4 relative in power.
        assert!(e_contrast < 1e-3, "{clip} contrast {e_contrast}");
        // zcr counts crossings exactly: only the f32 storage of count / 2048 remains.
        assert!(e_zcr < 1e-7, "{clip} zcr {e_zcr}");
    }
}

/// Fixture matrix of a family as Frames (frame-major).
fn fixture_frames(clip: &str, family: &str) -> Frames {
    let npy = match family {
        "rmse" => spectral_rows(clip, 0, 1),
        "spectral_centroid" => spectral_rows(clip, 1, 1),
        "spectral_bandwidth" => spectral_rows(clip, 2, 1),
        "spectral_rolloff" => spectral_rows(clip, 3, 1),
        "spectral_contrast" => spectral_rows(clip, 4, 7),
        "zcr" => spectral_rows(clip, 11, 1),
        f => read_npy(fixtures().join(format!("{clip}.{f}.npy"))),
    };
    let mut m = Frames::zeros(npy.rows(), npy.cols());
    for r in 0..npy.rows() {
        for t in 0..npy.cols() {
            m.frame_mut(t)[r] = npy.at(r, t) as f32;
        }
    }
    m
}

#[test]
fn stats_of_fixture_matrices_match_features_npy() {
    for clip in CLIPS {
        let want = read_npy(fixtures().join(format!("{clip}.features.npy")));
        assert_eq!(want.data.len(), N_FEATURES);
        let mut scratch = Vec::new();
        let mut worst = 0.0f64;
        let mut worst_at = String::new();
        for (family, rows) in FEATURES {
            let m = fixture_frames(clip, family);
            assert_eq!(m.n_rows, rows, "{clip} {family}");
            let start = column_index(family, "kurtosis").unwrap();
            let mut out = vec![0.0; 7 * rows];
            write_stats(&m, &mut out, &mut scratch).unwrap();
            for (i, (&ours, &theirs)) in out.iter().zip(&want.data[start..]).enumerate() {
                // The fixture stores f32; its statistics were computed on f64 copies of the
                // f32 matrices (the spectral ones from librosa's f64 values: an f32
                // rounding of the inputs moves kurtosis and skew by ~1e-7 relative).
                let err = (ours - theirs).abs() / theirs.abs().max(1.0);
                if err > worst {
                    worst = err;
                    worst_at = format!("{family}.{}.{:02}", STATISTICS[i / rows], i % rows + 1);
                }
            }
        }
        println!("{clip} stats of fixture matrices: max error {worst:.1e} at {worst_at}");
        assert!(worst < 1e-5, "{clip}: {worst} at {worst_at}");
    }
}

#[test]
fn branch_statistics_match_features_npy() {
    for clip in CLIPS {
        let want = read_npy(fixtures().join(format!("{clip}.features.npy")));
        let f = branch(clip);
        let mut features = vec![f64::NAN; N_FEATURES];
        f.write_stats(&mut features, &mut Vec::new()).unwrap();
        let mut report = Vec::new();
        for (family, m) in f.families() {
            let rows = m.n_rows;
            let start = column_index(family, "kurtosis").unwrap();
            let mut worst = 0.0f64;
            let block = start..start + 7 * rows;
            for (&ours, &theirs) in features[block.clone()].iter().zip(&want.data[block]) {
                worst = worst.max((ours - theirs).abs() / theirs.abs().max(1.0));
            }
            report.push(format!("{family} {worst:.1e}"));
            // Statistics of matrices that match to ~1e-5 of their scale; kurtosis and skew
            // amplify relative errors of near-silent frames a little.
            assert!(worst < 1e-3, "{clip} {family}: {worst}");
        }
        println!(
            "{clip} branch stats vs features.npy (rel. to max(1,|v|)): {}",
            report.join(", ")
        );
    }
}

/// scipy.fft.rfft of the committed frames (`rfft_<n>_in.npy`, `generate.py`), to the bit,
/// with every instruction set this CPU has.
#[test]
fn rfft_is_scipys_bit_for_bit() {
    use musicgenre_features::rfft::RealFft;
    use musicgenre_features::simd::Isa;
    for n in [256usize, 2048] {
        let input = read_npy(fixtures().join(format!("rfft_{n}_in.npy")));
        let want = read_npy(fixtures().join(format!("rfft_{n}_out.npy")));
        assert_eq!((input.cols(), want.cols()), (n, n + 2));
        let plan = RealFft::new(n).unwrap();
        for isa in Isa::all_available() {
            let w = isa.lanes();
            for r in 0..input.rows() {
                // The frame in every lane.
                let mut data: Vec<f64> = input.row(r).iter().flat_map(|&v| vec![v; w]).collect();
                let mut scratch = vec![0.0; n * w];
                plan.forward_with(isa, &mut data, &mut scratch).unwrap();
                for l in 0..w {
                    let half = |i: usize| data[i * w + l];
                    let mut got = vec![half(0), 0.0];
                    for k in 1..n / 2 {
                        got.extend([half(2 * k - 1), half(2 * k)]);
                    }
                    got.extend([half(n - 1), 0.0]);
                    let same = got
                        .iter()
                        .zip(want.row(r))
                        .filter(|(a, b)| a.to_bits() == b.to_bits() || (**a == 0.0 && **b == 0.0))
                        .count();
                    assert_eq!(same, n + 2, "n {n} frame {r} {isa:?} lane {l}");
                }
            }
        }
    }
}

/// |STFT| of the synth clip equals librosa's to the bit with every instruction set, and
/// in batches that start anywhere.
#[test]
fn stft_magnitude_is_librosas_bit_for_bit_with_every_instruction_set() {
    use musicgenre_features::simd::Isa;
    let y = read_clip("synth");
    let reference = read_npy(fixtures().join("synth.stft.npy"));
    let stft = Stft::new(2048, 512).unwrap();
    let n_frames = stft.n_frames(y.len());
    let mut scratch = stft.make_scratch();
    for isa in Isa::all_available() {
        for batch in [1usize, 3, 8] {
            let mut out = vec![0.0f32; n_frames * 1025];
            for (b, chunk) in out.chunks_mut(batch * 1025).enumerate() {
                stft.magnitude_frames_with(isa, &y, b * batch, &mut scratch, chunk)
                    .unwrap();
            }
            for (t, frame) in out.chunks_exact(1025).enumerate() {
                for (k, &v) in frame.iter().enumerate() {
                    assert_eq!(
                        v.to_bits(),
                        (reference.at(k, t) as f32).to_bits(),
                        "{isa:?} batch {batch} frame {t} bin {k}"
                    );
                }
            }
        }
    }
}
