#!/usr/bin/env python3
"""Set up the CPU part of libtorch 2.13.0 (the version tch 0.26 needs) without internet.

The only network these machines have is the package registries, so libtorch comes from
PyPI's torch wheel: we download it and the two CUDA runtime wheels that libtorch_cpu.so
links against (it never calls them on CPU), check each against a pinned sha256, extract
the headers and the few CPU libraries into a cache folder outside the repository, and
point the git-ignored link `.libtorch` at it. `.cargo/config.toml` sets LIBTORCH to that
link, so cargo needs no environment variables.

Idempotent: when the cache is complete it only (re)creates the link, in milliseconds.
Uses the Python standard library only (no pip needed).

Environment:
  MUSICGENRE_CACHE  cache root (default: $XDG_CACHE_HOME/musicgenre or ~/.cache/musicgenre)
  PYPI_SIMPLE_URL   PyPI simple index (default: https://pypi.org/simple), for mirrors
"""

import hashlib
import json
import os
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

TORCH_VERSION = "2.13.0"

# (project, wheel file name, sha256). The torch wheel's Python tag does not matter: we only
# take its C++ libraries, which are the same in every cp3xx wheel.
WHEELS = [
    (
        "torch",
        "torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        "60fcdcb2f3876e21146cb4524ef06397d727ca9ad5f020818547e25075fe3cb7",
    ),
    (
        "nvidia-cuda-runtime",
        "nvidia_cuda_runtime-13.0.96-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "7f82250d7782aa23b6cfe765ecc7db554bd3c2870c43f3d1821f1d18aebf0548",
    ),
    (
        "nvidia-cuda-cupti",
        "nvidia_cuda_cupti-13.0.85-py3-none-manylinux_2_25_x86_64.whl",
        "4eb01c08e859bf924d222250d2e8f8b8ff6d3db4721288cf35d14252a4d933c8",
    ),
]

# What we keep from the wheels: prefix in the wheel -> folder in the cache.
INCLUDE_PREFIX = "torch/include/"
LIBS = {
    "torch/lib/libtorch_cpu.so",
    "torch/lib/libtorch.so",
    "torch/lib/libc10.so",
    "torch/lib/libgomp.so.1",
    "nvidia/cu13/lib/libcudart.so.13",
    "nvidia/cu13/lib/libcupti.so.13",
}
STAMP = json.dumps({"torch": TORCH_VERSION, "wheels": [w[2] for w in WHEELS]})


def say(msg):
    print(f"setup-libtorch: {msg}", file=sys.stderr, flush=True)


def cache_root():
    if os.environ.get("MUSICGENRE_CACHE"):
        return Path(os.environ["MUSICGENRE_CACHE"])
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "musicgenre"


def wheel_url(index, project, filename):
    """Finds the download address of one file in PyPI's simple JSON index (PEP 691)."""
    req = urllib.request.Request(
        f"{index.rstrip('/')}/{project}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        files = json.load(resp)["files"]
    for f in files:
        if f["filename"] == filename:
            return f["url"]
    raise SystemExit(f"setup-libtorch: {filename} is not in {index}/{project}/")


def download(url, dest, sha256):
    h = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=600) as resp, open(dest, "wb") as out:
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            out.write(chunk)
    if h.hexdigest() != sha256:
        raise SystemExit(
            f"setup-libtorch: {dest.name}: sha256 {h.hexdigest()} but expected {sha256}"
        )


def extract(wheel, into):
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            name = info.filename
            if name.startswith(INCLUDE_PREFIX) and not info.is_dir():
                target = into / "include" / name[len(INCLUDE_PREFIX):]
            elif name in LIBS:
                target = into / "lib" / Path(name).name
            else:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def link(repo, target):
    link_path = repo / ".libtorch"
    if link_path.is_symlink() and Path(os.readlink(link_path)) == target:
        return
    if link_path.is_symlink() or link_path.exists():
        link_path.unlink()
    link_path.symlink_to(target)


def main():
    repo = Path(__file__).resolve().parent.parent
    root = cache_root()
    dest = root / f"libtorch-{TORCH_VERSION}-cpu"
    stamp = dest / ".complete"
    if stamp.is_file() and stamp.read_text() == STAMP:
        link(repo, dest)
        return
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        raise SystemExit(
            "setup-libtorch: only Linux x86_64 is automated; set LIBTORCH to a libtorch "
            f"{TORCH_VERSION} folder yourself on this platform"
        )
    index = os.environ.get("PYPI_SIMPLE_URL", "https://pypi.org/simple")
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=".setup-") as tmp:
        tmp = Path(tmp)
        staging = tmp / "libtorch"
        for project, filename, sha in WHEELS:
            say(f"downloading {filename}")
            wheel = tmp / filename
            download(wheel_url(index, project, filename), wheel, sha)
            extract(wheel, staging)
            wheel.unlink()
        missing = [n for n in LIBS if not (staging / "lib" / Path(n).name).is_file()]
        if missing:
            raise SystemExit(f"setup-libtorch: the wheels lack {', '.join(missing)}")
        (staging / "build-version").write_text(TORCH_VERSION + "\n")
        (staging / ".complete").write_text(STAMP)
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    link(repo, dest)
    say(f"libtorch {TORCH_VERSION} (CPU) ready in {dest}")


if __name__ == "__main__":
    main()
