//! Training: the original's recipe (Adam, lr 1e-3, batch 32, 10 epochs, 20% validation)
//! plus the options that make it better: early stopping, seed ensembles, weight decay,
//! label smoothing.
//!
//! Reproducibility: every random choice (validation split, per-epoch shuffles, initial
//! weights, dropout masks) comes from ChaCha8 streams derived from [`TrainOptions::seed`];
//! libtorch's global generator is never used, so trainings in parallel threads do not
//! disturb each other. See the crate docs for what was verified about threads.
//!
//! Reported per epoch (after the epoch, in inference mode, so the two are comparable):
//! cross-entropy and accuracy on the training rows and on the validation rows. The
//! per-batch dropout losses Keras prints are not reported.

use std::collections::HashMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::OptimizerConfig;
use tch::{nn, Kind, Reduction, Tensor};

use crate::error::{Error, Result};
use crate::model::{Member, Model, ModelInfo, FORMAT_VERSION};
use crate::net::{Architecture, Mlp, MLP_KIND};
use crate::predict::{argmax, file_accuracy};
use crate::scaler::Scaler;
use crate::split::{row_groups, validation_split, Grouping, RowGroups};
use crate::table::{FeatureTable, GroupMap};

/// Stop when the validation loss has not improved for `patience` epochs, and keep the
/// weights of the best epoch. [`TrainOptions::epochs`] is then the maximum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping. Default 10.
    pub patience: usize,
    /// An improvement must lower the validation loss by more than this. Default 0.
    pub min_delta: f64,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        EarlyStopping {
            patience: 10,
            min_delta: 0.0,
        }
    }
}

/// The widest hidden layer [`TrainOptions::validate`] accepts: two such layers are about
/// 270 million weights (a gigabyte, three with Adam's state); a wider one is a typo that
/// would otherwise end in a failed allocation.
pub const MAX_WIDTH: usize = 16_384;

/// Training settings. `Default` is the original project's recipe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainOptions {
    /// Passes over the training rows (Keras `epochs`); with early stopping, the maximum.
    /// Default 10.
    pub epochs: usize,
    /// Rows per gradient step (Keras `batch_size`). Default 32.
    pub batch_size: usize,
    /// Adam learning rate (Keras `Adam(learning_rate)`). Default 1e-3.
    pub learning_rate: f64,
    /// Share of each label's rows held out for validation, grouped (see `split`).
    /// 0 trains on everything and reports no validation. Default 0.2.
    pub validation_fraction: f64,
    /// Seed of every random choice. Default 0.
    pub seed: u64,
    /// Early stopping on the validation loss; `None` trains all epochs. Default `None`.
    pub early_stopping: Option<EarlyStopping>,
    /// Networks trained with different seeds whose probabilities are averaged.
    /// Each member is the full architecture. Default 1.
    pub ensemble: usize,
    /// With an ensemble, give each member its own validation split (seeded per member) so
    /// that together they train on every row; the final validation metrics are then
    /// out-of-sample estimates (each row scored by the members that held it out), and the
    /// scaler is fitted on all rows. Default false (one split shared by all members).
    pub split_per_member: bool,
    /// Decoupled weight decay (AdamW) when > 0; plain Adam at 0. Default 0.
    pub weight_decay: f64,
    /// Label smoothing of the training loss (torch `label_smoothing`). Default 0.
    pub label_smoothing: f64,
    /// Hidden layer widths, each at most [`MAX_WIDTH`]. Default `[128, 128]` (the
    /// original).
    pub hidden: Vec<usize>,
    /// Dropout after each hidden layer. Default 0.2 (the original).
    pub dropout: f64,
    /// Signed-log compression of the inputs before standardising them (see
    /// [`crate::scaler`]). Default false (the original standardises raw values).
    pub compress_inputs: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 10,
            batch_size: 32,
            learning_rate: 1e-3,
            validation_fraction: 0.2,
            seed: 0,
            early_stopping: None,
            ensemble: 1,
            split_per_member: false,
            weight_decay: 0.0,
            label_smoothing: 0.0,
            hidden: vec![128, 128],
            dropout: 0.2,
            compress_inputs: false,
        }
    }
}

