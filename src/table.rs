//! The feature table on disk: a CSV with one row per file (or per window of a file),
//! written as results arrive, so that a run killed at any moment can be resumed without
//! losing or duplicating anything.
//!
//! Format: header `path,label,artist,start_s,duration_s,` + the feature names, then one
//! row per window. Floats are printed in Rust's shortest form that reads back as the same
//! f32. Next to `OUT.csv` go `OUT.csv.layout.json` (layout version, names and the
//! extraction settings) and `OUT.csv.errors` (one line per file that failed).
//!
//! Crash safety: all rows of one file are written with one `write_all` and flushed before
//! the next file's. A kill can still cut that write short, so resuming (1) drops a
//! half-written last line, (2) drops every row of the last file in the table, which may
//! be incomplete, and (3) checks that the header is the one this run would write.

use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The columns before the features.
pub const ID_COLUMNS: [&str; 5] = ["path", "label", "artist", "start_s", "duration_s"];

/// One row's identifying fields.
#[derive(Debug, Clone, PartialEq)]
pub struct RowId<'a> {
    pub path: &'a str,
    pub label: &'a str,
    pub artist: &'a str,
    pub start_s: f64,
    pub duration_s: f64,
}

/// The header line (with its newline).
pub fn header_line(feature_names: &[String]) -> String {
    let mut fields: Vec<&str> = ID_COLUMNS.to_vec();
    fields.extend(feature_names.iter().map(String::as_str));
    csv_line(fields.iter().copied())
}

/// One data line (with its newline).
pub fn row_line(id: &RowId<'_>, values: &[f32]) -> String {
    let mut line = csv_line([id.path, id.label, id.artist]);
    line.pop(); // the newline; more fields follow
    line.push_str(&format!(
        ",{},{}",
        seconds(id.start_s),
        seconds(id.duration_s)
    ));
    for v in values {
        line.push(',');
        line.push_str(&v.to_string());
    }
    line.push('\n');
    line
}

/// Seconds with millisecond resolution and no trailing zeros ("12.5", "30", "0.046").
fn seconds(s: f64) -> String {
    let text = format!("{:.3}", s);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".into()
    } else {
        text.into()
    }
}

/// Quotes fields the way the csv crate does (only when needed) and joins them.
fn csv_line<'a>(fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) || f.starts_with(' ') || f.ends_with(' ') {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
    out
}

/// The feature table being written, opened for appending.
pub struct TableWriter {
    path: PathBuf,
    file: File,
    identity: Option<(u64, u64)>,
    /// Bytes of whole rows (and the header) in the file: where a failed write is cut back to.
    len: u64,
}

impl TableWriter {
    /// Starts a new table at `path` (replacing any file there) with `header`.
    pub fn create(path: &Path, header: &str) -> Result<Self> {
        let mut file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        file.write_all(header.as_bytes())
            .and_then(|_| file.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Self::from_file(path, file, header.len() as u64)
    }

    /// Opens an existing table to resume it: checks the header, cuts an incomplete tail
    /// (see the module doc) and returns the writer plus the `path` keys already done.
    /// A missing or empty file starts a new table.
    pub fn resume(path: &Path, header: &str) -> Result<(Self, HashSet<String>)> {
        let mut file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((Self::create(path, header)?, HashSet::new()))
            }
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .with_context(|| format!("cannot read {}", path.display()))?;
        // Empty, or killed while writing the header: start afresh.
        if header.as_bytes().starts_with(&text) {
            drop(file);
            return Ok((Self::create(path, header)?, HashSet::new()));
        }
        if !text.starts_with(header.as_bytes()) {
            bail!(
                "{} was not written with these settings (its header differs); \
                 write to a new file or run without --resume to replace it",
                path.display()
            );
        }
        let (keep, done) = complete_prefix(&text, header.len());
        file.set_len(keep as u64)
            .with_context(|| format!("cannot truncate {}", path.display()))?;
        file.seek(SeekFrom::End(0))?;
        Ok((Self::from_file(path, file, keep as u64)?, done))
    }

    fn from_file(path: &Path, file: File, len: u64) -> Result<Self> {
        let identity = file_identity(&file);
        Ok(TableWriter {
            path: path.to_path_buf(),
            file,
            identity,
            len,
        })
    }

    /// Appends one file's rows and flushes them; fails if the write fails (disk full) or
    /// if the table was removed or replaced while we were writing it.
    ///
    /// A write that fails part-way (the disk filled up in the middle of a row) is cut
    /// back, so the table still ends with a whole row.
    pub fn append(&mut self, rows: &str) -> Result<()> {
        let written = self
            .file
            .write_all(rows.as_bytes())
            .and_then(|_| self.file.flush());
        if let Err(e) = written {
            // Best effort: if even this fails, resuming drops the partial row.
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(SeekFrom::Start(self.len));
            return Err(e).with_context(|| format!("cannot write {}", self.path.display()));
        }
        self.len += rows.len() as u64;
        self.check_identity()
    }

    /// Flushes the table to stable storage; fails, as [`append`](Self::append) does, if
    /// the table was removed or replaced after the last rows were written.
    pub fn sync(&mut self) -> Result<()> {
        self.file
            .sync_data()
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        self.check_identity()
    }

