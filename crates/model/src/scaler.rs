//! Standardisation: per-feature mean and standard deviation from the training rows.
//!
//! Follows scikit-learn's `StandardScaler`: population standard deviation (ddof = 0),
//! accumulated in f64, stored as f32. A column whose standard deviation is zero, or
//! negligible next to its mean (`std <= 1e-7 · max(1, |mean|)`, i.e. constant up to
//! rounding), gets `std = 1`: it is centred but not blown up, and stays ≈ 0 for the
//! network, as sklearn's `_handle_zeros_in_scale` does.
//!
//! Optionally ([`Scaler::compress`]) each value first goes through the signed logarithm
//! `sign(x) · ln(1 + |x|)`, which tames the heavy tails of statistics like kurtosis and
//! skew (a few clips with kurtosis in the hundreds would otherwise dominate a column's
//! standard deviation) while keeping order and sign. Mean and std are then those of the
//! compressed values.

use serde::{Deserialize, Serialize};

/// Per-feature mean and standard deviation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// Signed-log compression before standardising (absent in older model files: false).
    #[serde(default)]
    pub compress: bool,
}

/// `sign(x) · ln(1 + |x|)`.
fn signed_log(x: f64) -> f64 {
    x.signum() * x.abs().ln_1p()
}

impl Scaler {
    /// Fits on the given rows of a row-major matrix with `n_features` columns, with or
    /// without signed-log compression. Panics if a row index is out of range (callers
    /// pass indices they made).
    pub fn fit(values: &[f32], n_features: usize, rows: &[usize], compress: bool) -> Scaler {
        let prep = |v: f32| if compress { signed_log(f64::from(v)) } else { f64::from(v) };
        let n = rows.len().max(1) as f64;
        let mut sum = vec![0f64; n_features];
        for &r in rows {
            for (s, &v) in sum
                .iter_mut()
                .zip(&values[r * n_features..(r + 1) * n_features])
            {
                *s += prep(v);
            }
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut ss = vec![0f64; n_features];
        for &r in rows {
            let row = &values[r * n_features..(r + 1) * n_features];
            for ((acc, &v), m) in ss.iter_mut().zip(row).zip(&mean) {
                let d = prep(v) - m;
                *acc += d * d;
            }
        }
        let std = ss
            .iter()
            .zip(&mean)
            .map(|(s, m)| {
                let sd = (s / n).sqrt();
                if !sd.is_finite() || sd <= 1e-7 * m.abs().max(1.0) {
                    1.0
                } else {
                    sd as f32
                }
            })
            .collect();
        Scaler {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std,
            compress,
        }
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// True when the scaler has no features.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// Standardises one row into `out` (same length as the scaler).
    pub fn transform_into(&self, row: &[f32], out: &mut Vec<f32>) {
        let compress = self.compress;
        out.extend(row.iter().zip(self.mean.iter().zip(&self.std)).map(|(&x, (&m, &s))| {
            let x = if compress { signed_log(f64::from(x)) } else { f64::from(x) };
            ((x - f64::from(m)) / f64::from(s)) as f32
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_with_population_std_and_handles_constant_columns() {
        // Column 0: 1, 2, 3, 4 → mean 2.5, population std sqrt(1.25).
        // Column 1: constant 7 → std 1, so it is only centred.
        let values = [1.0, 7.0, 2.0, 7.0, 3.0, 7.0, 4.0, 7.0, 100.0, 100.0];
        let s = Scaler::fit(&values, 2, &[0, 1, 2, 3], false); // row 4 is not training data
        assert_eq!(s.mean, vec![2.5, 7.0]);
        assert!((f64::from(s.std[0]) - 1.25f64.sqrt()).abs() < 1e-6);
        assert_eq!(s.std[1], 1.0);
        let mut out = Vec::new();
        s.transform_into(&[4.0, 7.0], &mut out);
        assert!((f64::from(out[0]) - 1.5 / 1.25f64.sqrt()).abs() < 1e-6);
        assert_eq!(out[1], 0.0);
    }

    #[test]
    fn near_constant_large_column_counts_as_constant() {
        let values = [1e6f32, 1e6, 1e6];
        let s = Scaler::fit(&values, 1, &[0, 1, 2], false);
        assert_eq!(s.std, vec![1.0]);
    }

    #[test]
    fn compression_is_a_signed_log_before_standardising() {
        // Compressed column: ln(1+e-1)=1, -ln(1+e-1)=-1 -> mean 0, std 1.
        let e1 = std::f32::consts::E - 1.0;
        let values = [e1, -e1];
        let s = Scaler::fit(&values, 1, &[0, 1], true);
        assert!(s.mean[0].abs() < 1e-6 && (s.std[0] - 1.0).abs() < 1e-6);
        let mut out = Vec::new();
        s.transform_into(&[0.0], &mut out);
        assert_eq!(out, vec![0.0]);
        out.clear();
        s.transform_into(&[1000.0], &mut out);
        assert!((f64::from(out[0]) - 1001f64.ln()).abs() < 1e-5, "{out:?}");
        let json = serde_json::to_string(&Scaler { mean: vec![0.0], std: vec![1.0], compress: false }).unwrap();
        let old: Scaler = serde_json::from_str(&json.replace(",\"compress\":false", "")).unwrap();
        assert!(!old.compress, "files written before the option read as uncompressed");
    }
}