impl TrainOptions {
    /// Checks every option's range.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, value: String, expected| {
            Err(Error::InvalidOption {
                name,
                value,
                expected,
            })
        };
        if self.epochs == 0 {
            return bad("epochs", self.epochs.to_string(), "at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", self.batch_size.to_string(), "at least 1");
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "learning_rate",
                self.learning_rate.to_string(),
                "a positive number",
            );
        }
        if !(0.0..0.9).contains(&self.validation_fraction) {
            return bad(
                "validation_fraction",
                self.validation_fraction.to_string(),
                "in [0, 0.9)",
            );
        }
        if self.ensemble == 0 {
            return bad("ensemble", self.ensemble.to_string(), "at least 1");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                "weight_decay",
                self.weight_decay.to_string(),
                "a number >= 0",
            );
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return bad(
                "label_smoothing",
                self.label_smoothing.to_string(),
                "in [0, 1)",
            );
        }
        if self.hidden.is_empty() || self.hidden.iter().any(|w| !(1..=MAX_WIDTH).contains(w)) {
            return bad(
                "hidden",
                format!("{:?}", self.hidden),
                "one or more widths from 1 to 16384",
            );
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad("dropout", self.dropout.to_string(), "in [0, 1)");
        }
        if let Some(es) = &self.early_stopping {
            if self.validation_fraction == 0.0 {
                return bad(
                    "early_stopping",
                    format!("patience {}", es.patience),
                    "a validation fraction > 0 to watch",
                );
            }
            if es.patience == 0 {
                return bad("patience", "0".into(), "at least 1");
            }
            if !(es.min_delta.is_finite() && es.min_delta >= 0.0) {
                return bad("min_delta", es.min_delta.to_string(), "a number >= 0");
            }
        }
        Ok(())
    }
}

/// One epoch of one ensemble member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Ensemble member (0-based).
    pub member: usize,
    /// Epoch (1-based).
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: f64,
    pub validation_loss: Option<f64>,
    pub validation_accuracy: Option<f64>,
}

/// The training of one ensemble member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberHistory {
    pub member: usize,
    /// The seed of this member's initialisation, shuffles and dropout.
    pub seed: u64,
    pub epochs: Vec<EpochRecord>,
    /// The epoch whose weights were kept (the last one without early stopping).
    pub best_epoch: usize,
    /// True when early stopping ended training before the maximum.
    pub stopped_early: bool,
}

/// Size of one side of the split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetSize {
    pub rows: usize,
    pub files: usize,
    pub groups: usize,
}

/// How the training rows were split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitSummary {
    pub grouping: Grouping,
    pub train: SetSize,
    pub validation: SetSize,
}

/// Metrics of the final model (the ensemble, best epochs) on one side of the split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SetMetrics {
    /// Mean cross-entropy of the (averaged) probabilities, per row.
    pub loss: f64,
    /// Per-row accuracy.
    pub accuracy: f64,
    /// Per-file accuracy (window probabilities averaged per file).
    pub file_accuracy: f64,
    pub rows: usize,
    pub files: usize,
}

/// Final metrics after training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalMetrics {
    pub train: SetMetrics,
    pub validation: Option<SetMetrics>,
}

/// Everything about how a model was trained, stored in `model.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingRecord {
    pub options: TrainOptions,
    pub split: SplitSummary,
    pub metrics: FinalMetrics,
    pub history: Vec<MemberHistory>,
}

/// Progress reported while training and cross-validating.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Progress {
    /// The validation split is made.
    Split(SplitSummary),
    /// An epoch of a member ended.
    Epoch(EpochRecord),
    /// A member is trained.
    MemberDone(MemberHistory),
    /// Cross-validation starts a fold (0-based).
    FoldStart {
        repeat: usize,
        fold: usize,
        folds: usize,
    },
    /// Cross-validation finished a fold.
    FoldDone(Box<crate::evaluate::FoldResult>),
}

/// Seed streams, so that the split, each member and each CV fold get independent RNGs.
pub(crate) mod stream {
    pub const SPLIT: u64 = 1;
    pub const MEMBER: u64 = 2;
    pub const SHUFFLE: u64 = 3;
    pub const DROPOUT: u64 = 4;
    pub const INIT: u64 = 5;
    pub const FOLDS: u64 = 6;
    pub const FOLD_TRAIN: u64 = 7;
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for `(stream, index)` derived from `seed`.
pub(crate) fn derive_seed(seed: u64, stream: u64, index: u64) -> u64 {
    splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ index)
}

