//! Decoding: every format, sample width, rate and channel count we claim, gapless sample
//! counts, parity with `librosa.load` on committed fixtures, the streaming resampler
//! against the one-shot one, and the error for each kind of bad input.
//!
//! WAV files are generated here with hound (64-bit float by hand); the compressed
//! fixtures and their librosa references are made by tests/fixtures/formats/make.sh and
//! make_reference.py.

mod common;

use musicgenre_features::decode::{load, load_from_memory, LoadOptions, Mp3Decoder};
use musicgenre_features::resample::{resample, Resampler};
use musicgenre_features::Error;
use std::f64::consts::PI;
use std::path::{Path, PathBuf};

fn formats_dir() -> PathBuf {
    common::fixtures().join("formats")
}

fn fixture(name: &str) -> PathBuf {
    formats_dir().join(name)
}

/// The fixtures' test tone, mixed to mono: 0.25 sin(440 Hz) + 0.25 sin(660 Hz), or
/// 0.5 sin(440 Hz) for the mono fixture.
fn tone_mono(sr: u32, n: usize, mono_source: bool) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(sr);
            if mono_source {
                0.5 * (2.0 * PI * 440.0 * t).sin()
            } else {
                0.25 * (2.0 * PI * 440.0 * t).sin() + 0.25 * (2.0 * PI * 660.0 * t).sin()
            }
        })
        .collect()
}

/// Normalised correlation of `x` with `y` shifted by `lag` samples.
fn correlation(x: &[f32], y: &[f64], lag: isize) -> f64 {
    let (mut xy, mut xx, mut yy) = (0.0, 0.0, 0.0);
    for (i, &a) in x.iter().enumerate() {
        let j = i as isize + lag;
        if j < 0 || j as usize >= y.len() {
            continue;
        }
        let b = y[j as usize];
        xy += f64::from(a) * b;
        xx += f64::from(a) * f64::from(a);
        yy += b * b;
    }
    xy / (xx * yy).sqrt().max(1e-300)
}

/// The lag in -max..=max with the highest correlation.
fn best_lag(x: &[f32], y: &[f64], max: isize) -> isize {
    (-max..=max)
        .max_by(|&a, &b| correlation(x, y, a).total_cmp(&correlation(x, y, b)))
        .unwrap()
}

/// hound's spec of integer PCM.
fn int_spec(channels: u16, sample_rate: u32, bits_per_sample: u16) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample,
        sample_format: hound::SampleFormat::Int,
    }
}

