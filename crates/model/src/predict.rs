//! Whole-file decisions: the probabilities of a file's windows are averaged, as `classify`
//! does for a song cut into windows.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The decision for one file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FilePrediction {
    /// The file (the table's `path`).
    pub path: String,
    /// Its rows in the table (one per window).
    pub rows: Vec<usize>,
    /// Probabilities averaged over its rows, in the model's label order.
    pub probabilities: Vec<f32>,
    /// Index of the most likely label.
    pub predicted: usize,
    /// Name of the most likely label.
    pub genre: String,
    /// Its probability.
    pub confidence: f32,
}

/// Per-row probabilities and per-file decisions for a table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TablePrediction {
    /// Label names, the order of every probability vector.
    pub labels: Vec<String>,
    /// Probabilities of every table row.
    pub rows: Vec<Vec<f32>>,
    /// One decision per file, files in order of first appearance.
    pub files: Vec<FilePrediction>,
}

/// Index of the largest value (the first one on ties; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Element-wise mean of probability vectors (e.g. a song's windows). Empty input gives an
/// empty vector.
pub fn average_probabilities<R: AsRef<[f32]>>(rows: &[R]) -> Vec<f32> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let mut sum = vec![0f64; first.as_ref().len()];
    for r in rows {
        for (s, &p) in sum.iter_mut().zip(r.as_ref()) {
            *s += f64::from(p);
        }
    }
    sum.iter().map(|s| (s / rows.len() as f64) as f32).collect()
}

/// Groups rows by `paths[i]` (first-appearance order) and averages their probabilities.
pub fn decide_files<S: AsRef<str>>(
    paths: &[S],
    probabilities: &[Vec<f32>],
    labels: &[String],
) -> Vec<FilePrediction> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        let k = *index.entry(p.as_ref()).or_insert_with(|| {
            groups.push((p.as_ref().to_string(), Vec::new()));
            groups.len() - 1
        });
        groups[k].1.push(i);
    }
    groups
        .into_iter()
        .map(|(path, rows)| {
            let probs: Vec<&[f32]> = rows
                .iter()
                .filter_map(|&r| probabilities.get(r).map(Vec::as_slice))
                .collect();
            let probabilities = average_probabilities(&probs);
            let predicted = argmax(&probabilities);
            FilePrediction {
                path,
                rows,
                genre: labels.get(predicted).cloned().unwrap_or_default(),
                confidence: probabilities.get(predicted).copied().unwrap_or(0.0),
                predicted,
                probabilities,
            }
        })
        .collect()
}

/// Per-file accuracy given row probabilities, row labels and row file indices;
/// returns (accuracy, number of files).
pub(crate) fn file_accuracy(
    probabilities: &[Vec<f32>],
    labels: &[usize],
    file_of: &[usize],
) -> (f64, usize) {
    let n_files = file_of.iter().copied().max().map_or(0, |m| m + 1);
    let n_classes = probabilities.first().map_or(0, Vec::len);
    let mut sums = vec![vec![0f64; n_classes]; n_files];
    let mut truth = vec![0usize; n_files];
    for ((p, &y), &f) in probabilities.iter().zip(labels).zip(file_of) {
        for (s, &v) in sums[f].iter_mut().zip(p) {
            *s += f64::from(v);
        }
        truth[f] = y;
    }
    let correct = sums
        .iter()
        .zip(&truth)
        .filter(|(s, &y)| {
            let s32: Vec<f32> = s.iter().map(|&v| v as f32).collect();
            argmax(&s32) == y
        })
        .count();
    (correct as f64 / n_files.max(1) as f64, n_files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_of_a_file_are_averaged() {
        let labels = vec!["a".to_string(), "b".to_string()];
        // File x: windows (0.9, 0.1) and (0.2, 0.8) → mean (0.55, 0.45) → a.
        // File y: one window (0.3, 0.7) → b.
        let probs = vec![vec![0.9, 0.1], vec![0.3, 0.7], vec![0.2, 0.8]];
        let files = decide_files(&["x", "y", "x"], &probs, &labels);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "x");
        assert_eq!(files[0].rows, vec![0, 2]);
        assert!((files[0].probabilities[0] - 0.55).abs() < 1e-6);
        assert_eq!(files[0].genre, "a");
        assert_eq!(files[1].predicted, 1);
        assert!((files[1].confidence - 0.7).abs() < 1e-6);
    }

    #[test]
    fn file_accuracy_counts_files_not_rows() {
        // Three rows of file 0 (label 0), the majority of windows wrong but the mean right.
        let probs = vec![
            vec![0.45, 0.55],
            vec![0.45, 0.55],
            vec![0.99, 0.01],
            vec![0.1, 0.9],
        ];
        let (acc, n) = file_accuracy(&probs, &[0, 0, 0, 0], &[0, 0, 0, 1]);
        assert_eq!(n, 2);
        assert_eq!(acc, 0.5);
    }

    #[test]
    fn argmax_takes_the_first_maximum() {
        assert_eq!(argmax(&[0.2, 0.5, 0.5]), 1);
        assert_eq!(argmax(&[]), 0);
    }
}
