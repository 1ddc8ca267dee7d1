//! `features AUDIO_DIR OUT.csv`: the 518 librosa-compatible features of every audio file
//! under AUDIO_DIR, one row per file (or per window with --segment), in parallel.

use anyhow::{Context, Result};
use clap::Parser;
use musicgenre::inputs::{self, Input};
use musicgenre::parallel::{self, Outcome};
use musicgenre::progress::Progress;
use musicgenre::table::{self, RowId, TableWriter};
use musicgenre_features::{ExtractOptions, Extractor, Segments};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Compute librosa-compatible features (MFCC, chroma, CQT, spectral statistics: 518
/// values) of audio files into a CSV table.
///
/// Folders are walked recursively in sorted order; the label of a file is the name of the
/// first folder under the folder given (audio/rock/x.mp3 -> rock). Files that fail are
/// reported on stderr and in OUT.csv.errors; the run goes on.
///
/// Exit status: 0 all files done, 1 some failed (the others are written), 2 nothing could
/// be done (bad arguments, unwritable output), 130 interrupted (rerun with --resume).
#[derive(Parser, Debug)]
#[command(
    name = "features",
    version,
    about = "Compute the 518 librosa-compatible features of every audio file into a CSV table",
    override_usage = "features [OPTIONS] <AUDIO_DIR_OR_FILE>... <OUT.csv>"
)]
struct Args {
    /// Audio folders and/or files, then the CSV to write (last).
    #[arg(required = true, num_args = 2.., value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// One row per window of this many seconds instead of one per file.
    #[arg(long, value_name = "SECONDS")]
    segment: Option<f64>,

    /// Step between windows with --segment (default: the window length, no overlap).
    #[arg(long, value_name = "SECONDS", requires = "segment")]
    segment_hop: Option<f64>,

    /// Parallel workers (default: all cores); idle ones help with files in progress (their
    /// windows, and the frames of their STFT and CQT branches).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(..=1024))]
    jobs: Option<u16>,

    /// Keep the rows already in OUT.csv and process only the files missing from it.
    #[arg(long)]
    resume: bool,

    /// No progress bar or summary.
    #[arg(short, long)]
    quiet: bool,
}

