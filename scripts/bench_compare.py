#!/usr/bin/env python3
"""Side-by-side benchmark against librosa 0.11.0: speed, memory and parity in one command.

Run through `just bench-compare [AUDIO_DIR]`, which builds the Rust binaries and the pinned
Python environment first. Reports (stdout table + JSON):

1. per-clip medians, one thread each, after a warm-up, on a subset of the files: decoding
   alone, features alone (resampling included) and end to end, with the ratio
   librosa/ours; our decoding time is symphonia's, the floor for our end-to-end time;
   peak RSS of each process;
2. throughput over the whole folder: ours with 1 and N workers, librosa with N processes,
   in files per second and times real time, with peak RSS;
3. parity on the tables of step 2: per feature group, the largest and 99th-percentile
   column deviation and the worst column, where a column's deviation is
   max over files |ours - librosa| / (std of librosa's column across the files).
   With --wav22k the same parity is also measured on 22050-Hz WAV copies of the files
   (no decoding or resampling involved).
It reports the project's targets next to the numbers and asserts nothing.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import librosa_features as lf  # noqa: E402

ONE_THREAD = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS", "RAYON_NUM_THREADS")}
GROUPS = {
    "stft": ["chroma_stft", "mfcc", "rmse", "spectral_bandwidth", "spectral_centroid", "spectral_contrast", "spectral_rolloff", "zcr"],
    "cqt": ["chroma_cqt", "chroma_cens", "tonnetz"],
}


def run_child(cmd, env=None):
    """Runs a command, returns (wall seconds, peak RSS in MB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env={**os.environ, **(env or {})}, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"bench-compare: {' '.join(map(str, cmd))} failed with status {proc.returncode}")
    return wall, usage.ru_maxrss / 1024.0, out


def machine():
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.date.today().isoformat(),
        "cores": os.cpu_count(),
        "cpu": model,
        "platform": platform.platform(),
    }


def read_table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    names = header[5:]
    table = {r[0]: np.array([float(v) for v in r[5:]]) for r in body}
    return names, table


