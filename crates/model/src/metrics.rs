//! Classification metrics from predictions: confusion matrix, accuracy, balanced accuracy,
//! per-class precision / recall / F1 / support, and aligned text renderings.
//!
//! Conventions follow scikit-learn: rows of the confusion matrix are true labels, columns
//! predictions; a precision or recall whose denominator is zero is 0 (`zero_division=0`);
//! balanced accuracy is the mean recall over labels that occur in the truth; macro F1 is
//! the mean F1 over labels that occur in the truth or the predictions.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Counts of (true label, predicted label) pairs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    pub labels: Vec<String>,
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// An all-zero matrix over `labels`.
    pub fn new(labels: Vec<String>) -> Self {
        let n = labels.len();
        ConfusionMatrix {
            labels,
            counts: vec![vec![0; n]; n],
        }
    }

    /// Counts pairs of label indices.
    pub fn from_predictions(
        labels: Vec<String>,
        truth: &[usize],
        predicted: &[usize],
    ) -> Result<Self> {
        if truth.len() != predicted.len() {
            return Err(Error::InvalidOption {
                name: "predicted",
                value: format!("{} predictions for {} truths", predicted.len(), truth.len()),
                expected: "one prediction per truth",
            });
        }
        let mut cm = ConfusionMatrix::new(labels);
        for (&t, &p) in truth.iter().zip(predicted) {
            cm.add(t, p)?;
        }
        Ok(cm)
    }

    /// Counts one pair.
    pub fn add(&mut self, truth: usize, predicted: usize) -> Result<()> {
        let n = self.labels.len();
        let cell = self
            .counts
            .get_mut(truth)
            .and_then(|row| row.get_mut(predicted))
            .filter(|_| truth < n && predicted < n);
        match cell {
            Some(c) => {
                *c += 1;
                Ok(())
            }
            None => Err(Error::InvalidOption {
                name: "label index",
                value: format!("({truth}, {predicted})"),
                expected: "indices below the number of labels",
            }),
        }
    }

    /// Adds another matrix over the same labels (pooling folds).
    pub fn merge(&mut self, other: &ConfusionMatrix) -> Result<()> {
        if other.labels != self.labels {
            return Err(Error::InvalidOption {
                name: "labels",
                value: format!("{:?}", other.labels),
                expected: "the same labels in the same order",
            });
        }
        for (row, other_row) in self.counts.iter_mut().zip(&other.counts) {
            for (c, o) in row.iter_mut().zip(other_row) {
                *c += o;
            }
        }
        Ok(())
    }

    /// `counts[truth][predicted]`, 0 where the matrix is ragged (a hand-edited report).
    pub fn count(&self, truth: usize, predicted: usize) -> u64 {
        self.counts
            .get(truth)
            .and_then(|row| row.get(predicted))
            .copied()
            .unwrap_or(0)
    }

    /// Number of pairs counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Rows divided by their sums (the share of each true label predicted as each label);
    /// a row with no examples is all zeros.
    pub fn row_normalised(&self) -> Vec<Vec<f64>> {
        self.counts
            .iter()
            .map(|row| {
                let sum: u64 = row.iter().sum();
                row.iter()
                    .map(|&c| if sum == 0 { 0.0 } else { c as f64 / sum as f64 })
                    .collect()
            })
            .collect()
    }

    /// An aligned text table, true labels down, predictions across.
    pub fn render_text(&self) -> String {
        let corner = "true \\ predicted";
        let first = self
            .labels
            .iter()
            .map(String::len)
            .chain([corner.len()])
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = self
            .labels
            .iter()
            .enumerate()
            .map(|(j, l)| {
                let digits = (0..self.labels.len())
                    .map(|i| self.count(i, j).to_string().len())
                    .max()
                    .unwrap_or(1);
                l.len().max(digits)
            })
            .collect();
        let mut out = String::new();
        let _ = write!(out, "{corner:<first$}");
        for (l, w) in self.labels.iter().zip(&widths) {
            let _ = write!(out, "  {l:>w$}");
        }
        out.push('\n');
        for (i, label) in self.labels.iter().enumerate() {
            let _ = write!(out, "{label:<first$}");
            for (j, w) in widths.iter().enumerate() {
                let _ = write!(out, "  {:>w$}", self.count(i, j));
            }
            out.push('\n');
        }
        out
    }
}

