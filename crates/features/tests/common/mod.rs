//! Shared helpers of the feature crate's integration tests: reading the committed librosa
//! fixtures (`tests/fixtures`, made by `tests/fixtures/generate.py`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A 2-D (or 1-D) array read from a `.npy` file, as f64, in C order.
#[derive(Debug, Clone)]
pub struct Npy {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Npy {
    /// Rows of a 2-D array (1 for a 1-D array).
    pub fn rows(&self) -> usize {
        if self.shape.len() == 2 {
            self.shape[0]
        } else {
            1
        }
    }
    /// Columns of a 2-D array (the length of a 1-D array).
    pub fn cols(&self) -> usize {
        *self.shape.last().unwrap_or(&0)
    }
    /// Element at (row, col) of a 2-D array.
    pub fn at(&self, row: usize, col: usize) -> f64 {
        self.data[row * self.cols() + col]
    }
    /// One row as a slice.
    pub fn row(&self, row: usize) -> &[f64] {
        let c = self.cols();
        &self.data[row * c..(row + 1) * c]
    }
}

/// Reads a little-endian, C-ordered `.npy` of float32, float64 or int64 (format 1.0-3.0).
pub fn read_npy(path: impl AsRef<Path>) -> Npy {
    let path = path.as_ref();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..6],
        b"\x93NUMPY",
        "{}: not an npy file",
        path.display()
    );
    let major = bytes[6];
    let (header_len, start) = if major == 1 {
        (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10)
    } else {
        (
            u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
            12,
        )
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).unwrap();
    let descr = field(header, "descr")
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap_or("")
        .to_string();
    assert!(
        field(header, "fortran_order").starts_with("False"),
        "{}: Fortran order not supported",
        path.display()
    );
    let shape_str = field(header, "shape");
    let shape: Vec<usize> = shape_str
        .trim_start_matches('(')
        .split(')')
        .next()
        .unwrap()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let body = &bytes[start + header_len..];
    let data: Vec<f64> = match descr.as_str() {
        "<f4" => body
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
        "<f8" => body
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect(),
        "<i8" => body
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
        other => panic!("{}: dtype {other} not supported", path.display()),
    };
    assert_eq!(
        data.len(),
        shape.iter().product::<usize>(),
        "{}: size",
        path.display()
    );
    Npy { shape, data }
}

fn field<'a>(header: &'a str, key: &str) -> &'a str {
    let at = header
        .find(&format!("'{key}'"))
        .unwrap_or_else(|| panic!("npy header lacks {key}"));
    let rest = &header[at + key.len() + 2..];
    rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace())
}

/// A fixture clip's samples as f32 in [-1, 1), exactly as `librosa.load(sr=None)` reads
/// the 16-bit WAV (sample / 32768).
pub fn read_clip(name: &str) -> Vec<f32> {
    let path = fixtures().join(format!("{name}.wav"));
    let mut r = hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(r.spec().sample_rate, 22050);
    r.samples::<i16>()
        .map(|s| s.unwrap() as f32 / 32768.0)
        .collect()
}

/// The clips every reference test runs over.
pub const CLIPS: [&str; 4] = ["synth", "brahms", "piano", "whale"];

/// Reads `<clip>.json`'s numeric fields.
pub fn clip_info(name: &str, key: &str) -> f64 {
    let text = std::fs::read_to_string(fixtures().join(format!("{name}.json"))).unwrap();
    let at = text
        .find(&format!("\"{key}\""))
        .unwrap_or_else(|| panic!("{name}.json lacks {key}"));
    let rest = &text[at + key.len() + 2..];
    let rest = rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace());
    let end = rest.find([',', '\n', '}']).unwrap();
    rest[..end].trim().parse().unwrap()
}
