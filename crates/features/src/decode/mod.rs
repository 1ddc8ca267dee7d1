//! Reading audio files into mono f32 at 22050 Hz, as `librosa.load(path)` returns them.
//!
//! Reference: librosa 0.11.0 `load(path, sr=22050, mono=True, offset=0.0,
//! duration=None, res_type="soxr_hq")`, which reads with soundfile/libsndfile as float32
//! (MP3 through mpg123, which drops the encoder delay and padding), averages the channels
//! in float32 (`to_mono`), and resamples with soxr HQ, fixing the length to
//! `ceil(n * sr / sr_native)`.
//!
//! MP3 (and MP1/MP2) goes through libmpg123, the decoder libsndfile uses, built as
//! librosa's copy is (`decode/mpg123.rs`, [`Mp3Decoder`]): the samples are librosa's,
//! bit for bit. That includes free-format streams (no bitrate in the frame headers),
//! which symphonia's probe does not recognise; their ID3 tags are read apart.
//! Everything else, and MP3 where libmpg123 is not built (outside x86_64 Linux) or when
//! [`LoadOptions::mp3_decoder`] asks for it, is decoded with symphonia.
//!
//! symphonia probes every file (container, codec, tags) and decodes the others packet
//! by packet: each packet is converted to f32 the way libsndfile converts (integers
//! scaled by 1/2^(bits-1)); libmpg123 hands over float frames. Either way the audio is
//! downmixed to mono at once (`decode/mix.rs`), cut to the `offset`/`duration` window
//! and fed to a streaming libsoxr resampler ([`crate::resample::Resampler`]) whose
//! output equals librosa's one-shot call. Neither the interleaved multichannel signal
//! nor the native-rate mono signal is ever held whole: memory is the 22050-Hz output
//! plus a few packets.
//!
//! Gapless: libmpg123 and symphonia trim encoder delay and padding for MP3 (LAME/Xing
//! tag), symphonia for Ogg Vorbis (granule positions); for AAC in MP4 we apply the
//! track's edit list (`decode/mp4.rs`), as ffmpeg does. With symphonia, MP3 sample
//! counts equal libsndfile's too, and MP3 frames whose bit reservoir is missing (the
//! first frames of a clip cut from a longer file) decode to silence as in mpg123
//! (`decode/mp3.rs`).
//!
//! libmpg123 skips damaged frames itself (resync, as for librosa) and does not count
//! them; if it gives up midway, the audio before is kept and marked truncated.
//!
//! Damage policy, the same for every format:
//! * a packet the codec rejects (`DecodeError`, or an I/O error inside one packet) is
//!   skipped and counted in [`AudioInfo::skipped_packets`], as symphonia documents; an
//!   Ogg page whose checksum fails is dropped by the Ogg reader itself (not counted),
//!   so the file gives fewer frames than it states and is marked truncated;
//! * a file that was cut returns what decoded before the cut, as libsndfile does, and
//!   sets [`AudioInfo::truncated`] (the container hit end-of-file mid-packet, or gave
//!   fewer frames than its header states). Where symphonia trips over the cut while
//!   reading the header (Ogg looks for its last page, AIFF skips its sound chunk) the
//!   file is read a second time as a plain stream; an MP4 whose index (`moov`) comes
//!   first has its cut audio atom read as running to the end of the file. Cut before
//!   any audio, or an MP4 cut before its index, it is an [`Error::Decode`];
//! * a WAV whose RIFF size is smaller than its chunks (libsndfile reads it) is read a
//!   second time with that size taken as unknown (`decode/riff.rs`), and a file whose
//!   leading ID3v2 tag symphonia rejects is read a second time without it
//!   (`decode/id3.rs`);
//! * any other container error fails the file ([`Error::Decode`]), damage where the
//!   reader opens the file (its header; for Ogg, also the first page of audio)
//!   included; a chained Ogg stream is read up to the end of its first logical stream;
//! * a panic inside symphonia is caught and fails only that file
//!   ([`Error::DecoderPanic`]); the process's panic hook still runs (the default one
//!   prints the message), which a binary may silence with its own hook.
//!
//! WAV goes through symphonia too: it reads every variant we claim (8-bit unsigned,
//! 16/24/32-bit integer, 32/64-bit float, WAVE_FORMAT_EXTENSIBLE) with libsndfile's
//! conversions, and one decode path keeps the damage policy and the streaming the same
//! for all formats. hound lacks 64-bit float, but reads any channel count: a WAV that
//! symphonia refuses (more than 26 channels) is read by hound, or its data chunk
//! directly when it holds 64-bit floats (`decode/wav.rs`).

mod id3;
mod mix;
mod mp3;
mod mp4;
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod mpg123;
mod patch;
mod riff;
mod tags;
mod wav;

use crate::error::{Error, Result};
use crate::resample::Resampler;
use std::io::{Read, Seek};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use symphonia::core::codecs::audio::well_known as codec_ids;
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoderOptions, CODEC_ID_NULL_AUDIO};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream, ReadOnlySource};
use symphonia::core::meta::MetadataOptions;

/// librosa's default `sr`.
pub const DEFAULT_SAMPLE_RATE: u32 = 22050;

