//! Chroma from a constant-Q magnitude: `librosa.feature.chroma_cqt(C=...)` and
//! `librosa.feature.chroma_cens(C=...)`, librosa 0.11.0.
//!
//! Both fold the CQT bins onto pitch classes with `filters.cq_to_chroma(n_bins,
//! bins_per_octave, n_chroma)` (at its default `fmin` = C1, which is what `chroma_cqt`
//! passes when its own `fmin` is None, whatever tuning the CQT used); row 0 is C.
//!
//! - `chroma_cqt` (`norm=np.inf, threshold=0`): each frame divided by its largest value.
//! - `chroma_cens` (`norm=2, win_len_smooth=41, smoothing_window="hann"`): each frame
//!   L1-normalised; every value quantised to 0.25 times the number of the steps
//!   0.4, 0.2, 0.1, 0.05 it exceeds (compared as float32, as numpy compares a float32
//!   array with a Python float); each row smoothed along time by the symmetric Hann
//!   window of 43 points (41 non-zero) divided by its sum, zeros beyond both ends
//!   (`scipy.ndimage.convolve(mode="constant")`); each frame L2-normalised.
//!
//! Normalisation is `util.normalize(axis=0, threshold=None, fill=None)`: a frame whose
//! norm is below the smallest normal float32 is left as it is, so silent frames stay
//! zero and every output is finite for finite input. Norms and sums are taken in f64
//! and the results rounded to f32, as librosa divides its float32 matrices by float64
//! norms into float32 outputs.

use crate::cqt::C1_HZ;
use crate::error::{Error, Result};
use crate::frames::Frames;
use crate::tonnetz::tonnetz;

/// `util.tiny` of a float32 matrix: the normalisation threshold librosa uses.
const TINY_F32: f64 = f32::MIN_POSITIVE as f64;

/// CENS quantisation steps, each worth 0.25 when exceeded.
const CENS_STEPS: [f32; 4] = [0.4, 0.2, 0.1, 0.05];

/// `win_len_smooth` of `chroma_cens`.
const CENS_SMOOTH: usize = 41;

/// `filters.cq_to_chroma(n_input, bins_per_octave=, n_chroma=, fmin=C1)`: the
/// `n_chroma x n_input` matrix (row-major) that sums CQT bins into pitch classes.
///
/// `bins_per_octave` must be a multiple of `n_chroma`; each chroma class gathers the
/// `bins_per_octave / n_chroma` bins centred on it in every octave.
pub fn cq_to_chroma(n_input: usize, bins_per_octave: usize, n_chroma: usize) -> Result<Vec<f32>> {
    if n_chroma == 0 || bins_per_octave == 0 || !bins_per_octave.is_multiple_of(n_chroma) {
        return Err(Error::InvalidArgument(format!(
            "bins_per_octave={bins_per_octave} must be a positive multiple of n_chroma={n_chroma}"
        )));
    }
    let n_merge = bins_per_octave / n_chroma;
    // np.repeat(eye(n_chroma), n_merge, axis=1), rolled left by n_merge // 2.
    let shift = n_merge / 2;
    // np.mod(hz_to_midi(fmin), 12), rounded to whole chroma steps (np.round: half to even).
    let midi_0 = (12.0 * (C1_HZ.log2() - 440f64.log2()) + 69.0).rem_euclid(12.0);
    let roll = (midi_0 * (n_chroma as f64 / 12.0)).round_ties_even() as i64;
    let mut map = vec![0f32; n_chroma * n_input];
    for c in 0..n_chroma {
        // np.roll(.., roll, axis=0): output row c is input row c - roll.
        let src = (c as i64 - roll).rem_euclid(n_chroma as i64) as usize;
        for k in 0..n_input {
            let j = (k % bins_per_octave + shift) % bins_per_octave;
            if j / n_merge == src {
                map[c * n_input + k] = 1.0;
            }
        }
    }
    Ok(map)
}

