#!/usr/bin/env python3
"""Side-by-side benchmark against librosa 0.11.0: speed, memory and parity in one command.

Run it through `just bench-compare [AUDIO_DIR]`, which creates the pinned Python
environment (.venv-librosa) and builds our release binaries first. It reports, on stdout
as Markdown tables and in a JSON file (default bench-out/bench-compare.json):

1. Per clip, one thread each (numba/BLAS/OpenMP threads = 1 for Python,
   RAYON_NUM_THREADS=1 for us), after a warm-up, medians over a spread of the files of:
   decoding alone (librosa.load(sr=None) / ours at the native rate: libmpg123 for MP3,
   as librosa), features alone (from the decoded samples: resampling to 22050 Hz with
   soxr HQ + the 518 values) and decode + features end to end; the ratio librosa/ours of
   each; our end-to-end time over symphonia's decode-only time (the floor the feature
   issue measures against) and over our own decode-only time; peak RSS of each timing
   process. With N > 1 workers, ours also on one worker of an N-thread pool (bench_files
   --threads N): one clip's latency when the idle workers take parts of it.
2. Throughput over the whole folder: ours with 1 and N workers (the `features` binary),
   librosa with N processes; files per second, times real time, peak RSS of the largest
   process.
3. Parity, from the tables of step 2 ("as decoded": each side decodes the MP3s itself) and,
   unless --no-wav-copies, from float WAV copies of the files written by librosa.load, which
   both sides then read, so both see the same samples: at 22050 Hz (no resampling: "our
   features" apart from "our decoder") and at the files' own rate (our resampling and
   features, the decoder left out). Last, librosa's features on the samples our decoder
   gives against librosa's features as it decodes: the decoders' share of "as decoded". For each feature group: the largest
   and the 99th-percentile column deviation and the worst column, where a column's
   deviation is max over files of |ours - librosa| / (std of librosa's column across the
   files), the measure of the feature issue.

The targets of the issues are printed next to the numbers; nothing is asserted.
Our per-clip timings come from crates/features/examples/bench_files.rs
(target/release/examples/bench_files).
"""

import argparse
import csv
import datetime
import json
import math
import os
import platform
import shutil
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

# One thread per process for the per-clip timings (and for every librosa process).
ONE_THREAD = {
    var: "1"
    for var in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMBA_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "RAYON_NUM_THREADS",
    )
}
GROUPS = {
    "STFT-derived": ["chroma_stft", "mfcc", "rmse", "spectral_bandwidth", "spectral_centroid", "spectral_contrast", "spectral_rolloff", "zcr"],
    "CQT-derived": ["chroma_cens", "chroma_cqt", "tonnetz"],
}
STAGES = {
    "decode_s": "decode alone",
    "features_s": "features alone (resampling included)",
    "end_to_end_s": "decode + features",
}


def log(msg):
    print(f"bench-compare: {msg}", file=sys.stderr, flush=True)


def vm_hwm_mb(pid):
    """Peak RSS (VmHWM) of a live process in MB, or 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def descendants(pid):
    """pid and every process below it (from /proc/PID/task/TID/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, ValueError):
            pass
    return out


def run_child(cmd, env=None, ok_codes=(0,)):
    """Runs cmd; returns (wall seconds, peak RSS in MB of its largest process, stdout).

    The peak is VmHWM polled every 10 ms over the process and its children, not the
    rusage of wait4: a child forked from this Python process starts with its memory, and
    Linux keeps that high-water mark across exec.
    """
    cmd = [str(c) for c in cmd]
    peak = {}
    with tempfile.TemporaryFile(mode="w+") as stdout:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=stdout, env={**os.environ, **(env or {})}, text=True)
        except OSError as e:
            raise SystemExit(f"bench-compare: cannot run {cmd[0]}: {e}")
        while proc.poll() is None:
            for p in descendants(proc.pid):
                peak[p] = max(peak.get(p, 0.0), vm_hwm_mb(p))
            time.sleep(0.01)
        wall = time.perf_counter() - start
        stdout.seek(0)
        out = stdout.read()
    if proc.returncode not in ok_codes:
        raise SystemExit(f"bench-compare: `{' '.join(cmd)}` failed with status {proc.returncode}")
    return wall, max(peak.values(), default=0.0), out


ISA_VARS = ("MUSICGENRE_ISA", "NPY_DISABLE_CPU_FEATURES", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "OPENBLAS_CORETYPE")