/// Precision, recall, F1 and support of one label.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of true examples of the label.
    pub support: u64,
}

/// All metrics derived from a confusion matrix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Share of correct predictions.
    pub accuracy: f64,
    /// Mean recall over labels present in the truth.
    pub balanced_accuracy: f64,
    /// Mean F1 over labels present in the truth or the predictions.
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    pub confusion: ConfusionMatrix,
}

impl Report {
    /// Computes every metric from `confusion`.
    pub fn from_confusion(confusion: ConfusionMatrix) -> Report {
        let n = confusion.labels.len();
        let total = confusion.total();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut per_class = Vec::with_capacity(n);
        let (mut recall_sum, mut recall_n, mut f1_sum, mut f1_n) = (0.0, 0, 0.0, 0);
        let mut correct = 0;
        for i in 0..n {
            let tp = confusion.count(i, i);
            correct += tp;
            let support: u64 = (0..n).map(|j| confusion.count(i, j)).sum();
            let predicted: u64 = (0..n).map(|j| confusion.count(j, i)).sum();
            let precision = ratio(tp, predicted);
            let recall = ratio(tp, support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            if support > 0 {
                recall_sum += recall;
                recall_n += 1;
            }
            if support > 0 || predicted > 0 {
                f1_sum += f1;
                f1_n += 1;
            }
            per_class.push(ClassMetrics {
                label: confusion.labels[i].clone(),
                precision,
                recall,
                f1,
                support,
            });
        }
        Report {
            accuracy: ratio(correct, total),
            balanced_accuracy: if recall_n == 0 {
                0.0
            } else {
                recall_sum / recall_n as f64
            },
            macro_f1: if f1_n == 0 { 0.0 } else { f1_sum / f1_n as f64 },
            per_class,
            confusion,
        }
    }

    /// Counts `(truth, predicted)` index pairs over `labels` and computes every metric.
    pub fn from_predictions(
        labels: Vec<String>,
        truth: &[usize],
        predicted: &[usize],
    ) -> Result<Report> {
        Ok(Report::from_confusion(ConfusionMatrix::from_predictions(
            labels, truth, predicted,
        )?))
    }

    /// Per-class table, the summary numbers, then the confusion matrix, aligned.
    pub fn render_text(&self) -> String {
        let name_w = self
            .per_class
            .iter()
            .map(|c| c.label.len())
            .chain(["balanced accuracy".len()])
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<name_w$}  {:>9}  {:>6}  {:>6}  {:>7}",
            "", "precision", "recall", "f1", "support"
        );
        for c in &self.per_class {
            let _ = writeln!(
                out,
                "{:<name_w$}  {:>9.3}  {:>6.3}  {:>6.3}  {:>7}",
                c.label, c.precision, c.recall, c.f1, c.support
            );
        }
        out.push('\n');
        let total = self.confusion.total();
        let _ = writeln!(
            out,
            "{:<name_w$}  {:>9}  {:>6}  {:>6.3}  {:>7}",
            "accuracy", "", "", self.accuracy, total
        );
        let _ = writeln!(
            out,
            "{:<name_w$}  {:>9}  {:>6}  {:>6.3}",
            "balanced accuracy", "", "", self.balanced_accuracy
        );
        let _ = writeln!(
            out,
            "{:<name_w$}  {:>9}  {:>6}  {:>6.3}",
            "macro f1", "", "", self.macro_f1
        );
        out.push('\n');
        out.push_str(&self.confusion.render_text());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn known_confusion_matrix_gives_known_metrics() {
        // true\pred  a  b  c
        // a          5  1  0    support 6
        // b          2  3  1    support 6
        // c          0  0  4    support 4
        let truth = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2];
        let pred = [0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2];
        let r = Report::from_predictions(labels(&["a", "b", "c"]), &truth, &pred).unwrap();
        assert_eq!(
            r.confusion.counts,
            vec![vec![5, 1, 0], vec![2, 3, 1], vec![0, 0, 4]]
        );
        assert!((r.accuracy - 12.0 / 16.0).abs() < 1e-12);
        // precision: a 5/7, b 3/4, c 4/5; recall: a 5/6, b 3/6, c 4/4.
        let expect = [(5.0 / 7.0, 5.0 / 6.0), (0.75, 0.5), (0.8, 1.0)];
        for (c, (p, rc)) in r.per_class.iter().zip(expect) {
            assert!((c.precision - p).abs() < 1e-12, "{}", c.label);
            assert!((c.recall - rc).abs() < 1e-12, "{}", c.label);
            let f1 = 2.0 * p * rc / (p + rc);
            assert!((c.f1 - f1).abs() < 1e-12, "{}", c.label);
        }
        assert_eq!(
            r.per_class.iter().map(|c| c.support).collect::<Vec<_>>(),
            vec![6, 6, 4]
        );
        assert!((r.balanced_accuracy - (5.0 / 6.0 + 0.5 + 1.0) / 3.0).abs() < 1e-12);
        // F1: a = 2·(5/7)(5/6)/((5/7)+(5/6)) = 10/13, b = 0.6, c = 8/9.
        assert!((r.macro_f1 - (10.0 / 13.0 + 0.6 + 8.0 / 9.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn empty_classes_follow_zero_division_zero() {
        // Label c never occurs and is never predicted; b is never predicted.
        let r = Report::from_predictions(labels(&["a", "b", "c"]), &[0, 0, 1], &[0, 0, 0]).unwrap();
        assert_eq!(r.per_class[1].precision, 0.0);
        assert_eq!(r.per_class[1].recall, 0.0);
        assert_eq!(r.per_class[2].support, 0);
        // Balanced accuracy over a and b only: (1 + 0) / 2.
        assert_eq!(r.balanced_accuracy, 0.5);
        // Macro F1 over a and b: a has p = 2/3, r = 1 → F1 0.8; b 0.
        assert!((r.macro_f1 - 0.4).abs() < 1e-12);
    }

    #[test]
    fn row_normalised_shares_sum_to_one() {
        let cm =
            ConfusionMatrix::from_predictions(labels(&["a", "b"]), &[0, 0, 0, 1], &[0, 1, 1, 1])
                .unwrap();
        let shares = cm.row_normalised();
        assert!((shares[0][0] - 1.0 / 3.0).abs() < 1e-12);
        assert!((shares[0][1] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(shares[1], vec![0.0, 1.0]);
    }

    #[test]
    fn text_rendering_is_aligned() {
        let cm = ConfusionMatrix {
            labels: labels(&["rock", "classical"]),
            counts: vec![vec![120, 3], vec![0, 7]],
        };
        let text = cm.render_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        // Every line has the same width, and numbers end where their header ends.
        assert!(lines.iter().all(|l| l.len() == lines[0].len()));
        assert!(lines[0].ends_with("classical"));
        assert!(lines[1].starts_with("rock") && lines[1].ends_with("  3"));
        let rock_end = lines[0].find("rock").unwrap() + 4;
        assert_eq!(&lines[1][rock_end - 3..rock_end], "120");
    }

    #[test]
    fn a_ragged_hand_made_matrix_does_not_panic() {
        let cm = ConfusionMatrix {
            labels: labels(&["a", "b"]),
            counts: vec![vec![3]],
        };
        let r = Report::from_confusion(cm.clone());
        assert_eq!(r.accuracy, 1.0);
        assert_eq!(cm.render_text().lines().count(), 3);
    }

    #[test]
    fn bad_indices_are_errors() {
        assert!(ConfusionMatrix::from_predictions(labels(&["a"]), &[0], &[1]).is_err());
        assert!(ConfusionMatrix::from_predictions(labels(&["a"]), &[0, 0], &[0]).is_err());
        let mut a = ConfusionMatrix::new(labels(&["a"]));
        assert!(a.merge(&ConfusionMatrix::new(labels(&["b"]))).is_err());
    }
}
