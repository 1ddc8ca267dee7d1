//! What the model binaries (train, classify, evaluate) share: training options on the
//! command line, the bundled model, the feature layout as the model crate sees it, exit
//! codes. Kept out of the root library so that `features` does not link libtorch.

use anyhow::{Context, Result};
use musicgenre_model::{EarlyStopping, GroupMap, Layout, Model, TrainOptions};
use std::path::{Path, PathBuf};

/// Exit status of a run that could not do its job at all: bad arguments or option
/// values, an unusable model; for `features` and `evaluate` also an unusable table
/// (`train` exits 1 for a table it cannot read or train on, see its doc).
pub const EXIT_USAGE: u8 = 2;
/// Exit status when some inputs failed and the others were done.
pub const EXIT_SOME_FAILED: u8 = 1;

/// The bundled default model (`assets/model`), compiled into the binaries so that
/// `classify song.mp3` works from any folder.
const DEFAULT_MODEL_JSON: &[u8] = include_bytes!("../../../assets/model/model.json");
const DEFAULT_MODEL_WEIGHTS: &[u8] = include_bytes!("../../../assets/model/model.safetensors");

/// The model in `dir`, or the bundled default model when `dir` is `None`; either way
/// checked against the features this build computes.
pub fn load_model(dir: Option<&Path>) -> Result<Model> {
    let model = match dir {
        Some(dir) => Model::load(dir)?,
        None => Model::from_bytes(DEFAULT_MODEL_JSON, DEFAULT_MODEL_WEIGHTS)
            .context("the bundled model is damaged")?,
    };
    model
        .check_layout(&feature_layout())
        .map_err(|e| match dir {
            Some(dir) => naming(dir, e),
            None => e.into(),
        })?;
    Ok(model)
}

/// `e`, with `file` in front when its message names no file: the model crate reports
/// what is wrong with a table's labels or layout, or a model's layout, without knowing
/// where they came from. Errors that already name their file are left alone.
pub fn naming(file: &Path, e: musicgenre_model::Error) -> anyhow::Error {
    use musicgenre_model::Error as E;
    match e {
        E::TooFewLabels { .. }
        | E::LabelTooFewGroups { .. }
        | E::FoldTooFewGroups { .. }
        | E::CannotStratify { .. }
        | E::UnknownLabels { .. }
        | E::LayoutMismatch { .. } => anyhow::Error::new(e).context(file.display().to_string()),
        e => e.into(),
    }
}

/// True when `e` is a bad option value (`--epochs 0`): a usage error, exit 2.
pub fn is_invalid_option(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<musicgenre_model::Error>(),
        Some(musicgenre_model::Error::InvalidOption { .. })
    )
}

/// The layout of the features this build computes, as the model crate compares it.
pub fn feature_layout() -> Layout {
    Layout::new(
        Some(musicgenre_features::LAYOUT_VERSION),
        musicgenre_features::feature_names(),
    )
}

/// The `settings` object of a table's layout file (`TABLE.layout.json`), if any.
pub fn table_settings(table: &Path) -> Option<serde_json::Value> {
    let path = musicgenre_model::table::layout_sidecar_path(table);
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("settings").cloned()
}

/// Training options on the command line (shared by `train` and `evaluate --cv`).
///
/// Defaults: the original project's network and optimiser (Adam, lr 1e-3, batch 32,
/// 10 epochs, 20% validation split), plus what made it generalise better on emotify-dev,
/// measured with artist-grouped `evaluate --cv` (README, "Accuracy"): an ensemble of
/// seeds whose probabilities are averaged and signed-log compressed inputs. Early
/// stopping is available (`--patience`) but off by default: it scored lower there.
#[derive(clap::Args, Debug, Clone)]
pub struct TrainArgs {
    /// Passes over the training rows (the maximum, with early stopping).
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,

    /// Rows per gradient step.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,

    /// Adam learning rate.
    #[arg(long = "lr", value_name = "RATE", default_value_t = 1e-3)]
    pub learning_rate: f64,

    /// Share of the training files held out for validation (grouped by artist).
    #[arg(long = "validation", value_name = "FRACTION", default_value_t = 0.2)]
    pub validation_fraction: f64,

    /// Seed of every random choice (split, initial weights, shuffles, dropout).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Stop after this many epochs without a lower validation loss and keep the best
    /// epoch's weights; 0 trains every epoch.
    #[arg(long, value_name = "EPOCHS", default_value_t = 0)]
    pub patience: usize,

    /// Networks trained with different seeds; their probabilities are averaged.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub ensemble: usize,

    /// Feed the network raw standardised statistics, without the signed-log compression
    /// (sign(x)·ln(1+|x|)) applied before standardising by default.
    #[arg(long)]
    pub no_compress: bool,

    /// Widths of the hidden layers, comma-separated (the original: 128,128).
    #[arg(
        long,
        value_name = "W,W,...",
        value_delimiter = ',',
        default_value = "128,128"
    )]
    pub hidden: Vec<usize>,

    /// Dropout after each hidden layer (the original: 0.2).
    #[arg(long, value_name = "P", default_value_t = 0.2)]
    pub dropout: f64,

    /// Decoupled weight decay (AdamW) when > 0; 0 is the original's plain Adam.
    #[arg(long, value_name = "W", default_value_t = 0.0)]
    pub weight_decay: f64,

    /// Label smoothing of the training loss (0 to 1; 0 is the original's plain
    /// cross-entropy).
    #[arg(long, value_name = "EPS", default_value_t = 0.0)]
    pub label_smoothing: f64,

    /// Give each ensemble member its own validation split, so that together they train on
    /// every file (default: one split shared by all members).
    #[arg(long)]
    pub split_per_member: bool,

    /// CSV with `path,group` columns: files of one group stay on one side of every split
    /// (default: the table's `artist` column, or each file on its own).
    #[arg(long, value_name = "FILE.csv")]
    pub groups: Option<PathBuf>,
}

impl TrainArgs {
    /// The model crate's options.
    pub fn options(&self) -> TrainOptions {
        TrainOptions {
            epochs: self.epochs,
            batch_size: self.batch_size,
            learning_rate: self.learning_rate,
            validation_fraction: self.validation_fraction,
            seed: self.seed,
            // With `--validation 0` there is nothing to watch: the options' check says so.
            early_stopping: (self.patience > 0).then(|| EarlyStopping {
                patience: self.patience,
                ..Default::default()
            }),
            ensemble: self.ensemble,
            split_per_member: self.split_per_member,
            weight_decay: self.weight_decay,
            label_smoothing: self.label_smoothing,
            hidden: self.hidden.clone(),
            dropout: self.dropout,
            compress_inputs: !self.no_compress,
        }
    }

    /// The `--groups` file, read.
    pub fn group_map(&self) -> Result<Option<GroupMap>> {
        self.groups
            .as_deref()
            .map(GroupMap::read)
            .transpose()
            .map_err(Into::into)
    }
}

/// A share as a whole percentage ("87%").
pub fn percent(p: f64) -> String {
    format!("{:.0}%", 100.0 * p)
}

/// Seconds as m:ss.s ("1:02.5").
pub fn clock(seconds: f64) -> String {
    let m = (seconds / 60.0).floor();
    format!("{}:{:04.1}", m as u64, seconds - 60.0 * m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_model_loads_and_matches_this_build() {
        let model = load_model(None).unwrap();
        assert!(model.labels().len() >= 2);
    }

    #[test]
    fn clock_and_percent_read_well() {
        assert_eq!(clock(62.5), "1:02.5");
        assert_eq!(clock(3.0), "0:03.0");
        assert_eq!(percent(0.874), "87%");
    }
}