/// The lowest sample rate a file may state; a lower one is an [`Error::Unsupported`].
///
/// Resampling multiplies the samples by `22050 / rate`, so a small file stating a rate
/// of a few hertz (damaged or crafted) would otherwise need gigabytes of memory and
/// minutes before it failed or gave a meaningless row. No real recording is below it.
pub const MIN_NATIVE_SAMPLE_RATE: u32 = 1000;

/// How to load a file; the librosa argument each field mirrors is named in its doc.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Output sample rate in Hz (`sr`); `None` keeps the file's own rate (`sr=None`).
    /// Default: `Some(22050)`.
    pub target_sr: Option<u32>,
    /// Seconds skipped at the start (`offset`): the first `int(offset_s * native_sr)`
    /// native frames are dropped. Default: `0.0`.
    pub offset_s: f64,
    /// Seconds read after the offset (`duration`): `int(duration_s * native_sr)` native
    /// frames, and decoding stops there; `None` reads to the end. Default: `None`.
    pub duration_s: Option<f64>,
    /// Which decoder reads MPEG audio (MP3, MP1, MP2). Default: [`Mp3Decoder::default`].
    pub mp3_decoder: Mp3Decoder,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            target_sr: Some(DEFAULT_SAMPLE_RATE),
            offset_s: 0.0,
            duration_s: None,
            mp3_decoder: Mp3Decoder::default(),
        }
    }
}

/// The decoder for MPEG audio files (MP3, MP1, MP2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mp3Decoder {
    /// libmpg123 1.31 (vendored), set up as libsndfile sets it up for `librosa.load`:
    /// the same samples as librosa, bit for bit, and about a fifth faster than symphonia.
    /// Built on x86_64 Linux only, where it is the default.
    Mpg123,
    /// symphonia's pure-Rust decoder: the same sample count as librosa and values within
    /// a few 1e-6, which is enough to move quiet-frame statistics (zero crossings,
    /// spectral peaks) of some clips. The default where libmpg123 is not built.
    Symphonia,
}

impl Mp3Decoder {
    /// Whether this build has libmpg123.
    pub const MPG123_AVAILABLE: bool = musicgenre_libmpg123::AVAILABLE;
}

impl Default for Mp3Decoder {
    /// [`Mp3Decoder::Mpg123`] where it is built, else [`Mp3Decoder::Symphonia`].
    fn default() -> Self {
        if Self::MPG123_AVAILABLE {
            Mp3Decoder::Mpg123
        } else {
            Mp3Decoder::Symphonia
        }
    }
}

impl LoadOptions {
    /// Options that keep the file's own sample rate (librosa's `sr=None`).
    pub fn native_rate() -> Self {
        LoadOptions {
            target_sr: None,
            ..LoadOptions::default()
        }
    }

    fn validate(&self) -> Result<()> {
        if self.mp3_decoder == Mp3Decoder::Mpg123 && !Mp3Decoder::MPG123_AVAILABLE {
            return Err(Error::InvalidArgument(
                "the mpg123 MP3 decoder is built on x86_64 Linux only".into(),
            ));
        }
        if self.target_sr == Some(0) {
            return Err(Error::InvalidArgument("target_sr must be positive".into()));
        }
        if !(self.offset_s.is_finite() && self.offset_s >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "offset_s must be finite and >= 0, got {}",
                self.offset_s
            )));
        }
        if let Some(d) = self.duration_s {
            if !(d.is_finite() && d >= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "duration_s must be finite and >= 0, got {d}"
                )));
            }
        }
        Ok(())
    }
}

/// A loaded file: mono samples at `sample_rate`, and what we learnt about the file.
#[derive(Debug, Clone)]
pub struct Audio {
    /// Mono samples, nominally in [-1, 1] (decoded lossy audio may exceed it slightly).
    pub samples: Vec<f32>,
    /// The rate of `samples`: the target rate, or the native one with `target_sr: None`.
    pub sample_rate: u32,
    pub info: AudioInfo,
}

/// What the file says about itself and how decoding went.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AudioInfo {
    /// symphonia's short name of the container ("mp3", "wave", "ogg", "flac", "aiff",
    /// "isomp4", ...).
    pub container: &'static str,
    /// symphonia's short name of the codec ("mp3", "vorbis", "flac", "aac", "alac",
    /// "pcm_s16le", ...).
    pub codec: &'static str,
    /// The file's sample rate in Hz.
    pub native_sample_rate: u32,
    /// Channels in the file (averaged into the mono output).
    pub channels: usize,
    /// Bits per sample of the coded audio where the format has such a thing (PCM,
    /// FLAC, ALAC); `None` for lossy codecs.
    pub bits_per_sample: Option<u32>,
    /// Native-rate frames decoded, after gapless trimming. With `duration_s` set,
    /// decoding stops at the end of the window, so this covers `offset + duration` only.
    pub native_frames: u64,
    /// Length of the audio in seconds: `native_frames / native_sample_rate`, or, when
    /// decoding stopped early for `duration_s`, the container's stated length if it has
    /// one.
    pub duration_s: f64,
    /// Tags (`None` when absent or blank). For MP3 the ID3v2 value wins over ID3v1.
    pub artist: Option<String>,
    pub album_artist: Option<String>,
    pub title: Option<String>,
    pub album: Option<String>,
    pub genre: Option<String>,
    /// Packets the codec rejected and we skipped (each is a short gap in the audio).
    pub skipped_packets: u64,
    /// The file was cut: the stream ended mid-packet, or before the length its header
    /// states with no packet skipped to explain it (a FLAC reader that resyncs past a
    /// damaged frame says so too). The audio before the cut is returned.
    pub truncated: bool,
}

