//! Two things about RIFF/WAVE files that symphonia 0.6.1 does not do as libsndfile does:
//!
//! * It parses the `LIST`/`INFO` chunk but drops the result (the reader keeps only the
//!   probe's metadata), so we read the artist, title, album and genre ourselves.
//! * It rejects a file whose RIFF size is smaller than a chunk inside it (a header
//!   written before the data was complete). libsndfile trusts the file's real length
//!   instead; we retry such a file with the RIFF size read as "unknown" (0xFFFFFFFF),
//!   which symphonia accepts, so the data chunk runs to the end of the file.
//!
//! It also reads a WAV's format and finds its samples ([`wave_format`]): the channel
//! count decides which decoder reads it, and hound cannot read 64-bit float.

use super::patch::Patch;
use super::tags::Tags;
use std::io::SeekFrom;
use symphonia::core::io::MediaSource;

/// Chunk headers we read, at most.
const MAX_CHUNKS: usize = 256;
/// Largest `INFO` list we read.
const MAX_INFO_BYTES: u32 = 1 << 20;

/// Whether `head` (the first 12 bytes) starts a RIFF/WAVE file.
pub(crate) fn is_wave(head: &[u8]) -> bool {
    head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WAVE"
}

/// Reads the `LIST`/`INFO` tags of a RIFF/WAVE source and rewinds it.
pub(crate) fn info_tags(src: &mut dyn MediaSource) -> Tags {
    let mut tags = Tags::default();
    if src.is_seekable() {
        let _ = walk(src, &mut tags);
    }
    let _ = src.seek(SeekFrom::Start(0));
    tags
}

fn walk(src: &mut dyn MediaSource, tags: &mut Tags) -> Option<()> {
    for chunk in chunks(src)? {
        if &chunk.id == b"LIST" && (4..=MAX_INFO_BYTES).contains(&chunk.len) {
            let mut body = vec![0u8; chunk.len as usize];
            src.seek(SeekFrom::Start(chunk.start)).ok()?;
            if src.read_exact(&mut body).is_ok() && &body[0..4] == b"INFO" {
                parse_info(&body[4..], tags);
                return Some(());
            }
        }
    }
    None
}

/// A chunk of a RIFF file: its id, where its body starts, and its stated length.
struct Chunk {
    id: [u8; 4],
    start: u64,
    len: u32,
}

/// The chunks of a seekable RIFF/WAVE source whose headers lie inside it (at most
/// [`MAX_CHUNKS`]); `None` when it is not one.
fn chunks(src: &mut dyn MediaSource) -> Option<Vec<Chunk>> {
    src.seek(SeekFrom::Start(0)).ok()?;
    let mut head = [0u8; 12];
    src.read_exact(&mut head).ok()?;
    if !is_wave(&head) {
        return None;
    }
    let end = src.byte_len()?;
    let mut found = Vec::new();
    let mut pos = 12u64;
    while found.len() < MAX_CHUNKS && pos + 8 <= end {
        src.seek(SeekFrom::Start(pos)).ok()?;
        let mut h = [0u8; 8];
        src.read_exact(&mut h).ok()?;
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        found.push(Chunk {
            id: [h[0], h[1], h[2], h[3]],
            start: pos + 8,
            len,
        });
        pos += 8 + u64::from(len) + u64::from(len % 2);
    }
    Some(found)
}

/// What a WAV's `fmt ` chunk states, and where its `data` chunk lies.
#[derive(Debug, PartialEq)]
pub(crate) struct WaveFormat {
    /// The format tag; for `WAVE_FORMAT_EXTENSIBLE`, that of its sub-format GUID.
    pub tag: u16,
    pub channels: u16,
    pub sample_rate: u32,
    pub block_align: u16,
    pub bits_per_sample: u16,
    /// Byte offset of the first sample, and the bytes of samples the data chunk states;
    /// for a size left unknown (0xFFFFFFFF, as streaming writers leave it), the bytes
    /// up to the end of the file. `None` without a data chunk.
    pub data: Option<(u64, u64)>,
}

/// `WAVE_FORMAT_IEEE_FLOAT`.
pub(crate) const FORMAT_IEEE_FLOAT: u16 = 3;
/// `WAVE_FORMAT_EXTENSIBLE`, whose sub-format GUID begins with the real format tag.
const FORMAT_EXTENSIBLE: u16 = 0xfffe;

/// The format of a seekable RIFF/WAVE source, which is left rewound; `None` for any
/// other source, or one without a readable `fmt ` chunk.
pub(crate) fn wave_format(src: &mut dyn MediaSource) -> Option<WaveFormat> {
    let format = read_format(src);
    src.seek(SeekFrom::Start(0)).ok()?;
    format
}

fn read_format(src: &mut dyn MediaSource) -> Option<WaveFormat> {
    let chunks = chunks(src)?;
    let fmt = chunks.iter().find(|c| &c.id == b"fmt ")?;
    let mut f = vec![0u8; usize::try_from(fmt.len.min(64)).ok()?];
    src.seek(SeekFrom::Start(fmt.start)).ok()?;
    src.read_exact(&mut f).ok()?;
    let u16_at = |i: usize| Some(u16::from_le_bytes([*f.get(i)?, *f.get(i + 1)?]));
    let data = match chunks.iter().find(|c| &c.id == b"data") {
        Some(c) if c.len == u32::MAX => Some((c.start, src.byte_len()?.saturating_sub(c.start))),
        Some(c) => Some((c.start, u64::from(c.len))),
        None => None,
    };
    Some(WaveFormat {
        tag: match u16_at(0)? {
            FORMAT_EXTENSIBLE => u16_at(24)?,
            tag => tag,
        },
        channels: u16_at(2)?,
        sample_rate: u32::from_le_bytes(f.get(4..8)?.try_into().ok()?),
        block_align: u16_at(12)?,
        bits_per_sample: u16_at(14)?,
        data,
    })
}

fn parse_info(mut body: &[u8], tags: &mut Tags) {
    while body.len() >= 8 {
        let id = [body[0], body[1], body[2], body[3]];
        let len = u32::from_le_bytes([body[4], body[5], body[6], body[7]]) as usize;
        let Some(value) = body.get(8..8 + len) else {
            return;
        };
        let text = String::from_utf8_lossy(value);
        let slot = match &id {
            b"IART" => Some(&mut tags.artist),
            b"INAM" => Some(&mut tags.title),
            b"IPRD" => Some(&mut tags.album),
            b"IGNR" => Some(&mut tags.genre),
            _ => None,
        };
        if let (Some(slot), Some(clean)) = (slot, super::tags::clean(&text)) {
            *slot = Some(clean);
        }
        let next = 8 + len + len % 2;
        body = body.get(next..).unwrap_or(&[]);
    }
}

/// The RIFF size read as "unknown" (0xFFFFFFFF), which symphonia accepts: the data
/// chunk then runs to the end of the file.
pub(crate) const UNKNOWN_RIFF_SIZE: Patch = Patch {
    at: 4,
    value: [0xff; 4],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_list_gives_tags() {
        let mut tags = Tags::default();
        parse_info(
            b"IART\x05\x00\x00\x00Art\x00\x00\x00INAM\x02\x00\x00\x00Ti",
            &mut tags,
        );
        assert_eq!(tags.artist.as_deref(), Some("Art"));
        assert_eq!(tags.title.as_deref(), Some("Ti"));
    }
}
