//! PCM WAV files that symphonia refuses but hound reads: more than the 26 channels that
//! symphonia 0.6.1 can name (multitrack and higher-order ambisonic recordings; it fails
//! on them with "invalid channel count", "too many channels in mask", or an overflow).
//! libsndfile, and so librosa, reads them.
//!
//! Samples are converted to f32 with symphonia's conversions (libsndfile's: integers
//! scaled by 1/2^(bits-1)) and averaged in f32 in channel order, as [`super::mix`] does,
//! a block of frames at a time, so memory stays the 22050-Hz output. A data chunk that
//! ends early keeps the audio before the cut and marks the file truncated. hound has no
//! 64-bit float: such a file keeps symphonia's error.

use super::{assemble, mix, riff, Decoded, Input, LoadOptions, Mode, Sink};
use crate::decode::Audio;
use std::io::BufReader;
use std::path::Path;
use symphonia::core::audio::conv::FromSample;
use symphonia::core::audio::sample::i24;

/// Samples (all channels) converted and averaged per block: whole frames, at least one,
/// so that a header stating 65535 channels does not size the buffers.
const BLOCK_SAMPLES: usize = 1 << 16;

/// Decodes `input` with hound; `None` when hound cannot read it either (the caller then
/// reports symphonia's error).
pub(super) fn decode(input: &Input<'_>, path: &Path, opts: &LoadOptions) -> Option<Audio> {
    let mut source = input.open(Mode::Seekable).ok()?;
    let tags = riff::info_tags(source.as_mut());
    let mut reader = hound::WavReader::new(BufReader::new(source)).ok()?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    let header_frames = u64::from(reader.duration());
    let (mut stream, codec) = Samples::new(&mut reader, spec)?;
    let mut sink = Sink::new(path, spec.sample_rate, opts, Some(header_frames)).ok()?;
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
        sink.push(&mono).ok()?;
        if truncated || whole < block {
            break;
        }
    }
    let decoded = Decoded {
        sink: Some(sink),
        native_sr: spec.sample_rate,
        channels,
        skipped_packets: 0,
        truncated,
        last_decode_error: None,
        header_frames: Some(header_frames),
        length_is_before_edit: false,
        container: "wave",
        codec,
        bits_per_sample: Some(u32::from(spec.bits_per_sample)),
        tags,
    };
    assemble(decoded, path, opts).ok()
}

/// hound's samples of one format, as f32 the way symphonia converts them.
enum Samples<'r, R: std::io::Read> {
    I8(hound::WavSamples<'r, R, i8>),
    I16(hound::WavSamples<'r, R, i16>),
    I24(hound::WavSamples<'r, R, i32>),
    I32(hound::WavSamples<'r, R, i32>),
    F32(hound::WavSamples<'r, R, f32>),
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
        })
    }
}