def machine():
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
        "cores": os.cpu_count(),
        "cpu": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        # Settings that narrow the vector instructions either side uses (ours:
        # MUSICGENRE_ISA; numpy, numba, OpenBLAS: their own), so that a report made with
        # them says so.
        "isa_settings": {k: os.environ[k] for k in ISA_VARS if os.environ.get(k)},
    }


def versions():
    import librosa
    import numba
    import scipy
    import soxr

    return {"librosa": librosa.__version__, "numpy": np.__version__, "scipy": scipy.__version__, "soxr": soxr.__version__, "numba": numba.__version__}


def read_table(path):
    """{relative path: feature vector}, the feature names, and the total duration in s."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise SystemExit(f"bench-compare: {path} is empty")
    header, body = rows[0], rows[1:]
    names = header[5:]
    table, duration = {}, 0.0
    for r in body:
        table[r[0]] = np.array([float(v) for v in r[5:]])
        duration += float(r[4]) if r[4] else 0.0
    return names, table, duration


def finite_or_none(x):
    return float(x) if math.isfinite(x) else None


def parity(ours_csv, librosa_csv, rename=lambda k: k):
    """Column deviations of two tables, files matched by path (after `rename`)."""
    names, ours, _ = read_table(ours_csv)
    lnames, ref, _ = read_table(librosa_csv)
    ours = {rename(k): v for k, v in ours.items()}
    ref = {rename(k): v for k, v in ref.items()}
    if names != lnames:
        raise SystemExit("bench-compare: our table and librosa's have different columns")
    keys = sorted(set(ours) & set(ref))
    if len(keys) < 2:
        raise SystemExit("bench-compare: fewer than 2 files in both tables: no parity to measure")
    a = np.array([ours[k] for k in keys])
    b = np.array([ref[k] for k in keys])
    std = b.std(axis=0)
    diff = np.abs(a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A column constant across the files has no scale: any difference there is infinite.
        dev = np.where(std > 0, diff / std, np.where(diff > 0, np.inf, 0.0))
    col = dev.max(axis=0)  # the worst file of each column
    worst_file = dev.argmax(axis=0)
    families = [n.split(".")[0] for n in names]

    def summary(idx):
        idx = np.asarray(idx)
        w = idx[np.argmax(col[idx])]
        return {
            "columns": int(len(idx)),
            "max": finite_or_none(col[idx].max()),
            "p99": finite_or_none(np.percentile(col[idx], 99)),
            "share_le_0.01": float(np.mean(col[idx] <= 0.01)),
            "share_le_0.1": float(np.mean(col[idx] <= 0.1)),
            "worst_column": names[w],
            "worst_file": keys[worst_file[w]],
        }

    out = {"files": len(keys), "only_ours": len(set(ours) - set(ref)), "only_librosa": len(set(ref) - set(ours)), "families": {}, "groups": {}}
    for fam in sorted(set(families)):
        out["families"][fam] = summary([i for i, f in enumerate(families) if f == fam])
    for group, fams in GROUPS.items():
        out["groups"][group] = summary([i for i, f in enumerate(families) if f in fams])
    return out


def wav_copies(files, root, dest, sr):
    """Float WAV copies of the files as librosa.load returns them: at `sr`, or at the
    file's own rate when `sr` is None."""
    import librosa
    import soundfile as sf

    for i, f in enumerate(files):
        y, rate = librosa.load(f, sr=sr)
        out = Path(dest) / Path(f).relative_to(root).with_suffix(".wav")
        out.parent.mkdir(parents=True, exist_ok=True)
        sf.write(out, y, rate, subtype="FLOAT")
        if (i + 1) % 50 == 0:
            log(f"  {i + 1}/{len(files)} WAV copies")


def spread(files, n):
    """n files spread evenly over the sorted list (so every genre folder is sampled)."""
    if n >= len(files):
        return list(files)
    return [files[round(i * (len(files) - 1) / max(1, n - 1))] for i in range(n)]


