//! `features` under faults during a run: SIGKILL at random moments then `--resume`,
//! Ctrl-C, a full disk, the table removed or replaced mid-run, and a panic inside one
//! file's analysis. Whatever happens, the table on disk holds complete rows only, and a
//! resume ends with exactly the table an uninterrupted run writes, byte for byte.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A generated library and the table an uninterrupted run writes for it.
struct Library {
    _dir: tempfile::TempDir,
    root: PathBuf,
    files: usize,
    table: Vec<u8>,
    header_len: usize,
}

impl Library {
    /// `files` clips of 0.2 s in 4 genre folders.
    fn new(files: usize) -> Library {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("audio");
        for i in 0..files {
            let genre = ["blues", "jazz", "pop", "rock"][i % 4];
            let folder = root.join(genre);
            std::fs::create_dir_all(&folder).unwrap();
            let path = folder.join(format!("{i:04}.wav"));
            write_mono(&path, 22050, &music(22050, 0.2, i as u32));
        }
        let out = dir.path().join("reference.csv");
        let run = run(
            features().arg(&root).arg(&out).args(["--jobs", "2"]),
            Duration::from_secs(600),
        );
        run.assert_code(0);
        let table = std::fs::read(&out).unwrap();
        let header_len = table.iter().position(|&b| b == b'\n').unwrap() + 1;
        let lib = Library {
            _dir: dir,
            root,
            files,
            table,
            header_len,
        };
        assert_eq!(lib.rows(&lib.table), files);
        lib
    }

    /// Complete rows in `bytes` (which must be a prefix of the reference table made
    /// of whole lines).
    fn rows(&self, bytes: &[u8]) -> usize {
        bytes[self.header_len..]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
    }

    /// Average row length in bytes.
    fn row_len(&self) -> usize {
        (self.table.len() - self.header_len) / self.files
    }

    /// Checks that `bytes` is the reference table cut after a whole row.
    fn assert_whole_row_prefix(&self, bytes: &[u8]) {
        assert!(
            bytes.len() >= self.header_len && self.table.starts_with(bytes),
            "the table is not a prefix of the uninterrupted run's ({} bytes)",
            bytes.len()
        );
        assert!(
            bytes.ends_with(b"\n"),
            "the table ends with a partial row ({} bytes)",
            bytes.len()
        );
    }

    /// `features LIBRARY out --resume --jobs 2`.
    fn resume(&self, out: &Path) -> Command {
        let mut c = features();
        c.arg(&self.root).arg(out).args(["--resume", "--jobs", "2"]);
        c
    }
}

/// A few hundred files, shared by the tests of this module (built once).
fn big() -> &'static Library {
    static LIB: OnceLock<Library> = OnceLock::new();
    LIB.get_or_init(|| Library::new(240))
}

fn size(path: &Path) -> usize {
    std::fs::metadata(path).map_or(0, |m| m.len() as usize)
}

