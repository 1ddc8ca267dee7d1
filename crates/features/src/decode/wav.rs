//! PCM WAV files that symphonia refuses but hound reads: more than the 26 channels that
//! symphonia 0.6.1 can name (multitrack and higher-order ambisonic recordings; it fails
//! on them with "invalid channel count", "too many channels in mask", or an overflow).
//! libsndfile, and so librosa, reads them.
//!
//! Samples are converted to f32 with symphonia's conversions (libsndfile's: integers
//! scaled by 1/2^(bits-1)) and averaged in f32 in channel order, as [`super::mix`] does,
//! a block of frames at a time, so memory stays the 22050-Hz output. A data chunk that
//! ends early keeps the audio before the cut and marks the file truncated. hound has no
//! 64-bit float: such a file's data chunk is read directly (`riff::wave_format`), with
//! symphonia's conversion, a plain cast to f32.

use super::tags::Tags;
use super::{assemble, mix, riff, Decoded, Input, LoadOptions, Mode, Sink};
use crate::decode::Audio;
use crate::error::Result;
use std::io::{BufReader, Read, Seek, SeekFrom, Take};
use std::path::Path;
use symphonia::core::audio::conv::FromSample;
use symphonia::core::audio::sample::i24;

/// Samples (all channels) converted and averaged per block: whole frames, at least one,
/// so that a header stating 65535 channels does not size the buffers.
const BLOCK_SAMPLES: usize = 1 << 16;

/// Decodes `input`, a WAV of `format`, with hound (or, for 64-bit float, which hound
/// lacks, by reading its data chunk directly); `None` when neither can read it (the
/// caller then reports its own error).
pub(super) fn decode(
    input: &Input<'_>,
    format: &riff::WaveFormat,
    path: &Path,
    opts: &LoadOptions,
) -> Option<Result<Audio>> {
    let mut source = input.open(Mode::Seekable).ok()?;
    let tags = riff::info_tags(source.as_mut());
    if let riff::WaveFormat {
        tag: riff::FORMAT_IEEE_FLOAT,
        bits_per_sample: 64,
        channels,
        sample_rate,
        block_align,
        data: Some((start, len)),
    } = *format
    {
        if channels == 0 || u32::from(block_align) != 8 * u32::from(channels) {
            return None;
        }
        source.seek(SeekFrom::Start(start)).ok()?;
        let format = Format {
            channels: usize::from(channels),
            sample_rate,
            bits_per_sample: 64,
            header_frames: len / u64::from(block_align),
            codec: "pcm_f64le",
        };
        let stream = Samples::F64(BufReader::new(source).take(len));
        return Some(run(stream, &format, tags, path, opts));
    }
    let mut reader = hound::WavReader::new(BufReader::new(source)).ok()?;
    let spec = reader.spec();
    let header_frames = u64::from(reader.duration());
    let (stream, codec) = Samples::new(&mut reader, spec)?;
    let format = Format {
        channels: usize::from(spec.channels),
        sample_rate: spec.sample_rate,
        bits_per_sample: spec.bits_per_sample,
        header_frames,
        codec,
    };
    Some(run(stream, &format, tags, path, opts))
}

/// What the header says of the samples.
struct Format {
    channels: usize,
    sample_rate: u32,
    bits_per_sample: u16,
    header_frames: u64,
    codec: &'static str,
}

/// Converts, averages and resamples the samples of `stream` a block at a time.
fn run<R: Read>(
    mut stream: Samples<'_, R>,
    format: &Format,
    tags: Tags,
    path: &Path,
    opts: &LoadOptions,
) -> Result<Audio> {
    let channels = format.channels;
    let mut sink = Sink::new(path, format.sample_rate, opts, Some(format.header_frames))?;
    let block = (BLOCK_SAMPLES / channels).max(1) * channels;
    let mut frames: Vec<f32> = Vec::with_capacity(block);
    let mut mono = Vec::with_capacity(block / channels);
    let mut truncated = false;
    while !sink.is_full() {
        frames.clear();
        while frames.len() < block {
            match stream.next() {
                Some(Ok(v)) => frames.push(v),
                Some(Err(_)) => {
                    truncated = true;
                    break;
                }
                None => break,
            }
        }
        let whole = frames.len() - frames.len() % channels;
        if whole == 0 {
            break;
        }
        mix::interleaved_to_mono(&frames[..whole], channels, &mut mono);
        sink.push(&mono)?;
        if truncated || whole < block {
            break;
        }
    }
    let decoded = Decoded {
        sink: Some(sink),
        native_sr: format.sample_rate,
        channels,
        skipped_packets: 0,
        truncated,
        last_decode_error: None,
        header_frames: Some(format.header_frames),
        length_is_before_edit: false,
        container: "wave",
        codec: format.codec,
        bits_per_sample: Some(u32::from(format.bits_per_sample)),
        tags,
    };
    assemble(decoded, path, opts).map_err(|failed| failed.error)
}

/// hound's samples of one format, as f32 the way symphonia converts them.
enum Samples<'r, R: std::io::Read> {
    I8(hound::WavSamples<'r, R, i8>),
    I16(hound::WavSamples<'r, R, i16>),
    I24(hound::WavSamples<'r, R, i32>),
    I32(hound::WavSamples<'r, R, i32>),
    F32(hound::WavSamples<'r, R, f32>),
    /// The data chunk of a 64-bit float file, as it lies.
    F64(Take<R>),
}

impl<'r, R: std::io::Read> Samples<'r, R> {
    /// The samples of `reader` and symphonia's short name of their codec; `None` for a
    /// format hound reads that symphonia's conversions do not cover.
    fn new(
        reader: &'r mut hound::WavReader<R>,
        spec: hound::WavSpec,
    ) -> Option<(Self, &'static str)> {
        use hound::SampleFormat::{Float, Int};
        Some(match (spec.sample_format, spec.bits_per_sample) {
            (Int, 8) => (Samples::I8(reader.samples()), "pcm_u8"),
            (Int, 16) => (Samples::I16(reader.samples()), "pcm_s16le"),
            (Int, 24) => (Samples::I24(reader.samples()), "pcm_s24le"),
            (Int, 32) => (Samples::I32(reader.samples()), "pcm_s32le"),
            (Float, 32) => (Samples::F32(reader.samples()), "pcm_f32le"),
            _ => return None,
        })
    }

    fn next(&mut self) -> Option<hound::Result<f32>> {
        // hound gives 8-bit WAV's unsigned bytes as i8 (offset removed): x / 128, as
        // symphonia's u8 conversion gives (x - 128) / 128.
        Some(match self {
            Samples::I8(s) => s.next()?.map(f32::from_sample),
            Samples::I16(s) => s.next()?.map(f32::from_sample),
            Samples::I24(s) => s.next()?.map(|v| f32::from_sample(i24(v))),
            Samples::I32(s) => s.next()?.map(f32::from_sample),
            Samples::F32(s) => s.next()?,
            Samples::F64(r) => {
                let mut bytes = [0u8; 8];
                match r.read(&mut bytes) {
                    Ok(0) if r.limit() == 0 => return None,
                    Ok(n) => r
                        .read_exact(&mut bytes[n..])
                        .map(|()| f64::from_le_bytes(bytes) as f32)
                        .map_err(hound::Error::IoError),
                    Err(e) => Err(hound::Error::IoError(e)),
                }
            }
        })
    }
}
