//! `classify` on the bad inputs of the robustness issue and on damaged model files:
//! each bad file gets one stderr line (or one JSON error object) naming it and the cause,
//! the others their genre with finite probabilities; a model that cannot be used is one
//! line and exit 2, never a panic.

use crate::common::*;
use std::path::{Path, PathBuf};

/// A folder of good and bad inputs: (path, true when it must classify).
fn inputs(dir: &Path) -> Vec<(PathBuf, bool)> {
    let mut v = Vec::new();
    let mut add = |name: &str, good: bool, bytes: Option<Vec<u8>>| {
        let p = dir.join(name);
        if let Some(b) = bytes {
            std::fs::write(&p, b).unwrap();
        }
        v.push((p, good));
    };
    add("zero.mp3", false, Some(Vec::new()));
    add("text.mp3", false, Some(b"plain text\n".repeat(30)));
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(random_bytes(500, 2));
    add("image.mp3", false, Some(png));
    add("random.ogg", false, Some(random_bytes(30_000, 3)));
    let tone = std::fs::read(fixture("tone.flac")).unwrap();
    add("cut header.flac", false, Some(tone[..60].to_vec()));
    add("cut.flac", true, Some(tone[..tone.len() * 2 / 3].to_vec()));
    add(
        "video_only.mp4",
        false,
        Some(std::fs::read(fixture("video_only.mp4")).unwrap()),
    );
    add(
        "tone_opus.ogg",
        false,
        Some(std::fs::read(fixture("tone_opus.ogg")).unwrap()),
    );
    add("does not exist.mp3", false, None);
    std::fs::create_dir(dir.join("x.wav")).unwrap();
    add("x.wav", false, None);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("loop.mp3"), dir.join("loop.mp3")).unwrap();
        add("loop.mp3", false, None);
    }
    let sine = |t: f64| (2.0 * std::f64::consts::PI * 440.0 * t).sin();
    let one_s = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
        (0..22050).map(|i| f(i as f64 / 22050.0)).collect()
    };
    write_mono(&dir.join("10 ms.wav"), 22050, &music(22050, 0.01, 1));
    add("10 ms.wav", true, None);
    write_mono(&dir.join("silence.wav"), 22050, &vec![0.0; 22050]);
    add("silence.wav", true, None);
    write_mono(&dir.join("dc.wav"), 22050, &vec![0.5; 22050]);
    add("dc.wav", true, None);
    write_mono(
        &dir.join("square.wav"),
        22050,
        &one_s(&|t| if sine(t) >= 0.0 { 1.0 } else { -1.0 }),
    );
    add("square.wav", true, None);
    let six: Vec<Vec<f64>> = music(48000, 1.0, 2).iter().map(|&v| vec![v; 6]).collect();
    write_wav(&dir.join("6ch.wav"), 48000, 24, false, &six);
    add("6ch.wav", true, None);
    write_mono(&dir.join("8k.wav"), 8000, &music(8000, 1.0, 3));
    add("8k.wav", true, None);
    let f32s: Vec<Vec<f64>> = music(192000, 1.0, 4).iter().map(|&v| vec![v]).collect();
    write_wav(&dir.join("192k float.wav"), 192000, 32, true, &f32s);
    add("192k float.wav", true, None);
    let u8s: Vec<Vec<f64>> = music(22050, 1.0, 5).iter().map(|&v| vec![v]).collect();
    write_wav(&dir.join("Café – 8 bit ♫.wav"), 22050, 8, false, &u8s);
    add("Café – 8 bit ♫.wav", true, None);
    std::fs::copy(fixture("tone.mp3"), dir.join("tone.mp3")).unwrap();
    add("tone.mp3", true, None);
    v
}

