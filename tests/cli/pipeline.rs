//! The four binaries working together, as a user runs them: `features` on a folder of
//! genre folders, `train` on the table, `classify` new clips with the model, `evaluate`
//! the model and the training recipe; and the errors of `train` and `evaluate`.
//!
//! The audio is generated: two "genres" of clearly different character (`tones`:
//! chords; `noise`: white noise), a few two-second clips each, so that a model trained
//! for a few epochs separates them. The corpus, its table and its model are made once
//! per test process and shared by the tests (see [`corpus`]); everything else a test
//! writes goes to its own temporary folder.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

const SR: u32 = 22050;
/// Length of each clip of the corpus, seconds.
const CLIP_S: f64 = 2.0;
/// Clips per genre in the corpus.
const PER_GENRE: usize = 6;
/// The labels, sorted as `train` sorts them.
const LABELS: [&str; 2] = ["noise", "tones"];
/// Training epochs of every model here (one gradient step each on this little data).
const EPOCHS: usize = 6;

/// `train` / `evaluate --cv` options that keep training short and print every epoch:
/// [`EPOCHS`] epochs of one network, no early stopping.
fn fast() -> Vec<String> {
    let epochs = EPOCHS.to_string();
    ["--epochs", &epochs, "--ensemble", "1", "--patience", "0"]
        .map(String::from)
        .to_vec()
}

/// `seconds` of white noise, different for each `seed`.
fn noise(seconds: f64, seed: u32) -> Vec<f64> {
    let n = (seconds * SR as f64).round() as usize;
    let mut state = seed.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            0.6 * ((state >> 8) as f64 / (1u64 << 24) as f64 - 0.5)
        })
        .collect()
}

/// A clip of `genre`: a chord ([`music`]) for `tones`, white noise for `noise`.
fn clip(genre: &str, seconds: f64, seed: u32) -> Vec<f64> {
    match genre {
        "tones" => music(SR, seconds, seed),
        "noise" => noise(seconds, seed),
        _ => unreachable!("{genre}"),
    }
}

/// The shared corpus: `root/{noise,tones}/*.wav`, its feature table, a model trained on
/// it with [`fast`] options and seed 1 (and that run's output), and clips that are not in it.
struct Corpus {
    root: PathBuf,
    table: PathBuf,
    model: PathBuf,
    train_run: Run,
    /// (file, its genre), not part of the training table.
    fresh: Vec<(PathBuf, &'static str)>,
}

/// The corpus folder, removed when the test process exits.
static CORPUS_DIR: Mutex<Option<tempfile::TempDir>> = Mutex::new(None);

extern "C" fn remove_corpus() {
    if let Ok(mut dir) = CORPUS_DIR.lock() {
        dir.take();
    }
}

/// The corpus, made by the first test that needs it.
fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().to_path_buf();
        *CORPUS_DIR.lock().unwrap() = Some(dir);
        // SAFETY: registers a function without arguments, run once at exit.
        unsafe { libc::atexit(remove_corpus) };

        let root = base.join("audio");
        for genre in LABELS {
            std::fs::create_dir_all(root.join(genre)).unwrap();
            for i in 0..PER_GENRE {
                // Even seeds: chords on every other semitone; the fresh ones lie between.
                let seed = 2 * i as u32;
                let path = root.join(genre).join(format!("{genre}_{i}.wav"));
                write_mono(&path, SR, &clip(genre, CLIP_S, seed));
            }
        }
        let fresh_dir = base.join("fresh");
        std::fs::create_dir(&fresh_dir).unwrap();
        let mut fresh = Vec::new();
        for (genre, seed) in [("tones", 3), ("noise", 101), ("tones", 7), ("noise", 103)] {
            let path = fresh_dir.join(format!("new {genre} {seed}.wav"));
            write_mono(&path, SR, &clip(genre, CLIP_S, seed));
            fresh.push((path, genre));
        }

        let table = base.join("table.csv");
        let run = run(
            features()
                .arg(&root)
                .arg(&table)
                .args(["--jobs", "1", "--quiet"]),
            LIMIT,
        );
        run.assert_code(0);

        let model = base.join("model");
        let train_run = run_train(&table, &model, "1");
        train_run.assert_code(0);
        Corpus {
            root,
            table,
            model,
            train_run,
            fresh,
        }
    })
}

/// `train TABLE -o MODEL` with the [`fast`] options and `--seed SEED`.
fn run_train(table: &Path, model: &Path, seed: &str) -> Run {
    run(
        train()
            .arg(table)
            .arg("-o")
            .arg(model)
            .args(fast())
            .args(["--seed", seed]),
        LIMIT,
    )
}

