//! The MP4 edit list (`moov/trak/edts/elst`), read before symphonia opens the file, so
//! that AAC in MP4 loses its encoder priming and padding as ffmpeg (and so librosa's
//! audioread fallback for M4A) removes them. symphonia 0.6 parses `elst` but does not
//! apply it.
//!
//! We honour the first non-empty edit of the audio track: `media_time` priming frames
//! are dropped and `segment_duration` frames kept, both rescaled as ffmpeg's
//! `mov_fix_index` does (movie timescale -> media timescale, rounded to nearest).
//! Empty edits (`media_time = -1`, an initial delay) and further edits are ignored.

use super::patch::Patch;
use std::io::SeekFrom;
use symphonia::core::io::MediaSource;

/// Largest `moov` we read into memory; a bigger one is left to symphonia untrimmed.
const MAX_MOOV_BYTES: u64 = 64 << 20;
/// Top-level atoms we walk past looking for `moov`.
const MAX_TOP_LEVEL_ATOMS: usize = 1024;

/// One track's edit, in its own timescales.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TrackEdit {
    track_id: u32,
    movie_timescale: u32,
    media_timescale: u32,
    /// Start of the edit in media timescale units.
    media_time: i64,
    /// Length of the edit in movie timescale units; 0 means "to the end".
    segment_duration: u64,
}

/// The edits of every track that has one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct EditLists {
    tracks: Vec<TrackEdit>,
}

/// Frames to drop and to keep, consumed as decoded packets pass.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EditCut {
    /// Frames still to drop from the start.
    pub skip: u64,
    /// Frames still to keep; `None` keeps the rest.
    pub keep: Option<u64>,
}

impl EditLists {
    /// The cut for `track_id` at `sample_rate` Hz, if the track has a non-trivial edit.
    pub fn for_track(&self, track_id: u32, sample_rate: Option<u32>) -> Option<EditCut> {
        let e = self.tracks.iter().find(|t| t.track_id == track_id)?;
        if e.media_timescale == 0 || e.media_time < 0 {
            return None;
        }
        let sr = u64::from(sample_rate.unwrap_or(e.media_timescale));
        let media_ts = u64::from(e.media_timescale);
        // Media timescale units -> frames (the same when, as usual, they are equal).
        let to_frames = |t: u64| rescale(t, sr, media_ts);
        let skip = to_frames(e.media_time as u64);
        let keep = (e.segment_duration > 0 && e.movie_timescale > 0).then(|| {
            let in_media = rescale(e.segment_duration, media_ts, u64::from(e.movie_timescale));
            to_frames(in_media)
        });
        if skip == 0 && keep.is_none() {
            return None;
        }
        Some(EditCut { skip, keep })
    }
}

impl EditCut {
    /// Narrows a packet's frame range to what the edit keeps.
    pub fn cut(&mut self, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let n = range.len() as u64;
        let dropped = self.skip.min(n);
        self.skip -= dropped;
        let start = range.start + dropped as usize;
        let avail = (range.end - start) as u64;
        let kept = self.keep.map_or(avail, |k| k.min(avail));
        if let Some(k) = self.keep.as_mut() {
            *k -= kept;
        }
        start..start + kept as usize
    }
}

/// `a * b / c` rounded to nearest, in u128 so no product overflows (av_rescale).
fn rescale(a: u64, b: u64, c: u64) -> u64 {
    if c == 0 {
        return 0;
    }
    let r = (u128::from(a) * u128::from(b) + u128::from(c) / 2) / u128::from(c);
    u64::try_from(r).unwrap_or(u64::MAX)
}

/// What a look at an MP4's top-level atoms found.
#[derive(Debug, Default)]
pub(crate) struct Mp4Scan {
    /// The file starts with an `ftyp` atom.
    pub is_mp4: bool,
    /// `moov` (the index without which nothing can be decoded) is present.
    pub has_moov: bool,
    /// The file was cut inside a top-level atom (in practice `mdat`, the audio): its
    /// size field read as 0, "to the end of the file", which is what is left of it.
    pub open_ended: Option<Patch>,
    /// The tracks' edit lists, when `moov` could be read.
    pub edits: Option<EditLists>,
}

/// Reads the edit lists of an MP4/M4A/MOV source and rewinds it. Any other source, or
/// an MP4 whose atoms we cannot walk, comes back rewound with no edits: symphonia then
/// judges the file on its own.
pub(crate) fn scan<'s>(
    mut source: Box<dyn MediaSource + 's>,
) -> (Box<dyn MediaSource + 's>, Mp4Scan) {
    let mut found = Mp4Scan::default();
    if source.is_seekable() {
        if let Some(moov) = find_moov(&mut source, &mut found) {
            found.edits = Some(parse_moov(&moov)).filter(|e| !e.tracks.is_empty());
        }
    }
    if source.seek(SeekFrom::Start(0)).is_err() {
        // A source that cannot rewind: symphonia will fail on it with a clear I/O error.
        found.edits = None;
    }
    (source, found)
}

