//! `classify FILE_OR_FOLDER...`: prints the genre of each audio file.

use anyhow::{Context, Result};
use clap::Parser;
use musicgenre::inputs::{self, describe_io};
use musicgenre::parallel::{self, Outcome};
use musicgenre::progress::Progress;
use musicgenre_cli::{self as cli, clock, percent};
use musicgenre_features::{ExtractOptions, Extractor, FileFeatures, Segments};
use musicgenre_model::{average_probabilities, Model};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// Print the genre of each audio file (MP3, FLAC, Ogg Vorbis, WAV, AIFF, M4A).
///
/// Folders are walked recursively in sorted order, as `features` walks them; files are
/// printed in the order given, each as soon as it and the ones before it are done. With
/// the output redirected, a progress bar is shown on stderr when it is a terminal.
///
/// A song is cut into windows of the length the model was trained on; each window is
/// classified and their probabilities averaged. Uses the bundled model (4 genres:
/// classical, electronic, pop, rock) unless --model is given.
///
/// Exit status: 0 all files classified, 1 some failed (the others are printed), 2 usage
/// error or unusable model.
#[derive(Parser, Debug)]
#[command(
    name = "classify",
    version,
    about = "Print the genre of each audio file (bundled model, or --model DIR)"
)]
struct Args {
    /// Audio files and/or folders (walked recursively).
    #[arg(required = true, value_name = "FILE_OR_FOLDER")]
    files: Vec<PathBuf>,

    /// Model folder (from `train`); default: the bundled model.
    #[arg(short, long, value_name = "DIR")]
    model: Option<PathBuf>,

    /// Also print the K most likely genres with their probabilities.
    #[arg(long, value_name = "K")]
    top: Option<usize>,

    /// Print JSON Lines: {"path", "genre", "confidence", "probabilities"} or
    /// {"path", "error"} per file.
    #[arg(long)]
    json: bool,

    /// Also print each window's genre with its start and end time.
    #[arg(long)]
    segments: bool,

    /// Parallel workers (default: all cores); idle ones help with the windows of files in
    /// progress.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(..=1024))]
    jobs: Option<u16>,
}

fn main() -> ExitCode {
    parallel::quiet_panics("classify");
    let args = match musicgenre::parse_args::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("classify: {}", musicgenre::one_line(&format!("{e:#}")));
            ExitCode::from(cli::EXIT_USAGE)
        }
    }
}

/// One file's decision.
struct Decision {
    probabilities: Vec<f32>,
    windows: Vec<(f64, f64, Vec<f32>)>,
}

