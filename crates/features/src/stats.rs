//! The seven statistics of each feature row over frames, as the FMA dataset's
//! `features.py` takes them: kurtosis, max, mean, median, min, skew, std.
//!
//! Conventions (what `tests/fixtures/generate.py::stats` computes with scipy 1.17 and
//! numpy 2.4 on float64 copies of librosa's matrices):
//!
//! - mean, population std (`np.std`, `ddof=0`), min, max;
//! - median as numpy's: the middle value, or the mean of the two middle values for an
//!   even count;
//! - skew and kurtosis as `scipy.stats.skew` / `kurtosis` with their defaults: biased
//!   moments about the mean, `m3 / m2^1.5` and Fisher's excess `m4 / m2^2 - 3`;
//! - always finite: scipy returns NaN when `m2 <= (eps * mean)^2` (a constant or nearly
//!   constant row) and the FMA pipeline maps NaN and infinities to 0; so do we (skew =
//!   kurtosis = 0 there), and any non-finite statistic becomes 0. An empty row gives 0s.
//!
//! Everything accumulates in f64 (two passes: mean, then central moments). The median uses
//! a caller-owned scratch buffer and `select_nth_unstable`; nothing allocates per row once
//! the buffer has grown to the number of frames.

use crate::error::{Error, Result};
use crate::frames::Frames;
use crate::layout::{column_index, FEATURES, N_FEATURES, STATISTICS};

/// Number of statistics per row.
pub const N_STATISTICS: usize = STATISTICS.len();

/// The statistics of one row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RowStats {
    pub kurtosis: f64,
    pub max: f64,
    pub mean: f64,
    pub median: f64,
    pub min: f64,
    pub skew: f64,
    pub std: f64,
}

impl RowStats {
    /// The values in layout order (alphabetical, as [`STATISTICS`]).
    pub fn to_array(&self) -> [f64; N_STATISTICS] {
        [
            self.kurtosis,
            self.max,
            self.mean,
            self.median,
            self.min,
            self.skew,
            self.std,
        ]
    }
}

/// The statistics of one row of values. `scratch` is reused (it ends up holding the values
/// in some order); pass the same buffer for every row to avoid allocating.
pub fn row_stats(values: impl IntoIterator<Item = f32>, scratch: &mut Vec<f64>) -> RowStats {
    scratch.clear();
    scratch.extend(values.into_iter().map(f64::from));
    let n = scratch.len();
    if n == 0 {
        return RowStats::default();
    }
    let nf = n as f64;
    let mut sum = 0.0;
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in scratch.iter() {
        sum += v;
        min = min.min(v);
        max = max.max(v);
    }
    let mean = sum / nf;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for &v in scratch.iter() {
        let d = v - mean;
        let d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    let (m2, m3, m4) = (m2 / nf, m3 / nf, m4 / nf);
    // scipy: `zero = m2 <= (eps * mean)**2` gives NaN, which the FMA pipeline maps to 0.
    let (skew, kurtosis) = if m2 <= (f64::EPSILON * mean).powi(2) {
        (0.0, 0.0)
    } else {
        (m3 / m2.powf(1.5), m4 / (m2 * m2) - 3.0)
    };
    let mid = n / 2;
    let (lower, upper, _) = scratch.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    let median = if n % 2 == 1 {
        upper
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + upper) / 2.0
    };
    let finite = |x: f64| if x.is_finite() { x } else { 0.0 };
    RowStats {
        kurtosis: finite(kurtosis),
        max: finite(max),
        mean: finite(mean),
        median: finite(median),
        min: finite(min),
        skew: finite(skew),
        std: finite(m2.sqrt()),
    }
}

/// Writes the statistics of every row of `frames` into `out` in layout order: statistic
/// by statistic (alphabetically), row by row within each, i.e.
/// `out[s * n_rows + r]` for statistic `s` of row `r`. `out` must hold
/// `7 * frames.n_rows` values.
pub fn write_stats(frames: &Frames, out: &mut [f64], scratch: &mut Vec<f64>) -> Result<()> {
    let n_rows = frames.n_rows;
    if out.len() != N_STATISTICS * n_rows {
        return Err(Error::InvalidArgument(format!(
            "statistics of {n_rows} rows need {} values, got a slice of {}",
            N_STATISTICS * n_rows,
            out.len()
        )));
    }
    scratch.reserve(frames.n_frames);
    for r in 0..n_rows {
        let stats = row_stats(frames.row(r), scratch).to_array();
        for (s, v) in stats.into_iter().enumerate() {
            out[s * n_rows + r] = v;
        }
    }
    Ok(())
}

