//! `features` on every kind of bad or odd input of the robustness issue: each gives one
//! line on stderr naming the file and the cause (and the same line in OUT.csv.errors), or
//! a row of finite values; never a panic, hang or NaN; exit 0, 1 or 2 as specified.

use crate::common::*;
use std::path::{Path, PathBuf};

/// Runs `features` on `inputs` into `dir/out.csv` with 2 workers.
fn extract(dir: &Path, inputs: &[&Path]) -> (Run, PathBuf) {
    let out = dir.join("out.csv");
    let run = run(
        features().args(inputs).arg(&out).args(["--jobs", "2"]),
        LIMIT,
    );
    (run, out)
}

fn table(out: &Path) -> Table {
    Table::read(out)
}

#[test]
fn empty_text_image_random_bytes_and_a_folder_named_like_audio() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    let rock = root.join("rock");
    std::fs::create_dir_all(&rock).unwrap();
    std::fs::write(rock.join("zero.mp3"), b"").unwrap();
    std::fs::write(rock.join("text.mp3"), b"Not music at all.\n".repeat(50)).unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0".to_vec();
    png.extend(random_bytes(700, 1));
    std::fs::write(rock.join("image.mp3"), png).unwrap();
    for (i, ext) in ["mp3", "wav", "flac", "ogg", "m4a", "aiff"]
        .iter()
        .enumerate()
    {
        std::fs::write(
            rock.join(format!("random.{ext}")),
            random_bytes(20_000, 10 + i as u32),
        )
        .unwrap();
    }
    // A folder with an audio extension is a folder: walked, not decoded.
    let folder = rock.join("x.wav");
    std::fs::create_dir(&folder).unwrap();
    write_mono(&folder.join("inside.wav"), 22050, &music(22050, 0.5, 1));
    write_mono(&rock.join("good.wav"), 22050, &music(22050, 0.5, 2));
    // A named pipe with an audio name: reading it would wait forever for a writer.
    #[cfg(unix)]
    {
        let fifo =
            std::ffi::CString::new(rock.join("pipe.mp3").into_os_string().into_encoded_bytes())
                .unwrap();
        // SAFETY: plain FFI call with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    }

    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(1);
    #[cfg(unix)]
    assert_one_error(&run, &out, &rock.join("pipe.mp3"), "is a special file");
    assert_one_error(
        &run,
        &out,
        &rock.join("zero.mp3"),
        "file is empty (0 bytes)",
    );
    for name in ["text.mp3", "image.mp3"] {
        assert_one_error(&run, &out, &rock.join(name), "not a recognised audio file");
    }
    for ext in ["mp3", "wav", "flac", "ogg", "m4a", "aiff"] {
        assert_one_error(&run, &out, &rock.join(format!("random.{ext}")), "");
    }
    let t = table(&out);
    assert_eq!(t.paths(), vec!["rock/good.wav", "rock/x.wav/inside.wav"]);
    for row in &t.rows {
        finite_features(row);
        assert_eq!(row[1], "rock");
    }
    let n_failed = if cfg!(unix) { 10 } else { 9 };
    assert_eq!(error_lines(&out).len(), n_failed);
    assert!(
        run.stderr.contains("2 files (2 rows) written")
            && run.stderr.contains(&format!("{n_failed} failed")),
        "{}",
        run.stderr
    );

    // Named on the command line, the folder is walked too; a file named directly is
    // decoded whatever its name.
    let (run, out) = extract(dir.path(), &[&folder, &rock.join("text.mp3")]);
    run.assert_code(1);
    assert_one_error(&run, &out, &rock.join("text.mp3"), "not a recognised");
    assert_eq!(table(&out).paths(), vec!["inside.wav"]);
}

/// (file, bytes, duration in s) of a 2-s generated WAV, the committed MP3 and FLAC
/// tones and a 20-s example clip in Ogg Vorbis (the Ogg tone is one page of audio: cut
/// anywhere, nothing of it can be read, by us or by libvorbisfile).
fn whole_files(dir: &Path) -> Vec<(String, Vec<u8>, f64)> {
    let wav = dir.join("whole.wav");
    write_mono(&wav, 22050, &music(22050, 2.0, 3));
    let ogg = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/examples/fats-waller-aint-misbehavin.ogg");
    vec![
        ("cut.wav".into(), std::fs::read(&wav).unwrap(), 2.0),
        (
            "cut.mp3".into(),
            std::fs::read(fixture("tone.mp3")).unwrap(),
            0.5,
        ),
        (
            "cut.flac".into(),
            std::fs::read(fixture("tone.flac")).unwrap(),
            0.5,
        ),
        ("cut.ogg".into(), std::fs::read(ogg).unwrap(), 19.5),
    ]
}