fn run(args: &Args) -> Result<ExitCode> {
    musicgenre_features::simd::requested().map_err(anyhow::Error::msg)?;
    musicgenre_model::set_torch_threads(1);
    let model = cli::load_model(args.model.as_deref())?;
    if args.top == Some(0) {
        anyhow::bail!("--top must be at least 1");
    }
    // Windows of the training segment length, without overlap; the whole file when the
    // model was trained on whole files or the file is shorter than one window.
    let segments = match model.info().segment_seconds {
        Some(s) => Some(Segments::new(s, s).with_context(|| {
            let model = args
                .model
                .as_deref()
                .map_or("the bundled model".into(), |d| {
                    d.join("model.json").display().to_string()
                });
            format!("{model}: segment_seconds")
        })?),
        None => None,
    };
    let extractor = Extractor::new(ExtractOptions { segments })?;
    let jobs = args
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let items = expand(&args.files);
    let stop = AtomicBool::new(false);
    let hook = musicgenre::test_hook::PanicHook::from_env();
    let stdout = std::io::stdout();
    // A bar only where it cannot get mixed with the genres: output to a file or a pipe.
    let progress = Progress::new(items.len() as u64, stdout.is_terminal());
    let mut failed = 0usize;
    parallel::ordered_map(
        &items,
        jobs,
        &stop,
        || extractor.scratch(),
        |item, scratch| match item {
            Item::File(path) => {
                hook.check(path);
                analyse(&extractor, path, scratch)
            }
            Item::Failed(_, message) => Err(message.clone()),
        },
        |i, outcome| -> Result<()> {
            progress.inc();
            let path = items[i].path();
            let result = match outcome {
                Outcome::Done(Ok(features)) => decide(&model, features),
                Outcome::Done(Err(message)) => Err(message),
                Outcome::Panicked(msg) => Err(format!("internal error: {msg}")),
            };
            let mut out = stdout.lock();
            match result {
                Ok(decision) => print_decision(&mut out, args, &model, path, &decision),
                Err(message) => {
                    failed += 1;
                    if args.json {
                        let line =
                            serde_json::json!({"path": path.to_string_lossy(), "error": message});
                        writeln!(out, "{line}")
                    } else {
                        let line = format!("{}: {message}", path.display());
                        progress.println(&format!("classify: {}", musicgenre::one_line(&line)));
                        Ok(())
                    }
                }
            }
            .or_else(|e| ignore_broken_pipe(e, failed))
        },
    )?;
    progress.finish();
    Ok(if failed > 0 {
        ExitCode::from(cli::EXIT_SOME_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}

/// One thing to print a line for: a file to classify, or something the folder walk
/// could not list (an unreadable folder, a missing path, a folder without audio files).
enum Item {
    File(PathBuf),
    Failed(PathBuf, String),
}

impl Item {
    fn path(&self) -> &Path {
        match self {
            Item::File(path) | Item::Failed(path, _) => path,
        }
    }
}

/// The command line's files and folders, in the order given; each folder's audio files
/// (walked as `features` walks them) and its walk errors in its place.
fn expand(args: &[PathBuf]) -> Vec<Item> {
    let mut items = Vec::new();
    for arg in args {
        if !arg.is_dir() {
            items.push(Item::File(arg.clone()));
            continue;
        }
        let (found, errors) = inputs::collect(std::slice::from_ref(arg));
        if found.is_empty() && errors.is_empty() {
            items.push(Item::Failed(
                arg.clone(),
                "no audio files in this folder".into(),
            ));
        }
        items.extend(found.into_iter().map(|input| Item::File(input.path)));
        items.extend(errors.into_iter().map(|e| Item::Failed(e.path, e.message)));
    }
    items
}

/// Features of one file, or the cause of its failure (without the path, which the
/// caller prints first).
fn analyse(
    extractor: &Extractor,
    path: &Path,
    scratch: &mut musicgenre_features::Scratch,
) -> Result<FileFeatures, String> {
    if let Err(e) = std::fs::metadata(path) {
        return Err(describe_io(&e));
    }
    extractor.extract_file(path, scratch).map_err(|e| {
        let text = e.to_string();
        let prefix = format!("{}: ", path.display());
        text.strip_prefix(&prefix)
            .map(str::to_string)
            .unwrap_or(text)
    })
}

fn decide(model: &Model, features: FileFeatures) -> Result<Decision, String> {
    let rows: Vec<&[f32]> = features
        .windows
        .iter()
        .map(|w| w.values.as_slice())
        .collect();
    let probs = model.predict_proba(&rows).map_err(|e| e.to_string())?;
    let probabilities = average_probabilities(&probs);
    let windows = features
        .windows
        .iter()
        .zip(probs)
        .map(|(w, p)| (w.start_s, w.start_s + w.duration_s, p))
        .collect();
    Ok(Decision {
        probabilities,
        windows,
    })
}

/// Labels by falling probability.
fn ranked<'a>(model: &'a Model, p: &[f32]) -> Vec<(&'a str, f32)> {
    let mut r: Vec<(&str, f32)> = model
        .labels()
        .iter()
        .map(String::as_str)
        .zip(p.iter().copied())
        .collect();
    r.sort_by(|a, b| b.1.total_cmp(&a.1));
    r
}

fn print_decision(
    out: &mut impl Write,
    args: &Args,
    model: &Model,
    path: &Path,
    d: &Decision,
) -> std::io::Result<()> {
    let ranked_all = ranked(model, &d.probabilities);
    let (genre, confidence) = ranked_all[0];
    if args.json {
        let probabilities: serde_json::Map<String, serde_json::Value> = model
            .labels()
            .iter()
            .zip(&d.probabilities)
            .map(|(l, &p)| (l.clone(), serde_json::json!(round4(p))))
            .collect();
        let mut line = serde_json::json!({
            // A name that is not UTF-8 (Latin-1 names from old libraries) is shown with
            // U+FFFD where its bad bytes are, as `features` writes it in its table.
            "path": path.to_string_lossy(),
            "genre": genre,
            "confidence": round4(confidence),
            "probabilities": probabilities,
        });
        if args.segments {
            line["segments"] = d
                .windows
                .iter()
                .map(|(start, end, p)| {
                    let (g, c) = ranked(model, p)[0];
                    serde_json::json!({"start_s": start, "end_s": end, "genre": g, "confidence": round4(c)})
                })
                .collect();
        }
        return writeln!(out, "{line}");
    }
    let k = args.top.unwrap_or(1).min(ranked_all.len());
    let shown: Vec<String> = ranked_all[..k]
        .iter()
        .map(|(g, p)| format!("{g} ({})", percent(*p as f64)))
        .collect();
    let path = musicgenre::one_line(&path.to_string_lossy()).into_owned();
    writeln!(out, "{path}: {}", shown.join(", "))?;
    if args.segments {
        for (start, end, p) in &d.windows {
            let (g, c) = ranked(model, p)[0];
            writeln!(
                out,
                "  {}-{}  {g} ({})",
                clock(*start),
                clock(*end),
                percent(c as f64)
            )?;
        }
    }
    Ok(())
}

/// A probability to 4 decimals, so JSON shows 0.9537 rather than 0.9537447094917297.
fn round4(p: f32) -> f64 {
    (p as f64 * 1e4).round() / 1e4
}

/// `classify ... | head` closing the pipe early is not an error: the run ends there, with
/// status 1 if a file printed before had failed (`failed` of them), else 0.
fn ignore_broken_pipe(e: std::io::Error, failed: usize) -> Result<()> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(if failed > 0 {
            i32::from(cli::EXIT_SOME_FAILED)
        } else {
            0
        });
    }
    Err(anyhow::Error::new(e).context("cannot write to standard output"))
}
