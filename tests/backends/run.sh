#!/usr/bin/env bash
# Runs CMD (default: cargo test --test backends -- --include-ignored --nocapture)
# with nginx, moto, Azurite and a GCS emulator started on loopback, then stops
# them. See tests/backends/servers.py for what is started and exported.
#   tests/backends/run.sh [CMD...]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/backends/servers.py "$@"