#[test]
fn truncated_files_give_the_audio_before_the_cut_or_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    std::fs::create_dir(&root).unwrap();
    // Cut points: inside the header, early, half-way, near the end, one byte short.
    let fractions = [0.002, 0.01, 0.1, 0.37, 0.5, 0.83, 0.97];
    let mut cuts = Vec::new();
    for (name, bytes, seconds) in whole_files(dir.path()) {
        let mut points: Vec<usize> = fractions
            .iter()
            .map(|f| (bytes.len() as f64 * f) as usize)
            .collect();
        points.push(bytes.len() - 1);
        for at in points {
            let file = format!("{at:06}_{name}");
            std::fs::write(root.join(&file), &bytes[..at]).unwrap();
            cuts.push((file, at, bytes.len(), seconds));
        }
    }
    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(1);
    assert_no_panic(&run);
    let t = table(&out);
    let errors = error_lines(&out);
    let mut rows = 0;
    for (file, at, len, seconds) in &cuts {
        let path = root.join(file);
        let on_stderr = run.stderr_lines_with(&path.display().to_string());
        let has_row = t.rows.iter().any(|r| &r[0] == file);
        // Each cut file is either a row or one error line, never both or neither.
        assert!(
            has_row != (on_stderr.len() == 1) && on_stderr.len() <= 1,
            "{file}: row {has_row}, stderr {on_stderr:?}"
        );
        if has_row {
            rows += 1;
            finite_features(t.row(file));
            let duration = t.value(file, "duration_s");
            assert!(
                duration > 0.0 && duration <= *seconds,
                "{file}: {duration} s"
            );
        } else {
            assert_one_error(&run, &out, &path, "");
        }
        // Past the headers, what is there is decoded, as libsndfile does.
        if *at as f64 >= 0.1 * *len as f64 {
            assert!(
                has_row,
                "{file}: no row for a file cut at {at} of {len} bytes"
            );
        }
        // A file cut inside its first 100 bytes has no audio left: an error.
        if *at < 100 {
            assert!(!has_row, "{file}: a row from {at} bytes");
        }
    }
    assert_eq!(rows + errors.len(), cuts.len());
}

#[test]
fn no_audio_track_and_an_unsupported_codec() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("video_only.mp4");
    let opus = dir.path().join("tone_opus.ogg");
    std::fs::copy(fixture("video_only.mp4"), &video).unwrap();
    std::fs::copy(fixture("tone_opus.ogg"), &opus).unwrap();
    let (run, out) = extract(dir.path(), &[&video, &opus]);
    // Every file failed, but the run itself did its job: 1, with an empty table.
    run.assert_code(1);
    assert_one_error(&run, &out, &video, "has no audio track");
    assert_one_error(&run, &out, &opus, "unsupported codec Opus");
    assert!(table(&out).rows.is_empty());
}

/// A 20-kB WAV that states a rate of 1 Hz is 10,000 s of audio: resampled to 22050 Hz it
/// would need gigabytes and take the run down. It is one error line, quickly, and the
/// files around it are done.
#[test]
fn a_tiny_file_stating_a_rate_of_1_hz_is_one_error_not_gigabytes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    std::fs::create_dir_all(&root).unwrap();
    write_mono(&root.join("a.wav"), 22050, &music(22050, 0.5, 1));
    write_mono(
        &root.join("b_1hz.wav"),
        1,
        &music(22050, 10_000.0 / 22050.0, 2),
    );
    write_mono(&root.join("c.wav"), 22050, &music(22050, 0.5, 3));
    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(1);
    assert_one_error(
        &run,
        &out,
        &root.join("b_1hz.wav"),
        "unsupported audio feature: a sample rate of 1 Hz (the lowest we read is 1000 Hz)",
    );
    assert_eq!(table(&out).paths(), vec!["a.wav", "c.wav"]);
}

