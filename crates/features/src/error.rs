//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading audio or computing features.
///
/// Every variant describes one input (a file or a buffer); none of them is fatal to a
/// run over many files: the caller reports it for that input and goes on with the next.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read (missing, no permission, a folder, I/O error).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The container or codec is not one we decode (or the bytes are not audio at all).
    #[error("{}: unsupported or unrecognised audio format: {reason}", path.display())]
    Unsupported { path: PathBuf, reason: String },
    /// The stream is damaged beyond the packets we can skip.
    #[error("{}: cannot decode: {reason}", path.display())]
    Decode { path: PathBuf, reason: String },
    /// The file decoded to no samples at all.
    #[error("{}: contains no audio samples", path.display())]
    Empty { path: PathBuf },
    /// A parameter or buffer handed to the library is out of its domain
    /// (e.g. a sample rate of 0); a programming error of the caller, not of the data.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// libsoxr refused to resample.
    #[error("resampling failed: {0}")]
    Resample(String),
    /// The samples contain NaN or infinity (the first at `index`), for which the features
    /// are undefined. Skip this input.
    #[error("audio samples are not finite (first at sample {index})")]
    NonFiniteSamples { index: usize },
}

/// The crate-wide result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