/// Loads `path` as `librosa.load(path, sr, mono=True, offset, duration)` does.
///
/// Fails, with an error naming the file and the cause, on a missing or unreadable
/// file, a directory, an empty file, bytes that are no audio format we know, a file
/// without an audio track or with an unsupported codec, a sample rate below
/// [`MIN_NATIVE_SAMPLE_RATE`], a container damaged beyond the packets we can skip, and a
/// file that decodes to no samples.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Audio> {
    opts.validate()?;
    // Fail early, with a precise message, on what is not a readable non-empty file.
    drop(open(path)?);
    decode_input(&Input::File(path), path, opts)
}

/// Loads audio from bytes in memory, as [`load`] loads a file; `label` names the input
/// in errors, and its extension (if any) is a hint to the format probe.
///
/// Meant for fuzzing (arbitrary bytes must give `Ok` or `Err`, never a crash) and for
/// audio that does not come from a file.
pub fn load_from_memory(bytes: &[u8], label: &Path, opts: &LoadOptions) -> Result<Audio> {
    opts.validate()?;
    if bytes.is_empty() {
        return Err(Error::EmptyFile {
            path: label.to_path_buf(),
        });
    }
    decode_input(&Input::Memory(bytes), label, opts)
}

/// Where the bytes come from. Opened once, or a second time as an unseekable stream
/// when the first attempt finds a header cut short (see [`decode_input`]).
enum Input<'a> {
    File(&'a Path),
    Memory(&'a [u8]),
}

/// How to present the input to symphonia.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// As it is, seekable.
    Seekable,
    /// As a plain stream: readers then do not look for the end of a cut file.
    Stream,
    /// The file with a size field corrected (see [`patch`]): a RIFF size read as
    /// unknown ([`riff::UNKNOWN_RIFF_SIZE`]).
    Patched(patch::Patch),
    /// The file without its first `n` bytes: a leading ID3v2 tag (see [`id3`]).
    SkipPrefix(u64),
}

impl<'a> Input<'a> {
    fn open(&self, mode: Mode) -> Result<Box<dyn MediaSource + 'a>> {
        let path = |p: &Path| p.to_path_buf();
        Ok(match (self, mode) {
            (Input::File(p), Mode::Seekable) => Box::new(open(p)?),
            (Input::File(p), Mode::Stream) => Box::new(ReadOnlySource::new(open(p)?)),
            (Input::File(p), Mode::Patched(fix)) => Box::new(
                patch::Patched::new(Box::new(open(p)?), fix).map_err(|source| Error::Io {
                    path: path(p),
                    source,
                })?,
            ),
            (Input::Memory(b), Mode::Seekable) => Box::new(std::io::Cursor::new(*b)),
            (Input::Memory(b), Mode::Stream) => {
                Box::new(ReadOnlySource::new(std::io::Cursor::new(*b)))
            }
            (Input::Memory(b), Mode::Patched(fix)) => Box::new(
                patch::Patched::new(Box::new(std::io::Cursor::new(*b)), fix).map_err(|source| {
                    Error::Io {
                        path: PathBuf::from("<memory>"),
                        source,
                    }
                })?,
            ),
            (Input::File(p), Mode::SkipPrefix(n)) => Box::new(
                id3::SkipPrefix::new(open(p)?, n).map_err(|source| Error::Io {
                    path: path(p),
                    source,
                })?,
            ),
            (Input::Memory(b), Mode::SkipPrefix(n)) => Box::new(
                id3::SkipPrefix::new(std::io::Cursor::new(*b), n).map_err(|source| Error::Io {
                    path: PathBuf::from("<memory>"),
                    source,
                })?,
            ),
        })
    }
}

/// Opens a regular, non-empty file, telling the common mistakes apart.
fn open(path: &Path) -> Result<std::fs::File> {
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            what: "a directory",
        });
    }
    if !meta.is_file() {
        return Err(Error::NotAFile {
            path: path.to_path_buf(),
            what: "a special file (device, FIFO or socket)",
        });
    }
    if meta.len() == 0 {
        return Err(Error::EmptyFile {
            path: path.to_path_buf(),
        });
    }
    std::fs::File::open(path).map_err(io_err)
}