/// A failing file whose name holds a newline is still one line on stderr and in
/// OUT.csv.errors (the newline escaped); its good neighbour is a row.
#[test]
fn a_bad_file_named_with_a_newline_is_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("bad\nname.mp3"), b"not audio\n".repeat(20)).unwrap();
    write_mono(&root.join("good\nname.wav"), 22050, &music(22050, 0.5, 1));
    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(1);
    assert_no_panic(&run);
    let escaped = format!("{}/bad\\nname.mp3", root.display());
    let want = format!(
        "{escaped}: not a recognised audio file: no known container or codec signature found"
    );
    let stderr: Vec<&str> = run.stderr.lines().filter(|l| l.contains("bad")).collect();
    assert_eq!(stderr, vec![format!("features: {want}")], "{}", run.stderr);
    assert_eq!(error_lines(&out), vec![want]);
    assert_eq!(table(&out).paths(), vec!["good\nname.wav"]);
}

/// A 16-bit mono RIFF/WAVE file of `samples` at 16 kHz, and the offset of its data
/// chunk's size field.
fn wav_bytes(samples: &[i16]) -> (Vec<u8>, usize) {
    let mut cur = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(&mut cur, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    let bytes = cur.into_inner();
    let at = bytes.windows(4).position(|w| w == b"data").unwrap() + 4;
    (bytes, at)
}

#[test]
fn wav_headers_that_lie_about_the_length() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<i16> = music(16000, 1.0, 4)
        .iter()
        .map(|v| (v * 32767.0) as i16)
        .collect();
    let (good, at) = wav_bytes(&samples);
    let set = |bytes: &mut Vec<u8>, at: usize, v: u32| {
        bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
    };
    // (name, bytes, duration the row must have)
    let mut cases = Vec::new();
    let mut longer = good.clone();
    set(&mut longer, at, 100_000_000);
    cases.push(("data_size_too_big.wav", longer, 1.0));
    let mut streamed = good.clone();
    set(&mut streamed, at, u32::MAX);
    set(&mut streamed, 4, u32::MAX);
    cases.push(("sizes_unknown.wav", streamed, 1.0));
    let mut shorter = good.clone();
    set(&mut shorter, at, 16000); // 8000 samples: the header wins
    cases.push(("data_size_too_small.wav", shorter, 0.5));
    let mut riff_small = good.clone();
    set(&mut riff_small, 4, 100);
    cases.push(("riff_size_too_small.wav", riff_small, 1.0));
    let mut riff_big = good.clone();
    set(&mut riff_big, 4, 1 << 30);
    cases.push(("riff_size_too_big.wav", riff_big, 1.0));
    let mut odd = good.clone();
    set(&mut odd, at, 16001); // half a sample: the whole ones
    cases.push(("data_size_odd.wav", odd, 0.5));
    for (name, bytes, _) in &cases {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    // The header says there is audio, the file has none: cut right after its header.
    let (mut empty, at0) = wav_bytes(&[]);
    set(&mut empty, at0, 32000);
    std::fs::write(dir.path().join("no_data.wav"), &empty).unwrap();

    let names: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let refs: Vec<&Path> = names.iter().map(PathBuf::as_path).collect();
    let (run, out) = extract(dir.path(), &refs);
    run.assert_code(1);
    let t = table(&out);
    for (name, _, duration) in &cases {
        let key = dir.path().join(name).display().to_string();
        finite_features(t.row(&key));
        assert_eq!(t.value(&key, "duration_s"), *duration, "{name}");
    }
    assert_one_error(
        &run,
        &out,
        &dir.path().join("no_data.wav"),
        "the file ends before any audio (cut short?)",
    );
}

/// Writes `signal` as a 22050-Hz mono WAV named `name` under `dir`.
fn clip(dir: &Path, name: &str, signal: &[f64]) {
    write_mono(&dir.join(name), 22050, signal);
}

#[test]
fn short_clips_silence_dc_square_and_clipped_audio_give_finite_rows() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    std::fs::create_dir(&root).unwrap();
    let sr = 22050.0;
    let one_s = |f: &dyn Fn(f64) -> f64| -> Vec<f64> {
        (0..22050).map(|i| f(i as f64 / sr)).collect::<Vec<_>>()
    };
    let sine = |t: f64| (2.0 * std::f64::consts::PI * 440.0 * t).sin();
    clip(&root, "10ms.wav", &music(22050, 0.01, 5));
    clip(&root, "1s.wav", &music(22050, 1.0, 6));
    clip(&root, "one_sample.wav", &[0.5]);
    clip(&root, "silence.wav", &vec![0.0; 22050]);
    clip(&root, "dc.wav", &vec![0.5; 22050]);
    clip(&root, "dc_plus_tone.wav", &one_s(&|t| 0.6 + 0.2 * sine(t)));
    clip(
        &root,
        "square.wav",
        &one_s(&|t| if sine(t) >= 0.0 { 1.0 } else { -1.0 }),
    );
    clip(
        &root,
        "clipped.wav",
        &one_s(&|t| (4.0 * sine(t)).clamp(-1.0, 1.0)),
    );
    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(0);
    assert_no_panic(&run);
    assert!(error_lines(&out).is_empty());
    let t = table(&out);
    assert_eq!(t.rows.len(), 8);
    for row in &t.rows {
        finite_features(row);
    }
    assert_eq!(t.value("10ms.wav", "duration_s"), 0.01);
    assert_eq!(t.value("1s.wav", "duration_s"), 1.0);
    assert_eq!(t.value("one_sample.wav", "duration_s"), 0.0);
    // Digital silence: no energy, no crossings, and the undefined statistics are 0.
    for name in ["rmse.max.01", "zcr.max.01", "spectral_centroid.max.01"] {
        assert_eq!(t.value("silence.wav", name), 0.0, "{name}");
    }
    for name in ["mfcc.skew.01", "mfcc.kurtosis.01", "chroma_cens.skew.01"] {
        assert_eq!(t.value("silence.wav", name), 0.0, "{name}");
    }
    // A constant offset never crosses zero.
    assert_eq!(t.value("dc.wav", "zcr.max.01"), 0.0);
    assert_eq!(t.value("dc_plus_tone.wav", "zcr.max.01"), 0.0);
    // A 440-Hz square wave crosses zero 880 times a second: 2048-sample frames see
    // ~82 crossings (zcr ~0.04) away from the padded edges.
    let zcr = t.value("square.wav", "zcr.median.01");
    assert!((zcr - 880.0 / 22050.0).abs() < 0.003, "square zcr {zcr}");
    // rms from the Hann-windowed STFT, as librosa's rms(S=...): a full-scale square
    // gives sqrt(3/8) (the window's RMS); the clipped sine lies between the square
    // and an unclipped sine (sqrt(3/8)/sqrt(2)).
    let window_rms = (3.0f64 / 8.0).sqrt();
    let rms_square = t.value("square.wav", "rmse.median.01");
    assert!(
        (rms_square - window_rms).abs() < 0.01,
        "square rms {rms_square}"
    );
    let rms_clipped = t.value("clipped.wav", "rmse.median.01");
    assert!(
        rms_clipped > window_rms / 2f64.sqrt() + 0.05 && rms_clipped < rms_square,
        "clipped rms {rms_clipped}"
    );
}

