//! Helpers of the CLI tests: running a binary with a watchdog and its peak memory,
//! writing WAV files, reading the feature table, and the checks every bad input shares.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const FEATURES: &str = env!("CARGO_BIN_EXE_features");
pub const CLASSIFY: &str = env!("CARGO_BIN_EXE_classify");
pub const TRAIN: &str = env!("CARGO_BIN_EXE_train");
pub const EVALUATE: &str = env!("CARGO_BIN_EXE_evaluate");

/// Columns before the 518 features.
pub const ID_COLUMNS: usize = 5;
pub const N_FEATURES: usize = 518;

/// How a finished run went.
#[derive(Debug)]
pub struct Run {
    /// Exit status, or `None` when a signal ended it.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident memory of the process, in bytes.
    pub max_rss: u64,
    pub wall: Duration,
}

impl Run {
    /// Stderr lines that mention `needle`.
    pub fn stderr_lines_with(&self, needle: &str) -> Vec<&str> {
        self.stderr.lines().filter(|l| l.contains(needle)).collect()
    }

    /// Stdout as JSON Lines (`classify --json`), one value per line.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    pub fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "exit {:?} (signal {:?}), expected {code}\nstderr:\n{}",
            self.code,
            self.signal,
            self.stderr
        );
    }
}

/// A `features` command with its stdin closed.
pub fn features() -> Command {
    let mut c = Command::new(FEATURES);
    c.stdin(Stdio::null());
    c
}

/// A `classify` command with one libtorch thread (tests share two cores).
pub fn classify() -> Command {
    let mut c = Command::new(CLASSIFY);
    c.stdin(Stdio::null()).args(["--jobs", "1"]);
    c
}

/// A `train` command with its stdin closed (it uses one libtorch thread itself).
pub fn train() -> Command {
    let mut c = Command::new(TRAIN);
    c.stdin(Stdio::null());
    c
}

/// An `evaluate` command with its stdin closed (it uses one libtorch thread itself).
pub fn evaluate() -> Command {
    let mut c = Command::new(EVALUATE);
    c.stdin(Stdio::null());
    c
}

/// Spawns `cmd` with stdout and stderr captured.
pub fn spawn(cmd: &mut Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Runs `cmd` with its stdout closed before it writes, as `cmd | head -0` leaves it;
/// stderr is collected.
pub fn run_with_stdout_closed(cmd: &mut Command) -> std::process::Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

/// Runs `cmd` to the end. A run longer than `limit` is a hang: it is killed and the
/// test fails.
pub fn run(cmd: &mut Command, limit: Duration) -> Run {
    let child = spawn(cmd);
    wait(child, limit)
}

/// Waits for `child` (reading its output meanwhile), with the watchdog of [`run`].
pub fn wait(mut child: Child, limit: Duration) -> Run {
    let started = Instant::now();
    let mut out = child.stdout.take().expect("stdout is piped");
    let mut err = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let (status, usage) = loop {
        let mut status = 0;
        // SAFETY: plain FFI call with valid pointers; `pid` is our child, not yet reaped.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break (status, usage);
        }
        assert!(r == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{:?} hung: still running after {limit:?}", child.id());
        }
        // A watchdog's polling interval, not synchronisation: the exit is the signal.
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = started.elapsed();
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else {
        (None, Some(libc::WTERMSIG(status)))
    };
    Run {
        code,
        signal,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
        max_rss: usage.ru_maxrss as u64 * 1024,
        wall,
    }
}

/// The usual limit of one test run of a binary: generous for a loaded 2-core machine,
/// short enough to turn a hang into a failure.
pub const LIMIT: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------
// Generated audio.

/// Writes a WAV of `frames` (one Vec per frame, one value per channel, in [-1, 1]) as
/// `bits`-bit integers (8 is unsigned, as WAV stores it) or, with `float`, 32-bit floats.
pub fn write_wav(path: &Path, sr: u32, bits: u16, float: bool, frames: &[Vec<f64>]) {
    let channels = frames.first().map_or(1, |f| f.len()) as u16;
    let spec = hound::WavSpec {
        channels,
        sample_rate: sr,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let scale = (1i64 << (bits - 1)) as f64;
    for frame in frames {
        for &v in frame {
            if float {
                w.write_sample(v as f32).unwrap();
            } else {
                let q = (v * scale).round().clamp(-scale, scale - 1.0) as i32;
                match bits {
                    8 => w.write_sample(q as i8).unwrap(),
                    16 => w.write_sample(q as i16).unwrap(),
                    _ => w.write_sample(q).unwrap(),
                }
            }
        }
    }
    w.finalize().unwrap();
}

/// A mono 16-bit WAV of `signal`.
pub fn write_mono(path: &Path, sr: u32, signal: &[f64]) {
    let frames: Vec<Vec<f64>> = signal.iter().map(|&v| vec![v]).collect();
    write_wav(path, sr, 16, false, &frames);
}

/// `seconds` of a two-tone chord with a little deterministic noise (so no feature row
/// is constant), the `seed` shifting the pitches so files differ.
pub fn music(sr: u32, seconds: f64, seed: u32) -> Vec<f64> {
    let n = (seconds * sr as f64).round() as usize;
    let f1 = 220.0 * (1.0 + (seed % 12) as f64 / 12.0);
    let f2 = f1 * 1.5;
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|i| {
            let t = i as f64 / sr as f64;
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 8) as f64 / (1u64 << 24) as f64 - 0.5;
            0.3 * (2.0 * std::f64::consts::PI * f1 * t).sin()
                + 0.2 * (2.0 * std::f64::consts::PI * f2 * t).sin()
                + 0.01 * noise
        })
        .collect()
}