/// Trains a model on every labelled row of `table`.
///
/// Labels are the table's distinct labels, sorted. Groups for the validation split come
/// from `groups` when given, else artists, else files (see [`crate::split`]). `progress`
/// sees the split, every epoch and every finished member.
///
/// Errors: a row without label, fewer than two labels, a label whose rows sit in a single
/// group (it cannot be on both sides of the split), invalid options.
pub fn train(
    table: &FeatureTable,
    options: &TrainOptions,
    groups: Option<&GroupMap>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Model> {
    options.validate()?;
    let labels = table.labels();
    let y: Vec<usize> = table
        .label_indices(&labels)?
        .into_iter()
        .map(|l| l.unwrap_or(0))
        .collect();
    let groups = row_groups(table, groups)?;
    let pool: Vec<usize> = (0..table.n_rows()).collect();
    fit(table, &pool, &labels, &y, &groups, options, progress)
}

/// Training data prepared as tensors.
struct Prepared {
    x: Tensor,
    y: Tensor,
    y_vec: Vec<usize>,
    /// File index of each row, for per-file accuracy.
    file_of: Vec<usize>,
}

impl Prepared {
    fn new(table: &FeatureTable, rows: &[usize], y: &[usize], scaler: &Scaler) -> Result<Self> {
        let d = table.n_features();
        let mut x = Vec::with_capacity(rows.len() * d);
        for &r in rows {
            scaler.transform_into(table.row_values(r), &mut x);
        }
        let x = Tensor::f_from_slice(&x)?.f_view([rows.len() as i64, d as i64])?;
        let y_vec: Vec<usize> = rows.iter().map(|&r| y[r]).collect();
        let y64: Vec<i64> = y_vec.iter().map(|&l| l as i64).collect();
        let mut file_index: HashMap<&str, usize> = HashMap::new();
        let file_of = rows
            .iter()
            .map(|&r| {
                let next = file_index.len();
                *file_index.entry(&table.rows()[r].path).or_insert(next)
            })
            .collect();
        Ok(Prepared {
            x,
            y: Tensor::f_from_slice(&y64)?,
            y_vec,
            file_of,
        })
    }

    fn len(&self) -> usize {
        self.y_vec.len()
    }
}

/// Trains on `pool` (rows of `table`); `y` and `groups` are indexed by table row.
pub(crate) fn fit(
    table: &FeatureTable,
    pool: &[usize],
    labels: &[String],
    y: &[usize],
    groups: &RowGroups,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Model> {
    options.validate()?;
    let present: std::collections::BTreeSet<usize> = pool.iter().map(|&r| y[r]).collect();
    if present.len() < 2 {
        return Err(Error::TooFewLabels {
            found: present.len(),
            labels: present.iter().map(|&l| labels[l].clone()).collect(),
        });
    }
    let split_rows = |m: usize| -> Result<(Vec<usize>, Vec<usize>)> {
        if options.validation_fraction > 0.0 {
            validation_split(
                pool,
                y,
                &groups.group_of_row,
                labels,
                options.validation_fraction,
                derive_seed(options.seed, stream::SPLIT, m as u64),
            )
        } else {
            Ok((pool.to_vec(), Vec::new()))
        }
    };
    let per_member = options.split_per_member && options.validation_fraction > 0.0;
    let n_splits = if per_member { options.ensemble } else { 1 };
    let splits: Vec<(Vec<usize>, Vec<usize>)> =
        (0..n_splits).map(split_rows).collect::<Result<_>>()?;
    let size = |rows: &[usize]| SetSize {
        rows: rows.len(),
        files: rows
            .iter()
            .map(|&r| table.rows()[r].path.as_str())
            .collect::<std::collections::HashSet<_>>()
            .len(),
        groups: rows
            .iter()
            .map(|&r| groups.group_of_row[r])
            .collect::<std::collections::HashSet<_>>()
            .len(),
    };
    // Member 0's split stands for all of them when each member has its own.
    let split = SplitSummary {
        grouping: groups.grouping,
        train: size(&splits[0].0),
        validation: size(&splits[0].1),
    };
    progress(&Progress::Split(split.clone()));

    // One split: the scaler sees its training rows only. One split per member: every
    // row is some member's validation row, so the scaler (which uses no labels) is fitted
    // on all the rows given for training.
    let scaler_rows: &[usize] = if per_member { pool } else { &splits[0].0 };
    let scaler = Scaler::fit(
        table.values(),
        table.n_features(),
        scaler_rows,
        options.compress_inputs,
    );
    let sets: Vec<(Prepared, Option<Prepared>)> = splits
        .iter()
        .map(|(train_rows, val_rows)| {
            let val = if val_rows.is_empty() {
                None
            } else {
                Some(Prepared::new(table, val_rows, y, &scaler)?)
            };
            Ok((Prepared::new(table, train_rows, y, &scaler)?, val))
        })
        .collect::<Result<_>>()?;
    let architecture = Architecture {
        kind: MLP_KIND.to_string(),
        n_features: table.n_features(),
        hidden: options.hidden.clone(),
        dropout: options.dropout,
        n_classes: labels.len(),
    };

    let mut members = Vec::with_capacity(options.ensemble);
    let mut history = Vec::with_capacity(options.ensemble);
    for m in 0..options.ensemble {
        let seed = derive_seed(options.seed, stream::MEMBER, m as u64);
        let (train_set, val_set) = &sets[m.min(sets.len() - 1)];
        let (member, record) = train_member(
            &architecture,
            train_set,
            val_set.as_ref(),
            options,
            m,
            seed,
            progress,
        )?;
        progress(&Progress::MemberDone(record.clone()));
        members.push(member);
        history.push(record);
    }

    let metrics = if per_member {
        // Training: the ensemble on every row. Validation: out-of-sample, each row scored
        // by the members that did not train on it.
        let all = Prepared::new(table, pool, y, &scaler)?;
        let mut sums = vec![vec![0f64; labels.len()]; pool.len()];
        let mut counts = vec![0usize; pool.len()];
        let position: HashMap<usize, usize> =
            pool.iter().enumerate().map(|(i, &r)| (r, i)).collect();
        for (member, (_, val_rows)) in members.iter().zip(&splits) {
            let probs = ensemble_probabilities(std::slice::from_ref(member), &all.x)?;
            let probs = Vec::<Vec<f32>>::try_from(&probs)?;
            for r in val_rows {
                if let Some(&i) = position.get(r) {
                    counts[i] += 1;
                    for (s, &p) in sums[i].iter_mut().zip(&probs[i]) {
                        *s += f64::from(p);
                    }
                }
            }
        }
        let held: Vec<usize> = (0..pool.len()).filter(|&i| counts[i] > 0).collect();
        let oob: Vec<Vec<f32>> = held
            .iter()
            .map(|&i| {
                sums[i]
                    .iter()
                    .map(|s| (s / counts[i] as f64) as f32)
                    .collect()
            })
            .collect();
        let held_rows: Vec<usize> = held.iter().map(|&i| pool[i]).collect();
        let held_set = Prepared::new(table, &held_rows, y, &scaler)?;
        FinalMetrics {
            train: set_metrics(&members, &all)?,
            validation: Some(metrics_from_probabilities(&oob, &held_set)),
        }
    } else {
        let (train_set, val_set) = &sets[0];
        FinalMetrics {
            train: set_metrics(&members, train_set)?,
            validation: match val_set {
                Some(v) => Some(set_metrics(&members, v)?),
                None => None,
            },
        }
    };
    let info = ModelInfo {
        format_version: FORMAT_VERSION,
        labels: labels.to_vec(),
        features: table.layout().clone(),
        feature_settings: serde_json::Value::Null,
        segment_seconds: None,
        scaler,
        architecture,
        ensemble_size: options.ensemble,
        training: TrainingRecord {
            options: options.clone(),
            split,
            metrics,
            history,
        },
    };
    Ok(Model::from_parts(info, members))
}

fn train_member(
    architecture: &Architecture,
    train_set: &Prepared,
    val_set: Option<&Prepared>,
    options: &TrainOptions,
    member: usize,
    seed: u64,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Member, MemberHistory)> {
    let mut init_rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, stream::INIT, 0));
    let mut shuffle_rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, stream::SHUFFLE, 0));
    let mut dropout_rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, stream::DROPOUT, 0));
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let net = Mlp::new(
        &(vs.root() / format!("member{member}")),
        architecture,
        &mut init_rng,
    )?;
    // Keras's Adam epsilon is 1e-7 (torch's 1e-8); the original trained with Keras.
    let mut opt = if options.weight_decay > 0.0 {
        nn::AdamW {
            wd: options.weight_decay,
            eps: 1e-7,
            ..Default::default()
        }
        .build(&vs, options.learning_rate)?
    } else {
        nn::Adam {
            eps: 1e-7,
            ..Default::default()
        }
        .build(&vs, options.learning_rate)?
    };

    let n = train_set.len();
    let mut order: Vec<i64> = (0..n as i64).collect();
    let mut epochs = Vec::new();
    // (validation loss, epoch, weights) of the best epoch so far.
    let mut best: Option<(f64, usize, Snapshot)> = None;
    let mut since_best = 0usize;
    let mut stopped_early = false;
    for epoch in 1..=options.epochs {
        order.shuffle(&mut shuffle_rng);
        for batch in order.chunks(options.batch_size) {
            let idx = Tensor::f_from_slice(batch)?;
            let xb = train_set.x.f_index_select(0, &idx)?;
            let yb = train_set.y.f_index_select(0, &idx)?;
            let logits = net.forward_train(&xb, &mut dropout_rng)?;
            let loss = logits.f_cross_entropy_loss::<Tensor>(
                &yb,
                None,
                Reduction::Mean,
                -100,
                options.label_smoothing,
            )?;
            opt.zero_grad();
            loss.f_backward()?;
            opt.step();
        }
        let (train_loss, train_accuracy) = loss_and_accuracy(&net, train_set)?;
        let (validation_loss, validation_accuracy) = match val_set {
            Some(v) => {
                let (l, a) = loss_and_accuracy(&net, v)?;
                (Some(l), Some(a))
            }
            None => (None, None),
        };
        let record = EpochRecord {
            member,
            epoch,
            train_loss,
            train_accuracy,
            validation_loss,
            validation_accuracy,
        };
        progress(&Progress::Epoch(record.clone()));
        epochs.push(record);

        if let (Some(es), Some(vl)) = (&options.early_stopping, validation_loss) {
            let improved = best
                .as_ref()
                .is_none_or(|(best_loss, _, _)| vl < best_loss - es.min_delta);
            if improved {
                best = Some((vl, epoch, snapshot(&vs)?));
                since_best = 0;
            } else {
                since_best += 1;
                if since_best >= es.patience {
                    stopped_early = epoch < options.epochs;
                    break;
                }
            }
        }
    }
    let best_epoch = match best {
        Some((_, best_epoch, weights)) => {
            restore(&vs, &weights)?;
            best_epoch
        }
        None => epochs.len(),
    };
    Ok((
        Member { vs, net },
        MemberHistory {
            member,
            seed,
            epochs,
            best_epoch,
            stopped_early,
        },
    ))
}