fn write_wav<S: hound::Sample + Copy>(path: &Path, spec: hound::WavSpec, frames: &[Vec<S>]) {
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for frame in frames {
        for &s in frame {
            w.write_sample(s).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// `n` frames of `channels` channels; channel c is a sine at 220*(c+1) Hz scaled to
/// `full_scale`, plus a little deterministic noise so every bit is exercised.
fn test_signal(sr: u32, channels: usize, n: usize, full_scale: f64) -> Vec<Vec<f64>> {
    let mut seed = 0x9e37_79b9_u32;
    (0..n)
        .map(|i| {
            (0..channels)
                .map(|c| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    let noise = (f64::from(seed >> 8) / f64::from(1u32 << 24) - 0.5) * 0.01;
                    let t = i as f64 / f64::from(sr);
                    (0.6 * (2.0 * PI * 220.0 * (c + 1) as f64 * t).sin() + noise) * full_scale
                })
                .collect()
        })
        .collect()
}

/// numpy's float32 mean over channels of already-converted samples.
fn mean_f32(frame: &[f32]) -> f32 {
    let mut sum = 0f32;
    for &s in frame {
        sum += s;
    }
    if frame.len() > 1 {
        sum / frame.len() as f32
    } else {
        sum
    }
}

fn native() -> LoadOptions {
    LoadOptions::native_rate()
}

// ---------------------------------------------------------------------------------
// WAV: sample formats, channel counts, rates.

#[test]
fn wav_integer_widths_decode_exactly_as_libsndfile() {
    let dir = tempfile::tempdir().unwrap();
    let sr = 44100;
    for bits in [8u16, 16, 24, 32] {
        let full = f64::from(1u32 << (bits - 1)) - 1.0;
        let signal = test_signal(sr, 2, 3000, full);
        let path = dir.path().join(format!("int{bits}.wav"));
        let spec = int_spec(2, sr, bits);
        // libsndfile's float conversion: integer / 2^(bits-1), then the f32 mean.
        let scale = f64::from(1u32 << (bits - 1));
        let expected: Vec<f32> = if bits == 8 {
            let frames: Vec<Vec<i8>> = signal
                .iter()
                .map(|f| f.iter().map(|&v| v.round() as i8).collect())
                .collect();
            write_wav(&path, spec, &frames);
            frames
                .iter()
                .map(|f| {
                    mean_f32(
                        &f.iter()
                            .map(|&v| (f64::from(v) / scale) as f32)
                            .collect::<Vec<_>>(),
                    )
                })
                .collect()
        } else {
            let frames: Vec<Vec<i32>> = signal
                .iter()
                .map(|f| f.iter().map(|&v| v.round() as i32).collect())
                .collect();
            write_wav(&path, spec, &frames);
            frames
                .iter()
                .map(|f| {
                    mean_f32(
                        &f.iter()
                            .map(|&v| (f64::from(v) / scale) as f32)
                            .collect::<Vec<_>>(),
                    )
                })
                .collect()
        };
        let audio = load(&path, &native()).unwrap();
        assert_eq!(audio.sample_rate, sr);
        assert_eq!(audio.info.channels, 2);
        assert_eq!(
            audio.info.bits_per_sample,
            Some(u32::from(bits)),
            "{bits}-bit"
        );
        assert_eq!(audio.samples.len(), expected.len(), "{bits}-bit");
        let first_diff = audio
            .samples
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b);
        assert_eq!(first_diff, None, "{bits}-bit: first sample that differs");
    }
}

#[test]
fn wav_float32_and_float64_decode_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let sr = 48000;
    let signal = test_signal(sr, 2, 2500, 0.9);

    let path32 = dir.path().join("f32.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: sr,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let frames: Vec<Vec<f32>> = signal
        .iter()
        .map(|f| f.iter().map(|&v| v as f32).collect())
        .collect();
    write_wav(&path32, spec, &frames);
    let expected: Vec<f32> = frames.iter().map(|f| mean_f32(f)).collect();
    let audio = load(&path32, &native()).unwrap();
    assert_eq!(audio.info.codec, "pcm_f32le");
    assert_eq!(audio.samples, expected);

    // hound writes no 64-bit floats: WAVE_FORMAT_IEEE_FLOAT by hand.
    let path64 = dir.path().join("f64.wav");
    std::fs::write(&path64, f64_wav(sr, &signal)).unwrap();
    let expected: Vec<f32> = signal
        .iter()
        .map(|f| mean_f32(&f.iter().map(|&v| v as f32).collect::<Vec<_>>()))
        .collect();
    let audio = load(&path64, &native()).unwrap();
    assert_eq!(audio.info.codec, "pcm_f64le");
    assert_eq!(audio.info.channels, 2);
    assert_eq!(audio.samples, expected);
}

/// hound writes WAVE_FORMAT_EXTENSIBLE for more than 16 bits; libsndfile and Python's
/// soundfile write the plain header (tag 1 or 3). Both decode to the same samples.
#[test]
fn plain_and_extensible_headers_decode_alike() {
    let dir = tempfile::tempdir().unwrap();
    let sr = 44100;
    let signal = test_signal(sr, 2, 2000, 1.0);
    // (bits, float, sample bytes from a value in [-1, 1])
    type Encode = fn(f64) -> Vec<u8>;
    let cases: [(u16, bool, Encode); 3] = [
        (24, false, |v| {
            ((v * 8_388_607.0).round() as i32).to_le_bytes()[..3].to_vec()
        }),
        (32, false, |v| {
            ((v * 2_147_483_647.0).round() as i32)
                .to_le_bytes()
                .to_vec()
        }),
        (32, true, |v| (v as f32).to_le_bytes().to_vec()),
    ];
    for (bits, float, encode) in cases {
        let channels = 2u16;
        let data: Vec<u8> = signal.iter().flatten().flat_map(|&v| encode(v)).collect();
        let fmt = fmt_chunk(if float { 3 } else { 1 }, channels, sr, bits);
        let plain_path = dir.path().join(format!("plain_{bits}_{float}.wav"));
        std::fs::write(&plain_path, riff_wave(&[(b"fmt ", fmt), (b"data", data)])).unwrap();

        let spec = hound::WavSpec {
            channels,
            sample_rate: sr,
            bits_per_sample: bits,
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        };
        let ext_path = dir.path().join(format!("ext_{bits}_{float}.wav"));
        let mut w = hound::WavWriter::create(&ext_path, spec).unwrap();
        for &v in signal.iter().flatten() {
            match (float, bits) {
                (true, _) => w.write_sample(v as f32).unwrap(),
                (false, 24) => w.write_sample((v * 8_388_607.0).round() as i32).unwrap(),
                _ => w
                    .write_sample((v * 2_147_483_647.0).round() as i32)
                    .unwrap(),
            }
        }
        w.finalize().unwrap();

        let plain = load(&plain_path, &native()).unwrap_or_else(|e| panic!("{e}"));
        let ext = load(&ext_path, &native()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain.info.codec, ext.info.codec);
        assert_eq!(plain.samples.len(), signal.len());
        assert_eq!(plain.samples, ext.samples, "{bits} bits, float {float}");
    }
}

/// AIFF at 8, 16, 24 and 32 bits (big-endian, signed) and AIFF-C with 32-bit float
/// (`fl32`) and little-endian 16-bit (`sowt`) samples, at rates that need resampling:
/// integers scaled by 1/2^(bits-1) as libsndfile does, then the f32 channel mean.
#[test]
fn aiff_and_aifc_sample_formats_decode_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2000;
    // (name, rate, bits, AIFF-C compression type)
    type Case = (&'static str, u32, u16, Option<&'static [u8; 4]>);
    let cases: [Case; 6] = [
        ("s8", 48000, 8, None),
        ("s16", 44100, 16, None),
        ("s24", 96000, 24, None),
        ("s32", 32000, 32, None),
        ("fl32", 44100, 32, Some(b"fl32")),
        ("sowt", 16000, 16, Some(b"sowt")),
    ];
    for (name, sr, bits, compression) in cases {
        let signal = test_signal(sr, 2, n, 1.0);
        let float = compression == Some(b"fl32");
        let mut data = Vec::new();
        let mut frames_f32 = Vec::new();
        for frame in &signal {
            let mut converted = Vec::new();
            for &v in frame {
                if float {
                    data.extend_from_slice(&(v as f32).to_be_bytes());
                    converted.push(v as f32);
                } else {
                    let full = f64::from(1u32 << (bits - 1));
                    let q = (v * (full - 1.0)).round() as i32;
                    let bytes = usize::from(bits / 8);
                    if compression == Some(b"sowt") {
                        data.extend_from_slice(&q.to_le_bytes()[..bytes]);
                    } else {
                        data.extend_from_slice(&q.to_be_bytes()[4 - bytes..]);
                    }
                    converted.push((f64::from(q) / full) as f32);
                }
            }
            frames_f32.push(mean_f32(&converted));
        }
        let path = dir.path().join(format!("{name}.aif"));
        std::fs::write(&path, aiff(sr, 2, bits, compression, n as u32, &data)).unwrap();
        let audio = load(&path, &native()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(audio.info.native_sample_rate, sr, "{name}");
        assert_eq!(audio.info.channels, 2, "{name}");
        assert_eq!(audio.samples, frames_f32, "{name}");
        let resampled = load(&path, &LoadOptions::default()).unwrap();
        assert_eq!(
            resampled.samples.len(),
            (n * 22050).div_ceil(sr as usize),
            "{name}"
        );
    }
}

/// An AIFF file, or AIFF-C when `compression` is given: COMM chunk (rate as an 80-bit
/// extended float) and SSND chunk.
fn aiff(
    sr: u32,
    channels: u16,
    bits: u16,
    compression: Option<&[u8; 4]>,
    frames: u32,
    data: &[u8],
) -> Vec<u8> {
    let mut comm = Vec::new();
    comm.extend_from_slice(&channels.to_be_bytes());
    comm.extend_from_slice(&frames.to_be_bytes());
    comm.extend_from_slice(&bits.to_be_bytes());
    // 80-bit extended: sign and 15-bit exponent, then a 64-bit mantissa with its
    // integer bit set.
    let exp = 31 - sr.leading_zeros();
    comm.extend_from_slice(&(16383 + exp as u16).to_be_bytes());
    comm.extend_from_slice(&(u64::from(sr) << (63 - exp)).to_be_bytes());
    if let Some(kind) = compression {
        comm.extend_from_slice(kind);
        comm.extend_from_slice(&[0, 0]); // empty Pascal string, padded to even
    }
    let mut ssnd = vec![0u8; 8]; // offset and block size
    ssnd.extend_from_slice(data);
    match compression {
        Some(_) => chunk_file(
            b"FORM",
            b"AIFC",
            &[
                (b"FVER", 0xA280_5140u32.to_be_bytes().to_vec()),
                (b"COMM", comm),
                (b"SSND", ssnd),
            ],
            u32::to_be_bytes,
        ),
        None => chunk_file(
            b"FORM",
            b"AIFF",
            &[(b"COMM", comm), (b"SSND", ssnd)],
            u32::to_be_bytes,
        ),
    }
}

/// A 64-bit IEEE-float WAV (format tag 3, 18-byte fmt chunk, fact chunk).
fn f64_wav(sr: u32, frames: &[Vec<f64>]) -> Vec<u8> {
    f64_wav_with(sr, frames, false)
}

/// A 64-bit float WAV with a WAVE_FORMAT_EXTENSIBLE header (KSDATAFORMAT_SUBTYPE_IEEE_FLOAT,
/// channel mask 0).
fn f64_extensible_wav(sr: u32, frames: &[Vec<f64>]) -> Vec<u8> {
    f64_wav_with(sr, frames, true)
}

fn f64_wav_with(sr: u32, frames: &[Vec<f64>], extensible: bool) -> Vec<u8> {
    let channels = frames.first().map_or(1, Vec::len) as u16;
    let data: Vec<u8> = frames
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    if extensible {
        let mut fmt = fmt_chunk(0xfffe, channels, sr, 64);
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&64u16.to_le_bytes());
        fmt.extend_from_slice(&0u32.to_le_bytes());
        fmt.extend_from_slice(&[
            3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
        ]);
        riff_wave(&[(b"fmt ", fmt), (b"data", data)])
    } else {
        let mut fmt = fmt_chunk(3, channels, sr, 64);
        fmt.extend_from_slice(&0u16.to_le_bytes());
        riff_wave(&[
            (b"fmt ", fmt),
            (b"fact", (frames.len() as u32).to_le_bytes().to_vec()),
            (b"data", data),
        ])
    }
}

/// A RIFF/WAVE file from chunks (padded to even lengths).
fn riff_wave(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    chunk_file(b"RIFF", b"WAVE", chunks, u32::to_le_bytes)
}

/// A RIFF or IFF file: `outer` id, size, `form` type, then the chunks (padded to even
/// lengths), sizes written by `size` (little-endian for RIFF, big-endian for AIFF).
fn chunk_file(
    outer: &[u8; 4],
    form: &[u8; 4],
    chunks: &[(&[u8; 4], Vec<u8>)],
    size: fn(u32) -> [u8; 4],
) -> Vec<u8> {
    let mut body = form.to_vec();
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&size(data.len() as u32));
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = outer.to_vec();
    out.extend_from_slice(&size(body.len() as u32));
    out.extend_from_slice(&body);
    out
}

fn pcm16_fmt(sr: u32, channels: u16) -> Vec<u8> {
    fmt_chunk(1, channels, sr, 16)
}

/// The 16 bytes every `fmt ` chunk starts with: format tag, channels, rate, byte rate,
/// block align and bits per sample.
fn fmt_chunk(tag: u16, channels: u16, sr: u32, bits: u16) -> Vec<u8> {
    let block_align = channels * bits / 8;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&sr.to_le_bytes());
    fmt.extend_from_slice(&(sr * u32::from(block_align)).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    fmt
}