#[test]
fn every_bad_input_is_one_line_and_the_others_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let cases = inputs(dir.path());
    let paths: Vec<&PathBuf> = cases.iter().map(|(p, _)| p).collect();
    let run = run(classify().args(&paths), LIMIT);
    run.assert_code(1);
    assert_no_panic(&run);
    let labels = ["classical", "electronic", "pop", "rock"];
    for (path, good) in &cases {
        let name = path.display().to_string();
        let out: Vec<&str> = run.stdout.lines().filter(|l| l.contains(&name)).collect();
        let err = run.stderr_lines_with(&name);
        if *good {
            assert!(err.is_empty(), "{name}: {err:?}");
            assert_eq!(out.len(), 1, "{name}: {out:?}");
            let rest = out[0].strip_prefix(&format!("{name}: ")).unwrap();
            let (genre, pct) = rest.split_once(" (").unwrap();
            assert!(labels.contains(&genre), "{name}: {rest}");
            let pct: f64 = pct.trim_end_matches("%)").parse().unwrap();
            assert!((25.0..=100.0).contains(&pct), "{name}: {rest}");
        } else {
            assert!(out.is_empty(), "{name}: {out:?}");
            assert_eq!(err.len(), 1, "{name}: {err:?}\n{}", run.stderr);
            assert!(
                err[0].starts_with(&format!("classify: {name}: "))
                    && err[0].len() > name.len() + 12,
                "{}",
                err[0]
            );
        }
    }
    let cause = |name: &str| {
        run.stderr_lines_with(&dir.path().join(name).display().to_string())[0].to_string()
    };
    assert!(cause("zero.mp3").contains("empty (0 bytes)"));
    assert!(cause("text.mp3").contains("not a recognised audio file"));
    assert!(cause("video_only.mp4").contains("no audio track"));
    assert!(cause("tone_opus.ogg").contains("unsupported codec Opus"));
    assert!(cause("does not exist.mp3").contains("no such file or directory"));
    assert!(cause("x.wav").contains("no audio files in this folder"));
    #[cfg(unix)]
    assert!(
        cause("loop.mp3").to_lowercase().contains("symbolic links"),
        "{}",
        cause("loop.mp3")
    );
}

#[test]
fn folders_are_walked_as_features_walks_them_in_command_line_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("library");
    for sub in ["a", "b/c", "empty", "notes"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
    }
    write_mono(&root.join("a/one.wav"), 22050, &music(22050, 1.0, 1));
    std::fs::copy(fixture("tone.flac"), root.join("b/c/two.FLAC")).unwrap();
    std::fs::write(root.join("bad.mp3"), b"plain text\n".repeat(30)).unwrap();
    std::fs::copy(fixture("tone.mp3"), root.join("z.mp3")).unwrap();
    std::fs::write(root.join("notes/readme.txt"), b"not audio").unwrap();
    let single = dir.path().join("single.wav");
    write_mono(&single, 22050, &music(22050, 1.0, 2));

    // A file, the folder, the folder without audio files, a file: in that order, the
    // folder's audio files sorted by their path under it (`b/c/...` before `bad.mp3`).
    let walked = run(
        classify()
            .arg("--json")
            .arg(&single)
            .arg(&root)
            .arg(root.join("empty"))
            .arg(&single),
        LIMIT,
    );
    walked.assert_code(1);
    assert_no_panic(&walked);
    let lines = walked.json_lines();
    let expected = [
        (single.clone(), true),
        (root.join("a/one.wav"), true),
        (root.join("b/c/two.FLAC"), true),
        (root.join("bad.mp3"), false),
        (root.join("z.mp3"), true),
        (root.join("empty"), false),
        (single.clone(), true),
    ];
    assert_eq!(lines.len(), expected.len(), "{}", walked.stdout);
    for (line, (path, good)) in lines.iter().zip(&expected) {
        assert_eq!(
            line["path"],
            path.display().to_string(),
            "{}",
            walked.stdout
        );
        assert_eq!(line["genre"].is_string(), *good, "{line}");
        assert_eq!(line["error"].is_string(), !*good, "{line}");
    }
    assert!(lines[3]["error"]
        .as_str()
        .unwrap()
        .contains("not a recognised audio file"));
    assert_eq!(lines[5]["error"], "no audio files in this folder");

    // A folder of good files only: every one classified, exit 0; plain lines.
    let run2 = run(classify().arg(root.join("a")).arg(root.join("b")), LIMIT);
    run2.assert_code(0);
    let shown: Vec<&str> = run2
        .stdout
        .lines()
        .map(|l| l.split_once(": ").unwrap().0)
        .collect();
    let want = [root.join("a/one.wav"), root.join("b/c/two.FLAC")];
    assert_eq!(
        shown,
        want.iter().map(|p| p.to_str().unwrap()).collect::<Vec<_>>()
    );
    assert!(run2.stderr.is_empty(), "{}", run2.stderr);
}

