//! Evaluation: a model on a labelled table, and K-fold cross-validation of the training
//! procedure (stratified by label, grouped by artist or groups file) with a logistic
//! regression baseline trained on the same folds.
//!
//! Scores are per file (window probabilities averaged, as `classify` decides a song);
//! when the table holds several windows per file the per-window accuracy is given too.
//! Standard deviations over folds are sample standard deviations (n − 1).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::linear::{LogRegOptions, LogisticRegression};
use crate::metrics::{ConfusionMatrix, Report};
use crate::model::Model;
use crate::predict::{argmax, decide_files, FilePrediction};
use crate::split::{row_groups, stratified_group_folds, Grouping};
use crate::table::{FeatureTable, GroupMap};
use crate::train::{derive_seed, fit, stream, Progress, TrainOptions};

/// A model scored on a labelled table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Whole-file decisions (windows averaged).
    pub files: Report,
    /// Per-window scores, when some file has more than one row.
    pub windows: Option<Report>,
    /// The decision for every file.
    pub predictions: Vec<FilePrediction>,
}

/// The label index (in `known`) of every row; errors for rows without a label and for
/// labels not in `known`.
fn truth_indices(table: &FeatureTable, known: &[String]) -> Result<Vec<usize>> {
    let indices = table.label_indices(known)?;
    let unknown: Vec<String> = table
        .labels()
        .into_iter()
        .filter(|l| !known.contains(l))
        .collect();
    if !unknown.is_empty() {
        return Err(Error::UnknownLabels {
            labels: unknown,
            known: known.to_vec(),
        });
    }
    Ok(indices.into_iter().map(|i| i.unwrap_or(0)).collect())
}

/// Scores `model` on every row of `table` (all rows must be labelled with labels the model
/// knows, and the layout must match).
pub fn evaluate(model: &Model, table: &FeatureTable) -> Result<Evaluation> {
    model.check_layout(table.layout())?;
    let labels = model.labels().to_vec();
    let truth = truth_indices(table, &labels)?;
    let prediction = model.predict_table(table)?;
    let scores = score(&labels, &truth, &prediction.rows, table, None)?;
    Ok(Evaluation {
        files: scores.files,
        windows: scores.windows,
        predictions: prediction.files,
    })
}

struct Scores {
    files: Report,
    windows: Option<Report>,
}

/// Per-file (and, with windows, per-row) reports for `rows` of `table` (all rows when
/// `None`), given their probabilities in the same order.
fn score(
    labels: &[String],
    truth: &[usize],
    probabilities: &[Vec<f32>],
    table: &FeatureTable,
    rows: Option<&[usize]>,
) -> Result<Scores> {
    let all: Vec<usize>;
    let rows = match rows {
        Some(r) => r,
        None => {
            all = (0..table.n_rows()).collect();
            &all
        }
    };
    let paths: Vec<&str> = rows
        .iter()
        .map(|&r| table.rows()[r].path.as_str())
        .collect();
    let files = decide_files(&paths, probabilities, labels);
    let file_truth: Vec<usize> = files.iter().map(|f| truth[rows[f.rows[0]]]).collect();
    let file_pred: Vec<usize> = files.iter().map(|f| f.predicted).collect();
    let file_report = Report::from_predictions(labels.to_vec(), &file_truth, &file_pred)?;
    let windows = if files.len() < rows.len() {
        let row_truth: Vec<usize> = rows.iter().map(|&r| truth[r]).collect();
        let row_pred: Vec<usize> = probabilities.iter().map(|p| argmax(p)).collect();
        Some(Report::from_predictions(
            labels.to_vec(),
            &row_truth,
            &row_pred,
        )?)
    } else {
        None
    };
    Ok(Scores {
        files: file_report,
        windows,
    })
}