fn pcm16_data(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

#[test]
fn wav_channel_counts_are_averaged() {
    let dir = tempfile::tempdir().unwrap();
    let sr = 44100;
    for channels in [1u16, 2, 6] {
        let signal = test_signal(sr, usize::from(channels), 2000, 32767.0);
        let frames: Vec<Vec<i16>> = signal
            .iter()
            .map(|f| f.iter().map(|&v| v.round() as i16).collect())
            .collect();
        let path = dir.path().join(format!("ch{channels}.wav"));
        let spec = int_spec(channels, sr, 16);
        write_wav(&path, spec, &frames);
        let expected: Vec<f32> = frames
            .iter()
            .map(|f| {
                mean_f32(
                    &f.iter()
                        .map(|&v| f32::from(v) / 32768.0)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let audio = load(&path, &native()).unwrap();
        assert_eq!(audio.info.channels, usize::from(channels));
        assert_eq!(audio.samples.len(), expected.len());
        let worst = audio
            .samples
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        // Summation order over 6 channels may differ from numpy's by an ulp.
        assert!(
            worst <= 2.0 * f32::EPSILON,
            "{channels} channels: max diff {worst}"
        );
    }
}

/// More channels than symphonia can name (26): plain PCM headers and hound's
/// WAVE_FORMAT_EXTENSIBLE ones, 16 and 24 bits, averaged as for fewer channels; a cut
/// one keeps the audio before the cut.
#[test]
fn wavs_with_more_than_26_channels_are_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let sr = 16000;
    let n = 3000;
    for channels in [27u16, 32, 64] {
        let signal = test_signal(sr, usize::from(channels), n, 32767.0);
        let frames16: Vec<Vec<i16>> = signal
            .iter()
            .map(|f| f.iter().map(|&v| v.round() as i16).collect())
            .collect();
        let mean_of = |scale: f32, frames: &[Vec<i32>]| -> Vec<f32> {
            frames
                .iter()
                .map(|f| mean_f32(&f.iter().map(|&v| v as f32 / scale).collect::<Vec<_>>()))
                .collect()
        };
        let wide16: Vec<Vec<i32>> = frames16
            .iter()
            .map(|f| f.iter().map(|&v| i32::from(v)).collect())
            .collect();

        // A plain PCM header (format tag 1), as Python's `wave` writes.
        let interleaved: Vec<i16> = frames16.concat();
        let plain = riff_wave(&[
            (b"fmt ", pcm16_fmt(sr, channels)),
            (b"data", pcm16_data(&interleaved)),
        ]);
        let path = dir.path().join(format!("plain{channels}.wav"));
        std::fs::write(&path, &plain).unwrap();
        let audio = load(&path, &native()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(audio.info.channels, usize::from(channels));
        assert_eq!(audio.info.codec, "pcm_s16le");
        assert!(!audio.info.truncated);
        assert_eq!(
            audio.samples,
            mean_of(32768.0, &wide16),
            "{channels} channels"
        );

        // 24-bit WAVE_FORMAT_EXTENSIBLE, as hound writes it.
        let frames24: Vec<Vec<i32>> = wide16
            .iter()
            .map(|f| f.iter().map(|&v| v * 256 + 77).collect())
            .collect();
        let path = dir.path().join(format!("ext{channels}.wav"));
        let spec = int_spec(channels, sr, 24);
        write_wav(&path, spec, &frames24);
        let audio = load(&path, &native()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(audio.info.channels, usize::from(channels));
        assert_eq!(audio.samples, mean_of(8_388_608.0, &frames24));
        // And resampled to 22050 Hz like any other file.
        let resampled = load(&path, &LoadOptions::default()).unwrap();
        assert_eq!(resampled.samples.len(), (n * 22050).div_ceil(16000));

        // Cut at 60%: the frames before the cut.
        let bytes = std::fs::read(&path).unwrap();
        let cut_path = dir.path().join(format!("cut{channels}.wav"));
        std::fs::write(&cut_path, &bytes[..bytes.len() * 6 / 10]).unwrap();
        let cut = load(&cut_path, &native()).unwrap_or_else(|e| panic!("{e}"));
        assert!(cut.info.truncated);
        let k = cut.samples.len();
        assert!(k > n / 2 && k < n, "{k} frames");
        assert_eq!(cut.samples, audio.samples[..k]);
    }
}

/// hound reads no 64-bit float, and symphonia no more than 26 channels: such a WAV is
/// read from its data chunk, plain or extensible header, with a size left unknown, cut,
/// or at a rate below the floor. (symphonia read the 40-channel extensible header, whose
/// channel mask is 0, as 8 channels without an error.)
#[test]
fn f64_wavs_with_more_than_26_channels_are_read_too() {
    let dir = tempfile::tempdir().unwrap();
    let sr = 16000;
    let n = 3000;
    for channels in [27u16, 40] {
        let signal = test_signal(sr, usize::from(channels), n, 1.0);
        let expected: Vec<f32> = signal
            .iter()
            .map(|f| mean_f32(&f.iter().map(|&v| v as f32).collect::<Vec<_>>()))
            .collect();
        let plain = f64_wav(sr, &signal);
        let extensible = f64_extensible_wav(sr, &signal);
        // A streaming writer's header: the data size left as 0xFFFFFFFF.
        let mut unknown = plain.clone();
        let data_size = unknown.len() - signal.len() * usize::from(channels) * 8 - 4;
        unknown[data_size..data_size + 4].copy_from_slice(&[0xff; 4]);
        for (name, bytes) in [
            ("plain", &plain),
            ("ext", &extensible),
            ("unknown", &unknown),
        ] {
            let path = dir.path().join(format!("{name}{channels}.wav"));
            std::fs::write(&path, bytes).unwrap();
            let audio = load(&path, &native()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(audio.info.channels, usize::from(channels), "{name}");
            assert_eq!(audio.info.codec, "pcm_f64le", "{name}");
            assert_eq!(audio.info.bits_per_sample, Some(64), "{name}");
            assert!(!audio.info.truncated, "{name}");
            assert_eq!(audio.samples, expected, "{name} {channels} channels");
        }

        // Cut at 60%, mid-sample: the frames before the cut.
        let cut_path = dir.path().join(format!("cut{channels}.wav"));
        std::fs::write(&cut_path, &plain[..plain.len() * 6 / 10 + 3]).unwrap();
        let cut = load(&cut_path, &native()).unwrap_or_else(|e| panic!("{e}"));
        assert!(cut.info.truncated);
        let k = cut.samples.len();
        assert!(k > n / 2 && k < n, "{k} frames");
        assert_eq!(cut.samples, expected[..k]);

        // Resampled to 22050 Hz like any other file.
        let path = dir.path().join(format!("plain{channels}.wav"));
        let resampled = load(&path, &LoadOptions::default()).unwrap();
        assert_eq!(resampled.samples.len(), (n * 22050).div_ceil(16000));
    }

    // The rate floor holds on this path too.
    let low = dir.path().join("low.wav");
    std::fs::write(&low, f64_wav(8, &test_signal(8, 27, 100, 1.0))).unwrap();
    let err = load(&low, &native()).unwrap_err().to_string();
    assert!(err.contains("a sample rate of 8 Hz"), "{err}");
}

/// A small file stating a rate of a few hertz would resample to hours of audio: it is
/// refused at once, whichever way it is loaded, and the floor itself is read.
#[test]
fn rates_below_1_khz_are_refused_before_any_resampling() {
    use musicgenre_features::decode::MIN_NATIVE_SAMPLE_RATE;
    let dir = tempfile::tempdir().unwrap();
    for sr in [1u32, 8, 999, MIN_NATIVE_SAMPLE_RATE] {
        // 2000 frames: 2000 s at 1 Hz, 44 million samples once resampled to 22050 Hz.
        let frames: Vec<Vec<i16>> = (0..2000).map(|i| vec![(i % 200) as i16 * 100]).collect();
        let path = dir.path().join(format!("sr{sr}.wav"));
        let spec = int_spec(1, sr, 16);
        write_wav(&path, spec, &frames);
        for opts in [LoadOptions::default(), native()] {
            let result = load(&path, &opts);
            if sr < MIN_NATIVE_SAMPLE_RATE {
                let e = result.unwrap_err();
                assert!(matches!(e, Error::Unsupported { .. }), "{sr} Hz: {e:?}");
                let msg = e.to_string();
                assert!(
                    msg.contains(&format!("a sample rate of {sr} Hz"))
                        && msg.contains("the lowest we read is 1000 Hz"),
                    "{msg}"
                );
            } else {
                let audio = result.unwrap();
                assert_eq!(audio.info.native_sample_rate, sr);
                let want = opts
                    .target_sr
                    .map_or(2000, |t| 2000 * t as usize / sr as usize);
                assert_eq!(audio.samples.len(), want, "{sr} Hz");
            }
        }
    }
}

#[test]
fn wav_rates_from_8_to_192_khz_resample_to_22050() {
    let dir = tempfile::tempdir().unwrap();
    for sr in [8000u32, 16000, 22050, 44100, 48000, 96000, 192000] {
        let n = (f64::from(sr) * 0.3) as usize + 7;
        let frames: Vec<Vec<i16>> = (0..n)
            .map(|i| {
                vec![
                    (0.5 * 32767.0 * (2.0 * PI * 440.0 * i as f64 / f64::from(sr)).sin()).round()
                        as i16,
                ]
            })
            .collect();
        let path = dir.path().join(format!("sr{sr}.wav"));
        let spec = int_spec(1, sr, 16);
        write_wav(&path, spec, &frames);
        let native_audio = load(&path, &native()).unwrap();
        assert_eq!(native_audio.info.native_sample_rate, sr);
        assert_eq!(native_audio.samples.len(), n);

        let audio = load(&path, &LoadOptions::default()).unwrap();
        assert_eq!(audio.sample_rate, 22050);
        let want_len = (n as f64 * 22050.0 / f64::from(sr)).ceil() as usize;
        assert_eq!(audio.samples.len(), want_len, "{sr} Hz");
        // The streaming path gives what librosa's one-shot resample of the whole signal gives.
        let oneshot = resample(&native_audio.samples, f64::from(sr), 22050.0, false).unwrap();
        assert_eq!(
            audio.samples, oneshot,
            "{sr} Hz: streaming load vs one-shot resample"
        );
        if sr == 22050 {
            assert_eq!(
                audio.samples, native_audio.samples,
                "22050 Hz input is not touched"
            );
        }
        // And it is still the 440 Hz tone, in phase.
        let expected = tone_mono(22050, want_len, true);
        let c = correlation(&audio.samples[200..want_len - 200], &expected[200..], 0);
        assert!(c > 0.999, "{sr} Hz: correlation {c}");
    }
}

#[test]
fn riff_info_tags_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut info = b"INFO".to_vec();
    for (id, text) in [
        (b"IART", "Wav Artist\0"),
        (b"INAM", "Wav Title\0"),
        (b"IPRD", "Wav Album\0"),
    ] {
        info.extend_from_slice(id);
        info.extend_from_slice(&(text.len() as u32).to_le_bytes());
        info.extend_from_slice(text.as_bytes());
        if text.len() % 2 == 1 {
            info.push(0);
        }
    }
    let bytes = riff_wave(&[
        (b"fmt ", pcm16_fmt(8000, 1)),
        (b"LIST", info),
        (b"data", pcm16_data(&[1000; 800])),
    ]);
    let path = dir.path().join("tagged.wav");
    std::fs::write(&path, &bytes).unwrap();
    let audio = load(&path, &native()).unwrap();
    assert_eq!(audio.info.artist.as_deref(), Some("Wav Artist"));
    assert_eq!(audio.info.title.as_deref(), Some("Wav Title"));
    assert_eq!(audio.info.album.as_deref(), Some("Wav Album"));
    assert_eq!(audio.samples.len(), 800);
}

// ---------------------------------------------------------------------------------
// Compressed formats: committed fixtures of the test tone.

struct Fixture {
    file: &'static str,
    container: &'static str,
    codec: &'static str,
    sr: u32,
    channels: usize,
    /// Frames the encoder was given: gapless decoding returns exactly these.
    frames: usize,
    mono_source: bool,
    /// Lowest acceptable correlation with the tone (lossy codecs lose a little).
    min_corr: f64,
    artist: Option<&'static str>,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        file: "tone.mp3",
        container: "mp3",
        codec: "mp3",
        sr: 44100,
        channels: 2,
        frames: 22050,
        mono_source: false,
        min_corr: 0.995,
        artist: Some("Test Artist"),
    },
    Fixture {
        file: "tone_22k_mono.mp3",
        container: "mp3",
        codec: "mp3",
        sr: 22050,
        channels: 1,
        frames: 11025,
        mono_source: true,
        min_corr: 0.995,
        artist: None,
    },
    Fixture {
        file: "tone_8k.mp3",
        container: "mp3",
        codec: "mp3",
        sr: 8000,
        channels: 2,
        frames: 4000,
        mono_source: false,
        min_corr: 0.99,
        artist: None,
    },
    Fixture {
        file: "tone_48k_vbr.mp3",
        container: "mp3",
        codec: "mp3",
        sr: 48000,
        channels: 2,
        frames: 24000,
        mono_source: false,
        min_corr: 0.995,
        artist: None,
    },
    Fixture {
        file: "tone.flac",
        container: "flac",
        codec: "flac",
        sr: 48000,
        channels: 2,
        frames: 24000,
        mono_source: false,
        min_corr: 0.9999,
        artist: Some("Flac Artist"),
    },
    Fixture {
        file: "tone.ogg",
        container: "ogg",
        codec: "vorbis",
        sr: 44100,
        channels: 2,
        frames: 22050,
        mono_source: false,
        min_corr: 0.995,
        artist: Some("Vorbis Artist"),
    },
    Fixture {
        file: "tone.aiff",
        container: "aiff",
        codec: "pcm_s16be",
        sr: 22050,
        channels: 2,
        frames: 11025,
        mono_source: false,
        min_corr: 0.9999,
        artist: None,
    },
    Fixture {
        file: "tone_aac.m4a",
        container: "isomp4",
        codec: "aac",
        sr: 44100,
        channels: 2,
        frames: 22050,
        mono_source: false,
        min_corr: 0.99,
        artist: Some("Mp4 Artist"),
    },
    Fixture {
        file: "tone_alac.m4a",
        container: "isomp4",
        codec: "alac",
        sr: 44100,
        channels: 2,
        frames: 22050,
        mono_source: false,
        min_corr: 0.9999,
        artist: None,
    },
];

#[test]
fn compressed_fixtures_decode_gapless_and_in_phase() {
    for f in FIXTURES {
        let audio = load(&fixture(f.file), &native()).unwrap_or_else(|e| panic!("{e}"));
        let i = &audio.info;
        assert_eq!((i.container, i.codec), (f.container, f.codec), "{}", f.file);
        assert_eq!(i.native_sample_rate, f.sr, "{}", f.file);
        assert_eq!(i.channels, f.channels, "{}", f.file);
        assert_eq!(
            audio.samples.len(),
            f.frames,
            "{}: gapless sample count",
            f.file
        );
        assert_eq!(i.native_frames, f.frames as u64, "{}", f.file);
        assert_eq!(i.skipped_packets, 0, "{}", f.file);
        assert!(!i.truncated, "{}", f.file);
        assert!(
            (i.duration_s - f.frames as f64 / f64::from(f.sr)).abs() < 1e-9,
            "{}",
            f.file
        );
        assert_eq!(i.artist.as_deref(), f.artist, "{}", f.file);

        // Right signal, both channels averaged, no delay left in: the correlation with
        // the tone peaks at lag 0 (encoder delay would move it by hundreds of samples).
        let expected = tone_mono(f.sr, f.frames, f.mono_source);
        let c = correlation(&audio.samples, &expected, 0);
        assert!(c >= f.min_corr, "{}: correlation {c}", f.file);
        assert_eq!(best_lag(&audio.samples, &expected, 40), 0, "{}", f.file);
        // Averaged, not one channel: the RMS is the mix's (0.25), not a channel's (0.354).
        let rms = (audio
            .samples
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
            / f.frames as f64)
            .sqrt();
        let want = if f.mono_source {
            0.5 / 2f64.sqrt()
        } else {
            0.25
        };
        assert!((rms - want).abs() < 0.03, "{}: rms {rms}", f.file);

        // The full path to 22050 Hz has librosa's length.
        let resampled = load(&fixture(f.file), &LoadOptions::default()).unwrap();
        let want_len = (f.frames as f64 * 22050.0 / f64::from(f.sr)).ceil() as usize;
        assert_eq!(resampled.samples.len(), want_len, "{}", f.file);
    }
}

#[test]
fn tags_prefer_id3v2_and_read_vorbis_and_mp4() {
    let mp3 = load(&fixture("tone.mp3"), &native()).unwrap();
    // ID3v1 truncates titles to 30 characters; the ID3v2 title is the one we keep.
    assert_eq!(
        mp3.info.title.as_deref(),
        Some("A title longer than the thirty characters of ID3v1")
    );
    assert_eq!(mp3.info.album.as_deref(), Some("Test Album"));
    assert_eq!(mp3.info.genre.as_deref(), Some("Jazz"));
    let ogg = load(&fixture("tone.ogg"), &native()).unwrap();
    assert_eq!(ogg.info.title.as_deref(), Some("Vorbis Title"));
    assert_eq!(ogg.info.album.as_deref(), Some("Vorbis Album"));
    let flac = load(&fixture("tone.flac"), &native()).unwrap();
    assert_eq!(flac.info.title.as_deref(), Some("Flac Title"));
    let m4a = load(&fixture("tone_aac.m4a"), &native()).unwrap();
    assert_eq!(m4a.info.album.as_deref(), Some("Mp4 Album"));
    let untagged = load(&fixture("tone_22k_mono.mp3"), &native()).unwrap();
    assert_eq!(
        (untagged.info.artist.as_ref(), untagged.info.title.as_ref()),
        (None, None)
    );
}

/// An ID3v2.3 tag of Latin-1 text frames.
fn id3v2_tag(frames: &[(&[u8; 4], &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (id, text) in frames {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(text.len() as u32 + 1).to_be_bytes());
        body.extend_from_slice(&[0, 0, 0]); // flags, then encoding 0 (Latin-1)
        body.extend_from_slice(text.as_bytes());
    }
    let n = body.len() as u32;
    let syncsafe = [
        (n >> 21) & 0x7f,
        (n >> 14) & 0x7f,
        (n >> 7) & 0x7f,
        n & 0x7f,
    ];
    let mut tag = b"ID3\x03\x00\x00".to_vec();
    tag.extend(syncsafe.map(|b| b as u8));
    tag.extend(body);
    tag
}

/// An ID3v1 tag (128 bytes at the end of the file).
fn id3v1_tag(title: &str, artist: &str, album: &str) -> Vec<u8> {
    let mut tag = b"TAG".to_vec();
    for (text, width) in [(title, 30), (artist, 30), (album, 30), ("", 4), ("", 30)] {
        let mut field = text.as_bytes().to_vec();
        field.resize(width, 0);
        tag.extend(field);
    }
    tag.push(255); // no genre
    tag
}

/// A free-format MP3 is decoded by libmpg123 after symphonia's probe has failed on it,
/// so its tags are read apart: ID3v2 wins over ID3v1 where both give a field, as for
/// any MP3, and the tags leave the audio as it is.
#[test]
fn free_format_mp3_tags_are_read() {
    if !Mp3Decoder::MPG123_AVAILABLE {
        return; // free format is libmpg123's alone (see load_matches_librosa_load)
    }
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(fixture("tone_free.mp3")).unwrap();
    let untagged = load(&fixture("tone_free.mp3"), &native()).unwrap();
    assert_eq!(untagged.info.artist, None);
    let v2 = id3v2_tag(&[(b"TPE1", "Free Artist"), (b"TIT2", "A free-format title")]);
    let v1 = id3v1_tag("V1 Title", "V1 Artist", "V1 Album");
    // (tags before, tags after, artist, title, album)
    let cases: [(&[u8], &[u8], _, _, _); 3] = [
        (
            &v2,
            &v1,
            "Free Artist",
            "A free-format title",
            Some("V1 Album"),
        ),
        (&v2, &[], "Free Artist", "A free-format title", None),
        (&[], &v1, "V1 Artist", "V1 Title", Some("V1 Album")),
    ];
    for (k, (before, after, artist, title, album)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("tagged{k}.mp3"));
        std::fs::write(&path, [before, &plain, after].concat()).unwrap();
        let audio = load(&path, &native()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(audio.info.codec, "mp3");
        assert_eq!(audio.info.artist.as_deref(), Some(artist), "case {k}");
        assert_eq!(audio.info.title.as_deref(), Some(title), "case {k}");
        assert_eq!(audio.info.album.as_deref(), album, "case {k}");
        assert_eq!(audio.samples, untagged.samples, "case {k}");
    }
}

/// (file, full length, stride) from references.txt.
fn references() -> Vec<(String, usize, usize)> {
    let text = std::fs::read_to_string(formats_dir().join("references.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (
                f[0].to_string(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect()
}

/// The MP3 decoders this build has: libmpg123 (where built) and symphonia.
fn mp3_decoders() -> Vec<Mp3Decoder> {
    let mut d = vec![Mp3Decoder::Symphonia];
    if Mp3Decoder::MPG123_AVAILABLE {
        d.push(Mp3Decoder::Mpg123);
    }
    d
}

#[test]
fn load_matches_librosa_load() {
    let refs = references();
    assert!(refs.iter().any(|r| r.0 == "brahms_cut.mp3"));
    assert!(refs.iter().any(|r| r.0 == "tone_free.mp3"));
    for mp3_decoder in mp3_decoders() {
        let opts = LoadOptions {
            mp3_decoder,
            ..LoadOptions::default()
        };
        for (file, len, stride) in &refs {
            let (len, stride) = (*len, *stride);
            // Free-format MP3 is libmpg123's alone: symphonia's probe does not know it.
            if file == "tone_free.mp3" && mp3_decoder == Mp3Decoder::Symphonia {
                let e = load(&fixture(file), &opts).unwrap_err();
                assert!(matches!(e, Error::UnknownFormat { .. }), "{e}");
                continue;
            }
            let audio = load(&fixture(file), &opts).unwrap();
            assert_eq!(audio.sample_rate, 22050);
            assert_eq!(audio.samples.len(), len, "{file}: length");
            let reference = common::read_npy(fixture(&format!("{file}.librosa.npy")));
            assert_eq!(reference.data.len(), len.div_ceil(stride), "{file}");
            let (mut max, mut sq) = (0f64, 0f64);
            for (k, &r) in reference.data.iter().enumerate() {
                let d = (f64::from(audio.samples[k * stride]) - r).abs();
                max = max.max(d);
                sq += d * d;
            }
            let rms = (sq / reference.data.len() as f64).sqrt();
            eprintln!(
                "{file} ({mp3_decoder:?}): {len} samples, max |diff| {max:.3e}, rms {rms:.3e} vs librosa.load"
            );
            assert!(max <= 1e-4, "{file}: max |diff| {max:e} vs librosa.load");
            assert!(rms <= 1e-5, "{file}: rms diff {rms:e} vs librosa.load");
            // libmpg123 picks its AVX synthesis on the CPUs the fixtures were made on (and
            // librosa's picks the same): then the samples are librosa's exactly.
            #[cfg(target_arch = "x86_64")]
            if mp3_decoder == Mp3Decoder::Mpg123
                && file.ends_with(".mp3")
                && std::arch::is_x86_feature_detected!("avx")
            {
                assert_eq!(
                    max, 0.0,
                    "{file}: libmpg123 should give librosa's samples exactly"
                );
            }
        }
    }
}

#[test]
fn cut_mp3_starts_with_mpg123_silence() {
    // brahms_cut.mp3 was cut without re-encoding: its first two frames reach into a bit
    // reservoir that is gone. mpg123 (librosa) outputs them as silence: 2 * 1152 frames
    // minus the 529-sample decoder delay are exact zeros, then the music starts.
    // symphonia is made to do the same (decode/mp3.rs).
    for mp3_decoder in mp3_decoders() {
        let opts = LoadOptions {
            mp3_decoder,
            ..native()
        };
        let audio = load(&fixture("brahms_cut.mp3"), &opts).unwrap();
        let silent = 2 * 1152 - 529;
        assert!(
            audio.samples[..silent].iter().all(|&v| v == 0.0),
            "{mp3_decoder:?}"
        );
        let loud = audio.samples[silent..silent + 1152]
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()));
        assert!(loud > 0.01, "music after the silent frames, peak {loud}");
    }
}

#[test]
fn the_mp3_decoders_agree() {
    // symphonia (the fallback outside x86_64 Linux) and libmpg123 give the same sample
    // count, tags and stream facts, and samples within a few 1e-6.
    if !Mp3Decoder::MPG123_AVAILABLE {
        return;
    }
    for name in [
        "tone.mp3",
        "tone_22k_mono.mp3",
        "tone_8k.mp3",
        "tone_48k_vbr.mp3",
        "brahms_cut.mp3",
    ] {
        let load_with = |mp3_decoder| {
            let opts = LoadOptions {
                mp3_decoder,
                ..native()
            };
            load(&fixture(name), &opts).unwrap()
        };
        let (a, b) = (
            load_with(Mp3Decoder::Mpg123),
            load_with(Mp3Decoder::Symphonia),
        );
        assert_eq!(a.info, b.info, "{name}");
        assert_eq!(a.samples.len(), b.samples.len(), "{name}");
        let max = a
            .samples
            .iter()
            .zip(&b.samples)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(max < 2e-5, "{name}: the decoders differ by {max:e}");
    }
}

// ---------------------------------------------------------------------------------
// Offset / duration, streaming resampler.

#[test]
fn offset_and_duration_cut_like_librosa() {
    let dir = tempfile::tempdir().unwrap();
    let sr = 44100;
    let frames: Vec<Vec<i16>> = test_signal(sr, 2, 44100, 30000.0)
        .iter()
        .map(|f| f.iter().map(|&v| v.round() as i16).collect())
        .collect();
    let path = dir.path().join("long.wav");
    let spec = int_spec(2, sr, 16);
    write_wav(&path, spec, &frames);
    let whole = load(&path, &native()).unwrap();
    let opts = LoadOptions {
        target_sr: None,
        offset_s: 0.1,
        duration_s: Some(0.25),
        ..LoadOptions::default()
    };
    let part = load(&path, &opts).unwrap();
    // librosa: start = int(0.1 * sr), length = int(0.25 * sr).
    let (start, len) = ((0.1 * 44100.0) as usize, (0.25 * 44100.0) as usize);
    assert_eq!(part.samples, whole.samples[start..start + len]);
    let resampled = load(
        &path,
        &LoadOptions {
            target_sr: Some(22050),
            ..opts
        },
    )
    .unwrap();
    assert_eq!(
        resampled.samples,
        resample(&whole.samples[start..start + len], 44100.0, 22050.0, false).unwrap()
    );
    // Past the end: a clear error.
    let past = load(
        &path,
        &LoadOptions {
            offset_s: 2.0,
            ..LoadOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(past, Error::OffsetPastEnd { .. }), "{past}");
    assert!(past.to_string().contains("long.wav"), "{past}");
}

/// Deterministic test input: a chirp plus noise.
fn chirp_noise(n: usize) -> Vec<f32> {
    let mut seed = 12345u32;
    (0..n)
        .map(|i| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let noise = (f64::from(seed >> 9) / f64::from(1u32 << 23) - 0.5) * 0.2;
            let t = i as f64 / n as f64;
            (0.5 * (2.0 * PI * (50.0 + 4000.0 * t) * t * 3.0).sin() + noise) as f32
        })
        .collect()
}

#[test]
fn streaming_resampler_equals_one_shot() {
    for in_rate in [
        44100.0, 48000.0, 16000.0, 8000.0, 96000.0, 192000.0, 22050.5,
    ] {
        let x = chirp_noise((in_rate * 1.7) as usize + 3);
        let oneshot = resample(&x, in_rate, 22050.0, false).unwrap();
        // Chunks like MP3 packets (1152), Vorbis (varying), single samples and big ones.
        for chunks in [
            vec![1152usize],
            vec![1, 7, 576, 2048, 33],
            vec![100_000],
            vec![1],
        ] {
            if chunks == [1] && in_rate > 50000.0 {
                continue; // one-sample chunks at high rates are just slow
            }
            let mut r = Resampler::new(in_rate, 22050.0).unwrap();
            let mut out = Vec::new();
            let (mut at, mut k) = (0usize, 0usize);
            while at < x.len() {
                let n = chunks[k % chunks.len()].min(x.len() - at);
                r.process(&x[at..at + n], &mut out).unwrap();
                at += n;
                k += 1;
            }
            r.finish(&mut out).unwrap();
            assert_eq!(out.len(), oneshot.len(), "{in_rate} Hz, chunks {chunks:?}");
            let first = out.iter().zip(&oneshot).position(|(a, b)| a != b);
            assert_eq!(
                first, None,
                "{in_rate} Hz, chunks {chunks:?}: first differing sample"
            );
        }
    }
}

// ---------------------------------------------------------------------------------
// Bad input: each error names the file and the cause.

fn err_of(path: &Path) -> Error {
    match load(path, &LoadOptions::default()) {
        Ok(a) => panic!(
            "{}: expected an error, got {} samples",
            path.display(),
            a.samples.len()
        ),
        Err(e) => e,
    }
}

fn assert_message(e: &Error, path: &Path, cause: &str) {
    let msg = e.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "message lacks the path: {msg}"
    );
    assert!(msg.contains(cause), "message lacks {cause:?}: {msg}");
    assert!(!msg.contains('\n'), "message is not one line: {msg}");
}

#[test]
fn missing_directory_and_empty_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.mp3");
    let e = err_of(&missing);
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert_message(&e, &missing, "No such file");

    let e = err_of(dir.path());
    assert!(matches!(e, Error::NotAFile { .. }), "{e}");
    assert_message(&e, dir.path(), "is a directory");

    let empty = dir.path().join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    let e = err_of(&empty);
    assert!(matches!(e, Error::EmptyFile { .. }), "{e}");
    assert_message(&e, &empty, "empty (0 bytes)");
    let e = load_from_memory(b"", Path::new("mem.wav"), &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, Error::EmptyFile { .. }), "{e}");
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.flac");
    std::fs::copy(fixture("tone.flac"), &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&path).is_ok() {
        eprintln!("running as root: permissions are not enforced, nothing to check");
        return;
    }
    let e = err_of(&path);
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert_message(&e, &path, "Permission denied");
}

#[test]
fn non_audio_bytes_named_mp3_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0".to_vec();
    png.resize(600, 0);
    let mut seed = 7u32;
    let random: Vec<u8> = (0..50_000)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8
        })
        .collect();
    let cases: [(&str, Vec<u8>); 3] = [
        ("text.mp3", b"This is a text file, not music.\n".repeat(40)),
        ("image.mp3", png),
        ("random.mp3", random),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let e = err_of(&path);
        assert!(
            matches!(
                e,
                Error::UnknownFormat { .. } | Error::Decode { .. } | Error::Empty { .. }
            ),
            "{name}: {e}"
        );
        assert_message(&e, &path, "");
    }
}

