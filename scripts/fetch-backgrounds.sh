#!/usr/bin/env bash
# Fetches the background photographs the synthetic generator puts behind its people
# (src/synth/backgrounds.ts, docs/synth.md "Photo backgrounds") at training time, into DIR
# (default ~/.cache/nbf-gl/backgrounds; never committed):
#   apt-get download plasma-workspace-wallpapers lomiri-wallpapers-16.04 ukui-wallpapers (no install),
#   dpkg -x each into a temporary folder, then scripts/select-backgrounds.ts keeps the photographs
#   among their wallpapers (the rest is abstract or vector art), stores them as PNGs with a 512-px
#   shorter side and writes DIR/manifest.json: package, file, licence and decision of every image.
# Licences (each package's /usr/share/doc/<package>/copyright, per file in the manifest):
# plasma-workspace-wallpapers GPL-2+ (the KDE metadata of each wallpaper: LGPL-3 or CC-BY-SA-4.0),
# lomiri-wallpapers-16.04 CC-BY-4.0 / CC-BY-SA-4.0 / CC0-1.0 per photo, ukui-wallpapers CC-BY-SA-3.0.
# Needs apt's package index (apt-get update) and Node (tsx from the project's devDependencies).
#   scripts/fetch-backgrounds.sh [DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest="${1:-$HOME/.cache/nbf-gl/backgrounds}"
packages=(plasma-workspace-wallpapers lomiri-wallpapers-16.04 ukui-wallpapers)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt's _apt user downloads into it
(cd "$tmp" && apt-get download "${packages[@]}" >/dev/null 2>"$tmp/apt.log") || {
  cat "$tmp/apt.log" >&2
  echo "fetch-backgrounds: apt-get download failed (run apt-get update first?)" >&2; exit 1; }
mkdir -p "$tmp/src"
for pkg in "${packages[@]}"; do
  deb=$(ls "$tmp"/"${pkg}"_*.deb)
  dpkg -x "$deb" "$tmp/src/$pkg"
  dpkg-deb -f "$deb" Version > "$tmp/src/$pkg.version"
done
mkdir -p "$dest"
# Stale photos of an earlier run would outlive a changed rule: start from an empty set.
find "$dest" -maxdepth 1 -type f \( -name '*.png' -o -name 'manifest.json' \) -delete
cd "$here"
node --import tsx scripts/select-backgrounds.ts --source "$tmp/src" --out "$dest"