#[test]
fn json_lines_give_finite_probabilities_or_an_error_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases = inputs(dir.path());
    let paths: Vec<&PathBuf> = cases.iter().map(|(p, _)| p).collect();
    let run = run(classify().arg("--json").args(&paths), LIMIT);
    run.assert_code(1);
    assert_no_panic(&run);
    let lines = run.json_lines();
    assert_eq!(lines.len(), cases.len());
    for (line, (path, good)) in lines.iter().zip(&cases) {
        assert_eq!(line["path"], path.display().to_string());
        if *good {
            let probs = line["probabilities"].as_object().unwrap();
            let sum: f64 = probs.values().map(|p| p.as_f64().unwrap()).sum();
            assert!((sum - 1.0).abs() < 1e-3, "{line}");
            assert!(probs.values().all(|p| p.as_f64().unwrap().is_finite()));
        } else {
            let e = line["error"].as_str().unwrap_or_else(|| panic!("{line}"));
            assert!(!e.is_empty() && !e.contains('\n'), "{line}");
        }
    }
}

/// File names that are not UTF-8 (Latin-1 names from an old library) or hold a newline:
/// `--json` still gives one valid JSON line per file (bad bytes shown as U+FFFD), and
/// plain output and error lines stay one line per file, the newline escaped.
#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_or_hold_a_newline_give_one_line_each() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let latin1 = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.wav"));
    let newline = dir.path().join("new\nline.wav");
    let bad = dir.path().join("bad\nname.mp3");
    write_mono(&latin1, 22050, &music(22050, 1.0, 1));
    write_mono(&newline, 22050, &music(22050, 1.0, 2));
    std::fs::write(&bad, b"not audio\n".repeat(20)).unwrap();
    let d = dir.path().display();

    let json = run(classify().arg("--json").arg(dir.path()), LIMIT);
    json.assert_code(1);
    assert_no_panic(&json);
    let lines = json.json_lines();
    let paths: Vec<&str> = lines.iter().map(|l| l["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        vec![
            format!("{d}/bad\nname.mp3"),
            format!("{d}/caf\u{fffd}.wav"),
            format!("{d}/new\nline.wav"),
        ]
    );
    assert!(lines[0]["error"]
        .as_str()
        .unwrap()
        .contains("not a recognised audio file"));
    assert!(lines[1]["genre"].is_string() && lines[2]["genre"].is_string());

    let plain = run(classify().arg(dir.path()), LIMIT);
    plain.assert_code(1);
    assert_no_panic(&plain);
    let out: Vec<&str> = plain.stdout.lines().collect();
    assert_eq!(out.len(), 2, "{}", plain.stdout);
    assert!(
        out[0].starts_with(&format!("{d}/caf\u{fffd}.wav: ")),
        "{}",
        out[0]
    );
    assert!(
        out[1].starts_with(&format!("{d}/new\\nline.wav: ")),
        "{}",
        out[1]
    );
    let err: Vec<&str> = plain.stderr.lines().collect();
    assert_eq!(err.len(), 1, "{}", plain.stderr);
    assert!(
        err[0].starts_with(&format!("classify: {d}/bad\\nname.mp3: not a recognised")),
        "{}",
        err[0]
    );
}

