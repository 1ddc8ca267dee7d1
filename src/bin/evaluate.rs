//! `evaluate --model DIR FEATURES.csv` and `evaluate --cv K FEATURES.csv`: accuracy,
//! per-class metrics and the confusion matrix of a model, or of the training procedure.

use anyhow::{bail, Context, Result};
use clap::Parser;
use musicgenre::StdoutLines;
use musicgenre_cli::{self as cli, percent, TrainArgs};
use musicgenre_model::{
    cross_validate, evaluate, plot, CvOptions, CvReport, Evaluation, FeatureTable, Progress,
};
use std::path::PathBuf;
use std::process::ExitCode;

/// Evaluate a genre model on a labelled feature table (--model), or cross-validate the
/// training procedure on it (--cv K).
///
/// Decisions are per file: the probabilities of a file's windows are averaged, as
/// `classify` does. --cv folds are stratified by label and grouped by artist (or
/// --groups), so no artist is on both sides; a logistic regression baseline is trained
/// on the same folds.
///
/// Exit status: 0 evaluated, 2 nothing could be evaluated (bad arguments or option values,
/// a table or model that cannot be read or does not match).
#[derive(Parser, Debug)]
#[command(
    name = "evaluate",
    version,
    about = "Accuracy, per-class metrics and confusion matrix of a model on a labelled feature table, or cross-validation of training"
)]
struct Args {
    /// A labelled feature table (from `features`).
    table: PathBuf,

    /// Evaluate this model folder (from `train`); "default" is the bundled model.
    #[arg(
        short,
        long,
        value_name = "DIR",
        conflicts_with = "cv",
        required_unless_present = "cv"
    )]
    model: Option<PathBuf>,

    /// Cross-validate the training procedure with K folds instead.
    #[arg(long, value_name = "K")]
    cv: Option<usize>,

    /// With --cv: repeat with R different fold assignments and seeds.
    #[arg(long, value_name = "R", default_value_t = 1, requires = "cv")]
    repeats: usize,

    /// With --cv: skip the logistic regression baseline.
    #[arg(long, requires = "cv")]
    no_baseline: bool,

    #[command(flatten)]
    train: TrainArgs,

    /// Write the full report as JSON.
    #[arg(long, value_name = "REPORT.json")]
    json: Option<PathBuf>,

    /// Draw the confusion matrix (counts and row shares) as a PNG.
    #[arg(long, value_name = "CONFUSION.png")]
    plot: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = match musicgenre::parse_args::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("evaluate: {}", musicgenre::one_line(&format!("{e:#}")));
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}

fn run(args: &Args) -> Result<()> {
    musicgenre_model::set_torch_threads(1);
    let table = FeatureTable::read(&args.table)?;
    if table.n_rows() == 0 {
        bail!("{} has no rows to evaluate", args.table.display());
    }
    // An output path that cannot be written is reported before the evaluation.
    for path in [&args.json, &args.plot].into_iter().flatten() {
        musicgenre::check_output_path(path, false)?;
    }
    let mut out = StdoutLines::default();
    let json = match args.cv {
        Some(k) => {
            let report = run_cv(args, &table, k, &mut out)?;
            serde_json::to_value(&report)?
        }
        None => {
            let model = match args.model.as_deref() {
                Some(p) if p.as_os_str() == "default" => cli::load_model(None)?,
                other => cli::load_model(other)?,
            };
            let eval = evaluate(&model, &table).map_err(|e| cli::naming(&args.table, e))?;
            print_evaluation(&eval, &mut out);
            if let Some(png) = &args.plot {
                let title = format!("{} on {}", model_name(args), file_name(&args.table));
                plot::write_confusion_png(&eval.files.confusion, &title, png)
                    .with_context(|| format!("cannot draw {}", png.display()))?;
            }
            serde_json::json!({
                "table": args.table,
                "model": model_name(args),
                "files": eval.files,
                "windows": eval.windows,
                "predictions": eval.predictions,
            })
        }
    };
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&json)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    out.finish()
}

fn run_cv(args: &Args, table: &FeatureTable, k: usize, out: &mut StdoutLines) -> Result<CvReport> {
    let options = CvOptions {
        folds: k,
        repeats: args.repeats,
        seed: args.train.seed,
        train: args.train.options(),
        baseline: if args.no_baseline {
            None
        } else {
            CvOptions::default().baseline
        },
    };
    let groups = args.train.group_map()?;
    let mut on_progress = |p: &Progress| {
        if let Progress::FoldDone(f) = p {
            let base = f
                .baseline
                .as_ref()
                .map(|b| format!(", baseline {}", percent(b.accuracy)))
                .unwrap_or_default();
            eprintln!(
                "evaluate: repeat {} fold {}: {} test files, accuracy {}{base}",
                f.repeat + 1,
                f.fold + 1,
                f.test_files.len(),
                percent(f.mlp.accuracy)
            );
        }
    };
    let report = cross_validate(table, &options, groups.as_ref(), &mut on_progress)
        .map_err(|e| cli::naming(&args.table, e))?;
    out.line(format_args!(
        "{}-fold cross-validation x {} repeat(s), grouped by {} ({} groups), per-file decisions",
        k, args.repeats, report.grouping, report.n_groups
    ));
    out.line("");
    out.line(format_args!(
        "{:<22} {:>9} {:>9} {:>9}   per fold",
        "", "accuracy", "balanced", "macro F1"
    ));
    let line = |out: &mut StdoutLines, name: &str, s: &musicgenre_model::evaluate::CvSummary| {
        let folds: Vec<String> = s
            .accuracy
            .values
            .iter()
            .map(|v| format!("{v:.3}"))
            .collect();
        out.line(format_args!(
            "{:<22} {:>9} {:>9} {:>9}   {}",
            name,
            format!("{:.3}±{:.3}", s.accuracy.mean, s.accuracy.std),
            format!("{:.3}", s.balanced_accuracy.mean),
            format!("{:.3}", s.macro_f1.mean),
            folds.join(" ")
        ));
    };
    line(out, "MLP (training recipe)", &report.mlp);
    if let Some(b) = &report.baseline {
        line(out, "logistic regression", b);
    }
    if let Some(w) = &report.mlp.window_accuracy {
        out.line(format_args!(
            "MLP per-window accuracy: {:.3}±{:.3}",
            w.mean, w.std
        ));
    }
    out.line("");
    out.line("Pooled over all folds (MLP):");
    out.write(report.mlp.pooled.render_text());
    if let Some(png) = &args.plot {
        let title = format!("{k}-fold CV on {}", file_name(&args.table));
        plot::write_confusion_png(&report.mlp.pooled.confusion, &title, png)
            .with_context(|| format!("cannot draw {}", png.display()))?;
    }
    Ok(report)
}

fn print_evaluation(eval: &Evaluation, out: &mut StdoutLines) {
    out.line(format_args!(
        "Per file ({} files; windows averaged as classify does):",
        eval.predictions.len()
    ));
    out.write(eval.files.render_text());
    if let Some(w) = &eval.windows {
        out.line("");
        out.line(format_args!(
            "Per window: accuracy {:.3}, balanced accuracy {:.3} ({} windows)",
            w.accuracy,
            w.balanced_accuracy,
            w.confusion.total()
        ));
    }
}

fn model_name(args: &Args) -> String {
    match &args.model {
        Some(p) if p.as_os_str() != "default" => p.display().to_string(),
        _ => "the bundled model".into(),
    }
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