fn is_png(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 100
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bundled model's `model.json` (its feature names are this build's: `classify`
/// checks them).
fn bundled_model_json() -> serde_json::Value {
    read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/model/model.json"))
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The run failed with `code` and exactly one stderr line, `program: ...`, naming
/// `file` and `cause`; no panic. (Stdout is the caller's to check: `classify` prints the
/// files that worked.)
fn assert_one_line_error(run: &Run, program: &str, code: i32, file: &Path, cause: &str) {
    run.assert_code(code);
    assert_no_panic(run);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let name = file.display().to_string();
    assert_eq!(lines.len(), 1, "{name}: expected one line:\n{}", run.stderr);
    let line = lines[0];
    assert!(line.starts_with(&format!("{program}: ")), "{line}");
    assert!(
        line.contains(&name),
        "the line does not name {name}: {line}"
    );
    assert!(
        line.to_lowercase().contains(&cause.to_lowercase()),
        "{name}: the cause is not {cause:?}: {line}"
    );
}

/// A clap usage error: exit 2, a message on stderr, nothing on stdout.
fn assert_usage_error(run: &Run) {
    run.assert_code(2);
    assert_no_panic(run);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

// ---------------------------------------------------------------------------------
// features

#[test]
fn features_labels_each_file_by_its_genre_folder_and_writes_the_layout() {
    let c = corpus();
    let table = Table::read(&c.table);
    let names = strings(&bundled_model_json()["features"]["names"]);
    assert_eq!(names.len(), N_FEATURES);
    let mut expected_header: Vec<String> = ["path", "label", "artist", "start_s", "duration_s"]
        .map(String::from)
        .to_vec();
    expected_header.extend(names.iter().cloned());
    assert_eq!(table.header, expected_header);

    let mut expected_paths: Vec<String> = LABELS
        .iter()
        .flat_map(|g| (0..PER_GENRE).map(move |i| format!("{g}/{g}_{i}.wav")))
        .collect();
    expected_paths.sort();
    assert_eq!(table.paths(), expected_paths, "one row per file, sorted");
    for row in &table.rows {
        assert!(
            c.root.join(&row[0]).is_file(),
            "{}: not relative to AUDIO_DIR",
            row[0]
        );
        let genre = row[0].split('/').next().unwrap();
        assert_eq!(row[1], genre, "{}: label", row[0]);
        assert_eq!(row[2], "", "{}: WAVs carry no artist", row[0]);
        assert_eq!(row[3], "0", "{}: start_s", row[0]);
        let duration: f64 = row[4].parse().unwrap();
        assert!((duration - CLIP_S).abs() < 0.01, "{}: {duration}", row[0]);
        finite_features(row);
    }
    // The two genres are different sounds: their zero-crossing rates do not overlap.
    let zcr = |genre: &str| -> Vec<f64> {
        table
            .paths()
            .into_iter()
            .filter(|p| p.starts_with(genre))
            .map(|p| table.value(p, "zcr.mean.01"))
            .collect()
    };
    let (noise, tones) = (zcr("noise"), zcr("tones"));
    let noise_min = noise.iter().cloned().fold(f64::INFINITY, f64::min);
    let tones_max = tones.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    assert!(noise_min > tones_max, "noise {noise:?}, tones {tones:?}");

    let layout = read_json(&PathBuf::from(format!("{}.layout.json", c.table.display())));
    assert_eq!(strings(&layout["names"]), names);
    assert!(layout["version"].as_u64().is_some(), "{layout}");
    assert_eq!(layout["settings"]["sample_rate"], SR);
    assert!(layout["settings"]["segment_s"].is_null(), "{layout}");
}

/// `features --segment --segment-hop` gives overlapping windows; `train` keeps the window
/// length in the model; `classify` cuts songs into such windows (`--segments` lists
/// them) and `evaluate` scores per window as well as per file.
#[test]
fn segments_flow_from_features_through_train_to_classify_and_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    for genre in LABELS {
        std::fs::create_dir_all(root.join(genre)).unwrap();
        write_mono(&root.join(genre).join("a.wav"), SR, &clip(genre, 3.0, 11));
    }
    let table = dir.path().join("windows.csv");
    let run_features = run(
        features().arg(&root).arg(&table).args([
            "--segment",
            "1",
            "--segment-hop",
            "0.5",
            "--jobs",
            "1",
        ]),
        LIMIT,
    );
    run_features.assert_code(0);
    let t = Table::read(&table);
    assert_eq!(t.rows.len(), 10, "{:?}", t.paths());
    for genre in LABELS {
        let key = format!("{genre}/a.wav");
        let rows: Vec<&Vec<String>> = t.rows.iter().filter(|r| r[0] == key).collect();
        let starts: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
        assert_eq!(starts, ["0", "0.5", "1", "1.5", "2"], "{key}");
        for r in rows {
            assert_eq!(r[1], genre);
            assert_eq!(r[4], "1", "{key}: duration_s");
            finite_features(r);
        }
    }
    let layout = read_json(&PathBuf::from(format!("{}.layout.json", table.display())));
    assert_eq!(layout["settings"]["segment_s"], 1.0);
    assert_eq!(layout["settings"]["segment_hop_s"], 0.5);

    // One file per genre: no validation split is possible, train on everything.
    let model = dir.path().join("model");
    let run_train = run(
        train()
            .arg(&table)
            .arg("-o")
            .arg(&model)
            .args(fast())
            .args(["--validation", "0"]),
        LIMIT,
    );
    run_train.assert_code(0);
    assert_eq!(run_train.stderr, "");
    let info = read_json(&model.join("model.json"));
    assert_eq!(info["segment_seconds"], 1.0, "the window length travels");

    // The table copied without its layout file: the rows still give the window length.
    let bare = dir.path().join("copied.csv");
    std::fs::copy(&table, &bare).unwrap();
    let bare_model = dir.path().join("bare model");
    let run_bare = run(
        train()
            .arg(&bare)
            .arg("-o")
            .arg(&bare_model)
            .args(fast())
            .args(["--validation", "0"]),
        LIMIT,
    );
    run_bare.assert_code(0);
    assert_eq!(
        run_bare.stderr,
        format!(
            "train: warning: {} has no layout file; the window length 1 s is taken from its \
             rows\n",
            bare.display()
        )
    );
    let bare_info = read_json(&bare_model.join("model.json"));
    assert_eq!(bare_info["segment_seconds"], 1.0);

    let song = dir.path().join("song.wav");
    write_mono(&song, SR, &clip("tones", 3.0, 5));
    let run_classify = run(
        classify()
            .arg("--model")
            .arg(&model)
            .arg("--segments")
            .arg(&song),
        LIMIT,
    );
    run_classify.assert_code(0);
    let lines: Vec<&str> = run_classify.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "the file, then 3 windows:\n{}",
        run_classify.stdout
    );
    assert!(lines[0].starts_with(&format!("{}: ", song.display())));
    for (line, times) in lines[1..]
        .iter()
        .zip(["0:00.0-0:01.0", "0:01.0-0:02.0", "0:02.0-0:03.0"])
    {
        let rest = line
            .strip_prefix(&format!("  {times}  "))
            .unwrap_or_else(|| panic!("not the window {times}: {line:?}"));
        let (genre, pct) = rest.split_once(" (").unwrap();
        assert!(LABELS.contains(&genre), "{line}");
        assert!(pct.ends_with("%)"), "{line}");
    }

    let run_evaluate = run(evaluate().arg("--model").arg(&model).arg(&table), LIMIT);
    run_evaluate.assert_code(0);
    assert!(
        run_evaluate.stdout.contains("Per file (2 files;")
            && run_evaluate.stdout.contains("(10 windows)"),
        "{}",
        run_evaluate.stdout
    );
}

// ---------------------------------------------------------------------------------
// train

#[test]
fn train_prints_every_epoch_and_writes_the_model_folder() {
    let c = corpus();
    let run = &c.train_run;
    assert_no_panic(run);
    let out = &run.stdout;
    let header = out
        .lines()
        .find(|l| l.contains("train loss"))
        .unwrap_or_else(|| panic!("no epoch table:\n{out}"));
    for column in ["epoch", "train acc", "val loss", "val acc"] {
        assert!(header.contains(column), "{header}");
    }
    let epochs: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.first() == Some(&"1/1"))
        .collect();
    assert_eq!(epochs.len(), EPOCHS, "one line per epoch:\n{out}");
    for (i, words) in epochs.iter().enumerate() {
        assert_eq!(words.len(), 6, "{words:?}");
        assert_eq!(words[1], (i + 1).to_string(), "{words:?}");
        // Training loss and accuracy, validation loss and accuracy.
        for w in &words[2..] {
            let v: f64 = w.parse().unwrap_or_else(|_| panic!("{words:?}"));
            assert!(v.is_finite() && v >= 0.0, "{words:?}");
        }
        let (train_acc, val_acc): (f64, f64) =
            (words[3].parse().unwrap(), words[5].parse().unwrap());
        assert!(train_acc <= 1.0 && val_acc <= 1.0, "{words:?}");
    }
    // It learned: both losses fell from the first epoch to the last.
    let loss = |e: &Vec<&str>, column: usize| -> f64 { e[column].parse().unwrap() };
    let (first, last) = (&epochs[0], &epochs[EPOCHS - 1]);
    assert!(loss(last, 2) < loss(first, 2), "training loss:\n{out}");
    assert!(loss(last, 4) < loss(first, 4), "validation loss:\n{out}");
    assert!(out.contains("split by"), "{out}");
    assert!(
        out.contains("train: 2 genres (noise, tones)") && out.contains("validation accuracy"),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l == format!("train: model written to {}", c.model.display())),
        "{out}"
    );

    for file in ["model.safetensors", "model.json", "training.png"] {
        assert!(c.model.join(file).is_file(), "{file} missing");
    }
    assert!(is_png(&c.model.join("training.png")));
    let info = read_json(&c.model.join("model.json"));
    assert_eq!(strings(&info["labels"]), LABELS);
    let names = strings(&info["features"]["names"]);
    assert_eq!(names.len(), N_FEATURES);
    assert_eq!(names, Table::read(&c.table).header[ID_COLUMNS..]);
    assert!(
        info["segment_seconds"].is_null(),
        "{}",
        info["segment_seconds"]
    );
    assert_eq!(info["ensemble_size"], 1);
}

