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

/// Writes into `mono` (cleared first) the channel mean of interleaved `frames` of
/// `channels` channels (a trailing partial frame is ignored), with the same float32
/// arithmetic as [`to_mono`].
pub(crate) fn interleaved_to_mono(frames: &[f32], channels: usize, mono: &mut Vec<f32>) {
    mono.clear();
    match channels {
        0 => {}
        1 => mono.extend_from_slice(frames),
        2 => mono.extend(frames.chunks_exact(2).map(|f| (f[0] + f[1]) / 2.0)),
        n => mono.extend(frames.chunks_exact(n).map(|f| {
            let sum = f[1..].iter().fold(f[0], |acc, &s| acc + s);
            sum / n as f32
        })),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaved_mean_sums_in_channel_order_then_divides() {
        let mut mono = Vec::new();
        interleaved_to_mono(&[1.0, 2.0, -1.0, 0.5, 9.0], 2, &mut mono);
        assert_eq!(mono, vec![1.5, -0.25]);
        // Three channels: ((a + b) + c) / 3 in f32, not a * (1/3) + ...
        let (a, b, c) = (0.1f32, 0.2f32, 0.7f32);
        interleaved_to_mono(&[a, b, c], 3, &mut mono);
        assert_eq!(mono, vec![((a + b) + c) / 3.0]);
        interleaved_to_mono(&[0.25, -0.5], 1, &mut mono);
        assert_eq!(mono, vec![0.25, -0.5]);
    }
}
