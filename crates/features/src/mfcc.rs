//! Log power and MFCC: `librosa.power_to_db(S)` and `librosa.feature.mfcc(S=db, n_mfcc)`.
//!
//! - `power_to_db` (librosa 0.11.0 `core/spectrum.py`) with its defaults `ref=1.0`,
//!   `amin=1e-10`, `top_db=80`: `10 * log10(max(amin, S))`, then clamped from below at
//!   `max - top_db`, where the max is over the WHOLE matrix (all bands and frames), so it
//!   needs every frame before any value is final. On an f32 matrix numpy computes in f32
//!   (`amin` and `10.0` become f32); so do we, with the platform's f32 `log10` (numpy's
//!   own, SIMD on AVX-512 machines, may differ from it by an ulp).
//! - MFCC (`feature/spectral.py::mfcc`, `dct_type=2`, `norm="ortho"`, `lifter=0`):
//!   `scipy.fft.dct(S, type=2, norm="ortho", axis=-2)[:n_mfcc]`, i.e.
//!   `c[k] = s(k) * sum_n x[n] cos(pi k (2n + 1) / (2N))` with `s(0) = sqrt(1/N)` and
//!   `s(k) = sqrt(2/N)`. The table is computed in f64 and stored as f32; products are
//!   accumulated in f64. scipy transforms the f32 input in f32, so results differ from
//!   librosa's by its f32 rounding (~1e-6 of a row's scale).

use crate::dot::{dot, widen};
use crate::error::{Error, Result};
use crate::frames::Frames;

/// librosa's default number of MFCCs in the FMA features.
pub const N_MFCC: usize = 20;

/// `librosa.power_to_db(S, ref=1.0, amin=amin, top_db=top_db)` in place on a whole matrix.
pub fn power_to_db_in_place(values: &mut [f32], amin: f32, top_db: Option<f32>) {
    let mut max = f32::NEG_INFINITY;
    for v in values.iter_mut() {
        // 10.0 * np.log10(np.maximum(amin, S)), all in f32; ref=1.0 subtracts 0.
        let db = 10.0f32 * v.max(amin).log10();
        *v = db;
        max = max.max(db);
    }
    if let Some(top_db) = top_db {
        let floor = max - top_db;
        for v in values.iter_mut() {
            *v = v.max(floor);
        }
    }
}

/// An orthonormal DCT-II truncated to its first `n_out` coefficients.
#[derive(Debug, Clone, PartialEq)]
pub struct Dct {
    n_in: usize,
    n_out: usize,
    /// `n_out x n_in`, row-major.
    matrix: Vec<f32>,
}

impl Dct {
    /// The first `n_out` rows of the orthonormal DCT-II of size `n_in` (`n_out <= n_in`).
    pub fn ortho(n_in: usize, n_out: usize) -> Result<Self> {
        if n_in == 0 || n_out == 0 || n_out > n_in {
            return Err(Error::InvalidArgument(format!(
                "DCT needs 0 < n_out <= n_in, got n_out {n_out}, n_in {n_in}"
            )));
        }
        let n = n_in as f64;
        let mut matrix = Vec::with_capacity(n_out * n_in);
        for k in 0..n_out {
            let scale = if k == 0 {
                (1.0 / n).sqrt()
            } else {
                (2.0 / n).sqrt()
            };
            for i in 0..n_in {
                let angle = std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n);
                matrix.push((scale * angle.cos()) as f32);
            }
        }
        Ok(Dct {
            n_in,
            n_out,
            matrix,
        })
    }

    /// Input length.
    pub fn n_in(&self) -> usize {
        self.n_in
    }

    /// Number of coefficients produced.
    pub fn n_out(&self) -> usize {
        self.n_out
    }

    /// Coefficients of one frame: `x` has `n_in` values, `out` `n_out`.
    pub fn apply(&self, x: &[f64], out: &mut [f32]) {
        debug_assert_eq!(x.len(), self.n_in);
        for (o, row) in out.iter_mut().zip(self.matrix.chunks_exact(self.n_in)) {
            *o = dot(row, x) as f32;
        }
    }
}

/// `librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=dct.n_out())` from a mel power
/// spectrogram (`dct.n_in()` rows), which is turned into dB in place (its values are
/// consumed).
pub fn mfcc_from_mel_power(mel: &mut Frames, dct: &Dct) -> Result<Frames> {
    if mel.n_rows != dct.n_in() {
        return Err(Error::InvalidArgument(format!(
            "MFCC of {} mel bands with a DCT of size {}",
            mel.n_rows,
            dct.n_in()
        )));
    }
    power_to_db_in_place(&mut mel.data, 1e-10, Some(80.0));
    let mut out = Frames::zeros(dct.n_out(), mel.n_frames);
    let mut x = vec![0.0f64; dct.n_in()];
    for t in 0..mel.n_frames {
        widen(mel.frame(t), &mut x);
        dct.apply(&x, out.frame_mut(t));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_rows_are_orthonormal() {
        let dct = Dct::ortho(128, 128).unwrap();
        for a in 0..128 {
            for b in 0..128 {
                let ra = &dct.matrix[a * 128..(a + 1) * 128];
                let rb = &dct.matrix[b * 128..(b + 1) * 128];
                let dot: f64 = ra.iter().zip(rb).map(|(x, y)| *x as f64 * *y as f64).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                // f32-stored table: each entry off by <= 2^-25 relative.
                assert!((dot - want).abs() < 1e-6, "{a} {b}: {dot}");
            }
        }
    }

    #[test]
    fn dct_of_a_constant_is_its_scaled_mean() {
        let dct = Dct::ortho(128, 20).unwrap();
        let mut out = vec![0.0; 20];
        dct.apply(&[2.0; 128], &mut out);
        // c0 = sqrt(1/N) * N * 2 = 2 sqrt(N); the other cosines sum to zero.
        assert!((out[0] - 2.0 * 128f32.sqrt()).abs() < 1e-4);
        assert!(out[1..].iter().all(|c| c.abs() < 1e-5), "{out:?}");
    }

    #[test]
    fn power_to_db_clamps_at_the_global_max() {
        let mut v = vec![1.0, 100.0, 1e-12, 0.0, 1e-3];
        power_to_db_in_place(&mut v, 1e-10, Some(80.0));
        assert_eq!(v[0], 0.0);
        assert_eq!(v[1], 20.0);
        // 1e-12 and 0 fall under amin (-100 dB), then under the floor 20 - 80 = -60 dB.
        assert_eq!(v[2], -60.0);
        assert_eq!(v[3], -60.0);
        assert!((v[4] + 30.0).abs() < 1e-5);
        let mut silent = vec![0.0; 4];
        power_to_db_in_place(&mut silent, 1e-10, Some(80.0));
        assert!(silent.iter().all(|&x| x == -100.0));
    }
}
