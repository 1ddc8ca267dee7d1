//! A source whose four bytes at one offset read as other values: how we correct a size
//! field that lies, for readers that would otherwise refuse the file (a RIFF size
//! smaller than its chunks, an MP4 audio atom that runs past the end of a cut file).

use std::io::{Read, Seek, SeekFrom};
use symphonia::core::io::MediaSource;

/// Four bytes at `at` that read as `value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Patch {
    pub at: u64,
    pub value: [u8; 4],
}

/// `inner` with a [`Patch`] applied to whatever is read.
pub(crate) struct Patched<'s> {
    inner: Box<dyn MediaSource + 's>,
    pos: u64,
    patch: Patch,
}

impl<'s> Patched<'s> {
    pub fn new(mut inner: Box<dyn MediaSource + 's>, patch: Patch) -> std::io::Result<Self> {
        let pos = inner.stream_position()?;
        Ok(Patched { inner, pos, patch })
    }
}

impl Read for Patched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let Patch { at, value } = self.patch;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            if let Some(k) = (self.pos + i as u64).checked_sub(at) {
                if let Some(&v) = value.get(k as usize) {
                    *b = v;
                }
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Patched<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}

impl MediaSource for Patched<'_> {
    fn is_seekable(&self) -> bool {
        self.inner.is_seekable()
    }
    fn byte_len(&self) -> Option<u64> {
        self.inner.byte_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patched_bytes_read_as_the_patch_whatever_the_reads() {
        let bytes = b"RIFF\x10\x00\x00\x00WAVEfmt ".to_vec();
        let patch = Patch {
            at: 4,
            value: [0xff; 4],
        };
        let mut src = Patched::new(Box::new(std::io::Cursor::new(bytes)), patch).unwrap();
        let mut out = Vec::new();
        src.read_to_end(&mut out).unwrap();
        assert_eq!(&out, b"RIFF\xff\xff\xff\xffWAVEfmt ");
        src.seek(SeekFrom::Start(6)).unwrap();
        let mut three = [0u8; 3];
        src.read_exact(&mut three).unwrap();
        assert_eq!(&three, b"\xff\xffW");
        src.seek(SeekFrom::Start(0)).unwrap();
        let mut one = [0u8; 1];
        let mut bytewise = Vec::new();
        while src.read(&mut one).unwrap() == 1 {
            bytewise.push(one[0]);
        }
        assert_eq!(bytewise, out);
    }
}