def per_clip(args, timed):
    ours_bin = Path(args.bin) / "examples" / "bench_files"
    log(f"per clip: ours on {len(timed)} files (x{args.repeat}, one thread)")
    _, ours_rss, out = run_child([ours_bin, "--repeat", args.repeat, *timed], ONE_THREAD)
    ours = json.loads(out)
    log(f"per clip: librosa on {len(timed)} files (x{args.repeat}, one thread)")
    _, lib_rss, out = run_child([sys.executable, HERE / "librosa_features.py", "--repeat", args.repeat, "--timing", *timed], ONE_THREAD)
    lib = json.loads(out)
    if not ours["files"] or not lib["files"]:
        raise SystemExit("bench-compare: no file could be timed")
    r = {"n_files": len(timed), "repeat": args.repeat, "clip_duration_s": float(np.median([f["duration_s"] for f in ours["files"]]))}
    for stage in STAGES:
        o = float(np.median([f[stage] for f in ours["files"]]))
        b = float(np.median([f[stage] for f in lib["files"]]))
        r[stage] = {"ours": o, "librosa": b, "librosa_over_ours": b / o if o > 0 else None}
    r["ours_features_cpu_s"] = float(np.median([f["cpu_features_s"] for f in ours["files"]]))
    r["ours_end_to_end_over_decode"] = r["end_to_end_s"]["ours"] / r["decode_s"]["ours"]
    r["ours_symphonia_decode_s"] = float(np.median([f["symphonia_decode_s"] for f in ours["files"]]))
    r["ours_end_to_end_over_symphonia_decode"] = r["end_to_end_s"]["ours"] / r["ours_symphonia_decode_s"]
    # Each timing process reports its own VmHWM at the end; the polled value is the fallback.
    r["peak_rss_mb"] = {"ours": ours.get("peak_rss_mb") or ours_rss, "librosa": lib.get("peak_rss_mb") or lib_rss}
    r["files"] = {"ours": ours["files"], "librosa": lib["files"]}
    if args.jobs > 1:
        log(f"per clip: ours on {len(timed)} files (x{args.repeat}, {args.jobs} threads for each)")
        _, _, out = run_child([ours_bin, "--repeat", args.repeat, "--threads", args.jobs, *timed])
        pooled = json.loads(out)["files"]
        r["ours_pooled"] = {"threads": args.jobs}
        for stage in ("features_s", "end_to_end_s"):
            o = float(np.median([f[stage] for f in pooled]))
            r["ours_pooled"][stage] = {"ours": o, "one_thread_over_pooled": r[stage]["ours"] / o}
    return r


def throughput(args, root, n_files, tmp):
    bindir = Path(args.bin)
    t = {}
    duration = None
    for jobs in sorted({1, args.jobs}):
        log(f"throughput: ours, whole folder, {jobs} worker(s)")
        csv_path = tmp / f"ours_{jobs}.csv"
        wall, rss, _ = run_child([bindir / "features", "--quiet", "--jobs", jobs, root, csv_path], ok_codes=(0, 1))
        _, _, duration = read_table(csv_path)
        t[f"ours, {jobs} worker{'s' if jobs > 1 else ''}"] = {"wall_s": wall, "peak_rss_mb": rss, "jobs": jobs}
    log(f"throughput: librosa, whole folder, {args.jobs} process(es)")
    wall, rss, _ = run_child([sys.executable, HERE / "librosa_features.py", "--jobs", args.jobs, root, tmp / "librosa.csv"], ONE_THREAD)
    t[f"librosa, {args.jobs} process{'es' if args.jobs > 1 else ''}"] = {"wall_s": wall, "peak_rss_mb": rss, "jobs": args.jobs}
    for v in t.values():
        v["files_per_s"] = n_files / v["wall_s"]
        v["x_real_time"] = duration / v["wall_s"]
    runs = list(t)
    ours_1, ours_n, lib_n = runs[0], runs[-2], runs[-1]
    return {
        "runs": t,
        "audio_s": duration,
        "scaling_ours_n_over_1": t[ours_1]["wall_s"] / t[ours_n]["wall_s"],
        "librosa_over_ours_at_n": t[lib_n]["wall_s"] / t[ours_n]["wall_s"],
    }