#[test]
fn no_audio_track_and_unsupported_codec_are_named() {
    let video = fixture("video_only.mp4");
    let e = err_of(&video);
    assert!(matches!(e, Error::NoAudioTrack { .. }), "{e}");
    assert_message(&e, &video, "no audio track");

    let opus = fixture("tone_opus.ogg");
    let e = err_of(&opus);
    assert!(matches!(e, Error::UnsupportedCodec { .. }), "{e}");
    assert_message(&e, &opus, "unsupported codec Opus");

    // symphonia's AAC decoder stops at stereo: the file is named with the reason.
    let aac = fixture("six_aac.m4a");
    let e = err_of(&aac);
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert_message(&e, &aac, "AAC with 6 channels");
}

/// Six channels (5.1) in every lossless format we read, and in Vorbis (against librosa
/// in `load_matches_librosa_load`): ALAC decodes to the very samples of the FLAC.
#[test]
fn six_channels_decode_alike_in_flac_and_alac() {
    let flac = load(&fixture("six.flac"), &native()).unwrap();
    let alac = load(&fixture("six_alac.m4a"), &native()).unwrap();
    assert_eq!(flac.info.channels, 6);
    assert_eq!(alac.info.channels, 6);
    assert_eq!(alac.info.codec, "alac");
    assert_eq!(flac.samples.len(), 22050);
    assert_eq!(alac.samples, flac.samples);
    let vorbis = load(&fixture("six.ogg"), &native()).unwrap();
    assert_eq!(vorbis.info.channels, 6);
    assert_eq!(vorbis.samples.len(), flac.samples.len());
}