#[test]
fn training_twice_with_one_seed_gives_identical_weights() {
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let again = dir.path().join("again");
    run_train(&c.table, &again, "1").assert_code(0);
    let weights = |d: &Path| std::fs::read(d.join("model.safetensors")).unwrap();
    assert!(
        weights(&c.model) == weights(&again),
        "same table, options and seed: the weights differ"
    );
    // The comparison can tell models apart: another seed gives other weights.
    let other = dir.path().join("other");
    run_train(&c.table, &other, "2").assert_code(0);
    assert!(weights(&c.model) != weights(&other));
}

#[test]
fn the_training_flags_reach_the_model_and_the_model_classifies() {
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let run_train = run(
        train()
            .arg(&c.table)
            .arg("-o")
            .arg(&model)
            .args(["--epochs", &EPOCHS.to_string(), "--ensemble", "2"])
            .args(["--hidden", "24,16", "--dropout", "0.3"])
            .args(["--weight-decay", "0.001", "--label-smoothing", "0.1"])
            .arg("--split-per-member"),
        LIMIT,
    );
    run_train.assert_code(0);
    let info = read_json(&model.join("model.json"));
    let options = &info["training"]["options"];
    assert_eq!(options["hidden"], serde_json::json!([24, 16]));
    assert_eq!(options["dropout"], 0.3);
    assert_eq!(options["weight_decay"], 0.001);
    assert_eq!(options["label_smoothing"], 0.1);
    assert_eq!(options["split_per_member"], true);
    assert_eq!(info["architecture"]["hidden"], serde_json::json!([24, 16]));
    assert_eq!(info["ensemble_size"], 2);
    // Other weights than the default network's, and a model classify can use.
    let weights = |d: &Path| std::fs::read(d.join("model.safetensors")).unwrap();
    assert!(weights(&model) != weights(&c.model));
    let (song, genre) = &c.fresh[0];
    let run = run(classify().arg("--model").arg(&model).arg(song), LIMIT);
    run.assert_code(0);
    assert_eq!(genres_of(run.stdout.trim_end(), song)[0].0, *genre);
}

