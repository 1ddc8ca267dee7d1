#!/usr/bin/env bash
# Cuts the bundled example clips (20-s excerpts, re-encoded as Ogg Vorbis q3) from the
# openly licensed recordings in the project's development data (librosa's example files).
# Usage: assets/examples/make.sh DIR_WITH_THE_ORIGINALS   (needs ffmpeg; made with 5.1)
set -euo pipefail
src=$1
cd "$(dirname "$0")"
cut() { ffmpeg -loglevel error -y -ss "$3" -t 20 -i "$src/$1" -map_metadata -1 -c:a libvorbis -q:a 3 "$2"; }
cut "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).hq.ogg" brahms-hungarian-dance-5.ogg 10
cut "Fats_Waller_-_Aint_Misbehavin_(piano_solo).hq.ogg" fats-waller-aint-misbehavin.ogg 30
cut "Kevin_MacLeod_-_Vibe_Ace.hq.ogg" kevin-macleod-vibe-ace.ogg 10
cut "Karissa_Hobbs_-_Lets_Go_Fishin.hq.ogg" karissa-hobbs-lets-go-fishin.ogg 30