#[test]
fn channel_counts_rates_and_sample_formats() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    std::fs::create_dir(&root).unwrap();
    let signal = music(22050, 1.0, 7);
    let frames = |channels: usize, s: &[f64]| -> Vec<Vec<f64>> {
        s.iter().map(|&v| vec![v; channels]).collect()
    };
    write_wav(&root.join("ch1.wav"), 22050, 16, false, &frames(1, &signal));
    write_wav(&root.join("ch2.wav"), 22050, 16, false, &frames(2, &signal));
    write_wav(&root.join("ch6.wav"), 22050, 16, false, &frames(6, &signal));
    // Six different channels (5.1 with a silent LFE): averaged, not just the first.
    let six: Vec<Vec<f64>> = signal
        .iter()
        .enumerate()
        .map(|(i, &v)| vec![v, -v, 0.5 * v, v, 0.0, (i % 7) as f64 / 70.0])
        .collect();
    write_wav(&root.join("ch6_mixed.wav"), 22050, 16, false, &six);
    write_wav(&root.join("u8.wav"), 22050, 8, false, &frames(1, &signal));
    write_wav(&root.join("s24.wav"), 22050, 24, false, &frames(1, &signal));
    write_wav(&root.join("f32.wav"), 22050, 32, true, &frames(1, &signal));
    write_mono(&root.join("8k.wav"), 8000, &music(8000, 1.0, 8));
    write_mono(&root.join("192k.wav"), 192000, &music(192000, 1.0, 8));

    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(0);
    let t = table(&out);
    assert_eq!(t.rows.len(), 9);
    let values: std::collections::HashMap<&str, Vec<f32>> = t
        .rows
        .iter()
        .map(|r| (r[0].as_str(), finite_features(r)))
        .collect();
    for row in &t.rows {
        assert_eq!(t.value(&row[0], "duration_s"), 1.0, "{}", row[0]);
    }
    // The mean of equal channels is the channel: stereo gives the mono row exactly.
    assert_eq!(values["ch2.wav"], values["ch1.wav"]);
    // Summing six equal f32 values and dividing by 6 rounds: close, not equal.
    close(&values["ch6.wav"], &values["ch1.wav"], 1e-3, "6 channels");
    assert_ne!(values["ch6_mixed.wav"], values["ch1.wav"]);
    // Bit depths: the same song, quantised more or less finely.
    close(
        &values["s24.wav"],
        &values["f32.wav"],
        1e-3,
        "24-bit vs float",
    );
    close(
        &values["ch1.wav"],
        &values["f32.wav"],
        2e-2,
        "16-bit vs float",
    );
    // The resampled rates hear the same chord as a 22050-Hz file of it would.
    let chroma = |k: &str| t.value(k, "chroma_cqt.mean.01");
    assert!((chroma("8k.wav") - chroma("192k.wav")).abs() < 0.05);
}