#[test]
fn train_errors_are_one_line_naming_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = strings(&bundled_model_json()["features"]["names"]);
    // A table of made-up rows: (file, label) each; values differ by label and row.
    let table =
        |name: &str, rows: &[(&str, &str)], edit: &dyn Fn(usize, usize) -> Option<String>| {
            let mut text = String::from("path,label,artist,start_s,duration_s");
            for n in &names {
                text.push(',');
                text.push_str(n);
            }
            text.push('\n');
            for (r, (file, label)) in rows.iter().enumerate() {
                text.push_str(&format!("{file},{label},,0,2"));
                for j in 0..names.len() {
                    let v = edit(r, j).unwrap_or_else(|| {
                        let base = if *label == "a" { 1.0 } else { -1.0 };
                        format!("{}", base + 0.01 * ((r * 7 + j) % 13) as f64)
                    });
                    text.push(',');
                    text.push_str(&v);
                }
                text.push('\n');
            }
            let path = d.join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
    let none = |_: usize, _: usize| None;
    let six = [
        ("a/1.wav", "a"),
        ("a/2.wav", "a"),
        ("a/3.wav", "a"),
        ("b/1.wav", "b"),
        ("b/2.wav", "b"),
        ("b/3.wav", "b"),
    ];

    // The synthetic table itself trains: each failure below is the damage's.
    let good = table("good.csv", &six, &none);
    let run_good = run_train(&good, &d.join("good model"), "0");
    run_good.assert_code(0);

    let not_a_table = d.join("not a table.csv");
    std::fs::write(&not_a_table, "name,genre,score\nx.wav,rock,1\n").unwrap();
    let nan = table("nan.csv", &six, &|r, j| {
        (r == 2 && j == 9).then(|| "NaN".into())
    });
    let one_label = table(
        "one label.csv",
        &[("a/1.wav", "a"), ("a/2.wav", "a"), ("a/3.wav", "a")],
        &none,
    );
    let lonely = table(
        "lonely label.csv",
        &[
            ("a/1.wav", "a"),
            ("a/2.wav", "a"),
            ("a/3.wav", "a"),
            ("b/1.wav", "b"),
        ],
        &none,
    );
    let nan_cause = format!("nan.csv:4: column `{}`: `NaN` is not finite", names[9]);
    let cases: Vec<(PathBuf, &str)> = vec![
        (d.join("missing.csv"), "no such file"),
        (
            not_a_table,
            "not a feature table: header column 1 should be `path`",
        ),
        (nan, &nan_cause),
        (one_label, "needs at least 2 labels"),
        (lonely, "label `b` has rows in only 1 group"),
    ];
    for (i, (path, cause)) in cases.iter().enumerate() {
        let out = d.join(format!("model {i}"));
        let run = run_train(path, &out, "0");
        // Bad data is exit 1 (`train` has no partial success); see the usage errors below.
        assert_one_line_error(&run, "train", 1, path, cause);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            !out.exists(),
            "{}: a model folder was created",
            path.display()
        );
    }

    // Usage errors: exit 2.
    assert_usage_error(&run(&mut train(), LIMIT));
    assert_usage_error(&run(train().arg(&good).arg("--no-such-flag"), LIMIT));
    assert_usage_error(&run(train().arg(&good).args(["--epochs", "many"]), LIMIT));
    for (flag, value) in [
        ("--epochs", "0"),
        ("--validation", "1.5"),
        ("--ensemble", "0"),
        ("--hidden", "0"),
        ("--hidden", "16385"),
        ("--dropout", "1"),
        ("--weight-decay", "NaN"),
        ("--label-smoothing", "1.5"),
    ] {
        let out = d.join("model usage");
        let run = run(
            train().arg(&good).arg("-o").arg(&out).args([flag, value]),
            LIMIT,
        );
        run.assert_code(2);
        assert_no_panic(&run);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{flag} {value}:\n{}", run.stderr);
        assert!(
            lines[0].starts_with("train: ") && lines[0].contains(value),
            "{}",
            lines[0]
        );
        assert!(!out.exists());
    }
    // Early stopping with no validation split to watch is refused, not ignored.
    let out = d.join("model patience");
    let run = run(
        train()
            .arg(&good)
            .arg("-o")
            .arg(&out)
            .args(["--patience", "3", "--validation", "0"]),
        LIMIT,
    );
    run.assert_code(2);
    assert_eq!(
        run.stderr,
        "train: option `early_stopping` = patience 3: expected a validation fraction > 0 to watch\n"
    );
    assert!(!out.exists());
}

