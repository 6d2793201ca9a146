#!/usr/bin/env bash
# The peer benchmarks, from a fresh machine: installs GDAL's Python bindings
# (Debian's python3-gdal) when missing, builds the Rust runner, makes the
# input files and runs every case (see run.py; arguments pass through, e.g.
# --quick, --runs 7, --cases window_lat20,opens). Asserts nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if ! /usr/bin/python3 -c 'import osgeo.gdal, numpy' 2>/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq gdal-bin python3-gdal python3-numpy >/dev/null
fi
cargo build --release --quiet --manifest-path "$here/runner/Cargo.toml" --target-dir "$root/target/peers"
exec python3 "$here/run.py" "$@"