/// Checks that two feature rows agree on the columns that are well conditioned (means
/// and medians: higher moments of nearly constant rows amplify rounding), relative to
/// `tol` of each value's magnitude (plus `tol` absolute).
/// The artist column, which training splits by, comes from each format's tags; a file
/// without them leaves it empty. Files directly in the folder have an empty label.
#[test]
fn artist_column_comes_from_the_tags() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    std::fs::create_dir_all(root.join("jazz")).unwrap();
    std::fs::copy(fixture("tone.mp3"), root.join("jazz/id3.mp3")).unwrap();
    std::fs::copy(fixture("tone.flac"), root.join("jazz/vorbis_comment.flac")).unwrap();
    std::fs::copy(fixture("tone.ogg"), root.join("jazz/vorbis.ogg")).unwrap();
    std::fs::copy(fixture("tone_8k.mp3"), root.join("untagged.mp3")).unwrap();
    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(0);
    let t = table(&out);
    let cells = |key: &str| {
        let row = t.row(key);
        (row[1].clone(), row[2].clone())
    };
    let jazz = |artist: &str| ("jazz".to_string(), artist.to_string());
    assert_eq!(cells("jazz/id3.mp3"), jazz("Test Artist"));
    assert_eq!(cells("jazz/vorbis_comment.flac"), jazz("Flac Artist"));
    assert_eq!(cells("jazz/vorbis.ogg"), jazz("Vorbis Artist"));
    assert_eq!(cells("untagged.mp3"), (String::new(), String::new()));
}

/// `--segment` alone steps by the window length and drops a last partial window;
/// `--segment-hop` needs `--segment`; `--quiet` leaves stderr empty, and without it a
/// run that is not on a terminal ends with one summary line.
#[test]
fn segment_defaults_and_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("song.wav");
    write_mono(&song, 22050, &music(22050, 3.5, 3));
    let out = dir.path().join("out.csv");

    let r = run(
        features().args(["--segment", "1"]).arg(&song).arg(&out),
        LIMIT,
    );
    r.assert_code(0);
    let t = table(&out);
    let starts: Vec<f64> = t.rows.iter().map(|r| r[3].parse().unwrap()).collect();
    assert_eq!(starts, vec![0.0, 1.0, 2.0]);
    assert!(t.rows.iter().all(|r| r[4] == "1"), "every window lasts 1 s");
    let summary: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(summary.len(), 1, "{}", r.stderr);
    assert!(
        summary[0].starts_with("features: 1 files (3 rows) written to "),
        "{}",
        r.stderr
    );

    let hop_alone = dir.path().join("hop.csv");
    let r = run(
        features()
            .args(["--segment-hop", "0.5"])
            .arg(&song)
            .arg(&hop_alone),
        LIMIT,
    );
    r.assert_code(2);
    assert!(r.stderr.contains("--segment <SECONDS>"), "{}", r.stderr);
    assert!(!hop_alone.exists());

    let quiet = dir.path().join("quiet.csv");
    let r = run(features().arg("-q").arg(&song).arg(&quiet), LIMIT);
    r.assert_code(0);
    assert_eq!(r.stderr, "", "--quiet prints nothing");
    assert_eq!(table(&quiet).rows.len(), 1);
}