/// The chroma of a CQT magnitude before normalisation (`chroma_cqt(norm=None)`):
/// `n_chroma` rows, one frame per CQT frame.
pub fn chroma_unnormalized(
    cqt: &Frames,
    bins_per_octave: usize,
    n_chroma: usize,
) -> Result<Frames> {
    let map = cq_to_chroma(cqt.n_rows, bins_per_octave, n_chroma)?;
    // The map is a 0/1 matrix: keep its non-zero entries per chroma class.
    let members: Vec<Vec<usize>> = (0..n_chroma)
        .map(|c| {
            (0..cqt.n_rows)
                .filter(|&k| map[c * cqt.n_rows + k] != 0.0)
                .collect()
        })
        .collect();
    let mut out = Frames::zeros(n_chroma, cqt.n_frames);
    for t in 0..cqt.n_frames {
        let src = cqt.frame(t);
        for (dst, bins) in out.frame_mut(t).iter_mut().zip(&members) {
            *dst = bins.iter().map(|&k| src[k] as f64).sum::<f64>() as f32;
        }
    }
    Ok(out)
}

/// `librosa.feature.chroma_cqt(C=cqt, n_chroma=, bins_per_octave=)`: chroma with each
/// frame scaled so its largest value is 1 (silent frames stay 0).
pub fn chroma_cqt(cqt: &Frames, bins_per_octave: usize, n_chroma: usize) -> Result<Frames> {
    let mut chroma = chroma_unnormalized(cqt, bins_per_octave, n_chroma)?;
    normalize_frames(&mut chroma, Norm::Max);
    Ok(chroma)
}

/// `librosa.feature.chroma_cens(C=cqt, n_chroma=, bins_per_octave=)`.
pub fn chroma_cens(cqt: &Frames, bins_per_octave: usize, n_chroma: usize) -> Result<Frames> {
    let chroma = chroma_unnormalized(cqt, bins_per_octave, n_chroma)?;
    Ok(cens_from_chroma(chroma))
}

/// The chroma-CQT family of one file: what the FMA features take from the CQT.
#[derive(Debug, Clone, PartialEq)]
pub struct CqtChroma {
    /// `chroma_cqt(C, n_chroma=12, bins_per_octave=12)`: 12 rows.
    pub chroma_cqt: Frames,
    /// `chroma_cens(C, n_chroma=12, bins_per_octave=12)`: 12 rows.
    pub chroma_cens: Frames,
    /// `tonnetz(chroma=chroma_cens)`: 6 rows.
    pub tonnetz: Frames,
}

/// chroma_cqt, chroma_cens and the tonnetz of the CENS, from a 12-bins-per-octave CQT
/// magnitude, sharing the unnormalised chroma between the first two.
pub fn cqt_chroma_features(cqt: &Frames) -> Result<CqtChroma> {
    let raw = chroma_unnormalized(cqt, 12, 12)?;
    let mut chroma_cqt = raw.clone();
    normalize_frames(&mut chroma_cqt, Norm::Max);
    let chroma_cens = cens_from_chroma(raw);
    let tonnetz = tonnetz(&chroma_cens);
    Ok(CqtChroma {
        chroma_cqt,
        chroma_cens,
        tonnetz,
    })
}

/// CENS from unnormalised chroma: L1, quantise, smooth along time, L2.
fn cens_from_chroma(mut chroma: Frames) -> Frames {
    normalize_frames(&mut chroma, Norm::L1);
    for v in &mut chroma.data {
        let x = *v;
        *v = CENS_STEPS.iter().filter(|&&step| x > step).count() as f32 * 0.25;
    }
    let mut cens = smooth_frames(&chroma, &cens_window());
    normalize_frames(&mut cens, Norm::L2);
    cens
}

/// `get_window("hann", 43, fftbins=False)` divided by its sum, as scipy computes the
/// window: `0.5 + 0.5 cos(x)` over `x = np.linspace(-pi, pi, 43)`.
fn cens_window() -> Vec<f64> {
    let m = CENS_SMOOTH + 2;
    let step = 2.0 * std::f64::consts::PI / (m - 1) as f64;
    let mut w: Vec<f64> = (0..m)
        .map(|k| {
            let x = if k == m - 1 {
                std::f64::consts::PI
            } else {
                k as f64 * step - std::f64::consts::PI
            };
            0.5 + 0.5 * x.cos()
        })
        .collect();
    let sum: f64 = w.iter().sum();
    for v in &mut w {
        *v /= sum;
    }
    w
}