// ---------------------------------------------------------------------------------
// classify

/// `path: genre (NN%), ...` split into the path's genres and percentages.
fn genres_of<'a>(line: &'a str, path: &Path) -> Vec<(&'a str, f64)> {
    let rest = line
        .strip_prefix(&format!("{}: ", path.display()))
        .unwrap_or_else(|| panic!("not a line of {}: {line:?}", path.display()));
    rest.split(", ")
        .map(|g| {
            let (genre, pct) = g.split_once(" (").unwrap_or_else(|| panic!("{line:?}"));
            let pct: f64 = pct
                .strip_suffix("%)")
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("{line:?}"));
            assert!((0.0..=100.0).contains(&pct), "{line:?}");
            (genre, pct)
        })
        .collect()
}

#[test]
fn classify_names_the_genre_of_new_clips() {
    let c = corpus();
    let files: Vec<&PathBuf> = c.fresh.iter().map(|(p, _)| p).collect();
    let run = run(classify().arg("--model").arg(&c.model).args(&files), LIMIT);
    run.assert_code(0);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "{}", run.stdout);
    for (line, (path, genre)) in lines.iter().zip(&c.fresh) {
        let shown = genres_of(line, path);
        assert_eq!(shown.len(), 1, "{line}");
        assert_eq!(shown[0].0, *genre, "{line}");
        assert!(shown[0].1 >= 50.0, "{line}");
    }
}

#[test]
fn classify_top_json_and_segments() {
    let c = corpus();
    let files: Vec<&PathBuf> = c.fresh.iter().map(|(p, _)| p).collect();

    let top = run(
        classify()
            .arg("--model")
            .arg(&c.model)
            .args(["--top", "2"])
            .args(&files),
        LIMIT,
    );
    top.assert_code(0);
    let lines: Vec<&str> = top.stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "{}", top.stdout);
    for (line, (path, genre)) in lines.iter().zip(&c.fresh) {
        let shown = genres_of(line, path);
        assert_eq!(shown.len(), 2, "{line}");
        assert_eq!(shown[0].0, *genre, "{line}");
        assert!(shown[0].1 >= shown[1].1, "{line}");
        let mut both: Vec<&str> = shown.iter().map(|s| s.0).collect();
        both.sort();
        assert_eq!(both, LABELS, "{line}");
        // Whole percentages of two probabilities summing to 1.
        assert!((shown[0].1 + shown[1].1 - 100.0).abs() <= 1.0, "{line}");
    }

    let json = run(
        classify()
            .arg("--model")
            .arg(&c.model)
            .arg("--json")
            .args(&files),
        LIMIT,
    );
    json.assert_code(0);
    let lines = json.json_lines();
    assert_eq!(lines.len(), files.len(), "{}", json.stdout);
    for (v, (path, genre)) in lines.iter().zip(&c.fresh) {
        assert_eq!(v["path"], path.display().to_string(), "{v}");
        assert_eq!(v["genre"], *genre, "{v}");
        let probs = v["probabilities"].as_object().unwrap();
        let keys: Vec<&str> = probs.keys().map(String::as_str).collect();
        assert_eq!(keys, LABELS, "{v}");
        let sum: f64 = probs.values().map(|p| p.as_f64().unwrap()).sum();
        assert!((sum - 1.0).abs() < 1e-3, "{v}");
        let confidence = v["confidence"].as_f64().unwrap();
        assert_eq!(confidence, probs[*genre].as_f64().unwrap(), "{v}");
        assert!(confidence >= 0.5, "{v}");
    }

    // A whole-file model: one window per file, the whole clip.
    let seg = run(
        classify()
            .arg("--model")
            .arg(&c.model)
            .arg("--segments")
            .args(&files[..2]),
        LIMIT,
    );
    seg.assert_code(0);
    let lines: Vec<&str> = seg.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", seg.stdout);
    for (pair, (path, genre)) in lines.chunks(2).zip(&c.fresh) {
        assert_eq!(genres_of(pair[0], path)[0].0, *genre);
        assert!(
            pair[1].starts_with(&format!("  0:00.0-0:02.0  {genre} (")),
            "{:?}",
            pair[1]
        );
    }
}