/// On a terminal, `features` draws a bar with the count, rate and ETA, prints an error
/// line above it, and clears it before the summary.
#[test]
fn progress_bar_on_a_terminal() {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for seed in 0..3 {
        let path = dir.path().join(format!("s{seed}.wav"));
        write_mono(&path, 22050, &music(22050, 1.0, seed));
        inputs.push(path);
    }
    let bad = dir.path().join("bad.wav");
    std::fs::write(&bad, b"not audio").unwrap();
    inputs.push(bad.clone());
    let out = dir.path().join("out.csv");

    // A pseudo-terminal of 120 columns for stderr.
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 120,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: valid pointers to locals; the two new descriptors are owned below.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned these descriptors, and nothing else owns them.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut terminal = std::fs::File::from(master);
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        // Ends with EIO once the child, the last holder of the other side, exits.
        let _ = terminal.read_to_end(&mut seen);
        String::from_utf8_lossy(&seen).into_owned()
    });
    let mut cmd = features();
    cmd.args(&inputs)
        .arg(&out)
        .args(["--jobs", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(slave);
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("features hung on a terminal");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    assert_eq!(status.code(), Some(1), "one file fails");
    let screen = reader.join().unwrap();
    assert!(screen.contains("/4 files"), "no bar: {screen:?}");
    assert!(screen.contains("ETA"), "no ETA: {screen:?}");
    assert!(screen.contains("/s"), "no rate: {screen:?}");
    let error = format!("features: {}: not a recognised audio file", bad.display());
    assert!(screen.contains(&error), "no error line: {screen:?}");
    // The bar is cleared (erase line) before the summary, which comes last.
    let summary = screen
        .rfind("features: 3 files (3 rows) written to ")
        .unwrap_or_else(|| panic!("no summary: {screen:?}"));
    assert!(screen[..summary].ends_with("\x1b[2K"), "{screen:?}");
    assert_eq!(table(&out).rows.len(), 3);
}

/// The table holds exactly the library's f32 values: each cell parses back to the
/// same bits, whole files and windows alike.
#[test]
fn table_values_are_the_library_values_bit_for_bit() {
    use musicgenre_features::{ExtractOptions, Extractor, Segments};
    let dir = tempfile::tempdir().unwrap();
    let song = dir.path().join("song.wav");
    write_mono(&song, 44100, &music(44100, 2.5, 11));
    for segments in [None, Some(Segments::new(1.0, 0.5).unwrap())] {
        let out = dir.path().join("out.csv");
        let _ = std::fs::remove_file(&out);
        let mut cmd = features();
        cmd.arg(&song).arg(&out);
        if let Some(s) = &segments {
            cmd.args(["--segment", "1", "--segment-hop", "0.5"]);
            assert_eq!((s.length_s(), s.hop_s()), (1.0, 0.5));
        }
        run(&mut cmd, LIMIT).assert_code(0);
        let extractor = Extractor::new(ExtractOptions { segments }).unwrap();
        let expected = extractor
            .extract_file(&song, &mut extractor.scratch())
            .unwrap();
        let t = table(&out);
        assert_eq!(t.rows.len(), expected.windows.len());
        for (row, window) in t.rows.iter().zip(&expected.windows) {
            let cells: Vec<f32> = row[5..].iter().map(|c| c.parse().unwrap()).collect();
            assert_eq!(cells.len(), window.values.len());
            for (i, (a, b)) in cells.iter().zip(&window.values).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "column {i}: {a} vs {b}");
            }
            assert_eq!(row[3].parse::<f64>().unwrap(), window.start_s);
        }
    }
}

/// The vector kernels (AVX-512, AVX2, plain code) do the scalar arithmetic lane by lane,
/// so the table is the same file whichever `MUSICGENRE_ISA` allows, resampling, MP3
/// decoding and windows included; a value that names no instruction set is a usage error.
#[test]
fn the_table_is_the_same_on_every_instruction_set() {
    let dir = tempfile::tempdir().unwrap();
    let audio = dir.path().join("audio");
    std::fs::create_dir(&audio).unwrap();
    write_mono(&audio.join("a22.wav"), 22050, &music(22050, 3.0, 71));
    let stereo: Vec<Vec<f64>> = music(44100, 4.0, 72)
        .iter()
        .map(|&x| vec![x, -0.5 * x])
        .collect();
    write_wav(&audio.join("b44.wav"), 44100, 16, false, &stereo);
    std::fs::copy(fixture("brahms_cut.mp3"), audio.join("c.mp3")).unwrap();
    let table_with = |isa: &str| {
        let out = dir.path().join(format!("out_{isa}.csv"));
        run(
            features()
                .arg(&audio)
                .arg(&out)
                .args(["--segment", "2", "--segment-hop", "1"])
                .env("MUSICGENRE_ISA", isa),
            LIMIT,
        )
        .assert_code(0);
        std::fs::read(&out).unwrap()
    };
    let widest = table_with("");
    assert!(table(&dir.path().join("out_.csv")).rows.len() >= 6);
    for isa in ["avx2", "scalar"] {
        assert!(table_with(isa) == widest, "{isa}: the table differs");
    }

    let bad = run(
        features()
            .arg(&audio)
            .arg(dir.path().join("bad.csv"))
            .env("MUSICGENRE_ISA", "sse9"),
        LIMIT,
    );
    bad.assert_code(2);
    assert!(
        bad.stderr
            .contains("MUSICGENRE_ISA=\"sse9\" is not an instruction set"),
        "{}",
        bad.stderr
    );
    assert!(!dir.path().join("bad.csv").exists());
}

