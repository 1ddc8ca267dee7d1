#!/usr/bin/env bash
# Creates (once) .venv-librosa with the pinned reference implementation and prints its
# python's path. Used by `just fixtures` and `just bench-compare`.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-librosa
req=scripts/requirements-librosa.txt
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "librosa-venv: installing the pinned librosa 0.11.0 into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2
    echo "$want" >"$stamp"
fi
echo "$PWD/$venv/bin/python"