/// Damage in the middle of a file costs the packet it hits, and the rest decodes. The
/// ALAC decoder rejects the packet, which is skipped and counted; the FLAC reader
/// resyncs on the next frame itself, so the file gives fewer frames than it states and
/// is marked truncated. Either way the output is the file less that one block.
#[test]
fn a_damaged_packet_is_skipped_and_the_rest_decodes() {
    let dir = tempfile::tempdir().unwrap();
    // (fixture, skipped packets, marked truncated); both code 4096 frames a block.
    for (name, skipped, truncated) in [("six_alac.m4a", 1, false), ("tone.flac", 0, true)] {
        let whole = load(&fixture(name), &native()).unwrap();
        assert_eq!(whole.info.skipped_packets, 0);
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        let middle = bytes.len() / 2;
        for b in &mut bytes[middle..middle + 40] {
            *b ^= 0x5a;
        }
        let path = dir.path().join(format!("damaged_{name}"));
        std::fs::write(&path, &bytes).unwrap();
        let audio = load(&path, &native()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(audio.info.skipped_packets, skipped, "{name}");
        assert_eq!(audio.info.truncated, truncated, "{name}");
        let block = 4096;
        assert_eq!(audio.samples.len(), whole.samples.len() - block, "{name}");
        let lost = (0..whole.samples.len() / block).find(|&k| {
            let mut kept = whole.samples[..k * block].to_vec();
            kept.extend_from_slice(&whole.samples[(k + 1) * block..]);
            kept == audio.samples
        });
        assert!(
            lost.is_some_and(|k| k > 0),
            "{name}: not the file less one block from the middle"
        );
    }
}

/// (byte offset, length, granule position) of each page of an Ogg file.
fn ogg_pages(bytes: &[u8]) -> Vec<(usize, usize, u64)> {
    let mut pages = Vec::new();
    let mut at = 0;
    while at + 27 <= bytes.len() {
        assert_eq!(&bytes[at..at + 4], b"OggS", "page at {at}");
        let granule = u64::from_le_bytes(bytes[at + 6..at + 14].try_into().unwrap());
        let n_segments = usize::from(bytes[at + 26]);
        let body: usize = bytes[at + 27..at + 27 + n_segments]
            .iter()
            .map(|&l| usize::from(l))
            .sum();
        let len = 27 + n_segments + body;
        pages.push((at, len, granule));
        at += len;
    }
    assert_eq!(at, bytes.len());
    pages
}

/// A damaged Ogg page fails its checksum. In the headers, or in the first page of audio
/// (which the Ogg reader reads while it opens the file), it fails the file with a cause
/// that names the damage, not "not a recognised audio file": libsndfile too calls such a
/// file malformed. In the last page, the audio before it is kept and the file is marked
/// truncated, and libsndfile returns the same 17984 frames of `six.ogg`.
#[test]
fn a_damaged_ogg_page_fails_the_file_at_its_start_and_is_cut_at_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let name = "six.ogg";
    let bytes = std::fs::read(fixture(name)).unwrap();
    let pages = ogg_pages(&bytes);
    // Identification header, comment and setup headers, two pages of audio.
    assert_eq!(pages.len(), 4, "{pages:?}");
    let whole = load(&fixture(name), &native()).unwrap();
    let damaged = |page: usize| {
        let (at, len, _) = pages[page];
        let mut b = bytes.clone();
        for x in &mut b[at + len / 2..at + len / 2 + 40] {
            *x ^= 0x5a;
        }
        let path = dir.path().join(format!("page{page}_{name}"));
        std::fs::write(&path, b).unwrap();
        path
    };
    for page in [1, 2] {
        let path = damaged(page);
        let e = err_of(&path);
        assert!(matches!(e, Error::Decode { .. }), "page {page}: {e}");
        assert_message(&e, &path, "damaged near the start of the file");
        assert_message(&e, &path, "crc mismatch");
    }
    let path = damaged(3);
    let cut = load(&path, &native()).unwrap_or_else(|e| panic!("{e}"));
    assert!(cut.info.truncated);
    let kept = pages[2].2 as usize;
    assert_eq!(kept, 17984);
    assert_eq!(cut.samples, whole.samples[..kept]);
}

