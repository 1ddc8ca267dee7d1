//! Cross-validates one training configuration on a feature table, for choosing defaults.
//!
//! ```sh
//! cargo run -p musicgenre-model --example cv -- features.csv folds=5 repeats=2 \
//!     epochs=200 patience=10 ensemble=5 val=0.2
//! ```
//!
//! Keys: folds, repeats, seed, epochs, batch, lr, val, patience (enables early stopping),
//! ensemble, per_member (1: a validation split per member), wd (weight decay), ls (label
//! smoothing), dropout, compress (1: signed-log inputs), baseline (0 to skip),
//! json (path for the full report). Prints one summary line per model.

use std::process::ExitCode;

use musicgenre_model::{
    cross_validate, set_torch_threads, CvOptions, EarlyStopping, FeatureTable, Progress,
};

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let table_path = args.next().ok_or("usage: cv TABLE.csv [key=value ...]")?;
    let mut options = CvOptions::default();
    let mut json = None;
    for arg in args {
        let (key, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("`{arg}`: expected key=value"))?;
        let num = |v: &str| v.parse::<f64>().map_err(|e| format!("{key}: {e}"));
        match key {
            "folds" => options.folds = num(value)? as usize,
            "repeats" => options.repeats = num(value)? as usize,
            "seed" => options.seed = num(value)? as u64,
            "epochs" => options.train.epochs = num(value)? as usize,
            "batch" => options.train.batch_size = num(value)? as usize,
            "lr" => options.train.learning_rate = num(value)?,
            "val" => options.train.validation_fraction = num(value)?,
            "patience" => {
                options.train.early_stopping = Some(EarlyStopping {
                    patience: num(value)? as usize,
                    ..EarlyStopping::default()
                })
            }
            "ensemble" => options.train.ensemble = num(value)? as usize,
            "per_member" => options.train.split_per_member = value == "1",
            "wd" => options.train.weight_decay = num(value)?,
            "ls" => options.train.label_smoothing = num(value)?,
            "dropout" => options.train.dropout = num(value)?,
            "compress" => options.train.compress_inputs = value == "1",
            "baseline" if value == "0" => options.baseline = None,
            "baseline" => {}
            "json" => json = Some(value.to_string()),
            _ => return Err(format!("unknown key `{key}`")),
        }
    }
    set_torch_threads(1);
    let table = FeatureTable::read(&table_path).map_err(|e| e.to_string())?;
    let start = std::time::Instant::now();
    let report = cross_validate(&table, &options, None, &mut |p| {
        if let Progress::FoldDone(f) = p {
            eprintln!(
                "repeat {} fold {}: mlp {:.3}{} (epochs {:?})",
                f.repeat,
                f.fold,
                f.mlp.accuracy,
                f.baseline
                    .as_ref()
                    .map(|b| format!(", logreg {:.3}", b.accuracy))
                    .unwrap_or_default(),
                f.best_epochs
            );
        }
    })
    .map_err(|e| e.to_string())?;
    let line = |name: &str, s: &musicgenre_model::evaluate::CvSummary| {
        println!(
            "{name:<7} accuracy {:.3} ± {:.3}  balanced {:.3}  macro-F1 {:.3}{}",
            s.accuracy.mean,
            s.accuracy.std,
            s.balanced_accuracy.mean,
            s.macro_f1.mean,
            s.window_accuracy
                .as_ref()
                .map(|w| format!("  windows {:.3}", w.mean))
                .unwrap_or_default()
        )
    };
    println!(
        "{table_path}: {} rows, {} groups ({:?}), {} folds × {} repeats, {:.0} s",
        table.n_rows(),
        report.n_groups,
        report.grouping,
        options.folds,
        options.repeats,
        start.elapsed().as_secs_f64()
    );
    line("mlp", &report.mlp);
    if let Some(b) = &report.baseline {
        line("logreg", b);
    }
    if let Some(path) = json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cv: {e}");
            ExitCode::FAILURE
        }
    }
}
