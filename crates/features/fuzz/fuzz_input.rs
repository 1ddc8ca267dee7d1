// How the fuzz target reads an input, shared by the target
// (fuzz_targets/decode_features.rs) and the replay test (tests/fuzz_regressions.rs)
// through `include!`.

/// File names by first byte (modulo their count); keep in step with scripts/fuzz-seeds.sh.
const NAMES: [&str; 8] = [
    "fuzz",
    "fuzz.mp3",
    "fuzz.wav",
    "fuzz.flac",
    "fuzz.ogg",
    "fuzz.m4a",
    "fuzz.aiff",
    "fuzz.opus",
];

/// Features are computed on at most this many samples (5 s at 22050 Hz): decoding sees
/// every byte, and a short input that expands to minutes of audio (FLAC constant
/// subframes, a WAV of tiny frames) does not slow the fuzzer down to a crawl.
const MAX_SAMPLES: usize = 5 * 22050;