/// Decodes `input`, with any panic inside symphonia turned into an error for it.
///
/// Two kinds of damage that libsndfile reads through make symphonia fail while it reads
/// the header, and get a second attempt:
/// * a file cut short (the Ogg reader looks for the last page to learn the length, the
///   AIFF reader skips the whole sound chunk) is read again as a plain stream, which
///   decodes the audio that is there;
/// * a WAV whose RIFF size is smaller than its chunks is read again with that size
///   taken as unknown;
/// * a file whose leading ID3v2 tag symphonia rejects is read again without the tag,
///   as mpg123 skips it.
fn decode_input(input: &Input<'_>, path: &Path, opts: &LoadOptions) -> Result<Audio> {
    let wave = wave_format(input);
    let by_hound = |format: &riff::WaveFormat| match contain_panics(path, || {
        Ok(wav::decode(input, format, path, opts))
    }) {
        Ok(read) => read,
        Err(failed) => Some(Err(failed.error)),
    };
    if let Some(format) = wave
        .as_ref()
        .filter(|f| f.channels > MAX_SYMPHONIA_WAV_CHANNELS)
    {
        return by_hound(format).unwrap_or_else(|| {
            Err(Error::Unsupported {
                path: path.to_path_buf(),
                reason: format!(
                    "this sample format in a WAV of {} channels",
                    format.channels
                ),
            })
        });
    }
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let attempt = |mode: Mode| {
        contain_panics(path, || {
            decode(input, input.open(mode)?, mode, &hint, path, opts)
        })
    };
    let result = match attempt(Mode::Seekable) {
        Ok(audio) => Ok(audio),
        Err(Failed {
            retry: Some(mode),
            error,
        }) => attempt(mode).map_err(|_| error),
        Err(Failed { error, .. }) => Err(error),
    };
    // A WAV symphonia refuses (a WAVE_FORMAT_EXTENSIBLE header of 19 to 26 channels,
    // more than its channel mask can name) may still be one hound reads.
    match (result, &wave) {
        (Err(error), Some(format)) => by_hound(format).unwrap_or(Err(error)),
        (result, _) => result,
    }
}

/// The most channels symphonia 0.6.1 reads from a WAV. It names 26 positions, and for a
/// WAVE_FORMAT_EXTENSIBLE header of more than 32 channels its channel-mask fix
/// overflows: some such files (33 to 50 channels) decode without an error as fewer
/// channels (40 as 8), which scrambles the samples. WAVs of more channels go to
/// `decode/wav.rs` at once.
const MAX_SYMPHONIA_WAV_CHANNELS: u16 = 26;

/// The format of a RIFF/WAVE `input`; `None` for any other input.
fn wave_format(input: &Input<'_>) -> Option<riff::WaveFormat> {
    let mut source = input.open(Mode::Seekable).ok()?;
    riff::wave_format(source.as_mut())
}

/// Runs `f`, turning a panic (symphonia's, on malformed data) into an error for `path`.
fn contain_panics<T>(path: &Path, f: impl FnOnce() -> Result<T, Failed>) -> Result<T, Failed> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "unknown panic".to_string()
        };
        Err(Error::DecoderPanic {
            path: path.to_path_buf(),
            message: one_line(&message),
        }
        .into())
    })
}

/// A failed attempt, and the mode worth a second one, if any.
struct Failed {
    error: Error,
    retry: Option<Mode>,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Self {
        Failed { error, retry: None }
    }
}

