//! Shared code of the `features`, `train`, `classify` and `evaluate` binaries: finding
//! input files, writing feature tables, reporting errors. Nothing here uses libtorch, so
//! `features` does not load it; what the model binaries share is in `crates/cli`.

pub mod inputs;
pub mod parallel;
pub mod progress;
pub mod table;
pub mod test_hook;

/// The command line parsed into `T`, or the exit code to end with: 0 after `--help` or
/// `--version` (printed), 2 after a usage error (printed, one message on stderr).
pub fn parse_args<T: clap::Parser>() -> Result<T, std::process::ExitCode> {
    T::try_parse().map_err(|e| {
        let _ = e.print();
        std::process::ExitCode::from(if e.use_stderr() { 2 } else { 0 })
    })
}

/// `text` with its control characters escaped (`\n`, `\t`, `\u{1b}`), so that a file
/// name holding a newline still gives one line per file on stderr, in `OUT.csv.errors`
/// and in `classify`'s output.
pub fn one_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut line = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    std::borrow::Cow::Owned(line)
}

/// Fails at once, rather than after the work, when an output cannot go to `path`: a
/// folder (`train -o`, created with its parents when missing) must not be or lie under a
/// file; a file (`evaluate --json`) must not be a folder, and its folder must exist.
pub fn check_output_path(path: &std::path::Path, folder: bool) -> anyhow::Result<()> {
    if folder {
        let first_existing = path
            .ancestors()
            .find(|p| p.exists() || p.as_os_str().is_empty());
        match first_existing {
            Some(p) if p.as_os_str().is_empty() || p.is_dir() => Ok(()),
            Some(p) if p == path => {
                anyhow::bail!("{}: exists and is not a folder", path.display())
            }
            Some(p) => anyhow::bail!(
                "cannot create {}: {} is not a folder",
                path.display(),
                p.display()
            ),
            None => Ok(()),
        }
    } else {
        if path.is_dir() {
            anyhow::bail!("{}: is a folder, not a file", path.display());
        }
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        match parent {
            Some(p) if !p.is_dir() => {
                anyhow::bail!("cannot write {}: no folder {}", path.display(), p.display())
            }
            _ => Ok(()),
        }
    }
}

/// Standard output for a report printed as the work goes on (`train`'s epochs,
/// `evaluate`'s tables), without `println!`'s panic when a write fails.
///
/// The first failed write is kept and later output dropped; [`StdoutLines::finish`]
/// reports it. A closed pipe (`train ... | head`) is not an error: the work goes on, and
/// what it writes to files (the model) is still written.
#[derive(Debug, Default)]
pub struct StdoutLines {
    error: Option<std::io::Error>,
}

impl StdoutLines {
    /// Writes `text` as it is.
    pub fn write(&mut self, text: impl std::fmt::Display) {
        use std::io::Write;
        if self.error.is_none() {
            if let Err(e) = write!(std::io::stdout().lock(), "{text}") {
                self.error = Some(e);
            }
        }
    }

    /// Writes `text` and a newline.
    pub fn line(&mut self, text: impl std::fmt::Display) {
        self.write(format_args!("{text}\n"));
    }

    /// Flushes, and fails with the first write error other than a closed pipe.
    pub fn finish(mut self) -> anyhow::Result<()> {
        use std::io::Write;
        if self.error.is_none() {
            self.error = std::io::stdout().flush().err();
        }
        match self.error {
            Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(anyhow::anyhow!("cannot write to standard output: {e}"))
            }
            _ => Ok(()),
        }
    }
}

/// The feature settings as JSON, for the layout file next to a table and for models.
pub fn settings_json(s: &musicgenre_features::Settings) -> serde_json::Value {
    serde_json::json!({
        "sample_rate": s.sample_rate,
        "n_fft": s.n_fft,
        "hop_length": s.hop_length,
        "n_mels": s.n_mels,
        "n_mfcc": s.n_mfcc,
        "n_chroma": s.n_chroma,
        "cqt_bins": s.cqt_bins,
        "bins_per_octave": s.bins_per_octave,
        "tuning": s.tuning,
        "resampler": s.resampler,
        "segment_s": s.segments.map(|g| g.length_s()),
        "segment_hop_s": s.segments.map(|g| g.hop_s()),
    })
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn control_characters_are_escaped_and_nothing_else_changes() {
        assert_eq!(
            one_line("rock/café, \"x\".mp3: ok"),
            "rock/café, \"x\".mp3: ok"
        );
        assert_eq!(
            one_line("a/new\nline\r\t\u{1b}[31m.mp3: cause"),
            "a/new\\nline\\r\\t\\u{1b}[31m.mp3: cause"
        );
        assert!(!one_line("x\ny\u{0}").contains(char::is_control));
    }
}