/// `classify ... | head` closes stdout early: the run ends there, quietly, with status 1
/// if a file before had failed, else 0.
#[test]
fn a_closed_stdout_ends_the_run_quietly_with_the_status_so_far() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.wav"), dir.path().join("b.wav"));
    write_mono(&a, 22050, &music(22050, 1.0, 1));
    write_mono(&b, 22050, &music(22050, 1.0, 2));
    let missing = dir.path().join("missing.mp3");
    for (inputs, code) in [(vec![&a, &b], 0), (vec![&missing, &a, &b], 1)] {
        let out = run_with_stdout_closed(classify().args(&inputs));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{inputs:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_panic_inside_one_files_analysis_is_that_files_error() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["a.wav", "b.wav", "c.wav"];
    for (i, n) in names.iter().enumerate() {
        write_mono(&dir.path().join(n), 22050, &music(22050, 0.5, i as u32));
    }
    let paths: Vec<PathBuf> = names.iter().map(|n| dir.path().join(n)).collect();
    let run = run(
        classify()
            .args(&paths)
            .env("MUSICGENRE_TEST_PANIC", "b.wav"),
        LIMIT,
    );
    run.assert_code(1);
    assert_no_panic(&run);
    let b = paths[1].display().to_string();
    let err = run.stderr_lines_with(&b);
    assert_eq!(err.len(), 1, "{}", run.stderr);
    assert!(
        err[0].starts_with(&format!("classify: {b}: internal error: ")),
        "{}",
        err[0]
    );
    assert_eq!(run.stdout.lines().count(), 2, "{}", run.stdout);
}

/// A copy of the bundled model in `dir/name`, changed by `edit(json, weights)`.
fn model_copy(dir: &Path, name: &str, edit: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>)) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/model");
    let mut json = std::fs::read(src.join("model.json")).unwrap();
    let mut weights = std::fs::read(src.join("model.safetensors")).unwrap();
    edit(&mut json, &mut weights);
    let d = dir.join(name);
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("model.json"), json).unwrap();
    std::fs::write(d.join("model.safetensors"), weights).unwrap();
    d
}

#[test]
fn unusable_model_files_are_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("song.wav");
    write_mono(&song, 22050, &music(22050, 0.5, 9));
    let d = dir.path();
    let intact = model_copy(d, "intact", |_, _| {});
    let no_json = model_copy(d, "no json", |_, _| {});
    std::fs::remove_file(no_json.join("model.json")).unwrap();
    let no_weights = model_copy(d, "no weights", |_, _| {});
    std::fs::remove_file(no_weights.join("model.safetensors")).unwrap();
    let cut_weights = model_copy(d, "cut weights", |_, w| w.truncate(w.len() / 2));
    let cut_header = model_copy(d, "cut header", |_, w| w.truncate(5));
    let cut_json = model_copy(d, "cut json", |j, _| j.truncate(j.len() / 2));
    let empty_json = model_copy(d, "empty json", |j, _| j.clear());
    let garbage = model_copy(d, "garbage weights", |_, w| {
        let n = w.len();
        *w = random_bytes(n, 7)
    });
    let other_layout = model_copy(d, "other layout", |j, _| {
        let text = String::from_utf8(j.clone()).unwrap();
        *j = text
            .replacen("mfcc.mean.01", "mfcc.mean.99", 1)
            .into_bytes();
    });
    let fewer_features = model_copy(d, "fewer features", |j, _| {
        let mut v: serde_json::Value = serde_json::from_slice(j).unwrap();
        let names = v["features"]["names"].as_array_mut().unwrap();
        names.pop();
        *j = serde_json::to_vec(&v).unwrap();
    });
    let cases: Vec<(PathBuf, &str)> = vec![
        (d.join("no such model"), "no such file"),
        (song.clone(), "is a file; a model is a folder"),
        (no_json, "model.json"),
        (no_weights, "model.safetensors"),
        (cut_weights, "model.safetensors"),
        (cut_header, "model.safetensors"),
        (cut_json, "model.json"),
        (empty_json, "model.json"),
        (garbage, "model.safetensors"),
        (other_layout, "mfcc.mean.99"),
        (fewer_features, "feature"),
    ];
    for (model, cause) in &cases {
        let run = run(classify().arg("--model").arg(model).arg(&song), LIMIT);
        run.assert_code(2);
        assert_no_panic(&run);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}: {lines:?}", model.display());
        assert!(
            lines[0].starts_with("classify: ") && lines[0].contains(cause),
            "{}: {cause:?} not in {}",
            model.display(),
            lines[0]
        );
        assert!(run.stdout.is_empty());
    }
    // The intact copy works, so each failure above is the damage's.
    let run = run(classify().arg("--model").arg(&intact).arg(&song), LIMIT);
    run.assert_code(0);
}