/// Waits until `path` holds at least `bytes` bytes or `child` exits; true in the first
/// case. Polls: the growing table is the only sign of progress the process gives.
fn wait_for_size(child: &mut std::process::Child, path: &Path, bytes: usize) -> bool {
    let started = Instant::now();
    loop {
        if size(path) >= bytes {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(started.elapsed() < LIMIT, "no progress in {LIMIT:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A small deterministic generator for the moments of the kills.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

#[test]
fn sigkill_at_random_moments_then_resume_gives_the_uninterrupted_table() {
    let lib = big();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let mut rng = Lcg(0x5eed);
    let mut kills = 0;
    let mut kills_mid_run = 0;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 40, "the run never completes");
        let before = size(&out);
        let mut child = spawn(&mut lib.resume(&out));
        if kills < 8 {
            let killed = if kills % 3 == 2 {
                // Early, while it reads, checks and cuts the table or writes the header.
                std::thread::sleep(Duration::from_millis(rng.below(40)));
                child.try_wait().unwrap().is_none()
            } else {
                // Once the table has grown by a random number of bytes (any point in
                // a row), as soon as we see it.
                let grow = 1 + rng.below(6 * lib.row_len() as u64) as usize;
                wait_for_size(&mut child, &out, before.max(lib.header_len) + grow)
            };
            if killed {
                child.kill().unwrap();
                let run = wait(child, LIMIT);
                assert_eq!(run.signal, Some(libc::SIGKILL));
                kills += 1;
                if size(&out) > lib.header_len && size(&out) < lib.table.len() {
                    kills_mid_run += 1;
                }
                continue;
            }
        }
        let run = wait(child, LIMIT);
        run.assert_code(0);
        assert_no_panic(&run);
        break;
    }
    assert!(
        kills >= 5 && kills_mid_run >= 3,
        "{kills} kills, {kills_mid_run} mid-run"
    );
    let table = std::fs::read(&out).unwrap();
    assert!(
        table == lib.table,
        "after {kills} kills and resumes the table differs from an uninterrupted run's \
         ({} vs {} bytes, {} vs {} rows)",
        table.len(),
        lib.table.len(),
        lib.rows(&table),
        lib.files
    );
    assert!(error_lines(&out).is_empty());
}

#[test]
fn resume_after_a_cut_at_any_byte_of_the_table() {
    // What a kill can leave, made on purpose: the table cut anywhere (inside the
    // header, inside a row, at a row's end), then resumed.
    let lib = Library::new(6);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let row = lib.row_len();
    let h = lib.header_len;
    let cuts = [
        0,
        1,
        h / 2,
        h - 1,
        h,
        h + 1,
        h + row / 3,
        h + row - 1,
        h + row,
        h + 2 * row + 17,
        h + 3 * row,
        lib.table.len() - 1,
        lib.table.len(),
    ];
    for cut in cuts {
        std::fs::write(&out, &lib.table[..cut]).unwrap();
        let run = run(&mut lib.resume(&out), LIMIT);
        run.assert_code(0);
        assert!(
            std::fs::read(&out).unwrap() == lib.table,
            "cut at byte {cut} of {}: resumed table differs",
            lib.table.len()
        );
    }
}

/// Sends `signal` to `child`.
fn signal(child: &std::process::Child, signal: libc::c_int) {
    // SAFETY: plain FFI call on our own child's pid.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(r, 0, "kill: {}", std::io::Error::last_os_error());
}

#[test]
fn ctrl_c_stops_cleanly_and_resume_completes() {
    let lib = big();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let mut child = spawn(features().arg(&lib.root).arg(&out).args(["--jobs", "1"]));
    // Two rows on disk: the run is under way and the Ctrl-C handler installed.
    assert!(wait_for_size(
        &mut child,
        &out,
        lib.header_len + 2 * lib.row_len()
    ));
    signal(&child, libc::SIGINT);
    let run = wait(child, LIMIT);
    run.assert_code(130);
    assert_no_panic(&run);
    let table = std::fs::read(&out).unwrap();
    lib.assert_whole_row_prefix(&table);
    let done = lib.rows(&table);
    assert!(done >= 2 && done < lib.files, "{done} rows");
    let remain = format!(
        "interrupted: {} files remain; rerun with --resume",
        lib.files - done
    );
    assert!(
        run.stderr.contains(&remain),
        "no {remain:?} in:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("{done} files ({done} rows) written")),
        "{}",
        run.stderr
    );

    // The last file's rows are always redone (with --segment they may be incomplete).
    let run = run_to_end(&mut lib.resume(&out));
    assert!(
        run.stderr.contains(&format!("{} already there", done - 1)),
        "{}",
        run.stderr
    );
    assert!(std::fs::read(&out).unwrap() == lib.table);

    // A second Ctrl-C ends the run at once, still with exit 130; resume completes it.
    std::fs::remove_file(&out).unwrap();
    let mut child = spawn(features().arg(&lib.root).arg(&out).args(["--jobs", "1"]));
    assert!(wait_for_size(
        &mut child,
        &out,
        lib.header_len + lib.row_len()
    ));
    signal(&child, libc::SIGINT);
    signal(&child, libc::SIGINT);
    let run = wait(child, LIMIT);
    run.assert_code(130);
    run_to_end(&mut lib.resume(&out));
    assert!(std::fs::read(&out).unwrap() == lib.table);
}

fn run_to_end(cmd: &mut Command) -> Run {
    let run = run(cmd, LIMIT);
    run.assert_code(0);
    assert_no_panic(&run);
    run
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_device_is_an_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_mono(&good, 22050, &music(22050, 0.3, 60));
    let out = dir.path().join("out.csv");
    std::os::unix::fs::symlink("/dev/full", &out).unwrap();
    let run = run(features().arg(&good).arg(&out), LIMIT);
    run.assert_code(2);
    assert_no_panic(&run);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("cannot write") && lines[0].contains("No space left on device"),
        "{}",
        lines[0]
    );
}

#[cfg(unix)]
#[test]
fn the_disk_filling_up_mid_run_leaves_whole_rows_and_resume_completes() {
    use std::os::unix::process::CommandExt;
    let lib = big();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    // The file size limit makes writes past it fail with EFBIG, as a full disk fails
    // them with ENOSPC, for this process only and without root.
    let limit = (lib.header_len + 5 * lib.row_len() / 2) as libc::rlim_t;
    let mut cmd = features();
    cmd.arg(&lib.root).arg(&out).args(["--jobs", "2"]);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let run = run(&mut cmd, LIMIT);
    run.assert_code(2);
    assert_no_panic(&run);
    let last = run.stderr.lines().last().unwrap_or("");
    assert!(
        last.contains(&format!("cannot write {}", out.display())) && last.contains("too large"),
        "{}",
        run.stderr
    );
    let table = std::fs::read(&out).unwrap();
    lib.assert_whole_row_prefix(&table);
    assert_eq!(lib.rows(&table), 2);

    run_to_end(&mut lib.resume(&out));
    assert!(std::fs::read(&out).unwrap() == lib.table);
}

#[test]
fn a_table_removed_or_replaced_mid_run_stops_the_run() {
    let lib = big();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    for replace in [false, true] {
        let mut child = spawn(features().arg(&lib.root).arg(&out).args(["--jobs", "2"]));
        assert!(wait_for_size(
            &mut child,
            &out,
            lib.header_len + lib.row_len()
        ));
        let other = b"someone else's file\n";
        if replace {
            let tmp = dir.path().join("other.csv");
            std::fs::write(&tmp, other).unwrap();
            std::fs::rename(&tmp, &out).unwrap();
        } else {
            std::fs::remove_file(&out).unwrap();
        }
        let run = wait(child, LIMIT);
        run.assert_code(2);
        assert_no_panic(&run);
        let last = run.stderr.lines().last().unwrap_or("");
        assert!(
            last.contains("was removed or replaced during the run"),
            "{}",
            run.stderr
        );
        if replace {
            // The new file is left alone.
            assert_eq!(std::fs::read(&out).unwrap(), other);
            std::fs::remove_file(&out).unwrap();
        } else {
            assert!(!out.exists());
        }
    }
}

#[test]
fn a_panic_inside_one_files_analysis_is_that_files_error() {
    let lib = Library::new(6);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let victim = "jazz/0001.wav";
    for jobs in ["1", "2"] {
        let run = run(
            features()
                .arg(&lib.root)
                .arg(&out)
                .args(["--jobs", jobs])
                .env("MUSICGENRE_TEST_PANIC", victim),
            LIMIT,
        );
        run.assert_code(1);
        let path = lib.root.join(victim);
        assert_one_error(&run, &out, &path, "internal error: ");
        assert!(
            run.stderr.contains("MUSICGENRE_TEST_PANIC"),
            "{}",
            run.stderr
        );
        // Every other file has the row an undisturbed run gives it: the worker that
        // panicked went on with fresh buffers.
        let want: Vec<&[u8]> = lib.table[lib.header_len..]
            .split_inclusive(|&b| b == b'\n')
            .filter(|l| !l.starts_with(victim.as_bytes()))
            .collect();
        let got = std::fs::read(&out).unwrap();
        assert_eq!(&got[..lib.header_len], &lib.table[..lib.header_len]);
        assert!(
            got[lib.header_len..] == want.concat()[..],
            "jobs {jobs}: rows differ"
        );
    }
}