/// Copies of a store's variables, by name.
type Snapshot = Vec<(String, Tensor)>;

fn snapshot(vs: &nn::VarStore) -> Result<Snapshot> {
    let _guard = tch::no_grad_guard();
    vs.variables()
        .into_iter()
        .map(|(name, t)| Ok((name, t.f_detach_copy()?)))
        .collect()
}

fn restore(vs: &nn::VarStore, weights: &Snapshot) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let vars = vs.variables();
    for (name, saved) in weights {
        if let Some(var) = vars.get(name) {
            let mut var = var.shallow_clone();
            var.f_copy_(saved)?;
        }
    }
    Ok(())
}

/// Mean cross-entropy and accuracy of one network, inference mode.
fn loss_and_accuracy(net: &Mlp, set: &Prepared) -> Result<(f64, f64)> {
    let _guard = tch::no_grad_guard();
    let logits = net.forward(&set.x)?;
    let loss = logits
        .f_cross_entropy_loss::<Tensor>(&set.y, None, Reduction::Mean, -100, 0.0)?
        .f_double_value(&[])?;
    let correct = logits
        .f_argmax(-1, false)?
        .f_eq_tensor(&set.y)?
        .f_sum(Kind::Float)?
        .f_double_value(&[])?;
    Ok((loss, correct / set.len().max(1) as f64))
}

