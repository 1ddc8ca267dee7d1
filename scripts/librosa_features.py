#!/usr/bin/env python3
"""The 518 features with librosa 0.11.0: the reference our Rust features are measured against.

The calls are those of the feature issue (and of FMA's features.py), verbatim. Used by
scripts/bench_compare.py; also usable on its own:

    python scripts/librosa_features.py AUDIO_DIR OUT.csv [--jobs N]

writes a table with the same header as the Rust `features` command (path,label,artist,
start_s,duration_s + the 518 names; artist left empty: pass `--groups` to `evaluate`) for every audio file under AUDIO_DIR.
"""

import argparse
import csv
import multiprocessing
import os
import sys
import time
import warnings
from pathlib import Path

# One thread per process: the comparison is per core.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402

SR = 22050
AUDIO_EXTENSIONS = {"aac", "aif", "aifc", "aiff", "flac", "m4a", "mp3", "mp4", "oga", "ogg", "wav", "wave"}
FEATURE_ROWS = [
    ("chroma_cens", 12),
    ("chroma_cqt", 12),
    ("chroma_stft", 12),
    ("mfcc", 20),
    ("rmse", 1),
    ("spectral_bandwidth", 1),
    ("spectral_centroid", 1),
    ("spectral_contrast", 7),
    ("spectral_rolloff", 1),
    ("tonnetz", 6),
    ("zcr", 1),
]
STATS = ["kurtosis", "max", "mean", "median", "min", "skew", "std"]


def names():
    return [f"{f}.{s}.{i + 1:02d}" for f, n in FEATURE_ROWS for s in STATS for i in range(n)]


def audio_files(root):
    root = Path(root)
    files = [p for p in root.rglob("*") if p.is_file() and p.suffix[1:].lower() in AUDIO_EXTENSIONS]
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def decode(path):
    """Decoding alone: what librosa.load does before resampling (soundfile + to_mono)."""
    y, sr = librosa.load(path, sr=None, mono=True)
    return y, sr


def matrices(y, sr):
    """Per-frame matrices, with the exact calls of the feature issue."""
    stft = np.abs(librosa.stft(y, n_fft=2048, hop_length=512))
    # tuning=None: estimated from y, as the feature issue and FMA ask (cqt's default is 0.0).
    cqt = np.abs(librosa.cqt(y, sr=sr, hop_length=512, bins_per_octave=12, n_bins=84, tuning=None))
    chroma_cens = librosa.feature.chroma_cens(C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12)
    mel = librosa.feature.melspectrogram(S=stft**2, sr=sr)
    return {
        "chroma_cens": chroma_cens,
        "chroma_cqt": librosa.feature.chroma_cqt(C=cqt, n_chroma=12, n_octaves=7, bins_per_octave=12),
        "chroma_stft": librosa.feature.chroma_stft(S=stft**2, sr=sr, n_chroma=12),
        "mfcc": librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=20),
        "rmse": librosa.feature.rms(S=stft, frame_length=2048),
        "spectral_bandwidth": librosa.feature.spectral_bandwidth(S=stft, sr=sr),
        "spectral_centroid": librosa.feature.spectral_centroid(S=stft, sr=sr),
        "spectral_contrast": librosa.feature.spectral_contrast(S=stft, sr=sr, n_bands=6),
        "spectral_rolloff": librosa.feature.spectral_rolloff(S=stft, sr=sr),
        "tonnetz": librosa.feature.tonnetz(chroma=chroma_cens),
        "zcr": librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512),
    }


def statistics(mats):
    """FMA's seven statistics per row (float64; NaN of constant rows -> 0), in layout order."""
    values = []
    for feature, n in FEATURE_ROWS:
        m = np.asarray(mats[feature], dtype=np.float64)
        assert m.shape[0] == n, feature
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = {
                "kurtosis": scipy.stats.kurtosis(m, axis=1),
                "max": np.max(m, axis=1),
                "mean": np.mean(m, axis=1),
                "median": np.median(m, axis=1),
                "min": np.min(m, axis=1),
                "skew": scipy.stats.skew(m, axis=1),
                "std": np.std(m, axis=1),
            }
        for stat in STATS:
            values.extend(np.nan_to_num(s[stat], nan=0.0, posinf=0.0, neginf=0.0))
    return np.asarray(values)