#[test]
fn classify_goes_on_after_a_missing_file_and_exits_1() {
    let c = corpus();
    let missing = c.fresh[0].0.with_file_name("not here.wav");
    let run = run(
        classify()
            .arg("--model")
            .arg(&c.model)
            .arg(&c.fresh[0].0)
            .arg(&missing)
            .arg(&c.fresh[1].0),
        LIMIT,
    );
    assert_one_line_error(&run, "classify", 1, &missing, "no such file");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(genres_of(lines[0], &c.fresh[0].0)[0].0, c.fresh[0].1);
    assert_eq!(genres_of(lines[1], &c.fresh[1].0)[0].0, c.fresh[1].1);
}

#[test]
fn classify_usage_errors_exit_2() {
    let c = corpus();
    let song = &c.fresh[0].0;
    assert_usage_error(&run(&mut classify(), LIMIT));
    assert_usage_error(&run(classify().arg("--model").arg(&c.model), LIMIT));
    assert_usage_error(&run(classify().arg("--no-such-flag").arg(song), LIMIT));
    assert_usage_error(&run(classify().args(["--top", "two"]).arg(song), LIMIT));
    // More workers than any machine has (`classify()` itself passes `--jobs 1`).
    for cmd in [
        Command::new(CLASSIFY).arg(song),
        Command::new(FEATURES).arg(song).arg("o.csv"),
    ] {
        let run = run(cmd.args(["--jobs", "1025"]), LIMIT);
        assert_usage_error(&run);
        assert!(
            run.stderr.contains("1025 is not in 0..=1024"),
            "{}",
            run.stderr
        );
    }
    let run = run(
        classify()
            .arg("--model")
            .arg(&c.model)
            .args(["--top", "0"])
            .arg(song),
        LIMIT,
    );
    run.assert_code(2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.starts_with("classify: ") && run.stderr.contains("--top"));
    assert!(run.stdout.is_empty());
}

#[test]
fn classify_without_a_model_uses_the_bundled_one() {
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("song.wav");
    write_mono(&song, SR, &clip("tones", CLIP_S, 4));
    let labels = strings(&bundled_model_json()["labels"]);
    let run = run(classify().arg(&song), LIMIT);
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    let shown = genres_of(lines[0], &song);
    assert!(
        labels.iter().any(|l| l == shown[0].0),
        "{} not in {labels:?}",
        lines[0]
    );
}

// ---------------------------------------------------------------------------------
// evaluate

