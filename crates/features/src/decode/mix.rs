//! Downmix of one decoded packet to mono, as `librosa.to_mono`: the float32 mean of the
//! channels.
//!
//! librosa reads with `soundfile.read(dtype="float32")` and takes `np.mean(y, axis=0)`
//! over the channels: samples are converted to f32 first (libsndfile scales integers by
//! 1/2^(bits-1), exactly what symphonia's `FromSample` does), summed in f32 in channel
//! order and divided by the channel count in f32. We do the same, per packet, so the
//! whole file never exists as multichannel audio.

use symphonia::core::audio::conv::FromSample;
use symphonia::core::audio::sample::Sample;
use symphonia::core::audio::{Audio, AudioBuffer, GenericAudioBufferRef};

/// Writes into `mono` (cleared first) the channel mean of frames `range` of `buf`.
/// Returns the number of channels averaged (0 for a buffer without channels, in which
/// case `mono` is left empty).
pub(crate) fn to_mono(
    buf: &GenericAudioBufferRef<'_>,
    range: std::ops::Range<usize>,
    mono: &mut Vec<f32>,
) -> usize {
    match buf {
        GenericAudioBufferRef::U8(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::U16(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::U24(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::U32(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::S8(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::S16(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::S24(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::S32(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::F32(b) => mean_of_planes(b, range, mono),
        GenericAudioBufferRef::F64(b) => mean_of_planes(b, range, mono),
    }
}

fn mean_of_planes<S>(
    buf: &AudioBuffer<S>,
    range: std::ops::Range<usize>,
    mono: &mut Vec<f32>,
) -> usize
where
    S: Sample,
    f32: FromSample<S>,
{
    mono.clear();
    let frames = buf.frames();
    let end = range.end.min(frames);
    let range = range.start.min(end)..end;
    let mut planes = buf.iter_planes();
    let Some(first) = planes.next() else {
        return 0;
    };
    mono.extend(first[range.clone()].iter().map(|&s| f32::from_sample(s)));
    let mut n_channels = 1usize;
    for plane in planes {
        for (m, &s) in mono.iter_mut().zip(&plane[range.clone()]) {
            *m += f32::from_sample(s);
        }
        n_channels += 1;
    }
    if n_channels > 1 {
        // numpy's mean divides the f32 sum by the count (it does not multiply by 1/n).
        let n = n_channels as f32;
        for m in mono.iter_mut() {
            *m /= n;
        }
    }
    n_channels
}