def parity(ours_csv, librosa_csv):
    names, ours = read_table(ours_csv)
    lnames, ref = read_table(librosa_csv)
    assert names == lnames, "the two tables have different columns"
    keys = sorted(set(ours) & set(ref))
    a = np.array([ours[k] for k in keys])
    b = np.array([ref[k] for k in keys])
    std = b.std(axis=0)
    diff = np.abs(a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.where(std > 0, diff / std, np.where(diff > 0, np.inf, 0.0))
    col = dev.max(axis=0)  # worst file per column
    families = [n.split(".")[0] for n in names]
    out = {"files": len(keys), "groups": {}}
    for fam in sorted(set(families)):
        idx = [i for i, f in enumerate(families) if f == fam]
        worst = max(idx, key=lambda i: col[i])
        out["groups"][fam] = {
            "max": float(col[idx].max()),
            "p99": float(np.percentile(col[idx], 99)),
            "worst_column": names[worst],
        }
    for group, fams in GROUPS.items():
        idx = [i for i, f in enumerate(families) if f in fams]
        out[group] = {
            "max": float(col[idx].max()),
            "p99": float(np.percentile(col[idx], 99)),
            "share_le_0.1": float(np.mean(col[idx] <= 0.1)),
            "share_le_0.01": float(np.mean(col[idx] <= 0.01)),
            "worst_column": names[max(idx, key=lambda i: col[i])],
        }
    return out


def wav22k_copies(files, root, dest):
    import librosa
    import soundfile as sf

    for f in files:
        y, _ = librosa.load(f, sr=22050)
        out = Path(dest) / Path(f).relative_to(root).with_suffix(".wav")
        out.parent.mkdir(parents=True, exist_ok=True)
        sf.write(out, y, 22050, subtype="FLOAT")


def median(xs):
    return float(np.median(xs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("audio_dir", nargs="?", default=str(ROOT.parent / "shared" / "data" / "emotify-dev"))
    ap.add_argument("--bin", default=str(ROOT / "target" / "release"), help="folder with our built binaries")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timing-files", type=int, default=8, help="files timed one by one")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--wav22k", action="store_true", help="also measure parity on 22050-Hz WAV copies")
    ap.add_argument("--json", default=str(ROOT / "bench-out" / "bench-compare.json"))
    args = ap.parse_args()

    root = Path(args.audio_dir)
    files = lf.audio_files(root)
    if not files:
        raise SystemExit(f"bench-compare: no audio files in {root}")
    bindir = Path(args.bin)
    step = max(1, len(files) // args.timing_files)
    timed = [str(f) for f in files[::step][: args.timing_files]]
    report = {"machine": machine(), "audio_dir": str(root), "n_files": len(files), "jobs": args.jobs}
    print(f"bench-compare: {len(files)} files in {root}; {report['machine']['cpu']}, {report['machine']['cores']} cores", file=sys.stderr)

    # 1. Per clip, one thread each.
    print(f"bench-compare: timing {len(timed)} files one by one (x{args.repeat}, medians)", file=sys.stderr)
    _, ours_rss, out = run_child([bindir / "bench-files", "--repeat", str(args.repeat), *timed], ONE_THREAD)
    ours_t = json.loads(out)
    _, lib_rss, out = run_child([sys.executable, HERE / "librosa_features.py", "--repeat", str(args.repeat), "--timing", *timed], ONE_THREAD)
    lib_t = json.loads(out)
    per_clip = {}
    for stage in ("decode_s", "features_s", "end_to_end_s"):
        o = median([r[stage] for r in ours_t["files"]])
        lib = median([r[stage] for r in lib_t["files"]])
        per_clip[stage] = {"ours": o, "librosa": lib, "ratio": lib / o if o > 0 else None}
    per_clip["clip_duration_s"] = median([r["duration_s"] for r in ours_t["files"]])
    per_clip["end_to_end_over_decode"] = per_clip["end_to_end_s"]["ours"] / per_clip["decode_s"]["ours"]
    per_clip["peak_rss_mb"] = {"ours": ours_rss, "librosa": lib_rss}
    per_clip["n_files"] = len(timed)
    report["per_clip"] = per_clip

    # 2. Throughput over the whole folder.
    total_audio = sum(r["duration_s"] for r in ours_t["files"]) / len(ours_t["files"]) * len(files)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        through = {}
        for jobs in sorted({1, args.jobs}):
            print(f"bench-compare: ours, whole folder, {jobs} worker(s)", file=sys.stderr)
            wall, rss, _ = run_child([bindir / "features", "--quiet", "--jobs", str(jobs), root, tmp / f"ours{jobs}.csv"])
            through[f"ours_{jobs}"] = {"wall_s": wall, "files_per_s": len(files) / wall, "x_real_time": total_audio / wall, "peak_rss_mb": rss}
        print(f"bench-compare: librosa, whole folder, {args.jobs} process(es)", file=sys.stderr)
        wall, rss, _ = run_child([sys.executable, HERE / "librosa_features.py", "--jobs", str(args.jobs), root, tmp / "librosa.csv"], ONE_THREAD)
        through[f"librosa_{args.jobs}"] = {"wall_s": wall, "files_per_s": len(files) / wall, "x_real_time": total_audio / wall, "peak_rss_mb_of_parent": rss}
        through["scaling"] = through["ours_1"]["wall_s"] / through[f"ours_{args.jobs}"]["wall_s"]
        through["ratio"] = through[f"librosa_{args.jobs}"]["wall_s"] / through[f"ours_{args.jobs}"]["wall_s"]
        report["throughput"] = through

        # 3. Parity.
        report["parity"] = {"as_decoded": parity(tmp / f"ours{args.jobs}.csv", tmp / "librosa.csv")}
        if args.wav22k:
            print("bench-compare: parity on 22050-Hz WAV copies", file=sys.stderr)
            wavdir = tmp / "wav22k"
            wav22k_copies(files, root, wavdir)
            run_child([bindir / "features", "--quiet", "--jobs", str(args.jobs), wavdir, tmp / "ours_wav.csv"])
            run_child([sys.executable, HERE / "librosa_features.py", "--jobs", str(args.jobs), wavdir, tmp / "librosa_wav.csv"], ONE_THREAD)
            report["parity"]["wav22k"] = parity(tmp / "ours_wav.csv", tmp / "librosa_wav.csv")

    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print_report(report)
    print(f"\nJSON: {args.json}")


def print_report(r):
    m = r["machine"]
    print(f"\n## librosa 0.11.0 vs musicgenre — {m['date']}, {m['cpu']}, {m['cores']} cores")
    pc = r["per_clip"]
    print(f"\nPer clip (medians over {pc['n_files']} files of {pc['clip_duration_s']:.1f} s, one thread each):\n")
    print("| stage | librosa | ours | librosa/ours | target |")
    print("|---|---:|---:|---:|---|")
    names = {"decode_s": "decode alone", "features_s": "features alone (incl. resampling)", "end_to_end_s": "decode + features"}
    targets = {"decode_s": "", "features_s": ">= 15x", "end_to_end_s": ""}
    for k, label in names.items():
        s = pc[k]
        print(f"| {label} | {s['librosa'] * 1000:.1f} ms | {s['ours'] * 1000:.1f} ms | {s['ratio']:.1f}x | {targets[k]} |")
    print(f"| end to end / our decode alone | | {pc['end_to_end_over_decode']:.2f}x | | <= 2x |")
    print(f"| peak RSS | {pc['peak_rss_mb']['librosa']:.0f} MB | {pc['peak_rss_mb']['ours']:.0f} MB | | ours < 1/2 |")
    t = r["throughput"]
    j = r["jobs"]
    print(f"\nWhole folder ({r['n_files']} files):\n")
    print("| run | wall | files/s | x real time | peak RSS |")
    print("|---|---:|---:|---:|---:|")
    for k, v in t.items():
        if isinstance(v, dict):
            rss = v.get("peak_rss_mb", v.get("peak_rss_mb_of_parent"))
            print(f"| {k.replace('_', ', ')} worker(s) | {v['wall_s']:.1f} s | {v['files_per_s']:.1f} | {v['x_real_time']:.0f}x | {rss:.0f} MB |")
    print(f"\nours with {j} workers vs 1: {t['scaling']:.2f}x (target >= {0.9 * j:.1f}x); librosa/ours at {j}: {t['ratio']:.1f}x")
    for name, p in r["parity"].items():
        print(f"\nParity ({name}, {p['files']} files): column deviation = max over files |ours - librosa| / std across files\n")
        print("| group | max | 99th pct | worst column |")
        print("|---|---:|---:|---|")
        for fam, g in p["groups"].items():
            print(f"| {fam} | {g['max']:.4f} | {g['p99']:.4f} | {g['worst_column']} |")
        for group in ("stft", "cqt"):
            g = p[group]
            print(f"| **{group}-derived** | {g['max']:.4f} | {g['p99']:.4f} | {g['worst_column']} ({100 * g['share_le_0.1']:.1f}% <= 0.1) |")


if __name__ == "__main__":
    main()
