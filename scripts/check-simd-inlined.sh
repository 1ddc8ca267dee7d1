#!/usr/bin/env bash
# Fails when a function of the feature crate calls a SIMD intrinsic out of line.
#
# An intrinsic (`_mm256_mul_pd`, ...) is inlined only into code compiled with its target
# feature. The lane kernels are generic functions, always inlined into a wrapper compiled
# for AVX-512 or AVX2 (`simd::dispatch!`); a closure inside them is a function of its own,
# without those features, so each intrinsic in it becomes a call that passes its vectors
# through memory. Nothing else shows it: the values stay the same bits, only slower (a
# closure in the spectral statistics once made the AVX2 path 1.7x slower end to end).
#
# Usage: scripts/check-simd-inlined.sh BINARY (a build that links the feature crate).
set -euo pipefail
bin="${1:?usage: $0 BINARY}"
if ! command -v objdump >/dev/null 2>&1; then
    echo "check-simd-inlined: objdump not found (binutils); skipped" >&2
    exit 0
fi
calls="$(objdump -d -C --no-show-raw-insn "$bin" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = $0; sub(/^[0-9a-f]+ </, "", fn); sub(/>:$/, "", fn) }
    /call.*<core::core_arch::/ && fn ~ /musicgenre_features::/ {
        callee = $0; sub(/.*<core::core_arch::/, "", callee); sub(/>.*/, "", callee)
        print fn " calls " callee
    }' | sort -u)"
if [ -n "$calls" ]; then
    echo "check-simd-inlined: SIMD intrinsics called out of line in $bin (a closure in a lane kernel? make it an #[inline(always)] fn):" >&2
    echo "$calls" >&2
    exit 1
fi
echo "check-simd-inlined: every SIMD intrinsic of the feature crate is inlined in $bin"