#[test]
fn evaluate_prints_accuracy_per_class_figures_and_the_confusion_matrix() {
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let png = dir.path().join("confusion.png");
    let run = run(
        evaluate()
            .arg("--model")
            .arg(&c.model)
            .arg(&c.table)
            .arg("--json")
            .arg(&report)
            .arg("--plot")
            .arg(&png),
        LIMIT,
    );
    run.assert_code(0);
    assert_no_panic(&run);
    let out = &run.stdout;
    let n = 2 * PER_GENRE;
    assert!(out.contains(&format!("Per file ({n} files;")), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let find = |prefix: &str| -> Vec<&str> {
        lines
            .iter()
            .filter(|l| l.starts_with(prefix))
            .copied()
            .collect()
    };
    let header = lines
        .iter()
        .find(|l| l.contains("precision"))
        .unwrap_or_else(|| panic!("no per-class table:\n{out}"));
    assert!(header.contains("recall") && header.contains("f1") && header.contains("support"));
    let accuracy_line = find("accuracy");
    assert_eq!(accuracy_line.len(), 1, "{out}");
    let words: Vec<&str> = accuracy_line[0].split_whitespace().collect();
    let accuracy: f64 = words[1].parse().unwrap();
    assert_eq!(words[2], n.to_string(), "{out}");
    assert!(!find("balanced accuracy").is_empty() && !find("macro f1").is_empty());

    // Each label: a per-class line (precision, recall, f1, support), then a confusion row.
    let corner = lines
        .iter()
        .position(|l| l.starts_with("true \\ predicted"))
        .unwrap_or_else(|| panic!("no confusion matrix:\n{out}"));
    assert_eq!(
        lines[corner].split_whitespace().skip(3).collect::<Vec<_>>(),
        LABELS
    );
    let mut diagonal = 0;
    let mut total = 0;
    for (i, label) in LABELS.iter().enumerate() {
        let per_class: Vec<&str> = lines[..corner]
            .iter()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line:\n{out}"))
            .split_whitespace()
            .collect();
        assert_eq!(per_class.len(), 5, "{per_class:?}");
        assert_eq!(per_class[4], PER_GENRE.to_string(), "support of {label}");
        let row: Vec<u64> = lines[corner + 1 + i]
            .strip_prefix(label)
            .unwrap_or_else(|| panic!("{label}: {}", lines[corner + 1 + i]))
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(row.len(), LABELS.len());
        assert_eq!(
            row.iter().sum::<u64>(),
            PER_GENRE as u64,
            "{label}: {row:?}"
        );
        diagonal += row[i];
        total += row.iter().sum::<u64>();
    }
    assert!(
        (accuracy - diagonal as f64 / total as f64).abs() < 1e-3,
        "{out}"
    );
    assert!(
        accuracy >= 0.9,
        "the model learned the training table: {out}"
    );

    let json = read_json(&report);
    let json_accuracy = json["files"]["accuracy"].as_f64().unwrap();
    assert!(
        (json_accuracy - accuracy).abs() < 1e-3,
        "{json_accuracy} vs {accuracy}"
    );
    assert_eq!(json["predictions"].as_array().unwrap().len(), n);
    assert!(is_png(&png));
}

#[test]
fn evaluate_cv_prints_mean_std_per_fold_and_the_baseline() {
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("cv.json");
    let run = run(
        evaluate()
            .args(["--cv", "2"])
            .args(fast())
            .arg(&c.table)
            .arg("--json")
            .arg(&report),
        LIMIT,
    );
    run.assert_code(0);
    assert_no_panic(&run);
    let out = &run.stdout;
    assert!(
        out.starts_with("2-fold cross-validation x 1 repeat(s)"),
        "{out}"
    );
    for name in ["MLP (training recipe)", "logistic regression"] {
        let line = out
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line:\n{out}"));
        let words: Vec<&str> = line[name.len()..].split_whitespace().collect();
        // mean±std, balanced accuracy, macro F1, then each fold's accuracy.
        assert_eq!(words.len(), 5, "{line}");
        let (mean, std) = words[0]
            .split_once('±')
            .unwrap_or_else(|| panic!("no mean ± std: {line}"));
        let (mean, std): (f64, f64) = (mean.parse().unwrap(), std.parse().unwrap());
        let folds: Vec<f64> = words[3..].iter().map(|v| v.parse().unwrap()).collect();
        assert!(
            (mean - (folds[0] + folds[1]) / 2.0).abs() <= 1.5e-3,
            "{line}"
        );
        assert!((0.0..=1.0).contains(&mean) && std >= 0.0, "{line}");
    }
    assert!(out.contains("Pooled over all folds (MLP):"), "{out}");
    assert!(out.contains("true \\ predicted"), "{out}");
    for fold in [1, 2] {
        assert!(
            run.stderr.lines().any(
                |l| l.starts_with(&format!("evaluate: repeat 1 fold {fold}: "))
                    && l.contains("baseline")
            ),
            "fold {fold}:\n{}",
            run.stderr
        );
    }
    let json = read_json(&report);
    assert!(json.is_object(), "{json}");
}

#[test]
fn evaluate_errors_are_one_line_naming_the_file() {
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(&c.table).unwrap();
    let layout_text =
        std::fs::read_to_string(format!("{}.layout.json", c.table.display())).unwrap();
    // A copy of the corpus table (with its layout file unless `layout` is None).
    let copy = |name: &str, table: &str, layout: Option<&str>| -> PathBuf {
        let path = d.join(name);
        std::fs::write(&path, table).unwrap();
        if let Some(layout) = layout {
            std::fs::write(format!("{}.layout.json", path.display()), layout).unwrap();
        }
        path
    };

    // The intact copy is scored: each failure below is the damage's.
    let intact = copy("intact.csv", &text, Some(&layout_text));
    let ok = run(evaluate().arg("--model").arg(&c.model).arg(&intact), LIMIT);
    ok.assert_code(0);

    let mut sidecar: serde_json::Value = serde_json::from_str(&layout_text).unwrap();
    sidecar["version"] = 999.into();
    let other_version = copy(
        "other version.csv",
        &text,
        Some(&serde_json::to_string(&sidecar).unwrap()),
    );
    let renamed = copy(
        "renamed column.csv",
        &text.replacen("mfcc.mean.01", "mfcc.mean.99", 1),
        None,
    );
    let disagreeing = copy(
        "disagreeing layout.csv",
        &text,
        Some(&layout_text.replacen("mfcc.mean.01", "mfcc.mean.99", 1)),
    );
    let header = text.lines().next().unwrap();
    let empty = copy("empty.csv", &format!("{header}\n"), Some(&layout_text));
    assert!(text.contains(",noise,,"));
    let jazz = copy(
        "jazz.csv",
        &text.replacen(",noise,,", ",jazz,,", 1),
        Some(&layout_text),
    );
    let tables: Vec<(PathBuf, &str)> = vec![
        (d.join("missing.csv"), "no such file"),
        (other_version, "layout version 999"),
        (renamed, "mfcc.mean.99"),
        (disagreeing, "does not match the table's header"),
        (empty, "no rows"),
        (jazz, "labels the model does not know: [\"jazz\"]"),
    ];
    for (table, cause) in &tables {
        let run = run(evaluate().arg("--model").arg(&c.model).arg(table), LIMIT);
        assert_one_line_error(&run, "evaluate", 2, table, cause);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }

    // A model whose features are not this build's.
    let model = d.join("other model");
    std::fs::create_dir(&model).unwrap();
    std::fs::copy(
        c.model.join("model.safetensors"),
        model.join("model.safetensors"),
    )
    .unwrap();
    let json = std::fs::read_to_string(c.model.join("model.json")).unwrap();
    std::fs::write(
        model.join("model.json"),
        json.replacen("mfcc.mean.01", "mfcc.mean.99", 1),
    )
    .unwrap();
    let run_model = run(evaluate().arg("--model").arg(&model).arg(&intact), LIMIT);
    assert_one_line_error(&run_model, "evaluate", 2, &model, "mfcc.mean.99");

    // Neither --model nor --cv; both.
    assert_usage_error(&run(evaluate().arg(&intact), LIMIT));
    assert_usage_error(&run(
        evaluate()
            .arg("--model")
            .arg(&c.model)
            .args(["--cv", "2"])
            .arg(&intact),
        LIMIT,
    ));
}

/// `train` and `evaluate` print as they go. Output closed early (`| head -1`) is not an
/// error: the work goes on and the model is written. A full disk behind stdout is one
/// line and their error status, not a panic.
#[cfg(target_os = "linux")]
#[test]
fn train_and_evaluate_go_on_after_a_closed_pipe_and_report_a_full_stdout() {
    use std::process::Stdio;
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let full_disk = |cmd: &mut std::process::Command| {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        cmd.stdout(full).stderr(Stdio::piped()).output().unwrap()
    };
    let stderr = |o: &std::process::Output| String::from_utf8_lossy(&o.stderr).into_owned();

    let model = dir.path().join("piped");
    let o = run_with_stdout_closed(train().arg(&c.table).arg("-o").arg(&model).args(fast()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    assert!(model.join("model.safetensors").is_file());

    let o = full_disk(
        train()
            .arg(&c.table)
            .arg("-o")
            .arg(dir.path().join("full"))
            .args(fast()),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "train: cannot write to standard output: No space left on device (os error 28)\n"
    );

    let o = run_with_stdout_closed(evaluate().arg("--model").arg(&c.model).arg(&c.table));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let o = full_disk(evaluate().arg("--model").arg(&c.model).arg(&c.table));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "evaluate: cannot write to standard output: No space left on device (os error 28)\n"
    );
}

/// An output that cannot be written is reported before the work, not after it: `train`
/// prints no epoch, `evaluate --cv` runs no fold.
#[test]
fn unusable_output_paths_are_reported_before_any_work() {
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a file");
    std::fs::write(&file, b"x").unwrap();
    for (out, cause) in [
        (
            file.clone(),
            format!("{}: exists and is not a folder", file.display()),
        ),
        (
            file.join("model"),
            format!(
                "cannot create {}: {} is not a folder",
                file.join("model").display(),
                file.display()
            ),
        ),
    ] {
        let run = run(
            train().arg(&c.table).arg("-o").arg(&out).args(fast()),
            LIMIT,
        );
        run.assert_code(1);
        assert_eq!(run.stderr, format!("train: {cause}\n"));
        assert_eq!(run.stdout, "", "trained before failing");
    }
    let missing = dir.path().join("no such folder").join("report.json");
    for flag in ["--json", "--plot"] {
        let run = run(
            evaluate()
                .args(["--cv", "2"])
                .arg(&c.table)
                .args(fast())
                .arg(flag)
                .arg(&missing),
            LIMIT,
        );
        run.assert_code(2);
        assert_eq!(
            run.stderr,
            format!(
                "evaluate: cannot write {}: no folder {}\n",
                missing.display(),
                dir.path().join("no such folder").display()
            )
        );
        assert_eq!(run.stdout, "");
    }
}

/// A table of other features still trains, but `train` says at once that `classify` and
/// `evaluate` will refuse the model; a table of this build's features gets no warning.
#[test]
fn train_warns_when_the_table_is_not_this_builds_layout() {
    let c = corpus();
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("three features.csv");
    let text = std::fs::read_to_string(&c.table).unwrap();
    let cut: String = text
        .lines()
        .map(|l| {
            l.split(',')
                .take(ID_COLUMNS + 3)
                .collect::<Vec<_>>()
                .join(",")
                + "\n"
        })
        .collect();
    std::fs::write(&small, cut).unwrap();
    let run = run(
        train()
            .arg(&small)
            .arg("-o")
            .arg(dir.path().join("m"))
            .args(fast()),
        LIMIT,
    );
    run.assert_code(0);
    assert_eq!(
        run.stderr,
        format!(
            "train: warning: {}: 3 features, expected 518; classify and evaluate will refuse \
             the model\n",
            small.display()
        )
    );
    assert_eq!(c.train_run.stderr, "", "this build's table: no warning");
}
