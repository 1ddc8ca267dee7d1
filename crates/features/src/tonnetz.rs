//! Tonal centroid features, `librosa.feature.tonnetz(chroma=...)` of librosa 0.11.0.
//!
//! Each chroma frame is L1-normalised (`util.normalize(norm=1)`, frames below the
//! smallest normal f32 left as they are, so silence gives zeros) and projected onto six
//! coordinates: the circles of fifths, minor thirds and major thirds, as (sin, cos)
//! pairs with radii 1, 1, 0.5 (Harte, Sandler & Gasser 2006). Row `p` is
//! `R_p cos(pi V_p(c))` summed over classes `c`, with `V_p(c) = s_p * 12c/n_chroma`
//! minus 0.5 on the even (sine) rows and `s = [7/6, 7/6, 3/2, 3/2, 2/3, 2/3]`.
//! librosa returns float64; the projection runs in f64 and is rounded to f32.

use crate::chroma_cqt::{normalize_frames, Norm};
use crate::frames::Frames;

/// Rows of the tonnetz.
pub const N_TONNETZ: usize = 6;

/// The `6 x n_chroma` projection `phi` (row-major).
fn projection(n_chroma: usize) -> Vec<f64> {
    const SCALE: [f64; N_TONNETZ] = [
        7.0 / 6.0,
        7.0 / 6.0,
        3.0 / 2.0,
        3.0 / 2.0,
        2.0 / 3.0,
        2.0 / 3.0,
    ];
    const RADIUS: [f64; N_TONNETZ] = [1.0, 1.0, 1.0, 1.0, 0.5, 0.5];
    // np.linspace(0, 12, n_chroma, endpoint=False)
    let step = 12.0 / n_chroma as f64;
    let mut phi = Vec::with_capacity(N_TONNETZ * n_chroma);
    for p in 0..N_TONNETZ {
        for c in 0..n_chroma {
            let mut v = SCALE[p] * (c as f64 * step);
            if p % 2 == 0 {
                v -= 0.5;
            }
            phi.push(RADIUS[p] * (std::f64::consts::PI * v).cos());
        }
    }
    phi
}

/// `librosa.feature.tonnetz(chroma=chroma)`: 6 rows, one frame per chroma frame.
pub fn tonnetz(chroma: &Frames) -> Frames {
    let n_chroma = chroma.n_rows;
    let phi = projection(n_chroma);
    let mut normed = chroma.clone();
    normalize_frames(&mut normed, Norm::L1);
    let mut out = Frames::zeros(N_TONNETZ, chroma.n_frames);
    for t in 0..chroma.n_frames {
        let x = normed.frame(t);
        for (p, o) in out.frame_mut(t).iter_mut().enumerate() {
            let row = &phi[p * n_chroma..(p + 1) * n_chroma];
            *o = row.iter().zip(x).map(|(&w, &v)| w * v as f64).sum::<f64>() as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_class_lands_on_its_circle_positions() {
        // A pure A (class 9): fifths angle 7/6 * 9 * pi, minor thirds 3/2 * 9 * pi,
        // major thirds 2/3 * 9 * pi (sine rows shifted by -pi/2).
        let mut chroma = Frames::zeros(12, 1);
        chroma.frame_mut(0)[9] = 0.7;
        let t = tonnetz(&chroma);
        let pi = std::f64::consts::PI;
        let expected = [
            (pi * (7.0 / 6.0 * 9.0 - 0.5)).cos(),
            (pi * 7.0 / 6.0 * 9.0).cos(),
            (pi * (1.5 * 9.0 - 0.5)).cos(),
            (pi * 1.5 * 9.0).cos(),
            0.5 * (pi * (2.0 / 3.0 * 9.0 - 0.5)).cos(),
            0.5 * (pi * 2.0 / 3.0 * 9.0).cos(),
        ];
        for (p, e) in expected.iter().enumerate() {
            assert!(
                (t.get(p, 0) as f64 - e).abs() < 1e-6,
                "row {p}: {} vs {e}",
                t.get(p, 0)
            );
        }
    }

    #[test]
    fn all_classes_equal_cancel_out() {
        // Equal energy in every class sums each circle to zero.
        let mut chroma = Frames::zeros(12, 2);
        chroma.frame_mut(1).fill(0.3);
        let t = tonnetz(&chroma);
        assert!(t.data.iter().all(|v| v.abs() < 1e-6), "{:?}", t.data);
    }
}