fn main() -> ExitCode {
    parallel::quiet_panics("features");
    let args = match musicgenre::parse_args::<Args>() {
        Ok(args) => args,
        Err(code) => return code,
    };
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("features: {}", musicgenre::one_line(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> Result<ExitCode> {
    musicgenre_features::simd::requested().map_err(anyhow::Error::msg)?;
    let (out, sources) = args.paths.split_last().context("no output file given")?;
    if out
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.eq_ignore_ascii_case("csv"))
        != Some(true)
    {
        anyhow::bail!(
            "the last argument must be the output table (a .csv file), got {}",
            out.display()
        );
    }
    if out.is_dir() {
        anyhow::bail!("{} is a folder; give a .csv file to write", out.display());
    }
    let segments = match args.segment {
        None => None,
        Some(length_s) => {
            let hop_s = args.segment_hop.unwrap_or(length_s);
            Some(Segments::new(length_s, hop_s)?)
        }
    };
    let extractor = Arc::new(Extractor::new(ExtractOptions { segments })?);
    let jobs = args
        .jobs
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let (found, walk_errors) = inputs::collect(sources);
    if found.is_empty() {
        // Nothing to analyse: stop before OUT.csv is touched, so that a table already
        // there (a mistyped input folder) is not replaced by an empty one.
        if walk_errors.is_empty() {
            anyhow::bail!("no audio files found in {}", display_list(sources));
        }
        for e in &walk_errors {
            eprintln!("features: {}", musicgenre::one_line(&e.to_string()));
        }
        return Ok(ExitCode::from(2));
    }
    let header = table::header_line(&musicgenre_features::feature_names());
    if args.resume {
        check_resume_settings(out, &extractor)?;
    }
    let (mut writer, done) = if args.resume {
        TableWriter::resume(out, &header)?
    } else {
        (TableWriter::create(out, &header)?, Default::default())
    };
    write_layout(out, &extractor)?;
    let errors_path = PathBuf::from(format!("{}.errors", out.display()));
    // Started afresh by a resume too: a resume retries every file missing from the
    // table, failed ones included, so their errors are reported again (appending would
    // list them twice, and keep the error of a file that now succeeds).
    let mut errors_file = std::fs::File::create(&errors_path)
        .with_context(|| format!("cannot write {}", errors_path.display()))?;

    let skipped = found.iter().filter(|i| done.contains(&i.key)).count();
    let todo: Vec<Input> = found
        .into_iter()
        .filter(|i| !done.contains(&i.key))
        .collect();

    let progress = Progress::new(todo.len() as u64, args.quiet);
    let mut failed = 0usize;
    let mut report = |progress: &Progress, line: String| -> Result<()> {
        let line = musicgenre::one_line(&line);
        progress.println(&format!("features: {line}"));
        writeln!(errors_file, "{line}")
            .with_context(|| format!("cannot write {}", errors_path.display()))
    };
    for e in &walk_errors {
        failed += 1;
        report(&progress, e.to_string())?;
    }

    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        // A second Ctrl-C ends the process at once.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }

    let hook = musicgenre::test_hook::PanicHook::from_env();
    let started = Instant::now();
    let mut files_written = 0usize;
    let mut rows_written = 0usize;
    let mut audio_seconds = 0f64;
    let delivered = parallel::ordered_map(
        &todo,
        jobs,
        &stop,
        || extractor.scratch(),
        |input, scratch| {
            hook.check(&input.path);
            extractor.extract_file(&input.path, scratch)
        },
        |i, outcome| -> Result<()> {
            let input = &todo[i];
            progress.inc();
            match outcome {
                Outcome::Done(Ok(file)) => {
                    let artist = file.info.artist.as_deref().unwrap_or("");
                    let mut rows = String::new();
                    for w in &file.windows {
                        let id = RowId {
                            path: &input.key,
                            label: &input.label,
                            artist,
                            start_s: w.start_s,
                            duration_s: w.duration_s,
                        };
                        rows.push_str(&table::row_line(&id, &w.values));
                    }
                    writer.append(&rows)?;
                    files_written += 1;
                    rows_written += file.windows.len();
                    audio_seconds += file.info.duration_s;
                }
                Outcome::Done(Err(e)) => {
                    failed += 1;
                    report(
                        &progress,
                        format!("{}: {}", input.path.display(), cause(&e, &input.path)),
                    )?;
                }
                Outcome::Panicked(msg) => {
                    failed += 1;
                    report(
                        &progress,
                        format!("{}: internal error: {msg}", input.path.display()),
                    )?;
                }
            }
            Ok(())
        },
    )?;
    writer.sync()?;
    progress.finish();

    let elapsed = started.elapsed().as_secs_f64();
    let interrupted = delivered < todo.len();
    if !args.quiet {
        let mut summary = format!(
            "features: {files_written} files ({rows_written} rows) written to {} in {:.1} s",
            out.display(),
            elapsed
        );
        if elapsed > 0.0 && files_written > 0 {
            summary += &format!(
                " ({:.1} files/s, {:.0}x real time)",
                files_written as f64 / elapsed,
                audio_seconds / elapsed
            );
        }
        if skipped > 0 {
            summary += &format!("; {skipped} already there");
        }
        if failed > 0 {
            summary += &format!("; {failed} failed (see {})", errors_path.display());
        }
        eprintln!("{summary}");
        if interrupted {
            eprintln!(
                "features: interrupted: {} files remain; rerun with --resume to finish",
                todo.len() - delivered
            );
        }
    }
    Ok(if interrupted {
        ExitCode::from(130)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The error's message without repeating the path the line already starts with.
fn cause(e: &musicgenre_features::Error, path: &std::path::Path) -> String {
    let text = e.to_string();
    let prefix = format!("{}: ", path.display());
    text.strip_prefix(&prefix)
        .map(str::to_string)
        .unwrap_or(text)
}

/// `--resume` adds rows to a table only with the settings its rows were made with
/// (window length and hop above all: the header is the same for any `--segment`), as
/// `OUT.csv.layout.json` records them. A table without that file is taken as it is.
fn check_resume_settings(out: &std::path::Path, extractor: &Extractor) -> Result<()> {
    let path = layout_path(out);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let old: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let now = musicgenre::settings_json(&extractor.settings());
    let (Some(old), Some(now)) = (old["settings"].as_object(), now.as_object()) else {
        anyhow::bail!("{} has no settings object", path.display());
    };
    let shown = |v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "none".to_string(),
        Some(v) => v.to_string(),
    };
    let differences: Vec<String> = now
        .keys()
        .chain(old.keys().filter(|k| !now.contains_key(*k)))
        .filter(|k| shown(old.get(*k)) != shown(now.get(*k)))
        .map(|k| format!("{k} {} there, {} now", shown(old.get(k)), shown(now.get(k))))
        .collect();
    if !differences.is_empty() {
        anyhow::bail!(
            "cannot resume {}: its rows were made with other settings ({}); resume with the \
             same --segment and --segment-hop, or write a new table",
            out.display(),
            differences.join(", ")
        );
    }
    Ok(())
}

/// `OUT.csv.layout.json`, next to the table.
fn layout_path(out: &std::path::Path) -> PathBuf {
    PathBuf::from(format!("{}.layout.json", out.display()))
}

/// `OUT.csv.layout.json`: the layout contract (version + names) and the settings.
fn write_layout(out: &std::path::Path, extractor: &Extractor) -> Result<()> {
    let path = layout_path(out);
    let layout = serde_json::json!({
        "version": musicgenre_features::LAYOUT_VERSION,
        "names": musicgenre_features::feature_names(),
        "settings": musicgenre::settings_json(&extractor.settings()),
    });
    let text = serde_json::to_string_pretty(&layout)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

fn display_list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