/// A damaged page in the middle of a long Ogg Vorbis file (20 s, 22 pages; the example
/// clip the demo classifies) is dropped, and the audio on both sides of it decodes: the
/// file less that page's frames, marked truncated. libsndfile drops that page and one
/// more Vorbis block (1024 frames) on this file.
#[test]
fn a_damaged_page_in_the_middle_of_an_ogg_file_is_skipped() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/examples/fats-waller-aint-misbehavin.ogg");
    let mut bytes = std::fs::read(&path).unwrap();
    let pages = ogg_pages(&bytes);
    let whole = load(&path, &native()).unwrap();
    assert_eq!(whole.samples.len() as u64, pages.last().unwrap().2);
    let k = pages.len() / 2;
    let (at, len, end) = pages[k];
    let start = pages[k - 1].2;
    for x in &mut bytes[at + len / 2..at + len / 2 + 40] {
        *x ^= 0x5a;
    }
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged.ogg");
    std::fs::write(&damaged, &bytes).unwrap();
    let audio = load(&damaged, &native()).unwrap_or_else(|e| panic!("{e}"));
    assert!(audio.info.truncated);
    let lost = (end - start) as usize;
    assert_eq!(audio.samples.len(), whole.samples.len() - lost);
    // Before the damage, the same samples; after it, the same once the first half-block
    // after the gap (1024 frames, overlapped with a block that was lost) has passed.
    let start = start as usize;
    assert_eq!(audio.samples[..start], whole.samples[..start]);
    let settled = start + 1024;
    assert_eq!(audio.samples[settled..], whole.samples[settled + lost..]);
}

