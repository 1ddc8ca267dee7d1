//! Progress on stderr: a bar with rate and ETA when stderr is a terminal, nothing
//! otherwise (the binaries print a one-line summary at the end instead).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A progress bar that is hidden when stderr is not a terminal or `quiet` is set.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `total` files.
    pub fn new(total: u64, quiet: bool) -> Self {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
        } else {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} files  {per_sec}  ETA {eta}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        };
        Progress { bar }
    }

    /// One more file done.
    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// Prints a line above the bar (or plainly on stderr when there is no bar).
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