/// Cross-validation settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CvOptions {
    /// Number of folds K. Default 5.
    pub folds: usize,
    /// Repetitions with different fold assignments and training seeds. Default 1.
    pub repeats: usize,
    /// Seed of the fold assignment and of each fold's training (replaces `train.seed`).
    /// Default 0.
    pub seed: u64,
    /// The training procedure evaluated (its inner validation split, early stopping and
    /// ensemble apply inside each fold's training part).
    pub train: TrainOptions,
    /// The logistic regression baseline on the same folds; `None` skips it.
    /// Default `Some(LogRegOptions::default())`.
    pub baseline: Option<LogRegOptions>,
}

impl Default for CvOptions {
    fn default() -> Self {
        CvOptions {
            folds: 5,
            repeats: 1,
            seed: 0,
            train: TrainOptions::default(),
            baseline: Some(LogRegOptions::default()),
        }
    }
}

/// Scores of one model on one test fold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldScores {
    /// Per-file accuracy.
    pub accuracy: f64,
    pub balanced_accuracy: f64,
    pub macro_f1: f64,
    /// Per-window accuracy, when the table holds windows.
    pub window_accuracy: Option<f64>,
    /// Per-file confusion matrix.
    pub confusion: ConfusionMatrix,
}

impl FoldScores {
    fn from(scores: Scores) -> Self {
        FoldScores {
            accuracy: scores.files.accuracy,
            balanced_accuracy: scores.files.balanced_accuracy,
            macro_f1: scores.files.macro_f1,
            window_accuracy: scores.windows.map(|w| w.accuracy),
            confusion: scores.files.confusion,
        }
    }
}

/// One fold of one repeat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    pub repeat: usize,
    pub fold: usize,
    /// Seed the fold's training used.
    pub train_seed: u64,
    /// Files the models were trained on (including their inner validation split).
    pub train_files: usize,
    /// The held-out files.
    pub test_files: Vec<String>,
    /// The epoch kept by each ensemble member.
    pub best_epochs: Vec<usize>,
    pub mlp: FoldScores,
    pub baseline: Option<FoldScores>,
}

/// Mean and sample standard deviation of per-fold values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
    pub values: Vec<f64>,
}

impl MeanStd {
    /// Summarises `values` (std 0 for fewer than two).
    pub fn new(values: Vec<f64>) -> Self {
        let n = values.len();
        let mean = if n == 0 {
            0.0
        } else {
            values.iter().sum::<f64>() / n as f64
        };
        let std = if n < 2 {
            0.0
        } else {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        };
        MeanStd { mean, std, values }
    }
}

/// A model's scores over all folds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    pub accuracy: MeanStd,
    pub balanced_accuracy: MeanStd,
    pub macro_f1: MeanStd,
    pub window_accuracy: Option<MeanStd>,
    /// Metrics of the confusion matrices summed over every fold (and repeat).
    pub pooled: Report,
}

impl CvSummary {
    fn new(labels: &[String], folds: &[&FoldScores]) -> Result<Self> {
        let mut pooled = ConfusionMatrix::new(labels.to_vec());
        for f in folds {
            pooled.merge(&f.confusion)?;
        }
        let windows: Option<Vec<f64>> = folds.iter().map(|f| f.window_accuracy).collect();
        Ok(CvSummary {
            accuracy: MeanStd::new(folds.iter().map(|f| f.accuracy).collect()),
            balanced_accuracy: MeanStd::new(folds.iter().map(|f| f.balanced_accuracy).collect()),
            macro_f1: MeanStd::new(folds.iter().map(|f| f.macro_f1).collect()),
            window_accuracy: windows.map(MeanStd::new),
            pooled: Report::from_confusion(pooled),
        })
    }
}

/// Everything cross-validation found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    pub options: CvOptions,
    pub labels: Vec<String>,
    pub grouping: Grouping,
    pub n_groups: usize,
    pub folds: Vec<FoldResult>,
    /// The MLP training procedure.
    pub mlp: CvSummary,
    /// The logistic regression baseline.
    pub baseline: Option<CvSummary>,
}