/// Averaged softmax of the members, `[n, n_classes]`.
pub(crate) fn ensemble_probabilities(members: &[Member], x: &Tensor) -> Result<Tensor> {
    let _guard = tch::no_grad_guard();
    let mut sum: Option<Tensor> = None;
    for m in members {
        let p = m.net.forward(x)?.f_softmax(-1, Kind::Float)?;
        sum = Some(match sum {
            None => p,
            Some(s) => s.f_add(&p)?,
        });
    }
    match sum {
        Some(s) => Ok(s.f_div_scalar(members.len() as f64)?),
        None => Ok(Tensor::f_zeros([0], (Kind::Float, tch::Device::Cpu))?),
    }
}

fn set_metrics(members: &[Member], set: &Prepared) -> Result<SetMetrics> {
    let probs = ensemble_probabilities(members, &set.x)?;
    let probs: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(&probs)?;
    Ok(metrics_from_probabilities(&probs, set))
}

/// Loss and accuracies of `probs`, one row per row of `set`.
fn metrics_from_probabilities(probs: &[Vec<f32>], set: &Prepared) -> SetMetrics {
    let mut loss = 0.0;
    let mut correct = 0usize;
    for (p, &y) in probs.iter().zip(&set.y_vec) {
        loss -= f64::from(p[y].max(1e-12)).ln();
        correct += usize::from(argmax(p) == y);
    }
    let n = set.len().max(1) as f64;
    let (file_acc, files) = file_accuracy(probs, &set.y_vec, &set.file_of);
    SetMetrics {
        loss: loss / n,
        accuracy: correct as f64 / n,
        file_accuracy: file_acc,
        rows: set.len(),
        files,
    }
}
