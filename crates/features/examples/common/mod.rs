//! What the timing examples share.

use std::path::Path;

/// A 22050-Hz 16-bit fixture clip of `tests/fixtures` as f32 samples.
pub fn clip(name: &str) -> Vec<f32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.wav"));
    let mut reader = hound::WavReader::open(&path).expect("fixture clip");
    reader
        .samples::<i16>()
        .map(|s| s.expect("sample") as f32 / 32768.0)
        .collect()
}