def features_from_decoded(y, sr):
    """Features alone: resampling to 22050 Hz (soxr HQ, as librosa.load) + the 518 values."""
    if sr != SR:
        y = librosa.resample(y, orig_sr=sr, target_sr=SR, res_type="soxr_hq")
    return statistics(matrices(y, SR))


def end_to_end(path):
    y, sr = librosa.load(path, sr=SR)
    return statistics(matrices(y, sr))


def _row(args):
    root, path = args
    start = time.perf_counter()
    try:
        y, sr = librosa.load(path, sr=SR)
        values, duration, err = statistics(matrices(y, sr)), len(y) / sr, None
    except Exception as e:  # noqa: BLE001 - report and go on, like the Rust tool
        values, duration, err = None, None, f"{e}"
    return Path(path).relative_to(root).as_posix(), values, duration, err, time.perf_counter() - start


def table(root, out_csv, jobs, warmup=True):
    """Features of every file under root, with `jobs` processes; returns wall seconds."""
    files = audio_files(root)
    if not files:
        raise SystemExit(f"librosa: no audio files in {root}")
    if warmup:
        # Before forking: numba compiles librosa's kernels on first use, and the workers
        # inherit the compiled code instead of each compiling it again.
        _row((root, str(files[0])))
    start = time.perf_counter()
    if jobs == 1:
        results = [_row((root, str(f))) for f in files]
    else:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            results = pool.map(_row, [(root, str(f)) for f in files], chunksize=1)
    wall = time.perf_counter() - start
    with open(out_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "artist", "start_s", "duration_s", *names()])
        for key, values, duration, err, _ in results:
            if values is None:
                print(f"librosa: {key}: {err}", file=sys.stderr)
                continue
            label = key.split("/")[0] if "/" in key else ""
            w.writerow([key, label, "", 0, repr(duration), *[repr(float(v)) for v in values]])
    return wall


def peak_rss_mb():
    """VmHWM of this process in MB: its own peak, unlike ru_maxrss, which keeps the peak
    of the parent this process was forked from."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timing(files, repeat):
    """Per-file medians of decoding alone, features alone and end to end, after a warm-up
    (numba compiles librosa's kernels on first use). One thread.

    decode: librosa.load(sr=None) (soundfile/libsndfile, to_mono); features: resampling to
    22050 Hz (soxr HQ, as librosa.load) and the 518 values; end to end: librosa.load(sr=22050)
    and the 518 values."""
    end_to_end(files[0])
    rows = []
    for f in files:
        dec, feat, e2e = [], [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            y, sr = decode(f)
            t1 = time.perf_counter()
            features_from_decoded(y, sr)
            t2 = time.perf_counter()
            end_to_end(f)
            t3 = time.perf_counter()
            dec.append(t1 - t0)
            feat.append(t2 - t1)
            e2e.append(t3 - t2)
        rows.append(
            {
                "path": str(f),
                "duration_s": len(y) / sr,
                "decode_s": float(np.median(dec)),
                "features_s": float(np.median(feat)),
                "end_to_end_s": float(np.median(e2e)),
            }
        )
    return {"files": rows, "peak_rss_mb": peak_rss_mb()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("audio_dir", nargs="?")
    ap.add_argument("out_csv", nargs="?")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timing", nargs="+", metavar="FILE", help="time these files instead (JSON on stdout)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-warmup", dest="warmup", action="store_false", help="no warm-up run before the table")
    args = ap.parse_args()
    if args.timing:
        import json

        print(json.dumps(timing(args.timing, args.repeat)))
        return
    if not (args.audio_dir and args.out_csv):
        ap.error("give AUDIO_DIR and OUT_CSV (or --timing FILES)")
    wall = table(args.audio_dir, args.out_csv, args.jobs, args.warmup)
    print(f"librosa: wrote {args.out_csv} in {wall:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
