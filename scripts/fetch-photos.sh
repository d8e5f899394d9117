#!/usr/bin/env bash
# Fetches the two photographs of people the docs and the landmark checks use, from Debian's
# python3-skimage package (scikit-image's sample data), into out/photos/ (never committed):
#   astronaut.png  Eileen Collins, NASA portrait — public domain (NASA; skimage.data.astronaut)
#   camera.png     a man with a camera on a tripod — CC0, photographer Lav Varshney (skimage.data.camera)
# Licences as stated in skimage/data/_fetchers.py of that package. Needs apt's package index.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="${1:-$here/out/photos}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download python3-skimage >/dev/null 2>&1) || {
  echo "fetch-photos: apt-get download python3-skimage failed (run apt-get update first?)" >&2; exit 1; }
dpkg -x "$tmp"/python3-skimage_*.deb "$tmp/x"
mkdir -p "$dest"
for f in astronaut camera; do
  cp "$tmp/x/usr/lib/python3/dist-packages/skimage/data/$f.png" "$dest/$f.png"
done
echo "$dest"
