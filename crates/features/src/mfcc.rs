//! Log power and MFCC: `librosa.power_to_db(S)` and `librosa.feature.mfcc(S=db, n_mfcc)`.
//!
//! - `power_to_db` (librosa 0.11.0 `core/spectrum.py`) with its defaults `ref=1.0`,
//!   `amin=1e-10`, `top_db=80`: `10 * log10(max(amin, S))`, then clamped from below at
//!   `max - top_db`, where the max is over the WHOLE matrix (all bands and frames), so it
//!   needs every frame before any value is final. On an f32 matrix numpy computes in f32
//!   (`amin` and `10.0` become f32); so do we. The f32 `log10` is rounded from an f64
//!   evaluation (`simd::log10_f32`, 8 values at a time), so nearly always the
//!   correctly rounded value. numpy's own f32 `log10` is not: on AVX-512 machines (SVML)
//!   it differs from the correctly rounded value by 1 or 2 ulps on about half the inputs,
//!   which no other implementation reproduces; the effect on the MFCCs is ~1e-6 of a
//!   row's scale.
//!
//!   The branch keeps the dB values in blocks of 8 frames and finishes them with
//!   [`mfcc_from_db_lanes`]; [`mfcc_from_mel_power`] is the same computation on a
//!   frame-major matrix.
//! - MFCC (`feature/spectral.py::mfcc`, `dct_type=2`, `norm="ortho"`, `lifter=0`):
//!   `scipy.fft.dct(S, type=2, norm="ortho", axis=-2)[:n_mfcc]`, i.e.
//!   `c[k] = s(k) * sum_n x[n] cos(pi k (2n + 1) / (2N))` with `s(0) = sqrt(1/N)` and
//!   `s(k) = sqrt(2/N)`. The table is computed in f64 and stored as f32; products are
//!   accumulated in f64. scipy transforms the f32 input in f32, so results differ from
//!   librosa's by its f32 rounding (~1e-6 of a row's scale).

use crate::dot::{dot, dot_lanes, widen, Widened};
use crate::error::{Error, Result};
use crate::frames::Frames;
use crate::simd::{log10_f32, Lanes8, Portable, MAX_LANES as LANES};

/// librosa's default number of MFCCs in the FMA features.
pub const N_MFCC: usize = 20;

