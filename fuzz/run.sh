#!/usr/bin/env bash
# Runs the fuzz targets (all four, or those named) for FUZZ_SECONDS each
# (default 900, the issue's 15 minutes), one after the other, with the
# memory and time limits of issue 10. Installs cargo-fuzz when missing.
# Works on the stable toolchain (`-s none`: no sanitizer; Rust's own checks
# catch what a panic or an abort shows). Corpora grow in target/fuzz-corpus/,
# seeded with the fixtures; findings land in fuzz/artifacts/<target>/ and,
# once fixed, are kept under tests/fuzz_regressions/<kind>/<target>-<name>.
#
#   fuzz/run.sh                  # all targets, 15 minutes each
#   FUZZ_SECONDS=60 fuzz/run.sh codec header
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
secs=${FUZZ_SECONDS:-900}
targets=${*:-open read codec header}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
seeds="$root/target/fuzz-seeds"
mkdir -p "$seeds/files"
cp "$root"/fixtures/*.tif "$root"/fixtures/real/*.tif "$seeds/files/"
if [ ! -d "$seeds/codec" ] && /usr/bin/python3 -c 'import osgeo' 2>/dev/null; then
  /usr/bin/python3 "$here/seeds.py"
fi
mkdir -p "$seeds/codec"
cd "$here"
cargo fuzz build -s none -O
for t in $targets; do
  corpus="$root/target/fuzz-corpus/$t"
  mkdir -p "$corpus"
  seed="$seeds/files"
  [ "$t" = codec ] && seed="$seeds/codec"
  echo "== $t for $secs s"
  cargo fuzz run -s none -O "$t" "$corpus" "$seed" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
    -print_final_stats=1 2>&1 | tee "$root/target/fuzz-$t.log" | grep -E "^(#[0-9]+.*(DONE|pulse)|stat::|==|SUMMARY|Test unit)" || true
done