fn close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    let names = musicgenre_features::feature_names();
    for (i, name) in names.iter().enumerate() {
        if !(name.contains(".mean.") || name.contains(".median.")) {
            continue;
        }
        let (x, y) = (a[i], b[i]);
        assert!(
            (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())),
            "{what}: {name}: {x} vs {y}"
        );
    }
}

#[test]
fn names_with_spaces_commas_quotes_and_non_ascii_characters() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    let hiphop = root.join("hip hop");
    std::fs::create_dir_all(&hiphop).unwrap();
    let names = [
        "a song.wav",
        "Sigur Rós – Hoppípolla.wav",
        "日本の歌 ♫.wav",
        "comma, \"quoted\".wav",
        " leading space.wav",
    ];
    for (i, name) in names.iter().enumerate() {
        write_mono(&hiphop.join(name), 22050, &music(22050, 0.3, 20 + i as u32));
    }
    let broken = hiphop.join("Motörhead – broken ✗.mp3");
    std::fs::write(&broken, b"ID3 broken").unwrap();
    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(1);
    assert_one_error(&run, &out, &broken, "");
    let t = table(&out);
    let mut want: Vec<String> = names.iter().map(|n| format!("hip hop/{n}")).collect();
    want.sort();
    assert_eq!(
        t.paths(),
        want.iter().map(String::as_str).collect::<Vec<_>>()
    );
    for row in &t.rows {
        assert_eq!(row[1], "hip hop");
        finite_features(row);
    }
    // The names read back from the table resume the run: only the last file (which
    // may have been cut) and the broken one are tried again; the broken one is
    // reported once, not once per run.
    let resume = || {
        crate::common::run(
            features()
                .arg(&root)
                .arg(&out)
                .args(["--resume", "--jobs", "2"]),
            LIMIT,
        )
    };
    let again = resume();
    again.assert_code(1);
    assert!(again.stderr.contains("4 already there"), "{}", again.stderr);
    assert_one_error(&again, &out, &broken, "");
    assert_eq!(error_lines(&out).len(), 1);
    assert_eq!(Table::read(&out), t);
    // Mended, it gets its row and its error is gone.
    write_mono(&broken, 22050, &music(22050, 0.3, 29));
    let mended = resume();
    mended.assert_code(0);
    assert!(error_lines(&out).is_empty());
    finite_features(Table::read(&out).row("hip hop/Motörhead – broken ✗.mp3"));
}

#[cfg(unix)]
#[test]
fn unreadable_file_and_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    let locked_dir = root.join("jazz");
    std::fs::create_dir_all(&locked_dir).unwrap();
    write_mono(&root.join("locked.wav"), 22050, &music(22050, 0.3, 30));
    write_mono(
        &locked_dir.join("hidden.wav"),
        22050,
        &music(22050, 0.3, 31),
    );
    write_mono(&root.join("open.wav"), 22050, &music(22050, 0.3, 32));
    let mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(&root.join("locked.wav"), 0o000);
    mode(&locked_dir, 0o000);
    let enforced = std::fs::File::open(root.join("locked.wav")).is_err();
    let (run, out) = extract(dir.path(), &[&root]);
    mode(&locked_dir, 0o755);
    let t = table(&out);
    if enforced {
        run.assert_code(1);
        assert_one_error(&run, &out, &root.join("locked.wav"), "permission denied");
        assert_one_error(&run, &out, &locked_dir, "permission denied");
        assert_eq!(t.paths(), vec!["open.wav"]);
    } else {
        // Root reads through permissions: the one thing to check is that both files
        // are then analysed like any other.
        eprintln!("permissions are not enforced for this user (root): checking the rows only");
        run.assert_code(0);
        assert_eq!(t.paths(), vec!["jazz/hidden.wav", "locked.wav", "open.wav"]);
    }
    for row in &t.rows {
        finite_features(row);
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_inside_the_input_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    let pop = root.join("pop");
    std::fs::create_dir_all(&pop).unwrap();
    write_mono(&pop.join("song.wav"), 22050, &music(22050, 0.3, 40));
    std::os::unix::fs::symlink(&root, pop.join("back to root")).unwrap();
    std::os::unix::fs::symlink(pop.join("self"), pop.join("self")).unwrap();
    let (run, out) = extract(dir.path(), &[&root]);
    run.assert_code(1);
    assert_one_error(&run, &out, &pop.join("back to root"), "symbolic link loop");
    assert_eq!(table(&out).paths(), vec!["pop/song.wav"]);
}

