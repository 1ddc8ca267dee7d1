//! Artist, title, album and genre from a file's tags: ID3v2/ID3v1 (MP3), Vorbis
//! comments (Ogg, FLAC), MP4 `ilst` atoms, RIFF INFO and AIFF text chunks, as symphonia
//! maps them to its standard tags.

use std::io::{Seek, SeekFrom};
use symphonia::core::formats::FormatReader;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{MetadataReader, MetadataRevision, StandardTag, Tag};
use symphonia::default::meta::{Id3v1Reader, Id3v2Reader};

/// The tags we keep; `None` where the file has none (or only blanks).
#[derive(Debug, Default, Clone)]
pub(crate) struct Tags {
    pub artist: Option<String>,
    pub album_artist: Option<String>,
    pub title: Option<String>,
    pub album: Option<String>,
    pub genre: Option<String>,
}

impl Tags {
    /// Reads every metadata revision the reader has queued, oldest first, so that a
    /// newer one wins: for an MP3 symphonia reads the trailing ID3v1 tag before the
    /// leading ID3v2 tag, and ID3v2 (longer fields, Unicode) is the one to keep.
    pub fn read(format: &mut dyn FormatReader, track_id: u32) -> Tags {
        let mut tags = Tags::default();
        let mut log = format.metadata();
        loop {
            if let Some(rev) = log.current() {
                tags.take_from(rev, track_id);
            }
            if log.pop().is_none() {
                break;
            }
        }
        tags
    }

    /// Reads the ID3 tags of a bare MPEG audio stream that no format reader took (a
    /// free-format MP3, which symphonia's probe does not recognise) with symphonia's own
    /// tag readers: the trailing ID3v1 tag, then the leading ID3v2 tag, which wins, as
    /// in [`Tags::read`]. `open` gives the file from its start, once per tag. A tag that
    /// is missing or cannot be read is left out: the audio does not depend on it.
    pub fn read_id3<'s>(open: impl Fn() -> Option<Box<dyn MediaSource + 's>>) -> Tags {
        let v1 = open().and_then(|mut source| {
            let len = source.byte_len()?;
            source.seek(SeekFrom::Start(len.checked_sub(128)?)).ok()?;
            let mss = MediaSourceStream::new(source, Default::default());
            Id3v1Reader::try_new(mss, Default::default())
                .and_then(|mut r| r.read_all())
                .ok()
        });
        let v2 = open().and_then(|source| {
            let mss = MediaSourceStream::new(source, Default::default());
            Id3v2Reader::try_new(mss, Default::default())
                .and_then(|mut r| r.read_all())
                .ok()
        });
        let mut tags = Tags::default();
        for buffer in [v1, v2].into_iter().flatten() {
            tags.take_from(&buffer.revision, 0);
        }
        tags
    }

    /// Fills the fields this set lacks from `other`.
    pub fn fill_from(&mut self, other: Tags) {
        let pairs = [
            (&mut self.artist, other.artist),
            (&mut self.album_artist, other.album_artist),
            (&mut self.title, other.title),
            (&mut self.album, other.album),
            (&mut self.genre, other.genre),
        ];
        for (mine, theirs) in pairs {
            if mine.is_none() {
                *mine = theirs;
            }
        }
    }

    fn take_from(&mut self, rev: &MetadataRevision, track_id: u32) {
        let per_track = rev
            .per_track
            .iter()
            .filter(|t| t.track_id == u64::from(track_id))
            .flat_map(|t| t.metadata.tags.iter());
        for tag in rev.media.tags.iter().chain(per_track) {
            self.take_tag(tag);
        }
    }

    fn take_tag(&mut self, tag: &Tag) {
        let (slot, value) = match &tag.std {
            Some(StandardTag::Artist(v)) => (&mut self.artist, v),
            Some(StandardTag::AlbumArtist(v)) => (&mut self.album_artist, v),
            Some(StandardTag::TrackTitle(v)) => (&mut self.title, v),
            Some(StandardTag::Album(v)) => (&mut self.album, v),
            Some(StandardTag::Genre(v)) => (&mut self.genre, v),
            _ => return,
        };
        if let Some(clean) = clean(value) {
            *slot = Some(clean);
        }
    }
}

/// Trims blanks and NULs; ID3v2.4 separates multiple values with NUL, shown as "; ".
pub(crate) fn clean(s: &str) -> Option<String> {
    let trimmed = s.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    if trimmed.is_empty() {
        return None;
    }
    let parts: Vec<&str> = trimmed
        .split('\0')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    Some(parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn cleans_blanks_and_nul_separators() {
        assert_eq!(clean("  Art Blakey \0"), Some("Art Blakey".to_string()));
        assert_eq!(clean("A\0B"), Some("A; B".to_string()));
        assert_eq!(clean(" \0 "), None);
    }
}