/// Deterministic pseudo-random bytes.
pub fn random_bytes(n: usize, seed: u32) -> Vec<u8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 24) as u8
        })
        .collect()
}

/// The committed format fixtures of the feature crate.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/features/tests/fixtures/formats")
        .join(name)
}

// ---------------------------------------------------------------------------------
// The feature table.

/// A table read back: the header and each row's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn read(path: &Path) -> Table {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut records = r.records().map(|r| {
            r.unwrap()
                .iter()
                .map(str::to_string)
                .collect::<Vec<String>>()
        });
        let header = records.next().expect("a header");
        Table {
            header,
            rows: records.collect(),
        }
    }

    /// The row whose `path` column is `key`; fails unless there is exactly one.
    pub fn row(&self, key: &str) -> &[String] {
        let found: Vec<&Vec<String>> = self.rows.iter().filter(|r| r[0] == key).collect();
        assert_eq!(
            found.len(),
            1,
            "{key}: {} rows; paths: {:?}",
            found.len(),
            self.paths()
        );
        found[0]
    }

    pub fn paths(&self) -> Vec<&str> {
        self.rows.iter().map(|r| r[0].as_str()).collect()
    }

    /// The value of column `name` in the row of `key`.
    pub fn value(&self, key: &str, name: &str) -> f64 {
        let i = self.column(name);
        self.row(key)[i].parse().unwrap()
    }

    pub fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }
}

/// Checks that a row is complete and every feature is a finite number; returns them.
pub fn finite_features(row: &[String]) -> Vec<f32> {
    assert_eq!(row.len(), ID_COLUMNS + N_FEATURES, "{}: ragged row", row[0]);
    row[ID_COLUMNS..]
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let x: f32 = v
                .parse()
                .unwrap_or_else(|_| panic!("{}: feature {i} is {v:?}", row[0]));
            assert!(x.is_finite(), "{}: feature {i} is {x}", row[0]);
            x
        })
        .collect()
}

/// `OUT.csv.errors`, line by line.
pub fn error_lines(out_csv: &Path) -> Vec<String> {
    let path = PathBuf::from(format!("{}.errors", out_csv.display()));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

/// Checks that the run reported `file` on exactly one stderr line, naming it and the
/// `cause`, and wrote the same line (without the program name) to the errors file; no
/// panic message anywhere.
pub fn assert_one_error(run: &Run, out_csv: &Path, file: &Path, cause: &str) {
    let name = file.display().to_string();
    let lines = run.stderr_lines_with(&name);
    assert_eq!(
        lines.len(),
        1,
        "{name}: expected one line on stderr, got {lines:?}\nstderr:\n{}",
        run.stderr
    );
    let line = lines[0];
    assert!(
        line.starts_with(&format!("features: {name}: ")),
        "the line does not start with the file: {line}"
    );
    assert!(
        line.to_lowercase().contains(&cause.to_lowercase()),
        "{name}: the cause is not {cause:?}: {line}"
    );
    let logged: Vec<String> = error_lines(out_csv)
        .into_iter()
        .filter(|l| l.contains(&name))
        .collect();
    assert_eq!(
        logged,
        vec![line.trim_start_matches("features: ").to_string()],
        "{name}: OUT.csv.errors differs from stderr"
    );
    assert_no_panic(run);
}

/// No panic or backtrace text leaked to the user.
pub fn assert_no_panic(run: &Run) {
    for text in [&run.stderr, &run.stdout] {
        assert!(
            !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
            "a panic leaked:\n{text}"
        );
    }
    assert_eq!(run.signal, None, "ended by a signal:\n{}", run.stderr);
}