fn decode<'s>(
    input: &Input<'_>,
    source: Box<dyn MediaSource + 's>,
    mode: Mode,
    hint: &Hint,
    path: &Path,
    opts: &LoadOptions,
) -> Result<Audio, Failed> {
    let p = || path.to_path_buf();

    // An MP4 edit list says how many priming frames to drop; symphonia 0.6 ignores it.
    let (source, mp4) = mp4::scan(source);
    // An MP4 with its index first whose audio atom was cut: symphonia would read no
    // packet from an atom that runs past the end, so the atom is read as running to
    // the end of the file, and the packets before the cut decode.
    let mut source: Box<dyn MediaSource + 's> = match mp4.open_ended.filter(|_| mp4.has_moov) {
        Some(fix) => Box::new(patch::Patched::new(source, fix).map_err(|e| Error::Io {
            path: p(),
            source: e,
        })?),
        None => source,
    };
    // RIFF INFO tags, which symphonia 0.6.1 drops.
    let mut head = [0u8; 12];
    let (is_wave, riff_tags) = if source.is_seekable() {
        let is_wave = source.read_exact(&mut head).is_ok() && riff::is_wave(&head);
        let tags = if is_wave {
            riff::info_tags(source.as_mut())
        } else {
            tags::Tags::default()
        };
        source
            .seek(std::io::SeekFrom::Start(0))
            .map_err(|e| Error::Io {
                path: p(),
                source: e,
            })?;
        (is_wave, tags)
    } else {
        (false, tags::Tags::default())
    };

    let mss = MediaSourceStream::new(source, Default::default());
    let mut format = match symphonia::default::get_probe().probe(
        hint,
        mss,
        FormatOptions::default(),
        MetadataOptions::default(),
    ) {
        Ok(format) => format,
        Err(_) if mp4.is_mp4 && !mp4.has_moov => {
            return Err(Error::Decode {
                path: p(),
                reason:
                    "the MP4 index (moov atom) is missing: the file was cut short or never finished"
                        .into(),
            }
            .into())
        }
        Err(e) => {
            // Free-format MPEG audio (no bitrate in the header), which symphonia's probe
            // does not recognise and libmpg123 decodes; its ID3 tags are read apart.
            #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
            if opts.mp3_decoder == Mp3Decoder::Mpg123 && mode == Mode::Seekable {
                let layer = input.open(mode).ok().and_then(mp3::free_format_layer);
                if let Some(codec) = layer {
                    let tags = tags::Tags::read_id3(|| input.open(mode).ok());
                    return decode_mpg123(input, path, opts, "mp3", codec, None, tags);
                }
            }
            let cut_header = matches!(&e, SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof);
            let bad_size = matches!(&e, SymError::DecodeError(_)) && is_wave;
            let id3_len = id3::tag_len(&head);
            let retry = match (mode, id3_len) {
                (Mode::Seekable, _) if bad_size => Some(Mode::Patched(riff::UNKNOWN_RIFF_SIZE)),
                (Mode::Seekable, Some(n)) => Some(Mode::SkipPrefix(n)),
                (Mode::Seekable, None) if cut_header => Some(Mode::Stream),
                _ => None,
            };
            return Err(Failed {
                error: probe_error(path, e, known_signature(&head)),
                retry,
            });
        }
    };
    let container = format.format_info().short_name;

    let Some(track) = format.default_track(TrackType::Audio) else {
        // An audio track whose codec symphonia cannot even name is "unsupported".
        return Err(if format.first_track(TrackType::Audio).is_some() {
            Error::UnsupportedCodec {
                path: p(),
                container,
                codec: "unknown".into(),
            }
        } else {
            Error::NoAudioTrack {
                path: p(),
                container,
            }
        }
        .into());
    };
    let track_id = track.id;
    let header_frames = track.num_frames;
    let Some(params) = track
        .codec_params
        .as_ref()
        .and_then(CodecParameters::audio)
        .cloned()
    else {
        return Err(Error::NoAudioTrack {
            path: p(),
            container,
        }
        .into());
    };
    let mut tags = tags::Tags::read(format.as_mut(), track_id);
    tags.fill_from(riff_tags);

    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    if opts.mp3_decoder == Mp3Decoder::Mpg123 && matches!(container, "mp1" | "mp2" | "mp3") {
        drop(format);
        let codec = match params.codec {
            c if c == codec_ids::CODEC_ID_MP1 => "mp1",
            c if c == codec_ids::CODEC_ID_MP2 => "mp2",
            _ => "mp3",
        };
        return decode_mpg123(input, path, opts, container, codec, header_frames, tags);
    }

    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| match e {
            // symphonia's AAC decoder reads AAC-LC in mono or stereo, nothing more.
            SymError::Unsupported(_) if params.codec == codec_ids::CODEC_ID_AAC => {
                Error::Unsupported {
                    path: p(),
                    reason: match params.channels.as_ref().map(|c| c.count()) {
                        Some(n) if n > 2 => format!(
                            "AAC with {n} channels (the AAC decoder reads mono and stereo only)"
                        ),
                        _ => "AAC other than AAC-LC, such as HE-AAC (the AAC decoder reads \
                              AAC-LC only)"
                            .into(),
                    },
                }
            }
            SymError::Unsupported(_) => Error::UnsupportedCodec {
                path: p(),
                container,
                codec: codec_name(params.codec),
            },
            other => Error::Decode {
                path: p(),
                reason: format!(
                    "cannot set up the {} decoder: {}",
                    codec_name(params.codec),
                    one_line(&other.to_string())
                ),
            },
        })?;
    let codec = decoder.codec_info().short_name;
    // Only AAC in MP4 has priming that symphonia leaves in (ALAC and PCM have none).
    let mut edit = match &mp4.edits {
        Some(edits) if container == "isomp4" && params.codec == codec_ids::CODEC_ID_AAC => {
            edits.for_track(track_id, params.sample_rate)
        }
        _ => None,
    };

    // mpg123 (librosa's MP3 decoder) silences frames whose bit reservoir is missing.
    let mut reservoir =
        (params.codec == codec_ids::CODEC_ID_MP3).then(mp3::ReservoirGuard::default);

    let mut sink: Option<Sink> = None;
    let mut mono: Vec<f32> = Vec::new();
    let mut native_sr = 0u32;
    let mut channels = 0usize;
    let mut skipped_packets = 0u64;
    let mut truncated = false;
    let mut last_decode_error: Option<String> = None;

    loop {
        if sink.as_ref().is_some_and(Sink::is_full) {
            break;
        }
        let mut packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A chained Ogg stream starts a new logical stream: we read the first only.
            Err(SymError::ResetRequired) => break,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                truncated = true;
                break;
            }
            Err(SymError::IoError(e)) => {
                return Err(Error::Io {
                    path: p(),
                    source: e,
                }
                .into())
            }
            Err(e) => {
                return Err(Error::Decode {
                    path: p(),
                    reason: format!(
                        "damaged {container} container: {}",
                        one_line(&e.to_string())
                    ),
                }
                .into())
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        if let Some(guard) = reservoir.as_mut() {
            guard.silence_if_underflow(&mut packet.data);
        }
        let buf = match decoder.decode(&packet) {
            Ok(buf) => buf,
            Err(SymError::DecodeError(msg)) => {
                skipped_packets += 1;
                last_decode_error = Some(msg.to_string());
                continue;
            }
            Err(SymError::IoError(e)) => {
                skipped_packets += 1;
                last_decode_error = Some(e.to_string());
                continue;
            }
            Err(SymError::Unsupported(what)) => {
                return Err(Error::Unsupported {
                    path: p(),
                    reason: what.to_string(),
                }
                .into())
            }
            Err(e) => {
                return Err(Error::Decode {
                    path: p(),
                    reason: one_line(&e.to_string()),
                }
                .into())
            }
        };
        let rate = buf.spec().rate();
        if sink.is_none() {
            native_sr = rate;
            channels = buf.num_planes();
            let estimate =
                header_frames.map(|n| n.saturating_sub(edit.as_ref().map_or(0, |e| e.skip)));
            sink = Some(Sink::new(path, native_sr, opts, estimate)?);
        } else if rate != native_sr {
            // A stream that changes rate mid-way (only seen in damaged MP3s): drop the
            // odd packets rather than splice audio at two rates.
            skipped_packets += 1;
            continue;
        }

        // Gapless trims the decoder did not apply itself.
        let frames = buf.frames();
        let mut range = 0..frames;
        let (trim_start, trim_end) = (packet.trim_start.get(), packet.trim_end.get());
        if trim_start + trim_end > 0
            && frames as u64 == packet.block_dur().get()
            && frames as u64 != packet.dur.get()
        {
            range.start = (trim_start as usize).min(frames);
            range.end = frames.saturating_sub(trim_end as usize).max(range.start);
        }
        if let Some(e) = edit.as_mut() {
            range = e.cut(range);
        }
        mix::to_mono(&buf, range, &mut mono);
        if let Some(s) = sink.as_mut() {
            s.push(&mono)?;
        }
    }

    assemble(
        Decoded {
            sink,
            native_sr,
            channels,
            skipped_packets,
            truncated,
            last_decode_error,
            header_frames,
            length_is_before_edit: edit.is_some(),
            container,
            codec,
            bits_per_sample: params.bits_per_sample,
            tags,
        },
        path,
        opts,
    )
}

