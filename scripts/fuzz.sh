#!/usr/bin/env bash
# `just fuzz [SECONDS]`: runs the decode_features fuzz target (crates/features/fuzz) under
# libFuzzer with AddressSanitizer and debug assertions for SECONDS (default 60), on one
# core at low priority. The corpus starts from the committed format fixtures (see
# fuzz-seeds.sh) and the inputs of past crashes (crates/features/fuzz/regressions, which
# the target must pass). New inputs go to crates/features/fuzz/corpus/decode_features,
# crashes to crates/features/fuzz/artifacts/decode_features; both are kept between runs.
#
# cargo-fuzz needs a nightly compiler for its -Z flags. With a nightly toolchain installed
# (rustup) we use it; otherwise the stable one with RUSTC_BOOTSTRAP=1, which unlocks the
# same flags. cargo-fuzz itself is installed with `cargo install` when missing.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/crates/features"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi
if rustup run nightly rustc --version >/dev/null 2>&1; then
    cargo=(cargo +nightly)
else
    echo "fuzz: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1"
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo)
fi

bash "$root/scripts/fuzz-seeds.sh" fuzz/corpus/seeds >/dev/null
mkdir -p fuzz/corpus/decode_features fuzz/artifacts/decode_features
# -max_len: larger than the biggest seed (49 kB); -timeout: one input may take 20 s
# (a slow input is a finding); -rss_limit_mb: a run of 5 s of audio needs ~200 MB.
exec nice -n 10 "${cargo[@]}" fuzz run --debug-assertions decode_features \
    fuzz/corpus/decode_features fuzz/corpus/seeds fuzz/regressions -- \
    -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1
