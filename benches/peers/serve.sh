#!/usr/bin/env bash
# The tile-serving peer benchmark (serve.py), from a fresh machine: makes
# titiler's venv at target/peers/titiler-venv from the pinned
# titiler-requirements.txt, builds `cog` (release) unless COG names a built
# binary, and runs serve.py; arguments pass through (--runs 7, --cap 0, ...).
# Asserts nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="$root/target/peers/titiler-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$here/titiler-requirements.txt"
if [ -z "${COG:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml" --bin cog
  COG="$root/target/release/cog"
fi
exec python3 "$here/serve.py" --cog "$COG" --venv "$venv" "$@"
