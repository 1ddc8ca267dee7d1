//! `train FEATURES.csv -o MODEL_DIR`: trains the genre MLP on a feature table.

use anyhow::{Context, Result};
use clap::Parser;
use musicgenre::StdoutLines;
use musicgenre_cli::{self as cli, TrainArgs};
use musicgenre_model::{plot, train, FeatureTable, Progress};
use std::path::PathBuf;
use std::process::ExitCode;

/// Train the genre classifier (the original project's MLP: 518 -> 128 -> 128 -> genres,
/// ReLU, dropout 0.2) on a feature table written by `features`.
///
/// Labels are the table's `label` column (the genre folders). Per epoch it prints the
/// loss and accuracy on the training rows and on a validation split that keeps each
/// artist on one side. Writes MODEL_DIR/model.safetensors, model.json and training.png.
///
/// Exit status: 0 trained, 1 the table cannot be read or trained on, 2 usage error (bad
/// arguments or option values).
#[derive(Parser, Debug)]
#[command(
    name = "train",
    version,
    about = "Train the genre MLP on a feature table and write the model folder"
)]
struct Args {
    /// The feature table (from `features`).
    table: PathBuf,

    /// Folder to write the model to (created if needed).
    #[arg(short, long, value_name = "MODEL_DIR", default_value = "model")]
    output: PathBuf,

    #[command(flatten)]
    train: TrainArgs,

    /// Only the final summary.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = match musicgenre::parse_args::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("train: {}", musicgenre::one_line(&format!("{e:#}")));
            ExitCode::from(if cli::is_invalid_option(&e) {
                cli::EXIT_USAGE
            } else {
                1
            })
        }
    }
}

fn run(args: &Args) -> Result<()> {
    musicgenre_model::set_torch_threads(1);
    let table = FeatureTable::read(&args.table)?;
    // Any table trains, but only one of this build's layout makes a model that classify
    // and evaluate accept: say so now rather than when the model is refused.
    if let Some(difference) = cli::feature_layout().difference(table.layout()) {
        eprintln!(
            "train: warning: {}: {difference}; classify and evaluate will refuse the model",
            musicgenre::one_line(&args.table.display().to_string())
        );
    }
    let groups = args.train.group_map()?;
    let options = args.train.options();
    // Bad options and an unusable output folder are reported before any training.
    options.validate()?;
    musicgenre::check_output_path(&args.output, true)?;
    let ensemble = options.ensemble;
    let quiet = args.quiet;
    let mut header_done = false;
    let mut out = StdoutLines::default();
    let mut on_progress = |p: &Progress| {
        if quiet {
            return;
        }
        match p {
            Progress::Split(s) => out.line(format_args!(
                "split by {}: {} files ({} rows) for training, {} files ({} rows) for validation",
                s.grouping, s.train.files, s.train.rows, s.validation.files, s.validation.rows
            )),
            Progress::Epoch(e) => {
                if !header_done {
                    out.line(format_args!(
                        "{:>6} {:>5}  {:>10} {:>9}  {:>8} {:>7}",
                        "member", "epoch", "train loss", "train acc", "val loss", "val acc"
                    ));
                    header_done = true;
                }
                let val = |v: Option<f64>, w: usize| {
                    v.map_or(format!("{:>w$}", "-"), |v| format!("{v:>w$.4}"))
                };
                out.line(format_args!(
                    "{:>6} {:>5}  {:>10.4} {:>9.4}  {} {}",
                    format!("{}/{}", e.member + 1, ensemble),
                    e.epoch,
                    e.train_loss,
                    e.train_accuracy,
                    val(e.validation_loss, 8),
                    val(e.validation_accuracy, 7)
                ));
            }
            Progress::MemberDone(h) if h.stopped_early => out.line(format_args!(
                "member {}: stopped early, keeping epoch {}",
                h.member + 1,
                h.best_epoch
            )),
            _ => {}
        }
    };
    let mut model = train(&table, &options, groups.as_ref(), &mut on_progress)
        .map_err(|e| cli::naming(&args.table, e))?;

    let settings = cli::table_settings(&args.table);
    let segment = match &settings {
        Some(s) => s.get("segment_s").and_then(|v| v.as_f64()),
        // A window table copied without its layout file: its windows say their length.
        None => window_length(&table).inspect(|s| {
            eprintln!(
                "train: warning: {} has no layout file; the window length {s} s is taken \
                 from its rows",
                musicgenre::one_line(&args.table.display().to_string())
            )
        }),
    };
    model.set_segment_seconds(segment);
    if let Some(settings) = settings {
        model.set_feature_settings(settings);
    }
    model.save(&args.output)?;
    let plot_path = args.output.join("training.png");
    plot::write_training_curves_png(&model.info().training.history, &plot_path)
        .with_context(|| format!("cannot draw {}", plot_path.display()))?;

    let m = &model.info().training.metrics;
    // Windows and files differ only when the table has several rows per file.
    let accuracy = |rows: f64, files: f64| match segment {
        Some(_) => format!(
            "{} per window, {} per file",
            cli::percent(rows),
            cli::percent(files)
        ),
        None => cli::percent(files),
    };
    let mut summary = format!(
        "train: {} genres ({}); training accuracy {}",
        model.labels().len(),
        model.labels().join(", "),
        accuracy(m.train.accuracy, m.train.file_accuracy),
    );
    if let Some(v) = &m.validation {
        summary += &format!(
            "; validation accuracy {} ({} files), loss {:.4}",
            accuracy(v.accuracy, v.file_accuracy),
            v.files,
            v.loss
        );
    }
    out.line(summary);
    out.line(format_args!(
        "train: model written to {}",
        args.output.display()
    ));
    out.finish()
}

/// The window length of a table whose files have several rows: the `duration_s` most of
/// those rows share (all but a file's whole-file row when it was shorter than a window).
/// `None` for a table of one row per file.
fn window_length(table: &FeatureTable) -> Option<f64> {
    let mut counts: std::collections::BTreeMap<u64, usize> = Default::default();
    for file in table.files().iter().filter(|f| f.rows.len() > 1) {
        for &r in &file.rows {
            *counts
                .entry(table.rows()[r].duration_s.to_bits())
                .or_default() += 1;
        }
    }
    let (bits, _) = counts.into_iter().max_by_key(|&(_, n)| n)?;
    Some(f64::from_bits(bits))
}