def long_file(args, files, tmp):
    """Peak RSS of both sides on one long song: the clips decoded by librosa (native rate,
    all channels) and joined into a 16-bit WAV of --long-minutes minutes."""
    import librosa
    import soundfile as sf

    log(f"long file: joining clips into a {args.long_minutes:g}-minute WAV")
    parts, total, sr = [], 0, None
    for f in files * (1 + int(args.long_minutes * 60 / 10 / max(1, len(files)))):
        y, file_sr = librosa.load(f, sr=None, mono=False)
        if sr is None:
            sr = file_sr
        if file_sr != sr:
            continue
        y = np.atleast_2d(y)
        parts.append(y.T)
        total += y.shape[1]
        if total >= args.long_minutes * 60 * sr:
            break
    audio = np.concatenate(parts)[: int(args.long_minutes * 60 * sr)]
    folder = tmp / "long"
    folder.mkdir()
    path = folder / "long.wav"
    sf.write(path, audio, sr, subtype="PCM_16")
    del parts, audio
    duration = sf.info(path).duration
    log("long file: ours, 1 worker")
    wall_o, rss_o, _ = run_child([Path(args.bin) / "features", "--quiet", "--jobs", 1, folder, tmp / "long_ours.csv"])
    # The whole song as one row on N workers: its frames and branches are shared out.
    whole = {"1": {"wall_s": wall_o, "peak_rss_mb": rss_o}}
    if args.jobs > 1:
        log(f"long file: ours, {args.jobs} workers")
        wall_n, rss_n, _ = run_child([Path(args.bin) / "features", "--quiet", "--jobs", args.jobs, folder, tmp / "long_ours_n.csv"])
        whole[str(args.jobs)] = {"wall_s": wall_n, "peak_rss_mb": rss_n}
    # One song cut into 5-s windows (as `classify` and `features --segment` do): its
    # windows are shared out to every worker.
    windowed = {}
    for jobs in sorted({1, args.jobs}):
        log(f"long file: ours, 5-s windows, {jobs} worker(s)")
        wall_w, rss_w, _ = run_child([Path(args.bin) / "features", "--quiet", "--jobs", jobs, "--segment", 5, folder, tmp / f"long_ours_w5_{jobs}.csv"])
        windowed[str(jobs)] = {"wall_s": wall_w, "peak_rss_mb": rss_w}
    log("long file: librosa, 1 process")
    wall_l, rss_l, _ = run_child([sys.executable, HERE / "librosa_features.py", "--jobs", 1, "--no-warmup", folder, tmp / "long_librosa.csv"], ONE_THREAD)
    return {
        "duration_s": duration,
        "sample_rate": sr,
        "ours": {"wall_s": wall_o, "peak_rss_mb": rss_o},
        "librosa": {"wall_s": wall_l, "peak_rss_mb": rss_l},
        "ours_whole": whole,
        "ours_5s_windows": windowed,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("audio_dir", nargs="?", default=str(ROOT.parent / "shared" / "data" / "emotify-dev"), help="folder of audio files (default: ../shared/data/emotify-dev)")
    ap.add_argument("--bin", default=str(ROOT / "target" / "release"), help="our release build folder (features, examples/bench_files)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="workers/processes for the throughput runs (default: all cores)")
    ap.add_argument("--timing-files", type=int, default=8, help="files timed one by one (default 8)")
    ap.add_argument("--repeat", type=int, default=5, help="runs per timed file; the median is kept (default 5)")
    ap.add_argument("--limit", type=int, default=0, help="use only this many files of the folder (spread over it; 0 = all)")
    ap.add_argument("--long-minutes", type=float, default=10, help="also measure peak RSS on one long file of this many minutes, made of the clips (0 = skip; default 10)")
    ap.add_argument("--no-wav-copies", dest="wav_copies", action="store_false", help="skip the parity runs on WAV copies (22050 Hz and native rate)")
    ap.add_argument("--json", default=str(ROOT / "bench-out" / "bench-compare.json"), help="where to write the JSON report")
    args = ap.parse_args()

    root = Path(args.audio_dir).resolve()
    if not root.is_dir():
        raise SystemExit(f"bench-compare: {args.audio_dir} is not a folder")
    files = lf.audio_files(root)
    if args.limit:
        files = spread(files, args.limit)
    if not files:
        raise SystemExit(f"bench-compare: no audio files in {root}")
    for exe in (Path(args.bin) / "features", Path(args.bin) / "examples" / "bench_files", Path(args.bin) / "examples" / "load"):
        if not exe.is_file():
            raise SystemExit(f"bench-compare: {exe} is missing; run `just bench-compare` (it builds it)")
    report = {"machine": machine(), "versions": versions(), "audio_dir": str(root), "n_files": len(files), "jobs": args.jobs}
    log(f"{len(files)} files in {root}; {report['machine']['cpu']}, {report['machine']['cores']} cores")

    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        tmp = Path(tmp)
        if args.limit:
            # The throughput runs take a folder: copy the chosen files into one.
            sub = tmp / "audio"
            for f in files:
                dst = sub / f.relative_to(root)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, dst)
            root, files = sub, lf.audio_files(sub)
        report["per_clip"] = per_clip(args, [str(f) for f in spread(files, args.timing_files)])
        report["throughput"] = throughput(args, root, len(files), tmp)
        report["parity"] = {"as decoded": parity(tmp / f"ours_{args.jobs}.csv", tmp / "librosa.csv")}
        if args.wav_copies:
            # Both sides read the same decoded samples: at 22050 Hz our features alone, at
            # the files' own rate our resampling and features (the decoder left out).
            for name, sr, sub in (
                ("22050-Hz WAV (same samples)", lf.SR, "wav22k"),
                ("native-rate WAV (same samples, resampling included)", None, "wavnative"),
            ):
                log(f"parity, {name}: writing float WAV copies with librosa.load")
                wavdir = tmp / sub
                wav_copies(files, root, wavdir, sr)
                log(f"parity, {name}: ours")
                run_child([Path(args.bin) / "features", "--quiet", "--jobs", args.jobs, wavdir, tmp / f"ours_{sub}.csv"], ok_codes=(0, 1))
                log(f"parity, {name}: librosa")
                run_child([sys.executable, HERE / "librosa_features.py", "--jobs", args.jobs, wavdir, tmp / f"librosa_{sub}.csv"], ONE_THREAD)
                report["parity"][name] = parity(tmp / f"ours_{sub}.csv", tmp / f"librosa_{sub}.csv")

            # The decoder's share: librosa's features on the samples our decoder gives
            # (22050 Hz, via examples/load) against librosa's features as it decodes.
            name = "librosa on our decoded samples vs librosa as decoded"
            log(f"parity, {name}: decoding with ours")
            raw = tmp / "ours_decoded_raw"
            raw.mkdir()
            run_child([Path(args.bin) / "examples" / "load", "--out", raw, *files], ok_codes=(0, 1))
            wavdir = tmp / "ours_decoded"
            import soundfile as sf

            for i, f in enumerate(files):
                samples = raw / f"{i}.f32"
                if samples.is_file():
                    out = wavdir / Path(f).relative_to(root).with_suffix(".wav")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    sf.write(out, np.fromfile(samples, dtype="<f4"), lf.SR, subtype="FLOAT")
            log(f"parity, {name}: librosa")
            run_child([sys.executable, HERE / "librosa_features.py", "--jobs", args.jobs, wavdir, tmp / "librosa_ours_decoded.csv"], ONE_THREAD)
            report["parity"][name] = parity(tmp / "librosa_ours_decoded.csv", tmp / "librosa.csv", rename=lambda k: str(Path(k).with_suffix("")))

        if args.long_minutes > 0:
            report["long_file"] = long_file(args, files, tmp)

    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    print_report(report)
    print(f"\nJSON: {os.path.relpath(args.json)}")


def ms(x):
    return f"{x * 1000:.1f} ms"


def ratio(x):
    return "n/a" if x is None else f"{x:.1f}x"


def dev(x):
    return "inf" if x is None else f"{x:.2g}" if x < 0.01 else f"{x:.3f}"


def print_workers(runs, what):
    """A table of runs by worker count ({"1": {"wall_s", "peak_rss_mb"}, ...}) and the
    speed-up of the most workers over one."""
    print("\n| workers | wall | peak RSS |")
    print("|---:|---:|---:|")
    for jobs, m in sorted(runs.items(), key=lambda kv: int(kv[0])):
        print(f"| {jobs} | {m['wall_s']:.2f} s | {m['peak_rss_mb']:.0f} MB |")
    n = max(runs, key=int)
    if n != "1":
        print(f"\n{what} on {n} workers over 1: {runs['1']['wall_s'] / runs[n]['wall_s']:.2f}x.")


def print_report(r):
    m, v = r["machine"], r["versions"]
    print(f"## musicgenre vs librosa {v['librosa']} ({m['date']}; {m['cpu']}, {m['cores']} cores; {m['platform']})")
    if m.get("isa_settings"):
        print("\nInstruction sets narrowed: " + ", ".join(f"`{k}={val}`" for k, val in m["isa_settings"].items()))
    pc = r["per_clip"]
    print(f"\n### Per clip, one thread each\n\nMedians over {pc['n_files']} files of {pc['clip_duration_s']:.1f} s, {pc['repeat']} runs each after a warm-up.\n")
    print("| stage | librosa | ours | librosa / ours | target |")
    print("|---|---:|---:|---:|---|")
    targets = {"decode_s": "", "features_s": ">= 15x", "end_to_end_s": ""}
    for k, label in STAGES.items():
        s = pc[k]
        print(f"| {label} | {ms(s['librosa'])} | {ms(s['ours'])} | {ratio(s['librosa_over_ours'])} | {targets[k]} |")
    print(f"| ours: symphonia's decoding alone | | {ms(pc['ours_symphonia_decode_s'])} | | |")
    print(f"| ours: decode + features / symphonia's decoding alone | | {pc['ours_end_to_end_over_symphonia_decode']:.2f}x | | <= 2x |")
    print(f"| ours: decode + features / our decoding alone | | {pc['ours_end_to_end_over_decode']:.2f}x | | |")
    rss = pc["peak_rss_mb"]
    print(f"| peak RSS of the timing process | {rss['librosa']:.0f} MB | {rss['ours']:.0f} MB | {rss['librosa'] / rss['ours']:.1f}x | ours < 1/2 of librosa's |")
    print(f"\nOur features alone, CPU time (all threads): {ms(pc['ours_features_cpu_s'])} median.")
    if "ours_pooled" in pc:
        p = pc["ours_pooled"]
        print(f"\nOne clip with {p['threads']} workers (`bench_files --threads {p['threads']}`: the idle workers take parts of it):\n")
        print("| stage | ours, 1 thread | ours, pooled | 1 thread / pooled |")
        print("|---|---:|---:|---:|")
        for k in ("features_s", "end_to_end_s"):
            print(f"| {STAGES[k]} | {ms(pc[k]['ours'])} | {ms(p[k]['ours'])} | {p[k]['one_thread_over_pooled']:.2f}x |")

    t = r["throughput"]
    print(f"\n### Whole folder ({r['n_files']} files, {t['audio_s'] / 60:.1f} min of audio)\n")
    print("| run | wall | files/s | x real time | peak RSS (largest process) |")
    print("|---|---:|---:|---:|---:|")
    for name, x in t["runs"].items():
        print(f"| {name} | {x['wall_s']:.1f} s | {x['files_per_s']:.1f} | {x['x_real_time']:.0f}x | {x['peak_rss_mb']:.0f} MB |")
    j = r["jobs"]
    if j > 1:
        print(f"\nOurs, {j} workers over 1: {t['scaling_ours_n_over_1']:.2f}x (target >= {0.9 * j:.1f}x: 0.9 N, 1.8x at 2 workers).")
    print(f"librosa / ours at {j} worker(s): {t['librosa_over_ours_at_n']:.1f}x.")

    if "long_file" in r:
        lf_ = r["long_file"]
        print(f"\n### One long file ({lf_['duration_s'] / 60:.1f} min, {lf_['sample_rate']} Hz 16-bit WAV), one worker\n")
        print("| | wall | peak RSS |")
        print("|---|---:|---:|")
        for side in ("librosa", "ours"):
            print(f"| {side} | {lf_[side]['wall_s']:.1f} s | {lf_[side]['peak_rss_mb']:.0f} MB |")
        print("\nTargets: ours < 250 MB for a 10-minute song, and < 1/2 of librosa's.")
        whole = lf_.get("ours_whole", {})
        if len(whole) > 1:
            print("\nOurs, the whole song as one row, whose frames and STFT and CQT branches are shared out to the workers:")
            print_workers(whole, "The whole song")
        windowed = lf_.get("ours_5s_windows", {})
        if windowed:
            print("\nThe same song cut into 5-s windows (`features --segment 5`), whose windows are shared out to the workers:")
            print_workers(windowed, "One song")

    for name, p in r["parity"].items():
        print(f"\n### Parity, {name} ({p['files']} files)\n")
        print("Column deviation = max over files of |ours - librosa| / std of librosa's column across the files.\n")
        print("| group | columns | max | 99th pct | <= 0.01 | <= 0.1 | worst column (file) |")
        print("|---|---:|---:|---:|---:|---:|---|")
        rows = list(p["families"].items()) + [(f"**{g}**", s) for g, s in p["groups"].items()]
        for fam, g in rows:
            worst = f"{g['worst_column']} ({g['worst_file']})" if g["max"] else "none: all equal"
            print(f"| {fam} | {g['columns']} | {dev(g['max'])} | {dev(g['p99'])} | {100 * g['share_le_0.01']:.0f}% | {100 * g['share_le_0.1']:.0f}% | {worst} |")
        if p["only_ours"] or p["only_librosa"]:
            print(f"\n{p['only_ours']} file(s) only in our table, {p['only_librosa']} only in librosa's.")
    print("\nTargets (feature issue): every STFT-derived column <= 0.01 on 22050-Hz input and <= 0.03 on 44.1-kHz MP3 (resampling included); 99% of CQT-derived columns <= 0.1.")


if __name__ == "__main__":
    main()