/// K-fold cross-validation of the training procedure on `table`: folds stratified by label
/// and grouped (groups file, else artists, else files), so no group is on both sides; each
/// fold trains with `options.train` on the other folds and is scored per file.
pub fn cross_validate(
    table: &FeatureTable,
    options: &CvOptions,
    groups: Option<&GroupMap>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<CvReport> {
    options.train.validate()?;
    if options.repeats == 0 {
        return Err(Error::InvalidOption {
            name: "repeats",
            value: "0".into(),
            expected: "at least 1",
        });
    }
    let labels = table.labels();
    let y = truth_indices(table, &labels)?;
    if labels.len() < 2 {
        return Err(Error::TooFewLabels {
            found: labels.len(),
            labels,
        });
    }
    let groups = row_groups(table, groups)?;
    let mut results = Vec::with_capacity(options.folds * options.repeats);
    for repeat in 0..options.repeats {
        let fold_of = stratified_group_folds(
            &y,
            &groups.group_of_row,
            &labels,
            options.folds,
            derive_seed(options.seed, stream::FOLDS, repeat as u64),
        )?;
        for fold in 0..options.folds {
            progress(&Progress::FoldStart {
                repeat,
                fold,
                folds: options.folds,
            });
            let (test, pool): (Vec<usize>, Vec<usize>) =
                (0..table.n_rows()).partition(|&r| fold_of[r] == fold);
            let mut train = options.train.clone();
            train.seed = derive_seed(
                options.seed,
                stream::FOLD_TRAIN,
                (repeat * options.folds + fold) as u64,
            );
            let model =
                fit(table, &pool, &labels, &y, &groups, &train, progress).map_err(|e| match e {
                    // The whole table has enough groups; this fold's training part not.
                    Error::LabelTooFewGroups { label, groups, .. } => Error::FoldTooFewGroups {
                        fold: fold + 1,
                        folds: options.folds,
                        label,
                        groups,
                    },
                    e => e,
                })?;
            let test_values: Vec<&[f32]> = test.iter().map(|&r| table.row_values(r)).collect();
            let probs = model.predict_proba(&test_values)?;
            let mlp = FoldScores::from(score(&labels, &y, &probs, table, Some(&test))?);
            let baseline = match &options.baseline {
                Some(lr_options) => {
                    let lr = LogisticRegression::fit(table, &pool, &y, labels.len(), lr_options)?;
                    let probs = lr.predict_proba(table, &test)?;
                    Some(FoldScores::from(score(
                        &labels,
                        &y,
                        &probs,
                        table,
                        Some(&test),
                    )?))
                }
                None => None,
            };
            let files = |rows: &[usize]| {
                let mut seen = std::collections::HashSet::new();
                rows.iter()
                    .map(|&r| table.rows()[r].path.as_str())
                    .filter(|p| seen.insert(*p))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            };
            let result = FoldResult {
                repeat,
                fold,
                train_seed: train.seed,
                train_files: files(&pool).len(),
                test_files: files(&test),
                best_epochs: model
                    .info()
                    .training
                    .history
                    .iter()
                    .map(|h| h.best_epoch)
                    .collect(),
                mlp,
                baseline,
            };
            progress(&Progress::FoldDone(Box::new(result.clone())));
            results.push(result);
        }
    }
    let mlp = CvSummary::new(&labels, &results.iter().map(|r| &r.mlp).collect::<Vec<_>>())?;
    let baseline = if options.baseline.is_some() {
        let scores: Vec<&FoldScores> = results.iter().filter_map(|r| r.baseline.as_ref()).collect();
        Some(CvSummary::new(&labels, &scores)?)
    } else {
        None
    };
    Ok(CvReport {
        options: options.clone(),
        labels,
        grouping: groups.grouping,
        n_groups: groups.n_groups,
        folds: results,
        mlp,
        baseline,
    })
}