/// `librosa.power_to_db(S, ref=1.0, amin=amin, top_db=top_db)` in place on a whole matrix.
pub fn power_to_db_in_place(values: &mut [f32], amin: f32, top_db: Option<f32>) {
    let mut max = f32::NEG_INFINITY;
    let mut chunks = values.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        // 10.0 * np.log10(np.maximum(amin, S)), all in f32; ref=1.0 subtracts 0.
        // SAFETY: portable code.
        unsafe {
            let db = power_to_db_lanes::<Portable>(Portable::f_load(chunk.as_ptr()), amin);
            Portable::f_store(db, chunk.as_mut_ptr());
        }
        for &db in chunk.iter() {
            max = max.max(db);
        }
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let mut lanes = [amin; LANES];
        lanes[..tail.len()].copy_from_slice(tail);
        // SAFETY: portable code.
        let db = unsafe { power_to_db_lanes::<Portable>(Portable::f_load(lanes.as_ptr()), amin) };
        for (v, &d) in tail.iter_mut().zip(&db) {
            *v = d;
            max = max.max(d);
        }
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

/// `10 * log10(max(amin, v))` of 8 values in lanes, in f32 as numpy computes it (the
/// log rounded to f32, then multiplied by 10 in f32), with [`crate::simd::log10_f32`].
///
/// # Safety
/// The CPU has `I`'s instructions.
#[inline(always)]
pub(crate) unsafe fn power_to_db_lanes<I: Lanes8>(v: I::F, amin: f32) -> I::F {
    let clamped = I::f_max(v, I::f_splat(amin));
    I::f_mul(I::f_splat(10.0), log10_f32::<I>(clamped))
}

/// MFCCs of mel spectra in dB (`power_to_db` without its clamp) kept in blocks of
/// [`LANES`] frames: block `b` holds frames `8b..8b + 8`, value `m * LANES + l` being band
/// `m` of frame `8b + l`; `n_frames` are real (later lanes are ignored). Clamps at the
/// max of the real values less `top_db`, then applies `dct` to each frame in the order of
/// [`Dct::apply`] (so the values equal [`mfcc_from_mel_power`]'s on the same dB values).
pub fn mfcc_from_db_lanes(db: &[f32], n_frames: usize, top_db: f32, dct: &Dct) -> Result<Frames> {
    let n_mels = dct.n_in();
    let block = n_mels * LANES;
    if db.len() < n_frames.div_ceil(LANES) * block {
        return Err(Error::InvalidArgument(format!(
            "{} dB values for {n_frames} frames of {n_mels} bands",
            db.len()
        )));
    }
    let mut max = f32::NEG_INFINITY;
    for (b, chunk) in db
        .chunks_exact(block)
        .take(n_frames.div_ceil(LANES))
        .enumerate()
    {
        let count = LANES.min(n_frames - b * LANES);
        if count == LANES {
            // Eight running maxima (vectorised), then theirs.
            let mut lanes = [f32::NEG_INFINITY; LANES];
            for row in chunk.chunks_exact(LANES) {
                for (m, &v) in lanes.iter_mut().zip(row) {
                    *m = if v > *m { v } else { *m };
                }
            }
            max = lanes.iter().fold(max, |m, &v| m.max(v));
        } else {
            for row in chunk.chunks_exact(LANES) {
                for &v in &row[..count] {
                    max = max.max(v);
                }
            }
        }
    }
    let floor = max - top_db;
    let mut out = Frames::zeros(dct.n_out(), n_frames);
    // SAFETY: the CPU has the instructions of the path taken (simd::best).
    unsafe {
        crate::simd::dispatch!(crate::simd::best(), <I, _V>(
            db: &[f32] = db,
            floor: f32 = floor,
            dct: &Dct = dct,
            out: &mut [f32] = &mut out.data,
        ) {
            mfcc_lanes::<I>(db, floor, dct, out)
        })
    };
    Ok(out)
}

/// The DCT of every frame of `db` (blocks as in [`mfcc_from_db_lanes`]) clamped at
/// `floor`, into `out` (frame-major, `dct.n_out()` values a frame; as many frames as it
/// holds).
///
/// # Safety
/// The CPU has `I`'s instructions.
#[inline(always)]
unsafe fn mfcc_lanes<I: Lanes8>(db: &[f32], floor: f32, dct: &Dct, out: &mut [f32]) {
    let (n_in, n_out) = (dct.n_in(), dct.n_out());
    let n_frames = out.len() / n_out;
    let mut x = vec![I::d_splat(0.0); n_in];
    let mut lanes = [0.0f64; LANES];
    for (b, chunk) in db
        .chunks_exact(n_in * LANES)
        .take(n_frames.div_ceil(LANES))
        .enumerate()
    {
        let count = LANES.min(n_frames - b * LANES);
        for (m, xm) in x.iter_mut().enumerate() {
            let v = I::f_load(chunk.as_ptr().add(m * LANES));
            // np.maximum(log_spec, floor), in f32; then widened for the product.
            *xm = I::d_from_f(I::f_max(v, I::f_splat(floor)));
        }
        for (k, row) in dct.matrix.chunks_exact(n_in).enumerate() {
            // f32 table times widened f32 dB values: exact products.
            let sum = dot_lanes::<I>(row, &Widened::<I>(&x));
            I::d_store(sum, lanes.as_mut_ptr());
            for (l, v) in lanes.iter().enumerate().take(count) {
                out[(b * LANES + l) * n_out + k] = *v as f32;
            }
        }
    }
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
    fn lanes_give_the_dct_of_each_clamped_frame() {
        let dct = Dct::ortho(128, 20).unwrap();
        let n_frames: usize = 19;
        let mut db = vec![0.0f32; n_frames.div_ceil(LANES) * 128 * LANES];
        let mut frames = vec![vec![0.0f32; 128]; n_frames];
        for (t, f) in frames.iter_mut().enumerate() {
            for (m, v) in f.iter_mut().enumerate() {
                *v = ((t * 131 + m * 17) % 97) as f32 - 90.0 + 0.37 * m as f32;
                db[(t / LANES) * 128 * LANES + m * LANES + t % LANES] = *v;
            }
        }
        // Padding lanes hold values above every real one: they must not set the floor.
        for m in 0..128 {
            for l in n_frames % LANES..LANES {
                db[(n_frames / LANES) * 128 * LANES + m * LANES + l] = 1e6;
            }
        }
        let got = mfcc_from_db_lanes(&db, n_frames, 80.0, &dct).unwrap();
        let max = frames
            .iter()
            .flatten()
            .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut x = vec![0.0f64; 128];
        for (t, f) in frames.iter().enumerate() {
            for (xm, &v) in x.iter_mut().zip(f) {
                *xm = v.max(max - 80.0) as f64;
            }
            let mut want = vec![0.0f32; 20];
            dct.apply(&x, &mut want);
            assert_eq!(
                got.frame(t).iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                want.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "frame {t}"
            );
        }
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