/// Walks the top-level atoms of a file that starts with `ftyp`, noting one that runs past
/// the end of the file, and returns `moov`'s body.
fn find_moov(src: &mut Box<dyn MediaSource + '_>, found: &mut Mp4Scan) -> Option<Vec<u8>> {
    let len = src.byte_len()?;
    src.seek(SeekFrom::Start(0)).ok()?;
    let mut pos = 0u64;
    // (start of the body, body length) of a whole `moov`.
    let mut moov = None;
    for i in 0..MAX_TOP_LEVEL_ATOMS {
        let Some((kind, header_len, size)) = read_atom_header(src, pos, len) else {
            break;
        };
        if i == 0 {
            if &kind != b"ftyp" {
                return None;
            }
            found.is_mp4 = true;
        }
        let Some(end) = pos.checked_add(size).filter(|&end| end <= len) else {
            found.open_ended = Some(Patch {
                at: pos,
                value: [0; 4],
            });
            break;
        };
        if &kind == b"moov" && moov.is_none() {
            found.has_moov = true;
            moov = Some((pos + header_len, size - header_len));
        }
        pos = end;
        if pos == len {
            break;
        }
    }
    let (start, body) = moov?;
    if body > MAX_MOOV_BYTES {
        return None;
    }
    let mut buf = vec![0u8; body as usize];
    src.seek(SeekFrom::Start(start)).ok()?;
    src.read_exact(&mut buf).ok()?;
    Some(buf)
}

/// Reads the header of the atom at `pos`: (type, header length, whole size).
fn read_atom_header(
    src: &mut Box<dyn MediaSource + '_>,
    pos: u64,
    len: u64,
) -> Option<([u8; 4], u64, u64)> {
    src.seek(SeekFrom::Start(pos)).ok()?;
    let mut h = [0u8; 8];
    src.read_exact(&mut h).ok()?;
    let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let kind = [h[4], h[5], h[6], h[7]];
    let (header_len, size) = match size32 {
        0 => (8, len - pos),
        1 => {
            let mut l = [0u8; 8];
            src.read_exact(&mut l).ok()?;
            (16, u64::from_be_bytes(l))
        }
        n => (8, u64::from(n)),
    };
    if size < header_len {
        return None;
    }
    Some((kind, header_len, size))
}

/// Child atoms of an in-memory atom body: (type, body).
fn children(mut body: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        if body.len() < 8 {
            return None;
        }
        let size32 = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as u64;
        let kind = [body[4], body[5], body[6], body[7]];
        let (header_len, size) = match size32 {
            0 => (8u64, body.len() as u64),
            1 => {
                let l: [u8; 8] = body.get(8..16)?.try_into().ok()?;
                (16, u64::from_be_bytes(l))
            }
            n => (8, n),
        };
        if size < header_len || size > body.len() as u64 {
            return None;
        }
        let inner = &body[header_len as usize..size as usize];
        body = &body[size as usize..];
        Some((kind, inner))
    })
}

fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(body).find(|(k, _)| k == kind).map(|(_, b)| b)
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Timescale of an `mvhd` or `mdhd` body (same layout up to the timescale).
fn timescale(b: &[u8]) -> Option<u32> {
    match *b.first()? {
        0 => be_u32(b, 12),
        1 => be_u32(b, 20),
        _ => None,
    }
}

fn parse_moov(moov: &[u8]) -> EditLists {
    let mut out = EditLists::default();
    let Some(movie_timescale) = child(moov, b"mvhd").and_then(timescale) else {
        return out;
    };
    for (kind, trak) in children(moov) {
        if &kind != b"trak" {
            continue;
        }
        if let Some(edit) = parse_trak(trak, movie_timescale) {
            out.tracks.push(edit);
        }
    }
    out
}

fn parse_trak(trak: &[u8], movie_timescale: u32) -> Option<TrackEdit> {
    let tkhd = child(trak, b"tkhd")?;
    let track_id = match *tkhd.first()? {
        0 => be_u32(tkhd, 12)?,
        1 => be_u32(tkhd, 20)?,
        _ => return None,
    };
    let mdia = child(trak, b"mdia")?;
    let handler = child(mdia, b"hdlr").and_then(|h| h.get(8..12))?;
    if handler != b"soun" {
        return None;
    }
    let media_timescale = child(mdia, b"mdhd").and_then(timescale)?;
    let elst = child(child(trak, b"edts")?, b"elst")?;
    let version = *elst.first()?;
    let count = be_u32(elst, 4)? as usize;
    let entry_len = if version == 1 { 20 } else { 12 };
    for i in 0..count.min(64) {
        let at = 8 + i * entry_len;
        let (segment_duration, media_time) = if version == 1 {
            (be_u64(elst, at)?, be_u64(elst, at + 8)? as i64)
        } else {
            (
                u64::from(be_u32(elst, at)?),
                i64::from(be_u32(elst, at + 4)? as i32),
            )
        };
        if media_time >= 0 {
            return Some(TrackEdit {
                track_id,
                movie_timescale,
                media_timescale,
                media_time,
                segment_duration,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_spans_packets() {
        let mut c = EditCut {
            skip: 1500,
            keep: Some(1000),
        };
        assert_eq!(c.cut(0..1024), 1024..1024);
        assert_eq!(c.cut(0..1024), 476..1024);
        assert_eq!(c.cut(0..1024), 0..452);
        assert_eq!(c.cut(0..1024), 0..0);
    }

    #[test]
    fn edit_is_rescaled_like_ffmpeg() {
        let lists = EditLists {
            tracks: vec![TrackEdit {
                track_id: 1,
                movie_timescale: 1000,
                media_timescale: 44100,
                media_time: 1024,
                segment_duration: 500,
            }],
        };
        let cut = lists.for_track(1, Some(44100)).unwrap();
        assert_eq!(
            cut,
            EditCut {
                skip: 1024,
                keep: Some(22050)
            }
        );
        assert!(lists.for_track(2, Some(44100)).is_none());
    }
}