/// symphonia's probe looks for format markers well into a file, so random bytes can hold
/// one by chance and go to a reader that then fails. Such a file is "not a recognised
/// audio file", as when no reader takes it, not a damaged or unsupported file of that
/// format: only a marker at the start of the file says that.
#[test]
fn a_format_marker_deep_in_random_bytes_is_not_a_recognised_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let markers: [(&str, &[u8]); 6] = [
        ("ogg", b"OggS\x00\x02\x00\x00\x00\x00"),
        ("flac", b"fLaC\x00\x00\x00\x22\x00\x00\x00\x00"),
        ("id3", b"ID3\x07\x00\x00\x00\x00\x01\x00"),
        ("mp4", b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00"),
        ("wav", b"RIFF\x10\x00\x00\x00WAVEfmt "),
        ("aiff", b"FORM\x00\x00\x10\x00AIFFCOMM"),
    ];
    for (name, marker) in markers {
        let mut bytes = random.clone();
        bytes[1000..1000 + marker.len()].copy_from_slice(marker);
        let path = dir.path().join(format!("{name}.mp3"));
        std::fs::write(&path, &bytes).unwrap();
        let e = err_of(&path);
        assert!(matches!(e, Error::UnknownFormat { .. }), "{name}: {e}");
        assert_message(&e, &path, "not a recognised audio file");
        // The same marker at the start is a file of that format, and damaged.
        bytes[..marker.len()].copy_from_slice(marker);
        std::fs::write(&path, &bytes).unwrap();
        let e = err_of(&path);
        assert!(
            matches!(e, Error::Decode { .. } | Error::Unsupported { .. }),
            "{name} at the start: {e}"
        );
    }
}