/// MPEG audio through libmpg123 ([`mpg123`]); symphonia has only probed the file and
/// read its tags.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn decode_mpg123(
    input: &Input<'_>,
    path: &Path,
    opts: &LoadOptions,
    container: &'static str,
    codec: &'static str,
    header_frames: Option<u64>,
    tags: tags::Tags,
) -> Result<Audio, Failed> {
    let mut sink: Option<Sink> = None;
    let mut mono: Vec<f32> = Vec::new();
    let stream = mpg123::decode(
        input.open(Mode::Seekable)?,
        path,
        |frames, channels, rate| {
            let sink = match sink.as_mut() {
                Some(s) => s,
                None => sink.insert(Sink::new(path, rate, opts, header_frames)?),
            };
            mix::interleaved_to_mono(frames, channels, &mut mono);
            sink.push(&mono)?;
            Ok(!sink.is_full())
        },
    )?;
    assemble(
        Decoded {
            sink,
            native_sr: stream.sample_rate,
            channels: stream.channels,
            skipped_packets: 0,
            truncated: stream.failed_midway,
            last_decode_error: None,
            header_frames,
            length_is_before_edit: false,
            container,
            codec,
            bits_per_sample: None,
            tags,
        },
        path,
        opts,
    )
}

/// What a decoder run left: the sink with the audio, and what was learnt on the way.
struct Decoded {
    /// `None` when no packet decoded.
    sink: Option<Sink>,
    native_sr: u32,
    channels: usize,
    skipped_packets: u64,
    /// The stream ended mid-packet (or the decoder gave up midway).
    truncated: bool,
    last_decode_error: Option<String>,
    /// Frames the container states, if it does.
    header_frames: Option<u64>,
    /// The stated length counts priming that an MP4 edit list removed.
    length_is_before_edit: bool,
    container: &'static str,
    codec: &'static str,
    bits_per_sample: Option<u32>,
    tags: tags::Tags,
}

