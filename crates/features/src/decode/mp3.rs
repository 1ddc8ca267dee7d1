//! MP3 frames whose bit reservoir is missing decode to silence, as in mpg123.
//!
//! A Layer III frame may start its main data up to 511 bytes back, in earlier frames
//! (`main_data_begin`). A clip cut out of a longer MP3 without re-encoding (FMA's and
//! Emotify's 30-s clips are made that way) starts with frames that point back into
//! audio that is no longer there. mpg123, and so libsndfile and librosa, output such a
//! frame as silence; symphonia zeroes only the granules whose bits are missing and
//! decodes the rest, so its first 1-2 frames carry sound where librosa has zeros (and
//! the 20-60 ms after them differ through the filter-bank state).
//!
//! We reproduce mpg123: before symphonia sees a frame whose `main_data_begin` exceeds
//! the main-data bytes of the frames before it, we zero the frame's `part2_3_length`,
//! `big_values` and `scalefac_compress` in its side information. The frame then decodes
//! to zeros and leaves the filter-bank state at zero, while its main data still enters
//! the reservoir for the frames after it. Checked on 240 such clips: the sample values
//! then match libsndfile's to ~1e-6 from the first sample.
//!
//! Also here: recognising free-format MPEG audio, which symphonia's probe does not.

use std::io::{Read, Seek, SeekFrom};
use symphonia::core::io::MediaSource;

