#!/usr/bin/env bash
# Seeds the corpus of the decode_features fuzz target (crates/features/fuzz) with the
# committed format fixtures: each file behind the byte that makes the target decode it
# under a name with its own extension (see NAMES in fuzz_targets/decode_features.rs),
# plus tiny WAVs of each sample format written here byte by byte.
#
# Usage: fuzz-seeds.sh OUT_DIR
set -euo pipefail
out=${1:?usage: fuzz-seeds.sh OUT_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
formats="$here/crates/features/tests/fixtures/formats"
mkdir -p "$out"

seed() { # seed NAME_INDEX FILE
    { printf "\\x$(printf %02x "$1")"; cat "$2"; } >"$out/$(basename "$2").seed"
}
for f in "$formats"/*.mp3; do seed 1 "$f"; done
seed 3 "$formats/tone.flac"
seed 4 "$formats/tone.ogg"
seed 5 "$formats/tone_aac.m4a"
seed 5 "$formats/tone_alac.m4a"
seed 6 "$formats/tone.aiff"
seed 7 "$formats/tone_opus.ogg"
seed 0 "$formats/video_only.mp4"

# le16/le32: little-endian bytes as printf escapes.
le16() { printf '\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)); }
le32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
# wav NAME FORMAT_TAG CHANNELS RATE BITS N_FRAMES: a RIFF/WAVE file of a square wave.
wav() {
    local name=$1 tag=$2 ch=$3 sr=$4 bits=$5 n=$6
    local block=$((ch * bits / 8)) data="" i c
    local hi lo
    case "$bits/$tag" in
        8/1) hi='\xe0' lo='\x20' ;;
        16/1) hi='\x00\x60' lo='\x00\xa0' ;;
        24/1) hi='\x00\x00\x60' lo='\x00\x00\xa0' ;;
        32/3) hi='\x00\x00\x00\x3f' lo='\x00\x00\x00\xbf' ;;
    esac
    for ((i = 0; i < n; i++)); do
        for ((c = 0; c < ch; c++)); do
            if (((i / 20) % 2)); then data+=$hi; else data+=$lo; fi
        done
    done
    local size=$((n * block))
    {
        printf 'RIFF'; printf "$(le32 $((36 + size)))"; printf 'WAVEfmt '
        printf "$(le32 16)$(le16 "$tag")$(le16 "$ch")$(le32 "$sr")$(le32 $((sr * block)))"
        printf "$(le16 $block)$(le16 "$bits")"
        printf 'data'; printf "$(le32 $size)"; printf "$data"
    } >"$out/$name.seed.tmp"
    { printf '\x02'; cat "$out/$name.seed.tmp"; } >"$out/$name.seed"
    rm "$out/$name.seed.tmp"
}
wav u8_mono_8k 1 1 8000 8 800
wav s16_stereo_22k 1 2 22050 16 600
wav s24_6ch_48k 1 6 48000 24 300
wav f32_mono_192k 3 1 192000 32 2000
ls "$out" | wc -l | xargs echo "fuzz-seeds: seeds in $out:"
