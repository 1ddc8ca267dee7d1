//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong while reading audio or computing features.
///
/// Every variant describes one input (a file or a buffer); none of them is fatal to a
/// run over many files: the caller reports it for that input and goes on with the next.
/// Each message is one line that names the input and the cause.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be opened or read (missing, no permission, I/O error).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The path names something other than a regular file (a directory, a device).
    #[error("{}: is {what}, not an audio file", path.display())]
    NotAFile { path: PathBuf, what: &'static str },
    /// The file has zero bytes.
    #[error("{}: file is empty (0 bytes)", path.display())]
    EmptyFile { path: PathBuf },
    /// The bytes are not a container we recognise (text, an image, random bytes, or a
    /// header too damaged for any reader to identify).
    #[error("{}: not a recognised audio file: {reason}", path.display())]
    UnknownFormat { path: PathBuf, reason: String },
    /// The container holds no audio track we can find (e.g. a video-only MP4).
    #[error("{}: the {container} file has no audio track", path.display())]
    NoAudioTrack {
        path: PathBuf,
        container: &'static str,
    },
    /// The audio track's codec is not one we decode (e.g. Opus in Ogg, AC-3).
    #[error("{}: unsupported codec {codec} in {container} file", path.display())]
    UnsupportedCodec {
        path: PathBuf,
        container: &'static str,
        codec: String,
    },
    /// The container or codec is recognised but uses a feature we do not decode.
    #[error("{}: unsupported audio feature: {reason}", path.display())]
    Unsupported { path: PathBuf, reason: String },
    /// The stream is damaged beyond the packets we can skip (a broken container, a
    /// damaged header of a format we recognise, a file cut off before any audio).
    #[error("{}: cannot decode: {reason}", path.display())]
    Decode { path: PathBuf, reason: String },
    /// The decoder panicked on malformed data; the panic was contained and only this
    /// input failed.
    #[error("{}: decoder crashed on malformed data: {message}", path.display())]
    DecoderPanic { path: PathBuf, message: String },
    /// The file decoded to no samples at all.
    #[error("{}: contains no audio samples", path.display())]
    Empty { path: PathBuf },
    /// The requested offset lies at or past the end of the audio.
    #[error("{}: offset {offset_s} s is past the end of the audio ({duration_s:.3} s)", path.display())]
    OffsetPastEnd {
        path: PathBuf,
        offset_s: f64,
        duration_s: f64,
    },
    /// A parameter or buffer handed to the library is out of its domain
    /// (e.g. a sample rate of 0); a programming error of the caller, not of the data.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// libsoxr refused to resample.
    #[error("resampling failed: {0}")]
    Resample(String),
    /// A sample is NaN or infinite (librosa refuses such input too), the first at
    /// `index`; skip this input.
    #[error("audio samples are not finite (first at sample {index})")]
    NonFiniteSample { index: usize },
    /// Too few samples for the computation (e.g. a CQT that first downsamples by
    /// `min_samples`); skip this input.
    #[error("{n_samples} samples are too few: at least {min_samples} are needed")]
    InputTooShort {
        n_samples: usize,
        min_samples: usize,
    },
}

/// The crate-wide result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Err(NonFiniteSample)` at the first NaN or infinity. Scans in blocks without early
/// exit so that the common, all-finite case vectorises.
pub(crate) fn check_finite(y: &[f32]) -> Result<()> {
    const BLOCK: usize = 1024;
    for (b, block) in y.chunks(BLOCK).enumerate() {
        if block.iter().fold(false, |bad, v| bad | !v.is_finite()) {
            let at = block.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(Error::NonFiniteSample {
                index: b * BLOCK + at,
            });
        }
    }
    Ok(())
}
