#!/usr/bin/env bash
# Re-creates the vendored Leaflet files in this directory from the npm registry
# and checks them against the pinned sha256 sums below. Run from anywhere:
#   bash src/bin/cog/serve/assets/vendor.sh
# Images referenced by leaflet.css (layers*.png, marker-icon.png) are not
# shipped: `cog serve` uses no markers and no layer control.
set -euo pipefail

VERSION=1.9.4
# sha256 of dist/leaflet.js, dist/leaflet.css, LICENSE in leaflet@1.9.4.
SHA_JS=db49d009c841f5ca34a888c96511ae936fd9f5533e90d8b2c4d57596f4e5641a
SHA_CSS=a7837102824184820dfa198d1ebcd109ff6d0ff9a2672a074b9a1b4d147d04c6
SHA_LICENSE=53e8dc25862014e4324741ca18fbe3611e11d42ef69f59f86ea8c5389647d4cb

dest=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "leaflet@${VERSION}" >/dev/null
tar xzf "leaflet-${VERSION}.tgz"

# Verify before copying so a mismatch never overwrites the committed files.
check() { # check FILE EXPECTED_SHA
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  if [[ "$got" != "$2" ]]; then
    echo "sha256 mismatch for $1: got $got, want $2" >&2
    exit 1
  fi
}
check package/dist/leaflet.js "$SHA_JS"
check package/dist/leaflet.css "$SHA_CSS"
check package/LICENSE "$SHA_LICENSE"

cp package/dist/leaflet.js "$dest/leaflet.js"
cp package/dist/leaflet.css "$dest/leaflet.css"
cp package/LICENSE "$dest/LICENSE-leaflet.txt"
echo "vendored leaflet ${VERSION} into $dest"