/// Writes the statistics of feature family `name` (a name of [`FEATURES`], e.g. `"mfcc"`)
/// into their columns of a full feature vector of [`N_FEATURES`] values. Fails if the name
/// is unknown, `frames` has another number of rows than the layout gives the family, or
/// `features` has the wrong length.
pub fn write_family(
    name: &str,
    frames: &Frames,
    features: &mut [f64],
    scratch: &mut Vec<f64>,
) -> Result<()> {
    let rows = FEATURES.iter().find(|(f, _)| *f == name).map(|(_, r)| *r);
    let (Some(rows), Some(start)) = (rows, column_index(name, STATISTICS[0])) else {
        return Err(Error::InvalidArgument(format!(
            "unknown feature family {name:?}"
        )));
    };
    if frames.n_rows != rows || features.len() != N_FEATURES {
        return Err(Error::InvalidArgument(format!(
            "{name}: layout has {rows} rows in {N_FEATURES} columns, got {} rows and {} columns",
            frames.n_rows,
            features.len()
        )));
    }
    write_stats(
        frames,
        &mut features[start..start + N_STATISTICS * rows],
        scratch,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_values() {
        let mut scratch = Vec::new();
        let s = row_stats([1.0, 2.0, 3.0, 4.0, 10.0], &mut scratch);
        assert_eq!((s.mean, s.median, s.min, s.max), (4.0, 3.0, 1.0, 10.0));
        // Deviations -3 -2 -1 0 6: m2 = 50/5 = 10, m3 = (-27-8-1+216)/5 = 36,
        // m4 = (81+16+1+1296)/5 = 278.8.
        assert!((s.std - 10f64.sqrt()).abs() < 1e-12);
        assert!((s.skew - 36.0 / 10f64.powf(1.5)).abs() < 1e-12);
        assert!((s.kurtosis - (278.8 / 100.0 - 3.0)).abs() < 1e-12);
        // Even count: mean of the two middle values.
        let s = row_stats([4.0, 1.0, 3.0, 2.0], &mut scratch);
        assert_eq!(s.median, 2.5);
    }

    #[test]
    fn constant_and_empty_rows_are_finite() {
        let mut scratch = Vec::new();
        let s = row_stats([0.3f32; 50], &mut scratch);
        assert_eq!((s.skew, s.kurtosis, s.std), (0.0, 0.0, 0.0));
        assert_eq!(s.mean, 0.3f32 as f64);
        assert_eq!(row_stats([], &mut scratch), RowStats::default());
        let s = row_stats([1.0, f32::INFINITY], &mut scratch);
        assert!(s.to_array().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn block_is_in_layout_order() {
        let mut m = Frames::zeros(2, 3);
        m.data = vec![1.0, 10.0, 2.0, 20.0, 6.0, 60.0];
        let mut out = vec![0.0; 14];
        write_stats(&m, &mut out, &mut Vec::new()).unwrap();
        // kurtosis, max, mean, median, min, skew, std; row 0 then row 1 within each.
        assert_eq!(out[2..10], [6.0, 60.0, 3.0, 30.0, 2.0, 20.0, 1.0, 10.0]);
        assert!(write_stats(&m, &mut out[..13], &mut Vec::new()).is_err());
    }

    #[test]
    fn family_lands_on_its_columns() {
        let names = crate::layout::feature_names();
        let mut features = vec![f64::NAN; N_FEATURES];
        let mut zcr = Frames::zeros(1, 4);
        zcr.data = vec![1.0, 2.0, 3.0, 4.0];
        write_family("zcr", &zcr, &mut features, &mut Vec::new()).unwrap();
        let at = |n: &str| features[names.iter().position(|x| x == n).unwrap()];
        assert_eq!(at("zcr.mean.01"), 2.5);
        assert_eq!(at("zcr.max.01"), 4.0);
        assert!(at("tonnetz.std.06").is_nan());
        assert_eq!(features.iter().filter(|v| !v.is_nan()).count(), 7);
        assert!(write_family("mfcc", &zcr, &mut features, &mut Vec::new()).is_err());
        assert!(write_family("nope", &zcr, &mut features, &mut Vec::new()).is_err());
    }
}