#[test]
fn cut_files_return_the_audio_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    // (fixture, fraction kept): lossless formats and MP3 return what is there, as
    // libsndfile does, and say they were cut.
    for (name, keep) in [
        ("tone.flac", 0.6),
        ("tone.aiff", 0.6),
        ("tone.mp3", 0.6),
        ("brahms_cut.mp3", 0.5),
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let path = dir.path().join(format!("cut_{name}"));
        std::fs::write(&path, &bytes[..(bytes.len() as f64 * keep) as usize]).unwrap();
        let whole = load(&fixture(name), &native()).unwrap();
        let cut = load(&path, &native()).unwrap_or_else(|e| panic!("{e}"));
        assert!(cut.info.truncated, "{name}");
        let n = cut.samples.len();
        assert!(
            n > whole.samples.len() / 4 && n < whole.samples.len(),
            "{name}: {n} samples"
        );
        // What did decode is the start of the whole file (up to the last frame's edge).
        let same = cut
            .samples
            .iter()
            .zip(&whole.samples)
            .take(n.saturating_sub(2304))
            .all(|(a, b)| a == b);
        assert!(
            same,
            "{name}: the decoded part differs from the whole file's start"
        );
    }
    // An MP4 cut before its index cannot be decoded at all: say so.
    let bytes = std::fs::read(fixture("tone_aac.m4a")).unwrap();
    let path = dir.path().join("cut.m4a");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = err_of(&path);
    assert_message(&e, &path, "moov atom) is missing");

    // With its index first ("faststart", as streaming sites and many taggers write
    // M4A), an MP4 cut anywhere in its audio keeps what is before the cut.
    let name = "tone_aac_faststart.m4a";
    let whole = load(&fixture(name), &native()).unwrap();
    let reference = load(&fixture("tone_aac.m4a"), &native()).unwrap();
    assert_eq!(whole.samples, reference.samples, "the same audio, remuxed");
    assert!(!whole.info.truncated);
    let bytes = std::fs::read(fixture(name)).unwrap();
    for keep in [0.5, 0.9] {
        let at = (bytes.len() as f64 * keep) as usize;
        for at in [at, bytes.len() - 1] {
            let path = dir.path().join(format!("cut{at}_{name}"));
            std::fs::write(&path, &bytes[..at]).unwrap();
            let cut = load(&path, &native()).unwrap_or_else(|e| panic!("cut at {at}: {e}"));
            assert!(cut.info.truncated, "cut at {at}");
            let n = cut.samples.len();
            assert!(
                n > whole.samples.len() * 4 / 10 && n < whole.samples.len(),
                "cut at {at}: {n} of {} samples",
                whole.samples.len()
            );
            assert_eq!(
                cut.samples[..n - 2048],
                whole.samples[..n - 2048],
                "cut at {at}"
            );
        }
    }
    // Cut inside the index itself: nothing can be decoded.
    let path = dir.path().join(format!("cut_index_{name}"));
    std::fs::write(&path, &bytes[..300]).unwrap();
    assert_message(&err_of(&path), &path, "moov atom) is missing");
}

#[test]
fn wav_headers_that_lie_about_the_length() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<i16> = (0..4000).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
    let good = riff_wave(&[
        (b"fmt ", pcm16_fmt(16000, 1)),
        (b"data", pcm16_data(&samples)),
    ]);
    let data_len_at = good.windows(4).position(|w| w == b"data").unwrap() + 4;

    // The data chunk claims more than the file holds (a cut or badly written file):
    // the samples that are there.
    let mut longer = good.clone();
    longer[data_len_at..data_len_at + 4].copy_from_slice(&1_000_000u32.to_le_bytes());
    // As a streaming writer leaves it: sizes of 0xFFFFFFFF.
    let mut streamed = good.clone();
    streamed[data_len_at..data_len_at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    streamed[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    for (name, bytes) in [("longer.wav", longer), ("streamed.wav", streamed)] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let audio = load(&path, &native()).unwrap_or_else(|e| panic!("{e}"));
        let want: Vec<f32> = samples.iter().map(|&s| f32::from(s) / 32768.0).collect();
        assert_eq!(audio.samples, want, "{name}");
    }

    // The data chunk claims less than follows: the header wins (trailing bytes ignored).
    let mut shorter = good.clone();
    shorter[data_len_at..data_len_at + 4].copy_from_slice(&2000u32.to_le_bytes());
    let path = dir.path().join("shorter.wav");
    std::fs::write(&path, &shorter).unwrap();
    let audio = load(&path, &native()).unwrap();
    assert_eq!(audio.samples.len(), 1000);

    // A header with an empty data chunk: no samples at all.
    let empty = riff_wave(&[(b"fmt ", pcm16_fmt(16000, 1)), (b"data", Vec::new())]);
    let path = dir.path().join("nodata.wav");
    std::fs::write(&path, &empty).unwrap();
    let e = err_of(&path);
    assert!(matches!(e, Error::Empty { .. }), "{e}");
    assert_message(&e, &path, "no audio samples");

    // A WAV of a codec nobody decodes (format tag 0x1234).
    let mut fmt = pcm16_fmt(16000, 1);
    fmt[0..2].copy_from_slice(&0x1234u16.to_le_bytes());
    let odd = riff_wave(&[(b"fmt ", fmt), (b"data", pcm16_data(&samples))]);
    let path = dir.path().join("odd.wav");
    std::fs::write(&path, &odd).unwrap();
    let e = err_of(&path);
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert_message(&e, &path, "unsupported");

    // A header cut in the middle of the fmt chunk.
    let path = dir.path().join("header.wav");
    std::fs::write(&path, &good[..30]).unwrap();
    let e = err_of(&path);
    assert_message(&e, &path, "");
}

#[test]
fn an_unreadable_id3v2_tag_is_skipped_as_mpg123_does() {
    let mut bytes = std::fs::read(fixture("tone.mp3")).unwrap();
    assert_eq!(&bytes[..3], b"ID3");
    bytes[3] = 9; // ID3v2.9 does not exist: symphonia refuses the tag
    let clean = load(&fixture("tone.mp3"), &native()).unwrap();
    let audio = load_from_memory(&bytes, Path::new("odd_tag.mp3"), &native()).unwrap();
    assert_eq!(audio.samples, clean.samples);
}

// ---------------------------------------------------------------------------------
// In-memory decoding and damaged bytes: Ok or Err, never a crash.

#[test]
fn memory_and_file_give_the_same_audio() {
    for name in ["tone.ogg", "tone_aac.m4a", "brahms_cut.mp3"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let from_file = load(&fixture(name), &LoadOptions::default()).unwrap();
        let from_memory =
            load_from_memory(&bytes, Path::new(name), &LoadOptions::default()).unwrap();
        assert_eq!(from_file.samples, from_memory.samples, "{name}");
        assert_eq!(from_file.info, from_memory.info, "{name}");
    }
}

#[test]
fn damaged_bytes_never_crash() {
    let mut seed = 0x1234_5678u32;
    let mut next = move || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        seed
    };
    let mut outcomes = [0usize; 2];
    for name in [
        "tone.mp3",
        "tone.flac",
        "tone.ogg",
        "tone_aac.m4a",
        "tone_alac.m4a",
        "tone.aiff",
    ] {
        let clean = std::fs::read(fixture(name)).unwrap();
        for round in 0..40 {
            let mut bytes = clean.clone();
            // Overwrite a few bytes, mostly near the start where the headers are.
            for _ in 0..1 + round % 8 {
                let span = if next() % 2 == 0 {
                    bytes.len().min(600)
                } else {
                    bytes.len()
                };
                let at = next() as usize % span;
                bytes[at] = (next() >> 24) as u8;
            }
            if round % 5 == 0 {
                bytes.truncate(next() as usize % bytes.len() + 1);
            }
            match load_from_memory(&bytes, Path::new(name), &LoadOptions::default()) {
                Ok(a) => {
                    assert!(
                        a.samples.iter().all(|v| v.is_finite()),
                        "{name} round {round}: non-finite sample"
                    );
                    outcomes[0] += 1;
                }
                Err(e) => {
                    assert!(e.to_string().contains(name), "{e}");
                    outcomes[1] += 1;
                }
            }
        }
    }
    eprintln!(
        "damaged inputs: {} decoded, {} refused",
        outcomes[0], outcomes[1]
    );
}