/// If `source` holds free-format MPEG audio (its first frame header, after any ID3v2
/// tag, states no bitrate: bitrate index 0), the codec's short name by its layer ("mp1",
/// "mp2", "mp3").
#[cfg_attr(
    not(all(target_arch = "x86_64", target_os = "linux")),
    allow(dead_code)
)]
pub(crate) fn free_format_layer(mut source: Box<dyn MediaSource + '_>) -> Option<&'static str> {
    let mut head = [0u8; 10];
    source.read_exact(&mut head).ok()?;
    let start = super::id3::tag_len(&head).unwrap_or(0);
    source.seek(SeekFrom::Start(start)).ok()?;
    let mut h = [0u8; 4];
    source.read_exact(&mut h).ok()?;
    let sync = h[0] == 0xff && h[1] & 0xe0 == 0xe0;
    let version_ok = (h[1] >> 3) & 0b11 != 0b01;
    let bitrate_index = h[2] >> 4;
    let rate_index = (h[2] >> 2) & 0b11;
    if !(sync && version_ok && bitrate_index == 0 && rate_index != 0b11) {
        return None;
    }
    match (h[1] >> 1) & 0b11 {
        0b11 => Some("mp1"),
        0b10 => Some("mp2"),
        0b01 => Some("mp3"),
        _ => None,
    }
}

/// Tracks how many main-data bytes earlier frames have provided.
#[derive(Debug, Default)]
pub(crate) struct ReservoirGuard {
    available: usize,
}

impl ReservoirGuard {
    /// Inspects one MPEG audio frame (header included) and silences it in place if its
    /// main data reaches back further than the stream has provided. Returns whether it
    /// did. Frames that are not Layer III, or too short to parse, are left alone.
    pub fn silence_if_underflow(&mut self, frame: &mut [u8]) -> bool {
        let Some(layout) = Layout::parse(frame) else {
            return false;
        };
        let main_data_begin = read_bits(frame, layout.side_start * 8, layout.mdb_bits);
        let underflow = main_data_begin > self.available;
        self.available = self.available.saturating_add(layout.main_data_len);
        if !underflow {
            return false;
        }
        for record in 0..layout.n_records {
            let at = layout.side_start * 8 + layout.records_start_bit + record * layout.record_bits;
            write_zero_bits(frame, at, 12 + 9); // part2_3_length, big_values
            write_zero_bits(frame, at + 12 + 9 + 8, layout.scalefac_compress_bits);
        }
        true
    }
}

/// Where the side information of one Layer III frame lies.
struct Layout {
    /// Byte offset of the side information (after the header and any CRC).
    side_start: usize,
    /// Bits of `main_data_begin`: 9 (MPEG-1) or 8 (MPEG-2/2.5).
    mdb_bits: usize,
    /// Bit offset, within the side information, of the first granule/channel record.
    records_start_bit: usize,
    /// Granule/channel records and their length in bits (59 for MPEG-1, 63 otherwise).
    n_records: usize,
    record_bits: usize,
    scalefac_compress_bits: usize,
    /// Bytes of main data this frame carries.
    main_data_len: usize,
}

impl Layout {
    fn parse(frame: &[u8]) -> Option<Layout> {
        let h = frame.get(..4)?;
        if h[0] != 0xff || h[1] & 0xe0 != 0xe0 {
            return None;
        }
        let version = (h[1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
        let layer = (h[1] >> 1) & 3; // 1 = Layer III
        if layer != 1 || version == 1 {
            return None;
        }
        let has_crc = h[1] & 1 == 0;
        let mono = (h[3] >> 6) & 3 == 3;
        let n_channels = if mono { 1 } else { 2 };
        let mpeg1 = version == 3;
        let (side_len, mdb_bits, private_bits, granules, record_bits, sfc_bits) = if mpeg1 {
            (
                if mono { 17 } else { 32 },
                9,
                if mono { 5 } else { 3 },
                2,
                59,
                4,
            )
        } else {
            (
                if mono { 9 } else { 17 },
                8,
                if mono { 1 } else { 2 },
                1,
                63,
                9,
            )
        };
        let scfsi_bits = if mpeg1 { 4 * n_channels } else { 0 };
        let side_start = 4 + if has_crc { 2 } else { 0 };
        let main_data_len = frame.len().checked_sub(side_start + side_len)?;
        Some(Layout {
            side_start,
            mdb_bits,
            records_start_bit: mdb_bits + private_bits + scfsi_bits,
            n_records: granules * n_channels,
            record_bits,
            scalefac_compress_bits: sfc_bits,
            main_data_len,
        })
    }
}

/// Reads `n` (<= 32) bits, most significant first, starting at bit `at`.
fn read_bits(buf: &[u8], at: usize, n: usize) -> usize {
    (0..n).fold(0usize, |acc, i| {
        let bit = buf
            .get((at + i) / 8)
            .map_or(0, |b| (b >> (7 - (at + i) % 8)) & 1);
        (acc << 1) | usize::from(bit)
    })
}

/// Clears `n` bits starting at bit `at` (bits past the end are ignored).
fn write_zero_bits(buf: &mut [u8], at: usize, n: usize) {
    for i in at..at + n {
        if let Some(b) = buf.get_mut(i / 8) {
            *b &= !(0x80u8 >> (i % 8));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 128 kb/s 44.1 kHz MPEG-1 Layer III stereo frame (418 bytes) with the given
    /// main_data_begin and every other side-information bit set.
    fn frame(main_data_begin: u16) -> Vec<u8> {
        let mut f = vec![0xffu8; 418];
        f[0..4].copy_from_slice(&[0xff, 0xfb, 0x92, 0x04]); // padding bit set: 418 bytes
        f[4] = (main_data_begin >> 1) as u8;
        f[5] = ((main_data_begin & 1) << 7) as u8 | 0x7f;
        f
    }

    #[test]
    fn first_frame_reaching_back_is_silenced() {
        let mut guard = ReservoirGuard::default();
        let mut f = frame(300);
        assert!(guard.silence_if_underflow(&mut f));
        // Stereo MPEG-1: records start after 9 + 3 + 8 bits of the side information.
        let rec0 = 4 * 8 + 20;
        assert_eq!(read_bits(&f, rec0, 21), 0, "part2_3_length and big_values");
        assert_eq!(read_bits(&f, rec0 + 21, 8), 0xff, "global_gain is kept");
        assert_eq!(read_bits(&f, rec0 + 29, 4), 0, "scalefac_compress");
        assert_eq!(
            read_bits(&f, rec0 + 33, 26),
            (1 << 26) - 1,
            "the rest is kept"
        );
        let rec3 = rec0 + 3 * 59;
        assert_eq!(read_bits(&f, rec3, 21), 0);
        assert_eq!(read_bits(&f, 4 * 8, 9), 300, "main_data_begin is kept");
        // 418 - 4 - 32 = 382 bytes are now in the reservoir.
        let mut g = frame(382);
        assert!(!guard.silence_if_underflow(&mut g));
        assert_eq!(g, frame(382));
    }

    #[test]
    fn other_layers_and_garbage_are_left_alone() {
        let mut guard = ReservoirGuard::default();
        let mut layer2 = frame(300);
        layer2[1] = 0xfd;
        let before = layer2.clone();
        assert!(!guard.silence_if_underflow(&mut layer2));
        assert_eq!(layer2, before);
        assert!(!guard.silence_if_underflow(&mut [0u8; 3]));
        assert!(!guard.silence_if_underflow(&mut [0xff, 0xfb, 0x92]));
    }
}