#[test]
fn a_path_that_does_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such folder");
    let good = dir.path().join("good.wav");
    write_mono(&good, 22050, &music(22050, 0.3, 50));

    // Beside a good input: that file's error, the good row, exit 1.
    let (beside, out) = extract(dir.path(), &[&missing, &good]);
    beside.assert_code(1);
    assert_one_error(&beside, &out, &missing, "no such file or directory");
    assert_eq!(table(&out).rows.len(), 1);

    // Alone: nothing could be done, exit 2, one line, and no table is left behind.
    let out = dir.path().join("alone.csv");
    let run = run(features().arg(&missing).arg(&out), LIMIT);
    run.assert_code(2);
    assert_no_panic(&run);
    let lines = run.stderr_lines_with(&missing.display().to_string());
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].contains("no such file or directory"),
        "{}",
        lines[0]
    );
    assert!(!out.exists());
}

#[test]
fn bad_arguments_and_unwritable_output_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_mono(&good, 22050, &music(22050, 0.3, 51));
    let nowhere = dir.path().join("no such folder/out.csv");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (vec![good.clone().into()], "required"),
        (
            vec![good.clone().into(), dir.path().join("out.txt").into()],
            "must be the output table",
        ),
        (
            vec![good.clone().into(), nowhere.clone().into()],
            "cannot create",
        ),
        (
            vec![empty.clone().into(), dir.path().join("e.csv").into()],
            "no audio files found",
        ),
        (
            vec![
                good.clone().into(),
                dir.path().join("s.csv").into(),
                "--segment".into(),
                "0".into(),
            ],
            "segment length must be at least",
        ),
    ];
    for (args, cause) in cases {
        let run = run(features().args(&args), LIMIT);
        run.assert_code(2);
        assert_no_panic(&run);
        let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.is_empty()).collect();
        assert!(
            lines.iter().any(|l| l.contains(cause)),
            "{args:?}: {cause:?} not in {lines:?}"
        );
        if !cause.contains("required") {
            assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        }
    }
}

/// The header is the same for any `--segment`: `--resume` compares the settings in
/// OUT.csv.layout.json and refuses to add rows made with others, leaving the table as it
/// was; with the same settings it resumes.
#[test]
fn resume_refuses_a_table_made_with_other_window_settings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("audio");
    std::fs::create_dir_all(&root).unwrap();
    for i in 0..2 {
        write_mono(&root.join(format!("{i}.wav")), 22050, &music(22050, 3.0, i));
    }
    let out = dir.path().join("out.csv");
    let windows = ["--segment", "1", "--segment-hop", "0.5"];
    run(features().arg(&root).arg(&out).args(windows), LIMIT).assert_code(0);
    let table = std::fs::read(&out).unwrap();
    let layout = std::fs::read(dir.path().join("out.csv.layout.json")).unwrap();
    for other in [vec![], vec!["--segment", "1"], vec!["--segment", "2"]] {
        let run = run(
            features().arg(&root).arg(&out).arg("--resume").args(&other),
            LIMIT,
        );
        run.assert_code(2);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{other:?}: {}", run.stderr);
        assert!(
            lines[0].starts_with(&format!(
                "features: cannot resume {}: its rows were made with other settings (",
                out.display()
            )),
            "{}",
            lines[0]
        );
        assert!(
            std::fs::read(&out).unwrap() == table,
            "{other:?}: table changed"
        );
        assert!(std::fs::read(dir.path().join("out.csv.layout.json")).unwrap() == layout);
    }
    let run = run(
        features()
            .arg(&root)
            .arg(&out)
            .arg("--resume")
            .args(windows),
        LIMIT,
    );
    run.assert_code(0);
    assert!(std::fs::read(&out).unwrap() == table, "the same rows again");
}
