//! The genre MLP in libtorch: training, evaluation and model files.
//!
//! The crate knows nothing of audio: it reads feature tables (CSV, see [`table`]) whose
//! layout — ordered feature names plus a version — reaches it as data, trains the original
//! project's network on them ([`train()`]), stores models as a folder of
//! `model.safetensors` + `model.json` ([`Model`]), predicts per row and per file, and
//! evaluates (metrics, grouped cross-validation with a logistic regression baseline,
//! PNG plots).
//!
//! ```no_run
//! use musicgenre_model::{train, FeatureTable, Model, TrainOptions};
//! # fn main() -> musicgenre_model::Result<()> {
//! let table = FeatureTable::read("features.csv")?;
//! let mut model = train(&table, &TrainOptions::default(), None, &mut |p| {
//!     if let musicgenre_model::Progress::Epoch(e) = p {
//!         let _ = (e.epoch, e.train_loss, e.validation_loss);
//!     }
//! })?;
//! model.set_segment_seconds(None);
//! model.save("model")?;
//! let model = Model::load("model")?;
//! let decisions = model.predict_table(&table)?;
//! # let _ = decisions; Ok(()) }
//! ```
//!
//! Choosing training defaults: [`cross_validate`] scores one [`TrainOptions`] configuration
//! on artist-grouped folds, with a logistic regression baseline on the same folds; the
//! `evaluate --cv` command and `just cv-sweep` run it.
//!
//! # Determinism
//!
//! Every random choice is drawn from seeded ChaCha8 streams (never libtorch's global
//! generator), so the same table, options and seed give bit-identical weights on one
//! machine, whatever else runs in the process. libtorch's CPU kernels gave the same bits
//! with one or two intra-op threads, in separate processes, and when several trainings ran
//! in parallel threads (the `determinism` integration tests check the thread cases); the
//! thread count only changes speed, see [`set_torch_threads`]. Other CPUs or libtorch
//! builds may round differently: reproducibility is promised per machine.

pub mod error;
pub mod evaluate;
pub mod layout;
pub mod linear;
pub mod metrics;
pub mod model;
pub mod net;
pub mod plot;
pub mod predict;
pub mod scaler;
pub mod split;
pub mod table;
pub mod train;

pub use error::{Error, Result};
pub use evaluate::{cross_validate, evaluate, CvOptions, CvReport, Evaluation};
pub use layout::{Layout, LayoutDifference};
pub use linear::{LogRegOptions, LogisticRegression};
pub use metrics::{ConfusionMatrix, Report};
pub use model::{Model, ModelInfo};
pub use net::Architecture;
pub use predict::{average_probabilities, FilePrediction, TablePrediction};
pub use split::Grouping;
pub use table::{FeatureTable, GroupMap, RowInfo};
pub use train::{train, EarlyStopping, EpochRecord, MemberHistory, Progress, TrainOptions};

/// Sets libtorch's intra-op thread count for the whole process (`tch::set_num_threads`).
///
/// This crate's tensors are small (a 518→128→128→k network, batches of 32): on two shared
/// cores one thread trained 10–40× faster than two, with bit-identical results. The
/// binaries should call `set_torch_threads(1)` unless measured otherwise; the library
/// itself never changes the setting.
pub fn set_torch_threads(n: usize) {
    tch::set_num_threads(i32::try_from(n.max(1)).unwrap_or(i32::MAX));
}

#[cfg(test)]
mod tests {
    #[test]
    fn libtorch_loads() {
        let t = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0]);
        assert_eq!(t.sum(tch::Kind::Float).double_value(&[]), 6.0);
    }
}