/// Turns a decoder run into the loaded audio, or the error that explains why there is
/// none (nothing decoded, an offset past the end).
fn assemble(d: Decoded, path: &Path, opts: &LoadOptions) -> Result<Audio, Failed> {
    let p = || path.to_path_buf();
    let Decoded {
        sink,
        native_sr,
        channels,
        skipped_packets,
        mut truncated,
        last_decode_error,
        header_frames,
        length_is_before_edit,
        container,
        codec,
        bits_per_sample,
        tags,
    } = d;
    let Some(sink) = sink else {
        return Err(if skipped_packets > 0 {
            Error::Decode {
                path: p(),
                reason: format!(
                    "none of the {skipped_packets} audio packets could be decoded (last error: {})",
                    one_line(last_decode_error.as_deref().unwrap_or("unknown"))
                ),
            }
        } else if truncated || header_frames.is_some_and(|n| n > 0) {
            Error::Decode {
                path: p(),
                reason: "the file ends before any audio (cut short?)".into(),
            }
        } else {
            Error::Empty { path: p() }
        }
        .into());
    };

    let stopped_early = sink.is_full();
    let native_frames = sink.seen;
    if native_frames == 0 {
        return Err(if header_frames.is_some_and(|n| n > 0) {
            Error::Decode {
                path: p(),
                reason: "the file ends before any audio (cut short?)".into(),
            }
        } else {
            Error::Empty { path: p() }
        }
        .into());
    }
    // A container that states its length and delivered less was cut (MP3, FLAC and
    // the like end quietly at the cut), unless packets were skipped, which explains the
    // missing frames. AAC in MP4 states its length before the edit.
    if !stopped_early
        && !length_is_before_edit
        && skipped_packets == 0
        && header_frames.is_some_and(|n| native_frames < n)
    {
        truncated = true;
    }
    let duration_s = match (stopped_early, header_frames) {
        (true, Some(n)) => n as f64 / f64::from(native_sr),
        _ => native_frames as f64 / f64::from(native_sr),
    };
    if sink.skip > 0 || (sink.offset_frames > 0 && sink.offset_frames >= native_frames) {
        return Err(Error::OffsetPastEnd {
            path: p(),
            offset_s: opts.offset_s,
            duration_s,
        }
        .into());
    }
    let (samples, sample_rate) = sink.finish()?;

    Ok(Audio {
        samples,
        sample_rate,
        info: AudioInfo {
            container,
            codec,
            native_sample_rate: native_sr,
            channels,
            bits_per_sample,
            native_frames,
            duration_s,
            artist: tags.artist,
            album_artist: tags.album_artist,
            title: tags.title,
            album: tags.album,
            genre: tags.genre,
            skipped_packets,
            truncated,
        },
    })
}

/// Where decoded mono audio goes: the offset/duration window, then the resampler.
struct Sink {
    /// Native frames of the offset, and how many of them are still to drop.
    offset_frames: u64,
    skip: u64,
    /// Native frames still to keep; `None` keeps everything.
    take: Option<u64>,
    /// Native frames pushed in all.
    seen: u64,
    resampler: Option<Resampler>,
    out: Vec<f32>,
    out_rate: u32,
}

impl Sink {
    /// Fails on a rate below [`MIN_NATIVE_SAMPLE_RATE`].
    fn new(
        path: &Path,
        native_sr: u32,
        opts: &LoadOptions,
        header_frames: Option<u64>,
    ) -> Result<Self> {
        if native_sr < MIN_NATIVE_SAMPLE_RATE {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                reason: format!(
                    "a sample rate of {native_sr} Hz (the lowest we read is {MIN_NATIVE_SAMPLE_RATE} Hz)"
                ),
            });
        }
        let sr = f64::from(native_sr);
        // librosa: sf.seek(int(offset * sr_native)); sf.read(frames=int(duration * sr_native)).
        let offset_frames = (opts.offset_s * sr) as u64;
        let take = opts.duration_s.map(|d| (d * sr) as u64);
        let out_rate = opts.target_sr.unwrap_or(native_sr);
        let resampler = if out_rate == native_sr {
            None
        } else {
            Some(Resampler::new(sr, f64::from(out_rate))?)
        };
        let mut out = Vec::new();
        // Reserve the output once when the container states its length, so a long file
        // does not grow the vector by doubling. A lying header only costs untouched
        // address space (trimmed at the end), and a failed reservation is ignored.
        let in_frames = header_frames.map(|n| {
            let n = n.saturating_sub(offset_frames);
            take.map_or(n, |t| n.min(t))
        });
        let in_frames = in_frames.or(take);
        if let Some(n) = in_frames {
            let n_out = (n as f64 * f64::from(out_rate) / sr).ceil() as u64 + 16;
            const MAX_RESERVE: u64 = 1 << 28; // 1 GiB of f32
            let _ = out.try_reserve_exact(n_out.min(MAX_RESERVE) as usize);
        }
        Ok(Sink {
            offset_frames,
            skip: offset_frames,
            take,
            seen: 0,
            resampler,
            out,
            out_rate,
        })
    }

    fn is_full(&self) -> bool {
        self.take == Some(0)
    }

    fn push(&mut self, mono: &[f32]) -> Result<()> {
        self.seen += mono.len() as u64;
        let mut x = mono;
        if self.skip > 0 {
            let k = (self.skip.min(x.len() as u64)) as usize;
            x = &x[k..];
            self.skip -= k as u64;
        }
        if let Some(t) = self.take.as_mut() {
            let k = (*t).min(x.len() as u64) as usize;
            x = &x[..k];
            *t -= k as u64;
        }
        match self.resampler.as_mut() {
            Some(r) => r.process(x, &mut self.out),
            None => {
                self.out.extend_from_slice(x);
                Ok(())
            }
        }
    }

    fn finish(mut self) -> Result<(Vec<f32>, u32)> {
        if let Some(r) = self.resampler.take() {
            r.finish(&mut self.out)?;
        }
        if self.out.capacity() > self.out.len() + self.out.len() / 16 + 1024 {
            self.out.shrink_to_fit();
        }
        Ok((self.out, self.out_rate))
    }
}