    /// Fails if the path no longer names the file we are writing.
    fn check_identity(&self) -> Result<()> {
        let now = std::fs::metadata(&self.path)
            .ok()
            .map(|m| meta_identity(&m));
        if self.identity.is_some() && now.flatten() != self.identity {
            bail!(
                "{} was removed or replaced during the run",
                self.path.display()
            );
        }
        Ok(())
    }
}

/// The byte length of the table up to (and without) its last file's rows, and the keys of
/// the files before it. Lines after a malformed one are dropped too.
fn complete_prefix(text: &[u8], header_len: usize) -> (usize, HashSet<String>) {
    // Complete lines only: stop at the last newline.
    let end = text
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0)
        .max(header_len);
    let n_fields = count_fields(&text[..header_len]);
    let mut rows: Vec<(usize, String)> = Vec::new(); // (start offset, key)
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&text[header_len..end]);
    let mut record = csv::ByteRecord::new();
    let mut good_end = header_len;
    loop {
        let start = header_len + reader.position().byte() as usize;
        match reader.read_byte_record(&mut record) {
            Ok(true) if record.len() == n_fields => {
                rows.push((start, String::from_utf8_lossy(&record[0]).into_owned()));
                good_end = header_len + reader.position().byte() as usize;
            }
            _ => break,
        }
    }
    // The last file's rows may be incomplete: drop them all.
    if let Some((_, last)) = rows.last().cloned() {
        while rows.last().map(|(_, k)| k == &last).unwrap_or(false) {
            if let Some((start, _)) = rows.pop() {
                good_end = start;
            }
        }
    }
    (good_end, rows.into_iter().map(|(_, k)| k).collect())
}

fn count_fields(header: &[u8]) -> usize {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(header)
        .byte_records()
        .next()
        .and_then(|r| r.ok())
        .map(|r| r.len())
        .unwrap_or(0)
}

#[cfg(unix)]
fn meta_identity(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn meta_identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

fn file_identity(f: &File) -> Option<(u64, u64)> {
    f.metadata().ok().and_then(|m| meta_identity(&m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["a.mean.01".into(), "a.std.01".into()]
    }

    fn id<'a>(path: &'a str, start: f64) -> RowId<'a> {
        RowId {
            path,
            label: "rock",
            artist: "X, Y",
            start_s: start,
            duration_s: 30.0,
        }
    }

    #[test]
    fn lines_quote_when_needed_and_floats_round_trip() {
        assert_eq!(
            header_line(&names()),
            "path,label,artist,start_s,duration_s,a.mean.01,a.std.01\n"
        );
        let v = [0.1f32, -1.234_567_9e-7];
        let line = row_line(&id("rock/a \"b\".mp3", 1.5), &v);
        assert_eq!(
            line,
            "\"rock/a \"\"b\"\".mp3\",rock,\"X, Y\",1.5,30,0.1,-0.00000012345679\n"
        );
        let back: f32 = line.trim_end().rsplit(',').next().unwrap().parse().unwrap();
        assert_eq!(back, v[1]);
    }

    #[test]
    fn resume_drops_a_half_line_and_the_last_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let header = header_line(&names());
        let mut w = TableWriter::create(&p, &header).unwrap();
        w.append(&row_line(&id("a.mp3", 0.0), &[1.0, 2.0])).unwrap();
        w.append(
            &(row_line(&id("b.mp3", 0.0), &[1.0, 2.0]) + &row_line(&id("b.mp3", 3.0), &[3.0, 4.0])),
        )
        .unwrap();
        drop(w);
        let full = std::fs::read_to_string(&p).unwrap();
        // Simulate a kill in the middle of writing c.mp3's row.
        std::fs::write(&p, format!("{full}c.mp3,rock,,0,30,1.")).unwrap();
        let (mut w, done) = TableWriter::resume(&p, &header).unwrap();
        let expected: HashSet<String> = ["a.mp3".to_string()].into();
        assert_eq!(done, expected, "b.mp3 was the last file: redone");
        w.append(&row_line(&id("b.mp3", 0.0), &[1.0, 2.0])).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.ends_with("b.mp3,rock,\"X, Y\",0,30,1,2\n"));
    }

    #[test]
    fn resume_refuses_a_table_with_another_header() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, "path,label,other\n").unwrap();
        let err = TableWriter::resume(&p, &header_line(&names()))
            .err()
            .unwrap();
        assert!(err.to_string().contains("header differs"), "{err}");
    }

    #[test]
    fn resume_of_a_missing_or_empty_file_starts_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let header = header_line(&names());
        let (_, done) = TableWriter::resume(&p, &header).unwrap();
        assert!(done.is_empty());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), header);
    }

    #[cfg(unix)]
    #[test]
    fn a_table_removed_mid_run_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let mut w = TableWriter::create(&p, &header_line(&names())).unwrap();
        std::fs::remove_file(&p).unwrap();
        let err = w.append("x\n").err().unwrap();
        assert!(err.to_string().contains("removed or replaced"), "{err}");

        // Removed after the last rows: the final sync says so.
        let mut w = TableWriter::create(&p, &header_line(&names())).unwrap();
        w.append("x\n").unwrap();
        std::fs::remove_file(&p).unwrap();
        let err = w.sync().err().unwrap();
        assert!(err.to_string().contains("removed or replaced"), "{err}");
    }
}