/// `scipy.ndimage.convolve(x, window[None, :], mode="constant")` along frames: output
/// frame `t` is `sum_j window[m-1-j] * x[t + j - m/2]`, zeros outside, summed in f64 in
/// that order over the non-zero weights, as ndimage does.
fn smooth_frames(x: &Frames, window: &[f64]) -> Frames {
    let m = window.len();
    let half = (m / 2) as isize;
    let taps: Vec<(isize, f64)> = (0..m)
        .map(|j| (j as isize - half, window[m - 1 - j]))
        .filter(|&(_, w)| w != 0.0)
        .collect();
    let n_rows = x.n_rows;
    let n_frames = x.n_frames as isize;
    let mut out = Frames::zeros(n_rows, x.n_frames);
    let mut acc = vec![0f64; n_rows];
    for t in 0..n_frames {
        acc.fill(0.0);
        for &(offset, w) in &taps {
            let s = t + offset;
            if (0..n_frames).contains(&s) {
                for (a, &v) in acc.iter_mut().zip(x.frame(s as usize)) {
                    *a += v as f64 * w;
                }
            }
        }
        for (o, a) in out.frame_mut(t as usize).iter_mut().zip(&acc) {
            *o = *a as f32;
        }
    }
    out
}

/// The norms of `util.normalize` used here.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Norm {
    /// `norm=np.inf`: largest magnitude.
    Max,
    /// `norm=1`: sum of magnitudes.
    L1,
    /// `norm=2`: Euclidean length.
    L2,
}

/// `util.normalize(S, norm=, axis=0)` on every frame of a float32 matrix: the norm in
/// f64, frames whose norm is below the smallest normal f32 left unchanged.
pub(crate) fn normalize_frames(m: &mut Frames, norm: Norm) {
    if m.n_rows == 0 {
        return;
    }
    for frame in m.data.chunks_exact_mut(m.n_rows) {
        let length = match norm {
            Norm::Max => frame.iter().fold(0f64, |a, &v| a.max((v as f64).abs())),
            Norm::L1 => frame.iter().map(|&v| (v as f64).abs()).sum(),
            Norm::L2 => frame
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>()
                .sqrt(),
        };
        if length < TINY_F32 {
            continue;
        }
        for v in frame.iter_mut() {
            *v = (*v as f64 / length) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cq_to_chroma_folds_octaves_onto_c_based_classes() {
        let map = cq_to_chroma(84, 12, 12).unwrap();
        for c in 0..12 {
            for k in 0..84 {
                let expected = if k % 12 == c { 1.0 } else { 0.0 };
                assert_eq!(map[c * 84 + k], expected, "class {c}, bin {k}");
            }
        }
        // Three bins per class: class c gathers bins 3c-1, 3c, 3c+1 (mod 36).
        let map = cq_to_chroma(36, 36, 12).unwrap();
        let class_0: Vec<usize> = (0..36).filter(|&k| map[k] == 1.0).collect();
        assert_eq!(class_0, vec![0, 1, 35]);
        assert!(cq_to_chroma(84, 12, 5).is_err());
    }

    #[test]
    fn cens_window_is_normalised_symmetric_hann() {
        let w = cens_window();
        assert_eq!(w.len(), 43);
        assert_eq!((w[0], w[42]), (0.0, 0.0));
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        // Peak of a 43-point Hann of sum 21 (= (43 - 1) / 2).
        assert!((w[21] - 1.0 / 21.0).abs() < 1e-15);
    }

    #[test]
    fn silent_frames_stay_zero_and_finite() {
        let cqt = Frames::zeros(84, 50);
        let out = cqt_chroma_features(&cqt).unwrap();
        for m in [&out.chroma_cqt, &out.chroma_cens, &out.tonnetz] {
            assert!(m.data.iter().all(|&v| v == 0.0));
        }
        assert_eq!(out.tonnetz.n_rows, 6);
        assert_eq!(out.chroma_cens.n_frames, 50);
    }

    #[test]
    fn cens_of_one_steady_class_is_that_class() {
        // Energy only in bins of class E (4): after quantisation the frame is [0,..,1,..],
        // smoothing keeps the shape and L2 makes it a unit vector.
        let mut cqt = Frames::zeros(84, 100);
        for t in 0..100 {
            cqt.frame_mut(t)[4 + 24] = 2.0;
        }
        let cens = chroma_cens(&cqt, 12, 12).unwrap();
        for t in 0..100 {
            for c in 0..12 {
                let expected = if c == 4 { 1.0 } else { 0.0 };
                assert!(
                    (cens.get(c, t) - expected).abs() < 1e-6,
                    "frame {t} class {c}"
                );
            }
        }
    }
}