/// Whether `head`, a file's first 12 bytes, holds the signature of a format we read:
/// MPEG audio (a frame sync or an ID3v2 tag), Ogg, FLAC, RIFF/WAVE, AIFF/AIFC or MP4 (a
/// first atom of a kind that starts MP4 and QuickTime files).
///
/// symphonia's probe looks for these markers well into a file, so in random bytes or an
/// executable it can find one by chance and hand the file to a reader that then fails;
/// only a marker at the start says that the file is one of ours and damaged.
fn known_signature(head: &[u8; 12]) -> bool {
    let mpeg_sync = head[0] == 0xff && head[1] & 0xe0 == 0xe0;
    let aiff = head.starts_with(b"FORM") && matches!(&head[8..12], b"AIFF" | b"AIFC");
    mpeg_sync
        || aiff
        || riff::is_wave(head)
        || [b"ID3".as_slice(), b"OggS", b"fLaC"]
            .iter()
            .any(|m| head.starts_with(m))
        || matches!(
            &head[4..8],
            b"ftyp" | b"moov" | b"mdat" | b"wide" | b"free" | b"skip"
        )
}

/// Classifies a probe failure: not audio at all, damaged, or unreadable.
///
/// A failure of the reader that took the file is a damaged file of that format when the
/// file starts with the format's signature (`known_signature`): an [`Error::Decode`]
/// for a file cut or damaged where the reader opens it (its header, or for Ogg the first
/// page of audio), as libsndfile calls such a file "supported file format but file is
/// malformed", or an [`Error::Unsupported`] for something the format allows and we do
/// not read. Without the signature, the reader took a marker found by chance further in,
/// and the file is an [`Error::UnknownFormat`], as when no reader takes it at all.
fn probe_error(path: &Path, e: SymError, known_signature: bool) -> Error {
    let path: PathBuf = path.to_path_buf();
    match e {
        SymError::Unsupported(what) if what.starts_with("core") => Error::UnknownFormat {
            path,
            reason: "no known container or codec signature found".into(),
        },
        SymError::IoError(source) if source.kind() != std::io::ErrorKind::UnexpectedEof => {
            Error::Io { path, source }
        }
        e if !known_signature => Error::UnknownFormat {
            path,
            reason: format!(
                "no known signature at its start ({})",
                one_line(&e.to_string())
            ),
        },
        // A container we know, using something we do not (e.g. a WAV of ADPCM).
        SymError::Unsupported(what) => Error::Unsupported {
            path,
            reason: what.to_string(),
        },
        SymError::IoError(_) => Error::Decode {
            path,
            reason: "the file ends inside its header (cut short?)".into(),
        },
        other => Error::Decode {
            path,
            reason: format!(
                "damaged near the start of the file: {}",
                one_line(&other.to_string())
            ),
        },
    }
}

/// A readable name for codecs symphonia recognises but does not decode.
fn codec_name(id: AudioCodecId) -> String {
    let known = [
        (codec_ids::CODEC_ID_OPUS, "Opus"),
        (codec_ids::CODEC_ID_SPEEX, "Speex"),
        (codec_ids::CODEC_ID_AC3, "AC-3"),
        (codec_ids::CODEC_ID_EAC3, "E-AC-3"),
        (codec_ids::CODEC_ID_DCA, "DTS"),
        (codec_ids::CODEC_ID_WMA, "WMA"),
        (codec_ids::CODEC_ID_MUSEPACK, "Musepack"),
        (codec_ids::CODEC_ID_WAVPACK, "WavPack"),
        (codec_ids::CODEC_ID_MONKEYS_AUDIO, "Monkey's Audio"),
        (codec_ids::CODEC_ID_TTA, "TTA"),
        (codec_ids::CODEC_ID_ADPCM_MS, "MS ADPCM"),
        (codec_ids::CODEC_ID_ADPCM_IMA_WAV, "IMA ADPCM"),
        (codec_ids::CODEC_ID_PCM_ALAW, "A-law PCM"),
        (codec_ids::CODEC_ID_PCM_MULAW, "mu-law PCM"),
        (CODEC_ID_NULL_AUDIO, "unknown"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == id)
        .map_or_else(|| format!("id {id}"), |(_, name)| (*name).to_string())
}

/// Error text from a dependency, on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_for_that_file() {
        let path = Path::new("bad.mp3");
        let r: Result<u8, Failed> = contain_panics(path, || {
            let v = [0u8; 2];
            let index = std::hint::black_box(7usize);
            Ok(v[index])
        });
        let e = r.err().map(|f| f.error).unwrap();
        assert!(matches!(e, Error::DecoderPanic { .. }));
        let msg = e.to_string();
        assert!(
            msg.starts_with("bad.mp3: decoder crashed on malformed data: index out of bounds"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn options_are_checked() {
        let bad = [
            LoadOptions {
                target_sr: Some(0),
                ..LoadOptions::default()
            },
            LoadOptions {
                offset_s: -1.0,
                ..LoadOptions::default()
            },
            LoadOptions {
                duration_s: Some(f64::NAN),
                ..LoadOptions::default()
            },
        ];
        for opts in bad {
            assert!(
                matches!(opts.validate(), Err(Error::InvalidArgument(_))),
                "{opts:?}"
            );
        }
        assert!(LoadOptions::default().validate().is_ok());
    }
}
