//! Two things about RIFF/WAVE files that symphonia 0.6.1 does not do as libsndfile does:
//!
//! * It parses the `LIST`/`INFO` chunk but drops the result (the reader keeps only the
//!   probe's metadata), so we read the artist, title, album and genre ourselves.
//! * It rejects a file whose RIFF size is smaller than a chunk inside it (a header
//!   written before the data was complete). libsndfile trusts the file's real length
//!   instead; we retry such a file with the RIFF size read as "unknown" (0xFFFFFFFF),
//!   which symphonia accepts, so the data chunk runs to the end of the file.

use super::patch::Patch;
use super::tags::Tags;
use std::io::SeekFrom;
use symphonia::core::io::MediaSource;

/// Chunks we walk past looking for `LIST`/`INFO`.
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
    src.seek(SeekFrom::Start(0)).ok()?;
    let mut head = [0u8; 12];
    src.read_exact(&mut head).ok()?;
    if !is_wave(&head) {
        return None;
    }
    let end = src.byte_len()?;
    let mut pos = 12u64;
    for _ in 0..MAX_CHUNKS {
        if pos + 8 > end {
            return None;
        }
        src.seek(SeekFrom::Start(pos)).ok()?;
        let mut h = [0u8; 8];
        src.read_exact(&mut h).ok()?;
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        if &h[0..4] == b"LIST" && (4..=MAX_INFO_BYTES).contains(&len) {
            let mut body = vec![0u8; len as usize];
            if src.read_exact(&mut body).is_ok() && &body[0..4] == b"INFO" {
                parse_info(&body[4..], tags);
                return Some(());
            }
        }
        pos = pos.checked_add(8 + u64::from(len) + u64::from(len % 2))?;
    }
    None
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
