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
