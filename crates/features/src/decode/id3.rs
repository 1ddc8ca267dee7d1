//! A leading ID3v2 tag that symphonia cannot parse (an unknown version, a damaged
//! header) fails the whole file there, while mpg123 (librosa's MP3 decoder) skips it.
//! We retry such a file with the tag cut off: the audio after it is read as usual.

use std::io::{Read, Seek, SeekFrom};
use symphonia::core::io::MediaSource;

/// Length in bytes of the ID3v2 tag that `head` (the file's first 10+ bytes) starts,
/// header and footer included, or `None` if it starts none.
pub(crate) fn tag_len(head: &[u8]) -> Option<u64> {
    if head.len() < 10 || &head[0..3] != b"ID3" {
        return None;
    }
    let size = &head[6..10];
    if size.iter().any(|b| b & 0x80 != 0) {
        return None; // not a syncsafe integer: not a tag we can measure
    }
    let body = size.iter().fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
    let footer = if head[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + body + footer)
}

/// A source that starts `base` bytes into `inner`.
pub(crate) struct SkipPrefix<S> {
    inner: S,
    base: u64,
}

impl<S: MediaSource> SkipPrefix<S> {
    pub fn new(mut inner: S, base: u64) -> std::io::Result<Self> {
        inner.seek(SeekFrom::Start(base))?;
        Ok(SkipPrefix { inner, base })
    }

    fn outer(&self, inner_pos: u64) -> std::io::Result<u64> {
        inner_pos.checked_sub(self.base).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the audio",
            )
        })
    }
}

impl<S: MediaSource> Read for SkipPrefix<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<S: MediaSource> Seek for SkipPrefix<S> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let to = match to {
            SeekFrom::Start(p) => SeekFrom::Start(p.saturating_add(self.base)),
            other => other,
        };
        let pos = self.inner.seek(to)?;
        match self.outer(pos) {
            Ok(p) => Ok(p),
            Err(e) => {
                self.inner.seek(SeekFrom::Start(self.base))?;
                Err(e)
            }
        }
    }
}

impl<S: MediaSource> MediaSource for SkipPrefix<S> {
    fn is_seekable(&self) -> bool {
        self.inner.is_seekable()
    }
    fn byte_len(&self) -> Option<u64> {
        self.inner.byte_len().map(|n| n.saturating_sub(self.base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_the_tag() {
        assert_eq!(
            tag_len(b"ID3\x03\x00\x00\x00\x00\x02\x0b...."),
            Some(10 + 267)
        );
        assert_eq!(
            tag_len(b"ID3\x04\x00\x10\x00\x00\x00\x01"),
            Some(10 + 1 + 10)
        );
        assert_eq!(tag_len(b"ID3\x04\x00\x00\x80\x00\x00\x01"), None);
        assert_eq!(tag_len(b"RIFF\x00\x00\x00\x00WAVE"), None);
    }

    #[test]
    fn skips_the_prefix() {
        let mut s = SkipPrefix::new(std::io::Cursor::new(b"0123456789".to_vec()), 4).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert_eq!(out, "456789");
        assert_eq!(s.seek(SeekFrom::Start(1)).unwrap(), 1);
        assert_eq!(s.seek(SeekFrom::End(-2)).unwrap(), 4);
        assert!(s.seek(SeekFrom::Current(-5)).is_err());
        assert_eq!(s.byte_len(), Some(6));
    }
}
