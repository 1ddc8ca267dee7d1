//! A fault-injection hook for the end-to-end tests, off unless its variable is set.
//!
//! `MUSICGENRE_TEST_PANIC=TEXT` makes the analysis of every input whose path contains
//! TEXT panic, inside the worker, exactly where a bug in decoding or feature code would.
//! The CLI tests use it to check that such a panic becomes that file's error and the run
//! goes on (no input is known to panic, so nothing else can). Unset, it costs one
//! environment lookup per run.

/// Read once at the start of a run.
#[derive(Debug, Clone, Default)]
pub struct PanicHook(Option<String>);

/// The variable that arms the hook.
pub const PANIC_VAR: &str = "MUSICGENRE_TEST_PANIC";

impl PanicHook {
    /// The hook as the environment sets it (off when the variable is unset or empty).
    pub fn from_env() -> Self {
        PanicHook(std::env::var(PANIC_VAR).ok().filter(|s| !s.is_empty()))
    }

    /// Panics if the hook is armed for `path`.
    pub fn check(&self, path: &std::path::Path) {
        if let Some(text) = &self.0 {
            if path.to_string_lossy().contains(text.as_str()) {
                panic!("{PANIC_VAR} matched this input");
            }
        }
    }
}
